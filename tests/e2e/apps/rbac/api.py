import stauth_server as sa

CALLS: list[str] = []


@sa.on_login
def enrich(user: sa.User, source: str):
    CALLS.append(user.id)
    if user.claims.get("preferred_username") == "mallory":
        raise sa.Forbidden("Mallory may not sign in here.")
    if user.claims.get("preferred_username") == "carol":
        return {"roles": ["beta"], "team": "blue"}
    return None


@sa.route("/api/hook-calls")
def hook_calls(request: sa.Request) -> list:
    return CALLS


def stamp(user: sa.User, source: str) -> dict:
    """Named in config ([auth] on_login = "api.py:stamp") rather than decorated."""
    return {"via": source}
