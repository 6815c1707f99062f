"""The points ledger: pure functions over Ledger values, and PointsPolicy."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from dateutil import tz
from dateutil.relativedelta import relativedelta

from custbond import (
    Balance,
    Entry,
    EntryKind,
    ExpiryRounding,
    InsufficientPoints,
    InvalidInput,
    Ledger,
    Lot,
    PointsPolicy,
)
from custbond.ledger import (
    adjust,
    balance,
    capture,
    earn,
    place_hold,
    redeem,
    release,
    restore,
    reverse,
    settle,
)

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
YEAR = relativedelta(years=1)
US = timedelta(microseconds=1)
PARIS = tz.gettz("Europe/Paris")
NEW_YORK = tz.gettz("America/New_York")


def _earn(
    ledger: Ledger,
    points: int,
    source: str,
    *,
    at: datetime = T0,
    available_at: datetime | None = None,
    expires_at: datetime | None = None,
    now: datetime | None = None,
) -> Ledger:
    ledger, _ = earn(
        ledger,
        points=points,
        source=source,
        earned_at=at,
        available_at=at if available_at is None else available_at,
        expires_at=expires_at,
        now=at if now is None else now,
    )
    return ledger


def _lots(ledger: Ledger) -> list[tuple[str, int]]:
    """The live lots, pending then available, as (source, remaining)."""
    return [(lot.source, lot.remaining) for lot in (*ledger.pending_lots, *ledger.available_lots)]


def _kinds(entries: tuple[Entry, ...]) -> list[tuple[EntryKind, int]]:
    return [(entry.kind, entry.points) for entry in entries]


def _drawn(entry: Entry) -> list[tuple[str, int]]:
    return [(draw.lot.source, draw.points) for draw in entry.draws]


def _check_invariants(ledger: Ledger, entries: list[Entry], at: datetime) -> Balance:
    """The balance equals the entries, and the lifetime counters add up."""
    now = balance(ledger, at)
    _, due = settle(ledger, at)
    everything = [*entries, *due]
    assert now.total == sum(entry.points for entry in everything)
    assert now.pending == sum(entry.pending for entry in everything)
    assert now.held == sum(entry.held for entry in everything)
    assert now.total == now.earned + now.adjusted - now.redeemed - now.expired - now.reversed
    assert [entry.seq for entry in everything] == list(range(1, len(everything) + 1))
    return now


def _three_lots() -> Ledger:
    """100 points each: 'late' expires 2027-06, 'soon' 2027-01, 'never' never expires."""
    ledger = _earn(Ledger(), 100, "late", expires_at=datetime(2027, 6, 1, tzinfo=UTC))
    ledger = _earn(ledger, 100, "soon", expires_at=datetime(2027, 1, 1, tzinfo=UTC))
    return _earn(ledger, 100, "never", expires_at=None)


# -- the policy -----------------------------------------------------------------------------


class TestPointsPolicy:
    def test_by_default_points_are_available_at_once_and_never_expire(self) -> None:
        policy = PointsPolicy()

        assert (T0, None, False) == (
            policy.available_at(T0),
            policy.expires_at(T0),
            policy.allow_negative,
        )

    def test_points_stay_pending_for_the_return_window(self) -> None:
        policy = PointsPolicy(pending_for=relativedelta(days=14))

        assert datetime(2026, 1, 19, 9, tzinfo=UTC) == policy.available_at(T0)

    @pytest.mark.parametrize(
        ("expire_after", "expected"),
        [
            (relativedelta(months=12), datetime(2027, 1, 5, 9, tzinfo=UTC)),
            (timedelta(days=30), datetime(2026, 2, 4, 9, tzinfo=UTC)),
            (relativedelta(months=1), datetime(2026, 2, 5, 9, tzinfo=UTC)),
        ],
        ids=["twelve-months", "thirty-days", "one-month"],
    )
    def test_points_expire_after_the_given_duration(
        self, expire_after: relativedelta | timedelta, expected: datetime
    ) -> None:
        assert expected == PointsPolicy(expire_after=expire_after).expires_at(T0)

    def test_a_month_from_the_31st_ends_on_the_last_day_of_a_shorter_month(self) -> None:
        earned = datetime(2026, 1, 31, 12, tzinfo=UTC)

        expiry = PointsPolicy(expire_after=relativedelta(months=1)).expires_at(earned)

        assert datetime(2026, 2, 28, 12, tzinfo=UTC) == expiry

    def test_expire_at_end_of_accepts_the_enum_or_its_name(self) -> None:
        by_name = PointsPolicy(expire_after=YEAR, expire_at_end_of="month")
        by_enum = PointsPolicy(expire_after=YEAR, expire_at_end_of=ExpiryRounding.MONTH)

        assert (ExpiryRounding.MONTH, by_enum) == (by_name.expire_at_end_of, by_name)

    @pytest.mark.parametrize(
        ("fields", "field"),
        [
            ({"expire_after": timedelta(0)}, "expire_after"),
            ({"expire_after": timedelta(days=-1)}, "expire_after"),
            ({"expire_after": relativedelta(months=-1)}, "expire_after"),
            ({"expire_after": relativedelta()}, "expire_after"),
            ({"expire_after": 365}, "expire_after"),
            ({"pending_for": timedelta(0)}, "pending_for"),
            ({"pending_for": "14 days"}, "pending_for"),
            ({"allow_negative": 1}, "allow_negative"),
            ({"allow_negative": None}, "allow_negative"),
            ({"expire_after": YEAR, "expire_at_end_of": "week"}, "expire_at_end_of"),
            ({"expire_at_end_of": "month"}, "expire_at_end_of"),
        ],
        ids=[
            "zero-expiry",
            "negative-expiry",
            "negative-months",
            "empty-relativedelta",
            "int-expiry",
            "zero-window",
            "string-window",
            "int-allow-negative",
            "none-allow-negative",
            "unknown-rounding",
            "rounding-without-expiry",
        ],
    )
    def test_bad_policies_are_rejected_by_field(
        self, fields: dict[str, object], field: str
    ) -> None:
        with pytest.raises(InvalidInput) as raised:
            PointsPolicy(**fields)  # type: ignore[arg-type]

        assert field == raised.value.field


def _local(zone: object, *args: int) -> datetime:
    return datetime(*args, tzinfo=zone)  # type: ignore[arg-type,misc]


class TestDurationsMustBeAmountsOfTime:
    @pytest.mark.parametrize(
        "duration",
        [
            relativedelta(day=15),
            relativedelta(weekday=0),
            relativedelta(months=1, days=-40),
            relativedelta(hour=0),
        ],
        ids=["absolute day", "absolute weekday", "negative part", "absolute hour"],
    )
    def test_a_duration_that_could_land_before_its_start_is_rejected(
        self, duration: relativedelta
    ) -> None:
        with pytest.raises(InvalidInput, match="expire_after"):
            PointsPolicy(expire_after=duration)


class TestExpiryRounding:
    """ "Valid through the end of the day/month/year", reckoned in the program's time zone."""

    def test_an_end_of_year_past_the_calendar_is_invalid_input(self) -> None:
        # Each part is within bounds: a time in 8999 and a duration under 1000 years.
        policy = PointsPolicy(expire_after=relativedelta(years=999), expire_at_end_of="year")
        earned = datetime(8999, 12, 31, 23, tzinfo=UTC)

        with pytest.raises(InvalidInput, match="within the years 1 to 9999") as raised:
            policy.expires_at(earned, "Pacific/Kiritimati")  # 9999 ends at 10000 there

        assert earned == raised.value.value

    @pytest.mark.parametrize(
        ("rounding", "expire_after", "earned", "zone", "expected_utc"),
        [
            # Paris springs forward on 29 March 2026: the day after still ends at midnight.
            (
                "day",
                relativedelta(days=1),
                _local(PARIS, 2026, 3, 28, 12),
                "Europe/Paris",
                datetime(2026, 3, 29, 22, tzinfo=UTC),
            ),
            # ... and falls back on 25 October 2026.
            (
                "day",
                relativedelta(days=1),
                _local(PARIS, 2026, 10, 24, 12),
                "Europe/Paris",
                datetime(2026, 10, 25, 23, tzinfo=UTC),
            ),
            # The end of March is in summer time, the end of October in winter time.
            (
                "month",
                relativedelta(months=1),
                datetime(2026, 2, 15, 12, tzinfo=UTC),
                "Europe/Paris",
                datetime(2026, 3, 31, 22, tzinfo=UTC),
            ),
            (
                "month",
                relativedelta(months=1),
                datetime(2026, 9, 15, 12, tzinfo=UTC),
                "Europe/Paris",
                datetime(2026, 10, 31, 23, tzinfo=UTC),
            ),
            # 23:30 UTC on 30 April is already 1 May in Paris: the end of May, not April.
            (
                "month",
                timedelta(minutes=30),
                datetime(2026, 4, 30, 23, 0, tzinfo=UTC),
                "Europe/Paris",
                datetime(2026, 5, 31, 22, tzinfo=UTC),
            ),
            (
                "year",
                relativedelta(months=6),
                datetime(2026, 6, 15, 12, tzinfo=UTC),
                "Europe/Paris",
                datetime(2026, 12, 31, 23, tzinfo=UTC),
            ),
            # New York springs forward on 8 March 2026 and falls back on 1 November 2026.
            (
                "day",
                relativedelta(days=1),
                _local(NEW_YORK, 2026, 3, 7, 12),
                "America/New_York",
                datetime(2026, 3, 9, 4, tzinfo=UTC),
            ),
            (
                "day",
                relativedelta(days=1),
                _local(NEW_YORK, 2026, 10, 31, 12),
                "America/New_York",
                datetime(2026, 11, 2, 5, tzinfo=UTC),
            ),
            (
                "month",
                relativedelta(days=1),
                _local(NEW_YORK, 2026, 2, 27, 12),
                "America/New_York",
                datetime(2026, 3, 1, 5, tzinfo=UTC),
            ),
            (
                "month",
                relativedelta(months=1),
                _local(NEW_YORK, 2026, 10, 10, 12),
                "America/New_York",
                datetime(2026, 12, 1, 5, tzinfo=UTC),
            ),
            # 02:00 UTC on 1 January 2027 is still 2026 in New York.
            (
                "year",
                timedelta(hours=1),
                datetime(2027, 1, 1, 1, tzinfo=UTC),
                "America/New_York",
                datetime(2027, 1, 1, 5, tzinfo=UTC),
            ),
            # In UTC itself.
            (
                "month",
                relativedelta(months=12),
                datetime(2026, 1, 15, 10, tzinfo=UTC),
                "UTC",
                datetime(2027, 2, 1, tzinfo=UTC),
            ),
        ],
        ids=[
            "paris-day-spring-forward",
            "paris-day-fall-back",
            "paris-month-summer",
            "paris-month-winter",
            "paris-month-local-date",
            "paris-year",
            "new-york-day-spring-forward",
            "new-york-day-fall-back",
            "new-york-month-february",
            "new-york-month-fall-back",
            "new-york-year-local-date",
            "utc-month",
        ],
    )
    def test_expiry_rounds_up_to_local_midnight_after_the_period(
        self,
        rounding: str,
        expire_after: relativedelta | timedelta,
        earned: datetime,
        zone: str,
        expected_utc: datetime,
    ) -> None:
        policy = PointsPolicy(expire_after=expire_after, expire_at_end_of=rounding)

        expiry = policy.expires_at(earned, zone)

        assert expiry is not None
        assert expected_utc == expiry
        local = expiry.astimezone(tz.gettz(zone))
        assert (0, 0) == (local.hour, local.minute)

    def test_the_rounded_expiry_is_given_in_the_programs_zone(self) -> None:
        policy = PointsPolicy(expire_after=relativedelta(months=1), expire_at_end_of="month")

        expiry = policy.expires_at(datetime(2026, 9, 15, 12, tzinfo=UTC), "Europe/Paris")

        assert expiry is not None
        assert timedelta(hours=1) == expiry.utcoffset()

    def test_a_local_midnight_that_does_not_exist_resolves_to_the_first_real_instant(
        self,
    ) -> None:
        # Santiago springs forward at midnight on 6 September 2026: 00:00 never happens.
        santiago = tz.gettz("America/Santiago")
        policy = PointsPolicy(expire_after=timedelta(hours=1), expire_at_end_of="day")

        expiry = policy.expires_at(_local(santiago, 2026, 9, 5, 12), "America/Santiago")

        assert expiry is not None
        assert datetime(2026, 9, 6, 4, tzinfo=UTC) == expiry
        assert tz.datetime_exists(expiry)

    @pytest.mark.parametrize(
        ("expiry_local", "expected_local"),
        [
            ((2026, 3, 30, 23, 59, 59), (2026, 3, 31, 0, 0, 0)),
            ((2026, 3, 31, 0, 0, 0), (2026, 3, 31, 0, 0, 0)),
            ((2026, 3, 31, 0, 0, 1), (2026, 4, 1, 0, 0, 0)),
        ],
        ids=["before-midnight", "at-midnight", "after-midnight"],
    )
    def test_an_expiry_at_local_midnight_is_already_the_end_of_a_day(
        self, expiry_local: tuple[int, ...], expected_local: tuple[int, ...]
    ) -> None:
        policy = PointsPolicy(expire_after=timedelta(days=1), expire_at_end_of="day")
        earned = _local(PARIS, *expiry_local) - timedelta(days=1)

        expiry = policy.expires_at(earned, "Europe/Paris")

        assert _local(PARIS, *expected_local) == expiry

    @pytest.mark.parametrize(
        ("rounding", "offset", "expected"),
        [
            ("month", -US, _local(PARIS, 2027, 1, 1)),
            ("month", timedelta(0), _local(PARIS, 2027, 1, 1)),
            ("month", US, _local(PARIS, 2027, 2, 1)),
            ("year", -US, _local(PARIS, 2027, 1, 1)),
            ("year", timedelta(0), _local(PARIS, 2027, 1, 1)),
            ("year", US, _local(PARIS, 2028, 1, 1)),
        ],
        ids=[
            "month-before-midnight",
            "month-at-midnight",
            "month-after-midnight",
            "year-before-midnight",
            "year-at-midnight",
            "year-after-midnight",
        ],
    )
    def test_an_expiry_already_at_the_start_of_a_period_is_not_pushed_a_period_later(
        self, rounding: str, offset: timedelta, expected: datetime
    ) -> None:
        policy = PointsPolicy(expire_after=relativedelta(months=12), expire_at_end_of=rounding)

        expiry = policy.expires_at(_local(PARIS, 2026, 1, 1) + offset, "Europe/Paris")

        assert expected == expiry


# -- earning --------------------------------------------------------------------------------


class TestEarn:
    def test_an_earning_is_a_lot_and_an_entry(self) -> None:
        expires = T0 + YEAR

        ledger, entries = earn(
            Ledger(),
            points=40,
            source="o-1",
            earned_at=T0,
            available_at=T0,
            expires_at=expires,
            now=T0,
        )

        lot = Lot(1, "o-1", 40, 40, T0, T0, expires)
        assert (lot,) == ledger.available_lots
        [entry] = entries
        assert (1, EntryKind.EARNED, T0, 40, "o-1", "earned", 0, 0, lot) == (
            entry.seq,
            entry.kind,
            entry.at,
            entry.points,
            entry.source,
            entry.reason,
            entry.pending,
            entry.held,
            entry.lot,
        )

    @pytest.mark.parametrize(
        ("available_at", "pending"),
        [(T0 - US, 0), (T0, 0), (T0 + US, 40)],
        ids=["before-now", "now", "after-now"],
    )
    def test_points_are_pending_only_while_available_at_is_in_the_future(
        self, available_at: datetime, pending: int
    ) -> None:
        ledger, entries = earn(
            Ledger(),
            points=40,
            source="o-1",
            earned_at=T0 - timedelta(days=1),
            available_at=available_at,
            expires_at=None,
            now=T0,
        )

        assert (pending, pending, 40 - pending) == (
            entries[0].pending,
            ledger.pending,
            ledger.available,
        )

    def test_the_earned_counter_counts_every_lot(self) -> None:
        ledger = _earn(Ledger(), 40, "o-1")
        ledger = _earn(ledger, 60, "o-2", available_at=T0 + timedelta(days=14))

        assert (100, 100) == (balance(ledger, T0).earned, balance(ledger, T0).total)

    @pytest.mark.parametrize("points", [0, -5, True, 1.0, "5"], ids=repr)
    def test_only_a_positive_int_can_be_earned(self, points: object) -> None:
        with pytest.raises(InvalidInput) as raised:
            earn(
                Ledger(),
                points=points,  # type: ignore[arg-type]
                source="o-1",
                earned_at=T0,
                available_at=T0,
                expires_at=None,
                now=T0,
            )

        assert "points" == raised.value.field

    def test_a_late_recorded_purchase_whose_points_have_expired_expires_at_once(self) -> None:
        earned = T0 - relativedelta(years=2)

        ledger, entries = earn(
            Ledger(),
            points=40,
            source="o-1",
            earned_at=earned,
            available_at=earned,
            expires_at=earned + YEAR,
            now=T0,
        )

        assert [(EntryKind.EARNED, 40), (EntryKind.EXPIRED, -40)] == _kinds(entries)
        assert (0, 40, ()) == (ledger.available, ledger.expired, ledger.available_lots)

    def test_the_input_ledger_is_left_as_it_was(self) -> None:
        before = _earn(Ledger(), 40, "o-1")
        copy = Ledger(
            before.pending_lots,
            before.available_lots,
            before.holds,
            before.total,
            before.pending,
            before.held,
            before.debt,
            before.earned,
            before.redeemed,
            before.expired,
            before.reversed,
            before.adjusted,
            before.next_seq,
            before.next_lot,
            before.next_due_at,
        )

        _earn(before, 60, "o-2")

        assert copy == before


# -- pending and expiry boundaries -----------------------------------------------------------


class TestPendingBoundary:
    """A lot can be spent from ``available_at``, inclusive."""

    AVAILABLE = T0 + timedelta(days=14)

    @pytest.mark.parametrize(
        ("at", "available", "pending"),
        [(AVAILABLE - US, 0, 100), (AVAILABLE, 100, 0), (AVAILABLE + US, 100, 0)],
        ids=["just-before", "at", "just-after"],
    )
    def test_pending_points_become_available_at_available_at(
        self, at: datetime, available: int, pending: int
    ) -> None:
        ledger = _earn(Ledger(), 100, "o-1", available_at=self.AVAILABLE)

        now = balance(ledger, at)

        assert (available, pending) == (now.available, now.pending)

    @pytest.mark.parametrize(
        ("at", "accepted"),
        [(AVAILABLE - US, False), (AVAILABLE, True), (AVAILABLE + US, True)],
        ids=["just-before", "at", "just-after"],
    )
    def test_pending_points_can_be_spent_from_available_at(
        self, at: datetime, accepted: bool
    ) -> None:
        ledger = _earn(Ledger(), 100, "o-1", available_at=self.AVAILABLE)

        if accepted:
            ledger, _ = redeem(ledger, points=100, source="r-1", now=at)
            assert 0 == ledger.total
        else:
            with pytest.raises(InsufficientPoints):
                redeem(ledger, points=100, source="r-1", now=at)

    def test_clearing_is_an_entry_stamped_at_available_at(self) -> None:
        ledger = _earn(Ledger(), 100, "o-1", available_at=self.AVAILABLE)

        _, entries = settle(ledger, self.AVAILABLE + timedelta(days=3))

        cleared = entries[0]
        assert (EntryKind.CLEARED, self.AVAILABLE, 0, -100, "o-1") == (
            cleared.kind,
            cleared.at,
            cleared.points,
            cleared.pending,
            cleared.source,
        )


class TestExpiryBoundary:
    """A lot can be spent until ``expires_at``, exclusive."""

    EXPIRES = T0 + YEAR

    @pytest.mark.parametrize(
        ("at", "available", "expired"),
        [(EXPIRES - US, 100, 0), (EXPIRES, 0, 100), (EXPIRES + US, 0, 100)],
        ids=["just-before", "at", "just-after"],
    )
    def test_points_expire_at_expires_at(self, at: datetime, available: int, expired: int) -> None:
        ledger = _earn(Ledger(), 100, "o-1", expires_at=self.EXPIRES)

        now = balance(ledger, at)

        assert (available, expired) == (now.available, now.expired)

    @pytest.mark.parametrize(
        ("at", "accepted"),
        [(EXPIRES - US, True), (EXPIRES, False), (EXPIRES + US, False)],
        ids=["just-before", "at", "just-after"],
    )
    def test_no_expired_point_is_ever_spent(self, at: datetime, accepted: bool) -> None:
        ledger = _earn(Ledger(), 100, "o-1", expires_at=self.EXPIRES)

        if accepted:
            ledger, _ = redeem(ledger, points=100, source="r-1", now=at)
            assert (100, 0) == (ledger.redeemed, ledger.expired)
        else:
            with pytest.raises(InsufficientPoints):
                redeem(ledger, points=1, source="r-1", now=at)

    def test_pending_points_can_expire_before_they_clear(self) -> None:
        ledger = _earn(
            Ledger(),
            100,
            "o-1",
            available_at=T0 + timedelta(days=30),
            expires_at=T0 + timedelta(days=10),
        )

        _, entries = settle(ledger, T0 + timedelta(days=40))

        assert [(EntryKind.EXPIRED, -100)] == _kinds(entries)
        assert (-100, T0 + timedelta(days=10)) == (entries[0].pending, entries[0].at)
        assert (0, 0, 100) == (
            balance(ledger, T0 + timedelta(days=40)).total,
            balance(ledger, T0 + timedelta(days=40)).pending,
            balance(ledger, T0 + timedelta(days=40)).expired,
        )

    def test_only_the_remaining_points_of_a_lot_expire(self) -> None:
        ledger = _earn(Ledger(), 100, "o-1", expires_at=self.EXPIRES)
        ledger, _ = redeem(ledger, points=30, source="r-1", now=T0)

        _, entries = settle(ledger, self.EXPIRES)

        assert [(EntryKind.EXPIRED, -70)] == _kinds(entries)


# -- spending -------------------------------------------------------------------------------


class TestRedeem:
    def test_redemption_consumes_the_soonest_expiring_lot_first(self) -> None:
        _, entries = redeem(_three_lots(), points=120, source="r-1", now=T0)

        assert [("soon", 100), ("late", 20)] == _drawn(entries[0])

    def test_lots_that_never_expire_are_spent_last(self) -> None:
        ledger, entries = redeem(_three_lots(), points=250, source="r-1", now=T0)

        assert [("soon", 100), ("late", 100), ("never", 50)] == _drawn(entries[0])
        assert [("never", 50)] == _lots(ledger)

    def test_lots_that_expire_together_are_spent_in_the_order_they_were_earned(self) -> None:
        expires = T0 + YEAR
        ledger = _earn(Ledger(), 10, "first", expires_at=expires)
        ledger = _earn(ledger, 10, "second", expires_at=expires)

        _, entries = redeem(ledger, points=15, source="r-1", now=T0)

        assert [("first", 10), ("second", 5)] == _drawn(entries[0])

    def test_a_lot_earned_later_but_expiring_sooner_is_spent_first(self) -> None:
        ledger = _earn(Ledger(), 10, "long", expires_at=T0 + relativedelta(years=2))
        ledger = _earn(
            ledger, 10, "short", at=T0 + timedelta(days=1), expires_at=T0 + relativedelta(months=1)
        )

        _, entries = redeem(ledger, points=10, source="r-1", now=T0 + timedelta(days=1))

        assert [("short", 10)] == _drawn(entries[0])

    def test_the_redemption_entry_records_what_was_spent(self) -> None:
        _, entries = redeem(_three_lots(), points=30, source="r-1", now=T0, reason="free coffee")

        entry = entries[0]
        assert (EntryKind.REDEEMED, T0, -30, "r-1", "free coffee", 0, 0) == (
            entry.kind,
            entry.at,
            entry.points,
            entry.source,
            entry.reason,
            entry.pending,
            entry.held,
        )

    @pytest.mark.parametrize(
        ("points", "accepted"),
        [(99, True), (100, True), (101, False)],
        ids=["less", "equal", "more"],
    )
    def test_a_customer_can_spend_up_to_what_is_available(
        self, points: int, accepted: bool
    ) -> None:
        ledger = _earn(Ledger(), 100, "o-1")

        if accepted:
            ledger, _ = redeem(ledger, points=points, source="r-1", now=T0)
            assert 100 - points == ledger.available
        else:
            with pytest.raises(InsufficientPoints) as raised:
                redeem(ledger, points=points, source="r-1", now=T0, customer_id="c-1")
            assert ("c-1", 101, 100) == (
                raised.value.customer_id,
                raised.value.requested,
                raised.value.available,
            )

    def test_pending_points_cannot_be_spent(self) -> None:
        ledger = _earn(Ledger(), 100, "o-1", available_at=T0 + timedelta(days=14))
        ledger = _earn(ledger, 10, "o-2")

        with pytest.raises(InsufficientPoints) as raised:
            redeem(ledger, points=11, source="r-1", now=T0)

        assert 10 == raised.value.available

    def test_held_points_cannot_be_spent(self) -> None:
        ledger = _earn(Ledger(), 100, "o-1")
        ledger, _ = place_hold(ledger, key="h-1", points=95, expires_at=T0 + YEAR, now=T0)

        with pytest.raises(InsufficientPoints):
            redeem(ledger, points=6, source="r-1", now=T0)

    @pytest.mark.parametrize("points", [0, -1, True], ids=repr)
    def test_only_a_positive_int_can_be_redeemed(self, points: object) -> None:
        with pytest.raises(InvalidInput):
            redeem(_three_lots(), points=points, source="r-1", now=T0)  # type: ignore[arg-type]


# -- holds ----------------------------------------------------------------------------------


class TestHolds:
    EXPIRES = T0 + timedelta(minutes=15)

    def _held(self, points: int = 60) -> Ledger:
        ledger, _ = place_hold(
            _three_lots(), key="h-1", points=points, expires_at=self.EXPIRES, now=T0
        )
        return ledger

    def test_a_hold_moves_available_points_to_held(self) -> None:
        ledger, entries = place_hold(
            _three_lots(), key="h-1", points=60, expires_at=self.EXPIRES, now=T0
        )

        now = balance(ledger, T0)
        assert (240, 60, 300) == (now.available, now.held, now.total)
        entry = entries[0]
        assert (EntryKind.HELD, 0, 60, "h-1", "h-1") == (
            entry.kind,
            entry.points,
            entry.held,
            entry.hold_key,
            entry.source,
        )
        assert [("soon", 60)] == _drawn(entry)

    @pytest.mark.parametrize(
        ("expires_at", "accepted"),
        [(T0 - US, False), (T0, False), (T0 + US, True)],
        ids=["before-now", "now", "after-now"],
    )
    def test_a_hold_must_expire_after_now(self, expires_at: datetime, accepted: bool) -> None:
        if accepted:
            ledger, _ = place_hold(
                _three_lots(), key="h-1", points=1, expires_at=expires_at, now=T0
            )
            assert 1 == ledger.held
        else:
            with pytest.raises(InvalidInput) as raised:
                place_hold(_three_lots(), key="h-1", points=1, expires_at=expires_at, now=T0)
            assert "expires_at" == raised.value.field

    def test_two_open_holds_cannot_share_a_key(self) -> None:
        with pytest.raises(InvalidInput) as raised:
            place_hold(self._held(), key="h-1", points=1, expires_at=self.EXPIRES, now=T0)

        assert "key" == raised.value.field

    @pytest.mark.parametrize(
        ("points", "accepted"),
        [(299, True), (300, True), (301, False)],
        ids=["less", "eq", "more"],
    )
    def test_a_hold_reserves_at_most_what_is_available(self, points: int, accepted: bool) -> None:
        if accepted:
            assert points == self._held(points).held
        else:
            with pytest.raises(InsufficientPoints):
                self._held(points)

    def test_capturing_all_of_a_hold_spends_it(self) -> None:
        ledger, entries, spent = capture(self._held(), key="h-1", points=60, now=T0)

        assert [(EntryKind.CAPTURED, -60)] == _kinds(entries)
        assert (-60, "h-1") == (entries[0].held, entries[0].hold_key)
        assert [("soon", 60)] == [(draw.lot.source, draw.points) for draw in spent]
        now = balance(ledger, T0)
        assert (240, 0, 60, {}) == (now.available, now.held, now.redeemed, ledger.holds)

    def test_capturing_part_of_a_hold_releases_the_rest_to_its_lots(self) -> None:
        ledger, entries, spent = capture(self._held(), key="h-1", points=25, now=T0)

        assert [(EntryKind.CAPTURED, -25), (EntryKind.RELEASED, 0)] == _kinds(entries)
        assert (-35, [("soon", 35)]) == (entries[1].held, _drawn(entries[1]))
        assert [("soon", 25)] == [(draw.lot.source, draw.points) for draw in spent]
        assert [("soon", 75), ("late", 100), ("never", 100)] == _lots(ledger)
        assert datetime(2027, 1, 1, tzinfo=UTC) == ledger.available_lots[0].expires_at

    def test_a_hold_spanning_lots_captures_the_soonest_expiring_first(self) -> None:
        ledger = self._held(150)

        _, entries, spent = capture(ledger, key="h-1", points=120, now=T0)

        assert [("soon", 100), ("late", 20)] == [(draw.lot.source, draw.points) for draw in spent]
        assert [("late", 30)] == _drawn(entries[1])

    @pytest.mark.parametrize(
        ("points", "accepted"), [(59, True), (60, True), (61, False)], ids=["less", "eq", "more"]
    )
    def test_a_capture_takes_at_most_what_is_held(self, points: int, accepted: bool) -> None:
        if accepted:
            ledger, _, _ = capture(self._held(), key="h-1", points=points, now=T0)
            assert 300 - points == ledger.total
        else:
            with pytest.raises(InvalidInput) as raised:
                capture(self._held(), key="h-1", points=points, now=T0)
            assert "points" == raised.value.field

    @pytest.mark.parametrize("points", [0, -1], ids=repr)
    def test_a_capture_takes_a_positive_number_of_points(self, points: int) -> None:
        with pytest.raises(InvalidInput):
            capture(self._held(), key="h-1", points=points, now=T0)

    def test_a_release_gives_the_points_back(self) -> None:
        ledger, entries = release(self._held(), key="h-1", now=T0)

        assert [(EntryKind.RELEASED, 0)] == _kinds(entries)
        assert (-60, "released") == (entries[0].held, entries[0].reason)
        assert (300, 0, {}) == (ledger.available, ledger.held, ledger.holds)
        assert [("soon", 100), ("late", 100), ("never", 100)] == _lots(ledger)

    @pytest.mark.parametrize(
        "resolve",
        [
            lambda ledger: release(ledger, key="h-1", now=T0),
            lambda ledger: capture(ledger, key="h-1", points=1, now=T0),
        ],
        ids=["release", "capture"],
    )
    def test_a_hold_resolves_once(self, resolve: Callable[[Ledger], object]) -> None:
        ledger, _ = release(self._held(), key="h-1", now=T0)

        with pytest.raises(InvalidInput) as raised:
            resolve(ledger)

        assert "key" == raised.value.field

    def test_an_unknown_hold_cannot_be_released(self) -> None:
        with pytest.raises(InvalidInput):
            release(_three_lots(), key="nope", now=T0)

    @pytest.mark.parametrize(
        ("at", "held"),
        [(EXPIRES - US, 60), (EXPIRES, 0), (EXPIRES + US, 0)],
        ids=["just-before", "at", "just-after"],
    )
    def test_an_expired_hold_releases_itself(self, at: datetime, held: int) -> None:
        now = balance(self._held(), at)

        assert (held, 300 - held) == (now.held, now.available)

    def test_the_self_release_is_an_entry_stamped_at_the_holds_expiry(self) -> None:
        _, entries = settle(self._held(), self.EXPIRES + timedelta(hours=1))

        assert [(EntryKind.RELEASED, 0)] == _kinds(entries)
        assert (self.EXPIRES, -60, "hold expired", "h-1") == (
            entries[0].at,
            entries[0].held,
            entries[0].reason,
            entries[0].hold_key,
        )

    def test_an_expired_hold_cannot_be_captured(self) -> None:
        with pytest.raises(InvalidInput):
            capture(self._held(), key="h-1", points=60, now=self.EXPIRES)

    def test_a_hold_never_outlives_the_points_it_reserves(self) -> None:
        lot_expiry = T0 + timedelta(days=1)
        ledger = _earn(Ledger(), 100, "o-1", expires_at=lot_expiry)

        ledger, _ = place_hold(
            ledger, key="h-1", points=40, expires_at=T0 + timedelta(days=2), now=T0
        )

        assert (lot_expiry, lot_expiry) == (ledger.holds["h-1"].expires_at, ledger.next_due_at)

    @pytest.mark.parametrize(
        ("at", "accepted"),
        [(T0 + timedelta(days=1) - US, True), (T0 + timedelta(days=1), False)],
        ids=["just-before-the-points-expire", "when-they-expire"],
    )
    def test_held_points_can_be_captured_only_until_they_expire(
        self, at: datetime, accepted: bool
    ) -> None:
        ledger = _earn(Ledger(), 100, "o-1", expires_at=T0 + timedelta(days=1))
        ledger, _ = place_hold(
            ledger, key="h-1", points=40, expires_at=T0 + timedelta(days=2), now=T0
        )

        if accepted:
            ledger, _, _ = capture(ledger, key="h-1", points=40, now=at)
            assert 40 == ledger.redeemed
        else:
            with pytest.raises(InvalidInput):
                capture(ledger, key="h-1", points=40, now=at)

    def test_held_points_whose_lot_expires_go_back_and_expire_with_it(self) -> None:
        lot_expiry = T0 + timedelta(days=1)
        ledger = _earn(Ledger(), 100, "o-1", expires_at=lot_expiry)
        ledger, _ = place_hold(
            ledger, key="h-1", points=40, expires_at=T0 + timedelta(days=2), now=T0
        )

        _, entries = settle(ledger, T0 + timedelta(days=3))

        assert [
            (EntryKind.RELEASED, 0, lot_expiry),
            (EntryKind.EXPIRED, -100, lot_expiry),
        ] == [(entry.kind, entry.points, entry.at) for entry in entries]
        now = balance(ledger, T0 + timedelta(days=3))
        assert (0, 0, 100) == (now.total, now.held, now.expired)

    def test_points_given_back_at_the_moment_their_lot_expires_expire(self) -> None:
        both = T0 + timedelta(days=1)
        ledger = _earn(Ledger(), 100, "o-1", expires_at=both)
        ledger, _ = place_hold(ledger, key="h-1", points=40, expires_at=both, now=T0)

        _, entries = settle(ledger, both)

        assert [(EntryKind.RELEASED, 0), (EntryKind.EXPIRED, -100)] == _kinds(entries)


# -- returns --------------------------------------------------------------------------------


class TestReverse:
    def test_a_reversal_takes_the_purchases_pending_points_first(self) -> None:
        ledger = _earn(Ledger(), 100, "o-1", available_at=T0 + timedelta(days=14))
        ledger = _earn(ledger, 50, "o-2")
        lots = (ledger.pending_lots[0],)

        ledger, entries = reverse(
            ledger, points=30, lots=lots, source="ret-1", at=T0, now=T0, allow_negative=False
        )

        assert [(EntryKind.REVERSED, -30)] == _kinds(entries)
        assert (-30, [("o-1", 30)]) == (entries[0].pending, _drawn(entries[0]))
        assert (70, 50, 30) == (ledger.pending, ledger.available, ledger.reversed)

    def test_among_a_purchases_lots_pending_ones_go_before_available_ones(self) -> None:
        ledger = _earn(Ledger(), 10, "o-1a")
        ledger = _earn(ledger, 10, "o-1b", available_at=T0 + timedelta(days=14))
        lots = (*ledger.available_lots, *ledger.pending_lots)

        _, entries = reverse(
            ledger, points=15, lots=lots, source="ret-1", at=T0, now=T0, allow_negative=False
        )

        assert ([("o-1b", 10), ("o-1a", 5)], -10) == (_drawn(entries[0]), entries[0].pending)

    def test_points_of_the_purchase_already_spent_come_from_other_lots(self) -> None:
        ledger = _earn(Ledger(), 100, "o-1", expires_at=T0 + relativedelta(months=1))
        lot = ledger.available_lots[0]
        ledger = _earn(ledger, 100, "o-2", expires_at=T0 + YEAR)
        ledger = _earn(ledger, 100, "o-3", available_at=T0 + timedelta(days=14))
        ledger, _ = redeem(ledger, points=80, source="r-1", now=T0)

        ledger, entries = reverse(
            ledger,
            points=100,
            lots=(lot,),
            source="ret-1",
            at=T0,
            now=T0,
            allow_negative=False,
        )

        assert [("o-1", 20), ("o-2", 80)] == _drawn(entries[0])
        assert [("o-3", 100), ("o-2", 20)] == _lots(ledger)

    def test_other_pending_points_are_taken_last(self) -> None:
        ledger = _earn(Ledger(), 100, "o-1")
        lot = ledger.available_lots[0]
        ledger = _earn(ledger, 100, "o-2", available_at=T0 + timedelta(days=14))
        ledger, _ = redeem(ledger, points=100, source="r-1", now=T0)

        ledger, entries = reverse(
            ledger, points=60, lots=(lot,), source="ret-1", at=T0, now=T0, allow_negative=False
        )

        assert ([("o-2", 60)], -60) == (_drawn(entries[0]), entries[0].pending)
        assert (40, 0) == (ledger.pending, ledger.available)

    def test_without_allow_negative_the_shortfall_is_recorded_and_forgiven(self) -> None:
        ledger = _earn(Ledger(), 100, "o-1")
        lot = ledger.available_lots[0]
        ledger, _ = redeem(ledger, points=70, source="r-1", now=T0)
        returned_at = T0 + timedelta(days=2)

        ledger, entries = reverse(
            ledger,
            points=100,
            lots=(lot,),
            source="ret-1",
            at=returned_at,
            now=returned_at,
            allow_negative=False,
        )

        assert [(EntryKind.REVERSED, -30), (EntryKind.SHORTFALL, 0)] == _kinds(entries)
        assert (70, "ret-1", returned_at) == (
            entries[1].uncollected,
            entries[1].source,
            entries[1].at,
        )
        assert (0, 30, 0) == (ledger.available, ledger.reversed, ledger.debt)

    def test_with_allow_negative_the_balance_goes_below_zero(self) -> None:
        ledger = _earn(Ledger(), 100, "o-1")
        lot = ledger.available_lots[0]
        ledger, _ = redeem(ledger, points=70, source="r-1", now=T0)

        ledger, entries = reverse(
            ledger, points=100, lots=(lot,), source="ret-1", at=T0, now=T0, allow_negative=True
        )

        assert [(EntryKind.REVERSED, -100)] == _kinds(entries)
        now = balance(ledger, T0)
        assert (-70, 100, -70) == (now.available, now.reversed, now.total)

    def test_a_negative_balance_is_paid_off_by_new_points_first(self) -> None:
        ledger = _earn(Ledger(), 100, "o-1")
        lot = ledger.available_lots[0]
        ledger, _ = redeem(ledger, points=100, source="r-1", now=T0)
        ledger, _ = reverse(
            ledger, points=100, lots=(lot,), source="ret-1", at=T0, now=T0, allow_negative=True
        )
        entries: list[Entry] = []

        ledger, written = earn(
            ledger,
            points=30,
            source="o-2",
            earned_at=T0,
            available_at=T0,
            expires_at=None,
            now=T0,
        )
        entries.extend(written)
        assert [(EntryKind.EARNED, 30), (EntryKind.REPAID, 0)] == _kinds(written)
        assert (-70, []) == (ledger.available, _lots(ledger))

        ledger, written = earn(
            ledger,
            points=100,
            source="o-3",
            earned_at=T0,
            available_at=T0,
            expires_at=None,
            now=T0,
        )
        assert (30, [("o-3", 30)]) == (ledger.available, _lots(ledger))

    def test_pending_points_pay_off_a_debt_when_they_clear(self) -> None:
        ledger = _earn(Ledger(), 100, "o-1")
        lot = ledger.available_lots[0]
        ledger, _ = redeem(ledger, points=100, source="r-1", now=T0)
        ledger, _ = reverse(
            ledger, points=50, lots=(lot,), source="ret-1", at=T0, now=T0, allow_negative=True
        )
        cleared_at = T0 + timedelta(days=14)
        ledger = _earn(ledger, 80, "o-2", available_at=cleared_at)

        _, entries = settle(ledger, cleared_at)

        assert [(EntryKind.CLEARED, 0), (EntryKind.REPAID, 0)] == _kinds(entries)
        assert (30, 30) == (
            balance(ledger, cleared_at).available,
            balance(ledger, cleared_at).total,
        )

    def test_the_reversal_is_stamped_at_the_time_of_the_return(self) -> None:
        ledger = _earn(Ledger(), 100, "o-1")
        returned_at = T0 + timedelta(hours=1)

        _, entries = reverse(
            ledger,
            points=10,
            lots=ledger.available_lots,
            source="ret-1",
            at=returned_at,
            now=T0 + timedelta(hours=2),
            allow_negative=False,
        )

        assert (returned_at, "returned") == (entries[0].at, entries[0].reason)

    @pytest.mark.parametrize("points", [0, -1], ids=repr)
    def test_only_a_positive_number_of_points_can_be_reversed(self, points: int) -> None:
        ledger = _earn(Ledger(), 100, "o-1")

        with pytest.raises(InvalidInput):
            reverse(
                ledger,
                points=points,
                lots=ledger.available_lots,
                source="ret-1",
                at=T0,
                now=T0,
                allow_negative=False,
            )


# -- cancelled redemptions ------------------------------------------------------------------


class TestRestore:
    def test_restored_points_go_back_to_their_lots_with_their_expiry(self) -> None:
        ledger, entries = redeem(_three_lots(), points=150, source="r-1", now=T0)

        ledger, restored = restore(ledger, draws=entries[0].draws, source="r-1", now=T0)

        assert [(EntryKind.RESTORED, 150)] == _kinds(restored)
        assert [("soon", 100), ("late", 100), ("never", 100)] == _lots(ledger)
        assert [datetime(2027, 1, 1, tzinfo=UTC), datetime(2027, 6, 1, tzinfo=UTC), None] == [
            lot.expires_at for lot in ledger.available_lots
        ]
        assert (0, 300) == (ledger.redeemed, ledger.available)

    def test_restored_points_whose_lot_has_expired_expire_at_once(self) -> None:
        expiry = T0 + relativedelta(months=1)
        ledger = _earn(Ledger(), 100, "o-1", expires_at=expiry)
        ledger, entries = redeem(ledger, points=40, source="r-1", now=T0)
        later = expiry + timedelta(days=1)

        ledger, restored = restore(ledger, draws=entries[0].draws, source="r-1", now=later)

        assert [
            (EntryKind.EXPIRED, -60, expiry),
            (EntryKind.RESTORED, 40, later),
            (EntryKind.EXPIRED, -40, later),
        ] == [(entry.kind, entry.points, entry.at) for entry in restored]
        now = balance(ledger, later)
        assert (0, 0, 100) == (now.total, now.redeemed, now.expired)

    def test_restoring_nothing_writes_nothing(self) -> None:
        ledger = _three_lots()

        after, entries = restore(ledger, draws=(), source="r-1", now=T0)

        assert ((), ledger) == (entries, after)


# -- adjustments ----------------------------------------------------------------------------


class TestAdjust:
    def test_a_positive_adjustment_is_a_new_lot_available_at_once(self) -> None:
        expires = T0 + YEAR

        ledger, entries = adjust(
            Ledger(),
            points=25,
            source="a-1",
            now=T0,
            reason="goodwill",
            expires_at=expires,
        )

        assert [(EntryKind.ADJUSTED, 25)] == _kinds(entries)
        assert (Lot(1, "a-1", 25, 25, T0, T0, expires),) == ledger.available_lots
        assert (25, 25, 0) == (ledger.available, ledger.adjusted, ledger.earned)

    def test_a_negative_adjustment_takes_the_soonest_expiring_points(self) -> None:
        ledger, entries = adjust(
            _three_lots(), points=-120, source="a-1", now=T0, reason="fraud", expires_at=None
        )

        assert [(EntryKind.ADJUSTED, -120)] == _kinds(entries)
        assert [("soon", 100), ("late", 20)] == _drawn(entries[0])
        assert (180, -120) == (ledger.available, ledger.adjusted)

    @pytest.mark.parametrize(
        ("points", "accepted"),
        [(-299, True), (-300, True), (-301, False)],
        ids=["less", "equal", "more"],
    )
    def test_a_negative_adjustment_takes_at_most_what_is_available(
        self, points: int, accepted: bool
    ) -> None:
        if accepted:
            ledger, _ = adjust(
                _three_lots(), points=points, source="a-1", now=T0, reason="x", expires_at=None
            )
            assert 300 + points == ledger.available
        else:
            with pytest.raises(InsufficientPoints):
                adjust(
                    _three_lots(), points=points, source="a-1", now=T0, reason="x", expires_at=None
                )

    def test_with_allow_negative_an_adjustment_may_leave_a_debt(self) -> None:
        ledger, _ = adjust(
            _three_lots(),
            points=-350,
            source="a-1",
            now=T0,
            reason="x",
            expires_at=None,
            allow_negative=True,
        )

        assert (-50, 50, []) == (ledger.available, ledger.debt, _lots(ledger))

    @pytest.mark.parametrize("points", [0, True, 1.5], ids=repr)
    def test_an_adjustment_is_a_non_zero_int(self, points: object) -> None:
        with pytest.raises(InvalidInput):
            adjust(
                Ledger(),
                points=points,  # type: ignore[arg-type]
                source="a-1",
                now=T0,
                reason="x",
                expires_at=None,
            )


# -- settling and balances ------------------------------------------------------------------


class TestSettle:
    def test_settling_when_nothing_is_due_returns_the_same_ledger(self) -> None:
        ledger = _earn(Ledger(), 100, "o-1", expires_at=T0 + YEAR)

        after, entries = settle(ledger, T0 + timedelta(days=1))

        assert (ledger, ()) == (after, entries)
        assert after is ledger

    @pytest.mark.parametrize(
        ("build", "expected"),
        [
            (Ledger, None),
            (lambda: _earn(Ledger(), 1, "o-1"), None),
            (lambda: _earn(Ledger(), 1, "o-1", expires_at=T0 + YEAR), T0 + YEAR),
            (
                lambda: _earn(
                    Ledger(),
                    1,
                    "o-1",
                    available_at=T0 + timedelta(days=14),
                    expires_at=T0 + YEAR,
                ),
                T0 + timedelta(days=14),
            ),
            (
                lambda: _earn(
                    Ledger(),
                    1,
                    "o-1",
                    available_at=T0 + timedelta(days=14),
                    expires_at=T0 + timedelta(days=7),
                ),
                T0 + timedelta(days=7),
            ),
            (
                lambda: place_hold(
                    _earn(Ledger(), 5, "o-1", expires_at=T0 + YEAR),
                    key="h-1",
                    points=1,
                    expires_at=T0 + timedelta(hours=1),
                    now=T0,
                )[0],
                T0 + timedelta(hours=1),
            ),
        ],
        ids=[
            "empty",
            "never-expires",
            "expiry",
            "clearing",
            "pending-expiry",
            "hold-expiry",
        ],
    )
    def test_next_due_at_is_the_soonest_thing_to_happen(
        self, build: Callable[[], Ledger], expected: datetime | None
    ) -> None:
        assert expected == build().next_due_at

    def test_due_changes_are_materialised_in_time_order(self) -> None:
        ledger = _earn(Ledger(), 100, "o-1", expires_at=T0 + timedelta(days=30))
        ledger = _earn(
            ledger,
            50,
            "o-2",
            available_at=T0 + timedelta(days=14),
            expires_at=T0 + timedelta(days=20),
        )
        ledger, _ = place_hold(
            ledger, key="h-1", points=10, expires_at=T0 + timedelta(days=1), now=T0
        )

        settled, entries = settle(ledger, T0 + timedelta(days=60))

        assert [
            (EntryKind.RELEASED, T0 + timedelta(days=1)),
            (EntryKind.CLEARED, T0 + timedelta(days=14)),
            (EntryKind.EXPIRED, T0 + timedelta(days=20)),
            (EntryKind.EXPIRED, T0 + timedelta(days=30)),
        ] == [(entry.kind, entry.at) for entry in entries]
        assert [4, 5, 6, 7] == [entry.seq for entry in entries]
        assert (None, 0, 150) == (settled.next_due_at, settled.total, settled.expired)

    def test_settling_twice_at_the_same_time_does_nothing_the_second_time(self) -> None:
        ledger = _earn(Ledger(), 100, "o-1", available_at=T0 + timedelta(days=14))
        ledger, first = settle(ledger, T0 + timedelta(days=15))

        again, second = settle(ledger, T0 + timedelta(days=15))

        assert (1, (), ledger) == (len(first), second, again)

    def test_a_balance_projects_what_settling_would_materialise(self) -> None:
        ledger = _earn(Ledger(), 100, "o-1", available_at=T0 + timedelta(days=14))
        ledger = _earn(ledger, 50, "o-2", expires_at=T0 + timedelta(days=20))
        at = T0 + timedelta(days=21)

        settled, _ = settle(ledger, at)

        assert balance(settled, at) == balance(ledger, at)
        assert T0 + timedelta(days=14) == ledger.next_due_at  # the projection stored nothing


class TestBalance:
    def test_the_next_expiry_counts_every_available_lot_that_expires_then(self) -> None:
        soon = T0 + relativedelta(months=1)
        ledger = _earn(Ledger(), 10, "o-1", expires_at=soon)
        ledger = _earn(ledger, 15, "o-2", expires_at=soon)
        ledger = _earn(ledger, 20, "o-3", expires_at=T0 + YEAR)
        ledger = _earn(ledger, 40, "o-4", available_at=T0 + timedelta(days=1), expires_at=soon)

        now = balance(ledger, T0)

        assert (soon, 25) == (now.expiring_at, now.expiring_points)

    def test_the_next_expiry_moves_on_once_a_lot_is_spent(self) -> None:
        ledger, _ = redeem(_three_lots(), points=100, source="r-1", now=T0)

        now = balance(ledger, T0)

        assert (datetime(2027, 6, 1, tzinfo=UTC), 100) == (now.expiring_at, now.expiring_points)

    def test_points_that_never_expire_have_no_next_expiry(self) -> None:
        now = balance(_earn(Ledger(), 10, "o-1"), T0)

        assert (None, 0) == (now.expiring_at, now.expiring_points)

    def test_an_empty_ledger_has_a_zero_balance(self) -> None:
        assert Balance(0, 0, 0, None, 0, 0, 0, 0, 0, 0) == balance(Ledger(), T0)

    def test_the_balance_always_equals_the_entries(self) -> None:
        entries: list[Entry] = []
        ledger = Ledger()

        def step(result: tuple[Ledger, tuple[Entry, ...]]) -> Ledger:
            entries.extend(result[1])
            return result[0]

        ledger = step(
            earn(
                ledger,
                points=100,
                source="o-1",
                earned_at=T0,
                available_at=T0 + timedelta(days=14),
                expires_at=T0 + YEAR,
                now=T0,
            )
        )
        _check_invariants(ledger, entries, T0)
        ledger = step(
            earn(
                ledger,
                points=50,
                source="o-2",
                earned_at=T0,
                available_at=T0,
                expires_at=T0 + relativedelta(months=2),
                now=T0,
            )
        )
        purchase_lot = ledger.pending_lots[0]
        ledger = step(redeem(ledger, points=20, source="r-1", now=T0))
        r1_draws = entries[-1].draws
        _check_invariants(ledger, entries, T0)
        ledger = step(
            place_hold(ledger, key="h-1", points=20, expires_at=T0 + timedelta(days=1), now=T0)
        )
        _check_invariants(ledger, entries, T0)
        t1 = T0 + timedelta(days=15)
        ledger = step(
            adjust(ledger, points=-10, source="a-1", now=t1, reason="x", expires_at=None)
        )
        _check_invariants(ledger, entries, t1)
        ledger = step(
            place_hold(ledger, key="h-2", points=30, expires_at=t1 + timedelta(hours=1), now=t1)
        )
        ledger, written, _ = capture(ledger, key="h-2", points=12, now=t1)
        entries.extend(written)
        _check_invariants(ledger, entries, t1)
        ledger = step(
            reverse(
                ledger,
                points=60,
                lots=(purchase_lot,),
                source="ret-1",
                at=t1,
                now=t1,
                allow_negative=False,
            )
        )
        _check_invariants(ledger, entries, t1)
        ledger = step(restore(ledger, draws=r1_draws, source="r-1", now=t1))
        _check_invariants(ledger, entries, t1)
        ledger = step(adjust(ledger, points=7, source="a-2", now=t1, reason="x", expires_at=None))
        final = _check_invariants(ledger, entries, T0 + relativedelta(years=2))

        assert (7, 0, 0, 150, 12, 68, 60, -3) == (
            final.available,
            final.pending,
            final.held,
            final.earned,
            final.redeemed,
            final.expired,
            final.reversed,
            final.adjusted,
        )


class TestLedgerStaysTheSizeOfWhatIsLive:
    """The cost of an operation does not grow with consumed or expired lots."""

    def test_consumed_lots_leave_the_ledger(self) -> None:
        ledger = Ledger()
        for n in range(50):
            ledger = _earn(ledger, 10, f"o-{n}", expires_at=T0 + timedelta(days=n + 1))

        ledger, _ = redeem(ledger, points=495, source="r-1", now=T0)

        assert [("o-49", 5)] == _lots(ledger)

    def test_expired_lots_leave_the_ledger(self) -> None:
        ledger = Ledger()
        for n in range(50):
            ledger = _earn(ledger, 10, f"o-{n}", expires_at=T0 + timedelta(days=n + 1))

        ledger, _ = settle(ledger, T0 + timedelta(days=49, hours=12))

        assert ([("o-49", 10)], 490) == (_lots(ledger), ledger.expired)

    def test_cleared_lots_move_from_pending_to_available(self) -> None:
        ledger = _earn(Ledger(), 10, "o-1", available_at=T0 + timedelta(days=1))

        ledger, _ = settle(ledger, T0 + timedelta(days=1))

        assert ((), 1) == (ledger.pending_lots, len(ledger.available_lots))

    def test_resolved_holds_leave_the_ledger(self) -> None:
        ledger = _three_lots()
        for key in ("h-1", "h-2", "h-3"):
            ledger, _ = place_hold(
                ledger, key=key, points=10, expires_at=T0 + timedelta(hours=1), now=T0
            )

        ledger, _, _ = capture(ledger, key="h-1", points=10, now=T0)
        ledger, _ = release(ledger, key="h-2", now=T0)
        ledger, _ = settle(ledger, T0 + timedelta(hours=1))

        assert {} == ledger.holds

    def test_a_spent_lot_is_not_kept_with_zero_points(self) -> None:
        ledger, _ = redeem(_three_lots(), points=100, source="r-1", now=T0)

        assert all(lot.remaining > 0 for lot in ledger.available_lots)
        assert ["late", "never"] == [lot.source for lot in ledger.available_lots]
