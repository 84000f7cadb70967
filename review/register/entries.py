"""The register of documents in force (文件统一登记): entering an issued document, its validity
period (有效期), its status (有效 / 已修改 / 已废止 / 已失效) and what changes it.

A document enters the register in the transaction that records its issuance (``on_issued``, called
by the issuance step): nothing issued can be missing from the register. When the issued matter is
the follow-up of a 修改 / 废止 decision, the old document's entry changes in the same transaction and
any correction (督促整改) waiting for it is closed; each change is an audit event of the old matter.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from hefa.review import vocabulary as vocab
from hefa.review.config import now, today
from hefa.review.law.rules import KIND_ZH, Kind
from hefa.review.law.settings import LawSettings, law_settings
from hefa.review.records import audit
from hefa.review.records.models import Matter
from hefa.review.register.models import Correction, RegisterDecision, RegisterEntry

PROVISIONAL_MARKS = ("暂行", "试行")
CHARTER_FLAG = "charter"  # 村规民约 / 村民自治章程 (village-affair)


def registrable(matter: Matter) -> bool:
    """Whether an issued matter enters the register: normative documents and major decisions always;
    a village matter when it is a 村规民约 or 村民自治章程."""
    if matter.kind in (Kind.NORMATIVE_DOCUMENT, Kind.MAJOR_DECISION):
        return True
    return matter.kind == Kind.VILLAGE_AFFAIR and CHARTER_FLAG in matter.flags.split(",")


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def validity(kind: str, title: str, effective_from: dt.date,
             settings: LawSettings | None = None) -> tuple[dt.date | None, bool]:
    """(有效期届满日, provisional): the last day in force, or None for no fixed period.
    Titles with 暂行 / 试行 get the shorter provisional period (when the kind has one)."""
    chosen = settings or law_settings()
    years = int(getattr(chosen, f"validity_years_{kind.replace('-', '_')}", 0))
    provisional = any(mark in title for mark in PROVISIONAL_MARKS)
    if provisional and years:
        years = min(years, chosen.validity_years_provisional)
    if not years:
        return None, provisional
    return _add_years(effective_from, years) - dt.timedelta(days=1), provisional


def shown_status(entry: RegisterEntry, on: dt.date | None = None) -> str:
    """The status a reader sees: an entry in force past its last day shows as expired (失效)
    even before the scan records it."""
    day = on or today()
    if entry.status == "in-force" and entry.valid_until is not None and entry.valid_until < day:
        return "expired"
    return entry.status


def on_issued(session: Session, matter: Matter, *, version_id: int, number: str, published_on: dt.date) -> None:
    """统一登记 at issuance, and the register changes a follow-up's issuance brings (same transaction)."""
    decision = session.scalar(select(RegisterDecision).where(RegisterDecision.follow_up_id == matter.id))
    if registrable(matter) and not (decision is not None and decision.decision == "repeal"):
        until, provisional = validity(matter.kind, matter.title, published_on)
        session.add(RegisterEntry(
            matter_id=matter.id, version_id=version_id, kind=matter.kind, number=number, title=matter.title,
            organ=matter.organ, issued_on=published_on, effective_from=published_on, valid_until=until,
            provisional=provisional, status="in-force", status_since=published_on, registered_at=now()))
        audit.append(session, action="register-entered", outcome="system", matter_id=matter.id, channel="system",
                     reason=f"登记 {number}，有效期至 {until or '长期'}",
                     payload={"number": number, "valid_until": str(until or ""), "provisional": provisional})
    if decision is not None:
        _supersede(session, decision, matter, number, published_on)


def _supersede(session: Session, decision: RegisterDecision, follow_up: Matter, number: str,
               published_on: dt.date) -> None:
    old = session.scalar(select(RegisterEntry).where(RegisterEntry.matter_id == decision.matter_id))
    if old is not None and old.status in ("in-force", "expired"):
        old.status = "amended" if decision.decision == "amend" else "repealed"
        old.status_since = published_on
        old.superseded_by = follow_up.id
        session.add(old)
        audit.append(session, action=f"register-{old.status}", outcome="system", matter_id=old.matter_id,
                     channel="system", reason=f"{vocab.REGISTER_STATUS.zh(old.status)}：由事项 {follow_up.id}"
                                              f"（{number}）于 {published_on} 公布",
                     payload={"follow_up": follow_up.id, "number": number})
    correction = session.scalar(select(Correction).where(Correction.matter_id == decision.matter_id,
                                                         Correction.status == "open"))
    if correction is not None:
        correction.status = "closed"
        correction.closed_on = published_on
        correction.follow_up_id = follow_up.id
        session.add(correction)
        audit.append(session, action="correction-closed", outcome="system", matter_id=decision.matter_id,
                     channel="system", reason=f"督促整改完成：事项 {follow_up.id}（{number}）已公布",
                     payload={"follow_up": follow_up.id, "due_on": str(correction.due_on)})


def entry_row(entry: RegisterEntry, correction: Correction | None, on: dt.date | None = None) -> dict[str, Any]:
    """One register row, as the CLI, the artifact and the exports show it."""
    status = shown_status(entry, on)
    open_correction = correction is not None and correction.status == "open"
    return {
        "matter": entry.matter_id, "number": entry.number, "title": entry.title, "organ": entry.organ,
        "kind": entry.kind, "kind_zh": KIND_ZH[Kind(entry.kind)], "issued_on": entry.issued_on.isoformat(),
        "effective_from": entry.effective_from.isoformat(),
        "valid_until": entry.valid_until.isoformat() if entry.valid_until else "",
        "provisional": entry.provisional, "status": status, "status_zh": vocab.REGISTER_STATUS.zh(status),
        "status_since": entry.status_since.isoformat(), "superseded_by": entry.superseded_by or "",
        "version_id": entry.version_id,
        "correction": (f"{vocab.CORRECTION_STATUS.zh('open')}，至 {correction.due_on}" if open_correction
                       and correction else vocab.CORRECTION_STATUS.zh("closed") if correction is not None else ""),
    }


def register_rows(session: Session, *, status: str | None = None, on: dt.date | None = None) -> list[dict[str, Any]]:
    """The register, in issue order; ``status`` filters on the status a reader sees
    (``in-force``: the 政务公开 list of documents in force)."""
    corrections = {c.matter_id: c for c in session.scalars(select(Correction))}
    rows = [entry_row(e, corrections.get(e.matter_id), on)
            for e in session.scalars(select(RegisterEntry).order_by(RegisterEntry.issued_on, RegisterEntry.id))]
    return [r for r in rows if status is None or r["status"] == status]


def register_of(status: str | None = None) -> list[dict[str, Any]]:
    """``register_rows`` in its own read session."""
    return register_with_head(status)[0]


def register_with_head(status: str | None = None) -> tuple[list[dict[str, Any]], str]:
    """``register_rows`` and the audit chain's head, read in one session (for the CLI): the head
    printed with a list is the one the list was read at."""
    from hefa.review.records import audit
    from hefa.review.records.db import read_session

    if status is not None and status not in vocab.REGISTER_STATUS:
        from hefa.review.errors import InvalidInput

        raise InvalidInput(f"状态须为 {', '.join(vocab.REGISTER_STATUS.codes)} 之一，收到 {status!r} / unknown status")
    with read_session() as session:
        return register_rows(session, status=status), str(audit.head(session))
