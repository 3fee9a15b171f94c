"""What a posted ``SAMLResponse`` must look like before pysaml2 and xmlsec1 see it: bounded
in size, base64, XML without any DTD or entity (XXE, billion laughs), one ``Response``
holding exactly one plain ``Assertion`` as its direct child.

This is not signature checking (pysaml2 and xmlsec1 do that): it refuses, before any
signature work, the shapes signature-wrapping attacks need (a second assertion hidden
next to or inside the signed one) and the XML features no IdP sends.
"""

from __future__ import annotations

import base64
import binascii
from xml.etree.ElementTree import Element  # the type defusedxml returns; parsing is defusedxml's

from .errors import AssertionRejected, IdpRefused

#: The largest ``SAMLResponse`` form value accepted (base64 characters), checked before decoding.
MAX_RESPONSE_CHARS = 256 * 1024

PROTOCOL = "urn:oasis:names:tc:SAML:2.0:protocol"
ASSERTION = "urn:oasis:names:tc:SAML:2.0:assertion"
MALFORMED = "The sign-in response from the identity provider is malformed."


def decode_response(saml_response: object) -> bytes:
    """The XML bytes of a posted ``SAMLResponse``; ``AssertionRejected`` when it is not
    bounded, strict base64."""
    if not isinstance(saml_response, str) or not saml_response:
        raise AssertionRejected("no SAMLResponse", MALFORMED)
    if len(saml_response) > MAX_RESPONSE_CHARS:
        raise AssertionRejected(f"SAMLResponse of {len(saml_response)} characters, over {MAX_RESPONSE_CHARS}",
                                "The sign-in response is too large.")
    compact = "".join(saml_response.split())
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise AssertionRejected("SAMLResponse is not base64", MALFORMED) from None


def screen_response(xml: bytes) -> None:
    """Refuse DTDs and entities, and any shape but one Response with one Assertion child."""
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import ParseError, fromstring

    try:
        root = fromstring(xml, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise AssertionRejected(f"SAMLResponse XML refused: {type(exc).__name__}", MALFORMED) from None
    except (ParseError, ValueError) as exc:
        raise AssertionRejected(f"SAMLResponse is not well-formed XML: {str(exc)[:120]}", MALFORMED) from None
    if root.tag != f"{{{PROTOCOL}}}Response":
        raise AssertionRejected(f"SAMLResponse root is {root.tag[:120]!r}, not a samlp:Response", MALFORMED)
    assertions = list(root.iter(f"{{{ASSERTION}}}Assertion"))
    encrypted = list(root.iter(f"{{{ASSERTION}}}EncryptedAssertion"))
    direct = [child for child in root if child.tag == f"{{{ASSERTION}}}Assertion"]
    if encrypted:
        raise AssertionRejected("encrypted assertions are not supported",
                                "The identity provider encrypts its assertions; turn encryption off for this app.")
    status = root.find(f"{{{PROTOCOL}}}Status/{{{PROTOCOL}}}StatusCode")
    value = status.get("Value", "") if status is not None else ""
    if not assertions and value != f"{PROTOCOL}:status:Success":
        raise IdpRefused(f"IdP answered status {value[:160]!r}", "The identity provider refused the sign-in.")
    if len(assertions) != 1 or len(direct) != 1:
        raise AssertionRejected(f"SAMLResponse holds {len(assertions)} assertions ({len(direct)} at the top); "
                                "exactly one is accepted")
    _one_of_each(direct[0])


def _one_of_each(assertion: Element) -> None:
    """No element the profile allows once appears twice (which one a reader takes is its
    own choice): one Issuer, one Subject with one NameID, at most one Conditions."""
    counts = {
        "Issuer": len(assertion.findall(f"{{{ASSERTION}}}Issuer")),
        "Subject": len(assertion.findall(f"{{{ASSERTION}}}Subject")),
        "NameID": len(assertion.findall(f"{{{ASSERTION}}}Subject/{{{ASSERTION}}}NameID")),
    }
    conditions = len(assertion.findall(f"{{{ASSERTION}}}Conditions"))
    if any(count != 1 for count in counts.values()) or conditions > 1:
        raise AssertionRejected(f"assertion has {counts} and {conditions} Conditions; exactly one each expected")
