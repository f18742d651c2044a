"""Word boxes along a line and the detection pixel budget: plain geometry, no model."""

from __future__ import annotations

import math

import pytest

from bucket_ocr.engine.ocr_engine import det_limit_for
from bucket_ocr.engine.words import words_of_line

LEVEL = [(100.0, 50.0), (400.0, 50.0), (400.0, 80.0), (100.0, 80.0)]


def _paddlex_runs(text: str, spans: list[tuple[str, float, float]]) -> tuple[list[str], list[list[list[float]]]]:
    """PaddleX's text_word / text_word_region for a level line: runs with their x-ranges."""
    runs = [run for run, _, _ in spans]
    boxes = [[[start, 50.0], [end, 50.0], [end, 80.0], [start, 80.0]] for _, start, end in spans]
    assert "".join(runs) == text
    return runs, boxes


def test_words_are_split_on_whitespace_with_symbols_kept_and_placed_where_paddlex_saw_them():
    # Given PaddleX's runs for "Total: $9.50", which split off ": $" as symbols
    runs, boxes = _paddlex_runs("Total: $9.50", [("Total", 100, 160), (": $", 160, 200), ("9.50", 200, 250)])
    # When the words are made
    words = words_of_line("Total: $9.50", 0.9, LEVEL, runs, boxes)
    # Then they are what a reader calls words, in order, each from its own characters' columns
    assert [word.text for word in words] == ["Total:", "$9.50"]
    total, price = (word.bbox for word in words)
    assert total[0] == pytest.approx(100) and total[2] == pytest.approx(160 + 40 / 3)
    assert price[0] == pytest.approx(160 + 80 / 3) and price[2] == pytest.approx(250)
    assert all(word.confidence == 0.9 for word in words)


def test_word_boxes_follow_a_skewed_line():
    # Given a line slanted by 3 degrees and runs over its whole length
    slope = math.tan(math.radians(3))
    polygon = [(0.0, 0.0), (300.0, 300 * slope), (300.0, 30 + 300 * slope), (0.0, 30.0)]
    runs, boxes = _paddlex_runs("ab cd", [("ab", 0, 120), (" ", 120, 180), ("cd", 180, 300)])
    # When the words are made
    second = words_of_line("ab cd", 1.0, polygon, runs, boxes)[1]
    # Then the second word sits lower, on the slant, not on the line's top-left height
    assert second.polygon[0][1] == pytest.approx(180 * slope)
    assert second.polygon[1][1] == pytest.approx(300 * slope)
    # and its bottom edge follows the line's bottom edge the same way
    assert second.polygon[2][1] == pytest.approx(30 + 300 * slope)
    assert second.polygon[3][1] == pytest.approx(30 + 180 * slope)


def test_without_runs_words_are_placed_in_proportion_to_their_characters():
    words = words_of_line("aa bb", 0.5, LEVEL, None, None)
    assert [word.text for word in words] == ["aa", "bb"]
    assert words[0].bbox[0] == pytest.approx(100) and words[0].bbox[2] == pytest.approx(220)
    assert words[1].bbox[0] == pytest.approx(280) and words[1].bbox[2] == pytest.approx(400)


def test_runs_that_do_not_spell_the_line_are_not_trusted():
    runs, boxes = _paddlex_runs("xx yy", [("xx", 100, 110), (" ", 110, 120), ("yy", 120, 130)])
    words = words_of_line("aa bb", 0.5, LEVEL, runs, boxes)
    assert words[1].bbox[2] == pytest.approx(400)  # proportional, not the runs' 130


@pytest.mark.parametrize("size", [(1654, 2339), (2339, 1654), (1240, 1754)])
def test_a4_pages_get_the_configured_long_side_as_before(size):
    assert det_limit_for(*size, side_len=960) == pytest.approx(960, abs=2)


def test_a_till_receipt_keeps_its_text_legible_within_the_same_pixel_budget():
    # Given a 560x2950 receipt, which a long-side cap of 960 shrank 3x
    limit = det_limit_for(560, 2950, side_len=960)
    scale = limit / 2950
    # Then it is shrunk far less, and detection still sees no more pixels than an A4 page
    assert scale > 0.6
    assert (560 * scale) * limit <= 960 * 960 * 210 / 297 + 1


def test_a_page_inside_the_budget_is_not_resized():
    assert det_limit_for(800, 600, side_len=960) == 800
