"""The broker side of the self-hosted path on a real RabbitMQ: setup, dead letters."""

from __future__ import annotations

import json
import subprocess
import sys
from contextlib import closing

import pytest

from bucket_ocr.amqp import AmqpAddress, Topology, connect, parse_amqp_url
from bucket_ocr.errors import StorageUnavailableError
from bucket_ocr.failures.amqp_queue import AmqpDeadLetterQueue
from bucket_ocr.failures.dead_letters import dead_letter_body
from bucket_ocr_local.processes import wait_for
from bucket_ocr_local.python_path import child_environment
from tests.integration.conftest import unique_name

pytestmark = pytest.mark.integration


def run_setup(broker, **env: str) -> subprocess.CompletedProcess:
    environment = child_environment({"OCR_BROKER_URL": broker.url, **env})
    environment.pop("OCR_DEAD_LETTER_QUEUE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "bucket_ocr.worker", "setup", "--wait", "5"],
        check=False,  # the tests read the exit code and the output
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def ready_messages(broker, queue: str) -> int:
    with closing(connect(parse_amqp_url(broker.url, variable="broker"), name="test")) as connection:
        return connection.channel().queue_declare(queue, passive=True).method.message_count


def test_setup_declares_the_topology_and_running_it_again_changes_nothing(broker):
    # given names of our own on a fresh broker
    names = {
        "OCR_WORK_EXCHANGE": unique_name("ex"),
        "OCR_WORK_QUEUE": unique_name("work"),
        "OCR_DEAD_LETTER_EXCHANGE": unique_name("dlx"),
    }

    # when setup runs twice
    first, second = run_setup(broker, **names), run_setup(broker, **names)

    # then both succeed and the queues exist, empty
    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert names["OCR_WORK_QUEUE"] in first.stdout and "delivery limit 5" in first.stdout
    assert ready_messages(broker, names["OCR_WORK_QUEUE"]) == 0


def test_setup_names_a_queue_that_exists_with_other_settings(broker):
    # given a work queue declared with a delivery limit of 5
    names = {
        "OCR_WORK_EXCHANGE": unique_name("ex"),
        "OCR_WORK_QUEUE": unique_name("work"),
        "OCR_DEAD_LETTER_EXCHANGE": unique_name("dlx"),
    }
    assert run_setup(broker, **names).returncode == 0

    # when setup is asked for another limit on the same queue
    refused = run_setup(broker, **names, OCR_DELIVERY_LIMIT="9")

    # then it fails as a configuration error naming the queue, without a traceback
    assert refused.returncode == 2
    assert "BrokerTopologyError" in refused.stderr and names["OCR_WORK_QUEUE"] in refused.stderr
    assert "Traceback" not in refused.stderr


def test_a_dead_letter_lands_confirmed_on_the_broker_in_the_sqs_letter_format(broker):
    # given a dead-letter queue on the broker
    queue = unique_name("letters")
    topology = Topology(
        dead_letter_queue=queue,
        dead_letter_exchange=unique_name("dlx"),
        work_queue=unique_name("w"),
        exchange=unique_name("e"),
    )
    with closing(connect(parse_amqp_url(broker.url, variable="b"), name="test")) as connection:
        topology.declare(connection.channel())
    letters = AmqpDeadLetterQueue(AmqpAddress(parse_amqp_url(broker.url, variable="b").broker_url, queue))
    record = {"eventSource": "minio:s3", "s3": {"bucket": {"name": "in"}, "object": {"key": "a.png"}}}
    body = dead_letter_body(
        record, ValueError("bad"), attempt=2, bucket="in", key="a.png", result_key="ocr/in/a.png.json"
    )

    # when the function sends it
    message_id = letters.send(body)

    # then it is on the queue, persistent, with the body and attributes an SQS letter has
    with closing(connect(parse_amqp_url(broker.url, variable="b"), name="test")) as connection:
        _, properties, payload = connection.channel().basic_get(queue, auto_ack=True)
    assert json.loads(payload) == body
    assert properties.message_id == message_id and properties.delivery_mode == 2
    assert {k: properties.headers[k] for k in ("error_type", "attempt")} == {"error_type": "ValueError", "attempt": "2"}


def test_a_dead_letter_that_cannot_be_stored_is_a_transient_error_naming_the_object(broker):
    # given a queue that does not exist, then a broker that is not there
    missing = AmqpDeadLetterQueue(
        AmqpAddress(parse_amqp_url(broker.url, variable="b").broker_url, unique_name("nowhere"))
    )
    unreachable = AmqpDeadLetterQueue(parse_amqp_url("amqp://u:p@127.0.0.1:1/%2F?queue=q", variable="b"))
    body = dead_letter_body({}, ValueError("bad"), attempt=1, bucket="in", key="a.png", result_key=None)

    # then neither drops the letter silently: both raise for a retry
    for letters in (missing, unreachable):
        with pytest.raises(StorageUnavailableError, match=r"s3://in/a.png"):
            letters.send(body)


def test_the_consumer_settles_every_message_even_when_the_broker_hands_it_two_at_once(broker):
    # given a consumer on its own topology, whose invocation hands back one poisoned message
    # until the delivery limit dead-letters it: RabbitMQ 3.10's quorum queue then lets one
    # more message than the prefetch through to that consumer
    import threading
    from concurrent.futures import ThreadPoolExecutor

    import pika

    from bucket_ocr.worker.consumer import Consumer
    from bucket_ocr.worker.invocation import Verdict
    from bucket_ocr.worker.settings import WorkerSettings

    names = {
        "OCR_WORK_EXCHANGE": unique_name("ex"),
        "OCR_WORK_QUEUE": unique_name("work"),
        "OCR_DEAD_LETTER_EXCHANGE": unique_name("dlx"),
        "OCR_DELIVERY_LIMIT": "1",
    }
    settings = WorkerSettings.from_env(
        {"OCR_BROKER_URL": broker.url, **names, "OCR_DEAD_LETTER_QUEUE_URL": f"{broker.url}?queue={unique_name('dlq')}"}
    )
    seen: list[bytes] = []

    def invoke(message):
        seen.append(message.body)
        return Verdict.REQUEUE if message.body == b"poison" else Verdict.ACK

    stopping = threading.Event()
    with ThreadPoolExecutor(max_workers=1) as executor:
        consumer = threading.Thread(target=Consumer(settings, invoke, executor, stopping=stopping, name="test").run)
        consumer.start()
        try:
            wait_for(
                lambda: _queue_exists(broker, settings.topology.work_queue), timeout=30, what="the consumer's queue"
            )

            # when the poisoned message comes first and three good ones right behind it
            with closing(connect(settings.broker, name="test")) as connection:
                channel = connection.channel()
                channel.confirm_delivery()
                for body in (b"poison", b"one", b"two", b"three"):
                    channel.basic_publish(
                        settings.topology.exchange,
                        settings.topology.routing_key,
                        body,
                        pika.BasicProperties(delivery_mode=2),
                    )

            # then every good message is handled once and the queue drains
            wait_for(lambda: {b"one", b"two", b"three"} <= set(seen), timeout=30, what="the good messages")
        finally:
            stopping.set()
            consumer.join(30)
    assert seen.count(b"poison") == 2 and sorted(seen[2:]) == [b"one", b"three", b"two"]
    assert ready_messages(broker, settings.topology.work_queue) == 0


def _queue_exists(broker, queue: str) -> bool:
    import pika.exceptions

    try:
        ready_messages(broker, queue)
        return True
    except pika.exceptions.ChannelClosedByBroker:
        return False
