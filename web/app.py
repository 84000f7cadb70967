"""The front door's ASGI app: hefa's pages under ``/hefa``; everything else is the Prefect UI
and API behind sessions and the role allow list (``web/proxy.py``), when a Prefect server is
given."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from hefa.web.pages import ROUTES


async def _to_pages(request: Request) -> Response:
    return RedirectResponse("/hefa/", status_code=303)


def create_app(prefect_url: str | None = None, auth_string: str | None = None) -> Starlette:
    """The front door. ``prefect_url`` is the Prefect server's root (``http://127.0.0.1:PORT``),
    ``auth_string`` its ``PREFECT_SERVER_API_AUTH_STRING``; without them, hefa's pages only."""
    routes = [*ROUTES, Route("/hefa", _to_pages)]
    if prefect_url is None:
        routes.append(Route("/", _to_pages))
        return Starlette(routes=routes)
    from hefa.web.proxy import PrefectProxy

    proxy = PrefectProxy(prefect_url, auth_string)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        await proxy.close()

    return proxy.wrap(Starlette(routes=routes, lifespan=lifespan))
