"""The bond profile through the service, on every store: three contrasting customers
(held by points only; by a relationship and a subscription; by nothing), and the list of
customers held by no bond or by one weak bond."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from custbond import (
    Bond,
    BondLevel,
    ContactMade,
    Customer,
    FixedClock,
    LineItem,
    Plan,
    Program,
    Purchase,
    RetentionService,
    SocialPolicy,
    StructuralPolicy,
    TierLadder,
)
from custbond.bonds import Level
from custbond.storage.ports import Store
from stores import STORES

NOW = datetime(2026, 6, 1, 9, tzinfo=UTC)
PROGRAM = Program(
    tiers=TierLadder(
        levels=[Level("silver", spend=Decimal("50")), Level("gold", spend=Decimal("500"))]
    ),
    social=SocialPolicy(),
    structure=StructuralPolicy(
        plans=[Plan(name="box", every="FREQ=MONTHLY;BYMONTHDAY=-1;BYHOUR=9", price=Decimal("20"))]
    ),
)
PIE = LineItem(sku="pie", quantity=1, unit_price=Decimal("20.00"))


@pytest.fixture(params=STORES)
def service(request: pytest.FixtureRequest) -> RetentionService:
    make_store: Callable[[], Store] = request.param
    service = RetentionService(PROGRAM, make_store(), FixedClock(NOW - timedelta(days=30)))
    for week in range(4):  # points and a tier, nothing else
        at = NOW - timedelta(days=30) + timedelta(days=7 * week)
        service.clock.set(at)  # type: ignore[attr-defined]
        service.record(
            Purchase(
                id=f"p-{week}",
                customer_id="points-only",
                at=at,
                amount=Decimal("20.00"),
                currency="USD",
                items=(PIE,),
            )
        )
    service.clock.set(NOW)  # type: ignore[attr-defined]
    service.assign_owner("people-and-box", "Sam", key="owner")
    service.record(ContactMade(id="chat", customer_id="people-and-box", at=NOW, by="Sam"))
    service.subscribe("people-and-box", "box", key="box")
    service.save_customer(Customer("nothing"))
    return service


def test_three_contrasting_customers_have_three_contrasting_profiles(
    service: RetentionService,
) -> None:
    points = service.bond_profile("points-only")
    assert points.held_by == (Bond.FINANCIAL,)
    assert points.financial.level in (BondLevel.MODERATE, BondLevel.STRONG)
    assert {fact.name: fact.value for fact in points.financial.facts}["tier"] == "silver"
    people = service.bond_profile("people-and-box")
    assert set(people.held_by) == {Bond.SOCIAL, Bond.STRUCTURAL}
    assert people.financial.level is BondLevel.NONE
    nothing = service.bond_profile("nothing")
    assert nothing.is_unbonded
    assert nothing.is_weakly_held
    assert [profile.customer_id for profile in service.weakly_held()] == ["nothing"]
    for profile in (points, people, nothing):
        assert all(0 <= strength.score <= 100 for strength in profile.bonds)
        assert profile.describe().startswith(profile.customer_id)


def test_a_cancelled_subscription_no_longer_holds(service: RetentionService) -> None:
    service.cancel_subscription("people-and-box", "box", key="cancel", reason="too many pies")
    assert Bond.STRUCTURAL not in service.bond_profile("people-and-box").held_by
