"""Outputs end to end with real OCR: a document is decoded, read, made a result, rendered.

The path is the function's own (documents.iter_pages -> engine -> results.document),
without S3; then the searchable PDF's text, as PDFium extracts it, must be the JSON's
text, and every word must be found over its box.

Needs the `built_models_dir` session fixture (tests/conftest.py).
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from bucket_ocr.documents import iter_pages
from bucket_ocr.engine import OcrEngine
from bucket_ocr.events.records import ObjectRef
from bucket_ocr.outputs import render
from bucket_ocr.results import document
from bucket_ocr.settings import Limits
from tests.support.pages import find_truetype_font
from tests.unit.test_outputs import assert_hocr_checks, assert_words_in_their_boxes, extracted_pages, tokens

pytestmark = pytest.mark.functional

LINES = ["Factura 2024-118 del 15 de julio", "Señor Núñez pagó 1.234,50 EUR", "Gracias por su confianza"]
PDF_DPI = 150


@pytest.fixture
def engine(real_engine: OcrEngine) -> OcrEngine:
    """The session's engine itself: these tests read its pages directly, not through a counter."""
    return real_engine


def _page_image(dpi: int) -> Image.Image:
    """An A5-ish page at ``dpi`` with LINES drawn on it."""
    font = ImageFont.truetype(str(find_truetype_font()), round(dpi * 0.17))
    page = Image.new("RGB", (round(5.8 * dpi), round(4 * dpi)), "white")
    draw = ImageDraw.Draw(page)
    for row, text in enumerate(LINES):
        draw.text((0.5 * dpi, (0.5 + 0.45 * row) * dpi), text, font=font, fill="black")
    return page


def _result(source: bytes, engine: OcrEngine, key: str) -> dict:
    """The result document the function writes for ``source`` (processing's steps)."""
    doc_type, pages = iter_pages(source, ObjectRef("in", key), limits=Limits(), pdf_dpi=PDF_DPI)
    page_results = [document.page_result(index, image, engine.read(image)) for index, image in enumerate(pages)]
    # The parts of the document the outputs read, made by results/document.py as the
    # function makes them (succeeded() wraps these with the run's own fields).
    return {
        "source": ObjectRef("in", key, content_type=doc_type.content_type).as_dict(),
        "engine": engine.describe(),
        "pages": [page.as_dict() for page in page_results],
        "text": document.PAGE_SEPARATOR.join(page.text for page in page_results),
    }


@pytest.mark.parametrize("kind", ["pdf", "png", "jpeg"])
def test_real_ocr_to_a_searchable_pdf_whose_text_is_the_jsons(engine: OcrEngine, kind: str, tmp_path: Path) -> None:
    # Given a document with text on it, read by the engine into a result
    image = _page_image(PDF_DPI if kind == "pdf" else 200)
    out = io.BytesIO()
    if kind == "pdf":
        image.save(out, "PDF", resolution=PDF_DPI)
    else:
        image.save(out, kind.upper(), dpi=(200, 200))
    source = out.getvalue()
    result = _result(source, engine, f"docs/page.{kind}")
    assert tokens(result["text"]) == tokens("\n".join(LINES))  # the engine read it all
    # When the outputs are rendered
    content_type = result["source"]["content_type"]
    outputs = render(result, source, content_type, ["txt", "pdf", "hocr"])
    # Then the PDF's text extracts as the JSON's, each word over where it was read,
    # and the hOCR passes the reference checker
    assert outputs["txt"].body.decode("utf-8") == result["text"]
    assert tokens("\n\n".join(extracted_pages(outputs["pdf"].body))) == tokens(result["text"])
    assert_words_in_their_boxes(outputs["pdf"].body, result["pages"])
    assert_hocr_checks(outputs["hocr"].body, tmp_path)
