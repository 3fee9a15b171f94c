"""Cookie writes: which names and values are refused, and the Set-Cookie header they become."""

from __future__ import annotations

import datetime as dt

import pytest

from stauth_server.web.cookie_rules import MAX_COOKIE_BYTES, build_write, check_name, check_value
from stauth_server.core.errors import CookieError


def write(name: str = "theme", value: str | None = "dark", **kwargs):
    kwargs.setdefault("default_path", "/")
    kwargs.setdefault("page_is_https", False)
    return build_write(name, value, **kwargs)


def attributes(header: str) -> list[str]:
    return [part.strip() for part in header.split(";")]


# --- names ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["theme", "a", "Session-Id", "x.y", "a!#$%&'*+-.^_`|~9"])
def test_token_names_are_accepted(name):
    assert check_name(name) == name


@pytest.mark.parametrize(
    "name",
    ["", "a b", "a=b", "a;b", "a,b", 'a"b', "a(b)", "a/b", "a:b", "a\tb", "a\nb", "caf\u00e9", "a@b", "[a]", "{a}"],
)
def test_non_token_names_are_refused(name):
    with pytest.raises(CookieError):
        check_name(name)


@pytest.mark.parametrize("name", [None, 3, b"theme"])
def test_non_string_names_are_refused(name):
    with pytest.raises(CookieError):
        check_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "_streamlit_xsrf",
        "_STREAMLIT_XSRF",
        "_streamlit_anything",
        "_xsrf",
        "_XSRF",
        "_stauth_session",
        "_StAuth_x",
        "__Host-stauth_session",
        "__host-STAUTH",
        "__Secure-stauth_session",
        "stauth_session",
        "STAUTH_x",
    ],
)
def test_reserved_names_are_refused_in_any_case(name):
    with pytest.raises(CookieError, match="reserved"):
        check_name(name)


def test_names_that_only_resemble_reserved_ones_are_accepted():
    assert check_name("xsrf") == "xsrf"
    assert check_name("my_stauth") == "my_stauth"
    assert check_name("streamlit_theme") == "streamlit_theme"


# --- values --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "a\rb",
        "a\nb",
        "a\r\nSet-Cookie: evil=1",
        "a;b",
        "a\x00b",
        "a\x01b",
        "a\x1fb",
        "a\x7fb",
        "a b",
        'a"b',
        "a,b",
        "a\\b",
        "caf\u00e9",
        "\u2028",
        "a\tb",
    ],
)
def test_values_with_characters_outside_cookie_octets_are_refused(value):
    with pytest.raises(CookieError, match="percent-encode"):
        check_value("theme", value)


@pytest.mark.parametrize("value", ["dark", "", "a=b", "%E2%9C%93", "2|ab|cd|17", "!#$%&'()*+-./:<=>?@[]^_`{|}~"])
def test_cookie_octet_values_are_accepted(value):
    assert check_value("theme", value) == value


@pytest.mark.parametrize("value", [3, None, b"dark"])
def test_non_string_values_are_refused(value):
    with pytest.raises(CookieError):
        check_value("theme", value)


def test_a_value_with_a_newline_is_refused_by_build_write():
    with pytest.raises(CookieError):
        write(value="dark\r\nSet-Cookie: admin=1")


def test_a_cookie_over_4kb_is_refused():
    name = "big"
    with pytest.raises(CookieError, match="4096"):
        write(name, "x" * (MAX_COOKIE_BYTES - len(name)))


def test_a_cookie_just_under_4kb_is_accepted():
    name = "big"
    value = "x" * (MAX_COOKIE_BYTES - 1 - len(name))
    assert write(name, value).value == value


# --- prefixes, SameSite, path --------------------------------------------------------


def test_host_prefix_needs_secure():
    with pytest.raises(CookieError, match="__Secure-/__Host-"):
        write("__Host-pref", "1", page_is_https=False)


def test_secure_prefix_needs_secure_even_in_other_case():
    with pytest.raises(CookieError, match="__Secure-/__Host-"):
        write("__secure-pref", "1", page_is_https=False)


def test_secure_prefix_is_accepted_on_https():
    result = write("__Secure-pref", "1", page_is_https=True)
    assert result.secure is True
    assert "Secure" in attributes(result.header_value())


def test_explicit_secure_false_on_https_still_trips_the_prefix_rule():
    with pytest.raises(CookieError):
        write("__Secure-pref", "1", page_is_https=True, secure=False)


def test_host_prefix_needs_root_path():
    with pytest.raises(CookieError, match="path='/'"):
        write("__Host-pref", "1", page_is_https=True, default_path="/app/")


def test_host_prefix_with_root_path_is_accepted():
    result = write("__Host-pref", "1", page_is_https=True, default_path="/app/", path="/")
    assert result.path == "/"


def test_samesite_none_needs_secure():
    with pytest.raises(CookieError, match="SameSite=None"):
        write(samesite="None", page_is_https=False)


def test_samesite_none_with_secure_is_accepted():
    header = write(samesite="none", secure=True).header_value()
    assert "SameSite=None" in attributes(header)
    assert "Secure" in attributes(header)


@pytest.mark.parametrize("samesite", ["Sideways", "", "lax "])
def test_unknown_samesite_is_refused(samesite):
    with pytest.raises(CookieError, match="samesite"):
        write(samesite=samesite)


@pytest.mark.parametrize("samesite, expected", [("lax", "Lax"), ("STRICT", "Strict"), ("Lax", "Lax")])
def test_samesite_is_normalised(samesite, expected):
    assert write(samesite=samesite).samesite == expected


@pytest.mark.parametrize("path", ["app", "", "/a b", "/a;b", "/a\nb", "/caf\u00e9", 3])
def test_bad_paths_are_refused(path):
    with pytest.raises(CookieError, match="path"):
        write(path=path)


# --- defaults and the header ---------------------------------------------------------


def test_defaults_are_httponly_lax_and_the_base_path():
    result = write(default_path="/app/")
    assert result.httponly is True
    assert result.samesite == "Lax"
    assert result.path == "/app/"
    assert result.secure is False
    assert attributes(result.header_value()) == ["theme=dark", "Path=/app/", "HttpOnly", "SameSite=Lax"]


def test_secure_defaults_to_the_page_scheme():
    assert write(page_is_https=True).secure is True
    assert write(page_is_https=False).secure is False


def test_httponly_can_be_turned_off():
    assert "HttpOnly" not in attributes(write(httponly=False).header_value())


def test_delete_header_has_max_age_zero_and_epoch_expires():
    header = write(value=None, default_path="/app/").header_value()
    parts = attributes(header)
    assert parts[0] == "theme="
    assert "Max-Age=0" in parts
    assert "Expires=Thu, 01 Jan 1970 00:00:00 GMT" in parts
    assert "Path=/app/" in parts


def test_delete_skips_value_checks_but_not_name_checks():
    assert write("theme", None).value is None
    with pytest.raises(CookieError):
        write("_streamlit_xsrf", None)


def test_max_age_in_seconds_is_written():
    assert "Max-Age=3600" in attributes(write(max_age=3600).header_value())


def test_max_age_timedelta_becomes_seconds():
    result = write(max_age=dt.timedelta(days=1, seconds=5))
    assert result.max_age == 86405
    assert "Max-Age=86405" in attributes(result.header_value())


def test_float_max_age_is_truncated_to_whole_seconds():
    assert write(max_age=9.9).max_age == 9


@pytest.mark.parametrize("max_age", [True, "3600", [1]])
def test_non_numeric_max_age_is_refused(max_age):
    with pytest.raises(CookieError, match="max_age"):
        write(max_age=max_age)


def test_infinite_max_age_is_refused_with_cookie_error():
    with pytest.raises(CookieError):
        write(max_age=float("inf"))


def test_expires_datetime_is_written_in_gmt():
    when = dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    assert "Expires=Wed, 02 Jan 2030 03:04:05 GMT" in attributes(write(expires=when).header_value())


def test_naive_expires_datetime_is_taken_as_utc():
    result = write(expires=dt.datetime(2030, 1, 2, 3, 4, 5))
    assert result.expires.tzinfo is dt.timezone.utc
    assert "Expires=Wed, 02 Jan 2030 03:04:05 GMT" in attributes(result.header_value())


def test_expires_datetime_in_another_timezone_is_converted_to_gmt():
    when = dt.datetime(2030, 1, 2, 5, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert "Expires=Wed, 02 Jan 2030 03:04:05 GMT" in attributes(write(expires=when).header_value())


def test_expires_unix_time_is_written_in_gmt():
    epoch = dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc).timestamp()
    assert "Expires=Wed, 02 Jan 2030 03:04:05 GMT" in attributes(write(expires=epoch).header_value())


@pytest.mark.parametrize("expires", [True, "tomorrow", dt.date(2030, 1, 1)])
def test_expires_of_another_type_is_refused(expires):
    with pytest.raises(CookieError, match="expires"):
        write(expires=expires)


def test_header_attribute_order_is_stable():
    header = write(max_age=60, expires=0, secure=True, samesite="Strict", default_path="/app/").header_value()
    assert header == (
        "theme=dark; Max-Age=60; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/app/; Secure; HttpOnly; "
        "SameSite=Strict"
    )
