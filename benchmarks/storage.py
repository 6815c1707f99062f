"""Benchmark the stores: record() and record_many() on SQLite and PostgreSQL.

Run it with ``make bench`` (``.venv/bin/python benchmarks/storage.py``); ``--quick`` runs a
tenth of the purchases, ``--check`` exits 1 when a goal is missed, ``--batch`` sets
record_many()'s batch (500). The full run takes about 20 seconds, 1.5 minutes with
PostgreSQL; ``--quick`` a few seconds. PostgreSQL is measured when
``CUSTBOND_BENCH_POSTGRES_URL`` (or ``CUSTBOND_TEST_POSTGRES_URL``) names a server, e.g.
``postgresql+psycopg://user:password@localhost/custbond_bench``; every run writes under a
tenant of its own (``bench-<time>-<pid>-<run>``), which is left in the database: point
it at a database kept for benchmarks.

The workload is ``ledger.py``'s: purchases (2.50 to 39.99 USD) spread evenly over a year,
10 points per dollar, 14 days pending, 12 months to expiry; 20,000 purchases by 2,000
customers (``--quick``: 2,000 by 200), built before timing.

- ``record()``: one purchase per call (one unit of work each), a ``FixedClock`` set to
  the purchase's time. On the databases, the purchases of one customer in four (all of
  their purchases, so each customer's history is as long as in the full stream).
- ``record_many()``: batches of ``--batch`` consecutive purchases, one call per batch,
  the clock set to the batch's last purchase.

Each is run on a ``MemoryStore`` (the reference: the best of 3 runs), on SQLite (a new
file for each run, WAL, ``synchronous=NORMAL``; ``FULL`` for information), and on
PostgreSQL (``SQLAlchemyStore``). On the databases, also with 4 worker processes
(forked, each opening its own store on the same file or tenant): the customers are dealt
to the workers by a hash of their id, so each customer's purchases stay in one worker,
in time order. Rates are events per second of wall-clock time (a database store waits
on the disk and the server: CPU time alone would flatter it), from the start of the work
to the end of the last worker; the CPU time of the process(es) doing it is shown too.
Statements per event come from the store's ``statements`` counter (an ``executemany``
counts once; ``BEGIN`` and ``COMMIT`` count).

Afterwards every customer's balance at the end of the year must be the same as on the
memory store's record() run, or the benchmark stops.

Goals (from issue #4): record() issues at most 12 SQL statements per event (a small
constant); record_many() on SQLite reaches 10,000 events/s, and at least a third of the
memory store's record_many() rate.
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing
import os
import platform
import sys
import tempfile
import threading
import time
import traceback
import zlib
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import suppress
from datetime import timedelta
from functools import partial
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

import attrs
from ledger import PROGRAM, START, make_purchases  # benchmarks/ledger.py, beside this file

from custbond import Balance, FixedClock, MemoryStore, Purchase, RetentionService, SQLiteStore
from custbond.errors import StorageError
from custbond.storage import Store

cpu_time = time.process_time
wall_time = time.perf_counter

STATEMENTS_GOAL = 12  # record(): at most this many SQL statements per event
SQLITE_RATE_GOAL = 10_000  # record_many() on SQLite: at least this many events/s
MEMORY_SHARE_GOAL = 1 / 3  # record_many() on SQLite: at least this share of the memory rate

WORKERS = 4
RECORD_SHARE = 4  # record() on a database: the purchases of one customer in this many
END = START + timedelta(days=365)  # balances are compared at the end of the year
POSTGRES_VARIABLES = ("CUSTBOND_BENCH_POSTGRES_URL", "CUSTBOND_TEST_POSTGRES_URL")

Call = Literal["record()", "record_many()"]


@attrs.frozen
class Scale:
    purchases: int
    customers: int


FULL = Scale(purchases=20_000, customers=2_000)
QUICK = Scale(purchases=2_000, customers=200)


@runtime_checkable
class Counting(Protocol):
    """The SQL stores: they count the statements they issue, and are closed."""

    @property
    def statements(self) -> int: ...

    def close(self) -> None: ...


# A store to measure: each call opens one on the same database (in any process).
Database = Callable[[], Store]
# The databases measured, by name; each makes a new database (or tenant) for a run.
Databases = dict[str, Callable[[str], Database]]


@attrs.frozen
class Result:
    """One run: ``events`` recorded by ``processes`` processes in ``wall`` seconds."""

    label: str
    processes: int
    events: int
    wall: float
    cpu: float  # CPU seconds of the process(es) doing the work
    statements: int | None  # None for the memory store
    per_record: Counter[int] | None = None  # record(): how many events issued n statements

    @property
    def rate(self) -> float:
        return self.events / self.wall

    @property
    def statements_per_event(self) -> float | None:
        return None if self.statements is None else self.statements / self.events


@attrs.frozen
class Goal:
    name: str
    value: float
    limit: float
    shown: str  # the value as printed
    at_least: bool = False  # the value must be at least the limit (else at most)

    @property
    def met(self) -> bool:
        return self.value >= self.limit if self.at_least else self.value <= self.limit

    def verdict(self, limit: str) -> str:
        return f"goal {'>=' if self.at_least else '<='} {limit}: {'met' if self.met else 'MISSED'}"


# -- the work ------------------------------------------------------------------------------


def statements_of(store: Store) -> int | None:
    return store.statements if isinstance(store, Counting) else None


def close(store: Store) -> None:
    if isinstance(store, Counting):
        store.close()


def batches(purchases: Sequence[Purchase], size: int) -> list[list[Purchase]]:
    return [list(purchases[start : start + size]) for start in range(0, len(purchases), size)]


def deal(purchases: Sequence[Purchase], workers: int) -> list[list[Purchase]]:
    """``purchases`` dealt to ``workers`` by a hash of the customer's id: all of a
    customer's purchases go to one worker, in the order they came."""
    shares: list[list[Purchase]] = [[] for _ in range(workers)]
    for purchase in purchases:
        shares[zlib.crc32(purchase.customer_id.encode()) % workers].append(purchase)
    return shares


def work(
    store: Store, call: Call, purchases: Sequence[Purchase], batch: int
) -> tuple[float, float, Counter[int] | None]:
    """Record ``purchases`` into ``store``; (wall seconds, CPU seconds, for record() on a
    SQL store: how many events issued how many statements)."""
    clock = FixedClock(START)
    service = RetentionService(PROGRAM, store, clock)
    move_to = clock.set
    per_record: Counter[int] | None = None
    if call == "record_many()":
        chunks = batches(purchases, batch)  # made before timing
        record_many = service.record_many
        started, cpu_started = wall_time(), cpu_time()
        for chunk in chunks:
            move_to(chunk[-1].at)
            record_many(chunk, batch_size=batch)
    elif isinstance(store, Counting):
        per_record = Counter()
        record, counted = service.record, per_record.update
        started, cpu_started = wall_time(), cpu_time()
        for purchase in purchases:
            move_to(purchase.at)
            before = store.statements
            record(purchase)
            counted((store.statements - before,))
    else:
        record = service.record
        started, cpu_started = wall_time(), cpu_time()
        for purchase in purchases:
            move_to(purchase.at)
            record(purchase)
    return wall_time() - started, cpu_time() - cpu_started, per_record


def run_here(
    label: str, database: Database, call: Call, purchases: Sequence[Purchase], batch: int
) -> tuple[Result, dict[str, Balance]]:
    """One run in this process; the result and every customer's balance at the end."""
    store = database()
    try:
        before = statements_of(store)
        wall, cpu, per_record = work(store, call, purchases, batch)
        after = statements_of(store)
        balances = balances_of(store, {purchase.customer_id for purchase in purchases})
    finally:
        close(store)
    statements = None if before is None or after is None else after - before
    result = Result(label, 1, len(purchases), wall, cpu, statements, per_record)
    return result, balances


def run_in_workers(
    label: str,
    database: Database,
    call: Call,
    purchases: Sequence[Purchase],
    *,
    batch: int,
    workers: int,
) -> tuple[Result, dict[str, Balance]]:
    """One run in ``workers`` forked processes, each on its own store; the clock runs
    from when all have opened their store to when the last one has finished."""
    close(database())  # the schema and the tenant, made before the workers start
    context = multiprocessing.get_context("fork")
    start = context.Barrier(workers + 1)
    pipes: list[Connection] = []
    processes = []
    for share in deal(purchases, workers):
        receiving, sending = context.Pipe(duplex=False)

        def run(share: list[Purchase] = share, sending: Connection = sending) -> None:
            # Sends (CPU seconds, statements), or the traceback of what went wrong.
            try:
                store = database()
                try:
                    before = statements_of(store) or 0
                    start.wait()
                    _, cpu, _ = work(store, call, share, batch)
                    sending.send((cpu, (statements_of(store) or 0) - before))
                finally:
                    close(store)
            except BaseException:
                start.abort()  # nobody waits for this worker any longer
                sending.send(traceback.format_exc())

        process = context.Process(target=run, daemon=True)  # ends if this process exits
        process.start()
        sending.close()
        pipes.append(receiving)
        processes.append(process)
    with suppress(threading.BrokenBarrierError):  # a worker failed: its report says why
        start.wait()
    started = wall_time()
    try:
        reports = [pipe.recv() for pipe in pipes]
    except EOFError:
        sys.exit(f"{label}: a worker ended without a report")
    wall = wall_time() - started
    for process in processes:
        process.join()
    failures = [report for report in reports if isinstance(report, str)]
    if failures:
        first = next((f for f in failures if "BrokenBarrierError" not in f), failures[0])
        sys.exit(f"{label}: a worker failed:\n{first}")
    cpu = sum(report[0] for report in reports)
    statements = sum(report[1] for report in reports)
    store = database()
    try:
        balances = balances_of(store, {purchase.customer_id for purchase in purchases})
    finally:
        close(store)
    return Result(label, workers, len(purchases), wall, cpu, statements), balances


def balances_of(store: Store, customers: set[str]) -> dict[str, Balance]:
    service = RetentionService(PROGRAM, store, FixedClock(END))
    return {customer_id: service.balance(customer_id) for customer_id in sorted(customers)}


def check(label: str, balances: dict[str, Balance], reference: dict[str, Balance]) -> None:
    """Every customer's balance must be the memory store's record() run's."""
    for customer_id, balance in balances.items():
        if balance != reference[customer_id]:
            sys.exit(
                f"{label}: the balance of {customer_id} differs from the memory store's:\n"
                f"  {balance}\n  {reference[customer_id]}"
            )


# -- the databases -------------------------------------------------------------------------


def sqlite(folder: Path, run: str, synchronous: str = "NORMAL") -> Database:
    path = folder / f"{run}.db"
    return partial(SQLiteStore, path, synchronous=synchronous)


def postgres_url() -> str | None:
    for variable in POSTGRES_VARIABLES:
        url = os.environ.get(variable)
        if url:
            return url
    return None


def postgres(url: str, run: str) -> Database:
    from custbond.storage.sqlalchemy import SQLAlchemyStore  # noqa: PLC0415 - an extra

    tenant = f"bench-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{run}"
    return partial(SQLAlchemyStore, url, tenant=tenant)


def postgres_probe(url: str | None) -> tuple[bool, str]:
    """Whether PostgreSQL can be measured; its URL without the password, or why not."""
    if url is None:
        return False, f"not measured (no server: set {POSTGRES_VARIABLES[0]})"
    try:
        database = postgres(url, "probe")
    except ImportError:
        return False, "not measured (SQLAlchemy is missing: pip install -e '.[postgres]')"
    try:
        store = database()
    except StorageError as error:  # its message masks the password
        return False, f"not measured ({error})"
    shown = str(getattr(store, "url", "PostgreSQL"))
    close(store)
    return True, shown


# -- the report ----------------------------------------------------------------------------

WIDTH = 48


def header() -> None:
    print(
        f"  {'':<{WIDTH}}{'events':>7}{'procs':>6}{'events/s':>11}{'us/event':>10}"
        f"{'CPU us':>8}{'SQL/event':>11}"
    )


def show(result: Result) -> None:
    per_event = result.statements_per_event
    print(
        f"  {result.label:<{WIDTH}}{result.events:>7,}{result.processes:>6}"
        f"{result.rate:>11,.0f}{result.wall / result.events * 1e6:>10.1f}"
        f"{result.cpu / result.events * 1e6:>8.1f}"
        f"{'-' if per_event is None else f'{per_event:.2f}':>11}"
    )


def spread(per_record: Counter[int]) -> str:
    """``9 (4,900 events), 11 (100 events)``: how many events issued n statements."""
    return ", ".join(f"{n} ({count:,} events)" for n, count in sorted(per_record.items()))


def goal_row(name: str, shown: str, note: str) -> None:
    print(f"  {name:<62}{shown:>10}  {note}")


@attrs.define
class Bench:
    """The runs so far, checked against the memory store's record() run."""

    batch: int
    reference: dict[str, Balance] = attrs.Factory(dict)
    results: list[Result] = attrs.Factory(list)

    def measure(
        self,
        label: str,
        database: Database,
        call: Call,
        events: Sequence[Purchase],
        *,
        processes: int = 1,
        repeats: int = 1,
    ) -> Result:
        """Run ``call`` on ``events`` (the best of ``repeats`` runs), show the result and
        check the balances."""
        if processes == 1:
            runs = [run_here(label, database, call, events, self.batch) for _ in range(repeats)]
            result, balances = max(runs, key=lambda run: run[0].rate)
        else:
            result, balances = run_in_workers(
                label, database, call, events, batch=self.batch, workers=processes
            )
        if self.reference:
            check(label, balances, self.reference)
        else:  # the first run is the reference
            self.reference = balances
        show(result)
        self.results.append(result)
        return result

    def find(self, label: str) -> Result:
        return next(result for result in self.results if result.label == label)


def measure_all(
    bench: Bench,
    purchases: Sequence[Purchase],
    some: Sequence[Purchase],
    databases: Databases,
    folder: Path,
) -> None:
    # The reference: the best of 3 runs each (the goal's ratio can only come out lower).
    for call in ("record()", "record_many()"):
        bench.measure(f"memory {call} (best of 3)", MemoryStore, call, purchases, repeats=3)
    for name, database in databases.items():
        bench.measure(f"{name} record()", database("record-1"), "record()", some)
        bench.measure(f"{name} record_many()", database("many-1"), "record_many()", purchases)
        if name == "SQLite":  # for information: what a commit that survives power loss costs
            full = sqlite(folder, "many-full", "FULL")
            label = "SQLite record_many(), synchronous FULL (info)"
            bench.measure(label, full, "record_many()", purchases)
        calls: list[tuple[Call, Sequence[Purchase]]] = [
            ("record()", some),
            ("record_many()", purchases),
        ]
        for call, events in calls:
            label = f"{name} {call}, {WORKERS} processes"
            run = f"{call[:-2].replace('_', '-')}-{WORKERS}"
            bench.measure(label, database(run), call, events, processes=WORKERS)


def goals_of(bench: Bench, databases: Databases) -> list[tuple[Goal, str]]:
    """The goals, each with its limit as printed."""
    goals: list[tuple[Goal, str]] = []
    for database in databases:
        per_event = bench.find(f"{database} record()").statements_per_event
        assert per_event is not None
        name = f"record() statements per event on {database}"
        goal = Goal(name, per_event, STATEMENTS_GOAL, f"{per_event:.2f}")
        goals.append((goal, f"{STATEMENTS_GOAL} (a small constant)"))
    rate = bench.find("SQLite record_many()").rate
    name = "record_many() on SQLite, events/s"
    goal = Goal(name, rate, SQLITE_RATE_GOAL, f"{rate:,.0f}", at_least=True)
    goals.append((goal, f"{SQLITE_RATE_GOAL:,}"))
    share = rate / bench.find("memory record_many() (best of 3)").rate
    name = "record_many() on SQLite / on the memory store"
    goals.append((Goal(name, share, MEMORY_SHARE_GOAL, f"{share:.2f}x", at_least=True), "1/3"))
    return goals


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark record() and record_many() on stores.")
    parser.add_argument("--quick", action="store_true", help="a tenth of the purchases")
    parser.add_argument("--check", action="store_true", help="exit 1 when a goal is missed")
    parser.add_argument("--batch", type=int, default=500, help="record_many()'s batch size")
    args = parser.parse_args(argv)
    scale = QUICK if args.quick else FULL
    if args.batch < 1:
        parser.error("--batch must be 1 or more")

    print(
        f"custbond storage benchmark{' --quick' if args.quick else ''}: "
        f"Python {platform.python_version()}, {platform.system()} {platform.machine()}, "
        f"{os.cpu_count()} CPUs"
    )
    purchases = make_purchases(scale.purchases, scale.customers)
    few = {f"c-{n}" for n in range(0, scale.customers, RECORD_SHARE)}
    some = [purchase for purchase in purchases if purchase.customer_id in few]
    # The purchases are the harness's input: out of the garbage collector's reach.
    gc.collect()
    gc.freeze()
    url = postgres_url()
    reachable, postgres_shown = postgres_probe(url)
    with tempfile.TemporaryDirectory(prefix="custbond-bench-") as folder:
        databases: Databases = {"SQLite": partial(sqlite, Path(folder))}
        if url is not None and reachable:
            databases["PostgreSQL"] = partial(postgres, url)
        print(
            f"{len(purchases):,} purchases by {scale.customers:,} customers over a year;"
            f" record() on a database: {len(some):,} purchases, all those of one customer in"
            f" {RECORD_SHARE} ({len(few):,})"
        )
        print(
            f"record_many(): batches of {args.batch} consecutive purchases, the clock at each"
            " batch's last purchase"
        )
        print(f"SQLite: a new file in {folder} for each run; PostgreSQL: {postgres_shown}")
        print(
            "events/s and us/event: wall-clock time (database work waits on I/O); CPU us: this"
            " process's CPU time, or the workers' together (not a server's)"
        )
        print()
        header()
        bench = Bench(args.batch)
        measure_all(bench, purchases, some, databases, Path(folder))
        if not reachable:
            print(f"  {'PostgreSQL':<{WIDTH}}{postgres_shown}")

    print()
    print("SQL statements per record(), how many events issued each number:")
    for result in bench.results:
        if result.per_record is not None:
            print(f"  {result.label}: {spread(result.per_record)}")
    goals = goals_of(bench, databases)
    print()
    print("Goals")
    for goal, limit in goals:
        goal_row(goal.name, goal.shown, goal.verdict(limit))
    if not reachable:
        goal_row("record() statements per event on PostgreSQL", "-", postgres_shown)
    missed = [goal for goal, _ in goals if not goal.met]
    print(f"  {len(goals) - len(missed)} of {len(goals)} goals met")
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
