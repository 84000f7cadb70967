"""Counsel resumes a matter in the real Prefect UI, in headless Chromium: the Resume dialog
shows the Chinese form built from ``OpinionForm`` and the matter's description, counsel
types their name and a one-time code, picks the conclusion, submits — and hefa records the
opinion (channel ``form``). Needs ``apt-get install chromium fonts-noto-cjk`` and the
``playwright`` package; skipped otherwise."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from tests.conftest import Served, fresh_code, wait_for

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-quic", "--disable-sync"]

if not (Path(CHROMIUM).exists() and importlib.util.find_spec("playwright")):
    pytest.skip("needs /usr/bin/chromium (apt-get install chromium fonts-noto-cjk) and playwright",
                allow_module_level=True)

from hefa.review import vocabulary as vocab  # noqa: E402
from tests.test_flows_e2e import (  # noqa: E402  (after the skip: it needs nothing the browser needs)
    Env,
    latest_artifact,
    refused,
    trail,
    wait_paused,
)


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
    assert matter.label() == "review-v1"
    findings = matter.status()["findings"]
    assert findings
    counsel = matter.team["counsel"]
    ui = env.served.env["PREFECT_API_URL"].removesuffix("/api")
    reasons = "第二条的罚款已有上位法依据，表述照录上位法，不属于新设处罚；同意提交审议。"

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1100}, locale="zh-CN")
            page.goto(f"{ui}/runs/flow-run/{matter.run_id}")
            page.get_by_role("button", name="Resume").click()
            dialog = page.locator(".p-modal__card")
            expect(dialog).to_contain_text("Resume Flow Run")
            # the description above the form: the matter, its version and the findings table
            expect(dialog).to_contain_text(matter.id)
            expect(dialog).to_contain_text("预审提示")
            expect(dialog.locator("table")).to_contain_text(findings[0]["matched_text"][:6])
            expect(dialog.locator("table")).to_contain_text("设定行政处罚")
            for label in ("办理人员姓名", "动态码", "审查结论", "审查意见和理由"):
                expect(dialog.locator(".schema-form-property__label", has_text=label)).to_be_visible()

            def field(label: str):  # type: ignore[no-untyped-def]
                return dialog.locator(".schema-form-property").filter(
                    has=page.locator(".schema-form-property__label", has_text=label))

            field("办理人员姓名").locator("textarea").fill(counsel)
            code = fresh_code(env.office, counsel)
            field("动态码").locator("textarea").fill(code)
            select = field("审查结论").locator(".p-select-button__control")
            select.focus()
            page.keyboard.press("Space")
            page.get_by_role("option", name=vocab.CONCLUSION.term("lawful").label).click()
            expect(select).to_contain_text("合法，同意提交审议")
            field("审查意见和理由").locator("textarea").fill(reasons)
            shot = _screenshot_path(tmp_path, "resume-form.png")
            page.screenshot(path=str(shot), full_page=True)
            dialog.get_by_role("button", name="Submit").click()

            # the flow takes the input: the opinion is recorded, the matter moves to deliberation
            wait_for(lambda: matter.status()["stage"] == "deliberation", 90, 0.5, "the matter to move on")
            view = matter.status()
            assert [o["conclusion"] for o in view["opinions"]] == ["lawful"]
            assert view["opinions"][0]["counsel"] == counsel
            assert view["opinions"][0]["reasons"] == reasons
            opinion = [e for e in trail(matter) if e["action"] == "opinion"]
            assert [(e["outcome"], e["channel"]) for e in opinion] == [("accepted", "form")]
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
