"""Starting real ``streamlit-auth run`` servers and a real Chromium for end-to-end tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

APPS = Path(__file__).parent / "apps"
REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Generation:
    """A Streamlit server generation the end-to-end suites run against.

    ``command`` starts ``streamlit-auth`` in the virtualenv that has that Streamlit;
    ``server`` is what ``streamlit-auth --version`` names ("Tornado" or "Starlette").
    """

    name: str
    streamlit_version: str
    server: str
    command: tuple[str, ...]
    extra_args: tuple[str, ...] = ()

    @property
    def starlette(self) -> bool:
        return self.server == "Starlette"


#: Streamlit 1.56 (this interpreter's Streamlit) on its Tornado server and on its Starlette
#: server (``server.useStarlette``), and 1.67 (Starlette, ``.venv-st167``).
GENERATIONS: dict[str, Generation] = {
    "st156": Generation("st156", "1.56.0", "Tornado", (sys.executable, "-m", "stauth_server")),
    "st156s": Generation("st156s", "1.56.0", "Starlette", (sys.executable, "-m", "stauth_server"),
                         ("--server.useStarlette", "true")),
    "st167": Generation("st167", "1.67.0", "Starlette",
                        (str(REPO / ".venv-st167" / "bin" / "python"), "-m", "stauth_server")),
}


def check_generation(generation: Generation) -> None:
    """Fail (never skip) when the generation's virtualenv is missing or has another Streamlit."""
    python = generation.command[0]
    if not os.path.exists(python):
        pytest.fail(f"{python} is missing: run scripts/setup-test-env.sh")
    found = subprocess.run([python, "-c", "import streamlit; print(streamlit.__version__)"],
                           capture_output=True, text=True).stdout.strip()
    if found != generation.streamlit_version:
        pytest.fail(f"{python} has Streamlit {found!r}, not {generation.streamlit_version}: "
                    "run scripts/setup-test-env.sh")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class RunningApp:
    """A ``streamlit-auth run`` process: where it listens and what it logged."""

    port: int
    base_path: str
    log_path: Path
    process: subprocess.Popen

    def url(self, path: str = "/", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{self.base_path}{path}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextmanager
def run_app(
    app_dir: Path,
    script: str = "app.py",
    *,
    routes: Sequence[str] = (),
    base_path: str = "",
    base_path_on_command_line: bool = True,
    extra_args: Sequence[str] = (),
    tmp_path: Path,
    generation: Generation,
    env: dict[str, str] | None = None,
    timeout: float = 45.0,
    port: int | None = None,
) -> Iterator[RunningApp]:
    """Run ``streamlit-auth run`` in ``app_dir`` until healthy; stop it afterwards.

    ``base_path`` is where the app is served; pass ``base_path_on_command_line=False``
    when a config file or environment variable sets it instead. ``generation`` (the
    ``generation`` fixture: every suite runs on each) says which Streamlit serves it.
    """
    port = port or free_port()
    cmd = [
        *generation.command, "run", script, *generation.extra_args,
        "--server.port", str(port), "--server.address", "127.0.0.1",
        "--server.headless", "true", "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
    ]
    for route_file in routes:
        cmd += ["--routes", route_file]
    if base_path and base_path_on_command_line:
        cmd += ["--server.baseUrlPath", base_path.strip("/")]
    cmd += list(extra_args)
    log_path = tmp_path / f"server-{port}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            cmd, cwd=app_dir, stdout=log, stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})}, start_new_session=True,
        )
    app = RunningApp(port, "/" + base_path.strip("/") if base_path.strip("/") else "", log_path, process)
    try:
        _wait_healthy(app, timeout)
        yield app
    finally:
        stop_group(process)


def _wait_healthy(app: RunningApp, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if app.process.poll() is not None:
            pytest.fail(f"streamlit-auth exited with {app.process.returncode}:\n{app.log()}")
        try:
            if requests.get(app.url("/_stcore/health"), timeout=1).text == "ok":
                return
        except requests.RequestException:
            pass
        time.sleep(0.05)
    pytest.fail(f"streamlit-auth was not healthy after {timeout}s:\n{app.log()}")


def stop_group(process: subprocess.Popen) -> None:
    """SIGTERM the process group ``process`` leads, SIGKILL it after 10 s."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def cookie(context, name: str) -> dict | None:
    """The browser's cookie called ``name``, or None."""
    return next((c for c in context.cookies() if c["name"] == name), None)


def wait_for_cookie(context, page, name: str, *, present: bool = True, seconds: float = 5.0) -> dict | None:
    """Poll the cookie jar until ``name`` is there (or gone, with ``present=False``)."""
    for _ in range(int(seconds * 10)):
        if (cookie(context, name) is not None) == present:
            break
        page.wait_for_timeout(100)
    return cookie(context, name)


class _OtherApp(BaseHTTPRequestHandler):
    """Another web app on the same host: one plain page."""

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        body = b"<!doctype html><title>elsewhere</title><p>another app</p>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def other_origin_page() -> Iterator[str]:
    """The URL of a page of another app on the same host (``127.0.0.1``, another port):
    another origin, yet the same site, so SameSite=Lax cookies are sent from it.

    A real server on loopback: a page Playwright fulfils itself counts as a public address,
    and Chromium's local-network checks then block everything it asks of 127.0.0.1.
    """
    server = ThreadingHTTPServer(("127.0.0.1", 0), _OtherApp)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


class CuttableProxy:
    """A TCP relay on loopback in front of a server, whose open connections a test can cut
    (as a network blip would): the browser's websocket drops and Streamlit's frontend
    reconnects, naming its old session to resume."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            with self._lock:
                self._open.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                self._close(sock)

    def _close(self, sock: socket.socket) -> None:
        with self._lock:
            self._open.discard(sock)
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()

    def cut(self) -> None:
        """Drop every open connection (new ones are still relayed)."""
        with self._lock:
            doomed = list(self._open)
        for sock in doomed:
            self._close(sock)

    def close(self) -> None:
        self.cut()
        self._listener.close()
