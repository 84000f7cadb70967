"""The plain-text markup of hefa's document templates (文书模板标记), parsed into blocks.

A template (``templates/<name>.md.j2``) is rendered by jinja2 first; the text it produces is
read here line by line. One line is one paragraph. Blank lines are ignored (use ``@blank`` for
an empty line on the page). A line's first characters say what it is:

=====================  =====================================================================
``# 标题``             document title (公文标题, 小标宋 二号, centred); consecutive ``#``
                       lines form a title of several lines
``@number 文字``       发文字号 (e.g. 河法审〔2026〕3号), centred under the title
``## 一、文字``        first-level heading (一级标题, 黑体 三号)
``### （一）文字``     second-level heading (二级标题, 楷体 三号)
``@noindent 文字``     body text without the two-character first-line indent (主送机关 …)
``@right 文字``        right-aligned, two characters from the right margin (落款: 署名、日期)
``@note 文字``         small print at the foot (附注/版记, 仿宋 四号), e.g. the audit anchor
``@blank``             an empty line
``| a | b |``          a table row; consecutive rows form one table, the first is the header
``|:--:|------|``      optional, after the header: relative column widths by dash count;
                       ``:--:`` centres a column, ``--:`` aligns it right
anything else          a body paragraph (正文, 仿宋 三号, first line indented two characters)
=====================  =====================================================================

Values inserted by ``{{ … }}`` cannot produce markup: the renderer escapes ``# @ |`` and line
breaks in them (see :func:`protect`), and :func:`parse` restores them. A value with several lines
becomes several body paragraphs, or several lines inside a table cell.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

# Private-use code points that stand for markup characters coming from data, never from the
# template text itself.
_ESCAPES: dict[str, str] = {"#": "\ue000", "@": "\ue001", "|": "\ue002", "\n": "\ue003"}
_UNESCAPES: dict[str, str] = {v: k for k, v in _ESCAPES.items()}
_DATA_LINE_BREAK = _ESCAPES["\n"]
_SEPARATOR_CELL = re.compile(r"^\s*:?-+:?\s*$")


class Kind(StrEnum):
    """What a block is on the page."""

    TITLE = "title"  # 公文标题
    DOC_NUMBER = "number"  # 发文字号
    HEADING1 = "heading1"  # 一级标题
    HEADING2 = "heading2"  # 二级标题
    BODY = "body"  # 正文
    NOINDENT = "noindent"  # 顶格正文
    RIGHT = "right"  # 落款
    NOTE = "note"  # 附注 / 版记
    BLANK = "blank"  # 空行
    TABLE = "table"  # 表格


@dataclass(frozen=True)
class Block:
    """One paragraph (``text``) or one table (``rows`` of cells, relative ``widths``,
    ``aligns`` of each column: left, center or right)."""

    kind: Kind
    text: str = ""
    rows: tuple[tuple[str, ...], ...] = ()
    widths: tuple[int, ...] = field(default=())
    aligns: tuple[str, ...] = field(default=())


class MarkupError(ValueError):
    """A template produced text that is not valid markup (e.g. a ragged table)."""


_DIRECTIVES: dict[str, Kind] = {
    "@number": Kind.DOC_NUMBER,
    "@noindent": Kind.NOINDENT,
    "@right": Kind.RIGHT,
    "@note": Kind.NOTE,
    "@blank": Kind.BLANK,
}
_HEADINGS: tuple[tuple[str, Kind], ...] = (
    ("### ", Kind.HEADING2),
    ("## ", Kind.HEADING1),
    ("# ", Kind.TITLE),
)


def protect(value: str) -> str:
    """Escape markup characters and line breaks in a value inserted into a template."""
    return "".join(_ESCAPES.get(ch, ch) for ch in value.replace("\r\n", "\n"))


def _restore(text: str) -> str:
    return "".join(_UNESCAPES.get(ch, ch) for ch in text)


def _classify(line: str) -> tuple[Kind, str]:
    """Return the kind of one non-table line and its text (still escaped)."""
    for prefix, kind in _HEADINGS:
        if line.startswith(prefix):
            return kind, line[len(prefix) :].strip()
    word, _, rest = line.partition(" ")
    if word.startswith("@"):
        if word not in _DIRECTIVES:
            raise MarkupError(f"未知的模板指令 unknown directive: {word!r} in line {line!r}")
        return _DIRECTIVES[word], rest.strip()
    return Kind.BODY, line.strip()


def _split_paragraphs(kind: Kind, text: str) -> list[Block]:
    """A value with line breaks becomes several paragraphs; continuations are body text."""
    parts = text.split(_DATA_LINE_BREAK)
    blocks = [Block(kind, _restore(parts[0]).strip())]
    follow = Kind.BODY if kind in (Kind.BODY, Kind.HEADING1, Kind.HEADING2) else kind
    blocks += [Block(follow, _restore(p).strip()) for p in parts[1:] if p.strip()]
    return blocks


def _cells(line: str) -> list[str]:
    inner = line.strip()
    if not inner.endswith("|") or len(inner) < 2:
        raise MarkupError(f"表格行须以 | 开始并以 | 结束 table row must end with '|': {line!r}")
    return [c.strip() for c in inner[1:-1].split("|")]


def _table(lines: list[str]) -> Block:
    """Build one table block from consecutive ``| … |`` lines."""
    rows = [_cells(line) for line in lines]
    widths: tuple[int, ...] = ()
    aligns: tuple[str, ...] = ()
    if len(rows) > 1 and all(_SEPARATOR_CELL.match(c) for c in rows[1]):
        widths = tuple(c.count("-") for c in rows[1])
        aligns = tuple(_alignment(c) for c in rows.pop(1))
    ncols = len(rows[0])
    for row in rows:
        if len(row) != ncols:
            raise MarkupError(f"表格各行列数不一致 ragged table: {ncols} vs {len(row)} in {row}")
    if widths and len(widths) != ncols:
        raise MarkupError(f"列宽行列数不符 width row has {len(widths)} columns, expected {ncols}")
    text_rows = tuple(tuple(_restore(c) for c in row) for row in rows)
    return Block(Kind.TABLE, rows=text_rows, widths=widths or (1,) * ncols,
                 aligns=aligns or ("left",) * ncols)


def _alignment(separator: str) -> str:
    cell = separator.strip()
    if cell.startswith(":") and cell.endswith(":"):
        return "center"
    return "right" if cell.endswith(":") else "left"


def parse(text: str) -> list[Block]:
    """Parse rendered template text into blocks (paragraphs and tables), in page order."""
    blocks: list[Block] = []
    table_lines: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("|"):
            table_lines.append(line)
            continue
        if table_lines:
            blocks.append(_table(table_lines))
            table_lines = []
        if not line:
            continue
        kind, body = _classify(line)
        blocks += [Block(Kind.BLANK)] if kind is Kind.BLANK else _split_paragraphs(kind, body)
    if table_lines:
        blocks.append(_table(table_lines))
    return blocks
