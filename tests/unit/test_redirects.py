"""Redirect targets: same-app paths go under the base path; open-redirect forms are refused."""

from __future__ import annotations

import pytest

from stauth_server.errors import RedirectError
from stauth_server.redirects import PendingRedirects, join_base, resolve

ORIGIN = "http://localhost:8501"


def same_app(target: str, base: str = "") -> str:
    return resolve(target, base_path=base, external=False, app_origin=ORIGIN)


@pytest.mark.parametrize(
    "base, target, expected",
    [
        ("app", "/billing", "/app/billing"),
        ("/app/", "/billing", "/app/billing"),
        ("a/b", "/billing", "/a/b/billing"),
        ("", "/billing", "/billing"),
        ("", "/", "/"),
        ("app", "/", "/app/"),
    ],
)
def test_same_app_path_goes_under_the_base_path(base, target, expected):
    assert same_app(target, base) == expected


def test_query_and_fragment_are_kept():
    assert same_app("/billing?plan=pro&x=1#top", "app") == "/app/billing?plan=pro&x=1#top"


def test_join_base_adds_a_slash_to_a_relative_path():
    assert join_base("app", "x") == "/app/x"


@pytest.mark.parametrize(
    "target",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "//evil.example",
        "//evil.example/path",
        "/\\evil.example",
        "\\\\evil.example",
        "\\/evil.example",
        "/\thost",
        "/\t/evil.example",
        "/x\r\nLocation: http://evil.example",
        "/x\nevil",
        "/x\x00",
        "/x\x7f",
        " /billing",
        "  http://localhost:8501/",
        "/billing ",
        "/\u2028/evil.example",
        "http://evil.example",
        "https://evil.example/x",
        "evil.com",
        "evil.com/path",
        "billing",
        "ftp://localhost:8501/x",
        "",
    ],
)
def test_open_redirect_forms_are_refused(target):
    with pytest.raises(RedirectError):
        same_app(target, "app")


@pytest.mark.parametrize("target", [None, 3, b"/billing"])
def test_non_string_targets_are_refused(target):
    with pytest.raises(RedirectError):
        same_app(target)


def test_another_origin_is_refused_without_external_and_says_how_to_allow_it():
    with pytest.raises(RedirectError, match="external=True"):
        same_app("http://evil.example")


def test_external_allows_an_https_url_unchanged():
    url = "https://pay.example.com/x?amount=5#pay"
    assert resolve(url, base_path="app", external=True, app_origin=ORIGIN) == url


def test_external_allows_plain_http():
    assert resolve("http://pay.example.com/", base_path="", external=True, app_origin=None) == "http://pay.example.com/"


@pytest.mark.parametrize(
    "target",
    [
        "javascript:alert(1)",
        "data:text/html,x",
        "vbscript:msgbox(1)",
        "https://user@pay.example.com/x",
        "https://user:pw@pay.example.com/x",
        "https://pay.example.com@evil.example/",
        "https://",
        "https:///x",
        "https:pay.example.com",
        "https://pay.example.com/\\@evil",
        "https://pay.example.com/ x",
        "//pay.example.com/x",
        "pay.example.com",
        "https://[::1/",
    ],
)
def test_external_still_refuses_dangerous_urls(target):
    with pytest.raises(RedirectError):
        resolve(target, base_path="", external=True, app_origin=None)


def test_credentials_are_named_in_the_refusal():
    with pytest.raises(RedirectError, match="credentials"):
        resolve("https://user@pay.example.com/", base_path="", external=True, app_origin=None)


def test_same_origin_absolute_url_is_allowed_without_external():
    url = "http://localhost:8501/app/billing?x=1"
    assert resolve(url, base_path="app", external=False, app_origin=ORIGIN) == url


def test_same_origin_comparison_ignores_case():
    url = "HTTP://LocalHost:8501/x"
    assert resolve(url, base_path="", external=False, app_origin=ORIGIN).lower() == url.lower()


@pytest.mark.parametrize(
    "url",
    ["https://localhost:8501/x", "http://localhost:8502/x", "http://localhost/x", "http://127.0.0.1:8501/x"],
)
def test_other_scheme_host_or_port_is_not_same_origin(url):
    with pytest.raises(RedirectError):
        resolve(url, base_path="", external=False, app_origin=ORIGIN)


def test_absolute_url_is_refused_when_the_app_origin_is_unknown():
    with pytest.raises(RedirectError):
        resolve("http://localhost:8501/x", base_path="", external=False, app_origin=None)


def test_pending_redirect_is_taken_once():
    pending = PendingRedirects()
    token = pending.add("session-1", "/app/x")
    assert pending.take(token) == ("session-1", "/app/x")
    assert pending.take(token) is None


def test_unknown_pending_redirect_token_is_none():
    assert PendingRedirects().take("nope") is None


def test_pending_redirect_tokens_are_distinct_and_unguessable_length():
    pending = PendingRedirects()
    tokens = {pending.add("s", "/x") for _ in range(20)}
    assert len(tokens) == 20
    assert all(len(token) >= 32 for token in tokens)


def test_expired_pending_redirect_is_none(monkeypatch):
    pending = PendingRedirects()
    token = pending.add("s", "/x")
    monkeypatch.setattr(PendingRedirects, "TTL_SECONDS", -1.0)
    assert pending.take(token) is None


def test_too_many_pending_redirects_are_refused(monkeypatch):
    monkeypatch.setattr(PendingRedirects, "MAX_PENDING", 2)
    pending = PendingRedirects()
    pending.add("s", "/a")
    pending.add("s", "/b")
    with pytest.raises(RedirectError, match="too many"):
        pending.add("s", "/c")
