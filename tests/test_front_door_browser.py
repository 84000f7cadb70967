"""Through the front door in headless Chromium, on a real ``hefa serve``: sign-in refusals, the
Prefect UI behind the session, a wrong-role resume answered by hefa with its reason in the dialog
(the run keeps waiting), and counsel's opinion recorded at once."""

from __future__ import annotations

import importlib.util
import re
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CLEAN, add_team, fresh_code, served_office, wait_for
from tests.test_front_door_served import (  # noqa: F401  (fixtures)
    PASSWORD,
    door,
    front_served,
    paused,
    served_env,
    signed_in,
)

pytestmark = [pytest.mark.browser, pytest.mark.prefect]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-quic", "--disable-sync"]
if not (Path(CHROMIUM).exists() and importlib.util.find_spec("playwright")):
    pytest.skip("needs /usr/bin/chromium and playwright", allow_module_level=True)


def _sign_in(page: Any, office: Any, name: str, *, password: str = PASSWORD, code: str | None = None) -> None:
    page.fill("#name", name)
    page.fill("#password", password)
    page.fill("#code", code or fresh_code(office, name))
    page.click("button[type=submit]")


def _resume(page: Any, name: str, conclusion: str, reasons: str) -> Any:
    from playwright.sync_api import expect

    from hefa.review import vocabulary as vocab

    # 60 s: under heavy load (two hefa demo runs beside the test) the UI's click took over 30 s to settle
    page.get_by_role("button", name="Resume").click(timeout=60_000)
    dialog = page.locator(".p-modal__card")
    expect(dialog).to_contain_text("Resume Flow Run", timeout=30_000)

    def field(label: str):  # type: ignore[no-untyped-def]
        return dialog.locator(".schema-form-property").filter(
            has=page.locator(".schema-form-property__label", has_text=label))

    assert not field("办理人员姓名").count() and not field("动态码").count()  # who answers is the session's
    select = field("审查结论").locator(".p-select-button__control")
    select.focus()
    page.keyboard.press("Space")
    page.get_by_role("option", name=vocab.CONCLUSION.term(conclusion).label).click()
    field("审查意见和理由").locator("textarea").fill(reasons)
    if field("逐项审查结果").count():
        from tests.conftest import checklist_text

        field("逐项审查结果").locator("textarea").fill(checklist_text("normative-document"))
    dialog.get_by_role("button", name="Submit").click()
    return dialog


def test_sign_in_and_resume_through_the_front_door(served_env: Any, tmp_path: Path) -> None:  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    from hefa.review.records.queries import status_of

    office = served_office(served_env)
    team = add_team(office, "br" + uuid.uuid4().hex[:4])
    drafter_http = signed_in(served_env, office, team["drafter"])  # sets the drafter's password
    signed_in(served_env, office, team["counsel"])  # and counsel's
    r = drafter_http.post("/hefa/submit", data={"kind": "normative-document", "title": "浏览器前门测试",
                                                "request_id": "web-" + uuid.uuid4().hex},
                          files={"file": ("draft.docx", CLEAN, "application/octet-stream")})
    matter_id = r.headers["location"].split("/")[3].split("?")[0]
    run_id = wait_for(lambda: status_of(matter_id)["run_id"], what="the run")
    from tests.test_front_door_served import confirm_controls

    confirm_controls(served_env, office, team, run_id)
    wait_for(lambda: paused(run_id, "review-v1"), timeout=120, what="the review wait")
    base = door(served_env)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            # not signed in: the run page sends the drafter to the sign-in page
            page = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000}).new_page()
            page.goto(f"{base}/runs/flow-run/{run_id}")
            expect(page).to_have_url(re.compile(r"/hefa/sign-in\?next="))
            _sign_in(page, office, team["drafter"], password="not-the-password", code="000000")
            expect(page.locator("#refused")).to_contain_text("身份验证失败")
            _sign_in(page, office, team["drafter"], code="000001")
            expect(page.locator("#refused")).to_contain_text("身份验证失败")
            _sign_in(page, office, team["drafter"])
            expect(page).to_have_url(re.compile(rf"/runs/flow-run/{run_id}"), timeout=30_000)
            # the drafter tries counsel's step: hefa's reason in the dialog, the run keeps waiting
            dialog = _resume(page, team["drafter"], "lawful", "自己审自己")
            expect(page.get_by_text(re.compile("不能办理此步骤")).first).to_be_visible(timeout=30_000)
            expect(dialog).to_be_visible()
            page.screenshot(path=str(tmp_path / "refused.png"), full_page=True)
            assert paused(run_id, "review-v1") and not status_of(matter_id)["opinions"]

            # counsel, in another browser: the opinion is recorded at once
            page = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000}).new_page()
            page.goto(f"{base}/runs/flow-run/{run_id}")
            _sign_in(page, office, team["counsel"])
            expect(page).to_have_url(re.compile(rf"/runs/flow-run/{run_id}"), timeout=30_000)
            _resume(page, team["counsel"], "lawful", "经审查，符合上位法规定。")
            wait_for(lambda: status_of(matter_id)["opinions"], timeout=10, what="the opinion")
            assert status_of(matter_id)["opinions"][0]["counsel"] == team["counsel"]
            page.screenshot(path=str(tmp_path / "accepted.png"), full_page=True)
        finally:
            browser.close()


# --- issue 12's browser stories, on this module's one served installation ----------------------

def _context(browser: Any) -> Any:
    return browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000}, accept_downloads=True)


def _refused_text(page: Any) -> str:
    return page.locator("#refused").inner_text(timeout=30_000)


def test_sign_in_refusals_wrong_password_wrong_code_replayed_code_and_lockout(served_env: Any) -> None:  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    office = served_office(served_env)
    team = add_team(office, "si" + uuid.uuid4().hex[:4])
    for role in ("counsel", "assessor"):
        signed_in(served_env, office, team[role])  # first sign-in: passwords set
    base = door(served_env)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = _context(browser).new_page()
            page.goto(f"{base}/hefa/sign-in")
            # a valid code with the wrong password is refused and does not spend the code
            code = fresh_code(office, team["counsel"])
            _sign_in(page, office, team["counsel"], password="wrong-password-1", code=code)
            assert "身份验证失败" in _refused_text(page)
            _sign_in(page, office, team["counsel"], code="000000")
            assert "身份验证失败" in _refused_text(page)
            _sign_in(page, office, team["counsel"], code=code)
            expect(page).to_have_url(re.compile(r"/hefa/$"), timeout=30_000)
            other = _context(browser).new_page()  # the same code again, from another browser
            other.goto(f"{base}/hefa/sign-in")
            _sign_in(other, office, team["counsel"], code=code)
            assert "已使用过" in _refused_text(other)
            # five failures lock the assessor: then even the right password and code are refused
            locked = _context(browser).new_page()
            locked.goto(f"{base}/hefa/sign-in")
            for _ in range(5):  # (a made-up code too: the failures count either way, no code is spent)
                _sign_in(locked, office, team["assessor"], password="not-the-password", code="000000")
                assert "身份验证失败" in _refused_text(locked) or "锁定" in _refused_text(locked)
            _sign_in(locked, office, team["assessor"])
            assert "账户已锁定" in _refused_text(locked)
        finally:
            browser.close()
    from sqlalchemy import select

    from hefa.review.records.db import read_session
    from hefa.review.records.models import AuditEvent

    with read_session() as session:
        events = list(session.scalars(select(AuditEvent).where(
            AuditEvent.officer.in_([team["counsel"], team["assessor"]]))))  # type: ignore[attr-defined]
    sign_ins = [(e.officer, e.outcome) for e in events if e.action == "sign-in" and e.channel == "web"]
    assert sign_ins.count((team["counsel"], "refused")) == 3 and (team["counsel"], "accepted") in sign_ins
    assert [e.action for e in events if e.action == "officer-locked"] == ["officer-locked"]
    assert all(PASSWORD not in e.payload and "not-the-password" not in e.payload for e in events)


def _open_resume(page: Any) -> Any:
    from playwright.sync_api import expect

    # 60 s: under heavy load (two hefa demo runs beside the test) the UI's click took over 30 s to settle
    page.get_by_role("button", name="Resume").click(timeout=60_000)
    dialog = page.locator(".p-modal__card")
    expect(dialog).to_contain_text("Resume Flow Run", timeout=30_000)
    return dialog


def _field(page: Any, dialog: Any, label: str) -> Any:
    return dialog.locator(".schema-form-property").filter(
        has=page.locator(".schema-form-property__label", has_text=label))


def _opinion_in_dialog(page: Any, kind: str, conclusion: str, reasons: str, *, version: int | None = None) -> Any:
    from hefa.review import vocabulary as vocab
    from tests.conftest import checklist_text

    dialog = _open_resume(page)
    if version is not None:
        _field(page, dialog, "所审文稿版本").locator("input").fill(str(version))
    select = _field(page, dialog, "审查结论").locator(".p-select-button__control")
    select.focus()
    page.keyboard.press("Space")
    page.get_by_role("option", name=vocab.CONCLUSION.term(conclusion).label).click()
    _field(page, dialog, "审查意见和理由").locator("textarea").fill(reasons)
    if _field(page, dialog, "逐项审查结果").count():
        _field(page, dialog, "逐项审查结果").locator("textarea").fill(checklist_text(kind))
    dialog.get_by_role("button", name="Submit").click()
    return dialog


def _fetch(page: Any, method: str, path: str, body: Any = None) -> int:
    """A call from the signed-in page's own JavaScript (its cookie, its origin): the status."""
    return int(page.evaluate(
        """async ([method, path, body]) => (await fetch(path, {method, headers: {'Content-Type': 'application/json'},
              body: body === null ? undefined : JSON.stringify(body)})).status""", [method, path, body]))


def test_a_review_in_the_browser_drafter_counsel_refusals_download_and_nothing_typed_in_prefect(
        served_env: Any, tmp_path: Path) -> None:  # noqa: F811
    import hashlib

    from playwright.sync_api import expect, sync_playwright
    from sqlalchemy import select

    from hefa.review.documents.generated import documents_of
    from hefa.review.records.db import read_session
    from hefa.review.records.models import AuditEvent
    from hefa.review.records.queries import status_of
    from tests.conftest import REVISED
    from tests.test_front_door_served import confirm_controls

    office = served_office(served_env)
    team = add_team(office, "wr" + uuid.uuid4().hex[:4])
    for role in ("drafter", "counsel", "filing_officer"):
        signed_in(served_env, office, team[role])
    base = door(served_env)
    kind = "normative-document"
    first_reasons = "第二条设定罚款，规范性文件不得设定行政处罚。" + uuid.uuid4().hex[:6]
    second_reasons = "修改稿已删除罚款条款，内容合法。" + uuid.uuid4().hex[:6]
    stale_reasons = "对旧版本的意见" + uuid.uuid4().hex[:6]
    draft, revised = tmp_path / "草稿.docx", tmp_path / "修改稿.docx"
    draft.write_bytes(CLEAN)
    revised.write_bytes(REVISED)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            # the drafter submits in the browser
            drafter = _context(browser).new_page()
            drafter.goto(f"{base}/hefa/submit")
            _sign_in(drafter, office, team["drafter"])
            expect(drafter).to_have_url(re.compile(r"/hefa/submit"), timeout=30_000)
            drafter.select_option("#kind", kind)
            drafter.fill("#title", "浏览器全程审查规定")
            drafter.set_input_files("#file", str(draft))
            drafter.get_by_role("button", name="提交 / submit", exact=True).click()
            expect(drafter).to_have_url(re.compile(r"/hefa/matters/"), timeout=60_000)
            matter_id = drafter.url.split("/hefa/matters/")[1].split("?")[0]
            run_id = wait_for(lambda: status_of(matter_id)["run_id"], what="the run")
            confirm_controls(served_env, office, team, run_id)
            wait_for(lambda: paused(run_id, "review-v1"), timeout=120, what="the review wait")

            # adversarial: the signed-in drafter's own page cannot read inputs, set a state, post an
            # artifact or answer counsel's step; a page with no session gets nothing
            drafter.goto(f"{base}/runs/flow-run/{run_id}")
            assert _fetch(drafter, "POST", f"/api/flow_runs/{run_id}/input/filter", {"prefix": "suspended"}) == 403
            assert _fetch(drafter, "GET", f"/api/flow_runs/{run_id}/input/suspended-x-response") == 403
            assert _fetch(drafter, "POST", f"/api/flow_runs/{run_id}/set_state",
                          {"state": {"type": "COMPLETED"}, "force": True}) == 403
            assert _fetch(drafter, "POST", "/api/artifacts/",
                          {"key": f"audit-{matter_id.lower()}", "type": "table", "data": []}) == 403
            assert _fetch(drafter, "POST", "/api/flow_runs/filter", {"limit": 1}) == 200
            nobody = _context(browser).new_page()
            nobody.goto(f"{base}/hefa/sign-in")
            assert _fetch(nobody, "POST", "/api/flow_runs/filter", {"limit": 1}) == 401
            assert _fetch(nobody, "GET", f"/api/flow_runs/{run_id}") == 401
            # the drafter tries counsel's step in the form: hefa's reason in the dialog, still waiting
            dialog = _opinion_in_dialog(drafter, kind, "lawful", "自己审自己")
            expect(drafter.get_by_text(re.compile("不能办理此步骤|岗位|role")).first).to_be_visible(timeout=30_000)
            expect(dialog).to_be_visible()
            assert paused(run_id, "review-v1") and not status_of(matter_id)["opinions"]

            # counsel gives an unlawful opinion in the form: recorded at once
            counsel = _context(browser).new_page()
            counsel.goto(f"{base}/runs/flow-run/{run_id}")
            _sign_in(counsel, office, team["counsel"])
            expect(counsel).to_have_url(re.compile(rf"/runs/flow-run/{run_id}"), timeout=30_000)
            _opinion_in_dialog(counsel, kind, "unlawful", first_reasons)
            wait_for(lambda: status_of(matter_id)["opinions"], timeout=10, what="the opinion, at once")
            view = status_of(matter_id)
            assert [(o["conclusion"], o["counsel"]) for o in view["opinions"]] == [("unlawful", team["counsel"])]

            # the drafter revises in the browser
            wait_for(lambda: paused(run_id, "revise-v1"), timeout=120, what="the revise wait")
            drafter.goto(f"{base}/hefa/matters/{matter_id}")
            drafter.set_input_files("#file", str(revised))
            drafter.get_by_role("button", name="提交修改稿 / submit revision").click()
            expect(drafter.locator("body")).to_contain_text("第 2 版", timeout=30_000)
            confirm_controls(served_env, office, team, run_id, version=2)
            wait_for(lambda: paused(run_id, "review-v2"), timeout=120, what="the second review wait")

            # counsel's opinion on version 1 is stale: hefa's reason in the dialog, still waiting
            counsel.reload()
            dialog = _opinion_in_dialog(counsel, kind, "lawful", stale_reasons, version=1)
            expect(counsel.get_by_text(re.compile("不是现行版本")).first).to_be_visible(timeout=30_000)
            expect(dialog).to_be_visible()
            assert paused(run_id, "review-v2") and len(status_of(matter_id)["opinions"]) == 1
            counsel.reload()
            _opinion_in_dialog(counsel, kind, "lawful", second_reasons)
            wait_for(lambda: len(status_of(matter_id)["opinions"]) == 2, timeout=10, what="the second opinion")
            assert status_of(matter_id)["opinions"][-1]["conclusion"] == "lawful"

            # the filing officer opens the matter's artifact and downloads the legal opinion
            from hefa.flows.rest import call

            def opinion_linked() -> dict[str, Any] | None:
                docs = [d for d in documents_of(matter_id) if d["name"] == "legal_opinion"]
                key = f"matter-{matter_id.lower()}"
                found = call("POST", "/artifacts/filter", {"artifacts": {"key": {"any_": [key]}},
                                                           "sort": "CREATED_DESC", "limit": 1}) or []
                latest = docs[-1] if docs else None
                if latest and found and latest["sha256"] in str(found[0].get("data")):
                    return {"doc": latest, "artifact": found[0]["id"]}
                return None

            linked = wait_for(opinion_linked, timeout=120, what="the legal opinion linked from the artifact")
            filing = _context(browser).new_page()
            filing.goto(f"{base}/artifacts/artifact/{linked['artifact']}")
            _sign_in(filing, office, team["filing_officer"])
            expect(filing).to_have_url(re.compile(r"/artifacts/artifact/"), timeout=30_000)
            link = filing.locator(f"a[href*='{linked['doc']['sha256']}']").first
            expect(link).to_be_visible(timeout=30_000)
            with filing.expect_download(timeout=30_000) as download_info:
                link.click()
            saved = tmp_path / "opinion.docx"
            download_info.value.save_as(saved)
            digest = hashlib.sha256(saved.read_bytes()).hexdigest()
            assert digest == linked["doc"]["sha256"]
            with read_session() as session:
                downloads = list(session.scalars(select(AuditEvent).where(
                    AuditEvent.action == "download", AuditEvent.officer == team["filing_officer"])))
            assert downloads and downloads[-1].doc_sha256 == digest and downloads[-1].matter_id == matter_id
            filing.screenshot(path=str(tmp_path / "artifact.png"), full_page=True)
        finally:
            browser.close()

    # Prefect's database, read as bytes, holds nothing an officer typed in the review
    prefect_files = sorted(Path(served_env.env["PREFECT_HOME"]).glob("prefect.db*"))
    assert prefect_files, "Prefect's SQLite database"
    data = b"".join(f.read_bytes() for f in prefect_files)
    for typed in (first_reasons, second_reasons, stale_reasons, "自己审自己"):
        assert typed.encode() not in data, typed
    assert status_of(matter_id)["opinions"][0]["reasons"] == first_reasons  # hefa has them
