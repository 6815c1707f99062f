"""The structural bond: subscriptions to a plan the program offers.

A subscription box delivered every month, a membership renewed every year, a fortnightly
members' evening: a :class:`Plan` says when its occurrences (deliveries, renewals) come,
as an RFC 5545 recurrence read in the customer's local wall-clock time, what it costs and
what it gives. A customer's :class:`Subscription` to a plan is a value; the functions of
this module (:func:`subscribe`, :func:`pause`, :func:`resume`, :func:`skip`,
:func:`cancel`, :func:`advance`) each return a new one and never change the one they are
given. Time is always an argument: :func:`advance` says which occurrences have passed by
``now``, once each.

>>> from datetime import datetime, timezone
>>> from decimal import Decimal
>>> box = Plan(name="coffee box", every="FREQ=MONTHLY;BYMONTHDAY=-1;BYHOUR=9;BYMINUTE=0",
...            price=Decimal("19.90"), benefits=("exclusive content",))
>>> sub = subscribe(box, at=datetime(2026, 1, 10, tzinfo=timezone.utc), zone="Europe/Paris")
>>> sub.next_at.isoformat()
'2026-01-31T09:00:00+01:00'
>>> sub = skip(sub, box, on=date(2026, 2, 28))
>>> sub, passed = advance(sub, box, now=datetime(2026, 4, 1, tzinfo=timezone.utc))
>>> [moment.isoformat() for moment in passed]
['2026-01-31T09:00:00+01:00', '2026-03-31T09:00:00+02:00']
>>> sub.next_at.isoformat(), sub.occurrences
('2026-04-30T09:00:00+02:00', 2)
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any

import attrs
from dateutil import rrule, tz

from custbond import _validate as v
from custbond._durations import describe_duration
from custbond.errors import InvalidInput
from custbond.messaging.message import enum_converter

__all__ = [
    "MAX_CATCH_UP",
    "Plan",
    "Subscription",
    "SubscriptionStatus",
    "advance",
    "cancel",
    "pause",
    "remind_at",
    "resume",
    "skip",
    "subscribe",
    "upcoming",
]

# The most occurrences one call to advance() (or upcoming()) hands back. A subscription
# left alone for years catches up over several calls rather than in one huge tuple.
MAX_CATCH_UP = 1000

# -- the plan's rule -----------------------------------------------------------------------

# Deliveries and renewals come at most daily; hourly ones would also make two wall times
# of a daylight-saving gap into one moment on every change of the clocks.
_FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
# Only to check a rule has occurrences at all; a subscription reads it from its own start.
_PROBE = datetime(2000, 1, 1)  # noqa: DTZ001 - RRULE wall-clock (floating) time
_EXAMPLE = '"FREQ=MONTHLY;BYMONTHDAY=-1;BYHOUR=9;BYMINUTE=0"'


def _every(value: Any) -> str:
    """The recurrence, checked: one RRULE in local wall-clock time."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput("every", value, f"an RRULE string such as {_EXAMPLE}")
    text = value.strip().removeprefix("RRULE:").removeprefix("rrule:")
    upper = text.upper()
    if "\n" in text or any(word in upper for word in ("DTSTART", "RDATE", "EXDATE", "EXRULE")):
        raise InvalidInput(
            "every", value, "a single RRULE, without DTSTART, RDATE, EXDATE or EXRULE"
        )
    try:
        parts = dict(part.split("=", 1) for part in upper.split(";") if part)
    except ValueError:
        raise InvalidInput("every", value, f"an RRULE string such as {_EXAMPLE}") from None
    if parts.get("FREQ") not in _FREQUENCIES:
        raise InvalidInput("every", value, f"a rule with FREQ one of {', '.join(_FREQUENCIES)}")
    if "UNTIL" in parts and "COUNT" in parts:
        raise InvalidInput("every", value, "a rule with UNTIL or COUNT, not both")
    if parts.get("UNTIL", "").endswith("Z"):
        # The rule is wall-clock time in the customer's zone; a UTC end would be a second
        # time scale in one rule.
        raise InvalidInput("every", value, "a rule whose UNTIL is local wall-clock time (no Z)")
    try:
        parsed = rrule.rrulestr(text, dtstart=_PROBE, forceset=False)
    except (ValueError, TypeError) as error:
        raise InvalidInput(
            "every", value, f"an RRULE string such as {_EXAMPLE} ({error})"
        ) from None
    if not isinstance(parsed, rrule.rrule):
        raise InvalidInput("every", value, "a single RRULE, not a set of them")
    if parsed.after(_PROBE, inc=True) is None:
        raise InvalidInput("every", value, "a rule with occurrences")
    return text


def _price(value: Any) -> Decimal | None:
    if value is None:
        return None
    if not isinstance(value, Decimal):  # floats in particular: they cannot hold money
        raise InvalidInput("price", value, "a positive Decimal, or None for a free plan")
    v.decimal("price", value)
    if value <= 0:
        raise InvalidInput("price", value, "a positive Decimal, or None for a free plan")
    return value


def _benefits(value: Any) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidInput("benefits", value, "a sequence of non-empty strings")
    return tuple(v.text("benefits", item) for item in value)


def _remind_before(value: Any) -> timedelta | None:
    if value is not None and (not isinstance(value, timedelta) or value <= timedelta(0)):
        raise InvalidInput("remind_before", value, "a positive timedelta or None")
    return value


@attrs.frozen(kw_only=True)
class Plan:
    """What a subscription is to: a box, a membership, a club.

    ``every`` is an RFC 5545 RRULE (read by ``dateutil.rrule``, never evaluated) giving
    the occurrences (deliveries, renewals) in the customer's **local wall-clock time**:
    ``"FREQ=MONTHLY;BYMONTHDAY=-1;BYHOUR=9;BYMINUTE=0"`` is 09:00 on the last day of each
    month (31 January, 28 or 29 February, 31 March, ...), ``"FREQ=WEEKLY;INTERVAL=2;
    BYDAY=TH;BYHOUR=10"`` every other Thursday at 10:00. It is one rule, FREQ DAILY,
    WEEKLY, MONTHLY or YEARLY, without DTSTART, RDATE or EXDATE: each subscription reads
    it from its own start, so

    - what the rule leaves out comes from the subscription's start, in its zone: without
      BYHOUR or BYMINUTE, the occurrences come at the start's hour or minute; without
      BYDAY a weekly rule keeps the start's weekday; an INTERVAL counts from the start's
      week (or month, ...). Seconds are 0 unless BYSECOND says otherwise.
    - a monthly rule without BYMONTHDAY keeps the start's day of the month, and dateutil
      (as RFC 5545 says) *skips* the months without that day: a subscription started on
      31 January comes on 31 March, 31 May, ... Write ``BYMONTHDAY=-1`` for "the last day
      of each month".
    - COUNT counts the rule's occurrences from the start's minute, and UNTIL is local
      wall-clock time too (``UNTIL=20261231T235900``, no ``Z``).

    A wall time the clocks skip (02:30 on a night that goes from 02:00 to 03:00) comes
    later by the gap (03:30); one they show twice comes the first time.

    ``price`` is None for a free plan, else a positive Decimal (per occurrence);
    ``benefits`` name what members get (``"exclusive content"``, ``"members' events"``);
    ``remind_before`` asks for a reminder that long before each occurrence (sent with the
    message ``template``, when given); a customer who subscribes or resumes closer to the
    next occurrence than that is reminded of it at once.

    >>> from decimal import Decimal
    >>> from datetime import timedelta
    >>> club = Plan(name="wine club", every="FREQ=MONTHLY;BYDAY=1FR;BYHOUR=18",
    ...             price=Decimal("35.00"), benefits=("members' events",),
    ...             remind_before=timedelta(days=2), template="club_reminder")
    >>> print(club.describe())
    wine club (35.00 each time): FREQ=MONTHLY;BYDAY=1FR;BYHOUR=18, local time; \
benefits: members' events; a reminder 2 days before each
    >>> club.is_paid
    True
    """

    name: str = attrs.field(validator=v.is_identifier)
    every: str = attrs.field(converter=_every)
    price: Decimal | None = attrs.field(default=None, converter=_price)
    benefits: tuple[str, ...] = attrs.field(default=(), converter=_benefits)
    remind_before: timedelta | None = attrs.field(default=None, converter=_remind_before)
    template: str | None = attrs.field(default=None, validator=v.is_optional_identifier)

    def __attrs_post_init__(self) -> None:
        if self.template is not None and self.remind_before is None:
            raise InvalidInput(
                "template", self.template, "None when the plan has no remind_before"
            )

    @property
    def is_paid(self) -> bool:
        """Whether the plan costs money."""
        return self.price is not None

    def describe(self) -> str:
        """The plan in words, for traces and listings."""
        price = "free" if self.price is None else f"{self.price} each time"
        words = [f"{self.name} ({price}): {self.every}, local time"]
        if self.benefits:
            words.append(f"benefits: {', '.join(self.benefits)}")
        if self.remind_before is not None:
            words.append(f"a reminder {describe_duration(self.remind_before)} before each")
        return "; ".join(words)


# -- the subscription ----------------------------------------------------------------------


class SubscriptionStatus(enum.StrEnum):
    """Where a subscription stands: active, paused (its occurrences do not happen) or
    cancelled (for good).

    >>> SubscriptionStatus("paused") is SubscriptionStatus.PAUSED
    True
    """

    ACTIVE = "active"
    PAUSED = "paused"
    CANCELLED = "cancelled"


_STATUS = enum_converter(SubscriptionStatus, "status")


def _to_status(value: Any) -> SubscriptionStatus:
    return _STATUS(value)


def _utc(moment: datetime) -> datetime:
    # Two datetimes with the same tzinfo compare by wall clock, fold ignored: an
    # occurrence at the first 01:30 of a night the clocks go back would equal the second.
    # Every comparison here is made in UTC.
    return moment.astimezone(UTC)


def _skipped(value: Any) -> tuple[datetime, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidInput("skipped", value, "a sequence of timezone-aware datetimes")
    moments = sorted((v.aware("skipped", item) for item in value), key=_utc)
    unique: dict[datetime, datetime] = {}
    for moment in moments:
        unique.setdefault(_utc(moment), moment)
    return tuple(unique.values())


@attrs.frozen(kw_only=True)
class Subscription:
    """A customer's subscription to the plan named ``plan``.

    It started at ``started_at`` and its dates are reckoned in the wall clock of ``zone``
    (an IANA name: the customer's zone, or the program's). ``next_at`` is the next
    occurrence that will happen (skipped ones and those inside a pause left out); None
    once cancelled, while paused until resumed, or when the plan's rule has no more.
    ``paused_until`` ends a pause by itself (None while paused: until resumed);
    ``skipped`` are occurrences still to come that will not happen (sorted, each once).
    ``occurrences`` counts those that have passed (handed back by :func:`advance`), the
    last of them at ``last_at``. ``cancelled_at`` and ``cancel_reason`` say when and why it
    was cancelled. ``reminders_withdrawn`` counts the times a reminder was withdrawn
    because a pause, a skip or a cancellation took its occurrence away (those of the
    subscriptions to the plan before this one too): the key of each later reminder names
    it, so that an occurrence a resume brings back is announced again, once.

    Make one with :func:`subscribe`; the fields are checked against each other.

    >>> from datetime import datetime, timezone
    >>> Subscription(plan="box", status="cancelled",
    ...              started_at=datetime(2026, 1, 1, tzinfo=timezone.utc), zone="UTC")
    Traceback (most recent call last):
    ...
    custbond.errors.InvalidInput: cancelled_at must be set when the status is cancelled; got None
    """

    plan: str = attrs.field(validator=v.is_identifier)
    status: SubscriptionStatus = attrs.field(converter=_to_status)
    started_at: datetime = attrs.field(validator=v.is_moment)
    zone: str = attrs.field(validator=v.is_time_zone)
    next_at: datetime | None = attrs.field(default=None, validator=v.is_optional_aware)
    paused_until: datetime | None = attrs.field(default=None, validator=v.is_optional_aware)
    skipped: tuple[datetime, ...] = attrs.field(default=(), converter=_skipped)
    occurrences: int = 0
    last_at: datetime | None = attrs.field(default=None, validator=v.is_optional_aware)
    cancelled_at: datetime | None = attrs.field(default=None, validator=v.is_optional_aware)
    cancel_reason: str | None = attrs.field(default=None)
    # Last, and with a default: a stored subscription written before it existed is one
    # value shorter, and reads back with none withdrawn (its reminders' keys as they were).
    reminders_withdrawn: int = 0

    def __attrs_post_init__(self) -> None:
        v.integer("occurrences", self.occurrences, minimum=0)
        v.integer("reminders_withdrawn", self.reminders_withdrawn, minimum=0)
        if self.cancel_reason is not None:
            v.text("cancel_reason", self.cancel_reason)
        self._check_status()
        self._check_order()

    def _check_status(self) -> None:
        cancelled = self.status is SubscriptionStatus.CANCELLED
        if cancelled and self.cancelled_at is None:
            raise InvalidInput("cancelled_at", None, "set when the status is cancelled")
        if not cancelled and self.cancelled_at is not None:
            raise InvalidInput("cancelled_at", self.cancelled_at, "None unless cancelled")
        if not cancelled and self.cancel_reason is not None:
            raise InvalidInput("cancel_reason", self.cancel_reason, "None unless cancelled")
        if cancelled and (self.next_at, self.paused_until, self.skipped) != (None, None, ()):
            raise InvalidInput(
                "status",
                self.status,
                "active or paused when next_at, paused_until or "
                "skipped are set (a cancelled subscription has nothing to come)",
            )
        paused = self.status is SubscriptionStatus.PAUSED
        if self.paused_until is not None and not paused:
            raise InvalidInput("paused_until", self.paused_until, "None unless paused")
        if paused and self.paused_until is None and self.next_at is not None:
            raise InvalidInput("next_at", self.next_at, "None while paused until resumed")
        if (self.occurrences == 0) != (self.last_at is None):
            raise InvalidInput(
                "last_at", self.last_at, f"set exactly when occurrences ({self.occurrences}) > 0"
            )

    def _check_order(self) -> None:
        start = _utc(self.started_at)
        for field in ("next_at", "paused_until", "last_at"):
            moment = getattr(self, field)
            if moment is not None and _utc(moment) <= start:
                raise InvalidInput(field, moment, f"a time after started_at ({self.started_at})")
        if self.cancelled_at is not None and _utc(self.cancelled_at) < start:
            raise InvalidInput(
                "cancelled_at", self.cancelled_at, f"a time from started_at ({self.started_at})"
            )
        if self.next_at is None:
            return
        if self.last_at is not None and _utc(self.next_at) <= _utc(self.last_at):
            raise InvalidInput("next_at", self.next_at, f"a time after last_at ({self.last_at})")
        if self.paused_until is not None and _utc(self.next_at) < _utc(self.paused_until):
            raise InvalidInput(
                "next_at", self.next_at, f"a time from paused_until ({self.paused_until})"
            )
        if _utc(self.next_at) in _keys(self.skipped):
            raise InvalidInput("next_at", self.next_at, "an occurrence that is not skipped")


# -- occurrences ---------------------------------------------------------------------------


def _keys(moments: Iterable[datetime]) -> frozenset[datetime]:
    return frozenset(_utc(moment) for moment in moments)


def _zone(name: str) -> tzinfo:
    zone = tz.gettz(name)
    assert zone is not None  # checked by the Subscription
    return zone


def _aware(wall: datetime, zone: tzinfo) -> datetime:
    """The wall time ``wall`` in ``zone``: the first of two (fold=0) when the clocks go
    back; later by the gap when they skip it (02:30 on a night from 02:00 to 03:00 is
    03:30: the hour the clocks jumped is added, as an alarm set for 02:30 would ring)."""
    # Not messaging.occasions.local_moment: that one gives the moment of the jump (03:00),
    # right for a greeting "on the day at 02:30", while a recurring delivery keeps its
    # distance from the occurrences before and after it.
    moment = wall.replace(tzinfo=zone)
    if not tz.datetime_exists(moment):
        moment = tz.resolve_imaginary(moment)
    return moment


def _stream(
    plan: Plan, started_at: datetime, zone_name: str
) -> Iterator[tuple[datetime, datetime]]:
    """Every occurrence of ``plan``'s rule read from ``started_at`` in ``zone_name``, as
    (wall time, moment), in order; those at or before the start included."""
    zone = _zone(zone_name)
    anchor = started_at.astimezone(zone).replace(tzinfo=None, second=0, microsecond=0)
    rule = rrule.rrulestr(plan.every, dtstart=anchor, forceset=False)
    latest: datetime | None = None
    for wall in rule:
        moment = _aware(wall, zone)
        key = _utc(moment)
        # Two wall times a gap makes one moment (02:30 moved to 03:30, and 03:30) are one
        # occurrence: each moment comes once, in order.
        if latest is not None and key <= latest:
            continue
        latest = key
        yield wall, moment


def _held_back(sub: Subscription, key: datetime) -> bool:
    """Whether the pause keeps the occurrence at ``key`` (UTC) from happening."""
    if sub.status is not SubscriptionStatus.PAUSED:
        return False
    return sub.paused_until is None or key < _utc(sub.paused_until)


def _valid(
    plan: Plan,
    sub: Subscription,
    after: datetime,
    *,
    inclusive: bool = False,
    skipped: Iterable[datetime] | None = None,
) -> Iterator[datetime]:
    """The occurrences after ``after`` (or at it, with ``inclusive``) that will happen:
    not skipped (``skipped``, the subscription's own by default), not held back."""
    skipped_keys = _keys(sub.skipped if skipped is None else skipped)
    bound = _utc(after)
    for _, moment in _stream(plan, sub.started_at, sub.zone):
        key = _utc(moment)
        if key < bound or (key == bound and not inclusive):
            continue
        if key not in skipped_keys and not _held_back(sub, key):
            yield moment


def _first(moments: Iterator[datetime]) -> datetime | None:
    return next(moments, None)


# -- checks shared by the verbs ------------------------------------------------------------


def _check(sub: Any, plan: Any) -> Subscription:
    if not isinstance(sub, Subscription):
        raise InvalidInput("sub", sub, "a Subscription")
    if plan is not None:
        if not isinstance(plan, Plan):
            raise InvalidInput("plan", plan, "a Plan")
        if plan.name != sub.plan:
            raise InvalidInput("plan", plan.name, f"the plan {sub.plan!r} subscribed to")
    return sub


def _not_cancelled(sub: Subscription, verb: str) -> None:
    if sub.status is SubscriptionStatus.CANCELLED:
        raise InvalidInput(
            "status",
            sub.status.value,
            f"active or paused to {verb} (cancelled at {sub.cancelled_at})",
        )


def _up_to_date(sub: Subscription, at: Any) -> datetime:
    """``at``, when the subscription has nothing due by then: a change at ``at`` must not
    swallow occurrences that passed before it and were never handed back."""
    moment = v.moment("at", at)
    if _utc(moment) < _utc(sub.started_at):
        raise InvalidInput("at", at, f"a time from the start ({sub.started_at})")
    if sub.next_at is not None and _utc(sub.next_at) <= _utc(moment):
        raise InvalidInput(
            "at",
            at,
            f"a time before the occurrence due at {sub.next_at.isoformat()} "
            "(advance() the subscription first)",
        )
    return moment


# -- the verbs -----------------------------------------------------------------------------


def subscribe(plan: Plan, *, at: datetime, zone: str) -> Subscription:
    """A new, active subscription to ``plan`` from ``at``, its dates reckoned in ``zone``.
    The first occurrence is the first of the plan's rule strictly after ``at``.

    >>> from datetime import datetime, timezone
    >>> plan = Plan(name="veg box", every="FREQ=WEEKLY;INTERVAL=2;BYDAY=TH;BYHOUR=10")
    >>> sub = subscribe(plan, at=datetime(2026, 1, 1, 10, tzinfo=timezone.utc),
    ...                 zone="Europe/Paris")
    >>> sub.status, sub.next_at.isoformat()
    (<SubscriptionStatus.ACTIVE: 'active'>, '2026-01-15T10:00:00+01:00')
    """
    if not isinstance(plan, Plan):
        raise InvalidInput("plan", plan, "a Plan")
    at = v.moment("at", at)
    fresh = Subscription(
        plan=plan.name, status=SubscriptionStatus.ACTIVE, started_at=at, zone=zone
    )
    return attrs.evolve(fresh, next_at=_first(_valid(plan, fresh, at)))


def upcoming(
    sub: Subscription, plan: Plan, *, after: datetime, count: int
) -> tuple[datetime, ...]:
    """The next ``count`` occurrences after ``after`` that will happen (at most
    :data:`MAX_CATCH_UP`): skipped ones and those inside a pause left out, none once
    cancelled or while paused until resumed; fewer when the rule ends.

    >>> from datetime import datetime, timezone
    >>> plan = Plan(name="box", every="FREQ=MONTHLY;BYMONTHDAY=-1;BYHOUR=9;BYMINUTE=0")
    >>> sub = subscribe(plan, at=datetime(2028, 1, 1, tzinfo=timezone.utc), zone="UTC")
    >>> [moment.date().isoformat() for moment in upcoming(sub, plan, after=sub.started_at,
    ...                                                   count=3)]
    ['2028-01-31', '2028-02-29', '2028-03-31']
    """
    _check(sub, plan)
    after = v.aware("after", after)
    v.integer("count", count, minimum=1)
    if count > MAX_CATCH_UP:
        raise InvalidInput("count", count, f"an int of at most {MAX_CATCH_UP}")
    if sub.next_at is None:
        return ()
    bound = _utc(after)
    later = (m for m in _valid(plan, sub, sub.next_at, inclusive=True) if _utc(m) > bound)
    return tuple(itertools.islice(later, count))


def pause(sub: Subscription, plan: Plan, *, at: datetime, until: datetime | None) -> Subscription:
    """Paused from ``at`` until ``until`` (None: until :func:`resume`): the occurrences in
    between do not happen; the first at or after ``until`` does. Pausing a paused
    subscription sets the new end. A cancelled one cannot be paused, nor one with an
    occurrence due by ``at`` that :func:`advance` has not handed back.

    >>> from datetime import datetime, timezone
    >>> plan = Plan(name="box", every="FREQ=MONTHLY;BYMONTHDAY=1;BYHOUR=9")
    >>> sub = subscribe(plan, at=datetime(2026, 1, 10, tzinfo=timezone.utc), zone="UTC")
    >>> paused = pause(sub, plan, at=datetime(2026, 1, 20, tzinfo=timezone.utc),
    ...                until=datetime(2026, 3, 15, tzinfo=timezone.utc))
    >>> paused.status.value, paused.next_at.isoformat()
    ('paused', '2026-04-01T09:00:00+00:00')
    """
    _check(sub, plan)
    _not_cancelled(sub, "pause")
    at = _up_to_date(sub, at)
    if until is not None:
        until = v.moment("until", until)
        if _utc(until) <= _utc(at):
            raise InvalidInput("until", until, f"a time after at ({at}), or None")
    paused = attrs.evolve(sub, status=SubscriptionStatus.PAUSED, paused_until=until, next_at=None)
    if until is None:
        return paused
    return attrs.evolve(paused, next_at=_first(_valid(plan, paused, until, inclusive=True)))


def resume(sub: Subscription, plan: Plan, *, at: datetime) -> Subscription:
    """Active again from ``at``: the next occurrence is the first after ``at`` that is not
    skipped. Resuming an active subscription changes nothing; a cancelled one cannot be.

    >>> from datetime import datetime, timezone
    >>> plan = Plan(name="box", every="FREQ=MONTHLY;BYMONTHDAY=1;BYHOUR=9")
    >>> sub = subscribe(plan, at=datetime(2026, 1, 10, tzinfo=timezone.utc), zone="UTC")
    >>> sub = pause(sub, plan, at=datetime(2026, 1, 20, tzinfo=timezone.utc), until=None)
    >>> print(sub.next_at)
    None
    >>> resume(sub, plan, at=datetime(2026, 5, 5, tzinfo=timezone.utc)).next_at.isoformat()
    '2026-06-01T09:00:00+00:00'
    """
    _check(sub, plan)
    _not_cancelled(sub, "resume")
    if sub.status is SubscriptionStatus.ACTIVE:
        v.moment("at", at)
        return sub
    at = _up_to_date(sub, at)
    active = attrs.evolve(sub, status=SubscriptionStatus.ACTIVE, paused_until=None, next_at=None)
    return attrs.evolve(active, next_at=_first(_valid(plan, active, at)))


def skip(sub: Subscription, plan: Plan, *, on: date) -> Subscription:
    """The occurrence on the local date ``on`` (every one on that date, when the rule has
    several a day) will not happen. Skipping it again changes nothing; a date without an
    occurrence still to come is refused, naming the next dates that have one.

    >>> from datetime import datetime, timezone
    >>> plan = Plan(name="box", every="FREQ=MONTHLY;BYMONTHDAY=-1;BYHOUR=9")
    >>> sub = subscribe(plan, at=datetime(2026, 1, 10, tzinfo=timezone.utc), zone="UTC")
    >>> skip(sub, plan, on=date(2026, 1, 31)).next_at.date()
    datetime.date(2026, 2, 28)
    >>> skip(sub, plan, on=date(2026, 2, 27))
    Traceback (most recent call last):
    ...
    custbond.errors.InvalidInput: on must be an occurrence date such as 2026-01-31, \
2026-02-28 or 2026-03-31; got datetime.date(2026, 2, 27)
    """
    _check(sub, plan)
    _not_cancelled(sub, "skip an occurrence")
    if isinstance(on, datetime) or not isinstance(on, date):
        raise InvalidInput("on", on, "a date (the local day of an occurrence)")
    # The rule gives its wall times in order: past ``on``, none can fall on it (and an
    # endless rule is not read to its end).
    on_or_before = itertools.takewhile(lambda pair: pair[0].date() <= on, _to_come(sub, plan))
    candidates = [moment for wall, moment in on_or_before if wall.date() == on]
    if not candidates:
        dates = [moment.astimezone(_zone(sub.zone)).date() for moment in _dates_to_come(sub, plan)]
        raise InvalidInput("on", on, _occurrence_dates(dates))
    if _keys(candidates) <= _keys(sub.skipped):
        return sub  # skipped already
    skipped = (*sub.skipped, *candidates)
    next_at = sub.next_at
    if next_at is not None and _utc(next_at) in _keys(candidates):
        next_at = _first(_valid(plan, sub, next_at, skipped=skipped))
    return attrs.evolve(sub, skipped=skipped, next_at=next_at)


def _to_come(sub: Subscription, plan: Plan) -> Iterator[tuple[datetime, datetime]]:
    """The rule's occurrences still to come, as (wall, moment), those already skipped
    too (so that skipping again changes nothing): from ``next_at`` while active; after
    the last one that passed while paused (those the pause holds back too: a skip
    outlasts an early resume)."""
    skipped = _keys(sub.skipped)
    floor = _utc(sub.last_at or sub.started_at)
    paused = sub.status is SubscriptionStatus.PAUSED
    next_key = None if sub.next_at is None else _utc(sub.next_at)
    for wall, moment in _stream(plan, sub.started_at, sub.zone):
        key = _utc(moment)
        if key <= floor:
            continue
        if key in skipped or paused or (next_key is not None and key >= next_key):
            yield wall, moment


def _dates_to_come(sub: Subscription, plan: Plan) -> list[datetime]:
    skipped = _keys(sub.skipped)
    walls: dict[date, datetime] = {}
    for wall, moment in _to_come(sub, plan):
        if _utc(moment) not in skipped:
            walls.setdefault(wall.date(), moment)
            if len(walls) == 3:
                break
    return list(walls.values())


def _occurrence_dates(dates: list[date]) -> str:
    if not dates:
        return "an occurrence date (the plan has no more occurrences for this subscription)"
    named = [day.isoformat() for day in dates]
    listed = named[0] if len(named) == 1 else f"{', '.join(named[:-1])} or {named[-1]}"
    return f"an occurrence date such as {listed}"


def cancel(sub: Subscription, *, at: datetime, reason: str | None) -> Subscription:
    """Cancelled at ``at`` (for ``reason``, when given): nothing more comes. Cancelling a
    cancelled subscription changes nothing. An occurrence due by ``at`` that
    :func:`advance` has not handed back must be handed back first.

    >>> from datetime import datetime, timezone
    >>> plan = Plan(name="box", every="FREQ=MONTHLY;BYMONTHDAY=-1;BYHOUR=9")
    >>> sub = subscribe(plan, at=datetime(2026, 1, 10, tzinfo=timezone.utc), zone="UTC")
    >>> gone = cancel(sub, at=datetime(2026, 1, 20, tzinfo=timezone.utc), reason="moving")
    >>> gone.status.value, gone.next_at, gone.cancel_reason
    ('cancelled', None, 'moving')
    >>> cancel(gone, at=datetime(2026, 2, 1, tzinfo=timezone.utc), reason=None) == gone
    True
    """
    _check(sub, None)
    if sub.status is SubscriptionStatus.CANCELLED:
        return sub
    at = _up_to_date(sub, at)
    if reason is not None:
        v.text("reason", reason)
    return attrs.evolve(
        sub,
        status=SubscriptionStatus.CANCELLED,
        cancelled_at=at,
        cancel_reason=reason,
        next_at=None,
        paused_until=None,
        skipped=(),
    )


def advance(
    sub: Subscription, plan: Plan, *, now: datetime
) -> tuple[Subscription, tuple[datetime, ...]]:
    """The occurrences that have passed by ``now`` (at or before it), in order, and the
    subscription moved past them: counted, ``last_at`` the last of them, ``next_at`` the
    one after. Skipped occurrences and those inside a pause are passed over and not
    handed back; a pause whose ``paused_until`` has come ends by itself. Each occurrence
    is handed back once: advancing again to the same ``now`` gives nothing.

    After a long gap every missed occurrence comes back, at most :data:`MAX_CATCH_UP` in
    one call: when more are due, ``next_at`` is still at or before ``now``, and the next
    call hands back the rest.

    >>> from datetime import datetime, timezone
    >>> plan = Plan(name="box", every="FREQ=MONTHLY;BYMONTHDAY=-1;BYHOUR=9")
    >>> sub = subscribe(plan, at=datetime(2026, 1, 10, tzinfo=timezone.utc), zone="UTC")
    >>> now = datetime(2026, 3, 1, tzinfo=timezone.utc)
    >>> sub, passed = advance(sub, plan, now=now)
    >>> [moment.date().isoformat() for moment in passed], sub.occurrences
    (['2026-01-31', '2026-02-28'], 2)
    >>> advance(sub, plan, now=now)[1]
    ()
    """
    _check(sub, plan)
    now = v.moment("now", now)
    if sub.status is SubscriptionStatus.CANCELLED:
        return sub, ()
    bound = _utc(now)
    passed: list[datetime] = []
    due = next_at = sub.next_at
    if due is not None and _utc(due) <= bound:
        next_at = None
        for moment in _valid(plan, sub, due, inclusive=True):
            if _utc(moment) > bound or len(passed) == MAX_CATCH_UP:
                next_at = moment
                break
            passed.append(moment)
    # Skips kept are those still to come: after now, or after the last occurrence handed
    # back when more are due than one call hands back.
    cut_off = bound if next_at is None or _utc(next_at) > bound else _utc(passed[-1])
    changes: dict[str, Any] = {
        "next_at": next_at,
        "skipped": tuple(moment for moment in sub.skipped if _utc(moment) > cut_off),
    }
    if passed:
        changes.update(occurrences=sub.occurrences + len(passed), last_at=passed[-1])
    if sub.paused_until is not None and _utc(sub.paused_until) <= bound:
        changes.update(status=SubscriptionStatus.ACTIVE, paused_until=None)
    return attrs.evolve(sub, **changes), tuple(passed)


def remind_at(sub: Subscription, plan: Plan) -> datetime | None:
    """When to remind the customer of the next occurrence: ``plan.remind_before`` before
    ``next_at``, in elapsed time: two days before 09:00 is 09:00 two days earlier, or an
    hour off it when the clocks change in between. None without a ``remind_before`` or a
    next occurrence.

    >>> from datetime import datetime, timedelta, timezone
    >>> plan = Plan(name="box", every="FREQ=MONTHLY;BYMONTHDAY=-1;BYHOUR=9",
    ...             remind_before=timedelta(days=2))
    >>> sub = subscribe(plan, at=datetime(2026, 1, 10, tzinfo=timezone.utc), zone="UTC")
    >>> remind_at(sub, plan).isoformat()
    '2026-01-29T09:00:00+00:00'
    """
    _check(sub, plan)
    if plan.remind_before is None or sub.next_at is None:
        return None
    return (_utc(sub.next_at) - plan.remind_before).astimezone(_zone(sub.zone))
