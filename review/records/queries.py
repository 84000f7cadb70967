"""Read-only views of matters: status, list, pending work, the audit trail.

Each is one or a few indexed queries; nothing here writes.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import and_, or_, select
from sqlmodel import Session

from hefa.review import vocabulary as vocab
from hefa.review.errors import NotFound
from hefa.review.law.clocks import running_clocks
from hefa.review.law.rules import KIND_ZH, Kind, Role, Step, rules_for
from hefa.review.law.workdays import CalendarError
from hefa.review.records import audit
from hefa.review.records.models import (
    AuditEvent,
    Deliberation,
    DocumentVersion,
    ExpertArgumentation,
    Filing,
    FindingMark,
    GeneratedDocument,
    HearingNotice,
    Issuance,
    LegalOpinion,
    Matter,
    Officer,
    PublicParticipation,
    RiskAssessment,
)
from hefa.review.records.wait_label import WaitLabel

STATUS_ZH = {"open": "办理中", "closed": "已办结", "rejected": "已否决"}


def get_matter(session: Session, matter_id: str) -> Matter:
    matter = session.get(Matter, matter_id)
    if matter is None:
        raise NotFound(f"没有编号为 {matter_id} 的事项 / unknown matter {matter_id!r}")
    return matter


def stage_zh(matter: Matter) -> str:
    if matter.status != "open":
        return STATUS_ZH[matter.status]
    stage = rules_for(matter.kind).stage(Step(matter.stage))
    name = stage.name_zh if stage else matter.stage
    return f"{name}（待修改）" if matter.needs_revision else name


def _names(session: Session) -> dict[int, str]:
    return {o.id: o.name for o in session.scalars(select(Officer))}  # type: ignore[misc]


def _rows(session: Session, model: type, matter_id: str) -> list[Any]:
    return list(session.scalars(select(model).where(model.matter_id == matter_id)  # type: ignore[attr-defined]
                                .order_by(model.id)))  # type: ignore[attr-defined]


def clocks_of(matter: Matter) -> list[dict[str, Any]]:
    """Running deadlines, or the calendar's explicit error when its data runs out."""
    try:
        return [d.to_dict() | {"text": d.describe()} for d in running_clocks(matter)]
    except CalendarError as exc:
        return [{"stage": matter.stage, "error": str(exc)}]


def status(session: Session, matter_id: str) -> dict[str, Any]:
    """Everything about one matter that a person or an artifact shows."""
    matter = get_matter(session, matter_id)
    names = _names(session)
    table = rules_for(matter.kind)
    versions = _rows(session, DocumentVersion, matter.id)
    current = next((x for x in versions if x.id == matter.current_version_id), versions[-1])
    by_version = {x.id: x.number for x in versions}
    waiting = table.stage(Step(matter.stage)) if matter.status == "open" else None
    return {
        "id": matter.id, "kind": matter.kind, "kind_zh": KIND_ZH[Kind(matter.kind)],
        "title": matter.title, "organ": matter.organ, "drafter": names.get(matter.drafter_id),
        "status": matter.status, "stage": matter.stage, "stage_zh": stage_zh(matter),
        "needs_revision": matter.needs_revision,
        "waiting_role": waiting.role.value if waiting and not matter.needs_revision
        else ("drafter" if matter.needs_revision else None),
        "flags": [f for f in matter.flags.split(",") if f],
        "opened_on": matter.opened_on.isoformat(), "stage_since": matter.stage_since.isoformat(),
        "run_id": matter.run_id,
        "clocks": clocks_of(matter),
        "stages": [{"step": s.step.value, "name_zh": s.name_zh, "role": s.role.value,
                    "article": s.article, "conditional": s.conditional} for s in table.stages],
        "current_version": {"number": current.number, "sha256": current.sha256,
                            "filename": current.filename, "size": current.size},
        "findings": _with_marks(session, current),
        "versions": [{"number": x.number, "sha256": x.sha256, "filename": x.filename,
                      "uploader": names.get(x.uploader_id), "at": x.uploaded_at.isoformat()}
                     for x in versions],
        "participation": [{"period": f"{p.period_start}—{p.period_end}", "comments": p.comment_count,
                           "summary": p.summary, "shortened_reason": p.shortened_reason}
                          for p in _rows(session, PublicParticipation, matter.id)],
        "experts": [{"experts": e.experts, "summary": e.summary, "held_on": e.held_on.isoformat()}
                    for e in _rows(session, ExpertArgumentation, matter.id)],
        "hearing": [{"notified_on": h.notified_on.isoformat(), "hearing": h.hearing}
                    for h in _rows(session, HearingNotice, matter.id)],
        "assessments": [{"level": a.level, "controllable": a.controllable, "summary": a.summary,
                         "assessor": names.get(a.officer_id), "version": by_version.get(a.version_id)}
                        for a in _rows(session, RiskAssessment, matter.id)],
        "opinions": [{"conclusion": o.conclusion, "conclusion_zh": vocab.CONCLUSION_SHORT.zh(o.conclusion),
                      "reasons": o.reasons, "counsel": names.get(o.officer_id),
                      "version": by_version.get(o.version_id), "sha256": o.version_sha256,
                      "current": o.version_id == matter.current_version_id,
                      "at": o.recorded_at.isoformat()}
                     for o in _rows(session, LegalOpinion, matter.id)],
        "deliberations": [{"decision": d.decision, "meeting": d.meeting_kind,
                           "date": d.meeting_date.isoformat(), "attendees": d.attendees,
                           "dissent": d.dissent, "head_spoke_last": d.head_spoke_last,
                           "version": by_version.get(d.version_id)}
                          for d in _rows(session, Deliberation, matter.id)],
        "issuance": [{"number": i.number, "published_on": i.published_on.isoformat()}
                     for i in _rows(session, Issuance, matter.id)],
        "filing": [{"filed_with": f.filed_with, "receipt": f.receipt,
                    "filed_on": f.filed_on.isoformat()} for f in _rows(session, Filing, matter.id)],
        "documents": [{"name": g.name, "title": g.title, "sha256": g.sha256,
                       "chain_head": f"{g.chain_seq}:{g.chain_hash}"}
                      for g in _rows(session, GeneratedDocument, matter.id)],
    }


def _with_marks(session: Session, version: DocumentVersion) -> list[dict[str, Any]]:
    """The version's findings, each with counsel's mark ("not a problem", reason, who) if any."""
    findings = json.loads(version.findings or "[]")
    names = _names(session)
    for mark in session.scalars(select(FindingMark).where(FindingMark.version_id == version.id)):
        if 1 <= mark.finding_index <= len(findings):
            findings[mark.finding_index - 1]["mark"] = {"verdict": mark.verdict, "reason": mark.reason,
                                                        "counsel": names.get(mark.officer_id, "?")}
    return findings


def list_matters(session: Session, *, stage: str | None = None, kind: str | None = None,
                 status_is: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """Matters, newest first, filtered by stage, kind or status."""
    stmt = select(Matter.id, Matter.kind, Matter.title, Matter.organ, Matter.stage,
                  Matter.status, Matter.needs_revision, Matter.stage_since)
    if stage:
        stmt = stmt.where(Matter.stage == stage)
    if kind:
        stmt = stmt.where(Matter.kind == Kind(kind).value)
    if status_is:
        stmt = stmt.where(Matter.status == status_is)
    stmt = stmt.order_by(Matter.id.desc()).limit(limit)  # type: ignore[attr-defined]
    return [dict(row._mapping) | {"stage_since": row.stage_since.isoformat()}
            for row in session.execute(stmt)]


def pending(session: Session, officer_name: str, limit: int = 500) -> list[dict[str, Any]]:
    """What waits for this officer: stages of their roles, and revisions of their drafts."""
    officer = session.scalar(select(Officer).where(Officer.name == officer_name))
    if officer is None:
        raise NotFound(f"没有名为 {officer_name} 的人员 / unknown officer {officer_name!r}")
    roles = {Role(r) for r in officer.roles.split(",") if r}
    conditions = []
    for kind, table in ((k, rules_for(k)) for k in Kind):
        steps = [s.step.value for s in table.stages if roles & set(s.roles)]  # also_role: the head confirms
        if steps:
            conditions.append(and_(Matter.kind == kind.value, Matter.stage.in_(steps),  # type: ignore[attr-defined]
                                   Matter.needs_revision.is_(False)))  # type: ignore[attr-defined]
    if Role.DRAFTER in roles:
        conditions.append(and_(Matter.drafter_id == officer.id, Matter.needs_revision.is_(True)))  # type: ignore[attr-defined]
    if not conditions:
        return []
    stmt = (select(Matter).where(Matter.status == "open", or_(*conditions))
            .order_by(Matter.stage_since, Matter.id).limit(limit))
    out = []
    for matter in session.scalars(stmt):
        stage = rules_for(matter.kind).stage(Step(matter.stage))
        if (stage and stage.drafter_excluded and matter.drafter_id == officer.id
                and not matter.needs_revision):
            continue
        out.append({"id": matter.id, "kind": matter.kind, "title": matter.title,
                    "stage": matter.stage, "stage_zh": stage_zh(matter),
                    "clocks": clocks_of(matter)})
    return out


def trail(session: Session, matter_id: str) -> list[dict[str, Any]]:
    """The matter's audit trail, in order, as rows for tables and artifacts."""
    get_matter(session, matter_id)
    return [event_row(e) for e in audit.events_for(session, matter_id)]


def event_row(e: AuditEvent) -> dict[str, Any]:
    return {"seq": e.seq, "at": e.at, "officer": e.officer, "role": e.role, "action": e.action,
            "outcome": e.outcome, "reason": e.reason, "doc_sha256": e.doc_sha256,
            "channel": e.channel, "hash": e.hash}


def status_of(matter_id: str) -> dict[str, Any]:
    """``status`` in its own read session (for flows)."""
    from hefa.review.records.db import read_session

    with read_session() as session:
        return status(session, matter_id)


def trail_of(matter_id: str) -> list[dict[str, Any]]:
    """``trail`` in its own read session (for flows)."""
    from hefa.review.records.db import read_session

    with read_session() as session:
        return trail(session, matter_id)


def wait_label(view: dict[str, Any]) -> str:
    """What a matter's flow run waits for: stage and version (``review-v2``), or
    ``revise-v2`` while the drafter must revise. Flows key their suspensions with it;
    ``hefa serve`` wakes a run whose label no longer matches its matter."""
    return str(WaitLabel.of(status=view["status"], stage=view["stage"], needs_revision=view["needs_revision"],
                            version=view["current_version"]["number"]))


def wait_labels(matter_ids: list[str]) -> dict[str, str]:
    """``wait_label`` of many matters in one query (for the reconciler)."""
    from hefa.review.records.db import read_session

    if not matter_ids:
        return {}
    with read_session() as session:
        rows = session.execute(
            select(Matter.id, Matter.stage, Matter.status, Matter.needs_revision, DocumentVersion.number)
            .join(DocumentVersion, DocumentVersion.id == Matter.current_version_id)  # type: ignore[arg-type]
            .where(Matter.id.in_(matter_ids)))  # type: ignore[attr-defined]
        return {r.id: str(WaitLabel.of(status=r.status, stage=r.stage, needs_revision=r.needs_revision,
                                       version=r.number)) for r in rows}


def matters_without_run(limit: int = 100) -> list[dict[str, Any]]:
    """Open matters whose workflow run was never created (the engine was down at submit)."""
    from hefa.review.records.db import read_session

    with read_session() as session:
        rows = session.execute(select(Matter.id, Matter.kind, Matter.title, Matter.organ)
                               .where(Matter.status == "open", Matter.run_id.is_(None))  # type: ignore[union-attr]
                               .order_by(Matter.id).limit(limit))
        return [dict(r._mapping) for r in rows]


def run_views(matter_ids: list[str]) -> dict[str, dict[str, Any]]:
    """What the dispatcher and the sweep need of many matters, in one query: status, kind,
    title, organ, flow run, creation time and wait label (see ``wait_label``)."""
    from hefa.review.records.db import read_session

    if not matter_ids:
        return {}
    with read_session() as session:
        rows = session.execute(
            select(Matter.id, Matter.kind, Matter.title, Matter.organ, Matter.status, Matter.stage,
                   Matter.needs_revision, Matter.run_id, Matter.created_at, DocumentVersion.number)
            .join(DocumentVersion, DocumentVersion.id == Matter.current_version_id)  # type: ignore[arg-type]
            .where(Matter.id.in_(matter_ids)))  # type: ignore[attr-defined]
        return {r.id: dict(r._mapping) | {
            "label": str(WaitLabel.of(status=r.status, stage=r.stage, needs_revision=r.needs_revision,
                                      version=r.number))} for r in rows}


def open_matters_page(after: str = "", limit: int = 50) -> list[str]:
    """Ids of open matters after ``after``, in id order (the sweep pages through them)."""
    from hefa.review.records.db import read_session

    with read_session() as session:
        return list(session.scalars(select(Matter.id).where(Matter.status == "open", Matter.id > after)
                                    .order_by(Matter.id).limit(limit)))
