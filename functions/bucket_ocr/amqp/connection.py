"""Blocking pika connections with the options every caller of ours wants."""

from __future__ import annotations

from typing import Any

from bucket_ocr.amqp.address import AmqpAddress


def unavailable_errors() -> tuple[type[BaseException], ...]:
    """What pika raises when the broker cannot be reached, goes away or drops our consumer
    (``ConsumerCancelled`` is a channel error).

    Callers treat these as "the broker is unavailable", never as a verdict on a document.
    """
    import pika.exceptions

    return (pika.exceptions.AMQPConnectionError, pika.exceptions.AMQPChannelError, pika.exceptions.StreamLostError)


def connect(address: AmqpAddress, *, name: str) -> Any:
    """A ``pika.BlockingConnection`` that names itself in the broker's connection list."""
    import pika

    parameters = pika.URLParameters(address.broker_url)
    parameters.client_properties = {"connection_name": name}
    # A broker under memory or disk alarm blocks publishers; fail instead of hanging so the
    # caller's retry (and the platform's) takes over.
    if parameters.blocked_connection_timeout is None:
        parameters.blocked_connection_timeout = 60
    return pika.BlockingConnection(parameters)
