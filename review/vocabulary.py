"""The vocabulary (用语表): every labelled choice a person makes or reads, once.

Each choice has a code (stored, sent over the CLI and the desk, tested), a Chinese
label (what documents, forms and artifacts print) and an English gloss. Forms,
services, documents, the CLI and artifacts are all generated from these tables;
nothing else writes a label, and no label is ever parsed back into a code: a form
that shows labels maps them back by exact lookup in the same table
(``Vocabulary.code_of``).

Standard library only: the flow process and the CLI's fast path import it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Term:
    """One choice: its code, its Chinese label and an English gloss."""

    code: str
    zh: str
    en: str

    @property
    def label(self) -> str:
        """The bilingual label a form shows: '合法，同意提交审议 / lawful'."""
        return f"{self.zh} / {self.en}"


class Vocabulary:
    """An ordered set of terms for one kind of choice (审查结论, 会议决定 …)."""

    def __init__(self, name_zh: str, *terms: Term) -> None:
        self.name_zh = name_zh
        self.terms = terms
        self._by_code = {t.code: t for t in terms}
        self._by_label = {t.label: t for t in terms}
        if len(self._by_code) != len(terms) or len(self._by_label) != len(terms):
            raise ValueError(f"{name_zh}: a code or a label appears twice")

    def __iter__(self) -> Iterator[Term]:
        return iter(self.terms)

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(self._by_code)

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(self._by_label)

    def zh(self, code: str) -> str:
        """The Chinese label of a code (KeyError for an unknown code)."""
        return self._by_code[code].zh

    def term(self, code: str) -> Term:
        return self._by_code[code]

    def code_of(self, label: str) -> str:
        """The code of a label shown in a form (exact lookup, never parsing)."""
        return self._by_label[label].code

    def as_choices(self) -> dict[str, str]:
        """{code: Chinese label}, for validation messages and CLI help."""
        return {t.code: t.zh for t in self.terms}

    def help(self) -> str:
        """'lawful=合法，同意提交审议 | amend=…' for CLI option help."""
        return " | ".join(f"{t.code}={t.zh}" for t in self.terms)


CONCLUSION = Vocabulary(
    "审查结论",
    Term("lawful", "合法，同意提交审议", "lawful"),
    Term("amend", "修改后合法，建议修改后提交", "lawful after amendment"),
    Term("unlawful", "不合法，不得提交审议", "unlawful"),
)
# The short form of a conclusion, as the trail and the status show it.
CONCLUSION_SHORT = Vocabulary(
    "审查结论（简）",
    Term("lawful", "合法", "lawful"),
    Term("amend", "修改后合法", "lawful after amendment"),
    Term("unlawful", "不合法", "unlawful"),
)

DECISION = Vocabulary(
    "会议决定",
    Term("approve", "同意", "approve"),
    Term("reject", "不同意", "reject"),
    Term("defer", "暂缓", "defer"),
)

RISK_LEVEL = Vocabulary(
    "风险等级",
    Term("low", "低", "low"),
    Term("medium", "中", "medium"),
    Term("high", "高", "high"),
)

CONTROLLABLE = Vocabulary(
    "风险是否可控",
    Term("yes", "可控", "controllable"),
    Term("no", "不可控", "uncontrollable"),
)

HEARING = Vocabulary(
    "听证情况",
    Term("requested", "当事人申请听证并已举行", "hearing requested and held"),
    Term("waived", "当事人放弃听证", "hearing waived"),
    Term("none", "告知期满未申请听证", "no hearing requested in time"),
)

# Meetings that may decide collectively (集体讨论): 常务会议/全体会议 (国务院令第713号 第三十条) and others.
MEETING_KIND = Vocabulary(
    "会议类型",
    Term("常务会议", "常务会议", "executive meeting"),
    Term("全体会议", "全体会议", "plenary meeting"),
    Term("办公会议", "办公会议", "office meeting"),
    Term("党组会议", "党组会议", "Party group meeting"),
    Term("集体讨论会议", "集体讨论会议", "collective discussion"),
    Term("村民会议", "村民会议", "villagers' assembly"),  # 《村民委员会组织法》第二十四条
    Term("村民代表会议", "村民代表会议", "villagers' representative assembly"),
)

# After filing (issue 16): the register of documents in force, 备案审查 and 清理.
REGISTER_STATUS = Vocabulary(
    "文件状态",
    Term("in-force", "有效", "in force"),
    Term("amended", "已修改", "amended"),
    Term("repealed", "已废止", "repealed"),
    Term("expired", "已失效", "expired"),
)
FILING_REVIEW = Vocabulary(
    "备案审查结果",
    Term("passed", "审查通过", "passed"),
    Term("opinion", "审查意见（须纠正）", "review opinion: correct"),
)
REGISTER_DECISION = Vocabulary(
    "清理结论",
    Term("keep", "继续有效", "keep in force"),
    Term("amend", "修改", "amend"),
    Term("repeal", "废止", "repeal"),
)
CORRECTION_STATUS = Vocabulary(
    "整改状态",
    Term("open", "督促整改中", "open"),
    Term("closed", "已整改", "closed"),
)

# 逐项审查结果: counsel's answer to one item of the kind's checklist (review/law/checklists.py).
ITEM_RESULT = Vocabulary(
    "逐项审查结果",
    Term("conforms", "符合", "conforms"),
    Term("fails", "不符合", "does not conform"),
    Term("na", "不适用", "not applicable"),
)
# The opinion form's checklist field (flows/inputs.py): one line per item, as the CLI's --item.
ITEMS_FIELD_TITLE = "逐项审查结果 / checklist"
ITEMS_FIELD_HELP = ("每行一项：项目代码=符合 | 不符合:说明 | 不适用[:说明]；本类事项的全部项目都须填写，"
                    "“不符合”须写明说明，且不能与“合法”结论同时出现（项目代码见上方说明）")

# 确认适用程序 (issue 14): the controls form's fields (flows/inputs.py), as the CLI's `hefa controls`.
CONTROLS_FIELD_TITLE = "适用的程序标记 / controls that apply"
CONTROLS_FIELD_HELP = ("逗号分隔的标记代码（见上方说明中起草人提出的标记）；列出全部适用的标记，未列出的即不适用，"
                       "全部不适用时留空 / comma-separated flag codes; those left out do not apply")
CONTROLS_REASON_TITLE = "确认或更改的理由 / reason"

EVENT_OUTCOME = Vocabulary(
    "结果",
    Term("accepted", "接受", "accepted"),
    Term("refused", "拒绝", "refused"),
    Term("system", "系统", "system"),
    Term("warning", "预警", "warning"),
)

MATTER_STATUS = Vocabulary(
    "事项状态",
    Term("open", "办理中", "open"),
    Term("closed", "已办结", "closed"),
    Term("rejected", "已否决", "rejected"),
)

ALL: tuple[Vocabulary, ...] = (CONCLUSION, CONCLUSION_SHORT, DECISION, RISK_LEVEL, CONTROLLABLE, HEARING,
                               MEETING_KIND, EVENT_OUTCOME, MATTER_STATUS, REGISTER_STATUS, FILING_REVIEW,
                               REGISTER_DECISION, CORRECTION_STATUS, ITEM_RESULT)
