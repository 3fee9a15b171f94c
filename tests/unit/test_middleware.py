"""The ``@sa.middleware`` chain: order, outcomes, failures, sync and async, route answers."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest

import stauth_server as sa
from stauth_server.web import middleware as mw
from stauth_server.web import routes as routes_module
from stauth_server.web.http import Request
from stauth_server.web.routes import RouteRegistry
from stauth_server.web.middleware import MiddlewareChain, MiddlewareFailed, Redirect, route_refusal, run_async, run_sync


def request(method: str = "GET", path: str = "/api/x") -> Request:
    return Request(method=method, path=path, path_params={}, query_string="", headers=[("X-Country", "FR")],
                   body=b"", client_ip="203.0.113.7")


@pytest.fixture
def chain() -> MiddlewareChain:
    return MiddlewareChain()


def both(chain: MiddlewareChain, req: Request):
    """The outcome of the chain run both ways (event loop and script thread), which must agree."""
    on_loop = asyncio.run(run_async(req, chain))
    on_thread = run_sync(req, chain)
    assert on_loop == on_thread
    return on_loop


def test_public_api_exports_the_decorator_and_the_redirect():
    assert sa.middleware is mw.middleware
    assert sa.Redirect is Redirect
    assert {"middleware", "Redirect"} <= set(sa.__all__)


@pytest.fixture
def registry(monkeypatch) -> RouteRegistry:
    fresh = RouteRegistry()
    monkeypatch.setattr(routes_module, "REGISTRY", fresh)
    return fresh


def test_the_decorator_registers_in_declaration_order_and_returns_the_function(monkeypatch, chain, registry):
    monkeypatch.setattr(mw, "CHAIN", chain)

    def first(request): ...
    def second(request): ...

    assert mw.middleware(first) is first
    mw.middleware(second)
    assert [func for func, _ in chain] == [first, second]


def test_declaring_one_while_the_app_runs_is_refused(monkeypatch, chain, registry):
    monkeypatch.setattr(mw, "CHAIN", chain)
    registry.seal()
    with pytest.raises(sa.RouteError, match="@sa.middleware must be declared in a module loaded at start-up"):
        mw.middleware(lambda request: None)
    assert len(chain) == 0


def test_a_non_callable_is_refused_at_declaration(chain):
    with pytest.raises(sa.RouteError, match="needs a function"):
        chain.add("not a function")  # type: ignore[arg-type]


def test_an_empty_chain_goes_on(chain):
    assert both(chain, request()) is None


def test_middlewares_run_in_order_and_the_first_redirect_wins(chain):
    seen: list[str] = []

    def one(request):
        seen.append("one")

    async def two(request):
        seen.append("two")
        return sa.Redirect("/fr/")

    def three(request):
        seen.append("three")
        return sa.Redirect("/never")

    for func in (one, two, three):
        chain.add(func)
    assert asyncio.run(run_async(request(), chain)) == Redirect("/fr/")
    assert run_sync(request(), chain) == Redirect("/fr/")
    assert seen == ["one", "two", "one", "two"]


def test_state_set_by_one_middleware_is_seen_by_the_next(chain):
    def geo(request):
        request.state["country"] = request.headers["x-country"]

    async def check(request):
        return sa.Redirect("/fr/") if request.state["country"] == "FR" else None

    chain.add(geo)
    chain.add(check)
    assert both(chain, request()) == Redirect("/fr/")


def test_forbidden_and_http_errors_propagate_as_raised(chain):
    def deny(request):
        raise sa.Forbidden("Not from here")

    chain.add(deny)
    with pytest.raises(sa.Forbidden, match="Not from here"):
        asyncio.run(run_async(request(), chain))
    with pytest.raises(sa.Forbidden):
        run_sync(request(), chain)


def test_an_exception_is_logged_and_becomes_a_failure_without_its_message(chain, caplog):
    def boom(request):
        raise RuntimeError("database password is hunter2")

    chain.add(boom)
    with caplog.at_level(logging.ERROR, "stauth_server.middleware"):
        with pytest.raises(MiddlewareFailed) as failed:
            asyncio.run(run_async(request(), chain))
    assert "hunter2" not in str(failed.value)
    assert "middleware" in caplog.text and "hunter2" in caplog.text   # the traceback: server log only
    with pytest.raises(MiddlewareFailed):
        run_sync(request(), chain)


def test_returning_anything_but_none_or_a_redirect_is_a_failure(chain):
    chain.add(lambda request: "/fr/")
    with pytest.raises(MiddlewareFailed):
        asyncio.run(run_async(request(), chain))
    with pytest.raises(MiddlewareFailed):
        run_sync(request(), chain)


def test_sync_middlewares_run_off_the_event_loop(chain):
    import threading

    threads: list[str] = []
    chain.add(lambda request: threads.append(threading.current_thread().name))

    async def on_loop() -> str:
        await run_async(request(), chain)
        return threading.current_thread().name

    loop_thread = asyncio.run(on_loop())
    assert threads and threads[0] != loop_thread


def route_answer(chain: MiddlewareChain, method: str = "GET", base: str = ""):
    return asyncio.run(route_refusal(request(method), base, chain))


def test_a_route_redirect_is_302_under_the_base_path_and_303_after_a_post(chain):
    chain.add(lambda request: sa.Redirect("/fr/?a=1"))
    answer = route_answer(chain, base="/app")
    assert answer.status == 302 and ("Location", "/app/fr/?a=1") in answer.headers
    assert route_answer(chain, "POST").status == 303


@pytest.mark.parametrize("target", ["//evil.example/x", "/\\evil.example", "https://evil.example/",
                                    "javascript:alert(1)", "/a\r\nSet-Cookie: x=1", ""])
def test_a_route_redirect_to_an_open_redirect_form_is_a_generic_500(chain, target, caplog):
    chain.add(lambda request: sa.Redirect(target))
    with caplog.at_level(logging.ERROR, "stauth_server.middleware"):
        answer = route_answer(chain)
    assert answer.status == 500
    assert json.loads(answer.body) == {"error": "Internal Server Error"}
    assert not any(name == "Location" for name, _ in answer.headers)


def test_an_external_redirect_needs_external_true(chain):
    chain.add(lambda request: sa.Redirect("https://pay.example.com/x", external=True))
    answer = route_answer(chain)
    assert answer.status == 302 and ("Location", "https://pay.example.com/x") in answer.headers


def test_route_answers_for_refusals_and_failures(chain):
    def deny(request):
        raise sa.HTTPError(451, "Unavailable here", headers={"X-Why": "geo"})

    chain.add(deny)
    answer = route_answer(chain)
    assert answer.status == 451 and json.loads(answer.body) == {"error": "Unavailable here"}
    assert ("X-Why", "geo") in answer.headers
    other = MiddlewareChain()
    other.add(lambda request: (_ for _ in ()).throw(KeyError("secret")))
    failed = route_answer(other)
    assert failed.status == 500 and json.loads(failed.body) == {"error": "Internal Server Error"}


def test_a_route_goes_on_when_every_middleware_returns_none(chain):
    chain.add(lambda request: None)
    assert route_answer(chain) is None


def test_sa_redirect_inside_a_page_middleware_is_its_redirect_and_outside_it_is_not(chain):
    import stauth_server as sa
    from stauth_server.web.middleware import in_middleware

    chain.add(lambda req: sa.redirect("https://fr.example.org/", external=True))
    assert run_sync(request(), chain) == Redirect("https://fr.example.org/", external=True)
    assert not in_middleware()  # the flag ends with the middleware

    async def bare(req):
        sa.redirect("/fr/")

    chain.clear()
    chain.add(bare)
    assert run_sync(request(), chain) == Redirect("/fr/")
    assert both(chain, request()) == Redirect("/fr/")
