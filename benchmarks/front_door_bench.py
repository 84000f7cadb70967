"""Measures 11-12: the front door (issue 12), on a real ``hefa serve`` with the bare flow beside it.

11. The API calls the Prefect UI's flow-run page makes, through the front door (session check,
    allow list, proxy) vs straight to the Prefect server: median over rounds of the whole set.
12. A form step answered: counsel's resume POST at the front door → its answer (the step is
    recorded, the run woken) vs the bare Prefect resume → next suspension.
"""

from __future__ import annotations

import contextlib
import time
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


def _paused(api: Any, run_id: str, prefix: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = api.state(run_id)
        key = (state.get("state_details") or {}).get("pause_key") or ""
        if state.get("type") == "PAUSED" and key.startswith(prefix):
            return state
        time.sleep(0.05)
    raise TimeoutError(f"run {run_id} did not wait at {prefix}")


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
                           inst.env, inst.home / "prefect" / "server.log")
            wait_for(lambda: Api(inst.env["PREFECT_API_URL"]).healthy(), 400, "the Prefect server", interval=1)
            _, api = start_hefa_serve(children, inst)
            _, bare_dep = start_bare_flow(children, inst)
            door = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
            r = door.post("/hefa/first-sign-in", data={
                "name": "fdli", "secret": counsel.token, "code": pyotp.TOTP(counsel.totp_secret).now(),
                "password": PASSWORD, "repeat": PASSWORD})
            if r.status_code != 303:
                raise RuntimeError(f"front door sign-in failed: {r.status_code} {r.text[:300]}")
            direct = httpx.Client(base_url=inst.env["PREFECT_API_URL"].removesuffix("/api"), timeout=30)

            data = docx_bytes(["第一条 甲方委托乙方提供物业服务。", "第二条 服务期限一年。"])
            matters: list[tuple[str, str]] = []
            for i in range(n_steps):
                outcome = SERVICES["submit"](Credentials("zhang", token=inst.tokens["zhang"]), kind="contract",
                                             title=f"物业服务合同 {i}", data=data, filename="c.docx")
                from hefa.flows import notify

                run = notify.start_matter_run(outcome.matter_id)
                matters.append((outcome.matter_id, str(run["id"])))
            for _, run_id in matters:
                _paused(api, run_id, "review-v1")

            # measure 11: the flow-run page's API calls
            calls = _page_calls(matters[0][1])
            via, straight = [], []
            for _ in range(2):  # warm both paths
                _round(door, calls), _round(direct, calls)
            for _ in range(rounds):
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

            for _matter, run_id in matters:
                t = time.perf_counter()
                answer = door.post(f"/api/flow_runs/{run_id}/resume", json={"run_input": {
                    "conclusion": vocab.CONCLUSION.term("lawful").label, "reasons": REASONS}}).json()
                answered.append(time.perf_counter() - t)
                if answer.get("status") != "ACCEPT":
                    raise RuntimeError(f"front door resume refused: {answer}")
                t0 = time.time()
                reply = api.call("POST", f"/flow_runs/{bare['id']}/resume",
                                 {"run_input": {"conclusion": "lawful", "reasons": REASONS}})
                if (reply or {}).get("status") != "ACCEPT":
                    raise RuntimeError(f"bare resume refused: {reply}")
                seen, state = api.wait_paused(bare["id"], state["id"])
                bare_steps.append(seen - t0)
            results.append(ratio_target("12 form step answered at the front door (resume POST → answer)",
                                        median(answered), median(bare_steps), 0.2,
                                        note=f"median of {n_steps}; baseline: bare resume → next suspension"))
        finally:
            with contextlib.suppress(Exception):
                door.close()
            children.stop_all()
    return results
