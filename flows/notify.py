"""Telling Prefect about a recorded step, without importing prefect.

After ``submit`` the matter's flow run is created; after any other accepted step
the matter's suspended run is woken to catch up. Failures never undo the step:
it is already durable in ``review/``; ``hefa serve``'s reconciler catches up.
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
    from hefa.review.law.rules import rules_for

    matter = _matter(matter_id)
    if matter is None:
        return {"id": None, "url": None, "note": "unknown matter"}
    tags = ["hefa", matter.kind, matter.organ, matter.id]
    try:
        run_id = rest.create_matter_run(rules_for(matter.kind).flow_name, matter.id, matter.title, tags,
                                        idempotency_key=f"hefa-{matter.id}-{matter.created_at.isoformat()}")
    except rest.PrefectUnavailable:
        return {"id": None, "url": None,
                "note": "流程服务未运行，hefa serve 启动后会自动建立流程 / hefa serve will start it"}
    steps.attach_flow_run(matter_id, run_id)
    return {"id": run_id, "url": rest.ui_url(run_id)}


def catch_up(matter_id: str) -> str | None:
    """Wake the matter's suspended run; returns a note for the person if Prefect did not answer."""
    matter = _matter(matter_id)
    if matter is None or not matter.run_id:
        return None
    try:
        rest.wake(matter.run_id)
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
