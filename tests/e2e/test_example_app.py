"""The README's first command: ``streamlit-auth run examples/app.py`` serves the tour."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from .harness import run_app, wait_for_cookie

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    with run_app(REPO, "examples/app.py", tmp_path=tmp_path_factory.mktemp("example")) as running:
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
