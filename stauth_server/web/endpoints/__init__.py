"""Every endpoint as a plain ``async (HttpRequest, WebContext) -> HttpResponse`` function.

``signin``: login (GET page or provider, POST password), callback, logout, userinfo.
``delivery``: cookie delivery and the redirect hand-off. ``routes``: ``@sa.route`` dispatch.
An adapter calls ``serve(endpoint, request, ctx)``: errors the endpoint raises are
rendered by ``web.errors.render_error``, and the endpoint's default headers added.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from ..context import WebContext
from ..errors import ENDPOINT_ERRORS, render_error
from ..exchange import HttpRequest, HttpResponse

Endpoint = Callable[[HttpRequest, WebContext], Awaitable[HttpResponse]]
HeaderRule = Callable[[WebContext], Mapping[str, str]]


def default_headers(rule: HeaderRule) -> Callable[[Endpoint], Endpoint]:
    """Headers every answer of the endpoint carries (unless it sets them), errors included."""

    def mark(endpoint: Endpoint) -> Endpoint:
        endpoint.stauth_default_headers = rule  # type: ignore[attr-defined]
        return endpoint

    return mark


_NO_HEADERS: Mapping[str, str] = {}


def headers_of(endpoint: Endpoint, ctx: WebContext) -> Mapping[str, str]:
    rule: HeaderRule | None = getattr(endpoint, "stauth_default_headers", None)
    return rule(ctx) if rule else _NO_HEADERS


async def serve(endpoint: Endpoint, request: HttpRequest, ctx: WebContext) -> HttpResponse:
    """Run ``endpoint``; an error it raises becomes the one error answer."""
    try:
        response = await endpoint(request, ctx)
    except ENDPOINT_ERRORS as exc:
        response = render_error(request, ctx, exc)
    defaults = headers_of(endpoint, ctx)
    if defaults:
        for name, value in defaults.items():
            if response.header(name) is None:
                response.set_header(name, value)
    return response


__all__ = ["Endpoint", "default_headers", "headers_of", "serve"]
