import copy

import jsonschema
import pytest

from bucket_ocr.errors import CorruptDocumentError
from bucket_ocr.results import document
from tests.support.schema import result_validator

ENGINE = {"name": "paddleocr", "packages": {"paddleocr": "3.7.0"}, "models": {"det": "d", "rec": "r"}, "language": "en"}
SOURCE = document.SourceInfo("in", "a b.png", etag="abc", size=10, content_type="image/png")


def a_succeeded_result():
    page = document.PageResult(
        index=0,
        width=100,
        height=50,
        lines=[document.line_dict("Hola", 0.98765, [(1, 2), (30, 2), (30, 12), (1, 12)], (1, 2, 30, 12))],
    )
    return document.succeeded(SOURCE, ENGINE, document.Timings(0.1, 0.2, 0.3, 0.6), [page, page], "req-1")


def test_succeeded_result_matches_the_published_schema():
    result = a_succeeded_result()
    result_validator().validate(result)
    assert result["text"] == "Hola\n\nHola"
    assert result["pages"][0]["lines"][0]["confidence"] == 0.9877


def test_failed_result_matches_the_schema_and_names_the_error():
    error = CorruptDocumentError("bad bytes", bucket="in", key="a b.png")
    result = document.failed(SOURCE, ENGINE, document.Timings(), error, None)
    result_validator().validate(result)
    assert result["error"] == {"type": "CorruptDocumentError", "message": "bad bytes (s3://in/a b.png)"}
    assert result["status"] == "failed" and result["pages"] == []


@pytest.mark.parametrize(
    "breakage",
    [
        lambda r: r.pop("schema_version"),
        lambda r: r.update(status="done"),
        lambda r: r["pages"][0]["lines"][0].update(confidence=1.5),
        lambda r: r["pages"][0]["lines"][0].update(bbox=[1, 2, 3]),
        lambda r: r.update(error={"type": "Oops", "message": "x"}),
        lambda r: r["source"].pop("etag"),
    ],
)
def test_schema_rejects_broken_results(breakage):
    result = copy.deepcopy(a_succeeded_result())
    breakage(result)
    with pytest.raises(jsonschema.ValidationError):
        result_validator().validate(result)
