"""The login page's Firebase block and the sign-out page: settings reach the script as
inert JSON (no markup can break out), the import map only for a copy of the SDK."""

from __future__ import annotations

import json
import re
from dataclasses import replace

from firebase_fakes import config

from stauth_server.core.firebase.config import DEFAULT_SDK_URL
from stauth_server.web.firebase_page import firebase_block, firebase_sign_out_page


def data_of(page: str) -> dict:
    found = re.search(r"<script type=application/json id=stauth-firebase>(.*?)</script>", page, re.S)
    assert found is not None
    return json.loads(found.group(1))


def test_the_block_offers_the_methods_and_hands_the_script_its_settings():
    project = config(sign_in_methods=["password", "google.com"], emulator_host="127.0.0.1:9099")
    page = firebase_block([project], "/base/auth/firebase/session", "/reports")
    assert 'type=email' in page and 'data-method="google.com">Continue with Google' in page
    settings = data_of(page)
    assert settings["next"] == "/reports" and settings["sdk"] == DEFAULT_SDK_URL
    assert settings["projects"] == [{"name": "firebase", "emulator": "127.0.0.1:9099",
                                     "session": "/base/auth/firebase/session",
                                     "config": {"apiKey": "k", "projectId": "demo-project",
                                                "authDomain": "demo-project.firebaseapp.com"}}]
    assert "importmap" not in page  # Google's CDN: firebase-auth.js finds firebase-app.js itself


def test_a_hostile_next_path_cannot_break_out_of_the_data_block():
    page = firebase_block([config()], "/auth/firebase/session", "/</script><script>alert(1)</script>")
    assert page.count("</script>") == 2  # the data block's and the module's, nothing injected
    assert data_of(page)["next"] == "/</script><script>alert(1)</script>"


def test_a_local_copy_of_the_sdk_gets_an_import_map_for_googles_absolute_import():
    project = replace(config(), sdk_url="http://127.0.0.1:8000/sdk/")
    page = firebase_block([project], "/auth/firebase/session", "/")
    mapping = json.loads(re.search(r"<script type=importmap>(.*?)</script>", page).group(1))
    assert mapping == {"imports": {DEFAULT_SDK_URL + "firebase-app.js": "http://127.0.0.1:8000/sdk/firebase-app.js"}}
    assert page.index("importmap") < page.index("type=module")


def test_no_firebase_no_block_and_the_sign_out_page_always_leaves():
    assert firebase_block([], "/x", "/") == ""
    page = firebase_sign_out_page([config()], "/app/")
    assert 'http-equiv=refresh content="5;url=/app/"' in page and data_of(page)["next"] == "/app/"
    assert "signOut" in page and "location.replace" in page
