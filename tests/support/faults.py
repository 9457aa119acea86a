"""A fault-injecting TCP proxy on loopback, in the test's event loop: put in front of the
gateway, it passes each connection through, or cuts it after the request was delivered —
the answer lost on the way back, as on a field device whose network drops while the server
is still working.

A connection is one HTTP request when the client does not keep connections alive
(`httpx.Limits(max_keepalive_connections=0)`), so a fault is chosen per request.
"""

from __future__ import annotations

import asyncio
import random
import socket
import struct
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

# What happens to a connection.
PASS = "pass"
# The request reaches the gateway whole; the connection is cut as its answer starts coming
# back (the write is done, the client never learns it).
ANSWER_LOST = "answer_lost"
# The request reaches the gateway whole; both connections are cut at once, while the
# gateway is still working on it (the write may or may not be done).
CUT_WHILE_WORKING = "cut_while_working"


class FaultyProxy:
    def __init__(self, upstream_port: int, *, cut_rate: float, seed: int = 11) -> None:
        self.upstream_port = upstream_port
        self.cut_rate = cut_rate
        self.rng = random.Random(seed)
        self.faults: Counter[str] = Counter()
        self.port = 0

    def _choose(self) -> str:
        if self.rng.random() >= self.cut_rate:
            return PASS
        return self.rng.choice((ANSWER_LOST, CUT_WHILE_WORKING))

    async def _connection(
        self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter
    ) -> None:
        fault = self._choose()
        self.faults[fault] += 1
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(
                "127.0.0.1", self.upstream_port
            )
        except OSError:
            _reset(client_writer)
            return
        if fault == PASS:
            # Until one side is done: the client closes once it has read the answer.
            pipes = [
                asyncio.ensure_future(_pipe(client_reader, upstream_writer)),
                asyncio.ensure_future(_pipe(upstream_reader, client_writer)),
            ]
            try:
                await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for pipe in pipes:
                    pipe.cancel()
                client_writer.close()
                upstream_writer.close()
            return
        try:
            await _forward_request(client_reader, upstream_writer)
            if fault == ANSWER_LOST:
                await upstream_reader.read(1)  # the gateway has answered: the write is done
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            _reset(client_writer)
            _reset(upstream_writer)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[str]:
        connections: set[asyncio.Task[None]] = set()

        def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.ensure_future(self._connection(reader, writer))
            connections.add(task)
            task.add_done_callback(connections.discard)

        server = await asyncio.start_server(accept, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        try:
            yield f"http://127.0.0.1:{self.port}"
        finally:
            server.close()
            for task in list(connections):
                task.cancel()
            await asyncio.gather(*connections, return_exceptions=True)
            await server.wait_closed()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except OSError:
        _reset(writer)


async def _forward_request(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """One HTTP/1.1 request with a Content-Length body, passed on whole."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    writer.write(head + await reader.readexactly(length))
    await writer.drain()


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP reset (SO_LINGER 0), the way a dropped network looks to a peer."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.close()
