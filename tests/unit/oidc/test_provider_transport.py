"""ProviderHTTP over a stub requests session: every bad answer is ProviderUnavailable."""

from __future__ import annotations

import io

import pytest
import requests

from stauth_server.core.oidc.errors import ProviderUnavailable
from stauth_server.core.oidc.transport import MAX_BYTES, TIMEOUT, ProviderHTTP


class _Endless(io.RawIOBase):
    """A body that never ends (counts what was read)."""

    def __init__(self):
        self.served = 0

    def readable(self):
        return True

    def readinto(self, buffer):
        buffer[:] = b"[" * len(buffer)
        self.served += len(buffer)
        return len(buffer)


class StubSession:
    def __init__(self, status=200, body: bytes | io.RawIOBase = b"{}", error: Exception | None = None):
        self.status, self.body, self.error = status, body, error
        self.calls: list[dict] = []

    def request(self, method, url, **kwargs):
        self.calls.append({"method": method, "url": url, **kwargs})
        if self.error is not None:
            raise self.error
        response = requests.Response()
        response.status_code = self.status
        response.url = url
        response.raw = io.BytesIO(self.body) if isinstance(self.body, bytes) else self.body
        return response


def test_json_answers_are_parsed_with_timeouts_and_without_following_redirects():
    session = StubSession(body=b'{"issuer": "https://op"}')
    assert ProviderHTTP(session).get_json("https://op/x", what="discovery") == {"issuer": "https://op"}
    call = session.calls[0]
    assert call["timeout"] == TIMEOUT and call["allow_redirects"] is False


def test_an_error_status_from_get_json_is_provider_unavailable():
    with pytest.raises(ProviderUnavailable, match="HTTP 500"):
        ProviderHTTP(StubSession(status=500, body=b"{}")).get_json("https://op/x", what="jwks")


def test_a_redirect_is_not_followed_and_not_json():
    with pytest.raises(ProviderUnavailable, match="not JSON"):
        ProviderHTTP(StubSession(status=302, body=b"")).get_json("https://op/x", what="discovery")


@pytest.mark.parametrize("body", [b"<html>", b"", b"\xff\xfe\x00", b'{"a":'])
def test_a_non_json_answer_is_provider_unavailable(body):
    with pytest.raises(ProviderUnavailable, match="not JSON"):
        ProviderHTTP(StubSession(body=body)).get_json("https://op/x", what="userinfo")


def test_an_oversized_answer_is_refused():
    with pytest.raises(ProviderUnavailable, match="over"):
        ProviderHTTP(StubSession(body=b" " * (MAX_BYTES + 1))).get_json("https://op/x", what="jwks")


def test_an_endless_answer_is_cut_off_after_the_size_limit():
    body = _Endless()
    with pytest.raises(ProviderUnavailable, match="over"):
        ProviderHTTP(StubSession(body=body)).get_json("https://op/x", what="jwks")
    assert body.served < 2 * MAX_BYTES


@pytest.mark.parametrize("error", [requests.ConnectionError("refused"), requests.Timeout("slow"),
                                   requests.exceptions.SSLError("bad cert")])
def test_a_network_failure_is_provider_unavailable_without_details_leaking(error):
    with pytest.raises(ProviderUnavailable) as caught:
        ProviderHTTP(StubSession(error=error)).post_form("https://op/token", "code=secret-code", what="token")
    assert "secret-code" not in str(caught.value)
    assert "could not be reached" in caught.value.user_message


def test_post_form_returns_error_statuses_with_their_json():
    session = StubSession(status=401, body=b'{"error": "invalid_client"}')
    status, answer = ProviderHTTP(session).post_form("https://op/token", "a=b", auth=("id", "pw"), what="token")
    assert (status, answer) == (401, {"error": "invalid_client"})
    assert session.calls[0]["auth"] == ("id", "pw") and session.calls[0]["data"] == "a=b"
