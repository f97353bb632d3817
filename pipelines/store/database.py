"""Opening a database file, and the :class:`Database` a server process shares between its threads.

A DuckDB file has one writing process; inside it, one connection serves every thread through
cursors.  DuckDB's optimistic concurrency would make two concurrent writers conflict, so the
:class:`Database` also owns the one lock that serialises writes: :meth:`Database.write` takes it,
opens a cursor and a transaction, and commits or rolls back.  Command-line tools that own the file
for a single run use :func:`connect` and :func:`transaction` directly.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import duckdb

from pipelines.errors import DatabaseBusyError, GridtwinError
from pipelines.store.schema import ensure_schema

_LOCK_PID = re.compile(r"PID (\d+)")


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


class Database:
    """One database file opened for writing: its connection and the lock every write takes."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.con = connect(self.path)
        self.lock = threading.Lock()

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor for reads (close it, or use it in ``with``)."""
        return self.con.cursor()

    @contextlib.contextmanager
    def write(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Hold the write lock and a transaction on a fresh cursor: commit on success, roll back on error."""
        with self.lock, self.con.cursor() as cur, transaction(cur):
            yield cur

    def close(self) -> None:
        self.con.close()
