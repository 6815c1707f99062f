"""The social bond's schedules keep up with what changes under them: a cancelled
appointment takes its calls with it, a first purchase recorded late moves the anniversary
the owner marks, and a cadence or review never opens its task before the contact it
counts from, however short the month.

Lena cuts Maya's hair; the salon calls the day after each appointment and marks the
anniversary of each customer's first visit three days ahead."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from random import Random

import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import given, settings
from hypothesis import strategies as st

from custbond import (
    Appointment,
    AppointmentCancelled,
    Cadence,
    CallAfter,
    Customer,
    FixedClock,
    InvalidInput,
    KeyReview,
    MemoryStore,
    OccasionPolicy,
    Program,
    Purchase,
    RetentionService,
    SocialPolicy,
)
from custbond.storage.ports import Store
from stores import STORES

JAN_5 = datetime(2026, 1, 5, 9, tzinfo=UTC)
CALLS = SocialPolicy(
    default_owner="Lena",
    call_after=[
        CallAfter(on="Appointment", after=timedelta(days=1), reason="ask about the cut"),
        CallAfter(on="Appointment", after=timedelta(days=14), reason="book the next one"),
    ],
)
ANNIVERSARIES = SocialPolicy(
    default_owner="Lena",
    occasions=OccasionPolicy(ahead=timedelta(days=3), birthday=False, custom=False),
)


def _service(store: Store, policy: SocialPolicy, at: datetime = JAN_5) -> RetentionService:
    return RetentionService(Program(social=policy), store, clock=FixedClock(at))


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest) -> Store:
    make_store: Callable[[], Store] = request.param
    return make_store()


def _at(service: RetentionService, moment: datetime) -> None:
    """Move the service's clock (a FixedClock) to ``moment``."""
    clock = service.clock
    assert isinstance(clock, FixedClock)
    clock.set(moment)


def _book(service: RetentionService, id_: str, starts_at: datetime) -> None:
    service.record(
        Appointment(id=id_, customer_id="maya", at=JAN_5, starts_at=starts_at, service="cut")
    )


def _cancel(service: RetentionService, id_: str, appointment_id: str, at: datetime) -> str:
    cancelled = AppointmentCancelled(
        id=id_, customer_id="maya", at=at, appointment_id=appointment_id
    )
    return str(service.record(cancelled).trace)


class TestACancelledAppointment:
    def test_withdraws_its_open_calls(self, store: Store) -> None:
        service = _service(store, CALLS)
        _book(service, "appt-1", datetime(2026, 1, 12, 10, tzinfo=UTC))
        cancelled_at = JAN_5 + timedelta(hours=2)

        trace = _cancel(service, "c-1", "appt-1", cancelled_at)

        assert () == service.tasks()
        closed = service.tasks(open_only=False)
        assert [(cancelled_at, "appointment cancelled")] * 2 == [
            (task.closed_at, task.result) for task in closed
        ]
        assert "calls after appointment appt-1 withdrawn" in trace

    def test_moved_by_cancelling_and_booking_again_gives_the_calls_of_the_new_one_only(
        self, store: Store
    ) -> None:
        service = _service(store, CALLS)
        _book(service, "appt-1", datetime(2026, 1, 12, 10, tzinfo=UTC))
        _cancel(service, "c-1", "appt-1", JAN_5)
        _book(service, "appt-2", datetime(2026, 1, 19, 10, tzinfo=UTC))

        assert [
            "Lena: ask about the cut (appt-2) (due 2026-01-20T10:00:00+00:00, open)",
            "Lena: book the next one (appt-2) (due 2026-02-02T10:00:00+00:00, open)",
        ] == [task.describe() for task in service.tasks()]

    def test_leaves_a_call_its_owner_already_closed_as_they_closed_it(self, store: Store) -> None:
        service = _service(store, CALLS)
        _book(service, "appt-1", datetime(2026, 1, 12, 10, tzinfo=UTC))
        first = service.tasks()[0]
        service.close_task(first.key, "she called to say she can't come")

        _cancel(service, "c-1", "appt-1", JAN_5 + timedelta(hours=1))

        (kept,) = [task for task in service.tasks(open_only=False) if task.key == first.key]
        assert (JAN_5, "she called to say she can't come") == (kept.closed_at, kept.result)

    def test_leaves_the_calls_of_other_appointments_open(self, store: Store) -> None:
        service = _service(store, CALLS)
        _book(service, "appt-1", datetime(2026, 1, 12, 10, tzinfo=UTC))
        _book(service, "appt-2", datetime(2026, 1, 19, 10, tzinfo=UTC))

        _cancel(service, "c-1", "appt-1", JAN_5)

        assert {"appt-2"} == {task.about for task in service.tasks()}

    def test_replayed_gives_the_same_tasks(self) -> None:
        service = _service(MemoryStore(), CALLS)
        _book(service, "appt-1", datetime(2026, 1, 12, 10, tzinfo=UTC))
        _cancel(service, "c-1", "appt-1", JAN_5)
        _book(service, "appt-2", datetime(2026, 1, 19, 10, tzinfo=UTC))
        copy = _service(MemoryStore(), CALLS)

        copy.replay(service.log())

        assert service.tasks(open_only=False) == copy.tasks(open_only=False)


def _buy(service: RetentionService, id_: str, at: datetime) -> None:
    service.record(
        Purchase(id=id_, customer_id="maya", at=at, amount=Decimal("5"), currency="USD")
    )


class TestAFirstPurchaseRecordedLate:
    def test_moves_the_anniversary_to_the_first_purchase_as_now_known(self, store: Store) -> None:
        service = _service(store, ANNIVERSARIES, datetime(2026, 6, 1, 9, tzinfo=UTC))
        _buy(service, "o-2", datetime(2026, 6, 1, 9, tzinfo=UTC))
        _buy(service, "o-1", datetime(2026, 3, 10, 9, tzinfo=UTC))  # the till uploads it late

        for day in (datetime(2027, 3, 7, 9, tzinfo=UTC), datetime(2027, 6, 1, 9, tzinfo=UTC)):
            _at(service, day)
            service.run_due()

        assert [
            "Lena: personal occasion: anniversary of the first purchase on 2027-03-10 "
            "(1 year) (due 2027-03-10T09:00:00+00:00, open)"
        ] == [task.describe() for task in service.tasks()]

    def test_a_later_one_leaves_the_anniversary_where_it_was(self) -> None:
        service = _service(MemoryStore(), ANNIVERSARIES, datetime(2026, 3, 10, 9, tzinfo=UTC))
        _buy(service, "o-1", datetime(2026, 3, 10, 9, tzinfo=UTC))
        with service.store.unit_of_work(write=False) as uow:
            before = uow.load("maya")
        assert before is not None

        _buy(service, "o-2", datetime(2026, 6, 1, 9, tzinfo=UTC))

        with service.store.unit_of_work(write=False) as uow:
            after = uow.load("maya")
        assert after is not None
        assert before.schedule == after.schedule

    def test_replayed_gives_the_same_schedule_and_tasks(self) -> None:
        service = _service(MemoryStore(), ANNIVERSARIES, datetime(2026, 6, 1, 9, tzinfo=UTC))
        _buy(service, "o-2", datetime(2026, 6, 1, 9, tzinfo=UTC))
        _buy(service, "o-1", datetime(2026, 3, 10, 9, tzinfo=UTC))
        _at(service, datetime(2027, 3, 8, 9, tzinfo=UTC))
        service.run_due()
        copy = _service(MemoryStore(), ANNIVERSARIES)

        copy.replay(service.log())

        with (
            service.store.unit_of_work(write=False) as live,
            copy.store.unit_of_work(write=False) as again,
        ):
            assert live.load("maya") == again.load("maya")
        assert service.tasks(open_only=False) == copy.tasks(open_only=False)


MONTH = relativedelta(months=1)


def _reviews(ahead: timedelta, every: relativedelta | timedelta = MONTH) -> KeyReview:
    return KeyReview(every=every, tags={"key"}, ahead=ahead)


class TestAheadIsLessThanEveryAtItsShortest:
    @pytest.mark.parametrize("make", [Cadence, _reviews], ids=["cadence", "review"])
    @pytest.mark.parametrize(
        ("every", "ahead"),
        [
            pytest.param(MONTH, timedelta(days=28), id="a-month-is-28-days-in-february"),
            pytest.param(MONTH, timedelta(days=29), id="29-days-is-more-than-february"),
            pytest.param(relativedelta(months=2), timedelta(days=59), id="two-months-are-59"),
            pytest.param(relativedelta(years=1), timedelta(days=365), id="a-year-is-365"),
            pytest.param(
                relativedelta(months=1, days=2), timedelta(days=30), id="a-month-and-2-days"
            ),
            pytest.param(timedelta(days=7), timedelta(days=7), id="an-exact-week"),
        ],
    )
    def test_an_ahead_as_long_as_the_shortest_every_is_refused(
        self,
        make: Callable[..., Cadence | KeyReview],
        every: relativedelta | timedelta,
        ahead: timedelta,
    ) -> None:
        with pytest.raises(InvalidInput, match=r"less than every") as caught:
            make(every=every, ahead=ahead)
        assert ("ahead", ahead) == (caught.value.field, caught.value.value)

    @pytest.mark.parametrize("make", [Cadence, _reviews], ids=["cadence", "review"])
    @pytest.mark.parametrize(
        ("every", "ahead"),
        [
            pytest.param(MONTH, timedelta(days=28) - timedelta(microseconds=1), id="month"),
            pytest.param(relativedelta(months=2), timedelta(days=58, hours=23), id="2-months"),
            pytest.param(relativedelta(years=1), timedelta(days=364, hours=23), id="year"),
            pytest.param(timedelta(days=7), timedelta(days=6, hours=23), id="a-week"),
        ],
    )
    def test_an_ahead_just_shorter_is_kept(
        self,
        make: Callable[..., Cadence | KeyReview],
        every: relativedelta | timedelta,
        ahead: timedelta,
    ) -> None:
        assert ahead == make(every=every, ahead=ahead).ahead

    def test_the_error_says_how_short_every_can_be(self) -> None:
        with pytest.raises(InvalidInput) as caught:
            Cadence(every=MONTH, ahead=timedelta(days=29))
        assert "less than every (1 month) at its shortest (28 days)" == caught.value.expected


@settings(max_examples=200, deadline=None)
@given(
    months=st.integers(0, 30),
    days=st.integers(0, 40),
    start=st.datetimes(
        min_value=datetime(1990, 1, 1),  # noqa: DTZ001 - made aware below
        max_value=datetime(2110, 12, 31),  # noqa: DTZ001 - across 2100, a common year
        timezones=st.just(UTC),
    ),
    slack=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3)),
)
def test_a_keep_in_touch_task_never_opens_before_the_contact_it_counts_from(
    months: int, days: int, start: datetime, slack: timedelta
) -> None:
    every = relativedelta(months=months, days=days)
    if not (months or days):
        every = relativedelta(days=1)
    try:
        cadence = Cadence(every=every, ahead=_longest_ahead(every) - slack)
    except InvalidInput:  # an ahead near the shortest every can be refused; it is checked
        return  # above for what it is
    assert cadence.opens(start) > start


def _longest_ahead(every: relativedelta) -> timedelta:
    """The longest ahead Cadence keeps for ``every``, found by asking it."""
    low, high = timedelta(0), timedelta(days=3700)
    while high - low > timedelta(minutes=1):
        middle = low + (high - low) / 2
        try:
            Cadence(every=every, ahead=middle)
        except InvalidInput:
            high = middle
        else:
            low = middle
    return low


class TestCadenceDays:
    @pytest.mark.parametrize(
        ("every", "since", "expected"),
        [
            pytest.param(MONTH, datetime(2026, 1, 31, 9, tzinfo=UTC), 28, id="jan-31"),
            pytest.param(MONTH, datetime(2026, 1, 1, 9, tzinfo=UTC), 31, id="jan-1"),
            pytest.param(MONTH, datetime(2028, 1, 31, 9, tzinfo=UTC), 29, id="leap-year"),
            pytest.param(timedelta(weeks=6), datetime(2026, 1, 31, tzinfo=UTC), 42, id="6-weeks"),
            pytest.param(timedelta(hours=36), datetime(2026, 1, 31, tzinfo=UTC), 1, id="36-hours"),
        ],
    )
    def test_are_those_of_the_period_that_starts_at_the_contact(
        self, every: relativedelta | timedelta, since: datetime, expected: int
    ) -> None:
        assert expected == Cadence(every=every).days_from(since)


def test_saving_a_customer_without_a_change_of_birthday_leaves_the_anniversary_alone() -> None:
    service = _service(MemoryStore(), ANNIVERSARIES)
    _buy(service, "o-1", JAN_5)
    with service.store.unit_of_work(write=False) as uow:
        before = uow.load("maya")
    assert before is not None

    service.save_customer(Customer("maya", name="Maya", tags={"regular"}))

    with service.store.unit_of_work(write=False) as uow:
        after = uow.load("maya")
    assert after is not None
    assert before.schedule == after.schedule


@settings(max_examples=40, deadline=None)
@given(
    days=st.lists(st.integers(0, 364), min_size=1, max_size=5, unique=True),
    order=st.randoms(use_true_random=False),
)
def test_the_anniversary_task_does_not_depend_on_the_order_purchases_are_recorded(
    days: list[int], order: Random
) -> None:
    def anniversaries(recorded: list[int]) -> list[str]:
        service = _service(MemoryStore(), ANNIVERSARIES, datetime(2026, 1, 1, 9, tzinfo=UTC))
        _at(service, datetime(2027, 1, 1, 9, tzinfo=UTC))
        for day in recorded:  # each one recorded a year after the first could have been
            _buy(service, f"o-{day}", datetime(2026, 1, 1, 9, tzinfo=UTC) + timedelta(days=day))
        _at(service, datetime(2028, 1, 1, 9, tzinfo=UTC))
        service.run_due()
        return [task.describe() for task in service.tasks(open_only=False)]

    shuffled = list(days)
    order.shuffle(shuffled)
    assert anniversaries(sorted(days)) == anniversaries(shuffled)
