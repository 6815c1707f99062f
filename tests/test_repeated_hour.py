"""Deadlines and clocks in the hour the clocks show twice, compared as instants.

When the clocks go back (02:00 EDT to 01:00 EST on 1 November 2026 in New York), 01:00 to
02:00 happens twice. Python compares two datetimes that share a tzinfo by their wall
clocks, ``fold`` aside (PEP 495): the second 01:15 (EST, 06:15 UTC) sorts before the first
01:30 (EDT, 05:30 UTC), and two datetimes of different tzinfos at one instant in that hour
are not ``==``. custbond compares every deadline with a time as instants, so points, holds,
vouchers, punch cards and tiers end at the same instant whichever tzinfo the host writes
its clock and events in.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import given, settings
from hypothesis import strategies as st

from custbond import (
    Customer,
    EntryKind,
    FixedClock,
    InsufficientPoints,
    InvalidInput,
    NotFound,
    PointsPolicy,
    Program,
    Purchase,
    RetentionService,
)
from custbond import ledger as ledgers
from custbond._durations import earlier, instant, reached, zone_named
from custbond.bonds import Level, PunchCard, TierLadder
from custbond.bonds.tiers import Standing, status, upgrade
from custbond.ledger import Balance, Entry, Ledger
from custbond.program import CustomerState
from custbond.vouchers import VoucherOffer
from stores import STORES

NEW_YORK = zone_named("America/New_York")
# The clocks go back at 06:00 UTC on 1 November 2026 in New York: 01:00 to 02:00 twice.
FIRST_01_30 = datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 01:30 EDT, fold=0
FIRST_01_45 = datetime(2026, 11, 1, 5, 45, tzinfo=UTC)  # 01:45 EDT, fold=0
SECOND_01_00 = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)  # 01:00 EST, fold=1
SECOND_01_15 = datetime(2026, 11, 1, 6, 15, tzinfo=UTC)  # 01:15 EST, fold=1
MONTH_BEFORE = datetime(2026, 10, 1, 5, 30, tzinfo=UTC)  # 01:30 EDT on 1 October

WRITERS = pytest.mark.parametrize(
    "written_in",
    [NEW_YORK, ZoneInfo("America/New_York"), UTC],
    ids=["dateutil", "zoneinfo", "utc"],
)


def ny(moment: datetime) -> datetime:
    """``moment`` written in New York time, as dateutil writes it (fold=1 the 2nd time)."""
    return moment.astimezone(NEW_YORK)


def _earned(
    points: int = 10,
    *,
    expires_at: datetime | None,
    available_at: datetime | None = None,
    now: datetime,
    ledger: Ledger | None = None,
    source: str = "o-1",
) -> Ledger:
    ledger, _ = ledgers.earn(
        Ledger() if ledger is None else ledger,
        points=points,
        source=source,
        earned_at=now,
        available_at=now if available_at is None else available_at,
        expires_at=expires_at,
        now=now,
    )
    return ledger


class TestTheComparison:
    def test_the_second_01_15_is_after_the_first_01_30_although_its_clock_face_is_before(
        self,
    ) -> None:
        first, second = ny(FIRST_01_30), ny(SECOND_01_15)
        assert (1, 30, 0, 1, 15, 1) == (
            first.hour,
            first.minute,
            first.fold,
            second.hour,
            second.minute,
            second.fold,
        )

        assert (True, False) == (earlier(first, second), earlier(second, first))
        assert (True, False) == (reached(second, first), reached(first, second))

    @pytest.mark.parametrize(
        ("at", "deadline", "expected"),
        [
            (SECOND_01_00 - timedelta(seconds=1), SECOND_01_00, False),
            (SECOND_01_00, SECOND_01_00, True),
            (SECOND_01_00 + timedelta(seconds=1), SECOND_01_00, True),
        ],
        ids=["before", "at", "after"],
    )
    def test_a_deadline_is_reached_at_its_instant_however_both_are_written(
        self, at: datetime, deadline: datetime, expected: bool
    ) -> None:
        for at_written in (UTC, NEW_YORK, ZoneInfo("America/New_York")):
            for deadline_written in (UTC, NEW_YORK, ZoneInfo("America/New_York")):
                assert expected == reached(
                    at.astimezone(at_written), deadline.astimezone(deadline_written)
                )

    def test_an_instant_compares_equal_to_itself_written_in_the_repeated_hour(self) -> None:
        # Python says a time in the repeated hour is != the same instant in another tzinfo.
        assert ny(FIRST_01_30) != FIRST_01_30

        assert instant(ny(FIRST_01_30)) == instant(FIRST_01_30)

    def test_a_time_in_utc_is_its_own_instant(self) -> None:
        assert instant(FIRST_01_30) is FIRST_01_30


class TestLedgerInTheRepeatedHour:
    def test_points_expiring_at_the_first_01_30_are_gone_at_the_second_01_15(self) -> None:
        ledger = _earned(expires_at=ny(FIRST_01_30), now=ny(MONTH_BEFORE))

        read = ledgers.balance(ledger, ny(SECOND_01_15))

        assert (0, 10) == (read.available, read.expired)
        settled, entries = ledgers.settle(ledger, ny(SECOND_01_15))
        assert [EntryKind.EXPIRED] == [entry.kind for entry in entries]
        assert (0, 10) == (settled.available, settled.expired)

    def test_pending_points_clearing_at_the_first_01_30_are_available_at_the_second_01_15(
        self,
    ) -> None:
        ledger = _earned(available_at=ny(FIRST_01_30), expires_at=None, now=ny(MONTH_BEFORE))

        read = ledgers.balance(ledger, ny(SECOND_01_15))

        assert (10, 0) == (read.available, read.pending)

    def test_a_lot_earned_at_the_second_01_15_clearing_at_the_first_01_30_is_not_pending(
        self,
    ) -> None:
        ledger = _earned(available_at=ny(FIRST_01_30), expires_at=None, now=ny(SECOND_01_15))

        assert (10, 0) == (ledger.available, ledger.pending)
        assert not ledger.available_lots[0].is_pending(ny(SECOND_01_15))

    def test_a_hold_ending_at_the_first_01_30_has_ended_at_the_second_01_15(self) -> None:
        ledger = _earned(expires_at=None, now=ny(MONTH_BEFORE))
        ledger, _ = ledgers.place_hold(
            ledger, key="h-1", points=4, expires_at=ny(FIRST_01_30), now=ny(MONTH_BEFORE)
        )

        read = ledgers.balance(ledger, ny(SECOND_01_15))

        assert (10, 0) == (read.available, read.held)

    def test_a_hold_cannot_end_at_the_first_01_30_when_placed_at_the_second_01_15(
        self,
    ) -> None:
        ledger = _earned(expires_at=None, now=ny(MONTH_BEFORE))

        with pytest.raises(InvalidInput, match="expires_at"):
            ledgers.place_hold(
                ledger, key="h-1", points=4, expires_at=ny(FIRST_01_30), now=ny(SECOND_01_15)
            )

    def test_a_hold_ends_when_its_points_expire_at_the_first_01_45_not_at_the_second_01_15(
        self,
    ) -> None:
        ledger = _earned(expires_at=ny(FIRST_01_45), now=ny(MONTH_BEFORE))

        ledger, _ = ledgers.place_hold(
            ledger, key="h-1", points=4, expires_at=ny(SECOND_01_15), now=ny(MONTH_BEFORE)
        )

        assert FIRST_01_45 == ledger.holds["h-1"].expires_at.astimezone(UTC)
        with pytest.raises(InvalidInput, match="key"):  # ended with its points: no capture
            ledgers.capture(ledger, key="h-1", points=4, now=ny(SECOND_01_00))

    def test_lots_are_spent_and_expire_in_the_order_of_their_instants(self) -> None:
        # The first lot expires at the second 01:15 (06:15 UTC), the other earlier, at the
        # first 01:45 (05:45 UTC): the other is spent first, and expires first.
        ledger = _earned(5, expires_at=ny(SECOND_01_15), now=ny(MONTH_BEFORE))
        ledger = _earned(7, expires_at=ny(FIRST_01_45), now=ny(MONTH_BEFORE), ledger=ledger)

        assert [2, 1] == [lot.seq for lot in ledger.available_lots]
        read = ledgers.balance(ledger, ny(SECOND_01_00))
        assert (5, 7) == (read.available, read.expired)
        assert SECOND_01_15 == instant(read.expiring_at or MONTH_BEFORE)
        spent, _ = ledgers.redeem(ledger, points=3, source="r-1", now=ny(MONTH_BEFORE))
        assert [(2, 4), (1, 5)] == [(lot.seq, lot.remaining) for lot in spent.available_lots]

    def test_points_expiring_at_one_instant_written_two_ways_are_counted_together(
        self,
    ) -> None:
        ledger = _earned(3, expires_at=ny(FIRST_01_30), now=MONTH_BEFORE)
        ledger = _earned(4, expires_at=FIRST_01_30, now=MONTH_BEFORE, ledger=ledger, source="o-2")

        read = ledgers.balance(ledger, MONTH_BEFORE)

        assert 7 == read.expiring_points

    def test_the_next_due_time_is_kept_as_an_instant(self) -> None:
        ledger = _earned(expires_at=ny(FIRST_01_30), now=ny(MONTH_BEFORE))

        assert ledger.next_due_at is not None
        assert ledger.next_due_at.tzinfo is UTC
        assert FIRST_01_30 == ledger.next_due_at


@pytest.fixture(params=STORES)
def make_store(request: pytest.FixtureRequest) -> Any:
    return request.param


class TestTheServiceInTheRepeatedHour:
    @WRITERS
    def test_points_expire_at_their_instant_whatever_the_tzinfo_of_the_clock(
        self, make_store: Any, written_in: tzinfo
    ) -> None:
        # A month after 01:30 EDT on 1 October is the first 01:30 on 1 November (05:30
        # UTC): read at the second 01:15 (06:15 UTC), the points have expired.
        program = Program(
            time_zone="America/New_York",
            points=PointsPolicy(expire_after=relativedelta(months=1)),
        )
        clock = FixedClock(MONTH_BEFORE.astimezone(written_in))
        service = RetentionService(program, make_store(), clock=clock)
        service.record(
            Purchase(
                id="o-1",
                customer_id="ada",
                at=clock.now(),
                amount=Decimal("10.00"),
                currency="USD",
            )
        )

        clock.set(SECOND_01_15.astimezone(written_in))

        assert 0 == service.balance("ada").available
        assert [] != service.run_due()
        expired = service.statement("ada")[-1]
        assert (EntryKind.EXPIRED, FIRST_01_30) == (expired.kind, instant(expired.at))
        assert [] == service.run_due()


class TestWhatElseEndsInTheRepeatedHour:
    @WRITERS
    def test_a_voucher_valid_until_the_first_01_30_is_not_usable_at_the_second_01_15(
        self, written_in: tzinfo
    ) -> None:
        offer = VoucherOffer("free coffee", sku="latte", valid_for=relativedelta(months=1))

        voucher = offer.issue("C0DE", "x", MONTH_BEFORE.astimezone(written_in), "America/New_York")

        assert voucher.usable_at(FIRST_01_30.astimezone(written_in) - timedelta(minutes=1))
        assert not voucher.usable_at(SECOND_01_15.astimezone(written_in))

    @WRITERS
    def test_a_card_lapsing_at_the_first_01_30_has_lapsed_at_the_second_01_15(
        self, written_in: tzinfo
    ) -> None:
        card = PunchCard(
            "coffee",
            stamps=10,
            reward=VoucherOffer("free coffee", sku="latte"),
            expire_after=relativedelta(months=1),
        )

        started = MONTH_BEFORE.astimezone(written_in)

        assert card.lapsed(started, SECOND_01_15.astimezone(written_in), "America/New_York")

    def test_a_tier_met_again_is_not_reviewed_sooner_than_already_planned(self) -> None:
        # Reviewed at the second 01:15 (06:15 UTC). Met again at 00:30 the day before, the
        # tier would be kept a day and reviewed an hour later, at the first 01:30 (05:30
        # UTC): sooner than planned, so nothing changes.
        ladder = TierLadder(
            levels=[Level("silver", spend=Decimal(100))],
            keep_for=relativedelta(days=1),
            grace=relativedelta(hours=1),
        )

        change, _ = upgrade(
            ladder,
            Standing(Decimal(150), 0, 1),
            tier="silver",
            review_at=ny(SECOND_01_15),
            at=ny(FIRST_01_30 - timedelta(days=1, hours=1)),
            currency="USD",
            zone=NEW_YORK,
        )

        assert change is None

    def test_the_notice_before_a_review_is_given_from_its_instant(self) -> None:
        # Reviewed a month after the first 01:30: the notice starts then, so it has
        # started at the second 01:15.
        ladder = TierLadder(
            levels=[Level("silver", spend=Decimal(100))], notice=relativedelta(months=1)
        )
        review_at = datetime(2026, 12, 1, 1, 30, tzinfo=NEW_YORK)
        state = CustomerState(Customer("ada"), tier="silver", tier_review_at=review_at)

        seen = status(
            ladder,
            state,
            at=ny(SECOND_01_15),
            today=ny(SECOND_01_15).date(),
            currency="USD",
            zone=NEW_YORK,
        )

        assert seen.will_downgrade


# -- the invariant: the same instants, written either way, give the same ledger ------------

REPEATING_ZONES = ["America/New_York", "Europe/London", "Australia/Lord_Howe"]


@functools.cache
def _clocks_go_back(name: str) -> datetime:
    """The instant (UTC, to the minute) in 2026 at which the clocks of ``name`` go back."""
    zone = zone_named(name)
    step = timedelta(minutes=30)
    at = datetime(2026, 1, 1, tzinfo=UTC)
    offset = at.astimezone(zone).utcoffset()
    while True:
        later = at + step
        later_offset = later.astimezone(zone).utcoffset()
        assert offset is not None
        assert later_offset is not None
        if later_offset < offset:
            while later - at > timedelta(minutes=1):
                middle = at + (later - at) / 2
                if middle.astimezone(zone).utcoffset() == offset:
                    at = middle
                else:
                    later = middle
            return later
        at, offset = later, later_offset


MINUTES = st.integers(0, 75)
OPERATIONS = st.lists(
    st.one_of(
        st.tuples(
            st.just("earn"),
            st.integers(1, 20),
            MINUTES,  # pending for
            st.none() | st.integers(-20, 150),  # expires, from now
        ),
        st.tuples(st.just("redeem"), st.integers(1, 20)),
        st.tuples(st.just("adjust"), st.integers(-20, 20).filter(bool), st.integers(1, 150)),
        st.tuples(st.just("hold"), st.integers(1, 20), st.integers(1, 150)),
        st.tuples(st.just("capture"), st.integers(1, 20)),
        st.tuples(st.just("release")),
        st.tuples(st.just("balance"), MINUTES),
    ).map(lambda operation: (operation, 0))
    | st.tuples(st.tuples(st.just("wait")), MINUTES),
    max_size=25,
)


def _seen_entry(entry: Entry) -> tuple[Any, ...]:
    """What an entry says, its times as instants."""
    return (
        entry.seq,
        entry.kind,
        instant(entry.at),
        entry.points,
        entry.source,
        entry.pending,
        entry.held,
        entry.uncollected,
        entry.hold_key,
        tuple((draw.lot.seq, draw.points) for draw in entry.draws),
        None if entry.lot is None else entry.lot.seq,
    )


def _seen_balance(read: Balance) -> tuple[Any, ...]:
    return (
        read.available,
        read.pending,
        read.held,
        None if read.expiring_at is None else instant(read.expiring_at),
        read.expiring_points,
        read.earned,
        read.redeemed,
        read.expired,
        read.reversed,
        read.adjusted,
    )


def _run(
    start: datetime,
    operations: list[tuple[tuple[Any, ...], int]],
    write: Any,
) -> list[Any]:
    """Run ``operations`` on a new ledger from ``start``, every time written by ``write``;
    what was seen: the entries, balances and refusals, the live lots and holds."""
    ledger = Ledger()
    now = start
    seen: list[Any] = []
    holds = 0

    def minutes(count: int) -> datetime:
        return write(now + timedelta(minutes=count))

    for number, (operation, wait) in enumerate(operations):
        now += timedelta(minutes=wait)
        kind, *args = operation
        entries: tuple[Entry, ...] = ()
        try:
            if kind == "earn":
                points, pending, expires = args
                ledger, entries = ledgers.earn(
                    ledger,
                    points=points,
                    source=f"o-{number}",
                    earned_at=write(now),
                    available_at=minutes(pending),
                    expires_at=None if expires is None else minutes(expires),
                    now=write(now),
                )
            elif kind == "redeem":
                ledger, entries = ledgers.redeem(
                    ledger, points=args[0], source=f"r-{number}", now=write(now)
                )
            elif kind == "adjust":
                ledger, entries = ledgers.adjust(
                    ledger,
                    points=args[0],
                    source=f"a-{number}",
                    now=write(now),
                    reason="goodwill",
                    expires_at=minutes(args[1]),
                )
            elif kind == "hold":
                holds += 1
                ledger, entries = ledgers.place_hold(
                    ledger,
                    key=f"h-{holds}",
                    points=args[0],
                    expires_at=minutes(args[1]),
                    now=write(now),
                )
            elif kind == "capture":
                ledger, entries, _ = ledgers.capture(
                    ledger, key=f"h-{holds}", points=args[0], now=write(now)
                )
            elif kind == "release":
                ledger, entries = ledgers.release(ledger, key=f"h-{holds}", now=write(now))
            elif kind == "balance":
                seen.append(_seen_balance(ledgers.balance(ledger, minutes(args[0]))))
            else:
                ledger, entries = ledgers.settle(ledger, write(now))
        except (InsufficientPoints, InvalidInput) as refused:
            seen.append(type(refused).__name__)
        seen.extend(_seen_entry(entry) for entry in entries)
    seen.append(_seen_balance(ledgers.balance(ledger, write(now))))
    seen.append([(lot.seq, lot.remaining) for lot in ledger.pending_lots])
    seen.append([(lot.seq, lot.remaining) for lot in ledger.available_lots])
    seen.append(sorted((key, instant(hold.expires_at)) for key, hold in ledger.holds.items()))
    seen.append(None if ledger.next_due_at is None else instant(ledger.next_due_at))
    return seen


class TestTheSameInstantsWrittenEitherWay:
    @given(
        name=st.sampled_from(REPEATING_ZONES),
        start=st.integers(-150, 30),
        operations=OPERATIONS,
        mixed=st.lists(st.booleans(), min_size=1, max_size=8),
    )
    def test_the_balance_and_statement_are_the_same_as_instants(
        self,
        *,
        name: str,
        start: int,
        operations: list[tuple[tuple[Any, ...], int]],
        mixed: list[bool],
    ) -> None:
        zone = zone_named(name)
        begin = _clocks_go_back(name) + timedelta(minutes=start)
        written = iter(range(1_000_000))

        def in_the_zone(moment: datetime) -> datetime:
            return moment.astimezone(zone)

        def either_way(moment: datetime) -> datetime:
            use_zone = mixed[next(written) % len(mixed)]
            return moment.astimezone(zone) if use_zone else moment

        in_utc = _run(begin, operations, lambda moment: moment)

        assert in_utc == _run(begin, operations, in_the_zone)
        assert in_utc == _run(begin, operations, either_way)


SERVICE_STEPS = st.lists(
    st.tuples(
        st.integers(0, 40),  # minutes the clock moves on first
        st.sampled_from(["buy", "redeem", "run_due"]),
        st.integers(1, 20),  # dollars spent or points redeemed
    ),
    max_size=10,
)


def _serve(make_store: Any, name: str, start: int, steps: list[Any], write: Any) -> list[Any]:
    """Purchases, redemptions and run_due() with a clock near the night the clocks of
    ``name`` go back, every time written by ``write``; the balances and the statement."""
    program = Program(
        time_zone=name,
        points=PointsPolicy(
            pending_for=relativedelta(minutes=40), expire_after=relativedelta(minutes=70)
        ),
    )
    now = _clocks_go_back(name) + timedelta(minutes=start)
    clock = FixedClock(write(now))
    service = RetentionService(program, make_store(), clock=clock)
    seen: list[Any] = []
    for number, (wait, kind, amount) in enumerate(steps):
        now += timedelta(minutes=wait)
        clock.set(write(now))
        try:
            if kind == "buy":
                service.record(
                    Purchase(
                        id=f"o-{number}",
                        customer_id="ada",
                        at=write(now),
                        amount=Decimal(amount),
                        currency="USD",
                    )
                )
            elif kind == "redeem":
                service.redeem("ada", amount, key=f"r-{number}")
            else:
                service.run_due()
            seen.append(_seen_balance(service.balance("ada")))
        except (InsufficientPoints, NotFound) as refused:
            seen.append(type(refused).__name__)
    if any(kind == "buy" for _, kind, _ in steps):
        seen.extend(_seen_entry(entry) for entry in service.statement("ada"))
    return seen


class TestTheServiceWithTheSameInstantsWrittenEitherWay:
    @pytest.mark.parametrize("make_store", STORES)
    @settings(max_examples=30)
    @given(name=st.sampled_from(REPEATING_ZONES), start=st.integers(-150, 0), steps=SERVICE_STEPS)
    def test_balances_and_statements_are_the_same_as_instants(
        self, make_store: Any, name: str, start: int, steps: list[Any]
    ) -> None:
        zone = zone_named(name)

        in_utc = _serve(make_store, name, start, steps, lambda moment: moment)

        assert in_utc == _serve(make_store, name, start, steps, lambda m: m.astimezone(zone))
