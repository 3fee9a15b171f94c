"""Firebase ID token verification: every refusal Firebase documents for third-party JWT
libraries, each as the forged or foreign token an attacker would send. Tokens are signed
with keys the test makes; the keys are served as ``keys_url`` answers through a fake HTTP."""

from __future__ import annotations

import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from firebase_fakes import KEY, OTHER_KEY, PROJECT, Clock, FakeKeysHTTP, certificate, claims, config, signed, unsigned

from stauth_server.core.errors import ConfigError
from stauth_server.core.firebase.config import parse_firebase_provider
from stauth_server.core.firebase.keys import DEFAULT_MAX_AGE, REFETCH_INTERVAL, FirebaseKeys
from stauth_server.core.firebase.tokens import verify_firebase_token
from stauth_server.core.oidc.errors import TokenRejected
from stauth_server.core.oidc.transport import max_age

ISSUER = f"https://securetoken.google.com/{PROJECT}"


@pytest.fixture
def keys():
    return FirebaseKeys("https://keys.example/", http=FakeKeysHTTP({"k1": certificate(KEY)}))


def test_a_valid_token_names_the_firebase_user(keys):
    signin = verify_firebase_token(signed(), config(), keys)
    assert (signin.issuer, signin.subject) == (ISSUER, "uid-alice")
    assert signin.claims["email"] == "alice@example.org"


@pytest.mark.parametrize("token, reason", [
    (lambda: signed(exp=int(time.time()) - 120), "expired"),
    (lambda: signed(iat=int(time.time()) + 600), "future"),
    (lambda: signed(auth_time=int(time.time()) + 600), "auth_time"),
    (lambda: signed(auth_time=None), "auth_time"),
    (lambda: signed(aud="another-project"), "audience"),
    (lambda: signed(iss="https://securetoken.google.com/another-project"), "issuer"),
    (lambda: signed(iss="https://evil.example/demo-project"), "issuer"),
    (lambda: signed(sub=""), "sub"),
    (lambda: signed(sub="x" * 129), "sub"),
    (lambda: signed(key=OTHER_KEY), "bad signature"),  # right kid, another key
    (lambda: signed(kid="unknown"), "no published key"),
    (lambda: signed(key=ec.generate_private_key(ec.SECP256R1()), alg="ES256"), "algorithm"),
    (lambda: jwt.encode(claims(), "a-shared-secret-of-32-bytes-long!", algorithm="HS256", headers={"kid": "k1"}),
     "algorithm"),
    (lambda: unsigned(), "unsigned"),  # no emulator configured: alg none never passes
    (lambda: "not.a.token", "malformed"),
    (lambda: "", "missing"),
    (lambda: "a" * 20000, "missing"),
    (lambda: 42, "missing"),
])
def test_forged_foreign_or_stale_tokens_are_refused(keys, token, reason):
    with pytest.raises(TokenRejected, match=reason) as refused:
        verify_firebase_token(token(), config(), keys)
    assert refused.value.status == 400 and refused.value.user_message


def test_require_email_verified_refuses_an_unverified_address(keys):
    with pytest.raises(TokenRejected, match="not verified"):
        verify_firebase_token(signed(), config(require_email_verified=True), keys)
    assert verify_firebase_token(signed(email_verified=True), config(require_email_verified=True), keys)


def test_the_emulator_accepts_its_unsigned_tokens_for_this_project_only(keys):
    emulated = config(emulator_host="127.0.0.1:9099")
    assert verify_firebase_token(unsigned(), emulated, keys).subject == "uid-alice"
    for changes, reason in (({"aud": "other"}, "audience"), ({"iss": "https://securetoken.google.com/other"}, "issuer"),
                            ({"exp": int(time.time()) - 120}, "expired")):
        with pytest.raises(TokenRejected, match=reason):
            verify_firebase_token(unsigned(**changes), emulated, keys)
    with pytest.raises(TokenRejected, match="bad signature"):  # a signed token is still verified
        verify_firebase_token(signed(key=OTHER_KEY), emulated, keys)


def test_keys_are_cached_for_their_max_age_and_an_unknown_kid_refetches_at_most_once_a_minute():
    clock = Clock()
    http = FakeKeysHTTP({"k1": certificate(KEY)}, max_age=600)
    keys = FirebaseKeys("https://keys.example/", http=http, clock=clock)
    keys.key_for("k1")
    keys.key_for("k1")
    assert http.fetches == 1
    http.keys = {"k2": certificate(OTHER_KEY)}  # Google rotated
    clock.now += 1
    assert keys.key_for("k2") is not None and http.fetches == 2  # unknown kid: fetched again
    with pytest.raises(TokenRejected):
        keys.key_for("k1")  # the retired key is gone
    for _ in range(5):  # a flood of unknown kids costs one fetch a minute
        with pytest.raises(TokenRejected):
            keys.key_for("forged")
    assert http.fetches == 2
    clock.now += REFETCH_INTERVAL
    with pytest.raises(TokenRejected):
        keys.key_for("forged")
    assert http.fetches == 3
    clock.now += 600
    keys.key_for("k2")
    assert http.fetches == 4  # max-age passed


def test_max_age_reads_cache_control():
    assert max_age("public, max-age=19302, must-revalidate, no-transform") == 19302
    assert max_age("no-store, max-age=60") is None
    assert max_age("max-age=abc") is None and max_age("") is None
    assert DEFAULT_MAX_AGE == 3600


def test_a_broken_key_entry_does_not_void_the_others():
    keys = FirebaseKeys("u", http=FakeKeysHTTP({"bad": "-----BEGIN CERTIFICATE-----\nxx\n", "k1": certificate(KEY)}))
    assert verify_firebase_token(signed(), config(), keys).subject == "uid-alice"


@pytest.mark.parametrize("table, key", [
    ({}, "project_id"),
    ({"project_id": "p"}, "api_key"),
    ({"project_id": "bad project", "api_key": "k"}, "project_id"),
    ({"project_id": "p", "api_key": "k", "sign_in_methods": ["passwd"]}, "sign_in_methods"),
    ({"project_id": "p", "api_key": "k", "sign_in_methods": []}, "sign_in_methods"),
    ({"project_id": "p", "api_key": "k", "emulator_host": "10.0.0.5:9099"}, "emulator_host"),
    ({"project_id": "p", "api_key": "k", "emulator_host": "emulator.example.org:9099"}, "emulator_host"),
    ({"project_id": "p", "api_key": "k", "emulator_host": "127.0.0.1"}, "emulator_host"),
    ({"project_id": "p", "api_key": "k", "sdk_url": "http://cdn.example.org/fb/"}, "sdk_url"),
    ({"project_id": "p", "api_key": "k", "keys_url": "ftp://x"}, "keys_url"),
    ({"project_id": "p", "api_key": "k\"><script>"}, "api_key"),
    ({"project_id": "p", "api_key": "k", "require_email_verified": "yes"}, "require_email_verified"),
])
def test_a_wrong_config_names_the_key(table, key):
    with pytest.raises(ConfigError, match=key):
        parse_firebase_provider("firebase", {"provider": "firebase", **table}, "[auth.firebase]")


def test_loopback_emulator_hosts_are_accepted():
    for host in ("127.0.0.1:9099", "localhost:9099", "[::1]:9099"):
        assert config(emulator_host=host).emulator_host == host
