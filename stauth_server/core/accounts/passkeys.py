"""Passkeys (WebAuthn) of local accounts: the registration and sign-in ceremonies.

py_webauthn builds the options and verifies the browser's answers; this module keeps the
rest: the relying party (RP ID and origin, from ``[auth] redirect_uri``, exact), the
challenge in flight, and the credentials in the users file.

A ceremony's challenge travels sealed (``Sealer``, purpose ``"passkey-ceremony"``) with
the options to the page and back with the answer: it opens only for ``CEREMONY_SECONDS``,
only in the browser it was issued to (the caller's browser binding is sealed with it, as
a hash), only for its purpose (and, to register, only for its account), and only once
(``claim_once`` in the session store, before anything is verified). Sign-in uses
discoverable credentials: no username, an empty ``allowCredentials``; the credential id
finds the account and the user handle returned must be the one stored with it. User
verification is required both ways. The sign count is checked and stored inside
``UsersFile.update``, under the file lock: a count that does not grow (when either is
non-zero) is refused, as an authenticator cloned.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import json
import logging
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from webauthn import (generate_authentication_options, generate_registration_options, options_to_json,
                      verify_authentication_response, verify_registration_response)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url, parse_authentication_credential_json
from webauthn.helpers.structs import (AuthenticatorSelectionCriteria, PublicKeyCredentialDescriptor,
                                      ResidentKeyRequirement, UserVerificationRequirement)

from ..audit import audit
from ..identity import user_id
from ..session_cookie import Sealer
from ..sources.local import LocalAccount, Passkey, UsersFile
from ..store import SessionStore

LOGGER = logging.getLogger("stauth_server.accounts")

#: How long a ceremony's challenge is good for (the browser's ``timeout`` too).
CEREMONY_SECONDS = 300
#: The longest passkey name, and the most passkeys one account keeps.
MAX_NAME = 64
MAX_PASSKEYS = 20
PURPOSE = "passkey-ceremony"
REGISTER, SIGN_IN = "register", "sign_in"


class PasskeyError(Exception):
    """A ceremony refused: ``reason`` for the audit trail, ``message`` for the user."""

    def __init__(self, reason: str, message: str, status: int = 400):
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.message = message
        self.status = status


@dataclass(frozen=True)
class RelyingParty:
    """Who the passkeys belong to: ``id`` (a host name), the one ``origin`` they work on."""

    id: str
    origin: str
    name: str

    @classmethod
    def from_redirect_uri(cls, redirect_uri: str, name: str | None = None) -> RelyingParty:
        """The RP ID is the host of ``[auth] redirect_uri``, the origin its scheme, host and
        port (the default port left out, as browsers write origins)."""
        parts = urlsplit(redirect_uri)
        host = (parts.hostname or "").lower()
        if parts.scheme not in ("http", "https") or not host:
            raise ValueError(f"not an http(s) URL: {redirect_uri!r}")
        default = {"http": 80, "https": 443}[parts.scheme]
        netloc = f"[{host}]" if ":" in host else host
        if parts.port is not None and parts.port != default:
            netloc += f":{parts.port}"
        return cls(id=host, origin=f"{parts.scheme}://{netloc}", name=(name or host)[:MAX_NAME])


@dataclass(frozen=True)
class Ceremony:
    """What the page needs to run a ceremony: the WebAuthn options (JSON-ready, for
    ``navigator.credentials.create/get``) and the sealed state to post back with the answer."""

    options: dict[str, Any]
    state: str


def valid_name(name: str) -> bool:
    """A passkey name: 1 to ``MAX_NAME`` printable characters."""
    return 0 < len(name) <= MAX_NAME and name.isprintable()


def _browser_hash(browser: str) -> str:
    return hashlib.sha256(("passkey-browser:" + browser).encode("utf-8")).hexdigest()


class Passkeys:
    """The passkey ceremonies of one app's local accounts (blocking: the users file, the store)."""

    def __init__(self, rp: RelyingParty, users: UsersFile, store: SessionStore, cookie_secrets: Sequence[str],
                 clock: Callable[[], float] = time.time):
        self.rp = rp
        self.users = users
        self.store = store
        self._sealer = Sealer(cookie_secrets, PURPOSE)
        self._clock = clock

    # --- registration ---------------------------------------------------------------------

    def begin_registration(self, username: str, name: str, browser: str) -> Ceremony:
        """Options to create a passkey called ``name`` for ``username`` in this browser."""
        name = name.strip()
        if not valid_name(name):
            raise PasskeyError("bad_name", f"Name the passkey (1 to {MAX_NAME} characters).")
        account = self._account(username)
        self._check_room(account, name)
        handle = next((p.user_handle for p in account.passkeys if _decoded(p.user_handle)), "") \
            or bytes_to_base64url(secrets.token_bytes(32))
        challenge = secrets.token_bytes(32)
        options = generate_registration_options(
            rp_id=self.rp.id, rp_name=self.rp.name, user_name=username,
            user_display_name=account.name or username, user_id=base64url_to_bytes(handle), challenge=challenge,
            timeout=CEREMONY_SECONDS * 1000,
            authenticator_selection=AuthenticatorSelectionCriteria(
                resident_key=ResidentKeyRequirement.REQUIRED,
                user_verification=UserVerificationRequirement.REQUIRED),
            exclude_credentials=[PublicKeyCredentialDescriptor(id=_decoded(p.credential_id))
                                 for p in account.passkeys if _decoded(p.credential_id)])
        state = self._seal(REGISTER, challenge, browser, user=username, name=name, handle=handle)
        return Ceremony(json.loads(options_to_json(options)), state)

    def finish_registration(self, username: str, browser: str, state: object, credential: object) -> Passkey:
        """Verify the authenticator's answer and store the new passkey on the account."""
        answer = _credential_object(credential)
        payload, challenge = self._claim(state, REGISTER, browser)
        if not hmac.compare_digest(str(payload.get("user", "")).encode(), username.encode()):
            raise PasskeyError("other_account", "This passkey setup belongs to another account.", 403)
        try:
            verified = verify_registration_response(
                credential=answer, expected_challenge=challenge,
                expected_rp_id=self.rp.id, expected_origin=self.rp.origin, require_user_verification=True)
        except Exception as exc:  # noqa: BLE001 - any malformed or hostile answer is a refusal
            LOGGER.info("passkey registration refused for %s: %s", username, exc)
            raise PasskeyError("invalid", "The passkey could not be verified. Try again.") from None
        if bytes_to_base64url(verified.credential_id) != answer.get("id"):
            raise PasskeyError("invalid", "The passkey could not be verified. Try again.")
        passkey = Passkey(credential_id=bytes_to_base64url(verified.credential_id),
                          public_key=bytes_to_base64url(verified.credential_public_key),
                          sign_count=verified.sign_count, name=str(payload["name"]), created=int(self._clock()),
                          user_handle=str(payload["handle"]))

        def add(accounts: dict[str, LocalAccount]) -> None:
            account = accounts.get(username)
            if account is None or account.disabled:
                raise PasskeyError("no_account", "This account cannot add passkeys.", 403)
            if any(p.credential_id == passkey.credential_id for a in accounts.values() for p in a.passkeys):
                raise PasskeyError("duplicate", "This passkey is already registered.", 409)
            self._check_room(account, passkey.name)
            accounts[username] = replace(account, passkeys=(*account.passkeys, passkey))

        self.users.update(add)
        audit("passkey_added", user_id=user_id("local", username), name=passkey.name)
        return passkey

    # --- sign-in --------------------------------------------------------------------------

    def begin_sign_in(self, browser: str) -> Ceremony:
        """Options to sign in with any passkey of this app (discoverable: nothing typed)."""
        challenge = secrets.token_bytes(32)
        options = generate_authentication_options(rp_id=self.rp.id, challenge=challenge,
                                                  timeout=CEREMONY_SECONDS * 1000,
                                                  user_verification=UserVerificationRequirement.REQUIRED)
        return Ceremony(json.loads(options_to_json(options)), self._seal(SIGN_IN, challenge, browser))

    def finish_sign_in(self, browser: str, state: object, credential: object) -> LocalAccount:
        """The local account whose passkey signed this answer (its sign count now stored).

        ``PasskeyError`` (audited as ``passkey_sign_in_failed``) for anything else: a state
        expired, replayed or from another browser, an unknown credential, another user
        handle, another origin or RP ID, no user verification, a bad signature, a sign count
        that did not grow, a disabled account.
        """
        owner: str | None = None
        try:
            _, challenge = self._claim(state, SIGN_IN, browser)
            parsed = self._parse_assertion(credential)
            credential_id = bytes_to_base64url(parsed.raw_id)
            owner = next((a.username for a in self.users.accounts().values()
                          if any(p.credential_id == credential_id for p in a.passkeys)), None)
            if owner is None:
                raise PasskeyError("unknown_passkey", "This passkey is not registered here.", 401)
            account = self.users.update(lambda accounts: self._check_assertion(
                accounts, owner, credential_id, parsed, challenge))  # type: ignore[arg-type]
        except PasskeyError as exc:
            audit("passkey_sign_in_failed", user_id=user_id("local", owner) if owner else None, reason=exc.reason)
            raise
        return account

    def _check_assertion(self, accounts: dict[str, LocalAccount], username: str, credential_id: str,
                         parsed: Any, challenge: bytes) -> LocalAccount:
        """Under the file lock: the signature, the user handle, the sign count; the count stored."""
        account = accounts.get(username)
        passkey = next((p for p in account.passkeys if p.credential_id == credential_id), None) if account else None
        if account is None or passkey is None:
            raise PasskeyError("unknown_passkey", "This passkey is not registered here.", 401)
        handle = parsed.response.user_handle or b""
        if not passkey.user_handle or not hmac.compare_digest(handle, _decoded(passkey.user_handle)):
            raise PasskeyError("user_handle", "This passkey does not belong to this account.", 401)
        try:
            verified = verify_authentication_response(
                credential=parsed, expected_challenge=challenge, expected_rp_id=self.rp.id,
                expected_origin=self.rp.origin, credential_public_key=base64url_to_bytes(passkey.public_key),
                credential_current_sign_count=0,  # checked below, once the signature holds
                require_user_verification=True)
        except Exception as exc:  # noqa: BLE001 - any malformed or hostile answer is a refusal
            LOGGER.info("passkey sign-in refused for %s: %s", username, exc)
            raise PasskeyError("invalid", "The passkey could not be verified. Try again.", 401) from None
        count = verified.new_sign_count
        if (count or passkey.sign_count) and count <= passkey.sign_count:
            LOGGER.warning("passkey %r of %s: sign count %d after %d (a cloned authenticator?)",
                           passkey.name, username, count, passkey.sign_count)
            raise PasskeyError("sign_count", "This passkey was refused: its use count went backwards, as a copied "
                                             "one's would. Sign in another way and replace it.", 401)
        if account.disabled:
            raise PasskeyError("disabled", "This account cannot sign in.", 403)
        used = replace(passkey, sign_count=count)
        accounts[username] = replace(account, passkeys=tuple(used if p is passkey else p for p in account.passkeys))
        return accounts[username]

    # --- the challenge in flight ----------------------------------------------------------

    def _seal(self, purpose: str, challenge: bytes, browser: str, **extra: str) -> str:
        return self._sealer.seal({"purpose": purpose, "challenge": bytes_to_base64url(challenge),
                                  "browser": _browser_hash(browser), **extra})

    def _claim(self, state: object, purpose: str, browser: str) -> tuple[Mapping[str, Any], bytes]:
        """The sealed state's payload and challenge, claimed for good (a second use is refused)."""
        payload = self._sealer.open(state, max_age_seconds=CEREMONY_SECONDS) if isinstance(state, str) else None
        if payload is None or payload.get("purpose") != purpose or not isinstance(payload.get("challenge"), str):
            raise PasskeyError("expired", "This passkey request has expired. Try again.")
        if not hmac.compare_digest(str(payload.get("browser", "")), _browser_hash(browser)):
            raise PasskeyError("other_browser", "This passkey request was started in another browser.", 403)
        challenge = base64url_to_bytes(payload["challenge"])
        if not self.store.claim_once("passkey:" + hashlib.sha256(challenge).hexdigest(), CEREMONY_SECONDS + 60):
            raise PasskeyError("replayed", "This passkey request was already used. Try again.")
        return payload, challenge

    # --- helpers --------------------------------------------------------------------------

    def _account(self, username: str) -> LocalAccount:
        account = self.users.accounts().get(username)
        if account is None or account.disabled:
            raise PasskeyError("no_account", "This account cannot add passkeys.", 403)
        return account

    @staticmethod
    def _check_room(account: LocalAccount, name: str) -> None:
        if any(p.name == name for p in account.passkeys):
            raise PasskeyError("name_taken", "You already have a passkey with this name: choose another.", 409)
        if len(account.passkeys) >= MAX_PASSKEYS:
            raise PasskeyError("too_many", f"An account keeps at most {MAX_PASSKEYS} passkeys: remove one first.", 409)

    @staticmethod
    def _parse_assertion(credential: object) -> Any:
        try:
            return parse_authentication_credential_json(_credential_object(credential))
        except Exception:  # noqa: BLE001 - any malformed answer is a refusal
            raise PasskeyError("malformed", "The passkey's answer is malformed.") from None


def remove_passkey(users: UsersFile, username: str, credential_id: str) -> Passkey | None:
    """Remove one of ``username``'s passkeys: the passkey removed, None when it has no such one."""

    def drop(accounts: dict[str, LocalAccount]) -> Passkey | None:
        account = accounts.get(username)
        gone = next((p for p in account.passkeys if p.credential_id == credential_id), None) if account else None
        if account is not None and gone is not None:
            accounts[username] = replace(account, passkeys=tuple(p for p in account.passkeys if p is not gone))
        return gone

    removed = users.update(drop)
    if removed is not None:
        audit("passkey_removed", user_id=user_id("local", username), name=removed.name)
    return removed


def _decoded(value: str) -> bytes:
    """base64url to bytes; b"" for a value that does not decode (a hand-edited users file)."""
    try:
        return base64url_to_bytes(value)
    except (binascii.Error, ValueError):
        return b""


def _credential_object(credential: object) -> dict[str, Any]:
    """The browser's ``PublicKeyCredential`` as posted: a JSON object, else refused."""
    if not isinstance(credential, dict):
        raise PasskeyError("malformed", "The passkey's answer is malformed.")
    return credential


__all__ = ["CEREMONY_SECONDS", "Ceremony", "MAX_NAME", "MAX_PASSKEYS", "PasskeyError", "Passkeys", "RelyingParty",
           "remove_passkey", "valid_name"]
