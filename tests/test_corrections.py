"""有件必审、有错必纠: the filing authority's review outcome, and the correction (督促整改) a 审查意见
opens — linked to an amending matter, warned when overdue, closed when the amendment is issued."""

from __future__ import annotations

from pathlib import Path

import pytest

from hefa.review.errors import Reason
from hefa.review.law import overdue
from hefa.review.records import queries
from hefa.review.records.db import read_session
from hefa.review.register import steps as register_steps
from hefa.review.services import steps
from tests.conftest import CLEAN, REVISED, WITH_FINE, checklist_answers
from tests.recording import drill_day, issue_document, record_until, refusal, row_of, start_drill


def test_a_review_opinion_opens_a_correction_that_goes_overdue_then_closes(
        hefa_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    office = start_drill("2026-02-02", monkeypatch)
    doc = issue_document(office, "关于占道经营管理的规定", "河政规〔2026〕7号", data=WITH_FINE)
    unfiled = steps.submit(office["zhang"], kind="normative-document", title="未备案", data=CLEAN,
                           filename="u.docx").matter_id
    contract = steps.submit(office["zhang"], kind="contract", title="合同", data=CLEAN, filename="c.docx").matter_id
    # who may record it, and when: the gate decides, each refusal audited
    assert refusal(register_steps.record_filing_review, office["zhang"], doc, outcome="passed") is Reason.WRONG_ROLE
    assert refusal(register_steps.record_filing_review, office["sun"], unfiled,
                   outcome="passed") is Reason.OUT_OF_ORDER
    assert refusal(register_steps.record_filing_review, office["sun"], contract,
                   outcome="passed") is Reason.NOT_APPLICABLE
    opened = register_steps.record_filing_review(office["sun"], doc, outcome="opinion", authority="县司法局",
                                                 problems="第二条设定罚款，超越规范性文件权限")
    assert opened.details["correction_due"] == "2026-03-04"  # 30 days (correction_days)
    assert refusal(register_steps.record_filing_review, office["sun"], doc,
                   outcome="passed") is Reason.OUT_OF_ORDER  # recorded once
    assert row_of(doc)["correction"] == "督促整改中，至 2026-03-04"
    # while the correction is open the document cannot simply be kept
    assert refusal(register_steps.decide, office["zhang"], doc, decision="keep",
                   reason="继续执行") is Reason.CORRECTION_OPEN
    # the deadline passes: the overdue scan warns, once, on the document's matter
    drill_day("2026-03-05", monkeypatch)
    first = overdue.scan(record=True)
    mine = [(i["stage"], i["level"], i["days_over"]) for i in first.new_warnings if i["matter"] == doc]
    assert mine == [("correction", "overdue", 1)]
    assert not [i for i in overdue.scan(record=True).new_warnings if i["matter"] == doc]
    # the drafting organ amends it through its own reviewed matter; an unlawful opinion sends it back first
    amend = steps.submit(office["zhang"], kind="normative-document", title="关于占道经营管理的规定（修订）",
                         data=WITH_FINE, filename="a.docx").matter_id
    register_steps.decide(office["zhang"], doc, decision="amend", reason="按备案审查意见删除罚款条款",
                          follow_up=amend)
    record_until(office, amend, "review")
    steps.record_opinion(office["li"], amend, conclusion="unlawful", reasons="仍设定罚款", version="1",
                         items=checklist_answers("normative-document"))
    steps.revise(office["zhang"], amend, data=REVISED, filename="a2.docx")
    assert row_of(doc)["status"] == "in-force"
    record_until(office, amend, "filing", number="河政规〔2026〕9号")
    row = row_of(doc)
    assert (row["status"], row["superseded_by"], row["correction"]) == ("amended", amend, "已整改")
    assert row_of(amend)["status"] == "in-force"
    assert not [i for i in overdue.scan().items if i["matter"] == doc]
    with read_session() as session:
        actions = [(e["action"], e["outcome"]) for e in queries.trail(session, doc)]
    for expected in [("filing-review", "refused"), ("filing-review", "accepted"), ("register-decision", "refused"),
                     ("deadline-overdue", "warning"), ("register-decision", "accepted"),
                     ("register-amended", "system"), ("correction-closed", "system")]:
        assert expected in actions, expected
    assert actions.index(("deadline-overdue", "warning")) < actions.index(("correction-closed", "system"))


def test_a_passed_review_opens_nothing(hefa_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    office = start_drill("2026-05-06", monkeypatch)
    doc = issue_document(office, "关于文明养犬的规定", "河政规〔2026〕11号")
    register_steps.record_filing_review(office["sun"], doc, outcome="passed", authority="县司法局")
    assert row_of(doc)["correction"] == ""
    assert refusal(register_steps.record_filing_review, office["sun"], doc,
                   outcome="bogus") is Reason.INVALID_INPUT
