"""A rule that reads ``state.balance`` sees the points available at the event, whether or
not ``run_due()`` has materialised what cleared or expired before it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta

from custbond import (
    EntryKind,
    FixedClock,
    LineItem,
    PointsPolicy,
    Program,
    Purchase,
    RetentionService,
)
from custbond.rules import Discount, FixedPoints, Rule, state
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
