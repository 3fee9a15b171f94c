"""Password throttling under parallel guesses (stauth_server.core.throttle, SignInService.password_login).

An attacker does not wait for one guess to fail before sending the next: ten at once must
count as ten failures, and no more than the free attempts may reach argon2.
"""

from __future__ import annotations

import threading
import time

import pytest
from cheap_argon2 import use_cheap_hasher

from stauth_server.core import hooks
from stauth_server.core.config import ServerConfig
from stauth_server.core.store.memory import MemoryStore
from stauth_server.core.oidc.errors import SignInError
from stauth_server.core.signin import SignInService, TooManyAttempts
from stauth_server.core.sources import local
from stauth_server.core.sources.local import LocalAccount, UsersFile, hash_password
from stauth_server.core.throttle import Throttle

PARALLEL = 10
FREE = 3


class FrozenClock:
    """Time stands still, so no wait runs out during a test."""

    now = 10_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def no_hooks(monkeypatch):
    monkeypatch.setattr(hooks, "_HOOKS", [])


@pytest.fixture
def argon2_calls(monkeypatch) -> list[str]:
    """Every password verification that reaches argon2, each made slow (50 ms) so that
    parallel attempts really overlap inside the check."""
    hasher = use_cheap_hasher(monkeypatch)
    calls: list[str] = []
    lock = threading.Lock()

    class SlowCountingHasher:
        def verify(self, hashed, password):
            with lock:
                calls.append(password)
            time.sleep(0.05)
            return hasher.verify(hashed, password)

        def hash(self, password):
            return hasher.hash(password)

    monkeypatch.setattr(local, "HASHER", SlowCountingHasher())
    return calls


@pytest.fixture
def service(tmp_path, argon2_calls) -> SignInService:
    path = tmp_path / "users.toml"
    UsersFile(path).save([LocalAccount(name, hash_password(f"{name}-password")) for name in ("alice", "bob")])
    argon2_calls.clear()
    service = SignInService(ServerConfig(users_file=path, cookie_secrets=("t" * 40,)), store=MemoryStore())
    service.throttle = Throttle(free=FREE, clock=FrozenClock())
    return service


def attempt(service, username, password, ip):
    try:
        return service.password_login(username, password, ip, "/", {}, None, secure=False, path="/")
    except SignInError as exc:
        return exc


def all_at_once(calls) -> list:
    """Run each ``call()`` in its own thread, released together; their outcomes in order."""
    barrier = threading.Barrier(len(calls))
    outcomes: list = [None] * len(calls)

    def run(index: int) -> None:
        barrier.wait()
        outcomes[index] = calls[index]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return outcomes


def failures(service, key: str) -> int:
    return service.throttle._failures.get(key, (0, 0.0))[0]


def test_ten_parallel_wrong_passwords_for_one_account_count_ten_and_at_most_three_reach_argon2(service,
                                                                                               argon2_calls):
    outcomes = all_at_once([lambda i=i: attempt(service, "alice", f"guess-{i}", f"198.51.100.{i}")
                            for i in range(PARALLEL)])
    assert all(isinstance(o, SignInError) for o in outcomes)
    throttled = [o for o in outcomes if isinstance(o, TooManyAttempts)]
    assert len(throttled) >= PARALLEL - FREE and all(o.status == 429 for o in throttled)
    assert len(argon2_calls) <= FREE, f"{len(argon2_calls)} of {PARALLEL} parallel guesses were checked"
    assert failures(service, "user:alice") == PARALLEL


def test_ten_parallel_guesses_from_one_address_at_ten_accounts_reach_argon2_at_most_three_times(service,
                                                                                                argon2_calls):
    outcomes = all_at_once([lambda i=i: attempt(service, f"user{i}", "guess", "198.51.100.77")
                            for i in range(PARALLEL)])
    assert all(isinstance(o, SignInError) for o in outcomes)
    assert len(argon2_calls) <= FREE
    assert failures(service, "ip:198.51.100.77") == PARALLEL


def test_after_a_parallel_flood_even_the_right_password_is_throttled_without_argon2(service, argon2_calls):
    all_at_once([lambda i=i: attempt(service, "alice", f"guess-{i}", "198.51.100.1") for i in range(PARALLEL)])
    checked = len(argon2_calls)
    outcome = attempt(service, "alice", "alice-password", "192.0.2.200")
    assert isinstance(outcome, TooManyAttempts)
    assert len(argon2_calls) == checked


def test_sequential_wrong_passwords_do_reach_argon2_until_the_free_ones_are_used(service, argon2_calls):
    """The control: the counter above sees verifications, and the first ``free`` are real."""
    outcomes = [attempt(service, "bob", f"guess-{i}", "198.51.100.9") for i in range(FREE + 2)]
    assert [type(o) for o in outcomes] == [SignInError] * FREE + [TooManyAttempts] * 2
    assert len(argon2_calls) == FREE


def test_a_right_password_among_parallel_attempts_signs_in_only_if_it_got_a_free_slot(service, argon2_calls):
    calls = [lambda: attempt(service, "bob", "bob-password", "192.0.2.1")]
    calls += [lambda i=i: attempt(service, "bob", f"guess-{i}", "192.0.2.1") for i in range(PARALLEL - 1)]
    outcomes = all_at_once(calls)
    signed_in = [o for o in outcomes if not isinstance(o, SignInError)]
    assert len(argon2_calls) <= FREE
    assert len(signed_in) <= 1 and all(o.user.id == "local|bob" for o in signed_in)


def test_throttle_attempt_counts_every_parallel_caller_and_lets_only_the_free_ones_go():
    throttle = Throttle(free=FREE, clock=FrozenClock())
    waits = all_at_once([lambda: throttle.attempt(["user:local:alice", "ip:198.51.100.1"])
                         for _ in range(PARALLEL)])
    assert waits.count(0.0) == FREE and all(w > 0 for w in waits if w != 0.0)
    assert throttle._failures["user:local:alice"][0] == PARALLEL
    assert throttle._failures["ip:198.51.100.1"][0] == PARALLEL
