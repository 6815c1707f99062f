"""Effects: what a decision asks to be done.

:meth:`~custbond.Program.decide` returns them in a :class:`~custbond.Decision`;
:meth:`~custbond.Program.apply` carries out those that change the customer's state, and
the service those that reach beyond it (the outbox, shared counters, tasks). Each is a
frozen value: a decision can be kept, compared and replayed.

>>> from custbond.effects import AddTag
>>> AddTag("regular")
AddTag(tag='regular')
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import attrs

from custbond._frozen import FrozenMap
from custbond.bonds.cards import Voucher, VoucherStatus
from custbond.bonds.tiers import ChangeTier, KeepTier
from custbond.customers import Customer
from custbond.events import SurveyResponse
from custbond.ledger import Draw, Lot
from custbond.messaging.consent import Consent
from custbond.messaging.occasions import ExpiryNotice, Greeting, Reminder, Send
from custbond.recovery.case import RecoveryCase

__all__ = [
    "AddStamps",
    "AddTag",
    "AddToCounter",
    "AdjustPoints",
    "CancelMessage",
    "CapturePoints",
    "CountCoupon",
    "CountUse",
    "EarnPoints",
    "Effect",
    "FinishTask",
    "HoldPoints",
    "IssueVoucher",
    "MarkVoucher",
    "NoteContact",
    "NotePurchase",
    "NoteReturn",
    "NoteSurvey",
    "NoteVisit",
    "OpenTask",
    "QueueMessage",
    "RecordConsent",
    "RedeemPoints",
    "ReleasePoints",
    "RequestMessage",
    "RestorePoints",
    "ReversePoints",
    "RewardReferral",
    "SetCard",
    "SetCase",
    "SetHeld",
    "SetOwner",
    "SetProgress",
    "SetReferrer",
    "SetSchedule",
    "SetTier",
    "UpdateProfile",
]


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
class AddStamps:
    """Put ``stamps`` more stamps on the punch card ``card``."""

    card: str
    stamps: int


@attrs.frozen
class SetCard:
    """The punch card ``card`` now has ``stamps`` stamps, the first of them since
    ``started_at`` (None when the card is empty)."""

    card: str
    stamps: int
    started_at: datetime | None


@attrs.frozen
class IssueVoucher:
    """Give the customer ``voucher``: ``cashback`` when it is money back on a purchase
    (which a return of the purchase takes back), issued in place of the voucher
    ``replaces`` when a partial return leaves less of the cashback."""

    voucher: Voucher
    cashback: bool = attrs.field(default=False, kw_only=True)
    replaces: str | None = attrs.field(default=None, kw_only=True)


@attrs.frozen
class MarkVoucher:
    """The voucher ``code`` is now ``status`` (used or cancelled) as of ``at``."""

    code: str
    status: VoucherStatus
    at: datetime


@attrs.frozen
class AddToCounter:
    """Add ``amount`` to the counter ``counter`` that all customers share (a reward's
    stock taken, a rule's budget spent, the customers a rule has served)."""

    counter: str
    amount: int


@attrs.frozen
class SetProgress:
    """The achievement ``name`` stands at ``progress`` in ``period`` (``reached`` or not)."""

    name: str
    period: str
    progress: int | Decimal
    reached: bool


@attrs.frozen
class CountCoupon:
    """The customer used the coupon ``code`` once more."""

    code: str


@attrs.frozen
class SetReferrer:
    """The customer was referred by ``referrer_id``."""

    referrer_id: str


@attrs.frozen
class RewardReferral:
    """The referral of this customer is rewarded (at ``at``); ``referrer_id`` gets
    ``points`` (earned from ``source``) and ``gift``, which the service gives them in the
    same transaction."""

    referrer_id: str
    points: int
    gift: Voucher | None
    source: str
    at: datetime


@attrs.frozen
class SetTier:
    """Put the customer in ``tier`` at ``at`` (``rule`` said so); not reviewed later."""

    tier: str
    rule: str
    at: datetime | None = None


@attrs.frozen
class AddTag:
    """Add ``tag`` to the customer's tags."""

    tag: str


@attrs.frozen
class RequestMessage:
    """A message the rule ``rule`` asks to send; the messaging part delivers it."""

    template: str
    channel: str
    kind: str
    rule: str


@attrs.frozen
class RecordConsent:
    """The customer agreed (``granted``) or refused to be sent ``kind`` messages on
    ``channel`` at ``at``, as ``source`` says."""

    channel: str
    kind: str
    granted: bool
    at: datetime
    source: str

    def consent(self) -> Consent:
        return Consent(
            channel=self.channel,
            kind=self.kind,
            granted=self.granted,
            at=self.at,
            source=self.source,
        )


@attrs.frozen
class QueueMessage:
    """Queue a message to the customer under ``key`` (see
    :class:`~custbond.messaging.Message`): one custbond sends on its own."""

    key: str
    template: str
    channel: str
    kind: str
    context: FrozenMap[str, Any]
    not_before: datetime | None = None
    not_after: datetime | None = None

    @classmethod
    def of(
        cls,
        send: Send | Greeting | Reminder | ExpiryNotice,
        key: str,
        context: Mapping[str, Any],
        *,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
    ) -> QueueMessage:
        """The effect queuing what ``send`` says (its template, channel and kind) under
        ``key``, with ``context``."""
        kind = send.kind.value
        return cls(
            key, send.template, send.channel, kind, FrozenMap(context), not_before, not_after
        )


@attrs.frozen
class CancelMessage:
    """The message queued under ``key``, if not sent yet, is never to be: ``reason``."""

    key: str
    reason: str


@attrs.frozen
class SetSchedule:
    """The message ``name`` of the customer's schedule next falls due ``at`` (None: not
    at all)."""

    name: str
    at: datetime | None


@attrs.frozen
class CountUse:
    """Remember that the rule ``rule`` fired at ``at``, for its limits; firings before
    ``keep_from`` are forgotten (firings are kept a period longer than the limits look
    back from the newest one, so that an event recorded late can be judged)."""

    rule: str
    at: datetime
    keep_from: datetime


@attrs.frozen
class NotePurchase:
    """Add a purchase of ``amount`` at ``at`` to the activity. When the program reads
    activity per day (rules on rolling spend, tiers), ``day`` is the purchase's local
    calendar day, ``points`` what it earned, and days are kept from ``keep_since``;
    otherwise both dates are None and no days are kept."""

    amount: Decimal
    at: datetime
    day: date | None = None
    keep_since: date | None = None
    points: int = 0  # what it earned, counted on the day


@attrs.frozen
class NoteReturn:
    """Take a return of ``amount`` off the activity: off the lifetime spend, and off the
    spend (and the ``points`` it reversed, off the points) of the returned purchase's
    local calendar ``day`` while days are kept (None: they are not)."""

    amount: Decimal
    day: date | None = None
    points: int = 0


@attrs.frozen
class NoteVisit:
    """Add a visit at ``at`` (local calendar ``day``) to the activity; see NotePurchase."""

    at: datetime
    day: date | None = None
    keep_since: date | None = None


@attrs.frozen
class UpdateProfile:
    """Replace the customer's profile with ``customer``."""

    customer: Customer


@attrs.frozen
class SetCase:
    """The customer's recovery case ``case.id`` is now ``case`` (opened or moved on)."""

    case: RecoveryCase


@attrs.frozen
class NoteSurvey:
    """Keep the customer's survey ``answer`` in their history."""

    answer: SurveyResponse


@attrs.frozen
class OpenTask:
    """Open a task for ``owner`` about the customer, due at ``due_at`` (see
    :class:`~custbond.Task`); a task under ``key`` that exists already is left as it is."""

    key: str
    owner: str
    due_at: datetime
    reason: str
    kind: str
    about: str | None = None


@attrs.frozen
class FinishTask:
    """Close the task ``key`` at ``at`` with ``result``."""

    key: str
    at: datetime
    result: str | None = None


@attrs.frozen
class SetOwner:
    """``owner`` looks after the customer's relationship (None: the default owner)."""

    owner: str | None


@attrs.frozen
class NoteContact:
    """The customer's last personal contact was at ``at``."""

    at: datetime


@attrs.frozen
class SetHeld:
    """In what the customer's bonds hold (:class:`~custbond.bonds.held.Held`), set
    ``part[key]`` to ``value``, or drop it when ``value`` is None ("preferences":
    replace the preferences)."""

    part: str
    key: str
    value: Any


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
    | AddStamps
    | SetTier
    | AddTag
    | RequestMessage
    | RecordConsent
    | QueueMessage
    | CancelMessage
    | SetSchedule
    | CountUse
    | NotePurchase
    | NoteReturn
    | NoteVisit
    | SetCard
    | IssueVoucher
    | MarkVoucher
    | ChangeTier
    | KeepTier
    | AddToCounter
    | SetProgress
    | CountCoupon
    | SetReferrer
    | RewardReferral
    | SetCase
    | NoteSurvey
    | OpenTask
    | FinishTask
    | SetOwner
    | NoteContact
    | SetHeld
)
