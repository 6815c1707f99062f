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

import attrs

__all__ = ["Activity", "Day"]

_ZERO = Decimal(0)
_date_of = itemgetter(0)


# One local calendar day of a customer's activity: (day, spend, points earned, visits).
Day = tuple[date, Decimal, int, int]


@attrs.frozen
class Activity:
    """A customer's purchases and visits so far, summarised.

    ``spent`` is the lifetime total of purchase amounts (in the program's currency).
    ``daily`` holds, per local calendar day and oldest first, the spend, the points the
    purchases earned and the visits (purchases and recorded visits), as far back as
    rolling windows (of rules and tiers) need them. Only the program builds these; they
    hold no personal data.
    """

    purchases: int = 0
    spent: Decimal = _ZERO
    visits: int = 0
    first_purchase_at: datetime | None = None
    last_purchase_at: datetime | None = None
    last_visit_at: datetime | None = None
    daily: tuple[Day, ...] = ()

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
        spend, points, visits = _ZERO, 0, 0
        for index in range(first, end):
            _, day_spend, day_points, day_visits = days[index]
            spend += day_spend
            points += day_points
            visits += day_visits
        return spend, points, visits

    def spent_since(self, day: date) -> Decimal:
        """Spend on ``day`` and after (as far back as ``daily`` reaches)."""
        return self.within(day)[0]


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
    if daily and daily[-1][0] == day:
        _, old_spend, old_points, old_visits = daily[-1]
        daily = (*daily[:-1], (day, old_spend + spend, old_points + points, old_visits + visits))
    elif daily and daily[-1][0] > day:  # a late event: keep the days in order
        days = {item[0]: item for item in daily}
        old = days.get(day, (day, _ZERO, 0, 0))
        days[day] = (day, old[1] + spend, old[2] + points, old[3] + visits)
        daily = tuple(days[when] for when in sorted(days))
    else:
        daily = (*daily, (day, spend, points, visits))
    if daily[0][0] < keep_since:
        daily = tuple(item for item in daily if item[0] >= keep_since)
    return daily
