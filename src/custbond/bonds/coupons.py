"""Coupons: codes a customer brings to a checkout, single or made in bulk.

A :class:`Coupon` gives money off at checkout (a :class:`~custbond.rules.Discount`, shown
by :meth:`~custbond.RetentionService.quote`) and/or points when used, between ``starts``
and ``ends``, at most ``uses`` times across all customers (a counter in the store, taken
in the same transaction as the use) and ``per_customer`` times by one customer.
:func:`coupon_codes` makes codes in bulk.

>>> codes = coupon_codes("SPRING", 3, seed="spring-2026")
>>> len(codes), codes[0].startswith("SPRING-"), len(set(codes))
(3, True, 3)
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import attrs

from custbond import _validate as v
from custbond.errors import InvalidInput
from custbond.rules.effects import Discount

__all__ = ["Coupon", "CouponUses", "coupon_codes", "coupons"]


def _code(instance: Any, attribute: Any, value: Any) -> None:
    v.identifier("code", value)
    if value != value.upper() or " " in value:
        raise InvalidInput("code", value, "upper case, without spaces")


@attrs.frozen
class Coupon:
    """The coupon ``code``: ``discount`` at checkout and/or ``points`` when used, valid
    from ``starts`` until before ``ends``, ``uses`` times in all (None: no end) and
    ``per_customer`` times by one customer (None: no limit)."""

    code: str = attrs.field(validator=_code)
    discount: Discount | None = attrs.field(default=None, kw_only=True)
    points: int = attrs.field(default=0, kw_only=True)
    starts: datetime | None = attrs.field(
        default=None, kw_only=True, validator=v.is_optional_aware
    )
    ends: datetime | None = attrs.field(default=None, kw_only=True, validator=v.is_optional_aware)
    uses: int | None = attrs.field(
        default=None, kw_only=True, validator=v.is_optional_positive_int
    )
    per_customer: int | None = attrs.field(
        default=1, kw_only=True, validator=v.is_optional_positive_int
    )

    @discount.validator
    def _check_discount(self, attribute: object, value: object) -> None:
        if value is not None and not isinstance(value, Discount):
            raise InvalidInput("discount", value, "a Discount or None")

    @points.validator
    def _check_points(self, attribute: object, value: object) -> None:
        v.integer("points", value, minimum=0)

    def __attrs_post_init__(self) -> None:
        if self.discount is None and not self.points:
            raise InvalidInput("coupon", self.code, "a discount or points to give")
        if self.starts is not None and self.ends is not None and self.ends <= self.starts:
            expected = f"a time after starts ({self.starts.isoformat()})"
            raise InvalidInput("ends", self.ends, expected)

    @property
    def counter(self) -> str:
        """The store's counter of this coupon's uses, across customers."""
        return f"coupon {self.code}"

    def problem(self, at: datetime, used: int, used_by_customer: int) -> str | None:
        """Why the coupon cannot be used at ``at``, having been used ``used`` times in all
        and ``used_by_customer`` times by this customer; None when it can."""
        if self.starts is not None and at < self.starts:
            return f"is valid from {self.starts.isoformat()}"
        if self.ends is not None and at >= self.ends:
            return f"expired at {self.ends.isoformat()}"
        if self.uses is not None and used >= self.uses:
            return f"has been used up ({self.uses} uses)"
        if self.per_customer is not None and used_by_customer >= self.per_customer:
            times = "once" if self.per_customer == 1 else f"{self.per_customer} times"
            return f"can be used {times} per customer, and was"
        return None


@attrs.frozen
class CouponUses:
    """How many times ``code`` was used across all customers: what the service reads from
    the store for a use to be decided on."""

    code: str
    used: int


def coupon_codes(prefix: str, count: int, *, seed: str) -> tuple[str, ...]:
    """``count`` distinct codes ``PREFIX-XXXXXXXX``, the same for the same ``seed`` (so a
    program built twice holds the same codes), hard to guess without it."""
    v.identifier("prefix", prefix)
    v.positive_int("count", count)
    codes: list[str] = []
    seen: set[str] = set()
    n = 0
    while len(codes) < count:
        digest = hashlib.blake2s(f"{seed}\x1f{n}".encode(), digest_size=5).hexdigest()
        code = f"{prefix.upper()}-{digest.upper()}"
        n += 1
        if code not in seen:
            seen.add(code)
            codes.append(code)
    return tuple(codes)


def coupons(codes: Iterable[str], **fields: Any) -> tuple[Coupon, ...]:
    """One :class:`Coupon` per code, all alike (``fields`` as for Coupon): a campaign of
    single-use codes is ``coupons(coupon_codes("SPRING", 500, seed=...), points=50,
    uses=1)``."""
    return tuple(Coupon(code, **fields) for code in codes)
