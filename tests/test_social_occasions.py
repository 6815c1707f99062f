"""The social bond beyond the cadence, on the seed's hairdresser: a note of appreciation
at the tenth cut, the owner's card before Maya's birthday and the anniversary of her
first visit, a regular review with the salon's key clients, and an evening for members."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest

from custbond import (
    Customer,
    EventAttended,
    FixedClock,
    InvalidInput,
    KeyReview,
    MembersEvent,
    MemoryStore,
    Milestone,
    Occasion,
    OccasionPolicy,
    Program,
    Purchase,
    RetentionService,
    SocialPolicy,
)
from custbond.storage.ports import Store
from stores import STORES

JAN_5 = datetime(2026, 1, 5, 9, tzinfo=UTC)
SALON = SocialPolicy(
    default_owner="Lena",
    appreciation=[Milestone(name="tenth-cut", purchases=10)],
    occasions=OccasionPolicy(ahead=timedelta(days=3), at=time(9)),
    reviews=KeyReview(every=timedelta(days=91), min_spend=Decimal("300"), reason="yearly plan"),
)


class Salon:
    def __init__(self, store: Store | None = None) -> None:
        self.clock = FixedClock(JAN_5)
        program = Program(currency="EUR", time_zone="Europe/Berlin", social=SALON)
        self.service = RetentionService(program, store or MemoryStore(), self.clock)
        self.service.save_customer(Customer("maya", name="Maya", time_zone="Europe/Berlin"))

    def at(self, moment: datetime) -> RetentionService:
        self.clock.set(moment)
        return self.service

    def cut(self, number: int, at: datetime) -> None:
        self.at(at).record(
            Purchase(
                id=f"cut-{number}",
                customer_id="maya",
                at=at,
                amount=Decimal("45.00"),
                currency="EUR",
            )
        )

    def reasons(self) -> list[str]:
        return [task.reason for task in self.service.tasks("Lena", open_only=False)]


@pytest.fixture(params=STORES)
def salon(request: pytest.FixtureRequest) -> Salon:
    make_store: Callable[[], Store] = request.param
    return Salon(make_store())


def test_the_tenth_cut_earns_a_handwritten_note_once(salon: Salon) -> None:
    for number in range(12):
        salon.cut(number, JAN_5 + timedelta(weeks=number))
    notes = [reason for reason in salon.reasons() if "appreciation" in reason]
    assert notes == [
        "write a note of appreciation (tenth-cut: a note of appreciation at the 10th purchase)"
    ]
    (task,) = [t for t in salon.service.tasks("Lena") if t.about == "cut-9"]
    assert task.due_at == JAN_5 + timedelta(weeks=9)


def test_the_owner_marks_the_anniversary_of_the_first_visit_and_dates_the_host_adds(
    salon: Salon,
) -> None:
    salon.cut(0, JAN_5)
    salon.service.add_occasion(
        "maya", Occasion(name="wedding anniversary", month=6, day=20), key="occ-1"
    )
    salon.at(datetime(2026, 6, 17, 6, 59, tzinfo=UTC)).run_due()
    assert not [r for r in salon.reasons() if "wedding" in r]
    salon.at(datetime(2026, 6, 17, 7, tzinfo=UTC)).run_due()  # 09:00 in Berlin, 3 days ahead
    (wedding,) = [t for t in salon.service.tasks("Lena") if "wedding" in t.reason]
    assert wedding.due_at == datetime(2026, 6, 20, 7, tzinfo=UTC)  # 09:00 Berlin, summer
    salon.at(datetime(2027, 1, 2, 8, tzinfo=UTC)).run_due()  # 09:00 Berlin, winter
    (first,) = [t for t in salon.service.tasks("Lena") if "first purchase" in t.reason]
    assert first.due_at == datetime(2027, 1, 5, 8, tzinfo=UTC)
    salon.at(datetime(2027, 1, 3, tzinfo=UTC)).run_due()  # nothing twice
    assert len([r for r in salon.reasons() if "first purchase" in r]) == 1


def test_a_key_client_gets_a_regular_review_and_a_former_one_does_not(salon: Salon) -> None:
    for number in range(7):  # 315 EUR: a key client from the seventh cut
        salon.cut(number, JAN_5 + timedelta(weeks=number))
    became_key = JAN_5 + timedelta(weeks=6)
    salon.at(became_key + timedelta(days=91)).run_due()
    (review,) = [t for t in salon.service.tasks("Lena") if t.reason == "yearly plan"]
    assert review.due_at == became_key + timedelta(days=91)
    salon.at(became_key + timedelta(days=400)).run_due()  # a long gap: one more, not four
    assert len([r for r in salon.reasons() if r == "yearly plan"]) == 2


def test_members_are_invited_to_the_evening_once_and_their_coming_is_kept(
    salon: Salon,
) -> None:
    service = salon.service
    service.set_consent("maya", "email", granted=True, source="salon", key="consent-1")
    service.save_customer(Customer("ben", tags={"staff"}))
    evening = MembersEvent(
        id="colour-night",
        name="Colour night",
        at=datetime(2026, 2, 12, 18, tzinfo=UTC),
    )
    first = service.invite(evening, ["maya", "ben", "nobody"])
    assert (first.invited, first.unknown) == (("ben", "maya"), ("nobody",))
    again = service.invite(evening)
    assert (again.invited, again.already) == ((), ("ben", "maya"))
    (invitation,) = [
        q for q in service.outbox(customer_id="maya") if q.message.template == "invitation"
    ]
    assert invitation.message.context["when"] == "2026-02-12 19:00"  # Berlin time
    vip = MembersEvent(id="vip", name="VIP", at=evening.at, tags={"vip"})
    assert service.invite(vip).not_for == ("ben", "maya")
    service.record(
        EventAttended(id="came-1", customer_id="maya", at=evening.at, event="colour-night")
    )
    social = service.bond_profile("maya").social
    assert {fact.name: fact.value for fact in social.facts}["events"] == 1


def test_bad_social_values_are_refused() -> None:
    with pytest.raises(InvalidInput):
        Milestone(name="both", purchases=3, spend=Decimal("10"))
    with pytest.raises(InvalidInput):
        KeyReview(every=timedelta(days=30))  # nobody is key
    with pytest.raises(InvalidInput):
        Occasion(name="no such day", month=2, day=30)


def test_customers_known_before_the_occasions_were_set_are_put_on_them_by_run_due() -> None:
    store = MemoryStore()
    clock = FixedClock(JAN_5)
    before = RetentionService(Program(currency="EUR"), store, clock)
    before.record(
        Purchase(id="cut-0", customer_id="maya", at=JAN_5, amount=Decimal("45"), currency="EUR")
    )
    program = Program(currency="EUR", social=SALON)
    clock.set(JAN_5 + timedelta(days=1))
    RetentionService(program, store, clock).run_due()  # a new policy: everyone planned
    clock.set(datetime(2027, 1, 3, tzinfo=UTC))
    after = RetentionService(program, store, clock)
    after.run_due()
    assert [task.reason for task in after.tasks("Lena")] == [
        "personal occasion: anniversary of the first purchase on 2027-01-05 (1 year)"
    ]
