"""The background repetition behind claim leases and the local worker's keep-alive."""

from __future__ import annotations

import threading

from bucket_ocr.periodic import Periodic


class Counter(Periodic):
    def __init__(self, interval: float, *, stop_after: int | None = None) -> None:
        super().__init__(interval, name="counter", join_seconds=5)
        self.ticks = 0
        self.stop_after = stop_after
        self.reached = threading.Event()

    def tick(self) -> bool:
        self.ticks += 1
        if self.ticks >= 3:
            self.reached.set()
        return self.stop_after is None or self.ticks < self.stop_after


def test_ticks_repeat_while_the_block_runs_and_stop_when_it_ends() -> None:
    # Given a step every 10 ms
    counter = Counter(0.01)
    # When a block runs until three steps were taken
    with counter:
        assert counter.reached.wait(5), "the step never ran three times"
    after_exit = counter.ticks
    # Then the thread is gone and no step runs after the block
    assert not counter._thread.is_alive()
    assert counter.ticks == after_exit >= 3


def test_a_step_that_returns_false_ends_the_repetition() -> None:
    # Given a step that asks to stop on its second run
    counter = Counter(0.01, stop_after=2)
    with counter:
        counter._thread.join(5)
        # Then the thread ended by itself while the block still runs, after two steps
        assert not counter._thread.is_alive()
    assert counter.ticks == 2


def test_the_first_step_waits_one_interval() -> None:
    # Given a long interval, when the block ends at once, then no step ran
    counter = Counter(60)
    with counter:
        pass
    assert counter.ticks == 0
