"""The seed scenarios, end to end: the programs in examples/rules/ doing what they say."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from dateutil import tz
from dateutil.relativedelta import relativedelta

from custbond import (
    FixedClock,
    LineItem,
    MemoryStore,
    Program,
    Purchase,
    RetentionService,
    VoucherExpired,
    load_program,
)

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "rules"
T0 = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)


class Till:
    """A till recording purchases for one customer, a day apart."""

    def __init__(self, program: Program) -> None:
        self.clock = FixedClock(T0)
        self.service = RetentionService(program, MemoryStore(), self.clock)
        self.orders = 0

    def sell(self, *items: LineItem, payment: str | None = None, days: int = 1) -> int:
        self.clock.advance(timedelta(days=days))
        self.orders += 1
        amount = sum((item.unit_price * item.quantity for item in items), Decimal(0))
        outcome = self.service.record(
            Purchase(
                id=f"o-{self.orders}",
                customer_id="maya",
                at=self.clock.now(),
                amount=amount,
                currency=self.service.program.currency,
                items=items,
                payment=payment,
            )
        )
        return outcome.points


class TestTheCoffeeCard:
    def test_ten_coffees_bought_and_the_eleventh_is_free(self) -> None:
        till = Till(load_program(EXAMPLES / "coffee_bar.toml"))
        coffee = LineItem("coffee", 1, Decimal("4.50"), tags={"coffee"})

        for _ in range(10):
            till.sell(coffee)
        [voucher] = till.service.vouchers("maya")
        till.service.use_voucher("maya", voucher.code, key="checkout-11")

        assert ("free coffee", "coffee", "used") == (
            voucher.name,
            voucher.sku,
            till.service.vouchers("maya")[0].status.value,
        )


class TestTheHairSalonCard:
    def test_nine_haircuts_bought_and_the_tenth_is_free(self) -> None:
        till = Till(load_program(EXAMPLES / "hair_salon.toml"))
        cut = LineItem("haircut", 1, Decimal("28.00"), tags={"haircut"})

        issued = []
        for _ in range(9):
            till.sell(cut, days=28)
            issued.append(len(till.service.vouchers("maya")))

        assert [0] * 8 + [1] == issued


class TestAirHorizonMiles:
    def test_the_co_branded_card_earns_double_miles(self) -> None:
        till = Till(load_program(EXAMPLES / "air_horizon.toml"))
        flight = LineItem("ticket", 1, Decimal("420.00"))

        assert [840, 420] == [
            till.sell(flight, payment="air-horizon-visa"),
            till.sell(flight, payment="cash"),
        ]


# "Many other cards like this": a grocer's co-branded card gives 2% back on groceries, as a
# voucher for the next visit, with a launch budget for the whole scheme.
GROCER_CARD = """
earn = false

[program]
currency = "USD"
time_zone = "America/Denver"

[[rules]]
name = "grocer card"
on = "Purchase"
when = "event.payment == 'grocer-mastercard'"
then = [{ type = "cashback", percent = "2", tag = "groceries", valid_for = "P3M" }]
limits = [{ money_budget = "5.00" }]
"""


class TestCoBrandedCashback:
    def test_the_card_gives_money_back_on_groceries_until_the_budget_is_spent(self) -> None:
        till = Till(load_program(GROCER_CARD))
        weekly = LineItem("weekly shop", 1, Decimal("90.00"), tags={"groceries"})
        small = LineItem("top-up shop", 1, Decimal("35.00"), tags={"groceries"})
        lottery = LineItem("lottery ticket", 1, Decimal("10.00"))  # not groceries

        till.sell(weekly, lottery, payment="grocer-mastercard")  # 1.80 back
        till.sell(weekly, payment="cash")  # not paid with the card: nothing
        till.sell(weekly, payment="grocer-mastercard")  # 1.80 back: 3.60 given
        till.sell(weekly, payment="grocer-mastercard")  # 1.80 would make 5.40: nothing
        till.sell(small, payment="grocer-mastercard")  # 0.70 back: 4.30 given

        vouchers = till.service.vouchers("maya")
        assert ["1.80", "1.80", "0.70"] == [str(voucher.value) for voucher in vouchers]
        first, _, last = vouchers
        # valid for 3 months on the program's calendar (Denver's), whatever zone it is in
        denver = tz.gettz("America/Denver")
        assert first.issued_at.astimezone(denver) + relativedelta(months=3) == first.expires_at
        till.service.use_voucher("maya", first.code, key="checkout-6")
        assert "used" == till.service.vouchers("maya")[0].status.value
        till.clock.advance(relativedelta(months=4))
        with pytest.raises(VoucherExpired):
            till.service.use_voucher("maya", last.code, key="checkout-7")


class TestDiscountsForRegularBuyers:
    def test_the_more_a_customer_buys_the_more_they_save(self) -> None:
        till = Till(load_program(EXAMPLES / "regular_buyers.toml"))
        bag = LineItem("beans", 1, Decimal("60.00"))
        big_order = LineItem("beans", 1, Decimal("200.00"))

        # Every 14 days she buys a 60.00 bag (once a 200.00 order); before each purchase
        # the checkout asks what to take off. The last 90 days hold at most 7 purchases.
        discounts = []
        for cart in [bag] * 8 + [big_order, bag]:
            discounts.append(till.service.quote("maya", [cart]).discount)
            till.sell(cart, days=14)
        till.clock.advance(timedelta(days=90))  # then nothing for 90 days
        discounts.append(till.service.quote("maya", [bag]).discount)

        assert [
            *["0", "0"],  # 0 and 60 spent in the last 90 days
            *["3.00"] * 3,  # 120, 180, 240: 5%
            *["6.00"] * 3,  # 300, 360, 420: 10%
            "20.00",  # 420 spent: 10% of the 200.00 order
            "9.00",  # 5 bags and the big order, 560: 15%
            "0",  # nothing in the last 90 days
        ] == [str(discount) for discount in discounts]


class TestPointsTowardProductsAtLevels:
    def test_points_buy_rewards_at_levels_and_silver_earns_faster(self) -> None:
        till = Till(load_program(EXAMPLES / "levels.toml"))
        shopping = LineItem("groceries", 1, Decimal("300.00"))
        earned = [till.sell(shopping) for _ in range(3)]
        till.clock.advance(timedelta(days=15))  # past the return window: points available

        service = till.service
        service.redeem_reward("maya", "tote bag", key="r-1")

        # The second purchase makes her silver (500 spent in 12 months); from the next one
        # on, silver earns 1.25 a dollar.
        assert [300, 300, 375] == earned
        assert ("silver", 725) == (
            service.tier_status("maya").tier,
            service.balance("maya").available,
        )
        [voucher] = service.vouchers("maya")
        assert ("tote bag", "reward tote bag") == (voucher.name, voucher.source)
