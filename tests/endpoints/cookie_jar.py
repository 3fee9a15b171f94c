"""What endpoint tests do with cookies: read a response's ``Set-Cookie`` pairs and send a
jar back as a ``Cookie`` header."""

from __future__ import annotations


def set_cookies(response) -> dict[str, str]:
    """``Set-Cookie`` pairs: name -> value ("" when it clears the cookie)."""
    jar = {}
    for header in response.headers.get_list("Set-Cookie"):
        name, _, rest = header.partition("=")
        jar[name] = rest.split(";", 1)[0]
    return jar


def cookie_header(jar: dict[str, str]) -> str:
    """The ``Cookie`` header for a jar (cleared cookies left out)."""
    return "; ".join(f"{name}={value}" for name, value in jar.items() if value)
