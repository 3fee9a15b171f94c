"""A reconnecting websocket may resume a Streamlit session only as the same identity.

Streamlit 1.56 resumes any session whose id a client names (the third websocket
subprotocol); without this check, another user, or a signed-out browser, naming a
signed-in user's session id would get that session's ``session_state``.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from stauth_server.tornado import auth_handlers
from stauth_server.streamlit import internals
from stauth_server.core.config import ServerConfig
from stauth_server.core.sessions import ResolvedSession
from stauth_server.core.identity import ANONYMOUS, user_from_claims
from stauth_server.streamlit.live_sessions import LIVE

ALICE = user_from_claims({"sub": "alice", "email": "alice@example.org"}, issuer="https://op", subject="alice",
                         provider="op", expires_at=None)
BOB = user_from_claims({"sub": "bob", "email": "bob@example.org"}, issuer="https://op", subject="bob",
                       provider="op", expires_at=None)


class FakeRuntime:
    def __init__(self):
        self.resumed: list[str | None] = []

    def connect_session(self, client, user_info, existing_session_id=None, **kwargs):
        self.resumed.append(existing_session_id)
        return existing_session_id or "new-session"


@pytest.fixture
def sessions(monkeypatch):
    """Streamlit's kept sessions, by id: their st.user dicts."""
    kept: dict[str, dict] = {}
    monkeypatch.setattr(internals, "session_user_info", lambda session_id: kept.get(session_id))
    yield kept
    for session_id in ("alice-session", "new-session"):
        LIVE.disconnect(session_id)


def connect(user, existing: str | None) -> str | None:
    runtime = FakeRuntime()
    service = SimpleNamespace(config=ServerConfig())
    client = SimpleNamespace(stauth_identity=ResolvedSession(user=user), get_cookie=lambda name: None)
    auth_handlers._IdentityRuntime(runtime, service).connect_session(client, {}, existing)
    return runtime.resumed[-1]


def info_of(user) -> dict:
    return auth_handlers.streamlit_user_info(user, {}, ())


def test_the_same_user_resumes_their_session(sessions):
    sessions["alice-session"] = info_of(ALICE)
    assert connect(ALICE, "alice-session") == "alice-session"


@pytest.mark.parametrize("intruder", [BOB, ANONYMOUS], ids=["another user", "a visitor"])
def test_another_identity_naming_the_session_id_gets_a_new_session(sessions, intruder):
    sessions["alice-session"] = info_of(ALICE)
    assert connect(intruder, "alice-session") is None


def test_a_visitor_resumes_their_own_visitor_session(sessions):
    sessions["alice-session"] = info_of(ANONYMOUS)
    assert connect(ANONYMOUS, "alice-session") == "alice-session"


# --- signed-out sessions are never resumed (Streamlit 1.67's st.logout, on every generation) ---


@pytest.fixture
def ended(monkeypatch):
    from stauth_server.streamlit import resumption

    marked: list[str] = []
    monkeypatch.setattr(internals, "mark_session_nonresumable", marked.append)
    monkeypatch.setattr(resumption, "ENDED", resumption.EndedSessions())
    return marked


def test_a_signed_out_session_is_never_resumed_even_by_a_visitor_matching_its_dict(sessions, ended):
    from stauth_server.streamlit.resumption import end_resumption

    sessions["alice-session"] = info_of(ANONYMOUS)   # the sign-out push already emptied st.user
    end_resumption("alice-session")
    assert ended == ["alice-session"]                 # Streamlit 1.67 is told too
    assert connect(ANONYMOUS, "alice-session") is None
    assert connect(ALICE, "alice-session") is None


def test_a_sign_out_push_ends_resumption_but_a_sign_in_push_does_not(sessions, ended):
    from stauth_server.streamlit import identity_bus

    service = SimpleNamespace(config=ServerConfig())
    sessions["visitor-tab"] = info_of(ANONYMOUS)
    sessions["alice-session"] = info_of(ALICE)
    reruns: list[str] = []
    import stauth_server.streamlit.internals as live_internals

    original = live_internals.request_rerun
    live_internals.request_rerun = reruns.append
    try:
        identity_bus.apply_identity("visitor-tab", None, ALICE, service)      # signed in: may resume
        identity_bus.apply_identity("alice-session", None, ANONYMOUS, service)  # signed out: never
    finally:
        live_internals.request_rerun = original
    assert ended == ["alice-session"]
    assert sessions["alice-session"] == info_of(ANONYMOUS)
    assert reruns == ["visitor-tab", "alice-session"]


def test_the_ended_mark_expires_long_after_any_disconnected_session(monkeypatch):
    from stauth_server.streamlit import resumption

    monkeypatch.setattr(internals, "mark_session_nonresumable", lambda sid: None)
    ended = resumption.EndedSessions()
    now = [1000.0]
    monkeypatch.setattr(resumption.time, "monotonic", lambda: now[0])
    ended.end("s")
    assert "s" in ended
    now[0] += resumption.ENDED_TTL_SECONDS + 1
    assert "s" not in ended


# --- Starlette: sessions no browser websocket opened (the 1.67 Agent API) stay anonymous -----


class FakeStarletteRuntime(FakeRuntime):
    def disconnect_session(self, session_id, *args, **kwargs):
        pass

    def handle_backmsg(self, session_id, *args, **kwargs):
        pass

    def is_active_session(self, session_id):
        return True


def test_a_session_opened_outside_a_browser_websocket_is_anonymous_and_bound_to_no_browser(sessions, monkeypatch):
    """The Agent API calls ``runtime.connect_session`` from an HTTP request: even with a
    signed-in browser's cookies and Streamlit's trusted-header dict, it gets no identity and
    no later sign-in push can reach it."""
    from stauth_server.starlette import server as starlette_server

    runtime = FakeStarletteRuntime()
    starlette_server.install_session_bridge(runtime, SimpleNamespace(config=ServerConfig()))
    monkeypatch.setattr(internals, "client_cookie", lambda client, name: "2|aa|bb|1")
    user_info = {"is_logged_in": True, "email": "alice@example.org"}   # what trusted headers gave
    session_id = runtime.connect_session(client=object(), user_info=user_info)
    assert user_info == info_of(ANONYMOUS)
    tab = LIVE.get(session_id)
    assert tab is not None and tab.browser is None and tab.user is ANONYMOUS


def test_a_browser_websocket_from_the_apps_own_pages_is_bound_to_its_browser(sessions, monkeypatch):
    from stauth_server.starlette import server as starlette_server

    runtime = FakeStarletteRuntime()
    starlette_server.install_session_bridge(runtime, SimpleNamespace(config=ServerConfig()))
    monkeypatch.setattr(internals, "client_cookie", lambda client, name: "2|aa|bb|1")
    token = starlette_server.CONNECTING.set((ResolvedSession(user=ALICE), None))
    try:
        own = runtime.connect_session(client=object(), user_info={})
    finally:
        starlette_server.CONNECTING.reset(token)
    assert LIVE.get(own).browser is not None and LIVE.get(own).user is ALICE
    LIVE.disconnect(own)
