"""Limits per client: login throttling, Open311 read limits, and a short cache of Open311 list replies.

Counters live in this process's memory (the ``limits`` library's moving and fixed windows): the
server is one process (DuckDB has one writer), and a restart forgetting them is acceptable.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import OrderedDict

from limits import parse, storage, strategies

log = logging.getLogger("gridtwin.security")


def _retry_after(limiter, item, *ids) -> int:
    reset = limiter.get_window_stats(item, *ids).reset_time
    return max(1, math.ceil(reset - time.time()))


class LoginThrottle:
    """After ``per_user`` wrong passwords for a name (or ``per_address`` from one address) in the window,
    every attempt for it is refused until the window lets one go — even with the right password."""

    def __init__(self, per_user: str = "5/15 minutes", per_address: str = "20/15 minutes"):
        self.limiter = strategies.MovingWindowRateLimiter(storage.MemoryStorage())
        self.per_user, self.per_address = parse(per_user), parse(per_address)

    def _checks(self, username: str, address: str):
        return ((self.per_user, "login-user", username.lower()), (self.per_address, "login-address", address))

    def retry_after(self, username: str, address: str) -> int | None:
        """Seconds to wait when this user or address is locked, else None."""
        for item, scope, key in self._checks(username, address):
            if not self.limiter.test(item, scope, key):
                return _retry_after(self.limiter, item, scope, key)
        return None

    def failed(self, username: str, address: str) -> None:
        for item, scope, key in self._checks(username, address):
            self.limiter.hit(item, scope, key)
            if not self.limiter.test(item, scope, key):
                log.warning("login locked for %s %r after %s wrong passwords", scope.split("-")[1], key, item)

    def succeeded(self, username: str) -> None:
        self.limiter.clear(self.per_user, "login-user", username.lower())


class ReadLimit:
    """A fixed-window request budget per client address (e.g. "60/minute")."""

    def __init__(self, limit: str):
        self.limiter = strategies.FixedWindowRateLimiter(storage.MemoryStorage())
        self.item = parse(limit)

    def retry_after(self, address: str) -> int | None:
        """Count one request; seconds to wait when over the budget, else None."""
        if self.limiter.hit(self.item, "open311-read", address):
            return None
        return _retry_after(self.limiter, self.item, "open311-read", address)


class ReplyCache:
    """Recent replies by key for ``ttl_s`` seconds (at most ``size`` of them): scrapers repeating a
    query read memory, not the database."""

    def __init__(self, ttl_s: float = 5.0, size: int = 256):
        self.ttl_s, self.size = ttl_s, size
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            hit = self._items.get(key)
            if hit is None or time.monotonic() - hit[0] > self.ttl_s:
                return None
            return hit[1]

    def put(self, key, value) -> None:
        with self._lock:
            self._items[key] = (time.monotonic(), value)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
