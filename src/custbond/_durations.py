"""Durations: in words, for traces and descriptions; and added to a moment, fast, on the
calendar of a time zone."""

from __future__ import annotations

from calendar import monthrange
from datetime import MAXYEAR, MINYEAR, UTC, date, datetime, timedelta, timezone, tzinfo
from typing import Any, TypeVar

from dateutil import tz
from dateutil.relativedelta import relativedelta

from custbond import _validate as v
from custbond.errors import InvalidInput


def describe_duration(duration: relativedelta | timedelta) -> str:
    """``relativedelta(months=12)`` as "12 months", ``timedelta(days=14)`` as "14 days".

    >>> describe_duration(relativedelta(months=1, days=2)), describe_duration(timedelta(hours=3))
    ('1 month 2 days', '3 hours')
    """
    if isinstance(duration, timedelta):
        duration = relativedelta(seconds=int(duration.total_seconds())).normalized()
    parts = []
    for name in ("years", "months", "days", "hours", "minutes", "seconds"):
        amount = getattr(duration, name)
        if amount:
            unit = name if amount != 1 else name[:-1]
            parts.append(f"{amount:g} {unit}")
    return " ".join(parts) or "no time"


Moment = TypeVar("Moment", date, datetime)

# For each relativedelta seen, by identity (hashing one is slow, and a program keeps its
# durations): (months in all, the fixed rest) when it is only a count of months and a
# fixed length, else None (it names a weekday, a field to set, leap days).
_PLAIN: dict[int, tuple[relativedelta, tuple[int, timedelta] | None]] = {}
_KEEP_PLAIN = 256  # programs use a handful of durations; more means they are made per call


def shift(moment: Moment, duration: relativedelta | timedelta, *, back: bool = False) -> Moment:
    """``moment + duration`` (``moment - duration`` with ``back=True``) on ``moment``'s own
    wall clock; see :func:`_shift`. The answer is a time that exists: one the clocks skip
    (02:30 when they jump from 02:00 to 03:00) is written as the instant just as long after
    the jump (03:30), which is the instant Python reads the skipped time as.

    >>> new_york = tz.gettz("America/New_York")
    >>> shift(datetime(2026, 2, 8, 2, 30, tzinfo=new_york), relativedelta(months=1)).isoformat()
    '2026-03-08T03:30:00-04:00'

    A result beyond the calendar (before year 1 or after 9999) is an
    :class:`~custbond.InvalidInput` naming ``moment``: times within the years events may
    take, with durations each under 1000 years, still add up past it (a tier kept 999
    years and a grace of 999 more after a purchase in 8999).
    """
    try:
        return _existing(_shift(moment, duration, back=back))
    except (OverflowError, ValueError):
        raise beyond_the_calendar(moment) from None


def shift_in(
    moment: datetime,
    duration: relativedelta | timedelta,
    zone: tzinfo,
    *,
    back: bool = False,
) -> datetime:
    """``moment + duration`` on the calendar of ``zone``; the answer in ``moment``'s tzinfo.

    A calendar duration (a ``relativedelta``: years, months, days, hours ...) is added to
    the date and time the clocks in ``zone`` show at ``moment``, so the answer depends on
    the instant and the zone only, never on the tzinfo the host wrote ``moment`` in: 23:30
    on 28 February in New York is 04:30 on 1 March in UTC, and a month later is 28 March
    in New York either way. An exact duration (a ``timedelta``) is added as Python's ``+``
    adds it, on ``moment``'s own wall clock (as :func:`shift` does).

    The answer is a time that exists. A date and time the clocks in ``zone`` skip (02:30
    when they jump from 02:00 to 03:00) is the instant just as long after the jump (03:30),
    and one they show twice is the first of the two (``fold=0``), whichever tzinfo
    ``moment`` is written in, that of ``zone`` included: Python compares two datetimes of
    one tzinfo by their wall clocks, so a skipped 02:30 would sort before 03:15.

    >>> from datetime import timezone
    >>> new_york = tz.gettz("America/New_York")
    >>> written_in_utc = datetime(2026, 3, 1, 4, 30, tzinfo=timezone.utc)
    >>> shift_in(written_in_utc, relativedelta(months=1), new_york).isoformat()
    '2026-03-29T03:30:00+00:00'
    """
    home = moment.tzinfo
    if not isinstance(duration, relativedelta) or (_is_utc(home) and _is_utc(zone)):
        return shift(moment, duration, back=back)  # the same calendar: no conversion
    try:
        # Through UTC when ``zone`` is ``home``: astimezone() to a datetime's own tzinfo
        # returns it as it is, a time the clocks skip included, and Python compares two
        # datetimes of one tzinfo by their wall clocks, so a skipped 02:30 would sort
        # before 03:15 although, as an instant, it is 03:30. To another tzinfo,
        # astimezone() goes through UTC itself (the offset of the time, then the zone's
        # fromutc()): the same answer, one conversion fewer (each is slow in dateutil).
        same = zone is home
        local = moment.astimezone(UTC).astimezone(zone) if same else moment.astimezone(zone)
        shifted = _shift(local, duration, back=back)
        # A time the clocks skip (02:30 when they jump from 02:00 to 03:00) converts as
        # the instant just as long after the jump (03:30): with fold=0, which _shift
        # gives, dateutil reads it in the offset before the jump.
        return shifted.astimezone(UTC).astimezone(home) if same else shifted.astimezone(home)
    except (OverflowError, ValueError):
        raise beyond_the_calendar(moment) from None


def zone_named(name: Any, field: str = "time_zone") -> tzinfo:
    """The time zone of an IANA ``name``; anything else (an unknown name, "", a path)
    is an :class:`~custbond.InvalidInput` naming ``field``, as ``Program(time_zone=...)``
    refuses it: never the server's own zone, never None (a naive time).

    >>> zone_named("Europe/Paris") is tz.gettz("Europe/Paris")
    True
    """
    found = _ZONES.get(name) if isinstance(name, str) else None
    if found is None:
        v.time_zone(field, name)
        found = tz.gettz(name)
        assert found is not None  # time_zone() resolved it
        _ZONES[name] = found
        if name in _UTC_NAMES:
            _UTC_ZONES.add(id(found))  # kept alive in _ZONES: the id stays its own
    return found


# Zones by name, once checked: dateutil caches them too, behind a lock, and a program
# asks for its zone on every purchase.
_ZONES: dict[str, tzinfo] = {}
# The names of UTC itself, and the ids of their zones once named: a program's default
# zone, where a time written in UTC needs no conversion.
_UTC_NAMES = frozenset({"UTC", "Etc/UTC", "Etc/UCT", "UCT", "Etc/Universal", "Universal"})
_UTC_ZONES: set[int] = set()


# Time zones of one offset, whose clocks never skip an hour (UTC itself aside).
_FIXED_OFFSETS = (timezone, tz.tzoffset)


def _one_offset(zone: tzinfo | None) -> bool:
    """Whether the clocks of ``zone`` never change (or it is None: a naive time), told
    without asking it for an offset (which is slow in dateutil)."""
    return zone is None or _is_utc(zone) or type(zone) in _FIXED_OFFSETS


def _existing(moment: Moment) -> Moment:
    """``moment``, written as a time that exists: a time the clocks of its zone skip is
    written as the instant Python reads it as (with ``fold=0``, which arithmetic gives, in
    the offset before the jump: the time just as long after it). Other times, a time shown
    twice with its ``fold`` included, stay the same wall clock time and the same instant."""
    if not isinstance(moment, datetime):
        return moment
    zone = moment.tzinfo
    if _one_offset(zone):
        return moment  # no clock changes: the fast way, for most times
    existing: Moment = moment.astimezone(UTC).astimezone(zone)
    return existing


# -- times compared as instants ------------------------------------------------------------
#
# Python compares two aware datetimes that share a tzinfo by their wall clocks, ``fold``
# aside (PEP 495): when the clocks go back, the second 01:15 (fold=1) sorts before the
# first 01:30 although, as an instant, it is 45 minutes later. Datetimes of different
# tzinfos compare as instants, except that ``==`` says False for a time in the repeated
# hour. A deadline is compared with a time through these; or with ``<`` and ``<=`` once
# one of the two is in its instant form (see instant()), the cheapest way in a loop.

_ZERO = timedelta(0)
# Two times of one tzinfo whose wall clocks are this far apart come in the same order as
# their instants: Python holds every utcoffset() to less than a day either way, so two
# offsets differ by less than two days. Closer times ask the zone for their offsets.
_APART = timedelta(days=2)

# Two times of one tzinfo with the same ``fold`` also come in the order of their clock
# faces: read with fold=0 the clocks of a zone only ever move forward (the hour shown
# twice is read as its first pass), and with fold=1 too (read as its second pass). So
# only a time of the second pass (fold=1) set against one of fold=0 asks the zone, and
# a ledger written in one zone compares as fast as Python's ``<`` nearly always. (Times
# the clocks skip, 02:30 the night they jump, are no times the clocks show: custbond's
# own deadlines never are such times, and a host's compare by their clock faces.)


def earlier(at: datetime, than: datetime) -> bool:
    """Whether the instant ``at`` comes before the instant ``than``, however each is
    written: the second 01:15 of the night the clocks go back is after the first 01:30.

    >>> new_york = tz.gettz("America/New_York")
    >>> first = datetime(2026, 11, 1, 1, 30, tzinfo=new_york)
    >>> second = datetime(2026, 11, 1, 1, 15, fold=1, tzinfo=new_york)
    >>> second < first, earlier(second, first), earlier(first, second)
    (True, False, True)
    """
    zone = at.tzinfo
    if zone is not than.tzinfo or zone is UTC or at.fold == than.fold:
        return at < than  # two tzinfos compare as instants; one, by clock faces (above)
    apart = than - at  # of one tzinfo: how far apart the wall clocks are
    if apart >= _APART or apart <= -_APART or _one_offset(zone):
        return apart > _ZERO
    return at.astimezone(UTC) < than.astimezone(UTC)


def reached(at: datetime, deadline: datetime) -> bool:
    """Whether at ``at`` the instant ``deadline`` has come (``deadline <= at``, as
    instants): what ends at a deadline has ended at it.

    >>> new_york = tz.gettz("America/New_York")
    >>> expires = datetime(2026, 11, 1, 1, 30, tzinfo=new_york)  # 05:30 UTC
    >>> reached(datetime(2026, 11, 1, 1, 15, fold=1, tzinfo=new_york), expires)  # 06:15 UTC
    True
    """
    return not earlier(at, deadline)


def instant(moment: datetime) -> datetime:
    """``moment`` in its instant form: as it is when its tzinfo keeps one offset (UTC, a
    fixed offset), else in UTC. ``<`` and ``<=`` between it and a time in any tzinfo
    compare instants (of one tzinfo with one offset, the clock face is the instant; of
    two, Python compares instants); ``==`` and sort keys need both in instant form.

    >>> new_york = tz.gettz("America/New_York")
    >>> instant(datetime(2026, 11, 1, 1, 15, fold=1, tzinfo=new_york)).isoformat()
    '2026-11-01T06:15:00+00:00'
    """
    zone = moment.tzinfo
    if zone is UTC or _one_offset(zone):
        return moment
    return moment.astimezone(UTC)


def _is_utc(zone: tzinfo | None) -> bool:
    """Whether ``zone`` is UTC, known without asking it for an offset (which is slow)."""
    if zone is UTC or isinstance(zone, tz.tzutc):
        return True
    return id(zone) in _UTC_ZONES


def beyond_the_calendar(moment: Moment) -> InvalidInput:
    """The error for a time the program's durations carry beyond the year 9999."""
    return InvalidInput(
        "at", moment, "a time the program's durations keep within the years 1 to 9999"
    )


def _shift(moment: Moment, duration: relativedelta | timedelta, *, back: bool = False) -> Moment:
    """``moment + duration`` (``moment - duration`` with ``back=True``), exactly as the
    operators give it, and several times faster for the relativedeltas programs use:
    months and years (a day past the end of the month is clipped to its last day), then
    days and hours.

    >>> from datetime import date
    >>> shift(date(2026, 1, 31), relativedelta(months=1))
    datetime.date(2026, 2, 28)
    >>> shift(date(2028, 2, 29), relativedelta(years=1), back=True)
    datetime.date(2027, 2, 28)
    """
    if not isinstance(duration, relativedelta):  # a timedelta (or a subclass of it)
        return moment - duration if back else moment + duration
    seen = _PLAIN.get(id(duration))
    if seen is None or seen[0] is not duration:
        if len(_PLAIN) >= _KEEP_PLAIN:
            _PLAIN.clear()
        seen = _PLAIN[id(duration)] = (duration, _plain(duration))  # keeps it alive, too
    plain = seen[1]
    if plain is None or (
        # dateutil makes a date a datetime when the duration has hours: leave it to it
        not isinstance(moment, datetime) and (plain[1].seconds or plain[1].microseconds)
    ):
        shifted: Moment = moment - duration if back else moment + duration
        return shifted
    months, rest = plain
    if back:
        months, rest = -months, -rest
    if months:
        month = moment.month - 1 + months
        year = moment.year + month // 12
        month = month % 12 + 1
        if not MINYEAR <= year <= MAXYEAR:  # out of range: let the operator say so
            return moment - duration if back else moment + duration
        day = moment.day
        if day > 28:
            day = min(day, monthrange(year, month)[1])
        moment = moment.replace(year=year, month=month, day=day)
        if not rest and isinstance(moment, datetime) and moment.fold:
            # fold=0, as dateutil's + gives it (adding the rest drops it too): the first
            # of a time shown twice, and a skipped time read as the instant after the jump
            moment = moment.replace(fold=0)
    return moment + rest if rest else moment


def _plain(duration: relativedelta) -> tuple[int, timedelta] | None:
    absolute = (
        duration.year,
        duration.month,
        duration.day,
        duration.hour,
        duration.minute,
        duration.second,
        duration.microsecond,
        duration.weekday,
    )
    if any(part is not None for part in absolute) or duration.leapdays:
        return None
    rest = timedelta(
        days=duration.days,
        hours=duration.hours,
        minutes=duration.minutes,
        seconds=duration.seconds,
        microseconds=duration.microseconds,
    )
    return duration.years * 12 + duration.months, rest
