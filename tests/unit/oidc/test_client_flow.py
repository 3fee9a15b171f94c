"""OIDCClient against the fake OP: the authorization request, the authorization response
(RFC 9207 iss), the token endpoint (client authentication, errors), userinfo, refresh and
RP-initiated logout."""

from __future__ import annotations

import base64
import hashlib
import re
import time
from types import MappingProxyType
from urllib.parse import parse_qs, parse_qsl, urlsplit

import pytest
from fake_op import FakeOP
from rp_helpers import REDIRECT_URI, provider_config, sign_in

from stauth_server.core.oidc.client import LoginRequest, OIDCClient
from stauth_server.core.oidc.errors import ProviderUnavailable, SignInError, StateMismatch, TokenRejected


def _query(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


# --- the authorization request -----------------------------------------------------------


def test_the_authorization_url_asks_for_a_code_with_s256_pkce_state_nonce_and_our_redirect_uri(client, op):
    login = LoginRequest.new("op", "/")
    url = client.authorization_url(login)
    assert url.startswith(op.authorization_endpoint + "?")
    query = _query(url)
    assert query["response_type"] == "code"
    assert query["client_id"] == op.client_id
    assert query["redirect_uri"] == REDIRECT_URI
    assert query["scope"].split() == ["openid", "email", "profile"]
    assert query["state"] == login.state and query["nonce"] == login.nonce
    assert query["code_challenge_method"] == "S256"
    expected = base64.urlsafe_b64encode(hashlib.sha256(login.code_verifier.encode()).digest()).rstrip(b"=")
    assert query["code_challenge"] == expected.decode()


def test_each_login_has_fresh_state_nonce_and_verifier_of_at_least_128_bits():
    first, second = LoginRequest.new("op", "/"), LoginRequest.new("op", "/")
    for login in (first, second):
        assert len(login.state) >= 43 and len(login.nonce) >= 43  # token_urlsafe(32): 256 bits
        assert 43 <= len(login.code_verifier) <= 128  # RFC 7636 4.1
        assert re.fullmatch(r"[A-Za-z0-9._~-]+", login.code_verifier)  # its unreserved characters
    assert len({first.state, first.nonce, second.state, second.nonce}) == 4
    assert first.code_verifier != second.code_verifier


def test_an_authorization_endpoint_with_a_query_keeps_it(client, op):
    op.discovery["authorization_endpoint"] = op.authorization_endpoint + "?tenant=a"
    url = client.authorization_url(LoginRequest.new("op", "/"))
    assert url.startswith(op.authorization_endpoint + "?tenant=a&")
    assert _query(url)["tenant"] == "a"


def test_client_kwargs_scope_and_extra_parameters_reach_the_authorization_url(op):
    kwargs = MappingProxyType({"scope": "openid email groups", "prompt": "select_account"})
    client = OIDCClient(provider_config(op, client_kwargs=kwargs), REDIRECT_URI, http=op)
    query = _query(client.authorization_url(LoginRequest.new("op", "/")))
    assert query["scope"] == "openid email groups"
    assert query["prompt"] == "select_account"


@pytest.mark.parametrize("kwargs", [
    {"code_challenge_method": "plain"},
    {"code_challenge_method": "S256"},  # what native configs written for Authlib often carry
    {"state": "attacker-state", "nonce": "attacker-nonce"},
    {"redirect_uri": "https://evil.example.test/oauth2callback"},
    {"response_type": "token"},
    {"client_id": "another-client"},
    {"code_challenge": "x"},
])
def test_client_kwargs_can_never_override_the_security_parameters(op, kwargs):
    client = OIDCClient(provider_config(op, client_kwargs=MappingProxyType(kwargs)), REDIRECT_URI, http=op)
    login = LoginRequest.new("op", "/")
    url = client.authorization_url(login)
    query = parse_qs(urlsplit(url).query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["state"] == [login.state] and query["nonce"] == [login.nonce]
    assert query["redirect_uri"] == [REDIRECT_URI]
    assert query["response_type"] == ["code"] and query["client_id"] == [op.client_id]
    assert len(query["code_challenge"]) == 1
    params = op.authorize(url)
    assert client.finish(params, login).subject == "user-123"  # and the flow still works


def test_the_token_request_carries_the_pkce_verifier_and_the_exact_redirect_uri(client, op):
    sign_in(client, op)
    form = op.token_requests[-1]["form"]
    assert form["grant_type"] == "authorization_code"
    assert form["redirect_uri"] == REDIRECT_URI
    challenge = op.authorizations[-1]["code_challenge"]
    verifier = form["code_verifier"]
    assert base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode() == challenge


# --- the authorization response ----------------------------------------------------------


def test_a_callback_with_another_state_is_a_state_mismatch(client, op):
    login = LoginRequest.new("op", "/")
    params = op.authorize(client.authorization_url(login))
    params["state"] = LoginRequest.new("op", "/").state
    with pytest.raises(StateMismatch):
        client.finish(params, login)
    assert op.fetches["token"] == 0  # the code was never redeemed


def test_a_callback_without_state_is_a_state_mismatch(client, op):
    login = LoginRequest.new("op", "/")
    params = op.authorize(client.authorization_url(login))
    del params["state"]
    with pytest.raises(StateMismatch):
        client.finish(params, login)


def test_an_error_response_becomes_a_readable_sign_in_error(client, op):
    login = LoginRequest.new("op", "/")
    params = op.authorize(client.authorization_url(login), error="access_denied")
    with pytest.raises(SignInError) as caught:
        client.finish(params, login)
    assert "cancelled or refused" in caught.value.user_message
    assert "access_denied" in str(caught.value)


def test_a_response_iss_naming_another_provider_is_rejected(client, op):
    with pytest.raises(SignInError, match="iss") as caught:
        sign_in(client, op, include_iss=True, iss="https://evil.example.test")
    assert op.fetches["token"] == 0  # mix-up: the code never goes to our token endpoint
    assert "another identity provider" in caught.value.user_message


def test_a_correct_response_iss_is_accepted(client, op):
    assert sign_in(client, op, include_iss=True).subject == "user-123"


def test_a_missing_response_iss_is_accepted_when_the_op_does_not_advertise_it(client, op):
    assert sign_in(client, op, include_iss=False).subject == "user-123"


def test_a_missing_response_iss_is_rejected_when_the_op_advertises_it(client, op):
    op.discovery["authorization_response_iss_parameter_supported"] = True
    with pytest.raises(SignInError, match="without iss"):
        sign_in(client, op, include_iss=False)
    assert op.fetches["token"] == 0


def test_a_wrong_response_iss_on_an_error_response_is_rejected_too(client, op):
    login = LoginRequest.new("op", "/")
    params = op.authorize(client.authorization_url(login), error="access_denied", include_iss=True,
                          iss="https://evil.example.test")
    with pytest.raises(SignInError, match="iss"):
        client.finish(params, login)


def test_a_callback_without_code_is_a_sign_in_error(client, op):
    login = LoginRequest.new("op", "/")
    params = op.authorize(client.authorization_url(login))
    del params["code"]
    with pytest.raises(SignInError, match="without code"):
        client.finish(params, login)


# --- the token endpoint -------------------------------------------------------------------


def test_the_token_endpoint_gets_client_secret_basic_by_default(client, op):
    sign_in(client, op)
    request = op.token_requests[-1]
    assert request["auth"] == (op.client_id, op.client_secret)
    assert "client_secret" not in request["form"]


def test_client_secret_basic_form_encodes_the_id_and_secret(op):
    op.client_id, op.client_secret = "my:client", "p@ss:w/rd"
    client = OIDCClient(provider_config(op), REDIRECT_URI, http=op)
    sign_in(client, op)
    assert op.token_requests[-1]["auth"] == ("my%3Aclient", "p%40ss%3Aw%2Frd")  # RFC 6749 2.3.1


def test_client_secret_post_is_used_when_it_is_the_only_method_advertised(client, op):
    op.discovery["token_endpoint_auth_methods_supported"] = ["client_secret_post"]
    sign_in(client, op)
    request = op.token_requests[-1]
    assert request["auth"] is None
    assert request["form"]["client_id"] == op.client_id
    assert request["form"]["client_secret"] == op.client_secret


def test_a_public_client_sends_its_client_id_and_no_secret(op):
    op.client_secret = None
    client = OIDCClient(provider_config(op), REDIRECT_URI, http=op)
    sign_in(client, op)
    request = op.token_requests[-1]
    assert request["auth"] is None and request["form"]["client_id"] == op.client_id
    assert "client_secret" not in request["form"]


def test_invalid_client_at_the_token_endpoint_is_a_sign_in_error_about_the_settings(client, op):
    op.token_error = "invalid_client"
    with pytest.raises(SignInError) as caught:
        sign_in(client, op)
    assert not isinstance(caught.value, ProviderUnavailable)
    assert "client id or secret" in caught.value.user_message


def test_a_wrong_client_secret_is_refused_by_the_op_and_reported(op):
    client = OIDCClient(provider_config(op, client_secret="wrong"), REDIRECT_URI, http=op)
    with pytest.raises(SignInError, match="invalid_client"):
        sign_in(client, op)


def test_a_code_redeemed_twice_is_a_sign_in_error(client, op):
    login = LoginRequest.new("op", "/")
    params = op.authorize(client.authorization_url(login))
    client.finish(params, login)
    with pytest.raises(SignInError, match="invalid_grant") as caught:
        client.finish(params, login)
    assert "already used" in caught.value.user_message


@pytest.mark.parametrize("extra", [
    {"access_token": None}, {"access_token": ""}, {"access_token": 42},
    {"token_type": "mac"}, {"token_type": None},
])
def test_a_token_answer_without_a_usable_bearer_token_is_refused(client, op, extra):
    op.token_extra = extra
    with pytest.raises(ProviderUnavailable):
        sign_in(client, op)


def test_an_unreachable_op_is_provider_unavailable(client, op):
    login = LoginRequest.new("op", "/")
    params = op.authorize(client.authorization_url(login))
    op.unreachable = True
    with pytest.raises(ProviderUnavailable) as caught:
        client.finish(params, login)
    assert caught.value.status == 502


def test_token_expiry_is_kept_as_an_absolute_time(client, op):
    signin = sign_in(client, op)
    assert signin.tokens["expires_at"] > 1e9
    assert signin.tokens["refresh_token"]


# --- userinfo -------------------------------------------------------------------------------


def test_a_userinfo_sub_other_than_the_id_tokens_is_rejected(client, op):
    op.userinfo_override = {"sub": "someone-else", "email": "mallory@example.org"}
    with pytest.raises(TokenRejected, match="userinfo sub"):
        sign_in(client, op)


def test_a_userinfo_without_sub_is_rejected(client, op):
    op.userinfo_override = {"email": "mallory@example.org"}
    with pytest.raises(TokenRejected, match="userinfo sub"):
        sign_in(client, op)


@pytest.mark.parametrize("answer", [None, [], "alice", 3])
def test_a_userinfo_answer_that_is_not_an_object_is_rejected(client, op, answer):
    op.userinfo_override = answer
    with pytest.raises(TokenRejected, match="userinfo"):
        sign_in(client, op)


def test_claims_only_at_userinfo_are_merged_into_the_sign_in(client, op):
    op.id_token_claims = {}  # the ID token carries only the protocol claims
    op.userinfo_claims = {"email": "alice@example.org", "name": "Alice Example", "groups": ["eng"]}
    claims = sign_in(client, op).claims
    assert claims["email"] == "alice@example.org"
    assert claims["name"] == "Alice Example"
    assert claims["groups"] == ["eng"]
    assert claims["iss"] == op.issuer and claims["aud"] == op.client_id  # the ID token's stay


def test_userinfo_cannot_overwrite_the_id_tokens_protocol_claims(client, op):
    op.userinfo_claims = {"iss": "https://evil.example.test", "aud": "evil", "nonce": "x", "exp": 1,
                          "email": "alice@example.org"}
    claims = sign_in(client, op).claims
    assert claims["iss"] == op.issuer and claims["aud"] == op.client_id
    assert claims["exp"] != 1 and claims["nonce"] != "x"


def test_userinfo_is_called_with_the_access_token(client, op):
    signin = sign_in(client, op)
    assert op.fetches["userinfo"] == 1
    assert signin.tokens["access_token"] in op._access_tokens


def test_without_a_userinfo_endpoint_the_id_token_claims_suffice(client, op):
    del op.discovery["userinfo_endpoint"]
    assert sign_in(client, op).claims["email"] == "alice@example.org"
    assert op.fetches["userinfo"] == 0


# --- refresh ---------------------------------------------------------------------------------


def test_refresh_returns_new_tokens_and_keeps_an_unrotated_refresh_token(client, op):
    tokens = sign_in(client, op).tokens
    fresh = client.refresh(tokens, "user-123")
    assert fresh["access_token"] != tokens["access_token"]
    assert fresh["refresh_token"] == tokens["refresh_token"]
    assert fresh["id_token"] != tokens["id_token"]
    assert op.token_requests[-1]["form"]["grant_type"] == "refresh_token"
    assert op.token_requests[-1]["auth"] == (op.client_id, op.client_secret)


def test_refresh_takes_a_rotated_refresh_token(client, op):
    tokens = sign_in(client, op).tokens
    op.rotate_refresh_token = True
    fresh = client.refresh(tokens, "user-123")
    assert fresh["refresh_token"] and fresh["refresh_token"] != tokens["refresh_token"]


def test_refresh_without_a_new_id_token_keeps_the_old_one(client, op):
    tokens = sign_in(client, op).tokens
    op.id_token_on_refresh = False
    assert client.refresh(tokens, "user-123")["id_token"] == tokens["id_token"]


def test_a_refreshed_id_token_naming_another_subject_is_rejected(client, op):
    tokens = sign_in(client, op).tokens
    op.refresh_subject = "someone-else"
    with pytest.raises(TokenRejected, match="another subject"):
        client.refresh(tokens, "user-123")


def test_a_refreshed_id_token_with_a_bad_signature_is_rejected(client, op):
    tokens = sign_in(client, op).tokens
    op.signing = "attacker-key"
    with pytest.raises(TokenRejected, match="signature"):
        client.refresh(tokens, "user-123")


def test_refresh_for_a_public_client_sends_the_client_id(op):
    op.client_secret = None
    client = OIDCClient(provider_config(op), REDIRECT_URI, http=op)
    tokens = sign_in(client, op).tokens
    client.refresh(tokens, "user-123")
    assert op.token_requests[-1]["form"]["client_id"] == op.client_id


def test_refresh_without_a_refresh_token_is_a_sign_in_error(client):
    with pytest.raises(SignInError, match="no refresh token"):
        client.refresh({"access_token": "x"}, "user-123")


def test_a_refused_refresh_is_a_sign_in_error(client, op):
    tokens = sign_in(client, op).tokens
    with pytest.raises(SignInError, match="invalid_grant"):
        client.refresh({**tokens, "refresh_token": "revoked"}, "user-123")


# --- RP-initiated logout ------------------------------------------------------------------


def test_the_end_session_url_carries_id_token_hint_post_logout_redirect_uri_and_state(client, op):
    url = client.end_session_url("the.id.token", "https://app.example.org/base/", "st4te")
    assert url is not None and url.startswith(op.end_session_endpoint + "?")
    assert _query(url) == {
        "client_id": op.client_id, "id_token_hint": "the.id.token",
        "post_logout_redirect_uri": "https://app.example.org/base/", "state": "st4te",
    }


def test_there_is_no_end_session_url_when_the_op_has_no_end_session_endpoint(client, op):
    del op.discovery["end_session_endpoint"]
    assert client.end_session_url("the.id.token", "https://app.example.org/", "s") is None


def test_there_is_no_end_session_url_when_the_op_is_unreachable(client, op):
    op.unreachable = True
    assert client.end_session_url("the.id.token", "https://app.example.org/", "s") is None


def test_an_op_with_another_issuer_never_gets_our_code():
    op = FakeOP()
    op.discovery["issuer"] = "https://evil.example.test"
    client = OIDCClient(provider_config(op), REDIRECT_URI, http=op)
    with pytest.raises(ProviderUnavailable):
        sign_in(client, op)
    assert op.fetches["token"] == 0


def test_a_client_secret_in_client_kwargs_never_reaches_the_browser(op):
    kwargs = MappingProxyType({"client_secret": "leaked-secret", "prompt": "login"})
    client = OIDCClient(provider_config(op, client_kwargs=kwargs), REDIRECT_URI, http=op)
    url = client.authorization_url(LoginRequest.new("op", "/"))
    assert "leaked-secret" not in url
    assert _query(url)["prompt"] == "login"


def test_token_endpoint_auth_method_from_client_kwargs_is_honoured(op):
    kwargs = MappingProxyType({"token_endpoint_auth_method": "client_secret_post"})
    client = OIDCClient(provider_config(op, client_kwargs=kwargs), REDIRECT_URI, http=op)
    login = LoginRequest.new("op", "/")
    url = client.authorization_url(login)
    assert "token_endpoint_auth_method" not in _query(url)
    client.finish(op.authorize(url), login)
    request = op.token_requests[-1]
    assert request["auth"] is None and request["form"]["client_secret"] == op.client_secret


@pytest.mark.parametrize("expires_in", [3600, 3600.0, "3600", " 3600 "])
def test_expires_in_as_a_number_or_a_numeric_string_sets_the_token_expiry(client, op, expires_in):
    op.token_extra["expires_in"] = expires_in
    expires_at = sign_in(client, op).tokens["expires_at"]
    assert time.time() + 3000 < expires_at <= time.time() + 3600


@pytest.mark.parametrize("expires_in", [None, "soon", True, -5, 0, float("nan"), "1e400", 10**20])
def test_a_nonsense_expires_in_leaves_the_expiry_unknown(client, op, expires_in):
    op.token_extra["expires_in"] = expires_in
    assert "expires_at" not in sign_in(client, op).tokens


def test_a_key_replaced_under_the_same_kid_is_refetched_once_and_sign_in_works(client, op):
    """A restarted provider that made a new key but kept its kid: a bad signature refetches
    the JWKS once (rate-limited) instead of failing every sign-in for an hour."""
    sign_in(client, op)
    op.signing_keys["key-1"] = op.signing_keys["key-2"]  # same kid, another key
    assert sign_in(client, op).subject == op.subject
    op.signing = "attacker-key"
    with pytest.raises(TokenRejected, match="bad signature"):
        sign_in(client, op)
