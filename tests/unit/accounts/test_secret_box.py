"""Sealing TOTP secrets with keys derived from the cookie secrets (core.accounts.secret_box)."""

from __future__ import annotations

import pytest

from stauth_server.core.accounts.secret_box import SecretBox, SecretBoxError
from stauth_server.core.session_cookie import Sealer

NEW = "the-new-cookie-secret-of-at-least-32-characters"
OLD = "the-old-cookie-secret-of-at-least-32-characters"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def test_a_sealed_secret_opens_for_its_user():
    box = SecretBox([NEW])
    sealed = box.seal("alice", TOTP_SECRET)
    assert TOTP_SECRET not in sealed and box.open("alice", sealed) == TOTP_SECRET


def test_sealing_twice_gives_two_different_values():
    box = SecretBox([NEW])
    assert box.seal("alice", TOTP_SECRET) != box.seal("alice", TOTP_SECRET)


def test_a_secret_sealed_with_another_key_is_refused():
    sealed = SecretBox([OLD]).seal("alice", TOTP_SECRET)
    with pytest.raises(SecretBoxError, match="does not open"):
        SecretBox([NEW]).open("alice", sealed)


def test_rotation_keeps_secrets_sealed_with_the_old_cookie_secret_working():
    sealed = SecretBox([OLD]).seal("alice", TOTP_SECRET)
    rotated = SecretBox([NEW, OLD])
    assert rotated.open("alice", sealed) == TOTP_SECRET
    assert SecretBox([NEW]).open("alice", rotated.seal("alice", TOTP_SECRET)) == TOTP_SECRET


def test_a_secret_copied_onto_another_account_is_refused():
    box = SecretBox([NEW])
    with pytest.raises(SecretBoxError):
        box.open("mallory", box.seal("alice", TOTP_SECRET))


def test_a_session_cookie_sealed_with_the_same_secret_does_not_open_as_a_totp_secret():
    cookie = Sealer([NEW], "session").seal({"user": "alice", "secret": TOTP_SECRET})
    with pytest.raises(SecretBoxError):
        SecretBox([NEW]).open("alice", cookie)


@pytest.mark.parametrize("tamper", [lambda s: s[:-2] + ("A" if s[-2] != "A" else "B") + s[-1], lambda s: "",
                                    lambda s: "not a token", lambda s: s + "é"])
def test_a_tampered_secret_is_refused_with_an_error_not_a_crash(tamper):
    box = SecretBox([NEW])
    with pytest.raises(SecretBoxError):
        box.open("alice", tamper(box.seal("alice", TOTP_SECRET)))


def test_the_error_message_never_contains_the_secret_or_the_key():
    box = SecretBox([NEW])
    with pytest.raises(SecretBoxError) as caught:
        SecretBox([OLD]).open("alice", box.seal("alice", TOTP_SECRET))
    assert TOTP_SECRET not in str(caught.value) and NEW not in str(caught.value) and OLD not in str(caught.value)
