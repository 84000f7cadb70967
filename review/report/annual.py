"""``hefa report --year``: the statistics part of the 法治政府建设年度报告 as a GB/T 9704 .docx (the
forms renderer), with charts, and the same as markdown for the Prefect artifact."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

from hefa.review.config import now, settings
from hefa.review.errors import InvalidInput
from hefa.review.law.rules import ROLE_ZH, Role
from hefa.review.report import charts
from hefa.review.report.figures import Figures, compute, kind_zh

CHART_PLACEHOLDERS = ("〔图一〕", "〔图二〕")
CHART_TITLES = ("各月审查事项数量", "合法性审查用时（工作日）")


def figures_of(year: int) -> Figures:
    """The year's figures, in their own read session."""
    from hefa.review.records.db import read_session

    if not 2000 <= year <= 2100:
        raise InvalidInput(f"年度须在 2000–2100 之间，收到 {year} / year out of range")
    with read_session() as session:
        return compute(session, year)


def _context(f: Figures) -> dict[str, Any]:
    seq, _, digest = f.chain_head.partition(":")
    review_rows = [{"zh": kind_zh(kind), "count": r["count"], "median": r["median"], "longest": r["longest"],
                    "limit": r["limit"] if r["limit"] is not None else "—", "over_limit": r["over_limit"]}
                   for kind, r in f.review_days.items()]
    return {
        "year": f.year, "organ": f.organ or "本机关", "f": f.to_dict(),
        "chain_head": {"seq": seq, "hash": digest}, "generated_at": now(),
        "total": sum(f.matters_by_kind.values()), "opinions_total": sum(f.opinions.values()),
        "by_kind": [{"zh": kind_zh(k), "count": n} for k, n in f.matters_by_kind.items()],
        "review_rows": review_rows or [{"zh": "（无）", "count": 0, "median": "—", "longest": "—", "limit": "—",
                                        "over_limit": 0}],
        "officer_rows": [{"zh": ROLE_ZH[Role(r)], "count": n} for r, n in f.officers.items()],
    }


def _charts(f: Figures) -> tuple[bytes, bytes]:
    review = [(kind_zh(kind), float(r["median"]), int(r["longest"]), r["limit"]) for kind, r in f.review_days.items()]
    return charts.monthly_volume(f.monthly), charts.review_times(review)


def _docx(f: Figures, images: tuple[bytes, bytes]) -> bytes:
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm

    from hefa.forms.render import render_document

    document = docx.Document(io.BytesIO(render_document("annual_report", _context(f))))
    for paragraph in document.paragraphs:
        for placeholder, image, title in zip(CHART_PLACEHOLDERS, images, CHART_TITLES, strict=True):
            if paragraph.text.strip() == placeholder:
                for run in paragraph.runs:
                    run.text = ""
                paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
                paragraph.runs[0].add_picture(io.BytesIO(image), width=Mm(150))
                paragraph.add_run(f"\n{title}")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def markdown(f: Figures, images: tuple[bytes, bytes]) -> str:
    """The report as markdown (the Prefect artifact), charts inline as PNG data."""
    lines = [f"# {f.year}年法治政府建设年度报告（统计部分）", "",
             f"审计链头 / chain head `{f.chain_head}` — 每个数字均由记录和审计链计算。", "",
             "## 审查事项", "", "| 事项类型 | 件数 |", "|---|---:|"]
    lines += [f"| {kind_zh(k)} | {n} |" for k, n in f.matters_by_kind.items()]
    lines += ["", f"![{CHART_TITLES[0]}](data:image/png;base64,{base64.b64encode(images[0]).decode()})", "",
              "## 审查意见", "",
              f"合法 {f.opinions['lawful']}，修改后合法 {f.opinions['amend']}，不合法 {f.opinions['unlawful']}；"
              f"意见后修改文稿 {f.revised_after_opinion} 件。", "",
              "| 事项类型 | 意见数 | 中位数（工作日） | 最长 | 时限 | 超时 |", "|---|---:|---:|---:|---:|---:|"]
    lines += [f"| {kind_zh(k)} | {r['count']} | {r['median']} | {r['longest']} | {r['limit'] or '—'} | "
              f"{r['over_limit']} |" for k, r in f.review_days.items()]
    lines += ["", f"![{CHART_TITLES[1]}](data:image/png;base64,{base64.b64encode(images[1]).decode()})", "",
              "## 备案与纠错", "",
              f"报备 {f.filings['filed']} 件（{f.filings['within_days']} 日内 {f.filings['on_time']}，"
              f"逾期 {f.filings['late']}）；督促整改 启动 {f.corrections['opened']}、完成 {f.corrections['closed']}、"
              f"年末在办 {f.corrections['open_at_year_end']}。",
              "登记簿：" + "，".join(f"{k} {v}" for k, v in f.register.items()) + "。", "",
              "## 法制审核、集体讨论、预警、人员", "",
              "；".join(f"{kind_zh(k)} {v['total']} 件（法制审核 {v['reviewed']}）" for k, v in f.enforcement.items())
              + f"；集体讨论 {f.deliberations['total']} 次；逾期预警 {f.warnings['overdue']}，"
              f"即将到期 {f.warnings['due-soon']}。",
              "人员：" + "，".join(f"{ROLE_ZH[Role(r)]} {n}" for r, n in f.officers.items())
              + f"；行政执法证 {f.certificates['enforcement']}，法律职业资格 {f.certificates['legal_qualification']}。"]
    return "\n".join(lines)


def summary(f: Figures) -> str:
    """A few lines for the terminal."""
    return (f"事项 {sum(f.matters_by_kind.values())} 件（" + "，".join(
        f"{kind_zh(k)} {n}" for k, n in f.matters_by_kind.items() if n) + "）；"
        f"意见 合法 {f.opinions['lawful']} / 修改后合法 {f.opinions['amend']} / 不合法 {f.opinions['unlawful']}；"
        f"报备 {f.filings['filed']}（逾期 {f.filings['late']}）；整改 启动 {f.corrections['opened']} / "
        f"完成 {f.corrections['closed']}")


def write_report(year: int, target: Path | None = None) -> dict[str, Any]:
    """Compute the figures, write the .docx (atomically) and return figures, file, markdown and chain head."""
    f = figures_of(year)
    if target is None:
        folder = settings().home / "reports"
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"法治政府建设年度报告-{year}.docx"
    if target.suffix.lower() != ".docx" or not target.parent.is_dir():
        raise InvalidInput(f"报告须写入已存在目录中的 .docx 文件，收到 {target}"
                           " / write to a .docx in an existing folder")
    images = _charts(f)
    partial = target.with_name(target.name + ".part")
    partial.write_bytes(_docx(f, images))
    partial.replace(target)
    return {"file": str(target), "year": year, "chain_head": f.chain_head, "figures": f.to_dict(),
            "summary": summary(f), "markdown": markdown(f, images)}

