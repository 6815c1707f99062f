"""Calendar durations that land where the clocks change: a time the clocks skip (02:30 when
they jump from 02:00 to 03:00) or show twice (01:30 when they go back from 02:00 to 01:00).

What a duration gives is one instant, whatever tzinfo the host wrote the time in, and it is
written as a time that exists: Python compares two datetimes of one tzinfo by their wall
clocks, so a skipped 02:30 would sort before 03:15 that morning although, as an instant, it
is 03:30 (review 6a, finding 6: points written in the program's zone expired up to an hour
before their stated instant).
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from dateutil import tz
from dateutil.relativedelta import FR, SU, relativedelta
from hypothesis import given
from hypothesis import strategies as st

from custbond import FixedClock, PointsPolicy, Program, Purchase, RetentionService
from custbond._durations import shift, shift_in, zone_named
from custbond.bonds import Level, PunchCard, TierLadder
from custbond.bonds.tiers import Standing, upgrade
from custbond.vouchers import VoucherOffer
from stores import STORES

# Zones whose clocks jump and go back: by an hour at 02:00 (New York), at 01:00 UTC
# (London), by half an hour (Lord Howe), at 02:45 (Chatham), at midnight (Beirut, Santiago).
GAP_ZONES = [
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "Asia/Beirut",
    "America/Santiago",
]
NEW_YORK = zone_named("America/New_York")
LONDON = zone_named("Europe/London")

DURATIONS = st.one_of(
    st.builds(
        relativedelta,
        years=st.integers(-3, 3),
        months=st.integers(-30, 30),
        weeks=st.integers(-5, 5),
        days=st.integers(-40, 40),
        hours=st.integers(-50, 50),
        minutes=st.integers(-90, 90),
    ),
    st.builds(relativedelta, years=st.integers(-3, 3), months=st.integers(-30, 30)),
    st.builds(relativedelta, days=st.integers(-400, 400), hours=st.integers(-3, 3)),
    st.builds(relativedelta, months=st.integers(-13, 13), day=st.integers(1, 31)),
    st.builds(relativedelta, months=st.integers(-13, 13), weekday=st.sampled_from([FR(-1), SU])),
    st.builds(relativedelta, years=st.integers(-4, 4), leapdays=st.integers(-1, 1)),
    st.builds(relativedelta, hour=st.integers(0, 23), days=st.integers(-3, 3)),
)


@functools.cache
def _changes(name: str, year: int) -> tuple[datetime, ...]:
    """The wall clock times (naive) at which the clocks of ``name`` change in ``year``, as
    they read just before the change: found by reading the offset at noon UTC every day,
    then halving the day the offset changed in down to the second."""
    zone = zone_named(name)
    found = []
    day = datetime(year, 1, 1, 12, tzinfo=UTC)
    offset = day.astimezone(zone).utcoffset()
    while day.year == year:
        later = day + timedelta(days=1)
        later_offset = later.astimezone(zone).utcoffset()
        if later_offset != offset:
            low, high = day, later
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                if middle.astimezone(zone).utcoffset() == offset:
                    low = middle
                else:
                    high = middle
            assert offset is not None
            found.append((high + offset).replace(tzinfo=None, microsecond=0))
        day, offset = later, later_offset
    return tuple(found)


@st.composite
def _near_changes(draw: st.DrawFn) -> tuple[str, datetime]:
    """A zone with clock changes, and a wall clock time (naive) within 90 minutes of one."""
    name = draw(st.sampled_from(GAP_ZONES))
    year = draw(st.integers(2000, 2045))
    changes = _changes(name, year) or _changes(name, 2026)  # a year without: 2026's
    change = draw(st.sampled_from(changes))
    return name, change + draw(
        st.timedeltas(min_value=timedelta(minutes=-90), max_value=timedelta(minutes=90))
    )


def _written_in(instant: datetime, name: str) -> list[datetime]:
    """``instant`` as hosts may write it: in UTC, in the zone's own tzinfo (dateutil's and
    the standard library's), at its offset there, and in other zones."""
    local = instant.astimezone(zone_named(name))
    zones: list[tzinfo] = [
        UTC,
        tz.UTC,
        zone_named(name),
        ZoneInfo(name),
        timezone(local.utcoffset() or timedelta(0)),
        NEW_YORK,
        ZoneInfo("Europe/London"),
    ]
    return [instant.astimezone(zone) for zone in zones]


def _exists(moment: datetime) -> bool:
    return tz.datetime_exists(moment)


class TestShiftInNearClockChanges:
    @given(near=_near_changes(), duration=DURATIONS, back=st.booleans(), fold=st.booleans())
    def test_a_calendar_duration_gives_one_instant_that_exists_whatever_the_tzinfo(
        self, *, near: tuple[str, datetime], duration: relativedelta, back: bool, fold: bool
    ) -> None:
        # Start a duration away from the change, so that the answer lands near it, in the
        # hour the clocks skip or show twice as often as not.
        name, target = near
        zone = zone_named(name)
        try:
            start = target + duration if back else target - duration
            instant = start.replace(tzinfo=zone, fold=int(fold)).astimezone(UTC)
        except (OverflowError, ValueError):  # pragma: no cover - not within 2000 to 2045
            return
        local = instant.astimezone(zone)
        wall = (local - duration if back else local + duration) if duration else local
        expected = tz.resolve_imaginary(wall).astimezone(UTC)

        for moment in _written_in(instant, name):
            shifted = shift_in(moment, duration, zone, back=back)

            assert moment.tzinfo is shifted.tzinfo
            assert _exists(shifted), f"{shifted} written in {moment.tzinfo!r}"
            assert expected == shifted.astimezone(UTC), f"written in {moment.tzinfo!r}"

    @given(
        near=_near_changes(),
        duration=st.timedeltas(min_value=timedelta(days=-40), max_value=timedelta(days=40)),
        back=st.booleans(),
    )
    def test_an_exact_duration_gives_a_time_that_exists_on_the_wall_clock_it_is_written_in(
        self, *, near: tuple[str, datetime], duration: timedelta, back: bool
    ) -> None:
        name, target = near
        zone = zone_named(name)
        start = target + duration if back else target - duration
        instant = start.replace(tzinfo=zone).astimezone(UTC)

        for moment in _written_in(instant, name):
            shifted = shift_in(moment, duration, zone, back=back)
            wall = moment - duration if back else moment + duration

            assert moment.tzinfo is shifted.tzinfo
            assert _exists(shifted)
            # the instant Python's + gives (a skipped time read as the one after the jump)
            assert wall.astimezone(UTC) == shifted.astimezone(UTC)

    @pytest.mark.parametrize(
        "written_in", [NEW_YORK, UTC, ZoneInfo("America/New_York")], ids=["ny", "utc", "zoneinfo"]
    )
    def test_a_month_after_02_30_lands_in_the_skipped_hour_and_is_03_30_after_the_jump(
        self, written_in: tzinfo
    ) -> None:
        # 8 March 2026 in New York: the clocks jump from 02:00 to 03:00.
        start = datetime(2026, 2, 8, 2, 30, tzinfo=NEW_YORK).astimezone(written_in)

        shifted = shift_in(start, relativedelta(months=1), NEW_YORK)

        assert datetime(2026, 3, 8, 7, 30, tzinfo=UTC) == shifted.astimezone(UTC)
        assert _exists(shifted)
        quarter_past_three = datetime(2026, 3, 8, 7, 15, tzinfo=UTC).astimezone(written_in)
        assert quarter_past_three < shifted  # compared as written, too

    @pytest.mark.parametrize("written_in", [LONDON, UTC], ids=["london", "utc"])
    def test_months_from_the_second_01_30_into_a_skipped_hour_land_after_the_jump(
        self, written_in: tzinfo
    ) -> None:
        # 25 October 2026, 01:30 GMT, the second 01:30 that night in London; 2 years and 5
        # months later, 25 March 2029, 01:30 is skipped (01:00 to 02:00): 02:30 BST.
        second = datetime(2026, 10, 25, 1, 30, tzinfo=LONDON, fold=1).astimezone(written_in)

        shifted = shift_in(second, relativedelta(years=2, months=5), LONDON)

        assert datetime(2029, 3, 25, 1, 30, tzinfo=UTC) == shifted.astimezone(UTC)
        assert _exists(shifted)

    def test_a_time_written_in_the_skipped_hour_counts_as_the_instant_it_denotes(self) -> None:
        # 02:30 on 8 March 2026 in New York does not exist; Python reads it as 07:30 UTC
        # (03:30 EDT). A day later is 03:30 on 9 March, as from 07:30 UTC.
        skipped = datetime(2026, 3, 8, 2, 30, tzinfo=NEW_YORK)

        from_skipped = shift_in(skipped, relativedelta(days=1), NEW_YORK)
        from_utc = shift_in(skipped.astimezone(UTC), relativedelta(days=1), NEW_YORK)

        assert datetime(2026, 3, 9, 3, 30, tzinfo=NEW_YORK) == from_skipped
        assert from_utc == from_skipped.astimezone(UTC)

    def test_a_time_the_clocks_show_twice_is_the_first_after_a_calendar_duration(self) -> None:
        # 1 November 2026 in New York: 01:00 to 02:00 comes twice. A day after 01:30 on
        # 31 October is 01:30 EDT, the first, as Python reads 01:30 (fold=0) too.
        start = datetime(2026, 10, 31, 1, 30, tzinfo=NEW_YORK)

        for written in (start, start.astimezone(UTC)):
            shifted = shift_in(written, relativedelta(days=1), NEW_YORK)
            assert datetime(2026, 11, 1, 5, 30, tzinfo=UTC) == shifted.astimezone(UTC)


class TestShiftNearClockChanges:
    @given(
        near=_near_changes(),
        duration=DURATIONS | st.timedeltas(min_value=timedelta(-40), max_value=timedelta(40)),
        back=st.booleans(),
        standard=st.booleans(),
    )
    def test_a_shift_gives_the_operators_instant_as_a_time_that_exists(
        self,
        *,
        near: tuple[str, datetime],
        duration: relativedelta | timedelta,
        back: bool,
        standard: bool,
    ) -> None:
        name, wall = near
        zone = ZoneInfo(name) if standard else zone_named(name)
        moment = wall.replace(tzinfo=zone).astimezone(UTC).astimezone(zone)  # one that exists
        by_operator = moment - duration if back else moment + duration
        if isinstance(duration, relativedelta) and not duration:
            by_operator = moment  # no time at all: the same moment, the second 01:30 kept

        shifted = shift(moment, duration, back=back)

        assert zone is shifted.tzinfo
        assert _exists(shifted)
        assert by_operator.astimezone(UTC) == shifted.astimezone(UTC)

    def test_a_month_after_02_30_in_new_york_is_03_30_on_the_day_the_clocks_jump(self) -> None:
        shifted = shift(datetime(2026, 2, 8, 2, 30, tzinfo=NEW_YORK), relativedelta(months=1))

        assert datetime(2026, 3, 8, 3, 30, tzinfo=NEW_YORK) == shifted

    def test_an_hour_after_01_30_in_new_york_is_03_30_on_the_day_the_clocks_jump(self) -> None:
        shifted = shift(datetime(2026, 3, 8, 1, 30, tzinfo=NEW_YORK), timedelta(hours=1))

        assert datetime(2026, 3, 8, 3, 30, tzinfo=NEW_YORK) == shifted


# -- what the durations feed: expiry, validity, lapse, tier dates ------------------------


@pytest.fixture(params=STORES)
def make_store(request: pytest.FixtureRequest) -> Any:
    return request.param


SKIPPED_WRITERS = pytest.mark.parametrize(
    "written_in", [NEW_YORK, UTC, ZoneInfo("America/New_York")], ids=["ny", "utc", "zoneinfo"]
)
# Earned 8 February 2026, 02:30 in New York; a month later, 8 March, 02:30, is skipped:
# the points expire at 03:30 EDT, 07:30 UTC.
EARNED = datetime(2026, 2, 8, 2, 30, tzinfo=NEW_YORK)
EXPIRES = datetime(2026, 3, 8, 7, 30, tzinfo=UTC)


class TestWhatTheDurationsFeed:
    @SKIPPED_WRITERS
    def test_points_expiring_in_the_skipped_hour_last_until_their_instant_whatever_the_tzinfo(
        self, make_store: Any, written_in: tzinfo
    ) -> None:
        program = Program(
            time_zone="America/New_York",
            points=PointsPolicy(expire_after=relativedelta(months=1)),
        )
        clock = FixedClock(EARNED.astimezone(written_in))
        service = RetentionService(program, make_store(), clock=clock)
        purchase = Purchase(
            id="o-1",
            customer_id="ada",
            at=clock.now(),
            amount=Decimal("10.00"),
            currency="USD",
        )

        lot = service.record(purchase).entries[0].lot

        assert lot is not None
        assert EXPIRES == lot.expires_at.astimezone(UTC)
        assert _exists(lot.expires_at)
        clock.set((EXPIRES - timedelta(minutes=15)).astimezone(written_in))
        assert 10 == service.balance("ada").available
        clock.set(EXPIRES.astimezone(written_in))
        assert 0 == service.balance("ada").available

    @SKIPPED_WRITERS
    def test_a_voucher_valid_into_the_skipped_hour_is_valid_until_its_instant(
        self, written_in: tzinfo
    ) -> None:
        offer = VoucherOffer("free coffee", sku="latte", valid_for=relativedelta(months=1))

        voucher = offer.issue("C0DE", "x", EARNED.astimezone(written_in), "America/New_York")

        assert voucher.expires_at is not None
        assert EXPIRES == voucher.expires_at.astimezone(UTC)
        assert _exists(voucher.expires_at)
        assert (EXPIRES - timedelta(minutes=15)).astimezone(written_in) < voucher.expires_at

    @SKIPPED_WRITERS
    def test_a_card_lapsing_in_the_skipped_hour_has_not_lapsed_before_its_instant(
        self, written_in: tzinfo
    ) -> None:
        card = PunchCard(
            "coffee",
            stamps=10,
            reward=VoucherOffer("free coffee", sku="latte"),
            expire_after=relativedelta(months=1),
        )
        started = EARNED.astimezone(written_in)

        just_before = (EXPIRES - timedelta(minutes=15)).astimezone(written_in)
        assert not card.lapsed(started, just_before, "America/New_York")
        assert card.lapsed(started, EXPIRES.astimezone(written_in), "America/New_York")

    @SKIPPED_WRITERS
    def test_a_tier_kept_into_the_skipped_hour_is_kept_until_its_instant(
        self, written_in: tzinfo
    ) -> None:
        ladder = TierLadder(
            levels=[Level("silver", spend=Decimal(100))],
            window=relativedelta(months=1),
            keep_for=relativedelta(months=1),
            grace=relativedelta(days=3),
        )

        change, _ = upgrade(
            ladder,
            Standing(Decimal(150), 0, 1),
            tier=None,
            review_at=None,
            at=EARNED.astimezone(written_in),
            currency="USD",
            zone=NEW_YORK,
        )

        assert change is not None
        assert change.until is not None
        assert EXPIRES == change.until.astimezone(UTC)
        assert _exists(change.until)
        assert (EXPIRES - timedelta(minutes=15)).astimezone(written_in) < change.until

    @pytest.mark.parametrize("written_in", [zone_named("Asia/Beirut"), UTC], ids=["beirut", "utc"])
    def test_points_due_at_a_skipped_midnight_end_on_the_same_day_whatever_the_tzinfo(
        self, written_in: tzinfo
    ) -> None:
        # 29 March 2026 in Beirut starts at 01:00 (the clocks jump from 00:00). Two months
        # after midnight on 29 January is that skipped midnight, 01:00: through the end of
        # that day is midnight starting 30 March, written in Beirut time or in UTC.
        policy = PointsPolicy(expire_after=relativedelta(months=2), expire_at_end_of="day")
        earned = datetime(2026, 1, 29, tzinfo=zone_named("Asia/Beirut")).astimezone(written_in)

        expires = policy.expires_at(earned, "Asia/Beirut")

        assert expires is not None
        assert datetime(2026, 3, 29, 21, tzinfo=UTC) == expires.astimezone(UTC)
