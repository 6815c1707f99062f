"""MemoryStore: what is particular to it. What every store must do is the store contract
(custbond.testing.contract), run on it by tests/test_store_contract.py."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import attrs
import pytest

from custbond import (
    MemoryStore,
    Store,
    UnitOfWork,
)
from custbond.tasks import Task

# The contract's own samples: a state, entries, an outcome, a purchase, the records.
from custbond.testing.contract import (
    _state,
    _write_everything,
    _write_new_customer,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DUE = T0 + timedelta(days=14)


class Boom(Exception):
    """Raised inside a unit of work to abort it."""


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


class TestTasks:
    def test_updating_a_task_never_added_is_refused(self) -> None:
        task = Task(
            key="t-1", customer_id="c-1", owner="sam", due_at=T0, reason="x", created_at=T0
        )
        store = MemoryStore()

        with pytest.raises(ValueError, match="no task under 't-1'"), store.unit_of_work() as uow:
            uow.update_task(task)

        with store.unit_of_work() as uow:
            assert uow.task("t-1") is None

    def test_tasks_are_kept_as_rows(self) -> None:
        task = Task(
            key="t-1", customer_id="c-1", owner="sam", due_at=T0, reason="x", created_at=T0
        )
        store = MemoryStore()
        with store.unit_of_work() as uow:
            uow.add_task(task)

        assert {"t-1": tuple(getattr(task, name) for name in attrs.fields_dict(Task))} == (
            store._tasks
        )


class TestMemoryStoreIsAStore:
    def test_it_satisfies_the_store_port(self) -> None:
        store: Store = MemoryStore()

        with store.unit_of_work() as uow:
            assert uow.load("nobody") is None

    def test_its_repr_counts_customers_and_log_records(self) -> None:
        store = MemoryStore()
        _write_everything(store)

        assert "<MemoryStore: 1 customers, 1 log records>" == repr(store)


def _aborted(store: MemoryStore, write: Callable[[UnitOfWork], None]) -> None:
    """Run ``write`` in a unit of work that then raises Boom."""
    with store.unit_of_work() as uow:
        write(uow)
        raise Boom


class TestRollback:
    def test_an_exception_inside_a_unit_of_work_leaves_nothing_changed(self) -> None:
        store = MemoryStore()

        with pytest.raises(Boom):
            _aborted(store, _write_new_customer)

        assert (None, (), (), None, None, None, None, ()) == _snapshot(store)
        assert "<MemoryStore: 0 customers, 0 log records>" == repr(store)


class TestIsolation:
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
