"""Completion events (issue #11): the body, its schema, the settings and the marker keys."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from importlib import resources

import jsonschema
import pytest

from bucket_ocr.completion import publisher_for
from bucket_ocr.completion.amqp_exchange import AmqpExchangePublisher
from bucket_ocr.completion.errors import EventNotPublishedError
from bucket_ocr.completion.event import (
    DETAIL_TYPES,
    ROUTING_KEYS,
    completion_event,
    detail_type,
    epoch_milliseconds,
    event_from_result,
    routing_key,
)
from bucket_ocr.completion.eventbridge import EventBridgePublisher
from bucket_ocr.completion.published import EVENTS_FOLDER, identity_of, marker_key
from bucket_ocr.completion.settings import CompletionSettings
from bucket_ocr.errors import ConfigurationError, CorruptDocumentError, TransientError
from bucket_ocr.events.records import ObjectRecord, ObjectRef
from bucket_ocr.results import document
from bucket_ocr.results.claims import version_digest, version_of

ENGINE = {"name": "paddleocr", "packages": {}, "models": {}, "bundle": "pp-ocrv6-small-latin-int8", "language": "en"}
SOURCE = ObjectRef("in", "scans/a b.png", version_id="v1", etag="abc", size=10, content_type="image/png")
OUTPUTS = {"json": "ocr/in/scans/a b.png.json", "txt": "ocr/in/scans/a b.png.txt"}


def completion_validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(resources.files("bucket_ocr.completion").joinpath("completion.schema.json").read_text("utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def a_succeeded_result(pages: int = 2) -> dict:
    page = document.PageResult(index=0, width=100, height=50)
    return document.succeeded(
        SOURCE, ENGINE, document.Timings(), [page] * pages, "req-1", outputs=OUTPUTS, job_tag="batch-7"
    )


def a_failed_result() -> dict:
    error = CorruptDocumentError("not a PNG after all", bucket="in", key="scans/a b.png")
    return document.failed(SOURCE, ENGINE, document.Timings(), error, "req-2", outputs={"json": OUTPUTS["json"]})


def test_a_succeeded_result_announces_where_its_outputs_are_and_what_read_it():
    # given a result as the function writes it
    result = a_succeeded_result(pages=2)

    # when its event is built
    event = event_from_result(result, results_bucket="out", result_key=OUTPUTS["json"])

    # then it names the source version, every output, the pages and the run
    assert event["status"] == "succeeded" and event["version"] == "1.0"
    assert event["source"] == {"bucket": "in", "key": "scans/a b.png", "version_id": "v1", "etag": "abc"}
    assert event["results"] == {"bucket": "out", **OUTPUTS}
    assert (event["pages"], event["error"], event["job_tag"]) == (2, None, "batch-7")
    assert (event["request_id"], event["engine_bundle"]) == ("req-1", "pp-ocrv6-small-latin-int8")
    # and its timestamp is the result's processed_at in whole milliseconds
    assert isinstance(event["timestamp"], int)
    assert event["timestamp"] == epoch_milliseconds(result["processed_at"])
    completion_validator().validate(event)
    # and the text and geometry stay in the result: an event is small whatever the document
    assert "text" not in json.dumps(event) and len(json.dumps(event)) < 2048


def test_a_failed_result_announces_its_error_and_routes_apart():
    event = event_from_result(a_failed_result(), results_bucket="out", result_key=OUTPUTS["json"])
    assert event["status"] == "failed" and event["pages"] == 0
    assert event["error"]["type"] == "CorruptDocumentError" and "not a PNG" in event["error"]["message"]
    assert event["results"] == {"bucket": "out", "json": OUTPUTS["json"]}
    assert (detail_type(event), routing_key(event)) == ("OCR Document Failed", "document.failed")
    completion_validator().validate(event)


def test_every_status_has_a_detail_type_and_a_routing_key():
    statuses = set(completion_validator().schema["properties"]["status"]["enum"])
    assert set(DETAIL_TYPES) == set(ROUTING_KEYS) == statuses
    assert set(ROUTING_KEYS.values()) == {"document.succeeded", "document.failed"}


def test_one_result_gives_one_body_however_often_it_is_built():
    # given one result, built into an event twice (a publish, then the retry's republish)
    result = a_succeeded_result()
    first = event_from_result(result, results_bucket="out", result_key=OUTPUTS["json"])
    again = event_from_result(json.loads(json.dumps(result)), results_bucket="out", result_key=OUTPUTS["json"])
    # then the bodies are equal, id and timestamp included, so consumers can drop the second
    assert first == again
    # and another result of the same version (made again after a deletion) is another event
    remade = {**result, "processed_at": "2031-01-01T00:00:00.000+00:00"}
    assert event_from_result(remade, results_bucket="out", result_key=OUTPUTS["json"])["event_id"] != first["event_id"]


def test_a_result_older_than_outputs_and_job_tags_still_gives_a_valid_event():
    result = {k: v for k, v in a_succeeded_result().items() if k not in ("outputs", "job_tag")}
    event = event_from_result(result, results_bucket="out", result_key="ocr/in/x.json")
    assert event["results"] == {"bucket": "out", "json": "ocr/in/x.json"} and event["job_tag"] is None
    completion_validator().validate(event)


def test_the_builder_takes_location_and_tag_as_given():
    event = completion_event(
        a_succeeded_result(), result_location={"bucket": "b", "json": "k.json", "hocr": "k.hocr"}, job_tag=None
    )
    assert event["results"] == {"bucket": "b", "json": "k.json", "hocr": "k.hocr"} and event["job_tag"] is None
    with pytest.raises(ValueError, match="json"):
        completion_event(a_succeeded_result(), result_location={"bucket": "b"}, job_tag=None)


@pytest.mark.parametrize(
    "spoil",
    [
        lambda e: e.update(error=None, status="failed"),
        lambda e: e.update(error={"type": "Boom", "message": "m"}),
        lambda e: e.update(job_tag="has spaces"),
        lambda e: e.update(timestamp=1.5),
        lambda e: e["results"].pop("json"),
        lambda e: e["results"].update(docx="a.docx"),
        lambda e: e.update(text="the whole document"),
        lambda e: e["source"].pop("etag"),
        lambda e: e.update(event_id="not-a-uuid"),
    ],
    ids=[
        "failed-without-error",
        "succeeded-with-error",
        "bad-tag",
        "float-time",
        "no-json",
        "unknown-output",
        "extra-field",
        "no-etag",
        "bad-id",
    ],
)
def test_the_schema_refuses_what_a_consumer_could_not_rely_on(spoil):
    event = event_from_result(a_succeeded_result(), results_bucket="out", result_key=OUTPUTS["json"])
    spoilt = copy.deepcopy(event)
    spoil(spoilt)
    with pytest.raises(jsonschema.ValidationError):
        completion_validator().validate(spoilt)


def test_the_schema_is_published_beside_the_result_schema_in_the_same_draft():
    completion = completion_validator().schema
    result = json.loads(resources.files("bucket_ocr.results").joinpath("result.schema.json").read_text("utf-8"))
    assert completion["$schema"] == result["$schema"]
    assert set(completion["required"]) == set(completion["properties"])


# --- settings ---


def test_events_are_off_by_default():
    settings = CompletionSettings.from_env({})
    assert not settings.enabled and publisher_for(settings) is None
    assert not CompletionSettings.from_env({"OCR_COMPLETION_EVENTS": "none", "OCR_EVENT_BUS_NAME": "x"}).enabled


@pytest.mark.parametrize("bus", ["default", "ocr-events", "arn:aws:events:eu-west-1:123456789012:event-bus/central"])
def test_eventbridge_publishes_on_the_named_bus(bus):
    settings = CompletionSettings.from_env({"OCR_COMPLETION_EVENTS": "EventBridge", "OCR_EVENT_BUS_NAME": bus})
    assert (settings.backend, settings.event_bus_name) == ("eventbridge", bus)
    publisher = publisher_for(settings)
    assert isinstance(publisher, EventBridgePublisher) and repr(bus) in publisher.destination
    # and the bus defaults to the account's default bus
    assert CompletionSettings.from_env({"OCR_COMPLETION_EVENTS": "eventbridge"}).event_bus_name == "default"


@pytest.mark.parametrize(
    "env, variable",
    [
        ({"OCR_COMPLETION_EVENTS": "sns"}, "OCR_COMPLETION_EVENTS"),
        ({"OCR_COMPLETION_EVENTS": "eventbridge", "OCR_EVENT_BUS_NAME": "a bus"}, "OCR_EVENT_BUS_NAME"),
        ({"OCR_COMPLETION_EVENTS": "amqp://u:s3cret@rabbitmq:5672/%2F"}, "OCR_COMPLETION_EVENTS"),
        ({"OCR_COMPLETION_EVENTS": "amqp://u:s3cret@rabbitmq:5672/%2F?queue=q"}, "OCR_COMPLETION_EVENTS"),
        ({"OCR_COMPLETION_EVENTS": "amqp://u:s3cret@rabbitmq:5672/%2F?exchange=amq.topic"}, "OCR_COMPLETION_EVENTS"),
        ({"OCR_COMPLETION_EVENTS": "amqp://u:s3cret@rabbitmq:5672/%2F?exchange=a b"}, "OCR_COMPLETION_EVENTS"),
        ({"OCR_COMPLETION_EVENTS": "amqp:///?exchange=e"}, "OCR_COMPLETION_EVENTS"),
    ],
    ids=["unknown", "bad-bus", "no-exchange", "queue", "amq-exchange", "bad-exchange", "no-host"],
)
def test_a_bad_setting_fails_at_cold_start_naming_its_variable_and_hiding_the_password(env, variable):
    with pytest.raises(ConfigurationError, match=variable) as refused:
        CompletionSettings.from_env(env)
    assert "s3cret" not in str(refused.value)


def test_an_amqp_url_names_the_broker_and_its_exchange_apart():
    settings = CompletionSettings.from_env(
        {"OCR_COMPLETION_EVENTS": "amqp://ocr:s3cret@rabbitmq:5672/%2F?heartbeat=30&exchange=ocr-completions"}
    )
    # then the exchange is ours and the rest is pika's, untouched
    assert (settings.backend, settings.exchange) == ("amqp", "ocr-completions")
    assert settings.broker.broker_url == "amqp://ocr:s3cret@rabbitmq:5672/%2F?heartbeat=30"
    publisher = publisher_for(settings)
    assert isinstance(publisher, AmqpExchangePublisher) and "s3cret" not in publisher.destination


def test_the_settings_module_can_be_imported_by_the_function_settings_without_a_cycle():
    # bucket_ocr.settings is imported by the document layer; completion.settings must not
    # pull either in, or settings.py could not hold a CompletionSettings
    code = (
        "import sys, bucket_ocr.completion.settings, bucket_ocr.completion; "
        "print(sorted(m for m in ('bucket_ocr.settings', 'bucket_ocr.documents', 'pika') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# --- markers and the error ---


def test_a_marker_is_named_after_the_object_version_under_the_results_prefix():
    version = ObjectRef("in", "scans/a b.png", "v1", "abc")
    # then it sits beside the claims, under the prefix, named as the claim of that version is
    assert marker_key("ocr/", version) == f"ocr/{EVENTS_FOLDER}{version_digest(version)}"
    assert marker_key("", version) == f"{EVENTS_FOLDER}{version_digest(version)}"
    # and the result's own source names the same version
    assert identity_of(a_succeeded_result()) == version
    # and another version or content is another marker
    others = {
        marker_key("ocr/", ObjectRef("in", "scans/a b.png", v, e))
        for v, e in (("v2", "abc"), ("v1", "def"), (None, "abc"))
    }
    assert len(others | {marker_key("ocr/", version)}) == 4


def test_a_version_is_its_object_version_and_content_only():
    # given the same version as an event names it, and as the download knows it
    named = ObjectRecord(
        "in", "scans/a b.png", "v1", "abc", event_name="ObjectCreated:Put", origin="s3", sequencer="0A"
    )
    downloaded = ObjectRef("in", "scans/a b.png", "v1", "abc", size=10, content_type="image/png")
    # then both are one version, with one claim and one marker
    assert version_of(named) == version_of(downloaded) == ObjectRef("in", "scans/a b.png", "v1", "abc")
    assert version_digest(named) == version_digest(downloaded)
    # and the names are the ones markers already stored carry (pinned: a new name would
    # make every stored marker look unpublished)
    assert version_digest(downloaded) == "c266eba799926f6fb3e15b82d21516f279b61d8f0e9c9db47ec0a1fbf65b56d6"
    assert version_digest(ObjectRef("in", "Señor.png", None, "abc")) == (
        "e01037e23e009710b3f2eb805c6a1315e6f56ab863c180e5ee61adcf5c383931"
    )


def test_an_unpublished_event_is_a_transient_error_naming_the_object_the_destination_and_why():
    # given the event of a result
    event = event_from_result(a_succeeded_result(), results_bucket="out", result_key=OUTPUTS["json"])
    # when a publisher could not hand it over
    error = EventNotPublishedError.of(event, "EventBridge bus 'ocr'", "ThrottlingException: slow down")
    # then the delivery is retried, and the message says what, where and why
    assert isinstance(error, TransientError)
    assert (error.bucket, error.key) == ("in", "scans/a b.png")
    assert "EventBridge bus 'ocr'" in str(error) and "ThrottlingException: slow down" in str(error)
