"""AuthServer for Streamlit's Starlette/uvicorn server (1.57+; run on 1.67.0).

Streamlit builds its app in ``UvicornServer.start`` with ``create_starlette_app(runtime)``;
``patches/starlette_app.py`` wraps that app in our ``AuthFront`` for the runtime this
server owns. The websocket's identity reaches Streamlit's session through a wrapper of the
runtime *instance*'s ``connect_session`` (called in the websocket endpoint's task, so a
contextvar set by the front before the handshake is visible there).
"""

from __future__ import annotations

import contextvars
import logging
import weakref
from typing import Any

from ..core.signin import ResolvedSession
from ..streamlit import internals
from ..streamlit.live_sessions import LIVE
from ..streamlit.resumption import connect_with_identity
from ..streamlit.server_setup import AuthServerSetup, _static_top_level_names
from ..web.cookie_outbox import browser_binding

LOGGER = logging.getLogger("stauth_server.auth")
#: The identity the front resolved for the websocket being connected (and a pending ticket).
CONNECTING: contextvars.ContextVar[tuple[ResolvedSession, Any] | None] = contextvars.ContextVar(
    "stauth_connecting", default=None)
_SERVERS: weakref.WeakValueDictionary[int, Any] = weakref.WeakValueDictionary()


def server_for(runtime: Any) -> Any | None:
    """The ``AuthServer`` that owns ``runtime``, if any."""
    return _SERVERS.get(id(runtime))


class AuthServer(AuthServerSetup, internals.server_base_class()):  # type: ignore[misc]
    """Streamlit's (Starlette) server, plus cookie delivery, redirects, sign-in and routes."""

    def __init__(self, main_script_path: str, is_hello: bool) -> None:
        super().__init__(main_script_path, is_hello)
        self.registry.check_reserved(internals.STREAMLIT_RESERVED_PREFIXES, _static_top_level_names())
        self.registry.check_server(starlette=True)
        self.registry.seal()
        _SERVERS[id(self._runtime)] = self
        if self.signin is not None:
            install_session_bridge(self._runtime, self.signin)


def install_session_bridge(runtime: Any, service: Any) -> None:
    """Wrap the runtime instance's ``connect_session``/``disconnect_session`` /``handle_backmsg`` (1.67.0: every
    caller looks them up on the instance; ``disconnect_session`` takes ``client=`` since 1.61)."""
    connect = runtime.connect_session
    disconnect = runtime.disconnect_session
    backmsg = runtime.handle_backmsg

    def connect_session(client: Any, user_info: dict[str, Any], existing_session_id: str | None = None,
                        **kwargs: Any) -> str:
        connecting = CONNECTING.get()
        # Only a browser tab's websocket (which the front saw) is bound to a browser; any other
        # caller (the 1.67 Agent API) stays anonymous and never receives a browser's identity.
        resolved, pending = connecting or (ResolvedSession(), None)
        return connect_with_identity(
            connect, client, user_info, existing_session_id,
            user=resolved.user, tokens=resolved.record.tokens if resolved.record else {},
            expose_tokens=service.config.expose_tokens,
            ticket=resolved.record.ticket if resolved.record else pending,
            browser=browser_binding(internals.client_cookie(client, internals.XSRF_COOKIE_NAME))
            if connecting is not None else None, **kwargs)

    def disconnect_session(session_id: str, *args: Any, **kwargs: Any) -> None:
        disconnect(session_id, *args, **kwargs)
        if not runtime.is_active_session(session_id):  # a resumed session's old client leaving
            LIVE.disconnect(session_id)

    def handle_backmsg(session_id: str, *args: Any, **kwargs: Any) -> Any:
        LIVE.touch(session_id)
        return backmsg(session_id, *args, **kwargs)

    runtime.connect_session = connect_session
    runtime.handle_backmsg = handle_backmsg
    runtime.disconnect_session = disconnect_session
