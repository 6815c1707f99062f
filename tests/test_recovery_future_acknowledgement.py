"""An acknowledgement dated after the service's clock: escalation and the report agree."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from custbond import (
    ComplaintAcknowledged,
    ComplaintFiled,
    Customer,
    FixedClock,
    Program,
    RetentionService,
)
from custbond.recovery import Escalation, RecoveryPolicy, Targets
from custbond.storage.ports import Store
from stores import STORES

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)  # a Monday


@pytest.mark.parametrize("make_store", STORES)
def test_an_acknowledgement_dated_in_the_future_escalates_only_what_the_report_counts(
    make_store: Callable[[], Store],
) -> None:
    policy = RecoveryPolicy(
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
    clock = FixedClock(T0)
    service = RetentionService(Program(recovery=policy), make_store(), clock=clock)
    service.save_customer(Customer("c-1"))
    service.record(ComplaintFiled(id="k", customer_id="c-1", at=T0, category="x", severity="high"))
    clock.set(T0 + timedelta(hours=1))
    service.record(
        ComplaintAcknowledged(
            id="a", customer_id="c-1", at=T0 + timedelta(hours=10), complaint_id="k"
        )
    )

    report = service.recovery_report(since=T0)
    assert ["lead"] == [task.owner for task in service.tasks()]  # was ["lead", "boss"]
    assert {"acknowledge": 1, "resolve": 0} == dict(report.breaches)
    assert 1 == report.escalations  # was 2, with no resolve breach counted

    clock.set(T0 + timedelta(hours=9))  # the resolve target is missed now: run_due() says so
    service.run_due()
    report = service.recovery_report(since=T0)
    assert ["lead", "boss"] == [task.owner for task in service.tasks()]
    assert ({"acknowledge": 1, "resolve": 1}, 2) == (dict(report.breaches), report.escalations)
