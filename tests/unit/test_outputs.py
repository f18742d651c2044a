"""Text, hOCR and searchable PDF outputs, read back by independent tools.

The PDFs are read with PDFium (pypdfium2), which neither wrote them (pikepdf/qpdf did)
nor shares code with the writer; hOCR is read by hocr-tools, the format's reference
tools. Results are made by hand here, in the schema's terms (pixels of the page as
stored); tests/functional/test_outputs_real.py runs the real engine end to end.
"""

from __future__ import annotations

import ctypes
import io
import os
import re
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pikepdf
import pypdf
import pypdfium2
import pypdfium2.raw as pdfium_c
import pytest
from lxml import etree
from PIL import Image, ImageDraw, ImageOps

from bucket_ocr.documents import iter_pages
from bucket_ocr.events.records import ObjectRef
from bucket_ocr.outputs import HOCR_CONTENT_TYPE, KINDS, PDF_CONTENT_TYPE, Rendered, glyphless, output_key, render
from bucket_ocr.outputs.pdf import DEFAULT_IMAGE_DPI
from bucket_ocr.settings import Limits

SPANISH = [
    ["Factura", "nº", "2024-118"],
    ["Señor", "Núñez", "pagó", "€1.234,50"],
    ["Año", "fiscal:", "¿sí?", "¡ÉXITO!"],
]


# --- results made by hand ---------------------------------------------------------


def word(text: str, box: tuple[float, float, float, float], rotation: int = 0, confidence: float = 0.9731) -> dict:
    """A word in the schema's shape: polygon clockwise from the text's top-left as read."""
    x0, y0, x1, y1 = box
    corners = [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]
    start = rotation // 90  # each quarter turn moves the text's top-left one corner on
    polygon = [corners[(start + i) % 4] for i in range(4)]
    return {"text": text, "confidence": confidence, "polygon": polygon, "bbox": list(box)}


def line(words: list[dict]) -> dict:
    boxes = [w["bbox"] for w in words]
    box = [min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes)]
    return {
        "text": " ".join(w["text"] for w in words),
        "confidence": words[0]["confidence"],
        "polygon": [[box[0], box[1]], [box[2], box[1]], [box[2], box[3]], [box[0], box[3]]],
        "bbox": box,
        "words": words,
    }


def page(index: int, size: tuple[int, int], lines: list[dict], dpi=(150.0, 150.0), rotation: int = 0) -> dict:
    return {
        "index": index,
        "width": size[0],
        "height": size[1],
        "rotation": rotation,
        "orientation_confidence": None,
        "dpi": None if dpi is None else list(dpi),
        "lines": lines,
        "text": "\n".join(item["text"] for item in lines),
    }


def result(pages: list[dict], key: str = "inbox/scan.png") -> dict:
    return {
        "schema_version": "1.1",
        "status": "succeeded",
        "source": {"bucket": "in", "key": key, "version_id": None, "etag": None, "size": None, "content_type": None},
        "engine": {"name": "paddleocr", "packages": {"paddleocr": "3.7.0"}, "models": {}, "language": "es"},
        "pages": pages,
        "text": "\n\n".join(p["text"] for p in pages),
    }


def laid_out(rows: list[list[str]], size: tuple[int, int], *, top: float = 0.1, rotation: int = 0) -> list[dict]:
    """Lines of words at known boxes, upright on the page or turned ``rotation`` clockwise."""
    width, height = size
    lines = []
    for row, texts in enumerate(rows):
        words, along = [], 0.08
        for text in texts:
            extent = 0.018 * len(text) + 0.02
            across = (top + 0.07 * row, top + 0.07 * row + 0.035)
            box = _turned((along, across[0], along + extent, across[1]), rotation)
            words.append(word(text, (box[0] * width, box[1] * height, box[2] * width, box[3] * height), rotation))
            along += extent + 0.015
        lines.append(line(words))
    return lines


def _turned(box: tuple[float, float, float, float], rotation: int) -> tuple[float, float, float, float]:
    """A box of the upright page (0-1) where it lands once the page is turned clockwise."""
    x0, y0, x1, y1 = box
    if rotation == 90:
        return 1 - y1, x0, 1 - y0, x1
    if rotation == 180:
        return 1 - x1, 1 - y1, 1 - x0, 1 - y0
    if rotation == 270:
        return y0, 1 - x1, y1, 1 - x0
    return box


# --- sources -------------------------------------------------------------------------


def png(size=(1240, 1754), dpi=(150, 150), mode="RGB") -> bytes:
    image = Image.new(mode, size, "white")
    ImageDraw.Draw(image).rectangle((100, 100, 300, 140), fill="black")
    out = io.BytesIO()
    image.save(out, "PNG", **({"dpi": dpi} if dpi else {}))
    return out.getvalue()


def jpeg(size=(1240, 1754), dpi=(200, 200), orientation: int | None = None) -> bytes:
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, size[0] // 3, size[1] // 4), fill=(200, 30, 30))  # marks the stored top-left
    draw.rectangle((size[0] // 2, size[1] // 2, size[0] - 1, size[1] - 1), fill=(30, 30, 200))
    out = io.BytesIO()
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    image.save(out, "JPEG", quality=85, dpi=dpi, exif=exif.tobytes())
    return out.getvalue()


def source_pdf(sizes_px: list[tuple[int, int]], dpi: int = 150) -> bytes:
    """A scanned-looking PDF: each page one JPEG image, as Pillow writes it."""
    images = []
    for index, size in enumerate(sizes_px):
        image = Image.new("RGB", size, "white")
        ImageDraw.Draw(image).rectangle((50 + 20 * index, 60, 400, 120), fill=(20, 20, 20))
        images.append(image)
    out = io.BytesIO()
    images[0].save(out, "PDF", save_all=True, append_images=images[1:], resolution=dpi)
    return out.getvalue()


def rendered_size(pdf_bytes: bytes, index: int, dpi: float) -> tuple[int, int]:
    """The page's size in pixels as the decoder renders it (documents/pages.py)."""
    document = pypdfium2.PdfDocument(pdf_bytes)
    try:
        bitmap = document[index].render(scale=dpi / 72)
        return bitmap.width, bitmap.height
    finally:
        document.close()


# --- reading the outputs back ----------------------------------------------------


def extracted_pages(pdf_bytes: bytes) -> list[str]:
    document = pypdfium2.PdfDocument(pdf_bytes)
    try:
        return [document[i].get_textpage().get_text_range() for i in range(len(document))]
    finally:
        document.close()


def tokens(text: str) -> list[str]:
    return text.split()


def assert_words_in_their_boxes(pdf_bytes: bytes, result_pages: list[dict], tolerance_px: float = 2.0) -> None:
    """Each word is found in the text, its characters' boxes inside the word's box.

    A character's box is taken back to pixels of the page by PDFium itself
    (FPDF_PageToDevice), the way it rendered the page for OCR, /Rotate and crop box
    included: an independent check of the writer's mapping the other way. Words are
    looked for wherever they are in the extracted text, as a search would: PDFium
    orders words on a line by where they show, so an upside-down line comes out
    backwards.
    """
    document = pypdfium2.PdfDocument(pdf_bytes)
    try:
        for number, expected in enumerate(result_pages):
            pdf_page = document[number]
            textpage = pdf_page.get_textpage()
            chars = [(i, textpage.get_text_range(i, 1)) for i in range(textpage.count_chars())]
            chars = [(i, c) for i, c in chars if c.strip()]
            text = "".join(c for _, c in chars)
            for item in (w for line in expected["lines"] for w in line["words"]):
                starts = [m.start() for m in re.finditer(re.escape(item["text"]), text)]
                assert starts, (item["text"], text)
                misses = [
                    _outside(pdf_page, expected, item, chars[s : s + len(item["text"])], tolerance_px) for s in starts
                ]
                assert not all(misses), (item["text"], item["bbox"], misses)
    finally:
        document.close()


def _outside(pdf_page, expected: dict, item: dict, chars: list, tolerance_px: float) -> list:
    """The characters whose boxes fall outside the word's box, with those boxes in pixels."""
    textpage = pdf_page.get_textpage()
    x0, y0, x1, y1 = item["bbox"]
    out = []
    for index, char in chars:
        left, bottom, right, top = textpage.get_charbox(index)
        corners = [_to_device(pdf_page, expected, x, y) for x in (left, right) for y in (bottom, top)]
        xs, ys = [c[0] for c in corners], [c[1] for c in corners]
        inside = (
            x0 - tolerance_px <= min(xs)
            and max(xs) <= x1 + tolerance_px
            and y0 - tolerance_px <= min(ys)
            and max(ys) <= y1 + tolerance_px
        )
        if not inside:
            out.append((char, (min(xs), min(ys), max(xs), max(ys))))
    return out


def _to_device(pdf_page, expected: dict, x: float, y: float) -> tuple[int, int]:
    device_x, device_y = ctypes.c_int(), ctypes.c_int()
    ok = pdfium_c.FPDF_PageToDevice(
        pdf_page.raw,
        0,
        0,
        expected["width"],
        expected["height"],
        0,
        x,
        y,
        ctypes.byref(device_x),
        ctypes.byref(device_y),
    )
    assert ok
    return device_x.value, device_y.value


def image_streams(pdf_bytes: bytes) -> list[bytes]:
    """The raw (still encoded) bytes of every image XObject, page by page."""
    with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
        return [image.read_raw_bytes() for p in pdf.pages for image in p.get_images().values()]


def hocr_tool(name: str, hocr: bytes, tmp_path: Path, *options: str) -> subprocess.CompletedProcess:
    path = tmp_path / "page.hocr"
    path.write_bytes(hocr)
    tool = Path(sys.executable).parent / name
    return subprocess.run([str(tool), *options, str(path)], capture_output=True, text=True, timeout=60, check=False)


def assert_hocr_checks(hocr: bytes, tmp_path: Path, *options: str) -> None:
    checked = hocr_tool("hocr-check", hocr, tmp_path, *options)
    assert checked.returncode == 0, checked.stderr
    verdicts = checked.stderr.splitlines()
    assert verdicts and all(v.startswith("ok ") for v in verdicts), checked.stderr
    assert any("has a page" in v for v in verdicts)


# --- txt and the API ------------------------------------------------------------------


def test_txt_is_the_results_text_in_utf8() -> None:
    doc = result([page(0, (1240, 1754), laid_out(SPANISH, (1240, 1754)))])
    out = render(doc, png(), "image/png", ["txt"])
    assert out == {"txt": Rendered("txt", doc["text"].encode("utf-8"), "text/plain; charset=utf-8")}


def test_only_the_kinds_asked_for_and_json_is_left_to_the_caller() -> None:
    doc = result([page(0, (1240, 1754), laid_out(SPANISH, (1240, 1754)))])
    assert render(doc, png(), "image/png", ["json"]) == {}
    out = render(doc, png(), "image/png", ["hocr", "pdf", "hocr"])
    assert sorted(out) == ["hocr", "pdf"]
    assert (out["pdf"].suffix, out["pdf"].content_type) == (".pdf", PDF_CONTENT_TYPE)
    assert (out["hocr"].suffix, out["hocr"].content_type) == (".hocr", HOCR_CONTENT_TYPE)
    assert set(KINDS) == {"json", "txt", "pdf", "hocr"}


def test_each_output_lies_beside_the_result_its_suffix_for_json() -> None:
    # given a result key whose source already ends in a suffix of its own
    result_key = "ocr/in/scans/a.pdf.json"
    # when the outputs' keys are asked for
    keys = {kind: output_key(result_key, kind) for kind in KINDS}
    # then only the result's ".json" is replaced, and the JSON itself stays where it is
    assert keys == {
        "json": "ocr/in/scans/a.pdf.json",
        "txt": "ocr/in/scans/a.pdf.txt",
        "pdf": "ocr/in/scans/a.pdf.pdf",
        "hocr": "ocr/in/scans/a.pdf.hocr",
    }


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="alto"):
        render(result([]), b"", "image/png", ["txt", "alto"])


def test_a_failed_result_gets_empty_text_and_hocr_and_no_pdf() -> None:
    failed = {**result([]), "status": "failed", "text": ""}
    out = render(failed, b"not a document", "application/pdf", ["txt", "hocr", "pdf"])
    assert sorted(out) == ["hocr", "txt"]
    assert out["txt"].body == b""


# --- searchable PDF from images -------------------------------------------------------


def test_png_becomes_a_pdf_page_at_its_dpi_whose_text_extracts_as_the_results() -> None:
    size = (1240, 1754)
    doc = result([page(0, size, laid_out(SPANISH, size))])
    pdf_bytes = render(doc, png(size, dpi=(150, 150)), "image/png", ["pdf"])["pdf"].body
    with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
        assert [float(v) for v in pdf.pages[0].mediabox] == pytest.approx([0, 0, 1240 * 72 / 150, 1754 * 72 / 150])
        (image,) = pdf.pages[0].get_images().values()
        assert image.Filter == pikepdf.Name.FlateDecode  # lossless
        assert (
            pikepdf.PdfImage(image).as_pil_image().tobytes()
            == Image.open(io.BytesIO(png(size))).convert("RGB").tobytes()
        )
    assert tokens(extracted_pages(pdf_bytes)[0]) == tokens(doc["text"])
    assert_words_in_their_boxes(pdf_bytes, doc["pages"])


def _png_of(image: Image.Image, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG", dpi=(150, 150), **options)
    return out.getvalue()


def _idat(data: bytes) -> bytes:
    chunks, position = [], 8
    while position < len(data):
        length = int.from_bytes(data[position : position + 4], "big")
        if data[position + 4 : position + 8] == b"IDAT":
            chunks.append(data[position + 8 : position + 8 + length])
        position += 12 + length
    return b"".join(chunks)


def _drawn(mode: str, size=(640, 480)) -> Image.Image:
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((10, 10, 200, 100), fill=(200, 20, 20))
    draw.ellipse((300, 200, 600, 460), fill=(20, 20, 200))
    return image.convert(mode) if mode != "P" else image.quantize(16)


@pytest.mark.parametrize("mode", ["RGB", "L", "1", "P"])
def test_a_png_keeps_its_compressed_pixels_and_shows_what_the_engine_read(mode: str) -> None:
    image = _drawn(mode)
    source = _png_of(image)
    doc = result([page(0, image.size, laid_out([["png", "kept"]], image.size))])
    pdf_bytes = render(doc, source, "image/png", ["pdf"])["pdf"].body
    assert image_streams(pdf_bytes) == [_idat(source)]
    with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
        (embedded,) = pdf.pages[0].get_images().values()
        shown = pikepdf.PdfImage(embedded).as_pil_image().convert("RGB")
    assert shown.tobytes() == Image.open(io.BytesIO(source)).convert("RGB").tobytes()


@pytest.mark.parametrize("variant", ["alpha", "interlaced", "16-bit", "exif-turned"])
def test_a_png_pdf_cannot_take_as_it_is_is_embedded_as_the_engine_read_it(variant: str) -> None:
    image = _drawn("RGB")
    if variant == "alpha":
        image = image.convert("RGBA")
        image.putpixel((5, 5), (0, 0, 0, 0))
        source = _png_of(image)
    elif variant == "interlaced":
        source = _interlaced(image)
    elif variant == "16-bit":
        source = _png_of(image.convert("I;16"))
    else:
        exif = Image.Exif()
        exif[0x0112] = 6
        source = _png_of(image, exif=exif.tobytes())
    _, pages = iter_pages(source, ObjectRef("b", "k"), limits=Limits(), pdf_dpi=150)
    (read,) = list(pages)
    doc = result([page(0, read.size, laid_out([["fallback"]], read.size))])
    pdf_bytes = render(doc, source, "image/png", ["pdf"])["pdf"].body
    with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
        (embedded,) = pdf.pages[0].get_images().values()
        shown = pikepdf.PdfImage(embedded).as_pil_image().convert("RGB")
    assert shown.size == read.size
    assert shown.tobytes() == read.tobytes()


def _interlaced(image: Image.Image) -> bytes:
    # Pillow writes no interlaced PNG: one by the book (Adam7 passes, no filtering).
    width, height = image.size
    rgb = image.convert("RGB")
    passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
    raw = bytearray()
    for x0, y0, dx, dy in passes:
        xs = range(x0, width, dx)
        if not xs:
            continue
        for y in range(y0, height, dy):
            raw.append(0)
            for x in xs:
                raw.extend(rgb.getpixel((x, y)))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 1)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(bytes(raw))) + chunk(b"IEND", b"")


def test_an_image_without_a_stated_dpi_is_laid_out_at_one_point_per_pixel() -> None:
    size = (800, 600)
    doc = result([page(0, size, laid_out([["screen", "shot"]], size), dpi=None)])
    pdf_bytes = render(doc, png(size, dpi=None), "image/png", ["pdf"])["pdf"].body
    assert DEFAULT_IMAGE_DPI == 72
    with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
        assert [float(v) for v in pdf.pages[0].mediabox] == [0, 0, 800, 600]
    assert_words_in_their_boxes(pdf_bytes, doc["pages"])


def test_a_jpeg_is_embedded_as_its_own_bytes() -> None:
    size = (1240, 1754)
    source = jpeg(size, dpi=(200, 200))
    doc = result([page(0, size, laid_out(SPANISH, size), dpi=(200.0, 200.0))], key="a.jpg")
    pdf_bytes = render(doc, source, "image/jpeg", ["pdf"])["pdf"].body
    assert image_streams(pdf_bytes) == [source]
    with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
        (image,) = pdf.pages[0].get_images().values()
        assert image.Filter == pikepdf.Name.DCTDecode
        assert [float(v) for v in pdf.pages[0].mediabox] == pytest.approx([0, 0, 1240 * 72 / 200, 1754 * 72 / 200])
    assert tokens(extracted_pages(pdf_bytes)[0]) == tokens(doc["text"])
    assert_words_in_their_boxes(pdf_bytes, doc["pages"])


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_a_turned_jpeg_keeps_its_bytes_and_shows_upright_as_it_was_read(orientation: int) -> None:
    source = jpeg((600, 400), dpi=(72, 72), orientation=orientation)
    upright = ImageOps.exif_transpose(Image.open(io.BytesIO(source))).convert("RGB")
    doc = result([page(0, upright.size, laid_out([["turned"]], upright.size), dpi=(72.0, 72.0))], key="t.jpg")
    pdf_bytes = render(doc, source, "image/jpeg", ["pdf"])["pdf"].body
    assert image_streams(pdf_bytes) == [source]
    document = pypdfium2.PdfDocument(pdf_bytes)
    shown = document[0].render(scale=1).to_pil().convert("RGB")
    document.close()
    # The page shows the image as the engine read it: same size, and the same colours in
    # the same places (JPEG noise aside).
    assert shown.size == upright.size
    for point in [(20, 20), (upright.width - 20, upright.height - 20), (upright.width // 4, upright.height - 20)]:
        assert max(abs(a - b) for a, b in zip(shown.getpixel(point), upright.getpixel(point), strict=True)) < 40, point


def test_a_multi_page_tiff_becomes_as_many_pdf_pages_each_kept_losslessly() -> None:
    frames = [
        Image.new("1", (1700, 2200), 1),  # a bilevel fax-like scan
        Image.new("L", (1240, 1754), 255),
        Image.new("RGB", (2480, 1754), "white"),  # landscape
    ]
    for frame in frames:
        ImageDraw.Draw(frame).rectangle((40, 40, 300, 90), fill=0 if frame.mode != "RGB" else (0, 0, 0))
    out = io.BytesIO()
    frames[0].save(out, "TIFF", save_all=True, append_images=frames[1:], dpi=(200, 200), compression="tiff_deflate")
    rows = [SPANISH, [["segunda", "página"]], [["tercera", "hoja", "apaisada"]]]
    doc = result(
        [
            page(i, f.size, laid_out(r, f.size), dpi=(200.0, 200.0))
            for i, (f, r) in enumerate(zip(frames, rows, strict=True))
        ]
    )
    pdf_bytes = render(doc, out.getvalue(), "image/tiff", ["pdf"])["pdf"].body
    with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
        assert len(pdf.pages) == 3
        for pdf_page, frame in zip(pdf.pages, frames, strict=True):
            assert [float(v) for v in pdf_page.mediabox] == pytest.approx(
                [0, 0, frame.width * 72 / 200, frame.height * 72 / 200]
            )
            (image,) = pdf_page.get_images().values()
            embedded = pikepdf.PdfImage(image).as_pil_image()
            assert embedded.mode == frame.mode  # one bit stays one bit
            assert embedded.tobytes() == frame.tobytes()
    assert [tokens(t) for t in extracted_pages(pdf_bytes)] == [tokens(p["text"]) for p in doc["pages"]]
    assert_words_in_their_boxes(pdf_bytes, doc["pages"])


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_words_on_a_page_stored_turned_run_along_their_boxes(rotation: int) -> None:
    size = (1754, 1240) if rotation in (90, 270) else (1240, 1754)
    doc = result([page(0, size, laid_out(SPANISH, size, rotation=rotation), rotation=rotation)])
    pdf_bytes = render(doc, png(size), "image/png", ["pdf"])["pdf"].body
    extracted = tokens(extracted_pages(pdf_bytes)[0])
    if rotation == 180:
        # PDFium orders a line's words by where they show: upside down, right to left.
        assert sorted(extracted) == sorted(tokens(doc["text"]))
    else:
        assert extracted == tokens(doc["text"])
    assert_words_in_their_boxes(pdf_bytes, doc["pages"])


def test_characters_beyond_the_basic_plane_extract_as_themselves() -> None:
    size = (1240, 1754)
    doc = result([page(0, size, laid_out([["π≈3,14", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "🙂"], ["日本語", "テキスト"]], size))])
    pdf_bytes = render(doc, png(size), "image/png", ["pdf"])["pdf"].body
    assert tokens(extracted_pages(pdf_bytes)[0]) == tokens(doc["text"])


def test_a_1_0_result_without_words_gets_its_lines_as_the_text_layer() -> None:
    size = (1240, 1754)
    doc = result([page(0, size, laid_out(SPANISH, size))])
    for item in doc["pages"][0]["lines"]:
        del item["words"]
    pdf_bytes = render(doc, png(size), None, ["pdf"])["pdf"].body  # type detected from the bytes
    assert tokens(extracted_pages(pdf_bytes)[0]) == tokens(doc["text"])
    hocr_words = _hocr_words(render(doc, b"", None, ["hocr"])["hocr"].body)
    assert [w[0] for w in hocr_words] == [item["text"] for item in doc["pages"][0]["lines"]]


# --- searchable PDF from a PDF ----------------------------------------------------------


def _pdf_result(source: bytes, rows_per_page: list[list[list[str]]], dpi: int = 150) -> dict:
    pages = []
    for index, rows in enumerate(rows_per_page):
        size = rendered_size(source, index, dpi)
        pages.append(page(index, size, laid_out(rows, size), dpi=(float(dpi), float(dpi))))
    return result(pages, key="scans/two.pdf")


def test_a_pdf_keeps_its_pages_and_images_and_gains_their_text() -> None:
    source = source_pdf([(1240, 1754), (1754, 1240)])
    doc = _pdf_result(source, [SPANISH, [["página", "dos", "apaisada"]]])
    pdf_bytes = render(doc, source, "application/pdf", ["pdf"])["pdf"].body
    assert image_streams(pdf_bytes) == image_streams(source)
    with pikepdf.open(io.BytesIO(source)) as before, pikepdf.open(io.BytesIO(pdf_bytes)) as after:
        for old, new in zip(before.pages, after.pages, strict=True):
            assert list(new.mediabox) == list(old.mediabox)
            # The page's own content streams are still there, byte for byte, between the
            # q/Q that hold them apart from the text layer.
            old_streams = [s.read_raw_bytes() for s in _streams(old)]
            new_streams = [s.read_raw_bytes() for s in _streams(new)]
            assert new_streams[1 : 1 + len(old_streams)] == old_streams
            assert len(new_streams) == len(old_streams) + 2
    assert [tokens(t) for t in extracted_pages(pdf_bytes)] == [tokens(p["text"]) for p in doc["pages"]]
    assert_words_in_their_boxes(pdf_bytes, doc["pages"])


def _streams(pdf_page: pikepdf.Page) -> list[pikepdf.Stream]:
    contents = pdf_page.obj.Contents
    return list(contents) if isinstance(contents, pikepdf.Array) else [contents]


def _turned_pdf(source: bytes, rotate: int, cropbox: list[float] | None = None) -> bytes:
    with pikepdf.open(io.BytesIO(source)) as pdf:
        for pdf_page in pdf.pages:
            pdf_page.Rotate = rotate
            if cropbox:
                pdf_page.CropBox = pikepdf.Array(cropbox)
        out = io.BytesIO()
        pdf.save(out)
        return out.getvalue()


@pytest.mark.parametrize("rotate", [90, 180, 270])
def test_a_pdf_page_with_rotate_gets_its_words_where_pdfium_showed_them(rotate: int) -> None:
    # A crop box off the origin too: PDFium renders the crop box, so pixels start there.
    source = _turned_pdf(source_pdf([(1240, 1754)]), rotate, cropbox=[20, 30, 580, 820])
    doc = _pdf_result(source, [SPANISH])
    width, height = doc["pages"][0]["width"], doc["pages"][0]["height"]
    assert (width > height) == (rotate in (90, 270))  # the rendered page is the turned one
    pdf_bytes = render(doc, source, "application/pdf", ["pdf"])["pdf"].body
    assert tokens(extracted_pages(pdf_bytes)[0]) == tokens(doc["text"])
    assert_words_in_their_boxes(pdf_bytes, doc["pages"])
    with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
        assert pdf.pages[0].rotation == rotate


def test_inherited_resources_and_rotation_are_kept() -> None:
    source = source_pdf([(1240, 1754)])
    with pikepdf.open(io.BytesIO(source)) as pdf:
        pdf_page = pdf.pages[0]
        pdf.Root.Pages.Resources = pdf_page.obj.Resources
        pdf.Root.Pages.Rotate = 90
        del pdf_page.obj["/Resources"]
        out = io.BytesIO()
        pdf.save(out)
        source = out.getvalue()
    doc = _pdf_result(source, [SPANISH])
    pdf_bytes = render(doc, source, "application/pdf", ["pdf"])["pdf"].body
    assert image_streams(pdf_bytes) == image_streams(source)  # the image still found
    assert tokens(extracted_pages(pdf_bytes)[0]) == tokens(doc["text"])
    assert_words_in_their_boxes(pdf_bytes, doc["pages"])
    # and the page, which now has resources of its own (our font), still reaches its image
    with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
        assert len(pdf.pages[0].obj.Resources.XObject) == 1


def test_an_encrypted_pdf_that_opens_without_a_password_stays_encrypted_with_its_permissions() -> None:
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(source_pdf([(1240, 1754)]))))
    printing_only = pypdf.constants.UserAccessPermissions.PRINT
    writer.encrypt(user_password="", owner_password="owner", permissions_flag=printing_only, algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    source = out.getvalue()
    doc = _pdf_result(source, [SPANISH])
    pdf_bytes = render(doc, source, "application/pdf", ["pdf"])["pdf"].body
    with pikepdf.open(io.BytesIO(source)) as before, pikepdf.open(io.BytesIO(pdf_bytes)) as after:
        assert after.is_encrypted
        assert after.allow == before.allow
    assert image_streams(pdf_bytes) == image_streams(source)  # as decrypted
    assert tokens(extracted_pages(pdf_bytes)[0]) == tokens(doc["text"])


def test_a_page_count_that_does_not_match_is_refused() -> None:
    source = source_pdf([(1240, 1754), (1240, 1754)])
    doc = _pdf_result(source_pdf([(1240, 1754)]), [SPANISH])
    with pytest.raises(ValueError, match="2 pages"):
        render(doc, source, "application/pdf", ["pdf"])


# --- hOCR -------------------------------------------------------------------------------


def _hocr_words(hocr: bytes) -> list[tuple[str, list[int], int]]:
    tree = etree.fromstring(hocr)
    out = []
    for span in tree.iter("{http://www.w3.org/1999/xhtml}span"):
        if span.get("class") == "ocrx_word":
            props = dict(p.strip().split(None, 1) for p in span.get("title").split(";"))
            out.append((span.text, [int(v) for v in props["bbox"].split()], int(props["x_wconf"])))
    return out


def test_hocr_passes_the_reference_checker_and_its_lines_read_as_the_result(tmp_path: Path) -> None:
    size = (1240, 1754)
    single = result([page(0, size, laid_out(SPANISH, size))])
    assert_hocr_checks(render(single, b"", "image/png", ["hocr"])["hocr"].body, tmp_path)
    doc = result([page(0, size, laid_out(SPANISH, size)), page(1, size, laid_out([["otra", "página"]], size))])
    hocr = render(doc, b"", "image/tiff", ["hocr"])["hocr"].body
    # hocr-check 1.1.1 compares the lines of every page with each other (its XPath starts
    # at the root), so pages that reuse positions fail its overlap test: -o skips it.
    assert_hocr_checks(hocr, tmp_path, "-o")
    lines = hocr_tool("hocr-lines", hocr, tmp_path)
    assert lines.returncode == 0, lines.stderr
    assert lines.stdout.splitlines() == [item["text"] for p in doc["pages"] for item in p["lines"]]


def test_hocr_words_carry_the_results_boxes_and_confidences() -> None:
    size = (1240, 1754)
    lines = laid_out(SPANISH, size)
    lines[0]["words"][0]["bbox"] = [10.4, 20.6, 90.5, 40.2]  # rounded outwards to whole pixels
    lines[0]["words"][0]["confidence"] = 0.8765
    doc = result([page(0, size, lines)])
    words = _hocr_words(render(doc, b"", "image/png", ["hocr"])["hocr"].body)
    expected = [w for item in lines for w in item["words"]]
    assert [w[0] for w in words] == [w["text"] for w in expected]
    assert words[0][1:] == ([10, 20, 91, 41], 88)
    for (_, bbox, conf), w in zip(words[1:], expected[1:], strict=True):
        assert bbox == [int(w["bbox"][0]), int(w["bbox"][1]), -int(-w["bbox"][2] // 1), -int(-w["bbox"][3] // 1)]
        assert conf == round(w["confidence"] * 100)


def test_hocr_page_names_its_image_and_escapes_what_it_must(tmp_path: Path) -> None:
    size = (1000, 800)
    lines = [line([word("<a&b>", (10, 10, 200, 40)), word('"q"', (210, 10, 300, 40))])]
    doc = result([page(0, size, lines, rotation=90)], key='in "box"; odd\\key.png')
    hocr = render(doc, b"", "image/png", ["hocr"])["hocr"].body
    assert [w[0] for w in _hocr_words(hocr)] == ["<a&b>", '"q"']
    tree = etree.fromstring(hocr)
    (div,) = [d for d in tree.iter("{http://www.w3.org/1999/xhtml}div") if d.get("class") == "ocr_page"]
    title = div.get("title")
    assert title.startswith('image "in %22box%22%3B odd%5Ckey.png"; bbox 0 0 1000 800; ppageno 0; scan_res 150 150')
    assert re.search(r"textangle 270", hocr.decode())
    assert_hocr_checks(hocr, tmp_path)


# --- a second reader: poppler's pdftotext ----------------------------------------------


def _pdftotext(pdf_bytes: bytes, tmp_path: Path) -> str:
    binary = shutil.which("pdftotext")
    if binary is None:
        what = "pdftotext (Debian's poppler-utils) is not installed: local/tools/install-system-packages.sh"
        if os.environ.get("CI"):
            pytest.fail(what)
        pytest.skip(what)
    path = tmp_path / "out.pdf"
    path.write_bytes(pdf_bytes)
    return subprocess.run([binary, str(path), "-"], capture_output=True, text=True, timeout=60, check=True).stdout


def _tiff(frames: list[Image.Image]) -> bytes:
    out = io.BytesIO()
    frames[0].save(out, "TIFF", save_all=True, append_images=frames[1:], dpi=(200, 200))
    return out.getvalue()


@pytest.mark.parametrize(
    "kind",
    ["png", "jpeg", "tiff", "pdf", "pdf-rotate-90", "pdf-rotate-180", "pdf-rotate-270", "stored-upside-down"],
)
def test_pdftotext_reads_the_results_text_too(kind: str, tmp_path: Path) -> None:
    size = (1240, 1754)
    rows = [*SPANISH, ["π≈3,14", "𝔘𝔫𝔦", "🙂", "日本語"]]
    rotation = 180 if kind == "stored-upside-down" else 0
    if kind.startswith("pdf"):
        source = source_pdf([size])
        if kind != "pdf":
            source = _turned_pdf(source, int(kind.rsplit("-", 1)[1]))
        doc, content_type = _pdf_result(source, [rows]), "application/pdf"
    else:
        source = {"jpeg": jpeg(size), "tiff": _tiff([Image.new("L", size, 255), Image.new("L", size, 255)])}.get(kind)
        source = source or png(size)
        pages = [page(0, size, laid_out(rows, size, rotation=rotation), rotation=rotation)]
        if kind == "tiff":
            pages.append(page(1, size, laid_out([["segunda", "página"]], size)))
        doc, content_type = result(pages), f"image/{'png' if kind == 'stored-upside-down' else kind}"
    pdf_bytes = render(doc, source, content_type, ["pdf"])["pdf"].body
    # Pages come out separated by a form feed; words and their order as the result's.
    assert tokens(_pdftotext(pdf_bytes, tmp_path)) == tokens(doc["text"])


# --- the font -------------------------------------------------------------------------


def test_the_embedded_font_is_what_its_builder_makes() -> None:
    assert glyphless.build() == glyphless.GLYPHLESS_TTF


def test_the_text_layer_font_is_embedded_with_a_tounicode_map() -> None:
    size = (1240, 1754)
    doc = result([page(0, size, laid_out(SPANISH, size))])
    pdf_bytes = render(doc, png(size), "image/png", ["pdf"])["pdf"].body
    with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
        (font,) = pdf.pages[0].Resources.Font.values()
        assert font.Subtype == pikepdf.Name.Type0 and font.Encoding == pikepdf.Name("/Identity-H")
        assert font.DescendantFonts[0].FontDescriptor.FontFile2.read_bytes() == glyphless.GLYPHLESS_TTF
        assert b"beginbfchar" in font.ToUnicode.read_bytes()
        # Render mode 3 throughout: nothing of the layer is ever painted.
        modes = {
            int(instruction.operands[0])
            for instruction in pikepdf.parse_content_stream(pdf.pages[0])
            if str(instruction.operator) == "Tr"
        }
        assert modes == {3}


def test_a_pdf_qpdf_cannot_open_is_a_render_error_the_function_can_name() -> None:
    from bucket_ocr.outputs import RenderError

    doc = _pdf_result(source_pdf([(1240, 1754)]), [SPANISH])
    with pytest.raises(RenderError, match="searchable PDF"):
        render(doc, b"%PDF-1.4\nnot a pdf at all", "application/pdf", ["pdf"])
