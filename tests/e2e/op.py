"""A real OpenID Provider (panva's ``oidc-provider`` on Node) for end-to-end tests."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from .harness import free_port

OP_DIR = Path(__file__).resolve().parents[1] / "op"


@dataclass
class RunningOP:
    port: int
    client_id: str
    client_secret: str
    #: A tenant GUID when the OP plays a Microsoft Entra tenant (``run_op(entra_tenant=...)``).
    entra_tenant: str | None = None

    @property
    def issuer(self) -> str:
        if self.entra_tenant:
            return f"http://127.0.0.1:{self.port}/{self.entra_tenant}/v2.0"
        return f"http://127.0.0.1:{self.port}"

    @property
    def multi_tenant_metadata_url(self) -> str:
        """Entra's ``/common/v2.0`` discovery: the issuer is the ``{tenantid}`` template."""
        return f"http://127.0.0.1:{self.port}/common/v2.0/.well-known/openid-configuration"

    @property
    def metadata_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"


@contextmanager
def run_op(rp_base: str, tmp_path: Path, *, access_ttl: int = 3600, client_id: str = "streamlit-test",
           client_secret: str = "streamlit-test-secret", entra_tenant: str | None = None,
           port: int | None = None) -> Iterator[RunningOP]:
    """Start ``tests/op/op.mjs`` for the app at ``rp_base``; stop it afterwards. With
    ``entra_tenant`` it plays that Microsoft Entra tenant (op.mjs's ``OP_ENTRA_TENANT``)."""
    node = shutil.which("node")
    if node is None or not (OP_DIR / "node_modules" / "oidc-provider").is_dir():
        pytest.fail("the test OP needs Node and `npm ci` in tests/op (scripts/setup-test-env.sh does both)")
    port = port or free_port()
    env = {**os.environ, "OP_PORT": str(port), "RP_BASE": rp_base, "OP_ACCESS_TTL": str(access_ttl),
           "OP_CLIENT_ID": client_id, "OP_CLIENT_SECRET": client_secret, "OP_ENTRA_TENANT": entra_tenant or ""}
    log_path = tmp_path / f"op-{port}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen([node, "op.mjs"], cwd=OP_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    op = RunningOP(port, client_id, client_secret, entra_tenant)
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                pytest.fail(f"the test OP exited:\n{log_path.read_text()}")
            try:
                if requests.get(f"http://127.0.0.1:{port}/.well-known/openid-configuration", timeout=1).ok:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the test OP did not start:\n{log_path.read_text()}")
            time.sleep(0.05)
        yield op
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=10)


def sign_in_at_op(page, user: str = "alice") -> None:
    """Go through the OP's dev interactions: its login form (if shown), then consent."""
    page.wait_for_url("**/interaction/**")
    for _ in range(4):
        if "/interaction/" not in page.url:
            return
        with page.expect_navigation():
            if page.locator("input[name=login]").count():
                page.fill("input[name=login]", user)
                page.fill("input[name=password]", "any-password")
            page.click("button[type=submit]")
    if "/interaction/" in page.url:
        pytest.fail(f"still at the OP after four steps: {page.url}")
