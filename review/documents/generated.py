"""Documents out (文书): the written opinion, risk report, minutes and filing report.

Each recorded opinion, assessment, deliberation and filing gets its document
once (``generate_pending`` is idempotent: flows call it on every replay, and
``hefa docs`` / ``hefa export`` call it too). A document is rendered by
``forms/``, stored content-addressed like submissions, listed in
``GeneratedDocument`` and its sha256 appended to the audit chain. Each carries
the chain head at the time it was written: an anchor on paper.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from hefa.review.config import now, settings
from hefa.review.documents.incoming import listed_findings
from hefa.review.documents.prescreen import CATEGORY_ZH
from hefa.review.errors import HefaError
from hefa.review.law.checklists import checklist_for
from hefa.review.law.rules import KIND_ZH, Kind, Step, rules_for
from hefa.review.records import audit, storage
from hefa.review.records.db import write_transaction
from hefa.review.records.models import (
    ChecklistEntry,
    Deliberation,
    DocumentVersion,
    Filing,
    FindingMark,
    GeneratedDocument,
    Issuance,
    LegalOpinion,
    Matter,
    Officer,
    OpinionNumber,
    RiskAssessment,
)
from hefa.review.vocabulary import ITEM_RESULT


def _matter_context(session: Session, matter: Matter) -> dict[str, Any]:
    drafter = session.get(Officer, matter.drafter_id)
    return {"id": matter.id, "kind": matter.kind, "kind_zh": KIND_ZH[Kind(matter.kind)],
            "title": matter.title, "organ": matter.organ, "drafter": drafter.name if drafter else ""}


def _version_context(version: DocumentVersion) -> dict[str, Any]:
    return {"number": version.number, "sha256": version.sha256, "filename": version.filename,
            "uploaded_at": version.uploaded_at}


def _officer(session: Session, officer_id: int) -> Officer:
    officer = session.get(Officer, officer_id)
    assert officer is not None
    return officer


def _opinion_context(session: Session, matter: Matter, o: LegalOpinion) -> dict[str, Any]:
    """The opinion as recorded: counsel's checklist answers, the problems counsel found (the items
    recorded 不符合, with counsel's notes), the conclusion and reasons; the pre-screen's findings
    only as hints (预审提示), with counsel's marks — never as problems (发现的问题)."""
    version = session.get(DocumentVersion, o.version_id)
    assert version is not None
    counsel = _officer(session, o.officer_id)
    table = rules_for(matter.kind)
    review = table.stage(Step.REVIEW)
    entries = list(session.scalars(select(ChecklistEntry).where(ChecklistEntry.opinion_id == o.id)
                                   .order_by(ChecklistEntry.position)))  # type: ignore[arg-type]
    source = checklist_for(matter.kind).source
    cited = set(source.split("；"))
    # An item's basis is printed under it when it cites more than the checklist's source (cited once, above).
    checklist = [{"item": e.question + ("" if set(e.basis.split("；")) <= cited else f"\n（依据：{e.basis}）"),
                  "question": e.question, "basis": e.basis, "result": ITEM_RESULT.zh(e.result), "note": e.note}
                 for e in entries]
    problems = [{"question": e.question, "basis": e.basis, "note": e.note} for e in entries if e.result == "fails"]
    listed, more, total = listed_findings(json.loads(version.findings or "[]"), settings().opinion_findings_listed)
    marks = {m.finding_index: m.reason for m in session.scalars(
        select(FindingMark).where(FindingMark.version_id == version.id))}
    hints = [f | {"category_zh": CATEGORY_ZH.get(f["category"], f["category"]), "mark": marks.get(i, "")}
             for i, f in enumerate(listed, start=1)]
    number = session.scalar(select(OpinionNumber.number).where(OpinionNumber.opinion_id == o.id))
    basis = [b.strip() for b in table.source.split("；")] + ([review.article] if review else [])
    return {
        "matter": _matter_context(session, matter), "version": _version_context(version),
        "opinion": {"conclusion": o.conclusion, "reasons": o.reasons, "counsel": counsel.name,
                    "organ": counsel.organ or matter.organ, "date": o.recorded_at.date(),
                    "controls": o.controls},
        "doc_number": number or "",
        "review_basis": basis,
        "checklist_source": source, "checklist": checklist, "problems": problems,
        "hints": hints, "hints_more": more, "hints_total": total,
    }


def _assessment_context(session: Session, matter: Matter, a: RiskAssessment) -> dict[str, Any]:
    version = session.get(DocumentVersion, a.version_id)
    assert version is not None
    assessor = _officer(session, a.officer_id)
    return {"matter": _matter_context(session, matter), "version": _version_context(version),
            "assessment": {"level": a.level, "controllable": a.controllable, "summary": a.summary,
                           "assessor": assessor.name, "date": a.recorded_at.date(),
                           "organ": assessor.organ or matter.organ}}


def _minutes_context(session: Session, matter: Matter, d: Deliberation) -> dict[str, Any] | None:
    version = session.get(DocumentVersion, d.version_id)
    assert version is not None
    attendees = [a for a in d.attendees.split(",") if a]
    head = d.presiding or (attendees[0] if attendees else "主要负责人")
    # Printed exactly as recorded, in the recorded order, nothing added: the gate refused any record
    # where the head did not speak last. Statements not entered are not invented (no speaking order
    # is made up from the attendance list): the minutes say they were not entered.
    views = json.loads(d.views or "[]")
    if not d.head_spoke_last or (views and views[-1]["member"] != head):
        return None  # an older record the gate would now refuse: the paper record stands
    secretary = _officer(session, d.officer_id)
    return {"matter": _matter_context(session, matter), "version": _version_context(version),
            "meeting": {"kind": d.meeting_kind, "date": d.meeting_date, "head": head,
                        "attendees": attendees, "views": views, "decision": d.decision,
                        "dissent": d.dissent, "secretary": secretary.name}}


def _filing_context(session: Session, matter: Matter, f: Filing) -> dict[str, Any] | None:
    issuance = session.scalar(select(Issuance).where(Issuance.matter_id == matter.id))
    opinion = session.scalar(select(LegalOpinion).where(LegalOpinion.matter_id == matter.id)
                             .order_by(LegalOpinion.id.desc()))  # type: ignore[union-attr]
    if issuance is None or opinion is None:
        return None
    version = session.get(DocumentVersion, matter.current_version_id)
    assert version is not None
    return {"matter": _matter_context(session, matter), "version": _version_context(version),
            "publication": {"number": issuance.number, "date": issuance.published_on},
            "filing": {"filed_with": f.filed_with, "date": f.filed_on,
                       "officer": _officer(session, f.officer_id).name, "receipt_number": f.receipt},
            "opinion": {"conclusion": opinion.conclusion, "date": opinion.recorded_at.date(),
                        "counsel": _officer(session, opinion.officer_id).name}}


def _sources(session: Session, matter: Matter) -> list[tuple[str, str, dict[str, Any] | None]]:
    """(document name, source key, context) for every record that has a document."""
    out: list[tuple[str, str, dict[str, Any] | None]] = []
    for o in session.scalars(select(LegalOpinion).where(LegalOpinion.matter_id == matter.id)):
        out.append(("legal_opinion", f"opinion-{o.id}", _opinion_context(session, matter, o)))
    for a in session.scalars(select(RiskAssessment).where(RiskAssessment.matter_id == matter.id)):
        out.append(("risk_report", f"assessment-{a.id}", _assessment_context(session, matter, a)))
    for d in session.scalars(select(Deliberation).where(Deliberation.matter_id == matter.id)):
        out.append(("deliberation_minutes", f"deliberation-{d.id}",
                    _minutes_context(session, matter, d)))
    for f in session.scalars(select(Filing).where(Filing.matter_id == matter.id)):
        out.append(("filing_report", f"filing-{f.id}", _filing_context(session, matter, f)))
    return out


def _missing(matter_id: str) -> bool:
    """Whether any record still lacks its document (cheap: ids only, no rendering)."""
    from hefa.review.records.db import read_session

    with read_session() as session:
        have = set(session.scalars(select(GeneratedDocument.source)
                                   .where(GeneratedDocument.matter_id == matter_id)))
        wanted = {f"opinion-{i}" for i in session.scalars(
            select(LegalOpinion.id).where(LegalOpinion.matter_id == matter_id))}
        wanted |= {f"assessment-{i}" for i in session.scalars(
            select(RiskAssessment.id).where(RiskAssessment.matter_id == matter_id))}
        wanted |= {f"deliberation-{i}" for i in session.scalars(
            select(Deliberation.id).where(Deliberation.matter_id == matter_id,
                                          Deliberation.head_spoke_last.is_(True)))}  # type: ignore[attr-defined]
        wanted |= {f"filing-{i}" for i in session.scalars(
            select(Filing.id).where(Filing.matter_id == matter_id))}
    return bool(wanted - have)


def generate_pending(matter_id: str) -> list[GeneratedDocument]:
    """Write every document the matter's records call for and that does not exist yet.

    Rendering takes time, so it happens outside any write transaction: the contexts are
    read, the documents rendered and stored, and only then are they recorded, in one short
    write transaction (a step waiting for the write lock never waits for a rendering). A
    document another process recorded meanwhile is not recorded twice. Each document is
    bounded in size (``max_document_bytes``; its inputs are bounded at the door).
    """
    if not _missing(matter_id):
        return []
    from hefa.forms.render import DOCUMENT_TITLES, render_document
    from hefa.review.records.db import read_session

    with read_session() as session:
        matter = session.get(Matter, matter_id)
        if matter is None:
            return []
        have = set(session.scalars(select(GeneratedDocument.source)
                                   .where(GeneratedDocument.matter_id == matter_id)))
        wanted = [(name, source, context) for name, source, context in _sources(session, matter)
                  if source not in have and context is not None]
        chain = audit.head(session)
    limit = settings().max_document_bytes
    rendered: list[tuple[str, str, bytes]] = []
    for name, source, context in wanted:
        context |= {"chain_head": {"seq": chain.seq, "hash": chain.hash}, "generated_at": now()}
        data = render_document(name, context)
        if len(data) > limit:
            raise DocumentTooLarge(f"{DOCUMENT_TITLES[name]}过大（{len(data)} 字节，上限 {limit}）"
                                   f" / the {name} document is too large")
        rendered.append((name, source, data))
    made: list[GeneratedDocument] = []
    created: list[str] = []
    try:
        stored = []
        for name, source, data in rendered:
            digest, was_new = storage.store(data)
            if was_new:
                created.append(digest)
            stored.append((name, source, digest, len(data)))
        with write_transaction() as session:
            have = set(session.scalars(select(GeneratedDocument.source)
                                       .where(GeneratedDocument.matter_id == matter_id)))
            for name, source, digest, size in stored:
                if source in have:  # recorded meanwhile by another process
                    continue
                doc = GeneratedDocument(matter_id=matter_id, name=name, source=source,
                                        title=DOCUMENT_TITLES[name], sha256=digest, size=size,
                                        chain_seq=chain.seq, chain_hash=chain.hash, created_at=now())
                session.add(doc)
                audit.append(session, action="document", outcome="system", matter_id=matter_id,
                             doc_sha256=digest, channel="system",
                             payload={"name": name, "source": source, "chain_head": str(chain)})
                made.append(doc)
            session.commit()
        kept = {doc.sha256 for doc in made}
        for digest in created:
            if digest not in kept:  # another process's copy was recorded instead
                _discard_unless_used(digest)
    except BaseException:
        for digest in created:
            _discard_unless_used(digest)
        raise
    return made


def _discard_unless_used(digest: str) -> None:
    """Remove a stored file this call created, unless a recorded document points at it."""
    from hefa.review.records.db import read_session

    with read_session() as session:
        if session.scalar(select(GeneratedDocument.id).where(GeneratedDocument.sha256 == digest)) is None:
            storage.discard(digest)


class DocumentTooLarge(HefaError):
    """A generated document over ``max_document_bytes`` (文书过大): refused, nothing recorded."""


def documents_of(matter_id: str) -> list[dict[str, Any]]:
    """The documents written for a matter, oldest first."""
    from hefa.review.records.db import read_session

    with read_session() as session:
        rows = session.scalars(select(GeneratedDocument).where(GeneratedDocument.matter_id == matter_id)
                               .order_by(GeneratedDocument.id))  # type: ignore[arg-type]
        return [{"name": g.name, "title": g.title, "source": g.source, "sha256": g.sha256,
                 "size": g.size, "path": str(storage.blob_path(g.sha256)),
                 "chain_head": f"{g.chain_seq}:{g.chain_hash}", "created_at": g.created_at.isoformat()}
                for g in rows]
