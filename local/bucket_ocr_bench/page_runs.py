"""Per-page figures: each contestant on the same decoded page, then the function path."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from bucket_ocr_bench.cer import character_errors
from bucket_ocr_bench.contestants import Contestant, ProjectEngine, Tesseract
from bucket_ocr_bench.corpus import UPRIGHT, Corpus, CorpusPage
from bucket_ocr_bench.function_path import MotoFunctionPath

Log = Callable[[str], None]


@dataclass(frozen=True)
class PageFigure:
    contestant: str
    page_id: str
    path: str  # "engine": decoded page straight into the engine; "function": upload -> result JSON
    download_seconds: float | None
    decode_seconds: float
    ocr_seconds: float
    total_seconds: float
    cpu_seconds: float | None
    cer: float
    cer_without_spaces: float
    reference_chars: int
    kind: str = UPRIGHT
    rotation_expected: int = 0
    rotation_detected: int | None = None  # None: the contestant does not say
    orientation_seconds: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def decode(corpus: Corpus, page: CorpusPage, pdf_dpi: int) -> tuple[Any, float]:
    from bucket_ocr.documents import iter_pages
    from bucket_ocr.events.records import ObjectRef
    from bucket_ocr.settings import Limits

    started = time.perf_counter()
    _, pages = iter_pages(corpus.data(page), ObjectRef("bench", page.file_name), limits=Limits(), pdf_dpi=pdf_dpi)
    image = next(pages)
    image.load()
    return image, time.perf_counter() - started


def every_page(contestant: Contestant, page: CorpusPage) -> bool:
    return True


def engine_figures(
    corpus: Corpus,
    contestants: list[Contestant],
    pdf_dpi: int,
    log: Log,
    reads: Callable[[Contestant, CorpusPage], bool] = every_page,
) -> list[PageFigure]:
    """Each page through each contestant that `reads` it."""
    figures = []
    warm = corpus.pages[0]
    first, _ = decode(corpus, warm, pdf_dpi)
    for contestant in contestants:  # warm instance: one untimed page first
        contestant.read(first) if isinstance(contestant, ProjectEngine) else contestant.recognize(first)
    for page in corpus.pages:
        image, decode_seconds = decode(corpus, page, pdf_dpi)
        for contestant in (c for c in contestants if reads(c, page)):
            payload = contestant.encode(image) if isinstance(contestant, Tesseract) else image
            rotation, orientation_seconds = None, None
            started, cpu = time.perf_counter(), time.process_time()
            if isinstance(contestant, Tesseract):
                text = contestant.recognize_encoded(payload)
                cpu_seconds = None  # the work happens in a child process
            elif isinstance(contestant, ProjectEngine):
                text, rotation, orientation_seconds = contestant.read(payload)
            else:
                text = contestant.recognize(payload)
            ocr_seconds = time.perf_counter() - started
            if not isinstance(contestant, Tesseract):
                cpu_seconds = time.process_time() - cpu
            errors = character_errors(page.text, text)
            figures.append(
                PageFigure(
                    contestant=contestant.name,
                    page_id=page.page_id,
                    path="engine",
                    download_seconds=None,
                    decode_seconds=decode_seconds,
                    ocr_seconds=ocr_seconds,
                    total_seconds=decode_seconds + ocr_seconds,
                    cpu_seconds=cpu_seconds,
                    cer=errors.cer,
                    cer_without_spaces=errors.cer_without_spaces,
                    reference_chars=errors.reference_chars,
                    kind=page.kind,
                    rotation_expected=page.rotation,
                    rotation_detected=rotation,
                    orientation_seconds=orientation_seconds,
                )
            )
            turned = "" if rotation is None else f"  turned {rotation}/{page.rotation}"
            log(f"  {contestant.name:<20} {page.page_id:<28} {ocr_seconds:6.2f} s  CER {errors.cer:.2%}{turned}")
    return figures


def function_figures(
    corpus: Corpus,
    path: MotoFunctionPath,
    contestant_name: str,
    log: Log,
    results: dict[str, dict[str, Any]] | None = None,
) -> list[PageFigure]:
    """Each page through the function; `results`, if given, gets each page's result document by page id."""
    figures = []
    for page in corpus.pages:
        cpu = time.process_time()
        run = path.run(f"corpus/{page.file_name}", corpus.data(page), page.content_type)
        if results is not None:
            results[page.page_id] = run.result
        timings = run.result["timings"]
        errors = character_errors(page.text, run.result["text"])
        figures.append(
            PageFigure(
                contestant=contestant_name,
                page_id=page.page_id,
                path="function",
                download_seconds=timings["download_seconds"],
                decode_seconds=timings["decode_seconds"],
                ocr_seconds=timings["ocr_seconds"],
                total_seconds=run.total_seconds,
                cpu_seconds=time.process_time() - cpu,
                cer=errors.cer,
                cer_without_spaces=errors.cer_without_spaces,
                reference_chars=errors.reference_chars,
                kind=page.kind,
                rotation_expected=page.rotation,
            )
        )
        log(f"  function path        {page.page_id:<28} {run.total_seconds:6.2f} s  CER {errors.cer:.2%}")
    return figures
