"""What the dispatcher does with a queued message, as pure functions.

:func:`screen` looks at a message that has fallen due and the customer it is for, and
says whether to send it now, wait (quiet hours), or never send it (no consent, no
address, a frequency cap, attempts used up by a dispatcher that stopped mid-send).
:func:`claim` marks a message being sent; :func:`settle` records how the send went:
sent, pending again after a backoff, or dead.

The service runs these inside units of work; see :meth:`RetentionService.dispatch`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, tzinfo
from typing import Literal

import attrs

from custbond.customers import Customer
from custbond.erasure import ERASED_REASON, PSEUDONYM_PREFIX
from custbond.messaging.consent import Consent, allows
from custbond.messaging.message import MessageStatus, QueuedMessage
from custbond.messaging.notifier import Delivery, DeliveryStatus
from custbond.messaging.policy import MessagingPolicy, RetryPolicy

__all__ = ["Screening", "address_of", "claim", "screen", "settle"]

# The profile field that holds a channel's address; other channels need none.
_ADDRESS_FIELDS = {"email": "email", "sms": "phone", "call": "phone", "call-task": "phone"}
_NEEDS_ADDRESS = frozenset({"email", "sms"})


@attrs.frozen
class Screening:
    """What to do with a due message: ``"send"``, ``"wait"`` (until ``until``),
    ``"suppress"`` or ``"dead"``, and why."""

    action: Literal["send", "wait", "suppress", "dead"]
    reason: str = ""
    until: datetime | None = None


def address_of(customer: Customer, channel: str) -> str | None:
    """The customer's address for ``channel``: email or phone, from the profile."""
    field = _ADDRESS_FIELDS.get(channel)
    return None if field is None else getattr(customer, field)


def screen(
    item: QueuedMessage,
    customer: Customer | None,
    consents: Mapping[str, Consent] | None,
    now: datetime,
    *,
    policy: MessagingPolicy,
    retry: RetryPolicy,
    zone: tzinfo,
    others: Sequence[QueuedMessage],
) -> Screening:
    """Whether ``item`` (due at ``now``) may be sent to ``customer`` (None when there
    is no such customer any more), whose ``consents`` and other messages (``others``,
    for the frequency caps) are given; ``zone`` is their time zone."""
    message = item.message
    if item.status is MessageStatus.SENDING and item.attempts >= retry.max_attempts:
        return Screening(
            "dead",
            f"the dispatcher stopped during attempt {item.attempts} without an answer;"
            f" no attempts left (at most {retry.max_attempts})",
        )
    late = message.not_after
    if late is not None and now >= late:
        return Screening("suppress", f"too late: it was to go before {late.isoformat()}")
    if customer is None:
        return Screening("suppress", f"no customer {message.customer_id!r}")
    if customer.id.startswith(PSEUDONYM_PREFIX):
        return Screening("suppress", ERASED_REASON)
    allowed, why = allows(consents or {}, message.channel, message.kind)
    if not allowed:
        return Screening("suppress", why)
    if message.channel in _NEEDS_ADDRESS and not address_of(customer, message.channel):
        field = _ADDRESS_FIELDS[message.channel]
        return Screening("suppress", f"no {field} in the customer's profile")
    quiet = policy.quiet_hours
    if quiet is not None and quiet.applies(message):
        until = quiet.until(now, zone)
        if until is not None and late is not None and until >= late:
            why = f"{quiet.describe()} last past the time it was to go before, {late.isoformat()}"
            return Screening("suppress", why)
        if until is not None:
            return Screening("wait", f"{quiet.describe()}: waits until {until.isoformat()}", until)
    for cap in policy.caps:
        if cap.reached(message, others, now):
            return Screening("suppress", f"frequency cap: {cap.describe()}")
    return Screening("send", why)


def claim(item: QueuedMessage, now: datetime, retry: RetryPolicy) -> QueuedMessage:
    """``item`` being sent from ``now``: one more attempt, owned until the claim lapses."""
    return attrs.evolve(
        item,
        status=MessageStatus.SENDING,
        attempts=item.attempts + 1,
        next_attempt_at=now + retry.claim_for,
    )


def settle(
    item: QueuedMessage, delivery: Delivery, now: datetime, retry: RetryPolicy
) -> QueuedMessage:
    """``item`` after its send answered ``delivery`` at ``now``."""
    if delivery.status is DeliveryStatus.SENT:
        return attrs.evolve(
            item, status=MessageStatus.SENT, sent_at=now, reason=delivery.detail or None
        )
    if delivery.status is DeliveryStatus.FAILED:
        return attrs.evolve(item, status=MessageStatus.DEAD, reason=f"failed: {delivery.detail}")
    if item.attempts >= retry.max_attempts:
        reason = f"failed {item.attempts} times (at most {retry.max_attempts}); last: "
        return attrs.evolve(item, status=MessageStatus.DEAD, reason=reason + delivery.detail)
    next_attempt_at = now + retry.delay(item.attempts)
    late = item.message.not_after
    if late is not None and next_attempt_at >= late:
        reason = f"failed, and no attempt is left before {late.isoformat()}: {delivery.detail}"
        return attrs.evolve(item, status=MessageStatus.DEAD, reason=reason)
    return attrs.evolve(
        item,
        status=MessageStatus.PENDING,
        next_attempt_at=next_attempt_at,
        reason=f"attempt {item.attempts} failed: {delivery.detail}",
    )


def wait(item: QueuedMessage, screening: Screening) -> QueuedMessage:
    """``item`` put back to wait until ``screening.until`` (no attempt is used)."""
    assert screening.until is not None
    return attrs.evolve(
        item,
        status=MessageStatus.PENDING,
        next_attempt_at=screening.until,
        reason=screening.reason,
    )


def give_up(item: QueuedMessage, screening: Screening) -> QueuedMessage:
    """``item`` suppressed or dead, as ``screening`` says."""
    status = MessageStatus.DEAD if screening.action == "dead" else MessageStatus.SUPPRESSED
    return attrs.evolve(item, status=status, reason=screening.reason)
