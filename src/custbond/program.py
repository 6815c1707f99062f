"""The program: a retention policy as a value, and the pure functions that run it.

``Program.decide(state, item, now)`` looks at one customer's state and one event or
command and returns a :class:`Decision`: the effects to carry out and a trace that says
why. ``Program.apply(state, decision, now)`` carries them out and returns the new state
and the ledger entries written. Neither reads a clock nor touches storage, which is what
makes replay, simulation and property tests cheap.

>>> from datetime import datetime, timezone
>>> from decimal import Decimal
>>> from custbond import Customer, Program, PointsPerSpend, Purchase
>>> program = Program(earn=PointsPerSpend(points=2, per=Decimal("1")))
>>> now = datetime(2026, 5, 1, 9, tzinfo=timezone.utc)
>>> state = CustomerState(Customer("c-1"))
>>> order = Purchase(id="o-1", customer_id="c-1", at=now, amount=Decimal("4.50"),
...                  currency="USD")
>>> decision = program.decide(state, order, now)
>>> print(decision.trace[0])
earned 9 points: 2 per 1 USD on 4.50 USD, rounded down
>>> state, entries = program.apply(state, decision, now)
>>> state.ledger.available
9
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal

import attrs
from dateutil.relativedelta import relativedelta

from custbond import _validate as v
from custbond import ledger as ledgers
from custbond.commands import (
    Adjust,
    CancelRedemption,
    CaptureHold,
    Input,
    PlaceHold,
    Redeem,
    ReleaseHold,
    SaveCustomer,
    Settle,
)
from custbond.customers import Customer
from custbond.errors import (
    HoldAlreadyCaptured,
    HoldAlreadyReleased,
    HoldExpired,
    InsufficientPoints,
    InvalidInput,
)
from custbond.events import CustomEvent, Purchase, Return, Signup, Visit
from custbond.ledger import Draw, Entry, Ledger, Lot, PointsPolicy
from custbond.records import HoldRecord, HoldStatus, PurchaseRecord, RedemptionRecord

__all__ = [
    "AdjustPoints",
    "CapturePoints",
    "CustomerState",
    "Decision",
    "EarnPoints",
    "Effect",
    "HoldPoints",
    "PointsPerSpend",
    "Program",
    "RedeemPoints",
    "ReleasePoints",
    "RestorePoints",
    "ReversePoints",
    "UpdateProfile",
]


@attrs.frozen
class PointsPerSpend:
    """Earn ``points`` for every ``per`` of money spent, in proportion, rounded down.

    ``PointsPerSpend(points=1, per=Decimal("1"))`` gives 4 points for 4.99; ``points=10,
    per=Decimal("5")`` gives 14 points for 7.00 (7 x 10 / 5).

    >>> PointsPerSpend(points=10, per=Decimal("5")).points_for(Decimal("7.00"))
    14
    """

    points: int = attrs.field(default=1, kw_only=True, validator=v.is_positive_int)
    per: Decimal = attrs.field(
        default=Decimal(1), kw_only=True, converter=v.to_decimal, validator=v.is_decimal
    )

    @per.validator
    def _check_per(self, attribute: object, value: Decimal) -> None:
        if value <= 0:
            raise InvalidInput("per", value, "a positive Decimal")

    def points_for(self, amount: Decimal) -> int:
        """Points for ``amount``: ``amount * points / per``, rounded down to a whole point.

        Computed exactly, in integers, whatever the size of the numbers (Decimal division
        would round to 28 digits first).
        """
        amount_top, amount_bottom = amount.as_integer_ratio()
        per_top, per_bottom = self.per.as_integer_ratio()
        return (amount_top * self.points * per_bottom) // (amount_bottom * per_top)


@attrs.frozen
class CustomerState:
    """What decisions need to know about one customer: the profile and the points."""

    customer: Customer
    ledger: Ledger = attrs.field(factory=Ledger)

    @property
    def id(self) -> str:
        return self.customer.id


# -- effects: what a decision asks to be done ----------------------------------------------


@attrs.frozen
class EarnPoints:
    """Add a lot of ``points`` earned by ``source``."""

    points: int
    source: str
    earned_at: datetime
    available_at: datetime
    expires_at: datetime | None
    reason: str = "earned"


@attrs.frozen
class ReversePoints:
    """Claw back ``points`` earned by ``lots``, because of the return ``source``."""

    points: int
    lots: tuple[Lot, ...]
    source: str
    at: datetime
    reason: str = "returned"


@attrs.frozen
class RedeemPoints:
    """Spend ``points`` under the command key ``key``."""

    points: int
    key: str
    reason: str = "redeemed"


@attrs.frozen
class AdjustPoints:
    """Add (positive) or remove (negative) ``points`` by hand; added ones expire at
    ``expires_at``."""

    points: int
    key: str
    reason: str
    expires_at: datetime | None


@attrs.frozen
class HoldPoints:
    """Reserve ``points`` under ``key`` until ``expires_at`` at the latest."""

    key: str
    points: int
    expires_at: datetime
    reason: str = "held"


@attrs.frozen
class CapturePoints:
    """Spend ``points`` of the open hold ``key``; the rest is released."""

    key: str
    points: int


@attrs.frozen
class ReleasePoints:
    """Give the points of the open hold ``key`` back."""

    key: str


@attrs.frozen
class RestorePoints:
    """Give back the points of the cancelled redemption ``key``."""

    key: str
    draws: tuple[Draw, ...]


@attrs.frozen
class UpdateProfile:
    """Replace the customer's profile with ``customer``."""

    customer: Customer


Effect = (
    EarnPoints
    | ReversePoints
    | RedeemPoints
    | AdjustPoints
    | HoldPoints
    | CapturePoints
    | ReleasePoints
    | RestorePoints
    | UpdateProfile
)


@attrs.frozen
class Decision:
    """Effects to carry out, and a human-readable trace of why.

    A decision with no effects is an explicit "nothing to do"; its trace says why.
    """

    effects: tuple[Effect, ...] = ()
    trace: tuple[str, ...] = ()


Reference = PurchaseRecord | HoldRecord | RedemptionRecord | None


@attrs.frozen
class Program:
    """A retention policy: the currency and time zone it runs in, how points are earned
    and how they behave.

    ``time_zone`` (IANA) is where "end of the month" is reckoned. Events in another
    currency than ``currency`` are rejected.
    """

    points: PointsPolicy = attrs.field(factory=PointsPolicy, kw_only=True)
    earn: PointsPerSpend = attrs.field(factory=PointsPerSpend, kw_only=True)
    currency: str = attrs.field(default="USD", kw_only=True, validator=v.is_currency)
    time_zone: str = attrs.field(default="UTC", kw_only=True, validator=v.is_time_zone)
    # What the trace of every purchase says about the rate and the policy: the same words
    # for every event, so they are put together once.
    _rate_text: str = attrs.field(init=False, eq=False, repr=False)
    _policy_text: str | None = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        rate = f"{self.earn.points} per {self.earn.per!s} {self.currency}"
        object.__setattr__(self, "_rate_text", rate)
        object.__setattr__(self, "_policy_text", _describe_policy(self.points))

    @points.validator
    def _check_points(self, attribute: object, value: object) -> None:
        if not isinstance(value, PointsPolicy):
            raise InvalidInput("points", value, "a PointsPolicy")

    @earn.validator
    def _check_earn(self, attribute: object, value: object) -> None:
        if not isinstance(value, PointsPerSpend):
            raise InvalidInput("earn", value, "a PointsPerSpend")

    # -- decide ----------------------------------------------------------------------------

    def decide(
        self, state: CustomerState, item: Input, now: datetime, ref: Reference = None
    ) -> Decision:
        """What to do about ``item`` for the customer in ``state`` at ``now``.

        ``ref`` is the record ``item`` refers to: the purchase of a :class:`Return`, the
        hold of a capture or release, the redemption of a cancellation. Raises a typed
        error for anything that cannot be done; a decision is always safe to apply.
        """
        if isinstance(item, Purchase):
            return self._decide_purchase(item)
        if isinstance(item, Return):
            if not isinstance(ref, PurchaseRecord):
                raise InvalidInput("ref", ref, "the PurchaseRecord of the returned purchase")
            return self._decide_return(item, ref)
        if isinstance(item, Visit | Signup | CustomEvent):
            name = type(item).__name__
            return Decision((), (f"nothing to do: no earning rule applies to {name}",))
        return self._decide_command(state, item, now, ref)

    def _decide_purchase(self, purchase: Purchase) -> Decision:
        if purchase.currency != self.currency:
            raise InvalidInput("currency", purchase.currency, f"the program's {self.currency}")
        points = self.earn.points_for(purchase.amount)
        rule = f"{self._rate_text} on {purchase.amount!s} {self.currency}"
        if points <= 0:
            return Decision((), (f"no points: {rule} is less than one point",))
        policy = self.points
        effect = EarnPoints(
            points=points,
            source=purchase.id,
            earned_at=purchase.at,
            available_at=policy.available_at(purchase.at),
            expires_at=policy.expires_at(purchase.at, self.time_zone),
        )
        # The dates themselves are in the effect (and the lot): the trace says why.
        earned = f"earned {points} points: {rule}, rounded down"
        if self._policy_text is None:
            return Decision((effect,), (earned,))
        return Decision((effect,), (earned, self._policy_text))

    def _decide_return(self, event: Return, record: PurchaseRecord) -> Decision:
        updated = record.after_return(event)
        called_for = updated.reversed - record.reversed
        points = min(called_for, record.reclaimable)
        purchase = record.purchase
        share = f"{updated.returned} of {purchase.amount} {purchase.currency}"
        trace = [
            f"{share} of {purchase.id} returned so far: {called_for} more of its "
            f"{record.points} points to reverse, rounded down"
        ]
        if points < called_for:
            trace.append(
                f"{called_for - points} of them expired or were taken back before; not reclaimed"
            )
        if points == 0:
            return Decision((), (*trace, "nothing to reverse"))
        trace.append(f"reversed {points} points")
        return Decision((ReversePoints(points, record.lots, event.id, event.at),), tuple(trace))

    def _decide_command(
        self, state: CustomerState, item: Input, now: datetime, ref: Reference
    ) -> Decision:
        ledger, _ = ledgers.settle(state.ledger, now)  # what is spendable at ``now``
        if isinstance(item, Redeem):
            _require_available(state.id, ledger, item.points)
            return Decision(
                (RedeemPoints(item.points, item.key, item.reason),),
                (f"redeemed {item.points} points",),
            )
        if isinstance(item, PlaceHold):
            _require_available(state.id, ledger, item.points)
            if item.expires_at <= now:
                raise InvalidInput(
                    "expires_at", item.expires_at, f"a time after {now.isoformat()}"
                )
            hold = HoldPoints(item.key, item.points, item.expires_at, item.reason)
            until = (
                f"held {item.points} points until {item.expires_at.isoformat()} at the latest "
                "(a hold ends sooner if its points expire sooner)"
            )
            return Decision((hold,), (until,))
        if isinstance(item, CaptureHold | ReleaseHold):
            assert isinstance(ref, HoldRecord)
            _check_open(ref)
            if isinstance(item, ReleaseHold):
                return Decision((ReleasePoints(ref.key),), (f"released {ref.points} points",))
            points = ref.points if item.points is None else item.points
            if points > ref.points:
                raise InvalidInput("points", points, f"at most the {ref.points} points held")
            trace = f"captured {points} of {ref.points} held points"
            return Decision((CapturePoints(ref.key, points),), (trace,))
        if isinstance(item, Adjust):
            if item.points < 0 and not self.points.allow_negative:
                _require_available(state.id, ledger, -item.points)
            expires_at = self.points.expires_at(now, self.time_zone) if item.points > 0 else None
            adjustment = AdjustPoints(item.points, item.key, item.reason, expires_at)
            return Decision(
                (adjustment,), (f"adjusted by {item.points:+d} points: {item.reason}",)
            )
        if isinstance(item, CancelRedemption):
            assert isinstance(ref, RedemptionRecord)
            if ref.cancelled:
                return Decision((), (f"nothing to do: {ref.key} was already cancelled",))
            return Decision(
                (RestorePoints(ref.key, ref.draws),),
                (f"restored {ref.points} points of {ref.key}",),
            )
        if isinstance(item, SaveCustomer):
            return Decision((UpdateProfile(item.customer),), ("profile saved",))
        if isinstance(item, Settle):
            return Decision((), ("due changes materialised",))
        raise InvalidInput("item", item, "an event or a command")  # pragma: no cover

    # -- apply -----------------------------------------------------------------------------

    def apply(
        self, state: CustomerState, decision: Decision, now: datetime
    ) -> tuple[CustomerState, tuple[Entry, ...]]:
        """Carry out ``decision``: the new state, and the ledger entries written."""
        ledger = state.ledger
        customer = state.customer
        written: list[Entry] = []
        cid = customer.id
        for effect in decision.effects:
            entries: Sequence[Entry]
            if isinstance(effect, EarnPoints):
                ledger, entries = ledgers.earn(
                    ledger,
                    points=effect.points,
                    source=effect.source,
                    now=now,
                    earned_at=effect.earned_at,
                    available_at=effect.available_at,
                    expires_at=effect.expires_at,
                    reason=effect.reason,
                )
            elif isinstance(effect, ReversePoints):
                ledger, entries = ledgers.reverse(
                    ledger,
                    points=effect.points,
                    lots=effect.lots,
                    source=effect.source,
                    at=effect.at,
                    now=now,
                    allow_negative=self.points.allow_negative,
                    reason=effect.reason,
                )
            elif isinstance(effect, RedeemPoints):
                ledger, entries = ledgers.redeem(
                    ledger,
                    points=effect.points,
                    source=effect.key,
                    now=now,
                    reason=effect.reason,
                    customer_id=cid,
                )
            elif isinstance(effect, AdjustPoints):
                ledger, entries = ledgers.adjust(
                    ledger,
                    points=effect.points,
                    source=effect.key,
                    now=now,
                    reason=effect.reason,
                    expires_at=effect.expires_at,
                    allow_negative=self.points.allow_negative,
                    customer_id=cid,
                )
            elif isinstance(effect, HoldPoints):
                ledger, entries = ledgers.place_hold(
                    ledger,
                    key=effect.key,
                    points=effect.points,
                    expires_at=effect.expires_at,
                    now=now,
                    customer_id=cid,
                    reason=effect.reason,
                )
            elif isinstance(effect, CapturePoints):
                ledger, entries, _ = ledgers.capture(
                    ledger, key=effect.key, points=effect.points, now=now
                )
            elif isinstance(effect, ReleasePoints):
                ledger, entries = ledgers.release(ledger, key=effect.key, now=now)
            elif isinstance(effect, RestorePoints):
                ledger, entries = ledgers.restore(
                    ledger, draws=effect.draws, source=effect.key, now=now
                )
            else:
                customer = effect.customer
                entries = ()
            written.extend(entries)
        return CustomerState(customer, ledger), tuple(written)


def _describe(duration: relativedelta | timedelta) -> str:
    """``relativedelta(months=12)`` as "12 months", ``timedelta(days=14)`` as "14 days"."""
    if isinstance(duration, timedelta):
        duration = relativedelta(seconds=int(duration.total_seconds())).normalized()
    parts = []
    for name in ("years", "months", "days", "hours", "minutes", "seconds"):
        amount = getattr(duration, name)
        if amount:
            unit = name if amount != 1 else name[:-1]
            parts.append(f"{amount:g} {unit}")
    return " ".join(parts) or "no time"


def _describe_policy(policy: PointsPolicy) -> str | None:
    """How earned points behave, in words, for traces; None if they just stay."""
    parts = []
    if policy.pending_for is not None:
        parts.append(f"pending for {_describe(policy.pending_for)} (the return window)")
    if policy.expire_after is not None:
        expiry = f"expire {_describe(policy.expire_after)} later"
        if policy.expire_at_end_of is not None:
            expiry += f", at the end of that {policy.expire_at_end_of.value}"
        parts.append(expiry)
    return "; ".join(parts) or None


def _require_available(customer_id: str, ledger: Ledger, points: int) -> None:
    if points > ledger.available:
        raise InsufficientPoints(customer_id, requested=points, available=max(ledger.available, 0))


def _check_open(hold: HoldRecord) -> None:
    if hold.status is HoldStatus.CAPTURED:
        raise HoldAlreadyCaptured(hold.key, hold.captured)
    if hold.status is HoldStatus.RELEASED:
        raise HoldAlreadyReleased(hold.key)
    if hold.status is HoldStatus.EXPIRED:
        raise HoldExpired(hold.key, hold.expires_at)
