"""The dispatcher (通知投递): delivers the outbox's wake-ups that the fast path left.

Every accepted step writes "wake matter X's run" (``submit``: "start it") to the outbox in
its own transaction (``review/records/outbox.py``). The CLI or the desk then wakes the run at
once and marks the request done (``notify.after_step``): the fast path. When that wake-up
was lost — Prefect answered 503, was down, or the run was still busy with the previous step
— the request stays pending, and ``hefa serve``'s dispatcher delivers it: it reads a few
due rows (one indexed query, twice a second), and for each matter decides from the run's
state whether a wake-up is still owed, so that nothing is woken twice:

- no run yet → create it (the idempotent create ``hefa submit`` uses);
- suspended and behind the step (another wait label, or suspended by a replay that began
  before the step was recorded) → wake it; otherwise the run already saw the step;
- busy (Scheduled, Pending, Running) → look again shortly, when it has suspended; a step
  taken through the run's own form needs nothing more;
- ended while the matter is open → the sweep's repair (replay, or a fresh run).

A failed delivery is retried with back-off (capped, so that a lost wake-up is delivered
within seconds of Prefect answering again); while Prefect does not answer at all the
dispatcher asks once per pass, not once per request.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections import defaultdict
from typing import Any

from hefa.flows import notify, reconcile, rest
from hefa.review.records import outbox, queries
from hefa.review.records.db import read_session, write_transaction

log = logging.getLogger("hefa.dispatch")
BUSY = ("SCHEDULED", "PENDING", "RUNNING", "CANCELLING")
LOOK_AGAIN_SECONDS = 0.5


def _stamp(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(dt.UTC)


def replay_started(run_id: str) -> dt.datetime | None:
    """When the run's latest replay began (its last Running state), UTC."""
    states = rest.call("GET", f"/flow_run_states/?flow_run_id={run_id}") or []
    times = [_stamp(s.get("timestamp")) for s in states if s.get("type") == "RUNNING"]
    return max((t for t in times if t is not None), default=None)


def decide(matter: dict[str, Any] | None, requests: list[outbox.Request]) -> tuple[str, str]:
    """Deliver one matter's pending requests; ``(verdict, note)`` with verdict ``done`` or
    ``later`` (raises ``rest.PrefectUnavailable`` when Prefect does not answer)."""
    if matter is None:
        return "done", "unknown matter"
    if matter["run_id"] is None:
        if matter["status"] != "open":
            return "done", "closed without a run"
        created = notify.start_matter_run(matter["id"])
        if created["id"] is None:
            raise rest.PrefectUnavailable(str(created.get("note")))
        return "done", "started"
    run = rest.read_run(matter["run_id"])
    if run is None:
        return "done", reconcile.repair_run(matter, None, wake_if_behind=False) or "gone"
    kind = (run.get("state") or {}).get("type")
    if kind in BUSY:
        return "later", "run busy"
    if kind == "PAUSED":
        if reconcile.pause_label(run) == matter["label"]:
            began = replay_started(run["id"])
            if began is not None and began >= max(r.created_at for r in requests):
                return "done", "already seen"
        return ("done", "woken") if rest.wake(run["id"]) else ("later", "wake not accepted")
    if matter["status"] != "open":
        return "done", "closed"
    return "done", reconcile.repair_ended(matter, run)


def deliver_due(limit: int = 50) -> dict[str, int]:
    """One pass over the due requests; counts by outcome."""
    with read_session() as session:
        due = outbox.due(session, limit)
    if not due:
        return {}
    by_matter: dict[str, list[outbox.Request]] = defaultdict(list)
    for request in due:
        by_matter[request.matter_id].append(request)
    matters = queries.run_views(list(by_matter))
    counts: dict[str, int] = defaultdict(int)
    for position, (matter_id, requests) in enumerate(by_matter.items()):
        ids = [r.id for r in requests]
        try:
            verdict, note = decide(matters.get(matter_id), requests)
        except rest.PrefectUnavailable as exc:  # Prefect down or busy: this and the rest wait
            rest_ids = [r.id for reqs in list(by_matter.values())[position:] for r in reqs]
            with write_transaction() as session:
                outbox.mark_failed(session, rest_ids, str(exc),
                                   attempts=max(r.attempts for r in requests))
                session.commit()
            counts["failed"] += len(rest_ids)
            break
        except Exception as exc:  # one matter's trouble must not hold up the others
            log.warning("投递失败 / delivery to %s failed: %s", matter_id, exc)
            with write_transaction() as session:
                outbox.mark_failed(session, ids, f"{type(exc).__name__}: {exc}",
                                   backoff=min(60.0, 2.0 * 2 ** max(r.attempts for r in requests)))
                session.commit()
            counts["failed"] += len(ids)
            continue
        with write_transaction() as session:
            if verdict == "done":
                outbox.mark_done(session, ids)
            else:
                outbox.later(session, ids, LOOK_AGAIN_SECONDS)
            session.commit()
        counts[note if verdict == "done" else "later"] += len(ids)
    return dict(counts)


class Dispatcher(threading.Thread):
    """Delivers due requests every ``interval`` seconds until stopped."""

    def __init__(self, interval: float = 0.5) -> None:
        super().__init__(name="hefa-dispatch", daemon=True)
        self.interval = interval
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            try:
                while True:  # a backlog: keep going while whole pages are delivered
                    counts = deliver_due()
                    if sum(counts.values()) < 50 or "failed" in counts:
                        break
            except Exception as exc:  # keep dispatching; the next pass retries
                log.warning("dispatch pass failed: %s", exc)

    def stop(self) -> None:
        self.stopped.set()
