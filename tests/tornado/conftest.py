"""Fixtures for endpoint tests: a Tornado app holding our handlers, served by pytest-tornado.

Each test module defines ``routes`` (a fresh ``RouteRegistry``) and may override
``base_path``; the ``app`` fixture builds the application from them the way ``AuthServer``
does, with Streamlit's XSRF settings.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import tornado.web
from streamlit import config as streamlit_config

from stauth_server.web.routes import RouteRegistry
from stauth_server.tornado.server import build_handlers

XSRF_COOKIE = "_streamlit_xsrf"


class XsrfTokenHandler(tornado.web.RequestHandler):
    """``GET /test/xsrf``: answers with an XSRF token and sets its cookie, like Streamlit's pages."""

    def get(self) -> None:
        self.write(self.xsrf_token)


def make_app(registry: RouteRegistry) -> tornado.web.Application:
    return tornado.web.Application(
        [*build_handlers(registry), (r"/test/xsrf", XsrfTokenHandler)],
        xsrf_cookies=True,
        xsrf_cookie_name=XSRF_COOKIE,
        cookie_secret="x",
    )


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
def app(routes: RouteRegistry, base_path: str, streamlit_option) -> tornado.web.Application:
    streamlit_option("server.baseUrlPath", base_path)
    return make_app(routes)


@pytest.fixture
def fetch(http_client, base_url):
    """``fetch(path, ...)`` against the test server; never raises on 4xx/5xx, never follows."""

    def do(path: str, **kwargs: Any):
        kwargs.setdefault("raise_error", False)
        kwargs.setdefault("follow_redirects", False)
        return http_client.fetch(base_url + path, **kwargs)

    return do


@pytest.fixture
def sign_in(monkeypatch):
    """Make requests look signed in as ``user`` (stands in for a sign-in source)."""
    from stauth_server.tornado.handlers import RouteHandler

    def install(user) -> None:
        async def identity(handler):
            return user

        monkeypatch.setattr(RouteHandler, "current_identity", identity)

    return install
