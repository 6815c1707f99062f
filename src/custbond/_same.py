"""Equality for repeats: is what arrived again the same as what was kept?

>>> from datetime import datetime, timedelta, timezone
>>> paris_winter = timezone(timedelta(hours=1))
>>> same_value(datetime(2026, 3, 2, 9, tzinfo=timezone.utc),
...            datetime(2026, 3, 2, 10, tzinfo=paris_winter))
True
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

__all__ = ["same_value"]


def same_value(first: object, again: object) -> bool:
    """``first == again``, but moments compare as instants, in mappings too: a store may
    give a time back in another tzinfo (an unnamed zone as its offset), and Python never
    finds a time in a repeated or skipped hour equal to one in another tzinfo, even at
    the same instant."""
    if isinstance(first, datetime) and isinstance(again, datetime):
        return first.astimezone(UTC) == again.astimezone(UTC)
    if isinstance(first, Mapping) and isinstance(again, Mapping):
        return first.keys() == again.keys() and all(
            same_value(first[key], again[key]) for key in first
        )
    return bool(first == again)
