"""Fuzz tier, document layer: every mutant of every seed ends in pages or a named permanent error.

Never another exception, never a page over the limits, and every case within a time and
a memory bound. The limits are smaller than the defaults so the memory bound, derived
from them, is tight enough to catch a decoder that allocates for a page the limits
should have refused.
"""

from __future__ import annotations

import pytest
from hypothesis import event, given
from hypothesis import strategies as st
from PIL import Image

from bucket_ocr.documents import iter_pages
from bucket_ocr.errors import PermanentError
from bucket_ocr.events.records import ObjectRef
from bucket_ocr.settings import Limits
from tests.fuzz.bounds import MIB, bounded, peak_budget
from tests.fuzz.mutations import material_for, mutants
from tests.fuzz.seeds import SEEDS, Seed, encode
from tests.fuzz.verdicts import assert_named_permanent, fuzz_settings
from tests.support.documents import blank_pdf

pytestmark = [
    pytest.mark.fuzz,
    # Pillow warns about each oddity it reads past in a broken file; the verdict is what counts.
    pytest.mark.filterwarnings("ignore::UserWarning:PIL"),
]

WHERE = ObjectRef("fuzz-in", "mutants/case.bin")
LIMITS = Limits(max_pages=8, max_page_pixels=2_000_000)
PDF_DPI = 150
CASE_SECONDS = 3.0
PEAK_GROWTH = peak_budget(LIMITS.max_page_pixels, 32 * MIB)  # fixed: allocator slack, decoder state
LIBRARIES_GROWTH = 256 * MIB
EXAMPLES_PER_SEED = 200


def read_every_page(document: bytes) -> PermanentError | int:
    """The number of pages, or the permanent error; any other exception propagates."""
    try:
        _, pages = iter_pages(document, WHERE, limits=LIMITS, pdf_dpi=PDF_DPI)
        count = 0
        for page in pages:  # one page alive at a time, as processing holds them
            assert page.mode == "RGB"
            assert page.width * page.height <= LIMITS.max_page_pixels, f"page {page.size} is over the limit"
            count += 1
        return count
    except PermanentError as error:
        return error


@pytest.fixture(scope="module", autouse=True)
def decoders_loaded() -> None:
    # Loading PDFium, libtiff, libwebp and Pillow's plugins costs resident memory once;
    # reading each seed first keeps that out of the first case's measurement. Bounded
    # too: a hang on a valid seed must fail the run, not stall it.
    with bounded(seconds=CASE_SECONDS * len(SEEDS), peak_growth_bytes=LIBRARIES_GROWTH, what="loading the decoders"):
        for seed in SEEDS:
            read_every_page(seed.data)


def check(document: bytes, what: str) -> PermanentError | int:
    with bounded(seconds=CASE_SECONDS, peak_growth_bytes=PEAK_GROWTH, what=what):
        outcome = read_every_page(document)
    if isinstance(outcome, PermanentError):
        assert_named_permanent(type(outcome).__name__, str(outcome), f"s3://{WHERE.bucket}/{WHERE.key}")
    else:
        assert 1 <= outcome <= LIMITS.max_pages
    return outcome


@pytest.mark.parametrize("seed", SEEDS, ids=lambda seed: seed.name)
def test_every_seed_reads_as_its_pages(seed: Seed):
    # A seed that no longer decodes would leave its mutants testing only the refusal path.
    if seed.pages:
        assert check(seed.data, seed.name) == seed.pages
    else:
        assert type(check(seed.data, seed.name)).__name__ == "UnsupportedDocumentError"


@pytest.mark.parametrize("seed", SEEDS, ids=lambda seed: seed.name)
@fuzz_settings(max_examples=EXAMPLES_PER_SEED)
@given(data=st.data())
def test_every_mutant_ends_in_pages_or_a_named_permanent_error(seed: Seed, data: st.DataObject):
    document = data.draw(mutants(material_for(seed)), label="document")
    outcome = check(document, f"a mutant of {seed.name} ({len(document)} bytes)")
    # --hypothesis-show-statistics tallies these: how deep the mutants get, per seed.
    event(outcome_label(outcome))


def outcome_label(outcome: PermanentError | int) -> str:
    if not isinstance(outcome, PermanentError):
        return "decoded"
    if str(outcome).startswith("not a "):
        return "refused at type detection"
    return type(outcome).__name__


# 64 megapixels, 32 times the fuzz limit, in at most a few hundred kilobytes: refused
# before it is decoded.
BOMB = (8000, 8000)
BOMBS = {
    "png": lambda: encode([Image.new("1", BOMB, 1)], "PNG"),
    "jpeg": lambda: encode([Image.new("L", BOMB, 255)], "JPEG"),
    "tiff-g4": lambda: encode([Image.new("1", BOMB, 1)], "TIFF", compression="group4"),
    "webp": lambda: encode([Image.new("RGB", BOMB, "white")], "WEBP", lossless=True, method=0),
    "pdf": lambda: blank_pdf([(BOMB[0] * 72 / PDF_DPI, BOMB[1] * 72 / PDF_DPI)]),
}


@pytest.mark.parametrize("make", BOMBS.values(), ids=BOMBS.keys())
def test_a_decompression_bomb_is_refused_by_the_page_limit_within_the_bounds(make):
    refused = check(make(), "a decompression bomb")
    assert type(refused).__name__ == "PageTooLargeError"
    assert "OCR_MAX_PAGE_PIXELS" in str(refused)
