"""Statutory clocks (期限): calendar arithmetic and the due dates of waiting stages.

The clocks themselves are declared in the rules table (``TimeLimit``, each with
its article); the numbers come from settings. Working days use the official
calendar (``review/workdays.py``); the starting day is not counted.

The refusals a limit causes (a comment period too short, a hearing window still
open, deliberation too soon after review began) are decided by the gate
(``review/law/gate.py``) with these functions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hefa.review.config import settings, today
from hefa.review.law import workdays
from hefa.review.law.rules import Bound, StageRule, Start, Step, TimeLimit, Unit, rules_for
from hefa.review.law.settings import law_settings

if TYPE_CHECKING:
    from hefa.review.records.models import Matter


def limit_value(limit: TimeLimit) -> int:
    return int(getattr(law_settings(), limit.setting))


def advance(start: dt.date, amount: int, unit: Unit) -> dt.date:
    """The last day of a limit of ``amount`` units from ``start`` (start not counted)."""
    if unit is Unit.WORKDAYS:
        return workdays.add_workdays(start, amount)
    return workdays.add_days(start, amount)


def left(day: dt.date, due: dt.date, unit: Unit) -> int:
    """Units left from ``day`` until ``due`` (negative when overdue)."""
    if unit is Unit.WORKDAYS:
        return workdays.workdays_between(day, due)
    return (due - day).days


def unit_zh(unit: Unit) -> str:
    return "个工作日" if unit is Unit.WORKDAYS else "日"


@dataclass(frozen=True)
class Due:
    """One running clock of a matter."""

    stage: str
    due_on: dt.date
    unit: Unit
    left: int
    article: str

    @property
    def level(self) -> str:
        if self.left < 0:
            return "overdue"
        if self.left <= settings().due_soon_workdays:
            return "due-soon"
        return "on-time"

    def describe(self) -> str:
        if self.left < 0:
            return f"{self.due_on} 前（已逾期 {-self.left}{unit_zh(self.unit)}）"
        return f"{self.due_on} 前（剩余 {self.left}{unit_zh(self.unit)}）"

    def to_dict(self) -> dict[str, Any]:
        return {"stage": self.stage, "due_on": self.due_on.isoformat(), "unit": self.unit.value,
                "left": self.left, "level": self.level, "article": self.article}


def _start_of(matter: Matter, stage: StageRule, limit: TimeLimit) -> dt.date | None:
    if limit.start is Start.OPENED:
        return matter.opened_on
    if limit.start is Start.ISSUED:
        return matter.issued_on
    if limit.start is Start.STAGE:
        return matter.review_since if stage.step is Step.REVIEW else matter.stage_since
    return None


def running_clocks(matter: Matter, *, on: dt.date | None = None) -> list[Due]:
    """The deadlines (MAX limits) that run for the matter's current stage.

    A clock counted from the opening day (立案/受理) runs from the start until the
    stage that carries it is done, whatever stage the matter is waiting at.
    """
    if matter.status != "open":
        return []
    day = on or today()
    table = rules_for(matter.kind)
    steps = [s.step.value for s in table.stages]
    here = steps.index(matter.stage) if matter.stage in steps else len(steps)
    clocks: dict[str, Due] = {}
    for position, stage in enumerate(table.stages):
        for limit in stage.limits:
            if limit.bound is not Bound.MAX or not limit.runs_for(matter.flags.split(",")):
                continue
            running = position == here or (limit.start is Start.OPENED and position >= here)
            start = _start_of(matter, stage, limit)
            if not running or start is None or limit.setting in clocks:
                continue
            amount = limit_value(limit)
            if limit.extension_setting:
                amount += matter.extension_days
            due = advance(start, amount, limit.unit)
            clocks[limit.setting] = Due(stage.step.value, due, limit.unit,
                                        left(day, due, limit.unit), limit.article)
    return sorted(clocks.values(), key=lambda d: d.due_on)
