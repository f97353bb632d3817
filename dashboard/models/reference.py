"""Values that depend only on reference data (grids, grid workers, names, geometry), kept per reference version.

The reference counter (``meta.reference_version``) moves with loads, coverage runs, party and governance
settings, never with incidents (:func:`pipelines.store.meta.bump_data_version`): a value built from reference
tables alone stays right across every incident write and is built again only after the counter moves.  The
version is read before the value is built, so a value built while the counter moved is keyed by the older
version and dropped at the next request.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

from dashboard import queries

T = TypeVar("T")
SIZE = 1024


class ReferenceCache:
    """``build()`` once per (key, reference version); at most ``size`` values of the current version.

    ``version(cursor)`` reads the version (the reference counter by default; the party page adds the day)."""

    def __init__(self, db, size: int = SIZE, version: Callable[..., Hashable] = queries.reference_version):
        self._db = db
        self.size = size
        self._version_of = version
        self._lock = threading.Lock()
        self._version: int | None = None
        self._values: OrderedDict[Hashable, object] = OrderedDict()
        self.built = 0
        """How many values were built (for tests)."""

    def get(self, key: Hashable, build: Callable[[], T]) -> T:
        version = None
        if self._version_of is queries.reference_version and getattr(self._db, "shared", None) is not None:
            version = self._db.shared.reference()  # known already inside a shared result: no read
        if version is None:
            version = self._db.run(self._version_of)
        with self._lock:
            if version != self._version:
                self._values.clear()
                self._version = version
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
        value = build()
        with self._lock:
            self.built += 1
            if self._version == version:
                self._values[key] = value
                while len(self._values) > self.size:
                    self._values.popitem(last=False)
        return value
