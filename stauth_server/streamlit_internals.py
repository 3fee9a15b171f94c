"""Every use of Streamlit's private internals, in one place.

Checked against Streamlit 1.56.0 (the last release served by Tornado). Anything here may
change in another release, so start-up refuses a version outside ``SUPPORTED_VERSIONS``
and ``tests/unit/test_streamlit_internals.py`` fails loudly when a name below moves.
Nothing else in ``stauth_server`` imports a private Streamlit module.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit

#: Streamlit releases whose internals were read and tested with this module.
SUPPORTED_VERSIONS: tuple[str, ...] = ("1.56.0",)


class UnsupportedStreamlitVersion(RuntimeError):
    """The installed Streamlit is not one this release of streamlit-auth was checked on."""


def check_streamlit_version(version: str | None = None) -> None:
    """Raise ``UnsupportedStreamlitVersion`` unless Streamlit's version was verified."""
    installed = version or streamlit.__version__
    if installed not in SUPPORTED_VERSIONS:
        raise UnsupportedStreamlitVersion(
            f"streamlit-auth supports Streamlit {', '.join(SUPPORTED_VERSIONS)} (the Tornado "
            f"server generation); Streamlit {installed} is installed. "
            f"Install a supported one: pip install 'streamlit=={SUPPORTED_VERSIONS[-1]}'"
        )


# --- server side --------------------------------------------------------------------

def server_base_class() -> type:
    """Streamlit's Tornado ``Server`` class, which ``AuthServer`` subclasses."""
    from streamlit.web.server.server import Server

    return Server


def bootstrap_module() -> Any:
    """``streamlit.web.bootstrap``, whose module-level ``Server`` name ``run()`` uses."""
    from streamlit.web import bootstrap

    return bootstrap


def streamlit_run_command() -> Any:
    """The click command behind ``streamlit run`` (its options are ours too)."""
    from streamlit.web import cli

    return cli.main_run


def streamlit_configurator_options() -> Callable[[Any], Any]:
    """The decorator that adds every Streamlit config option as a click option."""
    from streamlit.web.cli import configurator_options

    return configurator_options


def get_config_option(key: str) -> Any:
    """Read a Streamlit config option (``server.baseUrlPath``...)."""
    from streamlit import config

    return config.get_option(key)


def static_dir() -> str:
    """The folder of Streamlit's own frontend files (its top-level names are reserved)."""
    from streamlit import file_util

    return file_util.get_static_dir()


#: Path prefixes (relative to ``server.baseUrlPath``) served by Streamlit 1.56 itself.
STREAMLIT_RESERVED_PREFIXES: tuple[str, ...] = (
    "/_stcore",
    "/healthz",
    "/st-metrics",
    "/script-health-check",
    "/media",
    "/component",
    "/app/static",
    "/static",
    "/auth/login",
    "/auth/logout",
    "/oauth2callback",
)

#: Cookie names Streamlit itself sets or reads.
STREAMLIT_COOKIE_PREFIXES: tuple[str, ...] = ("_streamlit",)
STREAMLIT_COOKIE_NAMES: tuple[str, ...] = ("_xsrf", "_streamlit_xsrf")

#: The name of Streamlit's XSRF cookie (``xsrf_cookie_name`` in its Tornado settings).
XSRF_COOKIE_NAME = "_streamlit_xsrf"


def runtime_exists() -> bool:
    from streamlit import runtime

    return runtime.exists()


def is_active_session(session_id: str) -> bool:
    """Whether a Streamlit session with this id is still connected or kept."""
    from streamlit import runtime

    if not runtime.exists():
        return False
    return bool(runtime.get_instance().is_active_session(session_id))


# --- script side --------------------------------------------------------------------

def script_run_ctx() -> Any | None:
    """The running script's ``ScriptRunContext``, or None outside a script run."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    return get_script_run_ctx(suppress_warning=True)


def script_run_marker(ctx: Any) -> object:
    """An object that is the same for the whole of one script run and new for the next.

    ``ScriptRunContext.reset()`` assigns a fresh ``cursors`` dict at the start of a run.
    """
    return ctx.cursors


def enqueue_browser_redirect(ctx: Any, url: str) -> None:
    """Make the frontend set ``window.location.href = url`` (top window).

    Streamlit's frontend acts on ``ForwardMsg.auth_redirect`` without checking the URL:
    callers validate it first.
    """
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    msg = ForwardMsg()
    msg.auth_redirect.url = url
    ctx.enqueue(msg)


def stop_script() -> None:
    """Stop the current script run the way ``st.stop()`` does (raises inside a run)."""
    streamlit.stop()
