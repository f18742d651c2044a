"""The page orientation classifier baked into the default bundle, on rendered text pages.

Needs the `built_models_dir` session fixture (tests/conftest.py).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from PIL import Image

from bucket_ocr.engine.orientation import MIN_CONFIDENCE, ROTATIONS, PageOrienter, upright
from bucket_ocr.models import DEFAULT_BUNDLE, read_manifest
from tests.support.pages import render_text_page

pytestmark = pytest.mark.functional

PROSE = (
    "The supplier shall deliver the goods listed in the annex to the address given in the "
    "order, within thirty days of its date, and shall invoice them once delivered. Payment "
    "is due within sixty days of the invoice. El proveedor entregará las mercancías en la "
    "dirección indicada en el pedido y las facturará una vez entregadas; el pago vence a los "
    "sesenta días de la factura. Any dispute shall be settled by the courts of Madrid. "
)


def _a4_page() -> Image.Image:
    lines = textwrap.wrap(PROSE * 6, width=80)
    return render_text_page(lines, dpi=150, font_size=11)


def _text_only_at_the_top() -> Image.Image:
    # A letter with a short body: the middle of the page, PaddleClas's single crop, is paper.
    return render_text_page(textwrap.wrap(PROSE, width=80)[:5], dpi=150, font_size=12)


def _narrow_receipt() -> Image.Image:
    lines = [f"{i:02d} coffee beans 250g   {i * 1.25:6.2f}" for i in range(60)] + ["TOTAL   95.00 EUR"]
    return render_text_page(lines, width=2.4, dpi=200, font_size=8, margin=0.15)


PAGES = {"a4": _a4_page, "top-only": _text_only_at_the_top, "receipt": _narrow_receipt}


def _stored(page: Image.Image, rotation: int) -> Image.Image:
    """The page as stored after being turned clockwise by `rotation` (PIL turns the other way)."""
    return page.rotate(-rotation, expand=True)


@pytest.fixture(scope="module")
def orienter(built_models_dir: Path) -> PageOrienter:
    bundle = built_models_dir / DEFAULT_BUNDLE
    built = PageOrienter.from_bundle(bundle, read_manifest(bundle))
    assert built is not None, "the default bundle carries no orientation classifier"
    return built


@pytest.mark.parametrize("rotation", ROTATIONS)
@pytest.mark.parametrize("kind", sorted(PAGES))
def test_a_turned_page_is_classified_by_how_far_it_was_turned(orienter: PageOrienter, kind: str, rotation: int) -> None:
    # given a text page stored turned clockwise by `rotation`
    stored = _stored(PAGES[kind](), rotation)
    # when it is classified
    result = orienter.classify(stored)
    # then the classifier is sure of the turn, and undoing it gives the page back upright
    assert (result.rotation, result.predicted) == (rotation, rotation), result
    assert result.confidence >= MIN_CONFIDENCE
    assert upright(stored, result.rotation).size == PAGES[kind]().size


@pytest.mark.parametrize("skew", [-3, 3])
@pytest.mark.parametrize("rotation", ROTATIONS)
def test_a_slightly_skewed_scan_is_still_classified_right(orienter: PageOrienter, skew: int, rotation: int) -> None:
    scan = _a4_page().rotate(skew, expand=True, fillcolor="white")
    assert orienter.classify(_stored(scan, rotation)).rotation == rotation


def test_a_page_without_text_is_left_as_stored(orienter: PageOrienter) -> None:
    result = orienter.classify(Image.new("RGB", (1240, 1754), "white"))
    assert result.rotation == 0 and result.confidence < MIN_CONFIDENCE
