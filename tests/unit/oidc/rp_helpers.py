"""Helpers shared by the OIDC relying-party tests (constants, configs, a whole login)."""

from __future__ import annotations

from types import MappingProxyType

from fake_op import FakeOP

from stauth_server.core.config import ProviderConfig, ServerConfig
from stauth_server.core.oidc.client import LoginRequest, OIDCClient, SignIn
from stauth_server.core.store.memory import MemoryStore
from stauth_server.core.signin import SignInService

REDIRECT_URI = "https://app.example.org/base/oauth2callback"
SECRET = "s" * 16 + "-newest-cookie-secret-0123456789"
OLD_SECRET = "o" * 16 + "-older-cookie-secret-0123456789x"
FOREIGN_SECRET = "f" * 16 + "-someone-elses-secret-0123456789"


class FakeClock:
    """A clock tests move by hand (for the TTL caches)."""

    def __init__(self, now: float = 1_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def provider_config(op: FakeOP, **overrides) -> ProviderConfig:
    fields = {
        "name": "op",
        "client_id": op.client_id,
        "client_secret": op.client_secret,
        "server_metadata_url": op.discovery_url,
    }
    fields.update(overrides)
    return ProviderConfig(**fields)


def server_config(op: FakeOP, *, secrets: tuple[str, ...] = (SECRET,), idle_timeout: int | None = None,
                  default_ttl: int = 7 * 86400) -> ServerConfig:
    return ServerConfig(
        redirect_uri=REDIRECT_URI,
        cookie_secrets=secrets,
        default_ttl=default_ttl,
        idle_timeout=idle_timeout,
        providers=MappingProxyType({"op": provider_config(op)}),
    )


def make_service(op: FakeOP, *, secrets: tuple[str, ...] = (SECRET,), store: MemoryStore | None = None,
                 idle_timeout: int | None = None, client: OIDCClient | None = None) -> SignInService:
    config = server_config(op, secrets=secrets, idle_timeout=idle_timeout)
    client = client or OIDCClient(config.providers["op"], REDIRECT_URI, http=op)
    return SignInService(config, store=store or MemoryStore(), clients={"op": client})


def sign_in(client: OIDCClient, op: FakeOP, **authorize_kwargs) -> SignIn:
    """One whole login against the fake OP: authorization URL, consent, callback."""
    login = LoginRequest.new("op", "/")
    params = op.authorize(client.authorization_url(login), **authorize_kwargs)
    return client.finish(params, login)
