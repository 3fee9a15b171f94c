"""Changes to Streamlit's own behaviour that a subclass cannot make.

One module per touch point; each names the Streamlit versions it was verified against
and is applied only by the ``streamlit-auth`` entrypoint (never on import).
"""

from __future__ import annotations

from . import bootstrap_server, page_access, st_login


def apply_all() -> None:
    """Apply every patch (idempotent)."""
    bootstrap_server.apply()
    st_login.apply()
    page_access.apply()
