"""What customers did: the events a host records.

Every event has an ``id`` (its idempotency key: the same id may be delivered any number of
times), the ``customer_id`` it is about, and ``at``, the aware time it happened. Events are
frozen and validated on construction; bad input raises :class:`~custbond.InvalidInput`.

>>> from datetime import datetime, timezone
>>> from decimal import Decimal
>>> from custbond import Purchase, LineItem
>>> order = Purchase(
...     id="o-1", customer_id="c-1", at=datetime(2026, 3, 2, 8, 15, tzinfo=timezone.utc),
...     amount=Decimal("9.00"), currency="USD",
...     items=(LineItem(sku="flat-white", quantity=2, unit_price=Decimal("4.50")),),
... )
>>> order.amount
Decimal('9.00')
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import attrs

from custbond import _validate as v
from custbond._frozen import empty_map
from custbond.errors import InvalidInput
from custbond.recovery.events import (
    ComplaintAcknowledged,
    ComplaintFiled,
    ComplaintResolved,
    SurveyResponse,
)

__all__ = [
    "Appointment",
    "AppointmentCancelled",
    "ComplaintAcknowledged",
    "ComplaintFiled",
    "ComplaintResolved",
    "ContactMade",
    "CustomEvent",
    "Event",
    "EventAttended",
    "IntegrationAdopted",
    "IntegrationDropped",
    "LineItem",
    "OfferAccepted",
    "Purchase",
    "Referral",
    "Return",
    "Signup",
    "SurveyResponse",
    "Visit",
]


@attrs.frozen
class LineItem:
    """One line of a receipt: ``quantity`` of ``sku`` at ``unit_price`` each.

    >>> LineItem(sku="bagel", quantity=3, unit_price=Decimal("2.10")).total
    Decimal('6.30')
    """

    sku: str = attrs.field(validator=v.is_identifier)
    quantity: int = attrs.field(validator=v.is_positive_int)
    unit_price: Decimal = attrs.field(converter=v.to_decimal, validator=v.is_decimal)
    tags: frozenset[str] = attrs.field(
        default=frozenset(), converter=v.to_frozenset, validator=v.is_tags
    )

    @property
    def total(self) -> Decimal:
        """``quantity * unit_price``."""
        return self.quantity * self.unit_price


def _items(value: Any) -> tuple[LineItem, ...]:
    if isinstance(value, LineItem) or not isinstance(value, Iterable):
        raise InvalidInput("items", value, "a tuple of LineItem")
    items = tuple(value)
    for item in items:
        if not isinstance(item, LineItem):
            raise InvalidInput("items", item, "a LineItem")
    return items


def _items_total(items: tuple[LineItem, ...]) -> Decimal:
    return sum((item.total for item in items), Decimal(0))


def _check_items_add_up(items: tuple[LineItem, ...], amount: Decimal) -> None:
    if items and _items_total(items) != amount:
        raise InvalidInput(
            "items",
            f"{len(items)} items totalling {_items_total(items)}",
            f"items whose totals add up to the amount {amount}",
        )


@attrs.frozen(kw_only=True)
class Purchase:
    """A customer bought something.

    ``amount`` is a ``Decimal`` (ints and numeric strings are accepted and converted
    exactly; floats, NaN, infinities and negative amounts are rejected) in ``currency``,
    with no more decimal places than the currency has. When ``items`` are given, their
    totals must add up to ``amount`` exactly. ``channel`` says where it was made
    (``"app"``, ``"store"``) and ``payment`` how it was paid (``"co-brand-visa"``), when
    the host knows: rules can look at both.
    """

    id: str = attrs.field(validator=v.is_identifier)
    customer_id: str = attrs.field(validator=v.is_identifier)
    at: datetime = attrs.field(validator=v.is_moment)
    amount: Decimal = attrs.field(converter=v.to_decimal, validator=v.is_decimal)
    currency: str = attrs.field(validator=v.is_currency)
    items: tuple[LineItem, ...] = attrs.field(default=(), converter=_items)
    channel: str | None = attrs.field(default=None, validator=v.is_optional_text)
    payment: str | None = attrs.field(default=None, validator=v.is_optional_text)

    def __attrs_post_init__(self) -> None:
        v.money("amount", self.amount, self.currency)
        _check_items_add_up(self.items, self.amount)


@attrs.frozen(kw_only=True)
class Return:
    """A customer returned (part of) an earlier purchase.

    Give the returned ``amount``, or the returned ``items`` (lines of the original purchase,
    matched by sku and unit price), or both when they agree. The points the purchase earned
    are reversed in proportion to the amount returned.
    """

    id: str = attrs.field(validator=v.is_identifier)
    customer_id: str = attrs.field(validator=v.is_identifier)
    at: datetime = attrs.field(validator=v.is_moment)
    purchase_id: str = attrs.field(validator=v.is_identifier)
    amount: Decimal | None = attrs.field(
        default=None,
        converter=v.to_decimal,
        validator=v.is_optional_decimal,
    )
    items: tuple[LineItem, ...] = attrs.field(default=(), converter=_items)

    def __attrs_post_init__(self) -> None:
        if self.amount is None and not self.items:
            raise InvalidInput("amount", None, "a returned amount, or returned items")
        if self.amount is not None and self.amount == 0:
            raise InvalidInput("amount", self.amount, "a positive amount")
        if self.amount is not None:
            _check_items_add_up(self.items, self.amount)

    @property
    def returned_amount(self) -> Decimal:
        """The amount returned: ``amount`` when given, else the total of ``items``."""
        return self.amount if self.amount is not None else _items_total(self.items)


@attrs.frozen(kw_only=True)
class Visit:
    """A customer came by (checked in, booked a table, opened the app)."""

    id: str = attrs.field(validator=v.is_identifier)
    customer_id: str = attrs.field(validator=v.is_identifier)
    at: datetime = attrs.field(validator=v.is_moment)
    location: str | None = attrs.field(default=None, validator=v.is_optional_text)


@attrs.frozen(kw_only=True)
class Signup:
    """A customer joined the program."""

    id: str = attrs.field(validator=v.is_identifier)
    customer_id: str = attrs.field(validator=v.is_identifier)
    at: datetime = attrs.field(validator=v.is_moment)
    channel: str | None = attrs.field(default=None, validator=v.is_optional_text)


@attrs.frozen(kw_only=True)
class CustomEvent:
    """Anything else the host wants rules to see: a ``name`` and scalar ``attributes``.

    >>> from datetime import timezone
    >>> CustomEvent(id="e-1", customer_id="c-1", name="review_posted",
    ...             at=datetime(2026, 3, 2, tzinfo=timezone.utc),
    ...             attributes={"stars": 5})["stars"]
    5
    """

    id: str = attrs.field(validator=v.is_identifier)
    customer_id: str = attrs.field(validator=v.is_identifier)
    at: datetime = attrs.field(validator=v.is_moment)
    name: str = attrs.field(validator=v.is_identifier)
    attributes: Mapping[str, Any] = attrs.field(
        factory=empty_map, converter=v.to_frozen_map, validator=v.is_scalar_map
    )

    def __getitem__(self, name: str) -> Any:
        return self.attributes[name]


@attrs.frozen(kw_only=True)
class Referral:
    """``referrer_id`` brought the customer ``customer_id`` (the referee) to the business.

    Under a program's referral policy, both are rewarded once, when the referee's first
    qualifying purchase arrives; a customer cannot refer themself.
    """

    id: str = attrs.field(validator=v.is_identifier)
    customer_id: str = attrs.field(validator=v.is_identifier)
    at: datetime = attrs.field(validator=v.is_moment)
    referrer_id: str = attrs.field(validator=v.is_identifier)

    def __attrs_post_init__(self) -> None:
        if self.referrer_id == self.customer_id:
            raise InvalidInput(
                "referrer_id", self.referrer_id, "another customer than the one referred"
            )


@attrs.frozen(kw_only=True)
class Appointment:
    """The customer booked an appointment (``at``: when they booked) that begins at
    ``starts_at``; ``service`` says what for ("haircut"), for the reminder. A program
    with an appointment reminder queues one for it. To move an appointment, cancel it
    and book a new one.
    """

    id: str = attrs.field(validator=v.is_identifier)
    customer_id: str = attrs.field(validator=v.is_identifier)
    at: datetime = attrs.field(validator=v.is_moment)
    starts_at: datetime = attrs.field(validator=v.is_moment)
    service: str | None = attrs.field(default=None, validator=v.is_optional_text)


@attrs.frozen(kw_only=True)
class AppointmentCancelled:
    """The appointment ``appointment_id`` (the id of its :class:`Appointment`) was
    cancelled: its reminder, if not sent yet, never will be."""

    id: str = attrs.field(validator=v.is_identifier)
    customer_id: str = attrs.field(validator=v.is_identifier)
    at: datetime = attrs.field(validator=v.is_moment)
    appointment_id: str = attrs.field(validator=v.is_identifier)


@attrs.frozen(kw_only=True)
class ContactMade:
    """Someone (``by``: the owner, usually) was in personal touch with the customer at
    ``at`` (a call, a chat in the shop, a handwritten note: ``channel``); ``note`` is
    what they talked about (free text, erased with the customer). It starts the count
    of a social :class:`~custbond.bonds.social.Cadence` again."""

    id: str = attrs.field(validator=v.is_identifier)
    customer_id: str = attrs.field(validator=v.is_identifier)
    at: datetime = attrs.field(validator=v.is_moment)
    by: str | None = attrs.field(default=None, validator=v.is_optional_text)
    channel: str | None = attrs.field(default=None, validator=v.is_optional_text)
    note: str | None = attrs.field(default=None, validator=v.is_optional_text)


@attrs.frozen(kw_only=True)
class OfferAccepted:
    """The customer took up a personalised ``offer`` (a content chosen for them: see
    :func:`~custbond.bonds.customization.choose`) at ``at``."""

    id: str = attrs.field(validator=v.is_identifier)
    customer_id: str = attrs.field(validator=v.is_identifier)
    at: datetime = attrs.field(validator=v.is_moment)
    offer: str = attrs.field(validator=v.is_identifier)


@attrs.frozen(kw_only=True)
class IntegrationAdopted:
    """The customer started relying on ``integration`` (a portal account, an API key,
    a label printer you gave them) at ``at``, the date they adopted it."""

    id: str = attrs.field(validator=v.is_identifier)
    customer_id: str = attrs.field(validator=v.is_identifier)
    at: datetime = attrs.field(validator=v.is_moment)
    integration: str = attrs.field(validator=v.is_identifier)


@attrs.frozen(kw_only=True)
class IntegrationDropped:
    """The customer stopped using ``integration`` at ``at``."""

    id: str = attrs.field(validator=v.is_identifier)
    customer_id: str = attrs.field(validator=v.is_identifier)
    at: datetime = attrs.field(validator=v.is_moment)
    integration: str = attrs.field(validator=v.is_identifier)


@attrs.frozen(kw_only=True)
class EventAttended:
    """The customer came to the members' event ``event`` (its id: see
    :class:`~custbond.bonds.social.MembersEvent`) at ``at``."""

    id: str = attrs.field(validator=v.is_identifier)
    customer_id: str = attrs.field(validator=v.is_identifier)
    at: datetime = attrs.field(validator=v.is_moment)
    event: str = attrs.field(validator=v.is_identifier)


Event = (
    Purchase
    | Return
    | Visit
    | Signup
    | CustomEvent
    | Referral
    | Appointment
    | AppointmentCancelled
    | ComplaintFiled
    | ComplaintAcknowledged
    | ComplaintResolved
    | SurveyResponse
    | ContactMade
    | OfferAccepted
    | IntegrationAdopted
    | IntegrationDropped
    | EventAttended
)
"""Any event a host can record."""

EVENT_TYPES: tuple[type[Any], ...] = (
    Purchase,
    Return,
    Visit,
    Signup,
    CustomEvent,
    Referral,
    Appointment,
    AppointmentCancelled,
    ComplaintFiled,
    ComplaintAcknowledged,
    ComplaintResolved,
    SurveyResponse,
    ContactMade,
    OfferAccepted,
    IntegrationAdopted,
    IntegrationDropped,
    EventAttended,
)
EVENT_TYPE_NAMES = ", ".join(cls.__name__ for cls in EVENT_TYPES[:-1]) + (
    f" or {EVENT_TYPES[-1].__name__}"
)
