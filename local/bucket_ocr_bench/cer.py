"""Character error rate of recognised text against ground truth.

Both sides are NFC-normalised and every run of whitespace (line breaks included) becomes
one space, because engines disagree on line joins, not on characters. `without_spaces`
drops whitespace entirely, so an engine that merges or splits words is judged on its
characters alone. The rate is edits / ground-truth length, capped at 1.0.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class CharacterErrors:
    cer: float
    cer_without_spaces: float
    edits: int
    reference_chars: int


def normalise(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def character_errors(reference: str, hypothesis: str) -> CharacterErrors:
    ref, hyp = normalise(reference), normalise(hypothesis)
    edits = levenshtein(ref, hyp)
    ref_tight, hyp_tight = ref.replace(" ", ""), hyp.replace(" ", "")
    return CharacterErrors(
        cer=_rate(edits, len(ref), len(hyp)),
        cer_without_spaces=_rate(levenshtein(ref_tight, hyp_tight), len(ref_tight), len(hyp_tight)),
        edits=edits,
        reference_chars=len(ref),
    )


def _rate(edits: int, reference_length: int, hypothesis_length: int) -> float:
    if reference_length == 0:
        return 0.0 if hypothesis_length == 0 else 1.0
    return min(1.0, edits / reference_length)


def levenshtein(a: str, b: str) -> int:
    """Edit distance by Hyyrö's bit-parallel algorithm: one big-int step per char of `b`.

    A page has ~3,000 characters; the plain dynamic programme would take seconds in
    Python, this takes milliseconds.
    """
    if not a:
        return len(b)
    if not b:
        return len(a)
    all_ones = (1 << len(a)) - 1
    last = 1 << (len(a) - 1)
    positions: dict[str, int] = {}
    for index, char in enumerate(a):
        positions[char] = positions.get(char, 0) | (1 << index)
    vp, vn, score = all_ones, 0, len(a)
    for char in b:
        eq = positions.get(char, 0)
        d0 = ((((eq & vp) + vp) ^ vp) | eq | vn) & all_ones
        hp = vn | (~(d0 | vp) & all_ones)
        hn = vp & d0
        if hp & last:
            score += 1
        elif hn & last:
            score -= 1
        hp = ((hp << 1) | 1) & all_ones
        hn = (hn << 1) & all_ones
        vp = hn | (~(d0 | hp) & all_ones)
        vn = hp & d0
    return score
