"""Benchmark the points ledger: record() throughput and the cost of balance().

Run it with ``make bench`` (``.venv/bin/python benchmarks/ledger.py``); ``--quick`` runs a
tenth of the record() workload, ``--check`` exits 1 when a goal is missed. What is measured
and what the baseline does is explained in ``benchmarks/README.md``.

1. record(): purchases over a year, through ``RetentionService.record()`` on a
   ``MemoryStore`` with a ``FixedClock`` set to each purchase's time, against a plain-Python
   baseline doing the same points job with dicts and lists, in the same run.
   Goal: record() within 4x of the baseline.
2. balance(): ``service.balance()`` for a customer with 100 lots and one with 10,000 lots
   (about half still live, the rest redeemed or expired).
   Goal: 10,000 lots within 2x of 100 lots.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import random
import statistics
import sys
import time
import timeit
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from functools import partial

import attrs
from dateutil.relativedelta import relativedelta

from custbond import (
    EntryKind,
    FixedClock,
    MemoryStore,
    PointsPerSpend,
    PointsPolicy,
    Program,
    Purchase,
    RetentionService,
)

# CPU time of this process: the same as wall time on an idle machine, and not inflated by
# other processes competing for the CPU on a busy one.
cpu_time = time.process_time

RECORD_GOAL = 4.0  # record() at most this many times slower than the baseline
BALANCE_GOAL = 2.0  # balance() with 10,000 lots at most this many times slower than with 100

# One policy for both sides of the record() comparison.
POINTS, PER = 10, Decimal(1)  # 10 points per dollar, rounded down
PENDING_FOR = relativedelta(days=14)  # the return window
EXPIRE_AFTER = relativedelta(months=12)
PROGRAM = Program(
    currency="USD",
    earn=PointsPerSpend(points=POINTS, per=PER),
    points=PointsPolicy(pending_for=PENDING_FOR, expire_after=EXPIRE_AFTER),
)
START = datetime(2026, 1, 1, tzinfo=UTC)
BUILD_SPAN = timedelta(days=730)  # the balance() customers buy over two years
SEED = 20260101


@attrs.frozen
class Scale:
    purchases: int
    customers: int
    baseline_repeats: int = 3
    small_lots: int = 100
    big_lots: int = 10_000
    balance_calls: int = 2_000
    balance_repeats: int = 7


FULL = Scale(purchases=200_000, customers=20_000)
QUICK = Scale(purchases=20_000, customers=2_000, balance_calls=1_000, balance_repeats=5)


@attrs.define
class GcTimer:
    """Time spent in the cyclic garbage collector while ``measure()`` is active."""

    seconds: float = 0.0
    _started: float = 0.0

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = cpu_time()
        else:
            self.seconds += cpu_time() - self._started

    @contextmanager
    def measure(self) -> Iterator[GcTimer]:
        gc.collect()
        gc.callbacks.append(self._callback)
        try:
            yield self
        finally:
            gc.callbacks.remove(self._callback)


# -- the workload --------------------------------------------------------------------------


def make_purchases(count: int, customers: int) -> list[Purchase]:
    """``count`` purchases over one year, in time order, by ``customers`` customers."""
    rng = random.Random(SEED)
    step = timedelta(days=365) / count
    return [
        Purchase(
            id=f"o-{n}",
            customer_id=f"c-{rng.randrange(customers)}",
            at=START + n * step,
            amount=Decimal(rng.randrange(250, 4000)).scaleb(-2),  # 2.50 to 39.99
            currency="USD",
        )
        for n in range(count)
    ]


# -- (a) record() against a plain-Python baseline ------------------------------------------


def run_custbond(purchases: Sequence[Purchase]) -> tuple[float, float, RetentionService]:
    """Record every purchase; (seconds, of which in the garbage collector, the service)."""
    clock = FixedClock(START)
    service = RetentionService(PROGRAM, MemoryStore(), clock)
    record, move_to = service.record, clock.set
    with GcTimer().measure() as collector:
        started = cpu_time()
        for purchase in purchases:
            move_to(purchase.at)
            record(purchase)
        seconds = cpu_time() - started
    return seconds, collector.seconds, service


def run_baseline(purchases: Sequence[Purchase]) -> tuple[float, float, dict[str, int]]:
    """The same points job with dicts and lists: for each purchase, dedupe its id, compute
    its points and dates, keep a lot and the customer's total.

    Returns (seconds, of which in the garbage collector, points per customer).
    """
    seen: dict[str, tuple[str, int]] = {}  # event id -> its result
    lots: dict[str, list[tuple[str, int, datetime, datetime, datetime]]] = {}
    totals: dict[str, int] = {}
    with GcTimer().measure() as collector:
        started = cpu_time()
        for purchase in purchases:
            if purchase.id in seen:
                continue
            customer_id, at = purchase.customer_id, purchase.at
            points = int((purchase.amount * POINTS / PER).to_integral_value(ROUND_FLOOR))
            lot = (purchase.id, points, at, at + PENDING_FOR, at + EXPIRE_AFTER)
            customer_lots = lots.get(customer_id)
            if customer_lots is None:
                lots[customer_id] = [lot]
            else:
                customer_lots.append(lot)
            totals[customer_id] = totals.get(customer_id, 0) + points
            seen[purchase.id] = (customer_id, points)
        seconds = cpu_time() - started
    return seconds, collector.seconds, totals


def run_ledger_baseline(purchases: Sequence[Purchase]) -> tuple[float, float, dict[str, int]]:
    """The same ledger work as record() does for a purchase, in plain Python: dedupe the
    id; first clear the customer's pending lots whose return window has passed and expire
    lots whose time has come, keeping an entry for each; then compute the points and dates,
    keep the lot and an "earned" entry, and remember the result for the id.

    Lots are tuples in per-customer deques (purchases arrive in time order and the
    windows are fixed, so both queues stay sorted by appending). This is the baseline the
    goal is checked against. Returns (seconds, of which in gc, entries per customer).
    """
    seen: dict[str, tuple[str, int]] = {}
    pending: dict[str, deque[tuple[str, int, datetime, datetime, datetime]]] = {}
    available: dict[str, deque[tuple[str, int, datetime, datetime, datetime]]] = {}
    entries: dict[str, list[tuple[str, str, datetime, int]]] = {}
    totals: dict[str, int] = {}
    with GcTimer().measure() as collector:
        started = cpu_time()
        for purchase in purchases:
            if purchase.id in seen:
                continue
            customer_id, at = purchase.customer_id, purchase.at
            waiting = pending.get(customer_id)
            if waiting is None:
                waiting = pending[customer_id] = deque()
                spendable = available[customer_id] = deque()
                kept = entries[customer_id] = []
            else:
                spendable, kept = available[customer_id], entries[customer_id]
            while waiting and waiting[0][3] <= at:  # the return window has passed
                lot = waiting.popleft()
                spendable.append(lot)
                kept.append(("cleared", lot[0], lot[3], 0))
            while spendable and spendable[0][4] <= at:  # expired
                lot = spendable.popleft()
                totals[customer_id] -= lot[1]
                kept.append(("expired", lot[0], lot[4], -lot[1]))
            points = int((purchase.amount * POINTS / PER).to_integral_value(ROUND_FLOOR))
            lot = (purchase.id, points, at, at + PENDING_FOR, at + EXPIRE_AFTER)
            waiting.append(lot)
            kept.append(("earned", purchase.id, at, points))
            totals[customer_id] = totals.get(customer_id, 0) + points
            seen[purchase.id] = (customer_id, points)
        seconds = cpu_time() - started
    return seconds, collector.seconds, {cid: len(kept) for cid, kept in entries.items()}


def check_same_entries(service: RetentionService, counts: dict[str, int]) -> None:
    """The ledger baseline must have written as many entries as custbond did."""
    for customer_id, count in counts.items():
        with service.store.unit_of_work() as uow:  # the entries written, none projected
            written = len(uow.entries(customer_id))
        if written != count:
            sys.exit(f"entry mismatch for {customer_id}: custbond {written}, baseline {count}")


def check_same_points(service: RetentionService, totals: dict[str, int]) -> None:
    """Both sides must have done the same job: the same points for every customer."""
    for customer_id, points in totals.items():
        earned = service.balance(customer_id).earned
        if earned != points:
            sys.exit(f"mismatch for {customer_id}: custbond {earned}, baseline {points}")


# -- (b) balance() with few and many lots --------------------------------------------------


def build_customer(store: MemoryStore, customer_id: str, lots: int) -> None:
    """Give ``customer_id`` ``lots`` lots over two years, redeeming now and then, so that at
    the end about half are still live and the rest were redeemed or have expired."""
    clock = FixedClock(START)
    service = RetentionService(PROGRAM, store, clock)
    rng = random.Random(f"{SEED}-{customer_id}")
    step = BUILD_SPAN / lots
    for n in range(lots):
        clock.set(START + n * step)
        service.record(
            Purchase(
                id=f"{customer_id}-o-{n}",
                customer_id=customer_id,
                at=clock.now(),
                amount=Decimal(rng.randrange(250, 1500)).scaleb(-2),
                currency="USD",
            )
        )
        if n % 10 == 9:  # every tenth visit, spend about two visits' worth of points
            available = service.balance(customer_id).available
            if available >= 150:
                service.redeem(customer_id, min(available, 180), key=f"{customer_id}-r-{n}")


def describe_lots(service: RetentionService, customer_id: str) -> str:
    """How many lots ``customer_id`` earned, and how many are live, redeemed, expired."""
    with service.store.unit_of_work() as uow:
        state = uow.load(customer_id)
    assert state is not None
    ledger = state.ledger
    earned = ledger.next_lot - 1
    live = len(ledger.pending_lots) + len(ledger.available_lots)
    expired = sum(e.kind is EntryKind.EXPIRED for e in service.statement(customer_id))
    return f"{earned:,} lots: {live:,} live, {earned - live - expired:,} used, {expired:,} expired"


def next_due_at(service: RetentionService, customer_id: str) -> datetime:
    with service.store.unit_of_work() as uow:
        state = uow.load(customer_id)
    assert state is not None
    assert state.ledger.next_due_at is not None
    return state.ledger.next_due_at


def time_record(service: RetentionService, customer_id: str, count: int) -> float:
    """Microseconds per record() of ``count`` more purchases by ``customer_id``, now."""
    now = service.clock.now()
    purchases = [
        Purchase(
            id=f"{customer_id}-more-{n}",
            customer_id=customer_id,
            at=now,
            amount=Decimal("4.50"),
            currency="USD",
        )
        for n in range(count)
    ]
    started = cpu_time()
    for purchase in purchases:
        service.record(purchase)
    return (cpu_time() - started) / count * 1e6


def time_per_call(call: Callable[[], object], number: int, repeats: int) -> float:
    """Microseconds per call: the median of three timeit runs, each the best of ``repeats``
    rounds of ``number`` calls."""
    timer = timeit.Timer(call, timer=cpu_time)
    runs = [min(timer.repeat(repeat=repeats, number=number)) / number for _ in range(3)]
    return statistics.median(runs) * 1e6


# -- the report ----------------------------------------------------------------------------

WIDTH = 52


def row(label: str, value: str, note: str = "") -> None:
    print(f"  {label:<{WIDTH}}{value:>18}  {note}".rstrip())


def verdict(ratio: float, goal: float) -> str:
    return f"goal <= {goal:g}x: {'met' if ratio <= goal else 'MISSED'}"


def measure_record(scale: Scale) -> float:
    purchases = make_purchases(scale.purchases, scale.customers)
    # The events are the harness's input, built before timing; keep the garbage collector
    # from walking them again and again in either run.
    gc.collect()
    gc.freeze()
    runs = [run_ledger_baseline(purchases) for _ in range(scale.baseline_repeats)]
    base_seconds, base_gc, counts = min(runs, key=lambda run: run[0])
    minimal = [run_baseline(purchases) for _ in range(scale.baseline_repeats)]
    min_seconds, min_gc, totals = min(minimal, key=lambda run: run[0])
    ours_seconds, ours_gc, service = run_custbond(purchases)
    check_same_points(service, totals)
    check_same_entries(service, counts)
    del service
    gc.unfreeze()

    count = len(purchases)
    ratio = ours_seconds / base_seconds
    print(f"record(): {count:,} purchases by {scale.customers:,} customers over a year")
    repeats = scale.baseline_repeats
    for label, seconds, in_gc in (
        (f"plain-Python ledger baseline (best of {repeats})", base_seconds, base_gc),
        (f"plain-Python points-only baseline (best of {repeats})", min_seconds, min_gc),
        ("RetentionService.record() on MemoryStore", ours_seconds, ours_gc),
    ):
        row(
            label,
            f"{count / seconds:,.0f} events/s",
            f"{seconds / count * 1e6:6.2f} us/event, {in_gc / count * 1e6:5.2f} of them in gc",
        )
    row("ratio to the ledger baseline", f"{ratio:.2f}x", verdict(ratio, RECORD_GOAL))
    without_gc = (ours_seconds - ours_gc) / (base_seconds - base_gc)
    row("ratio without the time in gc (for information)", f"{without_gc:.2f}x")
    row(
        "ratio to the points-only baseline (for information)", f"{ours_seconds / min_seconds:.2f}x"
    )
    return ratio


def compare(
    title: str, calls: dict[str, Callable[[], object]], number: int, repeats: int
) -> float:
    """Time each call, print a row for each and their ratio (last / first); the ratio."""
    timings = [time_per_call(call, number, repeats) for call in calls.values()]
    print(title)
    for label, timing in zip(calls, timings, strict=True):
        row(label, f"{timing:.2f} us/call")
    return timings[-1] / timings[0]


def measure_balance(scale: Scale) -> float:
    store = MemoryStore()
    customers = {"small": scale.small_lots, "big": scale.big_lots}
    for customer_id, lots in customers.items():
        build_customer(store, customer_id, lots)
    clock = FixedClock(START + BUILD_SPAN)
    service = RetentionService(PROGRAM, store, clock)
    service.run_due()  # the steady state: whatever became due is materialised

    ratio = compare(
        f"balance(): median of 3 x best of {scale.balance_repeats} x {scale.balance_calls:,}"
        " calls",
        {describe_lots(service, c): partial(service.balance, c) for c in customers},
        scale.balance_calls,
        scale.balance_repeats,
    )
    row("ratio", f"{ratio:.2f}x", verdict(ratio, BALANCE_GOAL))

    # For information: a read when something has become due (the next pending lot has
    # cleared) that no job has materialised yet; balance() projects it on every call.
    late = compare(
        "balance() once the next lot has cleared, before run_due() (for information)",
        {
            f"{lots:,} lots": partial(service.balance, c, at=next_due_at(service, c))
            for c, lots in customers.items()
        },
        scale.balance_calls // 10,
        scale.balance_repeats,
    )
    row("ratio", f"{late:.2f}x")

    # For information: what one more purchase costs each of them.
    extra = {c: time_record(service, c, 200) for c in customers}
    print("record() of one more purchase (for information)")
    for c, lots in customers.items():
        row(f"{lots:,} lots", f"{extra[c]:.2f} us/call")
    row("ratio", f"{extra['big'] / extra['small']:.2f}x")
    return ratio


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark record() and balance().")
    parser.add_argument("--quick", action="store_true", help="a tenth of the record() load")
    parser.add_argument("--check", action="store_true", help="exit 1 when a goal is missed")
    args = parser.parse_args(argv)
    scale = QUICK if args.quick else FULL

    print(
        f"custbond ledger benchmark{' --quick' if args.quick else ''}: "
        f"Python {platform.python_version()}, {platform.system()} {platform.machine()}, "
        f"{os.cpu_count()} CPUs"
    )
    print()
    record_ratio = measure_record(scale)
    print()
    balance_ratio = measure_balance(scale)

    missed = record_ratio > RECORD_GOAL or balance_ratio > BALANCE_GOAL
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
