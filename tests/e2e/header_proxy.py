"""A tiny reverse proxy for tests: it forwards each connection from source address
127.0.0.2 (the trusted peer) and adds identity headers to every request head, the
websocket upgrade included. Non-upgrade requests get ``Connection: close`` so that each
request arrives on a new connection and gets the headers too."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from .harness import free_port

SOURCE = "127.0.0.2"


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()


def _rewrite(head: bytes, extra: dict[str, str]) -> bytes:
    lines = head.decode("latin-1").split("\r\n")
    upgrade = any(line.lower().startswith("upgrade:") for line in lines[1:])
    kept = [line for line in lines[1:] if line and not line.lower().startswith(
        tuple(f"{name.lower()}:" for name in extra) + (() if upgrade else ("connection:", "keep-alive:")))]
    added = [f"{name}: {value}" for name, value in extra.items()]
    if not upgrade:
        added.append("Connection: close")
    return ("\r\n".join([lines[0], *kept, *added]) + "\r\n\r\n").encode("latin-1")


@contextmanager
def run_header_proxy(upstream_port: int, headers: dict[str, str]) -> Iterator[int]:
    """Listen on a free loopback port; yield it; stop afterwards."""
    port = free_port()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    state: dict[str, asyncio.Event] = {}

    async def handle(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            head = await client_reader.readuntil(b"\r\n\r\n")
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", upstream_port, local_addr=(SOURCE, 0))
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError):
            client_writer.close()
            return
        up_writer.write(_rewrite(head[:-4], headers))
        await asyncio.gather(_pipe(client_reader, up_writer), _pipe(up_reader, client_writer))

    async def serve() -> None:
        state["stop"] = asyncio.Event()
        server = await asyncio.start_server(handle, "127.0.0.1", port)
        ready.set()
        await state["stop"].wait()
        server.close()
        pending = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    def run() -> None:
        loop.run_until_complete(serve())
        loop.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    ready.wait(10)
    try:
        yield port
    finally:
        loop.call_soon_threadsafe(state["stop"].set)
        thread.join(timeout=5)
