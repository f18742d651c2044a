"""Reading what the function wrote: results in the results bucket, failures in the DLQ."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bucket_ocr_local import dead_letters
from bucket_ocr_local.spec import StackSpec

DLQ_CHECK_EVERY = 3.0  # seconds; reading the DLQ receives messages, so not on every poll


@dataclass
class DocumentOutcome:
    bucket: str
    key: str
    result_key: str
    status: str = "pending"  # "succeeded" | "failed" | "dead-lettered" | "pending"
    pages: int = 0
    lines: int = 0
    seconds: float | None = None
    error: str | None = None
    document: dict[str, Any] | None = None

    @property
    def finished(self) -> bool:
        return self.status != "pending"


def read_result(spec: StackSpec, result_key: str, s3=None) -> dict[str, Any] | None:
    s3 = s3 or spec.client("s3")
    try:
        body = s3.get_object(Bucket=spec.results_bucket, Key=result_key)["Body"].read()
    except s3.exceptions.NoSuchKey:
        return None
    return json.loads(body)


def summarise(outcome: DocumentOutcome, document: dict[str, Any]) -> None:
    pages = document.get("pages") or []
    outcome.document = document
    outcome.status = document.get("status", "unknown")
    outcome.pages = len(pages)
    outcome.lines = sum(len(page.get("lines") or []) for page in pages)
    outcome.seconds = (document.get("timings") or {}).get("total_seconds")
    error = document.get("error")
    outcome.error = f"{error.get('type')}: {error.get('message')}" if error else None


def wait_for_outcomes(
    spec: StackSpec,
    objects: Iterable[tuple[str, str]],
    *,
    timeout: float,
    on_progress: Callable[[int, int], None] | None = None,
    etags: dict[tuple[str, str], str] | None = None,
) -> list[DocumentOutcome]:
    """Until every (bucket, key) has a result JSON or a dead-letter record, or time runs out.

    With ``etags`` a result counts only when it was made from that upload, so a result
    left over from an earlier upload of the same key is not mistaken for the new one.
    """
    s3 = spec.client("s3")
    outcomes = [DocumentOutcome(bucket, key, spec.result_key(key, bucket)) for bucket, key in objects]
    deadline = time.monotonic() + timeout
    next_dlq_check = time.monotonic() + DLQ_CHECK_EVERY

    def read_results(pending: Iterable[DocumentOutcome]) -> None:
        for outcome in pending:
            document = read_result(spec, outcome.result_key, s3)
            wanted = (etags or {}).get((outcome.bucket, outcome.key))
            if document and (not wanted or (document.get("source") or {}).get("etag") == wanted):
                summarise(outcome, document)

    while True:
        read_results(o for o in outcomes if not o.finished)
        if time.monotonic() >= next_dlq_check:
            _mark_dead_lettered(spec, [o for o in outcomes if not o.finished])
            next_dlq_check = time.monotonic() + DLQ_CHECK_EVERY
        if on_progress:
            on_progress(sum(o.finished for o in outcomes), len(outcomes))
        if all(o.finished for o in outcomes) or time.monotonic() >= deadline:
            break
        time.sleep(0.3)
    # The function sends its dead letter before writing the failed result; a letter seen
    # first still has a result to show, which says more than the letter.
    time.sleep(0.5)
    read_results(o for o in outcomes if o.document is None and o.finished)
    return outcomes


def _mark_dead_lettered(spec: StackSpec, pending: list[DocumentOutcome]) -> None:
    if not pending:
        return
    by_object = {(o.bucket, o.key): o for o in pending}
    for letter in dead_letters.peek(spec):
        for obj in letter.objects:
            outcome = by_object.get((obj["bucket"], obj["key"]))
            if outcome is not None:
                outcome.status = "dead-lettered"
                outcome.error = f"{letter.error_type or 'retries exhausted'}: {letter.error_message or ''}".strip(": ")


def list_results(spec: StackSpec) -> list[dict[str, Any]]:
    s3 = spec.client("s3")
    found = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=spec.results_bucket, Prefix=spec.results_prefix):
        for item in page.get("Contents", []):
            if item["Key"].endswith(".json"):
                found.append({"key": item["Key"], "size": item["Size"], "modified": item["LastModified"].isoformat()})
    return found


def save_copies(spec: StackSpec, outcomes: list[DocumentOutcome], folder: Path) -> list[Path]:
    """Local copies of the result JSON, which outlive an in-memory store."""
    saved = []
    for outcome in outcomes:
        if outcome.document is None:
            continue
        path = folder / outcome.result_key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(outcome.document, indent=1, ensure_ascii=False))
        saved.append(path)
    return saved
