"""The Prefect UI's resume forms: one ``RunInput`` per stage, in Chinese first.

This module imports no database code: the flow process stays light, and the
inputs are handed to ``review/`` by ``flows/flow_work.py`` (through the desk).
A form asks for the officer's name and the 6-digit code of their authenticator
app, never a long-lived token: whatever a form receives is stored by Prefect in
plain text (``flow_run_input``) until the flow deletes it. The schema checks
only shape (a choice is a choice, a code is six digits, a date is a date);
every check that matters — credentials, role, order, current version, time
limits — is done by the ``review/`` service the input is handed to.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from enum import Enum
from typing import Any

from prefect.input import RunInput
from pydantic import Field

from hefa.review.law.rules import MEETING_KINDS, Step

OFFICER = Field(title="办理人员姓名 / officer", description="在 hefa 中登记的姓名", max_length=64)
CODE = Field(title="动态码 / one-time code",
             description="身份验证器 App 显示的6位数字，每个动态码只能使用一次；不要填写令牌",
             pattern=r"^[0-9]{6}$")


def _code(choice: Enum) -> str:
    """The machine code of a labelled choice: '合法，同意提交审议 (lawful)' → 'lawful'."""
    return str(choice.value).rsplit("(", 1)[1].rstrip(")")


class Conclusion(Enum):
    LAWFUL = "合法，同意提交审议 (lawful)"
    AMEND = "修改后合法，建议修改后提交 (amend)"
    UNLAWFUL = "不合法，不得提交审议 (unlawful)"


class Level(Enum):
    LOW = "低 (low)"
    MEDIUM = "中 (medium)"
    HIGH = "高 (high)"


class YesNo(Enum):
    YES = "是 (yes)"
    NO = "否 (no)"


class Decision(Enum):
    APPROVE = "同意 (approve)"
    REJECT = "不同意 (reject)"
    DEFER = "暂缓 (defer)"


class HearingChoice(Enum):
    REQUESTED = "当事人申请听证并已举行 (requested)"
    WAIVED = "当事人放弃听证 (waived)"
    NONE = "告知期满未申请听证 (none)"


MeetingKind = Enum("MeetingKind", {k: k for k in MEETING_KINDS})  # type: ignore[misc]


class StepForm(RunInput):
    officer: str = OFFICER
    code: str = CODE


class ParticipationForm(StepForm):
    """公众参与 / 公开征求意见"""

    period_start: dt.date = Field(title="征求意见开始日期 / period start")
    period_end: dt.date = Field(title="征求意见截止日期 / period end")
    comment_count: int = Field(title="收到意见条数 / comments received", ge=0)
    summary: str = Field(title="意见及采纳情况 / summary", min_length=1, max_length=4000)
    shortened_reason: str = Field("", title="期限缩短的理由（如有）/ reason for a shorter period",
                                  max_length=1000)


class ExpertsForm(StepForm):
    """专家论证"""

    experts: str = Field(title="论证专家 / experts", min_length=1, max_length=500)
    summary: str = Field(title="论证意见 / conclusions", min_length=1, max_length=4000)
    held_on: dt.date = Field(title="论证日期 / date")


class HearingForm(StepForm):
    """告知与听证"""

    notified_on: dt.date = Field(title="告知日期 / notified on")
    hearing: HearingChoice = Field(title="听证情况 / hearing")
    held_on: dt.date | None = Field(None, title="听证日期（已举行时）/ held on")
    summary: str = Field("", title="情况说明 / notes", max_length=4000)


class AssessmentForm(StepForm):
    """风险评估"""

    level: Level = Field(title="风险等级 / risk level")
    controllable: YesNo = Field(title="风险是否可控 / controllable")
    summary: str = Field(title="评估结论 / summary", min_length=1, max_length=4000)


class OpinionForm(StepForm):
    """合法性审查意见"""

    conclusion: Conclusion = Field(title="审查结论 / conclusion")
    reasons: str = Field(title="审查意见和理由 / reasons",
                         description="逐条写明发现的问题及法律依据", min_length=1, max_length=20000)


class DeliberationForm(StepForm):
    """集体讨论决定"""

    decision: Decision = Field(title="会议决定 / decision")
    meeting_kind: MeetingKind = Field(title="会议类型 / meeting")  # type: ignore[valid-type]
    meeting_date: dt.date = Field(title="会议日期 / date")
    attendees: str = Field(title="参会人员（逗号分隔）/ attendees", min_length=1, max_length=1000)
    presiding: str = Field(title="主持人（行政首长）/ presiding head", min_length=1, max_length=64)
    head_spoke_last: bool = Field(True, title="行政首长最后发表意见 / the head spoke last")
    dissent: str = Field("", title="不同意见（如实记录）/ dissent", max_length=4000)
    urgent_reason: str = Field("", title="紧急情况说明（审查未满期限时）/ urgent reason", max_length=1000)


class IssuanceForm(StepForm):
    """签发公布 / 签订 / 作出决定"""

    number: str = Field(title="文号 / document number", description="如 河政规〔2026〕1号",
                        min_length=1, max_length=64)
    published_on: dt.date = Field(title="公布/签订/决定日期 / date")


class FilingForm(StepForm):
    """备案 / 归档"""

    filed_with: str = Field(title="备案机关 / filed with", min_length=1, max_length=200)
    receipt: str = Field(title="备案回执号 / receipt", min_length=1, max_length=100)
    filed_on: dt.date = Field(title="备案日期 / date")


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, dt.date) else value


# Each stage's form, the step service it feeds (``steps.SERVICES``) and how its fields become
# the service's arguments.
FORMS: dict[Step, tuple[type[StepForm], str, Callable[[Any], dict]]] = {
    Step.PARTICIPATION: (ParticipationForm, "participation", lambda f: {
        "period_start": _iso(f.period_start), "period_end": _iso(f.period_end),
        "comment_count": f.comment_count, "summary": f.summary,
        "shortened_reason": f.shortened_reason}),
    Step.EXPERTS: (ExpertsForm, "experts", lambda f: {
        "experts": f.experts, "summary": f.summary, "held_on": _iso(f.held_on)}),
    Step.HEARING: (HearingForm, "hearing", lambda f: {
        "notified_on": _iso(f.notified_on), "hearing": _code(f.hearing),
        "held_on": _iso(f.held_on), "summary": f.summary}),
    Step.ASSESSMENT: (AssessmentForm, "assessment", lambda f: {
        "level": _code(f.level), "controllable": _code(f.controllable), "summary": f.summary}),
    Step.REVIEW: (OpinionForm, "opinion", lambda f: {
        "conclusion": _code(f.conclusion), "reasons": f.reasons}),
    Step.DELIBERATION: (DeliberationForm, "deliberation", lambda f: {
        "decision": _code(f.decision), "meeting_kind": f.meeting_kind.value,
        "meeting_date": _iso(f.meeting_date), "attendees": f.attendees, "presiding": f.presiding,
        "head_spoke_last": f.head_spoke_last, "dissent": f.dissent,
        "urgent_reason": f.urgent_reason}),
    Step.ISSUANCE: (IssuanceForm, "issuance", lambda f: {
        "number": f.number, "published_on": _iso(f.published_on)}),
    Step.FILING: (FilingForm, "filing", lambda f: {
        "filed_with": f.filed_with, "receipt": f.receipt, "filed_on": _iso(f.filed_on)}),
}
