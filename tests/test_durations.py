"""shift(): a moment moved by a duration, the same as dateutil's operators give (a time the
clocks skip written as the one after the jump, see test_calendar_gaps.py); shift_in():
the same on the calendar of a time zone; zone_named(): a checked IANA name."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo

import pytest
from dateutil import tz
from dateutil.relativedelta import FR, relativedelta
from hypothesis import given
from hypothesis import strategies as st

from custbond._durations import shift, shift_in, zone_named
from custbond.errors import InvalidInput

PARIS = tz.gettz("Europe/Paris")

plain_durations = st.builds(
    relativedelta,
    years=st.integers(-3, 3),
    months=st.integers(-30, 30),
    weeks=st.integers(-5, 5),
    days=st.integers(-400, 400),
    hours=st.integers(-50, 50),
    minutes=st.integers(-90, 90),
    seconds=st.integers(-90, 90),
    microseconds=st.integers(-(10**6), 10**6),
)
other_durations = st.one_of(
    st.builds(relativedelta, months=st.integers(-13, 13), day=st.integers(1, 31)),
    st.builds(relativedelta, months=st.integers(-13, 13), weekday=st.just(FR(-1))),
    st.builds(relativedelta, years=st.integers(-4, 4), leapdays=st.integers(-1, 1)),
    st.builds(relativedelta, hour=st.integers(0, 23), days=st.integers(-3, 3)),
    st.timedeltas(min_value=timedelta(days=-800), max_value=timedelta(days=800)),
)
moments = st.one_of(
    st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31)),
    st.datetimes(
        min_value=datetime(1990, 1, 1),  # noqa: DTZ001
        max_value=datetime(2100, 12, 31),  # noqa: DTZ001
        timezones=st.sampled_from([UTC, PARIS]),
    ),
)


@given(moment=moments, duration=st.one_of(plain_durations, other_durations), back=st.booleans())
def test_shift_gives_what_the_operators_give(
    moment: date, duration: relativedelta | timedelta, back: bool
) -> None:
    expected = moment - duration if back else moment + duration
    if isinstance(expected, datetime):
        expected = tz.resolve_imaginary(expected)  # 02:30 the clocks skip: 03:30

    shifted = shift(moment, duration, back=back)

    assert (expected, type(expected)) == (shifted, type(shifted))
    if isinstance(expected, datetime):
        assert expected.tzinfo is shifted.tzinfo  # type: ignore[attr-defined]


def test_a_month_from_the_31st_is_the_last_day_of_the_next_month() -> None:
    assert date(2028, 2, 29) == shift(date(2028, 1, 31), relativedelta(months=1))


@pytest.mark.parametrize(
    "duration", [relativedelta(years=1), timedelta(days=366), relativedelta(years=1, weekday=FR)]
)
def test_a_shift_out_of_the_calendar_is_invalid_input_naming_the_time(
    duration: relativedelta | timedelta,
) -> None:
    with pytest.raises(InvalidInput, match="within the years 1 to 9999") as raised:
        shift(date(9999, 6, 1), duration)

    assert ("at", date(9999, 6, 1)) == (raised.value.field, raised.value.value)


def test_a_timedelta_of_a_subclass_is_added_as_a_timedelta() -> None:
    class Days(timedelta):
        pass

    assert date(2026, 2, 1) == shift(date(2026, 1, 1), Days(days=31))


NEW_YORK = tz.gettz("America/New_York")


class TestShiftIn:
    @given(
        instant=st.datetimes(
            min_value=datetime(1990, 1, 1),  # noqa: DTZ001
            max_value=datetime(2100, 12, 31),  # noqa: DTZ001
            timezones=st.just(UTC),
        ),
        written_in=st.sampled_from([UTC, PARIS, NEW_YORK, tz.gettz("Asia/Kathmandu")]),
        zone=st.sampled_from([UTC, PARIS, NEW_YORK]),
        duration=plain_durations | other_durations.filter(lambda d: isinstance(d, relativedelta)),
        back=st.booleans(),
    )
    def test_a_calendar_duration_is_added_to_the_time_in_the_zone_whatever_the_tzinfo(
        self,
        *,
        instant: datetime,
        written_in: tzinfo,
        zone: tzinfo,
        duration: relativedelta,
        back: bool,
    ) -> None:
        local = instant.astimezone(zone)
        expected = local - duration if back else local + duration

        shifted = shift_in(instant.astimezone(written_in), duration, zone, back=back)

        assert expected.astimezone(UTC) == shifted.astimezone(UTC)
        assert written_in is shifted.tzinfo

    def test_an_exact_duration_is_added_on_the_wall_clock_it_is_written_in(self) -> None:
        # 30 days across the March change in New York: on its wall clock there, and as
        # elapsed time when written in UTC (the known design choice for timedelta).
        start = datetime(2026, 3, 1, 12, tzinfo=NEW_YORK)

        in_new_york = shift_in(start, timedelta(days=30), UTC)
        in_utc = shift_in(start.astimezone(UTC), timedelta(days=30), NEW_YORK)

        assert datetime(2026, 3, 31, 12, tzinfo=NEW_YORK) == in_new_york
        assert timedelta(hours=1) == in_utc - in_new_york

    def test_a_time_the_clocks_skip_comes_out_as_the_instant_as_long_after_the_jump(self) -> None:
        # 8 February, 02:30 in New York, a month later: 8 March, 02:30, which the clocks
        # skip (02:00 to 03:00): 03:30 EDT, 07:30 UTC.
        start = datetime(2026, 2, 8, 2, 30, tzinfo=NEW_YORK).astimezone(UTC)

        assert datetime(2026, 3, 8, 7, 30, tzinfo=UTC) == shift_in(
            start, relativedelta(months=1), NEW_YORK
        )

    def test_a_shift_out_of_the_calendar_in_the_zone_is_invalid_input_naming_the_time(
        self,
    ) -> None:
        late = datetime(9999, 12, 31, 20, tzinfo=UTC)  # already year 10000 in Tokyo

        with pytest.raises(InvalidInput, match="within the years 1 to 9999") as raised:
            shift_in(late, relativedelta(hours=1), tz.gettz("Asia/Tokyo"))

        assert ("at", late) == (raised.value.field, raised.value.value)


class TestZoneNamed:
    def test_an_iana_name_gives_dateutils_zone(self) -> None:
        assert tz.gettz("Europe/Paris") is zone_named("Europe/Paris")

    @pytest.mark.parametrize(
        "name",
        ["Europe/Pariss", "", "/etc/localtime", "../zoneinfo/UTC", None, 1],
        ids=repr,
    )
    def test_anything_else_is_invalid_input_naming_the_field(self, name: object) -> None:
        with pytest.raises(InvalidInput, match="an IANA time zone name") as raised:
            zone_named(name, "zone")

        assert ("zone", name) == (raised.value.field, raised.value.value)
