"""Replaying a history through a program full of rules gives the same decisions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from hypothesis import given, settings

from custbond import Event, FixedClock, MemoryStore, Program, RetentionService
from custbond.bonds import Achievement, Level, PunchCard, Reward, TierLadder
from custbond.rules import (
    Budget,
    FirstCustomers,
    FixedPoints,
    Gift,
    Group,
    Limit,
    Multiplier,
    PointsPerItem,
    Rule,
    Stamps,
    Tag,
    Window,
    customer,
    event,
    local,
    state,
)
from custbond.testing.strategies import histories
from custbond.vouchers import VoucherOffer

START = datetime(2026, 1, 5, tzinfo=UTC)
TREAT = VoucherOffer("a treat", sku="cookie", valid_for=timedelta(days=30))
PROGRAM = Program(
    rules=[
        Rule(
            "double for gold",
            on="Purchase",
            when=customer.tier == "gold",
            then=[Multiplier(2)],
            limits=[Limit(3, per="week")],
            group="promos",
        ),
        Rule(
            "weekend triple",
            on="Purchase",
            when=local.weekday.is_in(["SA", "SU"]),
            then=[Multiplier(3)],
            group="promos",
        ),
        Rule("per item", on="Purchase", when=event.quantity >= 2, then=[PointsPerItem(1)]),
        Rule(
            "launch",
            on="Purchase",
            then=[FixedPoints(25)],
            limits=[Budget(100), FirstCustomers(2)],
            window=Window(starts=START, ends=START + timedelta(days=60)),
        ),
        Rule("come back", on="Visit", when=state.days_since_last_purchase >= 14,
             then=[Gift(TREAT), Tag("returning")]),
        Rule("reviews", on="CustomEvent", when=event.name == "review_posted",
             then=[FixedPoints(10), Stamps("reviews")], priority=5, exclusive=True),
    ],
    groups=[Group("promos", take="best")],
    cards=[PunchCard("coffee", stamps=3, reward=TREAT, expire_after=relativedelta(months=2))],
    tiers=TierLadder(levels=[Level("silver", spend=Decimal(100)), Level("gold", spend=Decimal(400),
                                                                            multiplier=2)]),
    catalog=[Reward("mug", points=200, offer=VoucherOffer("a mug", sku="mug"), stock=3)],
    achievements=[Achievement("busy week", target=3, per="week", points=15)],
)  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(histories(max_size=25, start=START))
def test_a_replay_of_any_history_returns_the_same_outcomes_and_state(events: list[Event]) -> None:
    clock = FixedClock(START)
    service = RetentionService(PROGRAM, MemoryStore(), clock)
    outcomes = []
    for item in events:
        clock.set(max(clock.now(), item.at))
        outcomes.append(service.record(item))
    clock.set(clock.now() + relativedelta(years=2))
    service.run_due()

    again = RetentionService(PROGRAM, MemoryStore(), FixedClock(START))
    replayed = again.replay(service.log())

    assert outcomes == replayed[: len(outcomes)]
    customers = {item.customer_id for item in events}
    with service.store.unit_of_work() as first, again.store.unit_of_work() as second:
        for customer_id in sorted(customers):
            assert first.load(customer_id) == second.load(customer_id)
