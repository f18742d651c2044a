"""Fuzz tier, the function: mutated uploads through the handler's path on moto, with real OCR.

Each upload must end in exactly one of the terminal states the README promises: a
succeeded result, or a failed result plus exactly one dead letter naming the same
permanent error. Nothing may be raised out of the handler: a raise means a retry, and a
broken upload fails the same way on every retry, forever. Fewer cases than the document
layer gets, because each runs OCR; the seeds are one a format, multi-page where the
format allows, so later pages are broken too.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, event, given
from hypothesis import strategies as st

from bucket_ocr.settings import Limits
from bucket_ocr_local.runtimes.context import lambda_context
from tests.fuzz.bounds import MIB, bounded, peak_budget
from tests.fuzz.mutations import material_for, mutants
from tests.fuzz.seeds import SEEDS_BY_NAME
from tests.fuzz.verdicts import assert_named_permanent, fuzz_settings
from tests.support.events import load_event, retarget
from tests.support.schema import result_validator

pytestmark = [
    pytest.mark.fuzz,
    pytest.mark.functional,
    pytest.mark.filterwarnings("ignore::UserWarning:PIL"),
]

SEED_NAMES = (
    "apng-3-frames",
    "jpeg-progressive-exif",
    "mpo-2-frames",
    "tiff-lzw-2-pages",
    "webp-animated-2-frames",
    "bmp-palette",
    "pdf-images-2-pages",
    "pdf-xref-stream-text",
)
CASES = 48
CASE_SECONDS = 60.0
# The function runs with the default limits; the fixed part is the engine's working
# memory (the detector's input at its side limit, its feature maps, a batch of lines).
PEAK_GROWTH = peak_budget(Limits().max_page_pixels, 256 * MIB)
_case_numbers = itertools.count()
RESULT_SCHEMA = result_validator()


@fuzz_settings(
    max_examples=CASES,
    # One moto world (the fixture) serves every case; unique keys keep the cases apart.
    extra_health_checks=(HealthCheck.function_scoped_fixture,),
)
@given(document=st.sampled_from([material_for(SEEDS_BY_NAME[name]) for name in SEED_NAMES]).flatmap(mutants))
def test_every_mutated_upload_ends_in_one_result_and_a_dead_letter_only_when_it_failed(moto_stack, document):
    # Given a mutated document uploaded under a key of its own
    key = f"fuzz/case-{next(_case_numbers)}.bin"
    etag = moto_stack.upload(key, document)

    # When its S3 event reaches the function, then the handler returns within the bounds
    with bounded(seconds=CASE_SECONDS, peak_growth_bytes=PEAK_GROWTH, what=f"the upload {key} ({len(document)} bytes)"):
        response = moto_stack.app.handle(
            retarget(load_event("s3-put.json"), moto_stack.input_bucket, key, etag), lambda_context()
        )

    # And the object has one result, plus one dead letter exactly when it failed
    [outcome] = response["outcomes"]
    result = moto_stack.result(key)
    RESULT_SCHEMA.validate(result)
    letters = moto_stack.dead_letters()
    event(outcome["error_type"] or outcome["status"])
    if outcome["status"] == "succeeded":
        assert result["status"] == "succeeded"
        assert letters == []
        return
    assert outcome["status"] == "failed", outcome
    assert result["status"] == "failed"
    assert len(letters) == 1, f"{len(letters)} dead letters for one failed upload: {letters}"
    [letter] = letters
    assert letter["key"] == key
    assert letter["error_type"] == result["error"]["type"] == outcome["error_type"]
    assert letter["error_message"] == result["error"]["message"]
    assert_named_permanent(letter["error_type"], letter["error_message"], f"s3://{moto_stack.input_bucket}/{key}")
