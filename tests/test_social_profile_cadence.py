"""The bond profile counts a cadence in months as the keep-in-touch task does: from the
last contact, so a contact the task calls overdue is overdue in the profile too.

This needs the change to ``custbond.bonds.reading._social`` proposed in
/tmp/lead/social_proposals.md (``Cadence.days_from(last contact)`` instead of a month
counted forward from now)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from dateutil.relativedelta import relativedelta

from custbond import (
    Cadence,
    ContactMade,
    FixedClock,
    Program,
    RetentionService,
    SocialPolicy,
)
from custbond.storage.ports import Store
from stores import STORES

MONTHLY = SocialPolicy(default_owner="Lena", cadence=Cadence(every=relativedelta(months=1)))


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest) -> Store:
    make_store: Callable[[], Store] = request.param
    return make_store()


@pytest.mark.parametrize(
    ("contact", "now", "expected"),
    [
        pytest.param(
            datetime(2026, 1, 31, 9, tzinfo=UTC),
            datetime(2026, 3, 1, 10, tzinfo=UTC),
            "contact 29 days ago (overdue: cadence 28 days)",
            id="a-month-from-31-january-ends-on-28-february",
        ),
        pytest.param(
            datetime(2026, 1, 1, 9, tzinfo=UTC),
            datetime(2026, 1, 30, 10, tzinfo=UTC),
            "contact 29 days ago (cadence 31 days)",
            id="a-month-from-1-january-is-31-days",
        ),
    ],
)
def test_a_monthly_cadence_is_counted_from_the_last_contact(
    store: Store, contact: datetime, now: datetime, expected: str
) -> None:
    clock = FixedClock(contact)
    service = RetentionService(Program(social=MONTHLY), store, clock=clock)
    service.record(ContactMade(id="c-1", customer_id="maya", at=contact))
    clock.set(now)
    service.run_due()

    assert expected in service.bond_profile("maya").social.reasons
    # The task list agrees: a keep-in-touch task past due exactly when the profile says so.
    assert ["overdue" in expected] == [task.due_at < now for task in service.tasks()] or (
        "overdue" not in expected and () == service.tasks()
    )
