#!/usr/bin/env python3
"""Check every Streamlit internal streamlit-auth touches, against the running interpreter's Streamlit.

    python3 scripts/check_touch_points.py                 # the Streamlit of python3
    /tmp/venv-st1.61.1/bin/python scripts/check_touch_points.py

One line per touch point: ``OK``, ``MISSING`` (a name or keyword we use is gone) or ``CHANGED``
(there but not in the shape we rely on, or present/absent outside the releases documented for
it), with detail. Exits 1 on any MISSING/CHANGED. Nothing is patched and no server is started.

The list is data (``TOUCH_POINTS``) derived from ``stauth_server/streamlit/internals.py``,
``patches/``, ``stauth_server/starlette/`` and ``stauth_server/tornado/``. When
``internals.TOUCH_POINTS`` exists it is used instead, so the registry can move next to the code
that uses it. Each entry: ``(key, generation, check, since, until, used_by)``;
``generation`` is ``"both"``, ``"tornado"`` (Streamlit < 1.57) or ``"starlette"`` (>= 1.57);
``since``/``until`` (inclusive/exclusive) bound the releases where the thing must exist, and
outside them it must be absent (``None``: no bound).
"""

from __future__ import annotations

import importlib
import inspect
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("STREAMLIT_GLOBAL_DEVELOPMENT_MODE", "false")

import streamlit  # noqa: E402

from stauth_server.streamlit import internals  # noqa: E402

FIRST_STARLETTE = (1, 57)

# --- check kinds (each returns (ok, detail)) -----------------------------------------------


class Mismatch(Exception):
    """The thing exists but not in the shape we rely on (reported as CHANGED)."""


def _resolve(module: str, dotted: str = "") -> Any:
    obj: Any = importlib.import_module(module)
    for part in filter(None, dotted.split(".")):
        obj = getattr(obj, part)
    return obj


def _where(module: str, dotted: str) -> str:
    return f"{module}:{dotted}" if dotted else module


def attr(module: str, dotted: str = "") -> Callable[[], str]:
    def check() -> str:
        obj = _resolve(module, dotted)
        return f"{_where(module, dotted)} ({type(obj).__name__})"
    return check


def params(module: str, dotted: str, names: tuple[str, ...], kwonly: tuple[str, ...] = ()) -> Callable[[], str]:
    """A callable whose signature has ``names`` (and ``kwonly`` as keyword-only)."""
    def check() -> str:
        sig = inspect.signature(_resolve(module, dotted))
        have = sig.parameters
        missing = [n for n in (*names, *kwonly) if n not in have]
        if missing:
            raise Mismatch(f"{_where(module, dotted)}{sig}: no parameter {', '.join(missing)}")
        wrong = [n for n in kwonly if have[n].kind is not inspect.Parameter.KEYWORD_ONLY]
        if wrong:
            raise Mismatch(f"{_where(module, dotted)}{sig}: {', '.join(wrong)} not keyword-only")
        return f"{dotted}{sig}"
    return check


def source(module: str, dotted: str, *needles: str) -> Callable[[], str]:
    """The source of a function/class/module contains every needle (whitespace-insensitive)."""
    def check() -> str:
        text = inspect.getsource(_resolve(module, dotted))
        flat = "".join(text.split())
        missing = [n for n in needles if "".join(n.split()) not in flat]
        if missing:
            raise Mismatch(f"{_where(module, dotted)} source lacks {missing}")
        return f"{dotted or module} calls/uses {', '.join(needles)}"
    return check


def same(module: str, dotted: str, module2: str, dotted2: str) -> Callable[[], str]:
    def check() -> str:
        if _resolve(module, dotted) is not _resolve(module2, dotted2):
            raise Mismatch(f"{_where(module, dotted)} is not {_where(module2, dotted2)}")
        return f"{_where(module, dotted)} is {_where(module2, dotted2)}"
    return check


def value(module: str, dotted: str, expected: Any) -> Callable[[], str]:
    def check() -> str:
        got = _resolve(module, dotted)
        if got != expected:
            raise Mismatch(f"{_where(module, dotted)} == {got!r}, we use {expected!r}")
        return f"{_where(module, dotted)} == {got!r}"
    return check


def option(key: str) -> Callable[[], str]:
    def check() -> str:
        from streamlit import config

        if key not in config._config_options_template:
            raise AttributeError(f"no config option {key}")
        return f"config option {key} (default {config._config_options_template[key].default_val!r})"
    return check


# --- custom checks ------------------------------------------------------------------------


def check_bootstrap_server() -> str:
    from streamlit.web import bootstrap
    from streamlit.web.server.server import Server

    if bootstrap.Server is not Server:
        raise Mismatch(f"bootstrap.Server is {bootstrap.Server!r}, not streamlit.web.server.server.Server")
    return "bootstrap.Server is Server (module global that run() calls)"


def check_no_slots_runtime() -> str:
    from streamlit.runtime.runtime import Runtime

    if "__slots__" in vars(Runtime):
        raise Mismatch("Runtime has __slots__: instance methods cannot be wrapped")
    return "Runtime instances take attributes (connect_session/... wrapped per instance)"


def check_app_session_fields() -> str:
    from streamlit.runtime.app_session import AppSession

    text = "".join(inspect.getsource(AppSession.__init__).split())
    missing = [n for n in ("self._user_info=user_info", "self._client_state=") if n not in text]
    if missing:
        raise Mismatch(f"AppSession.__init__ lacks {missing}")
    params("streamlit.runtime.app_session", "AppSession.request_rerun", ("client_state",))()
    return "AppSession._user_info (by reference), _client_state, request_rerun(client_state)"


def check_script_run_ctx() -> str:
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    params(get_script_run_ctx.__module__, "get_script_run_ctx", ("suppress_warning",))()
    ctx_cls = _resolve(get_script_run_ctx.__module__, "ScriptRunContext")
    fields = set(getattr(ctx_cls, "__dataclass_fields__", {}))
    missing = [f for f in ("session_id", "user_info", "pages_manager", "main_script_path", "cursors")
               if f not in fields]
    if missing or not callable(getattr(ctx_cls, "enqueue", None)):
        raise Mismatch(f"ScriptRunContext lacks {missing or ['enqueue']}")
    if "self.cursors={}" not in "".join(inspect.getsource(ctx_cls.reset).split()):
        raise Mismatch("ScriptRunContext.reset() no longer assigns a new cursors dict (script_run_marker)")
    return f"{get_script_run_ctx.__module__}: get_script_run_ctx(suppress_warning), ctx fields, reset() new cursors"


def check_auth_redirect() -> str:
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    msg = ForwardMsg()
    msg.auth_redirect.url = "https://example.invalid/"
    if msg.WhichOneof("type") != "auth_redirect":
        raise Mismatch(f"ForwardMsg.auth_redirect is not in the 'type' oneof ({msg.WhichOneof('type')})")
    return "ForwardMsg.auth_redirect.url"


def check_st_names() -> str:
    from streamlit import user_info

    for module, names in ((streamlit, ("login", "logout", "stop", "context", "query_params", "secrets", "logo")),
                          (user_info, ("login", "logout"))):
        missing = [n for n in names if not hasattr(module, n)]
        if missing:
            raise AttributeError(f"{module.__name__} lacks {missing}")
    ctx_type = type(streamlit.context)
    missing = [n for n in ("cookies", "headers", "url") if not hasattr(ctx_type, n)]
    if missing:
        raise AttributeError(f"st.context lacks {missing}")
    if not callable(getattr(streamlit.secrets, "load_if_toml_exists", None)):
        raise AttributeError("st.secrets.load_if_toml_exists")
    params = list(inspect.signature(streamlit.logo).parameters)
    if not params or params[0] != "image":
        raise AttributeError(f"st.logo's first parameter is {params[:1]}, not image (patches/app_logo.py)")
    return ("st.login/logout/stop, st.logo(image, ...), user_info.login/logout, st.context.{cookies,headers,url}, "
            "st.secrets.load_if_toml_exists")


def check_page() -> str:
    from streamlit.navigation.page import StreamlitPage
    from streamlit.runtime.pages_manager import PagesManager

    missing = [n for n in ("intended_page_script_hash", "intended_page_name") if not hasattr(PagesManager, n)]
    if missing:
        raise AttributeError(f"PagesManager lacks {missing}")
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "some_page.py"
        script.write_text("")
        from unittest import mock

        ctx = mock.MagicMock(main_script_path=str(Path(tmp) / "main.py"))
        ctx.pages_manager.main_script_parent = Path(tmp)
        page_module = sys.modules[StreamlitPage.__module__]
        if not hasattr(page_module, "get_script_run_ctx"):
            raise Mismatch(f"{page_module.__name__} no longer reads get_script_run_ctx (check skipped)")
        with mock.patch.object(page_module, "get_script_run_ctx", return_value=ctx):
            page = StreamlitPage(script.name)  # as st.navigation gets it: relative to the main script
        missing = [n for n in ("_script_hash", "_default", "_url_path", "_page", "url_path") if not hasattr(page, n)]
        if missing:
            raise Mismatch(f"StreamlitPage lacks {missing}")
        if page._page != script.resolve() or page.url_path != "some_page":
            raise Mismatch(f"StreamlitPage(path): _page={page._page!r}, url_path={page.url_path!r}")
    return f"StreamlitPage ({StreamlitPage.__name__}) attrs; PagesManager.intended_page_*"


def check_static_dir() -> str:
    from streamlit import file_util

    static = Path(file_util.get_static_dir())
    if not (static / "index.html").is_file():
        raise Mismatch(f"{static}/index.html missing")
    return "file_util.get_static_dir() has index.html"


def check_asgi_discovery() -> str:
    from streamlit.web.server.app_discovery import discover_asgi_app

    with tempfile.TemporaryDirectory() as tmp:
        plain = Path(tmp) / "plain.py"
        plain.write_text("import streamlit as st\nst.write('x')\n")
        app = Path(tmp) / "asgi.py"
        app.write_text("from starlette.applications import Starlette\napp = Starlette()\n")
        a, b = discover_asgi_app(plain), discover_asgi_app(app)
        if a.is_asgi_app or not b.is_asgi_app or b.app_name != "app":
            raise Mismatch(f"discover_asgi_app: plain={a!r}, starlette={b!r}")
    return "discover_asgi_app(Path) -> .is_asgi_app/.app_name"


def check_uvicorn_globals() -> str:
    from streamlit.web.server.starlette import starlette_server

    start = starlette_server.UvicornServer.start
    if start.__globals__ is not vars(starlette_server):
        raise Mismatch("UvicornServer.start does not look names up in starlette_server's globals")
    kwargs = starlette_server._get_uvicorn_config_kwargs()
    if not isinstance(kwargs, dict):
        raise Mismatch(f"_get_uvicorn_config_kwargs() returned {type(kwargs).__name__}")
    if "proxy_headers" in kwargs:
        raise Mismatch(f"Streamlit now passes proxy_headers={kwargs['proxy_headers']!r} itself")
    return f"start() globals are the module's; _get_uvicorn_config_kwargs() keys {sorted(kwargs)}"


def check_uvicorn_proxy_headers() -> str:
    import uvicorn
    from uvicorn.config import Config

    default = inspect.signature(Config).parameters["proxy_headers"].default
    load = "".join(inspect.getsource(Config.load).split())
    if "ProxyHeadersMiddleware" not in load or "self.proxy_headers" not in load:
        raise Mismatch("uvicorn Config.load no longer wraps ProxyHeadersMiddleware on self.proxy_headers")
    if Config(app=lambda *a: None, proxy_headers=False).proxy_headers is not False:
        raise Mismatch("uvicorn Config(proxy_headers=False) not honoured")
    return f"uvicorn {uvicorn.__version__}: Config(proxy_headers=) default {default!r}, ProxyHeadersMiddleware in load()"


def _starlette_paths() -> list[str]:
    from unittest.mock import MagicMock

    from streamlit.web.server.starlette.starlette_app import create_starlette_app

    app = create_starlette_app(MagicMock())  # routes only: the lifespan (runtime.start) never runs
    return [getattr(r, "path", "") or "/" for r in app.routes]


def check_native_auth_routes() -> str:
    paths = _starlette_paths()
    native = [p for p in ("/auth/login", "/auth/logout", "/oauth2callback") if p not in paths]
    if native:
        raise Mismatch(f"native routes moved: {native} not in {paths}")
    return "native GET /auth/login, /auth/logout, /oauth2callback (shadowed by AuthFront)"


def check_reserved_prefixes() -> str:
    paths = _starlette_paths()
    reserved = internals.STREAMLIT_RESERVED_PREFIXES
    outside = [p for p in paths if p not in ("/", "") and not any(
        p == r or p.startswith(r + "/") or p.startswith(r + "{") for r in reserved)]
    if outside:
        raise Mismatch(f"Streamlit routes outside STREAMLIT_RESERVED_PREFIXES: {outside}")
    return f"{len(paths)} Streamlit routes all under STREAMLIT_RESERVED_PREFIXES"


def check_stream_route() -> str:
    from unittest.mock import MagicMock

    from streamlit.web.server.starlette.starlette_websocket import create_websocket_routes

    paths = [r.path for r in create_websocket_routes(MagicMock(), None)]
    if internals.STREAM_PATH not in paths:
        raise Mismatch(f"websocket route {paths}, internals.STREAM_PATH={internals.STREAM_PATH!r}")
    return f"websocket route {internals.STREAM_PATH}"


def check_client_context() -> str:
    from streamlit.web.server.starlette.starlette_websocket import StarletteClientContext, StarletteSessionClient

    if not isinstance(inspect.getattr_static(StarletteSessionClient, "client_context", None), property):
        raise Mismatch("StarletteSessionClient.client_context is not a property")
    missing = [n for n in ("cookies", "headers", "remote_ip") if not hasattr(StarletteClientContext, n)]
    if missing:
        raise Mismatch(f"StarletteClientContext lacks {missing}")
    return "client.client_context.{cookies,headers,remote_ip} (internals.client_cookie)"


# --- the registry ------------------------------------------------------------------------

W = "streamlit.web"
SS = "streamlit.web.server.starlette.starlette_server"
SW = "streamlit.web.server.starlette.starlette_websocket"
RT = "streamlit.runtime.runtime"

#: (key, generation, check, since, until, used_by)
TOUCH_POINTS: tuple[tuple[str, str, Callable[[], str], str | None, str | None, str], ...] = (
    # server construction and the bootstrap patch
    ("server.Server", "both", params(f"{W}.server.server", "Server.__init__", ("main_script_path", "is_hello")),
     None, None, "internals.server_base_class, AuthServer(...) both generations"),
    ("server.Server._runtime", "both", source(f"{W}.server.server", "Server.__init__", "self._runtime ="),
     None, None, "starlette/server.py AuthServer.__init__ reads self._runtime after super()"),
    ("bootstrap.Server", "both", check_bootstrap_server, None, None, "patches/bootstrap_server.py"),
    ("bootstrap.run->Server()", "both", source(f"{W}.bootstrap", "run", "Server(main_script_path, is_hello)"),
     None, None, "patches/bootstrap_server.py"),
    ("bootstrap.load_config_options", "both", params(f"{W}.bootstrap", "load_config_options", ("flag_options",)),
     None, None, "internals.load_streamlit_config"),
    ("config._main_script_path", "both", attr("streamlit.config", "_main_script_path"), None, None,
     "internals.load_streamlit_config"),
    ("cli._main_run sets config", "both",
     source(f"{W}.cli", "_main_run", "config._main_script_path", "load_config_options"), None, None,
     "internals.load_streamlit_config mimics it"),
    ("config.get_option", "both", params("streamlit.config", "get_option", ("key",)), None, None,
     "internals.get_config_option/option_exists"),
    ("config.get_where_defined", "both", params("streamlit.config", "get_where_defined", ("key",)), None, None,
     "internals.config_option_source"),
    ("cli.main_run", "both", attr(f"{W}.cli", "main_run.params"), None, None, "internals.streamlit_run_command"),
    ("cli.configurator_options", "both", attr(f"{W}.cli", "configurator_options"), None, None,
     "internals.streamlit_configurator_options"),
    ("file_util.get_static_dir", "both", check_static_dir, None, None, "internals.static_dir"),
    ("app_discovery.discover_asgi_app", "both", check_asgi_discovery, None, None, "internals.asgi_app_in_script"),
    # config options read (startup_checks, app_paths, web.pages) and those the notes require handling
    ("option server.baseUrlPath", "both", option("server.baseUrlPath"), None, None, "app_paths.base_prefix"),
    ("option server.address", "both", option("server.address"), None, None, "startup_checks"),
    ("option theme.base", "both", option("theme.base"), None, None, "server_setup theme"),
    ("option theme.primaryColor", "both", option("theme.primaryColor"), None, None, "server_setup theme"),
    ("option server.useStarlette", "both", option("server.useStarlette"), None, "1.57",
     "startup_checks (guarded by option_exists)"),
    ("option server.xsrfCookieSameSite", "starlette", option("server.xsrfCookieSameSite"), "1.59", None,
     "notes 4.4 (not read by our code yet)"),
    ("option server.allowedHosts", "starlette", option("server.allowedHosts"), "1.61", None,
     "notes 4.2 (not read by our code yet)"),
    ("option server.enableAgentApi", "starlette", option("server.enableAgentApi"), "1.67", None,
     "notes 4.3 (agent sessions pass through anonymous)"),
    # runtime and sessions
    ("runtime.exists/get_instance", "both", attr("streamlit.runtime", "get_instance"), None, None,
     "internals.runtime_exists/runtime_instance"),
    ("Runtime no __slots__", "both", check_no_slots_runtime, None, None, "install_session_bridge"),
    ("Runtime.connect_session", "both",
     params(RT, "Runtime.connect_session", ("client", "user_info", "existing_session_id")), None, None,
     "install_session_bridge / _IdentityRuntime: connect(client=, user_info=, existing_session_id=)"),
    ("Runtime.disconnect_session(client=)", "both",
     params(RT, "Runtime.disconnect_session", ("session_id",), ("client",)), "1.61", None,
     "install_session_bridge passes **kwargs (notes 2.2 caveat 2)"),
    ("Runtime.handle_backmsg(client=)", "both",
     params(RT, "Runtime.handle_backmsg", ("session_id", "msg"), ("client",)), "1.61", None,
     "install_session_bridge passes **kwargs"),
    ("Runtime.disconnect_session", "both", params(RT, "Runtime.disconnect_session", ("session_id",)), None, None,
     "install_session_bridge"),
    ("Runtime.handle_backmsg", "both", params(RT, "Runtime.handle_backmsg", ("session_id", "msg")), None, None,
     "install_session_bridge"),
    ("Runtime.is_active_session", "both", params(RT, "Runtime.is_active_session", ("session_id",)), None, None,
     "internals.is_active_session, disconnect bridge"),
    ("Runtime._session_mgr", "both", source(RT, "Runtime.__init__", "self._session_mgr ="), None, None,
     "internals.session_user_info/request_rerun"),
    ("SessionManager.get_session_info", "both",
     params("streamlit.runtime.session_manager", "SessionManager.get_session_info", ("session_id",)), None, None,
     "internals.session_user_info"),
    ("SessionManager.get_active_session_info", "both",
     params("streamlit.runtime.session_manager", "SessionManager.get_active_session_info", ("session_id",)),
     None, None, "internals.request_rerun"),
    ("AppSession fields", "both", check_app_session_fields, None, None, "internals.session_user_info/request_rerun"),
    ("AppSession.matches_user_info", "both", attr("streamlit.runtime.app_session", "AppSession.matches_user_info"),
     "1.61", None, "resume only for the same identity (bridge refills user_info first)"),
    ("AppSession.is_resumable", "both", attr("streamlit.runtime.app_session", "AppSession.is_resumable"),
     "1.67", None, "native st.logout ends resumption (notes 2.4)"),
    ("Runtime.mark_session_nonresumable", "both", attr(RT, "Runtime.mark_session_nonresumable"), "1.67", None,
     "notes 3.4 end_resumption on 1.67"),
    # script side
    ("script_run_ctx", "both", check_script_run_ctx, None, None, "internals.script_run_ctx/script_run_marker"),
    ("ForwardMsg.auth_redirect", "both", check_auth_redirect, None, None, "internals.enqueue_browser_redirect"),
    ("st names", "both", check_st_names, None, None, "patches/st_login.py, patches/app_logo.py, script_api, startup_checks"),
    ("navigation._navigation", "both",
     params("streamlit.commands.navigation", "_navigation", ("pages",), ("position", "expanded")), None, None,
     "patches/page_access.py guarded_navigation(pages, *, position, expanded)"),
    ("script_runner._mpa_v1->_navigation", "both",
     source("streamlit.runtime.scriptrunner.script_runner", "_mpa_v1", "_navigation("), None, None,
     "patches/page_access.py (pages/ folder)"),
    ("StreamlitPage/PagesManager", "both", check_page, None, None, "internals.as_page/requested_page, page_access"),
    ("PagesManager.uses_pages_directory", "both",
     source("streamlit.runtime.pages_manager", "PagesManager", "uses_pages_directory: bool | None = None",
            "if PagesManager.uses_pages_directory is None:"), None, None,
     "internals.route_single_file_app_through_navigation (set before any session)"),
    ("ScriptRunner runs _mpa_v1 when uses_pages_directory", "both",
     source("streamlit.runtime.scriptrunner.script_runner", "ScriptRunner._run_script",
            "if PagesManager.uses_pages_directory:", "_mpa_v1(self._main_script_path)"), None, None,
     "internals.route_single_file_app_through_navigation"),
    # Tornado generation (1.56)
    ("Server._create_app", "tornado", attr(f"{W}.server.server", "Server._create_app"), None, None,
     "tornado/server.py AuthServer._create_app"),
    ("tornado xsrf_cookie_name", "tornado", source(f"{W}.server.server", "", '"xsrf_cookie_name": "_streamlit_xsrf"'),
     None, None, "internals.XSRF_COOKIE_NAME"),
    ("BrowserWebSocketHandler", "tornado",
     params(f"{W}.server.browser_websocket_handler", "BrowserWebSocketHandler.initialize", ("runtime",)),
     None, None, "tornado/auth_handlers.websocket_handler"),
    ("BrowserWebSocketHandler.open->connect_session", "tornado",
     source(f"{W}.server.browser_websocket_handler", "BrowserWebSocketHandler",
            "self._runtime.connect_session(", "self._session_id", "def on_message", "def on_close",
            "def _validate_xsrf_token"), None, None, "tornado/auth_handlers (_IdentityRuntime, LIVE hooks)"),
    ("server_util.is_xsrf_enabled", "tornado", attr(f"{W}.server.server_util", "is_xsrf_enabled"), None, None,
     "internals.websocket_xsrf_token_ok"),
    ("tornado stream path", "tornado", source(f"{W}.server.server", "", '"_stcore/stream"'), None, None,
     "internals.STREAM_PATH"),
    # Starlette generation (1.57+)
    ("Server.start->UvicornServer", "starlette", source(f"{W}.server.server", "Server.start",
                                                         "UvicornServer(self._runtime)"), None, None,
     "starlette/server.py: AuthServer keeps Server.start"),
    ("starlette_server.create_starlette_app", "starlette",
     same(SS, "create_starlette_app", "streamlit.web.server.starlette.starlette_app", "create_starlette_app"),
     None, None, "patches/starlette_app.py"),
    ("create_starlette_app(runtime)", "starlette",
     params("streamlit.web.server.starlette.starlette_app", "create_starlette_app", ("runtime",)), None, None,
     "patches/starlette_app.py"),
    ("UvicornServer.start", "starlette",
     source(SS, "UvicornServer.start", "create_starlette_app(self._runtime)", "_get_uvicorn_config_kwargs()",
            "uvicorn.Config("), None, None, "patches/starlette_app.py, patches/uvicorn_proxy_headers.py"),
    ("UvicornServer globals/_get_uvicorn_config_kwargs", "starlette", check_uvicorn_globals, None, None,
     "patches/uvicorn_proxy_headers.py"),
    ("uvicorn proxy_headers", "starlette", check_uvicorn_proxy_headers, None, None,
     "patches/uvicorn_proxy_headers.py"),
    ("starlette_server._bind_socket", "starlette", params(SS, "_bind_socket", ("address", "port", "backlog")),
     None, None, "patches/tcp_nodelay.py"),
    ("websocket->runtime.connect_session", "starlette",
     source(SW, "create_websocket_handler", "runtime.connect_session(", "client=client", "user_info=user_info",
            "existing_session_id=existing_session_id"), None, None,
     "starlette/server.py bridge (instance lookup, CONNECTING contextvar in the endpoint task)"),
    ("websocket->disconnect_session(client=)", "starlette",
     source(SW, "create_websocket_handler", "runtime.disconnect_session(session_id, client=client)"), "1.61", None,
     "starlette/server.py disconnect bridge (**kwargs)"),
    ("websocket route", "starlette", check_stream_route, None, None, "internals.STREAM_PATH, AuthFront"),
    ("client.client_context", "starlette", check_client_context, None, None, "internals.client_cookie"),
    ("XSRF_COOKIE_NAME", "starlette",
     value("streamlit.web.server.starlette.starlette_server_config", "XSRF_COOKIE_NAME", internals.XSRF_COOKIE_NAME),
     None, None, "internals.XSRF_COOKIE_NAME (front.websocket_identity, browser_binding)"),
    ("native /auth/* routes", "starlette", check_native_auth_routes, None, None, "AuthFront shadows them"),
    ("routes under reserved prefixes", "starlette", check_reserved_prefixes, None, None,
     "internals.STREAMLIT_RESERVED_PREFIXES"),
)


# --- runner ------------------------------------------------------------------------------


def _v(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split(".")[:3] if p.isdigit())


def run(points: Any = None) -> int:
    points = points or getattr(internals, "TOUCH_POINTS", None) or TOUCH_POINTS
    version = streamlit.__version__
    vt = _v(version)
    generation = "starlette" if vt[:2] >= FIRST_STARLETTE else "tornado"
    print(f"# Streamlit {version} ({generation} generation), Python {sys.version.split()[0]}, {sys.executable}")
    failures = 0
    for key, gen, check, since, until, used_by in points:
        if gen not in ("both", generation):
            continue
        expected = (since is None or vt >= _v(since)) and (until is None or vt < _v(until))
        span = f"{'since ' + since if since else ''}{' ' if since and until else ''}{'until ' + until if until else ''}"
        try:
            detail = check()
            status = "OK" if expected else "CHANGED"
            if not expected:
                detail = f"present, but documented {span}: {detail}"
        except Mismatch as exc:
            status, detail = ("CHANGED", str(exc)) if expected else ("OK", f"absent/other as expected ({span}): {exc}")
        except (ImportError, AttributeError, KeyError, TypeError, ValueError) as exc:
            status = "MISSING" if expected else "OK"
            detail = f"{type(exc).__name__}: {exc}" if expected else f"absent as expected ({span})"
        except Exception as exc:  # a check that blew up is a change we did not foresee
            status, detail = "CHANGED", f"{type(exc).__name__}: {exc}"
        failures += status != "OK"
        print(f"{status:8} {key:48} {detail}  [{used_by}]")
    print(f"# {failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(run())
