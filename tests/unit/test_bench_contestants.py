"""The project's contestant reads through the engine's `read` when the engine has one."""

from __future__ import annotations

from types import SimpleNamespace

from bucket_ocr.engine.text_line import PageReading, TextLine
from bucket_ocr_bench.contestants import ProjectEngine

_BOX = [(0.0, 0.0), (10.0, 0.0), (10.0, 5.0), (0.0, 5.0)]
_LINES = [TextLine("first", 0.9, _BOX), TextLine("second", 0.9, _BOX)]


def test_an_engine_without_read_gives_no_turn_rather_than_a_right_one() -> None:
    engine = SimpleNamespace(recognize=lambda image: _LINES)
    assert ProjectEngine(engine).read(None) == ("first\nsecond", None, None)


def test_the_turn_and_orientation_seconds_come_from_the_page_reading() -> None:
    reading = PageReading(lines=_LINES, rotation=90, orientation_confidence=0.97, orientation_seconds=0.04)
    engine = SimpleNamespace(read=lambda image: reading, recognize=lambda image: [])
    assert ProjectEngine(engine).read(None) == ("first\nsecond", 90, 0.04)


def test_an_unclassified_page_counts_as_not_turned_with_no_orientation_time() -> None:
    engine = SimpleNamespace(read=lambda image: PageReading(lines=_LINES), recognize=lambda image: [])
    assert ProjectEngine(engine).read(None) == ("first\nsecond", 0, None)
