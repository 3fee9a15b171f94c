"""The server part of ``[auth]``: which route files to load."""

from __future__ import annotations

from pathlib import Path

import pytest

from stauth_server.core.config import ServerConfig, load_server_config, parse_server_config
from stauth_server.core.errors import ConfigError

APP_DIR = Path("/srv/app")


def test_no_routes_key_means_no_route_files():
    assert parse_server_config({}, APP_DIR) == ServerConfig(routes=())


def test_routes_list_is_relative_to_the_app_folder():
    config = parse_server_config({"routes": ["api.py", "hooks/github.py"]}, APP_DIR)
    assert config.routes == (APP_DIR / "api.py", APP_DIR / "hooks" / "github.py")


def test_a_single_routes_string_is_one_file():
    assert parse_server_config({"routes": "api.py"}, APP_DIR).routes == (APP_DIR / "api.py",)


def test_absolute_route_paths_stay_absolute():
    assert parse_server_config({"routes": ["/opt/api.py"]}, APP_DIR).routes == (Path("/opt/api.py"),)


def test_a_tuple_of_routes_is_accepted():
    assert parse_server_config({"routes": ("a.py",)}, APP_DIR).routes == (APP_DIR / "a.py",)


@pytest.mark.parametrize("raw", [3, True, {"a": "b"}, ["api.py", 3], [""], "", [None], [["api.py"]]])
def test_invalid_routes_are_a_config_error_naming_the_key(raw):
    with pytest.raises(ConfigError, match=r"\[auth\] routes"):
        parse_server_config({"routes": raw}, APP_DIR)


def test_server_config_is_frozen():
    config = ServerConfig()
    with pytest.raises(AttributeError):
        config.routes = (Path("x.py"),)


class FakeSecrets:
    """Stands in for ``st.secrets``: what ``load_server_config`` reads."""

    def __init__(self, data=None, *, exists=True, error: Exception | None = None):
        self._data = data or {}
        self._exists = exists
        self._error = error

    def load_if_toml_exists(self) -> bool:
        if self._error is not None:
            raise self._error
        return self._exists

    def get(self, key, default=None):
        return self._data.get(key, default)


@pytest.fixture
def secrets(monkeypatch):
    import streamlit

    def install(fake: FakeSecrets) -> None:
        monkeypatch.setattr(streamlit, "secrets", fake)

    return install


def test_absent_secrets_file_means_defaults(secrets):
    secrets(FakeSecrets({"auth": {"routes": "api.py"}}, exists=False))
    assert load_server_config(APP_DIR) == ServerConfig()


def test_routes_are_read_from_the_auth_table(secrets):
    secrets(FakeSecrets({"auth": {"routes": ["api.py"]}}))
    assert load_server_config(APP_DIR).routes == (APP_DIR / "api.py",)


def test_a_secrets_file_without_auth_means_defaults(secrets):
    secrets(FakeSecrets({"other": 1}))
    assert load_server_config(APP_DIR) == ServerConfig()


def test_malformed_secrets_file_is_a_config_error(secrets):
    secrets(FakeSecrets(error=ValueError("Invalid TOML at line 3")))
    with pytest.raises(ConfigError, match="secrets.toml could not be read: Invalid TOML at line 3"):
        load_server_config(APP_DIR)


def test_auth_that_is_not_a_table_is_a_config_error(secrets):
    secrets(FakeSecrets({"auth": "yes"}))
    with pytest.raises(ConfigError, match=r"\[auth\]: expected a table, got str"):
        load_server_config(APP_DIR)
