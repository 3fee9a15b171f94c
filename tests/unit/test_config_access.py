"""Config keys for roles, page rules, require_login, local accounts and groups_claim."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from stauth_server.core.config import parse_server_config
from stauth_server.core.errors import ConfigError
from stauth_server.core.roles import RoleRule

SECRET = "s" * 40
REDIRECT = "https://app.example.org/oauth2callback"
METADATA = "https://idp.example.org/.well-known/openid-configuration"


def provider(**extra):
    return {"client_id": "cid", "client_secret": "csecret", "server_metadata_url": METADATA, **extra}


def with_provider(**auth):
    return {"redirect_uri": REDIRECT, "cookie_secret": SECRET, "corp": provider(), **auth}


# --- [auth.roles] ---------------------------------------------------------------------

def test_roles_are_parsed_into_rules():
    config = parse_server_config(with_provider(roles={"admin": ["alice@example.org", "group:admins"]}), Path("/app"))
    assert config.roles == {"admin": (RoleRule("email", "alice@example.org"), RoleRule("group", "admins"))}


def test_roles_and_page_rules_work_without_any_sign_in_configured():
    config = parse_server_config({"roles": {"admin": ["group:admins"]}, "access": {"admin": ["admin"]},
                                  "require_login": True}, Path("/app"))
    assert config.roles == {"admin": (RoleRule("group", "admins"),)}
    assert config.access == {"admin": ("admin",)}
    assert config.require_login is True
    assert not config.sign_in_enabled


def test_a_bad_role_entry_stops_start_up_naming_the_role():
    with pytest.raises(ConfigError, match=r"\[auth\.roles\] admin"):
        parse_server_config(with_provider(roles={"admin": ["group:"]}), Path("/app"))


def test_the_roles_table_is_not_mistaken_for_a_provider():
    config = parse_server_config(with_provider(roles={"client_id": ["group:x"]}), Path("/app"))
    assert set(config.providers) == {"corp"}


# --- [auth.access] --------------------------------------------------------------------

def test_access_maps_pages_to_roles_public_or_one_role():
    config = parse_server_config({"access": {"admin": ["admin", "ops"], "about": "public", "billing": "finance"}},
                                 Path("/app"))
    assert config.access == {"admin": ("admin", "ops"), "about": (), "billing": ("finance",)}


def test_access_page_names_lose_surrounding_slashes():
    config = parse_server_config({"access": {"/admin/": ["admin"], "pages/ops.py": ["ops"]}}, Path("/app"))
    assert config.access == {"admin": ("admin",), "pages/ops.py": ("ops",)}


@pytest.mark.parametrize("rule", [[], "", 3, True, [""], ["admin", 3], {"roles": ["admin"]}])
def test_a_bad_access_rule_is_a_config_error_naming_the_page(rule):
    with pytest.raises(ConfigError, match=r"\[auth\.access\] admin"):
        parse_server_config({"access": {"admin": rule}}, Path("/app"))


def test_access_that_is_not_a_table_is_a_config_error():
    with pytest.raises(ConfigError, match=r"\[auth\.access\]"):
        parse_server_config({"access": ["admin"]}, Path("/app"))


def test_no_access_table_means_no_page_rules():
    assert parse_server_config({}, Path("/app")).access == {}


# --- require_login --------------------------------------------------------------------

def test_login_is_not_required_by_default():
    assert parse_server_config(with_provider(), Path("/app")).require_login is False


@pytest.mark.parametrize("value", ["true", 1, "yes", None])
def test_require_login_must_be_a_boolean(value):
    with pytest.raises(ConfigError, match=r"\[auth\] require_login"):
        parse_server_config(with_provider(require_login=value), Path("/app"))


def test_require_login_is_not_a_provider_and_not_warned_about(caplog):
    with caplog.at_level(logging.WARNING, logger="stauth_server.config"):
        config = parse_server_config(with_provider(require_login=True), Path("/app"))
    assert config.require_login is True and set(config.providers) == {"corp"}
    assert "require_login" not in caplog.text


# --- [auth.local] ---------------------------------------------------------------------

def test_users_file_is_relative_to_the_app_folder(tmp_path):
    (tmp_path / "users.toml").write_text("", encoding="utf-8")
    config = parse_server_config({"cookie_secret": SECRET, "local": {"users_file": "users.toml"}}, tmp_path)
    assert config.users_file == tmp_path / "users.toml"


def test_local_accounts_alone_enable_sign_in_without_a_redirect_uri(tmp_path):
    (tmp_path / "users.toml").write_text("", encoding="utf-8")
    config = parse_server_config({"cookie_secret": SECRET, "local": {"users_file": "users.toml"}}, tmp_path)
    assert config.sign_in_enabled
    assert config.providers == {} and config.redirect_uri is None
    assert config.cookie_secrets == (SECRET,)


def test_local_accounts_need_a_cookie_secret(tmp_path):
    (tmp_path / "users.toml").write_text("", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[auth\] cookie_secret"):
        parse_server_config({"local": {"users_file": "users.toml"}}, tmp_path)


def test_a_missing_users_file_stops_start_up_naming_the_path(tmp_path):
    with pytest.raises(ConfigError, match=r"\[auth\.local\] users_file") as caught:
        parse_server_config({"cookie_secret": SECRET, "local": {"users_file": "nope.toml"}}, tmp_path)
    assert str(tmp_path / "nope.toml") in str(caught.value)
    assert "streamlit-auth users add" in str(caught.value)


@pytest.mark.parametrize("local", [{}, {"users_file": ""}, {"users_file": 3}, "users.toml"])
def test_local_without_a_users_file_is_a_config_error(tmp_path, local):
    with pytest.raises(ConfigError, match=r"\[auth\.local\] users_file: (missing|expected a path, got 3)"):
        parse_server_config({"cookie_secret": SECRET, "local": local}, tmp_path)


def test_a_users_folder_is_not_a_users_file(tmp_path):
    (tmp_path / "users.toml").mkdir()
    with pytest.raises(ConfigError, match=r"\[auth\.local\] users_file"):
        parse_server_config({"cookie_secret": SECRET, "local": {"users_file": "users.toml"}}, tmp_path)


def test_no_local_table_means_no_users_file():
    assert parse_server_config(with_provider(), Path("/app")).users_file is None


# --- groups_claim ---------------------------------------------------------------------

def test_providers_read_groups_and_roles_claims_by_default():
    assert parse_server_config(with_provider(), Path("/app")).providers["corp"].groups_claims == ("groups", "roles")


@pytest.mark.parametrize("setting, expected", [
    ("teams", ("teams",)),
    (["teams", "departments"], ("teams", "departments")),
    ("keycloak", ("realm_access.roles", "groups")),
    ("cognito", ("cognito:groups",)),
])
def test_a_providers_groups_claim_names_the_claims_or_a_preset(setting, expected):
    auth = with_provider(corp=provider(groups_claim=setting))
    assert parse_server_config(auth, Path("/app")).providers["corp"].groups_claims == expected


def test_groups_claim_is_per_provider():
    auth = with_provider(corp=provider(groups_claim="teams"), other=provider())
    providers = parse_server_config(auth, Path("/app")).providers
    assert providers["corp"].groups_claims == ("teams",)
    assert providers["other"].groups_claims == ("groups", "roles")


@pytest.mark.parametrize("setting", [3, ["teams", 3], {"claim": "teams"}, True])
def test_a_bad_groups_claim_is_a_config_error_naming_the_provider(setting):
    with pytest.raises(ConfigError, match=r"\[auth\.corp\] groups_claim"):
        parse_server_config(with_provider(corp=provider(groups_claim=setting)), Path("/app"))


@pytest.mark.parametrize("preset, extra, expected", [
    ("keycloak", {"url": "https://kc.example.org", "realm": "main"}, ("realm_access.roles", "groups")),
    ("microsoft", {"tenant": "t-1"}, ("roles", "groups")),
    ("cognito", {"region": "eu-west-1", "pool_id": "eu-west-1_abc"}, ("cognito:groups",)),
    ("google", {}, ("groups", "roles")),
])
def test_a_provider_preset_brings_its_groups_claims(preset, extra, expected):
    table = {"client_id": "cid", "client_secret": "x", "provider": preset, **extra}
    config = parse_server_config({"redirect_uri": REDIRECT, "cookie_secret": SECRET, "corp": table}, Path("/app"))
    assert config.providers["corp"].groups_claims == expected


def test_an_explicit_groups_claim_overrides_the_presets():
    table = {"client_id": "cid", "provider": "keycloak", "url": "https://kc.example.org", "realm": "main",
             "groups_claim": "teams"}
    config = parse_server_config({"redirect_uri": REDIRECT, "cookie_secret": SECRET, "kc": table}, Path("/app"))
    assert config.providers["kc"].groups_claims == ("teams",)


def test_groups_claim_of_the_top_level_provider_is_read_from_auth():
    auth = {"redirect_uri": REDIRECT, "cookie_secret": SECRET, **provider(), "groups_claim": "keycloak"}
    config = parse_server_config(auth, Path("/app"))
    assert config.providers["default"].groups_claims == ("realm_access.roles", "groups")


def test_groups_claim_is_a_known_provider_key(caplog):
    with caplog.at_level(logging.WARNING, logger="stauth_server.config"):
        parse_server_config(with_provider(corp=provider(groups_claim="teams")), Path("/app"))
    assert "groups_claim" not in caplog.text


def test_on_login_named_in_config_is_a_file_and_a_function(tmp_path):
    from stauth_server.core.config import parse_server_config

    config = parse_server_config({"on_login": "hooks.py:enrich"}, tmp_path)
    assert config.on_login == (tmp_path / "hooks.py", "enrich")


def test_on_login_in_another_form_names_the_key(tmp_path):
    import pytest as _pytest

    from stauth_server.core.config import parse_server_config
    from stauth_server.core.errors import ConfigError

    with _pytest.raises(ConfigError, match="on_login"):
        parse_server_config({"on_login": "enrich"}, tmp_path)


def test_login_template_must_hold_the_form_placeholder(tmp_path):
    import pytest as _pytest

    from stauth_server.core.config import parse_server_config
    from stauth_server.core.errors import ConfigError

    (tmp_path / "login.html").write_text("<html>no placeholder</html>")
    with _pytest.raises(ConfigError, match="login_form"):
        parse_server_config({"login_template": "login.html"}, tmp_path)
