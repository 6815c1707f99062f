"""The rules engine: rules considered in order, what stops them, how their gifts combine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from dateutil import rrule, tz
from dateutil.relativedelta import relativedelta
from hypothesis import given, settings
from hypothesis import strategies as st

from custbond import (
    Birthday,
    Customer,
    CustomerState,
    InvalidInput,
    LineItem,
    MemoryStore,
    Program,
    Purchase,
    RetentionService,
    Signup,
    Visit,
)
from custbond.bonds import Level, TierLadder, Voucher, VoucherOffer, voucher_code
from custbond.clock import FixedClock
from custbond.effects import (
    AddStamps,
    AddTag,
    AddToCounter,
    CountUse,
    EarnPoints,
    IssueVoucher,
    NotePurchase,
    RequestMessage,
    SetTier,
)
from custbond.program import Decision
from custbond.rules import (
    Budget,
    Cashback,
    Discount,
    FirstCustomers,
    FixedPoints,
    Gift,
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
    Window,
    customer,
    event,
    local,
    state,
)
from custbond.rules.engine import _show_ratio

# A Tuesday, 09:00 UTC.
TUESDAY = datetime(2026, 5, 5, 9, 0, tzinfo=UTC)
LATTE = LineItem("latte", 2, Decimal("4.00"), tags={"coffee"})
CAKE = LineItem("cake", 1, Decimal("4.40"), tags={"food"})


def _purchase(
    amount: str = "12.40", *, at: datetime = TUESDAY, id: str = "o-1", **fields: object
) -> Purchase:
    values: dict[str, object] = {
        "id": id,
        "customer_id": "c-1",
        "at": at,
        "amount": Decimal(amount),
        "currency": "USD",
    }
    values.update(fields)
    return Purchase(**values)  # type: ignore[arg-type]


def _state(**fields: object) -> CustomerState:
    return CustomerState(Customer("c-1"), **fields)  # type: ignore[arg-type]


def _earned(decision: Decision) -> int:
    return sum(effect.points for effect in decision.effects if isinstance(effect, EarnPoints))


def _verdicts(decision: Decision) -> dict[str, Verdict]:
    return {step.rule: step.verdict for step in decision.trace if step.rule is not None}


def _program(*rules: Rule, **fields: object) -> Program:
    return Program(rules=rules, **fields)  # type: ignore[arg-type]


class TestRules:
    def test_a_rule_takes_its_condition_as_text_or_as_values(self) -> None:
        as_text = Rule("gold", on="Purchase", when="customer.tier == 'gold'", then=[Tag("g")])
        as_values = Rule("gold", on="Purchase", when=customer.tier == "gold", then=[Tag("g")])

        assert as_values == as_text

    def test_a_rule_on_several_event_types_takes_classes_or_names(self) -> None:
        rule = Rule("hello", on=[Visit, "Signup"], then=[Message("welcome")])

        assert frozenset({"Visit", "Signup"}) == rule.on

    @pytest.mark.parametrize(
        ("fields", "field", "expected"),
        [
            ({"on": "Refund"}, "on", "one of Purchase"),
            ({"on": []}, "on", "at least one event type"),
            ({"then": []}, "then", "at least one effect"),
            ({"then": ["points"]}, "then", "an effect"),
            ({"when": event.amount >= 5, "on": "Visit"}, "when", "event.amount is only for"),
            ({"then": [PointsPerSpend()], "on": "Visit"}, "then", "only on='Purchase'"),
            ({"exclusive": "yes"}, "exclusive", "True or False"),
            ({"when": 42}, "when", "a condition"),
        ],
        ids=[
            "unknown-event",
            "no-event",
            "no-effect",
            "not-an-effect",
            "fact-of-another-event",
            "spend-points-on-a-visit",
            "exclusive-not-bool",
            "when-not-a-condition",
        ],
    )
    def test_a_rule_that_cannot_work_is_rejected_with_the_field_named(
        self, fields: dict[str, object], field: str, expected: str
    ) -> None:
        values: dict[str, object] = {"on": "Purchase", "then": [Tag("x")]}
        values.update(fields)

        with pytest.raises(InvalidInput) as raised:
            Rule("r", **values)  # type: ignore[arg-type]

        assert field == raised.value.field
        assert expected in str(raised.value)

    def test_two_rules_with_one_name_are_rejected(self) -> None:
        rule = Rule("twice", on="Purchase", then=[Tag("x")])

        with pytest.raises(InvalidInput, match="different names"):
            _program(rule, rule)

    def test_a_rule_in_a_group_the_program_does_not_have_is_rejected(self) -> None:
        with pytest.raises(InvalidInput) as raised:
            _program(Rule("r", on="Purchase", then=[Tag("x")], group="promos"))

        assert "rules['r'].group" == raised.value.field


class TestEarning:
    def test_the_base_rule_earns_points_per_spend_rounded_down(self) -> None:
        decision = Program().decide(_state(), _purchase("12.40"), TUESDAY)

        assert 12 == _earned(decision)
        assert Verdict.FIRED == _verdicts(decision)["points per spend"]

    def test_without_the_base_rule_only_the_programs_rules_earn(self) -> None:
        program = _program(Rule("bonus", on="Purchase", then=[FixedPoints(5)]), earn=None)

        assert 5 == _earned(program.decide(_state(), _purchase("12.40"), TUESDAY))

    def test_points_per_item_count_the_quantity_of_matching_items(self) -> None:
        program = _program(
            Rule("coffee", on="Purchase", then=[PointsPerItem(3, tag="coffee")]), earn=None
        )
        order = _purchase("12.40", items=(LATTE, CAKE))

        assert 6 == _earned(program.decide(_state(), order, TUESDAY))

    def test_points_per_spend_on_items_count_only_what_those_items_cost(self) -> None:
        program = _program(
            Rule("coffee", on="Purchase", then=[PointsPerSpend(points=2, tag="coffee")]),
            earn=None,
        )
        order = _purchase("12.40", items=(LATTE, CAKE))

        assert 16 == _earned(program.decide(_state(), order, TUESDAY))

    def test_spend_points_are_added_exactly_and_rounded_down_once(self) -> None:
        # 0.5 + 0.5 spend points: one point, where rounding each would give none.
        half = PointsPerSpend(points=1, per=Decimal(2))
        program = _program(
            Rule("a", on="Purchase", then=[half]), Rule("b", on="Purchase", then=[half]), earn=None
        )

        assert 1 == _earned(program.decide(_state(), _purchase("1.00"), TUESDAY))

    @pytest.mark.parametrize(
        ("mode", "expected"),
        [("multiply", 30), ("add", 25)],
        ids=["multiply", "add"],
    )
    def test_multipliers_combine_as_the_program_says(self, mode: str, expected: int) -> None:
        program = _program(
            Rule("double", on="Purchase", then=[Multiplier(2)]),
            Rule("half again", on="Purchase", then=[Multiplier(Decimal("1.5"))]),
            multipliers=mode,
        )

        assert expected == _earned(program.decide(_state(), _purchase("10.00"), TUESDAY))

    def test_multipliers_leave_fixed_points_alone(self) -> None:
        program = _program(
            Rule("double", on="Purchase", then=[Multiplier(2)]),
            Rule("bonus", on="Purchase", then=[FixedPoints(50)]),
        )

        decision = program.decide(_state(), _purchase("10.00"), TUESDAY)

        assert 70 == _earned(decision)
        assert "earned 70 points: 10 spend points x2, rounded down, plus 50 fixed points" in str(
            decision.trace
        )

    def test_fixed_points_can_reward_events_without_an_amount(self) -> None:
        program = _program(Rule("welcome", on="Signup", then=[FixedPoints(100)]))

        decision = program.decide(
            _state(), Signup(id="s-1", customer_id="c-1", at=TUESDAY), TUESDAY
        )

        assert 100 == _earned(decision)

    def test_an_unknown_multipliers_mode_is_rejected(self) -> None:
        with pytest.raises(InvalidInput, match="'multiply' or 'add'"):
            Program(multipliers="max")


class TestOrder:
    def test_rules_are_considered_by_priority_then_name(self) -> None:
        program = _program(
            Rule("b", on="Purchase", then=[Tag("b")]),
            Rule("a", on="Purchase", then=[Tag("a")]),
            Rule("first", on="Purchase", then=[Tag("f")], priority=10),
            earn=None,
        )

        decision = program.decide(_state(), _purchase(), TUESDAY)

        assert ["first", "a", "b"] == [step.rule for step in decision.trace if step.rule]

    def test_an_exclusive_rule_stops_the_rules_below_it_but_not_beside_it(self) -> None:
        program = _program(
            Rule("vip", on="Purchase", then=[FixedPoints(100)], priority=10, exclusive=True),
            Rule("same level", on="Purchase", then=[FixedPoints(1)], priority=10),
            Rule("below", on="Purchase", then=[FixedPoints(7)], priority=1),
            earn=None,
        )

        decision = program.decide(_state(), _purchase(), TUESDAY)

        assert 101 == _earned(decision)
        assert Verdict.STOPPED == _verdicts(decision)["below"]
        assert "below: not considered: the exclusive rule 'vip' fired above it" in str(
            decision.trace
        )

    def test_an_exclusive_rule_whose_condition_fails_stops_nothing(self) -> None:
        program = _program(
            Rule(
                "vip",
                on="Purchase",
                when=customer.tier == "vip",
                then=[FixedPoints(100)],
                priority=10,
                exclusive=True,
            ),
            Rule("below", on="Purchase", then=[FixedPoints(7)]),
            earn=None,
        )

        assert 7 == _earned(program.decide(_state(), _purchase(), TUESDAY))

    @pytest.mark.parametrize(
        ("take", "expected", "outdone"),
        [("best", 30, "double"), ("lowest", 20, "triple"), ("all", 60, None)],
        ids=["best", "lowest", "all"],
    )
    def test_a_group_takes_the_rule_its_mode_says(
        self, take: str, expected: int, outdone: str | None
    ) -> None:
        program = _program(
            Rule("double", on="Purchase", then=[Multiplier(2)], group="promos"),
            Rule("triple", on="Purchase", then=[Multiplier(3)], group="promos"),
            groups=[Group("promos", take=take)],
        )

        decision = program.decide(_state(), _purchase("10.00"), TUESDAY)

        assert expected == _earned(decision)
        verdicts = _verdicts(decision)
        assert [name for name, verdict in verdicts.items() if verdict is Verdict.OUTDONE] == (
            [] if outdone is None else [outdone]
        )

    def test_the_trace_says_which_rule_a_group_took_and_why(self) -> None:
        program = _program(
            Rule("double", on="Purchase", then=[Multiplier(2)], group="promos"),
            Rule("bonus", on="Purchase", then=[FixedPoints(5)], group="promos"),
            groups=[Group("promos", take="best")],
        )

        decision = program.decide(_state(), _purchase("10.00"), TUESDAY)

        assert (
            "bonus: not applied: group 'promos' takes the best rule: 'double' "
            "(20 points against 15)"
        ) in str(decision.trace)


class TestConditions:
    def test_a_failed_condition_is_traced_with_the_values_it_read(self) -> None:
        program = _program(
            Rule(
                "double gold tuesdays",
                on="Purchase",
                when=(customer.tier == "gold") & (local.weekday == "TU"),
                then=[Multiplier(2)],
            )
        )

        decision = program.decide(_state(tier="silver"), _purchase(), TUESDAY)

        assert (
            "double gold tuesdays: not applied: customer.tier == 'gold' is false "
            "(customer.tier is 'silver')"
        ) in str(decision.trace)

    def test_an_alternative_that_fails_shows_every_value_it_read(self) -> None:
        program = _program(
            Rule(
                "weekend",
                on="Purchase",
                when=(local.weekday == "SA") | (local.weekday == "SU") | (event.amount > 100),
                then=[FixedPoints(1)],
            )
        )

        decision = program.decide(_state(), _purchase("12.40"), TUESDAY)

        assert (
            "weekend: not applied: local.weekday == 'SA' or local.weekday == 'SU' or "
            "event.amount > 100 is false (local.weekday is 'TU', event.amount is 12.40)"
        ) in str(decision.trace)

    def test_local_time_is_the_customers_own(self) -> None:
        rule = Rule("early", on="Purchase", when=local.hour < 8, then=[FixedPoints(5)])
        program = _program(rule, earn=None)
        in_tokyo = CustomerState(Customer("c-1", time_zone="Asia/Tokyo"))
        in_new_york = CustomerState(Customer("c-1", time_zone="America/New_York"))

        assert (0, 5) == (
            _earned(program.decide(in_tokyo, _purchase(), TUESDAY)),  # 18:00 there
            _earned(program.decide(in_new_york, _purchase(), TUESDAY)),  # 05:00 there
        )

    def test_customers_without_a_time_zone_use_the_programs(self) -> None:
        rule = Rule("tuesday", on="Purchase", when=local.weekday == "TU", then=[FixedPoints(5)])
        late_monday_in_los_angeles = datetime(2026, 5, 5, 3, 0, tzinfo=UTC)

        assert (5, 0) == (
            _earned(
                _program(rule, earn=None).decide(
                    _state(), _purchase(at=late_monday_in_los_angeles), late_monday_in_los_angeles
                )
            ),
            _earned(
                _program(rule, earn=None, time_zone="America/Los_Angeles").decide(
                    _state(), _purchase(at=late_monday_in_los_angeles), late_monday_in_los_angeles
                )
            ),
        )

    def test_state_facts_read_what_happened_before_the_event(self) -> None:
        rule = Rule("regular", on="Purchase", when=state.purchases >= 2, then=[FixedPoints(10)])
        program = _program(rule, earn=None)
        current = _state()
        earned = []
        for n in range(3):
            order = _purchase("5.00", id=f"o-{n}", at=TUESDAY + timedelta(days=n))
            decision = program.decide(current, order, order.at)
            earned.append(_earned(decision))
            current, _ = program.apply(current, decision, order.at)

        assert [0, 0, 10] == earned
        assert (3, Decimal("15.00")) == (current.activity.purchases, current.activity.spent)

    def test_spend_within_a_rolling_window_counts_only_those_days(self) -> None:
        rule = Rule(
            "big month",
            on="Purchase",
            when=state.spent_within(days=30) >= 100,
            then=[FixedPoints(50)],
        )
        program = _program(rule, earn=None)
        current = _state()
        earned = []
        for n, (day, amount) in enumerate(
            [(0, "60.00"), (20, "50.00"), (21, "1.00"), (50, "1.00")]
        ):
            order = _purchase(amount, id=f"o-{n}", at=TUESDAY + timedelta(days=day))
            decision = program.decide(current, order, order.at)
            current, _ = program.apply(current, decision, order.at)
            earned.append(_earned(decision))

        # Day 21: 110.00 in the last 30 days. Day 50: only day 21's 1.00 is within them.
        assert [0, 0, 50, 0] == earned
        oldest_kept = current.activity.daily[0][0]
        assert (TUESDAY + timedelta(days=20)).date() == oldest_kept  # 30 days before day 50

    def test_days_since_the_last_purchase_are_local_calendar_days(self) -> None:
        rule = Rule(
            "welcome back",
            on="Purchase",
            when=state.days_since_last_purchase >= 30,
            then=[FixedPoints(20)],
        )
        program = _program(rule, earn=None)
        first = _purchase("5.00", id="o-1")
        current, _ = program.apply(_state(), program.decide(_state(), first, TUESDAY), TUESDAY)

        earned = [
            _earned(program.decide(current, _purchase(id="o-2", at=TUESDAY + gap), TUESDAY + gap))
            for gap in (timedelta(days=29), timedelta(days=30))
        ]

        assert [0, 20] == earned

    def test_a_missing_value_fails_every_comparison_but_inequality(self) -> None:
        program = _program(
            Rule("gold", on="Purchase", when=customer.tier == "gold", then=[Tag("a")]),
            Rule("not gold", on="Purchase", when=customer.tier != "gold", then=[Tag("b")]),
            earn=None,
        )

        decision = program.decide(_state(), _purchase(), TUESDAY)

        assert {"gold": Verdict.FAILED, "not gold": Verdict.FIRED} == _verdicts(decision)
        assert "customer.tier is missing" in str(decision.trace)

    def test_a_birthday_is_recognised_in_the_customers_time_zone(self) -> None:
        rule = Rule("birthday", on="Purchase", when=local.is_birthday, then=[FixedPoints(50)])
        program = _program(rule, earn=None)
        born = Customer("c-1", birthday=Birthday(month=5, day=5), time_zone="Europe/Paris")

        assert 50 == _earned(program.decide(CustomerState(born), _purchase(), TUESDAY))


class TestLimits:
    def _program(self, limit: Limit) -> Program:
        return _program(Rule("double", on="Purchase", then=[Multiplier(2)], limits=[limit]))

    def _run(self, program: Program, days: list[int]) -> list[Verdict]:
        current = _state()
        verdicts = []
        for n, day in enumerate(days):
            order = _purchase("10.00", id=f"o-{n}", at=TUESDAY + timedelta(days=day))
            decision = program.decide(current, order, order.at)
            verdicts.append(_verdicts(decision)["double"])
            current, _ = program.apply(current, decision, order.at)
        return verdicts

    def test_a_rule_fires_at_most_its_limit_per_calendar_month(self) -> None:
        program = self._program(Limit(2, per="month"))

        # 5, 6 and 7 May, then 1 June: a new month.
        verdicts = self._run(program, [0, 1, 2, 27])

        assert [Verdict.FIRED, Verdict.FIRED, Verdict.LIMITED, Verdict.FIRED] == verdicts

    def test_a_rolling_limit_counts_firings_within_the_duration_before_now(self) -> None:
        program = self._program(Limit(1, per=timedelta(days=7)))

        verdicts = self._run(program, [0, 6, 7])

        assert [Verdict.FIRED, Verdict.LIMITED, Verdict.FIRED] == verdicts

    def test_the_trace_says_which_limit_stopped_the_rule(self) -> None:
        program = self._program(Limit(1, per="week"))
        current = _state()
        for n in range(2):
            order = _purchase("10.00", id=f"o-{n}")
            decision = program.decide(current, order, TUESDAY)
            current, _ = program.apply(current, decision, TUESDAY)

        assert "double: not applied: its limit of once per calendar week is reached (1 used)" in (
            str(decision.trace)
        )

    def test_only_firings_within_the_longest_limit_and_the_period_before_are_kept(self) -> None:
        # The period before the newest firing's is kept for purchases recorded late.
        program = self._program(Limit(1, per="day"))
        current = _state()
        for n in range(5):
            order = _purchase("10.00", id=f"o-{n}", at=TUESDAY + timedelta(days=n))
            current, _ = program.apply(current, program.decide(current, order, order.at), order.at)

        assert (TUESDAY + timedelta(days=3), TUESDAY + timedelta(days=4)) == current.rule_uses[
            "double"
        ]

    def test_a_limit_needs_a_period(self) -> None:
        with pytest.raises(InvalidInput) as raised:
            Limit(2, per="fortnight")

        assert "per" == raised.value.field


_WINDOWS = {
    f"{recurrence} / {lasting}": Window(recurrence=recurrence, lasting=lasting)
    for recurrence, lastings in {
        "FREQ=WEEKLY;BYDAY=FR;BYHOUR=16": [timedelta(hours=2), timedelta(days=7)],
        "FREQ=WEEKLY;BYDAY=TU,SA;BYHOUR=7;BYMINUTE=30": [timedelta(hours=30)],
        "FREQ=MONTHLY;BYDAY=-1SA,-1SU": [timedelta(days=1), relativedelta(months=1)],
        "FREQ=MONTHLY;BYMONTHDAY=31,1": [timedelta(hours=20), relativedelta(days=9)],
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29": [relativedelta(months=1, days=3)],
        "FREQ=DAILY;BYHOUR=23": [timedelta(minutes=20), timedelta(hours=2)],
        "FREQ=HOURLY;BYMINUTE=15": [timedelta(minutes=20), timedelta(hours=20)],
    }.items()
    for lasting in lastings
}


class TestWindows:
    def test_a_weekly_recurrence_opens_the_rule_for_its_duration_in_local_time(self) -> None:
        window = Window(recurrence="FREQ=WEEKLY;BYDAY=TU;BYHOUR=7", lasting=timedelta(hours=3))
        rule = Rule("tuesday mornings", on="Purchase", then=[FixedPoints(5)], window=window)
        program = _program(rule, earn=None)
        in_paris = CustomerState(Customer("c-1", time_zone="Europe/Paris"))

        earned = [
            _earned(program.decide(in_paris, _purchase(at=at), at))
            for at in (
                datetime(2026, 5, 5, 4, 59, tzinfo=UTC),  # 06:59 in Paris
                datetime(2026, 5, 5, 5, 0, tzinfo=UTC),  # 07:00
                datetime(2026, 5, 5, 7, 59, tzinfo=UTC),  # 09:59
                datetime(2026, 5, 5, 8, 0, tzinfo=UTC),  # 10:00
                datetime(2026, 5, 12, 6, 0, tzinfo=UTC),  # next Tuesday, 08:00
            )
        ]

        assert [0, 5, 5, 0, 5] == earned

    def test_the_last_weekend_of_the_month(self) -> None:
        window = Window(recurrence="FREQ=MONTHLY;BYDAY=-1SA,-1SU")

        assert [False, True, True, False] == [
            window.contains(datetime(2026, 5, day, 12, tzinfo=UTC), UTC)
            for day in (23, 30, 31, 29)
        ]

    def test_a_date_range_opens_from_its_start_until_before_its_end(self) -> None:
        window = Window(starts=TUESDAY, ends=TUESDAY + timedelta(days=1))

        assert [False, True, False] == [
            window.contains(at, UTC)
            for at in (TUESDAY - timedelta(seconds=1), TUESDAY, TUESDAY + timedelta(days=1))
        ]

    def test_an_event_outside_the_window_is_traced(self) -> None:
        window = Window(starts=TUESDAY + timedelta(days=1))
        rule = Rule("launch", on="Purchase", then=[FixedPoints(5)], window=window)

        decision = _program(rule).decide(_state(), _purchase(), TUESDAY)

        assert Verdict.OUTSIDE == _verdicts(decision)["launch"]

    @given(
        window=st.sampled_from(sorted(_WINDOWS)).map(_WINDOWS.__getitem__),
        moments=st.lists(
            st.datetimes(
                min_value=datetime(2026, 1, 1),  # noqa: DTZ001
                max_value=datetime(2029, 12, 31),  # noqa: DTZ001
                timezones=st.sampled_from([UTC, tz.gettz("Europe/Paris"), tz.gettz("Asia/Tokyo")]),
            ),
            min_size=1,
            max_size=4,
        ),
    )
    @settings(max_examples=150, deadline=None)
    def test_a_recurrence_agrees_with_every_occurrence_counted_from_long_ago(
        self, window: Window, moments: list[datetime]
    ) -> None:
        # The windows are kept across examples, so that days already worked out are
        # asked about again.
        assert window.recurrence is not None
        occurrences = rrule.rrulestr(window.recurrence, dtstart=datetime(2025, 11, 1))  # noqa: DTZ001
        for at in moments:
            zone = at.tzinfo
            assert zone is not None
            wall = at.replace(tzinfo=None)
            # The naive reading: every occurrence from a start months before, one by one.
            expected = any(
                start <= wall < start + window.lasting
                for start in occurrences.between(
                    datetime(2025, 11, 1),  # noqa: DTZ001
                    wall,
                    inc=True,
                )
            )

            assert expected == window.contains(at.astimezone(UTC), zone)

    @pytest.mark.parametrize(
        ("recurrence", "lasting"),
        [
            ("FREQ=WEEKLY;BYDAY=FR", timedelta(days=8)),
            ("FREQ=DAILY;BYHOUR=9", timedelta(hours=25)),
            ("FREQ=HOURLY", timedelta(days=2)),
            ("FREQ=MONTHLY;BYMONTHDAY=1", relativedelta(months=1, days=1)),
        ],
        ids=["week", "day", "hour", "month"],
    )
    def test_an_occurrence_may_not_outlast_the_gap_to_the_next(
        self, recurrence: str, lasting: timedelta | relativedelta
    ) -> None:
        with pytest.raises(InvalidInput) as raised:
            Window(recurrence=recurrence, lasting=lasting)

        assert "lasting" == raised.value.field

    @pytest.mark.parametrize(
        "recurrence",
        [
            "FREQ=YEARLY",
            "FREQ=YEARLY;BYMONTH=12",
            "FREQ=WEEKLY",
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU",
            "FREQ=WEEKLY;INTERVAL=1;COUNT=1;BYDAY=TU",
            "not a rule",
        ],
        ids=["yearly-unpinned", "month-only", "weekly-unpinned", "interval", "count", "garbage"],
    )
    def test_a_recurrence_that_does_not_say_its_days_is_rejected(self, recurrence: str) -> None:
        with pytest.raises(InvalidInput) as raised:
            Window(recurrence=recurrence)

        assert "recurrence" == raised.value.field

    @pytest.mark.parametrize(
        "recurrence",
        [
            "FREQ=MONTHLY;BYDAY=+6MO",
            "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
            "FREQ=MONTHLY;BYMONTH=4;BYMONTHDAY=31",
            "FREQ=HOURLY;BYMONTH=4;BYMONTHDAY=31",
            "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30;BYHOUR=9",
        ],
        ids=["sixth-monday", "30-february", "31-april", "hourly-31-april", "daily-30-february"],
    )
    def test_a_recurrence_that_never_occurs_is_rejected(self, recurrence: str) -> None:
        # Every check of such a window would otherwise scan to the end of the calendar.
        with pytest.raises(InvalidInput, match="no day has what this one asks for") as raised:
            Window(recurrence=recurrence)

        assert "recurrence" == raised.value.field

    @pytest.mark.parametrize(
        ("recurrence", "on"),
        [
            (
                "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO;BYHOUR=9",
                datetime(2016, 2, 29, 9, 30, tzinfo=UTC),
            ),
            (
                "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29;BYHOUR=9",
                datetime(2028, 2, 29, 9, 30, tzinfo=UTC),
            ),
            ("FREQ=MONTHLY;BYDAY=+5FR;BYHOUR=9", datetime(2026, 1, 30, 9, 30, tzinfo=UTC)),
        ],
        ids=["leap-day-on-a-monday", "leap-day", "fifth-friday"],
    )
    def test_a_rare_recurrence_is_kept_and_opens_on_its_days(
        self, recurrence: str, on: datetime
    ) -> None:
        window = Window(recurrence=recurrence, lasting=timedelta(hours=1))

        assert window.contains(on, UTC)
        assert not window.contains(on + timedelta(days=7), UTC)


class TestOtherEffects:
    def test_stamps_tier_tags_and_messages_become_effects(self) -> None:
        program = _program(
            Rule("coffee card", on="Purchase", then=[Stamps("coffee", tag="coffee")]),
            Rule("gold", on="Purchase", when=event.amount >= 10, then=[Tier("gold"), Tag("big")]),
            Rule("thanks", on="Purchase", then=[Message("thank_you", channel="email")]),
            earn=None,
        )

        decision = program.decide(_state(), _purchase("12.40", items=(LATTE, CAKE)), TUESDAY)

        assert [
            AddStamps("coffee", 2),
            SetTier("gold", "gold", TUESDAY),
            AddTag("big"),
            RequestMessage("thank_you", "email", "transactional", "thanks"),
        ] == [e for e in decision.effects if not isinstance(e, NotePurchase)]

    def test_applying_them_changes_the_state(self) -> None:
        program = _program(
            Rule("coffee card", on="Purchase", then=[Stamps("coffee", tag="coffee")]),
            Rule("gold", on="Purchase", then=[Tier("gold"), Tag("big")]),
            earn=None,
        )
        current = _state()
        for n in range(2):
            order = _purchase("12.40", id=f"o-{n}", items=(LATTE, CAKE))
            current, _ = program.apply(current, program.decide(current, order, TUESDAY), TUESDAY)

        assert ({"coffee": 4}, "gold", frozenset({"big"})) == (
            dict(current.stamps),
            current.tier,
            current.customer.tags,
        )

    def test_the_first_rule_to_give_a_tier_wins_and_the_other_is_noted(self) -> None:
        program = _program(
            Rule("gold", on="Purchase", then=[Tier("gold")], priority=2),
            Rule("silver", on="Purchase", then=[Tier("silver")], priority=1),
            earn=None,
        )

        decision = program.decide(_state(), _purchase(), TUESDAY)

        assert [SetTier("gold", "gold", TUESDAY)] == [
            e for e in decision.effects if isinstance(e, SetTier)
        ]
        assert "silver: tier 'silver' not given: 'gold' came first" in str(decision.trace)

    def test_a_limited_rule_that_fires_is_counted(self) -> None:
        rule = Rule("once", on="Purchase", then=[Tag("x")], limits=[Limit(1, per="day")])

        decision = _program(rule, earn=None).decide(_state(), _purchase(), TUESDAY)

        [use] = [effect for effect in decision.effects if isinstance(effect, CountUse)]
        # Kept from the start of the day before: for purchases recorded late.
        assert ("once", TUESDAY, datetime(2026, 5, 4, tzinfo=UTC)) == (
            use.rule,
            use.at,
            use.keep_from.replace(tzinfo=UTC),
        )


class TestThroughTheService:
    def _service(self, program: Program) -> tuple[RetentionService, FixedClock]:
        clock = FixedClock(TUESDAY)
        return RetentionService(program, MemoryStore(), clock), clock

    def test_preview_decides_without_keeping_anything(self) -> None:
        program = _program(Rule("card", on="Purchase", then=[Stamps("coffee")]))
        service, _ = self._service(program)

        decision = service.preview(_purchase())

        assert 12 == _earned(decision)
        assert [] == list(service.log())
        outcome = service.record(_purchase())  # and the event can still be recorded
        assert 12 == outcome.points

    def test_stamps_tier_and_rule_uses_survive_in_the_store(self) -> None:
        program = _program(
            Rule("card", on="Purchase", then=[Stamps("coffee")]),
            Rule("gold", on="Purchase", then=[Tier("gold")], limits=[Limit(3, per="month")]),
            Rule("visits", on="Visit", then=[Tag("regular")]),
        )
        service, _ = self._service(program)
        for n in range(2):
            service.record(_purchase(id=f"o-{n}"))
        service.record(Visit(id="v-1", customer_id="c-1", at=TUESDAY))

        with service.store.unit_of_work() as uow:
            kept = uow.load("c-1")

        assert kept is not None
        assert ({"coffee": 2}, "gold", 2, 2, 1) == (
            dict(kept.stamps),
            kept.tier,
            len(kept.rule_uses["gold"]),
            kept.activity.purchases,
            kept.activity.visits,
        )
        assert "regular" in service.customer("c-1").tags

    def test_a_replay_gives_the_same_rule_decisions(self) -> None:
        program = _program(
            Rule("double", on="Purchase", then=[Multiplier(2)], limits=[Limit(2, per="week")]),
            Rule("card", on="Purchase", then=[Stamps("coffee")]),
        )
        service, clock = self._service(program)
        outcomes = []
        for n in range(5):
            clock.set(TUESDAY + timedelta(days=n))
            outcomes.append(service.record(_purchase(id=f"o-{n}", at=clock.now())))

        again, _ = self._service(program)
        replayed = again.replay(service.log())

        assert outcomes == replayed
        assert [24, 24, 12, 12, 12] == [outcome.points for outcome in outcomes]


def test_a_relativedelta_limit_reads_well() -> None:
    assert "3 times in any 1 month" == Limit(3, per=relativedelta(months=1)).describe()


class TestSharedLimits:
    def _service(self, *rules: Rule) -> tuple[RetentionService, FixedClock]:
        clock = FixedClock(TUESDAY)
        return RetentionService(_program(*rules, earn=None), MemoryStore(), clock), clock

    def _buy(self, service: RetentionService, customer_id: str, n: int) -> int:
        order = Purchase(
            id=f"{customer_id}-{n}",
            customer_id=customer_id,
            at=service.clock.now(),
            amount=Decimal("10.00"),
            currency="USD",
        )
        return service.record(order).points

    def test_a_budget_stops_a_rule_once_its_points_are_given(self) -> None:
        service, _ = self._service(
            Rule("launch bonus", on="Purchase", then=[FixedPoints(40)], limits=[Budget(100)])
        )

        given = [self._buy(service, customer, 1) for customer in ("ada", "bea", "cy", "dan")]

        assert [40, 40, 0, 0] == given
        with service.store.unit_of_work() as uow:
            assert 80 == uow.counter("rule launch bonus budget")

    def test_the_trace_says_the_budget_is_spent(self) -> None:
        rule = Rule("launch bonus", on="Purchase", then=[FixedPoints(40)], limits=[Budget(50)])
        service, _ = self._service(rule)
        self._buy(service, "ada", 1)

        decision = service.preview(
            Purchase(id="x", customer_id="bea", at=TUESDAY, amount=Decimal(1), currency="USD")
        )

        assert (
            "launch bonus: not applied: a budget of 50 points is spent (40 given, 40 more asked)"
        ) in str(decision.trace)

    def test_a_rule_for_the_first_customers_keeps_serving_them_only(self) -> None:
        service, _ = self._service(
            Rule("founders", on="Purchase", then=[FixedPoints(5)], limits=[FirstCustomers(2)])
        )

        given = [
            self._buy(service, customer, n)
            for n, customer in enumerate(["ada", "bea", "cy", "ada", "bea", "cy"])
        ]

        assert [5, 5, 0, 5, 5, 0] == given

    def test_a_budget_needs_a_rule_that_gives_points(self) -> None:
        with pytest.raises(InvalidInput, match="a rule that gives points"):
            Rule("tags", on="Purchase", then=[Tag("x")], limits=[Budget(10)])

    def test_a_replay_counts_the_same(self) -> None:
        service, _ = self._service(
            Rule("bonus", on="Purchase", then=[FixedPoints(40)], limits=[Budget(100)]),
            Rule("founders", on="Purchase", then=[FixedPoints(5)], limits=[FirstCustomers(1)]),
        )
        outcomes = [self._buy(service, customer, 1) for customer in ("ada", "bea", "cy")]

        again, _ = self._service(*service.program.rules)
        replayed = [outcome.points for outcome in again.replay(service.log())]

        assert outcomes == replayed == [45, 40, 0]


def _vouchers(decision: Decision) -> list[Voucher]:
    return [effect.voucher for effect in decision.effects if isinstance(effect, IssueVoucher)]


def _taken(decision: Decision) -> list[AddToCounter]:
    return [effect for effect in decision.effects if isinstance(effect, AddToCounter)]


CARD_PAID = "event.payment == 'horizon-visa'"


class TestCashback:
    def test_it_gives_a_percent_of_the_purchase_as_a_money_voucher(self) -> None:
        program = _program(Rule("card", on="Purchase", then=[Cashback(2)]), earn=None)

        decision = program.decide(_state(), _purchase("12.40"), TUESDAY)

        code = voucher_code("c-1", "rule card", "o-1", 1)
        expected = Voucher(code, "cashback", None, Decimal("0.24"), "rule card", TUESDAY, None)
        assert [expected] == _vouchers(decision)
        assert "card: fired: cashback 2% on 12.40 USD: 0.24 USD" in str(decision.trace)

    @pytest.mark.parametrize(
        ("amount", "back"),
        [("12.45", "0.24"), ("12.50", "0.25"), ("12.55", "0.25")],
        ids=["just-under-a-cent-more", "exact", "just-over"],
    )
    def test_the_amount_is_rounded_down_to_the_cent(self, amount: str, back: str) -> None:
        program = _program(Rule("card", on="Purchase", then=[Cashback(2)]), earn=None)

        decision = program.decide(_state(), _purchase(amount), TUESDAY)

        assert [Decimal(back)] == [voucher.value for voucher in _vouchers(decision)]

    def test_the_amount_is_rounded_down_to_the_currencys_own_minor_unit(self) -> None:
        rule = Rule("card", on="Purchase", then=[Cashback(Decimal("1.5"))])
        program = _program(rule, earn=None, currency="JPY")
        order = Purchase(id="o-1", customer_id="c-1", at=TUESDAY, amount=999, currency="JPY")

        decision = program.decide(_state(), order, TUESDAY)

        assert [Decimal(14)] == [voucher.value for voucher in _vouchers(decision)]  # 14.985
        assert "cashback 1.5% on 999 JPY: 14 JPY" in str(decision.trace)

    def test_an_amount_that_rounds_down_to_nothing_gives_no_voucher_and_says_so(self) -> None:
        program = _program(Rule("card", on="Purchase", then=[Cashback(2)]), earn=None)

        decision = program.decide(_state(), _purchase("0.49"), TUESDAY)

        assert [] == _vouchers(decision)
        assert "card: gave nothing: cashback 2% on 0.49 USD: nothing, less than 0.01 USD" in str(
            decision.trace
        )

    @pytest.mark.parametrize(
        ("effect", "back"),
        [
            (Cashback(5, tag="coffee"), "0.40"),  # 2 lattes, 8.00
            (Cashback(5, sku="cake"), "0.22"),  # 4.40
            (Cashback(5, sku="cake", tag="coffee"), None),  # no such item
            (Cashback(5), "0.62"),  # the whole 12.40
        ],
        ids=["tag", "sku", "sku-and-tag", "whole-amount"],
    )
    def test_with_a_sku_or_tag_only_what_the_matching_items_cost_counts(
        self, effect: Cashback, back: str | None
    ) -> None:
        program = _program(Rule("items", on="Purchase", then=[effect]), earn=None)

        decision = program.decide(_state(), _purchase(items=(LATTE, CAKE)), TUESDAY)

        assert ([] if back is None else [Decimal(back)]) == [
            voucher.value for voucher in _vouchers(decision)
        ]

    @pytest.mark.parametrize(
        ("payment", "vouchers"),
        [("horizon-visa", 1), ("cash", 0), (None, 0)],
        ids=["the-card", "another-way", "not-said"],
    )
    def test_a_co_branded_card_gives_cashback_when_the_purchase_is_paid_with_it(
        self, payment: str | None, vouchers: int
    ) -> None:
        rule = Rule("horizon card", on="Purchase", when=CARD_PAID, then=[Cashback(3)])
        program = _program(rule, earn=None)

        decision = program.decide(_state(), _purchase("100.00", payment=payment), TUESDAY)

        assert vouchers == len(_vouchers(decision))

    @pytest.mark.parametrize(
        ("valid_for", "expires_at"),
        [
            (relativedelta(months=3), datetime(2026, 8, 5, 9, tzinfo=UTC)),
            (timedelta(days=30), datetime(2026, 6, 4, 9, tzinfo=UTC)),
            (None, None),
        ],
        ids=["months", "days", "forever"],
    )
    def test_valid_for_sets_when_the_voucher_expires(
        self, valid_for: relativedelta | timedelta | None, expires_at: datetime | None
    ) -> None:
        rule = Rule("card", on="Purchase", then=[Cashback(2, valid_for=valid_for)])

        decision = _program(rule, earn=None).decide(_state(), _purchase(), TUESDAY)

        [voucher] = _vouchers(decision)
        assert expires_at == voucher.expires_at

    def test_each_cashback_effect_gives_its_own_voucher(self) -> None:
        program = _program(
            Rule("card", on="Purchase", then=[Cashback(1), Cashback(5, tag="coffee")]),
            Rule("promo", on="Purchase", then=[Cashback(2)]),
            earn=None,
        )

        decision = program.decide(_state(), _purchase(items=(LATTE, CAKE)), TUESDAY)

        vouchers = _vouchers(decision)
        assert [("rule card", "0.12"), ("rule card", "0.40"), ("rule promo", "0.24")] == [
            (voucher.source, str(voucher.value)) for voucher in vouchers
        ]
        assert 3 == len({voucher.code for voucher in vouchers})
        assert "card: fired: cashback 1% on 12.40 USD: 0.12 USD; cashback 5% on items tagged " in (
            str(decision.trace)
        )

    def test_a_rule_with_a_gift_and_cashback_gives_both(self) -> None:
        gift = Gift(VoucherOffer("free cake", sku="cake"))
        program = _program(Rule("card", on="Purchase", then=[gift, Cashback(2)]), earn=None)

        decision = program.decide(_state(), _purchase(), TUESDAY)

        assert [("free cake", None), ("cashback", Decimal("0.24"))] == [
            (voucher.name, voucher.value) for voucher in _vouchers(decision)
        ]

    def test_cashback_is_only_for_purchases(self) -> None:
        with pytest.raises(InvalidInput) as raised:
            Rule("visits", on="Visit", then=[Cashback(2)])

        assert "then" == raised.value.field
        assert "cashback, only on='Purchase'" in str(raised.value)

    @pytest.mark.parametrize(
        ("percent", "expected"),
        [
            (Decimal(0), "a positive Decimal"),
            (Decimal("-1"), "a positive Decimal"),
            (Decimal("100.01"), "at most 100"),
            (2.5, "floats are rejected"),
            ("two", "a decimal number"),
        ],
        ids=["zero", "negative", "above-100", "float", "text"],
    )
    def test_a_percent_that_is_not_above_0_and_at_most_100_is_rejected(
        self, percent: object, expected: str
    ) -> None:
        with pytest.raises(InvalidInput) as raised:
            Cashback(percent)  # type: ignore[arg-type]

        assert "percent" == raised.value.field
        assert expected in str(raised.value)

    def test_100_percent_gives_it_all_back(self) -> None:
        rule = Rule("free", on="Purchase", then=[Cashback(100)])

        decision = _program(rule, earn=None).decide(_state(), _purchase(), TUESDAY)

        assert [Decimal("12.40")] == [voucher.value for voucher in _vouchers(decision)]

    @pytest.mark.parametrize(
        ("take", "taken", "outdone"),
        [("best", "coffee 5%", "all 2%"), ("lowest", "all 2%", "coffee 5%")],
        ids=["best", "lowest"],
    )
    def test_a_group_compares_cashback_rules_on_the_money_they_give_back(
        self, take: str, taken: str, outdone: str
    ) -> None:
        program = _program(
            Rule("all 2%", on="Purchase", then=[Cashback(2)], group="back"),
            Rule("coffee 5%", on="Purchase", then=[Cashback(5, tag="coffee")], group="back"),
            earn=None,
            groups=[Group("back", take=take)],
        )

        decision = program.decide(_state(), _purchase(items=(LATTE, CAKE)), TUESDAY)

        assert [f"rule {taken}"] == [voucher.source for voucher in _vouchers(decision)]
        high, low = ("0.40", "0.24") if take == "best" else ("0.24", "0.40")
        assert (
            f"{outdone}: not applied: group 'back' takes the {take} rule: {taken!r} "
            f"({high} back against {low})"
        ) in str(decision.trace)

    def test_a_group_compares_a_discount_and_cashback_on_the_money_given(self) -> None:
        program = _program(
            Rule(
                "cake 10% off", on="Purchase", then=[Discount(percent=10, sku="cake")], group="g"
            ),
            Rule("2% back", on="Purchase", then=[Cashback(2)], group="g"),
            earn=None,
            groups=[Group("g", take="best")],
        )

        decision = program.decide(_state(), _purchase(items=(LATTE, CAKE)), TUESDAY)

        assert [] == _vouchers(decision)
        assert (
            "2% back: not applied: group 'g' takes the best rule: 'cake 10% off' "
            "(0.44 given against 0.24)"
        ) in str(decision.trace)

    def test_an_outdone_cashback_rule_takes_nothing_from_its_budget(self) -> None:
        budget = Budget(money=Decimal("100.00"))
        program = _program(
            Rule("small", on="Purchase", then=[Cashback(1)], group="g", limits=[budget]),
            Rule("big", on="Purchase", then=[Cashback(3)], group="g", limits=[budget]),
            earn=None,
            groups=[Group("g", take="best")],
        )

        decision = program.decide(_state(), _purchase(), TUESDAY)

        assert [AddToCounter("rule big budget USD", 37)] == _taken(decision)


class TestMoneyBudgets:
    def _service(self, *rules: Rule) -> RetentionService:
        return RetentionService(_program(*rules, earn=None), MemoryStore(), FixedClock(TUESDAY))

    def _buy(self, service: RetentionService, customer_id: str, n: int, amount: str) -> None:
        service.record(
            Purchase(
                id=f"{customer_id}-{n}",
                customer_id=customer_id,
                at=service.clock.now(),
                amount=Decimal(amount),
                currency="USD",
                payment="horizon-visa",
            )
        )

    def _given(self, service: RetentionService, *customers: str) -> list[str]:
        return [
            str(voucher.value) for customer in customers for voucher in service.vouchers(customer)
        ]

    def test_a_money_budget_lets_the_rule_give_up_to_it_exactly_and_no_more(self) -> None:
        rule = Rule(
            "card", on="Purchase", then=[Cashback(2)], limits=[Budget(money=Decimal("1.00"))]
        )
        service = self._service(rule)

        for n, name in enumerate(["ada", "bea", "ada", "cy", "bea", "dan"]):
            self._buy(service, name, n, "10.00")  # 0.20 back each

        assert ["0.20"] * 5 == self._given(service, "ada", "bea", "cy", "dan")
        with service.store.unit_of_work() as uow:
            assert 100 == uow.counter("rule card budget USD")  # in cents, shared by all

    def test_a_purchase_that_would_pass_the_budget_gets_nothing_but_a_smaller_one_fits(
        self,
    ) -> None:
        rule = Rule(
            "card", on="Purchase", then=[Cashback(10)], limits=[Budget(money=Decimal("5.00"))]
        )
        service = self._service(rule)

        self._buy(service, "ada", 1, "40.00")  # 4.00
        self._buy(service, "bea", 2, "20.00")  # 2.00 would make 6.00: nothing
        self._buy(service, "cy", 3, "10.00")  # 1.00 makes exactly 5.00

        assert (["4.00"], [], ["1.00"]) == (
            self._given(service, "ada"),
            self._given(service, "bea"),
            self._given(service, "cy"),
        )

    def test_the_trace_says_the_money_budget_is_spent(self) -> None:
        rule = Rule(
            "card", on="Purchase", then=[Cashback(2)], limits=[Budget(money=Decimal("500"))]
        )
        program = _program(rule, earn=None)

        decision = program.decide(
            _state(), _purchase("60.00"), TUESDAY, counters={"rule card budget USD": 49910}
        )

        assert [] == _vouchers(decision)
        assert (
            "card: not applied: a budget of 500.00 USD is spent (499.10 given, 1.20 more asked)"
        ) in str(decision.trace)
        assert Verdict.LIMITED == _verdicts(decision)["card"]

    def test_the_budget_is_taken_from_only_when_the_rule_fires(self) -> None:
        rule = Rule(
            "card",
            on="Purchase",
            when=CARD_PAID,
            then=[Cashback(2)],
            limits=[Budget(money=Decimal("10.00"))],
        )
        program = _program(rule, earn=None)

        paid_with_card = program.decide(_state(), _purchase(payment="horizon-visa"), TUESDAY)
        paid_in_cash = program.decide(_state(), _purchase(payment="cash"), TUESDAY)
        too_little = program.decide(_state(), _purchase("0.40", payment="horizon-visa"), TUESDAY)

        assert [AddToCounter("rule card budget USD", 24)] == _taken(paid_with_card)
        assert [] == _taken(paid_in_cash)
        assert [] == _taken(too_little)

    def test_the_values_of_the_rules_gifts_count_against_it(self) -> None:
        five_off = Gift(VoucherOffer("5 off", value=Decimal("5.00")))
        free_cake = Gift(VoucherOffer("free cake", sku="cake"))  # no value: counts nothing
        rule = Rule(
            "thanks",
            on="Purchase",
            then=[five_off, free_cake, Cashback(1)],
            limits=[Budget(money=Decimal("11.00"))],
        )
        service = self._service(rule)

        for n, name in enumerate(["ada", "bea", "cy"]):
            self._buy(service, name, n, "10.00")  # 5.00 + 0.10 each

        assert [3, 3, 0] == [len(service.vouchers(name)) for name in ("ada", "bea", "cy")]
        with service.store.unit_of_work() as uow:
            assert 1020 == uow.counter("rule thanks budget USD")

    def test_first_customers_hold_alongside_a_money_budget(self) -> None:
        rule = Rule(
            "founders",
            on="Purchase",
            then=[Cashback(10)],
            limits=[FirstCustomers(2), Budget(money=Decimal("3.00"))],
        )
        service = self._service(rule)

        for n, name in enumerate(["ada", "bea", "cy", "ada", "bea"]):
            self._buy(service, name, n, "10.00")  # 1.00 back each

        assert (["1.00", "1.00"], ["1.00"], []) == (
            self._given(service, "ada"),
            self._given(service, "bea"),
            self._given(service, "cy"),
        )
        with service.store.unit_of_work() as uow:
            assert (2, 300) == (
                uow.counter("rule founders customers"),
                uow.counter("rule founders budget USD"),
            )

    def test_the_customer_can_use_the_cashback_voucher_at_checkout(self) -> None:
        rule = Rule("card", on="Purchase", when=CARD_PAID, then=[Cashback(3)])
        service = self._service(rule)

        outcome = service.record(_purchase("50.00", customer_id="ada", payment="horizon-visa"))
        [voucher] = service.vouchers("ada")
        service.use_voucher("ada", voucher.code, key="checkout-2")

        assert (Decimal("1.50"), "rule card", "used") == (
            voucher.value,
            voucher.source,
            service.vouchers("ada")[0].status.value,
        )
        assert 0 == outcome.points

    def test_a_replay_gives_the_same_cashback_within_the_same_budget(self) -> None:
        rule = Rule(
            "card", on="Purchase", then=[Cashback(5)], limits=[Budget(money=Decimal("1.00"))]
        )
        service = self._service(rule)
        for n, name in enumerate(["ada", "bea", "cy"]):
            self._buy(service, name, n, "8.00")  # 0.40 back each: the third does not fit

        again = self._service(rule)
        again.replay(service.log())

        given = self._given(service, "ada", "bea", "cy")
        assert ["0.40", "0.40"] == given == self._given(again, "ada", "bea", "cy")

    @pytest.mark.parametrize(
        ("fields", "field", "expected"),
        [
            ({}, "budget", "points or money, exactly one of them"),
            ({"points": 10, "money": Decimal(5)}, "budget", "exactly one of them"),
            ({"money": Decimal(0)}, "money", "a positive Decimal"),
            ({"money": Decimal("-5")}, "money", "a positive Decimal"),
            ({"money": 5.0}, "money", "floats are rejected"),
        ],
        ids=["neither", "both", "zero", "negative", "float"],
    )
    def test_a_budget_is_in_points_or_in_positive_money(
        self, fields: dict[str, object], field: str, expected: str
    ) -> None:
        with pytest.raises(InvalidInput) as raised:
            Budget(**fields)  # type: ignore[arg-type]

        assert field == raised.value.field
        assert expected in str(raised.value)

    @pytest.mark.parametrize(
        "then",
        [[FixedPoints(5)], [Gift(VoucherOffer("cake", sku="cake"))], [Discount(percent=5)]],
        ids=["points", "gift-without-value", "discount"],
    )
    def test_a_money_budget_needs_a_rule_that_gives_money(self, then: list[object]) -> None:
        with pytest.raises(InvalidInput, match="a rule that gives money"):
            Rule("r", on="Purchase", then=then, limits=[Budget(money=Decimal(5))])  # type: ignore[arg-type]

    def test_money_a_budget_cannot_count_in_the_currencys_minor_unit_is_rejected(
        self,
    ) -> None:
        rule = Rule("r", on="Purchase", then=[Cashback(2)], limits=[Budget(money="10.5")])

        with pytest.raises(InvalidInput) as raised:
            _program(rule, earn=None, currency="JPY")

        assert (raised.value.field, raised.value.value) == ("rules['r'].limits", Decimal("10.5"))
        assert "minor units" in str(raised.value)

    def test_a_budget_reads_in_points_or_in_the_programs_currency(self) -> None:
        assert [
            "a budget of 100 points",
            "a budget of 500 in money",
            "a budget of 500.00 USD",
            "a budget of 500 JPY",
        ] == [
            Budget(100).describe(),
            Budget(money=500).describe(),
            Budget(money=500).describe("USD"),
            Budget(money=500).describe("JPY"),
        ]


_CUSTOMERS = st.sampled_from(["ada", "bea", "cy", "dan"])


class TestLimitsAreNeverExceeded:
    @settings(max_examples=60, deadline=None)
    @given(
        st.lists(st.tuples(_CUSTOMERS, st.integers(0, 20)), min_size=1, max_size=40),
        st.integers(1, 3),
        st.integers(1, 200),
        st.integers(1, 3),
    )
    def test_per_customer_limits_budgets_and_first_customers_hold(
        self, visits: list[tuple[str, int]], times: int, budget: int, first: int
    ) -> None:
        rule = Rule(
            "promo",
            on="Purchase",
            then=[FixedPoints(7)],
            limits=[Limit(times, per="month"), Budget(budget), FirstCustomers(first)],
        )
        clock = FixedClock(TUESDAY)
        service = RetentionService(_program(rule, earn=None), MemoryStore(), clock)
        fired: list[tuple[str, datetime]] = []
        for n, (customer_id, days) in enumerate(visits):
            clock.advance(timedelta(days=days))
            order = Purchase(
                id=f"o-{n}",
                customer_id=customer_id,
                at=clock.now(),
                amount=Decimal(1),
                currency="USD",
            )
            if service.record(order).points:
                fired.append((customer_id, clock.now()))

        per_month: dict[tuple[str, int, int], int] = {}
        for customer_id, at in fired:
            month = (customer_id, at.year, at.month)
            per_month[month] = per_month.get(month, 0) + 1
        assert all(count <= times for count in per_month.values())
        assert 7 * len(fired) <= budget
        assert len({customer_id for customer_id, _ in fired}) <= first

    @settings(max_examples=60, deadline=None)
    @given(
        st.lists(
            st.tuples(_CUSTOMERS, st.integers(0, 20_000), st.integers(0, 10)),
            min_size=1,
            max_size=40,
        ),
        st.sampled_from([Decimal("0.5"), Decimal(2), Decimal("3.3"), Decimal(10), Decimal(100)]),
        st.integers(1, 5_000),
        st.none() | st.integers(0, 500),
        st.none() | st.integers(1, 3),
    )
    def test_the_money_a_budgeted_rule_gives_never_passes_its_budget(
        self,
        purchases: list[tuple[str, int, int]],
        percent: Decimal,
        budget: int,
        gift: int | None,
        first: int | None,
    ) -> None:
        then: list[Any] = [Cashback(percent, valid_for=relativedelta(months=1))]
        if gift is not None and gift:
            then.append(Gift(VoucherOffer("thanks", value=Decimal(gift).scaleb(-2))))
        limits: list[Any] = [Budget(money=Decimal(budget).scaleb(-2))]
        if first is not None:
            limits.append(FirstCustomers(first))
        rule = Rule("promo", on="Purchase", then=then, limits=limits)
        clock = FixedClock(TUESDAY)
        service = RetentionService(_program(rule, earn=None), MemoryStore(), clock)
        for n, (customer_id, cents, days) in enumerate(purchases):
            clock.advance(timedelta(days=days))
            order = Purchase(
                id=f"o-{n}",
                customer_id=customer_id,
                at=clock.now(),
                amount=Decimal(cents).scaleb(-2),
                currency="USD",
            )
            service.record(order)

        given = sum(
            (
                voucher.value or Decimal(0)
                for customer_id in {customer for customer, _, _ in purchases}
                for voucher in service.vouchers(customer_id)
            ),
            Decimal(0),
        )
        with service.store.unit_of_work() as uow:
            counted = uow.counter("rule promo budget USD")
        assert given <= Decimal(budget).scaleb(-2)
        assert given == Decimal(counted).scaleb(-2)


LEVELS = ("bronze", "silver", "gold")


class TestRaisingATier:
    def _decide(self, tier: str | None, given: str) -> Decision:
        levels = [Level(name, spend=Decimal(10**n)) for n, name in enumerate(LEVELS, start=6)]
        program = _program(
            Rule("promote", on="Purchase", then=[Tier(given, only_up=True)]),
            earn=None,
            tiers=TierLadder(levels=levels),
        )
        return program.decide(_state(tier=tier), _purchase(), TUESDAY)

    @pytest.mark.parametrize(
        ("tier", "given", "raised"),
        [(None, "silver", True), ("bronze", "silver", True), ("gold", "silver", False)],
        ids=["no-tier", "lower", "higher"],
    )
    def test_only_up_raises_but_never_lowers(
        self, tier: str | None, given: str, raised: bool
    ) -> None:
        decision = self._decide(tier, given)

        changed = [effect for effect in decision.effects if isinstance(effect, SetTier)]
        assert raised == bool(changed)
        if not raised:
            assert f"tier {given!r} not given: {tier!r} is higher" in str(decision.trace)


@given(
    top=st.integers(-(10**9), 10**9),
    twos=st.integers(0, 6),
    fives=st.integers(0, 6),
    other=st.sampled_from([1, 1, 3, 7]),
)
def test_a_ratio_reads_as_its_exact_decimal_or_about_when_it_has_no_end(
    top: int, twos: int, fives: int, other: int
) -> None:
    exact = Fraction(top, 2**twos * 5**fives * other)
    shown = _show_ratio((exact.numerator, exact.denominator))

    if exact.denominator % 3 and exact.denominator % 7:
        value = Decimal(exact.numerator) / Decimal(exact.denominator)
        assert value == Decimal(shown)
    else:
        assert shown.startswith("about ")
