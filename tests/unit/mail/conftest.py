"""Fixtures for the mail tests: a throwaway CA and a server certificate for STARTTLS."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest

from tests.e2e.ldap_server import ThrowawayCA, issue_server_cert, make_ca


@pytest.fixture(scope="module")
def smtp_ca(tmp_path_factory: pytest.TempPathFactory) -> ThrowawayCA:
    return make_ca(tmp_path_factory.mktemp("smtp-ca"), "smtp-test-ca")


@pytest.fixture(scope="module")
def smtp_cert(smtp_ca: ThrowawayCA, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(certificate, key) for 127.0.0.1, signed by ``smtp_ca``."""
    return issue_server_cert(smtp_ca, tmp_path_factory.mktemp("smtp-server"))


@pytest.fixture
def trusting_ca(smtp_ca: ThrowawayCA) -> ssl.SSLContext:
    """A client context that trusts only the throwaway CA (host names checked as by default)."""
    return ssl.create_default_context(cafile=str(smtp_ca.file))
