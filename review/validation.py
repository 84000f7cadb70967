"""Checks at the door: every text a person gives is bounded and printable.

Over-long fields, control characters, zero-width or bidirectional-override
characters and bytes that are not UTF-8 (U+FFFD, or Python's surrogate escapes) are
refused with one line naming the field; names used for files never carry path separators.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from hefa.review.errors import InvalidInput

# Zero-width and bidirectional formatting characters (Unicode category Cf) hide text.
_ALLOWED_CONTROL_MULTILINE = {"\n", "\t"}
_NAME = re.compile(r"^[\w\u4e00-\u9fff·.\-]{1,64}$")


def items(value: str | list[str] | tuple[str, ...] | None, field: str, *, max_len: int) -> tuple[str, ...]:
    """A list given as 'a,b' (full-width commas too) or as a sequence: each item cleaned as
    :func:`text`, blanks skipped, in order."""
    raw = value.replace("，", ",").split(",") if isinstance(value, str) else list(value or ())
    return tuple(text(item, field, max_len=max_len) for item in raw if str(item).strip())


def text(value: str | None, field: str, *, max_len: int = 200, required: bool = True,
         multiline: bool = False) -> str:
    """A cleaned, bounded text; refuses control and invisible characters."""
    value = (value or "").strip()
    if required and not value:
        raise InvalidInput(f"“{field}”不能为空 / {field} is required")
    if len(value) > max_len:
        raise InvalidInput(f"“{field}”过长（{len(value)} 字，上限 {max_len}） / {field} is too long")
    for ch in value:
        if ch == "\ufffd" or "\udc80" <= ch <= "\udcff":
            raise InvalidInput(f"“{field}”含有无法识别的字节（不是 UTF-8 编码） / {field} contains bytes "
                               "that are not UTF-8")
        category = unicodedata.category(ch)
        if multiline and ch in _ALLOWED_CONTROL_MULTILINE:
            continue
        if category in ("Cc", "Cf", "Cs", "Co") or ch in ("\u2028", "\u2029"):
            raise InvalidInput(
                f"“{field}”含有控制字符或不可见字符 U+{ord(ch):04X} / {field} contains a "
                "control or invisible character"
            )
    return value


def name(value: str | None, field: str = "姓名") -> str:
    """An officer name: letters, digits, Chinese, · . - _ only; no path separators."""
    value = text(value, field, max_len=64)
    if not _NAME.match(value):
        raise InvalidInput(f"“{field}”只能包含文字、数字和 · . - _ / invalid {field}: {value!r}")
    return value


def choice(value: str | None, field: str, options: dict[str, str] | tuple[str, ...]) -> str:
    """One of the allowed codes."""
    value = (value or "").strip()
    if value not in options:
        allowed = ", ".join(options)
        raise InvalidInput(f"“{field}”须为 {allowed} 之一，收到 {value!r} / invalid {field}")
    return value


def date(value: str | dt.date | None, field: str, *, default: dt.date | None = None) -> dt.date:
    """A date in YYYY-MM-DD."""
    if isinstance(value, dt.date):
        return value
    if not value:
        if default is not None:
            return default
        raise InvalidInput(f"“{field}”不能为空 / {field} is required")
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError as exc:
        raise InvalidInput(f"“{field}”日期格式应为 YYYY-MM-DD，收到 {value!r} / bad date") from exc


def count(value: int | str | None, field: str, *, maximum: int = 10_000_000) -> int:
    try:
        number = int(value) if value is not None else -1
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"“{field}”须为整数 / {field} must be a whole number") from exc
    if not 0 <= number <= maximum:
        raise InvalidInput(f"“{field}”超出范围 0–{maximum} / {field} out of range")
    return number


def yes_no(value: str | bool | None, field: str) -> bool:
    if isinstance(value, bool):
        return value
    mapping = {"yes": True, "no": False, "是": True, "否": False, "true": True, "false": False}
    key = (value or "").strip().lower()
    if key not in mapping:
        raise InvalidInput(f"“{field}”须为 yes 或 no，收到 {value!r} / {field} must be yes|no")
    return mapping[key]


# 发文字号: 机关代字 + 〔年份〕 + 序号 + 号 (GB/T 9704-2012 7.2.4)
_DOC_NUMBER = re.compile(r"^[\u4e00-\u9fffA-Za-z]{1,12}〔(19|20)\d{2}〕[1-9]\d{0,4}号$")


def document_number(value: str | None, field: str = "发文字号") -> str:
    value = text(value, field, max_len=40)
    if not _DOC_NUMBER.match(value):
        raise InvalidInput(
            f"发文字号格式应为 机关代字〔年份〕序号号，如 河政规〔2024〕1号，收到 {value!r}"
            " / document number must look like 河政规〔2024〕1号"
        )
    return value
