"""Microsoft Entra multi-tenant apps (``tenant = "common"`` / ``"organizations"``): the
discovery document's issuer is the ``{tenantid}`` template, each ID token's ``iss`` must
be that template with the token's ``tid``, and ``allowed_tenants`` narrows who may sign in.

The fake OP plays Entra: it publishes the template and signs tokens with its own key
against its own JWKS; each test plants one defect.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fake_op import DROP, FakeOP
from rp_helpers import REDIRECT_URI, sign_in

from stauth_server.core.config import parse_server_config
from stauth_server.core.errors import ConfigError
from stauth_server.core.oidc.client import LoginRequest, OIDCClient
from stauth_server.core.oidc.errors import ProviderUnavailable, SignInError, TokenRejected

ENTRA = "https://login.microsoftonline.com"
TEMPLATE = f"{ENTRA}/{{tenantid}}/v2.0"
CONTOSO = "72f988bf-86f1-41af-91ab-2d7cd011db47"
FABRIKAM = "0b9c3c6e-1d2a-4c1e-9d3c-5f6e7a8b9c0d"


def provider(tenant: str = "common", **keys):
    auth = {"redirect_uri": REDIRECT_URI, "cookie_secret": "c" * 32,
            "entra": {"provider": "microsoft", "tenant": tenant, "client_id": "rp-client",
                      "client_secret": "rp-secret", **keys}}
    return parse_server_config(auth, Path("/srv/app")).providers["entra"]


def entra_op(tenant: str = "common", tid: str = CONTOSO) -> FakeOP:
    """An OP at Entra's multi-tenant discovery URL, signing users of tenant ``tid``."""
    op = FakeOP(issuer=f"{ENTRA}/{tenant}/v2.0", client_id="rp-client", client_secret="rp-secret")
    op.discovery["issuer"] = TEMPLATE
    op.claim_changes.update(iss=f"{ENTRA}/{tid}/v2.0", tid=tid)
    return op


def client_for(op: FakeOP, **keys) -> OIDCClient:
    config = provider(op.issuer.split("/")[3], **keys)
    assert config.server_metadata_url == op.discovery_url
    return OIDCClient(config, REDIRECT_URI, http=op)


@pytest.mark.parametrize("tenant", ["common", "organizations"])
def test_a_user_of_any_tenant_signs_in_and_is_keyed_on_their_tenants_issuer(tenant):
    op = entra_op(tenant)
    signin = sign_in(client_for(op), op)
    assert signin.issuer == f"{ENTRA}/{CONTOSO}/v2.0"
    assert signin.claims["tid"] == CONTOSO and signin.subject == op.subject


def test_the_same_subject_in_two_tenants_is_two_users():
    issuers = set()
    for tid in (CONTOSO, FABRIKAM):
        op = entra_op(tid=tid)
        issuers.add(sign_in(client_for(op), op).issuer)
    assert len(issuers) == 2


def test_an_issuer_naming_another_tenant_than_tid_is_rejected():
    op = entra_op()
    op.claim_changes["iss"] = f"{ENTRA}/{FABRIKAM}/v2.0"  # tid still says CONTOSO
    with pytest.raises(TokenRejected, match="issuer mismatch"):
        sign_in(client_for(op), op)


def test_the_literal_template_as_issuer_is_rejected():
    op = entra_op()
    op.claim_changes["iss"] = TEMPLATE
    with pytest.raises(TokenRejected, match="issuer mismatch"):
        sign_in(client_for(op), op)


@pytest.mark.parametrize("tid", [DROP, "", "contoso.onmicrosoft.com", CONTOSO.upper(), 42, f"{CONTOSO}/x"])
def test_a_missing_or_malformed_tid_is_rejected(tid):
    op = entra_op()
    op.claim_changes.update(tid=tid, iss=f"{ENTRA}/{tid if isinstance(tid, str) else CONTOSO}/v2.0")
    with pytest.raises(TokenRejected, match="tid"):
        sign_in(client_for(op), op)


def test_another_hosts_issuer_with_the_right_tid_is_rejected():
    op = entra_op()
    op.claim_changes["iss"] = f"https://evil.example/{CONTOSO}/v2.0"
    with pytest.raises(TokenRejected, match="issuer mismatch"):
        sign_in(client_for(op), op)


def test_a_forged_signature_is_still_rejected_in_multi_tenant_mode():
    op = entra_op()
    op.signing = "attacker-key"
    with pytest.raises(TokenRejected, match="signature"):
        sign_in(client_for(op), op)


def test_allowed_tenants_admits_a_listed_tenant_and_refuses_others():
    op = entra_op(tid=CONTOSO)
    assert sign_in(client_for(op, allowed_tenants=[CONTOSO.upper()]), op).claims["tid"] == CONTOSO
    stranger = entra_op(tid=FABRIKAM)
    with pytest.raises(TokenRejected, match="allowed_tenants"):
        sign_in(client_for(stranger, allowed_tenants=[CONTOSO]), stranger)


def test_the_authorization_response_iss_must_be_the_template_with_an_allowed_tenant():
    op = entra_op()
    client = client_for(op, allowed_tenants=[CONTOSO])
    login = LoginRequest.new("entra", "/")
    params = op.authorize(client.authorization_url(login), include_iss=True, iss=f"{ENTRA}/{CONTOSO}/v2.0")
    assert client.finish(params, login).claims["tid"] == CONTOSO
    for forged in (f"{ENTRA}/{FABRIKAM}/v2.0", TEMPLATE, "https://evil.example/v2.0", f"{ENTRA}/common/v2.0"):
        login = LoginRequest.new("entra", "/")
        params = op.authorize(client.authorization_url(login), include_iss=True, iss=forged)
        with pytest.raises(SignInError, match="authorization response iss") as caught:
            client.finish(params, login)
        assert caught.value.user_message == "The sign-in response came from another identity provider."


def test_a_single_tenant_app_refuses_a_template_issuer_at_discovery():
    op = FakeOP(issuer=f"{ENTRA}/{CONTOSO}/v2.0", client_id="rp-client", client_secret="rp-secret")
    op.discovery["issuer"] = TEMPLATE
    config = provider(CONTOSO)
    assert config.tenants is None
    with pytest.raises(ProviderUnavailable):
        sign_in(OIDCClient(config, REDIRECT_URI, http=op), op)


def test_a_template_for_another_host_is_refused_at_discovery():
    op = entra_op()
    op.discovery["issuer"] = "https://evil.example/{tenantid}/v2.0"
    with pytest.raises(ProviderUnavailable, match="issuer"):
        sign_in(client_for(op), op)


@pytest.mark.parametrize("keys,message", [
    ({"allowed_tenants": ["not-a-guid"]}, "GUIDs"),
    ({"allowed_tenants": []}, "GUIDs"),
    ({"allowed_tenants": CONTOSO}, "list of strings"),
])
def test_allowed_tenants_must_be_a_list_of_guids(keys, message):
    with pytest.raises(ConfigError, match=message):
        provider(**keys)


def test_allowed_tenants_is_refused_where_it_would_mean_nothing():
    with pytest.raises(ConfigError, match="only for provider"):
        provider(CONTOSO, allowed_tenants=[CONTOSO])
    auth = {"redirect_uri": REDIRECT_URI, "cookie_secret": "c" * 32,
            "kc": {"provider": "keycloak", "url": "https://kc.example", "realm": "r", "client_id": "x",
                   "allowed_tenants": [CONTOSO]}}
    with pytest.raises(ConfigError, match="only for provider"):
        parse_server_config(auth, Path("/srv/app"))
