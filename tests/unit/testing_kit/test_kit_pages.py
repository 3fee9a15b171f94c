"""Pages under AppTest as a given user, with guards and page rules as in production.

Written as an app author would, with the fixtures of ``stauth_server.testing``; the app is
tests/apps_for_kit (its ``.streamlit/secrets.toml`` holds ``[auth.roles]`` and ``[auth.access]``).
"""

from __future__ import annotations

import pytest
import streamlit as st

FORBIDDEN = "**403 Forbidden.** You do not have access to this page."


def texts(at) -> list[str]:
    return [element.value for element in at.markdown]


def test_the_home_page_greets_the_signed_in_user_by_name(as_user):
    at = as_user("alice@example.org", name="Alice", roles=["admin"]).run()

    assert not at.exception
    assert texts(at) == ["Hello, Alice", "Roles: admin"]


def test_a_visitor_sees_the_home_page_as_a_visitor(as_visitor):
    at = as_visitor().run()

    assert not at.exception
    assert texts(at) == ["Hello, visitor"]
    assert at.redirected_to is None


def test_an_admin_opens_the_admin_page(as_user):
    at = as_user("alice@example.org", roles=["admin"]).run("pages/admin.py")

    assert not at.exception
    assert [t.value for t in at.title] == ["Admin"]
    assert texts(at) == ["Signed in as alice@example.org"]


def test_a_user_without_the_role_gets_the_403_view(as_user):
    at = as_user("bob@example.org", roles=["viewer"]).run("pages/admin.py")

    assert not at.exception
    assert [e.value for e in at.error] == [FORBIDDEN]
    assert not at.title  # the script stopped at sa.require
    assert at.redirected_to is None


def test_a_visitor_is_sent_to_sign_in(as_visitor):
    at = as_visitor().run("pages/admin.py")

    assert not at.exception
    assert at.sent_to_sign_in
    assert at.redirected_to.startswith("/auth/login?next=")
    assert not at.title and not at.error


def test_roles_come_from_the_apps_auth_roles_when_not_given(as_user):
    by_email = as_user("root@example.org").run("pages/admin.py")
    by_group = as_user("dana@example.org", groups=["admins"]).run("pages/admin.py")
    stranger = as_user("eve@example.org", groups=["visitors"]).run("pages/admin.py")

    assert [t.value for t in by_email.title] == ["Admin"]
    assert [t.value for t in by_group.title] == ["Admin"]
    assert [e.value for e in stranger.error] == [FORBIDDEN]


def test_explicit_roles_replace_the_apps_auth_roles(as_user):
    at = as_user("root@example.org", roles=[]).run("pages/admin.py")

    assert [e.value for e in at.error] == [FORBIDDEN]


def test_roles_from_a_claim_rule(as_user):
    assert as_user("ed@example.org", claims={"dept": "editorial"}).user.roles == {"editor"}
    assert as_user("ed@example.org", claims={"dept": "sales"}).user.roles == frozenset()


def test_an_auth_access_rule_lets_in_the_roles_it_names(as_user):
    at = as_user("carol@analytics.example.org").run("pages/reports.py")

    assert not at.exception
    assert [t.value for t in at.title] == ["Reports"]
    assert texts(at) == ["Reports for carol@analytics.example.org"]


def test_an_auth_access_rule_shows_others_the_403_view(as_user):
    at = as_user("bob@example.org").run("pages/reports.py")

    assert [e.value for e in at.error] == [FORBIDDEN]
    assert not at.title


def test_an_auth_access_rule_sends_a_visitor_to_sign_in(as_visitor):
    at = as_visitor().run("pages/reports.py")

    assert at.sent_to_sign_in
    assert not at.title


def test_secrets_given_to_the_run_replace_the_apps_file(as_user):
    open_reports = {"auth": {"access": {"reports": "public"}}}

    at = as_user("bob@example.org").run("pages/reports.py", secrets=open_reports)

    assert [t.value for t in at.title] == ["Reports"]


def test_require_login_keeps_visitors_out_of_every_page(as_visitor, as_user):
    everywhere = {"auth": {"require_login": True}}

    assert as_visitor().run(secrets=everywhere).sent_to_sign_in
    assert texts(as_user("bob@example.org").run(secrets=everywhere)) == ["Hello, bob@example.org", "Roles: none"]


def test_a_requires_decorated_function_runs_only_for_its_role(as_user):
    auditor = as_user("alice@example.org", roles=["admin", "auditor"]).run("pages/admin.py")
    admin = as_user("alice@example.org", roles=["admin"]).run("pages/admin.py")

    assert "Audit log" in texts(auditor)
    assert "Audit log" not in texts(admin)


def test_st_user_shows_the_claims(as_user):
    at = as_user("alice@example.org", name="Alice", claims={"locale": "fr"}).run()

    assert not at.exception
    assert [c.value for c in at.caption] == ["Signed in with test; locale fr"]
    assert at.stauth_user.claims["locale"] == "fr" and at.stauth_user.id == "https://stauth.test|alice@example.org"


def test_the_identity_holds_on_every_rerun(as_user):
    at = as_user("alice@example.org", name="Alice", roles=["admin"]).run()
    at.run()

    assert texts(at) == ["Hello, Alice", "Roles: admin"]


def test_two_users_in_one_test_do_not_mix(as_user):
    alice = as_user("alice@example.org", name="Alice", roles=["admin"]).app_test()
    bob = as_user("bob@example.org", name="Bob").app_test()

    alice.run()
    bob.run()
    alice.run()

    assert texts(alice) == ["Hello, Alice", "Roles: admin"]
    assert texts(bob) == ["Hello, Bob", "Roles: none"]


def test_nothing_of_the_kit_stays_active_after_a_run(as_user):
    from stauth_server.core import access
    from stauth_server.streamlit.script_api import current_user
    from stauth_server.streamlit.live_sessions import LIVE
    from streamlit.testing.v1 import app_test

    rules_before, login_before, runner_before = access.RULES, st.login, app_test.LocalScriptRunner
    at = as_user("alice@example.org", roles=["admin"]).run("pages/admin.py")

    assert access.RULES is rules_before and st.login is login_before
    assert app_test.LocalScriptRunner is runner_before
    assert LIVE.get(at.stauth_session_id) is None
    assert not current_user().is_logged_in  # outside a run: nobody


def test_st_login_sends_a_visitor_to_our_sign_in_page(as_visitor):
    at = as_visitor().run()
    at.button[0].click().run()

    assert at.sent_to_sign_in
    assert at.redirected_to == "/auth/login?next=%2F"


def test_st_logout_sends_the_browser_to_sign_out(as_user):
    at = as_user("alice@example.org", name="Alice").run()
    assert at.redirected_to is None

    at.button[0].click().run()

    assert at.redirected_to == "/auth/logout"


def test_as_user_wants_an_email(as_user):
    with pytest.raises(ValueError, match="expected an email address"):
        as_user("alice")
