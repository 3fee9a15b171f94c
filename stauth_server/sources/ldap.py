"""Sign-in against an LDAP directory (ldap3): bind as the user, read their groups.

Two ways to find the user's DN: a template (``uid={username},ou=people,dc=example,dc=org``)
or search-then-bind with a service account. Groups come from ``memberOf`` or from a
group search. An empty password (an anonymous bind in LDAP) and usernames with LDAP
filter or DN metacharacters are refused before any bind.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError

#: Characters that would change an LDAP filter or DN built from the username.
UNSAFE_USERNAME_CHARS = frozenset('*()\\\x00,=+<>#;"/ ')


class LdapUnavailable(Exception):
    """The directory could not be reached or answered an error."""


@dataclass(frozen=True)
class LdapConfig:
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
    start_tls: bool = False
    ca_file: str | None = None
    timeout_seconds: int = 5


def parse_ldap(table: object) -> LdapConfig | None:
    if table is None:
        return None
    if not isinstance(table, Mapping):
        raise ConfigError("[auth.ldap]: expected a table with server_uri and user_dn_template (or search keys)")
    uri = table.get("server_uri")
    if not isinstance(uri, str) or not uri.startswith(("ldap://", "ldaps://")):
        raise ConfigError(f"[auth.ldap] server_uri: expected ldap://host:port or ldaps://..., got {uri!r}")
    template = table.get("user_dn_template")
    if template is not None and (not isinstance(template, str) or "{username}" not in template):
        raise ConfigError("[auth.ldap] user_dn_template: expected a DN containing {username}")
    if template is None and not all(isinstance(table.get(k), str) for k in ("bind_dn", "bind_password", "user_search_base")):
        raise ConfigError("[auth.ldap]: set user_dn_template, or bind_dn + bind_password + user_search_base "
                          "(search-then-bind)")
    known = set(LdapConfig.__dataclass_fields__)
    unknown = [k for k in table if k not in known]
    if unknown:
        raise ConfigError(f"[auth.ldap]: unknown key(s) {unknown}; expected some of {sorted(known)}")
    return LdapConfig(**{k: v for k, v in table.items()})


def safe_username(username: str) -> bool:
    return 0 < len(username) <= 128 and not any(c in UNSAFE_USERNAME_CHARS for c in username)


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
        import ldap3

        connection = ldap3.Connection(server, user=user, password=password, receive_timeout=int(self.config.timeout_seconds),
                                      raise_exceptions=False, auto_bind=ldap3.AUTO_BIND_NONE)
        connection.open()
        if self.config.start_tls:
            connection.start_tls()
        return connection

    def authenticate(self, username: str, password: str) -> dict[str, Any] | None:
        """Claims for a right username and password; None for wrong ones; LdapUnavailable."""
        import ldap3
        from ldap3.core.exceptions import LDAPException
        from ldap3.utils.conv import escape_filter_chars

        if not password or not safe_username(username):
            return None
        try:
            server = self._server()
            user_dn = self._user_dn(server, username)
            if user_dn is None:
                return None
            connection = self._connect(server, user_dn, password)
            try:
                if not connection.bind():
                    return None
                found = connection.search(user_dn, "(objectClass=*)", ldap3.BASE,
                                          attributes=[self.config.email_attribute, self.config.name_attribute, "memberOf"])
                entry = connection.entries[0] if found and connection.entries else None
                groups = self._groups(connection, user_dn, entry, escape_filter_chars)
            finally:
                connection.unbind()
        except LdapUnavailable:
            raise
        except (LDAPException, OSError, ValueError, TypeError) as exc:
            raise LdapUnavailable(f"LDAP {self.config.server_uri}: {type(exc).__name__}") from None
        claims: dict[str, Any] = {"sub": user_dn, "preferred_username": username, "groups": sorted(groups)}
        email = _first(entry, self.config.email_attribute)
        if email:
            claims.update(email=email, email_verified=True)
        claims["name"] = _first(entry, self.config.name_attribute) or username
        return claims

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

    def _groups(self, connection: Any, user_dn: str, entry: Any, escape: Any) -> set[str]:
        groups = {_rdn_value(dn) for dn in _values(entry, "memberOf")}
        if self.config.group_search_base:
            query = self.config.group_search_filter.format(user_dn=escape(user_dn))
            if connection.search(self.config.group_search_base, query, attributes=["cn"]):
                groups.update(_first(e, "cn") or _rdn_value(e.entry_dn) for e in connection.entries)
        return {g for g in groups if g}


def _values(entry: Any, attribute: str) -> list[str]:
    if entry is None or attribute not in entry:
        return []
    return [str(v) for v in entry[attribute].values]


def _first(entry: Any, attribute: str) -> str | None:
    values = _values(entry, attribute)
    return values[0] if values else None


def _rdn_value(dn: str) -> str:
    first = dn.split(",", 1)[0]
    return first.split("=", 1)[1] if "=" in first else first
