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
    return hmac.digest(key, joined.encode("utf-8"), "sha256").hex()


def event_hash(fields: dict[str, Any], key: bytes | None = None) -> str:
    """The hash of one event: sha256 of its twelve hashed fields, as text, joined by U+001F
    (``seq`` in decimal; an event without a matter has ``matter_id`` ""); HMAC-SHA256 under
    ``key`` for an event of a keyed chain."""
    return _digest(SEPARATOR.join(map(str, (fields[name] for name in _HASHED_FIELDS))), key)


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
# ``%s`` writes each field with ``str()``: the very text of ``SEPARATOR.join(map(str, fields))``
# (``event_hash``), made in one step instead of a call per field.
_JOINED = SEPARATOR.join(["%s"] * _N_HASHED)
_NO_HASH = object()  # what a row holding the separator in a field hashes to: equal to no stored hash


def _batches(session: Session, batch: int = 5000) -> Iterator[list[tuple[Any, ...]]]:
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
            yield rows
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


def _refuse_events_before_the_first(session: Session) -> None:
    forged = session.connection().execute(text("SELECT min(seq) FROM auditevent WHERE seq < 1")).scalar()
    if forged is not None:
        raise ChainBroken(f"审计链被篡改：出现第 {forged} 号事件（序号应从 1 开始）"
                          f" / event {forged} precedes the chain")


@dataclass(frozen=True)
class _Checks:
    """What every event is checked against besides its predecessor."""

    key: bytes | None
    keyed_from: int
    wanted: dict[int, str]  # anchors: seq -> hash
    on_payload: Callable[[int, str], None] | None
    marker: str


@dataclass
class _Walk:
    """How far the walk along the chain has come: the next event due, the last hash and time."""

    expected: int = 1
    previous: str = GENESIS
    previous_at: str = ""


def _missing(seq: int) -> ChainBroken:
    return ChainBroken(f"审计链断裂：缺少第 {seq} 号事件 / event {seq} is missing")


def _prev_differs(seq: int) -> ChainBroken:
    return ChainBroken(f"审计链断裂：第 {seq} 号事件的前序哈希不符 / event {seq}: prev_hash does not match")


def _payload_altered(seq: int) -> ChainBroken:
    return ChainBroken(f"审计链被篡改：第 {seq} 号事件的内容摘要不符 / event {seq}: payload was altered")


def _hash_differs(seq: int, keyed: bool) -> ChainBroken:
    return ChainBroken(f"审计链被篡改：第 {seq} 号事件的哈希不符 / event {seq}: hash does not match its fields"
                       + (" (or the chain key)" if keyed else ""))


def _went_back(seq: int, at: str, previous_at: str) -> ChainBroken:
    return ChainBroken(f"审计链时间倒退：第 {seq} 号事件（{at[:19]}）早于前一事件（{previous_at[:19]}）"
                       f" / event {seq} is older than the event before it")


def _anchor_differs(seq: int, anchored: str) -> ChainBroken:
    return ChainBroken(f"审计链与锚点不符：第 {seq} 号事件已被改写 / event {seq} differs from anchor {seq}:{anchored}")


def _walk(rows: list[tuple[Any, ...]], walk: _Walk, checks: _Checks) -> None:
    """Check a batch of events, in order, after ``walk``'s position, and move it on: each event's
    place (``seq``), its link to the one before, its payload's digest, its hash (HMAC under the key
    from the key's first event on), its time, the anchor at its place. One loop, no call per event
    (but ``on_payload``): this loop is most of the time ``hefa verify`` takes."""
    sha256, hmac_digest, joined_form, separators = hashlib.sha256, hmac.digest, _JOINED, _N_HASHED - 1
    key, keyed_from, wanted, on_payload, marker = (checks.key, checks.keyed_from, checks.wanted,
                                                   checks.on_payload, checks.marker)
    expected, previous, previous_at = walk.expected, walk.previous, walk.previous_at
    for row in rows:
        seq = row[_SEQ]
        if seq != expected:
            raise _missing(expected)
        if row[_PREV] != previous:
            raise _prev_differs(seq)
        payload = row[_PAYLOAD]
        if sha256(payload.encode("utf-8")).hexdigest() != row[_DIGEST]:
            raise _payload_altered(seq)
        joined = joined_form % row[:_N_HASHED]
        keyed = key is not None and seq >= keyed_from
        if joined.count(SEPARATOR) != separators:  # a stored field never holds the separator: forged
            digest: object = _NO_HASH
        elif keyed:
            digest = hmac_digest(key, joined.encode("utf-8"), "sha256").hex()  # type: ignore[arg-type]
        else:
            digest = sha256(joined.encode("utf-8")).hexdigest()
        if digest != row[_HASH]:
            raise _hash_differs(seq, keyed)
        at = row[_AT]
        if at < previous_at:
            raise _went_back(seq, at, previous_at)
        if on_payload is not None and marker in payload:
            on_payload(seq, payload)
        previous, previous_at = row[_HASH], at
        if seq in wanted and wanted[seq] != previous:
            raise _anchor_differs(seq, wanted[seq])
        expected += 1
    walk.expected, walk.previous, walk.previous_at = expected, previous, previous_at


def verify(session: Session, anchors: Iterable[ChainHead] = (),
           on_payload: Callable[[int, str], None] | None = None, payload_marker: str = "") -> VerifyResult:
    """Recompute the whole chain in bounded memory; raise ``ChainBroken`` naming the
    first event that does not match (its fields, its key, its time going backwards), or an
    anchor the chain does not contain. ``on_payload(seq, payload)`` sees every event that
    verified whose payload contains ``payload_marker`` (every event by default;
    ``record_hashes.verify_state`` collects the records' hashes there)."""
    wanted = {a.seq: a.hash for a in anchors}
    key, keyed_from = _verify_key(session)
    _refuse_events_before_the_first(session)
    checks = _Checks(key, keyed_from, wanted, on_payload, payload_marker)
    walk = _Walk()
    for rows in _batches(session):
        _walk(rows, walk, checks)
    last = ChainHead(walk.expected - 1, walk.previous)
    missing = sorted(s for s in wanted if s > last.seq)
    if missing:
        raise ChainBroken(
            f"审计链被截断：锚点第 {missing[0]} 号事件已不存在（现链头为第 {last.seq} 号）"
            f" / chain truncated: anchored event {missing[0]} is gone (head is {last.seq})"
        )
    return VerifyResult(count=last.seq, head=last)


def events_for(session: Session, matter_id: str) -> list[AuditEvent]:
    """The trail of one matter, in order."""
    stmt = select(AuditEvent).where(AuditEvent.matter_id == matter_id).order_by(AuditEvent.seq)  # type: ignore[arg-type]
    return list(session.scalars(stmt))
