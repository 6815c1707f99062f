"""SQLAlchemyStore: custbond's state in PostgreSQL, through SQLAlchemy 2 Core.

Needs the ``postgres`` extra (``pip install 'custbond[postgres]'``: SQLAlchemy 2 and
psycopg 3). Tested on PostgreSQL 15 with psycopg 3, and on SQLite (a file) through
SQLAlchemy's ``pysqlite`` dialect; other dialects are refused, because the shared SQL
(:mod:`custbond.storage._sql`) uses ``INSERT ... ON CONFLICT`` and ``RETURNING``.

Many processes and threads may share one database, and threads may share one store:
each unit of work takes a connection of its own from the engine's pool. What keeps
them from losing each other's updates, in PostgreSQL:

- **A writing unit of work runs in READ COMMITTED and locks what it reads.** The
  customer's row is read with ``SELECT ... FOR UPDATE``, so a second unit of work for
  the same customer waits until the first commits, then reads the row the first wrote
  (in READ COMMITTED each statement sees what was committed before the statement
  began). The service loads the customer before it reads the event log, the customer's
  records and the shared counters, so all of those are read under that lock. A
  hold, a redemption or a task found by its key is read once before the lock (to learn
  whose it is) and again under it; none of them is locked itself, since each is written
  only under its customer's lock. A
  customer not in the database yet has no row to lock: two first events of one
  customer run side by side, and the second to commit fails on the customer's primary
  key and is retried (below).
- **Shared counters** (a campaign's budget, a reward's stock) are read with
  ``SELECT ... FOR UPDATE`` too, and added to in the same transaction with a conditional
  update (``INSERT ... ON CONFLICT DO UPDATE SET value = value + ...``). A counter never
  counted has no row, and ``FOR UPDATE`` cannot lock a row that is not there: two
  transactions could both read 0 and both take the last unit of stock. So when the
  locking read finds no row, the unit of work inserts a 0 row (``ON CONFLICT DO
  NOTHING``, which waits for another transaction inserting the same row to end) and
  reads it again under the lock: from then on the second transaction waits for the
  first.
- **A duplicate event delivered to two servers at once** is applied once: the event
  log's idempotency key is unique per tenant in the schema, as is a customer's row. The
  transaction that commits second fails with a unique violation, is rolled back and
  raises :class:`~custbond.TransactionConflict`; the service then does the work again,
  finds the first one's log record and returns its outcome (or raises
  :class:`~custbond.IdempotencyConflict` when the content differs).
- **Deadlocks.** Rows are locked in one order: the customer's row first, then the
  counters the event reads (in the order of their names), then, at commit, the
  rows the unit of work inserts, and last the tenant's row (the ``UPDATE ... RETURNING``
  that numbers the event log), which every transaction that writes the log locks last,
  so none waits for another across it. The case left is a referral: a referee's first
  purchase rewards the referrer in the same unit of work, and locks the referrer's row
  after the referee's (and after the counters the purchase read). If the referrer is
  recording something at that moment that in turn locks the referee, the two wait for
  each other; PostgreSQL detects the deadlock within ``deadlock_timeout`` (1 second by
  default) and aborts one, which this store raises as
  :class:`~custbond.TransactionConflict` and the service retries. A deadlock, a
  serialization failure and a lock not available (with a ``lock_timeout`` set) are all
  raised that way: nothing of the unit of work was kept, and it may be done again.

A reading unit of work (``write=False``) runs in a ``REPEATABLE READ READ ONLY``
transaction: one snapshot of the whole database, without locks, which never waits for
a writer. Every row carries the tenant, and every statement names it: a store opened
for one tenant never reads or writes another's rows.

The schema is created on first use and migrated forward (:mod:`custbond.storage._schema`)
in one transaction, under a transaction-level advisory lock (``pg_advisory_xact_lock``),
so several processes opening a new database at once do not race; a role without the
right to create tables can open a database that is already at this release's version.
A database written by a newer release is refused with
:class:`~custbond.SchemaVersionError`.

On SQLite, a writing unit of work begins with ``BEGIN IMMEDIATE`` (the database's write
lock) instead of locking rows, as :class:`~custbond.storage.SQLiteStore` does; that store,
which needs nothing beyond the standard library, is the better choice for a file.

>>> import tempfile, pathlib
>>> from datetime import datetime, timezone
>>> from decimal import Decimal
>>> from custbond import FixedClock, Program, Purchase, RetentionService
>>> folder = tempfile.TemporaryDirectory()
>>> url = f"sqlite:///{pathlib.Path(folder.name) / 'loyalty.db'}"
>>> clock = FixedClock(datetime(2026, 3, 2, 8, tzinfo=timezone.utc))
>>> with SQLAlchemyStore(url, tenant="cafe") as store:
...     service = RetentionService(Program(), store, clock=clock)
...     _ = service.record(Purchase(id="o-1", customer_id="c-1", at=clock.now(),
...                                 amount=Decimal("12.40"), currency="USD"))
>>> with SQLAlchemyStore(url, tenant="cafe") as store:
...     RetentionService(Program(), store, clock=clock).balance("c-1").available
12
>>> SQLAlchemyStore("postgresql+psycopg://me:secret@127.0.0.1:1/db?connect_timeout=2")
Traceback (most recent call last):
...
custbond.errors.StorageError: url must be a database that can be reached (...); got 'postgresql+psycopg://me:***@127.0.0.1:1/db?connect_timeout=2'
>>> folder.cleanup()
"""

from __future__ import annotations

import functools
import re
import threading
from types import TracebackType
from typing import Any

try:
    import sqlalchemy
    from sqlalchemy import exc
except ImportError:  # pragma: no cover - the extra is part of `dev`
    raise ImportError(
        "custbond.storage.sqlalchemy needs SQLAlchemy: pip install 'custbond[postgres]'"
    ) from None

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

__all__ = ["SQLAlchemyStore"]

# The dialects the shared SQL is tested on (both have ON CONFLICT and RETURNING).
_DIALECTS = ("postgresql", "sqlite")

# The key of the advisory lock schema changes are made under: any fixed 64-bit number
# that other applications of the database do not use ("custbond" in ASCII).
_SCHEMA_LOCK = 0x63757374626F6E64

# PostgreSQL's SQLSTATEs of a transaction that lost a race and may simply be tried again.
_RACES = {
    "23505": "another transaction committed the same key first",  # unique_violation
    "40P01": "PostgreSQL broke a deadlock",  # deadlock_detected
    "40001": "PostgreSQL could not serialize it",  # serialization_failure
    "55P03": "a lock was not available",  # lock_not_available
}
# SQLite's: another connection holds the write lock (its writers are serialized by
# BEGIN IMMEDIATE, so a unique violation there is no race).
_SQLITE_RACES = ("SQLITE_BUSY", "SQLITE_LOCKED")

_EXPECTED = "a PostgreSQL URL such as postgresql+psycopg://user:password@host/dbname"


@functools.cache
def _text(sql: str) -> sqlalchemy.TextClause:
    """``sql`` as a SQLAlchemy text clause, made once per SQL string (there are few)."""
    return sqlalchemy.text(sql)


def _masked(url: str) -> str:
    """``url`` without its password, for messages (also when it does not parse)."""
    try:
        return sqlalchemy.make_url(url).render_as_string(hide_password=True)
    except (exc.ArgumentError, ValueError):  # a URL that does not parse: masked by hand
        return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


def _reason(error: BaseException) -> str:
    """The first line of what the driver said about ``error``."""
    cause = error.orig if isinstance(error, exc.DBAPIError) else error
    lines = str(cause).strip().splitlines()
    return lines[0] if lines else type(cause).__name__


def _failure(error: exc.DBAPIError, url: str) -> StorageError:
    """The custbond error for a database error met in a unit of work: a lost race
    (retried by the service) or a database custbond cannot use."""
    cause = error.orig
    code = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
    if code in _RACES:
        return TransactionConflict(f"{_RACES[code]} ({_reason(error)})")
    name = getattr(cause, "sqlite_errorname", None)
    if isinstance(name, str) and name.startswith(_SQLITE_RACES):
        return TransactionConflict(f"SQLite: {_reason(error)}")
    return StorageError("url", url, f"a database custbond can use ({_reason(error)})")


class _Connection:
    """The SQLAlchemy connection of the calling thread's unit of work (each thread has
    its own) behind the shared unit of work's Connection protocol: SQL text with
    ``:name`` parameters, through :func:`sqlalchemy.text`. Counts the statements."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.statements = 0
        self._local = threading.local()
        self._counting = threading.Lock()

    @property
    def connection(self) -> sqlalchemy.Connection | None:
        """The calling thread's connection, while it is in a unit of work."""
        found: sqlalchemy.Connection | None = getattr(self._local, "connection", None)
        return found

    def attach(self, connection: sqlalchemy.Connection) -> None:
        self._local.connection = connection
        self._local.statements = 0

    def detach(self) -> None:
        """Close the calling thread's connection (back to the pool) and count."""
        local = self._local
        connection, local.connection = local.connection, None
        connection.close()
        with self._counting:
            self.statements += local.statements

    def _execute(self, sql: str, params: Params | list[Params]) -> sqlalchemy.CursorResult[Any]:
        local = self._local
        connection: sqlalchemy.Connection = local.connection
        local.statements += 1
        try:
            return connection.execute(_text(sql), params)
        except exc.DBAPIError as error:
            raise _failure(error, self.url) from error

    def one(self, sql: str, params: Params) -> tuple[Any, ...] | None:
        row = self._execute(sql, params).first()
        return None if row is None else tuple(row)

    def all(self, sql: str, params: Params) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self._execute(sql, params)]

    def run(self, sql: str, params: Params) -> None:
        self._execute(sql, params)

    def many(self, sql: str, params: list[Params]) -> None:
        self._execute(sql, params)


class SQLAlchemyStore:
    """custbond's state in the database at ``url_or_engine`` (a URL such as
    ``"postgresql+psycopg://user:password@host/dbname"``, or an :class:`sqlalchemy.Engine`)
    for the tenant ``tenant``: rows of other tenants in the same database are never read
    or written. See the module docstring for how units of work are kept apart.

    A store made from a URL creates its engine (with SQLAlchemy's default pool) and
    disposes of it on :meth:`close`; connection settings go in the URL's query
    (``?connect_timeout=5``). A store made from an engine uses it as it is and leaves it
    open: several stores (of several tenants) may share one engine. Opening connects at
    once, and creates or migrates the schema: a URL that does not parse, a database
    that cannot be reached and a dialect other than PostgreSQL or SQLite are
    :class:`~custbond.StorageError`\\ s naming the URL (its password masked).

    ``statements`` counts the SQL statements the store's units of work have issued
    (``BEGIN`` and ``COMMIT`` included; an ``executemany`` counts once), for measuring.
    """

    def __init__(
        self, url_or_engine: str | sqlalchemy.URL | sqlalchemy.Engine, *, tenant: str = "default"
    ) -> None:
        self.tenant = v.identifier("tenant", tenant)
        self._owned = not isinstance(url_or_engine, sqlalchemy.Engine)
        engine = url_or_engine if isinstance(url_or_engine, sqlalchemy.Engine) else None
        if engine is None:
            engine = _engine(url_or_engine)
        self.url = engine.url.render_as_string(hide_password=True)
        self.dialect = engine.dialect.name
        if self.dialect not in _DIALECTS:
            self._dispose(engine)
            raise StorageError("url", self.url, _EXPECTED)
        if self.dialect == "sqlite" and engine.url.database in (None, "", ":memory:"):
            self._dispose(engine)
            raise StorageError(
                "url",
                self.url,
                "a SQLite file (sqlite:///path/to/file.db): an in-memory database is one per"
                " connection (SQLiteStore(':memory:') keeps one)",
            )
        # Transactions are begun and ended by the store's own statements (BEGIN ... with
        # the isolation it needs, COMMIT), whatever the engine's default isolation is.
        self._engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._source = engine
        self._lock = " FOR UPDATE" if self.dialect == "postgresql" else ""
        # States by the version of their row: a load whose row has the version of a state
        # this store read or wrote uses that state again (every writer, in every process,
        # bumps the version of the row it writes).
        self._cache = StateCache()
        self._db = _Connection(self.url)
        self._closed = False
        try:
            self._open()
        except BaseException:
            self._dispose(engine)
            raise

    def _dispose(self, engine: sqlalchemy.Engine) -> None:
        if self._owned:
            engine.dispose()

    def _connect(self) -> sqlalchemy.Connection:
        """A connection from the engine's pool (a new one when the pool has none)."""
        try:
            return self._engine.connect()
        except exc.SQLAlchemyError as error:  # a driver's error, or the pool's timeout
            raise StorageError(
                "url", self.url, f"a database that can be reached ({_reason(error)})"
            ) from None

    def _open(self) -> None:
        """Create or migrate the schema and the tenant's row, in one transaction."""
        db = self._db
        connection = self._connect()
        db.attach(connection)
        try:
            if self.dialect == "sqlite":  # kept in the file: readers do not wait for writers
                connection.exec_driver_sql("PRAGMA journal_mode = WAL")
            self._create(db, connection)
        except exc.DBAPIError as error:
            raise StorageError(
                "url", self.url, f"a database custbond can use ({_reason(error)})"
            ) from None
        finally:
            db.detach()

    def _create(self, db: _Connection, connection: sqlalchemy.Connection) -> None:
        try:
            if self.dialect == "postgresql":
                db.run("BEGIN", {})
                db.run("SELECT pg_advisory_xact_lock(:key)", {"key": _SCHEMA_LOCK})
            else:
                db.run("BEGIN IMMEDIATE", {})
            # Looked up rather than CREATE TABLE IF NOT EXISTS, which PostgreSQL refuses
            # to a role that may not create tables even when the table is there.
            if not sqlalchemy.inspect(connection).has_table("custbond_schema"):
                db.run(VERSION_TABLE, {})
            found = db.all("SELECT version FROM custbond_schema", {})
            tables = sqlalchemy.inspect(connection).has_table("custbond_tenants")
            version = version_of(found, has_tables=tables)
            for migration in MIGRATIONS[version:]:
                for statement in statements(migration, self.dialect):
                    db.run(statement, {})
            if not found:
                db.run(
                    "INSERT INTO custbond_schema (version) VALUES (:version)",
                    {"version": SCHEMA_VERSION},
                )
            elif version < SCHEMA_VERSION:
                db.run(
                    "UPDATE custbond_schema SET version = :version", {"version": SCHEMA_VERSION}
                )
            db.run(
                "INSERT INTO custbond_tenants (tenant, log_seq) VALUES (:tenant, 0)"
                " ON CONFLICT (tenant) DO NOTHING",
                {"tenant": self.tenant},
            )
            db.run("COMMIT", {})
        except BaseException:
            _rollback(connection)
            raise

    @property
    def engine(self) -> sqlalchemy.Engine:
        """The engine the store connects through."""
        return self._source

    @property
    def statements(self) -> int:
        return self._db.statements

    def unit_of_work(self, *, write: bool = True) -> _SQLAlchemyUnitOfWork:
        """A transaction on a connection of its own: READ COMMITTED with row locks when
        it may write, a read-only snapshot when not."""
        return _SQLAlchemyUnitOfWork(self, write=write)

    def close(self) -> None:
        """Dispose of the engine the store made (an engine it was given stays open);
        the store cannot be used afterwards."""
        self._closed = True
        self._dispose(self._source)

    def __enter__(self) -> SQLAlchemyStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<SQLAlchemyStore {self.url!r}, tenant {self.tenant!r}>"


def _engine(url: object) -> sqlalchemy.Engine:
    """An engine for ``url``, or a StorageError that says what is wrong with it."""
    if not isinstance(url, str | sqlalchemy.URL):
        raise StorageError(
            "url_or_engine",
            url,
            "a database URL (postgresql+psycopg://user:password@host/db) or a SQLAlchemy Engine",
        )
    shown = _masked(url) if isinstance(url, str) else url.render_as_string(hide_password=True)
    try:
        parsed = sqlalchemy.make_url(url)
    except (exc.ArgumentError, ValueError) as error:
        raise StorageError("url", shown, f"{_EXPECTED} ({error})") from None
    if parsed.get_backend_name() not in _DIALECTS:
        raise StorageError("url", shown, _EXPECTED)
    try:
        return sqlalchemy.create_engine(parsed)
    except exc.NoSuchModuleError:
        raise StorageError(
            "url", shown, f"{_EXPECTED}, with a driver SQLAlchemy knows (psycopg)"
        ) from None
    except ImportError as error:
        raise StorageError(
            "url",
            shown,
            f"a URL whose driver is installed ({error}); pip install 'custbond[postgres]'"
            " installs psycopg, for postgresql+psycopg://...",
        ) from None
    except (exc.ArgumentError, ValueError, TypeError) as error:
        raise StorageError("url", shown, f"{_EXPECTED} ({error})") from None


def _rollback(connection: sqlalchemy.Connection) -> None:
    """End the transaction the store began on ``connection``; a connection that cannot
    is dropped from the pool rather than handed out in the middle of a transaction."""
    try:
        connection.exec_driver_sql("ROLLBACK")
    except Exception:  # the connection broke: it is not reused
        connection.invalidate()


class _SQLAlchemyUnitOfWork(SQLUnitOfWork):
    def __init__(self, store: SQLAlchemyStore, *, write: bool) -> None:
        super().__init__(store._db, store.tenant, write=write, cache=store._cache)
        self._store = store
        self.lock = store._lock
        if store.dialect == "postgresql":
            self.in_code_order = ' COLLATE "C"'

    def _read_counter(self, name: str) -> int:
        if not (self._write and self.lock):
            return super()._read_counter(name)
        params = {"tenant": self._tenant, "name": name}
        select = (
            "SELECT value FROM custbond_counters WHERE tenant = :tenant AND name = :name"
            " FOR UPDATE"
        )
        found = self._db.one(select, params)
        if found is None:
            # No row to lock: make one, then lock it (see the module docstring). The
            # INSERT waits for another transaction inserting the same row to end; the
            # SELECT after it (a new snapshot, in READ COMMITTED) sees and locks the row.
            self._db.run(
                "INSERT INTO custbond_counters (tenant, name, value)"
                " VALUES (:tenant, :name, 0) ON CONFLICT (tenant, name) DO NOTHING",
                params,
            )
            found = self._db.one(select, params)
            assert found is not None, "inserted or found just now, and locked"
        return int(found[0])

    def __enter__(self) -> _SQLAlchemyUnitOfWork:
        store, db = self._store, self._store._db
        if store._closed:
            raise StorageError("store", store, "open (it was closed)")
        if db.connection is not None:
            # A second connection would wait for the first one's locks, forever.
            raise StorageError(
                "unit of work", "inside another", "one unit of work at a time per store and thread"
            )
        if store.dialect == "postgresql":
            begin = (
                "BEGIN ISOLATION LEVEL READ COMMITTED"
                if self._write
                else "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
            )
        else:
            begin = "BEGIN IMMEDIATE" if self._write else "BEGIN"
        for attempt in (1, 2):
            connection = store._connect()
            db.attach(connection)
            try:
                if store.dialect == "sqlite":
                    connection.exec_driver_sql("PRAGMA foreign_keys = ON")
                db.run(begin, {})
            except (StorageError, exc.DBAPIError) as error:
                db.detach()
                cause = error.__cause__ if isinstance(error, StorageError) else error
                # A pooled connection the server dropped (it restarted) fails at its first
                # use; SQLAlchemy then empties the pool, and a new connection is tried.
                lost = isinstance(cause, exc.DBAPIError) and cause.connection_invalidated
                if attempt == 1 and lost:
                    continue
                if isinstance(error, StorageError):
                    raise
                raise StorageError(
                    "url", store.url, f"a database that can be reached ({_reason(error)})"
                ) from None
            break
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        db = self._store._db
        connection = db.connection
        assert connection is not None, "the unit of work was entered in this thread"
        try:
            if kind is None:
                try:
                    self.flush()
                    db.run("COMMIT", {})
                    self.committed()
                except BaseException:
                    _rollback(connection)
                    raise
            else:
                _rollback(connection)
        finally:
            db.detach()
