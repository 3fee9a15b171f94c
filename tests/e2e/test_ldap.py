"""LDAP sign-in against a real slapd: template bind and search-then-bind, groups from
memberOf and a group search (a bare group name only for groups directly under
group_search_base), one user whatever the username's case, hostile usernames, empty
passwords, directory down; LDAPS and StartTLS with a certificate generated here, and a
certificate that must not be trusted.

The Chromium tests drive ``streamlit-auth run``; the ``LdapSource`` tests call the
directory directly, against the same kind of slapd.
"""

from __future__ import annotations

import re
import shutil

import pytest

from stauth_server.core.sources.ldap import LdapSource, LdapUnavailable, parse_ldap

from .harness import APPS, free_port, run_app
from .ldap_server import ADMIN_DN, ADMIN_PASSWORD, PASSWORDS, make_ca, run_slapd, run_tls_slapd
from .test_sign_in import SECRET, write_secrets

TEMPLATE = "uid={username},ou=people,dc=example,dc=org"
GROUPS = "ou=groups,dc=example,dc=org"
ALICE_DN = "uid=alice,ou=people,dc=example,dc=org"
CONTRACTOR_ADMINS = "cn=admins,ou=contractors,dc=example,dc=org"
ROLES = f"""
[auth.roles]
admin = ["group:admins"]
contractor = ["group:{CONTRACTOR_ADMINS}"]
"""
#: How each way of finding the user's DN is configured (TOML lines of [auth.ldap]).
HOW = {
    "template": f'user_dn_template = "{TEMPLATE}"',
    "search": f'bind_dn = "{ADMIN_DN}"\nbind_password = "{ADMIN_PASSWORD}"\n'
              'user_search_base = "ou=people,dc=example,dc=org"',
}


def secrets_toml(ldap_lines: str) -> str:
    return f"""
[auth]
cookie_secret = "{SECRET}"

[auth.ldap]
{ldap_lines}
group_search_base = "{GROUPS}"
{ROLES}"""


@pytest.fixture(scope="module", params=["template", "search"])
def ldap_app(request, tmp_path_factory, generation):
    tmp = tmp_path_factory.mktemp("ldap")
    app_dir = tmp / "app"
    shutil.copytree(APPS / "ldap", app_dir)
    with run_slapd(tmp) as uri:
        write_secrets(app_dir, secrets_toml(f'server_uri = "{uri}"\n{HOW[request.param]}'))
        with run_app(app_dir, generation=generation, tmp_path=tmp) as app:
            yield app


def ldap_sign_in(context, app, user, secret):
    page = context.new_page()
    page.goto(app.url("/auth/login"))
    page.fill("#username", user)
    page.fill("#password", secret)
    page.click("button[type=submit]")
    return page


def shown(user: str, email: str, groups: list[str], roles: str) -> str:
    """The line tests/e2e/apps/ldap/app.py writes for a signed-in user."""
    return f"ldap-user={user} email={email} groups={','.join(sorted(groups))} roles={roles}"


# --- Chromium against streamlit-auth run ------------------------------------------------

def test_ldap_user_signs_in_with_groups_and_roles(context, ldap_app):
    page = ldap_sign_in(context, ldap_app, "alice", PASSWORDS["alice"])
    groups = ["admins", "users", f"cn=admins,{GROUPS}", f"cn=users,{GROUPS}"]
    page.get_by_text(shown("Alice Example", "alice@example.org", groups, "admin")).wait_for()


def test_a_contractor_group_named_admins_grants_only_what_its_full_dn_grants(context, ldap_app):
    # bob is in cn=admins,ou=contractors and cn=admins,ou=projects,ou=groups: neither is "admins"
    page = ldap_sign_in(context, ldap_app, "bob", PASSWORDS["bob"])
    groups = ["users", f"cn=users,{GROUPS}", CONTRACTOR_ADMINS, f"cn=admins,ou=projects,{GROUPS}"]
    page.get_by_text(shown("Bob Example", "bob@example.org", groups, "contractor")).wait_for()
    assert context.request.get(ldap_app.url("/auth/userinfo")).json()["roles"] == ["contractor"]


def test_signing_in_as_Alice_and_as_alice_is_one_user(browser, ldap_app):
    ids = []
    for spelling in ("Alice", "alice"):
        context = browser.new_context()
        try:
            page = ldap_sign_in(context, ldap_app, spelling, PASSWORDS["alice"])
            page.get_by_text("ldap-user=Alice Example").wait_for()
            ids.append(context.request.get(ldap_app.url("/auth/userinfo")).json()["id"])
        finally:
            context.close()
    assert ids[0] == ids[1] and ids[0].endswith(f"|{ALICE_DN}")


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
    status = context.request.post(ldap_app.url("/auth/login"), max_redirects=0,
                                  headers={"Origin": f"http://127.0.0.1:{ldap_app.port}"},
                                  form={"username": "alice", "password": "", "next": "/"}).status
    assert status == 400
    assert context.request.get(ldap_app.url("/auth/userinfo")).status == 401


def test_directory_down_is_a_clear_error_and_no_login(browser, tmp_path, generation):
    app_dir = tmp_path / "app"
    shutil.copytree(APPS / "ldap", app_dir)
    write_secrets(app_dir, f"""
[auth]
cookie_secret = "{SECRET}"
[auth.ldap]
server_uri = "ldap://127.0.0.1:{free_port()}"
user_dn_template = "uid={{username}},ou=people,dc=example,dc=org"
""")
    with run_app(app_dir, generation=generation, tmp_path=tmp_path) as app:
        context = browser.new_context()
        try:
            page = ldap_sign_in(context, app, "alice", "whatever-password")
            page.get_by_text("The directory cannot be reached").wait_for()
            assert context.request.get(app.url("/auth/userinfo")).status == 401
        finally:
            context.close()


# --- LdapSource against a real slapd ------------------------------------------------------

@pytest.fixture(scope="module")
def plain_directory(tmp_path_factory):
    """A slapd without any TLS: its ldap:// URI."""
    with run_slapd(tmp_path_factory.mktemp("plain-ldap")) as uri:
        yield uri


@pytest.fixture(scope="module")
def tls_directory(tmp_path_factory):
    """A slapd with a certificate for 127.0.0.1 from a CA made for it (ldaps:// and StartTLS)."""
    with run_tls_slapd(tmp_path_factory.mktemp("tls-ldap")) as slapd:
        yield slapd


@pytest.fixture(scope="module")
def other_ca(tmp_path_factory):
    """A CA that signed nothing the directory uses."""
    return make_ca(tmp_path_factory.mktemp("other-ca"), "another-ca")


def directory(server_uri: str, how: str = "template", **keys) -> LdapSource:
    """An LdapSource for ``[auth.ldap]`` keys, parsed as the server would."""
    table = {"server_uri": server_uri, "group_search_base": GROUPS, **keys}
    if how == "template":
        table["user_dn_template"] = TEMPLATE
    else:
        table.update(bind_dn=ADMIN_DN, bind_password=ADMIN_PASSWORD, user_search_base="ou=people,dc=example,dc=org")
    config = parse_ldap(table)
    assert config is not None
    return LdapSource(config)


@pytest.mark.parametrize("how", ["template", "search"])
def test_any_case_of_a_username_gives_the_same_subject_and_username(plain_directory, how):
    source = directory(plain_directory, how)
    claims = [source.authenticate(spelling, PASSWORDS["alice"]) for spelling in ("Alice", "ALICE", "alice")]
    assert {(c["sub"], c["preferred_username"]) for c in claims} == {(ALICE_DN, "alice")}


@pytest.mark.parametrize("how", ["template", "search"])
def test_only_groups_directly_under_the_base_get_a_bare_name(plain_directory, how):
    source = directory(plain_directory, how)
    bob = source.authenticate("bob", PASSWORDS["bob"])
    alice = source.authenticate("alice", PASSWORDS["alice"])
    assert bob["groups"] == sorted(["users", f"cn=users,{GROUPS}", CONTRACTOR_ADMINS,
                                    f"cn=admins,ou=projects,{GROUPS}"])
    assert alice["groups"] == sorted(["admins", "users", f"cn=admins,{GROUPS}", f"cn=users,{GROUPS}"])


def test_ldaps_with_the_directorys_ca_signs_in(tls_directory):
    source = directory(tls_directory.ldaps_uri, ca_file=str(tls_directory.ca.file))
    claims = source.authenticate("alice", PASSWORDS["alice"])
    assert claims["sub"] == ALICE_DN and "admins" in claims["groups"]


@pytest.mark.parametrize("how", ["template", "search"])
def test_start_tls_with_the_directorys_ca_signs_in(tls_directory, how):
    source = directory(tls_directory.ldap_uri, how, start_tls=True, ca_file=str(tls_directory.ca.file))
    claims = source.authenticate("alice", PASSWORDS["alice"])
    assert claims["sub"] == ALICE_DN and claims["email"] == "alice@example.org"


@pytest.mark.parametrize("tls", ["ldaps", "start_tls", "ldaps with the system CAs"])
def test_a_certificate_from_an_untrusted_ca_is_refused_and_nothing_is_sent_in_the_clear(tls_directory, other_ca, tls):
    # slapd accepts plain binds on its ldap:// port: a client that fell back to plaintext would sign in
    keys = {"ldaps": {"ca_file": str(other_ca.file)}, "start_tls": {"start_tls": True, "ca_file": str(other_ca.file)},
            "ldaps with the system CAs": {}}[tls]
    uri = tls_directory.ldap_uri if tls == "start_tls" else tls_directory.ldaps_uri
    with pytest.raises(LdapUnavailable, match=r"TLS refused: \[SSL: CERTIFICATE_VERIFY_FAILED\]"):
        directory(uri, **keys).authenticate("alice", PASSWORDS["alice"])


def test_the_untrusted_ca_is_refused_in_search_mode_before_the_service_password_is_sent(tls_directory, other_ca):
    source = directory(tls_directory.ldap_uri, "search", start_tls=True, ca_file=str(other_ca.file))
    with pytest.raises(LdapUnavailable, match="TLS refused"):
        source.authenticate("alice", PASSWORDS["alice"])


@pytest.mark.parametrize("tls", ["ldaps", "start_tls"])
def test_a_certificate_for_another_host_is_refused(tmp_path, tls):
    with run_tls_slapd(tmp_path, server_names=("ldap.example.test",)) as slapd:
        keys = {"ca_file": str(slapd.ca.file), **({"start_tls": True} if tls == "start_tls" else {})}
        uri = slapd.ldap_uri if tls == "start_tls" else slapd.ldaps_uri
        with pytest.raises(LdapUnavailable, match="TLS refused: the server's certificate does not name this host"):
            directory(uri, **keys).authenticate("alice", PASSWORDS["alice"])


def test_start_tls_against_a_directory_without_tls_is_refused_not_sent_in_the_clear(plain_directory, other_ca):
    source = directory(plain_directory, start_tls=True, ca_file=str(other_ca.file))
    with pytest.raises(LdapUnavailable, match="TLS refused: startTLS failed"):
        source.authenticate("alice", PASSWORDS["alice"])


# --- Chromium over TLS ----------------------------------------------------------------------

def test_chromium_signs_in_over_ldaps(browser, tls_directory, tmp_path, generation):
    app_dir = tmp_path / "app"
    shutil.copytree(APPS / "ldap", app_dir)
    write_secrets(app_dir, secrets_toml(f'server_uri = "{tls_directory.ldaps_uri}"\n{HOW["template"]}\n'
                                        f'ca_file = "{tls_directory.ca.file}"'))
    with run_app(app_dir, generation=generation, tmp_path=tmp_path) as app:
        context = browser.new_context()
        try:
            page = ldap_sign_in(context, app, "Alice", PASSWORDS["alice"])
            page.get_by_text(re.compile(r"ldap-user=Alice Example email=alice@example.org .* roles=admin$")).wait_for()
            assert context.request.get(app.url("/auth/userinfo")).json()["id"].endswith(f"|{ALICE_DN}")
        finally:
            context.close()


def test_an_untrusted_directory_certificate_is_a_clear_error_never_a_5xx(browser, tls_directory, other_ca, tmp_path, generation):
    app_dir = tmp_path / "app"
    shutil.copytree(APPS / "ldap", app_dir)
    write_secrets(app_dir, secrets_toml(f'server_uri = "{tls_directory.ldap_uri}"\n{HOW["template"]}\n'
                                        f'start_tls = true\nca_file = "{other_ca.file}"'))
    with run_app(app_dir, generation=generation, tmp_path=tmp_path) as app:
        context = browser.new_context()
        try:
            page = context.new_page()
            page.goto(app.url("/auth/login"))
            page.fill("#username", "alice")
            page.fill("#password", PASSWORDS["alice"])
            with page.expect_response(lambda r: r.request.method == "POST") as posted:
                page.click("button[type=submit]")
            assert posted.value.status == 503  # the directory is unusable, not the password wrong
            page.get_by_text("The directory cannot be reached").wait_for()
            assert context.request.get(app.url("/auth/userinfo")).status == 401
        finally:
            context.close()
