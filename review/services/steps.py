"""The step services: submit, revise and record each stage (审查环节).

Each service runs one unit of work: authenticate the officer, load the matter,
ask the gate, write the record, move the matter's stage, append the audit
event — and commit, all or nothing. A refusal rolls that back and is then
appended to the audit chain in its own transaction, with its reason, before
the error reaches the caller. The CLI and the Prefect flows call these same
functions; neither talks SQL.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Integer, cast, func, select
from sqlmodel import Session

from hefa.review import validation as v
from hefa.review.config import now, settings, today
from hefa.review.errors import CredentialsRefused, HefaError, InvalidInput, NotFound, Refused
from hefa.review.law import gate
from hefa.review.law.rules import MEETING_KINDS, Kind, Role, Step, rules_for
from hefa.review.people.credentials import Authenticated, check_credentials, note_failure, note_success
from hefa.review.people.identity import Credentials
from hefa.review.records import audit, outbox, storage
from hefa.review.records.db import write_transaction
from hefa.review.records.models import (
    DeadlineExtension,
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
    RequestReceipt,
    RiskAssessment,
)


@dataclass
class StepOutcome:
    """What an accepted step did: printed by the CLI, logged by flows."""

    matter_id: str
    action: str
    event_seq: int
    event_hash: str
    stage: str
    needs_revision: bool
    message: str
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "accepted": True, "matter": self.matter_id, "action": self.action,
            "event": self.event_seq, "hash": self.event_hash, "stage": self.stage,
            "needs_revision": self.needs_revision, "message": self.message, **self.details,
        }


# --- a Prefect form input is taken once -------------------------------------------------------

_form_input: ContextVar[tuple[str, str] | None] = ContextVar("hefa_form_input", default=None)


@contextmanager
def taking_form_input(flow_run_id: str, key: str) -> Iterator[None]:
    """Within this block, the step (accepted or refused) also records that the form
    input ``key`` of ``flow_run_id`` was taken, in the same transaction, so that a
    replayed flow never takes it twice."""
    token = _form_input.set((flow_run_id, key))
    try:
        yield
    finally:
        _form_input.reset(token)


def form_input_taken(flow_run_id: str, key: str) -> bool:
    from hefa.review.records.db import read_session

    with read_session() as session:
        return session.get(RequestReceipt, f"form:{flow_run_id}:{key}") is not None


def _note_form_input(session: Session, event_seq: int, outcome: str) -> None:
    taken = _form_input.get()
    if taken is not None:
        session.add(RequestReceipt(request_id=f"form:{taken[0]}:{taken[1]}", event_seq=event_seq,
                                   outcome=outcome, taken_at=now()))


def attach_flow_run(matter_id: str, flow_run_id: str) -> None:
    """Remember the matter's Prefect flow run (system event, audited)."""
    with write_transaction() as session:
        matter = session.get(Matter, matter_id)
        if matter is None or matter.run_id == flow_run_id:
            return
        matter.run_id = flow_run_id
        session.add(matter)
        audit.append(session, action="flow-run", outcome="system", matter_id=matter_id,
                     channel="system", payload={"flow_run_id": flow_run_id})
        session.commit()


# --- reading a matter for the gate ---------------------------------------------------------

def roles_of(officer: Officer) -> frozenset[Role]:
    return frozenset(Role(r) for r in officer.roles.split(",") if r)


def actor_of(officer: Officer) -> gate.Actor:
    return gate.Actor(officer.id or 0, officer.name, roles_of(officer), officer.organ)


def _records(session: Session, model: type, matter_id: str) -> list[Any]:
    stmt = select(model).where(model.matter_id == matter_id).order_by(model.id)  # type: ignore[attr-defined]
    return list(session.scalars(stmt))


def snapshot(session: Session, matter: Matter) -> gate.MatterSnapshot:
    """Everything the gate needs about one matter, read in the caller's transaction."""
    cfg = settings()
    version = session.get(DocumentVersion, matter.current_version_id)
    assert version is not None
    done: set[Step] = set()
    for model, step in ((PublicParticipation, Step.PARTICIPATION),
                        (ExpertArgumentation, Step.EXPERTS), (HearingNotice, Step.HEARING),
                        (Issuance, Step.ISSUANCE), (Filing, Step.FILING)):
        exists = session.scalar(select(func.count()).select_from(model)
                                .where(model.matter_id == matter.id))  # type: ignore[attr-defined]
        if exists:
            done.add(step)
    return gate.MatterSnapshot(
        kind_rules=rules_for(matter.kind),
        status=matter.status,
        flags=frozenset(f for f in matter.flags.split(",") if f),
        settings=cfg.model_dump(),
        drafter_id=matter.drafter_id,
        organ=matter.organ,
        current_version_id=version.id or 0,
        current_uploader_id=version.uploader_id,
        done=frozenset(done),
        opinions=tuple(gate.VersionRecord(o.version_id, o.conclusion)
                       for o in _records(session, LegalOpinion, matter.id)),
        assessments=tuple(
            gate.VersionRecord(a.version_id, "controllable" if a.controllable else "uncontrollable")
            for a in _records(session, RiskAssessment, matter.id)),
        deliberations=tuple(gate.VersionRecord(d.version_id, d.decision)
                            for d in _records(session, Deliberation, matter.id)),
        extended=matter.extension_days > 0,
        uploader_ids=frozenset(session.scalars(select(DocumentVersion.uploader_id)
                                               .where(DocumentVersion.matter_id == matter.id))),
    )


def _move_on(session: Session, matter: Matter) -> gate.Progress:
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


# --- the unit of work shared by every step ---------------------------------------------------

def _authenticate(session: Session, creds: Credentials) -> Authenticated:
    officer = session.scalar(select(Officer).where(Officer.name == creds.name))
    return check_credentials(officer, creds.name, token=creds.token, code=creds.code)


def _record_refusal(creds: Credentials, action: str, matter_id: str | None, exc: HefaError,
                    channel: str, payload: dict[str, Any], auth: Authenticated | None,
                    doc_sha256: str = "") -> None:
    """Append the refusal (and any lock) to the audit chain, in its own transaction."""
    with write_transaction() as session:
        officer = session.scalar(select(Officer).where(Officer.name == creds.name))
        role = ""
        if isinstance(exc, CredentialsRefused) and officer is not None and "已锁定" not in str(exc):
            if "已停用" not in str(exc) and note_failure(officer):
                audit.append(session, action="officer-locked", outcome="refused",
                             officer=officer.name, reason="连续验证失败，账户锁定 / locked",
                             matter_id=matter_id, channel=channel)
            session.add(officer)
        elif auth is not None and officer is not None:
            note_success(Authenticated(officer, auth.totp_counter))
            session.add(officer)
            role = officer.roles
        known = matter_id if matter_id and session.get(Matter, matter_id) else None
        event = audit.append(session, action=action, outcome="refused", officer=creds.name[:64],
                             role=role, matter_id=known, reason=str(exc), channel=channel,
                             doc_sha256=doc_sha256, payload=_safe_payload(payload, matter_id))
        _note_form_input(session, event.seq, "refused")
        session.commit()


def _safe_payload(payload: dict[str, Any], matter_id: str | None) -> dict[str, Any]:
    """What a refused attempt asked for, bounded, never a secret."""
    out: dict[str, Any] = {k: (str(val)[:500] if val is not None else None)
                           for k, val in payload.items() if k not in ("token", "code")}
    if matter_id:
        out["matter"] = str(matter_id)[:40]
    return out


Apply = Callable[[Session, Matter, Officer], "tuple[dict[str, Any], str]"]


def _step(action: str, step: Step | str, creds: Credentials, matter_id: str,
          payload: dict[str, Any], apply: Apply, *, channel: str,
          extra: Callable[[Session, Matter], Callable[..., gate.Verdict] | None] | None = None,
          after_commit: Callable[[], None] | None = None, on_error: Callable[[], None] | None = None,
          ) -> StepOutcome:
    """Authenticate, gate, apply, move on, audit, commit — or refuse and audit."""
    auth: Authenticated | None = None
    try:
        with write_transaction() as session:
            auth = _authenticate(session, creds)
            matter = session.get(Matter, matter_id)
            if matter is None:
                raise NotFound(f"没有编号为 {matter_id} 的事项 / unknown matter {matter_id!r}")
            officer = auth.officer
            verdict = gate.check(snapshot(session, matter), step, actor_of(officer),
                                 extra=extra(session, matter) if extra else None)
            if not verdict.accepted:
                raise Refused(verdict.reason, code=verdict.code)
            details, doc_sha = apply(session, matter, officer)
            note_success(auth)
            session.add(officer)
            progress = _move_on(session, matter)
            event = audit.append(session, action=action, outcome="accepted", officer=officer.name,
                                 role=officer.roles, matter_id=matter.id, doc_sha256=doc_sha,
                                 channel=channel, payload={**payload, **details})
            _note_form_input(session, event.seq, "accepted")
            outbox.enqueue(session, matter.id, outbox.WAKE)
            session.commit()
    except (Refused, NotFound) as exc:
        if on_error:
            on_error()
        _record_refusal(creds, action, matter_id, exc, channel, payload, auth)
        if isinstance(exc, NotFound):
            raise Refused(str(exc), code="not-found") from exc
        raise
    except BaseException:
        if on_error:
            on_error()
        raise
    if after_commit:
        after_commit()
    waiting = progress.waiting_for
    return StepOutcome(
        matter_id=matter.id, action=action, event_seq=event.seq, event_hash=event.hash,
        stage=waiting.step.value if waiting else matter.status,
        needs_revision=progress.needs_revision,
        message=_next_message(matter, progress), details=details,
    )


def _next_message(matter: Matter, progress: gate.Progress) -> str:
    waiting = progress.waiting_for
    if waiting is None:
        return "已办结 / closed" if matter.status == "closed" else "已否决 / rejected"
    if progress.needs_revision:
        return f"退回修改：{progress.why_revision}"
    return f"下一步：{waiting.name_zh}（{waiting.step.value}，{waiting.role.value}）"


# --- documents in ---------------------------------------------------------------------------

def _intake(data: bytes, filename: str) -> tuple[str, list[dict[str, Any]]]:
    """Validate a submitted file and pre-screen it: (sha256, findings)."""
    from hefa.review.documents.incoming import screen_upload

    return screen_upload(data, filename)


def _add_version(session: Session, matter: Matter, officer: Officer, data: bytes,
                 filename: str, findings: list[dict[str, Any]], created: list[str]) -> DocumentVersion:
    digest, was_created = storage.store(data)
    if was_created:
        created.append(digest)
    number = (session.scalar(select(func.max(DocumentVersion.number))
                             .where(DocumentVersion.matter_id == matter.id)) or 0) + 1
    version = DocumentVersion(
        matter_id=matter.id, number=number, sha256=digest, size=len(data),
        filename=filename, uploader_id=officer.id or 0, uploaded_at=now(),
        findings=json.dumps(findings, ensure_ascii=False),
    )
    session.add(version)
    session.flush()
    matter.current_version_id = version.id
    return version


def _next_matter_id(session: Session) -> str:
    """The next readable id of this year: 2026-0001 … 2026-9999, 2026-10000 …"""
    year = today().year
    last = session.scalar(select(func.max(cast(func.substr(Matter.id, 6), Integer)))
                          .where(Matter.id.like(f"{year}-%")))  # type: ignore[attr-defined]
    return f"{year}-{(last or 0) + 1:04d}"


def submit(creds: Credentials, *, kind: str, title: str, data: bytes, filename: str,
           organ: str | None = None, flags: tuple[str, ...] = (), opened_on: str | None = None,
           channel: str = "cli") -> StepOutcome:
    """起草提交: record a new matter and its first document version."""
    payload = {"kind": kind, "title": title, "filename": filename, "flags": ",".join(flags)}
    created: list[str] = []
    auth: Authenticated | None = None
    try:
        kind = v.choice(kind, "事项类型", tuple(k.value for k in Kind))
        title = v.text(title, "标题", max_len=200)
        filename = v.text(filename, "文件名", max_len=200)
        table = rules_for(kind)
        unknown = [f for f in flags if f not in table.flags]
        if unknown:
            raise InvalidInput(f"{table.name_zh}没有标记 {unknown[0]!r}；可用：{', '.join(table.flags) or '无'}")
        opened = v.date(opened_on, "立案/受理日期", default=today())
        digest, findings = _intake(data, filename)
        with write_transaction() as session:
            auth = _authenticate(session, creds)
            officer = auth.officer
            if Role.DRAFTER not in roles_of(officer):
                raise Refused(f"{officer.name} 不具有起草人（drafter）岗位，不能提交 / wrong role",
                              code="wrong-role")
            matter = Matter(
                id=_next_matter_id(session), kind=kind, title=title,
                organ=v.text(organ or officer.organ or "未填机关", "机关", max_len=120),
                drafter_id=officer.id or 0, stage=Step.SUBMISSION.value,
                flags=",".join(sorted(set(flags))), opened_on=opened, stage_since=today(),
                created_at=now(), updated_at=now(),
            )
            session.add(matter)
            session.flush()
            version = _add_version(session, matter, officer, data, filename, findings, created)
            note_success(auth)
            session.add(officer)
            progress = _move_on(session, matter)
            event = audit.append(session, action="submit", outcome="accepted", officer=officer.name,
                                 role=officer.roles, matter_id=matter.id, doc_sha256=version.sha256,
                                 channel=channel, payload={**payload, "findings": len(findings)})
            outbox.enqueue(session, matter.id, outbox.START)
            session.commit()
    except HefaError as exc:
        for digest in created:
            storage.discard(digest)
        if isinstance(exc, Refused | NotFound):
            _record_refusal(creds, "submit", None, exc, channel, payload, auth)
        raise
    except BaseException:
        for digest in created:
            storage.discard(digest)
        raise
    return StepOutcome(matter.id, "submit", event.seq, event.hash, matter.stage,
                       progress.needs_revision, _next_message(matter, progress),
                       {"version": 1, "sha256": version.sha256, "findings": findings})


def revise(creds: Credentials, matter_id: str, *, data: bytes, filename: str,
           channel: str = "cli") -> StepOutcome:
    """修改文稿 (退回修改后重新提交): a new version; earlier opinions become stale."""
    payload = {"filename": filename}
    created: list[str] = []
    try:
        filename = v.text(filename, "文件名", max_len=200)
        _digest, findings = _intake(data, filename)
    except Refused as exc:
        _record_refusal(creds, "revise", matter_id, exc, channel, payload, None)
        raise

    def apply(session: Session, matter: Matter, officer: Officer) -> tuple[dict[str, Any], str]:
        version = _add_version(session, matter, officer, data, filename, findings, created)
        matter.review_since = None  # the revised draft goes to counsel anew: the review clock restarts
        return {"version": version.number, "sha256": version.sha256,
                "findings": len(findings)}, version.sha256

    def discard() -> None:
        for digest in created:
            storage.discard(digest)

    return _step("revise", gate.REVISE, creds, matter_id, payload, apply, channel=channel,
                 on_error=discard)


# --- one service per stage ----------------------------------------------------------------

def _current_version(session: Session, matter: Matter) -> DocumentVersion:
    version = session.get(DocumentVersion, matter.current_version_id)
    assert version is not None
    return version


def record_participation(creds: Credentials, matter_id: str, *, period_start: str,
                         period_end: str, comment_count: int | str, summary: str,
                         shortened_reason: str = "", channel: str = "cli") -> StepOutcome:
    """公众参与 / 公开征求意见: the comment period and the comments received."""
    payload = {"period_start": period_start, "period_end": period_end,
               "comment_count": comment_count, "summary": summary,
               "shortened_reason": shortened_reason}

    def apply(session: Session, matter: Matter, officer: Officer) -> tuple[dict[str, Any], str]:
        start, end = _period(period_start, period_end)
        version = _current_version(session, matter)
        session.add(PublicParticipation(
            matter_id=matter.id, version_id=version.id or 0, period_start=start, period_end=end,
            comment_count=v.count(comment_count, "意见条数"),
            summary=v.text(summary, "意见摘要", max_len=4000, multiline=True),
            shortened_reason=v.text(shortened_reason, "缩短期限说明", max_len=1000,
                                    required=False, multiline=True),
            officer_id=officer.id or 0, recorded_at=now()))
        return {}, version.sha256

    return _step("participation", Step.PARTICIPATION, creds, matter_id, payload, apply,
                 channel=channel, extra=_deadline_checks(payload))


def _period(start: str | dt.date, end: str | dt.date) -> tuple[dt.date, dt.date]:
    first, last = v.date(start, "征求意见开始日期"), v.date(end, "征求意见截止日期")
    if last < first:
        raise InvalidInput("征求意见截止日期早于开始日期 / the period ends before it starts")
    if last > today():
        raise InvalidInput(f"征求意见期限尚未届满（截止 {last}） / the comment period has not ended")
    return first, last


def record_experts(creds: Credentials, matter_id: str, *, experts: str, summary: str,
                   held_on: str | None = None, channel: str = "cli") -> StepOutcome:
    """专家论证 (国务院令第713号 arts. 19-21)."""
    payload = {"experts": experts, "summary": summary, "held_on": held_on}

    def apply(session: Session, matter: Matter, officer: Officer) -> tuple[dict[str, Any], str]:
        version = _current_version(session, matter)
        session.add(ExpertArgumentation(
            matter_id=matter.id, version_id=version.id or 0,
            experts=v.text(experts, "专家", max_len=500),
            summary=v.text(summary, "论证意见", max_len=4000, multiline=True),
            held_on=v.date(held_on, "论证日期", default=today()),
            officer_id=officer.id or 0, recorded_at=now()))
        return {}, version.sha256

    return _step("experts", Step.EXPERTS, creds, matter_id, payload, apply, channel=channel)


HEARING_CHOICES = {"requested": "当事人申请听证并已举行", "waived": "当事人放弃听证",
                   "none": "告知期满未申请听证"}


def record_hearing(creds: Credentials, matter_id: str, *, notified_on: str, hearing: str,
                   held_on: str | None = None, summary: str = "",
                   channel: str = "cli") -> StepOutcome:
    """告知与听证 (行政处罚法 arts. 44, 63-65)."""
    payload = {"notified_on": notified_on, "hearing": hearing, "held_on": held_on,
               "summary": summary}

    def apply(session: Session, matter: Matter, officer: Officer) -> tuple[dict[str, Any], str]:
        choice = v.choice(hearing, "听证情况", HEARING_CHOICES)
        held = v.date(held_on, "听证日期") if choice == "requested" else None
        version = _current_version(session, matter)
        session.add(HearingNotice(
            matter_id=matter.id, version_id=version.id or 0,
            notified_on=v.date(notified_on, "告知日期"), hearing=choice, held_on=held,
            summary=v.text(summary, "听证情况说明", max_len=4000, required=False, multiline=True),
            officer_id=officer.id or 0, recorded_at=now()))
        return {}, version.sha256

    return _step("hearing", Step.HEARING, creds, matter_id, payload, apply, channel=channel,
                 extra=_deadline_checks(payload))


LEVELS = {"low": "低", "medium": "中", "high": "高"}


def record_assessment(creds: Credentials, matter_id: str, *, level: str,
                      controllable: str | bool, summary: str,
                      channel: str = "cli") -> StepOutcome:
    """风险评估 (国务院令第713号 arts. 22-24); uncontrollable risk sends the draft back."""
    payload = {"level": level, "controllable": controllable, "summary": summary}

    def apply(session: Session, matter: Matter, officer: Officer) -> tuple[dict[str, Any], str]:
        version = _current_version(session, matter)
        session.add(RiskAssessment(
            matter_id=matter.id, version_id=version.id or 0,
            level=v.choice(level, "风险等级", LEVELS),
            controllable=v.yes_no(controllable, "风险是否可控"),
            summary=v.text(summary, "评估结论", max_len=4000, multiline=True),
            officer_id=officer.id or 0, recorded_at=now()))
        return {}, version.sha256

    return _step("assessment", Step.ASSESSMENT, creds, matter_id, payload, apply, channel=channel)


CONCLUSIONS = {"lawful": "合法，同意提交审议", "amend": "修改后合法，建议修改后提交",
               "unlawful": "不合法，不得提交审议"}


def record_opinion(creds: Credentials, matter_id: str, *, conclusion: str, reasons: str,
                   version_sha256: str | None = None, channel: str = "cli") -> StepOutcome:
    """合法性审查意见: counsel's written opinion on the current document version.

    ``version_sha256``, when given (the form shows it), must be the current
    version: an opinion on a superseded draft is refused as stale.
    One opinion per version: a second one on the same version is out of order.
    """
    payload = {"conclusion": conclusion, "reasons": reasons, "version_sha256": version_sha256}

    def apply(session: Session, matter: Matter, officer: Officer) -> tuple[dict[str, Any], str]:
        version = _current_version(session, matter)
        if version_sha256 and version_sha256 != version.sha256:
            raise Refused(
                f"所审文稿不是现行版本（现行为第 {version.number} 版 {version.sha256[:12]}），"
                "请审查最新版本 / stale version", code="stale-version")
        session.add(LegalOpinion(
            matter_id=matter.id, version_id=version.id or 0, version_sha256=version.sha256,
            conclusion=v.choice(conclusion, "审查结论", CONCLUSIONS),
            reasons=v.text(reasons, "审查理由", max_len=20000, multiline=True),
            officer_id=officer.id or 0, recorded_at=now()))
        return {"version": version.number}, version.sha256

    return _step("opinion", Step.REVIEW, creds, matter_id, payload, apply, channel=channel)


DECISIONS = {"approve": "同意", "reject": "不同意", "defer": "暂缓"}


def record_deliberation(creds: Credentials, matter_id: str, *, decision: str, attendees: str,
                        meeting_kind: str = "常务会议", meeting_date: str | None = None,
                        presiding: str = "", views: list[dict[str, str]] | None = None,
                        dissent: str = "", head_spoke_last: bool | str = True,
                        urgent_reason: str = "", channel: str = "cli") -> StepOutcome:
    """集体讨论决定 (国务院令第713号 art. 30): the head speaks last, dissent is recorded."""
    payload = {"decision": decision, "attendees": attendees, "meeting_kind": meeting_kind,
               "meeting_date": meeting_date, "presiding": presiding, "dissent": dissent,
               "head_spoke_last": head_spoke_last, "urgent_reason": urgent_reason,
               "views": views or []}

    def apply(session: Session, matter: Matter, officer: Officer) -> tuple[dict[str, Any], str]:
        people = [v.text(a, "参会人员", max_len=64) for a in attendees.replace("，", ",").split(",")
                  if a.strip()]
        if len(people) < 2:
            raise InvalidInput("集体讨论至少应有两名参会人员 / at least two attendees")
        spoke_last = v.yes_no(head_spoke_last, "行政首长最后发言")
        if matter.kind == Kind.MAJOR_DECISION and not spoke_last:
            raise Refused("重大行政决策集体讨论时，行政首长应当最后发表意见（第三十条）"
                          " / the head must speak last", code="head-last")
        version = _current_version(session, matter)
        chosen = v.choice(decision, "决定", DECISIONS)
        session.add(Deliberation(
            matter_id=matter.id, version_id=version.id or 0,
            meeting_kind=v.choice(meeting_kind, "会议类型", MEETING_KINDS),
            meeting_date=v.date(meeting_date, "会议日期", default=today()),
            attendees=",".join(people), presiding=v.text(presiding, "主持人", max_len=64,
                                                          required=False),
            views=json.dumps(_views(views), ensure_ascii=False), decision=chosen,
            dissent=v.text(dissent, "不同意见", max_len=4000, required=False, multiline=True),
            head_spoke_last=spoke_last,
            urgent_reason=v.text(urgent_reason, "紧急情况说明", max_len=1000, required=False),
            officer_id=officer.id or 0, recorded_at=now()))
        if chosen == "reject":
            matter.status = "rejected"
        return {}, version.sha256

    return _step("deliberation", Step.DELIBERATION, creds, matter_id, payload, apply,
                 channel=channel, extra=_deadline_checks(payload))


def _views(views: list[dict[str, str]] | None) -> list[dict[str, str]]:
    return [{"member": v.text(item.get("member"), "发言人", max_len=64),
             "view": v.text(item.get("view"), "意见", max_len=2000, multiline=True)}
            for item in (views or [])]


def record_issuance(creds: Credentials, matter_id: str, *, number: str,
                    published_on: str | None = None, channel: str = "cli") -> StepOutcome:
    """签发公布 / 签订 / 作出决定, with the document number (发文字号)."""
    payload = {"number": number, "published_on": published_on}

    def apply(session: Session, matter: Matter, officer: Officer) -> tuple[dict[str, Any], str]:
        doc_number = (v.document_number(number) if matter.kind == Kind.NORMATIVE_DOCUMENT
                      else v.text(number, "文号/编号", max_len=64))
        published = v.date(published_on, "公布日期", default=today())
        clash = session.scalar(select(Issuance).where(Issuance.number == doc_number))
        if clash is not None:
            raise Refused(f"文号 {doc_number} 已被事项 {clash.matter_id} 使用 / number already used",
                          code="duplicate-number")
        version = _current_version(session, matter)
        session.add(Issuance(matter_id=matter.id, version_id=version.id or 0, number=doc_number,
                             published_on=published, officer_id=officer.id or 0,
                             recorded_at=now()))
        matter.issued_on = published
        return {}, version.sha256

    return _step("issuance", Step.ISSUANCE, creds, matter_id, payload, apply, channel=channel,
                 extra=_deadline_checks(payload))


def record_filing(creds: Credentials, matter_id: str, *, filed_with: str, receipt: str,
                  filed_on: str | None = None, channel: str = "cli") -> StepOutcome:
    """备案 / 归档 / 公示."""
    payload = {"filed_with": filed_with, "receipt": receipt, "filed_on": filed_on}

    def apply(session: Session, matter: Matter, officer: Officer) -> tuple[dict[str, Any], str]:
        session.add(Filing(matter_id=matter.id,
                           filed_with=v.text(filed_with, "备案机关", max_len=200),
                           receipt=v.text(receipt, "备案回执号", max_len=100),
                           filed_on=v.date(filed_on, "备案日期", default=today()),
                           officer_id=officer.id or 0, recorded_at=now()))
        return {}, _current_version(session, matter).sha256

    return _step("filing", Step.FILING, creds, matter_id, payload, apply, channel=channel)


def _deadline_checks(payload: dict[str, Any]) -> Callable[[Session, Matter], Any]:
    """The time-limit checks of ``review/deadlines.py``, bound to this step's input."""

    def bind(session: Session, matter: Matter) -> Callable[..., gate.Verdict]:
        from hefa.review.law.deadlines import enforce

        return lambda stage: enforce(session, matter, stage, payload)

    return bind


def refuse_input(officer_name: str, action: str, matter_id: str, reason: str,
                 *, channel: str = "form") -> None:
    """Audit an input refused before it reached a service (a malformed form input)."""
    _record_refusal(Credentials(officer_name or "?"), action, matter_id,
                    InvalidInput(reason), channel, {}, None)


def extend_deadline(creds: Credentials, matter_id: str, *, days: int | str, reason: str,
                    channel: str = "cli") -> StepOutcome:
    """延长办理期限 (行政许可法 art. 42): once, by at most the configured days, approved by the head."""
    payload = {"days": days, "reason": reason}

    def apply(session: Session, matter: Matter, officer: Officer) -> tuple[dict[str, Any], str]:
        maximum = settings().licence_extension_days
        extra = v.count(days, "延长天数", maximum=maximum)
        if extra < 1:
            raise InvalidInput(f"延长天数须为 1–{maximum} / days must be 1–{maximum}")
        session.add(DeadlineExtension(matter_id=matter.id, days=extra,
                                      reason=v.text(reason, "延长理由", max_len=1000),
                                      officer_id=officer.id or 0, recorded_at=now()))
        matter.extension_days = extra
        return {"days": extra}, _current_version(session, matter).sha256

    return _step("extension", gate.EXTEND, creds, matter_id, payload, apply, channel=channel)


# Every step a person records, by the name the CLI and the desk use.
SERVICES: dict[str, Callable[..., StepOutcome]] = {
    "submit": submit,
    "revise": revise,
    "participation": record_participation,
    "experts": record_experts,
    "hearing": record_hearing,
    "assessment": record_assessment,
    "opinion": record_opinion,
    "deliberation": record_deliberation,
    "issuance": record_issuance,
    "filing": record_filing,
    "extension": extend_deadline,
}
