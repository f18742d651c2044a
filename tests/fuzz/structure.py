"""Where a seed keeps its length fields, sizes and chunks, so mutations can aim at them.

Random byte flips mostly land in compressed data and end at the first checksum or
decoder sanity check. The bugs worth finding sit behind the fields a decoder trusts: a
chunk length, a frame size, an offset to the next directory, a stream /Length. Each
parser here reads only the valid seeds it is given, once; mutations then apply what it
found to the mutated bytes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Field:
    offset: int
    size: int
    encoding: str  # "big" or "little" (binary integers), or "ascii" (a decimal number in a PDF)


@dataclass(frozen=True)
class Structure:
    header: int  # leading bytes that make the type detectable; garbage goes after them
    fields: list[Field] = field(default_factory=list)
    spans: list[tuple[int, int]] = field(default_factory=list)  # chunks, segments, objects


def structure_of(data: bytes) -> Structure:
    if data.startswith(b"\x89PNG"):
        return _png(data)
    if data.startswith(b"\xff\xd8"):
        return _jpeg(data)
    if data[:2] in (b"II", b"MM"):
        found = Structure(8)
        _tiff(data, 0, found)
        return found
    if data.startswith(b"RIFF"):
        found = Structure(12, [Field(4, 4, "little")])
        _riff_chunks(data, 12, len(data), found)
        return found
    if data.startswith(b"BM"):
        return Structure(14, [Field(offset, size, "little") for offset, size in _BMP_FIELDS])
    if data.startswith(b"%PDF"):
        return _pdf(data)
    return Structure(6)  # GIF: refused by type, so nothing inside it is worth aiming at


# (offset in the chunk's data, size) of the integers each PNG chunk type carries.
_PNG_CHUNK_FIELDS = {
    b"IHDR": ((0, 4), (4, 4), (8, 1), (9, 1), (10, 1), (11, 1), (12, 1)),
    b"acTL": ((0, 4), (4, 4)),
    b"fcTL": ((0, 4), (4, 4), (8, 4), (12, 4), (16, 4), (20, 2), (22, 2), (24, 1), (25, 1)),
    b"fdAT": ((0, 4),),
}


def _png(data: bytes) -> Structure:
    found = Structure(8)
    at = 8
    while at + 12 <= len(data):
        length = int.from_bytes(data[at : at + 4], "big")
        body = at + 8
        found.fields.append(Field(at, 4, "big"))
        found.fields.extend(
            Field(body + rel, size, "big") for rel, size in _PNG_CHUNK_FIELDS.get(data[at + 4 : body], ())
        )
        found.spans.append((at, body + length + 4))
        at = body + length + 4
    return found


_JPEG_STANDALONE = {0x01, 0xD8, 0xD9, *range(0xD0, 0xD8)}
_JPEG_FRAME_HEADERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _jpeg(data: bytes) -> Structure:
    found = Structure(3)  # the start-of-image marker and the next marker's 0xFF
    at = 0
    while at >= 0 and at + 4 <= len(data):
        marker = data[at + 1]
        if marker in _JPEG_STANDALONE:
            # After an image's end an MPO file holds the next image: go on from its start.
            at = data.find(b"\xff\xd8", at + 2) if marker == 0xD9 else at + 2
            continue
        end = at + 2 + int.from_bytes(data[at + 2 : at + 4], "big")
        found.fields.append(Field(at + 2, 2, "big"))
        if marker in _JPEG_FRAME_HEADERS:
            # precision, height, width, component count, then each component's sampling
            found.fields.extend(
                [Field(at + 4, 1, "big"), Field(at + 5, 2, "big"), Field(at + 7, 2, "big"), Field(at + 9, 1, "big")]
            )
            found.fields.extend(Field(at + 11 + 3 * index, 1, "big") for index in range(data[at + 9]))
        if marker == 0xE2 and data[at + 4 : at + 8] == b"MPF\x00":
            _tiff(data, at + 8, found)  # MPO's image index is a little TIFF directory
        if marker == 0xDA:
            end = _entropy_end(data, end)
        found.spans.append((at, end))
        at = end
    return found


def _entropy_end(data: bytes, at: int) -> int:
    """The next marker after scan data: 0xFF not followed by a stuffed zero or a restart."""
    while (at := data.find(b"\xff", at)) != -1 and at + 1 < len(data):
        if data[at + 1] != 0 and not 0xD0 <= data[at + 1] <= 0xD7:
            return at
        at += 2
    return len(data)


_TIFF_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8}
_OUT_OF_LINE_VALUES = 8  # enough of a strip-offset array to move strips around


def _tiff(data: bytes, base: int, found: Structure) -> None:
    order = "little" if data[base : base + 2] == b"II" else "big"

    def read(at: int, size: int) -> int:
        return int.from_bytes(data[at : at + size], order)

    found.fields.append(Field(base + 4, 4, order))
    ifd, seen = read(base + 4, 4), set()
    while ifd and base + ifd + 2 <= len(data) and ifd not in seen:
        seen.add(ifd)
        at = base + ifd
        count = read(at, 2)
        found.fields.append(Field(at, 2, order))
        for entry in range(at + 2, min(at + 2 + 12 * count, len(data) - 11), 12):
            value_size = _TIFF_TYPE_SIZES.get(read(entry + 2, 2), 4)
            values = read(entry + 4, 4)
            found.fields.extend([Field(entry + 2, 2, order), Field(entry + 4, 4, order)])
            if values * value_size <= 4:
                found.fields.append(Field(entry + 8, min(value_size, 4), order))
            else:
                found.fields.append(Field(entry + 8, 4, order))
                start = base + read(entry + 8, 4)
                if value_size in (2, 4):
                    found.fields.extend(
                        Field(start + value_size * index, value_size, order)
                        for index in range(min(values, _OUT_OF_LINE_VALUES))
                        if start + value_size * (index + 1) <= len(data)
                    )
        next_at = at + 2 + 12 * count
        found.fields.append(Field(next_at, 4, order))
        found.spans.append((at, next_at + 4))
        ifd = read(next_at, 4)


_RIFF_CHUNK_FIELDS = {
    b"VP8X": ((0, 1), (4, 3), (7, 3)),  # flags, canvas width - 1, canvas height - 1
    b"ANIM": ((0, 4), (4, 2)),
    b"ANMF": ((0, 3), (3, 3), (6, 3), (9, 3), (12, 3), (15, 1)),  # x, y, width, height, duration, flags
    b"VP8L": ((0, 1), (1, 4)),  # signature, then packed width, height and version bits
    b"VP8 ": ((0, 3), (3, 3), (6, 2), (8, 2)),  # frame tag, start code, width, height
    b"ALPH": ((0, 1),),
}
_ANIMATION_FRAME_HEADER = 16


def _riff_chunks(data: bytes, at: int, stop: int, found: Structure) -> None:
    while at + 8 <= stop:
        kind, size = data[at : at + 4], int.from_bytes(data[at + 4 : at + 8], "little")
        body, end = at + 8, at + 8 + size + (size & 1)
        found.fields.append(Field(at + 4, 4, "little"))
        found.fields.extend(Field(body + rel, width, "little") for rel, width in _RIFF_CHUNK_FIELDS.get(kind, ()))
        found.spans.append((at, end))
        if kind == b"ANMF":
            _riff_chunks(data, body + _ANIMATION_FRAME_HEADER, min(end, stop), found)
        at = end


# file size, pixel data offset, header size, width, height, planes, bits per pixel,
# compression, image size, colours used, important colours
_BMP_FIELDS = ((2, 4), (10, 4), (14, 4), (18, 4), (22, 4), (26, 2), (28, 2), (30, 4), (34, 4), (46, 4), (50, 4))

_PDF_NUMBERS = re.compile(
    rb"(?:/(?:Length|Width|Height|Count|BitsPerComponent|Size|N|First|Prev|Columns|K)\s+|startxref\s+)(\d+)"
    rb"|(\d+) 0 (?:R|obj)"  # object references and definitions
    rb"|(\d{10}) \d{5} [nf]"  # offsets in a classic cross-reference table
)
_PDF_BOXES = re.compile(rb"/MediaBox\s*\[([^\]]*)\]")
_PDF_OBJECTS = re.compile(rb"\d+ 0 obj.*?endobj", re.DOTALL)


def _pdf(data: bytes) -> Structure:
    found = Structure(9)
    for match in _PDF_NUMBERS.finditer(data):
        group = next(index for index in (1, 2, 3) if match.group(index) is not None)
        found.fields.append(Field(match.start(group), len(match.group(group)), "ascii"))
    for box in _PDF_BOXES.finditer(data):
        for number in re.finditer(rb"\d+", box.group(1)):
            found.fields.append(Field(box.start(1) + number.start(), len(number.group()), "ascii"))
    found.spans.extend(match.span() for match in _PDF_OBJECTS.finditer(data))
    return found
