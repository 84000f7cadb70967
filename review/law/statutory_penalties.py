"""The statutes' own penalties (法定罚则表): which conduct a statute fines, within which range, with
which other measures — one row per provision in ``data/statutory_penalties.tsv``, each with the
article's text and where it was read.

Two uses, both in the pre-screen:

- a local document that *restates* a statute's penalty (在禁止区域内露天烧烤食品的，没收烧烤工具和违法
  所得，并处五百元以上二万元以下的罚款) sets no penalty of its own, cited or not — it is not a finding;
  one that names a fine outside the statute's range is one, even when it cites the statute
  (《行政处罚法》第十六条: a normative document may not set a penalty; a local rule may not widen a
  statute's range);
- a penalty decision (行政处罚决定书) must fine within the range of the article it cites.

A clause is matched to a provision by the article it cites, or else by the provision's conduct
words (``anchors``). A fine is read with :mod:`hefa.review.law.amounts`.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from hefa.review.law.amounts import FineWindow, chinese_number, fine_windows

__all__ = [
    "PROVISIONS_FILE",
    "FineCheck",
    "Provision",
    "check_fines",
    "cited_provisions",
    "conduct_provisions",
    "load_provisions",
    "parse_provisions",
    "unauthorised_measures",
    "within_ranges",
]

PROVISIONS_FILE = Path(__file__).resolve().parent / "data" / "statutory_penalties.tsv"
COLUMNS = ("id", "statute", "article", "conduct", "anchors", "fine_min", "fine_max", "fine_rule",
           "other_measures", "authority", "source", "text")
RESTATES, EXCEEDS, BELOW = "restates", "exceeds", "below"
NO_FINE = "none"  # fine_rule of an article that sets no fine
_N = r"[一二三四五六七八九十百零〇两\d]+"
# 第…条[第…款][第…项], and more of them after 、 (第六十条第一款第五项、第二款)
_ARTICLE_RE = re.compile(rf"第({_N})条(?:第({_N})款)?(?:第{_N}项)?(?:、(?:第{_N}[条款项])+)*")
_UNIT_RANGE_RE = re.compile(r"单位\s*(\d+)\s*[-–~至]\s*(\d+)")
_CITATION_RE = re.compile(rf"《([^》]{{2,40}})》[^《。；]{{0,12}}?第({_N})条(?:第({_N})款)?")


def _number(text: str) -> int:
    return int(text) if text.isdigit() else chinese_number(text)


def statute_key(title: str) -> str:
    """A statute's title as citations are compared: without 《》 or 中华人民共和国 (道路交通安全法)."""
    return title.strip("《》 ").removeprefix("中华人民共和国")


@dataclass(frozen=True)
class Provision:
    """One provision of a statute that fines a conduct (法定罚则).

    ``anchors`` are groups of words, each group a tuple of alternatives: a clause is about this
    conduct when it holds one word of every group. ``ranges`` are the fixed fine ranges in yuan
    (individuals first, then units where the article sets a separate one); empty when the fine is a
    multiple or a share of something, or the article sets none (``fine_rule`` says which).
    ``measures`` are the other measures the article authorises (没收违法所得, 责令停产停业, 扣押…).
    """

    id: str
    statute: str
    article: str
    article_number: int
    paragraph_number: int | None
    conduct: str
    anchors: tuple[tuple[str, ...], ...]
    ranges: tuple[tuple[float, float], ...]
    fine_rule: str
    measures: frozenset[str]
    authority: str
    source: str
    text: str

    @property
    def citation(self) -> str:
        """《…》第…条 as counsel reads it."""
        return f"{self.statute}{self.article}"

    def range_text(self) -> str:
        """The fixed ranges in words (200元–3000元；单位 1万元–5万元), or the fine rule."""
        if not self.ranges:
            return self.fine_rule
        labels = ("", "单位 ") if len(self.ranges) > 1 else ("",)
        return "；".join(f"{label}{_yuan(low)}–{_yuan(high)}" if high < math.inf else f"{label}{_yuan(low)}以上"
                        for label, (low, high) in zip(labels, self.ranges, strict=False))

    def about(self, text: str) -> bool:
        """Whether ``text`` holds a word of every anchor group (it speaks of this conduct)."""
        return all(any(word in text for word in group) for group in self.anchors)


def _yuan(value: float) -> str:
    return f"{value / 10_000:g}万元" if value >= 10_000 and value % 1000 == 0 else f"{value:g}元"


def parse_provisions(path: Path) -> tuple[Provision, ...]:
    """Read the provisions table; a bad row (columns, article, range, anchors, duplicate id) is an
    error naming its line."""
    provisions: list[Provision] = []
    seen: set[str] = set()
    with path.open(encoding="utf-8", newline="") as handle:
        for line_no, cells in enumerate(csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE), 1):
            if not cells or cells[0].startswith("#") or cells[0] == "id":
                continue
            where = f"{path.name}:{line_no}"
            if len(cells) != len(COLUMNS):
                raise ValueError(f"{where}: expected {len(COLUMNS)} tab-separated columns, got {len(cells)}")
            row = dict(zip(COLUMNS, (cell.strip() for cell in cells), strict=True))
            if row["id"] in seen:
                raise ValueError(f"{where}: duplicate id {row['id']!r}")
            seen.add(row["id"])
            article = _ARTICLE_RE.fullmatch(row["article"])
            if article is None:
                raise ValueError(f"{where}: article must read 第…条, 第…条第…款 or 第…条第…款第…项, "
                                 f"not {row['article']!r}")
            anchors = tuple(tuple(w for w in group.split("|") if w) for group in row["anchors"].split("&"))
            if not anchors or not all(anchors):
                raise ValueError(f"{where}: anchors need at least one word in every &-group")
            ranges: list[tuple[float, float]] = []
            if row["fine_min"] or row["fine_max"]:
                try:
                    low, high = float(row["fine_min"] or 0), float(row["fine_max"] or math.inf)
                except ValueError:
                    low, high = 1.0, 0.0
                if not 0 <= low <= high:
                    raise ValueError(f"{where}: fine range {row['fine_min']!r}–{row['fine_max']!r} is not a range")
                ranges.append((low, high))
                if unit := _UNIT_RANGE_RE.search(row["fine_rule"]):
                    ranges.append((float(unit.group(1)), float(unit.group(2))))
            provisions.append(Provision(
                id=row["id"], statute=row["statute"], article=row["article"],
                article_number=_number(article.group(1)),
                paragraph_number=_number(article.group(2)) if article.group(2) else None,
                conduct=row["conduct"], anchors=anchors, ranges=tuple(ranges), fine_rule=row["fine_rule"],
                measures=frozenset(m.strip() for m in re.split(r"[,，、]", row["other_measures"]) if m.strip()),
                authority=row["authority"], source=row["source"], text=row["text"],
            ))
    return tuple(provisions)


@lru_cache(maxsize=1)
def load_provisions() -> tuple[Provision, ...]:
    """The shipped table, read once."""
    return parse_provisions(PROVISIONS_FILE)


def cited_provisions(text: str, provisions: Iterable[Provision] | None = None) -> list[Provision]:
    """The provisions ``text`` cites (《…法》第…条[第…款]); a citation of a whole article matches
    each of its paragraphs."""
    table = load_provisions() if provisions is None else tuple(provisions)
    found: list[Provision] = []
    for match in _CITATION_RE.finditer(text):
        key = statute_key(match.group(1))
        try:
            number = _number(match.group(2))
            paragraph = _number(match.group(3)) if match.group(3) else None
        except ValueError:
            continue
        found += [p for p in table if statute_key(p.statute) == key and p.article_number == number
                  and (paragraph is None or p.paragraph_number in (None, paragraph)) and p not in found]
    return found


@dataclass(frozen=True)
class _AnchorIndex:
    """The shipped table's anchor words, and per word the provisions it may start: a clause is
    tested for each word once, and only provisions one of whose words it holds are checked."""

    words: tuple[str, ...]
    by_word: dict[str, tuple[int, ...]]
    groups: tuple[tuple[frozenset[str], ...], ...]


@lru_cache(maxsize=1)
def _anchor_index() -> _AnchorIndex:
    by_word: dict[str, list[int]] = {}
    for number, provision in enumerate(load_provisions()):
        for word in {word for group in provision.anchors for word in group}:
            by_word.setdefault(word, []).append(number)
    return _AnchorIndex(tuple(by_word), {w: tuple(n) for w, n in by_word.items()},
                        tuple(tuple(map(frozenset, p.anchors)) for p in load_provisions()))


def conduct_provisions(text: str, provisions: Iterable[Provision] | None = None) -> list[Provision]:
    """The provisions whose conduct ``text`` speaks of (see :meth:`Provision.about`)."""
    shipped = load_provisions()
    if provisions is not None and provisions is not shipped:
        return [p for p in provisions if p.about(text)]
    index = _anchor_index()
    present = {word for word in index.words if word in text}
    candidates = sorted({number for word in present for number in index.by_word[word]})
    return [shipped[n] for n in candidates if all(not group.isdisjoint(present) for group in index.groups[n])]


# The measures a clause may name besides a fine, as the table's other_measures column names them.
# A disguised sanction (cutting a benefit, a blacklist) is never a statute's and never excused.
_MEASURE_WORDS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern)) for name, pattern in (
        ("没收", r"没收|收缴"),
        ("吊销", r"吊销"),
        ("责令停产停业", r"停产停业|停业整顿|责令停业|责令关闭|停止营业"),
        ("拘留", r"拘留"),
        ("扣押", r"扣押|扣留|暂扣"),
        ("查封", r"查封"),
        ("拆除", r"拆除"),
        ("通报批评", r"通报"),
        ("*", r"取消[^。；，]{0,10}?(资格|补贴|补助|待遇|低保)|黑名单|不予(办理|享受)|停止[^。；，]{0,6}?(供水|供电)"),
    )
)
_MEASURE_OF_PROVISION = {"没收": ("没收",), "吊销": ("吊销",), "责令停产停业": ("停产停业", "停业", "关闭"),
                         "拘留": ("拘留",), "扣押": ("扣押", "扣留", "暂扣"), "查封": ("查封",),
                         "拆除": ("拆除",), "通报批评": ("通报",)}


def unauthorised_measures(text: str, provision: Provision) -> list[str]:
    """The measures ``text`` names that ``provision`` does not authorise (besides the fine)."""
    missing: list[str] = []
    for name, pattern in _MEASURE_WORDS:
        if not pattern.search(text):
            continue
        allowed = _MEASURE_OF_PROVISION.get(name, ())
        if not any(word in measure for measure in provision.measures for word in allowed):
            missing.append(name)
    return missing


@dataclass(frozen=True)
class FineCheck:
    """What the table says of a clause's fines: it ``restates`` ``provision``, or one of its fines
    ``exceeds`` the provision's range or falls ``below`` it (``fine`` is that fine)."""

    provision: Provision
    verdict: str
    fine: FineWindow | None = None

    def explanation(self, *, decision: bool = False) -> str:
        """One sentence for counsel, on a document's clause or (``decision``) a penalty decision."""
        where = "高于" if self.verdict == EXCEEDS else "低于"
        named = self.fine.text if self.fine is not None else ""
        rule = ("处罚决定应当在所依据条款规定的幅度内作出（依法减轻处罚的，请写明减轻的依据）" if decision
                else "规范性文件不得设定或者变更法定处罚的幅度")
        limits = f"{self.provision.citation}规定的罚款幅度（{self.provision.range_text()}）"
        return f"“{named}”{where}{limits}：{rule}，请核对。"


def within_ranges(window: FineWindow, ranges: Iterable[tuple[float, float]]) -> bool:
    """Whether every sum of one fine lies within one of ``ranges`` (a statute's individual or unit
    range)."""
    return any(all(low <= amount <= high for amount in window.amounts) for low, high in ranges)


def _verdict(provision: Provision, windows: list[FineWindow]) -> FineCheck | None:
    """None when the provision cannot judge the fines: it sets no fine (another article or a
    local regulation may), or only a multiple of something while the clause names a sum."""
    if provision.fine_rule.startswith(NO_FINE):
        return None
    for window in windows:
        if window.proportional or not window.amounts:
            continue
        if not provision.ranges:
            return None
        if within_ranges(window, provision.ranges):
            continue
        highest = max(high for _, high in provision.ranges)
        verdict = EXCEEDS if max(window.amounts) > highest else BELOW
        return FineCheck(provision, verdict, window)
    return FineCheck(provision, RESTATES)


_TITLE_RE = re.compile(r"《([^》]{2,40})》")


def check_fines(text: str, provisions: Iterable[Provision] | None = None) -> FineCheck | None:
    """Whether the fines of ``text`` restate a statute's or leave its range; None when ``text``
    names no fine or matches no provision. A clause that names statutes (《…》) is judged against
    their provisions only (it may cite one the table lacks, or a repealed one); a cited article is
    preferred to one matched by conduct words; where several match, a restatement of any of them
    is a restatement."""
    windows = fine_windows(text)
    if not windows:
        return None
    table = load_provisions() if provisions is None else tuple(provisions)
    named = {statute_key(title) for title in _TITLE_RE.findall(text)}
    if named:  # a clause that names its statutes is judged against theirs only
        table = tuple(p for p in table if statute_key(p.statute) in named)
    matched = cited_provisions(text, table) or conduct_provisions(text, table)
    if not matched:
        return None
    checks = [check for provision in matched if (check := _verdict(provision, windows)) is not None]
    return next((check for check in checks if check.verdict == RESTATES), checks[0] if checks else None)
