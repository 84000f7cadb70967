"""``python -m benchmarks [--quick] [--postgres] [--only 1,2,...]``: every measure, then a table."""

from __future__ import annotations

import argparse
import signal
import sys
import time
import traceback
from collections.abc import Callable

from .harness import Result, kill_tagged, postgres_available


def _terminate(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes and fewer repetitions")
    parser.add_argument("--postgres", action="store_true",
                        help="also run measures 1, 3, 4, 6, 8-10 on PostgreSQL at 127.0.0.1:5432")
    parser.add_argument("--only", default="", help="comma-separated groups: steps,verify,queries,prescreen,"
                                                   "parallel,scale,front (default: all)")
    parser.add_argument("--matters", type=int, default=None,
                        help="open matters (suspended runs) for the scale group (default 10000; 2000 with --quick)")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)

    from . import data_bench, flows_bench, front_door_bench, parallel_bench, prescreen_bench, scale_bench

    plan: list[tuple[str, str, Callable[[], list[Result]]]] = [
        ("prescreen", "sqlite", lambda: prescreen_bench.run(args.quick)),
        ("verify", "sqlite", lambda: data_bench.run_verify(args.quick)),
        ("queries", "sqlite", lambda: data_bench.run_queries(args.quick)),
        ("steps", "sqlite", lambda: flows_bench.run(args.quick)),
        ("parallel", "sqlite", lambda: parallel_bench.run(args.quick)),
        ("scale", "sqlite", lambda: scale_bench.run(args.quick, matters=args.matters)),
        ("front", "sqlite", lambda: front_door_bench.run(args.quick)),
    ]
    if args.postgres:
        if not postgres_available():
            print("PostgreSQL does not answer on 127.0.0.1:5432: --postgres skipped", file=sys.stderr)
        else:
            plan += [
                ("steps", "postgres", lambda: flows_bench.run(args.quick, postgres=True, instant=False)),
                ("verify", "postgres", lambda: data_bench.run_verify(args.quick, postgres=True)),
                ("queries", "postgres", lambda: data_bench.run_queries(args.quick, postgres=True)),
                ("parallel", "postgres", lambda: parallel_bench.run(args.quick, postgres=True)),
                ("scale", "postgres", lambda: scale_bench.run(args.quick, postgres=True, matters=args.matters)),
            ]
    only = {g.strip() for g in args.only.split(",") if g.strip()}
    results: list[Result] = []
    failures: list[str] = []
    started = time.perf_counter()
    try:
        for group, backend, fn in plan:
            if only and group not in only:
                continue
            print(f"== {group} [{backend}] {'(quick)' if args.quick else ''}", flush=True)
            t = time.perf_counter()
            try:
                results += fn()
            except KeyboardInterrupt:
                raise
            except Exception as exc:
                traceback.print_exc()
                failures.append(f"{group} [{backend}]: {exc}")
            print(f"   ({time.perf_counter() - t:.0f} s)", flush=True)
    except KeyboardInterrupt:
        print("\ninterrupted: stopping everything started", file=sys.stderr)
        kill_tagged()
        return 130
    finally:
        kill_tagged()
    _table(results)
    for failure in failures:
        print(f"ERROR {failure}")
    print(f"total {time.perf_counter() - started:.0f} s")
    return 0 if not failures and all(r.passed is not False for r in results) else 1


def _table(results: list[Result]) -> None:
    from .harness import fmt

    rows = [("backend", "measure", "value", "baseline", "ratio", "target", "result")]
    for r in results:
        rows.append((r.backend, r.measure, fmt(r.value, r.unit), fmt(r.baseline, r.unit),
                     f"{r.ratio:.2f}x" if r.ratio is not None else "—", r.target,
                     {True: "PASS", False: "FAIL", None: "n/a"}[r.passed]))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    print()
    for j, row in enumerate(rows):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
        if j == 0:
            print("  ".join("-" * w for w in widths))
    print()
    for r in results:
        if r.note:
            print(f"- [{r.backend}] {r.measure}: {r.note}")


if __name__ == "__main__":
    sys.exit(main())
