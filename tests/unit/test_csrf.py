"""Whether an unsafe request carries ambient credentials, and whether it comes from the app's own origin."""

from __future__ import annotations

import pytest

from stauth_server.web.csrf import UNSAFE_METHODS, carries_ambient_credentials, same_origin_verdict


def verdict(origin=None, sec_fetch_site=None, scheme="http", host="app.example:8501"):
    return same_origin_verdict(origin, sec_fetch_site, scheme, host)


def test_matching_origin_is_same_origin():
    assert verdict("http://app.example:8501") is True


def test_origin_comparison_ignores_case():
    assert verdict("HTTP://App.Example:8501", host="APP.example:8501") is True


@pytest.mark.parametrize(
    "origin, scheme, host",
    [
        ("http://h", "http", "h:80"),
        ("http://h:80", "http", "h"),
        ("https://h", "https", "h:443"),
        ("https://h:443", "https", "h"),
        ("http://[::1]", "http", "[::1]:80"),
        ("http://[::1]:8501", "http", "[::1]:8501"),
    ],
)
def test_default_ports_are_equivalent(origin, scheme, host):
    assert verdict(origin, scheme=scheme, host=host) is True


@pytest.mark.parametrize(
    "origin",
    [
        "https://app.example:8501",
        "http://evil.example:8501",
        "http://app.example:8502",
        "http://app.example",
        "http://sub.app.example:8501",
        "http://user@app.example:8501",
        "null",
        "NULL",
        "app.example:8501",
        "http://[::1",
    ],
)
def test_mismatched_or_opaque_origin_is_cross_site(origin):
    assert verdict(origin) is False


def test_empty_origin_header_counts_as_absent():
    assert verdict("") is None


def test_https_default_port_is_not_http_default_port():
    assert verdict("https://h", scheme="http", host="h:443") is False


@pytest.mark.parametrize("site", ["cross-site", "same-site", "none", "CROSS-SITE"])
def test_sec_fetch_site_other_than_same_origin_is_cross_site(site):
    assert verdict(sec_fetch_site=site) is False


def test_sec_fetch_site_cross_site_wins_over_a_matching_origin():
    assert verdict("http://app.example:8501", "cross-site") is False


def test_sec_fetch_site_same_origin_alone_is_same_origin():
    assert verdict(sec_fetch_site="same-origin") is True
    assert verdict(sec_fetch_site=" Same-Origin ") is True


def test_browsers_same_origin_verdict_holds_behind_a_tls_terminating_proxy():
    # The browser is on https://app.example; the proxy speaks plain http to the server.
    # Sec-Fetch-Site is computed by the browser and cannot be set by a page's script.
    assert verdict("https://app.example", "same-origin", scheme="http", host="app.example") is True


def test_no_origin_and_no_sec_fetch_site_is_undecided():
    assert verdict() is None


def test_unsafe_methods_are_the_state_changing_ones():
    assert UNSAFE_METHODS == {"POST", "PUT", "PATCH", "DELETE"}


# --- ambient credentials ---------------------------------------------------------------

PROXY_HEADERS = ("X-Forwarded-User", "X-Forwarded-Email", "X-Forwarded-Groups")


def test_a_cookie_is_an_ambient_credential():
    assert carries_ambient_credentials({"Cookie": "session=abc"}) is True


def test_a_request_without_credentials_is_not_ambient():
    assert carries_ambient_credentials({"Origin": "https://evil.example", "Cookie": " "}, PROXY_HEADERS) is False


@pytest.mark.parametrize("name", PROXY_HEADERS)
def test_any_trusted_proxy_identity_header_is_an_ambient_credential(name):
    assert carries_ambient_credentials({name: "u-42"}, PROXY_HEADERS) is True


def test_identity_headers_count_only_when_a_proxy_is_configured():
    assert carries_ambient_credentials({"X-Forwarded-User": "u-42"}) is False


def test_an_empty_identity_header_is_not_a_credential():
    assert carries_ambient_credentials({"X-Forwarded-User": "  "}, PROXY_HEADERS) is False


@pytest.mark.parametrize("value", ["Basic YWxpY2U6c2VjcmV0", "basic YQ==", "Digest username=\"a\"",
                                   "Negotiate YIIB", "NTLM TlRMTVNT"])
def test_authorization_schemes_browsers_replay_are_ambient(value):
    assert carries_ambient_credentials({"Authorization": value}) is True


@pytest.mark.parametrize("value", ["Bearer eyJhbGciOi", "Token abc", "", "Basicx YQ=="])
def test_authorization_a_script_must_set_is_not_ambient(value):
    assert carries_ambient_credentials({"Authorization": value}) is False


# --- the XSRF cookie the login page mints follows server.xsrfCookieSameSite (1.59+) ---------


@pytest.mark.parametrize("samesite, attributes", [
    (None, "; Path=/"),
    ("lax", "; Path=/; SameSite=Lax"),
    ("strict", "; Path=/; SameSite=Strict"),
    ("none", "; Path=/; SameSite=None; Secure"),
])
def test_a_minted_xsrf_cookie_carries_the_hosts_samesite(samesite, attributes):
    from stauth_server.web.xsrf import form_token

    token = form_token({}, "_streamlit_xsrf", samesite)
    assert token.set_cookie == f"_streamlit_xsrf={token.value}{attributes}"
    assert form_token({"_streamlit_xsrf": token.value}, "_streamlit_xsrf", samesite).set_cookie is None
