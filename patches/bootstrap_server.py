"""Make ``streamlit.web.bootstrap.run()`` build our ``AuthServer``.

Touch point: the module-level name ``Server`` in ``streamlit.web.bootstrap``, which
``run()`` calls as ``Server(main_script_path, is_hello)``. Verified: Streamlit 1.56.0
(Tornado's ``AuthServer``, or Starlette's with ``server.useStarlette``) and 1.57.0 to 1.67.0
(Starlette's ``AuthServer``).
"""

from __future__ import annotations

from stauth_server.streamlit import internals

VERIFIED_VERSIONS = internals.SUPPORTED_VERSIONS


def _auth_server() -> type:
    """The ``AuthServer`` of the installed Streamlit's server generation."""
    if internals.server_generation() == "starlette":
        from stauth_server.starlette.server import AuthServer
    else:
        from stauth_server.tornado.server import AuthServer
    return AuthServer


def apply() -> None:
    AuthServer = _auth_server()
    bootstrap = internals.bootstrap_module()
    if bootstrap.Server is not internals.server_base_class() and bootstrap.Server is not AuthServer:
        raise RuntimeError(
            "streamlit.web.bootstrap.Server is neither Streamlit's Server nor AuthServer; "
            "another tool patched it"
        )
    bootstrap.Server = AuthServer


def is_applied() -> bool:
    return internals.bootstrap_module().Server is _auth_server()
