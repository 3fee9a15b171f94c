"""Redirect targets: same-app paths go under the base path; open-redirect forms are refused."""

from __future__ import annotations

import pytest

from stauth_server.core.errors import RedirectError
from stauth_server.web.pending import SWEEP_INTERVAL_SECONDS
from stauth_server.web.redirects import PendingRedirects, join_base, resolve

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


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_expired_pending_redirect_is_none():
    clock = Clock()
    pending = PendingRedirects(clock)
    token = pending.add("s", "/x")
    clock.now += PendingRedirects.TTL_SECONDS + 1
    assert pending.take(token) is None
    assert pending.pending_count() == 0


def test_a_session_keeps_only_its_latest_redirects():
    pending = PendingRedirects(per_session=2)
    first, second, third = (pending.add("s", path) for path in ("/a", "/b", "/c"))
    assert pending.take(first) is None
    assert pending.take(second) == ("s", "/b")
    assert pending.take(third) == ("s", "/c")


def test_a_full_store_evicts_another_anonymous_sessions_oldest_redirect_instead_of_refusing():
    pending = PendingRedirects(total=2)
    oldest = pending.add("flood-1", "/a")
    kept = pending.add("flood-2", "/b")
    mine = pending.add("victim", "/mine", signed_in=True)
    assert pending.take(mine) == ("victim", "/mine")
    assert pending.take(oldest) is None
    assert pending.take(kept) == ("flood-2", "/b")


def test_signed_in_redirects_are_evicted_only_when_no_anonymous_one_is_left():
    pending = PendingRedirects(total=2)
    signed_in = pending.add("alice", "/a", signed_in=True)
    anonymous = pending.add("visitor", "/b")
    pending.add("bob", "/c", signed_in=True)
    assert pending.take(anonymous) is None
    assert pending.take(signed_in) == ("alice", "/a")


def test_flood_of_anonymous_redirects_never_refuses_another_user_and_stays_bounded():
    pending = PendingRedirects()
    for i in range(10_000):
        pending.add(f"anon-{i % 1_000}", f"/flood/{i}")
        assert pending.pending_count() <= PendingRedirects.MAX_PENDING
    assert pending.pending_count() <= 1_000 * PendingRedirects.MAX_PER_SESSION
    token = pending.add("victim", "/billing", signed_in=True)
    assert pending.take(token) == ("victim", "/billing")


def test_redirects_of_an_ended_session_are_dropped():
    pending = PendingRedirects()
    gone = pending.add("gone", "/a")
    alive = pending.add("alive", "/b")
    pending.forget_sessions(lambda session_id: session_id == "alive")
    assert pending.take(gone) is None
    assert pending.take(alive) == ("alive", "/b")
    assert pending.pending_count() == 0


def test_forget_sessions_asks_streamlit_at_most_every_sweep_interval():
    clock = Clock()
    pending = PendingRedirects(clock)
    pending.add("s", "/a")
    asked: list[str] = []

    def is_alive(session_id: str) -> bool:
        asked.append(session_id)
        return True

    pending.forget_sessions(is_alive)
    pending.forget_sessions(is_alive)
    clock.now += SWEEP_INTERVAL_SECONDS
    pending.forget_sessions(is_alive)
    assert asked == ["s", "s"]
