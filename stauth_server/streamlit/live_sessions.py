"""Which Streamlit sessions (browser tabs) are open, in which browser, as whom.

Lets a sign-in or sign-out in one tab reach the browser's other open tabs, and lets
the server end or refresh a signed-in tab's identity while its websocket stays open.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from ..core.session_records import Ticket
from ..core.identity import ANONYMOUS, User


@dataclass
class LiveTab:
    session_id: str
    browser: str | None
    ticket: Ticket | None = None
    user: User = ANONYMOUS
    last_activity: float = 0.0


class LiveSessions:
    """Thread-safe registry keyed by Streamlit session id."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tabs: dict[str, LiveTab] = {}

    def connect(self, session_id: str, browser: str | None, ticket: Ticket | None, user: User) -> None:
        with self._lock:
            self._tabs[session_id] = LiveTab(session_id, browser, ticket, user, time.time())

    def disconnect(self, session_id: str) -> None:
        with self._lock:
            self._tabs.pop(session_id, None)

    def touch(self, session_id: str) -> None:
        tab = self._tabs.get(session_id)
        if tab is not None:
            tab.last_activity = time.time()

    def get(self, session_id: str) -> LiveTab | None:
        with self._lock:
            return self._tabs.get(session_id)

    def user_of(self, session_id: str) -> User:
        tab = self._tabs.get(session_id)
        return tab.user if tab is not None else ANONYMOUS

    def in_browser(self, browser: str | None) -> list[LiveTab]:
        """The open tabs of one browser (none when the browser is unknown)."""
        if not browser:
            return []
        with self._lock:
            return [t for t in self._tabs.values() if t.browser == browser]

    def signed_in(self) -> list[LiveTab]:
        with self._lock:
            return [t for t in self._tabs.values() if t.ticket is not None]

    def set_identity(self, session_id: str, ticket: Ticket | None, user: User) -> None:
        with self._lock:
            tab = self._tabs.get(session_id)
            if tab is not None:
                tab.ticket, tab.user = ticket, user


LIVE = LiveSessions()
