"""Measure 6: many drafters at once. ``hefa submit`` from 8 parallel processes while
``hefa serve`` runs: nothing lost, no error, the chain verifies, one flow run per
matter."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

from .harness import (
    CONTRACT,
    HEFA,
    Children,
    Result,
    docx_bytes,
    installation,
    make_office,
    report,
    run_timed,
    start_hefa_serve,
)


def run(quick: bool, *, postgres: bool = False) -> list[Result]:
    backend = "postgres" if postgres else "sqlite"
    total = 40 if quick else 200
    workers = 8
    children = Children()
    with installation("parallel", postgres=postgres) as inst:
        try:
            make_office(inst)
            doc = inst.home / "contract.docx"
            doc.write_bytes(docx_bytes(CONTRACT))
            _, api = start_hefa_serve(children, inst)
            env = inst.cli_env("zhang")

            def one(i: int) -> tuple[int, str | None, str | None, str]:
                _, done = run_timed([HEFA, "submit", str(doc), "--kind", "contract", "--title",
                                     f"并发提交的合同 {i}", "--as", "zhang", "--json"], env)
                try:
                    data = json.loads(done.stdout)
                except ValueError:
                    data = {}
                return done.returncode, data.get("matter"), data.get("flow_run_id"), done.stderr.decode()[-300:]

            t = time.perf_counter()
            with ThreadPoolExecutor(workers) as pool:
                answers = list(pool.map(one, range(total)))
            elapsed = time.perf_counter() - t
            errors = [a for a in answers if a[0] != 0 or not a[1]]
            matters = {a[1] for a in answers if a[1]}
            no_run = [a for a in answers if a[0] == 0 and not a[2]]

            from sqlalchemy import func, select

            from hefa.review.records import db
            from hefa.review.records.models import AuditEvent, Matter

            with db.read_session() as s:
                in_db = s.scalar(select(func.count()).select_from(Matter)) or 0
                submits = s.scalar(select(func.count()).select_from(AuditEvent)
                                   .where(AuditEvent.action == "submit", AuditEvent.outcome == "accepted")) or 0
            _, verified = run_timed([HEFA, "verify"], inst.cli_env())
            # a run the CLI could not create (Prefect busy) is created by hefa serve's reconciler
            deadline = time.monotonic() + 60
            while True:
                runs = api.call("POST", "/flow_runs/count", {"flow_runs": {"tags": {"all_": ["hefa", "contract"]}}})
                if runs >= total or time.monotonic() > deadline:
                    break
                time.sleep(1)
            lost = total - len(matters)
            passed = (not errors and lost == 0 and in_db == total and submits == total
                      and verified.returncode == 0 and runs == total)
            note = (f"{total} submits by {workers} processes in {elapsed:.1f} s; exit errors {len(errors)}, "
                    f"lost {lost}, matters in db {in_db}, submit events {submits}, "
                    f"verify {'ok' if verified.returncode == 0 else 'FAILED'}, flow runs {runs}"
                    + (f" ({len(no_run)} created by the reconciler: the CLI's create call failed)" if no_run else "")
                    + (f"; first error: {errors[0][3]}" if errors else ""))
            return [report(Result(f"6 {total} submissions from {workers} processes", float(lost + len(errors)),
                                  None, "lost+errors", f"0 lost, 0 errors, verifies, {total} runs", passed,
                                  backend, note))]
        finally:
            children.stop_all()
