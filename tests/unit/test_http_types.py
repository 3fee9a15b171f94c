"""What a handler sees of a request, and how its result goes on the wire."""

from __future__ import annotations

import json

import pytest

from stauth_server.core.errors import HTTPError
from stauth_server.web.http import (
    MultiMapping,
    Request,
    Response,
    error_response,
    parse_cookie_header,
    render,
)
from stauth_server.core.identity import ANONYMOUS


# --- Request -------------------------------------------------------------------------


def test_query_gives_the_last_value_and_get_all_every_value(make_request):
    request = make_request(query_string="tag=a&tag=b&page=2&empty=")
    assert request.query["tag"] == "b"
    assert request.query.get_all("tag") == ["a", "b"]
    assert request.query["page"] == "2"
    assert request.query["empty"] == ""
    assert request.query.get_all("missing") == []
    assert "missing" not in request.query


def test_query_is_percent_decoded(make_request):
    request = make_request(query_string="q=a%20b%26c&plus=x+y")
    assert request.query["q"] == "a b&c"
    assert request.query["plus"] == "x y"


def test_query_is_read_only(make_request):
    request = make_request(query_string="a=1")
    with pytest.raises(TypeError):
        request.query["a"] = "2"


def test_query_keys_are_case_sensitive(make_request):
    request = make_request(query_string="Page=1")
    assert "page" not in request.query


def test_headers_are_case_insensitive(make_request):
    request = make_request(headers=[("Content-Type", "application/json"), ("X-Tag", "a"), ("x-tag", "b")])
    assert request.headers["content-type"] == "application/json"
    assert request.headers["CONTENT-TYPE"] == "application/json"
    assert request.headers["X-TAG"] == "b"
    assert request.headers.get_all("X-Tag") == ["a", "b"]
    assert request.headers.get("Missing") is None


def test_cookies_are_parsed_from_the_cookie_header(make_request):
    request = make_request(headers=[("Cookie", 'theme=dark; quoted="v"; empty=; _streamlit_xsrf=2|ab|cd|1')])
    assert dict(request.cookies) == {"theme": "dark", "quoted": "v", "empty": "", "_streamlit_xsrf": "2|ab|cd|1"}


def test_cookies_from_several_cookie_headers_are_merged(make_request):
    request = make_request(headers=[("Cookie", "a=1"), ("cookie", "b=2; a=3")])
    assert dict(request.cookies) == {"a": "1", "b": "2"}


def test_cookies_are_read_only(make_request):
    request = make_request(headers=[("Cookie", "a=1")])
    with pytest.raises(TypeError):
        request.cookies["a"] = "2"


def test_no_cookie_header_means_no_cookies(make_request):
    assert dict(make_request().cookies) == {}


def test_json_parses_the_body(make_request):
    assert make_request(body=b'{"a": [1, 2]}').json() == {"a": [1, 2]}


@pytest.mark.parametrize("body", [b"{not json", b"", b"\xff\xfe\x00", b"[1,", b"nan-ish"])
def test_malformed_json_is_http_400(make_request, body):
    with pytest.raises(HTTPError) as raised:
        make_request(body=body).json()
    assert raised.value.status == 400
    assert raised.value.message == "Malformed JSON body"


def test_path_params_are_read_only(make_request):
    params = {"item_id": "7"}
    request = make_request(path_params=params)
    with pytest.raises(TypeError):
        request.path_params["item_id"] = "8"
    params["item_id"] = "changed"
    assert request.path_params["item_id"] == "7"


def test_user_defaults_to_anonymous(make_request):
    request = make_request()
    assert request.user is ANONYMOUS
    assert request.user.is_logged_in is False


def test_explicit_cookies_override_the_header():
    request = Request(
        method="GET",
        path="/x",
        path_params={},
        query_string="",
        headers=[("Cookie", "a=1")],
        body=b"",
        client_ip=None,
        cookies={"b": "2"},
    )
    assert dict(request.cookies) == {"b": "2"}


# --- parse_cookie_header / MultiMapping ---------------------------------------------


def test_lenient_cookie_parsing_skips_junk():
    assert parse_cookie_header("a=1;;  ; noequals; =nokey; b = 2 ") == {"a": "1", "b": "2"}


def test_first_cookie_of_a_name_wins():
    assert parse_cookie_header("a=1; a=2") == {"a": "1"}


def test_multimapping_len_and_iter_count_distinct_keys():
    mapping = MultiMapping([("a", "1"), ("A", "2"), ("b", "3")], case_insensitive=True)
    assert len(mapping) == 2
    assert sorted(mapping) == ["a", "b"]
    with pytest.raises(KeyError):
        mapping["c"]


# --- render / error_response ---------------------------------------------------------


def content_type(rendered):
    return dict((k.lower(), v) for k, v in rendered.headers)["content-type"]


def test_dict_renders_as_compact_utf8_json():
    rendered = render({"name": "Zo\u00eb"})
    assert rendered.status == 200
    assert content_type(rendered) == "application/json; charset=utf-8"
    assert rendered.body == '{"name":"Zo\u00eb"}'.encode()


def test_list_and_tuple_render_as_json():
    assert json.loads(render([1, 2]).body) == [1, 2]
    assert json.loads(render((1, 2)).body) == [1, 2]


def test_str_renders_as_text():
    rendered = render("hi")
    assert content_type(rendered) == "text/plain; charset=utf-8"
    assert rendered.body == b"hi"


def test_bytes_like_render_as_octet_stream():
    for body in (b"x", bytearray(b"x"), memoryview(b"x")):
        rendered = render(body)
        assert content_type(rendered) == "application/octet-stream"
        assert rendered.body == b"x"


def test_none_renders_as_204():
    rendered = render(None)
    assert (rendered.status, rendered.headers, rendered.body) == (204, [], b"")


@pytest.mark.parametrize("value", [object(), 3, 1.5, {1, 2}])
def test_unsupported_types_are_a_type_error(value):
    with pytest.raises(TypeError, match="sa.Response"):
        render(value)


def test_response_defaults_to_the_body_type():
    rendered = render(Response({"a": 1}, status=202))
    assert rendered.status == 202
    assert content_type(rendered).startswith("application/json")


def test_response_content_type_header_wins_over_the_argument():
    rendered = render(Response("x", headers={"content-type": "text/csv"}, content_type="text/html"))
    assert [v for k, v in rendered.headers if k.lower() == "content-type"] == ["text/csv"]


def test_response_with_no_body_has_no_content_type():
    rendered = render(Response(None, status=202))
    assert rendered.status == 202
    assert rendered.body == b""
    assert all(k.lower() != "content-type" for k, _ in rendered.headers)


def test_error_response_is_json_with_extra_headers():
    rendered = error_response(405, "Method Not Allowed", {"Allow": "GET"})
    assert rendered.status == 405
    assert json.loads(rendered.body) == {"error": "Method Not Allowed"}
    assert ("Allow", "GET") in rendered.headers
    assert content_type(rendered).startswith("application/json")
