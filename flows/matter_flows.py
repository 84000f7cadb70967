"""One Prefect flow per kind of matter. Each reads like the regulation: for the stage
the rules table says the matter waits at, show the form, hand what comes back to
the ``review/`` service, publish the audit trail — and wait again.

Who answers a form: only the front door (``web/proxy.py``) answers the Prefect UI's
resume forms, as the signed-in officer; it records the step in hefa first and then
wakes the run without any input. A form input found stored in Prefect did not come
through hefa: it is never recorded — the flow audits that it was ignored, logs it on
the run and deletes it (``desk/flow_work.py``).

Replay safety: a suspended flow re-runs from the top when resumed. The body
therefore keeps no state of its own: it clears any stored input (each audited once:
its request id's receipt is written with the audit event), reads where the matter
stands from the database, publishes, and suspends under a fresh key.

Speed: the ``review/`` work is asked of the desk of ``hefa serve`` (``flow_work``),
which has the domain loaded, so this process imports only Prefect; on a worker
without a desk it is done here. A step
recorded from the CLI is simply found done on replay; nothing is recorded twice.
"""

from __future__ import annotations

import uuid
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.flow_runs import suspend_flow_run
from prefect.input.actions import delete_flow_run_input, filter_flow_run_input
from prefect.runtime import flow_run

from hefa.desk import client as desk_client
from hefa.flows.inputs import waiting_form
from hefa.flows.names import flow_name
from hefa.review.law.rules import RULES, Kind, Step
from hefa.review.records.wait_label import WaitLabel

SUSPEND_TIMEOUT = 365 * 24 * 3600  # reviews take days; a year before Prefect gives up


def _work(name: str, **kwargs: Any) -> dict[str, Any]:
    """``flows/flow_work.py`` through the desk of ``hefa serve``; in this process without one."""
    answer = desk_client.ask_flow(name, **kwargs)
    if answer is not None:
        return answer
    from hefa.desk import flow_work

    return getattr(flow_work, name)(**kwargs)


@task(name="清除表单输入 clear form inputs", cache_policy=NO_CACHE, persist_result=False)
def take_form_inputs(matter_id: str, run_id: str) -> list[str]:
    """Ignore every form input stored in Prefect (it did not come through hefa's front door):
    audit and log each once, never record it; then delete it and every stale form."""
    logger = get_run_logger()
    outcomes: list[str] = []
    stored = filter_flow_run_input(key_prefix="suspended-", limit=200, flow_run_id=run_id)
    for item in sorted(stored, key=lambda i: i.created or 0):
        if item.key.endswith("-response"):
            ignored = _work("ignore_form_input", matter_id=matter_id, run_id=run_id, key=item.key)
            if ignored["outcome"] == "ignored":
                logger.warning("已忽略 / ignored %s", ignored["message"])
            outcomes.append(ignored["outcome"])
    for item in stored:  # nothing typed, and no stale form, stays in Prefect
        delete_flow_run_input(key=item.key, flow_run_id=run_id)
    return outcomes


@task(name="发布审计记录 publish trail", cache_policy=NO_CACHE, persist_result=False)
def publish_matter(matter_id: str) -> dict[str, Any]:
    """Write due documents, then publish the matter's audit trail and summary artifacts."""
    view = _work("matter_view", matter_id=matter_id)
    key = matter_id.lower()
    create_table_artifact(key=f"audit-{key}", table=view["trail_rows"],
                          description=f"{matter_id} {view['title']} 审计记录 / audit trail")
    create_markdown_artifact(key=f"matter-{key}", markdown=view["summary_markdown"],
                             description=f"{matter_id} 事项概况 / summary")
    return view


def drive(matter_id: str) -> dict[str, Any]:
    """The body every matter flow shares: take inputs, publish, wait for the next person."""
    run_id = str(flow_run.get_id())
    take_form_inputs(matter_id, run_id)
    view = publish_matter(matter_id)
    if view["status"] != "open":
        return {"matter": matter_id, "status": view["status"]}
    label = WaitLabel.parse(view["label"])
    key = label.keyed(uuid.uuid4().hex[:8])  # type: ignore[union-attr]
    if view["form_step"] is None:
        suspend_flow_run(key=key, timeout=SUSPEND_TIMEOUT)  # 退回修改: `hefa revise` wakes it
    else:  # answered by the front door as the signed-in officer, which then wakes the run
        form = waiting_form(Step(view["form_step"]), view["form_description"], label.version)  # type: ignore[union-attr]
        suspend_flow_run(wait_for_input=form, key=key, timeout=SUSPEND_TIMEOUT)
    return {"matter": matter_id, "status": "open"}  # not reached: suspending ends the process


def _matter_flow(kind: Kind):  # type: ignore[no-untyped-def]
    return flow(name=flow_name(kind),
                description=f"{RULES[kind].name_zh}：{RULES[kind].source}", log_prints=True,
                persist_result=False)


@_matter_flow(Kind.NORMATIVE_DOCUMENT)
def normative_document_review(matter_id: str) -> dict[str, Any]:
    return drive(matter_id)


@_matter_flow(Kind.MAJOR_DECISION)
def major_decision_review(matter_id: str) -> dict[str, Any]:
    return drive(matter_id)


@_matter_flow(Kind.CONTRACT)
def contract_review(matter_id: str) -> dict[str, Any]:
    return drive(matter_id)


@_matter_flow(Kind.ADMINISTRATIVE_PENALTY)
def administrative_penalty_review(matter_id: str) -> dict[str, Any]:
    return drive(matter_id)


@_matter_flow(Kind.ADMINISTRATIVE_LICENCE)
def administrative_licence_review(matter_id: str) -> dict[str, Any]:
    return drive(matter_id)


@_matter_flow(Kind.VILLAGE_AFFAIR)
def village_affair_review(matter_id: str) -> dict[str, Any]:
    """村级重大事务: 村民委员会提出 → 村法律顾问合法性评价 → 村民会议/村民代表会议决定 (→ 报乡镇备案)."""
    return drive(matter_id)


MATTER_FLOWS = {
    Kind.NORMATIVE_DOCUMENT: normative_document_review,
    Kind.MAJOR_DECISION: major_decision_review,
    Kind.CONTRACT: contract_review,
    Kind.ADMINISTRATIVE_PENALTY: administrative_penalty_review,
    Kind.ADMINISTRATIVE_LICENCE: administrative_licence_review,
    Kind.VILLAGE_AFFAIR: village_affair_review,
}
