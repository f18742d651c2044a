"""The soak's report: soak.json with everything, soak.md with the figures and targets per store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def write_json(path: Path, report: dict[str, Any]) -> None:
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")


def _fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def _met(verdict: bool | None) -> str:
    return "n/a" if verdict is None else ("yes" if verdict else "**no**")


def markdown(report: dict[str, Any]) -> str:
    lines = [f"## bucket-ocr soak ({report['run']['command']})", ""]
    for store in report["stores"]:
        lines += store_section(store)
    lines += [f"Machine: {report['run']['machine']}", ""]
    return "\n".join(lines)


def store_section(store: dict[str, Any]) -> list[str]:
    measured, settings = store["measured"], store["settings"]
    latency, calm = measured["latency_seconds"], measured["latency_seconds_outside_faults"]
    counts = store["faults"]["counts"]
    lines = [
        f"### {store['store']}: {measured['uploads']} uploads, {settings['workers']} workers, "
        f"one object every {settings['seconds_between_objects']} s ({settings['utilisation']:.0%} of capacity), seed {settings['seed']}",
        "",
        "| figure | value |",
        "| --- | ---: |",
        f"| uploads / objects | {measured['uploads']} / {measured['objects']} |",
        f"| objects by kind | {', '.join(f'{k} {v}' for k, v in sorted(measured['objects_by_kind'].items()))} |",
        f"| results succeeded / failed | {measured['results_succeeded']} / {measured['results_failed']} |",
        f"| dead letters (function / queue redrive) | {measured['dead_letters']} "
        f"({measured['dead_letters_by_kind'].get('function', 0)} / {measured['dead_letters_by_kind'].get('redrive', 0)}) |",
        f"| lost | {measured['lost']} |",
        f"| stale results | {measured['stale']} |",
        f"| objects not in exactly one terminal state | {measured['not_exactly_one_terminal_state']} |",
        f"| engine runs / duplicated OCR | {_fmt(measured['engine_runs'])} / {_fmt(measured['duplicated_ocr'])} |",
        f"| latency upload → result, p50 / p95 / max, s ({latency['count']} results) | "
        f"{_fmt(latency['p50'])} / {_fmt(latency['p95'])} / {_fmt(latency['max'])} |",
        f"| the same, only objects whose upload → result overlaps no fault ({calm['count']} results) | "
        f"{_fmt(calm['p50'])} / {_fmt(calm['p95'])} / {_fmt(calm['max'])} |",
        f"| single page on the idle stack, upload → result, s | {_fmt(measured['single_page_seconds'])} |",
        f"| capacity: results per second from a burst of uploads | {_fmt(measured['burst_pages_per_second'])} |",
        f"| faults injected | {', '.join(f'{kind} {n}' for kind, n in counts.items())} |",
        f"| upload retries (store down) | {store['upload_retries']} |",
        f"| seconds: uploads / drain ({store['seconds']['drain_ended_by']}) / total | "
        f"{store['seconds']['upload_phase']} / {store['seconds']['drain']} / {store['seconds']['total']} |",
        "",
        "| target | limit | measured | met |",
        "| --- | --- | ---: | :---: |",
    ]
    for name, verdict in store["targets"].items():
        lines.append(f"| {name} | {verdict['target']} | {_fmt(verdict['measured'])} | {_met(verdict['met'])} |")
    if store["faults"]["not_applicable"]:
        lines += [
            "",
            f"Not injected on this store: {', '.join(store['faults']['not_applicable'])} "
            "(moto keeps everything in memory; stopping it ends the stack).",
        ]
    if store["problems"]:
        lines += ["", "Objects with problems:", ""]
        lines += [f"- `{key}`: {'; '.join(problems)}" for key, problems in sorted(store["problems"].items())]
    return [*lines, ""]
