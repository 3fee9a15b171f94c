"""Identity from a trusted reverse proxy: counted from trusted peers only, stripped otherwise.

The server listens on 127.0.0.1; requests from source address 127.0.0.2 play the
trusted proxy, requests from 127.0.0.1 an untrusted client.
"""

from __future__ import annotations

import http.client
import json
import shutil

import pytest

from .harness import APPS, run_app
from .test_sign_in import SECRET, write_secrets

TRUSTED, UNTRUSTED = "127.0.0.2", "127.0.0.1"
IDENTITY = {"X-Forwarded-User": "u-42", "X-Forwarded-Email": "alice@example.org",
            "X-Forwarded-Groups": "admins, staff", "X-Forwarded-For": "203.0.113.9"}


@pytest.fixture(scope="module")
def proxied(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("proxy")
    app_dir = tmp / "app"
    shutil.copytree(APPS / "proxy", app_dir)
    write_secrets(app_dir, f"""
[auth]
cookie_secret = "{SECRET}"
routes = ["api.py"]

[auth.proxy]
trusted_proxies = ["{TRUSTED}/32"]

[auth.roles]
admin = ["group:admins"]
""")
    with run_app(app_dir, tmp_path=tmp) as app:
        yield app


def get(app, path: str, source: str, headers: dict[str, str]) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", app.port, timeout=10, source_address=(source, 0))
    try:
        connection.request("GET", app.base_path + path, headers=headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        connection.close()


def test_a_trusted_proxy_signs_the_user_in_with_groups_and_roles(proxied):
    status, body = get(proxied, "/api/echo", TRUSTED, IDENTITY)
    assert status == 200
    assert body["user"] == "alice@example.org"
    assert body["groups"] == ["admins", "staff"] and body["roles"] == ["admin"]
    assert body["client_ip"] == "203.0.113.9"
    status, info = get(proxied, "/auth/userinfo", TRUSTED, IDENTITY)
    assert status == 200 and info["email"] == "alice@example.org" and info["provider"] == "proxy"


def test_the_same_headers_from_an_untrusted_peer_are_ignored_and_stripped(proxied):
    status, body = get(proxied, "/api/echo", UNTRUSTED, IDENTITY)
    assert status == 200
    assert body["user"] is None and body["identity_header"] is None
    assert body["client_ip"] == UNTRUSTED
    status, _ = get(proxied, "/auth/userinfo", UNTRUSTED, IDENTITY)
    assert status == 401


def test_an_untrusted_browser_sees_no_identity_and_no_spoofed_header(context, proxied):
    context.set_extra_http_headers(IDENTITY)
    page = context.new_page()
    page.goto(proxied.url("/"))
    page.get_by_text("proxy-user=anonymous").wait_for()
    page.get_by_text("header-seen=none").wait_for()


def test_a_browser_behind_the_trusted_proxy_is_signed_in_in_the_app(context, proxied):
    from .header_proxy import run_header_proxy

    with run_header_proxy(proxied.port, {k: v for k, v in IDENTITY.items() if k != "X-Forwarded-For"}) as port:
        page = context.new_page()
        page.goto(f"http://127.0.0.1:{port}{proxied.base_path}/")
        page.get_by_text("proxy-user=alice@example.org").wait_for()
        page.get_by_text("header-seen=u-42").wait_for()
