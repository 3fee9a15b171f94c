"""Firebase Authentication end to end: the real Firebase JS SDK (npm ``firebase``, served
locally as ``sdk_url``) in Chromium against the Firebase Auth Emulator, and a real
``streamlit-auth run``. The page signs in with Firebase, posts the ID token, and our own
session follows (``sa.user``, roles from custom claims); sign-out also signs the browser
out of Firebase."""

from __future__ import annotations

import shutil

import pytest
import requests

from .firebase_emulator import PROJECT, run_firebase
from .harness import APPS, run_app
from .test_sign_in import SECRET, write_secrets

pytestmark = pytest.mark.generations("st156", "st167")

PASSWORD = "fiona-firebase-password"
#: How many signed-in Firebase users the SDK keeps in the browser (its IndexedDB).
FIREBASE_USERS_IN_BROWSER = """async () => await new Promise((resolve) => {
  const opened = indexedDB.open("firebaseLocalStorageDb");
  opened.onerror = () => resolve(-1);
  opened.onsuccess = () => {
    const db = opened.result;
    if (!db.objectStoreNames.contains("firebaseLocalStorage")) { resolve(0); return; }
    const all = db.transaction("firebaseLocalStorage", "readonly").objectStore("firebaseLocalStorage").getAll();
    all.onsuccess = () => resolve(all.result.filter((r) => String(r.fbase_key).startsWith("firebase:authUser")).length);
  };
})"""


@pytest.fixture(scope="module")
def firebase(tmp_path_factory, generation):
    tmp = tmp_path_factory.mktemp("firebase")
    app_dir = tmp / "app"
    shutil.copytree(APPS / "firebase", app_dir)
    with run_firebase(tmp) as emulator:
        fiona = emulator.sign_up("fiona@example.org", PASSWORD, "Fiona Firebase")
        set_claims = requests.post(
            f"http://{emulator.host}/identitytoolkit.googleapis.com/v1/projects/{PROJECT}/accounts:update",
            json={"localId": fiona["localId"], "customAttributes": '{"team": "analytics"}'},
            headers={"Authorization": "Bearer owner"}, timeout=10)
        assert set_claims.status_code == 200, set_claims.text
        write_secrets(app_dir, f"""
[auth]
cookie_secret = "{SECRET}"

[auth.firebase]
provider = "firebase"
project_id = "{PROJECT}"
api_key = "fake-api-key"
sign_in_methods = ["password"]
sdk_url = "{emulator.sdk_url}"
keys_url = "{emulator.keys_url}"
emulator_host = "{emulator.host}"

[auth.roles]
analyst = ["claim:team=analytics"]
""")
        with run_app(app_dir, generation=generation, tmp_path=tmp) as app:
            yield app, emulator, fiona["localId"], app_dir


def sign_in(page, app, password: str = PASSWORD):
    page.goto(app.url("/auth/login"))
    page.locator("section.firebase").wait_for()  # shown once the SDK has loaded
    page.fill("input[name=email]", "fiona@example.org")
    page.fill("input[name=password]", password)
    page.get_by_role("button", name="Sign in with Firebase").click()


def test_the_sdk_signs_in_and_our_session_follows_with_roles_from_custom_claims(context, firebase):
    app, _, uid, _ = firebase
    page = context.new_page()
    sign_in(page, app)
    page.get_by_text(f"who=Fiona Firebase provider=firebase id=https://securetoken.google.com/{PROJECT}|{uid} "
                     "roles=analyst").wait_for()
    me = page.request.get(app.url("/auth/userinfo")).json()
    assert me["provider"] == "firebase" and me["roles"] == ["analyst"]
    assert me["email"] is None  # the emulator's emails are unverified: not trusted as the user's email
    session = [c for c in context.cookies() if c["name"].startswith("stauth_session")]
    assert session and all(c["httpOnly"] and c["sameSite"] == "Lax" for c in session)


def test_a_wrong_password_shows_the_error_and_starts_no_session(browser, firebase):
    app, _, _, _ = firebase
    context = browser.new_context()
    try:
        page = context.new_page()
        sign_in(page, app, "not-the-password")
        page.get_by_text("Wrong email or password.").wait_for()
        assert page.request.get(app.url("/auth/userinfo")).status == 401
    finally:
        context.close()


def test_signing_out_ends_our_session_and_the_firebase_one(browser, firebase):
    app, _, _, _ = firebase
    context = browser.new_context()
    try:
        page = context.new_page()
        sign_in(page, app)
        page.get_by_text("provider=firebase").wait_for()
        assert page.evaluate(FIREBASE_USERS_IN_BROWSER) == 1
        page.get_by_role("button", name="sign out").click()
        page.get_by_text("who=anonymous").wait_for(timeout=30_000)
        assert page.request.get(app.url("/auth/userinfo")).status == 401
        page.goto(app.url("/auth/login"))
        page.locator("section.firebase").wait_for()
        assert page.evaluate(FIREBASE_USERS_IN_BROWSER) == 0
    finally:
        context.close()


def test_st_login_opens_the_login_page_with_the_firebase_form(context, firebase):
    app, _, _, _ = firebase
    page = context.new_page()
    page.goto(app.url("/"))
    page.get_by_role("button", name="sign in").click()
    page.wait_for_url("**/auth/login**")
    page.locator("section.firebase input[name=email]").wait_for()


def test_the_check_command_reaches_the_emulator_and_the_keys(firebase, generation):
    import subprocess

    _, emulator, _, app_dir = firebase
    done = subprocess.run([*generation.command, "check", "app.py"], cwd=app_dir, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"[auth.firebase] emulator_host {emulator.host}: the Auth Emulator answers" in done.stdout
    assert "[auth.firebase] Firebase project demo-test: 0 key(s)" in done.stdout
