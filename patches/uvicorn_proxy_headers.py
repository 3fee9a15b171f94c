"""Turn off uvicorn's ``proxy_headers`` on Streamlit's Starlette server.

uvicorn defaults ``proxy_headers=True`` and trusts ``X-Forwarded-For``/``-Proto`` from
loopback before any app code runs; only our ``[auth.proxy]`` may decide whom to trust.
Touch point: the module global ``_get_uvicorn_config_kwargs`` of
``streamlit.web.server.starlette.starlette_server`` (its result is passed to
``uvicorn.Config``). Verified: Streamlit 1.57.0 to 1.67.0 and 1.56.0 with ``server.useStarlette``, uvicorn 0.54 (end to end on 1.56.0 and 1.67.0).
"""

from __future__ import annotations

from typing import Any

from stauth_server.streamlit import internals

VERIFIED_VERSIONS = ("1.56.0",) + internals.STARLETTE_VERSIONS  # 1.56: server.useStarlette


def apply() -> None:
    module = internals.starlette_server_module()
    original = module._get_uvicorn_config_kwargs
    if getattr(original, "stauth_original", None) is not None:
        return

    def _get_uvicorn_config_kwargs() -> dict[str, Any]:
        return {**original(), "proxy_headers": False}

    _get_uvicorn_config_kwargs.stauth_original = original  # type: ignore[attr-defined]
    module._get_uvicorn_config_kwargs = _get_uvicorn_config_kwargs


def is_applied() -> bool:
    return getattr(internals.starlette_server_module()._get_uvicorn_config_kwargs, "stauth_original", None) is not None
