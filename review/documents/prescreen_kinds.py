"""Pre-screen per matter kind (按事项类型的预审): what counsel looks for first in each kind.

The 七个不得 rules (``prescreen_rules.tsv``: a normative document may not set fines, licences,
coercive measures, fees …) apply to normative documents and major decisions. They are wrong for
the other kinds: a penalty decision *imposes* a fine under a statute, and "处罚决定：罚款" is its
lawful content, not a defect. For those kinds hefa runs the checks of
``prescreen_kind_checks.tsv`` instead:

- 行政处罚决定书: the legal basis and its article, the remedies (行政复议 / 行政诉讼) and their time
  limits (《行政处罚法》第五十九条), and a hearing notice where 第六十三条 gives the right;
- 行政许可决定书: the legal basis, and for a refusal the reasons and remedies (《行政许可法》第三十八条);
- 政府合同: a dispute-resolution clause and liability for breach (《民法典》第四百七十条), and clauses in
  which the government side guarantees, underwrites or buys back (《民法典》第六百八十三条,
  《预算法》第三十五条).

A finding is a hint for counsel, never a conclusion; an "absent" finding says what was not found
in the text, so counsel can check it against the file.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from hefa.review.documents.docx_intake import Paragraph
from hefa.review.documents.prescreen import KIND_CATEGORY_ZH, SENTENCE_RE, Finding, _confidence
from hefa.review.law.amounts import fine_windows
from hefa.review.law.statutory_penalties import BELOW, EXCEEDS, FineCheck, cited_provisions, within_ranges

__all__ = [
    "CHECKED_KINDS",
    "KIND_CATEGORY_ZH",
    "KindCheck",
    "kind_findings",
    "load_kind_checks",
    "parse_kind_checks",
]

CHECKS_FILE = Path(__file__).resolve().parent / "prescreen_kind_checks.tsv"
ABSENT, CLAUSE = "absent", "clause"
NONE = "-"
ALL_OF = " && "
# The kinds that get these checks instead of the 七个不得 rules (review.law.rules.Kind values).
CHECKED_KINDS: tuple[str, ...] = ("administrative-penalty", "administrative-licence", "contract")
_COLUMNS = 11


@dataclass(frozen=True)
class KindCheck:
    """One check for one kind: what must be present (``absent`` mode) or must not be (``clause``)."""

    kind: str
    category: str
    mode: str
    patterns: tuple[re.Pattern[str], ...]
    applies_if: re.Pattern[str] | None
    unless: re.Pattern[str] | None
    looked_for: str
    basis: str
    explanation: str
    rule: str
    confidence: float


def _optional(text: str, where: str) -> re.Pattern[str] | None:
    return None if text == NONE else _compiled(text, where)


def _compiled(text: str, where: str) -> re.Pattern[str]:
    try:
        return re.compile(text)
    except re.error as exc:
        raise ValueError(f"{where}: invalid regular expression: {exc}") from exc


def parse_kind_checks(path: Path) -> tuple[KindCheck, ...]:
    """Parse and compile a kind-checks TSV; an unknown kind, mode or category is an error."""
    checks: list[KindCheck] = []
    seen: set[str] = set()
    with path.open(encoding="utf-8", newline="") as handle:
        for line_no, row in enumerate(csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE), start=1):
            if not row or not row[0].strip() or row[0].startswith("#") or row[0] == "kind":
                continue
            where = f"{path.name}:{line_no}"
            if len(row) != _COLUMNS:
                raise ValueError(f"{where}: expected {_COLUMNS} tab-separated columns, got {len(row)}")
            kind, category, mode, pattern, applies_if, unless, looked_for, basis, explanation, rule, conf = (
                cell.strip() for cell in row)
            if kind not in CHECKED_KINDS:
                raise ValueError(f"{where}: unknown kind {kind!r}")
            if mode not in (ABSENT, CLAUSE):
                raise ValueError(f"{where}: mode must be {ABSENT} or {CLAUSE}, not {mode!r}")
            if category not in KIND_CATEGORY_ZH:
                raise ValueError(f"{where}: unknown category {category!r}")
            if rule in seen:
                raise ValueError(f"{where}: duplicate rule id {rule!r}")
            seen.add(rule)
            confidence = _confidence(conf, path, line_no)
            patterns = tuple(_compiled(part, where) for part in pattern.split(ALL_OF))
            checks.append(KindCheck(kind, category, mode, patterns, _optional(applies_if, where),
                                    _optional(unless, where), looked_for, basis, explanation, rule, confidence))
    return tuple(checks)


@lru_cache(maxsize=1)
def load_kind_checks() -> tuple[KindCheck, ...]:
    """The shipped kind checks, loaded and compiled once."""
    return parse_kind_checks(CHECKS_FILE)


def _absent_finding(check: KindCheck, paragraphs: Sequence[Paragraph], text: str) -> Finding | None:
    if all(pattern.search(text) for pattern in check.patterns):
        return None
    anchor = paragraphs[0]
    if check.applies_if is not None:
        hit = next((p for p in paragraphs if check.applies_if.search(p.text)), None)
        if hit is None:
            return None
        anchor = hit
    return Finding(
        category=check.category,
        article=anchor.article,
        paragraph_index=anchor.index,
        matched_text=f"（全文未见：{check.looked_for}）",
        basis=check.basis,
        explanation=check.explanation,
        rule=check.rule,
        evidence=f"核对 {check.rule}：全文未找到{check.looked_for}",
        confidence=check.confidence,
    )


def _clause_findings(check: KindCheck, paragraphs: Sequence[Paragraph]) -> list[Finding]:
    findings: list[Finding] = []
    for paragraph in paragraphs:
        for sentence in SENTENCE_RE.finditer(paragraph.text):
            words = sentence.group(0)
            match = next((m for p in check.patterns if (m := p.search(words))), None)
            if match is None or (check.unless is not None and check.unless.search(words)):
                continue
            findings.append(Finding(
                category=check.category, article=paragraph.article, paragraph_index=paragraph.index,
                matched_text=match.group(0), basis=check.basis, explanation=check.explanation,
                rule=check.rule, evidence=f"规则 {check.rule}：{match.group(0)}", confidence=check.confidence,
            ))
            break
    return findings


PENALTY_DECISION = "administrative-penalty"
# 《行政处罚法》第三十二条: a mitigated penalty (减轻处罚) may fall below the article's range.
_MITIGATED_RE = re.compile(r"减轻(行政)?处罚|予以减轻|减轻处以")


def _fine_range_findings(paragraphs: Sequence[Paragraph], text: str) -> list[Finding]:
    """A penalty decision's fines against the range of the article it cites (法定罚则表): a fine
    above every range the cited provisions set, or below them without 减轻处罚, is a finding (one
    per paragraph). A decision that cites no article of the table is not checked."""
    cited = cited_provisions(text)
    ranges = [(provision, bounds) for provision in cited for bounds in provision.ranges]
    if not ranges:
        return []
    mitigated = _MITIGATED_RE.search(text) is not None
    findings: list[Finding] = []
    for paragraph in paragraphs:
        for window in fine_windows(paragraph.text):
            if window.proportional or not window.amounts or within_ranges(window, (b for _, b in ranges)):
                continue
            above = max(window.amounts) > max(high for _, (_, high) in ranges)
            if not above and mitigated:
                continue
            provision = max(ranges, key=lambda pair: pair[1][1])[0]  # the widest range cited
            check = FineCheck(provision, EXCEEDS if above else BELOW, window)
            findings.append(Finding(
                category="decision_amount", article=paragraph.article, paragraph_index=paragraph.index,
                matched_text=window.text,
                basis=f"{provision.citation}；《中华人民共和国行政处罚法》第四条",
                explanation=check.explanation(decision=True), rule=f"penalty-decision.statute.{check.verdict}",
                evidence=f"法定罚则 {'、'.join(p.id for p in cited)}：{provision.range_text()}；决定：{window.text}",
                confidence=0.85,
            ))
            break
    return findings


def kind_findings(paragraphs: Sequence[Paragraph], kind: str) -> list[Finding]:
    """The findings of ``kind``'s checks for a document, clause findings in paragraph order and
    then what the document lacks. Empty for a kind without checks, or a document without text."""
    shown = [p for p in paragraphs if p.text.strip()]
    if kind not in CHECKED_KINDS or not shown:
        return []
    text = "\n".join(p.text for p in shown)
    clause: list[Finding] = []
    absent: list[Finding] = []
    for check in load_kind_checks():
        if check.kind != kind:
            continue
        if check.mode == CLAUSE:
            clause.extend(_clause_findings(check, shown))
        elif (finding := _absent_finding(check, shown, text)) is not None:
            absent.append(finding)
    if kind == PENALTY_DECISION:
        clause.extend(_fine_range_findings(shown, text))
    clause.sort(key=lambda f: f.paragraph_index)
    return clause + absent
