"""A software WebAuthn authenticator for tests: P-256 keys (``cryptography``), CBOR (``cbor2``).

It answers the server's options the way a browser plus a platform authenticator would
(``PublicKeyCredential`` as JSON, binary fields base64url), and lets a test forge what a
real one never would: another origin, another RP ID, no user verification, a sign count
that goes backwards, another user handle.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

UP, UV, AT = 0x01, 0x04, 0x40


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class SoftCredential:
    """One credential the authenticator holds (discoverable: it keeps the user handle)."""

    credential_id: bytes
    key: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
    rp_id: str
    user_handle: bytes
    sign_count: int = 0

    def sign(self, data: bytes) -> bytes:
        if isinstance(self.key, ed25519.Ed25519PrivateKey):
            return self.key.sign(data)
        return self.key.sign(data, ec.ECDSA(hashes.SHA256()))

    def cose_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()  # (created here: always P-256)
        return cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")})


@dataclass
class SoftAuthenticator:
    """Creates and uses credentials; ``counting=False``: an authenticator that keeps its count at 0."""

    counting: bool = True
    credentials: list[SoftCredential] = field(default_factory=list)

    def create(self, options: dict[str, Any], origin: str, *, rp_id: str | None = None,
               verified: bool = True, credential_id: bytes | None = None) -> dict[str, Any]:
        """``navigator.credentials.create`` for the server's creation options."""
        rp_id = rp_id or options["rp"]["id"]
        credential = SoftCredential(credential_id or os.urandom(16), ec.generate_private_key(ec.SECP256R1()), rp_id,
                                    unb64url(options["user"]["id"]))
        self.credentials.append(credential)
        client_data = _client_data("webauthn.create", options["challenge"], origin)
        auth_data = (hashlib.sha256(rp_id.encode()).digest() + bytes([UP | AT | (UV if verified else 0)])
                     + struct.pack(">I", credential.sign_count) + bytes(16)
                     + struct.pack(">H", len(credential.credential_id)) + credential.credential_id
                     + credential.cose_key())
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return {"id": b64url(credential.credential_id), "rawId": b64url(credential.credential_id),
                "type": "public-key", "clientExtensionResults": {},
                "response": {"clientDataJSON": b64url(client_data), "attestationObject": b64url(attestation),
                             "transports": ["internal"]}}

    def get(self, options: dict[str, Any], origin: str, *, credential: SoftCredential | None = None,
            rp_id: str | None = None, verified: bool = True, sign_count: int | None = None,
            user_handle: bytes | None = None) -> dict[str, Any]:
        """``navigator.credentials.get`` for the server's request options (the newest credential
        unless one is named); the keyword arguments forge what a real authenticator would not."""
        credential = credential or self.credentials[-1]
        if sign_count is None:
            if self.counting:
                credential.sign_count += 1
            sign_count = credential.sign_count
        client_data = _client_data("webauthn.get", options["challenge"], origin)
        auth_data = (hashlib.sha256((rp_id or options["rpId"]).encode()).digest()
                     + bytes([UP | (UV if verified else 0)]) + struct.pack(">I", sign_count))
        signature = credential.sign(auth_data + hashlib.sha256(client_data).digest())
        return {"id": b64url(credential.credential_id), "rawId": b64url(credential.credential_id),
                "type": "public-key", "clientExtensionResults": {},
                "response": {"clientDataJSON": b64url(client_data), "authenticatorData": b64url(auth_data),
                             "signature": b64url(signature),
                             "userHandle": b64url(credential.user_handle if user_handle is None else user_handle)}}


def _client_data(kind: str, challenge: str, origin: str) -> bytes:
    return json.dumps({"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": False}).encode()


def private_key_from_pkcs8(der: bytes) -> ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey:
    """A key Chromium's virtual authenticator exports (``WebAuthn.getCredentials``): P-256 or Ed25519."""
    from cryptography.hazmat.primitives.serialization import load_der_private_key

    key = load_der_private_key(der, password=None)
    assert isinstance(key, (ec.EllipticCurvePrivateKey, ed25519.Ed25519PrivateKey))
    return key
