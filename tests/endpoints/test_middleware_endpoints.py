"""``@sa.middleware`` before ``@sa.route`` calls, over real HTTP on both adapters."""

from __future__ import annotations

import ipaddress
import json
import logging

import pytest

import stauth_server as sa
from stauth_server.core.identity import User
from stauth_server.web.middleware import CHAIN
from stauth_server.web.routes import RouteRegistry

ALICE = User(id="local:alice", email="alice@example.org", roles=frozenset({"editor"}))


@pytest.fixture
def calls() -> list[str]:
    return []


@pytest.fixture
def chain():
    """The process's middleware chain, emptied after the test."""
    CHAIN.clear()
    yield CHAIN
    CHAIN.clear()


@pytest.fixture
def routes(calls) -> RouteRegistry:
    registry = RouteRegistry()

    def state(request):
        calls.append("state")
        return {"state": request.state, "user": request.user.id}

    async def private(request):
        calls.append("private")
        return {"user": request.user.id}

    def change(request):
        calls.append("change")
        return {"changed": True}

    registry.add("/api/state", state)
    registry.add("/api/private", private, auth="required")
    registry.add("/api/change", change, methods=["POST"], csrf=False)
    return registry


def body_of(response):
    return json.loads(response.body)


def block(network: str):
    """A middleware refusing callers from ``network`` (the README's IP example)."""
    blocked = ipaddress.ip_network(network)

    def deny_range(request: sa.Request) -> None:
        if request.client_ip and ipaddress.ip_address(request.client_ip) in blocked:
            raise sa.Forbidden("Not from your network")

    return deny_range


@pytest.mark.gen_test
def test_a_blocked_network_gets_403_and_the_handler_never_runs(fetch, chain, calls):
    chain.add(block("127.0.0.0/8"))
    response = yield fetch("/api/state")
    assert response.code == 403
    assert body_of(response) == {"error": "Not from your network"}
    assert calls == []


@pytest.mark.gen_test
def test_a_blocked_network_is_refused_before_options_and_405_answers_too(fetch, chain, calls):
    chain.add(block("127.0.0.0/8"))
    for method in ("OPTIONS", "DELETE"):
        response = yield fetch("/api/change", method=method, allow_nonstandard_methods=True)
        assert response.code == 403, method
        assert body_of(response) == {"error": "Not from your network"}
        chain.clear()
        response = yield fetch("/api/change", method=method, allow_nonstandard_methods=True)
        assert response.code == (204 if method == "OPTIONS" else 405), method
        assert response.headers["Allow"] == "POST, OPTIONS"
        chain.add(block("127.0.0.0/8"))
    assert calls == []


@pytest.mark.gen_test
def test_another_network_goes_through(fetch, chain, calls):
    chain.add(block("10.0.0.0/8"))
    response = yield fetch("/api/state")
    assert response.code == 200 and calls == ["state"]


@pytest.mark.gen_test
def test_a_redirect_is_a_302_to_the_app_path(fetch, chain, calls):
    chain.add(lambda request: sa.Redirect("/fr/" + request.path.rsplit("/", 1)[-1])
              if request.headers.get("Accept-Language", "").startswith("fr") else None)
    response = yield fetch("/api/state", headers={"Accept-Language": "fr-FR"})
    assert response.code == 302 and response.headers["Location"] == "/fr/state"
    assert calls == []
    english = yield fetch("/api/state", headers={"Accept-Language": "en"})
    assert english.code == 200


def _bare_sync(request):
    sa.redirect("/fr/")  # no return: the call itself redirects


def _returned_sync(request):
    return sa.redirect("/fr/")


async def _bare_async(request):
    sa.redirect("/fr/")


async def _returned_async(request):
    return sa.redirect("/fr/")


@pytest.mark.gen_test
@pytest.mark.parametrize("mw", [_bare_sync, _returned_sync, _bare_async, _returned_async])
def test_sa_redirect_inside_a_middleware_is_its_redirect(fetch, chain, calls, mw):
    chain.add(mw)
    response = yield fetch("/api/state")
    assert response.code == 302 and response.headers["Location"] == "/fr/"
    assert calls == []


@pytest.mark.gen_test
def test_sa_redirect_inside_a_middleware_keeps_the_open_redirect_rules(fetch, chain, calls):
    chain.add(lambda request: sa.redirect("//evil.example/"))
    response = yield fetch("/api/state")
    assert response.code == 500 and "Location" not in response.headers
    assert calls == []


@pytest.mark.gen_test
@pytest.mark.parametrize("base_path", ["sub"])
def test_a_redirect_under_a_base_path_stays_under_it(fetch, chain, base_path):
    chain.add(lambda request: sa.Redirect("/elsewhere"))
    response = yield fetch("/sub/api/state")
    assert response.code == 302 and response.headers["Location"] == "/sub/elsewhere"


@pytest.mark.gen_test
def test_a_redirect_after_a_post_is_a_303(fetch, chain, calls):
    chain.add(lambda request: sa.Redirect("/moved"))
    response = yield fetch("/api/change", method="POST", body=b"{}")
    assert response.code == 303 and response.headers["Location"] == "/moved"
    assert calls == []


@pytest.mark.gen_test
@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil.example"])
def test_an_open_redirect_from_a_middleware_is_a_generic_500(fetch, chain, target, calls):
    chain.add(lambda request: sa.Redirect(target))
    response = yield fetch("/api/state")
    assert response.code == 500 and body_of(response) == {"error": "Internal Server Error"}
    assert "Location" not in response.headers
    assert calls == []


@pytest.mark.gen_test
def test_state_set_by_a_middleware_reaches_the_handler(fetch, chain):
    def geo(request: sa.Request) -> None:
        request.state["country"] = request.headers.get("X-Country", "unknown")

    chain.add(geo)
    response = yield fetch("/api/state", headers={"X-Country": "FR"})
    assert body_of(response)["state"] == {"country": "FR"}


@pytest.mark.gen_test
def test_without_middlewares_the_state_is_empty(fetch, chain):
    response = yield fetch("/api/state")
    assert body_of(response)["state"] == {}


@pytest.mark.gen_test
def test_an_exception_is_a_generic_500_and_the_traceback_stays_in_the_log(fetch, chain, calls, caplog):
    def broken(request):
        raise RuntimeError("geo database password is hunter2")

    chain.add(broken)
    with caplog.at_level(logging.ERROR, "stauth_server.middleware"):
        response = yield fetch("/api/state")
    assert response.code == 500
    assert body_of(response) == {"error": "Internal Server Error"}
    assert b"hunter2" not in response.body and b"Traceback" not in response.body
    assert "hunter2" in caplog.text
    assert calls == []


@pytest.mark.gen_test
def test_http_error_keeps_its_status_and_message(fetch, chain):
    def unavailable(request):
        raise sa.HTTPError(451, "Not available in your country")

    chain.add(unavailable)
    response = yield fetch("/api/state")
    assert response.code == 451 and body_of(response) == {"error": "Not available in your country"}


@pytest.mark.gen_test
def test_middlewares_run_in_declaration_order_and_the_first_answer_wins(fetch, chain, calls):
    def first(request):
        calls.append("first")
        request.state["order"] = ["first"]

    async def second(request):
        calls.append("second")
        request.state["order"].append("second")
        if request.query.get("stop"):
            return sa.Redirect("/stopped")
        return None

    def third(request):
        calls.append("third")
        raise sa.Forbidden("third never answers first")

    chain.add(first)
    chain.add(second)
    stopped = yield fetch("/api/state?stop=1")
    assert stopped.code == 302 and calls == ["first", "second"]
    chain.add(third)
    calls.clear()
    refused = yield fetch("/api/state")
    assert refused.code == 403 and calls == ["first", "second", "third"]


@pytest.mark.gen_test
def test_middlewares_see_the_signed_in_user(fetch, chain, sign_in, calls):
    sign_in(ALICE)
    seen: list[str] = []
    chain.add(lambda request: seen.append(request.user.id))
    response = yield fetch("/api/private")
    assert response.code == 200 and seen == ["local:alice"]


@pytest.mark.gen_test
def test_middlewares_run_before_the_access_rules(fetch, chain, calls):
    seen: list[bool] = []
    chain.add(lambda request: seen.append(request.user.is_logged_in))
    response = yield fetch("/api/private")
    assert response.code == 401 and seen == [False] and calls == []
    chain.add(lambda request: sa.Redirect("/welcome"))
    redirected = yield fetch("/api/private")
    assert redirected.code == 302 and redirected.headers["Location"] == "/welcome"
