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
from enum import Enum
from typing import Any

from prefect.input import RunInput
from pydantic import Field

from hefa.review import vocabulary as vocab
from hefa.review.law.rules import Step

OFFICER = Field(title="办理人员姓名 / officer", description="在 hefa 中登记的姓名", max_length=64)
CODE = Field(title="动态码 / one-time code",
             description="身份验证器 App 显示的6位数字，每个动态码只能使用一次；不要填写令牌",
             pattern=r"^[0-9]{6}$")


def _choices(name: str, vocabulary: vocab.Vocabulary) -> type[Enum]:
    """A drop-down of the vocabulary's labels; the chosen label maps back to its code by lookup."""
    choices = Enum(name, {term.code.upper(): term.label for term in vocabulary})  # type: ignore[misc]
    choices.vocabulary = vocabulary  # type: ignore[attr-defined]
    return choices


Conclusion = _choices("Conclusion", vocab.CONCLUSION)
Level = _choices("Level", vocab.RISK_LEVEL)
Controllable = _choices("Controllable", vocab.CONTROLLABLE)
Decision = _choices("Decision", vocab.DECISION)
HearingChoice = _choices("HearingChoice", vocab.HEARING)
MeetingKind = _choices("MeetingKind", vocab.MEETING_KIND)


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
    controllable: Controllable = Field(title="风险是否可控 / controllable")  # type: ignore[valid-type]
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


def service_kwargs(form: StepForm) -> dict[str, Any]:
    """The form's fields as the step service's keyword arguments: a choice becomes its
    code (exact lookup in its vocabulary), a date its ISO text; name and code stay out."""
    kwargs: dict[str, Any] = {}
    for name in type(form).model_fields:
        if name in ("officer", "code"):
            continue
        value = getattr(form, name)
        if isinstance(value, Enum):
            value = type(value).vocabulary.code_of(value.value)  # type: ignore[attr-defined]
        elif isinstance(value, dt.date):
            value = value.isoformat()
        kwargs[name] = value
    return kwargs


# Each stage's form and the step service it feeds (``steps.SERVICES``): every form field is
# named as the service's keyword argument.
FORMS: dict[Step, tuple[type[StepForm], str]] = {
    Step.PARTICIPATION: (ParticipationForm, "participation"),
    Step.EXPERTS: (ExpertsForm, "experts"),
    Step.HEARING: (HearingForm, "hearing"),
    Step.ASSESSMENT: (AssessmentForm, "assessment"),
    Step.REVIEW: (OpinionForm, "opinion"),
    Step.DELIBERATION: (DeliberationForm, "deliberation"),
    Step.ISSUANCE: (IssuanceForm, "issuance"),
    Step.FILING: (FilingForm, "filing"),
}
