"""Conditions: the builders, their text, and compiled functions that agree with a plain
interpreter on any condition and any facts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from dateutil import tz
from hypothesis import given
from hypothesis import strategies as st

from custbond import (
    Customer,
    CustomerState,
    CustomEvent,
    InvalidInput,
    LineItem,
    Purchase,
    Signup,
    Visit,
)
from custbond._frozen import FrozenMap
from custbond.activity import Activity
from custbond.rules import AllOf, Always, AnyOf, Compare, Condition, Not, customer, event, local
from custbond.rules import state as before
from custbond.rules.facts import Facts, local_day
from custbond.testing.strategies import conditions, customers, purchases

T0 = datetime(2026, 5, 5, 9, tzinfo=UTC)  # a Tuesday


def _facts(event_: Any, state: CustomerState | None = None) -> Facts:
    state = CustomerState(Customer("c-1")) if state is None else state
    zone = tz.gettz(state.customer.time_zone or "UTC")
    assert zone is not None
    return Facts(event_, state, event_.at, zone)


ORDER = Purchase(
    id="o-1",
    customer_id="c-1",
    at=T0,
    amount=Decimal("12.40"),
    currency="USD",
    items=(
        LineItem("latte", 2, Decimal("4.00"), tags={"coffee"}),
        LineItem("cake", 1, Decimal("4.40"), tags={"food"}),
    ),
    channel="app",
)


class TestBuilders:
    def test_and_or_not_build_flat_conditions(self) -> None:
        a, b, c = event.amount >= 5, customer.tier == "gold", local.hour < 10

        assert AllOf((a, b, c)) == (a & b) & c
        assert AnyOf((a, b, c)) == a | (b | c)
        assert Not(a) == ~a

    @pytest.mark.parametrize(
        ("condition", "text"),
        [
            (event.amount >= 50, "event.amount >= 50"),
            (event.amount > Decimal("12.50"), "event.amount > 12.50"),
            (customer.tier.is_in(["silver", "gold"]), "customer.tier in ['gold', 'silver']"),
            (event.has_tag("coffee"), "'coffee' in event.tags"),
            (customer.tags.lacks("blocked"), "'blocked' not in customer.tags"),
            (event.count(tag="coffee") >= 2, "event.count(tag='coffee') >= 2"),
            (customer.preference("milk") == "oat", "customer.preference(key='milk') == 'oat'"),
            (before.spent_within(months=12) >= 1000, "state.spent_within(months=12) >= 1000"),
            (local.is_birthday & (local.month == 2), "local.is_birthday and local.month == 2"),
            (~((local.weekday == "SA") | (local.weekday == "SU")),
             "not (local.weekday == 'SA' or local.weekday == 'SU')"),
            ((event.amount > 5) & ((customer.tier == "a") | (customer.tier == "b")),
             "event.amount > 5 and (customer.tier == 'a' or customer.tier == 'b')"),
            (Always(), "true"),
        ],
    )  # fmt: skip
    def test_a_condition_prints_as_its_text_form(self, condition: Condition, text: str) -> None:
        assert text == str(condition)

    def test_a_condition_has_no_truth_value_so_and_or_cannot_be_misused(self) -> None:
        with pytest.raises(TypeError, match="combine conditions with &"):
            (event.amount >= 5) and (customer.tier == "gold")  # noqa: B018

    @pytest.mark.parametrize(
        ("build", "field", "expected"),
        [
            (lambda: event.amount >= 5.0, "event.amount >=", "floats are inexact"),
            (lambda: event.amount >= "5", "event.amount >=", "a number"),
            (lambda: customer.tier > "gold", "customer.tier >", "one of ==, !=, in, not in"),
            (lambda: local.weekday == "Tuesday", "local.weekday ==", "'MO' to 'SU'"),
            (lambda: local.hour < 24, "local.hour <", "a whole number from 0 to 23"),
            (lambda: local.day == 0, "local.day ==", "a whole number from 1 to 31"),
            (lambda: local.hour > 23, "local.hour >", "(local.hour > 23 would never hold)"),
            (lambda: local.day <= 31, "local.day <=", "(local.day <= 31 would always hold)"),
            (
                lambda: customer.birthday_month.is_in([1, Decimal("1.5")]),
                "customer.birthday_month in",
                "a whole number from 1 to 12",
            ),
            (lambda: customer.tier.is_in([]), "customer.tier in", "a list of 1 to 100 values"),
            (lambda: customer.tier.is_in("gold"), "values", "not a single string"),
            (lambda: event.count() >= 1, "event.count", "at least one argument"),
            (
                lambda: before.spent_within(days=3, months=1) >= 1,
                "state.spent_within",
                "exactly one",
            ),
            (lambda: event.amount >= 10**16, "event.amount >=", "a number between"),
            (lambda: customer.tier == "x" * 201, "customer.tier ==", "at most 200 characters"),
        ],
        ids=[
            "float",
            "text-for-number",
            "ordering-text",
            "weekday-name",
            "hour-24",
            "day-0",
            "hour-after-23",
            "day-up-to-31",
            "birthday-month-1.5",
            "empty-list",
            "string-as-list",
            "no-argument",
            "two-windows",
            "huge-number",
            "long-text",
        ],
    )
    def test_a_comparison_that_makes_no_sense_is_rejected(
        self, build: Any, field: str, expected: str
    ) -> None:
        with pytest.raises(InvalidInput) as raised:
            build()

        assert field == raised.value.field
        assert expected in str(raised.value)

    def test_an_unknown_fact_is_rejected(self) -> None:
        with pytest.raises(InvalidInput, match="documented facts"):
            Compare("event.__class__", "==", "x")


class TestEvaluation:
    @pytest.mark.parametrize(
        ("condition", "holds"),
        [
            (event.amount >= Decimal("12.40"), True),
            (event.amount > Decimal("12.40"), False),
            (event.has_sku("latte"), True),
            (event.has_tag("tea"), False),
            (event.count(tag="coffee") == 2, True),
            (event.spend(sku="cake") == Decimal("4.40"), True),
            (event.quantity == 3, True),
            (event.channel == "app", True),
            (event.payment == "cash", False),
            (event.payment != "cash", True),
            (local.weekday == "TU", True),
            (local.hour == 9, True),
            (customer.tier.not_in(["gold"]), True),
        ],
    )
    def test_facts_of_a_purchase_read_as_documented(
        self, condition: Condition, holds: bool
    ) -> None:
        facts = _facts(ORDER)

        assert (holds, holds) == (condition.evaluate(facts), condition.compile()(facts) is None)

    def test_a_failed_check_returns_the_part_that_failed(self) -> None:
        first, second = event.amount >= 5, customer.tier == "gold"

        assert second is (first & second).compile()(_facts(ORDER))

    def test_custom_attributes_of_another_type_are_simply_not_equal(self) -> None:
        review = CustomEvent(
            id="e-1", customer_id="c-1", at=T0, name="review", attributes={"stars": "five"}
        )
        stars = Compare("event.attribute", ">=", 4, (("name", "stars"),))

        assert (False, False) == (
            stars.evaluate(_facts(review)),
            stars.compile()(_facts(review)) is None,
        )


def _states() -> st.SearchStrategy[CustomerState]:
    activities = st.builds(
        Activity,
        purchases=st.integers(0, 20),
        spent=st.decimals(0, 1000, places=2),
        visits=st.integers(0, 20),
        last_purchase_at=st.none() | st.just(T0 - timedelta(days=40)),
        daily=st.just((((T0 - timedelta(days=3)).date(), Decimal("30.00"), 30, 1),)),
    )
    return st.builds(
        CustomerState,
        customers(),
        activity=activities,
        stamps=st.dictionaries(st.sampled_from(["coffee", "cuts"]), st.integers(0, 12)).map(
            FrozenMap
        ),
        tier=st.none() | st.sampled_from(["gold", "silver"]),
    )


_EVENTS: dict[str, st.SearchStrategy[Any]] = {
    "Purchase": purchases(currency="USD"),
    "Visit": st.from_type(Visit),
    "Signup": st.from_type(Signup),
    "CustomEvent": st.from_type(CustomEvent),
}


@st.composite
def _cases(draw: st.DrawFn) -> tuple[Condition, Facts]:
    event_type = draw(st.sampled_from(sorted(_EVENTS)))
    happened = draw(_EVENTS[event_type])
    condition = draw(conditions(event_type=event_type))
    return condition, _facts(happened, draw(_states()))


class TestCompiledAgreesWithTheInterpreter:
    @given(_cases())
    def test_on_any_condition_and_any_facts(self, case: tuple[Condition, Facts]) -> None:
        condition, facts = case

        failed = condition.compile()(facts)

        assert condition.evaluate(facts) == (failed is None)
        if failed is not None:  # what it names as failed is a part that does not hold
            assert not failed.evaluate(facts)


def test_the_local_day_of_a_repeated_hour_depends_on_which_pass_it_is() -> None:
    new_york = tz.gettz("America/New_York")
    six_behind = tz.tzoffset(None, -6 * 3600)
    first = datetime(2024, 11, 3, 1, 30, tzinfo=new_york)  # 05:30 UTC, then 06:30 UTC
    second = first.replace(fold=1)

    assert [date(2024, 11, 2), date(2024, 11, 3)] == [
        local_day(first, six_behind),
        local_day(second, six_behind),
    ]
