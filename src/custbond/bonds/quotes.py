"""Quotes: the discounts a checkout should take off a cart, and where each comes from.

"The more you buy, the more you save": rules with :class:`~custbond.rules.Discount`
effects (conditions on ``state.purchases``, ``state.spent_within(...)``, the cart's
items, a tier) say what a customer's cart earns; a :class:`Quote` lists each discount with
the rule that gave it, spread over the cart's lines.

Rounding: each discount is rounded to the currency's minor unit (half up), then spread
over the lines it applies to in proportion to what they cost, each share rounded down and
the last line taking the remainder (and the lines before it what the last cannot take),
so the lines always add up to the discount. A line never goes below zero: a discount that
would take more is cut to what is left.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

import attrs

from custbond import _validate as v
from custbond.events import LineItem
from custbond.rules.effects import Discount
from custbond.rules.trace import Trace

__all__ = ["Quote", "QuotedDiscount", "allocate"]


@attrs.frozen
class QuotedDiscount:
    """One discount: the ``rule`` that gave it, what it is (``text``), how much it takes
    off (``amount``), and its share of each cart line (``lines``, one per line, in cart
    order)."""

    rule: str
    text: str
    amount: Decimal
    lines: tuple[Decimal, ...]


@attrs.frozen
class Quote:
    """What a cart costs (``subtotal``), the ``discounts`` a checkout should take off,
    their sum (``discount``), what is left to pay (``total``), and the trace of every rule
    considered."""

    subtotal: Decimal
    discounts: tuple[QuotedDiscount, ...]
    discount: Decimal
    total: Decimal
    trace: Trace


def allocate(
    items: Sequence[LineItem],
    discounts: Sequence[tuple[str, Discount]],
    currency: str,
    trace: Trace,
) -> Quote:
    """The quote for ``items`` given the rules' ``discounts``, in the order they came."""
    cent = Decimal(1).scaleb(-v.minor_units(currency))
    left = [item.unit_price * item.quantity for item in items]
    subtotal = sum(left, Decimal(0))
    quoted = []
    for rule, discount in discounts:
        matching = [n for n, item in enumerate(items) if discount.matches(item)]
        base = sum((left[n] for n in matching), Decimal(0))
        if not matching or base <= 0:
            continue
        wanted = discount.value(items)
        amount = min(wanted.quantize(cent, rounding=ROUND_HALF_UP), base)
        if amount <= 0:
            continue
        shares = [Decimal(0)] * len(items)
        for n in matching:
            shares[n] = (amount * left[n] / base).quantize(cent, rounding=ROUND_DOWN)
        # The remainder goes to the last line, and to the ones before it as far as a
        # line's price would be passed: the shares always add up to the discount.
        remainder = amount - sum(shares)
        for n in reversed(matching):
            extra = min(remainder, left[n] - shares[n])
            shares[n] += extra
            remainder -= extra
        for n in matching:
            left[n] -= shares[n]
        quoted.append(QuotedDiscount(rule, discount.describe(), amount, tuple(shares)))
    discount_total = sum((quote.amount for quote in quoted), Decimal(0))
    return Quote(subtotal, tuple(quoted), discount_total, subtotal - discount_total, trace)
