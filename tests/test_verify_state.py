"""Issue 13: ``hefa verify`` proves the state, not only the chain — every domain record against
the event that recorded it, both ways — and a keyed chain finds an event forged without its key.

On SQLite and on PostgreSQL where it answers; the CLI as a real process.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import inspect
import json
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import String, text
from sqlmodel import SQLModel

from hefa.review.errors import ChainBroken, ConfigurationError
from hefa.review.installation import initialise
from hefa.review.records import audit, installation_state
from hefa.review.records.db import engine, read_session, write_transaction
from hefa.review.records.models import Officer
from hefa.review.records.record_hashes import OPERATIONAL, RECORDS, UnrecordedChange, verify_state
from hefa.review.services import steps
from hefa.review.services.steps import Credentials
from tests import test_cli
from tests.conftest import CLEAN, Office, checklist_answers
from tests.test_cli import Cli, _file

office_home = test_cli.office_home
cli = test_cli.cli


def test_every_table_is_a_registered_record_or_declared_operational() -> None:
    """A new table must be declared: in ``RECORDS`` (its rows are checked by verify) or in
    ``OPERATIONAL`` with the reason it holds no domain record."""
    registered = {r.table for r in RECORDS}
    tables = set(SQLModel.metadata.tables)
    assert not registered & set(OPERATIONAL), "a table is both a record and operational"
    missing = sorted(tables - registered - set(OPERATIONAL))
    assert missing == [], f"declare these tables in review/records/record_hashes.py: {missing}"


def _verify() -> str | None:
    """None when the chain and the records verify, else the one line naming the first mismatch."""
    with read_session() as session:
        try:
            verify_state(session)
        except ChainBroken as exc:
            return str(exc)
    return None


def _sql(*statements: str) -> None:
    with engine().begin() as connection:
        for statement in statements:
            connection.execute(text(statement))


def _opinion(office: Office, conclusion: str = "unlawful") -> tuple[str, int]:
    """A matter with counsel's opinion on version 1; returns the matter and the opinion's event."""
    matter = steps.submit(office["zhang"], kind="normative-document", title="关于加强乡村治理的若干规定",
                          data=CLEAN, filename="d.docx").matter_id
    if "controls" in steps.SERVICES:  # counsel confirms the controls first, where the rules ask for it
        steps.SERVICES["controls"](office["li"], matter, flags="", reason="按提议确认")
    extra = {"items": checklist_answers(matter)} if "items" in inspect.signature(steps.record_opinion).parameters \
        else {}
    outcome = steps.record_opinion(office["li"], matter, conclusion=conclusion, reasons="第二条设定罚款，违法。",
                                   version="1", **extra)
    return matter, outcome.event_seq


def test_an_opinion_edited_to_lawful_is_named_with_its_event(office: Office) -> None:
    """The issue's reproduction: ``UPDATE legalopinion SET conclusion='lawful'``; verify said 审计链完整."""
    _matter, event = _opinion(office)
    assert _verify() is None
    _sql("UPDATE legalopinion SET conclusion = 'lawful'")
    found = _verify()
    assert found is not None and "legalopinion" in found and f"event {event}" in found and "edited" in found
    _sql("UPDATE legalopinion SET conclusion = 'unlawful'")
    assert _verify() is None  # put back, it verifies again: the hash is of the content


def test_an_inserted_opinion_row_is_named(office: Office) -> None:
    _opinion(office)
    _sql("INSERT INTO legalopinion (matter_id, version_id, version_sha256, conclusion, reasons, officer_id, "
         "recorded_at) SELECT matter_id, version_id, version_sha256, 'lawful', '合法', officer_id, recorded_at "
         "FROM legalopinion")
    found = _verify()
    assert found is not None and "legalopinion id 2" in found and "inserted" in found


def test_a_deleted_record_is_named_with_the_event_that_recorded_it(office: Office) -> None:
    from hefa.review.services.law_config import set_law_setting

    event = set_law_setting(office["admin"], "filing_within_days", "20", reason="省规定")["event"]
    assert _verify() is None
    _sql("DELETE FROM lawsettingchange")  # back to the default 30 days, as if never changed
    found = _verify()
    assert found is not None and "lawsettingchange id 1" in found and f"event {event}" in found and "deleted" in found


def test_an_edit_in_any_registered_table_is_named(office: Office) -> None:
    """Every registered table with rows here: change one hashed text column, verify names that table."""
    _opinion(office, conclusion="amend")
    steps_done = 0
    with read_session() as session:
        connection = session.connection()
        targets = []
        for reg in RECORDS:
            table = reg.model.__table__  # type: ignore[attr-defined]
            column = next((c.name for c in table.columns if c.name in reg.columns()
                           and isinstance(getattr(c.type, "impl_instance", c.type), String)
                           and not c.primary_key and not c.foreign_keys), None)
            key = connection.execute(text(f"SELECT {reg.key()} FROM {reg.table} LIMIT 1")).scalar()
            if column is not None and key is not None:
                targets.append((reg.table, column, reg.key(), key))
    assert {"officer", "matter", "documentversion", "legalopinion"} <= {t[0] for t in targets}
    for table, column, pk, key in targets:
        with engine().begin() as connection:
            old = connection.execute(text(f"SELECT {column} FROM {table} WHERE {pk} = :k"), {"k": key}).scalar()
            changed = (old[:-1] + ("1" if old.endswith("0") else "0")) if old else "改"  # same length
            connection.execute(text(f"UPDATE {table} SET {column} = :v WHERE {pk} = :k"), {"v": changed, "k": key})
        found = _verify()
        assert found is not None and f"{table} id {key}" in found, (table, found)
        with engine().begin() as connection:
            connection.execute(text(f"UPDATE {table} SET {column} = :v WHERE {pk} = :k"), {"v": old, "k": key})
        steps_done += 1
    assert _verify() is None and steps_done == len(targets)


def test_a_record_changed_without_an_event_is_refused_at_commit(office: Office) -> None:
    with pytest.raises(UnrecordedChange), write_transaction() as session:
        from sqlalchemy import select

        officer = session.scalar(select(Officer).where(Officer.name == "zhang"))
        assert officer is not None
        officer.organ = "改过的机关"
        session.add(officer)
        session.commit()
    assert _verify() is None


# --- the keyed chain ------------------------------------------------------------------------------------

def _forge_after_head(key: bytes | None) -> None:
    """Append an event by hand, as someone who can write the database: with a recomputed hash
    (plain sha256 without the key, HMAC with it)."""
    with write_transaction() as session:
        head = audit.head(session)
        payload = audit.canonical_json({"note": "forged"})
        fields = {"seq": head.seq + 1, "at": dt.datetime.now(dt.UTC).isoformat(timespec="microseconds"),
                  "officer": "li", "role": "counsel", "action": "opinion", "matter_id": "", "outcome": "accepted",
                  "reason": "", "doc_sha256": "", "channel": "cli",
                  "payload_digest": hashlib.sha256(payload.encode()).hexdigest(), "prev_hash": head.hash}
        session.connection().execute(
            text("INSERT INTO auditevent (seq, at, officer, role, action, matter_id, outcome, reason, doc_sha256, "
                 "channel, payload, payload_digest, prev_hash, hash) VALUES (:seq, :at, :officer, :role, :action, "
                 ":matter_id, :outcome, :reason, :doc_sha256, :channel, :payload, :payload_digest, :prev_hash, :hash)"),
            fields | {"payload": payload, "hash": audit.event_hash(fields, key)})
        session.commit()


def test_a_keyed_chain_finds_an_event_forged_without_the_key(hefa_home: Path) -> None:
    done = initialise("admin")
    assert done.chain_keyed_from is not None and done.enrolment is not None
    key_file = installation_state.key_path()
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert _verify() is None
    _forge_after_head(None)  # recomputed with plain sha256: the forger has no key
    found = _verify()
    assert found is not None and "hash does not match" in found and "chain key" in found


def test_a_keyed_chain_without_its_key_refuses_to_write_and_to_verify(hefa_home: Path) -> None:
    done = initialise("admin")
    assert done.enrolment is not None
    installation_state.key_path().rename(hefa_home.parent / "elsewhere.key")
    with pytest.raises(ConfigurationError):
        steps.submit(Credentials("admin", token=done.enrolment.token), kind="normative-document",
                     title="关于加强乡村治理的若干规定", data=CLEAN, filename="d.docx")
    found = _verify()
    assert found is not None and "key file is missing" in found


def test_someone_holding_the_database_and_the_key_is_not_caught_by_the_key(hefa_home: Path) -> None:
    """What the key does not protect against (SECURITY.md): a forger who also holds the key file.
    Anchors printed on paper still find a rewritten past; an appended event is not found."""
    done = initialise("admin")
    assert done.chain_keyed_from is not None
    with read_session() as session:
        key = installation_state.chain_key(session.connection())
    assert key is not None
    _forge_after_head(key.key)
    assert _verify() is None


def test_event_time_going_backwards_is_found(hefa_home: Path) -> None:
    """An unkeyed chain rewritten from one event on, consistently, but with an earlier time."""
    from tests.conftest import make_office

    make_office()
    with write_transaction() as session:
        head = audit.head(session)
        last = session.connection().execute(text("SELECT at FROM auditevent WHERE seq = :s"),
                                            {"s": head.seq}).scalar()
        assert last is not None
    _forge_after_head(None)
    earlier = (dt.datetime.fromisoformat(last) - dt.timedelta(days=300)).isoformat(timespec="microseconds")
    with write_transaction() as session:
        row = dict(session.connection().execute(text("SELECT * FROM auditevent WHERE seq = :s"),
                                                {"s": head.seq + 1}).mappings().one())
        row["at"] = earlier
        row["hash"] = audit.event_hash(row)
        session.connection().execute(text("UPDATE auditevent SET at = :at, hash = :hash WHERE seq = :seq"), row)
        session.commit()
    found = _verify()
    assert found is not None and f"event {head.seq + 1} is older" in found


# --- the CLI, as a new user would run it ---------------------------------------------------------------

def test_hefa_verify_names_an_inserted_opinion_row(cli: Cli, tmp_path: Path) -> None:
    """On a copy of a home folder, an opinion row inserted by hand: ``hefa verify`` says so, exit 2."""
    matter = cli.ok("submit", _file(tmp_path, "d.docx", CLEAN), "--kind", "normative-document",
                    "--title", "关于加强乡村治理的若干规定", who="zhang")["matter"]
    good = cli.ok("verify")
    assert good["ok"] and good["records"] > 0
    with sqlite3.connect(cli.home / "hefa.db") as connection:
        version, sha, officer = connection.execute(
            "SELECT v.id, v.sha256, o.id FROM documentversion v, officer o WHERE v.matter_id = ? AND o.name = 'li'",
            (matter,)).fetchone()
        connection.execute("INSERT INTO legalopinion (matter_id, version_id, version_sha256, conclusion, reasons, "
                           "officer_id, recorded_at) VALUES (?, ?, ?, 'lawful', '合法', ?, '2026-12-01 00:00:00')",
                           (matter, version, sha, officer))
    done = cli.run("verify")
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.count("\n") == 1 and "legalopinion" in done.stderr and "inserted" in done.stderr
    as_json = json.loads(cli.run("verify", "--json").stdout)
    assert as_json["accepted"] is False and "legalopinion" in as_json["reason"]


def test_records_written_before_record_hashes_are_sealed_by_the_upgrade(sqlite_home: Path) -> None:
    """A database at revision 0004 with an officer and its event: upgrading seals the officer in a
    ``records-sealed`` system event, so verify passes, and an edit after the upgrade is found."""
    from alembic import command
    from alembic.config import Config

    from hefa.review.records import db

    eng = db.engine_for(f"sqlite:///{sqlite_home / 'hefa.db'}")
    config = Config()
    config.set_main_option("script_location", str(db.MIGRATIONS))
    with eng.connect() as connection:
        connection = connection.execution_options(hefa_write=True)
        with connection.begin():
            config.attributes["connection"] = connection
            command.upgrade(config, "0004_front_door")
    payload = "{}"
    fields = {"seq": 1, "at": "2026-01-01T00:00:00.000000+00:00", "officer": "admin", "role": "admin",
              "action": "officer-bootstrap", "matter_id": "", "outcome": "accepted", "reason": "", "doc_sha256": "",
              "channel": "system", "payload_digest": hashlib.sha256(payload.encode()).hexdigest(),
              "prev_hash": audit.GENESIS}
    with eng.begin() as connection:
        connection.execute(text(
            "INSERT INTO officer (name, roles, organ, token_salt, token_hash, totp_secret_enc, totp_last_counter, "
            "disabled, failed_count, created_at, password_hash) VALUES ('admin', 'admin', '', 's', 'h', 'e', 0, 0, 0, "
            "'2026-01-01 00:00:00.000000', '')"))
        connection.execute(text(
            "INSERT INTO auditevent (seq, at, officer, role, action, matter_id, outcome, reason, doc_sha256, channel, "
            "payload, payload_digest, prev_hash, hash) VALUES (:seq, :at, :officer, :role, :action, :matter_id, "
            ":outcome, :reason, :doc_sha256, :channel, :payload, :payload_digest, :prev_hash, :hash)"),
            fields | {"payload": payload, "hash": audit.event_hash(fields)})
    db.dispose_all()
    assert _verify() is None  # read_session brought the schema to head, sealing the officer
    with read_session() as session:
        sealed = session.connection().execute(text("SELECT payload FROM auditevent WHERE action = 'records-sealed'"))
        assert [json.loads(p)["_records"][0][:2] for (p,) in sealed] == [["officer", "1"]]
    _sql("UPDATE officer SET roles = 'admin,head'")
    found = _verify()
    assert found is not None and "officer id 1" in found


@pytest.mark.postgres
def test_hefa_verify_on_postgresql_names_an_edited_version_row(pg_database: str, tmp_path: Path) -> None:
    """The CLI as a real process on PostgreSQL: init (keyed chain), a matter, its document
    version's row edited by hand, and ``hefa verify`` names the row and its event, exit 2."""
    from sqlalchemy import create_engine

    pg = Cli(tmp_path / "home")
    pg.env["HEFA_DATABASE_URL"] = pg_database
    init = pg.ok("init")
    assert init["chain_keyed_from"]
    pg.tokens["admin"] = init["token"]
    for name, role in [("zhang", "drafter"), ("li", "counsel")]:
        pg.tokens[name] = pg.ok("officer", "add", name, "--role", role, "--organ", "河东镇人民政府",
                                who="admin")["token"]
    matter = pg.ok("submit", _file(tmp_path, "d.docx", CLEAN), "--kind", "normative-document",
                   "--title", "关于加强乡村治理的若干规定", who="zhang")["matter"]
    assert pg.ok("verify")["ok"]
    engine_ = create_engine(pg_database.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine_.begin() as connection:
            event = connection.execute(text("SELECT max(seq) FROM auditevent WHERE action = 'submit'")).scalar()
            connection.execute(text("UPDATE documentversion SET filename = 'other.docx' WHERE matter_id = :m"),
                               {"m": matter})
    finally:
        engine_.dispose()
    done = pg.run("verify")
    assert done.returncode == 2 and "Traceback" not in done.stderr and done.stderr.count("\n") == 1, done.stderr
    assert "documentversion id 1" in done.stderr and f"event {event}" in done.stderr
