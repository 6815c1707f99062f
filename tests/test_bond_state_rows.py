"""What the social, customization and structural bonds hold, as rows: a customer's Held
(the extras row's sixth later section), SetHeld effects, and the bonds' events and
commands all come back equal, directly and through the JSON codec."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import attrs
import pytest
from dateutil import tz
from hypothesis import given, settings
from hypothesis import strategies as st

from custbond import (
    Balance,
    Customer,
    CustomerState,
    Entry,
    EntryKind,
    LineItem,
    Preferences,
)
from custbond._frozen import FrozenMap
from custbond.activity import Activity
from custbond.bonds.customization import SavedCart, Wish
from custbond.bonds.held import PARTS, Held
from custbond.bonds.occasions import Occasion
from custbond.bonds.rhythm import Rhythm
from custbond.bonds.sequences import Enrollment
from custbond.bonds.social import MembersEvent
from custbond.bonds.structure import Integration
from custbond.bonds.subscriptions import Plan, advance, cancel, pause, skip, subscribe
from custbond.commands import (
    AddOccasion,
    AddWish,
    CancelSubscription,
    DropCart,
    Invite,
    PauseSubscription,
    RemoveWish,
    ResumeSubscription,
    SaveCart,
    SetPreferences,
    SkipDelivery,
    Subscribe,
)
from custbond.effects import AddTag, EarnPoints, SetHeld
from custbond.events import EventAttended, IntegrationAdopted, IntegrationDropped, OfferAccepted
from custbond.ledger import Ledger
from custbond.messaging.consent import Consent, consent_key
from custbond.outcome import Outcome
from custbond.storage import _codec as codec
from custbond.storage import _rows as rows
from custbond.testing.strategies import helds

T0 = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)
KATHMANDU = tz.gettz("Asia/Kathmandu")
ADA = Customer("ada", name="Ada", time_zone="Europe/London", tags={"oat"})
BOX = Plan(name="pie box", every="FREQ=MONTHLY;BYMONTHDAY=-1;BYHOUR=9", price=Decimal("25.00"))
CLUB = Plan(name="wine club", every="FREQ=WEEKLY;INTERVAL=2;BYDAY=TH;BYHOUR=18")
CROISSANTS = (
    LineItem("croissant", 2, Decimal("2.50"), tags={"bakery", "vegan"}),
    LineItem("flat-white", 1, Decimal("3.80")),
)
PREFERENCES = Preferences(
    favourites={"cherry-pie"},
    restrictions={"gluten-free", "nut-free"},
    interests={"baking"},
    industry="bakery",
)
EVENT = MembersEvent(
    id="tasting-1",
    name="Pie tasting night",
    at=datetime(2026, 12, 3, 18, tzinfo=KATHMANDU),
    tiers={"gold"},
    tags={"vip"},
)


def _subscriptions() -> dict[str, Any]:
    """A box paused for a while with a delivery skipped after two passed, and a club
    cancelled for a reason, in zones away from UTC."""
    box = subscribe(BOX, at=T0, zone="Europe/Paris")
    box, _ = advance(box, BOX, now=T0 + timedelta(days=62))
    box = skip(box, BOX, on=date(2026, 6, 30))
    box = pause(box, BOX, at=T0 + timedelta(days=62), until=T0 + timedelta(days=70))
    club = subscribe(CLUB, at=T0, zone="Asia/Kathmandu")
    club = cancel(club, at=T0 + timedelta(days=3), reason="moving away")
    return {BOX.name: box, CLUB.name: club}


def _full_held() -> Held:
    """Every part of Held set, the optional fields of every item too."""
    parts: dict[str, dict[str, Any]] = {
        "rhythms": {"beans": Rhythm("beans", 5, (T0, T0 + timedelta(days=14)))},
        "offers": {"gf-cherry": T0},
        "wishes": {"mug": Wish(sku="mug", added_at=T0, note="the blue one")},
        "carts": {
            "cart-1": SavedCart(
                id="cart-1",
                items=CROISSANTS,
                saved_at=T0,
                expires_at=T0 + timedelta(days=90),
                reminded=True,
            )
        },
        "subscriptions": _subscriptions(),
        "sequences": {
            "onboarding": Enrollment(
                sequence="onboarding",
                entered_at=T0,
                sent=2,
                left_at=T0 + timedelta(days=4),
                left_because="Purchase",
            )
        },
        "integrations": {
            "portal": Integration(name="portal", adopted_at=T0, dropped_at=T0 + timedelta(days=30))
        },
        "occasions": {
            "wedding anniversary": Occasion(name="wedding anniversary", month=2, day=29, year=2016)
        },
        "invited": {EVENT.id: EVENT.at},
        "attended": {EVENT.id: datetime(2026, 12, 3, 18, 20, tzinfo=KATHMANDU)},
        "marked": {"tenth-order": T0},
        "leavings": {"newsletter": ((T0, "Purchase o-1"),)},
    }
    held = Held().with_item("preferences", "", PREFERENCES)
    for part, items in parts.items():
        for key, value in items.items():
            held = held.with_item(part, key, value)
    return held


FULL = _full_held()


def _round_trip(state: CustomerState) -> tuple[CustomerState, CustomerState]:
    """``state`` read back from its extras row, and from the row through JSON."""
    row = rows.extras_row(state)
    direct = CustomerState(state.customer, state.ledger, *rows.extras_from_row(row))
    text = codec.dumps(row)
    through_json = rows.extras_from_row(None if text is None else codec.loads(text))
    return direct, CustomerState(state.customer, state.ledger, *through_json)


def _without_held(row: rows.Row) -> rows.Row:
    """``row`` (an extras row with every section) as a release before Held wrote it: the
    head, twelve sections, then the rules' firings."""
    at = 12
    for _ in range(12):
        at += 1 + row[at]
    assert 1 == row[at], "the held section holds one value"
    return (*row[:at], *row[at + 2 :])


class TestTheFullHeld:
    def test_every_part_is_set(self) -> None:
        unset = [
            field.name
            for field in attrs.fields(Held)
            if getattr(FULL, field.name) == field.default.factory()  # type: ignore[union-attr]
        ]

        assert [] == unset
        assert set(PARTS) | {"preferences"} == {field.name for field in attrs.fields(Held)}

    def test_its_subscriptions_are_paused_skipped_and_cancelled(self) -> None:
        box, club = FULL.subscriptions[BOX.name], FULL.subscriptions[CLUB.name]

        assert ("paused", 2, 1) == (box.status.value, box.occurrences, len(box.skipped))
        assert ("cancelled", "moving away") == (club.status.value, club.cancel_reason)


class TestHeldInTheExtrasRow:
    @pytest.mark.parametrize(
        "state",
        [
            CustomerState(ADA, held=FULL),
            CustomerState(ADA, held=Held().with_item("preferences", "", PREFERENCES)),
            CustomerState(ADA, held=Held().with_item("offers", "gf-cherry", T0)),
            CustomerState(
                ADA,
                activity=Activity(2, Decimal("9.00"), 1, T0, T0, T0),
                tier="gold",
                rule_uses=FrozenMap({"double": (T0, T0 + timedelta(days=1)), "once": (T0,)}),
                stamps=FrozenMap({"coffee": 3}),
                schedule=FrozenMap({"expiring": T0}),
                owner="Lena",
                last_contact_at=T0,
                held=FULL,
            ),
        ],
        ids=["everything held", "preferences alone", "one offer", "beside the rest"],
    )
    def test_a_state_with_held_comes_back_equal(self, state: CustomerState) -> None:
        assert (state, state) == _round_trip(state)

    @settings(max_examples=60)
    @given(helds(), st.booleans())
    def test_any_held_comes_back_equal(self, held: Held, with_rules: bool) -> None:
        uses = FrozenMap({"double": (T0,)}) if with_rules else FrozenMap({})
        state = CustomerState(ADA, held=held, rule_uses=uses)

        assert (state, state) == _round_trip(state)

    def test_an_empty_held_adds_nothing_to_the_row(self) -> None:
        state = CustomerState(ADA, tier="gold")

        assert rows.extras_row(state) == rows.extras_row(attrs.evolve(state, held=Held()))
        assert rows.extras_row(CustomerState(ADA)) is None

    def test_a_row_written_before_held_reads_with_nothing_held(self) -> None:
        consent = Consent(channel="email", kind="marketing", granted=True, at=T0, source="form")
        state = CustomerState(
            ADA,
            stamps=FrozenMap({"coffee": 3}),
            rule_uses=FrozenMap({"double": (T0, T0 + timedelta(days=1))}),
            consents=FrozenMap({consent_key("email", "marketing"): consent}),
            owner="Lena",
            last_contact_at=T0,
            held=FULL,
        )
        row = rows.extras_row(state)
        assert row is not None

        older = _without_held(row)

        assert 2 == len(row) - len(older)
        read = CustomerState(ADA, Ledger(), *rows.extras_from_row(older))
        assert attrs.evolve(state, held=Held()) == read
        text = codec.dumps(older)
        assert text is not None
        through_json = CustomerState(ADA, Ledger(), *rows.extras_from_row(codec.loads(text)))
        assert attrs.evolve(state, held=Held()) == through_json

    def test_a_row_written_before_held_without_rules_reads_with_nothing_held(self) -> None:
        state = CustomerState(ADA, owner="Lena", held=FULL)
        row = rows.extras_row(state)
        assert row is not None

        read = CustomerState(ADA, Ledger(), *rows.extras_from_row(_without_held(row)))

        assert attrs.evolve(state, held=Held()) == read


def _set_held_effects(held: Held) -> list[SetHeld]:
    """A SetHeld for every item of ``held``, one that drops it, and its preferences."""
    effects = [SetHeld("preferences", "", held.preferences)]
    for part in PARTS:
        for key, value in getattr(held, part).items():
            effects.extend((SetHeld(part, key, value), SetHeld(part, key, None)))
    return effects


SET_HELD = _set_held_effects(FULL)
BALANCE = Balance(25, 10, 5, T0 + timedelta(days=365), 25, 40, 15, 0, 0, 0)


class TestSetHeldEffects:
    @pytest.mark.parametrize(
        "effect", SET_HELD, ids=lambda effect: f"{effect.part}-{effect.value is not None}"
    )
    def test_a_set_held_comes_back_equal(self, effect: SetHeld) -> None:
        row = rows.effect_row(effect)

        assert effect == rows.effect_from_row(row)
        assert effect == rows.effect_from_row(codec.loads(codec.dumps(row)))

    def test_set_helds_laid_end_to_end_among_others_come_back_equal(self) -> None:
        effects = [AddTag("vip"), *SET_HELD, EarnPoints(40, "o-1", T0, T0, None), AddTag("x")]
        row = rows.effects_row(effects)

        assert tuple(effects) == rows.effects_from_row(row)
        assert tuple(effects) == rows.effects_from_row(codec.loads(codec.dumps(row)))

    def test_an_outcome_of_set_helds_comes_back_equal(self) -> None:
        entry = Entry(1, EntryKind.EARNED, T0, 40, "o-1", "earned", pending=40)
        outcome = Outcome("ada", "k-1", T0, tuple(SET_HELD), ("held",), (entry,), BALANCE)
        statement = [rows.entry_row(entry)]

        row = rows.outcome_row(outcome)

        assert outcome == rows.outcome_from_row(row, statement)
        assert outcome == rows.outcome_from_row(codec.loads(codec.dumps(row)), statement)

    @settings(max_examples=40)
    @given(helds(max_items=1))
    def test_set_helds_of_any_held_come_back_equal(self, held: Held) -> None:
        effects = tuple(_set_held_effects(held))
        outcome = Outcome("ada", "k-1", T0, effects, (), (), BALANCE)

        row = rows.outcome_row(outcome)

        assert outcome == rows.outcome_from_row(codec.loads(codec.dumps(row)), [])


INPUTS = [
    SetPreferences(key="p-1", customer_id="ada", preferences=PREFERENCES),
    SetPreferences(key="p-2", customer_id="ada", preferences=Preferences()),
    AddWish(key="w-1", customer_id="ada", sku="mug"),
    AddWish(key="w-2", customer_id="ada", sku="mug", note="the blue one"),
    RemoveWish(key="w-3", customer_id="ada", sku="mug"),
    SaveCart(key="c-1", customer_id="ada", cart_id="cart-1", items=CROISSANTS),
    DropCart(key="c-2", customer_id="ada", cart_id="cart-1"),
    Subscribe(key="s-1", customer_id="ada", plan="pie box"),
    PauseSubscription(key="s-2", customer_id="ada", plan="pie box"),
    PauseSubscription(
        key="s-3", customer_id="ada", plan="pie box", until=datetime(2026, 5, 1, tzinfo=KATHMANDU)
    ),
    SkipDelivery(key="s-4", customer_id="ada", plan="pie box", on=date(2026, 3, 31)),
    ResumeSubscription(key="s-5", customer_id="ada", plan="pie box"),
    CancelSubscription(key="s-6", customer_id="ada", plan="pie box"),
    CancelSubscription(key="s-7", customer_id="ada", plan="pie box", reason="moving away"),
    AddOccasion(
        key="o-1",
        customer_id="ada",
        occasion=Occasion(name="wedding anniversary", month=6, day=14, year=2016),
    ),
    AddOccasion(
        key="o-2", customer_id="ada", occasion=Occasion(name="first visit", month=2, day=29)
    ),
    Invite(event=EVENT, customer_id="ada"),
    Invite(
        event=MembersEvent(id="day-1", name="Customer day", at=T0 + timedelta(days=30)),
        customer_id="ada",
    ),
    OfferAccepted(id="acc-1", customer_id="ada", at=T0, offer="gf-cherry"),
    IntegrationAdopted(id="ia-1", customer_id="ada", at=T0, integration="portal"),
    IntegrationDropped(id="id-1", customer_id="ada", at=T0, integration="portal"),
    EventAttended(id="att-1", customer_id="ada", at=EVENT.at, event=EVENT.id),
]


class TestTheBondsInputs:
    @pytest.mark.parametrize("item", INPUTS, ids=lambda item: type(item).__name__)
    def test_every_event_and_command_comes_back_equal(self, item: object) -> None:
        assert item == rows.value_from_row(rows.value_row(item))

    @pytest.mark.parametrize("item", INPUTS, ids=lambda item: type(item).__name__)
    def test_every_event_and_command_comes_back_equal_through_json(self, item: object) -> None:
        assert item == rows.value_from_row(codec.loads(codec.dumps(rows.value_row(item))))

    def test_every_new_kind_of_input_is_here(self) -> None:
        kinds = {type(item).__name__ for item in INPUTS}

        assert {
            "SetPreferences",
            "AddWish",
            "RemoveWish",
            "SaveCart",
            "DropCart",
            "Subscribe",
            "PauseSubscription",
            "SkipDelivery",
            "ResumeSubscription",
            "CancelSubscription",
            "AddOccasion",
            "Invite",
            "OfferAccepted",
            "IntegrationAdopted",
            "IntegrationDropped",
            "EventAttended",
        } == kinds

    def test_a_log_row_of_a_command_with_held_effects_comes_back_equal(self) -> None:
        item = SaveCart(key="c-1", customer_id="ada", cart_id="cart-1", items=CROISSANTS)
        outcome = Outcome("ada", "c-1", T0, tuple(SET_HELD[:3]), ("saved",), (), BALANCE)

        row = rows.log_row(7, item.log_key, item, T0, outcome)

        expected = (7, item.log_key, item, T0, outcome)
        assert expected == rows.log_from_row(row, [])
        assert expected == rows.log_from_row(codec.loads(codec.dumps(row)), [])
