"""Fixtures shared by the unit tests (no server, no browser)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pytest

from stauth_server.web.http import Request
from stauth_server.core.identity import ANONYMOUS, User
from stauth_server.web.routes import RouteRegistry


@pytest.fixture
def registry() -> RouteRegistry:
    """A fresh registry, so no test touches the global ``REGISTRY``."""
    return RouteRegistry()


@pytest.fixture
def make_request() -> Callable[..., Request]:
    """Build a ``Request`` the way the server would, with sensible defaults."""

    def build(
        *,
        method: str = "GET",
        path: str = "/api/x",
        path_params: dict[str, str] | None = None,
        query_string: str = "",
        headers: Iterable[tuple[str, str]] = (),
        body: bytes = b"",
        user: User = ANONYMOUS,
    ) -> Request:
        return Request(
            method=method,
            path=path,
            path_params=path_params or {},
            query_string=query_string,
            headers=list(headers),
            body=body,
            client_ip="127.0.0.1",
            user=user,
        )

    return build


# --- a real redis-server, for the session store tests ---------------------------------

class RedisServer:
    """A ``redis-server`` child process on a fixed free loopback port, without persistence.

    ``stop()`` and ``start()`` again reuse the port (a Redis restart as replicas see it);
    ``pause()``/``resume()`` freeze it (SIGSTOP), so it accepts connections but never answers.
    """

    def __init__(self, workdir) -> None:
        import shutil
        import socket

        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is missing: apt-get install -y redis-server (scripts/setup-test-env.sh)")
        self.binary = binary
        self.workdir = workdir
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.process = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        import socket
        import subprocess
        import time

        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                pass
            if self.process.poll() is not None:
                break
            time.sleep(0.02)
        pytest.fail(f"redis-server did not answer PING on port {self.port}")

    def stop(self) -> None:
        import signal

        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)  # in case it was paused
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None

    def pause(self) -> None:
        import signal

        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        import signal

        self.process.send_signal(signal.SIGCONT)

    def client(self):
        import redis

        return redis.Redis.from_url(self.url, socket_timeout=5)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """One redis-server for the whole run (a missing redis-server fails the tests)."""
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server) -> str:
    """The shared redis-server's URL, emptied for this test."""
    with redis_server.client() as raw:
        raw.flushall()
    return redis_server.url


@pytest.fixture
def own_redis_server(tmp_path):
    """A redis-server of this test's own, to stop, restart or freeze."""
    server = RedisServer(tmp_path).start()
    yield server
    server.stop()
