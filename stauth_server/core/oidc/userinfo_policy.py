"""When a sign-in asks the provider's userinfo endpoint: ``[auth] userinfo``.

``"auto"`` (the default) skips the call when the validated ID token already holds every
claim the app needs: ``email`` when the scope asks for it, ``name`` when it asks for
``profile``, one of the provider's groups claims when ``[auth.roles]`` has a ``group:``
rule, and each claim a ``claim:NAME=VALUE`` rule reads. ``"always"`` calls it at every
sign-in (the claims a provider only puts there are merged in); ``"never"`` never does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..roles import RoleRule, claim_at

USERINFO_MODES = ("auto", "always", "never")


@dataclass(frozen=True)
class UserinfoPolicy:
    """``mode`` and, for ``"auto"``, the claims needed: each entry is a group of
    alternatives, satisfied when the ID token has any one of them."""

    mode: str = "always"
    needs: tuple[tuple[str, ...], ...] = ()

    @classmethod
    def for_provider(cls, mode: str, scope: str, groups_claims: tuple[str, ...],
                     rules: Iterable[RoleRule]) -> UserinfoPolicy:
        """The policy for one provider, from its scope and ``[auth.roles]``."""
        scopes = set(scope.split())
        needs: list[tuple[str, ...]] = []
        if "email" in scopes:
            needs.append(("email",))
        if "profile" in scopes:
            needs.append(("name",))
        rules = list(rules)
        if any(rule.kind == "group" for rule in rules) and groups_claims:
            needs.append(tuple(groups_claims))
        needs.extend((rule.claim,) for rule in rules if rule.kind == "claim" and (rule.claim,) not in needs)
        return cls(mode, tuple(needs))

    def wanted(self, id_token_claims: Mapping[str, Any]) -> bool:
        """Whether to call userinfo after validating an ID token with these claims."""
        if self.mode != "auto":
            return self.mode == "always"
        return not all(any(claim_at(id_token_claims, name) is not None for name in group) for group in self.needs)
