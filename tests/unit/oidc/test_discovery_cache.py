"""Discovery documents and JWKS: vetted on arrival, cached with a TTL."""

from __future__ import annotations

import pytest
from fake_op import FakeOP
from rp_helpers import REDIRECT_URI, FakeClock, make_service, provider_config, sign_in

from stauth_server.core.oidc.client import LoginRequest, OIDCClient
from stauth_server.core.oidc.errors import ProviderUnavailable, TokenRejected
from stauth_server.core.oidc.metadata import JWKS_TTL, METADATA_TTL, KeySet, ProviderMetadata


def test_a_discovery_issuer_other_than_the_discovery_urls_is_refused(client, op):
    op.discovery["issuer"] = "https://evil.example.test"
    with pytest.raises(ProviderUnavailable, match="issuer"):
        client.authorization_url(LoginRequest.new("op", "/"))


def test_a_discovery_issuer_differing_only_by_a_path_is_refused(client, op):
    op.discovery["issuer"] = op.issuer + "/tenant-b"
    with pytest.raises(ProviderUnavailable, match="issuer"):
        client.authorization_url(LoginRequest.new("op", "/"))


def test_an_issuer_with_the_trailing_slash_discovery_strips_is_accepted():
    # OIDC Discovery 4.1: a terminating "/" of the issuer is removed before appending the
    # well-known path, so https://x/ publishes https://x/.well-known/... (Auth0 does this).
    op = FakeOP(issuer="https://tenant.auth0.example")
    op.discovery["issuer"] = op.issuer + "/"
    op.claim_changes["iss"] = op.issuer + "/"
    client = OIDCClient(provider_config(op), REDIRECT_URI, http=op)
    signin = sign_in(client, op)
    assert signin.issuer == "https://tenant.auth0.example/"


def test_an_id_token_must_carry_the_discovery_issuer_exactly_even_with_a_trailing_slash():
    op = FakeOP(issuer="https://tenant.auth0.example")
    op.discovery["issuer"] = op.issuer + "/"  # ID tokens keep saying https://tenant.auth0.example
    client = OIDCClient(provider_config(op), REDIRECT_URI, http=op)
    with pytest.raises(TokenRejected, match="issuer"):
        sign_in(client, op)


@pytest.mark.parametrize("key", ["authorization_endpoint", "token_endpoint", "jwks_uri",
                                 "userinfo_endpoint", "end_session_endpoint"])
def test_a_discovery_endpoint_over_plain_http_is_refused(client, op, key):
    op.discovery[key] = "http://op.example.test/" + key
    with pytest.raises(ProviderUnavailable, match=key):
        client.authorization_url(LoginRequest.new("op", "/"))


@pytest.mark.parametrize("url", ["ftp://op.example.test/x", "javascript:alert(1)", "//op.example.test/x", 42])
def test_a_discovery_endpoint_that_is_not_an_https_url_is_refused(client, op, url):
    op.discovery["token_endpoint"] = url
    with pytest.raises(ProviderUnavailable, match="token_endpoint"):
        client.authorization_url(LoginRequest.new("op", "/"))


def test_plain_http_is_allowed_for_a_loopback_provider():
    op = FakeOP(issuer="http://127.0.0.1:9000")
    client = OIDCClient(provider_config(op), REDIRECT_URI, http=op)
    assert sign_in(client, op).issuer == "http://127.0.0.1:9000"


@pytest.mark.parametrize("key", ["issuer", "authorization_endpoint", "token_endpoint", "jwks_uri"])
def test_a_discovery_document_missing_a_required_key_is_refused(client, op, key):
    del op.discovery[key]
    with pytest.raises(ProviderUnavailable, match=key):
        client.authorization_url(LoginRequest.new("op", "/"))


@pytest.mark.parametrize("doc", [None, [], "discovery", 3])
def test_a_discovery_answer_that_is_not_an_object_is_refused(doc):
    class Answers:
        def get_json(self, url, *, headers=None, what):
            return doc

    with pytest.raises(ProviderUnavailable):
        ProviderMetadata("https://op.example.test/.well-known/openid-configuration", Answers()).get()


def test_a_failed_discovery_is_retried_on_the_next_call(client, op):
    op.unreachable = True
    with pytest.raises(ProviderUnavailable):
        client.authorization_url(LoginRequest.new("op", "/"))
    op.unreachable = False
    assert client.authorization_url(LoginRequest.new("op", "/")).startswith(op.authorization_endpoint)


def test_two_logins_fetch_discovery_and_jwks_once(op):
    service = make_service(op)
    for _ in range(2):
        url, cookie = service.begin_login("op", "/")
        params = op.authorize(url)
        service.complete_login(params, {cookie.name: cookie.value}, None, secure=True, path="/")
    assert op.fetches["discovery"] == 1
    assert op.fetches["jwks"] == 1
    assert op.fetches["token"] == 2


def test_discovery_is_refetched_after_its_ttl(client, op):
    clock = FakeClock()
    client.metadata = ProviderMetadata(op.discovery_url, op, clock=clock)
    sign_in(client, op)
    clock.now += METADATA_TTL / 2
    sign_in(client, op)
    assert op.fetches["discovery"] == 1
    clock.now += METADATA_TTL
    sign_in(client, op)
    assert op.fetches["discovery"] == 2


def test_the_jwks_is_refetched_after_its_ttl(client, op):
    clock = FakeClock()
    client.keys = KeySet(op, clock=clock)
    sign_in(client, op)
    clock.now += JWKS_TTL / 2
    sign_in(client, op)
    assert op.fetches["jwks"] == 1
    clock.now += JWKS_TTL
    sign_in(client, op)
    assert op.fetches["jwks"] == 2


def test_building_the_authorization_url_blocks_only_until_discovery_is_in_memory(client, op):
    # /auth/login builds the URL on the event loop when this says it makes no request.
    clock = FakeClock()
    client.metadata = ProviderMetadata(op.discovery_url, op, clock=clock)
    assert client.authorization_url_blocks()
    client.authorization_url(LoginRequest.new("op", "/"))
    assert not client.authorization_url_blocks()
    fetched = op.fetches["discovery"]
    client.authorization_url(LoginRequest.new("op", "/"))
    assert op.fetches["discovery"] == fetched
    clock.now += METADATA_TTL + 1
    assert client.authorization_url_blocks()  # stale: the next URL fetches discovery again
