"""Sessions held by the server, end to end: a real Chromium against real ``streamlit-auth run``
servers (and a real Redis where replicas or outages are the point).

- a restart keeps users signed in (the default SQLite store), across a secret rotation;
  ``memory://`` signs them out (the documented difference);
- the default store is ``.streamlit/stauth-sessions.db`` beside the app, owner-only, and
  holds no readable identity;
- disabling an account or removing its role reaches open tabs within the maintenance
  interval;
- websocket identity only for the app's own pages; auth pages refuse to be framed by
  other sites.

Replicas and Redis outages are in ``test_replicas_bus.py``.
"""

from __future__ import annotations

import base64
import shutil
import sqlite3
import stat
import time
from pathlib import Path

import pytest
import requests

from stauth_server.core.sources.local import LocalAccount, UsersFile, hash_password

from .harness import APPS, free_port, other_origin_page, run_app

OLD_SECRET = "session-lifecycle-old-secret-0123456789abcdef"
NEW_SECRET = "session-lifecycle-new-secret-0123456789abcdef"
EMAIL = {"alice": "alice@corp.test", "bob": "bob@corp.test", "carol": "carol@corp.test", "dave": "dave@corp.test"}
NAME = {user: f"{user.title()} Lifecycle" for user in EMAIL}
#: The maintenance interval the account-change tests run with (seconds).
MAINTENANCE = 1
#: How long past the interval an open tab may take to show the change (a loaded CI box).
SLACK = 4


def password(user: str) -> str:
    return f"{user}-password-123"


def account(user: str, *, roles: tuple[str, ...] = ("admin",), disabled: bool = False,
            password_hash: str | None = None) -> LocalAccount:
    return LocalAccount(user, password_hash or hash_password(password(user)), EMAIL[user], NAME[user], roles, disabled)


def make_app(tmp_path: Path, *, secrets: str, store: str | None, users=("alice",)) -> Path:
    """The ``sessions`` app copied into ``tmp_path`` with a users file and its secrets."""
    app_dir = tmp_path / "app"
    shutil.copytree(APPS / "sessions", app_dir)
    UsersFile(app_dir / "users.toml").save([account(u) for u in users])
    write_config(app_dir, secrets=secrets, store=store)
    return app_dir


def write_config(app_dir: Path, *, secrets: str, store: str | None) -> None:
    (app_dir / ".streamlit").mkdir(exist_ok=True)
    store_table = f'\n[auth.store]\nurl = "{store}"\n' if store else ""
    (app_dir / ".streamlit" / "secrets.toml").write_text(f"""
[auth]
{secrets}

[auth.local]
users_file = "users.toml"

[auth.access]
admin = ["admin"]
{store_table}""")


def sign_in(context, app, user: str = "alice"):
    """The login form, as a person fills it; returns the page once the app shows the user."""
    page = context.new_page()
    page.goto(app.url("/auth/login?next=/"))
    page.fill("#username", user)
    page.fill("#password", password(user))
    page.click("button[type=submit]")
    page.get_by_text(f"who=local|{user} ").wait_for()
    return page


def who(user: str, roles: str = "admin") -> str:
    return f"who=local|{user} email={EMAIL[user]} roles={roles}"


def userinfo(context, app) -> requests.Response:
    """``/auth/userinfo`` with the browser's cookies (from Python, so it can time out)."""
    jar = {c["name"]: c["value"] for c in context.cookies() if c["domain"] in ("127.0.0.1", "localhost")}
    return requests.get(app.url("/auth/userinfo"), cookies=jar, timeout=15, headers={"Accept": "application/json"})


# --- 1. restarts ------------------------------------------------------------------------


def test_a_restart_keeps_users_signed_in_across_a_secret_rotation(context, tmp_path, generation):
    """Default store (no ``[auth.store]``): stop, rotate the secrets, start on the same port."""
    app_dir = make_app(tmp_path, secrets=f'cookie_secret = "{OLD_SECRET}"', store=None)
    port = free_port()
    with run_app(app_dir, port=port, generation=generation, tmp_path=tmp_path) as app:
        page = sign_in(context, app)
        page.get_by_text(who("alice")).wait_for()
        before = userinfo(context, app).json()
    write_config(app_dir, secrets=f'cookie_secrets = ["{NEW_SECRET}", "{OLD_SECRET}"]', store=None)
    with run_app(app_dir, port=port, generation=generation, tmp_path=tmp_path) as app:
        page.reload()
        page.get_by_text(who("alice")).wait_for()
        page.get_by_text("logged-in=True").wait_for()
        after = userinfo(context, app)
        assert after.status_code == 200
        same = ("local|alice", EMAIL["alice"])
        assert (before["id"], before["email"]) == (after.json()["id"], after.json()["email"]) == same


def test_with_a_memory_store_a_restart_signs_everyone_out(context, tmp_path, generation):
    app_dir = make_app(tmp_path, secrets=f'cookie_secret = "{OLD_SECRET}"', store="memory://")
    port = free_port()
    with run_app(app_dir, port=port, generation=generation, tmp_path=tmp_path) as app:
        page = sign_in(context, app)
        page.get_by_text(who("alice")).wait_for()
    with run_app(app_dir, port=port, generation=generation, tmp_path=tmp_path) as app:
        page.reload()
        page.get_by_text("logged-in=False").wait_for()
        page.get_by_text("who=- email=- roles=-").wait_for()
        assert userinfo(context, app).status_code == 401
    assert not (app_dir / ".streamlit" / "stauth-sessions.db").exists()


# --- 2. the default location ----------------------------------------------------------------


def test_the_default_store_is_an_owner_only_file_beside_the_app_without_readable_identity(context, tmp_path, generation):
    app_dir = make_app(tmp_path, secrets=f'cookie_secret = "{OLD_SECRET}"', store=None)
    database = app_dir / ".streamlit" / "stauth-sessions.db"
    with run_app(app_dir, generation=generation, tmp_path=tmp_path) as app:
        page = sign_in(context, app)
        page.get_by_text(who("alice")).wait_for()
        assert database.is_file()
        files = sorted(database.parent.glob("stauth-sessions.db*"))
        for path in files:
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, (path, oct(path.stat().st_mode))
        dump = b"".join(path.read_bytes() for path in files)
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:   # the session is in there
            assert db.execute("SELECT count(*) FROM sessions").fetchone()[0] == 1
    for secret in (EMAIL["alice"], NAME["alice"], "local|alice"):
        assert secret.encode() not in dump, secret
    print(f"\ndefault store files: {[p.name for p in files]}, {len(dump)} bytes, none holds the email or name")


# --- 3. account changes reach open sessions ---------------------------------------------------


@pytest.fixture(scope="module")
def accounts_app(tmp_path_factory, generation):
    """One server, maintenance every second, a per-module SQLite store; one account per test."""
    tmp = tmp_path_factory.mktemp("accounts")
    app_dir = make_app(tmp, secrets=f'cookie_secret = "{OLD_SECRET}"', store=f"sqlite:///{tmp}/sessions.db",
                       users=tuple(EMAIL))
    with run_app(app_dir, generation=generation, tmp_path=tmp, env={"STREAMLIT_AUTH_MAINTENANCE_SECONDS": str(MAINTENANCE)}) as app:
        yield app, UsersFile(app_dir / "users.toml")


def change_account(users: UsersFile, user: str, **changes) -> float:
    """Rewrite the users file with one account changed; when it was written."""
    accounts = users.accounts()
    old = accounts[user]
    accounts[user] = LocalAccount(old.username, old.password_hash, old.email, old.name,
                                  changes.get("roles", old.roles), changes.get("disabled", old.disabled))
    users.save(accounts.values())
    return time.monotonic()


def test_disabling_an_account_signs_its_open_tabs_out(context, accounts_app):
    app, users = accounts_app
    home = sign_in(context, app, "alice")
    home.get_by_text(who("alice")).wait_for()
    admin = context.new_page()
    admin.goto(app.url("/admin"))
    admin.get_by_text("admin-page").wait_for()
    changed = change_account(users, "alice", disabled=True)
    home.get_by_text("logged-in=False").wait_for(timeout=(MAINTENANCE + SLACK) * 1000)
    print(f"\nopen tab signed out {time.monotonic() - changed:.2f} s after the account was disabled")
    admin.wait_for_url("**/auth/login**", timeout=(MAINTENANCE + SLACK) * 1000)   # an anonymous visitor there
    home.reload()
    home.get_by_text("who=- email=- roles=-").wait_for()
    assert userinfo(context, app).status_code == 401


def test_removing_a_role_takes_the_admin_page_from_an_open_tab(context, accounts_app):
    app, users = accounts_app
    sign_in(context, app, "bob")
    admin = context.new_page()
    admin.goto(app.url("/admin"))
    admin.get_by_text("admin-page").wait_for()
    changed = change_account(users, "bob", roles=())
    admin.get_by_text("403 Forbidden").wait_for(timeout=(MAINTENANCE + SLACK) * 1000)
    print(f"\nopen admin tab refused {time.monotonic() - changed:.2f} s after the role was removed")
    assert admin.get_by_text("admin-page").count() == 0
    home = context.new_page()
    home.goto(app.url("/"))
    home.get_by_text(who("bob", roles="-")).wait_for()     # still signed in, without the role
    assert userinfo(context, app).json()["roles"] == []


# --- 6. websocket identity: only for the app's own pages ---------------------------------------

#: Opens Streamlit's websocket like its frontend does, asks for a script run, and returns the
#: binary frames (base64) once one of them carries the app's "logged-in=" line.
OPEN_STREAM = """async ([url, protocols, backMsg]) => new Promise((resolve) => {
  const frames = [];
  const ws = new WebSocket(url, protocols);
  ws.binaryType = "arraybuffer";
  const done = (why) => { try { ws.close(); } catch (e) {} resolve({why, frames}); };
  ws.onopen = () => ws.send(new Uint8Array(backMsg));
  ws.onmessage = (event) => {
    const bytes = new Uint8Array(event.data);
    let text = "";
    for (const b of bytes) text += String.fromCharCode(b);
    frames.push(btoa(text));
    if (text.includes("logged-in=")) done("rendered");
  };
  ws.onclose = (event) => done("closed " + event.code);
  setTimeout(() => done("timeout"), 15000);
})"""


def _rerun_message() -> list[int]:
    from streamlit.proto.BackMsg_pb2 import BackMsg

    message = BackMsg()
    message.rerun_script.query_string = ""
    message.rerun_script.page_script_hash = ""
    return list(message.SerializeToString())


def _rendered_texts(frames: list[str]) -> list[str]:
    """The ``st.text`` bodies in Streamlit's ForwardMsgs."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    texts = []
    for frame in frames:
        message = ForwardMsg()
        message.ParseFromString(base64.b64decode(frame))
        if message.HasField("delta") and message.delta.HasField("new_element"):
            element = message.delta.new_element
            if element.HasField("text"):
                texts.append(element.text.body)
    return texts


def stream_identity(page, app, *, with_xsrf_token: bool) -> str:
    """Open the app's websocket from ``page`` (whatever its origin) and return the
    ``logged-in=`` line the app rendered for that connection."""
    token = "x"
    if with_xsrf_token:   # the page reads Streamlit's XSRF cookie, as Streamlit's frontend does
        token = page.evaluate("() => (document.cookie.match(/(?:^|; )_streamlit_xsrf=([^;]*)/) || [])[1] || 'none'")
        assert token != "none", "the page cannot read _streamlit_xsrf"
    ws_url = app.url("/_stcore/stream").replace("http://", "ws://")
    result = page.evaluate(OPEN_STREAM, [ws_url, ["streamlit", token], _rerun_message()])
    lines = [t for t in _rendered_texts(result["frames"]) if t.startswith("logged-in=")]
    assert lines, f"the app rendered nothing over the websocket ({result['why']})"
    return lines[0]


@pytest.fixture
def foreign_page(context):
    """A page of another app on the same host: another origin, yet the same site, so
    SameSite=Lax sends it the app's cookies, and Streamlit's origin allow-list (any
    localhost port) lets its websocket in."""
    with other_origin_page() as url:
        page = context.new_page()
        page.goto(url)
        page.get_by_text("another app").wait_for()
        yield page


def test_websocket_identity_only_for_the_apps_own_origin(context, accounts_app, foreign_page):
    app, _ = accounts_app
    own = sign_in(context, app, "carol")
    assert stream_identity(own, app, with_xsrf_token=False) == "logged-in=True"     # Origin is the app's
    assert stream_identity(own, app, with_xsrf_token=True) == "logged-in=True"
    assert stream_identity(foreign_page, app, with_xsrf_token=False) == "logged-in=False"


def test_websocket_identity_refused_to_another_port_that_reads_the_xsrf_cookie(context, accounts_app, foreign_page):
    """Cookies are per host, not per port: a page on another port of the same host reads
    ``_streamlit_xsrf`` (not HttpOnly: Streamlit's frontend reads it) and sends it as the
    websocket's token; its ``Origin`` still says it is not the app."""
    app, _ = accounts_app
    sign_in(context, app, "dave")
    assert stream_identity(foreign_page, app, with_xsrf_token=True) == "logged-in=False"


# --- 7. framing ---------------------------------------------------------------------------------


def test_auth_pages_cannot_be_framed_by_another_origin(context, accounts_app, foreign_page):
    app, _ = accounts_app
    for path in ("/auth/login", "/auth/logout", "/auth/login?provider=nope"):
        response = requests.get(app.url(path), timeout=10, headers={"Sec-Fetch-Site": "cross-site"})
        assert response.headers.get("X-Frame-Options") == "DENY", path
        assert response.headers.get("Content-Security-Policy") == "frame-ancestors 'self'", path
        assert response.headers.get("Referrer-Policy") == "no-referrer", path
        assert response.headers.get("Cache-Control") == "no-store", path
    # The other app frames the login page (refused) and Streamlit's health answer (a control).
    login_url, health_url = app.url("/auth/login"), app.url("/_stcore/health")
    blocked = []
    foreign_page.on("requestfailed", lambda r: blocked.append(r.failure) if r.url == login_url else None)
    foreign_page.evaluate("""([login, health]) => new Promise((resolve) => {
      let loaded = 0;
      for (const src of [login, health]) {
        const frame = document.createElement("iframe");
        frame.src = src;
        frame.onload = () => { if (++loaded === 2) resolve(); };
        document.body.appendChild(frame);
      }
    })""", [login_url, health_url])
    health = next(f for f in foreign_page.frames if f.url == health_url)
    assert health.locator("body").inner_text().strip() == "ok"          # framing works in general
    assert all(f.locator("#username").count() == 0 for f in foreign_page.frames), "the login form rendered in a frame"
    assert blocked == ["net::ERR_BLOCKED_BY_RESPONSE"], blocked
    # The app's own pages may frame it ('self').
    own = context.new_page()
    own.goto(app.url("/_stcore/health"))
    own.evaluate("src => { const f = document.createElement('iframe'); f.src = src; document.body.appendChild(f); }",
                 login_url)
    own.frame_locator("iframe").locator("#username").wait_for()
