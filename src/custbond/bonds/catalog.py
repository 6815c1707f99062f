"""A rewards catalog: "points toward products at levels".

Each :class:`Reward` costs points and gives a voucher for its offer. A reward can have a
``stock`` shared by all customers (kept as a counter in the store, taken in the same
transaction as the points, so two checkouts cannot both take the last one) and a limit
per customer.

>>> from custbond.vouchers import VoucherOffer
>>> mug = Reward("mug", points=500, offer=VoucherOffer("a mug", sku="mug"), stock=50)
>>> mug.counter
'reward mug'
"""

from __future__ import annotations

import attrs

from custbond import _validate as v
from custbond.errors import InvalidInput
from custbond.vouchers import VoucherOffer

__all__ = ["Reward", "RewardStock"]


@attrs.frozen
class Reward:
    """``points`` buy a voucher for ``offer``. ``stock``: how many there are for all
    customers together (None: no end); ``per_customer``: how many one customer may take,
    ever (None: no limit)."""

    name: str = attrs.field(validator=v.is_identifier)
    points: int = attrs.field(kw_only=True, validator=v.is_positive_int)
    offer: VoucherOffer = attrs.field(kw_only=True)
    stock: int | None = attrs.field(
        default=None, kw_only=True, validator=v.is_optional_positive_int
    )
    per_customer: int | None = attrs.field(
        default=None, kw_only=True, validator=v.is_optional_positive_int
    )

    @offer.validator
    def _check_offer(self, attribute: object, value: object) -> None:
        if not isinstance(value, VoucherOffer):
            raise InvalidInput("offer", value, "a VoucherOffer")

    @property
    def counter(self) -> str:
        """The name of the store's counter of how many were taken."""
        return f"reward {self.name}"

    @property
    def source(self) -> str:
        """The source its vouchers carry."""
        return f"reward {self.name}"


@attrs.frozen
class RewardStock:
    """How many of ``reward`` all customers have taken so far: what the service reads
    from the store for a redemption to decide on."""

    reward: str
    taken: int
