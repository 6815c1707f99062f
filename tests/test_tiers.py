"""Tier ladders: qualify on a rolling window, keep the tier a while, review after grace."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from dateutil.relativedelta import relativedelta

from custbond import (
    Customer,
    FixedClock,
    InvalidInput,
    MemoryStore,
    Program,
    Purchase,
    RetentionService,
    Return,
    Visit,
)
from custbond.bonds import Achievement
from custbond.bonds.tiers import ChangeTier, Level, TierLadder

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
LADDER = TierLadder(
    levels=[
        Level("silver", spend=Decimal(300), perks=["free refills"]),
        Level("gold", spend=Decimal(1000), visits=40, multiplier=2, perks=["lounge"]),
    ],
    window=relativedelta(months=12),
    keep_for=relativedelta(months=12),
    grace=timedelta(days=30),
    notice=timedelta(days=30),
)


class Club:
    def __init__(self, ladder: TierLadder = LADDER, **program: Any) -> None:
        self.clock = FixedClock(T0)
        self.program = Program(tiers=ladder, **program)
        self.service = RetentionService(self.program, MemoryStore(), self.clock)
        self.orders = 0

    def buy(self, amount: str, *, days: float = 0) -> None:
        self.clock.advance(timedelta(days=days))
        self.orders += 1
        self.service.record(
            Purchase(
                id=f"o-{self.orders}",
                customer_id="ada",
                at=self.clock.now(),
                amount=Decimal(amount),
                currency="USD",
            )
        )

    def give_back(self, purchase_id: str, amount: str) -> None:
        self.service.record(
            Return(
                id=f"x-{purchase_id}",
                customer_id="ada",
                at=self.clock.now(),
                purchase_id=purchase_id,
                amount=Decimal(amount),
            )
        )

    def tier(self) -> str | None:
        return self.service.tier_status("ada").tier


class TestQualifying:
    def test_the_purchase_that_crosses_a_threshold_moves_the_customer_up(self) -> None:
        club = Club()
        club.buy("250.00")
        assert club.tier() is None

        club.buy("60.00", days=10)

        assert "silver" == club.tier()

    def test_the_trace_and_the_history_say_why(self) -> None:
        club = Club()
        club.buy("250.00")

        outcome_trace = str(
            club.service.preview(
                Purchase(
                    id="o-x",
                    customer_id="ada",
                    at=club.clock.now(),
                    amount=Decimal("60.00"),
                    currency="USD",
                )
            ).trace
        )
        club.buy("60.00")

        expected = "qualified for 'silver': 310.00 USD spent, 310 points, 2 visits in 1 year"
        assert f"tier: {expected}" in outcome_trace
        with club.service.store.unit_of_work() as uow:
            state = uow.load("ada")
        assert state is not None
        [change] = state.tier_changes
        assert (None, "silver", expected) == (change.old, change.new, change.reason)

    def test_only_the_rolling_window_counts(self) -> None:
        club = Club()
        club.buy("250.00")

        club.buy("60.00", days=400)  # the first purchase is more than a year ago

        assert club.tier() is None

    def test_any_threshold_of_a_level_qualifies(self) -> None:
        ladder = TierLadder(levels=[Level("regular", visits=3)])
        club = Club(ladder)
        for n in range(3):
            club.service.record(Visit(id=f"v-{n}", customer_id="ada", at=club.clock.now()))

        assert "regular" == club.tier()

    def test_a_level_multiplies_its_members_spend_points(self) -> None:
        club = Club()
        club.buy("1000.00")
        club.buy("10.00")

        assert [1000, 20] == [
            entry.points for entry in club.service.statement("ada") if entry.kind == "earned"
        ]


class TestReturns:
    def test_a_return_comes_off_the_day_its_purchase_was_counted_on_after_a_move(
        self,
    ) -> None:
        club = Club(TierLadder(levels=[Level("silver", spend=Decimal(120), points=120)]))
        club.buy("100.00", days=0.45)  # 22:48 UTC, on 5 January in London
        club.buy("50.00", days=0.5)  # 6 January
        club.service.save_customer(Customer("ada", time_zone="Asia/Tokyo"))  # 6 January there

        club.give_back("o-1", "100.00")

        status = club.service.tier_status("ada")
        assert (Decimal("50.00"), 50) == (status.standing.spend, status.standing.points)

    def test_a_return_takes_off_the_points_its_purchase_counted_not_another_s(self) -> None:
        # The first purchase also earns an achievement's 500 points, which the ladder's
        # standing never counted: its return reverses 600 points, and takes 100 off it.
        first = Achievement("first", target=1, counts="purchases", per="ever", points=500)
        club = Club(TierLadder(levels=[Level("silver", points=1000)]), achievements=[first])
        club.buy("100.00")
        club.buy("70.00")

        club.give_back("o-1", "100.00")

        assert 70 == club.service.tier_status("ada").standing.points

    def test_a_returned_purchase_no_longer_counts_toward_the_next_level(self) -> None:
        club = Club()
        club.buy("200.00")
        club.buy("90.00", days=1)
        club.give_back("o-2", "90.00")

        club.buy("50.00", days=1)  # 340.00 bought, 250.00 kept: short of silver's 300.00

        status = club.service.tier_status("ada")
        assert (Decimal("250.00"), None) == (status.standing.spend, status.tier)

    def test_a_return_takes_its_spend_off_the_standing_but_not_a_tier_reached(self) -> None:
        club = Club()
        club.buy("400.00")

        club.give_back("o-1", "150.00")

        status = club.service.tier_status("ada")
        assert (Decimal("250.00"), "silver") == (status.standing.spend, status.tier)


class TestKeepingAndLosing:
    def test_a_tier_is_kept_through_its_period_and_grace_without_activity(self) -> None:
        club = Club()
        club.buy("1000.00")

        club.clock.advance(relativedelta(months=12) + timedelta(days=29))

        assert "gold" == club.tier()

    def test_at_the_review_the_customer_moves_down_to_what_they_still_meet(self) -> None:
        club = Club()
        club.buy("1000.00")
        # A year later the 1000.00 has left the window: 350.00 meets silver, not gold.
        club.buy("350.00", days=370)

        club.clock.set(T0 + relativedelta(months=12) + timedelta(days=30))
        outcomes = club.service.run_due()

        assert "silver" == club.tier()
        [change] = [effect for effect in outcomes[-1].effects if isinstance(effect, ChangeTier)]
        assert change.reason.startswith("did not requalify for 'gold', moved to 'silver'")

    def test_a_preview_after_a_due_review_decides_as_record_would(self) -> None:
        club = Club()
        club.buy("1000.00")
        club.clock.set(T0 + relativedelta(months=12) + timedelta(days=31))  # review due
        purchase = Purchase(
            id="o-x", customer_id="ada", at=club.clock.now(), amount=Decimal(10), currency="USD"
        )

        preview = club.service.preview(purchase)
        outcome = club.service.record(purchase)

        # Gold (x2) is gone at the review, before the purchase is decided: 10 points.
        assert (preview.effects, preview.trace) == (outcome.effects, outcome.trace)
        assert 10 == outcome.points

    def test_a_customer_who_meets_nothing_leaves_the_ladder(self) -> None:
        club = Club()
        club.buy("400.00")

        club.clock.advance(relativedelta(years=3))

        assert club.tier() is None

    def test_meeting_the_tier_again_keeps_it_longer(self) -> None:
        club = Club()
        club.buy("1000.00")
        club.buy("1000.00", days=300)

        club.clock.advance(relativedelta(months=12))  # past the first period and its grace

        status = club.service.tier_status("ada")
        assert ("gold", T0 + timedelta(days=300) + relativedelta(months=12)) == (
            status.tier,
            status.until,
        )

    def test_the_review_is_due_work_and_replays_the_same(self) -> None:
        club = Club()
        club.buy("1000.00")
        club.clock.set(T0 + relativedelta(years=2))
        club.service.run_due()

        again = RetentionService(club.program, MemoryStore(), FixedClock(T0))
        again.replay(club.service.log())

        with club.service.store.unit_of_work() as uow, again.store.unit_of_work() as other:
            assert uow.load("ada") == other.load("ada")


class TestStatus:
    def test_the_status_says_what_it_takes_to_keep_and_to_climb(self) -> None:
        club = Club()
        club.buy("320.00")

        status = club.service.tier_status("ada")

        assert ("silver", ("free refills",), None, "gold") == (
            status.tier,
            status.perks,
            status.to_keep,
            status.next,
        )
        assert "680.00 USD more spend, or 39 more visits" == status.to_next
        assert (T0 + relativedelta(months=12) + timedelta(days=30)) == status.review_at

    def test_a_downgrade_is_announced_within_the_notice_before_the_review(self) -> None:
        club = Club()
        club.buy("1000.00")
        review = T0 + relativedelta(months=12) + timedelta(days=30)

        club.clock.set(review - timedelta(days=31))  # the 1000.00 still counts
        early = club.service.tier_status("ada")
        club.clock.set(review - timedelta(days=29))  # it no longer does
        club.buy("400.00")
        late = club.service.tier_status("ada")

        assert (False, True, "silver") == (
            early.will_downgrade,
            late.will_downgrade,
            late.downgrade_to,
        )

    def test_a_program_without_a_ladder_has_no_tier_status(self) -> None:
        service = RetentionService(Program(), MemoryStore(), FixedClock(T0))
        service.record(
            Purchase(id="o-1", customer_id="ada", at=T0, amount=Decimal(5), currency="USD")
        )

        with pytest.raises(InvalidInput, match="a TierLadder"):
            service.tier_status("ada")


class TestValidation:
    def test_levels_with_thresholds_of_different_kinds_need_no_common_order(self) -> None:
        ladder = TierLadder(
            levels=[Level("base"), Level("regular", visits=10), Level("gold", spend=500)]
        )

        assert [level.name for level in ladder.levels] == ["base", "regular", "gold"]

    @pytest.mark.parametrize(
        ("build", "field"),
        [
            (lambda: TierLadder(levels=[]), "levels"),
            (lambda: TierLadder(levels=[Level("a"), Level("a")]), "levels"),
            (lambda: TierLadder(levels=["gold"]), "levels"),
            (lambda: Level("gold", spend=100.0), "spend"),
            (lambda: Level("gold", visits=0), "visits"),
            (lambda: Level("gold", perks="lounge"), "perks"),
            (lambda: Level("gold", multiplier=0), "factor"),
            (lambda: TierLadder(levels=[Level("a")], window="a year"), "window"),
            (lambda: Program(tiers="gold"), "tiers"),
            (
                lambda: TierLadder(levels=[Level("gold", spend=1000), Level("silver", spend=300)]),
                "levels[1].spend",
            ),
            (
                lambda: TierLadder(
                    levels=[Level("silver", visits=5, points=500), Level("gold", points=500)]
                ),
                "levels[1].points",
            ),
            (lambda: TierLadder(levels=[Level("gold", spend=1000), Level("base")]), "levels[1]"),
        ],
        ids=[
            "no-levels",
            "two-levels-one-name",
            "not-a-level",
            "float-spend",
            "no-visits",
            "perks-as-text",
            "zero-multiplier",
            "window-as-text",
            "tiers-not-a-ladder",
            "best-first",
            "same-points-twice",
            "base-above-a-level",
        ],
    )
    def test_a_ladder_that_cannot_work_is_rejected(self, build: object, field: str) -> None:
        with pytest.raises(InvalidInput) as raised:
            build()  # type: ignore[operator]

        assert field == raised.value.field
