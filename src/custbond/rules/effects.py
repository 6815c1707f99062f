"""What a rule gives when it fires: points, multipliers, stamps, a tier, a tag, a message,
a gift, a discount, cashback.

These are the ``then`` of a :class:`~custbond.rules.Rule`. The engine turns the effects of
every rule that fired for an event into the concrete effects of one
:class:`~custbond.Decision`.

How points add up for one event, in this order:

1. *Spend points*: every :class:`PointsPerSpend` and :class:`PointsPerItem` that fired,
   added up exactly (as fractions, nothing rounded yet).
2. *Multipliers*: the spend points times every :class:`Multiplier` that fired. By default
   multipliers multiply (2x and 1.5x give 3x); a program with ``multipliers="add"`` adds
   what each adds instead (2x and 1.5x give 1 + 1 + 0.5 = 2.5x).
3. The result is rounded down to a whole point, once.
4. *Fixed points* (:class:`FixedPoints`) are added last: multipliers never touch them.

>>> from decimal import Decimal
>>> PointsPerSpend(points=10, per=Decimal("5")).points_for(Decimal("7.00"))
14
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any, TypeAlias

import attrs
from dateutil.relativedelta import relativedelta

from custbond import _validate as v
from custbond.errors import InvalidInput
from custbond.vouchers import VoucherOffer

__all__ = [
    "Cashback",
    "Discount",
    "FixedPoints",
    "Gift",
    "Message",
    "Multiplier",
    "PointsPerItem",
    "PointsPerSpend",
    "RuleEffect",
    "Stamps",
    "Tag",
    "Tier",
]

# An exact, non-negative rational as (numerator, denominator): Fraction is ten times slower
# and these are added up on every purchase.
Ratio: TypeAlias = tuple[int, int]


def _selector(sku: str | None, tag: str | None) -> str:
    if sku is not None and tag is not None:
        return f" on items {sku!r} tagged {tag!r}"
    if sku is not None:
        return f" on items {sku!r}"
    if tag is not None:
        return f" on items tagged {tag!r}"
    return ""


def _spent(event: Any, sku: str | None, tag: str | None) -> Decimal:
    """What ``event`` spent on items with this sku and/or tag (quantity x unit price); its
    whole amount when neither is given."""
    if sku is None and tag is None:
        amount: Decimal = event.amount
        return amount
    # A plain loop, read on every purchase: Decimal(0) plus each matching item's cost, in
    # the items' order (what sum() with a start of Decimal(0) adds up, without its calls).
    total = Decimal(0)
    for item in getattr(event, "items", ()):
        if (sku is None or item.sku == sku) and (tag is None or tag in item.tags):
            total += item.unit_price * item.quantity
    return total


def _bought(event: Any, sku: str | None, tag: str | None) -> int:
    """How many items with this sku and/or tag ``event`` has (quantities added up)."""
    count = 0
    for item in getattr(event, "items", ()):
        if (sku is None or item.sku == sku) and (tag is None or tag in item.tags):
            count += item.quantity
    return count


@attrs.frozen
class PointsPerSpend:
    """``points`` for every ``per`` of money spent, in proportion, rounded down.

    Without ``sku`` or ``tag`` the whole amount counts; with them, only what the matching
    items cost (quantity x unit price). ``PointsPerSpend(points=1, per=Decimal("1"))``
    gives 4 points for 4.99; ``points=10, per=Decimal("5")`` gives 14 for 7.00.
    """

    points: int = attrs.field(default=1, kw_only=True, validator=v.is_positive_int)
    per: Decimal = attrs.field(
        default=Decimal(1), kw_only=True, converter=v.to_decimal, validator=v.is_decimal
    )
    sku: str | None = attrs.field(default=None, kw_only=True, validator=v.is_optional_text)
    tag: str | None = attrs.field(default=None, kw_only=True, validator=v.is_optional_text)
    _per_ratio: Ratio = attrs.field(init=False, eq=False, repr=False, hash=False)

    @per.validator
    def _check_per(self, attribute: object, value: Decimal) -> None:
        if value <= 0:
            raise InvalidInput("per", value, "a positive Decimal")

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_per_ratio", self.per.as_integer_ratio())

    def points_for(self, amount: Decimal) -> int:
        """Points for ``amount``: ``amount * points / per``, rounded down to a whole point.

        Computed exactly, in integers, whatever the size of the numbers (Decimal division
        would round to 28 digits first).
        """
        top, bottom = self.exact(v.decimal("amount", amount))
        return top // bottom

    def exact(self, amount: Decimal) -> Ratio:
        """The points for ``amount`` before rounding, as (numerator, denominator)."""
        amount_top, amount_bottom = amount.as_integer_ratio()
        per_top, per_bottom = self._per_ratio
        return (amount_top * self.points * per_bottom, amount_bottom * per_top)

    def spend(self, event: Any) -> Decimal:
        """The part of ``event``'s amount this earns on."""
        return _spent(event, self.sku, self.tag)

    def describe(self, currency: str) -> str:
        return f"{self.points} per {self.per} {currency}{_selector(self.sku, self.tag)}"


@attrs.frozen
class PointsPerItem:
    """``points`` for each item bought (each unit of quantity) with this sku and/or tag;
    every item when neither is given."""

    points: int = attrs.field(validator=v.is_positive_int)
    sku: str | None = attrs.field(default=None, kw_only=True, validator=v.is_optional_text)
    tag: str | None = attrs.field(default=None, kw_only=True, validator=v.is_optional_text)

    def count(self, event: Any) -> int:
        return _bought(event, self.sku, self.tag)

    def describe(self, currency: str) -> str:
        return f"{self.points} per item{_selector(self.sku, self.tag)}"


@attrs.frozen
class FixedPoints:
    """A fixed number of points, whatever was spent (a birthday bonus, a signup gift).
    Multipliers do not apply to them."""

    points: int = attrs.field(validator=v.is_positive_int)

    def describe(self) -> str:
        """``FixedPoints(5).describe()`` is ``"5 points"``."""
        return points_text(self.points)


def points_text(points: int) -> str:
    """``"1 point"``, ``"5 points"``: how traces and descriptions count points."""
    return f"{points} point" if points == 1 else f"{points} points"


def _factor(value: Any) -> Any:
    return v.to_decimal(value)


@attrs.frozen
class Multiplier:
    """Multiply the event's spend points by ``factor`` (a Decimal above 0: ``2`` doubles,
    ``Decimal("1.5")`` adds half). See the module docs for how several combine."""

    factor: Decimal = attrs.field(converter=_factor, validator=v.is_decimal)

    @factor.validator
    def _check_factor(self, attribute: object, value: Decimal) -> None:
        if value <= 0 or value > 100:
            raise InvalidInput("factor", value, "a Decimal above 0 and at most 100")

    def describe(self) -> str:
        """``Multiplier(2).describe()`` is ``"spend points x2"``."""
        return f"spend points x{format(self.factor, 'f')}"


@attrs.frozen
class Stamps:
    """Stamps on the punch card ``card``: ``count`` per event, or ``count`` per matching
    item when ``sku`` or ``tag`` is given ("a stamp for every coffee")."""

    card: str = attrs.field(validator=v.is_identifier)
    count: int = attrs.field(default=1, kw_only=True, validator=v.is_positive_int)
    sku: str | None = attrs.field(default=None, kw_only=True, validator=v.is_optional_text)
    tag: str | None = attrs.field(default=None, kw_only=True, validator=v.is_optional_text)

    def stamps_for(self, event: Any) -> int:
        if self.sku is None and self.tag is None:
            return self.count
        return self.count * _bought(event, self.sku, self.tag)


@attrs.frozen
class Tier:
    """Put the customer in ``tier``; with ``only_up``, only if that raises them on the
    program's tier ladder (a customer without a tier is always raised)."""

    tier: str = attrs.field(validator=v.is_identifier)
    only_up: bool = attrs.field(default=False, kw_only=True)

    @only_up.validator
    def _check_only_up(self, attribute: object, value: object) -> None:
        if not isinstance(value, bool):
            raise InvalidInput("only_up", value, "True or False")

    def describe(self) -> str:
        """``Tier("gold", only_up=True).describe()`` is ``"tier 'gold' if higher"``."""
        return f"tier {self.tier!r}" + (" if higher" if self.only_up else "")


@attrs.frozen
class Tag:
    """Add ``tag`` to the customer's tags."""

    tag: str = attrs.field(validator=v.is_identifier)

    def describe(self) -> str:
        """``Tag("regular").describe()`` is ``"tag 'regular'"``."""
        return f"tag {self.tag!r}"


@attrs.frozen
class Message:
    """Ask for a message to the customer: the ``template`` to use, on ``channel``.

    ``kind`` is ``"transactional"`` or ``"marketing"`` (marketing needs consent). The
    decision records the request; delivering it is the messaging part's job.
    """

    template: str = attrs.field(validator=v.is_identifier)
    channel: str = attrs.field(default="email", kw_only=True, validator=v.is_identifier)
    kind: str = attrs.field(default="transactional", kw_only=True)

    @kind.validator
    def _check_kind(self, attribute: object, value: object) -> None:
        if value not in ("transactional", "marketing"):
            raise InvalidInput("kind", value, "'transactional' or 'marketing'")

    def describe(self) -> str:
        """``Message("welcome").describe()`` is ``"message 'welcome' by email"``; a
        marketing message says so."""
        kind = " (marketing)" if self.kind == "marketing" else ""
        return f"message {self.template!r} by {self.channel}{kind}"


def _optional_money(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None:
        v.decimal(attribute.name, value)
        if value <= 0:
            raise InvalidInput(attribute.name, value, "a positive Decimal")


@attrs.frozen
class Discount:
    """Money off at checkout: ``percent`` of what the matching items cost, or a fixed
    ``amount`` spread over them (all items when neither ``sku`` nor ``tag`` is given).

    Discounts are for :meth:`~custbond.RetentionService.quote`, which tells a checkout
    what to take off; recording the purchase afterwards (at the price paid) ignores them.
    """

    percent: Decimal | None = attrs.field(
        default=None, kw_only=True, converter=v.to_decimal, validator=_optional_money
    )
    amount: Decimal | None = attrs.field(
        default=None, kw_only=True, converter=v.to_decimal, validator=_optional_money
    )
    sku: str | None = attrs.field(default=None, kw_only=True, validator=v.is_optional_text)
    tag: str | None = attrs.field(default=None, kw_only=True, validator=v.is_optional_text)

    def __attrs_post_init__(self) -> None:
        if (self.percent is None) == (self.amount is None):
            raise InvalidInput("discount", self, "either a percent or an amount")
        if self.percent is not None and self.percent > 100:
            raise InvalidInput("percent", self.percent, "at most 100")

    def matches(self, item: Any) -> bool:
        return (self.sku is None or item.sku == self.sku) and (
            self.tag is None or self.tag in item.tags
        )

    def value(self, items: Any) -> Decimal:
        """What it takes off the matching ``items``, before rounding to the cent."""
        base = sum(
            (item.unit_price * item.quantity for item in items if self.matches(item)),
            Decimal(0),
        )
        if self.amount is not None:
            return min(self.amount, base)
        assert self.percent is not None
        return base * self.percent / 100

    def describe(self) -> str:
        off = f"{self.percent}%" if self.percent is not None else f"{self.amount}"
        return f"discount {off}{_selector(self.sku, self.tag)}"


@attrs.frozen
class Gift:
    """A voucher for ``offer``: a premium or a gift for a loyal customer ("a free
    dessert on your birthday")."""

    offer: VoucherOffer = attrs.field()

    @offer.validator
    def _check_offer(self, attribute: object, value: object) -> None:
        if not isinstance(value, VoucherOffer):
            raise InvalidInput("offer", value, "a VoucherOffer")

    def describe(self) -> str:
        """``"a gift: 'birthday dessert'"``."""
        return f"a gift: {self.offer.name!r}"


def _percent(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    v.decimal(attribute.name, value, minimum=None)
    if value <= 0:
        raise InvalidInput(attribute.name, value, "a positive Decimal")
    if value > 100:
        raise InvalidInput(attribute.name, value, "at most 100")


@attrs.frozen
class Cashback:
    """Money back on a purchase: ``percent`` of what the matching items cost, given to the
    customer as a money voucher named ``"cashback"`` (valid for ``valid_for`` after it is
    issued; ``None``: it does not expire). Cashback on a co-branded card is this effect in
    a rule whose condition reads ``event.payment``.

    Like :class:`PointsPerSpend`, without ``sku`` or ``tag`` the purchase's whole amount
    counts; with them, only what the matching items cost (quantity x unit price).

    Rounding: the amount is rounded **down** to the currency's minor unit (the cent), so
    cashback never gives more than ``percent``; an amount that rounds down to nothing
    gives no voucher (the trace says so). Each cashback effect that fires gives its own
    voucher.

    >>> back = Cashback(Decimal("2"))
    >>> back.amount_for(Decimal("12.40"), "USD")  # 0.248, rounded down
    Decimal('0.24')
    >>> back.amount_for(Decimal("0.40"), "USD")  # 0.008: nothing
    Decimal('0.00')
    """

    percent: Decimal = attrs.field(converter=v.to_decimal, validator=_percent)
    sku: str | None = attrs.field(default=None, kw_only=True, validator=v.is_optional_text)
    tag: str | None = attrs.field(default=None, kw_only=True, validator=v.is_optional_text)
    valid_for: relativedelta | timedelta | None = attrs.field(
        default=None, kw_only=True, validator=v.is_duration
    )
    _percent_ratio: Ratio = attrs.field(init=False, eq=False, repr=False, hash=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_percent_ratio", self.percent.as_integer_ratio())

    def spend(self, event: Any) -> Decimal:
        """The part of ``event``'s amount this gives money back on."""
        return _spent(event, self.sku, self.tag)

    def back(self, spend: Decimal, places: int) -> int:
        """The money back on ``spend``, in minor units of a currency with ``places``
        decimal places (cents, for 2), rounded down. Computed exactly, in integers."""
        spend_top, spend_bottom = spend.as_integer_ratio()
        top, bottom = self._percent_ratio
        scale: int = 10**places
        return (spend_top * top * scale) // (spend_bottom * bottom * 100)

    def amount_for(self, spend: Decimal, currency: str) -> Decimal:
        """The money back on ``spend`` in ``currency``, rounded down to its minor unit."""
        places = v.minor_units(currency)
        return Decimal(self.back(spend, places)).scaleb(-places)

    def describe(self) -> str:
        return f"cashback {self.percent}%{_selector(self.sku, self.tag)}"


RuleEffect: TypeAlias = (
    PointsPerSpend
    | PointsPerItem
    | FixedPoints
    | Multiplier
    | Stamps
    | Tier
    | Tag
    | Message
    | Gift
    | Discount
    | Cashback
)
RULE_EFFECTS = (
    PointsPerSpend,
    PointsPerItem,
    FixedPoints,
    Multiplier,
    Stamps,
    Tier,
    Tag,
    Message,
    Gift,
    Discount,
    Cashback,
)
