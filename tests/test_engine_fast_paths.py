"""The engine's fast paths decide as its general path does.

The rule book skips work a rule does not need: the facts for event types whose rules are
all lean (no condition, window, limit or exclusivity), the limits' checks for rules
without limits, the gain of a rule that does not depend on the event (made once), and
the general gain for rules that give points per spend alone; it keeps the steps of
failed conditions by the value the trace shows, and the notes of what events earned.
Each test here compares decisions with those of the same program whose rule book has
every fast path turned off.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custbond import (
    Customer,
    CustomerState,
    CustomEvent,
    LineItem,
    Program,
    Purchase,
    Signup,
    Visit,
)
from custbond.rules import (
    FixedPoints,
    Group,
    Multiplier,
    PointsPerItem,
    PointsPerSpend,
    Rule,
    Stamps,
    Tag,
    engine,
    event,
)
from custbond.rules.engine import RuleBook
from custbond.testing.strategies import histories, programs

AT = datetime(2026, 3, 3, 12, tzinfo=UTC)


def _general_rule(rule: Any) -> Any:
    twin = copy.copy(rule)
    twin.constant = None  # its gain made for every event
    twin.spend_only = False  # through the general gain
    twin.capped = True  # through the limits' checks, which find none
    twin.failures = {}  # the steps of failed conditions made afresh
    return twin


def _general_book(book: RuleBook) -> RuleBook:
    general = copy.copy(book)
    general._lean = frozenset()  # every event type through _consider, with its facts
    general._by_type = {
        kind: tuple(_general_rule(rule) for rule in rules) for kind, rules in book._by_type.items()
    }
    return general


def _general(program: Program) -> Program:
    twin = attrs.evolve(program)
    object.__setattr__(twin, "_book", _general_book(twin._book))
    return twin


@contextmanager
def _nothing_kept(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No step of a failed condition and no note of what an event earned kept."""
    with monkeypatch.context() as patched:
        patched.setattr(engine, "_KEEP_FAILURES", 0)
        patched.setattr(engine, "_KEEP_EARNED", 0)
        patched.setattr(engine, "_EARNED", {})
        yield


def _decided_alike(program: Program, events: list[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    general = _general(program)
    states: dict[str, CustomerState] = {}
    for item in events:
        if not isinstance(item, Purchase | Visit | Signup | CustomEvent):
            continue  # returns and appointments refer to records: not the engine's part
        state = states.get(item.customer_id) or CustomerState(Customer(item.customer_id))
        fast = program.decide(state, item, item.at)
        with _nothing_kept(monkeypatch):
            slow = general.decide(state, item, item.at)
        assert slow == fast
        assert str(slow.trace) == str(fast.trace)
        states[item.customer_id], _ = program.apply(state, fast, item.at)


class TestTheFastPathsDecideAsTheGeneralPath:
    @settings(
        max_examples=150,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(program=programs(max_rules=6, max_cards=1, max_levels=2), data=st.data())
    def test_for_any_program_and_history(
        self, program: Program, data: st.DataObject, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        events = data.draw(histories(max_size=12, currency=program.currency))

        _decided_alike(program, events, monkeypatch)

    @settings(
        max_examples=100,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(
        amounts=st.lists(
            st.decimals(min_value=Decimal("0.00"), max_value=Decimal("99.99"), places=2),
            min_size=1,
            max_size=8,
        ),
        mode=st.sampled_from(["multiply", "add"]),
    )
    def test_for_lean_rules_only(
        self, amounts: list[Decimal], mode: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # Rules with no condition, window or limit: the event type takes the lean path,
        # and the fused award unless a group or a rule giving more than points is there.
        program = Program(
            earn=PointsPerSpend(points=3, per=Decimal("2")),
            rules=[
                Rule("double", on="Purchase", then=[Multiplier(2)], group="promo"),
                Rule("coffee", on="Purchase", then=[PointsPerSpend(tag="coffee")]),
                Rule("per cup", on="Purchase", then=[PointsPerItem(2, sku="latte")]),
                Rule("bonus", on="Purchase", then=[FixedPoints(5)], group="promo"),
                Rule("card", on="Purchase", then=[Stamps("cups", sku="latte")]),
                Rule("regular", on="Visit", then=[Tag("regular")]),
            ],
            groups=[Group("promo", take="best")],
            multipliers=mode,
        )
        events: list[Any] = [
            Purchase(
                id=f"o-{n}",
                customer_id="ada",
                at=AT,
                amount=amount,
                currency="USD",
                items=(LineItem("latte", 1, amount, tags={"coffee"}),) if n % 2 else (),
            )
            for n, amount in enumerate(amounts)
        ]
        events.append(Visit(id="v-1", customer_id="ada", at=AT))

        _decided_alike(program, events, monkeypatch)
        _decided_alike(attrs.evolve(program, groups=[Group("promo")]), events, monkeypatch)


class TestTheLeanPath:
    def test_the_base_rule_alone_says_what_it_earned_on(self) -> None:
        program = Program(earn=PointsPerSpend(points=10, per=Decimal("1")))
        purchase = Purchase(
            id="o-1", customer_id="ada", at=AT, amount=Decimal("12.40"), currency="USD"
        )

        decision = program.decide(CustomerState(Customer("ada")), purchase, AT)

        assert [
            "points per spend: fired: 10 per 1 USD on 12.40 USD",
            "earned 124 points: 124 spend points, rounded down",
        ] == str(decision.trace).splitlines()[:2]

    def test_an_event_type_with_a_conditional_rule_is_not_lean(self) -> None:
        base = Rule("points per spend", on="Purchase", then=[PointsPerSpend()])
        big = Rule("big", on="Purchase", when=event.amount >= 50, then=[FixedPoints(5)])

        assert {"Purchase"} == RuleBook([base], currency="USD")._lean
        assert frozenset() == RuleBook([base, big], currency="USD")._lean


class TestFailuresKeptByValue:
    def test_a_decimal_shows_as_written_whatever_was_shown_before(self) -> None:
        # Equal amounts written with other places: each shows as it is written, though
        # the rule keeps the steps of its failures.
        book = RuleBook(
            [Rule("big", on="Purchase", when=event.amount >= 30, then=[FixedPoints(5)])],
            currency="USD",
        )
        state = CustomerState(Customer("ada"))

        shown = []
        for amount in ("3.0", "3.00", "3", "3.0", "3.00"):
            purchase = Purchase(
                id="o-1", customer_id="ada", at=AT, amount=Decimal(amount), currency="USD"
            )
            (step,) = book.evaluate(purchase, state, UTC).steps
            shown.append((str(step).rsplit(" ", 1)[-1], str(step.values[0][1])))

        assert [
            ("3.0)", "3.0"),
            ("3.00)", "3.00"),
            ("3)", "3"),
            ("3.0)", "3.0"),
            ("3.00)", "3.00"),
        ] == shown

    def test_true_and_one_are_told_apart(self) -> None:
        rule = Rule(
            "vip",
            on="CustomEvent",
            when=event.attribute("level") == 2,
            then=[FixedPoints(1)],
        )
        book = RuleBook([rule], currency="USD")
        state = CustomerState(Customer("ada"))

        shown = []
        for level in (1, True, 1, True):
            item = CustomEvent(
                id="e-1", customer_id="ada", at=AT, name="level", attributes={"level": level}
            )
            (step,) = book.evaluate(item, state, UTC).steps
            shown.append(str(step))

        assert [
            "vip: not applied: event.attribute(name='level') == 2 is false "
            "(event.attribute(name='level') is 1)",
            "vip: not applied: event.attribute(name='level') == 2 is false "
            "(event.attribute(name='level') is true)",
        ] * 2 == shown
