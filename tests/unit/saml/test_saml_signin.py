"""SAML in the product: ``[auth.NAME] protocol = "saml"`` read into ``ServerConfig.saml``, and
``SignInService``'s SAML flows (login cookie, single use, IdP-initiated, audit events,
Single Logout) against the crafted IdP."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from types import MappingProxyType
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import REDIRECT_URI
from crafted_idp import IDP_ENTITY, IDP_SLO, CraftedIdp, b64
from saml2 import BINDING_HTTP_REDIRECT

from stauth_server.core.config import ServerConfig, parse_server_config
from stauth_server.core.errors import ConfigError
from stauth_server.core.oidc.errors import StateMismatch
from stauth_server.core.roles import parse_roles
from stauth_server.core.saml.client import SamlClient
from stauth_server.core.saml.config import SamlProviderConfig
from stauth_server.core.saml.errors import AssertionRejected, UnsolicitedResponse
from stauth_server.core.signin import SignInService
from stauth_server.core.store.memory import MemoryStore

SECRET = "u" * 16 + "-saml-unit-secret-0123456789abcd"


@pytest.fixture
def events(caplog: pytest.LogCaptureFixture) -> Callable[[], list[dict]]:
    caplog.set_level(logging.INFO, logger="stauth.audit")
    return lambda: [json.loads(r.getMessage()) for r in caplog.records if r.name == "stauth.audit"]


# --- configuration ---------------------------------------------------------------------------

def test_a_saml_table_is_a_saml_provider_not_an_oidc_one(saml_dir: Path, idp: CraftedIdp):
    config = parse_server_config({
        "redirect_uri": REDIRECT_URI, "cookie_secret": SECRET,
        "corp": {"protocol": "saml", "idp_metadata_file": "idp.xml", "display_name": "Corp SSO"},
    }, saml_dir)
    assert list(config.saml) == ["corp"] and not config.providers
    assert config.sign_in_enabled and config.redirect_uri == REDIRECT_URI
    assert config.saml["corp"].acs_url == "https://app.example.org/base/auth/saml/corp/acs"
    assert config.saml["corp"].display_name == "Corp SSO"


def test_saml_needs_redirect_uri(saml_dir: Path, idp: CraftedIdp):
    with pytest.raises(ConfigError, match="redirect_uri"):
        parse_server_config({"cookie_secret": SECRET, "corp": {"protocol": "saml", "idp_metadata_file": "idp.xml"}},
                            saml_dir)


def test_a_wrong_saml_key_names_itself(saml_dir: Path, idp: CraftedIdp):
    with pytest.raises(ConfigError, match=r"\[auth.corp\] want_assertions_signed"):
        parse_server_config({"redirect_uri": REDIRECT_URI, "cookie_secret": SECRET,
                             "corp": {"protocol": "saml", "idp_metadata_file": "idp.xml",
                                      "want_assertions_signed": "yes"}}, saml_dir)


# --- the flows -------------------------------------------------------------------------------

def service_for(client: SamlClient) -> SignInService:
    config = ServerConfig(cookie_secrets=(SECRET,), redirect_uri=REDIRECT_URI,
                          saml=MappingProxyType({"corp": client.provider}),
                          roles=MappingProxyType(parse_roles({"admin": ["group:staff"]})))
    service = SignInService(config, store=MemoryStore())
    service.saml["corp"] = client  # the one the crafted IdP knows
    return service


def begin(service: SignInService, next_path: str = "/reports") -> tuple[str, str, dict[str, str]]:
    url, cookie = service.begin_saml_login("corp", next_path)
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    opened = service._logins.open(cookie.value)  # noqa: SLF001 - what the cookie holds
    return opened["request_id"], query["RelayState"], {cookie.name: cookie.value}


def complete(service: SignInService, response: str, relay: str | None, cookies: dict[str, str]):
    return service.complete_saml_login("corp", response, relay, cookies, None, secure=True, path="/")


def test_a_sign_in_starts_a_session_with_roles_and_is_audited(sp: SamlClient, respond, events):
    service = service_for(sp)
    request_id, relay, cookies = begin(service)
    done = complete(service, b64(respond(request_id)), relay, cookies)
    assert done.next_path == "/reports" and done.user.email == "alice@example.org"
    assert done.user.name == "Alice Liddell" and done.user.roles == frozenset({"admin"})
    assert done.user.provider == "corp" and done.record.data.issuer == IDP_ENTITY
    assert done.record.data.tokens["saml_logout"]["name_id"] == "alice@example.org"
    assert [(e["event"], e["provider"]) for e in events()] == [("sign_in", "corp")]


def test_a_replay_is_refused_and_audited(sp: SamlClient, respond, events):
    service = service_for(sp)
    request_id, relay, cookies = begin(service)
    response = b64(respond(request_id))
    complete(service, response, relay, cookies)
    with pytest.raises(StateMismatch, match="replayed"):
        complete(service, response, relay, cookies)
    assert events()[-1]["event"] == "sign_in_failed" and events()[-1]["reason"] == "replayed"


def test_without_the_login_cookie_the_response_is_unsolicited(sp: SamlClient, respond, events):
    service = service_for(sp)
    request_id, relay, cookies = begin(service)
    with pytest.raises(UnsolicitedResponse):
        complete(service, b64(respond(request_id)), relay, {})
    with pytest.raises(UnsolicitedResponse):  # another RelayState does not open this cookie
        complete(service, b64(respond(request_id)), relay[:-1] + ("A" if relay[-1] != "A" else "B"), cookies)
    assert events()[-1]["reason"] == "state_mismatch"


def test_a_refused_response_is_audited_with_its_reason(sp: SamlClient, respond, events):
    service = service_for(sp)
    request_id, relay, cookies = begin(service)
    with pytest.raises(AssertionRejected):
        complete(service, b64(respond(request_id, signed=False)), relay, cookies)
    assert events()[-1]["event"] == "sign_in_failed" and events()[-1]["reason"] == "token_rejected"


def test_idp_initiated_only_when_allowed_and_once(make_provider: Callable[..., SamlProviderConfig], respond):
    service = service_for(SamlClient(make_provider(allow_idp_initiated=True)))
    response = b64(respond(None))
    done = complete(service, response, None, {})
    assert done.user.email == "alice@example.org" and done.next_path == "/"
    with pytest.raises(StateMismatch, match="replayed"):
        complete(service, response, None, {})


def test_single_logout_goes_to_the_idp_and_its_answer_is_checked(sp: SamlClient, idp: CraftedIdp, respond):
    service = service_for(sp)
    request_id, relay, cookies = begin(service)
    done = complete(service, b64(respond(request_id)), relay, cookies)
    found = service.begin_saml_logout(done.record, "logout-relay-state-0123456789")
    assert found is not None
    url, cookie = found
    assert url.startswith(IDP_SLO + "?")
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    request = idp.server.parse_logout_request(query["SAMLRequest"], BINDING_HTTP_REDIRECT)
    answer = idp.server.create_logout_response(request.message, [BINDING_HTTP_REDIRECT])
    info = idp.server.apply_binding(BINDING_HTTP_REDIRECT, str(answer), sp.provider.slo_url,
                                    "logout-relay-state-0123456789", response=True)
    back = urlsplit(dict(info["headers"])["Location"]).query
    jar = {cookie.name: cookie.value}
    assert service.finish_saml_logout("corp", back, "logout-relay-state-0123456789", jar)
    assert not service.finish_saml_logout("corp", back, "logout-relay-state-0123456789", {})
    assert not service.finish_saml_logout("corp", back, "another-relay-state-01234567", jar)
    assert service.begin_saml_logout(None, "r" * 20) is None
