"""On Tornado, what the websocket's session lookup reports (an expired or revoked session)
names the connection: client address, user agent, path and a request id."""

from __future__ import annotations

import asyncio
import json
import logging
import re

from tornado.httputil import HTTPHeaders, HTTPServerRequest, RequestStartLine

from stauth_server.core.audit import audit
from stauth_server.core.signin import ResolvedSession
from stauth_server.tornado import auth_handlers


class ExpiringService:
    """Answers every lookup like a session that just expired."""

    def needs_lookup(self, *args, **kwargs) -> bool:
        return True

    def identify(self, *args, **kwargs) -> ResolvedSession:
        audit("session_expired", user_id="local|bob", reason="idle")
        return ResolvedSession()


def test_a_websocket_lookups_event_names_the_connection(caplog, monkeypatch):
    monkeypatch.setattr(auth_handlers, "cookie_path", lambda: "/")
    caplog.set_level(logging.INFO, logger="stauth.audit")
    request = HTTPServerRequest(start_line=RequestStartLine("GET", "/_stcore/stream", "HTTP/1.1"), headers=HTTPHeaders({
        "Host": "app.example.org", "User-Agent": "Mozilla/5.0 Chrome/140", "Cookie": "stauth_session=x"}))
    request.remote_ip = "203.0.113.9"
    asyncio.run(auth_handlers.identify_request(ExpiringService(), request))
    events = [json.loads(r.getMessage()) for r in caplog.records if r.name == "stauth.audit"]
    assert len(events) == 1
    event = events[0]
    assert (event["event"], event["client_ip"], event["user_agent"], event["path"]) == (
        "session_expired", "203.0.113.9", "Mozilla/5.0 Chrome/140", "/_stcore/stream")
    assert re.fullmatch(r"[0-9a-f]{16}", event["request_id"])
