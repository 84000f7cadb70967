"""The main job under load (issue 13): consecutive ``hefa demo`` runs while others run beside them.

    python -m benchmarks.demo_load                 # 5 consecutive demos, 2 others looping beside them
    python -m benchmarks.demo_load --runs 3 --beside 1

Each demo has its own home folder, Prefect port and front-door port. The demos
beside the measured ones restart as soon as they end, so the machine stays loaded
for the whole measurement. Prints each measured run's exit status and wall time,
the load average, and exits non-zero unless every measured run passed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from .harness import HEFA, free_port


def run_demo(home: Path, log: Path) -> tuple[int, float]:
    """One whole ``hefa demo`` in its own home; its exit status and wall time."""
    env = dict(os.environ, PREFECT_SERVER_ANALYTICS_ENABLED="false", HEFA_WEB_PORT=str(free_port()))
    for name in ("HEFA_HOME", "HEFA_DATABASE_URL", "PREFECT_API_URL", "PREFECT_HOME", "HEFA_TODAY"):
        env.pop(name, None)
    started = time.monotonic()
    with log.open("ab") as out:
        status = subprocess.call([HEFA, "demo", "--home", str(home)], env=env, stdout=out,
                                 stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    return status, time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="consecutive measured demos")
    parser.add_argument("--beside", type=int, default=2, help="demos looping beside them")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="hefa-demo-load-"))
    stop = threading.Event()
    beside_results: list[int] = []

    def loop(index: int) -> None:
        while not stop.is_set():
            status, _ = run_demo(work / f"beside-{index}", work / f"beside-{index}.log")
            beside_results.append(status)

    loaders = [threading.Thread(target=loop, args=(i,), daemon=True) for i in range(args.beside)]
    for thread in loaders:
        thread.start()
    time.sleep(20 if args.beside else 0)  # the demos beside are starting their servers: load is real

    passed = 0
    for run in range(1, args.runs + 1):
        log = work / f"measured-{run}.log"
        status, seconds = run_demo(work / "measured", log)
        passed += status == 0
        load = os.getloadavg()[0]
        print(f"demo {run}/{args.runs}: exit {status}  {seconds:6.1f} s  load {load:.1f}"
              + ("" if status == 0 else f"  (log: {log})"), flush=True)
    stop.set()
    for thread in loaders:
        thread.join(timeout=600)
    print(f"passed {passed} of {args.runs} while {args.beside} other demos ran beside them "
          f"({beside_results.count(0)} of {len(beside_results)} of those passed); logs in {work}")
    return 0 if passed == args.runs else 1


if __name__ == "__main__":
    raise SystemExit(main())
