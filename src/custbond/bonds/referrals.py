"""Referrals: a referrer and a referee, each rewarded once.

A :class:`~custbond.Referral` event says who brought whom. Under a program's
:class:`ReferralPolicy`, the referee's first purchase that meets ``when`` rewards both of
them, once: points and/or a gift each. A customer cannot refer themself, and a customer
already referred is not referred again (the second referral changes nothing).

>>> from custbond.rules import event
>>> policy = ReferralPolicy(referrer_points=500, referee_points=200, when=event.amount >= 20)
>>> print(policy.when)
event.amount >= 20
"""

from __future__ import annotations

from typing import Any

import attrs

from custbond import _validate as v
from custbond.errors import InvalidInput
from custbond.rules.conditions import Always, Condition
from custbond.rules.facts import FACTS
from custbond.rules.rule import condition_of
from custbond.vouchers import VoucherOffer

__all__ = ["ReferralPolicy"]


def _gift(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and not isinstance(value, VoucherOffer):
        raise InvalidInput(attribute.name, value, "a VoucherOffer or None")


def _points(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    v.integer(attribute.name, value, minimum=0)


@attrs.frozen
class ReferralPolicy:
    """What a referral gives, and when: ``referrer_points`` and ``referrer_gift`` to the
    customer who referred, ``referee_points`` and ``referee_gift`` to the one referred,
    on the referee's first purchase that meets ``when`` (any purchase by default)."""

    referrer_points: int = attrs.field(default=0, kw_only=True, validator=_points)
    referee_points: int = attrs.field(default=0, kw_only=True, validator=_points)
    referrer_gift: VoucherOffer | None = attrs.field(default=None, kw_only=True, validator=_gift)
    referee_gift: VoucherOffer | None = attrs.field(default=None, kw_only=True, validator=_gift)
    when: Condition = attrs.field(factory=Always, kw_only=True, converter=condition_of)

    def __attrs_post_init__(self) -> None:
        if not (self.referrer_points or self.referee_points) and not (
            self.referrer_gift or self.referee_gift
        ):
            raise InvalidInput("referrals", self, "points or a gift for someone")
        for name in sorted(self.when.facts()):
            events = FACTS[name].events
            if events is not None and "Purchase" not in events:
                raise InvalidInput("when", name, "facts a purchase has")
