"""Routes a script calls with `Authorization: Bearer ...` (tests/e2e/test_bearer_tokens.py)."""

import stauth_server as sa


def _who(request: sa.Request) -> dict:
    user = request.user
    return {"id": user.id or None, "auth_method": user.auth_method, "roles": sorted(user.roles),
            "groups": sorted(user.groups), "email": user.email}


@sa.route("/api/me", auth="required")
def me(request: sa.Request) -> dict:
    return _who(request)


@sa.route("/api/robots", roles=["robot"])
def robots(request: sa.Request) -> dict:
    return _who(request)


@sa.route("/api/reports", methods=["POST"], auth="required")
def reports(request: sa.Request) -> dict:
    return {"stored": request.json(), "by": request.user.id}


@sa.route("/api/public")
def public(request: sa.Request) -> dict:
    return _who(request)
