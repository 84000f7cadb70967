"""Where hefa keeps its files. Standard library only: the CLI's fast path imports it."""

from __future__ import annotations

import os
from pathlib import Path


def hefa_home() -> Path:
    """The data directory: ``HEFA_HOME`` or ``~/.hefa``."""
    return Path(os.environ.get("HEFA_HOME") or Path.home() / ".hefa").expanduser()


def desk_socket() -> Path:
    """The local socket on which a running ``hefa serve`` answers steps (mode 0600)."""
    return hefa_home() / "run" / "desk.sock"
