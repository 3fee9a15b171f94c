"""The sign-in step between a local account's password and its second factor.

Once the password (or a one-time link) is accepted and the account has, or must enrol, a
second factor, nothing is signed in yet: the first step's result waits in the session
store for at most ``PENDING_SECONDS``, under a random id, sealed with a random key. The
browser gets only a cookie naming it (``PendingSteps.begin``), itself sealed with the cookie
secrets for this purpose alone. The store never sees who is signing in (the record is
encrypted with the key only the cookie carries), a cookie from another browser does not
open the step (it is bound to the browser's XSRF secret), and the step completes once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

from cryptography.fernet import Fernet, InvalidToken

from ..session_cookie import Sealer
from ..store import SessionStore

#: How long the second step may wait for its code (the issue's 5 minutes).
PENDING_SECONDS = 300
#: The cookie naming the step (HttpOnly, SameSite=Lax, scoped to the app like the session's).
PENDING_COOKIE = "stauth_second_step"
PURPOSE = "second-step"
_STORE_PREFIX = "second-step:"


@dataclass(frozen=True)
class PendingStep:
    """What the first step proved, waiting for the second.

    ``enrol``: the account has no second factor yet and must set one up before it signs in
    (``[auth.local] require_second_factor``). ``browser``: the XSRF binding of the browser
    that passed the first step (None when it had no XSRF cookie). ``credential``: the
    fingerprint of the account's password hash when the first step was passed; the step is
    good only while it still matches (a password changed or reset meanwhile ends it, as it
    ends the account's sessions).
    """

    username: str
    next_path: str
    enrol: bool
    browser: str | None
    created: float
    credential: str | None = None


@dataclass(frozen=True)
class PendingHandle:
    """A step found from its cookie: what it holds and how to end it."""

    step: PendingStep
    store_key: str


class PendingSteps:
    """Second steps in the session store (every method blocks: call them off the loop)."""

    def __init__(self, store: SessionStore, cookie_secrets: Sequence[str], *,
                 clock: Callable[[], float] = time.time):
        self._store = store
        self._sealer = Sealer(cookie_secrets, PURPOSE)
        self._clock = clock

    def begin(self, username: str, next_path: str, *, enrol: bool, browser: str | None,
              credential: str | None = None) -> str:
        """Keep a new step; the value of the cookie that names it (``PENDING_COOKIE``)."""
        now = self._clock()
        step_id, key = secrets.token_urlsafe(32), Fernet.generate_key().decode("ascii")
        step = PendingStep(username=username, next_path=next_path, enrol=enrol, browser=browser, created=now,
                           credential=credential)
        blob = Fernet(key.encode("ascii")).encrypt(json.dumps(asdict(step), separators=(",", ":")).encode("utf-8"))
        self._store.create(_store_key(step_id), blob, now + PENDING_SECONDS, now)
        return self._sealer.seal({"id": step_id, "k": key})

    def find(self, cookie: str | None, browser: str | None) -> PendingHandle | None:
        """The step ``cookie`` names, when it is still waiting and belongs to ``browser``;
        None for a missing, forged, expired, finished or foreign one."""
        payload = self._sealer.open(cookie, max_age_seconds=PENDING_SECONDS)
        step_id, key = (payload.get("id"), payload.get("k")) if payload is not None else (None, None)
        if not isinstance(step_id, str) or not isinstance(key, str) or not 16 <= len(step_id) <= 128:
            return None
        store_key = _store_key(step_id)
        stored = self._store.load(store_key)
        if stored is None:
            return None
        try:
            raw = json.loads(Fernet(key.encode("ascii")).decrypt(stored.blob, ttl=PENDING_SECONDS))
            step = PendingStep(**raw)
        except (InvalidToken, ValueError, TypeError, UnicodeError):
            return None
        if self._clock() - step.created > PENDING_SECONDS or not _same_browser(step.browser, browser):
            return None
        return PendingHandle(step, store_key)

    def finish(self, handle: PendingHandle) -> bool:
        """End the step; True for the one caller that ended it (two correct codes sent at
        once start one session, not two)."""
        first = self._store.claim_once("done:" + handle.store_key, PENDING_SECONDS)
        self._store.delete(handle.store_key)
        return first

    def drop(self, handle: PendingHandle) -> None:
        """End the step without signing in (too many wrong codes)."""
        self._store.delete(handle.store_key)


def _store_key(step_id: str) -> str:
    """The record's name: a hash of the id, apart from session records."""
    return _STORE_PREFIX + hashlib.sha256(step_id.encode("ascii")).hexdigest()


def _same_browser(stored: str | None, current: str | None) -> bool:
    if stored is None or current is None:
        return stored is None and current is None
    return hmac.compare_digest(stored.encode("utf-8"), current.encode("utf-8"))


__all__ = ["PENDING_COOKIE", "PENDING_SECONDS", "PendingHandle", "PendingStep", "PendingSteps"]
