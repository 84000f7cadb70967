"""A document's characters and character pairs as numpy codes, every paragraph at once (字符对编码).

The rules' prefilter and the model both look at which characters and character pairs a paragraph
holds. Built one paragraph at a time in Python (a set of two-character strings each) that was a
third of the pre-screen's time. Here the paragraphs are encoded once (UTF-32), each pair becomes
one integer (``first << 21 | second``: code points are below 2**21, so a pair's code is never a
single character's), and a sorted table of the keys someone cares about is searched for every
position of the document in one call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["DIGITS", "Encoded", "KeyTable", "distinct", "encode", "key_code"]

_SHIFT = 21
# Arabic and full-width digits, which the model folds to "0" ("处500元" and "处2000元" look alike).
DIGITS = "0123456789０１２３４５６７８９"
_DIGIT_CODES = np.array([ord(digit) for digit in DIGITS], dtype=np.int64)
_ZERO = ord("0")


def key_code(key: str) -> int:
    """The code of a one-character or two-character key."""
    if len(key) == 1:
        return ord(key)
    if len(key) == 2:
        return ord(key[0]) << _SHIFT | ord(key[1])
    raise ValueError(f"a key is one or two characters, not {key!r}")


@dataclass(frozen=True)
class Encoded:
    """``count`` paragraphs: per position of their concatenation, the character's code, the code
    of the pair it starts (-1 at a paragraph's last character) and the paragraph's number."""

    count: int
    chars: np.ndarray
    pairs: np.ndarray
    paragraph: np.ndarray

    def digits_folded(self) -> Encoded:
        """The same paragraphs with every digit (ASCII or full-width) made ``0``."""
        chars = np.where(np.isin(self.chars, _DIGIT_CODES), _ZERO, self.chars)
        return Encoded(self.count, chars, _pairs(chars, self.pairs[:-1] >= 0), self.paragraph)


def _pairs(chars: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """Per position, the code of the pair it starts; -1 where the pair is not inside a paragraph
    (``inside`` has one entry per adjacent pair) and at the last position."""
    return np.append(np.where(inside, chars[:-1] << _SHIFT | chars[1:], -1), -1)


def encode(texts: Sequence[str]) -> Encoded:
    """Encode paragraphs (joined by NUL, which no paragraph's text holds after extraction)."""
    if not texts:
        empty = np.zeros(0, dtype=np.int64)
        return Encoded(0, empty, empty, empty)
    joined = "\0".join(text.replace("\0", "") for text in texts) + "\0"
    chars = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    ends = chars == 0
    paragraph = np.cumsum(ends) - ends  # the separator belongs to the paragraph it ends
    return Encoded(len(texts), chars, _pairs(chars, ~(ends[:-1] | ends[1:])), paragraph)


def distinct(values: np.ndarray) -> np.ndarray:
    """The sorted distinct values (``np.unique`` without its overhead, which here was 20× a sort)."""
    ordered = np.sort(values)
    keep = np.empty(len(ordered), dtype=bool)
    keep[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


class KeyTable:
    """A sorted table of one- and two-character keys; :meth:`found` says which keys each
    paragraph of an :class:`Encoded` holds."""

    def __init__(self, keys: Sequence[str]) -> None:
        if len(set(keys)) != len(keys):  # a sorted search finds one slot per code
            raise ValueError("a key table's keys must be distinct")
        codes = np.asarray([key_code(key) for key in keys], dtype=np.int64)
        self.order = np.argsort(codes, kind="stable")
        self.codes = codes[self.order]
        self.size = len(keys)
        self.has_singles = any(len(key) == 1 for key in keys)

    def found(self, encoded: Encoded) -> tuple[np.ndarray, np.ndarray]:
        """``(paragraph, key)`` arrays: each key (its index in the table's ``keys``) found in each
        paragraph, once, sorted by paragraph then by the key's code."""
        if not self.size or not encoded.count:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty
        probes = np.concatenate((encoded.pairs, encoded.chars)) if self.has_singles else encoded.pairs
        where = np.concatenate((encoded.paragraph, encoded.paragraph)) if self.has_singles else encoded.paragraph
        slots = np.searchsorted(self.codes, probes)
        slots[slots == self.size] = 0
        hit = self.codes[slots] == probes
        combined = distinct(where[hit] * self.size + slots[hit])
        return combined // self.size, self.order[combined % self.size]

    def found_lists(self, encoded: Encoded) -> list[list[int]]:
        """Per paragraph, the indices of the keys it holds."""
        paragraphs, keys = self.found(encoded)
        bounds = np.searchsorted(paragraphs, np.arange(encoded.count + 1)).tolist()
        flat = keys.tolist()
        return [flat[bounds[i]:bounds[i + 1]] for i in range(encoded.count)]
