"""Counsel's marks on pre-screen findings (预审提示复核), and their export to the labelled set.

A finding is a hint for counsel, never a conclusion. Counsel may mark one "not a problem"
with a reason; the mark is a step like any other (gate, audit, unit of work), and the
marks are exported as rows of the pre-screen's labelled set, so that the rules learn
from what counsel decided.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from hefa.review import validation as v
from hefa.review.config import now
from hefa.review.documents.incoming import OMITTED
from hefa.review.errors import InvalidInput
from hefa.review.law import gate
from hefa.review.people.identity import Credentials
from hefa.review.records.db import read_session
from hefa.review.records.models import DocumentVersion, FindingMark, Matter, Officer
from hefa.review.services.unit_of_work import Parsed, StepOutcome, Written, perform

NOT_A_PROBLEM = "not-a-problem"


def mark_finding(creds: Credentials, matter_id: str, *, finding: int | str, reason: str,
                 channel: str = "cli", request_id: str | None = None) -> StepOutcome:
    """Mark finding number ``finding`` (1-based, as listed) of the current version "not a problem"."""
    payload = {"finding": finding, "reason": reason}

    def parse(matter: Matter) -> Parsed:
        values = {"index": v.count(finding, "预审提示序号", maximum=1_000_000),
                  "reason": v.text(reason, "复核理由", max_len=2000, multiline=True)}
        return Parsed(gate.Request(gate.MARK_FINDING), values)

    def write(session: Session, matter: Matter, officer: Officer, values: dict[str, Any]) -> Written:
        version = session.get(DocumentVersion, matter.current_version_id)
        assert version is not None
        findings = json.loads(version.findings or "[]")
        index = values["index"]
        if not 1 <= index <= len(findings):
            raise InvalidInput(f"第 {version.number} 版只有 {len(findings)} 条预审提示，没有第 {index} 条"
                               " / no such finding")
        flagged = findings[index - 1]
        if flagged["category"] == OMITTED:
            raise InvalidInput("这一条只是未逐条保存的提示的计数，不是一条预审提示 / not a finding")
        session.add(FindingMark(matter_id=matter.id, version_id=version.id or 0, finding_index=index,
                                rule=str(flagged.get("rule") or "")[:80], category=flagged["category"],
                                clause=flagged["matched_text"], verdict=NOT_A_PROBLEM, reason=values["reason"],
                                officer_id=officer.id or 0, recorded_at=now()))
        return Written(version.sha256, recorded={"version": version.number, "finding": index,
                                                 "rule": flagged.get("rule") or "", "category": flagged["category"]})

    return perform(creds, action="finding-mark", matter_id=matter_id, payload=payload, parse=parse, write=write,
                   channel=channel, request_id=request_id)


LABELLED_COLUMNS = ("split", "category", "clause", "source", "reason")


def marks_as_labelled_rows() -> list[dict[str, str]]:
    """Every mark as a row of the labelled set (``tests/data/prescreen_labelled.tsv`` columns):
    a clause counsel cleared is labelled clean (``-``), in the tuning split (never held-out)."""
    with read_session() as session:
        rows = session.execute(select(FindingMark, DocumentVersion.number)
                               .join(DocumentVersion, DocumentVersion.id == FindingMark.version_id)  # type: ignore[arg-type]
                               .order_by(FindingMark.id))
        return [{"split": "tuning", "category": "-", "clause": _one_line(mark.clause),
                 "source": f"counsel-mark:{mark.matter_id}/v{number}/{mark.rule or mark.category}",
                 "reason": _one_line(f"律师复核：{mark.reason}")}
                for mark, number in rows]


def _one_line(text: str) -> str:
    return " ".join(text.replace("\t", " ").split())
