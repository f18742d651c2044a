"""The benchmark corpus: real installed text, seeded, every format the function takes,
and the page kinds of issue #10 (turned, multi-column, receipts, skewed)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bucket_ocr.documents import iter_pages
from bucket_ocr.documents.detect import detect_type
from bucket_ocr.events.records import ObjectRef
from bucket_ocr.settings import Limits
from bucket_ocr_bench import page_render
from bucket_ocr_bench.corpus import (
    EXTRA_KINDS,
    FOOTER_POINTS,
    MAX_LINES,
    MIN_LINES,
    RECEIPT,
    RECEIPT_MARGIN_PX,
    RECEIPT_TEXT_PX,
    ROTATED,
    SKEWED,
    THREE_COLUMN,
    TITLE_POINTS,
    TWO_COLUMN,
    UPRIGHT,
    build_corpus,
)
from bucket_ocr_bench.errors import TextSourceError
from bucket_ocr_bench.text_sources import english_source, spanish_source


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory):
    return build_corpus(tmp_path_factory.mktemp("corpus"), pages=8, seed=11)


def _decoded(corpus, page) -> Image.Image:
    _, pages = iter_pages(corpus.data(page), ObjectRef("b", page.file_name), limits=Limits(), pdf_dpi=page.dpi)
    return next(pages).convert("L")


def _of(corpus, kind: str):
    return [page for page in corpus.pages if page.group == kind]


def test_eight_pages_cover_every_format_language_and_dpi(corpus) -> None:
    upright = _of(corpus, UPRIGHT)
    assert len(upright) == 8
    assert {p.file_format for p in upright} == {"png", "jpeg", "tiff", "pdf"}
    assert {p.language for p in upright} == {"en", "es"}
    assert {p.dpi for p in upright} == {150, 200}
    for page in upright:
        assert MIN_LINES <= len(page.lines) <= MAX_LINES
        assert 10 <= page.font_points <= 14
        assert abs(page.defects.rotation_degrees) <= 1.0


def test_files_decode_as_a4_pages_of_their_declared_type(corpus) -> None:
    for page in corpus.pages:
        data = corpus.data(page)
        assert detect_type(data).content_type == page.content_type
        if page.group == RECEIPT:
            continue
        image = _decoded(corpus, page)
        width_inches, height_inches = image.width / page.dpi, image.height / page.dpi
        if page.rotation in (90, 270):
            width_inches, height_inches = height_inches, width_inches
        assert width_inches == pytest.approx(8.27, abs=0.02) and height_inches == pytest.approx(11.69, abs=0.02)


def test_every_upright_page_is_also_stored_turned_by_90_180_and_270_with_its_transcript(corpus) -> None:
    turned = _of(corpus, ROTATED)
    upright = _of(corpus, UPRIGHT)
    assert len(turned) == 3 * len(upright)
    for page in upright:
        turns = [t for t in turned if t.page_id.startswith(f"{page.page_id}-")]
        assert sorted((t.rotation, t.kind) for t in turns) == [
            (90, "rotated-90"),
            (180, "rotated-180"),
            (270, "rotated-270"),
        ]
        assert all(t.lines == page.lines and t.file_format == page.file_format for t in turns)


def test_a_lossless_turned_page_is_the_upright_one_turned_clockwise_by_its_rotation(corpus) -> None:
    # the engine's convention: `rotation` is the stored page's clockwise turn from upright,
    # so turning it back counter-clockwise (PIL's positive angle) gives the upright page
    for page in (p for p in _of(corpus, UPRIGHT) if p.file_format in ("png", "tiff")):
        upright = _decoded(corpus, page)
        for turned in (t for t in _of(corpus, ROTATED) if t.page_id.startswith(f"{page.page_id}-")):
            back = _decoded(corpus, turned).rotate(turned.rotation, expand=True)
            assert back.size == upright.size and back.tobytes() == upright.tobytes(), turned.page_id


@pytest.mark.parametrize(("kind", "columns"), [(TWO_COLUMN, 2), (THREE_COLUMN, 3)])
def test_column_pages_come_at_both_resolutions_in_both_languages(corpus, kind: str, columns: int) -> None:
    pages = _of(corpus, kind)
    assert len(pages) >= 2
    assert {p.dpi for p in pages} == {150, 200} and {p.language for p in pages} == {"en", "es"}
    for page in pages:
        assert len(page.blocks) == columns + 2 and sum(page.blocks) == len(page.lines)
        assert all(count > 10 for count in page.blocks[1:-1])


def _ink(image: Image.Image, top: float, bottom: float, left: float = 0, right: float | None = None) -> np.ndarray:
    """Rows and columns of the box that hold ink: mask of dark pixels."""
    return np.asarray(image)[round(top) : round(bottom), round(left) : None if right is None else round(right)] < 96


def _extent(mask: np.ndarray) -> int:
    columns = np.flatnonzero(mask.sum(axis=0) >= 2)
    return int(columns[-1] - columns[0]) if columns.size else 0


def _text_lines_in(mask: np.ndarray, step: float) -> int:
    """Printed lines, by the line pitch: accents and gaps inside letters split ink runs."""
    rows = np.flatnonzero(mask.sum(axis=1) >= 1)
    slots = np.bincount(((rows - rows[0]) // step).astype(int)) if rows.size else np.array([])
    return int((slots >= 2).sum())


@pytest.mark.parametrize("kind", [TWO_COLUMN, THREE_COLUMN])
def test_column_transcripts_read_title_then_each_column_top_to_bottom_then_footer(corpus, kind: str) -> None:
    source = {"en": english_source(), "es": spanish_source()}
    for page in _of(corpus, kind):
        title, *columns, footer = page.blocks
        body = page.lines[title : len(page.lines) - footer]
        # the columns continue one article: their words are one unbroken run of the source
        text = f" {' '.join(source[page.language].words)} "
        assert f" {' '.join(' '.join(body).split())} " in text, page.page_id
        image = _decoded(corpus, page)
        dpi, slack = page.dpi, 0.06 * page.dpi
        margin = page_render.MARGIN_INCHES * dpi
        body_top = margin + title * page_render.line_step_px(TITLE_POINTS, dpi) + page_render.BLOCK_GAP_INCHES * dpi
        footer_top = image.height - margin - footer * page_render.line_step_px(FOOTER_POINTS, dpi)
        # the transcript's first line is the one printed across the top, its last the one at the foot
        title_font = page_render.load_font(page_render.TITLE_FONT, TITLE_POINTS, dpi)
        footer_font = page_render.load_font(page.font, FOOTER_POINTS, dpi)
        title_ink = _extent(_ink(image, margin - slack, body_top - slack))
        assert title_ink == pytest.approx(title_font.getlength(page.lines[0]), rel=0.05, abs=slack), page.page_id
        footer_ink = _extent(_ink(image, footer_top - slack, image.height - margin + slack))
        widest_footer = max(footer_font.getlength(line) for line in page.lines[-footer:])
        assert footer_ink == pytest.approx(widest_footer, rel=0.05, abs=slack), page.page_id
        # column by column, left to right, each holds as many lines as its part of the transcript
        width = page_render.column_width_px(dpi, len(columns))
        step = width + round(page_render.COLUMN_GUTTER_INCHES * dpi)
        for index, count in enumerate(columns):
            left = margin + index * step  # a strip at the left edge, where every line starts
            strip = _ink(image, body_top - slack, footer_top - slack, left, left + 0.15 * dpi)
            lines = _text_lines_in(strip, page_render.line_step_px(page.font_points, dpi))
            assert lines == pytest.approx(count, abs=1), (page.page_id, index)


def test_receipts_are_narrow_till_rolls_of_one_to_four_six_and_eight(corpus) -> None:
    receipts = _of(corpus, RECEIPT)
    sizes = [_decoded(corpus, page).size for page in receipts]
    assert sorted(height / width for width, height in sizes) == [4, 6, 8]
    assert all(width == 560 for width, _ in sizes)
    for page, (_, height) in zip(receipts, sizes, strict=True):
        # priced rows read the item then its price, as the till prints them on one row
        priced = [line for line in page.lines if re.fullmatch(r".+ \d+[.,]\d\d", line)]
        assert len(priced) > 0.9 * len(page.lines)
        rows = (height - 2 * RECEIPT_MARGIN_PX) // (RECEIPT_TEXT_PX * page_render.LINE_SPACING)
        assert len(page.lines) >= rows - 4  # the roll is printed to its end; 3 rows are blank


def test_skewed_pages_lean_three_degrees_each_way(corpus) -> None:
    skewed = _of(corpus, SKEWED)
    assert sorted(page.defects.rotation_degrees for page in skewed) == [-3.0, 3.0]
    assert all(page.rotation == 0 and MIN_LINES <= len(page.lines) <= MAX_LINES for page in skewed)


def test_spanish_pages_carry_accents_from_installed_translations(corpus) -> None:
    spanish = "".join(page.text for page in corpus.pages if page.language == "es")
    assert set("áéíóúñ") & set(spanish)
    manifest = json.loads((corpus.directory / "corpus.json").read_text(encoding="utf-8"))
    assert all(source["path"].endswith(".mo") for source in manifest["sources"]["es"])
    assert all(len(source["sha256"]) == 64 for source in manifest["sources"]["en"])


def test_the_same_seed_gives_the_same_bytes_and_another_seed_other_pages(tmp_path: Path, corpus) -> None:
    again = build_corpus(tmp_path / "again", pages=8, seed=11)
    other = build_corpus(tmp_path / "other", pages=8, seed=12, kinds=(RECEIPT,))
    assert [p.page_id for p in again.pages] == [p.page_id for p in corpus.pages]
    assert [corpus.data(p) for p in corpus.pages] == [again.data(p) for p in again.pages]
    for kind in (UPRIGHT, RECEIPT):
        assert [p.lines for p in _of(other, kind)] != [p.lines for p in _of(corpus, kind)]


def test_choosing_kinds_changes_no_other_kinds_pages(tmp_path: Path, corpus) -> None:
    # the upright pages stay what runs before the other kinds measured
    alone = build_corpus(tmp_path / "alone", pages=8, seed=11, kinds=(SKEWED,))
    assert {p.group for p in alone.pages} == {UPRIGHT, SKEWED}
    for kind in (UPRIGHT, SKEWED):
        assert [alone.data(p) for p in _of(alone, kind)] == [corpus.data(p) for p in _of(corpus, kind)]
    assert {p.group for p in corpus.pages} == {UPRIGHT, *EXTRA_KINDS}
    with pytest.raises(ValueError, match="unknown page kinds"):
        build_corpus(tmp_path / "bad", pages=1, seed=11, kinds=("sideways",))


def test_no_installed_text_is_a_named_error(tmp_path: Path) -> None:
    with pytest.raises(TextSourceError, match="base-files"):
        english_source(tmp_path)
    with pytest.raises(TextSourceError, match="gettext"):
        spanish_source((tmp_path,))
