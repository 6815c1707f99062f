"""Personal occasions (the social bond), pure: the wedding anniversary, the first visit,
the anniversary of the first purchase; when each next comes round, at 09:00 on the
customer's wall clock, and how many years it has been.

Maya lives in Paris, where the clocks go forward on 29 March 2026 and back on 25 October;
Ada in New York, five hours behind UTC in winter."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

import pytest
from dateutil import tz
from hypothesis import given
from hypothesis import strategies as st

from custbond import InvalidInput
from custbond.bonds.occasions import (
    Occasion,
    OccasionPolicy,
    anniversary_of,
    next_occurrence,
    years,
)
from custbond.customers import Birthday


def zone(name: str) -> tzinfo:
    found = tz.gettz(name)
    assert found is not None
    return found


PARIS = zone("Europe/Paris")
NEW_YORK = zone("America/New_York")
WEDDING = Occasion(name="wedding anniversary", month=6, day=14, year=2016)
LEAP = Occasion(name="first visit", month=2, day=29, year=2024)
JAN_1 = datetime(2026, 1, 1, tzinfo=UTC)
US = timedelta(microseconds=1)


class TestOccasion:
    def test_it_describes_its_day_and_when_it_began(self) -> None:
        assert "wedding anniversary: 14 June, since 2016" == WEDDING.describe()

    def test_one_without_a_year_says_only_its_day(self) -> None:
        assert "first visit: 3 May" == Occasion(name="first visit", month=5, day=3).describe()

    def test_29_february_says_where_it_falls_in_common_years(self) -> None:
        expected = "first visit: 29 February (28 February in common years), since 2024"
        assert expected == LEAP.describe()

    def test_29_february_is_allowed_without_a_year(self) -> None:
        assert 29 == Occasion(name="x", month=2, day=29).day

    @pytest.mark.parametrize("year", [2023, 2024, 2025, 2028, 2100])
    def test_it_falls_where_a_birthday_on_the_same_day_does(self, year: int) -> None:
        assert Birthday(month=2, day=29).in_year(year) == LEAP.in_year(year)


def _occasion(**changes: Any) -> None:
    fields: dict[str, Any] = {"name": "x", "month": 6, "day": 14} | changes
    Occasion(**fields)


def bad(value: object) -> Any:
    """``value``, typed so a test may hand what the annotations forbid."""
    return value


@pytest.mark.parametrize(
    ("make", "field"),
    [
        pytest.param(lambda: _occasion(name=""), "name", id="blank-name"),
        pytest.param(lambda: _occasion(month=13), "day", id="month-13"),
        pytest.param(lambda: _occasion(month=0), "month", id="month-0"),
        pytest.param(lambda: _occasion(month="6"), "month", id="month-text"),
        pytest.param(lambda: _occasion(day=0), "day", id="day-0"),
        pytest.param(lambda: _occasion(month=4, day=31), "day", id="31-april"),
        pytest.param(lambda: _occasion(month=2, day=29, year=2023), "day", id="29-feb-common"),
        pytest.param(lambda: _occasion(year=0), "year", id="year-0"),
        pytest.param(lambda: _occasion(year=True), "year", id="year-bool"),
        pytest.param(
            lambda: next_occurrence(WEDDING, zone=PARIS, after=datetime(2026, 1, 1)),  # noqa: DTZ001
            "after",
            id="naive-after",
        ),
        pytest.param(
            lambda: next_occurrence(WEDDING, zone=bad("Europe/Paris"), after=JAN_1),
            "zone",
            id="zone-name",
        ),
        pytest.param(
            lambda: next_occurrence(WEDDING, zone=PARIS, after=JAN_1, at=time(9, tzinfo=UTC)),
            "at",
            id="aware-at",
        ),
        pytest.param(
            lambda: next_occurrence(bad("wedding"), zone=PARIS, after=JAN_1),
            "occasion",
            id="occasion-text",
        ),
        pytest.param(lambda: years(WEDDING, JAN_1), "on", id="years-on-datetime"),
        pytest.param(lambda: years(WEDDING, date(2016, 6, 13)), "on", id="before-it-began"),
        pytest.param(
            lambda: anniversary_of(datetime(2026, 1, 1), zone=PARIS),  # noqa: DTZ001
            "first",
            id="naive-first",
        ),
        pytest.param(lambda: anniversary_of(JAN_1, zone=PARIS, name=""), "name", id="no-name"),
        pytest.param(lambda: OccasionPolicy(ahead=-US), "ahead", id="ahead<0"),
        pytest.param(lambda: OccasionPolicy(ahead=timedelta(days=365)), "ahead", id="a-year"),
        pytest.param(lambda: OccasionPolicy(ahead=bad(3)), "ahead", id="ahead-int"),
        pytest.param(lambda: OccasionPolicy(birthday=bad(1)), "birthday", id="birthday-int"),
        pytest.param(lambda: OccasionPolicy(first_purchase=bad(None)), "first_purchase", id="fp"),
        pytest.param(lambda: OccasionPolicy(custom=bad("yes")), "custom", id="custom-text"),
        pytest.param(lambda: OccasionPolicy(at=time(9, tzinfo=UTC)), "at", id="policy-at"),
        pytest.param(lambda: OccasionPolicy(reason=" "), "reason", id="blank-reason"),
        pytest.param(
            lambda: OccasionPolicy().task_at(datetime(2026, 6, 14, 9)),  # noqa: DTZ001
            "moment",
            id="naive-moment",
        ),
    ],
)
def test_bad_input_is_rejected_naming_the_field(make: Any, field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        make()
    assert field == raised.value.field


class TestNextOccurrence:
    def test_it_comes_round_at_nine_on_the_local_day(self) -> None:
        expected = datetime(2026, 6, 14, 9, tzinfo=PARIS)
        assert expected == next_occurrence(WEDDING, zone=PARIS, after=JAN_1)

    @pytest.mark.parametrize(
        ("after", "expected_year"),
        [
            pytest.param(datetime(2026, 6, 14, 9, tzinfo=PARIS) - US, 2026, id="just-before"),
            pytest.param(datetime(2026, 6, 14, 9, tzinfo=PARIS), 2027, id="at-the-moment"),
            pytest.param(datetime(2026, 6, 14, 9, tzinfo=PARIS) + US, 2027, id="just-after"),
        ],
    )
    def test_it_is_strictly_after(self, after: datetime, expected_year: int) -> None:
        expected = datetime(expected_year, 6, 14, 9, tzinfo=PARIS)
        assert expected == next_occurrence(WEDDING, zone=PARIS, after=after)

    def test_after_this_years_it_comes_round_next_year(self) -> None:
        after = datetime(2026, 11, 30, tzinfo=UTC)
        expected = datetime(2027, 6, 14, 9, tzinfo=PARIS)
        assert expected == next_occurrence(WEDDING, zone=PARIS, after=after)

    def test_the_local_year_counts_not_the_utc_one(self) -> None:
        new_year = Occasion(name="first visit", month=1, day=1)
        # 23:30 on 31 December in New York is already 1 January in UTC: New Year's Day
        # in New York is still to come, half an hour on.
        after = datetime(2026, 12, 31, 23, 30, tzinfo=NEW_YORK)
        expected = datetime(2027, 1, 1, 9, tzinfo=NEW_YORK)
        assert expected == next_occurrence(new_year, zone=NEW_YORK, after=after)

    def test_the_hour_can_be_chosen(self) -> None:
        moment = next_occurrence(WEDDING, zone=PARIS, after=JAN_1, at=time(18, 30))
        assert "2026-06-14T18:30:00+02:00" == moment.isoformat()

    def test_it_does_not_come_round_before_it_began(self) -> None:
        engaged = Occasion(name="wedding anniversary", month=6, day=14, year=2030)
        expected = datetime(2030, 6, 14, 9, tzinfo=PARIS)
        assert expected == next_occurrence(engaged, zone=PARIS, after=JAN_1)


class TestTheTwentyNinthOfFebruary:
    @pytest.mark.parametrize(
        ("after", "expected"),
        [
            pytest.param(datetime(2027, 1, 1, tzinfo=UTC), date(2027, 2, 28), id="common"),
            pytest.param(datetime(2028, 1, 1, tzinfo=UTC), date(2028, 2, 29), id="leap"),
            pytest.param(datetime(2100, 1, 1, tzinfo=UTC), date(2100, 2, 28), id="century"),
            pytest.param(datetime(2000, 1, 1, tzinfo=UTC), date(2024, 2, 29), id="began"),
        ],
    )
    def test_it_falls_on_28_february_in_common_years(
        self, after: datetime, expected: date
    ) -> None:
        moment = next_occurrence(LEAP, zone=PARIS, after=after)
        assert (expected, time(9)) == (moment.date(), moment.time())

    def test_after_28_february_in_a_common_year_it_waits_for_the_leap_day(self) -> None:
        after = datetime(2027, 2, 28, 9, tzinfo=PARIS)
        expected = datetime(2028, 2, 29, 9, tzinfo=PARIS)
        assert expected == next_occurrence(LEAP, zone=PARIS, after=after)

    def test_a_customer_has_been_coming_a_year_on_28_february(self) -> None:
        assert [0, 1, 1] == [
            years(LEAP, day) for day in (date(2025, 2, 27), date(2025, 2, 28), date(2025, 3, 1))
        ]

    def test_in_a_leap_year_the_year_turns_on_the_29th(self) -> None:
        assert [3, 4] == [years(LEAP, day) for day in (date(2028, 2, 28), date(2028, 2, 29))]


class TestChangesOfTheClocks:
    @pytest.mark.parametrize(
        ("month", "day", "offset"),
        [
            pytest.param(3, 28, "+01:00", id="paris-before-spring"),
            pytest.param(3, 29, "+02:00", id="paris-spring-day"),
            pytest.param(3, 30, "+02:00", id="paris-after-spring"),
            pytest.param(10, 24, "+02:00", id="paris-before-autumn"),
            pytest.param(10, 25, "+01:00", id="paris-autumn-day"),
            pytest.param(10, 26, "+01:00", id="paris-after-autumn"),
        ],
    )
    def test_nine_oclock_on_either_side_of_a_change_is_nine_on_the_wall(
        self, month: int, day: int, offset: str
    ) -> None:
        occasion = Occasion(name="first visit", month=month, day=day)
        moment = next_occurrence(occasion, zone=PARIS, after=JAN_1)
        assert f"2026-{month:02d}-{day:02d}T09:00:00{offset}" == moment.isoformat()

    @pytest.mark.parametrize(
        ("day", "expected"),
        [
            pytest.param(date(2026, 3, 7), "2026-03-07T09:00:00-05:00", id="new-york-before"),
            pytest.param(date(2026, 3, 8), "2026-03-08T09:00:00-04:00", id="new-york-spring"),
            pytest.param(date(2026, 11, 1), "2026-11-01T09:00:00-05:00", id="new-york-autumn"),
        ],
    )
    def test_new_york_too(self, day: date, expected: str) -> None:
        occasion = Occasion(name="first visit", month=day.month, day=day.day)
        assert expected == next_occurrence(occasion, zone=NEW_YORK, after=JAN_1).isoformat()

    def test_an_hour_the_clocks_skip_is_the_moment_they_jump(self) -> None:
        occasion = Occasion(name="first visit", month=3, day=29)
        moment = next_occurrence(occasion, zone=PARIS, after=JAN_1, at=time(2, 30))
        assert "2026-03-29T03:00:00+02:00" == moment.isoformat()

    def test_an_hour_the_clocks_show_twice_is_the_first_of_them(self) -> None:
        occasion = Occasion(name="first visit", month=10, day=25)
        moment = next_occurrence(occasion, zone=PARIS, after=JAN_1, at=time(2, 30))
        # An hour shown twice never compares equal across zones (PEP 495): in UTC, then.
        assert datetime(2026, 10, 25, 0, 30, tzinfo=UTC) == moment.astimezone(UTC)


class TestAnniversaryOfTheFirstPurchase:
    def test_a_late_evening_purchase_counts_on_the_local_day(self) -> None:
        # 22:30 on 31 December 2025 in New York: 03:30 on 1 January 2026 in UTC.
        bought = datetime(2026, 1, 1, 3, 30, tzinfo=UTC)
        occasion = anniversary_of(bought, zone=NEW_YORK)
        expected = Occasion(name="anniversary of the first purchase", month=12, day=31, year=2025)
        assert expected == occasion

    def test_it_next_comes_round_a_year_on_at_nine_in_the_morning_there(self) -> None:
        bought = datetime(2026, 1, 1, 3, 30, tzinfo=UTC)
        occasion = anniversary_of(bought, zone=NEW_YORK)
        expected = datetime(2026, 12, 31, 9, tzinfo=NEW_YORK)
        assert expected == next_occurrence(occasion, zone=NEW_YORK, after=bought)
        assert 1 == years(occasion, expected.date())

    def test_the_same_moment_in_paris_is_new_years_day(self) -> None:
        bought = datetime(2026, 1, 1, 3, 30, tzinfo=UTC)
        assert (1, 1, 2026) == _day(anniversary_of(bought, zone=PARIS))

    def test_it_can_be_named(self) -> None:
        first_visit = anniversary_of(JAN_1, zone=PARIS, name="first visit")
        assert "first visit: 1 January, since 2026" == first_visit.describe()

    def test_a_first_purchase_on_a_leap_day_comes_round_on_28_february(self) -> None:
        occasion = anniversary_of(datetime(2024, 2, 29, 12, tzinfo=PARIS), zone=PARIS)
        moment = next_occurrence(occasion, zone=PARIS, after=datetime(2025, 1, 1, tzinfo=UTC))
        assert (date(2025, 2, 28), 1) == (moment.date(), years(occasion, moment.date()))


def _day(occasion: Occasion) -> tuple[int, int, int | None]:
    return occasion.month, occasion.day, occasion.year


class TestYears:
    @pytest.mark.parametrize(
        ("on", "expected"),
        [
            pytest.param(date(2026, 6, 13), 9, id="the-day-before"),
            pytest.param(date(2026, 6, 14), 10, id="on-the-day"),
            pytest.param(date(2026, 6, 15), 10, id="the-day-after"),
        ],
    )
    def test_the_count_turns_on_the_day(self, on: date, expected: int) -> None:
        assert expected == years(WEDDING, on)

    def test_it_is_0_on_the_day_it_began(self) -> None:
        assert 0 == years(WEDDING, date(2016, 6, 14))

    def test_without_a_year_there_is_no_count(self) -> None:
        assert years(Occasion(name="first visit", month=6, day=14), date(2026, 6, 14)) is None


class TestOccasionPolicy:
    def test_by_default_every_occasion_gets_a_task_three_days_ahead(self) -> None:
        expected = (
            "personal occasion: a task 3 days ahead of 09:00 on birthdays, anniversaries of"
            " the first purchase and dates added per customer"
        )
        assert expected == OccasionPolicy().describe()

    def test_a_policy_without_ahead_opens_the_task_at_the_hour(self) -> None:
        policy = OccasionPolicy(ahead=timedelta(0), birthday=False, custom=False, at=time(8))
        expected = "personal occasion: a task at 08:00 on anniversaries of the first purchase"
        assert expected == policy.describe()

    def test_a_policy_with_nothing_on_says_so(self) -> None:
        policy = OccasionPolicy(birthday=False, first_purchase=False, custom=False)
        assert "personal occasion: no occasions" == policy.describe()

    def test_the_task_is_due_ahead_of_the_occasion(self) -> None:
        moment = next_occurrence(WEDDING, zone=PARIS, after=JAN_1)
        assert datetime(2026, 6, 11, 9, tzinfo=PARIS) == OccasionPolicy().task_at(moment)

    def test_a_task_for_a_day_just_after_a_change_of_the_clocks_is_the_same_instant_before(
        self,
    ) -> None:
        moment = datetime(2026, 3, 30, 9, tzinfo=PARIS)
        task = OccasionPolicy(ahead=timedelta(days=3)).task_at(moment)
        assert moment - task == timedelta(days=3)


# -- properties --------------------------------------------------------------------------------

ZONES = [PARIS, NEW_YORK, zone("Asia/Tokyo"), zone("Australia/Sydney"), UTC]


@st.composite
def occasions(draw: st.DrawFn) -> Occasion:
    day = draw(st.dates(min_value=date(1990, 1, 1), max_value=date(2040, 12, 31)))
    year = draw(st.none() | st.just(day.year))
    return Occasion(name="x", month=day.month, day=day.day, year=year)


@given(
    occasion=occasions(),
    zone_=st.sampled_from(ZONES),
    after=st.datetimes(
        min_value=datetime(1990, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive
        max_value=datetime(2050, 1, 1),  # noqa: DTZ001
        timezones=st.just(UTC),
    ),
)
def test_the_next_occurrence_is_the_first_after_at_nine_local(
    occasion: Occasion, zone_: tzinfo, after: datetime
) -> None:
    moment = next_occurrence(occasion, zone=zone_, after=after)
    local = moment.astimezone(zone_)
    assert moment > after
    assert (occasion.in_year(local.year), time(9)) == (local.date(), local.time())
    if occasion.year is None or local.year > occasion.year:
        previous = datetime.combine(occasion.in_year(local.year - 1), time(9), tzinfo=zone_)
        assert previous <= after
    if occasion.year is not None:
        assert years(occasion, local.date()) == local.year - occasion.year
