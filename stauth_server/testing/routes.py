"""``call_route``: one request to an ``@sa.route`` handler through the real dispatch, no server."""

from __future__ import annotations

import asyncio
import json as json_module
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from ..core.identity import ANONYMOUS, User
from ..web.context import WebContext
from ..web.exchange import CookieHeaders, HttpRequest, HttpResponse
from ..web.http import MultiMapping
from ..web.routes import REGISTRY, Route
from .app import AppPath, KitApp, load_app
from .visits import Visit

#: The session cookie a signed-in user's browser sends (its value is never read: ``user``
#: says who calls). Its presence makes unsafe methods need a same-origin request.
SESSION_COOKIE = "stauth_session=test-session"
HOST = "localhost:8501"


@dataclass(frozen=True)
class RouteResponse:
    """What the client would receive."""

    status: int
    headers: MultiMapping
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self) -> Any:
        """The body parsed as JSON (every error answer is ``{"error": message}``)."""
        return json_module.loads(self.body)


def call_route(
    target: str | Callable[..., Any],
    method: str = "GET",
    path: str | None = None,
    *,
    user: User | Visit | None = None,
    json: Any = None,
    body: bytes | str | None = None,
    headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
    query: Mapping[str, Any] | Iterable[tuple[str, str]] | None = None,
    cross_site: bool = False,
    bearer: str | None = None,
    app: AppPath | None = None,
    secrets: Mapping[str, Any] | None = None,
) -> RouteResponse:
    """Call a route as ``user`` (None: a visitor) through the real dispatch, without a server.

    ``target``: a request path (``"/api/items/3"``, under the app) or a handler declared
    with ``@sa.route`` (then ``path`` fills its parameters; without parameters it defaults
    to the route's path). Methods, CSRF, ``auth``/``roles`` and errors answer exactly as
    served. A signed-in ``user``'s browser sends its session cookie, from the app's own
    page unless ``cross_site`` (a forged request from another site). ``bearer``: sent as
    ``Authorization: Bearer``; the token alone then says who calls, checked by the real code
    against the app's providers (``api_audience``) and users file (personal API tokens).
    Routes come from the modules already imported and from the app's ``[auth] routes``.
    """
    kit_app = user.app(secrets) if isinstance(user, Visit) and app is None else load_app(app, secrets)
    _load_configured_routes(kit_app)
    route, raw_path = _route_and_path(target, path)
    caller = user.user_for(kit_app) if isinstance(user, Visit) else (user or ANONYMOUS)
    if bearer is not None:
        headers = [*(headers.items() if isinstance(headers, Mapping) else headers or ()),
                   ("Authorization", f"Bearer {bearer}")]
    request = _request(method.upper(), raw_path, caller, json, body, headers, query, cross_site)
    identify = _identify(kit_app, caller, request)
    proxy = kit_app.config.proxy
    identity_headers = tuple(proxy.identity_headers) if proxy is not None else ()
    # A browser refused for want of sign-in is sent to the login page when sign-in is
    # configured (always so without an app named: the kit's users come from a sign-in).
    sign_in = kit_app.config.sign_in_enabled or kit_app.main_script is None
    response = _run(_dispatch(request, route, identify, identity_headers, sign_in=sign_in))
    return RouteResponse(response.status, MultiMapping(response.headers, case_insensitive=True), response.body)


async def _dispatch(request: HttpRequest, route: Route, identify: Any, identity_headers: tuple[str, ...], *,
                    sign_in: bool) -> HttpResponse:
    from ..web.endpoints.routes import dispatch_route
    from ..web.errors import ENDPOINT_ERRORS, render_error

    ctx = WebContext()
    try:
        return await dispatch_route(request, ctx, route, identify, identity_headers, sign_in=sign_in)
    except ENDPOINT_ERRORS as exc:  # the adapters' one error path
        return render_error(request, ctx, exc)


def _identify(app: KitApp, caller: User, request: HttpRequest) -> Callable[[HttpRequest], Any]:
    """Who calls: ``caller`` (their session), unless the request sends a Bearer token, which
    the real check (``web.bearer``) decides, as served."""
    from ..web.bearer import bearer_token

    async def by_session(_: HttpRequest) -> User:
        return caller

    if bearer_token(request) is None:
        return by_session
    if not app.config.sign_in_enabled:
        raise ValueError("call_route: a Bearer token needs the app's sign-in configuration (stauth_app, app= "
                         "or secrets= with [auth.local] or a provider with api_audience)")
    from ..core.signin import SignInService
    from ..core.store.memory import MemoryStore
    from ..web.bearer import bearer_aware

    return bearer_aware(SignInService(app.config, store=MemoryStore()), by_session)


def _request(method: str, raw_path: str, user: User, json: Any, body: bytes | str | None,
             headers: Mapping[str, str] | Iterable[tuple[str, str]] | None,
             query: Mapping[str, Any] | Iterable[tuple[str, str]] | None, cross_site: bool) -> HttpRequest:
    pairs: list[tuple[str, str]] = [("Host", HOST), ("Sec-Fetch-Site", "cross-site" if cross_site else "same-origin")]
    if user.is_logged_in:
        pairs.append(("Cookie", SESSION_COOKIE))
    if json is not None:
        if body is not None:
            raise ValueError("call_route: give json= or body=, not both")
        body = json_module.dumps(json)
        pairs.append(("Content-Type", "application/json"))
    given = list(headers.items() if isinstance(headers, Mapping) else headers or ())
    names = {name.lower() for name, _ in given}
    pairs = [(k, v) for k, v in pairs if k.lower() not in names] + [(str(k), str(v)) for k, v in given]
    data = body.encode("utf-8") if isinstance(body, str) else (body or b"")
    if data and "content-length" not in {k.lower() for k, _ in pairs}:
        pairs.append(("Content-Length", str(len(data))))
    path, _, query_in_path = raw_path.partition("?")
    query_string = "&".join(filter(None, [query_in_path, urlencode(_query_pairs(query), doseq=True)]))
    header_map = MultiMapping(pairs, case_insensitive=True)
    return HttpRequest(method, path, query_string, header_map, CookieHeaders(header_map), data,
                       client_ip="127.0.0.1", peer="127.0.0.1", scheme="http", host=HOST)


def _query_pairs(query: Mapping[str, Any] | Iterable[tuple[str, str]] | None) -> list[tuple[str, Any]]:
    if query is None:
        return []
    return list(query.items()) if isinstance(query, Mapping) else list(query)


def _route_and_path(target: str | Callable[..., Any], path: str | None) -> tuple[Route, str]:
    if isinstance(target, str):
        raw = target if target.startswith("/") else f"/{target}"
        found = REGISTRY.match(raw.partition("?")[0])
        if found is None:
            raise LookupError(f"no @sa.route serves {raw}: import the module that declares it, or list it "
                              "in the app's [auth] routes")
        return found[0], raw
    routes = [r for r in REGISTRY.routes if r.handler is target or getattr(r.handler, "__wrapped__", None) is target]
    if not routes:
        raise LookupError(f"{getattr(target, '__qualname__', target)!r} is not an @sa.route handler "
                          "(was the module that declares it imported?)")
    route = routes[0]
    if path is None:
        if "{" in route.path:
            raise ValueError(f"call_route: {route.path} has parameters; give path=, e.g. path={_example(route.path)!r}")
        path = route.path
    if route.regex.match(path.partition("?")[0]) is None:
        raise ValueError(f"call_route: {path!r} is not a path of route {route.path}")
    return route, path


def _example(pattern: str) -> str:
    import re

    return re.sub(r"\{[^}]+\}", quote("1"), pattern)


def _load_configured_routes(app: KitApp) -> None:
    """Import the app's ``[auth] routes`` files once (a file the tests imported themselves,
    and whose routes the registry holds, is not imported again)."""
    from ..streamlit.routes_loader import load_routes_modules

    served = {_module_file(r.handler) for r in REGISTRY.routes}
    for path in app.config.routes:
        resolved = Path(path).resolve()
        if resolved not in served:
            with _LOAD_LOCK:
                load_routes_modules([resolved])


_LOAD_LOCK = threading.Lock()


def _module_file(handler: Any) -> Path | None:
    module = sys.modules.get(getattr(handler, "__module__", "") or "")
    file = getattr(module, "__file__", None)
    return Path(file).resolve() if file else None


def _run(coroutine: Any) -> HttpResponse:
    """Run the dispatch to completion, also from a test that is itself inside an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    result: list[HttpResponse] = []
    failure: list[BaseException] = []

    def in_thread() -> None:
        try:
            result.append(asyncio.run(coroutine))
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            failure.append(exc)

    worker = threading.Thread(target=in_thread)
    worker.start()
    worker.join()
    if failure:
        raise failure[0]
    return result[0]


__all__ = ["RouteResponse", "call_route"]
