"""What a profile saved with ``save_customer()`` changes in the owner's schedule: a
corrected birthday moves the birthday task with the greeting, a new time zone moves each
occasion to its hour on the new wall clock, and a tag that makes a customer key starts
the count to their first regular review.

These need the change to ``Program._keep_in_touch`` proposed in
/tmp/lead/social_proposals.md (the profile the decision saves, passed to
``social_desk.plan_occasions`` and ``plan_review``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from custbond import (
    Birthday,
    Customer,
    FixedClock,
    Greeting,
    KeyReview,
    MemoryStore,
    MessagingPolicy,
    OccasionPolicy,
    Program,
    RetentionService,
    SocialPolicy,
)
from custbond.storage.ports import Store
from stores import STORES

JAN_5 = datetime(2026, 1, 5, 9, tzinfo=UTC)
BIRTHDAYS = SocialPolicy(
    default_owner="Lena",
    occasions=OccasionPolicy(ahead=timedelta(days=3), first_purchase=False, custom=False),
)
KEY = SocialPolicy(
    default_owner="Lena", reviews=KeyReview(every=relativedelta(months=3), tags={"key"})
)


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest) -> Store:
    make_store: Callable[[], Store] = request.param
    return make_store()


def _service(store: Store, policy: SocialPolicy) -> RetentionService:
    messaging = MessagingPolicy(birthday=Greeting(template="birthday"))
    return RetentionService(
        Program(social=policy, messaging=messaging), store, clock=FixedClock(JAN_5)
    )


def _clock(service: RetentionService) -> FixedClock:
    clock = service.clock
    assert isinstance(clock, FixedClock)
    return clock


def _run_daily(service: RetentionService, until: datetime) -> None:
    """A daily job, from the day after the service clock's day until ``until``."""
    clock = _clock(service)
    while clock.now() + timedelta(days=1) <= until:
        clock.advance(timedelta(days=1))
        service.run_due()


def _schedule(service: RetentionService) -> dict[str, datetime]:
    with service.store.unit_of_work(write=False) as uow:
        state = uow.load("maya")
    assert state is not None
    return dict(state.schedule)


class TestACorrectedBirthday:
    def test_moves_the_owners_birthday_task_with_the_greeting(self, store: Store) -> None:
        service = _service(store, BIRTHDAYS)
        service.save_customer(Customer("maya", email="m@x.org", birthday=Birthday(10, 14)))
        service.run_due()

        service.save_customer(Customer("maya", email="m@x.org", birthday=Birthday(3, 1)))
        _run_daily(service, datetime(2026, 5, 4, 9, tzinfo=UTC))

        assert [
            "Lena: personal occasion: birthday on 2026-03-01 (due 2026-03-01T09:00:00+00:00, open)"
        ] == [task.describe() for task in service.tasks(open_only=False)]
        assert ["birthday"] == [item.message.template for item in service.outbox()]

    def test_taken_off_the_profile_drops_the_wake_up(self, store: Store) -> None:
        service = _service(store, BIRTHDAYS)
        service.save_customer(Customer("maya", birthday=Birthday(10, 14)))

        service.save_customer(Customer("maya"))

        assert "occasion:birthday" not in _schedule(service)

    def test_saved_again_unchanged_leaves_the_wake_up_where_it_was(self) -> None:
        service = _service(MemoryStore(), BIRTHDAYS)
        service.save_customer(Customer("maya", birthday=Birthday(10, 14)))
        before = _schedule(service)

        service.save_customer(Customer("maya", name="Maya", birthday=Birthday(10, 14)))

        assert before == _schedule(service)


class TestANewTimeZone:
    def test_moves_the_birthday_task_to_nine_on_the_new_wall_clock(self, store: Store) -> None:
        service = _service(store, BIRTHDAYS)
        service.save_customer(Customer("maya", birthday=Birthday(3, 1)))

        service.save_customer(Customer("maya", birthday=Birthday(3, 1), time_zone="Asia/Tokyo"))
        _run_daily(service, datetime(2026, 3, 2, 9, tzinfo=UTC))

        (task,) = service.tasks(open_only=False)
        assert datetime(2026, 3, 1, 0, tzinfo=UTC) == task.due_at  # 09:00 in Tokyo

    def test_after_the_task_was_opened_does_not_open_it_again(self, store: Store) -> None:
        service = _service(store, BIRTHDAYS)
        service.save_customer(Customer("maya", birthday=Birthday(3, 1)))
        _run_daily(service, datetime(2026, 2, 26, 9, tzinfo=UTC))  # opened: 3 days ahead
        assert 1 == len(service.tasks())

        service.save_customer(Customer("maya", birthday=Birthday(3, 1), time_zone="Asia/Tokyo"))
        _run_daily(service, datetime(2026, 3, 5, 9, tzinfo=UTC))

        assert ["2026-03-01"] == [task.due_at.date().isoformat() for task in service.tasks()]


class TestATagThatMakesACustomerKey:
    def test_counts_the_first_review_from_the_save(self, store: Store) -> None:
        service = _service(store, KEY)
        service.save_customer(Customer("maya", tags={"key"}))  # key from 5 January

        assert {"review": datetime(2026, 4, 5, 9, tzinfo=UTC)} == _schedule(service)
        _run_daily(service, datetime(2026, 4, 15, 9, tzinfo=UTC))
        assert ["Lena: regular review (due 2026-04-05T09:00:00+00:00, open)"] == [
            task.describe() for task in service.tasks()
        ]

    def test_given_to_a_known_customer_counts_from_then(self, store: Store) -> None:
        service = _service(store, KEY)
        service.save_customer(Customer("maya"))
        _clock(service).advance(timedelta(days=10))

        service.save_customer(Customer("maya", tags={"key", "regular"}))

        assert {"review": datetime(2026, 4, 15, 9, tzinfo=UTC)} == _schedule(service)


def test_replaying_the_saves_gives_the_same_schedule_and_tasks() -> None:
    both = SocialPolicy(default_owner="Lena", occasions=BIRTHDAYS.occasions, reviews=KEY.reviews)
    service = _service(MemoryStore(), both)
    service.save_customer(Customer("maya", birthday=Birthday(10, 14)))
    service.save_customer(Customer("maya", birthday=Birthday(3, 1), tags={"key"}))
    _run_daily(service, datetime(2026, 4, 10, 9, tzinfo=UTC))
    copy = _service(MemoryStore(), both)

    copy.replay(service.log())

    with service.store.unit_of_work(write=False) as uow:
        live = uow.load("maya")
    with copy.store.unit_of_work(write=False) as uow:
        again = uow.load("maya")
    assert live == again
    assert service.tasks(open_only=False) == copy.tasks(open_only=False)
    assert 2 == len(service.tasks())  # the birthday on 1 March, the review on 5 April


birthdays = st.builds(Birthday, month=st.integers(1, 12), day=st.integers(1, 28))


@settings(max_examples=60, deadline=None)
@given(
    told=birthdays,
    corrected=birthdays,
    days_later=st.integers(0, 400),
    zone=st.sampled_from([None, "Asia/Tokyo", "America/New_York"]),
)
def test_a_corrected_birthday_is_planned_as_if_it_had_been_given_first(
    told: Birthday, corrected: Birthday, days_later: int, zone: str | None
) -> None:
    def planned(*saved: Customer) -> tuple[datetime | None, list[str]]:
        """The birthday's next wake-up, and its tasks, once the job has run after the
        saves (a wake-up already past is one for the job to act on at once)."""
        service = _service(MemoryStore(), BIRTHDAYS)
        service.save_customer(saved[0])
        _clock(service).advance(timedelta(days=days_later))
        for customer in saved[1:]:
            service.save_customer(customer)
        service.run_due()
        tasks = [task.describe() for task in service.tasks(open_only=False)]
        return _schedule(service).get("occasion:birthday"), tasks

    assume(told != corrected)  # a correction: another day
    right = Customer("maya", birthday=corrected, time_zone=zone)
    assert planned(Customer("maya"), right) == planned(Customer("maya", birthday=told), right)
