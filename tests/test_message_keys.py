"""Message keys made of parts (message_key, automatic_key) are one key per tuple of parts,
whatever the parts hold, and erasure takes a customer's id out of them in every form."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from custbond import (
    CustomizationPolicy,
    FixedClock,
    LineItem,
    Program,
    RetentionService,
)
from custbond.messaging.message import automatic_key, message_key
from custbond.storage.ports import Store
from stores import STORES

PARTS = st.lists(st.text(alphabet="a3A:%", max_size=6), min_size=1, max_size=4)
MONDAY = datetime(2026, 3, 2, 9, tzinfo=UTC)
PIE = LineItem(sku="pie", quantity=1, unit_price=Decimal("24.00"))


def _parts_of(key: str) -> list[str]:
    return [part.replace("%3A", ":").replace("%25", "%") for part in key.split(":")]


@given(PARTS)
def test_a_key_gives_back_the_parts_it_was_made_of(parts: list[str]) -> None:
    # Read back to the same parts, two different tuples of parts cannot share a key.
    assert _parts_of(message_key(*parts)) == parts
    assert _parts_of(automatic_key(*parts)) == ["custbond", *parts]


def test_a_colon_inside_a_part_is_escaped_and_plain_parts_are_as_they_were() -> None:
    assert message_key("a:b", "c") == "a%3Ab:c"
    assert message_key("a", "b:c") == "a:b%3Ac"
    assert message_key("100%", "off") == "100%25:off"
    assert automatic_key("o-1", "thank_you") == "custbond:o-1:thank_you"


def _shop(store: Store) -> tuple[RetentionService, FixedClock]:
    clock = FixedClock(MONDAY)
    program = Program(
        currency="USD",
        customization=CustomizationPolicy(
            cart_window=timedelta(days=10), remind_cart_before=timedelta(days=2)
        ),
    )
    return RetentionService(program, store, clock), clock


@pytest.mark.parametrize("make_store", STORES)
def test_two_customers_whose_ids_and_carts_split_alike_each_get_their_reminder(
    make_store: Callable[[], Store],
) -> None:
    service, clock = _shop(make_store())
    for customer_id in ("a:b", "a"):
        service.set_consent(customer_id, "email", granted=True, source="form", key=customer_id)
    # Joined with bare colons, both reminders' keys were custbond:cart:a:b:c:<stamp>, and
    # the second took the first's place: customer "a" was never reminded.
    service.save_cart("a:b", "c", [PIE], key="save-1")
    service.save_cart("a", "b:c", [PIE], key="save-2")
    clock.advance(timedelta(days=8))
    service.run_due()
    reminded = sorted(
        item.message.customer_id
        for item in service.outbox()
        if item.message.template == "saved_cart"
    )
    assert reminded == ["a", "a:b"]


@pytest.mark.parametrize("make_store", STORES)
def test_erasure_takes_an_id_with_a_colon_out_of_every_message_key(
    make_store: Callable[[], Store],
) -> None:
    service, clock = _shop(make_store())
    service.set_consent("shop:7", "email", granted=True, source="form", key="consent")
    service.save_cart("shop:7", "basket", [PIE], key="save")
    clock.advance(timedelta(days=8))
    service.run_due()
    (before,) = [item.key for item in service.outbox()]
    assert "shop%3A7" in before

    service.forget("shop:7")

    (after,) = [item.key for item in service.outbox()]
    assert "shop" not in after
    assert after.startswith("custbond:cart:erased-")
