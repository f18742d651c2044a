"""Exchanges, queues and bindings of the self-hosted path, declared from code.

MinIO publishes each upload event to ``exchange`` with ``routing_key``; it lands in the
durable quorum queue ``work_queue``. A message handed back more than ``delivery_limit``
times (a worker nacked it, or died holding it) is dead-lettered by RabbitMQ itself to
``dead_letter_exchange`` and on to ``dead_letter_queue``: the broker's counterpart of an
SQS redrive policy. The function sends its own permanent failures to that queue too, so
one queue holds everything that needs a person.

Declaring is idempotent; a queue that already exists with other arguments is refused by
the broker (PRECONDITION_FAILED) and reported as a ``BrokerTopologyError`` naming it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bucket_ocr.amqp.connection import Channel
from bucket_ocr.errors import ConfigurationError


class BrokerTopologyError(ConfigurationError):
    """The broker holds an exchange or queue of ours declared differently."""


@dataclass(frozen=True)
class Topology:
    exchange: str = "bucket-ocr"
    routing_key: str = "uploads"
    work_queue: str = "ocr-work"
    dead_letter_exchange: str = "bucket-ocr-dead-letters"
    dead_letter_queue: str = "ocr-dead-letters"
    delivery_limit: int = 5

    def work_queue_arguments(self) -> dict[str, str | int]:
        return {
            "x-queue-type": "quorum",
            "x-delivery-limit": self.delivery_limit,
            "x-dead-letter-exchange": self.dead_letter_exchange,
            # At-least-once dead-lettering: RabbitMQ keeps a message until the dead-letter
            # queue has confirmed it, so a broker restart mid-way cannot drop it. It
            # requires reject-publish overflow (no length limit is set, so nothing is
            # ever rejected for length).
            "x-dead-letter-strategy": "at-least-once",
            "x-overflow": "reject-publish",
        }

    def declare(self, channel: Channel) -> None:
        """Everything, in dependency order."""
        import pika.exceptions

        steps: list[tuple[str, Callable[[], object]]] = [
            (f"exchange {self.exchange}", lambda: channel.exchange_declare(self.exchange, "direct", durable=True)),
            (
                f"exchange {self.dead_letter_exchange}",
                lambda: channel.exchange_declare(self.dead_letter_exchange, "fanout", durable=True),
            ),
            (
                f"queue {self.dead_letter_queue}",
                lambda: channel.queue_declare(
                    self.dead_letter_queue, durable=True, arguments={"x-queue-type": "quorum"}
                ),
            ),
            (
                f"queue {self.work_queue}",
                lambda: channel.queue_declare(self.work_queue, durable=True, arguments=self.work_queue_arguments()),
            ),
        ]
        for what, declare in steps:
            try:
                declare()
            except pika.exceptions.ChannelClosedByBroker as refused:
                raise BrokerTopologyError(
                    f"the broker refused {what}: {refused.reply_text}. It exists with other settings; "
                    "delete it (after draining it) or declare the same settings"
                ) from refused
        channel.queue_bind(self.dead_letter_queue, self.dead_letter_exchange)
        channel.queue_bind(self.work_queue, self.exchange, routing_key=self.routing_key)
