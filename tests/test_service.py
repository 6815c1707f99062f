"""RetentionService end to end, on a MemoryStore with a FixedClock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from dateutil.relativedelta import relativedelta

from custbond import (
    Balance,
    Customer,
    CustomEvent,
    EntryKind,
    FixedClock,
    HoldAlreadyCaptured,
    HoldAlreadyReleased,
    HoldExpired,
    IdempotencyConflict,
    InsufficientPoints,
    InvalidInput,
    LineItem,
    MemoryStore,
    NotFound,
    Outcome,
    PointsPerSpend,
    PointsPolicy,
    Program,
    Purchase,
    RetentionService,
    Return,
    SaveCustomer,
    Signup,
    Visit,
)
from custbond.commands import Settle
from custbond.effects import EarnPoints

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WINDOW = relativedelta(days=14)
US = timedelta(microseconds=1)
FLAT_WHITE = LineItem(sku="flat-white", quantity=2, unit_price=Decimal("4.50"))
BAGEL = LineItem(sku="bagel", quantity=1, unit_price=Decimal("2.10"))
ONE_FLAT_WHITE = LineItem(sku="flat-white", quantity=1, unit_price=Decimal("4.50"))

# Points pending for 14 days, expiring a year after they were earned.
POLICY = PointsPolicy(pending_for=WINDOW, expire_after=relativedelta(years=1))


class Shop:
    """A service with a store and a clock, and shorthands for the events of a test."""

    def __init__(self, policy: PointsPolicy = POLICY, *, at: datetime = T0) -> None:
        self.clock = FixedClock(at)
        self.store = MemoryStore()
        self.program = Program(points=policy)
        self.service = RetentionService(self.program, self.store, clock=self.clock)

    def buy(
        self,
        amount: str,
        id: str = "o-1",
        customer_id: str = "c-1",
        items: tuple[LineItem, ...] = (),
    ) -> Outcome:
        return self.service.record(self.purchase(amount, id, customer_id, items))

    def purchase(
        self,
        amount: str,
        id: str = "o-1",
        customer_id: str = "c-1",
        items: tuple[LineItem, ...] = (),
    ) -> Purchase:
        return Purchase(
            id=id,
            customer_id=customer_id,
            at=self.clock.now(),
            amount=Decimal(amount),
            currency="USD",
            items=items,
        )

    def give_back(
        self,
        amount: str | None = None,
        id: str = "ret-1",
        purchase_id: str = "o-1",
        items: tuple[LineItem, ...] = (),
        customer_id: str = "c-1",
    ) -> Outcome:
        return self.service.record(
            Return(
                id=id,
                customer_id=customer_id,
                at=self.clock.now(),
                purchase_id=purchase_id,
                amount=None if amount is None else Decimal(amount),
                items=items,
            )
        )

    def wait(self, delta: timedelta | relativedelta) -> None:
        self.clock.advance(delta)

    def balance(self, customer_id: str = "c-1", at: datetime | None = None) -> Balance:
        return self.service.balance(customer_id, at)

    def kinds(self, customer_id: str = "c-1") -> list[tuple[EntryKind, int]]:
        return [(entry.kind, entry.points) for entry in self.service.statement(customer_id)]

    def log_size(self) -> int:
        return len(list(self.service.log()))


def _available_now() -> Shop:
    """A shop whose points are available at once and never expire: 100 points for c-1."""
    shop = Shop(PointsPolicy())
    shop.buy("100.00")
    return shop


def _cleared() -> Shop:
    """A shop where c-1 bought for 100.00 and the return window has passed."""
    shop = Shop()
    shop.buy("100.00")
    shop.wait(WINDOW)
    return shop


# -- recording events -----------------------------------------------------------------------


class TestRecord:
    def test_a_purchase_earns_points_that_are_pending_through_the_return_window(self) -> None:
        shop = Shop()

        outcome = shop.buy("12.40")

        assert ("c-1", "o-1", T0, 12) == (
            outcome.customer_id,
            outcome.key,
            outcome.at,
            outcome.points,
        )
        assert (0, 12) == (outcome.balance.available, outcome.balance.pending)
        assert outcome.balance == shop.balance()

    def test_the_outcome_carries_the_decisions_trace(self) -> None:
        outcome = Shop().buy("12.40")

        assert (
            "points per spend: fired: 1 per 1 USD on 12.40 USD\n"
            "earned 12 points: 12.4 spend points, rounded down\n"
            "pending for 14 days (the return window); expire 1 year later"
        ) == str(outcome.trace)

    def test_an_event_for_an_unknown_customer_creates_them(self) -> None:
        shop = Shop()

        shop.service.record(Visit(id="v-1", customer_id="c-9", at=T0))

        assert (Customer("c-9"), ()) == (
            shop.service.customer("c-9"),
            shop.service.statement("c-9"),
        )

    @pytest.mark.parametrize(
        "event",
        [
            Visit(id="e-1", customer_id="c-1", at=T0),
            Signup(id="e-1", customer_id="c-1", at=T0),
            CustomEvent(id="e-1", customer_id="c-1", at=T0, name="review"),
        ],
        ids=["visit", "signup", "custom"],
    )
    def test_events_without_an_earning_rule_are_logged_and_change_no_points(
        self, event: Visit | Signup | CustomEvent
    ) -> None:
        shop = Shop()

        outcome = shop.service.record(event)

        assert ((), 0, 1) == (outcome.entries, outcome.points, shop.log_size())
        assert not any(isinstance(effect, EarnPoints) for effect in outcome.effects)

    def test_a_purchase_in_another_currency_is_rejected_and_creates_nobody(self) -> None:
        shop = Shop()
        purchase = Purchase(id="o-1", customer_id="c-1", at=T0, amount=Decimal(5), currency="EUR")

        with pytest.raises(InvalidInput) as raised:
            shop.service.record(purchase)

        assert "currency" == raised.value.field
        with pytest.raises(NotFound):
            shop.service.customer("c-1")
        assert 0 == shop.log_size()

    @pytest.mark.parametrize(
        "thing",
        [SaveCustomer(customer=Customer("c-1")), "o-1", None],
        ids=["a-command", "a-string", "none"],
    )
    def test_only_events_can_be_recorded(self, thing: object) -> None:
        with pytest.raises(InvalidInput) as raised:
            Shop().service.record(thing)  # type: ignore[arg-type]

        assert "event" == raised.value.field

    def test_an_outcome_includes_what_became_due_before_the_event(self) -> None:
        shop = Shop()
        shop.buy("100.00")
        shop.wait(timedelta(days=15))

        outcome = shop.buy("10.00", id="o-2")

        assert [EntryKind.CLEARED, EntryKind.EARNED] == [entry.kind for entry in outcome.entries]

    def test_a_late_recorded_purchase_past_its_window_is_available_at_once(self) -> None:
        shop = Shop()
        shop.wait(timedelta(days=20))
        late = Purchase(
            id="o-1",
            customer_id="c-1",
            at=T0,
            amount=Decimal("10.00"),
            currency="USD",
        )

        shop.service.record(late)

        assert (10, 0) == (shop.balance().available, shop.balance().pending)


class TestIdempotency:
    def test_the_same_event_again_returns_the_first_outcome_and_changes_nothing(self) -> None:
        shop = Shop()
        first = shop.buy("12.40")
        shop.wait(timedelta(days=30))

        again = shop.service.record(
            Purchase(id="o-1", customer_id="c-1", at=T0, amount=Decimal("12.40"), currency="USD")
        )

        assert first == again
        assert (12, 1, 1) == (shop.balance().available, shop.log_size(), len(shop.kinds()) - 1)

    @pytest.mark.parametrize(
        ("second", "fields"),
        [
            (
                Purchase(id="o-1", customer_id="c-1", at=T0, amount=Decimal(13), currency="USD"),
                ("amount",),
            ),
            (
                Purchase(id="o-1", customer_id="c-2", at=T0, amount=Decimal(12), currency="USD"),
                ("customer_id",),
            ),
            (
                Purchase(
                    id="o-1",
                    customer_id="c-1",
                    at=T0 + US,
                    amount=Decimal(12),
                    currency="USD",
                    channel="web",
                ),
                ("at", "channel"),
            ),
            (Visit(id="o-1", customer_id="c-1", at=T0), ("type (Purchase was accepted)",)),
        ],
        ids=["amount", "customer", "time-and-channel", "another-kind"],
    )
    def test_the_same_id_with_other_content_is_a_conflict_naming_the_fields(
        self, second: Purchase | Visit, fields: tuple[str, ...]
    ) -> None:
        shop = Shop()
        shop.service.record(
            Purchase(id="o-1", customer_id="c-1", at=T0, amount=Decimal(12), currency="USD")
        )

        with pytest.raises(IdempotencyConflict) as raised:
            shop.service.record(second)

        assert ("o-1", fields) == (raised.value.key, raised.value.fields)
        assert (12, 1) == (shop.balance().pending, shop.log_size())

    @pytest.mark.parametrize(
        "command",
        [
            lambda service: service.redeem("c-1", 10, key="k-1"),
            lambda service: service.adjust("c-1", 10, reason="goodwill", key="k-1"),
            lambda service: service.adjust("c-1", -10, reason="fix", key="k-1"),
            lambda service: service.hold("c-1", 10, "k-1", T0 + timedelta(hours=1)),
        ],
        ids=["redeem", "adjust-up", "adjust-down", "hold"],
    )
    def test_every_command_repeated_returns_the_first_outcome(
        self, command: Callable[[RetentionService], Outcome]
    ) -> None:
        shop = _available_now()
        first = command(shop.service)
        after_first = (shop.balance(), shop.service.statement("c-1"), shop.log_size())

        again = command(shop.service)

        assert first == again
        assert after_first == (shop.balance(), shop.service.statement("c-1"), shop.log_size())

    @pytest.mark.parametrize(
        ("first", "second", "fields"),
        [
            (
                lambda s: s.redeem("c-1", 10, key="k-1"),
                lambda s: s.redeem("c-1", 11, key="k-1"),
                ("points",),
            ),
            (
                lambda s: s.redeem("c-1", 10, key="k-1"),
                lambda s: s.redeem("c-1", 10, key="k-1", reason="gift"),
                ("reason",),
            ),
            (
                lambda s: s.adjust("c-1", 10, reason="goodwill", key="k-1"),
                lambda s: s.adjust("c-1", 10, reason="apology", key="k-1"),
                ("reason",),
            ),
            (
                lambda s: s.hold("c-1", 10, "k-1", T0 + timedelta(hours=1)),
                lambda s: s.hold("c-1", 10, "k-1", T0 + timedelta(hours=2)),
                ("expires_at",),
            ),
            (
                lambda s: s.redeem("c-1", 10, key="k-1"),
                lambda s: s.adjust("c-1", -10, reason="redeemed", key="k-1"),
                ("type (Redeem was accepted)",),
            ),
        ],
        ids=["redeem-points", "redeem-reason", "adjust-reason", "hold-expiry", "another-kind"],
    )
    def test_a_command_key_reused_with_other_content_is_a_conflict(
        self,
        first: Callable[[RetentionService], Outcome],
        second: Callable[[RetentionService], Outcome],
        fields: tuple[str, ...],
    ) -> None:
        shop = _available_now()
        first(shop.service)
        before = (shop.balance(), shop.log_size())

        with pytest.raises(IdempotencyConflict) as raised:
            second(shop.service)

        assert ("k-1", fields) == (raised.value.key, raised.value.fields)
        assert before == (shop.balance(), shop.log_size())

    def test_events_and_commands_have_separate_keys(self) -> None:
        shop = _available_now()

        shop.service.redeem("c-1", 10, key="o-1")

        assert 90 == shop.balance().available

    def test_a_refused_command_does_not_use_up_its_key(self) -> None:
        shop = _available_now()
        with pytest.raises(InsufficientPoints):
            shop.service.redeem("c-1", 500, key="r-1")

        outcome = shop.service.redeem("c-1", 50, key="r-1")

        assert 50 == outcome.balance.available

    def test_a_repeated_return_reverses_once(self) -> None:
        shop = _cleared()
        first = shop.give_back("30.00")

        again = shop.give_back("30.00")

        assert first == again
        assert (70, 30) == (shop.balance().available, shop.balance().reversed)


# -- commands -------------------------------------------------------------------------------


class TestCommandsForUnknownThings:
    @pytest.mark.parametrize(
        "command",
        [
            lambda service: service.redeem("c-9", 1, key="k-1"),
            lambda service: service.adjust("c-9", 5, reason="goodwill", key="k-1"),
            lambda service: service.hold("c-9", 1, "k-1", T0 + timedelta(hours=1)),
            lambda service: service.balance("c-9"),
            lambda service: service.statement("c-9"),
            lambda service: service.customer("c-9"),
        ],
        ids=["redeem", "adjust", "hold", "balance", "statement", "customer"],
    )
    def test_an_unknown_customer_is_not_found_and_not_created(
        self, command: Callable[[RetentionService], object]
    ) -> None:
        shop = _available_now()

        with pytest.raises(NotFound) as raised:
            command(shop.service)

        assert ("customer", "c-9", "no customer with id 'c-9'") == (
            raised.value.kind,
            raised.value.key,
            str(raised.value),
        )
        with pytest.raises(NotFound):
            shop.service.customer("c-9")
        assert 1 == shop.log_size()

    @pytest.mark.parametrize(
        ("command", "kind"),
        [
            (lambda service: service.capture("h-9"), "hold"),
            (lambda service: service.release("h-9"), "hold"),
            (lambda service: service.cancel_redemption("r-9"), "redemption"),
        ],
        ids=["capture", "release", "cancel"],
    )
    def test_an_unknown_hold_or_redemption_is_not_found(
        self, command: Callable[[RetentionService], object], kind: str
    ) -> None:
        with pytest.raises(NotFound) as raised:
            command(_available_now().service)

        assert kind == raised.value.kind

    def test_a_return_of_an_unknown_purchase_is_not_found_and_creates_nobody(self) -> None:
        shop = Shop()

        with pytest.raises(NotFound) as raised:
            shop.give_back("1.00", purchase_id="o-404", customer_id="c-9")

        assert ("purchase", "o-404") == (raised.value.kind, raised.value.key)
        with pytest.raises(NotFound):
            shop.service.customer("c-9")


class TestRedeem:
    def test_a_redemption_spends_available_points(self) -> None:
        shop = _cleared()

        outcome = shop.service.redeem("c-1", 40, key="r-1")

        assert ("r-1", -40, 60, 40) == (
            outcome.key,
            outcome.points,
            outcome.balance.available,
            outcome.balance.redeemed,
        )

    @pytest.mark.parametrize(
        ("points", "accepted"), [(99, True), (100, True), (101, False)], ids=["less", "eq", "more"]
    )
    def test_a_customer_can_redeem_up_to_the_available_points(
        self, points: int, accepted: bool
    ) -> None:
        shop = _cleared()

        if accepted:
            assert 100 - points == shop.service.redeem("c-1", points, key="r-1").balance.available
        else:
            with pytest.raises(InsufficientPoints):
                shop.service.redeem("c-1", points, key="r-1")
            assert (100, 1) == (shop.balance().available, shop.log_size())

    def test_pending_points_cannot_be_redeemed_until_the_window_passes(self) -> None:
        shop = Shop()
        shop.buy("100.00")
        shop.wait(timedelta(days=14) - US)

        with pytest.raises(InsufficientPoints) as raised:
            shop.service.redeem("c-1", 1, key="r-1")

        assert 0 == raised.value.available
        shop.wait(US)
        assert 99 == shop.service.redeem("c-1", 1, key="r-1").balance.available

    def test_the_soonest_expiring_points_are_redeemed_first(self) -> None:
        shop = Shop()
        shop.buy("10.00", id="o-1")
        shop.wait(timedelta(days=30))
        shop.buy("20.00", id="o-2")
        shop.wait(WINDOW)

        outcome = shop.service.redeem("c-1", 15, key="r-1")

        [redeemed] = [entry for entry in outcome.entries if entry.kind is EntryKind.REDEEMED]
        assert [("o-1", 10), ("o-2", 5)] == [
            (draw.lot.source, draw.points) for draw in redeemed.draws
        ]

    @pytest.mark.parametrize("points", [0, -5, 1.5, True], ids=repr)
    def test_a_redemption_is_of_a_positive_int(self, points: object) -> None:
        shop = _cleared()

        with pytest.raises(InvalidInput) as raised:
            shop.service.redeem("c-1", points, key="r-1")  # type: ignore[arg-type]

        assert "points" == raised.value.field

    def test_expired_points_cannot_be_redeemed(self) -> None:
        shop = _cleared()
        shop.wait(relativedelta(years=1) - WINDOW)

        with pytest.raises(InsufficientPoints):
            shop.service.redeem("c-1", 1, key="r-1")

        assert 100 == shop.balance().expired


class TestHolds:
    def test_a_hold_reserves_points_until_it_is_resolved(self) -> None:
        shop = _cleared()

        outcome = shop.service.hold("c-1", 30, "h-1", shop.clock.now() + timedelta(minutes=15))

        assert (70, 30, 0) == (
            outcome.balance.available,
            outcome.balance.held,
            outcome.points,
        )

    @pytest.mark.parametrize(("points", "available"), [(None, 70), (20, 80)], ids=["all", "part"])
    def test_a_capture_spends_the_hold_and_releases_the_rest(
        self, points: int | None, available: int
    ) -> None:
        shop = _cleared()
        shop.service.hold("c-1", 30, "h-1", shop.clock.now() + timedelta(minutes=15))

        outcome = shop.service.capture("h-1", points)

        assert (available, 0, 100 - available) == (
            outcome.balance.available,
            outcome.balance.held,
            outcome.balance.redeemed,
        )

    def test_a_release_gives_every_held_point_back(self) -> None:
        shop = _cleared()
        shop.service.hold("c-1", 30, "h-1", shop.clock.now() + timedelta(minutes=15))

        outcome = shop.service.release("h-1")

        assert (100, 0, 0) == (
            outcome.balance.available,
            outcome.balance.held,
            outcome.balance.redeemed,
        )

    @pytest.mark.parametrize(
        ("points", "accepted"), [(29, True), (30, True), (31, False)], ids=["less", "eq", "more"]
    )
    def test_a_capture_takes_at_most_the_held_points(self, points: int, accepted: bool) -> None:
        shop = _cleared()
        shop.service.hold("c-1", 30, "h-1", shop.clock.now() + timedelta(minutes=15))

        if accepted:
            assert -points == shop.service.capture("h-1", points).points
        else:
            with pytest.raises(InvalidInput) as raised:
                shop.service.capture("h-1", points)
            assert "points" == raised.value.field
            assert (70, 30) == (shop.balance().available, shop.balance().held)

    def test_the_same_capture_again_returns_the_first_outcome(self) -> None:
        shop = _cleared()
        shop.service.hold("c-1", 30, "h-1", shop.clock.now() + timedelta(minutes=15))
        first = shop.service.capture("h-1", 20)

        assert first == shop.service.capture("h-1", 20)
        assert (80, 20) == (shop.balance().available, shop.balance().redeemed)

    def test_the_same_release_again_returns_the_first_outcome(self) -> None:
        shop = _cleared()
        shop.service.hold("c-1", 30, "h-1", shop.clock.now() + timedelta(minutes=15))
        first = shop.service.release("h-1")
        shop.wait(timedelta(minutes=5))

        assert first == shop.service.release("h-1")
        assert (100, 3) == (shop.balance().available, shop.log_size())

    @pytest.mark.parametrize(
        ("first", "second", "error"),
        [
            (lambda s: s.capture("h-1", 20), lambda s: s.capture("h-1", 10), HoldAlreadyCaptured),
            (lambda s: s.capture("h-1", 20), lambda s: s.release("h-1"), HoldAlreadyCaptured),
            (lambda s: s.release("h-1"), lambda s: s.capture("h-1"), HoldAlreadyReleased),
            (lambda s: s.release("h-1"), lambda s: s.capture("h-1", 5), HoldAlreadyReleased),
        ],
        ids=[
            "capture-then-other-capture",
            "capture-then-release",
            "release-then-capture",
            "release-then-partial-capture",
        ],
    )
    def test_a_hold_resolves_once(
        self,
        first: Callable[[RetentionService], Outcome],
        second: Callable[[RetentionService], Outcome],
        error: type[Exception],
    ) -> None:
        shop = _cleared()
        shop.service.hold("c-1", 30, "h-1", shop.clock.now() + timedelta(minutes=15))
        first(shop.service)
        before = (shop.balance(), shop.log_size())

        with pytest.raises(error):
            second(shop.service)

        assert before == (shop.balance(), shop.log_size())

    def test_a_second_capture_names_the_points_first_captured(self) -> None:
        shop = _cleared()
        shop.service.hold("c-1", 30, "h-1", shop.clock.now() + timedelta(minutes=15))
        shop.service.capture("h-1")

        with pytest.raises(HoldAlreadyCaptured) as raised:
            shop.service.release("h-1")

        assert "hold 'h-1' was already captured for 30 points" == str(raised.value)

    def test_a_second_capture_names_the_points_captured_even_if_others_expired_then(
        self,
    ) -> None:
        shop = Shop(PointsPolicy(expire_after=relativedelta(months=1)))
        shop.buy("100.00")
        shop.service.redeem("c-1", 100, key="r-1")
        shop.wait(timedelta(days=7))
        shop.buy("100.00", id="o-2")
        shop.service.hold("c-1", 30, "h-1", shop.clock.now() + relativedelta(months=2))
        shop.service.cancel_redemption("r-1")  # 100 points back, expiring before the hold's
        shop.wait(timedelta(days=25))
        shop.service.capture("h-1")

        with pytest.raises(HoldAlreadyCaptured) as raised:
            shop.service.capture("h-1", 10)

        assert 30 == raised.value.points

    @pytest.mark.parametrize(
        ("after", "expired"),
        [(timedelta(minutes=15) - US, False), (timedelta(minutes=15), True)],
        ids=["just-before-expiry", "at-expiry"],
    )
    def test_an_expired_hold_releases_itself_without_run_due(
        self, after: timedelta, expired: bool
    ) -> None:
        shop = _cleared()
        expires = shop.clock.now() + timedelta(minutes=15)
        shop.service.hold("c-1", 30, "h-1", expires)
        shop.wait(after)

        if expired:
            assert (100, 0) == (shop.balance().available, shop.balance().held)
            with pytest.raises(HoldExpired) as raised:
                shop.service.capture("h-1")
            assert f"hold 'h-1' expired at {expires.isoformat()}" == str(raised.value)
            with pytest.raises(HoldExpired):
                shop.service.release("h-1")
        else:
            assert (70, 30) == (shop.balance().available, shop.balance().held)
            assert -30 == shop.service.capture("h-1").points

    def test_a_hold_expired_by_run_due_cannot_be_captured(self) -> None:
        shop = _cleared()
        shop.service.hold("c-1", 30, "h-1", shop.clock.now() + timedelta(minutes=15))
        shop.wait(timedelta(hours=1))
        shop.service.run_due()

        with pytest.raises(HoldExpired):
            shop.service.capture("h-1")

    def test_a_hold_ends_when_the_points_it_reserves_expire(self) -> None:
        shop = _cleared()
        points_expire = T0 + relativedelta(years=1)
        shop.wait(points_expire - shop.clock.now() - timedelta(hours=1))
        shop.service.hold("c-1", 30, "h-1", points_expire + timedelta(days=7))
        shop.wait(timedelta(hours=1))

        with pytest.raises(HoldExpired):
            shop.service.capture("h-1")

        assert (0, 0, 100) == (shop.balance().total, shop.balance().held, shop.balance().expired)

    @pytest.mark.parametrize(
        ("offset", "accepted"),
        [(-US, False), (timedelta(0), False), (US, True)],
        ids=["before-now", "now", "after-now"],
    )
    def test_a_hold_must_expire_after_now(self, offset: timedelta, accepted: bool) -> None:
        shop = _cleared()

        if accepted:
            assert 1 == shop.service.hold("c-1", 1, "h-1", shop.clock.now() + offset).balance.held
        else:
            with pytest.raises(InvalidInput) as raised:
                shop.service.hold("c-1", 1, "h-1", shop.clock.now() + offset)
            assert "expires_at" == raised.value.field

    def test_a_hold_above_the_available_points_is_refused(self) -> None:
        shop = _cleared()

        with pytest.raises(InsufficientPoints):
            shop.service.hold("c-1", 101, "h-1", shop.clock.now() + timedelta(hours=1))

    def test_a_hold_with_a_naive_expiry_is_rejected(self) -> None:
        naive = datetime(2026, 4, 1, 9)  # noqa: DTZ001 - must be rejected

        with pytest.raises(InvalidInput) as raised:
            _cleared().service.hold("c-1", 1, "h-1", naive)

        assert "expires_at" == raised.value.field


class TestAdjust:
    def test_points_added_by_hand_are_available_at_once_and_expire_per_policy(self) -> None:
        shop = Shop()
        shop.buy("1.00")

        outcome = shop.service.adjust("c-1", 25, reason="apology for the wait", key="a-1")

        assert (25, 1, 25) == (outcome.balance.available, outcome.balance.pending, outcome.points)
        assert (T0 + relativedelta(years=1), 25) == (
            outcome.balance.expiring_at,
            outcome.balance.expiring_points,
        )

    def test_points_removed_by_hand_are_taken_from_the_soonest_expiring(self) -> None:
        shop = _cleared()

        outcome = shop.service.adjust("c-1", -40, reason="duplicate order", key="a-1")

        assert (60, -40) == (outcome.balance.available, outcome.balance.adjusted)

    @pytest.mark.parametrize(
        ("allow_negative", "available"), [(False, None), (True, -50)], ids=["refused", "owed"]
    )
    def test_removing_more_than_available_needs_allow_negative(
        self, allow_negative: bool, available: int | None
    ) -> None:
        shop = Shop(PointsPolicy(allow_negative=allow_negative))
        shop.buy("100.00")

        if available is None:
            with pytest.raises(InsufficientPoints):
                shop.service.adjust("c-1", -150, reason="fraud", key="a-1")
            assert 100 == shop.balance().available
        else:
            assert (
                available
                == shop.service.adjust("c-1", -150, reason="fraud", key="a-1").points + 100
            )

    @pytest.mark.parametrize(("points", "reason"), [(0, "x"), (1.0, "x"), (5, "")], ids=repr)
    def test_bad_adjustments_are_rejected(self, points: object, reason: str) -> None:
        with pytest.raises(InvalidInput):
            _cleared().service.adjust("c-1", points, reason=reason, key="a-1")  # type: ignore[arg-type]


class TestCancelRedemption:
    def test_cancelling_a_redemption_restores_its_points_to_their_lots(self) -> None:
        shop = _cleared()
        shop.service.redeem("c-1", 40, key="r-1")

        outcome = shop.service.cancel_redemption("r-1")

        assert (40, 100, 0) == (
            outcome.points,
            outcome.balance.available,
            outcome.balance.redeemed,
        )
        assert (T0 + relativedelta(years=1), 100) == (
            outcome.balance.expiring_at,
            outcome.balance.expiring_points,
        )

    def test_cancelling_twice_restores_once(self) -> None:
        shop = _cleared()
        shop.service.redeem("c-1", 40, key="r-1")
        first = shop.service.cancel_redemption("r-1")

        again = shop.service.cancel_redemption("r-1")

        assert first == again
        assert (100, 3) == (shop.balance().available, shop.log_size())
        assert 1 == [kind for kind, _ in shop.kinds()].count(EntryKind.RESTORED)

    def test_a_captured_hold_can_be_cancelled_like_a_redemption(self) -> None:
        shop = _cleared()
        shop.service.hold("c-1", 30, "h-1", shop.clock.now() + timedelta(minutes=15))
        shop.service.capture("h-1", 20)

        outcome = shop.service.cancel_redemption("h-1")

        assert (20, 100) == (outcome.points, outcome.balance.available)

    def test_a_released_hold_has_nothing_to_cancel(self) -> None:
        shop = _cleared()
        shop.service.hold("c-1", 30, "h-1", shop.clock.now() + timedelta(minutes=15))
        shop.service.release("h-1")

        with pytest.raises(NotFound):
            shop.service.cancel_redemption("h-1")

    def test_points_restored_after_their_lot_expired_expire_at_once(self) -> None:
        shop = _cleared()
        shop.service.redeem("c-1", 40, key="r-1")
        shop.wait(relativedelta(years=1))

        outcome = shop.service.cancel_redemption("r-1")

        assert [EntryKind.EXPIRED, EntryKind.RESTORED, EntryKind.EXPIRED] == [
            entry.kind for entry in outcome.entries
        ]
        assert (0, 100, 0) == (
            outcome.balance.total,
            outcome.balance.expired,
            outcome.balance.redeemed,
        )


# -- returns --------------------------------------------------------------------------------


class TestRegressions:
    def test_a_return_does_not_take_points_owed_earlier_a_second_time(self) -> None:
        shop = Shop(PointsPolicy(expire_after=relativedelta(months=1)))
        shop.buy("100.00", id="A")
        shop.service.redeem("c-1", 100, key="r-1")
        shop.give_back("50.00", purchase_id="A")  # 50 owed by A's lot
        shop.service.cancel_redemption("r-1")  # 50 of the 100 back are taken for it
        shop.wait(timedelta(days=20))
        shop.buy("100.00", id="B")
        shop.wait(timedelta(days=11))  # A's other 50 expire (a month after A); B's stay

        shop.give_back("50.00", id="ret-2", purchase_id="A")

        assert 100 == shop.balance().available  # A's 100 are all reversed or expired

    def test_a_purchase_recorded_late_does_not_pay_a_debt_with_expired_points(self) -> None:
        shop = Shop(PointsPolicy(expire_after=relativedelta(months=12), allow_negative=True))
        shop.service.save_customer(Customer("c-1"))
        shop.service.adjust("c-1", 1, reason="opening", key="a-0")
        shop.service.adjust("c-1", -101, reason="correction", key="a-1")  # 100 owed
        late = Purchase(
            id="late",
            customer_id="c-1",
            at=T0 - relativedelta(years=2),
            amount=Decimal("80.00"),
            currency="USD",
        )

        outcome = shop.service.record(late)

        assert -100 == outcome.balance.available
        assert EntryKind.REPAID not in [entry.kind for entry in outcome.entries]

    def test_returns_of_a_huge_purchase_reverse_points_exactly(self) -> None:
        # 7 points per 0.03 on nearly a trillion dollars: past Decimal's 28 digits.
        program = Program(earn=PointsPerSpend(points=7, per=Decimal("0.03")))
        service = RetentionService(program, MemoryStore(), clock=FixedClock(T0))
        amount = Decimal("999999999999.97")
        earned = service.record(
            Purchase(id="A", customer_id="c-1", at=T0, amount=amount, currency="USD")
        ).balance.earned

        def give_back(id: str, part: str) -> Outcome:
            returned = Return(
                id=id, customer_id="c-1", at=T0, purchase_id="A", amount=Decimal(part)
            )
            return service.record(returned)

        third = give_back("x-1", "333333333333.33")
        assert earned * 33333333333333 // 99999999999997 == third.balance.reversed
        whole = give_back("x-2", "666666666666.64")
        assert (earned, 0) == (whole.balance.reversed, whole.balance.total)


class TestKeyedProfileSaves:
    def test_a_late_retry_under_its_key_does_not_overwrite_a_newer_profile(self) -> None:
        shop = Shop()
        old = Customer("c-1", name="Ada")
        new = Customer("c-1", name="Ada Lovelace")
        shop.service.save_customer(old, key="save-1")
        shop.service.save_customer(new, key="save-2")

        shop.service.save_customer(old, key="save-1")  # a retry, delivered late

        assert new == shop.service.customer("c-1")

    def test_a_key_reused_for_another_profile_is_a_conflict(self) -> None:
        shop = Shop()
        shop.service.save_customer(Customer("c-1", name="Ada"), key="save-1")

        with pytest.raises(IdempotencyConflict, match="customer"):
            shop.service.save_customer(Customer("c-1", name="Bo"), key="save-1")

    def test_a_keyed_save_is_logged_even_when_the_profile_is_unchanged(self) -> None:
        shop = Shop()
        shop.service.save_customer(Customer("c-1", name="Ada"))
        before = shop.log_size()

        shop.service.save_customer(Customer("c-1", name="Ada"), key="save-1")

        assert before + 1 == shop.log_size()


class TestShortfallsAreCollectedWhenPointsComeBack:
    """Without allow_negative a shortfall is forgiven, but not if points come back to the
    returned purchase's lot later: then they are taken back, up to what was owed."""

    def test_a_cancelled_redemption_does_not_hand_back_points_of_a_returned_purchase(
        self,
    ) -> None:
        shop = Shop(PointsPolicy())
        shop.buy("100.00")
        shop.service.redeem("c-1", 100, key="r-1")
        returned = shop.give_back("100.00")
        assert 100 == returned.entries[-1].uncollected  # the shortfall, forgiven for now

        cancelled = shop.service.cancel_redemption("r-1")

        assert [(EntryKind.RESTORED, 100), (EntryKind.REVERSED, -100)] == [
            (entry.kind, entry.points) for entry in cancelled.entries
        ]
        assert (0, 100) == (cancelled.balance.available, cancelled.balance.reversed)

    def test_only_what_was_owed_is_taken_from_what_comes_back(self) -> None:
        shop = Shop(PointsPolicy())
        shop.buy("100.00")
        shop.service.redeem("c-1", 100, key="r-1")
        shop.give_back("40.00")  # 40 owed

        cancelled = shop.service.cancel_redemption("r-1")

        assert 60 == cancelled.balance.available

    def test_a_released_hold_pays_what_a_return_could_not_take(self) -> None:
        shop = Shop(PointsPolicy())
        shop.buy("100.00")
        shop.service.hold("c-1", 100, "h-1", T0 + timedelta(hours=1))
        shop.give_back("100.00")  # every point is held: 100 owed

        released = shop.service.release("h-1")

        assert (0, 0) == (released.balance.available, released.balance.held)

    def test_points_given_back_to_other_purchases_lots_are_not_taken(self) -> None:
        shop = Shop(PointsPolicy())
        shop.buy("100.00", id="o-1")
        shop.buy("50.00", id="o-2")
        shop.service.redeem("c-1", 150, key="r-1")  # o-1's 100, then o-2's 50
        shop.give_back("100.00", purchase_id="o-1")  # 100 owed by o-1

        cancelled = shop.service.cancel_redemption("r-1")

        assert 50 == cancelled.balance.available  # o-2's points come back to stay


class TestReturns:
    def test_a_return_reverses_points_in_proportion_to_the_amount(self) -> None:
        shop = _cleared()

        outcome = shop.give_back("33.33")

        assert (-33, 67, 33) == (
            outcome.points,
            outcome.balance.available,
            outcome.balance.reversed,
        )

    def test_returns_in_parts_add_up_to_the_whole_purchase(self) -> None:
        shop = Shop(PointsPolicy())
        shop.buy("10.00")

        reversed_each = [
            -shop.give_back(amount, id=f"ret-{n}").points
            for n, amount in enumerate(["3.33", "3.33", "3.34"])
        ]

        assert ([3, 3, 4], 0) == (reversed_each, shop.balance().available)

    def test_returns_by_items_reverse_the_share_of_each_line(self) -> None:
        shop = Shop(PointsPolicy())
        shop.buy("11.10", items=(FLAT_WHITE, BAGEL))

        first = shop.give_back(items=(ONE_FLAT_WHITE,))
        second = shop.give_back(items=(ONE_FLAT_WHITE,), id="ret-2")
        third = shop.give_back(items=(BAGEL,), id="ret-3")

        assert ([-4, -4, -3], 0) == (
            [first.points, second.points, third.points],
            shop.balance().available,
        )

    def test_returns_by_items_and_by_amount_accumulate_together(self) -> None:
        shop = Shop(PointsPolicy())
        shop.buy("11.10", items=(FLAT_WHITE, BAGEL))
        shop.give_back(items=(ONE_FLAT_WHITE,))
        shop.give_back("6.60", id="ret-2")

        with pytest.raises(InvalidInput) as raised:
            shop.give_back(items=(BAGEL,), id="ret-3")

        assert ("amount", 0, 11) == (
            raised.value.field,
            shop.balance().available,
            shop.balance().reversed,
        )

    @pytest.mark.parametrize(
        ("amount", "accepted"),
        [("99.99", True), ("100.00", True), ("100.01", False)],
        ids=["less", "equal", "more"],
    )
    def test_no_more_than_was_bought_can_be_returned(self, amount: str, accepted: bool) -> None:
        shop = _cleared()

        if accepted:
            shop.give_back(amount)
            assert int(Decimal(amount)) == shop.balance().reversed
        else:
            with pytest.raises(InvalidInput) as raised:
                shop.give_back(amount)
            assert "amount" == raised.value.field
            assert (100, 1) == (shop.balance().available, shop.log_size())

    def test_items_not_in_the_purchase_cannot_be_returned(self) -> None:
        shop = Shop(PointsPolicy())
        shop.buy("11.10", items=(FLAT_WHITE, BAGEL))
        latte = LineItem(sku="latte", quantity=1, unit_price=Decimal("4.50"))

        with pytest.raises(InvalidInput) as raised:
            shop.give_back(items=(latte,))

        assert ("items", 11) == (raised.value.field, shop.balance().available)

    def test_a_return_takes_back_pending_points_first(self) -> None:
        shop = Shop()
        shop.buy("100.00")
        shop.wait(timedelta(days=1))

        outcome = shop.give_back("30.00")

        assert (0, 70, 30) == (
            outcome.balance.available,
            outcome.balance.pending,
            outcome.balance.reversed,
        )
        shop.wait(WINDOW)
        assert (70, 0) == (shop.balance().available, shop.balance().pending)

    def test_a_return_of_spent_points_records_a_shortfall_without_allow_negative(self) -> None:
        shop = _available_now()
        shop.service.redeem("c-1", 80, key="r-1")

        outcome = shop.give_back("100.00")

        assert [(EntryKind.REVERSED, -20), (EntryKind.SHORTFALL, 0)] == [
            (entry.kind, entry.points) for entry in outcome.entries
        ]
        assert (80, 0, 20) == (
            outcome.entries[1].uncollected,
            outcome.balance.available,
            outcome.balance.reversed,
        )

    def test_a_return_of_spent_points_goes_negative_with_allow_negative(self) -> None:
        shop = Shop(PointsPolicy(allow_negative=True))
        shop.buy("100.00")
        shop.service.redeem("c-1", 80, key="r-1")

        outcome = shop.give_back("100.00")

        assert (-80, 100) == (outcome.balance.available, outcome.balance.reversed)
        assert -50 == shop.buy("30.00", id="o-2").balance.available

    @pytest.mark.parametrize(
        ("offset", "accepted"),
        [(-US, False), (timedelta(0), True), (US, True)],
        ids=["before-the-purchase", "with-the-purchase", "after-the-purchase"],
    )
    def test_a_return_cannot_come_before_its_purchase(
        self, offset: timedelta, accepted: bool
    ) -> None:
        shop = _available_now()
        returned = Return(
            id="ret-1", customer_id="c-1", at=T0 + offset, purchase_id="o-1", amount=Decimal(10)
        )

        if accepted:
            assert -10 == shop.service.record(returned).points
        else:
            with pytest.raises(InvalidInput) as raised:
                shop.service.record(returned)
            assert ("at", 100) == (raised.value.field, shop.balance().available)

    def test_a_return_does_not_reclaim_points_that_expired_unspent(self) -> None:
        shop = Shop(PointsPolicy(expire_after=relativedelta(months=1)))
        shop.buy("100.00")
        shop.wait(timedelta(days=40))
        shop.buy("100.00", id="o-2")

        outcome = shop.give_back("100.00")

        assert ((), 100, 0) == (outcome.entries, outcome.balance.available, outcome.points)
        assert "100 of them expired or were taken back before; not reclaimed" in map(
            str, outcome.trace
        )

    def test_a_return_reclaims_only_the_points_used_before_the_rest_expired(self) -> None:
        shop = Shop(PointsPolicy(expire_after=relativedelta(months=1)))
        shop.buy("100.00")
        shop.service.redeem("c-1", 40, key="r-1")
        shop.wait(timedelta(days=20))
        shop.buy("100.00", id="o-2")
        shop.wait(timedelta(days=20))  # the 60 points left of o-1 expire

        outcome = shop.give_back("100.00")

        assert (40, 60, 60) == (
            outcome.balance.reversed,
            outcome.balance.expired,
            outcome.balance.available,
        )

    def test_a_return_counts_points_taken_back_before_with_those_that_expired(self) -> None:
        shop = Shop(PointsPolicy(expire_after=relativedelta(months=1)))
        shop.buy("100.00")
        shop.give_back("50.00")  # 50 of o-1 taken back
        shop.wait(timedelta(days=20))
        shop.buy("100.00", id="o-2")
        shop.wait(timedelta(days=20))  # the other 50 of o-1 expire

        outcome = shop.give_back("50.00", id="ret-2")

        assert (50, 50, 100) == (
            outcome.balance.reversed,
            outcome.balance.expired,
            outcome.balance.available,
        )

    def test_a_return_does_not_reclaim_the_points_of_a_purchase_recorded_after_they_expired(
        self,
    ) -> None:
        shop = Shop(PointsPolicy(expire_after=relativedelta(months=1)), at=T0)
        shop.wait(timedelta(days=60))
        shop.buy("100.00", id="o-2")
        shop.service.record(
            Purchase(id="o-1", customer_id="c-1", at=T0, amount=Decimal(100), currency="USD")
        )

        outcome = shop.give_back("100.00")

        assert (0, 100) == (outcome.points, outcome.balance.available)

    def test_a_return_does_not_reclaim_restored_points_that_expired_at_once(self) -> None:
        shop = Shop(PointsPolicy(expire_after=relativedelta(months=1)))
        shop.buy("100.00")
        shop.service.redeem("c-1", 40, key="r-1")
        shop.wait(timedelta(days=20))
        shop.buy("100.00", id="o-2")
        shop.wait(timedelta(days=15))  # o-1's 60 points expire
        shop.service.cancel_redemption("r-1")  # its 40 come back to o-1 and expire at once

        outcome = shop.give_back("100.00")

        assert (0, 100) == (outcome.points, outcome.balance.available)

    def test_a_return_by_another_customer_is_rejected(self) -> None:
        shop = _cleared()

        with pytest.raises(InvalidInput) as raised:
            shop.give_back("10.00", customer_id="c-2")

        assert "customer_id" == raised.value.field
        with pytest.raises(NotFound):
            shop.service.customer("c-2")


# -- customers ------------------------------------------------------------------------------


class TestCustomers:
    def test_a_saved_customer_can_be_read_back(self) -> None:
        shop = Shop()
        ada = Customer("c-1", name="Ada", time_zone="Europe/London")

        assert ada == shop.service.save_customer(ada)
        assert ada == shop.service.customer("c-1")
        assert Balance(0, 0, 0, None, 0, 0, 0, 0, 0, 0) == shop.balance()

    def test_saving_the_same_profile_again_changes_nothing(self) -> None:
        shop = Shop()
        ada = Customer("c-1", name="Ada")
        shop.service.save_customer(ada)

        shop.service.save_customer(Customer("c-1", name="Ada"))

        assert (ada, 1) == (shop.service.customer("c-1"), shop.log_size())

    def test_saving_a_new_profile_replaces_it_and_keeps_the_points(self) -> None:
        shop = _cleared()
        bo = Customer("c-1", name="Bo", email="bo@example.com")

        shop.service.save_customer(bo)

        assert (bo, 100, 2) == (
            shop.service.customer("c-1"),
            shop.balance().available,
            shop.log_size(),
        )

    def test_only_a_customer_can_be_saved(self) -> None:
        with pytest.raises(InvalidInput) as raised:
            Shop().service.save_customer("c-1")  # type: ignore[arg-type]

        assert "customer" == raised.value.field


# -- reads and time -------------------------------------------------------------------------


class TestBalanceAndStatement:
    def test_the_balance_always_equals_the_statement(self) -> None:
        shop = Shop()
        shop.buy("100.00")
        shop.wait(WINDOW)
        shop.service.redeem("c-1", 10, key="r-1")
        shop.service.hold("c-1", 20, "h-1", shop.clock.now() + timedelta(hours=1))
        shop.give_back("50.00")
        shop.service.adjust("c-1", 5, reason="goodwill", key="a-1")

        for later in (timedelta(0), timedelta(hours=2), relativedelta(years=2)):
            shop.wait(later)
            statement = shop.service.statement("c-1")
            now = shop.balance()
            assert (now.total, now.pending, now.held) == (
                sum(entry.points for entry in statement),
                sum(entry.pending for entry in statement),
                sum(entry.held for entry in statement),
            )

    @pytest.mark.parametrize(
        ("at", "available", "pending", "expired"),
        [
            (T0 + timedelta(days=14) - US, 0, 100, 0),
            (T0 + timedelta(days=14), 100, 0, 0),
            (T0 + relativedelta(years=1) - US, 100, 0, 0),
            (T0 + relativedelta(years=1), 0, 0, 100),
        ],
        ids=["before-clearing", "at-clearing", "before-expiry", "at-expiry"],
    )
    def test_a_balance_at_a_later_time_projects_clearing_and_expiry(
        self, at: datetime, available: int, pending: int, expired: int
    ) -> None:
        shop = Shop()
        shop.buy("100.00")

        projected = shop.balance(at=at)

        assert (available, pending, expired) == (
            projected.available,
            projected.pending,
            projected.expired,
        )
        assert (0, 100) == (shop.balance().available, shop.balance().pending)

    def test_a_balance_at_a_later_time_projects_a_hold_expiring(self) -> None:
        shop = _cleared()
        expires = shop.clock.now() + timedelta(hours=1)
        shop.service.hold("c-1", 30, "h-1", expires)

        assert (30, 0) == (shop.balance(at=expires - US).held, shop.balance(at=expires).held)

    def test_a_balance_at_a_naive_time_is_rejected(self) -> None:
        with pytest.raises(InvalidInput) as raised:
            _cleared().service.balance("c-1", datetime(2027, 1, 1))  # noqa: DTZ001

        assert "at" == raised.value.field

    def test_the_statement_includes_entries_not_yet_materialised(self) -> None:
        shop = Shop()
        shop.buy("100.00")
        shop.wait(relativedelta(years=2))

        assert [
            (EntryKind.EARNED, 100),
            (EntryKind.CLEARED, 0),
            (EntryKind.EXPIRED, -100),
        ] == shop.kinds()

    def test_the_statement_can_be_read_as_of_a_later_time(self) -> None:
        shop = Shop()
        shop.buy("100.00")

        statement = shop.service.statement("c-1", at=T0 + timedelta(days=14))

        assert [EntryKind.EARNED, EntryKind.CLEARED] == [entry.kind for entry in statement]
        assert [EntryKind.EARNED] == [kind for kind, _ in shop.kinds()]

    def test_entries_are_numbered_in_order(self) -> None:
        shop = _cleared()
        shop.service.redeem("c-1", 10, key="r-1")
        shop.wait(relativedelta(years=1))

        assert [1, 2, 3, 4] == [entry.seq for entry in shop.service.statement("c-1")]


class TestProgramTimeZone:
    """Expiry rounded to the end of the month is reckoned in the program's time zone."""

    # 22:30 UTC on 31 March is 00:30 on 1 April in Paris: a month later is 1 May in Paris,
    # so the points are valid through the end of May, Paris time.
    BOUGHT = datetime(2026, 3, 31, 22, 30, tzinfo=UTC)
    END_OF_MAY_IN_PARIS = datetime(2026, 5, 31, 22, 0, tzinfo=UTC)

    @pytest.mark.parametrize(
        ("at", "available"),
        [(END_OF_MAY_IN_PARIS - US, 100), (END_OF_MAY_IN_PARIS, 0), (END_OF_MAY_IN_PARIS + US, 0)],
        ids=["just-before", "at", "just-after"],
    )
    def test_points_are_valid_through_the_end_of_the_month_in_paris(
        self, at: datetime, available: int
    ) -> None:
        clock = FixedClock(self.BOUGHT)
        policy = PointsPolicy(expire_after=relativedelta(months=1), expire_at_end_of="month")
        service = RetentionService(
            Program(points=policy, time_zone="Europe/Paris"), MemoryStore(), clock=clock
        )
        service.record(
            Purchase(
                id="o-1",
                customer_id="c-1",
                at=self.BOUGHT,
                amount=Decimal(100),
                currency="USD",
            )
        )

        assert self.END_OF_MAY_IN_PARIS == service.balance("c-1").expiring_at

        clock.set(at)

        assert available == service.balance("c-1").available


class TestRunDue:
    def test_run_due_materialises_what_became_due_once(self) -> None:
        shop = Shop()
        shop.buy("100.00", customer_id="c-1")
        shop.buy("50.00", id="o-2", customer_id="c-2")
        shop.wait(timedelta(days=20))
        before = (shop.service.statement("c-1"), shop.service.statement("c-2"))

        outcomes = shop.service.run_due()

        assert [("c-1", None, 0), ("c-2", None, 0)] == [
            (outcome.customer_id, outcome.key, outcome.points) for outcome in outcomes
        ]
        assert ["due changes materialised"] * 2 == [str(outcome.trace) for outcome in outcomes]
        assert [[EntryKind.CLEARED]] * 2 == [
            [entry.kind for entry in outcome.entries] for outcome in outcomes
        ]
        assert before == (shop.service.statement("c-1"), shop.service.statement("c-2"))
        assert [] == shop.service.run_due()

    def test_run_due_leaves_customers_with_nothing_due_alone(self) -> None:
        shop = Shop()
        shop.buy("100.00", customer_id="c-1")
        shop.wait(timedelta(days=7))
        shop.buy("50.00", id="o-2", customer_id="c-2")
        shop.wait(timedelta(days=7))

        assert ["c-1"] == [outcome.customer_id for outcome in shop.service.run_due()]

    def test_run_due_with_nothing_due_does_nothing(self) -> None:
        shop = Shop()
        shop.buy("100.00")

        assert [] == shop.service.run_due()

    def test_run_due_changes_no_balance(self) -> None:
        shop = Shop()
        shop.buy("100.00")
        shop.service.adjust("c-1", 10, reason="goodwill", key="a-1")
        shop.wait(relativedelta(years=1, days=1))
        before = shop.balance()

        [outcome] = shop.service.run_due()

        assert before == outcome.balance == shop.balance()

    def test_run_due_is_logged_so_a_replay_materialises_at_the_same_moments(self) -> None:
        shop = Shop()
        shop.buy("100.00")
        shop.wait(WINDOW)

        shop.service.run_due()

        [_, settled] = shop.service.log()
        assert (None, Settle(customer_id="c-1"), shop.clock.now()) == (
            settled.key,
            settled.input,
            settled.recorded_at,
        )

    def test_run_due_with_nothing_due_logs_nothing(self) -> None:
        shop = Shop()
        shop.buy("100.00")
        shop.wait(WINDOW)
        shop.service.run_due()

        shop.service.run_due()

        assert 2 == shop.log_size()


class TestLogAndReplay:
    def test_the_log_keeps_every_accepted_event_and_command_in_order(self) -> None:
        shop = _cleared()
        shop.service.redeem("c-1", 10, key="r-1")
        with pytest.raises(InsufficientPoints):
            shop.service.redeem("c-1", 1000, key="r-2")
        shop.service.redeem("c-1", 10, key="r-1")

        log = list(shop.service.log())

        assert [(1, ("event", "o-1"), T0), (2, ("command", "r-1"), T0 + timedelta(days=14))] == [
            (record.seq, record.key, record.recorded_at) for record in log
        ]
        assert [2] == [record.seq for record in shop.service.log(after=1)]

    def test_each_log_record_keeps_the_outcome_it_got(self) -> None:
        shop = Shop()
        outcome = shop.buy("10.00")

        [record] = shop.service.log()

        assert (outcome, shop.purchase("10.00")) == (record.outcome, record.input)

    def _history(self) -> Shop:
        shop = Shop()
        shop.service.save_customer(Customer("c-1", name="Ada"))
        shop.buy("100.00", items=())
        shop.buy("11.10", id="o-2", customer_id="c-2", items=(FLAT_WHITE, BAGEL))
        shop.wait(timedelta(days=1))
        shop.give_back("20.00")
        shop.service.record(Visit(id="v-1", customer_id="c-3", at=shop.clock.now()))
        shop.wait(WINDOW)
        shop.service.redeem("c-1", 30, key="r-1")
        shop.service.hold("c-1", 20, "h-1", shop.clock.now() + timedelta(hours=1))
        shop.service.capture("h-1", 15)
        shop.service.hold("c-1", 10, "h-2", shop.clock.now() + timedelta(hours=1))
        shop.service.release("h-2")
        shop.service.hold("c-2", 5, "h-3", shop.clock.now() + timedelta(hours=1))
        shop.service.run_due()
        shop.wait(timedelta(days=3))
        shop.service.run_due()
        shop.service.cancel_redemption("r-1")
        shop.service.adjust("c-1", -5, reason="fix", key="a-1")
        shop.give_back(items=(ONE_FLAT_WHITE,), id="ret-2", purchase_id="o-2", customer_id="c-2")
        shop.service.save_customer(Customer("c-1", name="Ada", email="ada@example.com"))
        shop.wait(relativedelta(months=6))
        shop.buy("40.00", id="o-3")
        shop.wait(relativedelta(months=7))
        return shop

    def test_replaying_the_log_into_a_fresh_service_gives_the_same_reads(self) -> None:
        live = self._history()
        fresh = Shop(at=live.clock.now())

        fresh.service.replay(live.service.log())

        for customer_id in ("c-1", "c-2", "c-3"):
            assert (
                live.service.customer(customer_id),
                live.balance(customer_id),
                live.service.statement(customer_id),
            ) == (
                fresh.service.customer(customer_id),
                fresh.balance(customer_id),
                fresh.service.statement(customer_id),
            )

    def test_replaying_the_log_into_a_fresh_service_gives_the_same_state(self) -> None:
        live = self._history()
        fresh = Shop(at=live.clock.now())

        fresh.service.replay(live.service.log())

        with live.store.unit_of_work() as mine, fresh.store.unit_of_work() as theirs:
            for customer_id in ("c-1", "c-2", "c-3"):
                assert mine.load(customer_id) == theirs.load(customer_id)
                assert mine.entries(customer_id) == theirs.entries(customer_id)
            for key in ("h-1", "h-2", "h-3"):
                assert mine.hold(key) == theirs.hold(key)
            for key in ("o-1", "o-2", "o-3"):
                assert mine.purchase(key) == theirs.purchase(key)
            assert mine.redemption("r-1") == theirs.redemption("r-1")
            assert list(mine.log()) == list(theirs.log())
            assert list(mine.due(live.clock.now())) == list(theirs.due(live.clock.now()))

    def test_a_replay_reproduces_every_outcome(self) -> None:
        live = self._history()
        fresh = Shop()

        outcomes = fresh.service.replay(live.service.log())

        assert [record.outcome for record in live.service.log()] == outcomes

    @pytest.mark.parametrize("records", [[1], "abc", 7, None], ids=repr)
    def test_a_replay_of_what_is_not_log_records_is_refused_and_replays_nothing(
        self, records: Any
    ) -> None:
        live = Shop()
        live.buy("100.00")
        fresh = Shop()
        good = list(live.service.log())

        with pytest.raises(InvalidInput) as raised:
            fresh.service.replay([*good, *records] if isinstance(records, list) else records)

        assert raised.value.field in {"records", "records[0]", "records[1]"}
        assert [] == list(fresh.service.log())

    def test_a_replay_without_run_due_reproduces_every_outcome(self) -> None:
        live = Shop()
        live.buy("100.00")
        live.wait(WINDOW)
        live.service.redeem("c-1", 30, key="r-1")
        live.give_back("50.00")
        live.service.cancel_redemption("r-1")
        fresh = Shop()

        outcomes = fresh.service.replay(live.service.log())

        assert [record.outcome for record in live.service.log()] == outcomes

    def test_replaying_the_same_log_twice_changes_no_points_the_second_time(self) -> None:
        live = self._history()
        fresh = Shop(at=live.clock.now())
        fresh.service.replay(live.service.log())

        def reads() -> list[object]:
            return [
                (
                    fresh.service.customer(customer_id),
                    fresh.balance(customer_id),
                    fresh.service.statement(customer_id),
                )
                for customer_id in ("c-1", "c-2", "c-3")
            ]

        once = reads()

        fresh.service.replay(live.service.log())

        assert once == reads()


class TestConstruction:
    @pytest.mark.parametrize(
        ("arguments", "field"),
        [
            ((Program(), MemoryStore(), T0), "clock"),  # a time where the clock goes
            ((Program(), MemoryStore(), FixedClock), "clock"),  # the class, not a clock
            ((Program(), "loyalty.db"), "store"),
            ((Program(), MemoryStore), "store"),  # the class, not a store
            (({"currency": "USD"}, MemoryStore()), "program"),
        ],
        ids=[
            "datetime-as-clock",
            "clock-class",
            "path-as-store",
            "store-class",
            "dict-as-program",
        ],
    )
    def test_what_is_not_a_program_a_store_or_a_clock_is_refused_when_the_service_is_made(
        self, arguments: tuple[object, ...], field: str
    ) -> None:
        with pytest.raises(InvalidInput) as raised:
            RetentionService(*arguments)  # type: ignore[arg-type]

        assert raised.value.field == field

    def test_record_many_given_one_event_instead_of_a_list_says_so(self) -> None:
        clock = FixedClock(T0)
        service = RetentionService(Program(), MemoryStore(), clock)
        purchase = Purchase(
            id="o-1", customer_id="c-1", at=T0, amount=Decimal("5.00"), currency="USD"
        )

        with pytest.raises(InvalidInput, match="an iterable of events") as raised:
            service.record_many(purchase)  # type: ignore[arg-type]

        assert raised.value.field == "events"
        assert list(service.log()) == []


class TestCurrencyOfKeptData:
    def test_a_purchase_kept_in_another_currency_cannot_be_returned_after_a_change(
        self,
    ) -> None:
        store, clock = MemoryStore(), FixedClock(T0)
        yen = RetentionService(Program(currency="JPY"), store, clock)
        yen.record(
            Purchase(id="o-1", customer_id="c-1", at=T0, amount=Decimal(900), currency="JPY")
        )
        dollars = RetentionService(Program(currency="USD"), store, clock)
        before = dollars.statement("c-1")

        with pytest.raises(InvalidInput, match="a purchase in the program's USD") as raised:
            dollars.record(
                Return(id="x-1", customer_id="c-1", at=T0, purchase_id="o-1", amount=Decimal(900))
            )

        assert raised.value.field == "purchase_id"
        assert dollars.statement("c-1") == before
