"""Calendar durations are added on the calendar of a time zone, so the same instant gives
the same dates whatever tzinfo the host wrote it in: points' expiry and return window,
a rule's rolling limit, a tier's keep and review, a card's lapse, a voucher's validity.

These hold with custbond/program.py as it is; the tests that say *which* zone a date is
reckoned in when the program does not pass one yet (a tier's, a voucher's, a card's, a
return window's) are in test_calendar_program_zone.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from typing import Any

import pytest
from dateutil import tz
from dateutil.relativedelta import relativedelta
from hypothesis import example, given
from hypothesis import strategies as st

from custbond import (
    FixedClock,
    InvalidInput,
    LogRecord,
    PointsPolicy,
    Program,
    Purchase,
    RetentionService,
    Signup,
    Store,
)
from custbond._durations import zone_named
from custbond.bonds import Level, PunchCard, TierLadder
from custbond.bonds.tiers import Standing, review, upgrade
from custbond.rules import FixedPoints, Limit, Rule
from custbond.vouchers import VoucherOffer
from stores import STORES

NEW_YORK = zone_named("America/New_York")
TOKYO = zone_named("Asia/Tokyo")
# 28 February 2026, 23:30 in New York: already 1 March in UTC (04:30).
LATE_IN_FEBRUARY = datetime(2026, 2, 28, 23, 30, tzinfo=NEW_YORK)

# Zones a host may write a time in: named ones with daylight saving (a half-hour one,
# one south of the equator), ones without, and fixed offsets.
WRITTEN_IN = st.sampled_from(
    [
        UTC,
        tz.UTC,
        NEW_YORK,
        TOKYO,
        tz.gettz("Asia/Kathmandu"),
        tz.gettz("Australia/Lord_Howe"),
        tz.gettz("America/Santiago"),
        timezone(timedelta(hours=-5)),
        timezone(timedelta(hours=13, minutes=45)),
    ]
)
ZONE_NAMES = st.sampled_from(
    ["UTC", "America/New_York", "Asia/Tokyo", "Australia/Lord_Howe", "America/Santiago"]
)
INSTANTS = st.datetimes(
    min_value=datetime(2000, 1, 1),  # noqa: DTZ001 - made aware by timezones=
    max_value=datetime(2090, 12, 31),  # noqa: DTZ001
    timezones=st.just(UTC),
)
CALENDAR_DURATIONS = st.builds(
    relativedelta,
    years=st.integers(0, 2),
    months=st.integers(0, 14),
    days=st.integers(0, 40),
    hours=st.integers(0, 30),
).filter(bool)


def _written(instant: datetime, zones: list[tzinfo]) -> list[datetime]:
    """``instant`` written in each of ``zones``."""
    return [instant.astimezone(zone) for zone in zones]


def _same_instants(values: list[Any]) -> None:
    """All equal, compared as instants (two datetimes of one tzinfo compare wall clocks)."""
    first = values[0]
    for value in values[1:]:
        if isinstance(first, datetime):
            assert first.astimezone(UTC) == value.astimezone(UTC)
        else:
            assert first == value


def _end_of(local: datetime, rounding: str | None) -> datetime:
    """``local`` carried to the first instant of the next day or month of its zone (unless
    it is one already)."""
    if rounding is None:
        return local
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if rounding == "day":
        start, step = midnight, relativedelta(days=1)
    else:
        start, step = midnight.replace(day=1), relativedelta(months=1)
    if start == local:
        return local
    return tz.resolve_imaginary((start + step).replace(fold=0))


# -- points -----------------------------------------------------------------------------


class TestPointsExpiry:
    @given(
        instant=INSTANTS,
        zones=st.lists(WRITTEN_IN, min_size=2, max_size=3),
        time_zone=ZONE_NAMES,
        expire_after=CALENDAR_DURATIONS,
        pending_for=st.none() | CALENDAR_DURATIONS,
        rounding=st.sampled_from([None, "day", "month", "year"]),
    )
    def test_the_same_instant_expires_and_clears_the_same_whatever_its_tzinfo(
        self,
        *,
        instant: datetime,
        zones: list[tzinfo],
        time_zone: str,
        expire_after: relativedelta,
        pending_for: relativedelta | None,
        rounding: str | None,
    ) -> None:
        policy = PointsPolicy(
            expire_after=expire_after, pending_for=pending_for, expire_at_end_of=rounding
        )
        moments = _written(instant, zones)

        _same_instants([policy.expires_at(moment, time_zone) for moment in moments])
        _same_instants([policy.available_at(moment, time_zone) for moment in moments])

    @given(
        instant=INSTANTS,
        time_zone=ZONE_NAMES,
        expire_after=CALENDAR_DURATIONS,
        rounding=st.sampled_from([None, "day", "month"]),
    )
    def test_a_calendar_expiry_is_added_to_the_date_and_time_in_the_programs_zone(
        self, instant: datetime, time_zone: str, expire_after: relativedelta, rounding: str | None
    ) -> None:
        zone = tz.gettz(time_zone)
        policy = PointsPolicy(expire_after=expire_after, expire_at_end_of=rounding)
        added = tz.resolve_imaginary(instant.astimezone(zone) + expire_after)

        assert _end_of(added, rounding) == policy.expires_at(instant, time_zone)

    @pytest.mark.parametrize(
        ("rounding", "expected"),
        [
            (None, datetime(2026, 3, 28, 23, 30, tzinfo=NEW_YORK)),
            ("day", datetime(2026, 3, 29, tzinfo=NEW_YORK)),
            ("month", datetime(2026, 4, 1, tzinfo=NEW_YORK)),
        ],
    )
    def test_a_month_after_28_february_in_new_york_is_28_march_even_written_in_utc(
        self, rounding: str | None, expected: datetime
    ) -> None:
        policy = PointsPolicy(expire_after=relativedelta(months=1), expire_at_end_of=rounding)

        in_utc = policy.expires_at(LATE_IN_FEBRUARY.astimezone(UTC), "America/New_York")

        assert in_utc is not None
        assert expected == in_utc
        assert UTC is in_utc.tzinfo or rounding is not None  # unrounded: as it was written

    def test_an_exact_expiry_is_added_on_the_wall_clock_it_is_written_in(self) -> None:
        # Unchanged on purpose: a timedelta is added as Python's + adds it. Across the
        # March change in New York, 30 days on its wall clock are 30 days less an hour.
        policy = PointsPolicy(expire_after=timedelta(days=30))
        earned = datetime(2026, 3, 1, 12, tzinfo=NEW_YORK)

        assert datetime(2026, 3, 31, 12, tzinfo=NEW_YORK) == policy.expires_at(
            earned, "America/New_York"
        )
        assert earned.astimezone(UTC) + timedelta(days=30) == policy.expires_at(
            earned.astimezone(UTC), "America/New_York"
        )


class TestPointsPolicyZones:
    @pytest.mark.parametrize(
        "time_zone",
        ["Europe/Pariss", "", "../../etc/passwd", "/etc/localtime", None, 5],
        ids=repr,
    )
    @pytest.mark.parametrize("method", ["expires_at", "available_at"])
    @pytest.mark.parametrize(
        "policy",
        [
            PointsPolicy(
                expire_after=relativedelta(months=12),
                expire_at_end_of="month",
                pending_for=relativedelta(days=14),
            ),
            PointsPolicy(),
        ],
        ids=["expiring", "plain"],
    )
    def test_a_time_zone_that_is_not_an_iana_name_is_refused(
        self, policy: PointsPolicy, method: str, time_zone: Any
    ) -> None:
        earned = datetime(2026, 1, 31, 16, tzinfo=UTC)

        with pytest.raises(InvalidInput, match="an IANA time zone") as raised:
            getattr(policy, method)(earned, time_zone)

        assert ("time_zone", time_zone) == (raised.value.field, raised.value.value)

    def test_every_answer_is_aware(self) -> None:
        policy = PointsPolicy(expire_after=relativedelta(months=12), expire_at_end_of="month")
        earned = datetime(2026, 1, 31, 16, tzinfo=UTC)

        expires = policy.expires_at(earned, "Europe/Paris")

        assert expires == datetime(2027, 2, 1, tzinfo=tz.gettz("Europe/Paris"))
        assert expires is not None
        assert expires.utcoffset() is not None


@pytest.fixture(params=STORES)
def make_store(request: pytest.FixtureRequest) -> Any:
    return request.param


def _service(program: Program, store: Store, now: datetime) -> RetentionService:
    return RetentionService(program, store, clock=FixedClock(now))


def _buy(order_id: str, at: datetime, amount: str = "10.00") -> Purchase:
    return Purchase(id=order_id, customer_id="ada", at=at, amount=Decimal(amount), currency="USD")


class TestThroughTheService:
    @pytest.mark.parametrize("written_in", [NEW_YORK, UTC, TOKYO], ids=["ny", "utc", "tokyo"])
    def test_points_earned_late_on_28_february_in_new_york_are_valid_through_march(
        self, make_store: Any, written_in: tzinfo
    ) -> None:
        program = Program(
            time_zone="America/New_York",
            points=PointsPolicy(expire_after=relativedelta(months=1), expire_at_end_of="month"),
        )
        service = _service(program, make_store(), LATE_IN_FEBRUARY)

        outcome = service.record(_buy("o-1", LATE_IN_FEBRUARY.astimezone(written_in)))

        assert datetime(2026, 4, 1, tzinfo=NEW_YORK) == outcome.entries[0].lot.expires_at
        assert datetime(2026, 4, 1, tzinfo=NEW_YORK) == service.balance("ada").expiring_at

    @pytest.mark.parametrize("clock_in", [NEW_YORK, UTC, TOKYO], ids=["ny", "utc", "tokyo"])
    def test_points_added_by_hand_expire_the_same_whatever_zone_the_clock_reads_in(
        self, make_store: Any, clock_in: tzinfo
    ) -> None:
        program = Program(
            time_zone="America/New_York",
            points=PointsPolicy(expire_after=relativedelta(months=1)),
        )
        service = _service(program, make_store(), LATE_IN_FEBRUARY.astimezone(clock_in))
        service.record(Signup(id="s-1", customer_id="ada", at=LATE_IN_FEBRUARY))

        outcome = service.adjust("ada", 25, reason="sorry", key="adj-1")

        expected = datetime(2026, 3, 28, 23, 30, tzinfo=NEW_YORK)
        assert expected == outcome.entries[0].lot.expires_at

    @pytest.mark.parametrize("written_in", [NEW_YORK, UTC, TOKYO], ids=["ny", "utc", "tokyo"])
    def test_a_rolling_monthly_limit_counts_back_a_month_on_the_customers_calendar(
        self, make_store: Any, written_in: tzinfo
    ) -> None:
        # A month back from 28 February, 23:30 in New York is 28 January, 23:30 there:
        # the bonus of 30 January is inside it, so the rule is limited. (Counted back from
        # 1 March, 04:30 in UTC, the month would start on 1 February, and it would fire.)
        rule = Rule(
            "bonus",
            on="Purchase",
            then=[FixedPoints(100)],
            limits=[Limit(1, per=relativedelta(months=1))],
        )
        program = Program(time_zone="America/New_York", earn=None, rules=[rule])
        service = _service(program, make_store(), datetime(2026, 3, 2, tzinfo=UTC))
        first = datetime(2026, 1, 30, 12, tzinfo=NEW_YORK).astimezone(UTC)
        assert 100 == service.record(_buy("o-1", first)).points

        outcome = service.record(_buy("o-2", LATE_IN_FEBRUARY.astimezone(written_in)))

        assert 0 == outcome.points
        assert "its limit of once in any 1 month is reached (1 used)" in str(outcome.trace)

    def test_a_replay_of_purchases_written_in_several_zones_rebuilds_the_same_ledger(
        self, make_store: Any
    ) -> None:
        program = Program(
            time_zone="America/New_York",
            points=PointsPolicy(
                expire_after=relativedelta(months=1),
                pending_for=relativedelta(days=14),
                expire_at_end_of="day",
            ),
        )
        service = _service(program, make_store(), datetime(2026, 3, 2, tzinfo=UTC))
        for number, zone in enumerate([NEW_YORK, UTC, TOKYO]):
            service.record(_buy(f"o-{number}", LATE_IN_FEBRUARY.astimezone(zone)))
        log: list[LogRecord] = list(service.log())

        fresh = _service(program, make_store(), datetime(2026, 3, 2, tzinfo=UTC))
        fresh.replay(log)

        assert service.statement("ada") == fresh.statement("ada")
        lots = {entry.lot for entry in fresh.statement("ada")}
        assert {datetime(2026, 3, 29, tzinfo=NEW_YORK)} == {lot.expires_at for lot in lots}


# -- rules, tiers, cards, vouchers (pure) ------------------------------------------------


class TestLimits:
    @given(
        instant=INSTANTS,
        zones=st.lists(WRITTEN_IN, min_size=2, max_size=3),
        customer_zone=ZONE_NAMES,
        per=CALENDAR_DURATIONS | st.sampled_from(["day", "week", "month", "year"]),
    )
    def test_a_limit_counts_from_the_same_instant_whatever_the_events_tzinfo(
        self, instant: datetime, zones: list[tzinfo], customer_zone: str, per: Any
    ) -> None:
        limit = Limit(2, per=per)
        zone = zone_named(customer_zone)

        _same_instants([limit.since(moment, zone) for moment in _written(instant, zones)])

    @given(instant=INSTANTS, customer_zone=ZONE_NAMES, per=CALENDAR_DURATIONS)
    @example(  # a period back is 01:30 in Lord Howe's repeated half hour
        instant=datetime(2037, 3, 10, 10, 30, tzinfo=UTC),
        customer_zone="Australia/Lord_Howe",
        per=relativedelta(months=11, days=4, hours=20),
    )
    def test_a_rolling_limit_counts_from_just_after_the_local_time_a_period_back(
        self, instant: datetime, customer_zone: str, per: relativedelta
    ) -> None:
        zone = zone_named(customer_zone)
        back = tz.resolve_imaginary(instant.astimezone(zone) - per)

        since = Limit(1, per=per).since(instant, zone)

        # as instants: Python's == across tzinfos is False in a repeated hour (PEP 495)
        assert (back + timedelta(microseconds=1)).astimezone(UTC) == since.astimezone(UTC)


LADDER = TierLadder(
    levels=[Level("silver", spend=Decimal(100))],
    window=relativedelta(months=1),
    keep_for=relativedelta(months=1),
    grace=relativedelta(days=3),
    notice=relativedelta(days=10),
)


class TestTiers:
    @given(
        instant=INSTANTS,
        zones=st.lists(WRITTEN_IN, min_size=2, max_size=3),
        customer_zone=ZONE_NAMES,
    )
    def test_a_tier_is_kept_and_reviewed_the_same_whatever_the_events_tzinfo(
        self, instant: datetime, zones: list[tzinfo], customer_zone: str
    ) -> None:
        zone = zone_named(customer_zone)
        standing = Standing(Decimal(150), 0, 1)
        reached = []
        reviewed = []
        for moment in _written(instant, zones):
            change, _ = upgrade(
                LADDER, standing, tier=None, review_at=None, at=moment, currency="USD", zone=zone
            )
            assert change is not None
            reached.append((change.until, change.review_at))
            kept, _ = review(
                LADDER, standing, tier="silver", review_at=moment, currency="USD", zone=zone
            )
            reviewed.append((kept.until, kept.review_at))

        for pairs in (reached, reviewed):
            _same_instants([pair[0] for pair in pairs])
            _same_instants([pair[1] for pair in pairs])

    def test_a_tier_reached_late_on_28_february_in_new_york_is_kept_until_28_march(self) -> None:
        change, _ = upgrade(
            LADDER,
            Standing(Decimal(150), 0, 1),
            tier=None,
            review_at=None,
            at=LATE_IN_FEBRUARY.astimezone(UTC),
            currency="USD",
            zone=NEW_YORK,
        )

        assert change is not None
        assert datetime(2026, 3, 28, 23, 30, tzinfo=NEW_YORK) == change.until
        assert datetime(2026, 3, 31, 23, 30, tzinfo=NEW_YORK) == change.review_at


class TestCardsAndVouchers:
    @given(
        instant=INSTANTS,
        zones=st.lists(WRITTEN_IN, min_size=2, max_size=3),
        time_zone=ZONE_NAMES,
        duration=CALENDAR_DURATIONS,
    )
    def test_a_voucher_expires_the_same_whatever_the_issuing_events_tzinfo(
        self, instant: datetime, zones: list[tzinfo], time_zone: str, duration: relativedelta
    ) -> None:
        offer = VoucherOffer("free coffee", sku="latte", valid_for=duration)

        issued = [
            offer.issue("C0DE", "card coffee", m, time_zone) for m in _written(instant, zones)
        ]

        _same_instants([voucher.expires_at for voucher in issued])

    @given(
        started=INSTANTS,
        zones=st.lists(WRITTEN_IN, min_size=2, max_size=3),
        time_zone=ZONE_NAMES,
        duration=CALENDAR_DURATIONS,
        after=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=800)),
    )
    def test_a_card_lapses_the_same_whatever_the_tzinfo_of_its_first_stamp(
        self,
        *,
        started: datetime,
        zones: list[tzinfo],
        time_zone: str,
        duration: relativedelta,
        after: timedelta,
    ) -> None:
        card = PunchCard(
            "coffee",
            stamps=10,
            reward=VoucherOffer("free coffee", sku="latte"),
            expire_after=duration,
        )
        at = started + after

        assert 1 == len(
            {card.lapsed(moment, at, time_zone) for moment in _written(started, zones)}
        )

    def test_a_month_of_validity_from_28_february_in_new_york_ends_28_march(self) -> None:
        offer = VoucherOffer("free coffee", sku="latte", valid_for=relativedelta(months=1))

        voucher = offer.issue(
            "C0DE", "card coffee", LATE_IN_FEBRUARY.astimezone(UTC), "America/New_York"
        )

        assert datetime(2026, 3, 28, 23, 30, tzinfo=NEW_YORK) == voucher.expires_at

    @pytest.mark.parametrize("time_zone", ["Europe/Pariss", "", None], ids=repr)
    def test_cards_and_vouchers_refuse_a_time_zone_that_is_not_an_iana_name(
        self, time_zone: Any
    ) -> None:
        offer = VoucherOffer("free coffee", sku="latte", valid_for=relativedelta(months=1))
        card = PunchCard("coffee", stamps=10, reward=offer, expire_after=relativedelta(months=6))
        at = datetime(2026, 3, 1, tzinfo=UTC)

        for call in (
            lambda: offer.issue("C0DE", "x", at, time_zone),
            lambda: card.lapsed(at, at, time_zone),
        ):
            with pytest.raises(InvalidInput, match="an IANA time zone") as raised:
                call()
            assert "time_zone" == raised.value.field
