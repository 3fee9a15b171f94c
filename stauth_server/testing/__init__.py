"""A test kit for apps built with streamlit-auth: pages and routes as a given user, no server.

::

    from stauth_server.testing import as_user, as_visitor, call_route

    at = as_user("alice@example.org", roles=["admin"], app="app.py").run("pages/admin.py")
    assert not at.exception
    assert as_visitor(app="app.py").run("pages/admin.py").sent_to_sign_in
    assert call_route("/api/me", user=as_user("bob@example.org")).json()["email"] == "bob@example.org"

With pytest, the ``as_user``, ``as_visitor`` and ``call_route`` fixtures (installed with the
package, ``stauth_server.testing.pytest_plugin``) are these, bound to the app the
``stauth_app`` fixture or ini option names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import KitApp, load_app
    from .routes import RouteResponse, call_route
    from .visits import Visit, as_user, as_visitor

# Imported on first use, so that the pytest plugin (a submodule) costs a test run nothing
# until a test asks for a fixture.
_HOMES = {"KitApp": "app", "load_app": "app", "RouteResponse": "routes", "call_route": "routes",
          "Visit": "visits", "as_user": "visits", "as_visitor": "visits"}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = globals()[name] = getattr(import_module(f"{__name__}.{home}"), name)
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOMES))


__all__ = ["KitApp", "RouteResponse", "Visit", "as_user", "as_visitor", "call_route", "load_app"]
