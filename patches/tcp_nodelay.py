"""Turn off Nagle's algorithm on the Starlette server's listening socket.

Streamlit's Starlette server binds its socket itself with ``socket.socket(family=...)``
(protocol number 0), so asyncio never sets ``TCP_NODELAY`` on the connections it accepts
(``_set_nodelay`` wants ``IPPROTO_TCP``): on a kept-alive connection a response written in
two parts (headers, then body) waits for the client's delayed ACK, about 40 ms a response
(plain ``streamlit run`` 1.67.0, ``wrk`` on ``/_stcore/health``: 227 requests/s against
2,739 on 1.56's Tornado server). On Linux, accepted sockets inherit the option from the
listening socket.

Touch point: the module global ``_bind_socket`` of
``streamlit.web.server.starlette.starlette_server``, which ``UvicornServer`` calls to bind.
Verified: Streamlit 1.56.0 (``server.useStarlette``) and 1.57.0 to 1.67.0
(``scripts/check_touch_points.py``; end to end on 1.56.0 and 1.67.0).
"""

from __future__ import annotations

import socket
from typing import Any

from stauth_server.streamlit import internals

VERIFIED_VERSIONS = ("1.56.0",) + internals.STARLETTE_VERSIONS  # 1.56: server.useStarlette


def apply() -> None:
    module = internals.starlette_server_module()
    original = module._bind_socket
    if getattr(original, "stauth_original", None) is not None:
        return

    def _bind_socket(*args: Any, **kwargs: Any) -> socket.socket:
        sock = original(*args, **kwargs)
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    _bind_socket.stauth_original = original  # type: ignore[attr-defined]
    module._bind_socket = _bind_socket


def is_applied() -> bool:
    return getattr(internals.starlette_server_module()._bind_socket, "stauth_original", None) is not None
