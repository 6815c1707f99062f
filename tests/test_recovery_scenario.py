"""Issue #6's scenario: a severe complaint filed on a Friday evening by a high-value
customer, followed from filing to the detractor's follow-up task, on every store.

The shop is open Monday to Friday, 09:00 to 17:30 in London. The complaint comes in at
18:40 on Friday 6 March 2026: its four business hours to acknowledge start on Monday
at 09:00, so it is due at 13:00 on Monday. Nobody acknowledges it by then: at 13:30
the escalation step notifies the duty manager and raises the case to critical, which
moves the customer (1,200 spent) to the ladder's top rung. It is acknowledged at 14:00
(the apology goes out, admitting the fault and naming the offer) and resolved on
Tuesday at 11:00: 500 goodwill points, a refund of 40.00 owed; a follow-up call is due
on Thursday and a survey goes out a week later. The customer answers 4 out of 10: a
detractor, so customer care gets a task.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from custbond import (
    ComplaintAcknowledged,
    ComplaintFiled,
    ComplaintResolved,
    Customer,
    FixedClock,
    Program,
    Purchase,
    RecordingNotifier,
    RetentionService,
    SurveyResponse,
)
from custbond.recovery import (
    BusinessCalendar,
    CompensationLadder,
    Escalation,
    FollowUp,
    GoodwillPoints,
    RecoveryPolicy,
    Refund,
    Rung,
    Severity,
    SurveyInvite,
    Targets,
)
from custbond.storage.ports import Store
from stores import STORES

LONDON = "Europe/London"
FRIDAY_EVENING = datetime(2026, 3, 6, 18, 40, tzinfo=UTC)  # London is on UTC in March
MONDAY = datetime(2026, 3, 9, tzinfo=UTC)

POLICY = RecoveryPolicy(
    calendar=BusinessCalendar(LONDON, hours={"MO-FR": "09:00-17:30"}),
    targets={
        "high": Targets(
            acknowledge=timedelta(hours=4),
            resolve=timedelta(hours=16),
            escalations=[
                Escalation(target="acknowledge", notify="duty manager", raise_to="critical")
            ],
        ),
    },
    compensation=CompensationLadder(
        [
            Rung(
                [Refund(Decimal("0.5"), cap=Decimal(40)), GoodwillPoints(500)],
                severity="critical",
                spent_at_least=Decimal(1000),
            ),
            Rung([Refund(Decimal("0.25")), GoodwillPoints(200)], severity="high"),
        ],
        cap=Decimal(50),
    ),
    follow_up=FollowUp(owner="customer care", after=timedelta(days=2)),
    survey=SurveyInvite(after=timedelta(days=7), scale="nps"),
    detractors=FollowUp(owner="customer care", after=timedelta(days=1), reason="call back"),
)


@pytest.fixture(params=STORES)
def shop(request: pytest.FixtureRequest) -> tuple[RetentionService, FixedClock]:
    make_store: Callable[[], Store] = request.param
    clock = FixedClock(datetime(2025, 1, 10, 12, tzinfo=UTC))
    service = RetentionService(
        Program(recovery=POLICY, time_zone=LONDON),
        make_store(),
        clock=clock,
        notifier=RecordingNotifier(),
    )
    service.save_customer(Customer("maya", name="Maya", email="maya@example.com"))
    for month in range(1, 13):  # a high-value customer: 100.00 a month for a year
        at = datetime(2025, month, 10, 12, tzinfo=UTC)
        clock.set(at)
        service.record(
            Purchase(
                id=f"o-{month}", customer_id="maya", at=at, amount=Decimal(100), currency="USD"
            )
        )
    clock.set(datetime(2026, 3, 5, 12, tzinfo=UTC))
    order = Purchase(
        id="o-77", customer_id="maya", at=clock.now(), amount=Decimal("80.00"), currency="USD"
    )
    service.record(order)
    return service, clock


def test_a_severe_friday_complaint_goes_from_filing_to_a_detractor_follow_up(
    shop: tuple[RetentionService, FixedClock],
) -> None:
    service, clock = shop
    clock.set(FRIDAY_EVENING)

    filed = service.record(
        ComplaintFiled(
            id="cmp-1",
            customer_id="maya",
            at=FRIDAY_EVENING,
            category="late delivery",
            severity="high",
            channel="phone",
            about="o-77",
            text="Maya's cake for the party came a day late",
        )
    )

    case = service.case("maya", "cmp-1")
    assert datetime(2026, 3, 9, 13, tzinfo=UTC) == case.acknowledge_by  # Monday 13:00
    assert datetime(2026, 3, 10, 16, 30, tzinfo=UTC) == case.resolve_by  # Tuesday 16:30
    assert Decimal("80.00") == case.order_value  # read from the purchase it is about
    assert case.offer is not None
    assert (200, Decimal("20.00")) == (case.offer.points, case.offer.refund)  # high rung
    assert "acknowledge by 2026-03-09T13:00:00+00:00" in str(filed.trace)

    clock.set(MONDAY.replace(hour=12, minute=59))
    service.run_due()
    assert () == service.tasks("duty manager")  # not yet breached

    clock.set(MONDAY.replace(hour=13, minute=30))
    service.run_due()
    service.run_due()  # a second run escalates nothing more
    (escalation,) = service.tasks("duty manager")
    assert "missed its acknowledge target" in escalation.reason
    case = service.case("maya", "cmp-1")
    assert Severity.CRITICAL == case.severity
    assert (0,) == case.escalations
    assert case.offer is not None
    assert (500, Decimal("40.00")) == (case.offer.points, case.offer.refund)  # top rung now

    clock.set(MONDAY.replace(hour=14))
    service.record(
        ComplaintAcknowledged(
            id="ack-1", customer_id="maya", at=clock.now(), complaint_id="cmp-1", by="Sam"
        )
    )
    service.dispatch()
    (apology,) = [sent for sent in service.notifier.sent if sent.template == "apology"]  # type: ignore[union-attr]
    assert "we got this wrong" in apology.body
    assert "40.00 USD" in apology.body  # the offer, named

    tuesday = datetime(2026, 3, 10, 11, tzinfo=UTC)
    clock.set(tuesday)
    resolved = service.record(
        ComplaintResolved(
            id="res-1",
            customer_id="maya",
            at=tuesday,
            complaint_id="cmp-1",
            resolution="new cake delivered, refund issued",
        )
    )

    case = service.case("maya", "cmp-1")
    assert case.given is not None
    assert (500, Decimal("40.00")) == (case.given.points, case.given.refund)
    assert 500 == resolved.points  # the goodwill points, available at once
    assert "refund of 40.00 USD owed" in str(resolved.trace)
    (follow_up,) = service.tasks("customer care")
    assert tuesday + timedelta(days=2) == follow_up.due_at
    (survey,) = [item for item in service.outbox() if item.message.template == "survey"]
    assert tuesday + timedelta(days=7) == survey.message.not_before
    assert [
        "filed",
        "escalated",
        "severity raised",
        "acknowledged",
        "apology",
        "resolved",
        "follow-up",
        "survey",
    ] == [step.what for step in case.timeline]
    assert [step.at for step in case.timeline] == sorted(step.at for step in case.timeline)

    clock.set(tuesday + timedelta(days=8))
    service.record(
        SurveyResponse(
            id="nps-1",
            customer_id="maya",
            at=clock.now(),
            scale="nps",
            score=4,
            about="cmp-1",
            comment="the cake was lovely, but late",
        )
    )

    tasks = service.tasks("customer care")
    detractor = [task for task in tasks if task.kind == "detractor"]
    assert 1 == len(detractor)
    assert "NPS 4" in detractor[0].reason
    assert clock.now() + timedelta(days=1) == detractor[0].due_at
    assert "survey answered" == service.case("maya", "cmp-1").timeline[-1].what
