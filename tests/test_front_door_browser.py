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

    page.get_by_role("button", name="Resume").click()
    dialog = page.locator(".p-modal__card")
    expect(dialog).to_contain_text("Resume Flow Run", timeout=30_000)

    def field(label: str):  # type: ignore[no-untyped-def]
        return dialog.locator(".schema-form-property").filter(
            has=page.locator(".schema-form-property__label", has_text=label))

    if field("办理人员姓名").count():  # the form still has name and code fields: the door ignores the code
        field("办理人员姓名").locator("textarea").fill(name)
        field("动态码").locator("textarea").fill("000000")
    select = field("审查结论").locator(".p-select-button__control")
    select.focus()
    page.keyboard.press("Space")
    page.get_by_role("option", name=vocab.CONCLUSION.term(conclusion).label).click()
    field("审查意见和理由").locator("textarea").fill(reasons)
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
