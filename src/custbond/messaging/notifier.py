"""The notifier port: how a message leaves custbond.

custbond decides what to say and when; a :class:`Notifier` the host plugs in says it.
The dispatcher hands it an :class:`Outgoing`: the message rendered for its channel, the
address read from the customer's profile at send time, and the message's ``key``, the
same on every attempt, so that a provider which deduplicates (most email and SMS APIs
take an idempotency key) can recognise a retry after a crash. The notifier answers with
a :class:`Delivery`: sent, failed for now (the dispatcher retries later, with backoff),
or failed for good (the message goes to the dead letters). An exception raised by
``send`` counts as a failure for now.

>>> from custbond.messaging import RecordingNotifier
>>> notifier = RecordingNotifier()
>>> outgoing = Outgoing(key="k-1", customer_id="c-1", channel="email",
...                     kind=MessageKind.TRANSACTIONAL, template="welcome",
...                     to="ada@example.com", subject="Welcome", body="Hello Ada",
...                     attempt=1)
>>> notifier.send(outgoing).status
<DeliveryStatus.SENT: 'sent'>
>>> [sent.key for sent in notifier.sent]
['k-1']
"""

from __future__ import annotations

import enum
from typing import Any, Protocol

import attrs

from custbond import _validate as v
from custbond.errors import InvalidInput
from custbond.messaging.message import MessageKind, enum_converter

__all__ = ["Delivery", "DeliveryStatus", "Notifier", "Outgoing"]


@attrs.frozen(kw_only=True)
class Outgoing:
    """A message ready to send.

    ``key`` is the message's dedupe key (the same on every attempt); ``attempt`` counts
    from 1. ``to`` is the address for the channel from the customer's profile (the email
    address for ``"email"``, the phone number for ``"sms"``), or None for a channel
    without one in the profile (``"push"``, ``"call-task"``: the host knows the
    customer by ``customer_id``). ``subject`` is None for channels without one.
    """

    key: str = attrs.field(validator=v.is_identifier)
    customer_id: str = attrs.field(validator=v.is_identifier)
    channel: str = attrs.field(validator=v.is_identifier)
    kind: MessageKind
    template: str = attrs.field(validator=v.is_identifier)
    to: str | None
    subject: str | None
    body: str
    attempt: int = attrs.field(validator=v.is_positive_int)


class DeliveryStatus(enum.StrEnum):
    """What a notifier says of one attempt to send a message.

    >>> DeliveryStatus("retry") is DeliveryStatus.RETRY
    True
    """

    #: Sent: the message is done.
    SENT = "sent"
    #: Failed for now (a timeout, a full mailbox): try again later.
    RETRY = "retry"
    #: Failed for good (no such address): do not try again.
    FAILED = "failed"


_DELIVERY_STATUS = enum_converter(DeliveryStatus, "status")


def _to_delivery_status(value: Any) -> DeliveryStatus:
    return _DELIVERY_STATUS(value)


@attrs.frozen
class Delivery:
    """How a send went: use :meth:`sent`, :meth:`retry` or :meth:`failed`.

    >>> Delivery.retry("421 try again later").status
    <DeliveryStatus.RETRY: 'retry'>
    """

    status: DeliveryStatus = attrs.field(converter=_to_delivery_status)
    detail: str = attrs.field(default="")

    @detail.validator
    def _check_detail(self, attribute: object, value: object) -> None:
        if not isinstance(value, str):
            raise InvalidInput("detail", value, "a str")

    @classmethod
    def sent(cls, detail: str = "") -> Delivery:
        """Delivered (``detail``: the provider's id for it, say)."""
        return cls(DeliveryStatus.SENT, detail)

    @classmethod
    def retry(cls, detail: str) -> Delivery:
        """Not delivered, for a reason that may pass (a timeout, a busy server)."""
        return cls(DeliveryStatus.RETRY, detail)

    @classmethod
    def failed(cls, detail: str) -> Delivery:
        """Not delivered, and trying again will not help (no such mailbox)."""
        return cls(DeliveryStatus.FAILED, detail)


class Notifier(Protocol):
    """What the host plugs in to deliver messages (see the module docstring)."""

    def send(self, message: Outgoing) -> Delivery:
        """Deliver ``message``, or say why not. May raise: that counts as
        :meth:`Delivery.retry`."""
        ...
