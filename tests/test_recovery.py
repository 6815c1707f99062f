"""Service recovery: complaints through the pure core and the service, incidents, tasks
and surveys. The Friday-evening scenario is tests/test_recovery_scenario.py."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

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
    IdempotencyConflict,
    InvalidInput,
    MemoryStore,
    NotFound,
    Program,
    Purchase,
    RecordingNotifier,
    RetentionService,
    Return,
    SurveyResponse,
)
from custbond.commands import Settle
from custbond.effects import OpenTask, SetCase
from custbond.messaging import MessagingPolicy, Templates
from custbond.program import CustomerState
from custbond.recovery import (
    BusinessCalendar,
    Compensation,
    CompensationLadder,
    Escalation,
    FollowUp,
    GoodwillPoints,
    GoodwillVoucher,
    IncidentDeclared,
    RecoveryPolicy,
    Refund,
    Rung,
    Targets,
)
from custbond.storage.ports import Store
from stores import STORES

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)  # a Monday
HIGH = Targets(
    acknowledge=timedelta(hours=2),
    resolve=timedelta(hours=8),
    escalations=[
        Escalation(target="acknowledge", notify="team lead"),
        Escalation(target="resolve", notify="duty manager", raise_to="critical"),
    ],
)
LADDER = CompensationLadder(
    [
        Rung([Refund(Decimal("0.5"), cap=Decimal(30)), GoodwillPoints(300)], severity="critical"),
        Rung([GoodwillVoucher(Decimal("5.00"))], severity="high"),
    ],
    cap=Decimal(40),
)
POLICY = RecoveryPolicy(
    targets={"high": HIGH},
    compensation=LADDER,
    follow_up=FollowUp(owner="care"),
    detractors=FollowUp(owner="care", after=timedelta(hours=4), reason="call back"),
)


def _complaint(id_: str = "cmp-1", at: datetime = T0, **fields: Any) -> ComplaintFiled:
    values: dict[str, Any] = {"category": "cold food", "severity": "high"} | fields
    return ComplaintFiled(id=id_, customer_id="c-1", at=at, **values)


class Shop:
    def __init__(self, store: Store | None = None, policy: RecoveryPolicy | None = POLICY) -> None:
        self.clock = FixedClock(T0)
        self.notifier = RecordingNotifier()
        self.service = RetentionService(
            Program(recovery=policy),
            store if store is not None else MemoryStore(),
            clock=self.clock,
            notifier=self.notifier,
        )
        self.service.save_customer(Customer("c-1", email="c1@example.com"))

    def at(self, at: datetime) -> RetentionService:
        self.clock.set(at)
        return self.service


@pytest.fixture(params=STORES)
def shop(request: pytest.FixtureRequest) -> Shop:
    make_store: Callable[[], Store] = request.param
    return Shop(make_store())


# -- the flow on every store ---------------------------------------------------------------


class TestTheFlowOnEveryStore:
    def test_a_case_is_kept_escalated_resolved_and_its_tasks_listed(self, shop: Shop) -> None:
        service = shop.service
        service.record(_complaint(order_value=Decimal("50.00")))
        shop.at(T0 + timedelta(hours=3)).run_due()  # acknowledge target missed
        shop.at(T0 + timedelta(hours=4)).record(
            ComplaintAcknowledged(
                id="a-1", customer_id="c-1", at=shop.clock.now(), complaint_id="cmp-1"
            )
        )
        shop.at(T0 + timedelta(hours=5)).record(
            ComplaintResolved(
                id="r-1", customer_id="c-1", at=shop.clock.now(), complaint_id="cmp-1"
            )
        )

        case = service.case("c-1", "cmp-1")
        assert "resolved" == case.status
        assert (0,) == case.escalations
        assert case.given == Compensation(voucher=Decimal("5.00"))
        assert ["team lead"] == [task.owner for task in service.tasks("team lead")]
        (follow_up,) = service.tasks("care")
        assert "follow_up" == follow_up.kind
        assert 1 == len(service.vouchers("c-1"))
        assert (case,) == service.cases("c-1")

    def test_a_task_is_closed_once(self, shop: Shop) -> None:
        service = shop.service
        service.record(_complaint())
        shop.at(T0 + timedelta(hours=3)).run_due()
        (task,) = service.tasks("team lead")

        closed = service.close_task(task.key, "called the kitchen")
        again = service.close_task(task.key, "called the kitchen")

        assert closed == again
        assert closed.closed_at == T0 + timedelta(hours=3)
        assert () == service.tasks("team lead")
        assert (closed,) == service.tasks("team lead", open_only=False)
        with pytest.raises(IdempotencyConflict):
            service.close_task(task.key, "something else")
        with pytest.raises(NotFound):
            service.close_task("no-such-task")

    def test_an_incident_tells_each_affected_customer_once(self, shop: Shop) -> None:
        service = shop.service
        service.save_customer(Customer("c-2", email="c2@example.com"))
        service.record(
            Purchase(id="o-9", customer_id="c-2", at=T0, amount=Decimal(12), currency="USD")
        )
        incident = IncidentDeclared(
            id="inc-1",
            at=T0,
            what="the card machine double-charged you",
            customer_ids=["c-1", "ghost"],
            purchase_ids=["o-9", "o-404"],
        )

        first = service.declare_incident(incident)
        second = service.declare_incident(incident)
        service.dispatch()

        assert ("c-1", "c-2") == first.notified
        assert ("ghost", "purchase o-404") == first.unknown
        assert ((), ("c-1", "c-2")) == (second.notified, second.already)
        notices = [
            sent.customer_id for sent in shop.notifier.sent if sent.template == "incident_notice"
        ]
        assert ["c-1", "c-2"] == sorted(notices)


# -- the pure core: properties -------------------------------------------------------------

PROGRAM = Program(recovery=POLICY)
SETTLE = Settle(customer_id="c-1")  # what run_due() asks for each customer due


def _run(
    program: Program, state: CustomerState, item: Any, now: datetime
) -> tuple[CustomerState, list[Any]]:
    decision = program.decide(state, item, now)
    state, _ = program.apply(state, decision, now)
    return state, list(decision.effects)


steps_strategy = st.lists(
    st.builds(
        Escalation,
        target=st.sampled_from(["acknowledge", "resolve"]),
        after=st.integers(0, 6).map(lambda hours: timedelta(hours=hours)),
        notify=st.sampled_from(["a", "b", "c"]),
    ),
    max_size=4,
)
# What happens after filing, each some minutes after the one before: time passing
# (run_due), an acknowledgement, a resolution.
actions = st.lists(
    st.tuples(
        st.sampled_from(["tick", "ack", "resolve"]),
        # Half hours too: a step then falls due exactly when something happens.
        st.integers(0, 20).map(lambda halves: 30 * halves) | st.integers(0, 600),
    ),
    max_size=8,
)


@settings(max_examples=150)
@given(steps=steps_strategy, actions=actions, calendar=st.booleans())
def test_each_breached_escalation_step_fires_exactly_once(
    steps: list[Escalation], actions: list[tuple[str, int]], calendar: bool
) -> None:
    policy = RecoveryPolicy(
        targets={
            "high": Targets(
                acknowledge=timedelta(hours=2), resolve=timedelta(hours=6), escalations=steps
            )
        },
        calendar=BusinessCalendar("Europe/Paris", hours={"MO-FR": "09:00-17:00"})
        if calendar
        else None,
    )
    program = Program(recovery=policy)
    state = CustomerState(Customer("c-1"))
    now = T0
    state, effects = _run(program, state, _complaint(at=now), now)
    opened = [e for e in effects if isinstance(e, OpenTask)]
    (filed,) = [e.case for e in effects if isinstance(e, SetCase)]
    due = {timer.step: timer.due for timer in filed.timers}
    met: dict[str, datetime] = {}
    for number, (action, minutes) in enumerate(actions):
        now += timedelta(minutes=minutes)
        case = state.cases["cmp-1"]
        if action == "tick":
            item: Any = SETTLE
        elif action == "ack":
            item = ComplaintAcknowledged(
                id=f"a-{number}", customer_id="c-1", at=now, complaint_id="cmp-1"
            )
            if case.acknowledged_at is None and case.resolved_at is None:
                met.setdefault("acknowledge", now)
        else:
            if case.resolved_at is not None:
                continue
            item = ComplaintResolved(
                id=f"r-{number}", customer_id="c-1", at=now, complaint_id="cmp-1"
            )
            met.setdefault("acknowledge", now)
            met.setdefault("resolve", now)
        state, effects = _run(program, state, item, now)
        opened += [e for e in effects if isinstance(e, OpenTask) and e.kind == "escalation"]
    end = now + timedelta(days=30)
    state, effects = _run(program, state, SETTLE, end)
    opened += [e for e in effects if isinstance(e, OpenTask) and e.kind == "escalation"]

    case = state.cases["cmp-1"]
    expected = {
        index for index, step in enumerate(steps) if due[index] < met.get(step.target, end)
    }
    assert sorted(expected) == sorted(case.escalations)
    assert len(case.escalations) == len(set(case.escalations))  # once each
    assert len(expected) == len(opened)  # one task per step fired (each notifies)
    assert () == case.timers or case.resolved_at is None


@settings(max_examples=150)
@given(actions=actions, late=st.lists(st.integers(0, 300), min_size=8, max_size=8))
def test_the_timeline_of_a_case_never_goes_back(
    actions: list[tuple[str, int]], late: list[int]
) -> None:
    state = CustomerState(Customer("c-1"))
    now = T0
    state, _ = _run(PROGRAM, state, _complaint(at=now), now)
    for number, (action, minutes) in enumerate(actions):
        now += timedelta(minutes=minutes)
        case = state.cases["cmp-1"]
        # Events may be reported late: their own time is up to `late` minutes back, not
        # before the complaint.
        at = max(now - timedelta(minutes=late[number]), case.filed_at)
        if action == "tick":
            item: Any = SETTLE
        elif action == "ack":
            item = ComplaintAcknowledged(
                id=f"a-{number}", customer_id="c-1", at=at, complaint_id="cmp-1"
            )
        elif case.resolved_at is None:
            item = ComplaintResolved(
                id=f"r-{number}", customer_id="c-1", at=at, complaint_id="cmp-1"
            )
        else:
            continue
        state, _ = _run(PROGRAM, state, item, now)
        times = [step.at for step in state.cases["cmp-1"].timeline]
        assert times == sorted(times)


@settings(max_examples=100)
@given(
    order=st.none() | st.decimals(min_value=0, max_value=500, places=2),
    severity=st.sampled_from(["low", "medium", "high", "critical"]),
    spent=st.decimals(min_value=0, max_value=5000, places=2),
)
def test_the_compensation_given_never_exceeds_the_cap_or_the_order(
    order: Decimal | None, severity: str, spent: Decimal
) -> None:
    program = PROGRAM
    state = CustomerState(Customer("c-1"))
    state = attrs.evolve(state, activity=attrs.evolve(state.activity, spent=spent))
    state, _ = _run(program, state, _complaint(severity=severity, order_value=order), T0)
    done = ComplaintResolved(id="r-1", customer_id="c-1", at=T0, complaint_id="cmp-1")
    state, _ = _run(program, state, done, T0)

    given = state.cases["cmp-1"].given
    assert given is not None
    worth = given.worth(LADDER.point_value)
    assert worth <= Decimal(40)
    if order is not None:
        assert worth <= order


# -- the rules of a case -------------------------------------------------------------------


class TestCases:
    def test_acknowledging_an_unknown_complaint_is_not_found(self) -> None:
        shop = Shop()
        with pytest.raises(NotFound):
            shop.service.record(
                ComplaintAcknowledged(id="a-1", customer_id="c-1", at=T0, complaint_id="nope")
            )

    def test_an_event_before_the_complaint_is_refused_and_changes_nothing(self) -> None:
        shop = Shop()
        shop.service.record(_complaint())
        before = shop.service.case("c-1", "cmp-1")

        with pytest.raises(InvalidInput) as caught:
            shop.service.record(
                ComplaintAcknowledged(
                    id="a-1", customer_id="c-1", at=T0 - timedelta(hours=1), complaint_id="cmp-1"
                )
            )

        assert "at" == caught.value.field
        assert before == shop.service.case("c-1", "cmp-1")

    def test_resolving_twice_is_refused(self) -> None:
        shop = Shop()
        shop.service.record(_complaint())
        done = {"customer_id": "c-1", "at": T0, "complaint_id": "cmp-1"}
        shop.service.record(ComplaintResolved(id="r-1", **done))

        with pytest.raises(InvalidInput) as caught:
            shop.service.record(ComplaintResolved(id="r-2", **done))

        assert "complaint_id" == caught.value.field

    def test_a_host_compensation_over_the_cap_is_refused_and_changes_nothing(self) -> None:
        shop = Shop()
        shop.service.record(_complaint(order_value=Decimal("100.00")))

        with pytest.raises(InvalidInput) as caught:
            shop.service.record(
                ComplaintResolved(
                    id="r-1",
                    customer_id="c-1",
                    at=T0,
                    complaint_id="cmp-1",
                    compensation=Compensation(refund=Decimal("45.00")),
                )
            )

        assert "compensation" == caught.value.field
        assert "open" == shop.service.case("c-1", "cmp-1").status
        assert 0 == shop.service.balance("c-1").available

    def test_a_host_compensation_within_the_cap_is_given(self) -> None:
        shop = Shop()
        shop.service.record(_complaint(order_value=Decimal("100.00")))
        given = Compensation(points=250, refund=Decimal("10.00"))

        outcome = shop.service.record(
            ComplaintResolved(
                id="r-1", customer_id="c-1", at=T0, complaint_id="cmp-1", compensation=given
            )
        )

        assert 250 == outcome.balance.available
        assert given == shop.service.case("c-1", "cmp-1").given

    def test_the_order_value_comes_from_the_purchase_less_what_was_returned(self) -> None:
        shop = Shop()
        shop.service.record(
            Purchase(id="o-1", customer_id="c-1", at=T0, amount=Decimal("60.00"), currency="USD")
        )
        shop.service.record(
            Return(
                id="ret-1", customer_id="c-1", at=T0, purchase_id="o-1", amount=Decimal("20.00")
            )
        )
        shop.service.record(_complaint(about="o-1"))

        assert Decimal("40.00") == shop.service.case("c-1", "cmp-1").order_value

    def test_a_program_without_a_recovery_policy_still_keeps_cases_and_sends_nothing(self) -> None:
        shop = Shop(policy=None)
        outcome = shop.service.record(_complaint())

        assert "open" == shop.service.case("c-1", "cmp-1").status
        assert "no targets" in str(outcome.trace)
        assert () == shop.service.outbox()

    def test_the_apology_can_go_when_the_complaint_is_filed(self) -> None:
        shop = Shop(policy=attrs.evolve(POLICY, apologize_when="filed"))
        shop.service.record(_complaint())

        assert ["apology"] == [item.message.template for item in shop.service.outbox()]

    def test_resolving_without_acknowledging_still_apologises_once(self) -> None:
        shop = Shop()
        shop.service.record(_complaint())
        shop.service.record(
            ComplaintResolved(id="r-1", customer_id="c-1", at=T0, complaint_id="cmp-1")
        )

        assert ["apology"] == [item.message.template for item in shop.service.outbox()]

    def test_a_promoter_opens_no_task_and_a_low_csat_does(self) -> None:
        shop = Shop()
        answers = [
            SurveyResponse(id="s-1", customer_id="c-1", at=T0, scale="nps", score=9),
            SurveyResponse(
                id="s-2", customer_id="c-1", at=T0, scale="csat", score=2, category="delivery"
            ),
        ]
        for answer in answers:
            shop.service.record(answer)

        (task,) = shop.service.tasks("care")
        assert "CSAT 2" in task.reason
        assert tuple(answers) == shop.service.surveys("c-1")

    def test_a_program_refuses_a_policy_whose_templates_it_lacks(self) -> None:
        with pytest.raises(InvalidInput) as caught:
            Program(recovery=POLICY, messaging=MessagingPolicy(templates=Templates({})))

        assert "recovery.apology" == caught.value.field


class TestReplayAndRepeats:
    def _flow(self) -> Shop:
        shop = Shop()
        service = shop.service
        service.record(_complaint(order_value=Decimal("30.00")))
        shop.at(T0 + timedelta(hours=9)).run_due()  # both targets missed: two steps
        shop.at(T0 + timedelta(hours=10)).record(
            ComplaintResolved(
                id="r-1", customer_id="c-1", at=shop.clock.now(), complaint_id="cmp-1"
            )
        )
        (task, *_) = service.tasks("duty manager")
        service.close_task(task.key, "spoke to the kitchen")
        service.record(
            SurveyResponse(id="s-1", customer_id="c-1", at=shop.clock.now(), scale="nps", score=3)
        )
        service.declare_incident(
            IncidentDeclared(id="inc-1", at=shop.clock.now(), what="late", customer_ids=["c-1"])
        )
        return shop

    def test_replaying_the_log_rebuilds_cases_tasks_surveys_and_messages(self) -> None:
        live = self._flow().service
        copy = RetentionService(live.program, MemoryStore(), clock=FixedClock(T0))

        copy.replay(live.log())

        assert live.cases("c-1") == copy.cases("c-1")
        assert live.tasks(open_only=False) == copy.tasks(open_only=False)
        assert live.surveys("c-1") == copy.surveys("c-1")
        assert [item.key for item in live.outbox()] == [item.key for item in copy.outbox()]
        assert live.balance("c-1") == copy.balance("c-1")

    def test_an_incident_declared_again_in_other_words_is_a_conflict(self) -> None:
        shop = self._flow()
        with pytest.raises(IdempotencyConflict):
            shop.service.declare_incident(
                IncidentDeclared(
                    id="inc-1", at=shop.clock.now(), what="very late", customer_ids=["c-1"]
                )
            )
