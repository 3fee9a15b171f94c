"""pytest fixtures for apps built with streamlit-auth (registered by the package's
``pytest11`` entry point, so installing streamlit-auth is enough).

Importing this module imports only pytest and the light ``stauth_server`` package: the kit
(and Streamlit) load when a test first uses a fixture, so test runs that never do pay nothing.

``stauth_app``: the app's main script; the ``stauth_app`` ini option (from the rootdir) by
default, or override the fixture in a ``conftest.py``. ``as_user``, ``as_visitor`` and
``call_route`` are ``stauth_server.testing``'s, bound to it::

    def test_admin_page(as_user):
        at = as_user("alice@example.org", roles=["admin"]).run("pages/admin.py")
        assert not at.exception
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest

INI_APP = "stauth_app"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(INI_APP, "main script of the Streamlit app that the as_user, as_visitor and call_route "
                           "fixtures run (relative to the rootdir)", default="")


@pytest.fixture
def stauth_app(request: pytest.FixtureRequest) -> Path | None:
    """The app's main script (None: each test names the script it runs)."""
    value = request.config.getini(INI_APP)
    return (request.config.rootpath / value) if value else None


@pytest.fixture
def as_user(stauth_app: Path | None) -> Any:
    """``as_user(email, name=None, roles=None, groups=(), claims=None)`` for the app."""
    from stauth_server.testing import as_user as make

    return functools.partial(make, app=stauth_app)


@pytest.fixture
def as_visitor(stauth_app: Path | None) -> Any:
    """``as_visitor()`` for the app: someone not signed in."""
    from stauth_server.testing import as_visitor as make

    return functools.partial(make, app=stauth_app)


@pytest.fixture
def call_route(stauth_app: Path | None) -> Any:
    """``call_route(target, method="GET", path=None, user=..., json=..., ...)`` for the app."""
    from stauth_server.testing import call_route as call

    return functools.partial(call, app=stauth_app)
