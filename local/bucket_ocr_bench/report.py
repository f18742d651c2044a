"""The run written three ways: results.json, results.md, and a plot."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bucket_ocr_bench import outputs_cost
from bucket_ocr_bench.corpus import KIND_TITLES


def write_json(path: Path, report: dict[str, Any]) -> None:
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")


def _fmt(value: Any, pattern: str = "{:.2f}") -> str:
    return "n/a" if value is None else pattern.format(value)


def markdown(report: dict[str, Any]) -> str:
    rows = [
        "| contestant | pages | median s/page | median OCR s | median CPU s | mean CER | mean CER w/o spaces | max CER | $ per 1,000 pages |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for label, stats in report["summary"].items():
        cost = report["cost"].get(label, {}).get("usd_per_1000_pages")
        rows.append(
            f"| {label} | {stats['pages']} | {_fmt(stats['median_seconds_per_page'])} | {_fmt(stats['median_ocr_seconds'])} "
            f"| {_fmt(stats['median_cpu_seconds'])} | {_fmt(stats['mean_cer'], '{:.2%}')} "
            f"| {_fmt(stats['mean_cer_without_spaces'], '{:.2%}')} | {_fmt(stats['max_cer'], '{:.2%}')} | {_fmt(cost, '${:.3f}')} |"
        )
    once = report["once_per_run"]
    run = report["run"]
    others = f" + {run['other_kind_pages']} pages of other kinds" if run.get("other_kind_pages") else ""
    lines = [f"## bucket-ocr benchmark ({run['pages']} upright A4 pages{others}, seed {run['seed']})", ""]
    if others:
        lines += ["Upright A4 pages only in this table and the targets, comparable with runs before other kinds.", ""]
    lines += [*rows, ""]
    if others:
        lines += _kind_tables(report)
    lines += ["| once per run | figure |", "| --- | ---: |"]
    lines += [f"| {name} | {value} |" for name, value in _once_rows(once, report)]
    lines += ["", "| target | limit | measured | met |", "| --- | ---: | ---: | :---: |"]
    for name, verdict in report["targets"].items():
        met = "n/a" if verdict["met"] is None else ("yes" if verdict["met"] else "**no**")
        lines.append(f"| {name} | {verdict['target']} | {_fmt(verdict['measured'], '{:.3f}')} | {met} |")
    lines += ["", "Contestants:", ""]
    lines += [f"- **{name}**: {info.get('means', '')}" for name, info in report["contestants"].items()]
    lines += ["", f"Prices: {report['prices']}", f"Machine: {report['machine']}", ""]
    return "\n".join(lines)


def _kind_tables(report: dict[str, Any]) -> list[str]:
    lines = [
        "### Per page kind",
        "",
        f"Who reads which pages: {report['kind_contestants']}.",
        "",
        "| contestant | page kind | pages | mean CER | max CER | median s/page |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for label, kinds in report["by_kind"].items():
        for kind, stats in kinds.items():
            lines.append(
                f"| {label} | {KIND_TITLES.get(kind, kind)} | {stats['pages']} | {_fmt(stats['mean_cer'], '{:.2%}')} "
                f"| {_fmt(stats['max_cer'], '{:.2%}')} | {_fmt(stats['median_seconds_per_page'])} |"
            )
    lines += [
        "",
        "| page kind (bucket-ocr, bare engine) | wrong rotations | median orientation s |",
        "| --- | ---: | ---: |",
    ]
    for kind, stats in report["orientation"].items():
        wrong = (
            f"{stats['wrong']} of {stats['known']}" if stats["known"] else "n/a (no orientation step in this engine)"
        )
        lines.append(
            f"| {KIND_TITLES.get(kind, kind)} | {wrong} | {_fmt(stats['median_orientation_seconds'], '{:.3f}')} |"
        )
    return [*lines, ""]


def _once_rows(once: dict[str, Any], report: dict[str, Any]) -> list[tuple[str, str]]:
    rows = []
    if once.get("cold_start"):
        rows.append(
            (
                "cold start (import + load, fresh process), median s",
                _fmt(once["cold_start"]["median_cold_start_seconds"]),
            )
        )
    if once.get("pdf_memory"):
        memory = once["pdf_memory"]
        rows.append((f"peak RSS, {memory['pages']}-page PDF, MB", _fmt(memory["peak_rss_mb"], "{:.0f}")))
    if once.get("soak"):
        soak = once["soak"]
        rows.append(
            (
                f"highest RSS over the first / last pass of the corpus, {soak['pages']} pages, MB",
                f"{_fmt(soak['rss_mb_after_warmup'], '{:.0f}')} / {_fmt(soak['rss_mb_end'], '{:.0f}')}",
            )
        )
        rows.append(("RSS growth over the soak, %", _fmt(soak["growth_percent"])))
    for key in ("1_workers", "2_workers"):
        figure = (once.get("throughput") or {}).get(key)
        if figure:
            rows.append(
                (
                    f"pages/minute, {figure['workers']} worker(s) x {figure['threads_per_worker']} threads",
                    _fmt(figure["pages_per_minute"], "{:.1f}"),
                )
            )
    rows += outputs_cost.report_rows(once.get("outputs"))
    overhead = report.get("function_overhead")
    if overhead:
        rows.append(
            (
                "function path / decode + OCR in the same invocation",
                f"{overhead['ratio']:.3f} ({overhead['overhead_percent']:+.1f}%)",
            )
        )
        if overhead.get("ocr_only_ratio"):
            rows.append(("function path / OCR alone in the same invocation", f"{overhead['ocr_only_ratio']:.3f}"))
        if overhead.get("paired_ratio"):
            rows.append(("function path / separate bare engine run (noisier)", f"{overhead['paired_ratio']:.3f}"))
    return rows


def plot(path: Path, report: dict[str, Any]) -> bool:
    """Seconds per page and CER per contestant; False when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    labels = list(report["summary"])
    seconds = [report["summary"][label]["median_seconds_per_page"] for label in labels]
    cers = [100 * report["summary"][label]["mean_cer"] for label in labels]
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    left.barh(labels, seconds, color="#4c72b0")
    left.axvline(1.0, color="#c44e52", linestyle="--", label="target 1.0 s")
    left.set_xlabel("median seconds per page (2 cores)")
    left.legend(loc="lower right")
    right.barh(labels, cers, color="#55a868")
    right.axvline(1.0, color="#c44e52", linestyle="--", label="target 1%")
    right.set_xlabel("mean character error rate, %")
    right.legend(loc="lower right")
    right.set_yticklabels([])
    figure.suptitle(f"bucket-ocr benchmark: {report['run']['pages']} A4 pages, seed {report['run']['seed']}")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return True
