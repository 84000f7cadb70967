"""What an opinion writes besides itself (法律意见书的附带记录): counsel's checklist answers and the
opinion's own document number — both in the opinion's transaction (``stages.record_opinion``).

The gate has already decided that the answers fit the kind's checklist
(``review/law/gate.py: _check_checklist``); here they are stored with the item's wording and
basis as counsel answered them. The number is the next serial of the configured prefix and the
year, read and written under the serialised write lock (``records/db.write_transaction``), and
unique in the table: once given, never given again.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from hefa.review.config import settings, today
from hefa.review.law.checklists import Entry, checklist_for
from hefa.review.records.models import ChecklistEntry, LegalOpinion, Matter, OpinionNumber


def opinion_number(prefix: str, year: int, serial: int) -> str:
    """意见书文号 per GB/T 9704 (机关代字〔年份〕序号号): 河东法审〔2026〕3号."""
    return f"{prefix}〔{year}〕{serial}号"


def write_opinion_records(session: Session, matter: Matter, opinion: LegalOpinion,
                          entries: tuple[Entry, ...]) -> dict[str, Any]:
    """Store the checklist answers and allocate the opinion's number; return what the audit records."""
    session.flush()  # the opinion's id
    assert opinion.id is not None
    answers = {e.key: e for e in entries}
    for position, item in enumerate(checklist_for(matter.kind).items, start=1):
        entry = answers[item.key]  # the gate refused an opinion missing any item
        session.add(ChecklistEntry(matter_id=matter.id, opinion_id=opinion.id, position=position,
                                   item_key=item.key, aspect=item.aspect, question=item.question,
                                   basis=item.basis, result=entry.result, note=entry.note))
    prefix, year = settings().opinion_number_prefix, today().year
    last = session.scalar(select(func.max(OpinionNumber.serial))
                          .where(OpinionNumber.prefix == prefix, OpinionNumber.year == year))
    serial = (last or 0) + 1
    number = opinion_number(prefix, year, serial)
    session.add(OpinionNumber(opinion_id=opinion.id, matter_id=matter.id, prefix=prefix, year=year,
                              serial=serial, number=number))
    return {"number": number,
            "checklist": {e.key: e.result for e in entries}}
