"""The step services (审查环节), by the name the CLI, the desk and the forms use.

Where each lives: ``submission.py`` (起草提交、修改文稿), ``stages.py`` (one service per
stage), ``unit_of_work.py`` (authenticate → gate → write → audit → commit, or the
audited refusal), ``snapshot.py`` (what the gate reads). The gate itself is
``review/law/gate.py``.
"""

from __future__ import annotations

from collections.abc import Callable

from hefa.review.people.identity import Credentials
from hefa.review.services.controls import confirm_controls
from hefa.review.services.findings import mark_finding
from hefa.review.services.runs import attach_run
from hefa.review.services.stage_notes import record_evaluation, record_party_report, record_signing
from hefa.review.services.stages import (
    extend_deadline,
    record_assessment,
    record_deliberation,
    record_experts,
    record_filing,
    record_hearing,
    record_issuance,
    record_opinion,
    record_participation,
)
from hefa.review.services.submission import revise, submit
from hefa.review.services.unit_of_work import StepOutcome, answered, refuse_unparsed

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
    "finding-mark": mark_finding,
    "controls": confirm_controls,
    "signing": record_signing,
    "party-report": record_party_report,
    "evaluation": record_evaluation,
}


__all__ = [
    "SERVICES",
    "Credentials",
    "StepOutcome",
    "answered",
    "attach_run",
    "confirm_controls",
    "extend_deadline",
    "mark_finding",
    "record_assessment",
    "record_deliberation",
    "record_evaluation",
    "record_experts",
    "record_filing",
    "record_hearing",
    "record_issuance",
    "record_opinion",
    "record_participation",
    "record_party_report",
    "record_signing",
    "refuse_unparsed",
    "revise",
    "submit",
]
