"""Endpoints of the end-to-end test app."""

import tornado.web

import stauth_server as sa

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


class RawHandler(tornado.web.RequestHandler):
    def get(self) -> None:
        self.write({"raw": True})


sa.mount_tornado("/api/raw", RawHandler)
