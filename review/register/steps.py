"""After-filing steps (备案之后的办理), each one unit of work: authenticate → the gate → write → audit → commit.

* ``record_filing_review`` — 有件必审: the filing authority's outcome, 审查通过 or 审查意见 naming the
  problems; a 审查意见 opens a correction (督促整改) due ``correction_days`` later.
* ``decide`` — 继续有效 / 修改 / 废止 of a registered document, with its reason; 修改 and 废止 name the
  new matter (submitted like any other and reviewed like any other) that will amend or repeal it. A
  decision on a document listed by an open 清理 campaign answers its item; one on a document under
  correction links the correction to the follow-up.
* ``start_cleanup`` — 清理: list every document in force whose validity ends within
  ``expiry_warning_days`` (or that is under correction).

Refusals are decided by ``review/law/gate.py`` (``check_after_filing``) and audited by the unit of work.
These steps do not move the matter (it is closed) and owe its run nothing: the register and the
overdue scan show them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, or_, select
from sqlmodel import Session

from hefa.review import validation as v
from hefa.review import vocabulary as vocab
from hefa.review.config import now, today
from hefa.review.errors import Refused
from hefa.review.law import gate
from hefa.review.law.rules import FILING_REVIEW, Kind, rules_for
from hefa.review.law.settings import law_settings
from hefa.review.people.identity import Credentials
from hefa.review.records.models import Filing, Matter, Officer
from hefa.review.register.models import (
    CleanupCampaign,
    CleanupItem,
    Correction,
    FilingReview,
    RegisterDecision,
    RegisterEntry,
)
from hefa.review.services.snapshot import actor_of
from hefa.review.services.unit_of_work import StepOutcome, StepUnitOfWork, replay


@dataclass(frozen=True)
class _Parsed:
    request: gate.AfterFilingRequest
    values: dict[str, Any] = field(default_factory=dict)
    follow_up: str | None = None


def after_filing_state(session: Session, matter: Matter, follow_up_id: str | None = None) -> gate.AfterFiling:
    """What the gate reads about a filed or registered document, inside the caller's transaction."""
    entry = session.scalar(select(RegisterEntry).where(RegisterEntry.matter_id == matter.id))
    from hefa.review.register.entries import shown_status

    review = FILING_REVIEW.get(Kind(matter.kind))
    follow_up = session.get(Matter, follow_up_id) if follow_up_id else None
    taken = follow_up_id is not None and bool(session.scalar(
        select(func.count()).select_from(RegisterDecision).where(RegisterDecision.follow_up_id == follow_up_id)))
    return gate.AfterFiling(
        kind_rules=rules_for(matter.kind), today=today(), drafter_id=matter.drafter_id, organ=matter.organ,
        filed=session.scalar(select(Filing.id).where(Filing.matter_id == matter.id)) is not None,
        filing_reviewed=session.scalar(select(FilingReview.id).where(FilingReview.matter_id == matter.id))
        is not None,
        review_role=review[0] if review else None,
        register_status=shown_status(entry) if entry is not None else None,
        open_correction=session.scalar(select(Correction.id).where(Correction.matter_id == matter.id,
                                                                   Correction.status == "open")) is not None,
        follow_up_kind=follow_up.kind if follow_up else None,
        follow_up_status=follow_up.status if follow_up else None,
        follow_up_organ=follow_up.organ if follow_up else "",
        follow_up_taken=taken,
    )


Write = Callable[[Session, Matter | None, Officer, dict[str, Any]], tuple[str, dict[str, Any]]]


def _perform(creds: Credentials, *, action: str, matter_id: str | None, payload: dict[str, Any],
             parse: Callable[[], _Parsed], write: Write, channel: str, request_id: str | None) -> StepOutcome:
    """One after-filing step in one unit of work; a refusal is audited by the unit of work."""
    with StepUnitOfWork(creds, action=action, channel=channel, matter_id=matter_id, payload=payload,
                        request_id=request_id) as uow:
        previous = uow.previous_answer()
        if previous is not None:
            return replay(previous)
        officer = uow.authenticate()
        matter = uow.matter(matter_id) if matter_id else None
        parsed = parse()
        state = after_filing_state(uow.session, matter, parsed.follow_up) if matter is not None else None
        verdict = gate.check_after_filing(state, parsed.request, actor_of(officer), today())
        if not verdict.accepted:
            raise Refused(verdict.message, code=verdict.reason or "invalid-input")
        message, recorded = write(uow.session, matter, officer, parsed.values)
        event = uow.accept(matter_id=matter.id if matter else None, details=recorded)
        outcome = StepOutcome(matter_id=matter.id if matter else "", action=action, event_seq=event.seq,
                              event_hash=event.hash, stage=matter.stage if matter else "register",
                              needs_revision=False, message=message, details=recorded)
        uow.commit(event=event, answer=outcome.to_dict())
        return outcome


def record_filing_review(creds: Credentials, matter_id: str, *, outcome: str, problems: str = "",
                         authority: str = "", reviewed_on: str | None = None, channel: str = "cli",
                         request_id: str | None = None) -> StepOutcome:
    """备案审查结果 (有件必审、有错必纠): 审查通过, or 审查意见 naming the problems, which opens a
    correction (督促整改) due ``correction_days`` calendar days after the review."""
    payload = {"outcome": outcome, "problems": problems, "authority": authority, "reviewed_on": reviewed_on}

    def parse() -> _Parsed:
        chosen = v.choice(outcome, vocab.FILING_REVIEW.name_zh, vocab.FILING_REVIEW.as_choices())
        day = v.date(reviewed_on, "审查日期", default=today())
        named = v.text(problems, "审查意见（存在的问题）", max_len=4000, required=chosen == "opinion", multiline=True)
        values = {"outcome": chosen, "problems": named, "reviewed_on": day,
                  "authority": v.text(authority, "备案审查机关", max_len=200, required=False)}
        return _Parsed(gate.AfterFilingRequest(gate.FILING_REVIEW, chosen, {"审查日期": day}), values)

    def write(session: Session, matter: Matter | None, officer: Officer,
              values: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        assert matter is not None
        review = FilingReview(matter_id=matter.id, officer_id=officer.id or 0, recorded_at=now(), **values)
        session.add(review)
        session.flush()
        if values["outcome"] == "passed":
            return "备案审查通过 / filing review passed", {"outcome": "passed"}
        due = values["reviewed_on"] + dt.timedelta(days=law_settings().correction_days)
        session.add(Correction(matter_id=matter.id, review_id=review.id or 0, problems=values["problems"],
                               opened_on=values["reviewed_on"], due_on=due, status="open", recorded_at=now()))
        return (f"审查意见：已启动督促整改，限 {due} 前修改或废止 / correction opened, due {due}",
                {"outcome": "opinion", "correction_due": due.isoformat()})

    return _perform(creds, action="filing-review", matter_id=matter_id, payload=payload, parse=parse, write=write,
                    channel=channel, request_id=request_id)


def decide(creds: Credentials, matter_id: str, *, decision: str, reason: str, follow_up: str | None = None,
           channel: str = "cli", request_id: str | None = None) -> StepOutcome:
    """继续有效 / 修改 / 废止 of a registered document (清理, or 督促整改), with its reason.

    继续有效 renews the validity period from the decision day (重新登记、重新计算有效期);
    修改 and 废止 name the follow-up matter; the register changes when that matter is issued."""
    payload = {"decision": decision, "reason": reason, "follow_up": follow_up}

    def parse() -> _Parsed:
        chosen = v.choice(decision, vocab.REGISTER_DECISION.name_zh, vocab.REGISTER_DECISION.as_choices())
        named = v.text(follow_up, "修改/废止事项编号", max_len=16, required=chosen != "keep")
        values = {"decision": chosen, "reason": v.text(reason, "理由", max_len=4000, multiline=True),
                  "follow_up_id": named if chosen != "keep" else None}
        return _Parsed(gate.AfterFilingRequest(gate.REGISTER_DECISION, chosen), values,
                       follow_up=values["follow_up_id"])

    def write(session: Session, matter: Matter | None, officer: Officer,
              values: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        assert matter is not None
        record = RegisterDecision(matter_id=matter.id, officer_id=officer.id or 0, decided_on=today(),
                                  recorded_at=now(), **values)
        session.add(record)
        session.flush()
        item = session.scalar(select(CleanupItem).where(CleanupItem.matter_id == matter.id,
                                                        CleanupItem.decision_id.is_(None)))  # type: ignore[union-attr]
        if item is not None:
            item.decision_id = record.id
            session.add(item)
        recorded: dict[str, Any] = {"decision": values["decision"], "follow_up": values["follow_up_id"] or "",
                                    "campaign": item.campaign_id if item else None}
        if values["decision"] == "keep":
            _renew(session, matter, recorded)
            return "继续有效：已重新计算有效期 / kept in force, validity renewed", recorded
        correction = session.scalar(select(Correction).where(Correction.matter_id == matter.id,
                                                             Correction.status == "open"))
        if correction is not None:
            correction.follow_up_id = values["follow_up_id"]
            session.add(correction)
            recorded["correction"] = correction.id
        verb = vocab.REGISTER_DECISION.zh(values["decision"])
        return (f"{verb}：待事项 {values['follow_up_id']} 经审查并公布后更新登记 / the register changes when "
                f"{values['follow_up_id']} is issued", recorded)

    return _perform(creds, action="register-decision", matter_id=matter_id, payload=payload, parse=parse,
                    write=write, channel=channel, request_id=request_id)


def _renew(session: Session, matter: Matter, recorded: dict[str, Any]) -> None:
    from hefa.review.register.entries import validity

    entry = session.scalar(select(RegisterEntry).where(RegisterEntry.matter_id == matter.id))
    assert entry is not None
    until, _provisional = validity(entry.kind, entry.title, today())
    entry.valid_until = until
    entry.status_since = today()
    session.add(entry)
    recorded["valid_until"] = until.isoformat() if until else ""


def start_cleanup(creds: Credentials, *, name: str, channel: str = "cli",
                  request_id: str | None = None) -> StepOutcome:
    """清理: a campaign listing the documents in force whose validity ends within
    ``expiry_warning_days`` of today, and those under correction."""
    payload = {"name": name}

    def parse() -> _Parsed:
        return _Parsed(gate.AfterFilingRequest(gate.CLEANUP_START), {"name": v.text(name, "清理名称", max_len=200)})

    def write(session: Session, matter: Matter | None, officer: Officer,
              values: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        until = today() + dt.timedelta(days=law_settings().expiry_warning_days)
        campaign = CleanupCampaign(name=values["name"], started_on=today(), due_before=until,
                                   officer_id=officer.id or 0, created_at=now())
        session.add(campaign)
        session.flush()
        corrected = select(Correction.matter_id).where(Correction.status == "open")
        due = list(session.scalars(
            select(RegisterEntry.matter_id)
            .where(RegisterEntry.status == "in-force",
                   or_(RegisterEntry.valid_until <= until,  # type: ignore[operator]
                       RegisterEntry.matter_id.in_(corrected)))  # type: ignore[attr-defined]
            .order_by(RegisterEntry.valid_until, RegisterEntry.matter_id)))
        for listed in due:
            session.add(CleanupItem(campaign_id=campaign.id or 0, matter_id=listed))
        return (f"清理“{values['name']}”：列出 {len(due)} 件到期或须纠正的文件 / {len(due)} documents listed",
                {"campaign": campaign.id, "listed": due, "due_before": until.isoformat()})

    return _perform(creds, action="cleanup-start", matter_id=None, payload=payload, parse=parse, write=write,
                    channel=channel, request_id=request_id)


def campaigns() -> list[dict[str, Any]]:
    """Every 清理 campaign with its items and their decisions."""
    from hefa.review.records.db import read_session

    with read_session() as session:
        decisions = {d.id: d for d in session.scalars(select(RegisterDecision))}
        titles = dict(session.execute(select(RegisterEntry.matter_id, RegisterEntry.title)).all())
        out = []
        for c in session.scalars(select(CleanupCampaign).order_by(CleanupCampaign.id)):
            items = []
            for item in session.scalars(select(CleanupItem).where(CleanupItem.campaign_id == c.id)
                                        .order_by(CleanupItem.id)):
                d = decisions.get(item.decision_id or 0)
                items.append({"matter": item.matter_id, "title": titles.get(item.matter_id, ""),
                              "decision": d.decision if d else "",
                              "decision_zh": vocab.REGISTER_DECISION.zh(d.decision) if d else "待定",
                              "reason": d.reason if d else "", "follow_up": (d.follow_up_id or "") if d else ""})
            out.append({"id": c.id, "name": c.name, "started_on": c.started_on.isoformat(),
                        "due_before": c.due_before.isoformat(), "items": items,
                        "open": any(not i["decision"] for i in items)})
        return out
