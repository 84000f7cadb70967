"""The gate as a pure function: snapshots built directly, no database, one test per refusal reason.

Every ``Reason`` the gate decides is produced here from a snapshot and a request, so a reader can
see that ``review/law/gate.py`` alone decides it. (The database and property tests in
``test_gate.py`` and ``test_properties.py`` drive the same gate through the services.)
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from hefa.review.errors import Reason
from hefa.review.law import gate
from hefa.review.law.checklists import Entry, checklist_for
from hefa.review.law.gate import Actor, MatterSnapshot, Request, VersionRecord
from hefa.review.law.rules import RULES, Kind, Role, Step
from hefa.review.law.settings import LawSettings

TODAY = dt.date(2026, 11, 2)  # a Monday
SETTINGS = LawSettings().model_dump()
DRAFTER = Actor(1, "zhang", frozenset({Role.DRAFTER}), "河东镇")
COUNSEL = Actor(2, "li", frozenset({Role.COUNSEL}), "河东镇")
SECRETARY = Actor(3, "zhao", frozenset({Role.SECRETARY}), "河东镇")
HEAD = Actor(4, "chen", frozenset({Role.HEAD}), "河东镇")
FILER = Actor(5, "sun", frozenset({Role.FILING_OFFICER}), "河东镇")


def matter(kind: Kind = Kind.NORMATIVE_DOCUMENT, **changes: object) -> MatterSnapshot:
    base = MatterSnapshot(
        kind_rules=RULES[kind], status="open", settings=SETTINGS, today=TODAY, drafter_id=DRAFTER.officer_id,
        organ="河东镇", current_version_id=10, current_version_number=1, current_version_sha256="a" * 64,
        current_uploader_id=DRAFTER.officer_id, version_sha256s=frozenset({"a" * 64}),
        uploader_ids=frozenset({DRAFTER.officer_id}), controls_confirmed=True)
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


LAWFUL = (VersionRecord(10, "lawful"),)
# Counsel's answer to every item of the normative-document checklist (审查要点), all 符合.
ANSWERED = tuple(Entry(i.key, "conforms") for i in checklist_for(Kind.NORMATIVE_DOCUMENT).items)
FAILED_SUBJECT = (Entry("subject", "fails", "制定主体不适格"), *ANSWERED[1:])


def refused(snapshot: MatterSnapshot, request: Request, actor: Actor) -> Reason | None:
    verdict = gate.check(snapshot, request, actor)
    return None if verdict.accepted else verdict.reason


def test_a_lawful_opinion_then_deliberation_is_accepted() -> None:
    assert gate.check(matter(), Request(Step.REVIEW, checklist=ANSWERED), COUNSEL).accepted
    reviewed = matter(opinions=LAWFUL, review_since=dt.date(2026, 10, 26))  # 5 working days of review (115号)
    assert gate.check(reviewed, Request(Step.DELIBERATION), SECRETARY).accepted


@pytest.mark.parametrize(("snapshot", "request_", "actor", "reason"), [
    (matter(status="closed"), Request(Step.FILING), FILER, Reason.CLOSED),
    (matter(), Request(Step.EXPERTS), DRAFTER, Reason.NOT_APPLICABLE),
    (matter(), Request(Step.REVIEW), DRAFTER, Reason.WRONG_ROLE),
    (matter(), Request(Step.REVIEW, version_sha256="b" * 64), COUNSEL, Reason.STALE_VERSION),
    (matter(current_uploader_id=COUNSEL.officer_id), Request(Step.REVIEW), COUNSEL, Reason.SEPARATION_OF_DUTIES),
    (matter(drafter_id=SECRETARY.officer_id, opinions=LAWFUL), Request(Step.DELIBERATION), SECRETARY,
     Reason.SEPARATION_OF_DUTIES),
    (matter(), Request(Step.DELIBERATION), SECRETARY, Reason.NO_CURRENT_OPINION),
    (matter(opinions=(VersionRecord(9, "lawful"),)), Request(Step.ISSUANCE), SECRETARY, Reason.NO_CURRENT_OPINION),
    (matter(opinions=LAWFUL), Request(Step.ISSUANCE), SECRETARY, Reason.OUT_OF_ORDER),
    (matter(opinions=(VersionRecord(10, "unlawful"),)), Request(Step.REVIEW), COUNSEL, Reason.NEEDS_REVISION),
    (matter(), Request(gate.REVISE, version_sha256="a" * 64), DRAFTER, Reason.IDENTICAL_REVISION),
    (matter(done=frozenset({Step.ISSUANCE})), Request(gate.REVISE, version_sha256="c" * 64), DRAFTER, Reason.ISSUED),
    (matter(Kind.ADMINISTRATIVE_LICENCE, extended=True), Request(gate.EXTEND), HEAD, Reason.ALREADY_EXTENDED),
    (matter(Kind.MAJOR_DECISION, opinions=LAWFUL, done=frozenset({Step.PARTICIPATION}),
            assessments=(VersionRecord(10, "controllable"),), review_since=dt.date(2026, 10, 1)),
     Request(Step.DELIBERATION, head_spoke_last=False), SECRETARY, Reason.HEAD_LAST),
    (matter(opinions=LAWFUL, deliberations=(VersionRecord(10, "approve"),), number_holder="2026-0001",
            done=frozenset({Step.SIGNING})),
     Request(Step.ISSUANCE, number="河政规〔2026〕1号"), SECRETARY, Reason.DUPLICATE_NUMBER),
    (matter(opinions=LAWFUL), Request(Step.DELIBERATION, dates={"会议日期": TODAY + dt.timedelta(days=1)}),
     SECRETARY, Reason.FUTURE_DATE),
    (matter(flags=frozenset({"public_impact"})),
     Request(Step.PARTICIPATION, period=(dt.date(2026, 10, 26), dt.date(2026, 10, 30))), DRAFTER,
     Reason.PERIOD_TOO_SHORT),
    (matter(Kind.ADMINISTRATIVE_PENALTY, flags=frozenset({"hearing_right"})),
     Request(Step.HEARING, notified_on=TODAY - dt.timedelta(days=1), hearing="none"), DRAFTER,
     Reason.HEARING_WINDOW),
    (matter(Kind.MAJOR_DECISION, opinions=LAWFUL, done=frozenset({Step.PARTICIPATION}),
            assessments=(VersionRecord(10, "controllable"),), review_since=TODAY - dt.timedelta(days=1)),
     Request(Step.DELIBERATION, head_spoke_last=True, meeting_kind="常务会议"), SECRETARY, Reason.REVIEW_TIME),
    (MatterSnapshot.new(RULES[Kind.CONTRACT], SETTINGS, TODAY), Request(Step.SUBMISSION, flags=frozenset({"big"})),
     DRAFTER, Reason.UNKNOWN_FLAG),
    (MatterSnapshot.new(RULES[Kind.CONTRACT], SETTINGS, TODAY), Request(Step.SUBMISSION), COUNSEL, Reason.WRONG_ROLE),
    # issue 14: who decides the controls, qualified officers, meetings, extension notices
    (matter(controls_confirmed=False), Request(Step.REVIEW), COUNSEL, Reason.CONTROLS_UNCONFIRMED),
    (matter(Kind.CONTRACT, controls_confirmed=False, amount=2_000_000), Request(Step.CONTROLS), COUNSEL,
     Reason.FLAG_REQUIRED),
    (MatterSnapshot.new(RULES[Kind.ADMINISTRATIVE_PENALTY], SETTINGS, TODAY),
     Request(Step.SUBMISSION, enforcers=("zhou",)), DRAFTER, Reason.ENFORCEMENT_OFFICERS),
    (matter(Kind.ADMINISTRATIVE_PENALTY, done=frozenset({Step.HEARING})), Request(Step.REVIEW), COUNSEL,
     Reason.LEGAL_QUALIFICATION),
    (matter(Kind.MAJOR_DECISION, opinions=LAWFUL, done=frozenset({Step.PARTICIPATION}),
            assessments=(VersionRecord(10, "controllable"),), review_since=dt.date(2026, 10, 1)),
     Request(Step.DELIBERATION, meeting_kind="办公会议"), SECRETARY, Reason.MEETING_KIND),
    (matter(Kind.ADMINISTRATIVE_LICENCE), Request(gate.EXTEND), HEAD, Reason.EXTENSION_NOTICE),
    (matter(), Request(Step.REVIEW, conclusion="lawful", checklist=ANSWERED[1:]), COUNSEL,
     Reason.CHECKLIST_INCOMPLETE),
    (matter(), Request(Step.REVIEW, conclusion="lawful", checklist=(*ANSWERED, Entry("parties", "conforms"))),
     COUNSEL, Reason.CHECKLIST_INCOMPLETE),
    (matter(), Request(Step.REVIEW, conclusion="amend", checklist=(Entry("subject", "fails"), *ANSWERED[1:])),
     COUNSEL, Reason.CHECKLIST_NOTE),
    (matter(), Request(Step.REVIEW, conclusion="lawful", checklist=FAILED_SUBJECT), COUNSEL,
     Reason.CHECKLIST_CONFLICT),
    (matter(today=dt.date(2031, 6, 1), flags=frozenset({"public_impact"})),
     Request(Step.PARTICIPATION, period=(dt.date(2031, 5, 1), dt.date(2031, 5, 2))), DRAFTER, Reason.CALENDAR),
], ids=lambda value: str(value) if isinstance(value, Reason) else "")
def test_each_reason_is_decided_by_the_gate(snapshot: MatterSnapshot, request_: Request, actor: Actor,
                                            reason: Reason) -> None:
    assert refused(snapshot, request_, actor) == reason


def test_the_gate_decides_every_gate_reason() -> None:
    """Every reason above the 'decided at the door' line is produced by a test of this file."""
    at_the_door = {Reason.CREDENTIALS, Reason.INVALID_INPUT, Reason.NOT_FOUND, Reason.EXISTS, Reason.SELF,
                   Reason.USAGE, Reason.DESK}
    source = open(gate.__file__, encoding="utf-8").read()
    for reason in set(Reason) - at_the_door:
        assert f"Reason.{reason.name}" in source, f"{reason} is not decided in gate.py"


def test_recorded_reasons_lift_minimum_periods() -> None:
    short = Request(Step.PARTICIPATION, period=(dt.date(2026, 10, 26), dt.date(2026, 10, 30)),
                    reasons={"shortened_reason": "紧急防汛"})
    assert gate.check(matter(flags=frozenset({"public_impact"})), short, DRAFTER).accepted
    waived = Request(Step.HEARING, notified_on=TODAY - dt.timedelta(days=1), hearing="waived",
                     reasons={"hearing_waived": "当事人放弃听证"})
    assert gate.check(matter(Kind.ADMINISTRATIVE_PENALTY), waived, DRAFTER).accepted


def test_a_township_setting_makes_review_apply_and_the_gate_enforce_it() -> None:
    penalty = matter(Kind.ADMINISTRATIVE_PENALTY, done=frozenset({Step.HEARING}))
    assert refused(penalty, Request(Step.ISSUANCE), HEAD) == Reason.NO_CURRENT_OPINION
    national = dataclasses.replace(penalty, settings={**SETTINGS, "penalty_review_all": False,
                                                      "deliberation_all_penalties": False})
    assert gate.check(national, Request(Step.ISSUANCE), HEAD).accepted


@pytest.mark.parametrize(("reference", "current"), [("1", True), ("v1", True), ("2", False), ("a" * 12, True),
                                                     ("a" * 64, True), ("b" * 12, False), ("aaaa", False)])
def test_an_opinion_names_its_version_by_number_or_sha_prefix(reference: str, current: bool) -> None:
    verdict = gate.check(matter(), Request(Step.REVIEW, version_sha256=reference, checklist=ANSWERED), COUNSEL)
    assert verdict.accepted is current
    assert current or verdict.reason is Reason.STALE_VERSION


# --- after filing (issue 16): 备案审查、督促整改、清理 ------------------------------------------------

def filed(kind: Kind = Kind.NORMATIVE_DOCUMENT, **changes: object) -> gate.AfterFiling:
    from hefa.review.law.rules import FILING_REVIEW

    review = FILING_REVIEW.get(kind)
    base = gate.AfterFiling(kind_rules=RULES[kind], today=TODAY, drafter_id=DRAFTER.officer_id, organ="河东镇",
                            filed=True, review_role=review[0] if review else None, register_status="in-force",
                            follow_up_kind=kind.value, follow_up_status="open", follow_up_organ="河东镇")
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


REVIEW_OUTCOME = gate.AfterFilingRequest(gate.FILING_REVIEW, "opinion")
AMEND = gate.AfterFilingRequest(gate.REGISTER_DECISION, "amend")
KEEP = gate.AfterFilingRequest(gate.REGISTER_DECISION, "keep")
VILLAGE_COUNSEL = Actor(6, "cun", frozenset({Role.COUNSEL}), "东村村民委员会")


@pytest.mark.parametrize(("state", "request_", "actor", "reason"), [
    (filed(), REVIEW_OUTCOME, DRAFTER, Reason.WRONG_ROLE),
    (filed(filed=False), REVIEW_OUTCOME, FILER, Reason.OUT_OF_ORDER),
    (filed(filing_reviewed=True), REVIEW_OUTCOME, FILER, Reason.OUT_OF_ORDER),
    (filed(Kind.CONTRACT), REVIEW_OUTCOME, FILER, Reason.NOT_APPLICABLE),
    (filed(Kind.VILLAGE_AFFAIR, organ="东村村民委员会"), REVIEW_OUTCOME, VILLAGE_COUNSEL,
     Reason.SEPARATION_OF_DUTIES),
    (filed(register_status="repealed"), AMEND, DRAFTER, Reason.NOT_IN_FORCE),
    (filed(register_status="expired"), KEEP, DRAFTER, Reason.NOT_IN_FORCE),
    (filed(open_correction=True), KEEP, DRAFTER, Reason.CORRECTION_OPEN),
    (filed(follow_up_kind="contract"), AMEND, DRAFTER, Reason.FOLLOW_UP),
    (filed(follow_up_status="closed"), AMEND, DRAFTER, Reason.FOLLOW_UP),
    (filed(follow_up_taken=True), AMEND, DRAFTER, Reason.FOLLOW_UP),
    (filed(), AMEND, Actor(8, "wu", frozenset({Role.DRAFTER}), "河西镇"), Reason.SEPARATION_OF_DUTIES),
    (None, gate.AfterFilingRequest(gate.CLEANUP_START), COUNSEL, Reason.WRONG_ROLE),
    (filed(), gate.AfterFilingRequest(gate.FILING_REVIEW, "passed", {"审查日期": TODAY + dt.timedelta(days=1)}),
     FILER, Reason.FUTURE_DATE),
], ids=lambda value: str(value) if isinstance(value, Reason) else "")
def test_each_after_filing_reason_is_decided_by_the_gate(state: gate.AfterFiling | None,
                                                         request_: gate.AfterFilingRequest, actor: Actor,
                                                         reason: Reason) -> None:
    verdict = gate.check_after_filing(state, request_, actor, TODAY)
    assert not verdict.accepted and verdict.reason is reason


def test_after_filing_steps_accepted_when_in_order() -> None:
    assert gate.check_after_filing(filed(), REVIEW_OUTCOME, FILER, TODAY).accepted
    assert gate.check_after_filing(filed(), AMEND, DRAFTER, TODAY).accepted
    assert gate.check_after_filing(filed(), KEEP, DRAFTER, TODAY).accepted
    township_counsel = Actor(7, "qian", frozenset({Role.COUNSEL}), "河东镇")
    village = filed(Kind.VILLAGE_AFFAIR, organ="东村村民委员会")
    assert gate.check_after_filing(village, REVIEW_OUTCOME, township_counsel, TODAY).accepted
    assert gate.check_after_filing(None, gate.AfterFilingRequest(gate.CLEANUP_START), FILER, TODAY).accepted
