"""The outbox's dispatcher and the slow sweep, on a real ``hefa serve`` and Prefect server.

- a step whose immediate wake-up was lost is delivered by the dispatcher, once;
- a step woken by the fast path is marked done and never woken again;
- a run forced to Completed while its matter is open gets a fresh run (recorded, audited),
  once, and the matter goes on with it;
- a run left Running by a dead process is rescheduled and suspends again; a run in flight
  since this ``hefa serve``'s runner started (however slow) is never taken from it;
- an ``audit-<matter>`` artifact not written by hefa is republished; hefa's own, even a
  stale one, is left alone.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from hefa.flows import reconcile, rest
from hefa.review.records.db import read_session
from hefa.review.records.models import WakeRequest
from tests.conftest import Served, checklist_answers, served_office, wait_for
from tests.flows_e2e import Env, Matter, by_cli, latest_artifact, settle, trail, wait_paused

pytestmark = pytest.mark.prefect


@pytest.fixture
def env(served_env: Served, tmp_path: Path) -> Env:
    return Env(served_env, served_office(served_env), tmp_path)


def outbox_rows(matter: Matter) -> list[WakeRequest]:
    with read_session() as session:
        return list(session.scalars(select(WakeRequest).where(WakeRequest.matter_id == matter.id)
                                    .order_by(WakeRequest.id)))


def wakes(matter: Matter, since: float) -> list[dict[str, Any]]:
    """The run's Scheduled states since ``since`` (each is one wake-up or reschedule)."""
    states = rest.call("GET", f"/flow_run_states/?flow_run_id={matter.run_id}") or []
    return [s for s in states if s["type"] == "SCHEDULED"
            and dt.datetime.fromisoformat(s["timestamp"].replace("Z", "+00:00")).timestamp() >= since]


def opinion_in_process(env: Env, matter: Matter) -> None:
    """Counsel's opinion recorded by the service alone: the step is durable, its wake-up
    is in the outbox, and nothing tells Prefect (a lost fast path)."""
    from hefa.review.services import steps

    steps.record_opinion(env.office[matter.team["counsel"]], matter.id, conclusion="lawful",
                         reasons="依据充分，程序合法", items=checklist_answers(matter.id))


def test_a_lost_wake_up_is_delivered_by_the_dispatcher_once(env: Env) -> None:
    matter = env.submit("normative-document", "lost")
    start = time.time() - 1
    opinion_in_process(env, matter)
    assert matter.label() == "deliberation-v1"
    settle(matter)  # the dispatcher of hefa serve woke it
    assert len(wakes(matter, start)) == 1
    rows = outbox_rows(matter)
    assert [r.action for r in rows] == ["start", "wake", "wake"]  # the second: 确认适用程序 (issue 14)
    assert all(r.done_at is not None for r in rows)
    assert rows[-1].attempts == 0  # delivered at the first attempt, after the fast path's turn


def test_a_fast_path_wake_up_is_marked_done_and_not_repeated(env: Env) -> None:
    matter = env.submit("normative-document", "fast")
    start = time.time() - 1
    by_cli(matter, "lawful")
    time.sleep(3)  # past the fast path's turn: the dispatcher must find nothing to do
    assert all(r.done_at is not None for r in outbox_rows(matter))
    assert len(wakes(matter, start)) == 1
    assert run_key(matter) == matter.key


def run_key(matter: Matter) -> str:
    state = (rest.read_run(matter.run_id) or {}).get("state") or {}
    return (state.get("state_details") or {}).get("pause_key") or ""


def test_a_run_forced_to_end_while_its_matter_is_open_gets_a_fresh_run(env: Env) -> None:
    matter = env.submit("normative-document", "forced")
    before = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=2)
    old = matter.run_id
    answer = rest.call("POST", f"/flow_runs/{old}/set_state", {
        "state": {"type": "COMPLETED", "name": "Completed", "message": "forced behind hefa's back"},
        "force": True})
    assert answer["status"] == "ACCEPT"

    found = reconcile.ended_since(before, pause=0)
    assert found.repaired == {"fresh": 1}
    view = matter.status()
    assert view["run_id"] != old
    matter.run_id, matter.key = view["run_id"], ""
    matter.key = wait_paused(matter)
    assert [e["action"] for e in trail(matter)].count("flow-run") == 2  # recorded, audited
    assert reconcile.ended_since(before, pause=0).repaired == {}  # once only
    by_cli(matter, "lawful")  # and the matter goes on with its new run
    assert matter.label() == "deliberation-v1"


def test_a_run_left_running_is_rescheduled_and_suspends_again(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    matter = env.submit("normative-document", "orphan")
    rest.call("POST", f"/flow_runs/{matter.run_id}/set_state", {
        "state": {"type": "RUNNING", "name": "Running", "message": "a process that died"}, "force": True})
    assert reconcile.in_flight().repaired == {}  # a young run may be live: left alone
    monkeypatch.setattr(reconcile, "ORPHAN_AFTER_SECONDS", 0)
    monkeypatch.setattr(reconcile, "RUNNER_STARTED", time.time() - 3600)
    assert reconcile.in_flight().repaired == {}  # in flight since this runner started: it is running it
    monkeypatch.setattr(reconcile, "RUNNER_STARTED", time.time() + 1)
    assert reconcile.in_flight().repaired.get("rescheduled", 0) >= 1  # from before: nobody runs it
    matter.key = wait_paused(matter, after=matter.key)
    assert matter.label() == "review-v1"


def test_an_audit_artifact_not_written_by_hefa_is_republished(env: Env) -> None:
    matter = env.submit("normative-document", "forged")
    key = f"audit-{matter.id.lower()}"
    before = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=2)
    ours = latest_artifact(key)
    assert reconcile.artifacts_since(before, pause=0).artifacts == 0  # hefa's own: left alone

    forged = [{"序号 seq": 1, "人员 officer": "nobody", "操作 action": "opinion", "结果 outcome": "接受"}]
    rest.call("POST", "/artifacts/", {"key": key, "type": "table", "data": json.dumps(forged, ensure_ascii=False),
                                      "description": "审计记录", "flow_run_id": matter.run_id})
    assert latest_artifact(key)["id"] != ours["id"]
    assert reconcile.artifacts_since(before, pause=0).artifacts == 1
    latest = latest_artifact(key)
    rows = json.loads(latest["data"])
    assert [r["序号 seq"] for r in rows] == [e["seq"] for e in trail(matter)]
    assert reconcile.artifacts_since(before, pause=0).artifacts == 0  # now hefa's again

    # a trail hefa published before a later event (a refusal wakes nothing) is still hefa's
    from hefa.review.errors import Refused
    from hefa.review.services import steps

    with pytest.raises(Refused):
        steps.record_deliberation(env.office[matter.team["secretary"]], matter.id, decision="approve",
                                  attendees="陈,赵")
    assert len(trail(matter)) == len(rows) + 1
    assert reconcile.artifacts_since(before, pause=0).artifacts == 0


def test_the_full_comparison_finds_nothing_to_do_when_nothing_drifted(env: Env) -> None:
    matter = env.submit("normative-document", "calm")
    result = reconcile.full(pause=0)
    assert result.checked >= 1
    assert result.repaired.get("fresh", 0) == 0 and result.repaired.get("woken", 0) == 0
    wait_for(lambda: run_key(matter) == matter.key, 5, 0.2, "the run to stay as it was")
