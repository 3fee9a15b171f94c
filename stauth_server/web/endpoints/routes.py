"""``@sa.route`` dispatch: one registered route, served from the raw path."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from urllib.parse import urlencode

from ...core.audit import audit, request_scope, scope_for
from ...core.errors import HTTPError
from ...core.identity import ANONYMOUS, User
from ...core.store import StoreUnavailable
from ..context import WebContext
from ..bearer import bearer_token
from ..csrf import UNSAFE_METHODS, carries_ambient_credentials, refuse_cross_site
from ..errors import STORE_DOWN_JSON
from ..exchange import HttpRequest, HttpResponse
from ..http import Request, render
from ..middleware import CHAIN, route_refusal
from ..routes import Route, access_error, failure_response, run_sync_handler

Identify = Callable[[HttpRequest], Awaitable[User]]


async def anonymous(request: HttpRequest) -> User:
    """The caller when sign-in is not configured: everyone is a visitor."""
    return ANONYMOUS


async def dispatch_route(request: HttpRequest, ctx: WebContext, route: Route, identify: Identify = anonymous,
                         identity_headers: Iterable[str] = (), *, sign_in: bool = False) -> HttpResponse:
    """Serve ``route``: raw-path parameters, methods (HEAD, OPTIONS), CSRF, access rules.

    ``identify`` looks the caller up; ``sign_in``: sign-in is configured, so a browser
    refused for want of one is sent to the login page; ``identity_headers``: a trusted
    proxy's, an ambient credential like a cookie. With ``sign_in``, ``identify`` must be
    ``web.bearer.bearer_aware`` (both adapters build it so).
    """
    # Parameters come from the raw path: a server's own arguments are already decoded,
    # so an encoded '/' in them can no longer be told from a real one.
    path_params = route.path_params(ctx.strip_base(request.path))
    if path_params is None:
        raise HTTPError(404, "Not Found")
    method = request.method or "GET"
    # OPTIONS and a method the route lacks are answered here, after the middlewares (a
    # middleware that blocks a network range blocks those requests too), never reaching
    # the CSRF check, the access rules or the handler.
    early: HttpResponse | HTTPError | None = None
    if method not in route.methods:
        if method == "OPTIONS":
            early = HttpResponse(204, [("Allow", ", ".join(route.allowed_methods))])
        elif not (method == "HEAD" and "GET" in route.methods):
            early = HTTPError(405, "Method Not Allowed", headers={"Allow": ", ".join(route.allowed_methods)})
        if early is not None and not CHAIN:
            return _early(early)
    # With sign-in, ``identify`` authenticates a Bearer request by its token alone
    # (web.bearer): a cookie it also carries counts for nothing, so it is not ambient.
    by_bearer = sign_in and bearer_token(request) is not None
    if early is None and route.csrf and method in UNSAFE_METHODS and not by_bearer \
            and carries_ambient_credentials(request.joined_headers, identity_headers):
        refuse_cross_site(request, xsrf_cookie=ctx.xsrf_cookie_name)
    user = ANONYMOUS
    scope = None
    if route.csrf and identify is not anonymous:
        scope = scope_for(request)  # the lookup's events and a refusal's share one request id
        try:
            with request_scope(scope):
                user = await identify(request)
        except StoreUnavailable:
            if route.auth == "required" or route.roles:
                raise HTTPError(503, STORE_DOWN_JSON, headers={"Retry-After": "5"}) from None
            user = ANONYMOUS  # a public route still answers, as a visitor's request

    api_request = Request.for_route(method, request.path, path_params, request.query_string, request.headers,
                                    request.body, request.client_ip, user)
    if CHAIN:  # @sa.middleware: after identity, before the access rules and the handler
        stopped = await route_refusal(api_request, ctx.base_path)
        if stopped is not None:
            return HttpResponse.of(stopped)
        if early is not None:
            return _early(early)
    refused = access_error(route, api_request) if route.auth == "required" or route.roles else None
    if refused is not None:
        audit("route_denied", user_id=user.id or None, request=scope or request, route=route.path,
              method=method, status=refused.status, roles=route.roles)
    if refused is not None and refused.status == 401 and sign_in and _wants_login_page(request):
        here = ctx.strip_base(request.path) + (f"?{request.query_string}" if request.query_string else "")
        return HttpResponse.redirect(ctx.app_path("/auth/login") + "?" + urlencode({"next": here}))
    if refused is not None:
        response = HttpResponse.of(refused)
        if refused.status == 401 and getattr(identify, "bearer_challenge", False):
            response.add_header("WWW-Authenticate", "Bearer")
        return response
    try:  # call_handler, inlined: one coroutine less per request
        rendered = render(await route.handler(api_request) if route.is_async
                          else await run_sync_handler(route, api_request))
    except Exception as exc:  # noqa: BLE001 - every failure is answered, see failure_response
        rendered = failure_response(route, api_request, exc)
    return HttpResponse.of(rendered)


def _early(answer: HttpResponse | HTTPError) -> HttpResponse:
    """The OPTIONS answer, or raise the 405."""
    if isinstance(answer, HTTPError):
        raise answer
    return answer


def _wants_login_page(request: HttpRequest) -> bool:
    """A browser navigating here (not an API client) is sent to sign in instead of a 401."""
    return request.method == "GET" and request.accepts_html()
