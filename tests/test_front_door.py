"""The front door at the HTTP level (Starlette's TestClient on the real app and a real
database, SQLite and PostgreSQL): sign-in with password and one-time code, first sign-in,
throttling, lockout, sign-out, expiry; drafters' pages; documents over HTTP; all audited."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from tests.conftest import CLEAN, REVISED, WITH_FINE, Office, checklist_answers, fresh_code

PASSWORD = "长江黄河-2026-pass"


def client() -> TestClient:
    from hefa.web.app import create_app

    return TestClient(create_app(), base_url="http://testserver", follow_redirects=False)


def events(action: str) -> list[object]:
    from hefa.review.records.db import read_session
    from hefa.review.records.models import AuditEvent

    with read_session() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)))


def enrol(office: Office, name: str, c: TestClient | None = None) -> TestClient:
    """First sign-in: initial secret (the token shown once) + code + a new password."""
    c = c or client()
    r = c.post("/hefa/first-sign-in", data={"name": name, "secret": office.tokens[name],
                                            "code": fresh_code(office, name), "password": PASSWORD,
                                            "repeat": PASSWORD})
    assert r.status_code == 303, r.text
    return c


def sign_in(office: Office, name: str, password: str = PASSWORD) -> tuple[TestClient, object]:
    """Sign in; a wrong password is sent with a made-up code (it fails either way)."""
    c = client()
    code = fresh_code(office, name) if password == PASSWORD else "000000"
    r = c.post("/hefa/sign-in", data={"name": name, "password": password, "code": code, "next": "/hefa/"})
    return c, r


def refusal(r: object) -> str:
    found = re.search(r'id="refused">([^<]*)<', r.text)  # type: ignore[attr-defined]
    return found.group(1) if found else ""


def test_first_sign_in_sets_a_password_and_a_strict_http_only_cookie(office: Office) -> None:
    c = client()
    r = c.post("/hefa/first-sign-in", data={"name": "zhang", "secret": office.tokens["zhang"],
                                            "code": fresh_code(office, "zhang"), "password": PASSWORD,
                                            "repeat": PASSWORD})
    assert r.status_code == 303
    cookie = r.headers["set-cookie"]
    assert "hefa_session=" in cookie and "HttpOnly" in cookie
    assert "samesite=strict" in cookie.lower()
    assert "Secure" not in cookie  # plain HTTP here; Secure behind TLS (x-forwarded-proto) below
    assert "我的事项" in c.get("/hefa/").text
    # a second first-sign-in is refused: the password is set
    again = client().post("/hefa/first-sign-in", data={
        "name": "zhang", "secret": office.tokens["zhang"], "code": fresh_code(office, "zhang"),
        "password": PASSWORD + "x", "repeat": PASSWORD + "x"})
    assert again.status_code == 400 and "已设置过密码" in refusal(again)
    assert [e.outcome for e in events("password-set")] == ["accepted", "refused"]  # type: ignore[attr-defined]
    from hefa.review.records.db import read_session
    from hefa.review.records.models import Officer

    with read_session() as session:
        stored = session.scalar(select(Officer).where(Officer.name == "zhang")).password_hash  # type: ignore[union-attr]
    assert stored.startswith("scrypt$") and PASSWORD not in stored


def test_secure_cookie_behind_tls(office: Office) -> None:
    c = client()
    r = c.post("/hefa/first-sign-in", headers={"x-forwarded-proto": "https"}, data={
        "name": "li", "secret": office.tokens["li"], "code": fresh_code(office, "li"),
        "password": PASSWORD, "repeat": PASSWORD})
    assert r.status_code == 303 and "Secure" in r.headers["set-cookie"]


def test_sign_in_refuses_wrong_password_wrong_code_and_replayed_code(office: Office) -> None:
    enrol(office, "li")
    _c, r = sign_in(office, "li", "wrong-password-123")
    assert r.status_code == 401 and "身份验证失败" in refusal(r)
    r = client().post("/hefa/sign-in", data={"name": "li", "password": PASSWORD, "code": "000000"})
    assert r.status_code == 401 and "身份验证失败" in refusal(r)
    code = fresh_code(office, "li")
    ok = client().post("/hefa/sign-in", data={"name": "li", "password": PASSWORD, "code": code})
    assert ok.status_code == 303 and "hefa_session" in ok.headers["set-cookie"]
    replay = client().post("/hefa/sign-in", data={"name": "li", "password": PASSWORD, "code": code})
    assert replay.status_code == 401 and "已使用过" in refusal(replay)
    outcomes = [(e.outcome, e.channel) for e in events("sign-in")]  # type: ignore[attr-defined]
    assert outcomes == [("refused", "web"), ("refused", "web"), ("accepted", "web"), ("refused", "web")]
    assert all(PASSWORD not in e.payload for e in events("sign-in"))  # type: ignore[attr-defined]


def test_lockout_after_repeated_failures_is_audited_and_holds_for_the_right_password(office: Office) -> None:
    enrol(office, "wang")
    for _ in range(5):
        _c, r = sign_in(office, "wang", "not-the-password")
        assert r.status_code == 401
    assert len(events("officer-locked")) == 1
    _c, r = sign_in(office, "wang")
    assert r.status_code == 401 and "账户已锁定" in refusal(r)


def test_client_address_is_throttled_and_audited(office: Office, monkeypatch: pytest.MonkeyPatch) -> None:
    from hefa.web import pages
    from hefa.web.throttle import ClientThrottle

    monkeypatch.setattr(pages, "THROTTLE", ClientThrottle(limit=3, window_seconds=600))
    enrol(office, "zhao")
    for name in ("nobody1", "nobody2", "nobody3"):  # unknown names: no officer lockout, but the address counts
        r = client().post("/hefa/sign-in", data={"name": name, "password": "x" * 12, "code": "123456"})
        assert r.status_code == 401
    # held back before any credential is looked at (a made-up code: the real ones stay unspent)
    r = client().post("/hefa/sign-in", data={"name": "zhao", "password": PASSWORD, "code": "000000"})
    assert r.status_code == 429 and "过于频繁" in refusal(r)
    assert events("sign-in")[-1].reason.startswith("登录尝试过于频繁")  # type: ignore[attr-defined]
    throttled = events("client-throttled")
    assert len(throttled) == 1 and throttled[0].outcome == "refused"  # type: ignore[attr-defined]
    assert '"client":"testclient"' in throttled[0].payload.replace(" ", "")  # type: ignore[attr-defined]
    # another address is not held back, and the officer was never locked by the others' failures
    from hefa.web.app import create_app

    elsewhere = TestClient(create_app(), client=("192.0.2.7", 40000), follow_redirects=False)
    ok = elsewhere.post("/hefa/sign-in",
                        data={"name": "zhao", "password": PASSWORD, "code": fresh_code(office, "zhao")})
    assert ok.status_code == 303, refusal(ok)


def test_behind_a_trusted_proxy_the_forwarded_address_is_throttled(office: Office,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from hefa.web import pages, throttle
    from hefa.web.app import create_app

    monkeypatch.setenv("HEFA_WEB_TRUSTED_PROXIES", "10.9.9.9")
    throttle.front_door_settings.cache_clear()
    monkeypatch.setattr(pages, "THROTTLE", throttle.ClientThrottle(limit=2, window_seconds=600))
    try:
        proxy = TestClient(create_app(), client=("10.9.9.9", 1), follow_redirects=False)
        for _ in range(2):
            r = proxy.post("/hefa/sign-in", data={"name": "nobody", "password": "x" * 12, "code": "123456"},
                           headers={"x-forwarded-for": "198.51.100.1"})
            assert r.status_code == 401
        blocked = proxy.post("/hefa/sign-in", data={"name": "nobody", "password": "x" * 12, "code": "123456"},
                             headers={"x-forwarded-for": "198.51.100.1"})
        assert blocked.status_code == 429
        other = proxy.post("/hefa/sign-in", data={"name": "nobody", "password": "x" * 12, "code": "123456"},
                           headers={"x-forwarded-for": "198.51.100.2"})
        assert other.status_code == 401  # a different person behind the same proxy
        assert '"client":"198.51.100.1"' in events("client-throttled")[-1].payload.replace(" ", "")  # type: ignore[attr-defined]
    finally:
        throttle.front_door_settings.cache_clear()


def test_sign_out_ends_the_session(office: Office) -> None:
    c = enrol(office, "chen")
    assert c.get("/hefa/").status_code == 200
    cookie = c.cookies.get("hefa_session")
    assert c.post("/hefa/sign-out").status_code == 303
    stale = client()
    stale.cookies.set("hefa_session", cookie)
    r = stale.get("/hefa/")
    assert r.status_code == 303 and r.headers["location"].startswith("/hefa/sign-in")
    assert events("sign-out")[-1].officer == "chen"  # type: ignore[attr-defined]


def test_not_signed_in_gets_the_sign_in_page(office: Office) -> None:
    c = client()
    for path in ("/hefa/", "/hefa/submit", "/hefa/matters/2026-0001"):
        r = c.get(path)
        assert r.status_code == 303 and r.headers["location"].startswith("/hefa/sign-in?next=")
    assert c.post("/hefa/submit", files={"file": ("a.docx", CLEAN)}).status_code == 303
    assert "登录" in c.get("/hefa/sign-in").text


def test_an_expired_session_records_nothing_and_does_not_count_toward_lockout(office: Office) -> None:
    from hefa.review.errors import CredentialFailure, CredentialsRefused
    from hefa.review.people.identity import Credentials
    from hefa.review.people.web_sessions import digest
    from hefa.review.records.db import read_session, write_transaction
    from hefa.review.records.models import Officer, WebSession
    from hefa.review.services.steps import SERVICES

    c = enrol(office, "zhou")
    token = c.cookies.get("hefa_session")
    with write_transaction() as session:
        row = session.get(WebSession, digest(token))
        row.last_seen = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)  # type: ignore[union-attr]
        session.add(row)
        session.commit()
    assert c.get("/hefa/").status_code == 303  # idle expiry: back to the sign-in page
    with pytest.raises(CredentialsRefused) as refused:
        SERVICES["submit"](Credentials("zhou", session=token), kind="normative-document", title="过期会话",
                           data=CLEAN, filename="a.docx", channel="web")
    assert refused.value.why is CredentialFailure.EXPIRED
    with read_session() as session:
        assert session.scalar(select(Officer).where(Officer.name == "zhou")).failed_count == 0  # type: ignore[union-attr]


def test_drafter_submits_and_revises_in_pages_with_one_line_refusals(office: Office) -> None:
    from hefa.review.services.steps import SERVICES

    c = enrol(office, "zhang")
    page = c.get("/hefa/submit")
    request_id = re.search(r'name="request_id" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    bad = c.post("/hefa/submit", data={"kind": "normative-document", "title": "坏文件", "request_id": request_id},
                 files={"file": ("draft.doc", b"not a docx")})
    assert bad.status_code == 400 and refusal(bad) and "\n" not in refusal(bad)
    r = c.post("/hefa/submit", data={"kind": "normative-document", "title": "关于罚款的规定",
                                      "request_id": "web-submit-1"},
               files={"file": ("draft.docx", WITH_FINE)})
    assert r.status_code == 303, r.text
    matter_id = r.headers["location"].split("/")[3].split("?")[0]
    again = c.post("/hefa/submit", data={"kind": "normative-document", "title": "关于罚款的规定",
                                          "request_id": "web-submit-1"}, files={"file": ("draft.docx", WITH_FINE)})
    assert again.headers["location"].split("/")[3].split("?")[0] == matter_id  # a retry: the first answer
    home = c.get("/hefa/")
    assert matter_id in home.text and "关于罚款的规定" in home.text
    submitted = [e for e in events("submit") if e.outcome == "accepted"]  # type: ignore[attr-defined]
    assert len(submitted) == 1 and submitted[0].channel == "web" and submitted[0].officer == "zhang"  # type: ignore[attr-defined]
    SERVICES["controls"](office["li"], matter_id, flags=[], reason="不涉及附加程序")  # 确认适用程序
    SERVICES["opinion"](office["li"], matter_id, conclusion="unlawful", reasons="第二条设定罚款，规范性文件不得设定。",
                        items=checklist_answers(matter_id))
    page = c.get(f"/hefa/matters/{matter_id}")
    assert "修改文稿" in page.text
    same = c.post(f"/hefa/matters/{matter_id}/revise", data={"request_id": "web-rev-0"},
                  files={"file": ("draft.docx", WITH_FINE)})
    assert same.status_code == 400 and refusal(same)  # identical to an earlier version
    r = c.post(f"/hefa/matters/{matter_id}/revise", data={"request_id": "web-rev-1"},
               files={"file": ("draft-v2.docx", REVISED)})
    assert r.status_code == 303
    assert "第 2 版" in c.get(f"/hefa/matters/{matter_id}").text


def test_documents_download_scoped_by_role_and_organ_and_audited(office: Office) -> None:
    from hefa.review.documents.generated import documents_of, generate_pending
    from hefa.review.people import officers
    from hefa.review.services.steps import SERVICES

    outcome = SERVICES["submit"](office["zhang"], kind="normative-document", title="关于乡村治理的规定",
                                 data=CLEAN, filename="draft.docx")
    matter_id = outcome.matter_id
    SERVICES["controls"](office["li"], matter_id, flags=[], reason="不涉及附加程序")  # 确认适用程序
    SERVICES["opinion"](office["li"], matter_id, conclusion="lawful", reasons="符合法律规定。",
                        items=checklist_answers(matter_id))
    generate_pending(matter_id)
    opinion = next(d for d in documents_of(matter_id) if d["name"] == "legal_opinion")
    sun = enrol(office, "sun")
    page = sun.get(f"/hefa/matters/{matter_id}")
    link = f"/hefa/matters/{matter_id}/documents/{opinion['sha256']}"
    assert link in page.text
    r = sun.get(link)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert hashlib.sha256(r.content).hexdigest() == opinion["sha256"]
    download = events("download")[-1]
    assert (download.officer, download.doc_sha256, download.matter_id) == ("sun", opinion["sha256"], matter_id)  # type: ignore[attr-defined]
    # the first version too
    version = sun.get(f"/hefa/matters/{matter_id}/documents/{outcome.details['sha256']}")
    assert hashlib.sha256(version.content).hexdigest() == outcome.details["sha256"]
    # another drafter of the same organ, and counsel of another organ, get nothing
    zhou = enrol(office, "zhou")
    assert zhou.get(link).status_code == 404 and zhou.get(f"/hefa/matters/{matter_id}").status_code == 404
    other = officers.add_officer(office["admin"], "he", "counsel", "河西镇人民政府")  # type: ignore[arg-type]
    office.tokens["he"], office.secrets["he"] = other.token, other.totp_secret
    assert enrol(office, "he").get(link).status_code == 404
    assert client().get(link).status_code == 303  # no session: the sign-in page
