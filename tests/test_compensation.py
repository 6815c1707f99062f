"""The compensation ladder: the first rung that applies, held to the cap and the order."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import given, settings
from hypothesis import strategies as st

from custbond import _validate as v
from custbond.errors import InvalidInput
from custbond.recovery.compensation import (
    Apology,
    Compensation,
    CompensationLadder,
    Gesture,
    GoodwillPoints,
    GoodwillVoucher,
    Refund,
    Rung,
)
from custbond.recovery.severity import Severity

D = Decimal
HALF = D("0.5")
ZERO = D(0)
EIGHTY = D("80.00")
THREE_MONTHS = relativedelta(months=3)


def choose(
    ladder: CompensationLadder,
    *,
    severity: Severity | str = "low",
    spent: Decimal = ZERO,
    earlier_complaints: int = 0,
    order_value: Decimal | None = EIGHTY,
    currency: str = "USD",
) -> tuple[Compensation, tuple[str, ...]]:
    return ladder.choose(
        severity=severity,
        spent=spent,
        earlier_complaints=earlier_complaints,
        order_value=order_value,
        currency=currency,
    )


def gives(*gestures: Gesture, **limits: Any) -> CompensationLadder:
    """A ladder of one rung that applies to every complaint."""
    return CompensationLadder([Rung(gestures)], **limits)


class TestChoosingARung:
    def test_the_first_rung_that_applies_is_chosen_even_when_a_later_one_gives_more(
        self,
    ) -> None:
        ladder = CompensationLadder(
            [Rung([GoodwillPoints(100)]), Rung([GoodwillPoints(900)], severity="high")]
        )

        compensation, why = choose(ladder, severity="critical")

        assert 100 == compensation.points
        assert "rung 1 applies: it applies to every complaint" == why[0]

    def test_rungs_before_the_chosen_one_say_why_they_do_not_apply(self) -> None:
        ladder = CompensationLadder(
            [
                Rung([GoodwillPoints(900)], severity="critical"),
                Rung([GoodwillPoints(500)], spent_at_least=1000),
                Rung([GoodwillPoints(300)], complaints_at_least=2),
                Rung([GoodwillPoints(200)], complaints_at_most=0),
                Rung([GoodwillPoints(100)], severity="medium"),
            ]
        )

        compensation, why = choose(
            ladder, severity="high", spent=D("999.99"), earlier_complaints=1
        )

        assert 100 == compensation.points
        assert (
            "rung 1 does not apply: a high complaint is below critical",
            "rung 2 does not apply: 999.99 USD spent is below 1000",
            "rung 3 does not apply: 1 earlier complaint is fewer than 2",
            "rung 4 does not apply: 1 earlier complaint is more than 0",
            "rung 5 applies: a high complaint (needs medium or worse)",
        ) == why[:5]

    @pytest.mark.parametrize(
        ("severity", "applies"),
        [("low", False), ("medium", False), ("high", True), ("critical", True)],
    )
    def test_a_rung_applies_from_its_severity_up(self, severity: str, applies: bool) -> None:
        ladder = CompensationLadder([Rung([GoodwillPoints(100)], severity=Severity.HIGH)])

        compensation, _ = choose(ladder, severity=severity)

        assert applies == (compensation.points == 100)

    @pytest.mark.parametrize(
        ("spent", "applies"),
        [(D("499.99"), False), (D("500.00"), True), (D("500.01"), True)],
        ids=["below", "at", "above"],
    )
    def test_a_rung_applies_from_its_spend_threshold_up(
        self, spent: Decimal, applies: bool
    ) -> None:
        ladder = CompensationLadder([Rung([GoodwillPoints(100)], spent_at_least=500)])

        compensation, _ = choose(ladder, spent=spent)

        assert applies == (compensation.points == 100)

    @pytest.mark.parametrize(
        ("earlier", "applies"),
        [(0, False), (1, True), (2, True), (3, True), (4, False)],
    )
    def test_earlier_complaints_count_between_both_bounds_included(
        self, earlier: int, applies: bool
    ) -> None:
        rung = Rung([GoodwillPoints(100)], complaints_at_least=1, complaints_at_most=3)
        ladder = CompensationLadder([rung], window=relativedelta(months=6))

        compensation, why = choose(ladder, earlier_complaints=earlier)

        assert applies == (compensation.points == 100)
        if applies:
            assert "in 6 months (needs 1 to 3 earlier complaints)" in why[0]

    def test_when_no_rung_applies_the_customer_gets_an_apology_only(self) -> None:
        ladder = CompensationLadder([Rung([GoodwillPoints(100)], severity="critical")])

        compensation, why = choose(ladder, severity="high")

        assert Compensation("USD") == compensation
        assert "apology only" == compensation.describe()
        assert "no rung applies: an apology only" == why[-1]

    def test_a_ladder_without_rungs_always_apologises(self) -> None:
        compensation, why = choose(CompensationLadder([]), severity="critical")

        assert (Compensation("USD"), ("no rung applies: an apology only",)) == (
            compensation,
            why,
        )

    def test_a_rung_of_words_only_gives_an_apology(self) -> None:
        compensation, _ = choose(gives(Apology()))

        assert "apology only" == compensation.describe()

    def test_a_rung_says_whether_it_applies(self) -> None:
        rung = Rung([Apology()], severity="medium", spent_at_least=10, complaints_at_most=1)

        assert rung.applies("medium", D(10), 1)
        assert not rung.applies("low", D(10), 1)
        assert not rung.applies("medium", D("9.99"), 1)
        assert not rung.applies("medium", D(10), 2)


class TestRefunds:
    @pytest.mark.parametrize(
        ("currency", "order", "share", "refund"),
        [
            ("USD", "0.05", "0.5", "0.02"),
            ("USD", "10.00", "0.3333", "3.33"),
            ("USD", "99.99", "1", "99.99"),
            ("JPY", "999", "0.5", "499"),
            ("JPY", "1", "0.99", "0"),
            ("KWD", "1.001", "0.5", "0.500"),
            ("KWD", "12.345", "0.333", "4.110"),
        ],
    )
    def test_a_refund_is_rounded_down_to_the_currency_minor_unit(
        self, currency: str, order: str, share: str, refund: str
    ) -> None:
        compensation, _ = choose(gives(Refund(D(share))), order_value=D(order), currency=currency)

        assert D(refund) == compensation.refund
        assert compensation.refund.as_tuple().exponent == -v.minor_units(currency)

    def test_a_refund_stops_at_its_own_cap(self) -> None:
        compensation, why = choose(gives(Refund(HALF, cap=D("30.00"))), order_value=D("80.00"))

        assert D("30.00") == compensation.refund
        assert "50% of 80.00 USD is 40.00 USD, capped at 30.00 USD" in why[2]

    def test_a_refund_cap_finer_than_the_currency_is_rounded_down(self) -> None:
        ladder = gives(Refund(HALF, cap=D("40.5")))

        compensation, _ = choose(ladder, order_value=D(1000), currency="JPY")

        assert D(40) == compensation.refund

    def test_without_an_order_value_a_refund_gives_nothing_and_says_so(self) -> None:
        compensation, why = choose(gives(Refund(HALF), GoodwillPoints(50)), order_value=None)

        assert (D(0), 50) == (compensation.refund, compensation.points)
        assert "a refund of 50% of the order: gives nothing (no order value was given)" in why

    def test_several_refunds_add_up(self) -> None:
        ladder = gives(Refund(D("0.25")), Refund(D("0.1")), exceed_order=True)

        compensation, _ = choose(ladder, order_value=D("80.00"))

        assert D("28.00") == compensation.refund


class TestTheLimit:
    @pytest.mark.parametrize(
        ("cap", "exceed_order", "order", "limit"),
        [
            (D(50), False, D("80.00"), D(50)),
            (D(50), False, D("30.00"), D("30.00")),
            (D(50), False, None, D(50)),
            (D(50), True, D("30.00"), D(50)),
            (None, False, D("30.00"), D("30.00")),
            (None, False, None, None),
            (None, True, D("30.00"), None),
        ],
    )
    def test_the_limit_is_the_lower_of_the_cap_and_the_order(
        self,
        cap: Decimal | None,
        exceed_order: bool,
        order: Decimal | None,
        limit: Decimal | None,
    ) -> None:
        ladder = CompensationLadder([], cap=cap, exceed_order=exceed_order)

        assert limit == ladder.limit(order)

    def test_the_module_example_gives_a_refund_and_points_within_the_cap(self) -> None:
        ladder = CompensationLadder(
            [
                Rung(
                    [Refund(HALF, cap=40), GoodwillPoints(500)],
                    severity="critical",
                    spent_at_least=1000,
                )
            ],
            cap=50,
        )

        compensation, _ = choose(
            ladder, severity="critical", spent=D(1200), order_value=D("80.00")
        )

        assert (D("40.00"), 500) == (compensation.refund, compensation.points)
        assert D("45.00") == compensation.worth(ladder.point_value)

    def test_the_first_gesture_past_the_limit_is_cut_and_the_rest_give_nothing(self) -> None:
        ladder = gives(
            Refund(HALF),
            GoodwillVoucher(D("15.00"), valid_for=THREE_MONTHS),
            GoodwillPoints(100),
            Apology(),
            cap=D("50.00"),
        )

        compensation, why = choose(ladder, order_value=D("80.00"))

        assert (D("40.00"), D("10.00"), 0, True) == (
            compensation.refund,
            compensation.voucher,
            compensation.points,
            compensation.apology,
        )
        assert THREE_MONTHS == compensation.voucher_valid_for
        assert (
            "worth at most 50.00 USD: the lower of the cap (50.00 USD) and the order's value "
            "(80.00 USD)",
            "a refund of 50% of the order: 40.00 USD (50% of 80.00 USD is 40.00 USD)",
            "a 15.00 voucher valid 3 months: cut to 10.00 USD (only 10.00 USD was left under "
            "the limit of 50.00 USD)",
            "100 goodwill points: dropped (the limit of 50.00 USD was reached)",
            "in all: apology, a 10.00 USD voucher valid 3 months, a refund of 40.00 USD; "
            "worth 50.00 USD",
        ) == why[1:]

    def test_points_are_cut_to_whole_points(self) -> None:
        ladder = gives(
            GoodwillVoucher(D("9.95")), GoodwillPoints(1000), point_value=D("0.02"), cap=10
        )

        compensation, why = choose(ladder, order_value=None)

        assert 2 == compensation.points  # 0.05 left buys two points of 0.02
        assert D("9.99") == compensation.worth(D("0.02"))
        assert "1000 goodwill points: cut to 2 (only 0.05 USD was left" in why[-2]

    def test_a_gesture_after_an_exact_fit_is_dropped(self) -> None:
        compensation, why = choose(
            gives(GoodwillVoucher(10), GoodwillPoints(1), cap=10), order_value=None
        )

        assert (D(10), 0) == (compensation.voucher, compensation.points)
        assert (
            "1 goodwill point: dropped (nothing was left under the limit of 10.00 USD)" == why[-2]
        )

    def test_money_too_small_for_the_currency_is_dropped(self) -> None:
        ladder = gives(GoodwillPoints(5), GoodwillVoucher(1), point_value=D("0.999"), cap=5)

        compensation, why = choose(ladder, order_value=None, currency="JPY")

        assert (5, D(0), None) == (
            compensation.points,
            compensation.voucher,
            compensation.voucher_valid_for,
        )
        assert "5 goodwill points: worth 4.995 JPY" == why[-3]
        assert (
            "a 1 voucher: dropped (only 0.005 JPY was left under the limit of 5 JPY)" == (why[-2])
        )

    def test_a_cap_of_zero_leaves_an_apology(self) -> None:
        compensation, _ = choose(gives(Refund(1), GoodwillPoints(10), cap=0))

        assert "apology only" == compensation.describe()

    def test_exceed_order_lets_compensation_pass_the_order_but_not_the_cap(self) -> None:
        ladder = gives(Refund(1), GoodwillVoucher(25), cap=D(40), exceed_order=True)

        compensation, why = choose(ladder, order_value=D("20.00"))

        assert (D("20.00"), D("20.00")) == (compensation.refund, compensation.voucher)
        assert D("40.00") == compensation.worth(ladder.point_value)
        assert "the cap (40.00 USD), which may exceed the order" in why[1]

    def test_without_the_flag_compensation_stops_at_the_order(self) -> None:
        compensation, _ = choose(gives(Refund(1), GoodwillVoucher(25), cap=40), order_value=D(20))

        assert (D(20), D(0)) == (compensation.refund, compensation.voucher)

    def test_with_no_cap_and_exceed_order_nothing_is_cut(self) -> None:
        ladder = gives(Refund(1), GoodwillPoints(10**6), exceed_order=True)

        compensation, why = choose(ladder, order_value=D("20.00"))

        assert (D("20.00"), 10**6) == (compensation.refund, compensation.points)
        assert "no cap, and compensation may exceed the order" == why[1]

    def test_vouchers_are_rounded_down_to_the_currency(self) -> None:
        compensation, why = choose(
            gives(GoodwillVoucher(D("5.55"))), currency="JPY", order_value=None
        )

        assert D(5) == compensation.voucher
        assert "a 5.55 voucher: 5 JPY (rounded down to the JPY minor unit)" == why[-2]

    def test_several_vouchers_and_points_add_up(self) -> None:
        ladder = gives(
            GoodwillVoucher(5, THREE_MONTHS),
            GoodwillPoints(100),
            GoodwillVoucher(D("2.50"), THREE_MONTHS),
            GoodwillPoints(50),
        )

        compensation, _ = choose(ladder, order_value=D(100))

        assert (D("7.50"), 150) == (compensation.voucher, compensation.points)


class TestCheckingAHostsCompensation:
    LADDER = CompensationLadder([], cap=D("50.00"))

    @pytest.mark.parametrize(
        ("refund", "accepted"),
        [(D("39.99"), True), (D("40.00"), True), (D("40.01"), False)],
        ids=["below", "at", "above"],
    )
    def test_a_compensation_is_accepted_up_to_the_limit(
        self, refund: Decimal, accepted: bool
    ) -> None:
        compensation = Compensation(refund=refund)

        if accepted:
            self.LADDER.check(compensation, D("40.00"))
        else:
            with pytest.raises(InvalidInput) as info:
                self.LADDER.check(compensation, D("40.00"))
            assert "compensation" == info.value.field
            assert "compensation worth at most 40.00 USD (the lower of the cap" in str(info.value)
            assert "this one is worth 40.01 USD" in str(info.value)

    def test_points_count_at_the_point_value(self) -> None:
        ladder = CompensationLadder([], cap=D(5), point_value=D("0.01"))

        ladder.check(Compensation(points=500), None)
        with pytest.raises(InvalidInput, match=r"at most 5\.00 USD \(the cap \(5\.00 USD\)"):
            ladder.check(Compensation(points=501), None)

    def test_without_a_limit_any_goodwill_is_accepted(self) -> None:
        CompensationLadder([], exceed_order=True).check(Compensation(voucher=D(10**9)), D(1))

    def test_even_without_a_limit_a_refund_gives_back_no_more_than_the_order(self) -> None:
        ladder = CompensationLadder([], exceed_order=True)
        ladder.check(Compensation(refund=D(1), voucher=D(10**9)), D(1))

        with pytest.raises(InvalidInput, match=r"a refund of at most 1\.00 USD"):
            ladder.check(Compensation(refund=D("1.01")), D(1))

    def test_the_order_value_is_checked_in_the_compensations_currency(self) -> None:
        with pytest.raises(InvalidInput, match="order_value must be an amount with at most 0"):
            self.LADDER.check(Compensation("JPY"), D("1.50"))

    def test_only_a_compensation_is_checked(self) -> None:
        with pytest.raises(InvalidInput, match="compensation must be a Compensation"):
            self.LADDER.check(D(5), D(10))  # type: ignore[arg-type]


class TestCompensation:
    def test_it_is_described_in_words(self) -> None:
        full = Compensation(
            points=200,
            voucher=D(10),
            refund=D("25.00"),
        )

        assert "apology, 200 points, a 10.00 USD voucher, a refund of 25.00 USD" == (
            full.describe()
        )
        assert "apology only" == Compensation().describe()
        assert "nothing" == Compensation(apology=False).describe()
        assert "1 point" == Compensation(apology=False, points=1).describe()
        assert "apology, a 3.000 KWD voucher valid 14 days" == (
            Compensation("KWD", voucher=D(3), voucher_valid_for=timedelta(days=14)).describe()
        )

    def test_only_no_apology_and_no_worth_is_nothing(self) -> None:
        assert Compensation(apology=False).is_nothing
        assert not Compensation().is_nothing
        assert not Compensation(apology=False, points=1).is_nothing

    def test_its_worth_adds_money_and_points_exactly(self) -> None:
        compensation = Compensation(points=3, voucher=D("0.10"), refund=D("1.00"))

        assert D("1.13") == compensation.worth(D("0.01"))
        assert D("1.100000000000000000000000000003") == compensation.worth(D("1E-30"))


class TestDescriptions:
    @pytest.mark.parametrize(
        ("gesture", "text"),
        [
            (Apology(), "apology only"),
            (GoodwillPoints(100), "100 goodwill points"),
            (GoodwillPoints(1), "1 goodwill point"),
            (GoodwillVoucher(D("5.00"), THREE_MONTHS), "a 5.00 voucher valid 3 months"),
            (GoodwillVoucher(5), "a 5 voucher"),
            (Refund(HALF, cap=D("40.00")), "a refund of 50% of the order, at most 40.00"),
            (Refund(D("0.125")), "a refund of 12.5% of the order"),
            (Refund(1), "a refund of 100% of the order"),
        ],
    )
    def test_a_gesture_says_what_it_gives(self, gesture: Gesture, text: str) -> None:
        assert text == gesture.describe()

    @pytest.mark.parametrize(
        ("rung", "text"),
        [
            (Rung([Apology()]), "any complaint: apology only"),
            (
                Rung([GoodwillPoints(5)], severity="critical", complaints_at_least=1),
                "critical complaints, with at least 1 earlier complaint: 5 goodwill points",
            ),
            (
                Rung([Refund(1), GoodwillPoints(5)], severity="medium", spent_at_least=100),
                "medium or worse complaints, from customers who spent at least 100: "
                "a refund of 100% of the order; 5 goodwill points",
            ),
            (
                Rung([Apology()], complaints_at_most=0),
                "any complaint, with no earlier complaints: apology only",
            ),
            (
                Rung([Apology()], complaints_at_least=2, complaints_at_most=2),
                "any complaint, with exactly 2 earlier complaints: apology only",
            ),
        ],
    )
    def test_a_rung_says_when_it_applies_and_what_it_gives(self, rung: Rung, text: str) -> None:
        assert text == rung.describe()

    def test_a_ladder_lists_its_rungs_in_order(self) -> None:
        ladder = CompensationLadder(
            [Rung([GoodwillPoints(5)], severity="high"), Rung([Apology()])],
            exceed_order=True,
            cap=D(100),
            window=timedelta(days=90),
        )

        assert (
            "Compensation: the first rung that applies (earlier complaints counted over "
            "90 days; a goodwill point is worth 0.01; worth at most 100, which may exceed "
            "the order):\n"
            "  1. high or worse complaints: 5 goodwill points\n"
            "  2. any complaint: apology only\n"
            "  otherwise: apology only"
        ) == ladder.describe()


def _ladder() -> CompensationLadder:
    return gives(Apology())


BAD_INPUTS: list[tuple[str, Callable[[], object], str]] = [
    # gestures
    ("points zero", lambda: GoodwillPoints(0), "points"),
    ("points negative", lambda: GoodwillPoints(-5), "points"),
    ("points float", lambda: GoodwillPoints(1.0), "points"),  # type: ignore[arg-type]
    ("points bool", lambda: GoodwillPoints(True), "points"),
    ("voucher zero", lambda: GoodwillVoucher(0), "value"),
    ("voucher negative", lambda: GoodwillVoucher(D(-1)), "value"),
    ("voucher float", lambda: GoodwillVoucher(5.0), "value"),
    ("voucher text", lambda: GoodwillVoucher("five"), "value"),
    ("voucher nan", lambda: GoodwillVoucher(D("NaN")), "value"),
    (
        "voucher validity negative",
        lambda: GoodwillVoucher(5, relativedelta(months=-1)),
        "valid_for",
    ),
    ("voucher validity int", lambda: GoodwillVoucher(5, 30), "valid_for"),  # type: ignore[arg-type]
    ("share zero", lambda: Refund(0), "share"),
    ("share above one", lambda: Refund(D("1.01")), "share"),
    ("share negative", lambda: Refund(D("-0.5")), "share"),
    ("share float", lambda: Refund(0.5), "share"),
    ("refund cap zero", lambda: Refund(HALF, cap=0), "cap"),
    ("refund cap negative", lambda: Refund(HALF, cap=-1), "cap"),
    ("refund cap float", lambda: Refund(HALF, cap=40.0), "cap"),
    # compensation
    ("currency lower case", lambda: Compensation("usd"), "currency"),
    ("apology text", lambda: Compensation(apology="yes"), "apology"),  # type: ignore[arg-type]
    ("compensation points negative", lambda: Compensation(points=-1), "points"),
    ("compensation points float", lambda: Compensation(points=1.5), "points"),  # type: ignore[arg-type]
    ("voucher amount negative", lambda: Compensation(voucher=D(-1)), "voucher"),
    ("voucher amount float", lambda: Compensation(voucher=1.5), "voucher"),
    ("voucher amount too fine", lambda: Compensation(voucher=D("1.001")), "voucher"),
    ("refund amount negative", lambda: Compensation(refund=D("-0.01")), "refund"),
    ("refund amount too fine", lambda: Compensation("JPY", refund=D("0.5")), "refund"),
    ("refund amount float", lambda: Compensation(refund=0.5), "refund"),
    (
        "validity without a voucher",
        lambda: Compensation(voucher_valid_for=THREE_MONTHS),
        "voucher_valid_for",
    ),
    (
        "validity not a duration",
        lambda: Compensation(voucher=D(1), voucher_valid_for=7),  # type: ignore[arg-type]
        "voucher_valid_for",
    ),
    # rungs
    ("give empty", lambda: Rung([]), "give"),
    ("give one gesture, not a list", lambda: Rung(Apology()), "give"),
    ("give text", lambda: Rung("apology"), "give"),
    ("give a set, which has no order", lambda: Rung({Apology()}), "give"),
    ("give not a gesture", lambda: Rung([Apology(), "points"]), "give"),
    (
        "give vouchers of different validity",
        lambda: Rung([GoodwillVoucher(5, THREE_MONTHS), GoodwillVoucher(5)]),
        "give",
    ),
    ("severity unknown", lambda: Rung([Apology()], severity="urgent"), "severity"),
    ("severity int", lambda: Rung([Apology()], severity=2), "severity"),
    ("spent negative", lambda: Rung([Apology()], spent_at_least=-1), "spent_at_least"),
    ("spent float", lambda: Rung([Apology()], spent_at_least=1.5), "spent_at_least"),
    (
        "complaints at least negative",
        lambda: Rung([Apology()], complaints_at_least=-1),
        "complaints_at_least",
    ),
    (
        "complaints at least float",
        lambda: Rung([Apology()], complaints_at_least=1.0),  # type: ignore[arg-type]
        "complaints_at_least",
    ),
    (
        "complaints at most below at least",
        lambda: Rung([Apology()], complaints_at_least=2, complaints_at_most=1),
        "complaints_at_most",
    ),
    (
        "complaints at most text",
        lambda: Rung([Apology()], complaints_at_most="2"),  # type: ignore[arg-type]
        "complaints_at_most",
    ),
    # ladders
    ("rungs not rungs", lambda: CompensationLadder([Apology()]), "rungs"),
    ("rungs one rung", lambda: CompensationLadder(Rung([Apology()])), "rungs"),
    ("rungs a set", lambda: CompensationLadder({Rung([Apology()])}), "rungs"),
    ("cap negative", lambda: CompensationLadder([], cap=-1), "cap"),
    ("cap float", lambda: CompensationLadder([], cap=50.0), "cap"),
    ("point value zero", lambda: CompensationLadder([], point_value=0), "point_value"),
    ("point value float", lambda: CompensationLadder([], point_value=0.01), "point_value"),
    ("exceed order text", lambda: CompensationLadder([], exceed_order="no"), "exceed_order"),  # type: ignore[arg-type]
    ("window none", lambda: CompensationLadder([], window=None), "window"),  # type: ignore[arg-type]
    ("window negative", lambda: CompensationLadder([], window=timedelta(days=-1)), "window"),
    ("window int", lambda: CompensationLadder([], window=365), "window"),  # type: ignore[arg-type]
    # choosing
    ("choose severity unknown", lambda: choose(_ladder(), severity="bad"), "severity"),
    ("choose spent float", lambda: choose(_ladder(), spent=1.5), "spent"),  # type: ignore[arg-type]
    ("choose spent negative", lambda: choose(_ladder(), spent=D(-1)), "spent"),
    (
        "choose complaints negative",
        lambda: choose(_ladder(), earlier_complaints=-1),
        "earlier_complaints",
    ),
    (
        "choose complaints float",
        lambda: choose(_ladder(), earlier_complaints=1.0),  # type: ignore[arg-type]
        "earlier_complaints",
    ),
    ("choose order float", lambda: choose(_ladder(), order_value=80.0), "order_value"),  # type: ignore[arg-type]
    ("choose order negative", lambda: choose(_ladder(), order_value=D(-1)), "order_value"),
    (
        "choose order too fine",
        lambda: choose(_ladder(), order_value=D("80.001")),
        "order_value",
    ),
    ("choose currency", lambda: choose(_ladder(), currency="dollars"), "currency"),
    ("limit order float", lambda: _ladder().limit(1.5), "order_value"),  # type: ignore[arg-type]
    ("worth point value zero", lambda: Compensation().worth(D(0)), "point_value"),
    ("worth point value float", lambda: Compensation().worth(0.01), "point_value"),  # type: ignore[arg-type]
]


class TestBadInput:
    @pytest.mark.parametrize(
        ("make", "field"),
        [(make, field) for _, make, field in BAD_INPUTS],
        ids=[name for name, _, _ in BAD_INPUTS],
    )
    def test_bad_input_is_rejected_with_a_message_naming_the_field(
        self, make: Callable[[], object], field: str
    ) -> None:
        with pytest.raises(InvalidInput) as info:
            make()

        assert field == info.value.field
        assert str(info.value).startswith(f"{field} must be ")

    def test_floats_are_rejected_because_they_cannot_hold_money(self) -> None:
        with pytest.raises(InvalidInput, match="floats are rejected"):
            GoodwillVoucher(0.1)

    def test_ints_and_numeric_strings_are_converted_exactly(self) -> None:
        assert D("0.1") == GoodwillVoucher("0.1").value
        assert (D(1), D(40)) == (Refund(1).share, Refund(HALF, cap=40).cap)


# -- properties ----------------------------------------------------------------------------

CURRENCIES = ("USD", "JPY", "KWD")
prices = st.decimals(min_value=0, max_value=10_000, places=2)
# Small enough that rungs often pass them, so that cuts are common.
caps = st.decimals(min_value=0, max_value=200, places=2)


def _gestures() -> st.SearchStrategy[Gesture]:
    return st.one_of(
        st.builds(Apology),
        st.builds(GoodwillPoints, st.integers(min_value=1, max_value=10**6)),
        st.builds(
            GoodwillVoucher,
            st.decimals(min_value=D("0.01"), max_value=1_000, places=2),
            st.just(THREE_MONTHS),
        ),
        st.builds(
            Refund,
            st.decimals(min_value=D("0.01"), max_value=1, places=2),
            st.none() | st.decimals(min_value=D("0.01"), max_value=1_000, places=2),
        ),
    )


@st.composite
def rungs(draw: st.DrawFn) -> Rung:
    at_least = draw(st.integers(min_value=0, max_value=2))
    return Rung(
        draw(st.lists(_gestures(), min_size=1, max_size=4)),
        severity=draw(st.sampled_from(Severity)),
        spent_at_least=draw(st.just(ZERO) | st.decimals(min_value=0, max_value=1_000, places=2)),
        complaints_at_least=at_least,
        complaints_at_most=draw(st.none() | st.integers(min_value=at_least, max_value=5)),
    )


@st.composite
def ladders(draw: st.DrawFn, *, cap: bool = True) -> CompensationLadder:
    given = draw(st.lists(rungs(), max_size=3))
    if draw(st.booleans()):  # a last rung for every complaint, as most ladders have
        given.append(Rung(draw(st.lists(_gestures(), min_size=1, max_size=4))))
    return CompensationLadder(
        given,
        cap=draw(st.none() | caps) if cap else None,
        point_value=draw(st.decimals(min_value=D("0.001"), max_value=1, places=3)),
        exceed_order=draw(st.booleans()),
    )


@st.composite
def complaints(draw: st.DrawFn) -> dict[str, Any]:
    currency = draw(st.sampled_from(CURRENCIES))
    places = v.minor_units(currency)
    return {
        # Critical first: Hypothesis favours the first, and critical complaints pass
        # every rung's severity, so that rungs are chosen (and cut) often.
        "severity": draw(st.sampled_from(sorted(Severity, reverse=True))),
        "spent": draw(prices),
        "earlier_complaints": draw(st.integers(min_value=0, max_value=3)),
        "order_value": draw(st.none() | st.decimals(min_value=0, max_value=10_000, places=places)),
        "currency": currency,
    }


class TestProperties:
    @settings(max_examples=100)
    @given(ladder=ladders(), complaint=complaints())
    def test_compensation_never_passes_the_cap_or_the_order(
        self, ladder: CompensationLadder, complaint: dict[str, Any]
    ) -> None:
        compensation, why = ladder.choose(**complaint)

        worth = compensation.worth(ladder.point_value)
        order = complaint["order_value"]
        currency = complaint["currency"]
        if ladder.cap is not None:
            assert worth <= ladder.cap
        if order is not None and not ladder.exceed_order:
            assert worth <= order
        assert compensation.points >= 0
        assert compensation.voucher >= 0
        assert compensation.refund >= 0
        assert currency == compensation.currency
        assert compensation.voucher == v.money("voucher", compensation.voucher, currency)
        assert compensation.refund == v.money("refund", compensation.refund, currency)
        assert compensation.apology
        assert why
        ladder.check(compensation, order)

    @settings(max_examples=60)
    @given(
        ladder=ladders(cap=False),
        complaint=complaints(),
        low=caps,
        more=caps,
    )
    def test_raising_the_cap_never_lowers_the_worth_chosen(
        self,
        ladder: CompensationLadder,
        complaint: dict[str, Any],
        low: Decimal,
        more: Decimal,
    ) -> None:
        def worth(cap: Decimal | None) -> Decimal:
            capped = CompensationLadder(
                ladder.rungs,
                cap=cap,
                point_value=ladder.point_value,
                exceed_order=ladder.exceed_order,
            )
            return capped.choose(**complaint)[0].worth(ladder.point_value)

        assert worth(low) <= worth(low + more) <= worth(None)
