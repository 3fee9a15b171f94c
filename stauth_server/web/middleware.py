"""``@sa.middleware``: functions that run before every page and every ``@sa.route`` call.

A middleware receives the ``sa.Request`` of the call (for a page run, a view built from
the page's websocket handshake) and returns None to go on or ``sa.Redirect(url)`` to send
the browser elsewhere; it raises ``sa.Forbidden`` / ``sa.HTTPError`` to refuse. What it
stores in ``request.state`` the route handler reads. Several run in declaration order;
the first that does not return None wins and the rest do not run.

Framework-neutral: the route dispatcher (``web/endpoints/routes.py``) and the page guard
(``streamlit/page_middleware.py``) each act on the outcome their own way.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import logging
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Union

from ..core.errors import HTTPError, RedirectError, RouteError
from .http import RenderedResponse, Request, error_response
from .redirects import resolve

LOGGER = logging.getLogger("stauth_server.middleware")


@dataclass(frozen=True)
class Redirect:
    """What a middleware returns to send the browser elsewhere: ``return sa.Redirect("/fr/")``.

    ``url`` is a path of this app (``server.baseUrlPath`` is added) or, with
    ``external=True``, an absolute ``http(s)`` URL of another origin. The target obeys
    the same open-redirect rules as ``sa.redirect``: a refused one is the middleware's
    bug (a 500 for endpoints, the error view for pages), never a redirect.
    """

    url: str
    external: bool = False


class RedirectRequested(Exception):
    """``sa.redirect(url)`` called inside a middleware: the same as returning
    ``sa.Redirect(url)`` (so ``return sa.redirect(...)`` and a bare call both work)."""

    def __init__(self, redirect: Redirect):
        super().__init__(redirect.url)
        self.redirect = redirect


_RUNNING: contextvars.ContextVar[bool] = contextvars.ContextVar("stauth_in_middleware", default=False)


def in_middleware() -> bool:
    """Whether the calling code runs inside a middleware (``sa.redirect`` asks)."""
    return _RUNNING.get()


def _call(func: Any, request: Any) -> Any:
    token = _RUNNING.set(True)
    try:
        return func(request)
    finally:
        _RUNNING.reset(token)


Outcome = Union[Redirect, None]
Middleware = Callable[[Request], Union[Outcome, Awaitable[Outcome]]]


class MiddlewareFailed(Exception):
    """A middleware raised something other than ``sa.HTTPError`` or returned something
    other than None or ``sa.Redirect``; the cause is logged, never shown to the user."""


class MiddlewareChain:
    """The middlewares declared at start-up, in declaration order."""

    def __init__(self) -> None:
        self._items: list[tuple[Middleware, bool]] = []

    def add(self, func: Middleware) -> Middleware:
        if not callable(func):
            raise RouteError(f"@sa.middleware needs a function, got {type(func).__name__}")
        self._items.append((func, inspect.iscoroutinefunction(func)))
        return func

    def __bool__(self) -> bool:
        return bool(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[tuple[Middleware, bool]]:
        return iter(self._items)

    def clear(self) -> None:
        """Forget every middleware (tests only)."""
        self._items.clear()


CHAIN = MiddlewareChain()


def middleware(func: Middleware) -> Middleware:
    """Run ``func(request)`` before every page run and every ``@sa.route`` call.

    Declare it in a module loaded at start-up (``--routes``). Return None to go on or
    ``sa.Redirect(url)`` to redirect; raise ``sa.Forbidden`` (403) or ``sa.HTTPError`` to
    refuse; store what the handler should see in ``request.state``. Sync or async.
    Declared while the app runs (from a page script), it raises ``sa.RouteError``.
    """
    from .routes import REGISTRY

    REGISTRY._check_open("@sa.middleware")  # sealed once the server has started
    return CHAIN.add(func)


def _label(func: Any) -> str:
    return getattr(func, "__qualname__", repr(func))


def _checked(func: Any, result: Any) -> Outcome:
    if result is None or isinstance(result, Redirect):
        return result
    LOGGER.error("middleware %s returned %s; return None or sa.Redirect(url)", _label(func), type(result).__name__)
    raise MiddlewareFailed(f"middleware {_label(func)} returned {type(result).__name__}")


def _failed(func: Any, exc: Exception) -> MiddlewareFailed:
    LOGGER.error("middleware %s failed", _label(func), exc_info=exc)
    return MiddlewareFailed(f"middleware {_label(func)} failed")


async def run_async(request: Request, chain: MiddlewareChain = CHAIN) -> Outcome:
    """Run the chain for an endpoint call, on the event loop: async middlewares are
    awaited, sync ones run in the default thread pool (as sync route handlers do).

    Returns the first non-None outcome. ``sa.HTTPError`` (``sa.Forbidden``) propagates;
    anything else a middleware raises or returns is logged and raised as ``MiddlewareFailed``.
    """
    for func, is_async in chain:
        try:
            if is_async:
                result = await _awaited_in_middleware(func, request)
            else:
                result = await asyncio.get_running_loop().run_in_executor(
                    None, contextvars.copy_context().run, _call, func, request)
                if inspect.isawaitable(result):
                    result = await result
        except HTTPError:
            raise
        except RedirectRequested as requested:
            return requested.redirect
        except Exception as exc:  # noqa: BLE001 - every failure is answered by the caller
            raise _failed(func, exc) from None
        outcome = _checked(func, result)
        if outcome is not None:
            return outcome
    return None


def run_sync(request: Request, chain: MiddlewareChain = CHAIN) -> Outcome:
    """Run the chain on the calling thread (a page's script thread, which has no event
    loop): async middlewares run to completion in a loop of their own. Same outcomes and
    errors as ``run_async``."""
    for func, _ in chain:
        try:
            result = _call(func, request)
            if inspect.isawaitable(result):
                result = asyncio.run(_awaited_in_middleware(lambda _: result, request))
        except HTTPError:
            raise
        except RedirectRequested as requested:
            return requested.redirect
        except Exception as exc:  # noqa: BLE001 - every failure is answered by the caller
            raise _failed(func, exc) from None
        outcome = _checked(func, result)
        if outcome is not None:
            return outcome
    return None


async def _awaited_in_middleware(func: Any, request: Any) -> Any:
    """``await func(request)`` with ``in_middleware()`` true while it runs."""
    token = _RUNNING.set(True)
    try:
        return await func(request)
    finally:
        _RUNNING.reset(token)


async def route_refusal(request: Request, base_path: str, chain: MiddlewareChain = CHAIN) -> RenderedResponse | None:
    """What the chain answers instead of a route's handler, or None to go on.

    A redirect is a 302 (303 after an unsafe method) to a target checked by the same
    open-redirect rules as ``sa.redirect`` (an absolute URL needs ``external=True``);
    ``sa.HTTPError`` is ``{"error": message}`` with its status; any other failure, or a
    refused target, is a generic 500 whose cause goes to the server log only.
    """
    if not chain:
        return None
    try:
        outcome = await run_async(request, chain)
    except HTTPError as refused:
        return error_response(refused.status, refused.message or _phrase(refused.status), refused.headers)
    except MiddlewareFailed:
        return error_response(500, "Internal Server Error")
    if outcome is None:
        return None
    try:
        location = resolve(outcome.url, base_path=base_path, external=outcome.external, app_origin=None)
    except RedirectError as exc:
        LOGGER.error("a middleware redirected %s %s to a refused target: %s", request.method, request.path, exc)
        return error_response(500, "Internal Server Error")
    return RenderedResponse(302 if request.method in ("GET", "HEAD") else 303, [("Location", location)])


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
