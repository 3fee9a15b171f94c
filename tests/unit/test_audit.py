"""The audit trail's shape, its file and its config; sessions, refreshes and account
changes from the command line as events. (Sign-in, sign-out and route events over HTTP:
tests/endpoints/test_audit_endpoints.py; in a browser: tests/e2e/test_audit.py.)"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import stat
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from stauth_server.cli.run import main
from stauth_server.core import audit as audit_module
from stauth_server.core.audit import (
    BASE_KEYS, EVENTS, AuditConfig, AuditRequest, RequestFacts, audit, audit_line, in_request, install_file,
    parse_audit, request_scope,
)
from stauth_server.core.config import parse_server_config
from stauth_server.core.errors import ConfigError
from stauth_server.core.oidc.errors import ProviderUnavailable, TokenRejected
from stauth_server.core.session_records import Session
from stauth_server.core.sessions import SessionEnded

from test_session_model import cheap, jar, login, make_service, no_hooks, users_path  # noqa: F401 - fixtures

SECRET = "x" * 40
REQUEST = RequestFacts(client_ip="203.0.113.9", path="/auth/login", user_agent="Mozilla/5.0")


@pytest.fixture
def events(caplog):
    caplog.set_level(logging.INFO, logger="stauth.audit")
    return lambda: [json.loads(r.getMessage()) for r in caplog.records if r.name == "stauth.audit"]


@pytest.fixture(autouse=True)
def no_audit_file():
    yield
    install_file(None)


# --- the line ---------------------------------------------------------------------------


def test_an_event_starts_with_the_fixed_keys_in_order_then_its_fields():
    line = audit_line("sign_in", user_id="local|alice", request=REQUEST, provider="local", reason="ok")
    event = json.loads(line)
    assert list(event) == [*BASE_KEYS, "provider", "reason"]
    assert event["event"] == "sign_in" and event["user_id"] == "local|alice"
    assert (event["client_ip"], event["user_agent"], event["path"]) == ("203.0.113.9", "Mozilla/5.0", "/auth/login")
    assert line.startswith('{"time":') and ", " not in line  # compact, one object


def test_time_is_utc_iso_8601_with_a_z_whatever_the_local_zone():
    paris = dt.datetime(2026, 3, 1, 12, 30, 15, 250000, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    event = json.loads(audit_line("sign_out", now=paris))
    assert event["time"] == "2026-03-01T11:30:15.250Z"
    now = json.loads(audit_line("sign_out"))["time"]
    parsed = dt.datetime.fromisoformat(now.replace("Z", "+00:00"))
    assert abs((parsed - dt.datetime.now(dt.timezone.utc)).total_seconds()) < 5


@pytest.mark.parametrize("name", ["password", "new_password", "token", "access_token", "id_token", "refresh_token",
                                  "cookie", "session_cookie", "client_secret", "secret", "authorization", "code",
                                  "auth_code", "state", "nonce", "code_verifier", "password_hash", "api_key",
                                  "credential", "Bearer", "sid", "ticket"])
def test_a_secret_looking_field_is_never_written(name, caplog):
    caplog.set_level(logging.WARNING, logger="stauth_server.audit")
    event = json.loads(audit_line("sign_in_failed", reason="bad_password", **{name: "hunter2-secret-value"}))
    assert name not in event and "hunter2-secret-value" not in json.dumps(event)
    assert event["reason"] == "bad_password"
    assert any(name in r.getMessage() for r in caplog.records)  # the caller's mistake is reported


def test_fields_cannot_overwrite_the_fixed_keys():
    event = json.loads(audit_line("sign_in_failed", request=REQUEST,
                                  **{"time": "forged", "client_ip": "192.0.2.66", "request_id": "forged"}))
    assert event["time"] != "forged" and event["request_id"] != "forged" and event["client_ip"] == "203.0.113.9"


@pytest.mark.parametrize("hostile", [
    "Mozilla\n{\"event\":\"sign_in\",\"user_id\":\"local|root\"}",
    "Mozilla\r\n{\"event\":\"sign_in\"}",
    "a\u2028{\"event\":\"sign_in\"}\u2029b\x85c",
    "bad\ud800surrogate",
    "nul\x00and\x1b[31mansi",
])
def test_a_hostile_value_stays_on_its_one_line(hostile):
    request = RequestFacts(client_ip="203.0.113.9", path="/auth/login", user_agent=hostile)
    line = audit_line("sign_in_failed", request=request, username=hostile)
    assert len(line.splitlines()) == 1  # str.splitlines also breaks at U+2028, U+2029, U+0085
    line.encode("utf-8")  # writable as UTF-8, lone surrogates included
    event = json.loads(line)
    assert event["event"] == "sign_in_failed" and event["user_id"] is None
    assert event["username"].startswith(hostile[:3])


def test_long_values_are_cut():
    event = json.loads(audit_line("sign_in_failed", request=RequestFacts(user_agent="A" * 10_000), username="u" * 5000))
    assert len(event["user_agent"]) <= audit_module.MAX_VALUE + 1 and len(event["username"]) <= audit_module.MAX_VALUE + 1


def test_every_event_has_a_request_id_shared_within_one_request():
    alone = json.loads(audit_line("sign_out"))
    assert len(alone["request_id"]) == 16 and int(alone["request_id"], 16) >= 0
    assert json.loads(audit_line("sign_out"))["request_id"] != alone["request_id"]
    with request_scope(REQUEST) as scope:
        first = json.loads(audit_line("session_expired"))
        second = json.loads(audit_line("route_denied"))
    assert first["request_id"] == second["request_id"] == scope.request_id
    assert first["client_ip"] == "203.0.113.9"
    assert json.loads(audit_line("sign_out"))["client_ip"] is None  # the scope ended


def test_a_request_scope_reaches_work_sent_to_a_thread():
    scope = AuditRequest(REQUEST)
    lines: list[str] = []
    worker = threading.Thread(target=in_request, args=(scope, lambda: lines.append(audit_line("sign_in"))))
    worker.start()
    worker.join()
    assert json.loads(lines[0])["request_id"] == scope.request_id


def test_audit_logs_one_line_at_info_on_stauth_audit(events):
    audit("sign_in", user_id="local|alice", request=REQUEST, provider="local")
    [event] = events()
    assert event["event"] == "sign_in" and event["client_ip"] == "203.0.113.9"
    assert logging.getLogger("stauth.audit").isEnabledFor(logging.INFO)


def test_every_event_name_is_documented_in_the_readme():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    for name in EVENTS:
        assert f"| `{name}` |" in readme, name


def test_every_event_the_package_writes_is_a_documented_event():
    """An event name written anywhere (``audit("x", ...)`` or the CLI's ``_audit("x", ...)``)
    is in EVENTS, so none is missing from the README's table."""
    import re

    package = Path(__file__).resolve().parents[2] / "stauth_server"
    written = set()
    for source in package.rglob("*.py"):
        written |= set(re.findall(r'\b_?audit\(\s*"([a-z_]+)"', source.read_text(encoding="utf-8")))
    assert {"sign_in", "passkeys_removed", "second_factor_reset"} <= written  # the scan finds them
    assert written - set(EVENTS) == set()


# --- the file -----------------------------------------------------------------------------


def test_the_file_is_created_owner_only_and_holds_one_object_per_line(tmp_path):
    path = tmp_path / "logs" / "audit.jsonl"
    install_file(AuditConfig(file=path))
    audit("sign_in", user_id="local|alice", request=REQUEST)
    audit("sign_out", user_id="local|alice", request=REQUEST)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["event"] for line in lines] == ["sign_in", "sign_out"]


def test_the_file_rotates_and_every_rotated_file_is_owner_only(tmp_path):
    path = tmp_path / "audit.jsonl"
    install_file(AuditConfig(file=path, max_bytes=2048, backups=2))
    for n in range(60):
        audit("sign_in_failed", request=REQUEST, username=f"user{n}", reason="bad_password")
    files = sorted(tmp_path.iterdir())
    assert [f.name for f in files] == ["audit.jsonl", "audit.jsonl.1", "audit.jsonl.2"]
    for file in files:
        assert stat.S_IMODE(file.stat().st_mode) == 0o600 and file.stat().st_size <= 2048
        assert all(json.loads(line)["event"] == "sign_in_failed" for line in file.read_text().splitlines())
    assert "user59" in path.read_text()


def test_installing_again_replaces_the_file(tmp_path):
    install_file(AuditConfig(file=tmp_path / "a.jsonl"))
    install_file(AuditConfig(file=tmp_path / "b.jsonl"))
    audit("sign_out")
    assert not (tmp_path / "a.jsonl").read_text() and "sign_out" in (tmp_path / "b.jsonl").read_text()


def test_an_unwritable_file_is_a_config_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ConfigError, match=r"\[auth.audit\] file: cannot write"):
        install_file(AuditConfig(file=blocker / "audit.jsonl"))


# --- [auth.audit] ---------------------------------------------------------------------------


def test_audit_config_defaults_and_relative_paths(tmp_path):
    config = parse_server_config({"audit": {"file": "logs/audit.jsonl"}}, tmp_path)
    assert config.audit == AuditConfig(file=tmp_path / "logs" / "audit.jsonl", max_bytes=10 * 1024 * 1024, backups=5)
    assert parse_server_config({}, tmp_path).audit is None
    absolute = parse_audit({"file": str(tmp_path / "x.jsonl"), "max_bytes": 4096, "backups": 1}, Path("/elsewhere"))
    assert absolute == AuditConfig(file=tmp_path / "x.jsonl", max_bytes=4096, backups=1)


def test_audit_is_a_section_not_a_provider(tmp_path):
    config = parse_server_config({"cookie_secret": SECRET, "local": {"users_file": "u.toml"},
                                  "audit": {"file": "audit.jsonl"}}, _with_users(tmp_path))
    assert "audit" not in config.providers and config.audit is not None


@pytest.mark.parametrize("table, message", [
    ("audit.jsonl", r"\[auth.audit\]: expected a table"),
    ({}, r"\[auth.audit\] file: expected the path"),
    ({"file": ""}, r"\[auth.audit\] file: expected the path"),
    ({"file": 3}, r"\[auth.audit\] file: expected a path"),
    ({"file": "logs/"}, r"\[auth.audit\] file: expected the path"),
    ({"file": "a\x00b"}, r"\[auth.audit\] file: expected the path"),
    ({"file": "a.jsonl", "max_bytes": "10MB"}, r"\[auth.audit\] max_bytes: expected a positive integer"),
    ({"file": "a.jsonl", "max_bytes": 10}, r"\[auth.audit\] max_bytes: expected a positive integer of at least 1024"),
    ({"file": "a.jsonl", "backups": 0}, r"\[auth.audit\] backups: expected a positive integer"),
    ({"file": "a.jsonl", "backups": True}, r"\[auth.audit\] backups: expected a positive integer"),
])
def test_a_wrong_audit_table_stops_start_up_naming_the_key(tmp_path, table, message):
    with pytest.raises(ConfigError, match=message):
        parse_server_config({"audit": table}, tmp_path)


def test_an_unknown_audit_key_is_warned_about_like_any_other(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="stauth_server.config")
    config = parse_server_config({"audit": {"file": "a.jsonl", "max_byte": 4096}}, tmp_path)
    assert config.audit is not None and "max_byte" in caplog.text


def test_parse_audit_checks_types_on_its_own_too(tmp_path):
    with pytest.raises(ConfigError, match=r"\[auth.audit\] backups: expected a positive integer"):
        parse_audit({"file": "a.jsonl", "backups": True}, tmp_path)


def _with_users(tmp_path: Path) -> Path:
    (tmp_path / "u.toml").write_text("")
    return tmp_path


# --- sessions and refreshes -------------------------------------------------------------------


def test_an_expired_session_is_audited_once(users_path, events):  # noqa: F811
    service = make_service(users_path)
    done = login(service)
    now = [service.sessions._clock()]
    service.sessions._clock = lambda: now[0]
    ticket = service.sessions.ticket_in(jar(done), secure=False, path="/")
    now[0] += service.config.default_ttl + 1
    assert service.sessions.unlock(ticket) is None
    assert service.sessions.unlock(ticket) is None
    expired = [e for e in events() if e["event"] == "session_expired"]
    assert [(e["user_id"], e["reason"]) for e in expired] == [("local|alice", "absolute")]


def test_an_idle_session_is_audited(users_path, events):  # noqa: F811
    service = make_service(users_path, idle_timeout=60)
    done = login(service)
    now = [service.sessions._clock()]
    service.sessions._clock = lambda: now[0]
    now[0] += 61
    assert service.resolve(jar(done)).record is None
    [expired] = [e for e in events() if e["event"] == "session_expired"]
    assert (expired["user_id"], expired["reason"]) == ("local|alice", "idle")


@pytest.mark.parametrize("change, reason", [
    (lambda a: a.__class__(**{**a.__dict__, "disabled": True}), "account_disabled"),
    (lambda a: None, "account_removed"),
    (lambda a: a.__class__(**{**a.__dict__, "password_hash": a.password_hash.replace("$", "$", 1) + "x"}),
     "password_changed"),
])
def test_a_session_its_account_no_longer_allows_is_audited_as_revoked(users_path, events, change, reason):  # noqa: F811
    from test_session_model import rewrite_users

    service = make_service(users_path)
    done = login(service)
    rewrite_users(users_path, alice=change)
    with request_scope(REQUEST):
        assert not service.resolve(jar(done)).user.is_logged_in
    [revoked] = [e for e in events() if e["event"] == "session_revoked"]
    assert (revoked["user_id"], revoked["reason"], revoked["client_ip"]) == ("local|alice", reason, "203.0.113.9")


def test_a_revocation_found_again_by_other_replicas_and_tabs_is_audited_once(users_path, events):  # noqa: F811
    from test_session_model import rewrite_users

    service = make_service(users_path)
    record = service.resolve(jar(login(service))).record
    assert record is not None
    rewrite_users(users_path, alice=lambda a: a.__class__(**{**a.__dict__, "disabled": True}))
    for _ in range(3):  # three maintenance passes (replicas sharing the store) find the change
        with pytest.raises(SessionEnded):
            service.sessions.user_of(record)
    assert [e["reason"] for e in events() if e["event"] == "session_revoked"] == ["account_disabled"]


class _Refuser:
    def __init__(self, error: Exception):
        self.error = error

    def refresh(self, tokens, subject):
        raise self.error


@pytest.mark.parametrize("error, reason, ended", [
    (TokenRejected("refresh token revoked"), "refused", True),
    (ProviderUnavailable("provider down"), "provider_unavailable", False),
])
def test_a_failed_refresh_is_audited_without_tokens(users_path, events, error, reason, ended):  # noqa: F811
    service = make_service(users_path)
    session = service.sessions.create(issuer="https://op.example", subject="u1", provider="op", claims={"sub": "u1"},
                                      tokens={"refresh_token": "rt-secret-123", "access_token": "at-secret-456",
                                              "expires_at": 0})
    service.clients["op"] = _Refuser(error)  # type: ignore[assignment]
    result = service.refresh_if_due(session)
    assert (result is None) is ended
    [failed] = [e for e in events() if e["event"] == "refresh_failed"]
    assert (failed["user_id"], failed["provider"], failed["reason"], failed["session_ended"]) == (
        "https://op.example|u1", "op", reason, ended)
    assert "secret-123" not in json.dumps(failed) and "secret-456" not in json.dumps(failed)
    assert isinstance(session, Session)


# --- account changes from the command line ------------------------------------------------


def test_account_changes_from_the_cli_join_the_apps_audit_file(tmp_path):
    runner = CliRunner()
    with runner.isolated_filesystem(temp_dir=tmp_path) as folder:
        os.makedirs(".streamlit")
        Path(".streamlit/secrets.toml").write_text('[auth.audit]\nfile = "audit.jsonl"\n')
        password = "a-long-new-password-42"
        steps = [
            (["users", "add", "users.toml", "alice", "--role", "editor", "--password-stdin"], password + "\n"),
            (["users", "passwd", "users.toml", "alice", "--password-stdin"], "another-password-43\n"),
            (["users", "roles", "users.toml", "alice", "--role", "admin", "--role", "editor"], None),
            (["users", "disable", "users.toml", "alice"], None),
        ]
        for args, given in steps:
            result = runner.invoke(main, args, input=given)
            assert result.exit_code == 0, result.output
        trail = Path(folder, "audit.jsonl").read_text(encoding="utf-8")
        hashes = Path(folder, "users.toml").read_text(encoding="utf-8")
    events = [json.loads(line) for line in trail.splitlines()]
    assert [e["event"] for e in events] == ["user_added", "password_changed", "roles_changed", "user_disabled"]
    assert all(e["user_id"] == "local|alice" and e["username"] == "alice" for e in events)
    assert events[0]["roles"] == ["editor"] and events[2]["roles"] == ["admin", "editor"]
    assert events[2]["previous_roles"] == ["editor"]
    assert password not in trail and "another-password-43" not in trail and "$argon2" not in trail
    assert "$argon2" in hashes  # the hashes exist, just not in the trail


def test_a_wrong_audit_table_stops_the_cli_before_any_change(tmp_path):
    runner = CliRunner()
    with runner.isolated_filesystem(temp_dir=tmp_path):
        os.makedirs(".streamlit")
        Path(".streamlit/secrets.toml").write_text('[auth.audit]\nfile = ""\n')
        result = runner.invoke(main, ["users", "add", "users.toml", "alice", "--password-stdin"],
                               input="a-long-password-1\n")
        assert result.exit_code != 0 and "[auth.audit] file" in result.output
        assert not Path("users.toml").exists()
