"""Tornado adapters: our endpoints as ``RequestHandler`` classes.

The logic lives in the framework-neutral modules (routes, csrf, cookie_outbox,
redirects); these classes only translate between Tornado and them, and share one error
path so every failure looks the same to a client: a status and ``{"error": "..."}``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

import tornado.web

from ..streamlit import internals
from ..streamlit.app_paths import app_path, strip_base
from ..web.cookie_outbox import OUTBOX, DeliveryRefused, browser_binding
from ..core.store import StoreUnavailable
from ..web.csrf import UNSAFE_METHODS, carries_ambient_credentials, same_origin_verdict
from ..web.http import RenderedResponse, Request, error_response
from ..core.identity import ANONYMOUS, User
from ..web.redirects import PENDING_REDIRECTS
from ..web.routes import KNOWN_METHODS, Route, access_error, call_handler
from ..core.sources.proxy import ProxyConfig

LOGGER = logging.getLogger("stauth_server.server")


class BaseHandler(tornado.web.RequestHandler):
    """Common ground of our handlers: one error shape, no tracebacks, our own CSRF check."""

    def check_xsrf_cookie(self) -> None:
        """Disable Tornado's blanket XSRF check: each handler applies ``is_same_origin``."""

    def set_default_headers(self) -> None:
        self.set_header("X-Content-Type-Options", "nosniff")

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        message = self._reason or "Error"
        exc_info = kwargs.get("exc_info")
        if exc_info and isinstance(exc_info[1], tornado.web.HTTPError) and exc_info[1].log_message:
            message = exc_info[1].log_message if status_code < 500 else message
        self.send_rendered(error_response(status_code, message))

    def send_rendered(self, response: RenderedResponse) -> None:
        self.set_status(response.status)
        if not any(name.lower() == "content-type" for name, _ in response.headers):
            self.clear_header("Content-Type")
        for name, value in response.headers:
            if name.lower() == "set-cookie":
                self.add_header(name, value)
            else:
                self.set_header(name, value)
        if not self._finished:
            self.finish(response.body if response.body and response.status not in (204, 304) else None)

    def same_origin(self) -> bool | None:
        return same_origin_verdict(
            self.request.headers.get("Origin"),
            self.request.headers.get("Sec-Fetch-Site"),
            self.request.protocol,
            self.request.host,
        )

    def has_valid_xsrf_token(self) -> bool:
        """Whether the request carries Tornado's XSRF token matching its cookie."""
        token = self.get_argument("_xsrf", None) if self.request.method == "POST" else None
        token = token or self.request.headers.get("X-Xsrftoken") or self.request.headers.get("X-Csrftoken")
        if not token:
            return False
        try:
            tornado.web.RequestHandler.check_xsrf_cookie(self)
        except tornado.web.HTTPError:
            return False
        return True



class RouteHandler(BaseHandler):
    """Serves one ``@sa.route`` endpoint."""

    SUPPORTED_METHODS = KNOWN_METHODS

    def initialize(self, route: Route, identify: Callable[[Any], Awaitable[User]] | None = None,
                   proxy: ProxyConfig | None = None) -> None:
        """``proxy``: with ``[auth.proxy]``, its identity headers are an ambient credential
        like a cookie, so unsafe requests carrying them get the same-origin check."""
        self.route = route
        self.identify = identify
        self.identity_headers = proxy.identity_headers if proxy is not None else ()

    async def current_identity(self) -> User:
        """The caller's identity, looked up off the event loop."""
        if self.identify is None:
            return ANONYMOUS
        return await self.identify(self.request)

    async def _serve(self, **_unquoted_by_tornado: str) -> None:
        route = self.route
        # Parameters come from the raw path: Tornado's own arguments are already decoded,
        # so an encoded '/' in them can no longer be told from a real one.
        path_params = route.path_params(strip_base(self.request.path))
        if path_params is None:
            self.send_rendered(error_response(404, "Not Found"))
            return
        method = self.request.method or "GET"
        if method not in route.methods:
            if method == "OPTIONS":
                self.set_header("Allow", ", ".join(route.allowed_methods))
                self.send_rendered(RenderedResponse(204))
                return
            if not (method == "HEAD" and "GET" in route.methods):
                self.send_rendered(
                    error_response(405, "Method Not Allowed", {"Allow": ", ".join(route.allowed_methods)})
                )
                return
        ambient = carries_ambient_credentials(self.request.headers, self.identity_headers)
        if route.csrf and method in UNSAFE_METHODS and ambient:
            verdict = self.same_origin()
            if verdict is False or (verdict is None and not self.has_valid_xsrf_token()):
                self.send_rendered(error_response(403, "Cross-site request refused"))
                return
        try:
            user = await self.current_identity() if route.csrf else ANONYMOUS
        except StoreUnavailable:
            if route.auth == "required" or route.roles:
                self.send_rendered(
                    error_response(503, "Session store unavailable; try again shortly", {"Retry-After": "5"})
                )
                return
            user = ANONYMOUS  # a public route still answers, as a visitor's request

        request = Request(
            method=method,
            path=self.request.path,
            path_params=path_params,
            query_string=self.request.query,
            headers=self.request.headers.get_all(),
            body=self.request.body,
            client_ip=self.request.remote_ip,
            user=user,
        )
        refused = access_error(route, request)
        if refused is not None and refused.status == 401 and self._wants_login_page():
            self.redirect(self._login_url())
            return
        self.send_rendered(refused or await call_handler(route, request))

    def _wants_login_page(self) -> bool:
        """A browser navigating here (not an API client) is sent to sign in instead of a 401."""
        accept = self.request.headers.get("Accept", "")
        return self.identify is not None and self.request.method == "GET" and "text/html" in accept

    def _login_url(self) -> str:
        here = strip_base(self.request.path) + (f"?{self.request.query}" if self.request.query else "")
        return app_path("/auth/login") + "?" + urlencode({"next": here})

    get = post = put = patch = delete = head = options = _serve


class CookieDeliveryHandler(BaseHandler):
    """``POST /_stauth/cookies/{token}``: hands a session's pending cookie writes to its browser."""

    def post(self, token: str) -> None:
        self.set_header("Cache-Control", "no-store")
        if self.same_origin() is not True:
            self.send_rendered(error_response(403, "Cross-site request refused"))
            return
        try:
            writes = OUTBOX.take(token, browser_binding(self.get_cookie(internals.XSRF_COOKIE_NAME)))
        except DeliveryRefused as refused:
            self.send_rendered(error_response(refused.status, refused.message))
            return
        for write in writes:
            self.add_header("Set-Cookie", write.header_value())
        self.send_rendered(RenderedResponse(204))


class RedirectHandoffHandler(BaseHandler):
    """``GET /_stauth/redirect/{token}``: delivers pending cookies, then 303 to the target."""

    def get(self, token: str) -> None:
        self.set_header("Cache-Control", "no-store")
        pending = PENDING_REDIRECTS.take(token)
        if pending is None:
            self.send_rendered(error_response(404, "This redirect link has expired or was already used"))
            return
        session_id, url = pending
        for write in OUTBOX.take_session(session_id, browser_binding(self.get_cookie(internals.XSRF_COOKIE_NAME))):
            self.add_header("Set-Cookie", write.header_value())
        self.set_status(303)
        self.set_header("Location", url)
        self.finish()
