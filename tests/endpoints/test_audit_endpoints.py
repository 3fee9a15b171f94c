"""The audit trail over HTTP, on both adapters: each sign-in, refusal and sign-out is one
event carrying the request's client, user agent, path and id; never a password, a state,
a code or a cookie value."""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "oidc"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))

from cookie_jar import cookie_header, set_cookies  # noqa: E402
from cheap_argon2 import use_cheap_hasher  # noqa: E402
from fake_op import FakeOP  # noqa: E402
from rp_helpers import REDIRECT_URI, server_config  # noqa: E402

from stauth_server.core import hooks  # noqa: E402
from stauth_server.core.audit import BASE_KEYS  # noqa: E402
from stauth_server.core.oidc.client import OIDCClient  # noqa: E402
from stauth_server.core.signin import SignInService  # noqa: E402
from stauth_server.core.sources.local import LocalAccount, UsersFile, hash_password  # noqa: E402
from stauth_server.core.store.memory import MemoryStore  # noqa: E402
from stauth_server.web.routes import RouteRegistry  # noqa: E402

SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin"}
JSON = {"Accept": "application/json"}
PASSWORD = "alice-Pa55word-7f3e"
AGENT = "AuditProbe/1.0"


@pytest.fixture
def routes() -> RouteRegistry:
    registry = RouteRegistry()
    registry.add("/api/me", lambda request: {"id": request.user.id}, auth="required")
    registry.add("/api/audits", lambda request: {"ok": True}, roles=["auditor"])
    return registry


@pytest.fixture
def op() -> FakeOP:
    return FakeOP()


@pytest.fixture
def users(tmp_path, monkeypatch) -> Path:
    use_cheap_hasher(monkeypatch)
    monkeypatch.setattr(hooks, "_HOOKS", [])
    path = tmp_path / "users.toml"
    UsersFile(path).save([
        LocalAccount("alice", hash_password(PASSWORD), "alice@example.org", "Alice", ("admin",)),
        LocalAccount("dave", hash_password("dave-password"), disabled=True),
    ])
    return path


@pytest.fixture
def service(op, users) -> SignInService:
    config = dataclasses.replace(server_config(op), users_file=users)
    return SignInService(config, store=MemoryStore(), clients={"op": OIDCClient(config.providers["op"], REDIRECT_URI,
                                                                                  http=op)})


@pytest.fixture
def base_path() -> str:
    return "base"


@pytest.fixture
def trail(caplog):
    """The audit events written during the test, parsed (and their raw lines)."""
    caplog.set_level(logging.INFO, logger="stauth.audit")

    class Trail:
        @property
        def lines(self) -> list[str]:
            return [r.getMessage() for r in caplog.records if r.name == "stauth.audit"]

        @property
        def events(self) -> list[dict]:
            return [json.loads(line) for line in self.lines]

        def named(self, event: str) -> list[dict]:
            return [e for e in self.events if e["event"] == event]

    return Trail()


def session_of(response) -> dict[str, str]:
    return {k: v for k, v in set_cookies(response).items() if k.startswith("stauth_session") and v}


async def post_password(fetch, username: str, password: str, agent: str = AGENT):
    body = urlencode({"username": username, "password": password, "next": "/"})
    return await fetch("/base/auth/login", method="POST", body=body, headers={**SAME_ORIGIN, "User-Agent": agent})


def assert_request_facts(event: dict, path: str) -> None:
    assert list(event)[:len(BASE_KEYS)] == list(BASE_KEYS)
    assert event["client_ip"] == "127.0.0.1" and event["path"] == path
    assert re.fullmatch(r"[0-9a-f]{16}", event["request_id"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", event["time"])


@pytest.mark.gen_test
async def test_password_refusals_and_the_sign_in_are_audited_with_reasons(fetch, trail):
    done = await post_password(fetch, "alice", PASSWORD)
    assert done.code == 303
    assert (await post_password(fetch, "alice", "wrong-password")).code == 401
    assert (await post_password(fetch, "nobody", "wrong-password")).code == 401
    assert (await post_password(fetch, "dave", "dave-password")).code == 401
    failed = trail.named("sign_in_failed")
    assert [(e["reason"], e["username"], e["user_id"]) for e in failed] == [
        ("bad_password", "alice", "local|alice"), ("unknown_user", "nobody", None), ("disabled", "dave", "local|dave")]
    [signed_in] = trail.named("sign_in")
    assert signed_in["user_id"] == "local|alice" and signed_in["provider"] == "local"
    for event in [*failed, signed_in]:
        assert_request_facts(event, "/base/auth/login")
        assert event["user_agent"] == AGENT
    assert len({e["request_id"] for e in trail.events}) == 4  # one per request
    written = "\n".join(trail.lines)
    assert PASSWORD not in written and "wrong-password" not in written and "dave-password" not in written
    for value in session_of(done).values():
        assert value not in written


@pytest.mark.gen_test
async def test_a_forged_user_agent_cannot_forge_a_second_audit_line(fetch, trail):
    forged = 'x","event":"sign_in","user_id":"local|root'
    await post_password(fetch, "alice", "wrong-password", agent=forged)
    [line] = trail.lines
    assert "\n" not in line
    [event] = trail.events
    assert event["event"] == "sign_in_failed" and event["user_id"] == "local|alice" and event["user_agent"] == forged


@pytest.mark.gen_test
async def test_throttled_attempts_are_audited(fetch, trail):
    for _ in range(5):
        await post_password(fetch, "alice", "wrong-password")
    throttled = trail.named("throttled")
    assert throttled and throttled[0]["username"] == "alice" and throttled[0]["retry_after"] >= 1
    assert_request_facts(throttled[0], "/base/auth/login")


@pytest.mark.gen_test
async def test_sign_out_is_audited_once_with_the_user(fetch, trail):
    session = session_of(await post_password(fetch, "alice", PASSWORD))
    out = await fetch("/base/auth/logout", headers={**SAME_ORIGIN, "Cookie": cookie_header(session)})
    assert out.code == 302
    [signed_out] = trail.named("sign_out")
    assert signed_out["user_id"] == "local|alice" and signed_out["provider"] == "local"
    assert_request_facts(signed_out, "/base/auth/logout")
    await fetch("/base/auth/logout", headers={**SAME_ORIGIN, "Cookie": cookie_header(session)})
    assert len(trail.named("sign_out")) == 1  # a revoked session signs out nobody


@pytest.mark.gen_test
async def test_provider_sign_in_and_its_failures_are_audited_without_state_or_code(fetch, op, trail):
    login = await fetch("/base/auth/login?provider=op")
    state = parse_qs(urlsplit(login.headers["Location"]).query)["state"][0]
    jar = set_cookies(login)
    refused = await fetch(f"/base/oauth2callback?{urlencode({'error': 'access_denied', 'state': state})}",
                          headers={"Cookie": cookie_header(jar)})
    assert refused.code == 400
    forged = await fetch("/base/oauth2callback?code=stolen-code-123&state=forged-state-456")
    assert forged.code == 400
    login = await fetch("/base/auth/login?provider=op")
    params = op.authorize(login.headers["Location"])
    done = await fetch(f"/base/oauth2callback?{urlencode(params)}", headers={"Cookie": cookie_header(set_cookies(login))})
    assert done.code == 303
    failed = trail.named("sign_in_failed")
    assert [(e["reason"], e["provider"]) for e in failed] == [("provider_error", "op"), ("state_mismatch", None)]
    assert failed[0]["error"] == "access_denied"
    [signed_in] = trail.named("sign_in")
    assert signed_in["provider"] == "op" and signed_in["user_id"] == f"{op.issuer}|{op.subject}"
    for event in [*failed, signed_in]:
        assert_request_facts(event, "/base/oauth2callback")
    written = "\n".join(trail.lines)
    for secret in (state, params["state"], params["code"], "stolen-code-123", "forged-state-456"):
        assert secret not in written


@pytest.mark.gen_test
async def test_route_refusals_are_audited_with_status_rule_and_user(fetch, trail):
    assert (await fetch("/base/api/audits", headers=JSON)).code == 401
    session = session_of(await post_password(fetch, "alice", PASSWORD))
    assert (await fetch("/base/api/audits", headers={**JSON, "Cookie": cookie_header(session)})).code == 403
    assert (await fetch("/base/api/me", headers={**JSON, "Cookie": cookie_header(session)})).code == 200
    denied = trail.named("route_denied")
    assert [(e["status"], e["user_id"], e["roles"], e["route"]) for e in denied] == [
        (401, None, ["auditor"], "/api/audits"), (403, "local|alice", ["auditor"], "/api/audits")]
    for event in denied:
        assert_request_facts(event, "/base/api/audits")


@pytest.mark.gen_test
async def test_a_session_ended_by_disabling_its_account_is_audited_on_the_request_that_finds_it(fetch, users, trail):
    session = session_of(await post_password(fetch, "alice", PASSWORD))
    store = UsersFile(users)
    alice = store.accounts()["alice"]
    store.save([dataclasses.replace(alice, disabled=True)])
    info = await fetch("/base/auth/userinfo", headers={"Cookie": cookie_header(session), "User-Agent": AGENT})
    assert info.code == 401
    [revoked] = trail.named("session_revoked")
    assert revoked["user_id"] == "local|alice" and revoked["reason"] == "account_disabled"
    assert_request_facts(revoked, "/base/auth/userinfo")
    assert revoked["user_agent"] == AGENT


@pytest.mark.gen_test
async def test_an_expired_session_met_by_a_route_shares_the_refusals_request_id(fetch, service, trail, monkeypatch):
    session = session_of(await post_password(fetch, "alice", PASSWORD))
    monkeypatch.setattr(service.sessions.store, "load", _expired(service.sessions.store.load))
    assert (await fetch("/base/api/me", headers={**JSON, "Cookie": cookie_header(session)})).code == 401
    [expired] = trail.named("session_expired")
    [denied] = trail.named("route_denied")
    assert expired["user_id"] == "local|alice" and expired["reason"] == "absolute"
    assert expired["request_id"] == denied["request_id"]
    assert_request_facts(expired, "/base/api/me")


def _expired(load):
    """The store's ``load`` with every record already past its absolute expiry."""

    def expired_load(key):
        stored = load(key)
        return dataclasses.replace(stored, expires_at=0.0) if stored is not None else None

    return expired_load
