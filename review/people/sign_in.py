"""Signing in at the front door (登录), setting a password at first sign-in, signing out.

Each is a unit of work like a step: the credentials are checked in the transaction
that opens the session; a failure is audited in its own transaction and counts toward
the officer's lockout (``unit_of_work``), a lock is audited; a success, a password set
and a sign-out are audited too. Nothing secret goes into the audit payload.
"""

from __future__ import annotations

from hefa.review.errors import InvalidInput, Reason, Refused
from hefa.review.people.credentials import check_credentials
from hefa.review.people.identity import Credentials
from hefa.review.people.passwords import check_new_password, hash_password
from hefa.review.people.web_sessions import end_all, end_session, open_session
from hefa.review.records import audit
from hefa.review.records.db import write_transaction
from hefa.review.records.models import Officer, WebSession
from hefa.review.services.unit_of_work import StepUnitOfWork

CHANNEL = "web"
THROTTLED = "登录尝试过于频繁，请稍后再试 / too many sign-in attempts: try again later"


def sign_in(name: str, password: str, code: str, *, client: str = "") -> str:
    """登录: name, password and a fresh authenticator code; returns the session cookie value.

    Raises ``Refused`` (``CredentialsRefused`` with its ``why``) with one line that never
    says which part was wrong."""
    creds = Credentials(name.strip()[:64], password=password, code=code.strip())
    with StepUnitOfWork(creds, action="sign-in", channel=CHANNEL, payload={"client": client[:64]}) as uow:
        officer = uow.authenticate()
        token = open_session(uow.session, officer, client)
        event = uow.accept(matter_id=None)
        uow.commit(event=event)
        return token


def set_first_password(name: str, initial_secret: str, code: str, new_password: str, repeat: str, *,
                       client: str = "") -> str:
    """首次登录设置密码: the initial secret shown once by ``hefa officer add`` (the personal
    token), a fresh authenticator code and the new password (twice). Only when no password
    is set yet; returns the session cookie value (the officer is signed in)."""
    creds = Credentials(name.strip()[:64], token=initial_secret.strip())
    with StepUnitOfWork(creds, action="password-set", channel=CHANNEL, payload={"client": client[:64]}) as uow:
        officer = uow.authenticate()
        if officer.password_hash:
            raise Refused("已设置过密码：请直接登录，忘记密码请联系管理员 / a password is already set",
                          code=Reason.EXISTS)
        uow.auth = check_credentials(officer, Credentials(officer.name, code=code.strip()))
        if new_password != repeat:
            raise InvalidInput("两次输入的密码不一致 / the two passwords differ")
        officer.password_hash = hash_password(check_new_password(new_password, officer.name))
        end_all(uow.session, officer)
        token = open_session(uow.session, officer, client)
        event = uow.accept(matter_id=None)
        uow.commit(event=event)
        return token


def sign_out(token: str) -> None:
    """注销: end the session and audit it (nothing happens for an unknown session)."""
    with write_transaction() as session:
        row: WebSession | None = end_session(session, token)
        if row is None:
            return
        officer = session.get(Officer, row.officer_id)
        audit.append(session, action="sign-out", outcome="accepted", officer=officer.name if officer else "",
                     role=officer.roles if officer else "", matter_id=None, channel=CHANNEL)
        session.commit()


def refuse_throttled(name: str, client: str) -> None:
    """Audit a sign-in refused because the client address sent too many failures."""
    with write_transaction() as session:
        audit.append(session, action="sign-in", outcome="refused", officer=name.strip()[:64], matter_id=None,
                     reason=THROTTLED, channel=CHANNEL, payload={"client": client[:64]})
        session.commit()


def audit_web_action(officer: str, roles: str, action: str, *, matter_id: str | None = None,
                     doc_sha256: str = "", outcome: str = "accepted", reason: str = "",
                     payload: dict[str, str] | None = None) -> None:
    """Audit something an officer did at the front door that is not a step (a download,
    an admin call to Prefect, a refused request)."""
    with write_transaction() as session:
        audit.append(session, action=action, outcome=outcome, officer=officer, role=roles, matter_id=matter_id,
                     doc_sha256=doc_sha256, reason=reason, channel=CHANNEL, payload=payload or {})
        session.commit()
