"""The audit chain: any edit of any field of any event, a deletion, a truncation or a
consistent rewrite is found by ``audit.verify`` (with anchors where the chain alone
cannot tell); verifying streams in bounded memory."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from hefa.review.errors import ChainBroken, InvalidInput, Refused
from hefa.review.records import audit
from hefa.review.records.audit import GENESIS, ChainHead, canonical_json, event_hash, verify
from hefa.review.records.db import engine, read_session, write_transaction
from hefa.review.services import steps
from hefa.review.services.steps import Credentials
from tests.conftest import CLEAN, REVISED, Office, checklist_answers, confirm_controls

COLUMNS = ("seq", "at", "officer", "role", "action", "matter_id", "outcome", "reason", "doc_sha256",
           "channel", "payload", "payload_digest", "prev_hash", "hash")
ALL = ", ".join(COLUMNS)


def build_chain(office: Office) -> None:
    """A small chain through real steps: officers, a submit, refusals, an opinion, a revision."""
    matter = steps.submit(office["zhang"], kind="normative-document", title="规定", data=CLEAN,
                          filename="a.docx").matter_id
    with pytest.raises(Refused):
        steps.record_deliberation(office["zhao"], matter, decision="approve", attendees="陈,赵")
    with pytest.raises(Refused):
        steps.record_opinion(Credentials("li", token="wrong"), matter, conclusion="lawful", reasons="x")
    confirm_controls(office, matter)
    steps.record_opinion(office["li"], matter, conclusion="amend", reasons="第二条须修改。\n依据：……",
                         items=checklist_answers(matter))
    steps.revise(office["zhang"], matter, data=REVISED, filename="b.docx")


def rows() -> list[dict[str, Any]]:
    with read_session() as session:
        return [dict(r) for r in session.connection().execute(
            text(f"SELECT {ALL} FROM auditevent ORDER BY seq")).mappings()]


def execute(sql: str, **params: Any) -> None:
    with engine().begin() as conn:
        conn.execute(text(sql), params)


def check(anchors: tuple[ChainHead, ...] = ()) -> audit.VerifyResult:
    with read_session() as session:
        return verify(session, anchors)


def broken_at(anchors: tuple[ChainHead, ...] = ()) -> tuple[int, str]:
    with pytest.raises(ChainBroken) as info:
        check(anchors)
    message = str(info.value)
    found = re.search(r"第 (\d+) 号", message)
    assert found, message
    return int(found.group(1)), message


def altered(column: str, value: Any) -> Any:
    if column == "seq":
        return 1_000_000 + value
    if column in ("prev_hash", "hash", "payload_digest", "doc_sha256"):
        fresh = secrets.token_hex(32)
        return fresh if value != fresh else secrets.token_hex(32)
    if column == "matter_id":
        return "2099-0001" if not value else ""
    if column == "payload":
        return value[:-1] + ',"x":1}' if value not in ("", "{}") else '{"x":1}'
    if column == "at":
        return value.replace(value[:4], str(int(value[:4]) - 1), 1)
    if column == "outcome":
        return "accepted" if value != "accepted" else "refused"
    return (value or "") + "x"


def test_changing_any_field_of_any_event_is_found(office: Office) -> None:
    build_chain(office)
    original = rows()
    assert len(original) >= 12
    assert check().count == len(original)
    for row in original:
        seq = row["seq"]
        for column in COLUMNS:
            new = altered(column, row[column])
            execute(f"UPDATE auditevent SET {column} = :v WHERE seq = :s", v=new, s=seq)
            try:
                where, message = broken_at()
                assert where == seq, f"editing {column} of event {seq} was reported as: {message}"
            finally:
                key = new if column == "seq" else seq
                execute(f"UPDATE auditevent SET {column} = :v WHERE seq = :s", v=row[column], s=key)
        assert check().count == len(original)
    assert rows() == original


def test_each_kind_of_edit_is_named_for_what_it_is(office: Office) -> None:
    build_chain(office)
    execute("UPDATE auditevent SET payload = :p WHERE seq = 3", p='{"name":"mallory"}')
    assert "payload" in broken_at()[1]
    execute("UPDATE auditevent SET payload = (SELECT payload FROM auditevent WHERE seq = 2) WHERE seq = 3")
    execute("UPDATE auditevent SET payload_digest = (SELECT payload_digest FROM auditevent WHERE seq = 2) "
            "WHERE seq = 3")
    # payload and its digest swapped in consistently: the event's hash still catches it
    assert broken_at() == (3, broken_at()[1]) and "hash" in broken_at()[1]


def test_deleting_a_middle_event_is_found(office: Office) -> None:
    build_chain(office)
    total = len(rows())
    middle = total // 2
    execute("DELETE FROM auditevent WHERE seq = :s", s=middle)
    assert broken_at()[0] == middle


def test_deleting_the_first_event_is_found(office: Office) -> None:
    build_chain(office)
    execute("DELETE FROM auditevent WHERE seq = 1")
    assert broken_at()[0] == 1


def test_swapping_two_events_is_found(office: Office) -> None:
    build_chain(office)
    execute("UPDATE auditevent SET seq = -5 WHERE seq = 5")
    execute("UPDATE auditevent SET seq = 5 WHERE seq = 6")
    execute("UPDATE auditevent SET seq = 6 WHERE seq = -5")
    assert broken_at()[0] == 5


def test_a_truncated_chain_passes_alone_but_not_against_an_anchor(office: Office) -> None:
    build_chain(office)
    with read_session() as session:
        anchor = audit.head(session)
    original = rows()
    earlier = ChainHead(original[5]["seq"], original[5]["hash"])
    execute("DELETE FROM auditevent WHERE seq > :s", s=anchor.seq - 3)
    result = check()  # plain verify cannot know
    assert result.count == anchor.seq - 3
    assert check((earlier,)).count == anchor.seq - 3
    where, message = broken_at((anchor,))
    assert where == anchor.seq and "截断" in message


def test_a_consistently_rewritten_chain_passes_alone_but_not_against_an_anchor(office: Office) -> None:
    build_chain(office)
    original = rows()
    with read_session() as session:
        anchor = audit.head(session)
    target = next(r for r in original if r["outcome"] == "refused")
    earlier = ChainHead(target["seq"] - 1, original[target["seq"] - 2]["hash"])
    previous = target["prev_hash"]
    for row in original[target["seq"] - 1:]:
        fields = dict(row)
        if row["seq"] == target["seq"]:
            fields["reason"] = "（已删除）"
        fields["prev_hash"] = previous
        fields["hash"] = event_hash(fields)
        execute("UPDATE auditevent SET reason = :r, prev_hash = :p, hash = :h WHERE seq = :s",
                r=fields["reason"], p=fields["prev_hash"], h=fields["hash"], s=row["seq"])
        previous = fields["hash"]
    assert check().count == len(original)  # internally consistent
    assert check((earlier,)).count == len(original)  # the untouched prefix still matches
    where, message = broken_at((anchor,))
    assert where == anchor.seq and "锚点" in message
    where, _ = broken_at((ChainHead(target["seq"], target["hash"]),))
    assert where == target["seq"]


def test_anchors_parse_and_print() -> None:
    head = ChainHead(12, "ab" * 32)
    assert ChainHead.parse(str(head)) == head
    for bad in ("12", "x:" + "ab" * 32, "12:" + "AB" * 32, "12:" + "ab" * 31):
        with pytest.raises(InvalidInput):
            ChainHead.parse(bad)


def test_an_empty_chain_verifies(hefa_home: Path) -> None:
    result = check()
    assert (result.count, result.head) == (0, ChainHead(0, GENESIS))


def test_verify_streams_in_bounded_memory(sqlite_office: Office) -> None:
    total = 200_000
    start = dt.datetime.now(dt.UTC)  # after the office's events: event time never goes backwards
    payload = canonical_json({"note": "合成事件 synthetic event " + "填" * 300})
    digest = hashlib.sha256(payload.encode("utf-8")).hexdigest()
    with write_transaction() as session:
        head = audit.head(session)
        previous, batch = head.hash, []
        cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
        insert = f"INSERT INTO auditevent ({ALL}) VALUES ({', '.join('?' * len(COLUMNS))})"
        for seq in range(head.seq + 1, head.seq + total + 1):
            fields = {"seq": seq, "at": (start + dt.timedelta(seconds=seq)).isoformat(timespec="microseconds"),
                      "officer": "li", "role": "counsel", "action": "opinion", "matter_id": "",
                      "outcome": "refused", "reason": "合成 " * 40, "doc_sha256": "", "channel": "cli",
                      "payload_digest": digest, "prev_hash": previous}
            fields["hash"] = event_hash(fields)
            fields["payload"] = payload
            batch.append(tuple(fields[c] for c in COLUMNS))
            previous = fields["hash"]
            if len(batch) == 20_000:
                cursor.executemany(insert, batch)
                batch = []
        if batch:
            cursor.executemany(insert, batch)
        session.commit()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        result = check()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.count == head.seq + total
    assert peak < 50 * 1024 * 1024, f"verify peaked at {peak / 2**20:.1f} MiB"


def test_a_separator_smuggled_into_a_field_is_found(office: Office) -> None:
    """Moving text across a field boundary with U+001F keeps the joined text the same: refused."""
    build_chain(office)
    with read_session() as session:
        row = session.connection().execute(text("SELECT officer, role FROM auditevent WHERE seq = 3")).one()
    execute("UPDATE auditevent SET officer = :o, role = :r WHERE seq = 3",
            o=f"{row.officer}\x1f{row.role[:1]}", r=row.role[1:])
    with read_session() as session, pytest.raises(ChainBroken, match="第 3 号"):
        verify(session)


def test_an_event_forged_before_the_first_is_found(office: Office) -> None:
    build_chain(office)
    first = rows()[0]
    matter = next(r["matter_id"] for r in rows() if r["matter_id"])
    forged = {**first, "seq": 0, "action": "opinion", "outcome": "accepted", "officer": "li", "role": "counsel",
              "matter_id": matter, "reason": "", "prev_hash": secrets.token_hex(32), "hash": secrets.token_hex(32)}
    execute(f"INSERT INTO auditevent ({ALL}) VALUES ({', '.join(':' + c for c in COLUMNS)})", **forged)
    with read_session() as session:
        assert next(e.seq for e in audit.events_for(session, matter)) == 0  # the forged event is in the trail
    broken_at()


def test_the_hashed_text_is_pinned() -> None:
    """An event's hash is sha256 (HMAC-SHA256 under a key) of its twelve fields as ``str()``, joined by
    U+001F; ``verify`` builds that text in one step (``audit._JOINED``), so both must agree on any value
    a forged row may hold (None, bytes, numbers), or a stored chain would stop verifying."""
    import hmac

    fields = {"seq": 7, "at": "2026-01-05T01:00:00.000000+00:00", "officer": "李", "role": "counsel",
              "action": "opinion", "matter_id": "", "outcome": "accepted", "reason": "理由 reason",
              "doc_sha256": "ab" * 32, "channel": "cli", "payload_digest": "cd" * 32, "prev_hash": GENESIS}
    joined = "\x1f".join(str(fields[name]) for name in fields)
    key = b"k" * 32
    assert event_hash(fields) == hashlib.sha256(joined.encode("utf-8")).hexdigest()
    assert event_hash(fields, key) == hmac.new(key, joined.encode("utf-8"), hashlib.sha256).hexdigest()
    for row in ((*fields.values(),), (7, None, b"li", 1.5, -3, "", "\x1f", "x", "y", "z", "w", GENESIS)):
        assert audit._JOINED % row == "\x1f".join(map(str, row))
