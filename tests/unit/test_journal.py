"""The local stack's journal: which objects an event names, and nothing made up for a bad one."""

from __future__ import annotations

import json

import pytest

from bucket_ocr.events.routing import objects_named
from tests.support.events import load_event, sqs_wrap


def test_the_objects_of_an_sqs_batch_are_read_from_its_messages():
    # Given a batch of two queued notifications
    batch = sqs_wrap([load_event("s3-put.json"), load_event("s3-put-multi.json")])
    # When the journal reads it, then every object of every message comes out, decoded
    assert objects_named(batch) == [
        {"bucket": "ocr-input", "key": "incoming/invoice 2026 (copy).png"},
        {"bucket": "ocr-input", "key": "scans/page one.png"},
        {"bucket": "ocr-input", "key": "scans/Señor Núñez.pdf"},
        {"bucket": "ocr-input", "key": "scans/a+b.tiff"},
    ]


@pytest.mark.parametrize(
    "event",
    [
        ["not", "an", "object"],
        {"neither": "shape"},
        sqs_wrap(["this is not json"]),
        {"Records": [load_event("sqs-s3.json")["Records"][0], "a bare string"]},
        {"Records": [{"EventSource": "aws:sns", "Sns": {"Message": "{}"}}, {"EventSource": "aws:sns", "Sns": 7}]},
        {"source": "aws.s3", "detail-type": "Object Deleted", "detail": []},
    ],
    ids=["a-list", "unknown", "sqs-body-not-json", "sqs-message-not-an-object", "sns-without-message", "odd-detail"],
)
def test_a_malformed_event_names_no_object(event):
    assert objects_named(json.loads(json.dumps(event))) == []


def test_a_bug_in_the_parser_is_not_taken_for_a_malformed_event(monkeypatch):
    # Given a parser with a bug (not an EventError)
    def broken(event):
        raise TypeError("a bug of ours")

    monkeypatch.setattr("bucket_ocr.events.routing.records_in", broken)
    # When the journal reads an event, then the bug surfaces
    with pytest.raises(TypeError, match="a bug of ours"):
        objects_named(load_event("s3-put.json"))
