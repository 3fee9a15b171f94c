"""A throwaway OpenLDAP slapd on a free loopback port, seeded with alice and bob."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from .harness import free_port

LDAP_DIR = Path(__file__).resolve().parents[1] / "ldap"
PASSWORDS = {"alice": "alice-ldap-password", "bob": "bob-ldap-password"}


def _hash(password: str) -> str:
    return subprocess.run(["slappasswd", "-s", password], check=True, capture_output=True, text=True).stdout.strip()


@contextmanager
def run_slapd(tmp_path: Path) -> Iterator[str]:
    """Start slapd; yield its ldap:// URI; stop it afterwards."""
    slapd = shutil.which("slapd") or ("/usr/sbin/slapd" if os.path.exists("/usr/sbin/slapd") else None)
    if slapd is None or shutil.which("ldapadd") is None:
        pytest.fail("slapd and ldap-utils are missing (scripts/setup-test-env.sh installs them)")
    run = tmp_path / "slapd"
    (run / "ldap" / "db").mkdir(parents=True)
    conf = (LDAP_DIR / "slapd.conf.in").read_text().replace("@RUN@", str(run)).replace("@ROOTPW@", _hash("adminpw"))
    (run / "ldap" / "slapd.conf").write_text(conf)
    port = free_port()
    uri = f"ldap://127.0.0.1:{port}"
    subprocess.run([slapd, "-f", str(run / "ldap" / "slapd.conf"), "-h", uri + "/"], check=True, capture_output=True)
    pid_file = run / "ldap" / "slapd.pid"
    try:
        for _ in range(200):
            probe = subprocess.run(["ldapsearch", "-x", "-H", uri, "-b", "", "-s", "base"], capture_output=True)
            if probe.returncode == 0:
                break
            time.sleep(0.05)
        else:
            pytest.fail("slapd did not answer")
        seed = (LDAP_DIR / "seed.ldif.in").read_text()
        seed = seed.replace("@ALICEPW@", _hash(PASSWORDS["alice"])).replace("@BOBPW@", _hash(PASSWORDS["bob"]))
        subprocess.run(["ldapadd", "-x", "-H", uri, "-D", "cn=admin,dc=example,dc=org", "-w", "adminpw"],
                       input=seed, text=True, check=True, capture_output=True)
        yield uri
    finally:
        if pid_file.exists():
            try:
                os.kill(int(pid_file.read_text().strip()), signal.SIGTERM)
            except (ProcessLookupError, ValueError):
                pass
