"""The font the invisible text is set in: one glyph, a box 500/1000 em wide and 1 em high.

The idea is Tesseract's and OCRmyPDF's GlyphLessFont: text drawn in render mode 3 is
never painted, and the font only has to be a valid embedded TrueType program so that
viewers and extractors load it instead of substituting a system font (whose widths would
then disagree with ours). Every character code maps to the one glyph, and a ToUnicode
CMap (``text_layer``) says which character each code stands for.

Unlike theirs, the glyph is not empty but a box filling its advance and the em: never
painted either, it gives each character an extent across the baseline too. PDFium
measures a text object by its glyphs' boxes and drops one of no width, which a word
turned a quarter (on a page stored sideways) is when its glyphs are empty; and a
character's box is then the word's box, cut in equal parts, for highlighting.

The bytes are built by :func:`build` (fontTools, a test-time dependency only); a unit
test rebuilds them and checks they are these, so the constant never drifts from the code
that explains it.
"""

from __future__ import annotations

import base64

UNITS_PER_EM = 1000
ADVANCE = 500  # every glyph's width, in font units
ASCENT, DESCENT = 1000, 0  # a word's box then runs from its baseline up one font size

GLYPHLESS_TTF = base64.b64decode(
    "AAEAAAAKAIAAAwAgT1MvMkT/RUAAAAEoAAAAYGNtYXAADABzAAABkAAAADRnbHlmKOMxFAAAAcwAAAAYaGVh"
    "ZGEKRMgAAACsAAAANmhoZWEF3QH2AAAA5AAAACRobXR4AfQAAAAAAYgAAAAGbG9jYQAMAAAAAAHEAAAABm1h"
    "eHAABAAGAAABCAAAACBuYW1lGZ8ZNAAAAeQAAABycG9zdHB+A2IAAAJYAAAAKgABAAAAAQAA46rod18PPPUA"
    "AwPoAAAAAAAAAAAAAAAAAAAAAAAAAAAB9APoAAAAAwACAAAAAAAAAAEAAAPoAAAAAAH0AAAAAAH0AAEAAAAA"
    "AAAAAAAAAAAAAAABAAEAAAACAAQAAQAAAAAAAgAAAAAAAAAAAAAAAAAAAAAAAwH0AZAABQAEAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAABAAAAAAAAAAAAAAAAPz8/PwAAACAAIAPoAAAAAAPoAAAAAAAA"
    "AAAAAAAAAAAAAAAgAAAB9AAAAAAAAAAAAAIAAAADAAAAFAADAAEAAAAUAAQAIAAAAAQABAABAAAAIP//AAAA"
    "IP///+EAAQAAAAAAAAAAAAwAAAABAAAAAAH0A+gAAwAAMREhEQH0A+j8GAAAAAQANgABAAAAAAABAA0AAAAB"
    "AAAAAAACAAcADQADAAEECQABABoAFAADAAEECQACAA4ALkdseXBoTGVzc0ZvbnRSZWd1bGFyAEcAbAB5AHAA"
    "aABMAGUAcwBzAEYAbwBuAHQAUgBlAGcAdQBsAGEAcgAAAAIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAgAAAQIDYm94AAA="
)


def build() -> bytes:
    """The TrueType program above, from scratch; needs fontTools."""
    import io

    # fontTools ships no type information, and this runs in a unit test only.
    from fontTools.fontBuilder import FontBuilder  # type: ignore[import-untyped]
    from fontTools.pens.ttGlyphPen import TTGlyphPen  # type: ignore[import-untyped]

    builder = FontBuilder(UNITS_PER_EM, isTTF=True)
    builder.setupGlyphOrder([".notdef", "box"])
    builder.setupCharacterMap({0x20: "box"})
    pen = TTGlyphPen(None)
    pen.moveTo((0, DESCENT))
    pen.lineTo((0, ASCENT))
    pen.lineTo((ADVANCE, ASCENT))
    pen.lineTo((ADVANCE, DESCENT))
    pen.closePath()
    builder.setupGlyf({".notdef": TTGlyphPen(None).glyph(), "box": pen.glyph()})
    builder.setupHorizontalMetrics({".notdef": (ADVANCE, 0), "box": (ADVANCE, 0)})
    builder.setupHorizontalHeader(ascent=ASCENT, descent=DESCENT)
    builder.setupNameTable({"familyName": "GlyphLessFont", "styleName": "Regular"})
    builder.setupOS2(sTypoAscender=ASCENT, sTypoDescender=DESCENT, usWinAscent=ASCENT, usWinDescent=DESCENT)
    builder.setupPost()
    # Fixed timestamps, so the same code gives the same bytes on any day.
    builder.font["head"].created = builder.font["head"].modified = 0
    builder.font.recalcTimestamp = False
    out = io.BytesIO()
    builder.save(out)
    return out.getvalue()
