"""Completion events on a real RabbitMQ: the topic exchange the self-hosted workers publish to."""

from __future__ import annotations

import json
import urllib.parse
from contextlib import closing

import pytest

from bucket_ocr.amqp import connect, parse_amqp_url
from bucket_ocr.completion import publisher_for
from bucket_ocr.completion.amqp_exchange import AmqpExchangePublisher
from bucket_ocr.completion.errors import EventNotPublishedError
from bucket_ocr.completion.event import event_from_result
from bucket_ocr.completion.settings import CompletionSettings
from bucket_ocr.errors import CorruptDocumentError, TransientError
from bucket_ocr.events.records import ObjectRef
from bucket_ocr.results import document
from tests.integration.conftest import unique_name
from tests.support.rabbitmq import management_get
from tests.unit.test_completion import completion_validator

pytestmark = pytest.mark.integration

SOURCE = ObjectRef("in", "scans/a.png", etag="e1", size=3, content_type="image/png")
ENGINE = {"name": "paddleocr", "packages": {}, "models": {}, "bundle": "pp-ocrv6-small-latin-int8", "language": "en"}


def an_event(status: str) -> dict:
    outputs = {"json": f"ocr/in/scans/a.png.{status}.json"}
    if status == "failed":
        error = CorruptDocumentError("unreadable", bucket="in", key="scans/a.png")
        result = document.failed(SOURCE, ENGINE, document.Timings(), error, "req", outputs=outputs, job_tag="batch-7")
    else:
        result = document.succeeded(SOURCE, ENGINE, document.Timings(), [], "req", outputs=outputs, job_tag="batch-7")
    return event_from_result(result, results_bucket="results", result_key=outputs["json"])


def publisher(broker, exchange: str) -> AmqpExchangePublisher:
    settings = CompletionSettings.from_env({"OCR_COMPLETION_EVENTS": f"{broker.url}?exchange={exchange}"})
    made = publisher_for(settings)
    assert isinstance(made, AmqpExchangePublisher)
    return made


def bound_queue(broker, exchange: str, binding: str) -> str:
    """A queue bound to the (durable topic) exchange, declared as a consumer would."""
    queue = unique_name("events")
    with closing(connect(parse_amqp_url(broker.url, variable="b"), name="test")) as connection:
        channel = connection.channel()
        channel.exchange_declare(exchange, "topic", durable=True)
        channel.queue_declare(queue, durable=True)
        channel.queue_bind(queue, exchange, routing_key=binding)
    return queue


def drain(broker, queue: str) -> list[tuple[str, object, dict]]:
    messages = []
    with closing(connect(parse_amqp_url(broker.url, variable="b"), name="test")) as connection:
        channel = connection.channel()
        while True:
            method, properties, body = channel.basic_get(queue, auto_ack=True)
            if method is None:
                return messages
            messages.append((method.routing_key, properties, json.loads(body)))


def test_a_queue_bound_to_document_failed_gets_the_failed_documents_only(broker):
    # given a consumer's queue bound with document.failed, and one with document.*
    exchange = unique_name("ocr-completions")
    failed_only, everything = (
        bound_queue(broker, exchange, "document.failed"),
        bound_queue(broker, exchange, "document.*"),
    )
    events = publisher(broker, exchange)
    failed, succeeded = an_event("failed"), an_event("succeeded")

    # when a failed and a succeeded document's events are published
    events.publish(failed)
    events.publish(succeeded)

    # then the failed one alone reaches the first queue, persistent, JSON, with the event's id
    ((routing_key, properties, body),) = drain(broker, failed_only)
    assert routing_key == "document.failed" and body == failed
    completion_validator().validate(body)
    assert properties.delivery_mode == 2 and properties.content_type == "application/json"
    assert properties.message_id == failed["event_id"] and properties.type == "OCR Document Failed"
    assert properties.headers == {"status": "failed", "job_tag": "batch-7"}
    # and both reach the wildcard binding, each under its own routing key
    assert [(key, body["status"]) for key, _, body in drain(broker, everything)] == [
        ("document.failed", "failed"),
        ("document.succeeded", "succeeded"),
    ]


def test_the_publisher_declares_a_durable_topic_exchange_and_publishes_with_no_queue_bound(broker):
    # given an exchange no one has declared or bound yet
    exchange = unique_name("fresh")

    # when an event is published (a deployment before its first consumer)
    publisher(broker, exchange).publish(an_event("succeeded"))

    # then it is not an error: the exchange now exists, durable, as a topic exchange
    status, described = management_get(broker, f"/api/exchanges/{urllib.parse.quote('/', safe='')}/{exchange}")
    assert status == 200 and (described["type"], described["durable"]) == ("topic", True)


def test_an_exchange_of_that_name_and_another_type_is_a_transient_error_naming_it(broker):
    exchange = unique_name("direct")
    with closing(connect(parse_amqp_url(broker.url, variable="b"), name="test")) as connection:
        connection.channel().exchange_declare(exchange, "direct", durable=True)
    with pytest.raises(EventNotPublishedError, match=rf"{exchange}.*PRECONDITION_FAILED.*s3://in/scans/a.png"):
        publisher(broker, exchange).publish(an_event("failed"))


def test_a_stopped_broker_is_a_transient_error_and_the_event_goes_once_it_is_back(broker):
    # given a publisher, and the broker stopped
    exchange = unique_name("ocr-completions")
    queue = bound_queue(broker, exchange, "document.#")
    events = publisher(broker, exchange)
    broker.stop()
    try:
        # then publishing raises the error the platform retries, naming the object, without the password
        with pytest.raises(EventNotPublishedError, match=r"s3://in/scans/a.png") as refused:
            events.publish(an_event("failed"))
        assert isinstance(refused.value, TransientError) and broker.password not in str(refused.value)
    finally:
        broker.start()
    # and the retry, once the broker is back, delivers to the durable queue
    events.publish(an_event("failed"))
    assert [body["status"] for _, _, body in drain(broker, queue)] == ["failed"]
