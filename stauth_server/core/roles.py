"""Groups from a provider's claims, and roles from ``[auth.roles]``.

``[auth.roles]`` maps a role to who has it::

    admin = ["alice@example.org", "group:admins", "domain:example.org", "claim:dept=eng"]

An email matches a verified email exactly (case-insensitive); ``group:`` a group;
``domain:`` the domain of a verified email; ``claim:NAME=VALUE`` a claim (dotted names
reach into nested claims; a list claim matches when it holds the value).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import ConfigError

#: Where common providers put groups or roles; a provider's ``groups_claim`` picks one.
GROUP_CLAIM_PRESETS: Mapping[str, tuple[str, ...]] = {
    "groups": ("groups",),
    "roles": ("roles",),
    "entra": ("roles", "groups"),
    "microsoft": ("roles", "groups"),
    "keycloak": ("realm_access.roles", "groups"),
    "cognito": ("cognito:groups",),
}
DEFAULT_GROUP_CLAIMS = ("groups", "roles")


def claim_at(claims: Mapping[str, Any], dotted: str) -> Any:
    """``claims["realm_access"]["roles"]`` for ``"realm_access.roles"`` (a literal key wins)."""
    if dotted in claims:
        return claims[dotted]
    value: Any = claims
    for part in dotted.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def group_claims(setting: str | Iterable[str] | None) -> tuple[str, ...]:
    """The claim names a ``groups_claim`` setting means (a preset name or claim names)."""
    if setting is None:
        return DEFAULT_GROUP_CLAIMS
    if isinstance(setting, str):
        return GROUP_CLAIM_PRESETS.get(setting, (setting,))
    return tuple(setting)


def groups_from(claims: Mapping[str, Any], names: Iterable[str]) -> frozenset[str]:
    """Every group found under the given claims (a list, or one string)."""
    found: set[str] = set()
    for name in names:
        value = claim_at(claims, name)
        if isinstance(value, str):
            found.add(value)
        elif isinstance(value, (list, tuple)):
            found.update(str(item) for item in value if isinstance(item, (str, int)))
    return frozenset(found)


@dataclass(frozen=True)
class RoleRule:
    kind: str  # "email", "group", "domain", "claim"
    value: str
    claim: str = ""

    def matches(self, email: str | None, groups: frozenset[str], claims: Mapping[str, Any]) -> bool:
        if self.kind == "email":
            return bool(email) and email.lower() == self.value
        if self.kind == "domain":
            return bool(email) and email.lower().rsplit("@", 1)[-1] == self.value
        if self.kind == "group":
            return self.value in groups
        value = claim_at(claims, self.claim)
        if isinstance(value, (list, tuple)):
            return self.value in [str(v) for v in value]
        if isinstance(value, bool):
            return str(value).lower() == self.value.lower()
        return value is not None and str(value) == self.value


def parse_rule(role: str, text: object) -> RoleRule:
    if not isinstance(text, str) or not text.strip():
        raise ConfigError(f"[auth.roles] {role}: expected strings like \"alice@example.org\", \"group:admins\", "
                          f"\"domain:example.org\" or \"claim:dept=eng\", got {text!r}")
    text = text.strip()
    kind, sep, rest = text.partition(":")
    if sep and kind in ("group", "domain", "claim"):
        if not rest:
            raise ConfigError(f"[auth.roles] {role}: {text!r} names nothing after '{kind}:'")
        if kind == "claim":
            name, eq, value = rest.partition("=")
            if not eq or not name:
                raise ConfigError(f"[auth.roles] {role}: expected \"claim:NAME=VALUE\", got {text!r}")
            return RoleRule("claim", value, name)
        return RoleRule(kind, rest.lower() if kind == "domain" else rest)
    if "@" not in text:
        raise ConfigError(f"[auth.roles] {role}: {text!r} is neither an email nor group:/domain:/claim:")
    return RoleRule("email", text.lower())


def parse_roles(table: object) -> dict[str, tuple[RoleRule, ...]]:
    """``[auth.roles]`` as rules; ConfigError names the role and the bad entry."""
    if table is None:
        return {}
    if not isinstance(table, Mapping):
        raise ConfigError("[auth.roles]: expected a table of role = [\"who\", ...]")
    rules: dict[str, tuple[RoleRule, ...]] = {}
    for role, who in table.items():
        entries = [who] if isinstance(who, str) else who
        if not isinstance(entries, (list, tuple)):
            raise ConfigError(f"[auth.roles] {role}: expected a list of strings")
        rules[str(role)] = tuple(parse_rule(str(role), entry) for entry in entries)
    return rules


def roles_for(rules: Mapping[str, tuple[RoleRule, ...]], *, email: str | None, groups: frozenset[str],
              claims: Mapping[str, Any], granted: Iterable[str] = ()) -> frozenset[str]:
    """The roles a user has: those granted directly (local accounts, hooks) plus matches."""
    roles = set(granted)
    for role, role_rules in rules.items():
        if any(rule.matches(email, groups, claims) for rule in role_rules):
            roles.add(role)
    return frozenset(roles)
