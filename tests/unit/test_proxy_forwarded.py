"""X-Forwarded-* from a trusted proxy: only what the nearest trusted proxies wrote counts.

Proxies append, so the right end of ``X-Forwarded-For`` is theirs and anything further
left may be the client's own invention; garbage where the client should be never lets
the client pick its address.
"""

from __future__ import annotations

import ipaddress
from types import SimpleNamespace

import pytest
from tornado.httputil import HTTPHeaders

from stauth_server.tornado.auth_handlers import PEER_ATTRIBUTE, sanitizing_find_handler
from stauth_server.core.sources.proxy import ProxyConfig, client_address, hop_address, nearest_value

PROXY = ProxyConfig(trusted=(ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("2001:db8:ffff::/48")))
CLIENT = "203.0.113.9"


def client(forwarded_for: str | None) -> str | None:
    return client_address(forwarded_for, PROXY)


# --- hops --------------------------------------------------------------------------------


@pytest.mark.parametrize("hop, address", [
    ("203.0.113.9", "203.0.113.9"),
    ("  203.0.113.9\t", "203.0.113.9"),
    ("203.0.113.9:5678", "203.0.113.9"),
    ("2001:DB8::1", "2001:db8::1"),
    ("[2001:db8::1]", "2001:db8::1"),
    ("[::1]:80", "::1"),
    ("::ffff:203.0.113.9", "203.0.113.9"),
])
def test_a_hop_is_an_address_with_its_port_dropped_and_one_spelling(hop, address):
    assert hop_address(hop) == address


@pytest.mark.parametrize("hop", ["unknown", "_hidden", "", "   ", "203.0.113.9:", "203.0.113.9:123456",
                                 "[203.0.113.9]:80", "[::1", "[::1]:x", "example.org", "203.0.113.9/32",
                                 "1.2.3.4.5", "01.2.3.4"])
def test_anything_else_is_not_an_address(hop):
    assert hop_address(hop) is None


# --- the client address ------------------------------------------------------------------


def test_a_single_untrusted_hop_is_the_client():
    assert client(CLIENT) == CLIENT


def test_a_hop_spoofed_at_the_left_is_ignored():
    assert client(f"198.51.100.66, {CLIENT}") == CLIENT


def test_trusted_proxies_at_the_right_are_skipped():
    assert client(f"198.51.100.66, {CLIENT}, 10.1.2.3, 10.0.0.1:8080, [2001:db8:ffff::7]") == CLIENT


def test_garbage_left_of_the_client_is_never_reached():
    assert client(f"unknown, , [::1]:80, {CLIENT}") == CLIENT


def test_several_header_lines_count_as_one_list_in_order():
    headers = HTTPHeaders.parse(f"X-Forwarded-For: 198.51.100.66\r\nX-Forwarded-For: {CLIENT} , 10.0.0.1\r\n")
    assert client(headers.get("X-Forwarded-For")) == CLIENT


@pytest.mark.parametrize("garbage", ["unknown", "", "_hidden", "203.0.113.9:123456", "[::1"])
def test_garbage_where_the_client_should_be_keeps_the_peer(garbage):
    # Left of the garbage is a well-formed address the client wrote itself: never taken.
    assert client(f"198.51.100.66, {garbage}") is None
    assert client(f"198.51.100.66, {garbage}, 10.0.0.1") is None


def test_a_trailing_empty_hop_keeps_the_peer():
    assert client(f"{CLIENT},") is None


def test_a_port_on_the_client_hop_is_dropped():
    assert client(f"198.51.100.66, {CLIENT}:5678, 10.0.0.1") == CLIENT
    assert client("[2001:db8::1]:443") == "2001:db8::1"


def test_all_hops_trusted_keeps_the_peer_rather_than_the_leftmost_hop():
    # 10.9.9.9 may be written by a client inside the trusted range: it must not pick its address.
    assert client("10.9.9.9, 10.1.2.3") is None


@pytest.mark.parametrize("header", [None, "", "   "])
def test_no_forwarded_for_keeps_the_peer(header):
    assert client(header) is None


# --- X-Forwarded-Proto / -Host -----------------------------------------------------------


@pytest.mark.parametrize("value, nearest", [
    ("https", "https"),
    ("http,https", "https"),
    (" evil.example , app.example ", "app.example"),
    ("https,", ""),
    ("", ""),
    (None, ""),
])
def test_the_nearest_proxys_value_is_the_rightmost(value, nearest):
    assert nearest_value(value) == nearest


# --- the sanitising find_handler ----------------------------------------------------------


def sanitized(peer: str, raw_headers: str) -> SimpleNamespace:
    """A request as Tornado's ``find_handler`` receives it, after our sanitising wrapper."""
    request = SimpleNamespace(remote_ip=peer, protocol="http", host="internal:8501",
                              headers=HTTPHeaders.parse(raw_headers))
    return sanitizing_find_handler(lambda request, **kwargs: request, PROXY)(request)


def test_a_trusted_peer_sets_the_client_address_and_keeps_the_peer_on_the_side():
    request = sanitized("10.0.0.1", f"X-Forwarded-For: 198.51.100.66, {CLIENT}\r\n")
    assert request.remote_ip == CLIENT
    assert getattr(request, PEER_ATTRIBUTE) == "10.0.0.1"


def test_garbage_from_a_trusted_peer_leaves_the_peer_as_the_client():
    assert sanitized("10.0.0.1", "X-Forwarded-For: 198.51.100.66, unknown\r\n").remote_ip == "10.0.0.1"


def test_scheme_and_host_come_from_the_nearest_trusted_proxy():
    # A proxy that appends passes the client's own values on at the left.
    request = sanitized("10.0.0.1", "X-Forwarded-Proto: http\r\nX-Forwarded-Proto: https\r\n"
                                    "X-Forwarded-Host: evil.example\r\nX-Forwarded-Host: app.example\r\n")
    assert (request.protocol, request.host) == ("https", "app.example")


def test_an_untrusted_peer_cannot_set_address_scheme_or_host():
    request = sanitized("198.51.100.66", f"X-Forwarded-For: {CLIENT}\r\nX-Forwarded-Proto: https\r\n"
                                         "X-Forwarded-Host: app.example\r\nX-Forwarded-User: u-42\r\n")
    assert (request.remote_ip, request.protocol, request.host) == ("198.51.100.66", "http", "internal:8501")
    assert "X-Forwarded-User" not in request.headers and "X-Forwarded-For" not in request.headers
