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
BROWSER_IDENTITY = {k: v for k, v in IDENTITY.items() if k != "X-Forwarded-For"}
#: A state-changing route beside the app's ``api.py``.
WRITE_ROUTES = """
import stauth_server as sa


@sa.route("/api/note", methods=["POST"])
def note(request: sa.Request) -> dict:
    return {"saved_by": request.user.email}
"""


@pytest.fixture(scope="module")
def proxied(tmp_path_factory, generation):
    tmp = tmp_path_factory.mktemp("proxy")
    app_dir = tmp / "app"
    shutil.copytree(APPS / "proxy", app_dir)
    (app_dir / "write_routes.py").write_text(WRITE_ROUTES)
    write_secrets(app_dir, f"""
[auth]
cookie_secret = "{SECRET}"
routes = ["api.py", "write_routes.py"]

[auth.proxy]
trusted_proxies = ["{TRUSTED}/32"]

[auth.roles]
admin = ["group:admins"]
""")
    with run_app(app_dir, generation=generation, tmp_path=tmp) as app:
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

    with run_header_proxy(proxied.port, BROWSER_IDENTITY) as port:
        page = context.new_page()
        page.goto(f"http://127.0.0.1:{port}{proxied.base_path}/")
        page.get_by_text("proxy-user=alice@example.org").wait_for()
        page.get_by_text("header-seen=u-42").wait_for()


@pytest.mark.parametrize("forwarded_for, client_ip", [
    ("198.51.100.66, 203.0.113.9", "203.0.113.9"),             # a hop spoofed at the left
    (f"198.51.100.66, 203.0.113.9, {TRUSTED}", "203.0.113.9"),  # trusted hops are skipped
    ("198.51.100.66, unknown", TRUSTED),                       # garbage: the peer, not a chosen address
])
def test_the_client_address_is_the_rightmost_untrusted_hop(proxied, forwarded_for, client_ip):
    status, body = get(proxied, "/api/echo", TRUSTED, {**IDENTITY, "X-Forwarded-For": forwarded_for})
    assert status == 200
    assert body["client_ip"] == client_ip


def test_a_cross_site_post_through_the_trusted_proxy_is_refused(context, proxied):
    from .header_proxy import run_header_proxy

    with run_header_proxy(proxied.port, BROWSER_IDENTITY) as port:
        app_origin = f"http://127.0.0.1:{port}"
        note = f"{app_origin}{proxied.base_path}/api/note"
        # A foreign page, visited first so that the browser holds no cookie for the app:
        # only the proxy's identity headers make the forged request count.
        foreign_page = f'<form method="post" action="{note}"><button>send</button></form>'
        context.route("http://localhost:9/", lambda route: route.fulfill(content_type="text/html", body=foreign_page))
        page = context.new_page()
        page.goto("http://localhost:9/")
        with page.expect_response(note) as forged:
            page.get_by_role("button").click()
        sent = forged.value.request.all_headers()
        assert sent["origin"] == "http://localhost:9" and "cookie" not in sent
        assert forged.value.status == 403

        page.goto(f"{app_origin}{proxied.base_path}/")
        page.get_by_text("proxy-user=alice@example.org").wait_for()
        status, body = page.evaluate(
            "async (url) => { const r = await fetch(url, {method: 'POST'}); return [r.status, await r.json()]; }",
            note,
        )
        assert (status, body) == (200, {"saved_by": "alice@example.org"})
