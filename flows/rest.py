"""A light client of Prefect's REST API, standard library only.

The CLI answers a person from the database at once; then it tells Prefect:
``submit`` creates the matter's flow run, and every accepted step wakes the
matter's suspended run so that the flow catches up. Importing ``prefect`` costs
more than a second, so this path never does: it sends two small HTTP calls.

Waking a run: when the run is Suspended (state type PAUSED), propose the state
``Scheduled/Resuming``, as Prefect's own resume does, but without a form input:
the flow replays from the top, finds the step already recorded in ``review/``
and moves on. A run that is not suspended is left alone (it will read the
database before it next suspends). Every step's wake-up is also in the outbox
(``review/records/outbox.py``): ``hefa serve``'s dispatcher (``flows/dispatch.py``)
delivers any the fast path left (a 503 from the server, a race with a suspension in
progress), and its slow sweep (``flows/reconcile.py``) repairs runs that drifted.
"""

from __future__ import annotations

import base64
import json
import os
import time
import urllib.error
import urllib.request
from typing import Any

from hefa.review.config import settings

DEPLOYMENT_NAME = "hefa"
UI_BASE_ENV = "PREFECT_UI_URL"


class PrefectUnavailable(RuntimeError):
    """The Prefect API did not answer (not running, or kept answering 503)."""


def api_url() -> str:
    return os.environ.get("PREFECT_API_URL") or settings().prefect_api_url


def ui_url(flow_run_id: str) -> str:
    """The address of a flow run's page in the Prefect UI."""
    base = os.environ.get(UI_BASE_ENV) or api_url().rstrip("/").removesuffix("/api")
    return f"{base}/runs/flow-run/{flow_run_id}"


def _headers() -> dict[str, str]:
    headers = {"Content-Type": "application/json"}
    auth = os.environ.get("PREFECT_API_AUTH_STRING")
    if auth:
        headers["Authorization"] = "Basic " + base64.b64encode(auth.encode()).decode()
    return headers


def call(method: str, path: str, body: Any = None, *, timeout: float = 5.0,
         attempts: int = 4, base: str | None = None, retry_refused: bool = False) -> Any:
    """One API call, retried with backoff on 503 and connection resets (and on a refused
    connection too with ``retry_refused``, for a server still starting)."""
    data = json.dumps(body).encode("utf-8") if body is not None else None
    url = (base or api_url()).rstrip("/") + path
    delay = 0.1
    for attempt in range(attempts):
        request = urllib.request.Request(url, data=data, method=method, headers=_headers())
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                raw = response.read()
                return json.loads(raw) if raw else None
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            if exc.code not in (503, 502, 500) or attempt == attempts - 1:
                detail = exc.read().decode("utf-8", "replace")[:300]
                raise PrefectUnavailable(f"Prefect API {method} {path}: {exc.code} {detail}") from exc
        except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
            refused = isinstance(getattr(exc, "reason", exc), ConnectionRefusedError) and not retry_refused
            if refused or attempt == attempts - 1:
                raise PrefectUnavailable(f"Prefect API 无法连接 / unreachable at {url}: {exc}") from exc
        time.sleep(delay)
        delay *= 2
    raise PrefectUnavailable(f"Prefect API {method} {path} failed")


def healthy(timeout: float = 1.0) -> bool:
    try:
        call("GET", "/health", timeout=timeout, attempts=1)
        return True
    except PrefectUnavailable:
        return False


def deployment_id(flow_name: str, deployment: str = DEPLOYMENT_NAME) -> str | None:
    from urllib.parse import quote

    found = call("GET", f"/deployments/name/{quote(flow_name, safe='')}/{quote(deployment)}")
    return found["id"] if found else None


def create_matter_run(flow_name: str, matter_id: str, title: str, tags: list[str],
                      idempotency_key: str | None = None) -> str:
    """Create the flow run of a matter from its kind's deployment; returns its id.

    Retried on 503s; the idempotency key (matter id and creation time) makes a retry
    after a lost answer return the same run instead of a second one.
    """
    deployment = deployment_id(flow_name)
    if deployment is None:
        raise PrefectUnavailable(
            f"找不到部署 {flow_name}/{DEPLOYMENT_NAME}：请运行 hefa serve / deployment not served"
        )
    run = call("POST", f"/deployments/{deployment}/create_flow_run", attempts=7, body={
        "name": f"{matter_id} {title}"[:120],
        "parameters": {"matter_id": matter_id},
        "tags": tags,
        "idempotency_key": idempotency_key or f"hefa-matter-{matter_id}",
    })
    return str(run["id"])


def read_run(flow_run_id: str) -> dict[str, Any] | None:
    return call("GET", f"/flow_runs/{flow_run_id}")


def wake(flow_run_id: str) -> bool:
    """Wake a suspended run so it replays and catches up; False if it was not suspended."""
    run = read_run(flow_run_id)
    state = (run or {}).get("state") or {}
    if state.get("type") != "PAUSED":
        return False
    result = call("POST", f"/flow_runs/{flow_run_id}/set_state", {
        "state": {"type": "SCHEDULED", "name": "Resuming", "message": "hefa: step recorded"},
        "force": False,
    })
    return bool(result) and result.get("status") == "ACCEPT"
