"""Once per run: the extra seconds a page that a searchable PDF and hOCR cost (issue #11).

What is rendered is the real thing: each upright A4 page's result document as the
function path wrote it to the (moto) results bucket, and the corpus file as it was
uploaded, passed to `bucket_ocr.outputs.render` with the content type the function
detected, exactly the call the function makes when `OCR_OUTPUTS` asks for `pdf` or
`hocr`. Rendering only: uploading the extra object is not timed (its size is reported).

Each kind is rendered once untimed per page (imports, first-use costs), then `repeats`
times; a page's figure is the median of those, divided by the pages in its result. The
run's figure is the median over pages, overall and per source format: a PNG or JPEG is
embedded as its own bytes, a TIFF is decoded and compressed again, a PDF gains a layer.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from bucket_ocr_bench.corpus import CONTENT_TYPES, Corpus
from bucket_ocr_bench.errors import MeasurementError

KINDS = ("pdf", "hocr")
FORMATS = tuple(CONTENT_TYPES)  # the corpus's own order: png, jpeg, tiff, pdf
REPEATS = 5
MEANS = (
    "bucket_ocr.outputs.render(result, source, content_type, [kind]) on each upright A4 page's result "
    "document from the function path and its file as uploaded; rendering only, upload not timed; per page "
    "the median of {repeats} renders after one untimed, over the pages in its result; then medians over pages"
)


@dataclass(frozen=True)
class OutputTiming:
    page_id: str
    file_format: str
    kind: str  # "pdf" or "hocr"
    result_pages: int
    seconds_per_page: float
    bytes: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def time_render(
    result: dict[str, Any],
    source: bytes,
    content_type: str | None,
    kind: str,
    repeats: int,
    clock: Callable[[], float] = time.perf_counter,
) -> tuple[float, int]:
    """Median seconds of `repeats` renders of `kind` (after one untimed), and the output's size in bytes."""
    from bucket_ocr.outputs import RenderError, render

    try:
        body = render(result, source, content_type, [kind])[kind].body
    except RenderError as cause:  # the function would fail this document: no figure to take
        raise MeasurementError(f"{kind} of {result['source']['key']}: {cause}") from cause
    seconds = []
    for _ in range(repeats):
        started = clock()
        render(result, source, content_type, [kind])
        seconds.append(clock() - started)
    return statistics.median(seconds), len(body)


def measure(
    corpus: Corpus, results: Mapping[str, dict[str, Any]], log: Callable[[str], None] = print
) -> list[OutputTiming]:
    """Each page of `corpus` that has a result (by page id), each kind."""
    timings = []
    for page in corpus.pages:
        result = results.get(page.page_id)
        if result is None:
            continue
        source, content_type = corpus.data(page), result["source"]["content_type"]
        pages = max(1, len(result["pages"]))
        for kind in KINDS:
            seconds, size = time_render(result, source, content_type, kind, REPEATS)
            timings.append(OutputTiming(page.page_id, page.file_format, kind, pages, seconds / pages, size))
        pdf, hocr = timings[-2], timings[-1]
        log(
            f"  outputs              {page.page_id:<28} pdf {pdf.seconds_per_page:6.3f} s  hocr {hocr.seconds_per_page:6.3f} s"
        )
    return timings


def summarise(timings: list[OutputTiming]) -> dict[str, Any] | None:
    """Medians per kind over all pages and per source format; None without a page.

    `measure` times both kinds of every page, so each kind has a figure wherever a page does.
    """
    if not timings:
        return None

    def medians(items: list[OutputTiming]) -> dict[str, Any]:
        out: dict[str, Any] = {"pages": len({t.page_id for t in items})}
        for kind in KINDS:
            of_kind = [t for t in items if t.kind == kind]
            out[kind] = statistics.median(t.seconds_per_page for t in of_kind)
            out[f"{kind}_bytes"] = statistics.median(t.bytes for t in of_kind)
        return out

    overall = medians(timings)
    present = {t.file_format for t in timings}
    formats = [f for f in FORMATS if f in present] + sorted(present - set(FORMATS))
    return {
        "means": MEANS.format(repeats=REPEATS),
        "repeats": REPEATS,
        "pages": overall["pages"],
        "median_seconds_per_page": {kind: overall[kind] for kind in KINDS},
        "median_bytes": {kind: overall[f"{kind}_bytes"] for kind in KINDS},
        "by_format": {fmt: medians([t for t in timings if t.file_format == fmt]) for fmt in formats},
        "per_page": [t.as_dict() for t in timings],
    }


def report_rows(outputs: dict[str, Any] | None) -> list[tuple[str, str]]:
    """The once-per-run table's rows: medians overall, then per source format."""
    if not outputs:
        return []
    medians = outputs["median_seconds_per_page"]
    rows = [(f"extra s/page for pdf / hocr (rendering, median of {outputs['pages']} pages)", _pair(medians))]
    for fmt, figures in outputs["by_format"].items():
        rows.append((f"extra s/page for pdf / hocr, {fmt.upper()} pages ({figures['pages']})", _pair(figures)))
    return rows


def _pair(figures: Mapping[str, float]) -> str:
    return " / ".join(f"{figures[kind]:.3f}" for kind in KINDS)
