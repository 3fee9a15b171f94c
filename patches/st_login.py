"""Make ``st.login()`` and ``st.logout()`` use streamlit-auth's endpoints.

Touch points: the names ``login`` and ``logout`` in ``streamlit`` and in
``streamlit.user_info`` (native ``st.login`` needs Authlib and its own cookie).
Verified: Streamlit 1.56.0 to 1.67.0 (``scripts/check_touch_points.py``; end to end on 1.56.0 and 1.67.0).
"""

from __future__ import annotations

from stauth_server.streamlit import internals

VERIFIED_VERSIONS = internals.SUPPORTED_VERSIONS


def _login(provider: str | None = None) -> None:
    """``st.login(provider)``, served by streamlit-auth (returns to the current page)."""
    from stauth_server.streamlit.script_api import login

    login(provider)


def _logout() -> None:
    """``st.logout()``, served by streamlit-auth."""
    from stauth_server.streamlit.script_api import logout

    logout()


def apply() -> None:
    for module in (internals.streamlit_module(), internals.user_info_module()):
        module.login = _login
        module.logout = _logout


def is_applied() -> bool:
    return internals.streamlit_module().login is _login
