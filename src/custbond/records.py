"""What later commands refer back to: purchases (for returns), holds and redemptions.

These live in the store beside the customer's state rather than inside it, so a customer's
state stays the size of what is live however long their history grows. The service loads
the one a command names and hands it to the pure core.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

import attrs

from custbond import _validate as v
from custbond._frozen import FrozenMap, empty_map
from custbond.errors import InvalidInput
from custbond.events import Purchase, Return
from custbond.ledger import Draw, Lot

__all__ = ["HoldRecord", "HoldStatus", "PurchaseRecord", "RedemptionRecord"]

ItemKey = tuple[str, Decimal]  # (sku, unit price): how a returned line finds its purchase line


@attrs.frozen
class PurchaseRecord:
    """A purchase, the lots it earned, and what has been returned, taken back and has
    expired of it so far.

    ``cashback`` holds, for each cashback voucher the purchase gave, in the order they
    were given, the code of the voucher the customer holds for it now (a partial return
    replaces a voucher by a smaller one) and the value first given. ``counted`` is the
    local day the customer's activity counted the purchase on (None when the program
    keeps no days) and the points it counted there: a return takes its share off them,
    wherever the customer lives by then.
    """

    purchase: Purchase
    lots: tuple[Lot, ...]
    points: int
    returned: Decimal = Decimal(0)
    returned_items: FrozenMap[ItemKey, int] = attrs.field(factory=empty_map)
    reversed: int = 0  # points the returns so far call for reversing (rounded down)
    collected: int = 0  # points taken back for those returns, or owed by the purchase's lot
    expired: int = 0  # points of this purchase's lots that expired unspent
    cashback: tuple[tuple[str, Decimal], ...] = ()  # (code held now, value first given)
    counted: tuple[date | None, int] = (None, 0)

    @property
    def reclaimable(self) -> int:
        """Points of this purchase a return may still take back: neither expired (the
        customer never had the use of them) nor taken back already."""
        return max(self.points - self.expired - self.collected, 0)

    @property
    def customer_id(self) -> str:
        return self.purchase.customer_id

    def cashback_left(self, given: Decimal) -> Decimal:
        """What the customer keeps of ``given`` cashback after the returns so far: ``given``
        times the share of the amount not returned, rounded down to the minor unit of the
        currency. Worked out from what was first given, never from what is left, so
        returns in parts never take back more than a whole return would, and a whole
        return takes back everything.
        """
        purchase = self.purchase
        if not purchase.amount:
            return given
        places = v.minor_units(purchase.currency)
        given_top, given_bottom = given.as_integer_ratio()
        kept_top, kept_bottom = (purchase.amount - self.returned).as_integer_ratio()
        amount_top, amount_bottom = purchase.amount.as_integer_ratio()
        units = (given_top * 10**places * kept_top * amount_bottom) // (
            given_bottom * kept_bottom * amount_top
        )
        return Decimal(units).scaleb(-places)

    def share_of(self, points: int) -> int:
        """``points`` times the share of the purchase returned so far, rounded down (as
        :meth:`after_return` reverses its points): what returns have taken off ``points``.

        >>> from datetime import timezone
        >>> bought = Purchase(id="o-1", customer_id="c-1", amount=Decimal("3.00"),
        ...                   currency="USD", at=datetime(2026, 3, 2, tzinfo=timezone.utc))
        >>> PurchaseRecord(bought, (), 10, returned=Decimal("1.00")).share_of(10)
        3
        """
        return _share(points, self.returned, self.purchase.amount)

    def after_return(self, event: Return) -> PurchaseRecord:
        """This record once ``event`` is accepted, or InvalidInput if it cannot be.

        ``reversed`` becomes the points earned times the share of the amount returned so
        far, rounded down: returns in parts never reverse more than a whole return would,
        and a whole return reverses everything.
        """
        purchase = self.purchase
        if event.customer_id != purchase.customer_id:
            raise InvalidInput(
                "customer_id",
                event.customer_id,
                f"the customer of purchase {purchase.id!r} ({purchase.customer_id!r})",
            )
        if event.at < purchase.at:
            raise InvalidInput(
                "at", event.at, f"a time not before the purchase ({purchase.at.isoformat()})"
            )
        amount = v.money("amount", event.returned_amount, purchase.currency)
        returned_items = dict(self.returned_items)
        if event.items:
            bought: dict[ItemKey, int] = {}
            for line in purchase.items:
                key = (line.sku, line.unit_price)
                bought[key] = bought.get(key, 0) + line.quantity
            for line in event.items:
                key = (line.sku, line.unit_price)
                if key not in bought:
                    raise InvalidInput(
                        "items",
                        f"{line.sku} at {line.unit_price}",
                        f"a line of purchase {purchase.id!r} (same sku and unit price)",
                    )
                before = returned_items.get(key, 0)
                if before + line.quantity > bought[key]:
                    raise InvalidInput(
                        "items",
                        f"{line.quantity} x {line.sku}",
                        f"at most the {bought[key] - before} not yet returned",
                    )
                returned_items[key] = before + line.quantity
        returned = self.returned + amount
        if returned > purchase.amount:
            left = purchase.amount - self.returned
            raise InvalidInput(
                "amount",
                amount,
                f"at most the {left} {purchase.currency} of {purchase.id!r} not yet returned",
            )
        reversed_ = _share(self.points, returned, purchase.amount)
        return attrs.evolve(
            self, returned=returned, returned_items=FrozenMap(returned_items), reversed=reversed_
        )


class HoldStatus(enum.StrEnum):
    """How a hold stands: open, or resolved once, by capture, release or expiry."""

    OPEN = "open"
    CAPTURED = "captured"
    RELEASED = "released"
    EXPIRED = "expired"


def _share(points: int, returned: Decimal, amount: Decimal) -> int:
    """``points`` times ``returned`` / ``amount``, rounded down, exactly in integers (0 for
    a purchase of nothing)."""
    if not amount or not points:
        return 0
    returned_top, returned_bottom = returned.as_integer_ratio()
    amount_top, amount_bottom = amount.as_integer_ratio()
    return (points * returned_top * amount_bottom) // (returned_bottom * amount_top)


@attrs.frozen
class HoldRecord:
    """A hold and how it resolved."""

    key: str
    customer_id: str
    points: int
    placed_at: datetime
    expires_at: datetime
    status: HoldStatus = HoldStatus.OPEN
    captured: int = 0


@attrs.frozen
class RedemptionRecord:
    """Points spent under ``key`` (a redemption or a captured hold), and where from;
    for a catalog reward, the code of the ``voucher`` they bought (cancelling the
    redemption cancels it and gives the reward back to the stock)."""

    key: str
    customer_id: str
    points: int
    draws: tuple[Draw, ...]
    at: datetime
    cancelled: bool = False
    voucher: str | None = None
