"""Asking the desk of a running ``hefa serve`` (standard library only).

The CLI sends steps; a matter's flow sends its ``review/`` work. When no desk
answers — none running, or one serving another database or clock — the caller
does the work in its own process.
"""

from __future__ import annotations

import base64
import json
import os
import socket
from typing import Any

from hefa.review.paths import desk_socket
from hefa.review.people.identity import Credentials

CONTEXT_VARIABLES = ("HEFA_DATABASE_URL", "HEFA_TODAY")


def call(request: dict[str, Any], timeout: float = 120.0) -> dict[str, Any] | None:
    """Send one request; the desk's answer, or None when no desk can answer it."""
    path = desk_socket()
    if not path.exists():
        return None
    request = request | {"context": {name: os.environ.get(name) for name in CONTEXT_VARIABLES}}
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(str(path))
            sock.sendall(json.dumps(request, ensure_ascii=False).encode() + b"\n")
            chunks: list[bytes] = []
            while not chunks or not chunks[-1].endswith(b"\n"):
                chunk = sock.recv(1 << 16)
                if not chunk:
                    break
                chunks.append(chunk)
    except (ConnectionRefusedError, FileNotFoundError):
        return None  # a stale socket file: no desk behind it
    if not chunks:
        return None
    answer = json.loads(b"".join(chunks))
    return None if answer.get("code") == "desk-mismatch" else answer


def ask_step(action: str, creds: Credentials, kwargs: dict[str, Any]) -> dict[str, Any] | None:
    """A person's step (CLI): the desk's answer, or None."""
    payload = dict(kwargs)
    if isinstance(payload.get("data"), bytes):
        payload["data_b64"] = base64.b64encode(payload.pop("data")).decode("ascii")
    return call({"action": action, "kwargs": payload,
                 "credentials": {"name": creds.name, "token": creds.token, "code": creds.code}})


def ask_flow(work: str, **kwargs: Any) -> dict[str, Any] | None:
    """A flow's ``review/`` work (``flows/flow_work.py``): the desk's answer, or None."""
    return call({"flow_work": work, "kwargs": kwargs})
