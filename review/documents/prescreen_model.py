"""The learned half of the pre-screen (预审统计模型): character n-grams and a linear model.

One logistic regression per category (one-vs-rest) over the character bigrams and trigrams of a
sentence, trained on the tuning split of hefa's labelled clauses (the held-out split is never
used). It runs on the CPU in pure Python and ships with the package as ``prescreen_model.tsv``
(n-gram, category, weight), so nothing is downloaded at run time.

The model catches wording the rules do not spell out; the rules keep the explanation. Its
evidence is the n-grams that pushed the score up, merged back into spans of the sentence.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

__all__ = [
    "MODEL_FILE",
    "PrescreenModel",
    "evidence_spans",
    "features",
    "load_model",
    "parse_model",
    "sigmoid",
    "train",
]

MODEL_FILE = Path(__file__).resolve().parent / "prescreen_model.tsv"
BIAS = "__bias__"
THRESHOLD = "__threshold__"
NGRAM_SIZES = (2, 3)
# Arabic and full-width digits are one symbol for the model: "处500元" and "处2000元" look alike.
_PUNCTUATION = "，。；：、！？（）“”《》,.;:!?() \t\n"
_DIGITS = str.maketrans({c: "0" for c in "0123456789０１２３４５６７８９"})


def _normalise(text: str) -> str:
    return text.translate(_DIGITS)


def features(text: str) -> set[str]:
    """The character bigrams and trigrams of ``text`` (digits folded to ``0``)."""
    norm = _normalise(text)
    grams: set[str] = set()
    for size in NGRAM_SIZES:
        grams.update(norm[i : i + size] for i in range(len(norm) - size + 1))
    return grams


@dataclass
class PrescreenModel:
    """Weights per n-gram (sparse: ``{ngram: ((category index, weight), ...)}``) and a bias and
    decision threshold per category."""

    categories: tuple[str, ...]
    weights: dict[str, tuple[tuple[int, float], ...]]
    bias: list[float]
    thresholds: list[float]
    note: str = ""
    _index: dict[str, int] = field(default_factory=dict, repr=False)
    _by_category: list[dict[str, float]] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self._index = {category: i for i, category in enumerate(self.categories)}
        self._by_category = [{} for _ in self.categories]
        for gram, entries in self.weights.items():
            for index, weight in entries:
                self._by_category[index][gram] = weight

    def index(self, category: str) -> int:
        """The position of ``category`` in :attr:`categories` (and in :meth:`scores`)."""
        return self._index[category]

    def scores(self, grams: set[str]) -> list[float]:
        """The raw linear score per category: bias plus the weights of the n-grams ``grams``."""
        totals = list(self.bias)
        for entries in filter(None, map(self.weights.get, grams)):
            for index, weight in entries:
                totals[index] += weight
        return totals

    def score(self, grams: set[str], category: str) -> float:
        """The raw linear score of one category (cheaper than :meth:`scores` for one)."""
        index = self._index[category]
        return self.bias[index] + sum(filter(None, map(self._by_category[index].get, grams)))

    def probabilities(self, text: str) -> dict[str, float]:
        """P(category | text) for each category, by the logistic function of its score."""
        return {
            category: sigmoid(score)
            for category, score in zip(self.categories, self.scores(features(text)), strict=True)
        }

    def threshold(self, category: str) -> float:
        """The probability at or above which the model alone reports ``category``."""
        return self.thresholds[self._index[category]]

    def top_ngrams(self, grams: set[str], category: str, limit: int = 4) -> list[str]:
        """The n-grams among ``grams`` that raised the score of ``category`` most, strongest first."""
        weights = self._by_category[self._index[category]]
        contributions = sorted(
            ((weights[gram], gram) for gram in grams if weights.get(gram, 0.0) > 0), reverse=True
        )
        return [gram for _, gram in contributions[:limit]]

    def dump(self, path: Path, *, min_weight: float = 0.0) -> None:
        """Write the model as TSV: thresholds, biases, then ``ngram<TAB>category<TAB>weight``."""
        lines = [
            "# hefa pre-screen model (预审统计模型): character 2-3-grams, one logistic regression per "
            "category.",
            f"# {self.note}",
            "ngram\tcategory\tweight",
        ]
        for category, value in zip(self.categories, self.thresholds, strict=True):
            lines.append(f"{THRESHOLD}\t{category}\t{value:.3f}")
        for category, value in zip(self.categories, self.bias, strict=True):
            lines.append(f"{BIAS}\t{category}\t{value:.4f}")
        for gram in sorted(self.weights):
            for index, weight in self.weights[gram]:
                if abs(weight) >= min_weight:
                    lines.append(f"{gram}\t{self.categories[index]}\t{weight:.4f}")
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def sigmoid(x: float) -> float:
    """The logistic function, without overflow."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def parse_model(path: Path, categories: Sequence[str]) -> PrescreenModel:
    """Read a model TSV written by :meth:`PrescreenModel.dump`; unknown categories are an error."""
    index = {category: i for i, category in enumerate(categories)}
    bias = [0.0] * len(categories)
    thresholds = [1.01] * len(categories)  # a category without a threshold is never reported alone
    sparse: dict[str, list[tuple[int, float]]] = {}
    note = ""
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line or line.startswith("ngram\t"):
            continue
        if line.startswith("#"):
            if line_no == 2:
                note = line[1:].strip()
            continue
        parts = line.split("\t")
        if len(parts) != 3 or parts[1] not in index:
            raise ValueError(f"{path.name}:{line_no}: expected ngram, known category, weight")
        gram, category, value = parts[0], index[parts[1]], float(parts[2])
        if gram == BIAS:
            bias[category] = value
        elif gram == THRESHOLD:
            thresholds[category] = value
        else:
            sparse.setdefault(gram, []).append((category, value))
    weights = {gram: tuple(entries) for gram, entries in sparse.items()}
    return PrescreenModel(tuple(categories), weights, bias, thresholds, note)


@lru_cache(maxsize=1)
def load_model() -> PrescreenModel | None:
    """The shipped model, loaded once; ``None`` if the package carries no model file."""
    from hefa.review.documents.prescreen import CATEGORIES

    if not MODEL_FILE.exists():
        return None
    return parse_model(MODEL_FILE, CATEGORIES)


def train(
    items: Iterable[tuple[frozenset[str], str]],
    categories: Sequence[str],
    *,
    epochs: int = 40,
    rate: float = 0.3,
    l2: float = 1e-3,
    seed: int = 15,
    prune: float = 0.02,
    min_count: int = 2,
) -> PrescreenModel:
    """Fit one logistic regression per category on (labels, clause) pairs (AdaGrad, L2).

    Deterministic for a given ``seed``. Only n-grams seen in at least ``min_count`` clauses are
    features; weights smaller than ``prune`` are dropped to keep the shipped file small.
    Thresholds start at 0.5; the caller tunes them on held-in data.
    """
    raw = [(labels, features(text)) for labels, text in items]
    counts: dict[str, int] = {}
    for _, grams in raw:
        for gram in grams:
            counts[gram] = counts.get(gram, 0) + 1
    rows = [(labels, {g for g in grams if counts[g] >= min_count}) for labels, grams in raw]
    n_cat = len(categories)
    dense: dict[str, list[float]] = {}
    grad_sq: dict[str, list[float]] = {}
    bias = [0.0] * n_cat
    bias_sq = [1e-8] * n_cat
    positives = [sum(1 for labels, _ in rows if c in labels) for c in categories]
    # Positives are rarer than negatives for every category: weigh them up (square root of the ratio).
    pos_weight = [math.sqrt(max(len(rows) - p, 1) / max(p, 1)) for p in positives]
    order = list(range(len(rows)))
    rng = random.Random(seed)
    for _ in range(epochs):
        rng.shuffle(order)
        for row in order:
            labels, grams = rows[row]
            vectors = [dense.setdefault(g, [0.0] * n_cat) for g in grams]
            squares = [grad_sq.setdefault(g, [1e-8] * n_cat) for g in grams]
            for c, category in enumerate(categories):
                score = bias[c] + sum(v[c] for v in vectors)
                target = 1.0 if category in labels else 0.0
                weight = pos_weight[c] if target else 1.0
                error = (sigmoid(score) - target) * weight
                if abs(error) < 1e-6:
                    continue
                bias_sq[c] += error * error
                bias[c] -= rate * error / math.sqrt(bias_sq[c])
                for vector, square in zip(vectors, squares, strict=True):
                    g = error + l2 * vector[c]
                    square[c] += g * g
                    vector[c] -= rate * g / math.sqrt(square[c])
    weights: dict[str, tuple[tuple[int, float], ...]] = {}
    for gram, vector in dense.items():
        entries = tuple((c, round(w, 4)) for c, w in enumerate(vector) if abs(w) >= prune)
        if entries:
            weights[gram] = entries
    return PrescreenModel(tuple(categories), weights, bias, [0.5] * n_cat)


def evidence_spans(text: str, grams: Iterable[str], limit: int = 3) -> list[str]:
    """Merge the positions of ``grams`` in ``text`` into readable spans (e.g. ``迁出本县``)."""
    norm = _normalise(text)
    covered = [False] * len(text)
    for gram in grams:
        start = norm.find(gram)
        while start != -1:
            for i in range(start, start + len(gram)):
                covered[i] = True
            start = norm.find(gram, start + 1)
    spans: list[str] = []
    i = 0
    while i < len(text):
        if covered[i]:
            j = i
            while j < len(text) and covered[j]:
                j += 1
            span = text[i:j].strip(_PUNCTUATION)
            if span:
                spans.append(span)
            i = j
        else:
            i += 1
    spans.sort(key=len, reverse=True)
    return spans[:limit]
