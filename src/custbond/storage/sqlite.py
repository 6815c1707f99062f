"""SQLiteStore: custbond's state in a SQLite file, the embedded default.

Standard library only (:mod:`sqlite3`). The file is opened in WAL mode, so readers do not
wait for writers; every writing unit of work starts with ``BEGIN IMMEDIATE``, which takes
the database's write lock at once, so two writers (threads or processes) never interleave
and no update is lost; a busy timeout makes a writer wait for the lock instead of failing.
Foreign keys are on. The schema is created on first use and migrated forward when a
newer custbond opens an older file (see :mod:`custbond.storage._schema`).

Several processes may use one file: each opens its own ``SQLiteStore`` (a store must not
be carried across ``fork()``). In one process, threads may share a store; its units of
work then run one at a time.

>>> import tempfile, pathlib
>>> from datetime import datetime, timezone
>>> from decimal import Decimal
>>> from custbond import FixedClock, Program, Purchase, RetentionService
>>> folder = tempfile.TemporaryDirectory()
>>> path = pathlib.Path(folder.name) / "loyalty.db"
>>> clock = FixedClock(datetime(2026, 3, 2, 8, tzinfo=timezone.utc))
>>> with SQLiteStore(path) as store:
...     service = RetentionService(Program(), store, clock=clock)
...     _ = service.record(Purchase(id="o-1", customer_id="c-1", at=clock.now(),
...                                 amount=Decimal("12.40"), currency="USD"))
>>> with SQLiteStore(path) as store:  # a new process, a day later: still there
...     RetentionService(Program(), store, clock=clock).balance("c-1").available
12
>>> folder.cleanup()
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from custbond import _validate as v
from custbond.errors import StorageError, TransactionConflict
from custbond.storage._schema import (
    MIGRATIONS,
    SCHEMA_VERSION,
    VERSION_TABLE,
    statements,
    version_of,
)
from custbond.storage._sql import Params, SQLUnitOfWork, StateCache

__all__ = ["SQLiteStore"]

_SYNCHRONOUS = ("OFF", "NORMAL", "FULL", "EXTRA")
_LONGEST_TIMEOUT = 2_000_000  # seconds: SQLite's busy timeout is an int of milliseconds

# The errors that mean another connection holds a lock: a lost race, worth trying again.
# Anything else (a read-only file, a full disk, a corrupt database) is not.
_BUSY = ("SQLITE_BUSY", "SQLITE_LOCKED")  # and their extended codes (SQLITE_BUSY_SNAPSHOT)


def _is_busy(error: sqlite3.Error) -> bool:
    """Whether SQLite said another connection holds a lock."""
    name = getattr(error, "sqlite_errorname", "")
    return bool(name.startswith(_BUSY) or (not name and "locked" in str(error)))


def _failure(error: sqlite3.Error, doing: str) -> StorageError:
    """``error`` as custbond's: a lost race when SQLite was busy, else a storage error."""
    if _is_busy(error):
        return TransactionConflict(f"SQLite could not {doing}: {error}")
    return StorageError("SQLite", str(error), f"a database custbond can {doing} in")


def _rollback(connection: sqlite3.Connection) -> None:
    """Roll back, unless SQLite has done so already (as it does after some errors)."""
    if connection.in_transaction:
        connection.execute("ROLLBACK")


class _Connection:
    """sqlite3 behind the shared unit of work's Connection protocol, counting statements."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection
        self.statements = 0

    def one(self, sql: str, params: Params) -> tuple[Any, ...] | None:
        self.statements += 1
        found: tuple[Any, ...] | None = self.connection.execute(sql, params).fetchone()
        return found

    def all(self, sql: str, params: Params) -> list[tuple[Any, ...]]:
        self.statements += 1
        return self.connection.execute(sql, params).fetchall()

    def run(self, sql: str, params: Params) -> None:
        self.statements += 1
        self.connection.execute(sql, params)

    def many(self, sql: str, params: list[Params]) -> None:
        self.statements += 1
        self.connection.executemany(sql, params)


class SQLiteStore:
    """custbond's state in the SQLite database at ``path`` (created if missing), for the
    tenant ``tenant``: rows of other tenants in the same file are never read or written.

    ``timeout`` is how many seconds a writer waits for another one's lock before giving
    up with :class:`~custbond.TransactionConflict`. ``synchronous`` is SQLite's setting
    of that name: ``"NORMAL"`` (the default, with WAL) loses no committed transaction
    when the process crashes, but may lose the last ones when the machine loses power;
    ``"FULL"`` loses none then either, for a slower commit.

    ``statements`` counts the SQL statements the store's units of work have issued (an
    ``executemany`` counts once), for measuring.

    ``":memory:"`` is a database in this store's memory, gone when it is closed: for
    tests. An empty path (a missing setting, say) is refused rather than taken for
    SQLite's own temporary database, which would lose everything just the same.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        tenant: str = "default",
        timeout: float = 30.0,
        synchronous: str = "NORMAL",
    ) -> None:
        self.tenant = v.identifier("tenant", tenant)
        if synchronous not in _SYNCHRONOUS:
            raise StorageError("synchronous", synchronous, f"one of {', '.join(_SYNCHRONOUS)}")
        if (
            isinstance(timeout, bool)
            or not isinstance(timeout, int | float)
            or not 0 <= timeout <= _LONGEST_TIMEOUT
        ):
            raise StorageError(
                "timeout", timeout, f"a number of seconds from 0 to {_LONGEST_TIMEOUT:,}"
            )
        if not isinstance(path, str | os.PathLike):
            raise StorageError("path", path, "a path to a SQLite file (str or os.PathLike)")
        self.path = os.fspath(path)
        if not self.path.strip():  # SQLite would open a temporary database, gone at close
            raise StorageError(
                "path", self.path, 'a path to a SQLite file (":memory:" for a throwaway one)'
            )
        if self.path != ":memory:" and not Path(self.path).parent.is_dir():
            raise StorageError("path", self.path, "a file in a directory that exists")
        try:
            connection = sqlite3.connect(
                self.path, timeout=timeout, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as error:
            raise StorageError("path", self.path, f"a SQLite file that opens ({error})") from None
        self._db = _Connection(connection)
        self._cache = StateCache()
        self._lock = threading.RLock()
        self._busy = False
        self._closed = False
        try:
            if sqlite3.sqlite_version_info < (3, 35):
                raise StorageError(
                    "SQLite version", sqlite3.sqlite_version, "3.35 or later (for RETURNING)"
                )
            connection.execute("PRAGMA foreign_keys = ON")
            connection.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
            connection.execute(f"PRAGMA synchronous = {synchronous}")
            self._set_up(timeout)
        except sqlite3.DatabaseError as error:
            connection.close()
            raise StorageError(
                "path", self.path, f"a SQLite database custbond can use ({error})"
            ) from None
        except BaseException:
            connection.close()
            raise

    def _set_up(self, timeout: float) -> None:
        """WAL, then the schema. Several processes opening a new file at once race to
        switch it to WAL, and SQLite answers the losers "locked" at once, without
        waiting out the busy timeout: they try again (for up to ``timeout`` seconds),
        by when the winner has switched it."""
        connection = self._db.connection
        deadline = time.monotonic() + timeout
        pause = 0.001
        while True:
            try:
                connection.execute("PRAGMA journal_mode = WAL")
                self._open()
                return
            except sqlite3.OperationalError as error:
                if not _is_busy(error) or time.monotonic() + pause > deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 2, 0.1)

    def _open(self) -> None:
        """Create or migrate the schema and the tenant's row, in one transaction."""
        connection = self._db.connection
        connection.execute("BEGIN IMMEDIATE")
        try:
            connection.execute(VERSION_TABLE)
            found = connection.execute("SELECT version FROM custbond_schema").fetchall()
            tables = connection.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'custbond_tenants'"
            ).fetchone()
            version = version_of(found, has_tables=tables is not None)
            for migration in MIGRATIONS[version:]:
                for statement in statements(migration, "sqlite"):
                    connection.execute(statement)
            if not found:
                connection.execute(
                    "INSERT INTO custbond_schema (version) VALUES (?)", (SCHEMA_VERSION,)
                )
            elif version < SCHEMA_VERSION:
                connection.execute("UPDATE custbond_schema SET version = ?", (SCHEMA_VERSION,))
            connection.execute(
                "INSERT INTO custbond_tenants (tenant, log_seq) VALUES (?, 0)"
                " ON CONFLICT (tenant) DO NOTHING",
                (self.tenant,),
            )
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    @property
    def statements(self) -> int:
        return self._db.statements

    def unit_of_work(self, *, write: bool = True) -> _SQLiteUnitOfWork:
        """A transaction: ``BEGIN IMMEDIATE`` when it may write, a snapshot when not."""
        return _SQLiteUnitOfWork(self, write=write)

    def close(self) -> None:
        """Close the connection; the store cannot be used afterwards."""
        with self._lock:
            self._closed = True
            self._db.connection.close()

    def __enter__(self) -> SQLiteStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<SQLiteStore {self.path!r}, tenant {self.tenant!r}>"


class _SQLiteUnitOfWork(SQLUnitOfWork):
    def __init__(self, store: SQLiteStore, *, write: bool) -> None:
        super().__init__(store._db, store.tenant, write=write, cache=store._cache)
        self._store = store

    def __enter__(self) -> _SQLiteUnitOfWork:
        store = self._store
        store._lock.acquire()
        try:
            if store._closed:
                raise StorageError("store", store, "open (it was closed)")
            if store._busy:
                raise StorageError(
                    "unit of work", "inside another", "one unit of work at a time per store"
                )
            try:
                store._db.run("BEGIN IMMEDIATE" if self._write else "BEGIN", {})
            except sqlite3.Error as error:
                raise _failure(error, "begin") from None
        except BaseException:
            store._lock.release()
            raise
        store._busy = True
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        store = self._store
        connection = store._db.connection
        try:
            if kind is None:
                try:
                    self.flush()
                    store._db.run("COMMIT", {})
                    self.committed()
                except sqlite3.IntegrityError as failed:  # a misuse of the port, not a race
                    _rollback(connection)
                    raise StorageError(
                        "unit of work",
                        str(failed),
                        "writes the schema accepts (a record or entries only for a customer"
                        " saved in this or an earlier unit of work)",
                    ) from None
                except sqlite3.Error as failed:
                    _rollback(connection)
                    raise _failure(failed, "commit") from None
                except BaseException:
                    _rollback(connection)
                    raise
            else:
                _rollback(connection)
        finally:
            store._busy = False
            store._lock.release()
