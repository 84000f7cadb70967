"""The learned half of the pre-screen (预审统计模型): character n-grams and a linear model.

One logistic regression per category (one-vs-rest) over the character unigrams, bigrams and
trigrams of a sentence, weighted by tf-idf and scaled to unit length, trained on the tuning split
of hefa's labelled clauses (the held-out split is never used). Training uses scikit-learn (a
development dependency: ``python -m benchmarks.prescreen_quality --train``); the model ships with
the package as ``prescreen_model.tsv`` (idf and weight per n-gram) and is applied in pure Python on
the CPU, so nothing is downloaded or imported beyond the standard library at run time.

The model catches wording the rules do not spell out; the rules keep the explanation. Its
evidence is the n-grams that pushed the score up, merged back into spans of the sentence.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import repeat
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
IDF = "__idf__"
# Arabic and full-width digits are one symbol for the model: "处500元" and "处2000元" look alike.
_PUNCTUATION = "，。；：、！？（）“”《》,.;:!?() \t\n"
_DIGITS = str.maketrans({c: "0" for c in "0123456789０１２３４５６７８９"})


def _normalise(text: str) -> str:
    return text.translate(_DIGITS)


def features(text: str) -> set[str]:
    """The character unigrams, bigrams and trigrams of ``text`` (digits folded to ``0``)."""
    norm = _normalise(text)
    grams = set(norm)
    grams.update(map(str.__add__, norm, norm[1:]))
    grams.update(map("".join, zip(norm, norm[1:], norm[2:], strict=False)))
    return grams


@dataclass
class PrescreenModel:
    """The vocabulary with each n-gram's idf, the weights per n-gram (sparse: ``{ngram: ((category
    index, weight), ...)}``, already multiplied by the idf) and a bias and decision threshold per
    category. A sentence's score is the bias plus the sum of its n-grams' weights divided by the
    length of its tf-idf vector (the square root of the sum of its known n-grams' squared idf)."""

    categories: tuple[str, ...]
    weights: dict[str, tuple[tuple[int, float], ...]]
    bias: list[float]
    thresholds: list[float]
    idf: dict[str, float] = field(default_factory=dict)
    note: str = ""
    _index: dict[str, int] = field(default_factory=dict, repr=False)
    _by_category: list[dict[str, float]] = field(default_factory=list, repr=False)
    _idf_squared: dict[str, float] = field(default_factory=dict, repr=False)
    _vocabulary: frozenset[str] = field(default_factory=frozenset, repr=False)
    _raising: list[frozenset[str]] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self._index = {category: i for i, category in enumerate(self.categories)}
        self._by_category = [{} for _ in self.categories]
        for gram, entries in self.weights.items():
            for index, weight in entries:
                self._by_category[index][gram] = weight
        self._idf_squared = {gram: value * value for gram, value in self.idf.items()}
        self._vocabulary = frozenset(self.idf) | frozenset(self.weights)
        self._raising = [frozenset(g for g, w in weights.items() if w > 0) for weights in self._by_category]

    def index(self, category: str) -> int:
        """The position of ``category`` in :attr:`categories` (and in :meth:`scores`)."""
        return self._index[category]

    def known(self, grams: Iterable[str]) -> frozenset[str]:
        """The n-grams among ``grams`` that the model knows (the others weigh nothing)."""
        return self._vocabulary.intersection(grams)

    def _length(self, known: frozenset[str]) -> float:
        return math.sqrt(sum(map(self._idf_squared.get, known, _zeros(len(known))))) or 1.0

    def scores(self, grams: Iterable[str]) -> list[float]:
        """The raw linear score per category of a sentence with the n-grams ``grams``."""
        known = self.known(grams)
        sums = [0.0] * len(self.categories)
        for entries in filter(None, map(self.weights.get, known)):
            for index, weight in entries:
                sums[index] += weight
        length = self._length(known)
        return [bias + total / length for bias, total in zip(self.bias, sums, strict=True)]

    def score(self, grams: Iterable[str], category: str) -> float:
        """The raw linear score of one category (cheaper than :meth:`scores` for one)."""
        known = self.known(grams)
        total = sum(map(self._by_category[self._index[category]].get, known, _zeros(len(known))))
        return self.bias[self._index[category]] + total / self._length(known)

    def probabilities(self, text: str) -> dict[str, float]:
        """P(category | text) for each category, by the logistic function of its score."""
        return {
            category: sigmoid(score)
            for category, score in zip(self.categories, self.scores(features(text)), strict=True)
        }

    def threshold(self, category: str) -> float:
        """The probability at or above which the model alone reports ``category``."""
        return self.thresholds[self._index[category]]

    def top_ngrams(self, grams: Iterable[str], category: str, limit: int = 4) -> list[str]:
        """The n-grams among ``grams`` that raised the score of ``category`` most, strongest first
        (single characters only when nothing longer did)."""
        index = self._index[category]
        weights = self._by_category[index]
        raising = self._raising[index].intersection(grams)
        longer = [gram for gram in raising if len(gram) > 1]
        chosen = heapq.nlargest(limit, longer, key=weights.__getitem__)
        if len(chosen) < limit:
            singles = raising.difference(longer)
            chosen += heapq.nlargest(limit - len(chosen), singles, key=weights.__getitem__)
        return chosen

    def dump(self, path: Path) -> None:
        """Write the model as TSV: thresholds, biases, then ``ngram<TAB>__idf__<TAB>idf`` and
        ``ngram<TAB>category<TAB>weight`` rows."""
        lines = [
            "# hefa pre-screen model (预审统计模型): character 1-3-grams, tf-idf, one logistic "
            "regression per category.",
            f"# {self.note}",
            "ngram\tcategory\tweight",
        ]
        for category, value in zip(self.categories, self.thresholds, strict=True):
            lines.append(f"{THRESHOLD}\t{category}\t{value:.3f}")
        for category, value in zip(self.categories, self.bias, strict=True):
            lines.append(f"{BIAS}\t{category}\t{value:.4f}")
        for gram in sorted(self.idf):
            lines.append(f"{gram}\t{IDF}\t{self.idf[gram]:.4f}")
            for index, weight in self.weights.get(gram, ()):
                lines.append(f"{gram}\t{self.categories[index]}\t{weight:.4f}")
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _zeros(count: int) -> repeat[float]:
    """``count`` zeros: the default of a ``map(dict.get, keys, defaults)`` lookup."""
    return repeat(0.0, count)


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
    idf: dict[str, float] = {}
    note = ""
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line or line.startswith("ngram\t"):
            continue
        if line.startswith("#"):
            if line_no == 2:
                note = line[1:].strip()
            continue
        parts = line.split("\t")
        if len(parts) != 3 or (parts[1] not in index and parts[1] != IDF):
            raise ValueError(f"{path.name}:{line_no}: expected ngram, known category, weight")
        gram, value = parts[0], float(parts[2])
        if parts[1] == IDF:
            idf[gram] = value
        elif gram == BIAS:
            bias[index[parts[1]]] = value
        elif gram == THRESHOLD:
            thresholds[index[parts[1]]] = value
        else:
            sparse.setdefault(gram, []).append((index[parts[1]], value))
    weights = {gram: tuple(entries) for gram, entries in sparse.items()}
    return PrescreenModel(tuple(categories), weights, bias, thresholds, idf, note)


@lru_cache(maxsize=1)
def load_model() -> PrescreenModel | None:
    """The shipped model, loaded once; ``None`` if the package carries no model file."""
    from hefa.review.documents.prescreen import CATEGORIES

    if not MODEL_FILE.exists():
        return None
    return parse_model(MODEL_FILE, CATEGORIES)


def _sorted_features(text: str) -> list[str]:
    return sorted(features(text))


def train(
    items: Iterable[tuple[frozenset[str], str]],
    categories: Sequence[str],
    *,
    strength: float = 30.0,
    min_df: int = 3,
    prune: float = 0.01,
) -> PrescreenModel:
    """Fit one logistic regression per category on (labels, clause) pairs.

    The features are :func:`features` weighted by smoothed idf and scaled to unit length; only
    n-grams in at least ``min_df`` clauses are kept. Each regression weighs the two classes
    equally (positives are rare) with inverse regularisation ``strength`` (scikit-learn's ``C``).
    Deterministic. Weights smaller than ``prune`` are not kept; thresholds start at 0.5 and the
    caller tunes them on held-in data. Needs scikit-learn (``pip install -e '.[test]'``).
    """
    try:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
    except ImportError as exc:  # pragma: no cover - the test extras install it
        raise RuntimeError("training the pre-screen model needs scikit-learn: pip install -e '.[test]'") from exc
    pairs = list(items)
    texts = [text for _, text in pairs]
    vectorizer = TfidfVectorizer(analyzer=_sorted_features, binary=True, min_df=min_df, lowercase=False)
    matrix = vectorizer.fit_transform(texts)
    vocabulary = vectorizer.get_feature_names_out()
    idf = {str(gram): float(value) for gram, value in zip(vocabulary, vectorizer.idf_, strict=True)}
    sparse: dict[str, list[tuple[int, float]]] = {}
    bias: list[float] = []
    for index, category in enumerate(categories):
        targets = [1 if category in labels else 0 for labels, _ in pairs]
        if len(set(targets)) < 2:  # a category with no example (or nothing else) is never scored up
            bias.append(-10.0 if not any(targets) else 10.0)
            continue
        regression = LogisticRegression(C=strength, class_weight="balanced", max_iter=5000)
        regression.fit(matrix, targets)
        bias.append(round(float(regression.intercept_[0]), 4))
        for gram, coefficient in zip(vocabulary, regression.coef_[0], strict=True):
            weight = round(float(coefficient) * idf[str(gram)], 4)
            if abs(weight) >= prune:
                sparse.setdefault(str(gram), []).append((index, weight))
    idf = {gram: round(value, 4) for gram, value in idf.items()}
    weights = {gram: tuple(entries) for gram, entries in sparse.items()}
    return PrescreenModel(tuple(categories), weights, bias, [0.5] * len(categories), idf)


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
