"""Documents in (起草提交、修改文稿): a new matter with its first version, and revisions.

The file is validated and pre-screened *before* the write transaction (it may take a
while; nobody waits for it under the write lock); a bad file is then refused inside
the unit of work like any other input, so that the refusal is audited.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import Integer, cast, func, select
from sqlmodel import Session

from hefa.review import validation as v
from hefa.review.config import now, today
from hefa.review.errors import InvalidInput
from hefa.review.law import gate
from hefa.review.law.rules import MAJOR_CONTRACT_FLAG, Kind, Step
from hefa.review.law.settings import law_settings
from hefa.review.people.identity import Credentials
from hefa.review.records import storage
from hefa.review.records.models import DocumentVersion, EnforcementAssignment, Matter, Officer
from hefa.review.services.unit_of_work import Parsed, StepOutcome, Written, perform, perform_submission


def _intake(data: bytes, filename: str, kind: str | None = None) -> tuple[str, list[dict[str, Any]]] | InvalidInput:
    """Validate a file and pre-screen it as a matter of ``kind`` (the checks that matter for that
    kind; an unknown kind is left to the gate's refusal): (sha256, findings), or the refusal to raise later."""
    from hefa.review.documents.incoming import screen_upload

    screened_kind = kind if kind in {k.value for k in Kind} else None
    try:
        return screen_upload(data, v.text(filename, "文件名", max_len=200), screened_kind)
    except InvalidInput as exc:
        return exc


def _kind_of(matter_id: str) -> str | None:
    """The kind of an existing matter (for screening its revision), or None if there is none."""
    from hefa.review.records.db import read_session

    with read_session() as session:
        matter = session.get(Matter, matter_id)
        return matter.kind if matter is not None else None


def _stored(data: bytes, created: list[str]) -> str:
    digest, was_created = storage.store(data)
    if was_created:
        created.append(digest)
    return digest


def _discard(created: list[str]) -> Callable[[], None]:
    def undo() -> None:
        for digest in created:
            storage.discard(digest)
    return undo


def _add_version(session: Session, matter: Matter, officer: Officer, data: bytes, filename: str,
                 findings: list[dict[str, Any]], created: list[str]) -> DocumentVersion:
    digest = _stored(data, created)
    number = (session.scalar(select(func.max(DocumentVersion.number))
                             .where(DocumentVersion.matter_id == matter.id)) or 0) + 1
    version = DocumentVersion(
        matter_id=matter.id, number=number, sha256=digest, size=len(data),
        filename=filename, uploader_id=officer.id or 0, uploaded_at=now(),
        findings=json.dumps(findings, ensure_ascii=False),
    )
    session.add(version)
    session.flush()
    matter.current_version_id = version.id
    return version


def _next_matter_id(session: Session) -> str:
    """The next readable id of this year: 2026-0001 … 2026-9999, 2026-10000 …"""
    year = today().year
    last = session.scalar(select(func.max(cast(func.substr(Matter.id, 6), Integer)))
                          .where(Matter.id.like(f"{year}-%")))  # type: ignore[attr-defined]
    return f"{year}-{(last or 0) + 1:04d}"


def _contract_flags(kind: str, flags: set[str], amount: int | None) -> set[str]:
    """A contract at or above ``major_contract_amount`` is 重大合同: the flag follows the amount."""
    if kind != Kind.CONTRACT or amount is None:
        return flags
    if amount >= law_settings().major_contract_amount:
        return flags | {MAJOR_CONTRACT_FLAG}
    return flags - {MAJOR_CONTRACT_FLAG}


def _names(names: str | list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    """Officers' names given as 'a,b' (or a list), cleaned, in order, each once."""
    return tuple(dict.fromkeys(v.items(names, "执法人员", max_len=64)))


def submit(creds: Credentials, *, kind: str, title: str, data: bytes, filename: str,
           organ: str | None = None, flags: tuple[str, ...] = (), opened_on: str | None = None,
           amount: int | str | None = None, enforcement_officers: str | list[str] | None = None,
           channel: str = "cli", request_id: str | None = None) -> StepOutcome:
    """起草提交: record a new matter and its first document version.

    The flags are the drafter's proposal: counsel (or the head) confirms them before the opinion
    (``controls.confirm_controls``). A penalty or licence names its enforcement officers
    (执法人员), at least two with a valid 行政执法证 (《行政处罚法》第四十二条): the gate checks
    their certificates as recorded, and the matter keeps each certificate as it stood."""
    payload = {"kind": kind, "title": title, "filename": filename, "flags": ",".join(flags), "amount": amount,
               "enforcement_officers": enforcement_officers}
    intake = _intake(data, filename, kind)
    created: list[str] = []

    def parse() -> Parsed:
        if isinstance(intake, InvalidInput):
            raise intake
        chosen = v.choice(kind, "事项类型", tuple(k.value for k in Kind))
        money = None if amount in (None, "") else v.count(amount, "合同金额（元）", maximum=10**15)
        chosen_flags = _contract_flags(chosen, set(flags), money)
        opened = v.date(opened_on, "立案/受理日期", default=today())
        values = {"kind": chosen, "title": v.text(title, "标题", max_len=200), "flags": chosen_flags,
                  "opened_on": opened, "amount": money,
                  "organ": v.text(organ, "机关", max_len=120, required=False)}
        enforcers = _names(enforcement_officers)
        values["enforcers"] = enforcers
        return Parsed(gate.Request(Step.SUBMISSION, flags=frozenset(chosen_flags), enforcers=enforcers,
                                   dates={"立案/受理日期": opened}), values)

    def create(session: Session, officer: Officer, values: dict[str, Any]) -> tuple[Matter, Written]:
        assert not isinstance(intake, InvalidInput)
        _digest, findings = intake
        matter = Matter(
            id=_next_matter_id(session), kind=values["kind"], title=values["title"],
            organ=values["organ"] or officer.organ or "未填机关", drafter_id=officer.id or 0,
            stage=Step.SUBMISSION.value, flags=",".join(sorted(values["flags"])), amount=values["amount"],
            opened_on=values["opened_on"], stage_since=today(), created_at=now(), updated_at=now(),
        )
        session.add(matter)
        session.flush()
        version = _add_version(session, matter, officer, data, filename, findings, created)
        certificates = _assign_enforcers(session, matter, values["enforcers"])
        return matter, Written(version.sha256, recorded={"findings": len(findings), "flags": matter.flags,
                                                         **({"enforcers": certificates} if certificates else {})},
                               shown={"version": 1, "sha256": version.sha256, "findings": findings})

    return perform_submission(creds, kind=kind, payload=payload, parse=parse, create=create, channel=channel,
                              request_id=request_id, undo=_discard(created))


def _assign_enforcers(session: Session, matter: Matter, names: tuple[str, ...]) -> list[str]:
    """Record the named enforcement officers with their certificates as they stand (the gate has
    checked every one is valid today); return 'name:证号' for the audit event."""
    shown: list[str] = []
    for name in names:
        officer = session.scalar(select(Officer).where(Officer.name == name))
        assert officer is not None and officer.enforcement_cert_valid_until is not None
        session.add(EnforcementAssignment(matter_id=matter.id, officer_id=officer.id or 0,
                                          certificate_no=officer.enforcement_cert_no,
                                          valid_until=officer.enforcement_cert_valid_until, recorded_at=now()))
        shown.append(f"{name}:{officer.enforcement_cert_no}")
    return shown


def revise(creds: Credentials, matter_id: str, *, data: bytes, filename: str,
           channel: str = "cli", request_id: str | None = None) -> StepOutcome:
    """修改文稿 (退回修改后重新提交): a new version; earlier opinions become stale.
    A "revision" identical to any earlier version is refused (no opinion shopping)."""
    payload = {"filename": filename}
    intake = _intake(data, filename, _kind_of(matter_id))
    created: list[str] = []

    def parse(matter: Matter) -> Parsed:
        if isinstance(intake, InvalidInput):
            raise intake
        return Parsed(gate.Request(gate.REVISE, version_sha256=intake[0]))

    def write(session: Session, matter: Matter, officer: Officer, values: dict[str, Any]) -> Written:
        assert not isinstance(intake, InvalidInput)
        version = _add_version(session, matter, officer, data, filename, intake[1], created)
        matter.review_since = None  # the revised draft goes to counsel anew: the review clock restarts
        return Written(version.sha256, recorded={"version": version.number, "sha256": version.sha256,
                                                 "findings": len(intake[1])})

    return perform(creds, action="revise", matter_id=matter_id, payload=payload, parse=parse, write=write,
                   channel=channel, request_id=request_id, undo=_discard(created))
