"""The domain values: errors, clocks, FrozenMap, customers and events."""

from __future__ import annotations

import pickle
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import attrs
import pytest
from dateutil import tz
from dateutil.relativedelta import relativedelta

from custbond import (
    Birthday,
    Clock,
    CustbondError,
    Customer,
    CustomEvent,
    FixedClock,
    HoldAlreadyCaptured,
    HoldAlreadyReleased,
    HoldError,
    HoldExpired,
    IdempotencyConflict,
    InsufficientPoints,
    InvalidInput,
    LineItem,
    NotFound,
    Purchase,
    Return,
    Signup,
    SystemClock,
    Visit,
)
from custbond import errors as errors_module
from custbond._frozen import FrozenMap

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NAIVE = datetime(2026, 3, 2, 9, 0)  # noqa: DTZ001 - naive on purpose: it must be rejected


def _purchase(**changes: object) -> Purchase:
    fields: dict[str, object] = {
        "id": "o-1",
        "customer_id": "c-1",
        "at": T0,
        "amount": Decimal("9.00"),
        "currency": "USD",
    }
    fields.update(changes)
    return Purchase(**fields)  # type: ignore[arg-type]


def _return(**changes: object) -> Return:
    fields: dict[str, object] = {
        "id": "ret-1",
        "customer_id": "c-1",
        "at": T0,
        "purchase_id": "o-1",
        "amount": Decimal("4.50"),
    }
    fields.update(changes)
    return Return(**fields)  # type: ignore[arg-type]


FLAT_WHITE = LineItem(sku="flat-white", quantity=2, unit_price=Decimal("4.50"))


# -- errors ---------------------------------------------------------------------------------


class TestErrors:
    @pytest.mark.parametrize(
        ("error", "base"),
        [
            (InvalidInput, ValueError),
            (InvalidInput, CustbondError),
            (NotFound, LookupError),
            (NotFound, CustbondError),
            (IdempotencyConflict, CustbondError),
            (InsufficientPoints, CustbondError),
            (HoldError, CustbondError),
            (HoldAlreadyCaptured, HoldError),
            (HoldAlreadyReleased, HoldError),
            (HoldExpired, HoldError),
        ],
        ids=lambda cls: cls.__name__,
    )
    def test_each_error_derives_from_its_family(self, error: type, base: type) -> None:
        assert issubclass(error, base)

    def test_every_public_error_derives_from_the_one_root(self) -> None:
        classes = [getattr(errors_module, name) for name in errors_module.__all__]

        assert [] == [cls.__name__ for cls in classes if not issubclass(cls, CustbondError)]

    def test_state_errors_are_not_mistaken_for_bad_input(self) -> None:
        assert not issubclass(InsufficientPoints, ValueError)
        assert not issubclass(HoldError, ValueError)

    @pytest.mark.parametrize(
        ("error", "expected"),
        [
            (
                InvalidInput("amount", -1, "a non-negative Decimal"),
                "amount must be a non-negative Decimal; got -1",
            ),
            (
                InvalidInput("id", "", "a non-empty string"),
                "id must be a non-empty string; got ''",
            ),
            (
                IdempotencyConflict("o-1", ["amount", "at"]),
                "key 'o-1' was already used with different content (differs in: amount, at)",
            ),
            (
                IdempotencyConflict("o-1", []),
                "key 'o-1' was already used with different content (differs in: kind)",
            ),
            (
                InsufficientPoints("c-1", requested=500, available=120),
                "customer 'c-1' has 120 available points; 500 were requested",
            ),
            (NotFound("customer", "c-404"), "no customer with id 'c-404'"),
            (HoldAlreadyCaptured("h-1", 40), "hold 'h-1' was already captured for 40 points"),
            (HoldAlreadyReleased("h-1"), "hold 'h-1' was already released"),
            (
                HoldExpired("h-1", datetime(2026, 3, 2, 9, tzinfo=UTC)),
                "hold 'h-1' expired at 2026-03-02T09:00:00+00:00",
            ),
        ],
        ids=[
            "invalid-number",
            "invalid-empty-string",
            "conflict-fields",
            "conflict-no-fields",
            "insufficient",
            "not-found",
            "hold-captured",
            "hold-released",
            "hold-expired",
        ],
    )
    def test_the_message_names_what_went_wrong(self, error: Exception, expected: str) -> None:
        assert expected == str(error)

    def test_invalid_input_keeps_field_value_and_expectation(self) -> None:
        error = InvalidInput("points", 0, "a positive int")

        assert ("points", 0, "a positive int") == (error.field, error.value, error.expected)

    def test_idempotency_conflict_keeps_the_key_and_the_differing_fields(self) -> None:
        error = IdempotencyConflict("o-1", ["amount"])

        assert ("o-1", ("amount",)) == (error.key, error.fields)

    def test_insufficient_points_keeps_the_numbers(self) -> None:
        error = InsufficientPoints("c-1", requested=5, available=3)

        assert ("c-1", 5, 3) == (error.customer_id, error.requested, error.available)

    def test_not_found_keeps_kind_and_key(self) -> None:
        error = NotFound("hold", "h-9")

        assert ("hold", "h-9") == (error.kind, error.key)

    def test_hold_errors_keep_the_hold_key(self) -> None:
        assert ["h-1", "h-2", "h-3"] == [
            HoldAlreadyCaptured("h-1", 1).key,
            HoldAlreadyReleased("h-2").key,
            HoldExpired("h-3", T0).key,
        ]


# -- FrozenMap ------------------------------------------------------------------------------


class TestFrozenMap:
    def test_it_reads_like_the_mapping_it_was_built_from(self) -> None:
        prefs = FrozenMap({"milk": "oat", "size": "large"})

        assert ("oat", 2, ["milk", "size"]) == (prefs["milk"], len(prefs), list(prefs))

    def test_a_missing_key_raises_key_error(self) -> None:
        with pytest.raises(KeyError):
            FrozenMap({"milk": "oat"})["sugar"]

    def test_it_equals_a_dict_with_the_same_items_both_ways(self) -> None:
        prefs = FrozenMap({"milk": "oat"})

        assert prefs == {"milk": "oat"}
        assert {"milk": "oat"} == prefs
        assert prefs != {"milk": "soy"}

    def test_it_is_not_equal_to_something_that_is_not_a_mapping(self) -> None:
        assert FrozenMap({}) != 0
        assert FrozenMap({}) != []

    def test_equal_maps_hash_alike_and_serve_as_keys(self) -> None:
        first = FrozenMap({"a": 1, "b": 2})
        second = FrozenMap({"b": 2, "a": 1})

        assert hash(first) == hash(second)
        assert {first: "found"}[second] == "found"

    def test_a_map_holding_an_unhashable_value_cannot_be_hashed(self) -> None:
        with pytest.raises(TypeError):
            hash(FrozenMap({"a": []}))

    def test_it_cannot_be_changed_in_place(self) -> None:
        prefs = FrozenMap({"milk": "oat"})

        with pytest.raises(TypeError):
            prefs["milk"] = "soy"  # type: ignore[index]
        with pytest.raises(AttributeError):
            prefs.extra = 1  # type: ignore[attr-defined]
        assert {"milk": "oat"} == prefs

    def test_changing_the_source_dict_does_not_change_the_map(self) -> None:
        source = {"milk": "oat"}
        prefs = FrozenMap(source)

        source["milk"] = "soy"

        assert "oat" == prefs["milk"]

    def test_to_dict_is_a_copy_that_can_be_changed_freely(self) -> None:
        prefs = FrozenMap({"milk": "oat"})

        copy = prefs.to_dict()
        copy["milk"] = "soy"

        assert ({"milk": "oat"}, dict) == (prefs, type(copy))

    def test_it_survives_a_pickle_round_trip(self) -> None:
        prefs = FrozenMap({"milk": "oat", "shots": 2})

        assert prefs == pickle.loads(pickle.dumps(prefs))

    def test_its_repr_shows_the_items(self) -> None:
        assert "FrozenMap({'milk': 'oat'})" == repr(FrozenMap({"milk": "oat"}))

    def test_an_empty_map_needs_no_argument(self) -> None:
        assert (0, {}) == (len(FrozenMap()), FrozenMap())


# -- clocks ---------------------------------------------------------------------------------


class TestFixedClock:
    def test_it_moves_by_instants_across_the_hour_a_zone_repeats(self) -> None:
        new_york = ZoneInfo("America/New_York")
        first_time = datetime(2026, 11, 1, 1, 45, tzinfo=new_york)  # 05:45 UTC
        second_time = datetime(2026, 11, 1, 1, 30, tzinfo=new_york, fold=1)  # 06:30 UTC
        clock = FixedClock(first_time)

        clock.set(second_time)  # later, though its wall clock reads earlier

        assert clock.now() == second_time
        with pytest.raises(InvalidInput, match="a time not earlier than"):
            clock.set(datetime(2026, 11, 1, 1, 50, tzinfo=new_york))  # 05:50 UTC: back
        assert clock.now() == second_time

    def test_it_stands_still_until_moved(self) -> None:
        clock = FixedClock(T0)

        assert (T0, T0) == (clock.now(), clock.now())

    def test_it_is_a_clock(self) -> None:
        assert isinstance(FixedClock(T0), Clock)

    @pytest.mark.parametrize(
        ("start", "delta", "expected"),
        [
            (T0, timedelta(hours=2), datetime(2026, 3, 2, 11, 0, tzinfo=UTC)),
            (T0, timedelta(0), T0),
            (
                datetime(2026, 1, 31, 9, tzinfo=UTC),
                relativedelta(months=1),
                datetime(2026, 2, 28, 9, tzinfo=UTC),
            ),
            (
                datetime(2028, 2, 29, 9, tzinfo=UTC),
                relativedelta(years=1),
                datetime(2029, 2, 28, 9, tzinfo=UTC),
            ),
            (T0, relativedelta(months=1, days=-3), datetime(2026, 3, 30, 9, tzinfo=UTC)),
        ],
        ids=[
            "timedelta",
            "zero",
            "month-from-the-31st",
            "year-from-29-february",
            "net-forward-relativedelta",
        ],
    )
    def test_advance_moves_it_forward(
        self, start: datetime, delta: timedelta | relativedelta, expected: datetime
    ) -> None:
        clock = FixedClock(start)

        clock.advance(delta)

        assert expected == clock.now()

    def test_advance_keeps_wall_time_across_daylight_saving_in_the_clocks_zone(self) -> None:
        paris = tz.gettz("Europe/Paris")
        clock = FixedClock(datetime(2026, 3, 28, 9, tzinfo=paris))

        clock.advance(relativedelta(days=1))

        assert (9, timedelta(hours=2)) == (clock.now().hour, clock.now().utcoffset())

    @pytest.mark.parametrize(
        "delta",
        [
            timedelta(microseconds=-1),
            relativedelta(days=-1),
            relativedelta(months=1, days=-40),
        ],
        ids=["timedelta", "relativedelta", "net-backward-relativedelta"],
    )
    def test_it_never_moves_backwards(self, delta: timedelta | relativedelta) -> None:
        clock = FixedClock(T0)

        with pytest.raises(InvalidInput) as raised:
            clock.advance(delta)

        assert ("delta", T0) == (raised.value.field, clock.now())

    @pytest.mark.parametrize("delta", [3600, 1.5, "1h", None], ids=repr)
    def test_advance_takes_only_durations(self, delta: object) -> None:
        clock = FixedClock(T0)

        with pytest.raises(InvalidInput, match="a timedelta or a relativedelta"):
            clock.advance(delta)  # type: ignore[arg-type]

        assert T0 == clock.now()

    @pytest.mark.parametrize(
        ("offset", "accepted"),
        [(timedelta(microseconds=-1), False), (timedelta(0), True), (timedelta(days=3), True)],
        ids=["earlier", "same", "later"],
    )
    def test_set_moves_it_to_a_time_not_earlier_than_now(
        self, offset: timedelta, accepted: bool
    ) -> None:
        clock = FixedClock(T0)

        if accepted:
            clock.set(T0 + offset)
        else:
            with pytest.raises(InvalidInput):
                clock.set(T0 + offset)

        assert (T0 + offset if accepted else T0) == clock.now()

    def test_set_rejects_a_naive_datetime(self) -> None:
        clock = FixedClock(T0)

        with pytest.raises(InvalidInput, match="timezone-aware"):
            clock.set(NAIVE + timedelta(days=1))

    @pytest.mark.parametrize("at", [NAIVE, "2026-03-02T09:00:00Z", date(2026, 3, 2)], ids=repr)
    def test_it_must_start_at_an_aware_datetime(self, at: object) -> None:
        with pytest.raises(InvalidInput) as raised:
            FixedClock(at)  # type: ignore[arg-type]

        assert "at" == raised.value.field


class TestSystemClock:
    def test_it_reads_the_wall_clock_as_an_aware_utc_time(self) -> None:
        before = datetime.now(UTC)
        now = SystemClock().now()
        after = datetime.now(UTC)

        assert timedelta(0) == now.utcoffset()
        assert before <= now <= after

    def test_it_is_a_clock(self) -> None:
        assert isinstance(SystemClock(), Clock)


# -- customers ------------------------------------------------------------------------------


class TestBirthday:
    @pytest.mark.parametrize(
        ("birthday", "year", "expected"),
        [
            (Birthday(month=2, day=29), 2027, date(2027, 2, 28)),
            (Birthday(month=2, day=29), 2028, date(2028, 2, 29)),
            (Birthday(month=2, day=29), 2100, date(2100, 2, 28)),
            (Birthday(month=2, day=29), 2000, date(2000, 2, 29)),
            (Birthday(month=2, day=29, year=1996), 2026, date(2026, 2, 28)),
            (Birthday(month=2, day=28), 2028, date(2028, 2, 28)),
            (Birthday(month=3, day=1), 2027, date(2027, 3, 1)),
            (Birthday(month=12, day=31, year=1990), 2026, date(2026, 12, 31)),
        ],
        ids=[
            "29-feb-in-a-common-year",
            "29-feb-in-a-leap-year",
            "29-feb-in-a-century-year",
            "29-feb-in-a-400-year",
            "29-feb-with-birth-year",
            "28-feb-in-a-leap-year",
            "1-march",
            "new-years-eve",
        ],
    )
    def test_in_year_gives_the_day_to_celebrate(
        self, birthday: Birthday, year: int, expected: date
    ) -> None:
        assert expected == birthday.in_year(year)

    @pytest.mark.parametrize(
        ("fields", "field"),
        [
            ({"month": 0, "day": 1}, "birthday.month"),
            ({"month": 1, "day": 0}, "birthday.day"),
            ({"month": 1, "day": 1, "year": 0}, "birthday.year"),
            ({"month": "1", "day": 1}, "birthday.month"),
            ({"month": True, "day": 1}, "birthday.month"),
            ({"month": 1, "day": 1.0}, "birthday.day"),
            ({"month": 13, "day": 1}, "birthday"),
            ({"month": 4, "day": 31}, "birthday"),
            ({"month": 2, "day": 30}, "birthday"),
            ({"month": 2, "day": 29, "year": 2001}, "birthday"),
            ({"month": 2, "day": 29, "year": 1900}, "birthday"),
        ],
        ids=[
            "month-zero",
            "day-zero",
            "year-zero",
            "month-string",
            "month-bool",
            "day-float",
            "month-13",
            "31-april",
            "30-february",
            "29-feb-2001",
            "29-feb-1900",
        ],
    )
    def test_a_day_that_is_not_on_the_calendar_is_rejected(
        self, fields: dict[str, object], field: str
    ) -> None:
        with pytest.raises(InvalidInput) as raised:
            Birthday(**fields)  # type: ignore[arg-type]

        assert field == raised.value.field

    def test_the_message_shows_the_impossible_day(self) -> None:
        with pytest.raises(
            InvalidInput, match=r"birthday must be a real calendar day; got '04-31'"
        ):
            Birthday(month=4, day=31)

    def test_29_february_is_accepted_with_a_leap_birth_year(self) -> None:
        assert date(2026, 2, 28) == Birthday(month=2, day=29, year=2004).in_year(2026)


class TestCustomer:
    def test_only_the_id_is_required(self) -> None:
        customer = Customer("c-1")

        assert (None, None, None, None, None, frozenset(), {}) == (
            customer.name,
            customer.email,
            customer.phone,
            customer.time_zone,
            customer.birthday,
            customer.tags,
            customer.preferences,
        )

    def test_a_full_profile_is_kept(self) -> None:
        customer = Customer(
            "c-1",
            name="Ada",
            email="ada@example.com",
            phone="+44 20 7946 0000",
            time_zone="Europe/London",
            birthday=Birthday(month=12, day=10, year=1815),
            tags={"oat-milk", "regular"},
            preferences={"milk": "oat", "shots": 2, "vip": True, "budget": Decimal("5.00")},
        )

        assert (frozenset({"oat-milk", "regular"}), 2) == (
            customer.tags,
            customer.preferences["shots"],
        )

    def test_a_birthday_given_as_a_date_becomes_a_birthday_with_its_year(self) -> None:
        customer = Customer("c-1", birthday=date(1990, 7, 14))

        assert Birthday(month=7, day=14, year=1990) == customer.birthday

    def test_tags_and_preferences_become_immutable(self) -> None:
        customer = Customer("c-1", tags=["a", "b", "a"], preferences={"milk": "oat"})

        assert (frozenset, FrozenMap) == (type(customer.tags), type(customer.preferences))

    def test_changing_the_source_dict_does_not_change_the_customer(self) -> None:
        preferences = {"milk": "oat"}
        customer = Customer("c-1", preferences=preferences)

        preferences["milk"] = "soy"

        assert "oat" == customer.preferences["milk"]

    def test_a_customer_is_frozen_and_hashable(self) -> None:
        customer = Customer("c-1", tags={"a"}, preferences={"milk": "oat"})

        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            customer.name = "Bo"  # type: ignore[misc]
        assert hash(customer) == hash(Customer("c-1", tags={"a"}, preferences={"milk": "oat"}))

    def test_customers_with_the_same_profile_are_equal(self) -> None:
        assert Customer("c-1", name="Ada") == Customer("c-1", name="Ada")
        assert Customer("c-1", name="Ada") != Customer("c-1", name="Bo")

    @pytest.mark.parametrize(
        ("fields", "field"),
        [
            ({"id": ""}, "id"),
            ({"id": " c-1"}, "id"),
            ({"id": "c" * 201}, "id"),
            ({"id": 1}, "id"),
            ({"name": 5}, "name"),
            ({"phone": 5}, "phone"),
            ({"email": "ada.example.com"}, "email"),
            ({"email": "ada@example"}, "email"),
            ({"email": "@example.com"}, "email"),
            ({"email": "ada @example.com"}, "email"),
            ({"email": "a@b@example.com"}, "email"),
            ({"email": "eve,ada@example.com"}, "email"),  # two recipients to SMTP
            ({"email": "postmaster;ada@example.com"}, "email"),
            ({"email": "Ada <ada@example.com>"}, "email"),
            ({"time_zone": "Mars/Olympus_Mons"}, "time_zone"),
            ({"time_zone": ""}, "time_zone"),
            ({"tags": "regular"}, "tags"),
            ({"tags": {""}}, "tags"),
            ({"tags": {1}}, "tags"),
            ({"preferences": {"budget": 5.0}}, "preferences['budget']"),
            ({"preferences": {"budget": Decimal("NaN")}}, "preferences['budget']"),
            ({"preferences": {"": 1}}, "preferences key"),
            ({"preferences": ["milk"]}, "preferences"),
            ({"birthday": "1990-07-14"}, "birthday"),
        ],
        ids=lambda value: value if isinstance(value, str) else None,
    )
    def test_bad_profile_fields_are_rejected_by_name(
        self, fields: dict[str, object], field: str
    ) -> None:
        arguments: dict[str, object] = {"id": "c-1", **fields}
        customer_id = arguments.pop("id")

        with pytest.raises(InvalidInput) as raised:
            Customer(customer_id, **arguments)  # type: ignore[arg-type]

        assert field == raised.value.field

    @pytest.mark.parametrize(
        ("length", "accepted"),
        [(199, True), (200, True), (201, False)],
        ids=["199", "200", "201"],
    )
    def test_an_id_may_be_up_to_200_characters(self, length: int, accepted: bool) -> None:
        if accepted:
            assert length == len(Customer("c" * length).id)
        else:
            with pytest.raises(InvalidInput):
                Customer("c" * length)


# -- events ---------------------------------------------------------------------------------


class TestLineItem:
    def test_total_is_quantity_times_unit_price(self) -> None:
        assert (
            Decimal("6.30") == LineItem(sku="bagel", quantity=3, unit_price=Decimal("2.10")).total
        )

    @pytest.mark.parametrize(
        ("unit_price", "expected"),
        [(2, Decimal(2)), ("2.10", Decimal("2.10")), (" 2.10 ", Decimal("2.10"))],
        ids=["int", "string", "padded-string"],
    )
    def test_a_unit_price_converts_exactly_from_int_or_string(
        self, unit_price: object, expected: Decimal
    ) -> None:
        item = LineItem(sku="bagel", quantity=1, unit_price=unit_price)  # type: ignore[arg-type]

        assert (expected, Decimal) == (item.unit_price, type(item.unit_price))

    def test_tags_become_a_frozenset(self) -> None:
        item = LineItem(sku="bagel", quantity=1, unit_price=Decimal(2), tags=["vegan"])

        assert frozenset({"vegan"}) == item.tags

    @pytest.mark.parametrize(
        ("fields", "field"),
        [
            ({"sku": ""}, "sku"),
            ({"quantity": 0}, "quantity"),
            ({"quantity": -1}, "quantity"),
            ({"quantity": 1.0}, "quantity"),
            ({"quantity": True}, "quantity"),
            ({"unit_price": 2.1}, "unit_price"),
            ({"unit_price": Decimal("-0.01")}, "unit_price"),
            ({"unit_price": Decimal("NaN")}, "unit_price"),
            ({"unit_price": Decimal("Infinity")}, "unit_price"),
            ({"unit_price": "two"}, "unit_price"),
            ({"tags": "vegan"}, "tags"),
        ],
        ids=[
            "empty-sku",
            "zero-quantity",
            "negative-quantity",
            "float-quantity",
            "bool-quantity",
            "float-price",
            "negative-price",
            "nan-price",
            "infinite-price",
            "word-price",
            "string-tags",
        ],
    )
    def test_bad_lines_are_rejected_by_field(self, fields: dict[str, object], field: str) -> None:
        arguments: dict[str, object] = {"sku": "bagel", "quantity": 1, "unit_price": Decimal(2)}
        arguments.update(fields)

        with pytest.raises(InvalidInput) as raised:
            LineItem(**arguments)  # type: ignore[arg-type]

        assert field == raised.value.field


class TestPurchase:
    @pytest.mark.parametrize(
        ("amount", "expected"),
        [(9, Decimal(9)), ("9.00", Decimal("9.00")), (Decimal("9.00"), Decimal("9.00"))],
        ids=["int", "string", "decimal"],
    )
    def test_the_amount_is_kept_as_an_exact_decimal(
        self, amount: object, expected: Decimal
    ) -> None:
        purchase = _purchase(amount=amount)

        assert (expected, Decimal) == (purchase.amount, type(purchase.amount))

    def test_items_given_as_a_list_are_kept_as_a_tuple(self) -> None:
        purchase = _purchase(items=[FLAT_WHITE])

        assert (FLAT_WHITE,) == purchase.items

    def test_items_that_add_up_to_the_amount_are_accepted(self) -> None:
        bagel = LineItem(sku="bagel", quantity=1, unit_price=Decimal("2.10"))

        purchase = _purchase(amount=Decimal("11.10"), items=(FLAT_WHITE, bagel))

        assert 2 == len(purchase.items)

    @pytest.mark.parametrize(
        ("amount", "currency"),
        [
            (Decimal("100.00"), "JPY"),
            (Decimal("100"), "JPY"),
            (Decimal("1.234"), "KWD"),
            (Decimal("1.2"), "USD"),
            (Decimal("1.50"), "EUR"),
            (Decimal("0"), "USD"),
            (Decimal("999999999999999.99"), "USD"),
        ],
        ids=[
            "yen-trailing-zeros",
            "yen",
            "dinar-three-places",
            "one-place",
            "euro",
            "zero",
            "max",
        ],
    )
    def test_amounts_within_the_currencys_minor_units_are_accepted(
        self, amount: Decimal, currency: str
    ) -> None:
        assert amount == _purchase(amount=amount, currency=currency).amount

    @pytest.mark.parametrize(
        ("changes", "field", "message"),
        [
            ({"amount": 9.0}, "amount", "floats are rejected"),
            ({"amount": Decimal("NaN")}, "amount", "not NaN or infinity"),
            ({"amount": Decimal("sNaN")}, "amount", "not NaN or infinity"),
            ({"amount": Decimal("Infinity")}, "amount", "not NaN or infinity"),
            ({"amount": Decimal("-Infinity")}, "amount", "not NaN or infinity"),
            ({"amount": Decimal("-0.01")}, "amount", "at least 0"),
            ({"amount": Decimal("1e15")}, "amount", "smaller than"),
            ({"amount": "nine"}, "amount", "a decimal number"),
            ({"amount": None}, "amount", "a Decimal"),
            ({"amount": True}, "amount", "a Decimal"),
            ({"amount": Decimal("9.001")}, "amount", "at most 2 decimal places in USD"),
            ({"amount": Decimal("9.5"), "currency": "JPY"}, "amount", "at most 0 decimal"),
            ({"amount": Decimal("1.2345"), "currency": "KWD"}, "amount", "at most 3 decimal"),
            ({"id": ""}, "id", "non-empty string"),
            ({"id": "o-1 "}, "id", "not padded"),
            ({"customer_id": ""}, "customer_id", "non-empty string"),
            ({"at": NAIVE}, "at", "naive datetimes are ambiguous"),
            ({"at": "2026-03-02"}, "at", "timezone-aware datetime"),
            ({"currency": "usd"}, "currency", "ISO 4217"),
            ({"currency": "US"}, "currency", "ISO 4217"),
            ({"items": FLAT_WHITE}, "items", "a tuple of LineItem"),
            ({"items": ({"sku": "x"},)}, "items", "a LineItem"),
            ({"items": (FLAT_WHITE, FLAT_WHITE)}, "items", "add up to the amount 9.00"),
            ({"channel": 3}, "channel", "a string or None"),
        ],
        ids=[
            "float",
            "nan",
            "signalling-nan",
            "infinity",
            "minus-infinity",
            "negative",
            "too-large",
            "word",
            "none",
            "bool",
            "sub-cent",
            "fractional-yen",
            "too-precise-dinar",
            "empty-id",
            "padded-id",
            "empty-customer",
            "naive-at",
            "string-at",
            "lowercase-currency",
            "short-currency",
            "lone-item",
            "dict-item",
            "items-disagree",
            "channel-not-text",
        ],
    )
    def test_bad_purchases_are_rejected_with_field_and_expectation(
        self, changes: dict[str, object], field: str, message: str
    ) -> None:
        with pytest.raises(InvalidInput, match=message) as raised:
            _purchase(**changes)

        assert field == raised.value.field
        assert str(raised.value).startswith(f"{field} must be ")

    def test_a_float_amount_message_shows_the_value(self) -> None:
        with pytest.raises(InvalidInput) as raised:
            _purchase(amount=9.99)

        assert (
            "amount must be a Decimal (floats are rejected: they cannot hold money); got 9.99"
            == str(raised.value)
        )

    @pytest.mark.parametrize(
        ("amount", "accepted"),
        [
            (Decimal("999999999999999.99"), True),
            (Decimal("1000000000000000"), False),
            (Decimal("1000000000000000.01"), False),
        ],
        ids=["below-limit", "at-limit", "above-limit"],
    )
    def test_amounts_are_limited_below_a_quadrillion(
        self, amount: Decimal, accepted: bool
    ) -> None:
        if accepted:
            assert amount == _purchase(amount=amount).amount
        else:
            with pytest.raises(InvalidInput):
                _purchase(amount=amount)

    def test_an_aware_time_in_any_zone_is_accepted(self) -> None:
        at = datetime(2026, 3, 2, 9, tzinfo=timezone(timedelta(hours=-5)))

        assert at == _purchase(at=at).at

    def test_a_purchase_is_frozen_and_hashable(self) -> None:
        purchase = _purchase(items=(FLAT_WHITE,))

        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            purchase.amount = Decimal(1)  # type: ignore[misc]
        assert hash(purchase) == hash(_purchase(items=(FLAT_WHITE,)))


class TestReturn:
    def test_the_returned_amount_is_the_amount_when_given(self) -> None:
        assert Decimal("4.50") == _return().returned_amount

    def test_the_returned_amount_is_the_items_total_otherwise(self) -> None:
        returned = _return(amount=None, items=(FLAT_WHITE,))

        assert Decimal("9.00") == returned.returned_amount

    def test_an_amount_and_items_that_agree_are_accepted(self) -> None:
        returned = _return(amount=Decimal("9.00"), items=(FLAT_WHITE,))

        assert Decimal("9.00") == returned.returned_amount

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"amount": None}, "amount"),
            ({"amount": Decimal(0)}, "amount"),
            ({"amount": Decimal("-1")}, "amount"),
            ({"amount": 4.5}, "amount"),
            ({"amount": Decimal("NaN")}, "amount"),
            ({"amount": Decimal("4.00"), "items": (FLAT_WHITE,)}, "items"),
            ({"purchase_id": ""}, "purchase_id"),
            ({"id": ""}, "id"),
            ({"at": NAIVE}, "at"),
        ],
        ids=[
            "neither-amount-nor-items",
            "zero",
            "negative",
            "float",
            "nan",
            "amount-and-items-disagree",
            "empty-purchase-id",
            "empty-id",
            "naive-at",
        ],
    )
    def test_bad_returns_are_rejected_by_field(
        self, changes: dict[str, object], field: str
    ) -> None:
        with pytest.raises(InvalidInput) as raised:
            _return(**changes)

        assert field == raised.value.field


class TestOtherEvents:
    def test_a_visit_keeps_its_location(self) -> None:
        visit = Visit(id="v-1", customer_id="c-1", at=T0, location="Main St")

        assert ("Main St", None) == (
            visit.location,
            Visit(id="v-2", customer_id="c-1", at=T0).location,
        )

    def test_a_signup_keeps_its_channel(self) -> None:
        assert "app" == Signup(id="s-1", customer_id="c-1", at=T0, channel="app").channel

    def test_a_custom_event_reads_its_attributes_by_name(self) -> None:
        event = CustomEvent(
            id="e-1", customer_id="c-1", at=T0, name="review_posted", attributes={"stars": 5}
        )

        assert (5, FrozenMap) == (event["stars"], type(event.attributes))

    def test_a_custom_event_without_attributes_has_an_empty_map(self) -> None:
        event = CustomEvent(id="e-1", customer_id="c-1", at=T0, name="opened_app")

        assert {} == event.attributes

    @pytest.mark.parametrize(
        ("build", "field"),
        [
            (lambda: Visit(id="", customer_id="c-1", at=T0), "id"),
            (lambda: Visit(id="v-1", customer_id="c-1", at=NAIVE), "at"),
            (lambda: Visit(id="v-1", customer_id="c-1", at=T0, location=1), "location"),
            (lambda: Signup(id="s-1", customer_id="", at=T0), "customer_id"),
            (lambda: Signup(id="s-1", customer_id="c-1", at=NAIVE), "at"),
            (lambda: CustomEvent(id="e-1", customer_id="c-1", at=T0, name=""), "name"),
            (
                lambda: CustomEvent(
                    id="e-1", customer_id="c-1", at=T0, name="x", attributes={"score": 4.5}
                ),
                "attributes['score']",
            ),
            (
                lambda: CustomEvent(
                    id="e-1", customer_id="c-1", at=T0, name="x", attributes={"s": Decimal("Inf")}
                ),
                "attributes['s']",
            ),
            (
                lambda: CustomEvent(
                    id="e-1", customer_id="c-1", at=T0, name="x", attributes={"s": [1]}
                ),
                "attributes['s']",
            ),
        ],
        ids=[
            "visit-empty-id",
            "visit-naive",
            "visit-location-not-text",
            "signup-empty-customer",
            "signup-naive",
            "custom-empty-name",
            "custom-float-attribute",
            "custom-infinite-attribute",
            "custom-list-attribute",
        ],
    )
    def test_bad_events_are_rejected_by_field(self, build: object, field: str) -> None:
        with pytest.raises(InvalidInput) as raised:
            build()  # type: ignore[operator]

        assert field == raised.value.field

    def test_events_are_frozen(self) -> None:
        event = CustomEvent(id="e-1", customer_id="c-1", at=T0, name="x", attributes={"a": 1})

        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            event.name = "y"  # type: ignore[misc]
        with pytest.raises(TypeError):
            event.attributes["a"] = 2  # type: ignore[index]
