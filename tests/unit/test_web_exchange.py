"""The framework-neutral web pieces: XSRF tokens, the one error renderer, the same-origin
helper, and endpoints called directly with a plain ``HttpRequest`` (no server)."""

from __future__ import annotations

import asyncio
import json

import pytest

from stauth_server.core.login_branding import LoginBranding
from stauth_server.core.errors import HTTPError
from stauth_server.core.oidc.errors import SignInError
from stauth_server.core.store import StoreUnavailable
from stauth_server.web.context import WebContext
from stauth_server.web.csrf import own_origin, refuse_cross_site
from stauth_server.web.endpoints import serve
from stauth_server.web.endpoints.delivery import deliver_cookies, redirect_handoff
from stauth_server.web.errors import STORE_DOWN, render_error, with_retry
from stauth_server.web.exchange import Arguments, HttpRequest
from stauth_server.web.http import MultiMapping
from stauth_server.web.xsrf import decode_xsrf, encode_xsrf, form_token, has_valid_xsrf_token, tokens_match

COOKIE = "_streamlit_xsrf"
TOKEN = bytes(range(16))
CTX = WebContext(base_path="/base", xsrf_cookie_name=COOKIE)


def request(method="GET", path="/x", headers=(), cookies=None, form=None, query=None, scheme="http",
            host="app:8501", **params):
    return HttpRequest(method=method, path=path, headers=MultiMapping(list(headers), case_insensitive=True),
                       cookies=cookies or {}, form=Arguments(form), query=Arguments(query), scheme=scheme, host=host,
                       path_params=params)


# --- XSRF ----------------------------------------------------------------------------------

def test_a_v2_token_round_trips_under_any_mask():
    value = encode_xsrf(TOKEN, 1700000000)
    assert decode_xsrf(value) == (2, TOKEN, 1700000000)
    assert value != encode_xsrf(TOKEN, 1700000000)  # a fresh mask each time
    assert tokens_match(encode_xsrf(TOKEN, 1), value)


def test_tornado_wrote_the_same_format():
    assert decode_xsrf("2|01020304|" + bytes(b ^ m for b, m in zip(b"abcd", b"\x01\x02\x03\x04")).hex() + "|5") == (
        2, b"abcd", 5)


def test_a_v1_hex_or_raw_cookie_is_read():
    assert decode_xsrf(TOKEN.hex())[1] == TOKEN
    assert decode_xsrf("not-hex")[1] == b"not-hex"


@pytest.mark.parametrize("hostile", [
    None, "", "2|", "2|zz|00|1", "2|0102|00|1", "2|01020304|0g|1", "2|01020304|00|x", "2|01020304|00|1|extra",
    "3|a|b|c", "2|ｆｆ|00|1", "2|01020304|00|\x00", "\udcff",
])
def test_hostile_values_decode_to_nothing_and_never_match(hostile):
    if hostile is not None and hostile.startswith(("2|", "3|")):
        assert decode_xsrf(hostile) is None
    cookie = encode_xsrf(TOKEN, 1)
    assert not tokens_match(hostile, cookie)
    assert not tokens_match(cookie, hostile) or decode_xsrf(hostile)[1] == TOKEN


def test_an_empty_token_never_matches():
    empty = encode_xsrf(b"", 1)
    assert not tokens_match(empty, empty)


def test_the_token_comes_from_the_form_or_the_headers():
    cookie = encode_xsrf(TOKEN, 1)
    form = request("POST", cookies={COOKIE: cookie}, form={"_xsrf": [encode_xsrf(TOKEN, 1).encode()]})
    header = request("PUT", cookies={COOKIE: cookie}, headers=[("X-Xsrftoken", encode_xsrf(TOKEN, 2))])
    assert has_valid_xsrf_token(form, COOKIE) and has_valid_xsrf_token(header, COOKIE)
    assert not has_valid_xsrf_token(request("POST", form={"_xsrf": [cookie.encode()]}), COOKIE)  # no cookie
    # on a GET, a query ``_xsrf`` alone is not an offer
    assert not has_valid_xsrf_token(request("GET", cookies={COOKIE: cookie}, query={"_xsrf": [cookie.encode()]}),
                                    COOKIE)


def test_a_form_token_reuses_the_cookie_or_sets_a_new_one():
    cookie = encode_xsrf(TOKEN, 7)
    kept = form_token({COOKIE: cookie}, COOKIE)
    assert kept.set_cookie is None and decode_xsrf(kept.value) == (2, TOKEN, 7)
    assert 'name="_xsrf"' in kept.form_html()
    for cookies in ({}, {COOKIE: "2|bad"}):
        fresh = form_token(cookies, COOKIE)
        assert fresh.set_cookie == f"{COOKIE}={fresh.value}; Path=/"
        assert len(decode_xsrf(fresh.value)[1]) == 16


# --- one error path ------------------------------------------------------------------------

def test_store_down_is_a_page_for_browsers_and_json_for_api_clients():
    browser = render_error(request(headers=[("Accept", "text/html")]), CTX, with_retry(StoreUnavailable("x"), "/r"))
    api = render_error(request(headers=[("Accept", "application/json")]), CTX, StoreUnavailable("x"))
    assert browser.status == api.status == 503
    assert browser.header("Retry-After") == api.header("Retry-After") == "5"
    assert browser.header("Content-Type").startswith("text/html") and STORE_DOWN.encode() in browser.body
    assert b'href="/r"' in browser.body
    assert api.header("Content-Type").startswith("application/json") and "error" in json.loads(api.body)


def test_http_errors_are_json_and_sign_in_errors_a_page_keeping_headers():
    refused = render_error(request(), CTX, HTTPError(403, "Cross-site request refused"))
    assert refused.status == 403 and json.loads(refused.body) == {"error": "Cross-site request refused"}
    page = render_error(request(), CTX, with_retry(SignInError("d", "Nope <b>"), None, [("Set-Cookie", "a=; Max-Age=0")]))
    assert page.status == 400 and b"Nope &lt;b&gt;" in page.body and page.header("Set-Cookie") == "a=; Max-Age=0"
    with pytest.raises(TypeError):
        render_error(request(), CTX, ValueError("a bug"))


# --- one same-origin helper ----------------------------------------------------------------

def test_same_origin_helper():
    refuse_cross_site(request(headers=[("Sec-Fetch-Site", "same-origin")]))
    with pytest.raises(HTTPError) as refused:
        refuse_cross_site(request(headers=[("Origin", "http://evil")]))
    assert refused.value.status == 403
    with pytest.raises(HTTPError):  # no browser verdict and no token route allowed
        refuse_cross_site(request())
    cookie = encode_xsrf(TOKEN, 1)
    vouched = request(cookies={COOKIE: cookie}, headers=[("X-Xsrftoken", cookie), ("Sec-Fetch-Site", "cross-site")])
    refuse_cross_site(vouched, xsrf_cookie=COOKIE, token_overrides=True)
    with pytest.raises(HTTPError):
        refuse_cross_site(vouched, xsrf_cookie=COOKIE)


def test_websocket_origin():
    assert own_origin(None, "http", "h:1") is None
    assert own_origin("HTTP://H:1/", "http", "h:1") is True
    assert own_origin("http://h:2", "http", "h:1") is False
    assert own_origin("https://app.example", "http", "h:1", "https://app.example/oauth2callback") is True


# --- endpoints called directly -------------------------------------------------------------

def test_an_unknown_redirect_token_is_a_json_404_not_cached():
    response = asyncio.run(serve(redirect_handoff, request(token="nope"), CTX))
    assert response.status == 404 and response.header("Cache-Control") == "no-store"
    assert "error" in json.loads(response.body)


def test_cookie_delivery_refuses_a_cross_site_post():
    response = asyncio.run(serve(deliver_cookies, request("POST", headers=[("Sec-Fetch-Site", "cross-site")],
                                                          token="t"), CTX))
    assert response.status == 403 and response.header("Cache-Control") == "no-store"


def test_context_paths():
    assert CTX.app_path("/auth/login") == "/base/auth/login" and CTX.cookie_path == "/base"
    assert CTX.strip_base("/base/x") == "/x" and CTX.strip_base("/basex") == "/basex"
    assert WebContext().cookie_path == "/"


class _FakeService:
    providers: dict = {}
    firebase: dict = {}
    saml: dict = {}
    password_sources = ["local"]
    login_template = None
    links = None  # no invitation or reset links
    users = None

    class config:
        frame_ancestors = ("'self'",)
        password_source_chooser = False
        login_branding = LoginBranding()
        redirect_uri = None


def test_the_login_page_endpoint_sets_an_xsrf_cookie_when_the_browser_has_none():
    from stauth_server.web.endpoints.signin import login

    ctx = WebContext(base_path="/base", xsrf_cookie_name=COOKIE, service=_FakeService())
    response = asyncio.run(serve(login, request(query={"next": [b"/reports"]}), ctx))
    assert response.status == 200 and response.header("X-Frame-Options") == "DENY"
    (set_cookie,) = [v for k, v in response.headers if k == "Set-Cookie"]
    value = set_cookie.split(";")[0].split("=", 1)[1]
    assert f'value="{value}"'.encode() in response.body  # the new cookie's token, as Tornado embeds it...
    assert b'name="_xsrf"' in response.body and b'action="/base/auth/login"' in response.body
    cookie = encode_xsrf(TOKEN, 1)
    again = asyncio.run(serve(login, request(cookies={COOKIE: cookie}), ctx))
    assert not [v for k, v in again.headers if k == "Set-Cookie"]  # ...and kept when present
    bad = asyncio.run(serve(login, request("PUT"), ctx))
    assert bad.status == 405 and bad.header("Cache-Control") == "no-store"
