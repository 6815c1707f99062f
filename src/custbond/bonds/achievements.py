"""Achievements: a target over a resetting period, "5 visits this month".

An :class:`Achievement` counts visits, purchases or spend in a calendar period of the
customer's time zone (a day, a week from Monday, a month, a year, or for ever), shows its
progress, and when the target is reached gives its reward once per period: points, a
gift voucher, a tag.

>>> from decimal import Decimal
>>> regular = Achievement("regular", target=5, counts="visits", per="month", points=50)
>>> regular.period_key(__import__("datetime").date(2026, 3, 17))
'2026-03'
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import attrs

from custbond import _validate as v
from custbond.errors import InvalidInput
from custbond.vouchers import VoucherOffer

__all__ = ["Achievement", "AchievementStatus"]

COUNTS = ("visits", "purchases", "spend")
PERIODS = ("day", "week", "month", "year", "ever")


_A_TARGET = "a positive int (or a positive, finite Decimal amount for spend)"


def _to_target(value: Any) -> Any:
    """A numeric string as the Decimal it writes (``"5"``, ``" 12.50 "``), as money fields
    take one; anything else is left for the validator (floats in particular)."""
    return v.to_decimal(value) if isinstance(value, str) else value


def _target(instance: Any, attribute: Any, value: Any) -> None:
    # Finiteness is checked before comparing: a NaN signals on ``<=`` (a bare
    # decimal.InvalidOperation), and an infinite target is never reached.
    unusable = isinstance(value, bool) or not isinstance(value, int | Decimal)
    infinite = isinstance(value, Decimal) and not value.is_finite()
    if unusable or infinite or value <= 0:
        raise InvalidInput("target", value, _A_TARGET)


def _count(counts: str, target: Decimal) -> int:
    """A target of visits or purchases given as a Decimal (positive and finite, as the
    validator saw): the int it is when whole. Visits and purchases are counted one by
    one: 2.5 of them is never the count."""
    if target != target.to_integral_value():
        expected = f"a positive int for {counts} (a count, not an amount: a whole number)"
        raise InvalidInput("target", target, expected)
    v.number("target", target)  # bounded before it is written out as an int
    return int(target)


@attrs.frozen
class Achievement:
    """Reach ``target`` ``counts`` (``"visits"``: purchases and visits, ``"purchases"``,
    or ``"spend"``: money) within each ``per`` (``"day"``, ``"week"``, ``"month"``,
    ``"year"``, or ``"ever"``) to get ``points``, a ``gift`` voucher and/or a ``tag``,
    once per period. ``target`` is a positive int for visits and purchases, a positive
    int or finite Decimal amount for spend. A whole number written as a Decimal or a
    string (``Decimal("5")``, ``"5"``: a rule file's ``target = "5"``) is taken as the
    count it is, an int, so the achievement compares, describes and is written back to
    a rule file as ``target = 5``; a fraction of a visit is refused.

    >>> Achievement("regular", target=Decimal("5"), per="week", points=10).target
    5
    >>> Achievement("big", target="250.00", counts="spend", points=10).target
    Decimal('250.00')
    """

    name: str = attrs.field(validator=v.is_identifier)
    target: int | Decimal = attrs.field(kw_only=True, converter=_to_target, validator=_target)
    counts: str = attrs.field(default="visits", kw_only=True)
    per: str = attrs.field(default="month", kw_only=True)
    points: int = attrs.field(default=0, kw_only=True)
    gift: VoucherOffer | None = attrs.field(default=None, kw_only=True)
    tag: str | None = attrs.field(default=None, kw_only=True, validator=v.is_optional_text)

    @counts.validator
    def _check_counts(self, attribute: object, value: object) -> None:
        if value not in COUNTS:
            raise InvalidInput("counts", value, "'visits', 'purchases' or 'spend'")

    @per.validator
    def _check_per(self, attribute: object, value: object) -> None:
        if value not in PERIODS:
            raise InvalidInput("per", value, "'day', 'week', 'month', 'year' or 'ever'")

    @points.validator
    def _check_points(self, attribute: object, value: object) -> None:
        v.integer("points", value, minimum=0)

    @gift.validator
    def _check_gift(self, attribute: object, value: object) -> None:
        if value is not None and not isinstance(value, VoucherOffer):
            raise InvalidInput("gift", value, "a VoucherOffer or None")

    def __attrs_post_init__(self) -> None:
        if self.counts != "spend" and not isinstance(self.target, int):
            # Frozen: set once, here, as a converter would (it could not see ``counts``).
            object.__setattr__(self, "target", _count(self.counts, self.target))
        if not self.points and self.gift is None and self.tag is None:
            raise InvalidInput("achievement", self.name, "points, a gift or a tag to give")

    def period_key(self, day: date) -> str:
        """The period ``day`` (local) falls in: ``"2026-03"``, ``"2026-W10"``, ..."""
        if self.per == "day":
            return day.isoformat()
        if self.per == "week":
            year, week, _ = day.isocalendar()
            return f"{year}-W{week:02d}"
        if self.per == "month":
            return f"{day.year}-{day.month:02d}"
        if self.per == "year":
            return str(day.year)
        return "ever"

    def amount(self, kind: str, spend: Decimal) -> int | Decimal:
        """What an event of ``kind`` ("Purchase" or "Visit") adds to the progress."""
        if self.counts == "spend":
            return spend if kind == "Purchase" else Decimal(0)
        if self.counts == "purchases":
            return 1 if kind == "Purchase" else 0
        return 1


@attrs.frozen
class AchievementStatus:
    """Where a customer stands on an achievement in the current ``period``: ``progress``
    toward ``target``, and whether it was ``reached``."""

    name: str
    period: str
    progress: int | Decimal
    target: int | Decimal
    reached: bool
