"""The second factor's HTML (stauth_server.web.second_factor_page): escaped, self-contained."""

from __future__ import annotations

from stauth_server.core.accounts.totp import new_secret
from stauth_server.web.second_factor_page import enrolment_block, issuer_name, recovery_codes_block


def test_the_issuer_is_the_app_title_or_streamlit_auth():
    assert issuer_name("Sales Portal") == "Sales Portal"
    assert issuer_name("Sign in") == issuer_name("") == "streamlit-auth"
    assert ":" not in issuer_name("Ops: the console")


def test_the_enrolment_form_escapes_what_it_shows_and_loads_nothing_elsewhere():
    secret = new_secret()
    html = enrolment_block("/auth/account/totp", "<input type=hidden name=_xsrf value=t>", secret=secret,
                           sealed='sealed"><script>', username="<b>eve</b>", issuer="<i>App</i>")
    assert "<script>" not in html and "<b>eve</b>" not in html and "<i>App</i>" not in html
    assert "<svg" in html and "src=" not in html and f"secret={secret}" in html
    assert 'value="sealed&quot;&gt;&lt;script&gt;"' in html


def test_only_the_account_page_form_asks_for_the_current_password():
    secret = new_secret()
    account = enrolment_block("/auth/account/totp", "", secret=secret, sealed="s", username='<b>"eve"</b>',
                              issuer="App", ask_password=True)
    assert "Current password" in account and 'name=password type=password autocomplete=current-password' in account
    assert "<b>" not in account and 'value="&lt;b&gt;&quot;eve&quot;&lt;/b&gt;"' in account
    sign_in = enrolment_block("/auth/login/code", "", secret=secret, sealed="s", username="eve", issuer="App")
    assert "Current password" not in sign_in and "name=password" not in sign_in


def test_recovery_codes_are_listed_escaped():
    html = recovery_codes_block(["abcd-efgh-jkmn-pqrs", "<x>"])
    assert "<li>abcd-efgh-jkmn-pqrs</li>" in html and "<x>" not in html
