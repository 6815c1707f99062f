"""Subscriptions, the structural bond: plans whose occurrences come in the customer's
local wall-clock time, and the pure verbs that subscribe, pause, skip, resume, cancel and
advance a subscription.

The coffee roaster's box comes on the last day of each month at 09:00 in Paris; a New
York club meets on Sunday nights, across both changes of the clocks."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, cast

import attrs
import pytest
from dateutil import tz
from hypothesis import given, settings
from hypothesis import strategies as st

from custbond.bonds.subscriptions import (
    MAX_CATCH_UP,
    Plan,
    Subscription,
    SubscriptionStatus,
    advance,
    cancel,
    pause,
    remind_at,
    resume,
    skip,
    subscribe,
    upcoming,
)
from custbond.errors import InvalidInput

PARIS = tz.gettz("Europe/Paris")
NEW_YORK = tz.gettz("America/New_York")
LAST_DAY_AT_9 = "FREQ=MONTHLY;BYMONTHDAY=-1;BYHOUR=9;BYMINUTE=0"
BOX = Plan(
    name="coffee box",
    every=LAST_DAY_AT_9,
    price=Decimal("19.90"),
    benefits=("exclusive content", "members' events"),
    remind_before=timedelta(days=3),
    template="box_reminder",
)
JAN_10 = datetime(2026, 1, 10, 12, tzinfo=UTC)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def paris(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, *, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=PARIS)


def box_subscription(at: datetime = JAN_10) -> Subscription:
    return subscribe(BOX, at=at, zone="Europe/Paris")


def days(moments: tuple[datetime, ...]) -> list[date]:
    return [moment.date() for moment in moments]


class TestPlan:
    def test_a_paid_plan_with_benefits_describes_itself(self) -> None:
        assert BOX.is_paid
        assert (
            "coffee box (19.90 each time): FREQ=MONTHLY;BYMONTHDAY=-1;BYHOUR=9;BYMINUTE=0, "
            "local time; benefits: exclusive content, members' events; "
            "a reminder 3 days before each"
        ) == BOX.describe()

    def test_a_plan_without_a_price_is_free(self) -> None:
        club = Plan(name="club", every="FREQ=WEEKLY;BYDAY=TH;BYHOUR=19")
        assert not club.is_paid
        assert "club (free): FREQ=WEEKLY;BYDAY=TH;BYHOUR=19, local time" == club.describe()

    def test_the_rrule_prefix_and_spaces_are_dropped(self) -> None:
        plan = Plan(name="box", every="  RRULE:FREQ=MONTHLY;BYMONTHDAY=1 ")
        assert "FREQ=MONTHLY;BYMONTHDAY=1" == plan.every

    @pytest.mark.parametrize(
        "every",
        [
            pytest.param("", id="empty"),
            pytest.param(42, id="not-a-string"),
            pytest.param("every day", id="not-an-rrule"),
            pytest.param("FREQ=SOMETIMES", id="unknown-frequency"),
            pytest.param("FREQ=HOURLY", id="hourly"),
            pytest.param("FREQ=MONTHLY;BYMONTHDAY=32", id="day-32"),
            pytest.param("FREQ=DAILY;FOO=1", id="unknown-part"),
            pytest.param("DTSTART:20260101T090000\nRRULE:FREQ=DAILY", id="dtstart"),
            pytest.param("FREQ=DAILY;DTSTART=20260101T090000", id="dtstart-inline"),
            pytest.param("FREQ=DAILY\nRDATE:20260105T090000", id="rdate"),
            pytest.param("FREQ=DAILY;UNTIL=20261231T000000Z", id="until-in-utc"),
            pytest.param("FREQ=DAILY;COUNT=3;UNTIL=20261231", id="count-and-until"),
            pytest.param("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", id="no-occurrences"),
        ],
    )
    def test_a_bad_rule_is_refused_naming_every(self, every: Any) -> None:
        with pytest.raises(InvalidInput) as error:
            Plan(name="box", every=every)
        assert "every" == error.value.field

    @pytest.mark.parametrize(
        "price",
        [
            pytest.param(19.9, id="float"),
            pytest.param(Decimal("-1"), id="negative"),
            pytest.param(Decimal("0"), id="zero"),
            pytest.param(20, id="int"),
            pytest.param("19.90", id="string"),
            pytest.param(Decimal("NaN"), id="nan"),
        ],
    )
    def test_a_price_that_is_not_a_positive_decimal_is_refused(self, price: Any) -> None:
        with pytest.raises(InvalidInput) as error:
            Plan(name="box", every=LAST_DAY_AT_9, price=price)
        assert "price" == error.value.field

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            pytest.param({"name": " box"}, "name", id="padded-name"),
            pytest.param({"benefits": "exclusive content"}, "benefits", id="bare-string"),
            pytest.param({"benefits": ("",)}, "benefits", id="empty-benefit"),
            pytest.param({"remind_before": timedelta(0)}, "remind_before", id="zero-reminder"),
            pytest.param({"remind_before": 3}, "remind_before", id="int-reminder"),
            pytest.param({"template": "box_reminder"}, "template", id="template-no-reminder"),
        ],
    )
    def test_other_bad_fields_are_refused(self, changes: dict[str, Any], field: str) -> None:
        with pytest.raises(InvalidInput) as error:
            Plan(**{"name": "box", "every": LAST_DAY_AT_9, **changes})
        assert field == error.value.field


class TestLocalWallClock:
    def test_the_box_comes_on_the_last_day_of_each_month_at_nine_in_paris(self) -> None:
        sub = box_subscription(paris(2026, 1, 1))
        moments = upcoming(sub, BOX, after=sub.started_at, count=12)
        winter, summer = timedelta(hours=1), timedelta(hours=2)
        expected = [
            (date(2026, 1, 31), winter),
            (date(2026, 2, 28), winter),
            (date(2026, 3, 31), summer),  # the clocks went forward on 29 March
            (date(2026, 4, 30), summer),
            (date(2026, 5, 31), summer),
            (date(2026, 6, 30), summer),
            (date(2026, 7, 31), summer),
            (date(2026, 8, 31), summer),
            (date(2026, 9, 30), summer),
            (date(2026, 10, 31), winter),  # and back on 25 October
            (date(2026, 11, 30), winter),
            (date(2026, 12, 31), winter),
        ]
        assert expected == [(moment.date(), moment.utcoffset()) for moment in moments]
        assert {(9, 0)} == {(moment.hour, moment.minute) for moment in moments}
        assert sub.next_at == moments[0]

    def test_in_a_leap_year_the_box_comes_on_29_february(self) -> None:
        sub = box_subscription(paris(2028, 1, 31, 10))
        assert [date(2028, 2, 29), date(2028, 3, 31)] == days(
            upcoming(sub, BOX, after=sub.started_at, count=2)
        )
        assert paris(2028, 2, 29, 9) == sub.next_at

    def test_a_monthly_rule_without_a_day_started_on_the_31st_skips_short_months(self) -> None:
        # What dateutil (and RFC 5545) do; the Plan docstring recommends BYMONTHDAY=-1.
        plan = Plan(name="box", every="FREQ=MONTHLY")
        sub = subscribe(plan, at=paris(2026, 1, 31, 8, 15), zone="Europe/Paris")
        assert [
            date(2026, 3, 31),
            date(2026, 5, 31),
            date(2026, 7, 31),
            date(2026, 8, 31),
        ] == days(upcoming(sub, plan, after=sub.started_at, count=4))

    def test_a_rule_without_an_hour_keeps_the_time_of_day_of_the_start(self) -> None:
        plan = Plan(name="box", every="FREQ=WEEKLY;BYDAY=MO")
        sub = subscribe(plan, at=paris(2026, 1, 5, 8, 15, second=42), zone="Europe/Paris")
        assert paris(2026, 1, 12, 8, 15) == sub.next_at

    def test_the_first_occurrence_is_strictly_after_the_start(self) -> None:
        just_before = box_subscription(paris(2026, 1, 31, 8, 59))
        at_it = box_subscription(paris(2026, 1, 31, 9, 0))
        just_after = box_subscription(paris(2026, 1, 31, 9, 1))
        assert paris(2026, 1, 31, 9) == just_before.next_at
        assert paris(2026, 2, 28, 9) == at_it.next_at
        assert paris(2026, 2, 28, 9) == just_after.next_at

    def test_the_zone_is_the_customers_whatever_zone_the_start_is_given_in(self) -> None:
        sub = subscribe(BOX, at=utc(2026, 1, 30, 23, 30), zone="Asia/Tokyo")
        assert "2026-01-31T09:00:00+09:00" == sub.next_at.isoformat()  # type: ignore[union-attr]

    def test_a_time_the_clocks_skip_comes_later_by_the_gap(self) -> None:
        plan = Plan(name="club", every="FREQ=WEEKLY;BYDAY=SU;BYHOUR=2;BYMINUTE=30")
        sub = subscribe(
            plan, at=datetime(2026, 3, 1, 12, tzinfo=NEW_YORK), zone="America/New_York"
        )
        spring, after = upcoming(sub, plan, after=sub.started_at, count=2)
        assert "2026-03-08T03:30:00-04:00" == spring.isoformat()
        assert "2026-03-15T02:30:00-04:00" == after.isoformat()

    def test_a_time_the_clocks_show_twice_comes_the_first_time_and_once(self) -> None:
        plan = Plan(name="club", every="FREQ=WEEKLY;BYDAY=SU;BYHOUR=1;BYMINUTE=30")
        sub = subscribe(plan, at=datetime(2026, 10, 30, tzinfo=NEW_YORK), zone="America/New_York")
        assert "2026-11-01T01:30:00-04:00" == sub.next_at.isoformat()  # type: ignore[union-attr]
        first, second = utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 6, 30)  # both 01:30 local
        sub, passed = advance(sub, plan, now=first)
        # In UTC: Python never finds a time in a repeated hour equal to one in another zone.
        assert [first] == [moment.astimezone(UTC) for moment in passed]
        assert () == advance(sub, plan, now=second)[1]
        assert "2026-11-08T01:30:00-05:00" == sub.next_at.isoformat()  # type: ignore[union-attr]

    def test_two_wall_times_the_gap_makes_one_moment_are_one_occurrence(self) -> None:
        plan = Plan(name="twice", every="FREQ=DAILY;BYHOUR=2,3;BYMINUTE=30")
        sub = subscribe(plan, at=datetime(2026, 3, 7, tzinfo=NEW_YORK), zone="America/New_York")
        moments = upcoming(sub, plan, after=sub.started_at, count=5)
        assert [
            "2026-03-07T02:30:00-05:00",
            "2026-03-07T03:30:00-05:00",
            "2026-03-08T03:30:00-04:00",
            "2026-03-09T02:30:00-04:00",
            "2026-03-09T03:30:00-04:00",
        ] == [moment.isoformat() for moment in moments]

    def test_a_fortnightly_rule_counts_its_weeks_from_the_start(self) -> None:
        plan = Plan(name="veg", every="FREQ=WEEKLY;INTERVAL=2;BYDAY=TH;BYHOUR=10")
        sub = subscribe(plan, at=paris(2026, 1, 1, 11), zone="Europe/Paris")
        assert [date(2026, 1, 15), date(2026, 1, 29), date(2026, 2, 12)] == days(
            upcoming(sub, plan, after=sub.started_at, count=3)
        )

    def test_a_rule_with_a_count_runs_out(self) -> None:
        plan = Plan(name="trial", every="FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;COUNT=3")
        sub = subscribe(plan, at=paris(2026, 1, 4), zone="Europe/Paris")
        sub, passed = advance(sub, plan, now=paris(2026, 6, 1))
        assert [date(2026, 1, 5), date(2026, 1, 12), date(2026, 1, 19)] == days(passed)
        assert sub.next_at is None
        assert () == upcoming(sub, plan, after=sub.started_at, count=5)


class TestUpcoming:
    def test_skipped_ones_and_those_in_a_pause_are_left_out(self) -> None:
        sub = skip(box_subscription(), BOX, on=date(2026, 1, 31))
        sub = pause(sub, BOX, at=JAN_10, until=paris(2026, 4, 1))
        assert [date(2026, 4, 30), date(2026, 5, 31)] == days(
            upcoming(sub, BOX, after=JAN_10, count=2)
        )

    def test_they_come_after_the_time_given(self) -> None:
        sub = box_subscription()
        assert [date(2026, 5, 31)] == days(
            upcoming(sub, BOX, after=paris(2026, 4, 30, 9), count=1)
        )

    def test_none_come_while_paused_until_resumed_or_once_cancelled(self) -> None:
        sub = box_subscription()
        paused = pause(sub, BOX, at=JAN_10, until=None)
        cancelled = cancel(sub, at=JAN_10, reason=None)
        assert () == upcoming(paused, BOX, after=JAN_10, count=3)
        assert () == upcoming(cancelled, BOX, after=JAN_10, count=3)

    @pytest.mark.parametrize("count", [0, -1, MAX_CATCH_UP + 1, True, "3"])
    def test_a_bad_count_is_refused(self, count: Any) -> None:
        with pytest.raises(InvalidInput) as error:
            upcoming(box_subscription(), BOX, after=JAN_10, count=count)
        assert "count" == error.value.field


class TestSkip:
    def test_skipping_the_next_one_moves_next_at_to_the_one_after(self) -> None:
        sub = skip(box_subscription(), BOX, on=date(2026, 1, 31))
        assert (paris(2026, 1, 31, 9),) == sub.skipped
        assert paris(2026, 2, 28, 9) == sub.next_at

    def test_skipping_twice_changes_nothing(self) -> None:
        once = skip(box_subscription(), BOX, on=date(2026, 3, 31))
        assert once == skip(once, BOX, on=date(2026, 3, 31))
        assert paris(2026, 1, 31, 9) == once.next_at

    def test_a_date_without_an_occurrence_is_refused_naming_the_next_ones(self) -> None:
        sub = skip(box_subscription(), BOX, on=date(2026, 1, 31))
        with pytest.raises(InvalidInput) as error:
            skip(sub, BOX, on=date(2026, 2, 27))
        assert "on" == error.value.field
        assert "an occurrence date such as 2026-02-28, 2026-03-31 or 2026-04-30" == (
            error.value.expected
        )

    def test_a_date_already_passed_is_refused(self) -> None:
        sub, _ = advance(box_subscription(), BOX, now=paris(2026, 2, 1))
        with pytest.raises(InvalidInput):
            skip(sub, BOX, on=date(2026, 1, 31))

    def test_a_datetime_is_not_a_date(self) -> None:
        with pytest.raises(InvalidInput) as error:
            skip(box_subscription(), BOX, on=paris(2026, 1, 31, 9))
        assert "on" == error.value.field

    def test_a_skip_while_paused_outlasts_an_early_resume(self) -> None:
        sub = pause(box_subscription(), BOX, at=JAN_10, until=None)
        sub = skip(sub, BOX, on=date(2026, 3, 31))
        sub = resume(sub, BOX, at=paris(2026, 3, 1))
        assert [date(2026, 4, 30)] == days(upcoming(sub, BOX, after=paris(2026, 3, 1), count=1))

    def test_skipped_dates_are_kept_sorted_and_once(self) -> None:
        sub = box_subscription()
        for day in (date(2026, 5, 31), date(2026, 3, 31), date(2026, 5, 31)):
            sub = skip(sub, BOX, on=day)
        assert (paris(2026, 3, 31, 9), paris(2026, 5, 31, 9)) == sub.skipped


class TestPauseAndResume:
    def test_a_pause_until_a_date_holds_back_the_occurrences_before_it(self) -> None:
        sub = pause(box_subscription(), BOX, at=JAN_10, until=paris(2026, 3, 31, 9))
        assert SubscriptionStatus.PAUSED == sub.status
        assert paris(2026, 3, 31, 9) == sub.next_at  # the pause ends as it comes
        sub, passed = advance(sub, BOX, now=paris(2026, 3, 1))
        assert () == passed
        assert SubscriptionStatus.PAUSED == sub.status

    def test_a_pause_ends_by_itself_when_its_time_comes(self) -> None:
        sub = pause(box_subscription(), BOX, at=JAN_10, until=paris(2026, 3, 15))
        sub, passed = advance(sub, BOX, now=paris(2026, 5, 1))
        assert [date(2026, 3, 31), date(2026, 4, 30)] == days(passed)
        assert SubscriptionStatus.ACTIVE == sub.status
        assert sub.paused_until is None
        assert 2 == sub.occurrences

    def test_a_pause_until_resumed_holds_everything_back(self) -> None:
        sub = pause(box_subscription(), BOX, at=JAN_10, until=None)
        assert sub.next_at is None
        sub, passed = advance(sub, BOX, now=paris(2026, 12, 1))
        assert () == passed
        assert SubscriptionStatus.PAUSED == sub.status

    def test_resuming_brings_the_first_occurrence_after_it_that_is_not_skipped(self) -> None:
        sub = pause(box_subscription(), BOX, at=JAN_10, until=None)
        sub = skip(sub, BOX, on=date(2026, 6, 30))
        sub, _ = advance(sub, BOX, now=paris(2026, 6, 1))
        sub = resume(sub, BOX, at=paris(2026, 6, 1))
        assert SubscriptionStatus.ACTIVE == sub.status
        assert paris(2026, 7, 31, 9) == sub.next_at

    def test_resuming_early_lets_the_rest_of_the_pause_happen(self) -> None:
        sub = pause(box_subscription(), BOX, at=JAN_10, until=paris(2026, 6, 1))
        sub = resume(sub, BOX, at=paris(2026, 2, 1))
        sub, passed = advance(sub, BOX, now=paris(2026, 4, 1))
        assert [date(2026, 2, 28), date(2026, 3, 31)] == days(passed)

    def test_resuming_an_active_subscription_changes_nothing(self) -> None:
        sub = box_subscription()
        assert sub == resume(sub, BOX, at=JAN_10)

    def test_pausing_again_sets_the_new_end(self) -> None:
        sub = pause(box_subscription(), BOX, at=JAN_10, until=paris(2026, 3, 1))
        sub = pause(sub, BOX, at=JAN_10, until=paris(2026, 5, 1))
        assert paris(2026, 5, 1) == sub.paused_until
        assert paris(2026, 5, 31, 9) == sub.next_at

    def test_a_pause_with_an_occurrence_due_and_not_handed_back_is_refused(self) -> None:
        sub = box_subscription()
        with pytest.raises(InvalidInput) as error:
            pause(sub, BOX, at=paris(2026, 2, 15), until=None)
        assert "at" == error.value.field
        sub, _ = advance(sub, BOX, now=paris(2026, 2, 15))
        assert (
            SubscriptionStatus.PAUSED == pause(sub, BOX, at=paris(2026, 2, 15), until=None).status
        )

    def test_a_pause_ending_before_it_starts_is_refused(self) -> None:
        with pytest.raises(InvalidInput) as error:
            pause(box_subscription(), BOX, at=paris(2026, 1, 20), until=paris(2026, 1, 20))
        assert "until" == error.value.field


class TestCancel:
    def test_a_cancelled_subscription_has_nothing_to_come(self) -> None:
        sub = skip(box_subscription(), BOX, on=date(2026, 2, 28))
        sub = cancel(sub, at=paris(2026, 1, 20), reason="moving abroad")
        assert SubscriptionStatus.CANCELLED == sub.status
        assert (paris(2026, 1, 20), "moving abroad") == (sub.cancelled_at, sub.cancel_reason)
        assert (None, ()) == (sub.next_at, sub.skipped)
        assert (sub, ()) == advance(sub, BOX, now=paris(2027, 1, 1))
        assert remind_at(sub, BOX) is None

    def test_cancelling_twice_returns_the_first_cancellation(self) -> None:
        once = cancel(box_subscription(), at=paris(2026, 1, 20), reason="too much coffee")
        assert once == cancel(once, at=paris(2026, 3, 1), reason=None)

    @pytest.mark.parametrize(
        "verb",
        [
            pytest.param(
                lambda sub: pause(sub, BOX, at=paris(2026, 2, 1), until=None), id="pause"
            ),
            pytest.param(lambda sub: resume(sub, BOX, at=paris(2026, 2, 1)), id="resume"),
            pytest.param(lambda sub: skip(sub, BOX, on=date(2026, 2, 28)), id="skip"),
        ],
    )
    def test_a_cancelled_subscription_cannot_be_changed(self, verb: Any) -> None:
        sub = cancel(box_subscription(), at=paris(2026, 1, 20), reason=None)
        before = attrs.evolve(sub)
        with pytest.raises(InvalidInput) as error:
            verb(sub)
        assert "status" == error.value.field
        assert before == sub

    def test_a_cancellation_with_an_occurrence_due_is_refused_until_advanced(self) -> None:
        sub = box_subscription()
        with pytest.raises(InvalidInput) as error:
            cancel(sub, at=paris(2026, 2, 1), reason=None)
        assert "at" == error.value.field
        sub, passed = advance(sub, BOX, now=paris(2026, 2, 1))
        assert [date(2026, 1, 31)] == days(passed)
        assert 1 == cancel(sub, at=paris(2026, 2, 1), reason=None).occurrences


class TestAdvance:
    def test_catching_up_after_months_hands_back_each_missed_occurrence_once(self) -> None:
        sub = skip(box_subscription(), BOX, on=date(2026, 4, 30))
        sub, passed = advance(sub, BOX, now=paris(2026, 9, 1))
        assert [
            date(2026, 1, 31),
            date(2026, 2, 28),
            date(2026, 3, 31),
            date(2026, 5, 31),
            date(2026, 6, 30),
            date(2026, 7, 31),
            date(2026, 8, 31),
        ] == days(passed)
        assert (7, paris(2026, 8, 31, 9)) == (sub.occurrences, sub.last_at)
        assert paris(2026, 9, 30, 9) == sub.next_at
        assert () == sub.skipped  # passed, so no longer kept

    def test_advancing_twice_to_the_same_time_hands_back_nothing_the_second_time(self) -> None:
        sub, first = advance(box_subscription(), BOX, now=paris(2026, 3, 1))
        again, second = advance(sub, BOX, now=paris(2026, 3, 1))
        assert 2 == len(first)
        assert () == second
        assert sub == again

    @pytest.mark.parametrize(
        ("now", "handed_back"),
        [
            pytest.param(paris(2026, 1, 31, 8, 59), 0, id="before"),
            pytest.param(paris(2026, 1, 31, 9), 1, id="at"),
            pytest.param(paris(2026, 1, 31, 9, 1), 1, id="after"),
        ],
    )
    def test_an_occurrence_passes_at_its_time(self, now: datetime, handed_back: int) -> None:
        assert handed_back == len(advance(box_subscription(), BOX, now=now)[1])

    def test_a_long_catch_up_comes_back_in_calls_of_at_most_the_limit(self) -> None:
        daily = Plan(name="daily tip", every="FREQ=DAILY;BYHOUR=8")
        sub = subscribe(daily, at=utc(2026, 1, 1), zone="UTC")
        now = utc(2029, 1, 1)
        sub, first = advance(sub, daily, now=now)
        assert MAX_CATCH_UP == len(first)
        assert sub.next_at is not None
        assert sub.next_at <= now
        sub, rest = advance(sub, daily, now=now)
        every_day = [date(2026, 1, 1) + timedelta(days=n) for n in range(3 * 365 + 1)]
        assert every_day == days(first + rest)
        assert () == advance(sub, daily, now=now)[1]

    def test_a_skip_past_the_limit_survives_a_capped_catch_up(self) -> None:
        daily = Plan(name="daily tip", every="FREQ=DAILY;BYHOUR=8")
        sub = subscribe(daily, at=utc(2026, 1, 1), zone="UTC")
        sub = skip(sub, daily, on=date(2028, 12, 25))
        sub, first = advance(sub, daily, now=utc(2029, 1, 1))
        assert (utc(2028, 12, 25, 8),) == sub.skipped
        sub, rest = advance(sub, daily, now=utc(2029, 1, 1))
        assert date(2028, 12, 25) not in days(first + rest)


class TestReminder:
    def test_the_reminder_comes_its_time_before_the_next_occurrence(self) -> None:
        assert paris(2026, 1, 28, 9) == remind_at(box_subscription(), BOX)

    def test_the_time_before_is_elapsed_time_across_a_change_of_the_clocks(self) -> None:
        sub, _ = advance(box_subscription(), BOX, now=paris(2026, 3, 1))
        reminder = remind_at(sub, BOX)  # three days before 31 March 09:00 (summer time)
        assert "2026-03-28T08:00:00+01:00" == reminder.isoformat()  # type: ignore[union-attr]

    def test_no_reminder_without_a_time_before_or_a_next_occurrence(self) -> None:
        plain = Plan(name="coffee box", every=LAST_DAY_AT_9)
        assert remind_at(box_subscription(), plain) is None
        paused = pause(box_subscription(), BOX, at=JAN_10, until=None)
        assert remind_at(paused, BOX) is None


NAIVE = datetime(2026, 2, 1)  # noqa: DTZ001 - the point of these tests


class TestBadInput:
    @pytest.mark.parametrize(
        ("call", "field"),
        [
            pytest.param(
                lambda sub: subscribe(BOX, at=NAIVE, zone="Europe/Paris"), "at", id="subscribe-at"
            ),
            pytest.param(
                lambda sub: subscribe(BOX, at=JAN_10, zone="Mars/Olympus"), "zone", id="zone"
            ),
            pytest.param(
                lambda sub: subscribe(cast(Plan, "box"), at=JAN_10, zone="UTC"),
                "plan",
                id="plan-name",
            ),
            pytest.param(lambda sub: advance(sub, BOX, now=NAIVE), "now", id="advance-now"),
            pytest.param(lambda sub: pause(sub, BOX, at=NAIVE, until=None), "at", id="pause-at"),
            pytest.param(lambda sub: pause(sub, BOX, at=JAN_10, until=NAIVE), "until", id="until"),
            pytest.param(lambda sub: resume(sub, BOX, at=NAIVE), "at", id="resume-at"),
            pytest.param(lambda sub: cancel(sub, at=NAIVE, reason=None), "at", id="cancel-at"),
            pytest.param(lambda sub: cancel(sub, at=JAN_10, reason=""), "reason", id="reason"),
            pytest.param(
                lambda sub: upcoming(sub, BOX, after=NAIVE, count=1), "after", id="after"
            ),
            pytest.param(
                lambda sub: skip(sub, BOX, on=cast(date, "2026-01-31")), "on", id="skip-text"
            ),
            pytest.param(
                lambda sub: advance(sub, Plan(name="other", every=LAST_DAY_AT_9), now=JAN_10),
                "plan",
                id="another-plan",
            ),
            pytest.param(
                lambda sub: advance(cast(Subscription, "sub"), BOX, now=JAN_10),
                "sub",
                id="not-a-sub",
            ),
            pytest.param(
                lambda sub: cancel(sub, at=paris(2026, 1, 1), reason=None), "at", id="before-start"
            ),
        ],
    )
    def test_a_bad_request_is_refused_and_changes_nothing(self, call: Any, field: str) -> None:
        sub = box_subscription()
        before = attrs.evolve(sub)
        with pytest.raises(InvalidInput) as error:
            call(sub)
        assert field == error.value.field
        assert before == sub

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            pytest.param({"status": "cancelled"}, "cancelled_at", id="cancelled-when-unknown"),
            pytest.param({"status": "done"}, "status", id="unknown-status"),
            pytest.param({"cancelled_at": JAN_10}, "cancelled_at", id="cancelled-at-while-active"),
            pytest.param({"cancel_reason": "bored"}, "cancel_reason", id="reason-while-active"),
            pytest.param({"paused_until": paris(2026, 3, 1)}, "paused_until", id="until-active"),
            pytest.param({"status": "paused"}, "next_at", id="paused-forever-with-next"),
            pytest.param({"occurrences": 2}, "last_at", id="count-without-last"),
            pytest.param({"occurrences": -1}, "occurrences", id="negative-count"),
            pytest.param({"last_at": paris(2026, 1, 20)}, "last_at", id="last-without-count"),
            pytest.param({"next_at": paris(2026, 1, 1)}, "next_at", id="next-before-start"),
            pytest.param({"next_at": NAIVE}, "next_at", id="naive-next"),
            pytest.param({"skipped": (paris(2026, 1, 31, 9),)}, "next_at", id="next-skipped"),
            pytest.param({"started_at": NAIVE}, "started_at", id="naive-start"),
        ],
    )
    def test_an_inconsistent_subscription_cannot_be_made(
        self, changes: dict[str, Any], field: str
    ) -> None:
        with pytest.raises(InvalidInput) as error:
            attrs.evolve(box_subscription(), **changes)
        assert field == error.value.field


# -- properties ----------------------------------------------------------------------------

PLANS = [
    BOX,
    Plan(name="veg", every="FREQ=WEEKLY;INTERVAL=2;BYDAY=TH;BYHOUR=10"),
    Plan(name="twice", every="FREQ=DAILY;BYHOUR=2,3;BYMINUTE=30"),
    Plan(name="weekend", every="FREQ=WEEKLY;BYDAY=SA,SU;BYHOUR=1;BYMINUTE=30"),
]
ZONES = ["Europe/Paris", "America/New_York", "Australia/Lord_Howe", "UTC"]
START = utc(2026, 1, 1)
HOUR = timedelta(hours=1)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[Plan, Subscription, list[datetime]]:
    """A subscription with a few skips and perhaps a pause, and the times it is advanced
    to, in order."""
    plan = draw(st.sampled_from(PLANS))
    at = START + draw(st.integers(0, 24 * 365)) * HOUR
    sub = subscribe(plan, at=at, zone=draw(st.sampled_from(ZONES)))
    coming = upcoming(sub, plan, after=at, count=12)
    zone = tz.gettz(sub.zone)
    for index in draw(st.lists(st.integers(0, len(coming) - 1), max_size=4)):
        sub = skip(sub, plan, on=coming[index].astimezone(zone).date())
    pause_for = draw(st.none() | st.integers(1, 24 * 90))
    if pause_for is not None:
        sub = pause(sub, plan, at=at, until=at + pause_for * HOUR)
    steps = draw(st.lists(st.integers(0, 24 * 60), min_size=1, max_size=8))
    times, now = [], at - 24 * HOUR
    for step in steps:
        now += step * HOUR
        times.append(now)
    return plan, sub, times


class TestProperties:
    @settings(max_examples=60, deadline=None)
    @given(scenarios())
    def test_advancing_step_by_step_is_advancing_at_once(
        self, scenario: tuple[Plan, Subscription, list[datetime]]
    ) -> None:
        plan, sub, times = scenario
        stepped, seen = sub, list[datetime]()
        for now in times:
            stepped, passed = advance(stepped, plan, now=now)
            seen.extend(passed)
        at_once, all_passed = advance(sub, plan, now=times[-1])
        assert at_once == stepped
        assert list(all_passed) == seen

    @settings(max_examples=60, deadline=None)
    @given(scenarios())
    def test_advance_hands_back_what_upcoming_promised(
        self, scenario: tuple[Plan, Subscription, list[datetime]]
    ) -> None:
        plan, sub, times = scenario
        now = times[-1]
        promised = upcoming(sub, plan, after=sub.started_at, count=MAX_CATCH_UP)
        moved, passed = advance(sub, plan, now=now)
        assert [moment for moment in promised if moment <= now] == list(passed)
        skipped = {moment.astimezone(UTC) for moment in sub.skipped}
        assert not skipped & {moment.astimezone(UTC) for moment in passed}
        assert sorted(passed, key=lambda moment: moment.astimezone(UTC)) == list(passed)
        assert len(set(passed)) == len(passed)
        assert moved.occurrences == len(passed)
        assert moved.next_at is None or moved.next_at > now
