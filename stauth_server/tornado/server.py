"""AuthServer: Streamlit's Tornado server with our endpoints mounted in front of its own."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from ..streamlit import internals
from ..streamlit.app_paths import base_prefix
from ..streamlit.server_setup import AuthServerSetup, _static_top_level_names, web_context
from ..web.routes import RouteRegistry
from ..streamlit.script_api import COOKIE_DELIVERY_PATH, REDIRECT_HANDOFF_PATH
from .handlers import CookieDeliveryHandler, RedirectHandoffHandler, RouteHandler

if TYPE_CHECKING:  # sign-in (requests, PyJWT, oauthlib) is imported only when configured
    from ..core.signin import SignInService

LOGGER = logging.getLogger("stauth_server.server")
_TOKEN = r"(?P<token>[A-Za-z0-9_-]{1,128})"
_SAML_PROVIDER = r"(?P<provider>[A-Za-z0-9_-]{1,64})"
_PASSKEY_ACTION = r"(?P<action>register/options|register|sign-in/options|sign-in|remove)"


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
            (under_base(r"/auth/firebase/session/?$"), auth.FirebaseSessionHandler, kwargs),
            (under_base(r"/auth/account/?$"), auth.AccountHandler, kwargs),
            (under_base(rf"/auth/passkeys/{_PASSKEY_ACTION}/?$"), auth.PasskeysHandler, kwargs),
            (under_base(r"/auth/account/totp/?$"), auth.AccountTotpHandler, kwargs),
            (under_base(r"/auth/login/code/?$"), auth.SecondStepHandler, kwargs),
            (under_base(r"/auth/forgot/?$"), auth.ForgotHandler, kwargs),
            (under_base(r"/auth/reset/?$"), auth.ResetHandler, kwargs),
            (under_base(r"/auth/invite/?$"), auth.InviteHandler, kwargs),
            (under_base(rf"/auth/saml/{_SAML_PROVIDER}/metadata/?$"), auth.SamlMetadataHandler, kwargs),
            (under_base(rf"/auth/saml/{_SAML_PROVIDER}/acs/?$"), auth.SamlAcsHandler, kwargs),
            (under_base(rf"/auth/saml/{_SAML_PROVIDER}/slo/?$"), auth.SamlSloHandler, kwargs),
        ]
        if runtime is not None:
            handlers.append((under_base(re.escape(internals.STREAM_PATH) + "/?$"),
                             auth.websocket_handler(service), {"runtime": runtime}))
    context = web_context()
    for route in registry.routes:
        handlers.append((under_base(route.regex.pattern[1:]),
                         RouteHandler.for_route(route, identify, service.config.proxy if service else None, context)))
    for pattern, handler_class, kwargs in registry.raw_mounts:
        handlers.append((under_base(pattern.lstrip("^")), handler_class, kwargs))
    return handlers


class AuthServer(AuthServerSetup, internals.server_base_class()):  # type: ignore[misc]
    """Streamlit's server, plus cookie delivery, redirects, sign-in and the app's routes."""

    def _create_app(self) -> Any:
        app = super()._create_app()
        self.registry.check_reserved(internals.STREAMLIT_RESERVED_PREFIXES, _static_top_level_names())
        self.registry.check_server(starlette=False)
        app.add_handlers(r".*$", build_handlers(self.registry, self.signin, self._runtime))
        if self.auth_config.proxy is not None:
            from .auth_handlers import sanitizing_find_handler

            app.find_handler = sanitizing_find_handler(app.find_handler, self.auth_config.proxy)
        self.registry.seal()
        return app
