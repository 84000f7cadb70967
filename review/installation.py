"""The installation (本机安装): its database schema, its keys, what kind it is, its first administrator.

``hefa init`` calls ``initialise``; it is idempotent. An installation is normal or a drill
(演练, ``hefa init --drill``): only a drill honours a frozen date (``HEFA_TODAY``), and every
audit event of a drill says so. The kind is recorded once, audited, and never changes. ``hefa
init`` also keys the audit chain (``installation_state``: an HMAC key in a 0600 file outside the
database) from the next event on, when it is not keyed yet.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from hefa.review.config import now, settings
from hefa.review.errors import ConfigurationError
from hefa.review.people import officers
from hefa.review.people.credentials import installation_key
from hefa.review.records import audit, db, installation_state
from hefa.review.records.models import AuditEvent, Installation


@dataclass(frozen=True)
class Initialised:
    """What ``hefa init`` did."""

    database: str
    drill: bool
    chain_keyed_from: int | None
    enrolment: officers.Enrolment | None


def record_installation(*, drill: bool = False) -> bool:
    """Record what kind of installation this database is (once, audited). A drill must be
    created as one: a database with events already, or recorded as normal, is refused.
    Returns whether the installation is a drill."""
    with db.write_transaction() as session:
        row = session.get(Installation, 1)
        if row is not None:
            if drill and not row.drill:
                raise ConfigurationError("本安装不是演练安装，不能改为演练；演练请在新的 HEFA_HOME 或数据库中"
                                         " hefa init --drill / this installation is not a drill and cannot become one")
            installation_state.mark_drill(row.drill)
            return row.drill
        events = session.scalar(select(func.count()).select_from(AuditEvent)) or 0
        if drill and events:
            raise ConfigurationError(f"该数据库已有 {events} 个审计事件，不能再设为演练；演练须从空库开始"
                                     " / a drill starts from an empty database")
        installation_state.mark_drill(drill)
        try:
            seq = audit.head(session).seq + 1
            row = Installation(id=1, drill=drill, created_at=now(), event_seq=seq)
            session.add(row)
            audit.append(session, action="installation", outcome="system", channel="system",
                         payload={"drill": drill})
            session.commit()
        except BaseException:
            installation_state.forget()
            raise
        return drill


def key_chain() -> int | None:
    """Key the audit chain from the next event on (a new key file, 0600), unless it is keyed
    already; returns the first keyed event. A keyed installation whose key file is missing is
    refused (one line): a new key would hide the loss."""
    with db.write_transaction() as session:
        row = session.get(Installation, 1)
        assert row is not None, "record_installation first"
        key = installation_state.chain_key(session.connection())  # refuses a keyed chain without its key
        if key is not None:
            return key.from_seq
        seq = audit.head(session).seq + 1
        created = installation_state.create_chain_key(session.connection(), seq)
        try:
            row.chain_keyed_from = seq
            session.add(row)
            audit.append(session, action="chain-keyed", outcome="system", channel="system",
                         payload={"from_seq": seq})
            session.commit()
        except BaseException:
            created.path.unlink(missing_ok=True)
            raise
        return seq


def initialise(admin: str = "admin", *, drill: bool = False, organ: str = "") -> Initialised:
    """Create or upgrade the schema, create the installation key if missing, record the kind of
    installation (normal or drill), key the audit chain, and enrol the first administrator if
    there is none (their credentials are returned to show once)."""
    db.upgrade(db.engine_for(settings().database))
    installation_key(create=True)
    is_drill = record_installation(drill=drill)
    keyed = key_chain()
    return Initialised(settings().database, is_drill, keyed, officers.bootstrap_admin(admin, organ))
