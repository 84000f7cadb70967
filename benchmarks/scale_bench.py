"""County scale (issue 17): what ``hefa serve`` costs with thousands of matters open.

Measures, in one run per backend:

- **idle CPU** of ``hefa serve`` and its Prefect server (every process of this benchmark
  run: utime + stime, children included, from ``/proc``) over a window, with no suspended
  run, then with N open matters each with a suspended run (created straight through the
  REST API in the ``PAUSED`` state, with the wait key hefa's flow would use), after a
  restart of ``hefa serve`` and its start-up full comparison (timed too);
- **a lost wake-up delivered**: the Prefect server is stopped (SIGSTOP: it answers
  nothing), a step is recorded (its wake-up only in the outbox), the server is let go
  (SIGCONT), and the time until the run is woken (its ``Resuming`` state) is measured;
- **the overdue scan** over the N open matters (a whole process, as the hourly flow does
  the work: warnings already raised, so the steady state), time and peak RSS, against a
  bare process reading the same rows.

On SQLite, ``hefa serve`` starts Prefect's server on SQLite; with ``postgres=True`` hefa's
database and Prefect's are both on PostgreSQL (the server started here).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from hefa.flows.rest import PrefectUnavailable

from .harness import (
    PG_ADMIN,
    Api,
    Children,
    Install,
    Result,
    _pg_admin,
    installation,
    make_office,
    report,
    start_hefa_serve,
    stop_group,
    tagged_pids,
    time_v,
    wait_for,
)

CLK_TCK = os.sysconf("SC_CLK_TCK")


# --- CPU of the processes this run started ---------------------------------------------------

def _cpu(pid: int) -> float | None:
    """utime + stime + cutime + cstime of one process, in seconds."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return sum(int(fields[i]) for i in (11, 12, 13, 14)) / CLK_TCK


def _role(pid: int) -> str:
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "other"
    if b"server" in cmd and b"start" in cmd:
        return "prefect"
    if any(c.endswith(b"hefa") for c in cmd) and b"serve" in cmd:
        return "hefa"
    return "other"


def idle_cpu(window: float) -> tuple[float, dict[str, float]]:
    """Percent of one core used by every process of this run over ``window`` seconds, and
    its split: ``hefa`` (``hefa serve``: desk, dispatcher, sweep, runner), ``prefect`` (the
    Prefect server), ``other``."""
    start = {pid: _cpu(pid) for pid in tagged_pids()}
    t0 = time.monotonic()
    time.sleep(window)
    wall = time.monotonic() - t0
    split: dict[str, float] = {"hefa": 0.0, "prefect": 0.0, "other": 0.0}
    for pid in tagged_pids():
        now = _cpu(pid)
        if now is None:
            continue
        before = start.get(pid)
        split[_role(pid)] += 100.0 * (now - (before if before is not None else 0.0)) / wall
    return sum(split.values()), split


def _split(split: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.1f} %" for k, v in split.items())


def _avoid_the_hour() -> None:
    """The overdue scan is deployed on an hourly cron: keep the window off the hour."""
    while dt.datetime.now().minute in (59, 0):
        time.sleep(5)


# --- a county's open matters, each with a suspended run ----------------------------------------

def suspend_runs(api: Api, matter_ids: list[str], threads: int = 3) -> float:
    """One PAUSED run per matter, keyed like hefa's flows, recorded as the matter's run;
    returns the seconds it took."""
    from urllib.parse import quote

    from sqlalchemy import bindparam, update

    from hefa.flows.names import flow_name
    from hefa.review.law.rules import Kind
    from hefa.review.records import db, queries
    from hefa.review.records.models import Matter

    by_flow: dict[str, dict[str, Any]] = {}
    for kind in Kind:
        name = flow_name(kind)
        dep = api.call("GET", f"/deployments/name/{quote(name, safe='')}/hefa")
        if dep is None:
            raise RuntimeError(f"no deployment {name}/hefa")
        by_flow[name] = dep
    started = time.perf_counter()
    views: dict[str, dict[str, Any]] = {}
    for i in range(0, len(matter_ids), 500):
        views |= queries.run_views(matter_ids[i:i + 500])
    timeout = (dt.datetime.now(dt.UTC) + dt.timedelta(days=365)).isoformat()

    def create(matter_id: str) -> tuple[str, str]:
        view = views[matter_id]
        dep = by_flow[flow_name(view["kind"])]
        body = {
            "flow_id": dep["flow_id"], "deployment_id": dep["id"], "name": f"{matter_id} {view['title']}"[:120],
            "parameters": {"matter_id": matter_id}, "tags": ["hefa", view["kind"], view["organ"], matter_id],
            "state": {"type": "PAUSED", "name": "Suspended", "state_details": {
                "pause_key": f"{view['label']}-{uuid.uuid4().hex[:8]}", "pause_reschedule": True,
                "pause_timeout": timeout}}, "idempotency_key": f"bench-{matter_id}"}
        for attempt in range(30):  # Prefect's SQLite answers 503 when busy: the key makes retries safe
            try:
                run = api.call("POST", "/flow_runs/", body, timeout=30)
                return matter_id, str(run["id"])
            except PrefectUnavailable:
                time.sleep(0.5 + attempt * 0.2)
        raise RuntimeError(f"could not create the run of {matter_id}")

    with ThreadPoolExecutor(threads) as pool:
        pairs = list(pool.map(create, matter_ids))
    with db.engine().begin() as conn:
        conn.execute(update(Matter).where(Matter.id == bindparam("mid")).values(run_id=bindparam("rid")),
                     [{"mid": m, "rid": r} for m, r in pairs])
    return time.perf_counter() - started


def _sweep_state() -> dict[str, Any]:
    from hefa.flows import reconcile

    return reconcile.load_state()


def _wait_full_sweep(after: dt.datetime, timeout: float = 1800) -> dict[str, Any]:
    found: dict[str, Any] = {}

    def done() -> bool:
        state = _sweep_state()
        if state.get("full_at") and state["full_at"] > after:
            found.update(state)
            return True
        return False

    wait_for(done, timeout, "the start-up full comparison", interval=1.0)
    return found


# --- the Prefect server, its processes -----------------------------------------------------------

def _prefect_server_pids() -> list[int]:
    pids = []
    for pid in tagged_pids():
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"server" in cmd and b"start" in cmd and any(c.endswith(b"prefect") for c in cmd):
            pids.append(pid)
    return pids


def _woken_after(api: Api, run_id: str, since: float, timeout: float = 60.0) -> float:
    """When (server clock) the run was next Scheduled (woken) after ``since``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        states = api.call("GET", f"/flow_run_states/?flow_run_id={run_id}") or []
        times = [dt.datetime.fromisoformat(s["timestamp"].replace("Z", "+00:00")).timestamp()
                 for s in states if s["type"] == "SCHEDULED"]
        later = [t for t in times if t >= since]
        if later:
            return min(later)
        time.sleep(0.05)
    raise TimeoutError(f"the lost wake-up of run {run_id} was not delivered within {timeout:.0f} s")


def lost_wakes(inst: Install, api: Api, reps: int, down: float = 3.0) -> list[float]:
    """Seconds from the Prefect server answering again to the run being woken, per step."""
    from hefa.desk.server import perform
    from hefa.review.records.db import read_session
    from hefa.review.records.models import Matter
    from hefa.review.services import steps

    from .harness import CONTRACT, docx_bytes

    answer = perform("submit", steps.Credentials("zhang", token=inst.tokens["zhang"]), {
        "kind": "contract", "title": "规模测试合同", "data": docx_bytes(CONTRACT), "filename": "c.docx"})
    matter = answer["matter"]
    run_id = answer.get("flow_run_id")
    if not run_id:
        def attached() -> bool:
            with read_session() as s:
                return bool(s.get(Matter, matter).run_id)  # type: ignore[union-attr]
        wait_for(attached, 60, "the run of the new matter")
        with read_session() as s:
            run_id = s.get(Matter, matter).run_id  # type: ignore[union-attr]
    _, state = api.wait_paused(run_id, timeout=120)
    creds = {n: steps.Credentials(n, token=inst.tokens[n]) for n in ("li", "chen", "sun")}
    takes = [lambda: steps.record_opinion(creds["li"], matter, conclusion="lawful", reasons="合同合法。"),
             lambda: steps.record_issuance(creds["chen"], matter, number="河东合〔2026〕9001号"),
             lambda: steps.record_filing(creds["sun"], matter, filed_with="河东镇司法所", receipt="BA-9001")]
    delays = []
    for take in takes[:reps]:
        server = _prefect_server_pids()
        stopped = time.time()
        for pid in server:
            os.kill(pid, signal.SIGSTOP)
        try:
            take()  # recorded; its wake-up is only in the outbox
            time.sleep(down)
        finally:
            for pid in server:
                os.kill(pid, signal.SIGCONT)
        back = time.time()
        delays.append(max(0.0, _woken_after(api, run_id, stopped) - back))
        if take is not takes[-1]:
            _, state = api.wait_paused(run_id, not_state=state["id"], timeout=120)
    return delays


# --- the overdue scan ----------------------------------------------------------------------------

SCAN = """
import json, sys
from hefa.review.law.overdue import scan
result = scan(record=True)
print(json.dumps({"items": len(result.items), "new": len(result.new_warnings), "errors": len(result.errors)}))
"""

BARE = """
import sys
import sqlmodel  # noqa: F401 — the baseline pays the ORM's import, as hefa does
from sqlalchemy import create_engine, text
engine = create_engine(sys.argv[1])
with engine.connect() as conn:
    rows = conn.execute(text("SELECT * FROM matter WHERE status = 'open' ORDER BY id")).all()
print(len(rows))
"""


def overdue_scan(inst: Install, backend: str) -> list[Result]:
    env = inst.cli_env()
    warm = time_v([sys.executable, "-c", SCAN], env)  # raises the warnings once
    if warm[2] != 0:
        raise RuntimeError(f"overdue scan failed: {warm[3]}")
    url = inst.env.get("HEFA_DATABASE_URL") or f"sqlite:///{inst.home / 'hefa.db'}"
    walls, peaks, bare_walls, bare_peaks = [], [], [], []
    for _ in range(2):
        wall, peak, code, tail = time_v([sys.executable, "-c", SCAN], env)
        if code != 0:
            raise RuntimeError(f"overdue scan failed: {tail}")
        walls.append(wall)
        peaks.append(peak)
        wall, peak, code, tail = time_v([sys.executable, "-c", BARE, url], env)
        if code != 0:
            raise RuntimeError(f"bare query failed: {tail}")
        bare_walls.append(wall)
        bare_peaks.append(peak)
    value, base = min(walls), min(bare_walls)
    peak = max(peaks)
    passed = value / base <= 3.0 and peak <= 300
    return [report(Result("overdue scan over the open matters (whole process, steady state)", value, base, "s",
                          "≤ 3×, peak ≤ 300 MB", passed, backend,
                          f"peak RSS {peak:.0f} MB (bare {max(bare_peaks):.0f} MB); first scan "
                          f"(raising every warning) {warm[0]:.1f} s; best of 2", {"peak_mb": peak}))]


# --- the whole measure ---------------------------------------------------------------------------

def _start_prefect(children: Children, inst: Install, url: str, extra: dict[str, str]) -> Any:
    """Prefect's server on PostgreSQL, started here (``hefa serve`` finds it answering)."""
    from hefa.app.serve import prefect_executable

    port = inst.env["PREFECT_API_URL"].rsplit(":", 1)[1].split("/")[0]
    (inst.home / "prefect").mkdir(parents=True, exist_ok=True)
    process = children.spawn([prefect_executable(), "server", "start", "--host", "127.0.0.1", "--port", port],
                             inst.env | {"PREFECT_API_DATABASE_CONNECTION_URL": url} | extra,
                             inst.home / "prefect-server.log")
    wait_for(Api(inst.env["PREFECT_API_URL"]).healthy, 180, "Prefect server on PostgreSQL")
    return process


HEFA_PREFECT = {"PREFECT_SERVER_SERVICES_PAUSE_EXPIRATIONS_ENABLED": "false"}  # as hefa serve sets it
PREFECT_DEFAULT = {"PREFECT_SERVER_SERVICES_PAUSE_EXPIRATIONS_ENABLED": "true"}


def run(quick: bool, *, postgres: bool = False, matters: int | None = None) -> list[Result]:
    backend = "postgres" if postgres else "sqlite"
    count = matters or (2000 if quick else 10000)
    window = 30.0 if quick else 60.0
    results: list[Result] = []
    children = Children()
    prefect_db = None
    with installation(f"scale-{backend}", postgres=postgres) as inst:
        base_env = dict(inst.env)
        prefect = None
        pg_url = ""

        def start(extra: dict[str, str]) -> tuple[Any, Api, float]:
            """(Re)start hefa serve (and Prefect's server) with ``extra`` settings; wait for the
            start-up full comparison; returns it took after the start."""
            nonlocal prefect
            inst.env.clear()
            inst.env.update(base_env | extra)
            if postgres:
                if prefect is not None:
                    stop_group(prefect)
                    children.started.remove(prefect)
                prefect = _start_prefect(children, inst, pg_url, extra)
            began = dt.datetime.now(dt.UTC)
            serve, api = start_hefa_serve(children, inst)
            state = _wait_full_sweep(began - dt.timedelta(seconds=1), 1800)
            time.sleep(10)  # the runner's and the server's start-up work
            _avoid_the_hour()
            return serve, api, (state["full_at"] - began).total_seconds()

        def stop(serve: Any) -> None:
            stop_group(serve)
            children.started.remove(serve)

        try:
            make_office(inst)
            if postgres:
                prefect_db = f"prefect_bench_{uuid.uuid4().hex[:8]}"
                _pg_admin(f'CREATE DATABASE "{prefect_db}"')
                pg_url = PG_ADMIN.replace("postgresql+psycopg", "postgresql+asyncpg").rsplit("/", 1)[0] \
                    + f"/{prefect_db}"
            serve, api, _ = start(HEFA_PREFECT)
            empty, empty_split = idle_cpu(window)
            print(f"   idle, no suspended run: {empty:.1f} % of one core ({_split(empty_split)})", flush=True)

            from .data_bench import populate_matters

            ids = populate_matters(inst, count)
            made = suspend_runs(api, ids)
            print(f"   {count} suspended runs created in {made:.0f} s", flush=True)
            stop(serve)
            serve, api, full_seconds = start(HEFA_PREFECT)
            loaded, loaded_split = idle_cpu(window)
            print(f"   idle, {count} suspended runs: {loaded:.1f} % of one core ({_split(loaded_split)})",
                  flush=True)
            results.append(report(Result(
                f"idle CPU, hefa serve + Prefect, {count} suspended runs (% of one core over {window:.0f} s)",
                loaded, empty, "%", "≤ 1.5×", loaded <= 1.5 * empty, backend,
                f"baseline: none suspended ({_split(empty_split)}); with them: {_split(loaded_split)}; "
                f"start-up full comparison of {count} matters done {full_seconds:.0f} s after the start "
                f"(then every 6 h); runs created in {made:.0f} s",
                {"full_seconds": full_seconds, "split": loaded_split, "empty_split": empty_split})))

            delays = lost_wakes(inst, api, 2 if quick else 3)
            worst = max(delays)
            results.append(report(Result(
                f"lost wake-up delivered after Prefect answers again, {count} open matters", worst, None, "s",
                "≤ 5 s", worst <= 5.0, backend,
                "Prefect server stopped (SIGSTOP) while the step was recorded, then let go; each: "
                + ", ".join(f"{d:.2f} s" for d in delays))))

            stop(serve)  # Prefect's share with its own default: the pause-expiry check every 5 s
            serve, api, _ = start(PREFECT_DEFAULT)
            default, default_split = idle_cpu(window)
            print(f"   idle, {count} suspended runs, Prefect's default services: {default:.1f} % "
                  f"({_split(default_split)})", flush=True)
            results.append(report(Result(
                f"(Prefect's own share) idle CPU with Prefect's default pause-expiry check, {count} runs",
                default, empty, "%", "report", None, backend,
                f"{_split(default_split)}; hefa serve turns the check off "
                "(PREFECT_SERVER_SERVICES_PAUSE_EXPIRATIONS_ENABLED=false)", {"split": default_split})))
            stop(serve)
            results += overdue_scan(inst, backend)
        finally:
            children.stop_all()
            if prefect_db:
                _pg_admin(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{prefect_db}'")
                _pg_admin(f'DROP DATABASE IF EXISTS "{prefect_db}"')
    return results


def _terminate(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":  # python -m benchmarks.scale_bench [--quick] [--postgres] [N]
    signal.signal(signal.SIGTERM, _terminate)
    args = sys.argv[1:]
    n = next((int(a) for a in args if a.isdigit()), None)
    for r in run("--quick" in args, postgres="--postgres" in args, matters=n):
        print(json.dumps({"measure": r.measure, "value": r.value, "baseline": r.baseline, "note": r.note},
                         ensure_ascii=False))
