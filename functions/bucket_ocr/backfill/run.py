"""The backfill loop: plan, send what is to do, count, report progress."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TextIO

from bucket_ocr.backfill.plan import ALREADY_DONE, ENQUEUE, ListedObject
from bucket_ocr.backfill.targets import SendFailure, Target


@dataclass
class Summary:
    listed: int = 0
    already_done: int = 0
    skipped: int = 0  # own outputs and folder markers: never documents
    to_enqueue: int = 0
    enqueued: int = 0
    failures: list[SendFailure] = field(default_factory=list)
    reasons: Counter = field(default_factory=Counter)
    dry_run: bool = False

    @property
    def failed(self) -> int:
        return len(self.failures)

    def lines(self) -> list[str]:
        enqueued = f"would enqueue  {self.to_enqueue}" if self.dry_run else f"enqueued       {self.enqueued}"
        lines = [
            f"listed         {self.listed}",
            f"already done   {self.already_done}",
            f"skipped        {self.skipped} (results of this function, folder markers)",
            enqueued,
            f"failed         {self.failed}",
        ]
        detail = ", ".join(f"{reason} {count}" for reason, count in sorted(self.reasons.items()))
        return lines + [f"by reason      {detail or '-'}"]

    def as_dict(self) -> dict[str, Any]:
        return {
            "listed": self.listed,
            "already_done": self.already_done,
            "skipped": self.skipped,
            "to_enqueue": self.to_enqueue,
            "enqueued": self.enqueued,
            "failed": self.failed,
            "reasons": dict(self.reasons),
            "dry_run": self.dry_run,
        }


def backfill(
    planned: Iterable[tuple[ListedObject, str]],
    target: Target | None,
    *,
    dry_run: bool = False,
    region: str = "us-east-1",
    progress: Callable[[Summary], None] | None = None,
) -> Summary:
    """Sends each object ``plan`` marks as to do; ``target`` may be None on a dry run."""
    summary = Summary(dry_run=dry_run)
    for listed, reason in planned:
        summary.listed += 1
        summary.reasons[reason] += 1
        if reason in ALREADY_DONE:
            summary.already_done += 1
        elif reason in ENQUEUE:
            summary.to_enqueue += 1
            if not dry_run:
                target.send(listed.notification(region))
        else:
            summary.skipped += 1
        if progress:
            progress(summary)
    if target is not None and not dry_run:
        target.close()
        summary.enqueued = target.sent
        summary.failures = list(target.failures)
    if progress:
        progress(summary)
    return summary


class ProgressBar:
    """tqdm on stderr when it is installed, else a counter rewritten in place."""

    def __init__(self, stream: TextIO = sys.stderr, *, enabled: bool = True):
        self._stream = stream
        self._enabled = enabled
        self._bar = None
        if enabled:
            try:
                from tqdm import tqdm
            except ImportError:
                tqdm = None
            if tqdm is not None:
                self._bar = tqdm(file=stream, unit=" objects", desc="listed", dynamic_ncols=True)

    def __call__(self, summary: Summary) -> None:
        if not self._enabled:
            return
        status = f"done {summary.already_done}, to do {summary.to_enqueue}"
        if self._bar is not None:
            self._bar.update(summary.listed - self._bar.n)
            self._bar.set_postfix_str(status, refresh=False)
        elif summary.listed % 100 == 0:
            self._stream.write(f"\rlisted {summary.listed}: {status}")
            self._stream.flush()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
        elif self._enabled:
            self._stream.write("\n")
