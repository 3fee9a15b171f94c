"""The SAML Service Provider's configuration, metadata, AuthnRequest, Single Logout and
IdP metadata fetching (timeout, size cap, cache)."""

from __future__ import annotations

import base64
import subprocess
import sys
import threading
import zlib
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import ACS, REDIRECT_URI, SP_ENTITY
from crafted_idp import IDP_SLO, IDP_SSO, CraftedIdp
from saml2 import BINDING_HTTP_REDIRECT
from saml2.sigver import verify_redirect_signature

from stauth_server.core.errors import ConfigError
from stauth_server.core.saml.client import SamlClient
from stauth_server.core.saml.config import SamlProviderConfig, parse_saml_provider
from stauth_server.core.saml.errors import SamlUnavailable
from stauth_server.core.saml.metadata import MAX_METADATA_BYTES

ROOT = Path(__file__).resolve().parents[3]


# --- configuration ---------------------------------------------------------------------------

def test_defaults_come_from_redirect_uri(make_provider: Callable[..., SamlProviderConfig]):
    provider = make_provider(sp_key_file=None, sp_cert_file=None)
    assert provider.sp_entity_id == SP_ENTITY
    assert provider.acs_url == ACS
    assert provider.slo_url == "https://app.example.org/base/auth/saml/corp/slo"
    assert provider.metadata_url == "https://app.example.org/base/auth/saml/corp/metadata"
    assert provider.want_assertions_signed and not provider.allow_idp_initiated and not provider.signs_requests
    assert provider.email_attributes == ("mail",) and provider.name_attributes == ("cn", "displayName")
    assert provider.groups_attributes == ("groups", "memberOf") and provider.display_name == "Corp"


def test_settings_are_read(make_provider: Callable[..., SamlProviderConfig]):
    provider = make_provider(sp_entity_id="urn:app", email_attribute="email", groups_attribute=["role", "grp"],
                             name_id_format="persistent", want_assertions_signed=False, display_name="Corp SSO")
    assert provider.sp_entity_id == "urn:app" and provider.email_attributes == ("email",)
    assert provider.groups_attributes == ("role", "grp") and provider.display_name == "Corp SSO"
    assert provider.name_id_format == "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
    assert not provider.want_assertions_signed and provider.signs_requests


@pytest.mark.parametrize(("overrides", "key"), [
    ({"idp_metadata_url": "https://idp.example.org/md"}, "idp_metadata_url"),  # both
    ({"idp_metadata_file": None}, "idp_metadata_url"),  # neither
    ({"idp_metadata_file": None, "idp_metadata_url": "http://idp.example.org/md"}, "idp_metadata_url"),
    ({"idp_metadata_file": "missing.xml"}, "idp_metadata_file"),
    ({"sp_cert_file": None}, "sp_cert_file"),
    ({"sp_key_file": None}, "sp_key_file"),
    ({"want_assertions_signed": "no"}, "want_assertions_signed"),
    ({"allow_idp_initiated": 1}, "allow_idp_initiated"),
    ({"email_attribute": []}, "email_attribute"),
    ({"name_id_format": "email-ish"}, "name_id_format"),
    ({"protocol": "oidc"}, "protocol"),
    ({"sp_entity_id": ""}, "sp_entity_id"),
])
def test_config_errors_name_the_key(make_provider: Callable[..., SamlProviderConfig], overrides: dict, key: str):
    with pytest.raises(ConfigError, match=key):
        make_provider(**overrides)


def test_provider_name_must_fit_in_a_url(saml_dir: Path):
    with pytest.raises(ConfigError, match="name"):
        parse_saml_provider("a/b", {"protocol": "saml", "idp_metadata_file": "idp.xml"},
                            redirect_uri=REDIRECT_URI, app_dir=saml_dir)


def test_loopback_http_metadata_url_is_allowed(saml_dir: Path):
    provider = parse_saml_provider("corp", {"protocol": "saml", "idp_metadata_url": "http://127.0.0.1:8190/md"},
                                   redirect_uri="http://localhost:8501/oauth2callback", app_dir=saml_dir)
    assert provider.sp_entity_id == "http://localhost:8501/" and provider.acs_url == "http://localhost:8501/auth/saml/corp/acs"


def test_core_saml_imports_no_pysaml2():
    code = "import sys, stauth_server.core.saml, stauth_server.core.saml.client; print('saml2' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, timeout=60)
    assert out.stdout.strip() == "False", out.stderr


# --- SP metadata, AuthnRequest, logout ---------------------------------------------------------

def test_sp_metadata_names_entity_acs_slo_and_signing_cert(sp: SamlClient, saml_dir: Path):
    xml = sp.metadata_xml()
    assert f'entityID="{SP_ENTITY}"' in xml
    assert f'Location="{ACS}"' in xml and "HTTP-POST" in xml
    assert 'Location="https://app.example.org/base/auth/saml/corp/slo"' in xml
    cert_body = "".join((saml_dir / "sp.crt").read_text().splitlines()[1:-1])
    assert cert_body in xml.replace("\n", "")
    assert 'AuthnRequestsSigned="true"' in xml and 'WantAssertionsSigned="true"' in xml


def _query(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def test_authn_request_is_signed_redirect_to_the_idp(sp: SamlClient, idp: CraftedIdp):
    url, request_id = sp.login_redirect("relay-1")
    assert url.startswith(IDP_SSO + "?")
    query = _query(url)
    assert query["RelayState"] == "relay-1" and query["SigAlg"].endswith("rsa-sha256")
    assert idp.server is not None
    sp_cert = idp.server.metadata.certs(SP_ENTITY, "spsso", "signing")[0][1]
    assert verify_redirect_signature(query, idp.server.sec.sec_backend, cert=sp_cert)
    query["RelayState"] = "relay-2"  # a tampered query no longer verifies
    assert not verify_redirect_signature(query, idp.server.sec.sec_backend, cert=sp_cert)
    request = zlib.decompress(base64.b64decode(_query(url)["SAMLRequest"]), -15).decode()
    assert f'ID="{request_id}"' in request and f'AssertionConsumerServiceURL="{ACS}"' in request


def test_unsigned_authn_request_without_sp_key(make_provider: Callable[..., SamlProviderConfig]):
    sp = SamlClient(make_provider(sp_key_file=None, sp_cert_file=None))
    url, request_id = sp.login_redirect("r")
    assert request_id and "Signature" not in _query(url)


def test_single_logout_request_is_signed_redirect(sp: SamlClient, idp: CraftedIdp):
    logout = {"name_id": "alice@example.org", "format": "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
              "session_index": "_s1"}
    found = sp.logout_redirect(logout, "after")
    assert found is not None
    url, request_id = found
    assert url.startswith(IDP_SLO + "?")
    assert idp.server is not None
    request = idp.server.parse_logout_request(_query(url)["SAMLRequest"], BINDING_HTTP_REDIRECT)
    assert request.message.id == request_id and request.message.name_id.text == "alice@example.org"
    assert [index.text for index in request.message.session_index] == ["_s1"]
    assert "Signature" in _query(url)
    assert sp.logout_redirect(None, "after") is None


def test_logout_response_is_checked_against_our_request(sp: SamlClient, idp: CraftedIdp):
    url, request_id = sp.logout_redirect({"name_id": "alice@example.org"}, "after") or ("", "")
    assert idp.server is not None
    request = idp.server.parse_logout_request(_query(url)["SAMLRequest"], BINDING_HTTP_REDIRECT)
    answer = idp.server.create_logout_response(request.message, [BINDING_HTTP_REDIRECT])
    info = idp.server.apply_binding(BINDING_HTTP_REDIRECT, str(answer), "https://app.example.org/base/auth/saml/corp/slo",
                                    "after", response=True)
    query = urlsplit(dict(info["headers"])["Location"]).query
    assert sp.logout_response_ok(query, request_id)
    assert not sp.logout_response_ok(query, "id-other")
    assert not sp.logout_response_ok("SAMLResponse=garbage", request_id)


# --- IdP metadata from a URL -------------------------------------------------------------------

@pytest.fixture
def metadata_server(idp: CraftedIdp) -> Iterator[dict]:
    state = {"body": idp.metadata_xml.encode(), "hits": 0, "status": 200}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            state["hits"] += 1
            self.send_response(state["status"])
            self.send_header("Content-Length", str(len(state["body"])))
            self.end_headers()
            self.wfile.write(state["body"])

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state["url"] = f"http://127.0.0.1:{server.server_address[1]}/md"
    yield state
    server.shutdown()
    server.server_close()


def _url_client(saml_dir: Path, url: str) -> SamlClient:
    return SamlClient(parse_saml_provider("corp", {"protocol": "saml", "idp_metadata_url": url},
                                         redirect_uri=REDIRECT_URI, app_dir=saml_dir))


def test_metadata_url_is_fetched_once_and_cached(saml_dir: Path, metadata_server: dict):
    sp = _url_client(saml_dir, metadata_server["url"])
    assert sp.login_redirect_blocks()
    assert sp.login_redirect("r")[0].startswith(IDP_SSO)
    assert not sp.login_redirect_blocks()
    sp.login_redirect("r")
    assert metadata_server["hits"] == 1


def test_oversized_metadata_is_refused(saml_dir: Path, metadata_server: dict):
    metadata_server["body"] = b"<x>" + b" " * MAX_METADATA_BYTES + b"</x>"
    with pytest.raises(SamlUnavailable):
        _url_client(saml_dir, metadata_server["url"]).login_redirect("r")


def test_metadata_errors_are_unavailable_not_crashes(saml_dir: Path, metadata_server: dict):
    metadata_server["status"] = 500
    with pytest.raises(SamlUnavailable):
        _url_client(saml_dir, metadata_server["url"]).login_redirect("r")
    metadata_server["status"] = 200
    metadata_server["body"] = b"<not-metadata/>"
    with pytest.raises(SamlUnavailable):
        _url_client(saml_dir, metadata_server["url"]).login_redirect("r")
    metadata_server["body"] = b'<!DOCTYPE x [<!ENTITY e "e">]><x>&e;</x>'
    with pytest.raises(SamlUnavailable):
        _url_client(saml_dir, metadata_server["url"]).login_redirect("r")


def test_logout_without_reachable_metadata_is_just_local(saml_dir: Path):
    sp = _url_client(saml_dir, "http://127.0.0.1:9/md")
    assert sp.logout_redirect({"name_id": "alice@example.org"}, "after") is None


# --- the login in flight -------------------------------------------------------------------------

def test_login_request_round_trips_and_refuses_other_shapes():
    from stauth_server.core.saml.login import SamlLoginRequest

    login = SamlLoginRequest.new("corp", SamlLoginRequest.new_state(), "id-1", "/page")
    assert SamlLoginRequest.from_dict(login.to_dict()) == login
    assert len(login.state) <= 80
    oidc_shaped = {"provider": "corp", "state": "s", "nonce": "n", "code_verifier": "v", "next_path": "/", "created": 1.0}
    assert SamlLoginRequest.from_dict(oidc_shaped) is None
    assert SamlLoginRequest.from_dict({**login.to_dict(), "request_id": 5}) is None
    assert SamlLoginRequest.from_dict({**login.to_dict(), "created": True}) is None


@pytest.mark.parametrize(("relay", "ok"), [("a" * 43, True), ("a" * 81, False), ("", False), (None, False),
                                           ("short", False), ("../../etc/passwd-aaaaaaaa", False),
                                           ("a" * 40 + "\r\n", False)])
def test_relay_state_shape(relay: object, ok: bool):
    from stauth_server.core.saml.login import relay_state_ok

    assert relay_state_ok(relay) is ok


def test_missing_xmlsec1_is_a_config_error(monkeypatch: pytest.MonkeyPatch):
    from stauth_server.core.saml import support

    assert support.require_saml_support().endswith("xmlsec1")
    monkeypatch.setattr(support.shutil, "which", lambda name: None)
    with pytest.raises(ConfigError, match="xmlsec1"):
        support.require_saml_support()
