"""The customization bond at work, in the pure core: preferences set, wishes added and
fulfilled, carts saved and dropped at the end of their window, buying rhythms noted
and the next need reminded. Each function returns ``(effects, lines)``;
:class:`~custbond.Program` calls them.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import TYPE_CHECKING

import attrs

from custbond.bonds.customization import CustomizationPolicy, SavedCart, Wish
from custbond.bonds.rhythm import need_key
from custbond.commands import AddWish, DropCart, RemoveWish, SaveCart, SetPreferences
from custbond.effects import CancelMessage, Effect, QueueMessage, SetHeld, SetSchedule
from custbond.events import OfferAccepted, Purchase
from custbond.messaging.message import automatic_key, key_stamp
from custbond.rules.facts import zone_of

if TYPE_CHECKING:
    from custbond.program import CustomerState

__all__ = ["CART", "NEED", "change", "due", "on_purchase"]

# Names in the customer's schedule: "cart:<cart id>", "need:<sku>".
CART = "cart:"
NEED = "need:"

Lines = list[str]
Effects = list[Effect]


def change(
    policy: CustomizationPolicy,
    state: CustomerState,
    item: SetPreferences | AddWish | RemoveWish | SaveCart | DropCart | OfferAccepted,
    now: datetime,
) -> tuple[Effects, Lines]:
    """What a customer's own choice changes: their preferences, wish list, carts, or
    an offer they accepted."""
    held = state.held
    if isinstance(item, SetPreferences):
        preferences: Effects = [SetHeld("preferences", "", item.preferences)]
        return preferences, [f"preferences: {item.preferences.describe()}"]
    if isinstance(item, AddWish):
        wish = Wish(sku=item.sku, added_at=now, note=item.note)
        return [SetHeld("wishes", item.sku, wish)], [f"{item.sku} added to the wish list"]
    if isinstance(item, RemoveWish):
        if item.sku not in held.wishes:
            return [], [f"nothing to do: {item.sku} is not on the wish list"]
        return [SetHeld("wishes", item.sku, None)], [f"{item.sku} taken off the wish list"]
    if isinstance(item, OfferAccepted):
        return [SetHeld("offers", item.offer, item.at)], [f"personalised offer {item.offer} taken"]
    if isinstance(item, DropCart):
        gone = held.carts.get(item.cart_id)
        if gone is None:
            return [], [f"nothing to do: no saved cart {item.cart_id}"]
        dropped: Effects = [
            SetHeld("carts", item.cart_id, None),
            SetSchedule(CART + item.cart_id, None),
        ]
        if gone.reminded:  # its reminder may wait in the outbox: never about a gone cart
            why = f"saved cart {item.cart_id} dropped"
            dropped.append(CancelMessage(_cart_key(state, gone), why))
        return dropped, [f"saved cart {item.cart_id} dropped"]
    cart = SavedCart(
        id=item.cart_id, items=item.items, saved_at=now, expires_at=policy.cart_expires_at(now)
    )
    remind = policy.cart_reminder_at(cart)
    wake = remind if remind is not None and remind > now else cart.expires_at
    lines = [f"cart {cart.id} saved until {cart.expires_at.isoformat()}"]
    return [SetHeld("carts", cart.id, cart), SetSchedule(CART + cart.id, wake)], lines


def on_purchase(
    policy: CustomizationPolicy,
    state: CustomerState,
    purchase: Purchase,
    now: datetime,
    *,
    zone: tzinfo | None = None,
) -> tuple[Effects, Lines]:
    """A purchase: the wishes it fulfils, and the buying rhythms it adds to (with the
    next-need reminder each one now expects, and the one it no longer expects withdrawn).
    ``zone`` is the customer's time zone, as for :func:`due`."""
    if zone is None:
        zone = zone_of(state, "UTC")
    held = state.held
    effects: Effects = []
    lines: Lines = []
    for sku in sorted({item.sku for item in purchase.items} & set(held.wishes)):
        # A purchase loaded late may predate the wish: what she bought before wishing
        # for it is not what she still wishes for.
        if purchase.at < held.wishes[sku].added_at:
            lines.append(f"wish kept: {sku}, bought before it was wished for")
            continue
        effects.append(SetHeld("wishes", sku, None))
        lines.append(f"wish fulfilled: {sku}")
    need = policy.next_need
    if need is None:
        return effects, lines
    before = held.rhythms
    after = need.note(before, purchase)
    for sku in sorted(set(before) - set(after)):  # fell out of the products kept
        effects.extend((SetHeld("rhythms", sku, None), SetSchedule(NEED + sku, None)))
    for sku in sorted(after):
        rhythm = after[sku]
        if before.get(sku) == rhythm:
            continue
        effects.append(SetHeld("rhythms", sku, rhythm))
        if policy.need_reminder is None:
            continue
        prediction = need.predict(rhythm, zone=zone)
        earlier = need.predict(before[sku], zone=zone) if sku in before else None
        if earlier is not None and (prediction is None or prediction.last_at != earlier.last_at):
            # Bought again: the reminder of the need this purchase met may wait in the
            # outbox (queued, not sent yet), and must not go out now.
            why = f"{sku} bought again: the need expected {earlier.expected_at.date()} is met"
            effects.append(CancelMessage(need_key(state.id, earlier), why))
        if prediction is None or prediction == earlier:  # the reminder planned stands
            continue
        remind = max(need.remind_at(prediction), now)
        if prediction.latest < now:  # an old purchase loaded late: nothing to remind
            continue
        effects.append(SetSchedule(NEED + sku, remind))
        lines.append(f"{prediction.describe()}; reminder from {remind.isoformat()}")
    return effects, lines


def due(
    policy: CustomizationPolicy,
    state: CustomerState,
    now: datetime,
    *,
    zone: tzinfo | None = None,
) -> tuple[Effects, Lines]:
    """Carts whose reminder is due or whose window has ended, and next-need reminders
    whose time has come. The dates the reminders show are on the calendar of ``zone``:
    the customer's, or the program's for a customer without one (None: the customer's,
    or UTC for a customer without one)."""
    if zone is None:
        zone = zone_of(state, "UTC")
    effects: Effects = []
    lines: Lines = []
    for name, at in sorted(state.schedule.items()):
        if at > now:
            continue
        if name.startswith(CART):
            more, why = _cart_due(policy, state, name, now, zone)
        elif name.startswith(NEED):
            more, why = _need_due(policy, state, name, now, zone)
        else:
            continue
        effects.extend(more)
        lines.extend(why)
    return effects, lines


def _local_date(moment: datetime, zone: tzinfo) -> str:
    """The date of ``moment`` on the customer's calendar, as a message shows it: a cart
    kept until 12:00 UTC on 5 April is kept until 6 April in Auckland."""
    return moment.astimezone(zone).date().isoformat()


def _cart_key(state: CustomerState, cart: SavedCart) -> str:
    """The key of the reminder of ``cart``."""
    return automatic_key("cart", state.id, cart.id, key_stamp(cart.saved_at))


def _cart_due(
    policy: CustomizationPolicy, state: CustomerState, name: str, now: datetime, zone: tzinfo
) -> tuple[Effects, Lines]:
    effects: Effects = []
    lines: Lines = []
    cart_id = name.removeprefix(CART)
    cart = state.held.carts.get(cart_id)
    if cart is None:
        return [SetSchedule(name, None)], []
    if not cart.is_kept(now):
        dropped = f"saved cart {cart_id} dropped: its window ended {cart.expires_at}"
        return [SetHeld("carts", cart_id, None), SetSchedule(name, None)], [dropped]
    send = policy.cart_reminder
    if not cart.reminded and send is not None:
        key = _cart_key(state, cart)
        context = {
            "cart": cart_id,
            "items": ", ".join(item.sku for item in cart.items),
            "until": _local_date(cart.expires_at, zone),
        }
        effects.append(QueueMessage.of(send, key, context, not_after=cart.expires_at))
        effects.append(SetHeld("carts", cart_id, attrs.evolve(cart, reminded=True)))
        lines.append(f"saved cart {cart_id}: reminder queued")
    effects.append(SetSchedule(name, cart.expires_at))
    return effects, lines


def _need_due(
    policy: CustomizationPolicy, state: CustomerState, name: str, now: datetime, zone: tzinfo
) -> tuple[Effects, Lines]:
    done: Effects = [SetSchedule(name, None)]  # the next purchase plans the next one
    sku = name.removeprefix(NEED)
    rhythm = state.held.rhythms.get(sku)
    need, send = policy.next_need, policy.need_reminder
    if rhythm is None or need is None or send is None:
        return done, []
    prediction = need.predict(rhythm, zone=zone)
    if prediction is None or prediction.latest < now:
        return done, [f"no reminder for {sku}: the need it expected has passed"]
    key = need_key(state.id, prediction)
    context = {"sku": sku, "expected_on": _local_date(prediction.expected_at, zone)}
    queued = QueueMessage.of(send, key, context, not_after=prediction.latest)
    return [*done, queued], [f"next-need reminder queued: {prediction.describe()}"]
