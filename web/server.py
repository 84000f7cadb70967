"""Running the front door inside ``hefa serve``: uvicorn in a thread, on
``HEFA_WEB_HOST:HEFA_WEB_PORT`` (default 127.0.0.1:8200), in front of the Prefect server."""

from __future__ import annotations

import os
import threading
import time

import uvicorn

from hefa.web.app import create_app

DEFAULT_PORT = 8200


def front_door_address(host: str | None = None) -> tuple[str, int]:
    return (host or os.environ.get("HEFA_WEB_HOST") or "127.0.0.1",
            int(os.environ.get("HEFA_WEB_PORT") or DEFAULT_PORT))


class FrontDoor:
    """The front door's server thread."""

    def __init__(self, prefect_url: str, auth_string: str | None = None, host: str | None = None) -> None:
        self.host, self.port = front_door_address(host)
        config = uvicorn.Config(create_app(prefect_url, auth_string), host=self.host, port=self.port,
                                log_level="warning", access_log=False, ws="websockets-sansio",
                                proxy_headers=False, lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="hefa-front-door", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def start(self, timeout: float = 30.0) -> None:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"入口未能在 {self.host}:{self.port} 启动 / the front door did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
