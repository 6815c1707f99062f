"""Punch cards and vouchers: "buy 10 coffees, the 11th is free".

A :class:`PunchCard` collects stamps for what counts (an item by SKU or tag, any
purchase, or any visit). When it is full it issues a :class:`Voucher` for its reward and
starts again, carrying over stamps beyond the full card. A card may have its own expiry:
stamps lapse a set time after the card's first stamp.

>>> from decimal import Decimal
>>> coffee_card = PunchCard(
...     "coffee",
...     stamps=10,
...     tag="coffee",
...     reward=VoucherOffer("free coffee", sku="latte", valid_for=relativedelta(months=3)),
... )
>>> coffee_card.rule().on
frozenset({'Purchase'})
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import attrs
from dateutil.relativedelta import relativedelta

from custbond import _validate as v
from custbond._durations import reached, shift_in, zone_named
from custbond.errors import InvalidInput
from custbond.rules.effects import Stamps
from custbond.rules.rule import Rule
from custbond.vouchers import Voucher, VoucherOffer, VoucherStatus, voucher_code

__all__ = ["PunchCard", "Voucher", "VoucherOffer", "VoucherStatus", "voucher_code"]


def _counts_on(value: Any) -> str:
    if value not in ("Purchase", "Visit"):
        raise InvalidInput("on", value, "'Purchase' or 'Visit'")
    return str(value)


@attrs.frozen
class PunchCard:
    """A card of ``stamps`` stamps that gives ``reward`` when full.

    On purchases (the default), each item with ``sku`` and/or ``tag`` earns a stamp per
    unit bought; without ``sku`` or ``tag`` each purchase earns one. With
    ``on="Visit"`` each visit earns one. ``expire_after``: stamps lapse this long after
    the card's first stamp (``None``: they never do).

    "Buy 10 coffees, the 11th is free" is ``stamps=10`` with a voucher for a coffee;
    "buy 10 haircuts, the 10th is free" is ``stamps=9``.
    """

    name: str = attrs.field(validator=v.is_identifier)
    stamps: int = attrs.field(kw_only=True, validator=v.is_positive_int)
    reward: VoucherOffer = attrs.field(kw_only=True)
    sku: str | None = attrs.field(default=None, kw_only=True, validator=v.is_optional_text)
    tag: str | None = attrs.field(default=None, kw_only=True, validator=v.is_optional_text)
    on: str = attrs.field(default="Purchase", kw_only=True, converter=_counts_on)
    expire_after: relativedelta | timedelta | None = attrs.field(
        default=None, kw_only=True, validator=v.is_duration
    )

    @reward.validator
    def _check_reward(self, attribute: object, value: object) -> None:
        if not isinstance(value, VoucherOffer):
            raise InvalidInput("reward", value, "a VoucherOffer")

    def __attrs_post_init__(self) -> None:
        if self.on == "Visit" and (self.sku is not None or self.tag is not None):
            raise InvalidInput("on", self.on, "'Purchase' when a sku or tag counts")

    def rule(self) -> Rule:
        """The rule that stamps this card: ``"card <name>"``."""
        return Rule(
            f"card {self.name}",
            on=self.on,
            then=[Stamps(self.name, sku=self.sku, tag=self.tag)],
        )

    def lapsed(self, started_at: datetime | None, at: datetime, time_zone: str = "UTC") -> bool:
        """Whether stamps collected since ``started_at`` have lapsed by ``at``:
        ``expire_after`` is added on the calendar of ``time_zone`` (the program's, an IANA
        name), so the answer depends on the instants only."""
        zone = zone_named(time_zone)
        if started_at is None or self.expire_after is None:
            return False
        return reached(at, shift_in(started_at, self.expire_after, zone))
