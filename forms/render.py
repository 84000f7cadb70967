"""Render hefa's documents (文书) to .docx: jinja2 templates for wording, GB/T 9704 for layout.

``render_document("legal_opinion", context)`` renders ``templates/legal_opinion.md.j2`` with the
context, parses the resulting markup (:mod:`hefa.forms.markup`) and lays it out per
GB/T 9704-2012 (:mod:`hefa.forms.layout`). A legal officer edits wording in the templates only.

Template helpers (jinja2 filters and tests):

* ``|cn_date`` — 2026年11月25日 (GB/T 9704 §7.3.5: 阿拉伯数字, 年份标全, 月日不编虚位);
  accepts ``date``, ``datetime`` or an ISO string. ``|cn_datetime`` adds the time as entered;
  ``|cn_clock`` prints a time hefa recorded (UTC) in 北京时间.
* ``|conclusion_zh`` (lawful/amend/unlawful), ``|level_zh`` (low/medium/high),
  ``|controllable_zh`` (yes/no or bool), ``|decision_zh`` (approve/reject/defer).
* ``|join_zh`` — join a list with 、. ``|as_list`` — a text as a one-item list.
* ``|cn_number`` — 1 → 一, 12 → 十二 (for headings such as （一）).
* ``|head_last(head)`` — split the 集体讨论 statements into (others, head's statement), refusing
  a record where the head (主要负责人) did not speak last.
* ``is given`` — the value is present and not empty (for optional keys such as ``doc_number``).

A key the template needs but the context lacks raises :class:`DocumentContextError` naming it.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

import docx
import jinja2

from hefa.forms import layout
from hefa.forms.markup import Kind, MarkupError, parse, protect
from hefa.review import vocabulary as vocab

TEMPLATES_DIR: Final = Path(__file__).parent / "templates"
TEMPLATE_SUFFIX: Final = ".md.j2"

# Document name → Chinese title (文书名称).
DOCUMENT_TITLES: Final[dict[str, str]] = {
    # 法律意见书 (国办发〔2018〕115号; 国务院令第713号 art. 28)
    "legal_opinion": "合法性审查意见书",
    "risk_report": "风险评估报告",  # 国务院令第713号 arts. 22-24
    "deliberation_minutes": "集体讨论纪要",  # 国务院令第713号 art. 30
    "filing_report": "备案报告",  # 规范性文件备案
    "register": "规范性文件登记簿",  # 统一登记、有效期、清理 (issue 16)
    "annual_report": "法治政府建设年度报告（统计部分）",  # issue 16
}

# Labels of recorded choices (审查结论、风险等级、可控性、会议决定): from the one vocabulary.
CONCLUSION_TEXT: Final[dict[str, str]] = vocab.CONCLUSION.as_choices()
RISK_LEVEL_TEXT: Final[dict[str, str]] = vocab.RISK_LEVEL.as_choices()
DECISION_TEXT: Final[dict[str, str]] = vocab.DECISION.as_choices()
CONTROLLABLE_TEXT: Final[dict[str, str]] = vocab.CONTROLLABLE.as_choices()

class UnknownDocument(KeyError):
    """No template of that name; the message lists the documents hefa can write."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown document"


class DocumentContextError(ValueError):
    """The context lacks a value the template needs, or holds one it cannot print."""


# --- template helpers -------------------------------------------------------------------

def _as_date(value: dt.date | str) -> dt.date | dt.datetime:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise DocumentContextError(f"无法识别的日期 not a date: {value!r}") from exc


def cn_date(value: dt.date | str) -> str:
    """Format a date as 2026年11月25日 (no leading zeros, per GB/T 9704 §7.3.5.1)."""
    day = _as_date(value)
    return f"{day.year}年{day.month}月{day.day}日"


def cn_datetime(value: dt.datetime | str) -> str:
    """Format a timestamp as 2026年11月25日 14:30 (time omitted for a bare date)."""
    moment = _as_date(value)
    if not isinstance(moment, dt.datetime):
        return cn_date(moment)
    return f"{cn_date(moment)} {moment:%H:%M}"


# China has one time zone and no daylight saving time: 北京时间 is UTC+8 all year.
BEIJING_TIME = dt.timezone(dt.timedelta(hours=8), "北京时间")


def cn_clock(value: dt.datetime | str) -> str:
    """A time hefa's clock recorded (stored in UTC; naive values from the database are UTC),
    printed in 北京时间 as 2026年11月25日 14:30. People's own entries (a meeting's time) use
    ``|cn_datetime`` and are printed as entered."""
    moment = _as_date(value)
    if not isinstance(moment, dt.datetime):
        return cn_date(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return cn_datetime(moment.astimezone(BEIJING_TIME))


def _lookup(table: Mapping[str, str], what: str) -> Callable[[Any], str]:
    def translate(code: Any) -> str:
        key = {True: "yes", False: "no"}.get(code, code) if isinstance(code, bool) else code
        key = getattr(key, "value", key)  # accept str enums
        if key not in table:
            raise DocumentContextError(f"未知的{what} unknown {what} code: {code!r}; "
                                       f"expected one of {', '.join(table)}")
        return table[key]

    return translate


def join_zh(values: Iterable[Any]) -> str:
    """Join names with the Chinese enumeration comma 、."""
    return "、".join(str(v) for v in values)


def as_list(value: Any) -> list[Any]:
    """A single text as a one-item list; a list as it is (e.g. reasons given either way)."""
    if isinstance(value, str):
        return [value]
    return list(value)


_DIGITS: Final = "零一二三四五六七八九"


def cn_number(value: int) -> str:
    """Chinese numeral for 1-99, as in headings （一）（十二）; larger numbers as digits."""
    n = int(value)
    if not 0 < n < 100:
        return str(n)
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else _DIGITS[tens] + "十")
    return head + (_DIGITS[ones] if ones else "")


def _field(item: Any, key: str) -> Any:
    return item[key] if isinstance(item, Mapping) else getattr(item, key)


def head_last(views: Sequence[Any], head: str) -> tuple[list[Any], Any]:
    """Split statements into (members', head's); the head (主要负责人) must speak last.

    国务院令第713号 art. 30: members speak fully, the head speaks last. The minutes record the
    order truthfully, so a record where the head is missing or not last is refused, not
    reordered.
    """
    if not views or _field(views[-1], "member") != head:
        order = "、".join(str(_field(v, "member")) for v in views) or "（无发言）"
        raise DocumentContextError(
            f"主要负责人（{head}）应当最后发表意见 the head must speak last; order: {order}"
        )
    return list(views[:-1]), views[-1]


def _is_given(value: Any) -> bool:
    """Jinja test ``is given``: defined, not None and not empty."""
    if isinstance(value, jinja2.Undefined) or value is None:
        return False
    return not (isinstance(value, str | list | tuple | dict) and len(value) == 0)


def _finalize(value: Any) -> str:
    """Every ``{{ … }}`` value: refuse None, escape markup so data cannot become layout."""
    if value is None:
        raise DocumentContextError("模板中的某个值为空（None） a template value is None")
    return protect(str(value))


FILTERS: Final[dict[str, Callable[..., Any]]] = {
    "cn_date": cn_date,
    "cn_datetime": cn_datetime,
    "cn_clock": cn_clock,
    "conclusion_zh": _lookup(CONCLUSION_TEXT, "审查结论"),
    "level_zh": _lookup(RISK_LEVEL_TEXT, "风险等级"),
    "controllable_zh": _lookup(CONTROLLABLE_TEXT, "可控性"),
    "decision_zh": _lookup(DECISION_TEXT, "会议决定"),
    "join_zh": join_zh,
    "as_list": as_list,
    "cn_number": cn_number,
    "head_last": head_last,
}


@lru_cache(maxsize=8)
def _environment(templates_dir: Path | None) -> jinja2.Environment:
    """A jinja2 environment; ``templates_dir`` (if any) overrides the shipped templates."""
    dirs = [TEMPLATES_DIR] if templates_dir is None else [templates_dir, TEMPLATES_DIR]
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(d) for d in dirs]),
        undefined=jinja2.StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,  # output is markup text, not HTML; see markup.protect
        keep_trailing_newline=True,
    )
    env.filters.update(FILTERS)
    env.tests["given"] = _is_given
    return env


# --- public API ---------------------------------------------------------------------------

def render_text(name: str, context: Mapping[str, Any], *, templates_dir: Path | None = None) -> str:
    """Render a document's template to markup text (before layout); for previews and tests.

    Raises :class:`UnknownDocument` for an unknown name and :class:`DocumentContextError`
    when the context lacks a key the template uses.
    """
    if name not in DOCUMENT_TITLES:
        raise UnknownDocument(
            f"未知文书 unknown document: {name!r}; 可用 available: {', '.join(DOCUMENT_TITLES)}"
        )
    template = _environment(templates_dir).get_template(name + TEMPLATE_SUFFIX)
    try:
        return template.render(**context)
    except jinja2.UndefinedError as exc:
        raise DocumentContextError(f"文书 {name} 缺少数据 missing context value: {exc}") from exc


def render_document(
    name: str, context: Mapping[str, Any], *, templates_dir: Path | None = None
) -> bytes:
    """Render document ``name`` (a key of :data:`DOCUMENT_TITLES`) to .docx bytes.

    The result is laid out per GB/T 9704-2012 (A4, 版心 156 × 225 mm, 22 lines of 28
    characters, 小标宋 二号 title, 仿宋_GB2312 三号 body, page numbers "— 1 —").
    Raises :class:`UnknownDocument`, :class:`DocumentContextError`, or
    :class:`~hefa.forms.markup.MarkupError` for a template that produces invalid markup.
    """
    text = render_text(name, context, templates_dir=templates_dir)
    try:
        blocks = parse(text)
    except MarkupError as exc:
        raise MarkupError(f"文书 {name}: {exc}") from exc
    document = docx.Document()
    layout.set_up(document)
    for block in blocks:
        layout.add_block(document, block)
    layout.keep_signature_with_text(document)
    title = "".join(b.text for b in blocks if b.kind is Kind.TITLE)
    core = document.core_properties
    core.title = title or DOCUMENT_TITLES[name]
    core.subject = DOCUMENT_TITLES[name]
    core.author = core.last_modified_by = "hefa"
    core.language = "zh-CN"
    core.keywords = name
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
