"""One SAML 2.0 identity provider, as this app's Service Provider sees it: SP metadata,
the AuthnRequest (HTTP-Redirect), the Response posted to the ACS, and SP-initiated Single
Logout (HTTP-Redirect).

pysaml2 (with ``xmlsec1``) does all XML parsing and signature work; this module configures
it strictly, screens what reaches it (``screen``), and checks again, on the parsed result,
each binding the Web Browser SSO profile requires. It never fetches anything an assertion
names. pysaml2 is imported lazily: apps without SAML do not need it. Every method may
block (metadata fetch, ``xmlsec1``): the server layer calls them from a thread pool.
"""

from __future__ import annotations

import calendar
import hmac
import logging
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from ..oidc.client import SignIn
from ..oidc.transport import ProviderHTTP
from .config import SamlProviderConfig
from .errors import AssertionRejected, IdpRefused, SamlUnavailable, SignInError, UnsolicitedResponse
from .metadata import UNAVAILABLE, IdpMetadata
from .screen import decode_response, screen_response
from .support import saml2_module, xmlsec_binary

LOGGER = logging.getLogger("stauth_server.saml")

#: Clock skew allowed on NotBefore / NotOnOrAfter, in seconds.
CLOCK_SKEW = 60
EMAIL_FORMAT = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
UNSPECIFIED_FORMAT = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
REFUSED = "The sign-in response from the identity provider was refused."


@dataclass
class SamlSignIn(SignIn):
    """A completed SAML sign-in: ``issuer`` is the IdP's entity id, ``subject`` the NameID.

    ``claims`` has ``email``, ``name``, ``groups`` (when found), ``name_id``,
    ``name_id_format`` and ``attributes`` (every attribute, a list of strings each);
    ``tokens["saml_logout"]`` is what ``SamlClient.logout_redirect`` needs later.
    ``request_id`` (InResponseTo; None for an IdP-initiated response) and
    ``assertion_id`` are for the caller's single-use check.
    """

    request_id: str | None = None
    assertion_id: str = ""
    not_on_or_after: float | None = None
    attributes: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class _Sp:
    """pysaml2's client for the current IdP metadata, and what it says about the IdP."""

    metadata: str
    client: Any
    idp_entity_id: str


def _seconds(stamp: str | None) -> float | None:
    if not stamp:
        return None
    from saml2 import time_util

    try:
        return float(calendar.timegm(time_util.str_to_time(stamp)))
    except (ValueError, TypeError, AttributeError):
        raise AssertionRejected(f"unreadable SAML time {stamp[:40]!r}", REFUSED) from None


def _pysaml2_refusal(exc: Exception) -> SignInError:
    """pysaml2's exception, in this module's words (pysaml2 raises many types, and bare
    ``Exception``: every one of them is a refused response, never a server error)."""
    from saml2.response import IncorrectlySigned, StatusError
    from saml2.response import UnsolicitedResponse as Unsolicited
    from saml2.sigver import SignatureError
    from saml2.validate import ResponseLifetimeExceed, ToEarly

    detail = f"pysaml2: {type(exc).__name__}: {str(exc)[:300]}"
    if isinstance(exc, StatusError):
        return IdpRefused(detail, "The identity provider refused the sign-in.")
    if isinstance(exc, Unsolicited):
        return UnsolicitedResponse(detail)
    if isinstance(exc, (ResponseLifetimeExceed, ToEarly)):
        return AssertionRejected(detail, "The sign-in response has expired. Please sign in again.")
    if isinstance(exc, (SignatureError, IncorrectlySigned)):
        return AssertionRejected(detail, "The sign-in response is not signed by the identity provider.")
    return AssertionRejected(detail, REFUSED)


def quiet_pysaml2() -> None:
    """pysaml2 logs each refusal as an ERROR with a traceback, and whole assertions at DEBUG;
    the refusal's detail reaches our log through ``SignInError``. Unless the app set the
    ``saml2`` logger's level itself, only its CRITICAL messages pass."""
    library = logging.getLogger("saml2")
    if library.level == logging.NOTSET:
        library.setLevel(logging.CRITICAL)


class SamlClient:
    """The Service Provider for one configured SAML identity provider."""

    def __init__(self, provider: SamlProviderConfig, http: ProviderHTTP | None = None):
        quiet_pysaml2()
        self.provider = provider
        self.metadata = IdpMetadata(provider, http)
        self._lock = threading.Lock()
        self._sp: _Sp | None = None

    # --- the SP ---------------------------------------------------------------------

    def metadata_xml(self) -> str:
        """This SP's metadata (entity id, ACS, SLO, signing certificate), for the IdP's admin."""
        from saml2.config import SPConfig
        from saml2.metadata import create_metadata_string

        config = SPConfig()
        config.load(self._config_dict(None))
        return create_metadata_string(None, config=config).decode("utf-8")

    def login_redirect_blocks(self) -> bool:
        """Whether ``login_redirect`` must fetch the IdP metadata first (else CPU only)."""
        return not self.metadata.is_fresh()

    def login_redirect(self, relay_state: str) -> tuple[str, str]:
        """The IdP URL carrying our AuthnRequest (HTTP-Redirect; signed when the SP has a
        key), and the request's ID: keep it, ``finish`` must be told it."""
        from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
        from saml2.xmldsig import SIG_RSA_SHA256

        sp = self._current()
        sign = self.provider.signs_requests
        try:
            request_id, info = sp.client.prepare_for_authenticate(
                entityid=sp.idp_entity_id, relay_state=relay_state, binding=BINDING_HTTP_REDIRECT,
                response_binding=BINDING_HTTP_POST, sign=sign, sigalg=SIG_RSA_SHA256 if sign else None,
                nameid_format=self.provider.name_id_format)
        except Exception as exc:  # noqa: BLE001 - pysaml2 raises bare Exception for metadata gaps
            raise SamlUnavailable(f"AuthnRequest for {sp.idp_entity_id}: {type(exc).__name__}: {str(exc)[:200]}",
                                  "The identity provider offers no sign-in this app can use.") from None
        return dict(info["headers"])["Location"], str(request_id)

    def finish(self, saml_response: str, relay_state: str | None, expected_request_id: str | None) -> SamlSignIn:
        """Validate the Response posted to the ACS; who signed in, or a ``SignInError``.

        ``expected_request_id``: the ID of the AuthnRequest this browser's sign-in sent;
        None only for an IdP-initiated response, refused unless ``allow_idp_initiated``.
        Single use is the caller's: claim ``request_id`` (or ``assertion_id``) once.
        """
        from saml2 import BINDING_HTTP_POST

        if expected_request_id is None and not self.provider.allow_idp_initiated:
            raise UnsolicitedResponse("response without a sign-in in flight (IdP-initiated is off)")
        xml = decode_response(saml_response)
        screen_response(xml)
        sp = self._current()
        outstanding = {expected_request_id: relay_state or ""} if expected_request_id else {}
        try:
            response = sp.client.parse_authn_request_response(
                "".join(saml_response.split()), BINDING_HTTP_POST, outstanding=outstanding,
                conv_info={"entity_id": self.provider.sp_entity_id})
        except Exception as exc:  # noqa: BLE001 - see _pysaml2_refusal
            raise _pysaml2_refusal(exc) from None
        if response is None:
            raise AssertionRejected("pysaml2 could not read the response", REFUSED)
        try:
            return self._signin(response, sp, expected_request_id)
        except (AttributeError, TypeError, ValueError, KeyError) as exc:  # a shape pysaml2 let through
            raise AssertionRejected(f"response unreadable: {type(exc).__name__}: {str(exc)[:200]}", REFUSED) from None
        finally:
            self._forget(sp, response)

    def logout_redirect(self, logout: Mapping[str, Any] | None, relay_state: str) -> tuple[str, str] | None:
        """SP-initiated Single Logout: the IdP URL carrying our LogoutRequest (HTTP-Redirect,
        signed when the SP has a key) and its ID; None when the IdP offers no HTTP-Redirect
        SLO or ``logout`` (``SamlSignIn.tokens["saml_logout"]``) is missing."""
        from saml2 import BINDING_HTTP_REDIRECT
        from saml2.saml import NameID
        from saml2.xmldsig import SIG_RSA_SHA256

        if not isinstance(logout, Mapping) or not isinstance(logout.get("name_id"), str):
            return None
        try:
            sp = self._current()
        except SamlUnavailable:
            return None
        services = sp.client.metadata.single_logout_service(sp.idp_entity_id, BINDING_HTTP_REDIRECT, "idpsso")
        locations = [service.get("location") for service in services or []]
        if not locations or not isinstance(locations[0], str):
            return None
        name_id = NameID(text=logout["name_id"], format=logout.get("format") or None,
                         name_qualifier=logout.get("name_qualifier") or None,
                         sp_name_qualifier=logout.get("sp_name_qualifier") or None)
        index = logout.get("session_index")
        sign = self.provider.signs_requests
        try:
            request_id, request = sp.client.create_logout_request(
                locations[0], sp.idp_entity_id, name_id=name_id,
                session_indexes=[index] if isinstance(index, str) and index else None,
                sign=False)  # HTTP-Redirect signs the query string, not the XML
            info = sp.client.apply_binding(BINDING_HTTP_REDIRECT, str(request), locations[0], relay_state,
                                           sign=sign, sigalg=SIG_RSA_SHA256 if sign else None)
        except Exception as exc:  # noqa: BLE001
            LOGGER.warning("SAML LogoutRequest for %s not built: %s: %s", self.provider.name,
                           type(exc).__name__, str(exc)[:200])
            return None
        return dict(info["headers"])["Location"], str(request_id)

    def logout_response_ok(self, query: str, expected_request_id: str | None) -> bool:
        """Whether the query string of a request to the SLO endpoint is the IdP's successful
        LogoutResponse to our LogoutRequest. Informational: the app's session has ended
        before the browser went to the IdP, so a False only changes the message shown."""
        from saml2 import BINDING_HTTP_REDIRECT

        params = dict(parse_qsl(query, keep_blank_values=True))
        message = params.get("SAMLResponse")
        if not message or not expected_request_id or len(message) > 64 * 1024:
            return False
        try:
            sp = self._current()
            response = sp.client.parse_logout_request_response(message, BINDING_HTTP_REDIRECT)
        except Exception:  # noqa: BLE001 - anything unreadable is simply not a success
            return False
        if response is None or response.issuer() != sp.idp_entity_id:
            return False
        in_response_to = response.in_response_to or ""
        status = response.response.status.status_code.value if response.response.status else ""
        return (hmac.compare_digest(in_response_to.encode(), expected_request_id.encode())
                and status == "urn:oasis:names:tc:SAML:2.0:status:Success")

    # --- internals ------------------------------------------------------------------

    def _config_dict(self, idp_metadata: str | None) -> dict[str, Any]:
        from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
        from saml2.config import PREFERRED_BINDING
        from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

        saml2_module()
        p = self.provider
        sp: dict[str, Any] = {
            "name": p.display_name,
            "endpoints": {
                "assertion_consumer_service": [(p.acs_url, BINDING_HTTP_POST)],
                "single_logout_service": [(p.slo_url, BINDING_HTTP_REDIRECT)],
            },
            "authn_requests_signed": p.signs_requests,
            "logout_requests_signed": p.signs_requests,
            # Assertions signed (the default); when a provider turns that off, the whole
            # Response must be signed instead: never neither.
            "want_assertions_signed": p.want_assertions_signed,
            "want_response_signed": not p.want_assertions_signed,
            "want_assertions_or_response_signed": True,
            "allow_unsolicited": p.allow_idp_initiated,
        }
        if p.name_id_format:
            sp["name_id_format"] = [p.name_id_format]
        config: dict[str, Any] = {
            "entityid": p.sp_entity_id,
            "xmlsec_binary": xmlsec_binary(),
            "accepted_time_diff": CLOCK_SKEW,
            "allow_unknown_attributes": True,  # plain attribute names (mail, cn, groups)
            "signing_algorithm": SIG_RSA_SHA256,
            "digest_algorithm": DIGEST_SHA256,
            "preferred_binding": dict(PREFERRED_BINDING, single_logout_service=[BINDING_HTTP_REDIRECT]),
            "service": {"sp": sp},
        }
        if p.sp_key_file is not None and p.sp_cert_file is not None:
            config["key_file"] = str(p.sp_key_file)
            config["cert_file"] = str(p.sp_cert_file)
        if idp_metadata is not None:
            config["metadata"] = {"inline": [idp_metadata]}
        return config

    def _current(self) -> _Sp:
        """pysaml2's client for the IdP metadata in hand, rebuilt when the metadata changes."""
        xml = self.metadata.xml()
        with self._lock:
            if self._sp is not None and self._sp.metadata == xml:
                return self._sp
            self._sp = self._build(xml)
            return self._sp

    def _build(self, xml: str) -> _Sp:
        from saml2.client import Saml2Client
        from saml2.config import SPConfig

        try:
            config = SPConfig()
            config.load(self._config_dict(xml))
            client = Saml2Client(config=config)
            idps = list(client.metadata.identity_providers())
        except SamlUnavailable:
            raise
        except Exception as exc:  # noqa: BLE001 - pysaml2's metadata errors have no common base
            raise SamlUnavailable(f"IdP metadata of {self.provider.name} unreadable: {type(exc).__name__}: "
                                  f"{str(exc)[:200]}", UNAVAILABLE) from None
        if len(idps) != 1:
            raise SamlUnavailable(f"IdP metadata of {self.provider.name} describes {len(idps)} identity "
                                  "providers; expected exactly one", UNAVAILABLE)
        return _Sp(metadata=xml, client=client, idp_entity_id=idps[0])

    @staticmethod
    def _forget(sp: _Sp, response: Any) -> None:
        """pysaml2 remembers each person signed in (an in-memory cache): not here."""
        name_id = getattr(response, "name_id", None)
        if name_id is not None:
            try:
                sp.client.users.remove_person(name_id)
            except Exception:  # noqa: BLE001, S110 - nothing remembered
                pass

    def _signin(self, response: Any, sp: _Sp, expected_request_id: str | None) -> SamlSignIn:
        """The Web Browser SSO profile's rules, checked again on pysaml2's parsed result."""
        p = self.provider
        destination = response.response.destination
        if destination is not None and destination != p.acs_url:
            raise AssertionRejected(f"Destination {destination[:200]!r} is not {p.acs_url!r}", REFUSED)
        # pysaml2 returns, without checking its assertion, a response whose Destination,
        # IssueInstant or Status its verify() disliked: only an assertion it went through
        # (signature, conditions, subject) counts.
        assertions = list(response.response.assertion or [])
        if len(assertions) != 1 or response.assertion is not assertions[0]:
            raise AssertionRejected(f"{len(assertions)} assertions in the response, "
                                    f"{'one' if response.assertion is not None else 'none'} verified", REFUSED)
        assertion = assertions[0]
        in_response_to = response.response.in_response_to
        if expected_request_id is not None:
            if not in_response_to or not hmac.compare_digest(in_response_to.encode(), expected_request_id.encode()):
                raise UnsolicitedResponse(f"InResponseTo {str(in_response_to)[:80]!r} is not our AuthnRequest's")
        elif in_response_to:
            raise UnsolicitedResponse("response to an AuthnRequest, but no sign-in in flight")
        issuers = [(assertion.issuer.text or "").strip() if assertion.issuer is not None else ""]
        if response.response.issuer is not None:
            issuers.append((response.response.issuer.text or "").strip())
        if any(issuer != sp.idp_entity_id for issuer in issuers):
            raise AssertionRejected(f"issuer {[issuer[:120] for issuer in issuers]} is not {sp.idp_entity_id!r}",
                                    "The sign-in response came from another identity provider.")
        self._check_audience(assertion)
        bearer_until = self._check_bearer(assertion, expected_request_id)
        name_id = response.name_id
        if name_id is None or not (name_id.text or "").strip():
            raise AssertionRejected("assertion without a NameID", REFUSED)
        attributes = self._attributes(response)
        subject = name_id.text.strip()
        claims = self._claims(subject, name_id.format, attributes)
        session_info = response.session_info() or {}
        logout = {"name_id": subject, "format": name_id.format, "name_qualifier": name_id.name_qualifier,
                  "sp_name_qualifier": name_id.sp_name_qualifier, "session_index": session_info.get("session_index")}
        return SamlSignIn(
            issuer=sp.idp_entity_id, subject=subject, claims=claims,
            tokens={"saml_logout": {k: v for k, v in logout.items() if isinstance(v, str) and v}},
            request_id=in_response_to or None, assertion_id=str(assertion.id or ""),
            not_on_or_after=bearer_until, attributes=attributes,
        )

    def _check_audience(self, assertion: Any) -> None:
        """An AudienceRestriction naming this SP must be there (pysaml2 accepts none)."""
        conditions = assertion.conditions
        restrictions = list(conditions.audience_restriction or []) if conditions is not None else []
        if not restrictions:
            raise AssertionRejected("assertion without an AudienceRestriction", REFUSED)
        for restriction in restrictions:
            names = [(audience.text or "").strip() for audience in restriction.audience or []]
            if self.provider.sp_entity_id not in names:
                raise AssertionRejected(f"audience {names[:3]} is not {self.provider.sp_entity_id!r}",
                                        "The sign-in response was meant for another application.")

    def _check_bearer(self, assertion: Any, expected_request_id: str | None) -> float:
        """A bearer SubjectConfirmation for our ACS, not expired, for our request; its end."""
        now = time.time()
        for confirmation in assertion.subject.subject_confirmation or []:
            data = confirmation.subject_confirmation_data
            if confirmation.method != "urn:oasis:names:tc:SAML:2.0:cm:bearer" or data is None:
                continue
            if data.recipient != self.provider.acs_url:
                continue
            until = _seconds(data.not_on_or_after)
            if until is None or now > until + CLOCK_SKEW:
                continue
            if expected_request_id is not None and data.in_response_to != expected_request_id:
                continue
            conditions = assertion.conditions
            not_after = _seconds(conditions.not_on_or_after) if conditions is not None else None
            not_before = _seconds(conditions.not_before) if conditions is not None else None
            if (not_after is not None and now > not_after + CLOCK_SKEW) or (
                    not_before is not None and now < not_before - CLOCK_SKEW):
                raise AssertionRejected("assertion outside its NotBefore/NotOnOrAfter window",
                                        "The sign-in response has expired. Please sign in again.")
            return until
        raise AssertionRejected(f"no bearer SubjectConfirmation for {self.provider.acs_url!r} that is "
                                "current and answers our request", REFUSED)

    @staticmethod
    def _attributes(response: Any) -> dict[str, list[str]]:
        try:
            identity = response.get_identity() or {}
        except Exception:  # noqa: BLE001 - an unreadable attribute statement
            raise AssertionRejected("attribute statement unreadable", REFUSED) from None
        return {str(name): [str(value) for value in values if isinstance(value, str)]
                for name, values in identity.items() if isinstance(values, list)}

    def _claims(self, subject: str, name_id_format: str | None, attributes: Mapping[str, list[str]]) -> dict[str, Any]:
        p = self.provider

        def first(names: tuple[str, ...]) -> str | None:
            for name in names:
                values = [value.strip() for value in attributes.get(name, []) if value.strip()]
                if values:
                    return values[0]
            return None

        email = first(p.email_attributes)
        if email is None and (name_id_format in (EMAIL_FORMAT, None, UNSPECIFIED_FORMAT)) and _EMAIL.match(subject):
            email = subject
        claims: dict[str, Any] = {"sub": subject, "name_id": subject, "name_id_format": name_id_format or "",
                                  "attributes": {name: list(values) for name, values in attributes.items()}}
        if email is not None:
            claims["email"] = email
        name = first(p.name_attributes)
        if name is not None:
            claims["name"] = name
        for attribute in p.groups_attributes:
            if attribute in attributes:
                claims["groups"] = [value for value in attributes[attribute] if value.strip()]
                break
        return claims

