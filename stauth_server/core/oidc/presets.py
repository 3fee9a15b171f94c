"""Provider presets: ``provider = "google"`` and a few keys instead of a discovery URL."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Preset:
    server_metadata_url: str | None
    display_name: str
    kind: str = "oidc"


def _need(table: Mapping[str, Any], key: str, preset: str, example: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{key}: the {preset} preset needs {key} (for example {key} = \"{example}\")")
    return value.strip().strip("/")


def _host(value: str) -> str:
    return value if value.startswith(("https://", "http://")) else f"https://{value}"


def _google(t: Mapping[str, Any]) -> Preset:
    return Preset("https://accounts.google.com/.well-known/openid-configuration", "Google")


def _microsoft(t: Mapping[str, Any]) -> Preset:
    tenant = _need(t, "tenant", "microsoft", "your-tenant-id")
    return Preset(f"https://login.microsoftonline.com/{tenant}/v2.0/.well-known/openid-configuration", "Microsoft")


def _auth0(t: Mapping[str, Any]) -> Preset:
    domain = _host(_need(t, "domain", "auth0", "your-tenant.eu.auth0.com"))
    return Preset(f"{domain}/.well-known/openid-configuration", "Auth0")


def _okta(t: Mapping[str, Any]) -> Preset:
    domain = _host(_need(t, "domain", "okta", "your-org.okta.com"))
    server = str(t.get("authorization_server") or "default")
    return Preset(f"{domain}/oauth2/{server}/.well-known/openid-configuration", "Okta")


def _keycloak(t: Mapping[str, Any]) -> Preset:
    url = _host(_need(t, "url", "keycloak", "https://keycloak.example.org"))
    realm = _need(t, "realm", "keycloak", "myrealm")
    return Preset(f"{url}/realms/{realm}/.well-known/openid-configuration", "Keycloak")


def _cognito(t: Mapping[str, Any]) -> Preset:
    region = _need(t, "region", "cognito", "eu-west-1")
    pool = _need(t, "pool_id", "cognito", "eu-west-1_AbCdEf123")
    return Preset(f"https://cognito-idp.{region}.amazonaws.com/{pool}/.well-known/openid-configuration", "Amazon Cognito")


def _gitlab(t: Mapping[str, Any]) -> Preset:
    domain = _host(str(t.get("domain") or "gitlab.com").strip("/"))
    return Preset(f"{domain}/.well-known/openid-configuration", "GitLab")


def _github(t: Mapping[str, Any]) -> Preset:
    return Preset(None, "GitHub", kind="github")


PRESETS = {
    "google": _google,
    "microsoft": _microsoft,
    "auth0": _auth0,
    "okta": _okta,
    "keycloak": _keycloak,
    "cognito": _cognito,
    "gitlab": _gitlab,
    "github": _github,
}


def resolve_preset(name: str, table: Mapping[str, Any]) -> Preset:
    """The discovery URL and display name a preset gives; ValueError names a missing key."""
    return PRESETS[name](table)
