"""Messages: what custbond asks to be said to a customer, and their life in the outbox.

A :class:`Message` is a request: which ``template`` to send to which customer, on which
``channel``, of which ``kind``, with the values the template fills in (``context``), not
before when. Its ``key`` is its identity: the outbox keeps one message per key, so a
message asked for twice (an event delivered again, a job run twice) is queued once, and
the notifier gets the key with every attempt to recognise a retry. The keys of the
messages custbond queues on its own (:func:`automatic_key`) begin with ``"custbond:"``,
and no key of a host's may, so that the two never take each other's place.

A :class:`QueuedMessage` is a message in the outbox with where it stands: pending (due at
``next_attempt_at``), being sent (claimed by a dispatcher until ``next_attempt_at``), sent,
suppressed (never to be sent: no consent, a frequency cap, no address; ``reason`` says
which) or dead (its attempts ran out, or it failed for good: ``reason`` holds the last
error).

>>> from datetime import date, datetime, timezone
>>> now = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)
>>> message = Message(key="welcome:c-1", customer_id="c-1", template="welcome")
>>> message.kind, message.channel
(<MessageKind.TRANSACTIONAL: 'transactional'>, 'email')
>>> queued = QueuedMessage.new(message, now)
>>> queued.status, queued.next_attempt_at == now
(<MessageStatus.PENDING: 'pending'>, True)
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any, TypeVar

import attrs

from custbond import _validate as v
from custbond._frozen import empty_map
from custbond.errors import InvalidInput

__all__ = [
    "AUTOMATIC_PREFIX",
    "Message",
    "MessageKind",
    "MessageStatus",
    "QueuedMessage",
    "automatic_key",
    "is_automatic",
    "message_key",
]


class MessageKind(enum.StrEnum):
    """Transactional messages (a receipt, a reminder of an appointment, points about to
    expire) go to every customer with an address unless they refused that channel;
    marketing (greetings, news, offers) only to those who consented to it."""

    TRANSACTIONAL = "transactional"
    MARKETING = "marketing"


E = TypeVar("E", bound=enum.StrEnum)


def enum_converter(cls: type[E], field: str) -> Callable[[Any], E]:
    """A converter to ``cls`` from one of its members or their values, raising
    InvalidInput (naming ``field``) for anything else."""
    expected = " or ".join(repr(member.value) for member in cls)

    def convert(value: Any) -> E:
        if isinstance(value, cls):
            return value
        if isinstance(value, str):
            try:
                return cls(value)
            except ValueError:
                pass
        raise InvalidInput(field, value, expected)

    return convert


_KIND = enum_converter(MessageKind, "kind")


def _to_kind(value: Any) -> MessageKind:
    return _KIND(value)


_A_CONTEXT_VALUE = "a str, int, bool, Decimal, None, date or timezone-aware datetime"


def _is_context(instance: Any, attribute: Any, value: Any) -> None:
    """str, int, bool, Decimal or None, as in a custom event's attributes (numbers of at
    most a thousand digits each side of the point, which a template writes out in full);
    and dates and timezone-aware datetimes, which templates write out."""
    if not isinstance(value, Mapping):
        v.scalar_map("context", value)  # says what is expected
    for key, item in value.items():
        if not isinstance(key, str) or not key:
            raise InvalidInput("context key", key, "a non-empty string")
        field = f"context[{key!r}]"
        if isinstance(item, datetime):
            v.aware(field, item)
        elif not isinstance(item, date):
            v.scalar(field, item, _A_CONTEXT_VALUE)


@attrs.frozen(kw_only=True)
class Message:
    """A message to send to the customer ``customer_id``.

    ``channel`` is how (``"email"``, ``"sms"``, ``"push"``, ``"letter"``,
    ``"call-task"``, or a channel of the host's own); ``template`` names the template
    that renders it; ``context`` holds the values it fills in (str, int, bool, Decimal,
    None, a date, an aware datetime: personal details are read from the profile when it
    is sent, so that a queued message holds none; numbers of at most 1000 digits before
    the point and 1000 after it, since a template writes them out in full: a message
    queued with a longer one before numbers were bounded is read back from its store as
    it was, and :meth:`~custbond.RetentionService.dispatch` ends it dead).
    ``not_before`` delays it; ``not_after`` is when it is too late to be worth sending (a
    reminder of an appointment that has begun): it is suppressed rather than sent after
    that.

    >>> from decimal import Decimal
    >>> Message(key="k-1", customer_id="c-1", template="points_expiring",
    ...         context={"points": 120}).context["points"]
    120
    """

    key: str = attrs.field(validator=v.is_identifier)
    customer_id: str = attrs.field(validator=v.is_identifier)
    template: str = attrs.field(validator=v.is_identifier)
    channel: str = attrs.field(default="email", validator=v.is_identifier)
    kind: MessageKind = attrs.field(default=MessageKind.TRANSACTIONAL, converter=_to_kind)
    context: Mapping[str, Any] = attrs.field(
        factory=empty_map, converter=v.to_frozen_map, validator=_is_context
    )
    not_before: datetime | None = attrs.field(default=None, validator=v.is_optional_aware)
    not_after: datetime | None = attrs.field(default=None, validator=v.is_optional_aware)

    def __attrs_post_init__(self) -> None:
        if (
            self.not_after is not None
            and self.not_before is not None
            and self.not_after <= self.not_before
        ):
            raise InvalidInput(
                "not_after", self.not_after, f"a time after not_before ({self.not_before})"
            )

    @property
    def marketing(self) -> bool:
        return self.kind is MessageKind.MARKETING


def key_stamp(moment: datetime) -> str:
    """A moment as a part of a key: in UTC, to the second, the same whatever the zone
    it was given in.

    >>> from datetime import timezone
    >>> key_stamp(datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc))
    '20260302T093000'
    """
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%S")


def message_key(*parts: str) -> str:
    """A message key made of ``parts`` (an event's id, a customer's id, a name), joined
    by ":". A ":" or "%" inside a part is written ``%3A`` or ``%25``, so that different
    parts never give the same key (``("a:b", "c")`` and ``("a", "b:c")`` would). One that
    would be longer than a key may be (200 characters) keeps its start and a digest of
    the whole, so it stays one key per ``parts``. A host may make the keys of its own
    messages with it (custbond makes those of its own with :func:`automatic_key`).

    >>> message_key("o-1", "thank_you")
    'o-1:thank_you'
    >>> message_key("shop:7", "thank_you")
    'shop%3A7:thank_you'
    >>> len(message_key("x" * 300))
    195
    """
    return shortened_key(":".join(map(key_part, parts)))


def key_part(part: str) -> str:
    """``part`` as it stands in a key made by :func:`message_key`: with its "%" and ":"
    escaped.

    >>> key_part("100%:off")
    '100%25%3Aoff'
    """
    if "%" in part or ":" in part:
        return part.replace("%", "%25").replace(":", "%3A")
    return part


def shortened_key(key: str) -> str:
    """``key`` if a key may be that long (200 characters), else its first 130 characters
    and a digest of the whole: one key for one ``key`` still.

    >>> shortened_key("o-1:thank_you")
    'o-1:thank_you'
    """
    if len(key) <= _LONGEST_KEY:
        return key
    return f"{key[:130]}~{hashlib.sha256(key.encode()).hexdigest()}"


_LONGEST_KEY = 200

# The keys of the messages custbond queues on its own begin with this, and no key of a
# host's may (RetentionService.queue refuses them): the outbox keeps one message per key,
# and custbond, asked again for a message it has queued (an event delivered again, a
# second run_due), takes the one under its key for it. Without a namespace of its own, a
# host's message under that key (even to another customer) took its place, and custbond's
# was never queued. A prefix keeps the key the message's only identity (no column to
# add, every store alike, erasure renames keys as before); the digest of a long key
# keeps its first 130 characters, so the prefix too.
AUTOMATIC_PREFIX = "custbond:"


def automatic_key(*parts: str) -> str:
    """The key of a message custbond queues on its own: :func:`message_key` of
    ``parts``, in the namespace no host key may use (it begins with
    :data:`AUTOMATIC_PREFIX`).

    >>> automatic_key("o-1", "thank_you")
    'custbond:o-1:thank_you'
    >>> len(automatic_key("x" * 300))
    195
    """
    return message_key(AUTOMATIC_PREFIX[:-1], *parts)


def is_automatic(key: str) -> bool:
    """Whether ``key`` is in the namespace of custbond's own messages."""
    return key.startswith(AUTOMATIC_PREFIX)


class MessageStatus(enum.StrEnum):
    """Where a queued message stands."""

    PENDING = "pending"  # waiting for its next attempt
    SENDING = "sending"  # claimed by a dispatcher, which has not said how it went
    SENT = "sent"
    SUPPRESSED = "suppressed"  # never to be sent; the reason says why
    DEAD = "dead"  # attempts ran out, or a permanent failure

    @property
    def final(self) -> bool:
        """Whether nothing more will happen to a message in this status."""
        return self in (MessageStatus.SENT, MessageStatus.SUPPRESSED, MessageStatus.DEAD)


_STATUS = enum_converter(MessageStatus, "status")


def _to_status(value: Any) -> MessageStatus:
    return _STATUS(value)


def _is_message(instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, Message):
        raise InvalidInput("message", value, "a Message")


@attrs.frozen(kw_only=True)
class QueuedMessage:
    """A message in the outbox (see the module docstring).

    ``attempts`` counts the sends begun; ``next_attempt_at`` is when a pending message is
    next tried, or when the claim of a dispatcher that is sending it lapses (a dispatcher
    that stopped half-way: the message is tried again, with the same key). ``sent_at`` is
    when it was delivered; ``reason`` why it was suppressed, deferred or failed last.
    """

    message: Message = attrs.field(validator=_is_message)
    status: MessageStatus = attrs.field(converter=_to_status)
    queued_at: datetime = attrs.field(validator=v.is_aware)
    next_attempt_at: datetime = attrs.field(validator=v.is_aware)
    attempts: int = attrs.field(default=0, validator=v.is_int)
    sent_at: datetime | None = attrs.field(default=None, validator=v.is_optional_aware)
    reason: str | None = attrs.field(default=None, validator=v.is_optional_text)

    @classmethod
    def new(cls, message: Message, now: datetime) -> QueuedMessage:
        """``message`` queued at ``now``: due at once, or at its ``not_before``."""
        due = now if message.not_before is None else max(now, message.not_before)
        return cls(
            message=message, status=MessageStatus.PENDING, queued_at=now, next_attempt_at=due
        )

    @classmethod
    def suppressed(cls, message: Message, now: datetime, reason: str) -> QueuedMessage:
        """``message`` kept in the outbox as never to be sent, because of ``reason``."""
        return cls(
            message=message,
            status=MessageStatus.SUPPRESSED,
            queued_at=now,
            next_attempt_at=now,
            reason=reason,
        )

    @property
    def key(self) -> str:
        return self.message.key

    @property
    def customer_id(self) -> str:
        return self.message.customer_id

    def is_due(self, now: datetime) -> bool:
        """Whether a dispatcher may take it at ``now``: pending and due, or being sent by
        a dispatcher whose claim has lapsed."""
        return not self.status.final and self.next_attempt_at <= now
