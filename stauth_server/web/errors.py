"""The one error path: endpoints raise, ``render_error`` answers.

- ``HTTPError`` (a refusal, a bad argument): ``{"error": message}`` as JSON, its status;
- ``SignInError``: the sign-in problem page (a browser is mid-way through signing in);
- ``StoreUnavailable``: 503 with ``Retry-After``, a page for browsers (``Accept:
  text/html``), JSON for API clients; nothing is cleared.

``raise with_retry(exc, path, headers)`` names where the page's "Try again" button goes,
and headers the answer keeps whatever it is (cookies cleared before the failure).
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import TypeVar

from ..core.errors import HTTPError
from ..core.oidc.errors import SignInError
from ..core.store import StoreUnavailable
from .context import WebContext
from .exchange import HttpRequest, HttpResponse
from .http import error_response
from .pages import error_page

LOGGER = logging.getLogger("stauth_server.auth")
E = TypeVar("E", bound=BaseException)
STORE_DOWN = "Sign-in is unavailable right now (the session store cannot be reached). Try again shortly."
STORE_DOWN_JSON = "Session store unavailable; try again shortly"
#: What ``render_error`` handles; anything else is a bug and the adapter's 500.
ENDPOINT_ERRORS = (HTTPError, SignInError, StoreUnavailable)


def with_retry(error: E, retry_path: str | None, headers: list[tuple[str, str]] | None = None) -> E:
    """``error``, with the path its page's "Try again" button leads to and headers to keep."""
    error.stauth_retry = retry_path  # type: ignore[attr-defined]
    error.stauth_headers = list(headers or ())  # type: ignore[attr-defined]
    return error


def reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def render_error(request: HttpRequest, ctx: WebContext, error: BaseException) -> HttpResponse:
    """The response for an error an endpoint raised (see the module's docstring)."""
    response = _render(request, ctx, error)
    for name, value in getattr(error, "stauth_headers", ()):
        response.add_header(name, value)
    return response


def _render(request: HttpRequest, ctx: WebContext, error: BaseException) -> HttpResponse:
    retry: str | None = getattr(error, "stauth_retry", None)
    if isinstance(error, StoreUnavailable):
        LOGGER.warning("session store unavailable: %s", error)
        if not request.accepts_html():
            return HttpResponse.of(error_response(503, STORE_DOWN_JSON, {"Retry-After": "5"}))
        return error_page_response(ctx, 503, STORE_DOWN, retry).set_header("Retry-After", "5")
    if isinstance(error, SignInError):
        LOGGER.warning("sign-in failed: %s", error)
        return error_page_response(ctx, error.status, error.user_message, retry)
    if isinstance(error, HTTPError):
        return HttpResponse.of(error_response(error.status, error.message or reason(error.status), error.headers))
    raise TypeError(f"render_error cannot render {type(error).__name__}") from error


def error_page_response(ctx: WebContext, status: int, message: str, retry: str | None = None) -> HttpResponse:
    return HttpResponse.html(error_page(message, ctx.app_path("/"), retry), status)


__all__ = ["ENDPOINT_ERRORS", "STORE_DOWN", "render_error", "with_retry", "reason"]
