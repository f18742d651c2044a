"""AMQP addresses and the worker's settings: what an operator writes, what the worker reads."""

from __future__ import annotations

import pytest

from bucket_ocr.amqp import is_amqp_url, parse_amqp_url
from bucket_ocr.errors import ConfigurationError
from bucket_ocr.settings import Settings
from bucket_ocr.worker.settings import WorkerSettings

BROKER = "amqp://ocr:s3cret@rabbitmq:5672/%2F"


def test_a_queue_url_splits_into_what_pika_takes_and_the_queue():
    # given a dead-letter queue URL with a pika option beside our queue parameter
    address = parse_amqp_url(f"{BROKER}?heartbeat=30&queue=ocr-dead-letters", variable="X")

    # then the queue is ours and the rest passes through to pika untouched
    assert address.queue == "ocr-dead-letters"
    assert address.broker_url == f"{BROKER}?heartbeat=30"
    # and logs never see the password
    assert "s3cret" not in address.redacted and address.redacted == "amqp://ocr:***@rabbitmq:5672/%2F"


@pytest.mark.parametrize("url", ["http://rabbitmq:5672/", "amqp://", "rabbitmq:5672"])
def test_what_is_not_an_amqp_url_is_refused_naming_the_variable(url):
    with pytest.raises(ConfigurationError, match="OCR_BROKER_URL"):
        parse_amqp_url(url, variable="OCR_BROKER_URL")


def test_an_error_message_hides_the_password():
    with pytest.raises(ConfigurationError) as refused:
        parse_amqp_url("http://ocr:s3cret@rabbitmq/", variable="OCR_BROKER_URL")
    assert "s3cret" not in str(refused.value)


def test_the_function_refuses_an_amqp_dead_letter_url_without_its_queue_at_cold_start(tmp_path):
    # given the function's environment with a broker but no queue for dead letters
    env = {"OCR_RESULTS_BUCKET": "r", "OCR_MODELS_DIR": str(tmp_path), "OCR_DEAD_LETTER_QUEUE_URL": BROKER}

    # then settings fail at once, naming the variable and the form it wants
    with pytest.raises(ConfigurationError, match=r"OCR_DEAD_LETTER_QUEUE_URL must name its queue"):
        Settings.from_env(env)
    # and with the queue named it is accepted
    assert is_amqp_url(
        Settings.from_env({**env, "OCR_DEAD_LETTER_QUEUE_URL": f"{BROKER}?queue=dl"}).dead_letter_queue_url
    )


def test_worker_settings_default_to_the_topology_infra_deploys():
    settings = WorkerSettings.from_env({"OCR_BROKER_URL": BROKER})
    topology = settings.topology
    assert (topology.exchange, topology.routing_key, topology.work_queue) == ("bucket-ocr", "uploads", "ocr-work")
    assert (topology.dead_letter_exchange, topology.dead_letter_queue) == (
        "bucket-ocr-dead-letters",
        "ocr-dead-letters",
    )
    assert topology.delivery_limit == 5
    assert settings.dead_letters.queue == "ocr-dead-letters" and settings.handler == "bucket_ocr.handler.lambda_handler"


def test_the_work_queue_is_a_quorum_queue_that_dead_letters_past_its_delivery_limit():
    settings = WorkerSettings.from_env({"OCR_BROKER_URL": BROKER, "OCR_DELIVERY_LIMIT": "7"})
    arguments = settings.topology.work_queue_arguments()
    assert arguments["x-queue-type"] == "quorum"
    assert arguments["x-delivery-limit"] == 7
    assert arguments["x-dead-letter-exchange"] == "bucket-ocr-dead-letters"
    assert arguments["x-dead-letter-strategy"] == "at-least-once" and arguments["x-overflow"] == "reject-publish"


def test_the_dead_letter_queue_names_the_topology_queue_and_must_be_on_the_same_broker():
    # given the function's dead-letter URL on the worker's broker
    settings = WorkerSettings.from_env(
        {"OCR_BROKER_URL": BROKER, "OCR_DEAD_LETTER_QUEUE_URL": f"{BROKER}?queue=failed-ocr"}
    )
    assert settings.topology.dead_letter_queue == "failed-ocr"

    # then one on another broker is refused: the broker's own letters would land elsewhere
    with pytest.raises(ConfigurationError, match="OCR_DEAD_LETTER_QUEUE_URL must be on the broker"):
        WorkerSettings.from_env(
            {"OCR_BROKER_URL": BROKER, "OCR_DEAD_LETTER_QUEUE_URL": "amqp://ocr:x@other:5672/%2F?queue=q"}
        )


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("OCR_BROKER_URL", "", "OCR_BROKER_URL is required"),
        ("OCR_DELIVERY_LIMIT", "0", "OCR_DELIVERY_LIMIT must be between 1 and 1000"),
        ("OCR_WORK_QUEUE", " ", "OCR_WORK_QUEUE must not be empty"),
    ],
)
def test_bad_worker_settings_name_their_variable(variable, value, message):
    with pytest.raises(ConfigurationError, match=message):
        WorkerSettings.from_env({"OCR_BROKER_URL": BROKER, variable: value})
