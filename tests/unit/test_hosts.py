"""``server.allowedHosts`` for our endpoints: DNS-rebinding probes."""

from __future__ import annotations

import pytest

from stauth_server.web.hosts import host_allowed

ALLOWED = ["app.example.com", "*.corp.test", "localhost"]


@pytest.mark.parametrize("host", ["app.example.com", "APP.example.com:8501", "app.example.com.", "a.corp.test",
                                  "deep.a.corp.test:443", "localhost:8501"])
def test_listed_hosts_pass(host):
    assert host_allowed(host, ALLOWED)


@pytest.mark.parametrize("host", [
    None, "", "attacker.test", "app.example.com.attacker.test", "corp.test.attacker.test",
    "user@app.example.com", "app.example.com:99999", "app.example.com:x", "app.example.com/path",
    "app.example.com?q", "app.example.com#f", "xcorp.test",
])
def test_rebinding_and_malformed_hosts_are_refused(host):
    assert not host_allowed(host, ALLOWED)


def test_an_empty_list_allows_every_host_and_star_any_valid_one():
    assert host_allowed("anything.test", [])
    assert host_allowed(None, [])
    assert host_allowed("anything.test:8501", ["*"])
    assert not host_allowed("user@anything.test", ["*"])
