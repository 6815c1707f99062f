"""Commands: what a host asks of a customer's points, as values.

The service builds these from its method arguments (``service.redeem(...)`` makes a
:class:`Redeem`), checks their idempotency keys and keeps them in the event log beside the
events, so replaying the log replays the commands too. Each knows the key it is
deduplicated under (:attr:`log_key`): events under their ``id``; redeem, hold and adjust
under their ``key`` (one command per key); capture and release under the hold they
resolve; a cancellation under the redemption it cancels.

>>> Redeem(key="r-1", customer_id="c-1", points=100).log_key
('command', 'r-1')
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import attrs

from custbond import _validate as v
from custbond.bonds.customization import Preferences
from custbond.bonds.occasions import Occasion
from custbond.bonds.social import MembersEvent
from custbond.customers import Customer
from custbond.errors import InvalidInput
from custbond.events import Event, LineItem
from custbond.messaging.message import MessageKind, _to_kind
from custbond.recovery.severity import Severity, to_severity

__all__ = [
    "AddOccasion",
    "AddWish",
    "Adjust",
    "AssignOwner",
    "CancelRedemption",
    "CancelSubscription",
    "CancelVoucher",
    "CaptureHold",
    "CloseTask",
    "Command",
    "DropCart",
    "Input",
    "Invite",
    "LogKey",
    "NotifyIncident",
    "PauseSubscription",
    "PlaceHold",
    "Redeem",
    "ReleaseHold",
    "RemoveWish",
    "ResumeSubscription",
    "SaveCart",
    "SaveCustomer",
    "SetConsent",
    "SetPreferences",
    "Settle",
    "SkipDelivery",
    "Subscribe",
    "UseVoucher",
    "log_key",
]

LogKey = tuple[str, str]


@attrs.frozen(kw_only=True)
class Redeem:
    """Spend ``points`` now."""

    key: str = attrs.field(validator=v.is_identifier)
    customer_id: str = attrs.field(validator=v.is_identifier)
    points: int = attrs.field(validator=v.is_positive_int)
    reason: str = attrs.field(default="redeemed", validator=v.is_identifier)

    @property
    def log_key(self) -> LogKey:
        return ("command", self.key)


@attrs.frozen(kw_only=True)
class PlaceHold:
    """Reserve ``points`` under ``key`` until ``expires_at`` (the first phase of a checkout)."""

    key: str = attrs.field(validator=v.is_identifier)
    customer_id: str = attrs.field(validator=v.is_identifier)
    points: int = attrs.field(validator=v.is_positive_int)
    expires_at: datetime = attrs.field(validator=v.is_aware)
    reason: str = attrs.field(default="held", validator=v.is_identifier)

    @property
    def log_key(self) -> LogKey:
        return ("command", self.key)


@attrs.frozen(kw_only=True)
class CaptureHold:
    """Spend ``points`` of the hold ``hold_key`` (all of it when ``None``); release the rest."""

    hold_key: str = attrs.field(validator=v.is_identifier)
    points: int | None = attrs.field(
        default=None,
        validator=v.is_optional_positive_int,
    )

    @property
    def log_key(self) -> LogKey:
        return ("resolve", self.hold_key)


@attrs.frozen(kw_only=True)
class ReleaseHold:
    """Give the points of the hold ``hold_key`` back."""

    hold_key: str = attrs.field(validator=v.is_identifier)

    @property
    def log_key(self) -> LogKey:
        return ("resolve", self.hold_key)


@attrs.frozen(kw_only=True)
class Adjust:
    """Add (``points > 0``) or remove (``points < 0``) points by hand, for ``reason``."""

    key: str = attrs.field(validator=v.is_identifier)
    customer_id: str = attrs.field(validator=v.is_identifier)
    points: int = attrs.field(validator=v.is_int)
    reason: str = attrs.field(validator=v.is_identifier)

    @points.validator
    def _check_points(self, attribute: object, value: int) -> None:
        if value == 0:
            raise InvalidInput("points", value, "a non-zero int")

    @property
    def log_key(self) -> LogKey:
        return ("command", self.key)


@attrs.frozen(kw_only=True)
class CancelRedemption:
    """Undo the redemption (or captured hold) ``redemption_key``: its points come back."""

    redemption_key: str = attrs.field(validator=v.is_identifier)

    @property
    def log_key(self) -> LogKey:
        return ("cancel", self.redemption_key)


@attrs.frozen(kw_only=True)
class SaveCustomer:
    """Create a customer or replace their profile.

    Without a ``key``, saving the profile a customer already has is a no-op, and the last
    save wins. With a ``key``, the save is deduplicated like a command: a retry returns the
    first outcome even after a newer profile was saved, and never overwrites it.
    """

    customer: Customer
    key: str | None = attrs.field(default=None)

    @key.validator
    def _check_key(self, attribute: object, value: str | None) -> None:
        if value is not None:
            v.identifier("key", value)

    @property
    def log_key(self) -> LogKey | None:
        return None if self.key is None else ("command", self.key)


@attrs.frozen(kw_only=True)
class Settle:
    """Materialise what has become due for ``customer_id`` (what ``run_due`` does).

    Kept in the log so that a replay materialises at the same moments as the original.
    """

    customer_id: str = attrs.field(validator=v.is_identifier)

    @property
    def log_key(self) -> None:
        return None


@attrs.frozen(kw_only=True)
class UseVoucher:
    """Use the customer's voucher ``code``, at the checkout ``key`` (one use per key)."""

    key: str = attrs.field(validator=v.is_identifier)
    customer_id: str = attrs.field(validator=v.is_identifier)
    code: str = attrs.field(validator=v.is_identifier)

    @property
    def log_key(self) -> LogKey:
        return ("command", self.key)


@attrs.frozen(kw_only=True)
class CancelVoucher:
    """Cancel the customer's voucher ``code`` before it is used."""

    key: str = attrs.field(validator=v.is_identifier)
    customer_id: str = attrs.field(validator=v.is_identifier)
    code: str = attrs.field(validator=v.is_identifier)

    @property
    def log_key(self) -> LogKey:
        return ("command", self.key)


@attrs.frozen(kw_only=True)
class RedeemReward:
    """Spend the customer's points on the catalog's ``reward`` (one per ``key``)."""

    key: str = attrs.field(validator=v.is_identifier)
    customer_id: str = attrs.field(validator=v.is_identifier)
    reward: str = attrs.field(validator=v.is_identifier)

    @property
    def log_key(self) -> LogKey:
        return ("command", self.key)


@attrs.frozen(kw_only=True)
class UseCoupon:
    """Use the coupon ``code`` for the customer at the checkout ``key``."""

    key: str = attrs.field(validator=v.is_identifier)
    customer_id: str = attrs.field(validator=v.is_identifier)
    code: str = attrs.field(validator=v.is_identifier)

    @property
    def log_key(self) -> LogKey:
        return ("command", self.key)


@attrs.frozen(kw_only=True)
class SetConsent:
    """The customer agreed (``granted``) or refused to be sent ``kind`` messages on
    ``channel``; ``source`` says where the answer came from (one answer per ``key``)."""

    key: str = attrs.field(validator=v.is_identifier)
    customer_id: str = attrs.field(validator=v.is_identifier)
    channel: str = attrs.field(validator=v.is_identifier)
    kind: MessageKind = attrs.field(converter=_to_kind)
    granted: bool = attrs.field()
    source: str = attrs.field(validator=v.is_identifier)

    @granted.validator
    def _check_granted(self, attribute: object, value: object) -> None:
        if not isinstance(value, bool):
            raise InvalidInput("granted", value, "True or False")

    @property
    def log_key(self) -> LogKey:
        return ("command", self.key)


@attrs.frozen(kw_only=True)
class AssignOwner:
    """``owner`` (a person: the hairdresser, the account manager) looks after the
    customer's relationship from now on; None: nobody in particular (the social
    policy's default owner). One assignment per ``key``."""

    key: str = attrs.field(validator=v.is_identifier)
    customer_id: str = attrs.field(validator=v.is_identifier)
    owner: str | None = attrs.field(validator=v.is_optional_identifier)

    @property
    def log_key(self) -> LogKey:
        return ("command", self.key)


@attrs.frozen(kw_only=True)
class CloseTask:
    """The task ``task_key`` is done, with ``result`` in the owner's words; closing it
    again with the same result changes nothing (see :meth:`RetentionService.close_task`)."""

    task_key: str = attrs.field(validator=v.is_identifier)
    result: str | None = attrs.field(default=None, validator=v.is_optional_text)

    @property
    def log_key(self) -> LogKey:
        return ("close_task", self.task_key)


@attrs.frozen(kw_only=True)
class NotifyIncident:
    """The incident ``incident_id`` (declared at ``at``: ``what`` failed, how ``severity``
    it is) affects the customer ``customer_id``: tell them, once (see
    :meth:`RetentionService.declare_incident`)."""

    incident_id: str = attrs.field(validator=v.is_identifier)
    customer_id: str = attrs.field(validator=v.is_identifier)
    at: datetime = attrs.field(validator=v.is_moment)
    what: str = attrs.field(validator=v.is_text)
    severity: Severity = attrs.field(converter=to_severity)

    @property
    def log_key(self) -> LogKey:
        # JSON keeps the two ids apart whatever characters they hold.
        return ("incident", json.dumps([self.incident_id, self.customer_id]))


class _ByKey:
    """A command kept in the log under its own ``key``: one command per key."""

    __slots__ = ()
    key: str

    @property
    def log_key(self) -> LogKey:
        return ("command", self.key)


def _instance_of(kind: type, a_kind: str) -> Any:
    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, kind):
            raise InvalidInput(attribute.name, value, a_kind)

    return check


@attrs.frozen(kw_only=True)
class SetPreferences(_ByKey):
    """The customer's preferences (favourites, restrictions, interests, industry) are
    ``preferences`` from now on. One change per ``key``."""

    key: str = attrs.field(validator=v.is_identifier)
    customer_id: str = attrs.field(validator=v.is_identifier)
    preferences: Preferences = attrs.field(validator=_instance_of(Preferences, "Preferences"))


@attrs.frozen(kw_only=True)
class AddWish(_ByKey):
    """Put ``sku`` on the customer's wish list, with their ``note``."""

    key: str = attrs.field(validator=v.is_identifier)
    customer_id: str = attrs.field(validator=v.is_identifier)
    sku: str = attrs.field(validator=v.is_identifier)
    note: str | None = attrs.field(default=None, validator=v.is_optional_text)


@attrs.frozen(kw_only=True)
class RemoveWish(_ByKey):
    """Take ``sku`` off the customer's wish list."""

    key: str = attrs.field(validator=v.is_identifier)
    customer_id: str = attrs.field(validator=v.is_identifier)
    sku: str = attrs.field(validator=v.is_identifier)


def _cart_items(value: Any) -> tuple[LineItem, ...]:
    items = v.instances("items", value, LineItem, "a LineItem")
    if not items:
        raise InvalidInput("items", value, "at least one LineItem")
    return items


@attrs.frozen(kw_only=True)
class SaveCart(_ByKey):
    """Keep the cart ``cart_id`` with ``items`` for the program's window (saving it
    again replaces its items and starts the window again)."""

    key: str = attrs.field(validator=v.is_identifier)
    customer_id: str = attrs.field(validator=v.is_identifier)
    cart_id: str = attrs.field(validator=v.is_identifier)
    items: tuple[LineItem, ...] = attrs.field(converter=_cart_items)


@attrs.frozen(kw_only=True)
class DropCart(_ByKey):
    """Drop the saved cart ``cart_id`` (bought, or emptied)."""

    key: str = attrs.field(validator=v.is_identifier)
    customer_id: str = attrs.field(validator=v.is_identifier)
    cart_id: str = attrs.field(validator=v.is_identifier)


@attrs.frozen(kw_only=True)
class Subscribe(_ByKey):
    """Subscribe the customer to the program's ``plan``."""

    key: str = attrs.field(validator=v.is_identifier)
    customer_id: str = attrs.field(validator=v.is_identifier)
    plan: str = attrs.field(validator=v.is_identifier)


@attrs.frozen(kw_only=True)
class PauseSubscription(_ByKey):
    """Pause the customer's subscription to ``plan`` until ``until`` (None: until
    resumed): the occurrences in the pause do not happen."""

    key: str = attrs.field(validator=v.is_identifier)
    customer_id: str = attrs.field(validator=v.is_identifier)
    plan: str = attrs.field(validator=v.is_identifier)
    until: datetime | None = attrs.field(default=None, validator=v.is_optional_aware)


def _is_date(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, date) or isinstance(value, datetime):
        raise InvalidInput(attribute.name, value, "a date (the local date of an occurrence)")


@attrs.frozen(kw_only=True)
class SkipDelivery(_ByKey):
    """Skip the occurrence (a delivery, a renewal) of ``plan`` on the local date ``on``."""

    key: str = attrs.field(validator=v.is_identifier)
    customer_id: str = attrs.field(validator=v.is_identifier)
    plan: str = attrs.field(validator=v.is_identifier)
    on: date = attrs.field(validator=_is_date)


@attrs.frozen(kw_only=True)
class ResumeSubscription(_ByKey):
    """Resume the customer's paused subscription to ``plan``."""

    key: str = attrs.field(validator=v.is_identifier)
    customer_id: str = attrs.field(validator=v.is_identifier)
    plan: str = attrs.field(validator=v.is_identifier)


@attrs.frozen(kw_only=True)
class CancelSubscription(_ByKey):
    """Cancel the customer's subscription to ``plan``, for ``reason`` (free text)."""

    key: str = attrs.field(validator=v.is_identifier)
    customer_id: str = attrs.field(validator=v.is_identifier)
    plan: str = attrs.field(validator=v.is_identifier)
    reason: str | None = attrs.field(default=None, validator=v.is_optional_text)


@attrs.frozen(kw_only=True)
class AddOccasion(_ByKey):
    """A personal occasion of the customer's (a wedding anniversary, a shop's opening
    day) their owner marks every year; one of the same name is replaced."""

    key: str = attrs.field(validator=v.is_identifier)
    customer_id: str = attrs.field(validator=v.is_identifier)
    occasion: Occasion = attrs.field(validator=_instance_of(Occasion, "an Occasion"))


@attrs.frozen(kw_only=True)
class Invite:
    """Invite the customer ``customer_id`` to the members' event ``event``, once (see
    :meth:`RetentionService.invite`)."""

    event: MembersEvent = attrs.field(validator=_instance_of(MembersEvent, "a MembersEvent"))
    customer_id: str = attrs.field(validator=v.is_identifier)

    @property
    def log_key(self) -> LogKey:
        return ("invite", json.dumps([self.event.id, self.customer_id]))


Command = (
    Redeem
    | PlaceHold
    | CaptureHold
    | ReleaseHold
    | Adjust
    | CancelRedemption
    | SaveCustomer
    | Settle
    | UseVoucher
    | CancelVoucher
    | RedeemReward
    | UseCoupon
    | SetConsent
    | CloseTask
    | NotifyIncident
    | AssignOwner
    | SetPreferences
    | AddWish
    | RemoveWish
    | SaveCart
    | DropCart
    | Subscribe
    | PauseSubscription
    | SkipDelivery
    | ResumeSubscription
    | CancelSubscription
    | AddOccasion
    | Invite
)
Input = Event | Command
"""Anything the service accepts and keeps in its event log."""

_COMMANDS = (
    Redeem, PlaceHold, CaptureHold, ReleaseHold, Adjust, CancelRedemption, SaveCustomer, Settle,
    UseVoucher, CancelVoucher, RedeemReward, UseCoupon, SetConsent, CloseTask, NotifyIncident,
    AssignOwner, SetPreferences, AddWish, RemoveWish, SaveCart, DropCart, Subscribe,
    PauseSubscription, SkipDelivery, ResumeSubscription, CancelSubscription, AddOccasion, Invite,
)  # fmt: skip


def log_key(item: Input) -> LogKey | None:
    """The key ``item`` is deduplicated under."""
    if isinstance(item, _COMMANDS):
        return item.log_key
    return ("event", item.id)
