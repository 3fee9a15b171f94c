"""Custom endpoints: path patterns, the registry's refusals, access rules and handler results."""

from __future__ import annotations

import asyncio
import json
import logging
import re

import pytest

from stauth_server.streamlit import internals
from stauth_server.core.errors import HTTPError, RouteError
from stauth_server.web.http import Response
from stauth_server.core.identity import User
from stauth_server.web.routes import OUR_RESERVED_PREFIXES, RouteRegistry, access_error, call_handler, compile_path

STATIC_NAMES = ["favicon.png", "index.html", "manifest.json", "static"]


def ok(request):
    return {"ok": True}


def run(route, request):
    return asyncio.run(call_handler(route, request))


def header(rendered, name):
    values = [value for key, value in rendered.headers if key.lower() == name.lower()]
    assert len(values) == 1, rendered.headers
    return values[0]


# --- compile_path --------------------------------------------------------------------


def test_static_path_matches_itself_only():
    regex, shape = compile_path("/api/health")
    assert regex.match("/api/health")
    assert not regex.match("/api/healthz")
    assert not regex.match("/api/health/x")
    assert not regex.match("/xapi/health")
    assert shape == "/api/health"


def test_parameter_matches_one_segment():
    regex, shape = compile_path("/api/items/{item_id}")
    assert regex.match("/api/items/42").groupdict() == {"item_id": "42"}
    assert not regex.match("/api/items/42/extra")
    assert not regex.match("/api/items/")
    assert shape == "/api/items/{}"


def test_several_parameters_are_captured():
    regex, _ = compile_path("/api/{org}/items/{item_id}")
    assert regex.match("/api/acme/items/7").groupdict() == {"org": "acme", "item_id": "7"}


def test_parameter_inside_a_segment_keeps_the_static_suffix():
    regex, _ = compile_path("/api/files/{name}.json")
    assert regex.match("/api/files/report.json").group("name") == "report"
    assert not regex.match("/api/files/report.csv")


def test_path_parameter_matches_the_rest_of_the_path():
    regex, shape = compile_path("/api/files/{rest:path}")
    assert regex.match("/api/files/a/b/c.txt").group("rest") == "a/b/c.txt"
    assert not regex.match("/api/files/")
    assert shape == "/api/files/{*}"


def test_static_characters_are_not_regex_syntax():
    regex, _ = compile_path("/api/a+b.c")
    assert regex.match("/api/a+b.c")
    assert not regex.match("/api/aab.c")
    assert not regex.match("/api/a+bxc")


@pytest.mark.parametrize("declared", ["/api/items", "/api/items/"])
@pytest.mark.parametrize("requested", ["/api/items", "/api/items/"])
def test_trailing_slash_is_optional(declared, requested):
    regex, shape = compile_path(declared)
    assert regex.match(requested)
    assert shape == "/api/items"


def test_trailing_slash_is_optional_after_a_parameter():
    regex, _ = compile_path("/api/items/{item_id}")
    assert regex.match("/api/items/42/").group("item_id") == "42"


@pytest.mark.parametrize(
    "path",
    [
        "api/items",
        "",
        "/api//items",
        "//api",
        "/api\\items",
        "/api/a b",
        "/api/\titems",
        "/api/\x7f",
        "/api/caf\u00e9",
        "/api/{item",
        "/api/item}",
        "/api/{{item}}",
        "/api/{}",
        "/api/{1item}",
        "/api/{item:int}",
        "/api/{a}/{a}",
        "/api/{rest:path}/x",
        "/api/{rest:path}/{b}",
        "/api/a#b",
        "/api/a?b",
        None,
        3,
    ],
)
def test_bad_paths_are_refused(path):
    with pytest.raises(RouteError):
        compile_path(path)


def test_duplicate_parameter_is_named():
    with pytest.raises(RouteError, match=r"repeats the parameter \{a\}"):
        compile_path("/api/{a}/x/{a}")


def test_path_parameter_not_last_is_explained():
    with pytest.raises(RouteError, match="must be the last part"):
        compile_path("/api/{rest:path}/x")


# --- parameter values: matched on the raw path, decoded after -------------------------


def params(path: str, requested: str):
    registry = RouteRegistry()
    route = registry.add(path, ok)
    return route.path_params(requested)


def test_segment_parameter_is_percent_decoded_after_matching():
    assert params("/api/items/{item_id}", "/api/items/a%20b%C3%A9+c") == {"item_id": "a b\u00e9+c"}


@pytest.mark.parametrize(
    "requested",
    [
        "/api/items/..%2F..%2Fetc",
        "/api/items/a%2Fb",
        "/api/items/a%2fb",
        "/api/items/%2F",
        "/api/items/..%5C..%5Cetc",
        "/api/items/a%5cb",
    ],
)
def test_segment_parameter_never_takes_an_encoded_slash_or_backslash(requested):
    assert params("/api/items/{item_id}", requested) is None


@pytest.mark.parametrize(
    "requested", ["/api/items/.", "/api/items/..", "/api/items/%2e%2e", "/api/items/%2E", "/api/items/.%2E"]
)
def test_segment_parameter_refuses_dot_segments(requested):
    assert params("/api/items/{item_id}", requested) is None


@pytest.mark.parametrize("requested", ["/api/items/a%00b", "/api/items/a%0Ab", "/api/items/%7F", "/api/items/x%09"])
def test_segment_parameter_refuses_control_characters(requested):
    assert params("/api/items/{item_id}", requested) is None


def test_a_double_encoded_slash_is_decoded_once_and_stays_text():
    assert params("/api/items/{item_id}", "/api/items/..%252F..%252Fetc") == {"item_id": "..%2F..%2Fetc"}


def test_dots_inside_a_value_are_not_a_dot_segment():
    assert params("/api/items/{item_id}", "/api/items/...") == {"item_id": "..."}
    assert params("/api/items/{item_id}", "/api/items/v1..2") == {"item_id": "v1..2"}


def test_invalid_utf8_in_a_parameter_is_refused():
    assert params("/api/items/{item_id}", "/api/items/%ff%fe") is None


def test_a_malformed_escape_is_kept_as_text():
    assert params("/api/items/{item_id}", "/api/items/100%zz") == {"item_id": "100%zz"}


def test_path_parameter_takes_several_decoded_segments():
    assert params("/api/files/{rest:path}", "/api/files/a%20b/c%C3%A9.txt") == {"rest": "a b/c\u00e9.txt"}


def test_path_parameter_leaves_out_the_trailing_slash():
    assert params("/api/files/{rest:path}", "/api/files/a/b/") == {"rest": "a/b"}


@pytest.mark.parametrize(
    "requested",
    [
        "/api/files/a/../../etc/passwd",
        "/api/files/../x",
        "/api/files/a/%2e%2e/b",
        "/api/files/./a",
        "/api/files/a%2F..%2F..%2Fetc",
        "/api/files/%2Fetc%2Fpasswd",
        "/api/files//etc/passwd",
        "/api/files/a//b",
        "/api/files/..%5C..%5Cwindows",
    ],
)
def test_path_parameter_is_a_relative_path_that_cannot_climb(requested):
    assert params("/api/files/{rest:path}", requested) is None


def test_parameters_of_another_path_are_none():
    assert params("/api/items/{item_id}", "/api/other/1") is None


def test_static_text_after_a_parameter_still_applies_on_the_raw_path():
    assert params("/api/files/{name}.json", "/api/files/my%20report.json") == {"name": "my report"}
    assert params("/api/files/{name}.json", "/api/files/..%2Fsecret.json") is None


# --- the registry --------------------------------------------------------------------


def test_added_route_is_matched_with_its_parameters(registry):
    route = registry.add("/api/items/{item_id}", ok, methods=["get", "POST"])
    assert route.methods == ("GET", "POST")
    assert registry.match("/api/items/9") == (route, {"item_id": "9"})
    assert registry.match("/api/other") is None


def test_registry_match_claims_a_raw_path_but_refuses_its_encoded_slash(registry):
    route = registry.add("/api/items/{item_id}", ok)
    registry.add("/api/items/{rest:path}", ok)
    assert registry.match("/api/items/..%2F..%2Fetc") == (route, None)


def test_a_single_method_string_is_accepted(registry):
    assert registry.add("/api/x", ok, methods="post").methods == ("POST",)


def test_allowed_methods_add_head_with_get_and_options(registry):
    assert registry.add("/api/a", ok, methods=["GET"]).allowed_methods == ["GET", "HEAD", "OPTIONS"]
    assert registry.add("/api/b", ok, methods=["POST"]).allowed_methods == ["POST", "OPTIONS"]


def test_same_shape_twice_names_both_routes(registry):
    def first(request):
        return None

    def second(request):
        return None

    registry.add("/api/items/{item_id}", first)
    with pytest.raises(RouteError) as raised:
        registry.add("/api/items/{other}/", second)
    message = str(raised.value)
    assert "first" in message and "second" in message
    assert "/api/items/{item_id}" in message and "/api/items/{other}/" in message


def test_route_at_the_root_is_refused(registry):
    with pytest.raises(RouteError, match="'/'"):
        registry.add("/", ok)


@pytest.mark.parametrize("path", ["/{page}", "/{rest:path}", "/{page}/x"])
def test_route_starting_with_a_parameter_is_refused(registry, path):
    with pytest.raises(RouteError, match="starts with a parameter"):
        registry.add(path, ok)


@pytest.mark.parametrize("methods", [[], ["FETCH"], ["GET", "TRACE"], ["CONNECT"]])
def test_bad_methods_are_refused(registry, methods):
    with pytest.raises(RouteError, match="method"):
        registry.add("/api/x", ok, methods=methods)


@pytest.mark.parametrize("auth", [True, "yes", "REQUIRED", "admin"])
def test_bad_auth_values_are_refused(registry, auth):
    with pytest.raises(RouteError, match="auth must be"):
        registry.add("/api/x", ok, auth=auth)


def test_non_callable_handler_is_refused(registry):
    with pytest.raises(RouteError, match="callable"):
        registry.add("/api/x", "not a function")


def test_a_single_role_string_is_one_role(registry):
    assert registry.add("/api/x", ok, roles="admin").roles == ("admin",)


def test_refused_route_is_not_registered(registry):
    with pytest.raises(RouteError):
        registry.add("/api/x", ok, methods=["FETCH"])
    assert registry.routes == []


@pytest.mark.parametrize(
    "path, prefix",
    [
        ("/_stcore/x", "/_stcore"),
        ("/_stcore", "/_stcore"),
        ("/healthz", "/healthz"),
        ("/media/x", "/media"),
        ("/component/{name}", "/component"),
        ("/static/x", "/static"),
        ("/app/static/x", "/app/static"),
        ("/auth/x", "/auth"),
        ("/auth/login", "/auth"),
        ("/_stauth/x", "/_stauth"),
        ("/oauth2callback", "/oauth2callback"),
        ("/index.html", "/index.html"),
        ("/manifest.json", "/manifest.json"),
    ],
)
def test_reserved_prefixes_are_refused_naming_route_and_path(registry, path, prefix):
    registry.add(path, ok)
    with pytest.raises(RouteError) as raised:
        registry.check_reserved(internals.STREAMLIT_RESERVED_PREFIXES, STATIC_NAMES)
    message = str(raised.value)
    assert f"route {path} " in message
    assert f"path {prefix}" in message


@pytest.mark.parametrize("path", ["/api/x", "/authors", "/mediafiles/x", "/app/x", "/_stcorex"])
def test_paths_that_only_start_like_reserved_ones_are_allowed(registry, path):
    registry.add(path, ok)
    registry.check_reserved(internals.STREAMLIT_RESERVED_PREFIXES, STATIC_NAMES)
    assert [route.path for route in registry.routes] == [path]


@pytest.mark.parametrize(
    "path, streamlit_path", [("/_stcore{rest:path}", "/_stcore/stream"), ("/media{rest:path}", "/media/x.png")]
)
def test_route_whose_pattern_reaches_into_a_reserved_prefix_is_refused(registry, path, streamlit_path):
    route = registry.add(path, ok)
    assert route.regex.match(streamlit_path)
    with pytest.raises(RouteError):
        registry.check_reserved(internals.STREAMLIT_RESERVED_PREFIXES, STATIC_NAMES)


def test_our_own_prefixes_are_reserved_even_without_streamlit_ones(registry):
    assert set(OUR_RESERVED_PREFIXES) >= {"/_stauth", "/auth", "/oauth2callback"}
    registry.add("/_stauth/cookies/{token}", ok)
    with pytest.raises(RouteError, match="streamlit-auth's path /_stauth"):
        registry.check_reserved([], [])


@pytest.mark.parametrize("pattern", ["/_stcore/x", "/media/(.*)", "/auth/.*", r"/static/(?P<f>.*)", "/_stauth"])
def test_raw_mount_on_a_reserved_prefix_is_refused(registry, pattern):
    class Handler:
        pass

    registry.mount(pattern, Handler)
    with pytest.raises(RouteError, match="mounted handler Handler"):
        registry.check_reserved(internals.STREAMLIT_RESERVED_PREFIXES, STATIC_NAMES)


@pytest.mark.parametrize("pattern", [r"/(.*)", r"/_st.*"])
def test_raw_mount_whose_regex_reaches_into_a_reserved_prefix_is_refused(registry, pattern):
    class Handler:
        pass

    registry.mount(pattern, Handler)
    assert re.match(pattern + "$", "/_stcore/stream")
    with pytest.raises(RouteError):
        registry.check_reserved(internals.STREAMLIT_RESERVED_PREFIXES, STATIC_NAMES)


def test_raw_mount_elsewhere_is_kept(registry):
    class Handler:
        pass

    registry.mount(r"/hooks/(.*)", Handler, {"secret": "s"})
    registry.check_reserved(internals.STREAMLIT_RESERVED_PREFIXES, STATIC_NAMES)
    assert registry.raw_mounts == [(r"/hooks/(.*)", Handler, {"secret": "s"})]


def test_raw_mount_pattern_must_start_with_a_slash(registry):
    with pytest.raises(RouteError, match="must start with '/'"):
        registry.mount("hooks/.*", object)


def test_sealed_registry_refuses_new_routes_and_mounts(registry):
    registry.add("/api/x", ok)
    registry.seal()
    with pytest.raises(RouteError, match="--routes"):
        registry.add("/api/y", ok)
    with pytest.raises(RouteError, match="--routes"):
        registry.mount("/hooks", object)
    assert [route.path for route in registry.routes] == ["/api/x"]


def test_clear_forgets_routes_and_unseals(registry):
    registry.add("/api/x", ok)
    registry.seal()
    registry.clear()
    assert registry.routes == []
    assert registry.add("/api/x", ok).path == "/api/x"


def test_route_decorator_registers_in_the_module_registry(monkeypatch, registry):
    from stauth_server.web import routes

    monkeypatch.setattr(routes, "REGISTRY", registry)

    @routes.route("/api/decorated", methods=["POST"], auth="required", roles=["editor"], csrf=False)
    def handler(request):
        return None

    (route,) = registry.routes
    assert route.handler is handler
    assert (route.methods, route.auth, route.roles, route.csrf) == (("POST",), "required", ("editor",), False)


# --- access rules --------------------------------------------------------------------

ALICE = User(id="local:alice", roles=frozenset({"editor"}))
BOB = User(id="local:bob", roles=frozenset({"viewer"}))


def test_open_route_lets_anyone_in(registry, make_request):
    route = registry.add("/api/x", ok)
    assert access_error(route, make_request()) is None


def test_optional_auth_lets_visitors_in(registry, make_request):
    route = registry.add("/api/x", ok, auth="optional")
    assert access_error(route, make_request()) is None


def test_required_auth_refuses_visitors_with_401(registry, make_request):
    route = registry.add("/api/x", ok, auth="required")
    refusal = access_error(route, make_request())
    assert refusal.status == 401
    assert json.loads(refusal.body) == {"error": "Sign-in required"}
    assert access_error(route, make_request(user=BOB)) is None


def test_roles_refuse_visitors_with_401(registry, make_request):
    route = registry.add("/api/x", ok, roles=["editor"])
    assert access_error(route, make_request()).status == 401


def test_roles_refuse_users_without_the_role_with_403(registry, make_request):
    route = registry.add("/api/x", ok, auth="required", roles=["editor"])
    refusal = access_error(route, make_request(user=BOB))
    assert refusal.status == 403
    assert "role" in json.loads(refusal.body)["error"]


def test_any_one_of_the_roles_is_enough(registry, make_request):
    route = registry.add("/api/x", ok, roles=["admin", "editor"])
    assert access_error(route, make_request(user=ALICE)) is None


# --- calling handlers ----------------------------------------------------------------


def test_sync_handler_dict_becomes_json(registry, make_request):
    route = registry.add("/api/x", lambda request: {"id": request.path_params["id"], "n": 1})
    rendered = run(route, make_request(path_params={"id": "7"}))
    assert rendered.status == 200
    assert header(rendered, "Content-Type").startswith("application/json")
    assert json.loads(rendered.body) == {"id": "7", "n": 1}


def test_async_handler_is_awaited(registry, make_request):
    async def handler(request):
        await asyncio.sleep(0)
        return ["a", "b"]

    route = registry.add("/api/x", handler)
    assert route.is_async is True
    rendered = run(route, make_request())
    assert json.loads(rendered.body) == ["a", "b"]


def test_sync_handler_returning_an_awaitable_is_awaited(registry, make_request):
    async def later():
        return "done"

    route = registry.add("/api/x", lambda request: later())
    rendered = run(route, make_request())
    assert rendered.body == b"done"


def test_sync_handler_runs_off_the_event_loop(registry, make_request):
    def handler(request):
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return "off the loop"
        return "on the loop"

    assert run(registry.add("/api/x", handler), make_request()).body == b"off the loop"


def test_str_becomes_text_plain(registry, make_request):
    rendered = run(registry.add("/api/x", lambda request: "h\u00e9llo"), make_request())
    assert header(rendered, "Content-Type").startswith("text/plain")
    assert rendered.body == "h\u00e9llo".encode()


def test_bytes_stay_bytes(registry, make_request):
    rendered = run(registry.add("/api/x", lambda request: b"\x00\x01"), make_request())
    assert header(rendered, "Content-Type") == "application/octet-stream"
    assert rendered.body == b"\x00\x01"


def test_none_becomes_204_without_body(registry, make_request):
    rendered = run(registry.add("/api/x", lambda request: None), make_request())
    assert (rendered.status, rendered.body) == (204, b"")


def test_response_object_keeps_status_headers_and_content_type(registry, make_request):
    def handler(request):
        return Response("<b>hi</b>", status=201, headers={"X-Thing": "1"}, content_type="text/html")

    rendered = run(registry.add("/api/x", handler), make_request())
    assert rendered.status == 201
    assert header(rendered, "X-Thing") == "1"
    assert header(rendered, "Content-Type") == "text/html"
    assert rendered.body == b"<b>hi</b>"


def test_unsupported_return_type_is_a_generic_500_and_logged(registry, make_request, caplog):
    route = registry.add("/api/x", lambda request: object())
    with caplog.at_level(logging.ERROR, logger="stauth_server.routes"):
        rendered = run(route, make_request())
    assert rendered.status == 500
    assert json.loads(rendered.body) == {"error": "Internal Server Error"}
    assert any("TypeError" in (record.exc_text or "") for record in caplog.records)


def test_http_error_keeps_its_status_message_and_headers(registry, make_request):
    def handler(request):
        raise HTTPError(409, "Item exists", headers={"Retry-After": "5"})

    rendered = run(registry.add("/api/x", handler), make_request())
    assert rendered.status == 409
    assert json.loads(rendered.body) == {"error": "Item exists"}
    assert header(rendered, "Retry-After") == "5"


def test_http_error_without_message_uses_the_reason_phrase(registry, make_request):
    def handler(request):
        raise HTTPError(404)

    rendered = run(registry.add("/api/x", handler), make_request())
    assert json.loads(rendered.body) == {"error": "Not Found"}


def test_async_http_error_is_rendered_too(registry, make_request):
    async def handler(request):
        raise HTTPError(418, "teapot")

    rendered = run(registry.add("/api/x", handler), make_request())
    assert (rendered.status, json.loads(rendered.body)) == (418, {"error": "teapot"})


def test_malformed_json_body_in_a_handler_is_400(registry, make_request):
    route = registry.add("/api/x", lambda request: request.json(), methods=["POST"])
    rendered = run(route, make_request(method="POST", body=b"{not json"))
    assert (rendered.status, json.loads(rendered.body)) == (400, {"error": "Malformed JSON body"})


def test_exception_is_a_generic_500_without_details_and_is_logged(registry, make_request, caplog):
    def handler(request):
        raise RuntimeError("database password is hunter2")

    with caplog.at_level(logging.ERROR, logger="stauth_server.routes"):
        rendered = run(registry.add("/api/x", handler), make_request())
    assert rendered.status == 500
    assert json.loads(rendered.body) == {"error": "Internal Server Error"}
    assert b"hunter2" not in rendered.body and b"Traceback" not in rendered.body
    (record,) = [r for r in caplog.records if r.name == "stauth_server.routes"]
    assert "/api/x" in record.getMessage()
    assert "hunter2" in record.exc_text


def test_async_exception_is_a_generic_500(registry, make_request, caplog):
    async def handler(request):
        raise KeyError("secret")

    with caplog.at_level(logging.ERROR, logger="stauth_server.routes"):
        rendered = run(registry.add("/api/x", handler), make_request())
    assert rendered.status == 500
    assert b"secret" not in rendered.body
    assert caplog.records


@pytest.mark.parametrize("status", [200, 302, 399, 600, 99])
def test_http_error_status_must_be_4xx_or_5xx(status):
    with pytest.raises(ValueError):
        HTTPError(status, "x")


# --- sa.mount_asgi (Starlette server) and which server serves which mount -----------------


async def asgi_app(scope, receive, send):  # pragma: no cover - never called here
    pass


@pytest.mark.parametrize("prefix", ["api", "/api/", "/api/{x}", "/api/(.*)", "/", "", None, "/a b"])
def test_asgi_mount_prefix_must_be_a_literal_path(registry, prefix):
    with pytest.raises(RouteError, match="mount_asgi prefix must be a literal path"):
        registry.mount_asgi(prefix, asgi_app)


def test_asgi_mount_needs_an_app_and_may_not_overlap_another(registry):
    with pytest.raises(RouteError, match="expected an ASGI app"):
        registry.mount_asgi("/v2", "not an app")
    registry.mount_asgi("/v2", asgi_app)
    with pytest.raises(RouteError, match="overlaps"):
        registry.mount_asgi("/v2/inner", asgi_app)


@pytest.mark.parametrize("prefix", ["/_stcore", "/_stcore/x", "/auth", "/_stauth/cookies", "/static", "/media"])
def test_asgi_mount_on_a_reserved_prefix_is_refused(registry, prefix):
    registry.mount_asgi(prefix, asgi_app)
    with pytest.raises(RouteError, match="ASGI app asgi_app mounted at"):
        registry.check_reserved(internals.STREAMLIT_RESERVED_PREFIXES, STATIC_NAMES)


def test_asgi_mount_may_not_shadow_a_route(registry):
    registry.add("/v2/items", ok)
    registry.mount_asgi("/v2", asgi_app)
    with pytest.raises(RouteError, match="would shadow"):
        registry.check_reserved(internals.STREAMLIT_RESERVED_PREFIXES, STATIC_NAMES)


def test_asgi_mount_holds_its_prefix_and_below_only(registry):
    registry.mount_asgi("/v2", asgi_app)
    assert registry.asgi_mount_for("/v2") == ("/v2", asgi_app)
    assert registry.asgi_mount_for("/v2/items/1") == ("/v2", asgi_app)
    assert registry.asgi_mount_for("/v2x") is None
    assert registry.asgi_mount_for("/v") is None


def test_each_server_refuses_the_mount_it_cannot_serve_naming_the_alternative(registry):
    registry.mount("/hooks", object)
    registry.check_server(starlette=False)
    with pytest.raises(RouteError, match=r"sa.mount_tornado\('/hooks'\).*sa.mount_asgi"):
        registry.check_server(starlette=True)
    registry.clear()
    registry.mount_asgi("/v2", asgi_app)
    registry.check_server(starlette=True)
    with pytest.raises(RouteError, match=r"sa.mount_asgi\('/v2'\).*Starlette"):
        registry.check_server(starlette=False)
