"""Refunds across the complaints about one order: together they never give back more
than the order is worth (what was paid, less what was returned), on every store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custbond import (
    ComplaintFiled,
    ComplaintResolved,
    Customer,
    FixedClock,
    InvalidInput,
    MemoryStore,
    Program,
    Purchase,
    RetentionService,
    Return,
)
from custbond.recovery import (
    Compensation,
    CompensationLadder,
    GoodwillPoints,
    RecoveryPolicy,
    Refund,
    Rung,
)
from stores import STORES

D = Decimal
T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)  # a Monday
PAID = D("100.00")


def _ladder(share: str = "0.9", **options: object) -> CompensationLadder:
    return CompensationLadder([Rung([Refund(D(share))])], **options)  # type: ignore[arg-type]


def _service(store, ladder=None, clock=None):
    policy = RecoveryPolicy(compensation=ladder or _ladder(), apology=None)
    service = RetentionService(Program(recovery=policy), store, clock=clock or FixedClock(T0))
    service.save_customer(Customer("c-1"))
    service.record(Purchase(id="o-1", customer_id="c-1", at=T0, amount=PAID, currency="USD"))
    return service


def _file(service, number: int, **fields: object):
    return service.record(
        ComplaintFiled(
            id=f"cmp-{number}",
            customer_id="c-1",
            at=T0,
            category="late delivery",
            severity="high",
            about="o-1",
            **fields,  # type: ignore[arg-type]
        )
    )


def _resolve(service, number: int, compensation: Compensation | None = None):
    return service.record(
        ComplaintResolved(
            id=f"res-{number}",
            customer_id="c-1",
            at=T0,
            complaint_id=f"cmp-{number}",
            compensation=compensation,
        )
    )


def _refunds(service) -> list[Decimal]:
    return [case.given.refund for case in service.cases("c-1") if case.given is not None]


class TestRefundsAboutOneOrder:
    @pytest.mark.parametrize("make_store", STORES)
    def test_a_second_complaint_refunds_only_what_the_first_left(self, make_store):
        service = _service(make_store())
        _file(service, 1)
        _resolve(service, 1)
        filed = _file(service, 2)
        resolved = _resolve(service, 2)

        assert [D("90.00"), D("10.00")] == _refunds(service)  # was 90.00 twice: 180.00
        assert "90.00 USD of it was already refunded for other complaints" in str(filed.trace)
        assert "compensation given: apology, a refund of 10.00 USD" in str(resolved.trace)

    @pytest.mark.parametrize("make_store", STORES)
    def test_an_offer_made_before_another_refund_is_cut_when_it_is_resolved(self, make_store):
        service = _service(make_store())
        _file(service, 1)
        _file(service, 2)
        assert D("90.00") == service.case("c-1", "cmp-2").offer.refund  # nothing refunded yet
        _resolve(service, 1)
        resolved = _resolve(service, 2)

        assert [D("90.00"), D("10.00")] == _refunds(service)
        assert (
            "the offer made stands but for its refund: 90.00 USD cut to 10.00 USD, what is left "
            "of the order's 100.00 USD once 90.00 USD was refunded for other complaints"
        ) in str(resolved.trace)

    @pytest.mark.parametrize("make_store", STORES)
    def test_nothing_is_left_to_refund_once_the_order_was_refunded_in_full(self, make_store):
        service = _service(make_store(), _ladder("1"))
        _file(service, 1)
        _resolve(service, 1)
        _file(service, 2)
        resolved = _resolve(service, 2)

        assert [PAID, D(0)] == _refunds(service)
        assert "compensation given: apology only" in str(resolved.trace)

    @pytest.mark.parametrize("make_store", STORES)
    def test_a_return_and_an_earlier_refund_both_lower_what_is_left(self, make_store):
        service = _service(make_store(), _ladder("1"))
        service.record(
            Return(id="ret-1", customer_id="c-1", at=T0, purchase_id="o-1", amount=D("30.00"))
        )
        _file(service, 1, order_value=None)
        service.record(
            ComplaintResolved(
                id="res-1",
                customer_id="c-1",
                at=T0,
                complaint_id="cmp-1",
                compensation=Compensation(refund=D("50.00")),
            )
        )
        _file(service, 2)
        _resolve(service, 2)

        assert [D("50.00"), D("20.00")] == _refunds(service)  # 100 - 30 returned - 50

    @pytest.mark.parametrize("make_store", STORES)
    def test_a_host_refund_above_what_is_left_is_refused_and_changes_nothing(self, make_store):
        service = _service(make_store())
        _file(service, 1)
        _resolve(service, 1)
        _file(service, 2)
        before = service.case("c-1", "cmp-2")

        with pytest.raises(
            InvalidInput, match=r"once 90\.00 USD was refunded for other complaints"
        ):
            _resolve(service, 2, Compensation(refund=D("10.01")))
        assert before == service.case("c-1", "cmp-2")
        _resolve(service, 2, Compensation(refund=D("10.00")))  # exactly what is left
        assert [D("90.00"), D("10.00")] == _refunds(service)

    @pytest.mark.parametrize("make_store", STORES)
    def test_even_a_ladder_that_may_exceed_the_order_refunds_no_more_than_it(self, make_store):
        # exceed_order lets goodwill be worth more than the order, not money be given back
        # that was never paid.
        service = _service(make_store(), _ladder("0.9", exceed_order=True))
        for number in (1, 2, 3):
            _file(service, number)
            _resolve(service, number)

        assert [D("90.00"), D("10.00"), D(0)] == _refunds(service)

    def test_complaints_about_other_orders_do_not_count(self):
        service = _service(MemoryStore())
        service.record(Purchase(id="o-2", customer_id="c-1", at=T0, amount=PAID, currency="USD"))
        _file(service, 1)
        _resolve(service, 1)
        service.record(
            ComplaintFiled(
                id="cmp-2", customer_id="c-1", at=T0, category="x", severity="high", about="o-2"
            )
        )
        _resolve(service, 2)

        assert [D("90.00"), D("90.00")] == _refunds(service)


class TestTheLadderKnowsWhatWasRefunded:
    def test_choose_cuts_the_refund_to_what_is_left_and_says_why(self):
        ladder = CompensationLadder([Rung([Refund(D("0.5")), GoodwillPoints(100)])])
        given, why = ladder.choose(
            severity="high",
            spent=D(0),
            earlier_complaints=1,
            order_value=D("80.00"),
            currency="USD",
            refunded=D("70.00"),
        )

        assert D("10.00") == given.refund
        assert 100 == given.points  # only the money back is held to what is left
        assert (
            "a refund of 50% of the order: 10.00 USD (50% of 80.00 USD is 40.00 USD, cut to "
            "10.00 USD: 70.00 USD of it was already refunded for other complaints)"
        ) in why

    def test_check_refuses_a_refund_above_what_is_left(self):
        ladder = CompensationLadder([])
        ladder.check(Compensation(refund=D("10.00")), D("80.00"), refunded=D("70.00"))

        with pytest.raises(InvalidInput, match=r"a refund of at most 10\.00 USD"):
            ladder.check(Compensation(refund=D("10.01")), D("80.00"), refunded=D("70.00"))

    @pytest.mark.parametrize("refunded", [D(-1), 1.5, D("0.001"), D("NaN")], ids=repr)
    def test_a_bad_refunded_amount_is_refused(self, refunded):
        with pytest.raises(InvalidInput, match=r"^refunded must be"):
            _ladder().check(Compensation(), D("80.00"), refunded=refunded)


# One step of a story about order o-1: file a complaint, resolve an open one (with the
# ladder's offer or with a refund the host chose), or return part of the order.
_steps = st.lists(
    st.one_of(
        st.tuples(st.just("file"), st.sampled_from(["low", "high", "critical"])),
        st.tuples(
            st.just("resolve"),
            st.none() | st.decimals(min_value=0, max_value=120, places=2),
        ),
        st.tuples(st.just("return"), st.decimals(min_value=D("0.01"), max_value=40, places=2)),
    ),
    max_size=12,
)


class TestTheRefundsOfOneOrderNeverAddUpPastIt:
    @settings(max_examples=60, deadline=None)
    @given(
        share=st.decimals(min_value=D("0.01"), max_value=1, places=2),
        exceed_order=st.booleans(),
        steps=_steps,
    )
    def test_any_sequence_of_complaints(self, share, exceed_order, steps):
        ladder = CompensationLadder(
            [Rung([Refund(share)], severity="high"), Rung([Refund(share / 2)])],
            exceed_order=exceed_order,
        )
        clock = FixedClock(T0)
        service = _service(MemoryStore(), ladder, clock)
        open_cases: list[int] = []
        returned = refunded = D(0)
        for number, (what, detail) in enumerate(steps, start=1):
            clock.set(T0 + timedelta(hours=number))
            if what == "file":
                service.record(
                    ComplaintFiled(
                        id=f"cmp-{number}",
                        customer_id="c-1",
                        at=clock.now(),
                        category="x",
                        severity=detail,
                        about="o-1",
                    )
                )
                open_cases.append(number)
            elif what == "return" and returned + detail <= PAID:
                service.record(
                    Return(
                        id=f"ret-{number}",
                        customer_id="c-1",
                        at=clock.now(),
                        purchase_id="o-1",
                        amount=detail,
                    )
                )
                returned += detail
            elif what == "resolve" and open_cases:
                left = max(PAID - returned - refunded, D(0))
                chosen = None if detail is None else Compensation(refund=detail)
                try:
                    service.record(
                        ComplaintResolved(
                            id=f"res-{number}",
                            customer_id="c-1",
                            at=clock.now(),
                            complaint_id=f"cmp-{open_cases[0]}",
                            compensation=chosen,
                        )
                    )
                except InvalidInput:
                    assert chosen is not None
                    assert chosen.refund > left  # refused only for asking too much
                    continue
                case = service.case("c-1", f"cmp-{open_cases.pop(0)}")
                assert case.given is not None
                assert case.given.refund <= left
                refunded += case.given.refund

        assert sum(_refunds(service), D(0)) <= PAID
