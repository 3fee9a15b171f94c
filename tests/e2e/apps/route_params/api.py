"""File endpoints of the route-parameters test app: ``{name:path}`` joined to a folder."""

from pathlib import Path

import stauth_server as sa

DOCS = Path(__file__).parent / "docs"


@sa.route("/api/docs/{name:path}")
def doc(request: sa.Request) -> sa.Response:
    """Serve a file under ``docs/``: the parameter is a relative path that cannot climb out."""
    target = DOCS / request.path_params["name"]
    if not target.is_file():
        raise sa.HTTPError(404, "No such document")
    return sa.Response(target.read_text(), content_type="text/plain")


@sa.route("/api/items/{item_id}")
def item(request: sa.Request) -> dict:
    return {"id": request.path_params["item_id"]}
