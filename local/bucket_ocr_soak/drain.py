"""Waiting for the stack to finish what it was given, bounded by the drain timeout.

Done when every object has a result made from its last upload; or, for objects that never
get one (lost, dead-lettered by the queue, stale), when no work has been in flight for a
quiet period while no fault is running; or when the timeout runs out. What is still
without a terminal state then is what the report calls lost.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from bucket_ocr_soak.observe import StackProbe

POLL_SECONDS = 1.0
# RabbitMQ's management API refreshes queue counts every 5 s: quiet must outlast that.
QUIET_SECONDS = 12.0


@dataclass(frozen=True)
class Drained:
    seconds: float
    unsettled: tuple[str, ...]  # keys without a result from their last upload
    ended_by: str  # "settled" | "quiet" | "timeout"


def drain(
    probe: StackProbe,
    latest_etags: dict[str, str],
    *,
    timeout: float,
    faults_running: Callable[[], bool],
    quiet_seconds: float = QUIET_SECONDS,
) -> Drained:
    started = time.monotonic()
    pending = set(latest_etags)
    quiet_since: float | None = None
    while True:
        pending = {key for key in pending if probe.result_etag(key) != latest_etags[key]}
        now = time.monotonic()
        if not pending:
            return Drained(now - started, (), "settled")
        if faults_running() or probe.work_in_flight():
            quiet_since = None
        elif quiet_since is None:
            quiet_since = now
        elif now - quiet_since >= quiet_seconds:
            return Drained(now - started, tuple(sorted(pending)), "quiet")
        if now - started >= timeout:
            return Drained(now - started, tuple(sorted(pending)), "timeout")
        time.sleep(POLL_SECONDS)
