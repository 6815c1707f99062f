"""An exclusive rule stops the other promotions, never the program's base earning.

Needs ``Program`` to name its base rule to the engine (``RuleBook(..., base=...)``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from custbond import Customer, CustomerState, Program, Purchase, load_program
from custbond.rules import FixedPoints, Multiplier, Rule, Verdict

TUESDAY = datetime(2026, 5, 5, 9, tzinfo=UTC)
ORDER = Purchase(id="o-1", customer_id="ada", at=TUESDAY, amount=Decimal("10.00"), currency="USD")
STATE = CustomerState(Customer("ada"))


def test_an_exclusive_double_points_rule_doubles_the_base_points() -> None:
    program = Program(
        rules=[
            Rule("double tuesdays", on="Purchase", then=[Multiplier(2)], priority=10,
                 exclusive=True),
            Rule("other promo", on="Purchase", then=[FixedPoints(5)], priority=5),
        ]
    )  # fmt: skip

    decision = program.decide(STATE, ORDER, TUESDAY)

    assert (
        "double tuesdays: fired: spend points x2\n"
        "other promo: not considered: the exclusive rule 'double tuesdays' fired above it\n"
        "points per spend: fired: 1 per 1 USD on 10.00 USD\n"
        "earned 20 points: 10 spend points x2, rounded down"
    ) == str(decision.trace)


def test_a_rule_file_with_an_exclusive_promo_keeps_its_base_earning() -> None:
    program = load_program(
        """
[earn]
points = 1
per = "1.00"

[[rules]]
name = "triple june"
on = "Purchase"
then = [{ type = "multiplier", factor = "3" }]
priority = 10
exclusive = true
"""
    )

    decision = program.decide(STATE, ORDER, TUESDAY)

    assert (
        Verdict.FIRED == {step.rule: step.verdict for step in decision.trace}["points per spend"]
    )
    assert "earned 30 points" in str(decision.trace)


def test_an_exclusive_rule_without_a_base_rule_stops_a_rule_named_like_it() -> None:
    # With earn=None there is no base rule: a rule of the program's own that happens to be
    # called "points per spend" is a promotion like any other.
    program = Program(
        earn=None,
        rules=[
            Rule("double tuesdays", on="Purchase", then=[FixedPoints(2)], priority=10,
                 exclusive=True),
            Rule("points per spend", on="Purchase", then=[FixedPoints(5)]),
        ],
    )  # fmt: skip

    decision = program.decide(STATE, ORDER, TUESDAY)

    assert (
        Verdict.STOPPED == {step.rule: step.verdict for step in decision.trace}["points per spend"]
    )
