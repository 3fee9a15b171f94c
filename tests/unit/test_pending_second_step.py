"""The pending second sign-in step (stauth_server.core.accounts.pending): kept server-side
only, named by a sealed cookie, bound to its browser, five minutes at most, finished once."""

from __future__ import annotations

from stauth_server.core.accounts.pending import PENDING_SECONDS, PendingSteps
from stauth_server.core.session_cookie import Sealer
from stauth_server.core.store.memory import MemoryStore

SECRETS = ["a-cookie-secret-of-at-least-32-characters-0001"]


class Clock:
    def __init__(self, now: float = 1_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def steps(clock: Clock | None = None, store: MemoryStore | None = None, secrets=SECRETS) -> PendingSteps:
    clock = clock or Clock()
    return PendingSteps(store or MemoryStore(clock=clock), secrets, clock=clock)


def test_a_step_is_found_from_its_cookie_by_its_own_browser():
    pending = steps()
    cookie = pending.begin("alice", "/reports", enrol=False, browser="browser-1")
    handle = pending.find(cookie, "browser-1")
    assert handle is not None
    assert (handle.step.username, handle.step.next_path, handle.step.enrol) == ("alice", "/reports", False)


def test_the_cookie_names_the_step_and_the_store_never_sees_who_signs_in():
    clock = Clock()
    store = MemoryStore(clock=clock)
    pending = PendingSteps(store, SECRETS, clock=clock)
    cookie = pending.begin("alice", "/reports", enrol=True, browser="browser-1")
    assert "alice" not in cookie
    [(key, record)] = list(store._records.items())
    assert key.startswith("second-step:") and b"alice" not in record.blob and b"reports" not in record.blob


def test_another_browser_cannot_use_the_cookie():
    pending = steps()
    cookie = pending.begin("alice", "/", enrol=False, browser="browser-1")
    assert pending.find(cookie, "browser-2") is None
    assert pending.find(cookie, None) is None


def test_a_forged_or_foreign_cookie_finds_nothing():
    pending = steps()
    pending.begin("alice", "/", enrol=False, browser=None)
    assert pending.find("not-a-cookie", None) is None
    assert pending.find(None, None) is None
    forged = Sealer(["another-secret-of-at-least-32-characters-00002"], "second-step").seal({"id": "x" * 43, "k": "y"})
    assert pending.find(forged, None) is None
    session_purpose = Sealer(SECRETS, "session").seal({"id": "x" * 43, "k": "y" * 44})
    assert pending.find(session_purpose, None) is None


def test_a_step_expires_after_five_minutes():
    clock = Clock()
    pending = steps(clock)
    cookie = pending.begin("alice", "/", enrol=False, browser=None)
    clock.now += PENDING_SECONDS - 1
    assert pending.find(cookie, None) is not None
    clock.now += 2
    assert pending.find(cookie, None) is None


def test_a_step_finishes_once_and_is_gone_after():
    pending = steps()
    cookie = pending.begin("alice", "/", enrol=False, browser=None)
    handle = pending.find(cookie, None)
    assert pending.finish(handle) is True
    assert pending.finish(handle) is False  # a second correct code at the same moment starts nothing
    assert pending.find(cookie, None) is None


def test_a_dropped_step_is_gone():
    pending = steps()
    cookie = pending.begin("alice", "/", enrol=False, browser=None)
    pending.drop(pending.find(cookie, None))
    assert pending.find(cookie, None) is None


def test_rotated_cookie_secrets_keep_a_step_in_flight():
    clock = Clock()
    store = MemoryStore(clock=clock)
    cookie = PendingSteps(store, SECRETS, clock=clock).begin("alice", "/", enrol=False, browser=None)
    rotated = PendingSteps(store, ["a-brand-new-cookie-secret-of-32-characters-01", *SECRETS], clock=clock)
    assert rotated.find(cookie, None) is not None
