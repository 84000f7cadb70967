"""What every benchmark shares: results, child processes (always cleaned up), a
temporary hefa installation, a Prefect server, and a light REST client.

Every process a benchmark starts carries ``HEFA_BENCH_TAG`` in its environment,
so that clean-up can find and stop (by pid) whatever a killed process group
left behind — a Prefect server, a flow run — and nothing else.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
HEFA = str(VENV_BIN / "hefa") if (VENV_BIN / "hefa").exists() else "hefa"
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
TAG = f"hefa-bench-{uuid.uuid4().hex[:12]}"

STAFF = [("zhang", "drafter"), ("li", "counsel"), ("qian", "counsel"), ("wang", "assessor"),
         ("zhao", "secretary"), ("chen", "head"), ("sun", "filing_officer")]


# --- results ---------------------------------------------------------------------------------

@dataclass
class Result:
    """One measure: its value, the baseline measured in the same run, and the target."""

    measure: str
    value: float | None
    baseline: float | None
    unit: str
    target: str
    passed: bool | None
    backend: str = "sqlite"
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.value is None or not self.baseline:
            return None
        return self.value / self.baseline

    def line(self) -> str:
        ratio = f"{self.ratio:.2f}x" if self.ratio is not None else "—"
        verdict = {True: "PASS", False: "FAIL", None: "n/a"}[self.passed]
        return (f"[{self.backend}] {self.measure}: {fmt(self.value, self.unit)} vs baseline "
                f"{fmt(self.baseline, self.unit)} = {ratio} (target {self.target}) {verdict}"
                + (f" — {self.note}" if self.note else ""))


def fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "s":
        return f"{value:.3f} s"
    if unit == "MB":
        return f"{value:.0f} MB"
    return f"{value:g} {unit}".strip()


def report(result: Result) -> Result:
    print("  => " + result.line(), flush=True)
    return result


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def ratio_target(measure: str, value: float, baseline: float, limit: float, *, unit: str = "s",
                 backend: str = "sqlite", note: str = "", **extra: Any) -> Result:
    passed = baseline > 0 and value / baseline <= limit
    return report(Result(measure, value, baseline, unit, f"≤ {limit:g}×", passed, backend, note, extra))


# --- processes -------------------------------------------------------------------------------

class Children:
    """Every process started here, stopped in reverse order (process group, then stragglers)."""

    def __init__(self) -> None:
        self.started: list[subprocess.Popen[bytes]] = []

    def spawn(self, cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(cmd, env=env | {"HEFA_BENCH_TAG": TAG}, stdout=log.open("ab"),
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True, cwd=str(REPO))
        self.started.append(process)
        return process

    def stop_all(self) -> None:
        for process in reversed(self.started):
            stop_group(process)
        self.started.clear()
        kill_tagged()


def stop_group(process: subprocess.Popen[bytes], grace: float = 20.0) -> None:
    if process.poll() is not None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)  # leftovers of the group
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        pass
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5)


def tagged_pids() -> list[int]:
    """The processes carrying this run's tag (``HEFA_BENCH_TAG``), never this process."""
    needle = f"HEFA_BENCH_TAG={TAG}".encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


def kill_tagged() -> int:
    """SIGKILL, by pid, every process still carrying this run's tag (never this process)."""
    killed = 0
    for pid in tagged_pids():
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
            killed += 1
    return killed


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_timed(cmd: list[str], env: dict[str, str], *, stdin: bytes | None = None,
              timeout: float = 300) -> tuple[float, subprocess.CompletedProcess[bytes]]:
    """Wall time of a whole child process."""
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env | {"HEFA_BENCH_TAG": TAG}, input=stdin, capture_output=True,
                          timeout=timeout, cwd=str(REPO))
    return time.perf_counter() - start, done


def time_v(cmd: list[str], env: dict[str, str], timeout: float = 3600) -> tuple[float, float, int, str]:
    """(wall seconds, peak RSS in MB, exit code, stderr tail) of a child, via /usr/bin/time -v."""
    if Path("/usr/bin/time").exists():
        start = time.perf_counter()
        done = subprocess.run(["/usr/bin/time", "-v", *cmd], env=env | {"HEFA_BENCH_TAG": TAG},
                              capture_output=True, timeout=timeout, cwd=str(REPO))
        wall = time.perf_counter() - start
        err = done.stderr.decode("utf-8", "replace")
        rss = next((int(line.split(":")[1]) for line in err.splitlines()
                    if "Maximum resident set size" in line), 0)
        code = done.returncode
        tail = err.split("\tCommand being timed")[0][-500:]
        return wall, rss / 1024, code, tail
    # fresh helper so RUSAGE_CHILDREN holds only this command
    helper = ("import resource,subprocess,sys,time;t=time.perf_counter();"
              "r=subprocess.run(sys.argv[1:],capture_output=True);w=time.perf_counter()-t;"
              "print(w,resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,r.returncode)")
    done = subprocess.run([sys.executable, "-c", helper, *cmd], env=env | {"HEFA_BENCH_TAG": TAG},
                          capture_output=True, timeout=timeout, cwd=str(REPO))
    wall, rss, code = done.stdout.split()
    return float(wall), int(rss) / 1024, int(code), ""


# --- a temporary hefa installation -----------------------------------------------------------

@dataclass
class Install:
    """A temporary HEFA_HOME (and Prefect home / API port / database) and its environment."""

    home: Path
    env: dict[str, str]
    tokens: dict[str, str] = field(default_factory=dict)
    pg_name: str | None = None

    def cli_env(self, officer: str | None = None) -> dict[str, str]:
        env = dict(self.env)
        if officer:
            env["HEFA_TOKEN"] = self.tokens[officer]
        return env


def reset_caches() -> None:
    from hefa.review.config import reset_settings
    from hefa.review.law.workdays import reset_calendar_cache
    from hefa.review.records import db

    reset_settings()
    db.dispose_all()
    reset_calendar_cache()


@contextlib.contextmanager
def installation(name: str, *, postgres: bool = False, port: int | None = None) -> Iterator[Install]:
    """A fresh hefa installation; this process is pointed at it while the block runs."""
    base = Path(tempfile.mkdtemp(prefix=f"hefa-bench-{name}-"))
    home = base / "home"
    home.mkdir()
    port = port or free_port()
    env = dict(os.environ)
    env.update({
        "HEFA_HOME": str(home), "PREFECT_HOME": str(home / "prefect"),
        "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_RUNNER_POLL_FREQUENCY": "1",
        "PREFECT_LOGGING_TO_API_BATCH_INTERVAL": "0.3", "PREFECT_SERVER_LOGGING_LEVEL": "WARNING",
    })
    for key in ("HEFA_DATABASE_URL", "HEFA_TOKEN", "HEFA_TODAY"):
        env.pop(key, None)
    from hefa.app.serve import prefect_auth_string

    # the installation's Prefect auth string: hefa serve's Prefect server requires it
    env["PREFECT_API_AUTH_STRING"] = prefect_auth_string(home)
    env.pop("PREFECT_SERVER_API_AUTH_STRING", None)
    pg_name = None
    if postgres:
        pg_name = f"hefa_bench_{uuid.uuid4().hex[:10]}"
        _pg_admin(f'CREATE DATABASE "{pg_name}"')
        env["HEFA_DATABASE_URL"] = PG_ADMIN.rsplit("/", 1)[0] + f"/{pg_name}"
    saved = {k: os.environ.get(k) for k in env}
    saved_missing = [k for k in ("HEFA_DATABASE_URL", "HEFA_TOKEN", "HEFA_TODAY") if k not in env]
    saved |= {k: os.environ.get(k) for k in saved_missing}
    os.environ.update(env)
    for key in saved_missing:
        os.environ.pop(key, None)
    reset_caches()
    try:
        yield Install(home, env, pg_name=pg_name)
    finally:
        reset_caches()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        if pg_name:
            _pg_admin(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{pg_name}'")
            _pg_admin(f'DROP DATABASE IF EXISTS "{pg_name}"')
        import shutil

        shutil.rmtree(base, ignore_errors=True)


def _pg_admin(sql: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(sql))
    finally:
        admin.dispose()


def postgres_available() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=0.5):
            pass
        _pg_admin("SELECT 1")
        return True
    except Exception:
        return False


def make_office(install: Install, organ: str = "河东镇人民政府") -> dict[str, str]:
    """Admin and staff, in-process through the real services; their tokens."""
    from hefa.review.people import officers
    from hefa.review.services.steps import Credentials

    admin = officers.bootstrap_admin("admin", organ)
    assert admin is not None
    tokens = {"admin": admin.token}
    creds = Credentials("admin", token=admin.token)
    for name, role in STAFF:
        tokens[name] = officers.add_officer(creds, name, role, organ).token
    install.tokens = tokens
    return tokens


def docx_bytes(paragraphs: list[str], title: str = "河东镇综合服务中心物业服务合同") -> bytes:
    from hefa.forms.drafts import plain_docx

    return plain_docx(paragraphs, title)


CONTRACT = ["第一条 甲方委托乙方提供综合服务中心物业服务，服务期限一年。",
            "第二条 合同价款为人民币十二万元，按季度支付。",
            "第三条 双方因本合同发生争议的，协商解决；协商不成的，依法向人民法院起诉。"]


# --- Prefect ---------------------------------------------------------------------------------

class Api:
    """Standard-library client of one Prefect server's REST API."""

    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")

    def call(self, method: str, path: str, body: Any = None, timeout: float = 10.0) -> Any:
        from hefa.flows import rest

        return rest.call(method, path, body, timeout=timeout, attempts=6, base=self.base, retry_refused=True)

    def healthy(self) -> bool:
        try:
            urllib.request.urlopen(self.base + "/health", timeout=1).read()
            return True
        except OSError:
            return False

    def state(self, run_id: str) -> dict[str, Any]:
        run = self.call("GET", f"/flow_runs/{run_id}") or {}
        return run.get("state") or {}

    def wait_paused(self, run_id: str, not_state: str | None = None, *, interval: float = 0.02,
                    timeout: float = 120.0) -> tuple[float, dict[str, Any]]:
        """Poll until the run is PAUSED in a state other than ``not_state``; (time seen, state)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.state(run_id)
            if state.get("type") == "PAUSED" and state.get("id") != not_state:
                return time.time(), state
            if state.get("type") in ("FAILED", "CRASHED", "COMPLETED", "CANCELLED"):
                raise RuntimeError(f"run {run_id} ended {state.get('type')}: {state.get('message')}")
            time.sleep(interval)
        raise TimeoutError(f"run {run_id} did not suspend within {timeout:.0f} s")

    def deployment_id(self, flow: str, deployment: str) -> str | None:
        from urllib.parse import quote

        found = self.call("GET", f"/deployments/name/{quote(flow, safe='')}/{quote(deployment)}")
        return found["id"] if found else None


def state_time(state: dict[str, Any]) -> float:
    """A state's server timestamp as seconds since the epoch (same machine's clock)."""
    return dt.datetime.fromisoformat(state["timestamp"].replace("Z", "+00:00")).timestamp()


def wait_for(predicate: Any, timeout: float, what: str, interval: float = 0.3) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise TimeoutError(f"{what} not ready within {timeout:.0f} s")


def start_hefa_serve(children: Children, install: Install) -> tuple[subprocess.Popen[bytes], Api]:
    """``hefa serve`` (it starts its own Prefect server on the installation's port)."""
    log = install.home / "serve.log"
    process = children.spawn([HEFA, "serve"], install.env, log)
    api = Api(install.env["PREFECT_API_URL"])

    def ready() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"hefa serve exited ({process.returncode}):\n" + log.read_text()[-3000:])
        if not api.healthy():
            return False
        found = api.call("POST", "/deployments/filter", {}) or []
        return len(found) >= 6

    wait_for(ready, 180, "hefa serve deployments")
    return process, api


def start_bare_flow(children: Children, install: Install) -> tuple[subprocess.Popen[bytes], str]:
    """The bare Prefect flow (benchmarks/bare_flow.py) served beside hefa on the same server."""
    log = install.home / "bare.log"
    process = children.spawn([sys.executable, "-m", "benchmarks.bare_flow"], install.env, log)
    api = Api(install.env["PREFECT_API_URL"])
    found: list[str] = []

    def ready() -> bool:
        if process.poll() is not None:
            raise RuntimeError("bare flow exited:\n" + log.read_text()[-3000:])
        dep = api.deployment_id("bare-review", "bare")
        if dep:
            found.append(dep)
        return bool(dep)

    wait_for(ready, 120, "bare flow deployment")
    time.sleep(1.5)  # its runner's first poll
    return process, found[0]
