"""GitHub sign-in (plain OAuth2): state and PKCE like OIDC, identity from the user API."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from stauth_server.core.config import ProviderConfig
from stauth_server.core.oidc.client import LoginRequest
from stauth_server.core.oidc.errors import SignInError, StateMismatch
from stauth_server.core.oidc.github import API, TOKEN_URL, GitHubClient


class FakeGitHub:
    def __init__(self, token_status=200, token_answer=None, emails=None):
        self.token_status = token_status
        self.token_answer = token_answer if token_answer is not None else {"access_token": "gho_x", "token_type": "bearer"}
        self.emails = emails if emails is not None else [{"email": "octo@example.org", "primary": True, "verified": True}]
        self.posted: list[str] = []

    def post_form(self, url, data, *, headers=None, auth=None, what):
        assert url == TOKEN_URL
        self.posted.append(data)
        return self.token_status, self.token_answer

    def get_json(self, url, *, headers=None, what):
        assert headers["Authorization"] == "Bearer gho_x"
        if url == f"{API}/user":
            return {"id": 583231, "login": "octocat", "name": "The Octocat", "avatar_url": "https://a/x.png"}
        return self.emails


def client(fake) -> GitHubClient:
    provider = ProviderConfig(name="gh", client_id="cid", client_secret="csecret", server_metadata_url=None, kind="github")
    return GitHubClient(provider, "http://127.0.0.1:8501/oauth2callback", http=fake)


def test_authorization_url_has_state_and_pkce_s256():
    login = LoginRequest.new("gh", "/")
    query = parse_qs(urlsplit(client(FakeGitHub()).authorization_url(login)).query)
    assert query["state"] == [login.state]
    assert query["code_challenge_method"] == ["S256"]
    assert query["redirect_uri"] == ["http://127.0.0.1:8501/oauth2callback"]


def test_sign_in_keys_the_user_on_the_numeric_id_with_the_verified_email():
    fake = FakeGitHub()
    login = LoginRequest.new("gh", "/")
    signin = client(fake).finish({"code": "c", "state": login.state}, login)
    assert signin.subject == "583231" and signin.issuer == "https://github.com"
    assert signin.claims["email"] == "octo@example.org" and signin.claims["preferred_username"] == "octocat"
    assert "code_verifier=" + login.code_verifier in fake.posted[0]


def test_unverified_email_is_not_taken():
    fake = FakeGitHub(emails=[{"email": "x@example.org", "primary": True, "verified": False}])
    login = LoginRequest.new("gh", "/")
    assert "email" not in client(fake).finish({"code": "c", "state": login.state}, login).claims


def test_wrong_state_is_refused():
    login = LoginRequest.new("gh", "/")
    with pytest.raises(StateMismatch):
        client(FakeGitHub()).finish({"code": "c", "state": "other"}, login)


def test_bad_client_credentials_read_well():
    fake = FakeGitHub(token_answer={"error": "incorrect_client_credentials"})
    login = LoginRequest.new("gh", "/")
    with pytest.raises(SignInError) as caught:
        client(fake).finish({"code": "c", "state": login.state}, login)
    assert "settings are wrong" in caught.value.user_message
