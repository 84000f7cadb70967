"""The gate (审查关口): may this officer record this step on this matter now?

This file is where every refusal of a step is decided: stage order, role,
separation of duties, a current lawful opinion, stale versions, identical
revisions, the head speaking last, document numbers, dates in the future and
the statutory time limits — and submission itself; and (issue 14) the controls confirmed
by counsel or the head before the opinion, two certified enforcement officers on a penalty
or licence, 法律职业资格 for 法制审核 of penalties, the meetings that may decide a major
decision, and the applicant told why a licence deadline is extended. ``check`` is pure: a
snapshot of the matter (read inside the write transaction), the request and the
actor go in; a ``Verdict`` with a ``Reason`` and a message comes out. The step
services (``review/services/``) only gather the snapshot, call ``check`` and
write; so no code path — CLI, Prefect form, browser, script — can move a matter
past legality review without a current, lawful opinion on the current version.

The order of stages and the time limits are not written here: they are read
from the rules table (``review/law/rules.py``); the numbers come from the
settings carried in the snapshot; working days from the official calendar.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from hefa.review.errors import CalendarError, Reason
from hefa.review.law.checklists import Entry, checklist_for
from hefa.review.law.clocks import advance, unit_zh
from hefa.review.law.rules import (
    DECIDING_STEPS,
    MAJOR_CONTRACT_FLAG,
    ROLE_ZH,
    Bound,
    KindRules,
    Role,
    StageRule,
    Step,
    TimeLimit,
)
from hefa.review.vocabulary import CONCLUSION_SHORT, REGISTER_STATUS

REVISE = "revise"  # 退回修改 / 修改文稿: not a stage, allowed until issuance
EXTEND = "extend"  # 延长期限: the head approves one extension of a decision deadline
MARK_FINDING = "mark-finding"  # counsel marks a pre-screen finding "not a problem" (预审提示复核)
NEW = "new"  # the status of a matter not yet submitted (the snapshot of a submission)


@dataclass(frozen=True)
class VersionRecord:
    """A record tied to one document version: an opinion, assessment, deliberation."""

    version_id: int
    outcome: str  # conclusion / decision / "controllable" / "uncontrollable"


@dataclass(frozen=True)
class Certificate:
    """An officer named as a matter's enforcement officer (执法人员), as the records hold them:
    their 行政执法证 number and validity, read inside the transaction."""

    name: str
    found: bool = True
    disabled: bool = False
    number: str = ""
    valid_until: dt.date | None = None

    def valid_on(self, day: dt.date) -> bool:
        return (self.found and not self.disabled and bool(self.number)
                and self.valid_until is not None and self.valid_until >= day)


@dataclass(frozen=True)
class MatterSnapshot:
    """What the gate needs to know about a matter, read inside the transaction."""

    kind_rules: KindRules
    status: str  # new | open | closed | rejected
    settings: Mapping[str, object]
    today: dt.date
    flags: frozenset[str] = frozenset()
    drafter_id: int = 0
    organ: str = ""
    current_version_id: int = 0
    current_version_number: int = 0
    current_version_sha256: str = ""
    current_uploader_id: int = 0
    version_sha256s: frozenset[str] = frozenset()  # every version ever submitted
    uploader_ids: frozenset[int] = frozenset()  # everyone who uploaded a version: co-drafters
    done: frozenset[Step] = frozenset()  # steps with a record not tied to versions
    opinions: tuple[VersionRecord, ...] = ()
    assessments: tuple[VersionRecord, ...] = ()
    deliberations: tuple[VersionRecord, ...] = ()
    review_since: dt.date | None = None  # when the current draft went to counsel
    extended: bool = False  # a head-approved extension is on record
    number_holder: str | None = None  # the matter already holding the requested 发文字号
    controls_confirmed: bool = False  # 确认适用程序 recorded by counsel or the head
    amount: int | None = None  # a contract's amount (yuan)
    certificates: tuple[Certificate, ...] = ()  # the enforcement officers a request names

    @classmethod
    def new(cls, kind_rules: KindRules, settings: Mapping[str, object], today: dt.date) -> MatterSnapshot:
        """The snapshot of a matter about to be submitted."""
        return cls(kind_rules=kind_rules, status=NEW, settings=settings, today=today)


@dataclass(frozen=True)
class Request:
    """What a person asks to record, with the values the gate decides on.

    Dates are the ones a person gives (meeting, notice, publication …), by their
    Chinese name; ``reasons`` are the recorded reasons that may shorten a minimum
    time limit, by the ``override`` name the rules table gives them.
    """

    step: Step | str
    flags: frozenset[str] = frozenset()  # submission
    version_sha256: str | None = None  # opinion: the version counsel read (number, sha256 or its prefix);
    # revise: the new file's sha256
    dates: Mapping[str, dt.date] = field(default_factory=dict)
    period: tuple[dt.date, dt.date] | None = None  # a comment period, both days included
    notified_on: dt.date | None = None  # 告知日期
    hearing: str | None = None  # vocabulary.HEARING
    meeting_date: dt.date | None = None
    head_spoke_last: bool | None = None
    presiding: str = ""  # who presided (the head)
    speakers: tuple[str, ...] = ()  # the recorded statements' speakers, in order
    number: str | None = None  # 发文字号
    reasons: Mapping[str, str] = field(default_factory=dict)
    meeting_kind: str = ""  # 会议类型 (deliberation)
    enforcers: tuple[str, ...] = ()  # submission: the enforcement officers named (执法人员)
    conclusion: str | None = None  # opinion: lawful | amend | unlawful
    checklist: tuple[Entry, ...] | None = None  # opinion: counsel's answer to each item (审查要点)


@dataclass(frozen=True)
class Actor:
    officer_id: int
    name: str
    roles: frozenset[Role]
    organ: str
    legal_qualification: str = ""  # 法律职业资格证书编号, "" when not held


@dataclass(frozen=True)
class Verdict:
    accepted: bool
    reason: Reason | None = None
    message: str = ""

    @classmethod
    def ok(cls) -> Verdict:
        return cls(True)

    @classmethod
    def refuse(cls, reason: Reason, message: str) -> Verdict:
        return cls(False, reason, message)


@dataclass(frozen=True)
class Progress:
    """Where a matter stands: the stage it waits for, and whether the drafter must revise."""

    waiting_for: StageRule | None  # None when closed or rejected
    needs_revision: bool = False
    why_revision: str = ""
    applicable: tuple[StageRule, ...] = field(default=())


# --- where a matter stands ------------------------------------------------------------------

def applies(stage: StageRule, snapshot: MatterSnapshot) -> bool:
    """Whether a (possibly conditional) stage applies to this matter."""
    if stage.always_if_setting and snapshot.settings.get(stage.always_if_setting):
        return True
    if stage.applies_when is None:  # unconditional, or the township's own stage with its setting off
        return stage.always_if_setting is None
    return stage.applies_when in snapshot.flags or (stage.also_when or "") in snapshot.flags


def _latest_on_current(records: tuple[VersionRecord, ...], snapshot: MatterSnapshot) -> str | None:
    on_current = [r.outcome for r in records if r.version_id == snapshot.current_version_id]
    return on_current[-1] if on_current else None


def _stage_state(stage: StageRule, s: MatterSnapshot) -> tuple[bool, str]:
    """(complete, why a revision is needed or "") for one stage."""
    step = stage.step
    if step is Step.SUBMISSION:
        return True, ""
    if step is Step.CONTROLS:
        return s.controls_confirmed, ""
    if step is Step.REVIEW:
        latest = _latest_on_current(s.opinions, s)
        if latest == "lawful":
            return True, ""
        if latest in ("amend", "unlawful"):
            return False, (f"法律意见为“{CONCLUSION_SHORT.zh(latest)}”，须由起草人修改文稿后重新审查"
                           f" / opinion '{latest}': revise and re-review")
        return False, ""
    if step is Step.ASSESSMENT:
        if not s.assessments:
            return False, ""
        last = s.assessments[-1]
        if last.outcome == "controllable":
            return True, ""
        if last.version_id == s.current_version_id:
            return False, ("风险评估结论为不可控，须调整决策草案后重新评估（第二十四条）"
                           " / risk uncontrollable: revise the draft, then reassess")
        return False, ""
    if step is Step.DELIBERATION:
        return _latest_on_current(s.deliberations, s) == "approve", ""
    return step in s.done, ""


def progress(s: MatterSnapshot) -> Progress:
    """The first applicable stage not yet complete, in the rules table's order."""
    applicable = tuple(st for st in s.kind_rules.stages if applies(st, s))
    if s.status != "open":
        return Progress(None, applicable=applicable)
    for stage in applicable:
        complete, why = _stage_state(stage, s)
        if not complete:
            return Progress(stage, needs_revision=bool(why), why_revision=why, applicable=applicable)
    return Progress(None, applicable=applicable)


# --- the decision ----------------------------------------------------------------------------

def check(snapshot: MatterSnapshot, request: Request, actor: Actor) -> Verdict:
    """Decide one step: accepted, or refused with its reason. Pure."""
    try:
        return _check(snapshot, request, actor)
    except CalendarError as exc:
        return Verdict.refuse(Reason.CALENDAR, str(exc))


def _check(snapshot: MatterSnapshot, request: Request, actor: Actor) -> Verdict:
    if snapshot.status == NEW or request.step == Step.SUBMISSION:
        return _first(_future_dates(snapshot, request), lambda: _check_submission(snapshot, request, actor))
    if snapshot.status != "open":
        state = "已办结" if snapshot.status == "closed" else "已被否决"
        return Verdict.refuse(Reason.CLOSED, f"该事项{state}，不再接受办理 / matter is {snapshot.status}")
    future = _future_dates(snapshot, request)
    if not future.accepted:
        return future
    current = progress(snapshot)
    if request.step == REVISE:
        return _check_revise(snapshot, request, actor)
    if request.step == EXTEND:
        return _check_extend(snapshot, request, actor)
    if request.step == MARK_FINDING:
        return _check_mark(snapshot, actor)
    step = Step(request.step)
    stage = snapshot.kind_rules.stage(step)
    if stage is None or stage not in current.applicable:
        return Verdict.refuse(
            Reason.NOT_APPLICABLE,
            f"{snapshot.kind_rules.name_zh}不经过“{step.value}”步骤 / step does not apply to this matter",
        )
    role = _role_check(actor, *stage.roles)
    if not role.accepted:
        return role
    if stage.requires_legal_qualification and not actor.legal_qualification:
        return Verdict.refuse(
            Reason.LEGAL_QUALIFICATION,
            f"{actor.name} 未登记法律职业资格，不得从事{snapshot.kind_rules.name_zh}的法制审核"
            "（《行政处罚法》第五十八条第二款） / counsel holds no legal qualification on record")
    if stage.drafter_excluded and (actor.officer_id == snapshot.drafter_id
                                   or actor.officer_id in snapshot.uploader_ids):
        return Verdict.refuse(
            Reason.SEPARATION_OF_DUTIES,
            f"起草人不得办理本事项的“{stage.name_zh}” / the drafter may not perform this step",
        )
    if step in DECIDING_STEPS and _review_applies(snapshot):
        opinion = _latest_on_current(snapshot.opinions, snapshot)
        if opinion != "lawful":
            return Verdict.refuse(Reason.NO_CURRENT_OPINION, _opinion_missing(opinion))
    if step is not Step.CONTROLS and not snapshot.controls_confirmed and _after_controls(snapshot, step):
        return Verdict.refuse(
            Reason.CONTROLS_UNCONFIRMED,
            "适用的程序（事项标记）尚未经法律顾问或行政首长确认，不得办理此步骤；请先 hefa controls 确认"
            " / the matter's controls are not confirmed yet")
    waiting = current.waiting_for
    if waiting is None or waiting.step is not step:
        return _out_of_order(step, waiting, current)
    if current.needs_revision:
        return Verdict.refuse(Reason.NEEDS_REVISION, current.why_revision)
    return _STEP_CHECKS.get(step, _no_more)(snapshot, request, actor, stage)


def _first(verdict: Verdict, then: object) -> Verdict:
    return verdict if not verdict.accepted else then()  # type: ignore[operator]


def _no_more(snapshot: MatterSnapshot, request: Request, actor: Actor, stage: StageRule) -> Verdict:
    return Verdict.ok()


def _role_check(actor: Actor, *roles: Role) -> Verdict:
    if not actor.roles & set(roles):
        wanted = "或".join(f"{ROLE_ZH[r]}（{r.value}）" for r in roles)
        return Verdict.refuse(
            Reason.WRONG_ROLE,
            f"{actor.name} 不具有{wanted}岗位，不能办理此步骤 / wrong role",
        )
    return Verdict.ok()


def _after_controls(snapshot: MatterSnapshot, step: Step) -> bool:
    """Whether ``step`` comes after the kind's 确认适用程序 stage."""
    steps = [st.step for st in snapshot.kind_rules.stages]
    return Step.CONTROLS in steps and step in steps and steps.index(step) > steps.index(Step.CONTROLS)


def _future_dates(snapshot: MatterSnapshot, request: Request) -> Verdict:
    """Dates people give (meeting, notice, publication …) may not lie in the future."""
    return _dates_not_future(request.dates, snapshot.today)


def _dates_not_future(dates: Mapping[str, dt.date], today: dt.date) -> Verdict:
    for name, day in dates.items():
        if day > today:
            return Verdict.refuse(Reason.FUTURE_DATE,
                                  f"{name} {day} 晚于今天（{today}），不能记录尚未发生的事项"
                                  " / the date lies in the future")
    return Verdict.ok()


def _check_submission(snapshot: MatterSnapshot, request: Request, actor: Actor) -> Verdict:
    role = _role_check(actor, Role.DRAFTER)
    if not role.accepted:
        return role
    table = snapshot.kind_rules
    unknown = _unknown_flags(table, request)
    if not unknown.accepted:
        return unknown
    return _enforcement_officers(snapshot, request)


def _unknown_flags(table: KindRules, request: Request) -> Verdict:
    unknown = sorted(request.flags - set(table.flags))
    if unknown:
        return Verdict.refuse(Reason.UNKNOWN_FLAG,
                              f"{table.name_zh}没有标记 {unknown[0]!r}；可用：{', '.join(table.flags) or '无'}"
                              " / unknown flag")
    return Verdict.ok()


def _enforcement_officers(snapshot: MatterSnapshot, request: Request) -> Verdict:
    """行政执法 by at least two officers holding a valid 行政执法证 (《行政处罚法》第四十二条)."""
    table = snapshot.kind_rules
    needed = table.enforcement_officers_min
    if not needed:
        if request.enforcers:
            return Verdict.refuse(Reason.NOT_APPLICABLE,
                                  f"{table.name_zh}不指定行政执法人员 / this kind names no enforcement officers")
        return Verdict.ok()
    named = {c.name: c for c in snapshot.certificates}
    valid = [name for name in dict.fromkeys(request.enforcers) if name in named
             and named[name].valid_on(snapshot.today)]
    problems = [_certificate_problem(named.get(name), name, snapshot.today)
                for name in dict.fromkeys(request.enforcers) if name not in valid]
    if len(valid) >= needed and not problems:
        return Verdict.ok()
    detail = "；".join(problems) or "未指定执法人员"
    return Verdict.refuse(
        Reason.ENFORCEMENT_OFFICERS,
        f"{table.name_zh}须由不少于{needed}名持有效行政执法证的执法人员办理，现有 {len(valid)} 名（{detail}）；"
        f"依据：{table.enforcement_article} / at least {needed} certified enforcement officers")


def _certificate_problem(cert: Certificate | None, name: str, today: dt.date) -> str:
    if cert is None or not cert.found:
        return f"{name}：不是登记的人员"
    if cert.disabled:
        return f"{name}：已停用"
    if not cert.number or cert.valid_until is None:
        return f"{name}：未登记行政执法证"
    return f"{name}：行政执法证已于 {cert.valid_until} 过期"


def _review_applies(snapshot: MatterSnapshot) -> bool:
    stage = snapshot.kind_rules.stage(Step.REVIEW)
    return stage is not None and applies(stage, snapshot)


def _opinion_missing(opinion: str | None) -> str:
    if opinion is None:
        return ("现行文稿版本尚无合法性审查意见，不得提交审议、决定、公布或备案"
                " / no legal opinion on the current document version")
    return (f"现行文稿版本的法律意见为“{CONCLUSION_SHORT.zh(opinion)}”，须修改并重新审查后方可继续"
            f" / the current opinion is '{opinion}'")


def _out_of_order(step: Step, waiting: StageRule | None, current: Progress) -> Verdict:
    if waiting is None:
        return Verdict.refuse(Reason.OUT_OF_ORDER, "该事项已无待办步骤 / nothing is pending")
    position = {st.step: i for i, st in enumerate(current.applicable)}
    done = position.get(step, 0) < position[waiting.step]
    verb = "已经完成" if done else "尚未轮到"
    return Verdict.refuse(
        Reason.OUT_OF_ORDER,
        f"“{step.value}”{verb}；本事项正在等待：{waiting.name_zh}（{waiting.step.value}）"
        f" / out of order: the matter is waiting for {waiting.step.value}",
    )


def _check_revise(snapshot: MatterSnapshot, request: Request, actor: Actor) -> Verdict:
    role = _role_check(actor, Role.DRAFTER)
    if not role.accepted:
        return role
    if actor.officer_id != snapshot.drafter_id and actor.organ != snapshot.organ:
        return Verdict.refuse(
            Reason.SEPARATION_OF_DUTIES,
            "只有本事项的起草人或同一机关的起草人可以修改文稿 / only the matter's drafters may revise",
        )
    if Step.ISSUANCE in snapshot.done:
        return Verdict.refuse(Reason.ISSUED, "文件已签发公布，不得再修改 / already issued")
    if request.version_sha256 in snapshot.version_sha256s:
        return Verdict.refuse(
            Reason.IDENTICAL_REVISION,
            "修改稿与本事项已提交过的某一版本完全相同，不是修改 / identical to an earlier version")
    return Verdict.ok()


def _check_extend(snapshot: MatterSnapshot, request: Request, actor: Actor) -> Verdict:
    role = _role_check(actor, Role.HEAD)
    if not role.accepted:
        return role
    extendable = [limit for stage in snapshot.kind_rules.stages for limit in stage.limits
                  if limit.extension_setting]
    if not extendable:
        return Verdict.refuse(Reason.NOT_APPLICABLE,
                              f"{snapshot.kind_rules.name_zh}的期限不可延长 / no extendable time limit")
    if Step.ISSUANCE in snapshot.done:
        return Verdict.refuse(Reason.ISSUED, "已作出决定，无需延长期限 / already decided")
    if snapshot.extended:
        return Verdict.refuse(Reason.ALREADY_EXTENDED, "期限已经延长过一次，不得再延长 / already extended once")
    if any(limit.extension_notice for limit in extendable) and request.notified_on is None:
        return Verdict.refuse(Reason.EXTENSION_NOTICE,
                              "延长期限应当将延长期限的理由告知申请人，请填写告知日期（--notified-on）；"
                              f"依据：{extendable[0].article} / record when the applicant was told the reason")
    return Verdict.ok()


def _check_mark(snapshot: MatterSnapshot, actor: Actor) -> Verdict:
    """Counsel reviewing the matter may mark its findings; the drafter may not clear their own."""
    role = _role_check(actor, Role.COUNSEL)
    if not role.accepted:
        return role
    if actor.officer_id == snapshot.drafter_id or actor.officer_id in snapshot.uploader_ids:
        return Verdict.refuse(Reason.SEPARATION_OF_DUTIES,
                              "起草人不得复核本事项的预审提示 / the drafter may not clear their own findings")
    return Verdict.ok()


# --- what each step adds -----------------------------------------------------------------------

def _check_opinion(snapshot: MatterSnapshot, request: Request, actor: Actor, stage: StageRule) -> Verdict:
    if snapshot.current_uploader_id == actor.officer_id:
        return Verdict.refuse(
            Reason.SEPARATION_OF_DUTIES,
            "法律顾问不得审查本人上传的文稿版本 / counsel may not review a version they uploaded",
        )
    if request.version_sha256 and not _is_current(snapshot, request.version_sha256):
        return Verdict.refuse(
            Reason.STALE_VERSION,
            f"所审文稿不是现行版本（现行为第 {snapshot.current_version_number} 版 "
            f"{snapshot.current_version_sha256[:12]}），请审查最新版本 / stale version")
    return _check_checklist(snapshot, request)


def _check_checklist(snapshot: MatterSnapshot, request: Request) -> Verdict:
    """逐项审查: every item of the kind's checklist answered, and nothing else; 不符合 only with a
    note saying why; no 合法 conclusion over an item counsel found 不符合 (review/law/checklists.py)."""
    checklist = checklist_for(snapshot.kind_rules.kind)
    given = {e.key: e for e in request.checklist or ()}
    unknown = sorted(set(given) - set(checklist.keys))
    if unknown:
        return Verdict.refuse(Reason.CHECKLIST_INCOMPLETE,
                              f"{snapshot.kind_rules.name_zh}的审查要点中没有“{unknown[0]}”；"
                              f"项目为：{'、'.join(checklist.keys)} / unknown checklist item")
    missing = [i for i in checklist.items if i.key not in given]
    if missing:
        listed = "；".join(f"{i.key}（{i.question}）" for i in missing)
        return Verdict.refuse(Reason.CHECKLIST_INCOMPLETE,
                              f"逐项审查未完成，尚未填写：{listed} / every checklist item must be answered")
    for item in checklist.items:
        entry = given[item.key]
        if entry.result == "fails" and not entry.note.strip():
            return Verdict.refuse(Reason.CHECKLIST_NOTE,
                                  f"“{item.question}”为不符合，须写明问题和依据（{item.key}=不符合:说明）"
                                  " / a 'fails' item needs a note")
        if entry.result == "fails" and request.conclusion == "lawful":
            return Verdict.refuse(Reason.CHECKLIST_CONFLICT,
                                  f"“{item.question}”记录为不符合，审查结论不能为“合法”；"
                                  "请改为修改后合法或不合法 / 'lawful' over a failed item")
    return Verdict.ok()


def _is_current(snapshot: MatterSnapshot, reference: str) -> bool:
    """Whether a version reference — its number, or its sha256 or a prefix of 8+ hex digits — is current."""
    reference = reference.strip().lower().removeprefix("v")
    if reference.isdigit() and len(reference) < 8:
        return int(reference) == snapshot.current_version_number
    return len(reference) >= 8 and snapshot.current_version_sha256.startswith(reference)


def _check_deliberation(snapshot: MatterSnapshot, request: Request, actor: Actor, stage: StageRule) -> Verdict:
    """集体讨论: the head speaks last (国务院令第713号 第三十条; the township applies it to every kind).
    A record that says otherwise is refused, never reordered: minutes print what was recorded."""
    speakers_end_elsewhere = bool(request.speakers and request.presiding
                                  and request.speakers[-1] != request.presiding)
    if request.head_spoke_last is False or speakers_end_elsewhere:
        return Verdict.refuse(Reason.HEAD_LAST,
                              "集体讨论时，行政首长（主持人）应当最后发表意见（国务院令第713号 第三十条）；"
                              "请按实际发言顺序记录 / the head must speak last")
    if stage.meeting_kinds and request.meeting_kind not in stage.meeting_kinds:
        return Verdict.refuse(Reason.MEETING_KIND,
                              f"{snapshot.kind_rules.name_zh}应当经{'或'.join(stage.meeting_kinds)}讨论决定，"
                              f"不能以“{request.meeting_kind or '未填'}”代替；依据：{stage.article}"
                              " / this kind is decided only at the meetings the law names")
    return _review_time(snapshot, request)


def _check_controls(snapshot: MatterSnapshot, request: Request, actor: Actor, stage: StageRule) -> Verdict:
    """确认适用程序: only the kind's flags; a flag the law itself makes (重大合同 by its amount) stays."""
    unknown = _unknown_flags(snapshot.kind_rules, request)
    if not unknown.accepted:
        return unknown
    threshold = snapshot.settings.get("major_contract_amount")
    if (snapshot.amount is not None and isinstance(threshold, int) and snapshot.amount >= threshold
            and MAJOR_CONTRACT_FLAG in snapshot.kind_rules.flags and MAJOR_CONTRACT_FLAG not in request.flags):
        return Verdict.refuse(Reason.FLAG_REQUIRED,
                              f"合同金额 {snapshot.amount} 元达到重大合同标准（{threshold} 元），不得取消“major”"
                              " / the amount makes this a major contract")
    return Verdict.ok()


def _check_issuance(snapshot: MatterSnapshot, request: Request, actor: Actor, stage: StageRule) -> Verdict:
    if snapshot.number_holder is not None:
        return Verdict.refuse(Reason.DUPLICATE_NUMBER,
                              f"文号 {request.number} 已被事项 {snapshot.number_holder} 使用 / number already used")
    return Verdict.ok()


def _limit_value(snapshot: MatterSnapshot, limit: TimeLimit) -> int:
    return int(snapshot.settings[limit.setting])  # type: ignore[call-overload]


def _overridden(request: Request, limit: TimeLimit) -> bool:
    """A recorded reason that may shorten this minimum (缩短期限的说明, 紧急情况说明)."""
    return bool(limit.override and (request.reasons.get(limit.override) or "").strip())


def _check_participation(snapshot: MatterSnapshot, request: Request, actor: Actor, stage: StageRule) -> Verdict:
    """A comment period shorter than its minimum needs a recorded reason (国务院令第713号 第十五条)."""
    if request.period is None:
        return Verdict.ok()
    start, end = request.period
    for limit in stage.limits:
        if not limit.runs_for(snapshot.flags):
            continue
        minimum_end = advance(start - dt.timedelta(days=1), _limit_value(snapshot, limit), limit.unit)
        if end < minimum_end and not _overridden(request, limit):
            return Verdict.refuse(
                Reason.PERIOD_TOO_SHORT,
                f"征求意见期限不足{_limit_value(snapshot, limit)}{unit_zh(limit.unit)}（至少应至 {minimum_end}），"
                f"提前结束须说明理由（--shortened-reason）；依据：{limit.article}"
                " / comment period too short: give a reason for shortening",
            )
    return Verdict.ok()


def _check_hearing(snapshot: MatterSnapshot, request: Request, actor: Actor, stage: StageRule) -> Verdict:
    """The hearing step closes only after the request window, unless the party waived
    or a hearing was held (行政处罚法 第六十四条)."""
    if request.notified_on is None:
        return Verdict.ok()
    for limit in stage.limits:
        if not limit.runs_for(snapshot.flags):
            continue
        window_end = advance(request.notified_on, _limit_value(snapshot, limit), limit.unit)
        if snapshot.today <= window_end and not _overridden(request, limit):
            return Verdict.refuse(
                Reason.HEARING_WINDOW,
                f"听证申请期限尚未届满（至 {window_end}），当事人放弃听证的请选 waived；"
                f"依据：{limit.article} / the hearing request window is still open",
            )
    return Verdict.ok()


def _review_time(snapshot: MatterSnapshot, request: Request) -> Verdict:
    """A matter may not be deliberated sooner than the minimum review time after the draft
    went to counsel, unless an urgent-handling reason is recorded (国务院令第713号 第二十六条)."""
    review = snapshot.kind_rules.stage(Step.REVIEW)
    if review is None or snapshot.review_since is None:
        return Verdict.ok()
    meeting = request.meeting_date or snapshot.today
    for limit in review.limits:
        if limit.bound is not Bound.MIN or not limit.override:
            continue
        first_day = advance(snapshot.review_since, _limit_value(snapshot, limit), limit.unit)
        if meeting < first_day and not _overridden(request, limit):
            return Verdict.refuse(
                Reason.REVIEW_TIME,
                f"草案送审于 {snapshot.review_since}，合法性审查时间不少于{_limit_value(snapshot, limit)}"
                f"{unit_zh(limit.unit)}，最早可于 {first_day} 讨论；紧急情况须说明理由"
                f"（--urgent-reason）；依据：{limit.article} / too soon after review began",
            )
    return Verdict.ok()


_STEP_CHECKS = {
    Step.CONTROLS: _check_controls,
    Step.REVIEW: _check_opinion,
    Step.DELIBERATION: _check_deliberation,
    Step.ISSUANCE: _check_issuance,
    Step.PARTICIPATION: _check_participation,
    Step.HEARING: _check_hearing,
}


# --- after filing: 备案审查、督促整改、登记处置（清理） (issue 16) ---------------------------------------

FILING_REVIEW = "filing-review"  # 备案审查结果: 审查通过 or 审查意见
REGISTER_DECISION = "register-decision"  # 继续有效 / 修改 / 废止 of a registered document
CLEANUP_START = "cleanup-start"  # 清理: a campaign lists the documents due for review


@dataclass(frozen=True)
class AfterFiling:
    """What the gate needs about a filed or registered document (read inside the transaction)."""

    kind_rules: KindRules
    today: dt.date
    drafter_id: int = 0
    organ: str = ""
    filed: bool = False  # a 备案 record exists
    filing_reviewed: bool = False  # the filing authority's outcome is already recorded
    review_role: Role | None = None  # who records it (rules.FILING_REVIEW); None: no 备案审查 for the kind
    register_status: str | None = None  # in-force | amended | repealed | expired; None: not registered
    open_correction: bool = False  # a 督促整改 not yet closed
    follow_up_kind: str | None = None  # the revise-or-repeal matter named: its kind
    follow_up_status: str | None = None  # … its status (open | closed | rejected)
    follow_up_organ: str = ""
    follow_up_taken: bool = False  # … already the follow-up of another document


@dataclass(frozen=True)
class AfterFilingRequest:
    action: str  # FILING_REVIEW | REGISTER_DECISION | CLEANUP_START
    outcome: str = ""  # passed | opinion ; keep | amend | repeal
    dates: Mapping[str, dt.date] = field(default_factory=dict)


def check_after_filing(state: AfterFiling | None, request: AfterFilingRequest, actor: Actor,
                       today: dt.date) -> Verdict:
    """Decide a step after filing. Pure. ``state`` is None for a campaign (no one document)."""
    dates = _dates_not_future(request.dates, today)
    if not dates.accepted:
        return dates
    if request.action == CLEANUP_START:
        return _role_check(actor, Role.FILING_OFFICER)
    assert state is not None
    if request.action == FILING_REVIEW:
        return _check_filing_review(state, actor)
    return _check_register_decision(state, request, actor)


def _check_filing_review(state: AfterFiling, actor: Actor) -> Verdict:
    """有件必审: the outcome of the filing authority's review, once, after filing, not by the drafter;
    a village's 村规民约 is evaluated by the township's counsel, never by the village's own."""
    if state.review_role is None:
        return Verdict.refuse(Reason.NOT_APPLICABLE, f"{state.kind_rules.name_zh}没有备案审查环节"
                                                     " / no filing review for this kind")
    role = _role_check(actor, state.review_role)
    if not role.accepted:
        return role
    if actor.officer_id == state.drafter_id or (state.review_role is Role.COUNSEL and actor.organ == state.organ):
        return Verdict.refuse(Reason.SEPARATION_OF_DUTIES,
                              "起草人或制定机关本身的人员不得记录备案审查结果"
                              " / the drafting organ may not review itself")
    if not state.filed:
        return Verdict.refuse(Reason.OUT_OF_ORDER, "该文件尚未备案，不能记录备案审查结果 / not filed yet")
    if state.filing_reviewed:
        return Verdict.refuse(Reason.OUT_OF_ORDER, "备案审查结果已经记录 / the filing review is already recorded")
    return Verdict.ok()


def _check_register_decision(state: AfterFiling, request: AfterFilingRequest, actor: Actor) -> Verdict:
    """清理 / 督促整改: the drafting organ keeps, amends or repeals a document in force; amending and
    repealing name a new matter (of the same kind and organ, open) that passes review like any other."""
    role = _role_check(actor, Role.DRAFTER)
    if not role.accepted:
        return role
    if actor.officer_id != state.drafter_id and actor.organ != state.organ:
        return Verdict.refuse(Reason.SEPARATION_OF_DUTIES,
                              "只有制定机关的起草人员可以作出清理结论 / only the drafting organ decides")
    if state.register_status != "in-force":
        label = {None: "未登记", **REGISTER_STATUS.as_choices()}.get(state.register_status, str(state.register_status))
        return Verdict.refuse(Reason.NOT_IN_FORCE, f"该文件{label}，不是现行有效文件 / not a document in force")
    if request.outcome == "keep":
        if state.open_correction:
            return Verdict.refuse(Reason.CORRECTION_OPEN, "备案审查意见要求纠正，整改完成前不能认定继续有效"
                                                          " / a correction is open: amend or repeal")
        return Verdict.ok()
    if state.follow_up_status != "open" or state.follow_up_kind != state.kind_rules.kind.value:
        return Verdict.refuse(Reason.FOLLOW_UP, f"修改或废止须另立同类型、正在办理的事项（{state.kind_rules.name_zh}）"
                                                "并经合法性审查 / name an open matter of the same kind")
    if state.follow_up_organ != state.organ or state.follow_up_taken:
        return Verdict.refuse(Reason.FOLLOW_UP, "所列事项不属于同一制定机关，或已用于处置其他文件"
                                                " / the follow-up belongs to another organ or document")
    return Verdict.ok()


# --- the installation's law (法律设置) -------------------------------------------------------------

@dataclass(frozen=True)
class SettingChange:
    """An administrator's change of one law setting (``hefa config set``): its name, the value
    as typed, and the settings in force (plain JSON values)."""

    name: str
    value: str
    current: Mapping[str, object]


def check_setting(change: SettingChange, actor: Actor) -> Verdict:
    """Only an administrator changes the installation's law; the setting must be declared in
    ``LawSettings`` and the value of its type (the settings as a whole stay valid). Pure."""
    from hefa.review.law.settings import LawSettings, parse_setting_value, with_change

    role = _role_check(actor, Role.ADMIN)
    if not role.accepted:
        return Verdict.refuse(Reason.WRONG_ROLE, "只有管理员可以更改法律设置 / only an admin changes law settings")
    if change.name not in LawSettings.model_fields:
        known = ", ".join(sorted(LawSettings.model_fields))
        return Verdict.refuse(Reason.UNKNOWN_SETTING,
                              f"没有名为 {change.name} 的法律设置；可用：{known} / unknown law setting")
    try:
        with_change(LawSettings.model_validate(dict(change.current)), change.name,
                    parse_setting_value(change.name, change.value))
    except ValueError as exc:
        return Verdict.refuse(Reason.SETTING_VALUE, str(exc))
    return Verdict.ok()
