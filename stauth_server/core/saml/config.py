"""One SAML 2.0 identity provider as configured (``[auth.<name>] protocol = "saml"``), and
the Service Provider URLs the app answers on for it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..errors import ConfigError
from ..oidc.metadata import is_secure_url
from ..options import warn_unknown

#: The keys a SAML provider table may hold.
SAML_KEYS = (
    "protocol", "idp_metadata_url", "idp_metadata_file", "sp_entity_id", "sp_key_file", "sp_cert_file",
    "email_attribute", "name_attribute", "groups_attribute", "name_id_format", "want_assertions_signed",
    "allow_idp_initiated", "display_name",
)
DEFAULT_EMAIL_ATTRIBUTES = ("mail",)
DEFAULT_NAME_ATTRIBUTES = ("cn", "displayName")
DEFAULT_GROUPS_ATTRIBUTES = ("groups", "memberOf")
#: The NameID formats an ``name_id_format`` may name by its short form.
NAME_ID_FORMATS = {
    "email": "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
    "persistent": "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
    "transient": "urn:oasis:names:tc:SAML:2.0:nameid-format:transient",
    "unspecified": "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified",
}
_PROVIDER_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class SamlProviderConfig:
    """A SAML 2.0 identity provider and this app's Service Provider settings for it."""

    name: str
    #: Exactly one of these two: where the IdP's metadata comes from.
    idp_metadata_url: str | None
    idp_metadata_file: Path | None
    sp_entity_id: str
    acs_url: str
    slo_url: str
    metadata_url: str
    #: Both or neither: the SP's signing key (AuthnRequests, LogoutRequests) and certificate.
    sp_key_file: Path | None = None
    sp_cert_file: Path | None = None
    email_attributes: tuple[str, ...] = DEFAULT_EMAIL_ATTRIBUTES
    name_attributes: tuple[str, ...] = DEFAULT_NAME_ATTRIBUTES
    groups_attributes: tuple[str, ...] = DEFAULT_GROUPS_ATTRIBUTES
    name_id_format: str | None = None
    want_assertions_signed: bool = True
    allow_idp_initiated: bool = False
    display_name: str = ""
    kind: str = "saml"

    @property
    def signs_requests(self) -> bool:
        return self.sp_key_file is not None


def sp_base_url(redirect_uri: str) -> str:
    """The app's origin and base path (``server.baseUrlPath``), from ``[auth] redirect_uri``
    (``https://host/base/oauth2callback`` gives ``https://host/base``)."""
    parts = urlsplit(redirect_uri)
    path = parts.path
    if path.endswith("/oauth2callback"):
        path = path[: -len("/oauth2callback")]
    return f"{parts.scheme}://{parts.netloc}{path.rstrip('/')}"


def _text(table: Mapping[str, Any], key: str, where: str) -> str | None:
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where} {key}: expected a non-empty string, got {value!r}")
    return value.strip()


def _flag(table: Mapping[str, Any], key: str, where: str, default: bool) -> bool:
    value = table.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(f"{where} {key}: expected true or false, got {value!r}")
    return value


def _names(table: Mapping[str, Any], key: str, where: str, default: tuple[str, ...]) -> tuple[str, ...]:
    """An attribute name, or a list of them tried in order."""
    value = table.get(key)
    if value is None:
        return default
    items = [value] if isinstance(value, str) else value
    if (not isinstance(items, (list, tuple)) or not items
            or not all(isinstance(item, str) and item.strip() for item in items)):
        raise ConfigError(f"{where} {key}: expected an attribute name (or a list of them), got {value!r}")
    return tuple(item.strip() for item in items)


def _file(table: Mapping[str, Any], key: str, where: str, app_dir: Path) -> Path | None:
    value = _text(table, key, where)
    if value is None:
        return None
    path = app_dir / value
    if not path.is_file():
        raise ConfigError(f"{where} {key}: {path} does not exist")
    return path


def parse_saml_provider(name: str, table: Mapping[str, Any], *, redirect_uri: str, app_dir: Path) -> SamlProviderConfig:
    """Read ``[auth.<name>]`` with ``protocol = "saml"``; ``ConfigError`` names the wrong key."""
    where = f"[auth.{name}]"
    if not _PROVIDER_NAME.match(name):
        raise ConfigError(f"{where}: a SAML provider's name must be letters, digits, '_' or '-' "
                          "(it is part of the app's SAML URLs)")
    for key in table:
        if key not in SAML_KEYS:
            warn_unknown(key, where, SAML_KEYS)
    if table.get("protocol") != "saml":
        raise ConfigError(f"{where} protocol: expected \"saml\", got {table.get('protocol')!r}")
    url = _text(table, "idp_metadata_url", where)
    metadata_file = _file(table, "idp_metadata_file", where, app_dir)
    if (url is None) == (metadata_file is None):
        raise ConfigError(f"{where} idp_metadata_url: expected exactly one of idp_metadata_url "
                          "(the IdP's metadata URL) and idp_metadata_file (a saved copy)")
    if url is not None and not is_secure_url(url):
        raise ConfigError(f"{where} idp_metadata_url: expected an https URL (http only on loopback), got {url!r}")
    base = sp_base_url(redirect_uri)
    entity_id = _text(table, "sp_entity_id", where) or f"{base}/"
    key_file = _file(table, "sp_key_file", where, app_dir)
    cert_file = _file(table, "sp_cert_file", where, app_dir)
    if (key_file is None) != (cert_file is None):
        missing = "sp_cert_file" if cert_file is None else "sp_key_file"
        raise ConfigError(f"{where} {missing}: sp_key_file and sp_cert_file go together (both or neither)")
    name_id_format = _text(table, "name_id_format", where)
    if name_id_format is not None:
        name_id_format = NAME_ID_FORMATS.get(name_id_format, name_id_format)
        if not name_id_format.startswith("urn:"):
            raise ConfigError(f"{where} name_id_format: expected one of {sorted(NAME_ID_FORMATS)} or a "
                              f"urn:oasis:names:tc:SAML:... format, got {table['name_id_format']!r}")
    display = table.get("display_name")
    if display is not None and not isinstance(display, str):
        raise ConfigError(f"{where} display_name: expected a string, got {display!r}")
    sp = f"{base}/auth/saml/{name}"
    return SamlProviderConfig(
        name=name,
        idp_metadata_url=url,
        idp_metadata_file=metadata_file,
        sp_entity_id=entity_id,
        acs_url=f"{sp}/acs",
        slo_url=f"{sp}/slo",
        metadata_url=f"{sp}/metadata",
        sp_key_file=key_file,
        sp_cert_file=cert_file,
        email_attributes=_names(table, "email_attribute", where, DEFAULT_EMAIL_ATTRIBUTES),
        name_attributes=_names(table, "name_attribute", where, DEFAULT_NAME_ATTRIBUTES),
        groups_attributes=_names(table, "groups_attribute", where, DEFAULT_GROUPS_ATTRIBUTES),
        name_id_format=name_id_format,
        want_assertions_signed=_flag(table, "want_assertions_signed", where, True),
        allow_idp_initiated=_flag(table, "allow_idp_initiated", where, False),
        display_name=(display or "").strip() or name.replace("_", " ").title(),
    )
