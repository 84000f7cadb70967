"""The front door of a real ``hefa serve`` (its Prefect server, its flows), over HTTP:
the Prefect API behind sessions and the role allow list, and resume forms answered by hefa
at once — with the refusal in Prefect's own shape and nothing typed stored in Prefect."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest

from tests.conftest import (
    CLEAN,
    REVISED,
    Served,
    add_team,
    checklist_text,
    fresh_code,
    reset_caches,
    served_installation,
    served_office,
    wait_for,
)

pytestmark = pytest.mark.prefect
PASSWORD = "长江黄河-2026-pass"


@pytest.fixture(scope="module")
def front_served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One served installation for the module: ``hefa serve`` with its front door, on a
    Prefect server that requires the installation's auth string."""
    with served_installation(tmp_path_factory.mktemp("front") / "home") as served:
        yield served


@pytest.fixture
def served_env(front_served: Served, monkeypatch: pytest.MonkeyPatch) -> Served:
    for key in ("HEFA_HOME", "PREFECT_API_URL", "PREFECT_HOME", "PREFECT_API_AUTH_STRING"):
        monkeypatch.setenv(key, front_served.env[key])
    monkeypatch.delenv("HEFA_DATABASE_URL", raising=False)
    reset_caches()
    return front_served


def door(served: Served) -> str:
    return f"http://127.0.0.1:{served.env['HEFA_WEB_PORT']}"


_SIGNED: dict[tuple[str, str], httpx.Client] = {}


def signed_in(served: Served, office: Any, name: str) -> httpx.Client:
    """A browser-like client of ``name``, signed in once (first sign-in sets the password)."""
    if (door(served), name) not in _SIGNED:
        c = httpx.Client(base_url=door(served), timeout=30)
        r = c.post("/hefa/first-sign-in", data={"name": name, "secret": office.tokens[name],
                                                "code": fresh_code(office, name), "password": PASSWORD,
                                                "repeat": PASSWORD})
        assert r.status_code == 303, r.text
        _SIGNED[(door(served), name)] = c
    return _SIGNED[(door(served), name)]


def paused(run_id: str, prefix: str) -> dict[str, Any] | None:
    from hefa.flows.rest import read_run

    state = (read_run(run_id) or {}).get("state") or {}
    key = (state.get("state_details") or {}).get("pause_key") or ""
    return state if state.get("type") == "PAUSED" and key.startswith(prefix) else None


@pytest.fixture
def matter(served_env: Served) -> dict[str, Any]:
    """A matter submitted by a drafter in the browser pages, its run waiting for counsel."""
    office = served_office(served_env)
    team = add_team(office, "fd" + uuid.uuid4().hex[:4])
    drafter = signed_in(served_env, office, team["drafter"])
    r = drafter.post("/hefa/submit", data={"kind": "normative-document", "title": "前门测试规定",
                                           "request_id": "web-" + uuid.uuid4().hex},
                     files={"file": ("draft.docx", CLEAN, "application/octet-stream")})
    assert r.status_code == 303, r.text
    matter_id = r.headers["location"].split("/")[3].split("?")[0]
    from hefa.review.records.queries import status_of

    run_id = wait_for(lambda: status_of(matter_id)["run_id"], what="the run")
    confirm_controls(served_env, office, team, run_id)
    wait_for(lambda: paused(run_id, "review-v1"), timeout=120, what="the review wait")
    return {"id": matter_id, "run": run_id, "team": team, "office": office, "served": served_env}


def confirm_controls(served: Served, office: Any, team: dict[str, str], run_id: str, version: int = 1) -> None:
    """Counsel confirms the drafter's controls (确认适用程序) at the front door when the run waits for it."""
    wait_for(lambda: paused(run_id, f"controls-v{version}") or paused(run_id, f"review-v{version}"), timeout=120,
             what="the first wait")
    if paused(run_id, f"controls-v{version}"):
        wait_for(lambda: _form_stored(run_id), timeout=30, what="the controls form")
        answer = signed_in(served, office, team["counsel"]).post(
            f"/api/flow_runs/{run_id}/resume", json={"run_input": {"flags": "", "reason": "不涉及附加程序"}}).json()
        assert answer["status"] == "ACCEPT", answer


def _form_stored(run_id: str) -> bool:
    from hefa.flows.rest import call

    key = ((paused(run_id, "") or {}).get("state_details") or {}).get("pause_key")
    return bool(key) and call("GET", f"/flow_runs/{run_id}/input/suspended-{key}-schema") is not None


def opinion_input(conclusion: str = "lawful", kind: str = "normative-document") -> dict[str, Any]:
    from hefa.review import vocabulary as vocab

    return {"conclusion": vocab.CONCLUSION.term(conclusion).label, "reasons": "经审查，符合上位法规定。",
            "items": checklist_text(kind)}


def test_no_session_gets_nothing(served_env: Served) -> None:
    c = httpx.Client(base_url=door(served_env), timeout=10)
    assert c.post("/api/flow_runs/filter", json={}).status_code == 401
    r = c.get("/")
    assert r.status_code == 303 and r.headers["location"].startswith("/hefa/sign-in")
    assert c.post(f"/api/flow_runs/{uuid.uuid4()}/resume", json={"run_input": {}}).status_code == 401


def test_a_drafter_reads_runs_but_cannot_read_inputs_set_states_post_artifacts_or_resume_counsel(
        matter: dict[str, Any]) -> None:
    served, run = matter["served"], matter["run"]
    drafter = signed_in(served, matter["office"], matter["team"]["drafter"])
    assert drafter.get(f"/api/flow_runs/{run}").json()["id"] == run
    assert drafter.post("/api/flow_runs/filter", json={"limit": 5}).status_code == 200
    assert drafter.post("/api/artifacts/filter", json={"limit": 5}).status_code == 200
    settings = drafter.get("/ui-settings").json()
    assert settings["api_url"] == door(served) + "/api" and settings["auth"] is None
    for method, path, body in [
        ("POST", f"/api/flow_runs/{run}/input/filter", {"prefix": "suspended"}),
        ("GET", f"/api/flow_runs/{run}/input/suspended-x-response", None),
        ("POST", f"/api/flow_runs/{run}/set_state", {"state": {"type": "COMPLETED"}, "force": True}),
        ("POST", "/api/artifacts/", {"key": f"audit-{matter['id'].lower()}", "type": "table", "data": []}),
        ("DELETE", f"/api/flow_runs/{run}", None),
        ("POST", "/api/automations/", {}),
        ("POST", "/api/block_documents/filter", {}),
    ]:
        r = drafter.request(method, path, json=body)
        assert r.status_code == 403, (method, path, r.status_code)
    answer = drafter.post(f"/api/flow_runs/{run}/resume", json={"run_input": opinion_input()}).json()
    assert answer["status"] == "REJECT", answer
    assert "岗位" in answer["details"]["reason"] or "role" in answer["details"]["reason"]
    assert paused(run, "review-v1")  # still waiting for counsel


def test_counsel_is_answered_at_once_and_prefect_holds_nothing_typed(matter: dict[str, Any]) -> None:
    from hefa.review.records.queries import status_of

    served, run, office, team = matter["served"], matter["run"], matter["office"], matter["team"]
    counsel = signed_in(served, office, team["counsel"])
    # a malformed input: hefa's reason, in Prefect's shape
    bad = counsel.post(f"/api/flow_runs/{run}/resume", json={"run_input": {"conclusion": "合法"}}).json()
    assert bad["status"] == "REJECT" and "malformed" in bad["details"]["reason"]
    answer = counsel.post(f"/api/flow_runs/{run}/resume", json={"run_input": opinion_input("unlawful")}).json()
    assert answer["status"] == "ACCEPT", answer
    view = status_of(matter["id"])
    assert [o["conclusion"] for o in view["opinions"]] == ["unlawful"]  # recorded before the answer came back
    assert view["needs_revision"]
    # the drafter revises in the pages; counsel's stale form (version 1) is refused with its reason
    drafter = signed_in(served, office, team["drafter"])
    wait_for(lambda: paused(run, "revise-v1"), timeout=120, what="the revise wait")
    r = drafter.post(f"/hefa/matters/{matter['id']}/revise", data={"request_id": "web-" + uuid.uuid4().hex},
                     files={"file": ("draft-v2.docx", REVISED, "application/octet-stream")})
    assert r.status_code == 303, r.text
    wait_for(lambda: paused(run, "review-v2"), timeout=120, what="the second review wait")
    ok = counsel.post(f"/api/flow_runs/{run}/resume", json={"run_input": opinion_input("lawful")}).json()
    assert ok["status"] == "ACCEPT", ok
    # Prefect's API holds no flow-run input with anything typed
    from hefa.flows.rest import call

    stored = call("POST", f"/flow_runs/{run}/input/filter", {"prefix": "suspended", "limit": 100}) or []
    assert not [i for i in stored if i["key"].endswith("-response")]
    assert not re.search("经审查", str(stored))


def test_the_prefect_port_does_not_answer_without_the_auth_string(served_env: Served) -> None:
    import base64

    api = served_env.env["PREFECT_API_URL"]
    assert urlparse(api).hostname == "127.0.0.1"
    for method, path in [("POST", "/flow_runs/filter"), ("GET", "/flows/count"), ("POST", "/artifacts/filter"),
                         ("POST", f"/flow_runs/{uuid.uuid4()}/resume")]:
        assert httpx.request(method, api + path, json={}, timeout=30).status_code == 401, path
        wrong = "Basic " + base64.b64encode(b"hefa:guessed").decode()
        assert httpx.request(method, api + path, json={}, headers={"Authorization": wrong},
                             timeout=30).status_code == 401, path
    auth = "Basic " + base64.b64encode(served_env.env["PREFECT_API_AUTH_STRING"].encode()).decode()
    assert httpx.post(api + "/flow_runs/filter", json={"limit": 1}, headers={"Authorization": auth},
                      timeout=30).status_code == 200
    kept = served_env.home / "prefect-auth"
    assert kept.read_text().strip() == served_env.env["PREFECT_API_AUTH_STRING"]
    assert kept.stat().st_mode & 0o777 == 0o600


def test_live_streams_pass_the_front_door_with_a_session_only(matter: dict[str, Any]) -> None:
    """The UI's websockets: through the door the upstream handshake (the auth string, added by the
    door) succeeds; without a session, or on a stream officers may not use, the socket closes."""
    import json

    from websockets.exceptions import ConnectionClosed, InvalidStatus
    from websockets.sync.client import connect

    served = matter["served"]
    drafter = signed_in(served, matter["office"], matter["team"]["drafter"])
    cookie = "hefa_session=" + drafter.cookies["hefa_session"]
    ws_base = door(served).replace("http", "ws", 1)
    for path in ("/api/events/out", "/api/logs/out"):
        with connect(ws_base + path, additional_headers={"Cookie": cookie}, subprotocols=["prefect"],
                     open_timeout=30) as ws:
            ws.send(json.dumps({"type": "auth", "token": None}))  # the browser holds no auth string
            assert json.loads(ws.recv(timeout=30)) == {"type": "auth_success"}, path
    for path, headers in [("/api/events/out", {}), ("/api/events/in", {"Cookie": cookie})]:
        try:
            with connect(ws_base + path, additional_headers=headers, subprotocols=["prefect"],
                         open_timeout=30) as ws:
                ws.send(json.dumps({"type": "auth", "token": None}))
                ws.recv(timeout=30)
            raise AssertionError(f"{path} should be closed")
        except (ConnectionClosed, InvalidStatus):
            pass
