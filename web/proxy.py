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
import logging
import re
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import httpx
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket

from hefa.review.people.web_sessions import SignedIn, who
from hefa.web.access import COOKIE, recently_seen, same_origin, seen, to_sign_in
from hefa.web.upstream import Upstream, UpstreamError, request_target

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
# the live streams the UI may read (reads only: ``/api/events/in`` would let anyone emit events)
OFFICER_STREAMS = frozenset({"/api/events/out", "/api/logs/out"})
RESUME = re.compile(rf"^/api/flow_runs/(?P<run>{_ID})/resume$")
HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
       "transfer-encoding", "upgrade", "host", "cookie", "authorization", "content-length", "origin", "referer",
       "expect"}
# Prefect's answer is relayed with its own Content-Length and Content-Encoding (the bytes are
# passed on untouched); a cookie from upstream never reaches the browser; the front door's
# server writes its own Date and Server.
RELAY_DROP = frozenset(h.encode("latin-1") for h in (HOP - {"content-length"}) | {"set-cookie", "date", "server"})
HOP_NAMES = frozenset(h.encode("latin-1") for h in HOP)  # ASGI header names are lower-case bytes
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
        self.auth_string = auth_string
        self.auth = ("Basic " + base64.b64encode(auth_string.encode()).decode()) if auth_string else None
        self.client = httpx.AsyncClient(base_url=self.base, timeout=30.0)  # hefa's own few calls
        where = urlsplit(self.base)
        if where.scheme != "http" or not where.hostname:
            raise ValueError(f"入口只转发到本机 http 上的 Prefect 服务器：{self.base} / the front door forwards to a "
                             "local http Prefect server only")
        self.prefix = where.path.rstrip("/")
        self.upstream = Upstream(where.hostname, where.port or 80)  # what officers' calls go through

    async def close(self) -> None:
        await self.client.aclose()
        await self.upstream.close()

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
                answer = await self.http(Request(scope, receive))
                await answer(scope, receive, send)
        return app

    # --- HTTP --------------------------------------------------------------------------------
    async def _who(self, token: str | None) -> SignedIn | None:
        me = recently_seen(token)
        if me is None:
            me = await run_in_threadpool(who, token)
            seen(token, me)
        return me

    async def http(self, request: Request) -> ASGIApp:
        me = await self._who(request.cookies.get(COOKIE))
        if me is None:
            return to_sign_in(request)
        path, method = request.scope["path"], request.method
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

    async def forward(self, request: Request) -> ASGIApp:
        """Send the request on to Prefect with the installation's auth string (in one write, on
        a kept connection), and relay the answer as it came: its bytes and encoding untouched
        (nothing decompressed and compressed again), small answers in one piece."""
        scope = request.scope
        headers = [(k, v) for k, v in scope["headers"] if k.lower() not in HOP_NAMES]
        if self.auth:
            headers.append((b"authorization", self.auth.encode("latin-1")))
        try:
            target = request_target(self.prefix + scope["path"], scope.get("query_string", b""))
        except ValueError:
            return JSONResponse({"detail": "请求地址不合法 / malformed request"}, status_code=400)
        try:
            answer = await self.upstream.request(scope["method"], target, headers, await request.body())
        except UpstreamError as exc:  # the cause is logged; the browser is not told the server's address
            logging.getLogger("hefa.web").warning("%s %s: %s", scope["method"], scope["path"], exc)
            return JSONResponse({"detail": "Prefect 服务器暂时无应答 / the Prefect server is not answering"},
                                status_code=502)
        relayed = [(k, v) for k, v in answer.headers if k not in RELAY_DROP]
        return Relayed(answer.status, relayed, answer.body, answer.rest)

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
        """The UI's live streams (``/api/events/out``, ``/api/logs/out``) for a signed-in officer.

        Prefect authenticates a websocket by its first message (``{"type": "auth", "token": …}``,
        with the ``prefect`` subprotocol): the door sends the installation's auth string in that
        message itself, whatever token the browser sent, as it adds the header to HTTP calls."""
        import websockets

        me = await self._who(ws.cookies.get(COOKIE))
        if me is None:
            await ws.close(code=4401)
            return
        path = ws.url.path
        if path not in OFFICER_STREAMS and "admin" not in me.roles:
            await run_in_threadpool(_audit_denied, me, "WEBSOCKET", path)
            await ws.close(code=4403)
            return
        target = self.base.replace("http", "ws", 1) + path + (f"?{ws.url.query}" if ws.url.query else "")
        headers = {"Authorization": self.auth} if self.auth else {}
        protocols = [p.strip() for p in ws.headers.get("sec-websocket-protocol", "").split(",") if p.strip()]
        async with websockets.connect(target, additional_headers=headers,
                                      subprotocols=protocols or None) as upstream:  # type: ignore[arg-type]
            await ws.accept(subprotocol=upstream.subprotocol)
            first = True

            async def client_to_upstream() -> None:
                nonlocal first
                while True:
                    message = await ws.receive()
                    if message["type"] == "websocket.disconnect":
                        await upstream.close()
                        return
                    text = message.get("text")
                    if first and text is not None and upstream.subprotocol == "prefect":
                        text = self._authenticated(text)
                    first = False
                    await upstream.send(text if text is not None else message.get("bytes") or b"")

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

    def _authenticated(self, text: str) -> str:
        """The browser's first websocket message with the installation's auth string as its token."""
        try:
            message = json.loads(text)
        except ValueError:
            return text
        if isinstance(message, dict) and message.get("type") == "auth":
            message["token"] = self.auth_string
            return json.dumps(message)
        return text


class Relayed:
    """Prefect's answer as an ASGI app: status, headers, and the raw body, in one piece when
    it was read whole (``body``), else streamed from upstream (``rest``)."""

    def __init__(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes,
                 rest: AsyncIterator[bytes] | None = None) -> None:
        self.status, self.headers, self.body, self.rest = status, headers, body, rest

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.rest is None:
            await send({"type": "http.response.start", "status": self.status, "headers": self.headers})
            await send({"type": "http.response.body", "body": self.body})
            return
        rest = self.rest
        try:
            await send({"type": "http.response.start", "status": self.status, "headers": self.headers})
            async for chunk in rest:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        finally:
            await rest.aclose()  # type: ignore[attr-defined]


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
    from hefa.flows.inputs import form_for, service_kwargs
    from hefa.review.errors import Refused
    from hefa.review.law.rules import Step
    from hefa.review.people.identity import Credentials
    from hefa.review.records.audit import canonical_json
    from hefa.review.records.wait_label import label_in
    from hefa.review.services import steps

    state = run.get("state") or {}
    matter_id = str((run.get("parameters") or {}).get("matter_id") or "")
    key = str((state.get("state_details") or {}).get("pause_key") or "")
    label = label_in(key) if key else None
    if state.get("type") != "PAUSED" or not matter_id or label is None:
        return {"status": "REJECT", "details": {"reason": "此流程当前不等待表单 / this run is not waiting for a form"}}
    form = form_for(label.stage)
    if form is None:
        return {"status": "REJECT", "details": {"reason": "此时不接受表单输入 / no form expected"}}
    step = Step(label.stage)
    model, action = form
    digest = hashlib.sha256(canonical_json({"run": run_id, "key": key, "by": me.name, "input": run_input})
                            .encode()).hexdigest()[:32]
    request_id = f"web:{run_id}:{digest}"
    try:  # the fields only: who answers is the session's officer, never something typed
        form = model.model_validate(run_input)
    except ValidationError as exc:
        reason = "表单内容不完整或格式不对 / malformed input: " + "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        steps.refuse_unparsed(me.name, action, matter_id, reason[:500], channel="web", request_id=request_id)
        return {"status": "REJECT", "details": {"reason": reason[:500]}}
    kwargs = service_kwargs(form)
    if step is Step.REVIEW and "version" not in run_input:
        # an opinion on the version the run showed when it began to wait: stale if revised since
        kwargs["version"] = label.version
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
