"""The order of events on one key, as S3 and MinIO state it in ``sequencer``."""

from __future__ import annotations

import pytest

from bucket_ocr.events import records_from_payload
from bucket_ocr.results.store import ExistingResult, sequencer_order
from tests.support.events import load_event


@pytest.mark.parametrize(
    "earlier, later",
    [
        ("0A", "0B"),
        # S3: strings of different lengths compare once the shorter is left-padded with zeros
        ("FF", "0100"),
        ("0055AED6DCD90281E5", "0055AED6DCD90281E6"),
        # no sequencer (a direct invocation) orders before any
        (None, "00"),
    ],
)
def test_a_later_sequencer_orders_after_an_earlier_one(earlier, later):
    assert sequencer_order(earlier) < sequencer_order(later)
    assert ExistingResult("succeeded", "e", None, source_sequencer=later).is_later_than(earlier)
    assert not ExistingResult("succeeded", "e", None, source_sequencer=earlier).is_later_than(later)


def test_an_equal_or_unreadable_sequencer_is_not_later():
    assert not ExistingResult("succeeded", "e", None, source_sequencer="0A").is_later_than("0A")
    assert not ExistingResult("succeeded", "e", None, source_sequencer="not-hex").is_later_than("0A")


@pytest.mark.parametrize(
    "fixture, sequencer",
    [
        ("s3-put.json", "0A1B2C3D4E5F678901"),
        ("minio-record.json", "187C2B0B2F9B8C40"),
        ("eventbridge-object-created.json", "00617F08299329D189"),
    ],
)
def test_every_event_shape_carries_its_sequencer_into_the_record(fixture, sequencer):
    [record] = records_from_payload(load_event(fixture))
    assert record.sequencer == sequencer


def test_a_direct_invocation_has_no_sequencer():
    [record] = records_from_payload(load_event("direct.json"))
    assert record.sequencer is None
