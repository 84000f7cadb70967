"""``hefa register`` and ``hefa report``: the register of documents in force, 备案审查, 清理 and the
annual report (issue 16). Thin, like every command: read the options, call one ``review/`` function,
print the answer. These steps are recorded in this process (they move no flow run)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from hefa.review import vocabulary as vocab

from . import session as out
from .options import AsOpt, CodeOpt, JsonOpt, MatterArg, TokenOpt
from .session import guard as _guard

register_app = typer.Typer(help="规范性文件登记簿、备案审查、清理 / the register of documents in force",
                           invoke_without_command=True)


def _accepted(outcome: Any) -> None:
    data = outcome.to_dict()
    out.emit(data, f"已受理 / accepted: {data['matter'] or '登记簿'} {data['action']}（审计第 {data['event']} 号）"
                   f"— {data['message']}")


@register_app.callback()
def register(ctx: typer.Context,
             status: Annotated[str | None, typer.Option(help=vocab.REGISTER_STATUS.help())] = None,
             export: Annotated[Path | None, typer.Option(
                 help="导出为 .docx（GB/T 9704）或 .xlsx / export to .docx or .xlsx")] = None,
             organ: Annotated[str, typer.Option(help="导出文件抬头的机关名称")] = "",
             json_: JsonOpt = False) -> None:
    """登记簿：文号、标题、机关、公布日期、有效期、状态 / the register of documents in force."""
    if ctx.invoked_subcommand is not None:
        return
    out.set_json(json_)
    from hefa.review.register.entries import register_with_head
    from hefa.review.register.export import export as write_export

    rows, head = _guard(register_with_head, status)
    if export is not None:
        path = _guard(write_export, rows, export, organ=organ, chain_head=head)
        out.emit({"file": str(path), "rows": len(rows), "chain_head": head},
                 f"已导出 {len(rows)} 件 / exported to {path}（链头 {head}）")
        return
    out.emit({"rows": rows, "chain_head": head}, "\n".join(
        [f"{r['matter']}  {r['number']:<18} {r['status_zh']:<4} 有效期至 {r['valid_until'] or '长期':<10} "
         f"{r['title']}{'  ' + r['correction'] if r['correction'] else ''}" for r in rows]
        or ["（登记簿为空）"]) + f"\n审计链头 / chain head {head}")


@register_app.command("review")
def filing_review(matter: MatterArg,
                  outcome: Annotated[str, typer.Option(help=vocab.FILING_REVIEW.help())],
                  problems: Annotated[str, typer.Option(help="审查意见：存在的问题（审查意见时必填）")] = "",
                  authority: Annotated[str, typer.Option(help="备案审查机关")] = "",
                  date: Annotated[str | None, typer.Option(help="审查日期 YYYY-MM-DD")] = None,
                  as_: AsOpt = None, token: TokenOpt = None, code: CodeOpt = None, json_: JsonOpt = False) -> None:
    """记录备案审查结果；审查意见启动督促整改 / record the filing authority's review outcome."""
    out.set_json(json_)
    from hefa.review.register.steps import record_filing_review

    _accepted(_guard(record_filing_review, out.credentials(as_, token, code), matter, outcome=outcome,
                     problems=problems, authority=authority, reviewed_on=date))


@register_app.command("decide")
def decide(matter: MatterArg,
           decision: Annotated[str, typer.Option(help=vocab.REGISTER_DECISION.help())],
           reason: Annotated[str, typer.Option(help="理由")],
           follow_up: Annotated[str | None, typer.Option(
               help="修改/废止：另行提交并经审查的事项编号 / the follow-up matter")] = None,
           as_: AsOpt = None, token: TokenOpt = None, code: CodeOpt = None, json_: JsonOpt = False) -> None:
    """清理结论：继续有效 / 修改 / 废止 / keep, amend or repeal a document in force."""
    out.set_json(json_)
    from hefa.review.register.steps import decide as record_decision

    _accepted(_guard(record_decision, out.credentials(as_, token, code), matter, decision=decision,
                     reason=reason, follow_up=follow_up))


@register_app.command("cleanup")
def cleanup(name: Annotated[str, typer.Option(help="清理名称，如 2026年规范性文件清理")],
            as_: AsOpt = None, token: TokenOpt = None, code: CodeOpt = None, json_: JsonOpt = False) -> None:
    """开始清理：列出有效期将届满或须纠正的文件 / start a 清理 campaign."""
    out.set_json(json_)
    from hefa.review.register.steps import start_cleanup

    _accepted(_guard(start_cleanup, out.credentials(as_, token, code), name=name))


@register_app.command("campaigns")
def campaigns(json_: JsonOpt = False) -> None:
    """清理情况：每件文件的结论 / 清理 campaigns and their decisions."""
    out.set_json(json_)
    from hefa.review.register.steps import campaigns as list_campaigns

    rows = _guard(list_campaigns)
    lines: list[str] = []
    for c in rows:
        lines.append(f"#{c['id']} {c['name']}（{c['started_on']}，届满早于 {c['due_before']}）"
                     f"{'  进行中' if c['open'] else '  已完成'}")
        lines += [f"    {i['matter']}  {i['decision_zh']:<4} {i['title']}  {i['reason']}"
                  f"{'  → ' + i['follow_up'] if i['follow_up'] else ''}" for i in c["items"]]
    out.emit(rows, "\n".join(lines) or "（无清理）")


def report(year: Annotated[int, typer.Option(help="年度 / the year")],
           out_file: Annotated[Path | None, typer.Option(
               "--out", help="写入的 .docx（默认 $HEFA_HOME/reports/法治政府建设年度报告-YEAR.docx）")] = None,
           json_: JsonOpt = False) -> None:
    """法治政府建设年度报告（统计部分），GB/T 9704 .docx，附图 / the annual report's statistics."""
    out.set_json(json_)
    from hefa.review.report.annual import write_report

    result = _guard(write_report, year, out_file)
    out.emit({k: v for k, v in result.items() if k != "markdown"},
             f"已生成 / written: {result['file']}\n审计链头 / chain head {result['chain_head']}\n"
             + result["summary"])


def install(app: typer.Typer) -> None:
    """Add ``register`` and ``report`` to the ``hefa`` command."""
    app.add_typer(register_app, name="register")
    app.command("report")(report)
