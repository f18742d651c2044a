"""Keeps a running stack whole: what dies is replaced, so one crash does not end the stack.

Workers that exit (a kill -9, an OOM, a crash) are replaced, with a growing pause when they
keep dying at start. MinIO and RabbitMQ that stop are started again on the same ports and
data dir: their data, credentials, queues and undelivered events are on disk, and the
workers reconnect. moto keeps everything in memory, so a moto server that died cannot be
brought back with its data: that ends the stack with `StackLostError`, said plainly.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator

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
            for action in done:
                self.actions.append(action)
                self._report(action)
