"""A task belongs to one customer: what another customer's input asks to close (their
cancellation naming an appointment id that is someone else's) leaves it as it is.

This needs the change to ``service._carry_out_task`` proposed in
/tmp/lead/social_proposals.md (a task is closed only for the customer it is about, as a
message is withdrawn only for its own customer)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from custbond import (
    Appointment,
    AppointmentCancelled,
    CallAfter,
    FixedClock,
    Program,
    RetentionService,
    SocialPolicy,
)
from custbond.storage.ports import Store
from stores import STORES

JAN_5 = datetime(2026, 1, 5, 9, tzinfo=UTC)
CALLS = SocialPolicy(
    default_owner="Lena",
    call_after=[CallAfter(on="Appointment", after=timedelta(days=1), reason="ask about it")],
)


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest) -> Store:
    make_store: Callable[[], Store] = request.param
    return make_store()


def test_a_cancellation_by_another_customer_leaves_the_call_open(store: Store) -> None:
    service = RetentionService(Program(social=CALLS), store, clock=FixedClock(JAN_5))
    service.record(
        Appointment(
            id="appt-1",
            customer_id="maya",
            at=JAN_5,
            starts_at=datetime(2026, 1, 12, 10, tzinfo=UTC),
        )
    )

    service.record(
        AppointmentCancelled(id="c-1", customer_id="ben", at=JAN_5, appointment_id="appt-1")
    )

    assert [("maya", "appt-1")] == [(task.customer_id, task.about) for task in service.tasks()]
