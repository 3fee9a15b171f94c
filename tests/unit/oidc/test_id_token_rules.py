"""ID token validation (OIDC Core 3.1.3.7), each rule broken by the fake OP in turn.

Every test runs a whole login through ``OIDCClient`` (authorization URL, consent, code
exchange) so the defect arrives where a real one would: in the token endpoint's answer.
"""

from __future__ import annotations

import time

import pytest
from fake_op import ATTACKER_KEY, DROP, KEYS, public_jwk
from rp_helpers import FakeClock, sign_in

from stauth_server.core.oidc.errors import SignInError, TokenRejected
from stauth_server.core.oidc.id_token import LEEWAY_SECONDS
from stauth_server.core.oidc.metadata import KeySet


def test_an_honest_id_token_signs_the_user_in(client, op):
    signin = sign_in(client, op)
    assert (signin.issuer, signin.subject) == (op.issuer, "user-123")
    assert signin.claims["email"] == "alice@example.org"
    assert signin.tokens["access_token"] and signin.tokens["id_token"]


def test_a_flipped_signature_byte_is_rejected(client, op):
    op.signing = "flip-signature"
    with pytest.raises(TokenRejected, match="signature"):
        sign_in(client, op)


def test_a_token_signed_by_a_key_the_op_never_published_is_rejected(client, op):
    op.signing = "attacker-key"  # same kid as the published key, another private key
    with pytest.raises(TokenRejected, match="signature"):
        sign_in(client, op)


def test_alg_none_is_rejected(client, op):
    op.signing = "none"
    with pytest.raises(TokenRejected, match="algorithm 'none'"):
        sign_in(client, op)


def test_alg_none_is_rejected_even_when_the_op_advertises_it(client, op):
    op.signing = "none"
    op.discovery["id_token_signing_alg_values_supported"] = ["none", "RS256"]
    with pytest.raises(TokenRejected, match="algorithm 'none'"):
        sign_in(client, op)


def test_hs256_keyed_with_the_rsa_public_key_pem_is_rejected(client, op):
    op.signing = "hs256-public-pem"  # the classic RS256 -> HS256 key confusion
    with pytest.raises(TokenRejected, match="algorithm 'HS256'"):
        sign_in(client, op)


def test_hs256_is_rejected_even_when_the_op_advertises_it(client, op):
    op.signing = "hs256-public-pem"
    op.discovery["id_token_signing_alg_values_supported"] = ["HS256", "RS256"]
    with pytest.raises(TokenRejected, match="algorithm 'HS256'"):
        sign_in(client, op)


def test_an_algorithm_the_op_does_not_advertise_is_rejected(client, op):
    op.discovery["id_token_signing_alg_values_supported"] = ["ES256"]
    with pytest.raises(TokenRejected, match="RS256"):
        sign_in(client, op)


def test_a_wrong_issuer_is_rejected(client, op):
    op.claim_changes["iss"] = "https://evil.example.test"
    with pytest.raises(TokenRejected, match="issuer"):
        sign_in(client, op)


def test_an_issuer_that_is_only_a_prefix_of_ours_is_rejected(client, op):
    op.claim_changes["iss"] = "https://op.example"  # a substring of https://op.example.test
    with pytest.raises(TokenRejected, match="issuer"):
        sign_in(client, op)


def test_a_missing_issuer_is_rejected(client, op):
    op.claim_changes["iss"] = DROP
    with pytest.raises(TokenRejected):
        sign_in(client, op)


def test_an_audience_without_our_client_id_is_rejected(client, op):
    op.claim_changes["aud"] = "another-client"
    with pytest.raises(TokenRejected, match="audience"):
        sign_in(client, op)


def test_several_audiences_without_azp_are_rejected(client, op):
    op.claim_changes["aud"] = [op.client_id, "another-client"]
    with pytest.raises(TokenRejected, match="azp"):
        sign_in(client, op)


def test_several_audiences_with_azp_naming_us_are_accepted(client, op):
    op.claim_changes.update(aud=[op.client_id, "another-client"], azp=op.client_id)
    assert sign_in(client, op).subject == "user-123"


def test_an_azp_that_is_not_our_client_is_rejected(client, op):
    op.claim_changes.update(aud=[op.client_id, "another-client"], azp="another-client")
    with pytest.raises(TokenRejected, match="azp"):
        sign_in(client, op)


def test_an_azp_not_ours_is_rejected_with_a_single_audience_too(client, op):
    op.claim_changes["azp"] = "another-client"
    with pytest.raises(TokenRejected, match="azp"):
        sign_in(client, op)


def test_an_expired_id_token_is_rejected(client, op):
    now = int(time.time())
    op.claim_changes.update(iat=now - 7200, exp=now - 10 * LEEWAY_SECONDS)
    with pytest.raises(TokenRejected, match="expired"):
        sign_in(client, op)


def test_an_id_token_expired_within_the_leeway_is_accepted(client, op):
    now = int(time.time())
    op.claim_changes.update(iat=now - 3600, exp=now - LEEWAY_SECONDS // 4)
    assert sign_in(client, op).subject == "user-123"


def test_an_id_token_without_exp_is_rejected(client, op):
    op.claim_changes["exp"] = DROP
    with pytest.raises(TokenRejected, match="exp"):
        sign_in(client, op)


def test_an_iat_in_the_future_beyond_the_leeway_is_rejected(client, op):
    now = int(time.time())
    op.claim_changes.update(iat=now + 10 * LEEWAY_SECONDS, exp=now + 7200)
    with pytest.raises(TokenRejected, match="future"):
        sign_in(client, op)


def test_an_iat_slightly_ahead_within_the_leeway_is_accepted(client, op):
    op.claim_changes["iat"] = int(time.time()) + LEEWAY_SECONDS // 4  # clock skew
    assert sign_in(client, op).subject == "user-123"


def test_an_id_token_without_iat_is_rejected(client, op):
    op.claim_changes["iat"] = DROP
    with pytest.raises(TokenRejected, match="iat"):
        sign_in(client, op)


def test_an_nbf_in_the_future_is_rejected(client, op):
    op.claim_changes["nbf"] = int(time.time()) + 10 * LEEWAY_SECONDS
    with pytest.raises(TokenRejected, match="future"):
        sign_in(client, op)


def test_a_nonce_that_is_not_the_logins_is_rejected(client, op):
    op.claim_changes["nonce"] = "a-nonce-from-another-login"
    with pytest.raises(TokenRejected, match="nonce"):
        sign_in(client, op)


def test_a_missing_nonce_is_rejected(client, op):
    op.claim_changes["nonce"] = DROP
    with pytest.raises(TokenRejected, match="nonce"):
        sign_in(client, op)


def test_a_missing_sub_is_rejected(client, op):
    op.claim_changes["sub"] = DROP
    with pytest.raises(TokenRejected, match="sub"):
        sign_in(client, op)


@pytest.mark.parametrize("sub", ["", 42, None, ["user-123"]])
def test_an_empty_or_non_string_sub_is_rejected(client, op, sub):
    del op.discovery["userinfo_endpoint"]  # the ID token alone must be refused
    op.claim_changes["sub"] = sub
    with pytest.raises(TokenRejected):
        sign_in(client, op)


def test_a_token_response_without_id_token_is_rejected(client, op):
    op.token_extra["id_token"] = None
    with pytest.raises(TokenRejected, match="id_token"):
        sign_in(client, op)


@pytest.mark.parametrize("garbage", ["", "not-a-jwt", "a.b.c", "e30.e30.", "\u00e9.\u00e9.\u00e9"])
def test_a_malformed_id_token_is_rejected_not_crashing(client, op, garbage):
    op.token_extra["id_token"] = garbage
    with pytest.raises(TokenRejected):
        sign_in(client, op)


def test_a_non_string_kid_is_rejected(client, op):
    op.header_changes["kid"] = 7
    with pytest.raises(TokenRejected, match="(?i)kid|key id"):
        sign_in(client, op)


# --- which key: kid, rotation, refetch -------------------------------------------------


def test_a_missing_kid_is_rejected_when_the_jwks_has_several_keys(client, op):
    op.published = ["key-1", "key-2"]
    op.header_changes["kid"] = DROP
    with pytest.raises(TokenRejected, match="no signing key"):
        sign_in(client, op)


def test_a_missing_kid_is_accepted_when_the_jwks_has_exactly_one_key(client, op):
    op.header_changes["kid"] = DROP
    assert sign_in(client, op).subject == "user-123"


def test_an_unknown_kid_refetches_the_jwks_once_and_accepts_the_rotated_key(client, op):
    sign_in(client, op)
    assert op.fetches["jwks"] == 1
    op.rotate_to("key-2")  # the OP rotates: new key, old one retired
    assert sign_in(client, op).subject == "user-123"
    assert op.fetches["jwks"] == 2


def test_an_unknown_kid_that_stays_unknown_is_rejected_after_at_most_two_fetches(client, op):
    op.header_changes["kid"] = "kid-nobody-published"
    with pytest.raises(TokenRejected, match="no signing key"):
        sign_in(client, op)
    assert op.fetches["jwks"] <= 2
    with pytest.raises(TokenRejected, match="no signing key"):
        sign_in(client, op)  # a flood of unknown kids does not hammer the OP
    assert op.fetches["jwks"] <= 2


def test_a_known_kid_does_not_refetch_the_jwks(client, op):
    for _ in range(3):
        sign_in(client, op)
    assert op.fetches["jwks"] == 1


class _CountingJWKS:
    def __init__(self, jwks):
        self.jwks = jwks
        self.fetches = 0

    def get_json(self, url, *, headers=None, what):
        self.fetches += 1
        return self.jwks


def test_unknown_kid_refetches_are_rate_limited_then_allowed_again():
    clock = FakeClock()
    http = _CountingJWKS({"keys": [public_jwk("key-1", KEYS["key-1"])]})
    keys = KeySet(http, clock=clock)
    keys.key_for("https://op/jwks", "key-1", "RS256")
    with pytest.raises(TokenRejected):
        keys.key_for("https://op/jwks", "key-2", "RS256")
    assert http.fetches == 2
    with pytest.raises(TokenRejected):
        keys.key_for("https://op/jwks", "key-2", "RS256")
    assert http.fetches == 2  # within the refetch interval: no new fetch
    clock.now += 60
    http.jwks = {"keys": [public_jwk("key-2", KEYS["key-2"])]}
    assert keys.key_for("https://op/jwks", "key-2", "RS256") is not None
    assert http.fetches == 3


def test_a_jwk_marked_for_encryption_is_not_used_to_verify(client, op):
    op.jwks_override = {"keys": [public_jwk("key-1", KEYS["key-1"], use="enc")]}
    with pytest.raises(TokenRejected, match="no signing key"):
        sign_in(client, op)


def test_a_jwk_declared_for_another_alg_is_not_used(client, op):
    op.jwks_override = {"keys": [public_jwk("key-1", KEYS["key-1"], alg="PS256")]}
    with pytest.raises(TokenRejected, match="no signing key"):
        sign_in(client, op)


@pytest.mark.parametrize("jwks", [
    {"keys": None}, {"keys": "abc"}, {"keys": {"kid": "key-1"}}, {"keys": [None, 3, "x"]}, [], "jwks", None,
    {"keys": [{"kid": "key-1", "kty": "RSA", "alg": "RS256"}]},  # no modulus
    {"keys": [{"kid": "key-1", "kty": "oct", "alg": "RS256", "k": "c2VjcmV0"}]},
])
def test_a_hostile_jwks_document_rejects_the_token_without_crashing(client, op, jwks):
    op.jwks_override = jwks
    with pytest.raises(SignInError):
        sign_in(client, op)


def test_a_key_embedded_in_the_token_header_is_never_trusted(client, op):
    op.signing = "attacker-key"
    op.header_changes["jwk"] = public_jwk("key-1", ATTACKER_KEY)  # "verify me with this"
    op.header_changes["jku"] = "https://evil.example.test/jwks"
    with pytest.raises(TokenRejected, match="signature"):
        sign_in(client, op)


def test_an_unknown_critical_header_extension_is_rejected(client, op):
    op.header_changes.update(crit=["urn:example:must-understand"], **{"urn:example:must-understand": True})
    with pytest.raises(TokenRejected, match="(?i)critical"):
        sign_in(client, op)


def test_an_id_token_for_another_client_of_the_same_op_cannot_be_replayed_to_us(client, op):
    # A token the OP minted for another app (aud=that app), replayed at our token response.
    op.claim_changes.update(aud="another-client", azp="another-client")
    with pytest.raises(TokenRejected):
        sign_in(client, op)


def test_the_leeway_is_small_five_minutes_of_expiry_is_too_much(client, op):
    now = int(time.time())
    op.claim_changes.update(iat=now - 3600, exp=now - 300)
    with pytest.raises(TokenRejected, match="expired"):
        sign_in(client, op)


def test_the_leeway_is_small_an_iat_five_minutes_ahead_is_too_much(client, op):
    now = int(time.time())
    op.claim_changes.update(iat=now + 300, exp=now + 3600)
    with pytest.raises(TokenRejected, match="future"):
        sign_in(client, op)
