"""The messages custbond sends on its own (issue 5), through the service on every store:
welcome and thank-you with their events, birthday and holiday greetings and notices of
expiring points from run_due(), appointment reminders, broadcasts to a segment, and their
replay. The pure parts (Greeting.next_at, local_moment, Holiday, suggestions) at the end.

Every test runs on a FixedClock: time moves by hand, in steps, and never by sleeping."""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from typing import Any, cast

import pytest
from dateutil import tz
from dateutil.relativedelta import relativedelta
from hypothesis import given
from hypothesis import strategies as st

from custbond import (
    Birthday,
    Broadcast,
    Customer,
    FixedClock,
    InvalidInput,
    LineItem,
    Outcome,
    PointsPolicy,
    Program,
    Purchase,
    RetentionService,
    RuleSyntaxError,
    Signup,
    Store,
    UnitOfWork,
    Visit,
)
from custbond.effects import QueueMessage
from custbond.events import Appointment, AppointmentCancelled
from custbond.messaging import (
    Delivery,
    MessageKind,
    MessageStatus,
    Outgoing,
    QueuedMessage,
    RecordingNotifier,
)
from custbond.messaging.occasions import (
    ExpiryNotice,
    Greeting,
    Holiday,
    Reminder,
    Send,
    local_moment,
)
from custbond.messaging.policy import MessagingPolicy, QuietHours
from custbond.rules import customer
from stores import STORES

ON_EVERY_STORE = pytest.mark.parametrize("make_store", STORES)

MakeStore = Callable[[], Store]

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
WEEK = timedelta(days=7)


def zone(name: str) -> tzinfo:
    found = tz.gettz(name)
    assert found is not None, name
    return found


AUCKLAND = zone("Pacific/Auckland")
LOS_ANGELES = zone("America/Los_Angeles")
NEW_YORK = zone("America/New_York")
PARIS = zone("Europe/Paris")
TOKYO = zone("Asia/Tokyo")

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)  # a Monday: 10:00 in Paris
LEAP_DAY = Birthday(month=2, day=29)

EVENT_MESSAGES = MessagingPolicy(
    welcome=Send(template="welcome"),
    thank_you=Send(template="thank_you"),
    related={"latte": "almond croissant"},
)
REMINDERS = MessagingPolicy(appointment_reminder=Reminder(before=timedelta(hours=24)))
BIRTHDAYS = MessagingPolicy(birthday=Greeting())
CHRISTMAS = Holiday("christmas", "FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=25")
HOLIDAYS = MessagingPolicy(holidays=[CHRISTMAS])
EXPIRING = Program(
    points=PointsPolicy(expire_after=relativedelta(months=2)),
    messaging=MessagingPolicy(points_expiring=ExpiryNotice(within=timedelta(days=30))),
)


class Shop:
    """A service on a fresh store, with a FixedClock, a RecordingNotifier, and
    shorthands for a test."""

    def __init__(
        self,
        make_store: MakeStore,
        policy: MessagingPolicy | None = None,
        *,
        program: Program | None = None,
        at: datetime = T0,
        store: Store | None = None,
        answer: Callable[[Outgoing], Delivery] | None = None,
    ) -> None:
        if program is None:
            program = Program(messaging=MessagingPolicy() if policy is None else policy)
        self.clock = FixedClock(at)
        self.store = make_store() if store is None else store
        self.notifier = RecordingNotifier(answer)
        self.service = RetentionService(program, self.store, self.clock, notifier=self.notifier)
        self._keys = itertools.count(1)

    def customer(self, customer_id: str = "c-1", **profile: Any) -> None:
        fields = {"email": f"{customer_id}@example.com", "phone": "+15550100", **profile}
        self.service.save_customer(Customer(customer_id, **fields))

    def consent(self, customer_id: str = "c-1", *, granted: bool = True) -> None:
        self.service.set_consent(
            customer_id,
            "email",
            granted=granted,
            source="signup form",
            key=f"consent-{next(self._keys)}",
        )

    def buy(
        self, id: str = "o-1", customer_id: str = "c-1", *skus: str, amount: str = "12.40"
    ) -> Outcome:
        # The items add up to the amount: the first takes what the others (1.00 each) leave.
        prices = [Decimal(amount) - len(skus) + 1] + [Decimal(1)] * (len(skus) - 1)
        items = [
            LineItem(sku=sku, quantity=1, unit_price=price)
            for sku, price in zip(skus, prices, strict=False)
        ]
        return self.service.record(
            Purchase(
                id=id,
                customer_id=customer_id,
                at=self.clock.now(),
                amount=Decimal(amount),
                currency="USD",
                items=items,
            )
        )

    def book(
        self, id: str, starts_in: timedelta, customer_id: str = "c-1", service: str | None = None
    ) -> Outcome:
        now = self.clock.now()
        return self.service.record(
            Appointment(
                id=id,
                customer_id=customer_id,
                at=now,
                starts_at=now + starts_in,
                service=service,
            )
        )

    def cancel(self, id: str, appointment_id: str, customer_id: str = "c-1") -> Outcome:
        return self.service.record(
            AppointmentCancelled(
                id=id, customer_id=customer_id, at=self.clock.now(), appointment_id=appointment_id
            )
        )

    def tick(self) -> None:
        """What a worker does every so often: run_due(), then dispatch()."""
        self.service.run_due()
        self.service.dispatch()

    def walk(self, until: datetime, step: timedelta) -> None:
        """tick() now, and at every ``step`` up to ``until`` (included)."""
        while True:
            self.tick()
            if self.clock.now() >= until:
                return
            self.clock.set(min(self.clock.now() + step, until))

    def item(self, key: str) -> QueuedMessage:
        found = [item for item in self.service.outbox() if item.key == key]
        assert 1 == len(found), f"{len(found)} messages under {key!r}"
        return found[0]

    def keys(self) -> list[str]:
        return sorted(item.key for item in self.service.outbox())

    def sent_keys(self) -> list[str]:
        return [sent.key for sent in self.notifier.sent]

    def schedule(self, customer_id: str = "c-1") -> dict[str, datetime]:
        with self.store.unit_of_work(write=False) as uow:
            state = uow.load(customer_id)
        assert state is not None
        return dict(state.schedule)


def local(moment: datetime | None, where: tzinfo) -> str:
    assert moment is not None
    return moment.astimezone(where).isoformat()


class StoreCrash(Exception):
    """The database went away at the end of a unit of work."""


class CrashingStore:
    """A store whose unit of work for the event ``crash_on`` fails when the event log is
    written: after the state and the outbox, before the commit."""

    def __init__(self, store: Store, crash_on: str) -> None:
        self.store = store
        self.crash_on: str | None = crash_on

    @contextmanager
    def unit_of_work(self, *, write: bool = True) -> Iterator[UnitOfWork]:
        with self.store.unit_of_work(write=write) as uow:
            yield cast("UnitOfWork", _CrashingUnitOfWork(uow, self))


class _CrashingUnitOfWork:
    def __init__(self, uow: UnitOfWork, store: CrashingStore) -> None:
        self._uow = uow
        self._store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self._uow, name)

    def append(self, key: Any, item: Any, recorded_at: datetime, outcome: Outcome) -> Any:
        if key is not None and key[1] == self._store.crash_on:
            raise StoreCrash(f"the database went away while recording {key[1]!r}")
        return self._uow.append(key, item, recorded_at, outcome)


# -- 1. welcome and thank-you, with their events --------------------------------------------


@ON_EVERY_STORE
class TestWelcomeAndThankYou:
    def test_a_signup_queues_a_welcome_in_its_unit_of_work(self, make_store: MakeStore) -> None:
        shop = Shop(make_store, EVENT_MESSAGES)
        shop.customer("c-1", name="Ada")

        outcome = shop.service.record(Signup(id="s-1", customer_id="c-1", at=T0))

        assert [("custbond:s-1:welcome", "welcome", "email", "transactional", {}, None)] == [
            (e.key, e.template, e.channel, e.kind, dict(e.context), e.not_before)
            for e in outcome.effects
            if isinstance(e, QueueMessage)
        ]
        welcome = shop.item("custbond:s-1:welcome")
        assert (MessageStatus.PENDING, "welcome", MessageKind.TRANSACTIONAL, T0) == (
            welcome.status,
            welcome.message.template,
            welcome.message.kind,
            welcome.queued_at,
        )

    def test_a_purchase_queues_a_thank_you_with_points_amount_and_suggestions(
        self, make_store: MakeStore
    ) -> None:
        shop = Shop(make_store, EVENT_MESSAGES)
        shop.customer("c-1")

        shop.buy("o-1", "c-1", "latte", "bagel")

        thanks = shop.item("custbond:o-1:thank_you")
        assert {
            "points": 12,
            "amount": Decimal("12.40"),
            "related": "almond croissant",
            "suggestions": "You might also like: almond croissant.",
        } == dict(thanks.message.context)
        assert (MessageKind.TRANSACTIONAL, "thank_you", "email") == (
            thanks.message.kind,
            thanks.message.template,
            thanks.message.channel,
        )

    def test_what_was_bought_is_not_suggested(self, make_store: MakeStore) -> None:
        shop = Shop(make_store, EVENT_MESSAGES)
        shop.customer("c-1")

        shop.buy("o-1", "c-1", "latte", "almond croissant")
        shop.buy("o-2", "c-1")  # no items at all

        for key in ("custbond:o-1:thank_you", "custbond:o-2:thank_you"):
            context = shop.item(key).message.context
            assert ("", "") == (context["related"], context["suggestions"]), key

    def test_nothing_is_queued_when_they_are_switched_off(self, make_store: MakeStore) -> None:
        shop = Shop(make_store, MessagingPolicy(related={"latte": "almond croissant"}))
        shop.customer("c-1")

        shop.service.record(Signup(id="s-1", customer_id="c-1", at=T0))
        outcome = shop.buy("o-1", "c-1", "latte")

        assert () == shop.service.outbox()
        assert not [effect for effect in outcome.effects if isinstance(effect, QueueMessage)]

    def test_they_are_delivered_with_the_default_templates(self, make_store: MakeStore) -> None:
        shop = Shop(make_store, EVENT_MESSAGES)
        shop.customer("c-1", name="Ada")
        shop.service.record(Signup(id="s-1", customer_id="c-1", at=T0))
        shop.buy("o-1", "c-1", "latte")

        shop.service.dispatch()

        sent = {message.key: message for message in shop.notifier.sent}
        assert ["custbond:o-1:thank_you", "custbond:s-1:welcome"] == sorted(sent)
        assert "You might also like: almond croissant." in sent["custbond:o-1:thank_you"].body
        assert "Hi Ada" in sent["custbond:o-1:thank_you"].body
        assert "Thank you!" == sent["custbond:o-1:thank_you"].subject
        assert "Welcome to our rewards program" in sent["custbond:s-1:welcome"].body
        assert {"c-1@example.com"} == {message.to for message in sent.values()}
        assert {MessageStatus.SENT} == {item.status for item in shop.service.outbox()}

    def test_the_same_event_delivered_again_queues_nothing_new(
        self, make_store: MakeStore
    ) -> None:
        shop = Shop(make_store, EVENT_MESSAGES)
        shop.customer("c-1")
        signup = Signup(id="s-1", customer_id="c-1", at=T0)
        purchase = Purchase(
            id="o-1",
            customer_id="c-1",
            at=T0,
            amount=Decimal("12.40"),
            currency="USD",
            items=[LineItem(sku="latte", quantity=1, unit_price=Decimal("12.40"))],
        )
        shop.service.record(signup)
        shop.service.record(purchase)
        shop.service.dispatch()

        shop.clock.advance(DAY)
        shop.service.record(signup)
        shop.service.record(purchase)
        shop.service.dispatch()

        assert ["custbond:o-1:thank_you", "custbond:s-1:welcome"] == shop.keys()
        assert ["custbond:o-1:thank_you", "custbond:s-1:welcome"] == sorted(shop.sent_keys())

    def test_a_signup_whose_unit_of_work_crashes_leaves_no_welcome(
        self, make_store: MakeStore
    ) -> None:
        crashing = CrashingStore(make_store(), crash_on="s-1")
        shop = Shop(make_store, EVENT_MESSAGES, store=cast("Store", crashing))
        shop.customer("c-1")

        with pytest.raises(StoreCrash):
            shop.service.record(Signup(id="s-1", customer_id="c-1", at=T0))
        assert () == shop.service.outbox()

        crashing.crash_on = None  # the host tries again
        shop.service.record(Signup(id="s-1", customer_id="c-1", at=T0))
        assert ["custbond:s-1:welcome"] == shop.keys()


# -- 2. birthday greetings -------------------------------------------------------------------


@ON_EVERY_STORE
class TestBirthdayGreetings:
    def test_a_29_february_birthday_in_2027_and_2028_in_two_time_zones(
        self, make_store: MakeStore
    ) -> None:
        """The issue's test: greeted on 28 February in 2027 (a common year) and on
        29 February in 2028, at 09:00 in each customer's zone, once a year; marketing, so
        not to the customer who did not consent."""
        shop = Shop(make_store, BIRTHDAYS, at=datetime(2027, 1, 1, tzinfo=UTC))
        shop.customer("akl", time_zone="Pacific/Auckland", birthday=LEAP_DAY)
        shop.customer("lax", time_zone="America/Los_Angeles", birthday=LEAP_DAY)
        shop.customer("shy", time_zone="Pacific/Auckland", birthday=LEAP_DAY)
        shop.consent("akl")
        shop.consent("lax")

        for year in (2027, 2028):
            # Weekly until the days come near, hourly around them, daily after.
            shop.walk(datetime(year, 2, 26, tzinfo=UTC), WEEK)
            shop.walk(datetime(year, 3, 3, tzinfo=UTC), HOUR)
            shop.walk(datetime(year, 3, 10, tzinfo=UTC), DAY)
        shop.walk(datetime(2028, 6, 1, tzinfo=UTC), WEEK)

        assert [
            "custbond:birthday:akl:2027",
            "custbond:birthday:lax:2027",
            "custbond:birthday:akl:2028",
            "custbond:birthday:lax:2028",
        ] == shop.sent_keys()
        for year, day in ((2027, "2027-02-28"), (2028, "2028-02-29")):
            for customer_id, where, offset in (
                ("akl", AUCKLAND, "+13"),
                ("lax", LOS_ANGELES, "-08"),
            ):
                item = shop.item(f"custbond:birthday:{customer_id}:{year}")
                assert f"{day}T09:00:00{offset}:00" == local(item.sent_at, where)
                assert (MessageKind.MARKETING, "birthday") == (
                    item.message.kind,
                    item.message.template,
                )
        for year in (2027, 2028):
            shy = shop.item(f"custbond:birthday:shy:{year}")
            assert MessageStatus.SUPPRESSED == shy.status
            assert "no consent to marketing on email" == shy.reason
        assert "Happy birthday" in shop.notifier.sent[0].body
        # Next year's is scheduled: 28 February 2029, 09:00 in Auckland.
        assert "2029-02-28T09:00:00+13:00" == local(shop.schedule("akl")["birthday"], AUCKLAND)

    def test_a_transactional_greeting_needs_no_consent(self, make_store: MakeStore) -> None:
        policy = MessagingPolicy(birthday=Greeting(kind="transactional"))
        shop = Shop(make_store, policy, at=datetime(2027, 3, 9, 12, tzinfo=UTC))
        shop.customer("c-1", birthday=Birthday(month=3, day=10))

        shop.walk(datetime(2027, 3, 11, tzinfo=UTC), HOUR)

        assert ["custbond:birthday:c-1:2027"] == shop.sent_keys()
        assert "2027-03-10T09:00:00+00:00" == local(
            shop.item("custbond:birthday:c-1:2027").sent_at, UTC
        )

    def test_a_customer_without_a_zone_is_greeted_in_the_programs(
        self, make_store: MakeStore
    ) -> None:
        program = Program(time_zone="Asia/Tokyo", messaging=BIRTHDAYS)
        shop = Shop(make_store, program=program, at=datetime(2027, 3, 9, tzinfo=UTC))
        shop.customer("c-1", birthday=Birthday(month=3, day=10))
        shop.consent("c-1")

        shop.walk(datetime(2027, 3, 11, tzinfo=UTC), HOUR)

        assert "2027-03-10T09:00:00+09:00" == local(
            shop.item("custbond:birthday:c-1:2027").sent_at, TOKYO
        )

    def test_a_greeting_at_most_a_day_late_still_goes(self, make_store: MakeStore) -> None:
        shop = Shop(make_store, BIRTHDAYS, at=datetime(2027, 1, 1, tzinfo=UTC))
        shop.customer("c-1", birthday=Birthday(month=3, day=10))
        shop.consent("c-1")

        shop.clock.set(datetime(2027, 3, 11, 9, tzinfo=UTC))  # exactly late_by after 09:00
        shop.tick()

        assert ["custbond:birthday:c-1:2027"] == shop.sent_keys()

    def test_a_greeting_more_than_late_by_late_is_skipped_for_next_years(
        self, make_store: MakeStore
    ) -> None:
        shop = Shop(make_store, BIRTHDAYS, at=datetime(2027, 1, 1, tzinfo=UTC))
        shop.customer("c-1", birthday=Birthday(month=3, day=10))
        shop.consent("c-1")

        shop.clock.set(datetime(2027, 3, 13, tzinfo=UTC))  # run_due not run for days
        outcomes = shop.service.run_due()
        shop.service.dispatch()

        assert [] == shop.keys()
        assert "birthday greeting for 2027 skipped" in str(outcomes[0].trace)
        assert datetime(2028, 3, 10, 9, tzinfo=UTC) == shop.schedule()["birthday"]
        shop.walk(datetime(2028, 3, 11, tzinfo=UTC), WEEK)
        assert ["custbond:birthday:c-1:2028"] == shop.sent_keys()

    def test_changing_the_birthday_or_zone_in_the_profile_reschedules(
        self, make_store: MakeStore
    ) -> None:
        shop = Shop(make_store, BIRTHDAYS, at=datetime(2027, 1, 1, tzinfo=UTC))
        shop.customer("c-1", birthday=Birthday(month=3, day=10))
        shop.consent("c-1")
        assert datetime(2027, 3, 10, 9, tzinfo=UTC) == shop.schedule()["birthday"]

        shop.customer("c-1", birthday=Birthday(month=4, day=2), time_zone="Asia/Tokyo")

        assert "2027-04-02T09:00:00+09:00" == local(shop.schedule()["birthday"], TOKYO)
        shop.walk(datetime(2027, 3, 12, tzinfo=UTC), DAY)
        assert [] == shop.keys()  # not on the old day
        shop.walk(datetime(2027, 4, 3, tzinfo=UTC), HOUR)
        assert "2027-04-02T09:00:00+09:00" == local(
            shop.item("custbond:birthday:c-1:2027").sent_at, TOKYO
        )

    def test_removing_the_birthday_unschedules_the_greeting(self, make_store: MakeStore) -> None:
        shop = Shop(make_store, BIRTHDAYS, at=datetime(2027, 1, 1, tzinfo=UTC))
        shop.customer("c-1", birthday=Birthday(month=3, day=10))
        shop.consent("c-1")

        shop.customer("c-1")  # the same profile, without the birthday

        assert "birthday" not in shop.schedule()
        shop.walk(datetime(2027, 3, 12, tzinfo=UTC), DAY)
        assert [] == shop.keys()

    def test_a_birthday_moved_later_after_its_greeting_is_not_greeted_twice_that_year(
        self, make_store: MakeStore
    ) -> None:
        shop = Shop(make_store, BIRTHDAYS, at=datetime(2027, 3, 10, tzinfo=UTC))
        shop.customer("c-1", birthday=Birthday(month=3, day=10))
        shop.consent("c-1")
        shop.walk(datetime(2027, 3, 11, tzinfo=UTC), HOUR)
        assert ["custbond:birthday:c-1:2027"] == shop.sent_keys()

        shop.customer("c-1", birthday=Birthday(month=3, day=20))
        shop.walk(datetime(2027, 3, 22, tzinfo=UTC), HOUR)

        assert ["custbond:birthday:c-1:2027"] == shop.sent_keys()
        assert ["custbond:birthday:c-1:2027"] == shop.keys()

    def test_a_customer_saved_before_the_program_greeted_is_scheduled_at_their_next_event(
        self, make_store: MakeStore
    ) -> None:
        before = Program(points=PointsPolicy(pending_for=DAY))
        old = Shop(make_store, program=before, at=datetime(2027, 1, 1, 12, tzinfo=UTC))
        old.customer("visits", birthday=Birthday(month=3, day=10))
        old.customer("buys", birthday=Birthday(month=3, day=10))
        old.buy("o-1", "buys")  # its points clear a day later: a Settle by run_due
        assert {} == old.schedule("visits") == old.schedule("buys")

        after = Program(points=PointsPolicy(pending_for=DAY), messaging=BIRTHDAYS)
        shop = Shop(make_store, program=after, store=old.store, at=old.clock.now())
        shop.service.record(Visit(id="v-1", customer_id="visits", at=shop.clock.now()))
        shop.clock.advance(2 * DAY)
        shop.service.run_due()

        greeting = datetime(2027, 3, 10, 9, tzinfo=UTC)
        assert greeting == shop.schedule("visits")["birthday"] == shop.schedule("buys")["birthday"]
        shop.clock.set(greeting)
        shop.service.run_due()
        assert ["custbond:birthday:buys:2027", "custbond:birthday:visits:2027"] == shop.keys()


# -- 3. holiday greetings --------------------------------------------------------------------


@ON_EVERY_STORE
class TestHolidayGreetings:
    def test_a_host_broadcast_under_a_holiday_like_key_does_not_stand_for_the_greeting(
        self, make_store: MakeStore
    ) -> None:
        shop = Shop(make_store, HOLIDAYS, at=datetime(2026, 12, 24, tzinfo=UTC))
        shop.customer("nyc", time_zone="America/New_York")
        shop.consent("nyc")
        # The key custbond's own Christmas broadcast used: its greetings were taken as
        # queued already, and nobody was greeted.
        shop.service.broadcast("holiday:christmas:2026-12-25", "broadcast", context=NEWS)

        shop.service.run_due()

        assert ["broadcast", "holiday"] == sorted(
            item.message.template for item in shop.service.outbox()
        )

    def test_greetings_are_queued_once_for_09_00_in_each_customers_zone(
        self, make_store: MakeStore
    ) -> None:
        shop = Shop(make_store, HOLIDAYS, at=datetime(2026, 12, 23, tzinfo=UTC))
        shop.customer("tokyo", time_zone="Asia/Tokyo", name="Aiko")
        shop.customer("nyc", time_zone="America/New_York")
        shop.customer("shy", time_zone="America/New_York")
        shop.consent("tokyo")
        shop.consent("nyc")

        shop.tick()
        assert [] == shop.keys()  # two days ahead: not yet
        shop.walk(datetime(2026, 12, 27, tzinfo=UTC), HOUR)  # 96 run_due() in all

        key = "custbond:holiday:christmas:2026-12-25"
        assert [f"{key}:nyc", f"{key}:shy", f"{key}:tokyo"] == shop.keys()
        assert [f"{key}:tokyo", f"{key}:nyc"] == shop.sent_keys()
        for customer_id, where in (("tokyo", TOKYO), ("nyc", NEW_YORK), ("shy", NEW_YORK)):
            item = shop.item(f"{key}:{customer_id}")
            assert datetime(2026, 12, 24, tzinfo=UTC) == item.queued_at  # the day before
            assert (MessageKind.MARKETING, "holiday", {"holiday": "christmas"}) == (
                item.message.kind,
                item.message.template,
                dict(item.message.context),
            )
            at_nine = datetime(2026, 12, 25, 9, tzinfo=where).isoformat()
            assert at_nine == local(item.message.not_before, where)
            if customer_id != "shy":
                assert at_nine == local(item.sent_at, where)
        shy = shop.item(f"{key}:shy")
        assert (MessageStatus.SUPPRESSED, "no consent to marketing on email") == (
            shy.status,
            shy.reason,
        )
        greeting = shop.notifier.sent[0]
        assert ("Happy christmas!", "Hi Aiko,\n\nHappy christmas from all of us") == (
            greeting.subject,
            greeting.body[: len("Hi Aiko,\n\nHappy christmas from all of us")],
        )

    def test_a_holiday_missed_by_run_due_is_not_greeted_late(self, make_store: MakeStore) -> None:
        shop = Shop(make_store, HOLIDAYS, at=datetime(2026, 12, 20, tzinfo=UTC))
        shop.customer("c-1")
        shop.consent("c-1")

        shop.clock.set(datetime(2026, 12, 26, tzinfo=UTC))
        shop.tick()

        assert [] == shop.keys()


# -- 4. appointment reminders ----------------------------------------------------------------


@ON_EVERY_STORE
class TestAppointmentReminders:
    def test_a_reminder_goes_24_hours_before_and_not_sooner(self, make_store: MakeStore) -> None:
        shop = Shop(make_store, REMINDERS)
        shop.customer("c-1", time_zone="Europe/Paris", name="Ada")

        outcome = shop.book("ap-1", 3 * DAY, service="haircut")

        send_at = T0 + 2 * DAY
        queued = shop.item("custbond:ap-1:reminder")
        assert send_at == queued.message.not_before == queued.next_attempt_at
        assert (MessageKind.TRANSACTIONAL, "sms", "appointment_reminder") == (
            queued.message.kind,
            queued.message.channel,
            queued.message.template,
        )
        # When, in the customer's zone (10:00 in Paris is 09:00 UTC), and what for.
        assert {"when": "2026-03-05 10:00", "service": "haircut"} == dict(queued.message.context)
        assert f"reminder queued for {send_at.isoformat()}" in str(outcome.trace)
        shop.walk(send_at - timedelta(minutes=1), HOUR)
        assert [] == shop.sent_keys()
        shop.clock.set(send_at)
        shop.service.dispatch()
        assert ["custbond:ap-1:reminder"] == shop.sent_keys()
        assert send_at == shop.item("custbond:ap-1:reminder").sent_at
        assert "+15550100" == shop.notifier.sent[0].to
        assert "2026-03-05 10:00" in shop.notifier.sent[0].body

    def test_an_appointment_booked_closer_than_that_is_reminded_at_once(
        self, make_store: MakeStore
    ) -> None:
        shop = Shop(make_store, REMINDERS)
        shop.customer("c-1")

        shop.book("ap-1", 2 * HOUR)
        shop.service.dispatch()

        assert ["custbond:ap-1:reminder"] == shop.sent_keys()
        item = shop.item("custbond:ap-1:reminder")
        assert T0 == item.sent_at == item.message.not_before
        assert {"when": "2026-03-02 11:00", "service": ""} == dict(item.message.context)

    def test_a_reminder_quiet_hours_would_hold_past_the_appointment_is_not_sent(
        self, make_store: MakeStore
    ) -> None:
        # Booked at 22:00 in Paris for 07:30 next morning: the reminder is due at once, but
        # the quiet hours last until 08:00, after the appointment has begun.
        night = MessagingPolicy(
            appointment_reminder=Reminder(before=timedelta(hours=24)),
            quiet_hours=QuietHours(start=time(21), end=time(8)),
        )
        shop = Shop(make_store, night, at=datetime(2026, 3, 2, 21, tzinfo=UTC))
        shop.customer("c-1", time_zone="Europe/Paris")

        shop.book("ap-1", timedelta(hours=9, minutes=30))
        shop.service.dispatch()

        item = shop.item("custbond:ap-1:reminder")
        assert MessageStatus.SUPPRESSED == item.status
        assert "last past the time it was to go before" in (item.reason or "")
        assert [] == shop.sent_keys()

    def test_a_cancelled_appointment_is_never_reminded(self, make_store: MakeStore) -> None:
        shop = Shop(make_store, REMINDERS)
        shop.customer("c-1")
        shop.book("ap-1", 3 * DAY)
        shop.clock.advance(DAY)

        shop.cancel("x-1", "ap-1")
        shop.walk(T0 + 4 * DAY, 6 * HOUR)

        item = shop.item("custbond:ap-1:reminder")
        assert (MessageStatus.SUPPRESSED, "appointment ap-1 cancelled") == (
            item.status,
            item.reason,
        )
        assert [] == shop.sent_keys()

    def test_cancelling_after_the_reminder_was_sent_changes_nothing(
        self, make_store: MakeStore
    ) -> None:
        shop = Shop(make_store, REMINDERS)
        shop.customer("c-1")
        shop.book("ap-1", 2 * HOUR)
        shop.service.dispatch()
        sent = shop.item("custbond:ap-1:reminder")

        shop.clock.advance(HOUR)
        shop.cancel("x-1", "ap-1")

        assert sent == shop.item("custbond:ap-1:reminder")
        assert MessageStatus.SENT == sent.status

    def test_cancelling_another_customers_appointment_leaves_its_reminder(
        self, make_store: MakeStore
    ) -> None:
        shop = Shop(make_store, REMINDERS)
        shop.customer("c-1")
        shop.customer("c-2")
        shop.book("ap-1", 3 * DAY, customer_id="c-1")

        shop.cancel("x-1", "ap-1", customer_id="c-2")

        assert MessageStatus.PENDING == shop.item("custbond:ap-1:reminder").status

    def test_no_reminder_without_one_in_the_program_or_for_a_past_start(
        self, make_store: MakeStore
    ) -> None:
        plain = Shop(make_store)
        plain.customer("c-1")
        plain.book("ap-1", 3 * DAY)
        assert () == plain.service.outbox()

        shop = Shop(make_store, REMINDERS)
        shop.customer("c-1")
        shop.book("ap-1", -HOUR)
        assert () == shop.service.outbox()

    def test_a_reminder_cancelled_while_it_is_being_sent_is_kept_as_sent(
        self, make_store: MakeStore
    ) -> None:
        def cancel_meanwhile(message: Outgoing) -> Delivery:
            shop.cancel("x-1", "ap-1")  # the customer cancels as the sms goes out
            return Delivery.sent()

        shop = Shop(make_store, REMINDERS, answer=cancel_meanwhile)
        shop.customer("c-1")
        shop.book("ap-1", 2 * HOUR)

        shop.service.dispatch()

        assert ["custbond:ap-1:reminder"] == [sent.key for sent in shop.notifier.delivered]
        item = shop.item("custbond:ap-1:reminder")
        assert (MessageStatus.SENT, T0) == (item.status, item.sent_at)


# -- 5. points about to expire ---------------------------------------------------------------

JAN_1 = datetime(2026, 1, 1, 12, tzinfo=UTC)  # points earned now expire 1 March, 12:00 UTC


@ON_EVERY_STORE
class TestExpiringPoints:
    def test_one_notice_for_the_first_points_and_a_later_one_for_later_points(
        self, make_store: MakeStore
    ) -> None:
        shop = Shop(make_store, program=EXPIRING, at=JAN_1)
        shop.customer("c-1", time_zone="Pacific/Auckland")
        shop.buy("o-1", amount="12")  # expire 2026-03-01T12:00Z: 2 March in Auckland
        shop.clock.set(JAN_1 + 19 * DAY)
        shop.buy("o-2", amount="5")  # expire 2026-03-20T12:00Z: 21 March in Auckland

        shop.walk(datetime(2026, 5, 1, 12, tzinfo=UTC), DAY)

        first, second = (
            "custbond:expiring:c-1:20260301T120000000000",
            "custbond:expiring:c-1:20260320T120000000000",
        )
        assert [first, second] == shop.sent_keys()
        notice = shop.item(first)
        assert {"points": 12, "expires_on": "2026-03-02"} == dict(notice.message.context)
        assert (MessageKind.TRANSACTIONAL, "points_expiring") == (
            notice.message.kind,
            notice.message.template,
        )
        # 30 days before they expire, without any consent asked for.
        assert datetime(2026, 1, 30, 12, tzinfo=UTC) == notice.sent_at
        later = shop.item(second)
        assert {"points": 5, "expires_on": "2026-03-21"} == dict(later.message.context)
        # Within 30 days of those points expiring, and before they do.
        assert later.sent_at is not None
        assert datetime(2026, 2, 18, 12, tzinfo=UTC) <= later.sent_at
        assert later.sent_at < datetime(2026, 3, 20, 12, tzinfo=UTC)
        assert "12 of your points expire on 2026-03-02" in shop.notifier.sent[0].body

    def test_a_notice_names_every_point_expiring_in_the_window_and_the_first_day(
        self, make_store: MakeStore
    ) -> None:
        shop = Shop(make_store, program=EXPIRING, at=JAN_1)
        shop.customer("c-1", time_zone="Pacific/Auckland")
        shop.buy("o-1", amount="12")  # expire 1 March (UTC)
        shop.clock.set(JAN_1 + 9 * DAY)
        shop.buy("o-2", amount="5")  # 10 March
        shop.clock.set(datetime(2026, 2, 5, 12, tzinfo=UTC))
        shop.buy("o-3", amount="7")  # 5 April: outside the window on 10 February

        shop.clock.set(datetime(2026, 2, 10, 12, tzinfo=UTC))  # run_due late, at last
        shop.tick()

        [notice] = shop.service.outbox()
        assert "custbond:expiring:c-1:20260301T120000000000" == notice.key
        assert {"points": 17, "expires_on": "2026-03-02"} == dict(notice.message.context)

    def test_no_second_notice_for_the_same_points(self, make_store: MakeStore) -> None:
        shop = Shop(make_store, program=EXPIRING, at=JAN_1)
        shop.customer("c-1")
        shop.buy("o-1", amount="12")

        shop.walk(datetime(2026, 2, 28, 12, tzinfo=UTC), 6 * HOUR)
        shop.buy("o-2", amount="3")  # an event in the meantime changes nothing
        shop.walk(datetime(2026, 3, 2, 12, tzinfo=UTC), HOUR)

        assert ["custbond:expiring:c-1:20260301T120000000000"] == shop.sent_keys()

    def test_no_notice_for_points_spent_before_the_check(self, make_store: MakeStore) -> None:
        shop = Shop(make_store, program=EXPIRING, at=JAN_1)
        shop.customer("c-1")
        shop.buy("o-1", amount="12")
        shop.clock.advance(5 * DAY)
        shop.service.redeem("c-1", 12, key="r-1")

        shop.walk(datetime(2026, 4, 1, 12, tzinfo=UTC), DAY)

        assert [] == shop.keys()

    def test_a_notice_names_only_the_points_left(self, make_store: MakeStore) -> None:
        shop = Shop(make_store, program=EXPIRING, at=JAN_1)
        shop.customer("c-1")
        shop.buy("o-1", amount="12")
        shop.clock.advance(5 * DAY)
        shop.service.redeem("c-1", 5, key="r-1")

        shop.walk(datetime(2026, 4, 1, 12, tzinfo=UTC), DAY)

        [notice] = shop.service.outbox()
        assert {"points": 7, "expires_on": "2026-03-01"} == dict(notice.message.context)

    def test_points_given_by_an_adjustment_get_a_notice_too(self, make_store: MakeStore) -> None:
        shop = Shop(make_store, program=EXPIRING, at=JAN_1)
        shop.customer("c-1")
        shop.service.adjust("c-1", 100, "goodwill", key="adj-1")  # expire 1 March

        shop.walk(datetime(2026, 4, 1, 12, tzinfo=UTC), DAY)

        assert 100 == shop.service.balance("c-1").expired  # they did expire, unannounced
        assert ["custbond:expiring:c-1:20260301T120000000000"] == shop.keys()


# -- 6. broadcasts ---------------------------------------------------------------------------

NEWS = {"title": "Oat latte", "text": "Now on the menu"}


def news_shop(make_store: MakeStore) -> Shop:
    """Customers: vegan and consenting (Tokyo), vegan and not (New York), consenting and
    not vegan (Paris)."""
    shop = Shop(make_store)
    shop.customer("a", tags={"vegan"}, time_zone="Asia/Tokyo")
    shop.customer("b", tags={"vegan"}, time_zone="America/New_York")
    shop.customer("c", time_zone="Europe/Paris")
    shop.consent("a")
    shop.consent("c")
    return shop


@ON_EVERY_STORE
class TestBroadcast:
    @pytest.mark.parametrize(
        "segment", ['"vegan" in customer.tags', customer.tags.has("vegan")], ids=["text", "cond"]
    )
    def test_a_segment_as_text_or_condition_gets_the_news(
        self, make_store: MakeStore, segment: Any
    ) -> None:
        shop = news_shop(make_store)

        report = shop.service.broadcast("oat", "broadcast", context=NEWS, segment=segment)

        assert Broadcast(queued=1, suppressed=1, outside=1) == report
        assert ["custbond:oat:a", "custbond:oat:b"] == shop.keys()
        assert MessageStatus.PENDING == shop.item("custbond:oat:a").status
        suppressed = shop.item("custbond:oat:b")
        assert (MessageStatus.SUPPRESSED, "no consent to marketing on email") == (
            suppressed.status,
            suppressed.reason,
        )
        shop.service.dispatch()
        assert ["custbond:oat:a"] == shop.sent_keys()
        assert ("Oat latte", "Hi there,\n\nNow on the menu") == (
            shop.notifier.sent[0].subject,
            shop.notifier.sent[0].body,
        )

    def test_everyone_without_a_segment_and_transactional_needs_no_consent(
        self, make_store: MakeStore
    ) -> None:
        shop = news_shop(make_store)

        report = shop.service.broadcast(
            "closed", "broadcast", kind="transactional", context=NEWS, batch_size=1
        )

        assert Broadcast(queued=3, suppressed=0, outside=0) == report
        assert ["custbond:closed:a", "custbond:closed:b", "custbond:closed:c"] == shop.keys()

    def test_a_segment_on_an_event_fact_is_refused(self, make_store: MakeStore) -> None:
        shop = news_shop(make_store)

        with pytest.raises(InvalidInput) as raised:
            shop.service.broadcast("oat", "broadcast", context=NEWS, segment="event.amount > 5")

        assert "segment" == raised.value.field
        assert () == shop.service.outbox()

    def test_running_the_same_broadcast_again_queues_nobody_twice(
        self, make_store: MakeStore
    ) -> None:
        shop = news_shop(make_store)
        shop.service.broadcast(
            "oat", "broadcast", context=NEWS, segment='"vegan" in customer.tags'
        )
        shop.service.dispatch()
        first = shop.service.outbox()

        shop.clock.advance(HOUR)
        shop.service.broadcast(
            "oat", "broadcast", context=NEWS, segment='"vegan" in customer.tags'
        )
        shop.service.dispatch()

        assert first == shop.service.outbox()
        assert ["custbond:oat:a"] == shop.sent_keys()

    def test_on_a_day_each_customer_gets_it_at_their_local_time(
        self, make_store: MakeStore
    ) -> None:
        shop = news_shop(make_store)

        shop.service.broadcast("oat", "broadcast", context=NEWS, on=date(2026, 3, 5), at=time(10))

        for customer_id, where, expected in (
            ("a", TOKYO, "2026-03-05T10:00:00+09:00"),
            ("b", NEW_YORK, "2026-03-05T10:00:00-05:00"),
            ("c", PARIS, "2026-03-05T10:00:00+01:00"),
        ):
            assert expected == local(
                shop.item(f"custbond:oat:{customer_id}").message.not_before, where
            )
        shop.walk(datetime(2026, 3, 5, 1, tzinfo=UTC) - HOUR, HOUR)
        assert [] == shop.sent_keys()
        shop.walk(datetime(2026, 3, 6, tzinfo=UTC), HOUR)
        assert ["custbond:oat:a", "custbond:oat:c"] == shop.sent_keys()
        assert datetime(2026, 3, 5, 1, tzinfo=UTC) == shop.item("custbond:oat:a").sent_at

    def test_a_local_time_the_clocks_skip_is_sent_when_they_jump(
        self, make_store: MakeStore
    ) -> None:
        shop = news_shop(make_store)

        # New York goes from 02:00 to 03:00 on 8 March 2026.
        shop.service.broadcast(
            "dst", "broadcast", context=NEWS, on=date(2026, 3, 8), at=time(2, 30)
        )

        not_before = shop.item("custbond:dst:b").message.not_before
        assert datetime(2026, 3, 8, 7, tzinfo=UTC) == not_before
        assert "2026-03-08T03:00:00-04:00" == local(not_before, NEW_YORK)

    @pytest.mark.parametrize(
        ("arguments", "field"),
        [
            ({"batch_size": 0}, "batch_size"),
            ({"batch_size": True}, "batch_size"),
            ({"on": date(2026, 3, 5), "not_before": T0}, "not_before"),
            ({"on": "2026-03-05"}, "on"),
            ({"not_before": datetime(2026, 3, 5, 9)}, "not_before"),  # noqa: DTZ001 - naive
            ({"context": {"title": ["not", "a", "scalar"]}}, "context"),
        ],
    )
    def test_bad_arguments_are_refused_before_anything_is_queued(
        self, make_store: MakeStore, arguments: dict[str, Any], field: str
    ) -> None:
        shop = news_shop(make_store)

        with pytest.raises(InvalidInput) as raised:
            shop.service.broadcast("oat", "broadcast", **arguments)

        assert raised.value.field.startswith(field)
        assert () == shop.service.outbox()

    def test_a_segment_that_does_not_parse_is_refused(self, make_store: MakeStore) -> None:
        shop = news_shop(make_store)

        with pytest.raises(RuleSyntaxError, match="a value was expected"):
            shop.service.broadcast("oat", "broadcast", context=NEWS, segment="customer.tags >")

        assert () == shop.service.outbox()


# -- 7. replay -------------------------------------------------------------------------------


@ON_EVERY_STORE
def test_a_replayed_log_reproduces_the_messages_custbond_decided(make_store: MakeStore) -> None:
    program = Program(
        points=PointsPolicy(expire_after=relativedelta(months=2)),
        messaging=MessagingPolicy(
            welcome=Send(template="welcome"),
            thank_you=Send(template="thank_you"),
            related={"latte": "almond croissant"},
            appointment_reminder=Reminder(before=timedelta(hours=24)),
            birthday=Greeting(),
            points_expiring=ExpiryNotice(within=timedelta(days=30)),
        ),
    )
    shop = Shop(make_store, program=program, at=JAN_1)
    shop.customer("c-1", time_zone="Europe/Paris", birthday=Birthday(month=1, day=20))
    shop.customer("c-2", time_zone="Asia/Tokyo", birthday=LEAP_DAY)
    shop.consent("c-1")
    shop.service.record(Signup(id="s-1", customer_id="c-1", at=JAN_1))
    shop.buy("o-1", "c-1", "latte")
    shop.buy("o-2", "c-2")
    shop.book("ap-1", 3 * DAY)
    shop.book("ap-2", 5 * DAY, customer_id="c-2")
    shop.clock.advance(DAY)
    shop.cancel("x-1", "ap-2", customer_id="c-2")
    # run_due() only: what was queued stays as it was queued (dispatching is not logged).
    while shop.clock.now() < datetime(2026, 3, 5, tzinfo=UTC):
        shop.clock.advance(12 * HOUR)
        shop.service.run_due()
    original = shop.service.outbox()
    assert {
        "custbond:s-1:welcome",
        "custbond:o-1:thank_you",
        "custbond:o-2:thank_you",
        "custbond:ap-1:reminder",
        "custbond:ap-2:reminder",
        "custbond:birthday:c-1:2026",
        "custbond:birthday:c-2:2026",
        "custbond:expiring:c-1:20260301T120000000000",
        "custbond:expiring:c-2:20260301T120000000000",
    } == {item.key for item in original}

    fresh = Shop(make_store, program=program, at=shop.clock.now())
    fresh.service.replay(shop.service.log())

    def seen(items: tuple[QueuedMessage, ...]) -> dict[str, Any]:
        return {
            item.key: (item.message, item.status, item.reason, item.queued_at) for item in items
        }

    assert seen(original) == seen(fresh.service.outbox())


# -- 8. the pure parts -----------------------------------------------------------------------


class TestGreetingNextAt:
    @pytest.mark.parametrize(
        ("after", "where", "expected"),
        [
            # 2027 has no 29 February: the 28th.
            (datetime(2027, 1, 1, tzinfo=UTC), PARIS, "2027-02-28T09:00:00+01:00"),
            (datetime(2027, 2, 28, 7, 59, tzinfo=UTC), PARIS, "2027-02-28T09:00:00+01:00"),
            # Strictly after: the moment itself gives next year's.
            (datetime(2027, 2, 28, 8, tzinfo=UTC), PARIS, "2028-02-29T09:00:00+01:00"),
            (datetime(2028, 1, 1, tzinfo=UTC), AUCKLAND, "2028-02-29T09:00:00+13:00"),
            (datetime(2028, 2, 29, 17, tzinfo=UTC), LOS_ANGELES, "2029-02-28T09:00:00-08:00"),
            (datetime(2028, 2, 29, 16, 59, tzinfo=UTC), LOS_ANGELES, "2028-02-29T09:00:00-08:00"),
            # 2100 is not a leap year.
            (datetime(2099, 3, 1, tzinfo=UTC), UTC, "2100-02-28T09:00:00+00:00"),
        ],
    )
    def test_29_february_in_common_and_leap_years(
        self, after: datetime, where: tzinfo, expected: str
    ) -> None:
        assert expected == Greeting().next_at(LEAP_DAY, where, after).isoformat()

    @pytest.mark.parametrize(
        ("birthday", "after", "where", "expected"),
        [
            # 09:30 on 1 January 2027 in Auckland is still 2026 in UTC.
            (
                Birthday(month=1, day=1),
                datetime(2026, 12, 31, 20, 30, tzinfo=UTC),
                AUCKLAND,
                "2028-01-01T09:00:00+13:00",
            ),
            (
                Birthday(month=1, day=1),
                datetime(2026, 12, 31, 19, 59, tzinfo=UTC),
                AUCKLAND,
                "2027-01-01T09:00:00+13:00",
            ),
            # 31 December in Los Angeles ends in the next year in UTC.
            (
                Birthday(month=12, day=31),
                datetime(2027, 1, 1, 3, tzinfo=UTC),
                LOS_ANGELES,
                "2027-12-31T09:00:00-08:00",
            ),
            (
                Birthday(month=12, day=31),
                datetime(2026, 12, 31, 16, 59, tzinfo=UTC),
                LOS_ANGELES,
                "2026-12-31T09:00:00-08:00",
            ),
        ],
    )
    def test_across_the_end_of_the_year(
        self, birthday: Birthday, after: datetime, where: tzinfo, expected: str
    ) -> None:
        assert expected == Greeting().next_at(birthday, where, after).isoformat()

    def test_at_another_hour(self) -> None:
        greeting = Greeting(at=time(18, 30))
        after = datetime(2027, 1, 1, tzinfo=UTC)
        assert "2027-02-28T18:30:00+01:00" == greeting.next_at(LEAP_DAY, PARIS, after).isoformat()

    def test_defaults_and_bad_values(self) -> None:
        greeting = Greeting()
        assert ("birthday", "email", MessageKind.MARKETING, time(9), DAY) == (
            greeting.template,
            greeting.channel,
            greeting.kind,
            greeting.at,
            greeting.late_by,
        )
        with pytest.raises(InvalidInput) as raised:
            Greeting(at=time(9, tzinfo=UTC))
        assert "at" == raised.value.field
        with pytest.raises(InvalidInput):
            Greeting(kind="spam")
        reminder = Reminder(before=HOUR)
        assert ("appointment_reminder", "sms", MessageKind.TRANSACTIONAL) == (
            reminder.template,
            reminder.channel,
            reminder.kind,
        )
        for before in (timedelta(0), -HOUR):
            with pytest.raises(InvalidInput) as raised:
                Reminder(before=before)
            assert "before" == raised.value.field
        notice = ExpiryNotice(within=relativedelta(months=1))
        assert (MessageKind.TRANSACTIONAL, "points_expiring") == (notice.kind, notice.template)
        assert datetime(2026, 2, 28, tzinfo=UTC) == notice.check_at(
            datetime(2026, 3, 28, tzinfo=UTC)
        )


GREETING_ZONES = [
    "UTC",
    "Pacific/Auckland",
    "America/Los_Angeles",
    "America/New_York",
    "Europe/Paris",
    "Asia/Tokyo",
    "Asia/Kolkata",
    "America/St_Johns",
    "America/Santiago",  # its clocks jump at midnight
    "America/Havana",  # and so do these
    "Australia/Lord_Howe",  # half an hour
    "Pacific/Apia",  # skipped 30 December 2011 altogether
    "Pacific/Chatham",
]


@given(
    day=st.dates(min_value=date(2000, 1, 1), max_value=date(2000, 12, 31)),  # a leap year
    name=st.sampled_from(GREETING_ZONES),
    wall=st.sampled_from([time(9), time(0), time(0, 30), time(1, 30), time(2, 30), time(23)]),
    after=st.datetimes(
        min_value=datetime(2001, 1, 1),  # noqa: DTZ001 - made aware by timezones=
        max_value=datetime(2040, 1, 1),  # noqa: DTZ001
        timezones=st.just(UTC),
    ),
)
def test_the_next_greeting_is_the_first_at_its_hour_on_the_day_after_a_moment(
    day: date, name: str, wall: time, after: datetime
) -> None:
    where = zone(name)
    birthday = Birthday(month=day.month, day=day.day)
    greeting = Greeting(at=wall)

    moment = greeting.next_at(birthday, where, after)

    assert moment > after
    shown = moment.astimezone(where).replace(tzinfo=None)
    year = shown.year
    wanted = datetime.combine(birthday.in_year(year), wall)
    if shown != wanted:  # the clocks skipped it: the moment they jumped past it
        assert not tz.datetime_exists(wanted.replace(tzinfo=where))
        assert shown > wanted
        instant = moment.astimezone(UTC) - timedelta(microseconds=1)  # not wall-clock maths
        before = instant.astimezone(where).replace(tzinfo=None)
        assert before < wanted
    if birthday.month == 2 and birthday.day == 29 and shown == wanted:
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        assert (2, 29 if leap else 28) == (shown.month, shown.day)
    # The first: the year before's greeting was not after ``after``.
    assert (
        year - 1 < after.astimezone(where).year or greeting.on(birthday, year - 1, where) <= after
    )
    assert year in (after.astimezone(where).year, after.astimezone(where).year + 1)


class TestLocalMoment:
    def test_a_time_the_clocks_skip_is_the_moment_they_jump(self) -> None:
        # New York: 02:00 -> 03:00 on 8 March 2026.
        for fold in (0, 1):
            moment = local_moment(date(2026, 3, 8), time(2, 30), NEW_YORK, fold=fold)
            assert datetime(2026, 3, 8, 7, tzinfo=UTC) == moment
            assert "2026-03-08T03:00:00-04:00" == moment.isoformat()
        # Lord Howe skips half an hour: 02:00 -> 02:30.
        lord_howe = zone("Australia/Lord_Howe")
        moment = local_moment(date(2026, 10, 4), time(2, 15), lord_howe)
        assert datetime(2026, 10, 3, 15, 30, tzinfo=UTC) == moment
        # Apia skipped a whole day: 30 December 2011 never was.
        moment = local_moment(date(2011, 12, 30), time(9), zone("Pacific/Apia"))
        assert datetime(2011, 12, 30, 10, tzinfo=UTC) == moment
        assert "2011-12-31T00:00:00+14:00" == moment.isoformat()

    def test_a_time_shown_twice_is_the_first_or_with_fold_1_the_second(self) -> None:
        # New York: 02:00 -> 01:00 on 1 November 2026, so 01:30 comes twice.
        first = local_moment(date(2026, 11, 1), time(1, 30), NEW_YORK)
        second = local_moment(date(2026, 11, 1), time(1, 30), NEW_YORK, fold=1)
        assert datetime(2026, 11, 1, 5, 30, tzinfo=UTC) == first.astimezone(UTC)
        assert datetime(2026, 11, 1, 6, 30, tzinfo=UTC) == second.astimezone(UTC)

    def test_an_ordinary_time_is_itself(self) -> None:
        moment = local_moment(date(2026, 7, 1), time(9), TOKYO, fold=1)
        assert datetime(2026, 7, 1, 0, tzinfo=UTC) == moment


class TestHoliday:
    @pytest.mark.parametrize(
        ("holiday", "day", "expected"),
        [
            (CHRISTMAS, date(2026, 12, 23), date(2026, 12, 25)),
            (CHRISTMAS, date(2026, 12, 25), date(2026, 12, 25)),  # on the day: that day
            (CHRISTMAS, date(2026, 12, 26), date(2027, 12, 25)),
            (
                Holiday("thanksgiving", "FREQ=YEARLY;BYMONTH=11;BYDAY=+4TH"),
                date(2026, 1, 1),
                date(2026, 11, 26),
            ),
            (
                Holiday("new_year", "RRULE:FREQ=YEARLY;BYYEARDAY=1"),
                date(2026, 6, 1),
                date(2027, 1, 1),
            ),
            (
                Holiday("once", "FREQ=YEARLY;COUNT=3;BYMONTH=5;BYMONTHDAY=1"),
                date(2026, 1, 1),
                None,
            ),
        ],
    )
    def test_next_day(self, holiday: Holiday, day: date, expected: date | None) -> None:
        assert expected == holiday.next_day(day)

    def test_defaults(self) -> None:
        assert ("holiday", "email", MessageKind.MARKETING, time(9)) == (
            CHRISTMAS.template,
            CHRISTMAS.channel,
            CHRISTMAS.kind,
            CHRISTMAS.at,
        )

    @pytest.mark.parametrize(
        "recurrence",
        [
            "",
            "   ",
            "not a rule",
            "FREQ=SOMETIMES",
            "FREQ=YEARLY;BYMONTH=13",
            "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",  # no such day, ever
            "FREQ=YEARLY;UNTIL=19990101",  # over before it began
            "__import__('sys').modules.__setitem__('custbond_pwned', 1)",
            "DTSTART:20200101T000000\nRRULE:FREQ=YEARLY",  # rules are read from 2000-01-01
            "FREQ=YEARLY;BYMONTH=1\nFREQ=YEARLY;BYMONTH=2",  # one rule
            42,
            None,
        ],
    )
    def test_a_bad_recurrence_is_refused_naming_it(self, recurrence: Any) -> None:
        with pytest.raises(InvalidInput) as raised:
            Holiday("bad", recurrence)

        assert "recurrence" == raised.value.field
        assert "custbond_pwned" not in sys.modules  # read by a parser, never evaluated

    def test_a_policy_refuses_two_holidays_of_one_name(self) -> None:
        with pytest.raises(InvalidInput):
            MessagingPolicy(holidays=[CHRISTMAS, Holiday("christmas", "FREQ=YEARLY;BYYEARDAY=1")])


@given(day=st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)))
def test_christmas_is_the_first_25_december_on_or_after_a_day(day: date) -> None:
    found = CHRISTMAS.next_day(day)

    assert found is not None
    assert (12, 25) == (found.month, found.day)
    assert day <= found
    assert found.year == day.year or day > date(day.year, 12, 25)


class TestSuggestions:
    POLICY = MessagingPolicy(
        related={"latte": "almond croissant", "espresso": "almond croissant", "tea": "scone"}
    )

    @pytest.mark.parametrize(
        ("skus", "expected"),
        [
            ([], ""),
            (["bagel"], ""),
            (["latte"], "almond croissant"),
            (["latte", "espresso", "tea"], "almond croissant, scone"),  # once each, in order
            (["tea", "latte", "tea"], "scone, almond croissant"),
            (["latte", "almond croissant"], ""),  # bought already
        ],
    )
    def test_what_is_related_to_what_was_bought_less_what_was(
        self, skus: list[str], expected: str
    ) -> None:
        assert expected == self.POLICY.suggestions(iter(skus))

    def test_related_items_are_checked(self) -> None:
        with pytest.raises(InvalidInput):
            MessagingPolicy(related={"latte": ""})
