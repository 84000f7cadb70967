"""hefa's own pages at the front door (under ``/hefa``): sign-in, first sign-in, sign-out,
my matters, submit (起草提交), revise (修改文稿), a matter, and document downloads."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from hefa.review.errors import CredentialsRefused, HefaError, Refused
from hefa.review.law.rules import KIND_ZH, RULES, Kind
from hefa.review.people import sign_in as doors
from hefa.review.people.identity import Credentials
from hefa.review.people.web_sessions import SignedIn
from hefa.review.records import queries, storage
from hefa.review.records.db import read_session
from hefa.review.records.models import DocumentVersion, GeneratedDocument, Matter
from hefa.web.access import (
    COOKIE,
    client_of,
    forget,
    may_read_matter,
    same_origin,
    set_session_cookie,
    signed_in,
    to_sign_in,
)
from hefa.web.bodies import parse_form
from hefa.web.throttle import ClientThrottle

TEMPLATES = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                        autoescape=select_autoescape(["html"]))
THROTTLE = ClientThrottle()
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def page(template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("me", None)
    context.setdefault("title", "合法 hefa")
    return HTMLResponse(TEMPLATES.get_template(template).render(**context), status_code=status_code,
                        headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY"})


def _next(value: str) -> str:
    """Only a path on this door (no open redirect)."""
    return value if value.startswith("/") and not value.startswith("//") and "\\" not in value else "/hefa/"


def forbidden_origin() -> Response:
    return page("base.html", 403, refused="跨站请求已拒绝 / cross-site request refused")


# --- sign-in ------------------------------------------------------------------------------------

async def sign_in_page(request: Request) -> Response:
    return page("sign_in.html", title="登录", next=_next(request.query_params.get("next", "/hefa/")), name="")


async def sign_in_post(request: Request) -> Response:
    if not same_origin(request):
        return forbidden_origin()
    form = await parse_form(request)
    name, client, target = form.get("name"), client_of(request), _next(form.get("next", "/hefa/"))
    if THROTTLE.blocked(client):
        await run_in_threadpool(doors.refuse_throttled, name, client)
        return page("sign_in.html", 429, title="登录", next=target, name=name, refused=doors.THROTTLED)
    try:
        token = await run_in_threadpool(doors.sign_in, name, form.get("password"), form.get("code"), client=client)
    except Refused as exc:
        if isinstance(exc, CredentialsRefused) and THROTTLE.failed(client):
            await run_in_threadpool(_audit_throttled, name, client)
        return page("sign_in.html", 401, title="登录", next=target, name=name, refused=str(exc))
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, request, token)
    return response


def _audit_throttled(name: str, client: str) -> None:
    """The failure that blocks a client address is audited (``client-throttled``), as a lock is."""
    doors.audit_web_action(name.strip()[:64], "", "client-throttled", outcome="refused", reason=doors.THROTTLED,
                           payload={"client": client[:64], "failures": str(THROTTLE.limit),
                                    "window_minutes": f"{THROTTLE.window / 60:g}"})


async def first_sign_in_page(request: Request) -> Response:
    return page("first_sign_in.html", title="首次登录", name="")


async def first_sign_in_post(request: Request) -> Response:
    if not same_origin(request):
        return forbidden_origin()
    form = await parse_form(request)
    name, client = form.get("name"), client_of(request)
    if THROTTLE.blocked(client):
        await run_in_threadpool(doors.refuse_throttled, name, client)
        return page("first_sign_in.html", 429, title="首次登录", name=name, refused=doors.THROTTLED)
    try:
        token = await run_in_threadpool(doors.set_first_password, name, form.get("secret"), form.get("code"),
                                        form.get("password"), form.get("repeat"), client=client)
    except Refused as exc:
        if isinstance(exc, CredentialsRefused) and THROTTLE.failed(client):
            await run_in_threadpool(_audit_throttled, name, client)
        return page("first_sign_in.html", 400, title="首次登录", name=name, refused=str(exc))
    response = RedirectResponse("/hefa/", status_code=303)
    set_session_cookie(response, request, token)
    return response


async def sign_out(request: Request) -> Response:
    if not same_origin(request):
        return forbidden_origin()
    token = request.cookies.get(COOKIE)
    if token:
        forget(token)
        await run_in_threadpool(doors.sign_out, token)
    response = RedirectResponse("/hefa/sign-in", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


# --- pages of a signed-in officer -----------------------------------------------------------------

def _my_matters(me: SignedIn) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    with read_session() as session:
        drafted = [{"id": m.id, "title": m.title, "kind_zh": KIND_ZH[Kind(m.kind)], "stage_zh": queries.stage_zh(m),
                    "run_id": m.run_id}
                   for m in session.scalars(select(Matter).where(Matter.drafter_id == me.officer_id)
                                            .order_by(Matter.id.desc()).limit(200))]  # type: ignore[attr-defined]
        waiting = queries.pending(session, me.name, limit=200)
        runs = {m.id: m.run_id for m in session.scalars(
            select(Matter).where(Matter.id.in_([w["id"] for w in waiting])))}  # type: ignore[attr-defined]
    pending = [w | {"run_id": runs.get(w["id"])} for w in waiting]
    return drafted, pending


async def home(request: Request) -> Response:
    me = await run_in_threadpool(signed_in, request)
    if me is None:
        return to_sign_in(request)
    drafted, pending = await run_in_threadpool(_my_matters, me)
    return page("home.html", title="我的事项", me=me, drafted=drafted, pending=pending,
                accepted=request.query_params.get("ok", "")[:300])


def _submit_context() -> dict[str, Any]:
    kinds = [{"value": k.value, "zh": KIND_ZH[k]} for k in Kind]
    flags = [{"value": f, "zh": zh, "kind_zh": KIND_ZH[k]}
             for k, table in RULES.items() for f, zh in table.flags.items()]
    return {"kinds": kinds, "flags": flags, "request_id": "web-" + secrets.token_hex(12)}


async def submit_page(request: Request) -> Response:
    me = await run_in_threadpool(signed_in, request)
    if me is None:
        return to_sign_in(request)
    return page("submit.html", title="提交送审", me=me, kind="", title_value="", **_submit_context())


def _step(me: SignedIn, action: str, *args: Any, **kwargs: Any) -> Any:
    """Record a step with the signed-in officer's session, then wake or start the run as the CLI does."""
    from hefa.flows import notify
    from hefa.review.services.steps import SERVICES

    outcome = SERVICES[action](Credentials(me.name, session=me.token), *args, channel="web", **kwargs)
    try:
        notify.after_step(action, outcome)
    except Exception:  # the step is recorded: the outbox and the reconciler catch the run up
        pass
    return outcome


async def submit_post(request: Request) -> Response:
    me = await run_in_threadpool(signed_in, request)
    if me is None:
        return to_sign_in(request)
    if not same_origin(request):
        return forbidden_origin()
    form = None
    try:
        form = await parse_form(request)
        upload = form.files.get("file")
        if upload is None or not upload.filename:
            raise Refused("请选择 .docx 文稿 / choose a .docx file")
        outcome = await run_in_threadpool(
            _step, me, "submit", kind=form.get("kind"), title=form.get("title"), data=upload.data,
            filename=Path(upload.filename).name, flags=tuple(form.getlist("flag")),
            amount=form.get("amount") or None, request_id=form.get("request_id")[:100] or None)
    except HefaError as exc:
        context = _submit_context()
        return page("submit.html", 400, title="提交送审", me=me, refused=str(exc),
                    kind=form.get("kind") if form else "", title_value=form.get("title") if form else "",
                    **context)
    message = f"已提交 / submitted: {outcome.matter_id} — {outcome.message}"
    return RedirectResponse(f"/hefa/matters/{outcome.matter_id}?ok={quote(message[:300])}", status_code=303)


def _matter_view(me: SignedIn, matter_id: str) -> dict[str, Any] | None:
    from hefa.review.documents.generated import documents_of

    with read_session() as session:
        matter = session.get(Matter, matter_id)
        if matter is None or not may_read_matter(me, matter):
            return None
        view = queries.status(session, matter_id)
        can_revise = matter.drafter_id == me.officer_id and matter.needs_revision and matter.status == "open"
    return {"m": view, "documents": documents_of(matter_id), "can_revise": can_revise}


async def matter_page(request: Request) -> Response:
    me = await run_in_threadpool(signed_in, request)
    if me is None:
        return to_sign_in(request)
    view = await run_in_threadpool(_matter_view, me, request.path_params["matter_id"])
    if view is None:
        return page("base.html", 404, me=me, refused="没有此事项或无权查看 / no such matter, or not yours to read")
    return page("matter.html", title=view["m"]["id"], me=me, request_id="web-" + secrets.token_hex(12),
                accepted=request.query_params.get("ok", "")[:300], **view)


async def revise_post(request: Request) -> Response:
    me = await run_in_threadpool(signed_in, request)
    if me is None:
        return to_sign_in(request)
    if not same_origin(request):
        return forbidden_origin()
    matter_id = request.path_params["matter_id"]
    try:
        form = await parse_form(request)
        upload = form.files.get("file")
        if upload is None or not upload.filename:
            raise Refused("请选择 .docx 文稿 / choose a .docx file")
        outcome = await run_in_threadpool(_step, me, "revise", matter_id, data=upload.data,
                                          filename=Path(upload.filename).name,
                                          request_id=form.get("request_id")[:100] or None)
    except HefaError as exc:
        view = await run_in_threadpool(_matter_view, me, matter_id)
        if view is None:
            return page("base.html", 400, me=me, refused=str(exc))
        return page("matter.html", 400, title=matter_id, me=me, refused=str(exc),
                    request_id="web-" + secrets.token_hex(12), **view)
    message = f"已提交修改稿 / revised: {outcome.message}"
    return RedirectResponse(f"/hefa/matters/{matter_id}?ok={quote(message[:300])}", status_code=303)


def _document(me: SignedIn, matter_id: str, sha256: str) -> tuple[str, bytes] | None:
    with read_session() as session:
        matter = session.get(Matter, matter_id)
        if matter is None or not may_read_matter(me, matter):
            return None
        generated = session.scalar(select(GeneratedDocument).where(GeneratedDocument.matter_id == matter_id,
                                                                   GeneratedDocument.sha256 == sha256))
        version = session.scalar(select(DocumentVersion).where(DocumentVersion.matter_id == matter_id,
                                                               DocumentVersion.sha256 == sha256))
    if generated is not None:
        name = f"{matter_id}-{generated.title}.docx"
    elif version is not None:
        name = f"{matter_id}-v{version.number}-{Path(version.filename).name}"
    else:
        return None
    data = storage.read(sha256)
    doors.audit_web_action(me.name, ",".join(sorted(me.roles)), "download", matter_id=matter_id,
                           doc_sha256=sha256, payload={"file": name})
    return name, data


async def download(request: Request) -> Response:
    me = await run_in_threadpool(signed_in, request)
    if me is None:
        return to_sign_in(request)
    found = await run_in_threadpool(_document, me, request.path_params["matter_id"], request.path_params["sha256"])
    if found is None:
        return page("base.html", 404, me=me, refused="没有此文书或无权下载 / no such document, or not yours to read")
    name, data = found
    return Response(data, media_type=DOCX, headers={
        "Content-Disposition": f"attachment; filename=\"document.docx\"; filename*=UTF-8''{quote(name)}",
        "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


ROUTES = [
    Route("/hefa/sign-in", sign_in_page, methods=["GET"]),
    Route("/hefa/sign-in", sign_in_post, methods=["POST"]),
    Route("/hefa/first-sign-in", first_sign_in_page, methods=["GET"]),
    Route("/hefa/first-sign-in", first_sign_in_post, methods=["POST"]),
    Route("/hefa/sign-out", sign_out, methods=["POST"]),
    Route("/hefa/", home, methods=["GET"]),
    Route("/hefa/submit", submit_page, methods=["GET"]),
    Route("/hefa/submit", submit_post, methods=["POST"]),
    Route("/hefa/matters/{matter_id}", matter_page, methods=["GET"]),
    Route("/hefa/matters/{matter_id}/revise", revise_post, methods=["POST"]),
    Route("/hefa/matters/{matter_id}/documents/{sha256}", download, methods=["GET"]),
]
