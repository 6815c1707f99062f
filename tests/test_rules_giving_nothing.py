"""A rule whose condition holds but that gives nothing for the event has not fired.

It uses up none of its limits, takes no place among the first customers and nothing from
its budget, stops no rule as an exclusive rule, does not compete in its group, and its
trace says it gave nothing. Effects that do something without a number (a tier, a tag,
a message) do count.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custbond import (
    Customer,
    CustomerState,
    FixedClock,
    LineItem,
    MemoryStore,
    Program,
    Purchase,
    RetentionService,
    Store,
)
from custbond.effects import AddTag, AddToCounter, CountUse, EarnPoints
from custbond.program import Decision
from custbond.rules import (
    Budget,
    FirstCustomers,
    FixedPoints,
    Group,
    Limit,
    Message,
    Multiplier,
    PointsPerItem,
    PointsPerSpend,
    Rule,
    Stamps,
    Tag,
    Tier,
    Verdict,
)
from stores import STORES

MORNING = datetime(2026, 3, 2, 9, tzinfo=UTC)  # a Monday
LATTE = LineItem("oat-latte", 1, Decimal("4.50"), tags={"coffee"})
CROISSANT = LineItem("croissant", 1, Decimal("4.50"), tags={"pastry"})
LAUNCH = Rule(
    "latte launch",
    on="Purchase",
    then=[PointsPerItem(50, sku="oat-latte")],
    limits=[Limit(1, per="day"), FirstCustomers(1)],
)


def _purchase(
    item: LineItem, *, id: str = "o-1", customer_id: str = "ann", at: datetime = MORNING
) -> Purchase:
    return Purchase(
        id=id,
        customer_id=customer_id,
        at=at,
        amount=item.unit_price * item.quantity,
        currency="USD",
        items=(item,),
    )


def _state() -> CustomerState:
    return CustomerState(Customer("ann"))


def _verdict(decision: Decision, rule: str) -> Verdict:
    [verdict] = [step.verdict for step in decision.trace if step.rule == rule]
    return verdict


def _earned(decision: Decision) -> int:
    return sum(effect.points for effect in decision.effects if isinstance(effect, EarnPoints))


class TestTheTrace:
    def test_it_says_the_rule_gave_nothing_and_what_it_would_have_given(self) -> None:
        program = Program(earn=None, rules=[LAUNCH])

        decision = program.decide(_state(), _purchase(CROISSANT), MORNING)

        assert Verdict.NOTHING == _verdict(decision, "latte launch")
        assert "latte launch: gave nothing: 50 per item on items 'oat-latte', 0 bought" in (
            str(decision.trace)
        )
        assert () == decision.trace.fired()

    def test_stamps_for_no_matching_item_say_no_stamps(self) -> None:
        program = Program(
            earn=None, rules=[Rule("card", on="Purchase", then=[Stamps("c", tag="coffee")])]
        )

        decision = program.decide(_state(), _purchase(CROISSANT), MORNING)

        assert "card: gave nothing: 0 stamps on card 'c'" in str(decision.trace)

    def test_a_purchase_worth_nothing_still_says_it_earned_0_points(self) -> None:
        free = Purchase(id="o-1", customer_id="ann", at=MORNING, amount=Decimal(0), currency="USD")

        decision = Program().decide(_state(), free, MORNING)

        assert (
            "points per spend: gave nothing: 1 per 1 USD on 0 USD\n"
            "earned 0 points: 0 spend points, rounded down"
        ) == str(decision.trace)


class TestLimits:
    def test_a_rule_that_gives_nothing_leaves_its_limit_for_a_later_purchase(self) -> None:
        program = Program(earn=None, rules=[LAUNCH])
        current = _state()
        given = []
        for n, item in enumerate([CROISSANT, LATTE, LATTE]):
            at = MORNING + timedelta(minutes=10 * n)
            decision = program.decide(current, _purchase(item, id=f"o-{n}", at=at), at)
            given.append(_earned(decision))
            current, _ = program.apply(current, decision, at)

        assert [0, 50, 0] == given
        assert (MORNING + timedelta(minutes=10),) == current.rule_uses["latte launch"]

    def test_stamps_for_a_pastry_leave_the_days_coffee_stamp(self) -> None:
        rule = Rule(
            "coffee stamp",
            on="Purchase",
            then=[Stamps("coffee", tag="coffee")],
            limits=[Limit(1, per="day")],
        )
        program = Program(earn=None, rules=[rule])
        current = _state()
        for n, item in enumerate([CROISSANT, LATTE]):
            at = MORNING + timedelta(minutes=10 * n)
            current, _ = program.apply(
                current, program.decide(current, _purchase(item, id=f"o-{n}", at=at), at), at
            )

        assert {"coffee": 1} == dict(current.stamps)

    def test_a_rule_that_gives_nothing_takes_nothing_from_its_budget(self) -> None:
        rule = Rule("per latte", on="Purchase", then=[PointsPerItem(5, sku="oat-latte")],
                    limits=[Budget(100)])  # fmt: skip
        program = Program(earn=None, rules=[rule])
        counters = {"rule per latte budget": 100}  # spent: a latte would pass it

        decision = program.decide(_state(), _purchase(CROISSANT), MORNING, counters=counters)

        assert Verdict.NOTHING == _verdict(decision, "per latte")
        assert [] == [e for e in decision.effects if isinstance(e, AddToCounter | CountUse)]

    @pytest.mark.parametrize(
        "then",
        [[Tag("regular")], [Tier("gold")], [Message("thank_you")]],
        ids=["tag", "tier", "message"],
    )
    def test_a_rule_that_does_something_without_points_is_counted(
        self, then: list[object]
    ) -> None:
        rule = Rule("once a day", on="Purchase", then=then, limits=[Limit(1, per="day")])

        decision = Program(earn=None, rules=[rule]).decide(_state(), _purchase(CROISSANT), MORNING)

        assert Verdict.FIRED == _verdict(decision, "once a day")
        assert ["once a day"] == [e.rule for e in decision.effects if isinstance(e, CountUse)]

    def test_a_multiplier_with_no_spend_points_to_multiply_gives_nothing(self) -> None:
        rule = Rule("double", on="Purchase", then=[Multiplier(2)], limits=[Limit(1, per="day")])
        bonus = Rule("bonus", on="Purchase", then=[FixedPoints(5)])

        decision = Program(earn=None, rules=[rule, bonus]).decide(
            _state(), _purchase(CROISSANT), MORNING
        )

        assert "double: gave nothing: spend points x2: no spend points to multiply" in str(
            decision.trace
        )
        assert [] == [e for e in decision.effects if isinstance(e, CountUse)]
        assert 5 == _earned(decision)

    def test_a_multiplier_with_spend_points_to_multiply_is_counted(self) -> None:
        rule = Rule("double", on="Purchase", then=[Multiplier(2)], limits=[Limit(1, per="day")])

        decision = Program(rules=[rule]).decide(_state(), _purchase(CROISSANT), MORNING)

        assert Verdict.FIRED == _verdict(decision, "double")
        assert ["double"] == [e.rule for e in decision.effects if isinstance(e, CountUse)]
        assert 9 == _earned(decision)


class TestOtherRules:
    def test_an_exclusive_rule_that_gives_nothing_stops_nothing(self) -> None:
        program = Program(
            earn=None,
            rules=[
                Rule("latte", on="Purchase", then=[PointsPerItem(50, sku="oat-latte")],
                     priority=10, exclusive=True),
                Rule("welcome", on="Purchase", then=[FixedPoints(7)]),
            ],
        )  # fmt: skip

        decision = program.decide(_state(), _purchase(CROISSANT), MORNING)

        assert 7 == _earned(decision)
        assert Verdict.FIRED == _verdict(decision, "welcome")

    def test_a_rule_that_gives_nothing_does_not_compete_in_its_group(self) -> None:
        program = Program(
            earn=None,
            rules=[
                Rule("latte", on="Purchase", then=[PointsPerItem(50, sku="oat-latte")],
                     group="promos"),
                Rule("small", on="Purchase", then=[FixedPoints(3)], group="promos"),
            ],
            groups=[Group("promos", take="lowest")],
        )  # fmt: skip

        decision = program.decide(_state(), _purchase(CROISSANT), MORNING)

        assert 3 == _earned(decision)
        assert (Verdict.NOTHING, Verdict.FIRED) == (
            _verdict(decision, "latte"),
            _verdict(decision, "small"),
        )


def _promo(name: str, *then: Any, priority: int = 0, exclusive: bool = False) -> Rule:
    return Rule(
        name, on="Purchase", then=list(then), group="promo", priority=priority,
        exclusive=exclusive,
    )  # fmt: skip


def _grouped(take: str, *rules: Rule) -> Program:
    return Program(earn=None, rules=list(rules), groups=[Group("promo", take=take)])


def _verdicts(decision: Decision) -> dict[str, Verdict]:
    return {step.rule: step.verdict for step in decision.trace if step.rule is not None}


class TestMultipliersInGroups:
    """A multiplier gives something only when a rule that applies gives spend points: with
    none, it does not compete in its group, and the group takes among its other rules."""

    def test_an_idle_multiplier_does_not_take_a_lowest_group_from_rules_that_give(
        self,
    ) -> None:
        program = _grouped(
            "lowest",
            _promo("a double", Multiplier(2)),
            _promo("b bonus", FixedPoints(10)),
            _promo("c tag", Tag("vip")),
        )

        decision = program.decide(_state(), _purchase(CROISSANT), MORNING)

        assert {
            "a double": Verdict.NOTHING,
            "b bonus": Verdict.OUTDONE,
            "c tag": Verdict.FIRED,
        } == _verdicts(decision)
        assert ["vip"] == [e.tag for e in decision.effects if isinstance(e, AddTag)]
        assert "group 'promo' takes the lowest rule: 'c tag' (0 points against 10)" in str(
            decision.trace
        )

    def test_an_idle_multiplier_does_not_win_a_tie_in_a_best_group(self) -> None:
        program = _grouped("best", _promo("a double", Multiplier(2)), _promo("c tag", Tag("vip")))

        decision = program.decide(_state(), _purchase(CROISSANT), MORNING)

        assert {"a double": Verdict.NOTHING, "c tag": Verdict.FIRED} == _verdicts(decision)
        assert ["vip"] == [e.tag for e in decision.effects if isinstance(e, AddTag)]

    def test_a_multiplier_that_would_set_aside_the_only_spend_points_does_not_compete(
        self,
    ) -> None:
        # Taken, the double would set aside the spend points it multiplies: it would give
        # nothing, so the group takes the rule that gives them.
        program = _grouped(
            "lowest", _promo("a double", Multiplier(2)), _promo("b spend", PointsPerSpend())
        )

        decision = program.decide(_state(), _purchase(CROISSANT), MORNING)

        assert {"a double": Verdict.NOTHING, "b spend": Verdict.FIRED} == _verdicts(decision)
        assert 4 == _earned(decision)
        assert (
            "a double: gave nothing: spend points x2: no spend points to multiply if group "
            "'promo' took it"
        ) in str(decision.trace)

    def test_a_multiplier_outside_the_group_multiplies_what_the_group_takes_instead(
        self,
    ) -> None:
        program = _grouped(
            "lowest",
            _promo("a double", Multiplier(2)),
            _promo("b spend", PointsPerSpend()),
            Rule("triple", on="Purchase", then=[Multiplier(3)]),
        )

        decision = program.decide(_state(), _purchase(CROISSANT), MORNING)

        assert {
            "a double": Verdict.NOTHING,
            "b spend": Verdict.FIRED,
            "triple": Verdict.FIRED,
        } == _verdicts(decision)
        assert 13 == _earned(decision)  # 4.5 spend points x3

    def test_a_multiplier_set_aside_with_another_competes_again_if_it_has_spend_points(
        self,
    ) -> None:
        # Taken together, the two multipliers leave no spend points: both are set aside.
        # The double is let back, as taking it leaves the spend rule of 'g2' to multiply;
        # the triple is not, as taking it would set that rule aside.
        program = Program(
            earn=None,
            rules=[
                Rule("a double", on="Purchase", then=[Multiplier(2)], group="g1"),
                Rule("b tag", on="Purchase", then=[Tag("vip")], group="g1"),
                Rule("c triple", on="Purchase", then=[Multiplier(3)], group="g2"),
                Rule("d spend", on="Purchase", then=[PointsPerSpend()], group="g2"),
            ],
            groups=[Group("g1", take="best"), Group("g2", take="lowest")],
        )

        decision = program.decide(_state(), _purchase(CROISSANT), MORNING)

        assert {
            "a double": Verdict.FIRED,
            "b tag": Verdict.OUTDONE,
            "c triple": Verdict.NOTHING,
            "d spend": Verdict.FIRED,
        } == _verdicts(decision)
        assert 9 == _earned(decision)  # 4.5 spend points x2

    def test_a_multiplier_with_spend_points_outside_its_group_still_competes(self) -> None:
        program = Program(
            rules=[_promo("a double", Multiplier(2)), _promo("b bonus", FixedPoints(10))],
            groups=[Group("promo", take="lowest")],
        )

        decision = program.decide(_state(), _purchase(CROISSANT), MORNING)

        assert {
            "a double": Verdict.FIRED,
            "b bonus": Verdict.OUTDONE,
            "points per spend": Verdict.FIRED,
        } == _verdicts(decision)
        assert 9 == _earned(decision)

    def test_an_idle_exclusive_multiplier_taken_by_no_group_stops_nothing(self) -> None:
        program = Program(
            earn=None,
            rules=[
                _promo("a double", Multiplier(2), priority=10, exclusive=True),
                _promo("b tag", Tag("vip"), priority=10),
                Rule("welcome", on="Purchase", then=[FixedPoints(7)]),
            ],
            groups=[Group("promo", take="lowest")],
        )

        decision = program.decide(_state(), _purchase(CROISSANT), MORNING)

        assert {
            "a double": Verdict.NOTHING,
            "b tag": Verdict.FIRED,
            "welcome": Verdict.FIRED,
        } == _verdicts(decision)
        assert 7 == _earned(decision)


# Rules of every kind that a group compares: some give spend points (the croissant is
# bought, the latte is not), some give something else, some only multiply.
_KINDS: dict[str, list[Any]] = {
    "spend": [PointsPerSpend()],
    "latte": [PointsPerItem(5, sku="oat-latte")],  # gives nothing: no latte is bought
    "croissant": [PointsPerItem(5, sku="croissant")],
    "fixed": [FixedPoints(3)],
    "tag": [Tag("vip")],
    "double": [Multiplier(2)],
    "half": [Multiplier(Decimal("1.5"))],
}
_OWN = {"spend", "croissant", "fixed", "tag"}  # what gives something whatever else applies


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(sorted(_KINDS)),
            st.sampled_from([None, "g1", "g2"]),
            st.sampled_from([0, 5]),
            st.booleans(),
        ),
        min_size=1,
        max_size=7,
    ),
    st.sampled_from(["best", "lowest", "all"]),
    st.sampled_from(["best", "lowest"]),
    st.booleans(),
)
def test_a_group_takes_a_rule_that_gives_something_whenever_it_has_one(
    rules: list[tuple[str, str | None, int, bool]], take1: str, take2: str, base: bool
) -> None:
    """Whatever the mix of rules and groups: a rule a group sets aside was outdone by one
    that fired; a multiplier fires only with spend points to multiply; and a group with a
    rule that gives something of its own (and that no exclusive rule stopped) takes one."""
    program = Program(
        earn=PointsPerSpend() if base else None,
        rules=[
            Rule(
                f"r{n} {kind}",
                on="Purchase",
                then=_KINDS[kind],
                group=group,
                priority=priority,
                exclusive=exclusive,
            )
            for n, (kind, group, priority, exclusive) in enumerate(rules)
        ],
        groups=[Group("g1", take=take1), Group("g2", take=take2)],
    )

    decision = program.decide(_state(), _purchase(CROISSANT), MORNING)

    verdicts = _verdicts(decision)
    fired = set(decision.trace.fired())
    for step in decision.trace:
        if step.verdict is Verdict.OUTDONE:
            winner = step.text.split(": ")[1].split("'")[1]
            assert winner in fired, str(decision.trace)
    [earned] = [step.text for step in decision.trace if step.text.startswith("earned ")] or [""]
    if any(name.endswith(("double", "half")) for name in fired):
        assert not earned.startswith("earned 0 points: 0 spend points"), str(decision.trace)
    for group in ("g1", "g2"):
        members = [
            f"r{n} {kind}" for n, (kind, in_group, _, _) in enumerate(rules) if in_group == group
        ]
        takes = take1 if group == "g1" else take2
        giving = [m for m in members if m.split()[1] in _OWN and verdicts[m] != Verdict.STOPPED]
        if giving and takes != "all":
            assert 1 == sum(1 for m in members if m in fired), str(decision.trace)


@pytest.fixture(params=STORES)
def make_store(request: pytest.FixtureRequest) -> Callable[[], Store]:
    return request.param  # type: ignore[no-any-return]


class TestThroughTheService:
    def test_first_customers_places_go_to_those_who_were_given_something(
        self, make_store: Callable[[], Store]
    ) -> None:
        clock = FixedClock(MORNING)
        service = RetentionService(Program(earn=None, rules=[LAUNCH]), make_store(), clock)
        given = []
        for n, (who, item) in enumerate([("ann", CROISSANT), ("bob", LATTE), ("ann", LATTE)]):
            clock.advance(timedelta(minutes=10))
            purchase = _purchase(item, id=f"o-{n}", customer_id=who, at=clock.now())
            given.append(service.record(purchase).points)

        assert [0, 50, 0] == given
        with service.store.unit_of_work() as uow:
            assert 1 == uow.counter("rule latte launch customers")

    def test_a_group_with_an_idle_multiplier_gives_its_tag(
        self, make_store: Callable[[], Store]
    ) -> None:
        program = _grouped(
            "lowest", _promo("a double", Multiplier(2)), _promo("c tag", Tag("vip"))
        )
        service = RetentionService(program, make_store(), FixedClock(MORNING))

        service.record(_purchase(CROISSANT))

        assert {"vip"} == set(service.customer("ann").tags)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.booleans()), min_size=1, max_size=25))
def test_every_day_with_a_latte_gets_the_days_latte_points_once(
    buys: list[tuple[int, bool]],
) -> None:
    rule = Rule("latte a day", on="Purchase", then=[PointsPerItem(50, sku="oat-latte")],
                limits=[Limit(1, per="day")])  # fmt: skip
    clock = FixedClock(MORNING)
    service = RetentionService(Program(earn=None, rules=[rule]), MemoryStore(), clock)
    rewarded: list[int] = []
    for n, (days, latte) in enumerate(sorted(buys)):
        clock.set(MORNING + timedelta(days=days, minutes=n))
        purchase = _purchase(LATTE if latte else CROISSANT, id=f"o-{n}", at=clock.now())
        if service.record(purchase).points:
            rewarded.append(days)

    assert sorted({days for days, latte in buys if latte}) == rewarded
