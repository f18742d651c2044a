"""Terminal output: a progress bar on stderr, tables on stdout."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TextIO

from bucket_ocr_local.results import DocumentOutcome


class ProgressBar:
    """Redraws one line on a terminal; prints only changes otherwise (CI logs stay short)."""

    def __init__(self, label: str, stream: TextIO = sys.stderr, width: int = 30):
        self.label = label
        self.stream = stream
        self.width = width
        self._last: tuple[int, int] | None = None
        self._tty = stream.isatty()

    def __call__(self, done: int, total: int) -> None:
        if (done, total) == self._last:
            return
        self._last = (done, total)
        filled = int(self.width * done / total) if total else self.width
        bar = "#" * filled + "-" * (self.width - filled)
        line = f"{self.label} [{bar}] {done}/{total}"
        if self._tty:
            self.stream.write("\r" + line + ("\n" if done == total else ""))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()


def table(rows: Sequence[Sequence[object]], headers: Sequence[str]) -> str:
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def outcomes_table(outcomes: Sequence[DocumentOutcome]) -> str:
    rows = [
        (
            o.key,
            o.pages if o.document else "",
            o.lines if o.document else "",
            f"{o.seconds:.2f}" if o.seconds is not None else "",
            _status(o),
        )
        for o in outcomes
    ]
    return table(rows, ("file", "pages", "lines", "seconds", "status"))


def _status(outcome: DocumentOutcome, limit: int = 80) -> str:
    if not outcome.error:
        return outcome.status
    text = f"{outcome.status} ({outcome.error})"
    return text if len(text) <= limit else text[: limit - 4] + "...)"
