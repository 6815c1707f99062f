"""SQLAlchemyStore: what the store contract cannot see (tenancy, the schema's versions,
connection strings, races between connections), and the whole service on it.

Tests marked ``postgres`` need a server: tests/postgres.py says which, and skips them
without one. The rest run anywhere: bad connection strings, and SQLite through
SQLAlchemy.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from dateutil.relativedelta import relativedelta

from custbond import (
    Customer,
    FixedClock,
    IdempotencyConflict,
    LineItem,
    MemoryStore,
    Outcome,
    OutOfStock,
    PointsPolicy,
    Program,
    Purchase,
    RetentionService,
    Return,
    SchemaVersionError,
    StorageError,
    TransactionConflict,
    Visit,
)
from custbond.bonds.catalog import Reward
from custbond.bonds.social import CallAfter, SocialPolicy
from custbond.program import CustomerState
from custbond.storage._schema import MIGRATIONS, SCHEMA_VERSION, TABLES
from custbond.tasks import Task
from custbond.vouchers import VoucherOffer
from postgres import another_engine, engine, fresh_schema, fresh_tenant, make_store

sqlalchemy = pytest.importorskip("sqlalchemy")
from custbond.storage.sqlalchemy import SQLAlchemyStore  # noqa: E402 - after the skip

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
POLICY = PointsPolicy(pending_for=relativedelta(days=14), expire_after=relativedelta(years=1))
FLAT_WHITE = LineItem(sku="flat-white", quantity=2, unit_price=Decimal("4.50"))
ONE_FLAT_WHITE = LineItem(sku="flat-white", quantity=1, unit_price=Decimal("4.50"))
MUG = Reward("mug", points=50, offer=VoucherOffer("a mug", sku="mug"), stock=2)

postgres = pytest.mark.postgres


def _purchase(
    id: str, customer_id: str = "c-1", amount: str = "10.00", at: datetime = T0
) -> Purchase:
    return Purchase(id=id, customer_id=customer_id, at=at, amount=Decimal(amount), currency="USD")


def _service(store: Any, program: Program | None = None) -> RetentionService:
    return RetentionService(Program() if program is None else program, store, FixedClock(T0))


def _rows_of(tenant: str) -> dict[str, int]:
    """How many rows each custbond table holds for ``tenant``."""
    counts = {}
    with engine().connect() as connection:
        for table in TABLES[1:]:  # all but the version table carry the tenant
            counts[table] = connection.execute(
                sqlalchemy.text(f"SELECT count(*) FROM {table} WHERE tenant = :tenant"),
                {"tenant": tenant},
            ).scalar_one()
    return counts


def _in_threads(*work: Callable[[], object]) -> list[object]:
    """Run each of ``work`` in a thread of its own, all starting together: what each
    returned or raised."""
    start = threading.Barrier(len(work))
    results: list[object] = [None] * len(work)

    def run(index: int) -> None:
        start.wait()
        try:
            results[index] = work[index]()
        except Exception as error:
            results[index] = error

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(work))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread still waits"
    return results


@postgres
class TestTenancy:
    def test_the_same_customer_and_event_ids_in_two_tenants_do_not_meet(self) -> None:
        cafe, bakery = _service(make_store()), _service(make_store())

        cafe.record(_purchase("o-1", amount="10.00"))
        bakery.record(_purchase("o-1", amount="25.00"))  # the same id, other content

        assert (10, 25) == (cafe.balance("c-1").available, bakery.balance("c-1").available)
        assert [1] == [record.seq for record in bakery.log()]

    def test_a_store_never_reads_another_tenants_rows(self) -> None:
        cafe = _service(make_store(), Program(catalog=[MUG]))
        cafe.record(_purchase("o-1", amount="60.00"))
        cafe.redeem_reward("c-1", "mug", key="r-1")
        bakery = make_store()

        with bakery.unit_of_work(write=False) as uow:
            seen = (
                uow.load("c-1"),
                uow.load_ledger("c-1"),
                tuple(uow.entries("c-1")),
                tuple(uow.log()),
                uow.logged(("event", "o-1")),
                uow.purchase("o-1"),
                uow.redemption("r-1"),
                tuple(uow.due(T0 + timedelta(days=1000))),
                uow.counter(MUG.counter),
            )

        assert (None, None, (), (), None, None, None, (), 0) == seen
        assert dict.fromkeys(TABLES[2:], 0) | {"custbond_tenants": 1} == _rows_of(bakery.tenant)

    def test_tasks_under_the_same_key_in_two_tenants_do_not_meet(self) -> None:
        cafe, bakery = make_store(), make_store()

        def task(owner: str) -> Task:
            return Task(
                key="t-1", customer_id="c-1", owner=owner, due_at=T0, reason="call", created_at=T0
            )

        with cafe.unit_of_work() as uow:
            uow.add_task(task("barista"))
        with bakery.unit_of_work() as uow:
            unseen = (uow.task("t-1"), list(uow.tasks(open_only=False)))
            added = uow.add_task(task("baker"))
        with cafe.unit_of_work(write=False) as uow:
            cafes = list(uow.tasks())

        assert ((None, []), True, [task("barista")]) == (unseen, added, cafes)
        assert 1 == _rows_of(bakery.tenant)["custbond_tasks"]

    def test_a_store_writes_only_its_own_tenants_rows(self) -> None:
        cafe = make_store()
        before = _rows_of(cafe.tenant)

        _service(make_store(), Program(catalog=[MUG])).record(_purchase("o-1"))

        assert before == _rows_of(cafe.tenant)


@postgres
class TestSchema:
    def test_a_new_database_gets_every_table_at_this_releases_version(self) -> None:
        with fresh_schema() as scoped:
            SQLAlchemyStore(scoped, tenant="cafe")

            with scoped.connect() as connection:
                versions = connection.exec_driver_sql("SELECT version FROM custbond_schema")
                tables = set(sqlalchemy.inspect(connection).get_table_names())

        assert [(SCHEMA_VERSION,)] == [tuple(row) for row in versions.all()]
        assert set(TABLES) == tables

    def test_reopening_a_database_keeps_what_was_recorded(self) -> None:
        tenant = fresh_tenant()
        _service(make_store(tenant=tenant)).record(_purchase("o-1", amount="12.40"))

        again = _service(make_store(tenant=tenant))

        assert 12 == again.balance("c-1").available
        assert [1] == [record.seq for record in again.log()]

    def test_a_database_from_a_newer_release_is_refused_and_left_as_it_was(self) -> None:
        with fresh_schema() as scoped:
            _service(SQLAlchemyStore(scoped, tenant="cafe")).record(_purchase("o-1"))
            with scoped.begin() as connection:
                connection.exec_driver_sql(
                    f"UPDATE custbond_schema SET version = {SCHEMA_VERSION + 1}"
                )

            with pytest.raises(SchemaVersionError) as raised:
                SQLAlchemyStore(scoped, tenant="bakery")

            with scoped.connect() as connection:
                tenants = connection.exec_driver_sql("SELECT tenant FROM custbond_tenants")
                assert [("cafe",)] == [tuple(row) for row in tenants.all()]
        assert (SCHEMA_VERSION + 1, SCHEMA_VERSION) == (raised.value.found, raised.value.known)

    @pytest.mark.parametrize(
        "damage",
        ["UPDATE custbond_schema SET version = -1", "DELETE FROM custbond_schema"],
        ids=["negative", "no-row"],
    )
    def test_a_damaged_version_row_is_refused_before_any_migration_runs(self, damage: str) -> None:
        with fresh_schema() as scoped:
            _service(SQLAlchemyStore(scoped, tenant="cafe")).record(_purchase("o-1"))
            with scoped.begin() as connection:
                connection.exec_driver_sql(damage)

            with pytest.raises(StorageError) as raised:
                SQLAlchemyStore(scoped, tenant="bakery")

            with scoped.connect() as connection:
                tenants = connection.exec_driver_sql("SELECT tenant FROM custbond_tenants")
                assert [("cafe",)] == [tuple(row) for row in tenants.all()]
        assert "schema version" == raised.value.field

    def test_a_database_at_version_3_gets_the_tasks_table_and_keeps_its_data(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        import custbond.storage.sqlalchemy as sqlalchemy_module  # noqa: PLC0415

        task = Task(
            key="t-1", customer_id="c-1", owner="sam", due_at=T0, reason="call", created_at=T0
        )
        with fresh_schema() as scoped:
            with monkeypatch.context() as release_3:  # made by the release before the tasks
                release_3.setattr(sqlalchemy_module, "MIGRATIONS", MIGRATIONS[:3])
                release_3.setattr(sqlalchemy_module, "SCHEMA_VERSION", 3)
                _service(SQLAlchemyStore(scoped, tenant="cafe")).record(_purchase("o-1"))
            with scoped.connect() as connection:
                assert not sqlalchemy.inspect(connection).has_table("custbond_tasks")

            store = SQLAlchemyStore(scoped, tenant="cafe")
            balance = _service(store).balance("c-1").available
            with store.unit_of_work() as uow:
                added = uow.add_task(task)
            with store.unit_of_work(write=False) as uow:
                listed = list(uow.tasks(owner="sam"))

            with scoped.connect() as connection:
                versions = connection.exec_driver_sql("SELECT version FROM custbond_schema")
                indexes = {
                    index["name"]
                    for index in sqlalchemy.inspect(connection).get_indexes("custbond_tasks")
                }
                assert [(SCHEMA_VERSION,)] == [tuple(row) for row in versions.all()]
        assert (4, 10, True, [task]) == (SCHEMA_VERSION, balance, added, listed)
        assert {"custbond_tasks_owner", "custbond_tasks_due", "custbond_tasks_customer"} == indexes

    def test_stores_opening_a_new_database_at_once_create_the_schema_once(self) -> None:
        with fresh_schema() as scoped:
            opened = _in_threads(
                *(lambda n=n: SQLAlchemyStore(scoped, tenant=f"t-{n}") for n in range(4))
            )

            with scoped.connect() as connection:
                versions = connection.exec_driver_sql("SELECT version FROM custbond_schema")
                assert [(SCHEMA_VERSION,)] == [tuple(row) for row in versions.all()]
        assert all(isinstance(store, SQLAlchemyStore) for store in opened), opened


class TestConnectionStrings:
    @pytest.mark.parametrize(
        ("url", "expected"),
        [
            ("mysql://me:secret@db.example/loyalty", "a PostgreSQL URL"),
            ("postgres://me:secret@db.example/loyalty", "a PostgreSQL URL"),
            ("postgresql+nosuchdriver://me:secret@db.example/x", "a driver SQLAlchemy knows"),
            ("not a url at all", "a PostgreSQL URL"),
            ("postgresql+psycopg://me:secret@db.example:port/x", "a PostgreSQL URL"),
            ("sqlite://", "a SQLite file"),
        ],
        ids=[
            "mysql",
            "postgres-scheme",
            "unknown-driver",
            "not-a-url",
            "bad-port",
            "sqlite-memory",
        ],
    )
    def test_a_bad_url_is_a_storage_error_naming_it_without_its_password(
        self, url: str, expected: str
    ) -> None:
        with pytest.raises(StorageError) as raised:
            SQLAlchemyStore(url)

        assert "url" == raised.value.field
        assert expected in raised.value.expected
        assert "secret" not in str(raised.value)

    @pytest.mark.parametrize(
        "value", [None, 5432, Path("loyalty.db")], ids=["none", "int", "path"]
    )
    def test_something_not_a_url_or_engine_is_a_storage_error(self, value: object) -> None:
        with pytest.raises(StorageError, match="a database URL"):
            SQLAlchemyStore(value)  # type: ignore[arg-type]

    def test_a_url_without_an_installed_driver_says_which_to_install(self) -> None:
        if importlib.util.find_spec("psycopg2") is not None:
            pytest.skip("psycopg2 is installed here")

        with pytest.raises(StorageError, match=r"pip install 'custbond\[postgres\]'") as raised:
            SQLAlchemyStore("postgresql+psycopg2://me:secret@127.0.0.1:1/loyalty")

        assert "postgresql+psycopg2://me:***@127.0.0.1:1/loyalty" == raised.value.value

    def test_an_unreachable_server_is_a_storage_error_naming_the_url(self) -> None:
        url = "postgresql+psycopg://me:secret@127.0.0.1:1/loyalty?connect_timeout=2"

        with pytest.raises(StorageError) as raised:
            SQLAlchemyStore(url)

        assert (
            "postgresql+psycopg://me:***@127.0.0.1:1/loyalty?connect_timeout=2",
            "a database that can be reached (",
        ) == (raised.value.value, raised.value.expected[:32])

    @postgres
    def test_a_wrong_password_is_a_storage_error(self) -> None:
        url = engine().url.set(password="wrong-secret")

        with pytest.raises(StorageError, match="a database that can be reached") as raised:
            SQLAlchemyStore(url)

        assert "wrong-secret" not in str(raised.value)

    def test_a_bad_tenant_is_refused_before_connecting(self) -> None:
        with pytest.raises(ValueError, match="tenant"):
            SQLAlchemyStore("postgresql+psycopg://me:secret@127.0.0.1:1/x", tenant=" padded ")


@postgres
class TestRaces:
    def test_a_duplicate_event_delivered_to_two_servers_at_once_is_applied_once(self) -> None:
        tenant = fresh_tenant()
        one, two = _service(make_store(tenant=tenant)), _service(make_store(tenant=tenant))
        one.record(_purchase("o-0", customer_id="known"))

        for n in range(1, 9):  # a customer with a row to lock, and one created by the event
            for customer_id in ("known", f"new-{n}"):
                event = _purchase(f"o-{n}-{customer_id}", customer_id=customer_id)
                first, second = _in_threads(
                    lambda event=event: one.record(event), lambda event=event: two.record(event)
                )
                assert first == second

        assert 17 == len(list(one.log()))
        assert (90, 10) == (one.balance("known").available, two.balance("new-8").available)

    def test_the_same_id_with_other_content_at_once_is_kept_once_and_refused_once(self) -> None:
        tenant = fresh_tenant()
        one, two = _service(make_store(tenant=tenant)), _service(make_store(tenant=tenant))

        results = _in_threads(
            lambda: one.record(_purchase("o-1", customer_id="ada")),
            lambda: two.record(_purchase("o-1", customer_id="bea")),
        )

        assert [IdempotencyConflict, Outcome] == sorted(map(type, results), key=str)
        assert 1 == len(list(one.log()))

    def test_the_second_to_create_a_customer_loses_the_race_and_keeps_nothing(self) -> None:
        tenant = fresh_tenant()
        first, second = make_store(tenant=tenant).unit_of_work(), make_store(tenant=tenant)
        uow, theirs = first.__enter__(), second.unit_of_work()  # two servers' connections
        theirs.__enter__()
        assert (None, None) == (uow.load("c-1"), theirs.load("c-1"))
        uow.save(CustomerState(Customer("c-1", name="Ada")), ())
        theirs.save(CustomerState(Customer("c-1", name="Bea")), ())
        first.__exit__(None, None, None)

        with pytest.raises(TransactionConflict, match="same key first"):
            theirs.__exit__(None, None, None)

        with second.unit_of_work(write=False) as reading:
            state = reading.load("c-1")
        assert state is not None
        assert "Ada" == state.customer.name

    def test_the_same_log_key_from_two_customers_is_kept_once(self) -> None:
        tenant = fresh_tenant()
        one, two = make_store(tenant=tenant), make_store(tenant=tenant)
        outcome = _service(make_store(tenant=tenant)).record(_purchase("o-0", "ada"))
        _service(two).record(_purchase("o-00", "bea"))
        key = ("event", "o-1")

        second = two.unit_of_work()
        theirs = second.__enter__()
        theirs.load("bea")
        assert theirs.logged(key) is None
        with one.unit_of_work() as uow:
            uow.load("ada")
            assert uow.logged(key) is None
            uow.append(key, _purchase("o-1", "ada"), T0, outcome)
        theirs.append(key, _purchase("o-1", "bea"), T0, outcome)

        with pytest.raises(TransactionConflict, match="same key first"):
            second.__exit__(None, None, None)

        with one.unit_of_work(write=False) as uow:
            assert [("event", "o-0"), ("event", "o-00"), key] == [r.key for r in uow.log()]

    def test_a_counter_never_counted_is_locked_by_the_first_to_read_it(self) -> None:
        tenant = fresh_tenant()
        one, two = make_store(tenant=tenant), make_store(tenant=tenant)
        read: list[int] = []
        waiting = threading.Event()

        def other() -> None:
            with two.unit_of_work() as uow:
                waiting.set()
                read.append(uow.counter("budget"))
                uow.add_to_counter("budget", 1)

        with one.unit_of_work() as uow:
            assert 0 == uow.counter("budget")
            thread = threading.Thread(target=other)
            thread.start()
            waiting.wait(10)
            thread.join(0.3)
            assert thread.is_alive(), "the second read waits for the first transaction"
            uow.add_to_counter("budget", 1)
        thread.join(10)

        with one.unit_of_work(write=False) as uow:
            assert ([1], 2) == (read, uow.counter("budget"))

    def test_the_last_of_a_rewards_stock_is_taken_once(self) -> None:
        for _ in range(3):
            tenant = fresh_tenant()
            services = [
                _service(make_store(tenant=tenant), Program(catalog=[MUG])) for _ in range(4)
            ]
            for n, service in enumerate(services):
                service.record(_purchase(f"o-{n}", customer_id=f"c-{n}", amount="60.00"))

            results = _in_threads(
                *(
                    lambda n=n, service=service: service.redeem_reward(
                        f"c-{n}", "mug", key=f"r-{n}"
                    )
                    for n, service in enumerate(services)
                )
            )

            taken = [result for result in results if not isinstance(result, OutOfStock)]
            assert 2 == len(taken), results
            with services[0].store.unit_of_work(write=False) as uow:
                assert 2 == uow.counter(MUG.counter)

    def test_a_lock_not_available_in_time_is_a_transaction_conflict(self) -> None:
        tenant = fresh_tenant()
        holder = make_store(tenant=tenant)
        _service(holder).record(_purchase("o-1"))

        with another_engine(options="-c lock_timeout=100") as impatient_engine:
            impatient = SQLAlchemyStore(impatient_engine, tenant=tenant)
            with holder.unit_of_work() as uow:
                uow.load("c-1")

                with (
                    pytest.raises(TransactionConflict, match="lock was not available"),
                    impatient.unit_of_work() as theirs,
                ):
                    theirs.load("c-1")

    def test_a_deadlock_is_broken_and_raised_as_a_transaction_conflict(self) -> None:
        tenant = fresh_tenant()
        store = make_store(tenant=tenant)
        service = _service(store)
        service.record(_purchase("o-1", customer_id="ada"))
        service.record(_purchase("o-2", customer_id="bea"))
        both_locked = threading.Barrier(2)

        def lock(first: str, then: str) -> None:
            with store.unit_of_work() as uow:
                uow.load(first)
                both_locked.wait()
                uow.load(then)

        results = _in_threads(lambda: lock("ada", "bea"), lambda: lock("bea", "ada"))

        assert [None, "TransactionConflict"] == sorted(
            (None if r is None else type(r).__name__ for r in results), key=str
        )
        assert "deadlock" in str(next(r for r in results if r is not None))

    def test_closing_a_task_locks_its_customer_before_anything_else(self) -> None:
        # Every other transaction locks the customer first; a task locked before its
        # customer would let closing it and run_due() for that customer deadlock.
        program = Program(
            social=SocialPolicy(default_owner="maya", call_after=[CallAfter(on="Purchase")])
        )
        tenant = fresh_tenant()
        _service(make_store(tenant=tenant), program).record(_purchase("o-1"))
        locking: list[str] = []

        def note_locks(conn: object, cursor: object, statement: str, *rest: object) -> None:
            if "FOR UPDATE" in statement:
                locking.append(statement.split(" FROM ", 1)[1].split(maxsplit=1)[0])

        with another_engine() as own_engine:
            sqlalchemy.event.listen(own_engine, "before_cursor_execute", note_locks)
            service = _service(SQLAlchemyStore(own_engine, tenant=tenant), program)
            (task,) = service.tasks("maya")
            closed = service.close_task(task.key, "she liked it")

        assert "she liked it" == closed.result
        assert ["custbond_customers"] == locking[:1], locking
        assert "custbond_tasks" not in locking

    def test_a_reading_unit_of_work_waits_for_no_writer_and_sees_one_snapshot(self) -> None:
        tenant = fresh_tenant()
        writer, reader = make_store(tenant=tenant), make_store(tenant=tenant)
        _service(writer).record(_purchase("o-1"))

        with reader.unit_of_work(write=False) as reading:
            before = reading.load_ledger("c-1")
            with writer.unit_of_work() as uow:  # holds c-1's lock while the reader reads
                state = uow.load("c-1")
                assert state is not None
                assert before == reading.load_ledger("c-1")
                uow.save(CustomerState(Customer("c-1", name="Ada")), ())
            after = reading.load("c-1")  # committed now, but after the snapshot was taken

        assert after is not None
        assert (before, None) == (after.ledger, after.customer.name)

    def test_threads_sharing_a_store_work_at_once_on_their_own_connections(self) -> None:
        store = make_store()
        service = _service(store)
        both_open = threading.Barrier(2, timeout=10)

        def work(customer_id: str) -> str:
            with store.unit_of_work() as uow:
                uow.load(customer_id)
                both_open.wait()  # would time out if the units of work ran one by one
            return service.record(_purchase(f"o-{customer_id}", customer_id)).customer_id

        assert ["ada", "bea"] == _in_threads(lambda: work("ada"), lambda: work("bea"))

    def test_a_unit_of_work_inside_another_of_the_same_store_is_refused(self) -> None:
        store = make_store()

        with (
            store.unit_of_work(),
            pytest.raises(StorageError, match="one unit of work"),
            store.unit_of_work(),
        ):
            pass


@postgres
class TestStatements:
    def test_recording_an_event_of_a_known_customer_takes_a_handful_of_statements(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        store = make_store()
        service = _service(store)
        service.record(_purchase("o-1"))
        before = store.statements

        service.record(_purchase("o-2"))

        taken = store.statements - before
        with capsys.disabled():
            print(f"\nSQLAlchemyStore on PostgreSQL: {taken} statements per record()")
        assert taken <= 12


def _history(service: RetentionService, clock: FixedClock) -> None:
    """Purchases, a return, a visit, a redemption, holds captured and released, run_due,
    a cancelled redemption, an adjustment, a profile change: most of what a shop does."""
    service.save_customer(Customer("c-1", name="Ada"))
    service.record(_purchase("o-1", amount="100.00", at=clock.now()))
    service.record(
        Purchase(
            id="o-2",
            customer_id="c-2",
            at=clock.now(),
            amount=Decimal("9.00"),
            currency="USD",
            items=(FLAT_WHITE,),
        )
    )
    clock.advance(timedelta(days=1))
    service.record(
        Return(
            id="ret-1", customer_id="c-1", at=clock.now(), purchase_id="o-1", amount=Decimal(20)
        )
    )
    service.record(Visit(id="v-1", customer_id="c-3", at=clock.now()))
    clock.advance(relativedelta(days=14))
    service.redeem("c-1", 30, key="r-1")
    service.hold("c-1", 20, "h-1", clock.now() + timedelta(hours=1))
    service.capture("h-1", 15)
    service.hold("c-1", 10, "h-2", clock.now() + timedelta(hours=1))
    service.release("h-2")
    service.hold("c-2", 5, "h-3", clock.now() + timedelta(hours=1))
    service.run_due()
    clock.advance(timedelta(days=3))
    service.run_due()
    service.cancel_redemption("r-1")
    service.adjust("c-1", -5, reason="fix", key="a-1")
    service.record(
        Return(
            id="ret-2",
            customer_id="c-2",
            at=clock.now(),
            purchase_id="o-2",
            items=(ONE_FLAT_WHITE,),
        )
    )
    service.save_customer(Customer("c-1", name="Ada", email="ada@example.com"))
    clock.advance(relativedelta(months=6))
    service.record(_purchase("o-3", amount="40.00", at=clock.now()))
    clock.advance(relativedelta(months=7))
    service.run_due()


def _everything(service: RetentionService) -> tuple[object, ...]:
    now = service.clock.now()
    with service.store.unit_of_work(write=False) as uow:
        return (
            [uow.load(c) for c in ("c-1", "c-2", "c-3")],
            [tuple(uow.entries(c)) for c in ("c-1", "c-2", "c-3")],
            [uow.hold(key) for key in ("h-1", "h-2", "h-3")],
            [uow.purchase(key) for key in ("o-1", "o-2", "o-3")],
            uow.redemption("r-1"),
            list(uow.log()),
            list(uow.due(now)),
        )


def _the_whole_service_on(make: Callable[[], Any]) -> None:
    """The history on a store ``make()`` gives agrees with the same history on a
    MemoryStore, and a replay into another of its stores gives the same again."""
    clock, memory_clock = FixedClock(T0), FixedClock(T0)
    live = RetentionService(Program(points=POLICY), make(), clock)
    memory = RetentionService(Program(points=POLICY), MemoryStore(), memory_clock)
    _history(live, clock)
    _history(memory, memory_clock)
    fresh = RetentionService(Program(points=POLICY), make(), FixedClock(clock.now()))

    outcomes = fresh.replay(live.log())

    assert [record.outcome for record in live.log()] == outcomes
    assert _everything(memory) == _everything(live)
    assert _everything(live) == _everything(fresh)
    for service in (live, fresh):
        service.store.close()  # type: ignore[attr-defined]


@postgres
class TestTheServiceOnPostgres:
    def test_a_history_replayed_into_a_fresh_tenant_gives_the_same_state(self) -> None:
        _the_whole_service_on(make_store)


class TestSQLiteThroughSQLAlchemy:
    """The same SQL through SQLAlchemy's SQLite dialect (a file; BEGIN IMMEDIATE)."""

    def test_a_history_replayed_into_a_fresh_file_gives_the_same_state(
        self, tmp_path: Path
    ) -> None:
        files = iter(range(2))
        _the_whole_service_on(lambda: SQLAlchemyStore(f"sqlite:///{tmp_path}/{next(files)}.db"))

    def test_two_tenants_share_a_file_apart(self, tmp_path: Path) -> None:
        url = f"sqlite:///{tmp_path / 'loyalty.db'}"
        with (
            SQLAlchemyStore(url, tenant="cafe") as cafe_store,
            SQLAlchemyStore(url, tenant="bakery") as bakery_store,
        ):
            cafe, bakery = _service(cafe_store), _service(bakery_store)

            cafe.record(_purchase("o-1", amount="10.00"))
            bakery.record(_purchase("o-1", amount="25.00"))

            assert (10, 25) == (cafe.balance("c-1").available, bakery.balance("c-1").available)

    def test_a_newer_file_is_refused(self, tmp_path: Path) -> None:
        url = f"sqlite:///{tmp_path / 'loyalty.db'}"
        SQLAlchemyStore(url).close()
        other = sqlalchemy.create_engine(url)
        with other.begin() as connection:
            connection.exec_driver_sql(
                f"UPDATE custbond_schema SET version = {SCHEMA_VERSION + 1}"
            )
        other.dispose()

        with pytest.raises(SchemaVersionError):
            SQLAlchemyStore(url)
