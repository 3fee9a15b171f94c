"""A SAML sign-in in flight: what the ACS must match, kept in the encrypted login cookie
as the OIDC ``LoginRequest`` is. ``state`` travels as the RelayState and names the cookie."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SamlLoginRequest:
    """One AuthnRequest sent: its ID (the Response's InResponseTo) and where to go after."""

    provider: str
    state: str
    request_id: str
    next_path: str
    created: float

    @staticmethod
    def new_state() -> str:
        """A RelayState: 43 URL-safe characters (SAML allows 80 bytes)."""
        return secrets.token_urlsafe(32)

    @classmethod
    def new(cls, provider: str, state: str, request_id: str, next_path: str) -> SamlLoginRequest:
        return cls(provider=provider, state=state, request_id=request_id, next_path=next_path, created=time.time())

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "saml", **self.__dict__}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SamlLoginRequest | None:
        """The login in flight, or None unless it is a SAML one with every field typed."""
        if not isinstance(data, Mapping) or data.get("kind") != "saml":
            return None
        try:
            values = {key: data[key] for key in cls.__dataclass_fields__}
        except KeyError:
            return None
        if not all(isinstance(values[key], str) and values[key] for key in ("provider", "state", "request_id")):
            return None
        if not isinstance(values["next_path"], str):
            return None
        if not isinstance(values["created"], (int, float)) or isinstance(values["created"], bool):
            return None
        return cls(**values)


def relay_state_ok(relay_state: object) -> bool:
    """A RelayState we could have sent (``SamlLoginRequest.new_state``): at most 80
    characters (SAML's limit) of the URL-safe alphabet. Check it before looking it up."""
    return isinstance(relay_state, str) and re.fullmatch(r"[A-Za-z0-9_-]{16,80}", relay_state) is not None
