"""The Prefect UI and API behind the front door: sessions, the role allow list, and the
resume form answered by hefa.

- Every request needs a live session (else the sign-in page; the API answers 401).
- Officers may read runs, flows, logs, artifacts, deployments and the form a run waits
  with; they may not read what a form received (``…-response`` inputs, ``input/filter``),
  set states, or create, change or delete anything. The allow list is ``OFFICER_ALLOWED``
  (listed in SECURITY.md). Admins may do more; every admin call outside the list is audited.
- ``POST /api/flow_runs/{id}/resume`` never reaches Prefect with what the officer typed: the
  input goes to the step service with the signed-in officer's identity, is recorded or
  refused in one transaction, and the run is woken as a CLI step wakes it. The answer is
  Prefect's own shape: ``{"status": "ACCEPT"|"REJECT", "details": {"reason": …}}``.
- The proxy adds the Prefect server's auth string itself: people never see it.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
from typing import Any

import httpx
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket

from hefa.review.people.web_sessions import SignedIn, who
from hefa.web.access import COOKIE, same_origin, to_sign_in

_ID = r"[0-9a-fA-F-]{36}"
_READ_RESOURCES = r"(flow_runs|task_runs|flows|deployments|artifacts|artifacts/latest|logs|work_pools|work_queues" \
                  r"|flow_run_states|task_run_states|events|automations|concurrency_limits|saved_searches" \
                  r"|ui/flow_runs|ui/task_runs|ui/flows|ui/task_runs/dashboard|work_pools/[^/]+/queues" \
                  r"|work_pools/[^/]+/workers|v2/concurrency_limits)"
# (method, path pattern): what a signed-in officer may ask Prefect for. Reads only.
OFFICER_ALLOWED: list[tuple[str, re.Pattern[str]]] = [(m, re.compile(p)) for m, p in [
    ("POST", rf"^/api/{_READ_RESOURCES}/(filter|count|paginate|history|count-deployments|next-runs|counts)$"),
    ("POST", r"^/api/ui/flow_runs/count-task-runs$"),
    ("POST", r"^/api/ui/schemas/validate$"),
    ("GET", r"^/api/(health|version|ready|csrf-token)$"),
    ("GET", r"^/api/admin/version$"),
    ("GET", rf"^/api/(flow_runs|task_runs|flows|deployments|artifacts|work_pools|work_queues|flow_run_states|"
            rf"task_run_states|logs)/{_ID}$"),
    ("GET", r"^/api/flow_runs/[0-9a-fA-F-]{36}/(graph|graph-v2)$"),
    ("GET", r"^/api/flow_run_states/?$"),
    ("GET", r"^/api/task_run_states/?$"),
    ("GET", r"^/api/artifacts/[^/]+/latest$"),
    ("GET", r"^/api/flows/name/[^/]+$"),
    ("GET", r"^/api/deployments/name/[^/]+/[^/]+$"),
    ("GET", r"^/api/work_pools/[^/]+$"),
    # the form a run waits with: its schema and description, never what was typed (…-response)
    ("GET", rf"^/api/flow_runs/{_ID}/input/[A-Za-z0-9_-]+-(schema|description)$"),
]]
RESUME = re.compile(rf"^/api/flow_runs/(?P<run>{_ID})/resume$")
HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
       "transfer-encoding", "upgrade", "host", "cookie", "authorization", "content-length", "origin", "referer"}
DENIED = "无权执行此操作 / not allowed for your role"


def officer_may(method: str, path: str) -> bool:
    """Whether a non-admin officer may send this request to Prefect."""
    return any(m == method and p.match(path) for m, p in OFFICER_ALLOWED)


def reject(reason: str) -> JSONResponse:
    """Prefect's own answer to a refused resume: the UI shows the reason and keeps the dialog open."""
    return JSONResponse({"status": "REJECT", "details": {"reason": reason}, "state": None})


class PrefectProxy:
    """The Prefect server behind the door (``prefect_url`` without ``/api``)."""

    def __init__(self, prefect_url: str, auth_string: str | None = None) -> None:
        self.base = prefect_url.rstrip("/").removesuffix("/api")
        self.auth = ("Basic " + base64.b64encode(auth_string.encode()).decode()) if auth_string else None
        self.client = httpx.AsyncClient(base_url=self.base, timeout=30.0)

    async def close(self) -> None:
        await self.client.aclose()

    def _headers(self, request_headers: Any) -> dict[str, str]:
        headers = {k: v for k, v in request_headers.items() if k.lower() not in HOP}
        if self.auth:
            headers["Authorization"] = self.auth
        return headers

    def wrap(self, pages: ASGIApp) -> ASGIApp:
        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            path = scope.get("path", "")
            if scope["type"] == "lifespan" or path == "/hefa" or path.startswith("/hefa/"):
                await pages(scope, receive, send)
            elif scope["type"] == "websocket":
                await self.websocket(WebSocket(scope, receive, send))
            else:
                response = await self.http(Request(scope, receive))
                await response(scope, receive, send)
        return app

    # --- HTTP --------------------------------------------------------------------------------
    async def http(self, request: Request) -> Response:
        me = await run_in_threadpool(who, request.cookies.get(COOKIE))
        if me is None:
            return to_sign_in(request)
        path, method = request.url.path, request.method
        if path == "/":
            pass
        if method not in ("GET", "HEAD", "OPTIONS") and not same_origin(request):
            return JSONResponse({"detail": "跨站请求已拒绝 / cross-site request refused"}, status_code=403)
        resume = RESUME.match(path)
        if resume and method == "POST":
            return await self.resume(request, me, resume.group("run"))
        if path.startswith("/api/") and method != "OPTIONS":
            if "admin" in me.roles:
                if not officer_may(method, path) and method != "GET":
                    await run_in_threadpool(_audit_admin, me, method, path)
            elif not officer_may(method, path):
                await run_in_threadpool(_audit_denied, me, method, path)
                return JSONResponse({"detail": DENIED}, status_code=403)
        if path.rstrip("/").endswith("ui-settings"):
            return await self.ui_settings(request)
        return await self.forward(request)

    async def forward(self, request: Request) -> Response:
        body = await request.body()
        upstream = self.client.build_request(request.method, request.url.path, params=request.url.query,
                                             headers=self._headers(request.headers), content=body)
        response = await self.client.send(upstream, stream=True)
        headers = {k: v for k, v in response.headers.items()
                   if k.lower() not in HOP and k.lower() not in ("content-encoding", "set-cookie")}

        async def chunks():  # type: ignore[no-untyped-def]
            try:
                async for chunk in response.aiter_raw():
                    yield chunk
            finally:
                await response.aclose()

        if "content-encoding" in response.headers:  # decoded by httpx: send it plain
            data = await response.aread()
            await response.aclose()
            return Response(data, status_code=response.status_code, headers=headers)
        return StreamingResponse(chunks(), status_code=response.status_code, headers=headers)

    async def ui_settings(self, request: Request) -> Response:
        """The UI's settings, pointing it at the front door's own ``/api`` and with no auth prompt."""
        response = await self.client.get(request.url.path, headers=self._headers(request.headers))
        settings = response.json()
        settings["api_url"] = f"{request.url.scheme}://{request.headers.get('host', request.url.netloc)}/api"
        settings["auth"] = None
        return JSONResponse(settings, status_code=response.status_code)

    # --- the resume form, answered by hefa -------------------------------------------------------
    async def resume(self, request: Request, me: SignedIn, run_id: str) -> Response:
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            return reject("表单内容不是有效的 JSON / malformed request")
        run_input = body.get("run_input") if isinstance(body, dict) else None
        if not isinstance(run_input, dict):
            return reject("缺少表单内容 / no form input")
        run = await self.client.get(f"/api/flow_runs/{run_id}", headers=self._headers({}))
        if run.status_code != 200:
            return reject("没有此流程 / unknown flow run")
        answer = await run_in_threadpool(answer_form, me, run_id, run.json(), run_input)
        if answer["status"] == "ACCEPT":
            answer["state"] = None
        return JSONResponse(answer)

    # --- websockets ------------------------------------------------------------------------------
    async def websocket(self, ws: WebSocket) -> None:
        import websockets

        me = await run_in_threadpool(who, ws.cookies.get(COOKIE))
        if me is None:
            await ws.close(code=4401)
            return
        path = ws.url.path
        if not (path.startswith("/api/events/") or path.startswith("/api/logs/")) and "admin" not in me.roles:
            await ws.close(code=4403)
            return
        target = self.base.replace("http", "ws", 1) + path + (f"?{ws.url.query}" if ws.url.query else "")
        headers = {"Authorization": self.auth} if self.auth else {}
        protocols = [p.strip() for p in ws.headers.get("sec-websocket-protocol", "").split(",") if p.strip()]
        async with websockets.connect(target, additional_headers=headers,
                                      subprotocols=protocols or None) as upstream:  # type: ignore[arg-type]
            await ws.accept(subprotocol=upstream.subprotocol)

            async def client_to_upstream() -> None:
                while True:
                    message = await ws.receive()
                    if message["type"] == "websocket.disconnect":
                        await upstream.close()
                        return
                    await upstream.send(message.get("text") if message.get("text") is not None
                                        else message.get("bytes") or b"")

            async def upstream_to_client() -> None:
                async for message in upstream:
                    if isinstance(message, str):
                        await ws.send_text(message)
                    else:
                        await ws.send_bytes(message)
                await ws.close()

            tasks = [asyncio.create_task(client_to_upstream()), asyncio.create_task(upstream_to_client())]
            _done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in pending:
                task.cancel()


def _audit_admin(me: SignedIn, method: str, path: str) -> None:
    from hefa.review.people.sign_in import audit_web_action

    audit_web_action(me.name, ",".join(sorted(me.roles)), "prefect-admin", payload={"call": f"{method} {path}"[:300]})


def _audit_denied(me: SignedIn, method: str, path: str) -> None:
    from hefa.review.people.sign_in import audit_web_action

    audit_web_action(me.name, ",".join(sorted(me.roles)), "prefect-call", outcome="refused", reason=DENIED,
                     payload={"call": f"{method} {path}"[:300]})


def answer_form(me: SignedIn, run_id: str, run: dict[str, Any], run_input: dict[str, Any]) -> dict[str, Any]:
    """Turn a resume form into the step it stands for, with the signed-in officer's identity.

    The stage and document version come from the run's wait key (``pause_key``), the matter
    from the run's parameters. Recorded or refused (and audited) in one transaction; an
    accepted step then wakes the run exactly as a CLI step does (a Prefect error leaves the
    step recorded: the outbox and the reconciler wake the run later)."""
    from pydantic import ValidationError

    from hefa.flows import notify
    from hefa.flows.inputs import FORMS, service_kwargs
    from hefa.review.errors import Refused
    from hefa.review.law.rules import Step
    from hefa.review.people.identity import Credentials
    from hefa.review.records import queries
    from hefa.review.records.audit import canonical_json
    from hefa.review.records.wait_label import label_in
    from hefa.review.services import steps

    state = run.get("state") or {}
    matter_id = str((run.get("parameters") or {}).get("matter_id") or "")
    key = str((state.get("state_details") or {}).get("pause_key") or "")
    label = label_in(key) if key else None
    if state.get("type") != "PAUSED" or not matter_id or label is None:
        return {"status": "REJECT", "details": {"reason": "此流程当前不等待表单 / this run is not waiting for a form"}}
    if label.stage not in {s.value for s in FORMS}:
        return {"status": "REJECT", "details": {"reason": "此时不接受表单输入 / no form expected"}}
    step = Step(label.stage)
    model, action = FORMS[step]
    typed_name = str(run_input.get("officer") or "").strip()
    if typed_name and typed_name != me.name:
        return {"status": "REJECT", "details": {"reason": f"表单中的姓名 {typed_name[:64]} 不是登录人员 {me.name}"
                                                          " / the name in the form is not the signed-in officer"}}
    fields = {k: v for k, v in run_input.items() if k not in ("officer", "code")}
    digest = hashlib.sha256(canonical_json({"run": run_id, "key": key, "by": me.name, "input": fields})
                            .encode()).hexdigest()[:32]
    request_id = f"web:{run_id}:{digest}"
    # Identity is the session's: a form that still has name and code fields gets them filled in
    # here (the code is never checked, stored or sent anywhere).
    identity = {"officer": me.name, "code": "000000"} if "officer" in model.model_fields else {}
    try:
        form = model.model_validate({**fields, **identity})
    except ValidationError as exc:
        reason = "表单内容不完整或格式不对 / malformed input: " + "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        steps.refuse_unparsed(me.name, action, matter_id, reason[:500], channel="web", request_id=request_id)
        return {"status": "REJECT", "details": {"reason": reason[:500]}}
    kwargs = service_kwargs(form)
    if step is Step.REVIEW:  # an opinion on the version the form showed: stale if revised since
        view = queries.status_of(matter_id)
        kwargs["version_sha256"] = next((v["sha256"] for v in view["versions"] if v["number"] == label.version),
                                        None)
    try:
        outcome = steps.SERVICES[action](Credentials(me.name, session=me.token), matter_id, channel="web",
                                         request_id=request_id, **kwargs)
    except Refused as exc:
        return {"status": "REJECT", "details": {"reason": str(exc)}}
    try:
        notify.catch_up(matter_id)
    except Exception:  # recorded: the outbox and the reconciler wake the run
        pass
    return {"status": "ACCEPT", "details": {"message": outcome.message, "event": outcome.event_seq}}
