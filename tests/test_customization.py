"""The customization bond, built on the seed's pie shop (Sedona Pies: order your
favourites, with nuts or fruit or chocolate, or gluten-free if you wish).

Maya cannot eat gluten and loves the cherry pie. The shop knows it: it never offers her
the pecan pie (made with wheat flour), it reminds her when she usually runs out of pie,
keeps her saved cart for 90 days (reminding her a week before it lets it go) and takes
the gluten-free carrot cake off her wish list when she buys it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from custbond import (
    Content,
    CustomizationPolicy,
    FixedClock,
    InvalidInput,
    LineItem,
    MemoryStore,
    NextNeedPolicy,
    NotFound,
    OfferAccepted,
    Preferences,
    Program,
    Purchase,
    RetentionService,
)
from custbond.storage.ports import Store
from stores import STORES

JAN_5 = datetime(2026, 1, 5, 10, tzinfo=UTC)
CHERRY = LineItem(sku="cherry-pie", quantity=1, unit_price=Decimal("24.00"), tags={"pie"})
GF_CHERRY = LineItem(sku="gf-cherry-pie", quantity=1, unit_price=Decimal("27.00"), tags={"pie"})
CARROT = LineItem(sku="gf-carrot-cake", quantity=1, unit_price=Decimal("18.00"), tags={"cake"})
PIE_SHOP = CustomizationPolicy(
    contents=[
        Content(
            id="pecan",
            title="Pecan pie",
            kind="offer",
            skus={"pecan"},
            unsuitable_for={"gluten-free"},
        ),
        Content(id="gf-cherry", title="Gluten-free cherry pie", kind="offer", skus={"cherry-pie"}),
        Content(id="gf-news", title="Baking without wheat", interests={"baking"}),
    ],
    next_need=NextNeedPolicy(tags=frozenset({"pie"}), skus=frozenset()),
    remind_cart_before=timedelta(days=7),
)


class PieShop:
    def __init__(self, store: Store | None = None) -> None:
        self.clock = FixedClock(JAN_5)
        self.service = RetentionService(
            Program(currency="USD", customization=PIE_SHOP), store or MemoryStore(), self.clock
        )
        self.service.set_consent("maya", "email", granted=True, source="order form", key="c-1")

    def at(self, moment: datetime) -> RetentionService:
        self.clock.set(moment)
        return self.service

    def buy(self, order: str, at: datetime, *items: LineItem) -> None:
        amount = sum((item.unit_price * item.quantity for item in items), Decimal(0))
        self.at(at).record(
            Purchase(
                id=order, customer_id="maya", at=at, amount=amount, currency="USD", items=items
            )
        )


@pytest.fixture(params=STORES)
def shop(request: pytest.FixtureRequest) -> PieShop:
    make_store: Callable[[], Store] = request.param
    return PieShop(make_store())


def test_the_pie_shop_chooses_by_preference_and_never_offers_what_she_cannot_eat(
    shop: PieShop,
) -> None:
    service = shop.service
    maya = Preferences(
        favourites={"cherry-pie"}, restrictions={"gluten-free"}, interests={"baking"}
    )
    service.set_preferences("maya", maya, key="prefs-1")
    assert service.preferences("maya") == maya
    offers = service.choose_for("maya", kind="offer")
    assert [choice.content.id for choice in offers] == ["gf-cherry"]
    assert offers[0].reasons == ("a favourite: cherry-pie",)
    everything = [choice.content.id for choice in service.choose_for("maya", limit=5)]
    assert "pecan" not in everything
    assert everything == ["gf-cherry", "gf-news"]  # 3 for a favourite, then 2 for interest
    service.record(OfferAccepted(id="acc-1", customer_id="maya", at=JAN_5, offer="gf-cherry"))
    assert service.bond_profile("maya").customization.score > 0


def test_her_next_pie_is_predicted_from_her_own_rhythm_and_reminded_in_time(
    shop: PieShop,
) -> None:
    for week in range(4):  # a pie every two weeks
        shop.buy(f"o-{week}", JAN_5 + timedelta(weeks=2 * week), CHERRY)
    (need,) = shop.service.next_needs("maya")
    last = JAN_5 + timedelta(weeks=6)
    assert (need.sku, need.interval, need.expected_at) == (
        "cherry-pie",
        timedelta(weeks=2),
        last + timedelta(weeks=2),
    )
    before = last + timedelta(weeks=2) - timedelta(days=2)  # remind_before: 2 days
    assert shop.at(before - timedelta(seconds=1)).run_due() == []
    shop.at(before).run_due()
    outbox = shop.service.outbox(customer_id="maya")
    (reminder,) = [m for m in outbox if m.message.template == "next_need"]
    assert reminder.message.context["sku"] == "cherry-pie"
    shop.at(before + timedelta(hours=1)).run_due()  # not twice
    assert len([m for m in shop.service.outbox() if m.message.template == "next_need"]) == 1


def test_a_saved_cart_is_kept_for_exactly_ninety_days_with_a_reminder_a_week_before(
    shop: PieShop,
) -> None:
    service = shop.service
    service.save_cart("maya", "birthday-order", [GF_CHERRY, CARROT], key="cart-1")
    end = JAN_5 + timedelta(days=90)
    shop.at(end - timedelta(days=7)).run_due()
    (reminder,) = [m for m in service.outbox() if m.message.template == "saved_cart"]
    assert reminder.message.context["items"] == "gf-cherry-pie, gf-carrot-cake"
    just_before = end - timedelta(microseconds=1)
    assert [cart.id for cart in shop.at(just_before).saved_carts("maya")] == ["birthday-order"]
    shop.at(just_before).run_due()
    assert shop.service.saved_carts("maya")
    assert shop.at(end).saved_carts("maya") == ()  # gone at the window, due run or not
    outcomes = shop.at(end).run_due()
    assert any("dropped" in step.text for outcome in outcomes for step in outcome.trace)
    assert shop.service.bond_profile("maya").customization.score == 0  # nothing held now
    assert len([m for m in service.outbox() if m.message.template == "saved_cart"]) == 1


def test_a_cart_dropped_after_its_reminder_was_queued_is_never_reminded_of(
    shop: PieShop,
) -> None:
    service = shop.service
    service.save_cart("maya", "birthday-order", [GF_CHERRY, CARROT], key="cart-1")
    shop.at(JAN_5 + timedelta(days=83)).run_due()  # the reminder waits in the outbox

    service.drop_cart("maya", "birthday-order", key="drop-1")  # bought at the till

    (reminder,) = [m for m in service.outbox() if m.message.template == "saved_cart"]
    assert (reminder.status.value, reminder.reason) == (
        "suppressed",
        "saved cart birthday-order dropped",
    )


def test_buying_what_is_on_the_wish_list_takes_it_off(shop: PieShop) -> None:
    service = shop.service
    service.add_wish("maya", "gf-carrot-cake", key="w-1", note="for mum's birthday")
    service.add_wish("maya", "gf-cherry-pie", key="w-2")
    assert [wish.sku for wish in service.wish_list("maya")] == ["gf-carrot-cake", "gf-cherry-pie"]
    shop.buy("o-1", JAN_5 + timedelta(days=1), CARROT)
    assert [wish.sku for wish in service.wish_list("maya")] == ["gf-cherry-pie"]
    service.remove_wish("maya", "gf-cherry-pie", key="w-3")
    assert service.wish_list("maya") == ()
    service.remove_wish("maya", "gf-cherry-pie", key="w-3")  # the same key again: a no-op


def test_cross_sell_comes_from_baskets_across_customers_as_counted_by_hand() -> None:
    shop = PieShop()
    cream = LineItem(sku="cream", quantity=1, unit_price=Decimal("3.00"))
    coffee = LineItem(sku="coffee", quantity=1, unit_price=Decimal("2.50"))
    baskets = {
        "ann": [CHERRY, cream],
        "bo": [CHERRY, cream, coffee],
        "cy": [CHERRY, coffee],
        "di": [CHERRY, cream],
        "ed": [coffee],
    }
    for number, (customer, items) in enumerate(baskets.items()):
        amount = sum((item.unit_price for item in items), Decimal(0))
        shop.service.record(
            Purchase(
                id=f"b-{number}",
                customer_id=customer,
                at=JAN_5,
                amount=amount,
                currency="USD",
                items=tuple(items),
            )
        )
    index = shop.service.basket_index()
    # cherry pie is in 4 baskets: with cream in 3 of them, with coffee in 2.
    suggestions = index.cross_sell(["cherry-pie"])
    assert [(s.sku, s.together) for s in suggestions] == [("cream", 3), ("coffee", 2)]
    assert suggestions[0].confidence == Decimal(3) / 4
    shop.buy("o-1", JAN_5, CHERRY)
    assert [s.sku for s in shop.service.suggestions_for("maya", index)] == ["cream", "coffee"]


def test_bad_customization_input_is_refused_and_changes_nothing() -> None:
    shop = PieShop()
    with pytest.raises(InvalidInput):
        shop.service.save_cart("maya", "empty", [], key="cart-x")
    with pytest.raises(InvalidInput):
        Preferences(restrictions="gluten-free")  # a lone string, not a set of words
    with pytest.raises(InvalidInput):
        CustomizationPolicy(remind_cart_before=timedelta(days=90))
    with pytest.raises(NotFound):
        shop.service.remove_wish("nobody", "x", key="w-x")
    assert shop.service.saved_carts("maya") == ()


def test_cross_sell_never_suggests_what_her_restrictions_rule_out() -> None:
    shop = PieShop()
    pecan = LineItem(sku="pecan", quantity=1, unit_price=Decimal("26.00"))
    cream = LineItem(sku="cream", quantity=1, unit_price=Decimal("3.00"))
    for number, items in enumerate([(CHERRY, pecan), (CHERRY, pecan), (CHERRY, cream)]):
        amount = sum((item.unit_price for item in items), Decimal(0))
        shop.service.record(
            Purchase(
                id=f"b-{number}",
                customer_id=f"other-{number}",
                at=JAN_5,
                amount=amount,
                currency="USD",
                items=items,
            )
        )
    index = shop.service.basket_index()
    assert [s.sku for s in index.cross_sell(["cherry-pie"])] == ["pecan", "cream"]
    shop.service.set_preferences(
        "maya", Preferences(favourites={"cherry-pie"}, restrictions={"gluten-free"}), key="p"
    )
    assert [s.sku for s in shop.service.suggestions_for("maya", index)] == ["cream"]
