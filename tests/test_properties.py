"""Random sequences of steps by random officers (hypothesis state machine, SQLite). After
every step, invariants computed from the database alone (never through ``gate.py``):

(a) every deliberation, issuance and filing follows a ``lawful`` opinion on the same
    version (for filing: on the matter's current version);
(b) each matter's accepted steps follow the rules table's order;
(c) every refused call is a refused event in the audit chain;
(d) the chain verifies and has one event per call, plus the setup events.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Any

from hypothesis import HealthCheck
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from sqlalchemy import text

from hefa.review.errors import Refused
from hefa.review.law.rules import Kind, Step, rules_for
from hefa.review.law.settings import law_settings
from hefa.review.records.audit import verify
from hefa.review.records.db import read_session
from hefa.review.services import steps
from hefa.review.services.steps import Credentials
from tests.conftest import (
    CLEAN,
    REVISED,
    WITH_FINE,
    certify_enforcers,
    checklist_answers,
    docx_bytes,
    make_office,
    reset_caches,
)

TODAY = "2026-06-30"
DOCS = [CLEAN, REVISED, WITH_FINE, docx_bytes(["第一条 为规范合同管理，制定本办法。"]),
        docx_bytes(["第一条 本决定自公布之日起施行。"])]
STAFF = ["zhang", "zhou", "li", "qian", "wang", "zhao", "chen", "sun", "wu", "admin"]
# who usually performs each step (the machine also tries everybody else)
PROPER = {"submit": ["zhang", "zhou", "wu"], "revise": ["zhang", "zhou", "wu"], "opinion": ["li", "qian", "wu"],
          "assessment": ["wang"], "participation": ["zhang", "zhou"], "experts": ["zhang", "zhou"],
          "hearing": ["zhang", "zhou"], "deliberation": ["zhao"], "issuance": ["zhao", "chen"],
          "filing": ["sun"], "controls": ["li", "qian", "chen"], "signing": ["chen"], "party-report": ["zhao"],
          "evaluation": ["zhang", "zhou"]}
ACTION_STEP = {"submit": Step.SUBMISSION, "participation": Step.PARTICIPATION, "experts": Step.EXPERTS,
               "hearing": Step.HEARING, "assessment": Step.ASSESSMENT, "opinion": Step.REVIEW,
               "deliberation": Step.DELIBERATION, "issuance": Step.ISSUANCE, "filing": Step.FILING,
               "controls": Step.CONTROLS, "signing": Step.SIGNING, "party-report": Step.PARTY_REPORT,
               "evaluation": Step.EVALUATION}
FLAGS = ["public_impact", "specialised", "major", "art58", "complex_case", "major_enforcement", "hearing_right",
         "business_related", "social_risk", "party_report", "evaluation"]

who = st.one_of(st.none(), st.sampled_from(STAFF))
pick = st.one_of(st.just(-1), st.integers(min_value=0, max_value=10_000))  # mostly the newest matter


class ReviewMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.saved = {k: os.environ.get(k) for k in ("HEFA_HOME", "HEFA_DATABASE_URL", "HEFA_TODAY")}
        self.home = tempfile.mkdtemp(prefix="hefa-prop-")
        os.environ["HEFA_HOME"] = os.path.join(self.home, "home")
        os.environ.pop("HEFA_DATABASE_URL", None)
        os.environ["HEFA_TODAY"] = TODAY
        reset_caches()
        office = make_office(drill=True)  # only a drill installation honours HEFA_TODAY
        from hefa.review.people import officers

        wu = officers.add_officer(office["admin"], "wu", "drafter,counsel", "河东镇人民政府")  # type: ignore[arg-type]
        certify_enforcers(office)  # zhang and zhou hold 行政执法证; li and qian 法律职业资格 (wu: neither)
        self.creds: dict[str, Any] = {**office.creds, "wu": Credentials("wu", token=wu.token)}
        self.setup_events = self.count("SELECT count(*) FROM auditevent")
        self.setup_accepted = self.count("SELECT count(*) FROM auditevent WHERE outcome = 'accepted'")
        self.setup_system = self.count("SELECT count(*) FROM auditevent WHERE outcome = 'system'")
        self.matters: list[str] = []
        self.calls = self.accepted = self.refused = 0
        self.numbers = 0

    def teardown(self) -> None:
        reset_caches()
        for key, value in self.saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        reset_caches()
        shutil.rmtree(self.home, ignore_errors=True)

    # --- calling the services -----------------------------------------------------------

    def call(self, action: str, officer: str | None, service: Any, *args: Any, **kw: Any) -> None:
        name = officer or PROPER[action][self.calls % len(PROPER[action])]
        self.calls += 1
        try:
            outcome = service(self.creds[name], *args, **kw)
        except Refused:
            self.refused += 1
            return
        self.accepted += 1
        if action == "submit":
            self.matters.append(outcome.matter_id)

    def matter(self, index: int) -> str:
        return self.matters[index % len(self.matters)]

    @rule(kind=st.sampled_from([k.value for k in Kind]), flags=st.sets(st.sampled_from(FLAGS)),
          doc=st.integers(0, len(DOCS) - 1), officer=who,
          enforcers=st.sampled_from(["zhang,zhou", "zhang,zhou", "zhang", "zhang,wu", ""]))
    def submit(self, kind: str, flags: set[str], doc: int, officer: str | None, enforcers: str) -> None:
        allowed = tuple(sorted(f for f in flags if f in rules_for(kind).flags))
        if flags and not allowed and kind == Kind.CONTRACT:
            allowed = tuple(sorted(flags))  # sometimes an unknown flag: refused at the door
        named = enforcers if rules_for(kind).enforcement_officers_min else ""
        self.call("submit", officer, steps.submit, kind=kind, title="事项", data=DOCS[doc],
                  filename="d.docx", flags=allowed, enforcement_officers=named)

    @precondition(lambda self: self.matters)
    @rule(index=pick, flags=st.sets(st.sampled_from(FLAGS)), officer=who)
    def controls(self, index: int, flags: set[str], officer: str | None) -> None:
        matter = self.matter(index)
        kind = self.scalar("SELECT kind FROM matter WHERE id = :m", m=matter)
        allowed = sorted(f for f in flags if f in rules_for(kind).flags)
        self.call("controls", officer, steps.confirm_controls, matter, flags=allowed, reason="确认")

    @precondition(lambda self: self.matters)
    @rule(index=pick, officer=who)
    def signing(self, index: int, officer: str | None) -> None:
        self.call("signing", officer, steps.record_signing, self.matter(index))

    @precondition(lambda self: self.matters)
    @rule(index=pick, officer=who)
    def party_report(self, index: int, officer: str | None) -> None:
        self.call("party-report", officer, steps.record_party_report, self.matter(index), reference="请示")

    @precondition(lambda self: self.matters)
    @rule(index=pick, officer=who)
    def evaluation(self, index: int, officer: str | None) -> None:
        self.call("evaluation", officer, steps.record_evaluation, self.matter(index), reference="评估报告",
                  summary="效果良好")

    @precondition(lambda self: self.matters)
    @rule(index=pick, doc=st.integers(0, len(DOCS) - 1), officer=who)
    def revise(self, index: int, doc: int, officer: str | None) -> None:
        self.call("revise", officer, steps.revise, self.matter(index), data=DOCS[doc], filename="r.docx")

    @precondition(lambda self: self.matters)
    @rule(index=pick, conclusion=st.sampled_from(["lawful", "lawful", "amend", "unlawful"]),
          stale=st.booleans(), officer=who)
    def opinion(self, index: int, conclusion: str, stale: bool, officer: str | None) -> None:
        matter = self.matter(index)
        sha = None
        if stale:
            sha = self.scalar("SELECT sha256 FROM documentversion WHERE matter_id = :m ORDER BY id LIMIT 1",
                              m=matter)
        self.call("opinion", officer, steps.record_opinion, matter, conclusion=conclusion,
                  reasons="审查意见。", version_sha256=sha, items=checklist_answers(matter))

    @precondition(lambda self: self.matters)
    @rule(index=pick, controllable=st.booleans(), officer=who)
    def assessment(self, index: int, controllable: bool, officer: str | None) -> None:
        self.call("assessment", officer, steps.record_assessment, self.matter(index), level="medium",
                  controllable=controllable, summary="评估")

    @precondition(lambda self: self.matters)
    @rule(index=pick, long=st.booleans(), reason=st.booleans(), officer=who)
    def participation(self, index: int, long: bool, reason: bool, officer: str | None) -> None:
        start = "2026-04-01" if long else "2026-06-25"
        self.call("participation", officer, steps.record_participation, self.matter(index),
                  period_start=start, period_end="2026-06-29", comment_count=2, summary="意见",
                  shortened_reason="情况紧急" if reason else "")

    @precondition(lambda self: self.matters)
    @rule(index=pick, officer=who)
    def experts(self, index: int, officer: str | None) -> None:
        self.call("experts", officer, steps.record_experts, self.matter(index), experts="甲,乙", summary="论证")

    @precondition(lambda self: self.matters)
    @rule(index=pick, hearing=st.sampled_from(["none", "waived", "requested"]), early=st.booleans(),
          officer=who)
    def hearing(self, index: int, hearing: str, early: bool, officer: str | None) -> None:
        self.call("hearing", officer, steps.record_hearing, self.matter(index),
                  notified_on="2026-06-29" if early else "2026-06-01", hearing=hearing, held_on="2026-06-20")

    @precondition(lambda self: self.matters)
    @rule(index=pick, decision=st.sampled_from(["approve", "approve", "reject", "defer"]),
          head_last=st.booleans(), urgent=st.booleans(), officer=who)
    def deliberation(self, index: int, decision: str, head_last: bool, urgent: bool, officer: str | None) -> None:
        self.call("deliberation", officer, steps.record_deliberation, self.matter(index), decision=decision,
                  attendees="陈,赵,钱", head_spoke_last=head_last, urgent_reason="紧急" if urgent else "")

    @precondition(lambda self: self.matters)
    @rule(index=pick, valid=st.booleans(), officer=who)
    def issuance(self, index: int, valid: bool, officer: str | None) -> None:
        self.numbers += 1
        number = f"河政规〔2026〕{self.numbers}号" if valid else f"第{self.numbers}号 "
        self.call("issuance", officer, steps.record_issuance, self.matter(index), number=number)

    @precondition(lambda self: self.matters)
    @rule(index=pick, officer=who)
    def filing(self, index: int, officer: str | None) -> None:
        self.call("filing", officer, steps.record_filing, self.matter(index), filed_with="县政府", receipt="回执")

    @precondition(lambda self: self.matters)
    @rule(index=pick, conclusion=st.sampled_from(["lawful", "lawful", "lawful", "amend", "unlawful"]),
          controllable=st.sampled_from([True, True, False]), doc=st.integers(0, len(DOCS) - 1))
    def advance(self, index: int, conclusion: str, controllable: bool, doc: int) -> None:
        """Do what the matter waits for, as the proper officer (read from the matter row), so that
        random runs reach deliberation, issuance and filing often."""
        matter = self.matter(index)
        stage, needs_revision = self.query("SELECT stage, needs_revision FROM matter WHERE id = :m", m=matter)[0]
        if needs_revision:
            self.revise(index, doc, None)
        elif stage == "controls":
            flags = self.scalar("SELECT flags FROM matter WHERE id = :m", m=matter)
            self.controls(index, {f for f in flags.split(",") if f}, None)
        elif stage == "signing":
            self.signing(index, None)
        elif stage == "party-report":
            self.party_report(index, None)
        elif stage == "evaluation":
            self.evaluation(index, None)
        elif stage == "participation":
            self.participation(index, True, False, None)
        elif stage == "experts":
            self.experts(index, None)
        elif stage == "hearing":
            self.hearing(index, "waived", True, None)
        elif stage == "assessment":
            self.assessment(index, controllable, None)
        elif stage == "review":
            uploader = self.scalar("SELECT o.name FROM matter m JOIN documentversion v ON v.id = m.current_version_id"
                                   " JOIN officer o ON o.id = v.uploader_id WHERE m.id = :m", m=matter)
            self.opinion(index, conclusion, False, "qian" if uploader == "wu" else "li")
        elif stage == "deliberation":
            self.deliberation(index, "approve", True, True, None)
        elif stage == "issuance":
            kind = self.scalar("SELECT kind FROM matter WHERE id = :m", m=matter)
            self.issuance(index, True, "chen" if kind in ("contract", "administrative-penalty",
                                                          "administrative-licence") else "zhao")
        elif stage == "filing":
            self.filing(index, None)

    # --- reading the database directly ----------------------------------------------------

    def query(self, sql: str, **params: Any) -> list[Any]:
        with read_session() as session:
            return list(session.connection().execute(text(sql), params))

    def scalar(self, sql: str, **params: Any) -> Any:
        rows = self.query(sql, **params)
        return rows[0][0] if rows else None

    def count(self, sql: str, **params: Any) -> int:
        return int(self.scalar(sql, **params) or 0)

    # --- invariants ---------------------------------------------------------------------

    @invariant()
    def deciding_steps_follow_a_lawful_opinion_on_their_version(self) -> None:
        for table in ("deliberation", "issuance"):
            orphans = self.query(
                f"SELECT t.id, t.matter_id FROM {table} t WHERE NOT EXISTS ("
                " SELECT 1 FROM legalopinion o WHERE o.version_id = t.version_id"
                " AND o.conclusion = 'lawful' AND o.recorded_at <= t.recorded_at)")
            assert not orphans, f"{table} without a prior lawful opinion on its version: {orphans}"
        orphans = self.query(
            "SELECT f.id, f.matter_id FROM filing f JOIN matter m ON m.id = f.matter_id WHERE NOT EXISTS ("
            " SELECT 1 FROM legalopinion o WHERE o.version_id = m.current_version_id"
            " AND o.conclusion = 'lawful' AND o.recorded_at <= f.recorded_at)")
        assert not orphans, f"filing without a lawful opinion on the current version: {orphans}"
        # issuance only after an approving deliberation on the same version, where deliberation applies
        for matter_id, kind, flags, version_id in self.query(
                "SELECT m.id, m.kind, m.flags, i.version_id FROM issuance i JOIN matter m ON m.id = i.matter_id"):
            if self.applies(kind, flags, Step.DELIBERATION):
                assert self.count("SELECT count(*) FROM deliberation WHERE matter_id = :m AND version_id = :v"
                                  " AND decision = 'approve'", m=matter_id, v=version_id), matter_id
        # nothing happens on a matter after it is closed or rejected
        for matter_id, status, kind, flags in self.query(
                "SELECT id, status, kind, flags FROM matter WHERE status != 'open'"):
            last = self.query("SELECT action, outcome FROM auditevent WHERE matter_id = :m AND outcome = 'accepted'"
                              " ORDER BY seq DESC LIMIT 1", m=matter_id)[0]
            final = [s.step for s in rules_for(kind).stages if self.applies(kind, flags, s.step)][-1]
            expected = final if status == "closed" else Step.DELIBERATION  # closed at its last stage
            assert ACTION_STEP[last[0]] is expected, (matter_id, status, last)

    def applies(self, kind: str, flags: str, step: Step) -> bool:
        stage = rules_for(kind).stage(step)
        if stage is None:
            return False
        if stage.always_if_setting and getattr(law_settings(), stage.always_if_setting):
            return True
        if stage.applies_when is None:  # unconditional, or a township stage whose setting is off
            return stage.always_if_setting is None
        return bool({stage.applies_when, stage.also_when} & set(flags.split(",")))

    @invariant()
    def accepted_steps_follow_the_rules_table(self) -> None:
        for matter_id, kind, flags in self.query("SELECT id, kind, flags FROM matter"):
            table = rules_for(kind)
            applicable = [s.step for s in table.stages if self.applies(kind, flags, s.step)]
            seen: set[Step] = set()
            trail = self.query("SELECT action FROM auditevent WHERE matter_id = :m AND outcome = 'accepted'"
                               " ORDER BY seq", m=matter_id)
            assert trail and trail[0][0] == "submit", (matter_id, trail)
            for (action,) in trail:
                if action == "revise":
                    assert Step.ISSUANCE not in seen, f"{matter_id}: revised after issuance"
                    continue
                step = ACTION_STEP[action]
                assert step in applicable, f"{matter_id}: {action} does not apply to {kind} {flags}"
                earlier = applicable[:applicable.index(step)]
                missing = [s.value for s in earlier if s not in seen]
                assert not missing, f"{matter_id}: {action} accepted before {missing}"
                seen.add(step)

    @invariant()
    def every_call_is_one_audit_event(self) -> None:
        assert self.count("SELECT count(*) FROM auditevent WHERE outcome = 'refused'") == self.refused
        accepted = self.count("SELECT count(*) FROM auditevent WHERE outcome = 'accepted'")
        assert accepted == self.setup_accepted + self.accepted  # setup may add system events too
        with read_session() as session:
            result = verify(session)
        # plus what the system records on its own in a step's transaction (e.g. 统一登记 at issuance)
        system = self.count("SELECT count(*) FROM auditevent WHERE outcome = 'system'") - self.setup_system
        assert result.count == self.setup_events + self.calls + system


ReviewMachine.TestCase.settings = hsettings(
    max_examples=15, stateful_step_count=30, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
TestReviewMachine = ReviewMachine.TestCase
