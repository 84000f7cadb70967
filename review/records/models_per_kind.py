"""Tables of issue 14 (per-kind law): who confirmed a matter's controls, which certified
enforcement officers a penalty or licence names, and the short stage records (签发、向党委请示报告、
决策后评估). Imported by ``models.py``, so the schema still reads from one place.
"""

from __future__ import annotations

import datetime as dt

from sqlmodel import Field, SQLModel


class ControlDecision(SQLModel, table=True):
    """确认适用程序: the flags the drafter proposed, and those counsel (or the head) confirmed, with
    the reason. The matter's flags follow the confirmed ones; this record keeps who decided."""

    id: int | None = Field(default=None, primary_key=True)
    matter_id: str = Field(foreign_key="matter.id", index=True, unique=True, max_length=16)
    proposed: str = Field(default="", max_length=200)  # comma-separated flags, as submitted
    confirmed: str = Field(default="", max_length=200)  # comma-separated flags, as decided
    reason: str
    officer_id: int = Field(foreign_key="officer.id")
    role: str = Field(max_length=32)  # counsel | head: in which capacity they decided
    recorded_at: dt.datetime


class EnforcementAssignment(SQLModel, table=True):
    """An enforcement officer (执法人员) a penalty or licence names, with the 行政执法证 as it
    stood when the matter was submitted (《行政处罚法》第四十二条)."""

    id: int | None = Field(default=None, primary_key=True)
    matter_id: str = Field(foreign_key="matter.id", index=True, max_length=16)
    officer_id: int = Field(foreign_key="officer.id")
    certificate_no: str = Field(max_length=64)
    valid_until: dt.date
    recorded_at: dt.datetime


class StepNote(SQLModel, table=True):
    """A short stage record: 签发 (the head), 向同级党委请示报告 (国务院令第713号 第三十一条),
    决策后评估 (第三十六条) — the day, a reference (批示/文号/报告名) and a summary."""

    id: int | None = Field(default=None, primary_key=True)
    matter_id: str = Field(foreign_key="matter.id", index=True, max_length=16)
    version_id: int = Field(foreign_key="documentversion.id")
    step: str = Field(max_length=32)
    held_on: dt.date
    reference: str = Field(default="", max_length=200)
    summary: str = ""
    officer_id: int = Field(foreign_key="officer.id")
    recorded_at: dt.datetime
