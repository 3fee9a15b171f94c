"""streamlit-auth's configuration: the ``[auth]`` table of ``.streamlit/secrets.toml``.

A superset of Streamlit's native ``[auth]`` format. Read through Streamlit's public
``st.secrets`` and validated at start-up: a wrong key stops the server with the key's
name and what is expected; an unknown key is warned about.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from .audit import AuditConfig, parse_audit
from .durations import parse_duration
from .errors import ConfigError
from .options import PROVIDER_SECTION, SECTIONS, check_table, keys_of
from .firebase.config import FirebaseConfig, is_firebase_table, parse_firebase_provider
from .saml.config import SamlProviderConfig, parse_saml_provider
from .saml.support import require_saml_support
from .login_branding import LoginBranding, resolve_branding
from .oidc.presets import PRESETS, resolve_preset
from .oidc.tenants import MULTI_TENANT_VALUES, TenantRule, is_guid
from .oidc.userinfo_policy import USERINFO_MODES, UserinfoPolicy
from .accounts.mail import SmtpConfig, parse_smtp
from .sources.ldap import LdapConfig, parse_ldap
from .sources.proxy import ProxyConfig, parse_proxy
from .roles import DEFAULT_GROUP_CLAIMS, GROUP_CLAIM_PRESETS, RoleRule, group_claims, parse_roles

LOGGER = logging.getLogger("stauth_server.config")

MIN_SECRET_LENGTH = 32
DEFAULT_TTL = "7d"
DEFAULT_SCOPE = "openid email profile"
TOKEN_KINDS = ("id", "access")

#: [auth] keys that are not providers, [auth] sub-tables that are not providers, and a
#: provider's keys: all declared once in ``core.options`` (type, default, doc).
TOP_LEVEL_KEYS = set(keys_of("auth"))
SECTION_KEYS = {section.split(".", 1)[1] for section in SECTIONS}
PROVIDER_KEYS = set(keys_of(PROVIDER_SECTION))


@dataclass(frozen=True)
class ProviderConfig:
    """One way to sign in with an identity provider."""

    name: str
    client_id: str
    client_secret: str | None
    server_metadata_url: str | None
    kind: str = "oidc"  # "oidc", or "github" (plain OAuth2 with its user API)
    client_kwargs: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    display_name: str = ""
    #: Claims holding the user's groups (see ``roles.GROUP_CLAIM_PRESETS``).
    groups_claims: tuple[str, ...] = DEFAULT_GROUP_CLAIMS
    #: The ``aud`` of JWT access tokens this provider issues for the app's routes; None:
    #: its access tokens are not accepted as ``Authorization: Bearer`` (see ``core.bearer``).
    api_audience: str | None = None
    #: Microsoft Entra multi-tenant (``tenant = "common"``/``"organizations"``): which tenants.
    tenants: TenantRule | None = None
    #: When the callback asks userinfo; ``[auth] userinfo`` (default "auto") sets it at parse time.
    userinfo: UserinfoPolicy = UserinfoPolicy()

    @property
    def scope(self) -> str:
        return str(self.client_kwargs.get("scope", DEFAULT_SCOPE if self.kind == "oidc" else "read:user user:email"))


@dataclass(frozen=True)
class ServerConfig:
    """The parts of the config the server needs at start-up."""

    routes: tuple[Path, ...] = ()
    redirect_uri: str | None = None
    cookie_secrets: tuple[str, ...] = ()
    default_ttl: int = 7 * 86400
    idle_timeout: int | None = None
    expose_tokens: tuple[str, ...] = ()
    providers: Mapping[str, ProviderConfig] = field(default_factory=lambda: MappingProxyType({}))
    #: ``[auth.NAME]`` tables with ``provider = "firebase"`` (core.firebase).
    firebase: Mapping[str, FirebaseConfig] = field(default_factory=lambda: MappingProxyType({}))
    #: ``[auth.NAME]`` tables with ``protocol = "saml"`` (core.saml).
    saml: Mapping[str, SamlProviderConfig] = field(default_factory=lambda: MappingProxyType({}))
    store_url: str | None = None
    roles: Mapping[str, tuple[RoleRule, ...]] = field(default_factory=lambda: MappingProxyType({}))
    access: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    require_login: bool = False
    users_file: Path | None = None
    #: ``[auth.local] min_password_length``: the shortest new password accepted (core.accounts.passwords).
    min_password_length: int = 12
    #: ``[auth.local] require_second_factor``: true (everyone), false, or the roles that need one.
    require_second_factor: bool | tuple[str, ...] = False
    proxy: ProxyConfig | None = None
    ldap: LdapConfig | None = None
    #: ``[auth.smtp]``: how invitation and password-reset links are e-mailed (None: to the log).
    smtp: SmtpConfig | None = None
    login_template: Path | None = None
    on_login: tuple[Path, str] | None = None
    #: Who may frame our sign-in pages (CSP ``frame-ancestors``); ``'self'`` by default.
    frame_ancestors: tuple[str, ...] = ("'self'",)
    #: ``[auth.audit]``: the audit trail's file, when it has one.
    audit: AuditConfig | None = None
    #: ``[auth] password_source_chooser``: the form lets the user pick local or LDAP.
    password_source_chooser: bool = False
    #: ``[auth] login_title`` / ``login_logo``, or what the main script says (core.login_branding).
    login_branding: LoginBranding = field(default_factory=LoginBranding)

    @property
    def sign_in_enabled(self) -> bool:
        return any((self.providers, self.users_file, self.proxy, self.ldap, self.firebase, self.saml))


def _routes(auth: Mapping[str, Any], app_dir: Path) -> tuple[Path, ...]:
    raw = auth.get("routes", ())
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, (list, tuple)) or not all(isinstance(item, str) and item for item in raw):
        raise ConfigError(f"[auth] routes: expected a list of Python file paths, got {raw!r}")
    return tuple(app_dir / item for item in raw)


def _string(table: Mapping[str, Any], key: str, where: str, *, required: bool = False) -> str | None:
    value = table.get(key)
    if value is None:
        if required:
            raise ConfigError(f"{where} {key}: missing; expected a string")
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where} {key}: expected a non-empty string, got {type(value).__name__}")
    return value.strip()


def _secrets(auth: Mapping[str, Any]) -> tuple[str, ...]:
    listed = auth.get("cookie_secrets")
    single = auth.get("cookie_secret")
    if listed is not None:
        if not isinstance(listed, (list, tuple)) or not listed or not all(isinstance(s, str) for s in listed):
            raise ConfigError("[auth] cookie_secrets: expected a list of strings, newest first")
        secrets = list(listed)
        if isinstance(single, str) and single not in secrets:
            secrets.append(single)
    elif single is not None:
        if not isinstance(single, str):
            raise ConfigError("[auth] cookie_secret: expected a string")
        secrets = [single]
    else:
        raise ConfigError(
            "[auth] cookie_secret: missing; expected a random string of at least "
            f"{MIN_SECRET_LENGTH} characters (python -c 'import secrets; print(secrets.token_urlsafe(32))')"
        )
    for secret in secrets:
        if len(secret) < MIN_SECRET_LENGTH:
            raise ConfigError(
                f"[auth] cookie_secret: too short ({len(secret)} characters); expected at least "
                f"{MIN_SECRET_LENGTH} random characters"
            )
    return tuple(secrets)


def _split(url: str, key: str) -> Any:
    """``urlsplit`` whose refusal (a broken IPv6 host) names the key."""
    try:
        return urlsplit(url)
    except ValueError as exc:
        raise ConfigError(f"{key}: not a valid URL ({exc}): {url!r}") from None


def _redirect_uri(auth: Mapping[str, Any]) -> str:
    uri = _string(auth, "redirect_uri", "[auth]", required=True)
    assert uri is not None
    parts = _split(uri, "[auth] redirect_uri")
    if parts.scheme not in ("http", "https") or not parts.netloc or not parts.path.endswith("/oauth2callback"):
        raise ConfigError(
            f"[auth] redirect_uri: expected an absolute http(s) URL ending in /oauth2callback, got {uri!r}"
        )
    return uri


def _client_kwargs(table: Mapping[str, Any], where: str) -> Mapping[str, Any]:
    kwargs = table.get("client_kwargs", {})
    if not isinstance(kwargs, Mapping):
        raise ConfigError(f"{where} client_kwargs: expected a table such as {{ scope = \"openid email\" }}")
    return MappingProxyType(dict(kwargs))


def _provider(name: str, table: Mapping[str, Any], where: str) -> ProviderConfig:
    check_table(table, PROVIDER_SECTION, where)
    client_id = _string(table, "client_id", where, required=True)
    secret = _string(table, "client_secret", where)
    metadata_url = _string(table, "server_metadata_url", where)
    preset = table.get("provider")
    kind = "oidc"
    display = str(table.get("display_name") or "")
    if preset is not None:
        if not isinstance(preset, str) or preset not in PRESETS:
            raise ConfigError(f"{where} provider: expected one of {sorted(PRESETS)}, got {preset!r}")
        try:
            resolved = resolve_preset(str(preset), table)
        except ValueError as exc:
            raise ConfigError(f"{where} {exc}") from None
        metadata_url = metadata_url or resolved.server_metadata_url
        kind = resolved.kind
        display = display or resolved.display_name
    if kind == "oidc":
        if not metadata_url:
            raise ConfigError(
                f"{where} server_metadata_url: missing; expected the OpenID Provider's "
                "/.well-known/openid-configuration URL (or set provider = \"google\" etc.)"
            )
        parts = _split(metadata_url, f"{where} server_metadata_url")
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(f"{where} server_metadata_url: expected an absolute http(s) URL, got {metadata_url!r}")
    api_audience = _string(table, "api_audience", where)
    if api_audience is not None and kind != "oidc":
        raise ConfigError(f"{where} api_audience: only OpenID Connect providers issue JWT access tokens "
                          f"(this one is {kind!r})")
    assert client_id is not None
    return ProviderConfig(
        name=name,
        client_id=client_id,
        client_secret=secret,
        server_metadata_url=metadata_url,
        kind=kind,
        client_kwargs=_client_kwargs(table, where),
        display_name=display or name.replace("_", " ").title(),
        groups_claims=_groups_claims(table.get("groups_claim", preset if preset in GROUP_CLAIM_PRESETS else None), where),
        tenants=_tenants(table, preset, where),
        api_audience=api_audience,
    )


def _tenants(table: Mapping[str, Any], preset: object, where: str) -> TenantRule | None:
    """A Microsoft multi-tenant app's rule (``tenant = "common"``/``"organizations"``), and
    ``allowed_tenants``: tenant GUIDs, only meaningful for such an app."""
    tenant = str(table.get("tenant") or "").strip().strip("/").lower()
    multi = preset == "microsoft" and tenant in MULTI_TENANT_VALUES
    raw = table.get("allowed_tenants")
    if raw is None:
        return TenantRule() if multi else None
    if not multi:
        raise ConfigError(f"{where} allowed_tenants: only for provider = \"microsoft\" with tenant = \"common\" "
                          "or \"organizations\" (a single-tenant app already accepts one tenant)")
    if (not isinstance(raw, (list, tuple)) or not raw
            or not all(isinstance(t, str) and is_guid(t.strip().lower()) for t in raw)):
        raise ConfigError(f"{where} allowed_tenants: expected a list of tenant ids (GUIDs such as "
                          f"\"72f988bf-86f1-41af-91ab-2d7cd011db47\"), got {raw!r}")
    return TenantRule(frozenset(t.strip().lower() for t in raw))


def _groups_claims(setting: object, where: str) -> tuple[str, ...]:
    if setting is not None and not (isinstance(setting, str) or (
            isinstance(setting, (list, tuple)) and all(isinstance(s, str) for s in setting))):
        raise ConfigError(f"{where} groups_claim: expected a claim name, a list of them, or one of "
                          f"{sorted(GROUP_CLAIM_PRESETS)}, got {setting!r}")
    return group_claims(setting)  # type: ignore[arg-type]


def _access(auth: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """``[auth.access]``: page (url path or file) -> roles, or "public" (an empty tuple)."""
    table = auth.get("access", {})
    if not isinstance(table, Mapping):
        raise ConfigError("[auth.access]: expected a table of page = [\"role\", ...] or \"public\"")
    rules: dict[str, tuple[str, ...]] = {}
    for page, rule in table.items():
        if rule == "public":
            rules[str(page).strip("/")] = ()
        elif isinstance(rule, str) and rule:
            rules[str(page).strip("/")] = (rule,)
        elif isinstance(rule, (list, tuple)) and rule and all(isinstance(r, str) and r for r in rule):
            rules[str(page).strip("/")] = tuple(rule)
        else:
            raise ConfigError(f"[auth.access] {page}: expected \"public\" or a list of roles, got {rule!r}")
    return rules


def _providers(auth: Mapping[str, Any]) -> dict[str, ProviderConfig]:
    providers: dict[str, ProviderConfig] = {}
    if "client_id" in auth:
        providers["default"] = _provider("default", {k: v for k, v in auth.items() if k in PROVIDER_KEYS}, "[auth]")
    for name, table in auth.items():
        if name in TOP_LEVEL_KEYS or name in SECTION_KEYS or ("default" in providers and name in PROVIDER_KEYS):
            continue
        if not isinstance(table, Mapping):
            continue  # an unknown [auth] key: check_table warned about it
        if is_firebase_table(table):
            continue  # core.firebase reads it (_firebase_providers)
        if is_saml_table(table):
            continue  # core.saml reads it (_saml_providers)
        providers[name] = _provider(name, table, f"[auth.{name}]")
    return providers


def _firebase_providers(auth: Mapping[str, Any]) -> dict[str, FirebaseConfig]:
    """``[auth.NAME]`` tables with ``provider = "firebase"``."""
    found: dict[str, FirebaseConfig] = {}
    for name, table in auth.items():
        if name in TOP_LEVEL_KEYS or name in SECTION_KEYS or not isinstance(table, Mapping):
            continue
        if is_firebase_table(table):
            check_table(table, PROVIDER_SECTION, f"[auth.{name}]")
            found[name] = parse_firebase_provider(name, table, f"[auth.{name}]")
    return found


def is_saml_table(table: Mapping[str, Any]) -> bool:
    """An ``[auth.NAME]`` table with ``protocol = "saml"``."""
    return table.get("protocol") == "saml"


def _saml_providers(auth: Mapping[str, Any], app_dir: Path) -> dict[str, SamlProviderConfig]:
    """``[auth.NAME]`` tables with ``protocol = "saml"`` (``[auth] redirect_uri`` required:
    the SP's URLs are built from it); SAML support is checked at start-up."""
    tables = {name: table for name, table in auth.items()
              if name not in TOP_LEVEL_KEYS and name not in SECTION_KEYS and isinstance(table, Mapping)
              and is_saml_table(table)}
    if not tables:
        return {}
    redirect_uri = _redirect_uri(auth)
    require_saml_support()
    return {name: parse_saml_provider(name, table, redirect_uri=redirect_uri, app_dir=app_dir)
            for name, table in tables.items()}


def _expose_tokens(auth: Mapping[str, Any]) -> tuple[str, ...]:
    raw = auth.get("expose_tokens", ())
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, (list, tuple)) or any(item not in TOKEN_KINDS for item in raw):
        raise ConfigError(f"[auth] expose_tokens: expected a list drawn from {list(TOKEN_KINDS)}, got {raw!r}")
    return tuple(raw)


STORE_SCHEMES = ("sqlite", "memory", "redis", "rediss", "unix")


def _store_url(auth: Mapping[str, Any], app_dir: Path) -> str:
    """``[auth.store] url``: a SQLite file (default: ``.streamlit/stauth-sessions.db`` beside the
    app), ``memory://`` or a Redis URL. A relative SQLite path is from the app's folder."""
    from .store import default_store_url

    store = auth.get("store", {})
    if not isinstance(store, Mapping):
        raise ConfigError("[auth.store]: expected a table with url = \"sqlite:///path\", \"memory://\" or \"redis://...\"")
    url = store.get("url")
    if url is None:
        return default_store_url(app_dir)
    scheme = _split(url, "[auth.store] url").scheme if isinstance(url, str) else ""
    if scheme not in STORE_SCHEMES or (scheme == "sqlite" and not url.startswith("sqlite://")):
        raise ConfigError("[auth.store] url: expected sqlite:///path/to/sessions.db, memory:// or a redis:// URL, "
                          f"got {url!r}")
    if scheme == "sqlite":
        path = url[len("sqlite://"):]
        if not path or path.endswith("/") or "\x00" in path:
            raise ConfigError(f"[auth.store] url: expected a file path after sqlite://, got {url!r}")
        return f"sqlite://{(app_dir / path).resolve()}"
    return url


def _frame_ancestors(auth: Mapping[str, Any]) -> tuple[str, ...]:
    raw = auth.get("frame_ancestors", ["'self'"])
    if isinstance(raw, str):
        raw = [raw]
    if (not isinstance(raw, (list, tuple)) or not raw
            or not all(isinstance(item, str) and item and not any(c in item for c in ";,\r\n") for item in raw)):
        raise ConfigError(f"[auth] frame_ancestors: expected a list of CSP sources like [\"'self'\", "
                          f"\"https://portal.example.org\"], got {raw!r}")
    return tuple(raw)


def _users_file(auth: Mapping[str, Any], app_dir: Path) -> Path | None:
    local = auth.get("local")
    if local is None:
        return None
    if not isinstance(local, Mapping) or not isinstance(local.get("users_file"), str) or not local["users_file"]:
        raise ConfigError("[auth.local] users_file: missing; expected the path of a users file "
                          "(create one with: streamlit-auth users add users.toml alice)")
    path = app_dir / local["users_file"]
    if not path.is_file():
        raise ConfigError(f"[auth.local] users_file: {path} does not exist "
                          f"(create it with: streamlit-auth users add {path} USERNAME)")
    return path


def _local_policy(auth: Mapping[str, Any]) -> dict[str, Any]:
    """``[auth.local] min_password_length`` and ``require_second_factor``."""
    local = auth.get("local")
    local = local if isinstance(local, Mapping) else {}
    length = local.get("min_password_length", 12)
    if type(length) is not int or not 8 <= length <= 1024:
        raise ConfigError(f"[auth.local] min_password_length: expected a whole number from 8 to 1024, got {length!r}")
    required = local.get("require_second_factor", False)
    if isinstance(required, list) and all(isinstance(r, str) and r for r in required):
        required = tuple(required)
    elif not isinstance(required, bool):
        raise ConfigError("[auth.local] require_second_factor: expected true, false or a list of role names "
                          f"like [\"admin\"], got {required!r}")
    return {"min_password_length": length, "require_second_factor": required}


def _login_template(auth: Mapping[str, Any], app_dir: Path) -> Path | None:
    raw = auth.get("login_template")
    if raw is None:
        return None
    path = app_dir / raw if isinstance(raw, str) and raw else None
    if path is None or not path.is_file():
        raise ConfigError(f"[auth] login_template: expected an HTML file next to the app, got {raw!r}")
    if "$login_form" not in path.read_text(encoding="utf-8"):
        raise ConfigError(f"[auth] login_template: {path} must contain $login_form where the sign-in form goes")
    return path


def _on_login(auth: Mapping[str, Any], app_dir: Path) -> tuple[Path, str] | None:
    raw = auth.get("on_login")
    if raw is None:
        return None
    file, sep, function = str(raw).rpartition(":")
    if not isinstance(raw, str) or not sep or not file.endswith(".py") or not function.isidentifier():
        raise ConfigError(f"[auth] on_login: expected \"hooks.py:function_name\", got {raw!r}")
    return app_dir / file, function


def parse_server_config(auth: Mapping[str, Any], app_dir: Path, main_script: Path | None = None) -> ServerConfig:
    """Validate ``[auth]``; relative paths are from the app script's folder. ``main_script``
    gives the login page its default title and logo (``core.login_branding``)."""
    check_table({k: v for k, v in auth.items() if not isinstance(v, Mapping) or k in TOP_LEVEL_KEYS}, "auth",
                also_known=SECTION_KEYS)
    for section in ("auth.local", "auth.store", "auth.proxy", "auth.ldap", "auth.smtp", "auth.audit"):
        table = auth.get(section.split(".", 1)[1])
        if isinstance(table, Mapping):
            check_table(table, section)
    routes = _routes(auth, app_dir)
    providers = _providers(auth)
    require_login = auth.get("require_login", False)
    if not isinstance(require_login, bool):
        raise ConfigError(f"[auth] require_login: expected true or false, got {require_login!r}")
    rules = dict(roles=MappingProxyType(parse_roles(auth.get("roles"))), access=MappingProxyType(_access(auth)),
                 require_login=require_login, login_template=_login_template(auth, app_dir),
                 on_login=_on_login(auth, app_dir), audit=parse_audit(auth.get("audit"), app_dir))
    users_file = _users_file(auth, app_dir)
    proxy = parse_proxy(auth.get("proxy"))
    ldap = parse_ldap(auth.get("ldap"), app_dir)
    smtp = parse_smtp(auth.get("smtp"))
    firebase = _firebase_providers(auth)
    saml = _saml_providers(auth, app_dir)
    if not providers and users_file is None and proxy is None and ldap is None and not firebase and not saml:
        return ServerConfig(routes=routes, **rules)
    try:
        default_ttl = parse_duration(auth.get("default_ttl", DEFAULT_TTL), "[auth] default_ttl")
        idle = auth.get("idle_timeout")
        idle_timeout = parse_duration(idle, "[auth] idle_timeout") if idle is not None else None
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    providers = _with_userinfo_policy(providers, _choice(auth, "userinfo", USERINFO_MODES), rules["roles"])
    return ServerConfig(
        routes=routes,
        # also without a provider when given: passkeys and e-mailed links take the app's URL from it
        redirect_uri=_redirect_uri(auth) if providers or saml or auth.get("redirect_uri") is not None else None,
        users_file=users_file,
        **_local_policy(auth),
        proxy=proxy,
        ldap=ldap,
        smtp=smtp,
        cookie_secrets=_secrets(auth),
        default_ttl=default_ttl,
        idle_timeout=idle_timeout,
        expose_tokens=_expose_tokens(auth),
        providers=MappingProxyType(providers),
        firebase=MappingProxyType(firebase),
        saml=MappingProxyType(saml),
        store_url=_store_url(auth, app_dir),
        frame_ancestors=_frame_ancestors(auth),
        password_source_chooser=_flag(auth, "password_source_chooser"),
        login_branding=resolve_branding(_string(auth, "login_title", "[auth]"), _string(auth, "login_logo", "[auth]"),
                                        app_dir, main_script),
        **rules,
    )


def _flag(auth: Mapping[str, Any], key: str) -> bool:
    value = auth.get(key, False)
    if not isinstance(value, bool):
        raise ConfigError(f"[auth] {key}: expected true or false, got {value!r}")
    return value


def _choice(auth: Mapping[str, Any], key: str, choices: tuple[str, ...]) -> str:
    value = auth.get(key, choices[0])
    if value not in choices:
        raise ConfigError(f"[auth] {key}: expected one of {', '.join(repr(c) for c in choices)}, got {value!r}")
    return str(value)


def _with_userinfo_policy(providers: dict[str, ProviderConfig], mode: str,
                          roles: Mapping[str, tuple[RoleRule, ...]]) -> dict[str, ProviderConfig]:
    """``[auth] userinfo`` for each provider, with the claims ``"auto"`` needs from its ID tokens."""
    rules = [rule for role_rules in roles.values() for rule in role_rules]
    return {name: replace(p, userinfo=UserinfoPolicy.for_provider(mode, p.scope, p.groups_claims, rules))
            for name, p in providers.items()}


def load_server_config(app_dir: Path, main_script: Path | None = None) -> ServerConfig:
    """Read ``[auth]`` from ``st.secrets`` (an absent secrets file means defaults)."""
    import streamlit as st

    try:
        auth = st.secrets.get("auth", {}) if st.secrets.load_if_toml_exists() else {}
    except Exception as exc:  # a malformed secrets.toml
        raise ConfigError(f".streamlit/secrets.toml could not be read: {exc}") from exc
    if not isinstance(auth, Mapping):
        raise ConfigError(f"[auth]: expected a table, got {type(auth).__name__}")
    return parse_server_config(_plain(auth), app_dir, main_script)


def _plain(value: Any) -> Any:
    """st.secrets' AttrDicts as plain dicts."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
