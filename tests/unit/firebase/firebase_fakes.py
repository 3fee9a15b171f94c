"""Firebase test doubles: keys the tests make, served like Google's keys URL, and tokens
signed (or, as the Auth Emulator makes them, not signed) with them."""

from __future__ import annotations

import base64
import datetime as dt
import json
import time

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from stauth_server.core.firebase.config import parse_firebase_provider

PROJECT = "demo-project"
ISSUER = f"https://securetoken.google.com/{PROJECT}"


def certificate(key) -> str:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "securetoken.system.gserviceaccount.com")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1)).sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


class FakeKeysHTTP:
    """Answers the keys URL like Google does: ``{kid: PEM}`` with a Cache-Control max-age."""

    def __init__(self, keys: dict[str, str], max_age: int | None = 3600):
        self.keys, self.max_age, self.fetches = keys, max_age, 0

    def get_json_and_max_age(self, url, *, what):
        self.fetches += 1
        return dict(self.keys), self.max_age


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def config(**extra):
    return parse_firebase_provider("firebase", {"provider": "firebase", "project_id": PROJECT, "api_key": "k",
                                                **extra}, "[auth.firebase]")


def claims(**changes):
    now = int(time.time())
    base = {"iss": ISSUER, "aud": PROJECT, "sub": "uid-alice", "iat": now - 10, "exp": now + 3600,
            "auth_time": now - 20, "email": "alice@example.org", "email_verified": False,
            "firebase": {"sign_in_provider": "password"}}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def signed(key=KEY, kid="k1", alg="RS256", **changes) -> str:
    return jwt.encode(claims(**changes), key, algorithm=alg, headers={"kid": kid})


def unsigned(**changes) -> str:
    head = base64.urlsafe_b64encode(json.dumps({"alg": "none", "typ": "JWT"}).encode()).rstrip(b"=").decode()
    body = base64.urlsafe_b64encode(json.dumps(claims(**changes)).encode()).rstrip(b"=").decode()
    return f"{head}.{body}."


