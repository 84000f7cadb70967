"""Real processes writing at once (multiprocessing, spawn), on SQLite and PostgreSQL: the
write transaction serialises them, so the gate decides on one consistent state and the
audit chain never forks."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
from pathlib import Path
from typing import Any

from sqlalchemy import text

from hefa.review.records.audit import verify
from hefa.review.records.db import read_session
from hefa.review.services import steps
from tests.concurrent_workers import ENV_KEYS, opinion_worker, refusal_worker, submit_worker
from tests.conftest import CLEAN, Office, confirm_controls


def _environment() -> dict[str, str]:
    return {k: os.environ[k] for k in ENV_KEYS if k in os.environ}


def run(target: Any, arglists: list[tuple[Any, ...]], tmp_path: Path, timeout: float = 120) -> list[dict[str, Any]]:
    ctx = mp.get_context("spawn")
    outs = [tmp_path / f"worker-{i}.json" for i in range(len(arglists))]
    processes = [ctx.Process(target=target, args=(*args, out)) for args, out in zip(arglists, outs, strict=True)]
    for p in processes:
        p.start()
    for p in processes:
        p.join(timeout)
    for p in processes:
        if p.is_alive():
            p.kill()
            p.join()
    assert [p.exitcode for p in processes] == [0] * len(processes)
    return [json.loads(out.read_text(encoding="utf-8")) for out in outs]


def chain_rows() -> list[tuple[Any, ...]]:
    with read_session() as session:
        verify(session)
        return list(session.connection().execute(text("SELECT seq, action, outcome, officer, matter_id, reason"
                                                      " FROM auditevent ORDER BY seq")))


def test_eight_processes_submitting_at_once(office: Office, tmp_path: Path) -> None:
    env = _environment()
    drafters = ["zhang", "zhou"]
    barrier = mp.get_context("spawn").Barrier(8)
    results = run(submit_worker, [(env, drafters[i % 2], office.tokens[drafters[i % 2]], 25, CLEAN, barrier)
                                  for i in range(8)], tmp_path, timeout=240)
    assert [r["errors"] for r in results] == [[]] * 8
    ids = [m for r in results for m in r["ids"]]
    assert len(ids) == 200 and len(set(ids)) == 200
    rows = chain_rows()
    seqs = [r[0] for r in rows]
    assert seqs == list(range(1, len(rows) + 1))
    submits = [r for r in rows if r[1] == "submit"]
    assert len(submits) == 200 and all(r[2] == "accepted" for r in submits)
    assert sorted(r[4] for r in submits) == sorted(ids)
    with read_session() as session:
        assert session.connection().execute(text("SELECT count(*) FROM matter")).scalar() == 200
        assert session.connection().execute(text("SELECT count(*) FROM documentversion")).scalar() == 200


def test_two_counsel_recording_an_opinion_at_the_same_moment(office: Office, tmp_path: Path) -> None:
    env = _environment()
    matter = steps.submit(office["zhang"], kind="normative-document", title="规定", data=CLEAN,
                          filename="d.docx").matter_id
    confirm_controls(office, matter, who="chen")  # 确认适用程序 by the head: neither counsel's step yet
    barrier = mp.get_context("spawn").Barrier(2)
    results = run(opinion_worker, [(env, name, office.tokens[name], matter, barrier) for name in ("li", "qian")],
                  tmp_path)
    accepted = [r for r in results if r["accepted"]]
    refused = [r for r in results if not r["accepted"]]
    assert len(accepted) == 1 and len(refused) == 1, results
    assert refused[0]["code"] == "out-of-order", refused[0]
    rows = [r for r in chain_rows() if r[4] == matter and r[1] == "opinion"]
    assert sorted(r[2] for r in rows) == ["accepted", "refused"]
    assert {r[3] for r in rows} == {"li", "qian"}
    with read_session() as session:
        opinions = session.connection().execute(
            text("SELECT count(*) FROM legalopinion WHERE matter_id = :m"), {"m": matter}).scalar()
    assert opinions == 1


def test_many_refusals_appended_at_once(office: Office, tmp_path: Path) -> None:
    env = _environment()
    before = len(chain_rows())
    names = ["li", "qian", "wang", "zhao"]  # two processes per officer
    barrier = mp.get_context("spawn").Barrier(8)
    results = run(refusal_worker, [(env, names[i % 4], 10, barrier) for i in range(8)], tmp_path)
    assert [r["errors"] for r in results] == [[]] * 8
    assert all(code == "credentials" for r in results for code in r["codes"])
    rows = chain_rows()
    assert [r[0] for r in rows] == list(range(1, len(rows) + 1))
    new = rows[before:]
    logins = [r for r in new if r[1] == "login"]
    locks = [r for r in new if r[1] == "officer-locked"]
    assert len(logins) == 80 and all(r[2] == "refused" for r in logins)
    # each officer failed 20 times: locked exactly once, at the fifth failure
    assert sorted(r[3] for r in locks) == sorted(names)
    assert len(new) == 80 + len(names)
    for name in names:
        mine = [r for r in new if r[3] == name]
        assert sum("已锁定" in r[5] for r in mine) >= 10, name
