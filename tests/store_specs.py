"""Stores that several processes can open: what the concurrency and crash tests run on.

A ``StoreSpec`` says how to open a database store (a SQLite file, a PostgreSQL tenant),
so that a worker process can open its own connection from it. The ``spec`` fixture gives
a fresh one per test: a new file, or a new tenant on the test server.

Also here, for the negative control only: ``NaiveSQLiteStore``, which reads outside any
transaction and writes in a short one at the end, the read-then-write that loses updates.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import attrs
import pytest

from custbond import SQLiteStore, Store
from custbond.storage.sqlite import _SQLiteUnitOfWork


@attrs.frozen
class StoreSpec:
    """``kind`` ("sqlite", "naive-sqlite" or "postgres"), the file or URL, the tenant."""

    kind: str
    where: str
    tenant: str = "default"

    @contextmanager
    def open(self, *, naive_barrier: Any = None) -> Iterator[Store]:
        """A new connection to the store, closed at the end of the block."""
        if self.kind == "postgres":
            from custbond.storage.sqlalchemy import SQLAlchemyStore  # noqa: PLC0415

            postgres = SQLAlchemyStore(self.where, tenant=self.tenant)
            try:
                yield postgres
            finally:
                postgres.close()
            return
        store = SQLiteStore(self.where, tenant=self.tenant)
        if self.kind == "naive-sqlite":
            store = NaiveSQLiteStore(self.where, tenant=self.tenant, barrier=naive_barrier)
        try:
            yield store
        finally:
            store.close()


def store_specs() -> list[Any]:
    """The kinds of store the multi-process tests run on, for ``indirect`` parametrizing."""
    return [
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]


@pytest.fixture
def spec(request: pytest.FixtureRequest, tmp_path: Path) -> StoreSpec:
    """A fresh store of the kind the test is parametrized with."""
    if request.param == "postgres":
        from postgres import postgres_url  # noqa: PLC0415 - skips when no server

        return StoreSpec("postgres", postgres_url(), tenant=f"t-{uuid.uuid4().hex[:12]}")
    return StoreSpec("sqlite", str(tmp_path / "store.db"))


class _NaiveUnitOfWork(_SQLiteUnitOfWork):
    """Reads outside any transaction, writes in a short one at the end. A barrier, when
    given, makes every worker read before any writes: the race is lost every round."""

    def __init__(self, store: NaiveSQLiteStore, *, write: bool) -> None:
        super().__init__(store, write=write)
        self._barrier = store.barrier
        self._db = _LastWriterWins(store._db)

    def __enter__(self) -> _NaiveUnitOfWork:
        self._store._lock.acquire()
        return self

    def load(self, customer_id: str) -> Any:
        state = super().load(customer_id)
        if self._barrier is not None and self._write:
            with suppress(threading.BrokenBarrierError):  # the others are done
                self._barrier.wait(timeout=10)
        return state

    def __exit__(self, kind: Any, *rest: Any) -> None:
        store = self._store
        try:
            if kind is None:
                store._db.run("BEGIN IMMEDIATE", {})
                try:
                    self.flush()
                    store._db.run("COMMIT", {})
                except BaseException:
                    store._db.connection.execute("ROLLBACK")
                    raise
        finally:
            store._lock.release()


class _LastWriterWins:
    """The store's connection, with entries that overwrite one another: otherwise the
    statement's unique (customer, seq) would refuse the lost update's second write."""

    def __init__(self, db: Any) -> None:
        self._db = db

    def __getattr__(self, name: str) -> Any:
        return getattr(self._db, name)

    def many(self, sql: str, params: Any) -> None:
        self._db.many(
            sql.replace("INSERT INTO custbond_entries", "INSERT OR REPLACE INTO custbond_entries"),
            params,
        )


class NaiveSQLiteStore(SQLiteStore):
    """A SQLiteStore that loses updates (see the module docstring). Tests only."""

    def __init__(self, path: str, *, tenant: str, barrier: Any) -> None:
        super().__init__(path, tenant=tenant)
        self.barrier = barrier

    def unit_of_work(self, *, write: bool = True) -> _SQLiteUnitOfWork:
        return _NaiveUnitOfWork(self, write=write)
