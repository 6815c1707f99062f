"""The messages custbond sends on its own: on events, and when their time comes.

Each is switched on in the program's :class:`~custbond.messaging.MessagingPolicy`:

- :class:`Send` for the messages an event brings: ``welcome`` on a signup, ``thank_you``
  after each purchase (its ``suggestions`` slot filled from the policy's ``related``
  items), ``appointment_reminder`` before each appointment (a :class:`Reminder`).
- :class:`Greeting` for the customer's birthday: on the day, at a local hour. A birthday
  on 29 February is greeted on 28 February in common years (as
  :meth:`~custbond.Birthday.in_year` says).
- :class:`Holiday` for the greetings everybody gets on a day of the year, written as an
  RFC 5545 recurrence (``"FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=25"``), read by
  ``dateutil.rrule`` (a parser: the text is never evaluated).
- :class:`ExpiryNotice` for points about to expire.

>>> from datetime import datetime, time, timezone
>>> from dateutil import tz
>>> from custbond import Birthday
>>> greeting = Greeting(at=time(9))
>>> after = datetime(2027, 1, 1, tzinfo=timezone.utc)
>>> greeting.next_at(Birthday(month=2, day=29), tz.gettz("Europe/Paris"), after).isoformat()
'2027-02-28T09:00:00+01:00'
>>> Holiday("christmas", "FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=25").next_day(after.date())
datetime.date(2027, 12, 25)
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

import attrs
from dateutil import rrule, tz
from dateutil.relativedelta import relativedelta

from custbond import _validate as v
from custbond._durations import describe_duration, shift
from custbond.customers import Birthday
from custbond.errors import InvalidInput
from custbond.messaging.message import MessageKind, _to_kind

__all__ = ["ExpiryNotice", "Greeting", "Holiday", "Reminder", "Send"]


def _is_local_time(instance: Any, attribute: attrs.Attribute[time], value: Any) -> None:
    if not isinstance(value, time) or value.tzinfo is not None:
        raise InvalidInput(attribute.name, value, "a datetime.time without a tzinfo (local)")


def local_moment(day: date, wall: time, zone: tzinfo, *, fold: int = 0) -> datetime:
    """The first moment at which the wall clock in ``zone`` shows ``wall`` on ``day``, or
    later: when the clocks go back and show it twice, the first (``fold=1``: the
    second); when they skip it, the moment they jump (02:30 on a night that goes from
    02:00 to 03:00 is 03:00).

    >>> from dateutil import tz
    >>> local_moment(date(2026, 3, 8), time(2, 30), tz.gettz("America/New_York")).isoformat()
    '2026-03-08T03:00:00-04:00'
    """
    naive = datetime.combine(day, wall)
    moment = naive.replace(tzinfo=zone, fold=fold)
    if tz.datetime_exists(moment):
        return moment
    # Skipped: find the jump, the first instant whose wall time is ``naive`` or later. It
    # is before the instant ``naive`` names under the offset before the gap.
    high = tz.resolve_imaginary(moment).astimezone(UTC)
    low = high - _LONGEST_GAP
    while high - low > _MICROSECOND:
        middle = low + (high - low) / 2
        if middle.astimezone(zone).replace(tzinfo=None) >= naive:
            high = middle
        else:
            low = middle
    return high.astimezone(zone)


# No time zone has ever skipped more than a day; most skip an hour.
_LONGEST_GAP = timedelta(days=1)
_MICROSECOND = timedelta(microseconds=1)


@attrs.frozen(kw_only=True)
class Send:
    """Which template to send, on which channel, of which kind."""

    template: str = attrs.field(validator=v.is_identifier)
    channel: str = attrs.field(default="email", validator=v.is_identifier)
    kind: MessageKind = attrs.field(default=MessageKind.TRANSACTIONAL, converter=_to_kind)


@attrs.frozen(kw_only=True)
class Reminder:
    """A reminder ``before`` each appointment (sent then, or at once when the
    appointment is booked closer than that)."""

    before: timedelta = attrs.field()
    template: str = attrs.field(default="appointment_reminder", validator=v.is_identifier)
    channel: str = attrs.field(default="sms", validator=v.is_identifier)
    kind: MessageKind = attrs.field(default=MessageKind.TRANSACTIONAL, converter=_to_kind)

    @before.validator
    def _check_before(self, attribute: object, value: object) -> None:
        if not isinstance(value, timedelta) or value <= timedelta(0):
            raise InvalidInput("before", value, "a positive timedelta")


@attrs.frozen(kw_only=True)
class Greeting:
    """A birthday greeting, at ``at`` o'clock local time on the day."""

    template: str = attrs.field(default="birthday", validator=v.is_identifier)
    channel: str = attrs.field(default="email", validator=v.is_identifier)
    kind: MessageKind = attrs.field(default=MessageKind.MARKETING, converter=_to_kind)
    at: time = attrs.field(default=time(9), validator=_is_local_time)
    # How late a greeting may still go out (run_due not run for a while): after that it
    # waits for next year rather than arrive days after the day.
    late_by: timedelta = attrs.field(default=timedelta(days=1))

    @late_by.validator
    def _check_late_by(self, attribute: object, value: object) -> None:
        if not isinstance(value, timedelta) or value <= timedelta(0):
            raise InvalidInput("late_by", value, "a positive timedelta")

    def on(self, birthday: Birthday, year: int, zone: tzinfo) -> datetime:
        """The greeting's moment in ``year``."""
        return local_moment(birthday.in_year(year), self.at, zone)

    def next_at(self, birthday: Birthday, zone: tzinfo, after: datetime) -> datetime:
        """The first greeting moment strictly after ``after``."""
        year = after.astimezone(zone).year
        moment = self.on(birthday, year, zone)
        while moment <= after:
            year += 1
            moment = self.on(birthday, year, zone)
        return moment


def _recurrence(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput("recurrence", value, 'an RFC 5545 rule like "FREQ=YEARLY;BYMONTH=1"')
    text = value.strip().removeprefix("RRULE:")
    if "\n" in text or "DTSTART" in text.upper():  # one rule, read from 2000-01-01
        raise InvalidInput("recurrence", value, "one RFC 5545 rule, without DTSTART")
    try:
        rule = rrule.rrulestr(text, dtstart=datetime(2000, 1, 1), forceset=False)  # noqa: DTZ001
    except (ValueError, TypeError) as error:
        raise InvalidInput(
            "recurrence", value, f'an RFC 5545 rule like "FREQ=YEARLY;BYMONTH=1" ({error})'
        ) from None
    if not isinstance(rule, rrule.rrule) or rule.after(datetime(2000, 1, 1), inc=True) is None:  # noqa: DTZ001
        raise InvalidInput("recurrence", value, "a rule with days to come")
    return text


@attrs.frozen
class Holiday:
    """A greeting for every customer on the days ``recurrence`` gives (read from
    2000-01-01), at ``at`` o'clock local time."""

    name: str = attrs.field(validator=v.is_identifier)
    recurrence: str = attrs.field(converter=_recurrence)
    template: str = attrs.field(default="holiday", kw_only=True, validator=v.is_identifier)
    channel: str = attrs.field(default="email", kw_only=True, validator=v.is_identifier)
    kind: MessageKind = attrs.field(
        default=MessageKind.MARKETING, kw_only=True, converter=_to_kind
    )
    at: time = attrs.field(default=time(9), kw_only=True, validator=_is_local_time)

    def _rule(self) -> rrule.rrule:
        rule = rrule.rrulestr(self.recurrence, dtstart=datetime(2000, 1, 1))  # noqa: DTZ001
        assert isinstance(rule, rrule.rrule)
        return rule

    def next_day(self, day: date) -> date | None:
        """The first day of the holiday on or after ``day``; None when there are no more."""
        found = self._rule().after(datetime.combine(day, time()), inc=True)
        return None if found is None else found.date()


@attrs.frozen(kw_only=True)
class ExpiryNotice:
    """A notice when points will expire ``within`` the given time: it names how many do,
    and the first day they do. The next notice comes only after those have expired (or
    been spent), so a customer is told at most once per ``within``."""

    within: relativedelta | timedelta = attrs.field(validator=v.is_duration)
    template: str = attrs.field(default="points_expiring", validator=v.is_identifier)
    channel: str = attrs.field(default="email", validator=v.is_identifier)
    kind: MessageKind = attrs.field(default=MessageKind.TRANSACTIONAL, converter=_to_kind)

    def describe(self) -> str:
        return f"points expiring within {describe_duration(self.within)}"

    def window_end(self, now: datetime) -> datetime:
        return shift(now, self.within)

    def check_at(self, expires_at: datetime) -> datetime:
        """When to look at a lot expiring at ``expires_at``."""
        return shift(expires_at, self.within, back=True)
