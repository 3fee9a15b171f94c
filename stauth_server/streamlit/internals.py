"""Every use of Streamlit's private internals, in one place.

Checked against Streamlit 1.56.0 (the last release served by Tornado, also with its
``server.useStarlette`` server) and every release from 1.57.0 to 1.67.0 (Starlette; see
``STARLETTE_VERSIONS`` and the "Starlette server generation" section below):
``scripts/check_touch_points.py`` checks each touch point on an installed Streamlit, and
the test suite runs end to end on 1.56.0 and 1.67.0. Anything here may
change in another release, so start-up refuses a version outside ``SUPPORTED_VERSIONS``
and ``tests/unit/test_streamlit_internals.py`` fails loudly when a name below moves.
Nothing else in ``stauth_server`` imports a private Streamlit module.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import streamlit

#: Releases served by Streamlit's Tornado server (``tornado/`` adapter), read and tested.
TORNADO_VERSIONS: tuple[str, ...] = ("1.56.0",)
#: Releases served by Streamlit's Starlette/uvicorn server (``starlette/`` adapter): every
#: touch point checked on each (scripts/check_touch_points.py, docs/starlette-adapter-notes.md
#: section 6), servers started on 1.57.0, 1.59.2, 1.61.1, 1.64.0, 1.66.1, and the whole
#: end-to-end suite run on 1.67.0 in CI.
STARLETTE_VERSIONS: tuple[str, ...] = (
    "1.57.0", "1.58.0", "1.59.0", "1.59.1", "1.59.2", "1.60.0", "1.61.0", "1.61.1", "1.62.0", "1.63.0",
    "1.64.0", "1.65.0", "1.66.0", "1.66.1", "1.67.0",
)
#: Streamlit releases whose internals were read and tested with this module.
SUPPORTED_VERSIONS: tuple[str, ...] = TORNADO_VERSIONS + STARLETTE_VERSIONS


class UnsupportedStreamlitVersion(RuntimeError):
    """The installed Streamlit is not one this release of streamlit-auth was checked on."""


def check_streamlit_version(version: str | None = None) -> None:
    """Raise ``UnsupportedStreamlitVersion`` unless Streamlit's version was verified."""
    installed = version or streamlit.__version__
    if installed not in SUPPORTED_VERSIONS:
        raise UnsupportedStreamlitVersion(
            f"streamlit-auth supports Streamlit {TORNADO_VERSIONS[0]} to {STARLETTE_VERSIONS[-1]} "
            f"({', '.join(SUPPORTED_VERSIONS)}); Streamlit {installed} is installed. "
            f"Install a supported one: pip install 'streamlit>={TORNADO_VERSIONS[0]},<1.68' "
            f"(the newest: pip install 'streamlit=={STARLETTE_VERSIONS[-1]}')"
        )


def server_generation(version: str | None = None) -> str:
    """``"tornado"`` or ``"starlette"``: which server Streamlit runs.

    1.57 and later: Starlette. 1.56: Tornado, or Starlette when ``server.useStarlette`` is
    true (read from the loaded config when ``version`` is not given).
    """
    if (version or streamlit.__version__) in STARLETTE_VERSIONS:
        return "starlette"
    if version is None and option_exists("server.useStarlette") and get_config_option("server.useStarlette"):
        return "starlette"
    return "tornado"


def version_summary() -> str:
    """Which Streamlit is installed and which of its servers streamlit-auth runs it on."""
    installed = streamlit.__version__
    if installed in TORNADO_VERSIONS and server_generation() == "starlette":
        server = "Starlette server (server.useStarlette; Streamlit's own app behind our ASGI front)"
    elif installed in TORNADO_VERSIONS:
        server = "Tornado server (Streamlit's own, subclassed)"
    elif installed in STARLETTE_VERSIONS:
        server = "Starlette server (Streamlit's own app behind our ASGI front)"
    else:
        server = f"not supported by this release (supported: {', '.join(SUPPORTED_VERSIONS)})"
    return f"Streamlit {installed}: {server}"


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


def option_exists(key: str) -> bool:
    """Whether this Streamlit has config option ``key`` (``server.useStarlette`` exists in
    1.56 only; reading a missing option raises ``RuntimeError``). Fixed per process: cached."""
    known = _OPTION_EXISTS.get(key)
    if known is None:
        from streamlit import config

        try:
            config.get_option(key)
            known = True
        except RuntimeError:
            known = False
        _OPTION_EXISTS[key] = known
    return known


_OPTION_EXISTS: dict[str, bool] = {}


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


# --- sessions and identity ------------------------------------------------------------

def websocket_handler_class() -> type:
    """Streamlit's ``BrowserWebSocketHandler`` (the app's websocket at ``_stcore/stream``)."""
    from streamlit.web.server.browser_websocket_handler import BrowserWebSocketHandler

    return BrowserWebSocketHandler


#: The websocket path, relative to the base path (``STREAM_ENDPOINT`` in 1.56).
STREAM_PATH = "/_stcore/stream"


def session_user_info(session_id: str) -> dict[str, Any] | None:
    """The ``user_info`` dict of a live session (the one ``st.user`` reads), or None.

    ``AppSession._user_info`` is the dict shared by reference with every script run's
    ``ScriptRunContext.user_info``: updating it in place changes ``st.user``.
    """
    from streamlit import runtime

    if not runtime.exists():
        return None
    info = runtime.get_instance()._session_mgr.get_session_info(session_id)
    if info is None:
        return None
    return info.session._user_info  # type: ignore[no-any-return]


def mark_session_nonresumable(session_id: str) -> None:
    """Tell Streamlit a reconnecting tab may not resume ``session_id``.

    ``Runtime.mark_session_nonresumable`` exists since 1.67 (what native ``st.logout``
    calls); before that, ``resumption.ENDED`` alone enforces it.
    """
    from streamlit import runtime

    if runtime.exists():
        mark = getattr(runtime.get_instance(), "mark_session_nonresumable", None)
        if mark is not None:
            mark(session_id)


def request_rerun(session_id: str) -> None:
    """Rerun a live session's script on its current page, as a file change does.

    ``AppSession._client_state`` holds the last client state (page, query string,
    widgets); ``request_rerun(None)`` would rerun the main page instead.
    """
    from streamlit import runtime

    if not runtime.exists():
        return
    info = runtime.get_instance()._session_mgr.get_active_session_info(session_id)
    if info is not None:
        info.session.request_rerun(info.session._client_state)


def streamlit_module() -> Any:
    """The ``streamlit`` package, whose ``login``/``logout`` names a patch replaces."""
    return streamlit


def user_info_module() -> Any:
    """``streamlit.user_info``, home of ``login``/``logout`` and ``st.user``'s proxy."""
    from streamlit import user_info

    return user_info


# --- pages --------------------------------------------------------------------------

def navigation_module() -> Any:
    """``streamlit.commands.navigation``: its ``_navigation`` picks the page to run, for
    ``st.navigation`` and for the ``pages/`` folder alike (``script_runner._mpa_v1``)."""
    from streamlit.commands import navigation

    return navigation


def route_single_file_app_through_navigation(main_script_path: str) -> bool:
    """Make a single-file app (no ``pages/`` folder) pick its page through ``_navigation``
    too, so page rules and middlewares apply to it: Streamlit's v1 multipage path
    (``script_runner._mpa_v1``, taken when ``PagesManager.uses_pages_directory``) runs the
    main script as the only page of an empty ``pages/`` folder, as it does for an app with
    an empty folder. Not for a script that names ``navigation``: it picks its own pages
    with ``st.navigation``, guarded too, and must run first to list them. Returns whether
    the flag was set. Checked on 1.56.0 to 1.67.0 (``scripts/check_touch_points.py``)."""
    from streamlit.runtime.pages_manager import PagesManager

    script = Path(main_script_path).resolve()
    if (script.parent / "pages").exists() or _names_navigation(script):
        return False
    PagesManager.uses_pages_directory = True
    return True


def _names_navigation(script: Path) -> bool:
    """Whether the main script mentions ``navigation`` (``st.navigation``): such an app picks
    its pages itself, through the same guarded ``_navigation``, and must run first to say
    which pages it has (routing it through the v1 path would guard a page list of one)."""
    import ast

    try:
        tree = ast.parse(script.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return False
    return any((isinstance(node, ast.Attribute) and node.attr == "navigation")
               or (isinstance(node, ast.Name) and node.id == "navigation")
               or (isinstance(node, ast.alias) and node.name.split(".")[-1] == "navigation")
               for node in ast.walk(tree))


def as_page(page: Any) -> Any:
    """A ``st.navigation`` entry (path, callable or StreamlitPage) as a StreamlitPage."""
    from streamlit.navigation.page import StreamlitPage

    return page if isinstance(page, StreamlitPage) else StreamlitPage(page)


def requested_page(ctx: Any, pages: list[Any]) -> Any | None:
    """The page this run was asked for (by URL or a page link), else the default page."""
    if ctx is None or not pages:
        return None
    manager = ctx.pages_manager
    wanted_hash = manager.intended_page_script_hash
    wanted_name = manager.intended_page_name
    for page in pages:
        if wanted_hash and page._script_hash == wanted_hash:
            return page
    for page in pages:
        if wanted_name and page.url_path == wanted_name.strip("/"):
            return page
    return next((p for p in pages if p._default), pages[0])


# --- AppTest, for stauth_server.testing only (checked against 1.56.0 and 1.67.0 by the kit's
# own tests, tests/unit/testing_kit, which run on both) ------------------------------------

def app_test_class() -> type:
    """``streamlit.testing.v1.AppTest``; every run (``run()``, a widget's, after
    ``switch_page``) goes through its ``_run(widget_state, timeout)``."""
    from streamlit.testing.v1 import AppTest

    return AppTest


def app_test_module() -> Any:
    """``streamlit.testing.v1.app_test``, whose ``_run`` looks up ``LocalScriptRunner`` by
    name in the module's globals for each run."""
    from streamlit.testing.v1 import app_test

    return app_test


def seat_script_runner(runner: Any, session_id: str, user_info: dict[str, Any]) -> None:
    """Give a ``ScriptRunner`` not yet started this session id (``_session_id``, which its
    runs' ``ScriptRunContext`` and uploaded files use) and ``st.user`` dict: its
    ``_user_info`` is shared by reference with every run's ``ScriptRunContext.user_info``,
    so it is updated in place."""
    runner._session_id = session_id
    runner._user_info.clear()
    runner._user_info.update(user_info)


def browser_redirects(runner: Any) -> list[str]:
    """The ``auth_redirect`` URLs a ``LocalScriptRunner``'s run sent (its ``forward_msgs()``)."""
    return [msg.auth_redirect.url for msg in runner.forward_msgs() if msg.WhichOneof("type") == "auth_redirect"]


# --- start-up checks (checked against 1.56.0) -------------------------------------------

def load_streamlit_config(main_script_path: str | None, flag_options: dict[str, Any]) -> None:
    """Load Streamlit's config the way ``streamlit run`` does before it picks a server.

    ``streamlit.web.cli._main_run`` sets ``config._main_script_path`` (so the script
    folder's ``.streamlit/config.toml`` and ``secrets.toml`` count, over the working
    directory's) and calls ``bootstrap.load_config_options(flag_options)``: config files,
    then the flags (which click also fills from ``STREAMLIT_*`` environment variables).
    ``streamlit run`` reloads the same values.
    """
    from streamlit import config
    from streamlit.web import bootstrap

    config._main_script_path = main_script_path
    bootstrap.load_config_options(flag_options=flag_options)


def config_option_source(key: str) -> str:
    """Where a config option's value came from: a config.toml path, ``"<default>"``, or
    ``"command-line argument or environment variable"``."""
    from streamlit import config

    return str(config.get_where_defined(key))


def asgi_app_in_script(script_path: str) -> str | None:
    """The variable holding an ASGI app (``streamlit.starlette.App``, FastAPI, Starlette)
    that ``streamlit run`` finds in the script, or None.

    ``_main_run`` serves such a script with uvicorn (``bootstrap.run_asgi_app``) instead
    of building the ``Server`` that ``AuthServer`` replaces. Found by parsing, not running.
    """
    from pathlib import Path

    from streamlit.web.server.app_discovery import discover_asgi_app

    found = discover_asgi_app(Path(script_path))
    return found.app_name if found.is_asgi_app else None


def websocket_xsrf_token_ok(handler: Any) -> bool:
    """Whether a websocket handshake carries Streamlit's XSRF token (checked on 1.56.0).

    The frontend sends it as the second ``Sec-WebSocket-Protocol`` value; Streamlit's
    ``BrowserWebSocketHandler._validate_xsrf_token`` compares it with the XSRF cookie.
    False when XSRF protection is off or the token is missing or wrong.
    """
    from streamlit.web.server.server_util import is_xsrf_enabled

    if not is_xsrf_enabled():
        return False
    protocols = [p.strip() for p in (handler.request.headers.get("Sec-Websocket-Protocol") or "").split(",")]
    if len(protocols) < 2 or not protocols[1]:
        return False
    try:
        return bool(handler._validate_xsrf_token(protocols[1]))
    except Exception:  # a malformed token
        return False


# --- Starlette server generation (checked against 1.67.0; notes: docs/starlette-adapter-notes.md) ---

def starlette_server_module() -> Any:
    """``streamlit.web.server.starlette.starlette_server``: ``UvicornServer.start`` looks up
    ``create_starlette_app`` and ``_get_uvicorn_config_kwargs`` in its globals (1.67.0)."""
    from streamlit.web.server.starlette import starlette_server

    return starlette_server


def runtime_instance() -> Any | None:
    """The running ``Runtime``, or None."""
    from streamlit import runtime

    return runtime.get_instance() if runtime.exists() else None


def client_cookie(client: Any, name: str) -> str | None:
    """A cookie of a session client's handshake: ``client.client_context.cookies`` (1.67.0),
    else Tornado's ``get_cookie`` (1.56.0)."""
    context = getattr(client, "client_context", None)
    if context is not None:
        return context.cookies.get(name)
    return client.get_cookie(name)  # type: ignore[no-any-return]
