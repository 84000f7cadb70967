"""确认适用程序 (who decides which controls apply): the drafter proposes a matter's flags at
submission; counsel — or the head — confirms or changes them, with a reason, before the opinion.

The flags decide whether public comment, expert argumentation, risk assessment, a hearing window,
法制审核 or collective deliberation happen (``review/law/rules.py``), so the drafter alone never
decides them. The gate (``review/law/gate.py``) refuses the opinion and every later step until
they are confirmed (``Reason.CONTROLS_UNCONFIRMED``), refuses a flag the kind does not have, and
keeps ``major`` on a contract whose amount makes it a 重大合同. The decision is a record
(``ControlDecision``: proposed, confirmed, reason, who and in which role) and an audit event;
the opinion records the controls that applied and who confirmed them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from hefa.review import validation as v
from hefa.review.config import now
from hefa.review.law import gate
from hefa.review.law.rules import ROLE_ZH, Role, Step, rules_for
from hefa.review.people.identity import Credentials
from hefa.review.records.models import ControlDecision, Matter, Officer
from hefa.review.services.snapshot import current_version, roles_of
from hefa.review.services.unit_of_work import Parsed, StepOutcome, Written, perform


def _flags(flags: str | list[str] | tuple[str, ...] | None) -> frozenset[str]:
    return frozenset(v.items(flags, "事项标记", max_len=40))


def confirm_controls(creds: Credentials, matter_id: str, *, flags: str | list[str] | None = None,
                     reason: str, channel: str = "cli", request_id: str | None = None) -> StepOutcome:
    """确认适用程序: ``flags`` are the controls that apply (all of them: a flag left out is removed;
    none given = none apply), ``reason`` says why (required, also when confirming as proposed)."""
    payload = {"flags": flags if isinstance(flags, str) else ",".join(flags or ()), "reason": reason}

    def parse(matter: Matter) -> Parsed:
        confirmed = _flags(flags)
        values = {"confirmed": confirmed, "reason": v.text(reason, "确认理由", max_len=2000, multiline=True)}
        return Parsed(gate.Request(Step.CONTROLS, flags=confirmed), values)

    def write(session: Session, matter: Matter, officer: Officer, values: dict[str, Any]) -> Written:
        proposed = matter.flags
        confirmed = ",".join(sorted(values["confirmed"]))
        capacity = Role.COUNSEL if Role.COUNSEL in roles_of(officer) else Role.HEAD
        session.add(ControlDecision(matter_id=matter.id, proposed=proposed, confirmed=confirmed,
                                    reason=values["reason"], officer_id=officer.id or 0, role=capacity.value,
                                    recorded_at=now()))
        matter.flags = confirmed
        version = current_version(session, matter)
        changed = sorted(set(values["confirmed"]) ^ {f for f in proposed.split(",") if f})
        return Written(version.sha256, recorded={"proposed": proposed, "confirmed": confirmed,
                                                 "changed": ",".join(changed), "decided_as": capacity.value})

    return perform(creds, action="controls", matter_id=matter_id, payload=payload, parse=parse, write=write,
                   channel=channel, request_id=request_id)


def controls_line(session: Session, matter: Matter) -> str:
    """The controls that apply to a matter and who confirmed them, as the opinion records them:
    '公开征求意见（public_impact）；确认：李律师（法律顾问），2026-11-02'."""
    decision = session.scalar(select(ControlDecision).where(ControlDecision.matter_id == matter.id))
    if decision is None:
        return ""
    table = rules_for(matter.kind)
    applied = [f"{table.flags.get(f, f)}（{f}）" for f in decision.confirmed.split(",") if f] or ["无附加程序标记"]
    officer = session.get(Officer, decision.officer_id)
    who = officer.name if officer else str(decision.officer_id)
    capacity = ROLE_ZH[Role(decision.role)]
    return f"{'；'.join(applied)}。确认：{who}（{capacity}），{decision.recorded_at.date().isoformat()}"
