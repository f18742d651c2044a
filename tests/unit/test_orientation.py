"""engine/orientation.py: turning a page upright and mapping what is read back onto it."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from bucket_ocr.engine import EngineLoadError, orientation
from bucket_ocr.engine.orientation import (
    ROTATIONS,
    Orientation,
    PageOrienter,
    UnknownRotationError,
    _crop_origins,
    _crops,
    to_stored,
    upright,
)
from bucket_ocr.models import MANIFEST_NAME, read_manifest

STORED_W, STORED_H = 7, 4  # small and not square, so a swapped axis cannot pass


def _turned_clockwise(image: Image.Image, degrees: int) -> Image.Image:
    """A page as a scanner would store it after a clockwise turn (PIL rotates counter-clockwise)."""
    return image.rotate(-degrees, expand=True)


def _marked(width: int, height: int, x: int, y: int) -> Image.Image:
    image = Image.new("L", (width, height), 0)
    image.putpixel((x, y), 255)
    return image


def _the_mark(image: Image.Image) -> tuple[int, int]:
    (ys, xs) = np.nonzero(np.asarray(image))
    assert len(xs) == 1
    return int(xs[0]), int(ys[0])


@pytest.mark.parametrize("rotation", ROTATIONS)
def test_upright_undoes_a_clockwise_turn_pixel_for_pixel(rotation: int) -> None:
    # given an upright page and the same page stored turned clockwise by `rotation`
    page = Image.fromarray(np.arange(STORED_W * STORED_H, dtype=np.uint8).reshape(STORED_H, STORED_W))
    stored = _turned_clockwise(page, rotation)
    # when it is turned upright
    restored = upright(stored, rotation)
    # then it is the original, and the same as PIL's counter-clockwise rotate with expand
    assert np.array_equal(np.asarray(restored), np.asarray(page))
    assert np.array_equal(np.asarray(restored), np.asarray(stored.rotate(rotation, expand=True)))


@pytest.mark.parametrize(
    ("rotation", "expected"),
    [
        # upright corners TL, TR, BR, BL on a stored page 7 wide and 4 high
        (0, [(0, 0), (7, 0), (7, 4), (0, 4)]),
        (90, [(7, 0), (7, 4), (0, 4), (0, 0)]),  # upright top-left is the stored top-right
        (180, [(7, 4), (0, 4), (0, 0), (7, 0)]),
        (270, [(0, 4), (0, 0), (7, 0), (7, 4)]),
    ],
)
def test_upright_corners_map_onto_the_stored_corners(rotation: int, expected: list[tuple[int, int]]) -> None:
    # given the stored page's size and the upright image's size (swapped at 90 and 270)
    uw, uh = (STORED_H, STORED_W) if rotation in (90, 270) else (STORED_W, STORED_H)
    corners = [(0, 0), (uw, 0), (uw, uh), (0, uh)]
    # when the upright image's corners are mapped back
    # then each lands exactly on a corner of the stored page
    assert to_stored(corners, rotation, STORED_W, STORED_H) == [(float(x), float(y)) for x, y in expected]


@pytest.mark.parametrize("rotation", ROTATIONS)
@pytest.mark.parametrize(("x", "y"), [(0, 0), (6, 0), (2, 3), (5, 1)])
def test_a_pixel_read_upright_maps_to_the_same_pixel_stored(rotation: int, x: int, y: int) -> None:
    # given a stored page with one marked pixel, and that page turned upright
    stored = _marked(STORED_W, STORED_H, x, y)
    seen_at = _the_mark(upright(stored, rotation))
    # when the centre of the mark as seen upright is mapped back
    ((sx, sy),) = to_stored([(seen_at[0] + 0.5, seen_at[1] + 0.5)], rotation, STORED_W, STORED_H)
    # then it is the centre of the marked pixel as stored
    assert (sx, sy) == (x + 0.5, y + 0.5)


@pytest.mark.parametrize("rotation", ROTATIONS)
def test_to_stored_round_trips_with_the_inverse_turn(rotation: int) -> None:
    points = [(0.0, 0.0), (1.25, 3.5), (4.0, 2.0)]
    uw, uh = (STORED_H, STORED_W) if rotation in (90, 270) else (STORED_W, STORED_H)
    stored_points = to_stored(points, rotation, STORED_W, STORED_H)
    # a turned page moves its points (an identity mapping would round-trip too)
    assert (stored_points != points) == (rotation != 0)
    # turning the stored page back the other way is mapping with the opposite rotation
    back = to_stored(stored_points, (360 - rotation) % 360, uw, uh)
    assert back == points


@pytest.mark.parametrize("rotation", [45, -90, 360, 1])
def test_other_rotations_are_refused(rotation: int) -> None:
    with pytest.raises(UnknownRotationError):
        upright(Image.new("L", (2, 2)), rotation)
    with pytest.raises(UnknownRotationError):
        to_stored([(0, 0)], rotation, 2, 2)


@pytest.mark.parametrize(
    ("size", "count"),
    [((384, 543), 3), ((543, 384), 3), ((384, 384), 2), ((224, 300), 2), ((384, 3072), 3), ((224, 224), 1)],
)
def test_crops_cover_the_long_side_end_to_end(size: tuple[int, int], count: int) -> None:
    width, height = size
    origins = _crop_origins(width, height)
    assert len(origins) == count
    along = [top if height >= width else left for top, left in origins]
    long_side = max(width, height)
    # from one end to the other, every crop inside the image
    assert min(along) == 0 or count == 1
    assert max(along) + 224 == long_side or count == 1
    assert all(0 <= top <= height - 224 and 0 <= left <= width - 224 for top, left in origins)


def test_blank_crops_are_left_out_of_the_vote() -> None:
    # given a page with text-like ink only in its top quarter
    page = Image.new("RGB", (1240, 1754), "white")
    ink = np.asarray(page).copy()
    ink[100:400:20, 100:1100] = 0
    batch, inked = _crops(Image.fromarray(ink))
    # then the model sees float32 crops in its layout, and only the top one counts
    assert batch.dtype == np.float32 and batch.shape == (3, 3, 224, 224)
    assert inked.tolist() == [True, False, False]


def _old_manifest_bundle(tmp_path: Path) -> Path:
    bundle = tmp_path / "old"
    bundle.mkdir()
    raw = {
        "bundle": "old",
        "engine": "onnxruntime",
        "det": {"name": "PP-OCRv6_small_det", "dir": "det"},
        "rec": {"name": "PP-OCRv6_small_rec", "dir": "rec"},
        "source_distribution": "rapidocr",
        "source_version": "3.10.0",
        "character_count": 3,
        "files": {},
        "format_version": 1,
    }
    (bundle / MANIFEST_NAME).write_text(json.dumps(raw))
    return bundle


def test_a_bundle_built_before_the_classifier_loads_and_gives_no_orienter(tmp_path: Path) -> None:
    # given a manifest written before bundles carried the orientation classifier
    bundle = _old_manifest_bundle(tmp_path)
    # when it is read, then it loads, says so, and no orienter is made from it
    manifest = read_manifest(bundle)
    assert manifest.orientation is None
    assert PageOrienter.from_bundle(bundle, manifest) is None


def test_labels_other_than_the_four_turns_are_refused(tmp_path: Path) -> None:
    # (matched on the refusal's own words: tmp_path, named after this test, says "labels" too)
    with pytest.raises(EngineLoadError, match=r"has labels .* expected 0/90/180/270"):
        PageOrienter(tmp_path / "unused.onnx", ["0", "180"])
    with pytest.raises(EngineLoadError, match=r"has labels .* expected 0/90/180/270"):
        PageOrienter(tmp_path / "unused.onnx", ["up", "right", "down", "left"])


def test_a_missing_model_file_is_an_engine_load_error(tmp_path: Path) -> None:
    with pytest.raises(EngineLoadError, match="orientation model"):
        PageOrienter(tmp_path / "missing.onnx", ["0", "90", "180", "270"])


class _FixedSession:
    """Stands in for onnxruntime: the same probabilities for every crop."""

    def __init__(self, probabilities: list[float]):
        self._probabilities = np.array([probabilities], dtype=np.float32)

    def get_inputs(self):
        return [SimpleNamespace(name="x")]

    def run(self, _outputs, feeds):
        (batch,) = feeds.values()
        return [np.repeat(self._probabilities, len(batch), axis=0)]


def _orienter_answering(
    monkeypatch: pytest.MonkeyPatch, probabilities: list[float], labels=("0", "90", "180", "270")
) -> PageOrienter:
    monkeypatch.setattr(orientation, "_session", lambda _path: _FixedSession(probabilities))
    return PageOrienter(Path("unused.onnx"), labels)


def _text_page() -> Image.Image:
    pixels = np.full((1754, 1240), 255, dtype=np.uint8)
    pixels[200:1600:30, 150:1100] = 0
    return Image.fromarray(pixels)


def test_a_confident_answer_is_the_rotation_in_the_models_label_order(monkeypatch: pytest.MonkeyPatch) -> None:
    # labels in an order other than ROTATIONS': the index must go through them
    orienter = _orienter_answering(monkeypatch, [0.02, 0.9, 0.04, 0.04], labels=("0", "270", "180", "90"))
    assert orienter.classify(_text_page()) == Orientation(rotation=270, confidence=pytest.approx(0.9), predicted=270)


def test_an_unsure_answer_leaves_the_page_as_stored_but_reports_what_it_thought(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    orienter = _orienter_answering(monkeypatch, [0.3, 0.1, 0.55, 0.05])
    result = orienter.classify(_text_page())
    assert (result.rotation, result.predicted) == (0, 180)
    assert result.confidence == pytest.approx(0.55)
