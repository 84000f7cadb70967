"""Pre-screen (预审): automatic findings shown to counsel before the legality review.

The rules are data, not code: ``prescreen_rules.tsv`` (category, regex, legal basis,
one-sentence explanation) and ``prescreen_exclusions.tsv`` (wording that cites a law,
assigns the measure to the competent authority, restricts or negates it). A legal
officer can read and extend both files; they are loaded and compiled once.

Categories follow 国办发〔2018〕37号 ("七个不得") and the 《公平竞争审查条例》(2024):
``penalty`` 行政处罚, ``new_license`` 行政许可, ``coercion`` 行政强制, ``fee`` 收费,
``burden`` 减损权利/增加义务, ``power`` 增加权力/减少职责, ``competition`` 排除限制竞争.

A finding is a prompt for counsel, never a verdict.
"""

from __future__ import annotations

import bisect
import csv
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

from hefa.review.documents.docx_intake import ARTICLE_RE, ExtractedDocument, Paragraph

__all__ = [
    "CATEGORIES",
    "Exclusion",
    "Finding",
    "Rule",
    "load_exclusions",
    "load_rules",
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
ALL_CATEGORIES = "*"
DATA_DIR = Path(__file__).resolve().parent
RULES_FILE = DATA_DIR / "prescreen_rules.tsv"
EXCLUSIONS_FILE = DATA_DIR / "prescreen_exclusions.tsv"
# A sentence ends at 。；！？ (full or half width) or a line break; exclusions apply per sentence.
SENTENCE_RE = re.compile(r"[^。；;！!？?\n]+[。；;！!？?\n]*|[。；;！!？?\n]+")


@dataclass(frozen=True)
class Rule:
    """One pre-screen rule: a regex for a category, with its legal basis and explanation."""

    category: str
    pattern: re.Pattern[str]
    basis: str
    explanation: str


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
    """A pre-screen finding: which clause, which category, what wording, and why."""

    category: str
    article: str | None
    paragraph_index: int
    matched_text: str
    basis: str
    explanation: str

    def to_dict(self) -> dict[str, str | int | None]:
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


def parse_rules(path: Path) -> tuple[Rule, ...]:
    """Parse and compile a rules TSV (category, pattern, basis, explanation)."""
    rules: list[Rule] = []
    for line_no, row in _read_tsv(path):
        if len(row) < 4:
            raise ValueError(f"{path.name}:{line_no}: expected 4 tab-separated columns")
        category, pattern, basis, explanation = row[:4]
        _check_category(category, path, line_no)
        rules.append(Rule(category, _compile(pattern, path, line_no), basis, explanation))
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


@lru_cache(maxsize=1)
def _rules_by_category() -> tuple[tuple[str, tuple[Rule, ...]], ...]:
    rules = load_rules()
    return tuple(
        (category, tuple(rule for rule in rules if rule.category == category))
        for category in CATEGORIES
    )


@lru_cache(maxsize=1)
def _exclusions_by_category() -> dict[str, tuple[re.Pattern[str], ...]]:
    exclusions = load_exclusions()
    return {
        category: tuple(ex.pattern for ex in exclusions if ex.applies_to(category))
        for category in CATEGORIES
    }


# ---------------------------------------------------------------------------
# Matching


class _Clause:
    """A paragraph's text split into sentences, with per-sentence exclusion memo."""

    def __init__(self, text: str) -> None:
        self.text = text
        spans = [m.span() for m in SENTENCE_RE.finditer(text)] or [(0, len(text))]
        self.starts = [start for start, _ in spans]
        self.spans = spans
        self._excluded: dict[tuple[int, str], bool] = {}

    def sentence_of(self, position: int) -> int:
        return max(bisect.bisect_right(self.starts, position) - 1, 0)

    def is_excluded(self, position: int, category: str) -> bool:
        """Whether an exclusion for ``category`` occurs in the sentence at ``position``."""
        sentence = self.sentence_of(position)
        key = (sentence, category)
        if key not in self._excluded:
            start, end = self.spans[sentence]
            patterns = _exclusions_by_category()[category]
            self._excluded[key] = any(p.search(self.text, start, end) for p in patterns)
        return self._excluded[key]


def _first_match(
    clause: _Clause, category: str, rules: tuple[Rule, ...]
) -> tuple[Rule, str] | None:
    """The first rule match for ``category`` that no exclusion cancels."""
    for rule in rules:
        for match in rule.pattern.finditer(clause.text):
            if not clause.is_excluded(match.start(), category):
                return rule, match.group(0)
    return None


def _screen_paragraph(paragraph: Paragraph) -> list[Finding]:
    text = paragraph.text
    if not text.strip():
        return []
    clause = _Clause(text)
    findings: list[Finding] = []
    for category, rules in _rules_by_category():
        hit = _first_match(clause, category, rules)
        if hit is None:
            continue
        rule, matched = hit
        findings.append(
            Finding(
                category=category,
                article=paragraph.article,
                paragraph_index=paragraph.index,
                matched_text=matched,
                basis=rule.basis,
                explanation=rule.explanation,
            )
        )
    return findings


def prescreen_paragraphs(paragraphs: Iterable[Paragraph]) -> list[Finding]:
    """Findings for each paragraph, at most one per (paragraph, category), in order."""
    findings: list[Finding] = []
    for paragraph in paragraphs:
        findings.extend(_screen_paragraph(paragraph))
    return findings


def prescreen_text(text: str) -> list[Finding]:
    """Findings for one clause of plain text (paragraph index 0; article if it starts one)."""
    match = ARTICLE_RE.match(text)
    paragraph = Paragraph(
        index=0,
        text=text,
        style="",
        is_heading=False,
        article=match.group(1) if match else None,
    )
    return prescreen_paragraphs([paragraph])


def prescreen_document(doc: ExtractedDocument) -> list[Finding]:
    """Findings for every paragraph of an extracted document, table cells included."""
    return prescreen_paragraphs(doc.paragraphs)
