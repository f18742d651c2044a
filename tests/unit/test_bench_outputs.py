"""The benchmark's searchable PDF / hOCR figure (issue #11): timing, medians, the report's rows."""

from __future__ import annotations

import io
from itertools import count
from pathlib import Path

import pytest
from PIL import Image

from bucket_ocr.events.records import ObjectRef
from bucket_ocr.results import document
from bucket_ocr_bench import outputs_cost
from bucket_ocr_bench.corpus import Corpus, CorpusPage
from bucket_ocr_bench.errors import MeasurementError
from bucket_ocr_bench.outputs_cost import OutputTiming, measure, report_rows, summarise, time_render
from bucket_ocr_bench.page_render import Defects
from bucket_ocr_bench.report import markdown
from tests.unit.test_bench_figures import a_report


def _timings() -> list[OutputTiming]:
    # given four pages arriving PDF first: one slow TIFF, the rest alike
    rows = [
        ("p3", "pdf", 0.018, 0.004),
        ("p0", "png", 0.014, 0.003),
        ("p2", "tiff", 0.250, 0.005),
        ("p1", "jpeg", 0.016, 0.004),
    ]
    timings = []
    for page, fmt, pdf, hocr in rows:
        timings.append(OutputTiming(page, fmt, "pdf", 1, pdf, 40_000))
        timings.append(OutputTiming(page, fmt, "hocr", 1, hocr, 9_000))
    return timings


def test_summary_takes_medians_over_pages_and_per_source_format_in_the_corpus_order() -> None:
    outputs = summarise(_timings())
    assert outputs["pages"] == 4
    assert outputs["median_seconds_per_page"]["pdf"] == pytest.approx(0.017)  # the TIFF does not drag the median
    assert outputs["median_seconds_per_page"]["hocr"] == pytest.approx(0.004)
    assert outputs["median_bytes"] == {"pdf": 40_000, "hocr": 9_000}
    assert list(outputs["by_format"]) == ["png", "jpeg", "tiff", "pdf"]
    assert outputs["by_format"]["tiff"]["pdf"] == pytest.approx(0.25)
    assert outputs["by_format"]["tiff"]["pages"] == 1
    assert len(outputs["per_page"]) == 8 and outputs["per_page"][0]["kind"] == "pdf"


def test_no_page_gives_no_figure_and_no_row() -> None:
    assert summarise([]) is None
    assert report_rows(None) == []


def test_report_has_the_median_row_then_one_per_format() -> None:
    text = markdown(a_report(once_per_run={"outputs": summarise(_timings())}))
    assert "| extra s/page for pdf / hocr (rendering, median of 4 pages) | 0.017 / 0.004 |" in text
    assert "| extra s/page for pdf / hocr, TIFF pages (1) | 0.250 / 0.005 |" in text
    assert (
        text.index("median of 4 pages") < text.index("PNG pages") < text.index("TIFF pages") < text.index("PDF pages")
    )


def _png(width: int = 200, height: int = 100) -> bytes:
    out = io.BytesIO()
    Image.new("L", (width, height), 255).save(out, "PNG", dpi=(150, 150))
    return out.getvalue()


class _Word:
    def __init__(self, text: str, box: tuple[float, float, float, float]):
        x0, y0, x1, y1 = box
        self.text, self.confidence, self.polygon = text, 0.9, [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
        self.bbox, self.words = box, [self]


def _result(pages: int = 1, content_type: str = "image/png") -> dict:
    page = document.PageResult(
        index=0,
        width=200,
        height=100,
        lines=[document.line_dict(_Word("hola", (10, 10, 60, 30)), 200, 100)],
        dpi=(150, 150),
    )
    source = ObjectRef("in", "doc.png", content_type=content_type)
    return document.succeeded(source, {"name": "test"}, document.Timings(), [page] * pages, None, outputs={})


def test_a_render_is_timed_after_an_untimed_one_and_the_median_of_the_repeats_taken() -> None:
    ticks = count()
    # reads 0, 1, 8, 27, 64, 125: renders of 1, 19 and 61 s, whose median (19) is not their mean (27)
    clock = lambda: next(ticks) ** 3  # noqa: E731 - a clock is a callable, and this one fits on a line
    seconds, size = time_render(_result(), _png(), "image/png", "hocr", repeats=3, clock=clock)
    assert seconds == 19
    assert size > 0


def test_a_source_the_pdf_cannot_be_made_from_is_a_measurement_error() -> None:
    with pytest.raises(MeasurementError, match=r"pdf of doc\.png"):
        time_render(_result(content_type="application/pdf"), b"not a pdf", "application/pdf", "pdf", repeats=1)


def _page(page_id: str, file_format: str) -> CorpusPage:
    return CorpusPage(
        page_id, f"{page_id}.{file_format}", file_format, "en", 150, "DejaVuSans", 10, Defects(0, 0, 0, 80), ("hola",)
    )


def test_measure_renders_pages_with_a_result_and_divides_by_the_results_pages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given two pages, one of whose results has two pages, and one page the function never read
    pages = (_page("a", "png"), _page("b", "tiff"), _page("c", "pdf"))
    for page in pages:
        (tmp_path / page.file_name).write_bytes(b"bytes of " + page.page_id.encode())
    corpus = Corpus(tmp_path, 1, pages, {})
    calls = []

    def fake_time_render(result, source, content_type, kind, repeats):
        calls.append((source, content_type, kind, repeats))
        return 0.2, 100

    monkeypatch.setattr(outputs_cost, "time_render", fake_time_render)
    timings = measure(corpus, {"a": _result(), "b": _result(pages=2, content_type="image/tiff")}, log=lambda _: None)
    # then each kind of each read page is timed on its own bytes and the function's content type
    assert calls[:2] == [(b"bytes of a", "image/png", "pdf", 5), (b"bytes of a", "image/png", "hocr", 5)]
    assert calls[2][1] == "image/tiff"
    # and the summary reports the repeats each render was timed over
    outputs = summarise(timings)
    assert outputs is not None and outputs["repeats"] == 5 and "median of 5 renders" in outputs["means"]
    assert [(t.page_id, t.kind) for t in timings] == [("a", "pdf"), ("a", "hocr"), ("b", "pdf"), ("b", "hocr")]
    assert [t.seconds_per_page for t in timings] == [0.2, 0.2, 0.1, 0.1]
    assert timings[2].file_format == "tiff" and timings[2].result_pages == 2
