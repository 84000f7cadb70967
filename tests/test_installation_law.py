"""Issue 13: the law is the installation's, not the caller's; a frozen date only in a drill;
event time never goes backwards; a CLI never runs a step with settings other than the desk's.

Real processes (the ``hefa`` command), real SQLite files and PostgreSQL where it answers.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import func, select

from hefa.review.errors import ConfigurationError, Refused
from hefa.review.installation_identity import law_setting_names
from hefa.review.law.settings import LawSettings, law_settings
from hefa.review.records import audit
from hefa.review.records.db import read_session, write_transaction
from hefa.review.records.models import AuditEvent, LawSettingChange, Matter
from hefa.review.services import steps
from hefa.review.services.law_config import set_law_setting, show_law_settings
from hefa.review.services.snapshot import snapshot
from tests import test_cli
from tests.conftest import CLEAN, Office, Served, hefa_bin, make_office, one_line_refusal, reset_caches, served_office
from tests.test_cli import Cli, _file, audit_events

office_home = test_cli.office_home  # an installation set up through the CLI (module scope)
cli = test_cli.cli  # a private copy of it per test


def _submit(cli: Cli, tmp_path: Path, kind: str = "normative-document") -> str:
    return cli.ok("submit", _file(tmp_path, "draft.docx", CLEAN), "--kind", kind,
                  "--title", "关于加强乡村治理的若干规定", who="zhang")["matter"]


# --- the law is the installation's ------------------------------------------------------------------

def test_law_setting_names_read_without_pydantic_match_the_declaration() -> None:
    assert law_setting_names() == frozenset(LawSettings.model_fields)


@pytest.mark.parametrize("name", sorted(LawSettings.model_fields))
def test_every_declared_law_setting_can_be_set_as_typed_and_nothing_else(name: str) -> None:
    """Any field declared on ``LawSettings`` is settable by ``hefa config set``, with its own type,
    without further code: its default, as typed on a command line, passes the gate; a value of
    another type does not."""
    from hefa.review.law import gate
    from hefa.review.law.rules import Role

    admin = gate.Actor(1, "admin", frozenset({Role.ADMIN}), "")
    current = LawSettings().model_dump(mode="json")
    default = current[name]
    typed = json.dumps(default, ensure_ascii=False) if not isinstance(default, str) else default
    if isinstance(default, bool):
        typed = "true" if default else "false"
    assert gate.check_setting(gate.SettingChange(name, typed, current), admin).accepted
    wrong = gate.check_setting(gate.SettingChange(name, "not a value {", current), admin)
    if not isinstance(default, str):
        assert wrong.reason == "setting-value", wrong
    clerk = gate.Actor(2, "zhang", frozenset({Role.DRAFTER}), "")
    assert gate.check_setting(gate.SettingChange(name, typed, current), clerk).reason == "wrong-role"


@pytest.mark.parametrize("variable", ["HEFA_PENALTY_REVIEW_ALL", "HEFA_LICENCE_REVIEW_ALL"])
def test_a_law_setting_in_the_environment_is_refused_in_one_line(cli: Cli, tmp_path: Path, variable: str) -> None:
    """The issue's reproduction: ``HEFA_PENALTY_REVIEW_ALL=false hefa publish …`` decided a penalty
    with no 法制审核. Now nothing runs, nothing is recorded, and the line says how to change it."""
    matter = _submit(cli, tmp_path)
    before = audit_events(cli)
    cli.env[variable] = "false"
    line = one_line_refusal(cli.run("publish", matter, "--number", "罚〔2026〕1号", who="zhao"))
    name = variable.removeprefix("HEFA_").lower()
    assert f"hefa config set {name}" in line and "安装" in line
    assert one_line_refusal(cli.run("status", matter)) == line  # every command, not only steps
    del cli.env[variable]
    assert audit_events(cli) == before  # nothing was recorded
    with read_session_at(cli.home) as session:
        assert law_settings(session).model_dump()[name] is True


def test_a_law_setting_in_hefa_toml_is_refused_in_one_line(cli: Cli, tmp_path: Path) -> None:
    (cli.home / "hefa.toml").write_text("penalty_review_all = false\n", encoding="utf-8")
    line = one_line_refusal(cli.run("list"))
    assert "hefa.toml" in line and "hefa config set penalty_review_all" in line


@pytest.mark.parametrize(("name", "value", "says"), [
    ("correction_days", "0", "应不小于 1"),
    ("filing_within_days", "-30", "应不小于 1"),
    ("normative_review_min_workdays", "20", "不得大于"),  # the maximum is 15
])
def test_a_law_setting_out_of_range_is_refused_by_the_gate(name: str, value: str, says: str) -> None:
    from hefa.review.law import gate
    from hefa.review.law.rules import Role

    admin = gate.Actor(1, "admin", frozenset({Role.ADMIN}), "")
    verdict = gate.check_setting(gate.SettingChange(name, value, LawSettings().model_dump(mode="json")), admin)
    assert verdict.reason == "setting-value" and says in verdict.message, verdict
    assert gate.check_setting(gate.SettingChange("validity_years_major_decision", "0",
                                                 LawSettings().model_dump(mode="json")), admin).accepted


def test_only_an_admin_changes_a_law_setting_through_the_cli(cli: Cli) -> None:
    denied = one_line_refusal(cli.run("config", "set", "major_contract_amount", "500000", "--reason", "县规定",
                                       who="zhang"))
    assert "管理员" in denied
    assert "类型不符" in one_line_refusal(cli.run("config", "set", "major_contract_amount", "五十万", "--reason", "x",
                                                  who="admin"))
    assert "没有名为" in one_line_refusal(cli.run("config", "set", "no_such_rule", "1", "--reason", "x", who="admin"))
    changed = cli.ok("config", "set", "major_contract_amount", "500000", "--reason", "县政府合同管理办法第五条",
                     who="admin")
    assert (changed["old"], changed["new"]) == (1_000_000, 500_000)
    shown = {row["name"]: row for row in cli.ok("config", "show")}
    assert shown["major_contract_amount"]["value"] == 500_000
    assert shown["major_contract_amount"]["event"] == changed["event"]
    assert shown["major_contract_amount"]["by"] == "admin"
    assert shown["penalty_review_all"]["changed"] is False
    trail = [json.loads(row) for row in sqlite_rows(cli.home, "SELECT payload FROM auditevent "
                                                               "WHERE action = 'config-set' ORDER BY seq")]
    assert [t.get("reason") for t in trail][-1] == "县政府合同管理办法第五条"
    outcomes = sqlite_rows(cli.home, "SELECT outcome FROM auditevent WHERE action = 'config-set' ORDER BY seq")
    assert outcomes == ["refused", "refused", "refused", "accepted"]  # every refusal audited


def test_the_gate_decides_with_the_installations_law_from_its_event_on(office: Office) -> None:
    matter = steps.submit(office["zhang"], kind="normative-document", title="关于加强乡村治理的若干规定",
                          data=CLEAN, filename="d.docx").matter_id
    with pytest.raises(Refused) as denied:
        set_law_setting(office["chen"], "penalty_review_all", "false", reason="镇规定")
    assert denied.value.code == "wrong-role"
    with pytest.raises(Refused) as bad:
        set_law_setting(office["admin"], "penalty_review_all", "maybe", reason="镇规定")
    assert bad.value.code == "setting-value"
    with pytest.raises(Refused) as unknown:
        set_law_setting(office["admin"], "penalty_review_everything", "false", reason="镇规定")
    assert unknown.value.code == "unknown-setting"
    changed = set_law_setting(office["admin"], "penalty_review_all", "false", reason="镇人民政府第3号规定")
    with write_transaction() as session:
        row = session.get(Matter, matter)
        assert row is not None
        assert snapshot(session, row).settings["penalty_review_all"] is False  # read in the write transaction
        assert law_settings(session, until_seq=changed["event"] - 1).penalty_review_all is True
        event = session.get(AuditEvent, changed["event"])
        assert event is not None and event.action == "config-set"
        assert json.loads(event.payload) | {"old": True, "new": False} == json.loads(event.payload)
        assert session.scalar(select(func.count()).select_from(LawSettingChange)) == 1
        refusals = session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "config-set", AuditEvent.outcome == "refused"))
        assert refusals == 3
    assert {r["name"]: r["value"] for r in show_law_settings()}["penalty_review_all"] is False


# --- drills -------------------------------------------------------------------------------------------

def test_a_frozen_date_is_refused_in_a_normal_installation(cli: Cli, tmp_path: Path) -> None:
    """The issue's reproduction: ``HEFA_TODAY=2026-01-05`` back-dated an audit event."""
    before = audit_events(cli)
    cli.env["HEFA_TODAY"] = "2026-01-05"
    line = one_line_refusal(cli.run("submit", _file(tmp_path, "d.docx", CLEAN), "--kind", "normative-document",
                                     "--title", "关于加强乡村治理的若干规定", who="zhang"))
    assert "HEFA_TODAY" in line and "演练" in line
    del cli.env["HEFA_TODAY"]
    assert audit_events(cli) == before


def test_a_normal_installation_cannot_become_a_drill(cli: Cli) -> None:
    line = one_line_refusal(cli.run("init", "--drill"))
    assert "不是演练安装" in line


def test_a_drill_marks_every_event_and_its_time_never_goes_backwards(tmp_path: Path) -> None:
    drill = Cli(tmp_path / "drill")
    drill.env["HEFA_TODAY"] = "2026-11-02"
    drill.tokens["admin"] = drill.ok("init", "--drill")["token"]
    drill.tokens["zhang"] = drill.ok("officer", "add", "zhang", "--role", "drafter", "--organ", "河东镇人民政府",
                                     who="admin")["token"]
    matter = drill.ok("submit", _file(tmp_path, "d.docx", CLEAN), "--kind", "normative-document",
                      "--title", "关于加强乡村治理的若干规定", who="zhang")["matter"]
    assert matter.startswith("2026-")
    before = audit_events(drill)
    drill.env["HEFA_TODAY"] = "2026-01-05"  # back in time: refused, nothing recorded
    line = one_line_refusal(drill.run("submit", _file(tmp_path, "e.docx", CLEAN), "--kind", "normative-document",
                                       "--title", "关于加强乡村治理的若干规定", who="zhang"))
    assert "时间倒退" in line
    drill.env["HEFA_TODAY"] = "2026-11-02"
    assert audit_events(drill) == before
    payloads = [json.loads(p) for p in sqlite_rows(drill.home, "SELECT payload FROM auditevent ORDER BY seq")]
    assert payloads and all(p.get("_drill") is True for p in payloads)
    ats = sqlite_rows(drill.home, "SELECT at FROM auditevent ORDER BY seq")
    assert all(at.startswith("2026-11-02") for at in ats) and ats == sorted(ats)


def test_a_future_meeting_date_is_refused(cli: Cli, tmp_path: Path) -> None:
    """The issue's reproduction: ``hefa deliberate … --date 2026-12-31`` skipped the minimum review time."""
    matter = _submit(cli, tmp_path, "normative-document")
    line = one_line_refusal(cli.run("deliberate", matter, "--decision", "approve", "--attendees", "陈,赵,李",
                                     "--presiding", "陈", "--date", "2099-12-31", who="zhao"))
    assert "2099-12-31" in line and "晚于今天" in line


def test_append_refuses_an_event_older_than_the_head(hefa_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEFA_TODAY", "2026-11-02")
    reset_caches()
    office = make_office(drill=True)
    monkeypatch.setenv("HEFA_TODAY", "2026-11-01")
    reset_caches()
    with write_transaction() as session:
        head = audit.head(session)
        with pytest.raises(audit.ClockWentBack):
            audit.append(session, action="probe", outcome="system", channel="system")
    with pytest.raises(ConfigurationError):  # a step: the refusal cannot be recorded either, one line
        steps.submit(office["zhang"], kind="normative-document", title="关于加强乡村治理的若干规定", data=CLEAN,
                     filename="d.docx")
    with read_session() as session:
        assert audit.head(session) == head


# --- the desk: the same installation and clock, or one line --------------------------------------------

def test_a_cli_with_another_clock_or_database_is_refused_by_the_desk(cli: Cli, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The issue's reproduction: the caller's HEFA_TODAY differed from ``hefa serve``'s, so the CLI ran
    the step in its own process with its own settings. Now the desk refuses it in one line."""
    from hefa.desk.server import Desk

    monkeypatch.setenv("HEFA_HOME", str(cli.home))
    monkeypatch.delenv("HEFA_DATABASE_URL", raising=False)
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")
    reset_caches()
    desk = Desk()
    desk.start()
    try:
        before = audit_events(cli)
        other_clock = dict(cli.env, HEFA_TODAY="2026-01-05")
        done = subprocess.run([hefa_bin(), "submit", _file(tmp_path, "d.docx", CLEAN), "--kind", "normative-document",
                               "--title", "关于加强乡村治理的若干规定", "--as", "zhang"],
                              env=other_clock | {"HEFA_TOKEN": cli.tokens["zhang"]}, capture_output=True, text=True,
                              timeout=120)
        line = one_line_refusal(done)
        assert "hefa serve" in line and "冻结日期 2026-01-05" in line and "实时日期" in line
        other_db = dict(cli.env, HEFA_DATABASE_URL=f"sqlite:///{tmp_path / 'other.db'}")
        done = subprocess.run([hefa_bin(), "submit", _file(tmp_path, "d.docx", CLEAN), "--kind", "normative-document",
                               "--title", "关于加强乡村治理的若干规定", "--as", "zhang"],
                              env=other_db | {"HEFA_TOKEN": cli.tokens["zhang"]}, capture_output=True, text=True,
                              timeout=120)
        assert "数据库" in one_line_refusal(done)
        assert not (tmp_path / "other.db").exists() or (tmp_path / "other.db").stat().st_size == 0
        assert audit_events(cli) == before + 2  # each refusal audited by the desk, nothing else recorded
        refusals = sqlite_rows(cli.home, "SELECT reason FROM auditevent WHERE outcome = 'refused' "
                                         "AND action = 'submit' ORDER BY seq DESC LIMIT 2")
        assert all("hefa serve" in reason for reason in refusals)
        assert sqlite_rows(cli.home, "SELECT count(*) FROM matter") == [0]
        same = cli.ok("submit", _file(tmp_path, "d.docx", CLEAN), "--kind", "normative-document",
                      "--title", "关于加强乡村治理的若干规定", who="zhang")  # the same settings: answered
        assert same["accepted"] is True
    finally:
        desk.stop()


@pytest.mark.prefect
def test_a_cli_with_another_clock_is_refused_by_a_running_hefa_serve(served_env: Served, tmp_path: Path) -> None:
    """The same against a real ``hefa serve`` (its desk, its Prefect server): one line, nothing recorded."""
    office = served_office(served_env)
    env = dict(served_env.env, HEFA_TODAY="2026-01-05", HEFA_TOKEN=office.tokens["zhang"])
    with read_session() as session:
        before = audit.head(session)
    done = subprocess.run([hefa_bin(), "submit", _file(tmp_path, "d.docx", CLEAN), "--kind", "normative-document",
                           "--title", "关于加强乡村治理的若干规定", "--as", "zhang"], env=env, capture_output=True,
                          text=True, timeout=120)
    line = one_line_refusal(done)
    assert "hefa serve" in line and "冻结日期 2026-01-05" in line
    with read_session() as session:  # the refusal is audited by the desk; nothing else is recorded
        assert audit.head(session).seq == before.seq + 1
        last = session.get(AuditEvent, before.seq + 1)
        assert last is not None and last.outcome == "refused" and "hefa serve" in last.reason


# --- helpers ------------------------------------------------------------------------------------------

def sqlite_rows(home: Path, query: str) -> list[str]:
    import sqlite3

    with sqlite3.connect(home / "hefa.db") as connection:
        return [row[0] for row in connection.execute(query)]


class read_session_at:
    """A read session on another home's database, in this process."""

    def __init__(self, home: Path) -> None:
        self.home = home

    def __enter__(self):  # type: ignore[no-untyped-def]
        self.saved = os.environ.get("HEFA_HOME"), os.environ.get("HEFA_DATABASE_URL")
        os.environ["HEFA_HOME"] = str(self.home)
        os.environ.pop("HEFA_DATABASE_URL", None)
        reset_caches()
        self.context = read_session()
        return self.context.__enter__()

    def __exit__(self, *exc: object) -> None:
        self.context.__exit__(None, None, None)
        for key, value in zip(("HEFA_HOME", "HEFA_DATABASE_URL"), self.saved, strict=True):
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        reset_caches()

