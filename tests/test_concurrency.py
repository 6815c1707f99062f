"""Several processes on one database: no lost update, no overdraft, no double apply, no
overspent budget. And a naive store that reads and writes in separate transactions,
which the same checks catch: proof that they can fail."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from custbond import (
    FixedClock,
    InsufficientPoints,
    Program,
    Purchase,
    RetentionService,
    Rule,
    Store,
)
from custbond.rules import Budget, FixedPoints
from store_specs import StoreSpec, spec, store_specs

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WORKERS = 4
PROGRAM = Program(
    rules=[Rule("launch bonus", on="Purchase", then=[FixedPoints(10)], limits=[Budget(100)])],
)
FORK = multiprocessing.get_context("fork")  # the workers inherit the imported modules

pytestmark = pytest.mark.slow
__all__ = ["spec"]  # the fixture, imported


def _service(store: Store) -> RetentionService:
    return RetentionService(PROGRAM, store, FixedClock(T0))


def _purchase(n: int, customer_id: str, amount: str = "10.00") -> Purchase:
    return Purchase(
        id=f"o-{n}",
        customer_id=customer_id,
        at=T0,
        amount=Decimal(amount),
        currency="USD",
    )


def _in_workers(target: Callable[..., None], *args: Any) -> list[Any]:
    """Run ``target(queue, worker, *args)`` in WORKERS processes at once; their results."""
    queue = FORK.Queue()
    processes = [
        FORK.Process(target=target, args=(queue, n, *args), daemon=True) for n in range(WORKERS)
    ]
    for process in processes:
        process.start()
    try:
        results = [queue.get(timeout=120) for _ in processes]
        for process in processes:
            process.join(timeout=60)
            assert process.exitcode == 0, f"a worker failed (exit code {process.exitcode})"
    finally:  # a failed test must not leave workers behind, waiting to be read
        for process in processes:
            if process.is_alive():
                process.kill()
    return results


# -- redemptions ---------------------------------------------------------------------------


def _redeem(queue: Any, worker: int, spec: StoreSpec, attempts: int, barrier: Any | None) -> None:
    """Try ``attempts`` redemptions of one point each; put (succeeded, refused)."""
    try:
        with spec.open(naive_barrier=barrier) as store:
            service = _service(store)
            succeeded = refused = 0
            for n in range(attempts):
                try:
                    service.redeem("c-1", 1, key=f"r-{worker}-{n}")
                    succeeded += 1
                except InsufficientPoints:
                    refused += 1
        queue.put((succeeded, refused))
    except BaseException as error:  # pragma: no cover - reported by the parent
        queue.put(error)
        raise


def _check_redemptions(spec: StoreSpec, *, attempts: int, barrier: Any | None = None) -> None:
    """4 processes x ``attempts`` redemptions of one point from 1,500: the checks."""
    with spec.open() as store:
        service = _service(store)
        service.record(_purchase(0, "c-1", "1490.00"))  # 1,490 points and 10 of bonus
        initial = service.balance("c-1").available
    results = _in_workers(_redeem, spec, attempts, barrier)
    for result in results:
        assert not isinstance(result, BaseException), result
    succeeded = sum(done for done, _ in results)
    refused = sum(failed for _, failed in results)
    with spec.open() as store:
        balance = _service(store).balance("c-1")
    assert WORKERS * attempts == succeeded + refused  # each succeeded or was refused
    assert balance.available >= 0  # no overdraft
    assert initial - succeeded == balance.available  # no lost update
    assert balance.redeemed == succeeded


@pytest.mark.parametrize("spec", store_specs(), indirect=True)
class TestConcurrentProcesses:
    def test_redemptions_never_overdraw_and_none_is_lost(self, spec: StoreSpec) -> None:
        _check_redemptions(spec, attempts=500)

    def test_the_same_events_delivered_by_four_processes_are_applied_once(
        self, spec: StoreSpec
    ) -> None:
        events = [_purchase(n, f"c-{n % 20}") for n in range(200)]

        results = _in_workers(_deliver, spec, events)

        for result in results:
            assert not isinstance(result, BaseException), result
        assert all(result == results[0] for result in results)  # the first outcome, always
        with spec.open() as store:
            service = _service(store)
            log = list(service.log())
            balances = {f"c-{n}": service.balance(f"c-{n}").available for n in range(20)}
        assert sorted(f"o-{n}" for n in range(200)) == sorted(r.key[1] for r in log if r.key)
        assert len(log) == 200
        assert sum(balances.values()) == 200 * 10 + 100  # the bonus's budget, once

    def test_a_campaign_budget_is_never_exceeded(self, spec: StoreSpec) -> None:
        results = _in_workers(_buy, spec, 50)

        for result in results:
            assert not isinstance(result, BaseException), result
        bonuses = sum(results)
        with spec.open() as store, store.unit_of_work(write=False) as uow:
            spent = uow.counter("rule launch bonus budget")
        assert 10 == bonuses  # 100 points of budget, 10 points each
        assert 100 == spent


def _deliver(queue: Any, worker: int, spec: StoreSpec, events: list[Purchase]) -> None:
    try:
        with spec.open() as store:
            service = _service(store)
            outcomes = [service.record(event) for event in events]
        queue.put([(o.customer_id, o.key, o.balance, o.effects) for o in outcomes])
    except BaseException as error:  # pragma: no cover - reported by the parent
        queue.put(error)
        raise


def _buy(queue: Any, worker: int, spec: StoreSpec, count: int) -> None:
    """``count`` purchases by this worker's own customers; put how many got the bonus."""
    try:
        with spec.open() as store:
            service = _service(store)
            bonuses = 0
            for n in range(count):
                outcome = service.record(_purchase(worker * 1000 + n, f"w{worker}-{n}"))
                bonuses += outcome.points == 20  # 10 for 10.00 USD, and 10 of bonus
        queue.put(bonuses)
    except BaseException as error:  # pragma: no cover - reported by the parent
        queue.put(error)
        raise


# -- the negative control --------------------------------------------------------------------


class TestTheChecksCanFail:
    def test_a_naive_read_then_write_store_loses_updates_and_the_checks_see_it(
        self, tmp_path: Path
    ) -> None:
        spec = StoreSpec("naive-sqlite", str(tmp_path / "naive.db"))

        with pytest.raises(AssertionError) as caught:
            _check_redemptions(spec, attempts=20, barrier=FORK.Barrier(WORKERS))

        # Every round, four workers read the same balance and each takes a point off it:
        # 80 redemptions succeeded, the balance fell by 20.
        assert "(1500 - 80) == 1480" in str(caught.value)
