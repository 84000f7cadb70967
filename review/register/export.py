"""The register on paper and in a spreadsheet (登记簿导出): GB/T 9704 .docx through the forms renderer,
or .xlsx (openpyxl), with the audit chain head so that the list can be traced."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any

from hefa.review import vocabulary as vocab
from hefa.review.config import today
from hefa.review.errors import InvalidInput

COLUMNS: tuple[tuple[str, str], ...] = (
    ("matter", "事项编号"), ("number", "文号"), ("title", "标题"), ("organ", "制定机关"), ("kind_zh", "类型"),
    ("issued_on", "公布日期"), ("effective_from", "施行日期"), ("valid_until", "有效期至"),
    ("status_zh", "状态"), ("status_since", "状态日期"), ("superseded_by", "修改/废止事项"),
    ("correction", "督促整改"),
)


def _note(row: dict[str, Any]) -> str:
    parts = [f"由 {row['superseded_by']} {row['status_zh']}" if row["superseded_by"] else "",
             row["correction"], "暂行/试行" if row["provisional"] else ""]
    return "；".join(p for p in parts if p)


def export(rows: list[dict[str, Any]], target: Path, *, organ: str = "", chain_head: str = "",
           on: dt.date | None = None) -> Path:
    """Write the register to ``target`` (.docx or .xlsx, by its suffix); the path written."""
    suffix = target.suffix.lower()
    if suffix not in (".docx", ".xlsx"):
        raise InvalidInput(f"导出文件须为 .docx 或 .xlsx，收到 {target.name!r} / export to .docx or .xlsx")
    if not target.parent.is_dir():
        raise InvalidInput(f"目录不存在：{target.parent} / no such directory")
    data = _docx(rows, organ, chain_head, on or today()) if suffix == ".docx" else _xlsx(rows, chain_head)
    partial = target.with_name(target.name + ".part")
    partial.write_bytes(data)
    partial.replace(target)  # never a half-written file under the name asked for
    return target


def _docx(rows: list[dict[str, Any]], organ: str, chain_head: str, on: dt.date) -> bytes:
    from hefa.forms.render import render_document

    seq, _, digest = chain_head.partition(":")
    counts = Counter(r["status"] for r in rows)
    return render_document("register", {
        "organ": organ or "本机关", "on": on, "rows": [r | {"note": _note(r)} for r in rows],
        "counts": {code: counts.get(code, 0) for code in vocab.REGISTER_STATUS.codes},
        "chain_head": {"seq": seq, "hash": digest}})


def _xlsx(rows: list[dict[str, Any]], chain_head: str) -> bytes:
    import io

    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "登记簿"
    sheet.append([zh for _key, zh in COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for r in rows:
        sheet.append([r[key] for key, _zh in COLUMNS])
    sheet.append([])
    sheet.append(["审计链锚点 / audit chain head", chain_head])
    for column, width in zip("ABCDEFGHIJKL", (11, 20, 40, 20, 14, 12, 12, 12, 8, 12, 14, 24), strict=True):
        sheet.column_dimensions[column].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
