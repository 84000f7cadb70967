"""The gate (审查关口): may this officer record this step on this matter now?

Pure: a snapshot of the matter and the request go in, a ``Verdict`` with the
reason comes out. Every service calls ``check`` inside the transaction that
records the step (``review/steps.py``), so no code path — CLI, Prefect form,
script — can move a matter past legality review without a current, lawful
opinion on the current document version.

The order of stages is not written here: it is read from ``rules.RULES``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from hefa.review.law.rules import DECIDING_STEPS, ROLE_ZH, KindRules, Role, StageRule, Step

REVISE = "revise"  # 退回修改 / 修改文稿: not a stage, allowed until issuance
EXTEND = "extend"  # 延长期限: the head approves one extension of a decision deadline


@dataclass(frozen=True)
class VersionRecord:
    """A record tied to one document version: an opinion, assessment, deliberation."""

    version_id: int
    outcome: str  # conclusion / decision / "controllable" / "uncontrollable"


@dataclass(frozen=True)
class MatterSnapshot:
    """What the gate needs to know about a matter, read inside the transaction."""

    kind_rules: KindRules
    status: str  # open | closed | rejected
    flags: frozenset[str]
    settings: Mapping[str, object]
    drafter_id: int
    organ: str
    current_version_id: int
    current_uploader_id: int
    done: frozenset[Step] = frozenset()  # steps with a record not tied to versions
    opinions: tuple[VersionRecord, ...] = ()
    assessments: tuple[VersionRecord, ...] = ()
    deliberations: tuple[VersionRecord, ...] = ()
    extended: bool = False  # a head-approved extension is on record
    uploader_ids: frozenset[int] = frozenset()  # everyone who uploaded a version: co-drafters


@dataclass(frozen=True)
class Actor:
    officer_id: int
    name: str
    roles: frozenset[Role]
    organ: str


@dataclass(frozen=True)
class Verdict:
    accepted: bool
    reason: str = ""
    code: str = ""

    @classmethod
    def ok(cls) -> Verdict:
        return cls(True)

    @classmethod
    def refuse(cls, code: str, reason: str) -> Verdict:
        return cls(False, reason, code)


@dataclass(frozen=True)
class Progress:
    """Where a matter stands: the stage it waits for, and whether the drafter must revise."""

    waiting_for: StageRule | None  # None when closed or rejected
    needs_revision: bool = False
    why_revision: str = ""
    applicable: tuple[StageRule, ...] = field(default=())


CONCLUSION_ZH = {"lawful": "合法", "amend": "修改后合法", "unlawful": "不合法"}


def applies(stage: StageRule, snapshot: MatterSnapshot) -> bool:
    """Whether a (possibly conditional) stage applies to this matter."""
    if stage.always_if_setting and snapshot.settings.get(stage.always_if_setting):
        return True
    return stage.applies_when is None or stage.applies_when in snapshot.flags


def _latest_on_current(records: tuple[VersionRecord, ...], snapshot: MatterSnapshot) -> str | None:
    on_current = [r.outcome for r in records if r.version_id == snapshot.current_version_id]
    return on_current[-1] if on_current else None


def _stage_state(stage: StageRule, s: MatterSnapshot) -> tuple[bool, str]:
    """(complete, why a revision is needed or "") for one stage."""
    step = stage.step
    if step is Step.SUBMISSION:
        return True, ""
    if step is Step.REVIEW:
        latest = _latest_on_current(s.opinions, s)
        if latest == "lawful":
            return True, ""
        if latest in ("amend", "unlawful"):
            return False, (f"法律意见为“{CONCLUSION_ZH[latest]}”，须由起草人修改文稿后重新审查"
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


def _stage_zh(stage: StageRule) -> str:
    return f"{stage.name_zh}（{stage.step.value}）"


def _role_check(actor: Actor, role: Role) -> Verdict:
    if role not in actor.roles:
        return Verdict.refuse(
            "wrong-role",
            f"{actor.name} 不具有{ROLE_ZH[role]}（{role.value}）岗位，不能办理此步骤 / wrong role",
        )
    return Verdict.ok()


def check(
    snapshot: MatterSnapshot,
    step: Step | str,
    actor: Actor,
    *,
    extra: Callable[[StageRule], Verdict] | None = None,
) -> Verdict:
    """Decide one step. ``extra`` adds the checks of time limits (``review/deadlines.py``)."""
    if snapshot.status != "open":
        state = "已办结" if snapshot.status == "closed" else "已被否决"
        return Verdict.refuse("closed", f"该事项{state}，不再接受办理 / matter is {snapshot.status}")
    current = progress(snapshot)
    if step == REVISE:
        return _check_revise(snapshot, actor, current)
    if step == EXTEND:
        return _check_extend(snapshot, actor)
    step = Step(step)
    stage = snapshot.kind_rules.stage(step)
    if stage is None or stage not in current.applicable:
        return Verdict.refuse(
            "not-applicable",
            f"{snapshot.kind_rules.name_zh}不经过“{step.value}”步骤 / step does not apply to this matter",
        )
    role = _role_check(actor, stage.role)
    if not role.accepted:
        return role
    if stage.drafter_excluded and (actor.officer_id == snapshot.drafter_id
                                   or actor.officer_id in snapshot.uploader_ids):
        return Verdict.refuse(
            "separation-of-duties",
            f"起草人不得办理本事项的“{stage.name_zh}” / the drafter may not perform this step",
        )
    waiting = current.waiting_for
    if step in DECIDING_STEPS and _review_applies(snapshot):
        opinion = _latest_on_current(snapshot.opinions, snapshot)
        if opinion != "lawful":
            return Verdict.refuse("no-current-opinion", _opinion_missing(opinion))
    if waiting is None or waiting.step is not step:
        return _out_of_order(step, waiting, current)
    if current.needs_revision:
        return Verdict.refuse("needs-revision", current.why_revision)
    if step is Step.REVIEW and snapshot.current_uploader_id == actor.officer_id:
        return Verdict.refuse(
            "separation-of-duties",
            "法律顾问不得审查本人上传的文稿版本 / counsel may not review a version they uploaded",
        )
    if extra is not None:
        return extra(stage)
    return Verdict.ok()


def _review_applies(snapshot: MatterSnapshot) -> bool:
    stage = snapshot.kind_rules.stage(Step.REVIEW)
    return stage is not None and applies(stage, snapshot)


def _opinion_missing(opinion: str | None) -> str:
    if opinion is None:
        return ("现行文稿版本尚无合法性审查意见，不得提交审议、决定、公布或备案"
                " / no legal opinion on the current document version")
    return (f"现行文稿版本的法律意见为“{CONCLUSION_ZH[opinion]}”，须修改并重新审查后方可继续"
            f" / the current opinion is '{opinion}'")


def _out_of_order(step: Step, waiting: StageRule | None, current: Progress) -> Verdict:
    if waiting is None:
        return Verdict.refuse("out-of-order", "该事项已无待办步骤 / nothing is pending")
    position = {st.step: i for i, st in enumerate(current.applicable)}
    done = position.get(step, 0) < position[waiting.step]
    verb = "已经完成" if done else "尚未轮到"
    return Verdict.refuse(
        "out-of-order",
        f"“{step.value}”{verb}；本事项正在等待：{_stage_zh(waiting)}"
        f" / out of order: the matter is waiting for {waiting.step.value}",
    )


def _check_revise(snapshot: MatterSnapshot, actor: Actor, current: Progress) -> Verdict:
    role = _role_check(actor, Role.DRAFTER)
    if not role.accepted:
        return role
    if actor.officer_id != snapshot.drafter_id and actor.organ != snapshot.organ:
        return Verdict.refuse(
            "separation-of-duties",
            "只有本事项的起草人或同一机关的起草人可以修改文稿 / only the matter's drafters may revise",
        )
    if Step.ISSUANCE in snapshot.done:
        return Verdict.refuse("issued", "文件已签发公布，不得再修改 / already issued")
    return Verdict.ok()


def _check_extend(snapshot: MatterSnapshot, actor: Actor) -> Verdict:
    role = _role_check(actor, Role.HEAD)
    if not role.accepted:
        return role
    if not any(limit.extension_setting for stage in snapshot.kind_rules.stages for limit in stage.limits):
        return Verdict.refuse("not-applicable",
                              f"{snapshot.kind_rules.name_zh}的期限不可延长 / no extendable time limit")
    if Step.ISSUANCE in snapshot.done:
        return Verdict.refuse("issued", "已作出决定，无需延长期限 / already decided")
    if snapshot.extended:
        return Verdict.refuse("already-extended", "期限已经延长过一次，不得再延长 / already extended once")
    return Verdict.ok()
