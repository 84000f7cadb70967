"""Statutory clocks (期限): due dates of waiting stages and the limits the gate enforces.

The clocks themselves are declared in the rules table (``TimeLimit``, each with
its article); the numbers come from settings. Working days use the official
calendar (``review/workdays.py``); the starting day is not counted.

Enforced where the law forbids:
- a comment period shorter than its minimum needs a recorded reason (国务院令第713号 art. 15);
- a major decision may not be deliberated sooner than the minimum review time after
  the draft went to counsel, unless an urgent-handling reason is recorded (art. 26);
- a penalty's hearing step closes only after the request window, unless waived (行政处罚法 art. 64);
- an extension of a licence decision needs the head's approval (行政许可法 art. 42).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from hefa.review import validation as v
from hefa.review.config import settings, today
from hefa.review.law import workdays
from hefa.review.law.gate import Verdict
from hefa.review.law.rules import Bound, StageRule, Start, Step, TimeLimit, Unit, rules_for
from hefa.review.records.models import Matter


def limit_value(limit: TimeLimit) -> int:
    return int(getattr(settings(), limit.setting))


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


def _unit_zh(unit: Unit) -> str:
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
            return f"{self.due_on} 前（已逾期 {-self.left}{_unit_zh(self.unit)}）"
        return f"{self.due_on} 前（剩余 {self.left}{_unit_zh(self.unit)}）"

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
            if limit.bound is not Bound.MAX:
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


def _period_long_enough(start: dt.date, end: dt.date, limit: TimeLimit) -> tuple[bool, dt.date]:
    """Whether a period [start, end] (both days included) lasts at least the minimum."""
    minimum_end = advance(start - dt.timedelta(days=1), limit_value(limit), limit.unit)
    return end >= minimum_end, minimum_end


def enforce(session: Session, matter: Matter, stage: StageRule, payload: dict[str, Any]) -> Verdict:
    """The time-limit checks for one step, called by the gate inside the transaction."""
    del session  # the matter row carries the dates the checks need
    try:
        if stage.step is Step.PARTICIPATION:
            return _comment_period(stage, payload)
        if stage.step is Step.HEARING:
            return _hearing_window(stage, payload)
        if stage.step is Step.DELIBERATION:
            return _review_time(matter, payload)
    except workdays.CalendarOutOfRange as exc:
        return Verdict.refuse("calendar", str(exc))
    return Verdict.ok()


def _comment_period(stage: StageRule, payload: dict[str, Any]) -> Verdict:
    for limit in stage.limits:
        start = v.date(payload.get("period_start"), "征求意见开始日期")
        end = v.date(payload.get("period_end"), "征求意见截止日期")
        enough, minimum_end = _period_long_enough(start, end, limit)
        if not enough and not (payload.get(limit.override or "") or "").strip():
            return Verdict.refuse(
                "period-too-short",
                f"征求意见期限不足{limit_value(limit)}{_unit_zh(limit.unit)}（至少应至 {minimum_end}），"
                f"提前结束须说明理由（--shortened-reason）；依据：{limit.article}"
                " / comment period too short: give a reason for shortening",
            )
    return Verdict.ok()


def _hearing_window(stage: StageRule, payload: dict[str, Any]) -> Verdict:
    if payload.get("hearing") != "none":
        return Verdict.ok()
    for limit in stage.limits:
        notified = v.date(payload.get("notified_on"), "告知日期")
        window_end = advance(notified, limit_value(limit), limit.unit)
        if today() <= window_end:
            return Verdict.refuse(
                "hearing-window",
                f"听证申请期限尚未届满（至 {window_end}），当事人放弃听证的请选 waived；"
                f"依据：{limit.article} / the hearing request window is still open",
            )
    return Verdict.ok()


def _review_time(matter: Matter, payload: dict[str, Any]) -> Verdict:
    review = rules_for(matter.kind).stage(Step.REVIEW)
    if review is None or matter.review_since is None:
        return Verdict.ok()
    meeting = v.date(payload.get("meeting_date"), "会议日期", default=today())
    for limit in review.limits:
        if limit.bound is not Bound.MIN or not limit.override:
            continue
        first_day = advance(matter.review_since, limit_value(limit), limit.unit)
        if meeting < first_day and not (payload.get(limit.override) or "").strip():
            return Verdict.refuse(
                "review-time",
                f"草案送审于 {matter.review_since}，合法性审查时间不少于{limit_value(limit)}"
                f"{_unit_zh(limit.unit)}，最早可于 {first_day} 讨论；紧急情况须说明理由"
                f"（--urgent-reason）；依据：{limit.article} / too soon after review began",
            )
    return Verdict.ok()
