"""Durations in words, for traces and descriptions."""

from __future__ import annotations

from datetime import timedelta

from dateutil.relativedelta import relativedelta


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
