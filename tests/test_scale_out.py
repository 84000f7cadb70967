"""Scale-out: a separately started Prefect server on PostgreSQL, hefa on PostgreSQL, a work
pool and a `prefect worker` process picking up the review flows."""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from hefa.app.serve import prefect_executable, stop_process
from tests.conftest import CLEAN, PG, PG_ADMIN_URL, free_port, hefa_bin, item_args

pytestmark = [pytest.mark.prefect, pytest.mark.postgres]


def _create_db(name: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def _drop_db(name: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"))
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


def _spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(args, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)


def _until(predicate, timeout: float, what: str, log: Path) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise AssertionError(f"{what} did not happen in {timeout}s:\n{log.read_text()[-4000:]}")


@pytest.mark.skipif(not PG, reason="PostgreSQL is not running on 127.0.0.1:5432")
def test_worker_on_a_pool_runs_the_review(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hefa_db, prefect_db = (f"hefa_scale_{uuid.uuid4().hex[:8]}", f"prefect_scale_{uuid.uuid4().hex[:8]}")
    _create_db(hefa_db)
    _create_db(prefect_db)
    base = PG_ADMIN_URL.rsplit("/", 1)[0].split("://", 1)[1]
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HEFA_", "PREFECT_"))}
    env.update({
        "HEFA_HOME": str(tmp_path / "home"), "HEFA_DATABASE_URL": f"postgresql+psycopg://{base}/{hefa_db}",
        "PREFECT_API_URL": f"http://127.0.0.1:{port}/api", "PREFECT_HOME": str(tmp_path / "prefect"),
        "PREFECT_API_DATABASE_CONNECTION_URL": f"postgresql+asyncpg://{base}/{prefect_db}",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_WORKER_QUERY_SECONDS": "1",
        "PREFECT_WORKER_PREFETCH_SECONDS": "1", "HEFA_WEB_PORT": str(free_port()),
    })
    log = tmp_path / "scale.log"
    processes: list[subprocess.Popen[bytes]] = []
    try:
        processes.append(_spawn([prefect_executable(), "server", "start", "--host", "127.0.0.1",
                                 "--port", str(port)], env, log))
        from hefa.flows import rest

        monkeypatch.setenv("PREFECT_API_URL", env["PREFECT_API_URL"])
        _until(rest.healthy, 90, "prefect server start", log)
        init = json.loads(subprocess.run([hefa_bin(), "init", "--json"], env=env, capture_output=True,
                                         text=True, check=True).stdout)
        processes.append(_spawn([hefa_bin(), "serve", "--pool", "review-pool"], env, log))
        _until(lambda: rest.deployment_id("规范性文件合法性审查 normative-document-review") is not None,
               120, "deployment to the pool", log)
        processes.append(_spawn([prefect_executable(), "worker", "start", "--pool", "review-pool"], env, log))

        def hefa(*args: str, token: str) -> dict:
            done = subprocess.run([hefa_bin(), *args, "--json"], env=dict(env, HEFA_TOKEN=token),
                                  capture_output=True, text=True, timeout=120)
            assert done.returncode == 0, done.stderr + done.stdout
            return json.loads(done.stdout)

        tokens = {"admin": init["token"]}
        for name, role in [("zhang", "drafter"), ("li", "counsel")]:
            tokens[name] = hefa("officer", "add", name, "--role", role, "--as", "admin", token=tokens["admin"])["token"]
        draft = tmp_path / "draft.docx"
        draft.write_bytes(CLEAN)
        submitted = hefa("submit", str(draft), "--kind", "contract", "--title", "工作池合同", "--as", "zhang",
                         token=tokens["zhang"])
        run_id = submitted["flow_run_id"]
        assert run_id

        def paused_at(label: str) -> bool:
            state = (rest.read_run(run_id) or {}).get("state") or {}
            key = (state.get("state_details") or {}).get("pause_key") or ""
            return state.get("type") == "PAUSED" and key.startswith(label)

        _until(lambda: paused_at("controls-v1"), 120, "the worker's first suspension", log)
        hefa("controls", submitted["matter"], "--reason", "合同金额未达重大合同标准，不涉及附加程序", "--as", "li",
             token=tokens["li"])  # 确认适用程序
        _until(lambda: paused_at("review-v1"), 120, "the worker's next suspension", log)
        hefa("opinion", submitted["matter"], "--conclusion", "lawful", "--reasons", "合法", "--version", "1",
             *item_args("contract"), "--as", "li",
             token=tokens["li"])
        # the township's rule: every contract goes to collective deliberation after the opinion
        _until(lambda: paused_at("deliberation-v1"), 120, "the flow catching up on the worker", log)
    finally:
        for process in reversed(processes):
            stop_process(process)
        _drop_db(hefa_db)
        _drop_db(prefect_db)
