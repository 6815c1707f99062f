"""Coupons: codes with validity, limits across customers and per customer, in bulk."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from custbond import (
    CouponNotValid,
    FixedClock,
    InvalidInput,
    LineItem,
    MemoryStore,
    Program,
    RetentionService,
)
from custbond.bonds.coupons import Coupon, coupon_codes, coupons
from custbond.rules import Discount

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WELCOME = Coupon("WELCOME", points=50)
SPRING = Coupon(
    "SPRING10",
    discount=Discount(percent=10),
    starts=T0,
    ends=T0 + timedelta(days=30),
    uses=2,
    per_customer=1,
)
CAKE = LineItem("cake", 2, Decimal("5.00"))


def _service(*given: Coupon) -> tuple[RetentionService, FixedClock]:
    clock = FixedClock(T0)
    program = Program(coupons=given or (WELCOME, SPRING))
    return RetentionService(program, MemoryStore(), clock), clock


class TestUsingCoupons:
    def test_a_coupon_gives_its_points_once_per_customer(self) -> None:
        service, _ = _service()

        outcome = service.use_coupon("ada", "WELCOME", key="c-1")

        assert (50, "coupon WELCOME used; 50 points") == (outcome.points, str(outcome.trace))
        with pytest.raises(CouponNotValid, match="can be used once per customer, and was"):
            service.use_coupon("ada", "WELCOME", key="c-2")
        assert 50 == service.balance("ada").available

    def test_a_retry_under_the_same_key_counts_once(self) -> None:
        service, _ = _service()
        first = service.use_coupon("ada", "WELCOME", key="c-1")

        assert first == service.use_coupon("ada", "WELCOME", key="c-1")

    def test_uses_across_customers_are_shared(self) -> None:
        service, _ = _service()
        service.use_coupon("ada", "SPRING10", key="c-ada")
        service.use_coupon("bea", "SPRING10", key="c-bea")

        with pytest.raises(CouponNotValid, match="has been used up"):
            service.use_coupon("cy", "SPRING10", key="c-cy")

    def test_concurrent_checkouts_cannot_both_take_the_last_use(self) -> None:
        service, _ = _service(Coupon("LAST", points=5, uses=1, per_customer=None))
        results: list[str] = []

        def checkout(customer_id: str) -> None:
            try:
                service.use_coupon(customer_id, "LAST", key=f"k-{customer_id}")
                results.append("used")
            except CouponNotValid:
                results.append("refused")

        threads = [threading.Thread(target=checkout, args=(f"c-{n}",)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert ["refused"] * 7 + ["used"] == sorted(results)

    @pytest.mark.parametrize(
        ("moved", "why"),
        [
            (timedelta(seconds=-1), "is valid from"),
            (timedelta(days=30), "expired at"),
        ],
        ids=["too-early", "too-late"],
    )
    def test_a_coupon_works_only_in_its_window(self, moved: timedelta, why: str) -> None:
        service, clock = _service()
        clock._at = T0 + moved

        with pytest.raises(CouponNotValid, match=why):
            service.use_coupon("ada", "SPRING10", key="c-1")

    def test_an_unknown_code_is_not_valid(self) -> None:
        service, _ = _service()

        with pytest.raises(CouponNotValid, match="is not a code of this program"):
            service.use_coupon("ada", "FREEMONEY", key="c-1")

    def test_a_replay_counts_the_same(self) -> None:
        service, _ = _service()
        service.use_coupon("ada", "SPRING10", key="c-ada")

        again, _ = _service()
        again.replay(service.log())

        with service.store.unit_of_work() as uow, again.store.unit_of_work() as other:
            assert uow.counter("coupon SPRING10") == other.counter("coupon SPRING10") == 1
            assert uow.load("ada") == other.load("ada")


class TestCouponsAtCheckout:
    def test_a_valid_coupon_adds_its_discount_to_the_quote(self) -> None:
        service, _ = _service()

        quote = service.quote("ada", [CAKE], coupons=["SPRING10"])

        assert (Decimal("1.00"), "coupon SPRING10") == (quote.discount, quote.discounts[0].rule)

    def test_a_code_given_twice_takes_its_discount_off_once(self) -> None:
        service, _ = _service()

        quote = service.quote("ada", [CAKE], coupons=["SPRING10", "SPRING10"])

        assert (Decimal("1.00"), 1) == (quote.discount, len(quote.discounts))
        assert "coupon SPRING10: not applied again: it counts once" in str(quote.trace)

    def test_the_trace_says_why_a_coupon_adds_nothing(self) -> None:
        service, _ = _service()
        service.use_coupon("ada", "SPRING10", key="c-1")

        quote = service.quote("ada", [CAKE], coupons=["SPRING10", "NOPE"])

        assert Decimal(0) == quote.discount
        assert "coupon SPRING10: not applied: it can be used once per customer, and was" in str(
            quote.trace
        )
        assert "coupon NOPE: not a code of this program" in str(quote.trace)


class TestBulkCodes:
    def test_bulk_codes_are_distinct_and_the_same_for_a_seed(self) -> None:
        codes = coupon_codes("SPRING", 500, seed="spring-2026")

        assert 500 == len(set(codes))
        assert codes == coupon_codes("SPRING", 500, seed="spring-2026")
        assert codes != coupon_codes("SPRING", 500, seed="another")

    def test_a_campaign_of_single_use_codes(self) -> None:
        campaign = coupons(coupon_codes("GIFT", 3, seed="s"), points=10, uses=1)
        service, _ = _service(*campaign)

        for n, coupon in enumerate(campaign):
            service.use_coupon(f"c-{n}", coupon.code, key=f"k-{n}")

        with pytest.raises(CouponNotValid, match="used up"):
            service.use_coupon("late", campaign[0].code, key="k-late")

    @pytest.mark.parametrize(
        ("build", "field"),
        [
            (lambda: Coupon("lower", points=5), "code"),
            (lambda: Coupon("NOTHING"), "coupon"),
            (lambda: Coupon("X", points=5, starts=T0, ends=T0), "ends"),
            (lambda: Coupon("X", points=5, uses=0), "uses"),
            (lambda: Program(coupons=[WELCOME, WELCOME]), "coupons"),
        ],
        ids=["lower-case", "gives-nothing", "empty-window", "no-uses", "one-code-twice"],
    )
    def test_a_coupon_that_cannot_work_is_rejected(self, build: object, field: str) -> None:
        with pytest.raises(InvalidInput) as raised:
            build()  # type: ignore[operator]

        assert field == raised.value.field
