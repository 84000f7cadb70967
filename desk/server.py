"""The desk (办事窗口): a running ``hefa serve`` answers CLI steps on a local socket.

A CLI process that had to import SQLAlchemy and the models would spend most of
a second before it could answer; the desk has them loaded. The CLI sends one
JSON line — the step's name, the officer's credentials and the arguments — over
a Unix socket (``$HEFA_HOME/run/desk.sock``, mode 0600, so only the installation's
own user can reach it) and gets the outcome back. The step itself is the very
same ``review/`` service, in one transaction, with the same gate and audit as
in-process; when no desk answers, the CLI runs the service itself.
"""

from __future__ import annotations

import base64
import json
import os
import socketserver
import threading
from typing import Any

from hefa.desk.handshake import MISMATCH, desk_identity, mismatch
from hefa.flows import notify
from hefa.review.errors import HefaError
from hefa.review.paths import desk_socket
from hefa.review.people.identity import Credentials
from hefa.review.services import steps


def perform(action: str, creds: Credentials, kwargs: dict[str, Any]) -> dict[str, Any]:
    """Run one step service and what follows it; the answer as a dict."""
    from hefa.review.errors import CalendarError

    if "data_b64" in kwargs:
        kwargs = dict(kwargs)
        kwargs["data"] = base64.b64decode(kwargs.pop("data_b64"))
    service = steps.SERVICES.get(action)
    if service is None:
        return {"accepted": False, "reason": f"unknown step {action!r}", "code": "usage"}
    try:
        outcome = service(creds, **kwargs)
    except CalendarError as exc:
        return {"accepted": False, "reason": str(exc), "code": "calendar"}
    except HefaError as exc:
        return {"accepted": False, "reason": str(exc), "code": getattr(exc, "code", type(exc).__name__)}
    notify.after_step(action, outcome)
    return outcome.to_dict()


def _write_documents_soon(matter_id: str) -> None:
    """Write the step's documents now, in the background, while the woken flow starts up:
    rendering is then off the path from a step to the flow's next suspension."""
    from hefa.review.documents import generated

    def write() -> None:
        try:
            generated.generate_pending(matter_id)
        except Exception:  # the flow writes them on its next replay
            pass

    threading.Thread(target=write, name="hefa-documents", daemon=True).start()


def flow_work(work: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    """A matter flow's ``review/`` work, done here where the domain is loaded."""
    from hefa.desk import flow_work as works

    allowed = {"ignore_form_input": works.ignore_form_input, "matter_view": works.matter_view}
    if work not in allowed:
        return {"code": "usage", "reason": f"unknown flow work {work!r}"}
    return allowed[work](**kwargs)


class _Handler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        try:
            request = json.loads(self.rfile.readline())
            why = mismatch(request.get("context") or {}, desk_identity())
            if why is not None:
                answer = {"accepted": False, "reason": why, "code": MISMATCH, "desk": desk_identity()}
                if "flow_work" not in request:
                    _audit_mismatch(request, why)
            elif "flow_work" in request:
                answer = flow_work(request["flow_work"], request.get("kwargs") or {})
            else:
                creds = Credentials(**request["credentials"])
                answer = perform(request["action"], creds, request.get("kwargs") or {})
                if answer.get("accepted"):
                    _write_documents_soon(answer["matter"])
        except Exception as exc:  # a malformed request must not stop the desk
            answer = {"accepted": False, "reason": f"desk error: {exc}", "code": "desk"}
        self.wfile.write(json.dumps(answer, ensure_ascii=False, default=str).encode() + b"\n")


def _audit_mismatch(request: dict[str, Any], why: str) -> None:
    """A CLI step refused because its installation or clock is not the desk's: audited here, in the
    desk's own installation, like any refusal (nothing else is written)."""
    from hefa.review.services.steps import refuse_unparsed

    name = str((request.get("credentials") or {}).get("name") or "?")[:64]
    kwargs = request.get("kwargs") or {}
    try:
        refuse_unparsed(name, str(request.get("action", "?"))[:40], str(kwargs.get("matter_id") or ""), why,
                        channel="cli", request_id=kwargs.get("request_id"))
    except HefaError:
        pass  # the desk's own installation cannot record it (its clock is refused): the answer still goes


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


class Desk:
    """The socket server, run in a thread of ``hefa serve``."""

    def __init__(self) -> None:
        path = desk_socket()
        path.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(path.parent, 0o700)
        path.unlink(missing_ok=True)
        old = os.umask(0o177)
        try:
            self.server = _Server(str(path), _Handler)
        finally:
            os.umask(old)
        self.thread = threading.Thread(target=self.server.serve_forever, name="hefa-desk", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        desk_socket().unlink(missing_ok=True)
