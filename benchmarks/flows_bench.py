"""Measures 1, 2 and 7, and issue 3's submit → first suspension: hefa's steps
against a bare Prefect flow of the same shape, on the same Prefect server.

One ``hefa serve`` (with its own Prefect server on a free port) and one bare
flow served with ``flow.serve`` run side by side; steps alternate between them,
each waiting for its run to suspend again before the next, so both see the same
machine.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from .harness import (
    CONTRACT,
    HEFA,
    Api,
    Children,
    Install,
    Result,
    docx_bytes,
    installation,
    make_office,
    median,
    ratio_target,
    report,
    run_timed,
    start_bare_flow,
    start_hefa_serve,
    state_time,
    wait_for,
)

REASONS = "合同主体适格，内容不违反法律、行政法规的强制性规定。"


def _submit(inst: Install, doc: str, title: str) -> tuple[float, str, str]:
    """``hefa submit`` as a drafter would: (wall seconds, matter id, flow run id)."""
    wall, done = run_timed([HEFA, "submit", doc, "--kind", "contract", "--title", title,
                            "--as", "zhang", "--json"], inst.cli_env("zhang"))
    if done.returncode != 0:
        raise RuntimeError(f"hefa submit failed: {done.stderr.decode()[-800:]}")
    data = json.loads(done.stdout)
    if not data.get("flow_run_id"):
        raise RuntimeError(f"hefa submit created no flow run: {data}")
    return wall, data["matter"], data["flow_run_id"]


STEP_COMMANDS = {
    "review": ("li", ["opinion", "--conclusion", "lawful", "--reasons", REASONS, "--version", "1"]),
    "issuance": ("chen", ["publish", "--number", "河东合〔2026〕{n}号"]),
    "filing": ("sun", ["file", "--filed-with", "河东镇司法所", "--receipt", "BA-{n}"]),
}


def _step_cmd(stage: str, matter: str, n: int) -> tuple[str, list[str]]:
    officer, args = STEP_COMMANDS[stage]
    return officer, [HEFA, args[0], matter, *(a.format(n=n) for a in args[1:]), "--as", officer, "--json"]


def _step_in_process(inst: Install, stage: str, matter: str, n: int) -> None:
    """The same service the CLI calls, then the same REST wake — minus process start-up."""
    from hefa.flows.rest import wake
    from hefa.review.records.db import read_session
    from hefa.review.records.models import Matter
    from hefa.review.services import steps

    officer, _ = STEP_COMMANDS[stage]
    creds = steps.Credentials(officer, token=inst.tokens[officer])
    if stage == "review":
        steps.record_opinion(creds, matter, conclusion="lawful", reasons=REASONS)
    elif stage == "issuance":
        steps.record_issuance(creds, matter, number=f"河东合〔2026〕{n}号")
    else:
        steps.record_filing(creds, matter, filed_with="河东镇司法所", receipt=f"BA-{n}")
    with read_session() as s:
        run_id = s.get(Matter, matter).run_id  # type: ignore[union-attr]
    wake(run_id)


def _stage_of(matter: str) -> str:
    from hefa.review.records.db import read_session
    from hefa.review.records.models import Matter

    with read_session() as s:
        m = s.get(Matter, matter)
        assert m is not None
        return m.stage if m.status == "open" else m.status


def run(quick: bool, *, postgres: bool = False, instant: bool = True) -> list[Result]:
    backend = "postgres" if postgres else "sqlite"
    n_steps = 10 if quick else 30
    n_first = 3 if quick else 8
    n_instant = 20 if quick else 100
    # after measure 1 each matter has one measured instant step left (issuance was reached long
    # ago: the first step on it is not counted); a fresh matter gives two (issuance, filing)
    extra = max(0, -(-(n_instant - n_steps) // 2)) if instant else 0
    children = Children()
    results: list[Result] = []
    with installation("steps", postgres=postgres) as inst:
        try:
            make_office(inst)
            doc = inst.home / "contract.docx"
            doc.write_bytes(docx_bytes(CONTRACT))
            t = time.perf_counter()
            _, api = start_hefa_serve(children, inst)
            _, bare_dep = start_bare_flow(children, inst)
            print(f"  [{backend}] hefa serve + bare flow ready in {time.perf_counter() - t:.1f} s", flush=True)

            # submit → first suspension, hefa and bare alternately
            hefa_first, hefa_first_created, bare_first = [], [], []
            matters: list[tuple[str, str]] = []
            paused: dict[str, str] = {}
            bare_runs: list[str] = []
            for i in range(n_first):
                t0 = time.time()
                _, matter, run_id = _submit(inst, str(doc), f"物业服务合同 {i}")
                seen, state = api.wait_paused(run_id)
                created = state_time({"timestamp": api.call("GET", f"/flow_runs/{run_id}")["created"]})
                hefa_first.append(seen - t0)
                hefa_first_created.append(seen - created)
                matters.append((matter, run_id))
                paused[run_id] = state["id"]
                t0 = time.time()
                bare = api.call("POST", f"/deployments/{bare_dep}/create_flow_run",
                                {"parameters": {"steps": 1000}, "name": f"bare-{i}"})
                seen, state = api.wait_paused(bare["id"])
                bare_first.append(seen - t0)
                bare_runs.append(bare["id"])
                paused[bare["id"]] = state["id"]
            results.append(ratio_target(
                "submit → first suspension (issue 3)", median(hefa_first), median(bare_first), 1.3,
                backend=backend,
                note=(f"median of {n_first}, from the start of the `hefa submit` process; from the run's "
                      f"creation {median(hefa_first_created):.3f} s")))

            # the other matters that wait for an opinion, submitted back to back
            t = time.perf_counter()
            for i in range(n_first, n_steps + extra):
                _, matter, run_id = _submit(inst, str(doc), f"物业服务合同 {i}")
                matters.append((matter, run_id))
            for _, run_id in matters[n_first:]:
                _, state = api.wait_paused(run_id, timeout=600)
                paused[run_id] = state["id"]
            print(f"  [{backend}] {len(matters)} matters waiting for an opinion "
                  f"({time.perf_counter() - t:.1f} s)", flush=True)

            # measures 1 and 2: hefa opinion (CLI) vs bare resume, each then back to a suspension
            cli_walls, catch_ups, bare_steps = [], [], []
            for i in range(n_steps):
                matter, run_id = matters[i]
                officer, cmd = _step_cmd("review", matter, i)
                wall, done = run_timed(cmd, inst.cli_env(officer))
                finished = time.time()
                if done.returncode != 0:
                    raise RuntimeError(f"hefa opinion failed: {done.stdout!r} {done.stderr.decode()[-600:]}")
                seen, state = api.wait_paused(run_id, paused[run_id])
                paused[run_id] = state["id"]
                cli_walls.append(wall)
                catch_ups.append(seen - finished)

                bare = bare_runs[i % len(bare_runs)]
                t0 = time.time()
                answer = api.call("POST", f"/flow_runs/{bare}/resume",
                                  {"run_input": {"conclusion": "lawful", "reasons": REASONS}})
                if (answer or {}).get("status") != "ACCEPT":
                    raise RuntimeError(f"bare resume refused: {answer}")
                seen, state = api.wait_paused(bare, paused[bare])
                paused[bare] = state["id"]
                bare_steps.append(seen - t0)
            floor = median(bare_steps)
            results.append(ratio_target(
                "1 CLI step answered (`hefa opinion` process)", median(cli_walls), floor, 0.2,
                backend=backend, note=f"median of {n_steps}; max {max(cli_walls):.3f} s; "
                                      "baseline: bare resume → next suspension"))
            results.append(ratio_target(
                "2 flow catch-up after a step (→ next suspension)", median(catch_ups), floor, 1.1,
                backend=backend, note=f"median of {n_steps}; max {max(catch_ups):.3f} s, "
                                      f"bare max {max(bare_steps):.3f} s"))
            if instant:
                results.append(_instant(inst, api, matters, paused, n_instant, backend))
        finally:
            children.stop_all()
    return results


def _instant(inst: Install, api: Api, matters: list[tuple[str, str]], paused: dict[str, str],
             wanted: int, backend: str) -> Result:
    """Measure 7: the next step sent as soon as the run is seen suspended.

    Alternately (a) the CLI is started at once — its resume goes out when it has
    recorded the step; (b) the same service and REST wake run in this process,
    so the resume is sent within tens of milliseconds of the suspension.
    """
    lock = threading.Lock()
    todo = list(matters)
    sent: list[tuple[str, float, float]] = []  # (mode, launch delay, resume-sent delay)
    errors: list[str] = []
    counter = [0]
    acted: dict[str, str] = {}  # the suspension each step was sent on

    def drive() -> None:
        while True:
            with lock:
                if not todo or len(sent) >= wanted:
                    return
                matter, run_id = todo.pop(0)
            while True:
                stage = _stage_of(matter)
                if stage not in STEP_COMMANDS:
                    break
                with lock:
                    if len(sent) >= wanted:
                        return
                    counter[0] += 1
                    n = 1000 + counter[0]
                fresh = run_id in acted  # a suspension we saw happen, not one found waiting
                try:
                    _, state = api.wait_paused(run_id, acted.get(run_id), interval=0.01, timeout=180)
                except Exception as exc:
                    errors.append(f"{matter}: {exc}")
                    break
                acted[run_id] = state["id"]
                at = state_time(state)
                launch = time.time() - at
                mode = "cli" if n % 2 else "in-process"
                try:
                    if mode == "cli":
                        officer, cmd = _step_cmd(stage, matter, n)
                        _, done = run_timed(cmd, inst.cli_env(officer))
                        if done.returncode != 0:
                            errors.append(f"{matter} {stage}: {done.stderr.decode()[-300:]}")
                            break
                    else:
                        _step_in_process(inst, stage, matter, n)
                except Exception as exc:
                    errors.append(f"{matter} {stage}: {exc}")
                    break
                if fresh:
                    with lock:
                        sent.append((mode, launch, time.time() - at))

    threads = [threading.Thread(target=drive, daemon=True) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        while thread.is_alive():
            thread.join(0.5)

    # every run must end Completed (closed matter) or be back waiting; none Failed/Crashed
    final: dict[str, str] = {}

    def settled() -> bool:
        for matter, run_id in matters:
            state = api.state(run_id)
            final[run_id] = state.get("type", "?")
            if _stage_of(matter) in ("closed", "rejected") and final[run_id] != "COMPLETED":
                if final[run_id] in ("FAILED", "CRASHED"):
                    continue
                return False
            if final[run_id] in ("RUNNING", "PENDING", "SCHEDULED"):
                return False
        return True

    try:
        wait_for(settled, 180, "runs settling")
    except TimeoutError as exc:
        errors.append(str(exc))
    bad = [r for r, s in final.items() if s in ("FAILED", "CRASHED")]
    stuck = [r for r, s in final.items() if s not in ("FAILED", "CRASHED", "COMPLETED", "PAUSED")]
    inproc = [s for m, _, s in sent if m == "in-process"]
    cli = [s for m, _, s in sent if m == "cli"]
    within = sum(1 for d in inproc if d <= 0.05)
    note = (f"{len(sent)} steps sent ({len(inproc)} in-process: resume sent median {median(inproc) * 1000:.0f} ms "
            f"after suspension, {within} within 50 ms; {len(cli)} CLI: started median "
            f"{median([ln for m, ln, _ in sent if m == 'cli']) * 1000:.0f} ms, resume sent median "
            f"{median(cli) * 1000:.0f} ms after); failed/crashed runs {len(bad)}, stuck {len(stuck)}"
            + (f"; errors: {errors[:3]}" if errors else ""))
    return report(Result("7 instant resumes → failed runs", float(len(bad)), None, "runs", "0 failed",
                         not bad and not stuck and not errors and len(sent) >= wanted, backend, note,
                         {"sent": len(sent), "within_50ms": within}))


def summary(results: list[Result]) -> dict[str, Any]:
    return {r.measure: r.value for r in results}
