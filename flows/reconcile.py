"""The sweep (对账): Prefect's runs compared with the matters, for drift only.

Wake-ups are not found here: each step writes its wake-up to the outbox in its own
transaction, and ``flows/dispatch.py`` delivers it. What is left for this module is
drift — what happened behind hefa's back — found rarely and cheaply:

- a run that ended (Completed, Failed, Cancelled, Crashed) while its matter is open:
  a run stopped by ``hefa serve``'s own shutdown (Crashed, or Cancelled with Prefect's
  "Runner is shutting down") is rescheduled, its body being replay-safe; any other gets
  a fresh run (``steps.attach_run`` records it, audited);
- a run left Running or Pending by a dead process: rescheduled when it has been in flight
  since before this ``hefa serve``'s runner started (``ORPHAN_AFTER_SECONDS`` after that,
  so within a minute of a restart), or for an hour wherever it runs;
- an ``audit-<matter>`` or ``matter-<matter>`` artifact hefa did not write: republished;
- a matter with no run at all, or whose run Prefect no longer knows: a run is made.

Cost grows with the work done, not with the matters open: the regular pass asks Prefect
only for runs that *ended* since the last pass (``end_time`` after the watermark), the few
runs in flight, and the artifact collections *updated* since the last pass; every page is
small (``PAGE``) and the sweep sleeps between pages, so people's requests go first. A full
comparison (every open matter's run, by id, in pages) runs at start-up and rarely after.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from hefa.flows import notify, rest
from hefa.review.records import queries

log = logging.getLogger("hefa.reconcile")
TAG = "hefa"
PAGE = 50
ORPHAN_AFTER_SECONDS = 45  # a live run suspends within seconds of starting a step
ORPHAN_POOL_SECONDS = 3600  # in flight this long, wherever it runs: nobody is running it
# When this process's runner started (``hefa serve`` sets it; None where flows run on
# workers): a run in flight since before then was left by a process that is gone.
RUNNER_STARTED: float | None = None
ENDED = ["COMPLETED", "FAILED", "CANCELLED", "CRASHED"]
IN_FLIGHT = ["RUNNING", "PENDING"]

# What Prefect's runner writes on the runs it cancels when ``hefa serve`` stops (SIGTERM,
# Ctrl-C): a run caught mid-step is Cancelled, not Crashed, and nothing else resumes it.
RUNNER_SHUTDOWN = "Runner is shutting down"


# --- reading Prefect ---------------------------------------------------------------------------

def _filter(body: dict[str, Any], *, pause: float = 0.0, limit: int = PAGE,
            path: str = "/flow_runs/filter") -> list[dict[str, Any]]:
    """Every match, in pages of ``limit`` (sleeping ``pause`` between pages)."""
    found: list[dict[str, Any]] = []
    while True:
        page = rest.call("POST", path, body | {"limit": limit, "offset": len(found)}) or []
        found += page
        if len(page) < limit:
            return found
        if pause:
            time.sleep(pause)


def _runs_in(states: list[str], limit: int = PAGE) -> list[dict[str, Any]]:
    return _filter({"flow_runs": {"state": {"type": {"any_": states}}, "tags": {"all_": [TAG]}}},
                   limit=limit)


def _age_seconds(run: dict[str, Any]) -> float:
    stamp = (run.get("state") or {}).get("timestamp")
    if not stamp:
        return 0.0
    when = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return (dt.datetime.now(dt.UTC) - when).total_seconds()


def left_behind(run: dict[str, Any]) -> bool:
    """A run Running or Pending that no live process is running: in flight since before this
    ``hefa serve``'s runner started (and long enough for a surviving process to have
    finished its step), or for longer than any step takes anywhere. A run that is merely
    slow (a loaded machine) is never taken from the process running it."""
    age = _age_seconds(run)
    if age < ORPHAN_AFTER_SECONDS:
        return False
    if age >= ORPHAN_POOL_SECONDS:
        return True
    return RUNNER_STARTED is not None and time.time() - age < RUNNER_STARTED


def pause_label(run: dict[str, Any]) -> str:
    """The wait label a suspended run was keyed with (``review-v2`` of ``review-v2-1a2b3c4d``)."""
    from hefa.review.records.wait_label import label_in

    key = ((run.get("state") or {}).get("state_details") or {}).get("pause_key") or ""
    label = label_in(key)
    return str(label) if label is not None else ""


def _matter_of(run: dict[str, Any]) -> str:
    return str((run.get("parameters") or {}).get("matter_id") or "")


# --- repairs (shared with the dispatcher) ------------------------------------------------------

def reschedule(run_id: str, message: str = "hefa serve restarted: replaying") -> bool:
    """Force a run left behind back to Scheduled; its body replays and catches up."""
    answer = rest.call("POST", f"/flow_runs/{run_id}/set_state", {
        "state": {"type": "SCHEDULED", "name": "Rescheduled", "message": message}, "force": True})
    return bool(answer) and answer.get("status") == "ACCEPT"


def fresh_run(matter: dict[str, Any], old_run_id: str | None, why: str) -> str | None:
    """Give an open matter a new run (one per ended run: the idempotency key names it) and
    record it with ``steps.attach_run`` (audited)."""
    from hefa.flows.names import flow_name
    from hefa.review.services import steps

    tags = [TAG, matter["kind"], matter["organ"], matter["id"]]
    key = f"hefa-{matter['id']}-after-{old_run_id}" if old_run_id else None
    run_id = rest.create_matter_run(flow_name(matter["kind"]), matter["id"], matter["title"],
                                    tags, idempotency_key=key or
                                    f"hefa-{matter['id']}-{matter['created_at'].isoformat()}")
    steps.attach_run(matter["id"], run_id)
    log.warning("事项 %s 的流程 %s %s，已新建流程 %s / fresh run", matter["id"], old_run_id, why, run_id)
    return run_id


def repair_ended(matter: dict[str, Any], run: dict[str, Any]) -> str:
    """An open matter's run has ended: replay it (stopped by hefa's own shutdown) or give the
    matter a fresh run (forced to Completed, Failed, cancelled by a person). What was done."""
    state = run.get("state") or {}
    kind = state.get("type")
    if kind == "CRASHED" or (kind == "CANCELLED" and RUNNER_SHUTDOWN in (state.get("message") or "")):
        reschedule(run["id"])
        return "rescheduled"
    fresh_run(matter, run["id"], f"在事项办理中结束（{kind}）/ ended while open")
    return "fresh"


def repair_run(matter: dict[str, Any], run: dict[str, Any] | None, *, wake_if_behind: bool) -> str | None:
    """Compare one open matter with its run and repair drift; what was done, or None."""
    if matter["status"] != "open":
        return None
    if run is None:
        fresh_run(matter, matter["run_id"], "在 Prefect 中不存在 / unknown to Prefect")
        return "fresh"
    kind = (run.get("state") or {}).get("type")
    if kind in ENDED:
        return repair_ended(matter, run)
    if kind in IN_FLIGHT and left_behind(run):
        reschedule(run["id"], "hefa: run left behind by a stopped process: replaying")
        return "rescheduled"
    if kind == "PAUSED" and wake_if_behind and pause_label(run) != matter["label"]:
        return "woken" if rest.wake(run["id"]) else None
    return None


# --- the passes --------------------------------------------------------------------------------

@dataclass
class Sweep:
    """What one pass found and did."""

    checked: int = 0
    repaired: dict[str, int] = field(default_factory=dict)
    artifacts: int = 0

    def note(self, what: str | None) -> None:
        if what:
            self.repaired[what] = self.repaired.get(what, 0) + 1


def _own_runs(runs: list[dict[str, Any]], result: Sweep, *, wake_if_behind: bool = False) -> None:
    """Repair the runs that are their open matter's current run (the dispatcher owns matters
    with a pending wake-up)."""
    from hefa.review.records.db import read_session
    from hefa.review.records.outbox import pending_matters

    by_matter = {_matter_of(r): r for r in runs if _matter_of(r)}
    with read_session() as session:
        busy = pending_matters(session)
    matters = queries.run_views([m for m in by_matter if m not in busy])
    for matter_id, matter in matters.items():
        run = by_matter[matter_id]
        result.checked += 1
        if matter["run_id"] == run["id"]:
            result.note(repair_run(matter, run, wake_if_behind=wake_if_behind))


def in_flight(result: Sweep | None = None) -> Sweep:
    """Runs Running or Pending for longer than a step takes: left by a dead process."""
    result = result or Sweep()
    _own_runs(_runs_in(IN_FLIGHT), result)
    return result


def ended_since(since: dt.datetime | None, result: Sweep | None = None, *, pause: float = 0.1) -> Sweep:
    """Runs that ended since ``since`` (all ended runs when None) while their matter is open."""
    result = result or Sweep()
    body: dict[str, Any] = {"flow_runs": {"state": {"type": {"any_": ENDED}}, "tags": {"all_": [TAG]}},
                            "sort": "END_TIME_DESC"}
    if since is not None:
        body["flow_runs"]["end_time"] = {"after_": since.isoformat()}
    offset = 0
    while True:
        page = rest.call("POST", "/flow_runs/filter", body | {"limit": PAGE, "offset": offset}) or []
        _own_runs(page, result)
        if len(page) < PAGE:
            return result
        offset += PAGE
        time.sleep(pause)


def full(result: Sweep | None = None, *, pause: float = 0.2) -> Sweep:
    """Every open matter against its run, a page of ids at a time: runs unknown to Prefect,
    ended, orphaned or suspended behind their matter; and matters with no run."""
    from hefa.review.records.db import read_session
    from hefa.review.records.outbox import pending_matters

    result = result or Sweep()
    after = ""
    while True:
        ids = queries.open_matters_page(after, PAGE)
        if not ids:
            break
        after = ids[-1]
        with read_session() as session:
            busy = pending_matters(session)
        matters = {k: v for k, v in queries.run_views(ids).items() if k not in busy}
        run_ids = [m["run_id"] for m in matters.values() if m["run_id"]]
        runs = {r["id"]: r for r in (rest.call("POST", "/flow_runs/filter", {
            "flow_runs": {"id": {"any_": run_ids}}, "limit": len(run_ids)}) or [])} if run_ids else {}
        for matter in matters.values():
            result.checked += 1
            if matter["run_id"] is None:
                result.note("started" if notify.start_matter_run(matter["id"])["id"] else None)
            else:
                result.note(repair_run(matter, runs.get(matter["run_id"]), wake_if_behind=True))
        time.sleep(pause)
    return result


# --- artifacts ---------------------------------------------------------------------------------

ARTIFACT_PREFIXES = ("audit-", "matter-")
ARTIFACT_GRACE_SECONDS = 60  # an event older than this when an artifact was made must be in it
_CLOCK_LINES = ("- 办理期限", "- ⚠", "- 本阶段无法定办理期限", "- 已结束")


def _real_time(at: str) -> float:
    """An audit event's time on the machine's real clock (``HEFA_TODAY`` shifts the date)."""
    from hefa.review.config import now

    offset = (now() - dt.datetime.now(dt.UTC)).total_seconds()
    return dt.datetime.fromisoformat(at.replace("Z", "+00:00")).timestamp() - round(offset / 86400) * 86400


def _stamp(value: str | None) -> float:
    return dt.datetime.fromisoformat((value or "1970-01-01T00:00:00+00:00").replace("Z", "+00:00")).timestamp()


def audit_rows_are_hefas(rows: Any, trail: list[dict[str, Any]], created: float) -> bool:
    """Hefa's own trail table: the first rows of the matter's audit chain, exactly (the chain
    only grows, and each row carries its event's hash), holding every event that was older
    than ``ARTIFACT_GRACE_SECONDS`` when the artifact was made."""
    from hefa.desk.views import trail_rows

    if not isinstance(rows, list):
        return False
    ours = trail_rows(trail)
    due = sum(1 for e in trail if _real_time(e["at"]) < created - ARTIFACT_GRACE_SECONDS)
    return rows == ours[:len(rows)] and len(rows) >= due


def _without_clocks(markdown: str) -> list[str]:
    return [line for line in str(markdown).splitlines() if not line.startswith(_CLOCK_LINES)]


def check_artifact(collection: dict[str, Any]) -> str | None:
    """Republish a matter's trail or summary when the latest one was not written by hefa."""
    from hefa.desk.views import summary_markdown, trail_rows
    from hefa.review.documents import generated
    from hefa.review.errors import NotFound

    key = collection.get("key") or ""
    prefix = next((p for p in ARTIFACT_PREFIXES if key.startswith(p)), None)
    if prefix is None:
        return None
    matter_id = key.removeprefix(prefix).upper()
    try:
        view = queries.status_of(matter_id)
    except NotFound:
        return None
    data = collection.get("data")
    if prefix == "audit-":
        trail = queries.trail_of(matter_id)
        rows = json.loads(data) if isinstance(data, str) else data
        if audit_rows_are_hefas(rows, trail, _stamp(collection.get("updated") or collection.get("created"))):
            return None
        body = {"type": "table", "data": json.dumps(trail_rows(trail), ensure_ascii=False),
                "description": f"{matter_id} {view['title']} 审计记录 / audit trail"}
    else:
        summary = summary_markdown(view, generated.documents_of(matter_id))
        if _without_clocks(summary) == _without_clocks(data or ""):
            return None
        if not _settled(view):  # the run is catching up: it publishes the new summary itself
            return None
        body = {"type": "markdown", "data": summary,
                "description": f"{matter_id} 事项概况 / summary"}
    rest.call("POST", "/artifacts/", body | {"key": key, "flow_run_id": view["run_id"]})
    log.warning("%s 的最新版本不是 hefa 写的，已重新发布 / republished", key)
    return "republished"


def _settled(view: dict[str, Any]) -> bool:
    """The matter's run has published everything it knows: suspended at the matter's label,
    or completed with a closed matter."""
    run = rest.read_run(view["run_id"]) if view.get("run_id") else None
    kind = ((run or {}).get("state") or {}).get("type")
    if kind == "COMPLETED":
        return view["status"] != "open"
    return kind == "PAUSED" and pause_label(run or {}) == queries.wait_label(view)


def artifacts_since(since: dt.datetime | None, result: Sweep | None = None, *, pause: float = 0.1) -> Sweep:
    """The matters' artifact collections updated since ``since`` (every one when None),
    newest first, a page at a time."""
    result = result or Sweep()
    cutoff = since.timestamp() if since else 0.0
    for prefix in ARTIFACT_PREFIXES:
        offset = 0
        while True:
            page = rest.call("POST", "/artifacts/latest/filter", {
                "artifacts": {"key": {"like_": prefix}}, "sort": "UPDATED_DESC",
                "limit": PAGE, "offset": offset}) or []
            fresh = [c for c in page if _stamp(c.get("updated")) >= cutoff]
            for collection in fresh:
                result.checked += 1
                if check_artifact(collection):
                    result.artifacts += 1
            if len(page) < PAGE or len(fresh) < len(page):
                break
            offset += PAGE
            time.sleep(pause)
    return result


# --- compatibility: what ``hefa serve`` did before the outbox ---------------------------------

def start_missing_runs() -> int:
    """Create the runs of matters that have none (the same idempotency key as ``hefa submit``
    uses, so a submit still creating its run and this pass never make two)."""
    started = 0
    for matter in queries.matters_without_run():
        if notify.start_matter_run(matter["id"])["id"] is None:
            return started
        started += 1
    return started


def reschedule_orphans() -> int:
    """Runs a stopped or killed ``hefa serve`` left behind → Scheduled: Running/Pending ones
    older than a step takes, and open matters' runs that ended since the last sweep."""
    result = in_flight()
    ended_since(load_state().get("since"), result)
    return sum(result.repaired.values())


def once() -> dict[str, int]:
    """One full comparison (start-up and rare): ``{"started": n, "woken": n, ...}``."""
    result = full()
    return {"started": result.repaired.get("started", 0), "woken": result.repaired.get("woken", 0),
            "rescheduled": result.repaired.get("rescheduled", 0), "fresh": result.repaired.get("fresh", 0)}


# --- the sweeper thread ------------------------------------------------------------------------

def _state_path():  # type: ignore[no-untyped-def]
    from hefa.review.paths import desk_socket

    return desk_socket().parent / "sweep.json"


def load_state() -> dict[str, Any]:
    """The last sweep's watermark (``since``) and times, kept in ``$HEFA_HOME/run/sweep.json``."""
    try:
        raw = json.loads(_state_path().read_text())
    except (OSError, ValueError):
        return {}
    out: dict[str, Any] = dict(raw)
    for name in ("since", "full_at"):
        if raw.get(name):
            out[name] = dt.datetime.fromisoformat(raw[name])
    return out


def save_state(**values: Any) -> None:
    path = _state_path()
    state = {k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in
             (load_state() | values).items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, ensure_ascii=False, default=str))
    tmp.replace(path)


class Sweeper(threading.Thread):
    """The slow sweep: runs in flight every ``orphan_seconds``; runs ended and artifacts
    updated since the last pass every ``every`` seconds; the full comparison at start-up and
    every ``full_every`` seconds. Failures are logged; the next pass retries."""

    def __init__(self, every: float = 300.0, *, full_every: float = 6 * 3600.0,
                 orphan_seconds: float = 15.0, pause: float = 0.2) -> None:
        super().__init__(name="hefa-sweep", daemon=True)
        self.every = every
        self.full_every = full_every
        self.orphan_seconds = orphan_seconds
        self.pause = pause
        self.stopped = threading.Event()

    def run(self) -> None:
        last_pass = last_full = -float("inf")  # both at once at start-up
        while not self.stopped.is_set():
            now = time.monotonic()
            try:
                if now - last_full >= self.full_every:
                    self.regular()
                    began = time.monotonic()
                    result = full(pause=self.pause)
                    save_state(full_at=dt.datetime.now(dt.UTC), last_full=result.repaired | {
                        "checked": result.checked, "seconds": round(time.monotonic() - began, 1)})
                    last_full = last_pass = time.monotonic()
                elif now - last_pass >= self.every:
                    self.regular()
                    last_pass = time.monotonic()
                else:
                    in_flight()
            except Exception as exc:  # keep sweeping; the next pass retries
                log.warning("sweep failed: %s", exc)
            self.stopped.wait(min(self.orphan_seconds, self.every))

    def regular(self) -> Sweep:
        from hefa.review.records.db import write_transaction
        from hefa.review.records.outbox import purge

        started = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
        since = load_state().get("since")
        result = in_flight()
        ended_since(since, result, pause=self.pause)
        artifacts_since(since, result, pause=self.pause)
        with write_transaction() as session:
            purge(session)
            session.commit()
        save_state(since=started, last=result.repaired | {"artifacts": result.artifacts})
        return result

    def stop(self) -> None:
        self.stopped.set()


Reconciler = Sweeper  # the name ``hefa serve`` used before the outbox
