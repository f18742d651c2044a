"""Per-object options from the uploader's metadata, and the OCR_OUTPUTS list they override."""

from __future__ import annotations

import pytest

from bucket_ocr.errors import InvalidObjectOptionsError, PermanentError
from bucket_ocr.object_options import InvalidOutputsError, options_from_metadata, parse_outputs

DEFAULT = ("json",)


def test_outputs_come_back_known_in_a_fixed_order_with_json_always():
    assert parse_outputs(" PDF,hocr , txt") == ("json", "txt", "pdf", "hocr")
    assert parse_outputs("pdf") == ("json", "pdf")
    assert parse_outputs("") == ("json",)


def test_an_unknown_output_is_named_with_the_choices():
    with pytest.raises(InvalidOutputsError, match=r"'docx'.*json, txt, pdf, hocr"):
        parse_outputs("json,docx")


def test_an_object_without_options_gets_the_defaults():
    options = options_from_metadata({}, ("json", "txt"), bucket="in", key="a.png")
    assert (options.job_tag, options.outputs) == (None, ("json", "txt"))


def test_the_uploaders_tag_and_outputs_are_honoured():
    options = options_from_metadata(
        {"ocr-job-tag": "claims:2026-11", "ocr-outputs": "hocr"}, DEFAULT, bucket="in", key="a"
    )
    assert (options.job_tag, options.outputs) == ("claims:2026-11", ("json", "hocr"))


@pytest.mark.parametrize(
    ("metadata", "named"),
    [
        ({"ocr-job-tag": "two words"}, "x-amz-meta-ocr-job-tag"),
        ({"ocr-job-tag": ""}, "x-amz-meta-ocr-job-tag"),
        ({"ocr-job-tag": "x" * 65}, "x-amz-meta-ocr-job-tag"),
        ({"ocr-outputs": "json,docx"}, "x-amz-meta-ocr-outputs"),
    ],
)
def test_a_bad_option_is_a_permanent_error_naming_its_metadata_key_and_the_object(metadata, named):
    with pytest.raises(InvalidObjectOptionsError, match=named) as raised:
        options_from_metadata(metadata, DEFAULT, bucket="in", key="scans/a b.png")
    assert isinstance(raised.value, PermanentError)
    assert "s3://in/scans/a b.png" in str(raised.value)
