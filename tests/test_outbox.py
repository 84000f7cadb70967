"""The outbox (待通知) on real SQLite and PostgreSQL: every accepted step owes its run a
wake-up in its own transaction; a refused one owes nothing; the fast path marks what it
delivered; what it could not deliver waits for the dispatcher, retried with a back-off
capped so that it goes out within seconds of Prefect answering again."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from hefa.review.errors import Refused
from hefa.review.records import outbox
from hefa.review.records.db import read_session, write_transaction
from hefa.review.records.models import AuditEvent, WakeRequest
from hefa.review.services import steps
from tests.conftest import CLEAN, Office, checklist_answers, confirm_controls


def requests(matter_id: str) -> list[WakeRequest]:
    with read_session() as session:
        return list(session.scalars(select(WakeRequest).where(WakeRequest.matter_id == matter_id)
                    .order_by(WakeRequest.id)))


def accepted_event(matter_id: str, action: str) -> AuditEvent:
    with read_session() as session:
        return session.scalars(select(AuditEvent).where(
            AuditEvent.matter_id == matter_id, AuditEvent.action == action,
            AuditEvent.outcome == "accepted").order_by(AuditEvent.seq.desc())).first()


def submit(office: Office) -> str:
    return steps.submit(office["zhang"], kind="normative-document", title="规定", data=CLEAN,
                        filename="a.docx").matter_id


def test_each_accepted_step_owes_one_wake_up_written_with_it(office: Office) -> None:
    matter = submit(office)
    with pytest.raises(Refused):  # out of order: refused, nothing owed
        steps.record_deliberation(office["zhao"], matter, decision="approve", attendees="陈,赵")
    confirm_controls(office, matter)  # 确认适用程序 (issue 14): a step, so a wake-up too
    steps.record_opinion(office["li"], matter, conclusion="lawful", reasons="依据充分", items=checklist_answers(matter))
    rows = requests(matter)
    assert [r.action for r in rows] == [outbox.START, outbox.WAKE, outbox.WAKE]
    assert rows[0].event_seq == accepted_event(matter, "submit").seq
    assert rows[1].event_seq == accepted_event(matter, "controls").seq
    assert rows[2].event_seq == accepted_event(matter, "opinion").seq
    assert {r.channel for r in rows} == {"cli"}
    for row in rows:  # the fast path goes first
        assert row.done_at is None and row.attempts == 0
        assert row.due_at - row.created_at == dt.timedelta(seconds=outbox.FAST_PATH_SECONDS)


def test_due_requests_backoff_and_done(office: Office) -> None:
    matter = submit(office)
    with read_session() as session:
        assert outbox.due(session) == []  # not before the fast path had its turn
        soon = outbox.clock() + dt.timedelta(seconds=outbox.FAST_PATH_SECONDS + 1)
        (request,) = outbox.due(session, at=soon)
        assert outbox.pending_matters(session) == {matter}
    assert request.matter_id == matter and request.action == outbox.START

    for attempt in range(8):  # doubling back-off, never beyond the cap
        with write_transaction() as session:
            outbox.mark_failed(session, [request.id], "Prefect API 503", attempts=attempt)
            session.commit()
        (row,) = requests(matter)
        delay = (row.due_at - outbox.clock()).total_seconds()
        assert delay <= outbox.MAX_BACKOFF_SECONDS + 0.1
    assert row.attempts == 8 and row.last_error == "Prefect API 503"

    with write_transaction() as session:
        assert outbox.mark_done(session, [request.id]) == 1
        session.commit()
    with read_session() as session:
        assert outbox.due(session, at=outbox.clock() + dt.timedelta(hours=1)) == []
        assert outbox.pending_matters(session) == set()
        assert outbox.counts(session) == {"pending": 0, "done": 1}
    with write_transaction() as session:  # delivered long ago: forgotten
        assert outbox.purge(session, dt.timedelta(seconds=-1)) == 1
        session.commit()


def test_fast_path_without_prefect_leaves_the_request_to_the_dispatcher(office: Office) -> None:
    """Prefect does not answer (the fixture points at a closed port): the step is accepted
    and its wake-up stays pending; a dispatcher pass counts one failed attempt per request
    and asks Prefect no more in that pass."""
    from hefa.desk.server import perform
    from hefa.flows import dispatch

    answer = perform("submit", office["zhang"], {"kind": "contract", "title": "合同", "data_b64": _b64(CLEAN),
                                                  "filename": "c.docx"})
    assert answer["accepted"] and answer["flow_run_id"] is None
    matter = answer["matter"]
    (row,) = requests(matter)
    assert row.done_at is None
    with write_transaction() as session:  # due now
        outbox.later(session, [row.id], -1)
        session.commit()
    assert dispatch.deliver_due() == {"failed": 1}
    (row,) = requests(matter)
    assert row.attempts == 1 and row.done_at is None and "hefa serve" in row.last_error
    assert (row.due_at - outbox.clock()).total_seconds() <= outbox.MAX_BACKOFF_SECONDS


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode()

