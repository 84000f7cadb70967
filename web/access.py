"""Who is at the door, and what they may read (by role and organ)."""

from __future__ import annotations

import threading
import time
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from hefa.review.people.web_sessions import SignedIn, who
from hefa.review.records.models import Matter

COOKIE = "hefa_session"
NOT_SIGNED_IN = "未登录 / not signed in"


def client_of(request: Request) -> str:
    """The client's address: the connection's, or, behind a trusted reverse proxy
    (``HEFA_WEB_TRUSTED_PROXIES``), the last address the proxy put in X-Forwarded-For."""
    from hefa.web.throttle import front_door_settings

    peer = request.client.host if request.client else "?"
    trusted = {a.strip() for a in front_door_settings().trusted_proxies.split(",") if a.strip()}
    forwarded = request.headers.get("x-forwarded-for", "")
    if peer in trusted and forwarded.strip():
        return forwarded.split(",")[-1].strip()[:64] or peer
    return peer


def signed_in(request: Request) -> SignedIn | None:
    """The officer of this request's session cookie, if the session is live."""
    return who(request.cookies.get(COOKIE))


# The proxy's reads (the UI sends dozens of API calls a page) reuse a session check for a
# moment instead of reading the database each time. Only reads of Prefect use it: a step is
# authenticated again in its own transaction (``check_session``), and sign-out forgets at once.
SEEN_SECONDS = 2.0
_SEEN: dict[str, tuple[float, SignedIn]] = {}
_SEEN_LOCK = threading.Lock()


def recently_seen(token: str | None) -> SignedIn | None:
    """The session's officer if checked in the last ``SEEN_SECONDS`` (a disabled or locked
    officer's reads stop within that time)."""
    if not token:
        return None
    with _SEEN_LOCK:
        hit = _SEEN.get(token)
    return hit[1] if hit is not None and time.monotonic() - hit[0] < SEEN_SECONDS else None


def seen(token: str | None, me: SignedIn | None) -> None:
    if not token:
        return
    with _SEEN_LOCK:
        if me is None:
            _SEEN.pop(token, None)
            return
        if len(_SEEN) > 4096:
            _SEEN.clear()
        _SEEN[token] = (time.monotonic(), me)


def forget(token: str | None) -> None:
    seen(token, None)


def secure_cookie(request: Request) -> bool:
    """Secure when served over TLS (directly, or by a reverse proxy that says so)."""
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"


def set_session_cookie(response: Response, request: Request, token: str) -> None:
    response.set_cookie(COOKIE, token, httponly=True, samesite="strict", secure=secure_cookie(request), path="/")


def to_sign_in(request: Request) -> Response:
    """Not signed in: the API answers 401, a page goes to the sign-in page."""
    if request.url.path.startswith("/api/") or request.headers.get("accept", "").startswith("application/json"):
        return JSONResponse({"detail": NOT_SIGNED_IN}, status_code=401)
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/hefa/sign-in?next={quote(target, safe='')}", status_code=303)


def same_origin(request: Request) -> bool:
    """A state-changing request must come from the front door's own pages (with SameSite=Strict
    cookies this is a second line against cross-site requests)."""
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return origin is None
    host = request.headers.get("host", "")
    return origin.split("://", 1)[-1] == host


def may_read_matter(me: SignedIn, matter: Matter) -> bool:
    """Admins read every matter; the drafter reads their own; officers of the matter's organ
    (counsel, assessors, secretaries, heads, filing officers) read its matters."""
    if "admin" in me.roles or matter.drafter_id == me.officer_id:
        return True
    return bool(me.roles - {"drafter"}) and me.organ == matter.organ
