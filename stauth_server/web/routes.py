"""The custom-endpoint API: ``@sa.route``, the route registry, and dispatching a request.

Framework-neutral: the server layer turns a web framework's request into ``Request``
and writes back the ``RenderedResponse`` that ``dispatch`` returns.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from ..core.errors import HTTPError, RouteError
from ..core.guards import Decision, decide
from .http import RenderedResponse, Request, error_response, render

LOGGER = logging.getLogger("stauth_server.routes")

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
KNOWN_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
AUTH_MODES = (None, "optional", "required")

#: Path prefixes (relative to the base path) that belong to streamlit-auth itself.
OUR_RESERVED_PREFIXES: tuple[str, ...] = ("/_stauth", "/auth", "/oauth2callback")

_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::(path))?\}")
_STATIC_CHARS = re.compile(r"^[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*$")

Handler = Callable[[Request], Any]


@dataclass(frozen=True)
class Route:
    """One custom endpoint: its path pattern, methods, handler and access rules."""

    path: str
    methods: tuple[str, ...]
    handler: Handler
    auth: str | None = None
    roles: tuple[str, ...] = ()
    csrf: bool = True
    regex: re.Pattern[str] = field(default=None, compare=False)  # type: ignore[assignment]
    shape: str = ""
    is_async: bool = False
    multi_segment: frozenset[str] = frozenset()

    @property
    def allowed_methods(self) -> list[str]:
        """Methods for the ``Allow`` header: declared ones, HEAD with GET, and OPTIONS."""
        allowed = list(self.methods)
        if "GET" in allowed and "HEAD" not in allowed:
            allowed.append("HEAD")
        if "OPTIONS" not in allowed:
            allowed.append("OPTIONS")
        return allowed

    @property
    def label(self) -> str:
        return f"route {self.path} ({getattr(self.handler, '__qualname__', self.handler)!r})"

    def path_params(self, raw_path: str) -> dict[str, str] | None:
        """The decoded parameters of ``raw_path`` (still percent-encoded), or None.

        None when the path is not this route's, or when a value is refused (see
        ``decode_param``): the server then answers 404.
        """
        found = self.regex.match(raw_path)
        if found is None:
            return None
        params: dict[str, str] = {}
        for name, raw in found.groupdict().items():
            value = decode_param(raw, several_segments=name in self.multi_segment)
            if value is None:
                return None
            params[name] = value
        return params


def compile_path(path: str) -> tuple[re.Pattern[str], str]:
    """Compile ``/items/{item_id}`` into a regex and a shape used to detect collisions.

    The regex runs on the raw (still percent-encoded) path: ``{name}`` claims one raw
    segment, ``{name:path}`` the rest of the path (without a trailing slash). What a
    claimed value may decode to is ``decode_param``'s decision.
    """
    if not isinstance(path, str) or not path.startswith("/"):
        raise RouteError(f"route path must be a string starting with '/', got {path!r}")
    if "//" in path or "\\" in path or any(ord(c) < 0x21 or ord(c) == 0x7F for c in path):
        raise RouteError(f"route path {path!r} has '//', a backslash, a space or a control character")
    regex_parts: list[str] = []
    shape_parts: list[str] = []
    names: set[str] = set()
    position = 0
    for match in _PARAM.finditer(path):
        static = path[position:match.start()]
        _check_static(path, static)
        regex_parts.append(re.escape(static))
        shape_parts.append(static)
        name, kind = match.group(1), match.group(2)
        if name in names:
            raise RouteError(f"route path {path!r} repeats the parameter {{{name}}}")
        names.add(name)
        if kind == "path":
            if match.end() != len(path):
                raise RouteError(f"route path {path!r}: {{{name}:path}} must be the last part")
            regex_parts.append(f"(?P<{name}>.+?)")
            shape_parts.append("{*}")
        else:
            regex_parts.append(f"(?P<{name}>[^/]+)")
            shape_parts.append("{}")
        position = match.end()
    tail = path[position:]
    _check_static(path, tail)
    regex_parts.append(re.escape(tail.rstrip("/")) if tail != "/" else "")
    shape = ("".join(shape_parts) + tail).rstrip("/") or "/"
    pattern = "".join(regex_parts)
    return re.compile(f"^{pattern}/?\\Z"), shape


def path_parameter_names(path: str) -> frozenset[str]:
    """The names of a route path's ``{name:path}`` parameters."""
    return frozenset(m.group(1) for m in _PARAM.finditer(path) if m.group(2) == "path")


_DOT_SEGMENTS = frozenset({".", ".."})
_REFUSED_IN_A_SEGMENT = re.compile(r"[/\\\x00-\x1f\x7f]")


def decode_param(raw: str, *, several_segments: bool = False) -> str | None:
    """Percent-decode a claimed parameter value, or None when it is refused.

    Each raw segment (one for ``{name}``, one or more for ``{name:path}``) must decode
    (UTF-8) to a non-empty value that is not ``.`` or ``..`` and has no ``/``, ``\\``
    or control character. So an encoded slash never splits or joins segments, and a
    ``{name:path}`` value is a relative path that cannot climb out of a folder it is
    joined to.
    """
    segments = raw.split("/")
    if len(segments) > 1 and not several_segments:
        return None
    decoded: list[str] = []
    for segment in segments:
        try:
            value = unquote(segment, errors="strict")
        except UnicodeDecodeError:
            return None
        if not value or value in _DOT_SEGMENTS or _REFUSED_IN_A_SEGMENT.search(value):
            return None
        decoded.append(value)
    return "/".join(decoded)


def _check_static(path: str, static: str) -> None:
    if "{" in static or "}" in static:
        raise RouteError(f"route path {path!r}: parameters look like {{name}} or {{name:path}}")
    if not _STATIC_CHARS.match(static):
        raise RouteError(f"route path {path!r} has characters that are not allowed in a URL path")


_PAGE_SAMPLE = "/a-page-of-the-app"


def _samples(prefix: str) -> list[str]:
    """Paths a reserved prefix serves, to try a pattern against."""
    base = prefix.rstrip("/")
    return [base or "/", f"{base}/", f"{base}/x", f"{base}/stream", f"{base}/js/main.js"]


def _under(shape: str, prefix: str) -> bool:
    return shape == prefix or shape.startswith(prefix.rstrip("/") + "/")


class RouteRegistry:
    """Holds the routes and raw Tornado mounts declared at start-up.

    Sealed once the server has mounted them: a route declared later (for example from
    an app script at run time) raises instead of silently doing nothing.
    """

    def __init__(self) -> None:
        self._routes: list[Route] = []
        self._raw_mounts: list[tuple[str, Any, dict[str, Any]]] = []
        self._asgi_mounts: list[tuple[str, Any]] = []
        self._sealed = False

    @property
    def routes(self) -> list[Route]:
        return list(self._routes)

    @property
    def raw_mounts(self) -> list[tuple[str, Any, dict[str, Any]]]:
        return list(self._raw_mounts)

    @property
    def asgi_mounts(self) -> list[tuple[str, Any]]:
        return list(self._asgi_mounts)

    def _check_open(self, what: str) -> None:
        if self._sealed:
            raise RouteError(
                f"{what} must be declared in a module loaded at start-up "
                "(streamlit-auth run app.py --routes api.py), not while the app runs"
            )

    def add(
        self,
        path: str,
        handler: Handler,
        *,
        methods: Sequence[str] = ("GET",),
        auth: str | None = None,
        roles: Iterable[str] = (),
        csrf: bool = True,
    ) -> Route:
        self._check_open(f"route {path!r}")
        if isinstance(methods, str):
            methods = [methods]
        if not all(isinstance(m, str) for m in methods):
            raise RouteError(f"route {path!r}: methods must be strings such as 'GET', got {list(methods)!r}")
        normalized = tuple(dict.fromkeys(m.upper() for m in methods))
        if not normalized:
            raise RouteError(f"route {path!r}: methods must not be empty")
        unknown = [m for m in normalized if m not in KNOWN_METHODS]
        if unknown:
            raise RouteError(f"route {path!r}: unknown HTTP method(s) {unknown}; use {KNOWN_METHODS}")
        if auth not in AUTH_MODES:
            raise RouteError(f"route {path!r}: auth must be None, 'optional' or 'required', got {auth!r}")
        if isinstance(roles, str):
            roles = [roles]
        if not callable(handler):
            raise RouteError(f"route {path!r}: the handler must be callable")
        regex, shape = compile_path(path)
        route = Route(
            path=path,
            methods=normalized,
            handler=handler,
            auth=auth,
            roles=tuple(roles),
            csrf=bool(csrf),
            regex=regex,
            shape=shape,
            is_async=inspect.iscoroutinefunction(handler),
            multi_segment=path_parameter_names(path),
        )
        self._check_collisions(route)
        self._routes.append(route)
        return route

    def _check_collisions(self, route: Route) -> None:
        if route.shape == "/":
            raise RouteError(f"{route.label} collides with the app's own page at '/'")
        if route.shape.startswith("/{"):
            raise RouteError(
                f"{route.label} starts with a parameter: it would shadow every page of the "
                "app; start it with a fixed segment such as /api"
            )
        for other in self._routes:
            if other.shape == route.shape:
                raise RouteError(f"{route.label} collides with {other.label}")

    def check_reserved(self, streamlit_prefixes: Iterable[str], static_names: Iterable[str]) -> None:
        """Fail when a route or mount would serve a path Streamlit or streamlit-auth serves.

        Each pattern is tried against sample paths under every reserved prefix, so
        ``/_stcore{rest:path}`` or a raw ``/(.*)`` cannot slip past a prefix comparison.
        """
        reserved = [(p, "Streamlit's") for p in streamlit_prefixes]
        reserved += [("/" + n, "Streamlit's static file") for n in static_names]
        reserved += [(p, "streamlit-auth's") for p in OUR_RESERVED_PREFIXES]
        for route in self._routes:
            for prefix, owner in reserved:
                if _under(route.shape, prefix) or any(route.regex.match(p) for p in _samples(prefix)):
                    raise RouteError(f"{route.label} collides with {owner} path {prefix}")
        for pattern, handler_class, _ in self._raw_mounts:
            try:
                compiled = re.compile(pattern if pattern.endswith("$") else pattern + "$")
            except re.error as exc:
                raise RouteError(f"mount_tornado pattern {pattern!r} is not a valid regex: {exc}") from None
            label = f"mounted handler {getattr(handler_class, '__name__', handler_class)} at {pattern}"
            if compiled.match("/") or compiled.match(_PAGE_SAMPLE):
                raise RouteError(f"{label} would shadow the app's pages")
            for prefix, owner in reserved:
                if any(compiled.match(p) for p in _samples(prefix)):
                    raise RouteError(f"{label} collides with {owner} path {prefix}")

        for prefix, app in self._asgi_mounts:
            label = f"ASGI app {getattr(app, '__name__', type(app).__name__)} mounted at {prefix}"
            for reserved_prefix, owner in reserved:
                if _under(prefix, reserved_prefix) or _under(reserved_prefix, prefix):
                    raise RouteError(f"{label} collides with {owner} path {reserved_prefix}")
            for route in self._routes:
                if _under(route.shape, prefix):
                    raise RouteError(f"{label} would shadow {route.label}")

    def check_server(self, starlette: bool) -> None:
        """Refuse mounts the running server generation cannot serve (at start-up)."""
        if starlette and self._raw_mounts:
            pattern = self._raw_mounts[0][0]
            raise RouteError(
                f"sa.mount_tornado({pattern!r}) needs Streamlit's Tornado server (Streamlit 1.56), but this "
                "Streamlit serves apps with Starlette: mount an ASGI app with sa.mount_asgi(prefix, app) instead")
        if not starlette and self._asgi_mounts:
            prefix = self._asgi_mounts[0][0]
            raise RouteError(
                f"sa.mount_asgi({prefix!r}) needs Streamlit's Starlette server (Streamlit 1.57 or later, or "
                "server.useStarlette on 1.56), but this one runs on Tornado: use sa.mount_tornado or @sa.route")

    def mount(self, pattern: str, handler_class: Any, kwargs: dict[str, Any] | None = None) -> None:
        self._check_open(f"mount_tornado({pattern!r})")
        if not isinstance(pattern, str) or not pattern.startswith("/"):
            raise RouteError(f"mount_tornado pattern must start with '/', got {pattern!r}")
        self._raw_mounts.append((pattern, handler_class, dict(kwargs or {})))

    def mount_asgi(self, prefix: str, app: Any) -> None:
        self._check_open(f"mount_asgi({prefix!r})")
        if not isinstance(prefix, str) or not re.fullmatch(r"(/[A-Za-z0-9._~-]+)+", prefix):
            raise RouteError(f"mount_asgi prefix must be a literal path such as '/api/v2' (no trailing '/', "
                             f"no pattern), got {prefix!r}")
        if not callable(app):
            raise RouteError(f"mount_asgi({prefix!r}): expected an ASGI app, got {type(app).__name__}")
        if any(_under(prefix, other) or _under(other, prefix) for other, _ in self._asgi_mounts):
            raise RouteError(f"mount_asgi({prefix!r}) overlaps another ASGI mount")
        self._asgi_mounts.append((prefix, app))

    def asgi_mount_for(self, raw_path: str) -> tuple[str, Any] | None:
        """The ASGI mount whose prefix holds ``raw_path`` (still percent-encoded), if any."""
        for prefix, app in self._asgi_mounts:
            if _under(raw_path, prefix):
                return prefix, app
        return None

    def match(self, raw_path: str) -> tuple[Route, dict[str, str] | None] | None:
        """The first route whose pattern claims ``raw_path`` (still percent-encoded), and
        its decoded parameters; those are None when a value is refused (answer 404).

        None when no route claims the path (it belongs to the app's pages).
        """
        for route in self._routes:
            if route.regex.match(raw_path):
                return route, route.path_params(raw_path)
        return None

    def seal(self) -> None:
        self._sealed = True

    def clear(self) -> None:
        """Forget every route (tests only)."""
        self._routes.clear()
        self._raw_mounts.clear()
        self._asgi_mounts.clear()
        self._sealed = False


REGISTRY = RouteRegistry()


def route(
    path: str,
    methods: Sequence[str] = ("GET",),
    auth: str | None = None,
    roles: Iterable[str] = (),
    csrf: bool = True,
) -> Callable[[Handler], Handler]:
    """Declare a custom HTTP endpoint under ``server.baseUrlPath``.

    ``auth``: None (anyone), "optional" (same), "required" (401 for visitors); ``roles``:
    the user needs one of them (403 otherwise). ``csrf=False`` lets cross-site requests
    in (webhooks) and then the handler sees no cookie identity.
    """

    def decorate(handler: Handler) -> Handler:
        REGISTRY.add(path, handler, methods=methods, auth=auth, roles=roles, csrf=csrf)
        return handler

    return decorate


def mount_tornado(pattern: str, handler_class: Any, kwargs: dict[str, Any] | None = None) -> None:
    """Mount a raw Tornado ``RequestHandler`` at ``pattern`` (a regex under the base path)."""
    REGISTRY.mount(pattern, handler_class, kwargs)


def mount_asgi(prefix: str, app: Any) -> None:
    """Mount an ASGI app (Starlette, FastAPI, ...) at the literal ``prefix`` under the base path.

    Starlette server only (Streamlit 1.57+). The app sees the prefix in ``root_path`` and
    the rest in ``path``, as with Starlette's ``Mount``; our sign-in, CSRF and guards do not
    apply inside it (use ``@sa.route`` for that).
    """
    REGISTRY.mount_asgi(prefix, app)


def access_error(route: Route, request: Request) -> RenderedResponse | None:
    """401/403 when the route's ``auth``/``roles`` rules refuse the request's user."""
    decision = decide(request.user, roles=route.roles, login=route.auth == "required")
    if decision is Decision.SIGN_IN:
        return error_response(401, "Sign-in required")
    if decision is Decision.FORBID:
        return error_response(403, "Forbidden: missing role")
    return None


async def call_handler(route: Route, request: Request) -> RenderedResponse:
    """Run the handler (sync ones off the event loop) and render what it returns.

    Every failure becomes a short JSON error: ``HTTPError`` as raised, anything else a
    generic 500 whose traceback goes to the server log only.
    """
    try:
        if route.is_async:
            return render(await route.handler(request))
        return render(await run_sync_handler(route, request))
    except Exception as exc:  # noqa: BLE001 - every failure is answered, see failure_response
        return failure_response(route, request, exc)


async def run_sync_handler(route: Route, request: Request) -> Any:
    """A plain ``def`` handler, run in the event loop's default thread pool."""
    result = await asyncio.get_running_loop().run_in_executor(None, functools.partial(route.handler, request))
    if inspect.isawaitable(result):
        result = await result
    return result


def failure_response(route: Route, request: Request, exc: Exception) -> RenderedResponse:
    """The answer for a handler that raised: its ``HTTPError``, else a logged generic 500."""
    if isinstance(exc, HTTPError):
        return error_response(exc.status, exc.message or _reason(exc.status), exc.headers)
    LOGGER.error("route %s %s failed", request.method, route.path, exc_info=exc)
    return error_response(500, "Internal Server Error")


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
