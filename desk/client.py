"""Asking the desk of a running ``hefa serve`` (standard library only).

The CLI sends steps; a matter's flow sends its ``review/`` work. When no desk
answers, the caller does the work in its own process. A desk serving another
database or clock answers ``desk-mismatch`` (``desk/handshake.py``): a CLI step is
then refused with one line, never run here with other settings; a flow's work is
done in its own process, as before.
"""

from __future__ import annotations

import base64
import json
import socket
from typing import Any

from hefa.desk.handshake import MISMATCH, caller_context
from hefa.review.paths import desk_socket
from hefa.review.people.identity import Credentials

DESK_GONE = "desk-gone"  # the code of an answer the desk never finished giving


def call(request: dict[str, Any], timeout: float = 120.0) -> dict[str, Any] | None:
    """Send one request; the desk's answer, or None when no desk can answer it.

    A desk that goes away after taking the request (``hefa serve`` restarted or killed:
    the connection reset, the pipe broken, the answer cut short) is answered with
    ``{"code": "desk-gone"}``: the caller may do the work itself, under the same
    request id, so that a step the desk did record is not recorded twice.
    """
    path = desk_socket()
    if not path.exists():
        return None
    request = request | {"context": caller_context()}
    body = json.dumps(request, ensure_ascii=False).encode("utf-8", "surrogateescape") + b"\n"
    chunks: list[bytes] = []
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect(str(path))
        except (ConnectionRefusedError, FileNotFoundError):
            return None  # a stale socket file: no desk behind it
        except OSError:
            return None  # the desk is not there to take the request
        try:
            sock.sendall(body)
            while not chunks or not chunks[-1].endswith(b"\n"):
                chunk = sock.recv(1 << 16)
                if not chunk:
                    break
                chunks.append(chunk)
        except OSError as exc:  # reset, broken pipe, timed out: the desk went away mid-request
            return _gone(type(exc).__name__)
    if not chunks or not chunks[-1].endswith(b"\n"):
        return _gone("answer cut short")
    try:
        answer = json.loads(b"".join(chunks))
    except ValueError:
        return _gone("unreadable answer")
    return answer


def _gone(why: str) -> dict[str, Any]:
    return {"accepted": False, "code": DESK_GONE,
            "reason": f"办事窗口（hefa serve）中途断开（{why}） / the desk went away mid-request ({why})"}


def ask_step(action: str, creds: Credentials, kwargs: dict[str, Any]) -> dict[str, Any] | None:
    """A person's step (CLI): the desk's answer, None when no desk answers, or a
    ``desk-gone`` answer when it went away mid-request (see ``call``)."""
    payload = dict(kwargs)
    if isinstance(payload.get("data"), bytes):
        payload["data_b64"] = base64.b64encode(payload.pop("data")).decode("ascii")
    return call({"action": action, "kwargs": payload,
                 "credentials": {"name": creds.name, "token": creds.token, "code": creds.code}})


def ask_flow(work: str, **kwargs: Any) -> dict[str, Any] | None:
    """A flow's ``review/`` work (``desk/flow_work.py``): the desk's answer, or None — no
    desk, a desk gone mid-request, or a desk that failed at the work (``code: desk``, e.g.
    its database stayed locked): the flow then does the work itself (it is idempotent), so
    that the flow sees the work's own result or error, never an error answer in its place."""
    answer = call({"flow_work": work, "kwargs": kwargs})
    return None if answer is not None and answer.get("code") in (DESK_GONE, "desk", MISMATCH) else answer
