"""The `hefa` command as a new user meets it: real processes, a real SQLite file."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import CLEAN, REVISED, WITH_FINE, hefa_bin, item_args

ITEMS = item_args("normative-document")  # counsel answers every item of the checklist
CONTRACT_ITEMS = item_args("contract")


class Cli:
    def __init__(self, home: Path) -> None:
        self.home = home
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("HEFA_")}
        self.env.update({"HEFA_HOME": str(home), "PREFECT_API_URL": "http://127.0.0.1:9/api"})
        self.tokens: dict[str, str] = {}

    def run(self, *args: str, who: str | None = None, token: str | None = None,
            stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        env = dict(self.env)
        if who:
            env["HEFA_TOKEN"] = token if token is not None else self.tokens[who]
        command = [hefa_bin(), *args] + (["--as", who] if who else [])
        return subprocess.run(command, env=env, capture_output=True, text=True, input=stdin, timeout=120)

    def ok(self, *args: str, who: str | None = None) -> dict:
        result = self.run(*args, "--json", who=who)
        assert result.returncode == 0, result.stderr + result.stdout
        return json.loads(result.stdout)


@pytest.fixture(scope="module")
def office_home(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    """An installation set up once through the CLI: init, then officers added by the admin."""
    cli = Cli(tmp_path_factory.mktemp("cli") / "home")
    init = cli.ok("init")
    cli.tokens["admin"] = init["token"]
    assert init["otpauth_uri"].startswith("otpauth://totp/")
    for name, role in [("zhang", "drafter"), ("li", "counsel"), ("zhao", "secretary"), ("sun", "filing_officer"),
                       ("chen", "head")]:
        cli.tokens[name] = cli.ok("officer", "add", name, "--role", role, "--organ", "河东镇人民政府",
                                  who="admin")["token"]
    return cli


@pytest.fixture
def cli(office_home: Cli, tmp_path: Path) -> Cli:
    """A private copy of that installation, so a test may tamper with its database."""
    home = tmp_path / "home"
    shutil.copytree(office_home.home, home)
    copy = Cli(home)
    copy.tokens = dict(office_home.tokens)
    return copy


def _file(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def audit_events(cli: Cli) -> int:
    """How many events the installation's audit trail holds (``hefa verify --json``)."""
    done = cli.run("verify", "--json")
    assert done.returncode == 0, done.stderr
    return int(json.loads(done.stdout)["events"])


def test_the_new_users_story(cli: Cli, tmp_path: Path) -> None:
    """Bypass refused, drafter's opinion refused, unlawful blocks, revise + lawful proceeds."""
    matter = cli.ok("submit", _file(tmp_path, "draft.docx", WITH_FINE), "--kind", "normative-document",
                    "--title", "关于加强乡村治理的若干规定", who="zhang")
    mid = matter["matter"]
    assert mid.count("-") == 1 and matter["findings"], "the fine is pre-screened"

    early = cli.run("deliberate", mid, "--decision", "approve", "--attendees", "陈,赵,李", who="zhao")
    assert early.returncode == 2
    assert early.stderr.count("\n") == 1 and "Traceback" not in early.stderr
    assert "尚无合法性审查意见" in early.stderr

    own = cli.run("opinion", mid, "--conclusion", "lawful", "--reasons", "自审", "--version", "1", *ITEMS, who="zhang")
    assert own.returncode == 2 and "法律顾问" in own.stderr
    unconfirmed = cli.run("opinion", mid, "--conclusion", "unlawful", "--reasons", "第二条设定罚款", "--version", "1",
                          *ITEMS, who="li")
    assert unconfirmed.returncode == 2 and "hefa controls" in unconfirmed.stderr  # counsel confirms the flags first
    confirmed = cli.ok("controls", mid, "--reason", "不涉及群众切身利益，无须公开征求意见", who="li")
    assert confirmed["stage"] == "review" and confirmed["decided_as"] == "counsel"

    cli.ok("opinion", mid, "--conclusion", "unlawful", "--reasons", "第二条设定罚款", "--version", "1", *ITEMS,
           who="li")
    blocked = cli.run("deliberate", mid, "--decision", "approve", "--attendees", "陈,赵,李", who="zhao")
    assert blocked.returncode == 2 and "不合法" in blocked.stderr

    cli.ok("revise", mid, _file(tmp_path, "v2.docx", REVISED), who="zhang")
    stale = cli.run("opinion", mid, "--conclusion", "lawful", "--reasons", "看的是旧稿", "--version", "1", *ITEMS,
                    who="li")
    assert stale.returncode == 2 and "不是现行版本" in stale.stderr  # an opinion names the version it is about
    cli.ok("opinion", mid, "--conclusion", "lawful", "--reasons", "已删除罚款条款", "--version", "2", *ITEMS, who="li")
    cli.ok("deliberate", mid, "--decision", "approve", "--attendees", "陈,赵,李", "--presiding", "陈",
           "--urgent-reason", "上级限期出台，缩短审核时间", who="zhao")  # 审核原则上不少于5个工作日 (115号)
    unsigned = cli.run("publish", mid, "--number", "河政规〔2026〕1号", who="zhao")
    assert unsigned.returncode == 2 and "签发" in unsigned.stderr  # the head signs, the office numbers
    cli.ok("sign", mid, who="chen")
    cli.ok("publish", mid, "--number", "河政规〔2026〕1号", who="zhao")
    closed = cli.ok("file", mid, "--filed-with", "县人民政府", "--receipt", "备2026-01", who="sun")
    assert closed["stage"] == "closed"

    trail = cli.ok("audit", mid)
    actions = [(e["action"], e["outcome"]) for e in trail]
    assert actions == [("submit", "accepted"), ("deliberation", "refused"), ("opinion", "refused"),
                       ("opinion", "refused"), ("controls", "accepted"),
                       ("opinion", "accepted"), ("deliberation", "refused"), ("revise", "accepted"),
                       ("opinion", "refused"), ("opinion", "accepted"), ("deliberation", "accepted"),
                       ("issuance", "refused"), ("signing", "accepted"), ("register-entered", "system"),
                       ("issuance", "accepted"),
                       ("filing", "accepted")]
    assert [e["seq"] for e in trail] == sorted(e["seq"] for e in trail)

    docs = cli.ok("docs", mid)
    assert {d["name"] for d in docs} == {"legal_opinion", "deliberation_minutes", "filing_report"}
    head = cli.ok("verify")["head"]

    db = sqlite3.connect(cli.home / "hefa.db")
    seq = trail[4]["seq"]
    db.execute("UPDATE auditevent SET reason = 'nothing happened' WHERE seq = ?", (seq,))
    db.commit()
    db.close()
    broken = cli.run("verify")
    assert broken.returncode == 2 and f"第 {seq} 号" in broken.stderr
    assert head.split(":")[0].isdigit()


def test_truncated_chain_is_found_by_its_records_and_by_the_printed_anchor(cli: Cli, tmp_path: Path) -> None:
    mid = cli.ok("submit", _file(tmp_path, "d.docx", CLEAN), "--kind", "contract", "--title", "合同",
                 who="zhang")["matter"]
    cli.ok("controls", mid, "--reason", "非重大合同", who="li")
    cli.ok("opinion", mid, "--conclusion", "lawful", "--reasons", "合法", "--version", "1", *CONTRACT_ITEMS, who="li")
    anchor = cli.ok("verify")["head"]
    db = sqlite3.connect(cli.home / "hefa.db")
    db.execute("DELETE FROM auditevent WHERE seq = (SELECT max(seq) FROM auditevent)")
    db.commit()
    db.close()
    alone = cli.run("verify")  # the rows the last event carried are still there, the event is gone (issue 13)
    assert alone.returncode == 2 and "记录与审计链不符" in alone.stderr, alone.stderr
    failed = cli.run("verify", "--anchor", anchor)
    assert failed.returncode == 2 and "截断" in failed.stderr


def test_bad_files_are_refused_and_leave_nothing(cli: Cli, tmp_path: Path) -> None:
    for name, data in [("empty.docx", b""), ("text.docx", b"hello"), ("old.doc", b"\xd0\xcf\x11\xe0" * 8)]:
        result = cli.run("submit", _file(tmp_path, name, data), "--kind", "contract", "--title", "t", who="zhang")
        assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert cli.ok("list") == []
    assert not list((cli.home / "blobs").rglob("*")) if (cli.home / "blobs").exists() else True
    refused = [e for e in _all_events(cli) if e[1] == "submit"]
    assert len(refused) == 3 and all(e[2] == "refused" for e in refused)


def _all_events(cli: Cli) -> list[tuple]:
    db = sqlite3.connect(cli.home / "hefa.db")
    rows = db.execute("SELECT seq, action, outcome FROM auditevent ORDER BY seq").fetchall()
    db.close()
    return rows


def test_token_flag_warns_and_login_file_is_private(cli: Cli) -> None:
    result = cli.run("officer", "list", "--json", who="admin")
    assert result.returncode == 0 and "li" in result.stdout
    assert cli.run("officer", "list", "--json", who="li").returncode == 2  # officers are listed by an admin
    warned = subprocess.run([hefa_bin(), "officer", "add", "wu", "--role", "assessor", "--as", "admin",
                             "--token", cli.tokens["admin"], "--json"], env=cli.env, capture_output=True,
                            text=True, timeout=60)
    assert warned.returncode == 0 and "警告" in warned.stderr
    login = cli.run("login", "--as", "li", stdin=cli.tokens["li"] + "\n")
    assert login.returncode == 0, login.stderr
    mode = stat.S_IMODE((cli.home / "login.json").stat().st_mode)
    assert mode == 0o600
    env = {k: v for k, v in cli.env.items() if k != "HEFA_TOKEN"}
    pending = subprocess.run([hefa_bin(), "pending", "--as", "li", "--json"], env=env, capture_output=True,
                             text=True, timeout=60)
    assert pending.returncode == 0


def test_export_stays_inside_its_folder(cli: Cli, tmp_path: Path) -> None:
    mid = cli.ok("submit", _file(tmp_path, "d.docx", CLEAN), "--kind", "contract",
                 "--title", "../../etc/passwd", who="zhang")["matter"]
    target = tmp_path / "archive"
    result = cli.ok("export", mid, str(target))
    folder = Path(result["directory"])
    assert folder.parent == target.resolve()
    for name in result["files"]:
        assert (folder / name).resolve().parent == folder
    assert not (tmp_path / "etc").exists()
    bad = cli.run("export", "../../x", str(target))
    assert bad.returncode == 2


def test_status_steps_and_verify_do_not_import_prefect(cli: Cli, tmp_path: Path) -> None:
    mid = cli.ok("submit", _file(tmp_path, "d.docx", CLEAN), "--kind", "contract", "--title", "合同",
                 who="zhang")["matter"]
    probe = ("import sys, atexit\n"
             "atexit.register(lambda: print('PREFECT-LOADED' if any(m == 'prefect' or m.startswith('prefect.')"
             " for m in sys.modules) else 'PREFECT-ABSENT', file=sys.stderr))\n"
             "from hefa.cli.main import run\nsys.argv = ['hefa'] + sys.argv[1:]\nrun()\n")
    opinion = ["opinion", mid, "--conclusion", "lawful", "--reasons", "ok", "--version", "1", *CONTRACT_ITEMS,
               "--as", "li"]
    for args in (["status", mid], opinion, ["verify"]):
        env = dict(cli.env, HEFA_TOKEN=cli.tokens["li"])
        result = subprocess.run([sys.executable, "-c", probe, *args], env=env, capture_output=True, text=True,
                                timeout=60)
        assert "PREFECT-ABSENT" in result.stderr, result.stderr


def test_verify_imports_leave_the_cycle_collector_running() -> None:
    """``hefa verify`` imports with the cycle collector paused, then freezes what was imported:
    the collector runs again afterwards, as it did before."""
    import gc

    from hefa.cli.main import _long_lived_imports

    assert gc.isenabled()
    try:
        with _long_lived_imports():
            assert not gc.isenabled()
        assert gc.isenabled() and gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_every_command_has_chinese_help() -> None:
    from hefa.cli.main import app, officer_app

    for command in [*app.registered_commands, *officer_app.registered_commands]:
        doc = (command.callback.__doc__ or "").strip()
        assert doc and any("\u4e00" <= ch <= "\u9fff" for ch in doc), command.callback.__name__


def test_certificates_are_recorded_by_the_admin_and_expiring_ones_show_in_overdue(cli: Cli) -> None:
    """持证上岗 (issue 14): 行政执法证 number and validity, 法律职业资格; `hefa overdue` lists the expiring."""
    import datetime as dt

    soon = (dt.date.today() + dt.timedelta(days=10)).isoformat()
    refused = cli.run("officer", "cert", "zhang", "--number", "ZF001", "--valid-until", soon, who="zhang")
    assert refused.returncode == 2 and "管理员" in refused.stderr
    half = cli.run("officer", "cert", "zhang", "--number", "ZF001", who="admin")
    assert half.returncode == 2 and "同时填写" in half.stderr
    held = cli.ok("officer", "cert", "zhang", "--number", "ZF001", "--valid-until", soon, who="admin")
    assert held == {"name": "zhang", "cert_number": "ZF001", "cert_valid_until": soon, "legal_qualification": ""}
    qualified = cli.ok("officer", "cert", "li", "--legal-qualification", "A2019", who="admin")
    assert qualified["legal_qualification"] == "A2019"
    rows = cli.ok("overdue")
    assert {"officer": "zhang", "cert_number": "ZF001", "valid_until": soon, "days_left": 10,
            "level": "expiring"}.items() <= next(r for r in rows if r.get("officer") == "zhang").items()
    assert "行政执法证 ZF001  将到期" in cli.run("overdue").stdout
