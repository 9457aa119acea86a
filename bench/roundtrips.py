"""Counting the round trips a process makes to PostgreSQL: a TCP proxy on 127.0.0.1 that
reads the frontend protocol (what the client sends) and counts each message after which
the client waits for the server. Standard library only.

A round trip is counted for each

- Sync ('S'): the end of an extended-protocol exchange (Bind/Execute, executemany's batch);
- simple Query ('Q'): BEGIN, COMMIT, a statement without parameters, COPY;
- Flush ('H'): asyncpg prepares a statement with Parse/Describe/Flush and waits for the
  description before it binds, so a statement seen for the first time costs two round trips
  and one found in the statement cache one. Counted apart, so it can be told from the rest.

COPY data ('d', 'c', 'f') is part of the COPY's Query, not a round trip of its own. The
startup (SSLRequest/GSSENCRequest, the startup message, authentication) is not counted.
When the server accepts encryption ('S' or 'G'), the rest of that connection is passed
through unread and not counted (`Counts.opaque`): connect without SSL to count.

    proxy = CountingProxy(Upstream.from_url(server_url), record_sql=True)
    await proxy.start()                    # proxy.port: where to point the client
    before = proxy.snapshot()
    ...                                    # the client's work
    spent = proxy.snapshot() - before      # spent.total, spent.per_connection
    for trip in proxy.trips_since(before): # with record_sql: what each round trip sent
        print(trip.line())
    await proxy.stop()
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

# Codes of the 8-byte packets a client may send before its startup message.
SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104
CANCEL_REQUEST = 80877102
# The longest message read whole; the protocol allows more (a huge Bind), which is then
# relayed without being decoded.
_DECODE_LIMIT = 64 * 1024 * 1024


@dataclass(frozen=True)
class Upstream:
    """Where the real server listens: a Unix socket path, or a TCP host and port."""

    host: str = "127.0.0.1"
    port: int = 5432
    socket_path: Path | None = None

    @classmethod
    def from_url(cls, url: str) -> Upstream:
        """From a PostgreSQL URL: `postgresql://user@host:port/db` or, as the embedded
        server's, `postgresql://user:@/db?host=/socket/dir` (the socket is
        `<dir>/.s.PGSQL.<port>`, port 5432 unless the URL gives one)."""
        parts = urlsplit(url)
        host = parse_qs(parts.query).get("host", [parts.hostname or "127.0.0.1"])[0]
        host = unquote(host)
        port = parts.port or 5432
        if host.startswith("/"):
            path = Path(host) / f".s.PGSQL.{port}"
            if not path.exists():  # the URL has no port and the server is not on 5432
                found = [p for p in Path(host).glob(".s.PGSQL.*") if p.suffix != ".lock"]
                if len(found) == 1:
                    path = found[0]
            return cls(socket_path=path)
        return cls(host=host, port=port)

    async def open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self.socket_path is not None:
            return await asyncio.open_unix_connection(str(self.socket_path))
        return await asyncio.open_connection(self.host, self.port)


@dataclass
class Counts:
    """One client connection's round trips, by the message that ended each."""

    syncs: int = 0
    queries: int = 0
    flushes: int = 0
    opaque: bool = False  # encrypted: not counted from then on

    @property
    def total(self) -> int:
        return self.syncs + self.queries + self.flushes


@dataclass(frozen=True)
class Snapshot:
    """The counters at one moment; `later - earlier` is what was spent in between."""

    per_connection: Mapping[int, int]
    log_position: int = 0

    @property
    def total(self) -> int:
        return sum(self.per_connection.values())

    def __sub__(self, earlier: Snapshot) -> Snapshot:
        spent = {
            number: count - earlier.per_connection.get(number, 0)
            for number, count in self.per_connection.items()
        }
        return Snapshot(
            {number: count for number, count in spent.items() if count},
            self.log_position - earlier.log_position,
        )


@dataclass(frozen=True)
class RoundTrip:
    """What one round trip sent (recorded with `record_sql`): messages such as
    'parse <sql>', 'bind <sql>', 'query <sql>', then the one that ended it."""

    connection: int
    ended_by: str  # 'sync', 'query' or 'flush'
    messages: tuple[str, ...]

    def line(self) -> str:
        return f"[conn {self.connection}] " + " | ".join(self.messages)

    @property
    def statements(self) -> list[str]:
        """The SQL this round trip prepared, ran or sent as a simple query."""
        return [m.split(" ", 1)[1] for m in self.messages if " " in m]


@dataclass
class _Connection:
    number: int
    counts: Counts = field(default_factory=Counts)
    statements: dict[str, str] = field(default_factory=dict)  # prepared name -> SQL
    pending: list[str] = field(default_factory=list)


class CountingProxy:
    """Listens on 127.0.0.1 (a free port unless given) and relays each connection to
    `upstream`, counting the client's round trips. `record_sql` also keeps, per round trip,
    the text of what was sent (Parse, Bind of a prepared statement, Query)."""

    def __init__(self, upstream: Upstream, *, port: int = 0, record_sql: bool = False) -> None:
        self.upstream = upstream
        self.record_sql = record_sql
        self.trips: list[RoundTrip] = []
        self._port = port
        self._connections: dict[int, _Connection] = {}
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    # -- life ------------------------------------------------------------------------------

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self._port)
        self._port = self._server.sockets[0].getsockname()[1]
        return self._port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def __aenter__(self) -> CountingProxy:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        return self._port

    def url(self, database: str, user: str = "postgres", password: str = "") -> str:
        """An asyncpg URL through the proxy."""
        return f"postgresql+asyncpg://{user}:{password}@127.0.0.1:{self.port}/{database}"

    # -- reading the counters ----------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        return Snapshot({n: c.counts.total for n, c in self._connections.items()}, len(self.trips))

    def counts(self) -> dict[int, Counts]:
        """Each connection's counters (copies), by connection number (1, 2, ... in order of
        arrival)."""
        return {
            n: Counts(c.counts.syncs, c.counts.queries, c.counts.flushes, c.counts.opaque)
            for n, c in self._connections.items()
        }

    def trips_since(self, snapshot: Snapshot) -> list[RoundTrip]:
        """The round trips recorded after `snapshot` (empty without `record_sql`)."""
        return self.trips[snapshot.log_position :]

    # -- relaying ----------------------------------------------------------------------------

    async def _serve(
        self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        connection = _Connection(len(self._connections) + 1)
        self._connections[connection.number] = connection
        server_out: asyncio.StreamWriter | None = None
        try:
            server_in, server_out = await self.upstream.open()
            counting = await self._startup(connection, client_in, client_out, server_in, server_out)
            back = asyncio.ensure_future(_pipe(server_in, client_out))
            try:
                if counting:
                    await self._relay_counting(connection, client_in, server_out)
                else:
                    await _pipe(client_in, server_out)
            finally:
                back.cancel()
                await asyncio.gather(back, return_exceptions=True)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            for writer in (client_out, server_out):
                if writer is not None:
                    writer.close()
            self._tasks.discard(task)

    async def _startup(
        self,
        connection: _Connection,
        client_in: asyncio.StreamReader,
        client_out: asyncio.StreamWriter,
        server_in: asyncio.StreamReader,
        server_out: asyncio.StreamWriter,
    ) -> bool:
        """Relay the packets before the startup message and the startup message itself;
        False when the rest is not to be read (encrypted, or a cancel request)."""
        while True:
            head = await client_in.readexactly(8)
            length, code = struct.unpack("!ii", head)
            if length == 8 and code in (SSL_REQUEST, GSSENC_REQUEST):
                server_out.write(head)
                await server_out.drain()
                answer = await server_in.readexactly(1)
                client_out.write(answer)
                await client_out.drain()
                if answer in (b"S", b"G"):
                    connection.counts.opaque = True
                    return False
                if answer != b"N":  # an error message from an old server: pass it on as is
                    return False
                continue
            rest = await client_in.readexactly(length - 8)
            server_out.write(head + rest)
            await server_out.drain()
            return code != CANCEL_REQUEST

    async def _relay_counting(
        self, connection: _Connection, client_in: asyncio.StreamReader, out: asyncio.StreamWriter
    ) -> None:
        counts = connection.counts
        while True:
            head = await client_in.readexactly(5)
            kind = head[:1]
            length = struct.unpack("!i", head[1:])[0]
            if length - 4 > _DECODE_LIMIT:
                out.write(head)
                await _copy_exactly(client_in, out, length - 4)
                continue
            body = await client_in.readexactly(length - 4)
            out.write(head + body)
            if self.record_sql:
                self._record(connection, kind, body)
            if kind == b"S":
                counts.syncs += 1
                self._end_trip(connection, "sync")
            elif kind == b"Q":
                counts.queries += 1
                self._end_trip(connection, "query")
            elif kind == b"H":
                counts.flushes += 1
                self._end_trip(connection, "flush")
            elif kind == b"X":  # Terminate
                await out.drain()
                return
            await out.drain()

    def _record(self, connection: _Connection, kind: bytes, body: bytes) -> None:
        if kind == b"P":  # Parse: name, query, parameter types
            name, sql = _cstrings(body, 2)
            connection.statements[name] = sql
            connection.pending.append(f"parse {_one_line(sql)}")
        elif kind == b"B":  # Bind: portal, statement, ...
            _portal, name = _cstrings(body, 2)
            sql = connection.statements.get(name, f"<statement {name!r}>")
            connection.pending.append(f"bind {_one_line(sql)}")
        elif kind == b"Q":
            (sql,) = _cstrings(body, 1)
            connection.pending.append(f"query {_one_line(sql)}")
        elif kind == b"C":  # Close a statement or portal
            target, (name,) = body[:1], _cstrings(body[1:], 1)
            if target == b"S":
                connection.statements.pop(name, None)
            connection.pending.append(f"close{target.decode()}")
        elif kind in (b"D", b"E"):
            connection.pending.append({b"D": "describe", b"E": "execute"}[kind])
        # COPY data ('d', 'c', 'f') belongs to the COPY query before it: not recorded.

    def _end_trip(self, connection: _Connection, ended_by: str) -> None:
        if not self.record_sql:
            return
        # A Query's own text is its message; a Sync or Flush ends what came before it.
        ending = () if ended_by == "query" else (ended_by,)
        self.trips.append(RoundTrip(connection.number, ended_by, (*connection.pending, *ending)))
        connection.pending = []


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        while chunk := await source.read(65536):
            sink.write(chunk)
            await sink.drain()
    with contextlib.suppress(ConnectionError, RuntimeError):
        if sink.can_write_eof():
            sink.write_eof()


async def _copy_exactly(
    source: asyncio.StreamReader, sink: asyncio.StreamWriter, size: int
) -> None:
    while size:
        chunk = await source.read(min(size, 65536))
        if not chunk:
            raise asyncio.IncompleteReadError(b"", size)
        sink.write(chunk)
        await sink.drain()
        size -= len(chunk)


def _cstrings(body: bytes, count: int) -> list[str]:
    """The first `count` NUL-terminated strings of a message body."""
    found, start = [], 0
    for _ in range(count):
        end = body.index(b"\0", start)
        found.append(body[start:end].decode(errors="replace"))
        start = end + 1
    return found


def _one_line(sql: str) -> str:
    return " ".join(sql.split())
