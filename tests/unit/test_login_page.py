"""The combined sign-in page (stauth_server.web.pages.login_page)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from stauth_server.web.pages import Theme, login_page

XSRF = '<input type="hidden" name="_xsrf" value="2|abc|def|123">'


class Inputs(HTMLParser):
    """Every <input>, <a> and <form> with its attributes."""

    def __init__(self, html: str):
        super().__init__()
        self.inputs: dict[str, dict[str, str | None]] = {}
        self.links: list[str] = []
        self.forms: list[dict[str, str | None]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "input":
            self.inputs[str(attributes.get("name"))] = attributes
        elif tag == "a":
            self.links.append(str(attributes.get("href")))
        elif tag == "form":
            self.forms.append(attributes)


def page(**kwargs) -> str:
    defaults = dict(login_path="/app/auth/login", providers=[("google", "Google")], next_path="/app/reports",
                    password_sources=["local"], xsrf_form_html=XSRF)
    return login_page(**{**defaults, **kwargs})


def test_the_password_form_uses_username_and_password_with_autocomplete():
    inputs = Inputs(page()).inputs
    assert inputs["username"]["autocomplete"] == "username"
    assert inputs["password"]["autocomplete"] == "current-password"
    assert inputs["password"]["type"] == "password"
    assert "required" in inputs["username"] and "required" in inputs["password"]


def test_the_form_posts_to_the_login_path_with_the_xsrf_token_and_next():
    html = page()
    parsed = Inputs(html)
    assert parsed.forms == [{"method": "post", "action": "/app/auth/login"}]
    assert XSRF in html
    assert parsed.inputs["next"] == {"type": "hidden", "name": "next", "value": "/app/reports"}


def test_each_provider_gets_a_button_carrying_provider_and_next():
    links = Inputs(page(providers=[("google", "Google"), ("corp", "Corp SSO")])).links
    assert links == [
        "/app/auth/login?provider=google&next=%2Fapp%2Freports",
        "/app/auth/login?provider=corp&next=%2Fapp%2Freports",
    ]
    assert "Continue with Corp SSO" in page(providers=[("corp", "Corp SSO")])


def test_without_local_accounts_there_is_no_form():
    html = page(password_sources=[])
    assert "<form" not in html and 'name=password' not in html
    assert "Continue with Google" in html


def test_without_providers_there_are_no_buttons_and_no_or():
    html = page(providers=[])
    assert "Continue with" not in html and "class=or" not in html
    assert "name=password" in html


def test_or_separates_the_form_from_the_buttons():
    html = page()
    assert html.index("</form>") < html.index("class=or") < html.index("Continue with Google")


def test_one_form_names_no_password_source():
    for sources in (["local"], ["local", "ldap"]):
        html = page(password_sources=sources)
        assert "source" not in Inputs(html).inputs and "<select" not in html


def test_with_the_chooser_on_two_password_sources_let_the_user_pick_one():
    html = page(password_sources=["local", "ldap"], source_chooser=True)
    assert '<select id=source name=source>' in html
    assert '<option value="local">App account</option><option value="ldap">Directory (LDAP)</option>' in html
    assert "source" not in Inputs(html).inputs  # no hidden field competing with the select


def test_an_error_is_shown_as_an_alert_the_fields_refer_to():
    html = page(error="Wrong username or password.")
    assert '<p class=error role=alert id=form-error>Wrong username or password.</p>' in html
    assert Inputs(html).inputs["password"]["aria-describedby"] == "form-error"


def test_no_error_means_no_alert():
    html = page()
    assert "role=alert" not in html and "aria-describedby" not in html


def test_the_username_is_kept_after_a_failed_attempt_but_never_the_password():
    inputs = Inputs(page(error="Wrong username or password.", username="alice")).inputs
    assert inputs["username"]["value"] == "alice"
    assert "value" not in inputs["password"]


def test_user_supplied_text_cannot_inject_markup():
    html = page(username='"><script>alert(1)</script>', error="<img src=x onerror=alert(1)>",
                next_path='/x"><script>alert(2)</script>', providers=[("p", "<b>Evil</b>")])
    assert "<script>" not in html and "<img src=x" not in html and "<b>" not in html
    assert html.count("<img") == html.count("<img class=icon alt=")   # only our provider icons
    assert Inputs(html).inputs["username"]["value"] == '"><script>alert(1)</script>'


def test_a_theme_sets_the_accent_and_base_colours():
    html = page(theme=Theme(base="dark", primary="#00aa88"))
    assert ":root{--accent:#00aa88}" in html
    assert ":root{color-scheme:dark;" in html


def test_without_a_theme_the_page_follows_the_browser():
    html = page()
    assert "prefers-color-scheme:dark" in html
    assert not re.search(r":root\{--accent:", html)


def test_a_custom_template_receives_the_form_and_the_styles():
    from stauth_server.web.pages import login_page

    html = login_page("/auth/login", [("g", "Google")], "/", password_sources=["local"],
                      xsrf_form_html="<input type=hidden name=_xsrf value=t>",
                      template="<html><style>$styles</style><h1>Portal</h1>$login_form $unknown</html>")
    assert "<h1>Portal</h1>" in html and 'name=password' in html and "Continue with Google" in html
    assert "$unknown" in html and "--accent" in html
