"""Personal occasions, a social bond: the dates an owner marks with a card or a call.

Birthdays live on the customer (:class:`~custbond.Birthday`) and have their greeting
(:class:`~custbond.messaging.Greeting`). An :class:`Occasion` is any other date that comes
round each year: a wedding anniversary, the first visit, the anniversary of the first
purchase (:func:`anniversary_of`). :func:`next_occurrence` says when it next comes round,
at a local hour in the customer's time zone; :func:`years` how long it has been. An
:class:`OccasionPolicy` says which occasions give the relationship owner a task, and how
far ahead.

An occasion on 29 February comes round on 28 February in common years, as a birthday
does (:meth:`~custbond.Birthday.in_year`): never skipped, and never moved into March.

>>> from datetime import datetime, timezone
>>> from dateutil import tz
>>> wedding = Occasion(name="wedding anniversary", month=6, day=14, year=2016)
>>> wedding.describe()
'wedding anniversary: 14 June, since 2016'
>>> after = datetime(2026, 1, 1, tzinfo=timezone.utc)
>>> moment = next_occurrence(wedding, zone=tz.gettz("Europe/Paris"), after=after)
>>> moment.isoformat(), years(wedding, moment.date())
('2026-06-14T09:00:00+02:00', 10)
>>> OccasionPolicy().task_at(moment).isoformat()
'2026-06-11T09:00:00+02:00'
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

import attrs

from custbond import _validate as v
from custbond._durations import describe_duration
from custbond.errors import InvalidInput
from custbond.messaging.occasions import local_moment

__all__ = ["Occasion", "OccasionPolicy", "anniversary_of", "next_occurrence", "years"]

# In English whatever the locale (calendar.month_name follows it): descriptions are
# compared in tests and shown to hosts the same way everywhere.
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def _is_real_day(instance: Occasion, attribute: Any, value: Any) -> None:
    v.calendar_day("", instance.month, instance.day, instance.year)


@attrs.frozen(kw_only=True)
class Occasion:
    """A personal date that comes round each year: ``name`` ("wedding anniversary", "first
    visit"), on ``month`` and ``day``, and ``year`` when it is known when it began (for
    "three years with us").

    >>> Occasion(name="first visit", month=2, day=29).in_year(2027)
    datetime.date(2027, 2, 28)
    """

    name: str = attrs.field(validator=v.is_text)
    month: int = attrs.field(validator=_is_real_day)  # checks day and year with it
    day: int
    year: int | None = None

    def in_year(self, year: int) -> date:
        """The day on which the occasion falls in ``year``: 29 February on 28 February in
        common years, as :meth:`custbond.Birthday.in_year` has it."""
        return v.in_year(self.month, self.day, year)

    def describe(self) -> str:
        text = f"{self.name}: {self.day} {_MONTHS[self.month - 1]}"
        if (self.month, self.day) == (2, 29):
            text += " (28 February in common years)"
        return text if self.year is None else f"{text}, since {self.year}"


def _zone(value: Any) -> tzinfo:
    if not isinstance(value, tzinfo):
        raise InvalidInput("zone", value, "a tzinfo, such as dateutil.tz.gettz('Europe/Paris')")
    return value


def _local_time(field: str, value: Any) -> time:
    if not isinstance(value, time) or value.tzinfo is not None:
        raise InvalidInput(field, value, "a datetime.time without a tzinfo (local)")
    return value


def _occasion(value: Any) -> Occasion:
    if not isinstance(value, Occasion):
        raise InvalidInput("occasion", value, "an Occasion")
    return value


def next_occurrence(
    occasion: Occasion, *, zone: tzinfo, after: datetime, at: time = time(9)
) -> datetime:
    """The next time ``occasion`` comes round strictly after ``after``: at ``at`` on the
    wall clock in ``zone`` on its day (the moment the clocks jump, when they skip ``at``;
    see :func:`~custbond.messaging.occasions.local_moment`). An occasion with a ``year``
    first comes round that year: none before it began.

    >>> from datetime import timezone
    >>> from dateutil import tz
    >>> leap = Occasion(name="first visit", month=2, day=29, year=2024)
    >>> after = datetime(2026, 3, 1, tzinfo=timezone.utc)
    >>> next_occurrence(leap, zone=tz.gettz("Asia/Tokyo"), after=after).isoformat()
    '2027-02-28T09:00:00+09:00'
    """
    occasion = _occasion(occasion)
    zone = _zone(zone)
    after = v.moment("after", after)
    at = _local_time("at", at)
    year = after.astimezone(zone).year
    if occasion.year is not None:
        year = max(year, occasion.year)
    moment = local_moment(occasion.in_year(year), at, zone)
    while moment <= after:
        year += 1
        moment = local_moment(occasion.in_year(year), at, zone)
    return moment


def years(occasion: Occasion, on: date) -> int | None:
    """How many whole years the occasion has been going on ``on`` (a local day): 0 from
    the day it began, 1 from its first anniversary. None when its year is unknown.

    >>> years(Occasion(name="with us", month=2, day=29, year=2024), date(2025, 2, 28))
    1
    >>> years(Occasion(name="wedding anniversary", month=6, day=14), date(2026, 6, 14)) is None
    True
    """
    occasion = _occasion(occasion)
    if isinstance(on, datetime) or not isinstance(on, date):
        raise InvalidInput("on", on, "a date (the local day, not a datetime)")
    if occasion.year is None:
        return None
    began = date(occasion.year, occasion.month, occasion.day)
    if on < began:
        raise InvalidInput("on", on, f"a day on or after the occasion began ({began})")
    count = on.year - occasion.year
    return count - 1 if on < occasion.in_year(on.year) else count


def anniversary_of(
    first: datetime, *, zone: tzinfo, name: str = "anniversary of the first purchase"
) -> Occasion:
    """The occasion of ``first`` (a first purchase, a first visit): its day on the wall
    calendar in ``zone``, the customer's, which is not always the day in UTC.

    >>> from datetime import timezone
    >>> from dateutil import tz
    >>> late = datetime(2025, 11, 4, 6, 30, tzinfo=timezone.utc)  # 22:30 the day before there
    >>> anniversary_of(late, zone=tz.gettz("America/Los_Angeles")).describe()
    'anniversary of the first purchase: 3 November, since 2025'
    """
    first = v.moment("first", first)
    day = first.astimezone(_zone(zone)).date()
    return Occasion(name=v.text("name", name), month=day.month, day=day.day, year=day.year)


def _is_bool(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, bool):
        raise InvalidInput(attribute.name, value, "True or False")


def _is_ahead(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    v.span("ahead", value)
    # A year ahead or more would open the task before the last occurrence had come round.
    if value >= timedelta(days=365):  # type: ignore[operator]  # a timedelta, checked above
        raise InvalidInput("ahead", value, "a timedelta of zero or more, less than a year")


def _is_at(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    _local_time("at", value)


@attrs.frozen(kw_only=True)
class OccasionPolicy:
    """Which personal occasions give the relationship owner a task (saying ``reason``),
    ``ahead`` of the occasion's moment (``at`` o'clock local time on its day) so a card
    can arrive on the day: the customer's ``birthday``, the anniversary of their first
    purchase (``first_purchase``), and the dates a host adds for a customer (``custom``).

    >>> from datetime import timedelta
    >>> OccasionPolicy(ahead=timedelta(days=5), first_purchase=False).describe()
    'personal occasion: a task 5 days ahead of 09:00 on birthdays and dates added per customer'
    """

    ahead: timedelta = attrs.field(default=timedelta(days=3), validator=_is_ahead)
    birthday: bool = attrs.field(default=True, validator=_is_bool)
    first_purchase: bool = attrs.field(default=True, validator=_is_bool)
    custom: bool = attrs.field(default=True, validator=_is_bool)
    at: time = attrs.field(default=time(9), validator=_is_at)
    reason: str = attrs.field(default="personal occasion", validator=v.is_text)

    def task_at(self, moment: datetime) -> datetime:
        """When the task for an occasion at ``moment`` is due: ``ahead`` of it."""
        return v.aware("moment", moment) - self.ahead

    def describe(self) -> str:
        kinds = [
            name
            for name, on in (
                ("birthdays", self.birthday),
                ("anniversaries of the first purchase", self.first_purchase),
                ("dates added per customer", self.custom),
            )
            if on
        ]
        if not kinds:
            return f"{self.reason}: no occasions"
        which = kinds[0] if len(kinds) == 1 else f"{', '.join(kinds[:-1])} and {kinds[-1]}"
        at = f"{self.at:%H:%M}"
        when = f"at {at}" if not self.ahead else f"{describe_duration(self.ahead)} ahead of {at}"
        return f"{self.reason}: a task {when} on {which}"
