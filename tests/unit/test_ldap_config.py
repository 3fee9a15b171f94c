"""``[auth.ldap]`` parsing (stauth_server.core.sources.ldap.parse_ldap): every mistake is a ConfigError
naming the key, and TLS settings that would silently not be used are refused."""

from __future__ import annotations

import pytest

from stauth_server.core.errors import ConfigError
from stauth_server.core.sources.ldap import LdapConfig, parse_ldap

TEMPLATE = "uid={username},ou=people,dc=example,dc=org"


def ldap(**keys) -> dict:
    return {"server_uri": "ldap://127.0.0.1:389", "user_dn_template": TEMPLATE, **keys}


def test_a_template_config_parses_with_defaults():
    config = parse_ldap(ldap(group_search_base="ou=groups,dc=example,dc=org"))
    assert config == LdapConfig(server_uri="ldap://127.0.0.1:389", user_dn_template=TEMPLATE,
                                group_search_base="ou=groups,dc=example,dc=org")
    assert (config.start_tls, config.ca_file, config.username_attribute) == (False, None, "uid")


def test_no_table_means_no_ldap():
    assert parse_ldap(None) is None


@pytest.mark.parametrize(("keys", "named"), [
    ({"server_uri": "http://127.0.0.1"}, "server_uri"),
    ({"start_tls": "false"}, "start_tls"),
    ({"timeout_seconds": 0}, "timeout_seconds"),
    ({"timeout_seconds": True}, "timeout_seconds"),
    ({"bind_password": 1234}, "bind_password"),
    ({"user_dn_template": "uid=alice,ou=people"}, "user_dn_template"),
    ({"user_search_filter": "(&(uid={username})(memberOf={group}))"}, "user_search_filter"),
    ({"group_search_filter": "(member={dn})"}, "group_search_filter"),
    ({"group_search_base": "groups"}, "group_search_base"),
])
def test_a_wrong_key_or_value_is_a_config_error_naming_it(keys, named):
    with pytest.raises(ConfigError, match=named):
        parse_ldap(ldap(**keys))


def test_a_misspelt_key_is_warned_about_with_the_nearest_known_key(tmp_path, caplog):
    """The one unknown-key policy (core.options): a warning naming the nearest key, then ignored."""
    from stauth_server.core.config import parse_server_config

    auth = {"cookie_secret": "s" * 40, "ldap": ldap(groups_search_base="ou=groups,dc=example,dc=org")}
    with caplog.at_level("WARNING", logger="stauth_server.config"):
        config = parse_server_config(auth, tmp_path)
    assert config.ldap is not None and config.ldap.group_search_base is None
    assert "[auth.ldap]: unknown key 'groups_search_base' is ignored; did you mean 'group_search_base'?" in caplog.text


def test_search_then_bind_needs_all_three_service_keys():
    with pytest.raises(ConfigError, match="bind_dn"):
        parse_ldap({"server_uri": "ldap://127.0.0.1:389", "bind_dn": "cn=admin,dc=example,dc=org"})


def test_a_ca_file_without_tls_is_refused_rather_than_ignored(tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    with pytest.raises(ConfigError, match="ca_file: only used with ldaps:// or start_tls"):
        parse_ldap(ldap(ca_file=str(ca)))


def test_start_tls_on_ldaps_is_refused():
    with pytest.raises(ConfigError, match="start_tls"):
        parse_ldap(ldap(server_uri="ldaps://127.0.0.1:636", start_tls=True))


def test_a_missing_ca_file_stops_start_up(tmp_path):
    with pytest.raises(ConfigError, match="ca_file: .*missing.pem does not exist"):
        parse_ldap(ldap(server_uri="ldaps://127.0.0.1:636", ca_file=str(tmp_path / "missing.pem")))


def test_a_relative_ca_file_is_found_in_the_app_folder(tmp_path):
    (tmp_path / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    config = parse_ldap(ldap(start_tls=True, ca_file="ca.pem"), app_dir=tmp_path)
    assert config is not None and config.ca_file == str(tmp_path / "ca.pem") and config.start_tls
