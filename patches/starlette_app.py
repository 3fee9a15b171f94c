"""Put our ``AuthFront`` in front of the app Streamlit's Starlette server builds.

Touch point: the module global ``create_starlette_app`` of
``streamlit.web.server.starlette.starlette_server``, which ``UvicornServer.start`` calls as
``create_starlette_app(self._runtime)``. Verified: Streamlit 1.57.0 to 1.67.0 and 1.56.0 with ``server.useStarlette`` (``scripts/check_touch_points.py``; end to end on 1.56.0 and 1.67.0).
Raises for a runtime no ``AuthServer`` owns: Streamlit is never served without us.
"""

from __future__ import annotations

from typing import Any

from stauth_server.streamlit import internals

VERIFIED_VERSIONS = ("1.56.0",) + internals.STARLETTE_VERSIONS  # 1.56: server.useStarlette


def apply() -> None:
    module = internals.starlette_server_module()
    original = module.create_starlette_app
    if getattr(original, "stauth_original", None) is not None:
        return
    from streamlit.web.server.starlette.starlette_app import create_starlette_app as streamlit_own

    if original is not streamlit_own:
        raise RuntimeError("starlette_server.create_starlette_app is not Streamlit's; another tool patched it")

    def create_starlette_app(runtime: Any) -> Any:
        from stauth_server.starlette.front import AuthFront
        from stauth_server.starlette.server import server_for

        server = server_for(runtime)
        if server is None:
            raise RuntimeError("streamlit-auth: this Streamlit runtime has no AuthServer; refusing to serve it")
        return AuthFront(original(runtime), server)

    create_starlette_app.stauth_original = original  # type: ignore[attr-defined]
    module.create_starlette_app = create_starlette_app


def is_applied() -> bool:
    return getattr(internals.starlette_server_module().create_starlette_app, "stauth_original", None) is not None
