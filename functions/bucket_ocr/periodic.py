"""A step repeated on a background thread while a block of work runs (leases, keep-alives)."""

from __future__ import annotations

import threading
from types import TracebackType


class Periodic:
    """Runs ``tick`` every ``interval`` seconds from ``with`` entry until exit, or until a tick
    returns False. Daemon thread: a process that must exit is never held by a renewal."""

    def __init__(self, interval: float, *, name: str, join_seconds: float) -> None:
        self._interval = interval
        self._join_seconds = join_seconds
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def tick(self) -> bool:
        """One step; False stops the repetition."""
        raise NotImplementedError

    def __enter__(self) -> Periodic:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self._done.set()
        self._thread.join(self._join_seconds)

    def _run(self) -> None:
        while not self._done.wait(self._interval):
            if not self.tick():
                return
