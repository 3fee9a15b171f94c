"""Keeping open tabs' identities current: expiry, revocation, idle time, token refresh."""

from __future__ import annotations

import asyncio
import logging
import time

from .identity import ANONYMOUS
from .live_sessions import LIVE
from .session_store import SessionRecord
from .signin import TOUCH_INTERVAL, SignInService

LOGGER = logging.getLogger("stauth_server.maintenance")


def _check(service: SignInService, sid: str, last_activity: float) -> SessionRecord | None:
    """The session's record after refresh and touch, or None when it has ended (blocks)."""
    record = service.store.get(sid)
    now = time.time()
    if record is None or record.expires_at <= now:
        return None
    idle = service.config.idle_timeout
    if last_activity - record.last_seen >= TOUCH_INTERVAL:
        record.last_seen = last_activity
        service.store.save(record)
    elif idle is not None and now - record.last_seen > idle:
        service.store.delete(sid)
        return None
    return service.refresh_if_due(record)


async def maintain_once(service: SignInService) -> None:
    """One pass over the signed-in tabs."""
    from .auth_handlers import apply_identity

    loop = asyncio.get_running_loop()
    for tab in LIVE.signed_in():
        try:
            record = await loop.run_in_executor(None, _check, service, tab.sid, tab.last_activity)
        except Exception:
            LOGGER.exception("checking session of tab %s failed", tab.session_id)
            continue
        if record is None:
            apply_identity(tab.session_id, None, ANONYMOUS, {}, service)
        else:
            apply_identity(tab.session_id, record.sid, tab.user, record.tokens, service)


async def keep_sessions_current(service: SignInService, every_seconds: float) -> None:
    """Run ``maintain_once`` forever, every ``every_seconds``."""
    while True:
        await asyncio.sleep(every_seconds)
        await maintain_once(service)
