"""Run ``streamlit`` or ``streamlit-auth`` with its request handling and outbound calls timed.

Used by scripts/bench_login.py (its "where the time goes" phase only, never for the
headline numbers) to see, on both servers, how much of a sign-in request is the
server's own work and how much is spent calling the identity provider (token, userinfo,
discovery, JWKS). streamlit-auth's ProviderHTTP and Streamlit's Authlib integration both
call ``requests.Session.request``.

    python timed_launch.py streamlit-auth run app.py [options]
    python timed_launch.py streamlit run app.py [options]

Appends one line per event to the file named by ``BENCH_OUTBOUND_LOG``:
``<unix time> <ms> <kind> <METHOD> <path>`` where kind is

* ``out``: an outbound ``requests.Session.request`` call (the HTTP client's own work
  included: preparing the request, proxy settings from the environment, reading the
  small JSON answer);
* ``handler``: a Tornado ``RequestHandler._execute`` (our handler or Streamlit's: from
  the handler's start to its response being written, HTTP parsing excluded);
* ``complete_login``: streamlit-auth's ``SignInService.complete_login`` (ours only).
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any
from urllib.parse import urlsplit

import requests
import tornado.web

LOG = os.environ["BENCH_OUTBOUND_LOG"]


def _log(started: float, kind: str, method: str, url: str) -> None:
    elapsed_ms = (time.perf_counter() - started) * 1000
    with open(LOG, "a") as handle:
        handle.write(f"{time.time():.6f} {elapsed_ms:.3f} {kind} {method} {urlsplit(url).path}\n")


_request = requests.Session.request


def _timed_request(self: requests.Session, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:
    started = time.perf_counter()
    try:
        return _request(self, method, url, *args, **kwargs)
    finally:
        _log(started, "out", str(method).upper(), str(url))


requests.Session.request = _timed_request  # type: ignore[method-assign]

_execute = tornado.web.RequestHandler._execute


async def _timed_execute(self: tornado.web.RequestHandler, *args: Any, **kwargs: Any) -> Any:
    started = time.perf_counter()
    try:
        return await _execute(self, *args, **kwargs)
    finally:
        _log(started, "handler", self.request.method or "", self.request.uri or "")


tornado.web.RequestHandler._execute = _timed_execute  # type: ignore[method-assign]


def _time_complete_login() -> None:
    from stauth_server.core.signin import SignInService

    original = SignInService.complete_login

    def complete_login(self: SignInService, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(self, *args, **kwargs)
        finally:
            _log(started, "complete_login", "-", "-")

    SignInService.complete_login = complete_login  # type: ignore[method-assign]


def main() -> int:
    command, *rest = sys.argv[1:]
    sys.argv = [command, *rest]
    if command == "streamlit-auth":
        _time_complete_login()
        from stauth_server.cli import main as cli_main
    elif command == "streamlit":
        from streamlit.web.cli import main as cli_main
    else:
        raise SystemExit(f"unknown command {command!r}")
    return cli_main()  # type: ignore[no-any-return]


if __name__ == "__main__":
    sys.exit(main())
