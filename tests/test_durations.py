"""shift(): a moment moved by a duration, the same as dateutil's operators give."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from dateutil import tz
from dateutil.relativedelta import FR, relativedelta
from hypothesis import given
from hypothesis import strategies as st

from custbond._durations import shift
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
