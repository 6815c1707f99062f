"""Cross-sell and upsell from what customers buy together.

A :class:`BasketIndex` reads purchases (each one's distinct skus form a *basket*;
quantities do not count) and answers two questions with :class:`Suggestion` values:

- **cross-sell** (:meth:`BasketIndex.cross_sell`): what goes with these items? The items
  most often in the same basket as them. For one item ``a`` and a suggested item ``c``,
  ``together`` is the number of baskets holding both, ``confidence`` is
  ``together / baskets holding a`` (how often a basket with ``a`` also held ``c``) and
  ``lift`` is ``confidence / (baskets holding c / all baskets)``: above 1 when ``c`` goes
  with ``a`` more than it goes in baskets at large. Asked about several items, counts are
  summed over them (a basket holding two of them counts for each).
- **upsell** (:meth:`BasketIndex.upsell`): what is the dearer choice of the same kind?
  Items sharing at least one tag with the item asked about whose mean unit price is
  higher, the most bought first.

Mean unit prices are ``sum(unit_price * quantity) / sum(quantity)`` over every line of
the item, rounded half to even to the most decimal places its prices were given with.
Every ranking ends with the sku, so the answers never depend on the order of items inside
a basket, on dict order or on Python's hash seed: the same purchases in the same order
always give the same answers.

Memory is bounded: at most ``max_items`` items are tracked, each with at most
``max_neighbours`` co-occurrence counts. Past a limit, the entries seen in the fewest
baskets are dropped (ties: the greatest sku goes first), and an item dropped from the
index is dropped from every other item's counts too. Counts are exact while no limit has
been reached (:attr:`BasketIndex.exact`) and lower bounds after: a dropped entry starts
again from zero when it comes back. A newcomer starts from one, so an index that is full
of items all seen more than once keeps its established items; build one per period (the
last 90 days, say) to follow what is new.

>>> from datetime import datetime, timezone
>>> from decimal import Decimal
>>> from custbond.events import LineItem, Purchase
>>> def basket(id, *skus):
...     items = [LineItem(sku=sku, quantity=1, unit_price=Decimal("2.50")) for sku in skus]
...     return Purchase(id=id, customer_id="c-1", at=datetime(2026, 3, 2, tzinfo=timezone.utc),
...                     amount=Decimal("2.50") * len(skus), currency="EUR", items=items)
>>> index = BasketIndex.build([basket("o-1", "espresso", "croissant"),
...                            basket("o-2", "espresso", "croissant", "water"),
...                            basket("o-3", "espresso", "muffin"),
...                            basket("o-4", "latte", "croissant")])
>>> for suggestion in index.cross_sell(["espresso"]):
...     print(suggestion.sku, suggestion.confidence, suggestion.reason)
croissant 2/3 bought together with espresso in 2 of 3 baskets
muffin 1/3 bought together with espresso in 1 of 3 baskets
water 1/3 bought together with espresso in 1 of 3 baskets
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from decimal import ROUND_HALF_EVEN, Context, Decimal
from fractions import Fraction
from typing import Any

import attrs

from custbond import _validate as v
from custbond.errors import InvalidInput
from custbond.events import Purchase

__all__ = ["KINDS", "BasketIndex", "Suggestion"]

KINDS = ("cross-sell", "upsell")
"""What a suggestion can be."""

# Sums and means of money, whatever decimal context the host has set for its own work:
# 40 digits hold any sum of the amounts custbond accepts (each under 1e15) exactly.
_MONEY = Context(prec=40, rounding=ROUND_HALF_EVEN)


def _is_kind(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value not in KINDS:
        raise InvalidInput("kind", value, f"one of {', '.join(KINDS)}")


def _is_count(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    v.integer(attribute.name, value, minimum=0)


def _is_share(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, Fraction) or not 0 <= value <= 1:
        raise InvalidInput(attribute.name, value, "a Fraction from 0 to 1")


def _is_optional_lift(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and (not isinstance(value, Fraction) or value < 0):
        raise InvalidInput(attribute.name, value, "a Fraction of 0 or more, or None")


@attrs.frozen(kw_only=True)
class Suggestion:
    """An item to offer: ``sku``, a ``kind`` of suggestion ("cross-sell" or "upsell")
    and why (``reason``, for a person).

    For a cross-sell, ``together`` is the number of baskets that held it with the items
    asked about, ``confidence`` that number over the baskets holding those items, and
    ``lift`` the confidence over the share of all baskets that held it (see the module's
    docstring). An upsell is not a rule of association: ``together`` is the number of
    baskets that held the dearer item, ``confidence`` is 0 and ``lift`` None.

    >>> from fractions import Fraction
    >>> Suggestion(sku="croissant", kind="cross-sell", together=3,
    ...            confidence=Fraction(3, 4), lift=Fraction(21, 16),
    ...            reason="bought together with espresso in 3 of 4 baskets").confidence
    Fraction(3, 4)
    """

    sku: str = attrs.field(validator=v.is_identifier)
    kind: str = attrs.field(validator=_is_kind)
    together: int = attrs.field(validator=_is_count)
    confidence: Fraction = attrs.field(validator=_is_share)
    lift: Fraction | None = attrs.field(default=None, validator=_is_optional_lift)
    reason: str = attrs.field(validator=v.is_text)


def _skus(field: str, value: Any) -> frozenset[str]:
    """A collection of skus; a lone string is refused rather than read letter by letter."""
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidInput(field, value, "a collection of skus (one sku goes in a tuple)")
    skus = frozenset(value)
    for sku in sorted(skus, key=str):
        v.identifier(field, sku)
    return skus


class _Item:
    """What the index knows of one item. Mutable, and only ever held by its index."""

    __slots__ = ("baskets", "neighbours", "places", "spent", "tags", "units")

    def __init__(self) -> None:
        self.baskets = 0  # baskets that held it
        self.units = 0  # units sold, over every line
        self.spent = Decimal(0)  # the sum of unit_price * quantity over every line
        self.places = 0  # the most decimal places a unit price of it was given with
        self.tags: set[str] = set()
        self.neighbours: dict[str, int] = {}  # another item -> baskets holding both


class BasketIndex:
    """What is bought together, read from purchases one at a time (see the module's
    docstring for what it answers and how it stays small).

    Unlike custbond's values, an index is not frozen: it is an accumulator over
    thousands or millions of purchases, and a frozen one would copy all its counts for
    each purchase added. It is a read model a host builds (and rebuilds) from its
    purchase history, not part of a customer's state, and it is not safe to share between
    threads while purchases are added. It keeps no purchase ids (memory stays bounded):
    add each purchase once.

    >>> index = BasketIndex(max_items=500, max_neighbours=20)
    >>> index.baskets, index.exact
    (0, True)
    >>> index.describe()
    '0 baskets, 0 items (at most 500, each with at most 20 neighbours); counts exact'
    """

    __slots__ = ("_baskets", "_currency", "_exact", "_items", "_max_items", "_max_neighbours")

    def __init__(self, *, max_items: int = 10_000, max_neighbours: int = 50) -> None:
        self._max_items = v.positive_int("max_items", max_items)
        self._max_neighbours = v.positive_int("max_neighbours", max_neighbours)
        self._items: dict[str, _Item] = {}
        self._baskets = 0
        self._currency: str | None = None
        self._exact = True

    @classmethod
    def build(
        cls, purchases: Iterable[Purchase], *, max_items: int = 10_000, max_neighbours: int = 50
    ) -> BasketIndex:
        """An index of ``purchases``, added in order."""
        index = cls(max_items=max_items, max_neighbours=max_neighbours)
        for purchase in purchases:
            index.add(purchase)
        return index

    @property
    def baskets(self) -> int:
        """How many baskets (purchases with items) were added."""
        return self._baskets

    @property
    def exact(self) -> bool:
        """Whether every count is exact: True until a limit made the index drop one."""
        return self._exact

    @property
    def currency(self) -> str | None:
        """The currency of the purchases added (None before the first)."""
        return self._currency

    @property
    def max_items(self) -> int:
        return self._max_items

    @property
    def max_neighbours(self) -> int:
        return self._max_neighbours

    @property
    def tracked(self) -> tuple[str, ...]:
        """The skus of the items tracked, in order."""
        return tuple(sorted(self._items))

    def add(self, purchase: Purchase) -> None:
        """Count ``purchase``'s basket: its distinct skus. A purchase without items
        holds no basket and is not counted; every purchase of an index must be in one
        currency (prices in two could not be compared)."""
        if not isinstance(purchase, Purchase):
            raise InvalidInput("purchase", purchase, "a Purchase")
        if not purchase.items:
            return
        if self._currency not in (None, purchase.currency):
            raise InvalidInput(
                "currency", purchase.currency, f"{self._currency}, the currency of the index"
            )
        self._currency = purchase.currency
        basket = sorted({line.sku for line in purchase.items})
        self._baskets += 1
        for sku in basket:
            self._items.setdefault(sku, _Item()).baskets += 1
        for line in purchase.items:
            item = self._items[line.sku]
            item.units += line.quantity
            item.spent = _MONEY.add(item.spent, _MONEY.multiply(line.unit_price, line.quantity))
            exponent = line.unit_price.as_tuple().exponent
            assert isinstance(exponent, int)  # finite: LineItem checks it
            item.places = max(item.places, -exponent)
            item.tags.update(line.tags)
        for sku in basket:
            neighbours = self._items[sku].neighbours
            for other in basket:
                if other != sku:
                    neighbours[other] = neighbours.get(other, 0) + 1
            self._prune_neighbours(neighbours)
        self._prune_items()

    def _prune_neighbours(self, neighbours: dict[str, int]) -> None:
        if len(neighbours) <= self._max_neighbours:
            return
        ranked = sorted(neighbours, key=lambda other: (-neighbours[other], other))
        for other in ranked[self._max_neighbours :]:
            del neighbours[other]
        self._exact = False

    def _prune_items(self) -> None:
        excess = len(self._items) - self._max_items
        if excess <= 0:
            return
        # The fewest baskets first, then the greatest sku: the tail of the ranking.
        dropped = heapq.nlargest(
            excess, self._items, key=lambda sku: (-self._baskets_of(sku), sku)
        )
        for sku in dropped:
            del self._items[sku]
        for item in self._items.values():
            for sku in dropped:
                item.neighbours.pop(sku, None)
        self._exact = False

    def _baskets_of(self, sku: str) -> int:
        return self._items[sku].baskets

    def baskets_with(self, sku: str) -> int:
        """How many baskets held ``sku`` (0 when it is not tracked)."""
        item = self._items.get(sku)
        return 0 if item is None else item.baskets

    def together(self, sku: str, other: str) -> int:
        """How many baskets held both ``sku`` and ``other``, as ``sku``'s counts have it
        (once a limit dropped entries, ``together(b, a)`` may hold a count that
        ``together(a, b)`` lost)."""
        item = self._items.get(sku)
        return 0 if item is None else item.neighbours.get(other, 0)

    def neighbours(self, sku: str) -> tuple[str, ...]:
        """The items ``sku`` has a count of being bought with, in order."""
        item = self._items.get(sku)
        return () if item is None else tuple(sorted(item.neighbours))

    def mean_price(self, sku: str) -> Decimal | None:
        """The mean unit price of ``sku`` (see the module's docstring), None when it is
        not tracked."""
        item = self._items.get(sku)
        if item is None or not item.units:
            return None
        mean = _MONEY.divide(item.spent, Decimal(item.units))
        return mean.quantize(Decimal(1).scaleb(-item.places), context=_MONEY)

    def cross_sell(
        self, skus: Iterable[str], *, limit: int = 5, exclude: Iterable[str] = ()
    ) -> tuple[Suggestion, ...]:
        """At most ``limit`` items to offer with ``skus``: those most often bought with
        them, never one of ``skus`` nor of ``exclude``; by ``together`` (the most first),
        then ``confidence`` (the highest first), then sku. (Every candidate's confidence
        has the same denominator, the baskets holding ``skus``, so it orders as
        ``together`` does: equal counts fall to the sku.)"""
        asked = _skus("skus", skus)
        left_out = asked | _skus("exclude", exclude)
        v.positive_int("limit", limit)
        known = sorted(sku for sku in asked if sku in self._items)
        # candidate -> {item asked about -> baskets holding both}
        by: dict[str, dict[str, int]] = {}
        for sku in known:
            for other, count in self._items[sku].neighbours.items():
                if other not in left_out and other in self._items:
                    by.setdefault(other, {})[sku] = count
        asked_baskets = sum(self._items[sku].baskets for sku in known)
        suggestions = [
            self._cross_sell(other, counts, asked_baskets) for other, counts in by.items()
        ]
        suggestions.sort(
            key=lambda suggestion: (-suggestion.together, -suggestion.confidence, suggestion.sku)
        )
        return tuple(suggestions[:limit])

    def _cross_sell(self, sku: str, counts: dict[str, int], asked_baskets: int) -> Suggestion:
        together = sum(counts.values())
        confidence = Fraction(together, asked_baskets)
        lift = confidence * self._baskets / self._items[sku].baskets
        reasons = [
            f"{asked} in {count} of {_baskets(self._items[asked].baskets)}"
            for asked, count in sorted(counts.items())
        ]
        return Suggestion(
            sku=sku,
            kind="cross-sell",
            together=together,
            confidence=confidence,
            lift=lift,
            reason="bought together with " + " and with ".join(reasons),
        )

    def upsell(self, sku: str, *, limit: int = 3) -> tuple[Suggestion, ...]:
        """At most ``limit`` dearer items of the same kind as ``sku``: sharing a tag
        with it, with a higher mean unit price; the most bought first, then the
        cheapest, then by sku. Nothing (an empty tuple) for an item the index does not
        track or that has no tags.

        >>> index = BasketIndex()
        >>> index.upsell("espresso")
        ()
        """
        v.identifier("sku", sku)
        v.positive_int("limit", limit)
        base = self.mean_price(sku)
        item = self._items.get(sku)
        if item is None or base is None or not item.tags:
            return ()
        dearer: list[tuple[int, Decimal, str]] = []
        for other, record in self._items.items():
            if other == sku or item.tags.isdisjoint(record.tags):
                continue
            price = self.mean_price(other)
            if price is not None and price > base:
                dearer.append((-record.baskets, price, other))
        dearer.sort()
        suggestions = []
        for minus_baskets, price, other in dearer[:limit]:
            kind = " or ".join(sorted(item.tags & self._items[other].tags))
            suggestions.append(
                Suggestion(
                    sku=other,
                    kind="upsell",
                    together=-minus_baskets,
                    confidence=Fraction(0),
                    reason=f"dearer {kind}: {price} on average against {base} for {sku}; "
                    f"in {_baskets(-minus_baskets)}",
                )
            )
        return tuple(suggestions)

    def describe(self) -> str:
        """What the index holds, in a sentence."""
        counts = "counts exact" if self._exact else "counts are lower bounds (a limit was reached)"
        return (
            f"{self._baskets} baskets, {len(self._items)} items (at most {self._max_items}, "
            f"each with at most {self._max_neighbours} neighbours); {counts}"
        )

    def __repr__(self) -> str:
        return f"<BasketIndex: {self.describe()}>"


def _baskets(count: int) -> str:
    return "1 basket" if count == 1 else f"{count} baskets"
