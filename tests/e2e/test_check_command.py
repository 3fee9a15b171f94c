"""``streamlit-auth check`` against a real OpenID Provider and a real slapd.

A healthy setup exits 0 and prints the effective configuration with every secret redacted;
each kind of mistake (a typo'd key, a callback path that misses ``server.baseUrlPath``, an
unreachable provider, a wrong service-account password, a users file others can read) is
one ``problem:`` line and exit code 1; an invalid config exits 2 as ``run`` would.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from .harness import free_port
from .ldap_server import ADMIN_DN, ADMIN_PASSWORD, run_slapd
from .op import run_op
from .test_sign_in import SECRET, write_secrets

pytestmark = pytest.mark.generations("st156", "st167")
CLIENT_SECRET = "op-client-secret-never-printed-42"


@pytest.fixture(scope="module")
def op(tmp_path_factory):
    with run_op("http://127.0.0.1:8501", tmp_path_factory.mktemp("check-op"),
                client_secret=CLIENT_SECRET) as running:
        yield running


@pytest.fixture(scope="module")
def slapd(tmp_path_factory):
    with run_slapd(tmp_path_factory.mktemp("check-ldap")) as uri:
        yield uri


def app_dir(tmp_path: Path, generation, secrets: str) -> Path:
    folder = tmp_path / "app"
    folder.mkdir()
    (folder / "app.py").write_text("import streamlit as st\nst.write('hi')\n")
    subprocess.run([*generation.command, "users", "add", "users.toml", "alice", "--password-stdin"],
                   cwd=folder, input="alice-password-123\n", text=True, check=True, capture_output=True)
    write_secrets(folder, secrets)
    return folder


def check(generation, folder: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*generation.command, "check", "app.py", *flags], cwd=folder, text=True,
                          capture_output=True, timeout=120)


def healthy_secrets(op, slapd: str, *, bind_password: str = ADMIN_PASSWORD, extra: str = "") -> str:
    return f"""
[auth]
cookie_secret = "{SECRET}"
redirect_uri = "http://127.0.0.1:8501/base/oauth2callback"
{extra}
[auth.corp]
client_id = "{op.client_id}"
client_secret = "{CLIENT_SECRET}"
server_metadata_url = "{op.metadata_url}"

[auth.local]
users_file = "users.toml"

[auth.ldap]
server_uri = "{slapd}"
bind_dn = "{ADMIN_DN}"
bind_password = "{bind_password}"
user_search_base = "ou=people,dc=example,dc=org"
"""


def test_a_healthy_setup_passes_and_prints_no_secret(tmp_path, generation, op, slapd):
    folder = app_dir(tmp_path, generation, healthy_secrets(op, slapd))
    done = check(generation, folder, "--server.baseUrlPath", "base")
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "no problems found" in done.stdout
    assert f"discovery {op.metadata_url}" in done.stdout and "signing key(s)" in done.stdout
    assert f"the service account {ADMIN_DN} succeeded" in done.stdout
    assert "[auth.corp] client_secret = \"<redacted" in done.stdout
    for secret in (SECRET, CLIENT_SECRET, ADMIN_PASSWORD):
        assert secret not in output


def test_each_mistake_is_one_problem_line(tmp_path, generation, op, slapd):
    folder = app_dir(tmp_path, generation, healthy_secrets(
        op, slapd, bind_password="not-the-password", extra="require_logn = true\n"))
    os.chmod(folder / "users.toml", 0o644)
    dead = f"http://127.0.0.1:{free_port()}/.well-known/openid-configuration"
    (folder / ".streamlit" / "secrets.toml").write_text(
        (folder / ".streamlit" / "secrets.toml").read_text() + f"""
[auth.gone]
client_id = "x"
server_metadata_url = "{dead}"
""")
    done = check(generation, folder)   # no --server.baseUrlPath: the callback path is wrong
    problems = [line for line in done.stderr.splitlines() if line.startswith("problem: ")]
    assert done.returncode == 1, done.stdout + done.stderr
    assert any("unknown key 'require_logn'" in p and "'require_login'" in p for p in problems), problems
    assert any(p.startswith("problem: [auth] redirect_uri:") and "expected '/oauth2callback'" in p
               for p in problems), problems
    assert any(p.startswith("problem: [auth.gone] server_metadata_url:") for p in problems), problems
    assert any(p.startswith("problem: [auth.ldap]") and "service account" in p for p in problems), problems
    assert any("users_file" in p and "chmod 600" in p for p in problems), problems
    assert len(problems) == 5, problems
    assert "not-the-password" not in done.stdout + done.stderr


def test_an_invalid_config_exits_2_naming_the_key(tmp_path, generation, op, slapd):
    folder = app_dir(tmp_path, generation, healthy_secrets(op, slapd, extra="require_login = \"yes\"\n"))
    done = check(generation, folder, "--server.baseUrlPath", "base")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "require_login" in done.stderr and "true or false" in done.stderr
