"""Short stage records (``StepNote``): 签发 by the head, 向同级党委请示报告 before a major decision
is issued, and 决策后评估 after it (both 国务院令第713号; article numbers not confirmed).

Each is a stage of the rules table; the gate decides order, role and the current lawful opinion.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from hefa.review import validation as v
from hefa.review.config import now, today
from hefa.review.law import gate
from hefa.review.law.rules import Step
from hefa.review.people.identity import Credentials
from hefa.review.records.models import Matter, Officer, StepNote
from hefa.review.services.snapshot import current_version
from hefa.review.services.unit_of_work import Parsed, StepOutcome, Written, perform

# step -> (action name, label of its date, label of its reference, reference required)
_NOTES: dict[Step, tuple[str, str, str, bool]] = {
    Step.SIGNING: ("signing", "签发日期", "签发意见", False),
    Step.PARTY_REPORT: ("party-report", "请示报告日期", "请示报告文号或批示", True),
    Step.EVALUATION: ("evaluation", "评估日期", "评估报告名称", True),
}


def _record_note(step: Step, creds: Credentials, matter_id: str, *, held_on: str | None, reference: str,
                 summary: str, channel: str, request_id: str | None) -> StepOutcome:
    action, date_label, reference_label, reference_required = _NOTES[step]
    payload = {"held_on": held_on, "reference": reference, "summary": summary}

    def parse(matter: Matter) -> Parsed:
        held = v.date(held_on, date_label, default=today())
        values = {"held_on": held,
                  "reference": v.text(reference, reference_label, max_len=200, required=reference_required),
                  "summary": v.text(summary, "情况说明", max_len=4000, required=step is Step.EVALUATION,
                                    multiline=True)}
        return Parsed(gate.Request(step, dates={date_label: held}), values)

    def write(session: Session, matter: Matter, officer: Officer, values: dict[str, Any]) -> Written:
        version = current_version(session, matter)
        session.add(StepNote(matter_id=matter.id, version_id=version.id or 0, step=step.value,
                             officer_id=officer.id or 0, recorded_at=now(), **values))
        return Written(version.sha256)

    return perform(creds, action=action, matter_id=matter_id, payload=payload, parse=parse, write=write,
                   channel=channel, request_id=request_id)


def record_signing(creds: Credentials, matter_id: str, *, held_on: str | None = None, reference: str = "",
                   summary: str = "", channel: str = "cli", request_id: str | None = None) -> StepOutcome:
    """签发: the head signs the deliberated normative document or major decision; the office then
    registers, numbers and issues it (统一登记、统一编号、统一印发: ``record_issuance``)."""
    return _record_note(Step.SIGNING, creds, matter_id, held_on=held_on, reference=reference, summary=summary,
                        channel=channel, request_id=request_id)


def record_party_report(creds: Credentials, matter_id: str, *, held_on: str | None = None, reference: str,
                        summary: str = "", channel: str = "cli", request_id: str | None = None) -> StepOutcome:
    """向同级党委请示报告 (国务院令第713号), where the matter's flag says so."""
    return _record_note(Step.PARTY_REPORT, creds, matter_id, held_on=held_on, reference=reference,
                        summary=summary, channel=channel, request_id=request_id)


def record_evaluation(creds: Credentials, matter_id: str, *, held_on: str | None = None, reference: str,
                      summary: str, channel: str = "cli", request_id: str | None = None) -> StepOutcome:
    """决策后评估 (国务院令第713号), where the matter's flag says so."""
    return _record_note(Step.EVALUATION, creds, matter_id, held_on=held_on, reference=reference,
                        summary=summary, channel=channel, request_id=request_id)
