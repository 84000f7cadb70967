"""Reading a matter for the gate (审查关口的视图), and moving it on after a step.

``snapshot`` gathers, inside the caller's write transaction, everything
``review/law/gate.py`` decides on; ``move_on`` recomputes where the matter waits.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from hefa.review.config import now, today
from hefa.review.law import gate
from hefa.review.law.rules import Role, Step, rules_for
from hefa.review.law.settings import law_settings
from hefa.review.records.models import (
    ControlDecision,
    Deliberation,
    DocumentVersion,
    ExpertArgumentation,
    Filing,
    HearingNotice,
    Issuance,
    LegalOpinion,
    Matter,
    Officer,
    PublicParticipation,
    RiskAssessment,
    StepNote,
)

# Steps whose record is not tied to a document version: done once recorded.
_DONE_ONCE = ((PublicParticipation, Step.PARTICIPATION), (ExpertArgumentation, Step.EXPERTS),
              (HearingNotice, Step.HEARING), (Issuance, Step.ISSUANCE), (Filing, Step.FILING))
def current_version(session: Session, matter: Matter) -> DocumentVersion:
    """The matter's current document version (every matter has one from its submission)."""
    version = session.get(DocumentVersion, matter.current_version_id)
    assert version is not None
    return version


def roles_of(officer: Officer) -> frozenset[Role]:
    return frozenset(Role(r) for r in officer.roles.split(",") if r)


def actor_of(officer: Officer) -> gate.Actor:
    return gate.Actor(officer.id or 0, officer.name, roles_of(officer), officer.organ,
                      legal_qualification=officer.legal_qualification_no)


def certificates(session: Session, names: tuple[str, ...]) -> tuple[gate.Certificate, ...]:
    """The 行政执法证 of the officers a request names, as recorded (read in the caller's transaction)."""
    found = {o.name: o for o in session.scalars(select(Officer).where(Officer.name.in_(names)))}  # type: ignore[attr-defined]
    return tuple(
        gate.Certificate(name, found=False) if (o := found.get(name)) is None
        else gate.Certificate(name, disabled=o.disabled, number=o.enforcement_cert_no,
                              valid_until=o.enforcement_cert_valid_until)
        for name in dict.fromkeys(names))


def _records(session: Session, model: type, matter_id: str) -> list[Any]:
    stmt = select(model).where(model.matter_id == matter_id).order_by(model.id)  # type: ignore[attr-defined]
    return list(session.scalars(stmt))


def new_matter(kind: str, session: Session | None = None,
               request: gate.Request | None = None) -> gate.MatterSnapshot:
    """The snapshot of a matter about to be submitted (with the certificates of the
    enforcement officers the request names, read in the caller's transaction)."""
    base = gate.MatterSnapshot.new(rules_for(kind), law_settings(session).model_dump(), today())
    if session is None or request is None or not request.enforcers:
        return base
    return replace(base, certificates=certificates(session, request.enforcers))


def snapshot(session: Session, matter: Matter, request: gate.Request | None = None) -> gate.MatterSnapshot:
    """Everything the gate needs about one matter (and the request), read in the caller's transaction."""
    version = session.get(DocumentVersion, matter.current_version_id)
    assert version is not None
    done = {step for model, step in _DONE_ONCE
            if session.scalar(select(func.count()).select_from(model)
                              .where(model.matter_id == matter.id))}  # type: ignore[attr-defined]
    versions = list(session.execute(select(DocumentVersion.sha256, DocumentVersion.uploader_id)
                                    .where(DocumentVersion.matter_id == matter.id)))
    done |= {Step(step) for step in session.scalars(select(StepNote.step).where(StepNote.matter_id == matter.id))}
    holder = None
    if request is not None and request.number:
        holder = session.scalar(select(Issuance.matter_id).where(Issuance.number == request.number))
    return gate.MatterSnapshot(
        kind_rules=rules_for(matter.kind),
        status=matter.status,
        settings=law_settings(session).model_dump(),  # the installation's law, read in this transaction
        today=today(),
        flags=frozenset(f for f in matter.flags.split(",") if f),
        drafter_id=matter.drafter_id,
        organ=matter.organ,
        current_version_id=version.id or 0,
        current_version_number=version.number,
        current_version_sha256=version.sha256,
        current_uploader_id=version.uploader_id,
        version_sha256s=frozenset(sha for sha, _ in versions),
        uploader_ids=frozenset(uploader for _, uploader in versions),
        done=frozenset(done),
        opinions=tuple(gate.VersionRecord(o.version_id, o.conclusion)
                       for o in _records(session, LegalOpinion, matter.id)),
        assessments=tuple(
            gate.VersionRecord(a.version_id, "controllable" if a.controllable else "uncontrollable")
            for a in _records(session, RiskAssessment, matter.id)),
        deliberations=tuple(gate.VersionRecord(d.version_id, d.decision)
                            for d in _records(session, Deliberation, matter.id)),
        review_since=matter.review_since,
        extended=matter.extension_days > 0,
        number_holder=holder,
        controls_confirmed=bool(session.scalar(select(func.count()).select_from(ControlDecision)
                                               .where(ControlDecision.matter_id == matter.id))),
        amount=matter.amount,
    )


def move_on(session: Session, matter: Matter) -> gate.Progress:
    """Recompute where the matter waits, after a step changed it."""
    progress = gate.progress(snapshot(session, matter))
    new_stage = progress.waiting_for.step.value if progress.waiting_for else matter.status
    if matter.status == "open" and progress.waiting_for is None:
        matter.status = new_stage = "closed"
    if new_stage != matter.stage or progress.needs_revision != matter.needs_revision:
        matter.stage_since = today()
    if new_stage == Step.REVIEW.value and (matter.stage != new_stage or matter.review_since is None):
        matter.review_since = today()
    matter.stage = new_stage
    matter.needs_revision = progress.needs_revision
    matter.updated_at = now()
    session.add(matter)
    return progress


def next_message(matter: Matter, progress: gate.Progress) -> str:
    """What the person is told the matter waits for next."""
    waiting = progress.waiting_for
    if waiting is None:
        return "已办结 / closed" if matter.status == "closed" else "已否决 / rejected"
    if progress.needs_revision:
        return f"退回修改：{progress.why_revision}"
    return f"下一步：{waiting.name_zh}（{waiting.step.value}，{waiting.role.value}）"
