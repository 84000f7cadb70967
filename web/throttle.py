"""Sign-in throttling per client address (per officer it is the account lockout of
``review/people/credentials.py``): at most ``HEFA_WEB_FAILURES_PER_CLIENT`` failed sign-ins
from one address in ``HEFA_WEB_FAILURE_WINDOW_MINUTES``. Kept in the front door's memory."""

from __future__ import annotations

import os
import threading
import time
from collections import deque


class ClientThrottle:
    def __init__(self, limit: int | None = None, window_seconds: float | None = None) -> None:
        self.limit = limit or int(os.environ.get("HEFA_WEB_FAILURES_PER_CLIENT", "20"))
        self.window = window_seconds or 60 * float(os.environ.get("HEFA_WEB_FAILURE_WINDOW_MINUTES", "15"))
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, client: str, now: float) -> deque[float]:
        times = self._failures.setdefault(client, deque())
        while times and now - times[0] > self.window:
            times.popleft()
        return times

    def blocked(self, client: str) -> bool:
        with self._lock:
            return len(self._recent(client, time.monotonic())) >= self.limit

    def failed(self, client: str) -> None:
        with self._lock:
            self._recent(client, time.monotonic()).append(time.monotonic())
