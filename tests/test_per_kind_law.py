"""Issue 14, part 1: the township's own rule, who decides which controls apply, time limits and
stages per kind, and qualified officers — on the pure gate and through the step services."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from hefa.review.errors import Reason, RulesTableError
from hefa.review.law import gate
from hefa.review.law.clocks import running_clocks
from hefa.review.law.gate import Actor, Certificate, MatterSnapshot, Request, VersionRecord
from hefa.review.law.overdue import scan
from hefa.review.law.rules import (
    RULES,
    Bound,
    Kind,
    Role,
    StageRule,
    Start,
    Step,
    TimeLimit,
    Unit,
    validate_rules,
)
from hefa.review.people import officers
from hefa.review.records.db import read_session
from hefa.review.records.models import (
    AuditEvent,
    ControlDecision,
    EnforcementAssignment,
    LegalOpinion,
    Matter,
    RiskAssessment,
)
from hefa.review.services import steps
from hefa.review.services.steps import Credentials
from tests.conftest import CLEAN, Office, checklist_answers
from tests.recording import drill_day, refused, start_drill
from tests.test_gate_pure import COUNSEL, DRAFTER, HEAD, LAWFUL, SECRETARY, SETTINGS, TODAY, matter
from tests.test_gate_pure import refused as reason  # the gate's reason for a refusal, None when accepted

QUALIFIED = Actor(6, "qian", frozenset({Role.COUNSEL}), "河东镇", legal_qualification="A20191100000")
FIVE = (Kind.NORMATIVE_DOCUMENT, Kind.MAJOR_DECISION, Kind.CONTRACT, Kind.ADMINISTRATIVE_PENALTY,
        Kind.ADMINISTRATIVE_LICENCE)


def applicable(snapshot: MatterSnapshot) -> list[Step]:
    return [stage.step for stage in gate.progress(snapshot).applicable]


# --- the township's own rule --------------------------------------------------------------------

@pytest.mark.parametrize("kind", FIVE)
def test_the_township_default_sends_every_kind_to_deliberation_after_the_opinion(kind: Kind) -> None:
    steps_ = applicable(matter(kind))
    assert Step.DELIBERATION in steps_
    assert steps_.index(Step.REVIEW) < steps_.index(Step.DELIBERATION)


def test_with_the_settings_off_national_law_keeps_its_conditional_stages() -> None:
    national = {**SETTINGS, "deliberation_all_contracts": False, "deliberation_all_penalties": False,
                "deliberation_all_licences": False}
    for kind in (Kind.CONTRACT, Kind.ADMINISTRATIVE_PENALTY, Kind.ADMINISTRATIVE_LICENCE):
        assert Step.DELIBERATION not in applicable(matter(kind, settings=national)), kind
    assert Step.DELIBERATION in applicable(matter(Kind.CONTRACT, settings=national, flags=frozenset({"major"})))
    assert Step.DELIBERATION in applicable(matter(Kind.ADMINISTRATIVE_PENALTY, settings=national,
                                                  flags=frozenset({"complex_case"})))
    # normative documents and major decisions are deliberated by national law, whatever the settings
    assert Step.DELIBERATION in applicable(matter(Kind.NORMATIVE_DOCUMENT, settings=national))
    assert Step.DELIBERATION in applicable(matter(Kind.MAJOR_DECISION, settings=national))


def test_risk_assessment_is_the_township_rule_when_set_and_article_22_otherwise() -> None:
    off = {**SETTINGS, "major_risk_assessment_all": False}
    assert Step.ASSESSMENT in applicable(matter(Kind.MAJOR_DECISION))
    assert Step.ASSESSMENT not in applicable(matter(Kind.MAJOR_DECISION, settings=off))
    assert Step.ASSESSMENT in applicable(matter(Kind.MAJOR_DECISION, settings=off,
                                                flags=frozenset({"social_risk"})))


# --- the refusals this part adds, one each ----------------------------------------------------------

def certificate(name: str, until: dt.date = TODAY + dt.timedelta(days=365), **kw: Any) -> Certificate:
    return Certificate(name, number=f"ZF-{name}", valid_until=until, **kw)


# Each refusal this part adds (CONTROLS_UNCONFIRMED, FLAG_REQUIRED, ENFORCEMENT_OFFICERS, LEGAL_QUALIFICATION,
# MEETING_KIND, EXTENSION_NOTICE) has its one-reason case in test_gate_pure.test_each_reason_is_decided_by_the_gate.

def test_controls_are_confirmed_by_counsel_or_the_head_never_the_drafter() -> None:
    unconfirmed = matter(controls_confirmed=False, flags=frozenset({"public_impact"}))
    confirm = Request(Step.CONTROLS, flags=frozenset({"business_related"}))
    assert reason(unconfirmed, confirm, COUNSEL) is None
    assert reason(unconfirmed, confirm, HEAD) is None
    assert reason(unconfirmed, confirm, DRAFTER) is Reason.WRONG_ROLE
    assert reason(unconfirmed, Request(Step.CONTROLS, flags=frozenset({"major"})), COUNSEL) is Reason.UNKNOWN_FLAG
    # a counsel who also drafted the matter may not confirm its controls
    drafting_counsel = dataclasses.replace(unconfirmed, uploader_ids=frozenset({1, COUNSEL.officer_id}))
    assert reason(drafting_counsel, confirm, COUNSEL) is Reason.SEPARATION_OF_DUTIES
    # every step after it waits for it; once confirmed it is done
    assert reason(unconfirmed, Request(Step.PARTICIPATION), DRAFTER) is Reason.CONTROLS_UNCONFIRMED
    assert reason(matter(), confirm, COUNSEL) is Reason.OUT_OF_ORDER


def test_a_contract_below_the_amount_may_be_made_major_but_above_it_stays_major() -> None:
    small = matter(Kind.CONTRACT, controls_confirmed=False, amount=50_000)
    assert reason(small, Request(Step.CONTROLS, flags=frozenset({"major"})), COUNSEL) is None
    assert reason(small, Request(Step.CONTROLS), COUNSEL) is None
    big = dataclasses.replace(small, amount=SETTINGS["major_contract_amount"])
    assert reason(big, Request(Step.CONTROLS, flags=frozenset({"major"})), HEAD) is None
    assert reason(big, Request(Step.CONTROLS), HEAD) is Reason.FLAG_REQUIRED


@pytest.mark.parametrize(("certificates", "named", "accepted"), [
    ((certificate("a"), certificate("b")), ("a", "b"), True),
    ((certificate("a"),), ("a",), False),  # one certified officer
    ((certificate("a"), certificate("b", until=TODAY - dt.timedelta(days=1))), ("a", "b"), False),  # expired
    ((certificate("a"), certificate("b", until=TODAY)), ("a", "b"), True),  # valid through its last day
    ((certificate("a"), certificate("b"), Certificate("c")), ("a", "b", "c"), False),  # c holds none
    ((certificate("a"), certificate("b", disabled=True)), ("a", "b"), False),
    ((certificate("a"), Certificate("x", found=False)), ("a", "x"), False),
    ((), (), False),
])
def test_a_penalty_names_two_officers_with_valid_certificates(certificates: tuple[Certificate, ...],
                                                              named: tuple[str, ...], accepted: bool) -> None:
    for kind in (Kind.ADMINISTRATIVE_PENALTY, Kind.ADMINISTRATIVE_LICENCE):
        new = dataclasses.replace(MatterSnapshot.new(RULES[kind], SETTINGS, TODAY), certificates=certificates)
        verdict = gate.check(new, Request(Step.SUBMISSION, enforcers=named), DRAFTER)
        assert verdict.accepted is accepted, verdict.message
        assert accepted or verdict.reason is Reason.ENFORCEMENT_OFFICERS
    contract = MatterSnapshot.new(RULES[Kind.CONTRACT], SETTINGS, TODAY)
    assert reason(contract, Request(Step.SUBMISSION), DRAFTER) is None
    assert reason(contract, Request(Step.SUBMISSION, enforcers=("a",)), DRAFTER) is Reason.NOT_APPLICABLE


def test_penalty_review_needs_a_legal_qualification_other_kinds_do_not() -> None:
    penalty = matter(Kind.ADMINISTRATIVE_PENALTY, done=frozenset({Step.HEARING}))
    assert reason(penalty, Request(Step.REVIEW), COUNSEL) is Reason.LEGAL_QUALIFICATION
    assert reason(penalty, Request(Step.REVIEW), QUALIFIED) is not Reason.LEGAL_QUALIFICATION
    licence = matter(Kind.ADMINISTRATIVE_LICENCE)
    assert reason(licence, Request(Step.REVIEW), COUNSEL) is not Reason.LEGAL_QUALIFICATION


# --- time limits and stages ---------------------------------------------------------------------

def test_the_normative_review_minimum_is_enforced_with_a_reason_to_shorten_it() -> None:
    reviewed = matter(opinions=LAWFUL, review_since=TODAY - dt.timedelta(days=2))  # Saturday: 0 workdays
    assert reason(reviewed, Request(Step.DELIBERATION), SECRETARY) is Reason.REVIEW_TIME
    shortened = Request(Step.DELIBERATION, reasons={"review_shortened_reason": "上级限期出台"})
    assert reason(reviewed, shortened, SECRETARY) is None
    five_workdays_on = dataclasses.replace(reviewed, review_since=dt.date(2026, 10, 26))  # Monday a week ago
    assert reason(five_workdays_on, Request(Step.DELIBERATION), SECRETARY) is None


def test_business_related_documents_need_thirty_days_of_comment() -> None:
    ten_workdays = (dt.date(2026, 10, 19), dt.date(2026, 10, 30))  # 12 calendar days
    plain = matter(controls_confirmed=True, flags=frozenset({"public_impact"}))
    assert reason(plain, Request(Step.PARTICIPATION, period=ten_workdays), DRAFTER) is None
    business = matter(flags=frozenset({"business_related"}))
    assert Step.PARTICIPATION in applicable(business)
    assert reason(business, Request(Step.PARTICIPATION, period=ten_workdays), DRAFTER) is Reason.PERIOD_TOO_SHORT
    thirty_days = (dt.date(2026, 10, 1), dt.date(2026, 10, 30))
    assert reason(business, Request(Step.PARTICIPATION, period=thirty_days), DRAFTER) is None


def test_the_penalty_hearing_window_runs_only_where_article_63_gives_the_right() -> None:
    notice = Request(Step.HEARING, notified_on=TODAY - dt.timedelta(days=1), hearing="none")
    assert reason(matter(Kind.ADMINISTRATIVE_PENALTY), notice, DRAFTER) is None
    with_right = matter(Kind.ADMINISTRATIVE_PENALTY, flags=frozenset({"hearing_right"}))
    assert reason(with_right, notice, DRAFTER) is Reason.HEARING_WINDOW


def test_a_licence_hearing_applies_with_its_flag() -> None:
    assert Step.HEARING not in applicable(matter(Kind.ADMINISTRATIVE_LICENCE))
    licence = matter(Kind.ADMINISTRATIVE_LICENCE, flags=frozenset({"hearing_right"}))
    assert Step.HEARING in applicable(licence)
    notice = Request(Step.HEARING, notified_on=TODAY - dt.timedelta(days=1), hearing="none")
    assert reason(licence, notice, DRAFTER) is Reason.HEARING_WINDOW


def test_major_decisions_meet_in_the_meetings_the_law_names_and_may_report_and_evaluate() -> None:
    ready = matter(Kind.MAJOR_DECISION, opinions=LAWFUL, done=frozenset({Step.PARTICIPATION}),
                   assessments=(VersionRecord(10, "controllable"),), review_since=dt.date(2026, 10, 1))
    for kind in ("常务会议", "全体会议"):
        assert reason(ready, Request(Step.DELIBERATION, meeting_kind=kind), SECRETARY) is None
    flagged = dataclasses.replace(ready, flags=frozenset({"party_report", "evaluation"}))
    order = applicable(flagged)
    assert order.index(Step.DELIBERATION) < order.index(Step.PARTY_REPORT) < order.index(Step.SIGNING)
    assert order.index(Step.ISSUANCE) < order.index(Step.EVALUATION)
    assert Step.PARTY_REPORT not in applicable(ready) and Step.EVALUATION not in applicable(ready)


def test_signing_is_the_heads_act_and_numbering_the_offices() -> None:
    deliberated = matter(opinions=LAWFUL, deliberations=(VersionRecord(10, "approve"),))
    assert reason(deliberated, Request(Step.SIGNING), SECRETARY) is Reason.WRONG_ROLE
    assert reason(deliberated, Request(Step.SIGNING), HEAD) is None
    assert reason(deliberated, Request(Step.ISSUANCE, number="河政规〔2026〕1号"), SECRETARY) is Reason.OUT_OF_ORDER
    signed = dataclasses.replace(deliberated, done=frozenset({Step.SIGNING}))
    assert reason(signed, Request(Step.ISSUANCE, number="河政规〔2026〕1号"), SECRETARY) is None


def test_a_table_naming_an_unknown_flag_for_a_limit_is_refused() -> None:
    table = RULES[Kind.NORMATIVE_DOCUMENT]
    broken_stage = StageRule(Step.PARTICIPATION, "公开征求意见", Role.DRAFTER, "x", applies_when="public_impact",
                             limits=(TimeLimit(Bound.MIN, "business_comment_min_days", Unit.DAYS,
                                               Start.PERIOD, "x", when_flag="no_such_flag"),))
    stages = tuple(broken_stage if s.step is Step.PARTICIPATION else s for s in table.stages)
    with pytest.raises(RulesTableError, match="no_such_flag"):
        validate_rules({**RULES, Kind.NORMATIVE_DOCUMENT: dataclasses.replace(table, stages=stages)})


# --- through the services ------------------------------------------------------------------------


def opinion(office: Office, matter_id: str, kind: str, who: str = "li") -> steps.StepOutcome:
    return steps.record_opinion(office[who], matter_id, conclusion="lawful", reasons="主体、权限、内容、程序合法。",
                                version=1, items=checklist_answers(kind))


def certify(office: Office, name: str, until: str = "2027-12-31") -> None:
    officers.set_certificates(office["admin"], name, cert_number=f"ZF{name.upper()}001", cert_valid_until=until)


def enrol(office: Office, name: str, roles: str, **kw: Any) -> Credentials:
    enrolment = officers.add_officer(office["admin"], name, roles, "河东镇人民政府", **kw)
    return Credentials(name, token=enrolment.token)


def last_event(action: str) -> AuditEvent:
    with read_session() as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == action)
                               .order_by(AuditEvent.seq.desc()))  # type: ignore[attr-defined]
        assert event is not None
        return event


@pytest.fixture
def office(hefa_home: Path, monkeypatch: pytest.MonkeyPatch) -> Office:
    """The township's officers in a drill installation on Tuesday 2026-06-30."""
    return start_drill("2026-06-30", monkeypatch)


def test_a_penalty_with_one_certified_officer_is_refused_and_audited(office: Office) -> None:
    certify(office, "zhou")
    enrol(office, "wu", "drafter", cert_number="ZFWU001", cert_valid_until="2026-06-29")  # expired yesterday
    submit = lambda names: steps.submit(office["zhang"], kind="administrative-penalty",  # noqa: E731
                                        title="关于某公司违法排污的处罚决定", data=CLEAN, filename="penalty.docx",
                                        enforcement_officers=names)
    message = str(refused(lambda: submit("zhou"), Reason.ENFORCEMENT_OFFICERS))
    assert "不少于2名" in message and "第四十二条" in message
    assert "已于 2026-06-29 过期" in str(refused(lambda: submit("zhou,wu"), Reason.ENFORCEMENT_OFFICERS))
    event = last_event("submit")
    assert event.outcome == "refused" and "执法" in event.reason
    certify(office, "wu")
    outcome = submit("zhou,wu")
    with read_session() as session:
        rows = list(session.scalars(select(EnforcementAssignment)
                                    .where(EnforcementAssignment.matter_id == outcome.matter_id)))
    assert sorted(r.certificate_no for r in rows) == ["ZFWU001", "ZFZHOU001"]
    assert outcome.details["enforcers"] == ["zhou:ZFZHOU001", "wu:ZFWU001"]


def test_counsel_confirms_the_drafters_flags_before_the_opinion(office: Office) -> None:
    matter_id = steps.submit(office["zhang"], kind="normative-document", title="关于加强乡村治理的若干规定",
                             data=CLEAN, filename="draft.docx", flags=("public_impact",)).matter_id
    refused(lambda: opinion(office, matter_id, "normative-document"), Reason.CONTROLS_UNCONFIRMED)
    refused(lambda: steps.confirm_controls(office["zhang"], matter_id, flags=[], reason="无"), Reason.WRONG_ROLE)
    outcome = steps.confirm_controls(office["li"], matter_id, flags=["business_related"],
                                     reason="涉及个体工商户经营场所，属与市场主体密切相关的文件")
    assert outcome.stage == Step.PARTICIPATION.value
    event = last_event("controls")
    assert event.officer == "li" and event.outcome == "accepted"
    with read_session() as session:
        decision = session.scalar(select(ControlDecision).where(ControlDecision.matter_id == matter_id))
        row = session.get(Matter, matter_id)
        assert decision is not None and row is not None
        assert (decision.proposed, decision.confirmed, decision.role) == ("public_impact", "business_related",
                                                                          "counsel")
        assert row.flags == "business_related"
    refused(lambda: steps.confirm_controls(office["li"], matter_id, flags=[], reason="再改"), Reason.OUT_OF_ORDER)


def test_contract_majority_follows_the_amount_and_the_head_may_confirm(office: Office) -> None:
    matter_id = steps.submit(office["zhang"], kind="contract", title="道路养护合同", data=CLEAN,
                             filename="contract.docx", amount=2_000_000).matter_id
    refused(lambda: steps.confirm_controls(office["li"], matter_id, flags=[], reason="金额不大"),
            Reason.FLAG_REQUIRED)
    steps.confirm_controls(office["chen"], matter_id, flags=["major"], reason="金额达到重大合同标准")
    opinion(office, matter_id, "contract")
    with read_session() as session:
        recorded = session.scalar(select(LegalOpinion.controls).where(LegalOpinion.matter_id == matter_id))
    assert recorded is not None and "重大合同" in recorded and "chen（行政首长）" in recorded


def test_a_licence_goes_from_opinion_to_deliberation_and_is_made_public_within_seven_workdays(
        office: Office, monkeypatch: pytest.MonkeyPatch) -> None:
    certify(office, "zhang")
    certify(office, "zhou")
    matter_id = steps.submit(office["zhang"], kind="administrative-licence", title="占道经营许可",
                             data=CLEAN, filename="licence.docx", enforcement_officers="zhang,zhou").matter_id
    steps.confirm_controls(office["li"], matter_id, flags=[], reason="非重大执法决定，无须听证")
    opinion(office, matter_id, "administrative-licence")
    refused(lambda: steps.record_issuance(office["chen"], matter_id, number="河许〔2026〕1号"), Reason.OUT_OF_ORDER)
    steps.record_deliberation(office["zhao"], matter_id, decision="approve", attendees="陈,赵,钱",
                              presiding="陈", meeting_kind="办公会议")
    refused(lambda: steps.extend_deadline(office["chen"], matter_id, days=5, reason="需现场核查"),
            Reason.EXTENSION_NOTICE)
    steps.record_issuance(office["chen"], matter_id, number="河许〔2026〕1号")
    with read_session() as session:
        row = session.get(Matter, matter_id)
        assert row is not None
        clocks = running_clocks(row)
    assert row.stage == Step.FILING.value
    assert [(c.due_on, c.article[:13]) for c in clocks] == [(dt.date(2026, 7, 9), "国办发〔2018〕118号")]


def test_penalty_review_is_refused_to_counsel_without_a_legal_qualification(office: Office) -> None:
    certify(office, "zhang")
    certify(office, "zhou")
    matter_id = steps.submit(office["zhang"], kind="administrative-penalty", title="处罚决定", data=CLEAN,
                             filename="penalty.docx", enforcement_officers=["zhang", "zhou"]).matter_id
    steps.confirm_controls(office["li"], matter_id, flags=[], reason="一般程序，无听证权利情形")
    steps.record_hearing(office["zhang"], matter_id, notified_on="2026-06-29", hearing="none")
    refused(lambda: opinion(office, matter_id, "administrative-penalty"), Reason.LEGAL_QUALIFICATION)
    officers.set_certificates(office["admin"], "li", legal_qualification="A20191100000")
    opinion(office, matter_id, "administrative-penalty")
    assert "A20191100000" in last_event("opinion").payload


def test_a_normative_document_is_signed_by_the_head_then_numbered_by_the_office(
        office: Office, monkeypatch: pytest.MonkeyPatch) -> None:
    matter_id = steps.submit(office["zhang"], kind="normative-document", title="关于加强乡村治理的若干规定",
                             data=CLEAN, filename="draft.docx").matter_id
    steps.confirm_controls(office["li"], matter_id, flags=[], reason="不涉及群众切身利益")
    opinion(office, matter_id, "normative-document")
    deliberate = lambda **kw: steps.record_deliberation(  # noqa: E731
        office["zhao"], matter_id, decision="approve", attendees="陈,赵,钱", presiding="陈", **kw)
    refused(deliberate, Reason.REVIEW_TIME)  # same day: 5 working days of review first (115号)
    drill_day("2026-07-07", monkeypatch)  # five working days later
    deliberate()
    refused(lambda: steps.record_issuance(office["zhao"], matter_id, number="河政规〔2026〕3号"), Reason.OUT_OF_ORDER)
    refused(lambda: steps.record_signing(office["zhao"], matter_id), Reason.WRONG_ROLE)
    steps.record_signing(office["chen"], matter_id, reference="同意印发")
    outcome = steps.record_issuance(office["zhao"], matter_id, number="河政规〔2026〕3号")
    assert outcome.stage == Step.FILING.value


def test_a_major_decision_records_why_it_was_risk_assessed(office: Office) -> None:
    matter_id = steps.submit(office["zhang"], kind="major-decision", title="镇区停车收费方案", data=CLEAN,
                             filename="decision.docx").matter_id
    steps.confirm_controls(office["li"], matter_id, flags=[], reason="非专业性事项")
    steps.record_participation(office["zhang"], matter_id, period_start="2026-05-01", period_end="2026-06-01",
                               comment_count=3, summary="采纳2条")
    steps.record_assessment(office["wang"], matter_id, level="low", controllable="yes", summary="风险可控")
    with read_session() as session:
        basis = session.scalar(select(RiskAssessment.basis).where(RiskAssessment.matter_id == matter_id))
    assert basis is not None and basis.startswith("本镇规定")


def test_expiring_certificates_show_in_overdue(office: Office) -> None:
    certify(office, "zhang", until="2026-07-10")
    certify(office, "zhou", until="2026-06-01")
    certify(office, "sun", until="2027-06-01")
    rows = {r["officer"]: r for r in scan().certificates}
    assert rows["zhang"]["level"] == "expiring" and rows["zhang"]["days_left"] == 10
    assert rows["zhou"]["level"] == "expired"
    assert "sun" not in rows
