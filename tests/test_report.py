"""``hefa report --year``: the annual report's figures match counts computed here, independently,
from the database; the .docx carries the charts and the chain head."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from pathlib import Path

import docx
import pytest
from sqlalchemy import text

from hefa.review.law import overdue
from hefa.review.records.db import engine
from hefa.review.register import steps as register_steps
from hefa.review.services import steps
from tests.conftest import CLEAN, REVISED, WITH_FINE, checklist_answers, hefa_bin
from tests.recording import drill_day, issue_document, record_until, start_drill


def _year_of_data(monkeypatch: pytest.MonkeyPatch) -> None:
    office = start_drill("2026-01-12", monkeypatch)
    first = issue_document(office, "关于集贸市场管理的规定", "河政规〔2026〕1号", data=WITH_FINE)
    contract = steps.submit(office["zhang"], kind="contract", title="垃圾清运服务合同", data=CLEAN,
                            filename="c.docx").matter_id
    drill_day("2026-03-10", monkeypatch)
    record_until(office, contract, number="河合〔2026〕1号")
    late = steps.submit(office["zhang"], kind="normative-document", title="关于村容村貌管理的规定", data=CLEAN,
                        filename="d.docx").matter_id
    record_until(office, late, "review")
    steps.record_opinion(office["li"], late, conclusion="unlawful", reasons="设定罚款", version="1",
                         items=checklist_answers("normative-document"))
    steps.revise(office["zhang"], late, data=REVISED, filename="d2.docx")
    record_until(office, late, "filing", number="河政规〔2026〕2号", published_on="2026-02-01")
    steps.record_filing(office["sun"], late, filed_with="县人民政府", receipt="备2026-02")  # 37 days: late
    register_steps.record_filing_review(office["sun"], first, outcome="opinion", problems="第二条设定罚款")
    drill_day("2026-05-06", monkeypatch)
    overdue.scan(record=True)  # the correction is overdue
    amend = steps.submit(office["zhang"], kind="normative-document", title="关于集贸市场管理的规定（修订）",
                         data=REVISED, filename="a.docx").matter_id
    register_steps.decide(office["zhang"], first, decision="amend", reason="删除罚款", follow_up=amend)
    record_until(office, amend, number="河政规〔2026〕5号")
    village = steps.submit(office["zhou"], kind="village-affair", title="村集体收益使用方案", data=CLEAN,
                           filename="v.docx").matter_id
    record_until(office, village, "deliberation", counsel="qian")
    drill_day("2026-07-01", monkeypatch)
    steps.submit(office["zhang"], kind="major-decision", title="镇区停车规划", data=CLEAN, filename="m.docx")


def _independent(year: int) -> dict:
    """The same counts, by SQL written here (not by the report's code)."""
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    with engine().connect() as c:
        def one(sql: str, **params: object) -> int:
            return int(c.execute(text(sql), {"s": start, "e": end, **params}).scalar() or 0)

        kinds = dict(c.execute(text("SELECT kind, count(*) FROM matter WHERE opened_on BETWEEN :s AND :e "
                                    "GROUP BY kind"), {"s": start, "e": end}).all())
        conclusions = dict(c.execute(text("SELECT conclusion, count(*) FROM legalopinion GROUP BY conclusion")).all())
        late = one("SELECT count(*) FROM filing f JOIN issuance i ON i.matter_id = f.matter_id "
                   "JOIN matter m ON m.id = f.matter_id WHERE m.kind = 'normative-document' "
                   "AND f.filed_on BETWEEN :s AND :e AND f.filed_on - i.published_on > 30"
                   if engine().dialect.name == "postgresql" else
                   "SELECT count(*) FROM filing f JOIN issuance i ON i.matter_id = f.matter_id "
                   "JOIN matter m ON m.id = f.matter_id WHERE m.kind = 'normative-document' "
                   "AND f.filed_on BETWEEN :s AND :e AND julianday(f.filed_on) - julianday(i.published_on) > 30")
        return {
            "kinds": kinds,
            "conclusions": conclusions,
            "filed": one("SELECT count(*) FROM filing f JOIN matter m ON m.id = f.matter_id "
                         "WHERE m.kind = 'normative-document' AND f.filed_on BETWEEN :s AND :e"),
            "late": late,
            "corrections_opened": one("SELECT count(*) FROM correction WHERE opened_on BETWEEN :s AND :e"),
            "corrections_closed": one("SELECT count(*) FROM correction WHERE closed_on BETWEEN :s AND :e"),
            "deliberations": one("SELECT count(*) FROM deliberation WHERE meeting_date BETWEEN :s AND :e"),
            "overdue": one("SELECT count(*) FROM auditevent WHERE action = 'deadline-overdue' AND at LIKE :y",
                           y=f"{year}-%"),
            "entered": one("SELECT count(*) FROM auditevent WHERE action = 'register-entered' AND at LIKE :y",
                           y=f"{year}-%"),
            "amended": one("SELECT count(*) FROM registerentry WHERE status = 'amended'"),
            "counsel": one("SELECT count(*) FROM officer WHERE roles LIKE '%counsel%' AND NOT disabled"),
            "head": c.execute(text("SELECT seq, hash FROM auditevent ORDER BY seq DESC LIMIT 1")).one(),
        }


def test_report_matches_the_database(hefa_home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _year_of_data(monkeypatch)
    expected = _independent(2026)
    target = tmp_path / "年度报告.docx"
    env = {k: v for k, v in os.environ.items() if k != "HEFA_TODAY"}  # the report needs no frozen date
    done = subprocess.run([hefa_bin(), "report", "--year", "2026", "--out", str(target), "--json"], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    figures = answer["figures"]
    assert {k: v for k, v in figures["matters_by_kind"].items() if v} == expected["kinds"]
    assert figures["opinions"] == {c: expected["conclusions"].get(c, 0) for c in ("lawful", "amend", "unlawful")}
    assert figures["revised_after_opinion"] == 1
    assert (figures["filings"]["filed"], figures["filings"]["late"]) == (expected["filed"], expected["late"]) == (3, 1)
    assert (figures["corrections"]["opened"], figures["corrections"]["closed"]) == (
        expected["corrections_opened"], expected["corrections_closed"]) == (1, 1)
    assert figures["deliberations"]["total"] == expected["deliberations"]
    assert figures["warnings"]["overdue"] == expected["overdue"] >= 1
    assert figures["register"]["新登记"] == expected["entered"] and figures["register"]["已修改"] == expected["amended"]
    assert figures["officers"]["counsel"] == expected["counsel"]
    head = f"{expected['head'][0]}:{expected['head'][1]}"
    assert answer["chain_head"] == head
    document = docx.Document(str(target))
    assert len(document.inline_shapes) == 2  # review times by kind, monthly volume
    body = "\n".join(p.text for p in document.paragraphs)
    assert "2026年法治政府建设年度报告" in body and expected["head"][1] in body
    refused = subprocess.run([hefa_bin(), "report", "--year", "2026", "--out", str(tmp_path / "r.pdf")], env=env,
                             capture_output=True, text=True, timeout=300)
    assert refused.returncode == 2 and "docx" in refused.stderr and not (tmp_path / "r.pdf").exists()


def test_report_markdown_has_the_charts_and_the_head(hefa_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from hefa.review.report.annual import figures_of, markdown
    from hefa.review.report.charts import monthly_volume, review_times

    start_drill("2026-02-02", monkeypatch)
    f = figures_of(2026)
    text_ = markdown(f, (monthly_volume(f.monthly), review_times([("规范性文件", 3.0, 7, 15)])))
    assert text_.count("data:image/png;base64,") == 2 and f.chain_head in text_
