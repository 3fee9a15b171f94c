"""Every private Streamlit name we rely on still exists and still means what we assume.

These tests are meant to fail loudly on a Streamlit upgrade: each one pins one touch point.
"""

from __future__ import annotations

import inspect
import os
import re
import threading
from unittest.mock import MagicMock

import click
import pytest
import streamlit
from streamlit import config as streamlit_config
from streamlit.web.server import server as streamlit_server

from stauth_server.streamlit import internals
from stauth_server.web.cookie_rules import RESERVED_NAMES, RESERVED_PREFIXES
from stauth_server.web.routes import OUR_RESERVED_PREFIXES

#: Streamlit's own handlers that serve every other path (the app's pages and frontend files).
CATCH_ALL_HANDLERS = {"UnsafePathBlockHandler", "RemoveSlashHandler", "StaticFileHandler", "AddSlashHandler"}


@pytest.fixture
def streamlit_option():
    """Set Streamlit config options for one test and put the old values back."""
    saved: dict[str, object] = {}

    def set_option(key: str, value: object) -> None:
        saved.setdefault(key, streamlit_config.get_option(key))
        streamlit_config.set_option(key, value)

    yield set_option
    for key, value in saved.items():
        streamlit_config.set_option(key, value)


def under_a_prefix(path: str, prefixes) -> bool:
    return any(path == prefix or path.startswith(prefix.rstrip("/") + "/") for prefix in prefixes)


def literal_paths(regex: str) -> list[str]:
    """The fixed leading paths a Streamlit URL regex serves: ``^/(?:a|b/c)/?$`` -> [/a, /b/c]."""
    body = regex.removeprefix("^").removesuffix("$").removesuffix("/?")
    body = "/" + body.lstrip("/")
    alternation = re.match(r"^/\(\?:([^()]*)\)", body)
    if alternation:
        return ["/" + alt for alt in alternation.group(1).split("|")]
    return [re.split(r"[\\\[\](){}.*+?^$|]", body, maxsplit=1)[0].rstrip("/")]


def streamlit_app(main_script_path: str):
    """Streamlit's own Tornado app, built with a stand-in runtime."""
    server = object.__new__(internals.server_base_class())
    server._runtime = MagicMock()
    server._main_script_path = main_script_path
    return server._create_app()


# --- the version gate ----------------------------------------------------------------


def test_installed_streamlit_is_supported():
    assert streamlit.__version__ in internals.SUPPORTED_VERSIONS
    internals.check_streamlit_version()


@pytest.mark.parametrize("version", ["1.56.0", "1.57.0", "1.59.2", "1.61.1", "1.66.1", "1.67.0"])
def test_every_release_from_1_56_to_1_67_is_accepted(version):
    internals.check_streamlit_version(version)
    assert internals.server_generation(version) == ("tornado" if version == "1.56.0" else "starlette")


@pytest.mark.parametrize("version", ["1.55.0", "1.56.1", "1.67.1", "1.68.0", "2.0.0"])
def test_other_streamlit_versions_are_refused_with_the_fix(version):
    with pytest.raises(internals.UnsupportedStreamlitVersion) as raised:
        internals.check_streamlit_version(version)
    message = str(raised.value)
    assert version in message
    assert "pip install 'streamlit>=1.56.0,<1.68'" in message


# --- server side ---------------------------------------------------------------------


def test_server_base_class_is_streamlits_tornado_server():
    base = internals.server_base_class()
    assert base is streamlit_server.Server
    assert callable(getattr(base, "_create_app", None))
    assert "main_script_path" in base.__init__.__code__.co_varnames


def test_bootstrap_module_has_server_and_run():
    bootstrap = internals.bootstrap_module()
    assert bootstrap.__name__ == "streamlit.web.bootstrap"
    assert isinstance(bootstrap.Server, type) and issubclass(bootstrap.Server, streamlit_server.Server)
    assert callable(bootstrap.run)
    # run() must look the class up by its module-level name, or patching it does nothing.
    assert "Server(main_script_path, is_hello)" in inspect.getsource(bootstrap.run)


def test_streamlit_run_command_is_a_click_command_with_a_callback():
    command = internals.streamlit_run_command()
    assert isinstance(command, click.Command)
    assert command.name == "run"
    assert callable(command.callback)
    assert "target" in {param.name for param in command.params}


def test_configurator_options_adds_streamlit_config_flags():
    decorate = internals.streamlit_configurator_options()
    assert callable(decorate)

    @click.command()
    def command(**kwargs):
        return kwargs

    flags = {opt for param in decorate(command).params for opt in param.opts}
    assert "--server.port" in flags
    assert "--server.baseUrlPath" in flags


def test_get_config_option_reads_streamlit_config(streamlit_option):
    streamlit_option("server.baseUrlPath", "some/base")
    assert internals.get_config_option("server.baseUrlPath") == "some/base"


def test_static_dir_holds_the_frontend():
    folder = internals.static_dir()
    assert os.path.isdir(folder)
    assert os.path.isfile(os.path.join(folder, "index.html"))


def test_xsrf_cookie_name_matches_streamlits_tornado_settings():
    assert internals.XSRF_COOKIE_NAME == streamlit_server.get_tornado_settings()["xsrf_cookie_name"]
    assert internals.XSRF_COOKIE_NAME in internals.STREAMLIT_COOKIE_NAMES


def test_streamlits_cookie_names_are_refused_as_app_cookies():
    for name in internals.STREAMLIT_COOKIE_NAMES:
        assert name.lower() in RESERVED_NAMES or name.lower().startswith(RESERVED_PREFIXES)
    for prefix in internals.STREAMLIT_COOKIE_PREFIXES:
        assert prefix.lower().startswith(RESERVED_PREFIXES)


def test_reserved_prefixes_cover_every_streamlit_endpoint_constant():
    constants = {
        name: value
        for name, value in vars(streamlit_server).items()
        if name.endswith("_ENDPOINT") and isinstance(value, str)
    }
    assert {"MEDIA_ENDPOINT", "COMPONENT_ENDPOINT", "STATIC_SERVING_ENDPOINT", "STREAM_ENDPOINT"} <= set(constants)
    reserved = internals.STREAMLIT_RESERVED_PREFIXES + OUR_RESERVED_PREFIXES
    uncovered = {
        name: path
        for name, value in constants.items()
        for path in literal_paths(value)
        if not under_a_prefix(path, reserved)
    }
    assert uncovered == {}


def test_reserved_prefixes_cover_every_path_streamlits_app_serves(streamlit_option, tmp_path):
    streamlit_option("server.scriptHealthCheckEnabled", True)
    streamlit_option("server.enableStaticServing", True)
    app = streamlit_app(str(tmp_path / "app.py"))
    rules = [(rule.matcher.regex.pattern, rule.target.__name__) for rule in app.wildcard_router.rules]
    specific = [(pattern, name) for pattern, name in rules if name not in CATCH_ALL_HANDLERS]
    assert len(specific) >= 8, rules
    uncovered = [
        (pattern, path)
        for pattern, _ in specific
        for path in literal_paths(pattern)
        if not under_a_prefix(path, internals.STREAMLIT_RESERVED_PREFIXES)
    ]
    assert uncovered == []


def test_streamlits_app_uses_the_xsrf_cookie_name_we_bind_to(tmp_path):
    app = streamlit_app(str(tmp_path / "app.py"))
    assert app.settings["xsrf_cookie_name"] == internals.XSRF_COOKIE_NAME


def test_runtime_is_absent_outside_a_server():
    assert internals.runtime_exists() is False
    assert internals.is_active_session("any-session") is False


# --- script side ---------------------------------------------------------------------


def test_script_run_ctx_is_none_outside_a_script_run():
    assert internals.script_run_ctx() is None


def real_script_run_context(enqueue):
    from streamlit.runtime.scriptrunner_utils.script_run_context import ScriptRunContext

    pages = MagicMock()
    pages.main_script_hash = "main-hash"
    return ScriptRunContext(
        session_id="session-1",
        _enqueue=enqueue,
        query_string="",
        session_state=MagicMock(),
        uploaded_file_mgr=MagicMock(),
        main_script_path="app.py",
        user_info={},
        fragment_storage=MagicMock(),
        pages_manager=pages,
    )


def test_script_run_marker_is_ctx_cursors():
    class Ctx:
        cursors: dict = {}

    ctx = Ctx()
    assert internals.script_run_marker(ctx) is ctx.cursors


def test_script_run_marker_is_stable_within_a_run_and_new_after_reset():
    ctx = real_script_run_context(lambda msg: None)
    ctx.reset()
    first = internals.script_run_marker(ctx)
    assert internals.script_run_marker(ctx) is first
    ctx.reset()
    assert internals.script_run_marker(ctx) is not first


def test_enqueue_browser_redirect_sends_an_auth_redirect_message():
    sent = []

    class FakeCtx:
        def enqueue(self, msg):
            sent.append(msg)

    internals.enqueue_browser_redirect(FakeCtx(), "/app/billing?x=1")
    (msg,) = sent
    assert msg.WhichOneof("type") == "auth_redirect"
    assert msg.auth_redirect.url == "/app/billing?x=1"


def test_enqueue_browser_redirect_works_through_a_real_script_run_context():
    sent = []
    ctx = real_script_run_context(sent.append)
    ctx.reset()
    internals.enqueue_browser_redirect(ctx, "https://pay.example.com/x")
    (msg,) = sent
    assert msg.auth_redirect.url == "https://pay.example.com/x"


def test_stop_script_asks_the_script_runner_to_stop():
    from streamlit.runtime.scriptrunner import add_script_run_ctx

    ctx = real_script_run_context(lambda msg: None)
    ctx.reset()
    ctx.script_requests = MagicMock()

    def script_thread():
        add_script_run_ctx(threading.current_thread(), ctx)
        internals.stop_script()

    thread = threading.Thread(target=script_thread)
    thread.start()
    thread.join()
    ctx.script_requests.request_stop.assert_called_once_with()


# --- start-up checks -------------------------------------------------------------------


@pytest.fixture
def reloaded_config():
    """Let a test load Streamlit's config for a script; reload the previous one afterwards."""
    saved = streamlit_config._main_script_path
    yield
    internals.load_streamlit_config(saved, {})


def test_streamlit_run_loads_config_then_picks_asgi_or_server_in_that_order():
    from streamlit.web import cli as streamlit_cli

    source = inspect.getsource(streamlit_cli._main_run)
    steps = ["_config._main_script_path = main_script_path",
             "bootstrap.load_config_options(flag_options=flag_options",
             "discover_asgi_app(Path(main_script_path))",
             "bootstrap.run_asgi_app(",
             "bootstrap.run(main_script_path"]
    positions = [source.find(step) for step in steps]
    assert -1 not in positions, dict(zip(steps, positions))
    assert positions == sorted(positions)


def test_load_streamlit_config_reads_the_script_folder_then_flags(tmp_path, reloaded_config):
    (tmp_path / ".streamlit").mkdir()
    config_file = tmp_path / ".streamlit" / "config.toml"
    config_file.write_text('[server]\naddress = "localhost"\nuseStarlette = true\n')
    internals.load_streamlit_config(str(tmp_path / "app.py"), {"server_useStarlette": False, "server_port": None})
    assert internals.get_config_option("server.address") == "localhost"
    assert internals.config_option_source("server.address") == str(config_file)
    assert internals.get_config_option("server.useStarlette") is False
    assert internals.config_option_source("server.useStarlette") == "command-line argument or environment variable"


@pytest.mark.parametrize("source, found", [
    ("from streamlit.starlette import App\napp = App('page.py')\n", "app"),
    ("import streamlit\nsite = streamlit.starlette.App('page.py')\n", "site"),
    ("from fastapi import FastAPI\napi = FastAPI()\n", "api"),
    ("from starlette.applications import Starlette\nasgi = Starlette()\n", "asgi"),
    ("import streamlit as st\nst.write('plain')\n", None),
])
def test_asgi_app_in_script_finds_what_streamlit_run_serves_with_uvicorn(tmp_path, source, found):
    script = tmp_path / "app.py"
    script.write_text(source)
    assert internals.asgi_app_in_script(str(script)) == found


# --- session end (what drops a session's waiting cookie writes and redirects) ------------


def test_a_session_stops_being_active_when_its_websocket_closes():
    """``is_active_session`` turns False once the tab's websocket closes (checked on 1.56.0):
    ``sa.cookies``/``sa.redirect`` then drop what the session left waiting."""
    from streamlit.runtime.memory_session_storage import MemorySessionStorage
    from streamlit.runtime.runtime import Runtime
    from streamlit.runtime.session_manager import ActiveSessionInfo
    from streamlit.runtime.websocket_session_manager import WebsocketSessionManager

    assert "disconnect_session" in inspect.getsource(internals.websocket_handler_class().on_close)
    assert "self._session_mgr.is_active_session" in inspect.getsource(Runtime.is_active_session)
    manager = WebsocketSessionManager(MemorySessionStorage(), MagicMock(), MagicMock(), None)
    manager._active_session_info_by_id["s1"] = ActiveSessionInfo(client=MagicMock(), session=MagicMock(id="s1"))
    assert manager.is_active_session("s1") is True
    manager.disconnect_session("s1")
    assert manager.is_active_session("s1") is False
