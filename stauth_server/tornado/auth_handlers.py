"""Tornado adapters for sign-in: /auth/login, /oauth2callback, /auth/logout, /auth/userinfo,
and the app's websocket, which gets its identity from our session cookie."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import urlsplit

from ..streamlit import internals
from ..web.cookie_outbox import browser_binding
from ..web.cookie_rules import CookieWrite
from ..core.errors import RedirectError
from ..web.http import error_response, render
from ..core.identity import ANONYMOUS, User, streamlit_user_info
from ..streamlit.live_sessions import LIVE
from ..core.oidc.errors import SignInError
from ..web.pages import Theme, error_page, login_page, logout_confirm_page
from ..streamlit.app_paths import app_path, cookie_path, strip_base
from ..web.redirects import safe_app_path
from ..web.blocking import off_loop, sign_in_work
from ..core.store import StoreUnavailable
from ..streamlit.identity_bus import publish_identity
from ..core.signin import CompletedLogin, CookieOut, ResolvedSession, SignInService, login_cookie_name
from ..core.sources.proxy import FORWARDED_HEADERS, ProxyConfig, client_address, nearest_value, strip_headers
from .handlers import BaseHandler

LOGGER = logging.getLogger("stauth_server.auth")
T = TypeVar("T")
STORE_DOWN = "Sign-in is unavailable right now (the session store cannot be reached). Try again shortly."


def security_headers(frame_ancestors: tuple[str, ...]) -> dict[str, str]:
    """Headers on every auth endpoint: no framing by other sites, no referrer, no caching."""
    headers = {
        "Content-Security-Policy": "frame-ancestors " + " ".join(frame_ancestors),
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
    }
    if frame_ancestors == ("'self'",) or frame_ancestors == ("'none'",):
        headers["X-Frame-Options"] = "DENY"
    return headers


def app_theme() -> Theme:
    """The app's ``[theme]`` base and primary colour, for our pages."""
    return Theme(base=internals.get_config_option("theme.base"),
                 primary=internals.get_config_option("theme.primaryColor"))


def safe_next(raw: str | None) -> str:
    """A same-app path to return to after sign-in (relative to the base path)."""
    if not raw:
        return "/"
    try:
        return safe_app_path(raw, "")  # its ASCII form: a Location header carries no raw UTF-8
    except RedirectError:
        return "/"


class AuthHandler(BaseHandler):
    """Shared by the sign-in endpoints: the service, cookies with our attributes, errors."""

    def initialize(self, service: SignInService) -> None:
        self.service = service
        self.set_default_headers()  # Tornado calls it before initialize() too, without the config

    def set_default_headers(self) -> None:
        super().set_default_headers()
        self.clear_header("X-Frame-Options")  # set again below unless others may frame us
        service: SignInService | None = getattr(self, "service", None)
        for name, value in security_headers(service.config.frame_ancestors if service else ("'self'",)).items():
            self.set_header(name, value)

    @property
    def secure(self) -> bool:
        return self.request.protocol == "https"

    def set_cookie_out(self, cookie: CookieOut) -> None:
        """Set (or clear) one of our cookies: HttpOnly, SameSite=Lax, Secure on https."""
        write = CookieWrite(name=cookie.name, value=cookie.value, path=cookie_path(), max_age=cookie.max_age,
                            secure=self.secure or cookie.name.startswith("__Host-"))
        self.add_header("Set-Cookie", write.header_value())

    def request_cookies(self) -> dict[str, str]:
        return {name: morsel.value for name, morsel in self.request.cookies.items()}

    def browser(self) -> str | None:
        return browser_binding(self.get_cookie(internals.XSRF_COOKIE_NAME))

    async def blocking(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Sign-in work (provider, LDAP, argon2): its own threads, never the store's."""
        return await sign_in_work(fn, *args, **kwargs)

    def finish_login(self, done: CompletedLogin) -> None:
        """Set the new session's cookies, tell the browser's other tabs, go to ``next``."""
        for cookie in done.cookies:
            self.set_cookie_out(cookie)
        publish_identity(self.service, self.browser(), done.record, done.user)
        self.redirect(app_path(done.next_path), status=303)

    def show_error(self, error: SignInError, retry: str | None = None) -> None:
        LOGGER.warning("sign-in failed: %s", error)
        self.show_message(error.status, error.user_message, retry)

    def show_store_down(self, error: StoreUnavailable, retry: str | None = None) -> None:
        """The store is away: a 503 page (or JSON for API clients); nothing is cleared."""
        LOGGER.warning("session store unavailable: %s", error)
        self.set_header("Retry-After", "5")
        if "text/html" not in self.request.headers.get("Accept", ""):
            self.send_rendered(error_response(503, "Session store unavailable; try again shortly"))
            return
        self.show_message(503, STORE_DOWN, retry)

    def show_message(self, status: int, message: str, retry: str | None = None) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(error_page(message, app_path("/"), retry))


class LoginHandler(AuthHandler):
    """``/auth/login``: every way in (provider buttons, the password form), or straight to
    the only provider; ``?provider=NAME&next=/path``; POST takes the password form."""

    async def get(self) -> None:
        next_path = safe_next(self.get_query_argument("next", None) or self._referring_path())
        provider = self.get_query_argument("provider", None)
        providers = self.service.providers
        if provider is None and len(providers) == 1 and not self.service.password_sources:
            provider = next(iter(providers))
        if provider is None:
            self.show_login_page(next_path)
            return
        if provider not in providers:
            self.show_error(SignInError(f"unknown provider {provider[:64]!r}", "This sign-in option does not exist."),
                            app_path("/auth/login"))
            return
        try:
            url, cookie = await self.blocking(self.service.begin_login, provider, next_path)
        except SignInError as exc:
            self.show_error(exc, self.request.uri)
            return
        self.set_cookie_out(cookie)
        self.redirect(url)

    async def post(self) -> None:
        if self.same_origin() is not True and not self.has_valid_xsrf_token():
            self.send_rendered(error_response(403, "Cross-site request refused"))
            return
        next_path = safe_next(self.get_body_argument("next", None))
        username = (self.get_body_argument("username", "") or "").strip()[:128]
        password = self.get_body_argument("password", "") or ""
        if not username or not password:
            self.show_login_page(next_path, "Enter your username and password.", username, status=400)
            return
        try:
            done = await self.blocking(self.service.password_login, username, password, self.request.remote_ip,
                                       next_path, self.request_cookies(), self.browser(),
                                       secure=self.secure, path=cookie_path(),
                                       source=self.get_body_argument("source", None))
        except SignInError as exc:
            LOGGER.info("password sign-in failed: %s", exc)
            self.show_login_page(next_path, exc.user_message, username, status=exc.status if exc.status != 400 else 401)
            return
        except StoreUnavailable as exc:
            self.show_store_down(exc, app_path("/auth/login"))
            return
        self.finish_login(done)

    def show_login_page(self, next_path: str, error: str | None = None, username: str = "", status: int = 200) -> None:
        providers = [(name, p.display_name) for name, p in self.service.providers.items()]
        self.set_status(status)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(login_page(app_path("/auth/login"), providers, next_path,
                               password_sources=self.service.password_sources, xsrf_form_html=self.xsrf_form_html(),
                               error=error, username=username, theme=app_theme(), template=self.login_template()))

    def login_template(self) -> str | None:
        return self.service.login_template

    def _referring_path(self) -> str | None:
        referer = self.request.headers.get("Referer")
        if not referer:
            return None
        parts = urlsplit(referer)
        if parts.netloc != self.request.host:
            return None
        return strip_base(parts.path) + (f"?{parts.query}" if parts.query else "")


class CallbackHandler(AuthHandler):
    """``GET /oauth2callback``: completes a sign-in (or returns from the provider's logout)."""

    async def get(self) -> None:
        params = {k: self.get_query_argument(k) for k in self.request.query_arguments}
        if not any(k in params for k in ("code", "error")):
            self.redirect(app_path("/"))  # back from RP-initiated logout
            return
        cookies = self.request_cookies()
        if params.get("state"):
            self.set_cookie_out(CookieOut(login_cookie_name(params["state"]), None))
        try:
            done = await self.blocking(self.service.complete_login, params, cookies, self.browser(),
                                       secure=self.secure, path=cookie_path())
        except SignInError as exc:
            self.show_error(exc, app_path("/auth/login"))
            return
        except StoreUnavailable as exc:
            self.show_store_down(exc, app_path("/auth/login"))
            return
        except Exception:
            LOGGER.exception("sign-in failed unexpectedly")
            self.show_error(SignInError("unexpected", "Sign-in failed unexpectedly. Try again."), app_path("/auth/login"))
            return
        self.finish_login(done)


class LogoutHandler(AuthHandler):
    """``/auth/logout``: revokes the session, clears cookies, RP-initiated logout.

    A GET counts only from the app itself (``Sec-Fetch-Site: same-origin`` or typed by
    the user); from elsewhere it shows a confirmation with a CSRF-protected POST.
    """

    async def get(self) -> None:
        site = (self.request.headers.get("Sec-Fetch-Site") or "").lower()
        if site in ("same-origin", "none"):
            await self._logout()
            return
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(logout_confirm_page(app_path("/auth/logout"), self.xsrf_form_html(), app_path("/")))

    async def post(self) -> None:
        if self.same_origin() is not True and not self.has_valid_xsrf_token():
            self.send_rendered(error_response(403, "Cross-site request refused"))
            return
        await self._logout()

    async def _logout(self) -> None:
        """Revoke the session, clear our cookies, tell the browser's tabs on every replica.

        With the store away the cookies are still cleared (without them the record's key
        is gone from this browser) and a 503 page says the server could not revoke it.
        """
        cookies = self.request_cookies()
        for name in cookies:
            if name.startswith(("stauth_session", "__Host-stauth_session")):
                self.set_cookie_out(CookieOut(name, None))
        try:
            resolved = await off_loop(self.service.resolve, cookies, secure=self.secure, path=cookie_path(),
                                      touch=False)
            await off_loop(self.service.end_session, resolved.record)
        except StoreUnavailable as exc:
            self.show_store_down(exc, app_path("/auth/logout"))
            return
        publish_identity(self.service, self.browser(), None, ANONYMOUS)
        target = await sign_in_work(self.service.logout_url, resolved.record, str(self.service.config.redirect_uri))
        self.redirect(target or app_path("/"))


class UserinfoHandler(AuthHandler):
    """``GET /auth/userinfo``: the current identity as JSON (never tokens); 401 when anonymous."""

    async def get(self) -> None:
        try:
            resolved = await identify_request(self.service, self.request)
        except StoreUnavailable as exc:
            self.show_store_down(exc)
            return
        for cookie in resolved.clear:
            self.set_cookie_out(cookie)
        if resolved.refused is not None:
            self.send_rendered(error_response(403, resolved.refused))
            return
        if not resolved.user.is_logged_in:
            self.send_rendered(error_response(401, "Not signed in"))
            return
        self.send_rendered(render(resolved.user.public_dict()))


#: Where the TCP peer's address is kept once X-Forwarded-For has replaced ``remote_ip``.
PEER_ATTRIBUTE = "stauth_peer"


def request_identity(service: SignInService, request: Any, *, touch: bool = True) -> ResolvedSession:
    """Who sent a Tornado request: a trusted proxy's headers, else our session cookie (blocks)."""
    cookies = {name: morsel.value for name, morsel in request.cookies.items()}
    return service.identify(cookies, request.headers, getattr(request, PEER_ATTRIBUTE, request.remote_ip),
                            secure=request.protocol == "https", path=cookie_path(), touch=touch)


async def identify_request(service: SignInService, request: Any) -> ResolvedSession:
    """``request_identity`` off the event loop (the store may be across the network)."""
    return await off_loop(request_identity, service, request)


def route_identity(service: SignInService) -> Callable[[Any], Awaitable[User]]:
    """Who calls an ``@sa.route`` endpoint (looked up off the event loop)."""

    async def identify(request: Any) -> User:
        return (await identify_request(service, request)).user

    return identify


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
        tokens = resolved.record.tokens if resolved.record else {}
        user_info.clear()
        user_info.update(streamlit_user_info(resolved.user, tokens, self._service.config.expose_tokens))
        if existing_session_id is not None:
            previous = internals.session_user_info(existing_session_id)
            if previous is not None and identity_key(previous) != identity_key(user_info):
                # Another identity may not resume this session (its session_state, its st.user):
                # it gets a new one.
                LOGGER.info("refused to resume a session under another identity")
                existing_session_id = None
        session_id = self._runtime.connect_session(client=client, user_info=user_info,
                                                   existing_session_id=existing_session_id, **kwargs)
        browser = browser_binding(client.get_cookie(internals.XSRF_COOKIE_NAME))
        ticket = resolved.record.ticket if resolved.record else getattr(client, "stauth_pending", None)
        LIVE.connect(session_id, browser, ticket, resolved.user)
        live_info = internals.session_user_info(session_id)
        if live_info is not None and live_info is not user_info:
            live_info.clear()
            live_info.update(user_info)
        return session_id


def identity_key(user_info: Mapping[str, Any]) -> tuple[Any, ...]:
    """Who a session's ``st.user`` dict is: signed in or not, by which provider, as whom."""
    return (bool(user_info.get("is_logged_in")), user_info.get("provider"), user_info.get("iss"),
            user_info.get("sub"))


def from_own_pages(handler: Any, redirect_uri: str | None = None) -> bool:
    """Whether a websocket handshake comes from the app's own pages.

    Browsers always send ``Origin`` on websockets: when present it alone decides, and must
    be the app's own origin (as served, or as ``redirect_uri`` names it). Streamlit's XSRF
    token is not enough there, since a page on another port of the same host can read the
    XSRF cookie; it counts only for clients that send no ``Origin``. Streamlit's origin
    allow-list (any localhost port) never gets an identity.
    """
    request = handler.request
    origin = (request.headers.get("Origin") or "").strip().rstrip("/").lower()
    if origin:
        own = {f"{request.protocol}://{request.host}".lower()}
        if redirect_uri:
            parts = urlsplit(redirect_uri)
            own.add(f"{parts.scheme}://{parts.netloc}".lower())
        return origin in own
    return internals.websocket_xsrf_token_ok(handler)


def websocket_handler(service: SignInService) -> type:
    """Streamlit's websocket handler, with identity from our session cookie."""
    base = internals.websocket_handler_class()

    class AuthWebSocketHandler(base):  # type: ignore[misc, valid-type]
        stauth_identity: ResolvedSession | None = None
        #: The ticket of a session not yet verified (the store was away at connect).
        stauth_pending: Any = None

        def initialize(self, runtime: Any) -> None:
            super().initialize(runtime=_IdentityRuntime(runtime, service))

        async def prepare(self) -> None:
            """Look the session up off the event loop, before the handshake completes."""
            if not from_own_pages(self, service.config.redirect_uri):
                self.stauth_identity = ResolvedSession()
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
