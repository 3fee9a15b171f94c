"""The ASGI front: our endpoints before Streamlit's Starlette app, identity on its websocket.

Matches the raw path (as the Tornado adapter's URL regexes do), translates the ASGI scope
and body into an ``HttpRequest``, calls the neutral endpoint and sends its ``HttpResponse``;
everything else (lifespan included) goes to Streamlit's app unchanged, after the proxy
headers were sanitised. Identity for a websocket is looked up off the event loop before
Streamlit sees the handshake and handed to the runtime's ``connect_session`` (see
``server.CONNECTING``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs, quote

from ..core.identity import User
from ..core.signin import ResolvedSession
from ..core.sources.proxy import FORWARDED_HEADERS, client_address, nearest_value
from ..core.store import StoreUnavailable
from ..streamlit import internals
from ..streamlit.app_paths import base_prefix, cookie_path
from ..streamlit.script_api import COOKIE_DELIVERY_PATH, REDIRECT_HANDOFF_PATH
from ..streamlit.server_setup import web_context
from ..web.bearer import bearer_aware
from ..web.csrf import own_origin
from ..web.hosts import host_allowed
from ..web.endpoints import Endpoint, serve
from ..web.endpoints import signin as signin_endpoints
from ..web.endpoints.delivery import deliver_cookies, redirect_handoff
from ..web.endpoints.account import account
from ..web.endpoints.second_factor import account_totp, second_step
from ..web.endpoints.firebase import firebase_session
from ..web.endpoints.passkeys import passkeys
from ..web.endpoints import links as link_endpoints
from ..web.endpoints import saml as saml_endpoints
from ..web.endpoints.routes import dispatch_route
from ..web.exchange import Arguments, CookieHeaders, HttpRequest, HttpResponse
from ..web.http import MultiMapping, error_response, parse_cookie_header, safe_header
from ..web.xsrf import tokens_match

LOGGER = logging.getLogger("stauth_server.server")
_TOKEN = r"(?P<token>[A-Za-z0-9_-]{1,128})"
_SAML_PROVIDER = r"(?P<provider>[A-Za-z0-9_-]{1,64})"
_PASSKEY_ACTION = r"(?P<action>register/options|register|sign-in/options|sign-in|remove)"
#: Largest request body our endpoints read (Tornado's default ``max_body_size``).
MAX_BODY = 100 * 1024 * 1024
Send = Callable[[dict[str, Any]], Awaitable[None]]
Receive = Callable[[], Awaitable[dict[str, Any]]]
_HTTP_SCHEME = {"ws": "http", "wss": "https"}


class AuthFront:
    """ASGI app: ``server``'s endpoints first, then Streamlit's ``inner`` app."""

    def __init__(self, inner: Any, server: Any) -> None:
        self.inner = inner
        self.server = server
        self.service = server.signin
        self.proxy = server.auth_config.proxy
        base = re.escape(base_prefix())
        table: list[tuple[str, Endpoint, frozenset[str], bool]] = [
            (rf"{re.escape(COOKIE_DELIVERY_PATH)}/{_TOKEN}", deliver_cookies, frozenset({"POST"}), False),
            (rf"{re.escape(REDIRECT_HANDOFF_PATH)}/{_TOKEN}", redirect_handoff, frozenset({"GET"}), False),
        ]
        if self.service is not None:
            table += [
                (r"/auth/login/?", signin_endpoints.login, frozenset({"GET", "POST"}), True),
                (r"/oauth2callback/?", signin_endpoints.callback, frozenset({"GET"}), True),
                (r"/auth/logout/?", signin_endpoints.logout, frozenset({"GET", "POST"}), True),
                (r"/auth/userinfo/?", signin_endpoints.userinfo, frozenset({"GET"}), True),
                (r"/auth/firebase/session/?", firebase_session, frozenset({"POST"}), True),
                (r"/auth/account/?", account, frozenset({"GET", "POST"}), True),
                (rf"/auth/passkeys/{_PASSKEY_ACTION}/?", passkeys, frozenset({"POST"}), True),
                (r"/auth/account/totp/?", account_totp, frozenset({"GET", "POST"}), True),
                (r"/auth/login/code/?", second_step, frozenset({"GET", "POST"}), True),
                (r"/auth/forgot/?", link_endpoints.forgot, frozenset({"GET", "POST"}), True),
                (r"/auth/reset/?", link_endpoints.reset, frozenset({"GET", "POST"}), True),
                (r"/auth/invite/?", link_endpoints.invite, frozenset({"GET", "POST"}), True),
                (rf"/auth/saml/{_SAML_PROVIDER}/metadata/?", saml_endpoints.saml_metadata, frozenset({"GET"}), True),
                (rf"/auth/saml/{_SAML_PROVIDER}/acs/?", saml_endpoints.saml_acs, frozenset({"POST"}), True),
                (rf"/auth/saml/{_SAML_PROVIDER}/slo/?", saml_endpoints.saml_slo, frozenset({"GET"}), True),
            ]
        self.endpoints = [(re.compile(f"^{base}{pattern}$"), *rest) for pattern, *rest in table]
        self.routes = [(re.compile("^" + base + route.regex.pattern[1:]), self.route_endpoint(route))
                       for route in server.registry.routes]
        self.base = base_prefix()
        self.stream_path = base_prefix() + internals.STREAM_PATH
        self.hosts = self.allowed_hosts()
        #: Routes' and the cookie endpoints' context (config is fixed once the server runs).
        self.plain_context = web_context()

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            scope = self.sanitised(scope)
            raw_path = _raw_path(scope)
            mounted = self.asgi_mount(scope, raw_path)
            found = self.match(raw_path) if mounted is None else None
            if self.hosts and (mounted is not None or found is not None) \
                    and not host_allowed(_header(scope["headers"], "host") or None, self.hosts):
                await send_response(send, HttpResponse.of(error_response(400, "Host not allowed")),
                                    head=scope["method"] == "HEAD")
                return
            if mounted is not None:
                await mounted[1](mounted[0], receive, send)
            elif found is not None:
                await self.serve_http(scope, receive, send, *found)
            else:
                await self.inner(scope, receive, send)
            return
        if kind == "websocket":
            scope = self.sanitised(scope)
            mounted = self.asgi_mount(scope, _raw_path(scope))
            if mounted is not None:
                if self.hosts and not host_allowed(_header(scope["headers"], "host") or None, self.hosts):
                    # Closed before it is accepted: the server answers the handshake with a 403.
                    await send({"type": "websocket.close", "code": 1008})
                    return
                await mounted[1](mounted[0], receive, send)
                return
            if self.service is not None and scope["path"].rstrip("/") == self.stream_path:
                from .server import CONNECTING

                token = CONNECTING.set(await self.websocket_identity(scope))
                try:
                    await self.inner(scope, receive, send)
                finally:
                    CONNECTING.reset(token)
                return
        await self.inner(scope, receive, send)

    @staticmethod
    def allowed_hosts() -> list[str]:
        """``server.allowedHosts`` (Streamlit 1.61+; before that, every host)."""
        if internals.option_exists("server.allowedHosts"):
            return list(internals.get_config_option("server.allowedHosts") or [])
        return []

    def asgi_mount(self, scope: dict[str, Any], raw: str) -> tuple[dict[str, Any], Any] | None:
        """The ``sa.mount_asgi`` app for this request (``raw``: its raw path) and its scope
        (Starlette ``Mount`` semantics: the full path stays, the prefix joins ``root_path``)."""
        if not self.server.registry.asgi_mounts:
            return None
        base = self.base
        if not raw.startswith(base + "/"):
            return None
        found = self.server.registry.asgi_mount_for(raw[len(base):])
        if found is None:
            return None
        prefix, app = found
        return {**scope, "root_path": scope.get("root_path", "") + base + prefix}, app

    # --- proxy headers ------------------------------------------------------------

    def sanitised(self, scope: dict[str, Any]) -> dict[str, Any]:
        """A copy of ``scope`` with the real peer as ``stauth_peer``; a trusted proxy's
        X-Forwarded-For/-Proto/-Host applied, else identity and X-Forwarded headers removed."""
        scope = dict(scope)
        client = scope.get("client")
        peer = _plain_ip(client[0]) if client else None
        scope["stauth_peer"] = peer
        if client:
            scope["client"] = (peer, client[1])
        if self.proxy is None:
            return scope
        headers = [(k, v) for k, v in scope.get("headers", [])]
        if peer is not None and self.proxy.trusts(peer):
            get = lambda name: _header(headers, name) or None  # noqa: E731
            forwarded = client_address(get("x-forwarded-for"), self.proxy)
            if forwarded:
                scope["client"] = (forwarded, 0)
            proto = nearest_value(get("x-forwarded-proto")).lower()
            if proto in ("http", "https"):
                scope["scheme"] = proto if scope["type"] == "http" else {"http": "ws", "https": "wss"}[proto]
            host = nearest_value(get("x-forwarded-host"))
            if host:
                headers = [(k, v) for k, v in headers if k.lower() != b"host"] + [(b"host", host.encode("latin-1"))]
        else:
            drop = {name.lower().encode("latin-1") for name in (*self.proxy.identity_headers, *FORWARDED_HEADERS)}
            headers = [(k, v) for k, v in headers if k.lower() not in drop]
        scope["headers"] = headers
        return scope

    # --- HTTP ---------------------------------------------------------------------

    def match(self, raw_path: str) -> tuple[Endpoint, frozenset[str] | None, bool, dict[str, str]] | None:
        for regex, endpoint, methods, auth in self.endpoints:
            found = regex.match(raw_path)
            if found:
                return endpoint, methods, auth, found.groupdict()
        for regex, endpoint in self.routes:
            if regex.match(raw_path):
                return endpoint, None, False, {}
        return None

    def route_endpoint(self, route: Any) -> Endpoint:
        """``route`` as an endpoint: built once, when the front is."""
        service = self.service
        if service is None:
            async def public(request: HttpRequest, ctx: Any) -> HttpResponse:
                return await dispatch_route(request, ctx, route)

            return public
        identity_headers = self.proxy.identity_headers if self.proxy else ()

        async def by_cookie(request: HttpRequest) -> User:
            return (await signin_endpoints.identify_off_loop(service, request, self.plain_context)).user

        identify = bearer_aware(service, by_cookie)  # a Bearer token, if sent, alone says who calls

        async def endpoint(request: HttpRequest, ctx: Any) -> HttpResponse:
            return await dispatch_route(request, ctx, route, identify, identity_headers, sign_in=True)

        return endpoint

    async def serve_http(self, scope: dict[str, Any], receive: Receive, send: Send, endpoint: Endpoint,
                         methods: frozenset[str] | None, auth: bool, path_params: dict[str, str]) -> None:
        method = scope["method"]
        ctx = web_context(self.service) if auth else self.plain_context
        if methods is not None and method not in methods:
            response = HttpResponse.of(error_response(405, "Method Not Allowed"))
        else:
            # Without Content-Length or Transfer-Encoding a request has no body (RFC 9112 6.3).
            body = await _read_body(receive) if _announces_body(scope["headers"]) else b""
            if body is None:
                response = HttpResponse.of(error_response(413, "Request Entity Too Large"))
            else:
                request = neutral_request(scope, body, path_params)
                response = await serve(endpoint, request, ctx)
        if auth:
            for name, value in signin_endpoints.security_headers(self.service.config.frame_ancestors).items():
                if response.header(name) is None:
                    response.set_header(name, value)
        await send_response(send, response, head=method == "HEAD")

    # --- websocket ----------------------------------------------------------------

    async def websocket_identity(self, scope: dict[str, Any]) -> tuple[ResolvedSession, Any] | None:
        """Who opens this websocket, and the ticket of a session not yet verified; None when
        the connection does not come from the app's own pages (anonymous, bound to no browser)."""
        service = self.service
        headers = scope["headers"]
        scheme = "https" if scope.get("scheme") in ("wss", "https") else "http"
        verdict = own_origin(_header(headers, "origin") or None, scheme, _header(headers, "host"),
                             service.config.redirect_uri)
        cookies = parse_cookie_header(_header(headers, "cookie"))
        if verdict is None:  # no Origin: Streamlit's XSRF token (2nd subprotocol) must match its cookie
            protocols = [p.strip() for p in _header(headers, "sec-websocket-protocol").split(",")]
            verdict = len(protocols) > 1 and tokens_match(protocols[1], cookies.get(internals.XSRF_COOKIE_NAME))
        if not verdict:
            return None
        request = neutral_request(scope, b"", {})
        try:
            return await signin_endpoints.identify_off_loop(service, request, self.plain_context), None
        except StoreUnavailable as exc:
            LOGGER.warning("session store unavailable; tab connects as a visitor for now: %s", exc)
            return ResolvedSession(), service.sessions.ticket_in(cookies, secure=scheme == "https", path=cookie_path())


class AsgiHeaders(MultiMapping):
    """An ASGI scope's header pairs (bytes) as a ``MultiMapping``, decoded on first use."""

    __slots__ = ("_raw", "_decoded")

    def __init__(self, raw: list[tuple[bytes, bytes]]) -> None:
        self._raw = raw
        self._decoded: list[tuple[str, str]] | None = None
        self._fold = True
        self._index = None

    @property
    def _items(self) -> list[tuple[str, str]]:  # type: ignore[override]
        if self._decoded is None:
            self._decoded = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in self._raw]
        return self._decoded


def neutral_request(scope: dict[str, Any], body: bytes, path_params: dict[str, str]) -> HttpRequest:
    """An ASGI scope and body as the endpoints' ``HttpRequest``."""
    raw_headers = scope.get("headers", [])
    headers = AsgiHeaders(raw_headers)
    query_string = scope.get("query_string", b"").decode("latin-1")
    form: dict[str, list[bytes]] = {}
    if body and headers.get("content-type", "").split(";")[0].strip().lower() == "application/x-www-form-urlencoded":
        form = _arguments(body.decode("latin-1"))
    client = scope.get("client")
    scheme = scope.get("scheme", "http")
    scheme = _HTTP_SCHEME.get(scheme, scheme)
    return HttpRequest(  # positional (see HttpRequest's order): one is built per request
        scope.get("method", "GET"),
        _raw_path(scope),
        query_string,
        headers,
        CookieHeaders(headers),
        body,
        Arguments.wrapping(_arguments(query_string)) if query_string else None,
        Arguments.wrapping(form) if form else None,
        client[0] if client else None,
        scope.get("stauth_peer"),
        scheme,
        _header(raw_headers, "host"),
        path_params,
    )


async def send_response(send: Send, response: HttpResponse, *, head: bool = False) -> None:
    status = response.status
    headers: list[tuple[bytes, bytes]] = []
    nosniff = True
    for name, value in response.headers:
        if not safe_header(name, value):
            # A CR/LF would inject headers: a 500 without any of them, as the Tornado adapter answers.
            LOGGER.error("refused to send an unsafe response header among %s", [n for n, _ in response.headers])
            await send_response(send, HttpResponse.of(error_response(500, "Internal Server Error")), head=head)
            return
        if nosniff and name.lower() == "x-content-type-options":
            nosniff = False
        headers.append((name.encode("latin-1"), value.encode("latin-1")))
    if nosniff:
        headers.append((b"x-content-type-options", b"nosniff"))
    if status == 204 or status == 304:
        body = b""
    else:
        body = response.body
        headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else body})


async def _read_body(receive: Receive) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def _arguments(text: str) -> dict[str, list[bytes]]:
    """Query or form arguments as raw bytes per name (decoded later by ``Arguments``)."""
    parsed = parse_qs(text, keep_blank_values=True, encoding="latin-1")
    return {name.encode("latin-1").decode("utf-8", "replace"): [v.encode("latin-1") for v in values]
            for name, values in parsed.items()}


def _raw_path(scope: dict[str, Any]) -> str:
    raw = scope.get("raw_path")
    return raw.decode("latin-1").split("?", 1)[0] if raw else quote(scope["path"])


def _header(headers: Any, name: str) -> str:
    """Every value of header ``name`` (lower case), joined with ','."""
    wanted = name.encode("latin-1")
    found = None
    for key, value in headers:
        if key == wanted or key.lower() == wanted:
            found = value.decode("latin-1") if found is None else found + "," + value.decode("latin-1")
    return found or ""


def _announces_body(headers: Any) -> bool:
    """Whether the request says it has a body (Content-Length or Transfer-Encoding)."""
    for key, _ in headers:
        key = key.lower()
        if key == b"content-length" or key == b"transfer-encoding":
            return True
    return False


def _plain_ip(address: str) -> str:
    """An IPv4-mapped IPv6 peer (``::ffff:127.0.0.1``, on a dual-stack socket) as IPv4."""
    return address[7:] if address.lower().startswith("::ffff:") and "." in address else address
