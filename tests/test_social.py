"""The social bond: relationship owners, keep-in-touch cadences and calls after events,
built on the seed's hairdresser (who keeps in touch with her regulars between cuts).

Lena cuts Maya's hair. The salon keeps in touch every six weeks, a week ahead, and calls
the day after each appointment to ask how the cut turned out."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custbond import (
    Appointment,
    AssignOwner,
    Cadence,
    CallAfter,
    ContactMade,
    Customer,
    FixedClock,
    InvalidInput,
    MemoryStore,
    Program,
    RetentionService,
    SocialPolicy,
    Visit,
)
from custbond._frozen import FrozenMap
from custbond.commands import Settle
from custbond.effects import OpenTask
from custbond.program import CustomerState
from custbond.storage import _rows as rows
from custbond.storage.ports import Store
from stores import STORES

JAN_5 = datetime(2026, 1, 5, 9, tzinfo=UTC)
SIX_WEEKS = timedelta(weeks=6)
SALON = SocialPolicy(
    cadence=Cadence(every=SIX_WEEKS, ahead=timedelta(days=7)),
    call_after=[CallAfter(on="Appointment", after=timedelta(days=1), reason="ask about the cut")],
)


class Salon:
    def __init__(self, store: Store | None = None, policy: SocialPolicy | None = SALON) -> None:
        self.clock = FixedClock(JAN_5)
        self.service = RetentionService(
            Program(social=policy), store or MemoryStore(), clock=self.clock
        )

    def at(self, at: datetime) -> RetentionService:
        self.clock.set(at)
        return self.service

    def contact(self, id_: str, at: datetime) -> None:
        self.service.record(ContactMade(id=id_, customer_id="maya", at=at, by="Lena"))


@pytest.fixture(params=STORES)
def salon(request: pytest.FixtureRequest) -> Salon:
    make_store: Callable[[], Store] = request.param
    return Salon(make_store())


def test_the_hairdressers_cadence_from_the_first_cut_to_a_long_silence(salon: Salon) -> None:
    service = salon.service
    service.save_customer(Customer("maya", name="Maya"))
    service.assign_owner("maya", "Lena", key="owner-1")
    assert ("Lena", None) == service.relationship("maya")

    booked = Appointment(
        id="appt-1",
        customer_id="maya",
        at=JAN_5,
        starts_at=datetime(2026, 1, 12, 10, tzinfo=UTC),
        service="cut and colour",
    )
    salon.at(JAN_5).record(booked)
    (call,) = service.tasks("Lena")
    assert (datetime(2026, 1, 13, 10, tzinfo=UTC), "call") == (call.due_at, call.kind)
    assert "ask about the cut (appt-1)" == call.reason

    called = datetime(2026, 1, 13, 11, tzinfo=UTC)
    salon.at(called).close_task(call.key, "loves the colour")
    salon.contact("call-1", called)
    assert ("Lena", called) == service.relationship("maya")

    salon.at(called + SIX_WEEKS - timedelta(days=7, minutes=1)).run_due()
    assert () == service.tasks("Lena")  # not yet: the task opens a week ahead

    salon.at(called + SIX_WEEKS - timedelta(days=6)).run_due()
    service.run_due()  # once is enough
    (touch,) = service.tasks("Lena")
    assert called + SIX_WEEKS == touch.due_at  # due when the gap reaches six weeks
    assert "keep in touch (none since 2026-01-13)" == touch.reason

    # Nobody calls. Much later, one more task (due six weeks after the first), not one
    # per missed period; the next lies ahead.
    salon.at(touch.due_at + 3 * SIX_WEEKS).run_due()
    service.run_due()
    tasks = service.tasks("Lena")
    assert [touch.due_at, touch.due_at + SIX_WEEKS] == [task.due_at for task in tasks]

    # A contact reported late (dated before the last one) changes nothing.
    salon.contact("chat-0", called - timedelta(days=3))
    assert called == service.relationship("maya")[1]


def test_a_customer_nobody_owns_gets_no_tasks() -> None:
    salon = Salon()
    salon.service.record(Visit(id="v-1", customer_id="maya", at=JAN_5))
    salon.at(JAN_5 + timedelta(days=100)).run_due()

    assert () == salon.service.tasks()


def test_the_default_owner_looks_after_everyone_not_assigned() -> None:
    policy = SocialPolicy(
        default_owner="front desk",
        cadence=Cadence(every=timedelta(days=30)),
        call_after=[CallAfter(on="Visit", after=timedelta(0), owner="manager")],
    )
    salon = Salon(policy=policy)
    salon.service.record(Visit(id="v-1", customer_id="maya", at=JAN_5))
    salon.at(JAN_5 + timedelta(days=31)).run_due()

    assert ["front desk"] == [task.owner for task in salon.service.tasks("front desk")]
    assert [JAN_5] == [task.due_at for task in salon.service.tasks("manager")]  # at once


def test_unassigning_the_owner_stops_the_cadence() -> None:
    salon = Salon()
    salon.service.assign_owner("maya", "Lena", key="owner-1")
    salon.service.assign_owner("maya", None, key="owner-2")
    salon.at(JAN_5 + timedelta(days=100)).run_due()

    assert () == salon.service.tasks()
    assert (None, None) == salon.service.relationship("maya")


def test_replaying_the_log_gives_the_same_owner_contacts_and_tasks() -> None:
    salon = Salon()
    salon.service.assign_owner("maya", "Lena", key="owner-1")
    salon.contact("call-1", JAN_5 + timedelta(days=1))
    salon.at(JAN_5 + timedelta(days=60)).run_due()
    copy = RetentionService(salon.service.program, MemoryStore(), clock=FixedClock(JAN_5))

    copy.replay(salon.service.log())

    assert salon.service.relationship("maya") == copy.relationship("maya")
    assert salon.service.tasks(open_only=False) == copy.tasks(open_only=False)


class TestValues:
    def test_ahead_must_be_shorter_than_the_cadence(self) -> None:
        with pytest.raises(InvalidInput) as caught:
            Cadence(every=timedelta(days=7), ahead=timedelta(days=7))
        assert "ahead" == caught.value.field

    def test_a_call_follows_only_events_a_person_would_call_about(self) -> None:
        with pytest.raises(InvalidInput) as caught:
            CallAfter(on="Return")
        assert "on" == caught.value.field

    def test_an_owner_is_an_identifier(self) -> None:
        with pytest.raises(InvalidInput) as caught:
            AssignOwner(key="k", customer_id="maya", owner="")
        assert "owner" == caught.value.field


@settings(max_examples=100)
@given(
    gaps=st.lists(st.integers(1, 120), min_size=1, max_size=8),
    contacts=st.lists(st.booleans(), min_size=8, max_size=8),
)
def test_a_cadence_task_is_never_opened_twice_for_one_due_time(
    gaps: list[int], contacts: list[bool]
) -> None:
    program = Program(social=SocialPolicy(default_owner="Lena", cadence=Cadence(every=SIX_WEEKS)))
    state = CustomerState(Customer("maya"))
    now = JAN_5
    opened: list[OpenTask] = []
    for number, (gap, contacted) in enumerate(zip(gaps, contacts, strict=False)):
        now += timedelta(days=gap)
        item: object = (
            ContactMade(id=f"c-{number}", customer_id="maya", at=now)
            if contacted
            else Settle(customer_id="maya")
        )
        decision = program.decide(state, item, now)  # type: ignore[arg-type]
        state, _ = program.apply(state, decision, now)
        opened += [effect for effect in decision.effects if isinstance(effect, OpenTask)]
        due = state.schedule.get("contact")
        assert due is None or due > now or contacted  # the schedule moves on
    keys = [task.key for task in opened]
    assert len(keys) == len(set(keys))
    for task in opened:  # each due when a six-week gap without contact ended
        assert task.due_at <= now + SIX_WEEKS


def test_forget_erases_what_was_said_in_a_contact(salon: Salon) -> None:
    service = salon.service
    service.save_customer(Customer("maya", name="Maya Okafor"))
    service.record(
        ContactMade(
            id="call-1", customer_id="maya", at=JAN_5, by="Lena", note="Maya Okafor is moving"
        )
    )

    service.forget("maya", pseudonym="erased-1")

    (record,) = [r for r in service.log() if isinstance(r.input, ContactMade)]
    assert "erased-1" == record.input.customer_id
    assert "erased" == record.input.note
    assert "Maya" not in repr(list(service.log()))


class TestStoredState:
    """The owner and the last contact in a stored extras row, and rows written before
    they existed."""

    @pytest.mark.parametrize(
        ("owner", "contact"),
        [("Lena", None), (None, JAN_5), ("Lena", JAN_5)],
    )
    def test_the_owner_and_the_last_contact_round_trip(
        self, owner: str | None, contact: datetime | None
    ) -> None:
        state = CustomerState(Customer("maya"), owner=owner, last_contact_at=contact)

        fields = rows.extras_from_row(rows.extras_row(state))

        assert state == CustomerState(Customer("maya"), state.ledger, *fields)

    def test_a_row_written_before_the_social_section_reads_with_nobody(self) -> None:
        state = CustomerState(Customer("maya"), schedule=FrozenMap({"contact": JAN_5}))
        row = rows.extras_row(state)
        assert row is not None
        assert 0 == row[-1]  # the social section: empty
        older = row[:-1]  # as written before it existed

        fields = rows.extras_from_row(older)

        assert state == CustomerState(Customer("maya"), state.ledger, *fields)


def test_run_due_puts_customers_known_before_the_cadence_on_it() -> None:
    store = MemoryStore()
    before = RetentionService(Program(), store, clock=FixedClock(JAN_5))
    before.record(Visit(id="v-1", customer_id="maya", at=JAN_5))
    policy = SocialPolicy(default_owner="Lena", cadence=Cadence(every=timedelta(days=30)))
    clock = FixedClock(JAN_5 + timedelta(days=1))
    after = RetentionService(Program(social=policy), store, clock=clock)

    after.run_due()  # nothing due yet: puts her on the cadence
    clock.advance(timedelta(days=31))
    after.run_due()

    assert ["Lena"] == [task.owner for task in after.tasks()]
