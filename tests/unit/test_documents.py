"""Type detection from bytes and page-by-page decoding, including bad input."""

import io
import struct

import pytest
from PIL import Image, PngImagePlugin, TiffImagePlugin

from bucket_ocr.documents import DocumentType, detect_type, iter_pages
from bucket_ocr.errors import (
    CorruptDocumentError,
    EncryptedDocumentError,
    PageTooLargeError,
    TooManyPagesError,
    UnsupportedDocumentError,
)
from bucket_ocr.events.records import ObjectRef
from bucket_ocr.settings import Limits
from tests.support.documents import blank_pdf

WHERE = ObjectRef("in", "docs/scan.bin")


def encode(image, fmt, **options):
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def page(width=120, height=80, colour="white"):
    return Image.new("RGB", (width, height), colour)


def pages_of(data, limits=None, dpi=150):
    doc_type, pages = iter_pages(data, WHERE, limits=limits or Limits(), pdf_dpi=dpi)
    return doc_type, list(pages)


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("PNG", DocumentType.PNG),
        ("JPEG", DocumentType.JPEG),
        ("TIFF", DocumentType.TIFF),
        ("BMP", DocumentType.BMP),
        ("WEBP", DocumentType.WEBP),
        ("PDF", DocumentType.PDF),
    ],
)
def test_type_comes_from_the_bytes(fmt, expected):
    assert detect_type(encode(page(), fmt)) is expected


def test_pdf_header_after_leading_junk_is_still_a_pdf():
    assert detect_type(b"\r\n\x00junk" + blank_pdf([(200, 100)])) is DocumentType.PDF


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "BMP", "WEBP"])
def test_single_image_decodes_to_one_rgb_page(fmt):
    _, pages = pages_of(encode(page(64, 32), fmt))
    assert [p.size for p in pages] == [(64, 32)]
    assert pages[0].mode == "RGB"


def test_every_tiff_page_is_read():
    frames = [page(50, 40, "white"), page(60, 30, "black"), page(70, 20, "red")]
    data = encode(frames[0], "TIFF", save_all=True, append_images=frames[1:])
    doc_type, pages = pages_of(data)
    assert doc_type is DocumentType.TIFF
    assert [p.size for p in pages] == [(50, 40), (60, 30), (70, 20)]
    # each page keeps its own pixels after the file moved on to the next one
    assert [p.getpixel((0, 0)) for p in pages] == [(255, 255, 255), (0, 0, 0), (255, 0, 0)]


def test_transparent_image_is_read_as_white_paper():
    # given black text pixels on a fully transparent black background
    image = Image.new("RGBA", (40, 20), (0, 0, 0, 0))
    image.putpixel((5, 5), (0, 0, 0, 255))
    # when decoded, then the background is white and the ink stays black
    _, pages = pages_of(encode(image, "PNG"))
    assert pages[0].mode == "RGB"
    assert pages[0].getpixel((0, 0)) == (255, 255, 255)
    assert pages[0].getpixel((5, 5)) == (0, 0, 0)


def test_every_pdf_page_is_rendered_at_the_configured_dpi():
    # A4 in points, twice; 144 DPI doubles the point size
    data = blank_pdf([(595, 842), (842, 595)])
    doc_type, pages = pages_of(data, dpi=144)
    assert doc_type is DocumentType.PDF
    assert [p.size for p in pages] == [(1190, 1684), (1684, 1190)]
    assert [p.info["dpi"] for p in pages] == [(144, 144), (144, 144)]


# Resolution tags, shared by TIFF and EXIF.
X_RESOLUTION, Y_RESOLUTION, RESOLUTION_UNIT = 0x011A, 0x011B, 0x0128
INCH, CENTIMETRE, NO_UNIT = 2, 3, 1


def jfif(data, unit, x, y):
    """``data`` with its JFIF header's density rewritten (Pillow writes only inches)."""
    at = data.index(b"JFIF\x00") + 7  # past the identifier and the version
    return data[:at] + struct.pack(">BHH", unit, x, y) + data[at + 5 :]


def exif_with(**tags):
    exif = Image.Exif()
    for name, value in tags.items():
        exif[globals()[name.upper()]] = value
    return exif.tobytes()


def png_with_phys(x, y, unit):
    info = PngImagePlugin.PngInfo()
    info.add(b"pHYs", struct.pack(">IIB", x, y, unit))
    return encode(page(), "PNG", pnginfo=info)


def dpi_of(data):
    _, pages = pages_of(data)
    return [p.info.get("dpi") for p in pages]


def approx(*pages):
    return [pytest.approx(dpi, abs=0.01) if dpi else dpi for dpi in pages]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(encode(page(), "PNG", dpi=(300, 200)), (300, 200), id="png pHYs per metre"),
        pytest.param(png_with_phys(2, 1, 0), None, id="png pHYs aspect only"),
        pytest.param(encode(page(), "PNG"), None, id="png without pHYs"),
        pytest.param(encode(page(), "JPEG", dpi=(300, 200)), (300, 200), id="jpeg JFIF per inch"),
        pytest.param(jfif(encode(page(), "JPEG"), 2, 118, 79), (299.72, 200.66), id="jpeg JFIF per cm"),
        pytest.param(jfif(encode(page(), "JPEG"), 0, 2, 1), None, id="jpeg JFIF aspect only"),
        pytest.param(
            encode(page(), "JPEG", exif=exif_with(x_resolution=240, y_resolution=240, resolution_unit=INCH)),
            (240, 240),
            id="jpeg EXIF per inch",
        ),
        pytest.param(
            encode(page(), "JPEG", exif=exif_with(x_resolution=100, y_resolution=50, resolution_unit=CENTIMETRE)),
            (254, 127),
            id="jpeg EXIF per cm",
        ),
        pytest.param(
            encode(page(), "JPEG", exif=exif_with(x_resolution=300, y_resolution=300)),
            (300, 300),
            id="jpeg EXIF unit missing means inch",
        ),
        pytest.param(
            encode(page(), "JPEG", exif=exif_with(resolution_unit=INCH)), None, id="jpeg EXIF without resolution"
        ),
        pytest.param(encode(page(), "TIFF", dpi=(300, 200)), (300, 200), id="tiff per inch"),
        pytest.param(
            encode(page(), "TIFF", tiffinfo={X_RESOLUTION: 118.11, Y_RESOLUTION: 78.74, RESOLUTION_UNIT: CENTIMETRE}),
            (300, 200),
            id="tiff per cm",
        ),
        pytest.param(
            encode(page(), "TIFF", tiffinfo={X_RESOLUTION: 2, Y_RESOLUTION: 1, RESOLUTION_UNIT: NO_UNIT}),
            None,
            id="tiff without a unit",
        ),
        pytest.param(encode(page(), "TIFF"), None, id="tiff without resolution"),
        pytest.param(encode(page(), "BMP", dpi=(300, 200)), (300, 200), id="bmp"),
        pytest.param(encode(page(), "WEBP"), None, id="webp"),
    ],
)
def test_a_page_records_the_resolution_its_file_states(data, expected):
    assert dpi_of(data) == approx(expected)


def test_each_tiff_page_has_its_own_resolution():
    # Given a TIFF whose middle page states no resolution, between two that do
    buffer = io.BytesIO()
    with TiffImagePlugin.AppendingTiffWriter(buffer, new=True) as tiff:
        for options in ({"dpi": (300, 300)}, {}, {"dpi": (200, 100)}):
            page().save(tiff, "TIFF", **options)
            tiff.newFrame()
    # Then the middle page does not borrow its neighbour's
    assert dpi_of(buffer.getvalue()) == approx((300, 300), None, (200, 100))


def test_a_page_turned_a_quarter_by_exif_swaps_its_resolution():
    # Given a JPEG at 300 x 150 dpi tagged "rotate 90 CW to display"
    exif = exif_with(x_resolution=300, y_resolution=150, resolution_unit=INCH)
    tagged = Image.Exif()
    tagged.load(exif)
    tagged[0x0112] = 6
    data = encode(page(200, 100), "JPEG", exif=tagged.tobytes())
    # Then the upright page's x runs along the stored y
    assert dpi_of(data) == approx((150, 300))


def test_exif_orientation_is_honoured():
    # Given a landscape JPEG tagged "rotate 90 CW to display" (orientation 6)
    exif = Image.Exif()
    exif[0x0112] = 6
    data = encode(page(200, 100), "JPEG", exif=exif.tobytes())
    # Then the page comes out upright, i.e. portrait
    _, pages = pages_of(data)
    assert pages[0].size == (100, 200)


@pytest.mark.parametrize("fmt", ["TIFF", "PDF"])
def test_pages_are_decoded_lazily(fmt):
    # Given a document whose last page is over the pixel limit
    frames = [page(120, 80), page(120, 80), page(400, 400)]
    options = {"resolution": 150} if fmt == "PDF" else {}
    data = encode(frames[0], fmt, save_all=True, append_images=frames[1:], **options)
    # When its pages are asked for one by one
    _, pages = iter_pages(data, WHERE, limits=Limits(max_page_pixels=200 * 200), pdf_dpi=150)
    # Then the first two come out before the last is looked at: nothing is decoded ahead
    assert [next(pages).width, next(pages).width] == [120, 120]
    with pytest.raises(PageTooLargeError, match="page 3"):
        next(pages)


def test_unknown_bytes_are_unsupported_with_bucket_and_key():
    with pytest.raises(UnsupportedDocumentError, match=r"s3://in/docs/scan.bin"):
        pages_of(b"PK\x03\x04 this is a zip file")


def test_empty_object_is_unsupported():
    with pytest.raises(UnsupportedDocumentError):
        pages_of(b"")


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "TIFF"])
def test_truncated_image_is_corrupt(fmt):
    data = encode(Image.effect_noise((300, 300), 60).convert("RGB"), fmt)
    with pytest.raises(CorruptDocumentError) as raised:
        pages_of(data[: len(data) // 2])
    assert raised.value.__cause__ is not None


def test_garbage_after_a_png_signature_is_corrupt():
    with pytest.raises(CorruptDocumentError):
        pages_of(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)


def test_truncated_pdf_is_corrupt():
    data = blank_pdf([(200, 100)])
    with pytest.raises(CorruptDocumentError):
        pages_of(data[:40])


def test_image_over_the_pixel_limit_is_refused_before_decoding():
    data = encode(page(400, 300), "PNG")
    with pytest.raises(PageTooLargeError, match="OCR_MAX_PAGE_PIXELS"):
        pages_of(data, limits=Limits(max_page_pixels=100_000))


def test_pdf_page_over_the_pixel_limit_is_refused():
    data = blank_pdf([(595, 842)])
    with pytest.raises(PageTooLargeError):
        pages_of(data, limits=Limits(max_page_pixels=1_000_000), dpi=300)


@pytest.mark.parametrize("kind", ["tiff", "pdf"])
def test_too_many_pages_is_refused(kind):
    if kind == "pdf":
        data = blank_pdf([(100, 100)] * 3)
    else:
        data = encode(page(), "TIFF", save_all=True, append_images=[page(), page()])
    with pytest.raises(TooManyPagesError, match="OCR_MAX_PAGES"):
        pages_of(data, limits=Limits(max_pages=2))


def animated_png(frames=3):
    images = [page(64, 64, colour) for colour in ("white", "black", "red")[:frames]]
    return encode(images[0], "PNG", save_all=True, append_images=images[1:])


def second_frame_control(data):
    return [i for i in range(len(data)) if data.startswith(b"fcTL", i)][1]


@pytest.mark.parametrize(
    "break_it",
    [
        # a frame sequence number out of order: Pillow's SyntaxError, raised by seek()
        lambda d, at: d[: at + 4] + (99).to_bytes(4, "big") + d[at + 8 :],
        # a frame larger than the canvas
        lambda d, at: d[: at + 8] + (1000).to_bytes(4, "big") + d[at + 12 :],
        # the file ends inside the second frame: OSError, raised by seek()
        lambda d, at: d[: at + 10],
    ],
    ids=["sequence", "frame-size", "truncated"],
)
def test_a_broken_later_frame_is_a_named_error_about_that_page(break_it):
    # given an animated PNG whose first frame is fine and second is broken
    data = break_it(animated_png(), second_frame_control(animated_png()))

    # when its pages are read, then the first comes and the second is a named permanent error
    _, pages = iter_pages(data, WHERE, limits=Limits(), pdf_dpi=150)
    assert next(pages).size == (64, 64)
    with pytest.raises(
        CorruptDocumentError, match=r"^page 2 cannot be decoded: .+ \(s3://in/docs/scan.bin\)$"
    ) as raised:
        next(pages)
    assert raised.value.__cause__ is not None


# OSError and ValueError are what decoders raise most; raised by our own code they are
# still bugs, and must not be dead-lettered as a bad upload.
@pytest.mark.parametrize("bug", [TypeError, OSError, ValueError, IndexError])
def test_a_bug_of_our_own_is_not_disguised_as_a_bad_document(monkeypatch, bug):
    # given a decoding step that fails the way a programming error does
    from bucket_ocr.documents import pages as pages_module

    def broken(frame, *, single):
        raise bug("a bug")

    monkeypatch.setattr(pages_module, "_upright_rgb", broken)

    # then it surfaces as itself
    with pytest.raises(bug, match="a bug"):
        pages_of(encode(page(), "PNG"))


def raising_as_pillow(error):
    """A stand-in for a Pillow method that runs as Pillow's own code, so it raises from inside the decoder."""
    namespace = {"__name__": "PIL.ImageFile", "error": error}
    exec("def load(self, *args, **kwargs):\n    raise error", namespace)
    return namespace["load"]


def test_whatever_type_the_decoder_raises_is_a_named_error(monkeypatch):
    # given a decoder that fails with a type no list of decoder errors would name
    from PIL import ImageFile

    monkeypatch.setattr(ImageFile.ImageFile, "load", raising_as_pillow(ZeroDivisionError("a decoder's own failure")))

    # then the document is corrupt, with the decoder's failure as its cause
    with pytest.raises(
        CorruptDocumentError, match=r"^page 1 cannot be decoded: ZeroDivisionError: a decoder's own failure"
    ) as raised:
        pages_of(encode(page(), "PNG"))
    assert isinstance(raised.value.__cause__, ZeroDivisionError)


def test_a_host_out_of_memory_inside_the_decoder_is_not_blamed_on_the_document(monkeypatch):
    from PIL import ImageFile

    monkeypatch.setattr(ImageFile.ImageFile, "load", raising_as_pillow(MemoryError()))

    with pytest.raises(MemoryError):
        pages_of(encode(page(), "PNG"))


def test_a_tiff_page_without_dimensions_is_corrupt_not_a_raw_type_error():
    # given a two-page TIFF whose second directory lost its width tag (Pillow raises
    # TypeError("Missing dimensions") while counting the pages)
    data = bytearray(encode(page(), "TIFF", save_all=True, append_images=[page()]))
    first = int.from_bytes(data[4:8], "little")
    second = int.from_bytes(data[first + 2 + 12 * int.from_bytes(data[first : first + 2], "little") :][:4], "little")
    entries = range(second + 2, second + 2 + 12 * int.from_bytes(data[second : second + 2], "little"), 12)
    [width] = [at for at in entries if int.from_bytes(data[at : at + 2], "little") == 256]
    data[width : width + 2] = (65000).to_bytes(2, "little")  # now a private tag nobody reads

    with pytest.raises(CorruptDocumentError, match="TypeError: Missing dimensions") as raised:
        pages_of(bytes(data))
    assert isinstance(raised.value.__cause__, TypeError)


def test_an_mpo_frame_without_image_data_is_a_named_error_about_that_page():
    # given a two-frame MPO (a camera's multi-picture JPEG) cut before the second
    # frame's scan: Pillow's MPO reader raises IndexError when it seeks there
    data = encode(page(64, 64), "MPO", save_all=True, append_images=[page(64, 64, "black")])
    second_scan = data.index(b"\xff\xda", data.index(b"\xff\xd8", 2))
    _, pages = iter_pages(data[:second_scan] + b"\xff\xd9", WHERE, limits=Limits(), pdf_dpi=150)

    assert next(pages).size == (64, 64)
    with pytest.raises(CorruptDocumentError, match=r"^page 2 cannot be decoded: IndexError") as raised:
        next(pages)
    assert isinstance(raised.value.__cause__, IndexError)


def test_a_valid_but_unsupported_variant_is_unsupported_not_corrupt():
    # given a BMP declaring a compression method Pillow does not implement
    data = bytearray(encode(page(), "BMP"))
    data[30:34] = (9).to_bytes(4, "little")

    with pytest.raises(UnsupportedDocumentError, match="variant this decoder does not support"):
        pages_of(bytes(data))


def test_messages_name_no_memory_address_so_one_failure_always_reads_the_same():
    messages = set()
    for _ in range(2):
        with pytest.raises(CorruptDocumentError) as raised:
            pages_of(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
        messages.add(str(raised.value))
    [message] = messages
    assert " at 0x" not in message and "BytesIO" not in message


def test_a_password_protected_pdf_is_named_encrypted():
    import pypdf

    # given a readable PDF locked with a password
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(blank_pdf([(200, 100)]))))
    writer.encrypt(user_password="secret", algorithm="RC4-128")
    locked = io.BytesIO()
    writer.write(locked)

    # then it is refused as encrypted (permanent), not as corrupt
    with pytest.raises(EncryptedDocumentError, match=r"password-protected.*\(s3://in/docs/scan.bin\)"):
        pages_of(locked.getvalue())
