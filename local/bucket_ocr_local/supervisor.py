"""Keeps a running stack whole: what dies is replaced, so one crash does not end the stack.

Workers that exit (a kill -9, an OOM, a crash) are replaced, with a growing pause when they
keep dying at start. MinIO and RabbitMQ that stop are started again on the same ports and
data dir: their data, credentials, queues and undelivered events are on disk, and the
workers reconnect. moto keeps everything in memory, so a moto server that died cannot be
brought back with its data: that ends the stack with `StackLostError`, said plainly.

After any restart of MinIO (by the supervisor or by whoever stopped it on purpose), the
uploads written around it that have no result are announced again (reannounce.py):
MinIO may have stored them without an event.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator

from botocore.exceptions import BotoCoreError, ClientError

from bucket_ocr.amqp import unavailable_errors
from bucket_ocr_local import reannounce
from bucket_ocr_local.errors import ServerStartError, StackLostError
from bucket_ocr_local.stack import LocalStack


def heal(stack: LocalStack) -> list[str]:
    """One pass: restart what stopped, in start order (servers before the workers on them)."""
    if stack.moto is not None and not stack.moto.running():
        raise StackLostError(
            f"the moto server exited ({stack.moto.process.exit_code()}); its in-memory buckets and "
            f"queues are gone. See {stack.moto.process.log_path}"
        )
    done = []
    for name, server in (("rabbitmq", stack.broker), ("minio", stack.minio)):
        if server is not None and not server.running():
            server.restart()
            done.append(f"{name} had stopped; started it again on its data dir")
    if stack.pool is not None:
        done.extend(stack.pool.replace_dead())
    return done


REANNOUNCE_AFTER_SECONDS = 10.0
REANNOUNCE_MARGIN_SECONDS = 5.0


class Supervisor:
    """`heal` every ``interval`` seconds on a background thread, while in a ``with`` block.

    ``paused()`` holds it off, for a caller that stops a server on purpose and starts it
    again itself (a fault injected by the soak) and does not want the two to race.
    """

    def __init__(self, stack: LocalStack, *, interval: float = 1.0, report: Callable[[str], None] = print):
        self._stack = stack
        self._interval = interval
        self._report = report
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="stack-supervisor", daemon=True)
        self.failure: StackLostError | None = None
        self.actions: list[str] = []
        # MinIO's process as last seen running, and when; a new one means it restarted.
        self._minio_pid: int | None = None
        self._minio_seen_at = time.time()
        self._reannounce: list[tuple[float, tuple[float, float]]] = []  # (when, (since, until)), epoch seconds

    def __enter__(self) -> Supervisor:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        self._thread.join(self._interval + 150)

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        with self._lock:
            yield

    @property
    def alive(self) -> bool:
        return self.failure is None and self._thread.is_alive()

    def _run(self) -> None:
        while not self._stopping.wait(self._interval):
            with self._lock:
                try:
                    done = heal(self._stack)
                except StackLostError as lost:
                    self.failure = lost
                    self._report(f"stack lost: {lost}")
                    return
                except ServerStartError as error:  # tried again on the next pass
                    done = [f"restart failed, trying again: {error}"]
                done += self._catch_up_after_minio_restarts()
            for action in done:
                self.actions.append(action)
                self._report(action)

    def _catch_up_after_minio_restarts(self) -> list[str]:
        minio = self._stack.minio
        if minio is None or not minio.running():
            return []
        now = time.time()
        if self._minio_pid is not None and minio.process.pid != self._minio_pid:
            # The writes around the restart only: from a little before MinIO was last seen
            # up to a little after it was seen back. Later uploads have their events, and
            # announcing the backlog again would only double the work behind it. Looked at
            # once MinIO has surely loaded its notification rules.
            window = (self._minio_seen_at - REANNOUNCE_MARGIN_SECONDS, now + REANNOUNCE_MARGIN_SECONDS)
            self._reannounce.append((now + REANNOUNCE_AFTER_SECONDS, window))
        self._minio_pid, self._minio_seen_at = minio.process.pid, now
        done = []
        for due in [entry for entry in self._reannounce if entry[0] <= now]:
            self._reannounce.remove(due)
            since, until = due[1]
            try:
                objects = list(
                    reannounce.unannounced(self._stack.spec, self._stack.input_buckets, since=since, until=until)
                )
                sent = reannounce.announce(self._stack.spec, self._stack.topology, objects)
            except (*unavailable_errors(), BotoCoreError, ClientError) as error:  # MinIO or the broker away again
                self._reannounce.append((now + REANNOUNCE_AFTER_SECONDS, due[1]))
                done.append(f"minio restarted: announcing again failed ({type(error).__name__}); trying later")
                continue
            done.append(f"minio restarted: announced {sent} upload(s) without a result again")
        return done
