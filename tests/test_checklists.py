"""Per-kind review checklists (审查要点): counsel answers every item with the opinion, the gate refuses
what the law does not allow, the opinion gets its own number, and the legal opinion prints exactly
what counsel recorded — for each of the five kinds, down to the PDF.

Real parts only: SQLite (and PostgreSQL where it answers) through the step services, python-docx,
headless LibreOffice and pdftotext for the PDFs.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import docx
import pytest
from sqlalchemy import select

from hefa.review.errors import InvalidInput, Reason, RulesTableError
from hefa.review.law.checklists import (
    CHECKLISTS,
    Checklist,
    ChecklistItem,
    checklist_for,
    parse_entries,
    template,
    validate_checklists,
)
from hefa.review.law.rules import KIND_ZH, Kind, rules_for
from hefa.review.services import steps
from tests.conftest import CLEAN, Office, reset_caches
from tests.recording import refused

SAMPLES = Path(__file__).resolve().parents[1] / "forms" / "samples"
YEAR = dt.date.today().year


def answers(kind: str, result: str = "符合", **special: str) -> list[str]:
    """Counsel's answer to every item of the kind's checklist; ``special`` overrides some (key=answer)."""
    return [f"{i.key}={special.get(i.key.replace('-', '_'), result)}" for i in checklist_for(kind).items]


# --- the table ---------------------------------------------------------------------------------

def test_every_kind_has_a_cited_checklist() -> None:
    validate_checklists(CHECKLISTS)
    for kind in Kind:
        checklist = checklist_for(kind)
        assert checklist.items and all(i.basis for i in checklist.items)
    normative = [i.question for i in checklist_for(Kind.NORMATIVE_DOCUMENT).items]
    assert normative[0] == "制定主体是否合法" and normative[-1] == "是否违反规范性文件制定程序"
    penalty = checklist_for(Kind.ADMINISTRATIVE_PENALTY)
    assert "《行政处罚法》第五十八条" in penalty.source
    assert [i.key for i in penalty.items] == ["body", "officers", "facts", "law", "discretion", "procedure",
                                              "documents", "transfer"]
    assert any("争议解决" in i.question for i in checklist_for(Kind.CONTRACT).items)


@pytest.mark.parametrize(("change", "message"), [
    (lambda t: {k: v for k, v in t.items() if k is not Kind.CONTRACT}, "no review checklist"),
    (lambda t: t | {Kind.CONTRACT: dataclasses.replace(t[Kind.CONTRACT], kind=Kind.MAJOR_DECISION)},
     "wrong kind"),
    (lambda t: t | {Kind.CONTRACT: dataclasses.replace(t[Kind.CONTRACT], items=())}, "no items"),
    (lambda t: t | {Kind.CONTRACT: Checklist(Kind.CONTRACT, "x", (ChecklistItem("a1", "主体", "q", "b"),
                                                                 ChecklistItem("a1", "主体", "q", "b")))},
     "appears twice"),
    (lambda t: t | {Kind.CONTRACT: Checklist(Kind.CONTRACT, "x", (ChecklistItem("A b", "主体", "q", "b"),))},
     "lower-case code"),
    (lambda t: t | {Kind.CONTRACT: Checklist(Kind.CONTRACT, "x", (ChecklistItem("ab", "主体", "q", " "),))},
     "has no basis"),
])
def test_a_broken_checklist_table_is_refused(change: Any, message: str) -> None:
    with pytest.raises(RulesTableError, match=message):
        validate_checklists(change(dict(CHECKLISTS)))


def test_answers_are_parsed_from_lines() -> None:
    entries = parse_entries("# 注释\nsubject=符合\nAuthority = 不符合：第三条超越职权\n\n"
                            "content=na\nrights=不适用:不涉及")
    assert [(e.key, e.result, e.note) for e in entries] == [
        ("subject", "conforms", ""), ("authority", "fails", "第三条超越职权"), ("content", "na", ""),
        ("rights", "na", "不涉及")]
    assert parse_entries(None) == ()
    for bad, why in [("subject", "格式不对"), ("subject=可以", "无法识别"), ("a=符合\na=符合", "两次"),
                     ("a=不符合:" + "长" * 2001, "超过")]:
        with pytest.raises(InvalidInput, match=why):
            parse_entries(bad)
    # the template counsel fills in parses once answered
    filled = template(Kind.CONTRACT).replace("=\n", "=符合\n") + "符合"
    assert [e.key for e in parse_entries(filled)] == list(checklist_for(Kind.CONTRACT).keys)


# --- the gate, through the service ---------------------------------------------------------------

def _submit(office: Office, kind: str = "normative-document", data: bytes = CLEAN) -> str:
    return steps.submit(office["zhang"], kind=kind, title="关于加强乡村治理的若干规定", data=data,
                        filename="draft.docx").matter_id


def _to_review(office: Office, matter: str) -> None:
    """Record whatever the matter's kind asks for before the legal opinion (with plausible records)."""
    from hefa.review.records.queries import status_of

    today = dt.date.today()
    for _ in range(8):
        view = status_of(matter)
        stage = view["stage"]
        if stage == "review":
            return
        if stage == "controls":
            steps.SERVICES["controls"](office["li"], matter, flags=view.get("flags") or [],
                                       reason="按起草人的建议确认适用程序")
        elif stage == "participation":
            steps.record_participation(office["zhang"], matter, period_start=str(today - dt.timedelta(days=45)),
                                       period_end=str(today - dt.timedelta(days=5)), comment_count=3,
                                       summary="收到意见3条，均已采纳。")
        elif stage == "experts":
            steps.record_experts(office["zhang"], matter, experts="刘教授,王律师", summary="方案可行。")
        elif stage == "hearing":
            steps.record_hearing(office["zhang"], matter, notified_on=str(today - dt.timedelta(days=10)),
                                 hearing="waived", summary="当事人书面放弃听证。")
        elif stage == "assessment":
            steps.record_assessment(office["wang"], matter, level="low", controllable="yes", summary="风险可控。")
        else:
            raise AssertionError(f"{matter} waits for {stage}, not the opinion")
    raise AssertionError(f"{matter} never reached the opinion")


def test_an_opinion_must_answer_every_item(office: Office) -> None:
    from hefa.review.records.queries import trail_of

    matter = _submit(office)
    _to_review(office, matter)
    kind = "normative-document"
    lawful = dict(conclusion="lawful", reasons="合法。")
    missing = refused(lambda: steps.record_opinion(office["li"], matter, **lawful), Reason.CHECKLIST_INCOMPLETE)
    assert "subject（制定主体是否合法）" in str(missing)
    refused(lambda: steps.record_opinion(office["li"], matter, items=answers(kind)[:-1], **lawful),
            Reason.CHECKLIST_INCOMPLETE)
    refused(lambda: steps.record_opinion(office["li"], matter, items=[*answers(kind), "parties=符合"], **lawful),
            Reason.CHECKLIST_INCOMPLETE)
    refused(lambda: steps.record_opinion(office["li"], matter, items=answers(kind, authority="不符合"),
                                         conclusion="amend", reasons="须修改。"), Reason.CHECKLIST_NOTE)
    conflict = refused(lambda: steps.record_opinion(
        office["li"], matter, items=answers(kind, authority="不符合:第三条超越职权"), **lawful),
        Reason.CHECKLIST_CONFLICT)
    assert "是否超越制定机关法定职权" in str(conflict)
    with pytest.raises(InvalidInput):
        steps.record_opinion(office["li"], matter, items=["subject=也许"], **lawful)
    refusals = [e for e in trail_of(matter) if e["action"] == "opinion"]
    assert len(refusals) == 6 and all(e["outcome"] == "refused" for e in refusals)
    outcome = steps.record_opinion(office["li"], matter, items=answers(kind, rights="不适用:不涉及权利义务"),
                                   **lawful)
    assert outcome.details["number"] == f"法审〔{YEAR}〕1号"
    assert outcome.details["checklist"]["rights"] == "na"


def test_entries_and_numbers_are_stored_once_and_never_reused(office: Office,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from hefa.review.records.db import read_session
    from hefa.review.records.models import ChecklistEntry, OpinionNumber

    first, second = _submit(office), _submit(office)
    for matter in (first, second):
        _to_review(office, matter)
    steps.record_opinion(office["li"], first, conclusion="amend", reasons="第三条须删除。",
                         items=answers("normative-document", authority="不符合:第三条增加本单位权力"))
    monkeypatch.setenv("HEFA_OPINION_NUMBER_PREFIX", "河东法审")
    reset_caches()
    steps.record_opinion(office["li"], second, conclusion="lawful", reasons="合法。",
                         items=answers("normative-document"))
    monkeypatch.delenv("HEFA_OPINION_NUMBER_PREFIX")
    reset_caches()
    third = _submit(office)
    _to_review(office, third)
    steps.record_opinion(office["li"], third, conclusion="lawful", reasons="合法。",
                         items=answers("normative-document"))
    with read_session() as session:
        numbers = [(n.matter_id, n.number) for n in session.scalars(select(OpinionNumber).order_by(OpinionNumber.id))]
        rows = list(session.scalars(select(ChecklistEntry).where(ChecklistEntry.matter_id == first)
                                    .order_by(ChecklistEntry.position)))
    assert numbers == [(first, f"法审〔{YEAR}〕1号"), (second, f"河东法审〔{YEAR}〕1号"),
                       (third, f"法审〔{YEAR}〕2号")]
    assert [r.item_key for r in rows] == list(checklist_for("normative-document").keys)
    failed = [r for r in rows if r.result == "fails"]
    assert [(f.item_key, f.note, f.question) for f in failed] == [
        ("authority", "第三条增加本单位权力", "是否超越制定机关法定职权")]


# --- the documents -----------------------------------------------------------------------------

def _document_text(matter: str, name: str) -> str:
    from hefa.review.documents import generated

    generated.generate_pending(matter)
    path = next(d["path"] for d in generated.documents_of(matter) if d["name"] == name)
    document = docx.Document(io.BytesIO(Path(path).read_bytes()))
    cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


def test_the_opinion_prints_what_counsel_recorded(sqlite_office: Office) -> None:
    office = sqlite_office
    data = (SAMPLES / "normative_agritourism_draft.docx").read_bytes()
    matter = _submit(office, data=data)
    _to_review(office, matter)
    steps.record_opinion(office["li"], matter, conclusion="unlawful", reasons="第一条设定罚款，应当删除。",
                         items=answers("normative-document",
                                       no_new_measures="不符合:第一条设定罚款，超越规范性文件权限",
                                       content="不适用:另见第四项"))
    text = _document_text(matter, "legal_opinion")
    body, _, notes = text.partition("审查人：")
    problems = body[body.index("四、发现的问题"):body.index("五、审查结论")]
    assert "（一）是否违法设立行政许可、行政处罚、行政强制、行政征收、行政收费等事项" in problems
    assert "第一条设定罚款，超越规范性文件权限" in problems
    assert "预审提示" not in problems and "已逐项审查" not in text
    for item in checklist_for("normative-document").items:
        assert item.question in text
    assert "不适用" in text and "另见第四项" in text
    assert "起草单位：河东镇人民政府" in text and "承办人：zhang" in text and "起草单位：zhang" not in text
    assert f"法审〔{YEAR}〕1号" in body
    assert "附：预审提示" in notes  # the sample's hints: after the signature, as hints, never as problems


def test_minutes_print_exactly_what_was_recorded(sqlite_office: Office) -> None:
    office = sqlite_office
    recorded = [{"member": "zhao", "view": "同意，建议加强宣传。"}, {"member": "li", "view": "程序合法。"},
                {"member": "chen", "view": "同意实施。"}]
    texts = []
    for views in (recorded, None):
        matter = _submit(office)
        _to_review(office, matter)
        steps.record_opinion(office["li"], matter, conclusion="lawful", reasons="合法。",
                             items=answers("normative-document"))
        steps.record_deliberation(office["zhao"], matter, decision="approve", attendees="chen,zhao,li",
                                  presiding="chen", views=views, urgent_reason="经主要负责人同意紧急审议")
        texts.append(_document_text(matter, "deliberation_minutes"))
    spoken, unrecorded = texts
    order = [spoken.index(f"{v['member']}{'（主要负责人）' if v['member'] == 'chen' else ''}：{v['view']}")
             for v in recorded]
    assert order == sorted(order)
    assert "未单独录入" in unrecorded
    # no speaking order is made up from the attendance list
    assert not re.search(r"^(zhao|li|chen)(（主要负责人）)?：", unrecorded, re.M)


# --- done when: each kind's sample opinion, as a PDF -------------------------------------------------

FIVE = [
    ("normative-document", "normative_clean.docx"),
    ("major-decision", "major_decision_market_renovation.docx"),
    ("contract", "contract_comprehensive_center.docx"),
    ("administrative-penalty", "penalty_decision_draft.docx"),
    ("administrative-licence", "licence_decision_draft.docx"),
]
# What the pre-screen once printed as defects of lawful decisions (issue 14): never a problem here.
FALSE_FINDINGS = ("行政规范性文件不得", "规范性文件不得设定")


def _certify(office: Office, names: tuple[str, ...]) -> None:
    """The admin records officers' 行政执法证 (and counsel's 法律职业资格), as an installation would."""
    from hefa.review.people import officers

    for name in names:
        officers.set_certificates(office["admin"], name, cert_number=f"执法证-{name}", cert_valid_until="2030-12-31")
    for name in ("li", "qian"):
        officers.set_certificates(office["admin"], name, legal_qualification=f"A2020{name}")


def _pdf_text(docx_paths: list[Path], folder: Path) -> dict[str, str]:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None or shutil.which("pdftotext") is None:
        pytest.skip("LibreOffice or pdftotext not installed")
    profile = (folder / "lo-profile").as_uri()
    subprocess.run([soffice, f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf",
                    "--outdir", str(folder), *map(str, docx_paths)], check=True, capture_output=True,
                   timeout=300, env={**os.environ, "HOME": str(folder)})
    out = {}
    for path in docx_paths:
        pdf = folder / (path.stem + ".pdf")
        out[path.stem] = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                                        timeout=60, check=True).stdout
    return out


def test_each_kinds_sample_opinion_shows_its_checklist_in_the_pdf(sqlite_office: Office, tmp_path: Path) -> None:
    from hefa.review.documents import generated

    office = sqlite_office
    _certify(office, ("zhang", "zhou"))
    for kind, sample in FIVE:
        extra: dict[str, Any] = {}
        if getattr(rules_for(kind), "enforcement_officers_min", 0):
            extra["enforcement_officers"] = "zhang,zhou"
        matter = steps.submit(office["zhang"], kind=kind, title=f"{sample}样本", data=(SAMPLES / sample).read_bytes(),
                              filename=sample, **extra).matter_id
        _to_review(office, matter)
        first = checklist_for(kind).items[0].key
        notes = {first: f"已核对{KIND_ZH[Kind(kind)]}样本的第一项"}
        items = [f"{i.key}=符合" + (f":{notes[i.key]}" if i.key in notes else "") for i in checklist_for(kind).items]
        steps.record_opinion(office["li"], matter, conclusion="lawful", reasons="经逐项审查，符合规定。", items=items)
        generated.generate_pending(matter)
        path = next(Path(d["path"]) for d in generated.documents_of(matter) if d["name"] == "legal_opinion")
        target = tmp_path / f"{kind}.docx"
        target.write_bytes(path.read_bytes())
    texts = _pdf_text([tmp_path / f"{kind}.docx" for kind, _ in FIVE], tmp_path)
    for kind, _ in FIVE:
        compact = re.sub(r"\s+", "", texts[kind])
        checklist = checklist_for(kind)
        assert re.sub(r"\s+", "", checklist.source) in compact, kind
        for item in checklist.items:  # every item's question, as recorded, in the table
            assert re.sub(r"\s+", "", item.question)[:12] in compact, (kind, item.key)
        assert compact.count("符合") >= len(checklist.items), kind
        assert f"已核对{KIND_ZH[Kind(kind)]}样本的第一项" in compact, kind
        problems = compact[compact.index("四、发现的问题"):compact.index("五、审查结论")]
        assert "未发现不符合项" in problems, (kind, problems)
        assert not any(false in problems for false in FALSE_FINDINGS), kind
        assert "已逐项审查，意见见正文" not in compact
        assert f"法审〔{YEAR}〕" in compact
    other_kinds = [k for k, _ in FIVE if k != "normative-document"]
    for kind in other_kinds:  # no kind prints the normative-document checklist
        assert "制定主体是否合法" not in re.sub(r"\s+", "", texts[kind]), kind


# --- the CLI ------------------------------------------------------------------------------------

def test_the_cli_lists_the_checklist_and_takes_answers_as_options_or_a_file(sqlite_office: Office,
                                                                            sqlite_home: Path, tmp_path: Path) -> None:
    import json

    from tests.conftest import hefa_bin

    env = {k: v for k, v in os.environ.items() if not k.startswith("HEFA_")}
    env |= {"HEFA_HOME": str(sqlite_home), "PREFECT_API_URL": "http://127.0.0.1:9/api"}

    def hefa(*args: str, who: str | None = None) -> subprocess.CompletedProcess[str]:
        extra = {"HEFA_TOKEN": sqlite_office.tokens[who]} if who else {}
        return subprocess.run([hefa_bin(), *args, *(["--as", who] if who else [])], env=env | extra,
                              capture_output=True, text=True, timeout=120)

    listed = hefa("checklist", "contract")
    assert listed.returncode == 0 and "争议解决" in listed.stdout and "\ndisputes=" in listed.stdout
    assert hefa("checklist", "nonsense").returncode == 2
    first, second = _submit(sqlite_office), _submit(sqlite_office)
    for matter in (first, second):
        _to_review(sqlite_office, matter)
    # counsel fills in the template as a file, two items from the command line
    answers_file = tmp_path / "answers.txt"
    filled = hefa("checklist", "normative-document").stdout
    filled = re.sub(r"^subject=$", "", filled, flags=re.M)
    answers_file.write_text(re.sub(r"^([a-z-]+)=$", r"\1=符合", filled, flags=re.M), encoding="utf-8")
    bad = hefa("opinion", first, "--conclusion", "lawful", "--reasons", "合法。", "--version", "1",
               "--items", str(answers_file), "--item", "subject=不符合:制定主体不适格", who="li")
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1 and "不能为“合法”" in bad.stderr
    ok = hefa("opinion", first, "--conclusion", "amend", "--reasons", "须由镇人民政府制定。", "--version", "1",
              "--items", str(answers_file), "--item", "subject=不符合:制定主体不适格", "--json", who="li")
    assert ok.returncode == 0, ok.stderr
    answer = json.loads(ok.stdout)
    assert answer["checklist"]["subject"] == "fails" and answer["number"] == f"法审〔{YEAR}〕1号"
    missing = hefa("opinion", second, "--conclusion", "lawful", "--reasons", "合法。", "--version", "1",
                   "--item", "subject=符合", who="li")
    assert missing.returncode == 2 and "逐项审查未完成" in missing.stderr
