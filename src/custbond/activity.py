"""Activity: what a customer has done so far, in numbers.

Conditions ("more than 5 purchases", "spent 1,000 in the last 12 months", "no purchase for
30 days") and tiers read these summaries instead of the raw event log, so their cost does
not grow with a customer's history. Spend per day is kept only as far back as the
program's longest rolling window reaches.

>>> from datetime import date, datetime, timezone
>>> from decimal import Decimal
>>> at = datetime(2026, 3, 2, 18, tzinfo=timezone.utc)
>>> keep = date(2026, 1, 1)  # spend per day is kept from then on
>>> activity = Activity().after_purchase(Decimal("12.50"), at, date(2026, 3, 2), keep_since=keep)
>>> activity = activity.after_purchase(Decimal("7.50"), at, date(2026, 3, 2), keep_since=keep)
>>> activity.purchases, activity.spent, activity.spent_since(date(2026, 3, 1))
(2, Decimal('20.00'), Decimal('20.00'))
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from datetime import date, datetime
from decimal import Decimal
from operator import itemgetter
from typing import Any

import attrs

__all__ = ["Activity", "Day"]

_ZERO = Decimal(0)
_date_of = itemgetter(0)


# One local calendar day of a customer's activity: (day, spend, points earned, visits,
# then the same three added up over every day until this one, this one included). The
# running totals make the spend of any stretch of days two look-ups and a subtraction.
Day = tuple[date, Decimal, int, int, Decimal, int, int]


def _days(value: Any) -> tuple[Day, ...]:
    """``daily`` as given: days of (day, spend, points, visits) get their running totals."""
    days = tuple(value)
    if days and len(days[-1]) != 7:  # written by hand: count the totals once
        return _running([(item[0], item[1], item[2], item[3]) for item in days])
    return days


def _running(
    days: list[tuple[date, Decimal, int, int]], before: tuple[Decimal, int, int] = (_ZERO, 0, 0)
) -> tuple[Day, ...]:
    """``days`` (oldest first) with running totals, starting from ``before``."""
    spend, points, visits = before
    counted = []
    for day, day_spend, day_points, day_visits in days:
        spend, points, visits = spend + day_spend, points + day_points, visits + day_visits
        counted.append((day, day_spend, day_points, day_visits, spend, points, visits))
    return tuple(counted)


@attrs.frozen
class Activity:
    """A customer's purchases and visits so far, summarised.

    ``spent`` is the lifetime total of purchase amounts less what was returned (in the
    program's currency).
    ``daily`` holds, per local calendar day and oldest first, the spend, the points the
    purchases earned and the visits (purchases and recorded visits), as far back as
    rolling windows (of rules and tiers) need them, each followed by its running totals
    (see :data:`Day`; days given as ``(day, spend, points, visits)`` get them). Only the
    program builds these; they hold no personal data.
    """

    purchases: int = 0
    spent: Decimal = _ZERO
    visits: int = 0
    first_purchase_at: datetime | None = None
    last_purchase_at: datetime | None = None
    last_visit_at: datetime | None = None
    daily: tuple[Day, ...] = attrs.field(default=(), converter=_days)

    def after_purchase(
        self,
        amount: Decimal,
        at: datetime,
        day: date | None = None,
        *,
        keep_since: date | None = None,
        points: int = 0,
    ) -> Activity:
        """This activity with one more purchase of ``amount`` at ``at`` (local ``day``),
        which earned ``points``.

        Days before ``keep_since`` are dropped from ``daily``; without a ``day`` and
        ``keep_since``, no days are kept at all.
        """
        first = self.first_purchase_at
        last = self.last_purchase_at
        return Activity(
            self.purchases + 1,
            self.spent + amount,
            self.visits,
            at if first is None or at < first else first,
            at if last is None or at > last else last,
            self.last_visit_at,
            _record(self.daily, day, keep_since, (amount, points, 1)),
        )

    def after_return(
        self, amount: Decimal, day: date | None = None, *, points: int = 0
    ) -> Activity:
        """This activity with a return of ``amount`` taken off: off the lifetime spend, and
        off the spend (and ``points`` off the points) of the returned purchase's local
        ``day``, if that day is kept. Never below zero: a day holds what was bought on it.
        The purchase and visit it counted stay counted: it happened.

        >>> from datetime import timezone
        >>> at = datetime(2026, 3, 2, 18, tzinfo=timezone.utc)
        >>> bought = Activity().after_purchase(Decimal("20.00"), at, date(2026, 3, 2),
        ...                                    keep_since=date(2026, 1, 1), points=20)
        >>> returned = bought.after_return(Decimal("5.00"), date(2026, 3, 2), points=5)
        >>> returned.spent, returned.within(date(2026, 3, 1)), returned.purchases
        (Decimal('15.00'), (Decimal('15.00'), 15, 1), 1)
        """
        daily = self.daily
        if day is not None:
            daily = _taken_off(daily, day, amount, points)
        return attrs.evolve(self, spent=max(self.spent - amount, _ZERO), daily=daily)

    def after_visit(
        self, at: datetime, day: date | None = None, *, keep_since: date | None = None
    ) -> Activity:
        """This activity with one more visit at ``at`` (local ``day``)."""
        last = self.last_visit_at
        return attrs.evolve(
            self,
            visits=self.visits + 1,
            last_visit_at=at if last is None or at > last else last,
            daily=_record(self.daily, day, keep_since, (_ZERO, 0, 1)),
        )

    def within(self, since: date, until: date | None = None) -> tuple[Decimal, int, int]:
        """(spend, points earned, visits) from ``since`` to ``until`` (both included; no
        end by default), as far as ``daily`` reaches."""
        days = self.daily
        first = bisect_left(days, since, key=_date_of)
        end = len(days) if until is None else bisect_right(days, until, key=_date_of)
        if first >= end:
            return _ZERO, 0, 0
        start, last = days[first], days[end - 1]
        # The totals up to the last day, less those before the first.
        return (
            last[4] - start[4] + start[1],
            last[5] - start[5] + start[2],
            last[6] - start[6] + start[3],
        )

    def spent_since(self, day: date) -> Decimal:
        """Spend on ``day`` and after (as far back as ``daily`` reaches)."""
        return self.within(day)[0]


def _taken_off(daily: tuple[Day, ...], day: date, amount: Decimal, points: int) -> tuple[Day, ...]:
    """``daily`` with ``amount`` and ``points`` taken off ``day`` (at most what it holds),
    and the running totals from it on lowered by as much; as it is if ``day`` is not kept."""
    at = bisect_left(daily, day, key=_date_of)
    if at == len(daily) or daily[at][0] != day:
        return daily
    _, spend, earned, visits, *_ = daily[at]
    less_spend, less_points = min(amount, spend), min(points, earned)
    if not less_spend and not less_points:
        return daily
    lowered = tuple(
        (when, day_spend, day_points, day_visits, total - less_spend, total_points - less_points,
         total_visits)
        for when, day_spend, day_points, day_visits, total, total_points, total_visits
        in daily[at:]
    )  # fmt: skip
    first = lowered[0]
    today = (day, spend - less_spend, earned - less_points, visits, *first[4:])
    return (*daily[:at], today, *lowered[1:])


def _record(
    daily: tuple[Day, ...],
    day: date | None,
    keep_since: date | None,
    add: tuple[Decimal, int, int],
) -> tuple[Day, ...]:
    """``daily`` with ``add`` counted on ``day``, and the days before ``keep_since`` gone."""
    if keep_since is None or day is None:
        return ()
    spend, points, visits = add
    last = daily[-1] if daily else None
    if last is None:
        daily = ((day, spend, points, visits, spend, points, visits),)
    elif last[0] == day:
        _, old_spend, old_points, old_visits, total_spend, total_points, total_visits = last
        today = (
            day,
            old_spend + spend,
            old_points + points,
            old_visits + visits,
            total_spend + spend,
            total_points + points,
            total_visits + visits,
        )
        daily = (*daily[:-1], today)
    elif last[0] > day:  # a late event: keep the days in order, count the totals again
        first = daily[0]
        before = (first[4] - first[1], first[5] - first[2], first[6] - first[3])
        days = {item[0]: (item[0], item[1], item[2], item[3]) for item in daily}
        old = days.get(day, (day, _ZERO, 0, 0))
        days[day] = (day, old[1] + spend, old[2] + points, old[3] + visits)
        daily = _running([days[when] for when in sorted(days)], before)
    else:
        totals = (last[4] + spend, last[5] + points, last[6] + visits)
        daily = (*daily, (day, spend, points, visits, *totals))
    if daily[0][0] < keep_since:
        daily = tuple(item for item in daily if item[0] >= keep_since)
    return daily
