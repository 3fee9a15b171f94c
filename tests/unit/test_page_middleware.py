"""``@sa.middleware`` before a page run: what each outcome does to the page."""

from __future__ import annotations

import pytest

import stauth_server as sa
from stauth_server.core.errors import RedirectError
from stauth_server.streamlit import internals, page_middleware, script_api
from stauth_server.web.http import Request
from stauth_server.web.middleware import CHAIN


class StopRun(Exception):
    """What st.stop() does inside a script run."""


@pytest.fixture
def page(monkeypatch):
    """A page run as ``run_for_page`` sees it: the views it shows and whether it stopped."""
    shown: list[tuple[str, str]] = []
    requests: list[Request] = []

    def fake_request(url_path: str) -> Request:
        request = Request(method="GET", path="/" + url_path, path_params={}, query_string="", headers=[],
                          body=b"", client_ip="127.0.0.1")
        requests.append(request)
        return request

    def redirect(url: str, *, external: bool = False) -> None:
        if url.startswith("//"):
            raise RedirectError("leaves the app")
        shown.append(("redirect", f"{url} external={external}"))
        raise StopRun

    def stop() -> None:
        shown.append(("stop", ""))
        raise StopRun

    monkeypatch.setattr(page_middleware, "page_request", fake_request)
    monkeypatch.setattr(script_api, "redirect", redirect)
    monkeypatch.setattr(script_api, "forbidden_view", lambda message: shown.append(("403", message)))
    monkeypatch.setattr(page_middleware.st, "error", lambda body, **kw: shown.append(("error", body)))
    monkeypatch.setattr(internals, "stop_script", stop)
    CHAIN.clear()
    yield shown, requests
    CHAIN.clear()


def run(url_path: str = "vault") -> bool:
    """Whether the page's script would go on."""
    try:
        page_middleware.run_for_page(url_path)
    except StopRun:
        return False
    return True


def test_no_middleware_is_inactive(page):
    assert not page_middleware.active()
    CHAIN.add(lambda request: None)
    assert page_middleware.active()


def test_none_lets_the_page_run_and_sees_its_path(page):
    shown, requests = page
    CHAIN.add(lambda request: None)
    assert run("vault") is True
    assert shown == [] and requests[0].path == "/vault"


def test_a_redirect_navigates_like_sa_redirect_and_stops(page):
    shown, _ = page
    CHAIN.add(lambda request: sa.Redirect("/fr"))
    assert run() is False
    assert shown == [("redirect", "/fr external=False")]


def test_a_refused_redirect_target_shows_the_error_view(page):
    shown, _ = page
    CHAIN.add(lambda request: sa.Redirect("//evil.example"))
    assert run() is False
    assert shown[0][0] == "error" and "Something went wrong" in shown[0][1] and "evil" not in shown[0][1]


def test_forbidden_shows_the_403_view_with_its_message(page):
    shown, _ = page
    CHAIN.add(lambda request: (_ for _ in ()).throw(sa.Forbidden("The vault is closed")))
    assert run() is False
    assert shown == [("403", "The vault is closed"), ("stop", "")]


def test_another_http_error_shows_its_status(page):
    shown, _ = page

    def gone(request):
        raise sa.HTTPError(451, "Not in your country")

    CHAIN.add(gone)
    assert run() is False
    assert shown[0] == ("error", "**451.** Not in your country")


def test_an_exception_shows_the_error_view_without_detail(page):
    shown, _ = page

    def broken(request):
        raise RuntimeError("hunter2")

    CHAIN.add(broken)
    assert run() is False
    assert shown[0][0] == "error" and "hunter2" not in shown[0][1] and "RuntimeError" not in shown[0][1]
    assert shown[-1] == ("stop", "")


# --- where the page-access patch runs them ----------------------------------------------

from tests.unit import test_page_access as page_access_tests  # noqa: E402 - its fixtures and helpers

Script, install = page_access_tests.Script, page_access_tests.install
app_dir, pages = page_access_tests.app_dir, page_access_tests.pages  # fixtures, reused


@pytest.fixture
def script(monkeypatch, app_dir) -> Script:
    return Script(monkeypatch, app_dir)


def test_without_rules_the_navigation_runs_the_middlewares_for_the_requested_page(monkeypatch, script, pages):
    seen: list[str] = []
    monkeypatch.setattr(page_middleware, "run_for_page", seen.append)
    install(monkeypatch)                       # no page rules at all
    CHAIN.clear()
    try:
        CHAIN.add(lambda request: None)
        script.wanted = pages.staff
        assert script.navigate([pages.home, pages.staff]) == "ran"
        script.wanted = pages.home
        script.navigate([pages.home, pages.staff])
    finally:
        CHAIN.clear()
    assert seen == ["staff", ""]


def test_the_middlewares_run_before_the_page_rules(monkeypatch, script, pages):
    order: list[str] = []

    def middleware_stops(url_path: str) -> None:
        order.append(f"middleware:{url_path}")
        raise StopRun

    monkeypatch.setattr(page_middleware, "run_for_page", middleware_stops)
    monkeypatch.setattr(script_api, "enforce", lambda decision: order.append("rules"))
    install(monkeypatch, {"staff": ["admin"]})
    CHAIN.clear()
    try:
        CHAIN.add(lambda request: None)
        script.wanted = pages.staff
        with pytest.raises(StopRun):
            script.navigate([pages.home, pages.staff])
    finally:
        CHAIN.clear()
    assert order == ["middleware:staff"] and script.given == []


def test_without_middlewares_the_patch_does_not_build_a_request(monkeypatch, script, pages):
    monkeypatch.setattr(page_middleware, "run_for_page", lambda url_path: pytest.fail("ran"))
    install(monkeypatch)
    CHAIN.clear()
    script.wanted = pages.staff
    assert script.navigate([pages.home, pages.staff]) == "ran"
