"""Completion events on the self-hosted broker: a durable topic exchange on RabbitMQ.

Routing keys ``document.succeeded`` and ``document.failed``: bind ``document.failed`` for
failures only, ``document.*`` for all. The publisher declares the exchange (idempotent)
so that events published before any consumer bound a queue do not fail; with no queue
bound they are dropped, as EventBridge drops an event no rule matches, so the publish is
not mandatory. Publisher confirms make "published" mean "the broker has it".

Like the dead letters, each event opens its own short connection (``confirmed_channel``):
one a document, a few milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass

from bucket_ocr.amqp import AmqpAddress, confirmed_channel, not_taken_errors, publish_json, unavailable_errors
from bucket_ocr.completion.errors import EventNotPublishedError
from bucket_ocr.completion.event import SOURCE, CompletionEvent, detail_type, routing_key


@dataclass(frozen=True)
class AmqpExchangePublisher:
    broker: AmqpAddress
    exchange: str

    @property
    def destination(self) -> str:
        return f"exchange {self.exchange!r} on {self.broker.redacted}"

    def publish(self, event: CompletionEvent) -> None:
        try:
            with confirmed_channel(self.broker, name="bucket-ocr completion events") as channel:
                channel.exchange_declare(self.exchange, "topic", durable=True)
                publish_json(
                    channel,
                    event,
                    exchange=self.exchange,
                    routing_key=routing_key(event),
                    mandatory=False,
                    message_id=event["event_id"],
                    message_type=detail_type(event),
                    app_id=SOURCE,
                    timestamp=event["timestamp"] // 1000,  # AMQP timestamps are whole seconds
                    # For a headers exchange or a shovel that filters without parsing bodies.
                    headers={"status": event["status"], "job_tag": event["job_tag"]},
                )
        except (*unavailable_errors(), *not_taken_errors()) as cause:
            # An exchange of that name and another type is refused (PRECONDITION_FAILED) as
            # a channel error: a fix on the broker makes the retry pass, so it is transient too.
            raise EventNotPublishedError.of(event, self.destination, f"{type(cause).__name__}: {cause}") from cause
