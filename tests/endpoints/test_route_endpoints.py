"""``@sa.route`` endpoints over real HTTP: dispatch, errors, methods, CSRF and access rules."""

from __future__ import annotations

import ipaddress
import json
import logging

import pytest

from stauth_server.core.config import ServerConfig
from stauth_server.core.errors import HTTPError
from stauth_server.web.http import Response
from stauth_server.core.identity import User
from stauth_server.web.routes import RouteRegistry
from stauth_server.core.signin import SignInService
from stauth_server.core.sources.proxy import ProxyConfig

COOKIE = {"Cookie": "session=abc"}
EDITOR = User(id="local:alice", email="alice@example.org", roles=frozenset({"editor"}))
VIEWER = User(id="local:bob", roles=frozenset({"viewer"}))


@pytest.fixture
def calls() -> list[str]:
    """Names of the handlers that ran, in order."""
    return []


@pytest.fixture
def routes(calls) -> RouteRegistry:
    registry = RouteRegistry()

    def item(request):
        calls.append("item")
        return {"id": request.path_params["item_id"], "q": request.query.get("q"), "method": request.method}

    def files(request):
        return {"rest": request.path_params["rest"]}

    async def echo(request):
        calls.append("echo")
        return {"got": request.json(), "user": request.user.id}

    def change(request):
        calls.append("change")
        return {"changed": True, "user": request.user.id}

    def webhook(request):
        calls.append("webhook")
        return {"logged_in": request.user.is_logged_in, "cookies": dict(request.cookies)}

    def boom(request):
        raise RuntimeError("database password is hunter2")

    def conflict(request):
        raise HTTPError(409, "Already there", headers={"Retry-After": "3"})

    def custom(request):
        return Response("<p>hi</p>", status=201, headers={"X-Custom": "yes"}, content_type="text/html")

    def bad_header(request):
        return Response("x", headers={"X-Evil": "a\r\nSet-Cookie: evil=1"})

    def nothing(request):
        return None

    def body(request):
        return {"length": len(request.body), "text": request.body.decode("utf-8", "replace")}

    def latin_header(request):
        return Response("x", headers={"X-Place": "caf\u00e9"})

    def del_header(request):
        return Response("x", headers={"X-Odd": "a\x7fb"})

    def whoami(request):
        return {"id": request.user.id}

    registry.add("/api/items/{item_id}", item)
    registry.add("/api/files/{rest:path}", files)
    registry.add("/api/echo", echo, methods=["POST"])
    registry.add("/api/change", change, methods=["POST", "PUT", "PATCH", "DELETE"])
    registry.add("/api/webhook", webhook, methods=["POST"], csrf=False)
    registry.add("/api/boom", boom)
    registry.add("/api/conflict", conflict)
    registry.add("/api/custom", custom)
    registry.add("/api/bad-header", bad_header)
    registry.add("/api/nothing", nothing, methods=["GET", "POST"])
    registry.add("/api/body", body, methods=["GET", "POST"], csrf=False)
    registry.add("/api/latin-header", latin_header)
    registry.add("/api/del-header", del_header)
    registry.add("/api/private", whoami, auth="required")
    registry.add("/api/editors", whoami, roles=["editor"])
    return registry


def body_of(response):
    return json.loads(response.body)


def error_of(response):
    assert response.headers["Content-Type"].startswith("application/json")
    return body_of(response)["error"]


# --- dispatch and rendering ----------------------------------------------------------


@pytest.mark.gen_test
def test_get_returns_json(fetch):
    response = yield fetch("/api/items/42?q=1&q=last")
    assert response.code == 200
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert body_of(response) == {"id": "42", "q": "last", "method": "GET"}


@pytest.mark.gen_test
def test_every_response_says_nosniff(fetch):
    response = yield fetch("/api/items/1")
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.gen_test
def test_path_params_are_url_decoded(fetch):
    response = yield fetch("/api/items/a%20b+c%C3%A9")
    assert body_of(response)["id"] == "a b+c\u00e9"


@pytest.mark.gen_test
def test_trailing_slash_reaches_the_route(fetch):
    response = yield fetch("/api/items/7/")
    assert body_of(response)["id"] == "7"


@pytest.mark.gen_test
def test_path_parameter_takes_the_rest_of_the_path(fetch):
    response = yield fetch("/api/files/a/b/c.txt")
    assert body_of(response) == {"rest": "a/b/c.txt"}


@pytest.mark.gen_test
def test_unknown_path_is_404(fetch):
    response = yield fetch("/api/items/1/extra")
    assert response.code == 404


# --- hostile path parameters ---------------------------------------------------------


@pytest.mark.gen_test
@pytest.mark.parametrize("base_path", ["", "sub"])
@pytest.mark.parametrize(
    "probe",
    [
        "/api/items/..%2F..%2Fetc",
        "/api/items/..%2f..%2fetc",
        "/api/items/a%2Fb",
        "/api/items/..",
        "/api/items/.",
        "/api/items/%2e%2e",
        "/api/items/%2E%2E",
        "/api/items/..%5C..%5Cetc",
    ],
)
def test_a_segment_parameter_never_takes_an_encoded_slash_or_a_dot_segment(fetch, calls, base_path, probe):
    prefix = f"/{base_path}" if base_path else ""
    response = yield fetch(prefix + probe)
    assert response.code == 404
    assert error_of(response) == "Not Found"
    assert calls == []


@pytest.mark.gen_test
def test_a_double_encoded_slash_reaches_the_handler_decoded_once(fetch, calls):
    response = yield fetch("/api/items/..%252F..%252Fetc")
    assert response.code == 200
    assert body_of(response)["id"] == "..%2F..%2Fetc"
    assert calls == ["item"]


@pytest.mark.gen_test
def test_invalid_utf8_in_a_parameter_is_a_4xx(fetch, calls):
    response = yield fetch("/api/items/%ff%fe")
    assert 400 <= response.code < 500
    assert calls == []


@pytest.mark.gen_test
def test_path_parameter_is_decoded_segment_by_segment(fetch):
    response = yield fetch("/api/files/my%20docs/r%C3%A9sum%C3%A9.pdf")
    assert response.code == 200
    assert body_of(response) == {"rest": "my docs/r\u00e9sum\u00e9.pdf"}


@pytest.mark.gen_test
@pytest.mark.parametrize(
    "probe",
    [
        "/api/files/a/../../etc/passwd",
        "/api/files/%2e%2e/%2e%2e/etc/passwd",
        "/api/files/a%2F..%2F..%2Fetc",
        "/api/files/%2Fetc%2Fpasswd",
        "/api/files//etc/passwd",
        "/api/files/..%5C..%5Cwindows",
    ],
)
def test_path_parameter_refuses_traversal(fetch, probe):
    response = yield fetch(probe)
    assert response.code == 404
    assert error_of(response) == "Not Found"


@pytest.mark.gen_test
def test_response_object_sets_status_headers_and_type(fetch):
    response = yield fetch("/api/custom")
    assert response.code == 201
    assert response.headers["X-Custom"] == "yes"
    assert response.headers["Content-Type"] == "text/html"
    assert response.body == b"<p>hi</p>"


@pytest.mark.gen_test
def test_none_is_204_without_body(fetch):
    response = yield fetch("/api/nothing")
    assert response.code == 204
    assert response.body == b""


@pytest.mark.gen_test
def test_http_error_is_its_status_and_message(fetch):
    response = yield fetch("/api/conflict")
    assert response.code == 409
    assert error_of(response) == "Already there"
    assert response.headers["Retry-After"] == "3"


@pytest.mark.gen_test
def test_handler_exception_is_a_generic_500_without_traceback(fetch, caplog):
    with caplog.at_level(logging.ERROR, logger="stauth_server.routes"):
        response = yield fetch("/api/boom")
    assert response.code == 500
    assert body_of(response) == {"error": "Internal Server Error"}
    assert b"Traceback" not in response.body and b"hunter2" not in response.body
    assert any("hunter2" in (record.exc_text or "") for record in caplog.records)


@pytest.mark.gen_test
def test_header_injection_in_a_response_is_a_500_without_the_injected_cookie(fetch):
    response = yield fetch("/api/bad-header")
    assert response.code == 500
    assert error_of(response) == "Internal Server Error"
    assert "evil=1" not in " ".join(response.headers.get_list("Set-Cookie"))
    assert "X-Evil" not in response.headers


@pytest.mark.gen_test
def test_a_control_character_in_a_response_header_is_a_500_on_both_adapters(fetch):
    """DEL is no field-value character (RFC 9110 5.5); Tornado alone would have sent it."""
    response = yield fetch("/api/del-header")
    assert response.code == 500
    assert "X-Odd" not in response.headers


@pytest.mark.gen_test
def test_a_latin1_response_header_value_is_sent(fetch):
    response = yield fetch("/api/latin-header")
    assert response.code == 200
    assert response.headers["X-Place"] == "caf\u00e9"


@pytest.mark.gen_test
def test_route_answers_carry_no_etag_and_ignore_if_none_match(fetch):
    """Answers are per request, never cache validators: no ETag, no 304, on both adapters."""
    first = yield fetch("/api/items/1")
    assert first.code == 200 and "Etag" not in first.headers
    again = yield fetch("/api/items/1", headers={"If-None-Match": "*"})
    assert again.code == 200 and body_of(again)["id"] == "1"


@pytest.mark.gen_test
def test_a_get_without_a_body_reads_none(fetch):
    response = yield fetch("/api/body")
    assert body_of(response) == {"length": 0, "text": ""}


@pytest.mark.gen_test
def test_a_get_that_announces_a_body_still_hands_it_over(fetch):
    response = yield fetch("/api/body", method="GET", body=b"payload", allow_nonstandard_methods=True)
    assert body_of(response) == {"length": 7, "text": "payload"}


@pytest.mark.gen_test
def test_a_chunked_body_without_content_length_is_read(fetch):
    async def produce(write):
        await write(b"chun")
        await write(b"ked")

    response = yield fetch("/api/body", method="POST", body_producer=produce)
    assert response.code == 200
    assert body_of(response) == {"length": 7, "text": "chunked"}


@pytest.mark.gen_test
def test_malformed_json_is_a_400_json_error(fetch):
    response = yield fetch("/api/echo", method="POST", body=b"{nope")
    assert response.code == 400
    assert error_of(response) == "Malformed JSON body"


@pytest.mark.gen_test
def test_json_body_reaches_an_async_handler(fetch):
    response = yield fetch("/api/echo", method="POST", body=json.dumps({"a": [1, 2]}))
    assert response.code == 200
    assert body_of(response) == {"got": {"a": [1, 2]}, "user": ""}


# --- methods -------------------------------------------------------------------------


@pytest.mark.gen_test
def test_undeclared_method_is_405_with_allow(fetch, calls):
    response = yield fetch("/api/items/1", method="POST", body=b"")
    assert response.code == 405
    assert response.headers["Allow"] == "GET, HEAD, OPTIONS"
    assert error_of(response) == "Method Not Allowed"
    assert calls == []


@pytest.mark.gen_test
def test_get_on_a_post_route_is_405(fetch):
    response = yield fetch("/api/echo")
    assert response.code == 405
    assert response.headers["Allow"] == "POST, OPTIONS"


@pytest.mark.gen_test
def test_options_is_204_with_allow(fetch, calls):
    response = yield fetch("/api/change", method="OPTIONS")
    assert response.code == 204
    assert response.headers["Allow"] == "POST, PUT, PATCH, DELETE, OPTIONS"
    assert response.body == b""
    assert calls == []


@pytest.mark.gen_test
def test_head_runs_the_get_handler_without_a_body(fetch, calls):
    response = yield fetch("/api/items/5", method="HEAD")
    assert response.code == 200
    assert response.body == b""
    assert response.headers["Content-Type"].startswith("application/json")
    assert calls == ["item"]


@pytest.mark.gen_test
def test_a_method_tornado_does_not_know_gets_the_same_json_error(fetch):
    response = yield fetch("/api/items/1", method="TRACE", allow_nonstandard_methods=True)
    assert response.code == 405
    assert error_of(response) == "Method Not Allowed"


# --- cross-site requests -------------------------------------------------------------


@pytest.mark.gen_test
def test_cookie_carrying_cross_site_post_is_refused(fetch, calls):
    response = yield fetch(
        "/api/change", method="POST", body=b"", headers={**COOKIE, "Origin": "http://evil.example"}
    )
    assert response.code == 403
    assert error_of(response) == "Cross-site request refused"
    assert calls == []


@pytest.mark.gen_test
@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_other_unsafe_methods_are_checked_too(fetch, calls, method):
    response = yield fetch(
        "/api/change",
        method=method,
        body=None if method == "DELETE" else b"",
        headers={**COOKIE, "Origin": "http://evil.example"},
    )
    assert response.code == 403
    assert calls == []


@pytest.mark.gen_test
def test_cookie_carrying_sec_fetch_site_cross_site_is_refused(fetch, calls):
    response = yield fetch("/api/change", method="POST", body=b"", headers={**COOKIE, "Sec-Fetch-Site": "same-site"})
    assert response.code == 403
    assert calls == []


@pytest.mark.gen_test
def test_same_origin_post_is_accepted(fetch, base_url, calls):
    response = yield fetch("/api/change", method="POST", body=b"", headers={**COOKIE, "Origin": base_url})
    assert response.code == 200
    assert calls == ["change"]


@pytest.mark.gen_test
def test_sec_fetch_site_same_origin_without_origin_is_accepted(fetch):
    response = yield fetch("/api/change", method="POST", body=b"", headers={**COOKIE, "Sec-Fetch-Site": "same-origin"})
    assert response.code == 200


@pytest.mark.gen_test
def test_cookie_carrying_post_without_origin_or_token_is_refused(fetch, calls):
    response = yield fetch("/api/change", method="POST", body=b"", headers=COOKIE)
    assert response.code == 403
    assert calls == []


def xsrf_pair(response):
    """(cookie value, token) from a response of ``/test/xsrf``."""
    (set_cookie,) = [c for c in response.headers.get_list("Set-Cookie") if c.startswith("_streamlit_xsrf=")]
    return set_cookie.split(";", 1)[0].split("=", 1)[1], response.body.decode()


@pytest.mark.gen_test
def test_cookie_carrying_post_with_a_valid_xsrf_header_is_accepted(fetch, calls):
    cookie, token = xsrf_pair((yield fetch("/test/xsrf")))
    response = yield fetch(
        "/api/change",
        method="POST",
        body=b"",
        headers={"Cookie": f"_streamlit_xsrf={cookie}; session=abc", "X-Xsrftoken": token},
    )
    assert response.code == 200
    assert calls == ["change"]


@pytest.mark.gen_test
def test_cookie_carrying_post_with_a_valid_xsrf_form_field_is_accepted(fetch):
    cookie, token = xsrf_pair((yield fetch("/test/xsrf")))
    response = yield fetch(
        "/api/change",
        method="POST",
        body=f"_xsrf={token}",
        headers={"Cookie": f"_streamlit_xsrf={cookie}", "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.code == 200


@pytest.mark.gen_test
def test_xsrf_token_that_does_not_match_the_cookie_is_refused(fetch, calls):
    cookie, _ = xsrf_pair((yield fetch("/test/xsrf")))
    _, other_token = xsrf_pair((yield fetch("/test/xsrf")))
    response = yield fetch(
        "/api/change",
        method="POST",
        body=b"",
        headers={"Cookie": f"_streamlit_xsrf={cookie}", "X-Xsrftoken": other_token},
    )
    assert response.code == 403
    assert calls == []


@pytest.mark.gen_test
def test_xsrf_token_without_its_cookie_is_refused(fetch):
    _, token = xsrf_pair((yield fetch("/test/xsrf")))
    response = yield fetch("/api/change", method="POST", body=b"", headers={**COOKIE, "X-Xsrftoken": token})
    assert response.code == 403


@pytest.mark.gen_test
def test_xsrf_token_does_not_override_a_cross_site_origin(fetch):
    cookie, token = xsrf_pair((yield fetch("/test/xsrf")))
    response = yield fetch(
        "/api/change",
        method="POST",
        body=b"",
        headers={"Cookie": f"_streamlit_xsrf={cookie}", "X-Xsrftoken": token, "Origin": "http://evil.example"},
    )
    assert response.code == 403


@pytest.mark.gen_test
def test_post_without_cookies_is_accepted_from_any_origin(fetch, calls):
    response = yield fetch("/api/change", method="POST", body=b"", headers={"Origin": "http://evil.example"})
    assert response.code == 200
    assert calls == ["change"]


@pytest.mark.gen_test
def test_cross_site_get_with_cookies_is_served(fetch):
    response = yield fetch("/api/items/1", headers={**COOKIE, "Origin": "http://evil.example"})
    assert response.code == 200


@pytest.mark.gen_test
def test_csrf_false_route_accepts_cross_site_post_and_sees_an_anonymous_user(fetch, sign_in):
    sign_in(EDITOR)
    response = yield fetch(
        "/api/webhook", method="POST", body=b"", headers={**COOKIE, "Origin": "http://evil.example"}
    )
    assert response.code == 200
    assert body_of(response)["logged_in"] is False
    assert body_of(response)["cookies"] == {"session": "abc"}


@pytest.mark.gen_test
def test_csrf_protected_route_sees_the_signed_in_user(fetch, base_url, sign_in):
    sign_in(EDITOR)
    response = yield fetch("/api/change", method="POST", body=b"", headers={**COOKIE, "Origin": base_url})
    assert body_of(response)["user"] == "local:alice"


# --- access rules --------------------------------------------------------------------


@pytest.mark.gen_test
def test_required_auth_is_401_for_visitors(fetch):
    response = yield fetch("/api/private")
    assert response.code == 401
    assert error_of(response) == "Sign-in required"


@pytest.mark.gen_test
def test_required_auth_lets_a_signed_in_user_in(fetch, sign_in):
    sign_in(VIEWER)
    response = yield fetch("/api/private", headers=COOKIE)
    assert response.code == 200
    assert body_of(response) == {"id": "local:bob"}


@pytest.mark.gen_test
def test_roles_are_401_for_visitors_and_403_without_the_role(fetch, sign_in):
    anonymous = yield fetch("/api/editors")
    assert anonymous.code == 401
    sign_in(VIEWER)
    viewer = yield fetch("/api/editors", headers=COOKIE)
    assert viewer.code == 403
    assert error_of(viewer) == "Forbidden: missing role"


@pytest.mark.gen_test
def test_roles_let_a_user_with_the_role_in(fetch, sign_in):
    sign_in(EDITOR)
    response = yield fetch("/api/editors", headers=COOKIE)
    assert response.code == 200
    assert body_of(response) == {"id": "local:alice"}


# --- ambient credentials: a trusted proxy's identity headers, browser-cached Authorization --

PROXY_IDENTITY = {"X-Forwarded-User": "u-42", "X-Forwarded-Email": "alice@example.org"}
FOREIGN = {"Origin": "https://evil.example"}


@pytest.fixture
def behind_proxy() -> SignInService:
    """Serve the routes as ``AuthServer`` does with ``[auth.proxy]`` trusting the test client
    (127.0.0.1): identity from the proxy's headers, the proxy headers sanitised first."""
    proxy = ProxyConfig(trusted=(ipaddress.ip_network("127.0.0.1/32"),))
    return SignInService(ServerConfig(cookie_secrets=("p" * 40,), proxy=proxy, store_url="memory://"))


@pytest.fixture
def service(request):
    """No sign-in, except for a test that asks for ``behind_proxy``."""
    return request.getfixturevalue("behind_proxy") if "behind_proxy" in request.fixturenames else None


@pytest.mark.gen_test
def test_cross_site_post_through_a_trusted_proxy_with_identity_headers_is_refused(fetch, calls, behind_proxy):
    response = yield fetch("/api/change", method="POST", body=b"", headers={**PROXY_IDENTITY, **FOREIGN})
    assert response.code == 403
    assert error_of(response) == "Cross-site request refused"
    assert calls == []


@pytest.mark.gen_test
@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_other_unsafe_methods_with_proxy_identity_are_checked_too(fetch, calls, behind_proxy, method):
    response = yield fetch("/api/change", method=method, body=None if method == "DELETE" else b"",
                           headers={**PROXY_IDENTITY, "Sec-Fetch-Site": "cross-site"})
    assert response.code == 403
    assert calls == []


@pytest.mark.gen_test
def test_same_origin_post_through_a_trusted_proxy_runs_as_the_proxy_user(fetch, base_url, behind_proxy):
    response = yield fetch("/api/change", method="POST", body=b"", headers={**PROXY_IDENTITY, "Origin": base_url})
    assert response.code == 200
    assert body_of(response) == {"changed": True, "user": "proxy|u-42"}


@pytest.mark.gen_test
def test_proxy_identity_post_without_origin_or_token_is_refused(fetch, calls, behind_proxy):
    # An old browser sends neither Origin nor Sec-Fetch-Site: it needs the XSRF token, as with a cookie.
    response = yield fetch("/api/change", method="POST", body=b"", headers=PROXY_IDENTITY)
    assert response.code == 403
    assert calls == []


@pytest.mark.gen_test
def test_cross_site_get_through_a_trusted_proxy_still_runs_as_the_proxy_user(fetch, behind_proxy):
    response = yield fetch("/api/private", headers={**PROXY_IDENTITY, **FOREIGN})
    assert response.code == 200
    assert body_of(response) == {"id": "proxy|u-42"}


@pytest.mark.gen_test
def test_cross_site_post_through_the_proxy_without_identity_runs_anonymously(fetch, behind_proxy):
    response = yield fetch("/api/change", method="POST", body=b"", headers=FOREIGN)
    assert response.code == 200
    assert body_of(response) == {"changed": True, "user": ""}


@pytest.mark.gen_test
@pytest.mark.parametrize("credentials", ["Basic YWxpY2U6c2VjcmV0", "Digest username=\"alice\"", "Negotiate YIIB"])
def test_cross_site_post_with_browser_cached_authorization_is_refused(fetch, calls, credentials):
    response = yield fetch("/api/change", method="POST", body=b"", headers={"Authorization": credentials, **FOREIGN})
    assert response.code == 403
    assert calls == []


@pytest.mark.gen_test
def test_cross_site_post_with_a_bearer_token_is_not_treated_as_ambient(fetch, calls):
    response = yield fetch("/api/change", method="POST", body=b"", headers={"Authorization": "Bearer abc", **FOREIGN})
    assert response.code == 200
    assert calls == ["change"]
