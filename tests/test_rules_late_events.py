"""Limits judge an event recorded late (its ``at`` in the past) by its own period.

A calendar limit counts the firings of the calendar period the event falls in, those
after the event's time too; a rolling limit lets a late event fire only if every stretch
of its length that holds the event keeps within the limit. Firings are kept long enough
to judge an event up to one period older than the rule's newest firing; an older one is
judged on the firings kept, and the trace says so.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from typing import Any

import pytest
from dateutil import tz
from dateutil.relativedelta import relativedelta
from hypothesis import given, settings
from hypothesis import strategies as st

from custbond import (
    Customer,
    CustomerState,
    FixedClock,
    Program,
    Purchase,
    RetentionService,
    Store,
)
from custbond.effects import CountUse
from custbond.program import Decision
from custbond.rules import FixedPoints, Limit, Rule, Verdict
from stores import STORES

NOW = datetime(2026, 4, 10, tzinfo=UTC)


def _day(month: int, day: int, hour: int = 12) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def _program(*limits: Limit) -> Program:
    return Program(
        earn=None, rules=[Rule("bonus", on="Purchase", then=[FixedPoints(100)], limits=limits)]
    )


def _purchase(at: datetime, n: int) -> Purchase:
    return Purchase(id=f"o-{n}", customer_id="ada", at=at, amount=Decimal(1), currency="USD")


def _run(program: Program, days: list[datetime]) -> tuple[list[Decision], CustomerState]:
    """Decide and apply purchases at ``days``, in that order, all recorded at NOW."""
    current = CustomerState(Customer("ada"))
    decisions = []
    for n, at in enumerate(days):
        decision = program.decide(current, _purchase(at, n), NOW)
        current, _ = program.apply(current, decision, NOW)
        decisions.append(decision)
    return decisions, current


def _verdicts(decisions: list[Decision]) -> list[Verdict]:
    return [
        next(step.verdict for step in decision.trace if step.rule == "bonus")
        for decision in decisions
    ]


FIRED, LIMITED = Verdict.FIRED, Verdict.LIMITED


class TestCalendarPeriods:
    def test_a_late_event_is_not_limited_by_a_firing_in_a_later_month(self) -> None:
        decisions, _ = _run(_program(Limit(1, per="month")), [_day(3, 5), _day(2, 20)])

        assert [FIRED, FIRED] == _verdicts(decisions)

    def test_a_late_event_counts_the_later_firings_of_its_own_month(self) -> None:
        program = _program(Limit(2, per="month"))

        decisions, _ = _run(program, [_day(3, 5), _day(3, 20), _day(4, 2), _day(3, 1)])

        assert [FIRED, FIRED, FIRED, LIMITED] == _verdicts(decisions)
        assert "its limit of 2 times per calendar month is reached (2 used)" in str(
            decisions[-1].trace
        )

    def test_a_late_event_in_the_month_before_the_newest_firing_sees_that_months_firings(
        self,
    ) -> None:
        decisions, current = _run(
            _program(Limit(1, per="month")), [_day(3, 5), _day(4, 2), _day(3, 20)]
        )

        assert [FIRED, FIRED, LIMITED] == _verdicts(decisions)
        assert (_day(3, 5), _day(4, 2)) == current.rule_uses["bonus"]

    def test_firings_are_kept_from_the_start_of_the_period_before_the_newest(self) -> None:
        _, current = _run(
            _program(Limit(1, per="month")), [_day(1, 5), _day(2, 5), _day(3, 5), _day(4, 2)]
        )

        assert (_day(3, 5), _day(4, 2)) == current.rule_uses["bonus"]

    def test_an_event_older_than_the_firings_kept_is_judged_on_those_and_says_so(
        self,
    ) -> None:
        decisions, _ = _run(
            _program(Limit(1, per="month")), [_day(1, 5), _day(2, 5), _day(3, 5), _day(1, 20)]
        )

        assert FIRED == _verdicts(decisions)[-1]
        assert (
            "bonus: firings before 2026-02-01T00:00:00+00:00 are no longer kept: this event "
            "is older, and its limits count only the firings kept"
        ) in str(decisions[-1].trace)

    def test_an_event_within_the_firings_kept_says_nothing_of_them(self) -> None:
        decisions, _ = _run(_program(Limit(2, per="month")), [_day(3, 5), _day(4, 2), _day(3, 9)])

        assert "no longer kept" not in str(decisions[-1].trace)


class TestRollingPeriods:
    def test_a_late_event_is_limited_by_a_later_firing_within_the_duration(self) -> None:
        decisions, _ = _run(_program(Limit(1, per=timedelta(days=7))), [_day(3, 10), _day(3, 5)])

        assert [FIRED, LIMITED] == _verdicts(decisions)

    def test_a_late_event_further_than_the_duration_from_other_firings_fires(self) -> None:
        decisions, _ = _run(_program(Limit(1, per=timedelta(days=7))), [_day(3, 10), _day(3, 1)])

        assert [FIRED, FIRED] == _verdicts(decisions)

    def test_a_late_event_between_two_firings_is_judged_on_every_stretch_that_holds_it(
        self,
    ) -> None:
        # Twice in any 7 days: 1 and 8 March fired; an event on 5 March would make three in
        # the 7 days to 8 March, though the 7 days to 5 March hold only one.
        program = _program(Limit(2, per=timedelta(days=7)))

        decisions, _ = _run(program, [_day(3, 1), _day(3, 8, 11), _day(3, 5)])

        assert [FIRED, FIRED, LIMITED] == _verdicts(decisions)

    def test_firings_are_kept_for_two_durations_before_the_newest(self) -> None:
        program = _program(Limit(1, per=timedelta(days=7)))

        _, current = _run(program, [_day(3, 1), _day(3, 9), _day(3, 17)])

        assert (_day(3, 9), _day(3, 17)) == current.rule_uses["bonus"]
        [use] = [
            effect
            for effect in program.decide(current, _purchase(_day(3, 25), 9), NOW).effects
            if isinstance(effect, CountUse)
        ]
        assert _day(3, 11) + timedelta(microseconds=1) == use.keep_from


@pytest.fixture(params=STORES)
def make_store(request: pytest.FixtureRequest) -> Callable[[], Store]:
    return request.param  # type: ignore[no-any-return]


def test_late_purchases_keep_a_monthly_limit_on_every_store(
    make_store: Callable[[], Store],
) -> None:
    service = RetentionService(_program(Limit(2, per="month")), make_store(), FixedClock(NOW))

    points = [
        service.record(_purchase(at, n)).points
        for n, at in enumerate([_day(3, 5), _day(3, 6), _day(4, 2), _day(3, 20), _day(2, 27)])
    ]

    assert [100, 100, 100, 0, 100] == points


PERIODS: list[Any] = ["day", "week", "month", timedelta(days=3), relativedelta(months=1)]


def _count(limit: Limit, fired: list[datetime], end: datetime) -> int:
    """The firings in the calendar period ``end`` falls in, or in the stretch ending at it."""
    since = limit.since(end, UTC)
    if isinstance(limit.per, str):
        return sum(1 for other in fired if limit.since(other, UTC) == since)
    return sum(1 for other in fired if since <= other <= end)


def _full(limit: Limit, fired: list[datetime], at: datetime) -> bool:
    """Whether a period holding ``at`` holds ``limit.times`` firings."""
    if isinstance(limit.per, str):
        return _count(limit, fired, at) >= limit.times
    ends = [at, *(other for other in fired if other > at and limit.since(other, UTC) <= at)]
    return any(_count(limit, fired, end) >= limit.times for end in ends)


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from(PERIODS),
    st.integers(1, 3),
    st.lists(st.integers(0, 24 * 60), min_size=1, max_size=25),
)
def test_however_late_events_come_a_limit_holds_and_refuses_only_when_it_must(
    per: Any, times: int, hours: list[int]
) -> None:
    """Events in any order, each within a period of the newest: no period holds more
    firings than the limit, and an event is refused only when a period holding it is
    full."""
    limit = Limit(times, per=per)
    start = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday
    if isinstance(per, str):  # in two periods, one after the other
        reach = {"day": 24 * 2, "week": 24 * 7 * 2, "month": 24 * (28 + 31)}[per]
        start = {"day": start, "week": start, "month": datetime(2026, 2, 1, tzinfo=UTC)}[per]
    else:  # in one duration
        reach = int((start + per - start).total_seconds() // 3600)
    days = [start + timedelta(hours=hour % reach) for hour in hours]
    decisions, _ = _run(_program(limit), days)

    verdicts = _verdicts(decisions)
    fired = sorted(at for at, verdict in zip(days, verdicts, strict=True) if verdict is FIRED)
    assert all(_count(limit, fired, at) <= times for at in fired)
    refused = [at for at, verdict in zip(days, verdicts, strict=True) if verdict is LIMITED]
    assert all(_full(limit, fired, at) for at in refused)


# -- zones whose clocks change at midnight -------------------------------------------------
# Where clocks jump at midnight (00:00 -> 01:00) a day starts at 01:00; where they go back
# at or just after midnight, an hour is lived twice around it. The period before a day that
# starts at 01:00 is still the whole day before.

MIDNIGHT_ZONES = [
    "Africa/Cairo",
    "America/Havana",
    "America/Santiago",
    "Asia/Beirut",
    "Atlantic/Azores",
]


def _zone(name: str) -> tzinfo:
    found = tz.gettz(name)
    assert found is not None
    return found


def _changes(name: str) -> list[date]:
    """The days of 2026 on which the clocks of ``name`` change within an hour of midnight."""
    zone, found, day = _zone(name), [], date(2026, 1, 1)
    while day.year == 2026:
        midnight = datetime.combine(day, time(0), tzinfo=zone)
        if not tz.datetime_exists(midnight) or any(
            tz.datetime_ambiguous(midnight + timedelta(minutes=minutes))
            for minutes in (-30, 0, 30)
        ):
            found.append(day)
        day += timedelta(days=1)
    return found


CHANGES = [(name, day) for name in MIDNIGHT_ZONES for day in _changes(name)]


def _first_instant(day: date, zone: tzinfo) -> datetime:
    """The first instant whose date in ``zone`` is ``day`` or later, to the second: found
    by search, not by the wall-clock arithmetic the engine uses."""
    low = datetime.combine(day, time(0), tzinfo=UTC) - timedelta(days=2)
    seconds = 4 * 24 * 3600  # the answer is within two days of UTC midnight
    lowest, highest = 0, seconds
    while lowest < highest:
        middle = (lowest + highest) // 2
        if (low + timedelta(seconds=middle)).astimezone(zone).date() >= day:
            highest = middle
        else:
            lowest = middle + 1
    return low + timedelta(seconds=lowest)


def _period_of(per: str, day: date) -> date:
    """The first day of the calendar period ``day`` falls in."""
    if per == "week":
        return day - timedelta(days=day.weekday())
    if per == "month":
        return day.replace(day=1)
    return day


def _next_period(per: str, first: date) -> date:
    if per == "month":
        return (first + timedelta(days=32)).replace(day=1)
    return first + timedelta(days=7 if per == "week" else 1)


class TestClocksChangingAtMidnight:
    @pytest.mark.parametrize(
        ("name", "saturday", "sunday", "late"),
        [
            # Beirut: the clocks jump from 00:00 to 01:00 on Sunday 29 March 2026.
            ("Asia/Beirut", (3, 28, 12), (3, 29, 12), (3, 28, 18)),
            # Santiago: the clocks jump from 00:00 to 01:00 on Sunday 6 September 2026.
            ("America/Santiago", (9, 5, 22), (9, 6, 1), (9, 5, 11)),
        ],
    )
    def test_a_late_event_on_the_day_before_the_clocks_jump_counts_that_days_firing(
        self,
        name: str,
        saturday: tuple[int, int, int],
        sunday: tuple[int, int, int],
        late: tuple[int, int, int],
    ) -> None:
        zone = _zone(name)
        program = Program(
            earn=None,
            time_zone=name,
            rules=[Rule("bonus", on="Purchase", then=[FixedPoints(100)],
                        limits=[Limit(1, per="day")])],
        )  # fmt: skip
        days = [datetime(2026, *when, tzinfo=zone) for when in (saturday, sunday, late)]

        decisions, current = _run(program, days)

        assert [FIRED, FIRED, LIMITED] == _verdicts(decisions)
        assert (days[0], days[1]) == current.rule_uses["bonus"]
        assert "no longer kept" not in str(decisions[-1].trace)


def test_a_late_purchase_before_a_midnight_clock_jump_is_limited_on_every_store(
    make_store: Callable[[], Store],
) -> None:
    beirut = _zone("Asia/Beirut")  # the clocks jump from 00:00 to 01:00 on 29 March 2026
    program = Program(
        earn=None,
        time_zone="Asia/Beirut",
        rules=[Rule("bonus", on="Purchase", then=[FixedPoints(100)],
                    limits=[Limit(1, per="day")])],
    )  # fmt: skip
    service = RetentionService(program, make_store(), FixedClock(NOW))
    days = [
        datetime(2026, 3, day, hour, tzinfo=beirut) for day, hour in [(28, 12), (29, 12), (28, 18)]
    ]

    points = [service.record(_purchase(at, n)).points for n, at in enumerate(days)]

    assert [100, 100, 0] == points


@pytest.mark.parametrize("per", ["day", "week", "month"])
@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(CHANGES),
    st.integers(1, 2),
    st.lists(st.tuples(st.integers(0, 999_999), st.booleans()), min_size=1, max_size=12),
)
def test_where_clocks_change_at_midnight_a_late_event_within_a_period_is_judged_on_all(
    per: str, change: tuple[str, date], times: int, events: list[tuple[int, bool]]
) -> None:
    """Events in any order over the period holding a day whose clocks change at or near
    midnight and the period before it, each written in UTC or in the zone: each is judged
    on every firing of its own period (none is older than the period before the newest
    firing's), so it fires exactly when its period has fewer than ``times`` firings,
    counted by local date."""
    name, day = change
    zone = _zone(name)
    first = _period_of(per, day)
    before = _period_of(per, first - timedelta(days=1))
    start, end = _first_instant(before, zone), _first_instant(_next_period(per, first), zone)
    seconds = int((end - start).total_seconds())
    program = Program(
        earn=None,
        time_zone=name,
        rules=[Rule("bonus", on="Purchase", then=[FixedPoints(100)],
                    limits=[Limit(times, per=per)])],
    )  # fmt: skip
    days = []
    for millionths, written_in_zone in events:  # of the two periods, from their start
        at = start + timedelta(seconds=seconds * millionths // 1_000_000)
        days.append(at.astimezone(zone) if written_in_zone else at)

    decisions, _ = _run(program, days)

    fired: list[date] = []
    expected = []
    for at in days:
        period = _period_of(per, at.astimezone(zone).date())
        expected.append(FIRED if fired.count(period) < times else LIMITED)
        if expected[-1] is FIRED:
            fired.append(period)
    assert expected == _verdicts(decisions)
