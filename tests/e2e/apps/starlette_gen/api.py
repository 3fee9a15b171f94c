import stauth_server as sa


@sa.route("/api/whoami")
def whoami(request: sa.Request) -> dict:
    return {"user": request.user.name if request.user.is_logged_in else None, "client_ip": request.client_ip}


async def echo_socket(scope, receive, send) -> None:
    """A raw ASGI websocket app (``sa.mount_asgi``): accepts, echoes one text message."""
    if scope["type"] != "websocket":
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    assert (await receive())["type"] == "websocket.connect"
    await send({"type": "websocket.accept"})
    message = await receive()
    if message["type"] == "websocket.receive":
        await send({"type": "websocket.send", "text": "echo:" + (message.get("text") or "")})
    await send({"type": "websocket.close", "code": 1000})


sa.mount_asgi("/api/echo-ws", echo_socket)
