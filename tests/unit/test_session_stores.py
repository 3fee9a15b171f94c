"""Session stores probed as an attacker and an operator would (stauth_server.core.store).

The same contract is checked on every backend (memory, a SQLite file, a real redis-server):
compare-and-set writes that a logout always wins, touches that never create or rewind,
one-time claims, expiry, sweeping and the bus. Then what only one backend can get wrong:
SQLite's file permissions, sharing and locking; Redis going away and coming back; and what
a dump of either reveals about a signed-in user (nothing).
"""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from cheap_argon2 import use_cheap_hasher

from stauth_server.core.config import ServerConfig, parse_server_config
from stauth_server.core.store import StoreUnavailable, default_store_url, make_store
from stauth_server.core.store.memory import MemoryStore
from stauth_server.core.store.redis import PREFIX, RedisStore
from stauth_server.core.store.sqlite import SqliteStore
from stauth_server.core.errors import ConfigError
from stauth_server.core.signin import SignInService
from stauth_server.core.sources.local import LocalAccount, UsersFile, hash_password

REPO = Path(__file__).resolve().parents[2]
BACKENDS = ["memory", "sqlite", "redis"]


class Clock:
    """A clock the tests move by hand, starting now (Redis also expires keys by real time)."""

    def __init__(self) -> None:
        self.now = float(int(time.time()))

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def open_store(kind: str, request: pytest.FixtureRequest, tmp_path: Path, clock: Clock):
    if kind == "memory":
        return MemoryStore(clock=clock)
    if kind == "sqlite":
        return SqliteStore(tmp_path / "sessions.db", clock=clock)
    return RedisStore(request.getfixturevalue("redis_url"), clock=clock)


@pytest.fixture(params=BACKENDS)
def store(request, tmp_path, clock):
    opened = open_store(request.param, request, tmp_path, clock)
    opened.kind = request.param
    yield opened
    opened.close()


def stored_record_keys(store) -> set[str]:
    """The record keys physically present in the backend (not what ``load`` filters)."""
    if isinstance(store, MemoryStore):
        return set(store._records)
    if isinstance(store, SqliteStore):
        with sqlite3.connect(store.path) as db:
            return {row[0] for row in db.execute("SELECT key FROM sessions")}
    return {k.decode()[len(PREFIX) + 2:] for k in store._redis.keys(f"{PREFIX}s:*")}


def in_threads(count: int, target) -> list:
    """Run ``target()`` in ``count`` threads released together; their results."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(index: int) -> None:
        barrier.wait()
        results[index] = target()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


# --- the contract, on every backend -----------------------------------------------------

def test_a_created_record_loads_with_version_1_its_times_and_blob(store, clock):
    store.create("k1", b"sealed-1", clock.now + 100, clock.now)
    loaded = store.load("k1")
    assert loaded is not None
    assert (loaded.version, loaded.expires_at, loaded.last_seen, loaded.blob) == (1, clock.now + 100, clock.now,
                                                                                 b"sealed-1")
    assert store.load("unknown") is None


def test_replace_with_the_wrong_version_is_refused_and_changes_nothing(store, clock):
    store.create("k1", b"v1", clock.now + 100, clock.now)
    assert store.replace("k1", b"v2", 1) is True
    assert store.replace("k1", b"stale", 1) is False
    assert store.replace("k1", b"future", 7) is False
    loaded = store.load("k1")
    assert (loaded.version, loaded.blob) == (2, b"v2")


def test_replace_after_delete_is_refused_and_the_record_never_comes_back(store, clock):
    store.create("k1", b"v1", clock.now + 100, clock.now)
    store.delete("k1")
    assert store.replace("k1", b"revived", 1) is False
    assert store.load("k1") is None
    assert "k1" not in stored_record_keys(store)


def test_of_ten_parallel_replaces_at_one_version_exactly_one_wins(store, clock):
    store.create("k1", b"v1", clock.now + 100, clock.now)
    results = in_threads(10, lambda: store.replace("k1", b"mine", 1))
    assert results.count(True) == 1 and results.count(False) == 9
    assert store.load("k1").version == 2


def test_touch_never_creates_a_record(store, clock):
    assert store.touch("never-created", clock.now) is False
    assert store.load("never-created") is None
    assert "never-created" not in stored_record_keys(store)


def test_touch_after_delete_fails_and_does_not_revive_the_record(store, clock):
    store.create("k1", b"v1", clock.now + 100, clock.now)
    store.delete("k1")
    assert store.touch("k1", clock.now + 5) is False
    assert store.load("k1") is None
    assert "k1" not in stored_record_keys(store)


def test_touch_moves_last_seen_forward_and_never_back(store, clock):
    store.create("k1", b"v1", clock.now + 100, clock.now)
    assert store.touch("k1", clock.now + 50) is True
    assert store.load("k1").last_seen == clock.now + 50
    assert store.touch("k1", clock.now + 10) is True  # a late, older touch
    loaded = store.load("k1")
    assert loaded.last_seen == clock.now + 50
    assert (loaded.version, loaded.blob) == (1, b"v1")  # a touch is not a write of the record


def test_claim_once_is_granted_once(store):
    assert store.claim_once("state:abc", 600) is True
    assert store.claim_once("state:abc", 600) is False
    assert store.claim_once("state:other", 600) is True


def test_of_ten_parallel_claims_of_one_name_exactly_one_is_granted(store):
    results = in_threads(10, lambda: store.claim_once("state:raced", 600))
    assert results.count(True) == 1


def test_an_expired_record_is_not_loaded(store, clock):
    store.create("k1", b"v1", clock.now + 10, clock.now)
    clock.now += 10
    assert store.load("k1") is None
    clock.now += 1000
    assert store.load("k1") is None


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_sweep_removes_expired_records_and_used_claims_and_keeps_live_ones(kind, request, tmp_path, clock):
    store = open_store(kind, request, tmp_path, clock)
    store.create("old", b"x", clock.now + 10, clock.now)
    store.create("live", b"y", clock.now + 1000, clock.now)
    store.claim_once("state:old", 10)
    clock.now += 100
    assert store.sweep(clock.now) == 2
    assert stored_record_keys(store) == {"live"}
    assert store.load("live").blob == b"y"
    assert store.claim_once("state:old", 10) is True  # the used claim was dropped, not kept forever
    store.close()


def test_redis_expires_records_and_claims_by_itself(request, clock):
    store = RedisStore(request.getfixturevalue("redis_url"), clock=clock)
    raw = store._redis
    store.create("live", b"y", time.time() + 600, time.time())
    store.create("dead", b"x", time.time() - 5, time.time() - 100)
    store.claim_once("state:s", 30)
    assert 590 <= raw.ttl(f"{PREFIX}s:live") <= 602
    assert store.replace("live", b"y2", 1) and store.touch("live", time.time() + 1)
    assert 590 <= raw.ttl(f"{PREFIX}s:live") <= 602  # writes never make a record immortal
    assert raw.exists(f"{PREFIX}s:dead") == 0
    assert 0 < raw.ttl(f"{PREFIX}once:state:s") <= 30
    assert store.sweep(clock.now) == 0  # nothing left for a sweep to do
    store.close()


def test_publish_reaches_a_subscriber_of_the_same_store(store):
    heard: list[bytes] = []
    got = threading.Event()
    store.subscribe(lambda message: (heard.append(message), got.set()))
    if store.kind == "redis":
        wait_subscribed(store)
    store.publish(b"signed-out:browser-1")
    assert got.wait(1.0)
    assert heard == [b"signed-out:browser-1"]


def wait_subscribed(store: RedisStore, count: int = 1) -> None:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if dict(store._redis.pubsub_numsub(f"{PREFIX}bus")).get(f"{PREFIX}bus".encode(), 0) >= count:
            return
        time.sleep(0.01)
    pytest.fail("the store's bus never subscribed")


def test_a_message_published_on_one_redis_replica_reaches_another_within_a_second(redis_url):
    replica_a, replica_b = RedisStore(redis_url), RedisStore(redis_url)
    got = threading.Event()
    heard: list[bytes] = []
    replica_b.subscribe(lambda message: (heard.append(message), got.set()))
    wait_subscribed(replica_b)
    started = time.monotonic()
    replica_a.publish(b"signed-in:browser-1")
    assert got.wait(1.0), "replica B did not hear replica A within 1 s"
    assert time.monotonic() - started < 1.0 and heard == [b"signed-in:browser-1"]
    replica_a.close()
    replica_b.close()


# --- SQLite: the embedded default ---------------------------------------------------------

def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_sqlite_file_wal_and_shm_are_owner_only_and_a_new_folder_0700_even_with_umask_0(tmp_path, clock):
    folder = tmp_path / "state" / "auth"
    old = os.umask(0)
    try:
        store = SqliteStore(folder / "sessions.db", clock=clock)
        store.create("k1", b"v1", clock.now + 100, clock.now)
        assert store.load("k1") is not None
    finally:
        os.umask(old)
    files = [folder / "sessions.db", folder / "sessions.db-wal", folder / "sessions.db-shm"]
    assert all(f.exists() for f in files), sorted(p.name for p in folder.iterdir())
    assert {f.name: oct(mode(f)) for f in files} == {f.name: "0o600" for f in files}
    assert oct(mode(folder)) == "0o700"
    store.close()


def test_sqlite_tightens_an_existing_world_readable_file(tmp_path, clock):
    path = tmp_path / "sessions.db"
    path.touch()
    path.chmod(0o644)
    SqliteStore(path, clock=clock).close()
    assert oct(mode(path)) == "0o600"


def test_two_sqlite_stores_on_one_file_share_records_and_compare_and_set(tmp_path, clock):
    first = SqliteStore(tmp_path / "sessions.db", clock=clock)
    second = SqliteStore(tmp_path / "sessions.db", clock=clock)
    first.create("k1", b"v1", clock.now + 100, clock.now)
    assert second.load("k1").blob == b"v1"
    assert second.replace("k1", b"v2", 1) is True
    assert first.replace("k1", b"stale", 1) is False
    second.delete("k1")
    assert first.load("k1") is None
    first.close()
    second.close()


CHILD = """
import sys, time
from pathlib import Path
from stauth_server.core.store.sqlite import SqliteStore
store = SqliteStore(Path(sys.argv[1]))
seen = store.load("parent")
print(seen.version, seen.blob.decode(), store.replace("parent", b"from-child", 1))
store.create("child", b"made-by-child", time.time() + 100, time.time())
"""


def test_another_process_sees_and_changes_records_in_the_same_sqlite_file(tmp_path):
    path = tmp_path / "sessions.db"
    store = SqliteStore(path)
    store.create("parent", b"made-by-parent", time.time() + 100, time.time())
    child = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, cwd=REPO,
                           timeout=30)
    assert child.returncode == 0, child.stderr
    assert child.stdout.split() == ["1", "made-by-parent", "True"]
    assert store.load("child").blob == b"made-by-child"
    assert store.load("parent").version == 2 and store.load("parent").blob == b"from-child"
    assert store.replace("parent", b"stale", 1) is False
    store.close()


def test_sqlite_records_survive_closing_and_reopening(tmp_path, clock):
    store = SqliteStore(tmp_path / "sessions.db", clock=clock)
    store.create("k1", b"v1", clock.now + 100, clock.now)
    store.replace("k1", b"v2", 1)
    store.close()
    reopened = SqliteStore(tmp_path / "sessions.db", clock=clock)
    loaded = reopened.load("k1")
    assert (loaded.version, loaded.blob) == (2, b"v2")
    reopened.close()


def test_a_sqlite_path_under_a_file_is_store_unavailable_not_an_os_error(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    with pytest.raises(StoreUnavailable, match="not-a-folder"):
        SqliteStore(blocker / "sessions.db")


def test_a_sqlite_path_that_is_a_folder_is_store_unavailable(tmp_path):
    (tmp_path / "sessions.db").mkdir()
    with pytest.raises(StoreUnavailable):
        SqliteStore(tmp_path / "sessions.db")


def test_a_file_that_is_not_a_database_is_store_unavailable_not_a_sqlite_error(tmp_path):
    path = tmp_path / "sessions.db"
    path.write_bytes(b"this is not a database, it is a note somebody left here" * 100)
    with pytest.raises(StoreUnavailable):
        SqliteStore(path)


def test_a_write_to_a_locked_sqlite_file_times_out_into_store_unavailable_and_reads_go_on(tmp_path, clock):
    path = tmp_path / "sessions.db"
    store = SqliteStore(path, clock=clock)
    store.create("k1", b"v1", clock.now + 100, clock.now)
    locker = sqlite3.connect(path, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        started = time.monotonic()
        with pytest.raises(StoreUnavailable):
            store.create("k2", b"v2", clock.now + 100, clock.now)
        waited = time.monotonic() - started
        assert 1.0 <= waited <= 3.5, waited  # waits for the lock a while, then gives up
        started = time.monotonic()
        with pytest.raises(StoreUnavailable):
            store.replace("k1", b"v2", 1)
        assert time.monotonic() - started <= 3.5
        assert store.load("k1").blob == b"v1"  # WAL: readers never wait for the writer
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    store.create("k2", b"v2", clock.now + 100, clock.now)  # and it recovers when the lock goes
    assert store.replace("k1", b"v2", 1) is True
    store.close()


# --- Redis down, and Redis coming back ----------------------------------------------------

def every_call(store: RedisStore, now: float):
    return {
        "create": lambda: store.create("k9", b"v", now + 100, now),
        "load": lambda: store.load("k1"),
        "replace": lambda: store.replace("k1", b"v2", 1),
        "touch": lambda: store.touch("k1", now + 1),
        "delete": lambda: store.delete("k1"),
        "claim_once": lambda: store.claim_once("state:x", 60),
        "publish": lambda: store.publish(b"hello"),
    }


def test_redis_stopped_makes_every_call_store_unavailable_quickly_and_a_restart_recovers(own_redis_server):
    store = RedisStore(own_redis_server.url)
    now = time.time()
    store.create("k1", b"v1", now + 100, now)
    own_redis_server.stop()
    for name, call in every_call(store, now).items():
        started = time.monotonic()
        with pytest.raises(StoreUnavailable):
            call()
        assert time.monotonic() - started < 2.5, f"{name} took too long with Redis down"
    own_redis_server.start()  # same port; without persistence the records are gone, the client is not
    store.create("k1", b"again", now + 100, now)
    assert store.load("k1").blob == b"again"
    assert store.replace("k1", b"v2", 1) is True
    assert store.claim_once("state:x", 60) is True
    store.close()


def test_a_frozen_redis_gives_store_unavailable_within_the_timeout_instead_of_hanging(own_redis_server):
    store = RedisStore(own_redis_server.url)
    now = time.time()
    store.create("k1", b"v1", now + 100, now)
    own_redis_server.pause()
    try:
        for call in (lambda: store.load("k1"), lambda: store.replace("k1", b"v2", 1)):
            started = time.monotonic()
            with pytest.raises(StoreUnavailable):
                call()
            assert time.monotonic() - started < 3.0
    finally:
        own_redis_server.resume()
    assert store.load("k1").blob == b"v1"  # intact once it answers again
    store.close()


def test_the_redis_bus_hears_messages_again_after_a_restart(own_redis_server):
    publisher, listener = RedisStore(own_redis_server.url), RedisStore(own_redis_server.url)
    heard: list[bytes] = []
    got = threading.Event()
    listener.subscribe(lambda message: (heard.append(message), got.set()))
    wait_subscribed(listener)
    own_redis_server.stop()
    own_redis_server.start()
    wait_subscribed(listener)  # the listener reconnected by itself
    publisher.publish(b"after-restart")
    assert got.wait(1.0) and heard == [b"after-restart"]
    publisher.close()
    listener.close()


def test_a_redis_url_without_the_redis_package_is_a_config_error_naming_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "redis", None)
    with pytest.raises(ConfigError) as caught:
        make_store("redis://127.0.0.1:6379/0")
    assert 'pip install "streamlit-auth[redis]"' in str(caught.value)
    assert "[auth.store] url" in str(caught.value)


def test_make_store_opens_each_kind(tmp_path, redis_url):
    assert isinstance(make_store("memory://"), MemoryStore)
    sqlite_store = make_store(f"sqlite://{tmp_path / 'x' / 'sessions.db'}")
    assert isinstance(sqlite_store, SqliteStore) and (tmp_path / "x" / "sessions.db").is_file()
    redis_store = make_store(redis_url)
    assert isinstance(redis_store, RedisStore)
    redis_store.create("k", b"v", time.time() + 10, time.time())
    assert redis_store.load("k").blob == b"v"
    sqlite_store.close()
    redis_store.close()


# --- what a dump of the store gives an attacker -----------------------------------------

ALICE_SECRETS = ["alice@example.org", "Alice Example", "alice-password"]
OIDC_SECRETS = ["248289761001", "carol@example.net", "Carol Sampleperson", "at-7f3a9c1e55d2", "rt-91bc04ee7a11",
                "eyJhbGciOiJSUzI1NiJ9.idtoken-body.signature"]


@pytest.fixture
def signed_in_sessions(tmp_path, monkeypatch):
    """Sign Alice in with a password and Carol from an OIDC provider (with tokens) into a store."""
    use_cheap_hasher(monkeypatch)

    def sign_in(store):
        users = tmp_path / "users.toml"
        UsersFile(users).save([LocalAccount("alice", hash_password("alice-password"), "alice@example.org",
                                            "Alice Example", ("admin",))])
        service = SignInService(ServerConfig(users_file=users, cookie_secrets=("c" * 40,)), store=store)
        alice = service.password_login("alice", "alice-password", "203.0.113.9", "/", {}, "browser-a",
                                       secure=False, path="/")
        carol = service.sessions.create(
            issuer="https://op.example.net", subject="248289761001", provider="op",
            claims={"sub": "248289761001", "email": "carol@example.net", "name": "Carol Sampleperson"},
            tokens={"access_token": "at-7f3a9c1e55d2", "refresh_token": "rt-91bc04ee7a11",
                    "id_token": "eyJhbGciOiJSUzI1NiJ9.idtoken-body.signature", "expires_at": time.time() + 3600})
        service.sessions.save_tokens(carol, {**carol.tokens, "access_token": "at-7f3a9c1e55d2"})
        cookie_values = [c.value for c in [*alice.cookies, *service.sessions.cookies_for(carol, {}, secure=False,
                                                                                           path="/")] if c.value]
        sessions = [alice.record, carol]
        secrets = [*ALICE_SECRETS, *OIDC_SECRETS, "alice"]
        for session in sessions:
            secrets += [session.ticket.sid, session.ticket.key, session.ticket.key.rstrip("=")]
        assert all(service.sessions.unlock(s.ticket) is not None for s in sessions)
        return [s for s in secrets if s], cookie_values

    return sign_in


def assert_reveals_nothing(dump: bytes, secrets: list[str], cookie_values: list[str]) -> None:
    assert dump, "the dump is empty: nothing was stored"
    found = [s for s in secrets if s.encode() in dump]
    assert found == [], f"the store dump shows {found}"
    assert not any(v.encode()[:40] in dump for v in cookie_values)


def test_a_sqlite_file_dump_shows_no_identity_token_session_id_or_key(tmp_path, signed_in_sessions):
    path = tmp_path / "store" / "sessions.db"
    store = SqliteStore(path)
    secrets, cookies = signed_in_sessions(store)
    files = [path, Path(f"{path}-wal"), Path(f"{path}-shm")]
    dump = b"".join(f.read_bytes() for f in files if f.exists())
    assert Path(f"{path}-wal").exists()  # the records are in the WAL until a checkpoint
    assert_reveals_nothing(dump, secrets, cookies)
    store.close()  # the last connection checkpoints the WAL into the file
    assert_reveals_nothing(path.read_bytes(), secrets, cookies)


def test_a_redis_dump_shows_no_identity_token_session_id_or_key(redis_url, signed_in_sessions):
    store = RedisStore(redis_url)
    secrets, cookies = signed_in_sessions(store)
    raw = store._redis
    keys = raw.keys("*")
    dump = b"\n".join(keys)
    for key in keys:
        kind = raw.type(key)
        if kind == b"hash":
            dump += b"\n".join(k + b"=" + v for k, v in raw.hgetall(key).items())
        elif kind == b"string":
            dump += raw.get(key)
    assert len([k for k in keys if k.startswith(f"{PREFIX}s:".encode())]) == 2
    assert_reveals_nothing(dump, secrets, cookies)
    store.close()


# --- [auth.store] url in the config -------------------------------------------------------

PROXY_AUTH = {"cookie_secret": "z" * 40, "proxy": {"trusted_proxies": ["127.0.0.1"]}}


@pytest.mark.parametrize("store_table", [
    {"url": "postgres://db/sessions"},
    {"url": "sqlite:relative.db"},
    {"url": "sqlite://"},
    {"url": "sqlite:///var/lib/app/"},
    {"url": "/var/lib/app/sessions.db"},
    {"url": ""},
    {"url": 42},
    {"url": ["memory://"]},
    "sqlite:///var/lib/app/sessions.db",
])
def test_a_bad_store_setting_is_a_config_error_naming_the_key(tmp_path, store_table):
    with pytest.raises(ConfigError) as caught:
        parse_server_config({**PROXY_AUTH, "store": store_table}, tmp_path)
    assert "[auth.store]" in str(caught.value)


@pytest.mark.parametrize(("store_table", "unknown", "nearest"), [
    ({"path": "sessions.db"}, "path", None),
    ({"url": "memory://", "ttl": 5}, "ttl", None),
    ({"uri": "memory://"}, "uri", "url"),
])
def test_an_unknown_store_key_is_warned_about_and_ignored(tmp_path, caplog, store_table, unknown, nearest):
    """The one unknown-key policy (core.options): warned about, with the nearest known key."""
    with caplog.at_level("WARNING", logger="stauth_server.config"):
        config = parse_server_config({**PROXY_AUTH, "store": store_table}, tmp_path)
    assert config.store_url == (default_store_url(tmp_path) if "url" not in store_table else "memory://")
    assert f"[auth.store]: unknown key {unknown!r} is ignored" in caplog.text
    if nearest:
        assert f"did you mean {nearest!r}" in caplog.text


def test_the_default_store_is_a_sqlite_file_in_the_apps_streamlit_folder(tmp_path):
    config = parse_server_config(PROXY_AUTH, tmp_path)
    expected = tmp_path.resolve() / ".streamlit" / "stauth-sessions.db"
    assert config.store_url == f"sqlite://{expected}" == default_store_url(tmp_path)


@pytest.mark.parametrize(("url", "expected"), [
    ("memory://", "memory://"),
    ("redis://redis.internal:6379/2", "redis://redis.internal:6379/2"),
    ("rediss://:pw@redis.internal:6380/0", "rediss://:pw@redis.internal:6380/0"),
    ("sqlite:///var/lib/app/sessions.db", "sqlite:///var/lib/app/sessions.db"),
])
def test_good_store_urls_are_kept(tmp_path, url, expected):
    assert parse_server_config({**PROXY_AUTH, "store": {"url": url}}, tmp_path).store_url == expected


def test_a_relative_sqlite_path_is_from_the_apps_folder(tmp_path):
    config = parse_server_config({**PROXY_AUTH, "store": {"url": "sqlite://data/sessions.db"}}, tmp_path)
    assert config.store_url == f"sqlite://{tmp_path.resolve() / 'data' / 'sessions.db'}"
