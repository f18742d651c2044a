"""Pages decoded one at a time, so memory follows the largest page, not the page count."""

from __future__ import annotations

import contextlib
import io
import math
import warnings
from collections.abc import Iterator
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
from bucket_ocr.events.records import ObjectRef
from bucket_ocr.imaging import opaque_rgb
from bucket_ocr.settings import Limits

_POINTS_PER_INCH = 72
_PDFIUM_PASSWORD_ERROR = 4  # FPDF_ERR_PASSWORD
_EXIF_ORIENTATION = 0x0112
_AXES_SWAPPED = {5, 6, 7, 8}  # EXIF orientations that turn the page a quarter
# TIFF tags, which EXIF shares; a missing unit means inches in both.
_X_RESOLUTION, _Y_RESOLUTION, _RESOLUTION_UNIT = 0x011A, 0x011B, 0x0128
_PER_INCH = {2: 1.0, 3: 2.54}  # ResolutionUnit inch, centimetre; 1 means no absolute unit
_JFIF_ABSOLUTE_UNITS = {1, 2}  # dots per inch, per cm (Pillow converts both); 0 is an aspect ratio


def iter_pages(
    data: bytes, where: ObjectRef, *, limits: Limits, pdf_dpi: int
) -> tuple[DocumentType, Iterator[Image.Image]]:
    """The type, and a lazy iterator of RGB pages in document order.

    A page's ``info["dpi"]`` is its (x, y) resolution in dots per inch where the document
    states one, and absent where it does not.

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
    dpi = _stated_dpi(frame)
    orientation = frame.getexif().get(_EXIF_ORIENTATION, 1)
    # exif_transpose and convert each return a full copy even when there is nothing to
    # do (~10 MB for an A4 page at 200 DPI); skip them then. The frame of a multi-page
    # file is reused by the next seek, so those pages are always copied.
    if orientation != 1:
        frame = ImageOps.exif_transpose(frame)
        if dpi and orientation in _AXES_SWAPPED:
            dpi = (dpi[1], dpi[0])
    elif not single:
        frame = frame.copy()
    page = opaque_rgb(frame)
    page.load()
    _set_dpi(page, dpi)
    return page


def _stated_dpi(frame: Image.Image) -> tuple[float, float] | None:
    """The resolution the file states in absolute units, in dots per inch."""
    if frame.format in ("PNG", "BMP") or frame.info.get("jfif_unit") in _JFIF_ABSOLUTE_UNITS:
        # Pillow sets these only from a pHYs chunk in metres, a BMP header's non-zero
        # pixels per metre, or a JFIF density in inches or cm.
        dpi = frame.info.get("dpi")
    else:
        # Pillow's own reading of TIFF and EXIF tags would make up figures: 1 dpi for a
        # TIFF without resolution tags, 72 for an EXIF block without them.
        dpi = _tagged_dpi(getattr(frame, "tag_v2", None) or frame.getexif())
    if not dpi:
        return None
    x, y = (float(value) for value in dpi)  # TIFF rationals, whose 0 denominator reads as nan
    return (x, y) if all(math.isfinite(v) and v > 0 for v in (x, y)) else None


def _tagged_dpi(tags: Any) -> tuple[float, float] | None:
    per_inch = _PER_INCH.get(tags.get(_RESOLUTION_UNIT, 2))
    x, y = tags.get(_X_RESOLUTION), tags.get(_Y_RESOLUTION)
    if per_inch is None or x is None or y is None:
        return None
    try:
        return float(x) * per_inch, float(y) * per_inch
    except (TypeError, ValueError):  # a tag of the wrong type says nothing usable
        return None


def _set_dpi(page: Image.Image, dpi: tuple[float, float] | None) -> None:
    # A page may be the decoded frame itself, whose info still holds Pillow's reading.
    if dpi is None:
        page.info.pop("dpi", None)
    else:
        page.info["dpi"] = dpi


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
        _set_dpi(image, (float(dpi), float(dpi)))
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
                rendered: Image.Image = bitmap.to_pil()
                return rendered.convert("RGB")
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
