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

from .errors import ConfigError, CookieError, Forbidden, HTTPError, RedirectError, RouteError
from .http_types import Request, Response
from .identity import User
from .routes import mount_tornado, route
from .guards import requires
from .hooks import on_login
from .script_api import avatar, cookies, login, logout, redirect, require, user

try:
    __version__ = _dist_version("streamlit-auth")
except PackageNotFoundError:  # running from a checkout that is not installed
    __version__ = "0.0.0+unknown"

__all__ = [
    "ConfigError",
    "CookieError",
    "Forbidden",
    "HTTPError",
    "RedirectError",
    "Request",
    "Response",
    "RouteError",
    "User",
    "avatar",
    "cookies",
    "login",
    "logout",
    "mount_tornado",
    "on_login",
    "redirect",
    "require",
    "requires",
    "route",
    "user",
    "__version__",
]
