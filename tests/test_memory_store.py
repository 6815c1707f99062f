"""MemoryStore: units of work with real transactions, and the due index."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from custbond import (
    Customer,
    CustomerState,
    Entry,
    Ledger,
    MemoryStore,
    Outcome,
    Purchase,
    Redeem,
    Store,
    UnitOfWork,
)
from custbond.ledger import balance, earn, settle
from custbond.records import HoldRecord, HoldStatus, PurchaseRecord, RedemptionRecord

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DUE = T0 + timedelta(days=14)
US = timedelta(microseconds=1)


class Boom(Exception):
    """Raised inside a unit of work to abort it."""


def _state(customer_id: str = "c-1", *, due: datetime | None = DUE) -> CustomerState:
    """A customer with 100 points, pending until ``due`` (or available at once)."""
    ledger, _ = earn(
        Ledger(),
        points=100,
        source=f"o-{customer_id}",
        earned_at=T0,
        available_at=T0 if due is None else due,
        expires_at=None,
        now=T0,
    )
    return CustomerState(Customer(customer_id), ledger)


def _entries() -> tuple[Entry, ...]:
    _, entries = earn(
        Ledger(), points=1, source="x", earned_at=T0, available_at=T0, expires_at=None, now=T0
    )
    return entries


def _outcome(customer_id: str = "c-1", key: str = "o-1") -> Outcome:
    return Outcome(customer_id, key, T0, (), ("test",), (), balance(Ledger(), T0))


def _purchase(purchase_id: str = "o-1") -> Purchase:
    return Purchase(
        id=purchase_id, customer_id="c-1", at=T0, amount=Decimal("10.00"), currency="USD"
    )


def _records() -> tuple[PurchaseRecord, HoldRecord, RedemptionRecord]:
    return (
        PurchaseRecord(_purchase(), (), 10),
        HoldRecord("h-1", "c-1", 30, T0, T0 + timedelta(hours=1)),
        RedemptionRecord("r-1", "c-1", 10, (), T0),
    )


def _write_everything(store: MemoryStore) -> None:
    """Inside one unit of work: a state, entries, a log record and one of each record."""
    with store.unit_of_work() as uow:
        state = _state()
        uow.save(state, _entries())
        uow.append(("event", "o-1"), _purchase(), T0, _outcome())
        purchase, hold, redemption = _records()
        uow.keep(purchase)
        uow.keep(hold)
        uow.keep(redemption)


def _snapshot(store: MemoryStore, customer_id: str = "c-1") -> tuple[object, ...]:
    with store.unit_of_work() as uow:
        return (
            uow.load(customer_id),
            tuple(uow.entries(customer_id)),
            tuple(uow.log()),
            uow.logged(("event", "o-1")),
            uow.purchase("o-1"),
            uow.hold("h-1"),
            uow.redemption("r-1"),
            tuple(uow.due(DUE + timedelta(days=365))),
        )


class TestMemoryStoreIsAStore:
    def test_it_satisfies_the_store_port(self) -> None:
        store: Store = MemoryStore()

        with store.unit_of_work() as uow:
            assert uow.load("nobody") is None

    def test_an_empty_store_has_nothing(self) -> None:
        assert (None, (), (), None, None, None, None, ()) == _snapshot(MemoryStore())

    def test_its_repr_counts_customers_and_log_records(self) -> None:
        store = MemoryStore()
        _write_everything(store)

        assert "<MemoryStore: 1 customers, 1 log records>" == repr(store)


class TestCommit:
    def test_what_a_unit_of_work_wrote_is_kept_when_it_ends(self) -> None:
        store = MemoryStore()

        _write_everything(store)

        state, entries, log, logged, purchase, hold, redemption, due = _snapshot(store)
        assert (_state(), 1, 1, ("c-1",)) == (state, len(entries), len(log), due)
        assert (logged, _records()) == (log[0], (purchase, hold, redemption))  # type: ignore[index]

    def test_entries_are_appended_in_order_across_units_of_work(self) -> None:
        store = MemoryStore()
        first = _entries()
        second = tuple(
            Entry(2, entry.kind, entry.at, entry.points, "y", entry.reason) for entry in first
        )

        for entries in (first, second):
            with store.unit_of_work() as uow:
                uow.save(_state(), entries)

        with store.unit_of_work() as uow:
            assert (*first, *second) == tuple(uow.entries("c-1"))

    def test_a_record_kept_again_replaces_the_first(self) -> None:
        store = MemoryStore()
        _write_everything(store)
        captured = HoldRecord(
            "h-1", "c-1", 30, T0, T0 + timedelta(hours=1), HoldStatus.CAPTURED, 30
        )

        with store.unit_of_work() as uow:
            uow.keep(captured)

        with store.unit_of_work() as uow:
            assert captured == uow.hold("h-1")

    def test_log_records_are_numbered_in_order_and_read_after_a_sequence_number(self) -> None:
        store = MemoryStore()
        for n in range(1, 4):
            with store.unit_of_work() as uow:
                uow.append(("event", f"o-{n}"), _purchase(f"o-{n}"), T0, _outcome(key=f"o-{n}"))

        with store.unit_of_work() as uow:
            assert ([1, 2, 3], [3]) == (
                [record.seq for record in uow.log()],
                [record.seq for record in uow.log(after=2)],
            )

    def test_a_command_without_a_key_is_logged_but_not_found_by_key(self) -> None:
        store = MemoryStore()
        command = Redeem(key="r-1", customer_id="c-1", points=1)

        with store.unit_of_work() as uow:
            record = uow.append(None, command, T0, _outcome())

        with store.unit_of_work() as uow:
            assert ([record], None) == (list(uow.log()), uow.logged(("command", "r-1")))


def _aborted(store: MemoryStore, write: Callable[[UnitOfWork], None]) -> None:
    """Run ``write`` in a unit of work that then raises Boom."""
    with store.unit_of_work() as uow:
        write(uow)
        raise Boom


def _write_new_customer(uow: UnitOfWork) -> None:
    state = _state()
    uow.save(state, _entries())
    uow.append(("event", "o-1"), _purchase(), T0, _outcome())
    for record in _records():
        uow.keep(record)


def _overwrite_everything(uow: UnitOfWork) -> None:
    settled, entries = settle(_state().ledger, DUE)
    uow.save(CustomerState(Customer("c-1", name="Ada"), settled), entries)
    uow.append(("event", "o-2"), _purchase("o-2"), T0, _outcome(key="o-2"))
    uow.keep(HoldRecord("h-1", "c-1", 30, T0, T0 + timedelta(hours=1), HoldStatus.RELEASED))
    uow.keep(RedemptionRecord("r-1", "c-1", 10, (), T0, cancelled=True))
    uow.keep(PurchaseRecord(_purchase(), (), 10, returned=Decimal("5.00")))


def _move_due_times(uow: UnitOfWork) -> None:
    uow.save(_state("c-1", due=None), ())  # nothing due any more
    uow.save(_state("c-2", due=T0 + US), ())  # due sooner


def _nothing(uow: UnitOfWork) -> None:
    pass


class TestRollback:
    def test_an_exception_inside_a_unit_of_work_leaves_nothing_changed(self) -> None:
        store = MemoryStore()

        with pytest.raises(Boom):
            _aborted(store, _write_new_customer)

        assert (None, (), (), None, None, None, None, ()) == _snapshot(store)
        assert "<MemoryStore: 0 customers, 0 log records>" == repr(store)

    def test_an_exception_leaves_existing_data_as_it_was(self) -> None:
        store = MemoryStore()
        _write_everything(store)
        before = _snapshot(store)

        with pytest.raises(Boom):
            _aborted(store, _overwrite_everything)

        assert before == _snapshot(store)

    def test_the_due_index_is_untouched_by_an_aborted_unit_of_work(self) -> None:
        store = MemoryStore()
        with store.unit_of_work() as uow:
            uow.save(_state("c-1", due=DUE), ())

        with pytest.raises(Boom):
            _aborted(store, _move_due_times)

        with store.unit_of_work() as uow:
            assert ([], ["c-1"]) == (list(uow.due(T0 + US)), list(uow.due(DUE)))

    def test_the_store_can_be_used_again_after_an_exception(self) -> None:
        store = MemoryStore()
        with pytest.raises(Boom):
            _aborted(store, _nothing)
        loaded: list[object] = []

        def other_thread() -> None:
            with store.unit_of_work() as uow:
                loaded.append(uow.load("c-1"))

        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join(timeout=5)

        assert [None] == loaded

    def test_the_exception_is_not_swallowed(self) -> None:
        store = MemoryStore()

        with pytest.raises(Boom, match="kept"), store.unit_of_work():
            raise Boom("kept")


class TestIsolation:
    def test_reads_see_their_own_writes(self) -> None:
        store = MemoryStore()

        with store.unit_of_work() as uow:
            state = _state()
            uow.save(state, _entries())
            record = uow.append(("event", "o-1"), _purchase(), T0, _outcome())
            for kept in _records():
                uow.keep(kept)

            assert (state, _entries(), [record], record) == (
                uow.load("c-1"),
                tuple(uow.entries("c-1")),
                list(uow.log()),
                uow.logged(("event", "o-1")),
            )
            assert _records() == (uow.purchase("o-1"), uow.hold("h-1"), uow.redemption("r-1"))

    def test_the_ledger_alone_reads_as_the_states_before_and_after_commit(self) -> None:
        store = MemoryStore()

        with store.unit_of_work() as uow:
            uow.save(_state(), _entries())
            unsaved = uow.load_ledger("c-1")
        with store.unit_of_work() as uow:
            kept = uow.load_ledger("c-1")
            state = uow.load("c-1")

        assert state is not None
        assert (_state().ledger, state.ledger, None) == (
            unsaved,
            kept,
            MemoryStore().unit_of_work().load_ledger("c-1"),
        )

    def test_a_later_write_in_the_same_unit_of_work_wins(self) -> None:
        store = MemoryStore()

        with store.unit_of_work() as uow:
            uow.save(_state(), ())
            renamed = CustomerState(Customer("c-1", name="Ada"), _state().ledger)
            uow.save(renamed, ())

            assert renamed == uow.load("c-1")

    def test_writes_are_not_visible_to_another_unit_of_work_before_commit(self) -> None:
        store = MemoryStore()
        seen: list[object] = []
        started = threading.Event()

        def reader() -> None:
            started.set()
            with store.unit_of_work() as uow:
                seen.append(uow.load("c-1"))

        with store.unit_of_work() as uow:
            uow.save(_state(), ())
            thread = threading.Thread(target=reader)
            thread.start()
            started.wait(timeout=5)
            assert [] == seen  # the reader waits for this unit of work to end

        thread.join(timeout=5)
        assert [_state()] == seen

    def test_log_sequence_numbers_continue_from_the_kept_log(self) -> None:
        store = MemoryStore()
        _write_everything(store)

        with store.unit_of_work() as uow:
            first = uow.append(("event", "o-2"), _purchase("o-2"), T0, _outcome(key="o-2"))
            second = uow.append(("event", "o-3"), _purchase("o-3"), T0, _outcome(key="o-3"))

            assert ([2, 3], [1, 2, 3]) == (
                [first.seq, second.seq],
                [record.seq for record in uow.log()],
            )


class TestDue:
    @pytest.mark.parametrize(
        ("now", "due"),
        [(DUE - US, []), (DUE, ["c-1"]), (DUE + US, ["c-1"])],
        ids=["just-before", "at", "just-after"],
    )
    def test_a_customer_is_due_from_their_next_due_time(
        self, now: datetime, due: list[str]
    ) -> None:
        store = MemoryStore()
        with store.unit_of_work() as uow:
            uow.save(_state(), ())

        with store.unit_of_work() as uow:
            assert due == list(uow.due(now))

    def test_a_customer_with_nothing_ahead_is_never_due(self) -> None:
        store = MemoryStore()
        with store.unit_of_work() as uow:
            uow.save(_state(due=None), ())

        with store.unit_of_work() as uow:
            assert [] == list(uow.due(datetime(9999, 1, 1, tzinfo=UTC)))

    def test_due_customers_are_listed_once_in_id_order(self) -> None:
        store = MemoryStore()
        for customer_id, due in [("c-3", DUE), ("c-1", DUE + US), ("c-2", DUE - US)]:
            with store.unit_of_work() as uow:
                uow.save(_state(customer_id, due=due), ())
        with store.unit_of_work() as uow:  # saved again, unchanged
            uow.save(_state("c-3", due=DUE), ())

        with store.unit_of_work() as uow:
            assert ["c-1", "c-2", "c-3"] == list(uow.due(DUE + US))

    def test_reading_what_is_due_changes_nothing(self) -> None:
        store = MemoryStore()
        with store.unit_of_work() as uow:
            uow.save(_state("c-1"), ())
            uow.save(_state("c-2", due=DUE + timedelta(days=1)), ())

        with store.unit_of_work() as uow:
            first = list(uow.due(DUE))
            second = list(uow.due(DUE))
        with store.unit_of_work() as uow:
            later = list(uow.due(DUE + timedelta(days=1)))

        assert (["c-1"], ["c-1"], ["c-1", "c-2"]) == (first, second, later)

    def test_a_customer_whose_due_changes_were_materialised_is_no_longer_due(self) -> None:
        store = MemoryStore()
        with store.unit_of_work() as uow:
            uow.save(_state(), ())
        settled, entries = settle(_state().ledger, DUE)

        with store.unit_of_work() as uow:
            uow.save(CustomerState(Customer("c-1"), settled), entries)

        with store.unit_of_work() as uow:
            assert [] == list(uow.due(datetime(9999, 1, 1, tzinfo=UTC)))

    def test_a_customer_whose_next_due_time_moved_is_due_at_the_new_time(self) -> None:
        store = MemoryStore()
        with store.unit_of_work() as uow:
            uow.save(_state(due=DUE), ())
        with store.unit_of_work() as uow:
            uow.save(_state(due=DUE + timedelta(days=7)), ())
        with store.unit_of_work() as uow:
            uow.save(_state(due=DUE - timedelta(days=7)), ())

        with store.unit_of_work() as uow:
            assert (["c-1"], ["c-1"]) == (
                list(uow.due(DUE - timedelta(days=7))),
                list(uow.due(DUE + timedelta(days=7))),
            )

    def test_a_state_saved_in_the_unit_of_work_counts_before_commit(self) -> None:
        store = MemoryStore()

        with store.unit_of_work() as uow:
            uow.save(_state(), ())

            assert ["c-1"] == list(uow.due(DUE))

    def test_a_state_settled_in_the_unit_of_work_is_not_due_before_commit(self) -> None:
        store = MemoryStore()
        with store.unit_of_work() as uow:
            uow.save(_state(), ())
        settled, entries = settle(_state().ledger, DUE)

        with store.unit_of_work() as uow:
            uow.save(CustomerState(Customer("c-1"), settled), entries)

            assert [] == list(uow.due(DUE))
