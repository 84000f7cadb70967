"""Pre-screen (预审): automatic findings shown to counsel before the legality review.

Two halves. The rules are data, not code: ``prescreen_rules.tsv`` (category, regex, legal
basis, one-sentence explanation, rule id, confidence), grouped by the standard they apply,
and ``prescreen_exclusions.tsv`` (wording that cites a law, assigns the measure to the
competent authority, restricts or negates it). A legal officer can read and extend both
files; they are loaded and compiled once. The learned half (``prescreen_model``: character
bigrams, a linear model per category, shipped as ``prescreen_model.tsv``) grades how sure each
rule finding is, adds its strongest bigrams to the evidence, and reports a category no rule
found when it is sure enough (``model_alone``, on by default: see :data:`MODEL_ALONE`). Every
paragraph of a document is scored in one batch.

Categories follow 国办发〔2018〕37号 ("七个不得"), 《行政处罚法》第十六条, 《行政许可法》第十七条,
《行政强制法》第十条 and the 《公平竞争审查条例》(国务院令第783号) 第八条至第十一条:
``penalty`` 行政处罚, ``new_license`` 行政许可, ``coercion`` 行政强制, ``fee`` 收费,
``burden`` 减损权利/增加义务, ``power`` 增加权力/减少职责, ``competition`` 排除限制竞争.

Every finding explains itself: the clause and its article, the category, the rule (or
``model.<category>``) that fired, the evidence (the matched words or the model's strongest
n-grams) and a confidence between 0 and 1. A finding is a prompt for counsel, never a verdict.
"""

from __future__ import annotations

import bisect
import csv
import re
import re._constants as sre_constants  # the parsed form of a pattern, for its literal anchors
import re._parser as sre_parse
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from hefa.review.documents.char_pairs import KeyTable, encode
from hefa.review.documents.docx_intake import ARTICLE_RE, ExtractedDocument, Paragraph
from hefa.review.documents.prescreen_model import (
    PrescreenModel,
    evidence_spans,
    features,
    load_model,
    normalise,
)
from hefa.review.law.statutory_penalties import RESTATES, FineCheck, check_fines, unauthorised_measures

__all__ = [
    "CATEGORIES",
    "CATEGORY_BASIS",
    "CATEGORY_ZH",
    "KIND_CATEGORY_ZH",
    "RULE_KINDS",
    "Exclusion",
    "Finding",
    "Rule",
    "load_exclusions",
    "load_rules",
    "pattern_anchors",
    "prescreen_document",
    "prescreen_paragraphs",
    "prescreen_text",
]

CATEGORIES: tuple[str, ...] = (
    "penalty",
    "new_license",
    "coercion",
    "fee",
    "burden",
    "power",
    "competition",
)

# The categories in Chinese (rules.md: what a normative document may not do), for people.
CATEGORY_ZH: dict[str, str] = {
    "penalty": "设定行政处罚", "new_license": "增设行政许可或审批", "coercion": "设定行政强制",
    "fee": "设定收费或征收", "burden": "减损权利或增加义务", "power": "增加本机关权力或减少法定职责",
    "competition": "排除、限制竞争",
}
# The categories of the per-kind checks (prescreen_kinds: penalty and licence decisions, contracts).
KIND_CATEGORY_ZH: dict[str, str] = {
    "decision_basis": "未载明法律依据",
    "decision_remedy": "未告知救济途径或期限",
    "decision_hearing": "未见听证告知",
    "decision_amount": "罚款超出所依据条款的幅度",
    "contract_dispute": "未约定争议解决",
    "contract_breach": "未约定违约责任",
    "contract_guarantee": "政府一方担保或兜底",
}
CATEGORY_ZH.update(KIND_CATEGORY_ZH)
# The kinds the 七个不得 rules apply to (review.law.rules.Kind values): normative documents, major
# decisions, and a village's 村规民约 and major affairs, which the township reviews for the same
# unlawful content (《村民委员会组织法》第二十七条). The other kinds get the checks of prescreen_kinds.
# ``None`` (no kind given, e.g. `hefa check`) screens as a normative document.
RULE_KINDS: tuple[str, ...] = ("normative-document", "major-decision", "village-affair")
# The legal basis of each category, cited by findings the model makes without a rule.
CATEGORY_BASIS: dict[str, str] = {
    "penalty": "《中华人民共和国行政处罚法》第十六条；国办发〔2018〕37号",
    "new_license": "《中华人民共和国行政许可法》第十七条；国办发〔2018〕37号",
    "coercion": "《中华人民共和国行政强制法》第十条、第十三条；国办发〔2018〕37号",
    "fee": "国办发〔2018〕37号（不得违法设定行政收费、征收）",
    "burden": "国办发〔2018〕37号（不得违法减损权利或者增加义务）",
    "power": "国办发〔2018〕37号（不得增加本机关权力或者减少法定职责）",
    "competition": "《公平竞争审查条例》第八条至第十一条；《公平竞争审查条例实施办法》",
}
ALL_CATEGORIES = "*"
DEFAULT_CONFIDENCE = 0.8
# Use the shipped model (the default of ``model=`` below); pass ``None`` for the rules alone.
SHIPPED_MODEL = "shipped"
# Whether the model reports categories no rule found (at its per-category threshold in the model
# file; 0.5 for every category since the seventh pass, see MODEL_VETO). On: decided on tuning rows
# the rules had not yet been fitted to (each new pass of real rows, before tuning on it): with the
# model alone, 0.738 / 0.369 → 0.732 / 0.488 (third pass, 146 rows) and 0.680 / 0.227 → 0.686 /
# 0.320 (fourth pass, 109 rows) precision / recall. The held-out split was not used to decide.
MODEL_ALONE = True
# A rule finding whose category the model gives less than this probability is not reported: the
# model's doubt outweighs the wording. Decided, like the model's own threshold (0.5, the balanced
# decision boundary), on fresh tuning rows, each pass scored by the screen of the day before any
# tuning on it: fifth pass 0.677 / 0.380 → 0.671 / 0.456, sixth 0.564 / 0.439 → 0.624 / 0.602
# precision / recall, with both changes; below 0.1, 28 of 32 rule findings were wrong.
MODEL_VETO = 0.1
DATA_DIR = Path(__file__).resolve().parent
RULES_FILE = DATA_DIR / "prescreen_rules.tsv"
EXCLUSIONS_FILE = DATA_DIR / "prescreen_exclusions.tsv"
# A sentence ends at 。；！？ (full or half width) or a line break; exclusions apply per sentence.
SENTENCE_RE = re.compile(r"[^。；;！!？?\n]+[。；;！!？?\n]*|[。；;！!？?\n]+")


@dataclass(frozen=True)
class Rule:
    """One pre-screen rule: a regex for a category, with its legal basis and explanation.

    ``anchors`` are literal strings of which every match contains at least one (derived from the
    pattern); a clause containing none of their first two characters is skipped without running
    the regex (a set test, much cheaper than the search).
    """

    category: str
    pattern: re.Pattern[str]
    basis: str
    explanation: str
    rule_id: str = ""
    confidence: float = DEFAULT_CONFIDENCE
    anchors: tuple[str, ...] | None = None

    @property
    def heads(self) -> frozenset[str] | None:
        """The first one or two characters of each anchor (what the prefilter looks up), None
        when the rule has no anchors and every clause must be tried."""
        return None if self.anchors is None else frozenset(anchor[:2] for anchor in self.anchors)

    def may_match(self, chars: set[str], pairs: set[str]) -> bool:
        """False only if the pattern cannot match a text whose characters are ``chars`` and
        whose character pairs are ``pairs`` (no anchor can occur in it)."""
        heads = self.heads
        return heads is None or not (heads.isdisjoint(chars) and heads.isdisjoint(pairs))


_REPEATS = (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT, sre_constants.POSSESSIVE_REPEAT)


def _first_chars(op: object, arg: object, limit: int = 16) -> set[str] | None:
    """The characters a parsed item must start with, if they are a few literals (else None)."""
    if op is sre_constants.LITERAL:
        return {chr(arg)}  # type: ignore[arg-type]
    if op is sre_constants.IN:
        items = list(arg)  # type: ignore[call-overload]
        if len(items) <= limit and all(kind is sre_constants.LITERAL for kind, _ in items):
            return {chr(value) for _, value in items}
        return None
    if op is sre_constants.SUBPATTERN:
        body = list(arg[-1])  # type: ignore[index]
        return _first_chars(*body[0]) if body else None
    if op is sre_constants.BRANCH:
        firsts: set[str] = set()
        for branch in arg[1]:  # type: ignore[index]
            head = _first_chars(*branch[0]) if branch else None
            if not head:
                return None
            firsts |= head
        return firsts if len(firsts) <= limit else None
    return None


def _required_literals(items: list[tuple[object, object]]) -> set[str] | None:
    """A set of strings of which every match of the parsed sequence ``items`` contains one,
    or None when no such set is known (e.g. the sequence can match without any literal)."""
    candidates: list[set[str]] = []
    run = ""
    for op, arg in items:
        if op is sre_constants.LITERAL:
            run += chr(arg)  # type: ignore[arg-type]
            continue
        if run:
            candidates.append({run})
            following = _first_chars(op, arg)
            if following:  # 每(?:人|户) → {每人, 每户}: longer anchors, fewer clauses pass the prefilter
                candidates.append({run + char for char in following})
            run = ""
        found: set[str] | None = None
        if op is sre_constants.SUBPATTERN:
            found = _required_literals(list(arg[-1]))  # type: ignore[index]
        elif op is sre_constants.ATOMIC_GROUP:
            found = _required_literals(list(arg))  # type: ignore[call-overload]
        elif op is sre_constants.BRANCH:
            branches = [_required_literals(list(branch)) for branch in arg[1]]  # type: ignore[index]
            if all(branches):
                found = set().union(*branches)  # type: ignore[arg-type]
        elif op in _REPEATS and arg[0] >= 1:  # type: ignore[index]
            found = _required_literals(list(arg[2]))  # type: ignore[index]
        if found:
            candidates.append(found)
    if run:
        candidates.append({run})
    if not candidates:
        return None
    return max(candidates, key=_anchor_preference)


# Character pairs found in most paragraphs of a normative document: as an anchor they let nearly
# every clause through the prefilter, so another required literal is preferred when there is one.
COMMON_HEADS = frozenset(
    "的， 的. 规定 申请 企业 统一 采购 经营 管理 人员 单位 部门 政府 应当 本镇 本县 本办 按照 "
    "依法 有关 相关 负责 工作 服务 建设 项目 资金 办理 实施 进行 组织 其他 以上 以下".split()
)


def _anchor_preference(strings: set[str]) -> tuple[int, int, int]:
    """How good a set of required literals is as anchors: longer, fewer common heads, fewer strings."""
    return (min(map(len, strings)), -sum(text[:2] in COMMON_HEADS for text in strings), -len(strings))


def pattern_anchors(pattern: str) -> tuple[str, ...] | None:
    """The literal anchors of a regular expression (see :attr:`Rule.anchors`), shortest first."""
    try:
        parsed = sre_parse.parse(pattern)
    except re.error:
        return None
    found = _required_literals(list(parsed))
    return tuple(sorted(found, key=len)) if found else None


@dataclass(frozen=True)
class Exclusion:
    """Wording that cancels a rule's match in the same sentence (e.g. 依照《…》)."""

    categories: frozenset[str]
    pattern: re.Pattern[str]
    reason: str

    def applies_to(self, category: str) -> bool:
        """Whether this exclusion covers ``category``."""
        return ALL_CATEGORIES in self.categories or category in self.categories


@dataclass(frozen=True)
class Finding:
    """A pre-screen finding: which clause, which category, what wording, and why.

    ``rule`` is the stable id of the rule that fired (``model.<category>`` when only the learned
    model did); ``evidence`` is what fired (the matched words, or the model's strongest n-grams);
    ``confidence`` (0–1) is how sure the pre-screen is that counsel will agree.
    """

    category: str
    article: str | None
    paragraph_index: int
    matched_text: str
    basis: str
    explanation: str
    rule: str = ""
    evidence: str = ""
    confidence: float = 0.0

    def to_dict(self) -> dict[str, str | int | float | None]:
        """A JSON-ready dict of the finding."""
        return asdict(self)


# ---------------------------------------------------------------------------
# Loading the data files


def _read_tsv(path: Path) -> list[tuple[int, list[str]]]:
    """Rows of a TSV file with their line numbers; skips comments, blanks and the header."""
    rows: list[tuple[int, list[str]]] = []
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        for line_no, row in enumerate(reader, start=1):
            if not row or not row[0].strip() or row[0].lstrip().startswith("#"):
                continue
            if row[0].strip() == "category":  # header row
                continue
            rows.append((line_no, [cell.strip() for cell in row]))
    return rows


def _compile(pattern: str, path: Path, line_no: int) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"{path.name}:{line_no}: invalid regular expression: {exc}") from exc


def _check_category(category: str, path: Path, line_no: int) -> None:
    if category not in CATEGORIES:
        raise ValueError(f"{path.name}:{line_no}: unknown category {category!r}")


def _confidence(value: str, path: Path, line_no: int) -> float:
    try:
        confidence = float(value)
    except ValueError:
        confidence = -1.0
    if not 0.0 <= confidence <= 1.0:
        raise ValueError(f"{path.name}:{line_no}: confidence must be a number from 0 to 1, not {value!r}")
    return confidence


def parse_rules(path: Path) -> tuple[Rule, ...]:
    """Parse and compile a rules TSV (category, pattern, basis, explanation[, rule id, confidence]).

    A missing rule id becomes ``<category>.line<N>``; rule ids must be unique.
    """
    rules: list[Rule] = []
    seen: set[str] = set()
    for line_no, row in _read_tsv(path):
        if len(row) < 4:
            raise ValueError(f"{path.name}:{line_no}: expected 4 tab-separated columns")
        category, pattern, basis, explanation = row[:4]
        _check_category(category, path, line_no)
        rule_id = row[4] if len(row) > 4 and row[4] else f"{category}.line{line_no}"
        if rule_id in seen:
            raise ValueError(f"{path.name}:{line_no}: duplicate rule id {rule_id!r}")
        seen.add(rule_id)
        confidence = _confidence(row[5], path, line_no) if len(row) > 5 and row[5] else DEFAULT_CONFIDENCE
        compiled = _compile(pattern, path, line_no)
        rules.append(
            Rule(category, compiled, basis, explanation, rule_id, confidence, pattern_anchors(pattern))
        )
    return tuple(rules)


def parse_exclusions(path: Path) -> tuple[Exclusion, ...]:
    """Parse and compile an exclusions TSV (categories or ``*``, pattern, reason)."""
    exclusions: list[Exclusion] = []
    for line_no, row in _read_tsv(path):
        if len(row) < 2:
            raise ValueError(f"{path.name}:{line_no}: expected at least 2 tab-separated columns")
        categories = frozenset(part.strip() for part in row[0].split(",") if part.strip())
        for category in categories - {ALL_CATEGORIES}:
            _check_category(category, path, line_no)
        reason = row[2] if len(row) > 2 else ""
        exclusions.append(Exclusion(categories, _compile(row[1], path, line_no), reason))
    return tuple(exclusions)


@lru_cache(maxsize=1)
def load_rules() -> tuple[Rule, ...]:
    """The shipped rules, loaded and compiled once."""
    return parse_rules(RULES_FILE)


@lru_cache(maxsize=1)
def load_exclusions() -> tuple[Exclusion, ...]:
    """The shipped exclusions, loaded and compiled once."""
    return parse_exclusions(EXCLUSIONS_FILE)


@dataclass(frozen=True)
class _RuleIndex:
    """Every rule by the heads of its anchors (a character, or the first two characters of a
    longer anchor): a clause can match only the rules one of whose heads it contains, and the
    rules without anchors. Rules are numbered in category order, then file order; the heads are
    looked up for every paragraph of a document at once (:class:`KeyTable`)."""

    rules: tuple[Rule, ...]
    heads: KeyTable
    by_head: tuple[tuple[int, ...], ...]  # per head (in the table's order), the rules it may start
    always: frozenset[int]

    def candidates(self, heads: Iterable[int]) -> list[int]:
        """The numbers of the rules a clause holding these heads may match, in order."""
        found = set(self.always)
        for head in heads:
            found.update(self.by_head[head])
        return sorted(found)


@lru_cache(maxsize=1)
def _rule_index() -> _RuleIndex:
    ordered = tuple(sorted(load_rules(), key=lambda rule: CATEGORIES.index(rule.category)))
    by_head: dict[str, list[int]] = {}
    always: set[int] = set()
    for number, rule in enumerate(ordered):
        if rule.heads is None:
            always.add(number)
            continue
        for head in rule.heads:
            by_head.setdefault(head, []).append(number)
    heads = list(by_head)
    return _RuleIndex(ordered, KeyTable(heads), tuple(tuple(by_head[head]) for head in heads), frozenset(always))


@lru_cache(maxsize=1)
def _exclusions_by_category() -> dict[str, re.Pattern[str]]:
    """Per category, one pattern: the alternation of every exclusion that covers it (one search
    per sentence instead of one per exclusion)."""
    exclusions = load_exclusions()
    return {
        category: re.compile("|".join(f"(?:{ex.pattern.pattern})" for ex in exclusions if ex.applies_to(category))
                             or "(?!)")
        for category in CATEGORIES
    }


# ---------------------------------------------------------------------------
# Matching


class _Clause:
    """A paragraph's text split into sentences, with per-sentence exclusion memo."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._spans: list[tuple[int, int]] | None = None
        self._starts: list[int] = []
        self._excluded: dict[tuple[int, str], bool] = {}

    @property
    def spans(self) -> list[tuple[int, int]]:
        """The sentences' (start, end) positions, found when first asked for (most paragraphs
        match no rule and never need them)."""
        if self._spans is None:
            self._spans = [m.span() for m in SENTENCE_RE.finditer(self.text)] or [(0, len(self.text))]
            self._starts = [start for start, _ in self._spans]
        return self._spans

    @property
    def starts(self) -> list[int]:
        """Where each sentence starts."""
        if self._spans is None:
            self.spans  # noqa: B018 - finds the sentences and their starts
        return self._starts

    def sentence_of(self, position: int) -> int:
        return max(bisect.bisect_right(self.starts, position) - 1, 0)

    def sentence_excluded(self, sentence: int, category: str) -> bool:
        """Whether an exclusion for ``category`` occurs in sentence number ``sentence``."""
        key = (sentence, category)
        if key not in self._excluded:
            start, end = self.spans[sentence]
            self._excluded[key] = _exclusions_by_category()[category].search(self.text, start, end) is not None
        return self._excluded[key]

    def is_excluded(self, position: int, category: str) -> bool:
        """Whether an exclusion for ``category`` occurs in the sentence at ``position``."""
        return self.sentence_excluded(self.sentence_of(position), category)


def _matches(clause: _Clause, rule: Rule) -> re.Match[str] | None:
    """The first match of ``rule`` in the clause that no exclusion of its category cancels."""
    first = rule.pattern.search(clause.text)
    if first is None:
        return None
    if not clause.is_excluded(first.start(), rule.category):
        return first
    for match in rule.pattern.finditer(clause.text, first.end()):
        if not clause.is_excluded(match.start(), rule.category):
            return match
    return None


@dataclass
class _Screened:
    """One paragraph on its way to findings: its clause, the first rule hit per category and,
    when the model is used, the n-grams and probability per category of the whole paragraph."""

    paragraph: Paragraph
    clause: _Clause
    hits: dict[str, tuple[Rule, re.Match[str]]]
    probabilities: list[float] = field(default_factory=list)
    model_may_report: bool = False  # some category's probability reaches the model's threshold
    _grams: set[str] | None = None

    @property
    def grams(self) -> set[str]:
        """The model's features of the paragraph (:func:`features`), found when its evidence is
        first asked for (the scores come from the whole document's codes)."""
        if self._grams is None:
            self._grams = features(self.clause.text)
        return self._grams

    def evidence(self, model: PrescreenModel, category: str, sentence: int) -> str:
        """The model's strongest n-grams for ``category`` that occur in ``sentence``, as spans."""
        start, end = self.clause.spans[sentence]
        grams = model.top_ngrams(self.grams, category, limit=8)
        return "、".join(evidence_spans(self.clause.text[start:end], grams))


def _rule_finding(item: _Screened, model: PrescreenModel | None, rule: Rule, match: re.Match[str]) -> Finding:
    evidence = f"规则 {rule.rule_id}：{match.group(0)}"
    confidence = rule.confidence
    if model is not None:
        p = item.probabilities[model.index(rule.category)]
        # Rule and model agree → surer; the model doubts → less sure.
        confidence = max(0.05, min(0.99, 0.5 * rule.confidence + 0.5 * p))
        if p >= 0.5:
            words = item.evidence(model, rule.category, item.clause.sentence_of(match.start()))
            evidence += f"；模型（{p:.2f}）：{words}" if words else f"；模型（{p:.2f}）"
    return Finding(
        category=rule.category,
        article=item.paragraph.article,
        paragraph_index=item.paragraph.index,
        matched_text=match.group(0),
        basis=rule.basis,
        explanation=rule.explanation,
        rule=rule.rule_id,
        evidence=evidence,
        confidence=round(confidence, 2),
    )


def _model_finding(item: _Screened, model: PrescreenModel, category: str) -> Finding | None:
    """The model's finding for ``category`` if the paragraph's probability reaches the category's
    threshold; it points at the sentence holding the strongest evidence that no exclusion covers."""
    p = item.probabilities[model.index(category)]
    if p < model.threshold(category):
        return None
    clause = item.clause
    normalised = normalise(clause.text)
    for gram in model.top_ngrams(item.grams, category, limit=8):
        position = normalised.find(gram)
        if position < 0:
            continue
        sentence = clause.sentence_of(position)
        if clause.sentence_excluded(sentence, category):
            continue
        start, end = clause.spans[sentence]
        words = item.evidence(model, category, sentence)
        return Finding(
            category=category,
            article=item.paragraph.article,
            paragraph_index=item.paragraph.index,
            matched_text=clause.text[start:end].strip(),
            basis=CATEGORY_BASIS[category],
            explanation=(
                f"本条与标注集中“{CATEGORY_ZH[category]}”的条款措辞相近（统计模型判断，无规则命中），"
                "请法律顾问核对其法律依据。"
            ),
            rule=f"model.{category}",
            evidence=f"模型（{p:.2f}）：{words}" if words else f"模型（{p:.2f}）",
            confidence=round(p, 2),
        )
    return None


# The coercive measures a statute's provision may authorise beside its fine (statutory_penalties).
_COERCIVE_MEASURES = frozenset({"扣押", "查封", "拆除"})
# A fine a village, an association or a firm imposes is never a statute's, whatever its sum: only
# an administrative organ imposes a statutory penalty (《行政处罚法》第十七条).
_SELF_GOVERNING_RE = re.compile(
    r"村委会?|村民委员会|村两委|居委会|居民委员会|本村|村规|村民小组|组规|协会|物业|合作社|理事会")


def _statute_excused(check: FineCheck | None, text: str) -> frozenset[str]:
    """The categories a restatement of a statute's own penalty excuses (法定罚则的复述): ``penalty``
    when the clause names no measure the provision does not authorise beside the coercive ones,
    and ``coercion`` too when it names none at all. A clause that adds a measure of its own (a
    disguised sanction, a licence revoked where the statute revokes none), or in which a village or
    another self-governing body imposes the fine, is not excused."""
    if check is None or check.verdict != RESTATES or _SELF_GOVERNING_RE.search(text):
        return frozenset()
    extra = set(unauthorised_measures(text, check.provision))
    if not extra:
        return frozenset({"penalty", "coercion"})
    return frozenset({"penalty"}) if extra <= _COERCIVE_MEASURES else frozenset()


def _range_finding(item: _Screened, check: FineCheck) -> Finding:
    """A fine outside the range of the statute's provision the clause cites or restates."""
    provision = check.provision
    named = check.fine.text if check.fine is not None else ""
    return Finding(
        category="penalty",
        article=item.paragraph.article,
        paragraph_index=item.paragraph.index,
        matched_text=named,
        basis=f"{provision.citation}；《中华人民共和国行政处罚法》第十六条",
        explanation=check.explanation(),
        rule=f"penalty.statute.{check.verdict}",
        evidence=f"法定罚则 {provision.id}（{provision.conduct}）：{provision.range_text()}；本条：{named}",
        confidence=0.9,
    )


def _rule_hits(clause: _Clause, candidates: Iterable[int]) -> dict[str, tuple[Rule, re.Match[str]]]:
    """The first rule hit per category among the candidate rules (tried in order; a category's
    later rules are skipped once one of its rules has matched)."""
    rules = _rule_index().rules
    hits: dict[str, tuple[Rule, re.Match[str]]] = {}
    for number in candidates:
        rule = rules[number]
        if rule.category in hits:
            continue
        if rule.anchors and not any(map(clause.text.__contains__, rule.anchors)):
            continue  # a head matched, but no whole anchor is in the text
        match = _matches(clause, rule)
        if match is not None:
            hits[rule.category] = (rule, match)
    return hits


def _screen(paragraphs: Iterable[Paragraph], model: PrescreenModel | None, model_alone: bool) -> list[Finding]:
    kept = [paragraph for paragraph in paragraphs if paragraph.text.strip()]
    encoded = encode([paragraph.text for paragraph in kept])
    index = _rule_index()
    screened = [
        _Screened(paragraph, clause, _rule_hits(clause, index.candidates(heads)))
        for paragraph, heads in zip(kept, index.heads.found_lists(encoded), strict=True)
        for clause in (_Clause(paragraph.text),)
    ]
    if model is not None:
        # One batch for every paragraph of the document; the model may report alone where some
        # category reaches its threshold, and grades the rule findings everywhere.
        probabilities = 1.0 / (1.0 + np.exp(-model.scores_encoded(encoded)))
        reaches = (probabilities >= np.asarray(model.thresholds)).any(axis=1).tolist()
        for item, row, reached in zip(screened, probabilities.tolist(), reaches, strict=True):
            item.probabilities = row
            # A heading (a title or a chapter line) is not a clause: the model grades rule
            # findings there but never reports alone on one.
            item.model_may_report = model_alone and reached and not item.paragraph.is_heading
    findings: list[Finding] = []
    for item in screened:
        # A fine is read against the statutes' own penalties: a restatement is no finding, a fine
        # outside the statute's range always is one (even where the clause cites the statute).
        statute = check_fines(item.clause.text) if "罚" in item.clause.text else None
        excused = _statute_excused(statute, item.clause.text)
        if statute is not None and statute.verdict != RESTATES:
            findings.append(_range_finding(item, statute))
            excused = frozenset({"penalty"})
        if not item.hits and not item.model_may_report:
            continue
        for category in CATEGORIES:
            if category in excused:
                continue
            hit = item.hits.get(category)
            if hit is not None:
                # reported unless the model doubts it too much (see MODEL_VETO)
                if model is None or item.probabilities[model.index(category)] >= MODEL_VETO:
                    findings.append(_rule_finding(item, model, *hit))
            elif model is not None and item.model_may_report:
                finding = _model_finding(item, model, category)
                if finding is not None:
                    findings.append(finding)
    return findings


def _resolve(model: PrescreenModel | str | None) -> PrescreenModel | None:
    return load_model() if model == SHIPPED_MODEL else model  # type: ignore[return-value]


def _checked_kind(kind: str | None) -> str | None:
    """``kind`` if it gets the per-kind checks, None if it gets the 七个不得 rules; an unknown kind
    is an error (a typo must not silently screen a penalty decision as a normative document)."""
    from hefa.review.documents.prescreen_kinds import CHECKED_KINDS

    if kind is None or kind in RULE_KINDS:
        return None
    if kind in CHECKED_KINDS:
        return kind
    raise ValueError(f"未知的事项类型 {kind!r} / unknown matter kind; 可选 / one of: "
                     + ", ".join((*RULE_KINDS, *CHECKED_KINDS)))


def prescreen_paragraphs(
    paragraphs: Iterable[Paragraph],
    *,
    model: PrescreenModel | str | None = SHIPPED_MODEL,
    model_alone: bool = MODEL_ALONE,
    kind: str | None = None,
) -> list[Finding]:
    """Findings for each paragraph, at most one per (paragraph, category), in order.

    ``kind`` is the matter's kind (review.law.rules.Kind value): normative documents and major
    decisions (and ``None``) get the 七个不得 rules; penalty and licence decisions and contracts get
    their own checks (:mod:`prescreen_kinds`) and never the rules — a lawful fine in a penalty
    decision is not a finding. ``model`` is the shipped learned model by default (it grades each
    rule finding's confidence and adds its evidence); ``None`` screens with the rules alone.
    ``model_alone`` also reports what only the model finds (on by default: see :data:`MODEL_ALONE`).
    """
    checked = _checked_kind(kind)
    if checked is not None:
        from hefa.review.documents.prescreen_kinds import kind_findings

        return kind_findings(list(paragraphs), checked)
    return _screen(paragraphs, _resolve(model), model_alone)


def prescreen_text(
    text: str, *, model: PrescreenModel | str | None = SHIPPED_MODEL, model_alone: bool = MODEL_ALONE,
    kind: str | None = None,
) -> list[Finding]:
    """Findings for one clause of plain text (paragraph index 0; article if it starts one)."""
    match = ARTICLE_RE.match(text)
    paragraph = Paragraph(
        index=0,
        text=text,
        style="",
        is_heading=False,
        article=match.group(1) if match else None,
    )
    return prescreen_paragraphs([paragraph], model=model, model_alone=model_alone, kind=kind)


def prescreen_document(
    doc: ExtractedDocument,
    *,
    model: PrescreenModel | str | None = SHIPPED_MODEL,
    model_alone: bool = MODEL_ALONE,
    kind: str | None = None,
) -> list[Finding]:
    """Findings for every paragraph of an extracted document, table cells included, as
    :func:`prescreen_paragraphs` screens a matter of ``kind``."""
    return prescreen_paragraphs(doc.paragraphs, model=model, model_alone=model_alone, kind=kind)
