"""An app written for plain ``streamlit run`` works the same under ``streamlit-auth run``."""

from __future__ import annotations

import pytest
import requests

from .harness import APPS, run_app


@pytest.fixture(scope="module")
def app(tmp_path_factory, generation):
    with run_app(APPS / "compat", generation=generation, tmp_path=tmp_path_factory.mktemp("compat")) as running:
        yield running


def test_health_endpoint_answers_ok(app):
    assert requests.get(app.url("/_stcore/health"), timeout=5).text == "ok"


def test_navigation_pages_work(context, app):
    page = context.new_page()
    page.goto(app.url("/"))
    page.get_by_text("compat-home").wait_for()
    page.get_by_role("link", name="other").click()
    page.get_by_text("compat-other-page").wait_for()
    assert page.url == app.url("/other")
    direct = context.new_page()
    direct.goto(app.url("/other"))
    direct.get_by_text("compat-other-page").wait_for()


def test_file_upload_media_and_components_work(context, app, tmp_path):
    page = context.new_page()
    page.goto(app.url("/"))
    page.get_by_text("compat-home").wait_for()
    image = page.locator("img").first
    image.wait_for()
    src = image.get_attribute("src")
    assert src and "/media/" in src
    assert requests.get(app.url("") + src if src.startswith("/") else src, timeout=5).status_code == 200
    frame = page.frame_locator("iframe[title='st.iframe']").first
    frame.get_by_text("component-inside").wait_for()
    upload = tmp_path / "hello.txt"
    upload.write_text("file-body")
    page.locator("input[type=file]").set_input_files(str(upload))
    page.get_by_text("uploaded=hello.txt:file-body").wait_for()
