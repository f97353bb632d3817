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
- *a write applied, not dropped*: an entry whose view can take the moved incidents into its result (a unit's
  fetched rows, the city's waiting whistles: rows keyed by incident) gives a ``patch``; at a new version it is
  not computed again but patched with the incidents that moved (its rows of those incidents read again), on the
  first request that needs it — a few rows instead of the whole fetch;
- *never older than a poll by the data's clock*: an entry computed at clock ``t`` serves until
  ``t + max_age_s`` (overdue counts, sliding windows and the "just in" mark move with the clock); an entry
  that does not move with the clock at its version (a unit's rows fetched for a span wider than its views
  read, which they cut to the clock themselves) may ask to serve longer;
- *computed ahead*: results that clients shared (asked more than once) and that a new version's writes
  touched are computed again at once on a background thread (up to ``REFRESHED``), so the clients that
  come back — typically every screen showing the whole city — find them computed or in flight;
- *never behind the queue*: a computation queued on the background threads and not begun yet is taken over
  by the first request that needs it (computed on its path), so a request waits at most one computation;
- bounded: entries of older versions are dropped, and at most ``size`` are kept;
- *one version per request*: a result computed from other shared results (a unit's panels from its fetched
  rows) asks for them at the version it is keyed by, without reading the version again (a read per part
  cost a query each).
"""

from __future__ import annotations

import contextvars
import datetime as dt
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
Unit = tuple[str, str | None]

MAX_AGE_S = 1.5
"""One poll of an open page (``dashboard.app.POLL_MS``)."""
SIZE = 512
REFRESHED = 16
"""At most this many shared results a new version touched are computed ahead of their clients."""
REFRESH_THREADS = 2
TRACKED = 500
"""At most this many events between two versions are followed to their units; more drop everything."""
_COMPUTING_AT: contextvars.ContextVar[int | None] = contextvars.ContextVar("gridtwin_shared_version", default=None)
"""The version the result being computed on this thread is keyed by: the shared parts it asks for are taken at
that version (set around each computation; a thread of the query pool starts without it and reads its own)."""


class QueryPool(ThreadPoolExecutor):
    """The views' query pool: a part submitted while a shared result is computed runs at that result's version
    (each task runs in a copy of the submitter's context)."""

    def submit(self, fn, /, *args, **kwargs) -> Future:
        return super().submit(contextvars.copy_context().run, fn, *args, **kwargs)


Patch = Callable[[T, list], T]
"""(the result at the last version, the incidents the writes since moved) -> the result at the new version."""


class _Entry:
    __slots__ = ("born", "compute", "future", "hits", "max_age_s", "patch", "result", "started", "unit")

    def __init__(
        self,
        born: dt.datetime,
        unit: Unit | None,
        compute: Callable,
        max_age_s: float,
        patch: Patch | None = None,
        result: Callable | None = None,
    ):
        self.born = born
        self.unit = unit
        self.compute = compute
        self.max_age_s = max_age_s
        self.patch = patch
        self.result = result or compute
        """What gives this entry's result: ``compute``, or a patch of the last version's result."""
        self.hits = 0
        self.future: Future = Future()
        self.started = False
        """Its computation has begun (a computation queued on the background threads may be taken over by a
        request: it never waits behind the queue)."""


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
        self.computed_by: Counter[str] = Counter()
        """The same per view name (a view's result may be built from shared parts, each its own entry)."""
        self.carried = 0
        """How many entries a new data version kept (their units untouched by its writes)."""
        self.refreshed = 0
        """How many results a new data version computed ahead of their clients (shared ones its writes touched)."""
        self.patched_by: Counter[str] = Counter()
        """How many results per view name were patched with a write's incidents instead of computed again."""
        self._ahead = ThreadPoolExecutor(REFRESH_THREADS, thread_name_prefix="gridtwin-refresh")
        self.enabled = True
        """False: every request computes its own result (the benchmark's baseline)."""

    def get(
        self,
        name: str,
        key: Hashable,
        compute: Callable[[], T],
        unit: Unit | None = None,
        max_age_s: float | None = None,
        patch: Patch | None = None,
    ) -> T:
        """``compute()``'s result for (name, key) at the current data version, computed here or shared.

        ``unit``: the one unit whose incidents the result reads (None: it may read any); ``max_age_s``: how long
        by the data's clock it serves (default one poll: ``self.max_age_s``), longer for a result that does not
        change with the clock at that version (rows fetched for a span wider than the view's); ``patch``: how a
        write's moved incidents are applied to the result (:data:`Patch`; None: the result is computed again)."""
        if not self.enabled:
            return compute()
        version = _COMPUTING_AT.get()
        if version is None:
            version = self._current(self._changes.version())
        full = (name, key, version)
        now = self._clock()
        with self._lock:
            entry = self._entries.get(full)
            fresh = entry is not None and (
                not entry.future.done() or (now - entry.born).total_seconds() < entry.max_age_s
            )
            if fresh:
                self._entries.move_to_end(full)
                entry.hits += 1
            else:
                entry = _Entry(now, unit, compute, self.max_age_s if max_age_s is None else max_age_s, patch)
                self._entries[full] = entry
                while len(self._entries) > self.size:
                    self._entries.popitem(last=False)
            here = not entry.started  # new, or queued on the background threads and not begun: computed here
            entry.started = True
        if here:
            self._compute(full, entry)
        return entry.future.result()

    def _fill(self, full: tuple, entry: _Entry) -> None:
        """Compute ``entry`` on a background thread unless a request has begun it already."""
        with self._lock:
            if entry.started:
                return
            entry.started = True
        self._compute(full, entry)

    def _compute(self, full: tuple, entry: _Entry) -> None:
        at = _COMPUTING_AT.set(full[2])
        try:
            result = entry.result()
        except BaseException as exc:  # noqa: BLE001 - raised in every waiter, through the future
            with self._lock:  # a failure is not remembered: the next request tries again
                if self._entries.get(full) is entry:
                    del self._entries[full]
                self._count(full[0], entry)
            entry.future.set_exception(exc)
            return
        finally:
            _COMPUTING_AT.reset(at)
        with self._lock:
            self._count(full[0], entry)
        entry.future.set_result(result)

    def _count(self, name: str, entry: _Entry) -> None:
        if entry.result is entry.compute:
            self.computed += 1
            self.computed_by[name] += 1
        else:
            self.patched_by[name] += 1

    def _current(self, seen: int) -> int:
        """The version to key by (at least ``seen``): a new one is checked once, carrying untouched entries."""
        if seen == self._version:
            return seen
        with self._check_lock:
            if self._version is not None and seen <= self._version:
                return self._version
            version, reference, event, ids = self._changes.since(self._event, TRACKED)
            touched = None if ids is None or reference != self._reference else self._changes.units(ids)
            now = self._clock()
            with self._lock:
                kept, asked = OrderedDict(), []
                untouched = (lambda unit: unit is not None and unit not in touched) if touched else (lambda _: False)
                for (name, key, old), entry in self._entries.items():
                    if old != self._version:
                        continue
                    if untouched(entry.unit):
                        kept[(name, key, version)] = entry
                    elif touched and _patchable(entry):
                        kept[(name, key, version)] = _patched(entry, ids)
                    elif entry.hits and entry.future.done() and entry.future.exception() is None:
                        asked.append((entry.hits, name, key, entry))
                self.carried += len(kept)
                # results asked for more than once are computed again now, before their clients come back
                refresh = []
                for _, name, key, old_entry in sorted(asked, key=lambda a: -a[0])[:REFRESHED]:
                    entry = _Entry(now, old_entry.unit, old_entry.compute, old_entry.max_age_s, old_entry.patch)
                    kept[(name, key, version)] = entry
                    refresh.append(((name, key, version), entry))
                self.refreshed += len(refresh)
                self._entries = kept
                self._version, self._reference, self._event = version, reference, event
            for full, entry in refresh:
                self._ahead.submit(self._fill, full, entry)
            return version

    def reference(self) -> int | None:
        """The reference version at the data version the result being computed on this thread is keyed by (read
        with it, in one snapshot: every reference change moves the data version too); None outside one."""
        at = _COMPUTING_AT.get()
        with self._lock:
            return self._reference if at is not None and at == self._version else None

    def close(self) -> None:
        self._ahead.shutdown(wait=True)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


def _patchable(entry: _Entry) -> bool:
    """The entry gives a patch and holds a result to apply it to."""
    return entry.patch is not None and entry.future.done() and entry.future.exception() is None


def _patched(entry: _Entry, ids: list) -> _Entry:
    """An entry for the new version whose result is ``entry``'s with the incidents ``ids`` applied (on the first
    request that asks): as old as ``entry`` by the clock, patched again by the versions after it the same way."""
    old, patch = entry.future.result(), entry.patch
    return _Entry(entry.born, entry.unit, entry.compute, entry.max_age_s, patch, lambda: patch(old, ids))
