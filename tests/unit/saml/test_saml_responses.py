"""The ACS's judgement of posted SAML Responses: the genuine one from pysaml2's own IdP is
accepted, and each attacker's probe is refused with a ``SignInError`` (a 4xx page, never a
500). Every probe is a response that would be accepted if its defence were missing."""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest
from conftest import ACS, SP_ENTITY
from crafted_idp import EMAIL_FORMAT, IDP_ENTITY, PERSISTENT_FORMAT, CraftedIdp, b64
from saml2 import BINDING_HTTP_POST
from saml2.saml import NameID

from stauth_server.core.oidc.errors import SignInError, StateMismatch
from stauth_server.core.saml.client import SamlClient
from stauth_server.core.saml.errors import AssertionRejected, IdpRefused, UnsolicitedResponse
from stauth_server.core.saml.screen import MAX_RESPONSE_CHARS

Respond = Callable[..., str]


def refused(sp: SamlClient, xml_or_b64: str, request_id: str | None, *, encoded: bool = False) -> SignInError:
    with pytest.raises(SignInError) as caught:
        sp.finish(xml_or_b64 if encoded else b64(xml_or_b64), "relay", request_id)
    assert caught.value.status < 500 and caught.value.user_message
    return caught.value


# --- accepted -------------------------------------------------------------------------------

def test_pysaml2_idp_response_signs_in_with_email_name_and_groups(sp: SamlClient, idp: CraftedIdp):
    _, request_id = sp.login_redirect("relay")
    assert idp.server is not None
    identity = {"mail": ["alice@example.org"], "cn": ["Alice Liddell"], "groups": ["staff", "dev"]}
    info = idp.server.create_authn_response(
        identity, in_response_to=request_id, destination=ACS, sp_entity_id=SP_ENTITY,
        name_id=NameID(format=EMAIL_FORMAT, text="alice@example.org"), sign_assertion=True, sign_response=True,
        authn={"class_ref": "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"})
    signin = sp.finish(b64(str(info)), "relay", request_id)
    assert signin.issuer == IDP_ENTITY and signin.subject == "alice@example.org"
    assert signin.claims["email"] == "alice@example.org"
    assert signin.claims["name"] == "Alice Liddell"
    assert signin.claims["groups"] == ["staff", "dev"]
    assert signin.request_id == request_id and signin.assertion_id
    assert signin.tokens["saml_logout"]["name_id"] == "alice@example.org"
    assert signin.tokens["saml_logout"]["session_index"]
    assert not sp._current().client.users.subjects()  # noqa: SLF001 - pysaml2 keeps no one in memory


def test_crafted_response_with_fallback_attributes(sp: SamlClient, respond: Respond):
    """No ``mail``: the emailAddress NameID is the email; ``displayName`` and ``memberOf``
    are the fallbacks for name and groups."""
    _, request_id = sp.login_redirect("relay")
    xml = respond(request_id, name_id="bob@example.org",
                  attributes={"displayName": ["Bob Builder"], "memberOf": ["cn=ops,dc=example,dc=org"]})
    signin = sp.finish(b64(xml), "relay", request_id)
    assert signin.claims["email"] == "bob@example.org"
    assert signin.claims["name"] == "Bob Builder"
    assert signin.claims["groups"] == ["cn=ops,dc=example,dc=org"]


def test_persistent_name_id_is_not_taken_for_an_email(sp: SamlClient, respond: Respond):
    _, request_id = sp.login_redirect("relay")
    xml = respond(request_id, name_id="x@y.example", name_id_format=PERSISTENT_FORMAT, attributes={})
    signin = sp.finish(b64(xml), "relay", request_id)
    assert signin.subject == "x@y.example" and "email" not in signin.claims and "groups" not in signin.claims


def test_clock_skew_of_under_a_minute_is_tolerated(sp: SamlClient, respond: Respond):
    _, request_id = sp.login_redirect("relay")
    assert sp.finish(b64(respond(request_id, not_on_or_after=-30)), "relay", request_id).subject


# --- signatures -----------------------------------------------------------------------------

def test_unsigned_assertion_is_refused(sp: SamlClient, respond: Respond):
    _, request_id = sp.login_redirect("relay")
    error = refused(sp, respond(request_id, signed=False), request_id)
    assert isinstance(error, AssertionRejected)


def test_assertion_signed_by_another_key_is_refused(sp: SamlClient, rogue_idp: CraftedIdp):
    _, request_id = sp.login_redirect("relay")
    xml = rogue_idp.response(acs=ACS, audience=SP_ENTITY, in_response_to=request_id,
                             attributes={"mail": ["alice@example.org"]})
    assert isinstance(refused(sp, xml, request_id), AssertionRejected)


def test_tampered_signed_assertion_is_refused(sp: SamlClient, respond: Respond):
    _, request_id = sp.login_redirect("relay")
    xml = respond(request_id, name_id="mallory@example.org", attributes={"mail": ["mallory@example.org"]})
    forged = xml.replace("mallory@example.org", "alice@example.org")
    assert forged != xml
    assert isinstance(refused(sp, forged, request_id), AssertionRejected)


def test_signature_wrapping_injected_unsigned_assertion_is_refused(sp: SamlClient, respond: Respond):
    """XSW: the signed assertion stays (its signature verifies) and an unsigned one for
    admin is put first, where a naive SP would read it."""
    _, request_id = sp.login_redirect("relay")
    xml = respond(request_id, name_id="mallory@example.org", attributes={"mail": ["mallory@example.org"]})
    start = xml.index("<saml:Assertion ")
    end = xml.index("</saml:Assertion>") + len("</saml:Assertion>")
    signed = xml[start:end]
    evil = respond(request_id, signed=False, name_id="admin@example.org", attributes={"mail": ["admin@example.org"]})
    evil_assertion = evil[evil.index("<saml:Assertion "):evil.index("</saml:Assertion>") + len("</saml:Assertion>")]
    before = xml[:start] + evil_assertion + signed + xml[end:]
    nested = xml[:start] + evil_assertion.replace("</saml:Subject>", "</saml:Subject>" + signed, 1) + xml[end:]
    in_extensions = xml.replace("<samlp:Status>", f"<samlp:Extensions>{signed}</samlp:Extensions><samlp:Status>", 1)
    in_extensions = in_extensions[:in_extensions.rindex("<saml:Assertion ")] + evil_assertion + "</samlp:Response>"
    for wrapped in (before, nested, in_extensions):
        error = refused(sp, wrapped, request_id)
        assert isinstance(error, AssertionRejected)


def test_comment_in_name_id_does_not_truncate_the_identity(sp: SamlClient, respond: Respond):
    """The IdP signed ``alice@example.org.evil.com``; a comment added inside the NameID
    leaves the signature valid (exclusive c14n drops comments), and must not make the
    SP read ``alice@example.org``."""
    _, request_id = sp.login_redirect("relay")
    xml = respond(request_id, name_id="alice@example.org.evil.com", attributes={})
    injected = xml.replace(">alice@example.org.evil.com<", ">alice@example.org<!---->.evil.com<")
    assert injected != xml
    try:
        signin = sp.finish(b64(injected), "relay", request_id)
    except SignInError as error:
        assert error.status < 500
        return
    assert signin.subject == "alice@example.org.evil.com"
    assert signin.claims["email"] == "alice@example.org.evil.com"


def test_comment_in_email_attribute_does_not_truncate_it(sp: SamlClient, respond: Respond):
    _, request_id = sp.login_redirect("relay")
    xml = respond(request_id, name_id="_opaque", name_id_format=PERSISTENT_FORMAT,
                  attributes={"mail": ["alice@example.org.evil.com"]})
    injected = xml.replace(">alice@example.org.evil.com<", ">alice@example.org<!---->.evil.com<")
    try:
        signin = sp.finish(b64(injected), "relay", request_id)
    except SignInError:
        return
    assert signin.claims["email"] == "alice@example.org.evil.com"


def _server_response(idp: CraftedIdp, request_id: str, *, sign_assertion: bool, sign_response: bool) -> str:
    assert idp.server is not None
    return str(idp.server.create_authn_response(
        {"mail": ["alice@example.org"]}, in_response_to=request_id, destination=ACS, sp_entity_id=SP_ENTITY,
        name_id=NameID(format=EMAIL_FORMAT, text="alice@example.org"), sign_assertion=sign_assertion,
        sign_response=sign_response,
        authn={"class_ref": "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"}))


def test_signed_response_with_unsigned_assertion_is_refused_by_default(sp: SamlClient, idp: CraftedIdp):
    _, request_id = sp.login_redirect("relay")
    refused(sp, _server_response(idp, request_id, sign_assertion=False, sign_response=True), request_id)


def test_want_assertions_signed_false_still_needs_a_signed_response(make_provider, idp: CraftedIdp):
    sp = SamlClient(make_provider(want_assertions_signed=False))
    _, request_id = sp.login_redirect("relay")
    signed = _server_response(idp, request_id, sign_assertion=False, sign_response=True)
    assert sp.finish(b64(signed), "relay", request_id).subject == "alice@example.org"
    _, request_id = sp.login_redirect("relay")
    refused(sp, _server_response(idp, request_id, sign_assertion=False, sign_response=False), request_id)


# --- who it is for, from whom, when ----------------------------------------------------------

def test_response_for_another_audience_is_refused(sp: SamlClient, respond: Respond):
    _, request_id = sp.login_redirect("relay")
    refused(sp, respond(request_id, audience="https://other-app.example.org/"), request_id)


def test_response_without_audience_restriction_is_refused(sp: SamlClient, respond: Respond, idp: CraftedIdp):
    _, request_id = sp.login_redirect("relay")
    xml = respond(request_id, signed=False)
    start = xml.index("<saml:AudienceRestriction>")
    end = xml.index("</saml:AudienceRestriction>") + len("</saml:AudienceRestriction>")
    xml = xml[:start] + xml[end:]
    aid = xml.split('<saml:Assertion ID="', 1)[1].split('"', 1)[0]
    from saml2.sigver import pre_signature_part
    from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

    assert idp.server is not None
    template = pre_signature_part(aid, idp.server.sec.my_cert, 1, DIGEST_SHA256, SIG_RSA_SHA256).to_string().decode()
    issuer = f"<saml:Issuer>{IDP_ENTITY}</saml:Issuer><saml:Subject>"
    xml = idp.sign(xml.replace(issuer, f"<saml:Issuer>{IDP_ENTITY}</saml:Issuer>{template}<saml:Subject>", 1), aid)
    error = refused(sp, xml, request_id)
    assert "AudienceRestriction" in str(error)


def test_response_to_another_acs_is_refused(sp: SamlClient, respond: Respond):
    _, request_id = sp.login_redirect("relay")
    assert "Destination" in str(refused(sp, respond(request_id, destination="https://other-app.example.org/acs"),
                                        request_id))
    assert "recipient" in str(refused(sp, respond(request_id, recipient="https://other-app.example.org/acs"),
                                      request_id))


def test_response_from_another_issuer_is_refused(sp: SamlClient, respond: Respond):
    _, request_id = sp.login_redirect("relay")
    refused(sp, respond(request_id, issuer="https://evil.example.net/saml"), request_id)


def test_expired_response_is_refused(sp: SamlClient, respond: Respond):
    _, request_id = sp.login_redirect("relay")
    error = refused(sp, respond(request_id, not_before=-900, not_on_or_after=-120), request_id)
    assert "expired" in error.user_message


def test_response_not_yet_valid_is_refused(sp: SamlClient, respond: Respond):
    _, request_id = sp.login_redirect("relay")
    refused(sp, respond(request_id, not_before=600, not_on_or_after=900), request_id)


# --- whose request ---------------------------------------------------------------------------

def test_response_to_another_request_is_refused(sp: SamlClient, respond: Respond):
    _, mine = sp.login_redirect("relay")
    _, theirs = sp.login_redirect("relay")
    error = refused(sp, respond(theirs), mine)
    assert isinstance(error, StateMismatch)


def test_idp_initiated_response_is_refused_by_default(sp: SamlClient, respond: Respond):
    _, request_id = sp.login_redirect("relay")
    assert isinstance(refused(sp, respond(None), None), UnsolicitedResponse)
    assert isinstance(refused(sp, respond(None), request_id), StateMismatch)


def test_idp_initiated_response_when_allowed(make_provider, respond: Respond):
    sp = SamlClient(make_provider(allow_idp_initiated=True))
    signin = sp.finish(b64(respond(None)), "", None)
    assert signin.subject == "alice@example.org" and signin.request_id is None and signin.assertion_id
    _, request_id = sp.login_redirect("relay")
    refused(sp, respond("id-not-ours"), None)  # a solicited response with no sign-in in flight


def test_idp_refusal_status_is_a_sign_in_error(sp: SamlClient, idp: CraftedIdp):
    _, request_id = sp.login_redirect("relay")
    xml = ('<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
           'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r1" Version="2.0" '
           f'IssueInstant="2026-01-01T00:00:00Z" InResponseTo="{request_id}" Destination="{ACS}">'
           f"<saml:Issuer>{IDP_ENTITY}</saml:Issuer><samlp:Status><samlp:StatusCode "
           'Value="urn:oasis:names:tc:SAML:2.0:status:Responder"/></samlp:Status></samlp:Response>')
    assert isinstance(refused(sp, xml, request_id), IdpRefused)


def _drop(start: str, end: str) -> Callable[[str], str]:
    def mutate(xml: str) -> str:
        i = xml.index(start)
        return xml[:i] + xml[xml.index(end, i) + len(end):]
    return mutate


@pytest.mark.parametrize("mutate", [
    _drop("<saml:SubjectConfirmation ", "</saml:SubjectConfirmation>"),
    _drop("<saml:Conditions ", "</saml:Conditions>"),
    _drop("<saml:AuthnStatement ", "</saml:AuthnStatement>"),
    lambda xml: xml.replace(">alice@example.org</saml:NameID>", "></saml:NameID>"),
    lambda xml: xml.replace('Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"',
                            'Method="urn:oasis:names:tc:SAML:2.0:cm:sender-vouches"'),
    lambda xml: xml.replace('Version="2.0"', 'Version="1.1"'),
    lambda xml: xml.replace('NotOnOrAfter="', 'NotOnOrAfter="garbage', 1),
    lambda xml: xml.replace('IssueInstant="', 'IssueInstant="1999', 1),
    lambda xml: xml.replace("<saml:Subject>", '<saml:Subject><saml:NameID>x</saml:NameID>', 1),
], ids=["no-confirmation", "no-conditions", "no-authn-statement", "empty-name-id", "sender-vouches",
        "version", "bad-time", "old-issue-instant", "two-name-ids"])
def test_signed_but_malformed_assertions_are_refused(sp: SamlClient, respond: Respond, mutate):
    """What the IdP's key signed is still checked: each profile rule holds on its own."""
    _, request_id = sp.login_redirect("relay")
    refused(sp, respond(request_id, mutate=mutate), request_id)


# --- hostile XML and sizes -------------------------------------------------------------------

XXE = ('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
       '<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_x" Version="2.0" '
       'IssueInstant="2026-01-01T00:00:00Z"><samlp:Status>&xxe;</samlp:Status></samlp:Response>')
LAUGHS = ('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
          + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8))
          + ']><samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">&i;</samlp:Response>')


@pytest.mark.parametrize("payload", [XXE, LAUGHS], ids=["xxe", "billion-laughs"])
def test_dtd_and_entities_are_refused(sp: SamlClient, payload: str):
    _, request_id = sp.login_redirect("relay")
    assert isinstance(refused(sp, payload, request_id), AssertionRejected)


@pytest.mark.parametrize("payload", [XXE, LAUGHS], ids=["xxe", "billion-laughs"])
def test_pysaml2_itself_parses_with_defusedxml(sp: SamlClient, payload: str):
    """Behind our screen, pysaml2's own parser refuses DTDs too (defusedxml)."""
    from defusedxml import DefusedXmlException

    sp_client = sp._current().client  # noqa: SLF001
    with pytest.raises(DefusedXmlException):
        sp_client.parse_authn_request_response(b64(payload), BINDING_HTTP_POST, outstanding={"x": ""})


def test_oversized_response_is_refused_before_decoding(sp: SamlClient):
    error = refused(sp, "!" * (MAX_RESPONSE_CHARS + 1), "id-x", encoded=True)
    assert "too large" in error.user_message  # not "not base64": the size is checked first


@pytest.mark.parametrize("junk", ["", "not base64 at all!", base64.b64encode(b"<not-closed").decode(),
                                  base64.b64encode(b"<x/>").decode(), base64.b64encode(b"\xff\xfe").decode()])
def test_malformed_input_is_a_sign_in_error(sp: SamlClient, junk: str):
    refused(sp, junk, "id-x", encoded=True)
