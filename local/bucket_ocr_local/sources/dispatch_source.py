"""Lambda's asynchronous invocation, fed by the dispatcher's durable queue (MinIO path).

An event is leased to one worker; success completes it, failure schedules a retry with
backoff, and after the last attempt (first try plus two retries, Lambda's default) the
event is dead-lettered: a record in the work dir and, when the stack has a dead-letter
queue, an "on-failure destination" message there in the shape Lambda sends.
"""

from __future__ import annotations

import os
import time
from typing import Any

from bucket_ocr_local.dead_letters import dead_letter_async_event
from bucket_ocr_local.errors import FunctionInvocationError
from bucket_ocr_local.event_queue import EventQueue, LeasedEvent
from bucket_ocr_local.spec import StackSpec

LEASE_SECONDS = 15.0


class DispatchDelivery:
    def __init__(self, source: DispatchSource, leased: LeasedEvent):
        self._source = source
        self._leased = leased
        self.event = leased.body
        self.label = f"event {leased.id} attempt {leased.attempt}"

    def keep_alive(self) -> None:
        self._source.queue.extend(self._leased.id, self._source.owner, self._source.lease_seconds)

    def succeeded(self, response: Any) -> None:
        self._source.queue.complete(self._leased.id, self._source.owner)

    def failed(self, error: FunctionInvocationError) -> None:
        dead = self._source.queue.fail(self._leased.id, self._source.owner, str(error))
        if dead:
            dead_letter_async_event(self._source.spec, self._leased, error)


class DispatchSource:
    def __init__(self, spec: StackSpec, *, worker_name: str):
        dispatcher = spec.dispatcher
        self.spec = spec
        self.queue = EventQueue(
            dispatcher.db_path, max_attempts=dispatcher.max_attempts, retry_delay=dispatcher.retry_delay_seconds
        )
        self.owner = f"{worker_name}:{os.getpid()}"
        self.lease_seconds = LEASE_SECONDS

    def next(self, wait_seconds: float) -> DispatchDelivery | None:
        leased = self.queue.lease(self.owner, self.lease_seconds)
        if leased is None:
            # sqlite has no long poll; a short sleep keeps an idle worker cheap.
            time.sleep(min(wait_seconds, 0.5))
            return None
        return DispatchDelivery(self, leased)
