"""The function end to end on moto where OCR is the point: real documents, real OCR, real models.

What the function does around OCR (routing, duplicates, dead letters, outputs, retries)
is tested with a fake engine in tests/fast.
"""

from __future__ import annotations

import io

import pytest

from bucket_ocr_local.runtimes.context import lambda_context
from tests.support.moto_app import reconfigure, s3_event
from tests.support.pages import render_text_page
from tests.support.schema import result_validator

pytestmark = pytest.mark.functional

LINES = ["Invoice number 12345", "Total due 678 EUR"]
SPANISH = ["Señor Núñez pagó el recibo"]


def png(lines, **kwargs):
    buffer = io.BytesIO()
    render_text_page(lines, width=4.5, dpi=150, font_size=14, height=1.2 + 0.4 * len(lines), **kwargs).save(
        buffer, "PNG"
    )
    return buffer.getvalue()


def words_of(result):
    return result["text"].split()


def test_an_uploaded_page_comes_back_as_words_with_confidences_and_boxes(moto_stack):
    # Given a rendered page of known text, uploaded under a key with a space, "+" and unicode
    key = "incoming/Señor Núñez+factura 1.png"
    etag = moto_stack.upload(key, png(LINES))
    # When the real S3 event for it reaches the function
    response = moto_stack.app.handle(s3_event(moto_stack, key, etag), lambda_context())
    # Then the result JSON holds those words, with confidences and boxes inside the page
    result = moto_stack.result(key)
    result_validator().validate(result)
    assert result["status"] == "succeeded"
    assert response["outcomes"][0]["status"] == "succeeded"
    for word in ("Invoice", "12345", "Total", "678", "EUR"):
        assert word in words_of(result), result["text"]
    page = result["pages"][0]
    assert len(page["lines"]) == 2
    for line in page["lines"]:
        assert 0.5 < line["confidence"] <= 1
        x0, y0, x1, y1 = line["bbox"]
        assert 0 <= x0 < x1 <= page["width"] and 0 <= y0 < y1 <= page["height"]
    assert result["source"] == {
        "bucket": moto_stack.input_bucket,
        "key": key,
        "version_id": None,
        "etag": etag,
        "size": result["source"]["size"],
        "content_type": "image/png",
    }
    assert result["timings"]["ocr_seconds"] > 0
    assert result["engine"]["packages"]["paddleocr"]


def test_a_new_version_of_the_object_is_read_anew(moto_stack):
    key = "changing.png"
    first = moto_stack.upload(key, png(LINES))
    moto_stack.app.handle(s3_event(moto_stack, key, first), lambda_context())
    second = moto_stack.upload(key, png(SPANISH))
    moto_stack.app.handle(s3_event(moto_stack, key, second), lambda_context())
    result = moto_stack.result(key)
    assert result["source"]["etag"] == second
    assert "Núñez" in result["text"]


def test_every_page_of_a_pdf_and_a_tiff_is_read_in_order(moto_stack):
    for key, fmt, options in (("two pages.pdf", "PDF", {"resolution": 150}), ("two pages.tiff", "TIFF", {})):
        # Fresh images per format: Pillow's PDF writer leaves state on the images it saved
        pages = [
            render_text_page([text], width=4, height=1.5, dpi=150, font_size=14)
            for text in ("First page 111", "Second page 222")
        ]
        buffer = io.BytesIO()
        pages[0].save(buffer, fmt, save_all=True, append_images=pages[1:], **options)
        etag = moto_stack.upload(key, buffer.getvalue())
        moto_stack.app.handle(s3_event(moto_stack, key, etag), lambda_context())
        result = moto_stack.result(key)
        assert [p["index"] for p in result["pages"]] == [0, 1], key
        assert "111" in result["pages"][0]["text"] and "222" in result["pages"][1]["text"], key
        assert result["text"].index("111") < result["text"].index("222")


def test_a_searchable_pdf_and_hocr_are_written_beside_the_json_when_asked_for(moto_stack):
    import pypdfium2

    # Given a function asked for every output, and a scanned PDF
    reconfigure(moto_stack, outputs=("json", "txt", "pdf", "hocr"))
    scan = render_text_page(LINES, dpi=150, font_size=14, height=3.0)
    buffer = io.BytesIO()
    scan.save(buffer, format="PDF", resolution=150)
    etag = moto_stack.upload("scan.pdf", buffer.getvalue())
    # When its event is handled
    moto_stack.app.handle(s3_event(moto_stack, "scan.pdf", etag), lambda_context())
    # Then the result lists each output, and the PDF's text layer says what the JSON says
    result = moto_stack.result("scan.pdf")
    assert set(result["outputs"]) == {"json", "txt", "pdf", "hocr"}

    def body(kind):
        return moto_stack.s3.get_object(Bucket=moto_stack.results_bucket, Key=result["outputs"][kind])

    pdf = pypdfium2.PdfDocument(body("pdf")["Body"].read())
    extracted = pdf[0].get_textpage().get_text_range()
    assert extracted.split() == result["text"].split()
    assert body("pdf")["ContentType"] == "application/pdf"
    hocr = body("hocr")["Body"].read().decode("utf-8")
    assert "ocrx_word" in hocr and all(word in hocr for word in result["text"].split())
