"""The invitation and password-reset messages: plain text, the absolute link whole on its own
line, the link's lifetime, and no header injection through names or addresses."""

from __future__ import annotations

import email
import email.policy

import pytest

from stauth_server.core.accounts.mail import checked_address, invitation_message, password_reset_message

LINK = "https://apps.example.org/team/auth/invite?token=" + "A1_-" * 11


def reparsed(message):
    """The message as a receiving server parses its bytes."""
    return email.message_from_bytes(message.as_bytes(), policy=email.policy.default)


def test_the_invitation_says_set_your_password_within_72_hours():
    message = reparsed(invitation_message(sender="app@example.org", to="bob@example.org", link=LINK,
                                          app_name="Team board", name="Bob"))
    assert (message["From"], message["To"]) == ("app@example.org", "bob@example.org")
    assert message["Subject"] == "Your invitation to Team board: set your password"
    assert message.get_content_type() == "text/plain" and not message.is_multipart()
    body = message.get_content()
    assert f"\n{LINK}\n" in body and "expires in 72 hours" in body and "works once" in body
    assert message["Date"] and message["Message-ID"].endswith("@example.org>")


def test_the_reset_says_30_minutes_and_what_to_do_when_unasked():
    message = reparsed(password_reset_message(sender="app@example.org", to="alice@example.org", link=LINK,
                                              app_name="Team board"))
    body = message.get_content()
    assert message["Subject"] == "Reset your password for Team board"
    assert f"\n{LINK}\n" in body and "expires in 30 minutes" in body and "did not ask for this" in body


def test_a_long_link_stays_whole_in_the_raw_message():
    """Mail clients that show the raw text (and people copying it) get the link unbroken."""
    raw = password_reset_message(sender="app@example.org", to="alice@example.org", link=LINK,
                                 app_name="Team").as_string()
    assert f"\n{LINK}\n" in raw


def test_a_non_ascii_name_survives_the_trip():
    message = reparsed(invitation_message(sender="app@example.org", to="zoe@example.org", link=LINK,
                                          app_name="Équipe", name="Zoë"))
    body = message.get_content()
    assert body.startswith("Hello Zoë,") and LINK in body and message["Subject"].endswith("Équipe: set your password")


def test_a_line_break_in_the_app_name_cannot_add_a_header():
    message = reparsed(password_reset_message(sender="app@example.org", to="alice@example.org", link=LINK,
                                              app_name="Team\r\nBcc: attacker@evil.test"))
    assert message["Bcc"] is None
    assert message["Subject"] == "Reset your password for Team Bcc: attacker@evil.test"


@pytest.mark.parametrize("to", [
    "alice@example.org\r\nBcc: attacker@evil.test",
    "alice@example.org, attacker@evil.test",
    "Alice <alice@example.org>",
    "not-an-address",
    " alice@example.org",
    "",
])
def test_a_recipient_that_is_not_one_plain_address_is_refused(to):
    with pytest.raises(ValueError):
        password_reset_message(sender="app@example.org", to=to, link=LINK, app_name="Team")


@pytest.mark.parametrize("link", ["/auth/reset?token=x", "javascript:alert(1)", LINK + "\r\nBcc: x", LINK + " x"])
def test_a_link_that_is_not_absolute_http_is_refused(link):
    with pytest.raises(ValueError):
        invitation_message(sender="app@example.org", to="bob@example.org", link=link, app_name="Team")


def test_a_plain_address_is_accepted():
    assert checked_address("first.last+tag@sub.example.org") == "first.last+tag@sub.example.org"
