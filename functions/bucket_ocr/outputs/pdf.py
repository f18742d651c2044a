"""Searchable PDFs: the source with an invisible text layer over each page.

A PDF source keeps its pages as they are (content streams, images and fonts copied
unchanged; streams are not decoded or recompressed) and gains one content stream per
page. An image source becomes a PDF of its pages, each image embedded once: a JPEG as
its own bytes, a PNG as its own compressed pixels where PDF can take them, anything else
losslessly.
"""

from __future__ import annotations

import io
import struct
import warnings
import zlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pikepdf
from pikepdf import Array, Dictionary, Name
from PIL import Image, ImageOps, ImageSequence

from bucket_ocr.imaging import opaque_rgb
from bucket_ocr.outputs.geometry import POINTS_PER_INCH, PageFrame, points_per_pixel, visible_box
from bucket_ocr.outputs.text_layer import CodeTable, content_stream, glyphless_font, instruction, page_instructions

# A result page, as the result document holds it (JSON).
Page = Mapping[str, Any]

# An image that states no resolution is laid out at one point per pixel: such images are
# mostly screenshots and web graphics, drawn for screens where a pixel is about a point,
# and it is what Pillow and most viewers assume; a scan nearly always states its dpi.
DEFAULT_IMAGE_DPI = 72.0

_EXIF_ORIENTATION = 0x0112
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def searchable_pdf(result: Mapping[str, Any], source: bytes, is_pdf: bool) -> bytes:
    pages = result.get("pages") or []
    if is_pdf:
        return _overlay(pages, source)
    return _from_images(pages, source)


def _overlay(pages: list[Page], source: bytes) -> bytes:
    with pikepdf.open(io.BytesIO(source)) as pdf:
        _check_count(len(pdf.pages), pages)
        table, font = CodeTable(), Name.random(prefix="OCR")
        layers = []
        for pdf_page, page in zip(pdf.pages, pages, strict=True):
            box = visible_box(list(pdf_page.mediabox), list(pdf_page.cropbox))
            rotate = pdf_page.rotation
            size = (box[2] - box[0], box[3] - box[1])
            displayed = size if rotate in (0, 180) else size[::-1]
            frame = PageFrame(box, rotate, points_per_pixel(page, displayed))
            layers.append(page_instructions(page, frame, font, table))
        font_object = glyphless_font(pdf, table)
        for pdf_page, layer in zip(pdf.pages, layers, strict=True):
            if not layer:
                continue
            # A page may take /Resources from the page tree, which a /Resources of its own
            # would hide; qpdf pushes inherited ones down onto each page as it lists them,
            # so the font joins them (test_inherited_resources_and_rotation_are_kept).
            pdf_page.add_resource(font_object, Name.Font, font, replace_existing=False)
            # The page's own content in q/Q, so a transformation or clip it leaves set
            # does not move or hide ours; its streams themselves stay as they are.
            pdf_page.contents_add(_flate(pdf, content_stream([instruction("q")])), prepend=True)
            # Readers join a page's streams as they come; the newline keeps our first
            # token apart from whatever the page's last stream ends with.
            pdf_page.contents_add(_flate(pdf, b"\n" + content_stream([instruction("Q"), *layer])))
        return _saved(pdf)


def _from_images(pages: list[Page], source: bytes) -> bytes:
    pdf = pikepdf.new()
    table, font = CodeTable(), Name.random(prefix="OCR")
    layers = []
    for image_xobject, page in zip(_embedded_images(pdf, source, pages), pages, strict=True):
        stream, draw = image_xobject
        dpi = page.get("dpi") or [DEFAULT_IMAGE_DPI, DEFAULT_IMAGE_DPI]
        scale = (POINTS_PER_INCH / float(dpi[0]), POINTS_PER_INCH / float(dpi[1]))
        width, height = page["width"] * scale[0], page["height"] * scale[1]
        frame = PageFrame((0.0, 0.0, width, height), 0, scale)
        pdf.add_blank_page(page_size=(width, height))
        pdf_page = pdf.pages[-1]
        image_name = pdf_page.add_resource(stream, Name.XObject, prefix="Im")
        picture = [
            instruction("q"),
            instruction("cm", *draw(width, height)),
            instruction("Do", image_name),
            instruction("Q"),
        ]
        pdf_page.obj.Contents = _flate(pdf, content_stream(picture))
        layers.append((pdf_page, page_instructions(page, frame, font, table)))
    font_object = glyphless_font(pdf, table)
    for pdf_page, layer in layers:
        if layer:
            pdf_page.add_resource(font_object, Name.Font, font, replace_existing=False)
            pdf_page.contents_add(_flate(pdf, content_stream(layer)))
    return _saved(pdf)


# An embedded image, and how to draw it: (page width, page height) -> the cm operands.
Placed = tuple[pikepdf.Stream, Callable[[float, float], tuple[float, ...]]]


def _embedded_images(pdf: pikepdf.Pdf, source: bytes, pages: list[Page]) -> Iterator[Placed]:
    with warnings.catch_warnings():
        # As when the pages were decoded: the pixel limit was checked there, by our rules.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        image = Image.open(io.BytesIO(source))
        frames = getattr(image, "n_frames", 1)
    _check_count(frames, pages)
    if image.format == "JPEG" and frames == 1 and image.mode in ("L", "RGB", "CMYK"):
        yield _jpeg(pdf, source, image)
        return
    if image.format == "PNG" and frames == 1:
        passed = _png(pdf, source, image)
        if passed is not None:
            yield passed
            return
    for frame in ImageSequence.Iterator(image):
        yield _lossless(pdf, frame)


def _jpeg(pdf: pikepdf.Pdf, source: bytes, image: Image.Image) -> Placed:
    stream = pikepdf.Stream(pdf, source)  # the file's own bytes: no decoding, no loss
    stream.Type, stream.Subtype = Name.XObject, Name.Image
    stream.Width, stream.Height = image.size
    stream.ColorSpace = {"L": Name.DeviceGray, "RGB": Name.DeviceRGB, "CMYK": Name.DeviceCMYK}[image.mode]
    stream.BitsPerComponent = 8
    stream.Filter = Name.DCTDecode
    if image.mode == "CMYK" and "adobe" in image.info:
        # Photoshop writes CMYK JPEGs inverted and says so in its APP14 marker, which PDF
        # readers do not look at; the Decode array inverts them back.
        stream.Decode = Array([1, 0] * 4)
    # The page was read with the EXIF orientation applied; the bytes are drawn turned
    # the same way instead of being re-encoded turned.
    orientation = image.getexif().get(_EXIF_ORIENTATION, 1)
    return stream, lambda width, height: _oriented(orientation, width, height)


def _png(pdf: pikepdf.Pdf, source: bytes, image: Image.Image) -> Placed | None:
    """The PNG's own compressed pixels, or None when they are not what the engine read.

    PDF's Flate filter with PNG predictors (Predictor 15) reads a PNG's image data as
    it is, so an ordinary PNG needs neither decoding nor compressing again (img2pdf does
    the same): on an A4 page at 300 dpi that is most of the PDF's cost. Not for what PDF
    cannot draw that way, or what the engine saw otherwise: transparency (read as white
    paper), interlacing, 16 bits a sample (Pillow reads them as 8), an EXIF turn.
    """
    chunks = _png_chunks(source)
    # An eXIf chunk may turn the page; reading it means decoding the whole image (it
    # may follow the pixels), so such a PNG, a rare one, takes the decoding path.
    if chunks is None or len(chunks.get(b"IHDR", [])) != 1 or b"eXIf" in chunks or "transparency" in image.info:
        return None
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunks[b"IHDR"][0][:13])
    components = {0: 1, 2: 3, 3: 1}.get(colour)  # grey, RGB, palette; the rest carry alpha
    if components is None or interlace or depth > 8 or (width, height) != image.size:
        return None
    stream = pikepdf.Stream(pdf, b"".join(chunks.get(b"IDAT", [])))
    stream.Type, stream.Subtype = Name.XObject, Name.Image
    stream.Width, stream.Height, stream.BitsPerComponent = width, height, depth
    stream.Filter = Name.FlateDecode
    stream.DecodeParms = Dictionary(Predictor=15, Colors=components, BitsPerComponent=depth, Columns=width)
    if colour == 3:
        palette = b"".join(chunks.get(b"PLTE", []))
        if not palette or len(palette) % 3:
            return None
        stream.ColorSpace = Array([Name.Indexed, Name.DeviceRGB, len(palette) // 3 - 1, pikepdf.String(palette)])
    else:
        stream.ColorSpace = Name.DeviceGray if colour == 0 else Name.DeviceRGB
    return stream, lambda width, height: (width, 0, 0, height, 0, 0)


def _png_chunks(data: bytes) -> dict[bytes, list[bytes]] | None:
    """A PNG's chunks by type, in order; None if its structure does not hold together."""
    chunks: dict[bytes, list[bytes]] = {}
    position = len(_PNG_SIGNATURE)
    while position + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        end = position + 8 + length + 4  # data, then its CRC
        if end > len(data):
            return None
        chunks.setdefault(kind, []).append(data[position + 8 : position + 8 + length])
        position = end
        if kind == b"IEND":
            return chunks
    return None


def _lossless(pdf: pikepdf.Pdf, frame: Image.Image) -> Placed:
    # The page as the engine read it: EXIF orientation applied, transparency on white.
    upright = ImageOps.exif_transpose(frame)
    if upright.mode not in ("1", "L") or "transparency" in upright.info:
        upright = opaque_rgb(upright)
    # Bilevel and grey scans stay one and eight bits a pixel: a fax-like TIFF page as
    # RGB would be 24 times the data to compress.
    space, bits = {"1": (Name.DeviceGray, 1), "L": (Name.DeviceGray, 8), "RGB": (Name.DeviceRGB, 8)}[upright.mode]
    stream = _flate(pdf, upright.tobytes())
    stream.Type, stream.Subtype = Name.XObject, Name.Image
    stream.Width, stream.Height = upright.size
    stream.ColorSpace, stream.BitsPerComponent = space, bits
    return stream, lambda width, height: (width, 0, 0, height, 0, 0)


# Where each EXIF orientation sends a point (s, t) of the stored image (0-1, y down) on
# the upright page (0-1, y down); Pillow's exif_transpose does the same to the pixels.
_ORIENT: dict[int, Callable[[float, float], tuple[float, float]]] = {
    1: lambda s, t: (s, t),
    2: lambda s, t: (1 - s, t),
    3: lambda s, t: (1 - s, 1 - t),
    4: lambda s, t: (s, 1 - t),
    5: lambda s, t: (t, s),
    6: lambda s, t: (1 - t, s),
    7: lambda s, t: (1 - t, 1 - s),
    8: lambda s, t: (t, 1 - s),
}


def _oriented(orientation: int, width: float, height: float) -> tuple[float, ...]:
    """The ``cm`` operands that draw the stored image upright over a width x height page."""
    turn = _ORIENT.get(orientation, _ORIENT[1])

    def place(a: float, b: float) -> tuple[float, float]:
        # Image space (a, b) runs right and up from the image's lower-left corner, whose
        # top row is the stored image's first row.
        s, t = turn(a, 1 - b)
        return s * width, (1 - t) * height

    ex, ey = place(0, 0)
    ax, ay = place(1, 0)
    bx, by = place(0, 1)
    return ax - ex, ay - ey, bx - ex, by - ey, ex, ey


def _check_count(count: int, pages: list[Page]) -> None:
    if count != len(pages):
        raise ValueError(f"the source has {count} pages but the result {len(pages)}")


def _flate(pdf: pikepdf.Pdf, data: bytes) -> pikepdf.Stream:
    # Compressed here, because saving compresses nothing: see _saved.
    stream = pikepdf.Stream(pdf, zlib.compress(data, 6))
    stream.Filter = Name.FlateDecode
    return stream


def _saved(pdf: pikepdf.Pdf) -> bytes:
    out = io.BytesIO()
    if pdf.is_encrypted:
        # A source that opened without a password may still be encrypted, its owner's
        # permissions (no copying, no printing, ...) with it: the copy keeps them. qpdf
        # then chooses how streams are written (it re-encrypts them): Flate and image
        # data stay as they are, an uncompressed content stream gets compressed. (qpdf
        # makes no deterministic /ID for an encrypted file.)
        pdf.save(out, encryption=True)
        return out.getvalue()
    # No stream is decoded, recompressed or compressed on the way out: the source's
    # images and content streams (even uncompressed ones) keep their bytes, filters and
    # all; the streams added here are compressed when they are made.
    pdf.save(out, stream_decode_level=pikepdf.StreamDecodeLevel.none, compress_streams=False, deterministic_id=True)
    return out.getvalue()
