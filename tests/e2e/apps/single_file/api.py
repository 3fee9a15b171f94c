import stauth_server as sa


@sa.middleware
def block_on_request(request: sa.Request) -> None:
    """Refuses any page or route asked for with ?block=1."""
    if request.query.get("block") == "1":
        raise sa.Forbidden("blocked by a middleware")
