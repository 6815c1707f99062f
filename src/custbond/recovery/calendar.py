"""Business hours: when a target counted in working time falls due.

A service-level target such as "acknowledge a complaint within 4 business hours" counts
only the time the business is open. A :class:`BusinessCalendar` holds the opening hours
of each weekday, local time in the business's time zone, and the whole days it is closed,
and does that arithmetic.

A shop open Monday to Friday, 09:00 to 17:30 in London, gets a complaint on Friday at
18:40. It promises an acknowledgement within 4 business hours: that is Monday 13:00.

>>> from datetime import datetime, timedelta
>>> from dateutil import tz
>>> shop = BusinessCalendar("Europe/London", {"MO-FR": "09:00-17:30"})
>>> filed = datetime(2026, 6, 5, 18, 40, tzinfo=tz.gettz("Europe/London"))
>>> shop.add(filed, timedelta(hours=4)).isoformat()
'2026-06-08T13:00:00+01:00'
>>> shop.describe()
'Mon-Fri 09:00-17:30 (Europe/London)'
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo

import attrs
from dateutil import tz

from custbond import _validate as v
from custbond.errors import InvalidInput
from custbond.messaging.occasions import local_moment

__all__ = ["BusinessCalendar"]

Span = tuple[int, int]
"""An opening span of one day: (first minute open, first minute closed after it), in
minutes since local midnight, 0 to 1440 (1440 is "24:00", midnight at the day's end)."""

DayHours = tuple[Span, ...]
WeekHours = tuple[DayHours, ...]
"""Seven days of spans, Monday first: how :attr:`BusinessCalendar.hours` is stored."""

_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MINUTES_PER_DAY = 24 * 60
_DAY = timedelta(days=1)
_ZERO = timedelta(0)

_KEY = re.compile(r"\s*([A-Za-z]{2})\s*(?:-\s*([A-Za-z]{2})\s*)?")
_SPAN = re.compile(r"\s*(\d\d):(\d\d)\s*-\s*(\d\d):(\d\d)\s*")

_KEY_EXPECTED = "a weekday ('MO' to 'SU') or a range of weekdays ('MO-FR')"
_SPAN_EXPECTED = "a span of local time such as '09:00-17:30' (HH:MM-HH:MM, '24:00' ends a day)"
_DAY_EXPECTED = "a span such as '09:00-17:30', a sequence of spans, or '' when closed"
_HOURS_EXPECTED = "a mapping of weekdays ('MO', 'MO-FR') to opening hours ('09:00-17:30')"

# A calendar that stays closed this long after a moment is taken never to open again: a
# search for the next opening stops there rather than walk to the year 9999. No real
# closure lasts 20 years; a closed set that big is a mistake (dates generated in a loop).
_LONGEST_CLOSURE = 20 * 366
# The day walk needs the next day's midnight in UTC: stop a little before datetime's end.
_LAST_DAY = date(9999, 12, 1)


def _span_text(span: Span) -> str:
    (start_hour, start_minute), (end_hour, end_minute) = (divmod(minute, 60) for minute in span)
    return f"{start_hour:02d}:{start_minute:02d}-{end_hour:02d}:{end_minute:02d}"


def _days_text(first: int, last: int) -> str:
    return _WEEKDAYS[first] if first == last else f"{_WEEKDAYS[first]}-{_WEEKDAYS[last]}"


def _weekdays_of(key: object) -> range:
    """The weekdays (0 for Monday) a key of ``hours`` names: "MO", or "MO-FR"."""
    match = _KEY.fullmatch(key) if isinstance(key, str) else None
    if match is None:
        raise InvalidInput("hours key", key, _KEY_EXPECTED)
    first_code = match.group(1).upper()
    last_code = (match.group(2) or first_code).upper()
    if first_code not in _WEEKDAYS or last_code not in _WEEKDAYS:
        raise InvalidInput("hours key", key, _KEY_EXPECTED)
    first, last = _WEEKDAYS.index(first_code), _WEEKDAYS.index(last_code)
    if first > last:
        # "FR-MO" could mean Friday to Monday or be a slip for "MO-FR": ask for the
        # spelling that cannot be misread.
        raise InvalidInput(
            "hours key",
            key,
            "a range from Monday towards Sunday such as 'MO-FR' (ranges do not wrap past "
            f"Sunday: write {_days_text(first, 6)!r} and {_days_text(0, last)!r} as two keys)",
        )
    return range(first, last + 1)


def _span(field: str, value: object) -> Span:
    """A span from its text, "09:00-17:30"."""
    match = _SPAN.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise InvalidInput(field, value, _SPAN_EXPECTED)
    start_hour, start_minute, end_hour, end_minute = (int(part) for part in match.groups())
    if start_hour > 23 or start_minute > 59 or end_minute > 59 or end_hour > 24:
        raise InvalidInput(field, value, _SPAN_EXPECTED)
    start, end = start_hour * 60 + start_minute, end_hour * 60 + end_minute
    if end > _MINUTES_PER_DAY:
        raise InvalidInput(field, value, _SPAN_EXPECTED)
    return _ordered(field, value, start, end)


def _ordered(field: str, value: object, start: int, end: int) -> Span:
    if not start < end:
        raise InvalidInput(
            field,
            value,
            "a span that ends after it starts, within one day (for hours past midnight, "
            "end the day at '24:00' and open the next at '00:00')",
        )
    return start, end


def _merged(field: str, value: object, spans: Iterable[Span]) -> DayHours:
    """``spans`` sorted, touching ones joined ("09:00-12:00" and "12:00-17:00" are
    "09:00-17:00", so equal hours compare equal however they were written)."""
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start < merged[-1][1]:
            raise InvalidInput(
                field,
                value,
                f"spans that do not overlap ({_span_text(merged[-1])} and "
                f"{_span_text((start, end))} do)",
            )
        if merged and start == merged[-1][1]:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return tuple(merged)


def _day_hours(key: str, value: object) -> DayHours:
    """One day's spans from "09:00-17:30", a sequence of such spans, or "" (closed)."""
    field = f"hours[{key!r}]"
    items: Sequence[object]
    if isinstance(value, str):
        items = (value,) if value.strip() else ()
    elif isinstance(value, Sequence):
        items = value
    else:
        raise InvalidInput(field, value, _DAY_EXPECTED)
    return _merged(field, value, (_span(field, item) for item in items))


def _from_mapping(value: Mapping[object, object]) -> WeekHours:
    week: list[DayHours] = [()] * 7
    given_by: dict[int, object] = {}
    for key, spans in value.items():
        days = _weekdays_of(key)
        for day in days:
            if day in given_by:
                raise InvalidInput(
                    "hours key",
                    key,
                    f"weekdays named once each ({_WEEKDAYS[day]} is also in {given_by[day]!r})",
                )
            given_by[day] = key
        assert isinstance(key, str)  # _weekdays_of accepts only strings
        hours = _day_hours(key, spans)
        for day in days:
            week[day] = hours
    return tuple(week)


def _from_minutes(value: tuple[object, ...]) -> WeekHours:
    """The stored form again (what :func:`attrs.evolve` passes), checked as strictly."""
    week: list[DayHours] = []
    for code, day in zip(_WEEKDAYS, value, strict=True):
        field = f"hours[{code!r}]"
        if not isinstance(day, tuple):
            raise InvalidInput(field, day, "a tuple of (start, end) minutes")
        spans: list[Span] = []
        for span in day:
            if not (
                isinstance(span, tuple)
                and len(span) == 2
                and all(type(minute) is int for minute in span)
                and span[0] >= 0
                and span[1] <= _MINUTES_PER_DAY
            ):
                raise InvalidInput(field, span, "a (start, end) pair of minutes from 0 to 1440")
            spans.append(_ordered(field, span, span[0], span[1]))
        week.append(_merged(field, day, spans))
    return tuple(week)


def _to_hours(value: Mapping[str, str | Sequence[str]] | WeekHours) -> WeekHours:
    """The opening hours normalised: seven tuples of spans, Monday first."""
    given: object = value  # checked as anything: callers without mypy pass anything
    if isinstance(given, Mapping):
        week = _from_mapping(given)
    elif isinstance(given, tuple) and len(given) == 7:
        week = _from_minutes(given)
    else:
        raise InvalidInput("hours", value, _HOURS_EXPECTED)
    if not any(week):
        raise InvalidInput("hours", value, "opening hours on at least one weekday")
    return week


def _to_closed(value: Iterable[date]) -> frozenset[date]:
    """The closed days as a frozenset of dates."""
    given: object = value
    if isinstance(given, str | bytes) or not isinstance(given, Iterable):
        raise InvalidInput("closed", value, "a collection of dates")
    days = list(given)
    for day in days:
        # A datetime is a date too; taking its date would hide what was meant.
        if isinstance(day, datetime) or not isinstance(day, date):
            raise InvalidInput("closed", day, "a date (a whole local day), not a datetime")
    return frozenset(days)


def _instant(field: str, value: object) -> datetime:
    """``value`` checked and converted to UTC: aware datetimes that share a tzinfo compare
    and subtract by wall time, so every comparison here is made between UTC moments."""
    return v.moment(field, value).astimezone(UTC)


@attrs.frozen
class BusinessCalendar:
    """Opening hours in a time zone, and arithmetic in open time.

    ``hours`` maps weekdays to opening hours. A key is a weekday code (``"MO"`` to
    ``"SU"``) or a range (``"MO-FR"``, which may not wrap past Sunday), and names each
    weekday at most once. A value is a span of local time (``"09:00-17:30"``), a sequence
    of spans for a day with a break (``("09:00-12:00", "13:00-17:00")``), or ``""`` or
    ``()`` for a closed day. ``"24:00"`` ends a span at midnight at the end of the day.
    Weekdays not named are closed. ``closed`` holds whole local days the business is
    closed (holidays), as dates.

    Stored normalised: ``hours`` as seven tuples of (start, end) minutes since local
    midnight, Monday first, sorted, touching spans joined; ``closed`` as a frozenset. So
    calendars written differently but open at the same times compare equal:

    >>> from datetime import date
    >>> week = BusinessCalendar("Europe/London", {"MO-FR": "09:00-17:30"})
    >>> week.hours[0], week.hours[5]
    (((540, 1050),), ())
    >>> week == BusinessCalendar(
    ...     "Europe/London", {"MO-TH": "09:00-17:30", "FR": ("09:00-12:00", "12:00-17:30")}
    ... )
    True
    >>> import attrs
    >>> attrs.evolve(week, closed=[date(2026, 12, 25)]).describe()
    'Mon-Fri 09:00-17:30 (Europe/London), closed on 1 date'

    Spans are intervals of time: a calendar is open from the moment a span opens and
    closed from the moment it closes. Every method takes timezone-aware datetimes (naive
    ones are rejected) and answers in the calendar's time zone.

    Daylight saving time: spans are wall-clock times. On a local day, a span opens at the
    first moment the clock in ``time_zone`` shows its start and closes at the first moment
    it shows its end (``"24:00"``: the next day's midnight), as
    :func:`~custbond.messaging.occasions.local_moment` says: a time the clocks skip is the
    moment they jump, a time they show twice is its first showing. Open time is real
    elapsed time, the difference of the UTC moments: "00:00-24:00" counts 23 hours on the
    day the clocks go forward and 25 on the day they go back, while "09:00-17:00" counts 8
    hours on both. Whether a moment is open is decided by those moments, not by reading
    the wall clock: a shop open "00:00-01:30" is closed during the second 01:00-01:30 of
    a night the clocks go back, and a span that lies wholly in skipped time is not open
    that day.
    """

    time_zone: str = attrs.field(validator=v.is_time_zone)
    hours: WeekHours = attrs.field(converter=_to_hours)
    closed: frozenset[date] = attrs.field(default=frozenset(), converter=_to_closed)

    def is_open(self, at: datetime) -> bool:
        """Whether the calendar is open at ``at``.

        >>> from datetime import datetime, timezone
        >>> shop = BusinessCalendar("Europe/London", {"MO-FR": "09:00-17:30"})
        >>> shop.is_open(datetime(2026, 6, 5, 16, 29, tzinfo=timezone.utc))  # Fri 17:29
        True
        >>> shop.is_open(datetime(2026, 6, 5, 16, 30, tzinfo=timezone.utc))  # Fri 17:30
        False
        """
        moment = _instant("at", at)
        zone = self._zone()
        # Only the days around ``at`` can hold a span that contains it.
        last_day = moment.astimezone(zone).date() + _DAY
        first = next(self._spans(moment, zone, last_day=last_day), None)
        return first is not None and first[0] == moment

    def next_opening(self, at: datetime) -> datetime:
        """``at`` when the calendar is open then, otherwise the moment it next opens.

        >>> from datetime import datetime, timezone
        >>> shop = BusinessCalendar("Europe/London", {"MO-FR": "09:00-17:30"})
        >>> shop.next_opening(datetime(2026, 6, 6, 12, tzinfo=timezone.utc)).isoformat()
        '2026-06-08T09:00:00+01:00'
        """
        moment = _instant("at", at)
        zone = self._zone()
        for opens, _ in self._spans(moment, zone, field="at", value=at):
            return opens.astimezone(zone)
        # Not reached: ``at`` is before the year 9000, and 20 years without an opening
        # stop the walk first.
        raise InvalidInput("at", at, "a moment before the year 9000")  # pragma: no cover

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The moment at which ``duration`` of open time has gone by, counted from
        ``start`` (from the next opening when ``start`` is outside the hours).

        A duration used up exactly at a closing time ends then, not at the next opening.
        A zero duration ends at ``start`` (the same moment, in the calendar's zone), open
        or not.

        >>> from datetime import datetime, timedelta, timezone
        >>> shop = BusinessCalendar("Europe/London", {"MO-FR": "09:00-17:30"})
        >>> friday = datetime(2026, 6, 5, 15, tzinfo=timezone.utc)  # 16:00 in London
        >>> shop.add(friday, timedelta(hours=1.5)).isoformat()
        '2026-06-05T17:30:00+01:00'
        >>> shop.add(friday, timedelta(hours=2)).isoformat()
        '2026-06-08T09:30:00+01:00'
        """
        moment = _instant("start", start)
        if not isinstance(duration, timedelta) or duration < _ZERO:
            raise InvalidInput("duration", duration, "a timedelta of zero or more")
        zone = self._zone()
        if duration == _ZERO:
            return moment.astimezone(zone)
        # Open time never runs faster than real time: a duration that would end past the
        # calendar's range in real time ends there in open time too. Saying so at once
        # spares a walk of millions of days towards the year 9999.
        try:
            earliest = moment + duration
        except OverflowError:
            earliest = None
        if earliest is None or earliest.year > v.LAST_YEAR:
            raise InvalidInput(
                "duration", duration, f"a duration that ends before the year {v.LAST_YEAR + 1}"
            )
        left = duration
        for opens, closes in self._spans(moment, zone, field="start", value=start):
            if left <= closes - opens:  # `<=`: a duration used up at closing ends there
                return (opens + left).astimezone(zone)
            left -= closes - opens
        # Only a calendar open a few minutes a week gets here, after a walk of centuries.
        raise InvalidInput(
            "duration", duration, "a duration the open hours use up before the year 9999"
        )

    def between(self, start: datetime, end: datetime) -> timedelta:
        """The open time from ``start`` (included) to ``end`` (excluded).

        >>> from datetime import datetime, timezone
        >>> shop = BusinessCalendar("Europe/London", {"MO-FR": "09:00-17:30"})
        >>> friday = datetime(2026, 6, 5, 15, tzinfo=timezone.utc)  # 16:00 in London
        >>> monday = datetime(2026, 6, 8, 12, tzinfo=timezone.utc)  # 13:00 in London
        >>> str(shop.between(friday, monday))
        '5:30:00'
        """
        first = _instant("start", start)
        last = _instant("end", end)
        if last < first:
            raise InvalidInput("end", end, f"a moment at or after start ({start.isoformat()})")
        zone = self._zone()
        total = _ZERO
        last_day = last.astimezone(zone).date() + _DAY
        for opens, closes in self._spans(first, zone, last_day=last_day):
            if opens >= last:
                break
            total += min(closes, last) - opens
        return total

    def describe(self) -> str:
        """The hours in words, for people: consecutive weekdays with the same hours share
        a range, a day's spans are joined by "and".

        >>> BusinessCalendar(
        ...     "Europe/Paris", {"MO-FR": ("09:00-12:00", "14:00-18:00"), "SA": "10:00-16:00"}
        ... ).describe()
        'Mon-Fri 09:00-12:00 and 14:00-18:00, Sat 10:00-16:00 (Europe/Paris)'
        """
        groups: list[str] = []
        first = 0
        while first < 7:
            last = first
            while last < 6 and self.hours[last + 1] == self.hours[first]:
                last += 1
            if self.hours[first]:
                days = _DAY_NAMES[first]
                if last > first:
                    days += f"-{_DAY_NAMES[last]}"
                spans = " and ".join(_span_text(span) for span in self.hours[first])
                groups.append(f"{days} {spans}")
            first = last + 1
        text = f"{', '.join(groups)} ({self.time_zone})"
        if self.closed:
            count = len(self.closed)
            text += f", closed on {count} date{'' if count == 1 else 's'}"
        return text

    def _zone(self) -> tzinfo:
        # Resolved on use rather than stored: dateutil caches zones by name, and the
        # value stays a plain (time zone name, hours, closed) triple.
        zone = tz.gettz(self.time_zone)
        assert zone is not None  # checked on construction
        return zone

    def _day_spans(self, day: date, zone: tzinfo) -> list[tuple[datetime, datetime]]:
        """The open spans of local ``day`` as UTC moments; spans that the clocks skip
        whole are left out (they open and close at the same moment)."""
        if day in self.closed:
            return []
        spans = []
        for start, end in self.hours[day.weekday()]:
            opens = _moment(day, start, zone)
            closes = _moment(day, end, zone)
            if opens < closes:
                spans.append((opens, closes))
        return spans

    def _spans(
        self,
        after: datetime,
        zone: tzinfo,
        *,
        last_day: date | None = None,
        field: str = "start",
        value: object = None,
    ) -> Iterator[tuple[datetime, datetime]]:
        """The open spans that end after ``after`` (UTC), in order, as UTC moments; the
        first one starts at ``after`` when ``after`` is open.

        Up to local ``last_day`` when given. Otherwise on and on, until 20 years go by
        without an opening (InvalidInput then names ``field`` and its ``value``) or the
        walk nears the end of the calendar (the year 9999: the spans end there).
        """
        # No span of an earlier day is still open at ``after``: a day's spans close by the
        # first showing of the next midnight, which is no later than any moment of a later
        # local day. (The converse fails where the clocks go back across midnight, so
        # callers with a ``last_day`` look one day past theirs.)
        day = after.astimezone(zone).date()
        closed_for = 0
        while day <= (last_day or _LAST_DAY):
            spans = self._day_spans(day, zone)
            for opens, closes in spans:
                if closes > after:
                    yield max(opens, after), closes
            closed_for = 0 if spans else closed_for + 1
            if last_day is None and closed_for > _LONGEST_CLOSURE:
                raise InvalidInput(
                    field,
                    value,
                    "a moment after which the calendar opens again (it has no open hours "
                    "in the 20 years that follow)",
                )
            day += _DAY


def _moment(day: date, minute: int, zone: tzinfo) -> datetime:
    """The UTC moment at which local ``day`` reaches ``minute`` (1440: the next day's
    midnight)."""
    if minute == _MINUTES_PER_DAY:
        day, minute = day + _DAY, 0
    hour, minute = divmod(minute, 60)
    return local_moment(day, time(hour, minute), zone).astimezone(UTC)
