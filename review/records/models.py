"""The tables of hefa's database (SQLModel). One module, so the schema reads in one place.

Records of steps are never updated in place: a revision adds a version, a new
opinion adds an opinion. The audit chain (``AuditEvent``) is append-only.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Index, UniqueConstraint
from sqlmodel import Field, SQLModel


class Officer(SQLModel, table=True):
    """An officer (工作人员) with one or more roles, and their credentials.

    The personal token is stored only as a salted HMAC; the TOTP secret is
    stored encrypted with the installation's key (``review/credentials.py``).
    """

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True, max_length=64)
    roles: str = Field(max_length=200)  # comma-separated Role values
    organ: str = Field(default="", max_length=120)
    token_salt: str = Field(max_length=64)
    token_hash: str = Field(max_length=64)
    totp_secret_enc: str = Field(max_length=400)
    totp_last_counter: int = 0  # the last accepted TOTP time-step: replays are refused
    disabled: bool = False
    failed_count: int = 0
    first_failed_at: dt.datetime | None = None
    locked_until: dt.datetime | None = None
    created_at: dt.datetime
    # 登录密码 for the front door: scrypt, set by the officer at first sign-in ("" = not yet set)
    password_hash: str = Field(default="", max_length=300)
    # 行政执法证 (持证上岗): its number and last valid day; "" / None when the officer holds none
    enforcement_cert_no: str = Field(default="", max_length=64)
    enforcement_cert_valid_until: dt.date | None = None
    # 法律职业资格证书编号 (《行政处罚法》第五十八条第二款): "" when not held
    legal_qualification_no: str = Field(default="", max_length=64)


class WebSession(SQLModel, table=True):
    """A signed-in browser (登录会话) at the front door. Only ``sha256(cookie)`` is stored;
    it ends at its idle or absolute expiry, or when the officer signs out."""

    id_hash: str = Field(primary_key=True, max_length=64)
    officer_id: int = Field(foreign_key="officer.id", index=True)
    created_at: dt.datetime
    last_seen: dt.datetime
    expires_at: dt.datetime  # absolute expiry
    ended_at: dt.datetime | None = None  # signed out, or ended by an admin
    client: str = Field(default="", max_length=64)


class Matter(SQLModel, table=True):
    """A matter under review (审查事项): one normative document, decision, contract …"""

    __table_args__ = (Index("ix_matter_status_kind_stage", "status", "kind", "stage"),)

    id: str = Field(primary_key=True, max_length=16)  # e.g. 2026-0007
    kind: str = Field(index=True, max_length=32)
    title: str = Field(max_length=200)
    organ: str = Field(index=True, max_length=120)
    drafter_id: int = Field(foreign_key="officer.id", index=True)
    stage: str = Field(index=True, max_length=32)  # the step it waits for, or closed/rejected
    needs_revision: bool = False  # 退回修改: waiting for the drafter to revise
    status: str = Field(default="open", index=True, max_length=16)  # open | closed | rejected
    flags: str = Field(default="", max_length=200)  # comma-separated flags of the rules table
    amount: int | None = Field(default=None, sa_type=BigInteger)  # contract amount (yuan)
    current_version_id: int | None = None
    opened_on: dt.date  # 立案/受理/起草 date: the start of OPENED clocks
    stage_since: dt.date  # the day the matter began waiting at its current stage
    review_since: dt.date | None = None  # when the current draft went to counsel
    issued_on: dt.date | None = None
    extension_days: int = 0  # head-approved extension of a MAX limit (行政许可法 art. 42)
    run_id: str | None = Field(default=None, max_length=64)  # its workflow run (orchestration), once started
    created_at: dt.datetime
    updated_at: dt.datetime


class DocumentVersion(SQLModel, table=True):
    """A submitted or revised document (文稿版本), stored content-addressed."""

    id: int | None = Field(default=None, primary_key=True)
    matter_id: str = Field(foreign_key="matter.id", index=True, max_length=16)
    number: int
    sha256: str = Field(index=True, max_length=64)
    size: int
    filename: str = Field(max_length=200)
    uploader_id: int = Field(foreign_key="officer.id")
    uploaded_at: dt.datetime
    findings: str = ""  # pre-screen findings, JSON list


class PublicParticipation(SQLModel, table=True):
    """公众参与 / 公开征求意见: the comment period and what came of it."""

    id: int | None = Field(default=None, primary_key=True)
    matter_id: str = Field(foreign_key="matter.id", index=True, max_length=16)
    version_id: int = Field(foreign_key="documentversion.id")
    period_start: dt.date
    period_end: dt.date
    comment_count: int
    summary: str
    shortened_reason: str = ""  # 缩短期限的说明 (国务院令第713号 art. 15)
    officer_id: int = Field(foreign_key="officer.id")
    recorded_at: dt.datetime


class ExpertArgumentation(SQLModel, table=True):
    """专家论证."""

    id: int | None = Field(default=None, primary_key=True)
    matter_id: str = Field(foreign_key="matter.id", index=True, max_length=16)
    version_id: int = Field(foreign_key="documentversion.id")
    experts: str
    summary: str
    held_on: dt.date
    officer_id: int = Field(foreign_key="officer.id")
    recorded_at: dt.datetime


class HearingNotice(SQLModel, table=True):
    """告知与听证 (行政处罚法 arts. 44, 63-65)."""

    id: int | None = Field(default=None, primary_key=True)
    matter_id: str = Field(foreign_key="matter.id", index=True, max_length=16)
    version_id: int = Field(foreign_key="documentversion.id")
    notified_on: dt.date
    hearing: str  # requested | waived | none
    held_on: dt.date | None = None
    summary: str = ""
    officer_id: int = Field(foreign_key="officer.id")
    recorded_at: dt.datetime


class RiskAssessment(SQLModel, table=True):
    """风险评估 (国务院令第713号 arts. 22-24)."""

    id: int | None = Field(default=None, primary_key=True)
    matter_id: str = Field(foreign_key="matter.id", index=True, max_length=16)
    version_id: int = Field(foreign_key="documentversion.id")
    level: str  # low | medium | high
    controllable: bool
    summary: str
    officer_id: int = Field(foreign_key="officer.id")
    recorded_at: dt.datetime
    # why it was assessed: 第二十二条 (the matter's flag) or the township's rule (a setting)
    basis: str = Field(default="", max_length=200)


class LegalOpinion(SQLModel, table=True):
    """法律意见书 / 合法性审查意见: the written opinion on one document version."""

    id: int | None = Field(default=None, primary_key=True)
    matter_id: str = Field(foreign_key="matter.id", index=True, max_length=16)
    version_id: int = Field(foreign_key="documentversion.id", index=True)
    version_sha256: str = Field(max_length=64)
    conclusion: str  # lawful | amend | unlawful
    reasons: str
    officer_id: int = Field(foreign_key="officer.id")
    recorded_at: dt.datetime
    # the controls that applied when the opinion was given, and who confirmed them (确认适用程序)
    controls: str = Field(default="", max_length=400)


class ChecklistEntry(SQLModel, table=True):
    """Counsel's answer to one item of the kind's checklist (逐项审查结果), recorded with the opinion.

    The item's wording and basis are kept as counsel answered them, so the opinion prints what
    was recorded even after the checklist (``review/law/checklists.py``) changes.
    """

    id: int | None = Field(default=None, primary_key=True)
    matter_id: str = Field(foreign_key="matter.id", index=True, max_length=16)
    opinion_id: int = Field(foreign_key="legalopinion.id", index=True)
    position: int  # 1-based, in the checklist's order
    item_key: str = Field(max_length=32)
    aspect: str = Field(max_length=16)
    question: str = Field(max_length=200)
    basis: str = Field(max_length=300)
    result: str = Field(max_length=16)  # conforms | fails | na (vocabulary.ITEM_RESULT)
    note: str = ""


class OpinionNumber(SQLModel, table=True):
    """The opinion's own document number (意见书文号), e.g. 河东法审〔2026〕3号: allocated once, in the
    opinion's transaction, the next serial of its prefix and year; never reused."""

    __table_args__ = (UniqueConstraint("prefix", "year", "serial", name="uq_opinionnumber_serial"),)

    id: int | None = Field(default=None, primary_key=True)
    opinion_id: int = Field(foreign_key="legalopinion.id", unique=True)
    matter_id: str = Field(foreign_key="matter.id", index=True, max_length=16)
    prefix: str = Field(max_length=40)
    year: int
    serial: int
    number: str = Field(max_length=64, unique=True)


class Deliberation(SQLModel, table=True):
    """集体讨论决定 (国务院令第713号 art. 30)."""

    id: int | None = Field(default=None, primary_key=True)
    matter_id: str = Field(foreign_key="matter.id", index=True, max_length=16)
    version_id: int = Field(foreign_key="documentversion.id")
    meeting_kind: str  # 常务会议 / 全体会议 / 办公会议
    meeting_date: dt.date
    attendees: str  # comma-separated
    presiding: str = ""  # the head who spoke last
    views: str = ""  # JSON list of {member, view} in speaking order
    decision: str  # approve | reject | defer
    dissent: str = ""
    head_spoke_last: bool
    urgent_reason: str = ""  # 紧急情况说明 when deliberating before the minimum review time
    officer_id: int = Field(foreign_key="officer.id")
    recorded_at: dt.datetime


class Issuance(SQLModel, table=True):
    """签发公布 / 签订 / 作出决定, with the document number (发文字号)."""

    id: int | None = Field(default=None, primary_key=True)
    matter_id: str = Field(foreign_key="matter.id", index=True, unique=True, max_length=16)
    version_id: int = Field(foreign_key="documentversion.id")
    number: str = Field(max_length=64)
    published_on: dt.date
    officer_id: int = Field(foreign_key="officer.id")
    recorded_at: dt.datetime


class Filing(SQLModel, table=True):
    """备案 / 归档 / 公示."""

    id: int | None = Field(default=None, primary_key=True)
    matter_id: str = Field(foreign_key="matter.id", index=True, unique=True, max_length=16)
    filed_with: str
    receipt: str
    filed_on: dt.date
    officer_id: int = Field(foreign_key="officer.id")
    recorded_at: dt.datetime


class FindingMark(SQLModel, table=True):
    """Counsel's mark on a pre-screen finding (预审提示复核): "not a problem", with the reason.

    A finding is a hint, never a conclusion; counsel's marks are audited and exported to
    the pre-screen's labelled set (``hefa findings export``).
    """

    id: int | None = Field(default=None, primary_key=True)
    matter_id: str = Field(foreign_key="matter.id", index=True, max_length=16)
    version_id: int = Field(foreign_key="documentversion.id")
    finding_index: int  # position in the version's stored findings (1-based, as shown)
    rule: str = Field(default="", max_length=80)
    category: str = Field(max_length=32)
    clause: str  # the finding's words, as flagged
    verdict: str = Field(max_length=16)  # not-a-problem
    reason: str
    officer_id: int = Field(foreign_key="officer.id")
    recorded_at: dt.datetime


class DeadlineExtension(SQLModel, table=True):
    """A head-approved extension of a time limit (行政许可法 art. 42)."""

    id: int | None = Field(default=None, primary_key=True)
    matter_id: str = Field(foreign_key="matter.id", index=True, unique=True, max_length=16)
    days: int
    reason: str
    officer_id: int = Field(foreign_key="officer.id")
    recorded_at: dt.datetime
    notified_on: dt.date | None = None  # 告知申请人延长理由之日 (《行政许可法》第四十二条)


class GeneratedDocument(SQLModel, table=True):
    """A document hefa wrote (法律意见书, 风险评估报告, 集体讨论纪要, 备案报告)."""

    id: int | None = Field(default=None, primary_key=True)
    matter_id: str = Field(foreign_key="matter.id", index=True, max_length=16)
    name: str = Field(max_length=40)
    source: str = Field(max_length=40)  # the record it was written for, e.g. opinion-3
    title: str = Field(max_length=120)
    sha256: str = Field(max_length=64)
    size: int
    chain_seq: int  # the audit chain head printed in the document
    chain_hash: str = Field(max_length=64)
    created_at: dt.datetime


class RequestReceipt(SQLModel, table=True):
    """A request already answered (受理回执): a CLI or browser retry, or a replayed form
    input, with the same ``request_id`` gets the first answer back and records nothing.

    Written in the same transaction as the step or its refusal.
    """

    request_id: str = Field(primary_key=True, max_length=160)
    event_seq: int
    outcome: str = Field(max_length=16)  # accepted | refused
    answer: str = ""  # the first answer, JSON
    taken_at: dt.datetime


class WakeRequest(SQLModel, table=True):
    """Outbox (待通知): a matter's workflow run must be started or woken.

    Written in the transaction of the step that makes it due; a dispatcher delivers
    it, retries with back-off and marks it done. Missed wake-ups are found here,
    not by scanning the workflow engine.
    """

    __table_args__ = (Index("ix_wakerequest_pending", "done_at", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    matter_id: str = Field(foreign_key="matter.id", index=True, max_length=16)
    action: str = Field(max_length=16)  # start | wake
    created_at: dt.datetime
    due_at: dt.datetime  # not before: back-off after a failed delivery
    attempts: int = 0
    done_at: dt.datetime | None = None
    last_error: str = Field(default="", max_length=500)
    event_seq: int | None = None  # the step's audit event
    channel: str = Field(default="", max_length=16)  # the step's channel: cli | form | system


class DeadlineWarning(SQLModel, table=True):
    """An overdue or due-soon warning already raised, once per matter, stage and kind."""

    matter_id: str = Field(primary_key=True, max_length=16)
    stage: str = Field(primary_key=True, max_length=32)
    level: str = Field(primary_key=True, max_length=16)  # due-soon | overdue
    due_on: dt.date
    event_seq: int
    raised_at: dt.datetime


class AuditEvent(SQLModel, table=True):
    """One link of the hash-chained audit log (审计链). Never updated, never deleted.

    ``hash = sha256(seq, at, officer, role, action, matter_id, outcome, reason, doc_sha256,
    channel, payload_digest, prev_hash joined by U+001F)`` — see ``review/audit.py``.
    """

    seq: int = Field(primary_key=True)
    at: str = Field(max_length=40)  # ISO 8601 UTC, as hashed
    officer: str = Field(default="", max_length=64)
    role: str = Field(default="", max_length=32)
    action: str = Field(max_length=40)
    matter_id: str = Field(default="", index=True, max_length=16)  # "" when no matter
    outcome: str = Field(max_length=16)  # accepted | refused | warning | system
    reason: str = ""
    doc_sha256: str = Field(default="", max_length=64)
    channel: str = Field(default="cli", max_length=16)  # cli | form | system
    payload: str = ""  # canonical JSON
    payload_digest: str = Field(max_length=64)
    prev_hash: str = Field(max_length=64, unique=True)
    hash: str = Field(max_length=64, unique=True)


# The installation's own records (issue 13), in their own module, part of this schema.
from hefa.review.records.installation_models import Installation, LawSettingChange  # noqa: E402, F401

# After filing (issue 16): the register, filing reviews, corrections and 清理, in their own module.
from hefa.review.register.models import (  # noqa: E402
    CleanupCampaign,
    CleanupItem,
    Correction,
    FilingReview,
    RegisterDecision,
    RegisterEntry,
)

__all_after_filing__ = (CleanupCampaign, CleanupItem, Correction, FilingReview, RegisterDecision, RegisterEntry)


# Issue 14's tables (确认适用程序, 执法人员, short stage records), kept in their own module.
from hefa.review.records.models_per_kind import (  # noqa: E402
    ControlDecision,
    EnforcementAssignment,
    StepNote,
)

__all_per_kind__ = (ControlDecision, EnforcementAssignment, StepNote)
