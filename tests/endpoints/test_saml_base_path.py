"""The SAML endpoints under ``server.baseUrlPath``: metadata, login, the ACS's re-POST page
and the redirect after sign-in all carry the base path (both adapters)."""

from __future__ import annotations

import base64
import re
import zlib
from html import unescape
from types import MappingProxyType
from urllib.parse import urlencode

import pytest

from test_saml_endpoints import (  # noqa: F401 - fixtures
    acs_post, idp, query_of, routes, saml_dir, set_cookies, signed_response,
)

from stauth_server.core.config import ServerConfig
from stauth_server.core.saml.config import parse_saml_provider
from stauth_server.core.signin import SignInService
from stauth_server.core.store.memory import MemoryStore

REDIRECT_URI = "https://app.example.org/team/app/oauth2callback"
SECRET = "b" * 16 + "-saml-base-path-secret-012345678"


@pytest.fixture
def base_path() -> str:
    return "/team/app/"


@pytest.fixture
def service(saml_dir, idp):
    provider = parse_saml_provider("corp", {"protocol": "saml", "idp_metadata_file": "idp.xml",
                                            "sp_key_file": "sp.key", "sp_cert_file": "sp.crt"},
                                   redirect_uri=REDIRECT_URI, app_dir=saml_dir)
    built = SignInService(ServerConfig(cookie_secrets=(SECRET,), redirect_uri=REDIRECT_URI,
                                       saml=MappingProxyType({"corp": provider})), store=MemoryStore())
    idp.serve(built.saml["corp"].metadata_xml())
    return built


@pytest.mark.gen_test
async def test_everything_is_under_the_base_path(fetch, idp):
    metadata = await fetch("/team/app/auth/saml/corp/metadata", raise_error=False)
    assert metadata.code == 200
    assert b'Location="https://app.example.org/team/app/auth/saml/corp/acs"' in metadata.body
    assert (await fetch("/auth/saml/corp/metadata", raise_error=False)).code == 404
    login = await fetch("/team/app/auth/login?" + urlencode({"provider": "corp", "next": "/reports"}),
                        follow_redirects=False, raise_error=False)
    assert login.code == 302
    relay = query_of(login.headers["Location"])["RelayState"]
    request = zlib.decompress(base64.b64decode(query_of(login.headers["Location"])["SAMLRequest"]), -15).decode()
    request_id = re.search(r' ID="([^"]+)"', request).group(1)
    cookies = {k: v for k, v in set_cookies(login).items() if k.startswith("stauth_login_")}
    response = signed_response(idp, request_id, acs="https://app.example.org/team/app/auth/saml/corp/acs",
                               audience="https://app.example.org/team/app/")
    first = await acs_post(fetch, {"SAMLResponse": response, "RelayState": relay}, site="cross-site",
                           path="/team/app/auth/saml/corp/acs")
    assert first.code == 200 and 'action="/team/app/auth/saml/corp/acs"' in first.body.decode()
    fields = {k: unescape(v) for k, v in re.findall(r'<input type=hidden name=(\w+) value="([^"]*)"',
                                                     first.body.decode())}
    second = await acs_post(fetch, fields, cookies, path="/team/app/auth/saml/corp/acs")
    assert second.code == 303, second.body
    assert second.headers["Location"] == "/team/app/reports"
