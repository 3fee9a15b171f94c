"""SignInService over the fake OP: begin_login -> the OP -> complete_login -> resolve."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from urllib.parse import parse_qsl, urlsplit

import pytest
from rp_helpers import FOREIGN_SECRET, REDIRECT_URI, make_service

from stauth_server.core.oidc.errors import ProviderUnavailable, SignInError, StateMismatch, TokenRejected
from stauth_server.core.signin import LOGIN_TTL, login_cookie_name


def _query(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


def _jar(cookies) -> dict[str, str]:
    return {c.name: c.value for c in cookies if c.value is not None}


def _begin(service, op, next_path="/reports"):
    url, cookie = service.begin_login("op", next_path)
    return url, {cookie.name: cookie.value}


def test_a_whole_sign_in_gives_a_session_cookie_that_resolves_to_the_user(service, op):
    url, jar = _begin(service, op)
    done = service.complete_login(op.authorize(url), jar, "browser-1", secure=True, path="/")
    assert done.next_path == "/reports"
    assert done.user.email == "alice@example.org" and done.user.name == "Alice Example"
    assert done.user.id == f"{op.issuer}|user-123"  # keyed on (iss, sub)
    assert [c.name for c in done.cookies] == ["__Host-stauth_session"]
    assert done.cookies[0].max_age and done.cookies[0].max_age > 86400
    resolved = service.resolve(_jar(done.cookies), secure=True, path="/")
    assert resolved.user.is_logged_in and resolved.user.id == done.user.id
    assert resolved.user.email == "alice@example.org"
    assert resolved.record is not None and resolved.record.sid == done.record.sid
    assert resolved.record.data.browser == "browser-1"
    assert resolved.clear == []


def test_the_authorization_url_has_fresh_256_bit_state_nonce_s256_pkce_and_the_exact_redirect_uri(service, op):
    url, jar = _begin(service, op)
    query = _query(url)
    assert url.startswith(op.authorization_endpoint + "?")
    assert len(query["state"]) >= 43 and len(query["nonce"]) >= 43  # secrets.token_urlsafe(32)
    assert query["state"] != query["nonce"]
    assert query["code_challenge_method"] == "S256"
    assert query["redirect_uri"] == REDIRECT_URI
    assert query["scope"].split() == ["openid", "email", "profile"]
    assert list(jar) == [login_cookie_name(query["state"])]
    assert query["state"] not in jar[login_cookie_name(query["state"])]  # the cookie is sealed
    service.complete_login(op.authorize(url), jar, None, secure=True, path="/")
    verifier = op.token_requests[-1]["form"]["code_verifier"]
    digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    assert query["code_challenge"] == digest


def test_two_logins_never_share_state_or_nonce(service, op):
    first, second = (_query(_begin(service, op)[0]) for _ in range(2))
    assert first["state"] != second["state"] and first["nonce"] != second["nonce"]
    assert first["code_challenge"] != second["code_challenge"]


def test_a_replayed_callback_is_a_state_mismatch(service, op):
    url, jar = _begin(service, op)
    params = op.authorize(url)
    service.complete_login(params, jar, None, secure=True, path="/")
    with pytest.raises(StateMismatch) as caught:
        service.complete_login(params, jar, None, secure=True, path="/")
    assert caught.value.user_message
    assert op.fetches["token"] == 1


def test_a_callback_without_state_is_a_state_mismatch(service, op):
    url, jar = _begin(service, op)
    params = op.authorize(url)
    del params["state"]
    with pytest.raises(StateMismatch):
        service.complete_login(params, jar, None, secure=True, path="/")


def test_a_callback_with_a_wrong_state_is_a_state_mismatch(service, op):
    url, jar = _begin(service, op)
    params = {**op.authorize(url), "state": "A" * 43}
    with pytest.raises(StateMismatch):
        service.complete_login(params, jar, None, secure=True, path="/")
    assert op.fetches["token"] == 0


def test_a_callback_from_a_login_started_in_another_browser_is_a_state_mismatch(service, op):
    url, _their_jar = _begin(service, op)
    _mine, my_jar = _begin(service, op)
    with pytest.raises(StateMismatch):
        service.complete_login(op.authorize(url), my_jar, None, secure=True, path="/")


def test_a_login_cookie_sealed_with_another_secret_is_a_state_mismatch(op):
    service = make_service(op)
    foreign = make_service(op, secrets=(FOREIGN_SECRET,))
    url, jar = _begin(foreign, op)
    with pytest.raises(StateMismatch):
        service.complete_login(op.authorize(url), jar, None, secure=True, path="/")
    assert op.fetches["token"] == 0


def test_a_login_cookie_older_than_the_login_ttl_is_a_state_mismatch(service, op):
    url, jar = _begin(service, op)
    name = next(iter(jar))
    login = service._logins.open(jar[name])
    stale = service._logins._fernet.encrypt_at_time(json.dumps(login).encode(), int(time.time()) - LOGIN_TTL - 5)
    with pytest.raises(StateMismatch):
        service.complete_login(op.authorize(url), {name: stale.decode()}, None, secure=True, path="/")


def test_a_tampered_login_cookie_is_a_state_mismatch(service, op):
    url, jar = _begin(service, op)
    name, value = next(iter(jar.items()))
    i = len(value) // 2
    jar[name] = value[:i] + ("A" if value[i] != "A" else "B") + value[i + 1:]
    with pytest.raises(StateMismatch):
        service.complete_login(op.authorize(url), jar, None, secure=True, path="/")


def test_access_denied_is_a_sign_in_error_with_a_readable_message(service, op):
    url, jar = _begin(service, op)
    with pytest.raises(SignInError) as caught:
        service.complete_login(op.authorize(url, error="access_denied"), jar, None, secure=True, path="/")
    assert caught.value.user_message == "Sign-in was cancelled or refused at the identity provider."
    assert caught.value.status == 400


def test_invalid_client_at_the_token_endpoint_is_a_sign_in_error(service, op):
    url, jar = _begin(service, op)
    op.token_error = "invalid_client"
    with pytest.raises(SignInError) as caught:
        service.complete_login(op.authorize(url), jar, None, secure=True, path="/")
    assert "client id or secret" in caught.value.user_message


def test_an_unreachable_op_at_login_is_provider_unavailable(service, op):
    op.unreachable = True
    with pytest.raises(ProviderUnavailable) as caught:
        service.begin_login("op", "/")
    assert caught.value.status == 502 and "could not be reached" in caught.value.user_message


def test_an_op_unreachable_at_the_callback_is_provider_unavailable(service, op):
    url, jar = _begin(service, op)
    params = op.authorize(url)
    op.unreachable = True
    with pytest.raises(ProviderUnavailable):
        service.complete_login(params, jar, None, secure=True, path="/")


def test_a_forged_id_token_never_opens_a_session(service, op):
    url, jar = _begin(service, op)
    op.signing = "attacker-key"
    with pytest.raises(TokenRejected):
        service.complete_login(op.authorize(url), jar, None, secure=True, path="/")
    assert service.store._records == {}


def test_an_unknown_provider_is_a_sign_in_error(service):
    with pytest.raises(SignInError, match="unknown provider"):
        service.begin_login("nope", "/")


def test_a_new_login_revokes_the_previous_session_of_that_browser(service, op):
    url, jar = _begin(service, op)
    first = service.complete_login(op.authorize(url), jar, None, secure=True, path="/")
    first_jar = _jar(first.cookies)
    url, jar = _begin(service, op)
    second = service.complete_login(op.authorize(url), {**jar, **first_jar}, None, secure=True, path="/")
    assert second.record.sid != first.record.sid
    assert not service.resolve(first_jar, secure=True, path="/").user.is_logged_in  # no session fixation
    assert service.resolve(_jar(second.cookies), secure=True, path="/").user.is_logged_in


def test_on_plain_http_or_a_sub_path_the_session_cookie_has_no_host_prefix(service, op):
    url, jar = _begin(service, op)
    done = service.complete_login(op.authorize(url), jar, None, secure=False, path="/")
    assert [c.name for c in done.cookies] == ["stauth_session"]
    assert service.resolve(_jar(done.cookies)).user.is_logged_in
    url, jar = _begin(service, op)
    done = service.complete_login(op.authorize(url), jar, None, secure=True, path="/app")
    assert [c.name for c in done.cookies] == ["stauth_session"]


def test_logout_url_reaches_the_op_with_the_id_token_hint(service, op):
    url, jar = _begin(service, op)
    done = service.complete_login(op.authorize(url), jar, None, secure=True, path="/")
    logout = service.logout_url(done.record, "https://app.example.org/")
    query = _query(logout)
    assert logout.startswith(op.end_session_endpoint)
    assert query["id_token_hint"] == done.record.tokens["id_token"]
    assert query["post_logout_redirect_uri"] == "https://app.example.org/"
    assert len(query["state"]) >= 16


def test_end_session_revokes_the_cookie_everywhere(service, op):
    url, jar = _begin(service, op)
    done = service.complete_login(op.authorize(url), jar, None, secure=True, path="/")
    service.end_session(done.record)
    resolved = service.resolve(_jar(done.cookies), secure=True, path="/")
    assert not resolved.user.is_logged_in
    assert [c.name for c in resolved.clear] == ["__Host-stauth_session"]


def test_refresh_if_due_refreshes_expiring_tokens_and_stores_them(service, op):
    url, jar = _begin(service, op)
    done = service.complete_login(op.authorize(url), jar, None, secure=True, path="/")
    record = done.record
    record.tokens["expires_at"] = time.time() + 5
    old_access = record.tokens["access_token"]
    refreshed = service.refresh_if_due(record)
    assert refreshed is not None and refreshed.tokens["access_token"] != old_access
    stored = service.sessions.unlock(record.ticket)
    assert stored.tokens["access_token"] == refreshed.tokens["access_token"] and stored.version == 2


def test_a_refresh_naming_another_subject_ends_the_session(service, op):
    url, jar = _begin(service, op)
    done = service.complete_login(op.authorize(url), jar, None, secure=True, path="/")
    done.record.tokens["expires_at"] = time.time() + 5
    op.refresh_subject = "someone-else"
    assert service.refresh_if_due(done.record) is None
    assert service.store.load(done.record.ticket.store_key) is None
