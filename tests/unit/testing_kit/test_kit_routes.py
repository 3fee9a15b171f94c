"""Route handlers called as a given user through the real dispatch, without a server.

The example app lists its routes module in ``[auth] routes``; the fixture loads it.
"""

from __future__ import annotations

import logging

import pytest


def test_a_signed_in_user_calls_a_route(call_route, as_user):
    response = call_route("/api/kit/me", user=as_user("alice@example.org", roles=["admin"]))

    assert response.status == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"email": "alice@example.org", "roles": ["admin"]}


def test_roles_for_a_route_come_from_the_apps_auth_roles(call_route, as_user):
    response = call_route("/api/kit/me", user=as_user("dana@example.org", groups=["admins"]))

    assert response.json()["roles"] == ["admin"]


def test_a_visitor_gets_401_as_json(call_route):
    response = call_route("/api/kit/me")

    assert response.status == 401
    assert response.json() == {"error": "Sign-in required"}


def test_a_visitors_browser_is_sent_to_sign_in(call_route):
    response = call_route("/api/kit/me", headers={"Accept": "text/html"})

    assert response.status == 302
    assert response.headers["location"] == "/auth/login?next=%2Fapi%2Fkit%2Fme"


def test_a_user_without_the_routes_role_gets_403(call_route, as_user):
    response = call_route("/api/kit/items/7", user=as_user("bob@example.org"))

    assert response.status == 403
    assert response.json() == {"error": "Forbidden: missing role"}


def test_path_parameters_and_query(call_route, as_user):
    editor = as_user("ed@example.org", claims={"dept": "editorial"})

    response = call_route("/api/kit/items/7", user=editor, query={"q": "blue"})

    assert response.json() == {"id": "7", "q": "blue"}


def test_a_handler_is_called_by_reference_with_its_path(call_route, as_user):
    from stauth_server.web.routes import REGISTRY

    item = next(r.handler for r in REGISTRY.routes if r.path == "/api/kit/items/{item_id}")

    response = call_route(item, path="/api/kit/items/9", user=as_user("e@example.org", roles=["editor"]))

    assert response.json() == {"id": "9", "q": None}


def test_a_json_post_from_the_apps_own_page(call_route, as_user):
    editor = as_user("ed@example.org", roles=["editor"])

    response = call_route("/api/kit/items/7", "POST", user=editor, json={"title": "Blue"})

    assert response.status == 200
    assert response.json() == {"id": "7", "saved": {"title": "Blue"}, "by": "ed@example.org"}


def test_a_cross_site_post_with_the_session_cookie_is_refused(call_route, as_user):
    editor = as_user("ed@example.org", roles=["editor"])

    response = call_route("/api/kit/items/7", "POST", user=editor, json={"title": "Forged"}, cross_site=True)

    assert response.status == 403
    assert response.json() == {"error": "Cross-site request refused"}


def test_malformed_json_is_a_400(call_route, as_user):
    editor = as_user("ed@example.org", roles=["editor"])

    response = call_route("/api/kit/items/7", "POST", user=editor, body=b"{not json",
                          headers={"Content-Type": "application/json"})

    assert response.status == 400
    assert response.json() == {"error": "Malformed JSON body"}


def test_a_method_the_route_does_not_serve_is_a_405(call_route):
    response = call_route("/api/kit/ping", "DELETE")

    assert response.status == 405
    assert response.headers["allow"] == "GET, HEAD, OPTIONS"


def test_a_refused_path_parameter_is_a_404(call_route, as_user):
    response = call_route("/api/kit/items/..", user=as_user("e@example.org", roles=["editor"]))

    assert response.status == 404


def test_a_text_answer(call_route):
    response = call_route("/api/kit/ping")

    assert (response.status, response.text) == (200, "pong")


def test_a_handlers_http_error_is_answered_as_json(call_route):
    response = call_route("/api/kit/teapot")

    assert (response.status, response.json()) == (418, {"error": "I'm a teapot"})


def test_a_failing_handler_is_a_500_without_its_traceback(call_route, caplog):
    with caplog.at_level(logging.ERROR, logger="stauth_server.routes"):
        response = call_route("/api/kit/boom")

    assert response.status == 500
    assert response.json() == {"error": "Internal Server Error"}
    assert "a bug in the handler" not in response.text
    assert "a bug in the handler" in caplog.text  # in the server log only


def test_a_path_no_route_serves_is_an_error_in_the_test(call_route):
    with pytest.raises(LookupError, match="no @sa.route serves /api/kit/nothing"):
        call_route("/api/kit/nothing")


def test_a_function_that_is_not_a_route_is_an_error_in_the_test(call_route):
    def not_a_route(request):
        return {}

    with pytest.raises(LookupError, match="not an @sa.route handler"):
        call_route(not_a_route)


def test_the_routes_module_is_loaded_once(call_route):
    from stauth_server.web.routes import REGISTRY

    call_route("/api/kit/ping")
    call_route("/api/kit/ping")

    assert sum(r.path == "/api/kit/ping" for r in REGISTRY.routes) == 1


# --- Bearer tokens: the token alone says who calls, checked by the real code ------------

@pytest.fixture
def api_secrets(tmp_path):
    """The example app's routes with local accounts whose users file holds personal API tokens."""
    from stauth_server.core.api_tokens import issue
    from stauth_server.core.sources.local import LocalAccount, UsersFile

    users = UsersFile(tmp_path / "users.toml")
    token, record = issue("alice", "ci", 3600)
    expired, old = issue("alice", "old", 60, now=1_000_000)
    users.save([LocalAccount("alice", "$argon2id$unused", "alice@example.org", "Alice", ("editor",))], [record, old])
    secrets = {"auth": {"cookie_secret": "kit-bearer-cookie-secret-0123456789abcdef", "routes": ["api.py"],
                        "local": {"users_file": str(users.path)}}}
    return secrets, token, expired


def test_a_personal_api_token_calls_as_its_account(call_route, api_secrets):
    secrets, token, _ = api_secrets

    response = call_route("/api/kit/items/7", bearer=token, secrets=secrets)

    assert response.status == 200
    assert response.json() == {"id": "7", "q": None}


def test_the_token_decides_even_beside_a_signed_in_user(call_route, as_user, api_secrets):
    secrets, token, _ = api_secrets

    response = call_route("/api/kit/me", user=as_user("bob@example.org", roles=["admin"]), bearer=token,
                          secrets=secrets)

    assert response.json() == {"email": "alice@example.org", "roles": ["editor"]}


def test_a_bearer_post_needs_no_same_origin_proof(call_route, api_secrets):
    secrets, token, _ = api_secrets

    response = call_route("/api/kit/items/7", "POST", bearer=token, json={"title": "Blue"}, cross_site=True,
                          secrets=secrets)

    assert response.status == 200 and response.json()["by"] == "alice@example.org"


@pytest.mark.parametrize("token", ["sat_" + "A" * 43, "not-a-token", "a.b.c"], ids=["guessed", "garbage", "jwt-ish"])
def test_a_forged_token_is_refused_with_the_challenge(call_route, api_secrets, token):
    secrets, _, _ = api_secrets

    response = call_route("/api/kit/ping", bearer=token, secrets=secrets)

    assert response.status == 401
    assert set(response.json()) == {"error"}
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'


def test_an_expired_token_is_refused(call_route, api_secrets):
    secrets, _, expired = api_secrets

    response = call_route("/api/kit/me", bearer=expired, secrets=secrets)

    assert response.status == 401


def test_a_token_without_sign_in_configured_is_an_error_in_the_test(call_route):
    with pytest.raises(ValueError, match="needs the app's sign-in configuration"):
        call_route("/api/kit/ping", bearer="sat_x", secrets={"auth": {"routes": ["api.py"]}})
