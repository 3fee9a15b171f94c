"""Fixtures for endpoint tests: one suite, run over both adapters.

Every test that asks for ``fetch`` (or ``base_url``) runs twice: ``[tornado]``, our
handlers in a Tornado application served by pytest-tornado, and ``[starlette]``, the ASGI
``AuthFront`` around a tiny stand-in for Streamlit's Starlette app, served by a real
uvicorn on 127.0.0.1 (in a background thread, configured as Streamlit 1.57+ runs it
with our patches: no ``proxy_headers``). Both are driven over real HTTP by Tornado's
``AsyncHTTPClient``, so ``fetch`` answers a Tornado ``HTTPResponse`` (``.code``,
``.headers``, ``.body``) either way, and raw paths (``%2F`` included) reach the server
verbatim.

Each test module defines ``routes`` (a fresh ``RouteRegistry``) and may override
``service`` (a ``SignInService``, None by default) and ``base_path``; ``app`` (Tornado)
and ``front`` (ASGI) are built from them the way each adapter's ``AuthServer`` does,
with Streamlit's XSRF settings. ``@pytest.mark.adapters("tornado")`` keeps a test on
one adapter (say why next to it).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
import tornado.httpclient
import tornado.web
from streamlit import config as streamlit_config

from stauth_server.core.config import ServerConfig
from stauth_server.web.routes import RouteRegistry
from stauth_server.tornado.server import build_handlers

XSRF_COOKIE = "_streamlit_xsrf"
ADAPTERS = ("tornado", "starlette")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "adapters(*names): run only on these adapters (tornado, starlette)")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test that (through its fixtures) talks HTTP to an adapter runs once per adapter."""
    if "adapter" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("adapters")
    names = list(marker.args) if marker else list(ADAPTERS)
    metafunc.parametrize("adapter", names, indirect=True)


@pytest.fixture
def adapter(request: pytest.FixtureRequest) -> str:
    """The adapter serving this test: "tornado" or "starlette"."""
    return request.param


# --- configuration both adapters read ---------------------------------------------------


@pytest.fixture
def streamlit_option() -> Iterator[Any]:
    """Set Streamlit config options for one test and put the old values back."""
    saved: dict[str, object] = {}

    def set_option(key: str, value: object) -> None:
        saved.setdefault(key, streamlit_config.get_option(key))
        streamlit_config.set_option(key, value)

    yield set_option
    for key, value in saved.items():
        streamlit_config.set_option(key, value)


@pytest.fixture
def base_path() -> str:
    """``server.baseUrlPath`` for the test; override it in a module to test under a base."""
    return ""


@pytest.fixture
def service() -> Any:
    """The ``SignInService`` (None: sign-in not configured); override it in a module."""
    return None


@pytest.fixture
def configured(base_path: str, streamlit_option) -> None:
    streamlit_option("server.baseUrlPath", base_path)


# --- Tornado --------------------------------------------------------------------------


class XsrfTokenHandler(tornado.web.RequestHandler):
    """``GET /test/xsrf``: answers with an XSRF token and sets its cookie, like Streamlit's pages."""

    def get(self) -> None:
        self.write(self.xsrf_token)


def make_app(registry: RouteRegistry, service: Any = None) -> tornado.web.Application:
    """Our handlers as the Tornado ``AuthServer._create_app`` adds them (sanitising
    ``find_handler`` with ``[auth.proxy]``), plus ``/test/xsrf``."""
    app = tornado.web.Application(
        [*build_handlers(registry, service), (r"/test/xsrf", XsrfTokenHandler)],
        xsrf_cookies=True,
        xsrf_cookie_name=XSRF_COOKIE,
        cookie_secret="x",
    )
    if service is not None and service.config.proxy is not None:
        from stauth_server.tornado.auth_handlers import sanitizing_find_handler

        app.find_handler = sanitizing_find_handler(app.find_handler, service.config.proxy)
    return app


@pytest.fixture
def app(routes: RouteRegistry, service, configured) -> tornado.web.Application:
    """The Tornado application pytest-tornado serves (``[tornado]``)."""
    return make_app(routes, service)


# --- Starlette (ASGI) -----------------------------------------------------------------


def _xor(mask: bytes, data: bytes) -> bytes:
    return bytes(b ^ mask[i % 4] for i, b in enumerate(data))


def tornado_xsrf(cookie: str | None) -> tuple[str, bool]:
    """A fresh v2 token for the secret in ``cookie`` (a new secret if it has none), and
    whether the cookie must be set: Tornado's ``RequestHandler.xsrf_token``, as Streamlit's
    Starlette server writes it too."""
    try:
        version, mask_hex, masked_hex, timestamp = (cookie or "").split("|")
        if version != "2":
            raise ValueError(version)
        secret, stamp, fresh = _xor(bytes.fromhex(mask_hex), bytes.fromhex(masked_hex)), int(timestamp), False
    except ValueError:
        secret, stamp, fresh = os.urandom(16), int(time.time()), True
    mask = os.urandom(4)
    return "|".join(["2", mask.hex(), _xor(mask, secret).hex(), str(stamp)]), fresh


def streamlit_stand_in() -> Any:
    """Streamlit's Starlette app as far as these tests see it: a page at ``/``, the
    ``/test/xsrf`` token page, 404 for anything else."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import HTMLResponse, PlainTextResponse
    from starlette.routing import Route

    async def xsrf_page(request: Request) -> PlainTextResponse:
        token, fresh = tornado_xsrf(request.cookies.get(XSRF_COOKIE))
        response = PlainTextResponse(token)
        if fresh:
            response.headers.append("Set-Cookie", f"{XSRF_COOKIE}={token}; Path=/")
        return response

    async def index(request: Request) -> HTMLResponse:
        return HTMLResponse("<!doctype html><html><body>stand-in for Streamlit's index page</body></html>")

    return Starlette(routes=[Route("/test/xsrf", xsrf_page), Route("/", index)])


def front_server(registry: RouteRegistry, service: Any) -> SimpleNamespace:
    """What ``AuthFront`` reads of the Starlette ``AuthServer``."""
    return SimpleNamespace(registry=registry, signin=service,
                           auth_config=service.config if service is not None else ServerConfig())


@pytest.fixture
def front(routes: RouteRegistry, service, configured) -> Any:
    """The ASGI application uvicorn serves (``[starlette]``)."""
    from stauth_server.starlette.front import AuthFront

    return AuthFront(streamlit_stand_in(), front_server(routes, service))


class Uvicorn:
    """One uvicorn server on 127.0.0.1 for the whole session, in a thread, serving
    whichever ASGI app the current test put in ``app``."""

    def __init__(self) -> None:
        import uvicorn

        self.app: Any = None
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        # As Streamlit 1.57+ configures it (starlette_server._get_uvicorn_config_kwargs),
        # with patches/uvicorn_proxy_headers.py; log_config=None: records reach pytest.
        config = uvicorn.Config(self.dispatch, interface="asgi3", lifespan="off", ws="none", access_log=False,
                                proxy_headers=False, log_config=None, use_colors=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]},
                                       name="uvicorn-endpoint-tests", daemon=True)

    async def dispatch(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        app = self.app
        if app is None:
            raise RuntimeError("no ASGI app under test")
        await app(scope, receive, send)

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


@pytest.fixture(scope="session")
def uvicorn_server() -> Iterator[Uvicorn]:
    server = Uvicorn()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def starlette_url(uvicorn_server: Uvicorn, front) -> Iterator[str]:
    uvicorn_server.app = front
    yield f"http://127.0.0.1:{uvicorn_server.port}"
    uvicorn_server.app = None


# --- the adapter-neutral client ---------------------------------------------------------


@pytest.fixture
def base_url(adapter: str, request: pytest.FixtureRequest) -> str:
    """``scheme://host:port`` of the adapter under test (its own origin)."""
    if adapter == "tornado":
        request.getfixturevalue("http_server")
        return f"http://localhost:{request.getfixturevalue('http_port')}"
    return request.getfixturevalue("starlette_url")


@pytest.fixture
def client(adapter: str, base_url: str, io_loop, request: pytest.FixtureRequest) -> Iterator[Any]:
    """Tornado's ``AsyncHTTPClient`` on this test's IOLoop, for either adapter."""
    if adapter == "tornado":
        yield request.getfixturevalue("http_client")
        return
    http = tornado.httpclient.AsyncHTTPClient(force_instance=True)
    yield http
    http.close()


@pytest.fixture
def fetch(client, base_url: str):
    """``fetch(path, ...)`` against the adapter under test; never raises on 4xx/5xx, never follows."""

    def do(path: str, **kwargs: Any):
        kwargs.setdefault("raise_error", False)
        kwargs.setdefault("follow_redirects", False)
        return client.fetch(base_url + path, **kwargs)

    return do


@pytest.fixture
def sign_in(monkeypatch):
    """Make ``@sa.route`` requests look signed in as ``user`` (stands in for a sign-in
    source): both adapters hand the route to ``dispatch_route`` with an ``identify``."""
    from stauth_server.starlette import front as starlette_front
    from stauth_server.tornado import handlers as tornado_handlers

    def install(user) -> None:
        async def identity(request):
            return user

        for module in (tornado_handlers, starlette_front):
            def dispatch(request, ctx, route, identify=None, identity_headers=(), *, sign_in=False,
                         _original=module.dispatch_route):
                return _original(request, ctx, route, identity, identity_headers, sign_in=sign_in)

            monkeypatch.setattr(module, "dispatch_route", dispatch)

    return install

