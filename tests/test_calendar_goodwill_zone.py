"""A goodwill voucher's validity is reckoned on the program's calendar, as every other
voucher's: the same instant gives the same expiry whatever zone the clock reads in.

This needs custbond/recovery/decisions.py and custbond/program.py to pass the program's
time zone to the recovery desk (the ``--recovery`` part of the calendar proposal in
/tmp/lead/calendar_proposals.md).
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from typing import Any

import pytest
from dateutil import tz
from dateutil.relativedelta import relativedelta

from custbond import FixedClock, Program, Purchase, RetentionService
from custbond.recovery import GoodwillVoucher, IncidentDeclared, RecoveryPolicy
from stores import STORES

NEW_YORK = tz.gettz("America/New_York")
# 28 February 2026, 23:30 in New York: already 1 March in UTC (04:30).
LATE_IN_FEBRUARY = datetime(2026, 2, 28, 23, 30, tzinfo=NEW_YORK)


@pytest.fixture(params=STORES)
def make_store(request: pytest.FixtureRequest) -> Any:
    return request.param


@pytest.mark.parametrize("clock_in", [NEW_YORK, UTC], ids=["ny", "utc"])
def test_an_incidents_goodwill_voucher_is_valid_for_a_month_on_the_programs_calendar(
    make_store: Any, clock_in: tzinfo
) -> None:
    policy = RecoveryPolicy(
        incident_goodwill=[GoodwillVoucher(Decimal("5.00"), valid_for=relativedelta(months=1))]
    )
    program = Program(time_zone="America/New_York", recovery=policy)
    now = LATE_IN_FEBRUARY.astimezone(clock_in)
    service = RetentionService(program, make_store(), clock=FixedClock(now))
    service.record(
        Purchase(id="o-1", customer_id="ada", at=now, amount=Decimal("9.00"), currency="USD")
    )

    service.declare_incident(
        IncidentDeclared(id="inc-1", at=now, what="the oven broke", customer_ids=["ada"])
    )

    [voucher] = service.vouchers("ada")
    assert datetime(2026, 3, 28, 23, 30, tzinfo=NEW_YORK) == voucher.expires_at
