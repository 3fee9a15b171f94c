"""Microsoft Entra multi-tenant apps: ``tenant = "common"`` or ``"organizations"``.

Their discovery document names no single issuer but a template,
``https://login.microsoftonline.com/{tenantid}/v2.0``: each ID token's ``iss`` must be
that template with the token's own ``tid`` (a GUID) put in, and when the app lists
``allowed_tenants`` the ``tid`` must be one of them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import TokenRejected

#: The tenant values of the microsoft preset that sign in users of any (work) tenant.
MULTI_TENANT_VALUES = frozenset({"common", "organizations"})
PLACEHOLDER = "{tenantid}"
_GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def is_guid(value: object) -> bool:
    """A tenant id as Entra writes it: a lower-case GUID."""
    return isinstance(value, str) and _GUID.fullmatch(value) is not None


@dataclass(frozen=True)
class TenantRule:
    """What a multi-tenant app accepts: any tenant, or only ``allowed`` (lower-case GUIDs)."""

    allowed: frozenset[str] = frozenset()

    def discovery_issuer_ok(self, advertised: str, promised: str | None) -> bool:
        """Whether the discovery document's ``{tenantid}`` issuer belongs to its URL:
        ``https://login.microsoftonline.com/common/v2.0`` promises the template with the
        ``common`` segment replaced."""
        if promised is None or advertised.count(PLACEHOLDER) != 1:
            return False
        head, _, tail = advertised.partition(PLACEHOLDER)
        if not promised.startswith(head) or not promised.endswith(tail):
            return False
        return promised[len(head):len(promised) - len(tail)] in MULTI_TENANT_VALUES

    def check(self, claims: Mapping[str, Any], template: str) -> str:
        """The token's real issuer, or ``TokenRejected`` naming the failed rule."""
        tid = claims.get("tid")
        if not is_guid(tid):
            raise TokenRejected("ID token: tid missing or not a tenant GUID")
        if claims.get("iss") != template.replace(PLACEHOLDER, tid):
            raise TokenRejected("ID token: issuer mismatch (not the {tenantid} template with the token's tid)")
        if self.allowed and tid not in self.allowed:
            raise TokenRejected(f"ID token: tenant {tid} is not in allowed_tenants")
        return str(claims["iss"])

    def response_issuer_ok(self, iss: str, template: str) -> bool:
        """RFC 9207 ``iss`` of an authorization response: the template with a tenant GUID."""
        head, _, tail = template.partition(PLACEHOLDER)
        tid = iss[len(head):len(iss) - len(tail)] if iss.startswith(head) and iss.endswith(tail) else ""
        return is_guid(tid) and iss == template.replace(PLACEHOLDER, tid) and (not self.allowed or tid in self.allowed)
