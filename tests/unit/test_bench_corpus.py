"""The benchmark corpus: real installed text, seeded, every format the function takes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bucket_ocr.documents import ObjectRef, iter_pages
from bucket_ocr.documents.detect import detect_type
from bucket_ocr.settings import Limits
from bucket_ocr_bench.corpus import MAX_LINES, MIN_LINES, build_corpus
from bucket_ocr_bench.errors import TextSourceError
from bucket_ocr_bench.text_sources import english_source, spanish_source


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory):
    return build_corpus(tmp_path_factory.mktemp("corpus"), pages=8, seed=11)


def test_eight_pages_cover_every_format_language_and_dpi(corpus) -> None:
    assert {p.file_format for p in corpus.pages} == {"png", "jpeg", "tiff", "pdf"}
    assert {p.language for p in corpus.pages} == {"en", "es"}
    assert {p.dpi for p in corpus.pages} == {150, 200}
    for page in corpus.pages:
        assert MIN_LINES <= len(page.lines) <= MAX_LINES
        assert 10 <= page.font_points <= 14
        assert abs(page.defects.rotation_degrees) <= 1.0


def test_files_decode_as_a4_pages_of_their_declared_type(corpus) -> None:
    for page in corpus.pages:
        data = corpus.data(page)
        assert detect_type(data).content_type == page.content_type
        _, pages = iter_pages(data, ObjectRef("b", page.file_name), limits=Limits(), pdf_dpi=page.dpi)
        image = next(pages)
        width_inches, height_inches = image.width / page.dpi, image.height / page.dpi
        assert width_inches == pytest.approx(8.27, abs=0.02) and height_inches == pytest.approx(11.69, abs=0.02)


def test_spanish_pages_carry_accents_from_installed_translations(corpus) -> None:
    spanish = "".join(page.text for page in corpus.pages if page.language == "es")
    assert set("áéíóúñ") & set(spanish)
    manifest = json.loads((corpus.directory / "corpus.json").read_text(encoding="utf-8"))
    assert all(source["path"].endswith(".mo") for source in manifest["sources"]["es"])
    assert all(len(source["sha256"]) == 64 for source in manifest["sources"]["en"])


def test_the_same_seed_gives_the_same_bytes_and_another_seed_other_pages(tmp_path: Path, corpus) -> None:
    again = build_corpus(tmp_path / "again", pages=8, seed=11)
    other = build_corpus(tmp_path / "other", pages=8, seed=12)
    assert [corpus.data(p) for p in corpus.pages] == [again.data(p) for p in again.pages]
    assert [p.lines for p in other.pages] != [p.lines for p in corpus.pages]


def test_no_installed_text_is_a_named_error(tmp_path: Path) -> None:
    with pytest.raises(TextSourceError, match="base-files"):
        english_source(tmp_path)
    with pytest.raises(TextSourceError, match="gettext"):
        spanish_source((tmp_path,))
