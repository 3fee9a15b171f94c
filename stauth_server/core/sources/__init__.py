"""Identity sources besides OpenID Connect: local accounts, LDAP, trusted proxy headers."""
