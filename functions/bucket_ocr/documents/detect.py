"""The document type, from the bytes: extensions and Content-Type headers lie."""

from __future__ import annotations

import enum


class DocumentType(enum.Enum):
    PNG = "image/png"
    JPEG = "image/jpeg"
    TIFF = "image/tiff"
    BMP = "image/bmp"
    WEBP = "image/webp"
    PDF = "application/pdf"

    @property
    def content_type(self) -> str:
        return self.value


# PDF readers accept a header anywhere in the first KiB (some scanners prepend junk).
_PDF_HEADER_WINDOW = 1024


def detect_type(data: bytes) -> DocumentType | None:
    head = data[:16]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return DocumentType.PNG
    if head.startswith(b"\xff\xd8\xff"):
        return DocumentType.JPEG
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):  # classic and BigTIFF
        return DocumentType.TIFF
    if head.startswith(b"BM"):
        return DocumentType.BMP
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return DocumentType.WEBP
    if b"%PDF-" in data[:_PDF_HEADER_WINDOW]:
        return DocumentType.PDF
    return None
