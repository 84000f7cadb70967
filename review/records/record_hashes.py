"""Record hashes (记录指纹): every domain record is carried, by the hash of its content, in the
audit event that recorded it — so ``hefa verify`` proves the state, not only the chain.

**The registry.** ``RECORDS`` names every table that holds domain records and the columns
whose content is hashed (a mutable record — an officer, a matter — leaves out the columns
that change without a step: lockout counters, the last accepted code, the flow run).
``OPERATIONAL`` names every other table and why it is not a record. A test fails when a
table is in neither: a new table is covered by declaring it here, nothing else.

**Writing.** A listener on every ``Session`` notes the registered rows a transaction inserts or
changes (in hashed columns). ``audit.append`` takes them: after a flush it reads each row back
as the database stores it, hashes it, and lists ``[table, id, hash]`` under ``_records`` in
the event's payload (covered by the event's hash). A transaction that changes a registered
row after its last event, or without any event, is refused at commit.

**Verifying.** ``verify_state`` runs the chain check (``audit.verify``) and keeps, for each
record, the latest event that carried it; then it reads every registered table and names the
first mismatch: a row whose content differs from its event (edited), a row no event carries
(inserted), a row an event carries that is gone (deleted).

A record's hash is sha256 of the canonical JSON of ``[table, {column: value}]`` over its
hashed columns, leaving out empty values (None, "", 0, False), so that a column added later
with an empty default does not change the hash of the rows written before it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, event, inspect, select
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, SQLModel

from hefa.review.errors import ChainBroken, HefaError
from hefa.review.records import models as m

RECORDS_KEY = "_records"


@dataclass(frozen=True)
class Registered:
    """A table of domain records and the columns its hash covers."""

    model: type[SQLModel]
    exclude: tuple[str, ...] = ()  # columns that change without a step

    @property
    def table(self) -> str:
        return str(self.model.__tablename__)  # type: ignore[attr-defined]

    def columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.model.__table__.columns  # type: ignore[attr-defined]
                     if c.name not in self.exclude)

    def key(self) -> str:
        (pk,) = self.model.__table__.primary_key.columns  # type: ignore[attr-defined]
        return str(pk.name)


# Every table holding domain records (领域记录). Add a new one here; nothing else is needed.
RECORDS: tuple[Registered, ...] = (
    Registered(m.Officer, exclude=("totp_last_counter", "failed_count", "first_failed_at", "locked_until")),
    Registered(m.Matter, exclude=("run_id", "updated_at")),
    Registered(m.DocumentVersion),
    Registered(m.PublicParticipation),
    Registered(m.ExpertArgumentation),
    Registered(m.HearingNotice),
    Registered(m.RiskAssessment),
    Registered(m.LegalOpinion),
    Registered(m.Deliberation),
    Registered(m.Issuance),
    Registered(m.Filing),
    Registered(m.FindingMark),
    Registered(m.DeadlineExtension),
    Registered(m.GeneratedDocument),
    Registered(m.Installation),
    Registered(m.LawSettingChange),
    Registered(m.ControlDecision),  # issue 14: 确认适用程序
    Registered(m.EnforcementAssignment),  # issue 14: 执法人员 and their 行政执法证
    Registered(m.StepNote),  # issue 14: 签发、向党委请示报告、决策后评估
    Registered(m.ChecklistEntry),  # counsel's answers to the kind's checklist (审查要点)
    Registered(m.OpinionNumber),  # the legal opinion's number (意见书编号)
    Registered(m.RegisterEntry),  # issue 16: 统一登记
    Registered(m.FilingReview),  # issue 16: 备案审查结果
    Registered(m.Correction),  # issue 16: 督促整改
    Registered(m.CleanupCampaign),  # issue 16: 清理
    Registered(m.CleanupItem),
    Registered(m.RegisterDecision),  # issue 16: 清理结论
)

# Every other table, and why it holds no domain record.
OPERATIONAL: dict[str, str] = {
    "auditevent": "the chain itself (audit.verify)",
    "websession": "a browser's sign-in session: expires, ended by sign-out; sign-ins are audited events",
    "requestreceipt": "the first answer to a request id, for retries; the step is its event",
    "wakerequest": "the outbox of wake-ups owed to workflow runs: delivery state only",
    "deadlinewarning": "which overdue warnings were raised once; each warning is its own event",
    "alembic_version": "the schema revision",
}

_BY_MODEL: dict[type, Registered] = {r.model: r for r in RECORDS}
_BY_TABLE: dict[str, Registered] = {r.table: r for r in RECORDS}


class UnrecordedChange(HefaError):
    """A transaction changed a domain record without an audit event carrying it (a bug)."""


# --- hashing ---------------------------------------------------------------------------------------

def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.isoformat(timespec="microseconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def content_hash(table: str, values: dict[str, Any]) -> str:
    """The hash of one record's content (empty values left out, see the module docstring)."""
    from hefa.review.records.audit import canonical_json

    kept = {k: _plain(v) for k, v in values.items() if v not in (None, "", 0, False)}
    return hashlib.sha256(canonical_json([table, kept]).encode("utf-8")).hexdigest()


def _read_hashes(connection: Connection, reg: Registered, keys: Iterable[Any],
                 columns: tuple[str, ...] | None = None) -> dict[str, str]:
    """{id: hash} of some rows of one table, read as the database stores them."""
    table = reg.model.__table__  # type: ignore[attr-defined]
    cols = columns or reg.columns()
    pk = table.c[reg.key()]
    out: dict[str, str] = {}
    wanted = list(keys)
    for start in range(0, len(wanted), 500):
        rows = connection.execute(select(*(table.c[c] for c in cols)).where(pk.in_(wanted[start:start + 500])))
        for row in rows:
            values = dict(zip(cols, row, strict=True))
            out[str(values[reg.key()])] = content_hash(reg.table, values)
    return out


# --- what a transaction touched --------------------------------------------------------------------

_TOUCHED = "hefa_touched_records"


def _changed_hashed(obj: Any, reg: Registered) -> bool:
    state = inspect(obj)
    hashed = set(reg.columns())
    return any(attr.key in hashed and attr.history.has_changes() for attr in state.attrs)


@event.listens_for(Session, "before_flush")
def _note_touched(session: OrmSession, _context: Any, _instances: Any) -> None:
    touched: set[tuple[type, int]] = session.info.setdefault(_TOUCHED, set())
    dirty = session.dirty  # a fresh set on every access: taken once per flush
    for obj in list(session.new) + list(dirty) + list(session.deleted):
        reg = _BY_MODEL.get(type(obj))
        if reg is None:
            continue
        if obj in dirty and not _changed_hashed(obj, reg):
            continue
        touched.add((type(obj), id(obj)))
        session.info.setdefault(_TOUCHED + "_objects", {})[id(obj)] = obj


def take_touched(session: Session) -> list[list[str]]:
    """``[table, id, hash]`` of every registered row this transaction inserted or changed since
    the last event (flushed first, read back as stored); the list is then cleared."""
    session.flush()
    touched: set[tuple[type, int]] = session.info.pop(_TOUCHED, set())
    objects: dict[int, Any] = session.info.pop(_TOUCHED + "_objects", {})
    if not touched:
        return []
    by_model: dict[type, list[Any]] = {}
    deleted: list[list[str]] = []
    for model, ident in touched:
        obj = objects[ident]
        reg = _BY_MODEL[model]
        key = getattr(obj, reg.key())
        if inspect(obj).deleted or inspect(obj).was_deleted:
            deleted.append([reg.table, str(key), ""])
        else:
            by_model.setdefault(model, []).append(key)
    refs: list[list[str]] = []
    connection = session.connection()
    for model, keys in by_model.items():
        reg = _BY_MODEL[model]
        refs += [[reg.table, key, digest] for key, digest in _read_hashes(connection, reg, keys).items()]
    return sorted(refs + deleted)


@event.listens_for(Session, "before_commit")
def _refuse_unrecorded(session: OrmSession) -> None:
    session.flush()
    if session.info.get(_TOUCHED):
        names = sorted({_BY_MODEL[model].table for model, _ in session.info[_TOUCHED]})
        session.info.pop(_TOUCHED, None)
        session.info.pop(_TOUCHED + "_objects", None)
        raise UnrecordedChange(f"记录 {', '.join(names)} 的改动没有审计事件，已撤销 / a change to {names} "
                               "has no audit event carrying it; rolled back")


@event.listens_for(Session, "after_rollback")
@event.listens_for(Session, "after_soft_rollback")
def _forget(session: OrmSession, *_args: Any) -> None:
    session.info.pop(_TOUCHED, None)
    session.info.pop(_TOUCHED + "_objects", None)


# --- sealing records written before record hashes existed ----------------------------------------

def seal_existing(connection: Connection, *, chunk: int = 2000) -> int:
    """Seal every registered row that exists now, in system events of ``chunk`` records each
    (migration ``0005``: rows written before record hashes carried by no event). Only the
    tables and columns that exist at that revision are read. Returns how many were sealed."""
    from hefa.review.records import audit

    existing = inspect(connection)
    refs: list[list[str]] = []
    for reg in RECORDS:
        if not existing.has_table(reg.table):
            continue
        present = {c["name"] for c in existing.get_columns(reg.table)}
        columns = tuple(c for c in reg.columns() if c in present)
        table = reg.model.__table__  # type: ignore[attr-defined]
        for row in connection.execute(select(*(table.c[c] for c in columns))):
            values = dict(zip(columns, row, strict=True))
            refs.append([reg.table, str(values[reg.key()]), content_hash(reg.table, values)])
    if not refs:
        return 0
    with Session(bind=connection) as session:
        for start in range(0, len(refs), chunk):
            audit.append(session, action="records-sealed", outcome="system", channel="system",
                         payload={RECORDS_KEY: refs[start:start + chunk]}, real_clock=True, records=False)
        session.flush()
    return len(refs)


# --- verifying -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class StateResult:
    """What ``verify_state`` found: the chain, and how many records it checked."""

    chain: Any  # audit.VerifyResult
    records: int


def _stream_table(connection: Connection, reg: Registered, batch: int = 2000) -> Iterator[tuple[str, str]]:
    table = reg.model.__table__  # type: ignore[attr-defined]
    cols = reg.columns()
    result = connection.execution_options(stream_results=True, yield_per=batch).execute(
        select(*(table.c[c] for c in cols)).order_by(table.c[reg.key()]))
    for row in result:
        values = dict(zip(cols, row, strict=True))
        yield str(values[reg.key()]), content_hash(reg.table, values)


def verify_state(session: Session, anchors: Iterable[Any] = ()) -> StateResult:
    """The chain (``audit.verify``), then every registered record against the latest event that
    carried it and every carried record against its row; raise ``ChainBroken`` naming the first
    mismatch (table, id, event)."""
    from hefa.review.records import audit

    carried: dict[tuple[str, str], tuple[int, str]] = {}

    def collect(seq: int, payload: str) -> None:
        for table, key, digest in json.loads(payload).get(RECORDS_KEY, ()):
            carried[(table, key)] = (seq, digest)

    chain = audit.verify(session, anchors, on_payload=collect, payload_marker=RECORDS_KEY)
    connection = session.connection()
    count = 0
    for reg in RECORDS:
        for key, digest in _stream_table(connection, reg):
            count += 1
            found = carried.pop((reg.table, key), None)
            if found is None:
                raise ChainBroken(f"记录与审计链不符：{reg.table} 第 {key} 条没有记录它的审计事件（插入的行）"
                                  f" / {reg.table} id {key}: no event recorded this row (inserted)")
            seq, expected = found
            if expected == "":
                raise ChainBroken(f"记录与审计链不符：{reg.table} 第 {key} 条已由第 {seq} 号事件删除，却仍存在"
                                  f" / {reg.table} id {key}: deleted by event {seq}, yet present")
            if expected != digest:
                raise ChainBroken(f"记录与审计链不符：{reg.table} 第 {key} 条的内容与第 {seq} 号事件不符（被改动）"
                                  f" / {reg.table} id {key} differs from event {seq} (edited)")
    gone = sorted(((seq, table, key) for (table, key), (seq, digest) in carried.items()
                   if digest and table in _BY_TABLE))
    if gone:
        seq, table, key = gone[0]
        raise ChainBroken(f"记录与审计链不符：第 {seq} 号事件记录的 {table} 第 {key} 条已不存在（被删除）"
                          f" / {table} id {key}, recorded by event {seq}, is gone (deleted)")
    return StateResult(chain=chain, records=count)
