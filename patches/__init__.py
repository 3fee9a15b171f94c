"""Changes to Streamlit's own behaviour that a subclass cannot make.

One module per touch point; each names the Streamlit versions it was verified against
and is applied only by the ``streamlit-auth`` entrypoint (never on import).
"""

from __future__ import annotations

from stauth_server.streamlit import internals

from . import app_logo, bootstrap_server, page_access, st_login


def apply_all() -> None:
    """Apply every patch of the installed Streamlit's server generation (idempotent)."""
    bootstrap_server.apply()
    if internals.server_generation() == "starlette":
        from . import starlette_app, tcp_nodelay, uvicorn_proxy_headers

        starlette_app.apply()
        uvicorn_proxy_headers.apply()
        tcp_nodelay.apply()
    st_login.apply()
    app_logo.apply()
    page_access.apply()
