"""Per-category precision and recall of the pre-screen on labelled clause files.

Usage (from the repo root)::

    python -m benchmarks.prescreen_quality [FILE.tsv ...]
    python benchmarks/prescreen_quality.py [FILE.tsv ...]

A labelled file has one clause per line: ``category<TAB>clause``; the category is one
of the pre-screen categories, several separated by commas, or ``-`` for a clean
clause. Lines starting with ``#`` are comments. Defaults: the shared sample set and
hefa's own set.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from hefa.review.documents.prescreen import CATEGORIES, prescreen_text

REPO = Path(__file__).resolve().parent.parent
DEFAULT_FILES = (
    Path(__file__).resolve().parents[1] / "tests" / "data" / "labeled_clauses_shared.tsv",
    REPO / "tests" / "data" / "labeled_clauses_hefa.tsv",
)
CLEAN = "-"


@dataclass
class Score:
    """Confusion counts for one category."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        """tp / (tp + fp); 1.0 when nothing was predicted."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        """tp / (tp + fn); 1.0 when nothing was expected."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


def read_labelled(path: Path) -> list[tuple[frozenset[str], str]]:
    """(expected categories, clause) pairs from a labelled TSV file."""
    items: list[tuple[frozenset[str], str]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        label, _, clause = line.partition("\t")
        labels = {part.strip() for part in label.split(",")} - {CLEAN, ""}
        unknown = labels - set(CATEGORIES)
        if unknown:
            raise ValueError(f"{path}: unknown category {sorted(unknown)} in {line!r}")
        items.append((frozenset(labels), clause.strip()))
    return items


def evaluate(items: list[tuple[frozenset[str], str]]) -> dict[str, Score]:
    """Per-category scores plus an ``overall`` micro-average."""
    scores = {category: Score() for category in (*CATEGORIES, "overall")}
    for expected, clause in items:
        predicted = {finding.category for finding in prescreen_text(clause)}
        for category in CATEGORIES:
            score = scores[category]
            if category in predicted and category in expected:
                score.tp += 1
            elif category in predicted:
                score.fp += 1
            elif category in expected:
                score.fn += 1
    overall = scores["overall"]
    for category in CATEGORIES:
        overall.tp += scores[category].tp
        overall.fp += scores[category].fp
        overall.fn += scores[category].fn
    return scores


def mistakes(items: list[tuple[frozenset[str], str]]) -> list[str]:
    """Lines describing each clause whose predicted categories differ from its labels."""
    lines: list[str] = []
    for expected, clause in items:
        predicted = {finding.category for finding in prescreen_text(clause)}
        if predicted != expected:
            extra = ",".join(sorted(predicted - expected)) or "-"
            missed = ",".join(sorted(expected - predicted)) or "-"
            lines.append(f"  fp={extra:<12} fn={missed:<12} {clause}")
    return lines


def format_table(path: Path, scores: dict[str, Score], count: int) -> str:
    """A plain-text table of the scores for one file."""
    header = f"{'category':<12} {'tp':>4} {'fp':>4} {'fn':>4} {'precision':>9} {'recall':>7}"
    lines = [f"{path} ({count} clauses)", header, "-" * len(header)]
    for category, score in scores.items():
        lines.append(
            f"{category:<12} {score.tp:>4} {score.fp:>4} {score.fn:>4} "
            f"{score.precision:>9.3f} {score.recall:>7.3f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Print a table per labelled file; ``-v`` also lists the misclassified clauses."""
    args = sys.argv[1:] if argv is None else argv
    verbose = "-v" in args
    paths = [Path(arg) for arg in args if arg != "-v"] or list(DEFAULT_FILES)
    for path in paths:
        items = read_labelled(path)
        print(format_table(path, evaluate(items), len(items)))
        if verbose:
            print("\n".join(mistakes(items)))
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
