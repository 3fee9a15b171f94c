"""Firebase for end-to-end tests: the Firebase Auth Emulator (npm ``firebase-tools``, offline
on Node) and a local copy of the Firebase JS SDK (npm ``firebase``) served over HTTP, as the
login page's ``sdk_url``. Both installed by ``scripts/setup-test-env.sh`` in tests/firebase."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from .harness import free_port, stop_group

FIREBASE_DIR = Path(__file__).resolve().parents[1] / "firebase"
SDK_DIR = FIREBASE_DIR / "node_modules" / "firebase"
PROJECT = "demo-test"  # a demo- project: the emulator needs no Google login


@dataclass
class RunningEmulator:
    port: int
    sdk_url: str
    keys_url: str

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def sign_up(self, email: str, password: str, display_name: str | None = None) -> dict:
        """A user in the emulator (its REST API); answers with its ``localId`` and ``idToken``."""
        url = f"http://{self.host}/identitytoolkit.googleapis.com/v1/accounts:signUp?key=any"
        answer = requests.post(url, json={"email": email, "password": password, "returnSecureToken": True},
                               timeout=10)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        if display_name:
            update = f"http://{self.host}/identitytoolkit.googleapis.com/v1/accounts:update?key=any"
            changed = requests.post(update, json={"idToken": body["idToken"], "displayName": display_name,
                                                  "returnSecureToken": True}, timeout=10)
            assert changed.status_code == 200, changed.text
            body = {**body, **changed.json()}
        return body


class _SdkHandler(SimpleHTTPRequestHandler):
    """The SDK's files, and ``/keys.json``: an empty key set (the emulator's tokens are unsigned)."""

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if self.path == "/keys.json":
            body = b"{}"
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Cache-Control", "public, max-age=600")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()

    def end_headers(self) -> None:
        self.send_header("Access-Control-Allow-Origin", "*")  # module scripts from another origin, as gstatic allows
        super().end_headers()

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def run_firebase(tmp_path: Path) -> Iterator[RunningEmulator]:
    """Start the Auth Emulator and the SDK's file server; stop both afterwards."""
    cli = FIREBASE_DIR / "node_modules" / ".bin" / "firebase"
    if not cli.exists() or not (SDK_DIR / "firebase-auth.js").exists():
        pytest.fail("Firebase tests need `npm ci` in tests/firebase (scripts/setup-test-env.sh does it)")
    port = free_port()
    folder = tmp_path / "firebase-emulator"
    folder.mkdir()
    (folder / "firebase.json").write_text(json.dumps({"emulators": {
        "auth": {"port": port, "host": "127.0.0.1"}, "ui": {"enabled": False}, "singleProjectMode": True}}))
    log_path = folder / "emulator.log"
    env = {**os.environ, "FIREBASE_CLI_DISABLE_UPDATE_CHECK": "true", "CI": "true"}
    with open(log_path, "wb") as log:
        process = subprocess.Popen([str(cli), "emulators:start", "--only", "auth", "--project", PROJECT],
                                   cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_SdkHandler, directory=str(SDK_DIR)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                pytest.fail(f"the Firebase Auth Emulator exited:\n{log_path.read_text()[-3000:]}")
            try:
                if requests.get(f"http://127.0.0.1:{port}/", timeout=1).status_code < 500:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the Firebase Auth Emulator did not start:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.2)
        yield RunningEmulator(port, sdk_url=f"{base}/", keys_url=f"{base}/keys.json")
    finally:
        server.shutdown()
        stop_group(process)
