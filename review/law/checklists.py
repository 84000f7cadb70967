"""The review checklists (审查要点): what counsel answers, item by item, for each kind of matter.

One checklist per kind, each item with its legal basis. Counsel records every item's result
(符合 / 不符合 / 不适用, ``vocabulary.ITEM_RESULT``) with the opinion; the gate
(``review/law/gate.py``) refuses an opinion that leaves an item unanswered, marks one 不符合
without saying why, or concludes 合法 over an item counsel found 不符合. The legal opinion
(法律意见书) prints exactly what counsel recorded.

Like the rules table, the checklists are data, validated at import (``validate_checklists``)
and in a test that feeds them a broken table. Citations were checked against published texts;
where an article number could not be confirmed the document is cited without it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from hefa.review import vocabulary as vocab
from hefa.review.errors import InvalidInput, RulesTableError
from hefa.review.law.rules import Kind

_KEY = re.compile(r"^[a-z][a-z0-9-]{1,31}$")


@dataclass(frozen=True)
class ChecklistItem:
    """One item: a stable key (what the CLI and the form name), its aspect (主体、权限、内容、程序 …),
    the question counsel answers, and its legal basis."""

    key: str
    aspect: str
    question: str
    basis: str


@dataclass(frozen=True)
class Checklist:
    kind: Kind
    source: str  # the document(s) that say what the review covers
    items: tuple[ChecklistItem, ...]

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(i.key for i in self.items)


_115 = "国办发〔2018〕115号（合法性审核内容）"
_713 = "《重大行政决策程序暂行条例》（国务院令第713号）合法性审查内容"
_118 = "国办发〔2018〕118号（重大执法决定法制审核内容）"
_ART58 = "《行政处罚法》第五十八条"
_LOCAL_CONTRACT = "本镇政府合同审查规定"


def _enforcement(kind: Kind, law: str) -> Checklist:
    """法制审核 of a penalty or licence decision: the eight points of 国办发〔2018〕118号
    (with 《行政处罚法》第五十八条 for penalties)."""
    both = f"{_118}；{_ART58}" if kind is Kind.ADMINISTRATIVE_PENALTY else _118
    return Checklist(kind, both, (
        ChecklistItem("body", "主体", "行政执法主体是否合法，是否超越本机关法定权限", _118),
        ChecklistItem("officers", "主体", "行政执法人员是否具备执法资格（持证执法）", _118),
        ChecklistItem("facts", "事实", "案件事实是否清楚，证据是否合法充分", _118),
        ChecklistItem("law", "法律适用", f"适用{law}等法律、法规、规章是否准确", _118),
        ChecklistItem("discretion", "裁量", "裁量基准运用是否适当", _118),
        ChecklistItem("procedure", "程序", "执法程序是否合法（告知、陈述申辩、听证等）", both),
        ChecklistItem("documents", "文书", "行政执法文书是否完备、规范", _118),
        ChecklistItem("transfer", "移送", "违法行为是否涉嫌犯罪、需要移送司法机关", _118),
    ))


CHECKLISTS: dict[Kind, Checklist] = {
    Kind.NORMATIVE_DOCUMENT: Checklist(Kind.NORMATIVE_DOCUMENT, _115, (
        ChecklistItem("subject", "主体", "制定主体是否合法", _115),
        ChecklistItem("authority", "权限", "是否超越制定机关法定职权", _115),
        ChecklistItem("content", "内容", "内容是否符合宪法、法律、法规、规章和国家政策规定", _115),
        ChecklistItem("no-new-measures", "内容",
                      "是否违法设立行政许可、行政处罚、行政强制、行政征收、行政收费等事项",
                      f"{_115}；国办发〔2018〕37号"),
        ChecklistItem("rights", "内容",
                      "是否存在没有法律、法规依据作出减损公民、法人和其他组织合法权益或者增加其义务的情形",
                      _115),
        ChecklistItem("own-power", "权限",
                      "是否存在没有法律、法规依据作出增加本单位权力或者减少本单位法定职责的情形", _115),
        ChecklistItem("procedure", "程序", "是否违反规范性文件制定程序", _115),
    )),
    Kind.MAJOR_DECISION: Checklist(Kind.MAJOR_DECISION, _713, (
        ChecklistItem("authority", "权限", "决策事项是否符合法定权限", _713),
        ChecklistItem("procedure", "程序",
                      "决策草案的形成是否履行公众参与、专家论证、风险评估等相关法定程序",
                      f"{_713}；国务院令第713号 第十四条至第二十四条"),
        ChecklistItem("content", "内容", "决策草案内容是否符合有关法律、法规、规章和国家政策的规定", _713),
    )),
    Kind.CONTRACT: Checklist(Kind.CONTRACT, f"{_LOCAL_CONTRACT}；《民法典》合同编", (
        ChecklistItem("parties", "主体",
                      "合同主体是否适格：本机关签约权限，相对方主体资格、资质和履约能力",
                      f"{_LOCAL_CONTRACT}；《民法典》第一百四十三条"),
        ChecklistItem("legality", "内容", "合同内容是否符合法律、行政法规的强制性规定，是否违背公序良俗",
                      "《民法典》第一百四十三条、第一百五十三条"),
        ChecklistItem("obligations", "内容", "权利义务是否明确、对等，违约责任是否约定",
                      f"《民法典》第四百七十条；{_LOCAL_CONTRACT}"),
        ChecklistItem("disputes", "内容", "是否约定争议解决方法", f"《民法典》第四百七十条；{_LOCAL_CONTRACT}"),
        ChecklistItem("term-guarantee", "内容",
                      "履行期限、地点和方式是否明确；担保是否合法（机关法人不得为保证人，"
                      "地方政府不得为任何单位和个人的债务提供担保）",
                      "《民法典》第四百七十条、第六百八十三条；《预算法》第三十五条"),
    )),
    Kind.ADMINISTRATIVE_PENALTY: _enforcement(Kind.ADMINISTRATIVE_PENALTY, "《行政处罚法》"),
    Kind.ADMINISTRATIVE_LICENCE: _enforcement(Kind.ADMINISTRATIVE_LICENCE, "《行政许可法》"),
    # 村级重大事务合法性评价 (issue 16's kind): the limits 《村民委员会组织法》 sets on what a village decides.
    Kind.VILLAGE_AFFAIR: Checklist(Kind.VILLAGE_AFFAIR, "《村民委员会组织法》", (
        ChecklistItem("procedure", "程序",
                      "是否属于须经村民会议（或经授权的村民代表会议）讨论决定的事项，并履行相应程序",
                      "《村民委员会组织法》第二十四条"),
        ChecklistItem("content", "内容", "是否与宪法、法律、法规和国家的政策相抵触",
                      "《村民委员会组织法》第二十七条"),
        ChecklistItem("rights", "内容", "是否有侵犯村民的人身权利、民主权利和合法财产权利的内容",
                      "《村民委员会组织法》第二十七条"),
    )),
}


def validate_checklists(checklists: Mapping[Kind, Checklist]) -> None:
    """Refuse a malformed table: every kind has a checklist filed under its kind, with at least
    one item; keys are short lower-case codes, unique within the checklist; every item states
    its aspect and question and cites its basis."""
    for kind in Kind:
        if kind not in checklists:
            raise RulesTableError(f"{kind}: no review checklist (审查要点)")
    for kind, checklist in checklists.items():
        if checklist.kind is not kind:
            raise RulesTableError(f"{kind}: checklist is filed under the wrong kind")
        if not checklist.items:
            raise RulesTableError(f"{kind}: the checklist has no items")
        if not checklist.source.strip():
            raise RulesTableError(f"{kind}: the checklist cites no source")
        seen: set[str] = set()
        for item in checklist.items:
            if not _KEY.match(item.key):
                raise RulesTableError(f"{kind}: item key {item.key!r} is not a short lower-case code")
            if item.key in seen:
                raise RulesTableError(f"{kind}: item {item.key!r} appears twice")
            seen.add(item.key)
            for name in ("aspect", "question", "basis"):
                if not getattr(item, name).strip():
                    raise RulesTableError(f"{kind}: item {item.key!r} has no {name}")


validate_checklists(CHECKLISTS)


def checklist_for(kind: Kind | str) -> Checklist:
    """The checklist of one kind of matter."""
    return CHECKLISTS[Kind(kind)]


# --- what counsel records ------------------------------------------------------------------

@dataclass(frozen=True)
class Entry:
    """Counsel's answer to one item: its key, the result code (``vocabulary.ITEM_RESULT``), a note."""

    key: str
    result: str
    note: str = ""


_MAX_NOTE = 2000


def _result_code(word: str, line: str) -> str:
    word = word.strip()
    for term in vocab.ITEM_RESULT:
        if word in (term.code, term.zh):
            return term.code
    choices = "、".join(t.zh for t in vocab.ITEM_RESULT)
    raise InvalidInput(f"逐项审查结果“{line}”无法识别：结果应为{choices} / unknown result {word!r}")


def parse_entries(lines: str | Iterable[str] | None) -> tuple[Entry, ...]:
    """Counsel's checklist answers from text: one ``KEY=RESULT[:NOTE]`` per line (or per item of a
    list). RESULT is 符合 / 不符合 / 不适用 (or the codes conforms / fails / na); the note follows
    a colon (half- or full-width). Blank lines and lines starting with ``#`` are skipped. Refuses
    (``InvalidInput``) a line without ``=``, an unknown result, a key given twice or an over-long
    note; whether the answers fit the kind's checklist is the gate's to decide."""
    if lines is None:
        return ()
    raw = lines.splitlines() if isinstance(lines, str) else [str(x) for x in lines]
    entries: list[Entry] = []
    keys: set[str] = set()
    for line in (x.strip() for x in raw):
        if not line or line.startswith("#"):
            continue
        key, sep, rest = line.partition("=")
        if not sep:
            raise InvalidInput(f"逐项审查结果“{line}”格式不对，应为 项目代码=结果[:说明] / expected KEY=RESULT[:NOTE]")
        key = key.strip().lower()
        word, _, note = rest.replace("：", ":").partition(":")
        result = _result_code(word, line)
        note = note.strip()
        if len(note) > _MAX_NOTE:
            raise InvalidInput(f"“{key}”的说明超过{_MAX_NOTE}字 / note too long")
        if any(ord(c) < 32 for c in note):
            raise InvalidInput(f"“{key}”的说明含有控制字符 / control characters in a note")
        if key in keys:
            raise InvalidInput(f"审查项目“{key}”填写了两次 / item {key!r} given twice")
        keys.add(key)
        entries.append(Entry(key, result, note))
    return tuple(entries)


def template(kind: Kind | str) -> str:
    """The lines counsel fills in (``KEY=``), one per item, each after a comment naming the item."""
    return "\n".join(f"# {i.aspect}：{i.question}\n{i.key}=" for i in checklist_for(kind).items)
