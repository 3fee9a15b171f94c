"""``POST /auth/firebase/session`` over HTTP on both adapters: a verified Firebase ID token
starts our session; forged, foreign, cross-site, oversized or malformed posts get a 4xx
JSON answer and no cookie, never a 5xx."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import MappingProxyType

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "firebase"))

from firebase_fakes import KEY, OTHER_KEY, FakeKeysHTTP, certificate, config, signed, unsigned  # noqa: E402

from stauth_server.core.config import ServerConfig  # noqa: E402
from stauth_server.core.firebase.keys import FirebaseKeys  # noqa: E402
from stauth_server.core.signin import SignInService  # noqa: E402
from stauth_server.core.store.memory import MemoryStore  # noqa: E402
from stauth_server.web.routes import RouteRegistry  # noqa: E402

SECRET = "f" * 16 + "-firebase-endpoint-secret-012345"
ORIGIN = {"Sec-Fetch-Site": "same-origin", "Content-Type": "application/json"}


@pytest.fixture
def routes() -> RouteRegistry:
    registry = RouteRegistry()
    registry.add("/api/me", lambda request: {"id": request.user.id, "email": request.user.email}, auth="required")
    return registry


@pytest.fixture
def service():
    firebase = config()
    server = ServerConfig(cookie_secrets=(SECRET,), firebase=MappingProxyType({"firebase": firebase}))
    built = SignInService(server, store=MemoryStore())
    built.firebase["firebase"] = (firebase, FirebaseKeys("https://keys.example/",
                                                         http=FakeKeysHTTP({"k1": certificate(KEY)})))
    return built


def post(fetch, body, headers=None, path="/auth/firebase/session"):
    payload = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return fetch(path, method="POST", body=payload, headers={**ORIGIN, **(headers or {})})


def session_cookies(response) -> dict[str, str]:
    jar = {}
    for header in response.headers.get_list("Set-Cookie"):
        name, _, rest = header.partition("=")
        if name.startswith("stauth_session"):
            jar[name] = rest.split(";", 1)[0]
    return jar


@pytest.mark.gen_test
async def test_a_verified_token_starts_our_session(fetch):
    response = await post(fetch, {"idToken": signed(email_verified=True), "next": "/reports?x=1"})
    assert response.code == 200, response.body
    assert json.loads(response.body) == {"next": "/reports?x=1"}
    jar = session_cookies(response)
    assert jar and all("HttpOnly" in h for h in response.headers.get_list("Set-Cookie") if h.startswith("stauth_session"))
    me = await fetch("/api/me", headers={"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items()),
                                         "Accept": "application/json"})
    assert me.code == 200 and json.loads(me.body) == {"id": "https://securetoken.google.com/demo-project|uid-alice",
                                                      "email": "alice@example.org"}


@pytest.mark.gen_test
@pytest.mark.parametrize("token", [
    lambda: signed(key=OTHER_KEY), lambda: signed(aud="another-project"), lambda: signed(exp=1), unsigned,
    lambda: "garbage", lambda: None, lambda: 12345, lambda: {"nested": "object"},
])
async def test_a_refused_token_is_a_401_json_without_a_cookie(fetch, token):
    response = await post(fetch, {"idToken": token()})
    assert response.code == 401, response.body
    assert json.loads(response.body) == {"error": "The Firebase sign-in could not be verified."}
    assert not session_cookies(response)


@pytest.mark.gen_test
@pytest.mark.parametrize("body, headers, status", [
    ("{not json", None, 400),
    ("[1, 2]", None, 400),
    (b"\xff\xfe", None, 400),
    ({"idToken": "x" * 40000}, None, 413),
    ("[" * 15000 + "]" * 15000, None, 400),  # nested too deep for json.loads (RecursionError), within the cap
    ('{"idToken": ' + '{"a": ' * 4000 + "1" + "}" * 4001, None, 400),
    ({"idToken": "x"}, {"Content-Type": "text/plain"}, 415),
    ({"idToken": "x"}, {"Content-Type": "application/x-www-form-urlencoded"}, 415),
])
async def test_malformed_posts_get_a_4xx_json_answer(fetch, body, headers, status):
    response = await post(fetch, body, headers)
    assert response.code == status, response.body
    assert "error" in json.loads(response.body)


@pytest.mark.gen_test
async def test_a_cross_site_post_is_refused_before_the_token_is_looked_at(fetch):
    for headers in ({"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"},
                    {"Sec-Fetch-Site": "same-site"}):
        response = await post(fetch, {"idToken": signed()}, headers)
        assert response.code == 403 and not session_cookies(response)


@pytest.mark.gen_test
async def test_only_post_and_a_known_provider(fetch):
    assert (await fetch("/auth/firebase/session")).code == 405
    unknown = await post(fetch, {"idToken": signed()}, path="/auth/firebase/session?provider=other")
    assert unknown.code == 400 and not session_cookies(unknown)


@pytest.mark.gen_test
async def test_next_is_kept_inside_the_app(fetch):
    for hostile in ("https://evil.example/", "//evil.example", "/\\evil.example", "javascript:alert(1)"):
        response = await post(fetch, {"idToken": signed(), "next": hostile})
        assert response.code == 200 and json.loads(response.body) == {"next": "/"}


@pytest.mark.gen_test
async def test_an_unverified_email_signs_in_but_is_not_the_users_email(fetch):
    """Accepted (require_email_verified is off), yet roles and domains must not trust it."""
    response = await post(fetch, {"idToken": signed(email_verified=False)})
    jar = session_cookies(response)
    me = await fetch("/api/me", headers={"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items()),
                                         "Accept": "application/json"})
    assert me.code == 200 and json.loads(me.body)["email"] is None
