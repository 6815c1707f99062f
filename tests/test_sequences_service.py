"""Autoresponder sequences through the service, on every store: leaving a sequence.

A reader joins the bakery's newsletter on Monday 2 March 2026 at 08:00 UTC and gets a
welcome at once, a note on day 3 and another on day 10, until she buys a pie. What she
bought before she joined does not take her out; what she buys after takes her out, and
takes back the steps that are queued and not yet sent."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import attrs
import pytest

from custbond import (
    Customer,
    CustomEvent,
    FixedClock,
    LineItem,
    MessagingPolicy,
    Program,
    Purchase,
    RecordingNotifier,
    RetentionService,
    Sequence,
    SequenceStep,
    StructuralPolicy,
)
from custbond.messaging import MessageStatus
from custbond.messaging.templates import Template, Templates
from custbond.storage.ports import Store
from stores import STORES

JOINED = datetime(2026, 3, 2, 8, tzinfo=UTC)
DAY = timedelta(days=1)
TEMPLATES = Templates(
    {
        **{name: dict(channels) for name, channels in Templates.defaults().templates.items()},
        "our_story": {"*": Template("Hi $name, here is how we bake.", subject="Our story")},
        "best_sellers": {"*": Template("Hi $name, our best sellers.", subject="Best sellers")},
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
PIE = LineItem(sku="cherry-pie", quantity=1, unit_price=Decimal("24.00"))


class Bakery:
    def __init__(self, store: Store, sequence: Sequence = NEWSLETTER) -> None:
        program = Program(
            currency="EUR",
            time_zone="Europe/Paris",
            messaging=MessagingPolicy(templates=TEMPLATES),
            structure=StructuralPolicy(sequences=[sequence]),
        )
        self.clock = FixedClock(JOINED)
        self.notifier = RecordingNotifier()
        self.service = RetentionService(program, store, self.clock, notifier=self.notifier)
        self.service.save_customer(Customer("maya", email="maya@example.com"))
        self.service.set_consent("maya", "email", granted=True, source="form", key="consent")

    def at(self, moment: datetime) -> Bakery:
        self.clock.set(moment)
        return self

    def run_due(self) -> None:
        self.service.run_due()

    def join(self) -> None:
        self.service.record(
            CustomEvent(id="news-1", customer_id="maya", at=JOINED, name="newsletter")
        )

    def buy(self, at: datetime, id: str = "o-1") -> None:
        purchase = Purchase(
            id=id, customer_id="maya", at=at, amount=Decimal("24.00"), currency="EUR", items=[PIE]
        )
        self.service.record(purchase)

    def steps(self) -> dict[str, str]:
        """Each step's template, and where its message stands."""
        return {
            queued.message.template: queued.status.value
            for queued in self.service.outbox(customer_id="maya")
            if queued.message.key.startswith("custbond:sequence:")
        }


@pytest.fixture(params=STORES)
def make_store(request: pytest.FixtureRequest) -> Callable[[], Store]:
    maker: Callable[[], Store] = request.param
    return maker


class TestAPurchaseFromBeforeJoining:
    def test_does_not_take_a_reader_out_of_the_sequence(
        self, make_store: Callable[[], Store]
    ) -> None:
        bakery = Bakery(make_store())
        bakery.join()
        bakery.at(JOINED + DAY).buy(JOINED - DAY)  # the day before's order, loaded late
        bakery.at(JOINED + 3 * DAY).run_due()
        bakery.at(JOINED + 10 * DAY).run_due()
        assert ["welcome", "our_story", "best_sellers"] == list(bakery.steps())
        enrollment = bakery.service.enrollments("maya")["newsletter"]
        assert (enrollment.is_active, enrollment.left_at) == (True, None)

    def test_does_the_same_whichever_of_the_two_is_recorded_first(
        self, make_store: Callable[[], Store]
    ) -> None:
        joined_first, bought_first = Bakery(make_store()), Bakery(make_store())
        joined_first.join()
        joined_first.buy(JOINED - DAY)
        bought_first.buy(JOINED - DAY)
        bought_first.join()
        for bakery in (joined_first, bought_first):
            bakery.at(JOINED + 30 * DAY).run_due()
        assert joined_first.steps() == bought_first.steps()
        assert joined_first.service.enrollments("maya") == bought_first.service.enrollments("maya")


class TestLeaving:
    def test_withdraws_the_welcome_queued_and_not_yet_sent(
        self, make_store: Callable[[], Store]
    ) -> None:
        bakery = Bakery(make_store())
        bakery.join()  # the welcome is queued; the dispatcher has not run yet
        bakery.at(JOINED + timedelta(minutes=5)).buy(JOINED + timedelta(minutes=5))
        bakery.service.dispatch()
        assert {"welcome": MessageStatus.SUPPRESSED.value} == bakery.steps()
        assert [] == bakery.notifier.sent

    def test_leaves_a_step_already_sent_as_sent(self, make_store: Callable[[], Store]) -> None:
        bakery = Bakery(make_store())
        bakery.join()
        bakery.service.dispatch()
        bakery.at(JOINED + 4 * DAY).run_due()  # day 3 queued, not sent
        bakery.buy(JOINED + 4 * DAY)
        bakery.service.dispatch()
        expected = {"welcome": "sent", "our_story": "suppressed"}
        assert expected == bakery.steps()
        assert ["welcome"] == [sent.template for sent in bakery.notifier.sent]

    def test_withdraws_every_step_a_catching_up_sequence_queued(
        self, make_store: Callable[[], Store]
    ) -> None:
        bakery = Bakery(make_store(), attrs.evolve(NEWSLETTER, catch_up=True))
        bakery.join()
        bakery.at(JOINED + 11 * DAY).run_due()  # the job was down: all three queued
        bakery.buy(JOINED + 11 * DAY)
        assert set(bakery.steps().values()) == {"suppressed"}
        assert 3 == len(bakery.steps())
        bakery.service.dispatch()
        assert [] == bakery.notifier.sent
