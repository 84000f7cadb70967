"""The register's tables (文件登记簿、备案审查、督促整改、清理). Imported by ``review/records/models.py``,
so the schema still reads from one place; migration ``0007_after_filing``.

Like every record in hefa, a decision is never edited: a register entry's status changes only when a
follow-up matter is issued or its validity ends, each change audited.
"""

from __future__ import annotations

import datetime as dt

from sqlmodel import Field, SQLModel


class RegisterEntry(SQLModel, table=True):
    """One issued document in the register (统一登记): number, title, organ, dates, validity, status."""

    id: int | None = Field(default=None, primary_key=True)
    matter_id: str = Field(foreign_key="matter.id", index=True, unique=True, max_length=16)
    version_id: int = Field(foreign_key="documentversion.id")
    kind: str = Field(max_length=32)
    number: str = Field(index=True, max_length=64)  # 发文字号
    title: str = Field(max_length=200)
    organ: str = Field(index=True, max_length=120)
    issued_on: dt.date  # 公布日期
    effective_from: dt.date  # 施行日期
    valid_until: dt.date | None = None  # 有效期届满日 (None: no fixed period)
    provisional: bool = False  # 暂行 / 试行
    status: str = Field(index=True, max_length=16)  # in-force | amended | repealed | expired
    status_since: dt.date
    superseded_by: str | None = Field(default=None, max_length=16)  # the matter that amended/repealed it
    registered_at: dt.datetime


class FilingReview(SQLModel, table=True):
    """备案审查结果: the filing authority's outcome on a filed document, once."""

    id: int | None = Field(default=None, primary_key=True)
    matter_id: str = Field(foreign_key="matter.id", index=True, unique=True, max_length=16)
    outcome: str = Field(max_length=16)  # passed | opinion
    problems: str = ""  # 审查意见: the problems named
    authority: str = Field(default="", max_length=200)  # 备案审查机关
    reviewed_on: dt.date
    officer_id: int = Field(foreign_key="officer.id")
    recorded_at: dt.datetime


class Correction(SQLModel, table=True):
    """督促整改: opened by a 审查意见, closed when the linked revise-or-repeal matter is issued."""

    id: int | None = Field(default=None, primary_key=True)
    matter_id: str = Field(foreign_key="matter.id", index=True, unique=True, max_length=16)
    review_id: int = Field(foreign_key="filingreview.id")
    problems: str
    opened_on: dt.date
    due_on: dt.date
    status: str = Field(index=True, max_length=16)  # open | closed
    follow_up_id: str | None = Field(default=None, max_length=16)  # the revise-or-repeal matter
    closed_on: dt.date | None = None
    recorded_at: dt.datetime


class CleanupCampaign(SQLModel, table=True):
    """清理: a campaign listing the documents due for review on the day it started."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    started_on: dt.date
    due_before: dt.date  # documents whose validity ends on or before this day are listed
    officer_id: int = Field(foreign_key="officer.id")
    created_at: dt.datetime


class CleanupItem(SQLModel, table=True):
    """One document listed by a campaign; its decision once made."""

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="cleanupcampaign.id", index=True)
    matter_id: str = Field(foreign_key="matter.id", index=True, max_length=16)
    decision_id: int | None = Field(default=None, foreign_key="registerdecision.id")


class RegisterDecision(SQLModel, table=True):
    """继续有效 / 修改 / 废止 of a registered document, with its reason; 修改 and 废止 name the new
    matter (the follow-up) that passes legal review; the register changes when it is issued."""

    id: int | None = Field(default=None, primary_key=True)
    matter_id: str = Field(foreign_key="matter.id", index=True, max_length=16)
    decision: str = Field(max_length=16)  # keep | amend | repeal
    reason: str
    follow_up_id: str | None = Field(default=None, foreign_key="matter.id", unique=True, max_length=16)
    officer_id: int = Field(foreign_key="officer.id")
    decided_on: dt.date
    recorded_at: dt.datetime
