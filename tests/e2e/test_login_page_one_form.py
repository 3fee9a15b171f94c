"""The login page people expect, in Chromium against ``streamlit-auth run`` and a real slapd:
one username/password form that tries local accounts then LDAP with one answer; the source
chooser only with ``[auth] password_source_chooser``; the app's title and logo (from the
script's ``st.set_page_config``/``st.logo``, or ``login_title``, escaped); light and dark;
a phone's screen without sideways scrolling.
"""

from __future__ import annotations

import base64
import re
import shutil

import pytest
import requests

from stauth_server.core.sources.local import LocalAccount, UsersFile, hash_password

from .harness import APPS, run_app
from .ldap_server import PASSWORDS, run_slapd
from .test_sign_in import SECRET, write_secrets

pytestmark = pytest.mark.generations("st156", "st167")

LOCAL_PASSWORDS = {"lucy": "lucy-local-password", "alice": "alice-local-password"}
XSS_TITLE = '</title><script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2"> Acme "Portal"'
WRONG = "Wrong username or password."


def app_dir_for(tmp, extra: str, ldap_uri: str):
    app_dir = tmp / "app"
    shutil.copytree(APPS / "login_page", app_dir)
    UsersFile(app_dir / "users.toml").save([
        LocalAccount("lucy", hash_password(LOCAL_PASSWORDS["lucy"]), "lucy@example.org", "Lucy Local"),
        LocalAccount("alice", hash_password(LOCAL_PASSWORDS["alice"]), "alice@local.example", "Alice Local"),
    ])
    write_secrets(app_dir, f"""
[auth]
cookie_secret = "{SECRET}"
{extra}
[auth.local]
users_file = "users.toml"

[auth.ldap]
server_uri = "{ldap_uri}"
user_dn_template = "uid={{username}},ou=people,dc=example,dc=org"
""")
    return app_dir


@pytest.fixture(scope="module")
def directory(tmp_path_factory):
    with run_slapd(tmp_path_factory.mktemp("login-page-ldap")) as uri:
        yield uri


@pytest.fixture(scope="module")
def portal(tmp_path_factory, generation, directory):
    """Local accounts and LDAP, no chooser, no login_title: the script's title and logo."""
    tmp = tmp_path_factory.mktemp("portal")
    with run_app(app_dir_for(tmp, "", directory), "sales_portal.py", generation=generation, tmp_path=tmp) as app:
        yield app


@pytest.fixture(scope="module")
def chooser_portal(tmp_path_factory, generation, directory):
    """The same with the chooser on and a hostile login_title."""
    tmp = tmp_path_factory.mktemp("chooser-portal")
    title = XSS_TITLE.replace("\\", "\\\\").replace('"', '\\"')
    extra = f'password_source_chooser = true\nlogin_title = "{title}"\nlogin_logo = "https://cdn.example.org/l.png"'
    with run_app(app_dir_for(tmp, extra, directory), "sales_portal.py", generation=generation, tmp_path=tmp) as app:
        yield app


def sign_in(context, app, user, password, source=None):
    page = context.new_page()
    page.goto(app.url("/auth/login"))
    if source is not None:
        page.select_option("#source", source)
    page.fill("#username", user)
    page.fill("#password", password)
    page.click("button[type=submit]")
    return page


# --- one form ----------------------------------------------------------------------------

def test_the_form_has_no_source_chooser_and_shows_the_apps_title_and_logo(context, portal):
    page = context.new_page()
    page.goto(portal.url("/auth/login"))
    assert page.locator("select").count() == 0 and page.locator("input[name=source]").count() == 0
    assert page.locator("h1").inner_text() == "Sales Portal"
    assert page.title() == "Sign in · Sales Portal"
    logo = page.locator("img.logo")
    expected = base64.b64encode((APPS / "login_page" / "logo.png").read_bytes()).decode()
    assert logo.get_attribute("src") == f"data:image/png;base64,{expected}"
    assert logo.evaluate("img => img.complete && img.naturalWidth") == 1  # a real image, decoded
    assert page.locator("#username").get_attribute("autocomplete") == "username"


def test_a_wrong_password_and_an_unknown_user_get_one_message(context, portal):
    for user in ("alice", "nobody"):
        page = sign_in(context, portal, user, "not-the-password")
        page.get_by_text(WRONG).wait_for()
        assert page.locator("p.error").inner_text() == WRONG
    assert context.request.get(portal.url("/auth/userinfo")).status == 401


def test_a_local_account_signs_in_with_the_form(context, portal):
    page = sign_in(context, portal, "lucy", LOCAL_PASSWORDS["lucy"])
    page.get_by_text("who=Lucy Local provider=local email=lucy@example.org").wait_for()


def test_a_directory_user_signs_in_with_the_same_form(context, portal):
    page = sign_in(context, portal, "bob", PASSWORDS["bob"])
    page.get_by_text("who=Bob Example provider=ldap email=bob@example.org").wait_for()


def test_a_local_name_with_the_directorys_password_reaches_the_directory_account(browser, portal):
    for password, shown in ((LOCAL_PASSWORDS["alice"], "who=Alice Local provider=local"),
                            (PASSWORDS["alice"], "who=Alice Example provider=ldap")):
        context = browser.new_context()
        try:
            sign_in(context, portal, "alice", password).get_by_text(shown).wait_for()
        finally:
            context.close()


def test_each_submit_counts_once_for_the_throttle(portal):
    """Three refusals (not throttled: counted once per source, the second submit would have
    made four), then the fourth is throttled. Posted back to back, as a guesser would."""
    browser = requests.Session()
    token = re.search(r'name="_xsrf" value="([^"]+)"', browser.get(portal.url("/auth/login"), timeout=10).text)
    assert token is not None
    answers = [browser.post(portal.url("/auth/login"), timeout=20, allow_redirects=False,
                            headers={"Origin": portal.url("").rstrip("/")},
                            data={"_xsrf": token.group(1), "username": "zed", "password": "guess"})
               for _ in range(4)]
    assert [a.status_code for a in answers] == [401, 401, 401, 429]
    assert all(WRONG in a.text for a in answers[:3]) and "Too many attempts" in answers[3].text


# --- the chooser, and a hostile title ------------------------------------------------------

def test_the_chooser_appears_only_when_configured_and_picks_the_source(browser, chooser_portal):
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(chooser_portal.url("/auth/login"))
        assert page.locator("#source option").all_inner_texts() == ["App account", "Directory (LDAP)"]
        refused = sign_in(context, chooser_portal, "bob", PASSWORDS["bob"], source="local")
        refused.get_by_text(WRONG).wait_for()
        done = sign_in(context, chooser_portal, "bob", PASSWORDS["bob"], source="ldap")
        done.get_by_text("who=Bob Example provider=ldap").wait_for()
    finally:
        context.close()


def test_the_login_title_is_text_never_markup(context, chooser_portal):
    page = context.new_page()
    page.goto(chooser_portal.url("/auth/login"))
    assert page.locator("h1").inner_text() == XSS_TITLE
    assert page.title() == f"Sign in · {XSS_TITLE}"
    assert page.evaluate("window.__pwned") is None
    assert page.locator("script").count() == 0
    assert page.locator("img").evaluate_all("imgs => imgs.map(i => i.getAttribute('src'))") == \
        ["https://cdn.example.org/l.png"]


# --- themes and phones ------------------------------------------------------------------------

@pytest.mark.parametrize("scheme,background", [("light", "rgb(255, 255, 255)"), ("dark", "rgb(14, 17, 23)")])
def test_the_page_follows_the_browsers_light_or_dark_theme(browser, portal, scheme, background):
    context = browser.new_context(color_scheme=scheme)
    try:
        page = context.new_page()
        page.goto(portal.url("/auth/login"))
        assert page.evaluate("getComputedStyle(document.body).backgroundColor") == background
        text, card = page.evaluate("[getComputedStyle(document.querySelector('h1')).color, "
                                   "getComputedStyle(document.querySelector('main')).backgroundColor]")
        assert text != card and card != background
    finally:
        context.close()


def test_the_form_fits_a_phone_without_sideways_scrolling(browser, chooser_portal):
    context = browser.new_context(viewport={"width": 360, "height": 640}, device_scale_factor=2,
                                  is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        page.goto(chooser_portal.url("/auth/login"))
        assert page.locator("meta[name=viewport]").get_attribute("content") == "width=device-width,initial-scale=1"
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        for selector in ("form", "#username", "#password", "#source", "button[type=submit]", "h1"):
            box = page.locator(selector).bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 360, selector
    finally:
        context.close()


# --- a logo the main script computes -----------------------------------------------------

def test_a_computed_st_logo_reaches_the_login_page_after_the_app_first_shows_it(context, tmp_path, generation):
    """No literal to read before the app runs: no logo at first (never a broken image);
    after a visitor's page run showed it, the login page carries that same image."""
    app_dir = tmp_path / "app"
    shutil.copytree(APPS / "login_page", app_dir)
    UsersFile(app_dir / "users.toml").save([LocalAccount("lucy", hash_password(LOCAL_PASSWORDS["lucy"]))])
    write_secrets(app_dir, f'[auth]\ncookie_secret = "{SECRET}"\n[auth.local]\nusers_file = "users.toml"\n')
    with run_app(app_dir, "computed_logo.py", generation=generation, tmp_path=tmp_path) as app:
        before = requests.get(app.url("/auth/login"), timeout=10)
        assert before.status_code == 200 and "<img" not in before.text
        page = context.new_page()
        page.goto(app.url("/"))
        page.get_by_text("computed-logo app ran").wait_for()
        page.goto(app.url("/auth/login"))
        expected = base64.b64encode((APPS / "login_page" / "logo.png").read_bytes()).decode()
        logo = page.locator("img.logo")
        assert logo.get_attribute("src") == f"data:image/png;base64,{expected}"
        assert logo.evaluate("img => img.complete && img.naturalWidth") == 1
        assert page.locator("h1").inner_text() == "Computed Logo"  # the file name, made readable
