"""One service per stage (审查环节): what each person records, in the rules table's words.

Each service turns its input into typed values and a ``gate.Request`` (``parse``),
and says what it writes (``write``); ``perform`` does the rest — authentication,
the gate, the move to the next stage, the audit event, the wake-up, the commit.
No service decides a refusal itself: the gate does (``review/law/gate.py``).
"""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import Session

from hefa.review import validation as v
from hefa.review import vocabulary as vocab
from hefa.review.config import now, today
from hefa.review.errors import InvalidInput
from hefa.review.law import gate
from hefa.review.law.checklists import parse_entries
from hefa.review.law.rules import Kind, Step
from hefa.review.law.settings import law_settings
from hefa.review.people.identity import Credentials
from hefa.review.records.models import (
    DeadlineExtension,
    Deliberation,
    ExpertArgumentation,
    Filing,
    HearingNotice,
    Issuance,
    LegalOpinion,
    Matter,
    Officer,
    PublicParticipation,
    RiskAssessment,
)
from hefa.review.services.controls import controls_line
from hefa.review.services.opinion_records import write_opinion_records
from hefa.review.services.snapshot import current_version
from hefa.review.services.unit_of_work import Parsed, StepOutcome, Written, perform


def record_participation(creds: Credentials, matter_id: str, *, period_start: str, period_end: str,
                         comment_count: int | str, summary: str, shortened_reason: str = "",
                         channel: str = "cli", request_id: str | None = None) -> StepOutcome:
    """公众参与 / 公开征求意见: the comment period and the comments received."""
    payload = {"period_start": period_start, "period_end": period_end, "comment_count": comment_count,
               "summary": summary, "shortened_reason": shortened_reason}

    def parse(matter: Matter) -> Parsed:
        first, last = v.date(period_start, "征求意见开始日期"), v.date(period_end, "征求意见截止日期")
        if last < first:
            raise InvalidInput("征求意见截止日期早于开始日期 / the period ends before it starts")
        reason = v.text(shortened_reason, "缩短期限说明", max_len=1000, required=False, multiline=True)
        values = {"period_start": first, "period_end": last,
                  "comment_count": v.count(comment_count, "意见条数"),
                  "summary": v.text(summary, "意见摘要", max_len=4000, multiline=True),
                  "shortened_reason": reason}
        return Parsed(gate.Request(Step.PARTICIPATION, period=(first, last), dates={"征求意见截止日期": last},
                                   reasons={"shortened_reason": reason}), values)

    def write(session: Session, matter: Matter, officer: Officer, values: dict[str, Any]) -> Written:
        version = current_version(session, matter)
        session.add(PublicParticipation(matter_id=matter.id, version_id=version.id or 0, officer_id=officer.id or 0,
                                        recorded_at=now(), **values))
        return Written(version.sha256)

    return perform(creds, action="participation", matter_id=matter_id, payload=payload, parse=parse, write=write,
                   channel=channel, request_id=request_id)


def record_experts(creds: Credentials, matter_id: str, *, experts: str, summary: str,
                   held_on: str | None = None, channel: str = "cli", request_id: str | None = None) -> StepOutcome:
    """专家论证 (国务院令第713号 第十九条至第二十一条)."""
    payload = {"experts": experts, "summary": summary, "held_on": held_on}

    def parse(matter: Matter) -> Parsed:
        held = v.date(held_on, "论证日期", default=today())
        values = {"experts": v.text(experts, "专家", max_len=500),
                  "summary": v.text(summary, "论证意见", max_len=4000, multiline=True), "held_on": held}
        return Parsed(gate.Request(Step.EXPERTS, dates={"论证日期": held}), values)

    def write(session: Session, matter: Matter, officer: Officer, values: dict[str, Any]) -> Written:
        version = current_version(session, matter)
        session.add(ExpertArgumentation(matter_id=matter.id, version_id=version.id or 0,
                                        officer_id=officer.id or 0, recorded_at=now(), **values))
        return Written(version.sha256)

    return perform(creds, action="experts", matter_id=matter_id, payload=payload, parse=parse, write=write,
                   channel=channel, request_id=request_id)


def record_hearing(creds: Credentials, matter_id: str, *, notified_on: str, hearing: str,
                   held_on: str | None = None, summary: str = "", channel: str = "cli",
                   request_id: str | None = None) -> StepOutcome:
    """告知与听证 (行政处罚法 第四十四条、第六十三条至第六十五条)."""
    payload = {"notified_on": notified_on, "hearing": hearing, "held_on": held_on, "summary": summary}

    def parse(matter: Matter) -> Parsed:
        choice = v.choice(hearing, vocab.HEARING.name_zh, vocab.HEARING.as_choices())
        notified = v.date(notified_on, "告知日期")
        held = v.date(held_on, "听证日期") if choice == "requested" else None
        dates = {"告知日期": notified} | ({"听证日期": held} if held else {})
        values = {"notified_on": notified, "hearing": choice, "held_on": held,
                  "summary": v.text(summary, "听证情况说明", max_len=4000, required=False, multiline=True)}
        # The party's waiver, or a hearing held, ends the request window early (the rules' override).
        ended = "" if choice == "none" else vocab.HEARING.zh(choice)
        return Parsed(gate.Request(Step.HEARING, notified_on=notified, hearing=choice, dates=dates,
                                   reasons={"hearing_waived": ended}), values)

    def write(session: Session, matter: Matter, officer: Officer, values: dict[str, Any]) -> Written:
        version = current_version(session, matter)
        session.add(HearingNotice(matter_id=matter.id, version_id=version.id or 0, officer_id=officer.id or 0,
                                  recorded_at=now(), **values))
        return Written(version.sha256)

    return perform(creds, action="hearing", matter_id=matter_id, payload=payload, parse=parse, write=write,
                   channel=channel, request_id=request_id)


def record_assessment(creds: Credentials, matter_id: str, *, level: str, controllable: str | bool, summary: str,
                      channel: str = "cli", request_id: str | None = None) -> StepOutcome:
    """风险评估 (国务院令第713号 第二十二条至第二十四条); uncontrollable risk sends the draft back."""
    payload = {"level": level, "controllable": controllable, "summary": summary}

    def parse(matter: Matter) -> Parsed:
        values = {"level": v.choice(level, vocab.RISK_LEVEL.name_zh, vocab.RISK_LEVEL.as_choices()),
                  "controllable": v.yes_no(controllable, vocab.CONTROLLABLE.name_zh),
                  "summary": v.text(summary, "评估结论", max_len=4000, multiline=True)}
        return Parsed(gate.Request(Step.ASSESSMENT), values)

    def write(session: Session, matter: Matter, officer: Officer, values: dict[str, Any]) -> Written:
        version = current_version(session, matter)
        basis = assessment_basis(matter)
        session.add(RiskAssessment(matter_id=matter.id, version_id=version.id or 0, officer_id=officer.id or 0,
                                   recorded_at=now(), basis=basis, **values))
        return Written(version.sha256, recorded={"basis": basis})

    return perform(creds, action="assessment", matter_id=matter_id, payload=payload, parse=parse, write=write,
                   channel=channel, request_id=request_id)


def assessment_basis(matter: Matter) -> str:
    """Why a major decision is risk-assessed: the law (国务院令第713号 第二十二条, the matter's flag)
    or the township's rule (a setting: every major decision)."""
    if "social_risk" in matter.flags.split(","):
        return "国务院令第713号 第二十二条：决策实施可能对社会稳定、公共安全等方面造成不利影响"
    return "本镇规定：重大行政决策一律进行风险评估（设置 major_risk_assessment_all）"


def record_opinion(creds: Credentials, matter_id: str, *, conclusion: str, reasons: str,
                   version: str | int | None = None, version_sha256: str | None = None,
                   items: str | list[str] | None = None, channel: str = "cli",
                   request_id: str | None = None) -> StepOutcome:
    """合法性审查意见: counsel's written opinion on the current document version.

    The version the opinion is about — ``version`` (its number, or its sha256 or a prefix
    of 8+ hex digits; the CLI requires it) or ``version_sha256`` (the form shows it) —
    must be the current version: an opinion on a superseded draft is refused as stale.
    One opinion per version: a second one on the same version is out of order.

    ``items`` are counsel's answers to the kind's checklist (逐项审查结果), one
    ``KEY=符合|不符合:说明|不适用`` per line or list item (``review/law/checklists.py``); the gate
    requires every item. The opinion gets its own document number (意见书文号) in the same transaction.
    """
    payload = {"conclusion": conclusion, "reasons": reasons, "version": version, "version_sha256": version_sha256,
               "items": items}

    def parse(matter: Matter) -> Parsed:
        values = {"conclusion": v.choice(conclusion, vocab.CONCLUSION.name_zh, vocab.CONCLUSION.as_choices()),
                  "reasons": v.text(reasons, "审查理由", max_len=20000, multiline=True)}
        about = v.text(str(version), "所审版本", max_len=64) if version not in (None, "") else version_sha256
        entries = parse_entries(items)
        values["entries"] = entries
        return Parsed(gate.Request(Step.REVIEW, version_sha256=about, conclusion=values["conclusion"],
                                   checklist=entries), values)

    def write(session: Session, matter: Matter, officer: Officer, values: dict[str, Any]) -> Written:
        version = current_version(session, matter)
        entries = values.pop("entries")
        controls = controls_line(session, matter)  # which controls applied, and who confirmed them
        opinion = LegalOpinion(matter_id=matter.id, version_id=version.id or 0, version_sha256=version.sha256,
                               officer_id=officer.id or 0, recorded_at=now(), controls=controls, **values)
        session.add(opinion)
        recorded = write_opinion_records(session, matter, opinion, entries)
        qualification = ({"legal_qualification": officer.legal_qualification_no}
                         if officer.legal_qualification_no else {})
        return Written(version.sha256, recorded={"version": version.number, "controls": controls,
                                                 **qualification, **recorded})

    return perform(creds, action="opinion", matter_id=matter_id, payload=payload, parse=parse, write=write,
                   channel=channel, request_id=request_id)


def _views(views: list[dict[str, str]] | None) -> list[dict[str, str]]:
    return [{"member": v.text(item.get("member"), "发言人", max_len=64),
             "view": v.text(item.get("view"), "意见", max_len=2000, multiline=True)}
            for item in (views or [])]


def record_deliberation(creds: Credentials, matter_id: str, *, decision: str, attendees: str,
                        meeting_kind: str = "常务会议", meeting_date: str | None = None,
                        presiding: str = "", views: list[dict[str, str]] | None = None,
                        dissent: str = "", head_spoke_last: bool | str = True,
                        urgent_reason: str = "", channel: str = "cli",
                        request_id: str | None = None) -> StepOutcome:
    """集体讨论决定 (国务院令第713号 第三十条): the head speaks last, dissent is recorded."""
    payload = {"decision": decision, "attendees": attendees, "meeting_kind": meeting_kind,
               "meeting_date": meeting_date, "presiding": presiding, "dissent": dissent,
               "head_spoke_last": head_spoke_last, "urgent_reason": urgent_reason, "views": views or []}

    def parse(matter: Matter) -> Parsed:
        people = [v.text(a, "参会人员", max_len=64) for a in attendees.replace("，", ",").split(",") if a.strip()]
        if len(people) < 2:
            raise InvalidInput("集体讨论至少应有两名参会人员 / at least two attendees")
        spoke_last = v.yes_no(head_spoke_last, "行政首长最后发言")
        held = v.date(meeting_date, "会议日期", default=today())
        urgent = v.text(urgent_reason, "紧急情况说明", max_len=1000, required=False)
        statements = _views(views)
        head = v.text(presiding, "主持人", max_len=64, required=False)
        values = {"decision": v.choice(decision, vocab.DECISION.name_zh, vocab.DECISION.as_choices()),
                  "meeting_kind": v.choice(meeting_kind, vocab.MEETING_KIND.name_zh, vocab.MEETING_KIND.codes),
                  "meeting_date": held, "attendees": ",".join(people), "presiding": head,
                  "views": json.dumps(statements, ensure_ascii=False),
                  "dissent": v.text(dissent, "不同意见", max_len=4000, required=False, multiline=True),
                  "head_spoke_last": spoke_last, "urgent_reason": urgent}
        return Parsed(gate.Request(Step.DELIBERATION, meeting_date=held, head_spoke_last=spoke_last,
                                   presiding=head, speakers=tuple(x["member"] for x in statements),
                                   meeting_kind=values["meeting_kind"], dates={"会议日期": held},
                                   # one recorded reason for urgency cuts whichever minimum review time
                                   # applies (国务院令第713号 第二十六条; 国办发〔2018〕115号 原则上)
                                   reasons={"urgent_reason": urgent, "review_shortened_reason": urgent}), values)

    def write(session: Session, matter: Matter, officer: Officer, values: dict[str, Any]) -> Written:
        version = current_version(session, matter)
        session.add(Deliberation(matter_id=matter.id, version_id=version.id or 0, officer_id=officer.id or 0,
                                 recorded_at=now(), **values))
        if values["decision"] == "reject":
            matter.status = "rejected"
        return Written(version.sha256)

    return perform(creds, action="deliberation", matter_id=matter_id, payload=payload, parse=parse, write=write,
                   channel=channel, request_id=request_id)


def record_issuance(creds: Credentials, matter_id: str, *, number: str, published_on: str | None = None,
                    channel: str = "cli", request_id: str | None = None) -> StepOutcome:
    """签发公布 / 签订 / 作出决定, with the document number (发文字号)."""
    payload = {"number": number, "published_on": published_on}

    def parse(matter: Matter) -> Parsed:
        doc_number = (v.document_number(number) if matter.kind == Kind.NORMATIVE_DOCUMENT
                      else v.text(number, "文号/编号", max_len=64))
        published = v.date(published_on, "公布日期", default=today())
        return Parsed(gate.Request(Step.ISSUANCE, number=doc_number, dates={"公布日期": published}),
                      {"number": doc_number, "published_on": published})

    def write(session: Session, matter: Matter, officer: Officer, values: dict[str, Any]) -> Written:
        version = current_version(session, matter)
        session.add(Issuance(matter_id=matter.id, version_id=version.id or 0, officer_id=officer.id or 0,
                             recorded_at=now(), **values))
        matter.issued_on = values["published_on"]
        from hefa.review.register.entries import on_issued  # 统一登记 in the same transaction (issue 16)

        on_issued(session, matter, version_id=version.id or 0, number=values["number"],
                  published_on=values["published_on"])
        return Written(version.sha256)

    return perform(creds, action="issuance", matter_id=matter_id, payload=payload, parse=parse, write=write,
                   channel=channel, request_id=request_id)


def record_filing(creds: Credentials, matter_id: str, *, filed_with: str, receipt: str,
                  filed_on: str | None = None, channel: str = "cli", request_id: str | None = None) -> StepOutcome:
    """备案 / 归档 / 公示."""
    payload = {"filed_with": filed_with, "receipt": receipt, "filed_on": filed_on}

    def parse(matter: Matter) -> Parsed:
        filed = v.date(filed_on, "备案日期", default=today())
        values = {"filed_with": v.text(filed_with, "备案机关", max_len=200),
                  "receipt": v.text(receipt, "备案回执号", max_len=100), "filed_on": filed}
        return Parsed(gate.Request(Step.FILING, dates={"备案日期": filed}), values)

    def write(session: Session, matter: Matter, officer: Officer, values: dict[str, Any]) -> Written:
        session.add(Filing(matter_id=matter.id, officer_id=officer.id or 0, recorded_at=now(), **values))
        return Written(current_version(session, matter).sha256)

    return perform(creds, action="filing", matter_id=matter_id, payload=payload, parse=parse, write=write,
                   channel=channel, request_id=request_id)


def extend_deadline(creds: Credentials, matter_id: str, *, days: int | str, reason: str,
                    notified_on: str | None = None, channel: str = "cli",
                    request_id: str | None = None) -> StepOutcome:
    """延长办理期限 (行政许可法 第四十二条): once, by at most the configured days, approved by the head;
    ``notified_on`` is the day the applicant was told the extension's reason (the gate requires it
    where the rules table says so)."""
    payload = {"days": days, "reason": reason, "notified_on": notified_on}

    def parse(matter: Matter) -> Parsed:
        maximum = law_settings().licence_extension_days
        extra = v.count(days, "延长天数", maximum=maximum)
        if extra < 1:
            raise InvalidInput(f"延长天数须为 1–{maximum} / days must be 1–{maximum}")
        told = v.date(notified_on, "告知延长理由日期") if notified_on not in (None, "") else None
        return Parsed(gate.Request(gate.EXTEND, notified_on=told,
                                   dates={"告知延长理由日期": told} if told else {}),
                      {"days": extra, "reason": v.text(reason, "延长理由", max_len=1000), "notified_on": told})

    def write(session: Session, matter: Matter, officer: Officer, values: dict[str, Any]) -> Written:
        session.add(DeadlineExtension(matter_id=matter.id, officer_id=officer.id or 0, recorded_at=now(), **values))
        matter.extension_days = values["days"]
        return Written(current_version(session, matter).sha256, recorded={"days": values["days"]})

    return perform(creds, action="extension", matter_id=matter_id, payload=payload, parse=parse, write=write,
                   channel=channel, request_id=request_id)

