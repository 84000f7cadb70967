"""What a matter's flow asks of ``review/``: take one form input, and the matter's view.

These run where the domain is loaded: in ``hefa serve``'s desk when one answers
(the flow process then never imports SQLAlchemy or the models), or in the
flow process itself on a worker with no desk. No Prefect import here.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from pydantic import ValidationError

from hefa.desk import views
from hefa.flows.inputs import FORMS, service_kwargs
from hefa.review.documents import generated
from hefa.review.errors import Refused
from hefa.review.law.rules import Step
from hefa.review.records import queries
from hefa.review.records.wait_label import WaitLabel, label_in
from hefa.review.services import steps

log = logging.getLogger("hefa.desk")


def label_of_input(key: str) -> WaitLabel | None:
    """The wait label of a stored form input's key: 'suspended-review-v2-1a2b3c4d-response' → review-v2."""
    return label_in(key.removeprefix("suspended-").removesuffix("-response"))


def take_form_input(matter_id: str, run_id: str, key: str, value: str) -> dict[str, str]:
    """Hand one stored form input to its step service, once.

    The input's request id (``form:<run>:<key>``) gets its receipt in the same transaction
    as the step or its refusal, so a replayed flow that meets the same input again finds
    it ``taken``.
    """
    request_id = f"form:{run_id}:{key}"
    if steps.answered(request_id):
        return {"outcome": "taken", "message": ""}
    raw = json.loads(value) if value else {}
    officer = str(raw.get("officer", ""))[:64] if isinstance(raw, dict) else ""
    label = label_of_input(key)
    known = {s.value for s in FORMS}
    if label is None or label.stage not in known:
        steps.refuse_unparsed(officer, "form", matter_id, "此时不接受表单输入 / no form expected",
                              request_id=request_id)
        return {"outcome": "refused", "message": "no form expected"}
    step = Step(label.stage)
    model, action = FORMS[step]
    try:
        form = model.model_validate(raw)
    except ValidationError as exc:
        reason = "表单内容不完整或格式不对 / malformed input: " + "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        steps.refuse_unparsed(officer, action, matter_id, reason[:500], request_id=request_id)
        return {"outcome": "refused", "message": reason}
    kwargs = service_kwargs(form)
    if step is Step.REVIEW:  # an opinion on the version the form showed: stale if revised since
        view = queries.status_of(matter_id)
        kwargs["version_sha256"] = next(
            (v["sha256"] for v in view["versions"] if v["number"] == label.version), None)
    try:
        outcome = steps.SERVICES[action](steps.Credentials(form.officer, code=form.code), matter_id,
                                         channel="form", request_id=request_id, **kwargs)
    except Refused as exc:
        return {"outcome": "refused", "message": f"{action} by {officer}: {exc}"}
    return {"outcome": "accepted",
            "message": f"{action} by {officer} (audit #{outcome.event_seq}): {outcome.message}"}


def matter_view(matter_id: str) -> dict[str, Any]:
    """Write due documents; return what the flow publishes and how it waits next.
    A document that cannot be written now does not stop the flow: it is written on a later replay."""
    try:
        generated.generate_pending(matter_id)
    except Exception as exc:  # the view and the wait matter more than the document, now
        log.warning("documents of %s not written yet: %s", matter_id, exc)
    view = queries.status_of(matter_id)
    documents = generated.documents_of(matter_id)
    step = Step(view["stage"]) if view["status"] == "open" else None
    return {
        "status": view["status"], "title": view["title"], "label": queries.wait_label(view),
        "form_step": step.value if step in FORMS and not view["needs_revision"] else None,
        "form_description": views.form_description(view) if view["status"] == "open" else "",
        "trail_rows": views.trail_rows(queries.trail_of(matter_id)),
        "summary_markdown": views.summary_markdown(view, documents),
    }
