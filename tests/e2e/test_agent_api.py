"""Streamlit 1.67's Agent API (``server.enableAgentApi``) never receives a browser's identity.

A real ``streamlit-auth run`` on 1.67 with the Agent API on and password sign-in: a
program that holds a signed-in browser's cookies (stolen, or copied by a careless
script) and calls ``/_stcore/agent/interact`` drives the app as an anonymous visitor, and
no later sign-in push reaches that session. The browser's own tab, with the same cookies,
is signed in (the control: the cookies are valid).
"""

from __future__ import annotations

import json
import re

import pytest
import requests

from .test_starlette_generation import PASSWORD, starlette_gen_app

pytestmark = pytest.mark.generations("st167")


@pytest.fixture(scope="module")
def app(tmp_path_factory, generation):
    with starlette_gen_app(tmp_path_factory, generation, "agent", ("--server.enableAgentApi", "true")) as running:
        yield running


def signed_in_cookies(app) -> str:
    """Sign alice in through the login form; the Cookie header a browser would then send."""
    browser = requests.Session()
    form = browser.get(app.url("/auth/login?next=/"), timeout=10)
    token = re.search(r'name="_xsrf" value="([^"]+)"', form.text)
    assert token, form.text[:300]
    done = browser.post(app.url("/auth/login"), timeout=10, allow_redirects=False,
                        headers={"Origin": app.url("").rstrip("/")},
                        data={"_xsrf": token.group(1), "next": "/", "source": "local",
                              "username": "alice", "password": PASSWORD})
    assert done.status_code == 303, done.text[:300]
    assert browser.get(app.url("/auth/userinfo"), timeout=10).json()["email"] == "alice@corp.test"
    return "; ".join(f"{c.name}={c.value}" for c in browser.cookies)


def interact(app, cookie: str, body: dict) -> dict:
    answer = requests.post(app.url("/_stcore/agent/interact"), data=json.dumps(body), timeout=30,
                           headers={"Content-Type": "application/json", "Cookie": cookie})
    assert answer.status_code == 200, answer.text[:500]
    return answer.json()


def markdown_of(snapshot: dict) -> list[str]:
    texts: list[str] = []

    def walk(node: dict) -> None:
        if node.get("type") == "markdown":
            texts.append(node["props"]["body"])
        for child in node.get("children", []):
            walk(child)

    walk(snapshot["tree"])
    return texts


def test_an_agent_with_a_signed_in_browsers_cookies_is_anonymous(app):
    cookie = signed_in_cookies(app)
    whoami = requests.get(app.url("/api/whoami"), headers={"Cookie": cookie}, timeout=10)
    assert whoami.json()["user"] == "Alice"   # the control: these cookies sign a request in

    snapshot = interact(app, cookie, {})
    texts = markdown_of(snapshot)
    assert "st-user=anonymous logged-in=False" in texts, texts
    assert "sa-user=- runs=1" in texts, texts

    # The same agent session, run again, is still anonymous (nothing bound it to the browser).
    again = interact(app, cookie, {"session_id": snapshot["session_id"]})
    assert "st-user=anonymous logged-in=False" in markdown_of(again)


def test_an_agent_sent_from_a_web_page_is_refused_by_streamlit(app):
    """Streamlit's own rule, which we keep: a request with an Origin not in
    ``server.corsAllowedOrigins`` is refused, so a page cannot ride a visitor's cookies."""
    answer = requests.post(app.url("/_stcore/agent/interact"), data="{}", timeout=10,
                           headers={"Content-Type": "application/json", "Origin": "http://evil.test"})
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "origin_not_allowed"
