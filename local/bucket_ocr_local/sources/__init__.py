"""Where the embedded stack's workers get events: an SQS queue, as Lambda's event source mapping does.

A source hands out one Delivery at a time. The worker invokes the function with
``delivery.event`` and then reports the outcome; the source decides what the platform would
do next (delete, let the message reappear, retry later, dead-letter).
"""

from __future__ import annotations

from typing import Any, Protocol

from bucket_ocr_local.errors import FunctionInvocationError


class Delivery(Protocol):
    event: Any
    label: str

    def keep_alive(self) -> None:
        """Called periodically while the invocation runs: we still hold this event."""

    def succeeded(self, response: Any) -> None: ...

    def failed(self, error: FunctionInvocationError) -> None: ...


class Source(Protocol):
    # Seconds the event stays ours without keep_alive; keep_alive runs at a third of it.
    lease_seconds: float

    def next(self, wait_seconds: float) -> Delivery | None: ...
