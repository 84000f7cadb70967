"""Helpers the drill-dated tests share: a drill installation and its date, recording a matter's
stages lawfully until it waits for a given one, issuing a document, reading its register row,
and the code a refusal carries."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from hefa.review.errors import Reason, Refused
from hefa.review.register.entries import register_of
from hefa.review.services import steps
from tests.conftest import CLEAN, Office, checklist_answers, make_office, reset_caches


def drill_day(day: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The drill's date (only a drill installation honours it). Days only move forward: the audit
    chain refuses time going back."""
    monkeypatch.setenv("HEFA_TODAY", day)
    reset_caches()


def start_drill(day: str, monkeypatch: pytest.MonkeyPatch) -> Office:
    """A drill installation (recorded as such, as `hefa init --drill` does) on ``day``, with officers."""
    drill_day(day, monkeypatch)
    return make_office(drill=True)


def record_until(office: Office, matter: str, stop: str | None = None, *, number: str = "",
                 published_on: str | None = None, counsel: str = "li", secretary: str = "zhao",
                 filer: str = "sun", meeting_kind: str = "常务会议") -> dict:
    """Record each stage the matter waits for, lawfully, by the officer of the stage's role,
    until it waits for ``stop`` (or is closed)."""
    from hefa.review.law.rules import Step, rules_for
    from hefa.review.records.queries import status_of

    who = {"counsel": counsel, "secretary": secretary, "filing_officer": filer, "head": "chen",
           "drafter": "zhang", "assessor": "wang"}
    for _ in range(12):
        view = status_of(matter)
        stage = view["stage"]
        if stage == stop or view["status"] != "open":
            return view
        rule = rules_for(view["kind"]).stage(Step(stage))
        officer = office[who[rule.role.value]] if rule is not None else office[counsel]
        if stage == "controls":
            steps.SERVICES["controls"](officer, matter, flags=view.get("flags") or [],
                                       reason="按起草人的建议确认适用程序")
        elif stage == "review":
            steps.record_opinion(officer, matter, conclusion="lawful", reasons="经审查，合法。",
                                 version=str(view["current_version"]["number"]), items=checklist_answers(view["kind"]))
        elif stage == "assessment":
            steps.record_assessment(officer, matter, level="low", controllable="yes", summary="风险可控。")
        elif stage == "deliberation":
            steps.record_deliberation(officer, matter, decision="approve", attendees="chen,zhao",
                                      presiding="chen", meeting_kind=meeting_kind,
                                      urgent_reason="演练：紧急情况，缩短审查时间")
        elif stage == "signing":
            steps.SERVICES["signing"](officer, matter, reference="同意签发")
        elif stage == "issuance":
            steps.record_issuance(officer, matter, number=number, published_on=published_on)
        elif stage == "filing":
            steps.record_filing(officer, matter, filed_with="县人民政府", receipt=f"备-{matter}")
        else:
            raise AssertionError(f"{matter} waits for {stage}")
    raise AssertionError(f"{matter} never got to {stop}")


def issue_document(office: Office, title: str, number: str, *, published_on: str | None = None,
                   data: bytes = CLEAN, drafter: str = "zhang") -> str:
    """A normative document through review, deliberation, issuance and filing; its matter id."""
    matter = steps.submit(office[drafter], kind="normative-document", title=title, data=data,
                          filename="d.docx").matter_id
    record_until(office, matter, number=number, published_on=published_on)
    return matter


def row_of(matter: str) -> dict:
    (row,) = [r for r in register_of() if r["matter"] == matter]
    return row


def refusal(fn, *args, **kwargs) -> Reason:  # type: ignore[no-untyped-def]
    with pytest.raises(Refused) as caught:
        fn(*args, **kwargs)
    return caught.value.code


def refused(call: Callable[[], Any], code: str) -> Refused:
    """The refusal ``call`` raises, which must carry ``code``."""
    with pytest.raises(Refused) as info:
        call()
    assert info.value.code == code, f"expected {code}, got {info.value.code}: {info.value}"
    return info.value
