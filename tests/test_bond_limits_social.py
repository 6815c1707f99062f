"""An owner's occasion task opened for a day that turned out to be wrong, on every store.

Maya told the shop her birthday was 14 October; Lena's task to mark it opens three days
ahead, on the 11th. On the 12th Maya's profile is saved again with her real birthday,
1 March: the task for 14 October is closed, saying the birthday changed (not what it
changed to: the result is read by people who need not know it), and the next task is
for 1 March."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custbond import (
    Birthday,
    Customer,
    FixedClock,
    MemoryStore,
    Occasion,
    OccasionPolicy,
    Program,
    RetentionService,
    SocialPolicy,
)
from custbond.storage.ports import Store
from stores import STORES

OCT_1 = datetime(2025, 10, 1, 9, tzinfo=UTC)
BIRTHDAYS = SocialPolicy(
    default_owner="Lena",
    occasions=OccasionPolicy(ahead=timedelta(days=3), first_purchase=False, custom=True),
)


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest) -> Store:
    make_store: Callable[[], Store] = request.param
    return make_store()


class Shop:
    def __init__(self, store: Store) -> None:
        self.clock = FixedClock(OCT_1)
        self.service = RetentionService(Program(social=BIRTHDAYS), store, clock=self.clock)

    def run_daily(self, until: datetime, *, owner_closes: bool = False) -> None:
        """A daily job until ``until``; with ``owner_closes``, the owner closes each task
        once its day has passed."""
        while self.clock.now() + timedelta(days=1) <= until:
            self.clock.advance(timedelta(days=1))
            self.service.run_due()
            if owner_closes:
                for task in self.service.tasks():
                    if task.due_at < self.clock.now():
                        self.service.close_task(task.key, result="card sent")

    def tasks(self) -> list[tuple[str, str, str | None]]:
        """Each task's day, whether it is open, and its result."""
        return [
            (task.due_at.date().isoformat(), "open" if task.is_open else "closed", task.result)
            for task in self.service.tasks(open_only=False)
        ]


class TestACorrectedBirthday:
    def test_closes_the_task_opened_for_the_old_day(self, store: Store) -> None:
        shop = Shop(store)
        shop.service.save_customer(Customer("maya", birthday=Birthday(10, 14)))
        shop.run_daily(datetime(2025, 10, 12, 9, tzinfo=UTC))
        assert [("2025-10-14", "open", None)] == shop.tasks()

        shop.service.save_customer(Customer("maya", birthday=Birthday(3, 1)))
        shop.run_daily(datetime(2026, 2, 27, 9, tzinfo=UTC))

        assert [
            (
                "2025-10-14",
                "closed",
                "closed: the birthday changed (the task was for the old day)",
            ),
            ("2026-03-01", "open", None),
        ] == shop.tasks()

    def test_taken_off_the_profile_closes_it_too(self, store: Store) -> None:
        shop = Shop(store)
        shop.service.save_customer(Customer("maya", birthday=Birthday(10, 14)))
        shop.run_daily(datetime(2025, 10, 12, 9, tzinfo=UTC))

        shop.service.save_customer(Customer("maya"))

        assert [
            ("2025-10-14", "closed", "closed: the birthday was taken off the profile")
        ] == shop.tasks()

    def test_with_only_its_year_corrected_leaves_the_task_open(self, store: Store) -> None:
        shop = Shop(store)
        shop.service.save_customer(Customer("maya", birthday=Birthday(10, 14, year=1990)))
        shop.run_daily(datetime(2025, 10, 12, 9, tzinfo=UTC))

        shop.service.save_customer(Customer("maya", birthday=Birthday(10, 14, year=1991)))
        shop.run_daily(datetime(2025, 10, 16, 9, tzinfo=UTC))

        assert [("2025-10-14", "open", None)] == shop.tasks()

    def test_a_task_the_owner_closed_keeps_its_result(self, store: Store) -> None:
        shop = Shop(store)
        shop.service.save_customer(Customer("maya", birthday=Birthday(10, 14)))
        shop.run_daily(datetime(2025, 10, 12, 9, tzinfo=UTC))
        (task,) = shop.service.tasks()
        shop.service.close_task(task.key, result="card sent")

        shop.service.save_customer(Customer("maya", birthday=Birthday(3, 1)))

        assert [("2025-10-14", "closed", "card sent")] == shop.tasks()


class TestAReplacedOccasion:
    def test_closes_the_task_opened_for_its_old_day(self, store: Store) -> None:
        shop = Shop(store)
        shop.service.save_customer(Customer("maya"))
        wedding = Occasion(name="wedding anniversary", month=10, day=14)
        shop.service.add_occasion("maya", wedding, key="w-1")
        shop.run_daily(datetime(2025, 10, 12, 9, tzinfo=UTC))

        moved = Occasion(name="wedding anniversary", month=10, day=20)
        shop.service.add_occasion("maya", moved, key="w-2")
        shop.run_daily(datetime(2025, 10, 18, 9, tzinfo=UTC))

        assert [
            (
                "2025-10-14",
                "closed",
                "closed: wedding anniversary moved to another day (the task was for the old day)",
            ),
            ("2025-10-20", "open", None),
        ] == shop.tasks()


days = st.tuples(st.integers(1, 12), st.integers(1, 28))


@settings(max_examples=40, deadline=None)
@given(told=days, corrected=days, saved_after=st.integers(0, 400))
def test_after_a_correction_no_task_is_left_open_for_a_day_that_is_not_the_birthday(
    told: tuple[int, int], corrected: tuple[int, int], saved_after: int
) -> None:
    shop = Shop(MemoryStore())
    shop.service.save_customer(Customer("maya", birthday=Birthday(*told)))
    # The owner closes each task after its day: the one left open, if any, is the last.
    shop.run_daily(OCT_1 + timedelta(days=saved_after), owner_closes=True)

    shop.service.save_customer(Customer("maya", birthday=Birthday(*corrected)))

    open_days = [task.due_at.date() for task in shop.service.tasks() if task.closed_at is None]
    assert all((day.month, day.day) == corrected for day in open_days)
