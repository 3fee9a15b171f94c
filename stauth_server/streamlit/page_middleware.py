"""``@sa.middleware`` before a page's script runs (called by ``patches/page_access.py``).

A page run has no HTTP request of its own: the middleware sees a ``sa.Request`` built
from the page's websocket handshake (``st.context``): method ``GET``, ``path`` the page's
URL path under ``server.baseUrlPath``, the page's query parameters, the handshake's
headers and cookies, the client address and the session's user. It runs on the script
thread, before the page's script, on every run of a page (first load, page switch,
rerun), exactly where page rules are checked.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from types import MappingProxyType

import streamlit as st

from ..core.errors import HTTPError, RedirectError
from ..web.http import MultiMapping, Request
from ..web.middleware import CHAIN, MiddlewareFailed, run_sync
from . import internals
from .app_paths import app_path

LOGGER = logging.getLogger("stauth_server.middleware")

#: Streamlit reports a loopback client as no address at all (``st.context.ip_address``).
LOOPBACK = "127.0.0.1"


def active() -> bool:
    """Whether any middleware is declared."""
    return bool(CHAIN)


class PageRequest(Request):
    """The request view of a page run. Headers, cookies and query parameters are read
    from ``st.context`` / ``st.query_params`` on first use (on the script thread, where
    the middlewares run), so a middleware pays only for what it reads."""

    @property
    def headers(self) -> MultiMapping:
        if self._headers is None:
            handshake = st.context.headers
            self._headers = MultiMapping([(name, value) for name in handshake for value in handshake.get_all(name)],
                                         case_insensitive=True)
        return self._headers

    @property
    def cookies(self) -> Mapping[str, str]:
        if self._cookies is None:
            self._cookies = MappingProxyType(st.context.cookies.to_dict())
        return self._cookies

    @property
    def query(self) -> MultiMapping:
        if self._query is None:
            self._query = MultiMapping([(k, v) for k in st.query_params for v in st.query_params.get_all(k)])
        return self._query


def page_request(url_path: str) -> Request:
    """The request view of a run of the page at ``url_path`` (``""`` for the default page)."""
    from .script_api import current_user

    request = PageRequest.__new__(PageRequest)
    request.method = "GET"
    request.path = app_path("/" + url_path.strip("/"))
    request.path_params = MappingProxyType({})
    request.body = b""
    request.client_ip = st.context.ip_address or LOOPBACK
    request.user = current_user()
    request._query_string = ""
    request._header_items = ()
    request._query = request._headers = request._cookies = None
    return request


def run_for_page(url_path: str) -> None:
    """Run the middlewares for a page run and act on the outcome; returns to go on.

    ``sa.Redirect`` navigates the browser (as ``sa.redirect`` does), ``sa.Forbidden`` shows
    the 403 view page rules show, another ``sa.HTTPError`` a view with its status and
    message, and any other failure the generic error view; each stops the script.
    """
    from .script_api import forbidden_view, redirect

    try:
        outcome = run_sync(page_request(url_path))
        if outcome is None:
            return
        try:
            redirect(outcome.url, external=outcome.external)  # stops the script
        except RedirectError as exc:
            LOGGER.error("a middleware redirected page /%s to a refused target: %s", url_path, exc)
            raise MiddlewareFailed("refused redirect target") from None
    except HTTPError as refused:
        if refused.status == 403:
            forbidden_view(refused.message or "You do not have access to this page.")
        else:
            st.error(f"**{refused.status}.** {refused.message or 'This page cannot be shown.'}",
                     icon=":material/block:")
    except MiddlewareFailed:
        error_view()
    internals.stop_script()


def error_view() -> None:
    """What a user sees when a middleware fails: no detail (the cause is in the server log)."""
    st.error("**Something went wrong.** This page could not be shown. Try again later.",
             icon=":material/error:")
