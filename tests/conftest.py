"""Fixtures on real parts: a real SQLite file, real PostgreSQL when it answers on
127.0.0.1:5432 (a database created and dropped per test), and a real Prefect
server with ``hefa serve`` for the flow tests. Nothing is mocked."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hefa.forms.drafts import plain_docx

os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ.pop("HEFA_TODAY", None)
os.environ.pop("HEFA_TOKEN", None)

SAMPLES = Path(__file__).resolve().parents[1] / "forms" / "samples"
PG_ADMIN_URL = os.environ.get("HEFA_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def postgres_available() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=0.5):
            pass
    except OSError:
        return False
    try:
        from sqlalchemy import create_engine, text

        eng = create_engine(PG_ADMIN_URL)
        with eng.connect() as conn:
            conn.execute(text("SELECT 1"))
        eng.dispose()
        return True
    except Exception:
        return False


PG = postgres_available()

# The longest modules first (measured on a loaded two-core machine, longest first). Under ``--dist
# loadfile`` a worker takes whole modules in collection order, so these start at once and the short
# modules fill in around them, instead of one long module running alone at the end of the suite.
LONGEST_FIRST = ("test_flows_e2e.py", "test_front_door_browser.py", "test_flows_e2e_replay.py", "test_demo.py",
                 "test_reconcile.py", "test_scale_out.py", "test_browser_form.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run :data:`LONGEST_FIRST` modules first, in that order; the rest keep their order."""
    rank = {name: position for position, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


def reset_caches() -> None:
    """Forget every per-process cache that depends on the environment."""
    from hefa.review.config import reset_settings
    from hefa.review.law.workdays import reset_calendar_cache
    from hefa.review.records import db

    reset_settings()
    db.dispose_all()
    reset_calendar_cache()


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database, dropped afterwards."""
    if not PG:
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    from sqlalchemy import create_engine, text

    name = f"hefa_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        from hefa.review.records import db

        db.dispose_all()
        with admin.connect() as conn:
            conn.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"))
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def hefa_home(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A hefa installation on SQLite, and again on PostgreSQL when it is there."""
    monkeypatch.setenv("HEFA_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("HEFA_DATABASE_URL", raising=False)
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")  # no Prefect: steps must not need it
    if request.param == "postgres":
        monkeypatch.setenv("HEFA_DATABASE_URL", request.getfixturevalue("pg_database"))
    reset_caches()
    yield tmp_path / "home"
    reset_caches()


@pytest.fixture
def sqlite_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A hefa installation on SQLite only (for tests about files and the CLI)."""
    monkeypatch.setenv("HEFA_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("HEFA_DATABASE_URL", raising=False)
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")
    reset_caches()
    yield tmp_path / "home"
    reset_caches()


@dataclass
class Office:
    """A township's officers, with their credentials (as ``Credentials``) and TOTP secrets."""

    creds: dict[str, object]
    secrets: dict[str, str]
    tokens: dict[str, str]

    def __getitem__(self, name: str):  # type: ignore[no-untyped-def]
        return self.creds[name]


STAFF = [
    ("admin", "admin"), ("zhang", "drafter"), ("zhou", "drafter"), ("li", "counsel"),
    ("qian", "counsel"), ("wang", "assessor"), ("zhao", "secretary"), ("chen", "head"),
    ("sun", "filing_officer"),
]


def make_office(organ: str = "河东镇人民政府", *, drill: bool = False) -> Office:
    """A township's officers. ``drill``: record the installation as a drill first (``hefa init
    --drill``): only a drill honours a frozen date (``HEFA_TODAY``)."""
    from hefa.review.people import officers
    from hefa.review.services.steps import Credentials

    if drill:
        from hefa.review.installation import record_installation

        record_installation(drill=True)

    admin = officers.bootstrap_admin("admin", organ)
    assert admin is not None
    creds: dict[str, object] = {"admin": Credentials("admin", token=admin.token)}
    secrets = {"admin": admin.totp_secret}
    tokens = {"admin": admin.token}
    for name, role in STAFF[1:]:
        enrolment = officers.add_officer(creds["admin"], name, role, organ)  # type: ignore[arg-type]
        creds[name] = Credentials(name, token=enrolment.token)
        secrets[name] = enrolment.totp_secret
        tokens[name] = enrolment.token
    return Office(creds, secrets, tokens)


@pytest.fixture
def office(hefa_home: Path) -> Office:
    return make_office()


@pytest.fixture
def sqlite_office(sqlite_home: Path) -> Office:
    return make_office()


def checklist_answers(matter_or_kind: str, result: str = "符合") -> list[str]:
    """Counsel's answer to every item of the matter's (or kind's) checklist (逐项审查结果), one
    ``KEY=RESULT`` each, as ``hefa opinion --item`` and ``record_opinion(items=…)`` take them."""
    from hefa.review.law.checklists import checklist_for
    from hefa.review.law.rules import Kind

    kind = matter_or_kind
    if kind not in {k.value for k in Kind}:
        from hefa.review.records.queries import status_of

        kind = status_of(matter_or_kind)["kind"]
    return [f"{item.key}={result}" for item in checklist_for(kind).items]


def confirm_controls(office: Office, matter: str, flags: tuple[str, ...] | None = None, who: str = "li") -> None:
    """确认适用程序 (issue 14): counsel confirms the flags the drafter proposed (as submitted unless
    ``flags`` are given), so the matter may go on to public comment, review and the rest."""
    from hefa.review.records.queries import status_of
    from hefa.review.services import steps

    confirmed = list(flags) if flags is not None else list(status_of(matter)["flags"])
    steps.confirm_controls(office[who], matter, flags=confirmed, reason="确认起草人提出的标记")


def certify_enforcers(office: Office, names: tuple[str, ...] = ("zhang", "zhou")) -> str:
    """持证上岗 (issue 14): give ``names`` a valid 行政执法证, and counsel (li, qian) 法律职业资格;
    returns the names as ``submit(enforcement_officers=…)`` takes them."""
    from hefa.review.people import officers

    for name in names:
        officers.set_certificates(office["admin"], name, cert_number=f"ZF-{name}", cert_valid_until="2030-12-31")
    for name in ("li", "qian"):
        officers.set_certificates(office["admin"], name, legal_qualification=f"A-{name}")
    return ",".join(names)


def item_args(matter_or_kind: str, result: str = "符合") -> list[str]:
    """The same answers as ``hefa opinion`` options: ``--item KEY=RESULT`` for every item."""
    return [arg for answer in checklist_answers(matter_or_kind, result) for arg in ("--item", answer)]


def checklist_text(matter_or_kind: str, result: str = "符合") -> str:
    """The same answers as the opinion form's 逐项审查结果 field (one per line)."""
    return "\n".join(checklist_answers(matter_or_kind, result))


def docx_bytes(paragraphs: list[str], title: str = "关于加强乡村治理的若干规定") -> bytes:
    """A real .docx built with python-docx."""
    return plain_docx(paragraphs, title)


CLEAN = docx_bytes(["第一条 为规范管理，根据有关法律法规，制定本规定。",
                    "第二条 镇人民政府依法履行管理职责。"])
REVISED = docx_bytes(["第一条 为规范管理，依照《中华人民共和国行政处罚法》等法律，制定本规定。",
                      "第二条 违法行为由有关部门依法处理。"])
WITH_FINE = docx_bytes(["第一条 为规范管理，制定本规定。",
                        "第二条 违反本规定的，由镇人民政府处五百元以上二千元以下罚款。"])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def hefa_bin() -> str:
    return str(Path(sys.executable).parent / "hefa")


def one_line_refusal(result: subprocess.CompletedProcess[str]) -> str:
    """A refusal by a real ``hefa`` process: exit code 2, one line on stderr, never a traceback."""
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    return result.stderr


@dataclass
class Served:
    """A running ``hefa serve`` (with its own Prefect server) and its environment."""

    home: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    log: Path

    def restart(self) -> None:
        from hefa.app.serve import stop_process

        stop_process(self.process)
        self.process = start_serve(self.env, self.log)


def start_serve(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen([hefa_bin(), "serve"], env=env, stdout=log.open("ab"),
                               stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                               start_new_session=True)
    wait_for_deployments(env, process, log)
    if env.get("HEFA_WEB_PORT"):
        wait_for_front_door(int(env["HEFA_WEB_PORT"]), process, log)
    return process


def wait_for_front_door(port: int, process: subprocess.Popen[bytes], log: Path, timeout: float = 60.0) -> None:
    """Until the front door answers: it starts after the deployments, in the same ``hefa serve``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("hefa serve exited:\n" + log.read_text()[-3000:])
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the front door did not answer on port {port}:\n" + log.read_text()[-3000:])


def wait_for_deployments(env: dict[str, str], process: subprocess.Popen[bytes], log: Path,
                         timeout: float = 120.0) -> None:
    import base64
    import json
    import urllib.request

    headers = {"Content-Type": "application/json"}
    if env.get("PREFECT_API_AUTH_STRING"):
        headers["Authorization"] = "Basic " + base64.b64encode(env["PREFECT_API_AUTH_STRING"].encode()).decode()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("hefa serve exited:\n" + log.read_text()[-3000:])
        try:
            request = urllib.request.Request(env["PREFECT_API_URL"] + "/deployments/filter", data=b"{}",
                                             headers=headers, method="POST")
            with urllib.request.urlopen(request, timeout=2) as response:
                if len(json.loads(response.read())) >= 6:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError("deployments did not appear:\n" + log.read_text()[-3000:])


def served_environment(home: Path) -> dict[str, str]:
    """The environment of a served installation at ``home`` (free ports for Prefect and the
    front door; the installation's Prefect auth string, made in ``home``, for hefa's processes)."""
    from hefa.app.serve import prefect_auth_string

    env = dict(os.environ)
    env.update({"HEFA_HOME": str(home), "PREFECT_API_URL": f"http://127.0.0.1:{free_port()}/api",
                "PREFECT_HOME": str(home / "prefect"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                "PREFECT_RUNNER_POLL_FREQUENCY": "1", "HEFA_WEB_PORT": str(free_port()),
                "PREFECT_API_AUTH_STRING": prefect_auth_string(home)})
    env.pop("PREFECT_SERVER_API_AUTH_STRING", None)
    return env


@contextlib.contextmanager
def served_installation(home: Path) -> Iterator[Served]:
    """``hefa serve`` with its front door at ``home``, on a Prefect server started first (on
    127.0.0.1, requiring the installation's auth string) and given time: on a loaded machine
    a Prefect server can take minutes to answer. Both are stopped at the end."""
    import urllib.request

    from hefa.app.serve import prefect_executable, stop_process

    home.mkdir(parents=True, exist_ok=True)
    env = served_environment(home)
    env.pop("HEFA_DATABASE_URL", None)
    env["PREFECT_SERVER_SERVICES_PAUSE_EXPIRATIONS_ENABLED"] = "false"
    (home / "prefect").mkdir(exist_ok=True)
    port = env["PREFECT_API_URL"].rsplit(":", 1)[1].split("/")[0]
    server = subprocess.Popen(
        [prefect_executable(), "server", "start", "--host", "127.0.0.1", "--port", port],
        env=env | {"PREFECT_SERVER_API_AUTH_STRING": env["PREFECT_API_AUTH_STRING"]},
        stdout=(home / "prefect" / "server.log").open("ab"), stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL, start_new_session=True)
    runner: Served | None = None
    try:
        wait_for(lambda: urllib.request.urlopen(env["PREFECT_API_URL"] + "/health", timeout=2).status == 200,
                 timeout=400, interval=1, what="the Prefect server")
        log = home / "serve.log"
        runner = Served(home, env, start_serve(env, log), log)
        yield runner
    finally:
        if runner is not None:
            stop_process(runner.process)
        stop_process(server)


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A real Prefect server and ``hefa serve`` for the whole session (on SQLite). The Prefect
    server requires the installation's auth string; ``env`` holds it, as hefa's processes do."""
    from hefa.app.serve import stop_process

    home = tmp_path_factory.mktemp("served") / "home"
    home.mkdir()
    env = served_environment(home)
    env.pop("HEFA_DATABASE_URL", None)
    log = home / "serve.log"
    process = start_serve(env, log)
    runner = Served(home, env, process, log)
    yield runner
    stop_process(runner.process)


@pytest.fixture
def served_env(served: Served, monkeypatch: pytest.MonkeyPatch) -> Served:
    """This test process pointed at the served installation (with its Prefect auth string)."""
    for key in ("HEFA_HOME", "PREFECT_API_URL", "PREFECT_HOME", "PREFECT_API_AUTH_STRING"):
        monkeypatch.setenv(key, served.env[key])
    monkeypatch.delenv("HEFA_DATABASE_URL", raising=False)
    reset_caches()
    return served


# --- helpers for the flow and browser tests (a served installation) --------------------------

_SERVED_OFFICES: dict[str, Office] = {}
TEAM_ROLES = ("drafter", "counsel", "assessor", "secretary", "head", "filing_officer")


def served_office(served: Served) -> Office:
    """The served installation's office, made once per session (the admin bootstraps once).

    Call it after ``served_env`` pointed this process at the served installation."""
    key = str(served.home)
    if key not in _SERVED_OFFICES:
        _SERVED_OFFICES[key] = make_office()
    return _SERVED_OFFICES[key]


def add_team(office: Office, prefix: str, organ: str = "河东镇人民政府") -> dict[str, str]:
    """One officer per role named ``<prefix>-<role>``, added to ``office`` once; role → name.

    A team per matter keeps one-time codes apart when matters are driven side by side."""
    from hefa.review.people import officers
    from hefa.review.services.steps import Credentials

    team: dict[str, str] = {}
    for role in TEAM_ROLES:
        name = f"{prefix}-{role}"
        if name not in office.tokens:
            enrolment = officers.add_officer(office["admin"], name, role, organ)  # type: ignore[arg-type]
            office.creds[name] = Credentials(name, token=enrolment.token)
            office.secrets[name] = enrolment.totp_secret
            office.tokens[name] = enrolment.token
        team[role] = name
    return team


_TOTP_LOCK = threading.Lock()
_TOTP_LAST: dict[str, int] = {}


def fresh_code(office: Office, name: str) -> str:
    """A one-time code the officer has not used yet in this session.

    hefa accepts a code once per 30 s step per officer, within ±1 step of drift: take the
    current step, or the next one when the current is spent; wait when both are spent."""
    import pyotp

    secret = office.secrets[name]  # keyed by secret: an officer of the same name in another home is another
    totp = pyotp.TOTP(secret)
    with _TOTP_LOCK:
        while True:
            now_step = int(time.time()) // totp.interval
            step = max(_TOTP_LAST.get(secret, 0) + 1, now_step)
            if step <= now_step + 1:
                break
            time.sleep(0.5)
        _TOTP_LAST[secret] = step
    return totp.generate_otp(step)


def wait_for(predicate, timeout: float = 60.0, interval: float = 0.2, what: str = "condition"):  # type: ignore[no-untyped-def]
    """Poll ``predicate`` until it returns something truthy; errors while polling are retried."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except AssertionError:
            raise
        except Exception as exc:  # the server restarting, a busy database
            last_error = exc
            value = None
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}"
                         + (f" (last error: {last_error})" if last_error else ""))


def run_state(run_id: str) -> dict[str, object]:
    """The flow run's current state as the Prefect API returns it ({} when unknown)."""
    from hefa.flows.rest import read_run

    return (read_run(run_id) or {}).get("state") or {}
