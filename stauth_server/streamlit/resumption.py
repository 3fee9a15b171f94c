"""Which Streamlit sessions a reconnecting tab may resume, and connecting a tab with our identity.

A tab that reconnects (network blip, laptop lid) names its old session id and Streamlit
resumes it, ``session_state`` included. That must never hand a session to another
identity, and, as Streamlit 1.67's ``st.logout`` does, a session that was signed out (by
``st.logout``/``sa.logout``, a sign-out in another tab, revocation or expiry) is never
resumed: the reconnecting tab gets a fresh session. Streamlit 1.61+ additionally resumes
only when the stored ``user_info`` equals the new one (``AppSession.matches_user_info``),
which holds because every dict we attach or push comes from ``streamlit_user_info``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from ..core.identity import User, identity_key, streamlit_user_info
from ..core.session_records import Ticket
from . import internals
from .live_sessions import LIVE

LOGGER = logging.getLogger("stauth_server.auth")
#: How long a signed-out session id stays unresumable (well past any disconnected-session TTL).
ENDED_TTL_SECONDS = 24 * 3600


class EndedSessions:
    """Session ids that were signed out and must not be resumed (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ended: dict[str, float] = {}

    def end(self, session_id: str) -> None:
        now = time.monotonic()
        with self._lock:
            self._ended[session_id] = now
            if len(self._ended) > 10_000:
                self._ended = {sid: at for sid, at in self._ended.items() if now - at < ENDED_TTL_SECONDS}
        internals.mark_session_nonresumable(session_id)

    def __contains__(self, session_id: object) -> bool:
        with self._lock:
            at = self._ended.get(session_id)  # type: ignore[call-overload]
            return at is not None and time.monotonic() - at < ENDED_TTL_SECONDS

    def forget(self, session_id: str) -> None:
        with self._lock:
            self._ended.pop(session_id, None)


ENDED = EndedSessions()


def end_resumption(session_id: str) -> None:
    """Never let a reconnecting tab resume ``session_id`` (it was signed out)."""
    ENDED.end(session_id)


def may_resume(existing_session_id: str, user_info: dict[str, Any]) -> bool:
    """Whether a tab connecting as ``user_info`` may resume ``existing_session_id``."""
    if existing_session_id in ENDED:
        LOGGER.info("refused to resume a signed-out session")
        return False
    previous = internals.session_user_info(existing_session_id)
    if previous is not None and identity_key(previous) != identity_key(user_info):
        LOGGER.info("refused to resume a session under another identity")
        return False
    return True


def connect_with_identity(
    connect: Callable[..., str], client: Any, user_info: dict[str, Any], existing_session_id: str | None,
    *, user: User, tokens: dict[str, Any], expose_tokens: bool, ticket: Ticket | None, browser: str | None,
    **kwargs: Any,
) -> str:
    """Call Streamlit's ``connect_session`` with our identity as the session's ``user_info``.

    Streamlit's own dict (from its ``_streamlit_user`` cookie or trusted headers) never
    counts: it is replaced by ours. Registers the tab in ``LIVE``.
    """
    user_info.clear()
    user_info.update(streamlit_user_info(user, tokens, expose_tokens))
    if existing_session_id is not None and not may_resume(existing_session_id, user_info):
        existing_session_id = None
    session_id = connect(client=client, user_info=user_info, existing_session_id=existing_session_id, **kwargs)
    LIVE.connect(session_id, browser, ticket, user)
    live_info = internals.session_user_info(session_id)
    if live_info is not None and live_info is not user_info:
        live_info.clear()
        live_info.update(user_info)
    return session_id
