"""Completion events on the self-hosted broker: a durable topic exchange on RabbitMQ.

Routing keys ``document.succeeded`` and ``document.failed``: bind ``document.failed`` for
failures only, ``document.*`` for all. The publisher declares the exchange (idempotent)
so that events published before any consumer bound a queue do not fail; with no queue
bound they are dropped, as EventBridge drops an event no rule matches, so the publish is
not mandatory. Publisher confirms make "published" mean "the broker has it".

Like the dead letters, each event opens its own short connection: one a document, a few
milliseconds, and never a socket the broker's heartbeat closed during a long OCR.
"""

from __future__ import annotations

import json
from contextlib import closing
from typing import Any

from bucket_ocr.amqp import AmqpAddress, connect, unavailable_errors
from bucket_ocr.completion.errors import EventNotPublishedError
from bucket_ocr.completion.event import SOURCE, detail_type, routing_key


class AmqpExchangePublisher:
    def __init__(self, broker: AmqpAddress, exchange: str):
        self._broker = broker
        self._exchange = exchange

    @property
    def destination(self) -> str:
        return f"exchange {self._exchange!r} on {self._broker.redacted}"

    def publish(self, event: dict[str, Any]) -> None:
        import pika

        properties = pika.BasicProperties(
            content_type="application/json",
            delivery_mode=pika.DeliveryMode.Persistent,
            message_id=event["event_id"],
            timestamp=event["timestamp"] // 1000,  # AMQP timestamps are whole seconds
            type=detail_type(event),
            app_id=SOURCE,
            # For a headers exchange or a shovel that filters without parsing bodies.
            headers={"status": event["status"], "job_tag": event["job_tag"]},
        )
        try:
            with closing(connect(self._broker, name="bucket-ocr completion events")) as connection:
                channel = connection.channel()
                channel.confirm_delivery()
                channel.exchange_declare(self._exchange, "topic", durable=True)
                channel.basic_publish(
                    exchange=self._exchange,
                    routing_key=routing_key(event),
                    body=json.dumps(event, ensure_ascii=False).encode(),
                    properties=properties,
                )
        except (*unavailable_errors(), pika.exceptions.NackError) as cause:
            # An exchange of that name and another type is refused (PRECONDITION_FAILED) as
            # a channel error: a fix on the broker makes the retry pass, so it is transient too.
            source = event["source"]
            raise EventNotPublishedError(
                f"completion event not published to {self.destination}: {type(cause).__name__}: {cause}",
                bucket=source["bucket"],
                key=source["key"],
            ) from cause
