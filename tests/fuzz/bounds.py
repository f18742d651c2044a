"""Time and memory bounds on one fuzz case, measured on the process itself.

Memory is the peak resident set, not what Python allocates: Pillow, libtiff, libwebp and
PDFium allocate in C, where tracemalloc sees nothing. Linux keeps that peak in VmHWM and
lets a process reset it (``/proc/self/clear_refs`` with ``5``), so each case gets a peak
of its own instead of the session's high-water mark.

Time has two limits. A case over ``seconds`` fails when it returns. A case that does not
return is interrupted by SIGALRM, which only works when the hang is in Python code; a
hang inside a C decoder never gives the interpreter a chance to run the handler, so a
last resort ends the whole process with every thread's traceback: a failed CI run, not a
stuck one.
"""

from __future__ import annotations

import contextlib
import faulthandler
import re
import signal
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")
_RESET_PEAK = "5"
_HARD_LIMIT_FACTOR = 5  # how much longer than the bound before the process is ended
MIB = 1024 * 1024
# A page can be alive a few times over while it becomes RGB: the decoded frame (up to 4
# bytes a pixel, or PDFium's BGRA bitmap), an RGBA copy, a white sheet and the composite
# for transparency, the RGB result. Valid pages at the limit peaked at 20 bytes a pixel
# (a transparent WebP or APNG).
_BYTES_PER_ALLOWED_PIXEL = 24


class CaseTimedOutError(Exception):
    """A case still running at its time bound: interrupted so the run goes on."""


@dataclass
class Measurement:
    seconds: float = 0.0
    peak_growth_bytes: int = 0  # peak resident set during the case, over the resident set before it


def peak_budget(max_page_pixels: int, fixed_bytes: int) -> int:
    """What one case may add to the peak: the largest page the limits allow, and a fixed part."""
    return _BYTES_PER_ALLOWED_PIXEL * max_page_pixels + fixed_bytes


def _status_kib(name: str) -> int:
    match = re.search(rf"^{name}:\s+(\d+) kB$", _STATUS.read_text(), re.MULTILINE)
    if match is None:
        raise RuntimeError(f"{_STATUS} has no {name}: the fuzz tier's memory bound needs Linux")
    return int(match.group(1)) * 1024


def _interrupt(signum: int, frame: object) -> None:
    raise CaseTimedOutError("the case did not finish within its time bound")


@contextlib.contextmanager
def bounded(*, seconds: float, peak_growth_bytes: int, what: str) -> Iterator[Measurement]:
    """Run the body under the bounds; fail, naming ``what``, if it goes over either."""
    measured = Measurement()
    baseline = _status_kib("VmRSS")
    _CLEAR_REFS.write_text(_RESET_PEAK)
    previous = signal.signal(signal.SIGALRM, _interrupt)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    faulthandler.dump_traceback_later(seconds * _HARD_LIMIT_FACTOR, exit=True, file=sys.stderr)
    started = time.perf_counter()
    try:
        yield measured
    finally:
        measured.seconds = time.perf_counter() - started
        faulthandler.cancel_dump_traceback_later()
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    measured.peak_growth_bytes = _status_kib("VmHWM") - baseline
    assert measured.seconds <= seconds, f"{what} took {measured.seconds:.2f} s, over the bound of {seconds} s"
    assert measured.peak_growth_bytes <= peak_growth_bytes, (
        f"{what} raised the peak resident set by {measured.peak_growth_bytes / MIB:.0f} MiB, "
        f"over the bound of {peak_growth_bytes / MIB:.0f} MiB"
    )
