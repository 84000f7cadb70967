"""What kind of installation a database is (演练或正式), and its chain key (审计链密钥).

**Drills.** A frozen date (``HEFA_TODAY``) is honoured only by an installation created as a
drill (``hefa init --drill``, the ``installation`` row). Read once per database per process:
an installation never changes kind.

**The chain key.** An HMAC key kept outside the database — ``$HEFA_HOME/chain.key`` (0600) or
the file ``HEFA_CHAIN_KEY_FILE`` names — keys every audit event from the one it names on
(``from_seq``), so that someone who can write the database but has not the key cannot append or
rewrite an event with a recomputed hash. The file says which chain it belongs to (the hash of
the chain's first event: a copy of the home folder or a restored backup keeps it, another
database does not), and from which event it keys; the installation row repeats ``from_seq`` so
that a key that went missing is noticed. Standard library and
``review/`` only.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, inspect, text

from hefa.review.config import settings
from hefa.review.errors import ConfigurationError

_drills: dict[str, bool] = {}


def forget() -> None:
    """Forget what was read (tests, after the environment changed)."""
    _drills.clear()


def _installation_row(connection: Connection) -> tuple[bool, int | None] | None:
    if not inspect(connection).has_table("installation"):
        return None
    row = connection.execute(text("SELECT drill, chain_keyed_from FROM installation WHERE id = 1")).first()
    return None if row is None else (bool(row[0]), row[1])


def is_drill(connection: Connection | None = None) -> bool:
    """Whether the configured database is a drill installation (cached per database)."""
    url = settings().database
    if url in _drills:
        return _drills[url]
    if connection is None:
        from hefa.review.records.db import engine

        with engine().connect() as conn:
            row = _installation_row(conn)
    else:
        row = _installation_row(connection)
    _drills[url] = bool(row and row[0])
    return _drills[url]


def mark_drill(drill: bool) -> None:
    """Remember the kind of an installation being created in this process (``hefa init``)."""
    _drills[settings().database] = drill


def keyed_from(connection: Connection) -> int | None:
    """The first keyed event, as the installation row records it (None: not keyed)."""
    row = _installation_row(connection)
    return row[1] if row else None


# --- the chain key -------------------------------------------------------------------------------

@dataclass(frozen=True)
class ChainKey:
    """The HMAC key of the audit chain and the first event it keys."""

    key: bytes
    from_seq: int
    first_event: str  # the hash of the chain's first event: which chain the key belongs to
    path: Path


def key_path() -> Path:
    """``HEFA_CHAIN_KEY_FILE``, or ``chain.key`` in the home folder."""
    named = os.environ.get("HEFA_CHAIN_KEY_FILE")
    return Path(named).expanduser() if named else settings().home / "chain.key"


def _first_event(connection: Connection) -> str | None:
    return connection.execute(text("SELECT hash FROM auditevent WHERE seq = 1")).scalar()


def chain_key(connection: Connection) -> ChainKey | None:
    """The chain key of this database's chain, or None when the chain is not keyed. A keyed
    chain whose key file is missing, or a key file made for another chain, is refused (one line),
    never used or ignored: writing, verifying and keying again all stop there."""
    path = key_path()
    if not path.exists():
        keyed = keyed_from(connection)
        if keyed is not None:
            raise ConfigurationError(f"审计链自第 {keyed} 号事件起已加密钥，但找不到密钥文件 {path}；请从备份恢复"
                                     " / the chain is keyed but its key file is missing: restore it from a backup")
        return None
    try:
        data = json.loads(path.read_text("utf-8"))
        key = ChainKey(bytes.fromhex(data["key"]), int(data["from_seq"]), str(data["first_event"]), path)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigurationError(f"审计链密钥文件 {path} 无法读取 / unreadable chain key file ({exc})") from exc
    first = _first_event(connection)
    if first is not None and first != key.first_event:
        raise ConfigurationError(f"审计链密钥文件 {path} 属于另一条审计链（另一个数据库） / the chain key file"
                                 " belongs to another chain (another database)")
    return key


def create_chain_key(connection: Connection, from_seq: int) -> ChainKey:
    """Write a new chain key (0600) keying events from ``from_seq`` on (``hefa init``); the
    chain must have its first event already."""
    first = _first_event(connection)
    assert first is not None, "a chain key belongs to a chain with a first event"
    path = key_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {"key": secrets.token_bytes(32).hex(), "from_seq": from_seq, "first_event": first}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(body, f)
    return ChainKey(bytes.fromhex(body["key"]), from_seq, first, path)
