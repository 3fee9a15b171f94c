"""SAML 2.0 endpoints over HTTP on both adapters, against the crafted IdP of
tests/unit/saml (pysaml2's IdP, keys generated here): SP metadata, the login redirect and
its cookie, the ACS's cross-site first POST and same-origin re-POST, and each attacker's
probe (replay, a marked post from another site, oversized, garbage) answered with a 4xx
page and no session, never a 5xx. Single Logout out to the IdP and back."""

from __future__ import annotations

import base64
import json
import re
import sys
import zlib
from html import unescape
from pathlib import Path
from types import MappingProxyType
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "saml"))

from cookie_jar import cookie_header, set_cookies  # noqa: E402
from crafted_idp import IDP_SLO, IDP_SSO, CraftedIdp, b64, key_and_cert  # noqa: E402
from saml2 import BINDING_HTTP_REDIRECT  # noqa: E402

from stauth_server.core.config import ServerConfig  # noqa: E402
from stauth_server.core.roles import parse_roles  # noqa: E402
from stauth_server.core.saml.config import parse_saml_provider  # noqa: E402
from stauth_server.core.signin import SignInService  # noqa: E402
from stauth_server.core.store.memory import MemoryStore  # noqa: E402
from stauth_server.web.endpoints.saml import MAX_ACS_BODY  # noqa: E402
from stauth_server.web.routes import RouteRegistry  # noqa: E402

SECRET = "s" * 16 + "-saml-endpoint-secret-0123456789"
REDIRECT_URI = "https://app.example.org/oauth2callback"
ACS = "https://app.example.org/auth/saml/corp/acs"
SP_ENTITY = "https://app.example.org/"
FORM = "application/x-www-form-urlencoded"
ATTRIBUTES = {"mail": ["alice@example.org"], "cn": ["Alice Liddell"], "groups": ["admins", "users"]}


@pytest.fixture(scope="module")
def saml_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("saml-endpoints")
    key_and_cert(folder, "sp", "test SP")
    return folder


@pytest.fixture(scope="module")
def idp(saml_dir: Path) -> CraftedIdp:
    crafted = CraftedIdp.create(saml_dir)
    (saml_dir / "idp.xml").write_text(crafted.metadata_xml)
    return crafted


@pytest.fixture
def routes() -> RouteRegistry:
    return RouteRegistry()


@pytest.fixture
def service(saml_dir: Path, idp: CraftedIdp) -> SignInService:
    provider = parse_saml_provider("corp", {"protocol": "saml", "idp_metadata_file": "idp.xml",
                                            "sp_key_file": "sp.key", "sp_cert_file": "sp.crt"},
                                   redirect_uri=REDIRECT_URI, app_dir=saml_dir)
    config = ServerConfig(cookie_secrets=(SECRET,), redirect_uri=REDIRECT_URI,
                          saml=MappingProxyType({"corp": provider}),
                          roles=MappingProxyType(parse_roles({"admin": ["group:admins"]})))
    built = SignInService(config, store=MemoryStore())
    idp.serve(built.saml["corp"].metadata_xml())
    return built


def query_of(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


async def start_login(fetch, next_path: str = "/reports?x=1") -> tuple[str, str, dict[str, str]]:
    """``/auth/login?provider=corp``: the AuthnRequest's ID, the RelayState, the login cookie."""
    response = await fetch("/auth/login?" + urlencode({"provider": "corp", "next": next_path}),
                           follow_redirects=False, raise_error=False)
    assert response.code == 302, response.body
    location = response.headers["Location"]
    assert location.startswith(IDP_SSO + "?")
    query = query_of(location)
    assert "Signature" in query and query["SigAlg"].endswith("rsa-sha256")
    request = zlib.decompress(base64.b64decode(query["SAMLRequest"]), -15).decode()
    request_id = re.search(r' ID="([^"]+)"', request).group(1)
    cookies = {name: value for name, value in set_cookies(response).items() if name.startswith("stauth_login_")}
    assert len(cookies) == 1 and all(cookies.values())
    assert all("HttpOnly" in h and "SameSite=Lax" in h for h in response.headers.get_list("Set-Cookie"))
    return request_id, query["RelayState"], cookies


def acs_post(fetch, fields: dict[str, str] | bytes, cookies: dict[str, str] | None = None,
             site: str = "same-origin", path: str = "/auth/saml/corp/acs"):
    headers = {"Content-Type": FORM, "Sec-Fetch-Site": site, "Accept": "text/html"}
    if cookies:
        headers["Cookie"] = cookie_header(cookies)
    body = fields if isinstance(fields, bytes) else urlencode(fields)
    return fetch(path, method="POST", body=body, headers=headers, follow_redirects=False, raise_error=False)


def signed_response(idp: CraftedIdp, request_id: str | None, **kwargs) -> str:
    kwargs.setdefault("attributes", ATTRIBUTES)
    kwargs.setdefault("acs", ACS)
    kwargs.setdefault("audience", SP_ENTITY)
    return b64(idp.response(in_response_to=request_id, **kwargs))


def no_session(response) -> bool:
    return not any(name.startswith("stauth_session") and value for name, value in set_cookies(response).items())


async def sign_in(fetch, idp: CraftedIdp) -> tuple[dict[str, str], dict[str, str]]:
    """A whole sign-in; the session cookies and the ACS form that signed in."""
    request_id, relay, login = await start_login(fetch)
    form = {"SAMLResponse": signed_response(idp, request_id), "RelayState": relay, "stauth_repost": "1"}
    response = await acs_post(fetch, form, login)
    assert response.code == 303, response.body
    return {k: v for k, v in set_cookies(response).items() if k.startswith("stauth_session")}, {**form, **login}


# --- metadata ------------------------------------------------------------------------------

@pytest.mark.gen_test
async def test_metadata_names_entity_acs_slo_and_signing(fetch):
    response = await fetch("/auth/saml/corp/metadata", raise_error=False)
    assert response.code == 200
    assert response.headers["Content-Type"] == "application/samlmetadata+xml"
    xml = response.body.decode()
    assert f'entityID="{SP_ENTITY}"' in xml and f'Location="{ACS}"' in xml
    assert 'Location="https://app.example.org/auth/saml/corp/slo"' in xml and 'AuthnRequestsSigned="true"' in xml
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.gen_test
async def test_unknown_provider_is_404_and_wrong_method_405(fetch):
    assert (await fetch("/auth/saml/other/metadata", raise_error=False)).code == 404
    assert (await fetch("/auth/saml/corp/acs", raise_error=False)).code == 405
    assert (await acs_post(fetch, {"SAMLResponse": "x"}, path="/auth/saml/other/acs")).code == 404


# --- sign-in -------------------------------------------------------------------------------

@pytest.mark.gen_test
async def test_login_page_offers_the_saml_provider(fetch):
    response = await fetch("/auth/login", raise_error=False, follow_redirects=False)
    # the only way in: straight to the IdP
    assert response.code == 302 and response.headers["Location"].startswith(IDP_SSO)


@pytest.mark.gen_test
async def test_cross_site_post_is_posted_again_from_our_origin_and_signs_in(fetch, idp):
    request_id, relay, login = await start_login(fetch)
    saml_response = signed_response(idp, request_id)
    # The IdP's POST is cross-site: the browser sends no Lax cookie with it.
    first = await acs_post(fetch, {"SAMLResponse": saml_response, "RelayState": relay}, site="cross-site")
    assert first.code == 200 and no_session(first)
    page = first.body.decode()
    assert 'action="/auth/saml/corp/acs"' in page and 'name=stauth_repost value=1' in page
    fields = dict(re.findall(r'<input type=hidden name=(\w+) value="([^"]*)"', page))
    assert unescape(fields["SAMLResponse"]) == saml_response and unescape(fields["RelayState"]) == relay
    # The page's own POST is same-origin and carries the login cookie.
    second = await acs_post(fetch, {**{k: unescape(v) for k, v in fields.items()}}, login)
    assert second.code == 303, second.body
    assert second.headers["Location"] == "/reports?x=1"
    cleared = set_cookies(second)
    assert cleared[next(iter(login))] == ""  # the login cookie is spent
    session = {k: v for k, v in cleared.items() if k.startswith("stauth_session") and v}
    assert session
    me = await fetch("/auth/userinfo", headers={"Cookie": cookie_header(session)}, raise_error=False)
    assert me.code == 200, me.body
    user = json.loads(me.body)
    assert user["email"] == "alice@example.org" and user["name"] == "Alice Liddell"
    assert user["roles"] == ["admin"] and user["provider"] == "corp"


@pytest.mark.gen_test
async def test_a_replayed_response_is_refused(fetch, idp):
    _, form = await sign_in(fetch, idp)
    login = {k: v for k, v in form.items() if k.startswith("stauth_login_")}
    fields = {k: v for k, v in form.items() if not k.startswith("stauth_login_")}
    again = await acs_post(fetch, fields, login)  # the same post, the login cookie kept by the attacker
    assert again.code == 400 and no_session(again)
    assert b"already used" in again.body
    without_cookie = await acs_post(fetch, fields)
    assert without_cookie.code == 400 and no_session(without_cookie)


@pytest.mark.gen_test
async def test_a_response_to_another_browsers_request_is_refused(fetch, idp):
    request_id, _, _ = await start_login(fetch)  # the victim's sign-in
    _, relay, login = await start_login(fetch)  # the attacker's
    response = await acs_post(fetch, {"SAMLResponse": signed_response(idp, request_id), "RelayState": relay,
                                      "stauth_repost": "1"}, login)
    assert response.code == 400 and no_session(response)


@pytest.mark.gen_test
async def test_idp_initiated_response_is_refused(fetch, idp):
    form = {"SAMLResponse": signed_response(idp, None), "stauth_repost": "1"}
    response = await acs_post(fetch, form)
    assert response.code == 400 and no_session(response)
    assert b"does not belong to a sign-in started here" in response.body


@pytest.mark.gen_test
async def test_a_marked_post_from_another_site_is_refused(fetch, idp):
    request_id, relay, login = await start_login(fetch)
    form = {"SAMLResponse": signed_response(idp, request_id), "RelayState": relay, "stauth_repost": "1"}
    response = await acs_post(fetch, form, login, site="cross-site")
    assert response.code == 400 and no_session(response)


@pytest.mark.gen_test
async def test_a_wrongly_signed_response_is_refused(fetch, idp, saml_dir):
    rogue = CraftedIdp.create(saml_dir, stem="rogue")
    rogue.serve((await fetch("/auth/saml/corp/metadata")).body.decode())
    request_id, relay, login = await start_login(fetch)
    form = {"SAMLResponse": signed_response(rogue, request_id), "RelayState": relay, "stauth_repost": "1"}
    response = await acs_post(fetch, form, login)
    assert response.code == 400 and no_session(response)


@pytest.mark.gen_test
async def test_oversized_post_is_413(fetch):
    body = urlencode({"SAMLResponse": "A" * (MAX_ACS_BODY + 10), "RelayState": "r" * 43}).encode()
    response = await acs_post(fetch, body)
    assert response.code == 413 and no_session(response)


@pytest.mark.gen_test
@pytest.mark.parametrize("fields", [
    {"SAMLResponse": "not base64 at all!", "stauth_repost": "1"},
    {"SAMLResponse": "not base64 at all!"},  # refused before any re-POST page
    {"SAMLResponse": base64.b64encode(b"<not-xml").decode(), "RelayState": "x" * 43, "stauth_repost": "1"},
    {"SAMLResponse": b64('<!DOCTYPE r [<!ENTITY e SYSTEM "file:///etc/passwd">]><r>&e;</r>'), "stauth_repost": "1"},
    {"RelayState": "x" * 43},
    {"SAMLResponse": "", "stauth_repost": "1"},
    {"SAMLResponse": "QUJD", "RelayState": "../../etc", "stauth_repost": "1"},
])
async def test_garbage_is_400_without_a_session(fetch, fields):
    response = await acs_post(fetch, fields)
    assert response.code == 400, response.body
    assert no_session(response) and b"<!doctype html>" in response.body.lower()


@pytest.mark.gen_test
async def test_malformed_posts_are_4xx(fetch):
    twice = "SAMLResponse=QUJD&SAMLResponse=REVG&stauth_repost=1"
    assert (await acs_post(fetch, twice.encode())).code == 400
    json_body = await fetch("/auth/saml/corp/acs", method="POST", body='{"SAMLResponse": "x"}',
                            headers={"Content-Type": "application/json"}, raise_error=False)
    assert json_body.code == 400
    bad_utf8 = await acs_post(fetch, b"SAMLResponse=%ff%fe&stauth_repost=1")
    assert 400 <= bad_utf8.code < 500


@pytest.mark.gen_test
async def test_an_unreachable_idp_is_a_502_page_not_a_crash(fetch, service):
    from dataclasses import replace

    from stauth_server.core.saml.client import SamlClient

    provider = replace(service.saml["corp"].provider, idp_metadata_url="http://127.0.0.1:9/metadata",
                       idp_metadata_file=None)
    service.saml["corp"] = SamlClient(provider)
    response = await fetch("/auth/login?provider=corp", headers={"Accept": "text/html"}, follow_redirects=False,
                           raise_error=False)
    assert response.code == 502 and b"could not be loaded" in response.body
    assert not any(name.startswith("stauth_login_") for name in set_cookies(response))


# --- logout --------------------------------------------------------------------------------

@pytest.mark.gen_test
async def test_logout_ends_the_session_and_goes_to_the_idp_and_back(fetch, idp, service):
    session, _ = await sign_in(fetch, idp)
    response = await fetch("/auth/logout", headers={"Cookie": cookie_header(session), "Sec-Fetch-Site": "same-origin"},
                           follow_redirects=False, raise_error=False)
    assert response.code == 302
    location = response.headers["Location"]
    assert location.startswith(IDP_SLO + "?") and "Signature" in query_of(location)
    jar = set_cookies(response)
    assert all(jar[name] == "" for name in session)  # our cookies cleared
    pending = {k: v for k, v in jar.items() if k.startswith("stauth_login_") and v}
    me = await fetch("/auth/userinfo", headers={"Cookie": cookie_header(session)}, raise_error=False)
    assert me.code == 401  # revoked on the server before the browser left
    # The IdP answers our LogoutRequest.
    request = idp.server.parse_logout_request(query_of(location)["SAMLRequest"], BINDING_HTTP_REDIRECT)
    answer = idp.server.create_logout_response(request.message, [BINDING_HTTP_REDIRECT])
    info = idp.server.apply_binding(BINDING_HTTP_REDIRECT, str(answer), "https://app.example.org/auth/saml/corp/slo",
                                    query_of(location)["RelayState"], response=True)
    back = urlsplit(dict(info["headers"])["Location"])
    returned = await fetch(f"/auth/saml/corp/slo?{back.query}", headers={"Cookie": cookie_header(pending)},
                           follow_redirects=False, raise_error=False)
    assert returned.code == 303 and returned.headers["Location"] == "/"
    assert all(set_cookies(returned)[name] == "" for name in pending)
    assert service.finish_saml_logout("corp", back.query, query_of(location)["RelayState"], pending)
    assert not service.finish_saml_logout("corp", back.query, query_of(location)["RelayState"], {})


@pytest.mark.gen_test
async def test_slo_endpoint_refuses_what_it_does_not_handle(fetch):
    assert (await fetch("/auth/saml/corp/slo?SAMLRequest=abc", raise_error=False)).code == 400
    garbage = await fetch("/auth/saml/corp/slo?SAMLResponse=garbage&RelayState=" + "x" * 43,
                          follow_redirects=False, raise_error=False)
    assert garbage.code == 303  # nothing to confirm: our session had ended already
