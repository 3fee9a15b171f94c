"""The User model: who made a request or runs a script. Always present, never None."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any


@dataclass(frozen=True)
class User:
    """An identity. Visitors get ``ANONYMOUS``, whose ``is_logged_in`` is False.

    ``id`` is stable for a person: ``"<source>:<issuer>|<subject>"`` for sign-in sources.
    """

    id: str = ""
    email: str | None = None
    name: str | None = None
    picture: str | None = None
    provider: str | None = None
    roles: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()
    claims: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    expires_at: float | None = None

    @property
    def is_logged_in(self) -> bool:
        return bool(self.id)

    def has_role(self, *roles: str) -> bool:
        """True when the user has at least one of ``roles``."""
        return any(role in self.roles for role in roles)

    def in_group(self, *groups: str) -> bool:
        """True when the user is in at least one of ``groups``."""
        return any(group in self.groups for group in groups)

    def public_dict(self) -> dict[str, Any]:
        """The identity as JSON-ready data, without any token."""
        return {
            "is_logged_in": self.is_logged_in,
            "id": self.id or None,
            "email": self.email,
            "name": self.name,
            "picture": self.picture,
            "provider": self.provider,
            "roles": sorted(self.roles),
            "groups": sorted(self.groups),
            "claims": dict(self.claims),
            "expires_at": self.expires_at,
        }


ANONYMOUS = User()
