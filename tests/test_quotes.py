"""Quotes: discounts that grow with regular buying, spread over the cart to the cent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from custbond import (
    FixedClock,
    InvalidInput,
    LineItem,
    MemoryStore,
    Program,
    Purchase,
    RetentionService,
)
from custbond.bonds.quotes import allocate
from custbond.rules import Discount, Group, Rule, Trace, state

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
BEANS = LineItem("beans", 1, Decimal("12.99"), tags={"coffee"})
MUGS = LineItem("mug", 2, Decimal("7.50"))
FILTERS = LineItem("filters", 3, Decimal("1.33"), tags={"coffee"})

VOLUME = Program(
    rules=[
        Rule("regular 5%", on="Purchase", when=state.purchases >= 3,
             then=[Discount(percent=5)], group="volume"),
        Rule("regular 10%", on="Purchase", when=state.purchases >= 6,
             then=[Discount(percent=10)], group="volume"),
    ],
    groups=[Group("volume", take="best")],
)  # fmt: skip


def _shop(program: Program = VOLUME) -> tuple[RetentionService, FixedClock]:
    clock = FixedClock(T0)
    return RetentionService(program, MemoryStore(), clock), clock


def _buy_times(service: RetentionService, clock: FixedClock, times: int) -> None:
    for n in range(times):
        clock.advance(timedelta(days=7))
        service.record(
            Purchase(id=f"o-{n}", customer_id="ada", at=clock.now(), amount=5, currency="USD")
        )


class TestVolumeDiscounts:
    @pytest.mark.parametrize(
        ("purchases", "discount"),
        [(0, "0"), (2, "0"), (3, "1.00"), (5, "1.00"), (6, "2.00"), (20, "2.00")],
    )
    def test_the_discount_grows_with_regular_buying(self, purchases: int, discount: str) -> None:
        service, clock = _shop()
        _buy_times(service, clock, purchases)

        quote = service.quote("ada", [LineItem("cake", 4, Decimal("5.00"))])

        assert (Decimal("20.00"), Decimal(discount)) == (quote.subtotal, quote.discount)

    def test_each_discount_names_the_rule_that_gave_it_and_the_group_takes_the_best(
        self,
    ) -> None:
        service, clock = _shop()
        _buy_times(service, clock, 6)

        quote = service.quote("ada", [LineItem("cake", 4, Decimal("5.00"))])

        [given_discount] = quote.discounts
        assert ("regular 10%", "discount 10%") == (given_discount.rule, given_discount.text)
        assert "group 'volume' takes the best rule: 'regular 10%' (2.00 off against 1.00)" in str(
            quote.trace
        )

    def test_a_quote_keeps_nothing(self) -> None:
        service, _ = _shop()

        service.quote("ada", [BEANS])

        assert [] == list(service.log())

    def test_a_cart_whose_total_is_not_payable_is_refused_naming_the_items(self) -> None:
        service, _ = _shop()
        fuel = LineItem("fuel", 3, Decimal("1.239"))  # 3.717 dollars: no such amount

        with pytest.raises(InvalidInput) as raised:
            service.quote("ada", [fuel])

        assert ("items", Decimal("3.717")) == (raised.value.field, raised.value.value)
        assert "at most 2 decimal places in USD" in str(raised.value)


class TestRounding:
    def test_the_last_line_takes_the_remainder(self) -> None:
        program = Program(rules=[Rule("10%", on="Purchase", then=[Discount(percent=10)])])
        service, _ = _shop(program)

        quote = service.quote("ada", [BEANS, MUGS, FILTERS])

        # 10% of 31.98 is 3.198, rounded half up to 3.20; shares rounded down, the last
        # line takes what is left.
        [discount] = quote.discounts
        assert Decimal("3.20") == discount.amount
        assert (Decimal("1.29"), Decimal("1.50"), Decimal("0.41")) == discount.lines
        assert Decimal("28.78") == quote.total

    def test_a_discount_on_items_applies_only_to_them(self) -> None:
        program = Program(
            rules=[Rule("coffee", on="Purchase", then=[Discount(amount=3, tag="coffee")])]
        )
        service, _ = _shop(program)

        [discount] = service.quote("ada", [BEANS, MUGS, FILTERS]).discounts

        assert Decimal(0) == discount.lines[1]
        assert Decimal(3) == sum(discount.lines)

    def test_discounts_never_take_a_line_below_zero(self) -> None:
        program = Program(
            rules=[
                Rule("a", on="Purchase", then=[Discount(percent=80)]),
                Rule("b", on="Purchase", then=[Discount(amount=50)]),
            ]
        )
        service, _ = _shop(program)

        quote = service.quote("ada", [MUGS])

        assert (Decimal("15.00"), Decimal(0)) == (quote.discount, quote.total)

    @given(
        st.lists(
            st.builds(
                LineItem,
                st.sampled_from(["a", "b", "c"]),
                st.integers(1, 5),
                st.decimals(min_value=Decimal("0.01"), max_value=Decimal(50), places=2),
            ),
            min_size=1,
            max_size=6,
        ),
        st.lists(
            st.one_of(
                st.builds(Discount, percent=st.integers(1, 100)),
                st.builds(
                    Discount,
                    amount=st.decimals(min_value=Decimal("0.01"), max_value=100, places=2),
                ),
            ),
            max_size=3,
        ),
    )
    def test_shares_add_up_to_each_discount_and_no_line_goes_negative(
        self, items: list[LineItem], discounts: list[Discount]
    ) -> None:
        quote = allocate(items, [(f"r{n}", d) for n, d in enumerate(discounts)], "USD", Trace())

        for discount in quote.discounts:
            assert discount.amount == sum(discount.lines)
        for n, item in enumerate(items):
            taken = sum(discount.lines[n] for discount in quote.discounts)
            assert Decimal(0) <= taken <= item.unit_price * item.quantity
        assert quote.subtotal - quote.discount == quote.total >= 0


class TestValidation:
    @pytest.mark.parametrize(
        "build",
        [
            Discount,
            lambda: Discount(percent=5, amount=1),
            lambda: Discount(percent=101),
            lambda: Discount(percent=0),
            lambda: Discount(amount=2.5),
        ],
        ids=["neither", "both", "over-100", "zero", "float"],
    )
    def test_a_discount_that_makes_no_sense_is_rejected(self, build: object) -> None:
        with pytest.raises(InvalidInput):
            build()  # type: ignore[operator]
