"""Fixtures for the SAML Service Provider tests: a crafted IdP (pysaml2's ``Server``, keys
generated here) and the app's ``SamlClient`` for it. Keys are made once per session."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from crafted_idp import CraftedIdp, key_and_cert

from stauth_server.core.saml.client import SamlClient
from stauth_server.core.saml.config import SamlProviderConfig, parse_saml_provider

REDIRECT_URI = "https://app.example.org/base/oauth2callback"
ACS = "https://app.example.org/base/auth/saml/corp/acs"
SP_ENTITY = "https://app.example.org/base/"


@pytest.fixture(scope="session")
def saml_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("saml")
    key_and_cert(folder, "sp", "test SP")
    return folder


@pytest.fixture(scope="session")
def idp(saml_dir: Path) -> CraftedIdp:
    crafted = CraftedIdp.create(saml_dir)
    (saml_dir / "idp.xml").write_text(crafted.metadata_xml)
    return crafted


@pytest.fixture(scope="session")
def rogue_idp(saml_dir: Path, idp: CraftedIdp) -> CraftedIdp:
    """Another key claiming to be the same IdP entity."""
    rogue = CraftedIdp.create(saml_dir, stem="rogue")
    return rogue


@pytest.fixture(scope="session")
def make_provider(saml_dir: Path, idp: CraftedIdp) -> Callable[..., SamlProviderConfig]:
    def make(**overrides: Any) -> SamlProviderConfig:
        table = {"protocol": "saml", "idp_metadata_file": "idp.xml", "sp_key_file": "sp.key", "sp_cert_file": "sp.crt"}
        table.update(overrides)
        table = {key: value for key, value in table.items() if value is not None}
        return parse_saml_provider("corp", table, redirect_uri=REDIRECT_URI, app_dir=saml_dir)

    return make


@pytest.fixture(scope="session")
def sp(make_provider: Callable[..., SamlProviderConfig], idp: CraftedIdp, rogue_idp: CraftedIdp) -> SamlClient:
    client = SamlClient(make_provider())
    metadata = client.metadata_xml()
    idp.serve(metadata)
    rogue_idp.serve(metadata)
    return client


@pytest.fixture
def respond(idp: CraftedIdp, sp: SamlClient) -> Callable[..., str]:
    """A signed Response from the IdP for this SP (keywords: see ``CraftedIdp.response``)."""

    def make(in_response_to: str | None, **kwargs: Any) -> str:
        kwargs.setdefault("acs", ACS)
        kwargs.setdefault("audience", SP_ENTITY)
        kwargs.setdefault("attributes", {"mail": ["alice@example.org"], "cn": ["Alice Liddell"], "groups": ["staff"]})
        return idp.response(in_response_to=in_response_to, **kwargs)

    return make
