"""One Prefect flow per kind of matter. Each reads like the regulation: for the stage
the rules table says the matter waits at, show the form, hand what comes back to
the ``review/`` service, publish the audit trail — and wait again.

Replay safety: a suspended flow re-runs from the top when resumed. The body
therefore keeps no state of its own: it takes any form input waiting for it
(each taken once: ``steps.taking_form_input`` records it in the same
transaction as the step), deletes it from Prefect, reads where the matter
stands from the database, publishes, and suspends under a fresh key. A step
recorded from the CLI is simply found done on replay; nothing is recorded twice.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.flow_runs import suspend_flow_run
from prefect.input.actions import delete_flow_run_input, filter_flow_run_input
from prefect.runtime import flow_run
from pydantic import ValidationError

from hefa.flows import describe
from hefa.flows.inputs import FORMS, submit_form
from hefa.review import documents_out, queries, steps
from hefa.review.errors import Refused
from hefa.review.rules import RULES, Kind, Step

SUSPEND_TIMEOUT = 365 * 24 * 3600  # reviews take days; a year before Prefect gives up


def _parse_key(key: str) -> tuple[str, int] | None:
    """'suspended-review-v2-1a2b3c4d-response' → ('review', 2)."""
    base = key.removeprefix("suspended-").removesuffix("-response")
    parts = base.split("-")
    if len(parts) != 3 or not parts[1].startswith("v") or not parts[1][1:].isdigit():
        return None
    return parts[0], int(parts[1][1:])


@task(name="收取表单 take form inputs", cache_policy=NO_CACHE, persist_result=False)
def take_form_inputs(matter_id: str, run_id: str) -> list[str]:
    """Hand every waiting form input to its service once, then delete it from Prefect."""
    logger = get_run_logger()
    outcomes: list[str] = []
    stored = filter_flow_run_input(key_prefix="suspended-", limit=200, flow_run_id=run_id)
    for item in sorted(stored, key=lambda i: i.created or 0):
        if item.key.endswith("-response") and not steps.form_input_taken(run_id, item.key):
            outcomes.append(_take_one(matter_id, run_id, item.key, item.value, logger))
    for item in stored:  # nothing typed, and no stale form, stays in Prefect
        delete_flow_run_input(key=item.key, flow_run_id=run_id)
    return outcomes


def _take_one(matter_id: str, run_id: str, key: str, value: str, logger: Any) -> str:
    parsed = _parse_key(key)
    raw = json.loads(value) if value else {}
    officer = str(raw.get("officer", ""))[:64] if isinstance(raw, dict) else ""
    view = queries.status_of(matter_id)
    if parsed is None or parsed[0] not in {s.value for s in FORMS}:
        with steps.taking_form_input(run_id, key):
            steps.refuse_input(officer, "form", matter_id, "此时不接受表单输入 / no form expected")
        return "refused"
    stage, version_number = parsed
    reviewed = next((v["sha256"] for v in view["versions"] if v["number"] == version_number), None)
    try:
        with steps.taking_form_input(run_id, key):
            try:
                outcome = submit_form(Step(stage), raw, matter_id, reviewed)
            except ValidationError as exc:
                reason = "表单内容不完整或格式不对 / malformed input: " + "; ".join(
                    f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
                steps.refuse_input(officer, stage, matter_id, reason[:500])
                logger.warning("拒绝 / refused %s: %s", stage, reason)
                return "refused"
    except Refused as exc:
        logger.warning("拒绝 / refused %s by %s: %s", stage, officer, exc)
        return "refused"
    logger.info("已受理 / accepted %s by %s (audit #%s): %s", stage, officer, outcome.event_seq,
                outcome.message)
    return "accepted"


@task(name="发布审计记录 publish trail", cache_policy=NO_CACHE, persist_result=False)
def publish_matter(matter_id: str) -> dict[str, Any]:
    """Write due documents, then publish the matter's audit trail and summary artifacts."""
    documents_out.generate_pending(matter_id)
    view = queries.status_of(matter_id)
    documents = documents_out.documents_of(matter_id)
    key = matter_id.lower()
    create_table_artifact(key=f"audit-{key}", table=describe.trail_rows(queries.trail_of(matter_id)),
                          description=f"{matter_id} {view['title']} 审计记录 / audit trail")
    create_markdown_artifact(key=f"matter-{key}", markdown=describe.summary_markdown(view, documents),
                             description=f"{matter_id} 事项概况 / summary")
    return view


def drive(matter_id: str) -> dict[str, Any]:
    """The body every matter flow shares: take inputs, publish, wait for the next person."""
    run_id = str(flow_run.get_id())
    take_form_inputs(matter_id, run_id)
    view = publish_matter(matter_id)
    if view["status"] != "open":
        return {"matter": matter_id, "status": view["status"]}
    label = queries.wait_label(view)
    key = f"{label}-{uuid.uuid4().hex[:8]}"
    step = Step(view["stage"])
    if view["needs_revision"] or step not in FORMS:
        suspend_flow_run(key=key, timeout=SUSPEND_TIMEOUT)  # 退回修改: `hefa revise` wakes it
    else:
        form = FORMS[step][0].with_initial_data(description=describe.form_description(view))
        suspend_flow_run(wait_for_input=form, key=key, timeout=SUSPEND_TIMEOUT)
    return {"matter": matter_id, "status": "open"}  # not reached: suspending ends the process


def _matter_flow(kind: Kind):  # type: ignore[no-untyped-def]
    return flow(name=RULES[kind].flow_name,
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


MATTER_FLOWS = {
    Kind.NORMATIVE_DOCUMENT: normative_document_review,
    Kind.MAJOR_DECISION: major_decision_review,
    Kind.CONTRACT: contract_review,
    Kind.ADMINISTRATIVE_PENALTY: administrative_penalty_review,
    Kind.ADMINISTRATIVE_LICENCE: administrative_licence_review,
}
