"""How messages are sent: quiet hours, frequency caps, retries, and the templates.

:class:`MessagingPolicy` is part of the :class:`~custbond.Program` (what the business
promises its customers: not at night, not more than twice a week); :class:`RetryPolicy`
belongs to the dispatcher (how hard to try a notifier that fails).

>>> from datetime import datetime, time, timezone
>>> from dateutil import tz
>>> night = QuietHours(start=time(21), end=time(8))
>>> paris = tz.gettz("Europe/Paris")
>>> night.until(datetime(2026, 3, 2, 22, tzinfo=timezone.utc), paris).isoformat()
'2026-03-03T08:00:00+01:00'
>>> night.until(datetime(2026, 3, 2, 12, tzinfo=timezone.utc), paris) is None
True
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

import attrs
from dateutil.relativedelta import relativedelta

from custbond import _validate as v
from custbond._durations import describe_duration, shift
from custbond._frozen import empty_map
from custbond.errors import InvalidInput
from custbond.messaging.message import (
    Message,
    MessageKind,
    MessageStatus,
    QueuedMessage,
    _to_kind,
)
from custbond.messaging.occasions import (
    ExpiryNotice,
    Greeting,
    Holiday,
    Reminder,
    Send,
    local_moment,
)
from custbond.messaging.templates import Templates

__all__ = [
    "FrequencyCap",
    "MessagingPolicy",
    "QuietHours",
    "RetryPolicy",
    "rule_message_values",
]


def _is_time(instance: object, attribute: attrs.Attribute[time], value: object) -> None:
    if not isinstance(value, time) or value.tzinfo is not None:
        raise InvalidInput(attribute.name, value, "a datetime.time without a tzinfo (local)")


def _channels(value: Any) -> frozenset[str]:
    if isinstance(value, str):  # one channel, not its letters
        value = (value,)
    if not isinstance(value, Iterable):
        raise InvalidInput("channels", value, "channel names (a collection of str)")
    return frozenset(v.identifier("channels", channel) for channel in value)


def _items(field: str, what: str) -> Any:
    def convert(value: Any) -> tuple[Any, ...]:
        if isinstance(value, str | bytes) or not isinstance(value, Iterable):
            raise InvalidInput(field, value, f"a collection of {what}")
        return tuple(value)

    return convert


@attrs.frozen(kw_only=True)
class QuietHours:
    """No message is sent between ``start`` and ``end``, local time in the customer's
    time zone (the program's for customers without one): a message falling due then
    waits for ``end``. ``start`` after ``end`` spans midnight (21:00 to 08:00).
    ``channels`` limits them to some channels (all when empty).

    On the night clocks change, ``end`` is the first moment the wall clock shows it or
    a later time (a time the clocks skip ends the quiet hours when they jump).
    """

    start: time = attrs.field(validator=_is_time)
    end: time = attrs.field(validator=_is_time)
    channels: frozenset[str] = attrs.field(default=frozenset(), converter=_channels)

    def __attrs_post_init__(self) -> None:
        if self.start == self.end:
            raise InvalidInput("end", self.end, f"a time other than start ({self.start})")

    def applies(self, message: Message) -> bool:
        return not self.channels or message.channel in self.channels

    def until(self, at: datetime, zone: tzinfo) -> datetime | None:
        """When quiet hours that ``at`` falls in end (in ``zone``); None outside them."""
        local = at.astimezone(zone)
        now, today = local.time().replace(tzinfo=None), local.date()
        start, end = self.start, self.end
        if start < end:
            quiet = start <= now < end
            ends_on = today
        else:  # across midnight
            quiet = now >= start or now < end
            ends_on = today + timedelta(days=1) if now >= start else today
        if not quiet:
            return None
        return _first_at_or_after(ends_on, end, zone, at)

    def describe(self) -> str:
        return f"quiet hours {self.start:%H:%M} to {self.end:%H:%M}"


def _first_at_or_after(day: date, wall: time, zone: tzinfo, after: datetime) -> datetime:
    """The first moment after ``after`` at which the wall clock in ``zone`` shows
    ``wall`` on ``day`` (see :func:`~custbond.messaging.occasions.local_moment`)."""
    for fold in (0, 1):
        moment = local_moment(day, wall, zone, fold=fold)
        if moment > after:
            return moment
    return after  # pragma: no cover - a wall time always comes after a moment before it


def _kind_or_none(value: Any) -> MessageKind | None:
    return None if value is None else _to_kind(value)


@attrs.frozen(kw_only=True)
class FrequencyCap:
    """At most ``limit`` messages of ``kind`` (every kind when None) on ``channel``
    (every channel when None) to one customer in any ``per``. A message over the cap is
    suppressed, not delayed: a greeting a week late is worse than none.

    >>> from dateutil.relativedelta import relativedelta
    >>> FrequencyCap(limit=2, per=relativedelta(weeks=1)).describe()
    'at most 2 marketing messages per 7 days'
    """

    limit: int = attrs.field(validator=v.is_positive_int)
    per: relativedelta | timedelta = attrs.field(validator=v.is_duration)
    kind: MessageKind | None = attrs.field(default=MessageKind.MARKETING, converter=_kind_or_none)
    channel: str | None = attrs.field(default=None)

    @channel.validator
    def _check_channel(self, attribute: object, value: str | None) -> None:
        if value is not None:
            v.identifier("channel", value)

    def applies(self, message: Message) -> bool:
        return (self.kind is None or message.kind is self.kind) and (
            self.channel is None or message.channel == self.channel
        )

    def reached(self, message: Message, others: Iterable[QueuedMessage], now: datetime) -> bool:
        """Whether sending ``message`` at ``now`` would go over the cap, given the
        customer's ``others`` (those sent within ``per``, and those being sent, count)."""
        if not self.applies(message):
            return False
        since = shift(now, self.per, back=True)
        counted = 0
        for other in others:
            if other.key == message.key or not self.applies(other.message):
                continue
            if other.status is MessageStatus.SENDING or (
                other.status is MessageStatus.SENT
                and other.sent_at is not None
                and other.sent_at > since
            ):
                counted += 1
        return counted >= self.limit

    def describe(self) -> str:
        kind = "" if self.kind is None else f"{self.kind.value} "
        on = "" if self.channel is None else f" on {self.channel}"
        return f"at most {self.limit} {kind}messages{on} per {describe_duration(self.per)}"


def _caps(value: Iterable[FrequencyCap]) -> tuple[FrequencyCap, ...]:
    converted: tuple[FrequencyCap, ...] = _items("caps", "FrequencyCaps")(value)
    return converted


def _holidays(value: Iterable[Holiday]) -> tuple[Holiday, ...]:
    converted: tuple[Holiday, ...] = _items("holidays", "Holidays")(value)
    return converted


def _is_caps(instance: Any, attribute: Any, value: Any) -> None:
    for cap in value:
        if not isinstance(cap, FrequencyCap):
            raise InvalidInput("caps", cap, "a FrequencyCap")


def _is_quiet(instance: Any, attribute: Any, value: Any) -> None:
    if value is not None and not isinstance(value, QuietHours):
        raise InvalidInput("quiet_hours", value, "QuietHours or None")


def _is_templates(instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, Templates):
        raise InvalidInput("templates", value, "a Templates")


def _optional(kind: type, name: str) -> Any:
    def check(instance: Any, attribute: Any, value: Any) -> None:
        if value is not None and not isinstance(value, kind):
            raise InvalidInput(attribute.name, value, f"{name} or None")

    return check


def _is_holidays(instance: Any, attribute: Any, value: Any) -> None:
    v.distinct("holidays", value, Holiday, "a Holiday", plural="holidays")


def _is_related(instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, Mapping):
        raise InvalidInput("related", value, "a mapping of skus to the item suggested")
    for sku, text in value.items():
        v.identifier("related key", sku)
        v.identifier(f"related[{sku!r}]", text)


# The values each message custbond sends on its own is rendered with: "name" (the
# customer's, which the dispatcher gives every message), and what the program puts in
# its context (program.py: welcome, thank-you, reminder, greeting, notice; outbox.py:
# a holiday's greeting). A placeholder outside these can never be filled in.
_EVERY_MESSAGE = ("name",)
_Occasion = Send | Reminder | Greeting | Holiday | ExpiryNotice
_GIVEN: Mapping[str, tuple[str, ...]] = {
    "welcome": (),
    "thank_you": ("points", "amount", "related", "suggestions"),
    "appointment_reminder": ("when", "service"),
    "birthday": (),
    "holidays": ("holiday",),
    "points_expiring": ("points", "expires_on"),
}

# The values of a message a rule's Message effect asks for (outbox.py,
# OutboxVerbs._requested_message): the event's id, the points it earned and the balance
# after it; for a purchase also its amount and the items suggested with it (as for a
# thank-you).
_RULE_MESSAGE = ("event", "points", "balance")
_PURCHASE_MESSAGE = ("amount", "related", "suggestions")


def rule_message_values(on: Iterable[str]) -> tuple[str, ...]:
    """The values (besides ``name``) the message of a rule that fires on the event types
    ``on`` is given every time: ``event`` (the event's id), ``points`` (earned with it)
    and ``balance`` (available after it); and for a rule on purchases only, the
    purchase's ``amount``, ``related`` and ``suggestions`` (as for a thank-you). A rule
    on other events too gets those only when a purchase fires it, so its template may
    not count on them.

    >>> rule_message_values({"Purchase"})
    ('event', 'points', 'balance', 'amount', 'related', 'suggestions')
    >>> rule_message_values({"Purchase", "Visit"})
    ('event', 'points', 'balance')
    """
    if frozenset(on) == {"Purchase"}:
        return (*_RULE_MESSAGE, *_PURCHASE_MESSAGE)
    return _RULE_MESSAGE


@attrs.frozen(kw_only=True)
class MessagingPolicy:
    """What a program promises about messages: ``templates`` to render them with (the
    defaults, or the host's: see :mod:`custbond.messaging.templates`), ``quiet_hours``
    and frequency ``caps``; and the messages custbond sends on its own (all off by
    default; see :mod:`custbond.messaging.occasions`): ``welcome`` on a signup,
    ``thank_you`` after a purchase (``related`` maps a sku to the item suggested with
    it, for the template's ``$suggestions``), ``appointment_reminder``, ``birthday``,
    ``holidays`` and ``points_expiring``.

    The values of each of these are known (see ``docs/notifiers.md``), so a template
    they are sent with (on their channel, or ``"*"``) may only use those: one with
    another placeholder (``$pionts``) raises :class:`~custbond.InvalidInput` naming the
    template, the channel and the placeholder. The templates of a host's own messages
    may use any.
    """

    templates: Templates = attrs.field(factory=Templates.defaults, validator=_is_templates)
    quiet_hours: QuietHours | None = attrs.field(default=None, validator=_is_quiet)
    caps: tuple[FrequencyCap, ...] = attrs.field(default=(), converter=_caps, validator=_is_caps)
    welcome: Send | None = attrs.field(default=None, validator=_optional(Send, "a Send"))
    thank_you: Send | None = attrs.field(default=None, validator=_optional(Send, "a Send"))
    related: Mapping[str, str] = attrs.field(
        factory=empty_map, converter=v.to_frozen_map, validator=_is_related
    )
    appointment_reminder: Reminder | None = attrs.field(
        default=None, validator=_optional(Reminder, "a Reminder")
    )
    birthday: Greeting | None = attrs.field(
        default=None, validator=_optional(Greeting, "a Greeting")
    )
    holidays: tuple[Holiday, ...] = attrs.field(
        default=(), converter=_holidays, validator=_is_holidays
    )
    points_expiring: ExpiryNotice | None = attrs.field(
        default=None, validator=_optional(ExpiryNotice, "an ExpiryNotice")
    )

    def __attrs_post_init__(self) -> None:
        for sender, template, channel, given in self.messages():
            names = (*_EVERY_MESSAGE, *given)
            self.templates.require_values(sender, template, channel, names)

    def messages(self) -> tuple[tuple[str, str, str, tuple[str, ...]], ...]:
        """(field, template, channel, values) for every message the policy sends on its
        own that is switched on: the field that sends it (``messaging.welcome``,
        ``messaging.holidays['christmas']``), and the values (besides ``name``, which
        every message gets) it is queued with, which its template may use.

        >>> MessagingPolicy(welcome=Send(template="welcome")).messages()
        (('messaging.welcome', 'welcome', 'email', ()),)
        """
        return tuple(
            (sender, send.template, send.channel, given)
            for sender, send, given in self._sent_on_own()
        )

    def require_template(
        self, field: str, template: str, channel: str, values: Iterable[str]
    ) -> None:
        """Refuse, with :class:`~custbond.InvalidInput`, a message that ``field`` sends
        with the ``template`` on ``channel`` given ``values`` (besides ``name``, which
        every message gets) unless the templates have it for that channel (or ``"*"``) and
        it uses no other placeholder: for the program to check what its rules, recovery
        and bonds send when it is made, not when every such message dies at
        ``dispatch()``. The error names ``field``, the template, its channel and part, the
        placeholder, and the values the message gets.

        >>> from custbond.messaging.templates import Template, Templates
        >>> policy = MessagingPolicy(templates=Templates.defaults().override(
        ...     {"promo": {"*": Template("Hi $name, $pionts points")}}))
        >>> policy.require_template("rules['promo'].then", "promo", "sms", ["points"])
        Traceback (most recent call last):
        ...
        custbond.errors.InvalidInput: templates.promo.*.body must be a text whose
        placeholders are among the values rules['promo'].then sends it with on 'sms': $name,
        $points (did you mean $points?); got '$pionts'
        """
        self.templates.require(field, template, channel)
        self.templates.require_values(field, template, channel, (*_EVERY_MESSAGE, *values))

    def _sent_on_own(self) -> list[tuple[str, _Occasion, tuple[str, ...]]]:
        """The messages sent on their own that are switched on: the field that sends each
        (``messaging.welcome``), what it sends, and the values it is given."""
        occasions = {
            "welcome": self.welcome,
            "thank_you": self.thank_you,
            "appointment_reminder": self.appointment_reminder,
            "birthday": self.birthday,
            "points_expiring": self.points_expiring,
        }
        sent: list[tuple[str, _Occasion, tuple[str, ...]]] = [
            (f"messaging.{field}", occasion, _GIVEN[field])
            for field, occasion in occasions.items()
            if occasion is not None
        ]
        sent += [
            (f"messaging.holidays[{holiday.name!r}]", holiday, _GIVEN["holidays"])
            for holiday in self.holidays
        ]
        return sent

    def suggestions(self, skus: Iterable[str]) -> str:
        """What ``related`` suggests with the skus bought, less what was bought, joined
        by ", " (empty when nothing)."""
        bought = list(dict.fromkeys(skus))
        found = dict.fromkeys(self.related[sku] for sku in bought if sku in self.related)
        return ", ".join(text for text in found if text not in bought)


@attrs.frozen(kw_only=True)
class RetryPolicy:
    """How the dispatcher retries: at most ``max_attempts`` sends of a message (a send a
    dispatcher began and never finished counts), waiting ``first_delay`` after the
    first failure, ``factor`` times longer after each next one, never more than
    ``max_delay``. ``claim_for`` is how long a dispatcher owns a message it is sending:
    if it stops (killed, crashed) without saying how the send went, another dispatcher
    may try again after that, with the same key.

    >>> policy = RetryPolicy()
    >>> [str(policy.delay(n)) for n in (1, 2, 3)]
    ['0:01:00', '0:02:00', '0:04:00']
    """

    max_attempts: int = attrs.field(default=5, validator=v.is_positive_int)
    first_delay: timedelta = attrs.field(default=timedelta(minutes=1))
    factor: int = attrs.field(default=2, validator=v.is_positive_int)
    max_delay: timedelta = attrs.field(default=timedelta(hours=6))
    claim_for: timedelta = attrs.field(default=timedelta(minutes=5))

    @first_delay.validator
    @max_delay.validator
    @claim_for.validator
    def _check_delay(self, attribute: attrs.Attribute[timedelta], value: object) -> None:
        if not isinstance(value, timedelta) or value <= timedelta(0):
            raise InvalidInput(attribute.name, value, "a positive timedelta")

    def delay(self, attempts: int) -> timedelta:
        """How long to wait after the ``attempts``-th send failed."""
        wait = self.first_delay
        if self.factor > 1:
            # Step by step, stopping at the cap: the power itself may be astronomical.
            for _ in range(max(attempts - 1, 0)):
                if wait >= self.max_delay:
                    break
                wait *= self.factor
        return min(wait, self.max_delay)
