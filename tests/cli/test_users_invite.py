"""`streamlit-auth users invite`: a disabled account with a one-time link built from the
app's [auth] redirect_uri, printed, and e-mailed through a real SMTP server when the app
configures [auth.smtp]; clear refusals naming what is missing."""

from __future__ import annotations

import json
import logging
import socket
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))

from cheap_argon2 import use_cheap_hasher  # noqa: E402

from stauth_server.cli import main  # noqa: E402
from stauth_server.core.accounts.links import INVITE  # noqa: E402
from stauth_server.core.accounts.recovery_flows import LinkRefused, open_link  # noqa: E402
from stauth_server.core.audit import install_file  # noqa: E402
from stauth_server.core.sources.local import LocalAccount, UsersFile, hash_password  # noqa: E402
from tests.e2e.smtp_sink import smtp_sink  # noqa: E402

REDIRECT_URI = "https://portal.example.org/team/oauth2callback"


@pytest.fixture(autouse=True)
def cheap(monkeypatch):
    use_cheap_hasher(monkeypatch)


@pytest.fixture(autouse=True)
def no_audit_file_after():
    yield
    install_file(None)


@pytest.fixture
def app_dir(tmp_path) -> Path:
    folder = tmp_path / "portal"
    (folder / ".streamlit").mkdir(parents=True)
    (folder / "portal.py").write_text("import streamlit as st\nst.set_page_config(page_title='Sales Portal')\n")
    return folder


def secrets(app_dir: Path, text: str) -> None:
    (app_dir / ".streamlit" / "secrets.toml").write_text(text)


def smtp_table(port: int) -> str:
    return f'[auth.smtp]\nhost = "127.0.0.1"\nport = {port}\nstarttls = false\nsender = "portal@example.org"\n'


def invite(*args: str):
    return CliRunner().invoke(main, ["users", "invite", *args])


def printed_link(output: str) -> str:
    [link] = [line for line in output.splitlines() if line.startswith("https://")]
    return link


def token_of(link: str) -> str:
    return parse_qs(urlsplit(link).query)["token"][0]


def test_an_invitation_is_created_printed_and_e_mailed_through_the_apps_smtp(app_dir, tmp_path):
    users = tmp_path / "users.toml"
    with smtp_sink() as sink:
        secrets(app_dir, f'[auth]\nredirect_uri = "{REDIRECT_URI}"\n[auth.audit]\nfile = "audit.jsonl"\n'
                         + smtp_table(sink.port))
        result = invite(str(users), "zoe@example.org", "--name", "Zoe Z", "--role", "editor", "--role", "sales",
                        "--app", str(app_dir / "portal.py"))
        assert result.exit_code == 0, result.output
        [received] = sink.wait_for(1)
    link = printed_link(result.output)
    assert link.startswith("https://portal.example.org/team/auth/invite?token=")
    assert received.rcpt_tos == ("zoe@example.org",) and received.links == [link]
    assert received.message["From"] == "portal@example.org" and "Sales Portal" in received.message["Subject"]
    assert "Hello Zoe Z," in received.body and "e-mailed to zoe@example.org" in result.output
    account = UsersFile(users).accounts()["zoe@example.org"]
    assert account.disabled and account.roles == ("editor", "sales") and account.name == "Zoe Z"
    assert open_link(UsersFile(users), token_of(link), INVITE).username == "zoe@example.org"
    assert token_of(link) not in users.read_text()
    [event] = [json.loads(line) for line in (app_dir / "audit.jsonl").read_text().splitlines()]
    assert event["event"] == "invitation_sent" and event["emailed"] is True and event["email"] == "zoe@example.org"
    assert token_of(link) not in json.dumps(event)


def test_without_smtp_the_link_is_printed_for_the_admin_to_pass_on(app_dir, tmp_path, monkeypatch):
    secrets(app_dir, f'[auth]\nredirect_uri = "{REDIRECT_URI}"\n')
    monkeypatch.chdir(app_dir)  # the app in the current folder
    result = invite("users.toml", "zoe@example.org", "--username", "zoe")
    assert result.exit_code == 0, result.output
    assert "not e-mailed ([auth.smtp] is not configured" in result.output
    link = printed_link(result.output)
    assert open_link(UsersFile(app_dir / "users.toml"), token_of(link), INVITE).username == "zoe"


def test_a_missing_redirect_uri_is_refused_naming_the_key(app_dir, tmp_path):
    secrets(app_dir, '[auth]\ncookie_secret = "x"\n')
    result = invite(str(tmp_path / "users.toml"), "zoe@example.org", "--app", str(app_dir / "portal.py"))
    assert result.exit_code == 1 and "[auth] redirect_uri: missing" in result.output
    assert not (tmp_path / "users.toml").exists()


def test_a_redirect_uri_that_is_no_callback_is_refused_naming_the_key(app_dir, tmp_path):
    secrets(app_dir, '[auth]\nredirect_uri = "https://portal.example.org/"\n')
    result = invite(str(tmp_path / "users.toml"), "zoe@example.org", "--app", str(app_dir / "portal.py"))
    assert result.exit_code == 1 and "[auth] redirect_uri" in result.output and "/oauth2callback" in result.output


def test_without_the_apps_secrets_it_says_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invite("users.toml", "zoe@example.org")
    assert result.exit_code == 1 and ".streamlit/secrets.toml: no such file" in result.output
    assert "--app" in result.output
    assert invite("users.toml", "zoe@example.org", "--app", "missing.py").exit_code == 1


def test_an_existing_account_or_a_bad_address_is_refused_and_nothing_changes(app_dir, tmp_path):
    secrets(app_dir, f'[auth]\nredirect_uri = "{REDIRECT_URI}"\n')
    users = tmp_path / "users.toml"
    UsersFile(users).save([LocalAccount("alice", hash_password("alice-Pa55word-1"), "alice@example.org")])
    before = users.read_text()
    app = str(app_dir / "portal.py")
    exists = invite(str(users), "alice@example.org", "--username", "alice", "--app", app)
    assert exists.exit_code == 1 and "alice already exists" in exists.output
    bad = invite(str(users), "not an address", "--app", app)
    assert bad.exit_code == 1 and "not an e-mail address" in bad.output
    assert users.read_text() == before


def test_a_smtp_server_that_cannot_be_reached_fails_but_prints_the_working_link(app_dir, tmp_path):
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    secrets(app_dir, f'[auth]\nredirect_uri = "{REDIRECT_URI}"\n' + smtp_table(port))
    users = tmp_path / "users.toml"
    result = invite(str(users), "zoe@example.org", "--app", str(app_dir / "portal.py"))
    assert result.exit_code == 1 and "the invitation was not e-mailed" in result.output
    assert open_link(UsersFile(users), token_of(printed_link(result.output)), INVITE).disabled


def test_a_users_file_other_than_the_apps_is_warned_about(app_dir, tmp_path):
    secrets(app_dir, f'[auth]\nredirect_uri = "{REDIRECT_URI}"\n[auth.local]\nusers_file = "users.toml"\n')
    result = invite(str(tmp_path / "other.toml"), "zoe@example.org", "--app", str(app_dir / "portal.py"))
    assert result.exit_code == 0 and "the app will not see this account" in result.stderr


def test_list_shows_an_invited_account_and_disable_kills_its_link(app_dir, tmp_path):
    secrets(app_dir, f'[auth]\nredirect_uri = "{REDIRECT_URI}"\n')
    users = tmp_path / "users.toml"
    link = printed_link(invite(str(users), "zoe@example.org", "--username", "zoe",
                               "--app", str(app_dir / "portal.py")).output)
    listed = CliRunner().invoke(main, ["users", "list", str(users)])
    assert "zoe\tzoe@example.org\t-\tinvited\t" in listed.output
    assert CliRunner().invoke(main, ["users", "disable", str(users), "zoe"]).exit_code == 0
    with pytest.raises(LinkRefused):
        open_link(UsersFile(users), token_of(link), INVITE)
    assert "zoe\tzoe@example.org\t-\tdisabled\t" in CliRunner().invoke(main, ["users", "list", str(users)]).output


def test_the_invitation_is_not_logged(app_dir, tmp_path, caplog):
    secrets(app_dir, f'[auth]\nredirect_uri = "{REDIRECT_URI}"\n')
    with caplog.at_level(logging.DEBUG):
        result = invite(str(tmp_path / "users.toml"), "zoe@example.org", "--app", str(app_dir / "portal.py"))
    assert token_of(printed_link(result.output)) not in caplog.text
