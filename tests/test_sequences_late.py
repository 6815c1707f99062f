"""Autoresponder sequences through the service, on every store: events recorded late.

A reader signs up for the bakery's newsletter on Monday 5 January 2026 at 10:00:00 UTC
(a welcome at once, a note on day 3), and buys a pie, which takes her out. Webhooks
arrive late, and not always in the order things happened: who is in the sequence, and
since when, is judged by the events' own dates; the steps count from when the service
learnt of the signup."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custbond import (
    Customer,
    CustomerState,
    CustomEvent,
    FixedClock,
    MemoryStore,
    Program,
    Purchase,
    RetentionService,
    Sequence,
    SequenceStep,
    StructuralPolicy,
)
from custbond._frozen import FrozenMap
from custbond.bonds.held import Held
from custbond.bonds.sequences import Enrollment
from custbond.effects import SetHeld
from custbond.storage import _codec as codec
from custbond.storage import _rows as rows
from custbond.storage.ports import Store
from stores import STORES

SIGNUP = datetime(2026, 1, 5, 10, 0, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)
DAY = timedelta(days=1)
NEWSLETTER = Sequence(
    name="newsletter",
    on="CustomEvent",
    event_name="newsletter",
    steps=[
        SequenceStep(after=timedelta(0), template="welcome"),
        SequenceStep(after=timedelta(days=3), template="welcome", name="day 3"),
    ],
    leave_on=["Purchase"],
    kind="transactional",
)
PROGRAM = Program(currency="EUR", structure=StructuralPolicy(sequences=[NEWSLETTER]))
WELCOME_KEY = "custbond:sequence:newsletter:c1:0"
DAY_3_KEY = "custbond:sequence:newsletter:c1:1"


def signup(at: datetime = SIGNUP) -> CustomEvent:
    return CustomEvent(id=f"news-{at.isoformat()}", customer_id="c1", at=at, name="newsletter")


def purchase(at: datetime, id: str = "o1") -> Purchase:
    return Purchase(id=id, customer_id="c1", at=at, amount=Decimal("5"), currency="EUR")


class Shop:
    """The service, its clock set by hand to when each webhook arrives."""

    def __init__(self, store: Store) -> None:
        self.clock = FixedClock(SIGNUP - 10 * DAY)
        self.service = RetentionService(PROGRAM, store, self.clock)
        self.service.save_customer(Customer("c1"))

    def arrives(self, moment: datetime, item: CustomEvent | Purchase) -> str:
        """``item`` recorded at ``moment``; its trace."""
        self.clock.set(moment)
        return str(self.service.record(item).trace)

    def run_due(self, moment: datetime) -> None:
        self.clock.set(moment)
        self.service.run_due()

    def steps(self) -> dict[str, str]:
        """Each step's message key, and where its message stands."""
        return {
            item.message.key: item.status.value
            for item in self.service.outbox(customer_id="c1")
            if item.message.key.startswith("custbond:sequence:")
        }

    def enrollment(self) -> Enrollment:
        return self.service.enrollments("c1")["newsletter"]


@pytest.fixture(params=STORES)
def make_store(request: pytest.FixtureRequest) -> Callable[[], Store]:
    maker: Callable[[], Store] = request.param
    return maker


class TestASignupRecordedLate:
    def test_a_purchase_made_after_it_ends_the_sequence(
        self, make_store: Callable[[], Store]
    ) -> None:
        # The review's case: the signup of 10:00:00 arrives at 10:00:05, the purchase of
        # 10:00:03 at 10:00:06. She bought after signing up: she leaves.
        shop = Shop(make_store())
        shop.arrives(SIGNUP + 5 * SECOND, signup())
        trace = shop.arrives(SIGNUP + 6 * SECOND, purchase(SIGNUP + 3 * SECOND))
        assert "left the newsletter sequence (Purchase o1)" in trace
        shop.run_due(SIGNUP + 4 * DAY)
        assert {WELCOME_KEY: "suppressed"} == shop.steps()
        enrollment = shop.enrollment()
        assert (SIGNUP, SIGNUP + 3 * SECOND) == (enrollment.entered_at, enrollment.left_at)

    def test_a_purchase_made_before_it_does_not(self, make_store: Callable[[], Store]) -> None:
        shop = Shop(make_store())
        shop.arrives(SIGNUP + 5 * SECOND, signup())
        trace = shop.arrives(SIGNUP + 6 * SECOND, purchase(SIGNUP - SECOND))
        assert "still in the newsletter sequence: Purchase o1 is from before it" in trace
        shop.run_due(SIGNUP + 4 * DAY)
        assert {WELCOME_KEY: "pending", DAY_3_KEY: "pending"} == shop.steps()

    def test_it_enters_at_its_own_date_and_its_steps_count_from_its_arrival(
        self, make_store: Callable[[], Store]
    ) -> None:
        # Loaded two days late: the welcome goes out when it arrives, day 3 three days
        # after that (the steps are not squeezed into the moment it arrived).
        shop = Shop(make_store())
        shop.arrives(SIGNUP + 2 * DAY, signup())
        assert {WELCOME_KEY: "pending"} == shop.steps()
        shop.run_due(SIGNUP + 5 * DAY - SECOND)
        assert {WELCOME_KEY: "pending"} == shop.steps()
        shop.run_due(SIGNUP + 5 * DAY)
        assert {WELCOME_KEY: "pending", DAY_3_KEY: "pending"} == shop.steps()
        enrollment = shop.enrollment()
        assert (SIGNUP, SIGNUP + 2 * DAY) == (enrollment.entered_at, enrollment.steps_from)

    def test_of_two_purchases_recorded_out_of_order_the_earlier_is_when_she_left(
        self, make_store: Callable[[], Store]
    ) -> None:
        shop = Shop(make_store())
        shop.arrives(SIGNUP, signup())
        shop.arrives(SIGNUP + 2 * DAY, purchase(SIGNUP + 2 * DAY, id="o2"))
        trace = shop.arrives(SIGNUP + 3 * DAY, purchase(SIGNUP + DAY, id="o1"))
        assert "left the newsletter sequence earlier: Purchase o1, not Purchase o2" in trace
        enrollment = shop.enrollment()
        assert (SIGNUP + DAY, "Purchase o1") == (enrollment.left_at, enrollment.left_because)

    def test_a_replay_of_the_log_gives_what_was_lived(
        self, make_store: Callable[[], Store]
    ) -> None:
        shop = Shop(make_store())
        shop.arrives(SIGNUP + 5 * SECOND, signup())
        shop.arrives(SIGNUP + 6 * SECOND, purchase(SIGNUP + 3 * SECOND))
        shop.arrives(SIGNUP + DAY, purchase(SIGNUP + SECOND, id="o0"))
        shop.run_due(SIGNUP + 4 * DAY)
        replayed = Shop(make_store())
        replayed.service.replay(list(shop.service.log()))
        assert shop.enrollment() == replayed.enrollment()
        assert shop.steps() == replayed.steps()


# -- the outcome, whatever the delays and the order --------------------------------------------

seconds = st.integers(min_value=-3 * 24 * 3600, max_value=15 * 24 * 3600).map(
    lambda count: timedelta(seconds=count)
)
delays = st.integers(min_value=0, max_value=5 * 24 * 3600).map(
    lambda count: timedelta(seconds=count)
)


def lived(arrivals: Iterable[tuple[timedelta, CustomEvent | Purchase]]) -> Shop:
    """A shop that recorded each item after its delay, in the order given (the clock
    never goes back: an item waits for the one before it), then ran the job a month on."""
    shop = Shop(MemoryStore())
    now = SIGNUP - 10 * DAY
    for delay, item in arrivals:
        now = max(now, item.at + delay)
        shop.arrives(now, item)
    shop.run_due(now + 30 * DAY)
    return shop


def outcome(shop: Shop) -> tuple[Any, ...]:
    enrollment = shop.enrollment()
    return enrollment.entered_at, enrollment.is_active, enrollment.left_at


@settings(max_examples=100)
@given(
    entered_late=delays,
    purchases=st.lists(st.tuples(seconds, delays), unique_by=lambda pair: pair[0], max_size=4),
    data=st.data(),
)
def test_who_leaves_when_does_not_depend_on_the_delay_or_order_of_recording(
    entered_late: timedelta, purchases: list[tuple[timedelta, timedelta]], data: st.DataObject
) -> None:
    # Recorded in any order, with any delays, so long as a purchase made after she
    # signed up does not arrive before the signup does (then there was nothing to leave).
    items: list[tuple[timedelta, CustomEvent | Purchase]] = [(entered_late, signup())]
    items += [(late, purchase(SIGNUP + at, id=f"o{n}")) for n, (at, late) in enumerate(purchases)]
    shuffled = data.draw(st.permutations(items), label="order recorded")
    entered = next(n for n, (_, item) in enumerate(shuffled) if isinstance(item, CustomEvent))
    shuffled = [
        (late, item)
        for n, (late, item) in enumerate(shuffled)
        if n > entered or item.at < SIGNUP or isinstance(item, CustomEvent)
    ]
    # On time, in the order things happened: the signup first of two at one moment.
    in_order = sorted(
        (item for _, item in shuffled), key=lambda item: (item.at, isinstance(item, Purchase))
    )
    on_time = lived((timedelta(0), item) for item in in_order)
    late = lived(shuffled)
    assert outcome(on_time) == outcome(late)
    leavings = sorted(
        item.at for _, item in shuffled if isinstance(item, Purchase) and item.at >= SIGNUP
    )
    assert late.enrollment().left_at == (leavings[0] if leavings else None)
    if not late.enrollment().is_active:  # nothing of the sequence is left to go out
        assert "pending" not in late.steps().values()
    replayed = Shop(MemoryStore())
    replayed.service.replay(list(late.service.log()))
    assert (late.enrollment(), late.steps()) == (replayed.enrollment(), replayed.steps())


# -- enrollments stored before steps_from ------------------------------------------------------


def _as_written_before(row: Any) -> Any:
    """``row`` as it was written before enrollments kept ``steps_from`` (their last
    field): every enrollment in it one value shorter."""
    if not isinstance(row, tuple):
        return row
    if row and row[0] == "Enrollment":
        return row[:-2]  # without steps_from and leavings, the fields added since
    return tuple(_as_written_before(item) for item in row)


LEFT = Enrollment(
    sequence="newsletter",
    entered_at=SIGNUP,
    sent=1,
    left_at=SIGNUP + DAY,
    left_because="Purchase o1",
)


class TestEnrollmentsStoredBeforeStepsFrom:
    def test_an_enrollment_row_reads_with_its_steps_counting_from_entering(self) -> None:
        old = _as_written_before(rows.value_row(LEFT))
        assert 6 == len(old)
        back = rows.value_from_row(codec.loads(codec.dumps(old)))
        assert (LEFT, SIGNUP) == (back, back.steps_from)

    def test_a_customer_row_holding_one_reads_back(self) -> None:
        held = Held(sequences=FrozenMap({"newsletter": LEFT}))
        state = CustomerState(Customer("c1"), held=held)
        old = _as_written_before(rows.extras_row(state))
        assert rows.extras_row(state) != old
        fields = rows.extras_from_row(codec.loads(codec.dumps(old)))
        assert held in fields

    def test_a_logged_set_held_reads_back(self) -> None:
        effect = SetHeld("sequences", "newsletter", LEFT)
        old = _as_written_before(rows.effect_row(effect))
        assert effect == rows.effect_from_row(codec.loads(codec.dumps(old)))

    def test_a_row_longer_than_an_enrollment_is_still_refused(self) -> None:
        with pytest.raises(ValueError, match="zip"):
            rows.value_from_row((*rows.value_row(LEFT), "more"))

    def test_a_row_without_when_it_was_entered_is_still_refused(self) -> None:
        with pytest.raises(ValueError, match="zip"):
            rows.value_from_row(("Enrollment", "newsletter"))
