"""Property-based fuzzing of the endpoints over real HTTP (issue 7, section 5).

``/oauth2callback`` with arbitrary query strings and cookies (and tampered callbacks of a
real sign-in in flight), ``POST /auth/login`` with arbitrary form bodies, the other
sign-in endpoints with arbitrary cookies, and ``@sa.route`` endpoints with arbitrary
methods, paths, headers and bodies. The property is the one the design promises: every
hostile input ends in a 4xx (or a normal answer), never a 5xx, and no exception is
raised or logged on the way, even one a catch-all turns into a polite 4xx.

Each property runs on both adapters (Tornado, and the ASGI front under uvicorn). All
examples of a property share one server (the adapter's, see conftest.py) and its state:
sessions, the throttle and the store fill up as they would in production.
``STAUTH_FUZZ_EXAMPLES`` sets the number of examples (60 by default; scripts/fuzz.py
raises it).
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import logging
import string
import sys
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tornado.httpclient import HTTPClientError, HTTPRequest, HTTPResponse

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "oidc"))

from cheap_argon2 import use_cheap_hasher  # noqa: E402
from fake_op import FakeOP  # noqa: E402
from fuzz_tally import ServerError, UnhandledError, fuzz_settings, tallied  # noqa: E402
from rp_helpers import REDIRECT_URI, SECRET, server_config  # noqa: E402

from stauth_server.core import hooks  # noqa: E402
from stauth_server.core.store.memory import MemoryStore  # noqa: E402
from stauth_server.core.oidc.client import OIDCClient  # noqa: E402
from stauth_server.web.routes import KNOWN_METHODS, RouteRegistry  # noqa: E402
from stauth_server.core.session_cookie import HOST_PREFIX, SESSION_COOKIE, Sealer  # noqa: E402
from stauth_server.core.signin import SignInService, login_cookie_name  # noqa: E402
from stauth_server.core.sources.local import LocalAccount, UsersFile, hash_password  # noqa: E402
from stauth_server.core.throttle import Throttle  # noqa: E402

SETTINGS = fuzz_settings(shared_fixtures=True)
XSRF_COOKIE = "_streamlit_xsrf"
BASE = "/base"


# --- the server under test ---------------------------------------------------------------


def echo_everything(request):
    """A route that reads every part of the request an app handler can read (the parsed
    body is summed up by its type: echoing it would test ``json.dumps``, not us)."""
    body = request.json() if request.body else None
    return {"params": dict(request.path_params), "query": {k: request.query.get_all(k) for k in request.query},
            "headers": len(request.headers), "cookies": dict(request.cookies), "json": type(body).__name__,
            "user": request.user.id, "ip": request.client_ip}


@pytest.fixture
def routes() -> RouteRegistry:
    registry = RouteRegistry()
    every_method = list(KNOWN_METHODS)
    registry.add("/api/items/{item_id}", echo_everything, methods=every_method)
    registry.add("/api/files/{rest:path}", echo_everything, methods=every_method)
    registry.add("/api/echo", echo_everything, methods=every_method)
    registry.add("/api/private", echo_everything, methods=["GET", "POST"], auth="required")
    registry.add("/api/admins", echo_everything, methods=["GET", "POST"], roles=["admin"])
    registry.add("/api/webhook", echo_everything, methods=["POST"], csrf=False)
    return registry


@pytest.fixture
def op() -> FakeOP:
    return FakeOP()


@pytest.fixture
def service(op, tmp_path, monkeypatch) -> SignInService:
    """Sign-in with the fake OP ("op") and local accounts (alice is an admin)."""
    use_cheap_hasher(monkeypatch)
    monkeypatch.setattr(hooks, "_HOOKS", [])
    users = tmp_path / "users.toml"
    UsersFile(users).save([
        LocalAccount("alice", hash_password("alice-password"), "alice@example.org", "Alice", ("admin",)),
        LocalAccount("dave", hash_password("dave-password"), disabled=True),
    ])
    config = dataclasses.replace(server_config(op), users_file=users)
    client = OIDCClient(config.providers["op"], REDIRECT_URI, http=op)
    return SignInService(config, store=MemoryStore(), clients={"op": client})


@pytest.fixture
def base_path() -> str:
    return BASE.strip("/")


#: Access-log lines (a 5xx is reported from its status, not its log line).
ACCESS_LOGS = ("tornado.access", "uvicorn.access")


class ServerLog(logging.Handler):
    """Keeps the records that carry a traceback, or that say ERROR (5xx access lines aside)."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info or (record.levelno >= logging.ERROR and record.name not in ACCESS_LOGS):
            self.records.append(record)

    def report(self) -> str:
        return "\n".join(self.format(record) for record in self.records)


@pytest.fixture
def server_log():
    handler = ServerLog()
    root = logging.getLogger()
    root.addHandler(handler)
    yield handler
    root.removeHandler(handler)


@pytest.fixture
def origin(base_url) -> str:
    """The test server's own origin, as a browser on its pages would send it."""
    return base_url


@pytest.fixture
def send(io_loop, client, origin, server_log):
    """``send(path, method=..., headers=..., body=...)`` -> the response, synchronously.

    Raises ``ServerError`` for a 5xx (or no answer at all) and ``UnhandledError`` when the
    server logged an exception while answering; never follows redirects.
    """

    def do(path: str, *, method: str = "GET", headers: dict[str, str] | None = None,
           body: bytes | None = None) -> HTTPResponse:
        server_log.records.clear()
        request = HTTPRequest(origin + path, method=method, headers=headers, body=body, follow_redirects=False,
                              allow_nonstandard_methods=True, connect_timeout=60, request_timeout=60,
                              decompress_response=False)
        try:
            response = io_loop.run_sync(lambda: client.fetch(request, raise_error=False))
        except (OSError, HTTPClientError) as exc:
            raise ServerError(f"{method} {path}: no answer ({exc!r})\n{server_log.report()}") from None
        if response.code >= 500:
            raise ServerError(f"{method} {path} answered {response.code}: {response.body[:300]!r}\n"
                              f"{server_log.report()}")
        if server_log.records:
            raise UnhandledError(f"{method} {path} answered {response.code} but the server logged:\n"
                                 f"{server_log.report()}")
        return response

    return do


def cookies_of(response: HTTPResponse) -> dict[str, str]:
    """The cookies a response sets (name -> value)."""
    jar = {}
    for header in response.headers.get_list("Set-Cookie"):
        name, _, rest = header.partition("=")
        jar[name] = rest.split(";", 1)[0]
    return jar


def cookie_header(pairs) -> str:
    """A ``Cookie`` request header for (name, value) pairs, as a browser writes it."""
    return "; ".join(f"{name}={value}" for name, value in pairs)


def assert_same_app_redirect(response: HTTPResponse) -> None:
    """A sign-in redirect goes to a path of this app (under the base path), nowhere else."""
    location = response.headers.get("Location", "")
    assert location.startswith(BASE + "/") and not location.startswith("//"), location
    assert "\\" not in location and not any(ord(c) < 0x21 or ord(c) == 0x7F for c in location), location
    assert not urlsplit(location).scheme and not urlsplit(location).netloc, location


# --- strategies ------------------------------------------------------------------------------

#: Header-safe text (no CR, LF or NUL: those never reach a server), with latin-1 beyond ASCII.
header_text = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f")
                      | st.just("\t"), max_size=40)
COOKIE_OCTETS = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in '",;\\')
cookie_text = st.text(alphabet=COOKIE_OCTETS, max_size=60)
BASE64URL = string.ascii_letters + string.digits + "-_="
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**63) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
#: Payloads a holder of the cookie secret could seal: arbitrary, or shaped like ours.
sealed_payloads = st.one_of(
    st.dictionaries(st.text(max_size=8), json_values, max_size=4),
    st.fixed_dictionaries({"sid": st.text(max_size=40) | st.text(alphabet=BASE64URL, min_size=16, max_size=64),
                           "k": st.text(max_size=44) | st.text(alphabet=BASE64URL, min_size=44, max_size=44),
                           "exp": st.integers(min_value=-(2**40), max_value=2**62) | json_values}),
    st.fixed_dictionaries({"provider": st.just("op") | json_values, "state": json_values, "nonce": json_values,
                           "code_verifier": json_values, "next_path": st.just("/x") | json_values,
                           "created": st.floats() | json_values}),
)
sealed_values = st.builds(lambda purpose, payload: Sealer([SECRET], purpose).seal(payload),
                          st.sampled_from(["session", "login", "identity-bus"]), sealed_payloads)
xsrf_values = st.builds(lambda mask, token, ts: f"2|{mask}|{token}|{ts}",
                        st.text(alphabet="0123456789abcdefg", max_size=8),
                        st.text(alphabet="0123456789abcdef", max_size=8),
                        st.text(alphabet=string.digits, max_size=10)) | cookie_text
cookie_names = st.sampled_from([
    SESSION_COOKIE, f"{SESSION_COOKIE}.0", f"{SESSION_COOKIE}.1", HOST_PREFIX + SESSION_COOKIE, XSRF_COOKIE,
    login_cookie_name("state"), "stauth_login", "theme",
]) | st.text(alphabet=string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~", min_size=1, max_size=16)
cookie_values = cookie_text | sealed_values | xsrf_values | st.builds(lambda n: f"chunks:{n}", st.integers(-2, 14))
cookie_pairs = st.lists(st.tuples(cookie_names, cookie_values), max_size=5)
#: Text for query and form values: URL syntax, Unicode, and long runs.
form_text = st.text(max_size=40) | st.sampled_from(["", "/", "//evil.example", "/\\evil", "https://evil.example",
                                                    "\x00", "%", "%ZZ", "a" * 3000, "/reports?x=1#y", "/é"])
query_keys = st.sampled_from(["code", "state", "error", "error_description", "iss", "session_state", "next",
                              "provider", "scope"]) | st.text(max_size=8)
raw_query = st.text(max_size=60).map(lambda text: quote(text, safe="&=;%+/?:@"))
queries = st.lists(st.tuples(query_keys, form_text), max_size=6).map(urlencode) | raw_query
origins = st.sampled_from(["own", "own", None, "null", "https://evil.example", "http://127.0.0.1", "garbage"])
fetch_sites = st.sampled_from([None, None, "same-origin", "cross-site", "none", "same-site"])


def browser_headers(origin: str, origin_kind: str | None, fetch_site: str | None) -> dict[str, str]:
    """``Origin`` (this server's own when ``origin_kind`` is "own") and ``Sec-Fetch-Site``."""
    headers = {}
    if origin_kind is not None:
        headers["Origin"] = origin if origin_kind == "own" else origin_kind
    if fetch_site is not None:
        headers["Sec-Fetch-Site"] = fetch_site
    return headers


# --- /oauth2callback -------------------------------------------------------------------------


def forged_login(state: str) -> st.SearchStrategy[str]:
    """A login cookie for ``state`` as only a holder of the cookie secret could seal it:
    the in-flight login's fields, each right, or of any JSON type."""
    fields = {
        "provider": st.just("op") | json_values, "state": st.just(state) | json_values,
        "nonce": st.text(max_size=12) | json_values, "code_verifier": st.text(min_size=43, max_size=64) | json_values,
        "next_path": form_text | json_values, "created": st.floats() | st.integers() | json_values,
    }
    payloads = st.fixed_dictionaries(fields) | st.fixed_dictionaries({}, optional=fields)
    return payloads.map(lambda payload: Sealer([SECRET], "login").seal(payload))


#: Queries shaped like a provider's answer (a state, a code or an error), with extras.
callback_queries = st.builds(
    lambda fields, extra: [*fields.items(), *extra],
    st.fixed_dictionaries({"state": form_text, "code": form_text},
                          optional={"error": form_text, "error_description": form_text, "iss": form_text}),
    st.lists(st.tuples(query_keys, form_text), max_size=3),
)
#: Makes each example's state its own: the store remembers used states (replay
#: protection), so a state seen before would answer differently when hypothesis replays it.
STATE_SUFFIXES = itertools.count()


@SETTINGS
@given(query=callback_queries | queries, cookies=cookie_pairs, data=st.data(),
       accept=st.sampled_from(["text/html", "application/json"]))
@tallied("callback parameters")
def test_the_callback_answers_any_query_and_cookies_below_500(send, query, cookies, data, accept):
    """Arbitrary callback queries and cookies, with a login cookie for the query's state
    (garbage, or sealed with the real secret around odd content): never a 5xx, and no
    exception on the way."""
    if isinstance(query, list):  # shaped like a provider's answer: its state is new
        suffix = f"~{next(STATE_SUFFIXES)}"
        query = urlencode([(key, value + suffix if key == "state" else value) for key, value in query])
    pairs = list(cookies)
    state = dict(parse_qsl(query, keep_blank_values=True)).get("state", "").strip()
    if state:
        login = data.draw(st.none() | cookie_values | forged_login(state), label="login cookie")
        if login is not None:
            pairs.append((login_cookie_name(state), login))
    headers = {"Accept": accept}
    if pairs:
        headers["Cookie"] = cookie_header(pairs)
    response = send(f"{BASE}/oauth2callback?{query}", headers=headers)
    if response.code == 303:
        assert_same_app_redirect(response)


@st.composite
def callback_edits(draw: st.DrawFn, params: dict[str, str]) -> list[tuple[str, str]]:
    """The provider's answer after a browser (or attacker) edited it: keys dropped, values
    replaced, repeated or added."""
    kept = [draw(st.integers(min_value=0, max_value=5)) > 0 for _ in params]  # each dropped one time in six
    pairs = [pair for pair, keep in zip(params.items(), kept) if keep]
    for key in draw(st.lists(st.sampled_from(["code", "state", "iss", "error"]), max_size=2)):
        pairs = [(k, draw(form_text) if k == key else v) for k, v in pairs]
    extra = draw(st.lists(st.tuples(query_keys, form_text), max_size=3))
    position = draw(st.integers(min_value=0, max_value=len(pairs)))
    return pairs[:position] + extra + pairs[position:]


@SETTINGS
@given(next_path=form_text, data=st.data(), keep_login_cookie=st.integers(0, 4), extra_cookies=cookie_pairs,
       replay=st.booleans(), fresh_state=st.booleans())
@tallied("callback parameters")
def test_a_tampered_callback_of_a_real_sign_in_answers_below_500(send, op, next_path, data, keep_login_cookie,
                                                                  extra_cookies, replay, fresh_state):
    """Start a real sign-in (with an arbitrary ``next``), let the fake provider answer,
    then edit the callback's query and cookies: never a 5xx, and a completed sign-in only
    ever lands on a path of this app."""
    login = send(f"{BASE}/auth/login?" + urlencode({"provider": "op", "next": next_path}))
    assert login.code == 302, login.code
    jar = cookies_of(login)
    params = op.authorize(login.headers["Location"], include_iss=data.draw(st.none() | st.booleans(), label="iss"))
    pairs = data.draw(callback_edits(params), label="callback query")
    cookies = list(extra_cookies)
    if keep_login_cookie:  # usually the browser still has it; sometimes edited
        for name, value in jar.items():
            if keep_login_cookie == 1:
                value = data.draw(st.text(alphabet=BASE64URL, max_size=len(value) + 4), label="edited login cookie")
            cookies.append((name, value))
    if fresh_state:  # the sign-in cookie of another sign-in of this browser
        cookies += list(cookies_of(send(f"{BASE}/auth/login?provider=op")).items())
    headers = {"Cookie": cookie_header(cookies)} if cookies else {}
    for _ in range(2 if replay else 1):
        response = send(f"{BASE}/oauth2callback?{urlencode(pairs)}", headers=headers)
        if response.code == 303:
            assert_same_app_redirect(response)


# --- POST /auth/login ------------------------------------------------------------------------

FORM_KEYS = ["username", "password", "next", "source", "_xsrf"]
form_words = st.sampled_from(["alice", "alice-password", "dave", "dave-password", "local", "ldap", "ALICE", " alice ",
                              "/reports"]) | form_text
#: Mostly a username and a password (so the password check runs), plus odd extras.
form_fields = st.one_of(
    st.builds(lambda fixed, extra: [*fixed.items(), *extra],
              st.fixed_dictionaries({"username": form_words, "password": form_words},
                                    optional={"next": form_text, "source": form_words, "_xsrf": header_text}),
              st.lists(st.tuples(st.sampled_from(FORM_KEYS) | st.text(max_size=8), form_words), max_size=3)),
    st.lists(st.tuples(st.sampled_from(FORM_KEYS) | st.text(max_size=8), form_words), max_size=7),
)
content_types = st.sampled_from([
    "application/x-www-form-urlencoded", "multipart/form-data; boundary=fuzz", "multipart/form-data",
    "multipart/form-data; boundary=", "application/json", "text/plain",
    "application/x-www-form-urlencoded; charset=latin-1",
    None,
])


def multipart(fields, boundary: str = "fuzz") -> bytes:
    """A multipart/form-data body of (name, value) pairs."""
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{quote(k)}"\r\n\r\n{v}\r\n' for k, v in fields]
    return ("".join(parts) + f"--{boundary}--\r\n").encode("utf-8", "surrogatepass")


raw_bodies = st.binary(max_size=300) | st.text(max_size=200).map(lambda text: text.encode("utf-8", "surrogatepass"))
#: (Content-Type, body): mostly a form as a browser encodes it, sometimes mislabelled or raw.
form_posts = st.one_of(
    form_fields.map(lambda fields: ("application/x-www-form-urlencoded", urlencode(fields).encode())),
    form_fields.map(lambda fields: ("multipart/form-data; boundary=fuzz", multipart(fields))),
    st.tuples(content_types, form_fields.map(lambda fields: urlencode(fields).encode()) | raw_bodies),
)


@pytest.fixture
def hammered_throttle() -> Throttle:
    """One throttle that all "hammered" examples of a property share."""
    return Throttle()


@SETTINGS
@given(post=form_posts, origin_kind=origins, fetch_site=fetch_sites, cookies=cookie_pairs,
       hammered=st.integers(min_value=0, max_value=3).map(bool))
@tallied("login form")
def test_the_login_form_answers_any_body_below_500(send, service, hammered_throttle, origin, post, origin_kind,
                                                     fetch_site, cookies, hammered):
    """``POST /auth/login`` with arbitrary bodies, content types, origins and cookies:
    never a 5xx. Three examples in four share one long-lived throttle, as one address
    hammering the form would; the others start from a fresh one so passwords get checked."""
    service.throttle = hammered_throttle if hammered else Throttle()
    content_type, body = post
    headers = browser_headers(origin, origin_kind, fetch_site)
    if content_type is not None:
        headers["Content-Type"] = content_type
    if cookies:
        headers["Cookie"] = cookie_header(cookies)
    response = send(f"{BASE}/auth/login", method="POST", headers=headers, body=body)
    if response.code == 303:
        assert_same_app_redirect(response)


# --- the other sign-in endpoints -------------------------------------------------------------


@pytest.fixture
def new_session(service):
    """``new_session()`` -> a fresh real session of alice's: its cookie value, and what the
    cookie opens to (for edited copies). Fresh, because a fuzzed logout may end any."""

    def sign_in() -> tuple[str, dict]:
        done = service.password_login("alice", "alice-password", "192.0.2.1", "/", {}, None, secure=False, path=BASE)
        value = next(c.value for c in done.cookies if c.name == SESSION_COOKIE and c.value)
        return value, Sealer([SECRET], "session").open(value)

    return sign_in


@SETTINGS
@given(endpoint=st.sampled_from(["GET /auth/login", "GET /auth/userinfo", "GET /auth/logout", "POST /auth/logout",
                                 "GET /auth/login/", "GET /oauth2callback"]),
       query=queries, cookies=cookie_pairs, session_edit=st.none() | st.dictionaries(
           st.sampled_from(["sid", "k", "exp", "extra"]), json_values | st.text(alphabet=BASE64URL, max_size=44),
           max_size=2),
       referer=st.none() | header_text | st.sampled_from(["http://127.0.0.1/x", "http://evil.example/"]),
       origin_kind=origins, fetch_site=fetch_sites, accept=st.sampled_from(["text/html", "application/json"]))
@tallied("sign-in endpoints")
def test_the_sign_in_endpoints_answer_any_request_below_500(send, new_session, origin, endpoint, query, cookies,
                                                            session_edit, referer, origin_kind, fetch_site, accept):
    """Login page, userinfo and logout with arbitrary queries, referers and cookies,
    including a real session's cookie re-sealed with its id, key or expiry changed:
    never a 5xx."""
    method, path = endpoint.split(" ")
    pairs = list(cookies)
    if session_edit is not None:
        value, payload = new_session()
        pairs.append((SESSION_COOKIE, Sealer([SECRET], "session").seal({**payload, **session_edit})
                      if session_edit else value))
    headers = {"Accept": accept, **browser_headers(origin, origin_kind, fetch_site)}
    if pairs:
        headers["Cookie"] = cookie_header(pairs)
    if referer is not None:
        headers["Referer"] = referer
    response = send(f"{BASE}{path}?{query}", method=method, headers=headers, body=b"" if method == "POST" else None)
    if response.code == 303:
        assert_same_app_redirect(response)


# --- @sa.route endpoints ---------------------------------------------------------------------

ROUTE_ATOMS = ["items", "files", "echo", "private", "admins", "webhook", "x", "..", ".", "%2F", "%2f", "%5C", "%00",
               "%0A", "%FF", "%E6%97%A5", "%2E%2E", "%", "%%", "a%20b", "é", "~", ";", "=", ":", "@", "/", "//", ""]
#: The routes' own paths (so handlers run), and paths near them or anywhere.
route_paths = st.one_of(
    st.sampled_from(["/api/items/1", "/api/items/a%2Fb", "/api/files/a/b.txt", "/api/files/..%2F..", "/api/echo",
                     "/api/echo/", "/api/private", "/api/admins", "/api/webhook"]),
    st.lists(st.sampled_from(ROUTE_ATOMS) | st.text(max_size=6), max_size=8).map(
        lambda parts: "/api/" + "/".join(parts)),
    st.text(max_size=30).map(lambda text: "/" + text),
).map(lambda path: quote(path, safe="/%;=:@~!$&'()*+,"))
nesting_depths = st.sampled_from([2, 900, 1000, 5000, 100_000]) | st.integers(min_value=1, max_value=200_000)
json_bodies = st.one_of(
    json_values.map(lambda value: json.dumps(value).encode()),
    nesting_depths.map(lambda depth: b"[" * depth + b"]" * depth),
    nesting_depths.map(lambda depth: b'{"a":' * depth + b"1" + b"}" * depth),
    st.integers(min_value=1, max_value=20_000).map(lambda digits: b"9" * digits),
    st.sampled_from([b"1e999999", b"NaN", b"-Infinity", b'"\\ud800"', b"\xff\xfe", b"{", b""]),
    st.binary(max_size=200),
)


@SETTINGS
@given(method=st.sampled_from([*KNOWN_METHODS, "PROPFIND", "TRACE"]), path=route_paths, query=queries,
       payload=st.one_of(json_bodies.map(lambda body: ("application/json", body)), form_posts,
                         st.tuples(content_types, st.none() | raw_bodies)), origin_kind=origins, fetch_site=fetch_sites,
       cookies=cookie_pairs, signed_in=st.booleans(), accept=st.sampled_from(["application/json", "text/html", "*/*"]),
       xsrf=st.none() | header_text)
@tallied("routes over HTTP")
def test_routes_answer_any_method_path_and_body_below_500(send, new_session, origin, method, path, query, payload,
                                                          origin_kind, fetch_site, cookies, signed_in, accept, xsrf):
    """``@sa.route`` endpoints (and paths near them) with arbitrary methods, raw paths,
    queries, headers and bodies, from a visitor or a signed-in admin: never a 5xx."""
    content_type, body = payload
    pairs = list(cookies) + ([(SESSION_COOKIE, new_session()[0])] if signed_in else [])
    headers = {"Accept": accept, **browser_headers(origin, origin_kind, fetch_site)}
    if content_type is not None:
        headers["Content-Type"] = content_type
    if pairs:
        headers["Cookie"] = cookie_header(pairs)
    if xsrf is not None:
        headers["X-Xsrftoken"] = xsrf
    send(f"{BASE}{path}?{query}", method=method, headers=headers, body=body)


@SETTINGS
@given(segment=st.lists(st.sampled_from(ROUTE_ATOMS) | st.text(min_size=1, max_size=4), min_size=1, max_size=5).map(
           "".join).map(lambda raw: quote(raw, safe="%;=:@~!$&'()*+,")),
       rest=st.lists(st.sampled_from(ROUTE_ATOMS) | st.text(min_size=1, max_size=4), min_size=1, max_size=5).map(
           "/".join).map(lambda raw: quote(raw, safe="/%;=:@~!$&'()*+,")))
@tallied("routes over HTTP")
def test_route_parameters_decode_to_safe_values_over_http(send, segment, rest):
    """Over HTTP, a ``{name}`` value is never a '/' (an encoded one included) nor a dot
    segment, and a ``{name:path}`` value never climbs out with '..': what the handler
    sees is safe to join to a folder."""
    items = send(f"{BASE}/api/items/{segment}")
    if items.code == 200:
        value = json.loads(items.body)["params"]["item_id"]
        assert value not in (".", "..") and "/" not in value and "\\" not in value, (segment, value)
    files = send(f"{BASE}/api/files/{rest}")
    if files.code == 200:
        value = json.loads(files.body)["params"]["rest"]
        assert all(part not in ("", ".", "..") and "\\" not in part for part in value.split("/")), (rest, value)
