"""The structural bond, built on the seed's examples: a newsletter sent by an
autoresponder ("an autoresponder like MailChimp, for your newsletters and upcoming
events") and a delivery system the customer builds into their month (a subscription
box of pies on the last day of every month), and the tools they come to rely on."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custbond import (
    CustomEvent,
    FixedClock,
    IntegrationAdopted,
    IntegrationDropped,
    InvalidInput,
    LineItem,
    MemoryStore,
    MessagingPolicy,
    NotFound,
    Plan,
    Program,
    Purchase,
    RetentionService,
    Sequence,
    SequenceStep,
    StructuralPolicy,
    SubscriptionStatus,
)
from custbond.messaging import MessageStatus
from custbond.messaging.templates import Template, Templates
from custbond.storage.ports import Store
from stores import STORES

MAR_2 = datetime(2026, 3, 2, 8, tzinfo=UTC)
TEMPLATES = Templates(
    {
        **{name: dict(channels) for name, channels in Templates.defaults().templates.items()},
        "our_story": {"*": Template("Hi $name, here is how we bake.", subject="Our story")},
        "best_sellers": {"*": Template("Hi $name, our best sellers.", subject="Best sellers")},
        "box_soon": {"*": Template("Hi $name, your box comes $when.", subject="Your box")},
    }
)
NEWSLETTER = Sequence(
    name="newsletter",
    on="CustomEvent",
    event_name="newsletter",
    steps=[
        SequenceStep(after=timedelta(0), template="welcome"),
        SequenceStep(after=timedelta(days=3), template="our_story", name="day 3"),
        SequenceStep(after=timedelta(days=10), template="best_sellers", name="day 10"),
    ],
    leave_on=["Purchase"],
)
PIE_BOX = Plan(
    name="pie-box",
    every="FREQ=MONTHLY;BYMONTHDAY=-1;BYHOUR=9;BYMINUTE=0",
    price=Decimal("25.00"),
    benefits=("a pie a month", "members' tasting nights"),
    remind_before=timedelta(days=2),
    template="box_soon",
)
PROGRAM = Program(
    currency="EUR",
    time_zone="Europe/Paris",
    messaging=MessagingPolicy(templates=TEMPLATES),
    structure=StructuralPolicy(plans=[PIE_BOX], sequences=[NEWSLETTER]),
)


class Bakery:
    def __init__(self, store: Store | None = None) -> None:
        self.clock = FixedClock(MAR_2)
        self.service = RetentionService(PROGRAM, store or MemoryStore(), self.clock)
        for customer in ("maya", "ben"):
            self.service.set_consent(
                customer, "email", granted=True, source="form", key=f"consent-{customer}"
            )

    def at(self, moment: datetime) -> RetentionService:
        self.clock.set(moment)
        return self.service

    def join_newsletter(self, event_id: str, customer: str = "maya") -> None:
        # Every delivery of an event carries the same content: when it happened.
        at = MAR_2 if event_id == "news-1" else self.clock.now()
        self.service.record(
            CustomEvent(id=event_id, customer_id=customer, at=at, name="newsletter")
        )

    def sent(self, customer: str = "maya") -> list[str]:
        return [
            queued.message.template
            for queued in self.service.outbox(customer_id=customer)
            if queued.message.key.startswith("custbond:sequence:")
        ]


@pytest.fixture(params=STORES)
def bakery(request: pytest.FixtureRequest) -> Bakery:
    make_store: Callable[[], Store] = request.param
    return Bakery(make_store())


def test_the_newsletter_autoresponder_welcomes_then_writes_on_day_3_and_day_10(
    bakery: Bakery,
) -> None:
    bakery.join_newsletter("news-1")
    assert bakery.sent() == ["welcome"]  # at once
    bakery.join_newsletter("news-1")  # the same event delivered again
    bakery.join_newsletter("news-2")  # she signs up again: she entered once, ever
    bakery.at(MAR_2 + timedelta(days=3) - timedelta(seconds=1)).run_due()
    assert bakery.sent() == ["welcome"]
    bakery.at(MAR_2 + timedelta(days=3)).run_due()
    bakery.at(MAR_2 + timedelta(days=4)).run_due()
    assert bakery.sent() == ["welcome", "our_story"]
    bakery.at(MAR_2 + timedelta(days=10)).run_due()
    bakery.at(MAR_2 + timedelta(days=30)).run_due()
    assert bakery.sent() == ["welcome", "our_story", "best_sellers"]
    enrollment = bakery.service.bond_profile("maya").structural
    assert enrollment.score == 0  # the sequence is over: nothing holds her there now


def test_a_purchase_takes_a_reader_out_of_the_sequence(bakery: Bakery) -> None:
    bakery.join_newsletter("news-1")
    pie = LineItem(sku="cherry-pie", quantity=1, unit_price=Decimal("24.00"))
    bakery.at(MAR_2 + timedelta(days=1)).record(
        Purchase(
            id="o-1",
            customer_id="maya",
            at=MAR_2 + timedelta(days=1),
            amount=Decimal("24.00"),
            currency="EUR",
            items=(pie,),
        )
    )
    bakery.at(MAR_2 + timedelta(days=30)).run_due()
    assert bakery.sent() == ["welcome"]


def test_a_late_run_sends_only_the_step_that_fits_now(bakery: Bakery) -> None:
    bakery.join_newsletter("news-1")
    bakery.at(MAR_2 + timedelta(days=11)).run_due()  # the job was down for a week
    assert bakery.sent() == ["welcome", "best_sellers"]


@settings(max_examples=25, deadline=None)
@given(
    days=st.lists(st.integers(min_value=0, max_value=15), min_size=1, max_size=8),
    redeliver=st.booleans(),
)
def test_no_step_is_ever_sent_twice_under_replays_and_duplicates(
    days: list[int], redeliver: bool
) -> None:
    bakery = Bakery()
    bakery.join_newsletter("news-1")
    for day in sorted(days):  # runs at any times, repeated
        bakery.at(MAR_2 + timedelta(days=day)).run_due()
        if redeliver:
            bakery.join_newsletter("news-1")
    sent = bakery.sent()
    assert len(sent) == len(set(sent))
    replayed = RetentionService(PROGRAM, MemoryStore(), FixedClock(MAR_2))
    replayed.replay(bakery.service.log())
    replayed.run_due()
    replayed.replay(bakery.service.log())  # and once more: nothing new
    keys = {q.message.key for q in bakery.service.outbox(customer_id="maya")}
    again = [q.message.key for q in replayed.outbox(customer_id="maya")]
    assert len(again) == len(set(again))
    assert {key for key in again if key.startswith("custbond:sequence:")} <= keys


def test_the_pie_box_arrives_on_the_last_day_of_each_month_at_nine_in_paris(
    bakery: Bakery,
) -> None:
    service = bakery.service
    service.subscribe("maya", "pie-box", key="sub-1")
    assert [moment.isoformat() for moment in service.upcoming("maya", "pie-box", count=3)] == [
        "2026-03-31T09:00:00+02:00",  # summer time began on the 29th
        "2026-04-30T09:00:00+02:00",
        "2026-05-31T09:00:00+02:00",
    ]
    service.skip_delivery("maya", "pie-box", date(2026, 4, 30), key="skip-1")
    assert service.upcoming("maya", "pie-box", count=1)[0].date() == date(2026, 3, 31)
    bakery.at(datetime(2026, 3, 29, 7, tzinfo=UTC)).run_due()  # two days before: reminder
    (reminder,) = [
        q for q in service.outbox(customer_id="maya") if q.message.template == "box_soon"
    ]
    assert reminder.message.context["plan"] == "pie-box"
    bakery.at(datetime(2026, 6, 1, tzinfo=UTC)).run_due()
    box = service.subscriptions("maya")["pie-box"]
    assert (box.occurrences, box.last_at.isoformat()) == (2, "2026-05-31T09:00:00+02:00")
    assert service.upcoming("maya", "pie-box", count=1)[0].isoformat() == (
        "2026-06-30T09:00:00+02:00"
    )


@pytest.mark.parametrize("change", ["cancel", "skip", "pause"])
def test_a_reminder_queued_for_a_delivery_that_is_not_coming_is_never_sent(
    bakery: Bakery, change: str
) -> None:
    service = bakery.service
    service.subscribe("maya", "pie-box", key="sub-1")
    bakery.at(datetime(2026, 3, 29, 7, tzinfo=UTC)).run_due()  # queues 31 March's reminder

    if change == "cancel":
        service.cancel_subscription("maya", "pie-box", key="change-1")
    elif change == "skip":
        service.skip_delivery("maya", "pie-box", date(2026, 3, 31), key="change-1")
    else:
        service.pause_subscription("maya", "pie-box", key="change-1")

    (reminder,) = [
        q for q in service.outbox(customer_id="maya") if q.message.template == "box_soon"
    ]
    assert reminder.status is MessageStatus.SUPPRESSED
    assert "the occurrence of 2026-03-31T09:00:00+02:00 is not coming" in (reminder.reason or "")


def test_skipping_a_later_delivery_keeps_the_next_ones_reminder(bakery: Bakery) -> None:
    service = bakery.service
    service.subscribe("maya", "pie-box", key="sub-1")
    bakery.at(datetime(2026, 3, 29, 7, tzinfo=UTC)).run_due()

    service.skip_delivery("maya", "pie-box", date(2026, 4, 30), key="skip-1")

    (reminder,) = [
        q for q in service.outbox(customer_id="maya") if q.message.template == "box_soon"
    ]
    assert reminder.status is MessageStatus.PENDING


def test_the_box_pauses_resumes_and_cancels(bakery: Bakery) -> None:
    service = bakery.service
    service.subscribe("maya", "pie-box", key="sub-1")
    service.pause_subscription(
        "maya", "pie-box", key="pause-1", until=datetime(2026, 5, 15, tzinfo=UTC)
    )
    assert service.subscriptions("maya")["pie-box"].status is SubscriptionStatus.PAUSED
    assert service.upcoming("maya", "pie-box", count=1)[0].date() == date(2026, 5, 31)
    bakery.at(datetime(2026, 4, 10, tzinfo=UTC)).resume_subscription(
        "maya", "pie-box", key="resume-1"
    )
    assert service.upcoming("maya", "pie-box", count=1)[0].date() == date(2026, 4, 30)
    bakery.at(datetime(2026, 5, 2, tzinfo=UTC)).cancel_subscription(
        "maya", "pie-box", key="cancel-1", reason="moving abroad"
    )
    box = service.subscriptions("maya")["pie-box"]
    assert (box.status, box.occurrences, box.next_at) == (SubscriptionStatus.CANCELLED, 1, None)
    assert service.upcoming("maya", "pie-box") == ()


def test_subscription_commands_for_what_does_not_exist_are_refused(bakery: Bakery) -> None:
    service = bakery.service
    with pytest.raises(NotFound):
        service.subscribe("maya", "wine-club", key="sub-x")
    with pytest.raises(InvalidInput):
        service.skip_delivery("maya", "pie-box", datetime(2026, 3, 31, tzinfo=UTC), key="s-x")  # type: ignore[arg-type]
    outcome = service.pause_subscription("maya", "pie-box", key="pause-x")
    assert not outcome.effects  # no subscription to pause: nothing to do
    service.subscribe("maya", "pie-box", key="sub-1")
    with pytest.raises(InvalidInput):
        service.skip_delivery("maya", "pie-box", date(2026, 3, 30), key="skip-x")
    assert service.subscriptions("maya")["pie-box"].skipped == ()


def test_integrations_are_recorded_with_the_date_adopted(bakery: Bakery) -> None:
    service = bakery.service
    adopted = datetime(2026, 2, 1, tzinfo=UTC)
    service.record(
        IntegrationAdopted(id="i-1", customer_id="ben", at=adopted, integration="order-portal")
    )
    service.record(
        IntegrationAdopted(id="i-2", customer_id="ben", at=MAR_2, integration="label-printer")
    )
    service.record(
        IntegrationDropped(id="i-3", customer_id="ben", at=MAR_2, integration="label-printer")
    )
    profile = service.bond_profile("ben").structural
    assert profile.score == 20  # one integration in use
    facts = {fact.name: fact.value for fact in profile.facts}
    assert facts["integrations"] == 1
    assert [(item.name, item.adopted_at, item.in_use) for item in service.integrations("ben")] == [
        ("order-portal", adopted, True),
        ("label-printer", MAR_2, False),
    ]


def test_a_readers_place_in_the_sequence_can_be_read(bakery: Bakery) -> None:
    bakery.join_newsletter("news-1")
    (enrollment,) = bakery.service.enrollments("maya").values()
    assert (enrollment.sequence, enrollment.sent, enrollment.is_active) == ("newsletter", 1, True)


def test_a_reader_leaves_the_newsletter_on_a_condition_unsubscribing() -> None:
    newsletter = attrs.evolve(
        NEWSLETTER, leave_on=("CustomEvent",), leave_when="event.name == 'unsubscribe'"
    )
    program = attrs.evolve(PROGRAM, structure=StructuralPolicy(sequences=[newsletter]))
    bakery = Bakery()
    bakery.service = RetentionService(program, bakery.service.store, bakery.clock)
    bakery.join_newsletter("news-1")  # a CustomEvent too: it enters, it does not leave
    bakery.at(MAR_2 + timedelta(days=1)).record(
        CustomEvent(id="other", customer_id="maya", at=bakery.clock.now(), name="liked_a_post")
    )
    bakery.at(MAR_2 + timedelta(days=3)).run_due()
    assert bakery.sent() == ["welcome", "our_story"]  # another custom event: still in
    bakery.at(MAR_2 + timedelta(days=4)).record(
        CustomEvent(id="bye", customer_id="maya", at=bakery.clock.now(), name="unsubscribe")
    )
    bakery.at(MAR_2 + timedelta(days=30)).run_due()
    assert bakery.sent() == ["welcome", "our_story"]
    (enrollment,) = bakery.service.enrollments("maya").values()
    assert enrollment.left_because == "CustomEvent bye"


def test_a_leave_condition_must_say_which_events_and_read_their_facts() -> None:
    step = SequenceStep(after=timedelta(0), template="welcome")
    with pytest.raises(InvalidInput, match="leave_when"):
        Sequence(name="s", on="Signup", steps=[step], leave_when="event.amount > 10")
    with pytest.raises(InvalidInput, match="only for CustomEvent"):
        Sequence(
            name="s",
            on="Signup",
            steps=[step],
            leave_on=["Purchase"],
            leave_when="event.name == 'x'",
        )
    with pytest.raises(InvalidInput, match="leave_when telling them apart"):
        Sequence(name="s", on="Signup", steps=[step], leave_on=["Signup"])
