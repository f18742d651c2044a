"""The consume loop: one message at a time, acknowledged only once it is settled.

pika's blocking connection is not thread-safe and sends heartbeats only while this
thread calls into it, so the handler runs on one other thread (always the same one: the
engine is loaded on it and PaddleOCR is not thread-safe) while this one keeps the
connection alive (a 60 s page must not cost the connection) and acks or nacks afterwards.

A lost broker is reconnected with backoff; the message in hand when it went is finished
first, and since it could not be acknowledged RabbitMQ delivers it again, where the
function's duplicate check finds its result. SIGTERM lets the message in hand finish.
A fault in the worker's own code (the invoker raising) is not caught: the worker stops
with its traceback, and the message it held goes back to the queue with the connection.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from bucket_ocr.amqp import Channel, Connection, Deliver, Properties, connect, unavailable_errors
from bucket_ocr.observability import logger
from bucket_ocr.worker.invocation import Message, Verdict
from bucket_ocr.worker.settings import WorkerSettings

PUMP_SECONDS = 0.5
MAX_BACKOFF_SECONDS = 30.0
MAX_RETRY_PAUSE_SECONDS = 30.0


@dataclass(frozen=True)
class _Delivery:
    tag: int  # the channel's delivery tag, to ack or nack it
    message: Message


class Consumer:
    def __init__(
        self,
        settings: WorkerSettings,
        invoke: Callable[[Message], Verdict],
        executor: ThreadPoolExecutor,
        *,
        stopping: threading.Event,
        name: str,
    ):
        self._settings = settings
        self._invoke = invoke
        self._executor = executor
        self._stopping = stopping
        self._name = name
        # Deliveries not yet settled, oldest first. Prefetch 1 should keep this at one, but
        # a quorum queue can hand a consumer one more after nacks (seen on RabbitMQ 3.10):
        # each is still settled in turn, never dropped.
        self._held: deque[_Delivery] = deque()

    def run(self) -> None:
        backoff = 1.0
        while not self._stopping.is_set():
            try:
                self._consume()
                backoff = 1.0
            except unavailable_errors() as lost:
                logger.warning(
                    "broker unavailable: reconnecting",
                    extra={
                        "broker": self._settings.broker.redacted,
                        "error": f"{type(lost).__name__}: {lost}",
                        "retry_in": backoff,
                    },
                )
                self._stopping.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)

    def _consume(self) -> None:
        topology = self._settings.topology
        connection = connect(self._settings.broker, name=self._name)
        try:
            channel = connection.channel()
            # Declared by every worker as well as by `setup`: idempotent, and a worker that
            # starts first (or meets a broker whose data was lost) still finds its queues.
            topology.declare(channel)
            channel.basic_qos(prefetch_count=1)
            # The broker cancels a consumer whose queue is deleted or moved; without this a
            # worker would stay connected and idle forever.
            channel.add_on_cancel_callback(self._cancelled)
            channel.basic_consume(topology.work_queue, on_message_callback=self._hold)
            logger.info("consuming", extra={"queue": topology.work_queue, "broker": self._settings.broker.redacted})
            while not self._stopping.is_set():
                connection.process_data_events(time_limit=1)
                while self._held:
                    self._settle(connection, channel, self._held[0])
        finally:
            self._held.clear()
            if connection.is_open:
                # Closing hands any unacknowledged message back to the queue.
                connection.close()

    def _cancelled(self, method: object) -> None:
        import pika.exceptions

        raise pika.exceptions.ConsumerCancelled(
            f"the broker cancelled the consumer of {self._settings.topology.work_queue}"
        )

    def _hold(self, channel: Channel, method: Deliver, properties: Properties, body: bytes) -> None:
        # Called from inside process_data_events: only note the message; it is handled
        # from the loop, where the connection can be pumped while it runs.
        # A quorum queue counts earlier deliveries; a classic queue, or a first delivery, says nothing.
        count = (properties.headers or {}).get("x-delivery-count", 0)
        message = Message(
            body=body,
            exchange=method.exchange,
            routing_key=method.routing_key,
            message_id=properties.message_id,
            delivery_count=count if isinstance(count, int) else 0,
        )
        self._held.append(_Delivery(method.delivery_tag, message))
        if len(self._held) > 1:
            logger.warning("more deliveries in hand than the prefetch allows", extra={"in_hand": len(self._held)})

    def _settle(self, connection: Connection, channel: Channel, held: _Delivery) -> None:
        message = held.message
        future = self._executor.submit(self._invoke, message)
        try:
            while not future.done():
                connection.process_data_events(time_limit=PUMP_SECONDS)
        except unavailable_errors():
            # The delivery tag died with the connection: finish the document anyway (never
            # two at once), then let the redelivery find its result.
            future.result()
            raise
        verdict = future.result()
        self._held.popleft()
        if verdict is Verdict.ACK:
            channel.basic_ack(held.tag)
        else:
            self._pause_before_retry(connection, message.delivery_count)
            channel.basic_nack(held.tag, requeue=True)

    def _pause_before_retry(self, connection: Connection, delivery_count: int) -> None:
        """RabbitMQ hands a nacked message straight back: without a pause, storage that is
        away for a few seconds would use up the delivery limit in a moment and dead-letter
        a document a little patience would read. 1, 2, 4, 8, 16 s by default
        (OCR_WORKER_RETRY_PAUSE_MS): with the default limit of 5 a message is retried for
        about half a minute. SIGTERM cuts the pause short."""
        pause = min(self._settings.retry_pause_seconds * 2**delivery_count, MAX_RETRY_PAUSE_SECONDS)
        deadline = time.monotonic() + pause
        while not self._stopping.is_set() and time.monotonic() < deadline:
            connection.process_data_events(time_limit=min(PUMP_SECONDS, max(0.0, deadline - time.monotonic())))
