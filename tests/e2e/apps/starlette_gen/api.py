import stauth_server as sa


@sa.route("/api/whoami")
def whoami(request: sa.Request) -> dict:
    return {"user": request.user.name if request.user.is_logged_in else None, "client_ip": request.client_ip}
