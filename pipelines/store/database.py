"""Opening a database file, and the :class:`Database` a server process shares between its threads.

A DuckDB file has one writing process; inside it, one connection serves every thread through
cursors.  DuckDB's optimistic concurrency would make two concurrent writers conflict, so the
:class:`Database` also owns the one lock that serialises writes: :meth:`Database.write` takes it,
opens a cursor and a transaction, and commits or rolls back.  :meth:`Database.write_grouped` is the
same path for many small writes arriving together (group commit): whoever gets the lock writes every
write queued so far in one transaction, and each caller returns only after that commit.  Command-line
tools that own the file for a single run use :func:`connect` and :func:`transaction` directly.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from pipelines.errors import DatabaseBusyError, GridtwinError
from pipelines.store.schema import ensure_schema

_LOCK_PID = re.compile(r"PID (\d+)")

GROUP_COMMIT_ENV = "GRIDTWIN_GROUP_COMMIT"
"""Set to 0 to write each :meth:`Database.write_grouped` item in a transaction of its own (to compare; default on)."""


def owner_only_files() -> None:
    """From now on this process creates files readable by their owner only (mode 0600).

    DuckDB creates the database file at connect and its ``.wal`` at every first write after a
    checkpoint, so a chmod after creation would leave windows: the process's umask covers both.
    Idempotent; called by :func:`connect` for writers.
    """
    current = os.umask(0o077)
    os.umask(current | 0o077)


def connect(db_path: str | Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open (and if needed create, mode 0600) the database; a busy file gives a clear error."""
    path = Path(db_path)
    if read_only and not path.exists():
        raise GridtwinError(f"database {path} does not exist: create it with `gridtwin generate --db {path}`")
    if not read_only:
        if not path.parent.is_dir():
            raise GridtwinError(
                f"cannot create database {path}: directory {path.parent} does not exist (check the --db path,"
                " or create the directory first)"
            )
        owner_only_files()
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        if "lock" not in str(exc).lower():
            raise GridtwinError(f"cannot open database {path}: {exc}") from exc
        pid = _LOCK_PID.search(str(exc))
        holder = f" (process {pid.group(1)})" if pid else ""
        raise DatabaseBusyError(
            f"database {path} is in use by another process{holder}, usually a running `gridtwin serve`: "
            "stop it first, or send the data through the server's API"
        ) from exc
    if not read_only:
        ensure_schema(con)
    return con


@contextlib.contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """All-or-nothing: roll back on any error, then re-raise it."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


GroupApply = Callable[[duckdb.DuckDBPyConnection, Sequence[Any]], Sequence[Any]]
"""Writes several queued items inside the open transaction; returns one result per item, in order
(an exception instance as the result of an item refuses that item alone: it is raised in its caller)."""


class WriteLock:
    """The one write lock, counting the writes that held it: ``generation`` moves on at every release.

    Every write takes this lock and commits before releasing it, so a process-level cache of rows
    (API keys: :class:`pipelines.auth.KeyCache`) that saw ``generation`` unchanged since it checked the
    database knows nothing was committed in between, without asking the database.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self.generation = 0

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        return self._lock.acquire(blocking, timeout)

    def release(self) -> None:
        self.generation += 1  # before the release: only the holder counts, and the write has committed
        self._lock.release()

    def locked(self) -> bool:
        return self._lock.locked()

    def __enter__(self) -> WriteLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()


@dataclass(eq=False)  # compared by identity: two callers may queue equal items
class _Queued:
    apply: GroupApply
    item: Any
    result: Any = None
    done: bool = False


class Database:
    """One database file opened for writing: its connection and the lock every write takes."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.con = connect(self.path)
        self.lock = WriteLock()
        self._queue: list[_Queued] = []
        self._queue_changed = threading.Condition()  # guards the queue and _writing; notified after each group
        self._writing = False  # a caller is writing a group: the others wait for it rather than for the lock
        self.group_commit = os.environ.get(GROUP_COMMIT_ENV, "1") != "0"
        self.group_sizes: list[int] = []
        """Items per group commit, most recent last (the last 1,000; for benchmarks and tests)."""

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor for reads (close it, or use it in ``with``)."""
        return self.con.cursor()

    @contextlib.contextmanager
    def write(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Hold the write lock and a transaction on a fresh cursor: commit on success, roll back on error."""
        with self.lock, self.con.cursor() as cur, transaction(cur):
            yield cur

    def write_grouped(self, apply: GroupApply, item: Any) -> Any:
        """Group commit: queue ``item``, see it written with everything queued alongside, return its result.

        One caller at a time writes: it takes the write lock, then the whole queue, and runs
        ``apply(cursor, items)`` for each run of items sharing an ``apply``, all in one transaction, then
        commits; the callers whose items it held wake together on the commit and return.  So every caller
        returns only after the commit that holds its item, and callers arriving while one transaction
        commits share the next one.  If a group raises, the transaction is rolled back and its items are
        written again one per transaction, so one bad item fails alone.
        """
        queued = _Queued(apply, item)
        if not self.group_commit:
            with self.lock:
                self._commit([queued])
        elif self._await_turn(queued):
            batch: list[_Queued] = []
            try:
                with self.lock:
                    with self._queue_changed:
                        batch, self._queue = self._queue, []
                    self._commit(batch)
            finally:
                self._end_turn(batch, queued)
        if not queued.done:  # the writer holding it was interrupted (KeyboardInterrupt, SystemExit)
            raise GridtwinError("the write was interrupted before it was committed: nothing was stored, send it again")
        if isinstance(queued.result, BaseException):
            raise queued.result
        return queued.result

    def _await_turn(self, queued: _Queued) -> bool:
        """Queue ``queued`` and wait while another caller writes a group: True when this caller is to write the
        next group (its item was not in the last one), False when its item was written meanwhile.  The callers
        whose items a group held wake on its commit together, instead of taking the write lock in turn."""
        with self._queue_changed:
            self._queue.append(queued)
            while self._writing and not queued.done:
                self._queue_changed.wait()
            if queued.done:
                return False
            self._writing = True
            return True

    def _end_turn(self, batch: list[_Queued], own: _Queued) -> None:
        """After a group (or its interruption): the next caller may write; the group's callers wake."""
        with self._queue_changed:
            if not batch and own in self._queue:  # interrupted before it took the queue: its own item goes
                self._queue.remove(own)
                batch = [own]
            for queued in batch:
                if not queued.done:  # interrupted before its commit: its caller is told, nothing was stored
                    queued.result = GridtwinError(
                        "the write was interrupted before it was committed: nothing was stored, send it again"
                    )
                    queued.done = True
            self._writing = False
            self._queue_changed.notify_all()

    def _commit(self, batch: list[_Queued]) -> None:
        """Write ``batch`` in one transaction (the write lock is held); alone one by one when that fails."""
        self.group_sizes = [*self.group_sizes[-999:], len(batch)]
        try:
            with self.con.cursor() as cur, transaction(cur):
                results = [result for run in _runs(batch) for result in _apply(cur, run)]
        except Exception as exc:  # noqa: BLE001 - handed to the caller whose item failed, raised there
            if len(batch) == 1:
                batch[0].result = exc
                batch[0].done = True
                return
            for queued in batch:
                self._commit([queued])
            return
        for queued, result in zip(batch, results, strict=True):
            queued.result, queued.done = result, True

    def close(self) -> None:
        self.con.close()


def _runs(batch: list[_Queued]) -> Iterator[list[_Queued]]:
    """Consecutive items sharing one ``apply``."""
    start = 0
    for end in range(1, len(batch) + 1):
        if end == len(batch) or batch[end].apply is not batch[start].apply:
            yield batch[start:end]
            start = end


def _apply(cur: duckdb.DuckDBPyConnection, run: list[_Queued]) -> Sequence[Any]:
    results = run[0].apply(cur, [queued.item for queued in run])
    if len(results) != len(run):
        raise GridtwinError(f"a grouped write returned {len(results)} results for {len(run)} items")
    return results
