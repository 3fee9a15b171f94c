"""The session cookie: sealing, rotation, chunking, hostile values, expiry and revocation."""

from __future__ import annotations

import time

import pytest
from rp_helpers import FOREIGN_SECRET, OLD_SECRET, SECRET, FakeClock, make_service

from stauth_server.core.session_cookie import (
    CHUNK_BYTES,
    MAX_CHUNKS,
    CookieTooLarge,
    Sealer,
    chunk_names,
    join_value,
    split_value,
)
from stauth_server.core.session_records import Ticket
from stauth_server.core.store import StoredSession
from stauth_server.core.store.memory import MemoryStore

NAME = "__Host-stauth_session"


def _jar(cookies) -> dict[str, str]:
    return {c.name: c.value for c in cookies if c.value is not None}


def _flip(value: str, index: int | None = None) -> str:
    i = len(value) // 2 if index is None else index
    return value[:i] + ("A" if value[i] != "A" else "B") + value[i + 1:]


def _resolve(service, jar, **kwargs):
    return service.resolve(jar, secure=True, path="/", **kwargs)


def _reseal(service, payload):
    """A session cookie sealed by someone who knows the cookie secret."""
    return {NAME: service.sessions._cookies.seal(payload)}


def _stored(service, session):
    return service.store._records[session.ticket.store_key]


def _set_stored(service, session, **changes):
    key = session.ticket.store_key
    old = service.store._records[key]
    service.store._records[key] = StoredSession(**{**old.__dict__, **changes})


@pytest.fixture
def signed_in(service, op):
    url, cookie = service.begin_login("op", "/")
    done = service.complete_login(op.authorize(url), {cookie.name: cookie.value}, None, secure=True, path="/")
    return done


# --- Sealer ---------------------------------------------------------------------------------


def test_a_sealed_payload_opens_to_the_same_payload():
    sealer = Sealer([SECRET], "session")
    token = sealer.seal({"sid": "abc", "n": 1})
    assert "abc" not in token  # encrypted, not just signed
    assert sealer.open(token) == {"sid": "abc", "n": 1}


@pytest.mark.parametrize("index", [0, 10, 40, -5, -1])
def test_a_tampered_byte_does_not_open(index):
    sealer = Sealer([SECRET], "session")
    token = sealer.seal({"sid": "abc"})
    assert sealer.open(_flip(token, index % len(token))) is None


def test_a_cookie_sealed_with_a_foreign_secret_does_not_open():
    token = Sealer([FOREIGN_SECRET], "session").seal({"sid": "abc"})
    assert Sealer([SECRET], "session").open(token) is None


def test_rotation_opens_cookies_of_the_older_secret_and_seals_with_the_newest():
    old_token = Sealer([OLD_SECRET], "session").seal({"sid": "old"})
    rotated = Sealer([SECRET, OLD_SECRET], "session")
    assert rotated.open(old_token) == {"sid": "old"}
    new_token = rotated.seal({"sid": "new"})
    assert Sealer([SECRET], "session").open(new_token) == {"sid": "new"}
    assert Sealer([OLD_SECRET], "session").open(new_token) is None


def test_login_and_session_cookies_are_sealed_for_different_purposes():
    login_token = Sealer([SECRET], "login").seal({"sid": "abc", "exp": 2**40})
    assert Sealer([SECRET], "session").open(login_token) is None


def test_a_sealed_token_older_than_max_age_does_not_open():
    sealer = Sealer([SECRET], "login")
    old = sealer._fernet.encrypt_at_time(b'{"a":1}', int(time.time()) - 700).decode()
    assert sealer.open(old, max_age_seconds=600) is None
    assert sealer.open(old) == {"a": 1}


@pytest.mark.parametrize("garbage", [
    None, "", "x", "chunks:999", "chunks:x", "gAAAAA", "\u00e9t\u00e9", "\x00\x01", "=" * 100,
    "gAAAAA" + "A" * 200, "a" * (CHUNK_BYTES * MAX_CHUNKS + 1), "\ud800",
])
def test_garbage_tokens_never_raise(garbage):
    assert Sealer([SECRET], "session").open(garbage) is None


def test_a_sealed_non_object_payload_is_refused():
    sealer = Sealer([SECRET], "session")
    token = sealer._fernet.encrypt(b"[1, 2]").decode()
    assert sealer.open(token) is None


def test_a_sealer_needs_a_secret():
    with pytest.raises(ValueError):
        Sealer([], "session")


# --- chunking ---------------------------------------------------------------------------------


def test_a_small_value_is_one_cookie():
    assert split_value(NAME, "abc") == {NAME: "abc"}
    assert join_value(NAME, {NAME: "abc"}) == "abc"


def test_a_value_over_4kb_is_split_into_chunks_of_at_most_4096_bytes_that_reassemble():
    value = "".join(chr(65 + i % 26) for i in range(3 * 4096 + 17))
    cookies = split_value(NAME, value)
    assert len(cookies) > 1 and cookies[NAME] == f"chunks:{len(cookies) - 1}"
    assert all(len((n + "=" + v).encode()) <= 4096 for n, v in cookies.items())
    assert join_value(NAME, cookies) == value
    assert sorted(chunk_names(NAME, {**cookies, "other": "x", NAME + ".x": "y"})) == sorted(cookies)


def test_a_value_at_the_chunk_limit_still_fits():
    value = "v" * (CHUNK_BYTES * MAX_CHUNKS)
    cookies = split_value(NAME, value)
    assert len(cookies) == MAX_CHUNKS + 1
    assert join_value(NAME, cookies) == value


def test_a_value_over_max_chunks_raises_cookie_too_large():
    with pytest.raises(CookieTooLarge, match="at most"):
        split_value(NAME, "v" * (CHUNK_BYTES * MAX_CHUNKS + 1))


def test_a_missing_chunk_does_not_reassemble():
    cookies = split_value(NAME, "v" * (CHUNK_BYTES * 3))
    del cookies[f"{NAME}.1"]
    assert join_value(NAME, cookies) is None


@pytest.mark.parametrize("head", ["", "chunks:", "chunks:x", "chunks:0", "chunks:-1", "chunks:999",
                                  "chunks:1.5", "chunks:\u0663", f"chunks:{MAX_CHUNKS + 1}"])
def test_a_garbage_chunk_header_never_raises(head):
    cookies = {NAME: head, f"{NAME}.0": "a", f"{NAME}.1": "b", f"{NAME}.2": "c"}
    assert join_value(NAME, cookies) in (None, "a", "abc", "")


# --- resolve() over the service -------------------------------------------------------------


def test_a_tampered_session_cookie_is_anonymous_and_cleared(service, signed_in):
    jar = _jar(signed_in.cookies)
    jar[NAME] = _flip(jar[NAME])
    resolved = _resolve(service, jar)
    assert not resolved.user.is_logged_in and resolved.record is None
    assert [(c.name, c.value) for c in resolved.clear] == [(NAME, None)]


def test_a_session_cookie_from_a_foreign_secret_is_anonymous_and_cleared(op, signed_in):
    foreign = make_service(op, secrets=(FOREIGN_SECRET,))
    resolved = _resolve(foreign, _jar(signed_in.cookies))
    assert not resolved.user.is_logged_in
    assert [c.name for c in resolved.clear] == [NAME]


def test_the_cookie_carries_only_a_ticket_not_the_identity(service, signed_in):
    payload = service.sessions._cookies.open(_jar(signed_in.cookies)[NAME])
    assert set(payload) == {"sid", "k", "exp"}
    assert "user-123" not in repr(payload)


def test_a_resealed_cookie_claiming_another_user_and_roles_is_not_accepted(service, signed_in):
    """Knowing the cookie secret is not enough: the identity is the server record's."""
    mine = service.sessions._cookies.open(_jar(signed_in.cookies)[NAME])
    forged = _reseal(service, {**mine, "iss": "x", "sub": "admin", "roles": ["admin"],
                               "claims": {"email": "boss@example.org"}})
    resolved = _resolve(service, forged)
    assert resolved.user.id == signed_in.user.id and "admin" not in resolved.user.roles
    other_key = Ticket.new().key
    assert not _resolve(service, _reseal(service, {**mine, "k": other_key})).user.is_logged_in
    assert not _resolve(service, _reseal(service, {**mine, "sid": Ticket.new().sid})).user.is_logged_in


def test_a_store_dump_shows_no_identity_or_token_and_no_session_id(service, signed_in):
    dump = repr(service.store._records)
    for secret in ("user-123", signed_in.record.sid, signed_in.record.ticket.key,
                   signed_in.record.tokens["access_token"]):
        assert secret not in dump


def test_rotating_the_cookie_secret_keeps_users_signed_in_and_reseals_with_the_new_one(op):
    store = MemoryStore()
    before = make_service(op, secrets=(OLD_SECRET,), store=store)
    url, cookie = before.begin_login("op", "/")
    done = before.complete_login(op.authorize(url), {cookie.name: cookie.value}, None, secure=True, path="/")
    after = make_service(op, secrets=(SECRET, OLD_SECRET), store=store)
    resolved = _resolve(after, _jar(done.cookies))
    assert resolved.user.is_logged_in and resolved.user.id == done.user.id
    resealed = _jar(after.sessions.cookies_for(resolved.record, {}, secure=True, path="/"))
    assert _resolve(make_service(op, secrets=(SECRET,), store=store), resealed).user.is_logged_in
    assert not _resolve(make_service(op, secrets=(OLD_SECRET,), store=store), resealed).user.is_logged_in


def test_a_cookie_under_a_retired_secret_is_anonymous_not_an_error(op, signed_in):
    retired = make_service(op, secrets=(OLD_SECRET,))
    resolved = _resolve(retired, _jar(signed_in.cookies))
    assert not resolved.user.is_logged_in and [c.name for c in resolved.clear] == [NAME]


def test_a_login_cookie_presented_as_the_session_cookie_is_anonymous(service):
    _url, cookie = service.begin_login("op", "/")
    resolved = _resolve(service, {NAME: cookie.value})
    assert not resolved.user.is_logged_in and [c.name for c in resolved.clear] == [NAME]


def test_a_large_identity_stays_on_the_server_and_the_cookie_stays_small(service, op):
    op.userinfo_claims = {"email": "a@example.org", "groups": [f"g{i}-{'x' * 40}" for i in range(300)]}
    url, cookie = service.begin_login("op", "/")
    done = service.complete_login(op.authorize(url), {cookie.name: cookie.value}, None, secure=True, path="/")
    jar = _jar(done.cookies)
    assert list(jar) == [NAME] and len(jar[NAME]) < 400
    assert len(_resolve(service, jar).user.groups) == 300


def test_a_missing_chunk_of_the_session_is_anonymous_and_every_piece_is_cleared(service):
    jar = {NAME: "chunks:3", f"{NAME}.0": "a", f"{NAME}.2": "c"}
    resolved = _resolve(service, jar)
    assert not resolved.user.is_logged_in
    assert sorted(c.name for c in resolved.clear) == sorted(jar)


def test_leftover_chunks_are_cleared_when_a_new_session_is_set(service, signed_in):
    leftovers = {NAME: "chunks:3", f"{NAME}.0": "a", f"{NAME}.1": "b", f"{NAME}.2": "c"}
    out = service.sessions.cookies_for(signed_in.record, leftovers, secure=True, path="/")
    assert [c.name for c in out if c.value is not None] == [NAME]
    assert sorted(c.name for c in out if c.value is None) == [f"{NAME}.0", f"{NAME}.1", f"{NAME}.2"]


@pytest.mark.parametrize("jar", [
    {NAME: ""}, {NAME: "chunks:999"}, {NAME: "chunks:x"}, {NAME: "chunks:2", f"{NAME}.0": "\u00e9"},
    {NAME: "\u00e9\u00e8"}, {NAME: "gAAAAA"}, {f"{NAME}.0": "orphan"},
    {NAME: "chunks:1", f"{NAME}.0": "\udcff"}, {NAME: "x" * 100_000},
])
def test_garbage_session_cookies_are_anonymous_and_cleared_never_raising(service, jar):
    resolved = _resolve(service, jar)
    assert not resolved.user.is_logged_in and resolved.record is None
    assert {c.name for c in resolved.clear} == set(jar)
    assert all(c.value is None for c in resolved.clear)


@pytest.mark.parametrize("payload", [
    {"sid": "s" * 43, "exp": 2**40}, {"sid": 1, "k": "k", "exp": 2**40}, {"sid": "s" * 43, "k": "short", "exp": 2**40},
    {"sid": "s" * 43, "k": "!" * 44, "exp": 2**40}, {"sid": "\u00e9" * 20, "k": Ticket.new().key, "exp": 2**40},
    {"sid": "s" * 43, "k": Ticket.new().key}, {"sid": "s" * 43, "k": Ticket.new().key, "exp": "never"},
])
def test_sealed_but_malformed_tickets_are_anonymous_and_cleared(service, payload):
    resolved = _resolve(service, _reseal(service, payload))
    assert not resolved.user.is_logged_in and [c.name for c in resolved.clear] == [NAME]


def test_no_session_cookie_is_anonymous_with_nothing_to_clear(service):
    resolved = _resolve(service, {"theme": "dark"})
    assert not resolved.user.is_logged_in and resolved.clear == []


def test_on_https_at_the_root_an_unprefixed_session_cookie_is_ignored(service, signed_in):
    """A sibling subdomain or a plain-http response can plant ``stauth_session``; only the
    ``__Host-`` cookie, which neither can set, counts on https at the root path."""
    planted = {"stauth_session": _jar(signed_in.cookies)[NAME]}
    resolved = _resolve(service, planted)
    assert not resolved.user.is_logged_in and resolved.clear == []
    assert service.resolve(planted, secure=False, path="/").user.is_logged_in
    assert not service.resolve(_jar(signed_in.cookies), secure=False, path="/").user.is_logged_in


def test_a_session_whose_cookie_expired_is_anonymous(service, signed_in):
    mine = service.sessions._cookies.open(_jar(signed_in.cookies)[NAME])
    resolved = _resolve(service, _reseal(service, {**mine, "exp": int(time.time()) - 1}))
    assert not resolved.user.is_logged_in and resolved.clear


def test_a_session_whose_record_expired_is_anonymous(service, signed_in):
    _set_stored(service, signed_in.record, expires_at=time.time() - 1)
    resolved = _resolve(service, _jar(signed_in.cookies))
    assert not resolved.user.is_logged_in and resolved.clear


class _StaleStore(MemoryStore):
    """A store that hands back records past their expiry (a shared store lagging behind)."""

    def load(self, key):
        return self._records.get(key)


def test_a_record_past_its_expiry_is_anonymous_even_when_the_store_still_returns_it(op):
    service = make_service(op, store=_StaleStore())
    url, cookie = service.begin_login("op", "/")
    done = service.complete_login(op.authorize(url), {cookie.name: cookie.value}, None, secure=True, path="/")
    assert _resolve(service, _jar(done.cookies)).user.is_logged_in
    _set_stored(service, done.record, expires_at=time.time() - 1)
    assert not _resolve(service, _jar(done.cookies)).user.is_logged_in


def test_a_revoked_session_is_anonymous(service, signed_in):
    assert _resolve(service, _jar(signed_in.cookies)).user.is_logged_in
    service.end_session(signed_in.record)
    assert not _resolve(service, _jar(signed_in.cookies)).user.is_logged_in


def test_a_session_idle_past_the_idle_timeout_is_anonymous_and_its_record_deleted(op):
    service = make_service(op, idle_timeout=1800)
    url, cookie = service.begin_login("op", "/")
    done = service.complete_login(op.authorize(url), {cookie.name: cookie.value}, None, secure=True, path="/")
    assert _resolve(service, _jar(done.cookies)).user.is_logged_in
    _set_stored(service, done.record, last_seen=time.time() - 1801)
    assert not _resolve(service, _jar(done.cookies)).user.is_logged_in
    assert service.store.load(done.record.ticket.store_key) is None


def test_an_active_session_within_the_idle_timeout_is_touched(op):
    service = make_service(op, idle_timeout=1800)
    url, cookie = service.begin_login("op", "/")
    done = service.complete_login(op.authorize(url), {cookie.name: cookie.value}, None, secure=True, path="/")
    _set_stored(service, done.record, last_seen=time.time() - 1000)
    assert _resolve(service, _jar(done.cookies)).user.is_logged_in
    assert _stored(service, done.record).last_seen > time.time() - 60


# --- the store --------------------------------------------------------------------------------


def test_claim_once_is_true_only_the_first_time():
    store = MemoryStore()
    assert store.claim_once("state:a", 600) is True
    assert store.claim_once("state:a", 600) is False
    assert store.claim_once("state:b", 600) is True


def test_claim_once_can_be_claimed_again_after_its_ttl():
    clock = FakeClock()
    store = MemoryStore(clock=clock)
    assert store.claim_once("k", 10)
    clock.now += 5
    assert not store.claim_once("k", 10)
    clock.now += 6
    assert store.claim_once("k", 10)


def test_expired_claims_do_not_pile_up_in_a_small_store():
    clock = FakeClock()
    store = MemoryStore(clock=clock)
    store.create("key", b"blob", clock.now + 86400, clock.now)
    for i in range(5000):
        store.claim_once(f"state:{i}", 600)
        clock.now += 1
    assert len(store._claims) < 2000  # expired one-time values are swept


def test_expired_records_are_not_returned():
    clock = FakeClock()
    store = MemoryStore(clock=clock)
    store.create("key", b"blob", clock.now + 10, clock.now)
    assert store.load("key") is not None
    clock.now += 11
    assert store.load("key") is None
