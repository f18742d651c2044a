from pathlib import Path

import pytest

from bucket_ocr.errors import ConfigurationError
from bucket_ocr.settings import REQUIRED_VARIABLES, Settings

BASE = {
    "OCR_RESULTS_BUCKET": "results",
    "OCR_DEAD_LETTER_QUEUE_URL": "http://127.0.0.1:5000/123456789012/dlq",
    "OCR_MODELS_DIR": "/opt/models",
}


def test_defaults_from_a_minimal_environment():
    settings = Settings.from_env(BASE)
    assert settings.results_bucket == "results"
    assert settings.models_dir == Path("/opt/models")
    assert settings.results_prefix == "ocr/"
    assert settings.model_bundle == "pp-ocrv6-small-latin-int8"
    assert settings.cache_dir == Path("/tmp/bucket-ocr")
    assert settings.s3_endpoint_url is None


@pytest.mark.parametrize("name", REQUIRED_VARIABLES)
def test_each_required_variable_is_named_when_missing(name):
    env = {k: v for k, v in BASE.items() if k != name}
    with pytest.raises(ConfigurationError, match=name):
        Settings.from_env(env)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("OCR_PDF_DPI", "high"),
        ("OCR_PDF_DPI", "5000"),
        ("OCR_MAX_PAGES", "0"),
        ("OCR_MAX_OBJECT_BYTES", "-1"),
        ("OCR_TEXT_SIDECAR", "maybe"),
        ("OCR_DET_LIMIT_SIDE_LEN", "7"),
        ("OCR_ORIENTATION", "sideways"),
        ("OCR_OUTPUTS", "json,docx"),
        ("OCR_CLAIM_LEASE_SECONDS", "1"),
        ("OCR_CLAIM_WAIT_SECONDS", "soon"),
    ],
)
def test_invalid_values_name_their_variable(name, value):
    with pytest.raises(ConfigurationError, match=name):
        Settings.from_env({**BASE, name: value})


def test_values_are_parsed():
    settings = Settings.from_env(
        {
            **BASE,
            "OCR_RESULTS_PREFIX": "/out/json/",
            "OCR_SOURCE_BUCKETS": "in-a, in-b,",
            "OCR_PDF_DPI": "200",
            "OCR_MAX_PAGES": "3",
            "OCR_TEXT_SIDECAR": "true",
            "OCR_S3_ENDPOINT_URL": "http://127.0.0.1:9000",
            "OCR_CLAIM_LEASE_SECONDS": "12",
            "OCR_CLAIM_WAIT_SECONDS": "0",
            "OCR_ORIENTATION": "OFF",
        }
    )
    assert settings.orientation == "off"
    assert Settings.from_env(BASE).orientation == "auto"
    assert (settings.claim_lease_seconds, settings.claim_wait_seconds) == (12, 0)
    assert settings.results_prefix == "out/json/"
    assert settings.source_buckets == ("in-a", "in-b")
    assert settings.pdf_dpi == 200 and settings.limits.max_pages == 3
    assert settings.outputs == ("json", "txt")  # OCR_TEXT_SIDECAR=true, as before OCR_OUTPUTS
    assert settings.s3_endpoint_url == "http://127.0.0.1:9000"


def test_a_results_location_that_would_retrigger_the_function_is_refused():
    # Given the results bucket is also a source, with results at its root
    env = {**BASE, "OCR_SOURCE_BUCKETS": "results", "OCR_RESULTS_PREFIX": ""}
    # Then cold start refuses it, naming the variable to fix
    with pytest.raises(ConfigurationError, match="OCR_RESULTS_PREFIX"):
        Settings.from_env(env)


def test_a_shared_bucket_with_a_results_prefix_is_allowed_and_results_are_recognised():
    settings = Settings.from_env({**BASE, "OCR_SOURCE_BUCKETS": "results"})
    assert settings.is_own_output("results", "ocr/in/a.png.json")
    assert not settings.is_own_output("results", "incoming/a.png")
    assert not settings.is_own_output("other", "ocr/in/a.png.json")
