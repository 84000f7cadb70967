"""The parts of the end-to-end flow tests (``test_flows_e2e*.py``): a matter under test, the
installation it runs in, and talking to hefa and Prefect as people and the UI do. Two test modules
share them, so that two test workers can drive them at once (``--dist loadfile`` keeps a module in
one worker)."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import subprocess
import threading
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from hefa.review import vocabulary as vocab
from tests.conftest import (
    CLEAN,
    Office,
    Served,
    add_team,
    checklist_text,
    fresh_code,
    hefa_bin,
    item_args,
    run_state,
    wait_for,
)

# How long a step's run may take to reach its next suspension. On a loaded two-core machine
# Prefect's runner took 50–60 s to start runs resumed together (a clean-clone CI run, the six kinds
# driven at once beside another worker's served tests): a slow flow is delayed, not lost; a lost
# step still fails here.
STEP_TIMEOUT = 120.0
_numbers = itertools.count(1)
_numbers_lock = threading.Lock()


# --- one matter under test -------------------------------------------------------------------

@dataclass
class Matter:
    served: Served
    office: Office
    team: dict[str, str]
    id: str
    run_id: str
    kind: str
    key: str = ""  # the pause key of the suspension the run waits in
    form_secrets: list[str] = field(default_factory=list)  # free text typed into forms

    def status(self) -> dict[str, Any]:
        from hefa.review.records import queries

        return queries.status_of(self.id)

    def label(self) -> str:
        from hefa.review.records import queries

        return queries.wait_label(self.status())


def certify_team(office: Office, team: dict[str, str]) -> str:
    """Two of the team hold a valid 行政执法证 (处罚法 第四十二条) and its counsel 法律职业资格
    (第五十八条第二款); returns the two names as ``hefa submit --officers`` takes them."""
    from hefa.review.people import officers

    enforcers = (team["drafter"], team["assessor"])
    for name in enforcers:
        officers.set_certificates(office["admin"], name, cert_number=f"ZF-{name}", cert_valid_until="2030-12-31")
    officers.set_certificates(office["admin"], team["counsel"], legal_qualification=f"A-{team['counsel']}")
    return ",".join(enforcers)


@dataclass
class Env:
    served: Served
    office: Office
    tmp: Path

    def submit(self, kind: str, prefix: str, data: bytes = CLEAN, flags: tuple[str, ...] = ()) -> Matter:
        team = add_team(self.office, prefix)
        path = self.tmp / f"{prefix}-{uuid.uuid4().hex[:6]}.docx"
        path.write_bytes(data)
        args = ["submit", str(path), "--kind", kind, "--title", f"测试事项 {prefix}"]
        for flag in flags:
            args += ["--flag", flag]
        if kind in ("administrative-penalty", "administrative-licence"):  # 持证上岗 (issue 14)
            args += ["--officers", certify_team(self.office, team)]
        answer = cli(self.served, self.office, team["drafter"], *args)
        run_id = answer["flow_run_id"]
        if not run_id:  # Prefect answered 503 too long (SQLite busy): the reconciler starts it
            from hefa.review.records import queries

            run_id = wait_for(lambda: queries.status_of(answer["matter"])["run_id"], 30, 0.5,
                              f"hefa serve to start {answer['matter']}'s run")
        matter = Matter(self.served, self.office, team, answer["matter"], run_id, kind)
        matter.key = wait_paused(matter)
        if matter.label().startswith("controls-"):  # counsel confirms the drafter's controls (确认适用程序)
            answer = resume_form(self.served, self.office, team["counsel"], run_id,
                                 {"flags": ",".join(flags), "reason": "按起草人提出的标记 / as proposed"})
            assert answer["status"] == "ACCEPT", answer
            settle(matter)
        return matter




# --- talking to hefa and Prefect --------------------------------------------------------------

def run_cli(served: Served, office: Office, officer: str, *args: str,
            json_out: bool = True) -> subprocess.CompletedProcess[str]:
    command = [hefa_bin(), *args, "--as", officer] + (["--json"] if json_out else [])
    return subprocess.run(command, env=served.env | {"HEFA_TOKEN": office.tokens[officer]},
                          capture_output=True, text=True, timeout=60)


def cli(served: Served, office: Office, officer: str, *args: str) -> dict[str, Any]:
    """Run one ``hefa`` step that must be accepted; its JSON answer."""
    done = run_cli(served, office, officer, *args)
    assert done.returncode == 0, f"hefa {' '.join(args)} → {done.returncode}\n{done.stdout}\n{done.stderr}"
    return json.loads(done.stdout)


PASSWORD = "长江黄河-2026-e2e"
_DOORS: dict[tuple[str, str], httpx.Client] = {}
_DOORS_LOCK = threading.Lock()


def front_door(served: Served, office: Office, officer: str) -> httpx.Client:
    """A client of the served front door signed in as ``officer`` (first sign-in once)."""
    base = f"http://127.0.0.1:{served.env['HEFA_WEB_PORT']}"
    with _DOORS_LOCK:
        if (base, officer) not in _DOORS:
            client = httpx.Client(base_url=base, timeout=60)
            r = client.post("/hefa/first-sign-in", data={
                "name": officer, "secret": office.tokens[officer], "code": fresh_code(office, officer),
                "password": PASSWORD, "repeat": PASSWORD})
            assert r.status_code == 303, r.text[-500:]
            _DOORS[(base, officer)] = client
        return _DOORS[(base, officer)]


def resume_form(served: Served, office: Office, officer: str, run_id: str,
                run_input: dict[str, Any]) -> dict[str, Any]:
    """Resume the run with a form input as the Prefect UI's Resume dialog does, through the
    front door signed in as ``officer``; hefa's answer in Prefect's shape."""
    r = front_door(served, office, officer).post(f"/api/flow_runs/{run_id}/resume", json={"run_input": run_input})
    assert r.status_code == 200, r.text[-500:]
    return r.json()


def wait_paused(matter: Matter, *, after: str | None = None, timeout: float = STEP_TIMEOUT,
                interval: float = 0.2, or_completed: bool = False, form: bool = True,
                restarted: bool = False) -> str:
    """Wait until the run is suspended waiting for what its matter waits for (the wait label),
    under a key other than ``after``; returns the pause key (or "" when ``or_completed`` and
    the run completed a closed matter). With ``form``, also wait until the run's form is
    stored when the matter waits for one. ``restarted``: ``hefa serve`` was just restarted, and
    a run it stopped mid-step may show Crashed or Cancelled until the new one reschedules it."""

    def paused() -> str | None:
        state = run_state(matter.run_id)
        stopped = ("FAILED",) if restarted else ("FAILED", "CRASHED", "CANCELLED")
        assert state.get("type") not in stopped, state
        if or_completed and state.get("type") == "COMPLETED":
            assert matter.status()["status"] == "closed"
            return "completed"
        key = (state.get("state_details") or {}).get("pause_key") or ""
        if state.get("type") != "PAUSED" or key == after or not key.startswith(matter.label() + "-"):
            return None
        # Prefect stores the form's schema just after the run turns PAUSED: until then the
        # Resume dialog has no form and a resume is refused ("Run input schema not found").
        schema = f"/flow_runs/{matter.run_id}/input/suspended-{key}-schema"
        if form and waits_for_form(matter) and api("GET", schema) is None:
            return None
        return key

    found = wait_for(paused, timeout, interval, f"{matter.id} to wait for {matter.label()}")
    return "" if found == "completed" else found


def waits_for_form(matter: Matter) -> bool:
    from hefa.flows.inputs import FORMS
    from hefa.review.law.rules import Step

    view = matter.status()
    return view["status"] == "open" and not view["needs_revision"] and Step(view["stage"]) in FORMS


def wait_completed(matter: Matter, timeout: float = STEP_TIMEOUT) -> None:
    def completed() -> bool:
        state = run_state(matter.run_id)
        assert state.get("type") not in ("FAILED", "CRASHED", "CANCELLED"), state
        return state.get("type") == "COMPLETED"

    wait_for(completed, timeout, 0.2, f"{matter.id}'s run to complete")


def api(method: str, path: str, body: Any = None) -> Any:
    from hefa.flows import rest

    return rest.call(method, path, body)


def _paged(path: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    while True:
        page = api("POST", path, body | {"limit": 200, "offset": len(rows)}) or []
        rows += page
        if len(page) < 200:
            return rows


def run_inputs(run_id: str) -> list[dict[str, Any]]:
    return api("POST", f"/flow_runs/{run_id}/input/filter", {"prefix": "suspended-", "limit": 100}) or []


def run_logs(run_id: str) -> list[dict[str, Any]]:
    return _paged("/logs/filter", {"logs": {"flow_run_id": {"any_": [run_id]}}})


def run_artifacts(run_id: str) -> list[dict[str, Any]]:
    return _paged("/artifacts/filter", {"artifacts": {"flow_run_id": {"any_": [run_id]}}})


def latest_artifact(key: str) -> dict[str, Any] | None:
    found = api("POST", "/artifacts/filter",
                {"artifacts": {"key": {"any_": [key]}}, "sort": "CREATED_DESC", "limit": 1}) or []
    return found[0] if found else None


def trail(matter: Matter) -> list[dict[str, Any]]:
    from hefa.review.records import queries

    return queries.trail_of(matter.id)


def audit_payloads(matter: Matter) -> list[str]:
    from hefa.review.records import audit
    from hefa.review.records.db import read_session

    with read_session() as session:
        return [e.payload for e in audit.events_for(session, matter.id)]


# --- the steps, through the CLI or the form ---------------------------------------------------

def today() -> dt.date:
    from hefa.review.config import today as hefa_today

    return hefa_today()


def _doc_number(kind: str) -> str:
    with _numbers_lock:
        n = next(_numbers)
    return f"河政规〔{today().year}〕{n}号" if kind == "normative-document" else f"HT-{n:04d}"


STEP_ROLE = {"participation": "drafter", "experts": "drafter", "hearing": "drafter",
             "assessment": "assessor", "review": "counsel", "deliberation": "secretary",
             "filing": "filing_officer", "signing": "head", "controls": "counsel"}


def role_for(matter: Matter, stage: str) -> str:
    if stage == "issuance":
        return "secretary" if matter.kind in ("normative-document", "major-decision") else "head"
    return STEP_ROLE[stage]


def cli_args(matter: Matter, stage: str, choice: str | None) -> list[str]:
    d = today()
    mid = matter.id
    if stage == "participation":
        return ["participation", mid, "--start", str(d - dt.timedelta(days=45)),
                "--end", str(d - dt.timedelta(days=1)), "--comments", "3", "--summary", "采纳2条"]
    if stage == "experts":
        return ["experts", mid, "--experts", "甲专家,乙专家", "--summary", "可行", "--held-on", str(d)]
    if stage == "hearing":
        return ["hearing", mid, "--notified-on", str(d), "--hearing", "waived", "--summary", "放弃"]
    if stage == "assessment":
        return ["assess", mid, "--level", "low", "--controllable", "yes", "--summary", "风险可控"]
    if stage == "review":
        return ["opinion", mid, "--conclusion", choice or "lawful", "--reasons", "依据充分，程序合法",
                "--version", str(matter.status()["current_version"]["number"]), *item_args(matter.kind)]
    if stage == "deliberation":
        return ["deliberate", mid, "--decision", choice or "approve", "--attendees", "张三,李四,王五",
                "--presiding", matter.team["head"], "--urgent-reason", "测试：会期已定"]
    if stage == "signing":
        return ["sign", mid, "--date", str(d), "--remarks", "同意"]
    if stage == "issuance":
        return ["publish", mid, "--number", _doc_number(matter.kind), "--date", str(d)]
    if stage == "filing":
        return ["file", mid, "--filed-with", "县司法局", "--receipt", f"BA-{uuid.uuid4().hex[:6]}",
                "--date", str(d)]
    raise AssertionError(stage)


def label(vocabulary: vocab.Vocabulary, code: str) -> str:
    """What the form's drop-down shows for a code (the vocabulary's label)."""
    return vocabulary.term(code).label


def form_fields(matter: Matter, stage: str, choice: str | None) -> dict[str, Any]:
    d = today()
    if stage == "participation":
        return {"period_start": str(d - dt.timedelta(days=45)), "period_end": str(d - dt.timedelta(days=1)),
                "comment_count": 3, "summary": "采纳2条"}
    if stage == "experts":
        return {"experts": "甲专家,乙专家", "summary": "可行", "held_on": str(d)}
    if stage == "hearing":
        return {"notified_on": str(d), "hearing": label(vocab.HEARING, "waived"), "summary": "放弃"}
    if stage == "assessment":
        return {"level": label(vocab.RISK_LEVEL, "low"), "controllable": label(vocab.CONTROLLABLE, "yes"),
                "summary": "风险可控"}
    if stage == "review":
        return {"conclusion": label(vocab.CONCLUSION, choice or "lawful"), "reasons": "依据充分，程序合法",
                "items": checklist_text(matter.kind)}
    if stage == "deliberation":
        return {"decision": label(vocab.DECISION, choice or "approve"),
                "meeting_kind": label(vocab.MEETING_KIND, "常务会议"),
                "meeting_date": str(d), "attendees": "张三,李四,王五", "presiding": matter.team["head"],
                "head_spoke_last": True, "dissent": "", "urgent_reason": "测试：会期已定"}
    if stage == "signing":
        return {"held_on": str(d), "reference": "同意"}
    if stage == "issuance":
        return {"number": _doc_number(matter.kind), "published_on": str(d)}
    if stage == "filing":
        return {"filed_with": "县司法局", "receipt": f"BA-{uuid.uuid4().hex[:6]}", "filed_on": str(d)}
    raise AssertionError(stage)


def by_cli(matter: Matter, choice: str | None = None, *, wait: bool = True) -> dict[str, Any]:
    """Take the step the matter waits for with the ``hefa`` CLI, then wait for the next suspension."""
    stage = matter.status()["stage"]
    officer = matter.team[role_for(matter, stage)]
    answer = cli(matter.served, matter.office, officer, *cli_args(matter, stage, choice))
    if wait:
        settle(matter)
    return answer


def form_input(matter: Matter, stage: str, choice: str | None = None) -> dict[str, Any]:
    fields = form_fields(matter, stage, choice)
    matter.form_secrets += [v for k, v in fields.items() if k in ("reasons", "summary") and v]
    return fields


def by_form(matter: Matter, choice: str | None = None, *, officer: str | None = None,
            wait: bool = True) -> dict[str, Any]:
    """Take the step through the resume form at the front door (must be accepted at once),
    then wait for the next suspension."""
    stage = matter.status()["stage"]
    officer = officer or matter.team[role_for(matter, stage)]
    answer = resume_form(matter.served, matter.office, officer, matter.run_id, form_input(matter, stage, choice))
    assert answer["status"] == "ACCEPT", answer
    if wait:
        settle(matter)
    return answer


def settle(matter: Matter, *, restarted: bool = False) -> None:
    """Wait for the run's next suspension (a fresh key), or its completion when the matter closed.

    After a form input the database changes only when the flow takes it, so either may come."""
    from hefa.review.records import queries

    matter.key = wait_paused(matter, after=matter.key, or_completed=True, restarted=restarted)
    if matter.key:
        assert queries.wait_label(matter.status()) == matter.key.rsplit("-", 1)[0]
    else:
        wait_completed(matter)


def accepted_counts(matter: Matter) -> Counter[str]:
    return Counter(e["action"] for e in trail(matter) if e["outcome"] == "accepted")


def refused(matter: Matter, action: str) -> list[dict[str, Any]]:
    return [e for e in trail(matter) if e["outcome"] == "refused" and e["action"] == action]


# --- checks shared by the tests ---------------------------------------------------------------

def assert_nothing_typed_stays(matter: Matter) -> None:
    """No form response is left in Prefect; nothing typed into a form (its free text) is in
    Prefect's inputs, logs or artifacts; no token is there or in the audit payloads."""
    from hefa.flows import rest

    inputs = run_inputs(matter.run_id)
    if waits_for_form(matter):  # (a revision is awaited without a form; a closed run, none)
        assert inputs, "the waiting form's schema should be stored"
    assert not [i["key"] for i in inputs if i["key"].endswith("-response")], inputs
    for item in inputs:
        assert rest.call("GET", f"/flow_runs/{matter.run_id}/input/{item['key']}") is not None
    in_prefect = [i["value"] for i in inputs]
    in_prefect += [log["message"] for log in run_logs(matter.run_id)]
    in_prefect += [json.dumps(a.get("data"), ensure_ascii=False) + str(a.get("description"))
                   for a in run_artifacts(matter.run_id)]
    assert len(in_prefect) > 3
    for typed in [*matter.form_secrets, *matter.office.tokens.values()]:
        leaked = [t[:200] for t in in_prefect if typed in (t or "")]
        assert not leaked, f"something typed by an officer stays in Prefect: {leaked}"
    payloads = audit_payloads(matter)
    for token in matter.office.tokens.values():
        assert not [p for p in payloads if token in p], "a token in the audit"


def assert_finished(matter: Matter, expected_steps: dict[str, int]) -> None:
    """The run completed, the matter is closed, each step is recorded exactly as often as it
    was taken, and the artifacts show the whole, latest trail."""
    from hefa.review.documents import generated

    assert run_state(matter.run_id)["type"] == "COMPLETED"
    view = matter.status()
    assert view["status"] == "closed", view["stage"]
    counts = accepted_counts(matter)
    assert counts["submit"] == 1 and counts["flow-run"] == 0  # attaching a run is a system event
    assert counts["controls"] == 1  # 确认适用程序, taken in ``Env.submit`` (issue 14)
    for action, times in expected_steps.items():
        assert counts[action] == times, (action, counts)
    unexpected = set(counts) - set(expected_steps) - {"submit", "controls"}
    assert not unexpected, unexpected
    events = trail(matter)
    assert sum(e["action"] == "flow-run" for e in events) == 1
    documents = generated.documents_of(matter.id)
    assert len({d["source"] for d in documents}) == len(documents)
    assert sum(e["action"] == "document" for e in events) == len(documents)
    assert len(view["opinions"]) == expected_steps.get("opinion", 0)
    assert len(view["deliberations"]) == expected_steps.get("deliberation", 0)
    assert len(view["issuance"]) == 1 and len(view["filing"]) == 1

    table = wait_for(lambda: latest_artifact(f"audit-{matter.id.lower()}"), 10, 0.2, "audit artifact")
    assert table["type"] == "table"
    rows = json.loads(table["data"]) if isinstance(table["data"], str) else table["data"]
    assert [r["序号 seq"] for r in rows] == [e["seq"] for e in events]
    summary = latest_artifact(f"matter-{matter.id.lower()}")
    assert summary is not None and summary["type"] == "markdown"
    assert matter.id in summary["data"] and "已结束" in summary["data"]


def assert_no_failed_states(matter: Matter, restarts: int = 0) -> None:
    """No state of the run failed; a run ``hefa serve`` stopped mid-step may have been Crashed
    (its process got the SIGTERM) or Cancelled (by Prefect's runner) once per restart. One stop can
    leave both records back to back (the runner cancels, then the process exits on the SIGTERM):
    consecutive stop states count as one stop."""
    from hefa.flows import rest

    states = sorted(rest.call("GET", f"/flow_run_states/?flow_run_id={matter.run_id}") or [],
                    key=lambda state: state["timestamp"])
    assert not [s for s in states if s["type"] == "FAILED"], states
    stop_types = ("CRASHED", "CANCELLED")
    stops = [s for i, s in enumerate(states)
             if s["type"] in stop_types and (i == 0 or states[i - 1]["type"] not in stop_types)]
    assert len(stops) <= restarts, [(s["type"], s.get("message")) for s in states if s["type"] in stop_types]


def hefa_verify(served: Served) -> dict[str, Any]:
    done = subprocess.run([hefa_bin(), "verify", "--json"], env=served.env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    answer = json.loads(done.stdout)
    assert answer["ok"] is True
    return answer


# --- the tests ------------------------------------------------------------------------------

KINDS = [  # kind, flags, the stages the matter passes after submission and 确认适用程序
    ("normative-document", (), ["review", "deliberation", "signing", "issuance", "filing"]),
    ("major-decision", ("specialised",),
     ["participation", "experts", "assessment", "review", "deliberation", "signing", "issuance", "filing"]),
    ("contract", ("major",), ["review", "deliberation", "issuance", "filing"]),
    # the township's rule: every kind goes to collective deliberation after the opinion (issue 14)
    ("administrative-penalty", (), ["hearing", "review", "deliberation", "issuance", "filing"]),
    ("administrative-licence", (), ["review", "deliberation", "issuance", "filing"]),
]
ACTION = {"review": "opinion", "participation": "participation", "experts": "experts",
          "hearing": "hearing", "assessment": "assessment", "deliberation": "deliberation",
          "issuance": "issuance", "filing": "filing", "signing": "signing", "controls": "controls"}
