"""What the property-based fuzzing found, pinned as plain regression tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from stauth_server.core.config import parse_server_config
from stauth_server.core.errors import ConfigError, HTTPError
from stauth_server.web.http import Request
from stauth_server.core.oidc.client import LoginRequest
from stauth_server.core.throttle import Throttle

BASE = {"client_id": "rp", "provider": "google", "redirect_uri": "https://app.example.org/oauth2callback",
        "cookie_secret": "x" * 32}


def test_thousands_of_throttled_attempts_never_overflow_the_wait():
    throttle = Throttle(clock=lambda: 1000.0)
    keys = ["user:local:alice", "ip:203.0.113.9"]
    waits = [throttle.attempt(keys) for _ in range(3000)]
    assert waits[-1] == throttle.cap and all(0 <= w <= throttle.cap for w in waits)


def test_json_nested_too_deep_is_a_400_not_a_500():
    request = Request(method="POST", path="/x", path_params={}, query_string="", headers=[],
                      body=b"[" * 100_000 + b"]" * 100_000, client_ip=None)
    with pytest.raises(HTTPError) as caught:
        request.json()
    assert caught.value.status == 400


@pytest.mark.parametrize("changes", [
    {"provider": ["google"]}, {"provider": {}}, {"redirect_uri": "http://[::1/oauth2callback"},
    {"provider": None, "server_metadata_url": "https://[::1/.well-known/openid-configuration"},
    {"store": {"url": "redis://[::1/0"}}, {"store": {"url": "sqlite:///\x00x"}},
])
def test_hostile_config_values_are_config_errors_naming_the_key(changes):
    auth = {**BASE, **changes}
    auth = {k: v for k, v in auth.items() if v is not None}
    with pytest.raises(ConfigError) as caught:
        parse_server_config(auth, Path("."))
    assert any(key in str(caught.value) for key in ("provider", "redirect_uri", "server_metadata_url", "[auth.store]"))


@pytest.mark.parametrize("field,value", [
    ("state", None), ("provider", []), ("provider", {}), ("next_path", 7), ("nonce", b"n"), ("created", "0"),
    ("created", True),
])
def test_a_login_cookie_with_a_field_of_the_wrong_type_is_no_login(field, value):
    good = LoginRequest.new("op", "/").to_dict()
    assert LoginRequest.from_dict(good) is not None
    assert LoginRequest.from_dict({**good, field: value}) is None
