"""The worker's own settings: where the broker is and what its queues are called.

The function's settings (results bucket, models...) are read by the function itself when
the handler module loads, exactly as on Lambda.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from bucket_ocr.amqp import AmqpAddress, Topology, parse_amqp_url
from bucket_ocr.errors import ConfigurationError
from bucket_ocr.settings import EnvironmentReader

DEFAULT_HANDLER = "bucket_ocr.handler.lambda_handler"


@dataclass(frozen=True)
class WorkerSettings:
    broker: AmqpAddress
    topology: Topology
    # The function's own dead letters (and messages that are not events) go to the queue
    # where the broker dead-letters what exceeded the delivery limit: one queue to watch.
    dead_letters: AmqpAddress
    handler: str = DEFAULT_HANDLER
    # What the handler's context reports as the time left: a Lambda function's timeout.
    timeout_seconds: int = 900
    # First pause before a failed delivery goes back to the queue; doubled on each delivery.
    retry_pause_seconds: float = 1.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> WorkerSettings:
        env = EnvironmentReader(os.environ if environ is None else environ)
        broker = parse_amqp_url(env.required("OCR_BROKER_URL"), variable="OCR_BROKER_URL")
        defaults = Topology()
        letters = AmqpAddress(broker.broker_url, defaults.dead_letter_queue)
        letters_url = env.optional("OCR_DEAD_LETTER_QUEUE_URL")
        if letters_url is not None:
            letters = parse_amqp_url(letters_url, variable="OCR_DEAD_LETTER_QUEUE_URL", queue_required=True)
            if letters.redacted != broker.redacted:
                # Redelivery-limit letters are routed by the broker that holds the work
                # queue; the function's own letters must land in the same queue.
                raise ConfigurationError(
                    "OCR_DEAD_LETTER_QUEUE_URL must be on the broker of OCR_BROKER_URL "
                    f"({broker.redacted}), got {letters.redacted}"
                )
        topology = Topology(
            exchange=env.text("OCR_WORK_EXCHANGE", defaults.exchange),
            routing_key=env.text("OCR_WORK_ROUTING_KEY", defaults.routing_key),
            work_queue=env.text("OCR_WORK_QUEUE", defaults.work_queue),
            dead_letter_exchange=env.text("OCR_DEAD_LETTER_EXCHANGE", defaults.dead_letter_exchange),
            dead_letter_queue=letters.queue or defaults.dead_letter_queue,
            delivery_limit=env.integer("OCR_DELIVERY_LIMIT", defaults.delivery_limit, low=1, high=1000),
        )
        for variable, value in (
            ("OCR_WORK_EXCHANGE", topology.exchange),
            ("OCR_WORK_QUEUE", topology.work_queue),
            ("OCR_DEAD_LETTER_EXCHANGE", topology.dead_letter_exchange),
        ):
            if not value:
                raise ConfigurationError(f"{variable} must not be empty")
        return cls(
            broker=broker,
            topology=topology,
            dead_letters=letters,
            handler=env.text("OCR_WORKER_HANDLER", DEFAULT_HANDLER),
            timeout_seconds=env.integer("OCR_WORKER_TIMEOUT_SECONDS", 900, low=1),
            retry_pause_seconds=env.integer("OCR_WORKER_RETRY_PAUSE_MS", 1000, low=0, high=60000) / 1000,
        )
