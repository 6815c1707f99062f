"""Business hours (custbond.recovery.calendar): adding open time to a moment and counting
the open time between two, over weekends, breaks, closed dates and changes of the clocks.

Results are compared as ISO strings (which carry the UTC offset, so the two showings of a
repeated hour differ) or as UTC moments: aware datetimes of one zone compare by wall time,
and those in a repeated hour never equal a datetime of another zone (PEP 495)."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

import attrs
import pytest
from dateutil import tz
from hypothesis import given, settings
from hypothesis import strategies as st

from custbond.errors import InvalidInput
from custbond.recovery.calendar import BusinessCalendar

HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)
MICROSECOND = timedelta(microseconds=1)


def zone(name: str) -> tzinfo:
    found = tz.gettz(name)
    assert found is not None, name
    return found


LONDON = zone("Europe/London")
NEW_YORK = zone("America/New_York")

SHOP = BusinessCalendar("Europe/London", {"MO-FR": "09:00-17:30"})
ROUND_THE_CLOCK = {"MO-SU": "00:00-24:00"}


def london(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, *, micro: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, 0, micro, tzinfo=LONDON)


def new_york(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, *, fold: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=NEW_YORK, fold=fold)


def in_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


class TestAddingOpenTime:
    def test_a_complaint_on_friday_evening_is_due_on_monday(self) -> None:
        filed = london(2026, 3, 6, 18, 40)

        assert "2026-03-09T13:00:00+00:00" == SHOP.add(filed, 4 * HOUR).isoformat()

    def test_counting_starts_at_once_inside_hours(self) -> None:
        tuesday = london(2026, 3, 3, 10)

        assert "2026-03-03T13:00:00+00:00" == SHOP.add(tuesday, 3 * HOUR).isoformat()
        # 16:00 to the 17:30 closing is 1.5 hours; the rest is Wednesday morning.
        late = london(2026, 3, 3, 16)
        assert "2026-03-04T10:30:00+00:00" == SHOP.add(late, 3 * HOUR).isoformat()

    @pytest.mark.parametrize(
        ("minutes", "expected"),
        [
            (59, "2026-03-06T16:59:00+00:00"),
            (60, "2026-03-06T17:00:00+00:00"),
            (61, "2026-03-09T09:01:00+00:00"),
        ],
        ids=["before-closing", "at-closing", "after-closing"],
    )
    def test_a_duration_used_up_at_closing_ends_at_closing(
        self, minutes: int, expected: str
    ) -> None:
        shop = BusinessCalendar("Europe/London", {"MO-FR": "09:00-17:00"})
        friday = london(2026, 3, 6, 16)

        assert expected == shop.add(friday, minutes * MINUTE).isoformat()

    def test_a_lunch_break_is_not_counted(self) -> None:
        shop = BusinessCalendar("Europe/London", {"MO-FR": ("09:00-12:00", "13:00-17:00")})
        monday = london(2026, 3, 2, 11)

        assert "2026-03-02T14:00:00+00:00" == shop.add(monday, 2 * HOUR).isoformat()
        assert "2026-03-02T12:00:00+00:00" == shop.add(monday, HOUR).isoformat()
        assert 2 * HOUR == shop.between(monday, london(2026, 3, 2, 14))
        assert not shop.is_open(london(2026, 3, 2, 12, 30))

    def test_24_00_closes_at_midnight_at_the_end_of_the_day(self) -> None:
        late_bar = BusinessCalendar("Europe/London", {"FR": "22:00-24:00"})
        friday = london(2026, 3, 6, 23)

        assert "2026-03-07T00:00:00+00:00" == late_bar.add(friday, HOUR).isoformat()
        assert "2026-03-13T22:01:00+00:00" == late_bar.add(friday, HOUR + MINUTE).isoformat()
        assert not late_bar.is_open(london(2026, 3, 7))

    def test_a_night_runs_on_from_24_00_into_the_next_day(self) -> None:
        night = BusinessCalendar("Europe/London", {"FR": "20:00-24:00", "SA": "00:00-02:00"})
        friday = london(2026, 3, 6, 23)

        assert "2026-03-07T01:00:00+00:00" == night.add(friday, 2 * HOUR).isoformat()
        assert night.is_open(london(2026, 3, 7))
        assert 6 * HOUR == night.between(london(2026, 3, 6), london(2026, 3, 8))

    def test_a_zero_duration_ends_at_the_start_even_when_closed(self) -> None:
        saturday = datetime(2026, 3, 7, 12, tzinfo=UTC)

        result = SHOP.add(saturday, timedelta(0))

        assert saturday == result
        assert "2026-03-07T12:00:00+00:00" == result.isoformat()

    def test_results_are_in_the_calendars_time_zone(self) -> None:
        friday = datetime(2026, 6, 5, 17, 40, tzinfo=UTC)  # 18:40 in London

        result = SHOP.add(friday, 4 * HOUR)

        assert "2026-06-08T13:00:00+01:00" == result.isoformat()
        assert "2026-06-08T09:00:00+01:00" == SHOP.next_opening(friday).isoformat()

    def test_a_round_the_clock_calendar_is_wall_clock_arithmetic_away_from_dst(self) -> None:
        always = BusinessCalendar("Europe/London", ROUND_THE_CLOCK)
        start = london(2026, 7, 1, 10, 15)
        duration = timedelta(days=3, hours=5, minutes=7)

        assert start + duration == always.add(start, duration)
        assert duration == always.between(start, start + duration)


class TestOpening:
    @pytest.mark.parametrize(
        ("at", "expected"),
        [
            (london(2026, 3, 2, 8, 59), False),
            (london(2026, 3, 2, 9), True),
            (london(2026, 3, 2, 9, 1), True),
            (london(2026, 3, 2, 17, 29), True),
            (london(2026, 3, 2, 17, 30), False),
            (london(2026, 3, 2, 17, 31), False),
            (london(2026, 3, 7, 12), False),
        ],
        ids=["before-opening", "at-opening", "after-opening", "before-closing", "at-closing",
             "after-closing", "saturday"],
    )  # fmt: skip
    def test_is_open_from_the_opening_up_to_the_closing(
        self, at: datetime, expected: bool
    ) -> None:
        assert expected is SHOP.is_open(at)

    def test_the_next_opening_of_an_open_moment_is_itself(self) -> None:
        at = london(2026, 3, 3, 11, 22, micro=333_444)

        assert in_utc(at) == in_utc(SHOP.next_opening(at))

    @pytest.mark.parametrize(
        ("at", "expected"),
        [
            (london(2026, 3, 6, 17, 30), "2026-03-09T09:00:00+00:00"),
            (london(2026, 3, 7, 12), "2026-03-09T09:00:00+00:00"),
            (london(2026, 3, 9, 8, 59), "2026-03-09T09:00:00+00:00"),
            (london(2026, 3, 9, 17, 30), "2026-03-10T09:00:00+00:00"),
        ],
        ids=["friday-closing", "saturday", "monday-early", "monday-closing"],
    )
    def test_the_next_opening_of_a_closed_moment_is_the_next_span(
        self, at: datetime, expected: str
    ) -> None:
        assert expected == SHOP.next_opening(at).isoformat()


class TestOpenTimeBetween:
    def test_counts_only_the_open_hours(self) -> None:
        # Friday 16:00 to the 17:30 closing, then Monday 09:00 to 13:00.
        assert timedelta(hours=5, minutes=30) == SHOP.between(
            london(2026, 3, 6, 16), london(2026, 3, 9, 13)
        )

    def test_a_whole_week_counts_every_span_once(self) -> None:
        assert timedelta(hours=42, minutes=30) == SHOP.between(
            london(2026, 3, 2), london(2026, 3, 9)
        )

    def test_an_empty_range_has_no_open_time(self) -> None:
        at = london(2026, 3, 2, 10)

        assert timedelta(0) == SHOP.between(at, at)

    def test_the_start_is_counted_and_the_end_is_not(self) -> None:
        opening, closing = london(2026, 3, 2, 9), london(2026, 3, 2, 17, 30)

        assert MINUTE == SHOP.between(opening, opening + MINUTE)
        assert MINUTE == SHOP.between(closing - MINUTE, closing)
        assert timedelta(0) == SHOP.between(closing, closing + MINUTE)


class TestClosedDates:
    def test_a_bank_holiday_monday_pushes_the_target_to_tuesday(self) -> None:
        shop = BusinessCalendar(
            "Europe/London", {"MO-FR": "09:00-17:30"}, closed=[date(2026, 5, 4)]
        )
        filed = london(2026, 5, 1, 18, 40)

        assert "2026-05-05T13:00:00+01:00" == shop.add(filed, 4 * HOUR).isoformat()
        assert not shop.is_open(london(2026, 5, 4, 12))
        assert "2026-05-05T09:00:00+01:00" == shop.next_opening(filed).isoformat()

    def test_consecutive_closed_dates_are_all_skipped(self) -> None:
        christmas = [date(2026, 12, 24), date(2026, 12, 25), date(2026, 12, 28)]
        shop = BusinessCalendar("Europe/London", {"MO-FR": "09:00-17:30"}, closed=christmas)
        wednesday = london(2026, 12, 23, 17)

        # Half an hour on Wednesday, the other half on Tuesday the 29th.
        assert "2026-12-29T09:30:00+00:00" == shop.add(wednesday, HOUR).isoformat()
        assert HOUR == shop.between(wednesday, london(2026, 12, 29, 9, 30))

    def test_closed_dates_on_a_weekend_change_nothing(self) -> None:
        weekend = BusinessCalendar(
            "Europe/London",
            {"MO-FR": "09:00-17:30"},
            closed=[date(2026, 3, 7), date(2026, 3, 8)],
        )
        friday = london(2026, 3, 6, 16)

        assert SHOP.add(friday, 4 * HOUR) == weekend.add(friday, 4 * HOUR)
        assert SHOP.between(friday, london(2026, 3, 10)) == weekend.between(
            friday, london(2026, 3, 10)
        )

    def test_a_closed_date_is_a_local_day(self) -> None:
        always = BusinessCalendar("America/New_York", ROUND_THE_CLOCK, closed=[date(2026, 3, 4)])

        # 04:59 UTC on the 4th is still the 3rd in New York; 05:00 UTC is the 4th.
        assert always.is_open(datetime(2026, 3, 4, 4, 59, tzinfo=UTC))
        assert not always.is_open(datetime(2026, 3, 4, 5, tzinfo=UTC))
        assert (
            "2026-03-05T00:00:00-05:00"
            == always.next_opening(datetime(2026, 3, 4, 5, tzinfo=UTC)).isoformat()
        )


class TestDaylightSaving:
    @pytest.mark.parametrize(
        ("name", "friday", "expected"),
        [
            ("Europe/London", date(2026, 3, 27), "2026-03-30T10:00:00+01:00"),
            ("Europe/London", date(2026, 10, 23), "2026-10-26T10:00:00+00:00"),
            ("America/New_York", date(2026, 3, 6), "2026-03-09T10:00:00-04:00"),
            ("America/New_York", date(2026, 10, 30), "2026-11-02T10:00:00-05:00"),
        ],
        ids=["london-forward", "london-back", "new-york-forward", "new-york-back"],
    )
    def test_office_hours_are_not_affected_by_a_weekend_change(
        self, name: str, friday: date, expected: str
    ) -> None:
        office = BusinessCalendar(name, {"MO-FR": "09:00-17:00"})
        at = datetime(friday.year, friday.month, friday.day, 16, tzinfo=zone(name))
        monday = friday + timedelta(days=3)
        monday_end = datetime(monday.year, monday.month, monday.day, 17, tzinfo=zone(name))

        assert expected == office.add(at, 2 * HOUR).isoformat()
        assert 9 * HOUR == office.between(at, monday_end)

    @pytest.mark.parametrize(
        ("name", "day", "length"),
        [
            ("Europe/London", date(2026, 3, 29), 23 * HOUR),
            ("Europe/London", date(2026, 10, 25), 25 * HOUR),
            ("Europe/London", date(2026, 7, 5), 24 * HOUR),
            ("America/New_York", date(2026, 3, 8), 23 * HOUR),
            ("America/New_York", date(2026, 11, 1), 25 * HOUR),
        ],
        ids=["london-forward", "london-back", "london-summer", "new-york-forward",
             "new-york-back"],
    )  # fmt: skip
    def test_a_round_the_clock_day_counts_its_real_length(
        self, name: str, day: date, length: timedelta
    ) -> None:
        always = BusinessCalendar(name, ROUND_THE_CLOCK)
        midnight = datetime(day.year, day.month, day.day, tzinfo=zone(name))
        after = day + timedelta(days=1)
        next_midnight = datetime(after.year, after.month, after.day, tzinfo=zone(name))

        assert length == always.between(midnight, next_midnight)
        assert in_utc(next_midnight) == in_utc(always.add(midnight, length))
        assert next_midnight.isoformat() == always.add(midnight, length).isoformat()

    def test_an_hour_of_open_time_is_an_hour_of_real_time(self) -> None:
        always = BusinessCalendar("Europe/London", ROUND_THE_CLOCK)

        # The clocks go from 01:00 to 02:00: an hour after midnight they show 02:00.
        assert "2026-03-29T02:00:00+01:00" == always.add(london(2026, 3, 29), HOUR).isoformat()
        # From 00:30 to 03:30 on the clock is two hours, though both are London times
        # (which Python would subtract as wall times).
        assert 2 * HOUR == always.between(london(2026, 3, 29, 0, 30), london(2026, 3, 29, 3, 30))
        assert (
            "2026-03-29T03:30:00+01:00"
            == always.add(london(2026, 3, 29, 0, 30), 2 * HOUR).isoformat()
        )

    @pytest.mark.parametrize(
        ("name", "sunday", "opens", "closes", "length"),
        [
            # 01:30 is skipped: open from the jump (01:00 GMT is 02:00 BST).
            ("Europe/London", date(2026, 3, 29), "2026-03-29T02:00:00+01:00",
             "2026-03-29T03:30:00+01:00", 90 * MINUTE),
            # 01:30 is shown twice: open from the first, until 03:30 GMT.
            ("Europe/London", date(2026, 10, 25), "2026-10-25T01:30:00+01:00",
             "2026-10-25T03:30:00+00:00", 3 * HOUR),
            ("America/New_York", date(2026, 3, 8), "2026-03-08T01:30:00-05:00",
             "2026-03-08T03:30:00-04:00", HOUR),
            ("America/New_York", date(2026, 11, 1), "2026-11-01T01:30:00-04:00",
             "2026-11-01T03:30:00-05:00", 3 * HOUR),
        ],
        ids=["london-forward", "london-back", "new-york-forward", "new-york-back"],
    )  # fmt: skip
    def test_a_span_across_the_changing_hour_counts_its_real_length(
        self, name: str, sunday: date, opens: str, closes: str, length: timedelta
    ) -> None:
        night = BusinessCalendar(name, {"SU": "01:30-03:30"})
        before = sunday - timedelta(days=1)
        saturday = datetime(before.year, before.month, before.day, 12, tzinfo=zone(name))

        opening = night.next_opening(saturday)

        assert opens == opening.isoformat()
        assert closes == night.add(saturday, length).isoformat()
        assert length == night.between(saturday, saturday + timedelta(days=2))

    def test_a_span_ending_in_the_repeated_hour_closes_at_its_first_showing(self) -> None:
        night = BusinessCalendar("America/New_York", {"SU": "00:00-01:30"})

        assert night.is_open(new_york(2026, 11, 1, 1, 15))  # EDT, the first 01:15
        assert not night.is_open(new_york(2026, 11, 1, 1, 15, fold=1))  # EST, the second
        assert 90 * MINUTE == night.between(new_york(2026, 11, 1), new_york(2026, 11, 2))
        assert (
            "2026-11-01T01:30:00-04:00"
            == night.add(new_york(2026, 11, 1), 90 * MINUTE).isoformat()
        )

    def test_a_span_ending_in_the_skipped_hour_closes_when_the_clocks_jump(self) -> None:
        night = BusinessCalendar("America/New_York", {"SU": "00:00-02:30"})

        assert 2 * HOUR == night.between(new_york(2026, 3, 8), new_york(2026, 3, 9))
        assert "2026-03-08T03:00:00-04:00" == night.add(new_york(2026, 3, 8), 2 * HOUR).isoformat()

    def test_a_span_wholly_in_the_skipped_hour_is_not_open_that_night(self) -> None:
        night = BusinessCalendar("America/New_York", {"SU": "02:10-02:40"})
        saturday = new_york(2026, 3, 7, 12)

        assert "2026-03-15T02:10:00-04:00" == night.next_opening(saturday).isoformat()
        assert timedelta(0) == night.between(saturday, new_york(2026, 3, 9))


class TestSpellings:
    def test_calendars_written_differently_are_equal(self) -> None:
        plain = BusinessCalendar("Europe/London", {"MO-FR": "09:00-17:30"}, [date(2026, 5, 4)])
        spelled_out = BusinessCalendar(
            "Europe/London",
            {
                "mo": "09:00-17:30",
                "TU": ["09:00-12:00", "12:00-17:30"],
                " WE - FR ": ("09:00-17:30",),
                "SA": "",
                "SU": (),
            },
            closed={date(2026, 5, 4)},
        )

        assert plain == spelled_out
        assert hash(plain) == hash(spelled_out)

    def test_hours_are_stored_as_minutes_monday_first(self) -> None:
        calendar = BusinessCalendar(
            "UTC", {"SA": ("13:00-17:00", "09:00-12:00"), "SU": "00:00-24:00"}
        )

        assert ((), (), (), (), (), ((540, 720), (780, 1020)), ((0, 1440),)) == calendar.hours

    def test_evolve_keeps_the_hours_and_checks_them(self) -> None:
        holiday = attrs.evolve(SHOP, closed=[date(2026, 12, 25)])

        assert SHOP.hours == holiday.hours
        assert frozenset({date(2026, 12, 25)}) == holiday.closed
        with pytest.raises(InvalidInput) as raised:
            attrs.evolve(SHOP, hours=(((600, 540),),) + ((),) * 6)
        assert "hours['MO']" == raised.value.field

    @pytest.mark.parametrize(
        ("calendar", "expected"),
        [
            (
                BusinessCalendar(
                    "Europe/London",
                    {"MO-FR": "09:00-17:30", "SA": "10:00-14:00"},
                    closed=[date(2026, 12, 25), date(2026, 12, 26)],
                ),
                "Mon-Fri 09:00-17:30, Sat 10:00-14:00 (Europe/London), closed on 2 dates",
            ),
            (BusinessCalendar("UTC", ROUND_THE_CLOCK), "Mon-Sun 00:00-24:00 (UTC)"),
            (
                BusinessCalendar(
                    "Europe/Paris",
                    {"MO": ("09:00-12:00", "14:00-18:00"), "WE": ("09:00-12:00", "14:00-18:00")},
                    closed=[date(2026, 7, 14)],
                ),
                "Mon 09:00-12:00 and 14:00-18:00, Wed 09:00-12:00 and 14:00-18:00 "
                "(Europe/Paris), closed on 1 date",
            ),
        ],
        ids=["shop", "round-the-clock", "breaks-on-two-days"],
    )
    def test_describe_says_the_hours_in_words(
        self, calendar: BusinessCalendar, expected: str
    ) -> None:
        assert expected == calendar.describe()


def make(**changes: Any) -> BusinessCalendar:
    arguments: dict[str, Any] = {"time_zone": "Europe/London", "hours": {"MO-FR": "09:00-17:30"}}
    return BusinessCalendar(**(arguments | changes))


class TestBadInput:
    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"time_zone": "Mars/Olympus_Mons"}, "time_zone"),
            ({"time_zone": ""}, "time_zone"),
            ({"hours": {"MO-FR": "17:00-09:00"}}, "hours['MO-FR']"),
            ({"hours": {"MO": "12:00-12:00"}}, "hours['MO']"),
            ({"hours": {"MO": "25:00-26:00"}}, "hours['MO']"),
            ({"hours": {"MO": "24:00-24:00"}}, "hours['MO']"),
            ({"hours": {"MO": "09:00-24:30"}}, "hours['MO']"),
            ({"hours": {"MO": "09:60-17:00"}}, "hours['MO']"),
            ({"hours": {"MO": "9-17"}}, "hours['MO']"),
            ({"hours": {"MO": "09:00-12:00, 13:00-17:00"}}, "hours['MO']"),
            ({"hours": {"MO": ("09:00-13:00", "12:00-17:00")}}, "hours['MO']"),
            ({"hours": {"MO": ("09:00-17:00", "10:00-11:00")}}, "hours['MO']"),
            ({"hours": {"MO": ("09:00-12:00", "")}}, "hours['MO']"),
            ({"hours": {"MO": None}}, "hours['MO']"),
            ({"hours": {"MO": 9}}, "hours['MO']"),
            ({"hours": {"FR-MO": "09:00-17:00"}}, "hours key"),
            ({"hours": {"MO-FR": "09:00-17:00", "FR": "09:00-12:00"}}, "hours key"),
            ({"hours": {"Monday": "09:00-17:00"}}, "hours key"),
            ({"hours": {"XX": "09:00-17:00"}}, "hours key"),
            ({"hours": {1: "09:00-17:00"}}, "hours key"),
            ({"hours": {}}, "hours"),
            ({"hours": {"MO-SU": ""}}, "hours"),
            ({"hours": "MO-FR 09:00-17:00"}, "hours"),
            ({"hours": (((540, 1020),),)}, "hours"),
            ({"closed": [datetime(2026, 12, 25, tzinfo=UTC)]}, "closed"),
            ({"closed": ["2026-12-25"]}, "closed"),
            ({"closed": "2026-12-25"}, "closed"),
            ({"closed": date(2026, 12, 25)}, "closed"),
        ],
        ids=[
            "unknown-zone", "empty-zone", "ends-before-start", "empty-span", "hour-25",
            "starts-at-24", "ends-after-24", "minute-60", "no-minutes", "two-spans-in-one-text",
            "overlapping", "nested", "empty-span-in-sequence", "none", "number",
            "wrapping-range", "weekday-twice", "weekday-name", "unknown-weekday", "key-not-text",
            "no-days", "all-closed", "text-not-mapping", "six-days-short", "closed-datetime",
            "closed-text", "closed-one-text", "closed-one-date",
        ],
    )  # fmt: skip
    def test_a_bad_calendar_is_rejected_naming_the_field(
        self, changes: dict[str, Any], field: str
    ) -> None:
        with pytest.raises(InvalidInput) as raised:
            make(**changes)

        assert field == raised.value.field
        assert str(raised.value).startswith(f"{field} must be ")
        assert isinstance(raised.value, ValueError)

    def test_a_wrapping_range_says_how_to_write_it(self) -> None:
        with pytest.raises(InvalidInput, match="write 'FR-SU' and 'MO' as two keys"):
            make(hours={"FR-MO": "09:00-17:00"})

    def test_a_weekday_given_twice_names_both_keys(self) -> None:
        with pytest.raises(InvalidInput, match=r"FR is also in 'MO-FR'"):
            make(hours={"MO-FR": "09:00-17:00", "FR": "09:00-12:00"})

    def test_a_closed_datetime_says_a_date_was_expected(self) -> None:
        with pytest.raises(InvalidInput, match="not a datetime"):
            make(closed=[datetime(2026, 12, 25, tzinfo=UTC)])

    @pytest.mark.parametrize(
        ("call", "field"),
        [
            (lambda: SHOP.is_open(datetime(2026, 3, 2, 10)), "at"),  # noqa: DTZ001
            (lambda: SHOP.next_opening(datetime(2026, 3, 2, 10)), "at"),  # noqa: DTZ001
            (lambda: SHOP.add(datetime(2026, 3, 2, 10), HOUR), "start"),  # noqa: DTZ001
            (lambda: SHOP.between(datetime(2026, 3, 2, 10), london(2026, 3, 3)), "start"),  # noqa: DTZ001
            (lambda: SHOP.between(london(2026, 3, 2), datetime(2026, 3, 3)), "end"),  # noqa: DTZ001
            (lambda: SHOP.is_open(date(2026, 3, 2)), "at"),  # type: ignore[arg-type]
        ],
        ids=["is-open", "next-opening", "add", "between-start", "between-end", "a-date"],
    )
    def test_a_naive_datetime_is_rejected(self, call: Any, field: str) -> None:
        with pytest.raises(InvalidInput, match="timezone-aware") as raised:
            call()

        assert field == raised.value.field

    @pytest.mark.parametrize(
        "duration",
        [-MICROSECOND, 3600, None, timedelta.max],
        ids=["negative", "seconds-as-int", "none", "beyond-the-calendar"],
    )
    def test_a_bad_duration_is_rejected(self, duration: Any) -> None:
        with pytest.raises(InvalidInput) as raised:
            SHOP.add(london(2026, 3, 2, 10), duration)

        assert "duration" == raised.value.field

    def test_an_end_before_the_start_is_rejected(self) -> None:
        with pytest.raises(InvalidInput, match="at or after start") as raised:
            SHOP.between(london(2026, 3, 2, 10), london(2026, 3, 2, 9))

        assert "end" == raised.value.field

    def test_a_calendar_closed_for_20_years_is_never_open_after_the_start(self) -> None:
        mondays = [date(2026, 3, 2) + timedelta(weeks=week) for week in range(21 * 53)]
        calendar = BusinessCalendar("UTC", {"MO": "09:00-17:00"}, closed=mondays)
        start = datetime(2026, 3, 1, tzinfo=UTC)

        with pytest.raises(InvalidInput, match="opens again") as raised:
            calendar.add(start, HOUR)
        assert "start" == raised.value.field
        with pytest.raises(InvalidInput, match="opens again") as raised:
            calendar.next_opening(start)
        assert "at" == raised.value.field
        # Counting over a closed stretch is fine: it has an end.
        assert timedelta(0) == calendar.between(start, datetime(2047, 1, 1, tzinfo=UTC))
        assert not calendar.is_open(datetime(2030, 3, 4, 10, tzinfo=UTC))


# -- properties ---------------------------------------------------------------------------

CALENDAR_ZONES = ["UTC", "Europe/London", "America/New_York", "Australia/Lord_Howe"]
# Inputs come in any zone, of either library: the calendar converts them.
INPUT_ZONES = [
    UTC,
    zoneinfo.ZoneInfo("Europe/London"),
    zone("America/New_York"),
    zoneinfo.ZoneInfo("Asia/Kolkata"),
    zone("Australia/Lord_Howe"),
]
# Changes of the clocks in the calendar zones, where arithmetic goes wrong if anywhere.
CLOCK_CHANGES = [
    datetime(2026, 3, 29, 1, tzinfo=UTC),  # London forward
    datetime(2026, 10, 25, 1, tzinfo=UTC),  # London back
    datetime(2026, 3, 8, 7, tzinfo=UTC),  # New York forward
    datetime(2026, 11, 1, 6, tzinfo=UTC),  # New York back
    datetime(2026, 4, 4, 15, tzinfo=UTC),  # Lord Howe back half an hour
    datetime(2026, 10, 3, 15, 30, tzinfo=UTC),  # Lord Howe forward half an hour
]
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def quarter(index: int) -> str:
    hour, minute = divmod(index * 15, 60)
    return f"{hour:02d}:{minute:02d}"


@st.composite
def week_hours(draw: st.DrawFn) -> dict[str, tuple[str, ...]]:
    """Up to two spans a day, on quarter hours (so some start or end in a changing hour)."""
    week: dict[str, tuple[str, ...]] = {}
    for code in WEEKDAYS:
        cuts = sorted(draw(st.sets(st.integers(0, 96), max_size=4)))
        pairs = zip(cuts[::2], cuts[1::2], strict=False)
        week[code] = tuple(f"{quarter(start)}-{quarter(end)}" for start, end in pairs)
    if not any(week.values()):
        week["WE"] = ("09:00-17:00",)
    return week


moments = st.one_of(
    st.datetimes(
        min_value=datetime(2000, 1, 1),  # noqa: DTZ001 - bounds of aware datetimes
        max_value=datetime(2100, 1, 1),  # noqa: DTZ001
        timezones=st.sampled_from(INPUT_ZONES),
    ),
    st.builds(
        lambda change, minutes, where: (change + timedelta(minutes=minutes)).astimezone(where),
        st.sampled_from(CLOCK_CHANGES),
        st.integers(-4 * 24 * 60, 24 * 60),
        st.sampled_from(INPUT_ZONES),
    ),
)


@st.composite
def calendars(draw: st.DrawFn, near: datetime) -> BusinessCalendar:
    """A calendar, with some closed dates around ``near`` (where the test looks)."""
    offsets = draw(st.sets(st.integers(-2, 20), max_size=4))
    return BusinessCalendar(
        draw(st.sampled_from(CALENDAR_ZONES)),
        draw(week_hours()),
        closed={near.date() + timedelta(days=offset) for offset in offsets},
    )


def weekly(calendar: BusinessCalendar) -> int:
    """Open microseconds in a week, give or take a change of the clocks."""
    minutes = sum(end - start for day in calendar.hours for start, end in day)
    return minutes * 60 * 10**6


def durations(calendar: BusinessCalendar) -> st.SearchStrategy[timedelta]:
    """Up to two weeks of the calendar's open time, to the microsecond."""
    return st.integers(0, 2 * weekly(calendar)).map(lambda micro: timedelta(microseconds=micro))


EXAMPLES = settings(max_examples=40)


class TestProperties:
    @EXAMPLES
    @given(data=st.data(), start=moments)
    def test_the_open_time_up_to_add_is_the_duration(
        self, data: st.DataObject, start: datetime
    ) -> None:
        calendar = data.draw(calendars(start))
        duration = data.draw(durations(calendar))

        due = calendar.add(start, duration)

        assert in_utc(due) >= in_utc(start)
        assert duration == calendar.between(start, due)

    @EXAMPLES
    @given(data=st.data(), start=moments)
    def test_add_ends_in_open_time_or_at_a_closing(
        self, data: st.DataObject, start: datetime
    ) -> None:
        calendar = data.draw(calendars(start))
        duration = data.draw(durations(calendar).filter(bool))

        due = in_utc(calendar.add(start, duration))

        # The last microsecond counted was open, so ``due`` is inside a span or ends one.
        assert calendar.is_open(due - MICROSECOND)

    @EXAMPLES
    @given(data=st.data(), start=moments)
    def test_add_is_monotonic_in_the_duration(self, data: st.DataObject, start: datetime) -> None:
        calendar = data.draw(calendars(start))
        shorter, longer = sorted(data.draw(st.lists(durations(calendar), min_size=2, max_size=2)))

        assert in_utc(start) <= in_utc(calendar.add(start, shorter))
        assert in_utc(calendar.add(start, shorter)) <= in_utc(calendar.add(start, longer))

    @EXAMPLES
    @given(
        data=st.data(),
        first=moments,
        gaps=st.lists(st.integers(0, 10 * 24 * 60 * 60), min_size=2, max_size=2),
        where=st.lists(st.sampled_from(INPUT_ZONES), min_size=2, max_size=2),
    )
    def test_open_time_adds_up_over_consecutive_ranges(
        self, data: st.DataObject, first: datetime, gaps: list[int], where: list[tzinfo]
    ) -> None:
        calendar = data.draw(calendars(first))
        middle = (in_utc(first) + timedelta(seconds=gaps[0])).astimezone(where[0])
        last = (in_utc(middle) + timedelta(seconds=gaps[1])).astimezone(where[1])

        whole = calendar.between(first, last)

        assert whole == calendar.between(first, middle) + calendar.between(middle, last)
        assert timedelta(0) <= whole <= in_utc(last) - in_utc(first)

    @EXAMPLES
    @given(data=st.data(), at=moments)
    def test_the_next_opening_is_open(self, data: st.DataObject, at: datetime) -> None:
        calendar = data.draw(calendars(at))

        opening = calendar.next_opening(at)

        assert calendar.is_open(opening)
        assert in_utc(opening) >= in_utc(at)
        assert timedelta(0) == calendar.between(at, opening)
        assert calendar.is_open(at) == (in_utc(opening) == in_utc(at))

    @EXAMPLES
    @given(start=moments, seconds=st.integers(0, 30 * 24 * 60 * 60))
    def test_round_the_clock_in_utc_is_plain_arithmetic(
        self, start: datetime, seconds: int
    ) -> None:
        always = BusinessCalendar("UTC", ROUND_THE_CLOCK)
        duration = timedelta(seconds=seconds)

        assert in_utc(start) + duration == in_utc(always.add(start, duration))
        assert duration == always.between(start, in_utc(start) + duration)
