"""Messaging through the service, on every store: the transactional outbox, the dispatcher
(retries, dead letters, a dispatcher killed mid-send), consent, quiet hours, frequency
caps, templates and erasure. Pure parts are in tests/test_messaging_policy.py."""

from __future__ import annotations

import contextlib
import itertools
import random
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import attrs
import pytest
from dateutil import tz
from dateutil.relativedelta import relativedelta
from hypothesis import given, settings
from hypothesis import strategies as st

import postgres
from custbond import (
    Customer,
    FixedClock,
    IdempotencyConflict,
    InvalidInput,
    MemoryStore,
    NotFound,
    Outcome,
    Program,
    Purchase,
    RetentionService,
    Signup,
    SQLiteStore,
    Store,
    TransactionConflict,
    UnitOfWork,
)
from custbond.events import Event
from custbond.messaging import (
    Delivery,
    Message,
    MessageKind,
    MessageStatus,
    Outgoing,
    QueuedMessage,
    RecordingNotifier,
)
from custbond.messaging.policy import FrequencyCap, MessagingPolicy, QuietHours, RetryPolicy
from custbond.messaging.templates import Template, Templates
from custbond.rules import Message as Ask
from custbond.rules import Rule
from stores import STORES

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday: 04:00 in New York, 10:00 in Paris
DAY = timedelta(days=1)
NEW_YORK = tz.gettz("America/New_York")
PARIS = tz.gettz("Europe/Paris")
NIGHT = QuietHours(start=time(21), end=time(8))

WELCOME = Rule("welcome", on="Signup", then=[Ask("welcome")])
THANKS = Rule("thanks", on="Purchase", then=[Ask("thank_you")])
# The default thank_you needs a $suggestions the rule's message does not have (see
# test_a_thank_you_a_rule_asks_for_renders_with_the_default_templates): one that does not.
TEMPLATES = Templates.defaults().override(
    {
        "thank_you": dict.fromkeys(
            ("email", "sms", "*"),
            Template("Thank you, $name! +$points points", subject="Thank you!"),
        )
    }
)
PROGRAM = Program(rules=[WELCOME, THANKS], messaging=MessagingPolicy(templates=TEMPLATES))

ON_EVERY_STORE = pytest.mark.parametrize("make_store", STORES)

MakeStore = Callable[[], Store]


def capped(*caps: FrequencyCap, **fields: Any) -> MessagingPolicy:
    """``MessagingPolicy(caps=caps, **fields)``: mypy cannot type the ``caps`` argument
    (its ``converter=tuple`` leaves it ``Iterable[_T_co]``)."""
    given: dict[str, Any] = {"caps": caps, **fields}
    return MessagingPolicy(**given)


class Killed(BaseException):
    """The dispatcher's process was killed: not an Exception, so dispatch() does not
    catch it, and the message it was sending stays claimed."""


class Shop:
    """A service with a store, a FixedClock and a notifier, and shorthands for a test."""

    def __init__(
        self,
        make_store: MakeStore,
        *,
        program: Program = PROGRAM,
        retry: RetryPolicy | None = None,
        answer: Callable[[Outgoing], Delivery] | None = None,
        at: datetime = T0,
        store: Store | None = None,
    ) -> None:
        self.clock = FixedClock(at)
        self.store = make_store() if store is None else store
        self.notifier = RecordingNotifier(answer)
        self.service = RetentionService(
            program,
            self.store,
            self.clock,
            notifier=self.notifier,
            retry=RetryPolicy() if retry is None else retry,
        )
        self._keys = itertools.count(1)

    def customer(self, customer_id: str = "c-1", **profile: Any) -> None:
        fields = {"email": f"{customer_id}@example.com", **profile}
        self.service.save_customer(Customer(customer_id, **fields))

    def signup(self, customer_id: str = "c-1", id: str = "s-1") -> Outcome:
        return self.service.record(Signup(id=id, customer_id=customer_id, at=self.clock.now()))

    def purchase(
        self, customer_id: str = "c-1", id: str = "o-1", currency: str = "USD"
    ) -> Purchase:
        return Purchase(
            id=id,
            customer_id=customer_id,
            at=self.clock.now(),
            amount=Decimal("12.00"),
            currency=currency,
        )

    def buy(self, customer_id: str = "c-1", id: str = "o-1") -> Outcome:
        return self.service.record(self.purchase(customer_id, id))

    def consent(
        self,
        customer_id: str = "c-1",
        channel: str = "email",
        *,
        granted: bool = True,
        kind: str = "marketing",
        source: str = "signup form",
    ) -> Outcome:
        return self.service.set_consent(
            customer_id,
            channel,
            granted=granted,
            source=source,
            key=f"consent-{next(self._keys)}",
            kind=kind,
        )

    def queue(
        self, key: str, customer_id: str = "c-1", template: str = "welcome", **fields: Any
    ) -> QueuedMessage:
        return self.service.queue(
            Message(key=key, customer_id=customer_id, template=template, **fields)
        )

    def dispatch(self, limit: int = 100) -> list[QueuedMessage]:
        return self.service.dispatch(limit=limit)

    def item(self, key: str) -> QueuedMessage:
        found = [item for item in self.service.outbox() if item.key == key]
        assert 1 == len(found), f"{len(found)} messages under {key!r}"
        return found[0]

    def statuses(self) -> dict[str, MessageStatus]:
        return {item.key: item.status for item in self.service.outbox()}

    def drain(self, *, limit: int = 100, rounds: int = 2000) -> None:
        """Dispatch until nothing is left to do: moving the clock to the next message
        due, and starting a new dispatcher whenever one is killed."""
        for _ in range(rounds):
            try:
                self.service.dispatch(limit=limit)
            except Killed:
                continue
            waiting = [
                item.next_attempt_at for item in self.service.outbox() if not item.status.final
            ]
            if not waiting:
                return
            self.clock.set(max(self.clock.now(), min(waiting)))
        raise AssertionError(f"the outbox did not drain in {rounds} rounds")


class StoreCrash(Exception):
    """The database went away in the middle of a unit of work."""


class FailingStore:
    """A store whose units of work fail at the very end (when the event log is written,
    after the outbox): for the events named in ``crash_on`` (a crash), or once for each
    event in ``conflict_on`` (a lost race, which the service tries again)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.crash_on: set[str] = set()
        self.conflict_on: set[str] = set()

    @contextmanager
    def unit_of_work(self, *, write: bool = True) -> Iterator[UnitOfWork]:
        with self.store.unit_of_work(write=write) as uow:
            yield cast("UnitOfWork", _FailingUnitOfWork(uow, self))


class _FailingUnitOfWork:
    def __init__(self, uow: UnitOfWork, store: FailingStore) -> None:
        self._uow = uow
        self._store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self._uow, name)

    def append(self, key: Any, item: Any, recorded_at: datetime, outcome: Outcome) -> Any:
        name = None if key is None else key[1]
        if name in self._store.crash_on:
            raise StoreCrash(f"the database went away while recording {name!r}")
        if name in self._store.conflict_on:
            self._store.conflict_on.discard(name)
            raise TransactionConflict(f"another process recorded {name!r} at the same time")
        return self._uow.append(key, item, recorded_at, outcome)


def failing(make_store: MakeStore) -> FailingStore:
    return FailingStore(make_store())


# -- the outbox is written with the change that caused it ---------------------------------


@ON_EVERY_STORE
class TestTransactionalOutbox:
    def test_messages_due_at_once_go_out_in_the_order_they_were_queued(
        self, make_store: MakeStore
    ) -> None:
        # Queued five minutes apart in the quiet hours, both are due when they end; the
        # welcome was queued first, so it goes first (in key order, o-1's thank-you went
        # before s-1's welcome).
        quiet = attrs.evolve(PROGRAM.messaging, quiet_hours=NIGHT)
        program = attrs.evolve(PROGRAM, time_zone="Europe/Paris", messaging=quiet)
        shop = Shop(make_store, program=program, at=T0 + timedelta(hours=12))  # 22:00
        shop.customer("c-1", name="Ada")
        shop.signup("c-1", "s-1")
        shop.dispatch()
        shop.clock.advance(timedelta(minutes=5))
        shop.buy("c-1", "o-1")
        shop.dispatch()
        assert not shop.notifier.sent  # the quiet hours

        shop.clock.set(T0 + timedelta(hours=22))  # 08:00 in Paris
        shop.dispatch(limit=1)
        shop.dispatch(limit=1)

        assert ["welcome", "thank_you"] == [sent.template for sent in shop.notifier.sent]

    def test_the_messages_rules_ask_for_are_queued_with_the_event(
        self, make_store: MakeStore
    ) -> None:
        shop = Shop(make_store)
        shop.customer("c-1", name="Ada")

        shop.signup("c-1", "s-1")
        shop.buy("c-1", "o-1")

        queued = shop.service.outbox()
        assert [
            "custbond:o-1:thanks:thank_you:email",
            "custbond:s-1:welcome:welcome:email",
        ] == sorted(item.key for item in queued)
        assert {MessageStatus.PENDING} == {item.status for item in queued}
        thanks = shop.item("custbond:o-1:thanks:thank_you:email")
        assert {
            "event": "o-1",
            "points": 12,
            "balance": 12,
            "amount": Decimal("12.00"),
            "related": "",
            "suggestions": "",
        } == dict(thanks.message.context)
        assert (MessageKind.TRANSACTIONAL, "thank_you", "c-1") == (
            thanks.message.kind,
            thanks.message.template,
            thanks.customer_id,
        )
        assert T0 == thanks.queued_at == thanks.next_attempt_at

    def test_delivering_the_same_event_again_queues_nothing_new(
        self, make_store: MakeStore
    ) -> None:
        shop = Shop(make_store)
        shop.customer("c-1")
        shop.buy("c-1", "o-1")
        first = shop.service.outbox()

        shop.clock.advance(DAY)
        shop.service.record(
            Purchase(id="o-1", customer_id="c-1", at=T0, amount=Decimal("12.00"), currency="USD")
        )
        shop.dispatch()
        shop.service.record(
            Purchase(id="o-1", customer_id="c-1", at=T0, amount=Decimal("12.00"), currency="USD")
        )

        assert [item.key for item in first] == [item.key for item in shop.service.outbox()]
        assert 1 == len(shop.notifier.sent)

    def test_a_refused_event_queues_nothing(self, make_store: MakeStore) -> None:
        shop = Shop(make_store)

        with pytest.raises(InvalidInput):
            shop.service.record(shop.purchase("c-1", "o-1", currency="EUR"))

        assert () == shop.service.outbox()

    def test_a_unit_of_work_that_crashes_after_queuing_leaves_no_message(
        self, make_store: MakeStore
    ) -> None:
        store = failing(make_store)
        shop = Shop(make_store, store=cast("Store", store))
        shop.customer("c-1")
        shop.buy("c-1", "o-1")
        store.crash_on.add("o-2")

        with pytest.raises(StoreCrash):
            shop.buy("c-1", "o-2")
        shop.dispatch()

        assert ["custbond:o-1:thanks:thank_you:email"] == [
            item.key for item in shop.service.outbox()
        ]
        assert ["custbond:o-1:thanks:thank_you:email"] == [sent.key for sent in shop.notifier.sent]
        assert 12 == shop.service.balance("c-1").available

        store.crash_on.clear()
        shop.clock.advance(timedelta(minutes=1))
        shop.buy("c-1", "o-2")  # the host retries: now it commits, and its message with it

        assert ["custbond:o-1:thanks:thank_you:email", "custbond:o-2:thanks:thank_you:email"] == [
            item.key for item in shop.service.outbox()
        ]

    def test_a_unit_of_work_that_lost_a_race_and_was_redone_queues_once(
        self, make_store: MakeStore
    ) -> None:
        store = failing(make_store)
        shop = Shop(make_store, store=cast("Store", store))
        store.conflict_on.add("o-1")

        shop.buy("c-1", "o-1")

        assert not store.conflict_on  # it did lose the race once
        assert ["custbond:o-1:thanks:thank_you:email"] == [
            item.key for item in shop.service.outbox()
        ]

    def test_a_batch_rolled_back_for_a_bad_event_keeps_the_messages_of_the_good_ones_once(
        self, make_store: MakeStore
    ) -> None:
        shop = Shop(make_store)
        events: list[Event] = [
            Signup(id="s-1", customer_id="c-1", at=T0),
            shop.purchase("c-1", "o-1"),
            Signup(id="s-2", customer_id="c-2", at=T0),
            shop.purchase("c-2", "o-2", currency="EUR"),  # refused
            Signup(id="s-3", customer_id="c-3", at=T0),  # after it: not recorded
        ]

        with pytest.raises(InvalidInput):
            shop.service.record_many(events, batch_size=10)

        assert {
            "custbond:s-1:welcome:welcome:email",
            "custbond:o-1:thanks:thank_you:email",
            "custbond:s-2:welcome:welcome:email",
        } == {item.key for item in shop.service.outbox()}
        assert 3 == len(shop.service.outbox())

    def test_a_batch_whose_unit_of_work_crashes_leaves_no_message(
        self, make_store: MakeStore
    ) -> None:
        store = failing(make_store)
        shop = Shop(make_store, store=cast("Store", store))
        store.crash_on.add("s-2")

        with pytest.raises(StoreCrash):
            shop.service.record_many(
                [Signup(id=f"s-{n}", customer_id=f"c-{n}", at=T0) for n in (1, 2, 3)]
            )

        assert () == shop.service.outbox()

    def test_a_message_queued_by_the_host_is_queued_once_per_key(
        self, make_store: MakeStore
    ) -> None:
        shop = Shop(make_store)
        shop.customer("c-1")

        first = shop.queue("note-1", context={"n": 1})
        shop.dispatch()
        again = shop.queue("note-1", context={"n": 1})

        assert first.message == again.message
        assert MessageStatus.SENT == again.status  # the one queued first, as it stands
        assert 1 == len(shop.service.outbox())
        assert 1 == len(shop.notifier.sent)

    def test_another_message_under_a_used_key_is_a_conflict(self, make_store: MakeStore) -> None:
        shop = Shop(make_store)
        shop.customer("c-1")
        shop.queue("note-1", template="welcome")

        with pytest.raises(IdempotencyConflict) as raised:
            shop.queue("note-1", template="birthday")

        assert ("template",) == raised.value.fields
        assert "welcome" == shop.item("note-1").message.template

    def test_only_a_message_can_be_queued(self, make_store: MakeStore) -> None:
        shop = Shop(make_store)
        shop.customer("c-1")

        with pytest.raises(InvalidInput) as raised:
            shop.service.queue({"key": "k", "customer_id": "c-1"})  # type: ignore[arg-type]

        assert "message" == raised.value.field

    def test_a_message_for_a_customer_never_seen_is_not_found(self, make_store: MakeStore) -> None:
        shop = Shop(make_store)

        with pytest.raises(NotFound):
            shop.queue("note-1", customer_id="nobody")

        assert () == shop.service.outbox()

    def test_the_outbox_by_customer_and_status(self, make_store: MakeStore) -> None:
        shop = Shop(make_store)
        shop.customer("c-1")
        shop.customer("c-2")
        shop.queue("a", "c-1")
        shop.queue("b", "c-2")
        shop.queue("c", "c-1", kind="marketing")  # no consent: suppressed

        assert ["a", "c"] == [item.key for item in shop.service.outbox(customer_id="c-1")]
        assert ["a", "b"] == [item.key for item in shop.service.outbox(status="pending")]
        assert ["c"] == [item.key for item in shop.service.outbox(status=MessageStatus.SUPPRESSED)]
        assert () == shop.service.outbox(customer_id="nobody")

    def test_an_unknown_status_is_invalid_input(self, make_store: MakeStore) -> None:
        shop = Shop(make_store)

        with pytest.raises(InvalidInput) as raised:
            shop.service.outbox(status="bogus")

        assert "status" == raised.value.field


# -- the headline: a flaky notifier and dispatchers killed mid-send -----------------------


class FlakyProvider:
    """A provider behind a flaky network. A send fails for now ``failure_rate`` of the
    time (half of those answer "retry", half raise); the others reach the provider
    (``received``); every ``kill_every``-th send begun, the dispatcher is killed right
    after the provider received it, before it could mark it sent."""

    def __init__(self, seed: int, *, failure_rate: float = 0.3, kill_every: int = 7) -> None:
        self.random = random.Random(seed)
        self.failure_rate = failure_rate
        self.kill_every = kill_every
        self.begun: list[Outgoing] = []
        self.received: list[Outgoing] = []
        self.failures = 0
        self.kills = 0

    def send(self, message: Outgoing) -> Delivery:
        self.begun.append(message)
        if self.random.random() < self.failure_rate:
            self.failures += 1
            if self.random.random() < 0.5:
                return Delivery.retry("503 service unavailable")
            raise ConnectionResetError("connection reset by peer")
        self.received.append(message)
        if len(self.begun) % self.kill_every == 0:
            self.kills += 1
            raise Killed
        return Delivery.sent(f"id-{len(self.received)}")


@ON_EVERY_STORE
class TestDeliveryUnderFailures:
    CUSTOMERS = 40

    def _run(
        self, make_store: MakeStore, provider: FlakyProvider, retry: RetryPolicy
    ) -> tuple[Shop, set[str], set[str]]:
        """Events for CUSTOMERS customers (a signup and a purchase each, some purchases
        lost to a crash), host messages, then a drain. Returns the shop, the keys of the
        messages committed work asked for, and those of the work rolled back."""
        store = failing(make_store)
        shop = Shop(make_store, store=cast("Store", store), retry=retry)
        shop.service.notifier = provider
        committed: set[str] = set()
        rolled_back: set[str] = set()
        for n in range(self.CUSTOMERS):
            customer = f"c-{n}"
            shop.customer(customer, name=f"Customer {n}")
            shop.signup(customer, f"s-{n}")
            committed.add(f"custbond:s-{n}:welcome:welcome:email")
            if n % 10 == 3:  # the store crashes under this purchase: all of it rolled back
                store.crash_on.add(f"o-{n}")
                with pytest.raises(StoreCrash):
                    shop.buy(customer, f"o-{n}")
                rolled_back.add(f"custbond:o-{n}:thanks:thank_you:email")
            else:
                shop.buy(customer, f"o-{n}")
                committed.add(f"custbond:o-{n}:thanks:thank_you:email")
            if n % 4 == 0:
                shop.queue(f"note-{n}", customer, "holiday", context={"holiday": "Easter"})
                committed.add(f"note-{n}")
            if n % 9 == 0:  # some dispatching while events still arrive
                with contextlib.suppress(Killed):
                    shop.dispatch(limit=5)
                shop.clock.advance(timedelta(seconds=30))
        shop.drain(limit=25)
        return shop, committed, rolled_back

    def test_every_committed_message_is_delivered_with_its_key_and_counted_attempts(
        self, make_store: MakeStore
    ) -> None:
        retry = RetryPolicy(
            max_attempts=12,
            first_delay=timedelta(seconds=30),
            max_delay=timedelta(minutes=10),
            claim_for=timedelta(minutes=2),
        )
        provider = FlakyProvider(seed=20260302)

        shop, committed, rolled_back = self._run(make_store, provider, retry)

        outbox = {item.key: item for item in shop.service.outbox()}
        # No message from a rolled-back transaction exists, and none was lost.
        assert committed == set(outbox)
        assert not rolled_back & {message.key for message in provider.begun}
        # Every message committed was delivered at least once, and is marked sent.
        assert committed == {message.key for message in provider.received}
        assert {MessageStatus.SENT} == {item.status for item in outbox.values()}
        # Each delivery of a message carries its key; its attempts count 1, 2, ... n with
        # no gap, n is what the outbox counted, and never more than the bound.
        begun: dict[str, list[Outgoing]] = defaultdict(list)
        for message in provider.begun:
            begun[message.key].append(message)
        for key, sends in begun.items():
            assert list(range(1, len(sends) + 1)) == [send.attempt for send in sends], key
            assert outbox[key].attempts == len(sends) <= retry.max_attempts
            assert 1 == len({(send.customer_id, send.to, send.body) for send in sends}), key
        # The run did exercise what it is about.
        assert provider.kills >= 5
        assert provider.failures >= 20
        received = [message.key for message in provider.received]
        assert len(received) > len(set(received))  # resent after a kill: same key again

    def test_with_few_attempts_each_message_is_sent_or_dead_after_exactly_the_bound(
        self, make_store: MakeStore
    ) -> None:
        retry = RetryPolicy(
            max_attempts=2, first_delay=timedelta(seconds=30), claim_for=timedelta(minutes=2)
        )
        provider = FlakyProvider(seed=7, failure_rate=0.5, kill_every=5)

        shop, committed, _ = self._run(make_store, provider, retry)

        outbox = shop.service.outbox()
        assert committed == {item.key for item in outbox}
        attempts: dict[str, int] = defaultdict(int)
        for message in provider.begun:
            attempts[message.key] += 1
        dead = [item for item in outbox if item.status is MessageStatus.DEAD]
        assert dead  # with half the sends failing, some run out of attempts
        for item in outbox:
            assert item.status in (MessageStatus.SENT, MessageStatus.DEAD)
            assert attempts[item.key] == item.attempts <= 2
            if item.status is MessageStatus.DEAD:
                assert 2 == item.attempts
                assert item.reason is not None
                assert "at most 2" in item.reason
        received = {message.key for message in provider.received}
        sent = {item.key for item in outbox if item.status is MessageStatus.SENT}
        assert sent <= received


@ON_EVERY_STORE
class TestFailures:
    def test_a_transient_failure_is_retried_with_backoff_and_the_same_key(
        self, make_store: MakeStore
    ) -> None:
        answers = iter([Delivery.retry("421 busy"), Delivery.retry("421 busy")])
        shop = Shop(make_store, answer=lambda message: next(answers, Delivery.sent("ok")))
        shop.customer("c-1")
        shop.queue("note-1")

        first = shop.dispatch()
        too_soon = shop.dispatch()
        shop.clock.advance(timedelta(minutes=1))
        second = shop.dispatch()
        shop.clock.advance(timedelta(minutes=1))
        not_yet = shop.dispatch()
        shop.clock.advance(timedelta(minutes=1))
        third = shop.dispatch()

        assert [(MessageStatus.PENDING, 1, T0 + timedelta(minutes=1))] == [
            (item.status, item.attempts, item.next_attempt_at) for item in first
        ]
        assert "attempt 1 failed: 421 busy" == first[0].reason
        assert [] == too_soon == not_yet
        assert [(MessageStatus.PENDING, 2)] == [(item.status, item.attempts) for item in second]
        assert T0 + timedelta(minutes=3) == second[0].next_attempt_at  # 2 minutes after
        assert [(MessageStatus.SENT, 3)] == [(item.status, item.attempts) for item in third]
        assert [("note-1", 1), ("note-1", 2), ("note-1", 3)] == [
            (sent.key, sent.attempt) for sent in shop.notifier.sent
        ]

    def test_attempts_run_out_and_the_message_is_dead(self, make_store: MakeStore) -> None:
        shop = Shop(
            make_store,
            retry=RetryPolicy(max_attempts=3),
            answer=lambda message: Delivery.retry("timeout"),
        )
        shop.customer("c-1")
        shop.queue("note-1")

        shop.drain()

        item = shop.item("note-1")
        assert (MessageStatus.DEAD, 3) == (item.status, item.attempts)
        assert "failed 3 times (at most 3); last: timeout" == item.reason
        assert [1, 2, 3] == [sent.attempt for sent in shop.notifier.sent]

    def test_a_permanent_failure_is_dead_at_once(self, make_store: MakeStore) -> None:
        shop = Shop(make_store, answer=lambda message: Delivery.failed("550 no such user"))
        shop.customer("c-1")
        shop.queue("note-1")

        shop.drain()

        item = shop.item("note-1")
        assert (MessageStatus.DEAD, 1, "failed: 550 no such user") == (
            item.status,
            item.attempts,
            item.reason,
        )
        assert 1 == len(shop.notifier.sent)

    def test_a_notifier_that_raises_counts_as_a_failure_for_now(
        self, make_store: MakeStore
    ) -> None:
        def answer(message: Outgoing) -> Delivery:
            if message.attempt == 1:
                raise ConnectionRefusedError("smtp down")
            return Delivery.sent()

        shop = Shop(make_store, answer=answer)
        shop.customer("c-1")
        shop.queue("note-1")

        [first] = shop.dispatch()
        shop.drain()

        assert MessageStatus.PENDING == first.status
        assert "attempt 1 failed: ConnectionRefusedError: smtp down" == first.reason
        assert (MessageStatus.SENT, 2) == (
            shop.item("note-1").status,
            shop.item("note-1").attempts,
        )

    def test_a_notifier_answering_something_else_than_a_delivery_counts_as_a_failure(
        self, make_store: MakeStore
    ) -> None:
        shop = Shop(make_store)
        shop.customer("c-1")
        shop.queue("note-1")

        class Sloppy:
            def send(self, message: Outgoing) -> Any:
                return "ok"

        shop.service.notifier = Sloppy()
        [item] = shop.dispatch()

        assert (MessageStatus.PENDING, 1) == (item.status, item.attempts)
        assert item.reason is not None
        assert "the notifier answered 'ok', not a Delivery" in item.reason

    def test_a_dispatcher_killed_mid_send_leaves_the_message_to_be_sent_again_with_its_key(
        self, make_store: MakeStore
    ) -> None:
        def answer(message: Outgoing) -> Delivery:
            if message.attempt == 1:
                raise Killed  # after the notifier got it, before it was marked
            return Delivery.sent()

        retry = RetryPolicy(claim_for=timedelta(minutes=5))
        shop = Shop(make_store, answer=answer, retry=retry)
        shop.customer("c-1")
        shop.queue("note-1")

        with pytest.raises(Killed):
            shop.dispatch()
        claimed = shop.item("note-1")
        shop.clock.advance(timedelta(minutes=4))
        before_the_claim_lapses = shop.dispatch()
        shop.clock.advance(timedelta(minutes=1))
        after = shop.dispatch()

        assert (MessageStatus.SENDING, 1, T0 + timedelta(minutes=5)) == (
            claimed.status,
            claimed.attempts,
            claimed.next_attempt_at,
        )
        assert [] == before_the_claim_lapses
        assert [(MessageStatus.SENT, 2)] == [(item.status, item.attempts) for item in after]
        assert [("note-1", 1), ("note-1", 2)] == [
            (sent.key, sent.attempt) for sent in shop.notifier.sent
        ]
        assert shop.notifier.sent[0].body == shop.notifier.sent[1].body

    def test_a_claim_lapsing_on_the_last_attempt_is_dead_without_another_send(
        self, make_store: MakeStore
    ) -> None:
        def answer(message: Outgoing) -> Delivery:
            raise Killed

        shop = Shop(make_store, answer=answer, retry=RetryPolicy(max_attempts=1))
        shop.customer("c-1")
        shop.queue("note-1")

        with pytest.raises(Killed):
            shop.dispatch()
        shop.clock.advance(timedelta(minutes=5))
        [item] = shop.dispatch()

        assert (MessageStatus.DEAD, 1) == (item.status, item.attempts)
        assert item.reason is not None
        assert "stopped during attempt 1 without an answer" in item.reason
        assert 1 == len(shop.notifier.sent)

    def test_a_late_answer_from_a_lapsed_claim_does_not_overrule_the_next_dispatcher(
        self, make_store: MakeStore
    ) -> None:
        # Dispatcher A's send hangs past its claim; dispatcher B takes the message, sends
        # it, and marks it sent; then A's send fails for good. B's answer counts.
        inner: list[list[QueuedMessage]] = []

        def answer(message: Outgoing) -> Delivery:
            if message.attempt == 1:
                shop.clock.advance(timedelta(minutes=6))
                inner.append(shop.dispatch())  # dispatcher B, while A waits
                return Delivery.failed("gateway timeout, gave up")
            return Delivery.sent("from B")

        shop = Shop(make_store, answer=answer)
        shop.customer("c-1")
        shop.queue("note-1")

        [from_a] = shop.dispatch()

        assert [[(MessageStatus.SENT, 2)]] == [
            [(item.status, item.attempts) for item in found] for found in inner
        ]
        assert (MessageStatus.SENT, 2, "from B") == (
            from_a.status,
            from_a.attempts,
            from_a.reason,
        )
        assert (MessageStatus.SENT, 2) == (
            shop.item("note-1").status,
            shop.item("note-1").attempts,
        )

    def test_dispatch_needs_a_notifier(self, make_store: MakeStore) -> None:
        service = RetentionService(PROGRAM, make_store(), FixedClock(T0))

        with pytest.raises(InvalidInput) as raised:
            service.dispatch()

        assert "notifier" == raised.value.field

    @pytest.mark.parametrize("limit", [0, -1, True, 1.5, "10"])
    def test_dispatch_needs_a_positive_int_limit(self, make_store: MakeStore, limit: Any) -> None:
        shop = Shop(make_store)

        with pytest.raises(InvalidInput) as raised:
            shop.service.dispatch(limit=limit)

        assert "limit" == raised.value.field

    def test_dispatch_takes_at_most_limit_messages_soonest_first(
        self, make_store: MakeStore
    ) -> None:
        shop = Shop(make_store)
        shop.customer("c-1")
        for n, minutes in enumerate([30, 10, 20]):
            shop.queue(f"note-{n}", not_before=T0 + timedelta(minutes=minutes))
        shop.clock.advance(timedelta(hours=1))

        first = shop.dispatch(limit=2)
        rest = shop.dispatch(limit=2)

        assert ["note-1", "note-2"] == [item.key for item in first]
        assert ["note-0"] == [item.key for item in rest]

    def test_a_message_is_not_sent_before_its_not_before(self, make_store: MakeStore) -> None:
        shop = Shop(make_store)
        shop.customer("c-1")
        shop.queue("note-1", not_before=T0 + timedelta(hours=2))

        early = shop.dispatch()
        shop.clock.advance(timedelta(hours=2))
        on_time = shop.dispatch()

        assert [] == early
        assert ["note-1"] == [item.key for item in on_time]


def _shared_memory(tmp_path: Path) -> Callable[[], Store]:
    store = MemoryStore()
    return lambda: store


def _sqlite_file(tmp_path: Path) -> Callable[[], Store]:
    path = tmp_path / "shop.db"
    return lambda: SQLiteStore(path)


def _postgres_tenant(tmp_path: Path) -> Callable[[], Store]:
    tenant = postgres.fresh_tenant()
    return lambda: postgres.make_store(tenant=tenant)


class TestConcurrentDispatchers:
    @pytest.mark.parametrize(
        "opener",
        [
            pytest.param(_shared_memory, id="memory"),
            pytest.param(_sqlite_file, id="sqlite-file"),
            pytest.param(_postgres_tenant, id="postgres", marks=pytest.mark.postgres),
        ],
    )
    def test_dispatchers_running_at_once_send_each_message_once(
        self, opener: Callable[[Path], Callable[[], Store]], tmp_path: Path
    ) -> None:
        open_store = opener(tmp_path)
        first = open_store()
        shop = Shop(lambda: first)
        for n in range(8):
            shop.customer(f"c-{n}")
            for m in range(6):
                shop.queue(f"note-{n}-{m}", f"c-{n}")
        notifier = RecordingNotifier()
        errors: list[BaseException] = []
        stores: list[Store] = []
        start = threading.Barrier(4)

        def work() -> None:
            store = open_store()
            stores.append(store)
            service = RetentionService(PROGRAM, store, shop.clock, notifier=notifier)
            start.wait()
            try:
                while service.dispatch(limit=3):
                    pass
            except BaseException as error:  # reported below, not lost in the thread
                errors.append(error)

        workers = [threading.Thread(target=work) for _ in range(4)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        for store in [first, *stores]:
            if isinstance(store, SQLiteStore):
                store.close()

        assert [] == errors, errors
        sent = sorted(message.key for message in notifier.sent)
        assert sorted(f"note-{n}-{m}" for n in range(8) for m in range(6)) == sent
        assert {1} == {message.attempt for message in notifier.sent}


# -- what is sent, and to whom ------------------------------------------------------------


@ON_EVERY_STORE
class TestContent:
    def test_the_notifier_gets_the_rendered_message_the_address_and_the_key(
        self, make_store: MakeStore
    ) -> None:
        shop = Shop(make_store)
        shop.customer("c-1", name="Ada")
        shop.signup("c-1", "s-1")

        shop.dispatch()

        [sent] = shop.notifier.sent
        assert (
            "custbond:s-1:welcome:welcome:email",
            "c-1",
            "email",
            "c-1@example.com",
            "Welcome to our rewards program",
            1,
        ) == (sent.key, sent.customer_id, sent.channel, sent.to, sent.subject, sent.attempt)
        assert sent.body.startswith("Hi Ada,")

    def test_a_customer_without_a_name_is_greeted_as_there(self, make_store: MakeStore) -> None:
        shop = Shop(make_store)
        shop.customer("c-1")
        shop.queue("note-1", channel="sms")

        shop.customer("c-1", phone="+15550100")
        shop.dispatch()

        [sent] = shop.notifier.sent
        assert ("+15550100", None) == (sent.to, sent.subject)
        assert "Hi there, welcome to our rewards program!" in sent.body

    def test_the_profile_is_read_when_the_message_is_sent(self, make_store: MakeStore) -> None:
        shop = Shop(make_store)
        shop.customer("c-1", name="Ada")
        shop.queue("note-1")

        shop.customer("c-1", name="Ada L.", email="ada@new.example")
        shop.dispatch()

        [sent] = shop.notifier.sent
        assert "ada@new.example" == sent.to
        assert sent.body.startswith("Hi Ada L.,")

    def test_a_template_of_the_hosts_own_fills_in_the_rule_messages_values(
        self, make_store: MakeStore
    ) -> None:
        templates = Templates.defaults().override(
            {
                "thank_you": {
                    "email": Template(
                        "$name: +$points points, $balance in all (order $event)",
                        subject="Thanks!",
                    )
                }
            }
        )
        program = Program(rules=[THANKS], messaging=MessagingPolicy(templates=templates))
        shop = Shop(make_store, program=program)
        shop.customer("c-1", name="Ada")
        shop.buy("c-1", "o-1")
        shop.clock.advance(DAY)
        shop.buy("c-1", "o-2")

        shop.dispatch()

        assert [
            "Ada: +12 points, 12 in all (order o-1)",
            "Ada: +12 points, 24 in all (order o-2)",
        ] == [sent.body for sent in shop.notifier.sent]

    def test_a_thank_you_a_rule_asks_for_renders_with_the_default_templates(
        self, make_store: MakeStore
    ) -> None:
        shop = Shop(make_store, program=Program(rules=[THANKS]))
        shop.customer("c-1", name="Ada")
        shop.buy("c-1", "o-1")

        [item] = shop.dispatch()

        assert (MessageStatus.SENT, None) == (item.status, item.reason)

    def test_a_message_no_template_can_render_is_refused_when_queued(
        self, make_store: MakeStore
    ) -> None:
        shop = Shop(make_store)
        shop.customer("c-1")

        with pytest.raises(InvalidInput) as raised:
            shop.queue("note-1", template="no_such_template")

        assert "template" == raised.value.field
        assert () == shop.service.outbox()

    def test_a_template_gone_by_the_time_it_is_sent_is_a_dead_letter_saying_so(
        self, make_store: MakeStore
    ) -> None:
        own = Templates.defaults().override({"note": {"*": Template("Hi $name")}})
        before = Shop(make_store, program=Program(messaging=MessagingPolicy(templates=own)))
        before.customer("c-1")
        before.queue("note-1", template="note")
        # The next release of the host's app no longer has the template.
        shop = Shop(make_store, store=before.store)

        [item] = shop.dispatch()

        assert MessageStatus.DEAD == item.status
        assert item.reason is not None
        assert "no template of that name" in item.reason
        assert 0 == item.attempts
        assert [] == shop.notifier.sent

    def test_a_missing_value_is_a_dead_letter_naming_it(self, make_store: MakeStore) -> None:
        shop = Shop(make_store)
        shop.customer("c-1")
        shop.queue("note-1", template="points_expiring", context={"points": 120})

        [item] = shop.dispatch()

        assert MessageStatus.DEAD == item.status
        assert (
            "template 'points_expiring' (email): no value for $expires_on (given: name, points)"
            == item.reason
        )
        assert [] == shop.notifier.sent

    @pytest.mark.parametrize(
        ("channel", "reason"),
        [
            ("email", "no email in the customer's profile"),
            ("sms", "no phone in the customer's profile"),
        ],
    )
    def test_no_address_for_the_channel_suppresses(
        self, make_store: MakeStore, channel: str, reason: str
    ) -> None:
        shop = Shop(make_store)
        shop.service.save_customer(Customer("c-1"))
        shop.queue("note-1", channel=channel)

        [item] = shop.dispatch()

        assert (MessageStatus.SUPPRESSED, reason) == (item.status, item.reason)
        assert [] == shop.notifier.sent

    def test_a_push_needs_no_address(self, make_store: MakeStore) -> None:
        shop = Shop(make_store)
        shop.service.save_customer(Customer("c-1"))
        shop.queue("note-1", channel="push")

        shop.dispatch()

        assert [("push", None)] == [(sent.channel, sent.to) for sent in shop.notifier.sent]


# -- consent -------------------------------------------------------------------------------


@ON_EVERY_STORE
class TestConsent:
    def test_marketing_without_consent_is_suppressed_when_queued(
        self, make_store: MakeStore
    ) -> None:
        shop = Shop(make_store)
        shop.customer("c-1")

        item = shop.queue("promo-1", kind="marketing")
        shop.dispatch()

        assert (MessageStatus.SUPPRESSED, "no consent to marketing on email") == (
            item.status,
            item.reason,
        )
        assert MessageStatus.SUPPRESSED == shop.item("promo-1").status
        assert [] == shop.notifier.sent

    def test_a_marketing_message_a_rule_asks_for_without_consent_is_kept_as_suppressed(
        self, make_store: MakeStore
    ) -> None:
        program = Program(
            rules=[Rule("promo", on="Purchase", then=[Ask("thank_you", kind="marketing")])]
        )
        shop = Shop(make_store, program=program)
        shop.customer("c-1")

        outcome = shop.buy("c-1", "o-1")

        item = shop.item("custbond:o-1:promo:thank_you:email")
        assert (MessageStatus.SUPPRESSED, "no consent to marketing on email") == (
            item.status,
            item.reason,
        )
        assert "will not be sent: no consent to marketing on email" in str(outcome.trace)

    def test_marketing_with_consent_is_sent(self, make_store: MakeStore) -> None:
        shop = Shop(make_store)
        shop.customer("c-1")
        shop.consent("c-1")

        shop.queue("promo-1", kind="marketing")
        shop.dispatch()

        assert ["promo-1"] == [sent.key for sent in shop.notifier.sent]
        assert MessageKind.MARKETING == shop.notifier.sent[0].kind

    def test_an_opt_out_after_queuing_is_honoured_when_sending(
        self, make_store: MakeStore
    ) -> None:
        shop = Shop(make_store)
        shop.customer("c-1")
        shop.consent("c-1", granted=True)
        queued = shop.queue("promo-1", kind="marketing")
        shop.clock.advance(timedelta(minutes=1))
        shop.consent("c-1", granted=False, source="unsubscribe link")

        [item] = shop.dispatch()

        assert MessageStatus.PENDING == queued.status
        assert MessageStatus.SUPPRESSED == item.status
        assert (
            "marketing on email refused at 2026-03-02T09:01:00+00:00 (unsubscribe link)"
            == item.reason
        )
        assert [] == shop.notifier.sent

    def test_an_opt_out_between_two_attempts_stops_the_retry(self, make_store: MakeStore) -> None:
        shop = Shop(make_store, answer=lambda message: Delivery.retry("busy"))
        shop.customer("c-1")
        shop.consent("c-1")
        shop.queue("promo-1", kind="marketing")
        shop.dispatch()
        shop.consent("c-1", granted=False, source="unsubscribe link")

        shop.drain()

        assert MessageStatus.SUPPRESSED == shop.item("promo-1").status
        assert [1] == [sent.attempt for sent in shop.notifier.sent]

    def test_transactional_messages_still_flow_after_a_marketing_opt_out(
        self, make_store: MakeStore
    ) -> None:
        shop = Shop(make_store)
        shop.customer("c-1")
        shop.consent("c-1", granted=False, source="unsubscribe link")

        shop.buy("c-1", "o-1")
        shop.queue("promo-1", kind="marketing")
        shop.dispatch()

        assert ["custbond:o-1:thanks:thank_you:email"] == [sent.key for sent in shop.notifier.sent]

    def test_refusing_transactional_messages_on_sms_leaves_email_alone(
        self, make_store: MakeStore
    ) -> None:
        shop = Shop(make_store)
        shop.customer("c-1", phone="+15550100")
        shop.consent("c-1", "sms", granted=False, kind="transactional", source="STOP reply")

        by_sms = shop.queue("receipt-sms", channel="sms")
        shop.queue("receipt-email", channel="email")
        shop.dispatch()

        assert MessageStatus.SUPPRESSED == by_sms.status
        assert by_sms.reason is not None
        assert "transactional on sms refused" in by_sms.reason
        assert ["receipt-email"] == [sent.key for sent in shop.notifier.sent]

    def test_the_latest_answer_counts(self, make_store: MakeStore) -> None:
        shop = Shop(make_store)
        shop.customer("c-1")
        shop.consent("c-1", granted=True)
        shop.consent("c-1", granted=False)
        shop.clock.advance(DAY)
        shop.consent("c-1", granted=True, source="preferences page")

        shop.queue("promo-1", kind="marketing")
        shop.dispatch()

        [only] = shop.service.consents("c-1")
        assert (True, T0 + DAY, "preferences page") == (only.granted, only.at, only.source)
        assert ["promo-1"] == [sent.key for sent in shop.notifier.sent]

    def test_consents_per_channel_and_kind_with_when_and_where(
        self, make_store: MakeStore
    ) -> None:
        shop = Shop(make_store)
        shop.consent("c-1", "email", granted=True, source="signup form")
        shop.clock.advance(timedelta(hours=1))
        shop.consent("c-1", "sms", granted=False, kind="transactional", source="STOP reply")

        found = shop.service.consents("c-1")

        assert [
            ("email", MessageKind.MARKETING, True, T0, "signup form"),
            ("sms", MessageKind.TRANSACTIONAL, False, T0 + timedelta(hours=1), "STOP reply"),
        ] == [(c.channel, c.kind, c.granted, c.at, c.source) for c in found]

    def test_a_consent_given_again_under_its_key_changes_nothing(
        self, make_store: MakeStore
    ) -> None:
        shop = Shop(make_store)
        shop.service.set_consent("c-1", "email", granted=True, source="form", key="k-1")
        shop.service.set_consent("c-1", "email", granted=False, source="link", key="k-2")

        shop.clock.advance(DAY)
        shop.service.set_consent("c-1", "email", granted=True, source="form", key="k-1")

        [only] = shop.service.consents("c-1")
        assert (False, "link") == (only.granted, only.source)

    def test_a_consent_for_a_customer_never_seen_creates_them(self, make_store: MakeStore) -> None:
        shop = Shop(make_store)

        shop.consent("new-1")

        assert "new-1" == shop.service.customer("new-1").id

    @pytest.mark.parametrize(
        ("fields", "field"),
        [
            ({"granted": "yes"}, "granted"),
            ({"kind": "spam"}, "kind"),
            ({"channel": ""}, "channel"),
            ({"source": ""}, "source"),
        ],
    )
    def test_bad_consents_are_refused(
        self, make_store: MakeStore, fields: dict[str, Any], field: str
    ) -> None:
        shop = Shop(make_store)
        given = {"granted": True, "source": "form", "key": "k-1", **fields}
        channel = given.pop("channel", "email")

        with pytest.raises(InvalidInput) as raised:
            shop.service.set_consent("c-1", channel, **given)

        assert field == raised.value.field

    def test_erasure_suppresses_what_was_not_sent_and_nothing_goes_to_the_pseudonym(
        self, make_store: MakeStore
    ) -> None:
        shop = Shop(make_store)
        shop.customer("c-ada", name="Ada Lovelace", email="ada@example.com")
        shop.consent("c-ada")
        shop.signup("c-ada", "s-1")
        shop.dispatch()  # the welcome is sent
        shop.queue(
            "promo:c-ada",
            "c-ada",
            "broadcast",
            kind="marketing",
            context={"title": "News", "text": "Dear Ada Lovelace (ada@example.com)"},
        )

        assert shop.service.forget("c-ada", pseudonym="erased-1")
        shop.clock.advance(DAY)
        shop.dispatch()

        # Kept under the pseudonym (a replay of the erased log gives them again), but a
        # message to an erased customer is never sent, even where it needs no address.
        assert ["email/marketing"] == [c.key for c in shop.service.consents("erased-1")]
        later = shop.service.queue(
            Message(
                key="push:erased-1", customer_id="erased-1", template="welcome", channel="push"
            )
        )
        assert (MessageStatus.SUPPRESSED, "the customer was erased") == (
            later.status,
            later.reason,
        )
        statuses = {item.key: item.status for item in shop.service.outbox()}
        assert {
            "custbond:s-1:welcome:welcome:email": MessageStatus.SENT,
            "promo:erased-1": MessageStatus.SUPPRESSED,
            "push:erased-1": MessageStatus.SUPPRESSED,
        } == statuses
        promo = shop.item("promo:erased-1")
        assert "the customer was erased" == promo.reason
        assert {"erased-1"} == {item.customer_id for item in shop.service.outbox()}
        shown = repr(shop.service.outbox())
        for personal in ("Ada", "Lovelace", "ada@example.com", "c-ada"):
            assert personal not in shown
        assert ["custbond:s-1:welcome:welcome:email"] == [sent.key for sent in shop.notifier.sent]
        with pytest.raises(NotFound):
            shop.service.consents("c-ada")


class TestReload:
    """Consents and the outbox are kept by the store, not by the service."""

    def test_consents_and_queued_messages_survive_reopening_a_sqlite_file(
        self, tmp_path: Path
    ) -> None:
        path = tmp_path / "shop.db"
        first = SQLiteStore(path)
        shop = Shop(lambda: first)
        shop.customer("c-1")
        shop.consent("c-1", "email", granted=True, source="signup form")
        shop.consent("c-1", "sms", granted=False, kind="transactional", source="STOP reply")
        shop.queue("promo-1", kind="marketing")
        before = shop.service.consents("c-1")
        first.close()

        reopened = SQLiteStore(path)
        try:
            again = Shop(lambda: reopened)
            again.dispatch()

            assert before == again.service.consents("c-1")
            assert ["promo-1"] == [sent.key for sent in again.notifier.sent]
        finally:
            reopened.close()

    @pytest.mark.postgres
    def test_consents_and_queued_messages_survive_a_new_postgres_store(self) -> None:
        tenant = postgres.fresh_tenant()
        shop = Shop(lambda: postgres.make_store(tenant=tenant))
        shop.customer("c-1")
        shop.consent("c-1", "email", granted=True, source="signup form")
        shop.queue("promo-1", kind="marketing")
        before = shop.service.consents("c-1")

        again = Shop(lambda: postgres.make_store(tenant=tenant))
        again.dispatch()

        assert before == again.service.consents("c-1")
        assert ["promo-1"] == [sent.key for sent in again.notifier.sent]


# -- quiet hours ---------------------------------------------------------------------------


@ON_EVERY_STORE
class TestQuietHours:
    def test_a_message_due_at_night_waits_for_the_morning_in_the_customers_zone(
        self, make_store: MakeStore
    ) -> None:
        # 03:30 UTC: 22:30 the evening before in New York, 04:30 in Paris.
        night = datetime(2026, 3, 3, 3, 30, tzinfo=UTC)
        program = Program(time_zone="Europe/Paris", messaging=MessagingPolicy(quiet_hours=NIGHT))
        shop = Shop(make_store, program=program, at=night)
        shop.customer("ny", time_zone="America/New_York")
        shop.customer("paris")  # the program's zone
        shop.queue("to-ny", "ny")
        shop.queue("to-paris", "paris")

        waiting = {item.key: item for item in shop.dispatch()}
        again = shop.dispatch()
        shop.clock.set(datetime(2026, 3, 3, 7, 0, tzinfo=UTC))  # 08:00 in Paris
        at_eight_in_paris = shop.dispatch()
        shop.clock.set(datetime(2026, 3, 3, 13, 0, tzinfo=UTC))  # 08:00 in New York
        at_eight_in_new_york = shop.dispatch()

        assert {
            "to-ny": (MessageStatus.PENDING, datetime(2026, 3, 3, 13, tzinfo=UTC), 0),
            "to-paris": (MessageStatus.PENDING, datetime(2026, 3, 3, 7, tzinfo=UTC), 0),
        } == {
            key: (item.status, item.next_attempt_at, item.attempts)
            for key, item in waiting.items()
        }
        assert waiting["to-ny"].reason is not None
        assert waiting["to-ny"].reason.startswith("quiet hours 21:00 to 08:00: waits until")
        assert [] == again
        assert [("to-paris", MessageStatus.SENT, 1)] == [
            (item.key, item.status, item.attempts) for item in at_eight_in_paris
        ]
        assert [("to-ny", MessageStatus.SENT, 1)] == [
            (item.key, item.status, item.attempts) for item in at_eight_in_new_york
        ]
        assert ["to-paris", "to-ny"] == [sent.key for sent in shop.notifier.sent]

    @pytest.mark.parametrize(
        ("zone", "evening", "end"),
        [
            ("America/New_York", (2026, 3, 2), datetime(2026, 3, 3, 13, tzinfo=UTC)),
            ("America/New_York", (2026, 3, 7), datetime(2026, 3, 8, 12, tzinfo=UTC)),
            ("Europe/Paris", (2026, 3, 28), datetime(2026, 3, 29, 6, tzinfo=UTC)),
            ("America/New_York", (2026, 10, 31), datetime(2026, 11, 1, 13, tzinfo=UTC)),
            ("Europe/Paris", (2026, 10, 24), datetime(2026, 10, 25, 7, tzinfo=UTC)),
        ],
        ids=["us-plain", "us-march", "eu-march", "us-november", "eu-october"],
    )
    def test_across_daylight_saving_changes_the_message_goes_at_eight_local(
        self,
        make_store: MakeStore,
        zone: str,
        evening: tuple[int, int, int],
        end: datetime,
    ) -> None:
        where = tz.gettz(zone)
        due = datetime(*evening, 22, 30, tzinfo=where).astimezone(UTC)
        program = Program(messaging=MessagingPolicy(quiet_hours=NIGHT))
        shop = Shop(make_store, program=program, at=due)
        shop.customer("c-1", time_zone=zone)
        shop.queue("note-1")

        [waiting] = shop.dispatch()
        shop.clock.set(end - timedelta(seconds=1))
        too_early = shop.dispatch()
        shop.clock.set(end)
        [sent] = shop.dispatch()

        assert (MessageStatus.PENDING, end) == (waiting.status, waiting.next_attempt_at)
        assert [] == too_early
        assert MessageStatus.SENT == sent.status
        assert sent.sent_at is not None
        assert time(8) == sent.sent_at.astimezone(where).time()

    def test_an_end_skipped_by_spring_forward_is_when_the_clocks_jump(
        self, make_store: MakeStore
    ) -> None:
        program = Program(
            messaging=MessagingPolicy(quiet_hours=QuietHours(start=time(21), end=time(2, 30)))
        )
        at = datetime(2026, 3, 8, 4, 0, tzinfo=UTC)  # 23:00 EST on the 7th
        shop = Shop(make_store, program=program, at=at)
        shop.customer("c-1", time_zone="America/New_York")
        shop.queue("note-1")

        [waiting] = shop.dispatch()

        assert datetime(2026, 3, 8, 7, 0, tzinfo=UTC) == waiting.next_attempt_at  # 03:00 EDT


# -- frequency caps ------------------------------------------------------------------------


@ON_EVERY_STORE
class TestFrequencyCaps:
    @staticmethod
    def shop(make_store: MakeStore, cap: FrequencyCap, at: datetime = T0) -> Shop:
        program = Program(messaging=capped(cap))
        shop = Shop(make_store, program=program, at=at)
        shop.customer("c-1")
        shop.consent("c-1")
        return shop

    def test_a_third_marketing_message_within_a_week_is_suppressed_naming_the_cap(
        self, make_store: MakeStore
    ) -> None:
        shop = self.shop(make_store, FrequencyCap(limit=2, per=timedelta(days=7)))
        results: dict[str, MessageStatus] = {}
        for key, at in [
            ("m-1", T0),
            ("m-2", T0 + timedelta(hours=1)),
            ("m-3", T0 + DAY),
            ("m-4", T0 + 6 * DAY),
            ("m-5", T0 + 8 * DAY),
        ]:
            shop.clock.set(at)
            shop.queue(key, kind="marketing")
            [item] = shop.dispatch()
            results[key] = item.status

        assert {
            "m-1": MessageStatus.SENT,
            "m-2": MessageStatus.SENT,
            "m-3": MessageStatus.SUPPRESSED,
            "m-4": MessageStatus.SUPPRESSED,
            "m-5": MessageStatus.SENT,
        } == results
        assert "frequency cap: at most 2 marketing messages per 7 days" == shop.item("m-3").reason
        assert ["m-1", "m-2", "m-5"] == [sent.key for sent in shop.notifier.sent]

    def test_transactional_messages_are_not_held_back_by_a_marketing_cap(
        self, make_store: MakeStore
    ) -> None:
        shop = self.shop(make_store, FrequencyCap(limit=1, per=timedelta(days=7)))
        shop.queue("promo-1", kind="marketing")
        shop.dispatch()

        shop.queue("receipt-1")
        shop.queue("receipt-2")
        shop.queue("promo-2", kind="marketing")
        shop.dispatch()

        assert {
            "promo-1": MessageStatus.SENT,
            "receipt-1": MessageStatus.SENT,
            "receipt-2": MessageStatus.SENT,
            "promo-2": MessageStatus.SUPPRESSED,
        } == shop.statuses()

    def test_transactional_messages_do_not_use_up_a_marketing_cap(
        self, make_store: MakeStore
    ) -> None:
        shop = self.shop(make_store, FrequencyCap(limit=1, per=timedelta(days=7)))
        shop.queue("receipt-1")
        shop.queue("receipt-2")
        shop.dispatch()

        shop.queue("promo-1", kind="marketing")
        shop.dispatch()

        assert MessageStatus.SENT == shop.item("promo-1").status

    def test_a_cap_per_calendar_month(self, make_store: MakeStore) -> None:
        shop = self.shop(
            make_store,
            FrequencyCap(limit=1, per=relativedelta(months=1)),
            at=datetime(2026, 1, 31, 12, tzinfo=UTC),
        )
        shop.queue("january", kind="marketing")
        shop.dispatch()
        shop.clock.set(datetime(2026, 2, 28, 12, tzinfo=UTC))
        shop.queue("february", kind="marketing")
        shop.dispatch()
        shop.clock.set(datetime(2026, 3, 1, 12, tzinfo=UTC))
        shop.queue("march", kind="marketing")
        shop.dispatch()

        assert {
            "january": MessageStatus.SENT,
            "february": MessageStatus.SUPPRESSED,
            "march": MessageStatus.SENT,
        } == shop.statuses()
        assert (
            "frequency cap: at most 1 marketing messages per 1 month"
            == shop.item("february").reason
        )

    def test_messages_dispatched_together_count_against_each_other(
        self, make_store: MakeStore
    ) -> None:
        shop = self.shop(make_store, FrequencyCap(limit=2, per=timedelta(days=7)))
        for n in range(4):
            shop.queue(f"promo-{n}", kind="marketing")

        shop.dispatch()

        assert 2 == len(shop.notifier.sent)
        assert [MessageStatus.SENT] * 2 + [MessageStatus.SUPPRESSED] * 2 == list(
            shop.statuses().values()
        )

    def test_a_cap_and_quiet_hours_together_count_when_the_night_is_over(
        self, make_store: MakeStore
    ) -> None:
        program = Program(
            messaging=capped(FrequencyCap(limit=1, per=timedelta(hours=12)), quiet_hours=NIGHT)
        )
        evening = datetime(2026, 3, 2, 20, 30, tzinfo=UTC)  # UTC customer
        shop = Shop(make_store, program=program, at=evening)
        shop.customer("c-1")
        shop.consent("c-1")
        shop.queue("promo-1", kind="marketing")
        shop.dispatch()  # sent at 20:30
        shop.clock.set(datetime(2026, 3, 2, 22, 0, tzinfo=UTC))
        shop.queue("promo-2", kind="marketing")

        [waiting] = shop.dispatch()
        shop.clock.set(datetime(2026, 3, 3, 8, 0, tzinfo=UTC))  # 11.5 hours after the first
        [morning] = shop.dispatch()

        assert MessageStatus.PENDING == waiting.status
        assert MessageStatus.SUPPRESSED == morning.status


# -- random interleavings of consent and marketing ----------------------------------------

CUSTOMERS = ("c-0", "c-1")
CHANNELS = ("email", "sms")
STEPS = st.lists(
    st.one_of(
        st.tuples(
            st.just("consent"),
            st.sampled_from(CUSTOMERS),
            st.sampled_from(CHANNELS),
            st.booleans(),
        ),
        st.tuples(st.just("marketing"), st.sampled_from(CUSTOMERS), st.sampled_from(CHANNELS)),
        st.tuples(st.just("receipt"), st.sampled_from(CUSTOMERS), st.sampled_from(CHANNELS)),
        st.tuples(st.just("wait"), st.integers(min_value=1, max_value=180)),
        st.tuples(st.just("dispatch"), st.integers(min_value=1, max_value=3)),
    ),
    max_size=40,
)


class ConsentWatcher:
    """A notifier that answers like a provider (the first attempt of every third message
    fails for now) and checks every marketing message it gets against the consents
    the test has recorded: ``breaches`` lists the ones sent against an opt-out."""

    def __init__(self) -> None:
        self.granted: dict[tuple[str, str], bool] = {}
        self.delivered: list[Outgoing] = []
        self.breaches: list[Outgoing] = []

    def send(self, message: Outgoing) -> Delivery:
        if message.attempt == 1 and int(message.key.rsplit("-", 1)[1]) % 3 == 0:
            return Delivery.retry("busy")
        consented = self.granted.get((message.customer_id, message.channel), False)
        if message.kind is MessageKind.MARKETING and not consented:
            self.breaches.append(message)
        self.delivered.append(message)
        return Delivery.sent()


def _interleavings(make_store: MakeStore, steps: list[tuple[Any, ...]]) -> None:
    watcher = ConsentWatcher()
    shop = Shop(make_store)
    shop.service.notifier = watcher
    for customer in CUSTOMERS:  # opted in to start with: the steps opt them out (and in)
        shop.customer(customer, phone="+15550100")
        for channel in CHANNELS:
            shop.consent(customer, channel, granted=True)
            watcher.granted[customer, channel] = True
    marketing: dict[str, tuple[str, str, int, bool]] = {}  # key: who, channel, step, consented
    receipts: list[str] = []
    opt_outs: dict[tuple[str, str], list[int]] = defaultdict(list)
    for number, step in enumerate(steps):
        match step:
            case ("consent", customer, channel, granted):
                shop.consent(customer, channel, granted=granted)
                watcher.granted[customer, channel] = granted
                if not granted:
                    opt_outs[customer, channel].append(number)
            case ("marketing", customer, channel):
                key = f"promo-{number}"
                consented = watcher.granted.get((customer, channel), False)
                item = shop.queue(key, customer, channel=channel, kind="marketing")
                assert (MessageStatus.PENDING if consented else MessageStatus.SUPPRESSED) == (
                    item.status
                )
                marketing[key] = (customer, channel, number, consented)
            case ("receipt", customer, channel):
                receipts.append(shop.queue(f"receipt-{number}", customer, channel=channel).key)
            case ("wait", minutes):
                shop.clock.advance(timedelta(minutes=minutes))
            case ("dispatch", limit):
                shop.dispatch(limit=limit)
    shop.drain()

    assert [] == watcher.breaches
    statuses = shop.statuses()
    # Transactional messages flow whatever happened to marketing consent.
    assert dict.fromkeys(receipts, MessageStatus.SENT) == {key: statuses[key] for key in receipts}
    for key, (customer, channel, number, consented) in marketing.items():
        opted_out_later = any(when > number for when in opt_outs[customer, channel])
        if consented and not opted_out_later:
            assert MessageStatus.SENT == statuses[key], key
        else:
            assert statuses[key] in (MessageStatus.SENT, MessageStatus.SUPPRESSED), key
        if statuses[key] is MessageStatus.SUPPRESSED:
            reason = shop.item(key).reason
            assert reason is not None
            assert "marketing on" in reason


def _with_examples(examples: dict[str, int]) -> list[Any]:
    """STORES, each with how many examples Hypothesis tries on it."""
    return [
        pytest.param(param.values[0], examples[str(param.id)], id=param.id, marks=param.marks)
        for param in STORES
    ]


class TestInterleavings:
    @pytest.mark.parametrize(
        ("make_store", "examples"), _with_examples({"memory": 200, "sqlite": 100, "postgres": 40})
    )
    def test_no_marketing_is_sent_against_an_opt_out_and_transactional_messages_flow(
        self, make_store: MakeStore, examples: int
    ) -> None:
        @settings(max_examples=examples)
        @given(steps=STEPS)
        def run(steps: list[tuple[Any, ...]]) -> None:
            _interleavings(make_store, steps)

        run()
