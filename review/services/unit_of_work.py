"""The unit of work (一次办理): authenticate → check → write → audit → commit, all or nothing.

``StepUnitOfWork`` is a context manager in the spirit of cosmicpython's: it opens
one serialised write transaction, and **only its ``commit()`` commits**. Leaving
the block without committing — by an exception, a refusal, or simply falling off
the end — rolls everything back and removes stored files the step created. A
refusal (``Refused``, ``NotFound``) is then appended to the audit chain in its own
transaction, with its reason, before it reaches the caller; credential failures
count toward the officer's lockout there, by their code, never by their text.

``perform`` is the one way a person's step is recorded: parse the input, ask the
gate (``review/law/gate.py``) on a snapshot read inside the transaction, write the
records, move the matter on, audit, owe the matter's run a wake-up (outbox), keep
a receipt for the request id — and commit. A retry with the same request id gets
the first answer back and records nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from hefa.review.config import now
from hefa.review.errors import CredentialsRefused, HefaError, NotFound, Reason, Refused
from hefa.review.law import gate
from hefa.review.law.settings import law_read_in, law_read_in_done
from hefa.review.people.credentials import Authenticated, check_credentials, note_failure, note_success
from hefa.review.people.identity import Credentials
from hefa.review.records import audit, outbox
from hefa.review.records.db import read_session, write_transaction
from hefa.review.records.models import AuditEvent, Matter, Officer, RequestReceipt
from hefa.review.services.snapshot import actor_of, move_on, new_matter, next_message, snapshot


@dataclass
class StepOutcome:
    """What an accepted step did: printed by the CLI, logged by flows."""

    matter_id: str
    action: str
    event_seq: int
    event_hash: str
    stage: str
    needs_revision: bool
    message: str
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "accepted": True, "matter": self.matter_id, "action": self.action,
            "event": self.event_seq, "hash": self.event_hash, "stage": self.stage,
            "needs_revision": self.needs_revision, "message": self.message, **self.details,
        }

    @classmethod
    def from_dict(cls, answer: dict[str, Any]) -> StepOutcome:
        known = {"accepted", "matter", "action", "event", "hash", "stage", "needs_revision", "message"}
        return cls(answer["matter"], answer["action"], answer["event"], answer["hash"], answer["stage"],
                   answer["needs_revision"], answer["message"],
                   {k: v for k, v in answer.items() if k not in known})


def _safe_payload(payload: dict[str, Any], matter_id: str | None) -> dict[str, Any]:
    """What a refused attempt asked for, bounded, never a secret."""
    out: dict[str, Any] = {k: (str(val)[:500] if val is not None else None)
                           for k, val in payload.items() if k not in ("token", "code", "data")}
    if matter_id:
        out["matter"] = str(matter_id)[:40]
    return out


class StepUnitOfWork:
    """One person's attempt at one action, committed whole or refused whole (and audited)."""

    def __init__(self, creds: Credentials, *, action: str, channel: str, matter_id: str | None = None,
                 payload: dict[str, Any] | None = None, request_id: str | None = None) -> None:
        self.creds = creds
        self.action = action
        self.channel = channel
        self.matter_id = matter_id
        self.payload = payload or {}
        self.request_id = request_id
        self.auth: Authenticated | None = None
        self.committed = False
        self.replaying = False  # answering a retry from its receipt: nothing to record
        self._on_rollback: list[Callable[[], None]] = []
        self._tx: Any = None
        self.session: Session

    # --- the block -----------------------------------------------------------------------------
    def __enter__(self) -> StepUnitOfWork:
        self._tx = write_transaction()
        self.session = self._tx.__enter__()
        self._law = law_read_in(self.session)  # the installation's law, read in this transaction
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        law_read_in_done(self._law)
        self._tx.__exit__(exc_type, exc, tb)  # rolls back whatever was not committed
        if not self.committed:
            for undo in self._on_rollback:
                undo()
        if self.replaying or not isinstance(exc, Refused | NotFound):
            return
        self._record_refusal(exc)
        if isinstance(exc, NotFound):
            raise Refused(str(exc), code=Reason.NOT_FOUND) from exc

    def on_rollback(self, undo: Callable[[], None]) -> None:
        """Run ``undo`` if the work is not committed (e.g. remove a stored file)."""
        self._on_rollback.append(undo)

    # --- inside the block ------------------------------------------------------------------------
    def previous_answer(self) -> dict[str, Any] | None:
        """The answer already given to this request id, if any (read under the write lock)."""
        if not self.request_id:
            return None
        receipt = self.session.get(RequestReceipt, self.request_id)
        if receipt is None:
            return None
        self.replaying = True
        return json.loads(receipt.answer) if receipt.answer else {"accepted": receipt.outcome == "accepted"}

    def authenticate(self) -> Officer:
        officer = self.session.scalar(select(Officer).where(Officer.name == self.creds.name))
        self.auth = check_credentials(officer, self.creds)
        return self.auth.officer

    def matter(self, matter_id: str) -> Matter:
        matter = self.session.get(Matter, matter_id)
        if matter is None:
            raise NotFound(f"没有编号为 {matter_id} 的事项 / unknown matter {matter_id!r}")
        return matter

    def check(self, snap: gate.MatterSnapshot, request: gate.Request) -> None:
        """Ask the gate; raise its refusal."""
        assert self.auth is not None, "authenticate first"
        verdict = gate.check(snap, request, actor_of(self.auth.officer))
        if not verdict.accepted:
            raise Refused(verdict.message, code=verdict.reason or Reason.INVALID_INPUT)

    def accept(self, *, matter_id: str | None, doc_sha256: str = "",
               details: dict[str, Any] | None = None) -> AuditEvent:
        """Append the accepted event (the officer's code is burnt in the same transaction)."""
        assert self.auth is not None, "authenticate first"
        officer = self.auth.officer
        note_success(self.auth)
        self.session.add(officer)
        return audit.append(self.session, action=self.action, outcome="accepted", officer=officer.name,
                            role=officer.roles, matter_id=matter_id, doc_sha256=doc_sha256,
                            channel=self.channel, payload={**self.payload, **(details or {})})

    def owe_wake(self, event: AuditEvent, action: str = outbox.WAKE) -> None:
        """Owe the matter's run a wake-up (or its start), in this transaction (the outbox)."""
        outbox.enqueue(self.session, event.matter_id, action, event_seq=event.seq, channel=self.channel)

    def commit(self, *, event: AuditEvent | None = None, answer: dict[str, Any] | None = None) -> None:
        """The only commit: with the request's receipt, if it has an id."""
        if self.request_id and event is not None:
            self.session.add(RequestReceipt(request_id=self.request_id, event_seq=event.seq, outcome="accepted",
                                            answer=json.dumps(answer or {}, ensure_ascii=False, default=str),
                                            taken_at=now()))
        self.session.commit()
        self.committed = True

    # --- after a rollback ----------------------------------------------------------------------
    def _record_refusal(self, exc: HefaError) -> None:
        """Append the refusal (and any lock) to the audit chain, in its own transaction."""
        code = getattr(exc, "code", Reason.INVALID_INPUT)
        with write_transaction() as session:
            if self.request_id and session.get(RequestReceipt, self.request_id) is not None:
                return  # a concurrent retry of the same request already answered it
            officer = session.scalar(select(Officer).where(Officer.name == self.creds.name))
            role = ""
            if isinstance(exc, CredentialsRefused) and officer is not None:
                if exc.why.counts_toward_lockout and note_failure(officer):
                    audit.append(session, action="officer-locked", outcome="refused", officer=officer.name,
                                 reason="连续验证失败，账户锁定 / locked", matter_id=self._known_matter(session),
                                 channel=self.channel)
                session.add(officer)
            elif self.auth is not None and officer is not None:
                note_success(Authenticated(officer, self.auth.totp_counter))
                session.add(officer)
                role = officer.roles
            event = audit.append(session, action=self.action, outcome="refused", officer=self.creds.name[:64],
                                 role=role, matter_id=self._known_matter(session), reason=str(exc),
                                 channel=self.channel, payload=_safe_payload(self.payload, self.matter_id))
            if self.request_id:
                answer = {"accepted": False, "reason": str(exc), "code": str(code)}
                session.add(RequestReceipt(request_id=self.request_id, event_seq=event.seq, outcome="refused",
                                           answer=json.dumps(answer, ensure_ascii=False), taken_at=now()))
            session.commit()

    def _known_matter(self, session: Session) -> str | None:
        return self.matter_id if self.matter_id and session.get(Matter, self.matter_id) else None


# --- the template every step follows ------------------------------------------------------------

@dataclass(frozen=True)
class Parsed:
    """A step's input, turned into what the gate decides on and what the records store."""

    request: gate.Request
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Written:
    """What a step wrote: the document it is about, details recorded in the audit event
    (and shown), and details only shown to the person (e.g. the pre-screen findings)."""

    doc_sha256: str
    recorded: dict[str, Any] = field(default_factory=dict)
    shown: dict[str, Any] = field(default_factory=dict)


Write = Callable[[Session, Matter, Officer, dict[str, Any]], Written]


def raise_if_refused(answer: dict[str, Any]) -> None:
    """A stored answer replayed: its refusal is raised again, as it was given."""
    if not answer.get("accepted"):
        raise Refused(answer.get("reason", "已拒绝 / refused"), code=answer.get("code", Reason.INVALID_INPUT))


def replay(answer: dict[str, Any]) -> StepOutcome:
    """The outcome a repeated request (same request id) gets: the stored answer, again."""
    raise_if_refused(answer)
    return StepOutcome.from_dict(answer)


def perform(creds: Credentials, *, action: str, matter_id: str, payload: dict[str, Any],
            parse: Callable[[Matter], Parsed], write: Write, channel: str = "cli",
            request_id: str | None = None, undo: Callable[[], None] | None = None) -> StepOutcome:
    """Record one step on an existing matter: the gate decides, the unit of work commits."""
    with StepUnitOfWork(creds, action=action, channel=channel, matter_id=matter_id, payload=payload,
                        request_id=request_id) as uow:
        if undo is not None:
            uow.on_rollback(undo)
        previous = uow.previous_answer()
        if previous is not None:
            return replay(previous)
        officer = uow.authenticate()
        matter = uow.matter(matter_id)
        parsed = parse(matter)
        uow.check(snapshot(uow.session, matter, parsed.request), parsed.request)
        return _finish(uow, matter, write(uow.session, matter, officer, parsed.values), outbox.WAKE)


def perform_submission(creds: Credentials, *, kind: str, payload: dict[str, Any], parse: Callable[[], Parsed],
                       create: Callable[[Session, Officer, dict[str, Any]], tuple[Matter, Written]],
                       channel: str = "cli", request_id: str | None = None,
                       undo: Callable[[], None] | None = None) -> StepOutcome:
    """Record a new matter (起草提交): the gate decides on the new-matter snapshot."""
    with StepUnitOfWork(creds, action="submit", channel=channel, payload=payload, request_id=request_id) as uow:
        if undo is not None:
            uow.on_rollback(undo)
        previous = uow.previous_answer()
        if previous is not None:
            return replay(previous)
        officer = uow.authenticate()
        parsed = parse()
        uow.check(new_matter(kind, uow.session, parsed.request), parsed.request)
        matter, written = create(uow.session, officer, parsed.values)
        return _finish(uow, matter, written, outbox.START)


def _finish(uow: StepUnitOfWork, matter: Matter, written: Written, wake: str) -> StepOutcome:
    """What every accepted step ends with: move on, audit, owe the run a wake-up, receipt, commit."""
    progress = move_on(uow.session, matter)
    event = uow.accept(matter_id=matter.id, doc_sha256=written.doc_sha256, details=written.recorded)
    uow.owe_wake(event, wake)
    outcome = outcome_of(matter, uow.action, event, progress, {**written.recorded, **written.shown})
    uow.commit(event=event, answer=outcome.to_dict())
    return outcome


def outcome_of(matter: Matter, action: str, event: AuditEvent, progress: gate.Progress,
               details: dict[str, Any]) -> StepOutcome:
    waiting = progress.waiting_for
    return StepOutcome(
        matter_id=matter.id, action=action, event_seq=event.seq, event_hash=event.hash,
        stage=waiting.step.value if waiting else matter.status, needs_revision=progress.needs_revision,
        message=next_message(matter, progress), details=details,
    )


def answered(request_id: str) -> bool:
    """Whether a request id was already answered (accepted or refused)."""
    with read_session() as session:
        return session.get(RequestReceipt, request_id) is not None


def refuse_unparsed(officer_name: str, action: str, matter_id: str, reason: str, *, channel: str = "form",
                    request_id: str | None = None) -> None:
    """Audit an input refused before it reached a service (a malformed form input)."""
    from hefa.review.errors import InvalidInput

    try:
        with StepUnitOfWork(Credentials(officer_name or "?"), action=action, channel=channel, matter_id=matter_id,
                            request_id=request_id) as uow:
            if uow.previous_answer() is not None:
                return
            raise InvalidInput(reason)
    except Refused:
        pass
