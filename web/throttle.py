"""Sign-in throttling per client address (per officer it is the account lockout of
``review/people/credentials.py``): at most ``HEFA_WEB_FAILURES_PER_CLIENT`` failed sign-ins
from one address in ``HEFA_WEB_FAILURE_WINDOW_MINUTES``. Kept in the front door's memory
(a restart forgets it; the officer lockout is in the database and stays)."""

from __future__ import annotations

import threading
import time
from collections import deque
from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

MAX_CLIENTS = 4096


class FrontDoorSettings(BaseSettings):
    """The front door's throttle (``HEFA_WEB_*``), beside the session limits (``HEFA_SESSION_*``)."""

    model_config = SettingsConfigDict(env_prefix="HEFA_WEB_", extra="ignore")

    failures_per_client: int = Field(20, ge=1)
    failure_window_minutes: float = Field(15, gt=0)
    # a reverse proxy at one of these addresses names the client in X-Forwarded-For (its last entry)
    trusted_proxies: str = "127.0.0.1,::1"


@lru_cache(maxsize=1)
def front_door_settings() -> FrontDoorSettings:
    return FrontDoorSettings()


class ClientThrottle:
    """Failed sign-ins per client address in a sliding window."""

    def __init__(self, limit: int | None = None, window_seconds: float | None = None) -> None:
        cfg = front_door_settings()
        self.limit = limit or cfg.failures_per_client
        self.window = window_seconds or 60 * cfg.failure_window_minutes
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, client: str, now: float) -> int:
        """How many of the address's failures are inside the window (older ones dropped; an
        address with none left is forgotten)."""
        times = self._failures.get(client)
        if times is None:
            return 0
        while times and now - times[0] > self.window:
            times.popleft()
        if not times:
            del self._failures[client]
        return len(times)

    def blocked(self, client: str) -> bool:
        with self._lock:
            return self._recent(client, time.monotonic()) >= self.limit

    def failed(self, client: str) -> bool:
        """Count one failure; True when it is the one that blocks the address (audit it)."""
        with self._lock:
            now = time.monotonic()
            if len(self._failures) > MAX_CLIENTS:  # bounded memory: forget addresses gone quiet
                for known in list(self._failures):
                    self._recent(known, now)
            self._recent(client, now)
            times = self._failures.setdefault(client, deque())
            times.append(now)
            return len(times) == self.limit
