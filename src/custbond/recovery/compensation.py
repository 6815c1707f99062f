"""Compensation after a complaint: a ladder of rungs, held to a limit.

When a complaint is handled, the business offers something back, chosen by how bad the
complaint is (its :class:`~custbond.recovery.severity.Severity`), what the customer is
worth to it (their lifetime spend) and how often they complained lately. A
:class:`CompensationLadder` holds :class:`Rung`\\ s, **tried in the order given: the first
that applies is chosen**; there is no other precedence. When none applies, the customer
gets an apology only. Every chosen compensation includes the apology; a rung that gives
words only says so with :class:`Apology`. The other gestures are :class:`GoodwillPoints`,
:class:`GoodwillVoucher` (money to spend later) and :class:`Refund` (a share of the order).

What a rung gives is then held to the ladder's limit: never worth more than its ``cap``,
nor more than the order's value unless ``exceed_order``. Points are worth ``point_value``
each. The gestures count in the order the rung lists them; the first that would pass the
limit is cut down to what is left (money rounded down to the currency's minor unit,
points down to whole points) and those after it give nothing. An apology is free.

Money is always rounded down, never up: a refund of half of 0.05 USD is 0.02 USD.

A refund gives back money the customer paid, so the refunds of all the complaints about
one order never add up to more than the order is worth, even with ``exceed_order``: a
refund is cut to what the refunds of other complaints about the order (``refunded``)
left of it.

A critical complaint from a customer who spent 1,200, about an order of 80.00: the rung
gives a refund of half the order, at most 40, and 500 points. Under a cap of 50 that is
40.00 back and 500 points worth 5.00: 45.00 in all.

>>> from decimal import Decimal
>>> ladder = CompensationLadder(
...     [
...         Rung(
...             [Refund(Decimal("0.5"), cap=40), GoodwillPoints(500)],
...             severity="critical",
...             spent_at_least=1000,
...         ),
...         Rung([Apology()], severity="medium"),
...     ],
...     cap=50,
... )
>>> compensation, why = ladder.choose(
...     severity="critical",
...     spent=Decimal(1200),
...     earlier_complaints=0,
...     order_value=Decimal("80.00"),
...     currency="USD",
... )
>>> compensation.describe(), compensation.worth(ladder.point_value)
('apology, 500 points, a refund of 40.00 USD', Decimal('45.00'))
>>> print("\\n".join(why))
rung 1 applies: a critical complaint (needs critical), 1200.00 USD spent (needs at least 1000)
worth at most 50.00 USD: the lower of the cap (50.00 USD) and the order's value (80.00 USD)
a refund of 50% of the order, at most 40: 40.00 USD (50% of 80.00 USD is 40.00 USD)
500 goodwill points: worth 5.00 USD
in all: apology, 500 points, a refund of 40.00 USD; worth 45.00 USD

A compensation a host chose itself is checked against the same limit before it is
accepted:

>>> ladder.check(Compensation(refund=Decimal("60.00")), Decimal("80.00"))
Traceback (most recent call last):
...
custbond.errors.InvalidInput: compensation must be compensation worth at most 50.00 USD (the lower of the cap (50.00 USD) and the order's value (80.00 USD); this one is worth 60.00 USD); got Compensation(...)
"""  # noqa: E501 - the doctest's traceback is one line

from __future__ import annotations

import decimal
from collections.abc import Iterable, Mapping, Set
from datetime import timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any

import attrs
from dateutil.relativedelta import relativedelta

from custbond import _validate as v
from custbond._durations import describe_duration
from custbond.errors import InvalidInput
from custbond.recovery.severity import Severity, to_severity

__all__ = [
    "Apology",
    "Compensation",
    "CompensationLadder",
    "Gesture",
    "GoodwillPoints",
    "GoodwillVoucher",
    "Refund",
    "Rung",
]

# Sums and products of money and points are computed exactly, whatever their size (the
# default context would round them to 28 digits first); rounding is always explicit.
_EXACT = decimal.Context(
    prec=decimal.MAX_PREC, rounding=ROUND_DOWN, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN
)


# -- gestures ------------------------------------------------------------------------------


@attrs.frozen
class Apology:
    """Words only: an apology, which costs nothing.

    >>> Apology().describe()
    'apology only'
    """

    def describe(self) -> str:
        """``"apology only"``."""
        return "apology only"


@attrs.frozen
class GoodwillPoints:
    """``points`` goodwill points (a positive int), worth the ladder's ``point_value`` each.

    >>> GoodwillPoints(100).describe()
    '100 goodwill points'
    """

    points: int = attrs.field(validator=v.is_positive_int)

    def describe(self) -> str:
        """``"100 goodwill points"``; ``"1 goodwill point"``."""
        return _count(self.points, "goodwill point")


def _positive(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and value <= 0:
        raise InvalidInput(attribute.alias or attribute.name, value, "a positive Decimal")


@attrs.frozen
class GoodwillVoucher:
    """A money voucher worth ``value`` (a positive Decimal; ints and numeric strings are
    converted exactly, floats are rejected), valid for ``valid_for`` once given
    (``None``: it does not expire). A value with more decimal places than the currency
    has is rounded down when the voucher is given.

    >>> from dateutil.relativedelta import relativedelta
    >>> GoodwillVoucher(Decimal("5.00"), valid_for=relativedelta(months=3)).describe()
    'a 5.00 voucher valid 3 months'
    """

    value: Decimal = attrs.field(converter=v.to_decimal, validator=[v.is_decimal, _positive])
    valid_for: relativedelta | timedelta | None = attrs.field(
        default=None, validator=v.is_duration
    )

    def describe(self) -> str:
        """``"a 5.00 voucher"``, and how long it is valid when it expires."""
        valid = "" if self.valid_for is None else f" valid {describe_duration(self.valid_for)}"
        return f"a {_plain(self.value)} voucher{valid}"


def _is_share(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    v.decimal("share", value)
    if not 0 < value <= 1:
        raise InvalidInput("share", value, "a Decimal above 0 and at most 1")


def _is_refund_cap(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None:
        v.decimal("cap", value)
        if value <= 0:
            raise InvalidInput("cap", value, "a positive Decimal or None")


@attrs.frozen
class Refund:
    """A refund of ``share`` of the order's value (above 0, at most 1), rounded down to
    the currency's minor unit, and at most ``cap`` (``None``: no cap of its own), nor
    more than other complaints' refunds left of the order. Without an order value it
    gives nothing.

    >>> Refund(Decimal("0.5"), cap=Decimal("40.00")).describe()
    'a refund of 50% of the order, at most 40.00'
    """

    share: Decimal = attrs.field(converter=v.to_decimal, validator=_is_share)
    cap: Decimal | None = attrs.field(
        default=None, converter=v.to_decimal, validator=_is_refund_cap
    )

    def describe(self) -> str:
        """``"a refund of 50% of the order"``, and its cap when it has one."""
        percent = _percent(self.share)
        capped = "" if self.cap is None else f", at most {_plain(self.cap)}"
        return f"a refund of {percent}% of the order{capped}"


Gesture = Apology | GoodwillPoints | GoodwillVoucher | Refund
"""What a rung gives: :class:`Apology`, :class:`GoodwillPoints`, :class:`GoodwillVoucher`
or :class:`Refund`."""

_GESTURES = (Apology, GoodwillPoints, GoodwillVoucher, Refund)


# -- what is given -------------------------------------------------------------------------


def _is_flag(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, bool):
        raise InvalidInput(attribute.alias or attribute.name, value, "True or False")


def _is_count(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    v.integer(attribute.alias or attribute.name, value, minimum=0)


def _is_amount(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    field = attribute.alias or attribute.name
    v.decimal(field, value)
    v.money(field, value, instance.currency)


@attrs.frozen
class Compensation:
    """What a complaint's customer is given, in ``currency``: an ``apology`` (or not),
    goodwill ``points``, a ``voucher`` worth this much money (valid for
    ``voucher_valid_for``, ``None``: it does not expire), and a ``refund``. Amounts are
    non-negative and have no more decimal places than the currency has; a validity
    needs a voucher.

    This is what :meth:`CompensationLadder.choose` returns, and what a host that chooses
    compensation itself records (after :meth:`CompensationLadder.check`).

    >>> given = Compensation(points=200, voucher=Decimal("10.00"), refund=Decimal("25.00"))
    >>> given.describe(), given.worth(Decimal("0.01"))
    ('apology, 200 points, a 10.00 USD voucher, a refund of 25.00 USD', Decimal('37.00'))
    >>> Compensation().describe(), Compensation(apology=False).is_nothing
    ('apology only', True)
    """

    currency: str = attrs.field(default="USD", validator=v.is_currency)
    apology: bool = attrs.field(default=True, kw_only=True, validator=_is_flag)
    points: int = attrs.field(default=0, kw_only=True, validator=_is_count)
    voucher: Decimal = attrs.field(
        default=Decimal(0), kw_only=True, converter=v.to_decimal, validator=_is_amount
    )
    voucher_valid_for: relativedelta | timedelta | None = attrs.field(
        default=None, kw_only=True, validator=v.is_duration
    )
    refund: Decimal = attrs.field(
        default=Decimal(0), kw_only=True, converter=v.to_decimal, validator=_is_amount
    )

    def __attrs_post_init__(self) -> None:
        if self.voucher_valid_for is not None and self.voucher == 0:
            raise InvalidInput(
                "voucher_valid_for", self.voucher_valid_for, "None when there is no voucher"
            )

    @property
    def is_nothing(self) -> bool:
        """True when it gives nothing at all, not even an apology.

        >>> Compensation(apology=False).is_nothing, Compensation().is_nothing
        (True, False)
        """
        return not self.apology and not self.points and not self.voucher and not self.refund

    def worth(self, point_value: Decimal) -> Decimal:
        """What it is worth in money, exactly: ``refund + voucher + points * point_value``
        (``point_value`` a positive Decimal). An apology is free.

        >>> Compensation(points=150, refund=Decimal("2.50")).worth(Decimal("0.01"))
        Decimal('4.00')
        """
        v.decimal("point_value", point_value)
        if point_value <= 0:
            raise InvalidInput("point_value", point_value, "a positive Decimal")
        money = _EXACT.add(self.refund, self.voucher)
        return _EXACT.add(money, _EXACT.multiply(Decimal(self.points), point_value))

    def describe(self) -> str:
        """What it gives, in words: ``"apology, 200 points, a 10.00 USD voucher, a refund
        of 25.00 USD"``; ``"apology only"``; ``"nothing"``.

        >>> Compensation("JPY", apology=False, refund=Decimal(500)).describe()
        'a refund of 500 JPY'
        """
        parts = ["apology"] if self.apology else []
        if self.points:
            parts.append(_count(self.points, "point"))
        if self.voucher:
            valid = self.voucher_valid_for
            parts.append(
                f"a {_money(self.voucher, self.currency)} voucher"
                + ("" if valid is None else f" valid {describe_duration(valid)}")
            )
        if self.refund:
            parts.append(f"a refund of {_money(self.refund, self.currency)}")
        if parts == ["apology"]:
            return "apology only"
        return ", ".join(parts) or "nothing"


# -- rungs ---------------------------------------------------------------------------------


def _to_tuple(value: Any) -> Any:
    """A list (or any ordered iterable) becomes a tuple. Anything else, sets included
    (their order is not theirs to give), is left for the validator to reject."""
    if isinstance(value, Iterable) and not isinstance(value, str | bytes | Mapping | Set | tuple):
        return tuple(value)
    return value


def _to_gestures(value: Any) -> Any:
    """A sequence of gestures becomes a tuple (anything else is left to be rejected)."""
    return _to_tuple(value)


def _is_gestures(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, tuple) or not value:
        raise InvalidInput("give", value, "a non-empty sequence of gestures")
    for gesture in value:
        if not isinstance(gesture, _GESTURES):
            raise InvalidInput(
                "give", gesture, "an Apology, GoodwillPoints, GoodwillVoucher or Refund"
            )
    validities = [gesture.valid_for for gesture in value if isinstance(gesture, GoodwillVoucher)]
    if any(validity != validities[0] for validity in validities):
        raise InvalidInput(
            "give",
            value,
            "vouchers that are all valid for the same time (they are given as one voucher)",
        )


def _to_rung_severity(value: Any) -> Severity:
    return to_severity(value)


def _is_optional_count(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None:
        v.integer("complaints_at_most", value, minimum=instance.complaints_at_least)


@attrs.frozen
class Rung:
    """A rung of a :class:`CompensationLadder`: what it gives (``give``, a non-empty
    sequence of gestures, counted in this order) and when it applies. It applies when the
    complaint is at least as severe as ``severity``, the customer spent at least
    ``spent_at_least`` in their lifetime, and the count of their earlier complaints in
    the ladder's window is between ``complaints_at_least`` and ``complaints_at_most``
    (both included; ``None``: no upper bound).

    The vouchers of a rung are given as one voucher, so they must all be valid for the
    same time.

    >>> rung = Rung([GoodwillPoints(200)], severity="high", complaints_at_most=2)
    >>> rung.describe()
    'high or worse complaints, with at most 2 earlier complaints: 200 goodwill points'
    >>> rung.applies(Severity.CRITICAL, Decimal(0), 2), rung.applies(Severity.MEDIUM, 0, 0)
    (True, False)
    """

    give: tuple[Gesture, ...] = attrs.field(converter=_to_gestures, validator=_is_gestures)
    severity: Severity = attrs.field(
        default=Severity.LOW, kw_only=True, converter=_to_rung_severity
    )
    spent_at_least: Decimal = attrs.field(
        default=Decimal(0), kw_only=True, converter=v.to_decimal, validator=v.is_decimal
    )
    complaints_at_least: int = attrs.field(default=0, kw_only=True, validator=_is_count)
    complaints_at_most: int | None = attrs.field(
        default=None, kw_only=True, validator=_is_optional_count
    )

    def applies(self, severity: Severity | str, spent: Decimal, earlier_complaints: int) -> bool:
        """Whether this rung applies to a complaint of ``severity`` from a customer who
        spent ``spent`` and made ``earlier_complaints`` complaints in the window."""
        severity = to_severity(severity)
        spent = v.decimal("spent", spent)
        earlier_complaints = v.integer("earlier_complaints", earlier_complaints, minimum=0)
        return self._miss(severity, spent, earlier_complaints, "") is None

    def _miss(
        self, severity: Severity, spent: Decimal, earlier_complaints: int, currency: str
    ) -> str | None:
        """Why the rung does not apply, or None when it does."""
        complaints = _count(earlier_complaints, "earlier complaint")
        verb = "is" if earlier_complaints == 1 else "are"
        if severity < self.severity:
            return f"a {severity} complaint is below {self.severity}"
        if spent < self.spent_at_least:
            return f"{_money(spent, currency)} spent is below {_plain(self.spent_at_least)}"
        if earlier_complaints < self.complaints_at_least:
            return f"{complaints} {verb} fewer than {self.complaints_at_least}"
        if self.complaints_at_most is not None and earlier_complaints > self.complaints_at_most:
            return f"{complaints} {verb} more than {self.complaints_at_most}"
        return None

    def _met(
        self,
        severity: Severity,
        spent: Decimal,
        earlier_complaints: int,
        currency: str,
        window: str,
    ) -> str:
        """Why the rung applies: what each of its conditions needs."""
        met = []
        if self.severity > Severity.LOW:
            worse = "" if self.severity is Severity.CRITICAL else " or worse"
            met.append(f"a {severity} complaint (needs {self.severity}{worse})")
        if self.spent_at_least > 0:
            met.append(
                f"{_money(spent, currency)} spent (needs at least {_plain(self.spent_at_least)})"
            )
        bounds = self._complaints()
        if bounds is not None:
            complaints = _count(earlier_complaints, "earlier complaint")
            met.append(f"{complaints} in {window} (needs {bounds})")
        return ", ".join(met) or "it applies to every complaint"

    def _complaints(self) -> str | None:
        """The bounds on earlier complaints in words; None when there are none."""
        low, high = self.complaints_at_least, self.complaints_at_most
        if high is None:
            return None if low == 0 else f"at least {_count(low, 'earlier complaint')}"
        if low == high:
            return (
                "no earlier complaints"
                if high == 0
                else f"exactly {_count(high, 'earlier complaint')}"
            )
        if low == 0:
            return f"at most {_count(high, 'earlier complaint')}"
        return f"{low} to {high} earlier complaints"

    def describe(self) -> str:
        """When the rung applies and what it gives, in words."""
        if self.severity is Severity.LOW:
            when = ["any complaint"]
        elif self.severity is Severity.CRITICAL:
            when = ["critical complaints"]
        else:
            when = [f"{self.severity} or worse complaints"]
        if self.spent_at_least > 0:
            when.append(f"from customers who spent at least {_plain(self.spent_at_least)}")
        bounds = self._complaints()
        if bounds is not None:
            when.append(f"with {bounds}")
        gives = "; ".join(gesture.describe() for gesture in self.give)
        return f"{', '.join(when)}: {gives}"


# -- the ladder ----------------------------------------------------------------------------


def _to_rungs(value: Any) -> Any:
    """A sequence of rungs becomes a tuple (anything else is left to be rejected)."""
    return _to_tuple(value)


def _is_rungs(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, tuple):
        raise InvalidInput("rungs", value, "a sequence of Rungs")
    for rung in value:
        if not isinstance(rung, Rung):
            raise InvalidInput("rungs", rung, "a Rung")


def _is_window(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None:
        raise InvalidInput("window", value, "a relativedelta or a timedelta")
    v.duration("window", value)


def _twelve_months() -> relativedelta:
    return relativedelta(months=12)


@attrs.frozen
class CompensationLadder:
    """The compensation policy for complaints: ``rungs`` tried in the order given (the
    first that applies is chosen; none applying gives an apology only), and the limit
    that what they give is held to.

    ``cap`` (a Decimal of at least 0, ``None``: no cap) is the most a compensation may be
    worth; it is never worth more than the order either, unless ``exceed_order``.
    ``point_value`` is what a goodwill point is worth in money (above 0). ``window`` is
    how far back earlier complaints count (the host counts them; the ladder says so in
    its explanations).

    >>> ladder = CompensationLadder(
    ...     [Rung([GoodwillVoucher(Decimal("10.00"))], severity="high")], cap=Decimal(25)
    ... )
    >>> print(ladder.describe())
    Compensation: the first rung that applies (earlier complaints counted over 1 year; a goodwill point is worth 0.01; worth at most 25 and never more than the order):
      1. high or worse complaints: a 10.00 voucher
      otherwise: apology only
    """  # noqa: E501 - the doctest's output is one line

    rungs: tuple[Rung, ...] = attrs.field(converter=_to_rungs, validator=_is_rungs)
    cap: Decimal | None = attrs.field(
        default=None, kw_only=True, converter=v.to_decimal, validator=v.is_optional_decimal
    )
    point_value: Decimal = attrs.field(
        default=Decimal("0.01"),
        kw_only=True,
        converter=v.to_decimal,
        validator=[v.is_decimal, _positive],
    )
    exceed_order: bool = attrs.field(default=False, kw_only=True, validator=_is_flag)
    window: relativedelta | timedelta = attrs.field(
        factory=_twelve_months, kw_only=True, validator=_is_window
    )

    def limit(self, order_value: Decimal | None) -> Decimal | None:
        """The most a compensation may be worth for an order of ``order_value`` (``None``:
        no order): the lower of the cap and the order's value (unless ``exceed_order``);
        ``None`` when neither applies.

        >>> ladder = CompensationLadder([], cap=Decimal(50))
        >>> ladder.limit(Decimal("30.00")), ladder.limit(None)
        (Decimal('30.00'), Decimal('50'))
        """
        return self._limit(_order_value(order_value))

    def _limit(self, order_value: Decimal | None) -> Decimal | None:
        order = None if self.exceed_order else order_value
        if self.cap is not None and order is not None:
            return min(self.cap, order)
        return self.cap if order is None else order

    def _why_limit(self, order_value: Decimal | None, currency: str) -> str:
        """Where the limit comes from, in words."""
        order = None if self.exceed_order else order_value
        if self.cap is not None and order is not None:
            return (
                f"the lower of the cap ({_money(self.cap, currency)}) and the order's value "
                f"({_money(order, currency)})"
            )
        if self.cap is not None:
            exceeds = ", which may exceed the order" if order_value is not None else ""
            return f"the cap ({_money(self.cap, currency)}){exceeds}"
        if order is not None:
            return f"the order's value ({_money(order, currency)})"
        if self.exceed_order:
            return "no cap, and compensation may exceed the order"
        return "no cap, and no order value"

    def choose(
        self,
        *,
        severity: Severity | str,
        spent: Decimal,
        earlier_complaints: int,
        order_value: Decimal | None,
        currency: str,
        refunded: Decimal = Decimal(0),
    ) -> tuple[Compensation, tuple[str, ...]]:
        """The compensation for a complaint of ``severity`` from a customer who spent
        ``spent`` in their lifetime and made ``earlier_complaints`` complaints in the
        ladder's window, about an order worth ``order_value`` in ``currency`` (``None``:
        no order, so no refund) of which ``refunded`` was already refunded for other
        complaints, and the lines that explain it: which rung applies and why (and why
        the ones before it do not), the limit, what each gesture gives and each cut. A
        refund is never more than what is left of the order's value once ``refunded`` is
        taken off it.

        >>> ladder = CompensationLadder(
        ...     [Rung([GoodwillVoucher(Decimal("8.00")), GoodwillPoints(500)])], cap=10
        ... )
        >>> compensation, why = ladder.choose(
        ...     severity="low",
        ...     spent=Decimal(0),
        ...     earlier_complaints=0,
        ...     order_value=None,
        ...     currency="USD",
        ... )
        >>> compensation.describe()
        'apology, 200 points, a 8.00 USD voucher'
        >>> why[-2]
        '500 goodwill points: cut to 200 (only 2.00 USD was left under the limit of 10.00 USD)'
        """
        severity = to_severity(severity)
        spent = v.decimal("spent", spent)
        earlier_complaints = v.integer("earlier_complaints", earlier_complaints, minimum=0)
        currency = v.currency("currency", currency)
        order_value = _order_value(order_value, currency)
        refunded = _refunded(refunded, currency)

        lines = []
        chosen = None
        for number, rung in enumerate(self.rungs, start=1):
            miss = rung._miss(severity, spent, earlier_complaints, currency)
            if miss is not None:
                lines.append(f"rung {number} does not apply: {miss}")
                continue
            window = describe_duration(self.window)
            met = rung._met(severity, spent, earlier_complaints, currency, window)
            lines.append(f"rung {number} applies: {met}")
            chosen = rung
            break
        if chosen is None:
            lines.append("no rung applies: an apology only")
            return Compensation(currency), tuple(lines)

        limit = self._limit(order_value)
        why = self._why_limit(order_value, currency)
        lines.append(why if limit is None else f"worth at most {_money(limit, currency)}: {why}")
        given = _Giving(limit, self.point_value, currency, order_value, refunded)
        for gesture in chosen.give:
            lines.extend(given.give(gesture))
        compensation = given.compensation()
        worth = _money(compensation.worth(self.point_value), currency)
        lines.append(f"in all: {compensation.describe()}; worth {worth}")
        return compensation, tuple(lines)

    def check(
        self,
        compensation: Compensation,
        order_value: Decimal | None,
        *,
        refunded: Decimal = Decimal(0),
    ) -> None:
        """Raise :class:`~custbond.errors.InvalidInput` when ``compensation`` (one a host
        chose itself) is worth more than this ladder allows for an order of
        ``order_value`` (``None``: no order), or refunds more than is left of the order's
        value once ``refunded`` (refunded for other complaints about it) is taken off;
        return None when it is within both. Nothing is changed either way.

        >>> ladder = CompensationLadder([], cap=Decimal(20))
        >>> ladder.check(Compensation(refund=Decimal("20.00")), Decimal("35.00"))
        >>> ladder.check(Compensation(points=2001), None)
        Traceback (most recent call last):
        ...
        custbond.errors.InvalidInput: compensation must be compensation worth at most 20.00 USD (the cap (20.00 USD); this one is worth 20.01 USD); got Compensation(...)
        """  # noqa: E501 - the doctest's traceback is one line
        if not isinstance(compensation, Compensation):
            raise InvalidInput("compensation", compensation, "a Compensation")
        currency = compensation.currency
        order_value = _order_value(order_value, currency)
        refunded = _refunded(refunded, currency)
        limit = self._limit(order_value)
        worth = compensation.worth(self.point_value)
        if limit is not None and worth > limit:
            reason = self._why_limit(order_value, currency)
            raise InvalidInput(
                "compensation",
                compensation,
                f"compensation worth at most {_money(limit, currency)} "
                f"({reason}; this one is worth {_money(worth, currency)})",
            )
        left = _left_to_refund(order_value, refunded)
        if left is not None and compensation.refund > left:
            assert order_value is not None  # nothing is left of no order
            order = _money(order_value, currency)
            why = (
                f"what is left of the order's {order} once {_money(refunded, currency)} "
                "was refunded for other complaints"
                if refunded
                else f"the order's value, {order}, even with exceed_order"
            )
            raise InvalidInput(
                "compensation",
                compensation,
                f"a refund of at most {_money(left, currency)} ({why}; this one refunds "
                f"{_money(compensation.refund, currency)})",
            )

    def describe(self) -> str:
        """The ladder in words: its rungs in order, and its limit."""
        if self.cap is None:
            limit = "" if self.exceed_order else "; never worth more than the order"
        elif self.exceed_order:
            limit = f"; worth at most {_plain(self.cap)}, which may exceed the order"
        else:
            limit = f"; worth at most {_plain(self.cap)} and never more than the order"
        head = (
            "Compensation: the first rung that applies (earlier complaints counted over "
            f"{describe_duration(self.window)}; a goodwill point is worth "
            f"{_plain(self.point_value)}{limit}):"
        )
        rungs = [f"  {n}. {rung.describe()}" for n, rung in enumerate(self.rungs, start=1)]
        return "\n".join([head, *rungs, "  otherwise: apology only"])


class _Giving:
    """What a rung's gestures add up to, in order, under the limit (``None``: none)."""

    def __init__(
        self,
        limit: Decimal | None,
        point_value: Decimal,
        currency: str,
        order_value: Decimal | None,
        refunded: Decimal = Decimal(0),
    ) -> None:
        self.limit = limit
        self.point_value = point_value
        self.currency = currency
        self.order_value = order_value
        self.refunded = refunded  # by other complaints about the order
        self.worth = Decimal(0)
        self.cut = False  # once a gesture is cut, those after it give nothing
        self.points = 0
        self.voucher = Decimal(0)
        self.valid_for: relativedelta | timedelta | None = None
        self.refund = Decimal(0)

    def give(self, gesture: Gesture) -> list[str]:
        """Add ``gesture``; the lines that say what it gave."""
        if isinstance(gesture, Apology):
            return []  # free: every compensation has the apology
        if isinstance(gesture, GoodwillPoints):
            return self._points(gesture)
        if isinstance(gesture, GoodwillVoucher):
            amount = _round_down(gesture.value, self.currency)
            what = self._money_text(amount)
            if amount != gesture.value:
                what += f" (rounded down to the {self.currency} minor unit)"
            return self._money(gesture, amount, what)
        if self.order_value is None:
            return [f"{gesture.describe()}: gives nothing (no order value was given)"]
        share = _round_down(_EXACT.multiply(self.order_value, gesture.share), self.currency)
        percent = _percent(gesture.share)
        how = f"{percent}% of {self._money_text(self.order_value)} is {self._money_text(share)}"
        if gesture.cap is not None and share > gesture.cap:
            share = _round_down(gesture.cap, self.currency)
            how += f", capped at {self._money_text(share)}"
        # What this rung refunded already counts too: two Refunds never give back more.
        left = _left_to_refund(self.order_value, _EXACT.add(self.refunded, self.refund))
        assert left is not None  # there is an order value
        if share > left:
            share = left
            how += f", cut to {self._money_text(share)}: {self._already(self.refund)}"
        return self._money(gesture, share, f"{self._money_text(share)} ({how})")

    def _already(self, refunds: Decimal) -> str:
        """Why less is left to refund than the order's value, in words."""
        parts = []
        if self.refunded:
            parts.append(
                f"{self._money_text(self.refunded)} of it was already refunded for other "
                "complaints"
            )
        if refunds:
            parts.append(f"{self._money_text(refunds)} by this compensation's refunds before")
        return " and ".join(parts)

    def _left(self) -> Decimal | None:
        return None if self.limit is None else _EXACT.subtract(self.limit, self.worth)

    def _points(self, gesture: GoodwillPoints) -> list[str]:
        worth = _EXACT.multiply(Decimal(gesture.points), self.point_value)
        left = self._left()
        points = gesture.points
        if self.cut or (left is not None and worth > left):
            assert left is not None  # nothing is cut without a limit
            points = 0 if self.cut else _whole_points(left, self.point_value)
            worth = _EXACT.multiply(Decimal(points), self.point_value)
            line = self._cut_line(gesture, str(points), points, left)
            self.cut = True
        else:
            line = f"{gesture.describe()}: worth {self._money_text(worth)}"
        self.points += points
        self.worth = _EXACT.add(self.worth, worth)
        return [line]

    def _money(self, gesture: GoodwillVoucher | Refund, amount: Decimal, what: str) -> list[str]:
        left = self._left()
        if self.cut or (left is not None and amount > left):
            assert left is not None  # nothing is cut without a limit
            amount = Decimal(0) if self.cut else _round_down(left, self.currency)
            line = self._cut_line(gesture, self._money_text(amount), amount, left)
            self.cut = True
        else:
            line = f"{gesture.describe()}: {what}"
        if isinstance(gesture, GoodwillVoucher):
            self.voucher = _EXACT.add(self.voucher, amount)
            if amount:
                self.valid_for = gesture.valid_for
        else:
            self.refund = _EXACT.add(self.refund, amount)
        self.worth = _EXACT.add(self.worth, amount)
        return [line]

    def _cut_line(self, gesture: Gesture, cut_to: str, amount: object, left: Decimal) -> str:
        """Why ``gesture`` gives only ``amount`` (``cut_to`` in words), or nothing."""
        assert self.limit is not None
        limit = self._money_text(self.limit)
        if self.cut:
            return f"{gesture.describe()}: dropped (the limit of {limit} was reached)"
        if not left:
            return f"{gesture.describe()}: dropped (nothing was left under the limit of {limit})"
        left_text = f"{self._money_text(left)} was left under the limit of {limit}"
        if not amount:
            return f"{gesture.describe()}: dropped (only {left_text})"
        return f"{gesture.describe()}: cut to {cut_to} (only {left_text})"

    def _money_text(self, amount: Decimal) -> str:
        return _money(amount, self.currency)

    def compensation(self) -> Compensation:
        """What the gestures given so far add up to, with the apology."""
        return Compensation(
            self.currency,
            points=self.points,
            voucher=self.voucher,
            voucher_valid_for=self.valid_for if self.voucher else None,
            refund=self.refund,
        )


# -- helpers -------------------------------------------------------------------------------


def _order_value(value: Any, currency: str | None = None) -> Decimal | None:
    """An order's value: None, or a Decimal of at least 0 (in ``currency``'s minor units
    when it is given)."""
    if value is None:
        return None
    amount = v.decimal("order_value", value)
    return amount if currency is None else v.money("order_value", amount, currency)


def _refunded(value: Any, currency: str) -> Decimal:
    """What was already refunded for other complaints about the order: a Decimal of at
    least 0, in ``currency``'s minor units."""
    return v.money("refunded", v.decimal("refunded", value), currency)


def _left_to_refund(order_value: Decimal | None, refunded: Decimal) -> Decimal | None:
    """What may still be refunded of an order worth ``order_value`` once ``refunded`` was
    (never below 0); None without an order value."""
    if order_value is None:
        return None
    return max(_EXACT.subtract(order_value, refunded), Decimal(0))


def _unit(currency: str) -> Decimal:
    return Decimal(1).scaleb(-v.minor_units(currency))


def _round_down(amount: Decimal, currency: str) -> Decimal:
    """``amount`` rounded down to ``currency``'s minor unit: 0.019 USD is 0.01 USD."""
    return amount.quantize(_unit(currency), rounding=ROUND_DOWN, context=_EXACT)


def _whole_points(money: Decimal, point_value: Decimal) -> int:
    """How many whole points ``money`` buys at ``point_value`` each (rounded down),
    computed exactly in integers."""
    money_top, money_bottom = money.as_integer_ratio()
    value_top, value_bottom = point_value.as_integer_ratio()
    return (money_top * value_bottom) // (money_bottom * value_top)


def _money(amount: Decimal, currency: str) -> str:
    """``"40.00 USD"``: with the currency's decimal places when it fits them, else as is."""
    if currency:
        rounded = _round_down(amount, currency)
        if rounded == amount:
            amount = rounded
    text = format(amount, "f")
    return f"{text} {currency}" if currency else text


def _plain(amount: Decimal) -> str:
    """A Decimal as it was given, without an exponent: ``Decimal("5.00")`` as ``"5.00"``,
    ``Decimal("5E+1")`` as ``"50"``."""
    return format(amount, "f")


def _percent(share: Decimal) -> str:
    """A share as a percentage: ``Decimal("0.125")`` as ``"12.5"``."""
    percent = _EXACT.multiply(share, Decimal(100))
    if percent == percent.to_integral_value():
        return format(percent.quantize(Decimal(1), context=_EXACT), "f")
    return format(percent.normalize(_EXACT), "f")


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
