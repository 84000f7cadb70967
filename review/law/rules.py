"""The rules table (规则表): which stages each kind of matter passes, in which order,
who performs each, when a stage applies, and its time limits — each cited to its
article. This is the only place the order is written; the gate, the flows, the
CLI's ``pending`` and the deadline scan all read it from here.

Numbers that provincial or local rules set are not written here: a ``TimeLimit``
names the law setting (``review/law/settings.py``) that holds it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from hefa.review.errors import RulesTableError


class Role(StrEnum):
    """Officer roles (岗位)."""

    DRAFTER = "drafter"  # 起草人 / 承办人
    COUNSEL = "counsel"  # 法律顾问 / 合法性审查人员
    ASSESSOR = "assessor"  # 风险评估人员
    SECRETARY = "secretary"  # 会议记录人 / 办公室
    HEAD = "head"  # 行政首长 / 主要负责人
    FILING_OFFICER = "filing_officer"  # 备案人员
    ADMIN = "admin"  # 系统管理员


ROLE_ZH: dict[Role, str] = {
    Role.DRAFTER: "起草人",
    Role.COUNSEL: "法律顾问",
    Role.ASSESSOR: "风险评估人员",
    Role.SECRETARY: "会议记录人",
    Role.HEAD: "行政首长",
    Role.FILING_OFFICER: "备案人员",
    Role.ADMIN: "管理员",
}


class Kind(StrEnum):
    """Matter kinds (事项类型)."""

    NORMATIVE_DOCUMENT = "normative-document"  # 行政规范性文件
    MAJOR_DECISION = "major-decision"  # 重大行政决策
    CONTRACT = "contract"  # 政府合同
    ADMINISTRATIVE_PENALTY = "administrative-penalty"  # 行政处罚决定
    ADMINISTRATIVE_LICENCE = "administrative-licence"  # 行政许可决定


KIND_ZH: dict[Kind, str] = {
    Kind.NORMATIVE_DOCUMENT: "行政规范性文件",
    Kind.MAJOR_DECISION: "重大行政决策",
    Kind.CONTRACT: "政府合同",
    Kind.ADMINISTRATIVE_PENALTY: "行政处罚决定",
    Kind.ADMINISTRATIVE_LICENCE: "行政许可决定",
}


class Step(StrEnum):
    """What a person records. A stage of a kind is one step at one position."""

    SUBMISSION = "submission"  # 起草提交 / 立案 / 受理
    PARTICIPATION = "participation"  # 公众参与 / 公开征求意见
    EXPERTS = "experts"  # 专家论证
    HEARING = "hearing"  # 告知与听证 (行政处罚法 arts. 44, 63-65)
    ASSESSMENT = "assessment"  # 风险评估
    REVIEW = "review"  # 合法性审查 / 法制审核: the legal opinion
    DELIBERATION = "deliberation"  # 集体讨论决定
    ISSUANCE = "issuance"  # 签发公布 / 签订 / 作出决定
    FILING = "filing"  # 备案 / 归档 / 公示


class Unit(StrEnum):
    WORKDAYS = "workdays"  # 工作日: official calendar with 调休
    DAYS = "days"  # 日: calendar days


class Bound(StrEnum):
    MIN = "min"  # may not end earlier (a period that must last at least …)
    MAX = "max"  # must be done by (a deadline)


class Start(StrEnum):
    """The moment a clock starts (the starting day itself is not counted)."""

    STAGE = "stage"  # the day the matter began waiting at this stage
    OPENED = "opened"  # the matter's opening day: 立案 / 受理
    ISSUED = "issued"  # the publication day (公布之日)
    PERIOD = "period"  # the start of the period the step records (comment period)


@dataclass(frozen=True)
class TimeLimit:
    """One statutory clock. ``setting`` names the configurable number in ``Settings``."""

    bound: Bound
    setting: str
    unit: Unit
    start: Start
    article: str
    # What may override a MIN limit, recorded and audited (e.g. 缩短征求意见期限的说明).
    override: str | None = None
    # A MAX limit that one head-approved extension can lengthen by this setting.
    extension_setting: str | None = None


@dataclass(frozen=True)
class StageRule:
    """One stage of one kind of matter.

    ``applies_when`` names a matter flag that makes a conditional stage apply;
    ``always_if_setting`` names a setting that, when true, makes it apply anyway
    (a township rule stricter than national law).
    """

    step: Step
    name_zh: str
    role: Role
    article: str
    applies_when: str | None = None
    always_if_setting: str | None = None
    drafter_excluded: bool = False  # separation of duties: not the matter's drafter
    limits: tuple[TimeLimit, ...] = ()

    @property
    def conditional(self) -> bool:
        return self.applies_when is not None


@dataclass(frozen=True)
class KindRules:
    kind: Kind
    name_zh: str
    source: str
    stages: tuple[StageRule, ...]
    # Flags a drafter may set at submission, with their Chinese meaning.
    flags: Mapping[str, str] = field(default_factory=dict)

    def stage(self, step: Step) -> StageRule | None:
        return next((s for s in self.stages if s.step is step), None)


_SUBMIT_SOD = dict(drafter_excluded=False)

_FILING_30_DAYS = TimeLimit(
    Bound.MAX, "filing_within_days", Unit.DAYS, Start.ISSUED,
    "备案时限：公布之日起30日内（省级规范性文件备案规定，可配置）",
)

RULES: dict[Kind, KindRules] = {
    Kind.NORMATIVE_DOCUMENT: KindRules(
        kind=Kind.NORMATIVE_DOCUMENT,
        name_zh="行政规范性文件",
        source="国办发〔2018〕37号；国办发〔2018〕115号",
        flags={"public_impact": "涉及群众切身利益，须公开征求意见"},
        stages=(
            StageRule(Step.SUBMISSION, "起草", Role.DRAFTER, "国办发〔2018〕37号 二（一）", **_SUBMIT_SOD),
            StageRule(
                Step.PARTICIPATION, "公开征求意见", Role.DRAFTER,
                "国办发〔2018〕37号 二（二）：征求意见期限一般不少于7个工作日",
                applies_when="public_impact",
                limits=(TimeLimit(
                    Bound.MIN, "normative_comment_min_workdays", Unit.WORKDAYS, Start.PERIOD,
                    "国办发〔2018〕37号 二（二）", override="shortened_reason",
                ),),
            ),
            StageRule(
                Step.REVIEW, "合法性审核", Role.COUNSEL,
                "国办发〔2018〕115号：未经合法性审核或者经审核不合法的，不得提交集体审议",
                drafter_excluded=True,
                limits=(
                    TimeLimit(Bound.MIN, "normative_review_min_workdays", Unit.WORKDAYS,
                              Start.STAGE, "国办发〔2018〕115号：原则上不少于5个工作日"),
                    TimeLimit(Bound.MAX, "normative_review_max_workdays", Unit.WORKDAYS,
                              Start.STAGE, "国办发〔2018〕115号：最长不超过15个工作日"),
                ),
            ),
            StageRule(Step.DELIBERATION, "集体审议", Role.SECRETARY,
                      "国办发〔2018〕37号 二（四）：经政府常务会议或办公会议审议",
                      drafter_excluded=True),
            StageRule(Step.ISSUANCE, "签发公布（统一登记、统一编号、统一印发）", Role.SECRETARY,
                      "国办发〔2018〕37号 二（五）；GB/T 9704-2012 发文字号"),
            StageRule(Step.FILING, "备案", Role.FILING_OFFICER,
                      "国办发〔2018〕37号 二（六）：有件必备、有备必审、有错必纠",
                      drafter_excluded=True, limits=(_FILING_30_DAYS,)),
        ),
    ),
    Kind.MAJOR_DECISION: KindRules(
        kind=Kind.MAJOR_DECISION,
        name_zh="重大行政决策",
        source="《重大行政决策程序暂行条例》（国务院令第713号）",
        flags={"specialised": "专业性、技术性较强，须专家论证"},
        stages=(
            StageRule(Step.SUBMISSION, "决策启动", Role.DRAFTER, "国务院令第713号 第三条、第十条"),
            StageRule(
                Step.PARTICIPATION, "公众参与", Role.DRAFTER,
                "国务院令第713号 第十四条至第十八条",
                limits=(TimeLimit(
                    Bound.MIN, "major_comment_min_days", Unit.DAYS, Start.PERIOD,
                    "国务院令第713号 第十五条：征求意见期限一般不少于30日",
                    override="shortened_reason",
                ),),
            ),
            StageRule(Step.EXPERTS, "专家论证", Role.DRAFTER, "国务院令第713号 第十九条至第二十一条",
                      applies_when="specialised"),
            StageRule(Step.ASSESSMENT, "风险评估", Role.ASSESSOR,
                      "国务院令第713号 第二十二条至第二十四条：风险不可控的，应当调整决策草案",
                      drafter_excluded=True),
            StageRule(
                Step.REVIEW, "合法性审查", Role.COUNSEL,
                "国务院令第713号 第二十五条：未经合法性审查或者经审查不合法的，不得提交决策机关讨论",
                drafter_excluded=True,
                limits=(TimeLimit(
                    Bound.MIN, "major_review_min_workdays", Unit.WORKDAYS, Start.STAGE,
                    "国务院令第713号 第二十六条：审查时间一般不少于7个工作日",
                    override="urgent_reason",
                ),),
            ),
            StageRule(Step.DELIBERATION, "集体讨论决定", Role.SECRETARY,
                      "国务院令第713号 第三十条：行政首长最后发表意见，不同意见如实记录",
                      drafter_excluded=True),
            StageRule(Step.ISSUANCE, "决策公布", Role.SECRETARY, "国务院令第713号 第三十二条"),
            StageRule(Step.FILING, "归档", Role.FILING_OFFICER, "国务院令第713号 第三十三条",
                      drafter_excluded=True),
        ),
    ),
    Kind.CONTRACT: KindRules(
        kind=Kind.CONTRACT,
        name_zh="政府合同",
        source="中办国办2016年《关于推行法律顾问制度和公职律师公司律师制度的意见》；本地合同审查规定",
        flags={"major": "重大合同（达到金额标准），须集体讨论"},
        stages=(
            StageRule(Step.SUBMISSION, "起草/谈判", Role.DRAFTER, "本地合同管理规定"),
            StageRule(
                Step.REVIEW, "法律顾问合法性审查", Role.COUNSEL,
                "中办国办2016年法律顾问制度意见；本地合同审查规定",
                drafter_excluded=True,
                limits=(TimeLimit(Bound.MAX, "contract_review_workdays", Unit.WORKDAYS,
                                  Start.STAGE, "本地合同审查规定（可配置，常见5个工作日）"),),
            ),
            StageRule(Step.DELIBERATION, "集体讨论", Role.SECRETARY,
                      "本地“三重一大”规定：重大合同集体讨论", applies_when="major",
                      drafter_excluded=True),
            StageRule(Step.ISSUANCE, "签订", Role.HEAD, "本地合同管理规定"),
            StageRule(Step.FILING, "备案归档", Role.FILING_OFFICER, "本地合同管理规定",
                      drafter_excluded=True),
        ),
    ),
    Kind.ADMINISTRATIVE_PENALTY: KindRules(
        kind=Kind.ADMINISTRATIVE_PENALTY,
        name_zh="行政处罚决定",
        source="《中华人民共和国行政处罚法》（2021）",
        flags={
            "art58": "属第五十八条情形（重大公共利益、经过听证、疑难复杂、法律法规规定）",
            "complex_case": "情节复杂或重大违法，须集体讨论（第五十七条）",
        },
        stages=(
            StageRule(
                Step.SUBMISSION, "立案调查", Role.DRAFTER, "《行政处罚法》第五十四条",
                limits=(TimeLimit(Bound.MAX, "penalty_decision_days", Unit.DAYS, Start.OPENED,
                                  "《行政处罚法》第六十条：自立案之日起九十日内作出决定"),),
            ),
            StageRule(
                Step.HEARING, "告知与听证", Role.DRAFTER,
                "《行政处罚法》第四十四条、第六十三条至第六十五条",
                limits=(TimeLimit(Bound.MIN, "penalty_hearing_request_days", Unit.WORKDAYS,
                                  Start.PERIOD,
                                  "《行政处罚法》第六十四条：告知后五日内提出听证；"
                                  "第八十五条：“五日”指工作日",
                                  override="hearing_waived"),),
            ),
            StageRule(
                Step.REVIEW, "法制审核", Role.COUNSEL,
                "《行政处罚法》第五十八条：未经法制审核或者审核未通过的，不得作出决定",
                applies_when="art58", always_if_setting="penalty_review_all",
                drafter_excluded=True,
            ),
            StageRule(Step.DELIBERATION, "集体讨论决定", Role.SECRETARY,
                      "《行政处罚法》第五十七条第二款", applies_when="complex_case",
                      drafter_excluded=True),
            StageRule(
                Step.ISSUANCE, "作出处罚决定", Role.HEAD, "《行政处罚法》第五十七条、第六十条",
                limits=(TimeLimit(Bound.MAX, "penalty_decision_days", Unit.DAYS, Start.OPENED,
                                  "《行政处罚法》第六十条：自立案之日起九十日内作出决定"),),
            ),
            StageRule(Step.FILING, "公示归档", Role.FILING_OFFICER,
                      "行政执法公示制度（国办发〔2018〕118号）", drafter_excluded=True),
        ),
    ),
    Kind.ADMINISTRATIVE_LICENCE: KindRules(
        kind=Kind.ADMINISTRATIVE_LICENCE,
        name_zh="行政许可决定",
        source="《中华人民共和国行政许可法》；国办发〔2018〕118号",
        flags={"major_enforcement": "属重大执法决定，须法制审核（国办发〔2018〕118号）"},
        stages=(
            StageRule(Step.SUBMISSION, "受理", Role.DRAFTER, "《行政许可法》第三十二条"),
            StageRule(
                Step.REVIEW, "重大执法决定法制审核", Role.COUNSEL, "国办发〔2018〕118号",
                applies_when="major_enforcement", always_if_setting="licence_review_all",
                drafter_excluded=True,
            ),
            StageRule(
                Step.ISSUANCE, "作出许可决定", Role.HEAD, "《行政许可法》第四十二条",
                limits=(TimeLimit(
                    Bound.MAX, "licence_decision_days", Unit.WORKDAYS, Start.OPENED,
                    "《行政许可法》第四十二条：受理之日起二十日内作出决定，经本机关负责人批准"
                    "可延长十日；第八十二条：期限以工作日计算",
                    extension_setting="licence_extension_days",
                ),),
            ),
            StageRule(Step.FILING, "公示归档", Role.FILING_OFFICER, "行政执法公示制度",
                      drafter_excluded=True),
        ),
    ),
}

# Steps that, once the review stage exists for a kind, need a current lawful opinion.
DECIDING_STEPS: frozenset[Step] = frozenset({Step.DELIBERATION, Step.ISSUANCE, Step.FILING})


# Recorded reasons that may cut a minimum time limit short, by the name a ``TimeLimit.override``
# gives them. The step services put them in the gate's request (``Request.reasons``); the gate
# reads them. A name here that no limit uses, or a limit naming one not here, is a table error.
OVERRIDES: Mapping[str, str] = {
    "shortened_reason": "缩短征求意见期限的说明（国务院令第713号 第十五条）",
    "urgent_reason": "紧急情况下缩短审查时间的说明（国务院令第713号 第二十六条）",
    "hearing_waived": "当事人放弃听证或已举行听证（《行政处罚法》第六十四条）",
}


def setting_types() -> dict[str, type]:
    """The law settings and their types (``review/law/settings.py``), for checking the table."""
    from hefa.review.law.settings import law_setting_types

    return law_setting_types()


def _check_settings(where: str, table: KindRules, settings: Mapping[str, type]) -> set[str]:
    """Every setting a stage or limit names exists, with the type its use needs; the overrides used."""
    used: set[str] = set()
    for stage in table.stages:
        if stage.always_if_setting is not None and settings.get(stage.always_if_setting) is not bool:
            raise RulesTableError(f"{where}: stage {stage.step} names unknown or non-boolean setting "
                                  f"{stage.always_if_setting!r}")
        for limit in stage.limits:
            for name in (limit.setting, limit.extension_setting):
                if name is not None and settings.get(name) is not int:
                    raise RulesTableError(f"{where}: a limit of {stage.step} names unknown or non-integer "
                                          f"setting {name!r}")
            if limit.override is not None:
                if limit.override not in OVERRIDES:
                    raise RulesTableError(f"{where}: a limit of {stage.step} names unknown override "
                                          f"{limit.override!r}")
                if limit.bound is not Bound.MIN:
                    raise RulesTableError(f"{where}: override {limit.override!r} on a deadline (only a minimum "
                                          "period may be cut short)")
                used.add(limit.override)
    return used


def validate_rules(rules: Mapping[Kind, KindRules], settings: Mapping[str, type] | None = None) -> None:
    """Refuse a malformed table: every kind starts with submission, has a review
    stage, reviews before every deciding step, names each step once; every setting
    and override it names exists (a typo must never silently drop a stage), and
    every declared override is used."""
    settings = setting_types() if settings is None else settings
    overrides_used: set[str] = set()
    for kind, table in rules.items():
        steps = [s.step for s in table.stages]
        where = f"{kind}"
        if table.kind is not kind:
            raise RulesTableError(f"{where}: table is filed under the wrong kind")
        if not steps or steps[0] is not Step.SUBMISSION:
            raise RulesTableError(f"{where}: the first stage must be submission")
        if len(set(steps)) != len(steps):
            raise RulesTableError(f"{where}: a step appears twice: {steps}")
        if Step.REVIEW not in steps:
            raise RulesTableError(f"{where}: no legality review stage (合法性审查)")
        review_at = steps.index(Step.REVIEW)
        for position, step in enumerate(steps):
            if step in DECIDING_STEPS and position < review_at:
                raise RulesTableError(f"{where}: {step} comes before the legality review")
        for stage in table.stages:
            if not stage.article:
                raise RulesTableError(f"{where}: stage {stage.step} cites no article")
            for limit in stage.limits:
                if not limit.article:
                    raise RulesTableError(f"{where}: a limit of {stage.step} cites no article")
        for stage in table.stages:
            if stage.applies_when and stage.applies_when not in table.flags:
                raise RulesTableError(
                    f"{where}: stage {stage.step} depends on unknown flag {stage.applies_when}"
                )
        overrides_used |= _check_settings(where, table, settings)
    unused = sorted(set(OVERRIDES) - overrides_used)
    if unused:
        raise RulesTableError(f"override {unused[0]!r} is declared but no limit uses it")


validate_rules(RULES)


def rules_for(kind: Kind | str) -> KindRules:
    """The table of one kind of matter."""
    return RULES[Kind(kind)]
