"""Cross-sell and upsell from what customers buy together, at a coffee bar.

Seven baskets, with every count worked out by hand below:

    b1: espresso (2 at 2.50), croissant
    b2: espresso, croissant, water
    b3: espresso (at 2.60), muffin
    b4: latte, croissant
    b5: latte, muffin, water
    b6: espresso, croissant, muffin
    b7: tea
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from itertools import combinations, count
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from custbond.bonds.baskets import BasketIndex, Suggestion
from custbond.errors import InvalidInput
from custbond.events import LineItem, Purchase

T0 = datetime(2026, 3, 2, 8, tzinfo=UTC)

# sku -> (unit price, tags)
MENU = {
    "espresso": ("2.50", {"coffee", "hot-drink"}),
    "latte": ("3.80", {"coffee", "hot-drink"}),
    "tea": ("3.00", {"hot-drink"}),
    "croissant": ("2.20", {"pastry"}),
    "muffin": ("3.10", {"pastry"}),
    "water": ("1.50", {"cold-drink"}),
}


def line(sku: str, quantity: int = 1, price: str | None = None) -> LineItem:
    menu_price, tags = MENU.get(sku, ("1.00", set()))
    return LineItem(sku=sku, quantity=quantity, unit_price=Decimal(price or menu_price), tags=tags)


_ORDER_NUMBERS = count(1)


def basket(*lines: LineItem | str, currency: str = "EUR") -> Purchase:
    items = [each if isinstance(each, LineItem) else line(each) for each in lines]
    number = next(_ORDER_NUMBERS)
    return Purchase(
        id=f"o-{number}",
        customer_id="c-1",
        at=T0 + timedelta(minutes=number),
        amount=sum((item.total for item in items), Decimal(0)),
        currency=currency,
        items=items,
    )


def coffee_bar() -> list[Purchase]:
    return [
        basket(line("espresso", 2), "croissant"),
        basket("espresso", "croissant", "water"),
        basket(line("espresso", price="2.60"), "muffin"),
        basket("latte", "croissant"),
        basket("latte", "muffin", "water"),
        basket("espresso", "croissant", "muffin"),
        basket("tea"),
    ]


# Worked out by hand from the baskets in the module's docstring.
BASKETS_WITH = {"espresso": 4, "croissant": 4, "muffin": 3, "latte": 2, "water": 2, "tea": 1}
TOGETHER = {
    ("croissant", "espresso"): 3,  # b1, b2, b6
    ("espresso", "muffin"): 2,  # b3, b6
    ("espresso", "water"): 1,  # b2
    ("croissant", "latte"): 1,  # b4
    ("croissant", "muffin"): 1,  # b6
    ("croissant", "water"): 1,  # b2
    ("latte", "muffin"): 1,  # b5
    ("latte", "water"): 1,  # b5
    ("muffin", "water"): 1,  # b5
}


def table(suggestions: Sequence[Suggestion]) -> list[tuple[Any, ...]]:
    return [(each.sku, each.together, each.confidence, each.lift) for each in suggestions]


@pytest.fixture
def index() -> BasketIndex:
    return BasketIndex.build(coffee_bar())


class TestCounts:
    def test_counts_every_basket_and_every_pair_as_worked_out_by_hand(
        self, index: BasketIndex
    ) -> None:
        assert 7 == index.baskets
        assert index.exact
        assert BASKETS_WITH == {sku: index.baskets_with(sku) for sku in index.tracked}
        for first, second in combinations(sorted(MENU), 2):
            expected = TOGETHER.get((first, second), 0)
            assert (expected, expected) == (
                index.together(first, second),
                index.together(second, first),
            ), (first, second)

    def test_mean_prices_weigh_each_unit(self, index: BasketIndex) -> None:
        # espresso: 2 x 2.50 + 2.50 + 2.60 + 2.50 = 12.60 for 5 units.
        assert Decimal("2.52") == index.mean_price("espresso")
        assert Decimal("2.20") == index.mean_price("croissant")
        assert index.mean_price("cake") is None

    @pytest.mark.parametrize(
        ("lines", "expected"),
        [
            ([("1.00", 1), ("2.00", 2)], Decimal("1.67")),  # 5.00 / 3
            ([("0.10", 1), ("0.15", 1)], Decimal("0.12")),  # 0.125, half to even
            ([("0.10", 1), ("0.17", 1)], Decimal("0.14")),  # 0.135, half to even
            ([("4.5", 1), ("4.50", 1)], Decimal("4.50")),  # the most places given
            ([("3", 1)], Decimal("3")),
        ],
        ids=["thirds", "half down to even", "half up to even", "places", "whole"],
    )
    def test_mean_prices_round_half_to_even_to_the_places_given(
        self, lines: list[tuple[str, int]], expected: Decimal
    ) -> None:
        index = BasketIndex.build(
            basket(line("bun", quantity, price)) for price, quantity in lines
        )

        assert expected == index.mean_price("bun")
        assert str(expected) == str(index.mean_price("bun"))

    def test_quantities_do_not_make_a_basket_count_more(self) -> None:
        index = BasketIndex.build([basket(line("bun", 12), line("jam", 3))])

        assert (1, 1, 1) == (
            index.baskets_with("bun"),
            index.baskets_with("jam"),
            index.together("bun", "jam"),
        )

    def test_a_purchase_without_items_holds_no_basket(self) -> None:
        empty = Purchase(id="o-empty", customer_id="c-1", at=T0, amount=Decimal(3), currency="EUR")

        assert 0 == BasketIndex.build([empty]).baskets

    def test_an_index_holds_one_currency(self, index: BasketIndex) -> None:
        with pytest.raises(InvalidInput) as raised:
            index.add(basket("tea", currency="USD"))

        assert ("currency", "USD") == (raised.value.field, raised.value.value)
        assert 7 == index.baskets

    def test_add_takes_only_purchases(self) -> None:
        with pytest.raises(InvalidInput, match="purchase must be a Purchase"):
            BasketIndex().add(line("tea"))  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        "limits",
        [{"max_items": 0}, {"max_neighbours": 0}, {"max_items": True}, {"max_neighbours": 2.5}],
        ids=["no items", "no neighbours", "bool", "float"],
    )
    def test_limits_must_be_positive_ints(self, limits: dict[str, Any]) -> None:
        with pytest.raises(InvalidInput) as raised:
            BasketIndex(**limits)

        assert next(iter(limits)) == raised.value.field

    def test_describe_says_what_it_holds(self, index: BasketIndex) -> None:
        assert (
            "7 baskets, 6 items (at most 10000, each with at most 50 neighbours); counts exact"
        ) == index.describe()
        assert f"<BasketIndex: {index.describe()}>" == repr(index)


class TestCrossSell:
    def test_what_goes_with_an_espresso(self, index: BasketIndex) -> None:
        suggestions = index.cross_sell(["espresso"])

        assert [
            ("croissant", 3, Fraction(3, 4), Fraction(21, 16)),  # 3/4 over 4/7
            ("muffin", 2, Fraction(2, 4), Fraction(7, 6)),  # 2/4 over 3/7
            ("water", 1, Fraction(1, 4), Fraction(7, 8)),  # 1/4 over 2/7
        ] == table(suggestions)
        assert {"cross-sell"} == {each.kind for each in suggestions}
        assert "bought together with espresso in 3 of 4 baskets" == suggestions[0].reason

    def test_ties_are_broken_by_sku(self, index: BasketIndex) -> None:
        suggestions = index.cross_sell(["croissant"])

        assert [("espresso", 3), ("latte", 1), ("muffin", 1), ("water", 1)] == [
            (each.sku, each.together) for each in suggestions
        ]

    def test_limit_keeps_the_first_of_the_ranking(self, index: BasketIndex) -> None:
        assert ["espresso", "latte"] == [
            each.sku for each in index.cross_sell(["croissant"], limit=2)
        ]

    def test_several_items_sum_their_counts(self, index: BasketIndex) -> None:
        suggestions = index.cross_sell(["espresso", "croissant"])

        # espresso and croissant were in 4 + 4 = 8 baskets.
        assert [
            ("muffin", 3, Fraction(3, 8), Fraction(7, 8)),  # 2 + 1
            ("water", 2, Fraction(2, 8), Fraction(7, 8)),  # 1 + 1
            ("latte", 1, Fraction(1, 8), Fraction(7, 16)),  # 0 + 1
        ] == table(suggestions)
        assert (
            "bought together with croissant in 1 of 4 baskets and with espresso in 2 of 4 baskets"
        ) == suggestions[0].reason

    def test_never_suggests_what_was_asked_about_or_excluded(self, index: BasketIndex) -> None:
        suggestions = index.cross_sell(["espresso"], exclude=["croissant"])

        assert ["muffin", "water"] == [each.sku for each in suggestions]

    @pytest.mark.parametrize(
        "skus", [["tea"], ["cake"], []], ids=["bought alone", "never bought", "nothing asked"]
    )
    def test_nothing_to_suggest(self, index: BasketIndex, skus: list[str]) -> None:
        assert () == index.cross_sell(skus)

    @pytest.mark.parametrize(
        ("call", "field"),
        [
            ({"skus": "espresso"}, "skus"),
            ({"skus": [""]}, "skus"),
            ({"skus": ["espresso"], "exclude": "tea"}, "exclude"),
            ({"skus": ["espresso"], "limit": 0}, "limit"),
        ],
        ids=["lone string", "empty sku", "lone string excluded", "no limit"],
    )
    def test_bad_questions_are_rejected(
        self, index: BasketIndex, call: dict[str, Any], field: str
    ) -> None:
        with pytest.raises(InvalidInput) as raised:
            index.cross_sell(**call)

        assert field == raised.value.field


class TestUpsell:
    def test_the_dearer_drinks_of_the_same_kind_most_bought_first(
        self, index: BasketIndex
    ) -> None:
        suggestions = index.upsell("espresso")

        assert [("latte", 2), ("tea", 1)] == [(each.sku, each.together) for each in suggestions]
        assert {("upsell", Fraction(0), None)} == {
            (each.kind, each.confidence, each.lift) for each in suggestions
        }
        assert [
            "dearer coffee or hot-drink: 3.80 on average against 2.52 for espresso; in 2 baskets",
            "dearer hot-drink: 3.00 on average against 2.52 for espresso; in 1 basket",
        ] == [each.reason for each in suggestions]

    @pytest.mark.parametrize(
        ("sku", "expected"),
        [
            ("croissant", ["muffin"]),
            ("tea", ["latte"]),
            ("latte", []),  # the dearest of its kind
            ("water", []),  # alone of its kind
            ("cake", []),  # never bought
        ],
    )
    def test_only_dearer_items_sharing_a_tag(
        self, index: BasketIndex, sku: str, expected: list[str]
    ) -> None:
        assert expected == [each.sku for each in index.upsell(sku)]

    def test_ties_go_to_the_cheaper_then_by_sku(self) -> None:
        coffees = [("americano", "2.00"), ("flat white", "3.50"), ("cortado", "3.50")]
        coffees += [("mocha", "4.20")]
        coffee = [LineItem(sku=sku, quantity=1, unit_price=price, tags={"coffee"})
                  for sku, price in coffees]  # fmt: skip
        index = BasketIndex.build(
            [basket(*coffee), basket(*coffee[1:]), basket(coffee[0], line("cake"))]
        )

        assert ["cortado", "flat white", "mocha"] == [
            each.sku for each in index.upsell("americano")
        ]
        assert ["cortado", "flat white"] == [
            each.sku for each in index.upsell("americano", limit=2)
        ]

    def test_an_item_without_tags_has_no_upsell(self) -> None:
        index = BasketIndex.build([basket("bun", line("cake", price="9.00"))])

        assert () == index.upsell("bun")


class TestSuggestion:
    @pytest.mark.parametrize(
        ("fields", "field"),
        [
            ({"kind": "downsell"}, "kind"),
            ({"together": -1}, "together"),
            ({"confidence": Fraction(5, 4)}, "confidence"),
            ({"confidence": 0.5}, "confidence"),
            ({"lift": Fraction(-1)}, "lift"),
            ({"reason": " "}, "reason"),
        ],
        ids=["kind", "negative together", "confidence over 1", "float confidence",
             "negative lift", "blank reason"],
    )  # fmt: skip
    def test_bad_values_are_rejected(self, fields: dict[str, Any], field: str) -> None:
        good: dict[str, Any] = {
            "sku": "croissant",
            "kind": "cross-sell",
            "together": 3,
            "confidence": Fraction(3, 4),
            "lift": Fraction(21, 16),
            "reason": "bought together with espresso in 3 of 4 baskets",
        }
        with pytest.raises(InvalidInput) as raised:
            Suggestion(**(good | fields))

        assert field == raised.value.field


SKUS = st.sampled_from(["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"])
BASKETS = st.lists(st.lists(SKUS, min_size=1, max_size=6, unique=True), max_size=40)


def purchases(baskets: Iterable[Sequence[str]]) -> list[Purchase]:
    return [basket(*skus) for skus in baskets]


def answers(index: BasketIndex) -> list[object]:
    """Every answer the index gives, and its counts, for comparing two indexes."""
    everything: list[object] = [index.describe()]
    for sku in "abcdefghij":
        everything += [index.cross_sell([sku], limit=10), index.upsell(sku, limit=10)]
        everything += [index.neighbours(sku), index.baskets_with(sku)]
        everything += [index.together(sku, other) for other in "abcdefghij"]
    return everything


class TestLimits:
    @given(baskets=BASKETS, max_items=st.integers(1, 6), max_neighbours=st.integers(1, 4))
    def test_never_tracks_more_than_the_limits(
        self, baskets: list[list[str]], max_items: int, max_neighbours: int
    ) -> None:
        index = BasketIndex(max_items=max_items, max_neighbours=max_neighbours)
        for purchase in purchases(baskets):
            index.add(purchase)

            assert len(index.tracked) <= max_items
            for sku in index.tracked:
                assert len(index.neighbours(sku)) <= max_neighbours
                assert set(index.neighbours(sku)) <= set(index.tracked)
                for other in index.neighbours(sku):
                    together = index.together(sku, other)
                    assert 1 <= together <= min(index.baskets_with(sku), index.baskets_with(other))

    @given(baskets=BASKETS)
    def test_counts_are_exact_while_no_limit_is_reached(self, baskets: list[list[str]]) -> None:
        index = BasketIndex.build(purchases(baskets), max_items=10, max_neighbours=9)

        assert index.exact
        assert len(baskets) == index.baskets
        for sku in "abcdefghij":
            assert sum(sku in each for each in baskets) == index.baskets_with(sku)
            for other in "abcdefghij":
                held_both = sum(sku in each and other in each for each in baskets)
                assert (held_both if sku != other else 0) == index.together(sku, other)

    def test_past_a_limit_the_least_seen_go_first_then_the_greatest_sku(self) -> None:
        index = BasketIndex.build(
            purchases([["a", "b"], ["a", "c"], ["a", "d"], ["b", "c"]]),
            max_items=3,
            max_neighbours=2,
        )

        # When d came, b, c and d had been in one basket each: d, the greatest sku, went,
        # and with it the count a kept for it.
        assert ("a", "b", "c") == index.tracked
        assert ("b", "c") == index.neighbours("a")
        assert not index.exact
        assert "counts are lower bounds (a limit was reached)" in index.describe()

    def test_a_full_neighbour_table_drops_its_least_count_then_greatest_sku(self) -> None:
        index = BasketIndex.build(
            purchases([["a", "b"], ["a", "b"], ["a", "d"], ["a", "c"]]), max_neighbours=2
        )

        # a's neighbours: b 2, d 1, then c 1 arrives: c and d tie, d goes.
        assert ("b", "c") == index.neighbours("a")
        assert ("a",) == index.neighbours("d")  # d's own table is untouched


class TestDeterminism:
    @given(baskets=BASKETS, max_items=st.integers(1, 12), max_neighbours=st.integers(1, 10))
    def test_the_same_purchases_give_the_same_answers(
        self, baskets: list[list[str]], max_items: int, max_neighbours: int
    ) -> None:
        limits = {"max_items": max_items, "max_neighbours": max_neighbours}

        first = BasketIndex.build(purchases(baskets), **limits)
        second = BasketIndex.build(purchases(baskets), **limits)

        assert answers(first) == answers(second)

    @given(
        baskets=BASKETS,
        max_items=st.integers(1, 12),
        max_neighbours=st.integers(1, 10),
        data=st.data(),
    )
    def test_the_order_of_items_inside_a_basket_does_not_matter(
        self, baskets: list[list[str]], max_items: int, max_neighbours: int, data: st.DataObject
    ) -> None:
        shuffled = [data.draw(st.permutations(skus)) for skus in baskets]
        limits = {"max_items": max_items, "max_neighbours": max_neighbours}

        as_given = BasketIndex.build(purchases(baskets), **limits)
        reordered = BasketIndex.build(purchases(shuffled), **limits)

        assert answers(as_given) == answers(reordered)

    def test_the_hash_seed_does_not_change_the_answers(self) -> None:
        script = (
            "from datetime import datetime, timezone\n"
            "from custbond.bonds.baskets import BasketIndex\n"
            "from custbond.events import LineItem, Purchase\n"
            "baskets = [[f'item {(i * 7 + j * 3) % 23}' for j in range(i % 5 + 1)]"
            " for i in range(200)]\n"
            "index = BasketIndex(max_items=12, max_neighbours=4)\n"
            "for n, skus in enumerate(baskets):\n"
            "    items = [LineItem(sku=s, quantity=1, unit_price=1, tags={'x'}) for s in skus]\n"
            "    index.add(Purchase(id=f'o-{n}', customer_id='c', amount=len(items),"
            " currency='EUR', at=datetime(2026, 1, 1, tzinfo=timezone.utc), items=items))\n"
            "for sku in index.tracked:\n"
            "    print(sku, index.neighbours(sku), index.cross_sell([sku]), index.upsell(sku))\n"
        )
        outputs = set()
        for seed in ("0", "1", "12345"):
            env = os.environ | {"PYTHONHASHSEED": seed}
            run = subprocess.run(
                [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
            )
            outputs.add(run.stdout)

        assert 1 == len(outputs)
        assert next(iter(outputs)).strip()
