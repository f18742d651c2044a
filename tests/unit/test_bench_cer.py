"""Character error rate: the benchmark's accuracy figure."""

from __future__ import annotations

import random

import pytest

from bucket_ocr_bench.cer import character_errors, levenshtein


def _reference_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)))
        previous = current
    return previous[-1]


def test_bit_parallel_distance_matches_the_textbook_dynamic_programme() -> None:
    # given many random pairs over a small alphabet with accents (collisions are frequent)
    rng = random.Random(5)
    for _ in range(2000):
        a = "".join(rng.choice("añé b") for _ in range(rng.randint(0, 25)))
        b = "".join(rng.choice("añé b") for _ in range(rng.randint(0, 25)))
        # then the fast distance is the exact one
        assert levenshtein(a, b) == _reference_distance(a, b), (a, b)


def test_line_breaks_and_space_runs_are_not_errors() -> None:
    errors = character_errors("Señor Núñez\npagó  el total", "Señor Núñez pagó el\ntotal")
    assert errors.cer == 0.0 and errors.cer_without_spaces == 0.0


def test_one_wrong_accent_in_ten_characters_is_ten_percent() -> None:
    errors = character_errors("canción ab", "cancion ab")
    assert errors.cer == pytest.approx(0.1)
    assert errors.edits == 1


def test_merged_words_count_only_with_spaces() -> None:
    # given an engine that loses the spaces between words
    errors = character_errors("total amount due", "totalamountdue")
    # then the spaced rate charges the two spaces and the spaceless one nothing
    assert errors.cer == pytest.approx(2 / 16)
    assert errors.cer_without_spaces == 0.0


def test_rate_is_capped_at_one_and_empty_cases_are_defined() -> None:
    assert character_errors("ab", "completely different and longer").cer == 1.0
    assert character_errors("", "").cer == 0.0
    assert character_errors("", "x").cer == 1.0
    assert character_errors("abc", "").cer == 1.0
