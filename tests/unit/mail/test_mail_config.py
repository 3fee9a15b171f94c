"""``[auth.smtp]`` (core.accounts.mail.parse_smtp, ServerConfig.smtp): every mistake is a
ConfigError naming the key, a password is never shown, and a password is never sent in
the clear beyond loopback."""

from __future__ import annotations

import pytest

from stauth_server.core.accounts.mail import (
    STARTUP_WARNING, LogMailer, SmtpConfig, SmtpMailer, mailer_for, needs_startup_warning, parse_smtp,
)
from stauth_server.core.config import parse_server_config
from stauth_server.core.errors import ConfigError

SECRET = "smtp-password-that-must-never-show"


def smtp(**keys) -> dict:
    return {"host": "smtp.example.org", "sender": "app@example.org", **keys}


def test_a_minimal_table_parses_with_safe_defaults():
    config = parse_smtp(smtp())
    assert config == SmtpConfig(host="smtp.example.org", sender="app@example.org")
    assert (config.port, config.starttls, config.username, config.password) == (587, True, None, None)


def test_no_table_means_no_smtp():
    assert parse_smtp(None) is None


@pytest.mark.parametrize(("table", "named"), [
    ({"sender": "app@example.org"}, "host"),
    ({"host": "smtp.example.org"}, "sender"),
    (smtp(host=""), "host"),
    (smtp(host="smtp.example.org\r\nRCPT TO:<x@evil.test>"), "host"),
    (smtp(host="user@smtp.example.org"), "host"),
    (smtp(port=0), "port"),
    (smtp(port=70000), "port"),
    (smtp(port="587"), "port"),
    (smtp(port=True), "port"),
    (smtp(starttls="yes"), "starttls"),
    (smtp(sender="not an address"), "sender"),
    (smtp(sender="App <app@example.org>"), "sender"),
    (smtp(sender="app@example.org\r\nBcc: victim@example.org"), "sender"),
    (smtp(username="app"), "password"),
    (smtp(password=SECRET), "username"),
    (smtp(username=42, password=SECRET), "username"),
])
def test_a_wrong_key_or_value_is_a_config_error_naming_it(table, named):
    with pytest.raises(ConfigError, match=rf"\[auth.smtp\] {named}"):
        parse_smtp(table)


def test_not_a_table_is_a_config_error():
    with pytest.raises(ConfigError, match=r"\[auth.smtp\]"):
        parse_smtp("smtp.example.org")


def test_a_password_in_the_clear_to_another_host_is_refused():
    with pytest.raises(ConfigError, match=r"\[auth.smtp\] starttls: false would send the SMTP password in the clear"):
        parse_smtp(smtp(starttls=False, username="app", password=SECRET))


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1"])
def test_a_loopback_server_may_take_a_password_without_tls(host):
    config = parse_smtp(smtp(host=host, starttls=False, username="app", password=SECRET))
    assert config is not None and config.password == SECRET


def test_without_a_password_starttls_may_be_off():
    assert parse_smtp(smtp(starttls=False, port=25)).starttls is False


def test_a_wrongly_typed_password_is_not_echoed():
    with pytest.raises(ConfigError, match="password") as caught:
        parse_smtp(smtp(username="app", password=SECRET + "\n"))
    assert SECRET not in str(caught.value)


def test_the_declared_type_check_does_not_echo_a_password(tmp_path):
    """core.options.check_table runs first; a wrong-typed password must not appear either."""
    auth = {"cookie_secret": "s" * 40, "ldap": {"server_uri": "ldap://127.0.0.1", "user_dn_template": "uid={username}"},
            "smtp": smtp(username="app", password=[SECRET])}
    with pytest.raises(ConfigError, match=r"\[auth.smtp\] password") as caught:
        parse_server_config(auth, tmp_path)
    assert SECRET not in str(caught.value)


def test_the_password_is_not_in_the_config_repr():
    config = parse_smtp(smtp(username="app", password=SECRET))
    assert SECRET not in repr(config)


def test_server_config_carries_smtp(tmp_path, caplog):
    auth = {"cookie_secret": "s" * 40, "ldap": {"server_uri": "ldap://127.0.0.1", "user_dn_template": "uid={username}"},
            "smtp": smtp(port=2525, sendr="typo@example.org")}
    with caplog.at_level("WARNING", logger="stauth_server.config"):
        config = parse_server_config(auth, tmp_path)
    assert config.smtp == SmtpConfig(host="smtp.example.org", sender="app@example.org", port=2525)
    assert "[auth.smtp]: unknown key 'sendr' is ignored; did you mean 'sender'?" in caplog.text


def test_server_config_names_a_wrong_smtp_key(tmp_path):
    auth = {"cookie_secret": "s" * 40, "ldap": {"server_uri": "ldap://127.0.0.1", "user_dn_template": "uid={username}"},
            "smtp": smtp(port=-1)}
    with pytest.raises(ConfigError, match=r"\[auth.smtp\] port"):
        parse_server_config(auth, tmp_path)


def test_smtp_is_not_taken_for_a_provider(tmp_path):
    auth = {"cookie_secret": "s" * 40, "ldap": {"server_uri": "ldap://127.0.0.1", "user_dn_template": "uid={username}"},
            "smtp": smtp()}
    config = parse_server_config(auth, tmp_path)
    assert "smtp" not in config.providers and config.smtp is not None


def test_the_mailer_follows_the_config():
    assert isinstance(mailer_for(None), LogMailer)
    assert isinstance(mailer_for(parse_smtp(smtp())), SmtpMailer)


@pytest.mark.parametrize(("address", "warn"), [
    (None, True), ("", True), ("0.0.0.0", True), ("::", True), ("192.168.1.10", True), ("app.example.org", True),
    ("127.0.0.1", False), ("localhost", False), ("::1", False), ("[::1]", False),
])
def test_without_smtp_a_start_up_warning_is_due_beyond_loopback(address, warn):
    assert needs_startup_warning(None, address) is warn
    assert needs_startup_warning(parse_smtp(smtp()), address) is False
    assert "[auth.smtp]" in STARTUP_WARNING
