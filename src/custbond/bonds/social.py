"""The social bond: a person the customer knows, who keeps in touch.

A hairdresser, a trainer, an account manager: each customer may have a **relationship
owner** (``service.assign_owner()``; the policy's ``default_owner`` otherwise). A
:class:`Cadence` ("touch every 30 days; follow up before they have to ask") opens a task
for the owner when the customer has had no personal contact for that long, a few days
ahead if the cadence says so; a :class:`~custbond.ContactMade` event (a call, a visit
to chat, a note written by hand) starts the count again. :class:`CallAfter` opens a
"call to ask how it went" task a set time after an event (a visit, an appointment, a
purchase, a resolved complaint).

>>> from datetime import timedelta
>>> policy = SocialPolicy(default_owner="Lena",
...                       cadence=Cadence(every=timedelta(days=42), ahead=timedelta(days=7)),
...                       call_after=[CallAfter(on="Visit", after=timedelta(days=2))])
>>> policy.cadence.describe()
'keep in touch: a task when there has been no personal contact for 42 days, 7 days ahead'
>>> policy.calls_after("Visit")[0].reason
'call to ask how it went'
"""

from __future__ import annotations

from calendar import monthrange
from datetime import datetime, timedelta
from decimal import Decimal
from functools import cache
from itertools import accumulate
from typing import Any

import attrs
from dateutil.relativedelta import relativedelta

from custbond import _validate as v
from custbond._durations import describe_duration, shift
from custbond.bonds.occasions import OccasionPolicy
from custbond.errors import InvalidInput
from custbond.messaging.occasions import Send

__all__ = [
    "CALLABLE_EVENTS",
    "Cadence",
    "CallAfter",
    "KeyReview",
    "MembersEvent",
    "Milestone",
    "SocialPolicy",
]

# The events a call may follow: what a person would ring up about.
CALLABLE_EVENTS = ("Purchase", "Visit", "Appointment", "ComplaintResolved", "Signup")


def _shortest(every: timedelta | relativedelta) -> timedelta:
    """The shortest time ``every`` can span, whatever moment it is added to: a timedelta
    is as long as it says; a month is 28 days at its shortest (into February of a common
    year, or from 31 January), a year 365, a month and 2 days 30.

    >>> _shortest(relativedelta(months=1)), _shortest(relativedelta(years=1, days=1))
    (datetime.timedelta(days=28), datetime.timedelta(days=366))
    """
    if isinstance(every, timedelta):
        return every
    # Durations are plain amounts of time (no day=, weekday=, ...: v.is_duration); their
    # leap days only ever add a day, so the shortest span leaves them out.
    rest = timedelta(
        days=every.days,
        hours=every.hours,
        minutes=every.minutes,
        seconds=every.seconds,
        microseconds=every.microseconds,
    )
    return _shortest_months(every.years * 12 + every.months) + rest


# The Gregorian calendar repeats itself every 400 years, 146097 days.
_CYCLE_MONTHS, _CYCLE_DAYS = 400 * 12, 146097


@cache
def _month_lengths() -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The lengths of the months of two 400-year cycles from January 2000, and the days
    from its start to the start of each month."""
    lengths = tuple(monthrange(2000 + k // 12, k % 12 + 1)[1] for k in range(2 * _CYCLE_MONTHS))
    return lengths, tuple(accumulate(lengths, initial=0))


@cache
def _shortest_months(months: int) -> timedelta:
    """The fewest days ``months`` calendar months span: at their shortest they start on
    the last day of a month (clipped to the end of a shorter one, 31 January to 28
    February), over the Februaries of common years (2100 is one). Tried from the end of
    each month of a 400-year cycle."""
    cycles, rest = divmod(months, _CYCLE_MONTHS)
    lengths, starts = _month_lengths()
    fewest = min(
        # From the last day of month ``first`` to the same day (or the end of the month)
        # ``rest`` months on.
        starts[first + rest] - starts[first] + min(lengths[first + rest] - lengths[first], 0)
        for first in range(_CYCLE_MONTHS)
    )
    return timedelta(days=cycles * _CYCLE_DAYS + fewest)


def _check_ahead(every: timedelta | relativedelta, ahead: timedelta) -> None:
    """``ahead`` less than ``every`` from any moment: otherwise a task could open before
    the contact (or the review) it counts from."""
    fewest = _shortest(every)
    if ahead >= fewest:
        expected = f"less than every ({describe_duration(every)})"
        if isinstance(every, relativedelta) and (every.months or every.years):
            expected += f" at its shortest ({describe_duration(fewest)})"  # months vary
        raise InvalidInput("ahead", ahead, expected)


@attrs.frozen(kw_only=True)
class Cadence:
    """Keep in touch ``every`` so long: when the customer has had no personal contact
    for that long, their owner gets a task (due then), opened ``ahead`` of it so they
    can follow up before the customer has to ask. Without a contact, the next task
    comes ``every`` later again."""

    every: timedelta | relativedelta = attrs.field(validator=v.is_duration)
    ahead: timedelta = attrs.field(default=timedelta(0), validator=v.is_span)
    reason: str = attrs.field(default="keep in touch", validator=v.is_text)

    def __attrs_post_init__(self) -> None:
        _check_ahead(self.every, self.ahead)

    def due(self, since: datetime) -> datetime:
        """When the gap since ``since`` reaches ``every``."""
        return shift(since, self.every)

    def days_from(self, since: datetime) -> int:
        """How many whole days the gap that started at ``since`` lasts before it reaches
        ``every``: a month from 31 January is 28 days, from 1 January 31.

        >>> from datetime import timezone
        >>> Cadence(every=relativedelta(months=1)).days_from(
        ...     datetime(2026, 1, 31, tzinfo=timezone.utc))
        28
        """
        return (self.due(since) - since).days

    def opens(self, since: datetime) -> datetime:
        """When the task for a gap that started at ``since`` is opened."""
        return self.due(since) - self.ahead

    def describe(self) -> str:
        ahead = "" if not self.ahead else f", {describe_duration(self.ahead)} ahead"
        every = describe_duration(self.every)
        return f"{self.reason}: a task when there has been no personal contact for {every}{ahead}"


def _is_callable_event(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value not in CALLABLE_EVENTS:
        raise InvalidInput("on", value, f"one of {', '.join(CALLABLE_EVENTS)}")


@attrs.frozen(kw_only=True)
class CallAfter:
    """A task ``after`` each event of type ``on`` (``"Visit"``, ``"Appointment"``,
    ...), for ``owner`` (the customer's relationship owner when None), saying
    ``reason``. After an appointment it counts from the appointment's start."""

    on: str = attrs.field(validator=_is_callable_event)
    after: timedelta | relativedelta = attrs.field(default=timedelta(days=1), validator=v.is_delay)
    reason: str = attrs.field(default="call to ask how it went", validator=v.is_text)
    owner: str | None = attrs.field(default=None, validator=v.is_optional_identifier)

    def describe(self) -> str:
        when = "at once" if self.after == timedelta(0) else describe_duration(self.after)
        who = "" if self.owner is None else f" ({self.owner})"
        return f"after each {self.on}: {self.reason}, {when} later{who}"


def _calls(value: Any) -> tuple[CallAfter, ...]:
    return v.instances("call_after", value, CallAfter, "a CallAfter")


@attrs.frozen(kw_only=True)
class Milestone:
    """A moment worth a note of appreciation from the owner, written by hand: the
    purchase that makes ``purchases`` orders, or the one that takes lifetime spend to
    ``spend`` or beyond (give one of the two). Each milestone is marked once per
    customer, under its ``name``.

    >>> Milestone(name="tenth-order", purchases=10).describe()
    'tenth-order: a note of appreciation at the 10th purchase'
    """

    name: str = attrs.field(validator=v.is_identifier)
    purchases: int | None = attrs.field(default=None, validator=v.is_optional_positive_int)
    spend: Decimal | None = attrs.field(
        default=None, converter=v.to_decimal, validator=v.is_optional_decimal
    )
    reason: str = attrs.field(default="write a note of appreciation", validator=v.is_text)

    def __attrs_post_init__(self) -> None:
        if (self.purchases is None) == (self.spend is None):
            raise InvalidInput("purchases", self.purchases, "purchases or spend (one of them)")
        if self.spend is not None and self.spend <= 0:
            raise InvalidInput("spend", self.spend, "a positive Decimal")

    def reached(self, purchases: int, spent: Decimal) -> bool:
        """Whether a customer with ``purchases`` orders and ``spent`` in all is there."""
        if self.purchases is not None:
            return purchases >= self.purchases
        assert self.spend is not None
        return spent >= self.spend

    def describe(self) -> str:
        if self.purchases is not None:
            at = f"the {_ordinal(self.purchases)} purchase"
        else:
            at = f"a lifetime spend of {self.spend}"
        return f"{self.name}: a note of appreciation at {at}"


def _ordinal(number: int) -> str:
    suffix = (
        "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    )
    return f"{number}{suffix}"


@attrs.frozen(kw_only=True)
class KeyReview:
    """A regular review with key customers (those in one of ``tiers``, with one of
    ``tags``, or who have spent ``min_spend`` or more in all): a task for their owner
    ``every`` so long, opened ``ahead`` of it, the first one ``every`` after they
    became key. A customer who stops being key gets no more.

    >>> KeyReview(every=relativedelta(months=3), tiers={"gold"}).describe()
    'regular review: every 3 months with customers in gold'
    """

    every: timedelta | relativedelta = attrs.field(validator=v.is_duration)
    tiers: frozenset[str] = attrs.field(
        default=frozenset(), converter=v.to_frozenset, validator=v.is_tags
    )
    tags: frozenset[str] = attrs.field(
        default=frozenset(), converter=v.to_frozenset, validator=v.is_tags
    )
    min_spend: Decimal | None = attrs.field(
        default=None, converter=v.to_decimal, validator=v.is_optional_decimal
    )
    ahead: timedelta = attrs.field(default=timedelta(0), validator=v.is_span)
    reason: str = attrs.field(default="regular review", validator=v.is_text)

    def __attrs_post_init__(self) -> None:
        if not (self.tiers or self.tags or self.min_spend is not None):
            raise InvalidInput("tiers", self.tiers, "tiers, tags or min_spend saying who is key")
        _check_ahead(self.every, self.ahead)

    def is_key(self, tier: str | None, tags: frozenset[str], spent: Decimal) -> bool:
        """Whether a customer in ``tier``, with ``tags``, who spent ``spent`` is key."""
        return (
            (tier is not None and tier in self.tiers)
            or bool(tags & self.tags)
            or (self.min_spend is not None and spent >= self.min_spend)
        )

    def describe(self) -> str:
        who = []
        if self.tiers:
            who.append(f"in {', '.join(sorted(self.tiers))}")
        if self.tags:
            who.append(f"tagged {', '.join(sorted(self.tags))}")
        if self.min_spend is not None:
            who.append(f"who spent {self.min_spend} or more")
        ahead = "" if not self.ahead else f" ({describe_duration(self.ahead)} ahead)"
        every = describe_duration(self.every)
        return f"{self.reason}: every {every} with customers {' or '.join(who)}{ahead}"


@attrs.frozen(kw_only=True)
class MembersEvent:
    """A members' event (a tasting evening, a customer day) customers are invited to
    with ``service.invite()``: ``id``, ``name``, when it starts (``at``) and for whom
    (customers in one of ``tiers`` or with one of ``tags``; everyone when both are
    empty).

    >>> from datetime import timezone
    >>> night = MembersEvent(id="tasting-1", name="Pie tasting night",
    ...                      at=datetime(2026, 12, 3, 18, tzinfo=timezone.utc), tiers={"gold"})
    >>> night.is_for(tier="gold", tags=frozenset())
    True
    """

    id: str = attrs.field(validator=v.is_identifier)
    name: str = attrs.field(validator=v.is_text)
    at: datetime = attrs.field(validator=v.is_moment)
    tiers: frozenset[str] = attrs.field(
        default=frozenset(), converter=v.to_frozenset, validator=v.is_tags
    )
    tags: frozenset[str] = attrs.field(
        default=frozenset(), converter=v.to_frozenset, validator=v.is_tags
    )

    def is_for(self, *, tier: str | None, tags: frozenset[str]) -> bool:
        """Whether a customer in ``tier`` with ``tags`` is invited."""
        if not (self.tiers or self.tags):
            return True
        return (tier is not None and tier in self.tiers) or bool(tags & self.tags)


def _milestones(value: Any) -> tuple[Milestone, ...]:
    milestones = v.instances("appreciation", value, Milestone, "a Milestone")
    v.distinct("appreciation", milestones, Milestone, "a Milestone", plural="milestones")
    return milestones


@attrs.frozen(kw_only=True)
class SocialPolicy:
    """The social bond of a program: who owns a customer's relationship when nobody was
    assigned (``default_owner``), how often to keep in touch (``cadence``), which
    events call for a call (``call_after``), which milestones earn a note of
    appreciation (``appreciation``), which personal occasions the owner marks
    (``occasions``), the regular reviews with key customers (``reviews``), and the
    message that invites customers to members' events (``invitation``)."""

    default_owner: str | None = attrs.field(default=None, validator=v.is_optional_identifier)
    cadence: Cadence | None = attrs.field(default=None)
    call_after: tuple[CallAfter, ...] = attrs.field(default=(), converter=_calls)
    appreciation: tuple[Milestone, ...] = attrs.field(default=(), converter=_milestones)
    occasions: OccasionPolicy | None = attrs.field(default=None)
    reviews: KeyReview | None = attrs.field(default=None)
    invitation: Send = attrs.field(default=Send(template="invitation", kind="marketing"))

    @occasions.validator
    def _check_occasions(self, attribute: object, value: object) -> None:
        if value is not None and not isinstance(value, OccasionPolicy):
            raise InvalidInput("occasions", value, "an OccasionPolicy or None")

    @reviews.validator
    def _check_reviews(self, attribute: object, value: object) -> None:
        if value is not None and not isinstance(value, KeyReview):
            raise InvalidInput("reviews", value, "a KeyReview or None")

    @invitation.validator
    def _check_invitation(self, attribute: object, value: object) -> None:
        if not isinstance(value, Send):
            raise InvalidInput("invitation", value, "a Send")

    @cadence.validator
    def _check_cadence(self, attribute: object, value: object) -> None:
        if value is not None and not isinstance(value, Cadence):
            raise InvalidInput("cadence", value, "a Cadence or None")

    def calls_after(self, event_type: str) -> tuple[CallAfter, ...]:
        """The calls an event of ``event_type`` asks for."""
        return tuple(call for call in self.call_after if call.on == event_type)

    def owner_of(self, assigned: str | None) -> str | None:
        """Who a customer's tasks go to: the owner assigned to them, else the default."""
        return assigned if assigned is not None else self.default_owner
