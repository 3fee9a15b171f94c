"""A SAML IdP for the unit tests: keys and certificates generated here with ``cryptography``,
pysaml2's own ``saml2.server.Server`` for genuine responses, and a template whose assertion
is signed by the IdP's key (pysaml2 + xmlsec1) for the hostile variants."""

from __future__ import annotations

import base64
import datetime
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.metadata import create_metadata_string
from saml2.server import Server
from saml2.sigver import pre_signature_part
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

IDP_ENTITY = "https://idp.example.test/saml/metadata"
IDP_SSO = "https://idp.example.test/saml/sso"
IDP_SLO = "https://idp.example.test/saml/slo"
ASSERTION_NODE = "urn:oasis:names:tc:SAML:2.0:assertion:Assertion"
EMAIL_FORMAT = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
PERSISTENT_FORMAT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"


def key_and_cert(folder: Path, stem: str, common_name: str) -> tuple[Path, Path]:
    """A fresh RSA key and self-signed certificate, written as PEM files."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30)).sign(key, hashes.SHA256()))
    key_path, cert_path = folder / f"{stem}.key", folder / f"{stem}.crt"
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                           serialization.NoEncryption()))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


def stamp(offset: float = 0.0) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + offset))


def _idp_config(key: Path, cert: Path, sp_metadata: str | None, entity: str = IDP_ENTITY) -> IdPConfig:
    config = {
        "entityid": entity,
        "key_file": str(key),
        "cert_file": str(cert),
        "signing_algorithm": SIG_RSA_SHA256,
        "digest_algorithm": DIGEST_SHA256,
        "allow_unknown_attributes": True,
        "service": {"idp": {
            "endpoints": {
                "single_sign_on_service": [(IDP_SSO, BINDING_HTTP_REDIRECT)],
                "single_logout_service": [(IDP_SLO, BINDING_HTTP_REDIRECT)],
            },
            "name_id_format": [EMAIL_FORMAT, PERSISTENT_FORMAT],
            "policy": {"default": {"lifetime": {"minutes": 5}, "attribute_restrictions": None,
                                   "name_form": "urn:oasis:names:tc:SAML:2.0:attrname-format:basic"}},
        }},
    }
    if sp_metadata is not None:
        config["metadata"] = {"inline": [sp_metadata]}
    idp = IdPConfig()
    idp.load(config)
    return idp


@dataclass
class CraftedIdp:
    """The IdP: its metadata for the SP, and responses, genuine or hostile."""

    key: Path
    cert: Path
    metadata_xml: str
    server: Server | None = None

    @classmethod
    def create(cls, folder: Path, stem: str = "idp", entity: str = IDP_ENTITY) -> CraftedIdp:
        key, cert = key_and_cert(folder, stem, "test IdP")
        metadata = create_metadata_string(None, config=_idp_config(key, cert, None, entity)).decode()
        return cls(key=key, cert=cert, metadata_xml=metadata)

    def serve(self, sp_metadata: str) -> Server:
        """pysaml2's IdP, knowing the SP from its metadata."""
        self.server = Server(config=_idp_config(self.key, self.cert, sp_metadata))
        return self.server

    def sign(self, xml: str, assertion_id: str) -> str:
        """The document with the assertion ``assertion_id`` signed by this IdP's key."""
        assert self.server is not None
        return self.server.sec.sign_statement(xml, node_name=ASSERTION_NODE, node_id=assertion_id)

    def response(self, *, acs: str, audience: str, in_response_to: str | None, name_id: str = "alice@example.org",
                 name_id_format: str = EMAIL_FORMAT, attributes: dict[str, list[str]] | None = None,
                 issuer: str = IDP_ENTITY, destination: str | None = None, recipient: str | None = None,
                 not_before: float = -60, not_on_or_after: float = 300, status: str = "Success",
                 signed: bool = True, assertion_id: str | None = None,
                 mutate: Callable[[str], str] | None = None) -> str:
        """A Response (XML text) with one assertion, signed unless ``signed=False``; times
        are offsets from now in seconds; ``mutate`` edits the XML before it is signed."""
        aid = assertion_id or f"_a{uuid.uuid4().hex}"
        irt = f' InResponseTo="{in_response_to}"' if in_response_to else ""
        dest = f' Destination="{destination or acs}"' if destination != "" else ""
        attrs = "".join(
            f'<saml:Attribute Name="{name}" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:basic">'
            + "".join(f"<saml:AttributeValue>{value}</saml:AttributeValue>" for value in values)
            + "</saml:Attribute>"
            for name, values in (attributes if attributes is not None else {}).items())
        signature = ""
        if signed:
            assert self.server is not None
            signature = pre_signature_part(aid, self.server.sec.my_cert, 1, DIGEST_SHA256, SIG_RSA_SHA256).to_string().decode()
        xml = (
            '<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
            'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" '
            f'ID="_r{uuid.uuid4().hex}" Version="2.0" IssueInstant="{stamp()}"{dest}{irt}>'
            f"<saml:Issuer>{issuer}</saml:Issuer>"
            f'<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:{status}"/></samlp:Status>'
            f'<saml:Assertion ID="{aid}" Version="2.0" IssueInstant="{stamp()}">'
            f"<saml:Issuer>{issuer}</saml:Issuer>{signature}"
            f'<saml:Subject><saml:NameID Format="{name_id_format}">{name_id}</saml:NameID>'
            '<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">'
            f'<saml:SubjectConfirmationData{irt} NotOnOrAfter="{stamp(not_on_or_after)}" '
            f'Recipient="{recipient or acs}"/></saml:SubjectConfirmation></saml:Subject>'
            f'<saml:Conditions NotBefore="{stamp(not_before)}" NotOnOrAfter="{stamp(not_on_or_after)}">'
            f"<saml:AudienceRestriction><saml:Audience>{audience}</saml:Audience></saml:AudienceRestriction>"
            "</saml:Conditions>"
            f'<saml:AuthnStatement AuthnInstant="{stamp()}" SessionIndex="_s{uuid.uuid4().hex}">'
            "<saml:AuthnContext><saml:AuthnContextClassRef>"
            "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
            "</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>"
            + (f"<saml:AttributeStatement>{attrs}</saml:AttributeStatement>" if attrs else "")
            + "</saml:Assertion></samlp:Response>"
        )
        if mutate is not None:
            xml = mutate(xml)
        return self.sign(xml, aid) if signed else xml


def b64(xml: str) -> str:
    return base64.b64encode(xml.encode()).decode()


__all__ = ["BINDING_HTTP_POST", "CraftedIdp", "b64", "key_and_cert", "stamp"]
