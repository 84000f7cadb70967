"""What a matter's flow asks of ``review/``: what to do with an input found stored in
Prefect (ignore it), and the matter's view.

These run where the domain is loaded: in ``hefa serve``'s desk when one answers
(the flow process then never imports SQLAlchemy or the models), or in the
flow process itself on a worker with no desk. No Prefect import here.
"""

from __future__ import annotations

import hashlib
import logging
import re
from typing import Any

from hefa.desk import views
from hefa.flows.inputs import FORMS, form_for
from hefa.review.documents import generated
from hefa.review.law.rules import Step
from hefa.review.records import queries
from hefa.review.records.wait_label import WaitLabel, label_in
from hefa.review.services import steps

log = logging.getLogger("hefa.desk")

NOT_FROM_HEFA = ("未经 hefa 入口提交的表单输入，已忽略，未作记录 / a form input that did not come through "
                 "hefa's front door was ignored and not recorded")
ANONYMOUS = "?"  # an input stored in Prefect names no one hefa can trust


def label_of_input(key: str) -> WaitLabel | None:
    """The wait label of a stored form input's key: 'suspended-review-v2-1a2b3c4d-response' → review-v2."""
    return label_in(key.removeprefix("suspended-").removesuffix("-response"))


def ignore_form_input(matter_id: str, run_id: str, key: str) -> dict[str, str]:
    """A form input found stored in Prefect is not from hefa (the front door answers every
    form itself and stores nothing in Prefect): never recorded, whatever it says. Its
    arrival is audited once (refused, ``invalid-input``, channel ``prefect``; the request id
    ``prefect:<run>:<hash of the key>`` gets its receipt with the audit event, so a replay that meets it
    again finds it ``seen``). Nothing it holds — name, code, text — goes into the audit."""
    request_id = f"prefect:{run_id[:40]}:{hashlib.sha256(key.encode('utf-8', 'replace')).hexdigest()[:32]}"
    shown = re.sub(r"[^A-Za-z0-9_-]", "?", key[:120])
    if steps.answered(request_id):
        return {"outcome": "seen", "message": ""}
    label = label_of_input(key)
    form = form_for(label.stage) if label is not None else None
    action = form[1] if form is not None else "form"
    steps.refuse_unparsed(ANONYMOUS, action, matter_id, NOT_FROM_HEFA, channel="prefect", request_id=request_id)
    log.warning("%s: %s (%s %s)", matter_id, NOT_FROM_HEFA, action, shown)
    return {"outcome": "ignored", "message": f"{action} {shown}: {NOT_FROM_HEFA}"}


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
