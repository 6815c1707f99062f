"""A subscription reminder withdrawn by a pause, and the delivery a resume brings back,
on every store.

The pie box comes at 09:00 Paris time on the last day of each month, with a reminder two
days before. Maya's reminder of the box of 31 March is queued on the 29th; she pauses on
the 29th (the reminder is withdrawn: that box is not coming) and resumes on the 30th, so
the box of the 31st comes after all: it is announced again, once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
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
from custbond.bonds.subscriptions import Subscription
from custbond.messaging.templates import Template, Templates
from custbond.storage import _codec as codec
from custbond.storage import _rows as rows
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
PROGRAM = Program(
    currency="EUR",
    time_zone="Europe/Paris",
    messaging=MessagingPolicy(templates=TEMPLATES),
    structure=StructuralPolicy(plans=[PIE_BOX]),
)
MAR_2 = datetime(2026, 3, 2, 8, tzinfo=UTC)
REMINDED = datetime(2026, 3, 29, 7, tzinfo=UTC)  # 09:00 in Paris, two days before
MAR_31_BOX = "2026-03-31T09:00:00+02:00"


@pytest.fixture(params=STORES)
def make_store(request: pytest.FixtureRequest) -> Callable[[], Store]:
    maker: Callable[[], Store] = request.param
    return maker


class Bakery:
    def __init__(self, store: Store) -> None:
        self.clock = FixedClock(MAR_2)
        self.service = RetentionService(PROGRAM, store, self.clock)
        self.service.set_consent("maya", "email", granted=True, source="form", key="c-1")
        self.service.subscribe("maya", "pie-box", key="s-1")

    def at(self, moment: datetime) -> RetentionService:
        self.clock.set(moment)
        return self.service

    def reminders(self) -> list[tuple[str, str]]:
        """Each reminder's delivery and where its message stands, in the order queued."""
        return [
            (str(item.message.context["when"]), item.status.value)
            for item in self.service.outbox(customer_id="maya")
            if item.message.template == "box_soon"
        ]


class TestAResumeThatBringsTheDeliveryBack:
    def test_after_the_reminder_time_queues_its_reminder_again_at_once(
        self, make_store: Callable[[], Store]
    ) -> None:
        bakery = Bakery(make_store())
        bakery.at(REMINDED).run_due()
        bakery.at(REMINDED + timedelta(hours=1)).pause_subscription("maya", "pie-box", key="p")
        assert [(MAR_31_BOX, "suppressed")] == bakery.reminders()

        resumed = bakery.at(REMINDED + timedelta(days=1)).resume_subscription(
            "maya", "pie-box", key="r"
        )
        bakery.at(REMINDED + timedelta(days=1, hours=1)).run_due()

        assert f"pie-box: reminder of {MAR_31_BOX} queued" in str(resumed.trace)
        assert [(MAR_31_BOX, "suppressed"), (MAR_31_BOX, "pending")] == bakery.reminders()

    def test_a_later_delivery_after_a_pause_with_an_end_is_reminded_in_its_time(
        self, make_store: Callable[[], Store]
    ) -> None:
        bakery = Bakery(make_store())
        # A reminder queued at once by a subscription made close to the box, withdrawn.
        bakery.at(REMINDED).run_due()
        bakery.at(REMINDED + timedelta(hours=1)).pause_subscription(
            "maya", "pie-box", key="p", until=datetime(2026, 4, 15, tzinfo=UTC)
        )
        # Resumed in time for the box of 30 April: its reminder comes on the 28th.
        bakery.at(datetime(2026, 4, 2, tzinfo=UTC)).resume_subscription("maya", "pie-box", key="r")
        bakery.at(datetime(2026, 4, 28, 7, tzinfo=UTC)).run_due()
        bakery.at(datetime(2026, 4, 28, 8, tzinfo=UTC)).run_due()

        assert [
            (MAR_31_BOX, "suppressed"),
            ("2026-04-30T09:00:00+02:00", "pending"),
        ] == bakery.reminders()

    def test_paused_and_resumed_twice_announces_it_once_more_each_time(
        self, make_store: Callable[[], Store]
    ) -> None:
        bakery = Bakery(make_store())
        bakery.at(REMINDED).run_due()
        for hour in (1, 3):
            moment = REMINDED + timedelta(hours=hour)
            bakery.at(moment).pause_subscription("maya", "pie-box", key=f"p{hour}")
            bakery.at(moment + timedelta(hours=1)).resume_subscription(
                "maya", "pie-box", key=f"r{hour}"
            )
            bakery.at(moment + timedelta(hours=1, minutes=30)).run_due()

        assert [
            (MAR_31_BOX, "suppressed"),
            (MAR_31_BOX, "suppressed"),
            (MAR_31_BOX, "pending"),
        ] == bakery.reminders()

    def test_subscribing_again_after_a_cancellation_announces_it_again(
        self, make_store: Callable[[], Store]
    ) -> None:
        bakery = Bakery(make_store())
        bakery.at(REMINDED).run_due()
        bakery.at(REMINDED + timedelta(hours=1)).cancel_subscription("maya", "pie-box", key="c")

        bakery.at(REMINDED + timedelta(hours=2)).subscribe("maya", "pie-box", key="s-2")
        bakery.at(REMINDED + timedelta(hours=3)).run_due()

        assert [(MAR_31_BOX, "suppressed"), (MAR_31_BOX, "pending")] == bakery.reminders()


def test_a_subscription_stored_before_it_counted_withdrawals_reads_back_with_none() -> None:
    sub = Subscription(
        plan="pie-box", status="active", started_at=MAR_2, zone="Europe/Paris", next_at=REMINDED
    )
    old = rows.value_row(sub)[:-1]  # written without reminders_withdrawn, its last field

    back = rows.value_from_row(codec.loads(codec.dumps(old)))

    assert (sub, 0) == (back, back.reminders_withdrawn)


@settings(max_examples=40, deadline=None)
@given(
    pauses=st.lists(st.tuples(st.integers(1, 40), st.integers(1, 40)), min_size=1, max_size=3).map(
        sorted
    )
)
def test_whatever_the_pauses_the_next_delivery_has_one_reminder_waiting(
    pauses: list[tuple[int, int]],
) -> None:
    # Each pause starts some hours after the reminder and is resumed some hours later,
    # all before the box: in the end exactly one reminder of it waits to go out.
    bakery = Bakery(MemoryStore())
    bakery.at(REMINDED).run_due()
    moment = REMINDED
    for number, (wait, paused_for) in enumerate(pauses):
        moment += timedelta(minutes=wait)
        bakery.at(moment).pause_subscription("maya", "pie-box", key=f"p{number}")
        moment += timedelta(minutes=paused_for)
        bakery.at(moment).resume_subscription("maya", "pie-box", key=f"r{number}")
        bakery.at(moment).run_due()

    assert [(MAR_31_BOX, "pending")] == [
        pair for pair in bakery.reminders() if pair[1] == "pending"
    ]
