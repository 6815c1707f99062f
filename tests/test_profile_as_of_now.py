"""bond_profile() reads the customer as they stand at the service clock's now: a tier
that has ended is not scored whether or not run_due() has moved the customer down yet
(tier_status() already says there is none), and a punch card whose stamps have lapsed
counts as not started, before and after run_due(), on the program's calendar."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import given, settings
from hypothesis import strategies as st

from custbond import (
    FixedClock,
    LineItem,
    MemoryStore,
    Program,
    Purchase,
    RetentionService,
    TierLadder,
)
from custbond.bonds import Level, PunchCard
from custbond.bonds.reading import bond_profile
from custbond.storage.ports import Store
from custbond.vouchers import VoucherOffer
from stores import STORES

MAR_2 = datetime(2026, 3, 2, 8, tzinfo=UTC)
LADDER = TierLadder(
    levels=[Level("silver", spend=Decimal(50)), Level("gold", spend=Decimal(100))],
    window=relativedelta(months=1),
    keep_for=relativedelta(months=1),
    grace=timedelta(days=5),
)
CARD = PunchCard(
    "coffee",
    stamps=4,
    tag="coffee",
    reward=VoucherOffer("free coffee", sku="latte"),
    expire_after=relativedelta(months=1),
)


def _latte(quantity: int) -> LineItem:
    return LineItem("latte", quantity, Decimal("4.00"), tags={"coffee"})


def _items(amount: Decimal, lattes: int) -> tuple[LineItem, ...]:
    if not lattes:
        return ()
    rest = amount - 4 * lattes
    pie = (LineItem("pie", 1, rest),) if rest else ()
    return (_latte(lattes), *pie)


def _buy(service: RetentionService, at: datetime, amount: str, lattes: int = 0) -> None:
    service.record(
        Purchase(
            id=f"o-{at.isoformat()}",
            customer_id="a",
            at=at,
            amount=Decimal(amount),
            currency="USD",
            items=_items(Decimal(amount), lattes),
        )
    )


def _facts(service: RetentionService) -> dict[str, Any]:
    return {fact.name: fact.value for fact in service.bond_profile("a").financial.facts}


@pytest.fixture(params=STORES)
def make_store(request: pytest.FixtureRequest) -> Callable[[], Store]:
    maker: Callable[[], Store] = request.param
    return maker


class TestATierThatHasEnded:
    def test_is_not_scored_before_run_due_moves_the_customer_down(
        self, make_store: Callable[[], Store]
    ) -> None:
        clock = FixedClock(MAR_2)
        service = RetentionService(Program(tiers=LADDER), make_store(), clock=clock)
        _buy(service, MAR_2, "120.00")
        clock.advance(relativedelta(months=3))
        assert service.tier_status("a").tier is None

        before = service.bond_profile("a").financial
        service.run_due()
        after = service.bond_profile("a").financial

        assert "financial: weak (10): 120 points (no catalog)" == before.describe()
        assert before == after

    def test_a_tier_kept_at_its_review_is_still_scored(
        self, make_store: Callable[[], Store]
    ) -> None:
        clock = FixedClock(MAR_2)
        service = RetentionService(Program(tiers=LADDER), make_store(), clock=clock)
        _buy(service, MAR_2, "120.00")  # gold until 2 May, reviewed on 7 May
        clock.set(datetime(2026, 4, 21, 8, tzinfo=UTC))
        _buy(service, clock.now(), "120.00")  # in the window: the review keeps gold
        clock.set(datetime(2026, 5, 8, 8, tzinfo=UTC))

        assert ("gold", "gold") == (service.tier_status("a").tier, _facts(service)["tier"])


class TestACardWhoseStampsLapsed:
    @pytest.mark.parametrize("run_due_first", [False, True], ids=["before-run", "after-run"])
    def test_counts_as_not_started(
        self, make_store: Callable[[], Store], run_due_first: bool
    ) -> None:
        clock = FixedClock(MAR_2)
        service = RetentionService(Program(cards=[CARD]), make_store(), clock=clock)
        _buy(service, MAR_2, "12.00", lattes=3)
        clock.advance(relativedelta(months=3))
        if run_due_first:
            service.run_due()

        financial = service.bond_profile("a").financial

        assert "punch card not started (4 stamps to go)" in financial.reasons
        assert 10 == financial.score  # the points only

    @pytest.mark.parametrize(
        ("after", "counted"),
        [
            (timedelta(microseconds=-1), True),
            (timedelta(0), False),
            (timedelta(microseconds=1), False),
        ],
        ids=["just-before", "when-it-lapses", "just-after"],
    )
    def test_lapses_on_the_calendar_of_the_programs_time_zone(
        self, after: timedelta, counted: bool
    ) -> None:
        # The first stamp at 23:30 on 28 February in New York (04:30 UTC on 1 March): one
        # month later is 23:30 on 28 March there, three days before 1 April in UTC.
        first = datetime(2026, 3, 1, 4, 30, tzinfo=UTC)
        lapses = datetime(2026, 3, 29, 3, 30, tzinfo=UTC)
        clock = FixedClock(first)
        program = Program(time_zone="America/New_York", cards=[CARD])
        service = RetentionService(program, MemoryStore(), clock=clock)
        _buy(service, first, "8.00", lattes=2)
        clock.set(lapses + after)

        stamps_to_go = _facts(service)["punch card"]

        assert (2 if counted else 4) == stamps_to_go


@settings(max_examples=60)
@given(
    buys=st.lists(
        st.tuples(st.integers(0, 100), st.integers(0, 3)),
        min_size=1,
        max_size=4,
        unique_by=lambda buy: buy[0],  # a purchase a day: the day is its id
    ),
    later=st.integers(0, 160),
)
def test_the_financial_bond_does_not_depend_on_whether_run_due_ran(
    buys: list[tuple[int, int]], later: int
) -> None:
    program = Program(tiers=LADDER, cards=[CARD])
    profiles = []
    for run_first in (False, True):
        clock = FixedClock(MAR_2)
        service = RetentionService(program, MemoryStore(), clock=clock)
        for day, lattes in sorted(buys):
            clock.set(MAR_2 + timedelta(days=day))
            _buy(service, clock.now(), str(30 + 4 * lattes), lattes=lattes)
        clock.advance(timedelta(days=later, hours=3))
        if run_first:
            service.run_due()
        profiles.append(service.bond_profile("a").financial)
        tier = service.tier_status("a").tier
        assert tier == {f.name: f.value for f in profiles[-1].facts}["tier"]
    assert profiles[0] == profiles[1]


def test_the_pure_reading_projects_a_tier_review_that_fell_due() -> None:
    clock = FixedClock(MAR_2)
    service = RetentionService(Program(tiers=LADDER), MemoryStore(), clock=clock)
    _buy(service, MAR_2, "120.00")
    with service.store.unit_of_work(write=False) as uow:
        state = uow.load("a")
    assert state is not None

    later = bond_profile(state, service.program, MAR_2 + relativedelta(months=3))

    assert "gold" == state.tier
    assert later.financial.facts[0].value is None
