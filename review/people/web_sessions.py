"""Web sessions (登录会话) of the front door: opened at sign-in, checked on every request,
ended at sign-out or expiry.

The browser holds 32 random bytes (a cookie); the database holds only their sha256. A
session ends after ``HEFA_SESSION_IDLE_MINUTES`` without use or ``HEFA_SESSION_MAX_HOURS``
after sign-in, whichever comes first. A step sent with a session is authenticated by
``credentials.check_credentials`` in the step's own transaction (``check_session``), so an
ended session can never record a step.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import select
from sqlalchemy.orm import object_session
from sqlmodel import Session

from hefa.review.errors import CredentialFailure, CredentialsRefused
from hefa.review.records.db import read_session, write_transaction
from hefa.review.records.models import Officer, WebSession

EXPIRED = "登录已过期，请重新登录 / your session has expired: sign in again"
# how often ``last_seen`` is written back (a read every request, a write at most this often)
TOUCH_SECONDS = 30


class SessionSettings(BaseSettings):
    """The front door's session limits (``HEFA_SESSION_*``)."""

    model_config = SettingsConfigDict(env_prefix="HEFA_SESSION_", extra="ignore")

    idle_minutes: int = 30
    max_hours: int = 12


@lru_cache(maxsize=1)
def session_settings() -> SessionSettings:
    return SessionSettings()


def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def open_session(session: Session, officer: Officer, client: str = "") -> str:
    """A new session for ``officer``, in the caller's transaction; returns the cookie value."""
    token = secrets.token_urlsafe(32)
    real_now = dt.datetime.now(dt.UTC)
    cfg = session_settings()
    session.add(WebSession(id_hash=digest(token), officer_id=officer.id or 0, created_at=real_now,
                           last_seen=real_now, expires_at=real_now + dt.timedelta(hours=cfg.max_hours),
                           client=client[:64]))
    return token


def _live(row: WebSession | None, real_now: dt.datetime) -> bool:
    if row is None or row.ended_at is not None:
        return False
    idle = dt.timedelta(minutes=session_settings().idle_minutes)
    return _utc(row.expires_at) > real_now and _utc(row.last_seen) + idle > real_now


def check_session(officer: Officer, token: str) -> None:
    """Inside a step's transaction: accept the session of ``officer`` or raise
    ``CredentialsRefused`` (``EXPIRED`` when it ended, ``FAILED`` when it is not theirs)."""
    session = object_session(officer)
    assert session is not None, "the officer must come from the step's transaction"
    row = session.get(WebSession, digest(token))
    if row is None or row.officer_id != officer.id:
        raise CredentialsRefused(EXPIRED, why=CredentialFailure.FAILED, officer_name=officer.name)
    real_now = dt.datetime.now(dt.UTC)
    if not _live(row, real_now):
        raise CredentialsRefused(EXPIRED, why=CredentialFailure.EXPIRED, officer_name=officer.name)
    row.last_seen = real_now
    session.add(row)


@dataclass(frozen=True)
class SignedIn:
    """Who a live session belongs to (read once per request by the front door)."""

    token: str
    officer_id: int
    name: str
    roles: frozenset[str]
    organ: str


def who(token: str | None) -> SignedIn | None:
    """The officer of a live session, or None (unknown, ended, expired, or the officer was
    disabled or locked since). Keeps the session alive (``last_seen``) at most every 30 s."""
    if not token or len(token) > 100:
        return None
    real_now = dt.datetime.now(dt.UTC)
    with read_session() as session:
        row = session.get(WebSession, digest(token))
        if not _live(row, real_now):
            return None
        assert row is not None
        officer = session.get(Officer, row.officer_id)
        if officer is None or officer.disabled:
            return None
        if officer.locked_until is not None and _utc(officer.locked_until) > real_now:
            return None
        signed = SignedIn(token, officer.id or 0, officer.name, frozenset(officer.roles.split(",")), officer.organ)
        stale = (real_now - _utc(row.last_seen)).total_seconds() > TOUCH_SECONDS
    if stale:
        with write_transaction() as session:
            fresh = session.get(WebSession, digest(token))
            if fresh is not None:
                fresh.last_seen = real_now
                session.add(fresh)
                session.commit()
    return signed


def end_session(session: Session, token: str) -> WebSession | None:
    """Sign out (注销), in the caller's transaction; the ended row, or None if unknown."""
    row = session.get(WebSession, digest(token))
    if row is not None and row.ended_at is None:
        row.ended_at = dt.datetime.now(dt.UTC)
        session.add(row)
        return row
    return None


def end_all(session: Session, officer: Officer) -> int:
    """End every live session of an officer (password change, admin action)."""
    count = 0
    for row in session.scalars(select(WebSession).where(WebSession.officer_id == officer.id,
                                                        WebSession.ended_at.is_(None))):  # type: ignore[union-attr]
        row.ended_at = dt.datetime.now(dt.UTC)
        session.add(row)
        count += 1
    return count
