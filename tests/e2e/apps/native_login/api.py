import stauth_server as sa


@sa.route("/api/me", auth="required")
def me(request: sa.Request) -> dict:
    return {"email": request.user.email, "id": request.user.id}
