"""The reconciler: no matter is left waiting for an input it already has.

``hefa serve`` runs it every few seconds beside the runner. It uses only the
light REST client and ``review/`` queries:
- a matter submitted while Prefect was down gets its flow run;
- a suspended run whose wait label (stage and version) no longer matches its
  matter — a step was recorded but the CLI's wake was lost (a 503, a race with
  the suspension) — is woken;
- at start-up, runs left Running or Crashed by a killed ``hefa serve`` are
  rescheduled; their bodies are replay-safe.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from hefa.flows import notify, rest
from hefa.review.records import queries

log = logging.getLogger("hefa.reconcile")
TAG = "hefa"


def _runs_in(states: list[str], limit: int = 200) -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = []
    offset = 0
    while True:
        page = rest.call("POST", "/flow_runs/filter", {
            "flow_runs": {"state": {"type": {"any_": states}}, "tags": {"all_": [TAG]}},
            "limit": limit, "offset": offset}) or []
        runs += page
        if len(page) < limit:
            return runs
        offset += limit


def start_missing_runs() -> int:
    """Create the runs of matters that have none (the same idempotency key as ``hefa submit``
    uses, so a submit still creating its run and this pass never make two)."""
    started = 0
    for matter in queries.matters_without_flow_run():
        if notify.start_matter_run(matter["id"])["id"] is None:
            return started
        started += 1
    return started


def wake_stale_runs() -> int:
    paused = _runs_in(["PAUSED"])
    labels = queries.wait_labels([r["parameters"].get("matter_id", "") for r in paused])
    woken = 0
    for run in paused:
        matter_id = run["parameters"].get("matter_id", "")
        key = ((run.get("state") or {}).get("state_details") or {}).get("pause_key") or ""
        if matter_id in labels and key.rsplit("-", 1)[0] != labels[matter_id]:
            woken += bool(rest.wake(run["id"]))
    return woken


ORPHAN_AFTER_SECONDS = 120


def _age_seconds(run: dict[str, Any]) -> float:
    import datetime as dt

    stamp = (run.get("state") or {}).get("timestamp")
    if not stamp:
        return 0.0
    when = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return (dt.datetime.now(dt.UTC) - when).total_seconds()


# What Prefect's runner writes on the runs it cancels when ``hefa serve`` stops (SIGTERM,
# Ctrl-C): a run caught mid-step is Cancelled, not Crashed, and nothing else resumes it.
RUNNER_SHUTDOWN = "Runner is shutting down"


def reschedule_orphans() -> int:
    """Runs a stopped or killed ``hefa serve`` left behind → Scheduled: every Crashed run,
    every run the runner cancelled as it shut down (not one a person cancelled), and
    Running/Pending ones whose state is older than any step takes (a live run suspends
    within seconds)."""
    count = 0
    for run in _runs_in(["RUNNING", "PENDING", "CRASHED", "CANCELLED"]):
        state = run["state"]
        if state["type"] == "CANCELLED" and RUNNER_SHUTDOWN not in (state.get("message") or ""):
            continue
        if state["type"] in ("RUNNING", "PENDING") and _age_seconds(run) < ORPHAN_AFTER_SECONDS:
            continue
        rest.call("POST", f"/flow_runs/{run['id']}/set_state", {
            "state": {"type": "SCHEDULED", "name": "Rescheduled",
                      "message": "hefa serve restarted: replaying"}, "force": True})
        count += 1
    return count


def once() -> dict[str, int]:
    return {"started": start_missing_runs(), "woken": wake_stale_runs()}


class Reconciler(threading.Thread):
    """Runs ``once()`` every ``interval`` seconds until stopped."""

    def __init__(self, interval: float = 2.0) -> None:
        super().__init__(name="hefa-reconciler", daemon=True)
        self.interval = interval
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            try:
                once()
            except Exception as exc:  # keep reconciling; the next pass retries
                log.warning("reconcile pass failed: %s", exc)

    def stop(self) -> None:
        self.stopped.set()
