"""Overdue escalation (逾期预警): which open matters are past or near a deadline.

``scan(record=True)`` also records each warning once per matter, stage and level
(``DeadlineWarning``) and appends it to the audit chain; repeated scans add
nothing new. The scheduled Prefect flow emits events for the new ones.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from hefa.review.config import now, today
from hefa.review.law.clocks import running_clocks
from hefa.review.law.workdays import CalendarError
from hefa.review.records import audit
from hefa.review.records.db import read_session, write_transaction
from hefa.review.records.models import DeadlineWarning, Matter, Officer

# 行政执法证 expiring within this many days are listed (持证上岗: renew before it lapses).
CERTIFICATE_WARNING_DAYS = 30


@dataclass
class ScanResult:
    items: list[dict[str, Any]] = field(default_factory=list)
    new_warnings: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    certificates: list[dict[str, Any]] = field(default_factory=list)  # 行政执法证 expired or expiring


def _open_matters(batch: int = 2000) -> Iterator[Matter]:
    after = ""
    while True:
        with read_session() as session:
            rows = list(session.scalars(select(Matter).where(Matter.status == "open", Matter.id > after)
                                        .order_by(Matter.id).limit(batch)))
        if not rows:
            return
        yield from rows
        after = rows[-1].id


def scan(*, record: bool = False) -> ScanResult:
    """Every overdue or due-soon clock of every open matter; record new warnings if asked."""
    result = ScanResult()
    day = today()
    for matter in _open_matters():
        try:
            clocks = running_clocks(matter, on=day)
        except CalendarError as exc:
            result.errors.append({"matter": matter.id, "error": str(exc)})
            continue
        for clock in clocks:
            if clock.level == "on-time":
                continue
            result.items.append({"matter": matter.id, "title": matter.title, "kind": matter.kind,
                                 "organ": matter.organ, **clock.to_dict(),
                                 "days_over": max(0, -clock.left)})
    from hefa.review.register import scan as register_scan  # 有效期届满、督促整改 (issue 16)

    result.items.extend(register_scan.items(day))
    if record:
        register_scan.record_expiries(day)
    if record and result.items:
        result.new_warnings = _record(result.items)
    result.certificates = expiring_certificates(day)
    return result


def expiring_certificates(day: Any, within_days: int = CERTIFICATE_WARNING_DAYS) -> list[dict[str, Any]]:
    """Active officers whose 行政执法证 has expired or expires within ``within_days`` of ``day``:
    an expired certificate cannot be named on a penalty or licence (《行政处罚法》第四十二条)."""
    import datetime as dt

    horizon = day + dt.timedelta(days=within_days)
    with read_session() as session:
        officers = list(session.scalars(
            select(Officer).where(Officer.disabled == False,  # noqa: E712
                                  Officer.enforcement_cert_valid_until.is_not(None),  # type: ignore[union-attr]
                                  Officer.enforcement_cert_valid_until <= horizon)  # type: ignore[operator]
            .order_by(Officer.enforcement_cert_valid_until, Officer.name)))
    rows = []
    for officer in officers:
        until = officer.enforcement_cert_valid_until
        assert until is not None
        rows.append({"officer": officer.name, "cert_number": officer.enforcement_cert_no,
                     "valid_until": until.isoformat(), "days_left": (until - day).days,
                     "level": "expired" if until < day else "expiring",
                     "article": "《行政处罚法》第四十二条：行政处罚应当由具有行政执法资格的执法人员实施"})
    return rows


def _raised(session: Any, matter_ids: list[str], chunk: int = 500) -> set[tuple[str, str, str]]:
    """The warnings already raised for these matters, read in a few queries (not one per item)."""
    raised: set[tuple[str, str, str]] = set()
    for start in range(0, len(matter_ids), chunk):
        rows = session.execute(select(DeadlineWarning.matter_id, DeadlineWarning.stage, DeadlineWarning.level)
                               .where(DeadlineWarning.matter_id.in_(matter_ids[start:start + chunk])))  # type: ignore[attr-defined]
        raised.update((r.matter_id, r.stage, r.level) for r in rows)
    return raised


def _record(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    new: list[dict[str, Any]] = []
    with read_session() as session:
        raised = _raised(session, sorted({item["matter"] for item in items}))
    items = [i for i in items if (i["matter"], i["stage"], i["level"]) not in raised]
    if not items:  # the usual hourly scan: nothing new, no write transaction at all
        return new
    with write_transaction() as session:
        for item in items:
            key = (item["matter"], item["stage"], item["level"])
            if session.get(DeadlineWarning, key) is not None:  # raised meanwhile
                continue
            reason = (f"{'已逾期' if item['level'] == 'overdue' else '即将到期'}：{item['stage']} 应于 "
                      f"{item['due_on']} 前办结（{item['article']}）")
            event = audit.append(session, action=f"deadline-{item['level']}", outcome="warning",
                                 matter_id=item["matter"], reason=reason, channel="system",
                                 payload={k: item[k] for k in ("stage", "due_on", "left", "level")})
            session.add(DeadlineWarning(matter_id=item["matter"], stage=item["stage"],
                                        level=item["level"], due_on=_date(item["due_on"]),
                                        event_seq=event.seq, raised_at=now()))
            new.append(item | {"event": event.seq})
        session.commit()
    return new


def _date(value: str):  # type: ignore[no-untyped-def]
    import datetime as dt

    return dt.date.fromisoformat(value)
