"""Blocking pika connections with the options every caller of ours wants, behind types.

pika ships no type information; ``Connection`` and ``Channel`` name the part of its
blocking API this project calls, so the code around it is checked, and ``publish_json``
is the one way a message of ours is published (persistent JSON, and confirmed when the
channel is).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Protocol

from bucket_ocr.amqp.address import AmqpAddress


class Deliver(Protocol):
    """What we read of a delivery's ``pika.spec.Basic.Deliver``."""

    delivery_tag: int
    exchange: str
    routing_key: str


class Properties(Protocol):
    """What we read of a delivery's ``pika.spec.BasicProperties``."""

    message_id: str | None
    headers: Mapping[str, object] | None


class Channel(Protocol):
    """What we call on a ``pika.adapters.blocking_connection.BlockingChannel``."""

    @property
    def is_open(self) -> bool: ...

    def confirm_delivery(self) -> None: ...

    def exchange_declare(self, exchange: str, exchange_type: str = ..., *, durable: bool = ...) -> object: ...

    def queue_declare(
        self, queue: str, *, durable: bool = ..., arguments: Mapping[str, object] | None = ...
    ) -> object: ...

    def queue_bind(self, queue: str, exchange: str, routing_key: str | None = ...) -> object: ...

    def basic_qos(self, *, prefetch_count: int) -> None: ...

    def basic_consume(
        self, queue: str, on_message_callback: Callable[[Channel, Deliver, Properties, bytes], None]
    ) -> str: ...

    def add_on_cancel_callback(self, callback: Callable[[object], None]) -> None: ...

    def basic_ack(self, delivery_tag: int) -> None: ...

    def basic_nack(self, delivery_tag: int, *, requeue: bool) -> None: ...

    def basic_publish(
        self, exchange: str, routing_key: str, body: bytes, properties: Any = ..., mandatory: bool = ...
    ) -> None: ...


class Connection(Protocol):
    """What we call on a ``pika.BlockingConnection``."""

    @property
    def is_open(self) -> bool: ...

    def channel(self) -> Channel: ...

    def process_data_events(self, time_limit: float | None = ...) -> None: ...

    def close(self) -> None: ...


def unavailable_errors() -> tuple[type[Exception], ...]:
    """What pika raises when the broker cannot be reached, goes away or drops our consumer
    (``ConsumerCancelled`` is a channel error).

    Callers treat these as "the broker is unavailable", never as a verdict on a document.
    """
    import pika.exceptions

    return (pika.exceptions.AMQPConnectionError, pika.exceptions.AMQPChannelError, pika.exceptions.StreamLostError)


def not_taken_errors() -> tuple[type[Exception], ...]:
    """What a confirmed publish raises when the broker refused the message (nack) or, for
    a mandatory one, had no queue to route it to."""
    import pika.exceptions

    return (pika.exceptions.UnroutableError, pika.exceptions.NackError)


def connect(address: AmqpAddress, *, name: str) -> Connection:
    """A ``pika.BlockingConnection`` that names itself in the broker's connection list."""
    import pika

    parameters = pika.URLParameters(address.broker_url)
    parameters.client_properties = {"connection_name": name}
    # A broker under memory or disk alarm blocks publishers; fail instead of hanging so the
    # caller's retry (and the platform's) takes over.
    if parameters.blocked_connection_timeout is None:
        parameters.blocked_connection_timeout = 60
    connection: Connection = pika.BlockingConnection(parameters)
    return connection


@contextmanager
def confirmed_channel(address: AmqpAddress, *, name: str) -> Iterator[Channel]:
    """A channel with publisher confirms on a connection of its own, closed afterwards.

    For a message now and then (a dead letter, a completion event): a connection kept
    open between them would sit idle through long documents and be closed by the broker's
    heartbeat check; a fresh one costs a few milliseconds and never finds a dead socket.
    """
    connection = connect(address, name=name)
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        yield channel
    finally:
        # A connection the broker dropped is closed already; closing it again would raise
        # over the error that ended it.
        if connection.is_open:
            connection.close()


def publish_json(
    channel: Channel,
    body: object,
    *,
    exchange: str,
    routing_key: str,
    mandatory: bool,
    message_id: str | None = None,
    headers: Mapping[str, str | None] | None = None,
    message_type: str | None = None,
    app_id: str | None = None,
    timestamp: int | None = None,
) -> None:
    """``body`` as a persistent JSON message; on a confirmed channel it returns once the
    broker has it, else raises one of ``not_taken_errors()``."""
    import pika

    properties = pika.BasicProperties(
        content_type="application/json",
        delivery_mode=pika.DeliveryMode.Persistent,
        message_id=message_id,
        headers=None if headers is None else dict(headers),
        type=message_type,
        app_id=app_id,
        timestamp=timestamp,
    )
    channel.basic_publish(
        exchange=exchange,
        routing_key=routing_key,
        body=json.dumps(body, ensure_ascii=False).encode(),
        properties=properties,
        mandatory=mandatory,
    )
