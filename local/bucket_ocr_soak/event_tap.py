"""Copies of the real events, so the soak can deliver one a second time.

A duplicate delivery is the very message the store sent, handed to the work queue again,
as a queue with at-least-once delivery may. To have that message, a tap queue is
subscribed beside the work queue and receives a copy of every event:
- moto: the input bucket notifies a second SQS queue (moto's S3 sends an event to every
  queue configuration);
- MinIO: a second queue is bound to the exchange MinIO publishes to, with the same
  routing key, so RabbitMQ routes each event to both.
Nobody consumes the tap but the soak.
"""

from __future__ import annotations

import json
import random
from abc import ABC, abstractmethod
from contextlib import closing
from typing import Any

from bucket_ocr.events.routing import objects_named
from bucket_ocr_local.spec import StackSpec

TAP_QUEUE = "soak-event-tap"


class EventTap(ABC):
    def redeliver_one(self, rng: random.Random) -> list[dict[str, str]] | None:
        """One event seen since the last call, chosen by ``rng``, sent to the work queue again.

        Returns the objects it names, or None when no event has arrived since.
        """
        bodies = [body for body in self._take_all() if objects_named(_json(body))]
        if not bodies:
            return None
        body = rng.choice(bodies)
        self._send_to_work_queue(body)
        return objects_named(_json(body))

    def clear(self) -> int:
        """Forgets the events seen so far (the calibration's); returns how many."""
        return len(self._take_all())

    @abstractmethod
    def _take_all(self) -> list[bytes]:
        """Every event copy waiting on the tap, removed from it."""

    @abstractmethod
    def _send_to_work_queue(self, body: bytes) -> None: ...


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return {}


def open_tap(spec: StackSpec) -> EventTap:
    return _AmqpTap(spec) if spec.broker_url else _SqsTap(spec)


class _SqsTap(EventTap):
    def __init__(self, spec: StackSpec):
        self._spec = spec
        self._sqs = spec.client("sqs")
        self._url = self._sqs.create_queue(QueueName=TAP_QUEUE)["QueueUrl"]
        tap_arn = self._sqs.get_queue_attributes(QueueUrl=self._url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        s3 = spec.client("s3")
        configuration = s3.get_bucket_notification_configuration(Bucket=spec.input_bucket)
        queues = configuration.get("QueueConfigurations", [])
        queues.append({"Id": "soak-event-tap", "QueueArn": tap_arn, "Events": ["s3:ObjectCreated:*"]})
        s3.put_bucket_notification_configuration(
            Bucket=spec.input_bucket, NotificationConfiguration={"QueueConfigurations": queues}
        )

    def _take_all(self) -> list[bytes]:
        bodies = []
        while True:
            batch = self._sqs.receive_message(QueueUrl=self._url, MaxNumberOfMessages=10).get("Messages", [])
            if not batch:
                return bodies
            for message in batch:
                bodies.append(message["Body"].encode())
                self._sqs.delete_message(QueueUrl=self._url, ReceiptHandle=message["ReceiptHandle"])

    def _send_to_work_queue(self, body: bytes) -> None:
        self._sqs.send_message(QueueUrl=self._spec.events_queue_url, MessageBody=body.decode())


class _AmqpTap(EventTap):
    def __init__(self, spec: StackSpec):
        from bucket_ocr.amqp import Topology

        self._spec = spec
        topology = Topology()
        with closing(self._connect()) as connection:
            channel = connection.channel()
            # Durable, so the copies survive the broker's injected restarts like the work queue's.
            channel.queue_declare(TAP_QUEUE, durable=True)
            channel.queue_bind(TAP_QUEUE, topology.exchange, routing_key=topology.routing_key)

    def _connect(self) -> Any:
        from bucket_ocr.amqp import connect, parse_amqp_url

        return connect(parse_amqp_url(self._spec.broker_url, variable="broker_url"), name="bucket-ocr soak tap")

    def _take_all(self) -> list[bytes]:
        bodies = []
        with closing(self._connect()) as connection:
            channel = connection.channel()
            while True:
                method, _, body = channel.basic_get(TAP_QUEUE, auto_ack=True)
                if method is None:
                    return bodies
                bodies.append(body)

    def _send_to_work_queue(self, body: bytes) -> None:
        import pika

        with closing(self._connect()) as connection:
            channel = connection.channel()
            channel.confirm_delivery()
            # Through the default exchange straight to the work queue, persistent and
            # confirmed, as MinIO's own publish is.
            channel.basic_publish(
                exchange="",
                routing_key=self._spec.work_queue,
                body=body,
                properties=pika.BasicProperties(
                    content_type="application/json", delivery_mode=pika.DeliveryMode.Persistent
                ),
                mandatory=True,
            )
