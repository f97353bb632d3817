"""Results shared between the dashboard's clients: computed once per (view, arguments, data version).

A command centre's screens mostly ask for the same unit in the same window: the wall screens and the
operators' desks poll every 1.5 s and all refresh when the change counter moves.  :class:`SharedResults`
keys each view's result by its name, its arguments and the data version (``meta.data_version``, bumped in
the same transaction as every write the pages show), and computes it once:

- *single flight*: a request that finds the same key being computed waits for that computation instead
  of starting its own, so five clients asking at once cost one query;
- *never stale beyond one poll*: an entry serves only the version it was computed at, and only for
  ``max_age_s`` (one poll) after its computation started — the clock moves even when no data does
  (overdue counts, the "just in" highlight), and a write committed before a request is always in its answer;
- bounded: entries of an older version are dropped when a newer one is stored, and at most ``size`` are kept.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from typing import TypeVar

T = TypeVar("T")

MAX_AGE_S = 1.5
"""One poll of an open page (``dashboard.app.POLL_MS``)."""
SIZE = 256


class _Entry:
    __slots__ = ("born", "future", "version")

    def __init__(self, version: int, born: float):
        self.version = version
        self.born = born
        self.future: Future = Future()


class SharedResults:
    """Single-flight memo of view results keyed by (name, key, data version), at most one poll old."""

    def __init__(
        self,
        version: Callable[[], int],
        max_age_s: float = MAX_AGE_S,
        size: int = SIZE,
        monotonic: Callable[[], float] = time.monotonic,
    ):
        self._version = version
        self.max_age_s = max_age_s
        self.size = size
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple, _Entry] = OrderedDict()
        self.computed = 0
        """How many results were computed (the rest were shared): for tests and the benchmark."""

    def get(self, name: str, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()``'s result for (name, key) at the current data version, computed here or shared."""
        version = self._version()
        full = (name, key, version)
        now = self._monotonic()
        with self._lock:
            entry = self._entries.get(full)
            if entry is not None and (not entry.future.done() or now - entry.born < self.max_age_s):
                self._entries.move_to_end(full)
                mine = False
            else:
                entry = _Entry(version, now)
                self._store(full, entry)
                mine = True
        if not mine:
            return entry.future.result()
        try:
            result = compute()
        except BaseException as exc:
            with self._lock:  # a failure is not remembered: the next request tries again
                if self._entries.get(full) is entry:
                    del self._entries[full]
                self.computed += 1
            entry.future.set_exception(exc)
            raise
        with self._lock:
            self.computed += 1
        entry.future.set_result(result)
        return result

    def _store(self, full: tuple, entry: _Entry) -> None:
        """Keep ``entry``, dropping entries of older versions and the least recently used beyond ``size``."""
        stale = [k for k, e in self._entries.items() if e.version < entry.version and e.future.done()]
        for k in stale:
            del self._entries[k]
        self._entries[full] = entry
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
