"""Achievements: a target over a resetting period, with progress and a reward once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from custbond import (
    FixedClock,
    InvalidInput,
    MemoryStore,
    Program,
    Purchase,
    RetentionService,
    Visit,
)
from custbond.bonds.achievements import Achievement
from custbond.vouchers import VoucherOffer

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
FIVE_VISITS = Achievement(
    "five visits", target=5, counts="visits", per="month", points=50, tag="regular"
)
BIG_WEEK = Achievement(
    "big week",
    target=Decimal(100),
    counts="spend",
    per="week",
    gift=VoucherOffer("a tote bag", sku="tote"),
)


def _service(*achievements: Achievement) -> tuple[RetentionService, FixedClock]:
    clock = FixedClock(T0)
    program = Program(achievements=achievements)
    return RetentionService(program, MemoryStore(), clock), clock


def _visit(service: RetentionService, n: int) -> int:
    at = service.clock.now()
    return service.record(Visit(id=f"v-{n}", customer_id="ada", at=at)).points


def _buy(service: RetentionService, n: int, amount: str) -> None:
    at = service.clock.now()
    service.record(
        Purchase(id=f"o-{n}", customer_id="ada", at=at, amount=Decimal(amount), currency="USD")
    )


class TestAchievements:
    def test_reaching_the_target_gives_the_reward_once_a_period(self) -> None:
        service, clock = _service(FIVE_VISITS)

        given = []
        for n in range(7):
            clock.advance(timedelta(days=1))
            given.append(_visit(service, n))

        assert [0, 0, 0, 0, 50, 0, 0] == given
        assert "regular" in service.customer("ada").tags

    def test_progress_shows_and_starts_again_each_period(self) -> None:
        service, clock = _service(FIVE_VISITS)
        for n in range(3):
            _visit(service, n)

        [now] = service.achievements("ada")
        clock.set(datetime(2026, 4, 1, 9, tzinfo=UTC))
        [next_month] = service.achievements("ada")

        assert ("2026-03", 3, 5, False) == (now.period, now.progress, now.target, now.reached)
        assert ("2026-04", 0, False) == (
            next_month.period,
            next_month.progress,
            next_month.reached,
        )

    def test_spend_in_a_week_gives_a_gift(self) -> None:
        service, clock = _service(BIG_WEEK)
        _buy(service, 1, "60.00")
        clock.advance(timedelta(days=2))
        _buy(service, 2, "45.00")

        [voucher] = service.vouchers("ada")

        assert ("a tote bag", "achievement big week") == (voucher.name, voucher.source)
        assert [True] == [status.reached for status in service.achievements("ada")]

    def test_a_new_week_counts_from_zero(self) -> None:
        service, clock = _service(BIG_WEEK)
        _buy(service, 1, "60.00")
        clock.advance(timedelta(days=7))  # the next Monday
        _buy(service, 2, "45.00")

        assert () == service.vouchers("ada")

    def test_the_trace_says_what_reaching_it_gave(self) -> None:
        service, clock = _service(FIVE_VISITS)
        for n in range(4):
            _visit(service, n)

        decision = service.preview(Visit(id="v-x", customer_id="ada", at=clock.now()))

        assert "achievement 'five visits' reached for 2026-03: 50 points, tag 'regular'" in str(
            decision.trace
        )

    def test_a_replay_reaches_the_same(self) -> None:
        service, _ = _service(FIVE_VISITS, BIG_WEEK)
        for n in range(6):
            _visit(service, n)
            _buy(service, n, "30.00")

        again = RetentionService(service.program, MemoryStore(), FixedClock(T0))
        again.replay(service.log())

        assert service.achievements("ada") == again.achievements("ada")
        assert service.vouchers("ada") == again.vouchers("ada")

    @pytest.mark.parametrize(
        ("build", "field"),
        [
            (lambda: Achievement("a", target=0, points=5), "target"),
            (lambda: Achievement("a", target=5, counts="hugs", points=5), "counts"),
            (lambda: Achievement("a", target=5, per="decade", points=5), "per"),
            (lambda: Achievement("a", target=5), "achievement"),
            (lambda: Program(achievements=[FIVE_VISITS, FIVE_VISITS]), "achievements"),
        ],
        ids=["no-target", "unknown-count", "unknown-period", "no-reward", "two-one-name"],
    )
    def test_an_achievement_that_cannot_work_is_rejected(self, build: object, field: str) -> None:
        with pytest.raises(InvalidInput) as raised:
            build()  # type: ignore[operator]

        assert field == raised.value.field


class TestTargets:
    """A target is reachable and of the kind counted: a positive int for visits and
    purchases, a positive int or finite Decimal amount for spend."""

    @pytest.mark.parametrize(
        ("target", "counts"),
        [
            (Decimal("NaN"), "spend"),
            (Decimal("sNaN"), "spend"),
            (Decimal("Infinity"), "spend"),
            (Decimal("-Infinity"), "spend"),
            (Decimal("NaN"), "visits"),
            (Decimal("Infinity"), "visits"),
            (Decimal("2.5"), "visits"),
            (Decimal("0"), "spend"),
            (Decimal("-0.01"), "spend"),
            (0, "visits"),
            (-1, "purchases"),
            (True, "visits"),
            (2.5, "spend"),
        ],
        ids=[
            "nan-spend",
            "signalling-nan",
            "infinite-spend",
            "minus-infinity",
            "nan-visits",
            "infinite-visits",
            "fractional-visits",
            "zero-spend",
            "negative-spend",
            "zero-visits",
            "negative-purchases",
            "a-bool",
            "a-float",
        ],
    )
    def test_one_that_cannot_be_reached_or_counted_is_refused_naming_target(
        self, target: object, counts: str
    ) -> None:
        with pytest.raises(InvalidInput) as raised:
            Achievement("a", target=target, counts=counts, points=5)  # type: ignore[arg-type]

        assert "target" == raised.value.field
        assert "positive int" in raised.value.expected

    @pytest.mark.parametrize(
        ("target", "counts"),
        [
            (1, "visits"),
            (3, "purchases"),
            (100, "spend"),
            (Decimal("0.01"), "spend"),
            (Decimal("250.50"), "spend"),
        ],
    )
    def test_a_positive_count_or_finite_amount_is_accepted(
        self, target: int | Decimal, counts: str
    ) -> None:
        assert target == Achievement("a", target=target, counts=counts, points=5).target
