"""End to end: a script calls ``@sa.route`` endpoints with ``Authorization: Bearer``.

A real OP (node oidc-provider) issues JWT access tokens for the app's API to a
``client_credentials`` client; the app runs under ``streamlit-auth run``; plain ``requests``
is the client. The OP signs with a key the test handed it, so the test can also forge
tokens with the OP's own key (expired, another audience) and prove that the rule, not
the signature, refuses them. Personal API tokens come from the real ``streamlit-auth
tokens`` command.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import shutil
import subprocess
import time
from contextlib import ExitStack

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from .harness import APPS, free_port, run_app
from .op import run_op
from .test_sign_in import SECRET, write_secrets

AUDIENCE = "https://reports-api.example.test"
CHALLENGE = 'Bearer error="invalid_token"'
MACHINE = ("machine-client", "machine-secret")
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def op_signing_jwk(key=KEY, kid: str = "e2e-key") -> str:
    jwk = RSAAlgorithm.to_jwk(key, as_dict=True)
    return json.dumps({**jwk, "kid": kid, "use": "sig", "alg": "RS256"})


def write_company_secrets(app_dir, rp: str, op, extra: str = "") -> None:
    """The app's secrets: the OP as provider ``company``, whose access tokens for AUDIENCE
    the app accepts; ``extra`` TOML appended."""
    write_secrets(app_dir, f"""
[auth]
redirect_uri = "{rp}/oauth2callback"
cookie_secret = "{SECRET}"

[auth.company]
client_id = "{op.client_id}"
client_secret = "{op.client_secret}"
server_metadata_url = "{op.metadata_url}"
api_audience = "{AUDIENCE}"
{extra}""")


@pytest.fixture(scope="module")
def bearer_app(tmp_path_factory, generation):
    tmp = tmp_path_factory.mktemp("bearer")
    app_dir = tmp / "app"
    shutil.copytree(APPS / "bearer", app_dir)
    subprocess.run([*generation.command, "users", "add", "users.toml", "alice", "--email", "alice@example.org",
                    "--role", "editor", "--password-stdin"], cwd=app_dir, input="alice-password\n", text=True,
                   check=True, capture_output=True)
    port = free_port()
    rp = f"http://127.0.0.1:{port}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OP_SIGNING_JWK", op_signing_jwk())
        patch.setenv("OP_API_AUDIENCE", AUDIENCE)
        with run_op(rp, tmp) as op:
            patch.delenv("OP_SIGNING_JWK")
            with run_op(rp, tmp) as stranger:  # another provider, its own key
                write_company_secrets(app_dir, rp, op, """
[auth.local]
users_file = "users.toml"

[auth.roles]
robot = ["group:robots"]
""")
                with run_app(app_dir, routes=["api.py"], port=port, generation=generation, tmp_path=tmp) as app:
                    yield app, op, stranger, app_dir


def machine_token(op, resource: str | None = AUDIENCE) -> str:
    """A real access token from the OP's token endpoint (client_credentials grant)."""
    form = {"grant_type": "client_credentials", "scope": "api:read"}
    if resource is not None:
        form["resource"] = resource
    answer = requests.post(f"{op.issuer}/token", data=form, auth=MACHINE, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


def forged(op, **changes) -> str:
    """A token signed with the OP's own key, with claims a test changes."""
    now = int(time.time())
    claims = {"iss": op.issuer, "sub": "machine-client", "aud": AUDIENCE, "iat": now, "exp": now + 600,
              "groups": ["robots"], "client_id": "machine-client"}
    claims.update(changes)
    return jwt.encode(claims, KEY, algorithm="RS256", headers={"kid": "e2e-key", "typ": "at+jwt"})


def call(app, path: str, token: str | None, method: str = "GET", **kwargs) -> requests.Response:
    headers = kwargs.pop("headers", {})
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return requests.request(method, app.url(path), headers=headers, timeout=10, allow_redirects=False, **kwargs)


def assert_refused(response: requests.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"] == CHALLENGE
    assert response.json() == {"error": "Invalid bearer token"}
    assert "Set-Cookie" not in response.headers


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_the_op_issues_a_jwt_access_token_for_the_api(bearer_app):
    _, op, _, _ = bearer_app
    claims = jwt.decode(machine_token(op), options={"verify_signature": False})
    assert claims["aud"] == AUDIENCE and claims["iss"] == op.issuer and claims["sub"] == "machine-client"


def test_a_valid_access_token_is_the_caller_with_mapped_roles_and_no_cookie(bearer_app):
    app, op, _, _ = bearer_app
    response = call(app, "/api/robots", machine_token(op))
    assert response.status_code == 200, response.text
    assert response.json() == {"id": f"{op.issuer}|machine-client", "auth_method": "bearer-jwt",
                               "roles": ["robot"], "groups": ["robots"], "email": None}
    assert "Set-Cookie" not in response.headers


def test_a_bearer_post_without_origin_or_xsrf_token_works(bearer_app):
    app, op, _, _ = bearer_app
    response = call(app, "/api/reports", machine_token(op), "POST", json={"rows": 3})
    assert response.status_code == 200, response.text
    assert response.json() == {"stored": {"rows": 3}, "by": f"{op.issuer}|machine-client"}
    assert "Set-Cookie" not in response.headers


def test_a_cross_site_bearer_post_carrying_a_cookie_is_judged_by_the_token(bearer_app):
    app, op, _, _ = bearer_app
    headers = {"Origin": "http://evil.example", "Cookie": "stauth_session=planted"}
    response = call(app, "/api/reports", machine_token(op), "POST", json={}, headers=headers)
    assert response.status_code == 200, response.text
    assert_refused(call(app, "/api/reports", "sat_forged", "POST", json={}, headers=dict(headers)))


def test_a_token_for_another_audience_is_refused(bearer_app):
    app, op, _, _ = bearer_app
    assert_refused(call(app, "/api/me", forged(op, aud="https://other-api.example.test")))
    assert_refused(call(app, "/api/me", forged(op, aud=op.client_id)))


def test_the_ops_opaque_access_token_is_refused(bearer_app):
    app, op, _, _ = bearer_app
    assert_refused(call(app, "/api/me", machine_token(op, resource=None)))


def test_an_expired_token_signed_by_the_op_is_refused(bearer_app):
    app, op, _, _ = bearer_app
    past = int(time.time()) - 3600
    token = forged(op, iat=past - 600, exp=past)
    assert_refused(call(app, "/api/me", token))
    assert call(app, "/api/me", forged(op)).status_code == 200  # the same key, in date: accepted


def test_alg_none_is_refused(bearer_app):
    app, op, _, _ = bearer_app
    header = b64url(json.dumps({"alg": "none", "typ": "at+jwt", "kid": "e2e-key"}).encode())
    payload = b64url(json.dumps(jwt.decode(forged(op), options={"verify_signature": False})).encode())
    assert_refused(call(app, "/api/me", f"{header}.{payload}."))


def test_hs256_keyed_with_the_ops_public_key_is_refused(bearer_app):
    app, op, _, _ = bearer_app
    jwks = requests.get(f"{op.issuer}/jwks", timeout=10).json()
    public = RSAAlgorithm.from_jwk(json.dumps(jwks["keys"][0]))
    pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    header = b64url(json.dumps({"alg": "HS256", "typ": "at+jwt", "kid": "e2e-key"}).encode())
    payload = b64url(json.dumps(jwt.decode(forged(op), options={"verify_signature": False})).encode())
    signature = b64url(hmac.new(pem, f"{header}.{payload}".encode(), hashlib.sha256).digest())
    assert_refused(call(app, "/api/me", f"{header}.{payload}.{signature}"))


def test_a_token_from_another_provider_is_refused(bearer_app):
    app, _, stranger, _ = bearer_app
    assert_refused(call(app, "/api/me", machine_token(stranger)))


def test_a_bad_token_on_a_public_route_is_refused_too(bearer_app):
    app, _, _, _ = bearer_app
    assert_refused(call(app, "/api/public", "not a token"))
    assert call(app, "/api/public", None).json()["id"] is None


def test_a_personal_api_token_works_until_revoked(bearer_app, generation):
    app, _, _, app_dir = bearer_app
    cli = [*generation.command, "tokens"]
    created = subprocess.run([*cli, "create", "users.toml", "alice", "--name", "nightly", "--expires", "1d"],
                             cwd=app_dir, capture_output=True, text=True, check=True)
    token = created.stdout.strip()
    assert token.startswith("sat_") and token not in (app_dir / "users.toml").read_text()
    listed = subprocess.run([*cli, "list", "users.toml"], cwd=app_dir, capture_output=True, text=True, check=True)
    assert "nightly" in listed.stdout and token not in listed.stdout

    response = call(app, "/api/me", token)
    assert response.status_code == 200, response.text
    assert response.json() == {"id": "local|alice", "auth_method": "api-token", "roles": ["editor"], "groups": [],
                               "email": "alice@example.org"}
    assert "Set-Cookie" not in response.headers
    assert call(app, "/api/robots", token).status_code == 403

    subprocess.run([*cli, "revoke", "users.toml", "alice", "nightly"], cwd=app_dir, check=True, capture_output=True)
    assert_refused(call(app, "/api/me", token))


def test_sign_in_endpoints_ignore_bearer_tokens(bearer_app):
    app, op, _, _ = bearer_app
    response = call(app, "/auth/userinfo", machine_token(op))
    assert response.status_code == 401 and "WWW-Authenticate" not in response.headers


def test_nothing_secret_reaches_the_server_log(bearer_app):
    app, op, _, _ = bearer_app
    token = machine_token(op)
    call(app, "/api/me", token + "x")
    assert token not in app.log() and "Traceback" not in app.log()


def test_a_provider_key_rotation_is_followed_and_the_retired_key_refused(tmp_path, generation):
    """The OP restarts on the same address with a new signing key (another kid), as after
    an abrupt rotation: the app, which cached the old JWKS, fetches the keys again for the
    unknown kid and accepts the new tokens; a token of the retired key, not yet expired,
    is refused from then on."""
    app_dir = tmp_path / "app"
    shutil.copytree(APPS / "bearer", app_dir)
    port, op_port = free_port(), free_port()
    rp = f"http://127.0.0.1:{port}"
    old_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    new_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.MonkeyPatch.context() as patch, ExitStack() as stack:
        patch.setenv("OP_API_AUDIENCE", AUDIENCE)
        patch.setenv("OP_SIGNING_JWK", op_signing_jwk(old_key, "key-2026-01"))
        first_op = ExitStack()
        stack.callback(first_op.close)
        op = first_op.enter_context(run_op(rp, tmp_path, port=op_port))
        write_company_secrets(app_dir, rp, op)
        app = stack.enter_context(run_app(app_dir, routes=["api.py"], port=port, generation=generation,
                                          tmp_path=tmp_path))
        retired = machine_token(op)
        assert call(app, "/api/me", retired).status_code == 200  # the app now holds the old JWKS
        first_op.close()  # the OP goes away; the same address comes back with a new key only
        patch.setenv("OP_SIGNING_JWK", op_signing_jwk(new_key, "key-2026-07"))
        rotated = stack.enter_context(run_op(rp, tmp_path, port=op_port))
        fresh = machine_token(rotated)
        assert jwt.get_unverified_header(fresh)["kid"] == "key-2026-07"
        answer = call(app, "/api/me", fresh)
        assert answer.status_code == 200, answer.text
        assert answer.json()["auth_method"] == "bearer-jwt"
        assert_refused(call(app, "/api/me", retired))
