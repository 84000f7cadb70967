"""The scheduled overdue scan on a real Prefect server: events once, an artifact for the filing officer."""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path

import pytest

from hefa.review.services import steps
from tests.conftest import CLEAN, Served, checklist_answers, confirm_controls, make_office, reset_caches

pytestmark = pytest.mark.prefect


def _post(api: str, path: str, body: dict) -> object:
    from hefa.flows.rest import _headers  # with the installation's Prefect auth string

    request = urllib.request.Request(api + path, data=json.dumps(body).encode(), method="POST",
                                     headers=_headers())
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_scan_twice_emits_each_warning_once(served: Served, sqlite_home: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    api = served.env["PREFECT_API_URL"]
    monkeypatch.setenv("PREFECT_API_URL", api)
    monkeypatch.setenv("PREFECT_API_AUTH_STRING", served.env["PREFECT_API_AUTH_STRING"])
    monkeypatch.setenv("HEFA_TODAY", "2026-03-02")
    reset_caches()
    sqlite_office = make_office(drill=True)  # only a drill installation honours HEFA_TODAY
    matter = steps.submit(sqlite_office["zhang"], kind="normative-document", title="逾期未备案", data=CLEAN,
                          filename="d.docx").matter_id
    confirm_controls(sqlite_office, matter)  # 确认适用程序 (issue 14)
    steps.record_opinion(sqlite_office["li"], matter, conclusion="lawful", reasons="合法",
                         items=checklist_answers(matter))
    steps.record_deliberation(sqlite_office["zhao"], matter, decision="approve", attendees="chen,zhao",
                              urgent_reason="上级限期出台，缩短审核时间")
    steps.record_signing(sqlite_office["chen"], matter)
    steps.record_issuance(sqlite_office["zhao"], matter, number="河政规〔2026〕9号")
    monkeypatch.setenv("HEFA_TODAY", "2026-04-02")
    reset_caches()

    from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL, temporary_settings

    from hefa.flows.overdue_flow import overdue_scan

    # Prefect's settings may have been read earlier in this process (other tests import it):
    # point this flow at the served server explicitly, never at a temporary one.
    with temporary_settings({PREFECT_API_URL: api, PREFECT_API_AUTH_STRING: served.env["PREFECT_API_AUTH_STRING"]}):
        first = overdue_scan()
        second = overdue_scan()
    assert first["new"] >= 1 and second["new"] == 0

    resource = f"hefa.matter.{matter}"
    events: list = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        page = _post(api, "/events/filter", {"filter": {"event": {"name": ["hefa.matter.overdue"]},
                                                        "resource": {"id": [resource]}}, "limit": 50})
        events = page["events"]  # type: ignore[index]
        if events:
            break
        time.sleep(0.5)
    time.sleep(2)  # a second event, if any, would have arrived by now
    page = _post(api, "/events/filter", {"filter": {"event": {"name": ["hefa.matter.overdue"]},
                                                    "resource": {"id": [resource]}}, "limit": 50})
    events = page["events"]  # type: ignore[index]
    assert len(events) == 1 and events[0]["payload"]["stage"] == "filing"

    artifacts = _post(api, "/artifacts/latest/filter", {"artifacts": {"key": {"any_": ["overdue"]}}})
    assert artifacts and matter in json.dumps(artifacts, ensure_ascii=False)  # type: ignore[arg-type]
