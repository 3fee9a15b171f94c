"""The kit's example routes (listed in [auth] routes)."""

import stauth_server as sa


@sa.route("/api/kit/me", auth="required")
def me(request: sa.Request) -> dict:
    return {"email": request.user.email, "roles": sorted(request.user.roles)}


@sa.route("/api/kit/items/{item_id}", methods=["GET", "POST"], roles=["editor"])
async def item(request: sa.Request) -> dict:
    if request.method == "POST":
        return {"id": request.path_params["item_id"], "saved": request.json(), "by": request.user.email}
    return {"id": request.path_params["item_id"], "q": request.query.get("q")}


@sa.route("/api/kit/ping")
def ping(request: sa.Request) -> str:
    return "pong"


@sa.route("/api/kit/boom")
def boom(request: sa.Request) -> dict:
    raise RuntimeError("a bug in the handler")


@sa.route("/api/kit/teapot")
def teapot(request: sa.Request) -> dict:
    raise sa.HTTPError(418, "I'm a teapot")
