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
    VILLAGE_AFFAIR = "village-affair"  # 村级重大事务合法性评价 (issue 16)


KIND_ZH: dict[Kind, str] = {
    Kind.NORMATIVE_DOCUMENT: "行政规范性文件",
    Kind.MAJOR_DECISION: "重大行政决策",
    Kind.CONTRACT: "政府合同",
    Kind.ADMINISTRATIVE_PENALTY: "行政处罚决定",
    Kind.ADMINISTRATIVE_LICENCE: "行政许可决定",
    Kind.VILLAGE_AFFAIR: "村级重大事务",
}


class Step(StrEnum):
    """What a person records. A stage of a kind is one step at one position."""

    SUBMISSION = "submission"  # 起草提交 / 立案 / 受理
    CONTROLS = "controls"  # 确认适用程序: counsel (or the head) confirms the drafter's flags
    PARTICIPATION = "participation"  # 公众参与 / 公开征求意见
    EXPERTS = "experts"  # 专家论证
    HEARING = "hearing"  # 告知与听证 (行政处罚法 arts. 44, 63-65)
    ASSESSMENT = "assessment"  # 风险评估
    REVIEW = "review"  # 合法性审查 / 法制审核: the legal opinion
    DELIBERATION = "deliberation"  # 集体讨论决定
    PARTY_REPORT = "party-report"  # 向同级党委请示报告 (国务院令第713号)
    SIGNING = "signing"  # 签发: the head's act (规范性文件、重大行政决策)
    ISSUANCE = "issuance"  # 签发公布 / 统一登记编号印发 / 签订 / 作出决定
    FILING = "filing"  # 备案 / 归档 / 公示
    EVALUATION = "evaluation"  # 决策后评估 (国务院令第713号)


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
    # The limit runs only for a matter with this flag (e.g. 涉企规范性文件: 30日; 听证权利: 五日).
    when_flag: str | None = None
    # An extension of this limit must record when the applicant was told its reason (告知延长理由).
    extension_notice: bool = False

    def runs_for(self, flags: frozenset[str] | set[str] | list[str]) -> bool:
        """Whether this limit runs for a matter with these flags (see ``when_flag``)."""
        return self.when_flag is None or self.when_flag in flags


@dataclass(frozen=True)
class StageRule:
    """One stage of one kind of matter.

    ``applies_when`` (or ``also_when``) names a matter flag that makes a conditional
    stage apply; ``always_if_setting`` names a setting that, when true, makes it apply
    anyway (a township rule stricter than national law). A stage with a setting and no
    flag is the township's alone: it applies only while the setting is on.
    """

    step: Step
    name_zh: str
    role: Role
    article: str
    applies_when: str | None = None
    always_if_setting: str | None = None
    drafter_excluded: bool = False  # separation of duties: not the matter's drafter
    limits: tuple[TimeLimit, ...] = ()
    also_when: str | None = None  # a second flag that makes the stage apply
    also_role: Role | None = None  # a second role that may perform it (e.g. the head)
    # Who performs it must hold 法律职业资格 (《行政处罚法》第五十八条第二款).
    requires_legal_qualification: bool = False
    # The meetings that may decide (国务院令第713号 第三十条: 常务会议或者全体会议); () = any.
    meeting_kinds: tuple[str, ...] = ()

    @property
    def conditional(self) -> bool:
        return self.applies_when is not None or self.always_if_setting is not None

    @property
    def roles(self) -> tuple[Role, ...]:
        """Every role that may perform the stage."""
        return (self.role,) if self.also_role is None else (self.role, self.also_role)


@dataclass(frozen=True)
class KindRules:
    kind: Kind
    name_zh: str
    source: str
    stages: tuple[StageRule, ...]
    # Flags a drafter may set at submission, with their Chinese meaning.
    flags: Mapping[str, str] = field(default_factory=dict)
    # 行政执法: how many certified enforcement officers (行政执法证) a matter names at submission.
    enforcement_officers_min: int = 0
    enforcement_article: str = ""

    def stage(self, step: Step) -> StageRule | None:
        return next((s for s in self.stages if s.step is step), None)


_SUBMIT_SOD = dict(drafter_excluded=False)

_FILING_30_DAYS = TimeLimit(
    Bound.MAX, "filing_within_days", Unit.DAYS, Start.ISSUED,
    "备案时限：公布之日起30日内（省级规范性文件备案规定，可配置）",
)

# 确认适用程序: the drafter proposes the flags; counsel (or the head) confirms or changes them, with a
# reason, before the opinion — so the drafter alone never decides whether public comment, experts,
# 法制审核 or deliberation happen (the township's rule: 法律顾问审查 decides what review a matter needs).
_CONTROLS = StageRule(
    Step.CONTROLS, "确认适用程序", Role.COUNSEL,
    "本镇规定：适用的程序（公众参与、专家论证、法制审核、集体讨论等）由法律顾问或行政首长在出具法律意见前"
    "确认，起草人只提出建议",
    also_role=Role.HEAD, drafter_excluded=True,
)

# The township's own rule (seed report): every kind goes to collective deliberation after the opinion.
# A contract at or above the installation's major_contract_amount is 重大合同 (the flag follows the amount).
MAJOR_CONTRACT_FLAG = "major"

TOWNSHIP_DELIBERATION = ("本镇规定：合同、重大决策、规范性文件、行政处罚与许可，必须由法律顾问审查，"
                         "出具法律意见后经集体研究讨论决定")

# 公示: penalty and licence decisions within 7 working days of the decision (国办发〔2018〕118号).
_PUBLICITY_7_WORKDAYS = TimeLimit(
    Bound.MAX, "enforcement_publicity_workdays", Unit.WORKDAYS, Start.ISSUED,
    "国办发〔2018〕118号：行政许可、行政处罚的执法决定信息要在执法决定作出之日起7个工作日内公开",
)

RULES: dict[Kind, KindRules] = {
    Kind.NORMATIVE_DOCUMENT: KindRules(
        kind=Kind.NORMATIVE_DOCUMENT,
        name_zh="行政规范性文件",
        source="国办发〔2018〕37号；国办发〔2018〕115号",
        flags={"public_impact": "涉及群众切身利益，须公开征求意见",
               "business_related": "与市场主体生产经营活动密切相关，须公开征求意见，期限一般不少于30日"
                                   "（《优化营商环境条例》，国务院令第722号）"},
        stages=(
            StageRule(Step.SUBMISSION, "起草", Role.DRAFTER, "国办发〔2018〕37号：评估论证、起草", **_SUBMIT_SOD),
            _CONTROLS,
            StageRule(
                Step.PARTICIPATION, "公开征求意见", Role.DRAFTER,
                "国办发〔2018〕37号：广泛征求意见，征求意见期限一般不少于7个工作日",
                applies_when="public_impact", also_when="business_related",
                limits=(
                    TimeLimit(Bound.MIN, "normative_comment_min_workdays", Unit.WORKDAYS, Start.PERIOD,
                              "国办发〔2018〕37号：征求意见期限一般不少于7个工作日", override="shortened_reason"),
                    TimeLimit(Bound.MIN, "business_comment_min_days", Unit.DAYS, Start.PERIOD,
                              "《优化营商环境条例》（国务院令第722号）：与市场主体生产经营活动密切相关的"
                              "行政规范性文件，向社会公开征求意见的期限一般不少于30日",
                              override="shortened_reason", when_flag="business_related"),
                ),
            ),
            StageRule(
                Step.REVIEW, "合法性审核", Role.COUNSEL,
                "国办发〔2018〕115号：未经合法性审核或者经审核不合法的，不得提交集体审议",
                drafter_excluded=True,
                limits=(
                    TimeLimit(Bound.MIN, "normative_review_min_workdays", Unit.WORKDAYS,
                              Start.STAGE, "国办发〔2018〕115号：原则上不少于5个工作日",
                              override="review_shortened_reason"),
                    TimeLimit(Bound.MAX, "normative_review_max_workdays", Unit.WORKDAYS,
                              Start.STAGE, "国办发〔2018〕115号：最长不超过15个工作日"),
                ),
            ),
            StageRule(Step.DELIBERATION, "集体审议", Role.SECRETARY,
                      "国办发〔2018〕37号：集体审议（政府常务会议或办公会议）",
                      drafter_excluded=True),
            StageRule(Step.SIGNING, "签发", Role.HEAD,
                      "国办发〔2018〕37号：经集体审议后由制定机关负责人签发，再统一登记、统一编号、统一印发",
                      drafter_excluded=True),
            StageRule(Step.ISSUANCE, "统一登记、统一编号、统一印发", Role.SECRETARY,
                      "国办发〔2018〕37号：统一登记、统一编号、统一印发；GB/T 9704-2012 发文字号"),
            StageRule(Step.FILING, "备案", Role.FILING_OFFICER,
                      "国办发〔2018〕37号：有件必备、有备必审、有错必纠",
                      drafter_excluded=True, limits=(_FILING_30_DAYS,)),
        ),
    ),
    Kind.MAJOR_DECISION: KindRules(
        kind=Kind.MAJOR_DECISION,
        name_zh="重大行政决策",
        source="《重大行政决策程序暂行条例》（国务院令第713号）",
        flags={"specialised": "专业性、技术性较强，须专家论证",
               "social_risk": "实施可能对社会稳定、公共安全等方面造成不利影响，须风险评估（第二十二条）",
               "party_report": "出台前按照规定向同级党委请示报告",
               "evaluation": "须组织决策后评估"},
        stages=(
            StageRule(Step.SUBMISSION, "决策启动", Role.DRAFTER, "国务院令第713号 第三条、第十条"),
            _CONTROLS,
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
                      applies_when="social_risk", always_if_setting="major_risk_assessment_all",
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
                      "国务院令第713号 第三十条：经决策机关常务会议或者全体会议讨论，行政首长最后发表意见，"
                      "不同意见如实记录",
                      drafter_excluded=True, meeting_kinds=("常务会议", "全体会议")),
            StageRule(Step.PARTY_REPORT, "向同级党委请示报告", Role.SECRETARY,
                      "国务院令第713号 第三十一条：重大行政决策出台前应当按照规定向同级党委请示报告",
                      applies_when="party_report"),
            StageRule(Step.SIGNING, "签发", Role.HEAD,
                      "国务院令第713号 第三十条第一款：决策机关行政首长在集体讨论的基础上作出决定",
                      drafter_excluded=True),
            StageRule(Step.ISSUANCE, "决策公布（统一登记、统一编号、统一印发）", Role.SECRETARY,
                      "国务院令第713号 第三十二条"),
            StageRule(Step.FILING, "归档", Role.FILING_OFFICER, "国务院令第713号 第三十三条",
                      drafter_excluded=True),
            StageRule(Step.EVALUATION, "决策后评估", Role.DRAFTER,
                      "国务院令第713号 第三十六条：决策机关可以组织决策后评估", applies_when="evaluation"),
        ),
    ),
    Kind.CONTRACT: KindRules(
        kind=Kind.CONTRACT,
        name_zh="政府合同",
        source="中办国办2016年《关于推行法律顾问制度和公职律师公司律师制度的意见》；本地合同审查规定",
        flags={MAJOR_CONTRACT_FLAG: "重大合同（达到金额标准），须集体讨论"},
        stages=(
            StageRule(Step.SUBMISSION, "起草/谈判", Role.DRAFTER, "本地合同管理规定"),
            _CONTROLS,
            StageRule(
                Step.REVIEW, "法律顾问合法性审查", Role.COUNSEL,
                "中办国办2016年法律顾问制度意见；本地合同审查规定",
                drafter_excluded=True,
                limits=(TimeLimit(Bound.MAX, "contract_review_workdays", Unit.WORKDAYS,
                                  Start.STAGE, "本地合同审查规定（可配置，常见5个工作日）"),),
            ),
            StageRule(Step.DELIBERATION, "集体讨论", Role.SECRETARY,
                      f"本地“三重一大”规定：重大合同集体讨论；{TOWNSHIP_DELIBERATION}",
                      applies_when=MAJOR_CONTRACT_FLAG, always_if_setting="deliberation_all_contracts",
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
            "hearing_right": "属第六十三条情形（较大数额罚款、吊销许可证件、责令停产停业等），当事人有权要求听证",
        },
        enforcement_officers_min=2,
        enforcement_article="《行政处罚法》第四十二条：行政处罚应当由具有行政执法资格的执法人员实施，"
                            "执法人员不得少于两人",
        stages=(
            StageRule(
                Step.SUBMISSION, "立案调查", Role.DRAFTER, "《行政处罚法》第五十四条",
                limits=(TimeLimit(Bound.MAX, "penalty_decision_days", Unit.DAYS, Start.OPENED,
                                  "《行政处罚法》第六十条：自立案之日起九十日内作出决定"),),
            ),
            _CONTROLS,
            StageRule(
                Step.HEARING, "告知与听证", Role.DRAFTER,
                "《行政处罚法》第四十四条、第六十三条至第六十五条",
                limits=(TimeLimit(Bound.MIN, "penalty_hearing_request_days", Unit.WORKDAYS,
                                  Start.PERIOD,
                                  "《行政处罚法》第六十四条：告知后五日内提出听证；"
                                  "第八十五条：“五日”指工作日",
                                  override="hearing_waived", when_flag="hearing_right"),),
            ),
            StageRule(
                Step.REVIEW, "法制审核", Role.COUNSEL,
                "《行政处罚法》第五十八条：未经法制审核或者审核未通过的，不得作出决定",
                applies_when="art58", always_if_setting="penalty_review_all",
                drafter_excluded=True, requires_legal_qualification=True,
            ),
            StageRule(Step.DELIBERATION, "集体讨论决定", Role.SECRETARY,
                      f"《行政处罚法》第五十七条第二款；{TOWNSHIP_DELIBERATION}", applies_when="complex_case",
                      always_if_setting="deliberation_all_penalties", drafter_excluded=True),
            StageRule(
                Step.ISSUANCE, "作出处罚决定", Role.HEAD, "《行政处罚法》第五十七条、第六十条",
                limits=(TimeLimit(Bound.MAX, "penalty_decision_days", Unit.DAYS, Start.OPENED,
                                  "《行政处罚法》第六十条：自立案之日起九十日内作出决定"),),
            ),
            StageRule(Step.FILING, "公示归档", Role.FILING_OFFICER,
                      "行政执法公示制度（国办发〔2018〕118号）；《行政处罚法》第四十八条",
                      drafter_excluded=True, limits=(_PUBLICITY_7_WORKDAYS,)),
        ),
    ),
    Kind.ADMINISTRATIVE_LICENCE: KindRules(
        kind=Kind.ADMINISTRATIVE_LICENCE,
        name_zh="行政许可决定",
        source="《中华人民共和国行政许可法》；国办发〔2018〕118号",
        flags={"major_enforcement": "属重大执法决定，须法制审核（国办发〔2018〕118号）",
               "hearing_right": "须听证：法定听证事项或涉及公共利益的重大许可（第四十六条），"
                                "或直接涉及申请人与他人之间重大利益关系（第四十七条）"},
        enforcement_officers_min=2,
        enforcement_article="《行政许可法》第三十四条第三款：指派两名以上工作人员进行核查；"
                            "国办发〔2018〕118号：行政执法人员持证上岗",
        stages=(
            StageRule(Step.SUBMISSION, "受理", Role.DRAFTER, "《行政许可法》第三十二条"),
            _CONTROLS,
            StageRule(
                Step.HEARING, "告知听证权利与听证", Role.DRAFTER, "《行政许可法》第四十六条、第四十七条",
                applies_when="hearing_right",
                limits=(TimeLimit(Bound.MIN, "licence_hearing_request_days", Unit.WORKDAYS, Start.PERIOD,
                                  "《行政许可法》第四十七条：被告知听证权利之日起五日内提出听证申请；"
                                  "第八十二条：期限以工作日计算",
                                  override="hearing_waived"),),
            ),
            StageRule(
                Step.REVIEW, "重大执法决定法制审核", Role.COUNSEL, "国办发〔2018〕118号",
                applies_when="major_enforcement", always_if_setting="licence_review_all",
                drafter_excluded=True,
            ),
            StageRule(Step.DELIBERATION, "集体讨论决定", Role.SECRETARY, TOWNSHIP_DELIBERATION,
                      always_if_setting="deliberation_all_licences", drafter_excluded=True),
            StageRule(
                Step.ISSUANCE, "作出许可决定", Role.HEAD, "《行政许可法》第四十二条",
                limits=(TimeLimit(
                    Bound.MAX, "licence_decision_days", Unit.WORKDAYS, Start.OPENED,
                    "《行政许可法》第四十二条：受理之日起二十日内作出决定，经本机关负责人批准"
                    "可延长十日，并应当将延长期限的理由告知申请人；第八十二条：期限以工作日计算",
                    extension_setting="licence_extension_days", extension_notice=True,
                ),),
            ),
            StageRule(Step.FILING, "公示归档", Role.FILING_OFFICER,
                      "行政执法公示制度（国办发〔2018〕118号）；《行政许可法》第四十条",
                      drafter_excluded=True, limits=(_PUBLICITY_7_WORKDAYS,)),
        ),
    ),
    Kind.VILLAGE_AFFAIR: KindRules(
        kind=Kind.VILLAGE_AFFAIR,
        name_zh="村级重大事务合法性评价",
        source="《中华人民共和国村民委员会组织法》；中办国办2016年《关于推行法律顾问制度和公职律师公司律师制度的意见》",
        flags={"charter": "村规民约或村民自治章程：报乡镇人民政府备案（《村民委员会组织法》第二十七条）"},
        stages=(
            StageRule(Step.SUBMISSION, "村民委员会提出", Role.DRAFTER,
                      "《村民委员会组织法》第二十四条：涉及村民利益的事项提请村民会议讨论决定"),
            StageRule(Step.REVIEW, "村法律顾问合法性评价", Role.COUNSEL,
                      "中办国办2016年法律顾问制度意见；本地村（居）法律顾问制度：村级重大事务进行合法性评价",
                      drafter_excluded=True),
            StageRule(Step.DELIBERATION, "村民会议或村民代表会议讨论决定", Role.SECRETARY,
                      "《村民委员会组织法》第二十四条：经村民会议讨论决定方可办理；村民会议可以授权村民代表会议讨论决定",
                      drafter_excluded=True, meeting_kinds=("村民会议", "村民代表会议")),
            StageRule(Step.ISSUANCE, "公布实施", Role.SECRETARY, "《村民委员会组织法》：村务公开"),
            StageRule(Step.FILING, "报乡镇人民政府备案", Role.FILING_OFFICER,
                      "《村民委员会组织法》第二十七条：村民自治章程、村规民约报乡、民族乡、镇的人民政府备案",
                      applies_when="charter", drafter_excluded=True),
        ),
    ),
}

# 备案审查 (有件必审、有错必纠): who records the filing authority's review outcome of a filed
# document, by kind, with its basis. A township's own documents are reviewed by the county it files
# with: its filing officer, who filed them and receives the outcome, records it. A village's 村规民约
# is reviewed by the township itself: the township's counsel evaluates it (never the village's own).
FILING_REVIEW: Mapping[Kind, tuple[Role, str]] = {
    Kind.NORMATIVE_DOCUMENT: (Role.FILING_OFFICER, "国办发〔2018〕37号 二（六）：有件必备、有备必审、有错必纠"),
    Kind.VILLAGE_AFFAIR: (Role.COUNSEL,
                          "《村民委员会组织法》第二十七条：违反法律的，由乡、民族乡、镇的人民政府责令改正"),
}

# Steps that, once the review stage exists for a kind, need a current lawful opinion.
DECIDING_STEPS: frozenset[Step] = frozenset({Step.DELIBERATION, Step.PARTY_REPORT, Step.SIGNING, Step.ISSUANCE,
                                             Step.FILING})


# Recorded reasons that may cut a minimum time limit short, by the name a ``TimeLimit.override``
# gives them. The step services put them in the gate's request (``Request.reasons``); the gate
# reads them. A name here that no limit uses, or a limit naming one not here, is a table error.
OVERRIDES: Mapping[str, str] = {
    "shortened_reason": "缩短征求意见期限的说明（国务院令第713号 第十五条）",
    "urgent_reason": "紧急情况下缩短审查时间的说明（国务院令第713号 第二十六条）",
    "hearing_waived": "当事人放弃听证或已举行听证（《行政处罚法》第六十四条；《行政许可法》第四十七条）",
    "review_shortened_reason": "缩短合法性审核时间的说明（国办发〔2018〕115号：原则上不少于5个工作日）",
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
            for flag in (stage.applies_when, stage.also_when, *(limit.when_flag for limit in stage.limits)):
                if flag and flag not in table.flags:
                    raise RulesTableError(f"{where}: stage {stage.step} depends on unknown flag {flag}")
            if stage.also_when and not stage.applies_when:
                raise RulesTableError(f"{where}: stage {stage.step} has also_when without applies_when")
        if table.enforcement_officers_min and not table.enforcement_article:
            raise RulesTableError(f"{where}: the number of enforcement officers cites no article")
        overrides_used |= _check_settings(where, table, settings)
    unused = sorted(set(OVERRIDES) - overrides_used)
    if unused:
        raise RulesTableError(f"override {unused[0]!r} is declared but no limit uses it")


validate_rules(RULES)


def rules_for(kind: Kind | str) -> KindRules:
    """The table of one kind of matter."""
    return RULES[Kind(kind)]
