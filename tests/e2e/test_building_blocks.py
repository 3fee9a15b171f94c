"""End to end, in Chromium against a real ``streamlit-auth run``: cookies, redirects, endpoints."""

from __future__ import annotations

import json

import pytest
import requests

from .harness import APPS, cookie, other_origin_page, run_app, wait_for_cookie

TOUR = APPS / "tour"


@pytest.fixture(scope="module")
def app(tmp_path_factory, generation):
    with run_app(TOUR, routes=["api.py"], generation=generation, tmp_path=tmp_path_factory.mktemp("tour")) as running:
        yield running


@pytest.fixture(scope="module")
def sub_app(tmp_path_factory, generation):
    with run_app(TOUR, routes=["api.py"], base_path="sub", generation=generation, tmp_path=tmp_path_factory.mktemp("sub")) as running:
        yield running


def open_app(context, app, path="/"):
    page = context.new_page()
    page.goto(app.url(path))
    page.get_by_text("runs=1").wait_for()
    page.evaluate("window.__not_reloaded = true")
    return page


def test_set_cookie_reaches_browser_httponly_without_reload(context, app):
    page = open_app(context, app)
    page.get_by_role("button", name="set-cookie").click()
    page.get_by_text("cookie-set-done now=dark").wait_for()
    theme = wait_for_cookie(context, page, "theme")
    assert theme is not None, context.cookies()
    assert theme["value"] == "dark"
    assert theme["httpOnly"] is True
    assert theme["sameSite"] == "Lax"
    assert theme["secure"] is False
    assert theme["path"] == "/"
    assert theme["expires"] > 0
    assert "theme=" not in page.evaluate("document.cookie")
    assert page.evaluate("window.__not_reloaded") is True
    page.get_by_text("runs=2").wait_for()


def test_cookie_is_seen_by_a_new_tab_and_deleted_again(context, app):
    page = open_app(context, app)
    page.get_by_role("button", name="set-cookie").click()
    page.get_by_text("cookie-set-done now=dark").wait_for()
    page.wait_for_timeout(500)
    second_tab = context.new_page()
    second_tab.goto(app.url("/"))
    second_tab.get_by_text("context-theme=dark").wait_for()

    page.get_by_role("button", name="delete-cookie").click()
    page.get_by_text("cookie-delete-done now=none").wait_for()
    assert wait_for_cookie(context, page, "theme", present=False) is None
    assert page.evaluate("window.__not_reloaded") is True
    third_tab = context.new_page()
    third_tab.goto(app.url("/"))
    third_tab.get_by_text("context-theme=none").wait_for()


def test_cookie_write_never_lands_in_another_browser_and_replay_changes_nothing(browser, app):
    writer, bystander = browser.new_context(), browser.new_context()
    try:
        deliveries: list[str] = []
        page = open_app(writer, app)
        page.on("request", lambda r: deliveries.append(r.url) if "/_stauth/cookies/" in r.url else None)
        open_app(bystander, app)
        page.get_by_role("button", name="set-cookie").click()
        page.get_by_text("cookie-set-done now=dark").wait_for()
        assert wait_for_cookie(writer, page, "theme")["value"] == "dark"
        assert cookie(bystander, "theme") is None
        assert len(deliveries) == 1

        origin = app.url("/").rstrip("/").rsplit(app.base_path, 1)[0] if app.base_path else app.url("/").rstrip("/")
        replay_same = writer.request.post(deliveries[0], headers={"Origin": origin})
        replay_other = bystander.request.post(deliveries[0], headers={"Origin": origin})
        assert replay_same.status == 404
        assert replay_other.status == 404
        assert cookie(bystander, "theme") is None
    finally:
        writer.close()
        bystander.close()


def test_internal_redirect_navigates_the_top_window(context, app):
    page = open_app(context, app)
    page.get_by_role("button", name="redirect-internal").click()
    page.get_by_text("second-page").wait_for()
    assert page.url == app.url("/second")


def test_redirect_after_cookie_write_delivers_the_cookie_first(context, app):
    page = open_app(context, app)
    page.get_by_role("button", name="set-and-redirect").click()
    page.get_by_text("second-page").wait_for()
    page.get_by_text("flash=hello").wait_for()
    assert cookie(context, "flash")["httpOnly"] is True


def test_open_redirect_is_refused_and_navigates_nowhere(context, app):
    page = open_app(context, app)
    page.get_by_role("button", name="redirect-evil").click()
    page.get_by_text("redirect-refused:").wait_for()
    assert page.url == app.url("/")
    assert page.evaluate("window.__not_reloaded") is True


def test_json_endpoint_answers_in_the_browser(context, app):
    page = context.new_page()
    response = page.goto(app.url("/api/hello?name=ada"))
    assert response.status == 200
    assert response.headers["content-type"].startswith("application/json")
    assert json.loads(page.inner_text("body")) == {"hello": "ada", "user": False}


def test_handler_error_is_a_generic_500_without_traceback(app):
    response = requests.get(app.url("/api/boom"), timeout=5)
    assert response.status_code == 500
    assert response.json() == {"error": "Internal Server Error"}
    assert "secret detail" in app.log()  # the traceback goes to the server log only


def test_raw_mount_is_served(app, generation):
    """``sa.mount_tornado`` on Tornado, ``sa.mount_asgi`` (a Starlette app) on Starlette."""
    answer = requests.get(app.url("/api/raw"), timeout=5).json()
    assert answer["raw"] is True
    if generation.starlette:
        assert answer["root_path"] == app.base_path + "/api/raw"
        nested = requests.get(app.url("/api/raw/deeper/x"), timeout=5).json()
        assert nested["path"] == app.base_path + "/api/raw/deeper/x"


@pytest.fixture
def other_origin():
    """A page on the same host but another port: same-site, cross-origin, cookies sent."""
    with other_origin_page() as url:
        yield url


POST_NOTE = """async ([url, note]) => {
  try {
    const r = await fetch(url, {method: 'POST', credentials: 'include', mode: %s,
                                headers: {'Content-Type': 'text/plain'},
                                body: JSON.stringify({note})});
    return r.type === 'opaque' ? 'opaque' : r.status;
  } catch (e) { return 'error'; }
}"""


def test_same_origin_post_is_accepted(context, app):
    page = open_app(context, app)
    status = page.evaluate(POST_NOTE % "'same-origin'", [app.url("/api/notes"), "from-app"])
    assert status == 201
    assert "from-app" in requests.get(app.url("/api/notes"), timeout=5).json()


def test_cross_origin_post_with_cookies_is_refused(context, app, other_origin):
    open_app(context, app)  # the browser now holds the app's cookies
    assert context.cookies()
    page = context.new_page()
    page.goto(other_origin)
    page.evaluate(POST_NOTE % "'no-cors'", [app.url("/api/notes"), "from-elsewhere"])
    page.wait_for_timeout(500)
    assert "from-elsewhere" not in requests.get(app.url("/api/notes"), timeout=5).json()


def test_csrf_exempt_webhook_accepts_cross_site_post_without_identity(context, app, other_origin):
    open_app(context, app)
    page = context.new_page()
    page.goto(other_origin)
    page.evaluate(
        """async (url) => { await fetch(url, {method: 'POST', mode: 'no-cors', credentials: 'include',
                                              body: 'ping'}); }""",
        app.url("/api/hook"),
    )
    for _ in range(30):
        if "hook:ping" in requests.get(app.url("/api/notes"), timeout=5).json():
            break
        page.wait_for_timeout(100)
    assert "hook:ping" in requests.get(app.url("/api/notes"), timeout=5).json()


def test_multipage_navigation_works(context, app):
    page = open_app(context, app)
    page.get_by_role("link", name="second").click()
    page.get_by_text("second-page").wait_for()
    assert page.url == app.url("/second")


def test_base_url_path_variant(context, sub_app):
    page = open_app(context, sub_app)
    page.get_by_role("button", name="set-cookie").click()
    page.get_by_text("cookie-set-done now=dark").wait_for()
    assert wait_for_cookie(context, page, "theme")["path"] == "/sub"
    page.get_by_role("button", name="redirect-internal").click()
    page.get_by_text("second-page").wait_for()
    assert page.url == sub_app.url("/second")
    page.get_by_text("theme-here=dark").wait_for()
    assert requests.get(sub_app.url("/api/hello"), timeout=5).json()["hello"] == "world"
    assert requests.get(f"http://127.0.0.1:{sub_app.port}/api/hello", timeout=5).status_code == 404
