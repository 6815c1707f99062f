"""SQLiteStore's own promises: the file, its schema and versions, tenants, and errors.
(What every store promises is tests/test_store_contract.py.)"""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from dateutil import tz

from custbond import (
    FixedClock,
    Program,
    Purchase,
    RetentionService,
    SchemaVersionError,
    SQLiteStore,
    StorageError,
    TransactionConflict,
)
from custbond.storage._schema import SCHEMA_VERSION, TABLES
from custbond.tasks import Task

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _task(key: str = "t-1", owner: str = "customer care") -> Task:
    return Task(
        key=key, customer_id="c-1", owner=owner, due_at=T0, reason="call back", created_at=T0
    )


def _purchase(n: int, customer_id: str = "c-1", amount: str = "10.00") -> Purchase:
    return Purchase(
        id=f"o-{n}", customer_id=customer_id, at=T0, amount=Decimal(amount), currency="USD"
    )


def _service(store: SQLiteStore) -> RetentionService:
    return RetentionService(Program(), store, FixedClock(T0))


class TestTheFile:
    def test_the_schema_is_made_on_first_use_with_its_version(self, tmp_path: Path) -> None:
        path = tmp_path / "new.db"

        SQLiteStore(path).close()

        with sqlite3.connect(path) as connection:
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
            (version,) = connection.execute("SELECT version FROM custbond_schema").fetchone()
            (mode,) = connection.execute("PRAGMA journal_mode").fetchone()
        assert set(TABLES) <= tables
        assert SCHEMA_VERSION == version
        assert "wal" == mode

    def test_what_was_recorded_is_there_when_the_file_is_opened_again(
        self, tmp_path: Path
    ) -> None:
        with SQLiteStore(tmp_path / "shop.db") as store:
            _service(store).record(_purchase(1))

        with SQLiteStore(tmp_path / "shop.db") as store:
            assert 10 == _service(store).balance("c-1").available
            assert ["o-1"] == [record.input.id for record in _service(store).log()]  # type: ignore[union-attr]

    def test_a_database_from_a_newer_release_is_refused_and_left_alone(
        self, tmp_path: Path
    ) -> None:
        path = tmp_path / "newer.db"
        SQLiteStore(path).close()
        with sqlite3.connect(path) as connection:
            connection.execute("UPDATE custbond_schema SET version = ?", (SCHEMA_VERSION + 1,))

        with pytest.raises(SchemaVersionError) as raised:
            SQLiteStore(path)

        assert (SCHEMA_VERSION + 1, SCHEMA_VERSION) == (raised.value.found, raised.value.known)
        assert "upgrade custbond" in str(raised.value)
        with sqlite3.connect(path) as connection:
            (version,) = connection.execute("SELECT version FROM custbond_schema").fetchone()
        assert SCHEMA_VERSION + 1 == version

    @pytest.mark.parametrize(
        ("damage", "shown"),
        [
            ("UPDATE custbond_schema SET version = 'abc'", "'abc'"),
            ("UPDATE custbond_schema SET version = -1", "-1"),
            ("UPDATE custbond_schema SET version = 0", "0"),
            ("DELETE FROM custbond_schema", "None"),
            ("INSERT INTO custbond_schema (version) VALUES (1)", f"[{SCHEMA_VERSION}, 1]"),
        ],
        ids=["text", "negative", "zero", "no-row", "two-rows"],
    )
    def test_a_damaged_version_row_is_refused_before_any_migration_runs(
        self, tmp_path: Path, damage: str, shown: str
    ) -> None:
        path = tmp_path / "damaged.db"
        SQLiteStore(path).close()
        with sqlite3.connect(path) as connection:
            connection.execute(damage)
            before = connection.execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall()

        with pytest.raises(StorageError) as raised:
            SQLiteStore(path)

        assert "schema version" == raised.value.field
        assert str(raised.value).endswith(f"got {shown}")
        with sqlite3.connect(path) as connection:
            after = connection.execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall()
        assert before == after

    def test_a_file_that_is_not_a_database_is_a_storage_error(self, tmp_path: Path) -> None:
        path = tmp_path / "notes.txt"
        path.write_text("not a database, just some notes " * 100)

        with pytest.raises(StorageError) as raised:
            SQLiteStore(path)

        assert "path" == raised.value.field

    @pytest.mark.parametrize(
        ("arguments", "field"),
        [
            ({"path": "/no/such/folder/x.db"}, "path"),
            ({"path": 42}, "path"),
            ({"path": ""}, "path"),  # SQLite would take it for a throwaway database
            ({"path": "  "}, "path"),
            ({"path": ":memory:", "tenant": ""}, "tenant"),
            ({"path": ":memory:", "synchronous": "SOMETIMES"}, "synchronous"),
            ({"path": ":memory:", "timeout": -1}, "timeout"),
        ],
    )
    def test_bad_arguments_name_what_was_expected(
        self, arguments: dict[str, object], field: str
    ) -> None:
        with pytest.raises((StorageError, ValueError)) as raised:
            SQLiteStore(**arguments)  # type: ignore[arg-type]

        assert field == raised.value.field  # type: ignore[union-attr]


class TestTenants:
    def test_the_same_ids_in_two_tenants_do_not_collide(self, tmp_path: Path) -> None:
        path = tmp_path / "shared.db"
        with (
            SQLiteStore(path, tenant="coffee") as coffee,
            SQLiteStore(path, tenant="books") as books,
        ):
            _service(coffee).record(_purchase(1, amount="3.00"))
            _service(books).record(_purchase(1, amount="24.00"))  # the same ids

            assert 3 == _service(coffee).balance("c-1").available
            assert 24 == _service(books).balance("c-1").available
            assert [1] == [record.seq for record in _service(books).log()]

    def test_a_store_never_reads_another_tenants_rows(self, tmp_path: Path) -> None:
        path = tmp_path / "shared.db"
        with SQLiteStore(path, tenant="coffee") as coffee:
            _service(coffee).record(_purchase(1))
            with coffee.unit_of_work() as uow:
                uow.add_to_counter("stock", 5)

        with SQLiteStore(path, tenant="books") as books, books.unit_of_work() as uow:
            assert uow.load("c-1") is None
            assert uow.logged(("event", "o-1")) is None
            assert uow.purchase("o-1") is None
            assert [] == list(uow.log())
            assert 0 == uow.counter("stock")
            assert [] == list(uow.due(datetime(2100, 1, 1, tzinfo=UTC)))

    def test_tasks_under_the_same_key_in_two_tenants_do_not_meet(self, tmp_path: Path) -> None:
        path = tmp_path / "shared.db"
        with (
            SQLiteStore(path, tenant="coffee") as coffee,
            SQLiteStore(path, tenant="books") as books,
        ):
            with coffee.unit_of_work() as uow:
                uow.add_task(_task(owner="barista"))
            with books.unit_of_work() as uow:
                unseen = (uow.task("t-1"), list(uow.tasks(open_only=False)))
                added = uow.add_task(_task(owner="bookseller"))
            with coffee.unit_of_work(write=False) as uow:
                coffees = list(uow.tasks())
            with books.unit_of_work(write=False) as uow:
                bookish = list(uow.tasks())

        assert ((None, []), True) == (unseen, added)
        assert (["barista"], ["bookseller"]) == (
            [task.owner for task in coffees],
            [task.owner for task in bookish],
        )


class TestStatements:
    def test_a_record_issues_a_small_constant_number_of_statements(self) -> None:
        with SQLiteStore(":memory:") as store:
            service = _service(store)
            service.record(_purchase(0))
            counts = []
            for n in range(1, 6):
                before = store.statements
                service.record(_purchase(n))
                counts.append(store.statements - before)

        assert [10] * 5 == counts

    def test_record_many_issues_a_handful_of_statements_per_batch(self) -> None:
        with SQLiteStore(":memory:") as store:
            service = _service(store)
            service.record_many(_purchase(n, f"c-{n % 50}") for n in range(500))

            # begin; the batch's customers; its ids; the customers, entries, records, the
            # log's number and the log, written; commit
            assert store.statements <= 10

    def test_record_many_knows_events_recorded_before_and_earlier_in_the_batch(self) -> None:
        with SQLiteStore(":memory:") as store:
            service = _service(store)
            first = service.record(_purchase(1))

            again = service.record_many([_purchase(2), _purchase(1), _purchase(2)])

            assert first == again[1]
            assert again[0] == again[2]
            assert 20 == service.balance("c-1").available


class TestUnitsOfWork:
    def test_a_unit_of_work_inside_another_is_refused(self) -> None:
        with (
            SQLiteStore(":memory:") as store,
            store.unit_of_work(),
            pytest.raises(StorageError),
            store.unit_of_work(),
        ):
            pass  # pragma: no cover

    def test_a_writer_that_cannot_get_the_lock_in_time_lost_a_race(self, tmp_path: Path) -> None:
        path = tmp_path / "busy.db"
        holder = SQLiteStore(path)
        waiter = SQLiteStore(path, timeout=0)
        try:
            with holder.unit_of_work(), pytest.raises(TransactionConflict):
                waiter.unit_of_work().__enter__()
        finally:
            holder.close()
            waiter.close()

    def test_threads_may_share_a_store(self, tmp_path: Path) -> None:
        with SQLiteStore(tmp_path / "threads.db") as store:
            service = _service(store)
            threads = [
                threading.Thread(
                    target=lambda k=k: [service.record(_purchase(k * 100 + n)) for n in range(20)]
                )
                for k in range(4)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()

            assert 800 == service.balance("c-1").available


class TestWhatGoesWrong:
    def test_a_read_only_file_is_a_storage_error_not_a_lost_race(self, tmp_path: Path) -> None:
        path = tmp_path / "ro.db"
        store = SQLiteStore(path)
        store._db.connection.execute("PRAGMA query_only = ON")  # as a read-only file acts
        try:
            with pytest.raises(StorageError) as raised:
                _service(store).record(_purchase(1))
            assert not isinstance(raised.value, TransactionConflict)
        finally:
            store.close()

    def test_a_closed_store_says_so_and_lets_other_threads_go_on(self, tmp_path: Path) -> None:
        store = SQLiteStore(tmp_path / "closed.db")
        store.close()
        errors: list[BaseException] = []

        def use() -> None:
            try:
                _service(store).balance("c-1")
            except StorageError as error:
                errors.append(error)

        use()
        other = threading.Thread(target=use)
        other.start()
        other.join(timeout=10)

        assert not other.is_alive()
        assert 2 == len(errors)
        assert "closed" in str(errors[0])

    @pytest.mark.parametrize("timeout", [float("inf"), float("nan"), 10**12])
    def test_a_timeout_that_sqlite_cannot_take_is_refused(self, timeout: float) -> None:
        with pytest.raises(StorageError):
            SQLiteStore(":memory:", timeout=timeout)

    def test_an_event_in_an_unnamed_zone_sent_again_is_a_repeat(self, tmp_path: Path) -> None:
        # A zone without a name is kept as its offset; in the repeated hour of the change
        # back from summer time the time read back is not == the one sent, though it is
        # the same instant.
        zone = tz.tzstr("CET-1CEST,M3.5.0,M10.5.0/3")
        at = datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=zone)
        purchase = Purchase(id="o-1", customer_id="c-1", at=at, amount=Decimal(10), currency="USD")
        with SQLiteStore(tmp_path / "zones.db") as store:
            service = RetentionService(Program(), store, FixedClock(at))
            first = service.record(purchase)
            again = service.record(purchase)  # not an IdempotencyConflict

            assert (first.key, first.balance) == (again.key, again.balance)
            assert first.at.astimezone(UTC) == again.at.astimezone(UTC)
            assert 1 == len(list(service.log()))


class TestMigrations:
    def test_an_older_database_is_migrated_forward_when_opened(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        path = tmp_path / "old.db"
        with SQLiteStore(path) as store:
            _service(store).record(_purchase(1))
        import custbond.storage.sqlite as sqlite_module  # noqa: PLC0415

        # A later release with one more migration.
        later = (*sqlite_module.MIGRATIONS, ("CREATE TABLE custbond_later (x INTEGER)",))
        monkeypatch.setattr(sqlite_module, "MIGRATIONS", later)
        monkeypatch.setattr(sqlite_module, "SCHEMA_VERSION", len(later))

        with SQLiteStore(path) as store:
            assert 10 == _service(store).balance("c-1").available  # the data came along

        with sqlite3.connect(path) as connection:
            (version,) = connection.execute("SELECT version FROM custbond_schema").fetchone()
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
        assert len(later) == version
        assert "custbond_later" in tables

    def test_a_database_at_version_3_gets_the_tasks_table_and_keeps_its_data(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        path = tmp_path / "v3.db"
        import custbond.storage.sqlite as sqlite_module  # noqa: PLC0415

        with monkeypatch.context() as release_3:  # made by the release before the tasks
            release_3.setattr(sqlite_module, "MIGRATIONS", sqlite_module.MIGRATIONS[:3])
            release_3.setattr(sqlite_module, "SCHEMA_VERSION", 3)
            with SQLiteStore(path) as store:
                _service(store).record(_purchase(1))
        with sqlite3.connect(path) as connection:
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
        assert "custbond_tasks" not in tables

        with SQLiteStore(path) as store:
            assert 10 == _service(store).balance("c-1").available
            with store.unit_of_work() as uow:
                assert uow.add_task(_task())
            with store.unit_of_work(write=False) as uow:
                assert [_task()] == list(uow.tasks(owner="customer care"))

        with sqlite3.connect(path) as connection:
            (version,) = connection.execute("SELECT version FROM custbond_schema").fetchone()
            names = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
        assert 4 == version == SCHEMA_VERSION
        assert {"custbond_tasks", "custbond_tasks_owner", "custbond_tasks_due"} <= names


def _open_and_report(path: str, queue: Any) -> None:
    try:
        SQLiteStore(path).close()
        queue.put(None)
    except BaseException as error:  # reported by the parent
        queue.put(repr(error))


def test_processes_opening_a_new_file_at_once_all_open_it(tmp_path: Path) -> None:
    # They race to switch the new file to WAL; SQLite answers the losers "locked" at once,
    # without waiting: the store tries again instead of failing to open.
    fork = multiprocessing.get_context("fork")
    for round_ in range(20):
        path = str(tmp_path / f"new-{round_}.db")
        queue = fork.Queue()
        workers = [fork.Process(target=_open_and_report, args=(path, queue)) for _ in range(6)]
        for worker in workers:
            worker.start()
        failures = [found for found in (queue.get(timeout=60) for _ in workers) if found]
        for worker in workers:
            worker.join(timeout=60)

        assert [] == failures, f"round {round_}"
