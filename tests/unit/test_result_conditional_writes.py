"""Results and claims are written conditionally: which refusals mean "another writer got in
first, look again" (one rule for both), and which are the caller's to raise."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from bucket_ocr.storage import lost_conditional_write


def refusal(code: str, status: int) -> ClientError:
    return ClientError({"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, "PutObject")


@pytest.mark.parametrize(
    "code, status",
    [
        ("PreconditionFailed", 412),  # If-Match / If-None-Match did not hold
        ("SomeGatewaysCode", 412),  # a proxy's own code for the same status
        ("ConditionalRequestConflict", 409),  # another conditional write on the key under way
        ("NoSuchKey", 404),  # the object an If-Match named was deleted meanwhile
    ],
)
def test_a_write_that_another_writer_got_in_before_is_a_lost_race(code, status):
    assert lost_conditional_write(refusal(code, status))


@pytest.mark.parametrize(
    "code, status",
    [("AccessDenied", 403), ("NoSuchBucket", 404), ("SlowDown", 503), ("InternalError", 500)],
)
def test_a_refusal_for_any_other_reason_is_not_a_lost_race(code, status):
    # (the caller raises it: storage_errors makes it transient or names the bucket's fault)
    assert not lost_conditional_write(refusal(code, status))
