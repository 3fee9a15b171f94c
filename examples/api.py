"""Custom HTTP endpoints for the tour app (loaded with --routes)."""

import stauth_server as sa


@sa.route("/api/hello")
def hello(request: sa.Request) -> dict:
    return {"hello": request.query.get("name", "world"), "signed_in": request.user.is_logged_in}


@sa.route("/api/items/{item_id}", methods=["GET", "POST"])
async def item(request: sa.Request) -> dict:
    if request.method == "POST":
        return {"id": request.path_params["item_id"], "saved": request.json()}
    return {"id": request.path_params["item_id"]}
