"""Every ``[auth]`` option, declared once: key, type, default and a one-line doc.

The declaration drives three things, so they cannot drift apart:

* the type check every table gets before its parser reads it (``check_table``): a value of
  the wrong type stops start-up with ``[section] key: expected <type>, got <value>``;
* the unknown-key policy, the same everywhere: a warning naming the nearest known key;
* the README's reference tables (``reference_markdown``; ``scripts/config_reference.py``
  writes them, and a test fails when the README and this declaration differ).

Semantic checks (a URL's shape, a DN, a duration's unit, a file that must exist) stay with
each section's parser.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import ConfigError

LOGGER = logging.getLogger("stauth_server.config")


@dataclass(frozen=True)
class Kind:
    """A value type: how the docs name it and how a value is checked."""

    name: str
    accepts: Callable[[Any], bool]


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


def _is_str_list(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value)


STRING = Kind("string", _is_str)
URL = Kind("URL", _is_str)
PATH = Kind("path", _is_str)
DURATION = Kind("duration", lambda v: isinstance(v, (str, int)) and not isinstance(v, bool))
BOOL = Kind("true or false", lambda v: isinstance(v, bool))
POSITIVE_INT = Kind("a positive integer", lambda v: type(v) is int and v > 0)
STRINGS = Kind("list of strings", _is_str_list)
STRING_OR_STRINGS = Kind("string or list of strings", lambda v: _is_str(v) or _is_str_list(v))
BOOL_OR_STRINGS = Kind("true, false or list of strings", lambda v: isinstance(v, bool) or _is_str_list(v))
TABLE = Kind("table", lambda v: isinstance(v, Mapping))


@dataclass(frozen=True)
class Option:
    """One key of one section (``section`` as written in TOML, e.g. ``auth.ldap``)."""

    section: str
    key: str
    kind: Kind
    default: str
    doc: str

    @property
    def label(self) -> str:
        return f"[{self.section}] {self.key}"


#: Sections whose keys are names the user chooses (roles, pages): not declared key by key.
FREE_FORM_SECTIONS: Mapping[str, str] = {
    "auth.roles": "role = [\"alice@example.org\", \"group:admins\", \"domain:example.org\", \"claim:dept=eng\"]",
    "auth.access": "page url path = [\"role\", ...] or \"public\"",
}
#: ``[auth.NAME]``: a named identity provider (any name that is not a section below).
PROVIDER_SECTION = "auth.NAME"


def _options() -> tuple[Option, ...]:
    auth, provider = "auth", PROVIDER_SECTION
    o = Option
    return (
        # --- [auth] --------------------------------------------------------------------------
        o(auth, "redirect_uri", URL, "required with a provider or passkeys", "`https://host[/base]/oauth2callback`, registered with the provider; passkeys' RP ID and origin; where e-mailed invitation and reset links point (no \"Forgot your password?\" without it)"),
        o(auth, "cookie_secret", STRING, "required with sign-in", "seals our cookies: at least 32 random characters"),
        o(auth, "cookie_secrets", STRINGS, "-", "rotation: newest first; replaces or extends `cookie_secret`"),
        o(auth, "default_ttl", DURATION, '`"7d"`', "absolute session lifetime"),
        o(auth, "idle_timeout", DURATION, "none", "end sessions unused this long"),
        o(auth, "expose_tokens", STRING_OR_STRINGS, "`[]`", "tokens on `st.user.tokens`: `\"id\"`, `\"access\"`"),
        o(auth, "routes", STRING_OR_STRINGS, "`[]`", "routes modules (`@sa.route`, hooks), relative to the app's folder"),
        o(auth, "require_login", BOOL, "`false`", "every page needs sign-in unless `[auth.access]` marks it public"),
        o(auth, "groups_claim", STRING_OR_STRINGS, '`["groups", "roles"]`', "claim(s) holding groups, or a preset name"),
        o(auth, "login_template", PATH, "built-in page", "an HTML file with `$login_form` where the form goes"),
        o(auth, "login_title", STRING, "the app's title", "the name the login page shows"),
        o(auth, "login_logo", STRING, "none", "a logo for the login page: an image path beside the app, or a URL"),
        o(auth, "password_source_chooser", BOOL, "`false`", "show a local/LDAP chooser instead of one form trying both"),
        o(auth, "userinfo", STRING, '`"auto"`', "call the provider's userinfo: `\"auto\"` (only when the ID token lacks a needed claim), `\"always\"`, `\"never\"`"),
        o(auth, "on_login", STRING, "none", "`\"hooks.py:function\"`, an `@sa.on_login` hook set in config"),
        o(auth, "frame_ancestors", STRING_OR_STRINGS, "`[\"'self'\"]`", "who may frame the sign-in pages (CSP sources)"),
        o(auth, "client_id", STRING, "-", "the native unnamed provider (`\"default\"`): its client id"),
        o(auth, "client_secret", STRING, "-", "the unnamed provider's client secret"),
        o(auth, "server_metadata_url", URL, "-", "the unnamed provider's `/.well-known/openid-configuration`"),
        o(auth, "client_kwargs", TABLE, "`{}`", "the unnamed provider's extras: `scope`, `prompt`, ..."),
        o(auth, "provider", STRING, "-", "the unnamed provider's preset (`\"google\"`, `\"microsoft\"`, ...)"),
        # --- [auth.NAME] -----------------------------------------------------------------------
        o(provider, "client_id", STRING, "required", "the client id registered with the provider"),
        o(provider, "client_secret", STRING, "-", "its client secret (none for public clients)"),
        o(provider, "server_metadata_url", URL, "from the preset", "the provider's `/.well-known/openid-configuration`"),
        o(provider, "provider", STRING, "-", "a preset: google, microsoft, auth0, okta, keycloak, cognito, gitlab, github; or firebase"),
        o(provider, "client_kwargs", TABLE, "`{}`", "`scope`, `prompt` and other authorization parameters"),
        o(provider, "display_name", STRING, "from the preset or the name", "the button's label on the login page"),
        o(provider, "groups_claim", STRING_OR_STRINGS, "the preset's", "claim(s) holding this provider's groups"),
        o(provider, "tenant", STRING, "-", "microsoft: a tenant id, `\"common\"` or `\"organizations\"`"),
        o(provider, "allowed_tenants", STRINGS, "any", "microsoft multi-tenant: the tenant ids allowed to sign in"),
        o(provider, "domain", STRING, "-", "auth0, okta: the tenant's domain"),
        o(provider, "realm", STRING, "-", "keycloak: the realm"),
        o(provider, "url", URL, "-", "keycloak, gitlab: the server's base URL"),
        o(provider, "region", STRING, "-", "cognito: the AWS region"),
        o(provider, "pool_id", STRING, "-", "cognito: the user pool id"),
        o(provider, "authorization_server", STRING, "-", "okta: a custom authorization server id"),
        o(provider, "api_audience", STRING, "none", "accept this provider's JWT access tokens with this `aud` as `Bearer` on routes"),
        o(provider, "project_id", STRING, "-", "firebase: the Firebase project id"),
        o(provider, "api_key", STRING, "-", "firebase: the web API key (public by design)"),
        o(provider, "sign_in_methods", STRINGS, "`[\"password\"]`", "firebase: what the login page offers (`password`, `google.com`, ...)"),
        o(provider, "sdk_url", URL, "Google's CDN, 12.19.0", "firebase: where `firebase-app.js` and `firebase-auth.js` load from"),
        o(provider, "keys_url", URL, "Google's securetoken keys", "firebase: the `{kid: certificate}` keys ID tokens are checked with"),
        o(provider, "emulator_host", STRING, "-", "firebase: the Auth Emulator's `host:port` (loopback only; accepts its unsigned tokens)"),
        o(provider, "require_email_verified", BOOL, "false", "firebase: refuse users whose email is not verified"),
        o(provider, "auth_domain", STRING, "`<project_id>.firebaseapp.com`", "firebase: the SDK's `authDomain` (popup sign-in)"),
        o(provider, "protocol", STRING, "`\"oidc\"`", "saml: `\"saml\"` makes this table a SAML 2.0 identity provider"),
        o(provider, "idp_metadata_url", URL, "-", "saml: the IdP's metadata (https; http only on loopback)"),
        o(provider, "idp_metadata_file", PATH, "-", "saml: or a saved copy of it (relative to the app's folder)"),
        o(provider, "sp_entity_id", STRING, "the app's URL", "saml: this app's entity id, as registered with the IdP"),
        o(provider, "sp_key_file", PATH, "-", "saml: the SP's signing key (PEM): signed AuthnRequests and LogoutRequests"),
        o(provider, "sp_cert_file", PATH, "-", "saml: its certificate (PEM), published in the SP metadata"),
        o(provider, "email_attribute", STRING_OR_STRINGS, '`"mail"`', "saml: attribute(s) holding the email (else an email NameID)"),
        o(provider, "name_attribute", STRING_OR_STRINGS, '`["cn", "displayName"]`', "saml: attribute(s) holding the display name"),
        o(provider, "groups_attribute", STRING_OR_STRINGS, '`["groups", "memberOf"]`', "saml: attribute(s) holding the groups (`group:` in `[auth.roles]`)"),
        o(provider, "name_id_format", STRING, "the IdP's choice", "saml: `email`, `persistent`, `transient`, `unspecified` or a full URN"),
        o(provider, "want_assertions_signed", BOOL, "true", "saml: require the IdP's signature on the assertion"),
        o(provider, "allow_idp_initiated", BOOL, "false", "saml: accept responses to no request of ours (IdP-initiated)"),
        # --- sections ----------------------------------------------------------------------------
        o("auth.local", "users_file", PATH, "-", "local accounts (`streamlit-auth users add FILE NAME`)"),
        o("auth.local", "min_password_length", POSITIVE_INT, "`12`", "the shortest new password accepted (8 or more)"),
        o("auth.local", "require_second_factor", BOOL_OR_STRINGS, "`false`", "`true`: every local account must sign in with a second factor (TOTP) and enrols one at its next password sign-in; `[\"admin\"]`: only accounts with these roles (from the users file or `[auth.roles]`)"),
        o("auth.store", "url", STRING, "`sqlite://` `.streamlit/stauth-sessions.db`", "where sessions live: `sqlite:///path`, `memory://`, `redis://...`"),
        o("auth.proxy", "trusted_proxies", STRINGS, "required", "addresses or CIDRs whose identity headers count"),
        o("auth.proxy", "user_header", STRING, '`"X-Forwarded-User"`', "the user's id"),
        o("auth.proxy", "email_header", STRING, '`"X-Forwarded-Email"`', "the user's email"),
        o("auth.proxy", "groups_header", STRING, '`"X-Forwarded-Groups"`', "comma-separated groups"),
        o("auth.proxy", "username_header", STRING, '`"X-Forwarded-Preferred-Username"`', "the user's short name"),
        o("auth.proxy", "name_header", STRING, "none", "the user's display name"),
        o("auth.ldap", "server_uri", URL, "required", "`ldap://host:389` or `ldaps://host:636`"),
        o("auth.ldap", "user_dn_template", STRING, "-", "direct bind: `\"uid={username},ou=people,dc=example,dc=org\"`"),
        o("auth.ldap", "bind_dn", STRING, "-", "search-then-bind: the service account's DN"),
        o("auth.ldap", "bind_password", STRING, "-", "search-then-bind: the service account's password"),
        o("auth.ldap", "user_search_base", STRING, "-", "search-then-bind: where users are"),
        o("auth.ldap", "user_search_filter", STRING, '`"(uid={username})"`', "search-then-bind: how a user is found"),
        o("auth.ldap", "group_search_base", STRING, "none", "where groups are (group names become `group:` matches)"),
        o("auth.ldap", "group_search_filter", STRING, '`"(member={user_dn})"`', "a user's groups"),
        o("auth.ldap", "email_attribute", STRING, '`"mail"`', "the attribute holding the email"),
        o("auth.ldap", "name_attribute", STRING, '`"cn"`', "the attribute holding the display name"),
        o("auth.ldap", "username_attribute", STRING, '`"uid"`', "the attribute holding the username"),
        o("auth.ldap", "start_tls", BOOL, "`false`", "upgrade `ldap://` with StartTLS"),
        o("auth.ldap", "ca_file", PATH, "system CAs", "PEM file of CA certificates (ldaps:// or StartTLS)"),
        o("auth.ldap", "timeout_seconds", POSITIVE_INT, "`5`", "connect and operation timeout"),
        o("auth.smtp", "host", STRING, "required", "the SMTP server that sends invitations and password-reset links"),
        o("auth.smtp", "port", POSITIVE_INT, "`587`", "its port"),
        o("auth.smtp", "starttls", BOOL, "`true`", "upgrade with STARTTLS (verified certificate); `false` only without a password or on loopback"),
        o("auth.smtp", "username", STRING, "none", "log in with this name (with `password`)"),
        o("auth.smtp", "password", STRING, "none", "and this password (never logged)"),
        o("auth.smtp", "sender", STRING, "required", "the `From` address, e.g. `\"app@example.org\"`"),
        o("auth.audit", "file", PATH, "none", "also write audit events to this JSON-lines file (rotated)"),
        o("auth.audit", "max_bytes", POSITIVE_INT, "`10485760`", "rotate the audit file at this size"),
        o("auth.audit", "backups", POSITIVE_INT, "`5`", "rotated audit files kept"),
    )


OPTIONS: tuple[Option, ...] = _options()
#: Sub-tables of ``[auth]`` that are sections, not providers.
SECTIONS: tuple[str, ...] = tuple(dict.fromkeys(
    [o.section for o in OPTIONS if o.section not in ("auth", PROVIDER_SECTION)] + list(FREE_FORM_SECTIONS)))


def keys_of(section: str) -> frozenset[str]:
    """The declared keys of ``section`` (``"auth"``, ``"auth.ldap"``, ``PROVIDER_SECTION``...)."""
    return frozenset(o.key for o in OPTIONS if o.section == section)


def option(section: str, key: str) -> Option | None:
    return next((o for o in OPTIONS if o.section == section and o.key == key), None)


def nearest(word: str, candidates: Iterable[str]) -> str | None:
    """The closest known name to a misspelt one, if any is close."""
    found = difflib.get_close_matches(word, sorted(candidates), n=1, cutoff=0.6)
    return found[0] if found else None


def warn_unknown(key: str, where: str, known: Iterable[str]) -> None:
    """The one unknown-key policy: a warning naming the nearest known key; the key is ignored."""
    guess = nearest(key, known)
    hint = f"; did you mean {guess!r}?" if guess else ""
    LOGGER.warning("%s: unknown key %r is ignored%s", where, key, hint)


def check_table(table: Mapping[str, Any], section: str, where: str | None = None,
                *, also_known: Iterable[str] = ()) -> None:
    """Warn about unknown keys and check the declared keys' types (ConfigError names the key).

    ``where``: how messages name the table (``[auth.google]`` for ``PROVIDER_SECTION``);
    ``also_known``: keys another declaration owns in the same table (sub-tables of ``[auth]``).
    """
    where = where or f"[{section}]"
    declared = {o.key: o for o in OPTIONS if o.section == section}
    known = set(declared) | set(also_known)
    for key, value in table.items():
        spec = declared.get(key)
        if spec is None:
            if key not in known:
                warn_unknown(key, where, known)
            continue
        if value is not None and not spec.kind.accepts(value):
            shown = "a value that is not shown" if key.endswith(("password", "secret")) else repr(value)
            raise ConfigError(f"{where} {key}: expected {_article(spec.kind.name)}, got {shown}")


def _article(kind: str) -> str:
    if kind.startswith(("a ", "true")):
        return kind
    return ("an " if kind[0] in "aeiouAEIOU" else "a ") + kind


# --- the README's reference tables ---------------------------------------------------------------


def reference_markdown() -> str:
    """The config reference as Markdown tables, one per section, from the declaration."""
    out: list[str] = []
    order = ["auth", PROVIDER_SECTION, *SECTIONS]
    for section in order:
        rows = [o for o in OPTIONS if o.section == section]
        out.append(f"#### `[{section}]`")
        out.append("")
        if section in FREE_FORM_SECTIONS:
            out.append(f"Free-form: `{FREE_FORM_SECTIONS[section]}`.")
            out.append("")
            continue
        out.append("| key | type | default | meaning |")
        out.append("| --- | --- | --- | --- |")
        for o in rows:
            out.append(f"| `{o.key}` | {o.kind.name} | {o.default} | {o.doc} |")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


__all__ = ["OPTIONS", "Option", "PROVIDER_SECTION", "SECTIONS", "check_table", "keys_of", "nearest",
           "reference_markdown", "warn_unknown"]
