"""End to end on a real ``hefa serve`` and Prefect server: many suspensions replayed without
duplicates, a restart of ``hefa serve`` mid-review, and steps taken within milliseconds of a
suspension. The shared parts are in ``flows_e2e.py``."""

from __future__ import annotations

import itertools
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import Served, add_team, run_state, served_office, wait_for
from tests.flows_e2e import (
    Env,
    Matter,
    assert_finished,
    assert_no_failed_states,
    assert_nothing_typed_stays,
    by_cli,
    by_form,
    cli,
    cli_args,
    form_input,
    hefa_verify,
    refused,
    resume_form,
    role_for,
    run_cli,
    settle,
    wait_completed,
    wait_paused,
)

pytestmark = pytest.mark.prefect


@pytest.fixture
def env(served_env: Served, tmp_path: Path) -> Env:
    return Env(served_env, served_office(served_env), tmp_path)


def test_many_suspensions_replay_without_duplicates_and_survive_a_restart(env: Env) -> None:
    matter = env.submit("contract", "replay", flags=("major",))
    # two secretaries take turns at the forms: one officer's code is good once per 30 s
    secretaries = itertools.cycle([matter.team["secretary"], add_team(env.office, "replay2")["secretary"]])
    cycles = 0
    by_cli(matter, "lawful")
    cycles += 1
    defers = 0
    refusals = Counter[str]()
    for i in range(9):
        if i % 2:
            by_form(matter, "defer", officer=next(secretaries))
        else:
            by_cli(matter, "defer")
        defers += 1
        cycles += 1
        if i == 2:  # a form refused at the door (the wrong role) wakes nothing: the run keeps waiting
            answer = resume_form(env.served, env.office, matter.team["drafter"], matter.run_id,
                                 form_input(matter, "deliberation", "defer"))
            assert answer["status"] == "REJECT", answer
            assert run_state(matter.run_id)["state_details"]["pause_key"] == matter.key
            refusals["deliberation"] += 1
        if i == 4:  # a refused CLI step changes nothing and wakes nothing
            assert run_cli(env.served, env.office, matter.team["head"],
                           *cli_args(matter, "issuance", None)).returncode == 2
            refusals["issuance"] += 1
    assert cycles >= 10
    assert len(matter.status()["deliberations"]) == defers

    # restart hefa serve (and its Prefect server) while the run a CLI step woke is in flight:
    # Prefect's runner cancels it as it stops ("Runner is shutting down"); hefa serve must
    # pick it up again when it starts
    cli(env.served, env.office, matter.team["secretary"], *cli_args(matter, "deliberation", "defer"))
    defers += 1
    wait_for(lambda: run_state(matter.run_id).get("type") in ("PENDING", "RUNNING"), 30, 0.05,
             "the woken run to start")
    env.served.restart()
    settle(matter, restarted=True)
    assert matter.label() == "deliberation-v1"
    by_form(matter, "approve", officer=next(secretaries))
    by_cli(matter)  # signature (签订)
    by_form(matter)  # filing
    assert_finished(matter, {"opinion": 1, "deliberation": defers + 1, "issuance": 1, "filing": 1})
    for action, times in refusals.items():
        assert len(refused(matter, action)) == times, action
    assert_no_failed_states(matter, restarts=1)
    assert_nothing_typed_stays(matter)
    hefa_verify(env.served)


def by_cli_at_once(matter: Matter, choice: str | None = None) -> None:
    """The ``hefa`` command run in this process (its start-up would cost a second): the step
    is recorded and the run woken within milliseconds."""
    from typer.testing import CliRunner

    from hefa.cli.main import app

    stage = matter.status()["stage"]
    officer = matter.team[role_for(matter, stage)]
    result = CliRunner().invoke(app, [*cli_args(matter, stage, choice), "--as", officer, "--json"],
                                env={"HEFA_TOKEN": matter.office.tokens[officer]})
    assert result.exit_code == 0, result.output


def test_steps_taken_the_instant_the_run_suspends(env: Env) -> None:
    matter = env.submit("normative-document", "instant")
    by_cli_at_once(matter, "lawful")
    lags = []
    for choice in [*["defer"] * 8, "approve", None, None]:  # 11 steps: … 签发, then the issuance
        matter.key = wait_paused(matter, after=matter.key, interval=0.001, form=False)
        seen = time.monotonic()
        by_cli_at_once(matter, choice)
        lags.append(time.monotonic() - seen)
    assert len(lags) == 11 and max(lags) < 1.0, lags
    # and the filing at once after the issuance, while the run is still catching up
    assert run_state(matter.run_id)["type"] != "PAUSED"
    by_cli_at_once(matter)
    wait_completed(matter, timeout=90)
    assert_finished(matter, {"opinion": 1, "deliberation": 9, "signing": 1, "issuance": 1, "filing": 1})
    assert_no_failed_states(matter)
