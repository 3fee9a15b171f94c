"""Growing delays after failed password attempts (stauth_server.core.throttle)."""

from __future__ import annotations

import pytest

from stauth_server.core.throttle import Throttle


class Clock:
    def __init__(self, now: float = 1000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def throttle(clock) -> Throttle:
    return Throttle(free=3, base_seconds=2.0, cap_seconds=300.0, clock=clock)


def fail(throttle: Throttle, keys, times: int) -> None:
    for _ in range(times):
        throttle.failure(keys)


def test_a_fresh_key_may_try_at_once(throttle):
    assert throttle.wait_seconds(["user:alice"]) == 0.0


def test_the_free_failures_cost_no_wait(throttle):
    fail(throttle, ["user:alice"], 2)
    assert throttle.wait_seconds(["user:alice"]) == 0.0


def test_the_third_failure_starts_the_base_wait(throttle):
    fail(throttle, ["user:alice"], 3)
    assert throttle.wait_seconds(["user:alice"]) == 2.0


def test_each_further_failure_doubles_the_wait(throttle):
    waits = []
    for _ in range(4):
        throttle.failure(["user:alice"])
        waits.append(throttle.wait_seconds(["user:alice"]))
    fail(throttle, ["user:alice"], 2)
    waits.append(throttle.wait_seconds(["user:alice"]))
    assert waits == [0.0, 0.0, 2.0, 4.0, 16.0]


def test_the_wait_never_exceeds_the_cap(throttle):
    fail(throttle, ["user:alice"], 40)
    assert throttle.wait_seconds(["user:alice"]) == 300.0


def test_the_wait_shrinks_as_time_passes_and_ends(throttle, clock):
    fail(throttle, ["user:alice"], 4)  # 4 s
    clock.now += 3
    assert throttle.wait_seconds(["user:alice"]) == 1.0
    clock.now += 1
    assert throttle.wait_seconds(["user:alice"]) == 0.0


def test_the_wait_counts_from_the_last_failure(throttle, clock):
    fail(throttle, ["user:alice"], 2)
    clock.now += 100
    throttle.failure(["user:alice"])
    assert throttle.wait_seconds(["user:alice"]) == 2.0


def test_the_longest_wait_of_all_keys_applies(throttle):
    fail(throttle, ["user:alice", "ip:10.0.0.1"], 3)
    fail(throttle, ["user:bob", "ip:10.0.0.1"], 2)
    assert throttle.wait_seconds(["user:bob"]) == 0.0
    assert throttle.wait_seconds(["user:bob", "ip:10.0.0.1"]) == 8.0  # the address failed 5 times


def test_keys_are_counted_separately(throttle):
    fail(throttle, ["user:alice"], 5)
    assert throttle.wait_seconds(["user:bob"]) == 0.0


def test_success_clears_the_count(throttle):
    fail(throttle, ["user:alice"], 5)
    throttle.success(["user:alice"])
    assert throttle.wait_seconds(["user:alice"]) == 0.0
    fail(throttle, ["user:alice"], 2)
    assert throttle.wait_seconds(["user:alice"]) == 0.0


def test_success_clears_only_its_keys(throttle):
    fail(throttle, ["user:alice", "ip:10.0.0.1"], 3)
    throttle.success(["user:alice"])
    assert throttle.wait_seconds(["ip:10.0.0.1"]) == 2.0


def test_failures_long_ago_are_forgotten(throttle, clock):
    fail(throttle, ["user:alice"], 10)
    clock.now += 300 * 4 + 1
    throttle.failure(["user:alice"])
    assert throttle.wait_seconds(["user:alice"]) == 0.0  # a fresh count of one


def test_the_free_count_and_delays_are_configurable(clock):
    throttle = Throttle(free=1, base_seconds=10, cap_seconds=15, clock=clock)
    throttle.failure(["k"])
    assert throttle.wait_seconds(["k"]) == 10
    throttle.failure(["k"])
    assert throttle.wait_seconds(["k"]) == 15


def test_no_keys_means_no_wait(throttle):
    fail(throttle, ["user:alice"], 5)
    assert throttle.wait_seconds([]) == 0.0
