"""``@sa.middleware`` end to end: a real ``streamlit-auth run`` and Chromium.

The app (``apps/middleware``) sends French browsers from the home page to ``/fr``, closes
the ``vault`` page, blocks loopback callers from ``/api/internal``, and fails on ``/broken``
and ``/api/broken``.
"""

from __future__ import annotations

import pytest

from .harness import APPS, run_app


@pytest.fixture(scope="module")
def app(tmp_path_factory, generation):
    with run_app(APPS / "middleware", routes=["api.py"], generation=generation,
                 tmp_path=tmp_path_factory.mktemp("middleware")) as running:
        yield running


@pytest.fixture
def french(browser):
    """A browser profile whose requests say ``Accept-Language: fr-FR``."""
    ctx = browser.new_context(locale="fr-FR")
    ctx.set_default_timeout(20_000)
    yield ctx
    ctx.close()


def test_a_middleware_redirects_a_page_load(french, app):
    page = french.new_page()
    page.goto(app.url("/"))
    page.wait_for_url(app.url("/fr"))
    page.get_by_text("bonjour-page").wait_for()
    assert page.get_by_text("home-page").count() == 0


def test_sa_redirect_called_in_a_middleware_redirects_a_page_and_a_route(context, app):
    page = context.new_page()
    page.goto(app.url("/old"))
    page.wait_for_url(app.url("/fr"))
    page.get_by_text("bonjour-page").wait_for()
    assert page.get_by_text("old-page").count() == 0
    answer = context.request.get(app.url("/api/old"), max_redirects=0)
    assert answer.status == 302 and answer.headers["location"] == "/fr"


def test_other_browsers_stay_on_the_page(context, app):
    page = context.new_page()
    page.goto(app.url("/"))
    page.get_by_text("home-page").wait_for()
    assert page.url == app.url("/")


def test_a_page_switch_within_the_app_is_denied_with_the_403_view(context, app):
    page = context.new_page()
    page.goto(app.url("/"))
    page.get_by_text("home-page").wait_for()
    page.get_by_role("link", name="Vault").click()      # an in-app switch: same session, no reload
    page.get_by_text("403 Forbidden").wait_for()
    page.get_by_text("The vault is closed").wait_for()
    assert page.get_by_text("vault-page").count() == 0


def test_a_typed_page_url_is_denied_too(context, app):
    page = context.new_page()
    page.goto(app.url("/vault"))
    page.get_by_text("403 Forbidden").wait_for()
    assert page.get_by_text("vault-page").count() == 0


def test_a_failing_middleware_shows_the_error_view_without_a_traceback(context, app):
    page = context.new_page()
    page.goto(app.url("/broken"))
    page.get_by_text("Something went wrong").wait_for()
    text = page.locator("body").inner_text()
    for leak in ("middleware-secret-detail", "Traceback", "RuntimeError", "broken-page"):
        assert leak not in text
    assert "middleware-secret-detail" in app.log()      # the cause is in the server log


def test_a_route_is_denied_by_network(context, app):
    page = context.new_page()
    response = page.goto(app.url("/api/internal/stats"))
    assert response.status == 403
    assert response.json() == {"error": "Not from your network"}


def test_a_route_sees_what_a_middleware_stored(context, app):
    page = context.new_page()
    response = page.goto(app.url("/api/hello"))
    assert response.status == 200
    assert response.json() == {"hello": "world", "lang": "en"}


def test_a_route_whose_middleware_fails_is_a_generic_500(context, app):
    page = context.new_page()
    response = page.goto(app.url("/api/broken"))
    assert response.status == 500
    assert response.json() == {"error": "Internal Server Error"}
    assert "middleware-secret-detail" not in response.text()



def test_a_page_middleware_sees_the_pages_request(context, app):
    context.add_cookies([{"name": "probe", "value": "yes", "url": app.url("/")}])
    page = context.new_page()
    page.goto(app.url("/inspect?q=1"))
    page.get_by_text("method=GET q=1 cookie=yes ua=True ip=127.0.0.1 signed-in=False").wait_for()
    assert page.get_by_text("inspect-page").count() == 0
