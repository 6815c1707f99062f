"""Next-need reminders through the service, on every store.

Kiri buys a meat pie at a bakery every two weeks, at 09:00 on her Auckland morning
(20:00 UTC the evening before). The bakery reminds her two days before she is expected
to want one again; buying again takes back a reminder that has not gone out yet, and the
day the reminder names is her day, not the UTC one."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from dateutil import tz
from hypothesis import given, settings
from hypothesis import strategies as st

from custbond import (
    Customer,
    CustomizationPolicy,
    FixedClock,
    LineItem,
    MemoryStore,
    NextNeedPolicy,
    Program,
    Purchase,
    RecordingNotifier,
    RetentionService,
)
from custbond.storage.ports import Store
from stores import STORES

AUCKLAND = tz.gettz("Pacific/Auckland")
FIRST = datetime(2026, 1, 5, 20, tzinfo=UTC)  # 09:00 on Tuesday 6 January in Auckland
DAY = timedelta(days=1)
PIE = LineItem(sku="meat-pie", quantity=1, unit_price=Decimal("6.50"))
# Bought on days 0, 14 and 28: expected on day 42 (20:00 UTC on 16 February, 09:00 on the
# 17th in Auckland), reminded two days before.
EXPECTED = FIRST + 42 * DAY
REMIND = EXPECTED - 2 * DAY


def program(time_zone: str = "Pacific/Auckland") -> Program:
    return Program(
        currency="NZD",
        time_zone=time_zone,
        customization=CustomizationPolicy(next_need=NextNeedPolicy()),
    )


class Bakery:
    def __init__(
        self, store: Store, *, time_zone: str = "Pacific/Auckland", hers: str | None = None
    ) -> None:
        self.clock = FixedClock(FIRST)
        self.notifier = RecordingNotifier()
        self.service = RetentionService(
            program(time_zone), store, self.clock, notifier=self.notifier
        )
        self.service.save_customer(Customer("kiri", email="kiri@example.com", time_zone=hers))
        self.service.set_consent("kiri", "email", granted=True, source="form", key="consent")

    def buy(self, at: datetime, id: str | None = None) -> None:
        self.clock.set(max(at, self.clock.now()))
        self.service.record(
            Purchase(
                id=id or f"o-{at.isoformat()}",
                customer_id="kiri",
                at=at,
                amount=Decimal("6.50"),
                currency="NZD",
                items=[PIE],
            )
        )

    def buy_fortnightly(self) -> None:
        for day in (0, 14, 28):
            self.buy(FIRST + day * DAY)

    def run_due(self, at: datetime) -> None:
        self.clock.set(at)
        self.service.run_due()

    def reminders(self) -> list[tuple[str, str]]:
        """Each next-need reminder's expected day, and where its message stands."""
        return [
            (queued.message.context["expected_on"], queued.status.value)
            for queued in self.service.outbox(customer_id="kiri")
            if queued.message.key.startswith("custbond:need:")
        ]


@pytest.fixture(params=STORES)
def make_store(request: pytest.FixtureRequest) -> Callable[[], Store]:
    maker: Callable[[], Store] = request.param
    return maker


class TestBuyingAgain:
    def test_withdraws_the_reminder_queued_and_not_yet_sent(
        self, make_store: Callable[[], Store]
    ) -> None:
        bakery = Bakery(make_store())
        bakery.buy_fortnightly()
        bakery.run_due(REMIND)  # queued; the dispatcher has not run yet
        bakery.buy(REMIND + timedelta(hours=1))  # she came in early
        bakery.service.dispatch()

        assert [("2026-02-17", "suppressed")] == bakery.reminders()
        assert [] == bakery.notifier.sent

    def test_leaves_a_reminder_already_sent_as_sent(self, make_store: Callable[[], Store]) -> None:
        bakery = Bakery(make_store())
        bakery.buy_fortnightly()
        bakery.run_due(REMIND)
        bakery.service.dispatch()
        bakery.buy(EXPECTED)

        assert [("2026-02-17", "sent")] == bakery.reminders()

    def test_plans_the_next_reminder_from_the_new_purchase(
        self, make_store: Callable[[], Store]
    ) -> None:
        bakery = Bakery(make_store())
        bakery.buy_fortnightly()
        bakery.run_due(REMIND)
        bakery.buy(EXPECTED)  # day 42: next expected on day 56
        bakery.run_due(EXPECTED + 12 * DAY)

        assert [("2026-02-17", "suppressed"), ("2026-03-03", "pending")] == bakery.reminders()

    def test_a_second_pie_the_same_morning_keeps_the_reminder(
        self, make_store: Callable[[], Store]
    ) -> None:
        bakery = Bakery(make_store())
        bakery.buy_fortnightly()
        bakery.run_due(REMIND)
        bakery.buy(FIRST + 28 * DAY + timedelta(hours=2), id="second-pie")  # a late entry
        bakery.run_due(REMIND + DAY)

        assert [("2026-02-17", "pending")] == bakery.reminders()


class TestTheDayAReminderNames:
    def test_is_the_customers_day_in_her_own_time_zone(
        self, make_store: Callable[[], Store]
    ) -> None:
        bakery = Bakery(make_store(), time_zone="UTC", hers="Pacific/Auckland")
        bakery.buy_fortnightly()
        bakery.run_due(REMIND)

        assert [("2026-02-17", "pending")] == bakery.reminders()

    def test_is_the_programs_day_for_a_customer_without_a_time_zone(
        self, make_store: Callable[[], Store]
    ) -> None:
        bakery = Bakery(make_store(), time_zone="Pacific/Auckland")
        bakery.buy_fortnightly()
        bakery.run_due(REMIND)

        assert [("2026-02-17", "pending")] == bakery.reminders()

    def test_next_needs_read_in_the_customers_time_zone(
        self, make_store: Callable[[], Store]
    ) -> None:
        bakery = Bakery(make_store(), time_zone="UTC", hers="Pacific/Auckland")
        bakery.buy_fortnightly()

        (need,) = bakery.service.next_needs("kiri")

        assert datetime(2026, 2, 17, 9, tzinfo=AUCKLAND) == need.expected_at
        assert AUCKLAND is need.expected_at.tzinfo
        assert "next expected around 2026-02-17" in need.describe()


def needs_after(purchases: Iterable[datetime]) -> tuple[object, ...]:
    bakery = Bakery(MemoryStore())
    for number, at in enumerate(purchases):
        bakery.buy(at, id=f"o-{number}-{at.isoformat()}")
    return bakery.service.next_needs("kiri")


@settings(max_examples=30, deadline=None)
@given(
    hours=st.lists(st.integers(0, 24 * 90), min_size=2, max_size=14),
    data=st.data(),
)
def test_purchases_recorded_in_any_order_give_the_same_next_need(
    hours: list[int], data: st.DataObject
) -> None:
    # Hours apart, so that some are within 12 hours of each other and some are not.
    times = [FIRST + timedelta(hours=hour) for hour in hours]
    shuffled = data.draw(st.permutations(times), label="order recorded")

    assert needs_after(sorted(times)) == needs_after(shuffled)
