"""Exclusive rules: only a rule that applies stops the rules below it, never the base rule.

A rule applies when it fires, gives something and, in a group that takes one rule, is
the rule its group takes. The program's base earning rule (``"points per spend"``) is
the earning that multipliers multiply: an exclusive rule stops other promotions, never
the base earning.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from custbond import Customer, CustomerState, InvalidInput, LineItem, Program, Purchase
from custbond.rules import (
    FixedPoints,
    Group,
    Multiplier,
    PointsPerItem,
    PointsPerSpend,
    Rule,
    RuleBook,
    Verdict,
)

TUESDAY = datetime(2026, 5, 5, 9, tzinfo=UTC)
ORDER = Purchase(id="o-1", customer_id="ada", at=TUESDAY, amount=Decimal("10.00"), currency="USD")
STATE = CustomerState(Customer("ada"))
BASE = Rule("points per spend", on="Purchase", then=[PointsPerSpend()])
DOUBLE = Rule("double tuesdays", on="Purchase", then=[Multiplier(2)], priority=10,
              exclusive=True)  # fmt: skip
OTHER = Rule("other promo", on="Purchase", then=[FixedPoints(5)], priority=5)


def _verdicts(steps: tuple[object, ...]) -> dict[str, Verdict]:
    return {step.rule: step.verdict for step in steps if step.rule}  # type: ignore[attr-defined]


class TestTheBaseRule:
    def test_an_exclusive_multiplier_doubles_the_base_rule_and_stops_the_other_promos(
        self,
    ) -> None:
        book = RuleBook([BASE, DOUBLE, OTHER], currency="USD", base="points per spend")

        award = book.evaluate(ORDER, STATE, UTC)

        assert 20 == award.points
        assert {
            "double tuesdays": Verdict.FIRED,
            "other promo": Verdict.STOPPED,
            "points per spend": Verdict.FIRED,
        } == _verdicts(award.steps)

    def test_the_base_rule_keeps_its_place_in_the_order(self) -> None:
        book = RuleBook([BASE, DOUBLE, OTHER], currency="USD", base="points per spend")

        assert ("double tuesdays", "other promo", "points per spend") == book.rules_for("Purchase")

    def test_without_a_base_rule_named_an_exclusive_rule_stops_every_rule_below(self) -> None:
        vip = Rule("vip", on="Purchase", then=[FixedPoints(2)], priority=10, exclusive=True)
        book = RuleBook([BASE, vip, OTHER], currency="USD")

        award = book.evaluate(ORDER, STATE, UTC)

        assert Verdict.STOPPED == _verdicts(award.steps)["points per spend"]


class TestGroups:
    def _program(self, *, small_exclusive: bool = True, big: int = 20) -> Program:
        return Program(
            earn=None,
            rules=[
                Rule("small bonus", on="Purchase", then=[FixedPoints(10)], group="g",
                     priority=10, exclusive=small_exclusive),
                Rule("big bonus", on="Purchase", then=[FixedPoints(big)], group="g",
                     priority=10),
                Rule("welcome", on="Purchase", then=[FixedPoints(50)]),
            ],
            groups=[Group("g", take="best")],
        )  # fmt: skip

    def test_an_exclusive_rule_its_group_did_not_take_stops_nothing(self) -> None:
        decision = self._program().decide(STATE, ORDER, TUESDAY)

        assert {
            "big bonus": Verdict.FIRED,
            "small bonus": Verdict.OUTDONE,
            "welcome": Verdict.FIRED,
        } == _verdicts(decision.trace)
        assert "earned 70 points" in str(decision.trace)

    def test_an_exclusive_rule_its_group_takes_stops_the_rules_below(self) -> None:
        decision = self._program(big=5).decide(STATE, ORDER, TUESDAY)

        assert {
            "big bonus": Verdict.OUTDONE,
            "small bonus": Verdict.FIRED,
            "welcome": Verdict.STOPPED,
        } == _verdicts(decision.trace)
        assert "welcome: not considered: the exclusive rule 'small bonus' fired above it" in (
            str(decision.trace)
        )

    def test_an_exclusive_rule_above_its_group_rivals_stops_them_first(self) -> None:
        program = Program(
            earn=None,
            rules=[
                Rule("first", on="Purchase", then=[FixedPoints(10)], group="g", priority=10,
                     exclusive=True),
                Rule("richer", on="Purchase", then=[FixedPoints(90)], group="g", priority=5),
            ],
            groups=[Group("g", take="best")],
        )  # fmt: skip

        decision = program.decide(STATE, ORDER, TUESDAY)

        assert {"first": Verdict.FIRED, "richer": Verdict.STOPPED} == _verdicts(decision.trace)


class TestRulesThatGiveNothing:
    def test_an_exclusive_multiplier_with_nothing_to_multiply_lets_the_rules_below_apply(
        self,
    ) -> None:
        # With the rules below stopped, the multiplier would have nothing to multiply: it
        # would not apply, so it cannot stop them. With them, it multiplies what they give.
        program = Program(
            earn=None,
            rules=[
                DOUBLE,
                Rule("per item", on="Purchase", then=[PointsPerItem(3)]),
            ],
        )
        cakes = LineItem("cake", 2, Decimal("5.00"))
        order = Purchase(id="o-1", customer_id="ada", at=TUESDAY, amount=Decimal("10.00"),
                         currency="USD", items=(cakes,))  # fmt: skip

        decision = program.decide(STATE, order, TUESDAY)

        assert {"double tuesdays": Verdict.FIRED, "per item": Verdict.FIRED} == _verdicts(
            decision.trace
        )
        assert "earned 12 points: 6 spend points x2, rounded down" in str(decision.trace)


def test_a_base_rule_the_book_does_not_have_is_rejected() -> None:
    with pytest.raises(InvalidInput) as raised:
        RuleBook([OTHER], currency="USD", base="points per spend")

    assert ("base", "points per spend") == (raised.value.field, raised.value.value)
