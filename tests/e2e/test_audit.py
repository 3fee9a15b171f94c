"""The audit trail end to end: Chromium, a real ``streamlit-auth run`` with ``[auth.audit]``,
local accounts and the real OpenID Provider; the JSON-lines file read back afterwards."""

from __future__ import annotations

import json
import re
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .harness import APPS, cookie, free_port, run_app
from .op import run_op, sign_in_at_op
from .test_sign_in import SECRET, write_secrets

BOB_PASSWORD = "bob-audit-password-31415"
WRONG_PASSWORD = "not-bobs-password-27182"


def read_trail(path: Path) -> list[dict]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def first(events: list[dict], name: str, **fields) -> int:
    """The index of the first ``name`` event with these field values."""
    for index, event in enumerate(events):
        if event["event"] == name and all(event.get(k) == v for k, v in fields.items()):
            return index
    raise AssertionError(f"no {name} {fields} in {[e['event'] for e in events]}")


def assert_browser_request(event: dict) -> None:
    assert event["client_ip"] == "127.0.0.1"
    assert "Chrome" in (event["user_agent"] or "")
    assert re.fullmatch(r"[0-9a-f]{16}", event["request_id"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", event["time"])


@pytest.fixture(scope="module")
def audited(tmp_path_factory, generation):
    tmp = tmp_path_factory.mktemp("audit")
    app_dir = tmp / "app"
    shutil.copytree(APPS / "rbac", app_dir)
    subprocess.run([sys.executable, "-m", "stauth_server", "users", "add", "users.toml", "bob", "--email",
                    "bob@example.org", "--name", "Bob", "--password-stdin"],
                   cwd=app_dir, input=BOB_PASSWORD + "\n", text=True, check=True, capture_output=True)
    write_secrets(app_dir, f"""
[auth]
cookie_secret = "{SECRET}"
routes = ["api.py"]
require_login = true
login_template = "login.html"

[auth.local]
users_file = "users.toml"

[auth.access]
staff = ["admin"]
about = "public"

[auth.audit]
file = "logs/audit.jsonl"
""")
    with run_app(app_dir, generation=generation, tmp_path=tmp) as app:
        yield app, app_dir / "logs" / "audit.jsonl"


def test_a_wrong_then_right_password_a_denied_page_and_sign_out_are_in_the_file(context, audited):
    app, trail = audited
    page = context.new_page()
    page.goto(app.url("/auth/login?next=/staff"))
    page.fill("#username", "bob")
    page.fill("#password", WRONG_PASSWORD)
    page.click("button[type=submit]")
    page.get_by_text("Wrong username or password.").wait_for()
    page.fill("#password", BOB_PASSWORD)
    page.click("button[type=submit]")
    page.get_by_text("403 Forbidden").wait_for()  # bob is no admin: the staff page is refused
    session = cookie(context, "stauth_session")
    assert session is not None
    out = context.new_page()  # the signed-in tab is told of the sign-out and navigates itself
    out.goto(app.url("/auth/logout"))
    out.wait_for_url("**/auth/login**")

    events = read_trail(trail)
    failed = first(events, "sign_in_failed", username="bob")
    signed_in = first(events, "sign_in", user_id="local|bob")
    denied = first(events, "page_denied", user_id="local|bob")
    signed_out = first(events, "sign_out", user_id="local|bob")
    assert failed < signed_in < denied < signed_out
    assert events[failed]["reason"] == "bad_password" and events[failed]["path"] == "/auth/login"
    assert events[signed_in]["provider"] == "local" and events[signed_in]["path"] == "/auth/login"
    assert (events[denied]["page"], events[denied]["roles"], events[denied]["decision"], events[denied]["rule"]) == (
        "staff", ["admin"], "forbid", "access")
    assert events[denied]["path"] == "/staff"
    assert events[signed_out]["path"] == "/auth/logout"
    for index in (failed, signed_in, denied, signed_out):
        assert_browser_request(events[index])
    assert len({events[i]["request_id"] for i in (failed, signed_in, denied, signed_out)}) == 4

    text = trail.read_text(encoding="utf-8")
    assert BOB_PASSWORD not in text and WRONG_PASSWORD not in text
    assert session["value"] not in text and SECRET not in text
    assert stat.S_IMODE(trail.stat().st_mode) == 0o600


@pytest.fixture(scope="module")
def audited_oidc(tmp_path_factory, generation):
    tmp = tmp_path_factory.mktemp("audit-oidc")
    app_dir = tmp / "app"
    shutil.copytree(APPS / "native_login", app_dir)
    port = free_port()
    rp = f"http://127.0.0.1:{port}"
    with run_op(rp, tmp) as op:
        write_secrets(app_dir, f"""
[auth]
redirect_uri = "{rp}/oauth2callback"
cookie_secret = "{SECRET}"
client_id = "{op.client_id}"
client_secret = "{op.client_secret}"
server_metadata_url = "{op.metadata_url}"

[auth.audit]
file = "audit.jsonl"
""")
        with run_app(app_dir, routes=["api.py"], port=port, generation=generation, tmp_path=tmp) as app:
            yield app, op, app_dir / "audit.jsonl"


def test_a_provider_sign_in_and_st_logout_are_in_the_file(context, audited_oidc):
    app, op, trail = audited_oidc
    page = context.new_page()
    page.goto(app.url("/"))
    page.get_by_text("logged-in=False").wait_for()
    page.get_by_role("button", name="login").click()
    sign_in_at_op(page, "alice")
    page.get_by_text("logged-in=True").wait_for()
    session = cookie(context, "stauth_session")
    page.get_by_role("button", name="logout").click()  # st.logout, backed by /auth/logout

    deadline = time.monotonic() + 15
    while '"sign_out"' not in trail.read_text(encoding="utf-8") and time.monotonic() < deadline:
        time.sleep(0.1)
    events = read_trail(trail)
    signed_in = first(events, "sign_in", provider="default")
    signed_out = first(events, "sign_out", provider="default")
    assert signed_in < signed_out
    assert events[signed_in]["user_id"] == events[signed_out]["user_id"] == f"{op.issuer}|alice"
    assert events[signed_in]["path"] == "/oauth2callback" and events[signed_out]["path"] == "/auth/logout"
    for index in (signed_in, signed_out):
        assert_browser_request(events[index])
    text = trail.read_text(encoding="utf-8")
    assert session is not None and session["value"] not in text
    assert op.client_secret not in text and SECRET not in text
    assert not re.search(r"eyJ[A-Za-z0-9_-]{10,}\.", text)  # no JWT (ID or access token) anywhere
