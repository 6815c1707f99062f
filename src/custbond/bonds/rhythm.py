"""Next need: when a customer will want a product again, from their own rhythm of buying it.

A customer who buys coffee beans every two weeks will want beans again about two weeks
after the last bag. A :class:`Rhythm` keeps, per customer and product, the times of the
last few purchases, which make the last few *buying occasions* (at most ``keep + 1``
of them, so at most ``keep`` intervals), and :func:`predict` turns it into a
:class:`NextNeed`. :class:`NextNeedPolicy` says which
products to follow and when to remind (``remind_before`` the expected time).

How the prediction is made
--------------------------

1. **Intervals** are the times between consecutive kept buying occasions, as *real
   elapsed time*: every time is taken to UTC before subtracting, so across a daylight
   saving change a week from Saturday 10:00 to Saturday 10:00 in Paris is 6 days 23 hours
   (or 7 days 1 hour), not the 7 days the wall clock shows. The expected time is then that
   elapsed time after the last purchase, shown in the last purchase's time zone, so it can
   land an hour off the wall-clock hour when a change falls in between.
2. **The typical interval** is the *median* of the kept intervals. For an even count it is
   the *lower* of the two middle ones: an interval the customer really kept (no averaging,
   no rounding), and one that errs early, because a reminder a little early beats one that
   comes after the customer has bought elsewhere. The median ignores one odd gap (a
   holiday, a bag bought twice over) where a mean would be dragged by it.
3. **The spread** is the *median absolute deviation* of the intervals from that typical
   interval: for an even count the *upper* of the two middle deviations, so the window errs
   wide (with two intervals it is their difference, never a false zero).
4. **expected_at** = last time + typical interval; **earliest** and **latest** are
   expected_at minus and plus the spread (earliest never before the last purchase).

Everything is exact ``timedelta`` arithmetic: no floats, no rounding.

Buying occasions: one customer may buy the same product twice in an afternoon, or a
host may deliver a purchase twice. The kept purchase times, oldest first, are grouped
into occasions: an occasion begins at a purchase and takes in every purchase within
``same_within`` (12 hours by default) after it; the next purchase after that begins the
next occasion. An occasion counts from its first purchase.

The rhythm is a function of the *set* of purchase times, whatever the order they
arrived in: a :class:`Rhythm` keeps the latest ``2 * (keep + 2)`` distinct times (room
for two purchases per occasion), each put in its place as it arrives; a time kept
already (a replay, a duplicate) changes nothing, and once the window is full a purchase
older than every kept time is left out, as it would be had it come first. The occasions
are grouped from the kept times when they are read, in time order, so they do not depend
on the arrival order either. The window holds one occasion more than is read, as the
oldest kept may have lost purchases that fell out of it. Each purchase costs at most
``2 * (keep + 2)`` steps, however long the customer's history.

>>> from datetime import datetime, timedelta, timezone
>>> first = datetime(2026, 4, 2, 9, tzinfo=timezone.utc)
>>> rhythm = Rhythm("coffee beans")
>>> for weeks in (0, 2, 4, 6):
...     rhythm = rhythm.after(first + timedelta(weeks=weeks))
>>> need = predict(rhythm)
>>> print(need.describe())
coffee beans: next expected around 2026-05-28 (every 14 days; from 3 intervals)
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, tzinfo
from itertools import pairwise
from typing import Any

import attrs

from custbond import _validate as v
from custbond._durations import describe_duration
from custbond.errors import InvalidInput
from custbond.events import LineItem, Purchase
from custbond.messaging.message import automatic_key, key_stamp

__all__ = ["NextNeed", "NextNeedPolicy", "Rhythm", "need_key", "predict"]

SAME_WITHIN = timedelta(hours=12)
"""Purchases of one product this close together are one buying occasion."""
KEEP = 8
"""How many intervals a rhythm keeps by default."""
MAX_PRODUCTS = 50
"""For how many products a customer's rhythms are kept by default."""

# Sorts before any real time: a rhythm that holds no time yet is the oldest of all.
_NEVER = datetime.min.replace(tzinfo=UTC)


def _utc(at: datetime) -> datetime:
    """``at`` in UTC. Aware datetimes that share a tzinfo compare and subtract by their
    wall clocks (Python ignores the offset then), which is wrong across a daylight saving
    change: every comparison and subtraction here goes through UTC."""
    return at.astimezone(UTC)


def _window(keep: int) -> int:
    """How many purchase times a rhythm keeping ``keep`` intervals holds: two for each of
    ``keep + 2`` occasions, so a second purchase on the day pushes no occasion out, and
    the oldest occasion kept, which may have lost purchases that fell out, is one more
    than the ``keep + 1`` read."""
    return 2 * (keep + 2)


def _starts(times: tuple[datetime, ...], same_within: timedelta) -> list[datetime]:
    """The first time of each buying occasion of ``times`` (in order, oldest first): each
    occasion takes in the times within ``same_within`` of its first one."""
    starts: list[datetime] = []
    start = _NEVER
    for at in times:
        if not starts or _utc(at) - start > same_within:
            starts.append(at)
            start = _utc(at)
    return starts


def _times(value: Any) -> tuple[datetime, ...]:
    times = v.instances("times", value, datetime, "an aware datetime")
    for at in times:
        v.moment("times", at)
    for earlier, later in pairwise(times):
        if not _utc(earlier) < _utc(later):
            raise InvalidInput(
                "times", value, "aware datetimes in order, oldest first, no repeats"
            )
    return times


@attrs.frozen
class Rhythm:
    """One customer's rhythm of buying one product: ``purchases`` purchases counted so
    far, and the times of the most recent of them, ``times`` (oldest first, each once),
    from which :meth:`occasions` groups the buying occasions. Build it purchase by
    purchase with :meth:`after`.

    >>> from datetime import datetime, timezone
    >>> first = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)
    >>> rhythm = Rhythm("beans").after(first).after(first + timedelta(days=14))
    >>> rhythm.purchases, rhythm.intervals
    (2, (datetime.timedelta(days=14),))
    """

    sku: str = attrs.field(validator=v.is_identifier)
    purchases: int = attrs.field(default=0, validator=v.is_int)
    times: tuple[datetime, ...] = attrs.field(default=(), converter=_times)

    def __attrs_post_init__(self) -> None:
        if self.purchases < len(self.times):
            raise InvalidInput(
                "purchases", self.purchases, f"at least the {len(self.times)} times kept"
            )

    def occasions(
        self, *, keep: int = KEEP, same_within: timedelta = SAME_WITHIN
    ) -> tuple[datetime, ...]:
        """When each of the last (at most ``keep + 1``) buying occasions began, oldest
        first: the kept times grouped as the module's docstring says.

        >>> from datetime import datetime, timezone
        >>> at = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)
        >>> rhythm = Rhythm("beans").after(at).after(at + timedelta(hours=5))
        >>> [start.hour for start in rhythm.occasions()], len(rhythm.times)
        ([9], 2)
        """
        keep = v.positive_int("keep", keep)
        same_within = v.span("same_within", same_within)
        return tuple(_starts(self.times, same_within)[-(keep + 1) :])

    def intervals_of(
        self, *, keep: int = KEEP, same_within: timedelta = SAME_WITHIN
    ) -> tuple[timedelta, ...]:
        """The real elapsed time between consecutive :meth:`occasions`, oldest first."""
        starts = self.occasions(keep=keep, same_within=same_within)
        return tuple(_utc(later) - _utc(earlier) for earlier, later in pairwise(starts))

    @property
    def intervals(self) -> tuple[timedelta, ...]:
        """:meth:`intervals_of` with the default ``keep`` and ``same_within``."""
        return self.intervals_of()

    @property
    def last_at(self) -> datetime | None:
        """The latest purchase kept (None before the first one)."""
        return self.times[-1] if self.times else None

    def after(
        self, at: datetime, *, keep: int = KEEP, same_within: timedelta = SAME_WITHIN
    ) -> Rhythm:
        """This rhythm after a purchase at ``at``, for ``keep`` intervals: it keeps the
        latest ``2 * (keep + 2)`` purchase times.

        ``at`` may be older than kept times: it is put in its place. A time kept already
        (a replay) and, once the window is full, one older than every kept time both
        return the rhythm unchanged (see the module's docstring). ``same_within`` is
        checked here, and used where occasions are read (:meth:`occasions`).

        >>> from datetime import datetime, timezone
        >>> at = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)
        >>> rhythm = Rhythm("beans").after(at)
        >>> rhythm.after(at) is rhythm
        True
        """
        at = v.moment("at", at)
        keep = v.positive_int("keep", keep)
        v.span("same_within", same_within)
        moment, limit = _utc(at), _window(keep)
        utc = [_utc(kept) for kept in self.times]
        place = bisect_left(utc, moment)
        if place < len(utc) and utc[place] == moment:
            return self
        if len(utc) >= limit and place == 0:
            return self
        times = (*self.times[:place], at, *self.times[place:])[-limit:]
        return Rhythm(self.sku, self.purchases + 1, times)


def _is_positive_span(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, timedelta) or value <= timedelta(0):
        raise InvalidInput(attribute.name, value, "a positive timedelta")


@attrs.frozen(kw_only=True)
class NextNeed:
    """When the customer is expected to want ``sku`` again: around ``expected_at``,
    between ``earliest`` and ``latest``. ``interval`` is their typical interval and
    ``spread`` how far they stray from it, both from ``basis`` intervals; ``last_at`` is
    their last purchase. Made by :func:`predict`.

    >>> from datetime import datetime, timezone
    >>> last = datetime(2026, 4, 30, 9, tzinfo=timezone.utc)
    >>> need = NextNeed(sku="coffee beans", expected_at=last + timedelta(days=14),
    ...                 earliest=last + timedelta(days=13), latest=last + timedelta(days=15),
    ...                 interval=timedelta(days=14), spread=timedelta(days=1), basis=5,
    ...                 last_at=last)
    >>> print(need.describe())
    coffee beans: next expected around 2026-05-14 (every 14 days, give or take 1 day; from 5
    intervals)
    >>> need.is_overdue(datetime(2026, 5, 16, tzinfo=timezone.utc))
    True
    """

    sku: str = attrs.field(validator=v.is_identifier)
    expected_at: datetime = attrs.field(validator=v.is_aware)
    earliest: datetime = attrs.field(validator=v.is_aware)
    latest: datetime = attrs.field(validator=v.is_aware)
    interval: timedelta = attrs.field(validator=_is_positive_span)
    spread: timedelta = attrs.field(validator=v.is_span)
    basis: int = attrs.field(validator=v.is_positive_int)
    last_at: datetime = attrs.field(validator=v.is_aware)

    def __attrs_post_init__(self) -> None:
        if not _utc(self.last_at) <= _utc(self.earliest):
            raise InvalidInput("earliest", self.earliest, f"not before last_at ({self.last_at})")
        if not _utc(self.earliest) <= _utc(self.expected_at) <= _utc(self.latest):
            raise InvalidInput(
                "expected_at", self.expected_at, f"between {self.earliest} and {self.latest}"
            )

    def is_overdue(self, now: datetime) -> bool:
        """Whether ``now`` is past ``latest``: later than even an unhurried customer buys."""
        return _utc(v.aware("now", now)) > _utc(self.latest)

    def describe(self) -> str:
        """The prediction in a sentence, for a person."""
        every = describe_duration(_roughly(self.interval))
        give = (
            "" if not self.spread else f", give or take {describe_duration(_roughly(self.spread))}"
        )
        basis = "1 interval" if self.basis == 1 else f"{self.basis} intervals"
        when = self.expected_at.date().isoformat()
        return f"{self.sku}: next expected around {when} (every {every}{give}; from {basis})"


def _roughly(span: timedelta) -> timedelta:
    """``span`` to the nearest hour (over a day) or minute (over an hour), for people."""
    unit = timedelta(seconds=1)
    if span >= timedelta(days=1):
        unit = timedelta(hours=1)
    elif span >= timedelta(hours=1):
        unit = timedelta(minutes=1)
    return (span + unit // 2) // unit * unit


def _lower_median(spans: list[timedelta]) -> timedelta:
    return sorted(spans)[(len(spans) - 1) // 2]


def _upper_median(spans: list[timedelta]) -> timedelta:
    return sorted(spans)[len(spans) // 2]


def predict(
    rhythm: Rhythm,
    *,
    min_intervals: int = 2,
    keep: int = KEEP,
    same_within: timedelta = SAME_WITHIN,
    zone: tzinfo | None = None,
) -> NextNeed | None:
    """When the customer of ``rhythm`` will want its product again (the method is in the
    module's docstring, ``keep`` and ``same_within`` too), or None while fewer than
    ``min_intervals`` intervals are known. Its times are shown in ``zone`` (the
    customer's, so that a date read from them is the customer's date), or in the last
    occasion's own zone when None. :meth:`NextNeedPolicy.predict` passes a policy's
    settings.

    >>> from datetime import datetime, timezone
    >>> start = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
    >>> rhythm = Rhythm("filters")
    >>> for days in (0, 30, 61, 90):
    ...     rhythm = rhythm.after(start + timedelta(days=days))
    >>> need = predict(rhythm)
    >>> need.interval, need.spread, need.expected_at == start + timedelta(days=90 + 30)
    (datetime.timedelta(days=30), datetime.timedelta(days=1), True)
    >>> predict(Rhythm("filters").after(start)) is None
    True
    """
    if not isinstance(rhythm, Rhythm):
        raise InvalidInput("rhythm", rhythm, "a Rhythm")
    v.positive_int("min_intervals", min_intervals)
    if zone is not None and not isinstance(zone, tzinfo):
        raise InvalidInput("zone", zone, "a tzinfo (dateutil.tz.gettz('Europe/Paris')) or None")
    starts = rhythm.occasions(keep=keep, same_within=same_within)
    intervals = [_utc(later) - _utc(earlier) for earlier, later in pairwise(starts)]
    if len(intervals) < min_intervals:
        return None
    interval = _lower_median(intervals)
    spread = _upper_median([abs(gap - interval) for gap in intervals])
    last_at = starts[-1]
    last = _utc(last_at)
    zone = last_at.tzinfo if zone is None else zone
    try:
        expected = last + interval
        latest = expected + spread
    except OverflowError:  # a rhythm of millennia, near the end of the calendar
        raise InvalidInput(
            "rhythm", rhythm, "purchases whose next one falls before the year 9999"
        ) from None
    return NextNeed(
        sku=rhythm.sku,
        expected_at=expected.astimezone(zone),
        earliest=max(expected - spread, last).astimezone(zone),
        latest=latest.astimezone(zone),
        interval=interval,
        spread=spread,
        basis=len(intervals),
        last_at=last_at.astimezone(zone),
    )


def _to_optional_frozenset(value: Any) -> Any:
    return None if value is None else v.to_frozenset(value)


def _is_skus(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, frozenset):
        raise InvalidInput("skus", value, "None (every product) or a collection of skus")
    for sku in sorted(value, key=str):
        v.identifier("skus", sku)


def _int_at_least(minimum: int) -> v.Validator:
    def check(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
        v.integer(attribute.name, value, minimum=minimum)

    return check


def _recency(rhythm: Rhythm) -> tuple[datetime, str]:
    """Oldest last purchase first, then by sku: the order in which products are dropped."""
    return (_NEVER if rhythm.last_at is None else _utc(rhythm.last_at), rhythm.sku)


def _rhythms(value: Any) -> dict[str, Rhythm]:
    if not isinstance(value, Mapping):
        raise InvalidInput("rhythms", value, "a mapping of skus to Rhythm")
    for sku, rhythm in value.items():
        if not isinstance(rhythm, Rhythm) or rhythm.sku != sku:
            raise InvalidInput(f"rhythms[{sku!r}]", rhythm, f"a Rhythm of sku {sku!r}")
    return dict(value)


@attrs.frozen(kw_only=True)
class NextNeedPolicy:
    """Which products to follow the rhythm of, and when to remind the customer.

    ``skus`` None follows every product; otherwise only those skus, and items carrying
    any of ``tags``. A prediction needs ``min_intervals`` intervals, from the last
    ``keep`` kept per product; a customer's rhythms are kept for at most
    ``max_products`` products (those bought longest ago are dropped first, then by sku).
    Purchases of one product within ``same_within`` are one buying occasion. The
    reminder (the message is the customization policy's ``need_reminder``) is due
    ``remind_before`` the expected time, never before the last purchase.

    >>> policy = NextNeedPolicy(skus={"beans"}, tags={"filters"})
    >>> policy.tracks(LineItem(sku="paper filters", quantity=1, unit_price=4,
    ...                        tags={"filters"}))
    True
    >>> print(policy.describe())
    next need of beans and items tagged filters: a reminder 2 days before the next purchase
    is expected, from at least 2 of the last 8 intervals
    """

    skus: frozenset[str] | None = attrs.field(
        default=None, converter=_to_optional_frozenset, validator=_is_skus
    )
    tags: frozenset[str] = attrs.field(
        default=frozenset(), converter=v.to_frozenset, validator=v.is_tags
    )
    min_intervals: int = attrs.field(default=2, validator=v.is_positive_int)
    remind_before: timedelta = attrs.field(default=timedelta(days=2), validator=v.is_span)
    keep: int = attrs.field(default=KEEP, validator=_int_at_least(2))
    max_products: int = attrs.field(default=MAX_PRODUCTS, validator=v.is_positive_int)
    same_within: timedelta = attrs.field(default=SAME_WITHIN, validator=v.is_span)

    def __attrs_post_init__(self) -> None:
        if self.skus is None and self.tags:
            raise InvalidInput(
                "tags", self.tags, "empty when skus is None (every product is followed)"
            )
        if self.skus is not None and not self.skus and not self.tags:
            raise InvalidInput(
                "skus", self.skus, "None (every product), or skus or tags to follow"
            )
        if self.min_intervals > self.keep:
            raise InvalidInput("min_intervals", self.min_intervals, f"at most keep ({self.keep})")

    def tracks(self, item: LineItem) -> bool:
        """Whether the policy follows the rhythm of ``item``'s product."""
        if not isinstance(item, LineItem):
            raise InvalidInput("item", item, "a LineItem")
        if self.skus is None:
            return True
        return item.sku in self.skus or not self.tags.isdisjoint(item.tags)

    def note(self, rhythms: Mapping[str, Rhythm], purchase: Purchase) -> dict[str, Rhythm]:
        """``rhythms`` (sku -> Rhythm; not changed) after ``purchase``: a new dict, by sku,
        with each followed product of the purchase bought at ``purchase.at``, and at most
        ``max_products`` products.

        >>> from datetime import datetime, timezone
        >>> order = Purchase(id="o-1", customer_id="c-1", currency="EUR", amount=12,
        ...                  at=datetime(2026, 3, 2, tzinfo=timezone.utc),
        ...                  items=[LineItem(sku="beans", quantity=1, unit_price=12)])
        >>> NextNeedPolicy().note({}, order)["beans"].purchases
        1
        """
        if not isinstance(purchase, Purchase):
            raise InvalidInput("purchase", purchase, "a Purchase")
        updated = _rhythms(rhythms)
        for sku in sorted({item.sku for item in purchase.items if self.tracks(item)}):
            rhythm = updated[sku] if sku in updated else Rhythm(sku)
            updated[sku] = rhythm.after(purchase.at, keep=self.keep, same_within=self.same_within)
        by_recency = sorted(updated.values(), key=_recency)
        for dropped in by_recency[: max(0, len(by_recency) - self.max_products)]:
            del updated[dropped.sku]
        return {sku: updated[sku] for sku in sorted(updated)}

    def predict(self, rhythm: Rhythm, *, zone: tzinfo | None = None) -> NextNeed | None:
        """:func:`predict` of ``rhythm`` with this policy's ``min_intervals``, ``keep``
        and ``same_within``, its times in ``zone`` (the customer's time zone, or the
        program's for a customer without one; None: the last purchase's)."""
        return predict(
            rhythm,
            min_intervals=self.min_intervals,
            keep=self.keep,
            same_within=self.same_within,
            zone=zone,
        )

    def predictions(
        self, rhythms: Mapping[str, Rhythm], *, zone: tzinfo | None = None
    ) -> tuple[NextNeed, ...]:
        """The next need of every product of ``rhythms`` that has ``min_intervals``
        intervals, soonest first (then by sku), their times in ``zone``."""
        needs = (self.predict(rhythm, zone=zone) for rhythm in _rhythms(rhythms).values())
        known = [need for need in needs if need is not None]
        return tuple(sorted(known, key=lambda need: (_utc(need.expected_at), need.sku)))

    def remind_at(self, need: NextNeed) -> datetime:
        """When to remind the customer of ``need``: ``remind_before`` its expected time,
        but never before their last purchase.

        >>> from datetime import datetime, timezone
        >>> last = datetime(2026, 5, 1, tzinfo=timezone.utc)
        >>> need = NextNeed(sku="beans", expected_at=last + timedelta(days=14), earliest=last,
        ...                 latest=last + timedelta(days=15), interval=timedelta(days=14),
        ...                 spread=timedelta(days=1), basis=3, last_at=last)
        >>> NextNeedPolicy().remind_at(need).isoformat()
        '2026-05-13T00:00:00+00:00'
        """
        if not isinstance(need, NextNeed):
            raise InvalidInput("need", need, "a NextNeed")
        expected = _utc(need.expected_at)
        lead = min(self.remind_before, expected - _utc(need.last_at))
        return (expected - lead).astimezone(need.expected_at.tzinfo)

    def describe(self) -> str:
        """The policy in a sentence."""
        what = "every product" if self.skus is None else _listing(self.skus, self.tags)
        when = (
            "when" if not self.remind_before else f"{describe_duration(self.remind_before)} before"
        )
        limit = ""
        if self.max_products != MAX_PRODUCTS:
            limit = f", for at most {self.max_products} products"
        return (
            f"next need of {what}: a reminder {when} the next purchase is expected, "
            f"from at least {self.min_intervals} of the last {self.keep} intervals{limit}"
        )


def _listing(skus: frozenset[str], tags: frozenset[str]) -> str:
    parts = sorted(skus)
    if tags:
        parts.append("items tagged " + " or ".join(sorted(tags)))
    return ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0]


def need_key(customer_id: str, need: NextNeed) -> str:
    """The dedupe key of the reminder of ``need`` to ``customer_id``: it names the
    customer, the product and the buying occasion the need follows (its ``last_at``), so a
    reminder is queued once per occasion, and a host's service can withdraw the one
    queued for an occasion once the customer has bought the product again.

    >>> from datetime import datetime, timezone
    >>> last = datetime(2026, 5, 1, 9, tzinfo=timezone.utc)
    >>> need = NextNeed(sku="beans", expected_at=last + timedelta(days=14), earliest=last,
    ...                 latest=last + timedelta(days=15), interval=timedelta(days=14),
    ...                 spread=timedelta(days=1), basis=3, last_at=last)
    >>> need_key("c-1", need)
    'custbond:need:c-1:beans:20260501T090000'
    """
    v.identifier("customer_id", customer_id)
    if not isinstance(need, NextNeed):
        raise InvalidInput("need", need, "a NextNeed")
    return automatic_key("need", customer_id, need.sku, key_stamp(need.last_at))
