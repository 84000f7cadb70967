"""Measures 3 and 4: ``hefa verify`` over a long audit chain, and ``hefa pending`` /
``hefa list`` over 10,000 open matters — each against a bare Python process
doing the same reading, on the same database, in the same run.

The data are built fast but consistent with the models: audit events hashed
with ``hefa.review.records.audit.event_hash`` and chained, inserted in batches
(``executemany`` on SQLite, ``COPY`` on PostgreSQL).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import sys
import time
from typing import Any

from .harness import (
    HEFA,
    Install,
    Result,
    installation,
    make_office,
    median,
    ratio_target,
    report,
    run_timed,
    time_v,
)

COLUMNS = ("seq", "at", "officer", "role", "action", "matter_id", "outcome", "reason",
           "doc_sha256", "channel", "payload", "payload_digest", "prev_hash", "hash")


def _db_target(inst: Install) -> tuple[str, str]:
    """('sqlite', path) or ('postgres', conninfo) of the installation's database."""
    url = inst.env.get("HEFA_DATABASE_URL")
    if url:
        return "postgres", url.replace("postgresql+psycopg://", "postgresql://")
    return "sqlite", str(inst.home / "hefa.db")


def build_chain(inst: Install, count: int, matter_ids: list[str] | None = None, batch: int = 20000) -> int:
    """Append ``count`` valid events after the chain's current head; returns the new head seq."""
    from hefa.review.records import audit, db

    with db.read_session() as s:
        seq, prev, last_at = audit._head_row(s) or (0, audit.GENESIS, None)
    kind, target = _db_target(inst)
    base = dt.datetime(2026, 1, 5, 1, 0, tzinfo=dt.UTC)
    if last_at:  # event time never goes backwards (verify checks it): start after the head
        base = max(base, dt.datetime.fromisoformat(last_at) + dt.timedelta(seconds=1))
    doc = hashlib.sha256(b"document").hexdigest()
    actions = ("opinion", "assess", "publish", "file", "submit", "revise")
    conn: Any
    if kind == "sqlite":
        import sqlite3

        conn = sqlite3.connect(target)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=OFF")
    else:
        import psycopg

        conn = psycopg.connect(target)
    try:
        done = 0
        while done < count:
            rows = []
            for _ in range(min(batch, count - done)):
                seq += 1
                payload = audit.canonical_json({"step": seq % 97, "note": "批量生成的审计事件"})
                fields = {
                    "seq": seq,
                    "at": (base + dt.timedelta(microseconds=seq * 1000)).isoformat(timespec="microseconds"),
                    "officer": "li", "role": "counsel", "action": actions[seq % len(actions)],
                    "matter_id": matter_ids[seq % len(matter_ids)] if matter_ids else f"2025-{seq % 9000:04d}",
                    "outcome": "accepted" if seq % 13 else "refused",
                    "reason": "" if seq % 13 else "不具有法律顾问岗位 / wrong role",
                    "doc_sha256": doc, "channel": "cli",
                    "payload_digest": hashlib.sha256(payload.encode()).hexdigest(), "prev_hash": prev,
                }
                digest = audit.event_hash(fields)
                rows.append(tuple(fields[c] if c in fields else (payload if c == "payload" else digest)
                                  for c in COLUMNS))
                prev = digest
            if kind == "sqlite":
                conn.executemany(f"INSERT INTO auditevent ({', '.join(COLUMNS)}) VALUES "
                                 f"({', '.join('?' * len(COLUMNS))})", rows)
                conn.commit()
            else:
                with conn.cursor() as cur, cur.copy(f"COPY auditevent ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                conn.commit()
            done += len(rows)
    finally:
        conn.close()
    if kind == "postgres":
        import psycopg

        with psycopg.connect(target, autocommit=True) as c:
            c.execute("VACUUM ANALYZE auditevent")
    return seq


BARE_VERIFY_SQLITE = """
import hashlib, sqlite3, sys
conn = sqlite3.connect(sys.argv[1])
n = 0
for row in conn.execute("SELECT {cols} FROM auditevent ORDER BY seq"):
    hashlib.sha256("\\x1f".join(map(str, row)).encode()).hexdigest()
    n += 1
print(n)
"""

BARE_VERIFY_PG = """
import hashlib, psycopg, sys
conn = psycopg.connect(sys.argv[1])
n = 0
with conn.cursor(name="chain") as cur:
    cur.itersize = 5000
    cur.execute("SELECT {cols} FROM auditevent ORDER BY seq")
    for row in cur:
        hashlib.sha256("\\x1f".join(map(str, row)).encode()).hexdigest()
        n += 1
print(n)
"""


def run_verify(quick: bool, *, postgres: bool = False) -> list[Result]:
    backend = "postgres" if postgres else "sqlite"
    count = 100_000 if quick else 1_000_000
    with installation("verify", postgres=postgres) as inst:
        from hefa.review.records import db

        db.engine()  # the schema, by hefa's own migrations
        t = time.perf_counter()
        build_chain(inst, count)
        print(f"  [{backend}] {count:,} chained events built in {time.perf_counter() - t:.1f} s", flush=True)
        kind, target = _db_target(inst)
        script = (BARE_VERIFY_SQLITE if kind == "sqlite" else BARE_VERIFY_PG).format(cols=", ".join(COLUMNS))
        bare_cmd = [sys.executable, "-c", script, target]
        hefa_walls, hefa_rss, bare_walls, bare_rss = [], [], [], []
        for _ in range(2):
            wall, rss, code, err = time_v(bare_cmd, inst.env)
            if code:
                raise RuntimeError(f"bare verify failed: {err}")
            bare_walls.append(wall)
            bare_rss.append(rss)
            wall, rss, code, err = time_v([HEFA, "verify"], inst.env)
            if code:
                raise RuntimeError(f"hefa verify failed: {err}")
            hefa_walls.append(wall)
            hefa_rss.append(rss)
        value, base = median(hefa_walls), median(bare_walls)
        peak = max(hefa_rss)
        passed = value / base <= 1.5 and peak <= 200
        return [report(Result(f"3 `hefa verify` over {count:,} events", value, base, "s",
                              "≤ 1.5×, peak ≤ 200 MB", passed, backend,
                              f"peak RSS {peak:.0f} MB (bare {max(bare_rss):.0f} MB); median of 2 runs each",
                              {"peak_mb": peak}))]


# --- measure 4 --------------------------------------------------------------------------------

def populate_matters(inst: Install, count: int) -> list[str]:
    """``count`` open matters spread over every kind and stage, each with its first version."""
    from sqlalchemy import insert, select

    from hefa.review.law.rules import Kind, rules_for
    from hefa.review.records import db
    from hefa.review.records.models import DocumentVersion, Matter, Officer

    eng = db.engine()
    with db.read_session() as s:
        drafter = s.scalar(select(Officer.id).where(Officer.name == "zhang"))
    kinds = list(Kind)
    now = dt.datetime.now(dt.UTC)
    today = dt.date.today()
    matters, versions, ids = [], [], []
    for i in range(1, count + 1):
        kind = kinds[i % len(kinds)]
        stages = [s.step.value for s in rules_for(kind).stages]
        stage = stages[(i // len(kinds)) % len(stages)]
        matter_id = f"2025-{i:05d}"
        ids.append(matter_id)
        opened = today - dt.timedelta(days=i % 40)
        matters.append({
            "id": matter_id, "kind": kind.value, "title": f"关于第{i}号事项的合法性审查",
            "organ": "河东镇人民政府", "drafter_id": drafter, "stage": stage,
            "needs_revision": i % 23 == 0, "status": "open", "flags": "", "current_version_id": i,
            "opened_on": opened, "stage_since": opened + dt.timedelta(days=i % 5), "review_since": None,
            "issued_on": None, "extension_days": 0, "run_id": None, "created_at": now, "updated_at": now,
        })
        versions.append({
            "id": i, "matter_id": matter_id, "number": 1,
            "sha256": hashlib.sha256(f"v{i}".encode()).hexdigest(), "size": 12345,
            "filename": f"draft-{i}.docx", "uploader_id": drafter, "uploaded_at": now, "findings": "[]",
        })
    with eng.begin() as conn:
        for start in range(0, count, 2000):
            conn.execute(insert(Matter.__table__), matters[start:start + 2000])  # type: ignore[attr-defined]
            conn.execute(insert(DocumentVersion.__table__), versions[start:start + 2000])  # type: ignore[attr-defined]
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SELECT setval('documentversion_id_seq', {count})")
    if eng.dialect.name == "postgresql":
        with eng.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
    return ids


def _pending_sql(officer: str) -> str:
    """The query behind ``hefa pending``, written out by hand for the bare baseline."""
    from hefa.review.law.rules import Kind, rules_for

    counsel_pairs = []
    for kind in Kind:
        steps = [s.step.value for s in rules_for(kind).stages if s.role.value == "counsel"]
        if steps:
            quoted = ", ".join(f"'{s}'" for s in steps)
            counsel_pairs.append(f"(kind = '{kind.value}' AND stage IN ({quoted}) AND needs_revision = false)")
    return ("SELECT id, kind, title, organ, drafter_id, stage, needs_revision, status, stage_since, opened_on "
            f"FROM matter WHERE status = 'open' AND ({' OR '.join(counsel_pairs)}) "
            "ORDER BY stage_since, id LIMIT 500")


BARE_QUERY = """
import sys
import sqlmodel  # noqa: F401 — the baseline pays the ORM's import, as hefa does
from sqlalchemy import create_engine, text
engine = create_engine(sys.argv[1])
with engine.connect() as conn:
    conn.execute(text("SELECT id, roles FROM officer WHERE name = :n"), {"n": "li"}).all()
    rows = conn.execute(text(sys.argv[2])).all()
for row in rows:
    print(*row)
"""


def run_queries(quick: bool, *, postgres: bool = False) -> list[Result]:
    backend = "postgres" if postgres else "sqlite"
    n_matters = 10_000
    n_events = 100_000 if quick else 1_000_000
    repeat = 10
    with installation("queries", postgres=postgres) as inst:
        make_office(inst)
        t = time.perf_counter()
        ids = populate_matters(inst, n_matters)
        build_chain(inst, n_events, ids)
        print(f"  [{backend}] {n_matters:,} matters and {n_events:,} audit events in "
              f"{time.perf_counter() - t:.1f} s", flush=True)
        url = inst.env.get("HEFA_DATABASE_URL") or f"sqlite:///{inst.home / 'hefa.db'}"
        list_sql = ("SELECT id, kind, title, organ, stage, status, needs_revision, stage_since "
                    "FROM matter ORDER BY id DESC LIMIT 200")
        cases = [
            ("4 `hefa pending --as li`", [HEFA, "pending", "--as", "li"], _pending_sql("li")),
            ("4 `hefa list`", [HEFA, "list"], list_sql),
        ]
        results = []
        env = inst.cli_env()
        for name, cmd, sql in cases:
            hefa_walls, bare_walls = [], []
            lines = 0
            for _ in range(repeat):
                wall, done = run_timed([sys.executable, "-c", BARE_QUERY, url, sql], env)
                if done.returncode:
                    raise RuntimeError(done.stderr.decode()[-600:])
                bare_walls.append(wall)
                wall, done = run_timed(cmd, env)
                if done.returncode:
                    raise RuntimeError(done.stderr.decode()[-600:])
                hefa_walls.append(wall)
                lines = done.stdout.count(b"\n")
            results.append(ratio_target(f"{name} ({n_matters:,} matters, {n_events:,} events)",
                                        median(hefa_walls), median(bare_walls), 2.0, backend=backend,
                                        note=f"median of {repeat}; {lines} lines printed"))
        return results


if __name__ == "__main__":  # pragma: no cover - manual use
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    for r in run_verify(True) + run_queries(True):
        print(r.line())
