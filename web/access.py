"""Who is at the door, and what they may read (by role and organ)."""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from hefa.review.people.web_sessions import SignedIn, who
from hefa.review.records.models import Matter

COOKIE = "hefa_session"
NOT_SIGNED_IN = "未登录 / not signed in"


def client_of(request: Request) -> str:
    return request.client.host if request.client else "?"


def signed_in(request: Request) -> SignedIn | None:
    """The officer of this request's session cookie, if the session is live."""
    return who(request.cookies.get(COOKIE))


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
