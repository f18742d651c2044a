"""Hypothesis strategies that turn a valid seed into a broken document.

One to three mutations in a row, each drawn from the kinds real hostile and damaged files
show: flipped bytes, a cut-off end, chunks dropped, doubled, moved or taken from another
file of the same format, garbage after an intact header, and a structural integer (a
length, a size, an offset) replaced by a value decoders trip over. PNG guards its chunks
with CRCs, which would stop most mutants at the first check, so about half of the PNG
mutants get their CRCs recomputed and reach the code behind them.
"""

from __future__ import annotations

import functools
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from hypothesis import strategies as st

from tests.fuzz.seeds import SEEDS, Seed
from tests.fuzz.structure import Field, Structure, structure_of

# Values that break size arithmetic: zero, one, sign and width boundaries.
_INTERESTING = (
    0,
    1,
    2,
    3,
    7,
    8,
    16,
    0x7F,
    0x80,
    0xFF,
    0x100,
    0x3FFF,
    0x4000,
    0x7FFF,
    0x8000,
    0xFFFF,
    0x10000,
    0x7FFFFFFF,
    0x80000000,
    0xFFFFFFFF,
)
_MAX_GARBAGE = 64


@dataclass(frozen=True)
class Material:
    """A seed with what the mutations aim at, and chunks of its siblings to splice in."""

    seed: Seed
    structure: Structure
    donors: list[bytes]


Draw = Callable[..., object]


def _past_header(draw: Draw, data: bytes, material: Material) -> int:
    """A position after the bytes that make the type detectable.

    Hypothesis favours small numbers; drawn from zero, most positions would break the
    signature, and those mutants all end at type detection, never reaching a decoder.
    """
    return draw(st.integers(min(material.structure.header, len(data) - 1), len(data) - 1))


def _flip(draw: Draw, data: bytes, material: Material) -> bytes:
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 8))):
        out[_past_header(draw, data, material)] ^= draw(st.integers(1, 255))
    return bytes(out)


def _truncate(draw: Draw, data: bytes, material: Material) -> bytes:
    return data[: _past_header(draw, data, material)]


def _garbage_after_header(draw: Draw, data: bytes, material: Material) -> bytes:
    keep = draw(st.integers(min(material.structure.header, len(data)), len(data)))
    resume = draw(st.integers(keep, len(data)))
    return data[:keep] + draw(st.binary(min_size=1, max_size=_MAX_GARBAGE)) + data[resume:]


def _splice(draw: Draw, data: bytes, material: Material) -> bytes:
    spans = [(start, end) for start, end in material.structure.spans if end <= len(data)]
    if not spans:
        start = draw(st.integers(0, len(data) - 1))
        spans = [(start, draw(st.integers(start + 1, len(data))))]
    start, end = draw(st.sampled_from(spans))
    chunk = data[start:end]
    rest = data[:start] + data[end:]
    how = draw(st.sampled_from(("drop", "double", "move", "foreign")))
    if how == "drop":
        return rest
    if how == "double":
        return data[:end] + chunk + data[end:]
    if how == "foreign" and material.donors:
        chunk = draw(st.sampled_from(material.donors))
        rest = data  # a chunk from another file goes in beside this one's own
    header = material.structure.header
    at = draw(
        st.sampled_from(sorted({min(header, len(rest)), len(rest), *(s for s, _ in spans if header <= s <= len(rest))}))
    )
    return rest[:at] + chunk + rest[at:]


def _corrupt_field(draw: Draw, data: bytes, material: Material) -> bytes:
    fields = [f for f in material.structure.fields if f.offset + f.size <= len(data)]
    if not fields:
        return _flip(draw, data, material)
    target: Field = draw(st.sampled_from(fields))
    old = data[target.offset : target.offset + target.size]
    if target.encoding == "ascii":
        number = int(old) if old.isdigit() else 0
        value = draw(st.sampled_from(_INTERESTING) | st.integers(max(0, number - 2), number + 2) | st.just(number * 10))
        return data[: target.offset] + str(value).encode() + data[target.offset + target.size :]
    limit = 1 << (8 * target.size)
    number = int.from_bytes(old, target.encoding)
    value = (
        draw(st.sampled_from(_INTERESTING) | st.integers(number - 2, number + 2) | st.integers(0, limit - 1)) % limit
    )
    return data[: target.offset] + value.to_bytes(target.size, target.encoding) + data[target.offset + target.size :]


MUTATIONS = (_flip, _truncate, _garbage_after_header, _splice, _corrupt_field)


def repair_png_crcs(data: bytes) -> bytes:
    """Every whole chunk with a correct CRC again, so Pillow reads what it carries."""
    out = bytearray(data)
    at = 8
    while at + 12 <= len(out):
        end = at + 8 + int.from_bytes(out[at : at + 4], "big")
        if end + 4 > len(out):
            break
        out[end : end + 4] = zlib.crc32(out[at + 4 : end]).to_bytes(4, "big")
        at = end + 4
    return bytes(out)


@st.composite
def mutants(draw: Draw, material: Material) -> bytes:
    data = material.seed.data
    for _ in range(draw(st.integers(1, 3))):
        if not data:
            break  # an empty document is its own case; nothing is left to mutate
        mutation = draw(st.sampled_from(MUTATIONS))
        data = mutation(draw, data, material)
    if data.startswith(b"\x89PNG") and draw(st.booleans()):
        data = repair_png_crcs(data)
    return data


@functools.cache  # once per seed, not once per example
def material_for(seed: Seed) -> Material:
    structure = structure_of(seed.data)
    # Siblings share the first bytes (the format's signature) and so the format.
    siblings = [other for other in SEEDS if other is not seed and other.data[:2] == seed.data[:2]]
    donors = [other.data[start:end] for other in siblings for start, end in structure_of(other.data).spans]
    return Material(seed, structure, donors)
