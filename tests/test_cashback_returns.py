"""A return takes back the cashback of the purchase it refers to, as it does its points."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custbond import (
    Customer,
    CustomerState,
    FixedClock,
    MemoryStore,
    Program,
    Purchase,
    RetentionService,
    Return,
)
from custbond.bonds import Voucher, VoucherOffer, VoucherStatus, voucher_code
from custbond.effects import IssueVoucher, MarkVoucher
from custbond.records import PurchaseRecord
from custbond.rules import Cashback, Gift, Rule

T0 = datetime(2026, 5, 5, 9, 0, tzinfo=UTC)
CARD = Rule("card", on="Purchase", then=[Cashback(10)])  # 10% back
FIRST = voucher_code("c-1", "rule card", "o-1", 1)


def _program(*rules: Rule) -> Program:
    return Program(rules=rules or (CARD,))


class Shop:
    """A service with a MemoryStore and a clock that moves a minute per call."""

    def __init__(self, program: Program | None = None) -> None:
        self.clock = FixedClock(T0)
        self.service = RetentionService(program or _program(), MemoryStore(), clock=self.clock)

    def buy(self, amount: str, id: str = "o-1") -> None:
        self.clock.advance(timedelta(minutes=1))
        self.service.record(
            Purchase(
                id=id,
                customer_id="c-1",
                at=self.clock.now(),
                amount=Decimal(amount),
                currency="USD",
            )
        )

    def give_back(self, amount: str, id: str, purchase_id: str = "o-1") -> str:
        """Return ``amount`` of the purchase; the trace."""
        self.clock.advance(timedelta(minutes=1))
        outcome = self.service.record(self._return(amount, id, purchase_id))
        return str(outcome.trace)

    def _return(self, amount: str, id: str, purchase_id: str = "o-1") -> Return:
        return Return(
            id=id,
            customer_id="c-1",
            at=self.clock.now(),
            purchase_id=purchase_id,
            amount=Decimal(amount),
        )

    def vouchers(self) -> dict[str, Voucher]:
        return {voucher.code: voucher for voucher in self.service.vouchers("c-1")}

    def usable_cashback(self) -> Decimal:
        """What the customer's cashback vouchers not yet cancelled are worth (used or not)."""
        return sum(
            (
                voucher.value or Decimal(0)
                for voucher in self.vouchers().values()
                if voucher.name == "cashback" and voucher.status is not VoucherStatus.CANCELLED
            ),
            Decimal(0),
        )


class TestAWholeReturn:
    def test_cancels_the_purchases_unused_cashback_voucher(self) -> None:
        shop = Shop()
        shop.buy("12.40")  # 1.24 back

        trace = shop.give_back("12.40", "x-1")

        voucher = shop.vouchers()[FIRST]
        assert (VoucherStatus.CANCELLED, None) == (voucher.status, voucher.used_at)
        assert Decimal(0) == shop.usable_cashback()
        assert f"cashback voucher {FIRST} (1.24 USD) cancelled: 1.24 USD taken back" in trace

    def test_takes_back_the_points_too(self) -> None:
        shop = Shop()
        shop.buy("12.40")

        shop.give_back("12.40", "x-1")

        assert 0 == shop.service.balance("c-1").total


class TestAPartialReturn:
    def test_replaces_the_voucher_by_one_worth_the_share_not_returned(self) -> None:
        shop = Shop()
        shop.buy("12.40")  # 1.24 back

        trace = shop.give_back("5.00", "x-1")  # 7.40 kept: 1.24 x 7.40 / 12.40 = 0.74

        vouchers = shop.vouchers()
        new = voucher_code("c-1", "rule card", "x-1", 1)
        assert VoucherStatus.CANCELLED == vouchers[FIRST].status
        old = vouchers[FIRST]
        expected = Voucher(
            new, "cashback", None, Decimal("0.74"), "rule card", shop.clock.now(), old.expires_at
        )
        assert expected == vouchers[new]
        assert (
            f"cashback voucher {FIRST} (1.24 USD) replaced by {new} (0.74 USD): "
            "0.50 USD taken back"
        ) in trace

    def test_rounds_what_is_left_down_to_the_cent(self) -> None:
        shop = Shop()
        shop.buy("10.00")  # 1.00 back

        shop.give_back("3.33", "x-1")  # 1.00 x 6.67 / 10.00 = 0.667: 0.66

        assert Decimal("0.66") == shop.usable_cashback()

    def test_keeps_the_expiry_of_the_voucher_it_replaces(self) -> None:
        rule = Rule("card", on="Purchase", then=[Cashback(10, valid_for=timedelta(days=30))])
        shop = Shop(_program(rule))
        shop.buy("12.40")

        shop.give_back("5.00", "x-1")

        vouchers = shop.vouchers()
        new = vouchers[voucher_code("c-1", "rule card", "x-1", 1)]
        assert vouchers[FIRST].expires_at == new.expires_at
        assert new.expires_at is not None

    def test_two_partial_returns_that_add_up_to_the_whole_take_back_everything(self) -> None:
        shop = Shop()
        shop.buy("12.40")

        shop.give_back("6.20", "x-1")
        shop.give_back("6.20", "x-2")

        assert Decimal(0) == shop.usable_cashback()
        assert all(
            voucher.status is VoucherStatus.CANCELLED for voucher in shop.vouchers().values()
        )

    def test_a_second_partial_return_reduces_from_the_first_value_not_the_rounded_one(
        self,
    ) -> None:
        shop = Shop()
        shop.buy("10.00")  # 1.00 back

        shop.give_back("3.33", "x-1")  # 0.667 kept: 0.66
        shop.give_back("3.33", "x-2")  # 0.334 kept: 0.33 (not 0.66 x 3.34 / 6.67 = 0.3304)

        assert Decimal("0.33") == shop.usable_cashback()

    def test_a_return_that_leaves_the_cents_as_they_are_leaves_the_voucher_alone(
        self,
    ) -> None:
        shop = Shop()
        shop.buy("10.00")  # 1.00 back
        shop.give_back("0.01", "x-1")  # 1.00 x 9.99 / 10.00 = 0.999: 0.99
        held = shop.vouchers()

        trace = shop.give_back("0.04", "x-2")  # 1.00 x 9.95 / 10.00 = 0.995: still 0.99

        assert held == shop.vouchers()
        assert Decimal("0.99") == shop.usable_cashback()
        assert "(0.99 USD): nothing more to take back" in trace


class TestAUsedVoucher:
    def test_is_not_reclaimed_and_the_trace_says_so(self) -> None:
        shop = Shop()
        shop.buy("12.40")
        shop.service.use_voucher("c-1", FIRST, key="checkout-1")

        trace = shop.give_back("12.40", "x-1")

        assert VoucherStatus.USED == shop.vouchers()[FIRST].status
        assert f"cashback voucher {FIRST} (1.24 USD) was used: 1.24 USD not reclaimed" in trace
        assert 0 == shop.service.balance("c-1").total  # the points are still taken back

    def test_a_replacement_used_before_the_rest_is_returned_is_not_reclaimed(self) -> None:
        shop = Shop()
        shop.buy("12.40")
        shop.give_back("6.20", "x-1")
        new = voucher_code("c-1", "rule card", "x-1", 1)
        shop.service.use_voucher("c-1", new, key="checkout-1")

        trace = shop.give_back("6.20", "x-2")

        assert VoucherStatus.USED == shop.vouchers()[new].status
        assert f"cashback voucher {new} (0.62 USD) was used: 0.62 USD not reclaimed" in trace

    def test_a_voucher_cancelled_by_hand_is_left_as_it_is(self) -> None:
        shop = Shop()
        shop.buy("12.40")
        shop.service.cancel_voucher("c-1", FIRST, key="cancel-1")

        trace = shop.give_back("5.00", "x-1")

        assert [FIRST] == list(shop.vouchers())
        assert f"cashback voucher {FIRST} was cancelled already: nothing to take back" in trace

    def test_an_expired_voucher_is_not_reclaimed(self) -> None:
        rule = Rule("card", on="Purchase", then=[Cashback(10, valid_for=timedelta(minutes=1))])
        shop = Shop(_program(rule))
        shop.buy("12.40")
        shop.clock.advance(timedelta(minutes=5))

        trace = shop.give_back("12.40", "x-1")

        assert VoucherStatus.ISSUED == shop.vouchers()[FIRST].status
        assert "expired: 1.24 USD not reclaimed" in trace


class TestGiftVouchers:
    def test_are_left_alone_by_a_return(self) -> None:
        gift = Gift(VoucherOffer("free cake", sku="cake"))
        shop = Shop(_program(Rule("card", on="Purchase", then=[gift, Cashback(10)])))
        shop.buy("12.40")
        cake = voucher_code("c-1", "rule card", "o-1", 1)
        back = voucher_code("c-1", "rule card", "o-1", 2)

        shop.give_back("12.40", "x-1")

        vouchers = shop.vouchers()
        assert (VoucherStatus.ISSUED, VoucherStatus.CANCELLED) == (
            vouchers[cake].status,
            vouchers[back].status,
        )

    def test_a_gift_with_a_money_value_named_cashback_is_still_a_gift(self) -> None:
        gift = Gift(VoucherOffer("cashback", value=Decimal("5.00")))
        shop = Shop(_program(Rule("welcome", on="Purchase", then=[gift])))
        shop.buy("12.40")

        shop.give_back("12.40", "x-1")

        [voucher] = shop.vouchers().values()
        assert (VoucherStatus.ISSUED, Decimal("5.00")) == (voucher.status, voucher.value)


class TestRecordsAndReplay:
    def test_the_purchase_record_keeps_the_code_held_now_and_the_value_first_given(
        self,
    ) -> None:
        shop = Shop()
        shop.buy("12.40")
        with shop.service.store.unit_of_work() as uow:
            first = uow.purchase("o-1")
        shop.give_back("5.00", "x-1")
        with shop.service.store.unit_of_work() as uow:
            after = uow.purchase("o-1")

        new = voucher_code("c-1", "rule card", "x-1", 1)
        assert first is not None
        assert after is not None
        assert ((FIRST, Decimal("1.24")),) == first.cashback
        assert ((new, Decimal("1.24")),) == after.cashback

    def test_a_redelivered_return_changes_nothing_and_gives_the_first_outcome(self) -> None:
        shop = Shop()
        shop.buy("12.40")
        shop.clock.advance(timedelta(minutes=1))
        event = shop._return("5.00", "x-1")
        first = shop.service.record(event)
        before = shop.vouchers()

        again = shop.service.record(event)

        assert first == again
        assert before == shop.vouchers()
        assert Decimal("0.74") == shop.usable_cashback()

    def test_replaying_the_log_gives_the_same_vouchers(self) -> None:
        live = Shop()
        live.buy("12.40")
        live.buy("20.00", id="o-2")
        live.give_back("5.00", "x-1")
        live.service.use_voucher("c-1", voucher_code("c-1", "rule card", "o-2", 1), key="k-1")
        live.give_back("20.00", "x-2", purchase_id="o-2")
        live.give_back("7.40", "x-3")
        fresh = Shop()
        fresh.clock.set(live.clock.now())

        fresh.service.replay(live.service.log())

        assert live.vouchers() == fresh.vouchers()
        assert live.service.statement("c-1") == fresh.service.statement("c-1")


class TestTheCore:
    def test_decide_reads_the_vouchers_status_from_the_state(self) -> None:
        program = _program()
        order = Purchase(id="o-1", customer_id="c-1", at=T0, amount=Decimal(10), currency="USD")
        state = CustomerState(Customer("c-1"))
        decision = program.decide(state, order, T0)
        [issue] = [effect for effect in decision.effects if isinstance(effect, IssueVoucher)]
        state, _ = program.apply(state, decision, T0)
        record = PurchaseRecord(order, (), 10, cashback=((issue.voucher.code, Decimal("1.00")),))
        back = Return(id="x-1", customer_id="c-1", at=T0, purchase_id="o-1", amount=Decimal(10))

        returned = program.decide(state, back, T0, ref=record)

        assert issue.cashback
        assert MarkVoucher(FIRST, VoucherStatus.CANCELLED, T0) in returned.effects

    def test_a_purchase_marks_its_cashback_vouchers_and_not_its_gifts(self) -> None:
        cake = Gift(VoucherOffer("cashback", sku="cake"))  # a gift, whatever its name
        program = _program(
            Rule("a", on="Purchase", then=[cake, Cashback(1), Cashback(5), Gift(cake.offer)]),
            Rule("b", on="Purchase", then=[cake]),
        )
        order = Purchase(id="o-1", customer_id="c-1", at=T0, amount=Decimal(10), currency="USD")

        decision = program.decide(CustomerState(Customer("c-1")), order, T0)

        issued = [effect for effect in decision.effects if isinstance(effect, IssueVoucher)]
        assert [
            ("a", None, False),
            ("a", None, False),
            ("a", Decimal("0.10"), True),
            ("a", Decimal("0.50"), True),
            ("b", None, False),
        ] == [
            (effect.voucher.source[5:], effect.voucher.value, effect.cashback) for effect in issued
        ]


# -- property: returns in parts never take back more than a whole return would ------------


@st.composite
def _splits(draw: st.DrawFn) -> tuple[int, list[int]]:
    """A purchase amount in cents and the cents of the returns in parts (not above it)."""
    amount = draw(st.integers(min_value=1, max_value=100_000))
    parts: list[int] = []
    left = amount
    for _ in range(draw(st.integers(min_value=1, max_value=5))):
        if not left:
            break
        part = draw(st.integers(min_value=1, max_value=left))
        parts.append(part)
        left -= part
    return amount, parts


class TestReturnsInParts:
    @settings(max_examples=60, deadline=None)
    @given(
        split=_splits(),
        percent=st.sampled_from([Decimal(1), Decimal("2.5"), Decimal(10), Decimal(100)]),
    )
    def test_leave_the_first_value_times_the_share_not_returned_rounded_down(
        self, split: tuple[int, list[int]], percent: Decimal
    ) -> None:
        amount, parts = split
        shop = Shop(_program(Rule("card", on="Purchase", then=[Cashback(percent)])))
        total = Decimal(amount).scaleb(-2)
        shop.buy(str(total))
        given_back = shop.usable_cashback()
        returned = 0

        for number, part in enumerate(parts, start=1):
            shop.give_back(str(Decimal(part).scaleb(-2)), f"x-{number}")
            returned += part

            left = shop.usable_cashback()
            expected = (int(given_back * 100) * (amount - returned)) // amount
            assert Decimal(0) <= left
            assert Decimal(expected).scaleb(-2) == left
        if returned == amount:
            assert Decimal(0) == shop.usable_cashback()

    @pytest.mark.parametrize(
        "parts",
        [["12.40"], ["6.20", "6.20"], ["0.01", "12.39"], ["4.13", "4.13", "4.14"]],
        ids=["whole", "halves", "a-cent-then-the-rest", "thirds"],
    )
    def test_add_up_to_a_whole_return(self, parts: list[str]) -> None:
        shop = Shop()
        shop.buy("12.40")

        for number, part in enumerate(parts, start=1):
            shop.give_back(part, f"x-{number}")

        assert Decimal(0) == shop.usable_cashback()
