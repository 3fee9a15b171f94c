"""Whether this machine can do SAML: pysaml2 (an optional extra) and the ``xmlsec1`` binary
it runs for every XML signature. Imported lazily, so apps without SAML need neither."""

from __future__ import annotations

import shutil
from types import ModuleType

from ..errors import ConfigError

INSTALL_HINT = "pip install 'streamlit-auth[saml]' (pysaml2), and the xmlsec1 program (apt-get install xmlsec1)"


def saml2_module() -> ModuleType:
    """The ``saml2`` package, or ``ConfigError`` saying how to install it."""
    try:
        import saml2
    except ImportError:
        raise ConfigError(f"SAML sign-in needs pysaml2: {INSTALL_HINT}") from None
    return saml2


def xmlsec_binary() -> str:
    """The path of ``xmlsec1``, or ``ConfigError`` saying how to install it."""
    path = shutil.which("xmlsec1")
    if path is None:
        raise ConfigError(f"SAML sign-in needs the xmlsec1 program on PATH: {INSTALL_HINT}")
    return path


def require_saml_support() -> str:
    """Check both at start-up (``ConfigError`` when missing); the ``xmlsec1`` path."""
    saml2_module()
    return xmlsec_binary()
