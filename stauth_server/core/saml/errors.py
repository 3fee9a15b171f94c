"""Why a SAML sign-in failed: the OIDC core's ``SignInError`` family, so that the callers
show the same error page (``user_message``) and log the details (``str(exc)``)."""

from __future__ import annotations

from ..oidc.errors import ProviderUnavailable, SignInError, StateMismatch, TokenRejected

__all__ = ["AssertionRejected", "IdpRefused", "ProviderUnavailable", "SamlUnavailable", "SignInError",
           "StateMismatch", "TokenRejected", "UnsolicitedResponse"]


class AssertionRejected(TokenRejected):
    """The SAML response or its assertion failed validation (signature, audience, time...)."""

    def __init__(self, detail: str, user_message: str = "The sign-in response from the identity provider was refused."):
        super().__init__(detail, user_message)


class UnsolicitedResponse(StateMismatch):
    """A response to no AuthnRequest of ours (IdP-initiated, or another browser's)."""

    def __init__(self, detail: str,
                 user_message: str = "This sign-in response does not belong to a sign-in started here."):
        super().__init__(detail, user_message)


class IdpRefused(SignInError):
    """The IdP answered with a non-success status (the user cancelled, or was refused)."""


class SamlUnavailable(ProviderUnavailable):
    """The IdP metadata cannot be had, or SAML support (pysaml2, xmlsec1) is missing."""
