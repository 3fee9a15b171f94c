"""SAML 2.0 sign-in: this app as a Service Provider (Web Browser SSO, HTTP-Redirect
AuthnRequests, HTTP-POST responses, SP-initiated Single Logout). pysaml2 and ``xmlsec1`` do
the XML security; they are imported only when a SAML provider is used."""

from __future__ import annotations

from .config import SamlProviderConfig, parse_saml_provider, sp_base_url
from .errors import AssertionRejected, IdpRefused, SamlUnavailable, UnsolicitedResponse
from .login import SamlLoginRequest
from .screen import MAX_RESPONSE_CHARS

__all__ = ["AssertionRejected", "IdpRefused", "MAX_RESPONSE_CHARS", "SamlLoginRequest", "SamlProviderConfig",
           "SamlUnavailable",
           "UnsolicitedResponse", "parse_saml_provider", "sp_base_url"]
