"""A matter's workflow run (办理流程): which run carries it, recorded as a system event."""

from __future__ import annotations

from hefa.review.records import audit
from hefa.review.records.db import write_transaction
from hefa.review.records.models import Matter


def attach_run(matter_id: str, run_id: str) -> None:
    """Remember the run that carries the matter (system event, audited); idempotent."""
    with write_transaction() as session:
        matter = session.get(Matter, matter_id)
        if matter is None or matter.run_id == run_id:
            return
        matter.run_id = run_id
        session.add(matter)
        audit.append(session, action="flow-run", outcome="system", matter_id=matter_id,
                     channel="system", payload={"flow_run_id": run_id})
        session.commit()
