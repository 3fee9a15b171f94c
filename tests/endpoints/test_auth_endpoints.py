"""Sign-in endpoints over HTTP, driven by the in-process fake OP: every hostile input gets
a 4xx and a short answer, never a 500 or a traceback."""

from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "oidc"))

from cookie_jar import cookie_header, set_cookies  # noqa: E402
from fake_op import FakeOP  # noqa: E402
from rp_helpers import make_service  # noqa: E402

from stauth_server.web.routes import RouteRegistry  # noqa: E402


@pytest.fixture
def routes() -> RouteRegistry:
    registry = RouteRegistry()
    registry.add("/api/me", lambda request: {"email": request.user.email}, auth="required")
    return registry


@pytest.fixture
def op() -> FakeOP:
    return FakeOP()


@pytest.fixture
def service(op):
    return make_service(op)


@pytest.fixture
def base_path() -> str:
    return "base"


async def signed_in(fetch, op) -> dict[str, str]:
    login = await fetch("/base/auth/login?provider=op&next=/reports")
    assert login.code == 302
    jar = set_cookies(login)
    query = urlencode(op.authorize(login.headers["Location"]))
    done = await fetch(f"/base/oauth2callback?{query}", headers={"Cookie": cookie_header(jar)})
    assert done.code == 303 and done.headers["Location"] == "/base/reports"
    return {k: v for k, v in set_cookies(done).items() if k.startswith("stauth_session") and v}


@pytest.mark.gen_test
async def test_login_redirects_to_the_provider_with_pkce_and_an_encrypted_login_cookie(fetch):
    response = await fetch("/base/auth/login?provider=op")
    assert response.code == 302
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert query["code_challenge_method"] == ["S256"] and len(query["state"][0]) >= 43
    cookie = next(h for h in response.headers.get_list("Set-Cookie") if h.startswith("stauth_login_"))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/base" in cookie
    assert query["state"][0] not in cookie


@pytest.mark.gen_test
async def test_abandoned_sign_ins_cannot_pile_up_login_cookies(fetch, op):
    """A cookie bomb by abandoned sign-ins: each /auth/login sets a cookie of its own; past
    MAX_LOGINS_IN_FLIGHT the oldest are cleared, and the newest flows still complete."""
    from stauth_server.core.signin import MAX_LOGINS_IN_FLIGHT

    jar: dict[str, str] = {"stauth_login_0123456789abcdef": "not-a-sealed-login"}
    flows = []
    for _ in range(MAX_LOGINS_IN_FLIGHT + 4):
        login = await fetch("/base/auth/login?provider=op", headers={"Cookie": cookie_header(jar)})
        assert login.code == 302
        jar.update(set_cookies(login))
        jar = {k: v for k, v in jar.items() if v}
        flows.append(login.headers["Location"])
        assert len([k for k in jar if k.startswith("stauth_login_")]) <= MAX_LOGINS_IN_FLIGHT
    assert "stauth_login_0123456789abcdef" not in jar  # the unreadable one went first
    assert len([k for k in jar if k.startswith("stauth_login_")]) == MAX_LOGINS_IN_FLIGHT
    newest = await fetch(f"/base/oauth2callback?{urlencode(op.authorize(flows[-1]))}",
                         headers={"Cookie": cookie_header(jar)})
    assert newest.code == 303
    oldest = await fetch(f"/base/oauth2callback?{urlencode(op.authorize(flows[0]))}",
                         headers={"Cookie": cookie_header(jar)})
    assert oldest.code == 400  # its cookie was cleared: this browser no longer holds that flow


@pytest.mark.gen_test
async def test_a_whole_sign_in_gives_userinfo_and_route_identity(fetch, op):
    session = await signed_in(fetch, op)
    info = await fetch("/base/auth/userinfo", headers={"Cookie": cookie_header(session)})
    assert info.code == 200 and b"token" not in info.body.lower().replace(b"tokens", b"")
    me = await fetch("/base/api/me", headers={"Cookie": cookie_header(session), "Accept": "application/json"})
    assert me.code == 200 and b"@" in me.body


@pytest.mark.gen_test
async def test_unknown_provider_is_a_400_page(fetch):
    response = await fetch("/base/auth/login?provider=" + "x" * 5000)
    assert response.code == 400 and b"does not exist" in response.body and b"Traceback" not in response.body


@pytest.mark.gen_test
@pytest.mark.parametrize("query", ["code=x&state=y", "code=x", "error=access_denied&state=zzz",
                                   "code=%ff%fe&state=%00", "state=" + "a" * 5000 + "&code=1"])
async def test_forged_or_garbage_callbacks_are_4xx(fetch, query):
    response = await fetch(f"/base/oauth2callback?{query}")
    assert 400 <= response.code < 500
    assert b"Traceback" not in response.body


@pytest.mark.gen_test
@pytest.mark.parametrize("value", ["garbage", "chunks:3", "chunks:-1", "gAAAAAB" + "A" * 200, "\"quoted\""])
async def test_garbage_session_cookies_are_anonymous_and_cleared(fetch, value):
    response = await fetch("/base/auth/userinfo", headers={"Cookie": f"stauth_session={value}"})
    assert response.code == 401
    assert any(h.startswith("stauth_session=;") for h in response.headers.get_list("Set-Cookie"))


@pytest.mark.gen_test
async def test_a_visitor_browser_on_a_protected_route_is_sent_to_sign_in(fetch):
    response = await fetch("/base/api/me?x=1", headers={"Accept": "text/html"})
    assert response.code == 302
    assert response.headers["Location"] == "/base/auth/login?next=%2Fapi%2Fme%3Fx%3D1"
    api = await fetch("/base/api/me", headers={"Accept": "application/json"})
    assert api.code == 401


@pytest.mark.gen_test
async def test_cross_site_logout_asks_first_and_cross_site_post_is_refused(fetch, op):
    session = await signed_in(fetch, op)
    headers = {"Cookie": cookie_header(session)}
    confirm = await fetch("/base/auth/logout", headers={**headers, "Sec-Fetch-Site": "cross-site"})
    assert confirm.code == 200 and b"Sign out?" in confirm.body
    post = await fetch("/base/auth/logout", method="POST", body="",
                       headers={**headers, "Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"})
    assert post.code == 403
    still = await fetch("/base/auth/userinfo", headers=headers)
    assert still.code == 200


@pytest.mark.gen_test
async def test_logout_revokes_the_session_for_a_copied_cookie(fetch, op):
    session = await signed_in(fetch, op)
    headers = {"Cookie": cookie_header(session)}
    out = await fetch("/base/auth/logout", headers={**headers, "Sec-Fetch-Site": "same-origin"})
    assert out.code == 302 and out.headers["Location"].startswith(op.end_session_endpoint)
    assert "id_token_hint=" in out.headers["Location"]
    again = await fetch("/base/auth/userinfo", headers=headers)
    assert again.code == 401
