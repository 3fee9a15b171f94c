"""``[auth.NAME]`` with ``provider = "firebase"``: which Firebase project signs users in."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ..addresses import is_loopback
from ..errors import ConfigError

#: The Firebase JS SDK release the login page loads (ES modules ``firebase-app.js`` and
#: ``firebase-auth.js``); ``sdk_url`` may point at a copy of exactly this version.
FIREBASE_SDK_VERSION = "12.19.0"
DEFAULT_SDK_URL = f"https://www.gstatic.com/firebasejs/{FIREBASE_SDK_VERSION}/"
#: Google's public keys for Firebase ID tokens: ``{kid: PEM certificate}``.
DEFAULT_KEYS_URL = "https://www.googleapis.com/robot/v1/metadata/x509/securetoken@system.gserviceaccount.com"
#: What the login page may offer: email and password, or a federated provider by its id.
SIGN_IN_METHODS = frozenset({"password", "google.com", "github.com", "microsoft.com", "apple.com",
                             "facebook.com", "twitter.com", "yahoo.com"})


@dataclass(frozen=True)
class FirebaseConfig:
    """One Firebase project the app accepts sign-ins from."""

    name: str
    project_id: str
    api_key: str
    sign_in_methods: tuple[str, ...] = ("password",)
    sdk_url: str = DEFAULT_SDK_URL
    keys_url: str = DEFAULT_KEYS_URL
    #: ``host:port`` of the Firebase Auth Emulator (loopback only), or None.
    emulator_host: str | None = None
    require_email_verified: bool = False
    auth_domain: str = ""
    display_name: str = "Firebase"

    @property
    def issuer(self) -> str:
        """The ``iss`` of this project's ID tokens."""
        return f"https://securetoken.google.com/{self.project_id}"

    def browser_config(self) -> dict[str, Any]:
        """What the login page's script needs (all public by design; no secret here)."""
        return {"apiKey": self.api_key, "projectId": self.project_id,
                "authDomain": self.auth_domain or f"{self.project_id}.firebaseapp.com"}


def is_firebase_table(table: Mapping[str, Any]) -> bool:
    return table.get("provider") == "firebase"


def parse_firebase_provider(name: str, table: Mapping[str, Any], where: str) -> FirebaseConfig:
    """The table's Firebase settings, or ``ConfigError`` naming the key and what it expects."""
    project_id = _text(table, "project_id", where, required=True)
    if not all(c.isalnum() or c == "-" for c in project_id) or len(project_id) > 64:
        raise ConfigError(f"{where} project_id: expected a Firebase project id (letters, digits, '-'), "
                          f"got {project_id!r}")
    methods = table.get("sign_in_methods", ["password"])
    if isinstance(methods, str):
        methods = [methods]
    if not isinstance(methods, list) or not methods or not all(isinstance(m, str) for m in methods):
        raise ConfigError(f"{where} sign_in_methods: expected a list such as [\"password\", \"google.com\"]")
    unknown = [m for m in methods if m not in SIGN_IN_METHODS]
    if unknown:
        raise ConfigError(f"{where} sign_in_methods: {unknown[0]!r} is not one of {sorted(SIGN_IN_METHODS)}")
    sdk_url = _url(table, "sdk_url", where, DEFAULT_SDK_URL)
    keys_url = _url(table, "keys_url", where, DEFAULT_KEYS_URL)
    emulator = _emulator_host(table.get("emulator_host"), where)
    verified = table.get("require_email_verified", False)
    if not isinstance(verified, bool):
        raise ConfigError(f"{where} require_email_verified: expected true or false, got {verified!r}")
    return FirebaseConfig(
        name=name, project_id=project_id, api_key=_text(table, "api_key", where, required=True),
        sign_in_methods=tuple(dict.fromkeys(methods)), sdk_url=sdk_url if sdk_url.endswith("/") else sdk_url + "/",
        keys_url=keys_url, emulator_host=emulator, require_email_verified=verified,
        auth_domain=_text(table, "auth_domain", where) or "",
        display_name=_text(table, "display_name", where) or "Firebase",
    )


def _text(table: Mapping[str, Any], key: str, where: str, *, required: bool = False) -> str:
    value = table.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where} {key}: expected a non-empty string (provider = \"firebase\" needs it)"
                          if required else f"{where} {key}: expected a string, got {value!r}")
    if any(c in value for c in "\"'<>\\\r\n"):
        raise ConfigError(f"{where} {key}: quotes, angle brackets and line breaks are not allowed, got {value!r}")
    return value.strip()


def _url(table: Mapping[str, Any], key: str, where: str, default: str) -> str:
    value = _text(table, key, where) or default
    parts = urlsplit(value)
    loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
    if not parts.netloc or not (parts.scheme == "https" or (parts.scheme == "http" and loopback)):
        raise ConfigError(f"{where} {key}: expected an https URL (http only on loopback), got {value!r}")
    return value


def _emulator_host(value: object, where: str) -> str | None:
    """``host:port`` of the Auth Emulator: loopback only, since it issues unsigned tokens."""
    if value is None:
        return None
    key = f"{where} emulator_host"
    if not isinstance(value, str) or ":" not in value:
        raise ConfigError(f"{key}: expected host:port of the Firebase Auth Emulator on loopback, "
                          f"such as \"127.0.0.1:9099\", got {value!r}")
    host, _, port = value.rpartition(":")
    if not is_loopback(host) or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"{key}: the emulator issues unsigned tokens, so only a loopback host:port is "
                          f"accepted (such as \"127.0.0.1:9099\"), got {value!r}")
    return value
