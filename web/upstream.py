"""A lean HTTP/1.1 client for the one upstream the front door forwards to: the local Prefect
server (上游：本机 Prefect 服务器).

Why not httpx here: measured on this machine, an ``httpx.AsyncClient`` request cost about
1.3 ms of CPU in the front door and wrote the request line and body in two packets (the
Prefect server then woke twice to read one request); this client costs about 0.15 ms and
sends each request in one write. The UI's flow-run page makes dozens of calls, so that was
most of the front door's share (benchmarks measure 11).

It speaks to one trusted host only: keep-alive connections in a small pool; bodies with a
Content-Length, chunked or ending with the connection; answers of up to ``ONE_PIECE`` bytes
are read whole, larger ones stream. Nothing is decoded or re-encoded: the body's bytes (and its
Content-Encoding) go to the browser as Prefect sent them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import quote

ONE_PIECE = 1 << 20  # answers up to 1 MiB are read whole; larger ones (the UI's scripts) stream
READ_SIZE = 1 << 16
NO_BODY_STATUS = frozenset({204, 304})
_PATH_SAFE = "/:@!$&'()*+,;=-._~"


class UpstreamError(Exception):
    """The Prefect server did not answer (refused, reset, malformed, or too slow)."""


@dataclass
class Answer:
    """Prefect's answer: status, raw headers (names lower-case), and either the whole body
    (``body``) or a stream of its bytes (``rest``; it must be read to the end or closed)."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes = b""
    rest: AsyncIterator[bytes] | None = None


def request_target(path: str, query: bytes) -> bytes:
    """The request target for Prefect: the path the allow list checked, percent-encoded again
    (so Prefect decodes exactly that path; a decoded CR/LF can never reach the request line),
    and the query string as the browser sent it (already checked by the HTTP parser)."""
    target = quote(path, safe=_PATH_SAFE).encode("ascii")
    if query:
        if any(b <= 0x20 or b >= 0x7F for b in query):
            raise ValueError("bad query string")
        target += b"?" + query
    return target


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    def usable(self) -> bool:
        return not self.reader.at_eof() and not self.writer.is_closing()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()


class Upstream:
    """Keep-alive HTTP/1.1 to ``host:port`` (the Prefect server)."""

    def __init__(self, host: str, port: int, *, timeout: float = 30.0, keep: int = 16) -> None:
        self.host, self.port, self.timeout, self.keep = host, port, timeout, keep
        self.host_header = f"{host}:{port}".encode("ascii")
        self._idle: list[_Connection] = []
        self._loop: asyncio.AbstractEventLoop | None = None  # kept connections belong to one event loop

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    async def _connect(self) -> _Connection:
        reader, writer = await asyncio.open_connection(self.host, self.port, limit=READ_SIZE * 4)
        return _Connection(reader, writer)

    def _release(self, conn: _Connection) -> None:
        if len(self._idle) < self.keep and conn.usable():
            self._idle.append(conn)
        else:
            conn.close()

    async def request(self, method: str, target: bytes, headers: list[tuple[bytes, bytes]],
                      body: bytes) -> Answer:
        """Send one request (in one write) and read the answer's head (and a small body)."""
        head = [method.encode("ascii"), b" ", target, b" HTTP/1.1\r\nhost: ", self.host_header, b"\r\n"]
        for name, value in headers:
            head += [name, b": ", value, b"\r\n"]
        if body or method not in ("GET", "HEAD", "OPTIONS", "DELETE"):
            head += [b"content-length: ", str(len(body)).encode("ascii"), b"\r\n"]
        message = b"".join(head) + b"\r\n" + body
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a new event loop (a test client's): the old connections cannot serve it
            self._idle, self._loop = [], loop
        for attempt in (0, 1):
            conn, reused = None, False
            while self._idle and conn is None:
                candidate = self._idle.pop()
                if candidate.usable():
                    conn, reused = candidate, True
                else:
                    candidate.close()
            try:
                async with asyncio.timeout(self.timeout):
                    if conn is None:
                        conn = await self._connect()
                    conn.writer.write(message)
                    return await self._answer(conn, method)
            except _Stale:
                if conn is not None:
                    conn.close()
                if reused and attempt == 0:  # a kept connection the server had closed: once more
                    continue
                raise UpstreamError("Prefect 服务器断开了连接 / the Prefect server closed the connection") from None
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError,
                    TimeoutError) as exc:
                if conn is not None:
                    conn.close()
                raise UpstreamError(f"Prefect 服务器无应答 / the Prefect server did not answer: {exc!r}") from exc
            except BaseException:
                if conn is not None:
                    conn.close()
                raise
        raise UpstreamError("Prefect 服务器无应答 / the Prefect server did not answer")

    async def _answer(self, conn: _Connection, method: str) -> Answer:
        reader = conn.reader
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except ConnectionResetError as exc:
            raise _Stale from exc
        except asyncio.IncompleteReadError as exc:
            if not exc.partial:  # nothing came back: the request was not taken
                raise _Stale from exc
            raise
        status, headers = _parse_head(head)
        while 100 <= status < 200 and status != 101:  # an interim answer (100 Continue) is skipped
            status, headers = _parse_head(await reader.readuntil(b"\r\n\r\n"))
        length: int | None = None
        chunked, keep = False, True
        for name, value in headers:
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif name == b"connection" and b"close" in value.lower():
                keep = False
        if method == "HEAD" or status in NO_BODY_STATUS or status == 101:
            self._done(conn, keep and status != 101)
            return Answer(status, headers)
        if chunked:
            return Answer(status, headers, rest=self._chunks(conn, keep))
        if length is None:  # the body ends with the connection
            return Answer(status, headers, rest=self._until_closed(conn))
        if length <= ONE_PIECE:
            body = await reader.readexactly(length)
            self._done(conn, keep)
            return Answer(status, headers, body)
        return Answer(status, headers, rest=self._exactly(conn, length, keep))

    def _done(self, conn: _Connection, keep: bool) -> None:
        if keep:
            self._release(conn)
        else:
            conn.close()

    async def _exactly(self, conn: _Connection, length: int, keep: bool) -> AsyncIterator[bytes]:
        finished = False
        try:
            left = length
            while left:
                async with asyncio.timeout(self.timeout):
                    piece = await conn.reader.read(min(left, READ_SIZE))
                if not piece:
                    raise UpstreamError("Prefect 的应答不完整 / the Prefect server's answer was cut short")
                left -= len(piece)
                yield piece
            finished = True
        finally:
            self._done(conn, keep and finished)

    async def _chunks(self, conn: _Connection, keep: bool) -> AsyncIterator[bytes]:
        finished = False
        reader = conn.reader
        try:
            while True:
                size_line = await asyncio.wait_for(reader.readuntil(b"\r\n"), self.timeout)
                size = int(size_line.split(b";", 1)[0].strip(), 16)
                if size == 0:
                    while await asyncio.wait_for(reader.readuntil(b"\r\n"), self.timeout) != b"\r\n":
                        pass  # trailers are dropped
                    break
                data = await asyncio.wait_for(reader.readexactly(size + 2), self.timeout)
                yield data[:-2]
            finished = True
        finally:
            self._done(conn, keep and finished)

    async def _until_closed(self, conn: _Connection) -> AsyncIterator[bytes]:
        try:
            while piece := await asyncio.wait_for(conn.reader.read(READ_SIZE), self.timeout):
                yield piece
        finally:
            conn.close()


def _parse_head(head: bytes) -> tuple[int, list[tuple[bytes, bytes]]]:
    """The status and the headers (names lower-case) of an answer's head."""
    lines = head[:-4].split(b"\r\n")
    parts = lines[0].split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
        raise ValueError(f"bad status line {lines[0][:80]!r}")
    headers = []
    for line in lines[1:]:
        name, sep, value = line.partition(b":")
        if not sep:
            raise ValueError(f"bad header line {line[:80]!r}")
        headers.append((name.strip().lower(), value.strip()))
    return int(parts[1]), headers


class _Stale(Exception):
    """A kept connection the server had already closed (no byte of an answer came back)."""
