"""Sums of money as Chinese documents write them (金额): 五百元, 二千元, 1.5万元, 人民币伍仟元整.

The pre-screen compares the fines a clause or a penalty decision names with a statute's range
(:mod:`hefa.review.law.statutory_penalties`); this module reads the numbers. It knows the ordinary
numerals (一二三…, 两, 十百千万亿), the financial ones (壹贰叁…, 拾佰仟) and Arabic figures with
thousands separators and decimals, and only sums written in 元.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["FineWindow", "chinese_number", "fine_windows", "yuan_amounts"]

_DIGIT = {"零": 0, "〇": 0, "一": 1, "壹": 1, "二": 2, "贰": 2, "两": 2, "三": 3, "叁": 3, "四": 4, "肆": 4,
          "五": 5, "伍": 5, "六": 6, "陆": 6, "七": 7, "柒": 7, "八": 8, "捌": 8, "九": 9, "玖": 9}
_UNIT = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
_BIG = {"万": 10_000, "亿": 100_000_000}
_NUMERAL = "".join(_DIGIT) + "".join(_UNIT) + "".join(_BIG)
# A sum: Arabic figures (1,000 / 1.5) or Chinese numerals, then optionally 万 or 千, then 元.
AMOUNT_RE = re.compile(rf"(?:(\d[\d,，]*(?:\.\d+)?)\s*([万千]?)|([{_NUMERAL}]+))\s*元")


def chinese_number(text: str) -> int:
    """The value of a Chinese numeral (一千五百, 两万, 十二, 壹仟伍佰, 三万五千); ValueError if it is not one."""
    if not text or any(ch not in _DIGIT and ch not in _UNIT and ch not in _BIG for ch in text):
        raise ValueError(f"不是中文数字 / not a Chinese numeral: {text!r}")
    total = section = digit = 0
    for ch in text:
        if ch in _DIGIT:
            digit = _DIGIT[ch]
        elif ch in _UNIT:
            section += (digit or 1) * _UNIT[ch]  # 十二 = 12: a unit without a digit counts once
            digit = 0
        else:
            total = (total + section + digit) * _BIG[ch]
            section = digit = 0
    return total + section + digit


def yuan_amounts(text: str) -> list[float]:
    """Every sum in yuan that ``text`` names, in order (五百元 → 500, 1.5万元 → 15000)."""
    amounts: list[float] = []
    for match in AMOUNT_RE.finditer(text):
        figures, scale, numeral = match.groups()
        if figures is not None:
            value = float(figures.replace(",", "").replace("，", ""))
            value *= {"万": 10_000, "千": 1000}.get(scale, 1)
        else:
            try:
                value = float(chinese_number(numeral))
            except ValueError:
                continue
        amounts.append(value)
    return amounts


@dataclass(frozen=True)
class FineWindow:
    """The words of one fine (处五百元以上二千元以下的罚款) and the sums they name. ``proportional`` is
    true when the fine is a multiple or a share of something (货值金额五倍, 百分之五): then its sums are
    thresholds, not the fine."""

    text: str
    amounts: tuple[float, ...]
    proportional: bool


# 处（以|予）… 罚款 with any 罚款（人民币）… 元 after it, or 罚款… 元 alone; a window stops at a sentence's or
# a clause's end.
_TAIL = r"(?:金额|数额)?为?(?:人民币)?[^。；;，,、罚]{0,16}?元"
_FINE_RE = re.compile(rf"处(?:以|予)?[^。；;，,、]{{0,30}}?罚(?:款|金)(?:{_TAIL})?|罚款{_TAIL}")
_THOUSANDS_RE = re.compile(r"(?<=\d)[,，](?=\d{3})")  # 1,000 → 1000 (a comma would end a window)
_PROPORTIONAL_RE = re.compile(r"倍|百分之|%|％")


def fine_windows(text: str) -> list[FineWindow]:
    """The fines ``text`` names, each with its sums (an empty tuple for a fine without a sum)."""
    windows: list[FineWindow] = []
    for match in _FINE_RE.finditer(_THOUSANDS_RE.sub("", text)):
        words = match.group(0)
        windows.append(FineWindow(words, tuple(yuan_amounts(words)), bool(_PROPORTIONAL_RE.search(words))))
    return windows
