"""Wish lists and saved carts, at the edges of time: a purchase loaded late must not
fulfil a wish made after it, and the date a saved cart is kept until is the one on the
customer's own calendar (and so is the date a next need is expected on).

Maya lives in Auckland, where the day starts eleven to thirteen hours before it does
in London; the pie shop's server runs in UTC."""

from __future__ import annotations

from collections.abc import Callable
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
    RetentionService,
)
from custbond.bonds import customization_desk
from custbond.bonds.customization import SavedCart, Wish
from custbond.bonds.held import Held
from custbond.effects import QueueMessage
from custbond.program import CustomerState
from custbond.storage.ports import Store
from stores import STORES

JAN_5 = datetime(2026, 1, 5, 10, tzinfo=UTC)
CARROT = LineItem(sku="gf-carrot-cake", quantity=1, unit_price=Decimal("18.00"))
AUCKLAND = "Pacific/Auckland"
POLICY = CustomizationPolicy(remind_cart_before=timedelta(days=7))


def purchase(order: str, at: datetime, *items: LineItem) -> Purchase:
    amount = sum((item.unit_price * item.quantity for item in items), Decimal(0))
    return Purchase(
        id=order, customer_id="maya", at=at, amount=amount, currency="NZD", items=items
    )


class Shop:
    def __init__(
        self, store: Store, *, program_zone: str = "UTC", customer_zone: str | None = None
    ) -> None:
        self.clock = FixedClock(JAN_5)
        program = Program(currency="NZD", time_zone=program_zone, customization=POLICY)
        self.service = RetentionService(program, store, self.clock)
        self.service.save_customer(Customer("maya", name="Maya", time_zone=customer_zone))
        self.service.set_consent("maya", "email", granted=True, source="order form", key="c-1")

    def at(self, moment: datetime) -> RetentionService:
        self.clock.set(moment)
        return self.service

    def cart_reminders(self) -> list[dict[str, object]]:
        return [
            dict(item.message.context)
            for item in self.service.outbox(customer_id="maya")
            if item.message.template == "saved_cart"
        ]


@pytest.fixture(params=STORES)
def make_store(request: pytest.FixtureRequest) -> Callable[[], Store]:
    maker: Callable[[], Store] = request.param
    return maker


class TestWishFulfilledOnlyByALaterPurchase:
    def test_a_purchase_dated_before_the_wish_leaves_it_on_the_list(
        self, make_store: Callable[[], Store]
    ) -> None:
        maya = Shop(make_store())
        maya.service.add_wish("maya", "gf-carrot-cake", key="w-1")

        # The till's purchases of last week, loaded today: she bought the cake then,
        # and wished for another one today.
        outcome = maya.service.record(purchase("o-1", JAN_5 - timedelta(days=3), CARROT))

        assert [wish.sku for wish in maya.service.wish_list("maya")] == ["gf-carrot-cake"]
        assert "wish kept: gf-carrot-cake, bought before it was wished for" in str(outcome.trace)

    @pytest.mark.parametrize(
        ("after_wish", "fulfilled"),
        [
            pytest.param(timedelta(microseconds=-1), False, id="a-moment-before"),
            pytest.param(timedelta(0), True, id="at-the-same-moment"),
            pytest.param(timedelta(microseconds=1), True, id="a-moment-after"),
        ],
    )
    def test_a_purchase_at_or_after_the_wish_fulfils_it(
        self, make_store: Callable[[], Store], after_wish: timedelta, fulfilled: bool
    ) -> None:
        maya = Shop(make_store())
        maya.service.add_wish("maya", "gf-carrot-cake", key="w-1")

        maya.service.record(purchase("o-1", JAN_5 + after_wish, CARROT))

        assert (maya.service.wish_list("maya") == ()) is fulfilled


# Aware moments, in UTC (hypothesis takes the bounds naive).
MOMENTS = st.datetimes(
    min_value=datetime(2025, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive
    max_value=datetime(2027, 1, 1),  # noqa: DTZ001
    timezones=st.just(UTC),
)


@settings(max_examples=60, deadline=None)
@given(
    wished=MOMENTS,
    bought=MOMENTS,
    others=st.lists(st.sampled_from(["gf-cherry-pie", "tart", "cream"]), unique=True),
)
def test_a_wish_is_fulfilled_exactly_when_bought_at_or_after_it_was_made(
    wished: datetime, bought: datetime, others: list[str]
) -> None:
    wish = Wish(sku="gf-carrot-cake", added_at=wished)
    wishes = {"gf-carrot-cake": wish} | {sku: Wish(sku=sku, added_at=wished) for sku in others}
    held = Held()
    for sku, value in wishes.items():
        held = held.with_item("wishes", sku, value)
    state = CustomerState(Customer("maya"), held=held)
    now = max(wished, bought)  # a purchase is recorded when it is loaded, however late

    effects, _ = customization_desk.on_purchase(
        POLICY, state, purchase("o-1", bought, CARROT), now
    )

    taken = {effect.key for effect in effects if getattr(effect, "part", None) == "wishes"}
    assert taken == ({"gf-carrot-cake"} if bought >= wished else set())


class TestTheCartIsKeptUntilADateOnTheCustomersCalendar:
    # Saved at 12:00 UTC on 5 January, 01:00 on the 6th in Auckland: kept for 90 days,
    # until 12:00 UTC on 5 April, which is midnight starting 6 April in Auckland.
    SAVED = datetime(2026, 1, 5, 12, tzinfo=UTC)

    def remind(self, maya: Shop) -> None:
        maya.at(self.SAVED).save_cart("maya", "party", [CARROT], key="cart-1")
        maya.at(self.SAVED + timedelta(days=83)).run_due()

    def test_in_the_customers_own_zone(self, make_store: Callable[[], Store]) -> None:
        maya = Shop(make_store(), customer_zone=AUCKLAND)

        self.remind(maya)

        (reminder,) = maya.cart_reminders()
        assert reminder["until"] == "2026-04-06"

    def test_in_utc_for_a_customer_in_utc(self, make_store: Callable[[], Store]) -> None:
        maya = Shop(make_store(), program_zone=AUCKLAND, customer_zone="UTC")

        self.remind(maya)

        (reminder,) = maya.cart_reminders()
        assert reminder["until"] == "2026-04-05"

    def test_in_the_zone_the_program_passes_for_a_customer_without_one(self) -> None:
        cart = SavedCart(
            id="party",
            items=(CARROT,),
            saved_at=self.SAVED,
            expires_at=POLICY.cart_expires_at(self.SAVED),
        )
        state = CustomerState(
            Customer("maya"),
            held=Held().with_item("carts", "party", cart),
            schedule={"cart:party": self.SAVED + timedelta(days=83)},
        )
        now = self.SAVED + timedelta(days=83)

        effects, _ = customization_desk.due(POLICY, state, now, zone=tz.gettz(AUCKLAND))

        (reminder,) = [effect for effect in effects if isinstance(effect, QueueMessage)]
        assert reminder.context["until"] == "2026-04-06"

    def test_in_the_programs_zone_for_a_customer_without_one(self) -> None:
        maya = Shop(MemoryStore(), program_zone=AUCKLAND)

        self.remind(maya)

        (reminder,) = maya.cart_reminders()
        assert reminder["until"] == "2026-04-06"


def test_the_next_need_reminder_shows_the_expected_date_on_the_customers_calendar() -> None:
    pie = LineItem(sku="cherry-pie", quantity=1, unit_price=Decimal("24.00"), tags={"pie"})
    policy = CustomizationPolicy(next_need=NextNeedPolicy(tags={"pie"}, skus=set()))
    noon = datetime(2026, 1, 5, 12, tzinfo=UTC)  # 01:00 the next day in Auckland
    clock = FixedClock(noon)
    service = RetentionService(Program(currency="NZD", customization=policy), MemoryStore(), clock)
    service.save_customer(Customer("maya", time_zone=AUCKLAND))
    service.set_consent("maya", "email", granted=True, source="form", key="c-1")
    for fortnight in range(4):
        clock.set(noon + timedelta(weeks=2 * fortnight))
        service.record(purchase(f"o-{fortnight}", clock.now(), pie))
    (need,) = service.next_needs("maya")
    local = need.expected_at.astimezone(tz.gettz(AUCKLAND)).date()
    assert local != need.expected_at.astimezone(UTC).date()  # the case this is about

    clock.set(need.expected_at)
    service.run_due()

    (reminder,) = [
        item.message.context
        for item in service.outbox(customer_id="maya")
        if item.message.template == "next_need"
    ]
    assert reminder["expected_on"] == local.isoformat()
