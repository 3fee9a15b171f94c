"""The User model: who made a request or runs a script. Always present, never None."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from .avatars import avatar_data_url
from .roles import DEFAULT_GROUP_CLAIMS, RoleRule, groups_from, roles_for


@dataclass(frozen=True)
class User:
    """An identity. Visitors get ``ANONYMOUS``, whose ``is_logged_in`` is False.

    ``id`` is stable for a person: ``"<issuer>|<subject>"`` (see ``user_id``).
    ``auth_method`` says how this request proved it: ``"session"`` (the session cookie),
    ``"proxy"`` (a trusted proxy's headers), ``"bearer-jwt"`` (a provider's JWT access
    token), ``"api-token"`` (a personal API token); ``None`` for visitors.
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
    auth_method: str | None = None

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
            "auth_method": self.auth_method,
        }


ANONYMOUS = User()


def user_id(issuer: str, subject: str) -> str:
    """A person's stable id: the issuer and subject pair (OIDC Core 5.7)."""
    return f"{issuer}|{subject}"


def user_from_claims(
    claims: Mapping[str, Any], *, issuer: str, subject: str, provider: str, expires_at: float | None,
    groups_claims: tuple[str, ...] = DEFAULT_GROUP_CLAIMS,
    role_rules: Mapping[str, tuple[RoleRule, ...]] | None = None,
    granted_roles: Iterable[str] = (),
    auth_method: str | None = None,
) -> User:
    """The User a sign-in gives, from its (merged ID token and userinfo) claims.

    An email the provider marks unverified (``email_verified: false``) is not the user's
    ``email`` (it stays in ``claims``): roles and domains must not trust it. Groups come
    from ``groups_claims``; roles from ``granted_roles`` plus the ``[auth.roles]`` rules.
    ``auth_method`` defaults to ``"proxy"`` for the trusted proxy's users, else ``"session"``.
    """
    email = _text(claims.get("email")) if not _unverified(claims.get("email_verified")) else None
    groups = groups_from(claims, groups_claims)
    uid = user_id(issuer, subject)
    return User(
        id=uid,
        email=email,
        name=_text(claims.get("name")) or _text(claims.get("preferred_username")),
        picture=_text(claims.get("picture")) or avatar_data_url(uid, _text(claims.get("name")) or email or subject),
        provider=provider,
        roles=roles_for(role_rules or {}, email=email, groups=groups, claims=claims, granted=granted_roles),
        groups=groups,
        claims=MappingProxyType(dict(claims)),
        expires_at=expires_at,
        auth_method=auth_method or ("proxy" if provider == "proxy" else "session"),
    )


def streamlit_user_info(user: User, tokens: Mapping[str, Any], expose: tuple[str, ...]) -> dict[str, Any]:
    """What ``st.user`` shows, in the shape native ``st.login`` gives it.

    ``is_logged_in``, the claims, ``provider``, and ``tokens`` only as ``expose_tokens`` allows.
    """
    if not user.is_logged_in:
        return {"is_logged_in": False}
    info: dict[str, Any] = {"is_logged_in": True}
    info.update(user.claims)
    info["provider"] = user.provider
    info["roles"] = sorted(user.roles)
    info.setdefault("picture", user.picture)
    if expose:
        info["tokens"] = {kind: tokens[f"{kind}_token"] for kind in expose if tokens.get(f"{kind}_token")}
    return info


def _unverified(flag: Any) -> bool:
    """``email_verified`` says no (some providers send the string "false")."""
    return flag is False or (isinstance(flag, str) and flag.strip().lower() == "false")


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def identity_key(user_info: Mapping[str, Any]) -> tuple[Any, ...]:
    """Who a session's ``st.user`` dict is: signed in or not, by which provider, as whom."""
    return (bool(user_info.get("is_logged_in")), user_info.get("provider"), user_info.get("iss"),
            user_info.get("sub"))
