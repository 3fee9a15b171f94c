"""Middlewares of the end-to-end app: localize, block a network, deny a page, fail."""

import ipaddress

import stauth_server as sa

#: The network refused on the internal API (the test server's clients are all loopback).
BLOCKED = ipaddress.ip_network("127.0.0.0/8")


@sa.middleware
def localize(request: sa.Request):
    """French browsers opening the home page go to the French one."""
    if request.path == "/" and request.headers.get("Accept-Language", "").lower().startswith("fr"):
        return sa.Redirect("/fr")
    request.state["lang"] = request.headers.get("Accept-Language", "")[:2] or "?"
    return None


@sa.middleware
async def guard(request: sa.Request):
    if request.path.startswith("/api/internal") and ipaddress.ip_address(request.client_ip) in BLOCKED:
        raise sa.Forbidden("Not from your network")
    if request.path == "/vault":
        raise sa.Forbidden("The vault is closed")
    if request.path == "/inspect":  # shows what a middleware sees of a page run
        raise sa.HTTPError(418, f"method={request.method} q={request.query.get('q')} "
                                f"cookie={request.cookies.get('probe')} ua={'Chrome' in request.headers['User-Agent']} "
                                f"ip={request.client_ip} signed-in={request.user.is_logged_in}")
    if request.path in ("/old", "/api/old"):  # sa.redirect in a middleware: its redirect
        sa.redirect("/fr")
    if request.path in ("/broken", "/api/broken"):
        raise RuntimeError("middleware-secret-detail")
    return None


@sa.route("/api/hello")
def hello(request: sa.Request) -> dict:
    return {"hello": "world", "lang": request.state["lang"]}


@sa.route("/api/internal/stats")
def stats(request: sa.Request) -> dict:
    return {"internal": True}


@sa.route("/api/broken")
def broken(request: sa.Request) -> dict:
    return {"never": True}


@sa.route("/api/old")
def old(request: sa.Request) -> dict:
    return {"never": True}  # its middleware redirects first
