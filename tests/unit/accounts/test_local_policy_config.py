"""``[auth.local] min_password_length`` and ``require_second_factor`` (core.config)."""

from __future__ import annotations

import pytest

from stauth_server.core.config import parse_server_config
from stauth_server.core.errors import ConfigError

COOKIE_SECRET = "a-cookie-secret-of-at-least-32-characters-0001"


def parse(tmp_path, **local):
    (tmp_path / "users.toml").write_text("", encoding="utf-8")
    return parse_server_config({"cookie_secret": COOKIE_SECRET, "local": {"users_file": "users.toml", **local}},
                               tmp_path)


def test_defaults(tmp_path):
    config = parse(tmp_path)
    assert config.min_password_length == 12 and config.require_second_factor is False


def test_values(tmp_path):
    config = parse(tmp_path, min_password_length=16, require_second_factor=False)
    assert config.min_password_length == 16 and config.require_second_factor is False


@pytest.mark.parametrize(("value", "parsed"), [(True, True), (["admin", "ops"], ("admin", "ops"))])
def test_a_second_factor_can_be_required_of_everyone_or_of_roles(tmp_path, value, parsed):
    assert parse(tmp_path, require_second_factor=value).require_second_factor == parsed


@pytest.mark.parametrize("value", [7, 0, -1, "12", 12.5, True, 10_000])
def test_a_bad_minimum_length_stops_start_up(tmp_path, value):
    with pytest.raises(ConfigError, match=r"\[auth.local\] min_password_length"):
        parse(tmp_path, min_password_length=value)


@pytest.mark.parametrize("value", ["yes", "admin", 1, [1], [""], {"admin": True}])
def test_a_bad_require_second_factor_stops_start_up(tmp_path, value):
    with pytest.raises(ConfigError, match=r"\[auth.local\] require_second_factor"):
        parse(tmp_path, require_second_factor=value)
