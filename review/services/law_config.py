"""The installation's law (本机法律设置): shown to anyone, changed only by an administrator.

``hefa config set NAME VALUE --reason …`` goes through the unit of work like any step: the
officer is authenticated, the gate (``gate.check_setting``) decides — admin role, a declared
setting, a value of its type — and the change is written as a ``LawSettingChange`` record
with the audit event that carries its old and new value; it is in force from that event on.
A refusal is audited with its reason. Any field declared on ``LawSettings`` can be changed
this way, without further code.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from hefa.review import validation as v
from hefa.review.config import now
from hefa.review.errors import Reason, Refused
from hefa.review.law import gate
from hefa.review.law.settings import LawSettings, forget_cached, law_settings, parse_setting_value
from hefa.review.people.identity import Credentials
from hefa.review.records import audit
from hefa.review.records.db import read_session
from hefa.review.records.models import AuditEvent, LawSettingChange
from hefa.review.services.snapshot import actor_of
from hefa.review.services.unit_of_work import StepUnitOfWork, raise_if_refused


def show_law_settings() -> list[dict[str, Any]]:
    """Every law setting: its value in force, its default, and the change that set it (if any)."""
    with read_session() as session:
        in_force = law_settings(session).model_dump(mode="json")
        defaults = LawSettings().model_dump(mode="json")
        last: dict[str, tuple[LawSettingChange, str]] = {}
        rows = session.execute(select(LawSettingChange, AuditEvent.at)
                               .join(AuditEvent, AuditEvent.seq == LawSettingChange.event_seq)  # type: ignore[arg-type]
                               .order_by(LawSettingChange.event_seq))
        for change, at in rows:
            last[change.name] = (change, at)
    out = []
    for name, value in in_force.items():
        row: dict[str, Any] = {"name": name, "value": value, "default": defaults[name], "changed": name in last}
        if name in last:
            change, at = last[name]
            row |= {"by": change.officer, "reason": change.reason, "event": change.event_seq, "at": at}
        out.append(row)
    return out


def set_law_setting(creds: Credentials, name: str, value: str, *, reason: str, channel: str = "cli",
                    request_id: str | None = None) -> dict[str, Any]:
    """变更法律设置: record one change, gate-checked and audited with its old and new value."""
    payload = {"name": name, "value": value, "reason": reason}
    with StepUnitOfWork(creds, action="config-set", channel=channel, payload=payload,
                        request_id=request_id) as uow:
        previous = uow.previous_answer()
        if previous is not None:
            raise_if_refused(previous)
            return previous
        officer = uow.authenticate()
        current = law_settings(uow.session)
        in_force = current.model_dump(mode="json")
        verdict = gate.check_setting(gate.SettingChange(name, value, in_force), actor_of(officer))
        if not verdict.accepted:
            raise Refused(verdict.message, code=verdict.reason or Reason.INVALID_INPUT)
        why = v.text(reason, "变更理由", max_len=1000)
        new = parse_setting_value(name, value)
        old = in_force[name]
        seq = audit.head(uow.session).seq + 1  # the event about to record it (writers are serialised)
        uow.session.add(LawSettingChange(name=name, value=audit.canonical_json(new), officer=officer.name,
                                         reason=why, event_seq=seq, recorded_at=now()))
        event = uow.accept(matter_id=None, details={"old": old, "new": new, "reason": why})
        assert event.seq == seq
        answer = {"accepted": True, "name": name, "old": old, "new": new, "event": event.seq, "hash": event.hash}
        uow.commit(event=event, answer=answer)
    forget_cached()
    return answer
