"""Identity changes reaching open tabs: in this process, and on every replica.

A sign-in or sign-out in one tab updates ``st.user`` in the browser's other open tabs and
reruns them. Tabs on other replicas hear of it through the store's bus (Redis pub/sub):
the message names the browser and carries the new session's ticket, sealed with the cookie
secrets, so the bus never carries a readable identity or a usable ticket.
"""

from __future__ import annotations

import asyncio
import logging
import secrets

from . import internals
from ..web.blocking import in_background, off_loop
from ..core.session_records import Session, Ticket
from ..core.sessions import SessionEnded
from ..core.store import StoreUnavailable
from ..core.identity import ANONYMOUS, User, identity_key, streamlit_user_info
from .resumption import end_resumption
from .live_sessions import LIVE
from ..core.session_cookie import Sealer
from ..core.signin import SignInService

LOGGER = logging.getLogger("stauth_server.identity_bus")
#: This process's name on the bus (its own messages are ignored when they come back).
PROCESS = secrets.token_hex(8)
#: A bus message older than this is ignored.
MESSAGE_TTL = 30


def _sealer(service: SignInService) -> Sealer:
    sealer = getattr(service, "_bus_sealer", None)
    if sealer is None:
        sealer = service._bus_sealer = Sealer(service.config.cookie_secrets, "identity-bus")  # type: ignore[attr-defined]
    return sealer


def publish_identity(service: SignInService, browser: str | None, session: Session | None, user: User) -> None:
    """Give every open tab of ``browser`` this identity (None: signed out), everywhere."""
    if not browser:
        return
    push_local(service, browser, session, user)
    ticket = session.ticket if session is not None else None
    message = _sealer(service).seal({"p": PROCESS, "b": browser, "sid": ticket.sid if ticket else None,
                                     "k": ticket.key if ticket else None})
    in_background(_publish, service, message.encode("ascii"))


def _publish(service: SignInService, message: bytes) -> None:
    try:
        service.store.publish(message)
    except StoreUnavailable as exc:
        LOGGER.warning("could not tell other replicas about an identity change: %s", exc)


def push_local(service: SignInService, browser: str, session: Session | None, user: User) -> None:
    """Apply an identity to this process's open tabs of ``browser``."""
    for tab in LIVE.in_browser(browser):
        apply_identity(tab.session_id, session, user, service)


def apply_identity(session_id: str, session: Session | None, user: User, service: SignInService) -> None:
    """Set a live session's ``st.user`` in place and rerun its script if it changed."""
    LIVE.set_identity(session_id, session.ticket if session is not None else None, user)
    info = internals.session_user_info(session_id)
    if info is None:
        return
    fresh = streamlit_user_info(user, session.tokens if session is not None else {}, service.config.expose_tokens)
    if fresh != info:
        if info.get("is_logged_in") and identity_key(info) != identity_key(fresh):
            end_resumption(session_id)   # signed out (or another user): never resumed as it was
        info.clear()
        info.update(fresh)
        internals.request_rerun(session_id)


def listen(service: SignInService, loop: asyncio.AbstractEventLoop) -> None:
    """Apply identity changes that other processes publish on the store's bus."""

    def heard(data: bytes) -> None:  # on the store's thread
        loop.call_soon_threadsafe(lambda: loop.create_task(_apply_message(service, data)))

    service.store.subscribe(heard)


async def _apply_message(service: SignInService, data: bytes) -> None:
    try:
        message = _sealer(service).open(data.decode("ascii"), max_age_seconds=MESSAGE_TTL)
    except UnicodeError:
        message = None
    if message is None or message.get("p") == PROCESS or not isinstance(message.get("b"), str):
        return
    tabs = LIVE.in_browser(message["b"])
    if not tabs:
        return
    session, user = None, ANONYMOUS
    ticket = Ticket.from_payload(message) if message.get("sid") else None
    if ticket is not None:
        try:
            session, user = await off_loop(_unlock, service, ticket)
        except StoreUnavailable as exc:
            LOGGER.warning("identity change from another replica not applied: %s", exc)
            return
    for tab in tabs:
        apply_identity(tab.session_id, session, user, service)


def _unlock(service: SignInService, ticket: Ticket) -> tuple[Session | None, User]:
    session = service.sessions.unlock(ticket)
    if session is None:
        return None, ANONYMOUS
    try:
        return session, service.sessions.user_of(session)
    except SessionEnded:
        return None, ANONYMOUS
