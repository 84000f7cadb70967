"""Officers' life-cycle (人员管理): only an administrator adds, disables, rotates or
unlocks officers; every change is in the audit chain. Nobody grants themselves a role."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from hefa.review import validation as v
from hefa.review.config import now
from hefa.review.errors import InvalidInput, NotFound, Reason, Refused
from hefa.review.law.rules import Role
from hefa.review.people import web_sessions
from hefa.review.people.credentials import (
    new_salt,
    new_token,
    new_totp_secret,
    note_success,
    provisioning_uri,
)
from hefa.review.people.identity import Credentials
from hefa.review.records import audit
from hefa.review.records.db import write_transaction
from hefa.review.records.models import Officer
from hefa.review.services.snapshot import roles_of
from hefa.review.services.unit_of_work import StepUnitOfWork


@dataclass(frozen=True)
class Enrolment:
    """What a new or rotated officer is shown once: token, TOTP secret and URI."""

    name: str
    roles: str
    organ: str
    token: str
    totp_secret: str
    otpauth_uri: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "roles": self.roles, "organ": self.organ, "token": self.token,
                "totp_secret": self.totp_secret, "otpauth_uri": self.otpauth_uri}


def _parse_roles(roles: str) -> str:
    parts = sorted({r.strip() for r in roles.replace("，", ",").split(",") if r.strip()})
    if not parts:
        raise InvalidInput("至少指定一个岗位 / at least one role")
    for part in parts:
        v.choice(part, "岗位", tuple(r.value for r in Role))
    return ",".join(parts)


def _new_credentials(officer: Officer) -> Enrolment:
    token = new_token()
    plain, encrypted = new_totp_secret()
    officer.token_salt = new_salt()
    from hefa.review.people.credentials import hash_token

    officer.token_hash = hash_token(token, officer.token_salt)
    officer.totp_secret_enc = encrypted
    officer.totp_last_counter = 0
    officer.failed_count = 0
    officer.locked_until = None
    return Enrolment(officer.name, officer.roles, officer.organ, token, plain,
                     provisioning_uri(officer.name, plain))


def _make_officer(session: Session, name: str, roles: str, organ: str) -> tuple[Officer, Enrolment]:
    if session.scalar(select(Officer).where(Officer.name == name)) is not None:
        raise Refused(f"已有名为 {name} 的人员 / officer {name!r} exists", code=Reason.EXISTS)
    officer = Officer(name=name, roles=roles, organ=organ, token_salt="", token_hash="",
                      totp_secret_enc="", created_at=now())
    enrolment = _new_credentials(officer)
    session.add(officer)
    session.flush()
    return officer, enrolment


def bootstrap_admin(name: str = "admin", organ: str = "") -> Enrolment | None:
    """The first administrator (``hefa init``); None when one exists already."""
    name = v.name(name)
    with write_transaction() as session:
        exists = session.scalar(select(func.count()).select_from(Officer)
                                .where(Officer.roles.like("%admin%")))  # type: ignore[attr-defined]
        if exists:
            return None
        officer, enrolment = _make_officer(session, name, Role.ADMIN.value, organ)
        audit.append(session, action="officer-bootstrap", outcome="accepted", officer=name,
                     role=officer.roles, channel="system", payload={"name": name})
        session.commit()
    return enrolment


def _as_admin(creds: Credentials, action: str, payload: dict[str, Any],
              change: Callable[[Session, Officer], tuple[Any, str]]) -> Any:
    """Run an officer change as an authenticated admin, audited either way."""
    with StepUnitOfWork(creds, action=action, channel="cli", payload=payload) as uow:
        admin = uow.authenticate()
        if Role.ADMIN not in roles_of(admin):
            raise Refused("只有管理员可以管理人员 / only an admin manages officers", code=Reason.WRONG_ROLE)
        result, target = change(uow.session, admin)
        event = uow.accept(matter_id=None, details={"target": target})
        uow.commit(event=event)
        return result


def _target(session: Session, name: str) -> Officer:
    officer = session.scalar(select(Officer).where(Officer.name == name))
    if officer is None:
        raise NotFound(f"没有名为 {name} 的人员 / unknown officer {name!r}")
    return officer


def add_officer(creds: Credentials, name: str, roles: str, organ: str = "", *, cert_number: str = "",
                cert_valid_until: str | None = None, legal_qualification: str = "") -> Enrolment:
    """Add an officer with roles (and, optionally, their 行政执法证 and 法律职业资格);
    returns the credentials to show once."""
    payload = {"name": name, "roles": roles, "organ": organ, "cert_number": cert_number,
               "cert_valid_until": cert_valid_until, "legal_qualification": legal_qualification}

    def change(session: Session, admin: Officer) -> tuple[Enrolment, str]:
        clean = v.name(name)
        qualifications = _qualifications(cert_number, cert_valid_until, legal_qualification)
        officer, enrolment = _make_officer(session, clean, _parse_roles(roles),
                                           v.text(organ, "机关", max_len=120, required=False))
        for field_name, value in qualifications.items():
            if value not in ("", None):
                setattr(officer, field_name, value)
        session.add(officer)
        return enrolment, clean

    return _as_admin(creds, "officer-add", payload, change)


def _qualifications(cert_number: str | None, cert_valid_until: str | None,
                    legal_qualification: str | None) -> dict[str, Any]:
    """行政执法证 (number and last valid day, given together) and 法律职业资格证书编号, validated."""
    number = v.text(cert_number, "行政执法证号", max_len=64, required=False)
    until = v.date(cert_valid_until, "行政执法证有效期至") if cert_valid_until not in (None, "") else None
    if bool(number) != (until is not None):
        raise InvalidInput("行政执法证号与有效期须同时填写 / give the certificate number and its validity together")
    return {"enforcement_cert_no": number, "enforcement_cert_valid_until": until,
            "legal_qualification_no": v.text(legal_qualification, "法律职业资格证书编号", max_len=64,
                                             required=False)}


def set_certificates(creds: Credentials, name: str, *, cert_number: str | None = None,
                     cert_valid_until: str | None = None, legal_qualification: str | None = None,
                     clear_cert: bool = False) -> dict[str, Any]:
    """Record an officer's 行政执法证 (持证上岗: number and validity) and/or 法律职业资格
    (《行政处罚法》第五十八条第二款); ``clear_cert`` records that the certificate was withdrawn.
    Admins only, audited; returns what the officer now holds."""
    payload = {"name": name, "cert_number": cert_number, "cert_valid_until": cert_valid_until,
               "legal_qualification": legal_qualification, "clear_cert": clear_cert}

    def change(session: Session, admin: Officer) -> tuple[dict[str, Any], str]:
        target = _target(session, name)
        if clear_cert:
            target.enforcement_cert_no, target.enforcement_cert_valid_until = "", None
        elif cert_number not in (None, "") or cert_valid_until not in (None, ""):
            values = _qualifications(cert_number, cert_valid_until, None)
            target.enforcement_cert_no = values["enforcement_cert_no"]
            target.enforcement_cert_valid_until = values["enforcement_cert_valid_until"]
        if legal_qualification not in (None, ""):
            target.legal_qualification_no = v.text(legal_qualification, "法律职业资格证书编号", max_len=64)
        session.add(target)
        return certificates_of(target), target.name

    return _as_admin(creds, "officer-cert", payload, change)


def certificates_of(officer: Officer) -> dict[str, Any]:
    """What an officer holds: 行政执法证 number and validity, 法律职业资格证书编号."""
    until = officer.enforcement_cert_valid_until
    return {"name": officer.name, "cert_number": officer.enforcement_cert_no,
            "cert_valid_until": until.isoformat() if until else None,
            "legal_qualification": officer.legal_qualification_no}


def disable_officer(creds: Credentials, name: str) -> None:
    """停用: the officer's token and codes are refused from now on."""

    def change(session: Session, admin: Officer) -> tuple[None, str]:
        target = _target(session, name)
        if target.id == admin.id:
            raise Refused("管理员不能停用自己 / an admin cannot disable themselves", code=Reason.SELF)
        target.disabled = True
        session.add(target)
        return None, target.name

    _as_admin(creds, "officer-disable", {"name": name}, change)


def enable_officer(creds: Credentials, name: str) -> None:
    def change(session: Session, admin: Officer) -> tuple[None, str]:
        target = _target(session, name)
        target.disabled = False
        session.add(target)
        return None, target.name

    _as_admin(creds, "officer-enable", {"name": name}, change)


def rotate_officer(creds: Credentials, name: str) -> Enrolment:
    """New token and TOTP secret; the old ones are refused at once."""

    def change(session: Session, admin: Officer) -> tuple[Enrolment, str]:
        target = _target(session, name)
        enrolment = _new_credentials(target)
        target.password_hash = ""  # a new first sign-in with the new secret
        web_sessions.end_all(session, target)
        session.add(target)
        return enrolment, target.name

    return _as_admin(creds, "officer-rotate", {"name": name}, change)


def unlock_officer(creds: Credentials, name: str) -> None:
    def change(session: Session, admin: Officer) -> tuple[None, str]:
        target = _target(session, name)
        target.locked_until = None
        target.failed_count = 0
        target.first_failed_at = None
        session.add(target)
        return None, target.name

    _as_admin(creds, "officer-unlock", {"name": name}, change)


def whoami(creds: Credentials) -> dict[str, Any]:
    """Check credentials without recording a step (``hefa login``); failures are audited."""
    with StepUnitOfWork(creds, action="login", channel="cli") as uow:
        officer = uow.authenticate()
        uow.session.add(officer)
        note_success(uow.auth)  # type: ignore[arg-type]
        uow.commit()
        return {"name": officer.name, "roles": officer.roles, "organ": officer.organ}


def list_officers(creds: Credentials) -> list[dict[str, Any]]:
    """Every officer with roles and state (``hefa officer list``); admins only, refusals audited."""
    with StepUnitOfWork(creds, action="officer-list", channel="cli") as uow:
        admin = uow.authenticate()
        if Role.ADMIN not in roles_of(admin):
            raise Refused("只有管理员可以查看人员名单 / only an admin lists officers", code=Reason.WRONG_ROLE)
        rows = [{"name": o.name, "roles": o.roles, "organ": o.organ, "disabled": o.disabled,
                 "locked_until": o.locked_until.isoformat() if o.locked_until else None,
                 **{k: val for k, val in certificates_of(o).items() if k != "name"}}
                for o in uow.session.scalars(select(Officer).order_by(Officer.name))]
        note_success(uow.auth)  # type: ignore[arg-type]
        uow.session.add(admin)
        uow.commit()
        return rows
