"""Crash safety: a writer killed with SIGKILL at any statement loses nothing that was
committed and leaves nothing half-done; recording the whole stream again afterwards gives
exactly the state of a run that was never interrupted. A dispatcher killed while sending
loses no message, and sends again only what it was sending, under the same key."""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from custbond import (
    Customer,
    CustomEvent,
    Delivery,
    Event,
    FixedClock,
    MessageStatus,
    Outgoing,
    PointsPolicy,
    Program,
    Purchase,
    RetentionService,
    RetryPolicy,
    Return,
    Store,
    Visit,
)
from custbond.messaging import Message
from custbond.recovery import GoodwillPoints, IncidentDeclared, RecoveryPolicy
from store_specs import StoreSpec, spec, store_specs
from test_structural import PROGRAM as BAKERY

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
PROGRAM = Program(points=PointsPolicy(pending_for=timedelta(days=14)))
FORK = multiprocessing.get_context("fork")
KILL_POINTS = 10

pytestmark = pytest.mark.slow
__all__ = ["spec"]  # the fixture, imported


def _stream() -> list[Event]:
    """300 events by 20 customers over ten weeks: purchases, visits, returns."""
    rng = random.Random(7)
    events: list[Event] = []
    bought: list[Purchase] = []
    at = T0
    for n in range(300):
        at += timedelta(hours=rng.randrange(1, 8))
        customer_id = f"c-{rng.randrange(20)}"
        roll = rng.random()
        if roll < 0.1 and bought:
            purchase = rng.choice(bought)
            bought.remove(purchase)
            events.append(
                Return(
                    id=f"ret-{n}",
                    customer_id=purchase.customer_id,
                    at=at,
                    purchase_id=purchase.id,
                    amount=(purchase.amount / 2).quantize(Decimal("0.01")),
                )
            )
        elif roll < 0.25:
            events.append(Visit(id=f"v-{n}", customer_id=customer_id, at=at))
        else:
            purchase = Purchase(
                id=f"o-{n}",
                customer_id=customer_id,
                at=at,
                amount=Decimal(rng.randrange(100, 5000)).scaleb(-2),
                currency="USD",
            )
            bought.append(purchase)
            events.append(purchase)
    return events


STREAM = _stream()


def _record(store: Store, events: list[Event], *, batched: bool = False) -> None:
    clock = FixedClock(T0)
    service = RetentionService(PROGRAM, store, clock)
    if batched:  # a day's events at a time, at the day's end
        days: dict[Any, list[Event]] = {}
        for event in events:
            days.setdefault(event.at.date(), []).append(event)
        for day in days.values():
            clock.set(day[-1].at)
            service.record_many(day, batch_size=7)
        return
    for event in events:
        clock.set(event.at)
        service.record(event)


def _snapshot(store: Store) -> tuple[Any, ...]:
    customers = sorted({event.customer_id for event in STREAM})
    with store.unit_of_work(write=False) as uow:
        states = [uow.load(customer_id) for customer_id in customers]
        statements = [tuple(uow.entries(customer_id)) for customer_id in customers]
        log = [(r.seq, r.key, r.input) for r in uow.log()]
    return states, statements, sorted(log, key=lambda item: str(item[1]))


def _count_statements(store: Store, *, die_at: int | None = None) -> list[int]:
    """Count the statements the store sends (a list whose one item grows); with
    ``die_at``, kill this process without a word just before that one."""
    db = store._db  # type: ignore[attr-defined]
    seen = [0]
    for name in ("one", "all", "run", "many"):
        method = getattr(db, name)

        def counted(*args: Any, _method: Any = method) -> Any:
            seen[0] += 1
            if seen[0] == die_at:
                os.kill(os.getpid(), signal.SIGKILL)
            return _method(*args)

        setattr(db, name, counted)
    return seen


def _killed_at(spec: StoreSpec, statement: int, batched: bool) -> None:
    """Record the stream, and die at its ``statement``-th statement."""
    with spec.open() as store:
        _count_statements(store, die_at=statement)
        _record(store, STREAM, batched=batched)
    os._exit(0)  # the stream was shorter than the kill point


@pytest.mark.parametrize("spec", store_specs(), indirect=True)
def test_a_killed_writer_loses_nothing_committed_and_leaves_nothing_half_done(
    spec: StoreSpec, tmp_path: Any
) -> None:
    expected: dict[bool, tuple[Any, ...]] = {}
    totals: dict[bool, int] = {}
    for batched in (False, True):  # one by one, and a day at a time with record_many()
        reference = _another(spec, tmp_path, f"reference-{batched}")
        with reference.open() as store:
            counted = _count_statements(store)
            _record(store, STREAM, batched=batched)
            totals[batched] = counted[0]
            expected[batched] = _snapshot(store)
    rng = random.Random(2026)
    for n in range(KILL_POINTS):
        batched = n % 2 == 1
        statement = rng.randrange(2, totals[batched])
        run = _another(spec, tmp_path, f"run-{n}")
        child = FORK.Process(target=_killed_at, args=(run, statement, batched))
        child.start()
        child.join(timeout=120)
        assert child.exitcode == -signal.SIGKILL, f"the writer was to die at statement {statement}"

        with run.open() as store:
            _record(store, STREAM, batched=batched)  # again: what was kept is not done twice
            got = _snapshot(store)
        where = f"killed at statement {statement} of {totals[batched]} (batched: {batched})"
        for part, (want, have) in enumerate(zip(expected[batched], got, strict=True)):
            assert len(want) == len(have), where
            for index, (one, other) in enumerate(zip(want, have, strict=True)):
                assert one == other, f"{where}: part {part}, item {index}"


def _another(spec: StoreSpec, tmp_path: Any, name: str) -> StoreSpec:
    """A fresh store of ``spec``'s kind: another file, or another tenant."""
    if spec.kind == "sqlite":
        return StoreSpec("sqlite", str(tmp_path / f"{name}.db"))
    return StoreSpec(spec.kind, spec.where, tenant=f"{spec.tenant}-{name}")


# -- a dispatcher killed between sending a message and marking it sent ---------------------

MESSAGES = 30
CLAIM = timedelta(minutes=5)


class _ProviderLog:
    """A notifier standing for an email provider: every message it is handed is written
    to a file (flushed to disk) before it answers, so what was sent survives the sender.
    With ``die_after``, the process dies without a word right after that many sends:
    killed between the send and marking the message sent."""

    def __init__(self, path: Any, die_after: int | None = None) -> None:
        self.path = path
        self.die_after = die_after
        self.count = 0

    def send(self, message: Outgoing) -> Delivery:
        with open(self.path, "a", encoding="utf-8") as log:
            log.write(f"{message.key} {message.attempt}\n")
            log.flush()
            os.fsync(log.fileno())
        self.count += 1
        if self.count == self.die_after:
            os.kill(os.getpid(), signal.SIGKILL)
        return Delivery.sent()


def _messaging_service(store: Store, notifier: Any, at: datetime) -> RetentionService:
    return RetentionService(
        Program(), store, FixedClock(at), notifier=notifier, retry=RetryPolicy(claim_for=CLAIM)
    )


def _dispatch_and_die(spec: StoreSpec, log: Any, die_after: int | None, statement: int) -> None:
    """Dispatch the outbox; die after ``die_after`` sends, or at the ``statement``-th SQL
    statement (0: never)."""
    with spec.open() as store:
        if statement:
            _count_statements(store, die_at=statement)
        service = _messaging_service(store, _ProviderLog(log, die_after), T0)
        while service.dispatch(limit=7):
            pass
    os._exit(0)


@pytest.mark.parametrize("spec", store_specs(), indirect=True)
def test_a_dispatcher_killed_mid_send_loses_no_message_and_resends_under_the_same_key(
    spec: StoreSpec, tmp_path: Any
) -> None:
    rng = random.Random(5)
    kills = [(after, 0) for after in rng.sample(range(1, MESSAGES), 5)]
    kills += [(None, statement) for statement in rng.sample(range(2, 4 * MESSAGES), 5)]
    for n, (die_after, statement) in enumerate(kills):
        run = _another(spec, tmp_path, f"dispatch-{n}")
        log = tmp_path / f"provider-{n}.log"
        with run.open() as store:
            service = _messaging_service(store, None, T0)
            for customer in range(10):
                service.save_customer(Customer(f"c-{customer}", email=f"c{customer}@example.com"))
            keys = [f"m-{m}" for m in range(MESSAGES)]
            for m, key in enumerate(keys):
                service.queue(Message(key=key, customer_id=f"c-{m % 10}", template="welcome"))
        child = FORK.Process(target=_dispatch_and_die, args=(run, log, die_after, statement))
        child.start()
        child.join(timeout=120)
        where = f"killed after send {die_after} / at statement {statement}"
        assert child.exitcode == -signal.SIGKILL, where

        with run.open() as store:  # after the claim has lapsed: drain what is left
            service = _messaging_service(store, _ProviderLog(log), T0 + CLAIM)
            while service.dispatch(limit=7):
                pass
            outbox = {item.key: item for item in service.outbox()}
        sends: dict[str, list[int]] = {}
        if log.exists():
            for line in log.read_text(encoding="utf-8").splitlines():
                key, attempt = line.split()
                sends.setdefault(key, []).append(int(attempt))

        assert {MessageStatus.SENT} == {item.status for item in outbox.values()}, where
        assert set(keys) == set(outbox) == set(sends), where
        for key, attempts in sends.items():
            # Under one key each time, numbered on; only a send the dispatcher died
            # during (before it could mark it) is made again.
            assert list(range(1, len(attempts) + 1)) == attempts, f"{where}: {key}"
            assert outbox[key].attempts == len(attempts), f"{where}: {key}"
        assert sum(len(attempts) - 1 for attempts in sends.values()) <= 1, where


# -- an incident declared by a process that dies half-way ----------------------------------

AFFECTED = 12
INCIDENT = IncidentDeclared(
    id="inc-1",
    at=T0,
    what="the card machine charged you twice",
    customer_ids=[f"c-{n}" for n in range(AFFECTED)],
)
GOODWILL = 50


def _incident_service(store: Store) -> RetentionService:
    policy = RecoveryPolicy(incident_goodwill=[GoodwillPoints(GOODWILL)])
    return RetentionService(Program(recovery=policy), store, FixedClock(T0))


def _declare_and_die(spec: StoreSpec, statement: int) -> None:
    with spec.open() as store:
        _count_statements(store, die_at=statement)
        _incident_service(store).declare_incident(INCIDENT)
    os._exit(0)


@pytest.mark.parametrize("spec", store_specs(), indirect=True)
def test_an_incident_declared_by_a_process_that_dies_tells_each_customer_once(
    spec: StoreSpec, tmp_path: Any
) -> None:
    rng = random.Random(11)
    killed = 0
    for n, statement in enumerate(rng.sample(range(2, 12 * AFFECTED), 5)):
        run = _another(spec, tmp_path, f"incident-{n}")
        with run.open() as store:
            service = _incident_service(store)
            for customer in range(AFFECTED):
                service.save_customer(Customer(f"c-{customer}", email=f"c{customer}@example.com"))
        child = FORK.Process(target=_declare_and_die, args=(run, statement))
        child.start()
        child.join(timeout=120)
        where = f"killed at statement {statement}"
        assert child.exitcode in (0, -signal.SIGKILL), where
        killed += child.exitcode == -signal.SIGKILL

        with run.open() as store:
            service = _incident_service(store)
            again = service.declare_incident(INCIDENT)  # finish what the dead one began
            last = service.declare_incident(INCIDENT)
            notices = [item.customer_id for item in service.outbox()]
            balances = [service.balance(f"c-{c}").available for c in range(AFFECTED)]

        assert sorted(again.notified + again.already) == sorted(INCIDENT.customer_ids), where
        assert () == last.notified, where
        assert sorted(notices) == sorted(INCIDENT.customer_ids), where  # one notice each
        assert [GOODWILL] * AFFECTED == balances, where  # goodwill given once each
    assert killed >= 3  # most runs died half-way (the others finished first)


READERS = 8


def _newsletter_service(store: Store, at: datetime) -> RetentionService:
    return RetentionService(BAKERY, store, FixedClock(at))


def _step_and_die(spec: StoreSpec, statement: int) -> None:
    """Run the newsletter's day 3 and day 10, dying at the ``statement``-th statement."""
    with spec.open() as store:
        _count_statements(store, die_at=statement)
        for day in (3, 10):
            _newsletter_service(store, T0 + timedelta(days=day)).run_due()
    os._exit(0)


@pytest.mark.parametrize("spec", store_specs(), indirect=True)
def test_an_autoresponder_killed_mid_run_never_sends_a_step_twice(
    spec: StoreSpec, tmp_path: Any
) -> None:
    rng = random.Random(3)
    killed = 0
    for n, statement in enumerate(rng.sample(range(2, 10 * READERS), 5)):
        run = _another(spec, tmp_path, f"newsletter-{n}")
        with run.open() as store:
            service = _newsletter_service(store, T0)
            for reader in range(READERS):
                customer = f"r-{reader}"
                service.set_consent(customer, "email", granted=True, source="form", key=customer)
                service.record(
                    CustomEvent(id=f"n-{reader}", customer_id=customer, at=T0, name="newsletter")
                )
        child = FORK.Process(target=_step_and_die, args=(run, statement))
        child.start()
        child.join(timeout=120)
        where = f"killed at statement {statement}"
        assert child.exitcode in (0, -signal.SIGKILL), where
        killed += child.exitcode == -signal.SIGKILL

        with run.open() as store:
            for day in (3, 10, 11):  # the job runs again after the restart
                _newsletter_service(store, T0 + timedelta(days=day)).run_due()
            sent = [q.message.key for q in _newsletter_service(store, T0).outbox()]
        steps = [key for key in sent if key.startswith("custbond:sequence:")]
        assert len(steps) == len(set(steps)), where  # never a step twice
        for reader in range(READERS):  # the welcome, and the last step due, at least
            mine = {key for key in steps if f":r-{reader}:" in key}
            assert {
                f"custbond:sequence:newsletter:r-{reader}:0",
                f"custbond:sequence:newsletter:r-{reader}:2",
            } <= mine, where
    assert killed >= 3
