"""Sending for real: SmtpMailer against an aiosmtpd server on loopback (tests/e2e/smtp_sink.py),
in the clear, with STARTTLS and with AUTH; LogMailer writing the link to the log. The SMTP
password never reaches a log record or an error message."""

from __future__ import annotations

import logging

import pytest

from stauth_server.core.accounts.mail import (
    LogMailer, MailError, SmtpConfig, SmtpMailer, invitation_message, password_reset_message,
)
from tests.e2e.ldap_server import issue_server_cert
from tests.e2e.smtp_sink import smtp_sink

#: Deliberate in the tests of AUTH without TLS (on loopback only; the config refuses it elsewhere).
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

SECRET = "smtp-password-that-must-never-show"
LINK = "https://apps.example.org/team/auth/reset?token=abcdefghijklmnopqrstuvwxyz0123456789-_ABCDEFG"


def reset_to(to: str = "alice@example.org"):
    return password_reset_message(sender="app@example.org", to=to, link=LINK, app_name="Team")


def config(port: int, **keys) -> SmtpConfig:
    return SmtpConfig(**{"host": "127.0.0.1", "sender": "app@example.org", "port": port, **keys})


def test_a_message_is_delivered_in_the_clear_when_starttls_is_off():
    with smtp_sink() as sink:
        SmtpMailer(config(sink.port, starttls=False)).send(reset_to(), LINK)
        [got] = sink.wait_for(1)
    assert (got.mail_from, got.rcpt_tos, got.over_tls, got.login) == ("app@example.org", ("alice@example.org",),
                                                                     False, None)
    assert got.message["Subject"] == "Reset your password for Team"
    assert got.links == [LINK]


def test_starttls_upgrades_before_sending(smtp_cert, trusting_ca):
    with smtp_sink(tls=smtp_cert, require_starttls=True) as sink:
        SmtpMailer(config(sink.port), ssl_context=trusting_ca).send(reset_to(), LINK)
        [got] = sink.wait_for(1)
    assert got.over_tls is True and got.links == [LINK]


def test_starttls_is_the_default_and_a_server_without_it_gets_nothing():
    """No downgrade: when STARTTLS is configured (the default) and not offered, nothing is sent."""
    with smtp_sink() as sink:
        with pytest.raises(MailError, match="STARTTLS extension not supported by server"):
            SmtpMailer(config(sink.port)).send(reset_to(), LINK)
        assert sink.received == []


def test_an_untrusted_certificate_stops_the_message(smtp_cert):
    """The system CAs do not know the throwaway CA: the certificate check fails, nothing is sent."""
    with smtp_sink(tls=smtp_cert) as sink:
        with pytest.raises(MailError, match="CERTIFICATE_VERIFY_FAILED"):
            SmtpMailer(config(sink.port)).send(reset_to(), LINK)
        assert sink.received == []


def test_a_certificate_for_another_host_stops_the_message(smtp_ca, trusting_ca, tmp_path):
    """A certificate from the trusted CA, but naming another host: refused, nothing is sent."""
    elsewhere = issue_server_cert(smtp_ca, tmp_path, names=("mail.example.org",))
    with smtp_sink(tls=elsewhere) as sink:
        with pytest.raises(MailError, match="IP address mismatch"):
            SmtpMailer(config(sink.port), ssl_context=trusting_ca).send(reset_to(), LINK)
        assert sink.received == []


def test_auth_over_starttls_logs_in(smtp_cert, trusting_ca, caplog):
    with caplog.at_level(logging.DEBUG):
        with smtp_sink(tls=smtp_cert, require_starttls=True, logins={"app": SECRET}) as sink:
            SmtpMailer(config(sink.port, username="app", password=SECRET), ssl_context=trusting_ca).send(
                reset_to(), LINK)
            [got] = sink.wait_for(1)
    assert (got.over_tls, got.login) == (True, "app")
    assert SECRET not in caplog.text


def test_auth_without_tls_on_loopback_logs_in(caplog):
    with caplog.at_level(logging.DEBUG):
        with smtp_sink(logins={"app": SECRET}, auth_require_tls=False) as sink:
            SmtpMailer(config(sink.port, starttls=False, username="app", password=SECRET)).send(reset_to(), LINK)
            [got] = sink.wait_for(1)
    assert (got.over_tls, got.login) == (False, "app")
    assert SECRET not in caplog.text


def test_a_server_requiring_auth_gets_nothing_without_a_login():
    with smtp_sink(logins={"app": SECRET}, auth_require_tls=False) as sink:
        with pytest.raises(MailError, match="answered 530"):
            SmtpMailer(config(sink.port, starttls=False)).send(reset_to(), LINK)
        assert sink.received == []


def test_a_configured_login_is_not_skipped_when_the_server_offers_no_auth():
    with smtp_sink() as sink:
        with pytest.raises(MailError, match="AUTH extension not supported"):
            SmtpMailer(config(sink.port, starttls=False, username="app", password=SECRET)).send(reset_to(), LINK)
        assert sink.received == []


def test_a_refused_login_is_an_error_that_does_not_hold_the_password(caplog):
    wrong = "wrong-" + SECRET
    with caplog.at_level(logging.DEBUG):
        with smtp_sink(logins={"app": SECRET}, auth_require_tls=False) as sink:
            with pytest.raises(MailError, match="refused the login of 'app'") as caught:
                SmtpMailer(config(sink.port, starttls=False, username="app", password=wrong)).send(reset_to(), LINK)
            assert sink.received == []
    assert wrong not in str(caught.value) and wrong not in caplog.text
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_an_unreachable_server_is_a_mail_error():
    with smtp_sink() as sink:
        port = sink.port
    with pytest.raises(MailError, match=f"127.0.0.1:{port}"):
        SmtpMailer(config(port, starttls=False), timeout=2).send(reset_to(), LINK)


def test_an_invitation_arrives_with_its_absolute_link():
    link = "http://localhost:8501/auth/invite?token=" + "x" * 43
    message = invitation_message(sender="app@example.org", to="bob@example.org", link=link, app_name="Team",
                                 name="Bob")
    with smtp_sink() as sink:
        SmtpMailer(config(sink.port, starttls=False)).send(message, link)
        [got] = sink.wait_for(1)
    assert got.rcpt_tos == ("bob@example.org",) and got.links == [link]
    assert "72 hours" in got.body and got.body.startswith("Hello Bob,")


def test_the_log_mailer_writes_the_link_at_warning(caplog):
    with caplog.at_level(logging.WARNING, logger="stauth_server.mail"):
        LogMailer().send(reset_to("carol@example.org"), LINK)
    [record] = [r for r in caplog.records if r.name == "stauth_server.mail"]
    assert record.levelno == logging.WARNING
    assert LINK in record.getMessage() and "carol@example.org" in record.getMessage()

