"""The rewards catalog, and gifts from rules: points and rules turned into vouchers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import attrs
import pytest

from custbond import (
    Birthday,
    Customer,
    FixedClock,
    InsufficientPoints,
    InvalidInput,
    MemoryStore,
    NotFound,
    OutOfStock,
    Program,
    Purchase,
    RetentionService,
    RewardLimitReached,
    VoucherAlreadyUsed,
)
from custbond.bonds.catalog import Reward
from custbond.commands import CancelRedemption
from custbond.effects import AddToCounter, MarkVoucher
from custbond.rules import Gift, Rule, local
from custbond.vouchers import VoucherOffer, VoucherStatus

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
COFFEE = Reward("coffee", points=100, offer=VoucherOffer("a coffee", sku="latte"))
MUG = Reward("mug", points=500, offer=VoucherOffer("a mug", sku="mug"), stock=2, per_customer=1)


class Shop:
    def __init__(self, program: Program | None = None) -> None:
        self.clock = FixedClock(T0)
        program = Program(catalog=[COFFEE, MUG]) if program is None else program
        self.service = RetentionService(program, MemoryStore(), self.clock)
        self.orders = 0

    def buy(self, customer_id: str, amount: str) -> None:
        self.orders += 1
        self.service.record(
            Purchase(
                id=f"o-{self.orders}",
                customer_id=customer_id,
                at=self.clock.now(),
                amount=Decimal(amount),
                currency="USD",
            )
        )


class TestRedeemingRewards:
    def test_points_buy_a_reward_and_its_voucher(self) -> None:
        shop = Shop()
        shop.buy("ada", "150.00")

        outcome = shop.service.redeem_reward("ada", "coffee", key="r-1")

        assert (50, -100) == (outcome.balance.available, outcome.points)
        [voucher] = shop.service.vouchers("ada")
        assert ("a coffee", "latte", "reward coffee", VoucherStatus.ISSUED) == (
            voucher.name,
            voucher.sku,
            voucher.source,
            voucher.status,
        )
        assert f"100 points for 'coffee': voucher {voucher.code}" == str(outcome.trace)

    def test_too_few_points_buy_nothing_and_change_nothing(self) -> None:
        shop = Shop()
        shop.buy("ada", "99.00")

        with pytest.raises(InsufficientPoints):
            shop.service.redeem_reward("ada", "coffee", key="r-1")

        assert (99, ()) == (shop.service.balance("ada").available, shop.service.vouchers("ada"))

    def test_the_stock_is_shared_by_all_customers(self) -> None:
        shop = Shop()
        for customer in ("ada", "bea", "cy"):
            shop.buy(customer, "600.00")
        shop.service.redeem_reward("ada", "mug", key="r-ada")
        shop.service.redeem_reward("bea", "mug", key="r-bea")

        with pytest.raises(OutOfStock) as raised:
            shop.service.redeem_reward("cy", "mug", key="r-cy")

        assert "reward 'mug' is out of stock (all 2 taken)" == str(raised.value)
        assert 600 == shop.service.balance("cy").available
        with shop.service.store.unit_of_work() as uow:
            assert 2 == uow.counter("reward mug")

    def test_a_customer_takes_a_limited_reward_only_so_often(self) -> None:
        shop = Shop()
        shop.buy("ada", "1200.00")
        shop.service.redeem_reward("ada", "mug", key="r-1")

        with pytest.raises(RewardLimitReached):
            shop.service.redeem_reward("ada", "mug", key="r-2")

    def test_a_retry_under_the_same_key_takes_nothing_twice(self) -> None:
        shop = Shop()
        shop.buy("ada", "600.00")
        first = shop.service.redeem_reward("ada", "mug", key="r-1")

        again = shop.service.redeem_reward("ada", "mug", key="r-1")

        assert first == again
        with shop.service.store.unit_of_work() as uow:
            assert 1 == uow.counter("reward mug")

    def test_the_points_come_back_when_the_redemption_is_cancelled(self) -> None:
        shop = Shop()
        shop.buy("ada", "150.00")
        shop.service.redeem_reward("ada", "coffee", key="r-1")

        shop.service.cancel_redemption("r-1")

        assert 150 == shop.service.balance("ada").available

    def test_cancelling_a_reward_cancels_its_voucher_and_puts_it_back_in_stock(self) -> None:
        shop = Shop()
        shop.buy("ada", "600.00")
        shop.buy("bea", "600.00")
        shop.service.redeem_reward("ada", "mug", key="r-1")
        shop.service.redeem_reward("bea", "mug", key="r-2")

        outcome = shop.service.cancel_redemption("r-1")

        (voucher,) = shop.service.vouchers("ada")
        assert (600, VoucherStatus.CANCELLED) == (outcome.balance.available, voucher.status)
        assert f"voucher {voucher.code} (a mug) cancelled" in str(outcome.trace)
        with shop.service.store.unit_of_work() as uow:
            assert 1 == uow.counter("reward mug")
        shop.service.redeem_reward("ada", "mug", key="r-3")  # her one mug, and the stock's

    def test_a_redemption_kept_before_records_named_their_voucher_finds_it(self) -> None:
        shop = Shop()
        shop.buy("ada", "600.00")
        shop.service.redeem_reward("ada", "mug", key="r-1")
        with shop.service.store.unit_of_work(write=False) as uow:
            state, record = uow.load("ada"), uow.redemption("r-1")
        assert state is not None
        assert record is not None
        old = attrs.evolve(record, voucher=None)  # as a row kept before read back

        decision = shop.service.program.decide(
            state, CancelRedemption(redemption_key="r-1"), T0, old
        )

        (voucher,) = state.vouchers.values()
        assert MarkVoucher(voucher.code, VoucherStatus.CANCELLED, T0) in decision.effects
        assert AddToCounter("reward mug", -1) in decision.effects

    def test_a_reward_already_handed_over_keeps_its_points(self) -> None:
        shop = Shop()
        shop.buy("ada", "600.00")
        shop.service.redeem_reward("ada", "mug", key="r-1")
        (voucher,) = shop.service.vouchers("ada")
        shop.service.use_voucher("ada", voucher.code, key="till-1")

        with pytest.raises(VoucherAlreadyUsed) as raised:
            shop.service.cancel_redemption("r-1")

        assert "the reward was handed over" in "".join(raised.value.__notes__)
        assert 100 == shop.service.balance("ada").available
        with shop.service.store.unit_of_work() as uow:
            assert 1 == uow.counter("reward mug")

    def test_an_unknown_reward_is_not_found(self) -> None:
        shop = Shop()
        shop.buy("ada", "150.00")

        with pytest.raises(NotFound, match="no reward with id 'yacht'"):
            shop.service.redeem_reward("ada", "yacht", key="r-1")

    def test_a_replay_takes_the_same_stock(self) -> None:
        shop = Shop()
        shop.buy("ada", "600.00")
        shop.service.redeem_reward("ada", "mug", key="r-1")

        again = RetentionService(Program(catalog=[COFFEE, MUG]), MemoryStore(), FixedClock(T0))
        again.replay(shop.service.log())

        assert shop.service.vouchers("ada") == again.vouchers("ada")
        with again.store.unit_of_work() as uow:
            assert 1 == uow.counter("reward mug")

    @pytest.mark.parametrize(
        ("build", "field"),
        [
            (lambda: Reward("mug", points=0, offer=MUG.offer), "points"),
            (lambda: Reward("mug", points=5, offer="a mug"), "offer"),
            (lambda: Reward("mug", points=5, offer=MUG.offer, stock=0), "stock"),
            (lambda: Program(catalog=[MUG, MUG]), "catalog"),
        ],
        ids=["no-points", "offer-not-an-offer", "no-stock", "two-rewards-one-name"],
    )
    def test_a_reward_that_cannot_work_is_rejected(self, build: object, field: str) -> None:
        with pytest.raises(InvalidInput) as raised:
            build()  # type: ignore[operator]

        assert field == raised.value.field


class TestGifts:
    def test_a_rule_can_give_a_voucher_as_a_gift(self) -> None:
        dessert = VoucherOffer("birthday dessert", sku="cake", valid_for=timedelta(days=30))
        program = Program(
            rules=[Rule("birthday", on="Purchase", when=local.is_birthday, then=[Gift(dessert)])]
        )
        shop = Shop(program)
        shop.service.save_customer(Customer("ada", birthday=Birthday(month=3, day=2)))

        shop.buy("ada", "5.00")

        [voucher] = shop.service.vouchers("ada")
        assert ("birthday dessert", "rule birthday", T0 + timedelta(days=30)) == (
            voucher.name,
            voucher.source,
            voucher.expires_at,
        )
