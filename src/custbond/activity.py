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

from datetime import date, datetime
from decimal import Decimal

import attrs

__all__ = ["Activity"]

_ZERO = Decimal(0)


@attrs.frozen
class Activity:
    """A customer's purchases and visits so far, summarised.

    ``spent`` is the lifetime total of purchase amounts (in the program's currency), and
    ``daily`` the spend per local calendar day, oldest first, as far back as rolling
    windows need it. Only the program builds these; they hold no personal data.
    """

    purchases: int = 0
    spent: Decimal = _ZERO
    visits: int = 0
    first_purchase_at: datetime | None = None
    last_purchase_at: datetime | None = None
    last_visit_at: datetime | None = None
    daily: tuple[tuple[date, Decimal], ...] = ()

    def after_purchase(
        self,
        amount: Decimal,
        at: datetime,
        day: date | None = None,
        *,
        keep_since: date | None = None,
    ) -> Activity:
        """This activity with one more purchase of ``amount`` at ``at`` (local ``day``).

        Days before ``keep_since`` are dropped from ``daily``; without a ``day`` and
        ``keep_since``, no spend per day is kept at all.
        """
        daily = self.daily
        if keep_since is None or day is None:
            daily = ()
        else:
            if daily and daily[-1][0] == day:
                daily = (*daily[:-1], (day, daily[-1][1] + amount))
            elif daily and daily[-1][0] > day:  # a late purchase: keep the days in order
                daily = tuple(sorted(_add(dict(daily), day, amount).items()))
            else:
                daily = (*daily, (day, amount))
            if daily[0][0] < keep_since:
                daily = tuple(item for item in daily if item[0] >= keep_since)
        first = self.first_purchase_at
        last = self.last_purchase_at
        return Activity(
            self.purchases + 1,
            self.spent + amount,
            self.visits,
            at if first is None or at < first else first,
            at if last is None or at > last else last,
            self.last_visit_at,
            daily,
        )

    def after_visit(self, at: datetime) -> Activity:
        """This activity with one more visit at ``at``."""
        last = self.last_visit_at
        return attrs.evolve(
            self, visits=self.visits + 1, last_visit_at=at if last is None or at > last else last
        )

    def spent_since(self, day: date) -> Decimal:
        """Spend on ``day`` and after (as far back as ``daily`` reaches)."""
        total = _ZERO
        for when, amount in reversed(self.daily):
            if when < day:
                break
            total += amount
        return total


def _add(days: dict[date, Decimal], day: date, amount: Decimal) -> dict[date, Decimal]:
    days[day] = days.get(day, _ZERO) + amount
    return days
