"""AuthServer: Streamlit's Tornado server with our endpoints mounted in front of its own."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from ..streamlit import internals
from ..streamlit.app_paths import base_prefix
from ..core.config import ServerConfig, load_server_config
from ..web.routes import REGISTRY, RouteRegistry
from ..streamlit.routes_loader import load_routes_modules
from ..streamlit.script_api import COOKIE_DELIVERY_PATH, REDIRECT_HANDOFF_PATH
from .handlers import CookieDeliveryHandler, RedirectHandoffHandler, RouteHandler

if TYPE_CHECKING:  # sign-in (requests, PyJWT, oauthlib) is imported only when configured
    from ..core.signin import SignInService

LOGGER = logging.getLogger("stauth_server.server")
_TOKEN = r"(?P<token>[A-Za-z0-9_-]{1,128})"
#: How often open signed-in tabs are checked for expiry, revocation and token refresh.
MAINTENANCE_SECONDS = 15.0


def under_base(regex_without_caret: str) -> str:
    """A Tornado URL regex for a path (given as a regex starting with '/') under the base."""
    return "^" + re.escape(base_prefix()) + regex_without_caret


def build_handlers(registry: RouteRegistry, service: SignInService | None = None,
                   runtime: Any = None) -> list[tuple[Any, ...]]:
    """Every handler we add, in matching order: ours, sign-in, routes, raw mounts."""
    handlers: list[tuple[Any, ...]] = [
        (under_base(rf"{re.escape(COOKIE_DELIVERY_PATH)}/{_TOKEN}$"), CookieDeliveryHandler),
        (under_base(rf"{re.escape(REDIRECT_HANDOFF_PATH)}/{_TOKEN}$"), RedirectHandoffHandler),
    ]
    identify = None
    if service is not None:
        from . import auth_handlers as auth

        identify = auth.route_identity(service)
        kwargs = {"service": service}
        handlers += [
            (under_base(r"/auth/login/?$"), auth.LoginHandler, kwargs),
            (under_base(r"/oauth2callback/?$"), auth.CallbackHandler, kwargs),
            (under_base(r"/auth/logout/?$"), auth.LogoutHandler, kwargs),
            (under_base(r"/auth/userinfo/?$"), auth.UserinfoHandler, kwargs),
        ]
        if runtime is not None:
            handlers.append((under_base(re.escape(internals.STREAM_PATH) + "/?$"),
                             auth.websocket_handler(service), {"runtime": runtime}))
    for route in registry.routes:
        handlers.append((under_base(route.regex.pattern[1:]), RouteHandler,
                         {"route": route, "identify": identify, "proxy": service.config.proxy if service else None}))
    for pattern, handler_class, kwargs in registry.raw_mounts:
        handlers.append((under_base(pattern.lstrip("^")), handler_class, kwargs))
    return handlers


class AuthServer(internals.server_base_class()):  # type: ignore[misc]
    """Streamlit's server, plus cookie delivery, redirects, sign-in and the app's routes."""

    registry: ClassVar[RouteRegistry] = REGISTRY
    #: Route files given on the command line (absolute), set by ``streamlit-auth run``.
    cli_routes: ClassVar[tuple[str, ...]] = ()

    def __init__(self, main_script_path: str, is_hello: bool) -> None:
        self.auth_config: ServerConfig = load_server_config(Path(main_script_path).resolve().parent)
        _check_redirect_uri(self.auth_config)
        from ..core import access

        access.install(access.PageRules(self.auth_config.access, self.auth_config.require_login))
        self.signin: SignInService | None = None
        if self.auth_config.sign_in_enabled:
            self.signin = _sign_in_service(self.auth_config)
        loaded = load_routes_modules([*self.cli_routes, *self.auth_config.routes])
        _register_configured_hook(self.auth_config, loaded)
        super().__init__(main_script_path, is_hello)

    def _create_app(self) -> Any:
        app = super()._create_app()
        self.registry.check_reserved(internals.STREAMLIT_RESERVED_PREFIXES, _static_top_level_names())
        app.add_handlers(r".*$", build_handlers(self.registry, self.signin, self._runtime))
        if self.auth_config.proxy is not None:
            from .auth_handlers import sanitizing_find_handler

            app.find_handler = sanitizing_find_handler(app.find_handler, self.auth_config.proxy)
        self.registry.seal()
        return app

    async def start(self) -> None:
        await super().start()
        # What start-up loaded (Streamlit, us, the app's routes) stays for the process's
        # life: keep it out of the full collection Streamlit runs after every script run.
        gc.freeze()
        if self.signin is not None:
            from ..streamlit.identity_bus import listen
            from ..streamlit.maintenance import keep_sessions_current

            listen(self.signin, asyncio.get_running_loop())
            self._maintenance = asyncio.get_running_loop().create_task(
                keep_sessions_current(self.signin, _maintenance_interval())
            )


def _sign_in_service(config: ServerConfig) -> SignInService:
    """The sign-in service; a session store that cannot be opened stops start-up."""
    from ..core.store import StoreUnavailable
    from ..core.errors import ConfigError
    from ..core.signin import SignInService

    try:
        return SignInService(config)
    except StoreUnavailable as exc:
        raise ConfigError(f"[auth.store] url: {exc}") from None


def _check_redirect_uri(config: ServerConfig) -> None:
    """The provider sends users back to ``redirect_uri``: it must be this app's callback."""
    if config.redirect_uri is None:
        return
    from urllib.parse import urlsplit

    from ..core.errors import ConfigError

    expected = f"{base_prefix()}/oauth2callback"
    if urlsplit(config.redirect_uri).path.rstrip("/") != expected:
        raise ConfigError(
            f"[auth] redirect_uri: its path must be {expected} (server.baseUrlPath + /oauth2callback) "
            f"to reach this app, got {config.redirect_uri!r}"
        )


def _register_configured_hook(config: ServerConfig, loaded: list[str]) -> None:
    """``[auth] on_login = "hooks.py:enrich"``: import the file and register the function."""
    if config.on_login is None:
        return
    import sys

    from ..core.errors import ConfigError
    from ..core.hooks import on_login

    path, function = config.on_login
    names = [n for n in loaded if getattr(sys.modules.get(n), "__file__", None) == str(path.resolve())]
    module = sys.modules[names[0]] if names else sys.modules[load_routes_modules([path])[0]]
    hook = getattr(module, function, None)
    if not callable(hook):
        raise ConfigError(f"[auth] on_login: {path.name} has no function {function!r}")
    on_login(hook)


def _maintenance_interval() -> float:
    """``STREAMLIT_AUTH_MAINTENANCE_SECONDS`` (tests shorten it), else the default."""
    try:
        return max(1.0, float(os.environ.get("STREAMLIT_AUTH_MAINTENANCE_SECONDS", MAINTENANCE_SECONDS)))
    except ValueError:
        return MAINTENANCE_SECONDS


def _static_top_level_names() -> list[str]:
    try:
        return sorted(os.listdir(internals.static_dir()))
    except OSError:
        return []
