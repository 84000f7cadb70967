"""The Prefect UI's resume forms: one ``RunInput`` per stage, in Chinese first.

This module imports no database code: the flow process stays light. A form asks
for the step's fields only — never a name, a code or a token: the only way a
form is answered is the front door's resume handler (``web/proxy.py``), which
knows the signed-in officer and hands the fields to the ``review/`` service with
that identity. The schema checks only shape (a choice is a choice, a date is a
date); every check that matters — identity, role, order, current version, time
limits — is done by the ``review/`` service. An input that reaches Prefect some
other way is not from hefa: the flow ignores it, audits that it did, and
deletes it (``desk/flow_work.py``).
"""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Any

from prefect.input import RunInput
from pydantic import Field

from hefa.review import vocabulary as vocab
from hefa.review.law.rules import Step


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
    """A stage's form: the step's fields only. Who answers is the front door's signed-in officer."""


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


def _version_field(default: int) -> Any:
    """The opinion form's 所审文稿版本 field, with the version the run waits on as its default."""
    return Field(default, title="所审文稿版本 / version read", ge=1,
                 description="审查意见针对的文稿版本；文稿已修改时，对旧版本的意见不予受理")


class OpinionForm(StepForm):
    """合法性审查意见"""

    version: int = _version_field(1)
    conclusion: Conclusion = Field(title="审查结论 / conclusion")
    reasons: str = Field(title="审查意见和理由 / reasons",
                         description="逐条写明发现的问题及法律依据", min_length=1, max_length=20000)
    items: str = Field(title=vocab.ITEMS_FIELD_TITLE, description=vocab.ITEMS_FIELD_HELP,
                       min_length=1, max_length=20000)


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


class ControlsForm(StepForm):
    """确认适用程序（法律顾问或行政首长确认起草人提出的标记）"""

    flags: str = Field("", title=vocab.CONTROLS_FIELD_TITLE, description=vocab.CONTROLS_FIELD_HELP,
                       max_length=400)
    reason: str = Field(title=vocab.CONTROLS_REASON_TITLE, min_length=1, max_length=2000)


class SigningForm(StepForm):
    """签发（行政首长）"""

    held_on: dt.date = Field(title="签发日期 / signed on")
    reference: str = Field("", title="签发意见 / remarks", max_length=200)


class PartyReportForm(StepForm):
    """向同级党委请示报告（国务院令第713号）"""

    held_on: dt.date = Field(title="请示报告日期 / reported on")
    reference: str = Field(title="请示报告文号或批示 / reference", min_length=1, max_length=200)
    summary: str = Field("", title="情况说明 / notes", max_length=4000)


class EvaluationForm(StepForm):
    """决策后评估（国务院令第713号）"""

    held_on: dt.date = Field(title="评估日期 / evaluated on")
    reference: str = Field(title="评估报告名称 / report", min_length=1, max_length=200)
    summary: str = Field(title="评估结论 / conclusions", min_length=1, max_length=4000)


def service_kwargs(form: StepForm) -> dict[str, Any]:
    """The form's fields as the step service's keyword arguments: a choice becomes its
    code (exact lookup in its vocabulary), a date its ISO text."""
    kwargs: dict[str, Any] = {}
    for name in type(form).model_fields:
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
    Step.CONTROLS: (ControlsForm, "controls"),
    Step.SIGNING: (SigningForm, "signing"),
    Step.PARTY_REPORT: (PartyReportForm, "party-report"),
    Step.EVALUATION: (EvaluationForm, "evaluation"),
}


def waiting_form(step: Step, description: str, version: int | None = None) -> type[StepForm]:
    """The form a run waits with at ``step``: the matter's description above it and, for an
    opinion, the version counsel reads filled in (an opinion on an older one is refused as stale)."""
    model = FORMS[step][0]
    if step is Step.REVIEW and version is not None:
        return model.with_initial_data(description=description, version=_version_field(version))
    return model.with_initial_data(description=description)


def form_for(stage: str) -> tuple[type[StepForm], str] | None:
    """The form and the step's action for a wait label's stage, None if no form answers it."""
    return FORMS[Step(stage)] if stage in {step.value for step in FORMS} else None
