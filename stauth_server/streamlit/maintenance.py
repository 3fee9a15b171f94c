"""Keeping open tabs' identities current: expiry, revocation, idle time, account changes,
token refresh; and sweeping expired records from the store."""

from __future__ import annotations

import asyncio
import logging

from ..web.blocking import off_loop
from ..core.session_records import Session, Ticket
from ..core.sessions import SessionEnded
from ..core.store import StoreUnavailable
from ..core.identity import ANONYMOUS, User
from .identity_bus import apply_identity
from .live_sessions import LIVE
from ..core.signin import SignInService

LOGGER = logging.getLogger("stauth_server.maintenance")
#: Sweep the store every this many passes.
SWEEP_EVERY = 4


def _check(service: SignInService, ticket: Ticket, last_activity: float) -> tuple[Session | None, User]:
    """The session and its user now (after touch and refresh), or (None, ANONYMOUS) when it
    has ended (blocks). ``StoreUnavailable`` propagates: the tab keeps its identity."""
    session = service.sessions.unlock(ticket, seen=last_activity)
    if session is None:
        return None, ANONYMOUS
    try:
        user = service.sessions.user_of(session)
    except SessionEnded:
        service.sessions.end(session)
        return None, ANONYMOUS
    session = service.refresh_if_due(session)
    return (session, user) if session is not None else (None, ANONYMOUS)


async def maintain_once(service: SignInService) -> None:
    """One pass over the signed-in tabs."""
    for tab in LIVE.signed_in():
        try:
            session, user = await off_loop(_check, service, tab.ticket, tab.last_activity)
        except StoreUnavailable as exc:
            LOGGER.warning("session store unavailable; tab %s keeps its identity: %s", tab.session_id, exc)
            continue
        except Exception:
            LOGGER.exception("checking session of tab %s failed", tab.session_id)
            continue
        apply_identity(tab.session_id, session, user, service)


async def keep_sessions_current(service: SignInService, every_seconds: float) -> None:
    """Run ``maintain_once`` forever, every ``every_seconds``; sweep now and then."""
    passes = 0
    while True:
        await asyncio.sleep(every_seconds)
        await maintain_once(service)
        passes += 1
        if passes % SWEEP_EVERY == 0:
            try:
                await off_loop(service.sessions.sweep)
            except StoreUnavailable as exc:
                LOGGER.warning("could not sweep the session store: %s", exc)
