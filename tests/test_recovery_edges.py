"""Service recovery: regressions found by a review of issue #6's first version, each on
the stores it concerns."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
from custbond._frozen import FrozenMap
from custbond.effects import OpenTask, SetCase
from custbond.program import CustomerState
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
    recovery_report,
)
from custbond.recovery.decisions import Desk
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


# 9. recovery_report() with until left at its default (now) leaves out a complaint filed
#    at that very instant: the report said 0 cases with the complaint just recorded.
@pytest.mark.parametrize("make_store", STORES)
def test_the_default_report_counts_a_complaint_filed_at_the_clocks_now(make_store):
    service = _service(make_store(), RecoveryPolicy())
    service.record(ComplaintFiled(id="k", customer_id="c-1", at=T0, category="x", severity="high"))

    report = service.recovery_report(since=T0 - timedelta(days=1))

    assert 1 == report.cases  # the first version: 0
    assert (T0, True) == (report.until, report.until_included)
    assert 0 == service.recovery_report(since=T0 - timedelta(days=1), until=T0).cases


def test_the_default_report_refuses_a_since_after_now():
    service = _service(MemoryStore(), RecoveryPolicy())

    with pytest.raises(InvalidInput) as raised:
        service.recovery_report(since=T0 + timedelta(seconds=1))

    assert "since" == raised.value.field


# 10. An acknowledgement dated after the service's clock fired the resolve target's
#     escalation steps at once (a task "missed its resolve target" for a deadline still to
#     come), while a report at the clock's now counted no resolve breach. The core now
#     fires a resolve step only once its time has passed by the clock as well; the
#     acknowledge target's own steps still fire by the acknowledgement's date (it tells
#     they were missed, and the report counts that breach too).
_TWO_STEPS = RecoveryPolicy(
    targets={
        "high": Targets(
            acknowledge=timedelta(hours=2),
            resolve=timedelta(hours=8),
            escalations=[
                Escalation(target="acknowledge", notify="lead"),
                Escalation(target="resolve", notify="boss"),
            ],
        )
    }
)


def _filed_case(policy, filed_at=T0):
    """The desk of ``policy`` and a customer with complaint k, filed at ``filed_at``."""
    desk = Desk(policy, "USD", lambda at: None)
    state = CustomerState(Customer("c-1"))
    filing = ComplaintFiled(id="k", customer_id="c-1", at=filed_at, category="x", severity="high")
    effects, _ = desk.file(state, filing, None)
    (case,) = [effect.case for effect in effects if isinstance(effect, SetCase)]
    return desk, attrs.evolve(state, cases=FrozenMap({"k": case}))


def _acknowledged(desk, state, at, now):
    acknowledgement = ComplaintAcknowledged(id="a", customer_id="c-1", at=at, complaint_id="k")
    effects, _ = desk.acknowledge(state, acknowledgement, now)
    (case,) = [effect.case for effect in effects if isinstance(effect, SetCase)]
    tasks = sorted(effect.owner for effect in effects if isinstance(effect, OpenTask))
    return case, tasks


def test_an_acknowledgement_dated_in_the_future_does_not_escalate_the_resolve_target_now():
    desk, state = _filed_case(_TWO_STEPS)
    now = T0 + timedelta(hours=1)

    case, tasks = _acknowledged(desk, state, T0 + timedelta(hours=10), now)

    assert ["lead"] == tasks  # the first version: ["boss", "lead"]
    assert case.breached("acknowledge", now)
    assert not case.breached("resolve", now)
    assert ["resolve"] == [timer.target for timer in case.timers]  # run_due() fires it later


def test_an_acknowledgement_dated_in_the_past_still_fires_the_steps_due_before_it():
    desk, state = _filed_case(_TWO_STEPS)

    _, tasks = _acknowledged(desk, state, T0 + timedelta(hours=10), T0 + timedelta(hours=11))

    assert ["boss", "lead"] == tasks


@settings(max_examples=200)
@given(
    acknowledged=st.integers(min_value=0, max_value=24 * 60),
    clock=st.integers(min_value=0, max_value=24 * 60),
    after=st.integers(min_value=0, max_value=6 * 60),
)
def test_every_step_an_acknowledgement_fires_is_a_breach_the_report_counts_now(
    acknowledged, clock, after
):
    policy = RecoveryPolicy(
        targets={
            "high": Targets(
                acknowledge=timedelta(hours=2),
                resolve=timedelta(hours=8),
                escalations=[
                    Escalation(target="acknowledge", after=timedelta(minutes=after), notify="a"),
                    Escalation(target="resolve", after=timedelta(minutes=after), notify="r"),
                ],
            )
        }
    )
    desk, state = _filed_case(policy)
    now = T0 + timedelta(minutes=clock)

    case, _ = _acknowledged(desk, state, T0 + timedelta(minutes=acknowledged), now)
    report = recovery_report(
        [attrs.evolve(state, cases=FrozenMap({"k": case}))], since=T0, now=now
    )

    steps = policy.targets_for("high").escalations
    for target in {steps[index].target for index in case.escalations}:
        assert 1 == report.breaches[target], target
