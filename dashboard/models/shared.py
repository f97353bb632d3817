"""Results shared between the dashboard's clients: computed once per (view, arguments, data version).

A command centre's screens mostly ask for the same unit in the same window: the wall screens and the
operators' desks poll every 1.5 s and all refresh when the change counter moves.  :class:`SharedResults`
keys each view's result by its name, its arguments and the data version (``meta.data_version``, bumped in
the same transaction as every write the pages show), and computes it once:

- *single flight*: a request that finds the same key being computed waits for that computation instead
  of starting its own, so five clients asking at once cost one query;
- *a write is in the next answer*: an entry serves only the version it was computed at (a request reads
  the version before it computes, so whatever was committed before it asked is in its answer) ...
- ... except that when the version moves only because incidents moved, the entries of units that hold none
  of those incidents carry over to the new version (a report in one grid leaves the other districts' views
  as they were; the incidents come from ``incident_events``, read in the same snapshot as the version);
  a change of reference data (loads, coverage, party, governance settings) drops everything;
- *never older than a poll by the data's clock*: an entry computed at clock ``t`` serves until
  ``t + max_age_s`` (overdue counts, sliding windows and the "just in" mark move with the clock);
- bounded: entries of older versions are dropped, and at most ``size`` are kept.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from typing import TypeVar

T = TypeVar("T")
Unit = tuple[str, str | None]

MAX_AGE_S = 1.5
"""One poll of an open page (``dashboard.app.POLL_MS``)."""
SIZE = 512
TRACKED = 500
"""At most this many events between two versions are followed to their units; more drop everything."""


class _Entry:
    __slots__ = ("born", "future", "unit")

    def __init__(self, born: dt.datetime, unit: Unit | None):
        self.born = born
        self.unit = unit
        self.future: Future = Future()


class Changes:
    """What moved between two data versions, as the store tells it (see :mod:`dashboard.queries`)."""

    def __init__(self, version, since, units):
        self.version = version  # () -> data version (cheap: read on every request)
        self.since = since  # (event id, limit) -> (data version, reference version, event id, incident ids | None)
        self.units = units  # (incident ids) -> units holding them


class SharedResults:
    """Single-flight memo of view results keyed by (name, key, data version), at most one poll old."""

    def __init__(
        self,
        changes: Changes,
        clock: Callable[[], dt.datetime],
        max_age_s: float = MAX_AGE_S,
        size: int = SIZE,
        start_event: int = 0,
    ):
        self._changes = changes
        self._clock = clock
        self.max_age_s = max_age_s
        self.size = size
        self._lock = threading.Lock()
        self._check_lock = threading.Lock()
        self._entries: OrderedDict[tuple, _Entry] = OrderedDict()
        self._version, self._reference, self._event = None, None, start_event
        self.computed = 0
        """How many results were computed (the rest were shared): for tests and the benchmark."""
        self.carried = 0
        """How many entries a new data version kept (their units untouched by its writes)."""
        self.enabled = True
        """False: every request computes its own result (the benchmark's baseline)."""

    def get(self, name: str, key: Hashable, compute: Callable[[], T], unit: Unit | None = None) -> T:
        """``compute()``'s result for (name, key) at the current data version, computed here or shared.

        ``unit``: the one unit whose incidents the result reads (None: it may read any)."""
        if not self.enabled:
            return compute()
        version = self._current(self._changes.version())
        full = (name, key, version)
        now = self._clock()
        with self._lock:
            entry = self._entries.get(full)
            fresh = entry is not None and (
                not entry.future.done() or (now - entry.born).total_seconds() < self.max_age_s
            )
            if fresh:
                self._entries.move_to_end(full)
            else:
                entry = _Entry(now, unit)
                self._entries[full] = entry
                while len(self._entries) > self.size:
                    self._entries.popitem(last=False)
        if fresh:
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

    def _current(self, seen: int) -> int:
        """The version to key by (at least ``seen``): a new one is checked once, carrying untouched entries."""
        if seen == self._version:
            return seen
        with self._check_lock:
            if self._version is not None and seen <= self._version:
                return self._version
            version, reference, event, ids = self._changes.since(self._event, TRACKED)
            touched = None if ids is None or reference != self._reference else self._changes.units(ids)
            with self._lock:
                kept = OrderedDict()
                untouched = (lambda unit: unit is not None and unit not in touched) if touched else (lambda _: False)
                for (name, key, old), entry in self._entries.items():
                    if old == self._version and untouched(entry.unit):
                        kept[(name, key, version)] = entry
                self.carried += len(kept)
                self._entries = kept
                self._version, self._reference, self._event = version, reference, event
            return version

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
