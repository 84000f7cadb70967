"""The learned half of the pre-screen (预审统计模型): character bigrams, concepts and a linear model.

One logistic regression per category (one-vs-rest) over the character bigrams of a clause (the
same pairs the rules' prefilter looks up) and its concepts (word classes from
``prescreen_concepts.tsv``: a clause holding 本县 or 辖区 has ``C:LOCAL``), weighted by tf-idf and
scaled to unit length, trained
on the tuning split of hefa's labelled clauses (the held-out split is never used). Training uses
scikit-learn (a development dependency: ``python -m benchmarks.prescreen_quality --train``); the
model ships with the package as ``prescreen_model.tsv`` (idf and weight per bigram) and is applied
on the CPU with numpy (already a dependency), all paragraphs of a document in one batch, so
nothing is downloaded at run time.

The model catches wording the rules do not spell out; the rules keep the explanation. Its
evidence is the bigrams that pushed the score up, merged back into spans of the sentence.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from hefa.review.documents.char_pairs import DIGITS, Encoded, KeyTable, distinct

__all__ = [
    "MODEL_FILE",
    "Concepts",
    "PrescreenModel",
    "evidence_spans",
    "features",
    "load_concepts",
    "load_model",
    "normalise",
    "parse_concepts",
    "parse_model",
    "sigmoid",
    "train",
]

MODEL_FILE = Path(__file__).resolve().parent / "prescreen_model.tsv"
BIAS = "__bias__"
THRESHOLD = "__threshold__"
IDF = "__idf__"
_PUNCTUATION = "，。；：、！？（）“”《》,.;:!?() \t\n"
_DIGIT_FOLD = str.maketrans(dict.fromkeys(DIGITS, "0"))


def normalise(text: str) -> str:
    """``text`` as the model reads it: every digit (:data:`DIGITS`) made ``0``."""
    return text.translate(_DIGIT_FOLD)


CONCEPTS_FILE = Path(__file__).resolve().parent / "prescreen_concepts.tsv"
CONCEPT_PREFIX = "C:"  # a concept's feature name; never two characters long, so never a bigram


@dataclass(frozen=True)
class Concepts:
    """The concept word classes (:data:`CONCEPTS_FILE`): each word's concept, and a table to find
    the words in every paragraph of a document at once."""

    names: tuple[str, ...]
    words: tuple[str, ...]
    concept_of_word: tuple[int, ...]
    table: KeyTable

    def of(self, text: str) -> set[str]:
        """The concept features of one clause."""
        return {CONCEPT_PREFIX + self.names[self.concept_of_word[i]]
                for i, word in enumerate(self.words) if word in text}


def parse_concepts(path: Path) -> Concepts:
    """Read a concepts TSV (name, words); a word longer than two characters is an error."""
    names: list[str] = []
    words: list[str] = []
    concept_of_word: list[int] = []
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) < 2 or not parts[0].strip():
            raise ValueError(f"{path.name}:{line_no}: expected a name and |-separated words")
        for word in filter(None, (w.strip() for w in parts[1].split("|"))):
            if len(word) > 2:
                raise ValueError(f"{path.name}:{line_no}: a concept word is one or two characters, not {word!r}")
            if word in words:
                raise ValueError(f"{path.name}:{line_no}: {word!r} is already a word of another concept")
            words.append(word)
            concept_of_word.append(len(names))
        names.append(parts[0].strip())
    return Concepts(tuple(names), tuple(words), tuple(concept_of_word), KeyTable(words))


@lru_cache(maxsize=1)
def load_concepts() -> Concepts:
    """The shipped concepts, loaded once."""
    return parse_concepts(CONCEPTS_FILE)


def features(text: str) -> set[str]:
    """The character bigrams of ``text`` (digits folded to ``0``) and its concepts (``C:<name>``)."""
    norm = normalise(text)
    return set(map(str.__add__, norm, norm[1:])) | load_concepts().of(norm)


@dataclass
class PrescreenModel:
    """The vocabulary with each n-gram's idf, the weights per n-gram (sparse: ``{ngram: ((category
    index, weight), ...)}``, already multiplied by the idf) and a bias and decision threshold per
    category. A clause's score is the bias plus the sum of its n-grams' weights divided by the
    length of its tf-idf vector (the square root of the sum of its known n-grams' squared idf).
    Scoring many clauses at once (:meth:`scores_many`) is one numpy gather and sum."""

    categories: tuple[str, ...]
    weights: dict[str, tuple[tuple[int, float], ...]]
    bias: list[float]
    thresholds: list[float]
    idf: dict[str, float] = field(default_factory=dict)
    note: str = ""
    _index: dict[str, int] = field(default_factory=dict, repr=False)
    _by_category: list[dict[str, float]] = field(default_factory=list, repr=False)
    _raising: list[frozenset[str]] = field(default_factory=list, repr=False)
    _rows: dict[str, int] = field(default_factory=dict, repr=False)
    _matrix: np.ndarray = field(default_factory=lambda: np.zeros((1, 0)), repr=False)
    _pair_table: KeyTable | None = field(default=None, repr=False)
    _pair_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.intp), repr=False)
    _concept_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.intp), repr=False)

    def __post_init__(self) -> None:
        self._index = {category: i for i, category in enumerate(self.categories)}
        self._by_category = [{} for _ in self.categories]
        for gram, entries in self.weights.items():
            for index, weight in entries:
                self._by_category[index][gram] = weight
        # Evidence is text: the n-grams that raised a score, not the concepts (C:…) among them.
        self._raising = [frozenset(g for g, w in weights.items() if w > 0 and not g.startswith(CONCEPT_PREFIX))
                         for weights in self._by_category]
        # Row 0 is all zeros (unknown n-grams, empty clauses); each known n-gram has a row of its
        # weights per category and, in the last column, its squared idf.
        vocabulary = sorted(set(self.idf) | set(self.weights))
        self._rows = {gram: row for row, gram in enumerate(vocabulary, start=1)}
        matrix = np.zeros((len(vocabulary) + 1, len(self.categories) + 1))
        for gram, row in self._rows.items():
            for index, weight in self.weights.get(gram, ()):
                matrix[row, index] = weight
            matrix[row, -1] = self.idf.get(gram, 0.0) ** 2
        self._matrix = matrix
        pairs = [gram for gram in vocabulary if len(gram) == 2]
        self._pair_table = KeyTable(pairs)
        self._pair_rows = np.asarray([self._rows[gram] for gram in pairs], dtype=np.intp)
        concepts = load_concepts()
        self._concept_rows = np.asarray([self._rows.get(CONCEPT_PREFIX + name, 0) for name in concepts.names],
                                        dtype=np.intp)

    def index(self, category: str) -> int:
        """The position of ``category`` in :attr:`categories` (and in :meth:`scores`)."""
        return self._index[category]

    def scores_many(self, gram_sets: Sequence[Iterable[str]]) -> np.ndarray:
        """The raw linear scores of many clauses at once: one row per clause, one column per
        category."""
        rows: list[int] = []
        starts: list[int] = []
        lookup = self._rows.get
        for grams in gram_sets:
            starts.append(len(rows))
            rows.append(0)  # every clause has at least the zero row
            rows.extend(filter(None, map(lookup, grams)))
        if not starts:
            return np.zeros((0, len(self.categories)))
        sums = np.add.reduceat(self._matrix[np.asarray(rows, dtype=np.intp)], np.asarray(starts, dtype=np.intp))
        lengths = np.sqrt(sums[:, -1])
        lengths[lengths == 0.0] = 1.0
        return np.asarray(self.bias) + sums[:, :-1] / lengths[:, None]

    def scores_encoded(self, encoded: Encoded) -> np.ndarray:
        """The raw linear scores of every paragraph of an encoded document (digits not yet
        folded), as :meth:`scores_many` gives them for each paragraph's :func:`features`."""
        if not encoded.count:
            return np.zeros((0, len(self.categories)))
        assert self._pair_table is not None
        folded = encoded.digits_folded()
        paragraphs, keys = self._pair_table.found(folded)
        rows = self._pair_rows[keys]
        concepts = load_concepts()
        at, words = concepts.table.found(folded)
        if len(words):  # each paragraph's concepts, once each, merged in by paragraph
            count = len(concepts.names)
            found = distinct(at * count + np.asarray(concepts.concept_of_word, dtype=np.int64)[words])
            paragraphs = np.concatenate((paragraphs, found // count))
            rows = np.concatenate((rows, self._concept_rows[found % count]))
            order = np.argsort(paragraphs, kind="stable")
            paragraphs, rows = paragraphs[order], rows[order]
        sums = np.zeros((encoded.count, self._matrix.shape[1]))
        if len(rows):
            starts = np.searchsorted(paragraphs, np.arange(encoded.count))
            holding = distinct(paragraphs)  # the paragraphs with at least one known pair
            sums[holding] = np.add.reduceat(self._matrix[rows], starts[holding])
        lengths = np.sqrt(sums[:, -1])
        lengths[lengths == 0.0] = 1.0
        return np.asarray(self.bias) + sums[:, :-1] / lengths[:, None]

    def scores(self, grams: Iterable[str]) -> list[float]:
        """The raw linear score per category of a clause with the n-grams ``grams``."""
        return [float(x) for x in self.scores_many([grams])[0]]

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
        """The n-grams among ``grams`` that raised the score of ``category`` most, strongest first."""
        index = self._index[category]
        weights = self._by_category[index]
        return sorted(self._raising[index].intersection(grams), key=weights.__getitem__, reverse=True)[:limit]

    def dump(self, path: Path) -> None:
        """Write the model as TSV: thresholds, biases, then ``ngram<TAB>__idf__<TAB>idf`` and
        ``ngram<TAB>category<TAB>weight`` rows."""
        lines = [
            "# hefa pre-screen model (预审统计模型): character bigrams and concepts (C:…), tf-idf, "
            "one logistic regression per category.",
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
    min_df: int = 2,
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
    norm = normalise(text)
    intervals: list[tuple[int, int]] = []
    for gram in grams:
        start = norm.find(gram)
        while start != -1:
            begin, end = start, start + len(gram)
            while begin > 0 and norm[begin - 1] == "0" and norm[begin] == "0":  # a folded number, whole
                begin -= 1
            while end < len(norm) and norm[end] == "0" and norm[end - 1] == "0":
                end += 1
            intervals.append((begin, end))
            start = norm.find(gram, start + 1)
    intervals.sort()
    merged: list[list[int]] = []
    for start, end in intervals:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    spans = [span for start, end in merged if (span := text[start:end].strip(_PUNCTUATION))]
    spans.sort(key=len, reverse=True)
    return spans[:limit]
