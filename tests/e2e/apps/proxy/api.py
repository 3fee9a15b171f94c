import stauth_server as sa


@sa.route("/api/echo")
def echo(request: sa.Request) -> dict:
    return {
        "user": request.user.email,
        "groups": sorted(request.user.groups),
        "roles": sorted(request.user.roles),
        "client_ip": request.client_ip,
        "identity_header": request.headers.get("X-Forwarded-User"),
    }
