"""Passkey ceremonies (core.accounts.passkeys) against a software authenticator: what a
real authenticator in the right browser gets, and every forgery refused (another origin or
RP ID, a replayed or foreign challenge, no user verification, a sign count going backwards,
another user handle, an unknown credential, a malformed answer)."""

from __future__ import annotations

import dataclasses
import json
import logging
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent))

from soft_authenticator import SoftAuthenticator, b64url  # noqa: E402

from stauth_server.core.accounts.passkeys import (CEREMONY_SECONDS, MAX_PASSKEYS, PasskeyError, Passkeys,  # noqa: E402
                                                  RelyingParty, remove_passkey)
from stauth_server.core.sources.local import LocalAccount, Passkey, UsersFile, UsersFileError  # noqa: E402
from stauth_server.core.store.memory import MemoryStore  # noqa: E402

SECRET = "a-cookie-secret-of-at-least-32-characters-0001"
ORIGIN = "http://localhost:8501"
RP = RelyingParty.from_redirect_uri(f"{ORIGIN}/oauth2callback", "Reports")
BROWSER = "browser-binding-of-alices-browser"


@pytest.fixture
def users(tmp_path) -> UsersFile:
    store = UsersFile(tmp_path / "users.toml")
    store.save([LocalAccount("alice", "$argon2id$unused", "alice@example.org", "Alice"),
                LocalAccount("bob", "$argon2id$unused")])
    return store


@pytest.fixture
def passkeys(users) -> Passkeys:
    return Passkeys(RP, users, MemoryStore(), [SECRET])


@pytest.fixture
def events(caplog):
    caplog.set_level(logging.INFO, logger="stauth.audit")
    return lambda: [json.loads(r.getMessage()) for r in caplog.records if r.name == "stauth.audit"]


def register(passkeys: Passkeys, authenticator: SoftAuthenticator, username: str = "alice",
             name: str = "laptop") -> Passkey:
    ceremony = passkeys.begin_registration(username, name, BROWSER)
    return passkeys.finish_registration(username, BROWSER, ceremony.state,
                                        authenticator.create(ceremony.options, ORIGIN))


def sign_in(passkeys: Passkeys, authenticator: SoftAuthenticator, origin: str = ORIGIN, **forged) -> LocalAccount:
    ceremony = passkeys.begin_sign_in(BROWSER)
    return passkeys.finish_sign_in(BROWSER, ceremony.state, authenticator.get(ceremony.options, origin, **forged))


def refusal(call, *args, **kwargs) -> PasskeyError:
    with pytest.raises(PasskeyError) as caught:
        call(*args, **kwargs)
    return caught.value


# --- the relying party -------------------------------------------------------------------


@pytest.mark.parametrize("redirect_uri, rp_id, origin", [
    ("http://localhost:8501/oauth2callback", "localhost", "http://localhost:8501"),
    ("https://App.Example.org:443/base/oauth2callback", "app.example.org", "https://app.example.org"),
    ("https://app.example.org:8443/oauth2callback", "app.example.org", "https://app.example.org:8443"),
    ("http://127.0.0.1:8501/oauth2callback", "127.0.0.1", "http://127.0.0.1:8501"),
])
def test_the_rp_id_and_origin_come_from_the_redirect_uri(redirect_uri, rp_id, origin):
    rp = RelyingParty.from_redirect_uri(redirect_uri)
    assert (rp.id, rp.origin, rp.name) == (rp_id, origin, rp_id)


# --- registration ------------------------------------------------------------------------


def test_registration_asks_for_a_discoverable_verified_credential_and_excludes_the_ones_held(passkeys):
    first = register(passkeys, SoftAuthenticator())
    options = passkeys.begin_registration("alice", "phone", BROWSER).options
    assert options["rp"] == {"id": "localhost", "name": "Reports"}
    assert options["user"]["name"] == "alice" and options["user"]["displayName"] == "Alice"
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["authenticatorSelection"]["userVerification"] == "required"
    assert [c["id"] for c in options["excludeCredentials"]] == [first.credential_id]
    assert options["user"]["id"] == first.user_handle  # one user handle per account
    assert options["timeout"] == CEREMONY_SECONDS * 1000


def test_a_registered_passkey_is_stored_on_the_account_and_survives_a_rewrite(passkeys, users, events):
    passkey = register(passkeys, SoftAuthenticator())
    [stored] = users.accounts()["alice"].passkeys
    assert stored == passkey and stored.name == "laptop" and stored.user_handle and stored.sign_count == 0
    users.update(lambda accounts: accounts.update(bob=dataclasses.replace(accounts["bob"], name="Bob")))
    assert users.accounts()["alice"].passkeys == (passkey,)
    assert ("passkey_added", "local|alice", "laptop") in [(e["event"], e["user_id"], e.get("name"))
                                                          for e in events()]


def test_the_user_handle_round_trips_and_stays_optional_in_the_users_file(users):
    with_handle = Passkey("Y3JlZC0x", "cGs", 3, 'key "one"', 1764460800, "aGFuZGxl")
    without = Passkey("Y3JlZC0y", "cGs", 0, "old", 1764460900)
    users.update(lambda accounts: accounts.update(
        alice=dataclasses.replace(accounts["alice"], passkeys=(with_handle, without))))
    assert UsersFile(users.path).accounts()["alice"].passkeys == (with_handle, without)
    users.path.write_text(users.path.read_text().replace('user_handle = "aGFuZGxl"', "user_handle = 7"))
    with pytest.raises(UsersFileError, match=r"passkeys\[0\]: user_handle must be a string"):
        UsersFile(users.path).accounts()


@pytest.mark.parametrize("name, reason", [("", "bad_name"), ("x" * 65, "bad_name"), ("a\nb", "bad_name"),
                                          ("laptop", "name_taken")])
def test_a_passkey_needs_a_fresh_printable_name(passkeys, name, reason):
    register(passkeys, SoftAuthenticator())
    assert refusal(passkeys.begin_registration, "alice", name, BROWSER).reason == reason


def test_an_account_keeps_a_bounded_number_of_passkeys(passkeys, users):
    many = tuple(Passkey(b64url(bytes([i])), "cGs", 0, f"key {i}", 1) for i in range(MAX_PASSKEYS))
    users.update(lambda accounts: accounts.update(alice=dataclasses.replace(accounts["alice"], passkeys=many)))
    assert refusal(passkeys.begin_registration, "alice", "one more", BROWSER).reason == "too_many"


def test_a_registration_answer_for_another_origin_or_rp_id_is_refused(passkeys, users):
    authenticator = SoftAuthenticator()
    for origin, rp_id in [("http://127.0.0.1:8501", None), ("https://evil.example", None), (ORIGIN, "evil.example")]:
        ceremony = passkeys.begin_registration("alice", "laptop", BROWSER)
        answer = authenticator.create(ceremony.options, origin, rp_id=rp_id)
        assert refusal(passkeys.finish_registration, "alice", BROWSER, ceremony.state, answer).reason == "invalid"
    assert users.accounts()["alice"].passkeys == ()


def test_a_registration_without_user_verification_is_refused(passkeys, users):
    ceremony = passkeys.begin_registration("alice", "laptop", BROWSER)
    answer = SoftAuthenticator().create(ceremony.options, ORIGIN, verified=False)
    assert refusal(passkeys.finish_registration, "alice", BROWSER, ceremony.state, answer).reason == "invalid"
    assert users.accounts()["alice"].passkeys == ()


def test_a_registration_state_works_once_in_its_browser_for_its_account(passkeys, users):
    authenticator = SoftAuthenticator()
    ceremony = passkeys.begin_registration("alice", "laptop", BROWSER)
    answer = authenticator.create(ceremony.options, ORIGIN)
    assert refusal(passkeys.finish_registration, "alice", "another-browser", ceremony.state, answer).reason \
        == "other_browser"
    again = passkeys.begin_registration("alice", "laptop", BROWSER)
    passkeys.finish_registration("alice", BROWSER, again.state, authenticator.create(again.options, ORIGIN))
    assert refusal(passkeys.finish_registration, "alice", BROWSER, again.state, answer).reason == "replayed"
    # a state posted by another account is used up by that attempt
    assert refusal(passkeys.finish_registration, "bob", BROWSER, ceremony.state, answer).reason == "other_account"
    assert refusal(passkeys.finish_registration, "alice", BROWSER, ceremony.state, answer).reason == "replayed"
    assert len(users.accounts()["alice"].passkeys) == 1


def test_a_sign_in_state_cannot_register_and_a_tampered_one_does_not_open(passkeys):
    sign_in_state = passkeys.begin_sign_in(BROWSER).state
    assert refusal(passkeys.finish_registration, "alice", BROWSER, sign_in_state, {"id": "x"}).reason == "expired"
    ceremony = passkeys.begin_registration("alice", "laptop", BROWSER)
    tampered = ceremony.state[:-4] + ("AAAA" if not ceremony.state.endswith("AAAA") else "BBBB")
    assert refusal(passkeys.finish_registration, "alice", BROWSER, tampered, {"id": "x"}).reason == "expired"


def test_the_same_credential_cannot_be_registered_twice(passkeys, users):
    authenticator = SoftAuthenticator()
    ceremony = passkeys.begin_registration("alice", "laptop", BROWSER)
    answer = authenticator.create(ceremony.options, ORIGIN)
    passkeys.finish_registration("alice", BROWSER, ceremony.state, answer)
    again = passkeys.begin_registration("bob", "stolen", BROWSER)
    same_id = authenticator.create(again.options, ORIGIN, credential_id=authenticator.credentials[0].credential_id)
    assert refusal(passkeys.finish_registration, "bob", BROWSER, again.state, same_id).reason == "duplicate"
    third = passkeys.begin_registration("bob", "stolen", BROWSER)
    relabelled = authenticator.create(third.options, ORIGIN)
    relabelled["id"] = relabelled["rawId"] = answer["id"]  # the id the authenticator attested differs
    assert refusal(passkeys.finish_registration, "bob", BROWSER, third.state, relabelled).reason == "invalid"
    assert users.accounts()["bob"].passkeys == ()


def test_removing_a_passkey(passkeys, users, events):
    passkey = register(passkeys, SoftAuthenticator())
    assert remove_passkey(users, "bob", passkey.credential_id) is None  # not bob's
    assert remove_passkey(users, "alice", passkey.credential_id) == passkey
    assert users.accounts()["alice"].passkeys == ()
    assert remove_passkey(users, "alice", passkey.credential_id) is None
    assert [e["event"] for e in events()].count("passkey_removed") == 1


# --- sign-in -----------------------------------------------------------------------------


def test_a_passkey_signs_its_account_in_without_a_username_and_its_count_is_stored(passkeys, users):
    authenticator = SoftAuthenticator()
    register(passkeys, authenticator, "bob", "key")
    register(passkeys, authenticator, "alice", "laptop")
    options = passkeys.begin_sign_in(BROWSER).options
    assert options["rpId"] == "localhost" and options["allowCredentials"] == []
    assert options["userVerification"] == "required"
    assert sign_in(passkeys, authenticator).username == "alice"
    assert sign_in(passkeys, authenticator, credential=authenticator.credentials[0]).username == "bob"
    assert users.accounts()["alice"].passkeys[0].sign_count == 1
    assert sign_in(passkeys, authenticator).username == "alice"
    assert users.accounts()["alice"].passkeys[0].sign_count == 2


def test_an_authenticator_without_a_counter_keeps_working(passkeys):
    authenticator = SoftAuthenticator(counting=False)
    register(passkeys, authenticator)
    assert sign_in(passkeys, authenticator).username == "alice"
    assert sign_in(passkeys, authenticator).username == "alice"


@pytest.mark.parametrize("count", [1, 3])
def test_a_sign_count_that_does_not_grow_is_refused_as_a_clone(passkeys, users, events, count):
    authenticator = SoftAuthenticator()
    register(passkeys, authenticator)
    sign_in(passkeys, authenticator, sign_count=3)
    assert refusal(sign_in, passkeys, authenticator, sign_count=count).reason == "sign_count"
    assert refusal(sign_in, passkeys, authenticator, sign_count=0).reason == "sign_count"
    assert users.accounts()["alice"].passkeys[0].sign_count == 3
    failed = [e for e in events() if e["event"] == "passkey_sign_in_failed"]
    assert failed[-1]["reason"] == "sign_count" and failed[-1]["user_id"] == "local|alice"


@pytest.mark.parametrize("forgery, reason", [
    ({"origin": "http://127.0.0.1:8501"}, "invalid"),  # the same server under another name
    ({"origin": "https://evil.example"}, "invalid"),  # a phishing page relaying the challenge
    ({"origin": "http://localhost:8502"}, "invalid"),  # another port: another origin
    ({"rp_id": "evil.example"}, "invalid"),
    ({"verified": False}, "invalid"),
    ({"user_handle": b"someone else"}, "user_handle"),
    ({"user_handle": b""}, "user_handle"),
])
def test_a_forged_assertion_is_refused(passkeys, users, forgery, reason):
    authenticator = SoftAuthenticator()
    register(passkeys, authenticator)
    forgery = dict(forgery)
    origin = forgery.pop("origin", ORIGIN)
    assert refusal(sign_in, passkeys, authenticator, origin, **forgery).reason == reason
    assert users.accounts()["alice"].passkeys[0].sign_count == 0


def test_a_bad_signature_is_refused(passkeys):
    authenticator = SoftAuthenticator()
    register(passkeys, authenticator)
    ceremony = passkeys.begin_sign_in(BROWSER)
    answer = authenticator.get(ceremony.options, ORIGIN)
    other = SoftAuthenticator()
    other.create({"rp": {"id": "localhost"}, "user": {"id": "dQ"}, "challenge": "Yw"}, ORIGIN)
    answer["response"]["signature"] = other.get(ceremony.options, ORIGIN)["response"]["signature"]
    assert refusal(passkeys.finish_sign_in, BROWSER, ceremony.state, answer).reason == "invalid"


def test_a_sign_in_state_works_once_and_only_in_its_browser(passkeys, events):
    authenticator = SoftAuthenticator()
    register(passkeys, authenticator)
    ceremony = passkeys.begin_sign_in(BROWSER)
    answer = authenticator.get(ceremony.options, ORIGIN)
    assert refusal(passkeys.finish_sign_in, "another-browser", ceremony.state, answer).reason == "other_browser"
    assert passkeys.finish_sign_in(BROWSER, ceremony.state, answer).username == "alice"
    assert refusal(passkeys.finish_sign_in, BROWSER, ceremony.state, answer).reason == "replayed"
    fresh = passkeys.begin_sign_in(BROWSER)  # an old answer under a new state: the challenge differs
    assert refusal(passkeys.finish_sign_in, BROWSER, fresh.state, answer).reason == "invalid"
    registration = passkeys.begin_registration("alice", "other", BROWSER)
    assert refusal(passkeys.finish_sign_in, BROWSER, registration.state, answer).reason == "expired"
    assert {e["reason"] for e in events() if e["event"] == "passkey_sign_in_failed"} \
        == {"other_browser", "replayed", "invalid", "expired"}


def test_an_expired_state_is_refused(passkeys, monkeypatch):
    authenticator = SoftAuthenticator()
    register(passkeys, authenticator)
    ceremony = passkeys.begin_sign_in(BROWSER)
    answer = authenticator.get(ceremony.options, ORIGIN)
    import cryptography.fernet

    later = cryptography.fernet.time.time() + CEREMONY_SECONDS + 5
    monkeypatch.setattr(cryptography.fernet.time, "time", lambda: later)
    assert refusal(passkeys.finish_sign_in, BROWSER, ceremony.state, answer).reason == "expired"


def test_an_unknown_or_removed_passkey_is_refused(passkeys, users):
    authenticator = SoftAuthenticator()
    passkey = register(passkeys, authenticator)
    remove_passkey(users, "alice", passkey.credential_id)
    assert refusal(sign_in, passkeys, authenticator).status == 401


def test_a_disabled_account_cannot_sign_in_with_its_passkey(passkeys, users):
    authenticator = SoftAuthenticator()
    register(passkeys, authenticator)
    users.update(lambda accounts: accounts.update(alice=dataclasses.replace(accounts["alice"], disabled=True)))
    error = refusal(sign_in, passkeys, authenticator)
    assert (error.reason, error.status) == ("disabled", 403)
    assert users.accounts()["alice"].passkeys[0].sign_count == 0


def test_a_passkey_stored_without_a_user_handle_cannot_sign_in(passkeys, users):
    authenticator = SoftAuthenticator()
    register(passkeys, authenticator)
    users.update(lambda accounts: accounts.update(alice=dataclasses.replace(
        accounts["alice"], passkeys=(dataclasses.replace(accounts["alice"].passkeys[0], user_handle=""),))))
    assert refusal(sign_in, passkeys, authenticator).reason == "user_handle"


@pytest.mark.parametrize("answer", [
    None, [], "text", {}, {"id": "x"}, {"id": "!!", "rawId": "!!", "type": "public-key", "response": {}},
    {"id": "AA", "rawId": "AA", "type": "public-key",
     "response": {"clientDataJSON": "e30", "authenticatorData": "AA", "signature": "AA"}},
    {"id": "AA", "rawId": "AA", "type": "public-key",
     "response": {"clientDataJSON": 7, "authenticatorData": [], "signature": {}}},
])
def test_a_malformed_answer_is_refused_not_crashed_on(passkeys, answer):
    register(passkeys, SoftAuthenticator())
    ceremony = passkeys.begin_sign_in(BROWSER)
    assert refusal(passkeys.finish_sign_in, BROWSER, ceremony.state, answer).status in (400, 401)
    registration = passkeys.begin_registration("alice", "phone", BROWSER)
    assert refusal(passkeys.finish_registration, "alice", BROWSER, registration.state, answer).status == 400


# --- any answer at all: a refusal, never a crash -------------------------------------------

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                                max_size=4), max_leaves=16)
FIELDS = ["id", "rawId", "type", "clientDataJSON", "authenticatorData", "signature", "userHandle",
          "attestationObject"]


@given(answer=JSON)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_json_answer_is_refused_with_a_passkey_error(passkeys, answer):
    ceremony = passkeys.begin_sign_in(BROWSER)
    assert 400 <= refusal(passkeys.finish_sign_in, BROWSER, ceremony.state, answer).status < 500
    registration = passkeys.begin_registration("alice", "laptop", BROWSER)
    assert 400 <= refusal(passkeys.finish_registration, "alice", BROWSER, registration.state, answer).status < 500


@given(field=st.sampled_from(FIELDS), value=st.binary(max_size=96).map(b64url) | JSON)
@settings(max_examples=60, deadline=None)
def test_a_valid_answer_with_one_field_replaced_is_refused_or_harmless(field, value):
    with tempfile.TemporaryDirectory() as folder:
        users = UsersFile(Path(folder) / "users.toml")
        users.save([LocalAccount("alice", "$argon2id$unused"), LocalAccount("bob", "$argon2id$unused")])
        passkeys = Passkeys(RP, users, MemoryStore(), [SECRET])
        authenticator = SoftAuthenticator()
        register(passkeys, authenticator)
        for begin, finish, answer_to in [
            (lambda: passkeys.begin_sign_in(BROWSER), lambda s, a: passkeys.finish_sign_in(BROWSER, s, a),
             lambda options: authenticator.get(options, ORIGIN)),
            (lambda: passkeys.begin_registration("bob", "key", BROWSER),
             lambda s, a: passkeys.finish_registration("bob", BROWSER, s, a),
             lambda options: SoftAuthenticator().create(options, ORIGIN)),
        ]:
            ceremony = begin()
            answer = answer_to(ceremony.options)
            (answer if field in ("id", "rawId", "type") else answer["response"])[field] = value
            try:
                finish(ceremony.state, answer)  # (a field the ceremony does not read changes nothing)
            except PasskeyError as exc:
                assert 400 <= exc.status < 500
