"""AuthServer: Streamlit's own app with our endpoints in front, checked and sealed at start-up.

Most of this module is Tornado-only: it inspects the Tornado ``AuthServer._create_app``
(handler classes, ``find_handler``, application settings). What is observable over HTTP
(a route next to the app's page) runs on both adapters.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from unittest.mock import MagicMock

import pytest
import tornado.httputil
from streamlit.web.server import server as streamlit_server

from stauth_server.web import routes as routes_module
from stauth_server.streamlit import server_setup
from stauth_server.core.config import ServerConfig
from stauth_server.core.errors import RouteError
from stauth_server.web.routes import RouteRegistry
from stauth_server.tornado.server import AuthServer
from stauth_server.tornado.handlers import CookieDeliveryHandler, RedirectHandoffHandler, RouteHandler


@pytest.fixture
def routes(monkeypatch) -> RouteRegistry:
    registry = RouteRegistry()
    registry.add("/api/items/{item_id}", lambda request: {"id": request.path_params["item_id"]})
    monkeypatch.setattr(AuthServer, "registry", registry)
    return registry


def bare_auth_server(tmp_path: Path) -> AuthServer:
    """An AuthServer whose Streamlit runtime is a stand-in (nothing is started)."""
    server = object.__new__(AuthServer)
    server._runtime = MagicMock()
    server._main_script_path = str(tmp_path / "app.py")
    server.signin = None
    server.auth_config = ServerConfig()
    return server


@pytest.fixture
def app(routes, streamlit_option, tmp_path):
    """The whole application ``AuthServer`` builds: Streamlit's handlers and ours."""
    streamlit_option("server.baseUrlPath", "")
    return bare_auth_server(tmp_path)._create_app()


def handler_for(app, path: str) -> str:
    request = tornado.httputil.HTTPServerRequest(
        start_line=tornado.httputil.RequestStartLine("GET", path, "HTTP/1.1"),
        headers=tornado.httputil.HTTPHeaders({"Host": "localhost:8501"}),
    )
    return app.find_handler(request).handler_class.__name__


# Tornado-only: asserts which Tornado handler class find_handler picks.
def test_our_handlers_win_over_streamlits_catch_all(app):
    assert handler_for(app, "/api/items/1") == RouteHandler.__name__
    assert handler_for(app, "/_stauth/cookies/abc") == CookieDeliveryHandler.__name__
    assert handler_for(app, "/_stauth/redirect/abc") == RedirectHandoffHandler.__name__


# Tornado-only: asserts Streamlit 1.56's Tornado handler classes.
def test_streamlits_own_paths_are_still_streamlits(app):
    assert handler_for(app, "/_stcore/stream") == "BrowserWebSocketHandler"
    assert handler_for(app, "/_stcore/health") == "HealthHandler"
    assert handler_for(app, "/media/abc.png") == "MediaFileHandler"
    assert handler_for(app, "/") == "StaticFileHandler"
    assert handler_for(app, "/api/unknown") == "StaticFileHandler"


# Tornado-only: the Tornado AuthServer seals in _create_app (the Starlette one in __init__).
def test_create_app_seals_the_registry(app, routes):
    with pytest.raises(RouteError, match="--routes"):
        routes.add("/api/late", lambda request: None)


# Tornado-only: tornado.web.Application settings.
def test_create_app_keeps_streamlits_xsrf_settings(app):
    assert app.settings["xsrf_cookie_name"] == "_streamlit_xsrf"


# Tornado-only: start-up checks run by the Tornado AuthServer._create_app.
def test_a_route_on_a_streamlit_path_stops_start_up(routes, streamlit_option, tmp_path):
    streamlit_option("server.baseUrlPath", "")
    routes.add("/media/{name}", lambda request: None)
    with pytest.raises(RouteError, match="collides with Streamlit's path /media"):
        bare_auth_server(tmp_path)._create_app()


# Tornado-only: start-up checks run by the Tornado AuthServer._create_app.
def test_a_route_on_a_static_file_name_stops_start_up(routes, streamlit_option, tmp_path):
    streamlit_option("server.baseUrlPath", "")
    routes.add("/manifest.json", lambda request: None)
    with pytest.raises(RouteError, match="static file path /manifest.json"):
        bare_auth_server(tmp_path)._create_app()


@pytest.mark.gen_test
def test_route_is_served_next_to_the_app_page(fetch):
    """[tornado]: the whole app AuthServer builds; [starlette]: AuthFront before a stand-in page."""
    route = yield fetch("/api/items/9")
    assert json.loads(route.body) == {"id": "9"}
    page = yield fetch("/")
    assert page.code == 200
    assert b"<html" in page.body.lower()


# Tornado-only: constructs the Tornado AuthServer over Streamlit 1.56's Server.
def test_init_loads_cli_routes_then_config_routes(monkeypatch, tmp_path):
    registry = RouteRegistry()
    monkeypatch.setattr(routes_module, "REGISTRY", registry)
    monkeypatch.setattr(sys, "modules", dict(sys.modules))
    cli_file = tmp_path / "cli_api.py"
    config_file = tmp_path / "config_api.py"
    cli_file.write_text('import stauth_server as sa\n@sa.route("/api/cli")\ndef a(request):\n    return 1\n')
    config_file.write_text('import stauth_server as sa\n@sa.route("/api/config")\ndef b(request):\n    return 2\n')
    seen = {}

    def load_server_config(app_dir, main_script=None):
        seen["app_dir"] = app_dir
        return ServerConfig(routes=(config_file,))

    def streamlit_init(self, main_script_path, is_hello):
        seen["super"] = (main_script_path, is_hello)

    monkeypatch.setattr(AuthServer, "cli_routes", (str(cli_file),))
    monkeypatch.setattr(server_setup, "load_server_config", load_server_config)  # shared by both adapters
    monkeypatch.setattr(streamlit_server.Server, "__init__", streamlit_init)
    AuthServer(str(tmp_path / "app.py"), False)
    assert [route.path for route in registry.routes] == ["/api/cli", "/api/config"]
    assert seen == {"app_dir": tmp_path.resolve(), "super": (str(tmp_path / "app.py"), False)}
