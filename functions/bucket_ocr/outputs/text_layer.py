"""The invisible, searchable text of a page, as pikepdf objects.

Every word is drawn in render mode 3 (neither filled nor stroked) in the glyphless
font, its baseline along the bottom edge of the word's box as read, its font size the
box's height and its horizontal scaling (``Tz``) chosen so the word spans the box: a
viewer then highlights the word where it is on the page, and extractors read the
characters through the font's ToUnicode CMap.

Character codes are two bytes, numbered per document in order of first use (1, 2, ...),
rather than UTF-16 code units: a code then always stands for one whole character, so a
character outside the Basic Multilingual Plane (an emoji, a CJK extension) extracts as
itself instead of as two lone surrogates.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pikepdf
from pikepdf import Array, ContentStreamInstruction, Dictionary, Name, Operator

from bucket_ocr.outputs import RenderError
from bucket_ocr.outputs.geometry import PageFrame, Point, word_corners
from bucket_ocr.outputs.glyphless import ADVANCE, ASCENT, DESCENT, GLYPHLESS_TTF, UNITS_PER_EM

INVISIBLE = 3  # text render mode: neither fill nor stroke
_GLYPH_WIDTH = ADVANCE / UNITS_PER_EM  # of the font size
_MAX_CODES = 0xFFFF  # two-byte codes; code 0 is left unused
# Below this a word or gap box is a rounding artefact, not something to scale a glyph to.
_MIN_EXTENT = 0.01
_MAX_BFCHARS = 100  # entries per beginbfchar block (PDF 32000-1, 9.10.3)


@dataclass
class CodeTable:
    """Two-byte codes for the characters of one document, in order of first use."""

    codes: dict[str, int] = field(default_factory=dict)

    def encode(self, text: str) -> bytes:
        out = bytearray()
        for char in text:
            code = self.codes.get(char)
            if code is None:
                if len(self.codes) >= _MAX_CODES:
                    raise RenderError(f"more than {_MAX_CODES} distinct characters in one document")
                code = self.codes[char] = len(self.codes) + 1
            out += code.to_bytes(2, "big")
        return bytes(out)

    def to_unicode_cmap(self) -> bytes:
        """The CMap that maps each code back to its character (PDF 32000-1, 9.10.3)."""
        entries = [f"<{code:04X}> <{char.encode('utf-16-be').hex().upper()}>" for char, code in self.codes.items()]
        blocks = []
        for start in range(0, len(entries), _MAX_BFCHARS):
            chunk = entries[start : start + _MAX_BFCHARS]
            blocks.append(f"{len(chunk)} beginbfchar\n" + "\n".join(chunk) + "\nendbfchar")
        # A CMap is a PostScript program, not PDF syntax: pikepdf has no builder for it,
        # and this is the fixed frame every ToUnicode CMap carries.
        return "\n".join(
            [
                "/CIDInit /ProcSet findresource begin",
                "12 dict begin",
                "begincmap",
                "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
                "/CMapName /Adobe-Identity-UCS def",
                "/CMapType 2 def",
                "1 begincodespacerange",
                "<0000> <FFFF>",
                "endcodespacerange",
                *blocks,
                "endcmap",
                "CMapName currentdict /CMap defineresource pop",
                "end",
                "end",
            ]
        ).encode("ascii")


def glyphless_font(pdf: pikepdf.Pdf, table: CodeTable) -> pikepdf.Object:
    """A Type0 font for ``pdf`` whose codes are ``table``'s; call once every page is encoded."""
    # Every code used, and none past it, draws the one glyph (GID 1).
    cid_to_gid = b"\x00\x00" + b"\x00\x01" * len(table.codes)
    descriptor = Dictionary(
        Type=Name.FontDescriptor,
        FontName=Name.GlyphLessFont,
        Flags=5,  # fixed pitch, symbolic
        FontBBox=Array([0, DESCENT, ADVANCE, ASCENT]),
        ItalicAngle=0,
        Ascent=ASCENT,
        Descent=DESCENT,
        CapHeight=ASCENT,
        StemV=80,
        FontFile2=pikepdf.Stream(pdf, GLYPHLESS_TTF),
    )
    descendant = Dictionary(
        Type=Name.Font,
        Subtype=Name.CIDFontType2,
        BaseFont=Name.GlyphLessFont,
        CIDSystemInfo=Dictionary(Registry=pikepdf.String("Adobe"), Ordering=pikepdf.String("Identity"), Supplement=0),
        FontDescriptor=pdf.make_indirect(descriptor),
        DW=ADVANCE,
        CIDToGIDMap=pikepdf.Stream(pdf, cid_to_gid),
    )
    font = Dictionary(
        Type=Name.Font,
        Subtype=Name.Type0,
        BaseFont=Name.GlyphLessFont,
        Encoding=Name("/Identity-H"),
        DescendantFonts=Array([pdf.make_indirect(descendant)]),
        ToUnicode=pikepdf.Stream(pdf, table.to_unicode_cmap()),
    )
    return pdf.make_indirect(font)


def page_instructions(
    page: Mapping[str, Any], frame: PageFrame, font: Name, table: CodeTable
) -> list[ContentStreamInstruction]:
    """The text layer of one result page, wrapped in q/Q so no state leaks either way."""
    rotation = int(page.get("rotation") or 0)
    body: list[ContentStreamInstruction] = []
    for line in page.get("lines", []):
        body.extend(_line(line, rotation, frame, font, table))
    if not body:
        return []
    return [instruction("q"), *body, instruction("Q")]


def _line(
    line: Mapping[str, Any], rotation: int, frame: PageFrame, font: Name, table: CodeTable
) -> Iterator[ContentStreamInstruction]:
    # A 1.0 result has no words: its line is then the smallest box there is.
    regions = line["words"] if line.get("words") is not None else [line]
    words = [_Placed.of(word, rotation, frame) for word in regions if word.get("text")]
    if not words:
        return
    yield instruction("BT")
    yield instruction("Tr", INVISIBLE)
    for word, following in zip(words, [*words[1:], None], strict=True):
        yield instruction("Tf", font, _num(word.size))
        yield instruction("Tm", *(_num(v) for v in word.matrix))
        yield instruction("Tz", _num(word.scaling(len(word.text))))
        yield instruction("Tj", pikepdf.String(table.encode(word.text)))
        if following is not None:
            # A real space between words, stretched over the gap to the next one: an
            # extractor then separates them however close they sit, and a phrase search
            # matches across them.
            gap = max(math.dist(word.end, following.start), _MIN_EXTENT)
            yield instruction("Tz", _num(100.0 * gap / (_GLYPH_WIDTH * word.size)))
            yield instruction("Tj", pikepdf.String(table.encode(" ")))
    yield instruction("ET")


@dataclass(frozen=True)
class _Placed:
    """A word in user space: its baseline from start to end, and its height."""

    text: str
    start: Point  # bottom-left as read
    end: Point  # bottom-right as read
    size: float  # the box's height, used as the font size

    @classmethod
    def of(cls, word: Mapping[str, Any], rotation: int, frame: PageFrame) -> _Placed:
        top_left, bottom_left, bottom_right = (frame.to_user(*p) for p in word_corners(word, rotation))
        return cls(
            text=word["text"],
            start=bottom_left,
            end=bottom_right,
            size=max(math.dist(bottom_left, top_left), _MIN_EXTENT),
        )

    @property
    def matrix(self) -> tuple[float, ...]:
        # A rotation (no shear) taking the text's x axis along the baseline: the word's
        # height is measured at right angles to it, as a glyph is drawn.
        length = math.dist(self.start, self.end)
        if length < _MIN_EXTENT:
            cos, sin = 1.0, 0.0
        else:
            cos, sin = (self.end[0] - self.start[0]) / length, (self.end[1] - self.start[1]) / length
        return cos, sin, -sin, cos, self.start[0], self.start[1]

    def scaling(self, chars: int) -> float:
        """Tz, in percent, that stretches ``chars`` glyphs over the baseline."""
        length = max(math.dist(self.start, self.end), _MIN_EXTENT)
        return 100.0 * length / (chars * _GLYPH_WIDTH * self.size)


def instruction(operator: str, *operands: pikepdf.Object | float) -> ContentStreamInstruction:
    """One content stream operator with its operands, e.g. ``instruction("Tz", 95.5)``."""
    return ContentStreamInstruction(list(operands), Operator(operator))


def _num(value: float) -> float:
    # Four decimals: a ten-thousandth of a point, far below anything a viewer shows, and
    # keeps the stream free of float noise.
    return round(float(value), 4)


def content_stream(instructions: Iterable[ContentStreamInstruction]) -> bytes:
    return pikepdf.unparse_content_stream(list(instructions))
