"""The test SAML IdP (LemonLDAP::NG, tests/saml_idp) works as the SAML tests expect it to.

A pysaml2 SP outside streamlit-auth, with a tiny HTTP server as its Assertion Consumer
Service, proves the whole SP-initiated flow in Chromium against the real IdP.
"""

from __future__ import annotations

import base64
import copy
import subprocess
import threading
import urllib.parse
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.etree import ElementTree

import pytest
from cryptography import x509
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NAMEID_FORMAT_EMAILADDRESS
from saml2.sigver import SignatureError
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from .harness import free_port
from .saml_idp import LOGIN_FORM, RunningIdP, run_saml_idp, sign_in_at_idp

MD = "{urn:oasis:names:tc:SAML:2.0:metadata}"
DS = "{http://www.w3.org/2000/09/xmldsig#}"


def _certificate_in_metadata(descriptor: ElementTree.Element) -> x509.Certificate:
    key = descriptor.find(f"{MD}KeyDescriptor[@use='signing']")
    assert key is not None, "no signing KeyDescriptor"
    text = key.find(f"{DS}KeyInfo/{DS}X509Data/{DS}X509Certificate").text
    return x509.load_der_x509_certificate(base64.b64decode("".join(text.split())))


def _idp_descriptor(idp: RunningIdP) -> ElementTree.Element:
    root = ElementTree.fromstring(idp.metadata())
    assert root.get("entityID") == idp.entity_id
    descriptor = root.find(f"{MD}IDPSSODescriptor")
    assert descriptor is not None, "no IDPSSODescriptor"
    return descriptor


def test_metadata_names_the_entity_a_redirect_sso_endpoint_and_the_signing_certificate(tmp_path):
    with run_saml_idp(tmp_path) as first, run_saml_idp(tmp_path) as second:
        descriptor = _idp_descriptor(first)
        sso = {s.get("Binding"): s.get("Location") for s in descriptor.findall(f"{MD}SingleSignOnService")}
        assert sso[BINDING_HTTP_REDIRECT] == first.sso_url
        own_cert = x509.load_pem_x509_certificate((first.dir / "idp-signing.crt").read_bytes())
        assert _certificate_in_metadata(descriptor) == own_cert
        # each IdP folder gets its own key
        assert _certificate_in_metadata(_idp_descriptor(second)) != own_cert


def test_an_idp_that_cannot_start_fails_the_test_with_the_reason(tmp_path):
    with pytest.raises(pytest.fail.Exception, match="has no SPSSODescriptor"):
        with run_saml_idp(tmp_path, "<EntityDescriptor/>"):
            pass


# ---- a pysaml2 SP and its Assertion Consumer Service ----------------------------------------


@dataclass
class AcsCatcher:
    """A tiny HTTP server that keeps the forms POSTed to ``/acs``."""

    port: int = field(default_factory=free_port)
    posts: list[dict[str, str]] = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def handler(self) -> type[BaseHTTPRequestHandler]:
        posts = self.posts

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                if self.path == "/acs":
                    posts.append(dict(urllib.parse.parse_qsl(body)))
                self.send_response(200 if self.path == "/acs" else 404)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"received")

        return Handler


@pytest.fixture
def acs() -> Iterator[AcsCatcher]:
    catcher = AcsCatcher()
    server = ThreadingHTTPServer(("127.0.0.1", catcher.port), catcher.handler())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield catcher
    server.shutdown()
    server.server_close()


def _sp_config(folder: Path, base: str, entity_id: str, idp_metadata: Path | None = None,
               signs_requests: bool = True) -> SPConfig:
    key, cert = folder / "sp.key", folder / "sp.crt"
    if not key.exists():
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "1",
                        "-subj", "/CN=test SP", "-keyout", str(key), "-out", str(cert)],
                       check=True, capture_output=True)
    settings = {
        "entityid": entity_id,
        "key_file": str(key), "cert_file": str(cert),
        "signing_algorithm": SIG_RSA_SHA256, "digest_algorithm": DIGEST_SHA256,
        "allow_unknown_attributes": True,  # the IdP names its attributes uid, mail, cn, groups
        "service": {"sp": {
            "endpoints": {"assertion_consumer_service": [(f"{base}/acs", BINDING_HTTP_POST)],
                          "single_logout_service": [(f"{base}/slo", BINDING_HTTP_REDIRECT)]},
            "authn_requests_signed": signs_requests,
            "want_response_signed": True,
            "want_assertions_signed": True,
            "allow_unsolicited": False,
            "name_id_format": [NAMEID_FORMAT_EMAILADDRESS],
        }},
    }
    if idp_metadata:
        settings["metadata"] = {"local": [str(idp_metadata)]}
    config = SPConfig()
    config.load(copy.deepcopy(settings))
    return config


def _sp_metadata(folder: Path, base: str, entity_id: str, signs_requests: bool = True) -> str:
    config = _sp_config(folder, base, entity_id, signs_requests=signs_requests)
    return create_metadata_string(None, config=config).decode()


def _authn_request_id(redirect_url: str) -> str:
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(redirect_url).query)
    request = ElementTree.fromstring(zlib.decompress(base64.b64decode(query["SAMLRequest"][0]), -15))
    return request.get("ID")


def test_alice_signs_in_at_the_idp_which_posts_a_signed_response_to_the_sp(tmp_path, context, acs):
    entity_id = f"{acs.base}/saml/metadata"
    # start with another SP registered, then register ours on the running IdP
    other = _sp_metadata(tmp_path, "http://127.0.0.1:9", "http://127.0.0.1:9/other-sp")
    with run_saml_idp(tmp_path, other) as idp:
        idp.register_sp(_sp_metadata(tmp_path, acs.base, entity_id))
        (tmp_path / "idp-metadata.xml").write_text(idp.metadata())
        client = Saml2Client(config=_sp_config(tmp_path, acs.base, entity_id, tmp_path / "idp-metadata.xml"))
        page = context.new_page()

        def redirect_to_idp(sign: bool = True) -> tuple[str, str]:
            request_id, info = client.prepare_for_authenticate(
                entityid=idp.entity_id, relay_state="/after", binding=BINDING_HTTP_REDIRECT, sign=sign,
                sigalg=SIG_RSA_SHA256 if sign else None)
            return request_id, dict(info["headers"])["Location"]

        request_id, url = redirect_to_idp()
        assert url.startswith(f"{idp.sso_url}?") and "Signature=" in url and _authn_request_id(url) == request_id
        page.goto(url)
        sign_in_at_idp(page, "alice", "wrong password")
        page.wait_for_selector(LOGIN_FORM["error"])
        assert not acs.posts
        sign_in_at_idp(page, "alice")
        page.wait_for_url(f"{acs.base}/acs")

        # signed in at the IdP, alice's browser carries an unsigned AuthnRequest: the SP's
        # metadata says it signs them, so the IdP refuses it and posts nothing
        _, unsigned_url = redirect_to_idp(sign=False)
        page.goto(unsigned_url)
        page.get_by_text("Error in SAML message signature").wait_for()
        assert page.url.startswith(idp.sso_url) and len(acs.posts) == 1

    form = acs.posts[0]
    assert form["RelayState"] == "/after"
    response = client.parse_authn_request_response(form["SAMLResponse"], BINDING_HTTP_POST,
                                                   outstanding={request_id: "/after"})
    assert response.response.signature is not None and response.assertion.signature is not None
    assert response.issuer() == idp.entity_id and response.in_response_to == request_id
    assert [a.text for r in response.assertion.conditions.audience_restriction for a in r.audience] == [entity_id]
    assert (response.name_id.format, response.name_id.text) == (NAMEID_FORMAT_EMAILADDRESS, "alice@example.org")
    identity = response.get_identity()
    assert identity["uid"] == ["alice"] and identity["mail"] == ["alice@example.org"]
    assert identity["cn"] == ["Alice Example"] and sorted(identity["groups"]) == ["admins", "users"]
    # a tampered copy no longer verifies
    original = base64.b64decode(form["SAMLResponse"])
    assert b">Alice Example<" in original
    tampered = original.replace(b">Alice Example<", b">Mallory Example<")
    with pytest.raises(SignatureError):
        client.parse_authn_request_response(base64.b64encode(tampered).decode(), BINDING_HTTP_POST,
                                            outstanding={request_id: "/after"})


def test_an_sp_that_does_not_sign_its_requests_gets_bob_signed_in(tmp_path, context, acs):
    entity_id = f"{acs.base}/saml/metadata"
    with run_saml_idp(tmp_path, _sp_metadata(tmp_path, acs.base, entity_id, signs_requests=False)) as idp:
        (tmp_path / "idp-metadata.xml").write_text(idp.metadata())
        client = Saml2Client(config=_sp_config(tmp_path, acs.base, entity_id, tmp_path / "idp-metadata.xml",
                                               signs_requests=False))
        request_id, info = client.prepare_for_authenticate(entityid=idp.entity_id, binding=BINDING_HTTP_REDIRECT)
        url = dict(info["headers"])["Location"]
        assert "Signature=" not in url
        page = context.new_page()
        page.goto(url)
        sign_in_at_idp(page, "bob")
        page.wait_for_url(f"{acs.base}/acs")

    [form] = acs.posts
    response = client.parse_authn_request_response(form["SAMLResponse"], BINDING_HTTP_POST,
                                                   outstanding={request_id: "/"})
    assert response.name_id.text == "bob@example.org"
    identity = response.get_identity()
    assert identity["cn"] == ["Bob Example"] and identity["groups"] == ["users"]
