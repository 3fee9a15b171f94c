"""A real SAML 2.0 Identity Provider (LemonLDAP::NG, ``tests/saml_idp/start_idp.sh``) for end-to-end tests.

Users and what the IdP releases are described in ``tests/saml_idp/README.md``.
"""

from __future__ import annotations

import os
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

IDP_SCRIPT = Path(__file__).resolve().parents[1] / "saml_idp" / "start_idp.sh"
PASSWORDS = {"alice": "alice-saml-password", "bob": "bob-saml-password"}
#: The IdP's login form (LemonLDAP::NG's portal) and where it shows a refused login.
LOGIN_FORM = {"user": "#userfield", "password": "#passwordfield", "submit": "#lform button[type=submit]",
              "error": ".alert-danger, .alert-warning"}
START_TIMEOUT = 60


@dataclass(frozen=True)
class RunningIdP:
    """A started IdP: where it listens, its folder (keys, configuration, sessions) and its log."""

    port: int
    pid: int
    dir: Path
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def entity_id(self) -> str:
        return f"{self.url}/saml/metadata"

    @property
    def metadata_url(self) -> str:
        """The IdP role's metadata, the one to give an SP (``/saml/metadata`` also lists its SP role)."""
        return f"{self.url}/saml/metadata/idp"

    @property
    def sso_url(self) -> str:
        return f"{self.url}/saml/singleSignOn"

    def metadata(self) -> str:
        return requests.get(self.metadata_url, timeout=10).text

    def register_sp(self, sp_metadata_xml: str) -> None:
        """Register this SP (its metadata XML) on the running IdP, replacing the previous one;
        returns once every request to the IdP uses the new registration."""
        _run_script(self.dir, _write_sp_metadata(self.dir, sp_metadata_xml))

    def log_tail(self, lines: int = 40) -> str:
        return _log_tail(self.dir, lines)


def _write_sp_metadata(idp_dir: Path, sp_metadata_xml: str) -> Path:
    path = idp_dir.parent / f"{idp_dir.name}-sp-metadata.xml"
    path.write_text(sp_metadata_xml)
    return path


def _log_tail(idp_dir: Path, lines: int = 40) -> str:
    try:
        return "\n".join((idp_dir / "idp.log").read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _run_script(idp_dir: Path, sp_metadata: Path | None = None) -> dict[str, str]:
    """Run start_idp.sh on ``idp_dir``; its IDP_* variables, or the test fails with its output and log."""
    options = ["-s", str(sp_metadata)] if sp_metadata else []
    try:
        done = subprocess.run(["bash", str(IDP_SCRIPT), *options, str(idp_dir)], capture_output=True, text=True,
                              timeout=START_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"start_idp.sh took more than {START_TIMEOUT} s; IdP log:\n{_log_tail(idp_dir)}")
    if done.returncode != 0:
        pytest.fail(f"start_idp.sh failed ({done.returncode}):\n{done.stdout}{done.stderr}\n"
                    f"IdP log:\n{_log_tail(idp_dir)}")
    return dict(line.split("=", 1) for line in done.stdout.splitlines() if line.startswith("IDP_"))


def _port_open(port: int) -> bool:
    try:
        requests.get(f"http://127.0.0.1:{port}/", timeout=1)
        return True
    except requests.RequestException:
        return False


def _stop(idp: RunningIdP) -> None:
    """SIGTERM to Starman's process group (master and workers), then wait until the port is closed."""
    try:
        os.killpg(idp.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 10
    while _port_open(idp.port):
        if time.monotonic() > deadline:
            os.killpg(idp.pid, signal.SIGKILL)
            return
        time.sleep(0.05)


@contextmanager
def run_saml_idp(tmp_path: Path, sp_metadata_xml: str | None = None) -> Iterator[RunningIdP]:
    """Start the test IdP in a fresh folder under ``tmp_path`` (fresh signing key), with this SP
    registered when its metadata XML is given (else register one later with
    ``RunningIdP.register_sp``); stop it afterwards."""
    idp_dir = tmp_path / f"saml-idp-{free_port()}"
    idp_dir.mkdir(parents=True)
    sp_metadata = _write_sp_metadata(idp_dir, sp_metadata_xml) if sp_metadata_xml else None
    env = _run_script(idp_dir, sp_metadata)
    idp = RunningIdP(port=int(env["IDP_PORT"]), pid=int(env["IDP_PID"]), dir=idp_dir, log=Path(env["IDP_LOG"]))
    try:
        if not requests.get(idp.metadata_url, timeout=10).ok:
            pytest.fail(f"the IdP does not serve its metadata at {idp.metadata_url}:\n{idp.log_tail()}")
        yield idp
    finally:
        _stop(idp)


def sign_in_at_idp(page, user: str = "alice", password: str | None = None) -> None:
    """Fill and submit the IdP's login form, shown in ``page``."""
    page.wait_for_selector(LOGIN_FORM["password"])
    page.fill(LOGIN_FORM["user"], user)
    page.fill(LOGIN_FORM["password"], PASSWORDS[user] if password is None else password)
    page.click(LOGIN_FORM["submit"])
