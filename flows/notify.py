"""Telling Prefect about a recorded step, without importing prefect: the fast path.

After ``submit`` the matter's flow run is created; after any other accepted step
the matter's suspended run is woken to catch up. Either way the step's own transaction
has already written the request to the outbox (``review/records/outbox.py``); when the
fast path delivers it, it marks it done. Failures never undo the step: the request
stays pending and ``hefa serve``'s dispatcher (``flows/dispatch.py``) delivers it.
"""

from __future__ import annotations

from typing import Any

from hefa.flows import rest
from hefa.review.services import steps


def _matter(matter_id: str) -> Any:
    from hefa.review.records.db import read_session
    from hefa.review.records.models import Matter

    with read_session() as session:
        return session.get(Matter, matter_id)


def start_matter_run(matter_id: str) -> dict[str, str | None]:
    """Create the matter's flow run; the answer says where to watch it."""
    from hefa.flows.names import flow_name

    pending = _pending(matter_id)
    matter = _matter(matter_id)
    if matter is None:
        return {"id": None, "url": None, "note": "unknown matter"}
    tags = ["hefa", matter.kind, matter.organ, matter.id]
    try:
        run_id = rest.create_matter_run(flow_name(matter.kind), matter.id, matter.title, tags,
                                        idempotency_key=f"hefa-{matter.id}-{matter.created_at.isoformat()}")
    except rest.PrefectUnavailable:
        return {"id": None, "url": None,
                "note": "流程服务未运行，hefa serve 启动后会自动建立流程 / hefa serve will start it"}
    steps.attach_run(matter_id, run_id)
    _delivered(matter_id, pending)
    return {"id": run_id, "url": rest.ui_url(run_id)}


def _pending(matter_id: str) -> list[int]:
    """The matter's outbox requests not yet done, read before the fast path acts."""
    from hefa.review.records import outbox
    from hefa.review.records.db import read_session

    try:
        with read_session() as session:
            return outbox.pending_for(session, matter_id)
    except Exception:  # the outbox is the dispatcher's safety net, never the step's obstacle
        return []


def _delivered(matter_id: str, ids: list[int]) -> None:
    """Mark the requests the fast path has just delivered done (else the dispatcher will)."""
    from hefa.review.records import outbox
    from hefa.review.records.db import write_transaction

    if not ids:
        return
    try:
        with write_transaction() as session:
            outbox.mark_done(session, ids)
            session.commit()
    except Exception:  # left pending: the dispatcher finds the run caught up and marks it
        pass


def catch_up(matter_id: str) -> str | None:
    """Wake the matter's suspended run; returns a note for the person if Prefect did not answer."""
    pending = _pending(matter_id)
    matter = _matter(matter_id)
    if matter is None or not matter.run_id:
        return None
    try:
        if rest.wake(matter.run_id):
            _delivered(matter_id, pending)
    except rest.PrefectUnavailable:
        return "提示：流程服务未响应，hefa serve 运行后会自动跟进 / Prefect not reachable; hefa serve will catch up"
    return None


def after_step(action: str, outcome: steps.StepOutcome) -> None:
    """What follows an accepted step: a new flow run, or a wake-up. Notes go into details."""
    if action == "submit":
        run = start_matter_run(outcome.matter_id)
        outcome.details["flow_run_id"] = run.get("id")
        outcome.details["flow_run_url"] = run.get("url") or run.get("note")
    else:
        note = catch_up(outcome.matter_id)
        if note:
            outcome.details["note"] = note
