"""Tornado adapters for sign-in: /auth/login, /oauth2callback, /auth/logout, /auth/userinfo,
and the app's websocket, which gets its identity from our session cookie."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from ..core.audit import RequestFacts, in_request
from ..core.identity import User, identity_key, streamlit_user_info
from ..core.signin import ResolvedSession, SignInService
from ..core.sources.proxy import FORWARDED_HEADERS, ProxyConfig, client_address, nearest_value, strip_headers
from ..core.store import StoreUnavailable
from ..streamlit import internals
from ..streamlit.app_paths import cookie_path
from ..streamlit.live_sessions import LIVE
from ..streamlit.resumption import connect_with_identity
from ..web.bearer import bearer_aware
from ..web.blocking import off_loop
from ..web.context import WebContext
from ..web.cookie_outbox import browser_binding
from ..web.csrf import own_origin
from ..web.endpoints import account as account_endpoints
from ..web.endpoints import second_factor as second_factor_endpoints
from ..web.endpoints import firebase as firebase_endpoints
from ..web.endpoints import passkeys as passkey_endpoints
from ..web.endpoints import links as link_endpoints
from ..web.endpoints import saml as saml_endpoints
from ..web.endpoints import Endpoint, signin
from ..web.endpoints.signin import safe_next, security_headers
from ..web.errors import STORE_DOWN
from ..web.exchange import HttpRequest
from .handlers import PEER_ATTRIBUTE, EndpointHandler, web_context

# Re-exported: the tests and the websocket use them from here.
__all__ = ["STORE_DOWN", "PEER_ATTRIBUTE", "safe_next", "security_headers", "streamlit_user_info",
           "sanitizing_find_handler", "websocket_handler", "route_identity", "from_own_pages", "identity_key"]

LOGGER = logging.getLogger("stauth_server.auth")


class AuthHandler(EndpointHandler):
    """Shared by the sign-in endpoints: the service, and our security headers even on
    errors Tornado answers itself (an unsupported method)."""

    def initialize(self, service: SignInService) -> None:
        self.service = service
        self.set_default_headers()  # Tornado calls it before initialize() too, without the config

    def set_default_headers(self) -> None:
        super().set_default_headers()
        self.clear_header("X-Frame-Options")  # set again below unless others may frame us
        service: SignInService | None = getattr(self, "service", None)
        for name, value in security_headers(service.config.frame_ancestors if service else ("'self'",)).items():
            self.set_header(name, value)

    def web_context(self) -> WebContext:
        return web_context(self.service)


def auth_handler(endpoint: Endpoint, *, methods: tuple[str, ...] = ("get", "post"),
                 base: type[AuthHandler] = AuthHandler) -> type[AuthHandler]:
    """A Tornado handler class serving one framework-neutral ``endpoint`` for ``methods``
    (Tornado answers any other method 405 itself, with our headers)."""
    attributes: dict[str, Any] = {"endpoint": staticmethod(endpoint),
                                  "__doc__": f"``{endpoint.__module__}.{endpoint.__name__}``"}
    attributes.update({method: EndpointHandler._serve for method in methods})
    name = "".join(part.title() for part in endpoint.__name__.split("_")) + "Handler"
    return type(name, (base,), attributes)


class _LinkHandler(AuthHandler):
    """A one-time link's page: its query holds a live token, so the access log's line
    (Streamlit logs ``tornado.access`` at INFO, with the query) leaves the query out."""

    def _request_summary(self) -> str:
        return f"{self.request.method} {self.request.path} ({self.request.remote_ip})"


LoginHandler = auth_handler(signin.login)
CallbackHandler = auth_handler(signin.callback, methods=("get",))
LogoutHandler = auth_handler(signin.logout)
UserinfoHandler = auth_handler(signin.userinfo, methods=("get",))
AccountHandler = auth_handler(account_endpoints.account)
AccountTotpHandler = auth_handler(second_factor_endpoints.account_totp)
SecondStepHandler = auth_handler(second_factor_endpoints.second_step)
ForgotHandler = auth_handler(link_endpoints.forgot)
ResetHandler = auth_handler(link_endpoints.reset, base=_LinkHandler)
InviteHandler = auth_handler(link_endpoints.invite, base=_LinkHandler)
PasskeysHandler = auth_handler(passkey_endpoints.passkeys)
FirebaseSessionHandler = auth_handler(firebase_endpoints.firebase_session)
SamlMetadataHandler = auth_handler(saml_endpoints.saml_metadata)
# The ACS is cross-site by nature: EndpointHandler skips Tornado's XSRF check, and the
# endpoint binds the post to this browser's sign-in through RelayState and the login cookie.
SamlAcsHandler = auth_handler(saml_endpoints.saml_acs)
SamlSloHandler = auth_handler(saml_endpoints.saml_slo)


def request_identity(service: SignInService, request: Any, *, touch: bool = True) -> ResolvedSession:
    """Who sent a Tornado request: a trusted proxy's headers, else our session cookie (blocks)."""
    cookies = {name: morsel.value for name, morsel in request.cookies.items()}
    return service.identify(cookies, request.headers, getattr(request, PEER_ATTRIBUTE, request.remote_ip),
                            secure=request.protocol == "https", path=cookie_path(), touch=touch)


async def identify_request(service: SignInService, request: Any) -> ResolvedSession:
    """``request_identity`` off the event loop (the store may be across the network); at once
    for a visitor (no session cookie, no trusted proxy)."""
    cookies = {name: morsel.value for name, morsel in request.cookies.items()}
    if not service.needs_lookup(cookies, getattr(request, PEER_ATTRIBUTE, request.remote_ip),
                                secure=request.protocol == "https", path=cookie_path()):
        return ResolvedSession()
    # What the lookup reports (an expired or revoked session) names this connection.
    facts = RequestFacts(client_ip=request.remote_ip, path=request.path, user_agent=request.headers.get("User-Agent"))
    return await off_loop(in_request, facts, request_identity, service, request)


def route_identity(service: SignInService) -> Callable[[HttpRequest], Awaitable[User]]:
    """Who calls an ``@sa.route`` endpoint: its Bearer token if it sends one, else its
    session cookie or a trusted proxy's headers (looked up off the event loop when needed)."""
    context = web_context()

    async def identify(request: HttpRequest) -> User:
        return (await signin.identify_off_loop(service, request, context)).user

    return bearer_aware(service, identify)


def sanitizing_find_handler(find_handler: Callable[..., Any], proxy: ProxyConfig) -> Callable[..., Any]:
    """Wrap ``Application.find_handler``: before any handler (Streamlit's included) sees a
    request, identity and X-Forwarded headers from untrusted peers are removed, and a
    trusted proxy's X-Forwarded-For/-Proto/-Host become the request's client and scheme."""

    def find(request: Any, **kwargs: Any) -> Any:
        peer = request.remote_ip
        setattr(request, PEER_ATTRIBUTE, peer)
        if proxy.trusts(peer):
            client = client_address(request.headers.get("X-Forwarded-For"), proxy)
            if client:
                request.remote_ip = client
            scheme = nearest_value(request.headers.get("X-Forwarded-Proto")).lower()
            if scheme in ("http", "https"):
                request.protocol = scheme
            host = nearest_value(request.headers.get("X-Forwarded-Host"))
            if host:
                request.host = host
        else:
            strip_headers(request.headers, (*proxy.identity_headers, *FORWARDED_HEADERS))
        return find_handler(request, **kwargs)

    return find


class _IdentityRuntime:
    """Stands in for Streamlit's Runtime inside the websocket handler: the session it
    connects gets its identity from our session cookie, never from ``_streamlit_user``
    or client-sent headers, and only when the connection proves it comes from the app's
    own pages (Streamlit's XSRF token, or an ``Origin`` equal to the app's origin)."""

    def __init__(self, runtime: Any, service: SignInService):
        self._runtime = runtime
        self._service = service

    def __getattr__(self, name: str) -> Any:
        return getattr(self._runtime, name)

    def connect_session(self, client: Any, user_info: dict[str, Any], existing_session_id: str | None = None,
                        **kwargs: Any) -> str:
        resolved: ResolvedSession = getattr(client, "stauth_identity", None) or ResolvedSession()
        return connect_with_identity(
            self._runtime.connect_session, client, user_info, existing_session_id,
            user=resolved.user, tokens=resolved.record.tokens if resolved.record else {},
            expose_tokens=self._service.config.expose_tokens,
            ticket=resolved.record.ticket if resolved.record else getattr(client, "stauth_pending", None),
            browser=None if getattr(client, "stauth_foreign", False)  # not from our pages: bound to no browser
            else browser_binding(client.get_cookie(internals.XSRF_COOKIE_NAME)), **kwargs)


def from_own_pages(handler: Any, redirect_uri: str | None = None) -> bool:
    """Whether a websocket handshake comes from the app's own pages (``web.csrf.own_origin``
    decides on ``Origin``; without one, Streamlit's XSRF token must be valid)."""
    request = handler.request
    verdict = own_origin(request.headers.get("Origin"), request.protocol, request.host, redirect_uri)
    return verdict if verdict is not None else internals.websocket_xsrf_token_ok(handler)


def websocket_handler(service: SignInService) -> type:
    """Streamlit's websocket handler, with identity from our session cookie."""
    base = internals.websocket_handler_class()

    class AuthWebSocketHandler(base):  # type: ignore[misc, valid-type]
        stauth_identity: ResolvedSession | None = None
        #: The ticket of a session not yet verified (the store was away at connect).
        stauth_pending: Any = None
        #: The connection did not prove it comes from the app's own pages.
        stauth_foreign = False

        def initialize(self, runtime: Any) -> None:
            super().initialize(runtime=_IdentityRuntime(runtime, service))

        async def prepare(self) -> None:
            """Look the session up off the event loop, before the handshake completes."""
            if not from_own_pages(self, service.config.redirect_uri):
                self.stauth_identity, self.stauth_foreign = ResolvedSession(), True
                return
            try:
                self.stauth_identity = await identify_request(service, self.request)
            except StoreUnavailable as exc:
                # The tab opens as a visitor (public pages keep working) and keeps its ticket:
                # the next maintenance pass that reaches the store gives it its identity.
                LOGGER.warning("session store unavailable; tab connects as a visitor for now: %s", exc)
                cookies = {name: morsel.value for name, morsel in self.request.cookies.items()}
                self.stauth_identity = ResolvedSession()
                self.stauth_pending = service.sessions.ticket_in(
                    cookies, secure=self.request.protocol == "https", path=cookie_path())

        def on_message(self, message: str | bytes) -> Any:
            if self._session_id:
                LIVE.touch(self._session_id)
            return super().on_message(message)

        def on_close(self) -> None:
            session_id = self._session_id
            super().on_close()
            if session_id:
                LIVE.disconnect(session_id)

    return AuthWebSocketHandler
