"""``patches/tcp_nodelay.py``: the Starlette server's connections send without Nagle's delay.

Streamlit's own ``_bind_socket`` (1.56 with ``server.useStarlette``, 1.57+) leaves Nagle on,
which stalls every kept-alive response about 40 ms behind the client's delayed ACK.
"""

from __future__ import annotations

import socket

import pytest

from patches import tcp_nodelay
from stauth_server.streamlit import internals


@pytest.fixture
def patched():
    module = internals.starlette_server_module()
    original = module._bind_socket
    tcp_nodelay.apply()
    tcp_nodelay.apply()   # idempotent
    yield module
    module._bind_socket = original


def test_streamlits_own_socket_leaves_nagle_on():
    sock = internals.starlette_server_module()._bind_socket("127.0.0.1", 0, 8)
    try:
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
    finally:
        sock.close()


def test_accepted_connections_inherit_tcp_nodelay(patched):
    assert tcp_nodelay.is_applied()
    listener = patched._bind_socket("127.0.0.1", 0, 8)
    listener.setblocking(True)
    try:
        assert listener.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
        client = socket.create_connection(listener.getsockname())
        accepted, _ = listener.accept()
        try:
            assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
        finally:
            accepted.close()
            client.close()
    finally:
        listener.close()
