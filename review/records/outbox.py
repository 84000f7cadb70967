"""The outbox (待通知): wake-ups owed to matters' workflow runs, written in the step's own
transaction, so that a step once recorded is never left without its wake-up.

``review/`` knows only that a matter's run must be *started* (a new matter) or *woken*
(a step was recorded); who delivers it, and how, is the dispatcher's business
(``flows/``). Delivery is at least once: waking a run that has nothing new is harmless.
"""

from __future__ import annotations

from sqlmodel import Session

from hefa.review.config import now
from hefa.review.records.models import WakeRequest

START = "start"  # the matter has no run yet
WAKE = "wake"  # a step was recorded: the waiting run must look again


def enqueue(session: Session, matter_id: str, action: str) -> None:
    """Owe ``matter_id``'s run a start or a wake-up, inside the caller's transaction."""
    moment = now()
    session.add(WakeRequest(matter_id=matter_id, action=action, created_at=moment, due_at=moment))
