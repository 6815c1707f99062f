"""Program: PointsPerSpend, and the pure decide/apply pair."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import attrs
import pytest
from dateutil.relativedelta import relativedelta

from custbond import (
    Adjust,
    CancelRedemption,
    CaptureHold,
    Customer,
    CustomerState,
    CustomEvent,
    Decision,
    EntryKind,
    HoldAlreadyCaptured,
    HoldAlreadyReleased,
    HoldExpired,
    InsufficientPoints,
    InvalidInput,
    LineItem,
    PlaceHold,
    PointsPerSpend,
    PointsPolicy,
    Program,
    Purchase,
    Redeem,
    ReleaseHold,
    Return,
    Rule,
    SaveCustomer,
    Signup,
    Visit,
    VoucherOffer,
)
from custbond.bonds import Achievement, Coupon, PunchCard, ReferralPolicy, Reward
from custbond.program import (
    AdjustPoints,
    CapturePoints,
    EarnPoints,
    HoldPoints,
    NotePurchase,
    NoteReturn,
    NoteVisit,
    RedeemPoints,
    ReleasePoints,
    RestorePoints,
    ReversePoints,
    UpdateProfile,
)
from custbond.records import HoldRecord, HoldStatus, PurchaseRecord, RedemptionRecord
from custbond.rules import Discount, Gift

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
FLAT_WHITE = LineItem(sku="flat-white", quantity=2, unit_price=Decimal("4.50"))
BAGEL = LineItem(sku="bagel", quantity=1, unit_price=Decimal("2.10"))


def _lines(decision: Decision) -> tuple[str, ...]:
    return tuple(map(str, decision.trace))


def _without_activity(decision: Decision) -> tuple[object, ...]:
    """The decision's effects but the notes of activity every purchase and visit adds."""
    return tuple(e for e in decision.effects if not isinstance(e, NotePurchase | NoteVisit))


def _purchase(amount: str = "10.00", *, id: str = "o-1", **changes: object) -> Purchase:
    fields: dict[str, object] = {
        "id": id,
        "customer_id": "c-1",
        "at": T0,
        "amount": Decimal(amount),
        "currency": "USD",
    }
    fields.update(changes)
    return Purchase(**fields)  # type: ignore[arg-type]


def _return(amount: str | None = None, *, id: str = "ret-1", **changes: object) -> Return:
    fields: dict[str, object] = {
        "id": id,
        "customer_id": "c-1",
        "at": T0 + timedelta(days=1),
        "purchase_id": "o-1",
        "amount": None if amount is None else Decimal(amount),
    }
    fields.update(changes)
    return Return(**fields)  # type: ignore[arg-type]


def _state() -> CustomerState:
    return CustomerState(Customer("c-1"))


def _bought(
    program: Program, purchase: Purchase, state: CustomerState | None = None
) -> tuple[CustomerState, PurchaseRecord]:
    """The state after ``purchase``, and the record a return refers to."""
    state = _state() if state is None else state
    state, entries = program.apply(state, program.decide(state, purchase, T0), T0)
    lots = tuple(entry.lot for entry in entries if entry.lot is not None)
    return state, PurchaseRecord(purchase, lots, sum(lot.points for lot in lots))


def _with_points(points: int, program: Program | None = None) -> CustomerState:
    program = Program() if program is None else program
    state, _ = _bought(program, _purchase(f"{points}.00"))
    return state


# -- earning --------------------------------------------------------------------------------


class TestPointsPerSpend:
    @pytest.mark.parametrize(
        ("points", "per", "amount", "expected"),
        [
            (1, "1", "4.99", 4),
            (1, "1", "5.00", 5),
            (2, "1", "4.50", 9),
            (10, "5", "7.00", 14),
            (10, "5", "4.99", 9),
            (3, "2", "0.66", 0),
            (3, "2", "0.67", 1),
            (1, "3", "8.99", 2),
            (1, "3", "9.00", 3),
            (1, "0.50", "1.25", 2),
            (100, "1", "0.01", 1),
            (1, "1", "0", 0),
            (1, "1", "999999999999999.99", 999999999999999),
        ],
        ids=[
            "one-per-unit-rounds-down",
            "one-per-unit-exact",
            "two-per-unit",
            "ten-per-five",
            "ten-per-five-rounds-down",
            "below-one-point",
            "just-one-point",
            "per-three-rounds-down",
            "per-three-exact",
            "per-half-unit",
            "a-cent-at-a-hundred-per-unit",
            "zero",
            "largest-amount",
        ],
    )
    def test_points_are_proportional_to_spend_and_rounded_down(
        self, points: int, per: str, amount: str, expected: int
    ) -> None:
        assert expected == PointsPerSpend(points=points, per=Decimal(per)).points_for(
            Decimal(amount)
        )

    @pytest.mark.parametrize(
        ("amount", "expected"),
        [("9.99", 0), ("10.00", 1), ("10.01", 1)],
        ids=["less", "equal", "greater"],
    )
    def test_a_point_is_earned_once_a_whole_per_is_spent(self, amount: str, expected: int) -> None:
        assert expected == PointsPerSpend(points=1, per=Decimal(10)).points_for(Decimal(amount))

    @pytest.mark.parametrize(
        "amount",
        [Decimal("NaN"), Decimal("-1"), 1.5, "ten"],
        ids=["nan", "negative", "float", "text"],
    )
    def test_points_for_what_is_not_an_amount_is_invalid_input(self, amount: object) -> None:
        with pytest.raises(InvalidInput, match=r"^amount must be"):
            PointsPerSpend().points_for(amount)  # type: ignore[arg-type]

    def test_the_default_is_one_point_per_unit_of_money(self) -> None:
        assert PointsPerSpend(points=1, per=Decimal(1)) == PointsPerSpend()

    def test_per_converts_exactly_from_int_or_string(self) -> None:
        assert Decimal("2.50") == PointsPerSpend(per="2.50").per  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        ("fields", "field"),
        [
            ({"points": 0}, "points"),
            ({"points": -1}, "points"),
            ({"points": True}, "points"),
            ({"points": 1.5}, "points"),
            ({"per": Decimal(0)}, "per"),
            ({"per": Decimal("-1")}, "per"),
            ({"per": 1.0}, "per"),
            ({"per": Decimal("NaN")}, "per"),
            ({"per": "one"}, "per"),
        ],
        ids=[
            "zero-points",
            "negative-points",
            "bool-points",
            "float-points",
            "zero-per",
            "negative-per",
            "float-per",
            "nan-per",
            "word-per",
        ],
    )
    def test_bad_rates_are_rejected_by_field(self, fields: dict[str, object], field: str) -> None:
        with pytest.raises(InvalidInput) as raised:
            PointsPerSpend(**fields)  # type: ignore[arg-type]

        assert field == raised.value.field


class TestProgram:
    def test_the_defaults_are_usd_in_utc_one_point_per_dollar(self) -> None:
        program = Program()

        assert ("USD", "UTC", PointsPerSpend(), PointsPolicy()) == (
            program.currency,
            program.time_zone,
            program.earn,
            program.points,
        )

    @pytest.mark.parametrize(
        ("fields", "field"),
        [
            ({"currency": "usd"}, "currency"),
            ({"currency": "DOLLARS"}, "currency"),
            ({"time_zone": "Europe/Atlantis"}, "time_zone"),
            ({"time_zone": ""}, "time_zone"),
            ({"points": "1 per dollar"}, "points"),
            ({"earn": PointsPolicy()}, "earn"),
        ],
        ids=[
            "lowercase-currency",
            "long-currency",
            "unknown-zone",
            "empty-zone",
            "points-not-a-policy",
            "earn-not-a-rate",
        ],
    )
    def test_bad_programs_are_rejected_by_field(
        self, fields: dict[str, object], field: str
    ) -> None:
        with pytest.raises(InvalidInput) as raised:
            Program(**fields)  # type: ignore[arg-type]

        assert field == raised.value.field


def _finer_than_a_cent(value: str) -> dict[str, object]:
    """Each place a program gives a fixed amount of money, holding ``value``."""
    offer = VoucherOffer("treat", value=Decimal(value))
    return {
        "a rule's gift": {"rules": [Rule("r", on="Purchase", then=[Gift(offer)])]},
        "a rule's discount": {
            "rules": [Rule("r", on="Purchase", then=[Discount(amount=Decimal(value))])]
        },
        "a card's reward": {"cards": [PunchCard("coffee", stamps=9, reward=offer)]},
        "a catalog reward": {"catalog": [Reward("treat", points=100, offer=offer)]},
        "an achievement's gift": {"achievements": [Achievement("regular", target=5, gift=offer)]},
        "a coupon's discount": {
            "coupons": [Coupon("SPRING", discount=Discount(amount=Decimal(value)))]
        },
        "a referral gift": {"referrals": ReferralPolicy(referee_gift=offer)},
    }


class TestMoneyGiven:
    @pytest.mark.parametrize(
        ("fields", "field"),
        list(
            zip(
                _finer_than_a_cent("1.005").values(),
                [
                    "rules[0].then[0].offer.value",
                    "rules[0].then[0].amount",
                    "cards[0].reward.value",
                    "catalog[0].offer.value",
                    "achievements[0].gift.value",
                    "coupons[0].discount.amount",
                    "referrals.referee_gift.value",
                ],
                strict=True,
            )
        ),
        ids=list(_finer_than_a_cent("1.005")),
    )
    def test_an_amount_the_currency_cannot_pay_is_refused_where_it_is_written(
        self, fields: dict[str, object], field: str
    ) -> None:
        with pytest.raises(InvalidInput) as raised:
            Program(currency="USD", **fields)  # type: ignore[arg-type]

        assert (raised.value.field, raised.value.value) == (field, Decimal("1.005"))
        assert "at most 2 decimal places in USD" in str(raised.value)

    @pytest.mark.parametrize(
        "fields",
        list(_finer_than_a_cent("1.005").values()),
        ids=list(_finer_than_a_cent("1.005")),
    )
    def test_a_currency_with_three_decimal_places_pays_them(
        self, fields: dict[str, object]
    ) -> None:
        assert Program(currency="KWD", **fields).currency == "KWD"  # type: ignore[arg-type]

    def test_trailing_zeros_are_not_finer_than_the_currency(self) -> None:
        (fields,) = [_finer_than_a_cent("500.00")["a card's reward"]]

        assert Program(currency="JPY", **fields).currency == "JPY"  # type: ignore[arg-type]


# -- decide: events -------------------------------------------------------------------------


class TestDecidePurchase:
    def test_a_purchase_earns_a_lot_with_the_policys_dates(self) -> None:
        program = Program(
            earn=PointsPerSpend(points=2, per=Decimal(1)),
            points=PointsPolicy(
                pending_for=relativedelta(days=14), expire_after=relativedelta(months=12)
            ),
        )

        decision = program.decide(_state(), _purchase("4.50"), T0)

        assert (
            EarnPoints(
                points=9,
                source="o-1",
                earned_at=T0,
                available_at=datetime(2026, 5, 15, 9, tzinfo=UTC),
                expires_at=datetime(2027, 5, 1, 9, tzinfo=UTC),
            ),
        ) == _without_activity(decision)

    def test_the_trace_explains_the_rate_the_rounding_and_the_policy(self) -> None:
        program = Program(
            earn=PointsPerSpend(points=2, per=Decimal(1)),
            points=PointsPolicy(
                pending_for=relativedelta(days=14), expire_after=relativedelta(months=12)
            ),
        )

        decision = program.decide(_state(), _purchase("4.50"), T0)

        assert (
            "points per spend: fired: 2 per 1 USD on 4.50 USD",
            "earned 9 points: 9 spend points, rounded down",
            "pending for 14 days (the return window); expire 1 year later",
        ) == _lines(decision)

    def test_without_a_window_or_expiry_the_trace_says_only_what_was_earned(self) -> None:
        decision = Program().decide(_state(), _purchase("4.50"), T0)

        assert (
            "points per spend: fired: 1 per 1 USD on 4.50 USD",
            "earned 4 points: 4.5 spend points, rounded down",
        ) == _lines(decision)

    @pytest.mark.parametrize("amount", ["0.99", "0"], ids=["under-a-point", "zero"])
    def test_a_purchase_worth_less_than_a_point_earns_nothing_and_says_so(
        self, amount: str
    ) -> None:
        decision = Program().decide(_state(), _purchase(amount), T0)

        assert () == _without_activity(decision)
        assert f"earned 0 points: {amount.rstrip('0').rstrip('.') or '0'} spend points" in (
            str(decision.trace)
        )

    def test_a_purchase_in_another_currency_is_rejected(self) -> None:
        with pytest.raises(InvalidInput) as raised:
            Program(currency="EUR").decide(_state(), _purchase("10.00"), T0)

        assert ("currency", "USD") == (raised.value.field, raised.value.value)
        assert "currency must be the program's EUR; got 'USD'" == str(raised.value)

    def test_expiry_is_rounded_in_the_programs_time_zone(self) -> None:
        program = Program(
            time_zone="Europe/Paris",
            points=PointsPolicy(expire_after=relativedelta(months=1), expire_at_end_of="month"),
        )
        late_in_april_utc = datetime(2026, 3, 31, 22, 30, tzinfo=UTC)  # 1 April in Paris

        decision = program.decide(_state(), _purchase(at=late_in_april_utc), late_in_april_utc)

        [effect] = _without_activity(decision)
        assert isinstance(effect, EarnPoints)
        assert datetime(2026, 5, 31, 22, tzinfo=UTC) == effect.expires_at

    def test_points_are_earned_at_the_time_of_the_purchase_not_of_the_decision(self) -> None:
        program = Program(points=PointsPolicy(pending_for=relativedelta(days=14)))

        decision = program.decide(_state(), _purchase(), T0 + timedelta(days=3))

        [effect] = _without_activity(decision)
        assert isinstance(effect, EarnPoints)
        assert (T0, T0 + timedelta(days=14)) == (effect.earned_at, effect.available_at)


class TestDecideOtherEvents:
    @pytest.mark.parametrize(
        ("event", "name"),
        [
            (Visit(id="v-1", customer_id="c-1", at=T0), "Visit"),
            (Signup(id="s-1", customer_id="c-1", at=T0), "Signup"),
            (CustomEvent(id="e-1", customer_id="c-1", at=T0, name="review"), "CustomEvent"),
        ],
        ids=["visit", "signup", "custom"],
    )
    def test_events_without_an_earning_rule_do_nothing_and_say_so(
        self, event: Visit | Signup | CustomEvent, name: str
    ) -> None:
        decision = Program().decide(_state(), event, T0)

        assert () == _without_activity(decision)
        assert (f"nothing to do: no rule applies to {name}",) == _lines(decision)


def _reversed(decision: Decision) -> int:
    """The points ``decision`` reverses."""
    return sum(effect.points for effect in decision.effects if isinstance(effect, ReversePoints))


class TestDecideReturn:
    def test_a_partial_return_reverses_points_in_proportion_rounded_down(self) -> None:
        program = Program()
        state, record = _bought(program, _purchase("10.00"))

        decision = program.decide(state, _return("3.33"), T0, record)

        assert (
            ReversePoints(3, record.lots, "ret-1", T0 + timedelta(days=1)),
            NoteReturn(Decimal("3.33"), None, 0),  # off the spend conditions and tiers read
        ) == decision.effects
        assert (
            "3.33 of 10.00 USD of o-1 returned so far: 3 more of its 10 points to reverse, "
            "rounded down",
            "reversed 3 points",
        ) == _lines(decision)

    def test_returns_in_parts_reverse_exactly_what_a_whole_return_would(self) -> None:
        program = Program()
        state, record = _bought(program, _purchase("10.00"))
        reversed_each_time = []

        for n, amount in enumerate(["3.33", "3.33", "3.34"]):
            event = _return(amount, id=f"ret-{n}")
            decision = program.decide(state, event, T0, record)
            reversed_each_time.append(_reversed(decision))
            record = record.after_return(event)

        assert ([3, 3, 4], 10) == (reversed_each_time, record.reversed)

    @pytest.mark.parametrize(
        ("amount", "reversed_points"),
        [("9.99", 9), ("10.00", 10)],
        ids=["almost-all", "all"],
    )
    def test_only_a_whole_return_reverses_every_point(
        self, amount: str, reversed_points: int
    ) -> None:
        program = Program()
        state, record = _bought(program, _purchase("10.00"))

        decision = program.decide(state, _return(amount), T0, record)

        assert reversed_points == _reversed(decision)

    def test_more_than_was_bought_cannot_be_returned(self) -> None:
        program = Program()
        state, record = _bought(program, _purchase("10.00"))
        record = record.after_return(_return("6.00"))

        with pytest.raises(InvalidInput) as raised:
            program.decide(state, _return("4.01", id="ret-2"), T0, record)

        assert "amount" == raised.value.field
        assert "at most the 4.00 USD of 'o-1' not yet returned" in str(raised.value)

    def test_a_return_that_reverses_no_whole_point_does_nothing_and_says_so(self) -> None:
        program = Program()
        state, record = _bought(program, _purchase("10.00"))

        decision = program.decide(state, _return("0.50"), T0, record)

        assert Decision(
            (NoteReturn(Decimal("0.50"), None, 0),),
            (
                "0.50 of 10.00 USD of o-1 returned so far: 0 more of its 10 points to reverse, "
                "rounded down",
                "nothing to reverse",
            ),
        ) == (decision)

    @pytest.mark.parametrize(
        ("expired", "collected", "reversed_points"),
        [(0, 0, 10), (6, 0, 4), (0, 3, 7), (6, 4, 0), (10, 0, 0)],
        ids=["all", "some-expired", "some-taken-back", "nothing-left", "all-expired"],
    )
    def test_a_return_never_reclaims_points_that_expired_or_were_taken_back(
        self, expired: int, collected: int, reversed_points: int
    ) -> None:
        program = Program()
        state, record = _bought(program, _purchase("10.00"))
        record = attrs.evolve(record, expired=expired, collected=collected)

        decision = program.decide(state, _return("10.00"), T0, record)

        assert reversed_points == _reversed(decision)
        if reversed_points < 10:
            assert (
                f"{10 - reversed_points} of them expired or were taken back before; not reclaimed"
                == str(decision.trace[1])
            )

    def test_returned_items_reverse_the_share_of_their_price(self) -> None:
        program = Program()
        purchase = _purchase("11.10", items=(FLAT_WHITE, BAGEL))
        state, record = _bought(program, purchase)
        one_flat_white = LineItem(sku="flat-white", quantity=1, unit_price=Decimal("4.50"))

        first = program.decide(state, _return(items=(one_flat_white,)), T0, record)
        record = record.after_return(_return(items=(one_flat_white,)))
        second = program.decide(state, _return(items=(one_flat_white,), id="ret-2"), T0, record)

        assert [4, 4] == [_reversed(decision) for decision in (first, second)]

    @pytest.mark.parametrize(
        "items",
        [
            (LineItem(sku="latte", quantity=1, unit_price=Decimal("4.50")),),
            (LineItem(sku="flat-white", quantity=1, unit_price=Decimal("4.00")),),
            (LineItem(sku="flat-white", quantity=3, unit_price=Decimal("4.50")),),
        ],
        ids=["sku-not-bought", "other-price", "more-than-bought"],
    )
    def test_items_that_were_not_bought_cannot_be_returned(
        self, items: tuple[LineItem, ...]
    ) -> None:
        program = Program()
        state, record = _bought(program, _purchase("11.10", items=(FLAT_WHITE, BAGEL)))

        with pytest.raises(InvalidInput) as raised:
            program.decide(state, _return(items=items), T0, record)

        assert "items" == raised.value.field

    def test_items_cannot_be_returned_twice(self) -> None:
        program = Program()
        state, record = _bought(program, _purchase("11.10", items=(FLAT_WHITE, BAGEL)))
        record = record.after_return(_return(items=(FLAT_WHITE,)))
        one_more = LineItem(sku="flat-white", quantity=1, unit_price=Decimal("4.50"))

        with pytest.raises(InvalidInput, match="at most the 0 not yet returned"):
            program.decide(state, _return(items=(one_more,), id="ret-2"), T0, record)

    def test_a_return_by_another_customer_is_rejected(self) -> None:
        program = Program()
        state, record = _bought(program, _purchase("10.00"))

        with pytest.raises(InvalidInput) as raised:
            program.decide(state, _return("1.00", customer_id="c-2"), T0, record)

        assert "customer_id" == raised.value.field

    def test_a_returned_amount_finer_than_the_currency_is_rejected(self) -> None:
        program = Program()
        state, record = _bought(program, _purchase("10.00"))

        with pytest.raises(InvalidInput, match="at most 2 decimal places in USD"):
            program.decide(state, _return("1.005"), T0, record)


# -- decide: commands -----------------------------------------------------------------------


def _hold_record(status: HoldStatus = HoldStatus.OPEN, captured: int = 0) -> HoldRecord:
    return HoldRecord("h-1", "c-1", 30, T0, T0 + timedelta(hours=1), status, captured)


class TestDecideCommands:
    @pytest.mark.parametrize(
        ("points", "accepted"), [(99, True), (100, True), (101, False)], ids=["less", "eq", "more"]
    )
    def test_a_redemption_is_decided_only_within_the_available_points(
        self, points: int, accepted: bool
    ) -> None:
        state = _with_points(100)
        command = Redeem(key="r-1", customer_id="c-1", points=points)

        if accepted:
            decision = Program().decide(state, command, T0)
            assert Decision((RedeemPoints(points, "r-1"),), (f"redeemed {points} points",)) == (
                decision
            )
        else:
            with pytest.raises(InsufficientPoints) as raised:
                Program().decide(state, command, T0)
            assert (101, 100) == (raised.value.requested, raised.value.available)

    def test_a_hold_is_decided_until_its_expiry(self) -> None:
        expires = T0 + timedelta(minutes=15)
        command = PlaceHold(key="h-1", customer_id="c-1", points=30, expires_at=expires)

        decision = Program().decide(_with_points(100), command, T0)

        assert (HoldPoints("h-1", 30, expires),) == decision.effects

    @pytest.mark.parametrize(
        ("expires_at", "accepted"),
        [(T0 - timedelta(seconds=1), False), (T0, False), (T0 + timedelta(seconds=1), True)],
        ids=["before-now", "now", "after-now"],
    )
    def test_a_hold_must_expire_after_now(self, expires_at: datetime, accepted: bool) -> None:
        command = PlaceHold(key="h-1", customer_id="c-1", points=30, expires_at=expires_at)

        if accepted:
            assert 1 == len(Program().decide(_with_points(100), command, T0).effects)
        else:
            with pytest.raises(InvalidInput) as raised:
                Program().decide(_with_points(100), command, T0)
            assert "expires_at" == raised.value.field

    def test_a_hold_above_the_available_points_is_refused(self) -> None:
        command = PlaceHold(
            key="h-1", customer_id="c-1", points=101, expires_at=T0 + timedelta(hours=1)
        )

        with pytest.raises(InsufficientPoints):
            Program().decide(_with_points(100), command, T0)

    @pytest.mark.parametrize(
        ("points", "expected"), [(None, 30), (10, 10), (30, 30)], ids=["all", "part", "exactly"]
    )
    def test_a_capture_spends_what_it_names_or_the_whole_hold(
        self, points: int | None, expected: int
    ) -> None:
        command = CaptureHold(hold_key="h-1", points=points)

        decision = Program().decide(_with_points(100), command, T0, _hold_record())

        assert Decision(
            (CapturePoints("h-1", expected),), (f"captured {expected} of 30 held points",)
        ) == (decision)

    def test_a_capture_above_the_hold_is_rejected(self) -> None:
        with pytest.raises(InvalidInput) as raised:
            Program().decide(
                _with_points(100), CaptureHold(hold_key="h-1", points=31), T0, _hold_record()
            )

        assert "points" == raised.value.field

    def test_a_release_gives_the_hold_back(self) -> None:
        decision = Program().decide(
            _with_points(100), ReleaseHold(hold_key="h-1"), T0, _hold_record()
        )

        assert Decision((ReleasePoints("h-1"),), ("released 30 points",)) == decision

    @pytest.mark.parametrize(
        ("record", "error"),
        [
            (_hold_record(HoldStatus.CAPTURED, 30), HoldAlreadyCaptured),
            (_hold_record(HoldStatus.RELEASED), HoldAlreadyReleased),
            (_hold_record(HoldStatus.EXPIRED), HoldExpired),
        ],
        ids=["captured", "released", "expired"],
    )
    @pytest.mark.parametrize(
        "command",
        [CaptureHold(hold_key="h-1"), ReleaseHold(hold_key="h-1")],
        ids=["capture", "release"],
    )
    def test_a_resolved_hold_cannot_resolve_again(
        self, command: CaptureHold | ReleaseHold, record: HoldRecord, error: type[Exception]
    ) -> None:
        with pytest.raises(error) as raised:
            Program().decide(_with_points(100), command, T0, record)

        assert "h-1" == raised.value.key  # type: ignore[attr-defined]

    def test_a_positive_adjustment_expires_as_the_policy_says(self) -> None:
        program = Program(points=PointsPolicy(expire_after=relativedelta(months=6)))

        decision = program.decide(
            _state(), Adjust(key="a-1", customer_id="c-1", points=5, reason="goodwill"), T0
        )

        assert Decision(
            (AdjustPoints(5, "a-1", "goodwill", datetime(2026, 11, 1, 9, tzinfo=UTC)),),
            ("adjusted by +5 points: goodwill",),
        ) == (decision)

    @pytest.mark.parametrize(
        ("points", "allow_negative", "accepted"),
        [(-100, False, True), (-101, False, False), (-101, True, True)],
        ids=["all-available", "more-than-available", "more-when-negative-allowed"],
    )
    def test_a_negative_adjustment_is_limited_by_the_policy(
        self, points: int, allow_negative: bool, accepted: bool
    ) -> None:
        program = Program(points=PointsPolicy(allow_negative=allow_negative))
        command = Adjust(key="a-1", customer_id="c-1", points=points, reason="fraud")

        if accepted:
            decision = program.decide(_with_points(100, program), command, T0)
            assert (AdjustPoints(points, "a-1", "fraud", None),) == decision.effects
        else:
            with pytest.raises(InsufficientPoints):
                program.decide(_with_points(100, program), command, T0)

    def test_a_cancellation_restores_the_redeemed_draws(self) -> None:
        record = RedemptionRecord("r-1", "c-1", 10, (), T0)

        decision = Program().decide(
            _with_points(100), CancelRedemption(redemption_key="r-1"), T0, record
        )

        assert Decision((RestorePoints("r-1", ()),), ("restored 10 points of r-1",)) == decision

    def test_a_cancelled_redemption_is_not_restored_again(self) -> None:
        record = RedemptionRecord("r-1", "c-1", 10, (), T0, cancelled=True)

        decision = Program().decide(
            _with_points(100), CancelRedemption(redemption_key="r-1"), T0, record
        )

        assert Decision((), ("nothing to do: r-1 was already cancelled",)) == decision

    def test_saving_a_customer_updates_the_profile(self) -> None:
        ada = Customer("c-1", name="Ada")

        decision = Program().decide(_state(), SaveCustomer(customer=ada), T0)

        assert Decision((UpdateProfile(ada),), ("profile saved",)) == decision


# -- purity ---------------------------------------------------------------------------------


class TestDecideIsPure:
    def test_the_same_inputs_give_the_same_decision(self) -> None:
        program = Program(points=PointsPolicy(pending_for=relativedelta(days=14)))
        state = _with_points(100)

        first = program.decide(state, _purchase(id="o-2"), T0)
        second = program.decide(state, _purchase(id="o-2"), T0)

        assert first == second

    def test_deciding_and_applying_leave_the_input_state_unchanged(self) -> None:
        program = Program()
        state = _with_points(100)
        snapshot = attrs.evolve(state)
        command = Redeem(key="r-1", customer_id="c-1", points=40)

        new_state, _ = program.apply(state, program.decide(state, command, T0), T0)

        assert (snapshot, 100, 60) == (state, state.ledger.available, new_state.ledger.available)

    def test_a_failed_decision_leaves_the_state_unchanged(self) -> None:
        state = _with_points(100)
        snapshot = attrs.evolve(state)

        with pytest.raises(InsufficientPoints):
            Program().decide(state, Redeem(key="r-1", customer_id="c-1", points=101), T0)

        assert snapshot == state

    def test_decide_counts_points_that_have_cleared_by_now(self) -> None:
        program = Program(points=PointsPolicy(pending_for=relativedelta(days=14)))
        state = _with_points(100, program)  # pending until T0 + 14 days
        later = T0 + timedelta(days=15)

        decision = program.decide(state, Redeem(key="r-1", customer_id="c-1", points=100), later)

        assert (RedeemPoints(100, "r-1"),) == decision.effects

    def test_a_decision_is_always_safe_to_apply(self) -> None:
        program = Program(points=PointsPolicy(expire_after=relativedelta(months=1)))
        state = _with_points(100, program)
        later = T0 + relativedelta(months=2)
        command = Redeem(key="r-1", customer_id="c-1", points=100)

        try:
            decision = program.decide(state, command, later)
        except InsufficientPoints:
            return
        program.apply(state, decision, later)


# -- apply ----------------------------------------------------------------------------------


class TestApply:
    def test_applying_a_purchase_decision_writes_the_earning(self) -> None:
        program = Program()
        decision = program.decide(_state(), _purchase("12.40"), T0)

        state, entries = program.apply(_state(), decision, T0)

        assert [(EntryKind.EARNED, 12, "o-1")] == [
            (entry.kind, entry.points, entry.source) for entry in entries
        ]
        assert 12 == state.ledger.available

    def test_applying_nothing_changes_nothing(self) -> None:
        state = _with_points(100)

        after, entries = Program().apply(state, Decision(), T0)

        assert (state, ()) == (after, entries)

    def test_applying_a_profile_update_replaces_the_customer_only(self) -> None:
        state = _with_points(100)
        ada = Customer("c-1", name="Ada")

        after, entries = Program().apply(state, Decision((UpdateProfile(ada),)), T0)

        assert (ada, state.ledger, ()) == (after.customer, after.ledger, entries)

    def test_effects_are_applied_in_order(self) -> None:
        decision = Decision(
            (
                AdjustPoints(50, "a-1", "goodwill", None),
                RedeemPoints(30, "r-1"),
                AdjustPoints(-20, "a-2", "fix", None),
            )
        )

        state, entries = Program().apply(_state(), decision, T0)

        assert [EntryKind.ADJUSTED, EntryKind.REDEEMED, EntryKind.ADJUSTED] == [
            entry.kind for entry in entries
        ]
        assert 0 == state.ledger.available

    @pytest.mark.parametrize(
        ("allow_negative", "expected_kinds", "available"),
        [
            (False, [EntryKind.REVERSED, EntryKind.SHORTFALL], 0),
            (True, [EntryKind.REVERSED], -10),
        ],
        ids=["forgiven", "negative"],
    )
    def test_a_reversal_follows_the_programs_allow_negative(
        self, allow_negative: bool, expected_kinds: list[EntryKind], available: int
    ) -> None:
        program = Program(points=PointsPolicy(allow_negative=allow_negative))
        state, record = _bought(program, _purchase("10.00"))
        state, _ = program.apply(state, Decision((RedeemPoints(10, "r-1"),)), T0)

        decision = program.decide(state, _return("10.00"), T0, record)
        state, entries = program.apply(state, decision, T0)

        assert (expected_kinds, available) == (
            [entry.kind for entry in entries],
            state.ledger.available,
        )

    def test_a_hold_can_be_placed_captured_and_released_through_effects(self) -> None:
        program = Program()
        expires = T0 + timedelta(hours=1)
        state, _ = program.apply(
            _with_points(100),
            Decision((HoldPoints("h-1", 30, expires), HoldPoints("h-2", 20, expires))),
            T0,
        )

        state, entries = program.apply(
            state, Decision((CapturePoints("h-1", 10), ReleasePoints("h-2"))), T0
        )

        assert [EntryKind.CAPTURED, EntryKind.RELEASED, EntryKind.RELEASED] == [
            entry.kind for entry in entries
        ]
        assert (90, 0, {}) == (state.ledger.available, state.ledger.held, state.ledger.holds)
