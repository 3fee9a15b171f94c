"""Endpoints of the end-to-end test app."""

import stauth_server as sa
from stauth_server.streamlit.internals import server_generation

NOTES: list[str] = []


@sa.route("/api/hello")
def hello(request: sa.Request) -> dict:
    return {"hello": request.query.get("name", "world"), "user": request.user.is_logged_in}


@sa.route("/api/notes", methods=["GET", "POST"])
async def notes(request: sa.Request):
    if request.method == "POST":
        NOTES.append(request.json()["note"])
        return sa.Response({"saved": True}, status=201)
    return list(NOTES)


@sa.route("/api/hook", methods=["POST"], csrf=False)
def hook(request: sa.Request) -> dict:
    NOTES.append("hook:" + request.body.decode())
    return {"ok": True, "user": request.user.is_logged_in}


@sa.route("/api/boom")
def boom(request: sa.Request) -> dict:
    raise RuntimeError("secret detail that must not leak")


if server_generation() == "tornado":  # Streamlit 1.56
    import tornado.web

    class RawHandler(tornado.web.RequestHandler):
        def get(self) -> None:
            self.write({"raw": True})

    sa.mount_tornado("/api/raw", RawHandler)
else:  # Streamlit 1.57+ (or 1.56 with server.useStarlette)
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def raw(request):
        return JSONResponse({"raw": True, "path": request.url.path, "root_path": request.scope["root_path"]})

    sa.mount_asgi("/api/raw", Starlette(routes=[Route("/", raw), Route("/{rest:path}", raw)]))
