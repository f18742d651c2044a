"""The soak's arithmetic: from what was uploaded and what the stack left behind, the figures.

Pure functions over plain records, so every count here is unit-tested
(tests/unit/test_soak_measure.py) apart from the servers that produce the records.

Definitions (issue #13):
- an object is in exactly one terminal state when it has a succeeded result and no dead
  letter, or a failed result and exactly one dead letter;
- lost: neither a result nor a dead letter after the drain;
- stale: a result whose source etag is not the etag of the object's last upload;
- duplicated OCR: engine runs beyond one per object version (bucket, key, etag, version id);
- latency: from the store's acknowledgement of the upload whose bytes the result was made
  from (the first such upload, for a re-sent duplicate) to the result's ``processed_at``,
  over succeeded results that describe the latest version.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

SUCCEEDED, FAILED = "succeeded", "failed"
P95_LIMIT_IN_SINGLE_PAGES = 3.0


@dataclass(frozen=True)
class Uploaded:
    key: str
    etag: str
    uploaded_at: float


@dataclass(frozen=True)
class ResultSeen:
    key: str
    status: str
    source_etag: str | None
    processed_at: float | None
    function_seconds: float | None = None  # the function's own time on it (timings.total_seconds)


@dataclass(frozen=True)
class EngineRun:
    key: str
    source_etag: str | None
    source_version_id: str | None


@dataclass
class ObjectVerdict:
    key: str
    kind: str
    latest_etag: str
    result_status: str | None
    result_etag: str | None
    dead_letters: int
    latency: float | None = None
    answered_upload_at: float | None = None  # the upload the latency is counted from
    problems: list[str] = field(default_factory=list)

    @property
    def lost(self) -> bool:
        return self.result_status is None and self.dead_letters == 0

    @property
    def stale(self) -> bool:
        return self.result_status is not None and self.result_etag != self.latest_etag

    @property
    def one_terminal_state(self) -> bool:
        return (self.result_status == SUCCEEDED and self.dead_letters == 0) or (
            self.result_status == FAILED and self.dead_letters == 1
        )


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear interpolation between the two nearest ranks (numpy's default); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def spread(values: Sequence[float]) -> dict[str, Any]:
    return {
        "count": len(values),
        "p50": percentile(values, 0.50),
        "p95": percentile(values, 0.95),
        "max": max(values) if values else None,
    }


def duplicated_ocr(runs: Iterable[EngineRun]) -> int:
    """Engine runs beyond the first for each object version."""
    per_version = Counter((run.key, run.source_etag, run.source_version_id) for run in runs)
    return sum(count - 1 for count in per_version.values())


def verdicts(
    kinds: dict[str, str],
    uploads: Iterable[Uploaded],
    results: dict[str, ResultSeen],
    dead_letters: dict[str, int],
) -> list[ObjectVerdict]:
    """One verdict per planned object (``kinds`` maps key to kind), in key order."""
    by_key: dict[str, list[Uploaded]] = {}
    for upload in sorted(uploads, key=lambda u: u.uploaded_at):
        by_key.setdefault(upload.key, []).append(upload)
    found = []
    for key in sorted(kinds):
        history = by_key.get(key, [])
        if not history:
            continue  # never uploaded (the run stopped early): nothing to judge
        result = results.get(key)
        verdict = ObjectVerdict(
            key=key,
            kind=kinds[key],
            latest_etag=history[-1].etag,
            result_status=result.status if result else None,
            result_etag=result.source_etag if result else None,
            dead_letters=dead_letters.get(key, 0),
        )
        answered = _answered_upload(history, result)
        if answered is not None:
            verdict.answered_upload_at = answered.uploaded_at
            verdict.latency = result.processed_at - answered.uploaded_at
        verdict.problems = _problems(verdict)
        found.append(verdict)
    return found


def _answered_upload(history: list[Uploaded], result: ResultSeen | None) -> Uploaded | None:
    """The upload a succeeded, current result answers: the first one with its bytes."""
    if result is None or result.status != SUCCEEDED or result.processed_at is None:
        return None
    if result.source_etag != history[-1].etag:
        return None  # a stale result answers an upload that is no longer the object
    return next(u for u in history if u.etag == result.source_etag)


def undisturbed(objects: Iterable[ObjectVerdict], fault_windows: Iterable[tuple[float, float]]) -> list[float]:
    """Latencies of objects whose upload-to-result span overlaps no fault window (wall clock)."""
    windows = list(fault_windows)
    return [
        o.latency
        for o in objects
        if o.latency is not None
        and not any(start <= o.answered_upload_at + o.latency and o.answered_upload_at <= end for start, end in windows)
    ]


def _problems(verdict: ObjectVerdict) -> list[str]:
    problems = []
    if verdict.lost:
        problems.append("lost: no result and no dead letter")
    elif not verdict.one_terminal_state:
        problems.append(f"{verdict.result_status or 'no'} result with {verdict.dead_letters} dead letter(s)")
    if verdict.stale:
        problems.append(f"stale: result made from etag {verdict.result_etag}, latest upload is {verdict.latest_etag}")
    if verdict.kind == "corrupt" and verdict.result_status == SUCCEEDED:
        problems.append("corrupt upload succeeded")
    if verdict.kind != "corrupt" and verdict.result_status == FAILED:
        problems.append("valid upload failed")
    return problems


def figures(
    objects: list[ObjectVerdict],
    *,
    uploads: int,
    dead_letters_total: int,
    engine_runs: list[EngineRun] | None,
    kills: int,
    single_page_seconds: float | None,
    fault_windows: Iterable[tuple[float, float]] = (),
) -> dict[str, Any]:
    """The report's figures and its targets, each with the measured value beside the limit.

    ``engine_runs`` is None when the workers' logs hold no engine-run lines at all, so
    duplicated OCR cannot be counted (rather than counted as zero).
    """
    latencies = [o.latency for o in objects if o.latency is not None]
    calm = undisturbed(objects, fault_windows)
    corrupt = [o for o in objects if o.kind == "corrupt"]
    duplicates = duplicated_ocr(engine_runs) if engine_runs is not None else None
    measured = {
        "uploads": uploads,
        "objects": len(objects),
        "objects_by_kind": dict(Counter(o.kind for o in objects)),
        "results_succeeded": sum(o.result_status == SUCCEEDED for o in objects),
        "results_failed": sum(o.result_status == FAILED for o in objects),
        "dead_letters": dead_letters_total,
        "lost": sum(o.lost for o in objects),
        "stale": sum(o.stale for o in objects),
        "not_exactly_one_terminal_state": sum(not o.one_terminal_state for o in objects),
        "corrupt_with_exactly_one_dead_letter": sum(o.dead_letters == 1 for o in corrupt),
        "engine_runs": len(engine_runs) if engine_runs is not None else None,
        "duplicated_ocr": duplicates,
        "latency_seconds": spread(latencies),
        # Beside the target, not instead of it: what the same load costs when no fault is on.
        "latency_seconds_outside_faults": spread(calm),
        "single_page_seconds": single_page_seconds,
    }
    p95 = measured["latency_seconds"]["p95"]
    p95_limit = P95_LIMIT_IN_SINGLE_PAGES * single_page_seconds if single_page_seconds else None
    targets = {
        "lost": _target("0", measured["lost"], measured["lost"] == 0),
        "stale results": _target("0", measured["stale"], measured["stale"] == 0),
        "corrupt uploads with exactly one dead letter": _target(
            f"all {len(corrupt)}",
            measured["corrupt_with_exactly_one_dead_letter"],
            measured["corrupt_with_exactly_one_dead_letter"] == len(corrupt),
        ),
        "duplicated OCR": _target(
            f"<= {kills} (kills)", duplicates, None if duplicates is None else duplicates <= kills
        ),
        "p95 latency, s": _target(
            f"<= {p95_limit:.2f} (3 x {single_page_seconds:.2f} s single page)" if p95_limit else "3 x single page",
            p95,
            None if p95 is None or p95_limit is None else p95 <= p95_limit,
        ),
    }
    return {"measured": measured, "targets": targets, "problems": {o.key: o.problems for o in objects if o.problems}}


def _target(limit: str, value: Any, met: bool | None) -> dict[str, Any]:
    return {"target": limit, "measured": value, "met": met}
