"""Page rules: ``[auth.access]`` (page -> roles, or "public") and ``require_login``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from .guards import Decision, decide
from .identity import User


@dataclass(frozen=True)
class PageRules:
    """Which roles each page needs. Keys are url paths ("admin") or files ("pages/admin.py")."""

    access: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    require_login: bool = False

    @property
    def active(self) -> bool:
        return bool(self.access) or self.require_login

    def rule_for(self, names: Iterable[str]) -> tuple[str, ...] | None:
        """The roles the first matching name needs; ``()`` is public; None when no rule names it."""
        for name in names:
            key = name.strip("/")
            if key in self.access:
                return self.access[key]
        return None

    def decide(self, user: User, names: Iterable[str]) -> Decision:
        roles = self.rule_for(names)
        if roles is None:
            return decide(user, login=self.require_login) if self.require_login else Decision.ALLOW
        if not roles:
            return Decision.ALLOW
        return decide(user, roles=roles)


RULES = PageRules()


def install(rules: PageRules) -> None:
    """Set the rules the page-access patch enforces (done once at start-up)."""
    global RULES
    RULES = rules
