"""The README's first command: ``streamlit-auth run examples/app.py`` serves the tour."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from .harness import run_app, wait_for_cookie

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def example(tmp_path_factory, generation):
    with run_app(REPO, "examples/app.py", generation=generation, tmp_path=tmp_path_factory.mktemp("example")) as running:
        yield running


def test_routes_from_secrets_config_are_served(example):
    response = requests.get(example.url("/api/hello?name=readme"), timeout=5)
    assert response.status_code == 200
    assert response.json() == {"hello": "readme", "signed_in": False}


def test_example_sets_a_cookie_in_the_browser(context, example):
    page = context.new_page()
    page.goto(example.url("/"))
    page.get_by_text("streamlit-auth tour").first.wait_for()
    page.get_by_role("button", name="Set theme=dark").click()
    page.get_by_text("Set: HttpOnly").wait_for()
    assert wait_for_cookie(context, page, "theme")["value"] == "dark"


def test_demo_accounts_are_printed_at_start(example):
    log = example.log()
    assert "alice / alice-demo-password" in log and "bob   / bob-demo-password" in log


def test_demo_admin_signs_in_and_opens_the_guarded_page(context, example):
    page = context.new_page()
    page.goto(example.url("/"))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/auth/login**")
    page.fill("#username", "alice")
    page.fill("#password", "alice-demo-password")
    page.click("button[type=submit]")
    page.get_by_text("Signed in as Alice Admin").wait_for()
    page.get_by_role("link", name="Open the admin page").click()
    page.get_by_text("Only the admin role opens this page").wait_for()


def test_demo_viewer_cannot_open_the_guarded_page(context, example):
    page = context.new_page()
    page.goto(example.url("/auth/login"))
    page.fill("#username", "bob")
    page.fill("#password", "bob-demo-password")
    page.click("button[type=submit]")
    page.get_by_text("Signed in as Bob Viewer").wait_for()
    assert page.get_by_role("link", name="admin").count() == 0
    page.goto(example.url("/admin"))
    page.get_by_text("403 Forbidden").wait_for()
