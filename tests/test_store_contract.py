"""The store contract (custbond.testing.contract) on every store in tests/stores.py, and
on a broken store, which it must catch."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, cast

import attrs
import pytest
from hypothesis import Phase, settings
from hypothesis.stateful import run_state_machine_as_test

from custbond import CustomerState, MemoryStore, Store, UnitOfWork
from custbond.erasure import Erasure
from custbond.testing.contract import StoreContract, store_machine
from stores import STORES


class TestStoreContract(StoreContract):
    """The example tests, once per store."""

    @pytest.fixture(autouse=True, params=STORES)
    def _factory(self, request: pytest.FixtureRequest) -> None:
        self.factory: Callable[[], Store] = request.param

    def make_store(self) -> Store:
        return self.factory()


@pytest.mark.parametrize("make_store", STORES)
def test_every_run_of_units_of_work_agrees_with_a_dict_model(
    make_store: Callable[[], Store],
) -> None:
    run_state_machine_as_test(store_machine(make_store))


# -- a negative control --------------------------------------------------------------------


class _TierlessUnitOfWork:
    """A unit of work that loses the customer's tier when it loads a state."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def __getattr__(self, name: str) -> Any:
        return getattr(self._uow, name)

    def load(self, customer_id: str) -> CustomerState | None:
        state = self._uow.load(customer_id)
        return None if state is None else attrs.evolve(state, tier=None)


class TierlessStore:
    """A MemoryStore behind a unit of work that forgets tiers: a broken store."""

    def __init__(self) -> None:
        self._store = MemoryStore()

    @contextmanager
    def unit_of_work(self, *, write: bool = True) -> Iterator[UnitOfWork]:
        with self._store.unit_of_work(write=write) as uow:
            yield cast("UnitOfWork", _TierlessUnitOfWork(uow))


class TestABrokenStoreFailsTheContract:
    def test_the_machine_finds_a_store_that_forgets_tiers(self) -> None:
        machine = store_machine(TierlessStore)
        quick = settings(machine.TestCase.settings, phases=[Phase.generate])  # no shrinking

        with pytest.raises(AssertionError, match=r"differs at (\[0\])?\.tier: got None"):
            run_state_machine_as_test(machine, settings=quick)

    def test_an_example_test_finds_a_store_that_forgets_tiers(self) -> None:
        class TestTierlessStore(StoreContract):
            def make_store(self) -> Store:
                return TierlessStore()

        with pytest.raises(AssertionError, match=r"differs at (\[0\])?\.tier: got None"):
            TestTierlessStore().test_what_was_saved_loads_back_equal_field_by_field()


class _NoForgetUnitOfWork(_TierlessUnitOfWork):
    """A unit of work whose forget() does nothing: a host adapter that never erases."""

    def load(self, customer_id: str) -> CustomerState | None:
        return self._uow.load(customer_id)

    def forget(self, erasure: Erasure) -> None:
        pass


class NoForgetStore(TierlessStore):
    """A MemoryStore behind a unit of work that never erases anything: a broken store."""

    @contextmanager
    def unit_of_work(self, *, write: bool = True) -> Iterator[UnitOfWork]:
        with self._store.unit_of_work(write=write) as uow:
            yield cast("UnitOfWork", _NoForgetUnitOfWork(uow))


class TestAStoreThatDoesNotEraseFailsTheContract:
    def test_an_example_test_finds_a_store_whose_forget_does_nothing(self) -> None:
        class TestNoForgetStore(StoreContract):
            def make_store(self) -> Store:
                return NoForgetStore()

        with pytest.raises(AssertionError, match=r"load\('ann-7f3c'\) after forget\(\)"):
            TestNoForgetStore().test_forget_renames_the_customer_and_leaves_nothing_of_them_readable()
