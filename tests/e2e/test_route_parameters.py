"""End to end against a real ``streamlit-auth run``: path parameters on the raw path.

``{name:path}`` takes several segments; no parameter ever takes an encoded ``/`` or a
``..`` segment, so a handler that joins the value to a folder cannot be walked out of it.
"""

from __future__ import annotations

import http.client

import pytest
import requests

from .harness import APPS, run_app

ROUTE_PARAMS = APPS / "route_params"


@pytest.fixture(scope="module")
def app(tmp_path_factory, generation):
    with run_app(ROUTE_PARAMS, routes=["api.py"], generation=generation, tmp_path=tmp_path_factory.mktemp("route_params")) as running:
        yield running


def raw_get(app, raw_path: str) -> tuple[int, bytes]:
    """GET ``raw_path`` exactly as written: no client-side dot-segment or escape rewriting."""
    connection = http.client.HTTPConnection("127.0.0.1", app.port, timeout=5)
    try:
        connection.request("GET", raw_path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_path_parameter_serves_a_file_in_a_subfolder(app):
    response = requests.get(app.url("/api/docs/guides/getting%20started.txt"), timeout=5)
    assert response.status_code == 200
    assert response.text == "Getting started\n"


def test_path_parameter_reaches_the_handler_for_a_missing_file(app):
    response = requests.get(app.url("/api/docs/guides/nothing.txt"), timeout=5)
    assert response.status_code == 404
    assert response.json() == {"error": "No such document"}


@pytest.mark.parametrize(
    "probe",
    [
        "/api/docs/..%2Fsecret.txt",
        "/api/docs/..%2fsecret.txt",
        "/api/docs/guides/../../secret.txt",
        "/api/docs/%2e%2e/secret.txt",
        "/api/docs/guides%2F..%2F..%2Fsecret.txt",
        "/api/docs//etc/passwd",
    ],
)
def test_path_parameter_cannot_climb_out_of_its_folder(app, probe):
    status, body = raw_get(app, probe)
    assert status == 404
    assert b"not for visitors" not in body


@pytest.mark.parametrize("probe", ["/api/items/..%2F..%2Fetc", "/api/items/..%2f..%2fetc", "/api/items/%2e%2e"])
def test_encoded_slash_or_dot_segment_in_a_segment_parameter_is_404(app, probe):
    status, body = raw_get(app, probe)
    assert status == 404
    assert b"../../etc" not in body


def test_segment_parameter_is_decoded_once(app):
    response = requests.get(app.url("/api/items/..%252F..%252Fetc"), timeout=5)
    assert response.status_code == 200
    assert response.json() == {"id": "..%2F..%2Fetc"}
