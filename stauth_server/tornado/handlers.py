"""Tornado adapter: our endpoints as ``RequestHandler`` classes that only translate.

Each handler turns Tornado's request into a neutral ``HttpRequest``, calls the endpoint
function from ``web.endpoints`` and writes its ``HttpResponse`` back.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, ClassVar

import tornado.web

from ..core.identity import User
from ..core.sources.proxy import ProxyConfig
from ..streamlit.server_setup import web_context
from ..web.context import WebContext
from ..web.endpoints import Endpoint, serve
from ..web.endpoints.delivery import deliver_cookies, redirect_handoff
from ..web.endpoints.routes import anonymous, dispatch_route
from ..web.errors import ENDPOINT_ERRORS, render_error
from ..web.exchange import Arguments, CookieHeaders, HttpRequest, HttpResponse
from ..web.http import MultiMapping, RenderedResponse, error_response, safe_header
from ..web.routes import KNOWN_METHODS, Route

LOGGER = logging.getLogger("stauth_server.server")
#: Where the TCP peer's address is kept once X-Forwarded-For has replaced ``remote_ip``.
PEER_ATTRIBUTE = "stauth_peer"


class TornadoHeaders(MultiMapping):
    """Tornado's own headers (already case-insensitive) as a ``MultiMapping``, not copied."""

    __slots__ = ("_native",)

    def __init__(self, native: Any) -> None:
        self._native = native
        self._fold = True
        self._index = None

    @property
    def _items(self) -> list[tuple[str, str]]:  # type: ignore[override]
        return list(self._native.get_all())

    def __getitem__(self, key: str) -> str:
        values = self._native.get_list(key)
        if not values:
            raise KeyError(key)
        return values[-1]  # type: ignore[no-any-return]

    def get_all(self, key: str) -> list[str]:
        return list(self._native.get_list(key))

    def __iter__(self) -> Iterator[str]:
        return (name.lower() for name in self._native)

    def __len__(self) -> int:
        return len(self._native)


def neutral_request(request: Any, path_params: dict[str, str] | None = None) -> HttpRequest:
    """A Tornado ``HTTPServerRequest`` as the endpoints' ``HttpRequest``."""
    headers = TornadoHeaders(request.headers)
    return HttpRequest(  # positional (see HttpRequest's order): one is built per request
        request.method or "GET",
        request.path,
        request.query,
        headers,
        CookieHeaders(headers),  # parsed on first use, as the Starlette adapter does
        request.body or b"",
        Arguments.wrapping(request.query_arguments),
        Arguments.wrapping(request.body_arguments),
        request.remote_ip,
        getattr(request, PEER_ATTRIBUTE, request.remote_ip),
        request.protocol,
        request.host,
        path_params,
    )


class BaseHandler(tornado.web.RequestHandler):
    """Common ground of our handlers: one error shape, no tracebacks, our own CSRF check."""

    def check_xsrf_cookie(self) -> None:
        """Disable Tornado's blanket XSRF check: each endpoint applies ``refuse_cross_site``."""

    def set_default_headers(self) -> None:
        self.set_header("X-Content-Type-Options", "nosniff")

    def compute_etag(self) -> None:
        """No ``ETag``: our answers are per-request (a session's, a route's), never cached
        validators, and the Starlette adapter sends none either."""
        return None

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        message = self._reason or "Error"
        exc_info = kwargs.get("exc_info")
        if exc_info and isinstance(exc_info[1], tornado.web.HTTPError) and exc_info[1].log_message:
            message = exc_info[1].log_message if status_code < 500 else message
        self.send_rendered(error_response(status_code, message))

    def send_rendered(self, response: HttpResponse | RenderedResponse) -> None:
        """Write a response: its status, headers (``Set-Cookie`` repeated) and body."""
        status = response.status
        for name, value in response.headers:
            if not safe_header(name, value):
                # A CR/LF would inject headers: a 500 without any of them, as the Starlette adapter answers.
                LOGGER.error("refused to send an unsafe response header among %s", [n for n, _ in response.headers])
                response = error_response(500, "Internal Server Error")
                status = 500
                break
        self.set_status(status)
        has_type = has_location = False
        for name, value in response.headers:
            lower = name.lower()
            if lower == "set-cookie":
                self.add_header(name, value)
                continue
            if lower == "content-type":
                has_type = True
            elif lower == "location":
                has_location = True
            self.set_header(name, value)
        if not has_type and not (has_location and 300 <= status < 400):
            self.clear_header("Content-Type")  # a redirect keeps Tornado's default, as redirect() does
        if not self._finished:
            self.finish(response.body if response.body and status not in (204, 304) else None)


class EndpointHandler(BaseHandler):
    """Serves one neutral endpoint function for the methods the class lists."""

    endpoint: ClassVar[Endpoint]

    def web_context(self) -> WebContext:
        return web_context()

    async def _serve(self, **path_params: str) -> None:
        request = neutral_request(self.request, path_params)
        self.send_rendered(await serve(type(self).endpoint, request, self.web_context()))


class RouteHandler(BaseHandler):
    """Serves one ``@sa.route`` endpoint: ``for_route`` makes the class for one route."""

    SUPPORTED_METHODS = KNOWN_METHODS
    route: ClassVar[Route]
    identify: ClassVar[Callable[[HttpRequest], Awaitable[User]]] = staticmethod(anonymous)  # type: ignore[assignment]
    sign_in: ClassVar[bool] = False
    identity_headers: ClassVar[tuple[str, ...]] = ()
    context: ClassVar[WebContext | None] = None

    @classmethod
    def for_route(cls, route: Route, identify: Callable[[HttpRequest], Awaitable[User]] | None = None,
                  proxy: ProxyConfig | None = None, context: WebContext | None = None) -> type[RouteHandler]:
        """A handler class for ``route``, its settings as class attributes (read once, not
        handed to every request). ``identify``: looks the caller up when sign-in is
        configured; ``proxy``: with ``[auth.proxy]``, its identity headers are an ambient
        credential like a cookie, so unsafe requests carrying them get the same-origin
        check; ``context``: the routes' context (config is fixed while serving)."""
        attributes = {
            "route": route,
            "identify": staticmethod(identify or anonymous),
            "sign_in": identify is not None,
            "identity_headers": tuple(proxy.identity_headers) if proxy is not None else (),
            "context": context,
        }
        return type(cls.__name__, (cls,), attributes)

    async def _serve(self, **_unquoted_by_tornado: str) -> None:
        # dispatch_route as an endpoint (it has no default headers), without serve()'s wrapper.
        request = neutral_request(self.request)
        ctx = self.context or web_context()
        try:
            response = await dispatch_route(request, ctx, self.route, self.identify, self.identity_headers,
                                            sign_in=self.sign_in)
        except ENDPOINT_ERRORS as exc:
            response = render_error(request, ctx, exc)
        self.send_rendered(response)

    get = post = put = patch = delete = head = options = _serve


class CookieDeliveryHandler(EndpointHandler):
    """``POST /_stauth/cookies/{token}``: hands a session's pending cookie writes to its browser."""

    endpoint = staticmethod(deliver_cookies)
    post = EndpointHandler._serve


class RedirectHandoffHandler(EndpointHandler):
    """``GET /_stauth/redirect/{token}``: delivers pending cookies, then 303 to the target."""

    endpoint = staticmethod(redirect_handoff)
    get = EndpointHandler._serve
