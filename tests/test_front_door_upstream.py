"""The front door's lean HTTP/1.1 client (``web/upstream.py``) against a real uvicorn server:
small answers whole, large and chunked ones streamed, bodies relayed untouched (gzip stays gzip),
no-body answers, kept connections reused and a connection the server closed retried once, and
a decoded CR/LF in a path never reaching the request line."""

from __future__ import annotations

import asyncio
import gzip
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn

from hefa.web.upstream import ONE_PIECE, Upstream, UpstreamError, request_target

BIG = b"x" * (ONE_PIECE + 12345)
ZIPPED = gzip.compress(b'{"ok": true}' * 200)
SEEN: list[dict[str, Any]] = []


async def _app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    SEEN.append({"path": scope["path"], "raw_path": scope.get("raw_path"), "query": scope["query_string"],
                 "headers": dict(scope["headers"]), "body": body, "method": scope["method"]})
    path = scope["path"]
    if path == "/big":
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", str(len(BIG)).encode())]})
        await send({"type": "http.response.body", "body": BIG})
    elif path == "/chunked":  # no Content-Length: uvicorn sends it chunked
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for piece in (b"one,", b"two,", b"three"):
            await send({"type": "http.response.body", "body": piece, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
    elif path == "/zipped":
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-encoding", b"gzip"), (b"content-length", str(len(ZIPPED)).encode())]})
        await send({"type": "http.response.body", "body": ZIPPED})
    elif path == "/empty":
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})
    else:
        answer = b'{"echo": %d}' % len(body)
        await send({"type": "http.response.start", "status": 201,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(answer)).encode())]})
        await send({"type": "http.response.body", "body": answer})


@pytest.fixture(scope="module")
def server() -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(_app, host="127.0.0.1", port=port, log_level="warning", access_log=False,
                            timeout_keep_alive=1, lifespan="off")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        assert time.monotonic() < deadline, "test server did not start"
        time.sleep(0.02)
    yield port
    srv.should_exit = True
    thread.join(timeout=10)


async def _read(answer: Any) -> bytes:
    if answer.rest is None:
        return answer.body
    return b"".join([piece async for piece in answer.rest])


def test_small_large_chunked_zipped_and_empty_answers(server: int) -> None:
    async def go() -> None:
        up = Upstream("127.0.0.1", server)
        try:
            small = await up.request("POST", b"/api/x/filter?limit=5", [(b"accept", b"*/*")], b'{"a": 1}')
            assert (small.status, small.body, small.rest) == (201, b'{"echo": 8}', None)
            seen = SEEN[-1]
            assert seen["query"] == b"limit=5" and seen["body"] == b'{"a": 1}'
            assert seen["headers"][b"content-length"] == b"8"
            assert seen["headers"][b"host"] == f"127.0.0.1:{server}".encode()
            big = await up.request("GET", b"/big", [], b"")
            assert big.rest is not None and await _read(big) == BIG
            chunked = await up.request("GET", b"/chunked", [], b"")
            assert chunked.rest is not None and await _read(chunked) == b"one,two,three"
            zipped = await up.request("GET", b"/zipped", [], b"")
            assert zipped.body == ZIPPED and (b"content-encoding", b"gzip") in zipped.headers
            empty = await up.request("GET", b"/empty", [], b"")
            assert (empty.status, empty.body) == (204, b"")
            head = await up.request("HEAD", b"/big", [], b"")
            assert head.status == 200 and head.body == b"" and head.rest is None
            assert len(up._idle) == 1  # every answer read to its end: one kept connection served them all
        finally:
            await up.close()

    asyncio.run(go())


def test_a_kept_connection_the_server_closed_is_retried_once(server: int) -> None:
    async def go() -> None:
        up = Upstream("127.0.0.1", server)
        try:
            assert (await up.request("GET", b"/a", [], b"")).status == 201
            kept = up._idle[0]
            await asyncio.sleep(1.6)  # the server's keep-alive (1 s) ends the idle connection
            kept.usable = lambda: True  # type: ignore[method-assign]  # as if its end had not been seen yet
            before = len(SEEN)
            again = await up.request("POST", b"/b", [], b"{}")
            assert again.status == 201 and up._idle and up._idle[0] is not kept
            assert [s["path"] for s in SEEN[before:]] == ["/b"]  # sent once to the server, on a new connection
        finally:
            await up.close()

    asyncio.run(go())


def test_no_server_is_a_clear_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    async def go() -> None:
        with pytest.raises(UpstreamError, match="Prefect"):
            await Upstream("127.0.0.1", port, timeout=5).request("GET", b"/api/health", [], b"")

    asyncio.run(go())


def test_the_request_line_carries_exactly_the_checked_path(server: int) -> None:
    target = request_target("/api/flows/name/a b\r\nx-evil: 1", b"q=%0d%0a")
    assert b"\r" not in target and b"\n" not in target and b" " not in target
    with pytest.raises(ValueError):
        request_target("/api/flows/filter", b"a=1 HTTP/1.1\r\nx: y")

    async def go() -> None:
        up = Upstream("127.0.0.1", server)
        try:
            await up.request("GET", target, [], b"")
        finally:
            await up.close()

    asyncio.run(go())
    seen = SEEN[-1]
    assert seen["path"] == "/api/flows/name/a b\r\nx-evil: 1" and b"x-evil" not in seen["headers"]
