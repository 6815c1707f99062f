"""Referrals: the referrer and the referee rewarded once, on the first qualifying purchase."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from custbond import (
    FixedClock,
    InvalidInput,
    MemoryStore,
    NotFound,
    Program,
    Purchase,
    Referral,
    RetentionService,
)
from custbond.bonds.referrals import ReferralPolicy
from custbond.rules import event
from custbond.vouchers import VoucherOffer

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
POLICY = ReferralPolicy(
    referrer_points=500,
    referee_points=200,
    referee_gift=VoucherOffer("welcome coffee", sku="latte"),
    when=event.amount >= 20,
)


class Shop:
    def __init__(self, policy: ReferralPolicy = POLICY) -> None:
        self.clock = FixedClock(T0)
        self.service = RetentionService(Program(referrals=policy), MemoryStore(), self.clock)
        self.n = 0

    def refer(self, referrer: str, referee: str) -> None:
        self.n += 1
        self.service.record(
            Referral(
                id=f"ref-{self.n}", customer_id=referee, at=self.clock.now(), referrer_id=referrer
            )
        )

    def buy(self, customer_id: str, amount: str) -> int:
        self.n += 1
        self.clock.advance(timedelta(days=1))
        outcome = self.service.record(
            Purchase(
                id=f"o-{self.n}",
                customer_id=customer_id,
                at=self.clock.now(),
                amount=Decimal(amount),
                currency="USD",
            )
        )
        return outcome.points


class TestReferrals:
    def test_the_first_qualifying_purchase_rewards_both_once(self) -> None:
        shop = Shop()
        shop.buy("ada", "5.00")
        shop.refer("ada", "bea")

        earned = [shop.buy("bea", amount) for amount in ("10.00", "25.00", "30.00")]

        assert [10, 225, 30] == earned  # 200 for being referred, on the 25.00 purchase
        assert 505 == shop.service.balance("ada").available
        assert ["welcome coffee"] == [voucher.name for voucher in shop.service.vouchers("bea")]

    def test_a_customer_cannot_refer_themself(self) -> None:
        with pytest.raises(InvalidInput) as raised:
            Referral(id="r", customer_id="ada", at=T0, referrer_id="ada")

        assert "referrer_id" == raised.value.field

    def test_a_second_referral_of_the_same_person_changes_nothing(self) -> None:
        shop = Shop()
        shop.refer("ada", "bea")

        shop.refer("cy", "bea")
        shop.buy("bea", "30.00")

        assert 500 == shop.service.balance("ada").available
        with pytest.raises(NotFound):  # cy's referral came second: cy gets nothing
            shop.service.balance("cy")

    def test_a_customer_who_has_bought_already_cannot_be_referred(self) -> None:
        shop = Shop()
        shop.buy("bea", "25.00")  # her first qualifying purchase, before any referral
        shop.refer("ada", "bea")

        assert 30 == shop.buy("bea", "30.00")  # no 200 for being referred

        assert shop.service.customer("bea").id == "bea"
        with pytest.raises(NotFound):  # ada was given nothing (and so never created)
            shop.service.balance("ada")
        (referral,) = [r for r in shop.service.log() if isinstance(r.input, Referral)]
        assert "already a customer (1 purchase before)" in str(referral.outcome.trace)

    def test_the_referrer_is_created_if_the_service_has_not_seen_them(self) -> None:
        shop = Shop()
        shop.refer("dan", "bea")

        shop.buy("bea", "30.00")

        assert 500 == shop.service.balance("dan").available

    def test_the_trace_says_who_was_rewarded(self) -> None:
        shop = Shop()
        shop.refer("ada", "bea")
        shop.buy("bea", "10.00")

        decision = shop.service.preview(
            Purchase(id="x", customer_id="bea", at=shop.clock.now(), amount=30, currency="USD")
        )

        assert "referral by 'ada' rewarded: 200 points here, 500 points to 'ada'" in str(
            decision.trace
        )

    def test_a_replay_rewards_the_same(self) -> None:
        shop = Shop()
        shop.refer("ada", "bea")
        shop.buy("bea", "30.00")

        again = RetentionService(Program(referrals=POLICY), MemoryStore(), FixedClock(T0))
        again.replay(shop.service.log())

        for customer in ("ada", "bea"):
            assert shop.service.balance(customer) == again.balance(customer)

    def test_a_policy_that_gives_nothing_is_rejected(self) -> None:
        with pytest.raises(InvalidInput, match="points or a gift"):
            ReferralPolicy()
