"""Vouchers: what a full punch card, a reward or a gift gives a customer.

A :class:`VoucherOffer` says what a voucher is for; :meth:`VoucherOffer.issue` makes the
:class:`Voucher` a customer holds, with a code that the same inputs always give.

>>> from datetime import datetime, timezone
>>> offer = VoucherOffer("free coffee", sku="latte")
>>> voucher = offer.issue("AB12CD34EF56", "card coffee", datetime(2026, 3, 2, tzinfo=timezone.utc))
>>> (voucher.status.value, voucher.expires_at)
('issued', None)
"""

from __future__ import annotations

import enum
import hashlib
from datetime import datetime, timedelta
from decimal import Decimal

import attrs
from dateutil.relativedelta import relativedelta

from custbond import _validate as v
from custbond._durations import earlier, shift_in, zone_named
from custbond.errors import InvalidInput

__all__ = ["Voucher", "VoucherOffer", "VoucherStatus", "voucher_code"]


@attrs.frozen
class VoucherOffer:
    """What a voucher is for: a free item (``sku``), money off (``value``), or both (a
    free item worth at most ``value``); valid for ``valid_for`` after it is issued
    (``None``: it does not expire)."""

    name: str = attrs.field(validator=v.is_identifier)
    sku: str | None = attrs.field(default=None, kw_only=True, validator=v.is_optional_text)
    value: Decimal | None = attrs.field(
        default=None, kw_only=True, converter=v.to_decimal, validator=v.is_optional_decimal
    )
    valid_for: relativedelta | timedelta | None = attrs.field(
        default=None, kw_only=True, validator=v.is_duration
    )

    def __attrs_post_init__(self) -> None:
        if self.sku is None and self.value is None:
            raise InvalidInput("offer", self.name, "a voucher for an item (sku) or a value")

    def issue(self, code: str, source: str, at: datetime, time_zone: str = "UTC") -> Voucher:
        """The voucher this offer gives, issued at ``at``. ``valid_for`` is added on the
        calendar of ``time_zone`` (the program's, an IANA name), so the expiry depends
        on the instant ``at`` only, not on the tzinfo it is written in."""
        zone = zone_named(time_zone)
        expires_at = None if self.valid_for is None else shift_in(at, self.valid_for, zone)
        return Voucher(code, self.name, self.sku, self.value, source, at, expires_at)


class VoucherStatus(enum.StrEnum):
    """Where a voucher stands: issued (it can be used, unless it expired), used, or
    cancelled (by the host, by a return that took back its cashback, or by cancelling the
    redemption that bought it).

    >>> VoucherStatus("used") is VoucherStatus.USED
    True
    """

    ISSUED = "issued"
    USED = "used"
    CANCELLED = "cancelled"


@attrs.frozen
class Voucher:
    """A voucher a customer holds: its ``code``, what it is for (``name``, a free item
    ``sku`` and/or money off up to ``value``), where it came from (``source``: a card's
    rule, a reward), and its status. It is single use: once used or cancelled it stays
    so. ``expires_at`` None: it does not expire."""

    code: str
    name: str
    sku: str | None
    value: Decimal | None
    source: str
    issued_at: datetime
    expires_at: datetime | None
    status: VoucherStatus = VoucherStatus.ISSUED
    used_at: datetime | None = None

    def usable_at(self, at: datetime) -> bool:
        """Whether it can be used at ``at``: issued, and not expired (the instants
        compared, whatever tzinfos they are written in)."""
        if self.status is not VoucherStatus.ISSUED:
            return False
        return self.expires_at is None or earlier(at, self.expires_at)


def voucher_code(customer_id: str, source: str, event_id: str, number: int) -> str:
    """A voucher's code: the same inputs always give the same code (a replay issues the
    same vouchers), and codes do not reveal the customer or the order.

    >>> voucher_code("c-1", "coffee", "o-9", 1) == voucher_code("c-1", "coffee", "o-9", 1)
    True
    >>> len(voucher_code("c-1", "coffee", "o-9", 1))
    12
    """
    text = "\x1f".join((customer_id, source, event_id, str(number)))
    return hashlib.blake2s(text.encode(), digest_size=6).hexdigest().upper()
