"""Dead letters on the self-hosted broker: a durable queue on RabbitMQ.

Each letter opens its own short connection. Letters are rare, and a connection kept open
between them would sit idle through long documents and be closed by the broker's
heartbeat check; a fresh one costs a few milliseconds and never finds a dead socket.
The publish is confirmed by the broker and mandatory, so a missing queue is an error
here rather than a letter silently dropped.
"""

from __future__ import annotations

import json
import uuid
from contextlib import closing
from typing import Any

from bucket_ocr.amqp import AmqpAddress, connect, unavailable_errors
from bucket_ocr.errors import StorageUnavailableError
from bucket_ocr.failures.dead_letters import letter_attributes


class AmqpDeadLetterQueue:
    def __init__(self, address: AmqpAddress):
        self._address = address

    def send(self, body: dict[str, Any]) -> str:
        import pika

        message_id = str(uuid.uuid4())
        properties = pika.BasicProperties(
            content_type="application/json",
            delivery_mode=pika.DeliveryMode.Persistent,
            message_id=message_id,
            headers=letter_attributes(body),
        )
        try:
            with closing(connect(self._address, name="bucket-ocr dead letters")) as connection:
                channel = connection.channel()
                channel.confirm_delivery()
                channel.basic_publish(
                    exchange="",  # the default exchange routes by queue name
                    routing_key=self._address.queue,
                    body=json.dumps(body, ensure_ascii=False).encode(),
                    properties=properties,
                    mandatory=True,
                )
        except (*unavailable_errors(), pika.exceptions.UnroutableError, pika.exceptions.NackError) as cause:
            raise StorageUnavailableError(
                f"cannot send to the dead-letter queue {self._address.queue!r} on {self._address.redacted}: "
                f"{type(cause).__name__}: {cause}",
                bucket=str(body.get("bucket")),
                key=str(body.get("key")),
            ) from cause
        return message_id
