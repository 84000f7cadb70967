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


def ensure_home() -> Path:
    """The data directory, created readable by its owner only (0700) when it is new."""
    home = hefa_home()
    if not home.exists():
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(home, 0o700)
    return home


def private_file(path: Path) -> Path:
    """Create ``path`` empty with mode 0600 unless it exists (databases, logs): under any
    umask, what hefa writes is readable by the installation's own user only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
    return path
