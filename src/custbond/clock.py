"""Clocks: the only place custbond reads the time.

The core never reads a clock; it takes ``now`` as an argument. The service asks its
:class:`Clock`, so tests and simulations inject a :class:`FixedClock` and move it by hand.

>>> from datetime import datetime, timedelta, timezone
>>> from dateutil.relativedelta import relativedelta
>>> clock = FixedClock(datetime(2026, 1, 31, 9, 0, tzinfo=timezone.utc))
>>> clock.advance(relativedelta(months=1))
>>> clock.now()
datetime.datetime(2026, 2, 28, 9, 0, tzinfo=datetime.timezone.utc)
>>> clock.advance(timedelta(hours=2))
>>> clock.now().hour
11
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

import attrs
from dateutil.relativedelta import relativedelta

from custbond._durations import earlier
from custbond._validate import FIRST_YEAR, LAST_YEAR, is_moment, moment
from custbond.errors import InvalidInput

__all__ = ["Clock", "FixedClock", "SystemClock"]


@runtime_checkable
class Clock(Protocol):
    """Anything that can say what time it is, as an aware ``datetime``."""

    def now(self) -> datetime:
        """Return the current time, timezone-aware."""
        ...


@attrs.frozen
class SystemClock:
    """The wall clock, in UTC.

    >>> SystemClock().now().tzinfo is not None
    True
    """

    def now(self) -> datetime:
        """Return the current UTC time."""
        return datetime.now(UTC)


@attrs.define
class FixedClock:
    """A clock that stands still until it is moved: for tests, demos and simulations.

    ``at`` must be timezone-aware, in the years 1900 to 8999. The clock never moves
    backwards.
    """

    # Validated on construction; set() and advance() check what they are given themselves.
    _at: datetime = attrs.field(alias="at", validator=is_moment, on_setattr=attrs.setters.NO_OP)

    def now(self) -> datetime:
        """Return the time the clock stands at."""
        return self._at

    def advance(self, delta: timedelta | relativedelta) -> None:
        """Move the clock forward by ``delta``: a ``timedelta`` is real time (an hour is
        an hour, across a change of daylight saving time too), a ``relativedelta`` moves
        the calendar and the wall clock (a month, to the same time of day)."""
        if not isinstance(delta, timedelta | relativedelta):
            raise InvalidInput("delta", delta, "a timedelta or a relativedelta")
        at = self._at
        try:
            if isinstance(delta, timedelta) and at.tzinfo is not UTC:
                moved: datetime = moment(
                    "delta", (at.astimezone(UTC) + delta).astimezone(at.tzinfo)
                )
            else:
                moved = moment("delta", at + delta)
        except (OverflowError, ValueError, InvalidInput):
            raise InvalidInput(
                "delta",
                delta,
                f"a duration that keeps the clock in the years {FIRST_YEAR} to {LAST_YEAR}",
            ) from None
        if earlier(moved, self._at):
            raise InvalidInput("delta", delta, "a duration that moves the clock forward")
        self._at = moved

    def set(self, at: datetime) -> None:
        """Move the clock to ``at``, which may not be earlier than where it stands."""
        at = moment("at", at)
        if earlier(at, self._at):
            raise InvalidInput("at", at, f"a time not earlier than {self._at.isoformat()}")
        self._at = at
