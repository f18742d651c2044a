"""Completion events on moto: EventBridge really routes them, and a failed publish is owed.

No engine here: results are made with the result module and stored with the result store,
as processing stores them, so each test is about the events alone.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from bucket_ocr.completion import completion_events
from bucket_ocr.completion.errors import EventNotPublishedError
from bucket_ocr.completion.event import event_from_result
from bucket_ocr.completion.eventbridge import EventBridgePublisher
from bucket_ocr.completion.published import CompletionEvents, identity_of, marker_key, owes_event
from bucket_ocr.completion.settings import CompletionSettings
from bucket_ocr.errors import CorruptDocumentError, TransientError
from bucket_ocr.events.records import ObjectRef
from bucket_ocr.results import document
from bucket_ocr.results.keys import result_key_for
from bucket_ocr.results.store import ResultStore
from tests.unit.test_completion import completion_validator

pytestmark = pytest.mark.functional

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "123456789012"  # moto's
PREFIX = "ocr/"
ENGINE = {"name": "paddleocr", "packages": {}, "models": {}, "bundle": "pp-ocrv6-small-latin-int8", "language": "en"}


class World:
    def __init__(self) -> None:
        self.s3 = boto3.client("s3", region_name="us-east-1")
        self.sqs = boto3.client("sqs", region_name="us-east-1")
        self.events = boto3.client("events", region_name="us-east-1")
        self.results_bucket = f"ocr-out-{uuid.uuid4().hex[:8]}"
        self.s3.create_bucket(Bucket=self.results_bucket)

    def completion(self, bus: str = "default", **options: Any) -> CompletionEvents:
        options.setdefault("publish_pauses", ())
        return CompletionEvents(EventBridgePublisher(self.events, bus), self.s3, self.results_bucket, PREFIX, **options)

    def write_result(
        self, key: str, status: str = "succeeded", *, etag: str = "e1", job_tag: str | None = "batch-7"
    ) -> tuple[dict, str]:
        """A result stored as processing stores it; its key."""
        source = ObjectRef("in", key, etag=etag, size=3, content_type="image/png")
        result_key = result_key_for(PREFIX, "in", key)
        outputs = {"json": result_key}
        if status == "succeeded":
            page = document.PageResult(index=0, width=10, height=10)
            result = document.succeeded(
                source, ENGINE, document.Timings(), [page], "req", outputs=outputs, job_tag=job_tag
            )
        else:
            error = CorruptDocumentError("unreadable", bucket="in", key=key)
            result = document.failed(source, ENGINE, document.Timings(), error, "req", outputs=outputs, job_tag=job_tag)
        assert ResultStore(self.s3, self.results_bucket).put(result_key, result)
        return result, result_key

    def queue(self, name: str) -> tuple[str, str]:
        url = self.sqs.create_queue(QueueName=name)["QueueUrl"]
        return url, self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    def received(self, url: str) -> list[dict[str, Any]]:
        messages = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        return [json.loads(message["Body"]) for message in messages]


@pytest.fixture
def world():
    with mock_aws():
        yield World()


def template_rule() -> dict[str, Any]:
    """The example rule template.yaml ships, as CloudFormation would create it here."""
    from cfnlint.decode import decode_str

    template, problems = decode_str((ROOT / "template.yaml").read_text())
    assert not problems, problems
    rule = json.loads(json.dumps(template["Resources"]["FailedDocumentsRule"]["Properties"]))
    pattern = json.loads(
        json.dumps(rule["EventPattern"]).replace(json.dumps({"Ref": "AWS::AccountId"}), json.dumps(ACCOUNT))
    )
    return {"pattern": pattern, "bus": template["Parameters"]["CompletionEventBusName"]["Default"]}


def route(world: World, pattern: dict[str, Any], *, bus: str = "default") -> str:
    url, arn = world.queue(f"routed-{uuid.uuid4().hex[:8]}")
    name = f"rule-{uuid.uuid4().hex[:8]}"
    world.events.put_rule(Name=name, EventPattern=json.dumps(pattern), EventBusName=bus)
    world.events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "queue", "Arn": arn}])
    return url


def test_the_templates_rule_routes_failed_documents_and_only_those_to_its_queue(world):
    # given the template's example rule on the default bus, with a queue as its target
    rule = template_rule()
    failed_queue = route(world, rule["pattern"], bus=rule["bus"])
    completion = world.completion(rule["bus"])
    failed, failed_key = world.write_result("bad.png", "failed")
    succeeded, succeeded_key = world.write_result("good.png")

    # when each result's event is published
    completion.after_result(failed, result_key=failed_key)
    completion.after_result(succeeded, result_key=succeeded_key)

    # then the failed document's event, and only that, arrives, with the body as its detail
    (message,) = world.received(failed_queue)
    assert (message["source"], message["detail-type"]) == ("bucket-ocr", "OCR Document Failed")
    detail = message["detail"]
    completion_validator().validate(detail)
    assert detail == event_from_result(failed, results_bucket=world.results_bucket, result_key=failed_key)
    assert detail["source"]["key"] == "bad.png" and detail["error"]["type"] == "CorruptDocumentError"
    assert detail["results"] == {"bucket": world.results_bucket, "json": failed_key} and detail["job_tag"] == "batch-7"


def test_a_rule_on_the_status_in_the_detail_on_a_bus_of_its_own_gets_succeeded_documents(world):
    # given a custom bus named the way OCR_EVENT_BUS_NAME names it, and a rule on the detail
    world.events.create_event_bus(Name="ocr-events")
    queue = route(
        world, {"source": ["bucket-ocr"], "detail": {"status": ["succeeded"], "job_tag": ["batch-7"]}}, bus="ocr-events"
    )
    settings = CompletionSettings.from_env({"OCR_COMPLETION_EVENTS": "eventbridge", "OCR_EVENT_BUS_NAME": "ocr-events"})
    completion = completion_events(settings, s3=world.s3, results_bucket=world.results_bucket, results_prefix=PREFIX)
    result, key = world.write_result("good.png")

    # when the result's event is published through the factory's publisher
    completion.after_result(result, result_key=key)

    # then it arrives, as "OCR Document Succeeded"
    (message,) = world.received(queue)
    assert message["detail-type"] == "OCR Document Succeeded" and message["detail"]["pages"] == 1


def test_a_published_event_is_marked_and_a_duplicate_delivery_publishes_nothing(world):
    queue = route(world, {"source": ["bucket-ocr"]})
    completion = world.completion()
    result, key = world.write_result("a.png")
    identity = identity_of(result)
    assert completion.owed(identity)

    # when the event is published, then a duplicate delivery finds the result
    completion.after_result(result, result_key=key)
    republished = completion.republish_if_owed(key, identity)

    # then one event went out, the marker records it, and nothing more is owed
    assert not republished and len(world.received(queue)) == 1
    assert not completion.owed(identity)
    marker = world.s3.get_object(Bucket=world.results_bucket, Key=marker_key(PREFIX, identity))
    assert json.loads(marker["Body"].read())["event_id"] == marker["Metadata"]["event-id"]


def test_a_publish_to_a_bus_that_does_not_exist_is_transient_and_the_retry_publishes_the_event_once(world):
    # given a result written and a bus that is not there (yet)
    result, key = world.write_result("late.png", "failed")
    identity = identity_of(result)
    completion = world.completion("not-created-yet")

    # when its event is published
    with pytest.raises(EventNotPublishedError, match=r"not-created-yet.*s3://in/late.png") as refused:
        completion.after_result(result, result_key=key)

    # then the error is one the platform retries, the result is still there, and the event is owed
    assert isinstance(refused.value, TransientError)
    assert ResultStore(world.s3, world.results_bucket).existing(key) is not None
    assert owes_event(world.s3, world.results_bucket, marker_key(PREFIX, identity))

    # when the bus exists and the retried delivery finds the result (the duplicate path)
    world.events.create_event_bus(Name="not-created-yet")
    queue = route(world, {"source": ["bucket-ocr"]}, bus="not-created-yet")
    # (named as the download knows the object: its size and type make it no other version)
    assert completion.republish_if_owed(key, ObjectRef("in", "late.png", etag="e1", size=3, content_type="image/png"))
    # and yet another delivery comes
    assert not completion.republish_if_owed(key, identity)

    # then exactly one event arrived, the very body the first publish would have sent
    (message,) = world.received(queue)
    assert message["detail"] == event_from_result(result, results_bucket=world.results_bucket, result_key=key)


def test_an_entry_eventbridge_refuses_in_a_200_answer_is_transient_too(world):
    # given PutEvents answering 200 with the entry refused (throttled, say)
    result, key = world.write_result("a.png")
    completion = world.completion()
    with Stubber(world.events) as stub:
        stub.add_response(
            "put_events",
            {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "ThrottlingException", "ErrorMessage": "Rate exceeded"}]},
        )
        # then the refusal is raised, named, and nothing is marked
        with pytest.raises(EventNotPublishedError, match="ThrottlingException: Rate exceeded"):
            completion.after_result(result, result_key=key)
    assert completion.owed(identity_of(result))


def test_a_bus_that_refuses_for_a_moment_is_tried_again_before_the_delivery_is_handed_back(world):
    queue = route(world, {"source": ["bucket-ocr"]})
    result, key = world.write_result("a.png")
    completion = world.completion(publish_pauses=(0.0, 0.0))
    with Stubber(world.events) as stub:
        refused = {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "InternalFailure", "ErrorMessage": "x"}]}
        stub.add_response("put_events", refused)
        stub.add_response("put_events", refused)
        stub.add_response("put_events", {"FailedEntryCount": 0, "Entries": [{"EventId": "1"}]})
        completion.after_result(result, result_key=key)
        stub.assert_no_pending_responses()
    # the stub took the publish; the marker went to S3 all the same
    assert not completion.owed(identity_of(result)) and world.received(queue) == []


def test_nothing_is_owed_for_a_result_that_is_gone_or_now_describes_another_version(world):
    queue = route(world, {"source": ["bucket-ocr"]})
    completion = world.completion()
    # a version whose result was never written
    assert not completion.republish_if_owed(
        result_key_for(PREFIX, "in", "never.png"), ObjectRef("in", "never.png", None, "e1")
    )
    # a version whose result was overwritten by the next upload's before the delivery read it
    world.write_result("a.png", etag="new")
    old = ObjectRef("in", "a.png", None, "old")
    assert not completion.republish_if_owed(result_key_for(PREFIX, "in", "a.png"), old)
    assert world.received(queue) == [] and completion.owed(old)


def test_a_marker_that_storage_refuses_does_not_fail_a_published_event(world):
    # given a results bucket gone between the result and the marker
    result, key = world.write_result("a.png")
    completion = CompletionEvents(
        EventBridgePublisher(world.events, "default"), world.s3, "no-such-bucket", PREFIX, publish_pauses=()
    )
    # then the event counts as published (raising would make the retry publish it again)
    event = completion.after_result(result, result_key=key)
    assert event["results"]["bucket"] == "no-such-bucket"
