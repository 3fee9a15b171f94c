"""Every option is declared once (core/options.py): the README's tables, the unknown-key
policy and the type checks all come from that declaration, and nothing is read undeclared."""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path

import pytest

from stauth_server.core import options
from stauth_server.core.config import PROVIDER_KEYS, SECTION_KEYS, TOP_LEVEL_KEYS, parse_server_config
from stauth_server.core.errors import ConfigError
from stauth_server.core.accounts.mail import SmtpConfig
from stauth_server.core.sources.ldap import LdapConfig
from stauth_server.core.sources.proxy import ProxyConfig

REPO = Path(__file__).resolve().parents[2]
SECRET = "a-cookie-secret-of-enough-length-for-tests-0123"


def _reference_script():
    spec = importlib.util.spec_from_file_location("config_reference", REPO / "scripts" / "config_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_readme_tables_are_the_declaration():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    expected = _reference_script().readme_with_reference(readme)
    assert readme == expected, "README.md's config reference differs: run python3 scripts/config_reference.py --write"


def test_the_parsers_key_sets_come_from_the_declaration():
    assert TOP_LEVEL_KEYS == set(options.keys_of("auth"))
    assert PROVIDER_KEYS == set(options.keys_of(options.PROVIDER_SECTION))
    assert SECTION_KEYS == {"roles", "access", "local", "ldap", "smtp", "proxy", "store", "audit"}
    assert options.keys_of("auth.ldap") == set(LdapConfig.__dataclass_fields__)
    assert options.keys_of("auth.smtp") == set(SmtpConfig.__dataclass_fields__)
    header_fields = {f for f in ProxyConfig.__dataclass_fields__ if f != "trusted"}
    assert options.keys_of("auth.proxy") == header_fields | {"trusted_proxies"}


def test_every_option_has_a_doc_and_a_default():
    for option in options.OPTIONS:
        assert option.doc and option.default, option.label
    labels = [option.label for option in options.OPTIONS]
    assert len(labels) == len(set(labels)), "an option is declared twice"


def _config_with(section: str, key: str, value: object) -> dict:
    if section == "auth":
        return {"cookie_secret": SECRET, key: value}
    if section == options.PROVIDER_SECTION:
        return {"cookie_secret": SECRET, "redirect_uri": "http://localhost:8501/oauth2callback",
                "corp": {"client_id": "x", "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration",
                         key: value}}
    return {"cookie_secret": SECRET, section.split(".", 1)[1]: {key: value}}


@pytest.mark.parametrize("option", options.OPTIONS, ids=lambda o: o.label)
def test_a_value_of_the_wrong_type_is_a_config_error_naming_the_key(option, tmp_path):
    wrong = [1.5] if option.kind is options.TABLE else {"nested": {"not": "valid"}}
    with pytest.raises(ConfigError) as caught:
        parse_server_config(_config_with(option.section, option.key, wrong), tmp_path)
    assert option.key in str(caught.value)


@pytest.mark.parametrize(("section", "typo", "nearest"), [
    ("auth", "require_logn", "require_login"),
    (options.PROVIDER_SECTION, "client_secert", "client_secret"),
    ("auth.proxy", "trusted_proxy", "trusted_proxies"),
    ("auth.store", "uri", "url"),
])
def test_one_unknown_key_policy_everywhere(section, typo, nearest, tmp_path, caplog):
    auth = _config_with(section, typo, "x")
    if section == "auth.proxy":
        auth["proxy"]["trusted_proxies"] = ["127.0.0.1"]
    with caplog.at_level(logging.WARNING, logger="stauth_server.config"):
        parse_server_config(auth, tmp_path)
    assert f"unknown key {typo!r} is ignored; did you mean {nearest!r}?" in caplog.text
