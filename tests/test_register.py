"""The register of documents in force (统一登记、有效期、清理), on a drill's dates.

A document enters the register when issued; a provisional one (试行) gets the shorter validity; it
is warned ahead of its end in the overdue scan and shows as 失效 after it; a 清理 campaign lists it
and repeals another through its own reviewed matter. Refusals come from the gate, audited."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from hefa.review.errors import Reason, Refused
from hefa.review.law import overdue
from hefa.review.records import queries
from hefa.review.records.db import read_session
from hefa.review.records.models import AuditEvent, DeadlineWarning
from hefa.review.register import steps as register_steps
from hefa.review.register.entries import register_of
from hefa.review.register.export import export
from hefa.review.services import steps
from tests.conftest import CLEAN, REVISED
from tests.recording import drill_day, issue_document, record_until, refusal, row_of, start_drill


def test_a_provisional_document_is_registered_warned_and_expires(hefa_home: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    office = start_drill("2026-01-05", monkeypatch)
    trial = issue_document(office, "关于村庄保洁管理的试行办法", "河政规〔2024〕3号", published_on="2024-03-01")
    lasting = issue_document(office, "关于集镇摊点管理的规定", "河政规〔2026〕1号")
    row = row_of(trial)
    assert (row["status"], row["provisional"], row["valid_until"]) == ("in-force", True, "2026-02-28")
    assert row_of(lasting)["valid_until"] == "2031-01-04"  # 5 years from its publication day, that day counted
    # 180 days before the end: warned once, in the overdue scan, audited on the document's matter
    first = overdue.scan(record=True)
    mine = [i for i in first.new_warnings if i["matter"] == trial]
    assert [(i["stage"], i["level"], i["due_on"]) for i in mine] == [("validity", "due-soon", "2026-02-28")]
    assert not [i for i in overdue.scan(record=True).new_warnings if i["matter"] == trial]
    assert not [i for i in first.items if i["matter"] == lasting]
    # after the last day: shown as 失效 at once, recorded as expired by the scan, once
    drill_day("2026-03-02", monkeypatch)
    assert row_of(trial)["status_zh"] == "已失效"
    expired = overdue.scan(record=True)
    assert [(i["stage"], i["level"], i["days_over"]) for i in expired.new_warnings if i["matter"] == trial] == [
        ("validity", "overdue", 2)]
    overdue.scan(record=True)
    with read_session() as session:
        trail = [e["action"] for e in queries.trail(session, trial)]
        assert trail.count("register-entered") == 1 and trail.count("register-expired") == 1
        assert session.get(DeadlineWarning, (trial, "validity", "overdue")) is not None
    assert [r["matter"] for r in register_of("in-force")] == [lasting]
    assert [r["matter"] for r in register_of("expired")] == [trial]


def test_cleanup_repeals_a_document_through_its_own_reviewed_matter(hefa_home: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    office = start_drill("2026-02-02", monkeypatch)
    old = issue_document(office, "关于农贸市场管理的规定", "河政规〔2021〕4号", published_on="2021-06-01")
    kept = issue_document(office, "关于殡葬管理的规定", "河政规〔2021〕5号", published_on="2021-07-01")
    recent = issue_document(office, "关于河道管理的规定", "河政规〔2026〕2号")
    assert refusal(register_steps.start_cleanup, office["zhang"], name="清理") is Reason.WRONG_ROLE
    started = register_steps.start_cleanup(office["sun"], name="2026年规范性文件清理")
    assert started.details["listed"] == [old, kept]  # validity ends within 180 days; the recent one is not due
    # keep one: its validity starts again from the decision
    register_steps.decide(office["zhang"], kept, decision="keep", reason="仍符合上位法，继续执行")
    assert row_of(kept)["valid_until"] == "2031-02-01"
    # repeal the other: a follow-up matter of another kind, or none, is refused
    contract = steps.submit(office["zhang"], kind="contract", title="保洁服务合同", data=CLEAN,
                            filename="c.docx").matter_id
    assert refusal(register_steps.decide, office["zhang"], old, decision="repeal", reason="上位法已修改",
                   follow_up=contract) is Reason.FOLLOW_UP
    assert refusal(register_steps.decide, office["li"], old, decision="repeal", reason="x",
                   follow_up=contract) is Reason.WRONG_ROLE
    with pytest.raises(Refused, match="修改/废止事项编号"):
        register_steps.decide(office["zhang"], old, decision="repeal", reason="上位法已修改")
    repeal = steps.submit(office["zhang"], kind="normative-document", title="关于废止《关于农贸市场管理的规定》的决定",
                          data=REVISED, filename="r.docx").matter_id
    register_steps.decide(office["zhang"], old, decision="repeal", reason="上位法已修改，规定已不适应",
                          follow_up=repeal)
    assert refusal(register_steps.decide, office["zhang"], recent, decision="repeal", reason="x",
                   follow_up=repeal) is Reason.FOLLOW_UP  # one follow-up answers one document
    assert row_of(old)["status"] == "in-force"  # nothing changes before the repeal passes review and is issued
    # the repeal passes legal review like any other matter: no deliberation before a lawful opinion
    record_until(office, repeal, "review")
    assert refusal(steps.record_deliberation, office["zhao"], repeal, decision="approve",
                   attendees="chen,zhao") is Reason.NO_CURRENT_OPINION
    record_until(office, repeal, "filing", number="河政规〔2026〕3号")
    row = row_of(old)
    assert (row["status"], row["status_zh"], row["superseded_by"]) == ("repealed", "已废止", repeal)
    assert repeal not in {r["matter"] for r in register_of()}  # a repeal decision is no document in force
    (campaign,) = register_steps.campaigns()
    assert [(i["matter"], i["decision"], i["follow_up"]) for i in campaign["items"]] == [
        (old, "repeal", repeal), (kept, "keep", "")]
    assert refusal(register_steps.decide, office["zhang"], old, decision="keep", reason="x") is Reason.NOT_IN_FORCE
    with read_session() as session:
        old_trail = [(e["action"], e["outcome"]) for e in queries.trail(session, old)]
        refused = session.scalars(select(AuditEvent).where(AuditEvent.action == "register-decision",
                                                           AuditEvent.outcome == "refused")).all()
    assert ("register-repealed", "system") in old_trail
    assert len(refused) >= 4  # every refusal above is in the chain


def test_register_exports_to_docx_and_xlsx(hefa_home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import docx
    import openpyxl

    office = start_drill("2026-04-01", monkeypatch)
    matter = issue_document(office, "关于村庄规划管理的规定", "河政规〔2026〕6号")
    rows = register_of()
    word = export(rows, tmp_path / "登记簿.docx", organ="河东镇人民政府", chain_head="12:" + "a" * 64)
    text = "\n".join(c.text for t in docx.Document(str(word)).tables for r in t.rows for c in r.cells)
    assert "河政规〔2026〕6号" in text and "有效" in text
    sheet = export(rows, tmp_path / "登记簿.xlsx", chain_head="12:" + "a" * 64)
    book = openpyxl.load_workbook(sheet)
    values = [[c.value for c in r] for r in book.active.iter_rows()]
    assert values[0][:3] == ["事项编号", "文号", "标题"] and values[1][:2] == [matter, "河政规〔2026〕6号"]
    with pytest.raises(Refused, match=r"\.docx 或 \.xlsx"):
        export(rows, tmp_path / "登记簿.pdf")
    assert not list(tmp_path.glob("*.part"))


def test_validity_settings_by_kind() -> None:
    from hefa.review.register.entries import validity

    start = dt.date(2026, 3, 1)
    assert validity("normative-document", "关于…的规定", start) == (dt.date(2031, 2, 28), False)
    assert validity("normative-document", "关于…的暂行办法", start) == (dt.date(2028, 2, 29), True)
    assert validity("major-decision", "关于…的决定", start) == (None, False)
