"""The CLI's side of the desk: send a step to a running ``hefa serve`` (standard library only)."""

from __future__ import annotations

import base64
import json
import os
import socket
from typing import Any

from hefa.review.identity import Credentials
from hefa.review.paths import desk_socket


def ask_desk(action: str, creds: Credentials, kwargs: dict[str, Any]) -> dict[str, Any] | None:
    """The desk's answer, or None when no desk is running (the caller then works in-process)."""
    path = desk_socket()
    if not path.exists():
        return None
    payload = dict(kwargs)
    if isinstance(payload.get("data"), bytes):
        payload["data_b64"] = base64.b64encode(payload.pop("data")).decode("ascii")
    context = {name: os.environ.get(name) for name in ("HEFA_DATABASE_URL", "HEFA_TODAY")}
    request = {"action": action, "kwargs": payload, "context": context,
               "credentials": {"name": creds.name, "token": creds.token, "code": creds.code}}
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(120)
            sock.connect(str(path))
            sock.sendall(json.dumps(request, ensure_ascii=False).encode() + b"\n")
            chunks = []
            while not chunks or not chunks[-1].endswith(b"\n"):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
    except (ConnectionRefusedError, FileNotFoundError):
        return None  # a stale socket file: no desk behind it
    if not chunks:
        return None
    answer = json.loads(b"".join(chunks))
    return None if answer.get("code") == "desk-mismatch" else answer
