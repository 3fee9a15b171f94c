"""Cookie writes waiting for their browser, and what each session's script sees meanwhile.

A script's ``sa.cookies.set()`` cannot touch the HTTP response that served the page (that
was long ago; the app talks over a websocket). So a write is parked here under a fresh
128-bit token that only the writing session's page receives; that page then asks our
delivery endpoint for it, which answers with real ``Set-Cookie`` headers. A token works
once, for a limited time, and only from the browser whose websocket the session uses.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from .cookie_rules import CookieWrite
from .errors import CookieError

DELIVERY_TTL_SECONDS = 600.0
MAX_PENDING_PER_SESSION = 64
MAX_PENDING_TOTAL = 20_000


@dataclass
class Delivery:
    """Writes made by one session in one script run, to be sent to its browser once."""

    token: str
    session_id: str
    run_marker: object
    binding: str | None
    created: float
    writes: list[CookieWrite] = field(default_factory=list)
    taken: bool = False


def browser_binding(xsrf_cookie: str | None) -> str | None:
    """The stable per-browser secret inside Streamlit's XSRF cookie, or None.

    The cookie is Tornado's v2 form ``2|mask|masked_token|timestamp`` and is re-issued
    with a new mask on every page load; the unmasked token stays the same per browser.
    """
    if not xsrf_cookie:
        return None
    parts = xsrf_cookie.split("|")
    if len(parts) == 4 and parts[0] == "2":
        try:
            mask, masked = bytes.fromhex(parts[1]), bytes.fromhex(parts[2])
        except ValueError:
            return xsrf_cookie
        if not mask or not masked:
            return xsrf_cookie
        return bytes(m ^ mask[i % len(mask)] for i, m in enumerate(masked)).hex()
    return xsrf_cookie


class DeliveryRefused(Exception):
    """The token is unknown, used, expired, or presented by another browser."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class CookieOutbox:
    """Thread-safe store: script threads add writes, the server's event loop takes them."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._lock = threading.Lock()
        self._deliveries: dict[str, Delivery] = {}
        self._open: dict[str, Delivery] = {}
        self._views: dict[str, dict[str, str | None]] = {}

    def add(self, session_id: str, run_marker: object, write: CookieWrite, binding: str | None) -> Delivery | None:
        """Park ``write``; return a new Delivery when the page must be told a new token.

        Writes within one script run share one delivery while it has not been taken,
        so a run that sets five cookies sends its page one token, not five.
        """
        with self._lock:
            self._views.setdefault(session_id, {})[write.name] = write.value
            current = self._open.get(session_id)
            if current is not None and not current.taken and current.run_marker is run_marker:
                current.writes = [w for w in current.writes if w.name != write.name or w.path != write.path]
                current.writes.append(write)
                return None
            self._expire_locked()
            mine = sum(1 for d in self._deliveries.values() if d.session_id == session_id)
            if mine >= MAX_PENDING_PER_SESSION or len(self._deliveries) >= MAX_PENDING_TOTAL:
                raise CookieError("too many cookie writes are waiting for the browser; is its page open?")
            delivery = Delivery(
                token=secrets.token_urlsafe(24),
                session_id=session_id,
                run_marker=run_marker,
                binding=binding,
                created=self._clock(),
                writes=[write],
            )
            self._deliveries[delivery.token] = delivery
            self._open[session_id] = delivery
            return delivery

    def take(self, token: str, presented_binding: str | None) -> list[CookieWrite]:
        """Hand out a delivery's writes exactly once, to the browser it is bound to."""
        with self._lock:
            delivery = self._deliveries.get(token)
            if delivery is None or delivery.taken:
                raise DeliveryRefused(404, "Unknown or already used cookie token")
            if self._clock() - delivery.created > DELIVERY_TTL_SECONDS:
                self._drop_locked(delivery)
                raise DeliveryRefused(404, "Unknown or already used cookie token")
            if delivery.binding is not None and not hmac.compare_digest(
                delivery.binding.encode(), (presented_binding or "").encode()
            ):
                raise DeliveryRefused(403, "This cookie token belongs to another browser")
            delivery.taken = True
            self._drop_locked(delivery)
            return list(delivery.writes)

    def take_session(self, session_id: str, presented_binding: str | None) -> list[CookieWrite]:
        """Take every pending write of a session (a redirect delivers them on its way).

        Like ``take``, only writes bound to the presenting browser are handed out.
        """
        presented = (presented_binding or "").encode()
        with self._lock:
            mine = sorted(
                (
                    d
                    for d in self._deliveries.values()
                    if d.session_id == session_id
                    and not d.taken
                    and (d.binding is None or hmac.compare_digest(d.binding.encode(), presented))
                ),
                key=lambda d: d.created,
            )
            writes: list[CookieWrite] = []
            for delivery in mine:
                delivery.taken = True
                self._drop_locked(delivery)
                writes.extend(delivery.writes)
            return writes

    def has_pending(self, session_id: str) -> bool:
        with self._lock:
            return any(d.session_id == session_id and not d.taken for d in self._deliveries.values())

    def view(self, session_id: str, sent_by_browser: Mapping[str, str]) -> dict[str, str]:
        """The cookies as this session's script should see them: sent ones plus its writes."""
        with self._lock:
            changes = dict(self._views.get(session_id, {}))
        merged = dict(sent_by_browser)
        for name, value in changes.items():
            if value is None:
                merged.pop(name, None)
            else:
                merged[name] = value
        return merged

    def forget_sessions(self, is_alive: Callable[[str], bool]) -> None:
        """Drop what belongs to sessions that are gone."""
        with self._lock:
            for session_id in [s for s in self._views if not is_alive(s)]:
                self._views.pop(session_id, None)
                self._open.pop(session_id, None)
            self._expire_locked()

    def _expire_locked(self) -> None:
        now = self._clock()
        for delivery in [d for d in self._deliveries.values() if now - d.created > DELIVERY_TTL_SECONDS]:
            self._drop_locked(delivery)

    def _drop_locked(self, delivery: Delivery) -> None:
        self._deliveries.pop(delivery.token, None)
        if self._open.get(delivery.session_id) is delivery:
            del self._open[delivery.session_id]


OUTBOX = CookieOutbox()
