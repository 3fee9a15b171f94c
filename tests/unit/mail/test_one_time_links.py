"""One-time links (core.accounts.links): the attacker's probes (a guessed, foreign, expired,
reused, re-purposed or tampered token, a link older than the password) are refused; the
right token within its time is accepted; only a hash is ever stored."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest

from stauth_server.core.accounts.links import (
    INVITE, LINK_LIFETIMES, RESET, LinkVerdict, check_link, issue_link, link_url, new_link_token,
    password_fingerprint, token_hash,
)
from stauth_server.core.session_records import credential_fingerprint

NOW = 1_800_000_000.0
HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"
NEW_HASH = "$argon2id$v=19$m=65536,t=3,p=4$b3RoZXJzYWx0$bmV3aGFzaG5ld2hhc2g"


def issued(purpose: str = RESET, password_hash: str | None = HASH):
    return issue_link(purpose, password_hash, NOW)


def test_the_right_token_within_its_time_is_accepted():
    token, stored = issued()
    verdict = check_link(token, stored, RESET, NOW + 60, password_fingerprint(HASH))
    assert verdict is LinkVerdict.VALID and verdict.ok


def test_tokens_carry_256_bits_and_are_url_safe():
    tokens = {new_link_token()[0] for _ in range(50)}
    assert len(tokens) == 50
    for token in tokens:
        assert len(token) >= 43 and set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_only_the_hash_is_stored():
    token, stored = issued()
    assert token not in json.dumps(stored)
    assert stored["hash"] == token_hash(token) != token
    assert set(stored) == {"hash", "purpose", "expires_at", "password_fingerprint"}


def test_a_guessed_or_foreign_token_is_refused():
    token, stored = issued()
    other_token, _ = issued()
    fingerprint = password_fingerprint(HASH)
    assert check_link(other_token, stored, RESET, NOW, fingerprint) is LinkVerdict.WRONG_TOKEN
    assert check_link(token[:-1] + ("A" if token[-1] != "A" else "B"), stored, RESET, NOW,
                      fingerprint) is LinkVerdict.WRONG_TOKEN
    assert check_link(stored["hash"], stored, RESET, NOW, fingerprint) is LinkVerdict.WRONG_TOKEN


@pytest.mark.parametrize("probe", ["", "a", "x" * 5000, "tok en" * 5, "\udcff" * 20, "é" * 40, None, 12])
def test_a_malformed_token_is_refused_without_error(probe):
    _, stored = issued()
    assert check_link(probe, stored, RESET, NOW, password_fingerprint(HASH)) is LinkVerdict.WRONG_TOKEN


def test_a_used_link_is_refused():
    """The caller deletes the record when the link is used: there is nothing left to open."""
    token, _ = issued()
    assert check_link(token, None, RESET, NOW, password_fingerprint(HASH)) is LinkVerdict.UNKNOWN


def test_an_expired_link_is_refused():
    token, stored = issued()
    expiry = NOW + LINK_LIFETIMES[RESET]
    assert stored["expires_at"] == expiry
    assert check_link(token, stored, RESET, expiry - 1, password_fingerprint(HASH)) is LinkVerdict.VALID
    assert check_link(token, stored, RESET, expiry, password_fingerprint(HASH)) is LinkVerdict.EXPIRED


def test_lifetimes_are_72_hours_to_invite_and_30_minutes_to_reset():
    assert issued(INVITE, None)[1]["expires_at"] == NOW + 72 * 3600
    assert issued(RESET)[1]["expires_at"] == NOW + 30 * 60


def test_a_link_for_another_purpose_is_refused():
    """An invitation (72 h) cannot be used as a reset, nor a reset as an invitation."""
    token, stored = issued(INVITE, None)
    assert check_link(token, stored, RESET, NOW, password_fingerprint(None)) is LinkVerdict.WRONG_PURPOSE
    token, stored = issued(RESET)
    assert check_link(token, stored, INVITE, NOW, password_fingerprint(HASH)) is LinkVerdict.WRONG_PURPOSE


def test_a_link_dies_when_the_password_changes():
    token, stored = issued()
    assert check_link(token, stored, RESET, NOW, password_fingerprint(NEW_HASH)) is LinkVerdict.PASSWORD_CHANGED


def test_an_invitation_dies_once_a_password_is_set():
    token, stored = issued(INVITE, None)
    assert check_link(token, stored, INVITE, NOW, password_fingerprint(None)) is LinkVerdict.VALID
    assert check_link(token, stored, INVITE, NOW, password_fingerprint(HASH)) is LinkVerdict.PASSWORD_CHANGED


def test_the_fingerprint_is_the_sessions_credential_fingerprint():
    assert password_fingerprint(HASH) == credential_fingerprint(HASH)


def test_a_tampered_record_cannot_extend_the_link():
    """Editing the record by hand into something odd refuses the link rather than crashing."""
    token, stored = issued()
    fingerprint = password_fingerprint(HASH)
    for broken in ({**stored, "expires_at": "never"}, {**stored, "expires_at": True}, {**stored, "hash": None},
                   {**stored, "hash": "ZZ" * 32}, {k: v for k, v in stored.items() if k != "password_fingerprint"}):
        assert check_link(token, broken, RESET, NOW, fingerprint) is LinkVerdict.UNKNOWN


def test_an_unknown_purpose_cannot_be_issued():
    with pytest.raises(ValueError, match="purpose"):
        issue_link("admin", HASH, NOW)


@pytest.mark.parametrize(("redirect_uri", "expected"), [
    ("https://apps.example.org/oauth2callback", "https://apps.example.org/auth/reset?token="),
    ("https://apps.example.org/team/oauth2callback", "https://apps.example.org/team/auth/reset?token="),
    ("http://localhost:8501/oauth2callback", "http://localhost:8501/auth/reset?token="),
])
def test_the_link_is_absolute_under_the_base_path(redirect_uri, expected):
    token, _ = new_link_token()
    url = link_url(redirect_uri, "reset", token)
    assert url == expected + token
    assert parse_qs(urlsplit(url).query) == {"token": [token]}


@pytest.mark.parametrize("redirect_uri", ["/oauth2callback", "https://apps.example.org/callback",
                                          "ftp://apps.example.org/oauth2callback"])
def test_a_redirect_uri_that_is_not_ours_is_refused(redirect_uri):
    with pytest.raises(ValueError):
        link_url(redirect_uri, "reset", "t" * 43)


@pytest.mark.parametrize("path", ["", "../admin", "reset?x=1", "//evil.test", "Reset"])
def test_a_link_path_is_a_plain_path(path):
    with pytest.raises(ValueError):
        link_url("https://apps.example.org/oauth2callback", path, "t" * 43)
