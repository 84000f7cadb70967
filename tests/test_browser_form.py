"""Counsel resumes a matter in the real Prefect UI through the front door, in headless
Chromium: signed in, the Resume dialog shows the Chinese form built from ``OpinionForm`` and
the matter's description (no name, no code), counsel picks the conclusion, submits — and hefa
records the opinion at once as the signed-in officer (channel ``web``). Needs ``apt-get
install chromium fonts-noto-cjk`` and the ``playwright`` package; skipped otherwise."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from tests.conftest import Served, checklist_text, fresh_code, wait_for

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-quic", "--disable-sync"]

if not (Path(CHROMIUM).exists() and importlib.util.find_spec("playwright")):
    pytest.skip("needs /usr/bin/chromium (apt-get install chromium fonts-noto-cjk) and playwright",
                allow_module_level=True)

from hefa.review import vocabulary as vocab  # noqa: E402
from tests.flows_e2e import (  # noqa: E402  (after the skip: it needs nothing the browser needs)
    PASSWORD,
    Env,
    Matter,
    front_door,
    latest_artifact,
    refused,
    resume_form,
    settle,
    trail,
    wait_paused,
)


def confirm_controls(env: Env, matter: Matter) -> None:
    """Counsel confirms the drafter's controls (确认适用程序) at the front door, when the kind asks."""
    if matter.label().startswith("controls-"):
        answer = resume_form(env.served, env.office, matter.team["counsel"], matter.run_id,
                             {"flags": "", "reason": "不涉及附加程序 / no further controls"})
        assert answer["status"] == "ACCEPT", answer
        settle(matter)


@pytest.fixture
def env(served_env: Served, tmp_path: Path) -> Env:
    from tests.conftest import served_office

    return Env(served_env, served_office(served_env), tmp_path)


def _screenshot_path(tmp_path: Path, name: str) -> Path:
    folder = Path(os.environ.get("HEFA_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


def test_counsel_gives_the_opinion_in_the_prefect_ui(env: Env, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    from tests.conftest import WITH_FINE

    matter = env.submit("normative-document", "browser", data=WITH_FINE)
    confirm_controls(env, matter)
    assert matter.label() == "review-v1"
    findings = matter.status()["findings"]
    assert findings
    counsel = matter.team["counsel"]
    front_door(env.served, env.office, counsel)  # the first sign-in sets counsel's password
    ui = f"http://127.0.0.1:{env.served.env['HEFA_WEB_PORT']}"  # the one address people use
    reasons = "第二条的罚款已有上位法依据，表述照录上位法，不属于新设处罚；同意提交审议。"

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1100}, locale="zh-CN")
            page.goto(f"{ui}/runs/flow-run/{matter.run_id}")
            page.fill("#name", counsel)
            page.fill("#password", PASSWORD)
            page.fill("#code", fresh_code(env.office, counsel))
            page.click("button[type=submit]")
            page.get_by_role("button", name="Resume").click()
            dialog = page.locator(".p-modal__card")
            expect(dialog).to_contain_text("Resume Flow Run", timeout=30_000)
            # the description above the form: the matter, its version and the findings table
            expect(dialog).to_contain_text(matter.id)
            expect(dialog).to_contain_text("预审提示")
            expect(dialog.locator("table")).to_contain_text(findings[0]["matched_text"][:6])
            expect(dialog.locator("table")).to_contain_text("设定行政处罚")
            for label in ("所审文稿版本", "审查结论", "审查意见和理由"):  # version filled in: 1
                expect(dialog.locator(".schema-form-property__label", has_text=label)).to_be_visible()
            for label in ("办理人员姓名", "动态码"):  # the form asks for no name and no code
                expect(dialog.locator(".schema-form-property__label", has_text=label)).to_have_count(0)

            def field(label: str):  # type: ignore[no-untyped-def]
                return dialog.locator(".schema-form-property").filter(
                    has=page.locator(".schema-form-property__label", has_text=label))

            select = field("审查结论").locator(".p-select-button__control")
            select.focus()
            page.keyboard.press("Space")
            page.get_by_role("option", name=vocab.CONCLUSION.term("lawful").label).click()
            expect(select).to_contain_text("合法，同意提交审议")
            field("审查意见和理由").locator("textarea").fill(reasons)
            if field("逐项审查结果").count():
                field("逐项审查结果").locator("textarea").fill(checklist_text(matter.kind))
            field("逐项审查结果").locator("textarea").fill(checklist_text("normative-document"))
            shot = _screenshot_path(tmp_path, "resume-form.png")
            page.screenshot(path=str(shot), full_page=True)
            dialog.get_by_role("button", name="Submit").click()

            # hefa records the opinion at once, as the signed-in officer; then the run moves on
            wait_for(lambda: matter.status()["opinions"], 15, 0.2, "the opinion")
            view = matter.status()
            assert [o["conclusion"] for o in view["opinions"]] == ["lawful"]
            assert view["opinions"][0]["counsel"] == counsel
            assert view["opinions"][0]["reasons"] == reasons
            opinion = [e for e in trail(matter) if e["action"] == "opinion"]
            assert [(e["outcome"], e["channel"]) for e in opinion] == [("accepted", "web")]
            assert not refused(matter, "opinion")
            matter.key = wait_paused(matter, after=matter.key)
            assert matter.key.startswith("deliberation-v1-")

            # the audit trail is listed among the artifacts
            key = f"audit-{matter.id.lower()}"
            assert latest_artifact(key) is not None
            page.goto(f"{ui}/artifacts")
            expect(page.get_by_text(key, exact=True).first).to_be_visible(timeout=30_000)
            page.screenshot(path=str(_screenshot_path(tmp_path, "artifacts.png")), full_page=True)
        finally:
            browser.close()
