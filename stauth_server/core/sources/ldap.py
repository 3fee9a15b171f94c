"""Sign-in against an LDAP directory (ldap3): bind as the user, read their groups.

Two ways to find the user's DN: a template (``uid={username},ou=people,dc=example,dc=org``)
or search-then-bind with a service account. Groups come from ``memberOf`` and from a
group search. An empty password (an anonymous bind in LDAP) and usernames with LDAP
filter or DN metacharacters are refused before any bind.

Identity: the user's ``sub`` is their entry's DN in one canonical spelling
(``normalize_dn``), so ``Alice`` and ``alice`` are one user. Groups: every group's full DN
as the directory spells it, plus the bare name (``admins``) of each group *directly under*
``group_search_base``, so ``group:admins`` in ``[auth.roles]`` never matches a group of
that name elsewhere in the directory (``cn=admins,ou=contractors,...``).

TLS: ``ldaps://`` or ``start_tls = true``, always with a verified certificate that names
the host (``ca_file`` or the system's CAs); when TLS fails, nothing is sent in the clear.
"""

from __future__ import annotations

import re
import ssl
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError

#: Characters that would change an LDAP filter or DN built from the username.
UNSAFE_USERNAME_CHARS = frozenset('*()\\\x00,=+<>#;"/ ')

#: Keys that are not strings: their type and how to say it.
_KEY_TYPES: Mapping[str, tuple[type, str]] = {"start_tls": (bool, "true or false"),
                                              "timeout_seconds": (int, "a positive number of seconds")}
#: The useful part of an SSL error ("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: ...").
_SSL_DETAIL = re.compile(r"\[SSL: \w+\][^'\"()]*|startTLS failed[^'\"()]*")
_ESCAPE = re.compile(rb"\\([0-9A-Fa-f]{2}|.)", re.DOTALL)


class LdapUnavailable(Exception):
    """The directory could not be reached, refused TLS, or answered an error."""


@dataclass(frozen=True)
class LdapConfig:
    """``[auth.ldap]``."""

    server_uri: str
    user_dn_template: str | None = None
    bind_dn: str | None = None
    bind_password: str | None = None
    user_search_base: str | None = None
    user_search_filter: str = "(uid={username})"
    group_search_base: str | None = None
    group_search_filter: str = "(member={user_dn})"
    email_attribute: str = "mail"
    name_attribute: str = "cn"
    username_attribute: str = "uid"
    start_tls: bool = False
    ca_file: str | None = None
    timeout_seconds: int = 5


def parse_ldap(table: object, app_dir: Path | None = None) -> LdapConfig | None:
    """``[auth.ldap]`` checked; ConfigError names the key. A relative ``ca_file`` is from ``app_dir``."""
    if table is None:
        return None
    if not isinstance(table, Mapping):
        raise ConfigError("[auth.ldap]: expected a table with server_uri and user_dn_template (or search keys)")
    _check_keys(table)
    template = table.get("user_dn_template")
    if template is not None and "{username}" not in template:
        raise ConfigError("[auth.ldap] user_dn_template: expected a DN containing {username}")
    if template is None and not all(k in table for k in ("bind_dn", "bind_password", "user_search_base")):
        raise ConfigError("[auth.ldap]: set user_dn_template, or bind_dn + bind_password + user_search_base "
                          "(search-then-bind)")
    for key, field in (("user_dn_template", "username"), ("user_search_filter", "username"),
                       ("group_search_filter", "user_dn")):
        try:
            table.get(key, "").format(**{field: "x"})
        except (KeyError, IndexError, ValueError):
            raise ConfigError(f"[auth.ldap] {key}: the only placeholder allowed is {{{field}}}") from None
    if "group_search_base" in table:
        try:
            normalize_dn(table["group_search_base"])
        except ValueError:
            raise ConfigError(f"[auth.ldap] group_search_base: expected a DN such as \"ou=groups,dc=example,dc=org\", "
                              f"got {table['group_search_base']!r}") from None
    known = {k: v for k, v in table.items() if k in LdapConfig.__dataclass_fields__}
    return LdapConfig(**{**known, **_tls_settings(table, app_dir)})


def _check_keys(table: Mapping[str, Any]) -> None:
    """Known keys only, each of its type; a server_uri that is ldap:// or ldaps://."""
    known = set(LdapConfig.__dataclass_fields__)  # an unknown key: warned about by core.options, ignored
    for key, value in table.items():
        if key not in known:
            continue
        expected, what = _KEY_TYPES.get(key, (str, "a string"))
        if type(value) is not expected or (expected is int and value <= 0):
            raise ConfigError(f"[auth.ldap] {key}: expected {what}, got {value!r}")
    uri = table.get("server_uri")
    if not isinstance(uri, str) or not uri.startswith(("ldap://", "ldaps://")):
        raise ConfigError(f"[auth.ldap] server_uri: expected ldap://host:port or ldaps://..., got {uri!r}")


def _tls_settings(table: Mapping[str, Any], app_dir: Path | None) -> dict[str, str]:
    """``ca_file`` resolved; refuses TLS settings that would not be used (a false sense of security)."""
    ldaps = table["server_uri"].startswith("ldaps://")
    if ldaps and table.get("start_tls"):
        raise ConfigError("[auth.ldap] start_tls: ldaps:// already encrypts; use start_tls with ldap:// only")
    if "ca_file" not in table:
        return {}
    if not ldaps and not table.get("start_tls"):
        raise ConfigError("[auth.ldap] ca_file: only used with ldaps:// or start_tls = true; without either, "
                          "passwords would cross the network in the clear")
    path = Path(table["ca_file"]) if app_dir is None else app_dir / table["ca_file"]
    if not path.is_file():
        raise ConfigError(f"[auth.ldap] ca_file: {path} does not exist (expected a PEM file of CA certificates)")
    return {"ca_file": str(path)}


def safe_username(username: str) -> bool:
    """A username that cannot change the DN or filter it is put into."""
    return 0 < len(username) <= 128 and not any(c in UNSAFE_USERNAME_CHARS for c in username)


def normalize_dn(dn: str) -> str:
    """``dn`` in one canonical spelling: lower case, no spaces around separators, one
    escaping (``CN=Admins, OU=Groups,DC=example`` -> ``cn=admins,ou=groups,dc=example``).
    ValueError for something that is not a DN."""
    return _canonical(_parse_dn(dn))


def group_names(group_dns: Iterable[str], group_search_base: str | None) -> set[str]:
    """What a user's groups are called in ``sa.user.groups`` and ``group:`` rules.

    Every group's full DN, as the directory spells it; and the bare name (``admins``) of
    each group whose DN is ``<one RDN>,<group_search_base>`` (compared DN-wise). A group of
    the same name anywhere else (``cn=admins,ou=contractors,...``, or deeper below the
    base) keeps only its DN. Malformed DNs are left out.
    """
    base = normalize_dn(group_search_base) if group_search_base else None
    names: dict[str, str] = {}  # canonical DN -> the directory's spelling
    short: set[str] = set()
    for dn in group_dns:
        try:
            rdns = _parse_dn(dn)
        except ValueError:
            continue
        names.setdefault(normalize_dn(dn), dn)
        _, value, sep = rdns[0]
        if base is not None and sep == "," and _canonical(rdns[1:]) == base and value and "=" not in value:
            short.add(value)
    return short | set(names.values())


class LdapSource:
    """Authenticates users against the directory (blocking: call off the event loop)."""

    def __init__(self, config: LdapConfig):
        self.config = config

    def _server(self) -> Any:
        import ldap3

        tls = None
        if self.config.start_tls or self.config.server_uri.startswith("ldaps://"):
            tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=self.config.ca_file)
        return ldap3.Server(self.config.server_uri, connect_timeout=int(self.config.timeout_seconds), tls=tls,
                            get_info=ldap3.NONE)

    def _connect(self, server: Any, user: str | None, password: str | None) -> Any:
        """An open connection, TLS established when configured (LdapUnavailable otherwise: never plaintext)."""
        import ldap3

        connection = ldap3.Connection(server, user=user, password=password,
                                      receive_timeout=int(self.config.timeout_seconds),
                                      raise_exceptions=False, auto_bind=ldap3.AUTO_BIND_NONE)
        connection.open()
        if self.config.start_tls and not connection.start_tls(read_server_info=False):
            connection.unbind()
            raise LdapUnavailable(f"LDAP {self.config.server_uri}: StartTLS was refused")
        return connection

    def authenticate(self, username: str, password: str) -> dict[str, Any] | None:
        """Claims for a right username and password; None for wrong ones; LdapUnavailable."""
        import ldap3
        from ldap3.core.exceptions import LDAPException
        from ldap3.utils.conv import escape_filter_chars

        if not password or not safe_username(username):
            return None
        config = self.config
        try:
            server = self._server()
            user_dn = self._user_dn(server, username)
            if user_dn is None:
                return None
            connection = self._connect(server, user_dn, password)
            try:
                if not connection.bind():
                    return None
                attributes = [config.email_attribute, config.name_attribute, config.username_attribute, "memberOf"]
                found = connection.search(user_dn, "(objectClass=*)", ldap3.BASE, attributes=attributes)
                entry = connection.entries[0] if found and connection.entries else None
                user_dn = entry.entry_dn if entry is not None else user_dn  # the directory's spelling
                group_dns = _values(entry, "memberOf")
                if config.group_search_base:
                    query = config.group_search_filter.format(user_dn=escape_filter_chars(user_dn))
                    if connection.search(config.group_search_base, query, attributes=[ldap3.NO_ATTRIBUTES]):
                        group_dns += [e.entry_dn for e in connection.entries]
            finally:
                connection.unbind()
            subject = normalize_dn(user_dn)
        except LdapUnavailable:
            raise
        except (LDAPException, OSError, ValueError, TypeError) as exc:
            raise LdapUnavailable(f"LDAP {config.server_uri}: {_reason(exc)}") from None
        preferred = _first(entry, config.username_attribute) or username.lower()
        claims: dict[str, Any] = {"sub": subject, "preferred_username": preferred,
                                  "groups": sorted(group_names(group_dns, config.group_search_base))}
        email = _first(entry, config.email_attribute)
        if email:
            claims.update(email=email, email_verified=True)
        claims["name"] = _first(entry, config.name_attribute) or preferred
        return claims

    def check_connection(self) -> None:
        """Reach the directory as sign-ins will (TLS as configured) and, when a service
        account is configured, bind with it; LdapUnavailable says what failed."""
        from ldap3.core.exceptions import LDAPException

        try:
            connection = self._connect(self._server(), self.config.bind_dn, self.config.bind_password)
            try:
                if self.config.bind_dn and not connection.bind():
                    raise LdapUnavailable(f"LDAP service account bind refused ({connection.result.get('description')})")
            finally:
                connection.unbind()
        except LdapUnavailable:
            raise
        except (LDAPException, OSError, ValueError, TypeError) as exc:
            raise LdapUnavailable(f"LDAP {self.config.server_uri}: {_reason(exc)}") from None

    def _user_dn(self, server: Any, username: str) -> str | None:
        from ldap3.utils.conv import escape_filter_chars

        if self.config.user_dn_template:
            return self.config.user_dn_template.format(username=username)
        service = self._connect(server, self.config.bind_dn, self.config.bind_password)
        try:
            if not service.bind():
                raise LdapUnavailable("LDAP service account bind failed")
            query = self.config.user_search_filter.format(username=escape_filter_chars(username))
            service.search(self.config.user_search_base, query, attributes=[])
            entries = service.entries
            return entries[0].entry_dn if len(entries) == 1 else None
        finally:
            service.unbind()


def _parse_dn(dn: str) -> list[tuple[str, str, str]]:
    """(lower-case attribute type, unescaped value, separator) for each part of ``dn``."""
    from ldap3.core.exceptions import LDAPInvalidDnError
    from ldap3.utils.dn import parse_dn

    if not isinstance(dn, str):
        raise ValueError(f"not a DN: {dn!r}")
    try:
        try:
            parts = parse_dn(dn, strip=True)
        except LDAPInvalidDnError:  # ldap3 cannot strip an escaped trailing space: read it as written
            parts = parse_dn(dn)
    except LDAPInvalidDnError as exc:
        raise ValueError(f"not a DN: {dn!r} ({exc})") from None
    return [(kind.lower(), _unescape(value), sep) for kind, value, sep in parts]


def _canonical(parts: list[tuple[str, str, str]]) -> str:
    return "".join(f"{kind}={_escape(value.lower())}{sep}" for kind, value, sep in parts)


def _unescape(value: str) -> str:
    """An RFC 4514 value without its escapes (``a\\,b`` and ``a\\2cb`` both give ``a,b``)."""
    raw = _ESCAPE.sub(lambda m: bytes.fromhex(m[1].decode()) if len(m[1]) == 2 else m[1], value.encode())
    return raw.decode("utf-8", "replace")


def _escape(value: str) -> str:
    from ldap3.utils.dn import escape_rdn

    return escape_rdn(value) if value else ""


def _reason(exc: BaseException) -> str:
    """Why the directory could not be used, for the log: TLS failures say so."""
    from ldap3.core.exceptions import LDAPCertificateError, LDAPStartTLSError

    if isinstance(exc, LDAPCertificateError):
        return "TLS refused: the server's certificate does not name this host"
    text = str(exc)
    if isinstance(exc, (ssl.SSLError, LDAPStartTLSError)) or "ssl" in text.lower():
        detail = _SSL_DETAIL.search(text)
        return f"TLS refused: {(detail[0] if detail else text[:200]).strip()}"
    return f"{type(exc).__name__}: {text[:200]}"


def _values(entry: Any, attribute: str) -> list[str]:
    if entry is None or attribute not in entry:
        return []
    return [str(v) for v in entry[attribute].values]


def _first(entry: Any, attribute: str) -> str | None:
    values = _values(entry, attribute)
    return values[0] if values else None
