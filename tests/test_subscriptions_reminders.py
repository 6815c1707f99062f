"""The reminder of a subscription's next delivery, when the customer subscribes or
resumes so close to it that the reminder's time has already passed: the reminder goes
at once (the delivery is still to come), and only once.

The pie box comes at 09:00 Paris time on the last day of each month, with a reminder two
days before; Maya subscribes on 30 March, a day before the box of the 31st."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custbond import (
    FixedClock,
    MemoryStore,
    MessagingPolicy,
    Plan,
    Program,
    RetentionService,
    StructuralPolicy,
)
from custbond.messaging import MessageStatus, QueuedMessage
from custbond.messaging.templates import Template, Templates
from custbond.storage.ports import Store
from stores import STORES

TEMPLATES = Templates.defaults().override(
    {"box_soon": {"*": Template("Hi $name, your box comes $when.", subject="Your box")}}
)
PIE_BOX = Plan(
    name="pie-box",
    every="FREQ=MONTHLY;BYMONTHDAY=-1;BYHOUR=9;BYMINUTE=0",
    price=Decimal("25.00"),
    remind_before=timedelta(days=2),
    template="box_soon",
)
MAR_2 = datetime(2026, 3, 2, 8, tzinfo=UTC)
MAR_30 = datetime(2026, 3, 30, 12, tzinfo=UTC)  # 14:00 in Paris: the box comes tomorrow
MAR_31_BOX = "2026-03-31T09:00:00+02:00"


def program(*plans: Plan) -> Program:
    return Program(
        currency="EUR",
        time_zone="Europe/Paris",
        messaging=MessagingPolicy(templates=TEMPLATES),
        structure=StructuralPolicy(plans=plans or (PIE_BOX,)),
    )


class Bakery:
    def __init__(self, store: Store, start: datetime = MAR_2, *plans: Plan) -> None:
        self.clock = FixedClock(start)
        self.service = RetentionService(program(*plans), store, self.clock)
        self.service.set_consent("maya", "email", granted=True, source="form", key="c-1")

    def at(self, moment: datetime) -> RetentionService:
        self.clock.set(moment)
        return self.service

    def reminders(self) -> list[QueuedMessage]:
        return [
            item
            for item in self.service.outbox(customer_id="maya")
            if item.message.template == "box_soon"
        ]

    def reminded_of(self) -> list[str]:
        return [str(item.message.context["when"]) for item in self.reminders()]


@pytest.fixture(params=STORES)
def make_store(request: pytest.FixtureRequest) -> Callable[[], Store]:
    maker: Callable[[], Store] = request.param
    return maker


class TestSubscribingInsideTheReminderWindow:
    def test_the_first_deliverys_reminder_goes_at_once(
        self, make_store: Callable[[], Store]
    ) -> None:
        bakery = Bakery(make_store(), MAR_30)

        outcome = bakery.service.subscribe("maya", "pie-box", key="sub-1")

        assert bakery.reminded_of() == [MAR_31_BOX]
        (reminder,) = bakery.reminders()
        assert (reminder.status, reminder.message.not_after) == (
            MessageStatus.PENDING,
            datetime(2026, 3, 31, 7, tzinfo=UTC),
        )
        assert f"pie-box: reminder of {MAR_31_BOX} queued" in str(outcome.trace)

    def test_the_reminder_is_not_queued_again_by_later_runs(
        self, make_store: Callable[[], Store]
    ) -> None:
        bakery = Bakery(make_store(), MAR_30)
        bakery.service.subscribe("maya", "pie-box", key="sub-1")

        for moment in (MAR_30, MAR_30 + timedelta(hours=1), datetime(2026, 4, 1, tzinfo=UTC)):
            bakery.at(moment).run_due()
        bakery.at(datetime(2026, 4, 28, 7, tzinfo=UTC)).run_due()  # April's, in its time

        assert bakery.reminded_of() == [MAR_31_BOX, "2026-04-30T09:00:00+02:00"]

    def test_subscribing_before_the_window_still_waits_for_it(
        self, make_store: Callable[[], Store]
    ) -> None:
        bakery = Bakery(make_store(), datetime(2026, 3, 29, 6, 59, tzinfo=UTC))

        bakery.service.subscribe("maya", "pie-box", key="sub-1")

        assert bakery.reminders() == []
        bakery.at(datetime(2026, 3, 29, 7, tzinfo=UTC)).run_due()  # 2 days before 09:00
        assert bakery.reminded_of() == [MAR_31_BOX]

    def test_subscribing_again_after_cancelling_reminds_of_the_new_first_delivery(
        self, make_store: Callable[[], Store]
    ) -> None:
        bakery = Bakery(make_store())
        bakery.service.subscribe("maya", "pie-box", key="sub-1")
        bakery.at(datetime(2026, 3, 10, tzinfo=UTC)).cancel_subscription(
            "maya", "pie-box", key="cancel-1"
        )

        bakery.at(MAR_30).subscribe("maya", "pie-box", key="sub-2")

        assert bakery.reminded_of() == [MAR_31_BOX]


class TestChangesInsideTheReminderWindow:
    def test_resuming_the_day_before_a_delivery_reminds_of_it_at_once(
        self, make_store: Callable[[], Store]
    ) -> None:
        bakery = Bakery(make_store())
        bakery.service.subscribe("maya", "pie-box", key="sub-1")
        bakery.service.pause_subscription("maya", "pie-box", key="pause-1")

        bakery.at(MAR_30).resume_subscription("maya", "pie-box", key="resume-1")

        assert bakery.reminded_of() == [MAR_31_BOX]

    def test_resuming_early_from_a_pause_with_an_end_reminds_of_the_nearer_delivery(
        self, make_store: Callable[[], Store]
    ) -> None:
        bakery = Bakery(make_store())
        bakery.service.subscribe("maya", "pie-box", key="sub-1")
        until = datetime(2026, 5, 15, tzinfo=UTC)
        bakery.service.pause_subscription("maya", "pie-box", key="pause-1", until=until)

        bakery.at(MAR_30).resume_subscription("maya", "pie-box", key="resume-1")

        assert bakery.reminded_of() == [MAR_31_BOX]

    def test_skipping_the_next_delivery_when_the_one_after_is_that_close(
        self, make_store: Callable[[], Store]
    ) -> None:
        weekly = Plan(
            name="pie-box",
            every="FREQ=WEEKLY;BYDAY=FR;BYHOUR=9",
            remind_before=timedelta(days=12),
            template="box_soon",
        )
        bakery = Bakery(make_store(), datetime(2026, 3, 2, 8, tzinfo=UTC), weekly)
        bakery.service.subscribe("maya", "pie-box", key="sub-1")  # Friday 6th: reminded now
        assert bakery.reminded_of() == ["2026-03-06T09:00:00+01:00"]

        bakery.service.skip_delivery("maya", "pie-box", date(2026, 3, 6), key="skip-1")

        assert bakery.reminded_of() == [
            "2026-03-06T09:00:00+01:00",  # withdrawn: that box is not coming
            "2026-03-13T09:00:00+01:00",  # its reminder time (the 1st) has passed
        ]
        assert [item.status for item in bakery.reminders()] == [
            MessageStatus.SUPPRESSED,
            MessageStatus.PENDING,
        ]

    def test_a_change_that_keeps_the_next_delivery_sends_no_second_reminder(
        self, make_store: Callable[[], Store]
    ) -> None:
        bakery = Bakery(make_store(), MAR_30)
        bakery.service.subscribe("maya", "pie-box", key="sub-1")

        bakery.service.skip_delivery("maya", "pie-box", date(2026, 4, 30), key="skip-1")

        assert bakery.reminded_of() == [MAR_31_BOX]
        assert bakery.reminders()[0].status is MessageStatus.PENDING


def test_a_plan_without_a_template_reminds_of_nothing() -> None:
    quiet = Plan(
        name="pie-box",
        every="FREQ=MONTHLY;BYMONTHDAY=-1;BYHOUR=9;BYMINUTE=0",
        remind_before=timedelta(days=2),
    )
    bakery = Bakery(MemoryStore(), MAR_30, quiet)

    outcome = bakery.service.subscribe("maya", "pie-box", key="sub-1")

    assert bakery.reminders() == []
    assert "reminder of" not in str(outcome.trace)


# Aware moments, in UTC (hypothesis takes the bounds naive).
SUBSCRIBED = st.datetimes(
    min_value=datetime(2026, 3, 1),  # noqa: DTZ001 - hypothesis bounds are naive
    max_value=datetime(2026, 7, 1),  # noqa: DTZ001
    timezones=st.just(UTC),
)


@settings(max_examples=40, deadline=None)
@given(
    subscribed=SUBSCRIBED,
    remind_before=st.timedeltas(min_value=timedelta(hours=1), max_value=timedelta(days=45)),
    runs=st.lists(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=40))),
)
def test_the_first_delivery_is_reminded_of_once_before_it_comes(
    subscribed: datetime, remind_before: timedelta, runs: list[timedelta]
) -> None:
    plan = Plan(
        name="pie-box",
        every="FREQ=MONTHLY;BYMONTHDAY=-1;BYHOUR=9;BYMINUTE=0",
        remind_before=remind_before,
        template="box_soon",
    )
    bakery = Bakery(MemoryStore(), subscribed, plan)
    bakery.service.subscribe("maya", "pie-box", key="sub-1")
    (first,) = bakery.service.upcoming("maya", "pie-box", count=1)
    for run in sorted(runs):  # the job runs whenever it runs ...
        bakery.at(subscribed + run).run_due()
    due = max(subscribed, first - remind_before)
    bakery.at(max(bakery.clock.now(), due)).run_due()  # ... and once in the reminder's time

    if bakery.clock.now() < first:
        reminded = [item for item in bakery.reminders() if item.message.not_after == first]
        assert len(reminded) == 1
        assert reminded[0].message.context["when"] == first.isoformat()
    for item in bakery.reminders():  # never queued after its delivery
        assert item.message.not_after is not None
        assert item.queued_at <= item.message.not_after
