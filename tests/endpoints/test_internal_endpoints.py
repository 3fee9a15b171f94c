"""Our internal endpoints: cookie delivery (``/_stauth/cookies``) and redirect hand-off."""

from __future__ import annotations

import json
import uuid
from urllib.parse import unquote

import pytest

from stauth_server.web.cookie_outbox import OUTBOX, browser_binding
from stauth_server.web.cookie_rules import build_write
from stauth_server.web.redirects import PENDING_REDIRECTS, resolve
from stauth_server.web.routes import RouteRegistry

#: Streamlit's XSRF cookie in this test's browser (Tornado's v2 form) and in another one.
XSRF_COOKIE = "2|1a2b3c4d|5e6f7a8b9c0d1e2f|1700000000"
OTHER_XSRF_COOKIE = "2|00000000|aaaaaaaaaaaaaaaa|1700000000"
BINDING = browser_binding(XSRF_COOKIE)
BROWSER = {"Cookie": f"_streamlit_xsrf={XSRF_COOKIE}"}
OTHER_BROWSER = {"Cookie": f"_streamlit_xsrf={OTHER_XSRF_COOKIE}"}


@pytest.fixture
def routes() -> RouteRegistry:
    return RouteRegistry()


@pytest.fixture
def session_id() -> str:
    return f"session-{uuid.uuid4()}"


def park(session_id: str, name: str = "theme", value: str | None = "dark", *, binding: str | None = BINDING, **kw):
    """Put one write in the global outbox, as ``sa.cookies.set`` does; returns the delivery."""
    write = build_write(name, value, default_path=kw.pop("path", "/"), page_is_https=False, **kw)
    return OUTBOX.add(session_id, object(), write, binding)


def attributes(set_cookie: str) -> list[str]:
    return [part.strip() for part in set_cookie.split(";")]


# --- cookie delivery -----------------------------------------------------------------


@pytest.mark.gen_test
def test_delivery_sets_the_cookies_once(fetch, base_url, session_id):
    delivery = park(session_id, max_age=3600)
    response = yield fetch(
        f"/_stauth/cookies/{delivery.token}", method="POST", body=b"", headers={**BROWSER, "Origin": base_url}
    )
    assert response.code == 204
    assert response.body == b""
    assert response.headers["Cache-Control"] == "no-store"
    (set_cookie,) = response.headers.get_list("Set-Cookie")
    parts = attributes(set_cookie)
    assert parts[0] == "theme=dark"
    assert {"Max-Age=3600", "Path=/", "HttpOnly", "SameSite=Lax"} <= set(parts)

    again = yield fetch(
        f"/_stauth/cookies/{delivery.token}", method="POST", body=b"", headers={**BROWSER, "Origin": base_url}
    )
    assert again.code == 404
    assert json.loads(again.body)["error"] == "Unknown or already used cookie token"
    assert again.headers.get_list("Set-Cookie") == []


@pytest.mark.gen_test
def test_one_delivery_carries_every_write_of_the_run(fetch, base_url, session_id):
    marker = object()
    first = OUTBOX.add(session_id, marker, build_write("a", "1", default_path="/app/", page_is_https=False), None)
    OUTBOX.add(session_id, marker, build_write("b", None, default_path="/app/", page_is_https=False), None)
    response = yield fetch(f"/_stauth/cookies/{first.token}", method="POST", body=b"", headers={"Origin": base_url})
    cookies = response.headers.get_list("Set-Cookie")
    assert [c.split(";", 1)[0] for c in cookies] == ["a=1", "b="]
    assert "Max-Age=0" in attributes(cookies[1])


@pytest.mark.gen_test
def test_cross_site_delivery_is_refused_and_keeps_the_token(fetch, base_url, session_id):
    delivery = park(session_id)
    refused = yield fetch(
        f"/_stauth/cookies/{delivery.token}",
        method="POST",
        body=b"",
        headers={**BROWSER, "Origin": "http://evil.example"},
    )
    assert refused.code == 403
    assert refused.headers.get_list("Set-Cookie") == []
    accepted = yield fetch(
        f"/_stauth/cookies/{delivery.token}", method="POST", body=b"", headers={**BROWSER, "Origin": base_url}
    )
    assert accepted.code == 204


@pytest.mark.gen_test
def test_delivery_survives_streamlit_re_masking_the_xsrf_cookie(fetch, base_url, session_id):
    first = yield fetch("/test/xsrf")
    (set_cookie,) = first.headers.get_list("Set-Cookie")
    cookie = set_cookie.split(";", 1)[0].split("=", 1)[1]
    remasked = (yield fetch("/test/xsrf", headers={"Cookie": f"_streamlit_xsrf={cookie}"})).body.decode()
    assert remasked != cookie
    delivery = park(session_id, binding=browser_binding(cookie))
    response = yield fetch(
        f"/_stauth/cookies/{delivery.token}",
        method="POST",
        body=b"",
        headers={"Cookie": f"_streamlit_xsrf={remasked}", "Origin": base_url},
    )
    assert response.code == 204


@pytest.mark.gen_test
def test_delivery_without_origin_is_refused(fetch, session_id):
    delivery = park(session_id)
    response = yield fetch(f"/_stauth/cookies/{delivery.token}", method="POST", body=b"", headers=BROWSER)
    assert response.code == 403


@pytest.mark.gen_test
def test_delivery_to_another_browser_is_refused_and_keeps_the_token(fetch, base_url, session_id):
    delivery = park(session_id)
    wrong = yield fetch(
        f"/_stauth/cookies/{delivery.token}",
        method="POST",
        body=b"",
        headers={**OTHER_BROWSER, "Origin": base_url},
    )
    assert wrong.code == 403
    assert json.loads(wrong.body)["error"] == "This cookie token belongs to another browser"
    assert wrong.headers.get_list("Set-Cookie") == []
    missing = yield fetch(f"/_stauth/cookies/{delivery.token}", method="POST", body=b"", headers={"Origin": base_url})
    assert missing.code == 403
    right = yield fetch(
        f"/_stauth/cookies/{delivery.token}", method="POST", body=b"", headers={**BROWSER, "Origin": base_url}
    )
    assert right.code == 204


@pytest.mark.gen_test
def test_delivery_by_get_is_not_allowed(fetch, session_id):
    delivery = park(session_id)
    response = yield fetch(f"/_stauth/cookies/{delivery.token}", headers=BROWSER)
    assert response.code == 405
    assert json.loads(response.body) == {"error": "Method Not Allowed"}
    assert OUTBOX.has_pending(session_id) is True


@pytest.mark.gen_test
@pytest.mark.parametrize(
    "token",
    ["abc$def", "abc%00def", "abc%2Fdef", "..%2F..%2Fetc", "a" * 129, "%F0%9F%8D%AA", "abc.def", ""],
)
def test_garbage_cookie_token_is_404_not_500(fetch, base_url, token):
    response = yield fetch(f"/_stauth/cookies/{token}", method="POST", body=b"", headers={"Origin": base_url})
    assert response.code == 404


@pytest.mark.gen_test
def test_well_formed_unknown_cookie_token_is_a_json_404(fetch, base_url):
    response = yield fetch("/_stauth/cookies/" + "A" * 32, method="POST", body=b"", headers={"Origin": base_url})
    assert response.code == 404
    assert json.loads(response.body) == {"error": "Unknown or already used cookie token"}


# --- redirect hand-off ---------------------------------------------------------------


@pytest.mark.gen_test
def test_handoff_is_a_303_to_the_target_once(fetch, session_id):
    token = PENDING_REDIRECTS.add(session_id, "/x?y=1")
    response = yield fetch(f"/_stauth/redirect/{token}")
    assert response.code == 303
    assert response.headers["Location"] == "/x?y=1"
    assert response.headers["Cache-Control"] == "no-store"

    replay = yield fetch(f"/_stauth/redirect/{token}")
    assert replay.code == 404
    assert "Location" not in replay.headers
    assert json.loads(replay.body)["error"] == "This redirect link has expired or was already used"


@pytest.mark.gen_test
def test_handoff_delivers_the_sessions_pending_cookies(fetch, session_id):
    park(session_id, "theme", "dark")
    park(session_id, "old", None)
    token = PENDING_REDIRECTS.add(session_id, "/app/billing")
    response = yield fetch(f"/_stauth/redirect/{token}", headers=BROWSER)
    assert response.code == 303
    assert response.headers["Location"] == "/app/billing"
    cookies = response.headers.get_list("Set-Cookie")
    assert sorted(c.split(";", 1)[0] for c in cookies) == ["old=", "theme=dark"]
    assert all("HttpOnly" in attributes(c) and "SameSite=Lax" in attributes(c) for c in cookies)
    assert OUTBOX.has_pending(session_id) is False


@pytest.mark.gen_test
def test_handoff_keeps_cookies_bound_to_another_browser(fetch, session_id):
    park(session_id)
    token = PENDING_REDIRECTS.add(session_id, "/x")
    response = yield fetch(f"/_stauth/redirect/{token}", headers=OTHER_BROWSER)
    assert response.code == 303
    assert response.headers.get_list("Set-Cookie") == []
    assert OUTBOX.has_pending(session_id) is True


@pytest.mark.gen_test
def test_handoff_to_an_external_url_keeps_it_verbatim(fetch, session_id):
    token = PENDING_REDIRECTS.add(session_id, "https://pay.example.com/x?a=1&b=2")
    response = yield fetch(f"/_stauth/redirect/{token}")
    assert response.headers["Location"] == "https://pay.example.com/x?a=1&b=2"


@pytest.mark.gen_test
def test_handoff_to_a_non_ascii_target_still_redirects_and_delivers(fetch, session_id):
    park(session_id)
    target = resolve("/search?q=\u4e2d\u6587", base_path="app", external=False, app_origin=None)
    token = PENDING_REDIRECTS.add(session_id, target)
    response = yield fetch(f"/_stauth/redirect/{token}", headers=BROWSER)
    assert response.code == 303
    location = response.headers["Location"]
    assert location.isascii()
    assert unquote(location) == "/app/search?q=\u4e2d\u6587"
    assert [c.split(";", 1)[0] for c in response.headers.get_list("Set-Cookie")] == ["theme=dark"]


@pytest.mark.gen_test
@pytest.mark.parametrize("token", ["abc$def", "abc%00", "%2F%2Fevil.example", "a" * 129, "abc%20def"])
def test_garbage_redirect_token_is_404_not_500(fetch, token):
    response = yield fetch(f"/_stauth/redirect/{token}")
    assert response.code == 404
    assert "Location" not in response.headers
