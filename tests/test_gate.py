"""The gate, through the step services: every refusal the rules call for, on SQLite and
PostgreSQL, audited with its reason; credentials; input checked at the door."""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path
from typing import Any

import pyotp
import pytest
from sqlalchemy import func, select

from hefa.review.errors import Refused
from hefa.review.law.rules import RULES, Kind, RulesTableError, Step, validate_rules
from hefa.review.people import officers
from hefa.review.records.audit import verify
from hefa.review.records.db import read_session
from hefa.review.records.models import AuditEvent, DocumentVersion, LegalOpinion, Matter
from hefa.review.records.queries import trail
from hefa.review.services import steps
from hefa.review.services.steps import Credentials
from tests.conftest import (
    CLEAN,
    REVISED,
    WITH_FINE,
    Office,
    checklist_answers,
    docx_bytes,
    make_office,
)
from tests.recording import drill_day, refused

ORGAN = "河东镇人民政府"
TODAY = "2026-06-30"  # a Tuesday; the calendar covers 2026


@pytest.fixture(autouse=True)
def _frozen_today(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fixed date for every test here (set before ``hefa_home`` resets the caches)."""
    monkeypatch.setenv("HEFA_TODAY", TODAY)


@pytest.fixture
def office(hefa_home: Path) -> Office:
    """The township's officers in a drill installation: only a drill honours HEFA_TODAY."""
    return make_office(drill=True)


def move_today(monkeypatch: pytest.MonkeyPatch, day: str) -> None:
    drill_day(day, monkeypatch)


ENFORCEMENT_KINDS = ("administrative-penalty", "administrative-licence")


def certify(office: Office) -> None:
    """持证上岗 (issue 14): zhang and zhou hold a 行政执法证; counsel hold 法律职业资格."""
    for name in ("zhang", "zhou"):
        officers.set_certificates(office["admin"], name, cert_number=f"ZF-{name}", cert_valid_until="2028-12-31")
    for name in ("li", "qian"):
        officers.set_certificates(office["admin"], name, legal_qualification=f"A-{name}")


def submit(office: Office, kind: str = "normative-document", *, who: str = "zhang",
           flags: tuple[str, ...] = (), data: bytes = CLEAN, confirm: bool = True) -> str:
    """Submit, and (unless ``confirm=False``) have counsel confirm the drafter's flags as proposed
    (确认适用程序, issue 14); a penalty or licence names two certified enforcement officers."""
    enforcers = None
    if kind in ENFORCEMENT_KINDS:
        certify(office)
        enforcers = "zhang,zhou"
    matter = steps.submit(office[who], kind=kind, title="关于加强乡村治理的若干规定", data=data,
                          filename="draft.docx", flags=flags, enforcement_officers=enforcers).matter_id
    if confirm:
        steps.confirm_controls(office["qian" if who == "li" else "li"], matter, flags=list(flags),
                               reason="确认起草人提出的标记")
    return matter


def opinion(office: Office, matter: str, conclusion: str = "lawful", who: str = "li",
            **kw: Any) -> steps.StepOutcome:
    return steps.record_opinion(office[who], matter, conclusion=conclusion,
                                reasons="主体合法，权限合法，内容合法，程序合法。",
                                items=kw.pop("items", None) or checklist_answers(matter), **kw)


def deliberate(office: Office, matter: str, decision: str = "approve", **kw: Any) -> steps.StepOutcome:
    if matter_row(matter).kind == "normative-document":  # 审核时间原则上不少于5个工作日 (115号): shortened
        kw.setdefault("urgent_reason", "上级限期出台，缩短审核时间")
    return steps.record_deliberation(office["zhao"], matter, decision=decision, attendees="陈,赵,钱", **kw)


def sign(office: Office, matter: str) -> steps.StepOutcome:
    """签发 by the head (规范性文件、重大行政决策), before the office numbers and issues it."""
    return steps.record_signing(office["chen"], matter, reference="同意")


def issue(office: Office, matter: str, number: str = "河政规〔2026〕1号") -> steps.StepOutcome:
    if matter_row(matter).stage == "signing":
        sign(office, matter)
    return steps.record_issuance(office["zhao"], matter, number=number)


def file_(office: Office, matter: str) -> steps.StepOutcome:
    return steps.record_filing(office["sun"], matter, filed_with="县人民政府", receipt="备2026-1")


_revisions = itertools.count(1)


def revise(office: Office, matter: str, data: bytes | None = None, who: str = "zhang") -> steps.StepOutcome:
    """A revision: by default a new text each time (a file identical to an earlier version is refused)."""
    if data is None:
        data = docx_bytes(["第一条 为规范管理，依照有关法律制定本规定。", f"第二条 第 {next(_revisions)} 次修改。"])
    return steps.revise(office[who], matter, data=data, filename="draft-v2.docx")


def events(**where: Any) -> list[AuditEvent]:
    with read_session() as session:
        stmt = select(AuditEvent).order_by(AuditEvent.seq)  # type: ignore[arg-type]
        for key, value in where.items():
            stmt = stmt.where(getattr(AuditEvent, key) == value)
        return list(session.scalars(stmt))


def matter_row(matter: str) -> Matter:
    with read_session() as session:
        row = session.get(Matter, matter)
        assert row is not None
        return row


def count(model: type) -> int:
    with read_session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def add_drafter_counsel(office: Office, name: str = "wu") -> Credentials:
    enrolment = officers.add_officer(office["admin"], name, "drafter,counsel", ORGAN)  # type: ignore[arg-type]
    return Credentials(name, token=enrolment.token)


def chain_ok() -> None:
    with read_session() as session:
        verify(session)


# --- the order of stages, and legality review before any deciding step -----------------------

def test_deliberation_before_an_opinion_is_refused(office: Office) -> None:
    matter = submit(office)
    refused(lambda: deliberate(office, matter), "no-current-opinion")
    refused(lambda: issue(office, matter), "no-current-opinion")
    refused(lambda: file_(office, matter), "no-current-opinion")
    assert matter_row(matter).stage == "review"


def test_opinion_by_a_drafter_is_refused(office: Office) -> None:
    matter = submit(office)
    refused(lambda: opinion(office, matter, who="zhou"), "wrong-role")
    refused(lambda: opinion(office, matter, who="zhao"), "wrong-role")
    assert count(LegalOpinion) == 0


def test_counsel_who_drafted_the_matter_may_not_review_it(office: Office) -> None:
    office.creds["wu"] = add_drafter_counsel(office)
    matter = submit(office, who="wu")
    refused(lambda: opinion(office, matter, who="wu"), "separation-of-duties")
    assert count(LegalOpinion) == 0
    assert opinion(office, matter, who="li").stage == "deliberation"


def test_counsel_may_not_review_a_version_they_uploaded(office: Office) -> None:
    office.creds["wu"] = add_drafter_counsel(office)
    matter = submit(office, who="zhang")
    revise(office, matter, who="wu")  # a drafter of the same organ may revise
    refused(lambda: opinion(office, matter, who="wu"), "separation-of-duties")
    assert count(LegalOpinion) == 0
    assert opinion(office, matter, who="li").stage == "deliberation"


def test_a_co_drafter_may_not_review_a_later_version_either(office: Office) -> None:
    office.creds["wu"] = add_drafter_counsel(office)
    matter = submit(office, who="zhang")
    revise(office, matter, who="wu")  # wu uploads version 2
    revise(office, matter, who="zhou")  # another drafter uploads version 3
    refused(lambda: opinion(office, matter, who="wu"), "separation-of-duties")
    assert opinion(office, matter, who="li").stage == "deliberation"


def test_after_an_unlawful_opinion_nothing_deciding_is_accepted(office: Office) -> None:
    matter = submit(office, data=WITH_FINE)
    outcome = opinion(office, matter, conclusion="unlawful")
    assert outcome.needs_revision
    refused(lambda: deliberate(office, matter), "no-current-opinion")
    refused(lambda: issue(office, matter), "no-current-opinion")
    refused(lambda: file_(office, matter), "no-current-opinion")
    refused(lambda: opinion(office, matter, who="qian"), "needs-revision")


def test_amend_then_revise_then_a_fresh_lawful_opinion_reaches_filing(office: Office) -> None:
    matter = submit(office, data=WITH_FINE)
    assert opinion(office, matter, conclusion="amend").needs_revision
    refused(lambda: deliberate(office, matter), "no-current-opinion")
    revise(office, matter)
    refused(lambda: deliberate(office, matter), "no-current-opinion")
    assert opinion(office, matter, who="qian").stage == "deliberation"
    assert deliberate(office, matter).stage == "signing"  # 签发 by the head, then 统一编号 (issue 14)
    assert issue(office, matter).stage == "filing"
    assert file_(office, matter).stage == "closed"
    row = matter_row(matter)
    assert (row.status, row.stage) == ("closed", "closed")
    refused(lambda: revise(office, matter), "closed")
    chain_ok()


def test_a_revision_makes_the_earlier_opinion_stale(office: Office) -> None:
    matter = submit(office)
    opinion(office, matter)
    assert revise(office, matter).stage == "review"
    refused(lambda: deliberate(office, matter), "no-current-opinion")
    opinion(office, matter, who="qian")
    assert deliberate(office, matter).stage == "signing"


def test_a_revision_after_deliberation_needs_review_and_deliberation_again(office: Office) -> None:
    matter = submit(office)
    opinion(office, matter)
    deliberate(office, matter)
    revise(office, matter)
    refused(lambda: issue(office, matter), "no-current-opinion")
    opinion(office, matter, who="qian")
    refused(lambda: issue(office, matter), "out-of-order")  # deliberation was on the old version
    deliberate(office, matter)
    assert issue(office, matter).stage == "filing"


def test_an_opinion_on_a_stale_version_is_refused(office: Office) -> None:
    matter = submit(office)
    with read_session() as session:
        v1 = session.scalar(select(DocumentVersion.sha256).where(DocumentVersion.matter_id == matter))
    revised = revise(office, matter)
    refused(lambda: opinion(office, matter, version_sha256=v1), "stale-version")
    assert count(LegalOpinion) == 0
    assert opinion(office, matter, version_sha256=revised.details["sha256"]).stage == "deliberation"


def test_a_second_opinion_on_the_same_version_is_refused(office: Office) -> None:
    matter = submit(office)
    opinion(office, matter)
    refused(lambda: opinion(office, matter, who="qian"), "out-of-order")
    refused(lambda: opinion(office, matter, who="qian", conclusion="unlawful"), "out-of-order")
    assert count(LegalOpinion) == 1


def test_every_refusal_is_in_the_audit_trail_with_its_reason(office: Office) -> None:
    matter = submit(office)
    reasons = []
    for call in (lambda: deliberate(office, matter),
                 lambda: opinion(office, matter, who="zhou"),
                 lambda: opinion(office, matter, who="zhang"),
                 lambda: issue(office, matter)):
        with pytest.raises(Refused) as info:
            call()
        reasons.append(str(info.value))
    with read_session() as session:
        rows = trail(session, matter)
    refusals = [r for r in rows if r["outcome"] == "refused"]
    assert [r["reason"] for r in refusals] == reasons
    assert [r["action"] for r in refusals] == ["deliberation", "opinion", "opinion", "issuance"]
    assert all(r["reason"] for r in refusals)
    chain_ok()


# --- major decisions (国务院令第713号) -----------------------------------------------------------

def test_major_decision_comment_period_shorter_than_30_days_needs_a_reason(office: Office) -> None:
    matter = submit(office, "major-decision")
    assert matter_row(matter).stage == "participation"
    short = dict(period_start="2026-06-10", period_end="2026-06-29", comment_count=3, summary="意见三条")
    error = refused(lambda: steps.record_participation(office["zhang"], matter, **short), "period-too-short")
    assert "30" in str(error)
    out = steps.record_participation(office["zhang"], matter, **short, shortened_reason="防汛紧急，缩短征求意见期限")
    assert out.stage == "assessment"  # no experts: the matter is not specialised

    other = submit(office, "major-decision")
    full = dict(period_start="2026-05-01", period_end="2026-05-30", comment_count=0, summary="无意见")
    assert steps.record_participation(office["zhang"], other, **full).stage == "assessment"
    # a period that has not ended yet cannot be recorded
    refused(lambda: steps.record_participation(office["zhang"], submit(office, "major-decision"),
                                               period_start="2026-06-01", period_end="2026-07-30",
                                               comment_count=0, summary="无"), "future-date")


def _participate(office: Office, matter: str) -> None:
    steps.record_participation(office["zhang"], matter, period_start="2026-05-01", period_end="2026-05-30",
                               comment_count=1, summary="意见一条")


def test_experts_only_when_the_matter_is_specialised(office: Office) -> None:
    plain = submit(office, "major-decision")
    _participate(office, plain)
    refused(lambda: steps.record_experts(office["zhang"], plain, experts="甲,乙", summary="论证"),
            "not-applicable")
    special = submit(office, "major-decision", flags=("specialised",))
    _participate(office, special)
    refused(lambda: steps.record_assessment(office["wang"], special, level="low", controllable=True,
                                            summary="可控"), "out-of-order")
    assert steps.record_experts(office["zhang"], special, experts="甲,乙", summary="论证").stage == "assessment"
    # a flag the kind does not have is refused at the door
    refused(lambda: submit(office, "major-decision", flags=("major",)), "unknown-flag")


def test_major_decision_full_order_with_head_last_and_review_time(
        office: Office, monkeypatch: pytest.MonkeyPatch) -> None:
    matter = submit(office, "major-decision")
    refused(lambda: steps.record_assessment(office["wang"], matter, level="low", controllable=True,
                                            summary="可控"), "out-of-order")
    _participate(office, matter)
    refused(lambda: opinion(office, matter), "out-of-order")  # assessment comes first
    out = steps.record_assessment(office["wang"], matter, level="high", controllable="no", summary="风险不可控")
    assert out.needs_revision
    refused(lambda: steps.record_assessment(office["wang"], matter, level="low", controllable=True,
                                            summary="可控"), "needs-revision")
    refused(lambda: opinion(office, matter), "out-of-order")
    revise(office, matter)
    assert steps.record_assessment(office["wang"], matter, level="medium", controllable=True,
                                   summary="调整后可控").stage == "review"
    assert matter_row(matter).review_since is not None
    opinion(office, matter)
    # too soon after review began (less than 7 working days)
    refused(lambda: deliberate(office, matter), "review-time")
    move_today(monkeypatch, "2026-07-13")  # 9 working days later
    refused(lambda: deliberate(office, matter, head_spoke_last=False), "head-last")
    assert deliberate(office, matter, head_spoke_last=True).stage == "signing"
    assert issue(office, matter, "决策2026-1").stage == "filing"
    assert file_(office, matter).stage == "closed"
    chain_ok()


def test_urgent_reason_allows_deliberation_before_seven_working_days(office: Office) -> None:
    matter = submit(office, "major-decision")
    _participate(office, matter)
    steps.record_assessment(office["wang"], matter, level="low", controllable="yes", summary="可控")
    opinion(office, matter)
    refused(lambda: deliberate(office, matter), "review-time")
    assert deliberate(office, matter, urgent_reason="突发公共卫生事件须立即决策").stage == "signing"


# --- administrative penalty: the hearing window (行政处罚法 art. 64) ----------------------------

def test_penalty_hearing_none_before_the_window_closes_is_refused(office: Office) -> None:
    matter = submit(office, "administrative-penalty", flags=("hearing_right",))  # 第六十三条: the right
    assert matter_row(matter).stage == "hearing"
    refused(lambda: opinion(office, matter), "out-of-order")
    refused(lambda: steps.record_hearing(office["zhang"], matter, notified_on="2026-06-26", hearing="none"),
            "hearing-window")
    assert steps.record_hearing(office["zhang"], matter, notified_on="2026-06-26",
                                hearing="waived").stage == "review"
    other = submit(office, "administrative-penalty")  # no hearing right: no window (issue 14)
    assert steps.record_hearing(office["zhang"], other, notified_on="2026-06-29",
                                hearing="none").stage == "review"
    opinion(office, other)
    # no complex_case flag, but the township's rule: collective deliberation; then the head decides
    refused(lambda: steps.record_issuance(office["chen"], other, number="罚2026-1"), "out-of-order")
    assert deliberate(office, other).stage == "issuance"
    refused(lambda: steps.record_issuance(office["zhao"], other, number="罚2026-1"), "wrong-role")
    assert steps.record_issuance(office["chen"], other, number="罚2026-1").stage == "filing"


# --- the document number (GB/T 9704-2012) --------------------------------------------------

def test_normative_document_number_format(office: Office) -> None:
    matter = submit(office)
    opinion(office, matter)
    deliberate(office, matter)
    for bad in ("2026年第1号", "河政规[2026]1号", "河政规〔2026〕01号", "河政规〔26〕1号", ""):
        refused(lambda bad=bad: issue(office, matter, bad), "invalid-input")
    assert issue(office, matter, "河政规〔2026〕1号").stage == "filing"
    second = submit(office)
    opinion(office, second)
    deliberate(office, second)
    refused(lambda: issue(office, second, "河政规〔2026〕1号"), "duplicate-number")


# --- the rules table is validated ---------------------------------------------------------

def _with(kind: Kind, **changes: Any) -> dict[Kind, Any]:
    table = dict(RULES)
    table[kind] = dataclasses.replace(RULES[kind], **changes)
    return table


def test_the_shipped_rules_table_is_valid() -> None:
    validate_rules(RULES)
    for table in RULES.values():
        steps_ = [s.step for s in table.stages]
        assert steps_[0] is Step.SUBMISSION
        review = steps_.index(Step.REVIEW)
        assert all(steps_.index(s) > review for s in (Step.DELIBERATION, Step.ISSUANCE, Step.FILING)
                   if s in steps_)


def test_a_broken_rules_table_is_refused() -> None:
    stages = RULES[Kind.NORMATIVE_DOCUMENT].stages
    by_step = {s.step: s for s in stages}
    swapped = tuple(by_step[s] for s in (Step.SUBMISSION, Step.PARTICIPATION, Step.DELIBERATION,
                                         Step.REVIEW, Step.ISSUANCE, Step.FILING))
    with pytest.raises(RulesTableError, match="before the legality review"):
        validate_rules(_with(Kind.NORMATIVE_DOCUMENT, stages=swapped))
    with pytest.raises(RulesTableError, match="submission"):
        validate_rules(_with(Kind.NORMATIVE_DOCUMENT, stages=stages[1:]))
    unknown = tuple(dataclasses.replace(s, applies_when="no_such_flag") if s.step is Step.PARTICIPATION else s
                    for s in stages)
    with pytest.raises(RulesTableError, match="unknown flag"):
        validate_rules(_with(Kind.NORMATIVE_DOCUMENT, stages=unknown))
    no_review = tuple(s for s in RULES[Kind.CONTRACT].stages if s.step is not Step.REVIEW)
    with pytest.raises(RulesTableError, match="review"):
        validate_rules(_with(Kind.CONTRACT, stages=no_review))
    twice = (*stages, stages[2])
    with pytest.raises(RulesTableError, match="twice"):
        validate_rules(_with(Kind.NORMATIVE_DOCUMENT, stages=twice))
    with pytest.raises(RulesTableError, match="wrong kind"):
        validate_rules({Kind.CONTRACT: RULES[Kind.NORMATIVE_DOCUMENT]})
    uncited = tuple(dataclasses.replace(s, article="") if s.step is Step.FILING else s for s in stages)
    with pytest.raises(RulesTableError, match="cites no article"):
        validate_rules(_with(Kind.NORMATIVE_DOCUMENT, stages=uncited))


# --- credentials ----------------------------------------------------------------------------

def test_a_wrong_token_is_refused_and_audited(office: Office) -> None:
    matter = submit(office)
    refused(lambda: steps.record_opinion(Credentials("li", token="hefa_wrong"), matter,
                                         conclusion="lawful", reasons="x"), "credentials")
    refused(lambda: steps.record_opinion(Credentials("nobody", token="hefa_wrong"), matter,
                                         conclusion="lawful", reasons="x"), "credentials")
    bad = events(outcome="refused", action="opinion")
    assert [e.officer for e in bad] == ["li", "nobody"]
    assert all(e.matter_id == matter for e in bad)
    assert all("hefa_wrong" not in e.payload and "hefa_wrong" not in e.reason for e in bad)
    assert count(LegalOpinion) == 0


def test_five_failures_lock_the_officer_until_an_admin_unlocks(office: Office) -> None:
    matter = submit(office)
    wrong = Credentials("li", token="hefa_wrong")
    for _ in range(5):
        refused(lambda: opinion_as(wrong, matter), "credentials")
    locks = events(action="officer-locked")
    assert len(locks) == 1 and locks[0].officer == "li" and locks[0].outcome == "refused"
    error = refused(lambda: opinion(office, matter), "credentials")  # the right token
    assert "已锁定" in str(error)
    assert count(LegalOpinion) == 0
    refused(lambda: officers.unlock_officer(office["zhang"], "li"), "wrong-role")  # type: ignore[arg-type]
    officers.unlock_officer(office["admin"], "li")  # type: ignore[arg-type]
    assert events(action="officer-unlock", outcome="accepted")
    assert opinion(office, matter).stage == "deliberation"
    chain_ok()


def test_failures_below_the_threshold_are_forgiven_by_a_success(office: Office) -> None:
    matter = submit(office)
    wrong = Credentials("li", token="hefa_wrong")
    for _ in range(4):
        refused(lambda: opinion_as(wrong, matter), "credentials")
    whoami = officers.whoami(office["li"])  # type: ignore[arg-type]
    assert whoami["name"] == "li"
    for _ in range(4):
        refused(lambda: opinion_as(wrong, matter), "credentials")
    assert not events(action="officer-locked")
    assert opinion(office, matter).stage == "deliberation"


def opinion_as(creds: Credentials, matter: str) -> steps.StepOutcome:
    return steps.record_opinion(creds, matter, conclusion="lawful", reasons="合法", items=checklist_answers(matter))


def test_a_disabled_officer_is_refused(office: Office) -> None:
    matter = submit(office)
    officers.disable_officer(office["admin"], "li")  # type: ignore[arg-type]
    error = refused(lambda: opinion(office, matter), "credentials")
    assert "已停用" in str(error)
    officers.enable_officer(office["admin"], "li")  # type: ignore[arg-type]
    assert opinion(office, matter).stage == "deliberation"


def test_a_rotated_officers_old_token_is_refused_and_the_new_one_works(office: Office) -> None:
    matter = submit(office)
    enrolment = officers.rotate_officer(office["admin"], "li")  # type: ignore[arg-type]
    refused(lambda: opinion(office, matter), "credentials")
    assert opinion_as(Credentials("li", token=enrolment.token), matter).stage == "deliberation"
    # the old TOTP secret is gone too
    refused(lambda: officers.whoami(Credentials("li", code=pyotp.TOTP(office.secrets["li"]).now())),
            "credentials")


def test_a_one_time_code_works_once(office: Office) -> None:
    first, second = submit(office), submit(office)
    code = pyotp.TOTP(office.secrets["li"]).now()
    assert opinion_as(Credentials("li", code=code), first).stage == "deliberation"
    error = refused(lambda: opinion_as(Credentials("li", code=code), second), "credentials")
    assert "已使用过" in str(error) or "失败" in str(error)
    refused(lambda: opinion_as(Credentials("li", code="12345"), second), "credentials")
    refused(lambda: opinion_as(Credentials("li"), second), "credentials")


def test_a_code_used_in_a_refused_step_is_burnt_too(office: Office) -> None:
    matter = submit(office)
    code = pyotp.TOTP(office.secrets["zhou"]).now()
    refused(lambda: opinion_as(Credentials("zhou", code=code), matter), "wrong-role")
    error = refused(lambda: officers.whoami(Credentials("zhou", code=code)), "credentials")
    assert "已使用过" in str(error) or "失败" in str(error)


def test_a_non_admin_cannot_add_officers(office: Office) -> None:
    refused(lambda: officers.add_officer(office["zhang"], "mallory", "counsel,admin", ORGAN),  # type: ignore[arg-type]
            "wrong-role")
    refused(lambda: officers.add_officer(office["li"], "mallory", "counsel", ORGAN),  # type: ignore[arg-type]
            "wrong-role")
    assert [e.officer for e in events(action="officer-add", outcome="refused")] == ["zhang", "li"]
    refused(lambda: officers.whoami(Credentials("mallory", token="hefa_x")), "credentials")


# --- bad input is refused at the door, nothing half-written -------------------------------

def _blobs(home: Path) -> list[Path]:
    root = home / "blobs"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.mark.parametrize("title", ["标" * 201, "关于\x07的规定", "关于\u200b的规定", "关于\u202e的规定", "  "])
def test_bad_titles_are_refused_and_nothing_is_written(office: Office, hefa_home: Path, title: str) -> None:
    before = len(events())
    refused(lambda: steps.submit(office["zhang"], kind="normative-document", title=title, data=CLEAN,
                                 filename="draft.docx"), "invalid-input")
    assert count(Matter) == 0 and count(DocumentVersion) == 0
    assert _blobs(hefa_home) == []
    after = events()
    assert len(after) == before + 1
    assert (after[-1].action, after[-1].outcome, after[-1].matter_id) == ("submit", "refused", "")
    chain_ok()


def test_a_refused_submit_stores_no_blob(office: Office, hefa_home: Path) -> None:
    refused(lambda: steps.submit(office["li"], kind="normative-document", title="标题", data=CLEAN,
                                 filename="draft.docx"), "wrong-role")
    refused(lambda: steps.submit(office["zhang"], kind="normative-document", title="标题", data=CLEAN,
                                 filename="draft.docx", organ="机" * 121), "invalid-input")
    refused(lambda: steps.submit(office["zhang"], kind="no-such-kind", title="标题", data=CLEAN,
                                 filename="draft.docx"), "invalid-input")
    refused(lambda: steps.submit(office["zhang"], kind="contract", title="标题", data=b"PK not a docx",
                                 filename="draft.docx"), "invalid-input")
    assert count(Matter) == 0 and count(DocumentVersion) == 0
    assert _blobs(hefa_home) == []


@pytest.mark.parametrize("reasons", ["合法\u200b。", "合法\x00", "合法\x1b[31m", "理" * 20001])
def test_bad_opinion_reasons_are_refused_and_nothing_is_written(office: Office, reasons: str) -> None:
    matter = submit(office)
    refused(lambda: steps.record_opinion(office["li"], matter, conclusion="lawful", reasons=reasons),
            "invalid-input")
    assert count(LegalOpinion) == 0
    assert matter_row(matter).stage == "review"
    last = events()[-1]
    assert (last.action, last.outcome, last.matter_id) == ("opinion", "refused", matter)
    # multi-line reasons are fine
    assert steps.record_opinion(office["li"], matter, conclusion="lawful", items=checklist_answers(matter),
                                reasons="一、主体合法。\n二、程序合法。").stage == "deliberation"


def test_a_refused_revision_leaves_no_version_and_no_blob(office: Office, hefa_home: Path) -> None:
    matter = submit(office)
    blobs = _blobs(hefa_home)
    refused(lambda: revise(office, matter, who="li"), "wrong-role")
    refused(lambda: steps.revise(office["zhang"], matter, data=REVISED, filename="x\u200b.docx"), "invalid-input")
    assert count(DocumentVersion) == 1
    assert _blobs(hefa_home) == blobs
    refused(lambda: revise(office, "2026-9999"), "not-found")


# --- regressions of bugs found while writing these tests ---------------------------------------

def test_review_time_of_a_major_decision_restarts_with_a_revised_draft(
        office: Office, monkeypatch: pytest.MonkeyPatch) -> None:
    matter = submit(office, "major-decision")  # on TODAY, 2026-06-30 (event time never goes backwards)
    _participate(office, matter)
    steps.record_assessment(office["wang"], matter, level="low", controllable=True, summary="可控")
    assert str(matter_row(matter).review_since) == TODAY
    opinion(office, matter, conclusion="amend")
    move_today(monkeypatch, "2026-07-14")  # ten working days later the drafter revises
    revise(office, matter)
    opinion(office, matter, who="qian")
    # the revised draft went to counsel today: deliberating today is too soon (art. 26)
    refused(lambda: deliberate(office, matter), "review-time")


def test_review_time_restarts_when_a_lawfully_reviewed_draft_is_revised(
        office: Office, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same path with a lawful first opinion: here review_since does restart."""
    matter = submit(office, "major-decision")  # on TODAY, 2026-06-30
    _participate(office, matter)
    steps.record_assessment(office["wang"], matter, level="low", controllable=True, summary="可控")
    opinion(office, matter)
    move_today(monkeypatch, "2026-07-14")
    revise(office, matter)
    assert str(matter_row(matter).review_since) == "2026-07-14"
    opinion(office, matter, who="qian")
    refused(lambda: deliberate(office, matter), "review-time")


def test_matter_numbers_keep_counting_past_9999(office: Office) -> None:
    import datetime as dt

    from hefa.review.records.db import write_transaction
    from hefa.review.records.models import Officer

    with write_transaction() as session:
        zhang = session.scalar(select(Officer).where(Officer.name == "zhang"))
        assert zhang is not None
        now = dt.datetime.now(dt.UTC)
        session.add(Matter(id="2026-9999", kind="contract", title="旧事项", organ=ORGAN, drafter_id=zhang.id or 0,
                           stage="review", opened_on=dt.date(2026, 1, 1), stage_since=dt.date(2026, 1, 1),
                           created_at=now, updated_at=now))
        from hefa.review.records import audit

        audit.append(session, action="test-setup", outcome="system", channel="system")  # carries the row
        session.commit()
    first = submit(office, "contract")
    second = submit(office, "contract")
    assert (first, second) == ("2026-10000", "2026-10001")


def test_a_deliberation_where_the_head_did_not_speak_last_is_refused_for_every_kind(office: Office) -> None:
    """Refused when recorded (国务院令第713号 第三十条), never reordered; minutes print what was recorded."""
    from hefa.review.documents import generated
    from hefa.review.documents.docx_intake import extract_document
    from hefa.review.records import storage

    matter = submit(office)
    opinion(office, matter)
    views = [{"member": "陈", "view": "同意，按程序办理。"}, {"member": "赵", "view": "建议补充过渡期。"}]
    refused(lambda: deliberate(office, matter, presiding="陈", views=views), "head-last")
    refused(lambda: deliberate(office, matter, presiding="陈", head_spoke_last=False), "head-last")
    deliberate(office, matter, presiding="陈", views=list(reversed(views)), urgent_reason="会期已定")
    generated.generate_pending(matter)
    minutes = next(d for d in generated.documents_of(matter) if d["name"] == "deliberation_minutes")
    text = "\n".join(p.text for p in extract_document(storage.read(minutes["sha256"])).paragraphs)
    assert "同意，按程序办理。" in text and "建议补充过渡期。" in text and "最后发表意见：同意" not in text
