"""Under ``server.baseUrlPath``: every endpoint of ours moves below the base, and only there."""

from __future__ import annotations

import json
import uuid

import pytest
import tornado.web

from stauth_server.web.cookie_outbox import OUTBOX
from stauth_server.web.cookie_rules import build_write
from stauth_server.web.redirects import PENDING_REDIRECTS
from stauth_server.web.routes import RouteRegistry
from stauth_server.tornado.server import base_prefix, under_base


@pytest.fixture
def base_path() -> str:
    return "/team/app/"


@pytest.fixture
def routes() -> RouteRegistry:
    class Ping(tornado.web.RequestHandler):
        def get(self, name: str) -> None:
            self.write({"raw": name})

    registry = RouteRegistry()
    registry.add("/api/items/{item_id}", lambda request: {"id": request.path_params["item_id"], "path": request.path})
    registry.mount(r"/hooks/(\w+)", Ping)
    return registry


# Tornado-only: ``under_base`` builds the Tornado adapter's URL regexes.
def test_base_prefix_is_normalised(app):
    assert base_prefix() == "/team/app"
    assert under_base("/x$") == "^/team/app/x$"


@pytest.mark.gen_test
def test_route_is_served_under_the_base(fetch):
    response = yield fetch("/team/app/api/items/3")
    assert response.code == 200
    assert json.loads(response.body) == {"id": "3", "path": "/team/app/api/items/3"}


@pytest.mark.gen_test
def test_route_is_not_served_outside_the_base(fetch):
    response = yield fetch("/api/items/3")
    assert response.code == 404


# Tornado-only: raw mounts are tornado.web.RequestHandler classes, which only Tornado serves.
@pytest.mark.adapters("tornado")
@pytest.mark.gen_test
def test_raw_mount_is_served_under_the_base(fetch):
    response = yield fetch("/team/app/hooks/github")
    assert json.loads(response.body) == {"raw": "github"}
    outside = yield fetch("/hooks/github")
    assert outside.code == 404


@pytest.mark.gen_test
def test_cookie_delivery_is_under_the_base(fetch, base_url):
    write = build_write("theme", "dark", default_path="/team/app/", page_is_https=False)
    delivery = OUTBOX.add(f"session-{uuid.uuid4()}", object(), write, None)
    outside = yield fetch(f"/_stauth/cookies/{delivery.token}", method="POST", body=b"", headers={"Origin": base_url})
    assert outside.code == 404
    response = yield fetch(
        f"/team/app/_stauth/cookies/{delivery.token}", method="POST", body=b"", headers={"Origin": base_url}
    )
    assert response.code == 204
    (set_cookie,) = response.headers.get_list("Set-Cookie")
    assert "Path=/team/app/" in [part.strip() for part in set_cookie.split(";")]


@pytest.mark.gen_test
def test_redirect_handoff_is_under_the_base(fetch):
    token = PENDING_REDIRECTS.add(f"session-{uuid.uuid4()}", "/team/app/billing")
    response = yield fetch(f"/team/app/_stauth/redirect/{token}")
    assert response.code == 303
    assert response.headers["Location"] == "/team/app/billing"
