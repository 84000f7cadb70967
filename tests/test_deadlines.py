"""Statutory clocks on the official calendar, with the date frozen by HEFA_TODAY (in a drill installation)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from hefa.review.law import overdue
from hefa.review.records import queries
from hefa.review.records.db import read_session
from hefa.review.services import steps
from tests.conftest import (
    CLEAN,
    Office,
    certify_enforcers,
    checklist_answers,
    confirm_controls,
    make_office,
)
from tests.recording import drill_day


@pytest.fixture
def office(hefa_home: Path, monkeypatch: pytest.MonkeyPatch) -> Office:
    """The officers of a drill installation (only a drill honours HEFA_TODAY), enrolled on a day
    before every date these tests move to: event time never goes backwards."""
    on("2025-09-01", monkeypatch)
    return make_office(drill=True)


on = drill_day  # the drill's date for these tests


def _status(matter: str) -> dict:
    with read_session() as session:
        return queries.status(session, matter)


def test_review_sent_on_the_friday_before_national_day(office: Office, monkeypatch: pytest.MonkeyPatch) -> None:
    on("2025-09-26", monkeypatch)  # Friday; 国庆 2025-10-01..08, 调休 Sun 09-28 and Sat 10-11 are workdays
    matter = steps.submit(office["zhang"], kind="normative-document", title="节前送审", data=CLEAN,
                          filename="d.docx").matter_id
    confirm_controls(office, matter)  # the draft goes to counsel's review today
    assert matter.startswith("2025-")
    (clock,) = _status(matter)["clocks"]
    assert clock["due_on"] == "2025-10-23"  # 15 working days, the starting day not counted
    assert clock["left"] == 15 and clock["unit"] == "workdays"
    on("2025-10-22", monkeypatch)
    assert _status(matter)["clocks"][0]["left"] == 1
    on("2025-10-24", monkeypatch)
    assert _status(matter)["clocks"][0]["level"] == "overdue"


def test_unfiled_document_is_overdue_on_the_31st_day_once(office: Office, monkeypatch: pytest.MonkeyPatch) -> None:
    on("2026-03-02", monkeypatch)
    matter = steps.submit(office["zhang"], kind="normative-document", title="待备案", data=CLEAN,
                          filename="d.docx").matter_id
    confirm_controls(office, matter)
    steps.record_opinion(office["li"], matter, conclusion="lawful", reasons="合法", items=checklist_answers(matter))
    steps.record_deliberation(office["zhao"], matter, decision="approve", attendees="chen,zhao",
                              urgent_reason="上级限期出台，缩短审核时间")
    steps.record_signing(office["chen"], matter)
    steps.record_issuance(office["zhao"], matter, number="河政规〔2026〕2号")
    on("2026-04-01", monkeypatch)  # the 30th day: due today, not yet overdue
    items = [i for i in overdue.scan().items if i["matter"] == matter]
    assert [i["level"] for i in items] == ["due-soon"] and items[0]["due_on"] == "2026-04-01"
    on("2026-04-02", monkeypatch)  # the 31st day
    first = overdue.scan(record=True)
    second = overdue.scan(record=True)
    mine = [i for i in first.new_warnings if i["matter"] == matter]
    assert [(i["stage"], i["level"], i["days_over"]) for i in mine] == [("filing", "overdue", 1)]
    assert not [i for i in second.new_warnings if i["matter"] == matter]
    with read_session() as session:
        warnings = [e for e in queries.trail(session, matter) if e["action"] == "deadline-overdue"]
    assert len(warnings) == 1 and warnings[0]["outcome"] == "warning"


def test_a_date_beyond_the_calendar_is_an_explicit_error(office: Office, monkeypatch: pytest.MonkeyPatch) -> None:
    on("2026-12-21", monkeypatch)
    matter = steps.submit(office["zhang"], kind="normative-document", title="跨年", data=CLEAN,
                          filename="d.docx").matter_id
    confirm_controls(office, matter)
    (clock,) = _status(matter)["clocks"]
    assert "2027" in clock["error"] and "calendar" in clock["error"]


def test_a_configured_year_extends_the_calendar(office: Office, hefa_home: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    example = Path(__file__).resolve().parents[1] / "review" / "law" / "data" / "calendar-example-2027.toml"
    folder = hefa_home / "calendar"
    folder.mkdir(parents=True, exist_ok=True)
    text = "\n".join(line for line in example.read_text("utf-8").splitlines()
                     if not line.strip().startswith("example"))
    (folder / "2027.toml").write_text(text, "utf-8")
    on("2026-12-21", monkeypatch)
    matter = steps.submit(office["zhang"], kind="normative-document", title="跨年", data=CLEAN,
                          filename="d.docx").matter_id
    confirm_controls(office, matter)
    (clock,) = _status(matter)["clocks"]
    assert "error" not in clock and clock["due_on"].startswith("2027-")


def test_licence_decision_clock_runs_from_acceptance(office: Office, monkeypatch: pytest.MonkeyPatch) -> None:
    on("2026-06-01", monkeypatch)
    matter = steps.submit(office["zhang"], kind="administrative-licence", title="占道许可", data=CLEAN,
                          filename="d.docx", opened_on="2026-06-01",
                          enforcement_officers=certify_enforcers(office)).matter_id
    clocks = {c["stage"]: c for c in _status(matter)["clocks"]}
    # 20 working days (《行政许可法》 arts. 42 and 82); 端午 2026-06-19 is a holiday
    assert clocks["issuance"]["due_on"] == "2026-06-30"
    assert dt.date.fromisoformat(clocks["issuance"]["due_on"]).weekday() < 5


def test_licence_extension_needs_the_head_and_happens_once(office: Office,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from hefa.review.errors import Refused

    on("2026-06-01", monkeypatch)
    matter = steps.submit(office["zhang"], kind="administrative-licence", title="延期许可", data=CLEAN,
                          filename="d.docx", enforcement_officers=certify_enforcers(office)).matter_id
    with pytest.raises(Refused) as refused:
        steps.extend_deadline(office["li"], matter, days=10, reason="需现场核查")
    assert refused.value.code == "wrong-role"
    with pytest.raises(Refused) as untold:  # the applicant is told the reason (行政许可法 第四十二条)
        steps.extend_deadline(office["chen"], matter, days=10, reason="需现场核查")
    assert untold.value.code == "extension-notice"
    steps.extend_deadline(office["chen"], matter, days=10, reason="需现场核查", notified_on="2026-06-01")
    clocks = {c["stage"]: c for c in _status(matter)["clocks"]}
    assert clocks["issuance"]["due_on"] == "2026-07-14"  # 20 + 10 working days
    with pytest.raises(Refused) as again:
        steps.extend_deadline(office["chen"], matter, days=5, reason="再延")
    assert again.value.code == "already-extended"
    with read_session() as session:
        actions = [(e["action"], e["outcome"]) for e in queries.trail(session, matter)]
    assert actions.count(("extension", "refused")) == 3 and ("extension", "accepted") in actions
