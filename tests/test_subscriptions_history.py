"""A customer holds one subscription per plan: subscribing again after a cancellation
puts the new subscription in the cancelled one's place in ``subscriptions()``, and the
cancelled one lives on in the event log, on every store."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from custbond import CancelSubscription, FixedClock, RetentionService, SubscriptionStatus
from custbond.bonds.subscriptions import Subscription
from custbond.effects import SetHeld
from custbond.storage.ports import Store
from stores import STORES
from test_subscriptions_reminders import MAR_2, program


@pytest.fixture(params=STORES)
def make_store(request: pytest.FixtureRequest) -> Callable[[], Store]:
    maker: Callable[[], Store] = request.param
    return maker


def cancelled_in_the_log(service: RetentionService, customer_id: str) -> list[Subscription]:
    return [
        effect.value
        for record in service.log()
        if isinstance(record.input, CancelSubscription) and record.input.customer_id == customer_id
        for effect in record.outcome.effects
        if isinstance(effect, SetHeld) and effect.part == "subscriptions"
    ]


def test_subscribing_again_shows_the_new_subscription_and_the_log_keeps_the_old(
    make_store: Callable[[], Store],
) -> None:
    clock = FixedClock(MAR_2)
    service = RetentionService(program(), make_store(), clock)
    service.subscribe("maya", "pie-box", key="sub-1")
    clock.set(datetime(2026, 4, 2, tzinfo=UTC))
    service.cancel_subscription("maya", "pie-box", key="cancel-1", reason="moving")
    clock.set(datetime(2026, 5, 2, tzinfo=UTC))

    service.subscribe("maya", "pie-box", key="sub-2")

    (current,) = service.subscriptions("maya").values()
    assert (current.status, current.started_at, current.occurrences) == (
        SubscriptionStatus.ACTIVE,
        datetime(2026, 5, 2, tzinfo=UTC),
        0,
    )
    (old,) = cancelled_in_the_log(service, "maya")
    assert (old.status, old.started_at, old.occurrences, old.cancel_reason) == (
        SubscriptionStatus.CANCELLED,
        MAR_2,
        1,  # the box of 31 March
        "moving",
    )
