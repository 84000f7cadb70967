"""Measures 11-12: the front door (issue 12), on a real ``hefa serve`` with the bare flow beside it.

11. The API calls the Prefect UI's flow-run page makes, through the front door (session check,
    allow list, proxy) vs straight to the Prefect server: median over rounds of the whole set.
12. A form step answered: counsel's resume POST at the front door → its answer (the step is
    recorded, the run woken) vs the bare Prefect resume → next suspension.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any

import httpx
import pyotp

from .harness import (
    Api,
    Children,
    Result,
    docx_bytes,
    free_port,
    installation,
    make_office,
    median,
    ratio_target,
    start_bare_flow,
    start_hefa_serve,
    state_time,
    tagged_pids,
    wait_for,
)

PASSWORD = "长江黄河-2026-bench"
REASONS = "经审查，合同主体、内容和程序符合法律规定。"


def _page_calls(run_id: str) -> list[tuple[str, str, Any]]:
    """What the flow-run page asks for (Prefect 3.9 UI, seen in the browser's network panel)."""
    flt = {"flow_runs": {"id": {"any_": [run_id]}}}
    return [
        ("GET", f"/api/flow_runs/{run_id}", None),
        ("GET", f"/api/flow_runs/{run_id}/graph-v2", None),
        ("POST", "/api/logs/filter",
         {"logs": {"flow_run_id": {"any_": [run_id]}}, "limit": 50, "sort": "TIMESTAMP_ASC"}),
        ("POST", "/api/task_runs/filter", {**flt, "limit": 50}),
        ("POST", "/api/task_runs/count", flt),
        ("POST", "/api/artifacts/filter", {"artifacts": {"flow_run_id": {"any_": [run_id]}}, "limit": 50}),
        ("POST", "/api/flow_runs/filter", {"flow_runs": {"parent_task_run_id": {"is_null_": False}}, "limit": 1}),
        ("GET", f"/api/flow_run_states/?flow_run_id={run_id}", None),
    ]


def _round(client: httpx.Client, calls: list[tuple[str, str, Any]]) -> float:
    t = time.perf_counter()
    for method, path, body in calls:
        r = client.request(method, path, json=body)
        if r.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {r.status_code} {r.text[:200]}")
    return time.perf_counter() - t


def _answer(door: httpx.Client, run_id: str, run_input: dict[str, Any]) -> None:
    answer = door.post(f"/api/flow_runs/{run_id}/resume", json={"run_input": run_input}).json()
    if answer.get("status") != "ACCEPT":
        raise RuntimeError(f"front door resume refused: {answer}")


def _paused(api: Any, run_id: str, prefix: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = api.state(run_id)
        key = (state.get("state_details") or {}).get("pause_key") or ""
        if state.get("type") == "PAUSED" and key.startswith(prefix):
            return state
        time.sleep(0.05)
    raise TimeoutError(f"run {run_id} did not wait at {prefix}")


def _engines() -> int:
    """Flow-run processes (``python -m prefect.engine``) of this benchmark still alive."""
    count = 0
    for pid in tagged_pids():
        with contextlib.suppress(OSError):
            count += b"prefect.engine" in Path(f"/proc/{pid}/cmdline").read_bytes()
    return count


def _quiet(timeout: float = 120) -> None:
    """Wait until no flow-run process of this benchmark runs (a suspended run's process takes a
    moment to end): a timed step then does not share the machine with the previous one."""
    wait_for(lambda: _engines() == 0, timeout, "flow-run processes to end", interval=0.1)


def _moved_on(api: Any, run_id: str, state_id: str | None, timeout: float = 180) -> None:
    """Wait until a woken run has left the state it waited in and waits again (or has ended)."""
    def moved() -> bool:
        state = api.state(run_id)
        return state.get("id") != state_id and state.get("type") in ("PAUSED", "COMPLETED", "FAILED", "CRASHED")
    wait_for(moved, timeout, f"run {run_id} to move on", interval=0.1)


def _bare_phases(api: Any, run_id: str) -> tuple[list[float], list[float]]:
    """From the bare run's state history, per resume: the runner's pick-up (Resuming → Pending,
    bounded by PREFECT_RUNNER_POLL_FREQUENCY) and the new flow process's start (Pending → Running)."""
    states = sorted(api.call("GET", f"/flow_run_states/?flow_run_id={run_id}") or [], key=state_time)
    pick_up, start_up = [], []
    for i, state in enumerate(states):
        if state.get("name") != "Resuming":
            continue
        pending = next((s for s in states[i + 1:] if s["type"] == "PENDING"), None)
        running = next((s for s in states[i + 1:] if s["type"] == "RUNNING"), None)
        if pending and running:
            pick_up.append(state_time(pending) - state_time(state))
            start_up.append(state_time(running) - state_time(pending))
    return pick_up, start_up


def run(quick: bool) -> list[Result]:
    rounds = 10 if quick else 30
    n_steps = 4 if quick else 10
    children = Children()
    results: list[Result] = []
    with installation("front") as inst:
        port = free_port()
        inst.env["HEFA_WEB_PORT"] = str(port)
        try:
            make_office(inst)
            from hefa.review.people import officers
            from hefa.review.services.steps import SERVICES, Credentials

            counsel = officers.add_officer(Credentials("admin", token=inst.tokens["admin"]), "fdli", "counsel",
                                           "河东镇人民政府")
            # the Prefect server first, given time (a loaded machine can take minutes); hefa serve uses it
            from hefa.app.serve import prefect_executable

            api_port = inst.env["PREFECT_API_URL"].rsplit(":", 1)[1].split("/")[0]
            (inst.home / "prefect").mkdir(exist_ok=True)
            children.spawn([prefect_executable(), "server", "start", "--host", "127.0.0.1", "--port", api_port],
                           inst.env | {"PREFECT_SERVER_API_AUTH_STRING": inst.env["PREFECT_API_AUTH_STRING"]},
                           inst.home / "prefect" / "server.log")
            wait_for(lambda: Api(inst.env["PREFECT_API_URL"]).healthy(), 400, "the Prefect server", interval=1)
            _, api = start_hefa_serve(children, inst)
            _, bare_dep = start_bare_flow(children, inst)
            door = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
            r = door.post("/hefa/first-sign-in", data={
                "name": "fdli", "secret": counsel.token, "code": pyotp.TOTP(counsel.totp_secret).now(),
                "password": PASSWORD, "repeat": PASSWORD})
            if r.status_code != 303:
                raise RuntimeError(f"front door sign-in failed: {r.status_code} {r.text[:300]}")
            # straight to Prefect, as hefa's own processes reach it (with the installation's auth string)
            direct = httpx.Client(base_url=inst.env["PREFECT_API_URL"].removesuffix("/api"), timeout=30,
                                  auth=tuple(inst.env["PREFECT_API_AUTH_STRING"].split(":", 1)))  # type: ignore[arg-type]

            data = docx_bytes(["第一条 甲方委托乙方提供物业服务。", "第二条 服务期限一年。"])
            matters: list[tuple[str, str]] = []
            for i in range(n_steps):
                outcome = SERVICES["submit"](Credentials("zhang", token=inst.tokens["zhang"]), kind="contract",
                                             title=f"物业服务合同 {i}", data=data, filename="c.docx")
                from hefa.flows import notify

                run = notify.start_matter_run(outcome.matter_id)
                matters.append((outcome.matter_id, str(run["id"])))
            for _, run_id in matters:
                state = _paused(api, run_id, "")
                if (state.get("state_details") or {}).get("pause_key", "").startswith("controls-"):
                    _answer(door, run_id, {"flags": "", "reason": "不涉及附加程序"})  # 确认适用程序, per kind
                _paused(api, run_id, "review-v1")

            # measure 11: the flow-run page's API calls
            calls = _page_calls(matters[0][1])
            via, straight = [], []
            for _ in range(2):  # warm both paths
                _round(door, calls), _round(direct, calls)
            for i in range(rounds):  # the same calls, the same clients, turn about (neither always goes first)
                if i % 2:
                    straight.append(_round(direct, calls))
                    via.append(_round(door, calls))
                else:
                    via.append(_round(door, calls))
                    straight.append(_round(direct, calls))
            results.append(ratio_target("11 flow-run page API calls via the front door", median(via),
                                        median(straight), 1.2,
                                        note=f"{len(calls)} calls, median of {rounds}; baseline: straight to Prefect"))

            # measure 12: a form step answered vs the bare resume → next suspension
            bare = api.call("POST", f"/deployments/{bare_dep}/create_flow_run",
                            {"parameters": {"steps": 1000}, "name": "bare-front"})
            state = _paused(api, bare["id"], "")
            answered, bare_steps = [], []
            from hefa.review import vocabulary as vocab

            opinion = {"conclusion": vocab.CONCLUSION.term("lawful").label, "reasons": REASONS}
            from hefa.review.law.checklists import checklist_for

            opinion["items"] = "\n".join(f"{i.key}=符合" for i in checklist_for("contract").items)  # 逐项审查结果
            for _matter, run_id in matters:
                _quiet()
                before = api.state(run_id).get("id")
                t = time.perf_counter()
                _answer(door, run_id, opinion)
                answered.append(time.perf_counter() - t)
                # the run the answer woke must not share the machine with the bare step: let it reach
                # its next wait (or its end) and its flow process finish first
                _moved_on(api, run_id, before)
                _quiet()
                t0 = time.time()
                reply = api.call("POST", f"/flow_runs/{bare['id']}/resume",
                                 {"run_input": {"conclusion": "lawful", "reasons": REASONS}})
                if (reply or {}).get("status") != "ACCEPT":
                    raise RuntimeError(f"bare resume refused: {reply}")
                seen, state = api.wait_paused(bare["id"], state["id"])
                bare_steps.append(seen - t0)
            pick_up, start_up = _bare_phases(api, bare["id"])
            results.append(ratio_target("12 form step answered at the front door (resume POST → answer)",
                                        median(answered), median(bare_steps), 0.2,
                                        note=f"median of {n_steps}; baseline: bare resume → next suspension "
                                             f"(of which the runner's pick-up {median(pick_up):.1f} s, the new "
                                             f"flow process's start {median(start_up):.1f} s)"))
        finally:
            with contextlib.suppress(Exception):
                door.close()
            children.stop_all()
    return results
