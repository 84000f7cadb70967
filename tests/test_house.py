"""The house: the rules table checks itself, one vocabulary, one wait label, one unit of work.

The unit-of-work tests follow cosmicpython's ``test_uow``: work rolls back unless committed,
rolls back on error, and a concurrent writer is serialised (on SQLite and PostgreSQL).
"""

from __future__ import annotations

import dataclasses
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from hefa.flows.inputs import FORMS, service_kwargs
from hefa.review import vocabulary as vocab
from hefa.review.errors import Reason, Refused, RulesTableError
from hefa.review.law.rules import OVERRIDES, RULES, Kind, Step, TimeLimit, validate_rules
from hefa.review.people.identity import Credentials
from hefa.review.records.db import read_session
from hefa.review.records.models import AuditEvent, Officer
from hefa.review.records.wait_label import WaitLabel, label_in
from hefa.review.services.unit_of_work import StepUnitOfWork
from tests.conftest import Office


def _replace_stage(kind: Kind, step: Step, **changes: object) -> dict[Kind, object]:
    table = RULES[kind]
    stages = tuple(dataclasses.replace(s, **changes) if s.step is step else s for s in table.stages)  # type: ignore[arg-type]
    return {**RULES, kind: dataclasses.replace(table, stages=stages)}


def _replace_limit(kind: Kind, step: Step, **changes: object) -> dict[Kind, object]:
    stage = RULES[kind].stage(step)
    assert stage is not None and stage.limits
    limits = (dataclasses.replace(stage.limits[0], **changes), *stage.limits[1:])  # type: ignore[arg-type]
    return _replace_stage(kind, step, limits=limits)


# --- the rules table checks itself against the settings ------------------------------------------

def test_a_typo_in_a_township_setting_cannot_silently_drop_review() -> None:
    with pytest.raises(RulesTableError, match="penalty_reveiw_all"):
        validate_rules(_replace_stage(Kind.ADMINISTRATIVE_PENALTY, Step.REVIEW,  # type: ignore[arg-type]
                                      always_if_setting="penalty_reveiw_all"))


def test_a_setting_of_the_wrong_type_is_refused() -> None:
    with pytest.raises(RulesTableError, match="non-boolean"):
        validate_rules(_replace_stage(Kind.ADMINISTRATIVE_PENALTY, Step.REVIEW,  # type: ignore[arg-type]
                                      always_if_setting="penalty_decision_days"))
    with pytest.raises(RulesTableError, match="non-integer"):
        validate_rules(_replace_limit(Kind.ADMINISTRATIVE_LICENCE, Step.ISSUANCE,  # type: ignore[arg-type]
                                      setting="licence_review_all"))


@pytest.mark.parametrize("field", ["setting", "extension_setting"])
def test_a_typo_in_a_limit_setting_is_refused(field: str) -> None:
    with pytest.raises(RulesTableError, match="licence_decision_dayz"):
        validate_rules(_replace_limit(Kind.ADMINISTRATIVE_LICENCE, Step.ISSUANCE,  # type: ignore[arg-type]
                                      **{field: "licence_decision_dayz"}))


def test_overrides_must_be_declared_and_used() -> None:
    with pytest.raises(RulesTableError, match="hearing_waivd"):
        validate_rules(_replace_limit(Kind.ADMINISTRATIVE_PENALTY, Step.HEARING,  # type: ignore[arg-type]
                                      override="hearing_waivd"))
    with pytest.raises(RulesTableError, match=r"review_shortened_reason.*no limit uses it"):
        validate_rules(_replace_limit(Kind.NORMATIVE_DOCUMENT, Step.REVIEW,  # type: ignore[arg-type]
                                      override=None))
    with pytest.raises(RulesTableError, match="deadline"):
        validate_rules(_replace_limit(Kind.ADMINISTRATIVE_LICENCE, Step.ISSUANCE,  # type: ignore[arg-type]
                                      override="urgent_reason"))


def test_every_declared_override_is_used_by_the_table_and_the_services() -> None:
    used = {limit.override for table in RULES.values() for stage in table.stages for limit in stage.limits
            if isinstance(limit, TimeLimit) and limit.override}
    assert used == set(OVERRIDES)
    services = (Path(__file__).resolve().parents[1] / "review" / "services" / "stages.py").read_text("utf-8")
    for name in OVERRIDES:
        assert f'"{name}"' in services, f"no service gives the gate the override {name}"


# --- one vocabulary -------------------------------------------------------------------------------

def test_every_form_choice_comes_from_the_vocabulary_and_maps_back_by_lookup() -> None:
    from enum import Enum

    seen = set()
    for model, _service in FORMS.values():
        for name, field in model.model_fields.items():
            annotation = field.annotation
            if isinstance(annotation, type) and issubclass(annotation, Enum):
                vocabulary = annotation.vocabulary  # type: ignore[attr-defined]
                assert [m.value for m in annotation] == list(vocabulary.labels), name
                seen.add(vocabulary.name_zh)
    assert {vocab.CONCLUSION.name_zh, vocab.DECISION.name_zh, vocab.RISK_LEVEL.name_zh,
            vocab.CONTROLLABLE.name_zh, vocab.HEARING.name_zh, vocab.MEETING_KIND.name_zh} <= seen


def test_a_form_answer_becomes_the_services_codes() -> None:
    model, service = FORMS[Step.REVIEW]
    answer = {"version": 2, "conclusion": vocab.CONCLUSION.term("amend").label, "reasons": "第五条"}
    if "items" in model.model_fields:
        answer["items"] = "authority=符合"
    form = model.model_validate(answer)
    assert service == "opinion"
    assert service_kwargs(form) == answer | {"conclusion": "amend"}
    for typed in ({"officer": "li"}, {"code": "123456"}):  # who answers is the front door's officer, never typed
        with pytest.raises(ValueError, match="Extra inputs"):
            model.model_validate(answer | typed)


def test_a_vocabulary_refuses_a_repeated_code_or_label() -> None:
    with pytest.raises(ValueError, match="twice"):
        vocab.Vocabulary("x", vocab.Term("a", "甲", "a"), vocab.Term("a", "乙", "b"))
    assert vocab.CONCLUSION.code_of(vocab.CONCLUSION.term("lawful").label) == "lawful"
    with pytest.raises(KeyError):
        vocab.CONCLUSION.code_of("合法")  # a label is looked up whole, never parsed


# --- one wait label -------------------------------------------------------------------------------

@pytest.mark.parametrize("label", [WaitLabel("review", 2), WaitLabel("revise", 12), WaitLabel("closed"),
                                   WaitLabel("issuance", 1), WaitLabel("rejected")])
def test_the_wait_label_round_trips(label: WaitLabel) -> None:
    assert WaitLabel.parse(str(label)) == label
    assert label_in(label.keyed("1a2b3c4d")) == label


def test_a_key_hefa_did_not_make_has_no_label() -> None:
    assert label_in("whatever") is None
    assert label_in("review-v2-") is None
    assert WaitLabel.parse("Review-v2") is None
    with pytest.raises(ValueError):
        WaitLabel("review", 2).keyed("a-b")


def test_the_label_follows_the_matter() -> None:
    assert str(WaitLabel.of(status="open", stage="review", needs_revision=False, version=3)) == "review-v3"
    assert str(WaitLabel.of(status="open", stage="review", needs_revision=True, version=3)) == "revise-v3"
    assert str(WaitLabel.of(status="closed", stage="closed", needs_revision=False, version=3)) == "closed"


# --- one unit of work -----------------------------------------------------------------------------

def _events() -> int:
    with read_session() as session:
        return session.scalar(select(func.count()).select_from(AuditEvent)) or 0


def _organ_of(name: str) -> str:
    with read_session() as session:
        officer = session.scalar(select(Officer).where(Officer.name == name))
        assert officer is not None
        return officer.organ


def test_uow_rolls_back_uncommitted_work_by_default(office: Office) -> None:
    before = _events()
    with StepUnitOfWork(office["zhang"], action="probe", channel="cli") as uow:
        officer = uow.authenticate()
        officer.organ = "改过的机关"
        uow.session.add(officer)
        uow.accept(matter_id=None)
    assert _organ_of("zhang") != "改过的机关"
    assert _events() == before


def test_uow_rolls_back_on_error_and_audits_a_refusal(office: Office) -> None:
    before = _events()
    with pytest.raises(RuntimeError), StepUnitOfWork(office["zhang"], action="probe", channel="cli") as uow:
        officer = uow.authenticate()
        officer.organ = "改过的机关"
        uow.session.add(officer)
        raise RuntimeError("boom")
    assert _organ_of("zhang") != "改过的机关" and _events() == before
    with pytest.raises(Refused) as refusal, StepUnitOfWork(office["zhang"], action="probe", channel="cli") as uow:
        uow.authenticate()
        raise Refused("不行 / no", code=Reason.OUT_OF_ORDER)
    assert refusal.value.code is Reason.OUT_OF_ORDER
    with read_session() as session:
        last = session.scalar(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1))  # type: ignore[attr-defined]
    assert last is not None and last.outcome == "refused" and last.action == "probe" and _events() == before + 1


def test_uow_commits_only_when_told(office: Office) -> None:
    before = _events()
    with StepUnitOfWork(office["zhang"], action="probe", channel="cli") as uow:
        uow.authenticate()
        event = uow.accept(matter_id=None)
        uow.commit(event=event)
    assert _events() == before + 1


def test_uow_lockout_counts_by_code_not_by_message(office: Office) -> None:
    wrong = Credentials("zhang", token="hefa_wrong")
    for _ in range(5):
        with pytest.raises(Refused), StepUnitOfWork(wrong, action="probe", channel="cli") as uow:
            uow.authenticate()
    with pytest.raises(Refused) as locked, StepUnitOfWork(office["zhang"], action="probe", channel="cli") as uow:
        uow.authenticate()
    assert locked.value.code is Reason.CREDENTIALS and locked.value.why == "locked"  # type: ignore[attr-defined]


def test_uow_serialises_a_concurrent_writer(office: Office) -> None:
    """A second unit of work waits for the first to finish: no interleaved chain, no lost write."""
    order: list[str] = []
    entered = threading.Event()

    def first() -> None:
        with StepUnitOfWork(office["zhang"], action="first", channel="cli") as uow:
            uow.authenticate()
            entered.set()
            time.sleep(0.5)
            event = uow.accept(matter_id=None)
            order.append("first")
            uow.commit(event=event)

    thread = threading.Thread(target=first)
    thread.start()
    assert entered.wait(10)
    with StepUnitOfWork(office["li"], action="second", channel="cli") as uow:
        uow.authenticate()
        event = uow.accept(matter_id=None)
        order.append("second")
        uow.commit(event=event)
    thread.join()
    assert order == ["first", "second"]
    with read_session() as session:
        actions = list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq.desc()).limit(2)))  # type: ignore[attr-defined]
    assert actions == ["second", "first"]


# --- a setting that was read nowhere is wired up --------------------------------------------------

def test_a_contracts_amount_decides_whether_it_is_major(office: Office) -> None:
    from hefa.review.services import steps
    from tests.conftest import CLEAN

    big = steps.submit(office["zhang"], kind="contract", title="大额合同", data=CLEAN, filename="c.docx",
                       amount=2_000_000)
    small = steps.submit(office["zhang"], kind="contract", title="小额合同", data=CLEAN, filename="c.docx",
                         amount="50000", flags=("major",))
    assert big.details["flags"] == "major" and small.details["flags"] == ""
    with pytest.raises(Refused) as bad:
        steps.submit(office["zhang"], kind="contract", title="x", data=CLEAN, filename="c.docx", amount="-5")
    assert bad.value.code is Reason.INVALID_INPUT
