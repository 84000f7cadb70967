"""The outbox (待通知): wake-ups owed to matters' workflow runs, written in the step's own
transaction, so that a step once recorded is never left without its wake-up.

``review/`` knows only that a matter's run must be *started* (a new matter) or *woken*
(a step was recorded); who delivers it, and how, is the dispatcher's business
(``flows/dispatch.py``). Delivery is at least once: waking a run that has nothing new
is harmless, but the dispatcher checks first, so that nothing is woken twice.

Times here are the machine's real UTC clock, never ``HEFA_TODAY``'s frozen date:
they are compared with the workflow engine's timestamps and with each other only.
A new request is due after ``FAST_PATH_SECONDS``: the CLI's or desk's immediate wake-up
(the fast path) goes first and marks it done; the dispatcher delivers what it left.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlmodel import Session

from hefa.review.records.models import AuditEvent, WakeRequest

START = "start"  # the matter has no run yet
WAKE = "wake"  # a step was recorded: the waiting run must look again

FAST_PATH_SECONDS = 2.0  # the fast path's turn before the dispatcher's
MAX_BACKOFF_SECONDS = 2.0  # a lost wake-up is delivered within this of Prefect answering again


def clock() -> dt.datetime:
    """The real time, UTC."""
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Request:
    """One pending request, as the dispatcher sees it."""

    id: int
    matter_id: str
    action: str
    created_at: dt.datetime
    attempts: int
    event_seq: int | None
    channel: str


def enqueue(session: Session, matter_id: str, action: str, *, event_seq: int | None = None,
            channel: str | None = None) -> None:
    """Owe ``matter_id``'s run a start or a wake-up, inside the caller's transaction.

    The step's audit event (its sequence number and channel) is taken from the session
    when not given: the step appended it just before, in the same transaction."""
    if event_seq is None or channel is None:
        event = _step_event(session, matter_id)
        if event is not None:
            event_seq = event.seq if event_seq is None else event_seq
            channel = event.channel if channel is None else channel
    moment = clock()
    session.add(WakeRequest(matter_id=matter_id, action=action, created_at=moment,
                            due_at=moment + dt.timedelta(seconds=FAST_PATH_SECONDS),
                            event_seq=event_seq, channel=channel or ""))


def _step_event(session: Session, matter_id: str) -> AuditEvent | None:
    events = [o for o in list(session.identity_map.values()) + list(session.new)
              if isinstance(o, AuditEvent) and o.matter_id == matter_id and o.outcome == "accepted"]
    return max(events, key=lambda e: e.seq or 0) if events else None


def due(session: Session, limit: int = 50, *, at: dt.datetime | None = None) -> list[Request]:
    """Pending requests whose time has come, oldest first (one indexed range read)."""
    rows = session.scalars(select(WakeRequest)
                           .where(WakeRequest.done_at.is_(None),  # type: ignore[union-attr]
                                  WakeRequest.due_at <= (at or clock()))
                           .order_by(WakeRequest.due_at, WakeRequest.id).limit(limit))
    return [Request(r.id or 0, r.matter_id, r.action, r.created_at, r.attempts, r.event_seq, r.channel)
            for r in rows]


def pending_for(session: Session, matter_id: str) -> list[int]:
    """Ids of the matter's requests not yet done (due or not)."""
    return list(session.scalars(select(WakeRequest.id)
                                .where(WakeRequest.matter_id == matter_id,
                                       WakeRequest.done_at.is_(None))))  # type: ignore[union-attr]


def pending_matters(session: Session) -> set[str]:
    """Matters with any request not yet done: the dispatcher's, not the sweep's, to repair."""
    return set(session.scalars(select(WakeRequest.matter_id).distinct()
                               .where(WakeRequest.done_at.is_(None))))  # type: ignore[union-attr]


def mark_done(session: Session, ids: Iterable[int]) -> int:
    """Mark requests delivered (or found needless) in the caller's transaction."""
    ids = list(ids)
    if not ids:
        return 0
    result = session.execute(update(WakeRequest)
                             .where(WakeRequest.id.in_(ids), WakeRequest.done_at.is_(None))  # type: ignore[union-attr]
                             .values(done_at=clock()))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def mark_failed(session: Session, ids: Iterable[int], error: str, *, backoff: float | None = None,
                attempts: int = 0) -> None:
    """Record a failed delivery; due again after ``backoff`` seconds (default: doubling from
    0.25 s with the attempts, capped at ``MAX_BACKOFF_SECONDS``)."""
    ids = list(ids)
    if not ids:
        return
    delay = backoff if backoff is not None else min(MAX_BACKOFF_SECONDS, 0.25 * 2 ** attempts)
    session.execute(update(WakeRequest).where(WakeRequest.id.in_(ids))  # type: ignore[union-attr]
                    .values(attempts=WakeRequest.attempts + 1, last_error=error[:500],
                            due_at=clock() + dt.timedelta(seconds=delay)))


def later(session: Session, ids: Iterable[int], seconds: float) -> None:
    """Look again in ``seconds`` without counting a failure (the run is still catching up)."""
    ids = list(ids)
    if ids:
        session.execute(update(WakeRequest).where(WakeRequest.id.in_(ids))  # type: ignore[union-attr]
                        .values(due_at=clock() + dt.timedelta(seconds=seconds)))


def purge(session: Session, older_than: dt.timedelta = dt.timedelta(days=30)) -> int:
    """Forget requests delivered long ago (the audit chain keeps the steps themselves)."""
    from sqlalchemy import delete

    result = session.execute(delete(WakeRequest).where(
        WakeRequest.done_at.is_not(None), WakeRequest.done_at < clock() - older_than))  # type: ignore[union-attr]
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def counts(session: Session) -> dict[str, int]:
    """How many requests are pending and done (for status and benchmarks)."""
    pending = session.scalar(select(func.count()).select_from(WakeRequest)
                             .where(WakeRequest.done_at.is_(None))) or 0  # type: ignore[union-attr]
    total = session.scalar(select(func.count()).select_from(WakeRequest)) or 0
    return {"pending": int(pending), "done": int(total) - int(pending)}
