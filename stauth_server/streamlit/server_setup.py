"""What both server generations' ``AuthServer`` do around Streamlit's ``Server``: load our
config, the sign-in service and the routes before it starts; the identity bus and the
maintenance of open tabs after. The adapters (``tornado/``, ``starlette/``) only mount."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from ..core.config import ServerConfig, load_server_config
from ..web.context import WebContext
from ..web.pages import Theme
from ..web.routes import REGISTRY, RouteRegistry
from . import internals
from .app_paths import base_prefix
from .routes_loader import load_routes_modules

if TYPE_CHECKING:  # sign-in (requests, PyJWT, oauthlib) is imported only when configured
    from ..core.signin import SignInService

#: How often open signed-in tabs are checked for expiry, revocation and token refresh.
MAINTENANCE_SECONDS = 15.0


def app_theme() -> Theme:
    """The app's ``[theme]`` base and primary colour, for our pages."""
    return Theme(base=internals.get_config_option("theme.base"),
                 primary=internals.get_config_option("theme.primaryColor"))


def web_context(service: Any = None) -> WebContext:
    """What the endpoints need from Streamlit, read now (tests change the config).

    Without a sign-in service (custom routes, cookie delivery: the hot paths) the context
    is built once per base path and XSRF cookie rule and then reused.
    """
    base = base_prefix()
    samesite = internals.get_config_option("server.xsrfCookieSameSite") \
        if internals.option_exists("server.xsrfCookieSameSite") else None
    if service is None:
        key = (base, samesite)
        ctx = _PLAIN_CONTEXTS.get(key)
        if ctx is None:
            if len(_PLAIN_CONTEXTS) > 16:
                _PLAIN_CONTEXTS.clear()
            ctx = _PLAIN_CONTEXTS[key] = WebContext(base_path=base, xsrf_cookie_name=internals.XSRF_COOKIE_NAME,
                                                    xsrf_cookie_samesite=samesite)
        return ctx
    theme = app_theme()
    signin_key = (id(service), base, samesite, theme)
    ctx = _SIGNIN_CONTEXTS.get(signin_key)
    if ctx is None or ctx.service is not service:
        from ..streamlit.identity_bus import publish_identity

        if len(_SIGNIN_CONTEXTS) > 16:
            _SIGNIN_CONTEXTS.clear()
        ctx = _SIGNIN_CONTEXTS[signin_key] = WebContext(
            base_path=base, xsrf_cookie_name=internals.XSRF_COOKIE_NAME, xsrf_cookie_samesite=samesite,
            theme=theme, service=service,
            publish_identity=lambda browser, record, user: publish_identity(service, browser, record, user))
    return ctx


#: ``web_context()`` without a service, by (base path, XSRF SameSite): WebContext is frozen.
_PLAIN_CONTEXTS: dict[tuple[str, str | None], WebContext] = {}
#: ``web_context(service)`` by (service, base path, XSRF SameSite, theme): read the
#: options on every request (tests change them), build the context once.
_SIGNIN_CONTEXTS: dict[tuple[int, str, str | None, Theme], WebContext] = {}


class AuthServerSetup:
    """Mixed in before Streamlit's ``Server``: config, sign-in and routes first, then start."""

    registry: ClassVar[RouteRegistry] = REGISTRY
    #: Route files given on the command line (absolute), set by ``streamlit-auth run``.
    cli_routes: ClassVar[tuple[str, ...]] = ()
    _runtime: Any

    def __init__(self, main_script_path: str, is_hello: bool) -> None:
        self.auth_config: ServerConfig = load_server_config(Path(main_script_path).resolve().parent,
                                                              Path(main_script_path).resolve())
        _check_redirect_uri(self.auth_config)
        from ..core.login_branding import OBSERVED_LOGO

        OBSERVED_LOGO.reset()  # this app's st.logo calls, not a previous server's in this process
        from ..core import access

        access.install(access.PageRules(self.auth_config.access, self.auth_config.require_login))
        self.signin: SignInService | None = None
        if self.auth_config.sign_in_enabled:
            self.signin = _sign_in_service(self.auth_config)
            _warn_links_to_log(self.signin)
        loaded = load_routes_modules([*self.cli_routes, *self.auth_config.routes])
        _register_configured_hook(self.auth_config, loaded)
        from . import page_middleware

        if access.RULES.active or page_middleware.active():
            # Page rules and middlewares run where a page is picked: a single-file app picks too.
            internals.route_single_file_app_through_navigation(main_script_path)
        super().__init__(main_script_path, is_hello)  # type: ignore[call-arg]

    async def start(self) -> None:
        await super().start()  # type: ignore[misc]
        # What start-up loaded (Streamlit, us, the app's routes) stays for the process's
        # life: keep it out of the full collection Streamlit runs after every script run.
        gc.freeze()
        if self.signin is not None:
            from .identity_bus import listen
            from .maintenance import keep_sessions_current

            listen(self.signin, asyncio.get_running_loop())
            self._maintenance = asyncio.get_running_loop().create_task(
                keep_sessions_current(self.signin, _maintenance_interval())
            )


def _warn_links_to_log(service: SignInService) -> None:
    """Reset links written to the log (no ``[auth.smtp]``) on an address others can reach: say so."""
    from ..core.accounts.mail import STARTUP_WARNING, needs_startup_warning

    if service.links is not None and service.links.resets_available \
            and needs_startup_warning(service.config.smtp, internals.get_config_option("server.address")):
        logging.getLogger("stauth_server.mail").warning("%s", STARTUP_WARNING)


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
