"""Custom HTTP endpoints of the tour app (declared in .streamlit/secrets.toml: routes)."""

import stauth_server as sa

print(
    "\n  Demo accounts (examples/demo_users.toml):\n"
    "    alice / alice-demo-password   (role: admin)\n"
    "    bob   / bob-demo-password\n",
    flush=True,
)


@sa.route("/api/hello")
def hello(request: sa.Request) -> dict:
    return {"hello": request.query.get("name", "world"), "signed_in": request.user.is_logged_in}


@sa.route("/api/me", auth="required")
def me(request: sa.Request) -> dict:
    return {"name": request.user.name, "roles": sorted(request.user.roles)}


@sa.route("/api/items/{item_id}", methods=["GET", "POST"])
async def item(request: sa.Request) -> dict:
    if request.method == "POST":
        return {"id": request.path_params["item_id"], "saved": request.json()}
    return {"id": request.path_params["item_id"]}
