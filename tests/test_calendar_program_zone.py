"""Which calendar each program date is reckoned on: the program's time zone for what the
program gives (points' return window, vouchers' validity, a punch card's lapse), the
customer's (or the program's, when the customer has none) for their tier.

These need custbond/program.py to pass its zones on (see the lead's proposals file,
/tmp/lead/calendar_proposals.md); that the same instant gives the same dates whatever
tzinfo it is written in is tested in test_calendar_zones.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any

import pytest
from dateutil import tz
from dateutil.relativedelta import relativedelta

from custbond import (
    Customer,
    FixedClock,
    LineItem,
    PointsPolicy,
    Program,
    Purchase,
    RetentionService,
)
from custbond.bonds import Level, PunchCard, Reward, TierLadder
from custbond.vouchers import VoucherOffer
from stores import STORES

NEW_YORK = tz.gettz("America/New_York")
TOKYO = tz.gettz("Asia/Tokyo")
# 28 February 2026, 23:30 in New York: already 1 March in UTC (04:30).
LATE_IN_FEBRUARY = datetime(2026, 2, 28, 23, 30, tzinfo=NEW_YORK)
WRITINGS = pytest.mark.parametrize(
    "written_in", [NEW_YORK, UTC, TOKYO], ids=["ny", "utc", "tokyo"]
)


@pytest.fixture(params=STORES)
def make_store(request: pytest.FixtureRequest) -> Any:
    return request.param


def _service(program: Program, store: Any, now: datetime) -> RetentionService:
    return RetentionService(program, store, clock=FixedClock(now))


def _buy(order_id: str, at: datetime, amount: str = "4.00", **more: Any) -> Purchase:
    return Purchase(
        id=order_id, customer_id="ada", at=at, amount=Decimal(amount), currency="USD", **more
    )


class TestPoints:
    @WRITINGS
    def test_the_return_window_is_counted_in_days_on_the_programs_calendar(
        self, make_store: Any, written_in: tzinfo
    ) -> None:
        # 1 March, 10:00 in New York; 14 days later the clocks there have moved forward:
        # 15 March, 10:00 in New York is 14:00 UTC, not 15:00.
        program = Program(
            time_zone="America/New_York",
            points=PointsPolicy(pending_for=relativedelta(days=14)),
        )
        bought = datetime(2026, 3, 1, 10, tzinfo=NEW_YORK)
        service = _service(program, make_store(), bought)

        outcome = service.record(_buy("o-1", bought.astimezone(written_in)))

        assert datetime(2026, 3, 15, 14, tzinfo=UTC) == outcome.entries[0].lot.available_at


COFFEE = LineItem("latte", 1, Decimal("4.00"), tags={"coffee"})


class TestVouchersAndCards:
    @WRITINGS
    def test_a_cards_voucher_is_valid_for_a_month_on_the_programs_calendar(
        self, make_store: Any, written_in: tzinfo
    ) -> None:
        card = PunchCard(
            "coffee",
            stamps=1,
            tag="coffee",
            reward=VoucherOffer("free coffee", sku="latte", valid_for=relativedelta(months=1)),
        )
        program = Program(time_zone="America/New_York", cards=[card])
        service = _service(program, make_store(), LATE_IN_FEBRUARY)

        service.record(_buy("o-1", LATE_IN_FEBRUARY.astimezone(written_in), items=(COFFEE,)))

        [voucher] = service.vouchers("ada")
        assert datetime(2026, 3, 28, 23, 30, tzinfo=NEW_YORK) == voucher.expires_at

    @WRITINGS
    def test_a_cards_stamps_lapse_a_month_after_the_first_on_the_programs_calendar(
        self, make_store: Any, written_in: tzinfo
    ) -> None:
        # The first stamp on 28 February, 23:30 in New York: the stamps lapse on 28 March,
        # 23:30 there, before a purchase on 29 March in New York (30 March in UTC).
        card = PunchCard(
            "coffee",
            stamps=3,
            tag="coffee",
            reward=VoucherOffer("free coffee", sku="latte"),
            expire_after=relativedelta(months=1),
        )
        program = Program(time_zone="America/New_York", cards=[card])
        service = _service(program, make_store(), datetime(2026, 4, 1, tzinfo=UTC))
        service.record(_buy("o-1", LATE_IN_FEBRUARY.astimezone(written_in), items=(COFFEE,)))

        later = datetime(2026, 3, 29, 20, 30, tzinfo=NEW_YORK).astimezone(written_in)
        outcome = service.record(_buy("o-2", later, items=(COFFEE,)))

        assert "card 'coffee': 1 stamps lapsed, the card starts again" in str(outcome.trace)

    @pytest.mark.parametrize("clock_in", [NEW_YORK, UTC, TOKYO], ids=["ny", "utc", "tokyo"])
    def test_a_rewards_voucher_is_valid_for_a_month_on_the_programs_calendar(
        self, make_store: Any, clock_in: tzinfo
    ) -> None:
        mug = Reward(
            "mug",
            points=10,
            offer=VoucherOffer("a mug", sku="mug", valid_for=relativedelta(months=1)),
        )
        program = Program(time_zone="America/New_York", catalog=[mug])
        service = _service(program, make_store(), LATE_IN_FEBRUARY.astimezone(clock_in))
        service.record(_buy("o-1", LATE_IN_FEBRUARY, "10.00"))

        service.redeem_reward("ada", "mug", key="r-1")

        [voucher] = service.vouchers("ada")
        assert datetime(2026, 3, 28, 23, 30, tzinfo=NEW_YORK) == voucher.expires_at


LADDER = TierLadder(
    levels=[Level("silver", spend=Decimal(100))],
    window=relativedelta(months=2),
    keep_for=relativedelta(months=1),
    grace=relativedelta(days=3),
)
# 30 January, 20:00 in UTC: already 31 January, 05:00 in Tokyo.
REACHED = datetime(2026, 1, 30, 20, tzinfo=UTC)


class TestTiers:
    def club(self, store: Any) -> RetentionService:
        service = _service(Program(time_zone="America/New_York", tiers=LADDER), store, REACHED)
        service.save_customer(Customer("ada", time_zone="Asia/Tokyo"))
        return service

    @WRITINGS
    def test_a_tier_is_kept_a_month_on_the_customers_calendar(
        self, make_store: Any, written_in: tzinfo
    ) -> None:
        service = self.club(make_store())

        service.record(_buy("o-1", REACHED.astimezone(written_in), "150.00"))

        status = service.tier_status("ada")
        assert "silver" == status.tier
        assert datetime(2026, 2, 28, 5, tzinfo=TOKYO) == status.until
        assert datetime(2026, 3, 3, 5, tzinfo=TOKYO) == status.review_at

    def test_a_tier_kept_at_its_review_is_kept_another_month_on_the_customers_calendar(
        self, make_store: Any
    ) -> None:
        service = self.club(make_store())
        service.record(_buy("o-1", REACHED, "150.00"))  # still in the window at the review

        status = service.tier_status("ada", at=datetime(2026, 3, 3, 5, tzinfo=TOKYO))

        assert "silver" == status.tier
        assert datetime(2026, 4, 3, 5, tzinfo=TOKYO) == status.until
        assert datetime(2026, 4, 6, 5, tzinfo=TOKYO) == status.review_at

    def test_without_a_zone_of_their_own_a_customers_tier_follows_the_programs_calendar(
        self, make_store: Any
    ) -> None:
        program = Program(time_zone="America/New_York", tiers=LADDER)
        service = _service(program, make_store(), LATE_IN_FEBRUARY)

        service.record(_buy("o-1", LATE_IN_FEBRUARY.astimezone(UTC), "150.00"))

        status = service.tier_status("ada")
        assert datetime(2026, 3, 28, 23, 30, tzinfo=NEW_YORK) == status.until
        assert datetime(2026, 3, 31, 23, 30, tzinfo=NEW_YORK) == status.review_at
        assert timedelta(0) == status.until - datetime(2026, 3, 29, 3, 30, tzinfo=UTC)
