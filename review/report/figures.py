"""The year's figures (年度统计), each computed from the records or the audit chain, never typed in.

Every figure names where it comes from, so that a reader can trace it; the report prints the chain
head it was computed at. A matter belongs to the year it was opened in (立案/受理/起草日期); a step
to the year of its own date (opinion, meeting, filing, correction, audit event).
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from hefa.review.law import workdays
from hefa.review.law.clocks import limit_value
from hefa.review.law.rules import KIND_ZH, Bound, Kind, Role, Step, Unit, rules_for
from hefa.review.law.settings import law_settings
from hefa.review.records import audit
from hefa.review.records.models import (
    AuditEvent,
    Deliberation,
    DocumentVersion,
    Filing,
    Issuance,
    LegalOpinion,
    Matter,
    Officer,
)
from hefa.review.register.models import Correction
from hefa.review.vocabulary import REGISTER_STATUS

REGISTER_ACTIONS = {"register-entered": "新登记",
                    **{f"register-{code}": REGISTER_STATUS.zh(code) for code in ("amended", "repealed", "expired")}}


@dataclass
class Figures:
    """The statistics of one year, with the chain head they were computed at."""

    year: int
    chain_head: str
    organ: str = ""  # the installation's own organ (its first administrator's), named on the report
    matters_by_kind: dict[str, int] = field(default_factory=dict)
    matters_by_status: dict[str, int] = field(default_factory=dict)
    monthly: dict[int, int] = field(default_factory=dict)
    opinions: dict[str, int] = field(default_factory=dict)
    revised_after_opinion: int = 0
    review_days: dict[str, dict[str, Any]] = field(default_factory=dict)
    filings: dict[str, int] = field(default_factory=dict)
    corrections: dict[str, int] = field(default_factory=dict)
    enforcement: dict[str, dict[str, int]] = field(default_factory=dict)
    deliberations: dict[str, int] = field(default_factory=dict)
    warnings: dict[str, int] = field(default_factory=dict)
    officers: dict[str, int] = field(default_factory=dict)
    certificates: dict[str, int] = field(default_factory=dict)
    register: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()}


def _in(day: dt.date | None, year: int) -> bool:
    return day is not None and day.year == year


def _review_limit(kind: str) -> tuple[int | None, str]:
    """The kind's maximum review time in working days, if the rules table sets one."""
    stage = rules_for(kind).stage(Step.REVIEW)
    for limit in stage.limits if stage else ():
        if limit.bound is Bound.MAX and limit.unit is Unit.WORKDAYS:
            return limit_value(limit), limit.article
    return None, ""


def compute(session: Session, year: int) -> Figures:
    """Every figure of the report for ``year``, read in one session."""
    first = session.scalars(select(Officer).order_by(Officer.id)).first()  # type: ignore[arg-type]
    f = Figures(year=year, chain_head=str(audit.head(session)), organ=first.organ if first else "")
    matters = [m for m in session.scalars(select(Matter)) if _in(m.opened_on, year)]
    f.matters_by_kind = {k.value: sum(1 for m in matters if m.kind == k) for k in Kind}
    f.matters_by_status = dict(Counter(m.status for m in matters))
    f.monthly = {month: sum(1 for m in matters if m.opened_on.month == month) for month in range(1, 13)}

    versions = {v.id: v for v in session.scalars(select(DocumentVersion))}
    kinds = {m.id: m.kind for m in session.scalars(select(Matter))}
    opinions = [o for o in session.scalars(select(LegalOpinion)) if _in(o.recorded_at.date(), year)]
    f.opinions = {c: sum(1 for o in opinions if o.conclusion == c) for c in ("lawful", "amend", "unlawful")}
    later: dict[str, list[int]] = defaultdict(list)
    for v in versions.values():
        later[v.matter_id].append(v.id or 0)
    f.revised_after_opinion = sum(1 for o in opinions if o.conclusion != "lawful"
                                  and any(vid > o.version_id for vid in later[o.matter_id]))
    spans: dict[str, list[int]] = defaultdict(list)
    for o in opinions:
        sent = versions[o.version_id].uploaded_at.date()
        spans[kinds[o.matter_id]].append(workdays.workdays_between(sent, o.recorded_at.date()))
    for kind, days in spans.items():
        limit, article = _review_limit(kind)
        f.review_days[kind] = {"count": len(days), "median": statistics.median(days), "longest": max(days),
                               "limit": limit, "over_limit": sum(1 for d in days if limit is not None and d > limit),
                               "article": article}

    issued = {i.matter_id: i.published_on for i in session.scalars(select(Issuance))}
    within = law_settings().filing_within_days
    filed = [x for x in session.scalars(select(Filing)) if _in(x.filed_on, year)
             and kinds.get(x.matter_id) == Kind.NORMATIVE_DOCUMENT and x.matter_id in issued]
    late = sum(1 for x in filed if (x.filed_on - issued[x.matter_id]).days > within)
    f.filings = {"filed": len(filed), "on_time": len(filed) - late, "late": late, "within_days": within}

    corrections = list(session.scalars(select(Correction)))
    f.corrections = {"opened": sum(1 for c in corrections if _in(c.opened_on, year)),
                     "closed": sum(1 for c in corrections if _in(c.closed_on, year)),
                     "open_at_year_end": sum(1 for c in corrections if c.opened_on.year <= year
                                             and (c.closed_on is None or c.closed_on.year > year))}

    lawful_matters = {o.matter_id for o in session.scalars(select(LegalOpinion)) if o.conclusion == "lawful"}
    for kind in (Kind.ADMINISTRATIVE_PENALTY, Kind.ADMINISTRATIVE_LICENCE):
        mine = [m for m in matters if m.kind == kind]
        f.enforcement[kind.value] = {"total": len(mine), "reviewed": sum(1 for m in mine if m.id in lawful_matters),
                                     "decided": sum(1 for m in mine if m.id in issued)}

    meetings = [d for d in session.scalars(select(Deliberation)) if _in(d.meeting_date, year)]
    f.deliberations = {"total": len(meetings), **Counter(d.decision for d in meetings)}

    prefix = str(year)
    events = session.execute(select(AuditEvent.action, AuditEvent.outcome, AuditEvent.at)
                             .where(AuditEvent.at.like(f"{prefix}-%")))  # type: ignore[attr-defined]
    counted: Counter[str] = Counter()
    for action, outcome, _at in events:
        if outcome == "warning" and action.startswith("deadline-"):
            counted[action.removeprefix("deadline-")] += 1
        elif action in REGISTER_ACTIONS:
            counted[action] += 1
    f.warnings = {"overdue": counted["overdue"], "due-soon": counted["due-soon"]}
    f.register = {REGISTER_ACTIONS[a]: counted[a] for a in REGISTER_ACTIONS}

    staff = [o for o in session.scalars(select(Officer)) if not o.disabled]
    f.officers = {r.value: sum(1 for o in staff if r.value in o.roles.split(",")) for r in Role}
    year_end = dt.date(year, 12, 31)
    enforcement_certs = [o for o in staff if o.enforcement_cert_no]
    f.certificates = {
        "enforcement": len(enforcement_certs),
        "enforcement_valid_at_year_end": sum(1 for o in enforcement_certs
                                             if (o.enforcement_cert_valid_until or year_end)
                                             >= year_end),
        "legal_qualification": sum(1 for o in staff if o.legal_qualification_no),
    }
    return f


def kind_zh(kind: str) -> str:
    return KIND_ZH[Kind(kind)]
