"""invite() reads each customer as they stand at the service clock's now: a tier that
has ended is gone whether or not run_due() has moved the customer down yet (as
tier_status() says), and an event that has already begun invites nobody more; the
customers it would have invited are reported as ``too_late``, not as ``invited``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import given
from hypothesis import strategies as st

from custbond import (
    Customer,
    FixedClock,
    MembersEvent,
    MemoryStore,
    Program,
    Purchase,
    RetentionService,
    SocialPolicy,
    TierLadder,
)
from custbond.bonds import Level
from custbond.storage.ports import Store
from stores import STORES

MAR_2 = datetime(2026, 3, 2, 8, tzinfo=UTC)
LADDER = TierLadder(
    levels=[Level("gold", spend=Decimal(100))],
    window=relativedelta(months=1),
    keep_for=relativedelta(months=1),
    grace=timedelta(days=5),
)
PROGRAM = Program(tiers=LADDER, social=SocialPolicy())


def _service(store: Store | None = None) -> tuple[RetentionService, FixedClock]:
    clock = FixedClock(MAR_2)
    service = RetentionService(PROGRAM, store or MemoryStore(), clock=clock)
    service.save_customer(Customer("ada", email="ada@example.org"))
    service.set_consent("ada", "email", granted=True, source="shop", key="consent-ada")
    service.save_customer(Customer("bo", email="bo@example.org"))
    service.set_consent("bo", "email", granted=True, source="shop", key="consent-bo")
    return service, clock


@pytest.fixture(params=STORES)
def shop(request: pytest.FixtureRequest) -> tuple[RetentionService, FixedClock]:
    make_store: Callable[[], Store] = request.param
    return _service(make_store())


def _gold_spend(service: RetentionService, at: datetime, amount: str = "120.00") -> None:
    service.record(
        Purchase(
            id=f"ada-{at.isoformat()}",
            customer_id="ada",
            at=at,
            amount=Decimal(amount),
            currency="USD",
        )
    )


def _invitations(service: RetentionService) -> list[str]:
    return [
        item.message.customer_id
        for item in service.outbox()
        if item.message.template == "invitation"
    ]


class TestATierThatHasEnded:
    def test_is_gone_for_a_tier_only_event_before_run_due_moves_the_customer_down(
        self, shop: tuple[RetentionService, FixedClock]
    ) -> None:
        service, clock = shop
        _gold_spend(service, MAR_2)
        clock.advance(relativedelta(months=3))
        gala = MembersEvent(
            id="gala", name="Gold gala", at=clock.now() + timedelta(days=10), tiers={"gold"}
        )
        assert service.tier_status("ada").tier is None

        answer = service.invite(gala)

        assert (("ada", "bo"), ()) == (answer.not_for, answer.invited)
        assert [] == _invitations(service)
        assert not [r for r in service.log() if r.key and r.key[0] == "invite"]

    def test_a_tier_still_held_is_invited(self, shop: tuple[RetentionService, FixedClock]) -> None:
        service, clock = shop
        _gold_spend(service, MAR_2)
        clock.advance(timedelta(days=20))
        gala = MembersEvent(
            id="gala", name="Gold gala", at=clock.now() + timedelta(days=10), tiers={"gold"}
        )

        answer = service.invite(gala)

        assert (("ada",), ("bo",)) == (answer.invited, answer.not_for)
        assert ["ada"] == _invitations(service)


@given(
    spends=st.lists(
        st.tuples(st.integers(0, 120), st.sampled_from(["30.00", "80.00", "120.00"])),
        max_size=4,
        unique_by=lambda spend: spend[0],  # a purchase a day: the day is its id
    ),
    later=st.integers(0, 200),
)
def test_whom_a_tier_event_is_for_does_not_depend_on_whether_run_due_ran(
    spends: list[tuple[int, str]], later: int
) -> None:
    answers = []
    for run_first in (False, True):
        service, clock = _service()
        for day, amount in sorted(spends):
            clock.set(MAR_2 + timedelta(days=day))
            _gold_spend(service, clock.now(), amount)
        clock.advance(timedelta(days=later, hours=1))
        if run_first:
            service.run_due()
        gala = MembersEvent(
            id="gala", name="Gold gala", at=clock.now() + timedelta(days=10), tiers={"gold"}
        )
        answer = service.invite(gala)
        tier = service.tier_status("ada").tier
        assert ("ada" in answer.invited) == (tier == "gold")
        answers.append(answer)
    assert answers[0] == answers[1]


class TestAnEventThatHasBegun:
    @pytest.mark.parametrize(
        ("starts", "too_late"),
        [
            (timedelta(microseconds=-1), True),
            (timedelta(0), True),
            (timedelta(microseconds=1), False),
        ],
        ids=["begun", "beginning-now", "about-to-begin"],
    )
    def test_invites_nobody_and_reports_them_as_too_late(
        self, shop: tuple[RetentionService, FixedClock], starts: timedelta, too_late: bool
    ) -> None:
        service, clock = shop
        night = MembersEvent(id="night", name="Old night", at=clock.now() + starts)

        answer = service.invite(night)

        who = ("ada", "bo")
        assert (too_late, not too_late) == (answer.too_late == who, answer.invited == who)
        assert ([] if too_late else list(who)) == _invitations(service)

    def test_those_invited_before_it_began_are_still_already_invited(
        self, shop: tuple[RetentionService, FixedClock]
    ) -> None:
        service, clock = shop
        night = MembersEvent(id="night", name="Night", at=clock.now() + timedelta(days=1))
        service.invite(night, ["ada"])
        clock.advance(timedelta(days=2))

        answer = service.invite(night)

        assert (("ada",), ("bo",), ()) == (answer.already, answer.too_late, answer.invited)
        assert not [r for r in service.log() if r.key == ("invite", '["night", "bo"]')]
