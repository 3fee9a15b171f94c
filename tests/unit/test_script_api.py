"""``sa.cookies`` and ``sa.redirect`` in a script: bounded waiting writes, and who they belong to."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from stauth_server.streamlit import script_api
from stauth_server.streamlit import internals
from stauth_server.web.cookie_outbox import CookieOutbox
from stauth_server.web.cookie_rules import build_write
from stauth_server.core.identity import ANONYMOUS, User
from stauth_server.web.redirects import PendingRedirects

ALICE = User(id="local:alice", email="alice@example.org")


class SentCookies(dict):
    """``st.context.cookies``: what the browser sent (nothing here)."""

    def to_dict(self) -> dict[str, str]:
        return dict(self)


class FakeStreamlit:
    """The few ``st`` names the script API uses, outside a real script run."""

    def __init__(self) -> None:
        self.context = SimpleNamespace(cookies=SentCookies(), headers={}, url="http://127.0.0.1:8501/")
        self.rendered: list[str] = []

    def html(self, body: str, **_: object) -> None:
        self.rendered.append(body)


@pytest.fixture
def script(monkeypatch):
    """Run the script API as session ``s1``, with fresh stores and a controllable user."""
    ctx = SimpleNamespace(session_id="s1", cursors={})
    state = SimpleNamespace(
        ctx=ctx,
        st=FakeStreamlit(),
        outbox=CookieOutbox(total=3),
        redirects=PendingRedirects(total=2),
        user=ANONYMOUS,
        active={"s1"},
        navigated=[],
    )
    monkeypatch.setattr(script_api, "st", state.st)
    monkeypatch.setattr(script_api, "OUTBOX", state.outbox)
    monkeypatch.setattr(script_api, "PENDING_REDIRECTS", state.redirects)
    monkeypatch.setattr(script_api, "current_user", lambda: state.user)
    monkeypatch.setattr(internals, "script_run_ctx", lambda: ctx)
    monkeypatch.setattr(internals, "is_active_session", lambda session_id: session_id in state.active)
    monkeypatch.setattr(internals, "enqueue_browser_redirect", lambda _ctx, url: state.navigated.append(url))
    monkeypatch.setattr(internals, "stop_script", lambda: None)
    return state


def flood(outbox: CookieOutbox, sessions: int) -> None:
    for i in range(sessions):
        outbox.add(f"anon-{i}", object(), build_write("x", "1", default_path="/", page_is_https=False), None)


def test_a_signed_in_users_cookie_write_outlives_an_anonymous_flood(script):
    script.user = ALICE
    script_api.cookies.set("theme", "dark")
    (token,) = [body.split("/_stauth/cookies/")[1].split('"')[0] for body in script.st.rendered]
    flood(script.outbox, 10)
    assert [w.value for w in script.outbox.take(token, None)] == ["dark"]


def test_an_anonymous_cookie_write_succeeds_when_the_outbox_is_full_of_other_sessions(script):
    script.active.update({"anon-0", "anon-1", "anon-2"})
    flood(script.outbox, 3)
    script_api.cookies.set("theme", "dark")
    assert script.outbox.has_pending("s1") is True
    assert script.outbox.has_pending("anon-0") is False
    assert script.outbox.pending_count() == 3


def test_a_cookie_write_drops_what_ended_sessions_left_waiting(script):
    flood(script.outbox, 2)
    script_api.cookies.set("theme", "dark")
    assert script.outbox.has_pending("anon-0") is False
    assert script.outbox.pending_count() == 1
    assert script_api.cookies.get("theme") == "dark"


def test_the_running_session_is_alive_even_when_streamlit_does_not_list_it(script):
    script.active.clear()
    script_api.cookies.set("theme", "dark")
    assert script.outbox.has_pending("s1") is True


def test_a_signed_in_users_redirect_outlives_an_anonymous_flood(script):
    script.user = ALICE
    script_api.cookies.set("theme", "dark")
    script_api.redirect("/billing")
    (url,) = script.navigated
    token = url.rsplit("/", 1)[1]
    script.redirects.add("anon-1", "/a")
    script.redirects.add("anon-2", "/b")
    assert script.redirects.take(token) == ("s1", "/billing")
