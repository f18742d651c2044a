"""A PDF 1.5 file with an object stream, a cross-reference stream and real text.

Neither pypdf nor pypdfium2 writes object or cross-reference streams, yet many PDFs in
the wild use them and PDFium parses them with code of its own; so this seed is written
by hand. Its one page shows text in a standard font, so the font and text paths of the
renderer are fuzzed too.
"""

from __future__ import annotations

import zlib

_IN_OBJECT_STREAM = {
    1: b"<< /Type /Catalog /Pages 2 0 R >>",
    2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 120 60] /Contents 5 0 R /Resources << /Font << /F1 4 0 R >> >> >>",
    4: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
}
_CONTENT, _OBJECT_STREAM, _XREF = 5, 6, 7


def _stream(number: int, dictionary: bytes, payload: bytes) -> bytes:
    packed = zlib.compress(payload)
    return (
        b"%d 0 obj\n<< %s /Filter /FlateDecode /Length %d >>\nstream\n" % (number, dictionary, len(packed))
        + packed
        + b"\nendstream\nendobj\n"
    )


def compact_pdf() -> bytes:
    out = bytearray(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    offsets[_CONTENT] = len(out)
    out += _stream(_CONTENT, b"", b"BT /F1 18 Tf 8 22 Td (Ab 12) Tj ET")
    header, body = b"", b""
    for number, text in _IN_OBJECT_STREAM.items():
        header += b"%d %d " % (number, len(body))
        body += text + b"\n"
    offsets[_OBJECT_STREAM] = len(out)
    out += _stream(
        _OBJECT_STREAM, b"/Type /ObjStm /N %d /First %d" % (len(_IN_OBJECT_STREAM), len(header)), header + body
    )
    offsets[_XREF] = len(out)
    # /W [1 4 2]: entry type, then the offset (type 1) or the object stream (type 2), then
    # the generation (type 1) or the index inside that stream (type 2).
    rows = [b"\x00" + bytes(4) + b"\xff\xff"]
    rows += [
        b"\x02" + _OBJECT_STREAM.to_bytes(4, "big") + index.to_bytes(2, "big")
        for index in range(len(_IN_OBJECT_STREAM))
    ]
    rows += [b"\x01" + offsets[number].to_bytes(4, "big") + bytes(2) for number in (_CONTENT, _OBJECT_STREAM, _XREF)]
    out += _stream(_XREF, b"/Type /XRef /Size %d /W [1 4 2] /Root 1 0 R" % (_XREF + 1), b"".join(rows))
    out += b"startxref\n%d\n%%%%EOF\n" % offsets[_XREF]
    return bytes(out)
