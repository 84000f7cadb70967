"""The audit chain (审计链): append and verify, nothing else.

Each event's hash covers every field of the event and the previous event's
hash, so changing any field of any event, removing one or reordering them is
found by ``verify``. A consistently rewritten or truncated chain is found by
``verify`` against anchors (``SEQ:HASH``) printed earlier on paper: every
generated document carries the chain head at the time it was written.

``append`` must be called inside ``db.write_transaction()``, which serialises
writers, so two steps can never share a sequence number or fork the chain
(the primary key on ``seq`` and the unique ``prev_hash`` make sure of it).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlmodel import Session

from hefa.review.config import now
from hefa.review.errors import ChainBroken, InvalidInput
from hefa.review.records.models import AuditEvent

GENESIS = "0" * 64
_HASHED_FIELDS = (
    "seq", "at", "officer", "role", "action", "matter_id", "outcome", "reason",
    "doc_sha256", "channel", "payload_digest", "prev_hash",
)


_CANONICAL = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces: the form that is hashed."""
    return _CANONICAL.encode(value)


def _sha256(data: str) -> str:
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


SEPARATOR = "\x1f"  # U+001F UNIT SEPARATOR: never inside a field (``_clean`` replaces control characters)
_CONTROL = {code: "\ufffd" for code in range(32)}


def _clean(text: str) -> str:
    """A field as stored: control characters (the separator among them) become U+FFFD."""
    return text.translate(_CONTROL)


def event_hash(fields: dict[str, Any]) -> str:
    """The hash of one event: sha256 of its twelve hashed fields, as text, joined by U+001F
    (``seq`` in decimal; an event without a matter has ``matter_id`` "")."""
    return _sha256(SEPARATOR.join(map(str, (fields[name] for name in _HASHED_FIELDS))))


def _row_hash(row: tuple[Any, ...]) -> str | None:
    """``event_hash`` of a row read as a tuple in ``_COLUMNS`` order; None when a field holds
    the separator (a stored event never does, so the row was forged)."""
    joined = SEPARATOR.join(map(str, row[:_N_HASHED]))
    if joined.count(SEPARATOR) != _N_HASHED - 1:
        return None
    return _sha256(joined)


@dataclass(frozen=True)
class ChainHead:
    """The last event of the chain: an anchor to print on paper."""

    seq: int
    hash: str

    def __str__(self) -> str:
        return f"{self.seq}:{self.hash}"

    @classmethod
    def parse(cls, anchor: str) -> ChainHead:
        seq, _, digest = anchor.partition(":")
        if not seq.isdigit() or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise InvalidInput(f"锚点格式应为 序号:哈希 / anchor must be SEQ:HASH (64 hex): {anchor!r}")
        return cls(int(seq), digest)


def head(session: Session) -> ChainHead:
    """The current head, or ``0:GENESIS`` for an empty chain."""
    row = session.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)  # type: ignore[attr-defined]
    ).first()
    return ChainHead(row[0], row[1]) if row else ChainHead(0, GENESIS)


def append(
    session: Session,
    *,
    action: str,
    outcome: str,
    officer: str = "",
    role: str = "",
    matter_id: str | None = "",
    reason: str = "",
    doc_sha256: str = "",
    channel: str = "cli",
    payload: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event after the current head, in the caller's write transaction."""
    last = head(session)
    payload_text = canonical_json(payload or {})
    fields: dict[str, Any] = {
        "seq": last.seq + 1,
        "at": now().astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "officer": _clean(officer),
        "role": _clean(role),
        "action": _clean(action),
        "matter_id": _clean(matter_id or ""),
        "outcome": _clean(outcome),
        "reason": _clean(reason),
        "doc_sha256": _clean(doc_sha256),
        "channel": _clean(channel),
        "payload_digest": _sha256(payload_text),
        "prev_hash": last.hash,
    }
    event = AuditEvent(**fields, payload=payload_text, hash=event_hash(fields))
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True)
class VerifyResult:
    count: int
    head: ChainHead


_COLUMNS = ", ".join((*_HASHED_FIELDS, "payload", "hash"))
_N_HASHED = len(_HASHED_FIELDS)
_SEQ, _PREV, _DIGEST, _PAYLOAD, _HASH = 0, _N_HASHED - 1, _N_HASHED - 2, _N_HASHED, _N_HASHED + 1


def _stream(session: Session, batch: int = 5000) -> Iterator[tuple[Any, ...]]:
    """Every event in order, as plain tuples, in bounded batches: a server-side cursor
    on PostgreSQL, SQLite's lazy cursor otherwise (never the whole table in memory)."""
    connection = session.connection()
    dbapi = connection.connection.dbapi_connection
    assert dbapi is not None
    query = f"SELECT {_COLUMNS} FROM auditevent ORDER BY seq"
    if connection.dialect.name == "postgresql":
        cursor = dbapi.cursor(name="hefa_verify")  # type: ignore[call-arg]
        cursor.itersize = batch
    else:
        cursor = dbapi.cursor()
    try:
        cursor.execute(query)
        while rows := cursor.fetchmany(batch):
            yield from rows
    finally:
        cursor.close()


def verify(session: Session, anchors: Iterable[ChainHead] = ()) -> VerifyResult:
    """Recompute the whole chain in bounded memory; raise ``ChainBroken`` naming the
    first event that does not match, or an anchor the chain does not contain."""
    wanted = {a.seq: a.hash for a in anchors}
    forged = session.connection().execute(text("SELECT min(seq) FROM auditevent WHERE seq < 1")).scalar()
    if forged is not None:
        raise ChainBroken(f"审计链被篡改：出现第 {forged} 号事件（序号应从 1 开始）"
                          f" / event {forged} precedes the chain")
    previous = GENESIS
    expected_seq = 1
    count = 0
    last = ChainHead(0, GENESIS)
    seq = 0
    for row in _stream(session):
        seq = row[_SEQ]
        if seq != expected_seq:
            raise ChainBroken(f"审计链断裂：缺少第 {expected_seq} 号事件 / event {expected_seq} is missing")
        if row[_PREV] != previous:
            raise ChainBroken(
                f"审计链断裂：第 {seq} 号事件的前序哈希不符 / event {seq}: prev_hash does not match"
            )
        if _sha256(row[_PAYLOAD]) != row[_DIGEST]:
            raise ChainBroken(
                f"审计链被篡改：第 {seq} 号事件的内容摘要不符 / event {seq}: payload was altered"
            )
        if _row_hash(row) != row[_HASH]:
            raise ChainBroken(
                f"审计链被篡改：第 {seq} 号事件的哈希不符 / event {seq}: hash does not match its fields"
            )
        if seq in wanted and wanted[seq] != row[_HASH]:
            raise ChainBroken(
                f"审计链与锚点不符：第 {seq} 号事件已被改写 / event {seq} differs from anchor {seq}:{wanted[seq]}"
            )
        previous = row[_HASH]
        expected_seq += 1
        count += 1
    if count:
        last = ChainHead(seq, previous)
    missing = sorted(s for s in wanted if s > last.seq)
    if missing:
        raise ChainBroken(
            f"审计链被截断：锚点第 {missing[0]} 号事件已不存在（现链头为第 {last.seq} 号）"
            f" / chain truncated: anchored event {missing[0]} is gone (head is {last.seq})"
        )
    return VerifyResult(count=count, head=last)


def events_for(session: Session, matter_id: str) -> list[AuditEvent]:
    """The trail of one matter, in order."""
    stmt = select(AuditEvent).where(AuditEvent.matter_id == matter_id).order_by(AuditEvent.seq)  # type: ignore[arg-type]
    return list(session.scalars(stmt))
