"""The register's clocks in the overdue scan (有效期届满预警、督促整改期限).

Two kinds of item join ``hefa overdue`` and the overdue artifact, in the scan's own shape (so they
are recorded once per document, stage and level like every deadline warning):

* ``validity`` — a document in force whose 有效期 ends within ``expiry_warning_days`` (due-soon), or
  has ended (overdue: the document shows as 失效; ``record_expiries`` records the change, audited);
* ``correction`` — a 督促整改 still open near or past its deadline.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from hefa.review.config import now, settings
from hefa.review.law.settings import law_settings
from hefa.review.records import audit
from hefa.review.records.db import read_session, write_transaction
from hefa.review.register.models import Correction, RegisterEntry

VALIDITY_ARTICLE = "规范性文件有效期制度（省级规定：有效期届满前评估，届满自动失效）"
CORRECTION_ARTICLE = "国办发〔2018〕37号 二（六）：有错必纠，督促整改"


def _item(entry_matter: str, title: str, kind: str, organ: str, stage: str, due: dt.date, day: dt.date,
          level: str, article: str) -> dict[str, Any]:
    left = (due - day).days
    return {"matter": entry_matter, "title": title, "kind": kind, "organ": organ, "stage": stage,
            "due_on": due.isoformat(), "unit": "days", "left": left, "level": level, "article": article,
            "days_over": max(0, -left)}


def items(day: dt.date) -> list[dict[str, Any]]:
    """Validity and correction clocks that are near or past their end on ``day``."""
    warn = law_settings().expiry_warning_days
    soon = settings().due_soon_workdays
    out: list[dict[str, Any]] = []
    with read_session() as session:
        for e in session.scalars(select(RegisterEntry).where(RegisterEntry.status.in_(("in-force", "expired")),  # type: ignore[attr-defined]
                                                             RegisterEntry.valid_until.is_not(None))):  # type: ignore[union-attr]
            assert e.valid_until is not None
            left = (e.valid_until - day).days
            if left < 0:
                out.append(_item(e.matter_id, e.title, e.kind, e.organ, "validity", e.valid_until, day, "overdue",
                                 VALIDITY_ARTICLE))
            elif left <= warn:
                out.append(_item(e.matter_id, e.title, e.kind, e.organ, "validity", e.valid_until, day, "due-soon",
                                 VALIDITY_ARTICLE))
        titled = {e.matter_id: e for e in session.scalars(select(RegisterEntry))}
        for c in session.scalars(select(Correction).where(Correction.status == "open")):
            left = (c.due_on - day).days
            if left > soon:
                continue
            entry = titled.get(c.matter_id)
            out.append(_item(c.matter_id, entry.title if entry else "", entry.kind if entry else "",
                             entry.organ if entry else "", "correction", c.due_on, day,
                             "overdue" if left < 0 else "due-soon", CORRECTION_ARTICLE))
    return out


def record_expiries(day: dt.date) -> list[str]:
    """Mark documents in force past their last day as 已失效, each once, audited; their matter ids."""
    with read_session() as session:
        ended = list(session.scalars(select(RegisterEntry.matter_id).where(
            RegisterEntry.status == "in-force", RegisterEntry.valid_until < day)))  # type: ignore[operator]
    if not ended:
        return []
    done: list[str] = []
    with write_transaction() as session:
        for entry in session.scalars(select(RegisterEntry).where(RegisterEntry.matter_id.in_(ended))):  # type: ignore[attr-defined]
            if entry.status != "in-force" or entry.valid_until is None or entry.valid_until >= day:
                continue
            entry.status = "expired"
            entry.status_since = entry.valid_until + dt.timedelta(days=1)
            session.add(entry)
            audit.append(session, action="register-expired", outcome="system", matter_id=entry.matter_id,
                         channel="system", reason=f"有效期于 {entry.valid_until} 届满，自动失效 / expired",
                         payload={"valid_until": entry.valid_until.isoformat(), "at": now().isoformat()})
            done.append(entry.matter_id)
        session.commit()
    return done
