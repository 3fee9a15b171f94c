"""Invitations and password resets over the users file (core.accounts.recovery_flows and
link_service): a link works once, within its time, for its purpose, until the password
changes; only hashes are stored; a forgot-password request answers before any lookup and
sends nothing for unknown, disabled or throttled accounts; links never reach the log
when SMTP is configured."""

from __future__ import annotations

import dataclasses
import json
import logging
from email.message import EmailMessage
from urllib.parse import parse_qs, urlsplit

import pytest
from cheap_argon2 import use_cheap_hasher

from stauth_server.core.accounts.link_service import LinkService, LinkThrottled
from stauth_server.core.accounts.links import INVITE, LINK_LIFETIMES, RESET, LinkVerdict, token_hash
from stauth_server.core.accounts.mail import LogMailer, MailError, SmtpConfig
from stauth_server.core.accounts.recovery_flows import (
    INVALID_LINK, MAX_PENDING_LINKS, InvitationError, LinkRefused, PasswordRefused, find_account, invite,
    issue_reset, open_link, redeem,
)
from stauth_server.core.sources.local import LocalAccount, UsersFile, hash_password, verify

REDIRECT_URI = "https://app.example.org/team/oauth2callback"
PASSWORD = "alice-old-Pa55word"
NEW = "a-fresh-Pa55phrase-for-alice"


@pytest.fixture(autouse=True)
def cheap(monkeypatch):
    use_cheap_hasher(monkeypatch)


@pytest.fixture
def users(tmp_path) -> UsersFile:
    users = UsersFile(tmp_path / "users.toml")
    users.save([LocalAccount("alice", hash_password(PASSWORD), "alice@example.org", "Alice"),
                LocalAccount("dora", hash_password(PASSWORD), "dora@example.org", disabled=True),
                LocalAccount("noemail", hash_password(PASSWORD))])
    return users


def token_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["token"][0]


# --- invitations ----------------------------------------------------------------------


def test_an_invitation_is_a_disabled_account_nobody_can_sign_in_to(users):
    issued = invite(users, "zoe@example.org", REDIRECT_URI, name="Zoe", roles=["editor"])
    assert issued.url.startswith("https://app.example.org/team/auth/invite?token=")
    account = users.accounts()["zoe@example.org"]
    assert (account.disabled, account.email, account.name, account.roles) == (True, "zoe@example.org", "Zoe",
                                                                               ("editor",))
    [record] = account.one_time_tokens
    assert record.purpose == INVITE and record.hash == token_hash(token_of(issued.url))
    assert token_of(issued.url) not in users.path.read_text()


def test_redeeming_an_invitation_sets_the_password_enables_the_account_and_works_once(users):
    issued = invite(users, "zoe@example.org", REDIRECT_URI, username="zoe")
    token = token_of(issued.url)
    assert open_link(users, token, INVITE).username == "zoe"
    account = redeem(users, token, INVITE, "zoe-chose-a-Pa55phrase", min_length=12)
    assert not account.disabled and account.one_time_tokens == ()
    assert verify(users, "zoe", "zoe-chose-a-Pa55phrase") is not None
    with pytest.raises(LinkRefused) as refused:
        redeem(users, token, INVITE, "another-Pa55phrase-zoe", min_length=12)
    assert refused.value.verdict is LinkVerdict.UNKNOWN and refused.value.user_message == INVALID_LINK


@pytest.mark.parametrize("email, username, message", [
    ("not-an-address", None, "not an e-mail address"),
    ("Zoe <zoe@example.org>", None, "not an e-mail address"),
    ("zoe'o@example.org", None, "--username"),
    ("zoe@example.org", "alice", "already exists"),
])
def test_an_invitation_that_cannot_be_made_says_why_and_changes_nothing(users, email, username, message):
    before = users.path.read_text()
    with pytest.raises(InvitationError, match=message):
        invite(users, email, REDIRECT_URI, username=username)
    assert users.path.read_text() == before


def test_an_invitation_needs_a_redirect_uri_ending_in_the_callback(users):
    with pytest.raises(InvitationError, match=r"\[auth\] redirect_uri"):
        invite(users, "zoe@example.org", "https://app.example.org/")


# --- password resets ------------------------------------------------------------------


@pytest.mark.parametrize("identifier", ["alice", "alice@example.org", "ALICE@Example.org"])
def test_a_reset_finds_the_account_by_username_or_e_mail(users, identifier):
    issued = issue_reset(users, identifier, REDIRECT_URI)
    assert issued is not None and issued.account.username == "alice"
    assert issued.url.startswith("https://app.example.org/team/auth/reset?token=")


@pytest.mark.parametrize("identifier", ["nobody", "dora", "noemail", "nobody@example.org"])
def test_no_reset_for_unknown_disabled_or_address_less_accounts(users, identifier):
    before = users.path.read_text()
    assert issue_reset(users, identifier, REDIRECT_URI) is None
    assert users.path.read_text() == before


def test_two_accounts_sharing_an_e_mail_get_no_link_by_that_address():
    accounts = {"a": LocalAccount("a", "h", "same@example.org"), "b": LocalAccount("b", "h", "same@example.org")}
    assert find_account(accounts, "same@example.org") is None
    assert find_account(accounts, "a").username == "a"


def test_a_reset_sets_the_password_and_kills_every_pending_link(users):
    first = token_of(issue_reset(users, "alice", REDIRECT_URI).url)
    second = token_of(issue_reset(users, "alice", REDIRECT_URI).url)
    redeem(users, second, RESET, NEW, min_length=12)
    assert verify(users, "alice", NEW) is not None and verify(users, "alice", PASSWORD) is None
    for token in (first, second):
        with pytest.raises(LinkRefused):
            open_link(users, token, RESET)


def test_a_link_older_than_the_password_is_refused(users):
    token = token_of(issue_reset(users, "alice", REDIRECT_URI).url)
    # the password changes another way (the account page), keeping the record: the link still dies
    users.update(lambda accounts: accounts.__setitem__(
        "alice", dataclasses.replace(accounts["alice"], password_hash=hash_password("changed-elsewhere-123"))))
    with pytest.raises(LinkRefused) as refused:
        redeem(users, token, RESET, NEW, min_length=12)
    assert refused.value.verdict is LinkVerdict.PASSWORD_CHANGED


def test_an_expired_link_is_refused(users):
    token = token_of(issue_reset(users, "alice", REDIRECT_URI, now=1_800_000_000.0).url)
    with pytest.raises(LinkRefused) as refused:
        open_link(users, token, RESET, now=1_800_000_000.0 + LINK_LIFETIMES[RESET] + 1)
    assert refused.value.verdict is LinkVerdict.EXPIRED


def test_a_reset_link_does_not_open_an_invitation_nor_the_reverse(users):
    reset_token = token_of(issue_reset(users, "alice", REDIRECT_URI).url)
    invite_token = token_of(invite(users, "zoe@example.org", REDIRECT_URI).url)
    for token, purpose in ((reset_token, INVITE), (invite_token, RESET)):
        with pytest.raises(LinkRefused) as refused:
            open_link(users, token, purpose)
        assert refused.value.verdict is LinkVerdict.WRONG_PURPOSE


def test_a_reset_link_of_an_account_disabled_since_is_refused(users):
    token = token_of(issue_reset(users, "alice", REDIRECT_URI).url)
    users.update(lambda accounts: accounts.__setitem__("alice", dataclasses.replace(accounts["alice"], disabled=True)))
    before = users.accounts()["alice"]
    with pytest.raises(LinkRefused):
        redeem(users, token, RESET, NEW, min_length=12)
    assert users.accounts()["alice"] == before  # still disabled, password unchanged


@pytest.mark.parametrize("token", ["", "x", "a" * 43, "a" * 5000, "../../etc/passwd", "é" * 43])
def test_malformed_or_guessed_tokens_are_refused(users, token):
    issue_reset(users, "alice", REDIRECT_URI)
    with pytest.raises(LinkRefused):
        open_link(users, token, RESET)


@pytest.mark.parametrize("new, reason", [("short", "at least 12"), ("Password12345", "common"),
                                         ("alice@example.org", "username or e-mail")])
def test_the_password_policy_applies_and_the_link_stays_usable(users, new, reason):
    token = token_of(issue_reset(users, "alice", REDIRECT_URI).url)
    with pytest.raises(PasswordRefused, match=reason) as refused:
        redeem(users, token, RESET, new, min_length=12)
    assert refused.value.username == "alice"
    assert open_link(users, token, RESET).username == "alice"
    assert verify(users, "alice", PASSWORD) is not None


def test_repeated_requests_keep_a_bounded_number_of_links(users):
    for _ in range(MAX_PENDING_LINKS + 4):
        issue_reset(users, "alice", REDIRECT_URI)
    assert len(users.accounts()["alice"].one_time_tokens) == MAX_PENDING_LINKS


# --- the server's link service --------------------------------------------------------


class RecordingMailer:
    def __init__(self, fail: bool = False):
        self.sent: list[tuple[EmailMessage, str]] = []
        self.fail = fail

    def send(self, message: EmailMessage, link: str) -> None:
        if self.fail:
            raise MailError("SMTP server sink:25 answered 554 no")
        self.sent.append((message, link))


def service(users: UsersFile, mailer=None, smtp: SmtpConfig | None = None) -> LinkService:
    return LinkService(users, redirect_uri=REDIRECT_URI, smtp=smtp, app_title="Sales Portal", min_password_length=12,
                       mailer=mailer)


def test_a_request_mails_the_link_from_a_background_thread(users):
    mailer = RecordingMailer()
    links = service(users, mailer, SmtpConfig(host="smtp.example.org", sender="app@example.org"))
    links.request_reset("alice@example.org", "203.0.113.9").result(timeout=10)
    [(message, link)] = mailer.sent
    assert message["To"] == "alice@example.org" and message["From"] == "app@example.org"
    assert "Sales Portal" in message["Subject"] and link in message.get_content()
    assert links.open(token_of(link), RESET).username == "alice"


@pytest.mark.parametrize("identifier", ["nobody", "dora", "noemail"])
def test_a_request_for_no_usable_account_sends_nothing(users, identifier):
    mailer = RecordingMailer()
    future = service(users, mailer).request_reset(identifier, "203.0.113.9")
    future.result(timeout=10)
    assert mailer.sent == []


def test_every_request_is_audited_with_why_nothing_was_sent_and_never_the_link(users, caplog):
    mailer = RecordingMailer()
    links = service(users, mailer)
    with caplog.at_level(logging.INFO, logger="stauth.audit"):
        for who in ("alice", "nobody", "dora", "noemail"):
            links.request_reset(who, "203.0.113.9").result(timeout=10)
    events = [json.loads(r.getMessage()) for r in caplog.records if r.name == "stauth.audit"]
    assert [(e["event"], e["user_id"], e["sent"], e.get("reason")) for e in events] == [
        ("password_reset_requested", "local|alice", True, None),
        ("password_reset_requested", None, False, "no_such_account"),
        ("password_reset_requested", "local|dora", False, "disabled"),
        ("password_reset_requested", "local|noemail", False, "no_email"),
    ]
    assert token_of(mailer.sent[0][1]) not in caplog.text


def test_requests_are_throttled_per_account_and_a_throttled_one_sends_nothing(users):
    mailer = RecordingMailer()
    links = service(users, mailer)
    futures = [links.request_reset("alice", f"198.51.100.{i}") for i in range(6)]
    for future in futures:
        if future is not None:
            future.result(timeout=10)
    assert len(mailer.sent) == 3 and futures[3:] == [None, None, None]


def test_switching_between_username_and_e_mail_does_not_double_the_budget(users):
    mailer = RecordingMailer()
    links = service(users, mailer)
    for i, identifier in enumerate(["alice", "alice@example.org", "ALICE@example.org", "alice", "Alice@example.org"]):
        future = links.request_reset(identifier, f"198.51.100.{i}")
        if future is not None:
            future.result(timeout=10)
    assert len(mailer.sent) == 3


def test_requests_are_throttled_per_address(users):
    mailer = RecordingMailer()
    links = service(users, mailer)
    answers = [links.request_reset(f"nobody-{i}", "203.0.113.9") for i in range(12)]
    assert answers[-1] is None and all(a is not None for a in answers[:10])


def test_a_mail_failure_is_logged_without_the_link(users, caplog):
    links = service(users, RecordingMailer(fail=True), SmtpConfig(host="smtp.example.org", sender="app@example.org"))
    with caplog.at_level(logging.DEBUG):
        links.request_reset("alice", "203.0.113.9").result(timeout=10)
    assert "not sent" in caplog.text
    assert "token=" not in caplog.text and "/auth/reset" not in caplog.text


def test_without_smtp_the_link_goes_to_the_log_and_with_smtp_never(users, caplog):
    with caplog.at_level(logging.DEBUG):
        service(users).request_reset("alice", "203.0.113.9").result(timeout=10)
    assert isinstance(service(users).mailer, LogMailer)
    assert "/team/auth/reset?token=" in caplog.text
    caplog.clear()
    mailer = RecordingMailer()
    with caplog.at_level(logging.DEBUG):
        service(users, mailer, SmtpConfig(host="smtp.example.org", sender="app@example.org")) \
            .request_reset("alice", "203.0.113.9").result(timeout=10)
    assert len(mailer.sent) == 1 and "token=" not in caplog.text


def test_without_a_redirect_uri_there_are_no_reset_links(users):
    links = LinkService(users, redirect_uri=None, smtp=None, app_title="Sign in", min_password_length=12)
    assert not links.resets_available and links.request_reset("alice", "203.0.113.9") is None


def test_refused_links_are_throttled_per_address(users):
    links = service(users)
    token = token_of(issue_reset(users, "alice", REDIRECT_URI).url)
    for _ in range(5):
        with pytest.raises(LinkRefused):
            links.redeem("a" * 43, RESET, NEW, "203.0.113.9")
    with pytest.raises(LinkThrottled):
        links.redeem(token, RESET, NEW, "203.0.113.9")  # even the right link, from there, for a while
    assert verify(users, "alice", PASSWORD) is not None
    assert links.redeem(token, RESET, NEW, "198.51.100.1").username == "alice"  # another address is not held up


# --- the start-up warning -------------------------------------------------------------


@pytest.mark.parametrize("address, smtp, warned", [
    ("0.0.0.0", None, True), (None, None, True), ("127.0.0.1", None, False), ("localhost", None, False),
    ("0.0.0.0", SmtpConfig(host="smtp.example.org", sender="app@example.org"), False),
])
def test_links_to_the_log_on_a_reachable_address_are_warned_about_at_start_up(users, monkeypatch, caplog, address,
                                                                               smtp, warned):
    from stauth_server.core.accounts.mail import STARTUP_WARNING
    from stauth_server.core.config import ServerConfig
    from stauth_server.core.signin import SignInService
    from stauth_server.core.store.memory import MemoryStore
    from stauth_server.streamlit import internals, server_setup

    monkeypatch.setattr(internals, "get_config_option", lambda key: address if key == "server.address" else None)
    config = ServerConfig(redirect_uri=REDIRECT_URI, cookie_secrets=("s" * 32,), users_file=users.path, smtp=smtp)
    with caplog.at_level(logging.WARNING, logger="stauth_server.mail"):
        server_setup._warn_links_to_log(SignInService(config, store=MemoryStore()))
    assert (STARTUP_WARNING in caplog.text) is warned
