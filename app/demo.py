"""``hefa demo``: one matter of every kind through its whole pipeline, on a real Prefect.

It starts ``hefa serve`` (its own Prefect server on a free port, locked with the
installation's auth string; the front door on another; data under a fresh demo
folder), enrols demo officers, and drives five matters at once from the bundled
sample documents. Along the way: a refused bypass (deliberation before any
opinion), an ``unlawful`` → revise → ``lawful`` loop, a wrong one-time code
refused at the front door's sign-in, the drafter refused at counsel's form with
hefa's reason, and one opinion given through the form at the front door exactly
as the Prefect UI sends it. It prints every trail and the one address people use.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hefa.review.vocabulary import CONCLUSION

SAMPLES = Path(__file__).resolve().parents[1] / "forms" / "samples"
ORGAN = "河东镇人民政府"
STAFF = [("zhang", "drafter"), ("zhou", "drafter"), ("li", "counsel"), ("wang", "assessor"), ("zhao", "secretary"),
         ("chen", "head"), ("sun", "filing_officer")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Demo:
    def __init__(self, home: Path, say: Callable[[str], None] = print) -> None:
        self.home = home
        self.lock = threading.Lock()
        self._print = say
        self.creds: dict[str, Any] = {}
        self.secrets: dict[str, str] = {}
        self.serve: subprocess.Popen[bytes] | None = None
        self.failures: list[str] = []
        self.door = ""  # the front door's address
        self.signed_in: dict[str, Any] = {}  # officer → an httpx client holding their session

    def say(self, text: str) -> None:
        """Print one line; five scenarios print at once, never into each other's lines."""
        with self.lock:
            self._print(text)

    # --- set-up -----------------------------------------------------------------------------

    def start(self) -> str:
        _refuse_if_served(self.home)
        if self.home.exists():
            shutil.rmtree(self.home)
        self.home.mkdir(parents=True, mode=0o700)
        port, web_port = _free_port(), _free_port()
        from hefa.app.serve import prefect_auth_string

        env = {"HEFA_HOME": str(self.home), "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
               "PREFECT_HOME": str(self.home / "prefect"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
               "PREFECT_RUNNER_POLL_FREQUENCY": "1", "HEFA_WEB_HOST": "127.0.0.1", "HEFA_WEB_PORT": str(web_port),
               "PREFECT_API_AUTH_STRING": prefect_auth_string(self.home)}
        self.door = f"http://127.0.0.1:{web_port}"
        os.environ.update(env)
        os.environ.pop("HEFA_DATABASE_URL", None)
        os.environ.pop("HEFA_TODAY", None)
        from hefa.review.config import reset_settings

        reset_settings()
        hefa = str(Path(sys.executable).parent / "hefa")
        from hefa.review.paths import private_file

        log = private_file(self.home / "serve.log").open("ab")
        self.say(f"启动 hefa serve（Prefect 服务器 127.0.0.1:{port}，数据目录 {self.home}）…")
        self.serve = subprocess.Popen([hefa, "serve"], env=os.environ.copy(), stdout=log,
                                      stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                      start_new_session=True)
        self._wait_for_deployments()
        self._enrol()
        return self.door

    def _wait_for_deployments(self, timeout: float = 180.0) -> None:
        from hefa.flows import rest
        from hefa.flows.names import flow_name
        from hefa.review.law.rules import Kind

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.serve is not None
            if self.serve.poll() is not None:
                raise DemoFailed(f"hefa serve 提前退出（{_last_line(self.home / 'serve.log')}），"
                                 f"见 {self.home / 'serve.log'} / hefa serve exited")
            try:
                if all(rest.deployment_id(flow_name(kind)) for kind in Kind):
                    return
            except rest.PrefectUnavailable:
                pass
            time.sleep(0.5)
        raise DemoFailed(f"审查流程 {timeout:.0f} 秒内未部署，见 {self.home / 'serve.log'}"
                         " / deployments did not appear")

    def _enrol(self) -> None:
        from hefa.review.installation import initialise
        from hefa.review.people import officers
        from hefa.review.people.identity import Credentials

        admin = initialise("admin", organ=ORGAN).enrolment  # as `hefa init`: keyed chain, first admin
        assert admin is not None
        self.creds["admin"] = Credentials("admin", token=admin.token)
        for name, role in STAFF:
            enrolment = officers.add_officer(self.creds["admin"], name, role, ORGAN)
            self.creds[name] = Credentials(name, token=enrolment.token)
            self.secrets[name] = enrolment.totp_secret
        # 持证上岗: the two enforcement officers hold a 行政执法证; counsel holds 法律职业资格 (处罚法制审核)
        valid = (dt.date.today() + dt.timedelta(days=730)).isoformat()
        for name in ("zhang", "zhou"):
            officers.set_certificates(self.creds["admin"], name, cert_number=f"演示执法证{name}",
                                      cert_valid_until=valid)
        officers.set_certificates(self.creds["admin"], "li", legal_qualification="演示法律职业资格A001")
        self.say("已登记演示人员 / demo officers: " + "、".join(f"{n}（{r}）" for n, r in STAFF))

    def stop(self) -> None:
        from hefa.app.serve import stop_process

        stop_process(self.serve)

    # --- acting -----------------------------------------------------------------------------

    def act(self, matter: str, who: str, action: str, *, expect: bool = True, **kwargs: Any) -> dict[str, Any]:
        """Record a step as ``who``; an outcome other than the expected one (accepted, or with
        ``expect=False`` refused) is a failure of the demo, with the reason, and stops the scenario."""
        from hefa.desk.server import perform

        answer = perform(action, self.creds[who], {"matter_id": matter, **kwargs} if matter else kwargs)
        verdict = "接受" if answer.get("accepted") else "拒绝"
        detail = answer.get("message") if answer.get("accepted") else answer.get("reason")
        self.say(f"  {matter or answer.get('matter')} {who:<6} {action:<13} {verdict}：{detail}")
        if bool(answer.get("accepted")) != expect:
            raise DemoFailed(f"{matter or '新事项'} {who} {action}：应当{'接受' if expect else '拒绝'}，"
                             f"实际{verdict}（{detail}） / unexpected outcome")
        return answer

    def wait_for_flow(self, matter: str, timeout: float = 180.0) -> None:
        """Until the matter's flow run has caught up and waits at the matter's current stage."""
        from hefa.flows import rest
        from hefa.review.records.queries import status_of, wait_label

        deadline = time.monotonic() + timeout
        state: dict[str, Any] = {}
        key = ""
        while time.monotonic() < deadline:
            view = status_of(matter)
            try:
                run = rest.read_run(view["run_id"]) if view["run_id"] else None
            except rest.PrefectUnavailable:  # a busy Prefect server answers later
                time.sleep(0.5)
                continue
            state = (run or {}).get("state") or {}
            if view["status"] != "open" and state.get("type") == "COMPLETED":
                return
            key = (state.get("state_details") or {}).get("pause_key") or ""
            if state.get("type") == "PAUSED" and key.rsplit("-", 1)[0] == wait_label(view):
                return
            time.sleep(0.2)
        view = status_of(matter)
        raise DemoFailed(f"{matter}: 流程 {timeout:.0f} 秒内未跟上（事项在 {view['stage']}，流程状态 "
                         f"{state.get('type') or '无'} {key}） / flow did not catch up")

    def sign_in(self, who: str, *, code: str | None = None) -> Any:
        """Sign ``who`` in at the front door as a browser would (the first time: the initial
        secret, a code and a new password); with a wrong ``code``, the refusal is printed."""
        import httpx
        import pyotp

        with self.lock:
            if code is None and who in self.signed_in:
                return self.signed_in[who]
        client = httpx.Client(base_url=self.door, timeout=120)
        if code is not None:
            r = client.post("/hefa/sign-in", data={"name": who, "password": DEMO_PASSWORD, "code": code})
            verdict = "接受" if r.status_code == 303 else "拒绝"
            self.say(f"  入口登录 / sign-in {who:<6} 错误动态码 {verdict}：{_refusal_on_page(r.text)}")
            if r.status_code == 303:
                raise DemoFailed(f"{who}: 错误动态码的登录被接受 / a wrong code signed in")
            return None
        r = client.post("/hefa/first-sign-in", data={
            "name": who, "secret": self.creds[who].token, "code": pyotp.TOTP(self.secrets[who]).now(),
            "password": DEMO_PASSWORD, "repeat": DEMO_PASSWORD})
        if r.status_code != 303:
            raise DemoFailed(f"{who}: 入口登录失败（{_refusal_on_page(r.text)}） / sign-in failed")
        with self.lock:
            self.signed_in[who] = client
        return client

    def form(self, matter: str, who: str, fields: dict[str, Any], *, expect: bool = True) -> None:
        """Answer the run's Prefect form as the UI's Resume dialog does, at the front door, signed
        in as ``who``: hefa records (or refuses) the step at once and answers in Prefect's shape."""
        from hefa.review.records.queries import status_of

        run_id = status_of(matter)["run_id"]
        client = self.sign_in(who)
        answer = client.post(f"/api/flow_runs/{run_id}/resume", json={"run_input": fields}).json()
        accepted = answer.get("status") == "ACCEPT"
        detail = (answer.get("details") or {}).get("message" if accepted else "reason", "")
        self.say(f"  {matter} {who:<6} Prefect 表单（入口）{'接受' if accepted else '拒绝'}：{detail}")
        if accepted != expect:
            raise DemoFailed(f"{matter} {who} 表单：应当{'接受' if expect else '拒绝'}，实际"
                             f"{'接受' if accepted else '拒绝'}（{detail}） / unexpected outcome")

    def submit(self, sample: str, kind: str, title: str, flags: tuple[str, ...] = (),
               enforcers: str | None = None) -> str:
        data = (SAMPLES / sample).read_bytes()
        answer = self.act("", "zhang", "submit", kind=kind, title=title, data=data, filename=sample,
                          flags=list(flags), enforcement_officers=enforcers)
        return str(answer["matter"])

    def controls(self, matter: str, flags: tuple[str, ...], reason: str) -> None:
        """Counsel confirms the controls the drafter proposed (确认适用程序), before the opinion."""
        self.act(matter, "li", "controls", flags=list(flags), reason=reason)
        self.wait_for_flow(matter)


# --- the five scenarios ----------------------------------------------------------------------

def _answers(kind: str, **special: str) -> list[str]:
    """Counsel's answer to each item of the kind's checklist (逐项审查结果): 符合 unless given."""
    from hefa.review.law.checklists import checklist_for

    return [f"{i.key}={special.get(i.key, '符合')}" for i in checklist_for(kind).items]


def _normative(d: Demo) -> None:
    m = d.submit("normative_agritourism_draft.docx", "normative-document", "关于促进乡村旅游发展的若干措施")
    d.wait_for_flow(m)
    d.act(m, "zhao", "deliberation", expect=False, decision="approve", attendees="chen,zhao,li",
          presiding="chen")
    d.controls(m, (), "不直接涉及群众切身利益，无须公开征求意见")
    d.act(m, "li", "opinion", conclusion="unlawful",
          reasons="第一条设定罚款、第三条增设许可、第五条设定扣押，违反国办发〔2018〕37号，不得提交审议。",
          items=_answers("normative-document", **{
              "no-new-measures": "不符合:第一条设定罚款、第三条增设许可、第五条设定扣押",
              "authority": "不符合:上述事项超越镇人民政府制定规范性文件的职权"}))
    d.wait_for_flow(m)
    d.act(m, "zhang", "revise", data=(SAMPLES / "normative_clean.docx").read_bytes(),
          filename="normative_clean.docx")
    d.wait_for_flow(m)
    d.sign_in("li", code="000000")  # a wrong one-time code at the front door: refused and audited
    d.form(m, "zhang", {"conclusion": CONCLUSION.term("lawful").label, "reasons": "自己审自己",
                        "items": "\n".join(_answers("normative-document"))}, expect=False)
    d.form(m, "li", {"conclusion": CONCLUSION.term("lawful").label,
                     "reasons": "修改稿已删除罚款、许可、扣押等条款，主体、权限、内容、程序合法。",
                     "items": "\n".join(_answers("normative-document"))})
    d.wait_for_flow(m)
    _finish(d, m, number=f"河政规〔{dt.date.today().year}〕1号",
            urgent_reason="上级限期出台，经主要负责人批准缩短审核时间（国办发〔2018〕115号“原则上”）")
    from hefa.review.records.queries import trail_of

    if not any(e["action"] == "opinion" and e["outcome"] == "refused" and e["channel"] == "web"
               for e in trail_of(m)):
        raise DemoFailed(f"{m}: 起草人在表单中的审查意见未被拒绝并记录 / the drafter's form was not refused")


def _major(d: Demo) -> None:
    m = d.submit("major_decision_market_renovation.docx", "major-decision", "农贸市场改造提升方案",
                 flags=("specialised",))
    today = dt.date.today()
    d.wait_for_flow(m)
    d.controls(m, ("specialised",), "涉及市场改造工程，专业性、技术性较强")
    d.act(m, "zhang", "participation", period_start=(today - dt.timedelta(days=40)).isoformat(),
          period_end=(today - dt.timedelta(days=5)).isoformat(), comment_count=23,
          summary="收到意见23条，采纳15条，未采纳的已说明理由。")
    d.wait_for_flow(m)
    d.act(m, "zhang", "experts", experts="刘教授,王工程师,赵律师", summary="方案技术可行，建议分期实施。")
    d.wait_for_flow(m)
    d.act(m, "wang", "assessment", level="medium", controllable="yes", summary="商户安置风险中等，措施到位后可控。")
    d.wait_for_flow(m)
    d.act(m, "li", "opinion", conclusion="lawful", reasons="决策程序完备，内容合法。",
          items=_answers("major-decision"))
    d.wait_for_flow(m)
    d.act(m, "zhao", "deliberation", decision="approve", attendees="chen,zhao,li,wang", presiding="chen",
          dissent="王某认为应延后施工期。", urgent_reason="汛期前须完成排水改造，经主要负责人批准紧急审议")
    d.wait_for_flow(m)
    _finish(d, m, number="河政决〔2026〕1号")


def _contract(d: Demo) -> None:
    m = d.submit("contract_comprehensive_center.docx", "contract", "综合服务中心建设施工合同", flags=("major",))
    d.wait_for_flow(m)
    d.controls(m, ("major",), "施工合同金额较大，属重大合同")
    d.act(m, "li", "opinion", conclusion="lawful", reasons="合同主体适格，条款合法，违约责任明确。",
          items=_answers("contract"))
    d.wait_for_flow(m)
    _finish(d, m, number="河合〔2026〕7号")


def _penalty(d: Demo) -> None:
    m = d.submit("penalty_decision_draft.docx", "administrative-penalty", "某餐馆违规经营处罚决定",
                 enforcers="zhang,zhou")
    d.wait_for_flow(m)
    d.controls(m, (), "一般程序；不属第六十三条听证情形，情节不复杂")
    d.act(m, "zhang", "hearing", notified_on=dt.date.today().isoformat(), hearing="waived",
          summary="当事人书面放弃听证。")
    d.wait_for_flow(m)
    d.act(m, "li", "opinion", conclusion="lawful", reasons="事实清楚，证据确凿，适用法律正确，程序合法。",
          items=_answers("administrative-penalty", transfer="不适用:未涉嫌犯罪"))
    d.wait_for_flow(m)
    _finish(d, m, number="河罚决〔2026〕12号")


def _licence(d: Demo) -> None:
    m = d.submit("licence_decision_draft.docx", "administrative-licence", "临时占用道路许可决定",
                 enforcers="zhang,zhou")
    d.wait_for_flow(m)
    d.controls(m, (), "非重大执法决定，不涉及听证")
    d.act(m, "li", "opinion", conclusion="lawful", reasons="申请材料齐全，符合法定条件。",
          items=_answers("administrative-licence", transfer="不适用:许可事项不涉及移送"))
    d.wait_for_flow(m)
    _finish(d, m, number="河许〔2026〕3号")


def _finish(d: Demo, m: str, *, number: str, urgent_reason: str = "") -> None:
    """集体讨论 (every kind, by the township's rule) unless done, 签发 by the head where the kind has
    it, then the number (统一编号) or the decision, then filing."""
    from hefa.review.records.queries import status_of

    if status_of(m)["stage"] == "deliberation":
        d.act(m, "zhao", "deliberation", decision="approve", attendees="chen,zhao,li", presiding="chen",
              urgent_reason=urgent_reason)
        d.wait_for_flow(m)
    if status_of(m)["stage"] == "signing":
        d.act(m, "chen", "signing", reference="同意")
        d.wait_for_flow(m)
    signer = "chen" if status_of(m)["waiting_role"] == "head" else "zhao"
    d.act(m, signer, "issuance", number=number)
    d.wait_for_flow(m)
    d.act(m, "sun", "filing", filed_with="县人民政府", receipt=f"备{number[-4:]}")
    d.wait_for_flow(m)


def run_demo(*, keep: bool = False, home: Path | None = None) -> int:
    """Run the demo; returns a process exit code (0 when every matter closed and the chain verifies)."""
    demo = Demo(home or Path.home() / ".hefa-demo")
    try:
        try:
            ui = demo.start()
        except Exception as exc:
            demo.say(f"演示未通过 / demo failed: 启动失败 / could not start: {_reason(exc)}")
            return 1
        scenarios = [_normative, _major, _contract, _penalty, _licence]
        threads = [threading.Thread(target=_guarded, args=(demo, s), daemon=True) for s in scenarios]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return _report(demo, ui, keep)
    except KeyboardInterrupt:
        return 130
    finally:
        if not keep:
            demo.stop()


def _guarded(demo: Demo, scenario: Callable[[Demo], None]) -> None:
    try:
        scenario(demo)
    except Exception as exc:
        demo.failures.append(f"{scenario.__name__.strip('_')}: {_reason(exc)}")


DEMO_PASSWORD = "演示密码-hefa-2026"


def _refusal_on_page(html: str) -> str:
    """The one-line refusal a front-door page shows."""
    import re

    found = re.search(r'id="refused">([^<]*)<', html)
    return found.group(1) if found else ""


class DemoFailed(Exception):
    """An outcome the demo did not expect; the message says which and why."""


def _reason(exc: BaseException) -> str:
    """One line: the demo's own message, or the error's type and first line."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return text if isinstance(exc, DemoFailed) else f"{type(exc).__name__}: {text}"


def _last_line(log: Path) -> str:
    """The last non-empty line of a log (why a process stopped)."""
    try:
        lines = [line for line in log.read_text("utf-8", "replace").splitlines() if line.strip()]
    except OSError:
        return "无日志 / no log"
    return lines[-1].strip()[:300] if lines else "日志为空 / empty log"


def _refuse_if_served(home: Path) -> None:
    """A demo home in use by a running ``hefa serve`` (another demo) is never wiped."""
    import fcntl

    lock = home / "serve.lock"
    if not lock.exists():
        return
    with lock.open("r") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DemoFailed(f"{home} 正被另一个 hefa serve（另一个演示？）使用；请用 --home 另选目录"
                             " / the demo home is in use; choose another with --home") from None


def _report(demo: Demo, ui: str, keep: bool) -> int:
    from hefa.review.errors import HefaError
    from hefa.review.records import audit
    from hefa.review.records.db import read_session
    from hefa.review.records.queries import list_matters, status_of, trail_of

    say = demo.say
    with read_session() as session:
        matters = list_matters(session)
        try:
            chain: audit.VerifyResult | None = audit.verify(session)
        except HefaError as exc:
            chain = None
            demo.failures.append(f"审计链校验失败 / chain does not verify: {exc}")
    for row in reversed(matters):
        view = status_of(row["id"])
        say(f"\n{row['id']} {view['title']}（{view['kind_zh']}）— {view['stage_zh']}")
        for e in trail_of(row["id"]):
            outcome = {"accepted": "接受", "refused": "拒绝", "system": "系统"}.get(e["outcome"], e["outcome"])
            say(f"  {e['seq']:>4} {e['officer'] or '系统':<6} {e['action']:<13} {outcome} {e['reason'][:60]}")
        if view["run_id"]:
            say(f"  Prefect: {ui}/runs/flow-run/{view['run_id']}")
    closed = sum(1 for r in matters if r["status"] == "closed")
    if chain is not None:
        say(f"\n审计链完整 / chain verifies: {chain.count} 个事件，链头 {chain.head}")
    say(f"办结 {closed}/{len(matters)} 个事项；Prefect UI: {ui}（唯一入口：登录后可见 Prefect 界面，"
        "Artifacts 页可查每个事项的审计记录 / the one address: sign in for the Prefect UI）")
    for row in matters:
        if row["status"] != "closed":
            demo.failures.append(f"{row['id']} 未办结，停在 {row['stage']} / not closed")
    if len(matters) != 5:
        demo.failures.append(f"应有 5 个事项，实有 {len(matters)} 个 / expected 5 matters")
    for failure in demo.failures:
        say(f"失败 / failed: {failure}")
    if keep:
        say(f"服务保持运行（数据在 {demo.home}），按 Ctrl-C 结束 / Ctrl-C to stop")
        try:
            while demo.serve and demo.serve.poll() is None:
                time.sleep(1)
        except KeyboardInterrupt:
            demo.stop()
    if demo.failures:
        say(f"演示未通过 / demo failed: {len(demo.failures)} 处问题，见上 / see the failures above")
        return 1
    say("演示通过 / demo passed")
    return 0
