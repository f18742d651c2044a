"""The backfill loop: plan, send what is to do, count, report progress."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from typing import Protocol, TextIO

from bucket_ocr.backfill.plan import ALREADY_DONE, ENQUEUE, ListedObject, Reason
from bucket_ocr.backfill.targets import SendFailure, Target


@dataclass
class Summary:
    listed: int = 0
    already_done: int = 0
    skipped: int = 0  # own outputs and folder markers: never documents
    to_enqueue: int = 0
    enqueued: int = 0
    failures: list[SendFailure] = field(default_factory=list)
    reasons: Counter[Reason] = field(default_factory=Counter)
    dry_run: bool = False

    @property
    def failed(self) -> int:
        return len(self.failures)

    def lines(self) -> list[str]:
        enqueued = f"would enqueue  {self.to_enqueue}" if self.dry_run else f"enqueued       {self.enqueued}"
        detail = ", ".join(f"{reason} {count}" for reason, count in sorted(self.reasons.items()))
        return [
            f"listed         {self.listed}",
            f"already done   {self.already_done}",
            f"skipped        {self.skipped} (results of this function, folder markers)",
            enqueued,
            f"failed         {self.failed}",
            f"by reason      {detail or '-'}",
        ]

    def as_dict(self) -> dict[str, object]:
        """For ``--json``: the counts, with the failures counted rather than listed."""
        counts = {
            item.name: getattr(self, item.name) for item in fields(self) if item.name not in ("failures", "reasons")
        }
        return {**counts, "failed": self.failed, "reasons": dict(self.reasons)}


def backfill(
    planned: Iterable[tuple[ListedObject, Reason]],
    target: Target | None,
    *,
    dry_run: bool = False,
    region: str = "us-east-1",
    progress: Callable[[Summary], None] | None = None,
) -> Summary:
    """Sends each object ``plan`` marks as to do; ``target`` may be None on a dry run."""
    if target is None and not dry_run:
        raise ValueError("a backfill that sends needs a target; only a dry run goes without")
    sending = None if dry_run else target
    summary = Summary(dry_run=dry_run)
    for listed, reason in planned:
        summary.listed += 1
        summary.reasons[reason] += 1
        if reason in ALREADY_DONE:
            summary.already_done += 1
        elif reason in ENQUEUE:
            summary.to_enqueue += 1
            if sending is not None:
                sending.send(listed.notification(region))
        else:
            summary.skipped += 1
        if progress:
            progress(summary)
    if sending is not None:
        sending.close()
        summary.enqueued = sending.sent
        summary.failures = list(sending.failures)
    if progress:
        progress(summary)
    return summary


class _Bar(Protocol):
    """The part of a ``tqdm`` bar used here."""

    n: float

    def update(self, n: float) -> object: ...

    def set_postfix_str(self, s: str, refresh: bool = ...) -> None: ...

    def close(self) -> None: ...


class ProgressBar:
    """tqdm on stderr when it is installed, else a counter rewritten in place."""

    def __init__(self, stream: TextIO = sys.stderr, *, enabled: bool = True):
        self._stream = stream
        self._enabled = enabled
        self._bar: _Bar | None = None
        if enabled:
            try:
                from tqdm import tqdm  # type: ignore[import-untyped]  # tqdm ships no types; _Bar names what is used
            except ImportError:
                return
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
