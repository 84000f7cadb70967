"""The audit chain (审计链): append and verify, nothing else.

Each event's hash covers every field of the event and the previous event's
hash, so changing any field of any event, removing one or reordering them is
found by ``verify``. A consistently rewritten or truncated chain is found by
``verify`` against anchors (``SEQ:HASH``) printed earlier on paper: every
generated document carries the chain head at the time it was written.

``append`` must be called inside ``db.write_transaction()``, which serialises
writers, so two steps can never share a sequence number or fork the chain
(the primary key on ``seq`` and the unique ``prev_hash`` make sure of it).

Since issue 13 an event also carries, in its payload (so under its hash):
- ``_records``: ``[table, id, hash]`` of every domain record its transaction wrote
  (``record_hashes.py``; ``record_hashes.verify_state`` checks the tables against them);
- ``_drill``: true in a drill installation (``hefa init --drill``), so no drill event can
  pass for a real one.
Event time never goes backwards: ``append`` refuses an event older than the head, and
``verify`` checks it. With a chain key (``installation_state.chain_key``: a file outside the
database), events from the key's ``from_seq`` on are hashed with HMAC-SHA256 under that key
instead of plain sha256, so an event forged with a recomputed hash by someone without the key
is found.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlmodel import Session

from hefa.review.config import now
from hefa.review.errors import ChainBroken, ConfigurationError, InvalidInput
from hefa.review.records import installation_state, record_hashes
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


def _digest(joined: str, key: bytes | None) -> str:
    if key is None:
        return _sha256(joined)
    return hmac.new(key, joined.encode("utf-8"), hashlib.sha256).hexdigest()


def event_hash(fields: dict[str, Any], key: bytes | None = None) -> str:
    """The hash of one event: sha256 of its twelve hashed fields, as text, joined by U+001F
    (``seq`` in decimal; an event without a matter has ``matter_id`` ""); HMAC-SHA256 under
    ``key`` for an event of a keyed chain."""
    return _digest(SEPARATOR.join(map(str, (fields[name] for name in _HASHED_FIELDS))), key)


def _row_hash(row: tuple[Any, ...], key: bytes | None = None) -> str | None:
    """``event_hash`` of a row read as a tuple in ``_COLUMNS`` order; None when a field holds
    the separator (a stored event never does, so the row was forged)."""
    joined = SEPARATOR.join(map(str, row[:_N_HASHED]))
    if joined.count(SEPARATOR) != _N_HASHED - 1:
        return None
    return _digest(joined, key)


def _key_for_append(session: Session, seq: int) -> bytes | None:
    """The chain key for a new event ``seq``: None while the chain is not keyed. A keyed
    installation whose key file is missing refuses to write (``chain_key``, one line)."""
    key = installation_state.chain_key(session.connection())
    return key.key if key is not None and seq >= key.from_seq else None


class ClockWentBack(ConfigurationError):
    """An event would be older than the chain's head: time never goes backwards in the chain."""


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
    row = _head_row(session)
    return ChainHead(row[0], row[1]) if row else ChainHead(0, GENESIS)


def _head_row(session: Session) -> tuple[int, str, str] | None:
    row = session.execute(
        select(AuditEvent.seq, AuditEvent.hash, AuditEvent.at)
        .order_by(AuditEvent.seq.desc()).limit(1)  # type: ignore[attr-defined]
    ).first()
    return (row[0], row[1], row[2]) if row else None


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
    real_clock: bool = False,
    records: bool = True,
) -> AuditEvent:
    """Append one event after the current head, in the caller's write transaction: with the
    hashes of the domain records the transaction wrote (``_records``), the drill marker in a
    drill, keyed when the chain is. Refuses (``ClockWentBack``, one line) an event whose time
    would be older than the head's. ``real_clock``: the machine's clock, never a drill's date
    (system events written while the schema is upgraded)."""
    row = _head_row(session)
    last = ChainHead(row[0], row[1]) if row else ChainHead(0, GENESIS)
    moment = dt.datetime.now(dt.UTC) if real_clock else now()
    at = moment.astimezone(dt.UTC).isoformat(timespec="microseconds")
    if row is not None and at < row[2]:
        raise ClockWentBack(f"时间倒退：本事件时间 {at[:19]} 早于上一事件（第 {row[0]} 号，{row[2][:19]}），不予记录"
                            f" / time went backwards: {at[:19]} is before event {row[0]} ({row[2][:19]});"
                            " nothing was recorded")
    body = dict(payload or {})
    if records:
        touched = record_hashes.take_touched(session)
        if touched:
            body[record_hashes.RECORDS_KEY] = touched
    if not real_clock and installation_state.is_drill(session.connection()):
        body["_drill"] = True
    payload_text = canonical_json(body)
    fields: dict[str, Any] = {
        "seq": last.seq + 1,
        "at": at,
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
    event = AuditEvent(**fields, payload=payload_text, hash=event_hash(fields, _key_for_append(session, last.seq + 1)))
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True)
class VerifyResult:
    count: int
    head: ChainHead


_COLUMNS = ", ".join((*_HASHED_FIELDS, "payload", "hash"))
_N_HASHED = len(_HASHED_FIELDS)
_SEQ, _AT, _PREV, _DIGEST, _PAYLOAD, _HASH = 0, 1, _N_HASHED - 1, _N_HASHED - 2, _N_HASHED, _N_HASHED + 1


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


def _verify_key(session: Session) -> tuple[bytes | None, int]:
    """The chain key and its first keyed event, for verifying; a keyed installation whose
    key file is missing cannot be verified (``ChainBroken``, one line)."""
    try:
        key = installation_state.chain_key(session.connection())
    except ConfigurationError as exc:
        raise ChainBroken(str(exc)) from exc
    if key is None:
        return None, 0
    recorded = installation_state.keyed_from(session.connection())
    if recorded is not None and recorded != key.from_seq:
        raise ChainBroken(f"安装记录称密钥自第 {recorded} 号事件起，密钥文件称自第 {key.from_seq} 号起：安装记录被改动"
                          f" / the installation says keyed from {recorded}, the key file from {key.from_seq}")
    return key.key, key.from_seq


def verify(session: Session, anchors: Iterable[ChainHead] = (),
           on_payload: Callable[[int, str], None] | None = None) -> VerifyResult:
    """Recompute the whole chain in bounded memory; raise ``ChainBroken`` naming the
    first event that does not match (its fields, its key, its time going backwards), or an
    anchor the chain does not contain. ``on_payload(seq, payload)`` sees every event that
    verified (``record_hashes.verify_state`` collects the records' hashes there)."""
    wanted = {a.seq: a.hash for a in anchors}
    key, keyed_from = _verify_key(session)
    forged = session.connection().execute(text("SELECT min(seq) FROM auditevent WHERE seq < 1")).scalar()
    if forged is not None:
        raise ChainBroken(f"审计链被篡改：出现第 {forged} 号事件（序号应从 1 开始）"
                          f" / event {forged} precedes the chain")
    previous = GENESIS
    expected_seq = 1
    count = 0
    last = ChainHead(0, GENESIS)
    seq = 0
    previous_at = ""
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
        if _row_hash(row, key if key is not None and seq >= keyed_from else None) != row[_HASH]:
            raise ChainBroken(
                f"审计链被篡改：第 {seq} 号事件的哈希不符 / event {seq}: hash does not match its fields"
                + (" (or the chain key)" if key is not None and seq >= keyed_from else "")
            )
        if row[_AT] < previous_at:
            raise ChainBroken(f"审计链时间倒退：第 {seq} 号事件（{row[_AT][:19]}）早于前一事件（{previous_at[:19]}）"
                              f" / event {seq} is older than the event before it")
        previous_at = row[_AT]
        if on_payload is not None:
            on_payload(seq, row[_PAYLOAD])
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
