"""Property-based fuzzing of the pure parsers and codecs (issue 7, section 5).

Targets: the cookie codec (``session.Sealer`` and the chunking helpers), the redirect
filter (``redirects.safe_app_path``) and the sign-in ``next`` filter
(``auth_handlers.safe_next``), the route compiler (``routes.compile_path`` and the
registry's matching), the config parser (``config.parse_server_config``), and the
password throttle every ``POST /auth/login`` consults first.

Each property runs ``STAUTH_FUZZ_EXAMPLES`` examples (60 by default); ``scripts/fuzz.py``
runs them by the thousand and reports the tally (see ``fuzz_tally``).
"""

from __future__ import annotations

import re
import string
from pathlib import Path
from urllib.parse import quote, urljoin, urlsplit

import pytest
from fuzz_tally import fuzz_settings, tallied
from hypothesis import given
from hypothesis import strategies as st

from stauth_server.tornado.auth_handlers import safe_next
from stauth_server.core.config import (
    MIN_SECRET_LENGTH,
    PROVIDER_KEYS,
    ServerConfig,
    parse_server_config,
)
from stauth_server.core.errors import ConfigError, RedirectError, RouteError
from stauth_server.core.oidc.presets import PRESETS
from stauth_server.web.redirects import safe_app_path
from stauth_server.web.routes import RouteRegistry, compile_path
from stauth_server.core.session_cookie import (
    CHUNK_BYTES,
    HOST_PREFIX,
    MAX_CHUNKS,
    SESSION_COOKIE,
    CookieTooLarge,
    Sealer,
    chunk_names,
    join_value,
    split_value,
)
from stauth_server.core.throttle import Throttle

SETTINGS = fuzz_settings()

# --- shared strategies ----------------------------------------------------------------

#: What a cookie value may hold (RFC 6265 cookie-octet): no space, '"', ',', ';', '\'.
COOKIE_OCTETS = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in '",;\\')
BASE64URL = string.ascii_letters + string.digits + "-_="
#: Characters with a meaning somewhere in URL, cookie or header parsing.
SPECIALS = "/\\?#&=;:@%.+ \t\r\n\x00\x7f\"'<>[]{}|^`~,"

json_scalars = (
    st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
payloads = st.dictionaries(st.text(max_size=12), json_values, max_size=6)
secrets_ = st.text(min_size=1, max_size=48)
purposes = st.sampled_from(["session", "login", "state"]) | st.text(max_size=12)
#: Text biased towards URL/cookie syntax, with arbitrary Unicode mixed in.
hostile_text = st.text(alphabet=st.sampled_from(SPECIALS) | st.characters(), max_size=60)


# --- cookie codec -----------------------------------------------------------------------


@SETTINGS
@given(payload=payloads, secrets=st.lists(secrets_, min_size=1, max_size=3, unique=True),
       sealing_index=st.integers(min_value=0, max_value=2), purpose=purposes,
       max_age=st.none() | st.integers(min_value=60, max_value=10**9))
@tallied("cookie codec")
def test_a_sealed_payload_opens_to_itself_under_every_listed_secret(payload, secrets, sealing_index, purpose, max_age):
    """Round trip, with rotation: a cookie sealed under any secret still listed (a retired
    one included) opens to the same payload, and is a valid cookie value."""
    sealed_with = secrets[min(sealing_index, len(secrets) - 1)]
    token = Sealer([sealed_with], purpose).seal(payload)
    assert token and all(c in COOKIE_OCTETS for c in token)
    assert Sealer(secrets, purpose).open(token, max_age_seconds=max_age) == payload


@SETTINGS
@given(payload=payloads, max_age=st.integers(max_value=-60))
@tallied("cookie codec")
def test_a_cookie_older_than_the_maximum_age_opens_to_nothing(payload, max_age):
    """A maximum age in the past means every cookie is too old: None, never an exception."""
    sealer = Sealer(["a-cookie-secret"], "session")
    assert sealer.open(sealer.seal(payload), max_age_seconds=max_age) is None


@SETTINGS
@given(token=st.none() | st.text() | st.text(alphabet=BASE64URL, max_size=400)
       | st.text(alphabet=BASE64URL, max_size=300).map(lambda rest: "gAAAAA" + rest)
       | st.binary(max_size=200).map(lambda raw: raw.decode("latin-1")),
       max_age=st.none() | st.integers(min_value=-(2**70), max_value=2**70),
       secrets=st.lists(secrets_, min_size=1, max_size=2))
@tallied("cookie codec")
def test_opening_arbitrary_text_never_raises_and_finds_nothing(token, max_age, secrets):
    """Garbage, lookalike tokens and huge ages: ``open`` answers None, never raises."""
    assert Sealer(secrets, "session").open(token, max_age_seconds=max_age) is None


@st.composite
def tampered(draw: st.DrawFn, token: str) -> str:
    """``token`` after one to three edits: replace, delete, insert, truncate, swap case."""
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        position = draw(st.integers(min_value=0, max_value=max(0, len(token) - 1)))
        edit = draw(st.sampled_from(["replace", "delete", "insert", "truncate", "swapcase", "append"]))
        if edit == "replace":
            token = token[:position] + draw(st.sampled_from(BASE64URL) | st.characters()) + token[position + 1:]
        elif edit == "delete":
            token = token[:position] + token[position + draw(st.integers(1, 8)):]
        elif edit == "insert":
            token = token[:position] + draw(st.text(min_size=1, max_size=8)) + token[position:]
        elif edit == "truncate":
            token = token[:position]
        elif edit == "swapcase":
            token = token[:position] + token[position:position + 1].swapcase() + token[position + 1:]
        else:
            token = token + draw(st.text(alphabet=BASE64URL, min_size=1, max_size=16))
    return token


@SETTINGS
@given(payload=payloads, data=st.data())
@tallied("cookie codec")
def test_a_tampered_token_never_opens_to_another_payload(payload, data):
    """Edited tokens open to nothing (or, when an edit changed nothing that counts, such
    as base64 padding bits, to the very same payload): never to a different payload."""
    sealer = Sealer(["newest-cookie-secret", "older-cookie-secret"], "session")
    token = sealer.seal(payload)
    edited = data.draw(tampered(token), label="edited token")
    assert sealer.open(edited) in (None, payload)


@SETTINGS
@given(payload=payloads, first=st.tuples(secrets_, purposes), second=st.tuples(secrets_, purposes))
@tallied("cookie codec")
def test_a_token_opens_only_under_its_own_secret_and_purpose(payload, first, second):
    """A login cookie is no session cookie, and another app's secret opens nothing."""
    token = Sealer([first[0]], first[1]).seal(payload)
    opened = Sealer([second[0]], second[1]).open(token)
    assert opened == (payload if first == second else None)


cookie_names = st.sampled_from([SESSION_COOKIE, HOST_PREFIX + SESSION_COOKIE, "stauth_login_0123abcd"]) | st.text(
    alphabet=string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~", min_size=1, max_size=20)
#: Values shaped like sealed tokens, of any length up to past what the chunks can hold.
token_like_values = st.builds(
    lambda unit, length: (unit * (length // len(unit) + 1))[:length],
    st.text(alphabet=BASE64URL, min_size=1, max_size=24),
    st.integers(min_value=1, max_value=CHUNK_BYTES * (MAX_CHUNKS + 1)) | st.integers(min_value=1, max_value=300),
)


@SETTINGS
@given(name=cookie_names, value=token_like_values,
       noise=st.dictionaries(st.text(alphabet=COOKIE_OCTETS, min_size=1, max_size=24),
                             st.text(alphabet=COOKIE_OCTETS, max_size=24), max_size=5))
@tallied("cookie codec")
def test_chunking_round_trips_every_value_that_fits(name, value, noise):
    """``split_value`` then ``join_value`` gives the value back (whatever other cookies the
    browser sends along), every chunk fits in a cookie, ``chunk_names`` finds them all;
    only a value larger than all chunks together is refused, with ``CookieTooLarge``."""
    try:
        cookies = split_value(name, value)
    except CookieTooLarge:
        assert len(value) > CHUNK_BYTES * MAX_CHUNKS
        return
    assert all(len(part) <= CHUNK_BYTES for part in cookies.values())
    assert set(chunk_names(name, cookies)) == set(cookies)
    jar = {**noise, **cookies}
    assert join_value(name, jar) == value
    assert set(cookies) <= set(chunk_names(name, jar))


chunk_heads = st.builds(lambda n: f"chunks:{n}",
                        st.integers(min_value=-3, max_value=MAX_CHUNKS + 3) | st.text(max_size=5))


@SETTINGS
@given(name=cookie_names, data=st.data())
@tallied("cookie codec")
def test_arbitrary_cookie_jars_reassemble_to_nothing_that_opens(name, data):
    """Whatever cookies a browser sends (chunk headers with odd counts, missing or
    lookalike chunks), reassembly never raises, ``chunk_names`` names only cookies of
    ``name``, and what comes out opens to nothing."""
    keys = st.sampled_from([name, f"{name}.0", f"{name}.1", f"{name}.2", f"{name}.01", f"{name}.-1",
                            f"{name}.x", f"{name}.\u0663", f"{name}.\u00b2", f"{name}0"]) | st.text(max_size=12)
    values = chunk_heads | st.text(max_size=40) | st.text(alphabet=BASE64URL, max_size=80)
    jar = data.draw(st.dictionaries(keys, values, max_size=8), label="cookies")
    joined = join_value(name, jar)
    assert joined is None or isinstance(joined, str)
    found = chunk_names(name, jar)
    assert set(found) <= set(jar)
    assert all(n == name or (n.startswith(name + ".") and n[len(name) + 1:].isdigit()) for n in found)
    assert Sealer(["a-cookie-secret"], "session").open(joined) is None


# --- the password throttle (behind POST /auth/login) ------------------------------------------


class Clock:
    """A clock the property moves by hand."""

    now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@SETTINGS
@given(steps=st.lists(st.tuples(st.sampled_from(["attempt", "failure", "success"]),
                                 st.integers(min_value=1, max_value=1500),
                                 st.floats(min_value=0, max_value=2000, allow_nan=False)), min_size=1, max_size=4))
@tallied("login form")
def test_the_password_throttle_answers_a_bounded_wait_however_hard_it_is_hammered(steps):
    """Bursts of attempts, failures and successes, with time passing in between: the
    throttle always answers a wait between 0 and its cap, never an exception (each
    password sign-in asks it first, so an exception there is a 5xx for that account)."""
    clock = Clock()
    throttle = Throttle(clock=clock)
    keys = ["user:local:alice", "ip:203.0.113.7"]
    for action, times, pause in steps:
        clock.now += pause
        for _ in range(times):
            if action == "attempt":
                assert 0.0 <= throttle.attempt(keys) <= throttle.cap
            elif action == "failure":
                throttle.failure(keys)
            else:
                throttle.success(keys)
        assert 0.0 <= throttle.wait_seconds(keys) <= throttle.cap


# --- the redirect and next filters ----------------------------------------------------------

#: Pieces of the forms browsers turn into another origin, or that break headers.
URL_ATOMS = [
    "/", "//", "///", "\\", "/\\", "\\/", "%2F", "%2f", "%5C", "%252F", "http:", "https:", "HTTPS:", "javascript:",
    "data:", "evil.example", "@", ":", "?", "#", "&", "=", "\t", "\n", "\r", "\x00", "\x1f", "\x7f", " ", "\u3000",
    "\u2028", "\u0085", "\u00a0", "\ufeff", "\u200b", "\uff0f", "\uff0e", "..", ".", "%00", "%0d%0a", "%", "%%",
    "~", "[", "]", "::1", "é", "日本", "reports", "a=1", "%E6%97%A5",
]
url_like = st.lists(st.sampled_from(URL_ATOMS) | st.text(max_size=6), max_size=10).map("".join)
redirect_targets = st.one_of(url_like, url_like.map(lambda rest: "/" + rest), hostile_text,
                             hostile_text.map(lambda rest: "/" + rest))
BASE_ALPHABET = string.ascii_letters + string.digits + "-._~/"
base_paths = st.sampled_from(["", "/", "base", "/base/", "a/b", "//evil.example", "x//y"]) | st.text(
    alphabet=BASE_ALPHABET, max_size=16)


def assert_same_app_path(path: str) -> None:
    """A path a browser resolves on the app's own origin: starts with one '/', and has no
    scheme, host, backslash, whitespace or control character."""
    assert isinstance(path, str) and path.startswith("/") and not path.startswith("//"), path
    assert "\\" not in path, path
    assert not any(ord(c) <= 0x20 or ord(c) == 0x7F or c.isspace() for c in path), path
    parts = urlsplit(path)
    assert not parts.scheme and not parts.netloc, path
    assert urlsplit(urljoin("https://app.example.org/base/", path)).netloc == "app.example.org", path


@SETTINGS
@given(target=redirect_targets, base_path=base_paths)
@tallied("redirect/next filter")
def test_safe_app_path_gives_a_same_app_path_under_the_base_or_refuses(target, base_path):
    """``safe_app_path`` answers an ASCII same-app path under the base path, or raises
    ``RedirectError``; nothing else."""
    try:
        result = safe_app_path(target, base_path)
    except RedirectError:
        return
    assert_same_app_path(result)
    assert result.isascii(), result
    prefix = "/" + base_path.strip("/") if base_path.strip("/") else ""
    assert result.startswith(prefix + "/"), (result, prefix)


@SETTINGS
@given(raw=st.none() | redirect_targets)
@tallied("redirect/next filter")
def test_safe_next_always_gives_a_same_app_path(raw):
    """The sign-in ``next`` filter never fails: the target's ASCII form when it is a
    same-app path (a ``Location`` header carries no raw UTF-8), else ``/``."""
    result = safe_next(raw)
    assert_same_app_path(result)
    assert result.isascii()
    try:
        expected = safe_app_path(raw, "") if raw else "/"
    except RedirectError:
        expected = "/"
    assert result == expected
    assert safe_app_path(result, "") == result  # what it returns passes the strict filter too


# --- the route compiler --------------------------------------------------------------------

#: Parameters in a template, as the compiler reads them (``{name}`` or ``{name:path}``).
TEMPLATE_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(:path)?\}")
PARAM_NAMES = ["id", "item_id", "rest", "a", "_x", "B2"]
STATIC_ALPHABET = string.ascii_letters + string.digits + "-._~!$&'()*+,;=:@%"
TEMPLATE_ATOMS = ["/", "//", "\\", " ", "{", "}", "{}", "{1x}", "{a:int}", "{a:path}", "{id}", "{id}", "{rest:path}",
                  "%2F", "api", "items", ".", "..", "\x00", "\t", "é", "_stcore", "auth"]
templates = st.lists(st.sampled_from(TEMPLATE_ATOMS) | st.text(alphabet=STATIC_ALPHABET + "{}/", max_size=6),
                     max_size=8).map("".join) | st.text(max_size=30)
#: Raw (still percent-encoded) request paths, with encoded slashes, dot segments and controls.
PATH_ATOMS = ["/", "api", "items", "x", "%2F", "%2f", "%5C", "..", "%2E%2E", ".", "%00", "%0A", "%FF", "%E6%97%A5",
              "%", "a/b", ""]
raw_paths = url_like | st.text(max_size=40) | st.lists(st.sampled_from(PATH_ATOMS), max_size=10).map("".join)
#: What the documentation of ``routes.decode_param`` refuses in a decoded segment.
REFUSED_IN_A_SEGMENT = re.compile(r"[/\\\x00-\x1f\x7f]")


def handler(request):  # pragma: no cover - never called: only the routing is fuzzed
    return {}


def assert_acceptable_segment(value: str) -> None:
    assert value and value not in (".", "..") and not REFUSED_IN_A_SEGMENT.search(value), value


@SETTINGS
@given(template=st.one_of(templates, templates.map(lambda t: "/" + t), templates.map(lambda t: "/api/" + t)),
       paths=st.lists(raw_paths, max_size=6))
@tallied("route compiler")
def test_any_template_compiles_or_raises_route_error_and_parameters_never_hold_a_slash(template, paths):
    """Declaring a route with an arbitrary template raises only ``RouteError``; a declared
    route takes any raw path without raising, and what it decodes is safe: a ``{name}``
    value is one segment (never a '/', even an encoded one), a ``{name:path}`` value has
    no empty, ``.`` or ``..`` segment, and neither holds a backslash or control character."""
    registry = RouteRegistry()
    try:
        compile_path(template)
        route = registry.add(template, handler)
    except RouteError:
        return
    assert route.shape.startswith("/")
    segment_params = {name for name, kind in TEMPLATE_PARAM.findall(template) if not kind}
    for raw in [template, *paths, *(p.lstrip("/") and template.rstrip("/") + "/" + p for p in paths)]:
        found = registry.match(raw)
        if found is None:
            continue
        matched, params = found
        assert matched is route
        if params is None:
            continue  # claimed, but a value was refused: the server answers 404
        for name, value in params.items():
            if name in segment_params:
                assert_acceptable_segment(value)
            else:
                for segment in value.split("/"):
                    assert_acceptable_segment(segment)


@st.composite
def valid_templates(draw: st.DrawFn) -> str:
    """Templates users write: fixed segments and distinct ``{name}``s, maybe a final
    ``{name:path}`` and a trailing slash."""
    names = iter(draw(st.permutations(PARAM_NAMES)))
    parts = ["/api"]
    for _ in range(draw(st.integers(min_value=0, max_value=4))):
        if draw(st.booleans()):
            parts.append("/{" + next(names) + "}")
        else:
            parts.append("/" + draw(st.text(alphabet=string.ascii_letters + string.digits + "-._~", min_size=1,
                                            max_size=8)))
    if draw(st.booleans()):
        parts.append("/{" + next(names) + ":path}")
    elif draw(st.booleans()):
        parts.append("/")
    return "".join(parts)


#: Decoded values, biased towards the ones the router must refuse.
param_values = st.sampled_from([".", "..", "a/b", "a\\b", "\x00", "\n", "%2F", "%", "~", " "]) | st.text(min_size=1,
                                                                                                  max_size=10)
encodings = st.sampled_from(["", "!$&'()*+,;=:@", "!$&'()*+,;=:@-._~"])


def acceptable(value: str) -> bool:
    return value not in ("", ".", "..") and not REFUSED_IN_A_SEGMENT.search(value)


@SETTINGS
@given(template=valid_templates(), data=st.data())
@tallied("route compiler")
def test_an_encoded_value_comes_back_decoded_unless_the_router_must_refuse_it(template, data):
    """A well-formed template is accepted; percent-encoding values into it gives a path
    the route claims, and the route gives exactly those values back, or refuses the path
    (None) when a value would be an empty, ``.``, ``..``, slashed or control segment."""
    registry = RouteRegistry()
    route = registry.add(template, handler)
    wanted: dict[str, str] = {}
    raw: dict[str, str] = {}
    every_segment: list[str] = []
    for name, kind in TEMPLATE_PARAM.findall(template):
        segments = data.draw(st.lists(param_values, min_size=1, max_size=3) if kind else st.tuples(param_values),
                             label=name)
        safe = data.draw(encodings, label=f"{name} left unencoded")
        wanted[name] = "/".join(segments)
        every_segment += segments
        raw[name] = "/".join(quote(segment, safe=safe) for segment in segments)
    path = TEMPLATE_PARAM.sub(lambda m: raw[m.group(1)], template)
    found = registry.match(path)
    assert found is not None and found[0] is route, (template, path)
    expected = wanted if all(acceptable(segment) for segment in every_segment) else None
    assert found[1] == expected, (template, path)


# --- the config parser ---------------------------------------------------------------------

toml_scalars = (
    st.text(max_size=40) | st.integers() | st.floats() | st.booleans() | st.datetimes() | st.dates() | st.times()
)
toml_values = st.recursive(
    toml_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=10,
)
good_secret = st.text(alphabet=string.ascii_letters + string.digits, min_size=MIN_SECRET_LENGTH, max_size=48)
urls = st.sampled_from([
    "https://app.example.org/oauth2callback", "http://localhost:8501/base/oauth2callback",
    "https://op.example.org/.well-known/openid-configuration", "http://[::1/oauth2callback",
    "http://[::1]/oauth2callback",
    "https://[::1]:99999/oauth2callback", "https://h:x/oauth2callback", "ftp://x/oauth2callback", "//x/oauth2callback",
    "redis://localhost:6379/0", "rediss://[::1/0", "redis://[fe80::1%25eth0]:6379", "unix:///tmp/redis.sock",
    "memory://",
    "sqlite:///tmp/sessions.db", "sqlite://sessions.db", "sqlite://", "sqlite:///tmp/", "sqlite:///\x00x",
    "https://exa mple/x", "http://\u0000/oauth2callback", "https://app.example.org/oauth2callback\n",
]) | st.text(max_size=30)
durations = st.sampled_from(["7d", "12h", "30m", "45s", "2w", "0s", "-1d", "1y", "99999999999999d", " 3 h ",
                             "\u0663d"]) | st.integers() | st.floats()
rule_texts = st.sampled_from([
    "alice@example.org", "group:admins", "domain:example.org", "claim:dept=eng", "claim:=x", "claim:a", "group:",
    "nobody", " ", "",
]) | toml_values


def maybe(plausible: st.SearchStrategy) -> st.SearchStrategy:
    """Mostly a plausible value for a key, sometimes anything TOML can hold."""
    return st.one_of(plausible, plausible, toml_values)


def few_changes(valid: st.SearchStrategy, pools: dict[str, st.SearchStrategy]) -> st.SearchStrategy:
    """A valid table with up to three keys set to odd or hostile values, so that parsing
    gets past the first check and reaches the later ones."""
    changes = st.lists(st.one_of([st.tuples(st.just(key), values) for key, values in pools.items()]), max_size=3)
    return st.builds(lambda table, edits: {**table, **dict(edits)}, valid, changes)


def anything_of(pools: dict[str, st.SearchStrategy]) -> st.SearchStrategy:
    """A table with any subset of the keys, each plausible or arbitrary."""
    return st.fixed_dictionaries({}, optional=pools)


PROVIDER_POOLS = {
    "client_id": maybe(st.text(min_size=1, max_size=20)),
    "client_secret": maybe(st.text(max_size=20)),
    "server_metadata_url": maybe(urls),
    "provider": maybe(st.sampled_from(sorted(PRESETS)) | st.text(max_size=10)),
    "tenant": maybe(st.text(max_size=12) | urls), "domain": maybe(urls), "realm": maybe(st.text(max_size=12)),
    "url": maybe(urls), "region": maybe(st.text(max_size=12)), "pool_id": maybe(st.text(max_size=12)),
    "authorization_server": maybe(st.text(max_size=12)),
    "display_name": maybe(st.text(max_size=12)),
    "client_kwargs": maybe(st.dictionaries(st.sampled_from(["scope", "prompt", "state", "nonce"]),
                                           st.text(max_size=12))),
    "groups_claim": maybe(st.sampled_from(["groups", "roles", "entra", "keycloak"]) | st.lists(st.text(max_size=8))),
    "unknown_key": toml_values,
}
valid_providers = st.sampled_from([
    {"client_id": "rp", "provider": "google"},
    {"client_id": "rp", "client_secret": "s",
     "server_metadata_url": "https://op.example.org/.well-known/openid-configuration"},
    {"client_id": "rp", "provider": "okta", "domain": "corp.okta.com"},
    {"client_id": "rp", "provider": "keycloak", "url": "https://kc.example.org", "realm": "r"},
    {"client_id": "rp", "provider": "microsoft", "tenant": "t"},
    {"client_id": "rp", "provider": "github"},
])
provider_tables = few_changes(valid_providers, PROVIDER_POOLS) | anything_of(PROVIDER_POOLS)
LDAP_POOLS = {
    "server_uri": maybe(st.sampled_from(["ldap://127.0.0.1:389", "ldaps://ldap.example.org", "http://x",
                                         "ldap://[::1"])),
    "user_dn_template": maybe(st.sampled_from(["uid={username},ou=people,dc=example,dc=org", "uid=x", "{username}{"])),
    "bind_dn": maybe(st.text(max_size=12)), "bind_password": maybe(st.text(max_size=12)),
    "user_search_base": maybe(st.text(max_size=12)), "user_search_filter": maybe(st.text(max_size=12)),
    "group_search_base": maybe(st.text(max_size=12)), "group_search_filter": maybe(st.text(max_size=12)),
    "start_tls": maybe(st.booleans()), "timeout_seconds": maybe(st.integers(min_value=-5, max_value=30)),
    "ca_file": maybe(st.text(max_size=12)), "bogus": toml_values,
}
PROXY_POOLS = {
    "trusted_proxies": maybe(st.lists(st.sampled_from(["10.0.0.0/8", "127.0.0.1", "::1", "fe80::/10", "300.1.1.1",
                                                       "10.0.0.1/99", "fe80::1%eth0", "x"]) | st.text(max_size=8),
                                      max_size=3)),
    "user_header": maybe(st.sampled_from(["X-Forwarded-User", "Bad Header", "X:Y", ""])),
    "email_header": maybe(st.sampled_from(["X-Forwarded-Email", "\r\nX"])),
    "groups_header": maybe(st.text(max_size=10)),
    "username_header": maybe(st.text(max_size=10)), "name_header": maybe(st.text(max_size=10)),
}
SECTION_POOLS = {
    "roles": maybe(st.dictionaries(st.text(max_size=8), rule_texts | st.lists(rule_texts, max_size=3), max_size=3)),
    "access": maybe(st.dictionaries(st.text(max_size=8), st.sampled_from(["public", "admin", ""])
                                    | st.lists(st.text(max_size=6), max_size=3), max_size=3)),
    "local": maybe(anything_of({
        "users_file": maybe(st.sampled_from(["users.toml", "missing.toml", "", "\x00", "../etc/passwd"])),
    })),
    "ldap": maybe(few_changes(st.just({"server_uri": "ldap://127.0.0.1:389",
                                       "user_dn_template": "uid={username},ou=people,dc=example,dc=org"}), LDAP_POOLS)
                  | anything_of(LDAP_POOLS)),
    "proxy": maybe(few_changes(st.just({"trusted_proxies": ["10.0.0.0/8"]}), PROXY_POOLS) | anything_of(PROXY_POOLS)),
    "store": maybe(anything_of({"url": maybe(urls), "other": toml_values})),
}
AUTH_POOLS = {
    "redirect_uri": maybe(urls),
    "cookie_secret": maybe(good_secret | st.text(max_size=40)),
    "cookie_secrets": maybe(st.lists(good_secret | st.text(max_size=40), max_size=3)),
    "client_id": maybe(st.text(min_size=1, max_size=12)),
    "client_secret": maybe(st.text(max_size=12)),
    "server_metadata_url": maybe(urls),
    "provider": maybe(st.sampled_from(sorted(PRESETS))),
    "expose_tokens": maybe(st.lists(st.sampled_from(["id", "access", "refresh"]), max_size=3) | st.just("id")),
    "default_ttl": maybe(durations),
    "idle_timeout": maybe(durations),
    "routes": maybe(st.lists(st.sampled_from(["api.py", "hooks/x.py", ""]), max_size=2) | st.just("api.py")),
    "require_login": maybe(st.booleans()),
    "groups_claim": maybe(st.sampled_from(["groups", "entra"])),
    "login_template": maybe(st.sampled_from(["login.html", "plain.html", "missing.html", "", "\x00"])),
    "on_login": maybe(st.sampled_from(["hooks.py:enrich", "hooks.py:1x", "hooks:enrich", ":", "hooks.py:"])),
    "frame_ancestors": maybe(st.lists(st.sampled_from(["'self'", "'none'", "https://portal.example.org", "a;b", "",
                                                       "x,y", "\r\n"]), max_size=3) | st.just("'self'")),
    "corp_sso": provider_tables,
    **SECTION_POOLS,
}
#: One way to sign in, configured right (the start from which few_changes departs).
valid_auth = st.builds(
    lambda base, way: {**base, **way},
    st.fixed_dictionaries({"cookie_secret": good_secret,
                           "redirect_uri": st.just("https://app.example.org/oauth2callback")}),
    st.sampled_from([
        {"client_id": "rp", "provider": "google"},
        {"corp": {"client_id": "rp", "provider": "gitlab"}},
        {"local": {"users_file": "users.toml"}},
        {"proxy": {"trusted_proxies": ["10.0.0.0/8"]}},
        {"ldap": {"server_uri": "ldap://127.0.0.1:389", "user_dn_template": "uid={username},dc=example,dc=org"}},
    ]),
)
auth_tables = few_changes(valid_auth, AUTH_POOLS) | st.builds(
    lambda known, providers, extra: {**extra, **providers, **known},
    anything_of(AUTH_POOLS),
    st.dictionaries(st.sampled_from(["google", "okta", "corp_sso", "github"]) | st.text(min_size=1, max_size=8),
                    provider_tables, max_size=2),
    st.dictionaries(st.sampled_from(sorted(PROVIDER_KEYS)) | st.text(max_size=10), toml_values, max_size=2),
)


@pytest.fixture(scope="module")
def app_dir(tmp_path_factory) -> Path:
    """An app folder with a users file and login templates for the config to point at."""
    folder = tmp_path_factory.mktemp("fuzz-app")
    (folder / "users.toml").write_text("", encoding="utf-8")
    (folder / "login.html").write_text("<main>$login_form</main>", encoding="utf-8")
    (folder / "plain.html").write_text("<main>no form here</main>", encoding="utf-8")
    return folder


@SETTINGS
@given(auth=auth_tables)
@tallied("config parser")
def test_any_auth_table_gives_a_server_config_or_a_config_error(app_dir, auth):
    """``[auth]`` as TOML can write it: a ``ServerConfig`` or a ``ConfigError`` naming
    the key, never another exception; a config it accepts is one the server can run."""
    try:
        config = parse_server_config(auth, app_dir)
    except ConfigError as exc:
        assert str(exc)
        return
    assert isinstance(config, ServerConfig)
    if config.sign_in_enabled:
        assert config.cookie_secrets and all(len(s) >= MIN_SECRET_LENGTH for s in config.cookie_secrets)
        assert config.default_ttl > 0 and (config.idle_timeout is None or config.idle_timeout > 0)
    if config.providers:
        parts = urlsplit(config.redirect_uri or "")
        assert parts.scheme in ("http", "https") and parts.netloc and parts.path.endswith("/oauth2callback")
