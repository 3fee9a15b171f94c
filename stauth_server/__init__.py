"""streamlit-auth: authentication and the missing web building blocks for Streamlit apps.

App side::

    import stauth_server as sa
    sa.cookies.set("theme", "dark", max_age=3600)
    sa.redirect("/billing")

Custom endpoints, in a module given to ``streamlit-auth run app.py --routes api.py``::

    @sa.route("/api/items/{item_id}")
    async def item(request: sa.Request):
        return {"id": request.path_params["item_id"]}
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version as _dist_version

from .core.errors import ConfigError, CookieError, Forbidden, HTTPError, RedirectError, RouteError
from .web.http import Request, Response
from .core.identity import User
from .web.routes import mount_asgi, mount_tornado, route
from .core.guards import requires
from .core.hooks import on_login
from .web.middleware import Redirect, middleware

# The script API needs Streamlit: imported on first use, so that importing the core
# (stauth_server.core.*) never imports Streamlit.
_SCRIPT_API = ("account_url", "avatar", "cookies", "login", "logout", "redirect", "require", "user")


def __getattr__(name: str):
    if name in _SCRIPT_API:
        from .streamlit import script_api

        value = globals()[name] = getattr(script_api, name)
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_SCRIPT_API))


try:
    __version__ = _dist_version("streamlit-auth")
except PackageNotFoundError:  # running from a checkout that is not installed
    __version__ = "0.0.0+unknown"

__all__ = [
    "ConfigError",
    "CookieError",
    "Forbidden",
    "HTTPError",
    "Redirect",
    "RedirectError",
    "Request",
    "Response",
    "RouteError",
    "User",
    "account_url",
    "avatar",
    "cookies",
    "login",
    "logout",
    "middleware",
    "mount_asgi",
    "mount_tornado",
    "on_login",
    "redirect",
    "require",
    "requires",
    "route",
    "user",
    "__version__",
]
