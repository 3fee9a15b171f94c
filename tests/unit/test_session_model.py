"""The server record is the identity, probed as an attacker and an operator would.

An attacker who knows a cookie secret can re-seal cookies but cannot make one that names
someone else; an operator who disables an account, changes a password, removes a role or
edits ``[auth.roles]`` sees it take effect on open sessions; secret rotation keeps users
signed in on a persistent store; a logout beats a token refresh in flight; proxy users
meet the same ``on_login`` hooks; and a websocket gets an identity only from the app's
own pages.
"""

from __future__ import annotations

import ipaddress
import os
import threading
import time
from dataclasses import replace
from types import SimpleNamespace

import pytest
from cheap_argon2 import use_cheap_hasher

import stauth_server as sa
from stauth_server.tornado import auth_handlers
from stauth_server.core import hooks
from stauth_server.streamlit import internals
from stauth_server.core.config import ServerConfig, parse_server_config
from stauth_server.core.session_records import Ticket
from stauth_server.core.store import StoredSession, StoreUnavailable
from stauth_server.core.sessions import SessionService
from stauth_server.core.store.memory import MemoryStore
from stauth_server.core.store.redis import RedisStore
from stauth_server.core.store.sqlite import SqliteStore
from stauth_server.core.errors import ConfigError
from stauth_server.core.roles import parse_roles
from stauth_server.core.session_cookie import Sealer
from stauth_server.core.signin import SignInService
from stauth_server.core.sources.local import LocalAccount, UsersFile, hash_password
from stauth_server.core.sources.proxy import ProxyConfig

SECRET = "n" * 16 + "-the-newest-cookie-secret-000000"
OLD_SECRET = "o" * 16 + "-an-older-cookie-secret-11111111"
NEWER_SECRET = "w" * 16 + "-a-newer-cookie-secret-222222222"
class FakeClock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


ALICE = LocalAccount("alice", "", "alice@example.org", "Alice Example", ("admin",))
BOB = LocalAccount("bob", "", "bob@example.org", "Bob Example", ("viewer",))


@pytest.fixture(autouse=True)
def cheap(monkeypatch):
    return use_cheap_hasher(monkeypatch)


@pytest.fixture(autouse=True)
def no_hooks(monkeypatch):
    monkeypatch.setattr(hooks, "_HOOKS", [])


def account(base: LocalAccount, password: str, **changes) -> LocalAccount:
    fields = {**base.__dict__, "password_hash": hash_password(password), **changes}
    return LocalAccount(**fields)


@pytest.fixture
def users_path(tmp_path, cheap):
    path = tmp_path / "users.toml"
    UsersFile(path).save([account(ALICE, "alice-password"), account(BOB, "bob-password")])
    return path


def rewrite_users(path, **changes) -> None:
    """Rewrite the users file the way ``streamlit-auth users`` does: each change maps the
    account to its new version (None removes it)."""
    users = UsersFile(path)
    accounts = users.accounts()
    for name, change in changes.items():
        new = change(accounts[name])
        if new is None:
            accounts.pop(name)
        else:
            accounts[name] = new
    users.save(accounts.values())


def new_password(password: str):
    return lambda old: replace(old, password_hash=hash_password(password))


def make_service(users_path=None, store=None, *, secrets=(SECRET,), roles=None, **config) -> SignInService:
    return SignInService(ServerConfig(users_file=users_path, cookie_secrets=tuple(secrets),
                                      roles=parse_roles(roles), **config),
                         store=store if store is not None else MemoryStore())


def login(service, username="alice", password=None, *, secure=False, cookies=None):
    return service.password_login(username, password or f"{username}-password", "203.0.113.7", "/", cookies or {},
                                  "browser-1", secure=secure, path="/")


def jar(done) -> dict[str, str]:
    return {c.name: c.value for c in done.cookies if c.value is not None}


def open_kind(kind: str, request, tmp_path):
    if kind == "memory":
        return MemoryStore()
    if kind == "sqlite":
        return SqliteStore(tmp_path / "sessions.db")
    return RedisStore(request.getfixturevalue("redis_url"))


# --- a known cookie secret does not let anyone become someone else -----------------------

def test_a_resealed_cookie_claiming_another_user_and_admin_is_still_its_own_user(users_path):
    service = make_service(users_path)
    mallory = jar(login(service, "bob"))
    attacker = Sealer((SECRET,), "session")  # the attacker knows the cookie secret
    payload = attacker.open(mallory["stauth_session"])
    assert payload is not None and set(payload) == {"sid", "k", "exp"}  # no identity to edit
    forged = {**payload, "iss": "local", "sub": "alice", "roles": ["admin"], "email": "alice@example.org",
              "claims": {"sub": "alice", "email": "alice@example.org"}, "provider": "local"}
    user = service.resolve({"stauth_session": attacker.seal(forged)}).user
    assert user.id == "local|bob" and user.roles == {"viewer"} and user.email == "bob@example.org"


def test_a_cookie_sealed_by_the_attacker_from_scratch_is_anonymous(users_path):
    service = make_service(users_path)
    login(service)  # alice has a session the attacker does not know the ticket of
    attacker = Sealer((SECRET,), "session")
    exp = int(time.time()) + 3600
    made_up = Ticket.new()
    for payload in (
        {"sid": made_up.sid, "k": made_up.key, "exp": exp, "sub": "alice", "roles": ["admin"]},
        {"iss": "local", "sub": "alice", "roles": ["admin"], "exp": exp},  # the old cookie format
        {"sid": made_up.sid, "iss": "local", "sub": "alice", "exp": exp},
    ):
        resolved = service.resolve({"stauth_session": attacker.seal(payload)})
        assert not resolved.user.is_logged_in and resolved.record is None
        assert [c.name for c in resolved.clear] == ["stauth_session"]


def test_a_known_session_id_with_the_wrong_key_neither_opens_nor_ends_the_session(users_path):
    service = make_service(users_path)
    alice = login(service)
    mallory = login(service, "bob")
    attacker = Sealer((SECRET,), "session")
    stolen_sid = {"sid": alice.record.ticket.sid, "k": mallory.record.ticket.key, "exp": int(time.time()) + 3600}
    resolved = service.resolve({"stauth_session": attacker.seal(stolen_sid)})
    assert not resolved.user.is_logged_in
    assert service.resolve(jar(alice)).user.id == "local|alice"  # not revoked by the probe


def test_a_resealed_cookie_cannot_outlive_the_servers_expiry(users_path):
    clock = FakeClock()
    service = make_service(users_path, MemoryStore(clock=clock), default_ttl=3600)
    service.sessions = SessionService(service.config, service.store, service.users, clock=clock)
    cookies = jar(login(service))
    attacker = Sealer((SECRET,), "session")
    payload = attacker.open(cookies["stauth_session"])
    clock.now += 3601
    forever = {"stauth_session": attacker.seal({**payload, "exp": int(clock.now) + 10 * 365 * 86400})}
    resolved = service.resolve(forever)
    assert not resolved.user.is_logged_in and resolved.clear


@pytest.mark.parametrize("payload", [
    {"sid": 12345678901234567890, "k": "A" * 44},
    {"sid": "é" * 20, "k": Ticket.new().key},
    {"sid": "s" * 20, "k": "x" * 44},
    {"sid": "s" * 20, "k": Ticket.new().key + "=="},
    {"sid": "short", "k": Ticket.new().key},
    {"sid": "s" * 4000, "k": Ticket.new().key},
    {"sid": ["s" * 20], "k": Ticket.new().key},
    {"sid": "s" * 20, "k": None},
], ids=["int-sid", "non-ascii-sid", "bad-key", "long-key", "short-sid", "huge-sid", "list-sid", "no-key"])
@pytest.mark.parametrize("exp", [None, "never", True, 10**30])
def test_odd_tickets_sealed_with_the_real_secret_are_anonymous_and_cleared_never_an_exception(users_path,
                                                                                              payload, exp):
    service = make_service(users_path)
    sealed = Sealer((SECRET,), "session").seal({**payload, **({} if exp is None else {"exp": exp})})
    resolved = service.resolve({"stauth_session": sealed})
    assert not resolved.user.is_logged_in and [c.name for c in resolved.clear] == ["stauth_session"]


def test_on_https_at_the_root_an_unprefixed_cookie_is_ignored(users_path):
    service = make_service(users_path)
    planted = jar(login(service))  # a valid session cookie set over http: "stauth_session"
    assert list(planted) == ["stauth_session"]
    assert not service.resolve(planted, secure=True, path="/").user.is_logged_in
    secure = jar(login(service, "bob", secure=True))
    assert list(secure) == ["__Host-stauth_session"]
    assert service.resolve(secure, secure=True, path="/").user.id == "local|bob"


# --- account changes reach open sessions -----------------------------------------------

@pytest.mark.parametrize("change", [
    pytest.param(lambda old: replace(old, disabled=True), id="disabled"),
    pytest.param(new_password("a-brand-new-password"), id="password-changed"),
    pytest.param(lambda old: None, id="removed"),
])
def test_an_account_change_ends_its_open_session_and_deletes_the_record(users_path, change):
    service = make_service(users_path)
    done = login(service)
    cookies = jar(done)
    assert service.resolve(cookies).user.id == "local|alice"
    rewrite_users(users_path, alice=change)
    resolved = service.resolve(cookies)
    assert not resolved.user.is_logged_in and resolved.record is None
    assert [c.name for c in resolved.clear] == ["stauth_session"]
    assert service.store.load(done.record.ticket.store_key) is None
    assert service.resolve(jar(login(service, "bob"))).user.id == "local|bob"  # others unaffected


def test_a_password_change_that_keeps_the_files_size_and_timestamp_still_ends_the_session(users_path):
    """File systems with coarse timestamps (or two saves within one clock tick) give the
    rewritten users file the same mtime; an argon2 hash has a fixed length, so the size is
    the same too. The change must still be seen."""
    service = make_service(users_path)
    cookies = jar(login(service))
    before = os.stat(users_path)
    rewrite_users(users_path, alice=new_password("another-password!"))
    assert os.stat(users_path).st_size == before.st_size
    os.utime(users_path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert not service.resolve(cookies).user.is_logged_in


def test_removing_a_role_downgrades_the_open_session_at_its_next_request(users_path):
    service = make_service(users_path)
    cookies = jar(login(service))
    assert service.resolve(cookies).user.roles == {"admin"}
    rewrite_users(users_path, alice=lambda old: replace(old, roles=("viewer",)))
    user = service.resolve(cookies).user
    assert user.id == "local|alice" and user.roles == {"viewer"}


def test_a_changed_email_in_the_users_file_reaches_the_open_session(users_path):
    service = make_service(users_path, roles={"staff": ["domain:example.org"]})
    cookies = jar(login(service))
    assert service.resolve(cookies).user.roles == {"admin", "staff"}
    rewrite_users(users_path, alice=lambda old: replace(old, email="alice@contractor.example"))
    user = service.resolve(cookies).user
    assert user.email == "alice@contractor.example" and user.roles == {"admin"}


def test_roles_an_on_login_hook_gave_persist_for_the_session_and_across_a_restart(users_path, tmp_path):
    store = SqliteStore(tmp_path / "sessions.db")
    service = make_service(users_path, store)
    sa.on_login(lambda user, source: {"roles": ["beta"], "team": "blue"} if user.id == "local|alice" else None)
    cookies = jar(login(service))
    hooks._HOOKS.clear()  # the hook runs at sign-in only; what it gave is in the record
    user = service.resolve(cookies).user
    assert user.roles == {"admin", "beta"} and user.claims["team"] == "blue"
    store.close()
    restarted = make_service(users_path, SqliteStore(tmp_path / "sessions.db"))
    user = restarted.resolve(cookies).user
    assert user.roles == {"admin", "beta"} and user.claims["team"] == "blue"
    restarted.store.close()


def test_a_changed_auth_roles_table_applies_after_a_restart_on_the_same_store(users_path):
    store = MemoryStore()
    first = make_service(users_path, store, roles={"staff": ["domain:example.org"], "ops": ["group:admins"]})
    local = jar(login(first))
    oidc = first.sessions.create(issuer="https://op.example.net", subject="c-1", provider="op",
                                 claims={"sub": "c-1", "email": "carol@example.net", "email_verified": True,
                                         "groups": ["admins"]})
    carol = {c.name: c.value for c in first.sessions.cookies_for(oidc, {}, secure=False, path="/") if c.value}
    assert first.resolve(local).user.roles == {"admin", "staff"}
    assert first.resolve(carol).user.roles == {"ops"}
    restarted = make_service(users_path, store, roles={"auditor": ["carol@example.net", "alice@example.org"]})
    assert restarted.resolve(local).user.roles == {"admin", "auditor"}
    assert restarted.resolve(carol).user.roles == {"auditor"}


# --- secret rotation on a persistent store ------------------------------------------------

def test_rotating_secrets_keeps_the_user_signed_in_across_a_restart_and_retiring_it_is_anonymous(users_path,
                                                                                                tmp_path):
    path = tmp_path / "sessions.db"
    before = make_service(users_path, SqliteStore(path), secrets=(OLD_SECRET,))
    done = login(before)
    cookies = jar(done)
    before.store.close()

    rotated = make_service(users_path, SqliteStore(path), secrets=(SECRET, OLD_SECRET))
    resolved = rotated.resolve(cookies)
    assert resolved.user.id == "local|alice" and resolved.user.roles == {"admin"}
    assert resolved.record.sid == done.record.sid
    reissued = {c.name: c.value for c in rotated.sessions.cookies_for(resolved.record, cookies, secure=False,
                                                                     path="/") if c.value}
    assert Sealer((SECRET,), "session").open(reissued["stauth_session"]) is not None  # resealed with the new one
    rotated.store.close()

    retired = make_service(users_path, SqliteStore(path), secrets=(NEWER_SECRET, SECRET))
    resolved = retired.resolve(cookies)  # sealed under the retired secret: no exception, anonymous
    assert not resolved.user.is_logged_in and [c.name for c in resolved.clear] == ["stauth_session"]
    assert retired.resolve(reissued).user.id == "local|alice"
    retired.store.close()


# --- a logout wins over a token refresh in flight -------------------------------------

class BlockingRefreshClient:
    """An OIDC client whose refresh waits for the test to let it answer."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()

    def refresh(self, tokens, subject):
        self.entered.set()
        assert self.release.wait(10)
        return {**tokens, "access_token": "at-refreshed", "expires_at": time.time() + 3600}

    def end_session_url(self, *args):
        return None


def refreshable(kind, request, tmp_path):
    client = BlockingRefreshClient()
    service = SignInService(ServerConfig(cookie_secrets=(SECRET,)), store=open_kind(kind, request, tmp_path),
                            clients={"op": client})
    session = service.sessions.create(issuer="https://op.example.net", subject="c-1", provider="op",
                                      claims={"sub": "c-1"},
                                      tokens={"access_token": "at-old", "refresh_token": "rt-1",
                                              "expires_at": time.time() + 10})
    cookies = {c.name: c.value for c in service.sessions.cookies_for(session, {}, secure=False, path="/") if c.value}
    return service, client, session, cookies


def refresh_in_thread(service, cookies):
    outcome = {}

    def run() -> None:
        record = service.resolve(cookies).record
        outcome["result"] = service.refresh_if_due(record)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


@pytest.mark.parametrize("kind", ["memory", "sqlite", "redis"])
def test_a_logout_during_an_in_flight_refresh_wins_and_the_session_never_comes_back(kind, request, tmp_path):
    service, client, session, cookies = refreshable(kind, request, tmp_path)
    thread, outcome = refresh_in_thread(service, cookies)
    assert client.entered.wait(5)
    logout = service.resolve(cookies, touch=False)  # what /auth/logout does
    service.end_session(logout.record)
    client.release.set()
    thread.join(10)
    assert "result" in outcome and outcome["result"] is None
    assert service.store.load(session.ticket.store_key) is None
    assert not service.resolve(cookies).user.is_logged_in
    service.store.close()


@pytest.mark.parametrize("kind", ["memory", "sqlite", "redis"])
def test_without_a_logout_the_refreshed_tokens_are_saved(kind, request, tmp_path):
    service, client, session, cookies = refreshable(kind, request, tmp_path)
    client.release.set()
    thread, outcome = refresh_in_thread(service, cookies)
    thread.join(10)
    assert outcome["result"] is not None
    assert service.resolve(cookies).record.tokens["access_token"] == "at-refreshed"
    service.store.close()


# --- proxy identities meet the on_login hooks ---------------------------------------

PROXY = "10.0.0.5"


@pytest.fixture
def proxy_service() -> SignInService:
    return make_service(proxy=ProxyConfig(trusted=(ipaddress.ip_network("10.0.0.0/8"),)))


def as_proxy_user(service, name, peer=PROXY):
    return service.identify({}, {"X-Forwarded-User": name, "X-Forwarded-Email": f"{name}@example.org"}, peer)


def test_proxy_on_login_hooks_run_once_per_identity_over_many_requests(proxy_service):
    calls: list[str] = []
    sa.on_login(lambda user, source: (calls.append(f"{source}:{user.id}"), {"roles": ["beta"]})[1])
    for _ in range(50):
        user = as_proxy_user(proxy_service, "alice").user
        assert user.id == "proxy|alice" and user.roles == {"beta"}
    as_proxy_user(proxy_service, "bob")
    as_proxy_user(proxy_service, "bob")
    assert calls == ["proxy:proxy|alice", "proxy:proxy|bob"]


def test_proxy_on_login_hooks_run_once_for_parallel_first_requests(proxy_service):
    calls: list[str] = []

    def slow_hook(user, source):
        calls.append(user.id)
        time.sleep(0.1)  # a directory lookup, say
        return {"roles": ["beta"]}

    sa.on_login(slow_hook)
    barrier = threading.Barrier(8)
    users = []

    def open_tab() -> None:
        barrier.wait()
        users.append(as_proxy_user(proxy_service, "carol").user)

    threads = [threading.Thread(target=open_tab) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(users) == 8 and all(u.roles == {"beta"} for u in users)
    assert calls == ["proxy|carol"]


def test_a_hook_refusing_a_proxy_user_refuses_them_on_every_request(proxy_service):
    calls: list[str] = []

    @sa.on_login
    def gate(user, source):
        calls.append(user.id)
        if user.id == "proxy|mallory":
            raise sa.Forbidden("Mallory may not use this app.")

    for _ in range(5):
        resolved = as_proxy_user(proxy_service, "mallory")
        assert resolved.refused == "Mallory may not use this app."
        assert not resolved.user.is_logged_in and resolved.record is None
    assert as_proxy_user(proxy_service, "alice").user.id == "proxy|alice"
    assert calls == ["proxy|mallory", "proxy|alice"]


def test_proxy_headers_from_an_untrusted_peer_are_no_identity_and_run_no_hook(proxy_service):
    calls: list[str] = []
    sa.on_login(lambda user, source: calls.append(user.id))
    resolved = as_proxy_user(proxy_service, "alice", peer="203.0.113.50")
    assert not resolved.user.is_logged_in and resolved.refused is None and calls == []


# --- the websocket gets an identity only from the app's own pages ---------------------

def ws_handler(origin: str | None, *, protocol="http", host="localhost:8501", subprotocols: str | None = None,
               valid_token: str | None = None):
    headers = {}
    if origin is not None:
        headers["Origin"] = origin
    if subprotocols is not None:
        headers["Sec-Websocket-Protocol"] = subprotocols
    request = SimpleNamespace(headers=headers, protocol=protocol, host=host)
    return SimpleNamespace(request=request, _validate_xsrf_token=lambda token: token == valid_token)


@pytest.fixture
def no_xsrf_token(monkeypatch):
    monkeypatch.setattr(internals, "websocket_xsrf_token_ok", lambda handler: False)


@pytest.mark.parametrize(("origin", "protocol", "host", "expected"), [
    ("http://localhost:8501", "http", "localhost:8501", True),
    ("http://localhost:8501/", "http", "localhost:8501", True),
    ("https://app.example.org", "https", "app.example.org", True),
    ("http://localhost:9999", "http", "localhost:8501", False),  # Streamlit's allow-list: any localhost port
    ("http://127.0.0.1:8501", "http", "localhost:8501", False),
    ("http://app.example.org", "https", "app.example.org", False),
    ("https://app.example.org.evil.example", "https", "app.example.org", False),
    ("null", "http", "localhost:8501", False),
    ("", "http", "localhost:8501", False),
    (None, "http", "localhost:8501", False),
])
def test_from_own_pages_without_a_token_needs_exactly_the_apps_origin(no_xsrf_token, origin, protocol, host,
                                                                      expected):
    assert auth_handlers.from_own_pages(ws_handler(origin, protocol=protocol, host=host)) is expected


def test_a_valid_xsrf_token_counts_only_without_an_origin(monkeypatch):
    """Another port of the same host can read Streamlit's XSRF cookie: with an Origin, the
    Origin alone decides."""
    monkeypatch.setattr(internals, "websocket_xsrf_token_ok", lambda handler: True)
    assert auth_handlers.from_own_pages(ws_handler(None)) is True
    assert auth_handlers.from_own_pages(ws_handler("http://localhost:9999")) is False
    assert auth_handlers.from_own_pages(ws_handler("http://localhost:8501")) is True


def test_the_redirect_uri_origin_counts_as_the_apps_own(no_xsrf_token):
    handler = ws_handler("https://app.example.org", protocol="http", host="10.0.0.5:8501")
    assert auth_handlers.from_own_pages(handler) is False
    assert auth_handlers.from_own_pages(handler, "https://app.example.org/oauth2callback") is True
    assert auth_handlers.from_own_pages(handler, "https://other.example.org/oauth2callback") is False


@pytest.mark.parametrize(("subprotocols", "expected"), [
    ("streamlit, good-token", True),
    ("streamlit, forged-token", False),
    ("streamlit", False),
    ("streamlit, ", False),
    (None, False),
])
def test_the_websocket_xsrf_check_takes_the_second_subprotocol(subprotocols, expected):
    handler = ws_handler(None, subprotocols=subprotocols, valid_token="good-token")
    assert internals.websocket_xsrf_token_ok(handler) is expected
    assert auth_handlers.from_own_pages(handler) is expected
    foreign = ws_handler("http://localhost:9999", subprotocols=subprotocols, valid_token="good-token")
    assert auth_handlers.from_own_pages(foreign) is False


def test_a_token_check_that_blows_up_counts_as_no_token():
    handler = ws_handler(None, subprotocols="streamlit, x")
    handler._validate_xsrf_token = lambda token: 1 / 0
    assert internals.websocket_xsrf_token_ok(handler) is False


# --- [auth] frame_ancestors ------------------------------------------------------------

PROXY_AUTH = {"cookie_secret": "z" * 40, "proxy": {"trusted_proxies": ["127.0.0.1"]}}


@pytest.mark.parametrize("value", [
    [], "", [""], [42], "'self'; script-src *", ["'self'", "https://a.example, https://b.example"],
    ["https://portal.example.org\r\nSet-Cookie: x=1"], {"portal": "https://portal.example.org"}, True,
])
def test_a_bad_frame_ancestors_value_is_a_config_error_naming_the_key(tmp_path, value):
    with pytest.raises(ConfigError) as caught:
        parse_server_config({**PROXY_AUTH, "frame_ancestors": value}, tmp_path)
    assert "frame_ancestors" in str(caught.value)


def test_frame_ancestors_defaults_to_self_and_keeps_a_configured_list(tmp_path):
    assert parse_server_config(PROXY_AUTH, tmp_path).frame_ancestors == ("'self'",)
    configured = parse_server_config({**PROXY_AUTH, "frame_ancestors": ["'self'", "https://portal.example.org"]},
                                     tmp_path)
    assert configured.frame_ancestors == ("'self'", "https://portal.example.org")


# --- faults: what the store or a directory being away must not do ------------------------


class _TouchFails(MemoryStore):
    """Reads work, writes fail (a locked or read-only SQLite file)."""

    def touch(self, key, last_seen):
        raise StoreUnavailable("locked")


def test_a_failing_activity_write_does_not_fail_the_read(users_path):
    store = _TouchFails()
    service = make_service(users_path, store)
    done = login(service)
    stored = store._records[done.record.ticket.store_key]
    store._records[done.record.ticket.store_key] = StoredSession(stored.version, stored.expires_at,
                                                                 stored.last_seen - 3600, stored.blob)
    resolved = service.resolve(jar(done), secure=False, path="/")
    assert resolved.user.id == "local|alice" and resolved.clear == []


class _DirectoryDown:
    def authenticate(self, username, password):
        from stauth_server.core.sources.ldap import LdapUnavailable

        raise LdapUnavailable("ldap://127.0.0.1:1: connection refused")


def test_a_directory_outage_is_a_503_and_never_counts_as_a_wrong_password(users_path):
    from stauth_server.core.signin import SourceUnavailable

    service = make_service(users_path, password_source_chooser=True)  # the form named LDAP: only it is tried
    service.ldap = _DirectoryDown()
    service.config = replace(service.config, ldap=SimpleNamespace(server_uri="ldap://127.0.0.1:1"))
    for _ in range(10):
        with pytest.raises(SourceUnavailable) as caught:
            service.password_login("alice", "whatever", "203.0.113.7", "/", {}, None, secure=False, path="/",
                                   source="ldap")
        assert caught.value.status == 503 and "cannot be reached" in caught.value.user_message
    assert service.throttle.wait_seconds(["user:alice", "ip:203.0.113.7"]) == 0
    assert service.throttle._failures == {}
