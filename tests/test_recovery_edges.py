"""Service recovery: regressions found by a review of issue #6's first version, each on
the stores it concerns."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from custbond import (
    ComplaintAcknowledged,
    ComplaintFiled,
    ComplaintResolved,
    Customer,
    FixedClock,
    InvalidInput,
    MemoryStore,
    Program,
    Purchase,
    RetentionService,
    Return,
    SurveyResponse,
)
from custbond.recovery import (
    Compensation,
    CompensationLadder,
    Escalation,
    FollowUp,
    GoodwillVoucher,
    IncidentDeclared,
    RecoveryPolicy,
    Refund,
    Rung,
    Targets,
)
from stores import STORES

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)  # a Monday


def _service(store, policy=None, clock=None):
    return RetentionService(Program(recovery=policy), store, clock=clock or FixedClock(T0))


# 1. A complaint's goodwill voucher and an incident's share a code when their ids match:
#    the incident's voucher overwrites the (used) complaint voucher.
@pytest.mark.parametrize("make_store", STORES)
def test_complaint_and_incident_vouchers_do_not_collide(make_store):
    policy = RecoveryPolicy(
        compensation=CompensationLadder([Rung([GoodwillVoucher(Decimal("5.00"))])]),
        incident_goodwill=[GoodwillVoucher(Decimal("2.00"))],
        apology=None,
        incident_notice=None,
    )
    service = _service(make_store(), policy)
    service.save_customer(Customer("c-1"))
    service.record(ComplaintFiled(id="17", customer_id="c-1", at=T0, category="x", severity="low"))
    service.record(ComplaintResolved(id="r-17", customer_id="c-1", at=T0, complaint_id="17"))
    (first,) = service.vouchers("c-1")
    service.use_voucher("c-1", first.code, key="checkout-1")
    service.declare_incident(IncidentDeclared(id="17", at=T0, what="outage", customer_ids=["c-1"]))

    vouchers = service.vouchers("c-1")
    assert (
        len(vouchers) == 2
    )  # the first version: 1, the used 5.00 voucher replaced by an issued 2.00
    assert any(v.source == "complaint 17" and v.status.value == "used" for v in vouchers)


# 2. Escalation timers point at a step by its index: removing an earlier step from the
#    policy silently drops a later step that is still there, unchanged.
def test_a_step_still_in_the_policy_fires_after_another_is_removed():
    def policy(*steps):
        return RecoveryPolicy(
            targets={
                "high": Targets(
                    acknowledge=timedelta(hours=2), resolve=timedelta(hours=8), escalations=steps
                )
            }
        )

    resolve_step = Escalation(target="resolve", notify="duty manager")
    store, clock = MemoryStore(), FixedClock(T0)
    old = _service(
        store, policy(Escalation(target="acknowledge", notify="lead"), resolve_step), clock
    )
    old.record(ComplaintFiled(id="k", customer_id="c-1", at=T0, category="x", severity="high"))
    old.record(
        ComplaintAcknowledged(
            id="a", customer_id="c-1", at=T0 + timedelta(hours=1), complaint_id="k"
        )
    )
    new = _service(store, policy(resolve_step), clock)
    clock.set(T0 + timedelta(hours=10))
    new.run_due()

    assert [t.owner for t in new.tasks()] == [
        "duty manager"
    ]  # the first version: [] ("no longer in the policy")


# 3. Erasure renames the customer's id wherever it appears as a substring of a key:
#    customer "7" turns the task key "cmp-7:follow-up" into "cmp-erased-p:follow-up",
#    while the case (and the replayed OpenTask) keep "cmp-7": the erased log no longer
#    replays (CloseTask names a task that replay never opens).
@pytest.mark.parametrize("make_store", STORES)
def test_the_erased_log_replays_when_an_id_contains_the_customer_id(make_store):
    service = _service(make_store(), RecoveryPolicy(follow_up=FollowUp(owner="care")))
    service.save_customer(Customer("7", email="a@example.com"))
    service.record(
        ComplaintFiled(id="cmp-7", customer_id="7", at=T0, category="x", severity="high")
    )
    service.record(ComplaintResolved(id="r-7", customer_id="7", at=T0, complaint_id="cmp-7"))
    service.close_task("cmp-7:follow-up", "done")
    service.forget("7", pseudonym="erased-p")

    copy = RetentionService(service.program, make_store(), clock=FixedClock(T0))
    copy.replay(
        service.log()
    )  # the first version: NotFound: no task with id 'cmp-erased-p:follow-up'
    assert service.tasks(open_only=False) == copy.tasks(open_only=False)


# 4. close_task() retried after forget() raises IdempotencyConflict (the logged result
#    was erased), where every other input returns its erased first outcome.
@pytest.mark.parametrize("make_store", STORES)
def test_close_task_retried_after_forget_is_a_repeat(make_store):
    service = _service(make_store(), RecoveryPolicy(follow_up=FollowUp(owner="care")))
    service.save_customer(Customer("c-1"))
    service.record(
        ComplaintFiled(id="cmp-1", customer_id="c-1", at=T0, category="x", severity="high")
    )
    service.record(ComplaintResolved(id="r-1", customer_id="c-1", at=T0, complaint_id="cmp-1"))
    service.close_task("cmp-1:follow-up", "she was happy")
    service.forget("c-1", pseudonym="erased-1")

    service.close_task(
        "cmp-1:follow-up", "she was happy"
    )  # the first version: IdempotencyConflict


# 5. surveys() promises "oldest first" but returns the order answers were recorded in.
def test_surveys_are_oldest_first():
    service = _service(MemoryStore())
    later = SurveyResponse(
        id="s-2", customer_id="c-1", at=T0 + timedelta(days=5), scale="nps", score=9
    )
    earlier = SurveyResponse(id="s-1", customer_id="c-1", at=T0, scale="nps", score=3)
    service.record(later)
    service.record(earlier)  # reported late
    assert [a.id for a in service.surveys("c-1")] == [
        "s-1",
        "s-2",
    ]  # the first version: ['s-2', 's-1']


# 6. Without a ladder (or without a recovery policy) a host's compensation is not checked
#    at all: 1,000,000 points and a 5,000.00 refund on a 10.00 order are given.
@pytest.mark.parametrize("policy", [None, RecoveryPolicy()], ids=["no policy", "no ladder"])
def test_host_compensation_is_held_to_the_order_without_a_ladder(policy):
    service = _service(MemoryStore(), policy)
    service.record(
        ComplaintFiled(
            id="k",
            customer_id="c-1",
            at=T0,
            category="x",
            severity="low",
            order_value=Decimal("10.00"),
        )
    )
    with pytest.raises(InvalidInput):
        service.record(
            ComplaintResolved(
                id="r",
                customer_id="c-1",
                at=T0,
                complaint_id="k",
                compensation=Compensation(points=1_000_000, refund=Decimal("5000.00")),
            )
        )


# 7. An acknowledgement and resolution reported after run_due() escalated: both targets
#    were met (breached() is False for both, the report counts no breach), yet the case
#    stays raised to critical and the critical rung's compensation is paid.
def test_a_case_met_in_time_but_reported_late_is_compensated_as_filed():
    policy = RecoveryPolicy(
        targets={
            "high": Targets(
                acknowledge=timedelta(hours=2),
                resolve=timedelta(hours=8),
                escalations=[Escalation(target="resolve", notify="manager", raise_to="critical")],
            )
        },
        compensation=CompensationLadder(
            [
                Rung([Refund(Decimal("0.5"))], severity="critical"),
                Rung([GoodwillVoucher(Decimal("5.00"))], severity="high"),
            ]
        ),
    )
    clock = FixedClock(T0)
    service = _service(MemoryStore(), policy, clock)
    service.record(
        ComplaintFiled(
            id="k",
            customer_id="c-1",
            at=T0,
            category="x",
            severity="high",
            order_value=Decimal("40.00"),
        )
    )
    clock.set(T0 + timedelta(hours=9))
    service.run_due()
    clock.set(T0 + timedelta(hours=10))
    service.record(
        ComplaintResolved(id="r", customer_id="c-1", at=T0 + timedelta(hours=1), complaint_id="k")
    )
    case = service.case("c-1", "k")
    assert not case.breached("resolve", clock.now())
    assert (
        case.given.refund == 0
    )  # the first version: a 20.00 refund (the critical rung) for a case met in time


# 8. The order value is fixed at filing: an order returned in full before the case is
#    resolved still gets a refund of its whole value owed.
def test_a_refund_is_not_owed_for_an_order_returned_in_full():
    policy = RecoveryPolicy(compensation=CompensationLadder([Rung([Refund(Decimal(1))])]))
    service = _service(MemoryStore(), policy)
    service.record(
        Purchase(id="o-1", customer_id="c-1", at=T0, amount=Decimal("80.00"), currency="USD")
    )
    service.record(
        ComplaintFiled(id="k", customer_id="c-1", at=T0, category="x", severity="low", about="o-1")
    )
    service.record(
        Return(id="ret-1", customer_id="c-1", at=T0, purchase_id="o-1", amount=Decimal("80.00"))
    )
    service.record(ComplaintResolved(id="r", customer_id="c-1", at=T0, complaint_id="k"))
    assert service.case("c-1", "k").given.refund == 0  # the first version: 80.00 owed again
