"""Commands of issue 14 (per-kind law): ``hefa controls`` (确认适用程序), ``hefa sign`` (签发),
``hefa party-report`` (向党委请示报告), ``hefa evaluate`` (决策后评估) and ``hefa officer cert``
(行政执法证、法律职业资格). Thin, like every command: each calls one ``review/`` service;
steps go through the desk of a running ``hefa serve`` when there is one (``main._perform``)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from hefa.review import vocabulary as vocab

from . import session as out
from .options import AsOpt, CodeOpt, JsonOpt, MatterArg, TokenOpt

DateOpt = Annotated[str | None, typer.Option("--date", help="日期 YYYY-MM-DD（默认今天）")]


def _step(action: str, as_: str | None, token: str | None, code: str | None, **kwargs: Any) -> None:
    from .main import _creds, _perform

    _perform(action, _creds(as_, token, code), **kwargs)


def controls(matter: MatterArg,
             reason: Annotated[str, typer.Option(help=vocab.CONTROLS_REASON_TITLE)],
             flag: Annotated[list[str] | None, typer.Option(
                 help="适用的程序标记，可重复；未列出的即不适用（标记见 hefa status） / a flag that applies")] = None,
             as_: AsOpt = None, token: TokenOpt = None, code: CodeOpt = None, json_: JsonOpt = False) -> None:
    """法律顾问或行政首长确认（或更改）起草人提出的程序标记，须说明理由 / confirm the controls that apply."""
    out.set_json(json_)
    _step("controls", as_, token, code, matter_id=matter, flags=list(flag or ()), reason=reason)


def sign(matter: MatterArg, date: DateOpt = None,
         remarks: Annotated[str, typer.Option(help="签发意见")] = "",
         as_: AsOpt = None, token: TokenOpt = None, code: CodeOpt = None, json_: JsonOpt = False) -> None:
    """行政首长签发（规范性文件、重大行政决策）；办公室随后 hefa publish 统一登记编号印发 / the head signs."""
    out.set_json(json_)
    _step("signing", as_, token, code, matter_id=matter, held_on=date, reference=remarks)


def party_report(matter: MatterArg,
                 reference: Annotated[str, typer.Option(help="请示报告文号或批示")],
                 date: DateOpt = None,
                 summary: Annotated[str, typer.Option(help="情况说明")] = "",
                 as_: AsOpt = None, token: TokenOpt = None, code: CodeOpt = None, json_: JsonOpt = False) -> None:
    """重大行政决策出台前向同级党委请示报告（国务院令第713号） / report to the Party committee."""
    out.set_json(json_)
    _step("party-report", as_, token, code, matter_id=matter, held_on=date, reference=reference, summary=summary)


def evaluate(matter: MatterArg,
             reference: Annotated[str, typer.Option(help="评估报告名称")],
             summary: Annotated[str, typer.Option(help="评估结论")],
             date: DateOpt = None,
             as_: AsOpt = None, token: TokenOpt = None, code: CodeOpt = None, json_: JsonOpt = False) -> None:
    """决策后评估（国务院令第713号） / post-decision evaluation."""
    out.set_json(json_)
    _step("evaluation", as_, token, code, matter_id=matter, held_on=date, reference=reference, summary=summary)


def officer_cert(name: str,
                 number: Annotated[str | None, typer.Option(help="行政执法证号")] = None,
                 valid_until: Annotated[str | None, typer.Option(help="行政执法证有效期至 YYYY-MM-DD")] = None,
                 legal_qualification: Annotated[str | None, typer.Option(
                     help="法律职业资格证书编号（处罚法制审核须具备，《行政处罚法》第五十八条第二款）")] = None,
                 clear: Annotated[bool, typer.Option("--clear", help="行政执法证已收回/注销")] = False,
                 as_: AsOpt = None, token: TokenOpt = None, json_: JsonOpt = False) -> None:
    """登记人员的行政执法证（证号、有效期）和法律职业资格（仅管理员） / record certificates (admin only)."""
    out.set_json(json_)
    from hefa.review.people import officers

    from .main import _creds
    from .session import guard as _guard

    held = _guard(officers.set_certificates, _creds(as_, token, None), name, cert_number=number,
                  cert_valid_until=valid_until, legal_qualification=legal_qualification, clear_cert=clear)
    out.emit(held, f"已登记 / recorded: {held['name']} 行政执法证 {held['cert_number'] or '无'}"
                   f"（有效期至 {held['cert_valid_until'] or '—'}），"
                   f"法律职业资格 {held['legal_qualification'] or '无'}")


def certificate_lines(rows: list[dict[str, Any]]) -> list[str]:
    """`hefa overdue`'s lines for expired or expiring 行政执法证."""
    return [f"{r['officer']}  行政执法证 {r['cert_number']}  "
            f"{'已过期' if r['level'] == 'expired' else '将到期'}  有效期至 {r['valid_until']}" for r in rows]


def install(app: typer.Typer, officer_app: typer.Typer) -> None:
    """Add this module's commands to ``hefa`` and ``hefa officer``."""
    app.command()(controls)
    app.command()(sign)
    app.command("party-report")(party_report)
    app.command()(evaluate)
    officer_app.command("cert")(officer_cert)
