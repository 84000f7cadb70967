"""``hefa serve``: a Prefect server if none answers, every review deployment, the
overdue scan on a cron schedule, and the reconciler — stopped together.

Environment set here before Prefect is imported: telemetry off, the runner
polling every second (a person should not wait 10 s for a flow to move), and
Prefect's home under ``HEFA_HOME`` unless ``PREFECT_HOME`` is set.

Prefect locked down: the Prefect server started here listens on 127.0.0.1 only and
requires the installation's API auth string (``PREFECT_SERVER_API_AUTH_STRING``),
generated once and kept in ``$HEFA_HOME/prefect-auth`` (0600). Only hefa's processes
hold it (``PREFECT_API_AUTH_STRING``: the runner and its flows, the dispatcher, the
sweep, the front door's proxy, which adds it upstream); people reach Prefect only
through the front door.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

from hefa.review.config import settings

DEFAULT_API = "http://127.0.0.1:4200/api"
AUTH_FILE = "prefect-auth"
PREFECT_HOST = "127.0.0.1"  # the Prefect server is never exposed: people use the front door


def prefect_auth_string(home: Path | None = None) -> str:
    """The installation's Prefect API auth string (``user:password`` for Prefect's basic auth).

    ``PREFECT_API_AUTH_STRING`` when set (and no ``home`` is named); otherwise the one kept
    in ``<home>/prefect-auth`` (mode 0600), generated at the first call: 256 random bits."""
    import secrets

    from hefa.review.paths import ensure_home

    given = os.environ.get("PREFECT_API_AUTH_STRING")
    if given and home is None:
        return given
    if home is None:
        home = ensure_home()
    path = home / AUTH_FILE
    if not path.exists():
        home.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first: use theirs
            pass
        else:
            with os.fdopen(fd, "w") as f:
                f.write(f"hefa:{secrets.token_urlsafe(32)}\n")
    value = path.read_text().strip()
    if ":" not in value:
        raise RuntimeError(f"Prefect 认证串文件格式不对：{path} / malformed auth string file")
    return value


def prefect_environment(poll_seconds: float = 1.0) -> None:
    """Environment for every Prefect process hefa starts (set before importing prefect)."""
    os.environ.setdefault("PREFECT_API_URL", settings().prefect_api_url or DEFAULT_API)
    os.environ.setdefault("PREFECT_HOME", str(settings().home / "prefect"))
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    os.environ.setdefault("PREFECT_RUNNER_POLL_FREQUENCY", str(int(max(1, poll_seconds))))
    os.environ.setdefault("PREFECT_LOGGING_TO_API_BATCH_INTERVAL", "0.3")
    os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "WARNING")
    # A shared, loaded machine: let Prefect's SQLite wait for its lock rather than fail (503).
    os.environ.setdefault("PREFECT_API_DATABASE_TIMEOUT", "60")
    os.environ.setdefault("PREFECT_API_DATABASE_CONNECTION_TIMEOUT", "30")
    # Prefect's pause-expiry check loads every suspended run every 5 s: its cost grows with the
    # matters open (benchmarks/scale_bench.py). hefa's waits last a year and the sweep repairs
    # any run that ends, so the check is not needed.
    os.environ.setdefault("PREFECT_SERVER_SERVICES_PAUSE_EXPIRATIONS_ENABLED", "false")
    # Every Prefect client hefa starts (runner, flows, dispatcher, sweep, front door) holds the
    # installation's auth string; the server started here requires it (``start_server``).
    os.environ["PREFECT_API_AUTH_STRING"] = prefect_auth_string()


def hold_serve_lock() -> int:
    """One ``hefa serve`` per home: an exclusive lock on ``$HEFA_HOME/serve.lock``, held
    (by the open descriptor) until this process ends. A second one is refused."""
    import fcntl

    from hefa.review.errors import ConfigurationError
    from hefa.review.paths import ensure_home, private_file

    path = private_file(ensure_home() / "serve.lock")
    fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        holder = path.read_text().strip() or "?"
        raise ConfigurationError(f"此数据目录已有 hefa serve 在运行（进程 {holder}）：{path.parent} / another hefa "
                                 "serve already runs on this home") from None
    os.ftruncate(fd, 0)
    os.write(fd, str(os.getpid()).encode())
    return fd


def prefect_executable() -> str:
    candidate = Path(sys.executable).parent / "prefect"
    return str(candidate) if candidate.exists() else "prefect"


def start_server(timeout: float = 300.0) -> subprocess.Popen[bytes] | None:
    """Start ``prefect server`` on 127.0.0.1 at PREFECT_API_URL's port, requiring the
    installation's auth string, unless one answers there already (then say whether it is
    locked: one that answers without the string is open to anyone who reaches its port).

    Its output goes to ``$PREFECT_HOME/server.log`` (a pipe would block it).
    Returns the process started, or None when a server was already running.
    """
    from hefa.flows import rest

    if rest.healthy():
        if not requires_auth():
            print("hefa serve: 警告：已在运行的 Prefect 服务器不要求认证串（PREFECT_SERVER_API_AUTH_STRING）"
                  " / warning: the running Prefect server answers without the auth string", flush=True)
        return None
    url = urlparse(os.environ["PREFECT_API_URL"])
    home = Path(os.environ["PREFECT_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    log = (home / "server.log").open("ab")
    env = os.environ | {"PREFECT_SERVER_API_AUTH_STRING": os.environ["PREFECT_API_AUTH_STRING"]}
    process = subprocess.Popen(
        [prefect_executable(), "server", "start", "--host", PREFECT_HOST, "--port", str(url.port or 4200)],
        env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
    )
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if rest.healthy():
                return process
            if process.poll() is not None:
                raise RuntimeError(f"Prefect 服务器启动失败，见 {home / 'server.log'} / server failed to start")
            time.sleep(0.3)
    except BaseException:  # stopped (SIGTERM, Ctrl-C) while waiting: stop the server too
        stop_process(process)
        raise
    stop_process(process)
    raise RuntimeError(f"Prefect 服务器 {timeout:.0f} 秒内未就绪 / server did not start")


def requires_auth() -> bool:
    """Whether the Prefect API at PREFECT_API_URL refuses a call without the auth string (401)."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(os.environ["PREFECT_API_URL"].rstrip("/") + "/flows/count", data=b"{}",
                                     method="POST", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10):
            return False
    except urllib.error.HTTPError as exc:
        return exc.code == 401
    except OSError:
        return True  # not answering: nothing to warn about


def stop_process(process: subprocess.Popen[bytes] | None) -> None:
    """Stop a process group we started (the server and its workers)."""
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def deployments():  # type: ignore[no-untyped-def]
    """Every review deployment, plus the scheduled overdue scan."""
    from hefa.flows.matter_flows import MATTER_FLOWS
    from hefa.flows.overdue_flow import OVERDUE_CRON, overdue_scan
    from hefa.flows.rest import DEPLOYMENT_NAME

    built = [f.to_deployment(name=DEPLOYMENT_NAME, tags=["hefa"]) for f in MATTER_FLOWS.values()]
    built.append(overdue_scan.to_deployment(name=DEPLOYMENT_NAME, cron=OVERDUE_CRON, tags=["hefa"]))
    from hefa.flows.register_flow import register_publish  # 登记簿、年度报告, run from the UI (issue 16)
    from hefa.flows.report_flow import annual_report

    built += [register_publish.to_deployment(name=DEPLOYMENT_NAME, tags=["hefa"]),
              annual_report.to_deployment(name=DEPLOYMENT_NAME, tags=["hefa"])]
    return built


def deploy_to_pool(pool: str) -> list[str]:
    """Scale-out: deploy every review flow to a work pool (created if missing), from this
    installation's source folder; ``prefect worker start --pool POOL`` processes run them."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists

    from hefa.flows.matter_flows import MATTER_FLOWS
    from hefa.flows.overdue_flow import OVERDUE_CRON, overdue_scan
    from hefa.flows.rest import DEPLOYMENT_NAME

    with get_client(sync_client=True) as client:
        try:
            client.create_work_pool(WorkPoolCreate(name=pool, type="process"))
        except ObjectAlreadyExists:
            pass
    root = Path(__file__).resolve().parents[1]
    ids = []
    for flow_obj in [*MATTER_FLOWS.values(), overdue_scan]:
        module = Path(flow_obj.fn.__code__.co_filename).resolve().relative_to(root)
        remote = flow_obj.from_source(source=str(root), entrypoint=f"{module}:{flow_obj.fn.__name__}")
        cron = OVERDUE_CRON if flow_obj is overdue_scan else None
        ids.append(str(remote.deploy(name=DEPLOYMENT_NAME, work_pool_name=pool, tags=["hefa"], cron=cron,
                                     build=False, push=False, print_next_steps=False)))
    return ids


def serve(*, host: str | None = None, poll_seconds: float = 1.0, reconcile_seconds: float = 0.5,
          pool: str | None = None, sweep_seconds: float | None = None) -> None:
    """Run until Ctrl-C or SIGTERM; stop everything that was started here.

    With ``pool``, flows are not run here: they are deployed to the work pool for
    ``prefect worker`` processes, and this process keeps the desk and the reconciler.
    ``reconcile_seconds``: how often the dispatcher reads the outbox's due wake-ups;
    ``sweep_seconds`` (default ``HEFA_SWEEP_SECONDS`` or 300): how often the slow sweep
    looks for drift (runs ended behind hefa's back, artifacts hefa did not write).
    Everything it and the Prefect server create (databases, logs) is owner-only (umask 077).
    ``host``: the front door's address (default ``HEFA_WEB_HOST`` or 127.0.0.1); the Prefect
    server always listens on 127.0.0.1 and needs the installation's auth string. Workers of a
    ``pool`` need it too: ``PREFECT_API_AUTH_STRING=$(cat $HEFA_HOME/prefect-auth)``.
    """
    os.umask(0o077)
    hold_serve_lock()
    prefect_environment(poll_seconds)

    def _terminate(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    # Before anything starts: a SIGTERM during start-up (the server takes seconds) must
    # still stop the Prefect server started here, not leave it running on its own.
    signal.signal(signal.SIGTERM, _terminate)
    server = reconciler = dispatcher = desk = front = None
    try:
        server = start_server()
        from prefect import serve as prefect_serve

        from hefa.desk.server import Desk
        from hefa.flows import reconcile

        built = None if pool else deployments()
        from hefa.flows.dispatch import Dispatcher

        dispatcher = Dispatcher(reconcile_seconds)
        reconciler = reconcile.Sweeper(sweep_seconds or float(os.environ.get("HEFA_SWEEP_SECONDS") or 300))
        desk = Desk()
        if pool:
            deploy_to_pool(pool)
        else:
            reconcile.RUNNER_STARTED = time.time()  # runs in flight since before are nobody's
            reconcile.reschedule_orphans()
        dispatcher.start()
        reconciler.start()
        desk.start()
        from hefa.web.server import FrontDoor

        try:
            front = FrontDoor(os.environ["PREFECT_API_URL"], os.environ.get("PREFECT_API_AUTH_STRING"), host)
            front.start()
            print(f"hefa serve: 入口 / front door {front.url}", flush=True)
        except Exception as exc:  # the port is taken, or the front door broke: the CLI and the flows still work
            front = None
            print(f"hefa serve: 入口未启动 / front door not started: {exc}", flush=True)
        if built is not None:
            prefect_serve(*built, print_starting_message=False)
        else:
            while True:
                time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        if front is not None:
            front.stop()
        if desk is not None:
            desk.stop()
        if reconciler is not None:
            reconciler.stop()
        if dispatcher is not None:
            dispatcher.stop()
        stop_process(server)
