"""Decisions read the customer as of the decision, whether or not ``run_due()`` has
materialised what became due: the points available (``state.balance``), the stamps of a
card that has lapsed, a tier whose review has fallen due (in ``quote()``), and the points
of a returned purchase that have expired (in ``preview()``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta

from custbond import (
    EntryKind,
    FixedClock,
    Level,
    LineItem,
    PointsPolicy,
    Program,
    PunchCard,
    Purchase,
    RetentionService,
    Return,
    TierLadder,
    Visit,
    VoucherOffer,
)
from custbond.rules import Discount, FixedPoints, Rule, customer, parse_condition, state
from custbond.storage.ports import Store
from stores import STORES

T0 = datetime(2026, 3, 2, 8, tzinfo=UTC)
BONUS = Rule("big balance bonus", on="Purchase", when=state.balance >= 100, then=[FixedPoints(10)])
CLEARS = PointsPolicy(pending_for=relativedelta(days=14))  # 150 points available on day 14
EXPIRES = PointsPolicy(expire_after=relativedelta(months=1))  # and gone after a month


def _bonus_after(
    make_store: Callable[[], Store], policy: PointsPolicy, days: int, *, run_due: bool
) -> int:
    clock = FixedClock(T0)
    service = RetentionService(Program(points=policy, rules=[BONUS]), make_store(), clock)
    buy = Purchase(id="o-1", customer_id="a", at=T0, amount=Decimal("150.00"), currency="USD")
    service.record(buy)
    clock.advance(timedelta(days=days))
    if run_due:
        service.run_due()
    later = Purchase(
        id="o-2", customer_id="a", at=clock.now(), amount=Decimal("5.00"), currency="USD"
    )
    outcome = service.record(later)  # its points net of what expired with it: the earned
    return sum(entry.points for entry in outcome.entries if entry.kind is EntryKind.EARNED) - 5


@pytest.mark.parametrize("make_store", STORES)
@pytest.mark.parametrize(
    ("policy", "days", "bonus"),
    [(CLEARS, 20, 10), (CLEARS, 10, 0), (EXPIRES, 60, 0), (EXPIRES, 20, 10)],
    ids=["cleared", "still-pending", "expired", "not-yet-expired"],
)
def test_the_decision_is_the_same_whether_or_not_run_due_ran(
    make_store: Callable[[], Store], policy: PointsPolicy, days: int, bonus: int
) -> None:
    # Without run_due(), the rule read the ledger as last written: points cleared six
    # days ago were not there, and points expired a month ago still were.
    assert bonus == _bonus_after(make_store, policy, days, run_due=False)
    assert bonus == _bonus_after(make_store, policy, days, run_due=True)


@pytest.mark.parametrize("make_store", STORES)
def test_a_quote_sees_the_points_cleared_by_its_time(make_store: Callable[[], Store]) -> None:
    rule = Rule("rich", on="Purchase", when=state.balance >= 100, then=[Discount(percent=10)])
    clock = FixedClock(T0)
    service = RetentionService(Program(points=CLEARS, rules=[rule]), make_store(), clock)
    service.record(
        Purchase(id="o-1", customer_id="a", at=T0, amount=Decimal("150.00"), currency="USD")
    )
    clock.advance(timedelta(days=20))  # cleared on day 14; no run_due() since

    quote = service.quote("a", [LineItem("beans", 1, Decimal("10.00"))])

    assert Decimal("1.00") == quote.discount


@pytest.mark.parametrize("make_store", STORES)
def test_a_rule_reading_stamps_does_not_count_those_of_a_lapsed_card(
    make_store: Callable[[], Store],
) -> None:
    card = PunchCard(
        "coffee",
        stamps=10,
        sku="latte",
        reward=VoucherOffer("free latte", sku="latte"),
        expire_after=relativedelta(months=1),
    )
    regular = Rule(
        "regular", on="Visit", when=parse_condition("state.stamps(card='coffee') >= 3"),
        then=[FixedPoints(50)],
    )  # fmt: skip
    clock = FixedClock(T0)
    service = RetentionService(
        Program(earn=None, cards=[card], rules=[regular]), make_store(), clock
    )
    lattes = (LineItem("latte", 3, Decimal("3.00")),)
    service.record(
        Purchase(
            id="o-1", customer_id="a", at=T0, amount=Decimal("9.00"), currency="USD", items=lattes
        )
    )
    clock.advance(timedelta(days=40))  # the card lapsed a month after its first stamp

    visit = service.record(Visit(id="v-1", customer_id="a", at=clock.now()))

    assert 0 == visit.points
    assert "state.stamps(card='coffee') is 0" in str(visit.trace)


@pytest.mark.parametrize("make_store", STORES)
def test_a_quote_does_not_give_the_discount_of_a_tier_that_has_ended(
    make_store: Callable[[], Store],
) -> None:
    ladder = TierLadder(
        [Level("gold", spend=100)],
        window=relativedelta(months=1),
        keep_for=relativedelta(months=1),
        grace=timedelta(days=1),
    )
    gold = Rule(
        "gold discount", on="Purchase", when=customer.tier == "gold", then=[Discount(percent=10)]
    )
    clock = FixedClock(T0)
    service = RetentionService(Program(tiers=ladder, rules=[gold]), make_store(), clock)
    service.record(
        Purchase(id="o-1", customer_id="a", at=T0, amount=Decimal("150.00"), currency="USD")
    )
    clock.advance(timedelta(days=90))  # reviewed a month and a day on; run_due() not run

    quote = service.quote("a", [LineItem("beans", 1, Decimal("20.00"))])

    assert service.tier_status("a").tier is None
    assert Decimal(0) == quote.discount


@pytest.mark.parametrize("make_store", STORES)
def test_a_preview_of_a_return_of_expired_points_reverses_none_as_record_does(
    make_store: Callable[[], Store],
) -> None:
    clock = FixedClock(T0)
    program = Program(points=PointsPolicy(expire_after=relativedelta(days=14)))
    service = RetentionService(program, make_store(), clock)
    service.record(
        Purchase(id="o-3", customer_id="c-1", at=T0, amount=Decimal("37.00"), currency="USD")
    )
    clock.advance(timedelta(days=14))  # its points expire now; run_due() not run
    back = Return(
        id="x-4", customer_id="c-1", at=clock.now(), purchase_id="o-3", amount=Decimal("1.00")
    )

    previewed = service.preview(back)

    assert previewed.trace == service.record(back).trace
    assert "nothing to reverse" in str(previewed.trace)
