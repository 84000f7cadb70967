"""hefa 命令行 / the hefa command.

Each command is thin: read the options, call one ``review/`` service, print the
answer. A step is answered from the database at once; Prefect is told after
(``flows/rest.py``, standard library only), so commands never import prefect
except ``serve``, ``demo`` and the flow machinery they start.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from hefa.review import vocabulary as vocab

from . import after_filing, per_kind
from . import session as out
from .options import AsOpt, CodeOpt, JsonOpt, MatterArg, TokenOpt
from .session import fail_if_busy as _fail_if_busy
from .session import guard as _guard

app = typer.Typer(
    help="合法 hefa：合法性审查流程引擎 / legality review for local government matters",
    no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
)
officer_app = typer.Typer(help="人员管理（仅管理员） / officers (admin only)", no_args_is_help=True)
app.add_typer(officer_app, name="officer")
findings_app = typer.Typer(help="预审提示复核 / pre-screen findings", no_args_is_help=True)
app.add_typer(findings_app, name="findings")
after_filing.install(app)  # hefa register …, hefa report (issue 16)
per_kind.install(app, officer_app)  # hefa controls, sign, party-report, evaluate, officer cert (issue 14)


def _creds(name: str | None, token: str | None, code: str | None):  # type: ignore[no-untyped-def]
    return out.credentials(name, token, code)


def _perform(action: str, creds, **kwargs: Any) -> None:  # type: ignore[no-untyped-def]
    """Record one step: through a running ``hefa serve`` (the desk) when there is one,
    otherwise in this process — the same ``review/`` service either way.

    Each invocation carries its own request id: when the desk goes away mid-request
    (``hefa serve`` restarted), the step is retried here under the same id, and a step
    the desk had already recorded is answered with its first outcome, never recorded twice."""
    import uuid

    from hefa.desk.client import DESK_GONE, ask_step

    kwargs = {k: out.clean_text(val) if isinstance(val, str) else val for k, val in kwargs.items()}
    kwargs["request_id"] = uuid.uuid4().hex
    answer = ask_step(action, creds, kwargs)
    if answer is not None and answer.get("code") == DESK_GONE:
        print(f"{answer['reason']}；已在本进程重试 / retried in this process", file=sys.stderr)
        answer = None
    if answer is None:
        from hefa.desk.server import perform

        try:
            answer = perform(action, creds, kwargs)
        except Exception as exc:
            _fail_if_busy(exc)
            raise
    if not answer.get("accepted"):
        out.fail(answer["reason"], code=answer.get("code", "refused"))
    if answer.get("note"):
        print(answer["note"], file=sys.stderr)
    if action == "submit":
        human = (f"已受理 / accepted: 事项 {answer['matter']}，预审提示 {_findings_count(answer.get('findings'))} 条"
                 f" — {answer['message']}\n流程 / flow run: {answer.get('flow_run_url')}")
    else:
        human = (f"已受理 / accepted: {answer['matter']} {action}（审计第 {answer['event']} 号）"
                 f"— {answer['message']}")
    out.emit(answer, human)


def _findings_count(findings: list[dict[str, Any]] | None) -> int:
    """How many pre-screen findings in all (an ``omitted`` entry counts those not kept one by one)."""
    return sum(int(f.get("omitted", 0)) if f.get("category") == "omitted" else 1 for f in findings or [])


def _read_file(path: Path) -> bytes:
    if not path.is_file():
        out.fail(f"找不到文件 {path} / no such file", code="not-found")
    return path.read_bytes()


# --- set-up -------------------------------------------------------------------------------

@app.command()
def init(admin: Annotated[str, typer.Option(help="首个管理员姓名 / first admin")] = "admin",
         drill: Annotated[bool, typer.Option(
             "--drill", help="建立演练安装：只有演练可用 HEFA_TODAY 冻结日期，每个审计事件都标明演练"
                             " / a drill installation (frozen dates allowed, every event marked)")] = False,
         json_: JsonOpt = False) -> None:
    """初始化（可重复运行）：建库或升级，创建首个管理员 / create or upgrade the database."""
    out.set_json(json_)
    from hefa.review.installation import initialise

    done = _guard(initialise, admin, drill=drill)
    enrolment = done.enrolment
    data: dict[str, Any] = {"database": done.database, "admin_created": bool(enrolment), "drill": done.drill,
                            "chain_keyed_from": done.chain_keyed_from}
    if done.drill:
        print("演练安装 / drill installation: 每个审计事件都标明演练 / every audit event is marked as a drill",
              file=sys.stderr)
    if enrolment:
        data |= enrolment.to_dict()
        out.emit(data, _enrolment_text(enrolment, "首个管理员已创建 / first admin created"))
    else:
        out.emit(data, f"数据库已是最新 / database up to date: {data['database']}")


def _enrolment_text(enrolment, heading: str) -> str:  # type: ignore[no-untyped-def]
    import io

    import segno

    qr = io.StringIO()
    segno.make(enrolment.otpauth_uri, error="m").terminal(out=qr, compact=True)
    return (f"{heading}: {enrolment.name}（{enrolment.roles}）\n"
            f"令牌（只显示这一次，请妥善保存）/ token, shown once:\n  {enrolment.token}\n"
            f"用身份验证器 App 扫描二维码登记动态码 / scan with an authenticator app:\n"
            f"{qr.getvalue()}\n  {enrolment.otpauth_uri}")


@officer_app.command("add")
def officer_add(name: str, role: Annotated[str, typer.Option(help="岗位，可用逗号分隔多个")],
                organ: Annotated[str, typer.Option(help="所属机关")] = "",
                cert_number: Annotated[str, typer.Option(help="行政执法证号（可选）")] = "",
                cert_valid_until: Annotated[str | None, typer.Option(help="行政执法证有效期至 YYYY-MM-DD")] = None,
                legal_qualification: Annotated[str, typer.Option(help="法律职业资格证书编号（可选）")] = "",
                as_: AsOpt = None, token: TokenOpt = None, json_: JsonOpt = False) -> None:
    """添加人员，显示一次令牌和动态码二维码 / add an officer."""
    out.set_json(json_)
    from hefa.review.people import officers

    enrolment = _guard(officers.add_officer, _creds(as_, token, None), name, role, organ,
                       cert_number=cert_number, cert_valid_until=cert_valid_until,
                       legal_qualification=legal_qualification)
    out.emit(enrolment.to_dict(), _enrolment_text(enrolment, "人员已添加 / officer added"))


@officer_app.command("list")
def officer_list(as_: AsOpt = None, token: TokenOpt = None, json_: JsonOpt = False) -> None:
    """列出人员（仅管理员） / list officers (admin only)."""
    out.set_json(json_)
    from hefa.review.people import officers

    rows = _guard(officers.list_officers, _creds(as_, token, None))
    out.emit(rows, "\n".join(f"{r['name']:<12} {r['roles']:<28} {r['organ']}"
                             f"{'  [已停用]' if r['disabled'] else ''}"
                             f"{'  [已锁定]' if r['locked_until'] else ''}" for r in rows))


def _officer_change(action: str, name: str, as_: str | None, token: str | None,
                    json_: bool) -> None:
    out.set_json(json_)
    from hefa.review.people import officers

    fn = {"disable": officers.disable_officer, "enable": officers.enable_officer,
          "unlock": officers.unlock_officer}[action]
    _guard(fn, _creds(as_, token, None), name)
    out.emit({"accepted": True, "action": action, "name": name}, f"已完成 / done: {action} {name}")


@officer_app.command("disable")
def officer_disable(name: str, as_: AsOpt = None, token: TokenOpt = None,
                    json_: JsonOpt = False) -> None:
    """停用人员 / disable an officer."""
    _officer_change("disable", name, as_, token, json_)


@officer_app.command("enable")
def officer_enable(name: str, as_: AsOpt = None, token: TokenOpt = None,
                   json_: JsonOpt = False) -> None:
    """恢复人员 / re-enable an officer."""
    _officer_change("enable", name, as_, token, json_)


@officer_app.command("unlock")
def officer_unlock(name: str, as_: AsOpt = None, token: TokenOpt = None,
                   json_: JsonOpt = False) -> None:
    """解除锁定 / unlock an officer."""
    _officer_change("unlock", name, as_, token, json_)


@officer_app.command("rotate")
def officer_rotate(name: str, as_: AsOpt = None, token: TokenOpt = None,
                   json_: JsonOpt = False) -> None:
    """更换令牌和动态码密钥，旧的立即失效 / new token and TOTP secret."""
    out.set_json(json_)
    from hefa.review.people import officers

    enrolment = _guard(officers.rotate_officer, _creds(as_, token, None), name)
    out.emit(enrolment.to_dict(), _enrolment_text(enrolment, "凭据已更换 / rotated"))


@app.command()
def login(as_: AsOpt = None, json_: JsonOpt = False) -> None:
    """保存令牌到本机（权限 0600） / keep your token in a 0600 file."""
    out.set_json(json_)
    import getpass

    from hefa.review.people import officers
    from hefa.review.services.steps import Credentials

    if not as_:
        out.fail("请用 --as 指定姓名 / --as NAME is required", code="usage")
    token = getpass.getpass(f"{as_} 的令牌 / token: ") if sys.stdin.isatty() else sys.stdin.readline()
    info = _guard(officers.whoami, Credentials(as_, token=token.strip()))
    path = out.save_token(as_, token.strip())
    out.emit(info | {"saved": str(path)}, f"已登录 / logged in: {as_}（{info['roles']}），令牌保存在 {path}")


# --- steps ---------------------------------------------------------------------------------

@app.command()
def submit(file: Path, kind: Annotated[str, typer.Option(help="事项类型 / matter kind")],
           title: Annotated[str, typer.Option(help="标题 / title")],
           flag: Annotated[list[str] | None, typer.Option(help="事项标记，可重复 / flags")] = None,
           organ: Annotated[str | None, typer.Option(help="起草机关 / organ")] = None,
           opened_on: Annotated[str | None, typer.Option(help="立案/受理日期 YYYY-MM-DD")] = None,
           amount: Annotated[int | None, typer.Option(
               help="合同金额（元）：达到重大合同标准的自动标记 major / contract amount")] = None,
           officers: Annotated[str | None, typer.Option(
               help="执法人员（行政处罚、许可：至少两名持有效行政执法证），逗号分隔 / enforcement officers")] = None,
           as_: AsOpt = None, token: TokenOpt = None, code: CodeOpt = None,
           json_: JsonOpt = False) -> None:
    """提交文稿，启动审查流程（标记为建议，由法律顾问确认） / submit a .docx and start its review."""
    out.set_json(json_)
    _perform("submit", _creds(as_, token, code), kind=kind, title=title, data=_read_file(file),
             filename=file.name, organ=organ, flags=list(flag or ()), opened_on=opened_on, amount=amount,
             enforcement_officers=officers)


@app.command()
def revise(matter: MatterArg, file: Path, as_: AsOpt = None, token: TokenOpt = None,
           code: CodeOpt = None, json_: JsonOpt = False) -> None:
    """提交修改稿（退回修改后） / submit a revised version."""
    out.set_json(json_)
    data = _read_file(file)
    _perform("revise", _creds(as_, token, code), matter_id=matter, data=data,
                      filename=file.name)


@app.command()
def participation(matter: MatterArg,
                  start: Annotated[str, typer.Option(help="征求意见开始日期 YYYY-MM-DD")],
                  end: Annotated[str, typer.Option(help="征求意见截止日期 YYYY-MM-DD")],
                  comments: Annotated[int, typer.Option(help="收到意见条数")],
                  summary: Annotated[str, typer.Option(help="意见采纳情况摘要")],
                  shortened_reason: Annotated[str, typer.Option(help="期限缩短的理由")] = "",
                  as_: AsOpt = None, token: TokenOpt = None, code: CodeOpt = None,
                  json_: JsonOpt = False) -> None:
    """记录公众参与/公开征求意见 / record public participation."""
    out.set_json(json_)
    _perform("participation", _creds(as_, token, code), matter_id=matter,
                      period_start=start, period_end=end, comment_count=comments,
                      summary=summary, shortened_reason=shortened_reason)


@app.command()
def experts(matter: MatterArg, experts: Annotated[str, typer.Option(help="论证专家")],
            summary: Annotated[str, typer.Option(help="论证意见")],
            held_on: Annotated[str | None, typer.Option(help="论证日期")] = None,
            as_: AsOpt = None, token: TokenOpt = None, code: CodeOpt = None,
            json_: JsonOpt = False) -> None:
    """记录专家论证 / record expert argumentation."""
    out.set_json(json_)
    _perform("experts", _creds(as_, token, code), matter_id=matter, experts=experts,
                      summary=summary, held_on=held_on)


@app.command()
def hearing(matter: MatterArg, notified_on: Annotated[str, typer.Option(help="告知日期")],
            hearing: Annotated[str, typer.Option(help=vocab.HEARING.help())],
            held_on: Annotated[str | None, typer.Option(help="听证日期")] = None,
            summary: Annotated[str, typer.Option(help="情况说明")] = "",
            as_: AsOpt = None, token: TokenOpt = None, code: CodeOpt = None,
            json_: JsonOpt = False) -> None:
    """记录告知与听证（行政处罚） / record notice and hearing."""
    out.set_json(json_)
    _perform("hearing", _creds(as_, token, code), matter_id=matter,
                      notified_on=notified_on, hearing=hearing, held_on=held_on, summary=summary)


@app.command()
def assess(matter: MatterArg, level: Annotated[str, typer.Option(help=vocab.RISK_LEVEL.help())],
           controllable: Annotated[str, typer.Option(help=vocab.CONTROLLABLE.help())],
           summary: Annotated[str, typer.Option(help="评估结论")],
           as_: AsOpt = None, token: TokenOpt = None, code: CodeOpt = None,
           json_: JsonOpt = False) -> None:
    """记录风险评估 / record a risk assessment."""
    out.set_json(json_)
    _perform("assessment", _creds(as_, token, code), matter_id=matter, level=level,
                      controllable=controllable, summary=summary)


@app.command()
def opinion(matter: MatterArg,
            conclusion: Annotated[str, typer.Option(help=vocab.CONCLUSION.help())],
            reasons: Annotated[str, typer.Option(help="审查意见和理由")],
            version: Annotated[str, typer.Option(
                help="所审文稿版本：版本号或 sha256 前8位以上（见 hefa status） / the version reviewed")],
            item: Annotated[list[str] | None, typer.Option(
                help="逐项审查结果，每项一次：项目代码=符合 | 不符合:说明 | 不适用[:说明]"
                     "（项目见 hefa checklist KIND） / one checklist answer, repeatable")] = None,
            items: Annotated[Path | None, typer.Option(
                help="逐项审查结果文件：每行一项，格式同 --item（hefa checklist KIND > 文件 生成模板）"
                     " / a file of checklist answers")] = None,
            as_: AsOpt = None, token: TokenOpt = None, code: CodeOpt = None,
            json_: JsonOpt = False) -> None:
    """出具合法性审查意见（须写明所审版本，逐项填写审查要点） / record counsel's written opinion on a named
    version, with an answer to every item of the kind's checklist."""
    out.set_json(json_)
    answers = list(item or ())
    if items is not None:
        try:
            answers += _read_file(items).decode("utf-8").splitlines()
        except UnicodeDecodeError:
            out.fail(f"逐项审查结果文件 {items} 不是 UTF-8 文本 / not UTF-8 text", code="invalid-input")
    _perform("opinion", _creds(as_, token, code), matter_id=matter,
             conclusion=conclusion, reasons=reasons, version=version, items=answers)


@app.command()
def checklist(kind: Annotated[str, typer.Argument(help="事项类型 / matter kind")],
              json_: JsonOpt = False) -> None:
    """列出某类事项的审查要点（逐项审查模板） / the kind's review checklist, as a template for --items."""
    from hefa.review.law.checklists import checklist_for, template
    from hefa.review.law.rules import Kind

    out.set_json(json_)
    if kind not in {k.value for k in Kind}:
        out.fail(f"没有事项类型 {kind!r}；可用：{', '.join(k.value for k in Kind)} / unknown kind", code="usage")
    table = checklist_for(kind)
    out.emit({"kind": kind, "source": table.source,
              "items": [{"key": i.key, "aspect": i.aspect, "question": i.question, "basis": i.basis}
                        for i in table.items]},
             f"# {table.source}\n{template(kind)}")


@app.command()
def deliberate(matter: MatterArg,
               decision: Annotated[str, typer.Option(help=vocab.DECISION.help())],
               attendees: Annotated[str, typer.Option(help="参会人员，逗号分隔")],
               meeting_kind: Annotated[str, typer.Option(help=vocab.MEETING_KIND.help())] = "常务会议",
               date: Annotated[str | None, typer.Option(help="会议日期 YYYY-MM-DD")] = None,
               presiding: Annotated[str, typer.Option(help="主持人/行政首长")] = "",
               dissent: Annotated[str, typer.Option(help="不同意见（如实记录）")] = "",
               head_spoke_last: Annotated[bool, typer.Option(
                   "--head-spoke-last/--head-not-last", help="行政首长是否最后发言")] = True,
               urgent_reason: Annotated[str, typer.Option(help="紧急情况说明")] = "",
               as_: AsOpt = None, token: TokenOpt = None, code: CodeOpt = None,
               json_: JsonOpt = False) -> None:
    """记录集体讨论决定 / record the collective deliberation."""
    out.set_json(json_)
    _perform("deliberation", _creds(as_, token, code), matter_id=matter,
                      decision=decision, attendees=attendees, meeting_kind=meeting_kind,
                      meeting_date=date, presiding=presiding, dissent=dissent,
                      head_spoke_last=head_spoke_last, urgent_reason=urgent_reason)


@app.command()
def publish(matter: MatterArg, number: Annotated[str, typer.Option(help="文号，如 河政规〔2024〕1号")],
            date: Annotated[str | None, typer.Option(help="公布/签订/决定日期")] = None,
            as_: AsOpt = None, token: TokenOpt = None, code: CodeOpt = None,
            json_: JsonOpt = False) -> None:
    """签发公布 / 签订 / 作出决定 / record issuance."""
    out.set_json(json_)
    _perform("issuance", _creds(as_, token, code), matter_id=matter, number=number,
                      published_on=date)


@app.command("file")
def file_(matter: MatterArg, filed_with: Annotated[str, typer.Option(help="备案机关")],
          receipt: Annotated[str, typer.Option(help="备案回执号")],
          date: Annotated[str | None, typer.Option(help="备案日期")] = None,
          as_: AsOpt = None, token: TokenOpt = None, code: CodeOpt = None,
          json_: JsonOpt = False) -> None:
    """备案 / 归档 / record the filing."""
    out.set_json(json_)
    _perform("filing", _creds(as_, token, code), matter_id=matter,
                      filed_with=filed_with, receipt=receipt, filed_on=date)


@app.command()
def extend(matter: MatterArg, days: Annotated[int, typer.Option(help="延长天数（行政许可最多10日）")],
           reason: Annotated[str, typer.Option(help="延长理由")],
           notified_on: Annotated[str | None, typer.Option(
               help="告知申请人延长理由的日期（行政许可法第四十二条） / when the applicant was told")] = None,
           as_: AsOpt = None, token: TokenOpt = None, code: CodeOpt = None, json_: JsonOpt = False) -> None:
    """经行政首长批准延长办理期限（一次） / the head approves one deadline extension."""
    out.set_json(json_)
    _perform("extension", _creds(as_, token, code), matter_id=matter, days=days, reason=reason,
             notified_on=notified_on)


# --- reading -------------------------------------------------------------------------------

@app.command()
def status(matter: MatterArg, json_: JsonOpt = False) -> None:
    """事项状态、期限、预审提示和记录 / a matter's state."""
    out.set_json(json_)
    from hefa.review.records import queries
    from hefa.review.records.db import read_session

    with read_session() as s:
        data = _guard(queries.status, s, matter)
    out.emit(data, _status_text(data))


def _status_text(d: dict[str, Any]) -> str:
    lines = [f"{d['id']}  {d['title']}", f"  类型 {d['kind_zh']}  机关 {d['organ']}  起草人 {d['drafter']}",
             f"  当前 {d['stage_zh']}（{d['stage']}）  现行版本 第{d['current_version']['number']}版 "
             f"{d['current_version']['sha256'][:12]}"]
    for clock in d["clocks"]:
        lines.append(f"  期限 {clock.get('text') or clock.get('error')}  依据 {clock.get('article', '')}")
    for o in d["opinions"]:
        mark = "现行" if o["current"] else "已失效"
        lines.append(f"  法律意见 第{o['version']}版 {o['conclusion_zh']}（{mark}） {o['counsel']}")
    if d["findings"]:
        lines.append(f"  预审提示 {_findings_count(d['findings'])} 条 / pre-screen findings:")
        for f in d["findings"]:
            lines.append(f"    [{f['category']}] {f.get('article') or '—'} 段{f['paragraph_index']}："
                         f"{f['matched_text']} — {f['basis']}")
    if d["run_id"]:
        from hefa.flows.rest import ui_url

        lines.append(f"  流程 {ui_url(d['flow_run_id'])}")
    return "\n".join(lines)


@app.command("list")
def list_(stage: Annotated[str | None, typer.Option(help="按阶段筛选")] = None,
          kind: Annotated[str | None, typer.Option(help="按类型筛选")] = None,
          status_: Annotated[str | None, typer.Option("--status", help="open|closed|rejected")] = None,
          json_: JsonOpt = False) -> None:
    """列出事项 / list matters."""
    out.set_json(json_)
    from hefa.review.law.rules import Kind, Step
    from hefa.review.records import queries
    from hefa.review.records.db import read_session

    for label, value, choices in (("--stage", stage, [*(s.value for s in Step), "closed", "rejected"]),
                                  ("--kind", kind, [k.value for k in Kind]),
                                  ("--status", status_, ["open", "closed", "rejected"])):
        if value is not None and value not in choices:
            out.fail(f"{label} 须为 {', '.join(choices)} 之一，收到 {value!r} / unknown {label} value",
                     code="usage")
    with read_session() as s:
        rows = _guard(queries.list_matters, s, stage=stage, kind=kind, status_is=status_)
    out.emit(rows, "\n".join(f"{r['id']}  {r['stage']:<14} {r['status']:<8} {r['kind']:<24} {r['title']}"
                             for r in rows) or "（无）")


@app.command()
def pending(as_: AsOpt = None, json_: JsonOpt = False) -> None:
    """我的待办及期限 / what waits for an officer."""
    out.set_json(json_)
    from hefa.review.records import queries
    from hefa.review.records.db import read_session

    if not as_:
        out.fail("请用 --as 指定姓名 / --as NAME is required", code="usage")
    with read_session() as s:
        rows = _guard(queries.pending, s, as_)
    out.emit(rows, "\n".join(
        f"{r['id']}  {r['stage_zh']:<10} {r['title']}  "
        + "；".join(c.get("text") or c.get("error", "") for c in r["clocks"]) for r in rows)
        or "（无待办）")


@app.command("audit")
def audit_(matter: MatterArg, json_: JsonOpt = False) -> None:
    """事项的审计记录（含被拒绝的操作） / a matter's audit trail."""
    out.set_json(json_)
    from hefa.review.records import queries
    from hefa.review.records.db import read_session

    with read_session() as s:
        rows = _guard(queries.trail, s, matter)
    out.emit(rows, "\n".join(
        f"{r['seq']:>6} {r['at'][:19]} {r['officer']:<10} {r['action']:<13} "
        f"{'接受' if r['outcome'] == 'accepted' else '拒绝' if r['outcome'] == 'refused' else r['outcome']}"
        f"  {r['reason']}" for r in rows))


@contextmanager
def _long_lived_imports() -> Iterator[None]:
    """Import a command's modules with Python's cycle collector paused, then freeze what they made
    (``gc.freeze``): modules, classes and the models' tables live as long as the process, and the
    collector would otherwise walk those hundreds of thousands of objects again and again while
    importing, and all of them once more at exit (together about a fifth of ``hefa verify`` over
    100,000 events). Anything made later is collected as usual."""
    import gc

    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


@app.command()
def verify(anchor: Annotated[list[str] | None, typer.Option(
        help="锚点 SEQ:HASH（可重复），取自打印的文书 / anchors from paper")] = None,
           json_: JsonOpt = False) -> None:
    """校验审计链和每条记录（编辑、插入、删除的行都会被指出），打印链头 / verify the chain and every record."""
    out.set_json(json_)
    with _long_lived_imports():
        from hefa.review.errors import InvalidInput
        from hefa.review.records import audit
        from hefa.review.records.db import read_session
        from hefa.review.records.record_hashes import verify_state

    try:
        anchors = [audit.ChainHead.parse(a) for a in anchor or []]
    except InvalidInput as exc:
        out.fail(str(exc), code="usage")
    with read_session() as s:
        result = _guard(verify_state, s, anchors)
    chain = result.chain
    out.emit({"ok": True, "events": chain.count, "records": result.records, "head": str(chain.head)},
             f"审计链与记录一致 / chain and records verify: {chain.count} 个事件，{result.records} 条记录；"
             f"链头 / head {chain.head}")


# --- the installation's law -----------------------------------------------------------------------

config_app = typer.Typer(help="本机法律设置（更改仅限管理员，留痕） / the installation's law settings",
                         no_args_is_help=True)
app.add_typer(config_app, name="config")


@config_app.command("show")
def config_show(json_: JsonOpt = False) -> None:
    """显示现行法律设置及其来源 / the law settings in force, and who changed them."""
    out.set_json(json_)
    from hefa.review.services.law_config import show_law_settings

    rows = _guard(show_law_settings)
    out.emit(rows, "\n".join(
        f"{r['name']:<34} {r['value']!s:<12}"
        + (f" 第 {r['event']} 号事件 {r['by']} 更改（默认 {r['default']}）：{r['reason']}" if r["changed"] else " 默认")
        for r in rows))


@config_app.command("set")
def config_set(name: Annotated[str, typer.Argument(help="设置名，见 hefa config show")],
               value: Annotated[str, typer.Argument(help="新值 / new value")],
               reason: Annotated[str, typer.Option(help="变更理由（如地方规定的文号） / why")],
               as_: AsOpt = None, token: TokenOpt = None, code: CodeOpt = None, json_: JsonOpt = False) -> None:
    """管理员更改一项法律设置，自该审计事件起生效 / an admin changes one law setting (audited)."""
    out.set_json(json_)
    import uuid

    from hefa.review.services.law_config import set_law_setting

    answer = _guard(set_law_setting, _creds(as_, token, code), out.clean_text(name), out.clean_text(value),
                    reason=out.clean_text(reason), request_id=uuid.uuid4().hex)
    out.emit(answer, f"已更改 / changed: {answer['name']} {answer['old']} → {answer['new']}"
                     f"（审计第 {answer['event']} 号事件起生效）")


@app.command()
def check(file: Path, json_: JsonOpt = False,
          kind: Annotated[str | None, typer.Option(
              help="事项类型（按类型预审；缺省按规范性文件） / matter kind")] = None) -> None:
    """预审一个 .docx，列出可能违法的条款 / pre-screen a .docx."""
    out.set_json(json_)
    from hefa.review.documents.incoming import screen_upload

    sha, findings = _guard(screen_upload, _read_file(file), file.name, kind)
    out.emit({"file": str(file), "sha256": sha, "findings": findings},
             "\n".join([f"{file.name}：预审提示 {_findings_count(findings)} 条 / findings（供法律顾问参考，不是结论）"]
                       + [f"  [{f['category']}] {f.get('article') or '—'} 段{f['paragraph_index']}："
                          f"“{f['matched_text']}” — {f['basis']}；{f['explanation']}" for f in findings]))


@findings_app.command("mark")
def findings_mark(matter: MatterArg, finding: Annotated[int, typer.Argument(help="预审提示序号（从1起）")],
                  reason: Annotated[str, typer.Option(help="不是问题的理由 / why it is not a problem")],
                  as_: AsOpt = None, token: TokenOpt = None, code: CodeOpt = None,
                  json_: JsonOpt = False) -> None:
    """法律顾问将一条预审提示标为“不是问题”，记录理由 / counsel marks a finding not a problem."""
    out.set_json(json_)
    _perform("finding-mark", _creds(as_, token, code), matter_id=matter, finding=finding, reason=reason)


@findings_app.command("export")
def findings_export(target: Annotated[Path, typer.Argument(help="写入的 .tsv 文件")], json_: JsonOpt = False) -> None:
    """把法律顾问的复核导出为预审标注集的行 / export counsel's marks as labelled-set rows."""
    out.set_json(json_)
    import csv

    from hefa.review.services.findings import LABELLED_COLUMNS, marks_as_labelled_rows

    rows = _guard(marks_as_labelled_rows)
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=LABELLED_COLUMNS, delimiter="\t", quoting=csv.QUOTE_NONE,
                                escapechar="\\", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    out.emit({"file": str(target), "rows": len(rows)}, f"已导出 {len(rows)} 条 / exported to {target}")


@app.command()
def docs(matter: MatterArg, json_: JsonOpt = False) -> None:
    """事项的文书（法律意见书等），需要时先生成 / a matter's generated documents."""
    out.set_json(json_)
    from hefa.review.documents import generated
    from hefa.review.records import queries
    from hefa.review.records.db import read_session

    with read_session() as s:
        _guard(queries.get_matter, s, matter)
    _guard(generated.generate_pending, matter)
    rows = generated.documents_of(matter)
    out.emit(rows, "\n".join(f"{r['title']:<10} {r['sha256'][:16]}  链头 {r['chain_head'][:20]}…  {r['path']}"
                             for r in rows) or "（尚无文书）")


@app.command()
def export(matter: MatterArg, directory: Path, json_: JsonOpt = False) -> None:
    """导出事项全部卷宗（文稿各版本、文书、审计记录 CSV）归档 / export the dossier."""
    out.set_json(json_)
    from hefa.review.documents import dossier

    result = _guard(dossier.export, matter, directory)
    out.emit(result, f"已导出 / exported {len(result['files'])} 个文件到 {result['directory']}")


@app.command()
def overdue(json_: JsonOpt = False) -> None:
    """逾期和即将到期的事项 / overdue and due-soon matters."""
    out.set_json(json_)
    from hefa.review.law.overdue import scan

    result = _guard(scan)
    lines = [f"{i['matter']}  {'已逾期' if i['level'] == 'overdue' else '将到期'}  {i['stage']:<12} "
             f"期限 {i['due_on']}  逾期 {i['days_over']} 天  {i['title']}" for i in result.items]
    lines += [f"{e['matter']}  无法计算期限 / could not compute: {e['error']}" for e in result.errors]
    lines += per_kind.certificate_lines(result.certificates)  # 行政执法证 expired or expiring
    out.emit(result.items + result.errors + result.certificates, "\n".join(lines) or "（无逾期或将到期事项）")
    if result.errors:  # a matter whose clock is unknown may be overdue: never report "nothing"
        raise typer.Exit(1)


@app.command()
def serve(host: Annotated[str | None, typer.Option(
              help="入口监听地址（默认 127.0.0.1；Prefect 服务器只监听 127.0.0.1）/ front door address")] = None,
          poll: Annotated[float, typer.Option(help="轮询间隔（秒）")] = 1.0,
          pool: Annotated[str | None, typer.Option(
              help="扩展部署：把流程部署到该工作池，由 prefect worker 运行 / deploy to a work pool")] = None) -> None:
    """启动 Prefect 服务器（如未运行）并运行全部审查流程 / run the review flows."""
    from hefa.app.serve import serve as run_serve

    _guard(run_serve, host=host, poll_seconds=poll, pool=pool)


@app.command()
def demo(keep: Annotated[bool, typer.Option("--keep", help="结束后保持服务运行，便于在 Prefect UI 中查看")] = False,
         home: Annotated[Path | None, typer.Option(help="演示数据目录（默认 ~/.hefa-demo，每次清空）")] = None) -> None:
    """演示：五类事项各走完整流程（含被拒绝的越权尝试和退回修改） / the walk-through."""
    from hefa.app.demo import run_demo

    raise typer.Exit(run_demo(keep=keep, home=home))


def run() -> None:
    """Entry point of the ``hefa`` console script."""
    sys.argv = out.clean_argv(sys.argv)
    from hefa.review.installation_identity import law_override_message, law_overrides

    found = law_overrides()  # what the law requires is the installation's record, never the caller's
    if found:
        print(f"拒绝 / refused: {law_override_message(found[0])}", file=sys.stderr)
        raise SystemExit(2)
    if sys.argv[1:2] == ["serve"] and os.environ.get("HEFA_TODAY"):  # a frozen date: only in a drill, said at once
        from hefa.review.config import frozen_date
        from hefa.review.errors import ConfigurationError

        try:
            frozen_date()
        except ConfigurationError as exc:
            print(f"拒绝 / refused: {exc}", file=sys.stderr)
            raise SystemExit(2) from None
    app()


if __name__ == "__main__":
    run()
