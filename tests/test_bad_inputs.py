"""Bad input gets a clear, typed error and changes nothing.

One table: each row is a call a host might make with something wrong in it, the error it
must raise and what the message must name. Every row runs against the same small world (a
customer with a purchase, points, and holds in every state) and checks that afterwards the
balances, statements, records and the event log are exactly as they were.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from dateutil.relativedelta import relativedelta

from custbond import (
    Birthday,
    CustbondError,
    Customer,
    CustomEvent,
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
    PointsPolicy,
    Program,
    Purchase,
    Redeem,
    RetentionService,
    Return,
    Visit,
)

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)


@dataclass
class World:
    """A customer, c-1, with 100 points from o-1 (80 available), a redemption r-1 and
    a hold in every state: h-open, h-captured, h-released, h-expired."""

    service: RetentionService
    store: MemoryStore
    clock: FixedClock

    @property
    def now(self) -> datetime:
        return self.clock.now()

    def snapshot(self) -> tuple[object, ...]:
        service = self.service
        with self.store.unit_of_work() as uow:
            records = (
                uow.purchase("o-1"),
                [uow.hold(key) for key in HOLDS],
                uow.redemption("r-1"),
                uow.load("c-2"),
                uow.load("c-404"),
            )
        return (
            repr(self.store),
            list(service.log()),
            service.balance("c-1"),
            service.statement("c-1"),
            service.customer("c-1"),
            records,
        )


HOLDS = ("h-open", "h-captured", "h-released", "h-expired")


@pytest.fixture
def world() -> World:
    clock = FixedClock(T0)
    store = MemoryStore()
    program = Program(
        points=PointsPolicy(expire_after=relativedelta(months=12), pending_for=timedelta(days=14))
    )
    service = RetentionService(program, store, clock=clock)
    service.save_customer(Customer("c-1", name="Ada", email="ada@example.com"))
    service.record(purchase(at=T0))
    clock.advance(timedelta(days=15))  # past the return window
    service.redeem("c-1", 5, key="r-1")
    for key in ("h-open", "h-captured", "h-released"):
        service.hold("c-1", 10, key, clock.now() + timedelta(days=1))
    service.capture("h-captured", 5)  # the other 5 go back
    service.release("h-released")
    service.hold("c-1", 10, "h-expired", clock.now() + timedelta(hours=1))
    clock.advance(timedelta(hours=2))  # h-expired has expired; h-open is open
    return World(service, store, clock)


def purchase(**changes: Any) -> Purchase:
    """o-1: 100.00 USD for 4 bags of beans and 2 mugs, unless ``changes`` say otherwise."""
    fields: dict[str, Any] = {
        "id": "o-1",
        "customer_id": "c-1",
        "at": T0,
        "amount": Decimal("100.00"),
        "currency": "USD",
        "items": (
            LineItem(sku="beans", quantity=4, unit_price=Decimal("20.00")),
            LineItem(sku="mug", quantity=2, unit_price=Decimal("10.00")),
        ),
    }
    fields.update(changes)
    return Purchase(**fields)


def a_return(world: World, **changes: Any) -> Return:
    fields: dict[str, Any] = {
        "id": "x-1",
        "customer_id": "c-1",
        "at": world.now,
        "purchase_id": "o-1",
        "amount": Decimal("10.00"),
    }
    fields.update(changes)
    return Return(**fields)


def new_purchase(**changes: Any) -> Purchase:
    """o-2: a new purchase of 100.00 USD, without items."""
    return purchase(**{"id": "o-2", "items": (), **changes})


Call = Callable[[World], object]


@dataclass(frozen=True)
class Bad:
    call: Call
    error: type[CustbondError]
    names: str  # what the message must name: the field (InvalidInput's .field, too)


def row(case_id: str, call: Call, error: type[CustbondError], names: str) -> Any:
    return pytest.param(Bad(call, error, names), id=case_id)


NAIVE = datetime(2026, 3, 20, 9)  # noqa: DTZ001 - naive on purpose

BAD_INPUTS = [
    # -- events: values that cannot be constructed ------------------------------------------
    row("naive datetime", lambda w: w.service.record(new_purchase(at=NAIVE)), InvalidInput, "at"),
    row(
        "a time at the end of the calendar",
        lambda w: w.service.record(new_purchase(at=datetime(9999, 12, 31, 23, tzinfo=UTC))),
        InvalidInput,
        "at",
    ),
    row(
        "float amount",
        lambda w: w.service.record(new_purchase(amount=9.99)),
        InvalidInput,
        "amount",
    ),
    row(
        "amount beyond what Decimal arithmetic takes",  # abs() of it used to overflow
        lambda w: w.service.record(new_purchase(amount=Decimal("1e999999999"))),
        InvalidInput,
        "amount",
    ),
    row(
        "NaN amount",
        lambda w: w.service.record(new_purchase(amount=Decimal("NaN"))),
        InvalidInput,
        "amount",
    ),
    row(
        "infinite amount",
        lambda w: w.service.record(new_purchase(amount=Decimal("Infinity"))),
        InvalidInput,
        "amount",
    ),
    row(
        "negative amount",
        lambda w: w.service.record(new_purchase(amount=Decimal("-1.00"))),
        InvalidInput,
        "amount",
    ),
    row(
        "amount in words",
        lambda w: w.service.record(new_purchase(amount="nine")),
        InvalidInput,
        "amount",
    ),
    row(
        "absurdly large amount",
        lambda w: w.service.record(new_purchase(amount=Decimal("1e15"))),
        InvalidInput,
        "amount",
    ),
    row(
        "too many decimal places for USD",
        lambda w: w.service.record(new_purchase(amount=Decimal("9.999"))),
        InvalidInput,
        "amount",
    ),
    row(
        "fractional yen",
        lambda w: w.service.record(new_purchase(amount=Decimal("100.5"), currency="JPY")),
        InvalidInput,
        "amount",
    ),
    row(
        "lower-case currency code",
        lambda w: w.service.record(new_purchase(currency="usd")),
        InvalidInput,
        "currency",
    ),
    row("empty id", lambda w: w.service.record(new_purchase(id="")), InvalidInput, "id"),
    row(
        "NUL in a customer id",  # PostgreSQL cannot keep it: refused before any store sees it
        lambda w: w.service.record(new_purchase(customer_id="c\x001")),
        InvalidInput,
        "customer_id",
    ),
    row(
        "lone surrogate in a customer id",  # no database keeps it: refused on every store
        lambda w: w.service.record(new_purchase(customer_id="c-\udcff")),
        InvalidInput,
        "customer_id",
    ),
    row(
        "lone surrogate in a command's key",
        lambda w: w.service.redeem("c-1", 1, key="k-\ud800"),
        InvalidInput,
        "key",
    ),
    row("padded id", lambda w: w.service.record(new_purchase(id=" o-2")), InvalidInput, "id"),
    row("id too long", lambda w: w.service.record(new_purchase(id="o" * 201)), InvalidInput, "id"),
    row(
        "padded customer id",
        lambda w: w.service.record(new_purchase(customer_id="c-1 ")),
        InvalidInput,
        "customer_id",
    ),
    row(
        "customer id that is not a string",
        lambda w: w.service.record(new_purchase(customer_id=1)),
        InvalidInput,
        "customer_id",
    ),
    row(
        "items that disagree with the amount",
        lambda w: w.service.record(purchase(id="o-2", amount=Decimal("99.99"))),
        InvalidInput,
        "items",
    ),
    row(
        "items that are not line items",
        lambda w: w.service.record(new_purchase(items=("beans",))),
        InvalidInput,
        "items",
    ),
    row(
        "line item of no quantity",
        lambda w: LineItem(sku="beans", quantity=0, unit_price=Decimal("1.00")),
        InvalidInput,
        "quantity",
    ),
    row(
        "line item with a float price",
        lambda w: LineItem(sku="beans", quantity=1, unit_price=1.5),
        InvalidInput,
        "unit_price",
    ),
    row(
        "custom event with a float attribute",
        lambda w: w.service.record(
            CustomEvent(
                id="e-1", customer_id="c-1", at=w.now, name="review", attributes={"stars": 4.5}
            )
        ),
        InvalidInput,
        "attributes",
    ),
    row(
        "visit with a naive time",
        lambda w: w.service.record(Visit(id="v-1", customer_id="c-1", at=NAIVE)),
        InvalidInput,
        "at",
    ),
    row("not an event", lambda w: w.service.record({"id": "o-2"}), InvalidInput, "event"),
    row(
        "a command where an event belongs",
        lambda w: w.service.record(Redeem(key="r-9", customer_id="c-1", points=1)),
        InvalidInput,
        "event",
    ),
    # -- events that the program refuses ----------------------------------------------------
    row(
        "wrong currency for the program",
        lambda w: w.service.record(new_purchase(currency="EUR")),
        InvalidInput,
        "currency",
    ),
    row(
        "wrong currency from a new customer",
        lambda w: w.service.record(new_purchase(customer_id="c-2", currency="EUR")),
        InvalidInput,
        "currency",
    ),
    # -- returns ----------------------------------------------------------------------------
    row(
        "return of an unknown purchase",
        lambda w: w.service.record(a_return(w, purchase_id="o-404")),
        NotFound,
        "purchase",
    ),
    row(
        "return of more than was bought",
        lambda w: w.service.record(a_return(w, amount=Decimal("100.01"))),
        InvalidInput,
        "amount",
    ),
    row(
        "return of another customer's purchase",
        lambda w: w.service.record(a_return(w, customer_id="c-2")),
        InvalidInput,
        "customer_id",
    ),
    row(
        "return before the purchase",
        lambda w: w.service.record(a_return(w, at=T0 - timedelta(days=1))),
        InvalidInput,
        "at",
    ),
    row(
        "return of nothing",
        lambda w: w.service.record(a_return(w, amount=Decimal("0.00"))),
        InvalidInput,
        "amount",
    ),
    row(
        "return with neither amount nor items",
        lambda w: w.service.record(a_return(w, amount=None)),
        InvalidInput,
        "amount",
    ),
    row(
        "return with too many decimal places",
        lambda w: w.service.record(a_return(w, amount=Decimal("1.001"))),
        InvalidInput,
        "amount",
    ),
    row(
        "return of items never bought",
        lambda w: w.service.record(
            a_return(w, amount=None, items=(LineItem(sku="tea", quantity=1, unit_price="3.00"),))
        ),
        InvalidInput,
        "items",
    ),
    row(
        "return of more items than were bought",
        lambda w: w.service.record(
            a_return(
                w, amount=None, items=(LineItem(sku="beans", quantity=5, unit_price="20.00"),)
            )
        ),
        InvalidInput,
        "items",
    ),
    row(
        "return whose items disagree with its amount",
        lambda w: w.service.record(
            a_return(w, items=(LineItem(sku="mug", quantity=1, unit_price="10.00"),), amount=5)
        ),
        InvalidInput,
        "items",
    ),
    # -- commands for someone or something unknown ------------------------------------------
    row(
        "redeem for an unknown customer",
        lambda w: w.service.redeem("c-404", 1, key="r-9"),
        NotFound,
        "customer",
    ),
    row(
        "hold for an unknown customer",
        lambda w: w.service.hold("c-404", 1, "h-9", w.now + timedelta(days=1)),
        NotFound,
        "customer",
    ),
    row(
        "adjust for an unknown customer",
        lambda w: w.service.adjust("c-404", 10, reason="goodwill", key="a-9"),
        NotFound,
        "customer",
    ),
    row(
        "balance of an unknown customer",
        lambda w: w.service.balance("c-404"),
        NotFound,
        "customer",
    ),
    row(
        "statement of an unknown customer",
        lambda w: w.service.statement("c-404"),
        NotFound,
        "customer",
    ),
    row("capture of an unknown hold", lambda w: w.service.capture("h-404"), NotFound, "hold"),
    row("release of an unknown hold", lambda w: w.service.release("h-404"), NotFound, "hold"),
    row(
        "cancel of an unknown redemption",
        lambda w: w.service.cancel_redemption("r-404"),
        NotFound,
        "redemption",
    ),
    # -- not enough points ------------------------------------------------------------------
    row(
        "redeem more than available",
        lambda w: w.service.redeem("c-1", 81, key="r-9"),
        InsufficientPoints,
        "points",
    ),
    row(
        "hold more than available",
        lambda w: w.service.hold("c-1", 81, "h-9", w.now + timedelta(days=1)),
        InsufficientPoints,
        "points",
    ),
    row(
        "adjust below zero",
        lambda w: w.service.adjust("c-1", -81, reason="correction", key="a-9"),
        InsufficientPoints,
        "points",
    ),
    # -- points and keys of the wrong kind --------------------------------------------------
    row("redeem zero", lambda w: w.service.redeem("c-1", 0, key="r-9"), InvalidInput, "points"),
    row(
        "redeem negative", lambda w: w.service.redeem("c-1", -5, key="r-9"), InvalidInput, "points"
    ),
    row("redeem True", lambda w: w.service.redeem("c-1", True, key="r-9"), InvalidInput, "points"),
    row("redeem '10'", lambda w: w.service.redeem("c-1", "10", key="r-9"), InvalidInput, "points"),
    row("redeem 1.0", lambda w: w.service.redeem("c-1", 1.0, key="r-9"), InvalidInput, "points"),
    row(
        "redeem under a padded key",
        lambda w: w.service.redeem("c-1", 1, key="r-9 "),
        InvalidInput,
        "key",
    ),
    row(
        "zero adjust",
        lambda w: w.service.adjust("c-1", 0, reason="goodwill", key="a-9"),
        InvalidInput,
        "points",
    ),
    row(
        "adjust by True",
        lambda w: w.service.adjust("c-1", True, reason="goodwill", key="a-9"),
        InvalidInput,
        "points",
    ),
    row(
        "adjust by '10'",
        lambda w: w.service.adjust("c-1", "10", reason="goodwill", key="a-9"),
        InvalidInput,
        "points",
    ),
    row(
        "adjust without a reason",
        lambda w: w.service.adjust("c-1", 10, reason="", key="a-9"),
        InvalidInput,
        "reason",
    ),
    row(
        "hold of no points",
        lambda w: w.service.hold("c-1", 0, "h-9", w.now + timedelta(days=1)),
        InvalidInput,
        "points",
    ),
    row(
        "hold that ends before it starts",
        lambda w: w.service.hold("c-1", 1, "h-9", w.now - timedelta(minutes=1)),
        InvalidInput,
        "expires_at",
    ),
    row(
        "hold that ends now",
        lambda w: w.service.hold("c-1", 1, "h-9", w.now),
        InvalidInput,
        "expires_at",
    ),
    row(
        "hold with a naive end",
        lambda w: w.service.hold("c-1", 1, "h-9", NAIVE),
        InvalidInput,
        "expires_at",
    ),
    # -- holds: a hold resolves once, for at most what it holds ------------------------------
    row(
        "capture above the hold", lambda w: w.service.capture("h-open", 11), InvalidInput, "points"
    ),
    row("capture of zero", lambda w: w.service.capture("h-open", 0), InvalidInput, "points"),
    row(
        "capture after release",
        lambda w: w.service.capture("h-released"),
        HoldAlreadyReleased,
        "hold",
    ),
    row(
        "release after capture",
        lambda w: w.service.release("h-captured"),
        HoldAlreadyCaptured,
        "hold",
    ),
    row(
        "capture again for other points",
        lambda w: w.service.capture("h-captured", 4),
        HoldAlreadyCaptured,
        "hold",
    ),
    row("capture after expiry", lambda w: w.service.capture("h-expired"), HoldExpired, "hold"),
    row("release after expiry", lambda w: w.service.release("h-expired"), HoldExpired, "hold"),
    # -- the same key with other content ----------------------------------------------------
    row(
        "purchase id reused for another amount",
        lambda w: w.service.record(purchase(amount=Decimal("90.00"), items=())),
        IdempotencyConflict,
        "amount",
    ),
    row(
        "redemption key reused for other points",
        lambda w: w.service.redeem("c-1", 6, key="r-1"),
        IdempotencyConflict,
        "points",
    ),
    row(
        "hold key reused by a redemption",
        lambda w: w.service.redeem("c-1", 1, key="h-open"),
        IdempotencyConflict,
        "type",
    ),
    # -- reads ------------------------------------------------------------------------------
    row(
        "balance at a naive time", lambda w: w.service.balance("c-1", at=NAIVE), InvalidInput, "at"
    ),
    row(
        "statement at a naive time",
        lambda w: w.service.statement("c-1", at=NAIVE),
        InvalidInput,
        "at",
    ),
    row(
        "balance in the past",
        lambda w: w.service.balance("c-1", at=w.clock.now() - timedelta(microseconds=1)),
        InvalidInput,
        "at",
    ),
    row(
        "statement in the past",
        lambda w: w.service.statement("c-1", at=w.clock.now() - timedelta(days=1)),
        InvalidInput,
        "at",
    ),
    # -- customers --------------------------------------------------------------------------
    row(
        "a file's path for a time zone",  # dateutil's gettz would read the file
        lambda w: w.service.save_customer(Customer("c-1", time_zone="/etc/localtime")),
        InvalidInput,
        "time_zone",
    ),
    row(
        "bad time zone",
        lambda w: w.service.save_customer(Customer("c-1", time_zone="Mars/Olympus_Mons")),
        InvalidInput,
        "time_zone",
    ),
    row(
        "bad email",
        lambda w: w.service.save_customer(Customer("c-1", email="ada at example.com")),
        InvalidInput,
        "email",
    ),
    row(
        "email without a domain",
        lambda w: w.service.save_customer(Customer("c-1", email="ada@localhost")),
        InvalidInput,
        "email",
    ),
    row(
        "30 February",
        lambda w: w.service.save_customer(Customer("c-1", birthday=Birthday(month=2, day=30))),
        InvalidInput,
        "birthday",
    ),
    row(
        "29 February of a common year",
        lambda w: Birthday(month=2, day=29, year=2023),
        InvalidInput,
        "birthday",
    ),
    row(
        "tags as one string",
        lambda w: w.service.save_customer(Customer("c-1", tags="vip")),
        InvalidInput,
        "tags",
    ),
    row(
        "preference with a float",
        lambda w: w.service.save_customer(Customer("c-1", preferences={"milk": 0.5})),
        InvalidInput,
        "preferences",
    ),
    row("not a customer", lambda w: w.service.save_customer("c-1"), InvalidInput, "customer"),
    row("customer id empty", lambda w: w.service.save_customer(Customer("")), InvalidInput, "id"),
    # -- reads and quotes: arguments of the wrong type --------------------------------------
    row("balance of a list", lambda w: w.service.balance(["c-1"]), InvalidInput, "customer_id"),
    row("statement of None", lambda w: w.service.statement(None), InvalidInput, "customer_id"),
    row("log after a string", lambda w: w.service.log(after="1"), InvalidInput, "after"),
    row("log after a negative seq", lambda w: w.service.log(after=-1), InvalidInput, "after"),
    row("quote of no items", lambda w: w.service.quote("c-1", None), InvalidInput, "items"),
    row(
        "quote with coupons None",
        lambda w: w.service.quote("c-1", [], coupons=None),
        InvalidInput,
        "coupons",
    ),
    row(
        "cart of no items",
        lambda w: w.service.save_cart("c-1", "cart-1", None, key="k-cart"),
        InvalidInput,
        "items",
    ),
    row(
        "content of a float kind",
        lambda w: w.service.choose_for("c-1", kind=1.5),
        InvalidInput,
        "kind",
    ),
    # -- the clock --------------------------------------------------------------------------
    row(
        "clock moved backwards",
        lambda w: w.clock.advance(timedelta(seconds=-1)),
        InvalidInput,
        "delta",
    ),
    row("clock set to a naive time", lambda w: w.clock.set(NAIVE), InvalidInput, "at"),
    row(
        "clock set past the years times may take",
        lambda w: w.clock.set(datetime(9000, 1, 1, tzinfo=UTC)),
        InvalidInput,
        "at",
    ),
    row(
        "clock moved out of the calendar",
        lambda w: w.clock.advance(relativedelta(years=9000)),
        InvalidInput,
        "delta",
    ),
]


class TestBadInput:
    @pytest.mark.parametrize("bad", BAD_INPUTS)
    def test_bad_input_raises_a_typed_error_and_changes_nothing(
        self, world: World, bad: Bad
    ) -> None:
        before = world.snapshot()
        with pytest.raises(CustbondError) as raised:
            bad.call(world)
        error = raised.value
        assert bad.error is type(error)
        if isinstance(error, InvalidInput):
            assert isinstance(error, ValueError)
            assert bad.names in error.field
            assert error.field in str(error)
        if isinstance(error, NotFound):
            assert isinstance(error, LookupError)
        assert bad.names in str(error)
        assert before == world.snapshot()

    def test_the_world_is_what_the_table_assumes(self, world: World) -> None:
        balance = world.service.balance("c-1")
        # 100 earned; 5 redeemed and 5 captured; 10 held by h-open
        assert (100, 5 + 5, 10, 80) == (
            balance.earned,
            balance.redeemed,
            balance.held,
            balance.available,
        )

    def test_the_same_calls_done_right_are_accepted(self, world: World) -> None:
        service = world.service
        assert 0 == service.redeem("c-1", 80, key="r-9").balance.available
        assert 5 == service.capture("h-open", 5).balance.available
        assert 5 == -service.adjust("c-1", -5, reason="correction", key="a-9").points
