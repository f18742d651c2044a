"""Dead letters on the self-hosted broker: a durable queue on RabbitMQ.

Each letter opens its own short connection (``confirmed_channel``): letters are rare. The
publish is confirmed by the broker and mandatory, so a missing queue is an error here
rather than a letter silently dropped.
"""

from __future__ import annotations

import uuid

from bucket_ocr.amqp import AmqpAddress, confirmed_channel, not_taken_errors, publish_json, unavailable_errors
from bucket_ocr.errors import StorageUnavailableError
from bucket_ocr.failures.dead_letters import DeadLetter, letter_attributes


class AmqpDeadLetterQueue:
    def __init__(self, address: AmqpAddress):
        if not address.queue:
            raise ValueError(f"a dead-letter queue address must name its queue, got {address.redacted}")
        self._address = address
        self._queue = address.queue

    def send(self, body: DeadLetter) -> str:
        message_id = str(uuid.uuid4())
        try:
            with confirmed_channel(self._address, name="bucket-ocr dead letters") as channel:
                publish_json(
                    channel,
                    body,
                    exchange="",  # the default exchange routes by queue name
                    routing_key=self._queue,
                    mandatory=True,
                    message_id=message_id,
                    headers=letter_attributes(body),
                )
        except (*unavailable_errors(), *not_taken_errors()) as cause:
            raise StorageUnavailableError(
                f"cannot send to the dead-letter queue {self._queue!r} on {self._address.redacted}: "
                f"{type(cause).__name__}: {cause}",
                bucket=str(body["bucket"]),
                key=str(body["key"]),
            ) from cause
        return message_id
