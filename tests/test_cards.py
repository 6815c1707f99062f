"""Punch cards: stamps for what counts, a voucher when full, carry-over and lapsing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta

from custbond import (
    Customer,
    CustomerState,
    FixedClock,
    InvalidInput,
    LineItem,
    MemoryStore,
    NotFound,
    PointsPolicy,
    Program,
    Purchase,
    RetentionService,
    Visit,
)
from custbond._frozen import FrozenMap
from custbond.bonds import PunchCard, Voucher, VoucherOffer, VoucherStatus, voucher_code
from custbond.effects import IssueVoucher, SetCard
from custbond.errors import VoucherAlreadyUsed, VoucherCancelled, VoucherExpired

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
FREE_COFFEE = VoucherOffer("free coffee", sku="latte", valid_for=relativedelta(months=3))
COFFEE_CARD = PunchCard("coffee", stamps=10, tag="coffee", reward=FREE_COFFEE)


def _lattes(count: int) -> LineItem:
    return LineItem("latte", count, Decimal("4.00"), tags={"coffee"})


class Shop:
    def __init__(self, *cards: PunchCard) -> None:
        self.clock = FixedClock(T0)
        self.service = RetentionService(Program(cards=cards), MemoryStore(), self.clock)
        self.orders = 0

    def buy(self, *items: LineItem, days: float = 1) -> list[Voucher]:
        """Buy ``items`` ``days`` after the previous order; the vouchers it issued."""
        self.clock.advance(timedelta(days=days))
        self.orders += 1
        amount = sum((item.unit_price * item.quantity for item in items), Decimal(0))
        order = Purchase(
            id=f"o-{self.orders}",
            customer_id="ada",
            at=self.clock.now(),
            amount=amount,
            currency="USD",
            items=items,
        )
        outcome = self.service.record(order)
        return [effect.voucher for effect in outcome.effects if isinstance(effect, IssueVoucher)]

    def state(self) -> CustomerState:
        with self.service.store.unit_of_work() as uow:
            state = uow.load("ada")
        assert state is not None
        return state


class TestTheCoffeeCard:
    def test_the_tenth_coffee_fills_the_card_and_gives_a_voucher_for_the_eleventh(self) -> None:
        shop = Shop(COFFEE_CARD)

        issued = [shop.buy(_lattes(1)) for _ in range(10)]

        assert [[]] * 9 == issued[:9]
        [voucher] = issued[9]
        assert ("free coffee", "latte", None, "card coffee") == (
            voucher.name,
            voucher.sku,
            voucher.value,
            voucher.source,
        )
        assert shop.clock.now() + relativedelta(months=3) == voucher.expires_at
        assert (0, VoucherStatus.ISSUED) == (shop.state().stamps.get("coffee", 0), voucher.status)

    def test_stamps_beyond_a_full_card_carry_over_to_the_next(self) -> None:
        shop = Shop(COFFEE_CARD)
        shop.buy(_lattes(9))

        issued = shop.buy(_lattes(3))

        assert 1 == len(issued)
        assert 2 == shop.state().stamps["coffee"]
        assert shop.clock.now() == shop.state().card_started["coffee"]

    def test_a_big_order_can_fill_the_card_twice(self) -> None:
        shop = Shop(COFFEE_CARD)

        issued = shop.buy(_lattes(23))

        assert 2 == len(issued)
        assert issued[0].code != issued[1].code
        assert 3 == shop.state().stamps["coffee"]

    def test_an_order_that_fills_the_card_many_times_keeps_every_voucher(self) -> None:
        shop = Shop(COFFEE_CARD)
        shop.buy(_lattes(5))

        issued = shop.buy(_lattes(2_000))  # 2,005 stamps: 200 cards

        kept = shop.state().vouchers
        assert (200, 200) == (len(issued), len({voucher.code for voucher in issued}))
        assert {voucher.code: voucher for voucher in issued} == dict(kept)
        assert 5 == shop.state().stamps["coffee"]

    def test_an_order_that_would_fill_the_card_over_a_thousand_times_is_refused(self) -> None:
        shop = Shop(COFFEE_CARD)
        shop.buy(_lattes(5))
        before = shop.state()

        with pytest.raises(InvalidInput, match="at most 10004 stamps on card 'coffee'") as raised:
            shop.buy(_lattes(10_005))  # 10,010 stamps: 1,001 full cards

        assert ("stamps", 10_005) == (raised.value.field, raised.value.value)
        assert before == shop.state()
        assert 1_000 == len(shop.buy(_lattes(10_004)))  # 10,009 stamps: 1,000 cards

    def test_only_what_counts_earns_a_stamp(self) -> None:
        shop = Shop(COFFEE_CARD)

        shop.buy(LineItem("cake", 2, Decimal("3.00"), tags={"food"}), _lattes(1))

        assert 1 == shop.state().stamps["coffee"]

    def test_the_trace_says_how_full_the_card_is(self) -> None:
        shop = Shop(COFFEE_CARD)
        shop.buy(_lattes(2))

        decision = shop.service.preview(
            Purchase(
                id="o-x",
                customer_id="ada",
                at=shop.clock.now(),
                amount=Decimal("4.00"),
                currency="USD",
                items=(_lattes(1),),
            )
        )

        assert "card 'coffee': 3 of 10 stamps" in str(decision.trace)

    def test_vouchers_come_out_the_same_on_a_replay(self) -> None:
        shop = Shop(COFFEE_CARD)
        for _ in range(12):
            shop.buy(_lattes(1))

        again = RetentionService(Program(cards=[COFFEE_CARD]), MemoryStore(), FixedClock(T0))
        again.replay(shop.service.log())

        with again.store.unit_of_work() as uow:
            replayed = uow.load("ada")
        assert replayed is not None
        assert shop.state().vouchers == replayed.vouchers
        [code] = replayed.vouchers
        assert voucher_code("ada", "coffee", "o-10", 1) == code


class TestLapsing:
    CARD = PunchCard(
        "coffee", stamps=10, tag="coffee", reward=FREE_COFFEE, expire_after=relativedelta(months=6)
    )

    def test_stamps_lapse_the_card_expiry_after_its_first_stamp(self) -> None:
        shop = Shop(self.CARD)
        shop.buy(_lattes(4))
        shop.buy(_lattes(1), days=100)

        shop.buy(_lattes(1), days=90)  # 190 days after the first stamp

        assert 1 == shop.state().stamps["coffee"]

    def test_a_card_that_has_not_lapsed_keeps_its_stamps(self) -> None:
        shop = Shop(self.CARD)
        shop.buy(_lattes(4))

        shop.buy(_lattes(1), days=150)

        assert 5 == shop.state().stamps["coffee"]

    def test_the_trace_says_the_stamps_lapsed(self) -> None:
        program = Program(cards=[self.CARD])
        state = CustomerState(
            Customer("ada"),
            stamps=FrozenMap({"coffee": 4}),
            card_started=FrozenMap({"coffee": T0}),
        )
        later = T0 + relativedelta(months=7)
        order = Purchase(
            id="o-9",
            customer_id="ada",
            at=later,
            amount=Decimal("4.00"),
            currency="USD",
            items=(_lattes(1),),
        )

        decision = program.decide(state, order, later)

        assert "card 'coffee': 4 stamps lapsed, the card starts again" in str(decision.trace)
        assert SetCard("coffee", 1, later) in decision.effects


class TestOtherCards:
    def test_buy_nine_haircuts_and_the_tenth_is_free(self) -> None:
        cuts = PunchCard(
            "cuts", stamps=9, sku="haircut", reward=VoucherOffer("free cut", sku="haircut")
        )
        shop = Shop(cuts)

        issued = [shop.buy(LineItem("haircut", 1, Decimal("25.00"))) for _ in range(9)]

        assert [0] * 8 + [1] == [len(vouchers) for vouchers in issued]
        assert issued[8][0].expires_at is None  # this offer does not expire

    def test_a_visit_card_counts_visits(self) -> None:
        visits = PunchCard("visits", stamps=3, on="Visit", reward=VoucherOffer("5 off", value=5))
        shop = Shop(visits)
        for n in range(3):
            shop.service.record(Visit(id=f"v-{n}", customer_id="ada", at=shop.clock.now()))

        [voucher] = shop.state().vouchers.values()
        assert Decimal(5) == voucher.value

    def test_several_cards_fill_independently(self) -> None:
        pastry = PunchCard(
            "pastry", stamps=2, tag="food", reward=VoucherOffer("croissant", sku="croissant")
        )
        shop = Shop(COFFEE_CARD, pastry)

        shop.buy(_lattes(1), LineItem("croissant", 2, Decimal("3.00"), tags={"food"}))

        assert ({"coffee": 1}, 1) == (dict(shop.state().stamps), len(shop.state().vouchers))


class TestValidation:
    @pytest.mark.parametrize(
        ("build", "field"),
        [
            (lambda: PunchCard("c", stamps=0, reward=FREE_COFFEE), "stamps"),
            (lambda: PunchCard("c", stamps=5, reward="coffee"), "reward"),
            (lambda: PunchCard("c", stamps=5, reward=FREE_COFFEE, on="Signup"), "on"),
            (lambda: PunchCard("c", stamps=5, reward=FREE_COFFEE, on="Visit", sku="x"), "on"),
            (lambda: VoucherOffer("nothing"), "offer"),
            (lambda: VoucherOffer("x", value=5.0), "value"),
            (lambda: Program(cards=[COFFEE_CARD, COFFEE_CARD]), "cards"),
        ],
        ids=[
            "no-stamps",
            "reward-not-an-offer",
            "counts-signups",
            "visits-by-sku",
            "offer-of-nothing",
            "float-value",
            "two-cards-one-name",
        ],
    )
    def test_a_card_that_cannot_work_is_rejected(self, build: object, field: str) -> None:
        with pytest.raises(InvalidInput) as raised:
            build()  # type: ignore[operator]

        assert field == raised.value.field


class TestUsingVouchers:
    def _shop_with_a_voucher(self) -> tuple[Shop, Voucher]:
        shop = Shop(COFFEE_CARD)
        [voucher] = shop.buy(_lattes(10))
        return shop, voucher

    def test_a_voucher_is_used_once(self) -> None:
        shop, voucher = self._shop_with_a_voucher()

        shop.service.use_voucher("ada", voucher.code, key="checkout-1")

        [used] = shop.service.vouchers("ada")
        assert (VoucherStatus.USED, shop.clock.now()) == (used.status, used.used_at)
        with pytest.raises(VoucherAlreadyUsed) as raised:
            shop.service.use_voucher("ada", voucher.code, key="checkout-2")
        assert shop.clock.now() == raised.value.used_at

    def test_a_retried_use_under_the_same_key_returns_the_first_outcome(self) -> None:
        shop, voucher = self._shop_with_a_voucher()
        first = shop.service.use_voucher("ada", voucher.code, key="checkout-1")

        assert first == shop.service.use_voucher("ada", voucher.code, key="checkout-1")

    def test_an_expired_voucher_cannot_be_used(self) -> None:
        shop, voucher = self._shop_with_a_voucher()
        shop.clock.advance(relativedelta(months=3))

        with pytest.raises(VoucherExpired) as raised:
            shop.service.use_voucher("ada", voucher.code, key="checkout-1")

        assert voucher.expires_at == raised.value.expired_at
        assert VoucherStatus.ISSUED == shop.service.vouchers("ada")[0].status

    def test_a_cancelled_voucher_cannot_be_used_and_cancelling_again_does_nothing(self) -> None:
        shop, voucher = self._shop_with_a_voucher()
        shop.service.cancel_voucher("ada", voucher.code, key="refund-1")

        again = shop.service.cancel_voucher("ada", voucher.code, key="refund-2")

        assert () == again.effects
        with pytest.raises(VoucherCancelled):
            shop.service.use_voucher("ada", voucher.code, key="checkout-1")

    def test_a_used_voucher_cannot_be_cancelled(self) -> None:
        shop, voucher = self._shop_with_a_voucher()
        shop.service.use_voucher("ada", voucher.code, key="checkout-1")

        with pytest.raises(VoucherAlreadyUsed):
            shop.service.cancel_voucher("ada", voucher.code, key="refund-1")

    def test_an_unknown_voucher_is_not_found(self) -> None:
        shop, _ = self._shop_with_a_voucher()

        with pytest.raises(NotFound, match="no voucher with id 'NOPE'"):
            shop.service.use_voucher("ada", "NOPE", key="checkout-1")

    def test_using_vouchers_replays_to_the_same_state(self) -> None:
        shop, voucher = self._shop_with_a_voucher()
        shop.service.use_voucher("ada", voucher.code, key="checkout-1")

        again = RetentionService(Program(cards=[COFFEE_CARD]), MemoryStore(), FixedClock(T0))
        again.replay(shop.service.log())

        assert shop.service.vouchers("ada") == again.vouchers("ada")


class TestTimePassingKeepsTheRest:
    def test_points_clearing_before_a_command_keep_stamps_vouchers_and_activity(self) -> None:
        # Regression: settling what fell due rebuilt the state from the ledger alone.
        program = Program(
            cards=[COFFEE_CARD], points=PointsPolicy(pending_for=relativedelta(days=14))
        )
        clock = FixedClock(T0)
        service = RetentionService(program, MemoryStore(), clock)
        order = Purchase(
            id="o-1",
            customer_id="ada",
            at=T0,
            amount=Decimal("44.00"),
            currency="USD",
            items=(_lattes(11),),
        )
        service.record(order)
        clock.advance(timedelta(days=15))  # the points clear on the next call

        service.redeem("ada", 10, key="r-1")

        with service.store.unit_of_work() as uow:
            state = uow.load("ada")
        assert state is not None
        assert (1, 1, 1) == (
            state.stamps["coffee"],
            len(state.vouchers),
            state.activity.purchases,
        )
