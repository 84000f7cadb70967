"""End to end on a real ``hefa serve`` and Prefect server: every kind of matter driven to
the end through the CLI and through the resume form (exactly as the Prefect UI sends it, to
the front door, signed in); the review story: refusals, malformed input, an input sent straight
to Prefect (ignored and audited), what stays in Prefect, and a revision. Replay, a restart and
steps taken at once are in ``test_flows_e2e_replay.py``; the shared parts in ``flows_e2e.py``."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import REVISED, WITH_FINE, Served, run_state, served_office
from tests.flows_e2e import (
    ACTION,
    KINDS,
    Env,
    Matter,
    api,
    assert_finished,
    assert_no_failed_states,
    assert_nothing_typed_stays,
    audit_payloads,
    by_cli,
    by_form,
    cli,
    cli_args,
    form_input,
    hefa_verify,
    json,
    refused,
    resume_form,
    run_cli,
    settle,
    trail,
)

pytestmark = pytest.mark.prefect


@pytest.fixture
def env(served_env: Served, tmp_path: Path) -> Env:
    return Env(served_env, served_office(served_env), tmp_path)



def _drive_kind(env: Env, position: int, kind: str, flags: tuple[str, ...], stages: list[str]) -> Matter:
    matter = env.submit(kind, f"k{position}", flags=flags)
    for i, stage in enumerate(stages):
        assert matter.status()["stage"] == stage
        # alternate the channel, starting differently per kind so each stage is seen both ways
        if (i + position) % 2:
            by_form(matter)
            if matter.status()["status"] == "open":
                assert_nothing_typed_stays(matter)
        else:
            by_cli(matter)
    return matter


def test_every_kind_is_driven_to_the_end_through_cli_and_forms(env: Env) -> None:
    with ThreadPoolExecutor(len(KINDS)) as pool:
        futures = [pool.submit(_drive_kind, env, i, kind, flags, stages)
                   for i, (kind, flags, stages) in enumerate(KINDS)]
        matters = [f.result() for f in futures]
    for matter, (_kind, _flags, stages) in zip(matters, KINDS, strict=True):
        assert_finished(matter, {ACTION[s]: 1 for s in stages})
        assert_no_failed_states(matter)
        channels = {e["channel"] for e in trail(matter) if e["outcome"] == "accepted"}
        assert {"cli", "web"} <= channels
        assert_nothing_typed_stays(matter)
    hefa_verify(env.served)


def test_review_story_refusals_malformed_input_and_revision(env: Env) -> None:
    matter = env.submit("normative-document", "story", data=WITH_FINE)
    assert matter.label() == "review-v1"
    assert matter.status()["findings"], "the fine should be a pre-screen finding"

    # deliberation before the opinion: refused, one line, exit code 2, no traceback
    done = run_cli(env.served, env.office, matter.team["secretary"],
                   *cli_args(matter, "deliberation", "approve"), json_out=False)
    assert done.returncode == 2, done
    assert done.stdout == "" and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and done.stderr.startswith("拒绝 / refused:")
    done = run_cli(env.served, env.office, matter.team["secretary"],
                   *cli_args(matter, "deliberation", "approve"))
    assert done.returncode == 2 and len(done.stdout.strip().splitlines()) == 1
    assert json.loads(done.stdout)["accepted"] is False and "Traceback" not in done.stderr
    assert refused(matter, "deliberation")
    assert run_state(matter.run_id)["type"] == "PAUSED"

    # malformed form input: refused by hefa at the front door, in Prefect's shape; the run keeps waiting
    counsel = matter.team["counsel"]
    good = form_input(matter, "review", "lawful")
    before = len(refused(matter, "opinion"))
    for bad in ({k: val for k, val in good.items() if k != "reasons"},
                good | {"conclusion": "大致合法 (mostly)"},
                good | {"officer": counsel, "code": "123456"}):  # a name and a code are not form fields
        answer = resume_form(env.served, env.office, counsel, matter.run_id, bad)
        assert answer["status"] == "REJECT" and "malformed" in answer["details"]["reason"], answer
        state = run_state(matter.run_id)
        assert state["type"] == "PAUSED" and state["state_details"]["pause_key"] == matter.key

    # the drafter at counsel's step: refused by the gate with its reason, audited, still waiting
    answer = resume_form(env.served, env.office, matter.team["drafter"], matter.run_id, good)
    assert answer["status"] == "REJECT" and answer["details"]["reason"], answer
    refusals = refused(matter, "opinion")
    assert len(refusals) == before + 4 and {r["channel"] for r in refusals[before:]} == {"web"}
    assert run_state(matter.run_id)["state_details"]["pause_key"] == matter.key

    # an input sent straight to Prefect (as anyone holding its API could): ignored, never recorded
    direct = good | {"reasons": "直接提交给 Prefect 的意见 / sent around the front door"}
    answer = api("POST", f"/flow_runs/{matter.run_id}/resume", {"run_input": direct})
    assert answer["status"] == "ACCEPT", answer  # Prefect takes it: hefa must not
    matter.form_secrets.append(direct["reasons"])
    settle(matter)
    assert matter.label() == "review-v1" and not matter.status()["opinions"]
    ignored = [e for e in refused(matter, "opinion") if e["channel"] == "prefect"]
    assert len(ignored) == 1 and "未经 hefa 入口" in ignored[0]["reason"] and not ignored[0]["officer"].strip("?")
    assert not [p for p in audit_payloads(matter) if direct["reasons"] in p]
    assert_nothing_typed_stays(matter)

    # then a valid one proceeds: 不合法 → the drafter must revise
    by_form(matter, "unlawful")
    assert matter.label() == "revise-v1"
    assert_nothing_typed_stays(matter)
    assert run_cli(env.served, env.office, matter.team["secretary"],
                   *cli_args(matter, "deliberation", "approve")).returncode == 2

    revised = env.tmp / "revised.docx"
    revised.write_bytes(REVISED)
    cli(env.served, env.office, matter.team["drafter"], "revise", matter.id, str(revised))
    settle(matter)
    assert matter.label() == "review-v2"
    by_cli(matter, "lawful")
    assert matter.label() == "deliberation-v2"
    by_form(matter, "approve")
    assert_nothing_typed_stays(matter)
    by_cli(matter)  # signing (签发, the head)
    by_cli(matter)  # issuance (统一编号)
    by_form(matter)  # filing → closed
    assert_finished(matter, {"opinion": 2, "revise": 1, "deliberation": 1, "signing": 1, "issuance": 1,
                             "filing": 1})
    view = matter.status()
    assert [o["conclusion"] for o in view["opinions"]] == ["unlawful", "lawful"]
    assert [o["current"] for o in view["opinions"]] == [False, True]
    channels = [(e["action"], e["outcome"], e["channel"]) for e in trail(matter)]
    assert ("opinion", "refused", "web") in channels and ("deliberation", "refused", "cli") in channels
    assert ("opinion", "refused", "prefect") in channels and ("deliberation", "accepted", "web") in channels
    assert_nothing_typed_stays(matter)
    hefa_verify(env.served)
