"""[auth] for sign-in: native format, named providers, presets, and start-up errors."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from stauth_server.core.config import parse_server_config
from stauth_server.core.errors import ConfigError

APP_DIR = Path("/srv/app")
GOOD_SECRET = "c" * 32
METADATA = "https://op.example.test/.well-known/openid-configuration"


def native(**changes):
    auth = {
        "redirect_uri": "https://app.example.org/oauth2callback",
        "cookie_secret": GOOD_SECRET,
        "client_id": "abc",
        "client_secret": "shh",
        "server_metadata_url": METADATA,
    }
    for key, value in changes.items():
        if value is None:
            auth.pop(key, None)
        else:
            auth[key] = value
    return auth


def named(name="corp", **provider):
    return {
        "redirect_uri": "https://app.example.org/oauth2callback",
        "cookie_secret": GOOD_SECRET,
        name: {"client_id": "abc", "client_secret": "shh", **provider},
    }


def test_native_format_with_top_level_client_id_is_the_default_provider():
    config = parse_server_config(native(), APP_DIR)
    assert list(config.providers) == ["default"]
    provider = config.providers["default"]
    assert (provider.client_id, provider.client_secret, provider.server_metadata_url) == ("abc", "shh", METADATA)
    assert provider.kind == "oidc" and provider.scope == "openid email profile"
    assert config.redirect_uri == "https://app.example.org/oauth2callback"
    assert config.cookie_secrets == (GOOD_SECRET,)
    assert config.default_ttl == 7 * 86400
    assert config.sign_in_enabled


def test_named_providers_come_from_auth_subtables():
    auth = named("corp", server_metadata_url=METADATA)
    auth["google"] = {"client_id": "g", "client_secret": "gs", "provider": "google"}
    config = parse_server_config(auth, APP_DIR)
    assert set(config.providers) == {"corp", "google"}
    assert config.providers["corp"].server_metadata_url == METADATA
    assert config.providers["google"].display_name == "Google"


def test_client_kwargs_scope_is_the_providers_scope():
    config = parse_server_config(native(client_kwargs={"scope": "openid groups"}), APP_DIR)
    assert config.providers["default"].scope == "openid groups"


def test_a_missing_cookie_secret_stops_start_up_naming_the_key():
    with pytest.raises(ConfigError, match=r"cookie_secret: missing"):
        parse_server_config(native(cookie_secret=None), APP_DIR)


def test_a_short_cookie_secret_is_refused():
    with pytest.raises(ConfigError, match=r"cookie_secret: too short"):
        parse_server_config(native(cookie_secret="c" * 31), APP_DIR)


def test_a_short_secret_among_cookie_secrets_is_refused():
    with pytest.raises(ConfigError, match=r"cookie_secret"):
        parse_server_config(native(cookie_secret=None, cookie_secrets=[GOOD_SECRET, "short"]), APP_DIR)


def test_cookie_secrets_list_is_newest_first():
    old = "o" * 40
    config = parse_server_config(native(cookie_secret=None, cookie_secrets=[GOOD_SECRET, old]), APP_DIR)
    assert config.cookie_secrets == (GOOD_SECRET, old)


@pytest.mark.parametrize("value", ["secret" * 10, [], [3], 5])
def test_malformed_cookie_secrets_are_refused_naming_the_key(value):
    with pytest.raises(ConfigError, match=r"cookie_secrets"):
        parse_server_config(native(cookie_secret=None, cookie_secrets=value), APP_DIR)


@pytest.mark.parametrize("uri", ["https://app.example.org/callback", "/oauth2callback", "ftp://x/oauth2callback",
                                 "https://app.example.org/oauth2callback/extra"])
def test_a_redirect_uri_not_ending_in_oauth2callback_is_refused(uri):
    with pytest.raises(ConfigError, match=r"redirect_uri"):
        parse_server_config(native(redirect_uri=uri), APP_DIR)


def test_a_missing_redirect_uri_is_refused_naming_the_key():
    with pytest.raises(ConfigError, match=r"redirect_uri: missing"):
        parse_server_config(native(redirect_uri=None), APP_DIR)


def test_a_missing_server_metadata_url_is_refused_naming_the_key():
    with pytest.raises(ConfigError, match=r"server_metadata_url: missing"):
        parse_server_config(native(server_metadata_url=None), APP_DIR)


def test_a_relative_server_metadata_url_is_refused():
    with pytest.raises(ConfigError, match=r"server_metadata_url"):
        parse_server_config(native(server_metadata_url="op.example.test/.well-known/openid-configuration"), APP_DIR)


def test_a_named_provider_without_client_id_is_refused_naming_the_key():
    auth = named(server_metadata_url=METADATA)
    del auth["corp"]["client_id"]
    with pytest.raises(ConfigError, match=r"\[auth\.corp\] client_id: missing"):
        parse_server_config(auth, APP_DIR)


@pytest.mark.parametrize("value", ["7x", "", "-1d", "0d", 0, -5, True, 1.5, "seven days"])
def test_a_bad_default_ttl_is_refused_naming_the_key(value):
    with pytest.raises(ConfigError, match=r"default_ttl"):
        parse_server_config(native(default_ttl=value), APP_DIR)


@pytest.mark.parametrize(("value", "seconds"), [("12h", 43200), ("7d", 604800), ("30m", 1800), ("45s", 45),
                                                ("2w", 1209600), (" 1D ", 86400), (3600, 3600)])
def test_default_ttl_durations_are_read_as_seconds(value, seconds):
    assert parse_server_config(native(default_ttl=value), APP_DIR).default_ttl == seconds


def test_idle_timeout_is_read_and_a_bad_one_is_refused():
    assert parse_server_config(native(idle_timeout="30m"), APP_DIR).idle_timeout == 1800
    with pytest.raises(ConfigError, match=r"idle_timeout"):
        parse_server_config(native(idle_timeout="soon"), APP_DIR)


def test_an_unknown_top_level_key_is_warned_about(caplog):
    with caplog.at_level(logging.WARNING, logger="stauth_server.config"):
        parse_server_config(native(cookie_secert="typo"), APP_DIR)
    assert any("cookie_secert" in record.getMessage() for record in caplog.records)


def test_an_unknown_provider_key_is_warned_about(caplog):
    with caplog.at_level(logging.WARNING, logger="stauth_server.config"):
        parse_server_config(named(server_metadata_url=METADATA, client_secert="typo"), APP_DIR)
    assert any("client_secert" in record.getMessage() and "[auth.corp]" in record.getMessage()
               for record in caplog.records)


def test_an_unknown_preset_is_refused_naming_the_key():
    with pytest.raises(ConfigError, match=r"\[auth\.corp\] provider: expected one of"):
        parse_server_config(named(provider="myspace"), APP_DIR)


@pytest.mark.parametrize(("keys", "url"), [
    ({"provider": "google"}, "https://accounts.google.com/.well-known/openid-configuration"),
    ({"provider": "microsoft", "tenant": "0000-1111"},
     "https://login.microsoftonline.com/0000-1111/v2.0/.well-known/openid-configuration"),
    ({"provider": "auth0", "domain": "acme.eu.auth0.com"}, "https://acme.eu.auth0.com/.well-known/openid-configuration"),
    ({"provider": "auth0", "domain": "https://acme.eu.auth0.com/"},
     "https://acme.eu.auth0.com/.well-known/openid-configuration"),
    ({"provider": "okta", "domain": "acme.okta.com"}, "https://acme.okta.com/oauth2/default/.well-known/openid-configuration"),
    ({"provider": "okta", "domain": "acme.okta.com", "authorization_server": "aus1"},
     "https://acme.okta.com/oauth2/aus1/.well-known/openid-configuration"),
    ({"provider": "keycloak", "url": "https://kc.example.org", "realm": "staff"},
     "https://kc.example.org/realms/staff/.well-known/openid-configuration"),
    ({"provider": "cognito", "region": "eu-west-1", "pool_id": "eu-west-1_AbC"},
     "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC/.well-known/openid-configuration"),
    ({"provider": "gitlab"}, "https://gitlab.com/.well-known/openid-configuration"),
    ({"provider": "gitlab", "domain": "git.example.org"}, "https://git.example.org/.well-known/openid-configuration"),
])
def test_each_preset_fills_the_discovery_url(keys, url):
    provider = parse_server_config(named(**keys), APP_DIR).providers["corp"]
    assert provider.server_metadata_url == url
    assert provider.kind == "oidc"


def test_an_explicit_server_metadata_url_wins_over_the_preset():
    auth = named(provider="google", server_metadata_url=METADATA)
    assert parse_server_config(auth, APP_DIR).providers["corp"].server_metadata_url == METADATA


@pytest.mark.parametrize(("keys", "missing"), [
    ({"provider": "microsoft"}, "tenant"),
    ({"provider": "auth0"}, "domain"),
    ({"provider": "okta"}, "domain"),
    ({"provider": "keycloak", "url": "https://kc.example.org"}, "realm"),
    ({"provider": "keycloak", "realm": "staff"}, "url"),
    ({"provider": "cognito", "pool_id": "eu-west-1_AbC"}, "region"),
    ({"provider": "cognito", "region": "eu-west-1"}, "pool_id"),
    ({"provider": "microsoft", "tenant": "  "}, "tenant"),
])
def test_a_preset_missing_its_key_is_refused_naming_the_key(keys, missing):
    with pytest.raises(ConfigError, match=rf"\[auth\.corp\] {missing}: the {keys['provider']} preset needs {missing}"):
        parse_server_config(named(**keys), APP_DIR)


def test_without_providers_sign_in_is_off_and_secrets_are_not_required():
    config = parse_server_config({"routes": ["api.py"]}, APP_DIR)
    assert not config.sign_in_enabled and config.cookie_secrets == ()


@pytest.mark.parametrize("value", ["99999999999d", "5300w", 10**12, "9" * 5000 + "d"])
def test_an_absurdly_long_default_ttl_is_refused_instead_of_overflowing_cookie_dates(value):
    with pytest.raises(ConfigError, match=r"default_ttl"):
        parse_server_config(native(default_ttl=value), APP_DIR)


@pytest.mark.parametrize("value", ["\u0667d", "\uff17d"])  # Arabic-Indic / full-width digit seven
def test_only_ascii_digits_count_in_a_duration(value):
    with pytest.raises(ConfigError, match=r"default_ttl"):
        parse_server_config(native(default_ttl=value), APP_DIR)
