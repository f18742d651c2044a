"""tests/support/waits.eventually: the condition wait the integration tests use instead of sleeps."""

from __future__ import annotations

import itertools

import pytest

from tests.support.waits import eventually


def test_returns_the_first_value_the_condition_accepts():
    # Given a probe whose value grows on each call
    counter = itertools.count()

    # When a test waits for it to reach 3
    value = eventually(lambda: next(counter), until=lambda n: n >= 3, timeout=5, what="three", interval=0)

    # Then it gets that value, not a later one
    assert value == 3


def test_a_timeout_fails_the_test_naming_the_wait_and_the_last_value_seen():
    # Given a probe that never satisfies the condition
    # When the deadline passes, Then the test fails saying what it waited for and what it saw
    with pytest.raises(pytest.fail.Exception, match=r"waiting for an empty queue; last seen: \{'ready': 2\}"):
        eventually(lambda: {"ready": 2}, until=lambda d: d["ready"] == 0, timeout=0.2, what="an empty queue")
