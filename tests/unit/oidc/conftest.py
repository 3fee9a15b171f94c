"""Fixtures for the OIDC relying-party tests: a fake (and, on demand, malicious) OP."""

from __future__ import annotations

import pytest
from fake_op import FakeOP
from rp_helpers import REDIRECT_URI, make_service, provider_config

from stauth_server.core.oidc.client import OIDCClient
from stauth_server.core.signin import SignInService


@pytest.fixture
def op() -> FakeOP:
    return FakeOP()


@pytest.fixture
def client(op: FakeOP) -> OIDCClient:
    return OIDCClient(provider_config(op), REDIRECT_URI, http=op)


@pytest.fixture
def service(op: FakeOP) -> SignInService:
    return make_service(op)
