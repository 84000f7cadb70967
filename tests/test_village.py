"""村级重大事务合法性评价 (the sixth kind): the village committee proposes, the village legal counsel
evaluates, the 村民会议 / 村民代表会议 decides — never before a current lawful evaluation (《村民委员会
组织法》第二十四条); a 村规民约 is filed with the township, whose counsel may order it corrected (第二十七条)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hefa.review.errors import Reason
from hefa.review.law.rules import FILING_REVIEW, RULES, Kind, Role, Step
from hefa.review.people import officers
from hefa.review.records import queries
from hefa.review.records.db import read_session
from hefa.review.register import steps as register_steps
from hefa.review.register.entries import register_of
from hefa.review.services import steps
from hefa.review.services.steps import Credentials
from tests.conftest import CLEAN
from tests.recording import record_until, refusal, row_of, start_drill

VILLAGE = "东村村民委员会"


def village_officers(office, names: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    """Officers who belong to the village (a village is an organ of its own)."""
    for name, role in names.items():
        enrolment = officers.add_officer(office["admin"], name, role, VILLAGE)
        office.creds[name] = Credentials(name, token=enrolment.token)


def test_the_rules_table_has_the_village_kind_with_its_articles() -> None:
    table = RULES[Kind.VILLAGE_AFFAIR]
    order = [s.step for s in table.stages]
    assert order[0] is Step.SUBMISSION and order.index(Step.REVIEW) < order.index(Step.DELIBERATION)
    deliberation = table.stage(Step.DELIBERATION)
    assert deliberation is not None and "第二十四条" in deliberation.article
    filing = table.stage(Step.FILING)
    assert filing is not None and filing.applies_when == "charter" and "第二十七条" in filing.article
    assert FILING_REVIEW[Kind.VILLAGE_AFFAIR][0] is Role.COUNSEL


def test_village_meeting_refused_before_a_lawful_evaluation_and_a_charter_corrected(
        hefa_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    office = start_drill("2026-06-01", monkeypatch)
    village_officers(office, {"cun-zhuren": "drafter", "cun-guwen": "counsel", "cun-wenshu": "secretary",
                              "cun-beian": "filing_officer"})
    affair = steps.submit(office["cun-zhuren"], kind="village-affair", title="东村宅基地使用方案", data=CLEAN,
                          filename="v.docx").matter_id
    record_until(office, affair, "review", counsel="cun-guwen")
    # the village meeting cannot decide before the village legal counsel's lawful evaluation
    assert refusal(steps.record_deliberation, office["cun-wenshu"], affair, decision="approve",
                   attendees="村民代表甲,村民代表乙", meeting_kind="村民代表会议") is Reason.NO_CURRENT_OPINION
    with read_session() as session:
        refused = [e for e in queries.trail(session, affair)
                   if e["action"] == "deliberation" and e["outcome"] == "refused"]
    assert refused and "合法性" in refused[0]["reason"]
    view = record_until(office, affair, counsel="cun-guwen", secretary="cun-wenshu", meeting_kind="村民代表会议",
                        number="东村〔2026〕1号")
    assert view["status"] == "closed"  # no 备案 for an affair that is not a charter; not in the register
    assert affair not in {r["matter"] for r in register_of()}
    # a 村规民约: filed with the township, entered in the register, reviewed by the township's counsel
    charter = steps.submit(office["cun-zhuren"], kind="village-affair", title="东村村规民约", data=CLEAN,
                           filename="c.docx", flags=("charter",)).matter_id
    record_until(office, charter, "deliberation", counsel="cun-guwen")
    # only the villagers decide (第二十四条): a township-style 常务会议 is refused
    assert refusal(steps.record_deliberation, office["cun-wenshu"], charter, decision="approve",
                   attendees="村民代表甲,村民代表乙", meeting_kind="常务会议") is Reason.MEETING_KIND
    record_until(office, charter, counsel="cun-guwen", secretary="cun-wenshu", filer="sun",
                 meeting_kind="村民会议", number="东村〔2026〕2号")
    assert row_of(charter)["status"] == "in-force"
    # the village's own counsel may not review the village's charter for the township
    assert refusal(register_steps.record_filing_review, office["cun-guwen"], charter,
                   outcome="passed") is Reason.SEPARATION_OF_DUTIES
    assert refusal(register_steps.record_filing_review, office["sun"], charter,
                   outcome="passed") is Reason.WRONG_ROLE  # the township's counsel evaluates a charter
    register_steps.record_filing_review(office["qian"], charter, outcome="opinion", authority="河东镇人民政府",
                                        problems="第五条“罚款”违反法律，责令改正")
    assert row_of(charter)["correction"].startswith("督促整改中")
