"""Pages decoded one at a time, so memory follows the largest page, not the page count."""

from __future__ import annotations

import contextlib
import io
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageOps, ImageSequence

from bucket_ocr.documents.decoder_failures import decoder_errors_named
from bucket_ocr.documents.detect import DocumentType, detect_type
from bucket_ocr.errors import (
    CorruptDocumentError,
    EncryptedDocumentError,
    PageTooLargeError,
    TooManyPagesError,
    UnsupportedDocumentError,
)
from bucket_ocr.imaging import opaque_rgb
from bucket_ocr.settings import Limits

_POINTS_PER_INCH = 72
_PDFIUM_PASSWORD_ERROR = 4  # FPDF_ERR_PASSWORD
_EXIF_ORIENTATION = 0x0112


@dataclass(frozen=True)
class ObjectRef:
    bucket: str
    key: str


def iter_pages(
    data: bytes, where: ObjectRef, *, limits: Limits, pdf_dpi: int
) -> tuple[DocumentType, Iterator[Image.Image]]:
    """The type, and a lazy iterator of RGB pages in document order.

    Limits are checked before a page is decoded, so an oversized page costs nothing.
    Whatever a decoder raises on the way, on any page, comes out as a named permanent
    error (see ``decoder_failures``).
    """
    doc_type = detect_type(data)
    if doc_type is None:
        raise UnsupportedDocumentError(
            f"not a PNG, JPEG, TIFF, BMP, WebP or PDF document (starts with {data[:8]!r})",
            bucket=where.bucket,
            key=where.key,
        )
    if doc_type is DocumentType.PDF:
        pages = _pdf_pages(data, where, limits, pdf_dpi)
    else:
        pages = _image_pages(data, where, limits)
    return doc_type, decoder_errors_named(pages, where)


def _image_pages(data: bytes, where: ObjectRef, limits: Limits) -> Iterator[Image.Image]:
    with warnings.catch_warnings():
        # Our own pixel limit decides; Pillow's bomb warning would only add noise.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        image = Image.open(io.BytesIO(data))
        frames = getattr(image, "n_frames", 1)
    _check_page_count(frames, where, limits)
    for index, frame in enumerate(ImageSequence.Iterator(image)):
        _check_pixels(frame.size, index, where, limits)
        yield _upright_rgb(frame, single=frames == 1)


def _upright_rgb(frame: Image.Image, *, single: bool) -> Image.Image:
    # exif_transpose and convert each return a full copy even when there is nothing to
    # do (~10 MB for an A4 page at 200 DPI); skip them then. The frame of a multi-page
    # file is reused by the next seek, so those pages are always copied.
    if frame.getexif().get(_EXIF_ORIENTATION, 1) != 1:
        frame = ImageOps.exif_transpose(frame)
    elif not single:
        frame = frame.copy()
    page = opaque_rgb(frame)
    page.load()
    return page


def _pdf_pages(data: bytes, where: ObjectRef, limits: Limits, dpi: int) -> Iterator[Image.Image]:
    # PDFium caches decoded images per open document and frees them only when it closes:
    # with one document open across a 20-page scan, RSS climbed ~20 MB a page. Opening
    # it anew for every page (parsing is cheap next to OCR) keeps memory flat.
    with _open_pdf(data, where) as pdf:
        count = len(pdf)
    _check_page_count(count, where, limits)
    for index in range(count):
        with _open_pdf(data, where) as pdf:
            image = _render_page(pdf, index, dpi / _POINTS_PER_INCH, where, limits)
        yield image


@contextlib.contextmanager
def _open_pdf(data: bytes, where: ObjectRef) -> Iterator[Any]:
    import pypdfium2  # PDFium is only loaded once a PDF arrives

    try:
        pdf = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError as cause:
        if getattr(cause, "err_code", None) == _PDFIUM_PASSWORD_ERROR:
            raise EncryptedDocumentError(
                "the PDF is password-protected; upload it without a password", bucket=where.bucket, key=where.key
            ) from cause
        raise CorruptDocumentError(f"cannot open PDF: {cause}", bucket=where.bucket, key=where.key) from cause
    try:
        yield pdf
    finally:
        pdf.close()


def _render_page(pdf: Any, index: int, scale: float, where: ObjectRef, limits: Limits) -> Image.Image:
    import pypdfium2

    try:
        page = pdf[index]
        try:
            width, height = page.get_size()
            _check_pixels((round(width * scale), round(height * scale)), index, where, limits)
            bitmap = page.render(scale=scale, may_draw_forms=True)
            try:
                return bitmap.to_pil().convert("RGB")
            finally:
                bitmap.close()  # PDFium's buffer goes at once, not whenever the GC runs
        finally:
            page.close()
    except pypdfium2.PdfiumError as cause:
        raise CorruptDocumentError(
            f"PDF page {index + 1} cannot be rendered: {cause}", bucket=where.bucket, key=where.key
        ) from cause


def _check_page_count(count: int, where: ObjectRef, limits: Limits) -> None:
    if count < 1:
        raise CorruptDocumentError("the document has no pages", bucket=where.bucket, key=where.key)
    if count > limits.max_pages:
        raise TooManyPagesError(
            f"{count} pages is over the limit of {limits.max_pages} (OCR_MAX_PAGES)",
            bucket=where.bucket,
            key=where.key,
        )


def _check_pixels(size: tuple[int, int], index: int, where: ObjectRef, limits: Limits) -> None:
    pixels = size[0] * size[1]
    if pixels > limits.max_page_pixels:
        raise PageTooLargeError(
            f"page {index + 1} is {size[0]}x{size[1]} = {pixels} pixels, over the limit of "
            f"{limits.max_page_pixels} (OCR_MAX_PAGE_PIXELS)",
            bucket=where.bucket,
            key=where.key,
        )
