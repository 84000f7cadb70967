"""The content-addressed store (文档库): every submitted, revised or generated file is
kept once under ``$HEFA_HOME/blobs/<sha256[:2]>/<sha256>``, named by its hash."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from hefa.review.config import settings


def blob_root() -> Path:
    return settings().home / "blobs"


def blob_path(sha256: str) -> Path:
    return blob_root() / sha256[:2] / sha256


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def store(data: bytes) -> tuple[str, bool]:
    """Store bytes; return (sha256, created). Written to a temporary file and
    renamed, so a reader never sees half a file."""
    digest = sha256_of(data)
    path = blob_path(digest)
    if path.exists():
        return digest, False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return digest, True


def discard(sha256: str) -> None:
    """Remove a blob this transaction created, when the transaction is rolled back."""
    blob_path(sha256).unlink(missing_ok=True)


def read(sha256: str) -> bytes:
    return blob_path(sha256).read_bytes()
