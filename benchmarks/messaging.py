"""Benchmark messaging: draining the outbox with dispatch(), against calling the notifier.

Run it with ``make bench`` (``.venv/bin/python benchmarks/messaging.py``); ``--quick`` runs
a tenth of the messages, ``--check`` exits 1 when a message was not delivered exactly once
(the issue sets no goal for the ratio, so only correctness is checked), ``--limit`` sets
dispatch()'s ``limit`` (500). The full run takes about 15 seconds, PostgreSQL adds about
1.5 minutes; ``--quick`` a few seconds. PostgreSQL is measured when
``CUSTBOND_BENCH_POSTGRES_URL`` (or ``CUSTBOND_TEST_POSTGRES_URL``) names a server, as in
``storage.py``; each run writes under a tenant of its own, left in the database.

The workload: 20,000 transactional messages for 2,000 customers (``--quick``: 2,000 for
200), ten per customer, each customer with a name and an email address. Every message
is the default template ``points_expiring`` on email (a subject and a body), its
context the points (an int) and ``expires_on`` (an ISO date). Customers and messages
are built before timing.

- ``dispatch()``: a ``RetentionService`` with a ``FixedClock`` and a ``RecordingNotifier``;
  the customers are saved and the messages queued with ``service.queue(message)``, then
  the timed part calls ``service.dispatch(limit=500)`` until it returns nothing. Each
  message is read, checked (consent, address, quiet hours, caps), rendered and claimed in
  one unit of work, sent, and marked sent in another. On a ``MemoryStore`` (best of 3
  runs), on SQLite (a new file, WAL, ``synchronous=NORMAL``) and on PostgreSQL
  (``SQLAlchemyStore``, a new tenant).
- The baseline (best of 5): a plain loop that does, for the same messages, what a host
  would do without custbond: look up the customer's name and address in a dict, fill in
  the same template's subject and body with ``string.Template`` from a dict of values,
  and call a ``RecordingNotifier``'s ``send()`` with the same ``Outgoing``.
- ``queue()`` (for information): the time the queuing above took, one unit of work per
  message.

Rates are messages per second of wall-clock time (a database store waits on the disk
and the server); CPU time of this process and the part of it spent in the cyclic
garbage collector are shown too. The ratio is dispatch()'s wall time per message over
the baseline's. Afterwards every store's notifier must have been given every queued
message's key exactly once, each message's ``Outgoing`` equal to the baseline's, and
the outbox must hold every message as sent.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import random
import string
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import attrs
from ledger import GcTimer  # benchmarks/ledger.py, beside this file
from storage import close, postgres, postgres_probe, postgres_url, statements_of

from custbond import (
    Customer,
    FixedClock,
    MemoryStore,
    MessageStatus,
    Program,
    RecordingNotifier,
    RetentionService,
    SQLiteStore,
)
from custbond.messaging import Message, Outgoing
from custbond.messaging.templates import DEFAULT_TEMPLATES
from custbond.storage import Store

cpu_time = time.process_time
wall_time = time.perf_counter

PROGRAM = Program(currency="USD")  # the default messaging policy: default templates
START = datetime(2026, 3, 2, 10, tzinfo=UTC)
SEED = 20260302
TEMPLATE, CHANNEL = "points_expiring", "email"


@attrs.frozen
class Scale:
    messages: int
    customers: int
    repeats: int = 3  # the memory store: the best of this many runs
    baseline_repeats: int = 5  # the baseline (a run takes a fraction of a second)


FULL = Scale(messages=20_000, customers=2_000)
QUICK = Scale(messages=2_000, customers=200)

# A store to measure: a new, empty one (a new file, a new tenant) for each call.
Database = Callable[[], Store]


@attrs.frozen
class Result:
    """``messages`` handled in ``wall`` seconds (``cpu`` of this process, ``in_gc`` of
    that in the garbage collector), issuing ``statements`` SQL statements."""

    label: str
    messages: int
    wall: float
    cpu: float
    in_gc: float
    statements: int | None = None  # None for the memory store and the baseline

    @property
    def rate(self) -> float:
        return self.messages / self.wall

    def per_message(self, seconds: float) -> float:
        return seconds / self.messages * 1e6


@attrs.frozen
class Run:
    """One store's run: the queuing, the draining, and what went wrong (nothing, we hope)."""

    queued: Result
    dispatched: Result
    problems: tuple[str, ...]
    summary: str


# -- the workload --------------------------------------------------------------------------


def make_customers(count: int) -> list[Customer]:
    return [
        Customer(f"c-{n}", name=f"Customer {n}", email=f"customer-{n}@example.com")
        for n in range(count)
    ]


def make_messages(count: int, customers: int) -> list[Message]:
    """``count`` transactional "points expiring" emails, dealt to the customers in turn."""
    rng = random.Random(SEED)
    today = START.date()
    return [
        Message(
            key=f"m-{n}",
            customer_id=f"c-{n % customers}",
            template=TEMPLATE,
            channel=CHANNEL,
            context={
                "points": rng.randrange(50, 5_000),
                "expires_on": (today + timedelta(days=rng.randrange(1, 60))).isoformat(),
            },
        )
        for n in range(count)
    ]


# -- the baseline --------------------------------------------------------------------------


def run_baseline(
    customers: Sequence[Customer], messages: Sequence[Message]
) -> tuple[Result, RecordingNotifier]:
    """Render each message with ``string.Template`` and hand it to a notifier: no outbox,
    no checks, no units of work."""
    profiles = {customer.id: (customer.name, customer.email) for customer in customers}
    texts: dict[tuple[str, str], tuple[string.Template | None, string.Template]] = {}
    for message in messages:  # compiled before timing, as custbond's are
        if (message.template, message.channel) not in texts:
            found = DEFAULT_TEMPLATES.find(message.template, message.channel)
            subject = None if found.subject is None else string.Template(found.subject)
            texts[message.template, message.channel] = subject, string.Template(found.body)
    notifier = RecordingNotifier()
    send = notifier.send
    with GcTimer().measure() as collector:
        started, cpu_started = wall_time(), cpu_time()
        for message in messages:
            name, email = profiles[message.customer_id]
            values = {**message.context, "name": name or "there"}
            subject, body = texts[message.template, message.channel]
            send(
                Outgoing(
                    key=message.key,
                    customer_id=message.customer_id,
                    channel=message.channel,
                    kind=message.kind,
                    template=message.template,
                    to=email,
                    subject=None if subject is None else subject.substitute(values),
                    body=body.substitute(values),
                    attempt=1,
                )
            )
        wall, cpu = wall_time() - started, cpu_time() - cpu_started
    return Result(
        "baseline: render + notifier.send()", len(messages), wall, cpu, collector.seconds
    ), notifier


# -- dispatch() on a store -----------------------------------------------------------------


@attrs.frozen
class Workload:
    """The customers, the messages to queue for them, the ``Outgoing`` the baseline gave
    the notifier for each message's key, and dispatch()'s ``limit``."""

    customers: Sequence[Customer]
    messages: Sequence[Message]
    expected: dict[str, Outgoing]
    limit: int


def run_store(name: str, database: Database, workload: Workload) -> Run:
    """Save the customers, queue the messages (timed, for information), then drain the
    outbox with dispatch() (timed), and check what the notifier was given."""
    customers, messages, limit = workload.customers, workload.messages, workload.limit
    store = database()
    try:
        notifier = RecordingNotifier()
        service = RetentionService(PROGRAM, store, FixedClock(START), notifier=notifier)
        for customer in customers:
            service.save_customer(customer)

        queue = service.queue
        before = statements_of(store)
        with GcTimer().measure() as collector:
            started, cpu_started = wall_time(), cpu_time()
            for message in messages:
                queue(message)
            wall, cpu = wall_time() - started, cpu_time() - cpu_started
        queued = Result(
            f"{name} queue()", len(messages), wall, cpu, collector.seconds, used(store, before)
        )

        dispatch = service.dispatch
        before = statements_of(store)
        with GcTimer().measure() as collector:
            started, cpu_started = wall_time(), cpu_time()
            while dispatch(limit=limit):
                pass
            wall, cpu = wall_time() - started, cpu_time() - cpu_started
        dispatched = Result(
            f"{name} dispatch()", len(messages), wall, cpu, collector.seconds, used(store, before)
        )
        problems, summary = check(notifier, service, workload.expected)
    finally:
        close(store)
    return Run(queued, dispatched, problems, summary)


def used(store: Store, before: int | None) -> int | None:
    after = statements_of(store)
    return None if before is None or after is None else after - before


def check(
    notifier: RecordingNotifier, service: RetentionService, expected: dict[str, Outgoing]
) -> tuple[tuple[str, ...], str]:
    """Every queued message given to the notifier exactly once, as the baseline rendered
    it, and kept as sent: (the problems found, a line saying what was seen)."""
    problems: list[str] = []
    keys = Counter(outgoing.key for outgoing in notifier.delivered)
    twice = sorted(key for key, count in keys.items() if count > 1)
    missing = sorted(expected.keys() - keys.keys())
    unknown = sorted(keys.keys() - expected.keys())
    if twice:
        problems.append(f"{len(twice):,} messages delivered more than once, e.g. {twice[0]}")
    if missing:
        problems.append(f"{len(missing):,} messages never delivered, e.g. {missing[0]}")
    if unknown:
        problems.append(f"{len(unknown):,} deliveries of messages never queued: {unknown[0]}")
    if len(notifier.sent) != len(notifier.delivered):
        problems.append(f"{len(notifier.sent) - len(notifier.delivered):,} sends failed")
    differ = [o.key for o in notifier.delivered if expected.get(o.key, o) != o]
    if differ:
        problems.append(
            f"{len(differ):,} messages differ from the baseline's, e.g. {differ[0]}:\n"
            f"    {next(o for o in notifier.delivered if o.key == differ[0])}\n"
            f"    {expected[differ[0]]}"
        )
    statuses = Counter(item.status.value for item in service.outbox())
    if statuses != Counter({MessageStatus.SENT.value: len(expected)}):
        problems.append(f"the outbox holds {dict(statuses)}, not {len(expected):,} sent")
    summary = (
        f"{len(keys):,} of {len(expected):,} keys delivered, "
        f"{sum(keys.values()) - len(keys):,} twice, {len(differ):,} not as the baseline's; "
        f"outbox: {', '.join(f'{count:,} {status}' for status, count in statuses.items())}"
    )
    return tuple(problems), summary


# -- the databases -------------------------------------------------------------------------


def sqlite(folder: Path, run: str) -> Database:
    return partial(SQLiteStore, folder / f"{run}.db")


# -- the report ----------------------------------------------------------------------------

WIDTH = 48


def header() -> None:
    print(
        f"  {'':<{WIDTH}}{'messages':>9}{'msgs/s':>9}{'wall us':>9}{'CPU us':>9}"
        f"{'gc us':>7}{'SQL/msg':>9}{'ratio':>8}"
    )


def show(result: Result, baseline: Result | None = None) -> None:
    statements = "-" if result.statements is None else f"{result.statements / result.messages:.2f}"
    ratio = "" if baseline is None else f"{result.wall / baseline.wall:.1f}x"
    print(
        f"  {result.label:<{WIDTH}}{result.messages:>9,}{result.rate:>9,.0f}"
        f"{result.per_message(result.wall):>9.2f}{result.per_message(result.cpu):>9.2f}"
        f"{result.per_message(result.in_gc):>7.2f}{statements:>9}{ratio:>8}".rstrip()
    )


def best(runs: Sequence[Result]) -> Result:
    return min(runs, key=lambda result: result.wall)


def measure_memory(workload: Workload, repeats: int) -> Run:
    """The memory store's run: the best queue() and the best dispatch() of ``repeats``."""
    runs = [run_store("memory", MemoryStore, workload) for _ in range(repeats)]
    queued = best([run.queued for run in runs])
    dispatched = best([run.dispatched for run in runs])
    return Run(
        attrs.evolve(queued, label=f"memory queue() (best of {repeats})"),
        attrs.evolve(dispatched, label=f"memory dispatch() (best of {repeats})"),
        tuple(problem for run in runs for problem in run.problems),
        runs[0].summary,
    )


def report(runs: Sequence[Run], baseline: Result) -> list[str]:
    """Print queue()'s figures, the ratios and the checks; the problems found."""
    print()
    print("queue(), one unit of work per message (for information)")
    for run in runs:
        show(run.queued)

    print()
    print("Ratios of dispatch() to the baseline")
    for run in runs:
        result = run.dispatched
        print(
            f"  {result.label:<{WIDTH}}{result.wall / baseline.wall:>8.1f}x wall,"
            f" {result.cpu / baseline.cpu:>6.1f}x CPU"
        )

    print()
    print("Every message delivered exactly once (the issue sets no goal for the ratio)")
    problems = [problem for run in runs for problem in run.problems]
    for run in runs:
        store = run.dispatched.label.split(" dispatch()")[0]
        print(f"  {store + ':':<12}{run.summary}")
    for problem in problems:
        print(f"  PROBLEM: {problem}")
    print(f"  {'MISSED' if problems else 'met'}")
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark dispatch() against a plain loop.")
    parser.add_argument("--quick", action="store_true", help="a tenth of the messages")
    parser.add_argument(
        "--check", action="store_true", help="exit 1 unless every message is delivered once"
    )
    parser.add_argument("--limit", type=int, default=500, help="dispatch()'s limit")
    args = parser.parse_args(argv)
    scale = QUICK if args.quick else FULL
    if args.limit < 1:
        parser.error("--limit must be 1 or more")

    print(
        f"custbond messaging benchmark{' --quick' if args.quick else ''}: "
        f"Python {platform.python_version()}, {platform.system()} {platform.machine()}, "
        f"{os.cpu_count()} CPUs"
    )
    customers = make_customers(scale.customers)
    messages = make_messages(scale.messages, scale.customers)
    # The customers and messages are the harness's input: out of the collector's reach.
    gc.collect()
    gc.freeze()
    url = postgres_url()
    reachable, postgres_shown = postgres_probe(url)

    baselines = [run_baseline(customers, messages) for _ in range(scale.baseline_repeats)]
    baseline = best([result for result, _ in baselines])
    baseline = attrs.evolve(baseline, label=f"{baseline.label} (best of {scale.baseline_repeats})")
    expected = {outgoing.key: outgoing for outgoing in baselines[0][1].delivered}
    del baselines
    workload = Workload(customers, messages, expected, args.limit)

    with tempfile.TemporaryDirectory(prefix="custbond-bench-") as folder:
        print(
            f"{len(messages):,} transactional {TEMPLATE!r} {CHANNEL} messages for"
            f" {scale.customers:,} customers; dispatch(limit={args.limit}) until it returns"
            " nothing, with a RecordingNotifier"
        )
        print(f"SQLite: a new file in {folder} for each run; PostgreSQL: {postgres_shown}")
        print(
            "msgs/s, wall us: wall-clock time per message; CPU us: this process's CPU time"
            " (not a server's), gc us: of it in the garbage collector; ratio: wall time over"
            " the baseline's"
        )
        print()
        header()
        show(baseline)
        runs = [measure_memory(workload, scale.repeats)]
        show(runs[0].dispatched, baseline)
        databases: dict[str, Database] = {"SQLite": sqlite(Path(folder), "dispatch")}
        if url is not None and reachable:
            databases["PostgreSQL"] = postgres(url, "messaging")
        for name, database in databases.items():
            runs.append(run_store(name, database, workload))
            show(runs[-1].dispatched, baseline)
        if not reachable:
            print(f"  {'PostgreSQL':<{WIDTH}}{postgres_shown}")

    problems = report(runs, baseline)
    return 1 if args.check and problems else 0


if __name__ == "__main__":
    sys.exit(main())
