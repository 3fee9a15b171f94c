"""LDAP sign-in against a real slapd: template bind and search-then-bind, groups from
memberOf and a group search, hostile usernames, empty passwords, directory down."""

from __future__ import annotations

import re
import shutil

import pytest

from .harness import APPS, free_port, run_app
from .ldap_server import PASSWORDS, run_slapd
from .test_sign_in import SECRET, write_secrets


@pytest.fixture(scope="module", params=["template", "search"])
def ldap_app(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ldap")
    app_dir = tmp / "app"
    shutil.copytree(APPS / "ldap", app_dir)
    with run_slapd(tmp) as uri:
        if request.param == "template":
            how = 'user_dn_template = "uid={username},ou=people,dc=example,dc=org"'
        else:
            how = ('bind_dn = "cn=admin,dc=example,dc=org"\nbind_password = "adminpw"\n'
                   'user_search_base = "ou=people,dc=example,dc=org"')
        write_secrets(app_dir, f"""
[auth]
cookie_secret = "{SECRET}"

[auth.ldap]
server_uri = "{uri}"
{how}
group_search_base = "ou=groups,dc=example,dc=org"

[auth.roles]
admin = ["group:admins"]
""")
        with run_app(app_dir, tmp_path=tmp) as app:
            yield app


def ldap_sign_in(context, app, user, secret):
    page = context.new_page()
    page.goto(app.url("/auth/login"))
    page.fill("#username", user)
    page.fill("#password", secret)
    page.click("button[type=submit]")
    return page


def test_ldap_user_signs_in_with_groups_and_roles(context, ldap_app):
    page = ldap_sign_in(context, ldap_app, "alice", PASSWORDS["alice"])
    page.get_by_text("ldap-user=Alice Example email=alice@example.org groups=admins,users roles=admin").wait_for()


def test_wrong_password_is_refused(context, ldap_app):
    page = ldap_sign_in(context, ldap_app, "bob", "not-bobs-password")
    page.get_by_text("Wrong username or password.").wait_for()


@pytest.mark.parametrize("username", ["*", "alice)(uid=*", "alice,ou=people", "bob\\2a"])
def test_filter_and_dn_metacharacters_are_refused_before_any_bind(context, ldap_app, username):
    page = ldap_sign_in(context, ldap_app, username, PASSWORDS["alice"])
    # refused (or, after several refusals from this address, throttled): never signed in
    page.get_by_text(re.compile("Wrong username or password.|Too many attempts")).wait_for()
    assert context.request.get(ldap_app.url("/auth/userinfo")).status == 401


def test_an_empty_password_is_never_an_anonymous_bind(context, ldap_app):
    status = context.request.post(ldap_app.url("/auth/login"), max_redirects=0, headers={"Origin": ldap_app.url("").rstrip("/").rsplit(ldap_app.base_path, 1)[0] if ldap_app.base_path else ldap_app.url("").rstrip("/")},
                                  form={"username": "alice", "password": "", "next": "/"}).status
    assert status == 400
    assert context.request.get(ldap_app.url("/auth/userinfo")).status == 401


def test_directory_down_is_a_clear_error_and_no_login(browser, tmp_path):
    app_dir = tmp_path / "app"
    shutil.copytree(APPS / "ldap", app_dir)
    write_secrets(app_dir, f"""
[auth]
cookie_secret = "{SECRET}"
[auth.ldap]
server_uri = "ldap://127.0.0.1:{free_port()}"
user_dn_template = "uid={{username}},ou=people,dc=example,dc=org"
""")
    with run_app(app_dir, tmp_path=tmp_path) as app:
        context = browser.new_context()
        try:
            page = ldap_sign_in(context, app, "alice", "whatever-password")
            page.get_by_text("The directory cannot be reached").wait_for()
            assert context.request.get(app.url("/auth/userinfo")).status == 401
        finally:
            context.close()
