"""Two replicas sharing Redis: a sign-in started on one finishes on the other, sessions
and revocations are seen by both (no sticky sessions needed)."""

from __future__ import annotations

import shutil

import pytest

from .harness import APPS, free_port, run_app
from .op import run_op, sign_in_at_op
from .redis_server import run_redis
from .test_sign_in import SECRET, write_secrets


@pytest.fixture(scope="module")
def replicas(tmp_path_factory, generation):
    tmp = tmp_path_factory.mktemp("replicas")
    app_dir = tmp / "app"
    shutil.copytree(APPS / "native_login", app_dir)
    port_a, port_b = free_port(), free_port()
    rp = f"http://127.0.0.1:{port_a}"
    with run_redis(tmp) as redis_url, run_op(rp, tmp) as op:
        write_secrets(app_dir, f"""
[auth]
redirect_uri = "{rp}/oauth2callback"
cookie_secrets = ["{SECRET}-new", "{SECRET}"]
client_id = "{op.client_id}"
client_secret = "{op.client_secret}"
server_metadata_url = "{op.metadata_url}"

[auth.store]
url = "{redis_url}"
""")
        with run_app(app_dir, port=port_a, generation=generation, tmp_path=tmp) as a, run_app(app_dir, port=port_b, generation=generation, tmp_path=tmp) as b:
            yield a, b


def test_sign_in_started_on_one_replica_is_seen_and_revoked_by_both(browser, context, replicas):
    a, b = replicas
    page = context.new_page()
    page.goto(b.url("/"))
    page.get_by_text("logged-in=False").wait_for()
    page.goto(b.url("/auth/login"))           # the callback lands on replica A
    sign_in_at_op(page)
    page.get_by_text("logged-in=True").wait_for()
    assert page.url.startswith(a.url("/"))
    assert page.request.get(b.url("/auth/userinfo")).json()["email"] == "alice@example.org"
    on_b = context.new_page()
    on_b.goto(b.url("/"))
    on_b.get_by_text("email=alice@example.org").wait_for()
    copied = [c for c in context.cookies() if c["name"].startswith("stauth_session")]
    page.request.get(b.url("/auth/logout"), headers={"Sec-Fetch-Site": "same-origin"}, max_redirects=0)
    thief = browser.new_context()
    try:
        thief.add_cookies(copied)
        assert thief.request.get(a.url("/auth/userinfo")).status == 401
    finally:
        thief.close()
