"""The points ledger: lots, entries, holds and balances, as pure functions over values.

Every earning is a :class:`Lot` with its own ``available_at`` (pending until a return window
passes) and ``expires_at``. Every change is an :class:`Entry` that is kept. The
:class:`Balance` is derived, and always equals the sum of the entries:

- ``sum(entry.points) == balance.total`` (available + pending + held),
- ``sum(entry.pending) == balance.pending`` and ``sum(entry.held) == balance.held``.

A :class:`Ledger` value holds only what is still live: lots with points left, and open
holds. Consumed and expired lots leave it (their history is in the entries), so the cost
of an operation does not grow with the history of the account.

Time-driven changes (pending points clearing, lots expiring, holds expiring) are
materialised by :func:`settle`, which every operation calls first; a balance read at any
time projects them without anything having to run. Functions here never read a clock.

>>> from datetime import datetime, timezone
>>> from dateutil.relativedelta import relativedelta
>>> t0 = datetime(2026, 1, 5, tzinfo=timezone.utc)
>>> ledger, entries = earn(Ledger(), points=40, source="o-1", earned_at=t0,
...                        available_at=t0, expires_at=t0 + relativedelta(years=1), now=t0)
>>> ledger, entries = redeem(ledger, points=15, source="r-1", now=t0)
>>> balance(ledger, t0).available
25
"""

from __future__ import annotations

import enum
from bisect import bisect_left, insort
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Any, NamedTuple

import attrs
from dateutil import tz
from dateutil.relativedelta import relativedelta

from custbond import _validate as v
from custbond._durations import (
    beyond_the_calendar,
    earlier,
    instant,
    reached,
    shift_in,
    zone_named,
)
from custbond._frozen import FrozenMap, empty_map
from custbond.errors import InsufficientPoints, InvalidInput

__all__ = [
    "Balance",
    "Draw",
    "Entry",
    "EntryKind",
    "ExpiryRounding",
    "Hold",
    "Ledger",
    "Lot",
    "PointsPolicy",
    "adjust",
    "balance",
    "capture",
    "earn",
    "place_hold",
    "redeem",
    "release",
    "restore",
    "reverse",
    "settle",
]

# Sorts after every real expiry: lots that never expire are spent last.
_NEVER = datetime.max.replace(tzinfo=UTC)


class ExpiryRounding(enum.StrEnum):
    """Round an expiry up to the end of a calendar period in the program's time zone.

    "Points are valid through the end of the month": ``ExpiryRounding.MONTH``.
    """

    DAY = "day"
    MONTH = "month"
    YEAR = "year"


class EntryKind(enum.StrEnum):
    """What an entry records. The sign conventions are in :class:`Entry`."""

    EARNED = "earned"
    CLEARED = "cleared"  # pending points became available
    REDEEMED = "redeemed"
    EXPIRED = "expired"
    REVERSED = "reversed"  # clawed back by a return
    SHORTFALL = "shortfall"  # a reversal that found too few points left to take back
    ADJUSTED = "adjusted"
    HELD = "held"
    CAPTURED = "captured"
    RELEASED = "released"
    RESTORED = "restored"  # a cancelled redemption gave its points back
    REPAID = "repaid"  # new points paid off a negative balance


def _optional_rounding(value: Any) -> ExpiryRounding | None:
    if value is None:
        return None
    try:
        return ExpiryRounding(value)
    except ValueError:
        raise InvalidInput("expire_at_end_of", value, "'day', 'month', 'year' or None") from None


@attrs.frozen
class PointsPolicy:
    """How points behave once earned.

    - ``expire_after``: how long a lot lives (a ``relativedelta`` such as
      ``relativedelta(months=12)``, or a ``timedelta``); ``None``: points never expire.
    - ``expire_at_end_of``: round each expiry up to the end of that ``"day"``, ``"month"``
      or ``"year"`` in the program's time zone ("valid through the end of the month").
    - ``pending_for``: how long earned points stay pending (the return window) before they
      can be spent; ``None``: available at once.
    - ``allow_negative``: whether clawing back points already spent may take the balance
      below zero. Otherwise the shortfall is recorded as an entry and forgiven.

    Points are whole numbers; money converts to points rounding down.

    >>> from datetime import timezone
    >>> policy = PointsPolicy(expire_after=relativedelta(months=12),
    ...                       expire_at_end_of="month", pending_for=relativedelta(days=14))
    >>> earned = datetime(2026, 1, 15, 10, tzinfo=timezone.utc)
    >>> policy.expires_at(earned, "UTC").isoformat()
    '2027-02-01T00:00:00+00:00'

    """

    expire_after: relativedelta | timedelta | None = attrs.field(
        default=None, kw_only=True, validator=v.is_duration
    )
    pending_for: relativedelta | timedelta | None = attrs.field(
        default=None, kw_only=True, validator=v.is_duration
    )
    allow_negative: bool = attrs.field(default=False, kw_only=True)
    expire_at_end_of: ExpiryRounding | None = attrs.field(
        default=None, kw_only=True, converter=_optional_rounding
    )

    @allow_negative.validator
    def _check_allow_negative(self, attribute: object, value: object) -> None:
        if not isinstance(value, bool):
            raise InvalidInput("allow_negative", value, "True or False")

    def __attrs_post_init__(self) -> None:
        if self.expire_at_end_of is not None and self.expire_after is None:
            raise InvalidInput(
                "expire_at_end_of", str(self.expire_at_end_of), "None when expire_after is None"
            )

    def available_at(self, earned_at: datetime, time_zone: str = "UTC") -> datetime:
        """When points earned at ``earned_at`` stop being pending.

        ``time_zone`` (the program's, an IANA name) is the calendar a ``relativedelta``
        is added on, as in :meth:`expires_at`.
        """
        zone = zone_named(time_zone)
        if self.pending_for is None:
            return earned_at
        return shift_in(earned_at, self.pending_for, zone)

    def expires_at(self, earned_at: datetime, time_zone: str = "UTC") -> datetime | None:
        """The first instant at which points earned at ``earned_at`` are no longer valid.

        ``time_zone`` (the program's, an IANA name) is the calendar the expiry is reckoned
        on: a ``relativedelta`` is added to the date and time there (so the same instant
        gives the same expiry whatever tzinfo ``earned_at`` is written in), and the end of
        a day, month or year is its end there. A ``timedelta`` is added as Python's ``+``
        adds it. A name that is not an IANA time zone is an
        :class:`~custbond.InvalidInput`.
        """
        zone = zone_named(time_zone)
        if self.expire_after is None:
            return None
        expires = shift_in(earned_at, self.expire_after, zone)
        rounding = self.expire_at_end_of
        if rounding is None:
            return expires
        try:
            return _rounded(expires, rounding, zone)
        except (OverflowError, ValueError):
            raise beyond_the_calendar(earned_at) from None


def _rounded(expires: datetime, rounding: ExpiryRounding, zone: tzinfo) -> datetime:
    """``expires`` carried to the end of its day, month or year in ``zone``."""
    local = expires.astimezone(zone)
    day = local.date()
    at_midnight = local.time() == time(0)
    if rounding is ExpiryRounding.DAY:
        if at_midnight:
            return expires  # already the end of a day
        boundary = day + timedelta(days=1)
    elif rounding is ExpiryRounding.MONTH:
        if at_midnight and day.day == 1:
            return expires  # already the end of a month
        boundary = day.replace(day=1) + relativedelta(months=1)
    else:
        if at_midnight and (day.month, day.day) == (1, 1):
            return expires  # already the end of a year
        boundary = day.replace(month=1, day=1) + relativedelta(years=1)
    start = datetime.combine(boundary, time(0), tzinfo=zone)
    return tz.resolve_imaginary(start)


class Lot(NamedTuple):
    """Points earned together: ``points`` at first, ``remaining`` now.

    ``seq`` identifies the lot within its customer's ledger. The lot can be spent from
    ``available_at`` (inclusive) until ``expires_at`` (exclusive; ``None`` never expires).

    Unlike custbond's other values this is a ``typing.NamedTuple``, and a :class:`Ledger`
    keeps its live lots as plain tuples in the same field order, on purpose: lots are the
    most numerous live values (every earning is one), and CPython's garbage collector stops
    tracking plain tuples of plain values, while it scans every class instance again on
    each full collection. Only the ledger builds lots, so they need no validation.

    >>> from datetime import timezone
    >>> t0 = datetime(2026, 1, 5, tzinfo=timezone.utc)
    >>> Lot(1, "o-1", 40, 40, t0, t0, None)._replace(remaining=15).remaining
    15
    """

    seq: int
    source: str
    points: int
    remaining: int
    earned_at: datetime
    available_at: datetime
    expires_at: datetime | None

    def is_pending(self, at: datetime) -> bool:
        """Whether the lot is still waiting for its return window to pass at ``at``."""
        return earlier(at, self.available_at)


# A lot as the ledger keeps it: a plain tuple in Lot's field order (or a Lot: same layout).
LotRow = tuple[Any, ...]
_SEQ, _SOURCE, _POINTS, _REMAINING, _EARNED_AT, _AVAILABLE_AT, _EXPIRES_AT = range(7)


def _with_remaining(lot: LotRow, remaining: int) -> LotRow:
    return (lot[0], lot[1], lot[2], remaining, lot[4], lot[5], lot[6])


@attrs.frozen
class Draw:
    """``points`` taken from (or given back to) ``lot``, as the lot was when drawn."""

    lot: Lot
    points: int


class Entry(NamedTuple):
    """One kept change to a customer's points: a line of the customer's statement.

    ``points`` is the signed change to the total (available + pending + held); ``pending``
    and ``held`` are the signed changes to those parts. So a hold moves points
    (``points=0, held=+n``), a capture spends them (``points=-n, held=-n``) and pending
    points clearing is ``points=0, pending=-n``. ``source`` is the key of the event or
    command that caused the change (for time-driven entries, of the lot or hold concerned),
    ``draws`` the lots it took points from or gave points back to, and ``lot`` the lot an
    EARNED, CLEARED, EXPIRED or added (ADJUSTED) entry is about.

    Like :class:`Lot`, and for the same reason, this is a ``typing.NamedTuple``: entries
    are written on every change and kept for as long as the customer is, and a named
    tuple costs a third of a frozen class to build and to store as a row. Only the ledger
    builds entries, so they need no validation.

    >>> from datetime import timezone
    >>> entry = Entry(1, EntryKind.REDEEMED, datetime(2026, 1, 5, tzinfo=timezone.utc), -40,
    ...               "r-1", "redeemed")
    >>> entry.points, entry.kind.value
    (-40, 'redeemed')
    """

    seq: int
    kind: EntryKind
    at: datetime
    points: int
    source: str
    reason: str
    pending: int = 0
    held: int = 0
    draws: tuple[Draw, ...] = ()
    lot: Lot | None = None  # the lot earned, cleared or expired (as it was then)
    uncollected: int = 0  # for SHORTFALL: the points that could not be taken back
    hold_key: str | None = None


@attrs.frozen
class Hold:
    """An open reservation of ``points`` under ``key``, until ``expires_at``."""

    key: str
    points: int
    draws: tuple[Draw, ...]
    placed_at: datetime
    expires_at: datetime


@attrs.frozen
class Balance:
    """A customer's points at one moment.

    ``available`` can be spent now; ``pending`` waits for the return window; ``held`` is
    reserved by open holds. ``expiring_points`` of the available points expire at
    ``expiring_at`` (the soonest expiry), if any. The lifetime counters add up:
    ``total == earned + adjusted - redeemed - expired - reversed``.
    """

    available: int
    pending: int
    held: int
    expiring_at: datetime | None
    expiring_points: int
    earned: int
    redeemed: int
    expired: int
    reversed: int
    adjusted: int

    @property
    def total(self) -> int:
        """Everything the customer holds: available + pending + held."""
        return self.available + self.pending + self.held


# Times are compared as instants (custbond._durations). Python compares two times of one
# tzinfo by their wall clocks, ``fold`` aside: where the clocks go back, the second 01:15
# would pass for earlier than the first 01:30 (points stayed spendable for up to an hour
# past their expiry when the host wrote its clock in the program's zone). Deadlines are
# compared with ``earlier()`` and ``reached()``, as cheap as ``<`` but for a call, for
# times in UTC and nearly always for times of one zone. Lots are ordered by the instant
# forms of their times (one tzinfo for all keys, and ``==`` that holds across tzinfos),
# and ``next_due_at`` is kept in instant form, so an operation compares it with ``now``
# in instant form (``_Work.at``; for a clock in UTC, ``now`` itself) with plain ``<=``.


def _pending_key(lot: LotRow) -> tuple[datetime, int]:
    return (instant(lot[_AVAILABLE_AT]), lot[_SEQ])


def _available_key(lot: LotRow) -> tuple[datetime, int]:
    expires: datetime | None = lot[_EXPIRES_AT]
    if expires is None:
        return (_NEVER, lot[_SEQ])
    return (instant(expires), lot[_SEQ])


def _soonest_to_expire(lots: Iterable[LotRow]) -> LotRow | None:
    """Of ``lots`` (pending ones, ordered by when they clear), the first of those that
    expire soonest; None when none expires. One pass with plain ``<``, which compares
    instants unless both times share a zone and differ in ``fold`` (see
    :func:`~custbond._durations.earlier`): only such a pair asks ``earlier()``."""
    found: LotRow | None = None
    soonest = _NEVER  # (a lot expiring at the end of time may as well never expire)
    zoned = False  # whether soonest is written in a zone other than UTC
    for lot in lots:
        expiry = lot[_EXPIRES_AT]
        if expiry is None:
            continue
        if zoned and expiry.fold != soonest.fold and expiry.tzinfo is soonest.tzinfo:
            sooner = earlier(expiry, soonest)
        else:
            sooner = expiry < soonest
        if sooner:
            found, soonest, zoned = lot, expiry, expiry.tzinfo is not UTC
    return found


@attrs.frozen
class Ledger:
    """The live part of one customer's points: lots with points left, open holds, totals.

    A ledger is a value: every operation returns a new one along with the entries it
    wrote. ``next_due_at`` is the soonest time at which something clears or expires,
    written so that it compares as an instant with a time in any tzinfo: as the lot or
    hold has it when that is in UTC or at a fixed offset, else in UTC.
    """

    # Live lots as plain tuples (see Lot): pending ones ordered by (available_at, seq),
    # available ones by (expires_at, seq), the order they are spent in.
    _pending_rows: tuple[LotRow, ...] = ()
    _available_rows: tuple[LotRow, ...] = ()
    holds: FrozenMap[str, Hold] = attrs.field(factory=empty_map)
    total: int = 0
    pending: int = 0
    held: int = 0
    debt: int = 0  # points owed after a clawback went below zero
    earned: int = 0
    redeemed: int = 0
    expired: int = 0
    reversed: int = 0
    adjusted: int = 0
    next_seq: int = 1  # of the next entry
    next_lot: int = 1  # seq of the next lot
    next_due_at: datetime | None = None
    # Points a return could not take back from a purchase's lot (seq -> points): taken
    # back if points ever come back to that lot (a cancelled redemption, a released hold).
    owed_by_lot: FrozenMap[int, int] = attrs.field(factory=empty_map)

    @property
    def available(self) -> int:
        """Points that can be spent now (negative while a debt is owed)."""
        return self.total - self.pending - self.held

    @property
    def pending_lots(self) -> tuple[Lot, ...]:
        """Lots still in their return window, soonest to clear first."""
        return tuple(Lot._make(row) for row in self._pending_rows)

    @property
    def available_lots(self) -> tuple[Lot, ...]:
        """Lots that can be spent, in the order they are spent: soonest expiry first."""
        return tuple(Lot._make(row) for row in self._available_rows)


class _Work:
    """A private, mutable working copy of a ledger for one operation.

    Public functions build one, change it, and return a new frozen Ledger, so they stay
    pure to their callers while the steps inside read as plain statements.
    """

    __slots__ = (
        "adjusted",
        "at",
        "available_lots",
        "base",
        "cursor",
        "debt",
        "earned",
        "entries",
        "expired",
        "held",
        "holds",
        "holds_changed",
        "next_lot",
        "next_seq",
        "now",
        "owed",
        "owed_changed",
        "pending",
        "pending_lots",
        "redeemed",
        "reversed",
        "total",
    )

    def __init__(self, ledger: Ledger, now: datetime) -> None:
        self.base = ledger
        self.now = now  # entries are stamped with the time as the caller wrote it
        self.at = instant(now)  # to compare times with
        # Entries written while settling are stamped no earlier than the last one, so a
        # statement reads in time order even when given-back points expire at once.
        self.cursor: datetime | None = None
        self.pending_lots: list[LotRow] = list(ledger._pending_rows)
        self.available_lots: list[LotRow] = list(ledger._available_rows)
        self.holds: dict[str, Hold] = ledger.holds.to_dict()
        self.holds_changed = False
        self.owed: dict[int, int] = ledger.owed_by_lot.to_dict()
        self.owed_changed = False
        self.total = ledger.total
        self.pending = ledger.pending
        self.held = ledger.held
        self.debt = ledger.debt
        self.earned = ledger.earned
        self.redeemed = ledger.redeemed
        self.expired = ledger.expired
        self.reversed = ledger.reversed
        self.adjusted = ledger.adjusted
        self.next_seq = ledger.next_seq
        self.next_lot = ledger.next_lot
        self.entries: list[Entry] = []

    # -- bookkeeping ---------------------------------------------------------------------

    def write(
        self,
        kind: EntryKind,
        at: datetime,
        points: int,
        source: str,
        reason: str,
        *,
        pending: int = 0,
        held: int = 0,
        draws: tuple[Draw, ...] = (),
        lot: Lot | None = None,
        uncollected: int = 0,
        hold_key: str | None = None,
    ) -> Entry:
        entry = Entry(
            self.next_seq,
            kind,
            at,
            points,
            source,
            reason,
            pending,
            held,
            draws,
            lot,
            uncollected,
            hold_key,
        )
        self.next_seq += 1
        self.total += points
        self.pending += pending
        self.held += held
        self.entries.append(entry)
        return entry

    def finish(self, due: datetime | None) -> tuple[Ledger, tuple[Entry, ...]]:
        """The new ledger (``due`` is its next_due_at) and the entries written."""
        ledger = Ledger(
            tuple(self.pending_lots),
            tuple(self.available_lots),
            FrozenMap(self.holds) if self.holds_changed else self.base.holds,
            self.total,
            self.pending,
            self.held,
            self.debt,
            self.earned,
            self.redeemed,
            self.expired,
            self.reversed,
            self.adjusted,
            self.next_seq,
            self.next_lot,
            due,
            FrozenMap(self.owed) if self.owed_changed else self.base.owed_by_lot,
        )
        return ledger, tuple(self.entries)

    def next_due(self) -> datetime | None:
        """The soonest time at which a hold, a pending lot or an available lot is due, as
        an instant (:func:`~custbond._durations.instant`): stores and the program compare
        it with times written in any tzinfo."""
        due: datetime | None = None
        for hold in self.holds.values():
            if due is None or earlier(hold.expires_at, due):
                due = hold.expires_at
        if self.pending_lots:
            head = self.pending_lots[0][_AVAILABLE_AT]
            if due is None or earlier(head, due):
                due = head
            lot = _soonest_to_expire(self.pending_lots)  # it may expire before it clears
            expiry = None if lot is None else lot[_EXPIRES_AT]
            if expiry is not None and earlier(expiry, due):
                due = expiry
        if self.available_lots:
            expiry = self.available_lots[0][_EXPIRES_AT]
            if expiry is not None and (due is None or earlier(expiry, due)):
                due = expiry
        return None if due is None else instant(due)

    def put_hold(self, hold: Hold) -> None:
        self.holds[hold.key] = hold
        self.holds_changed = True

    def take_hold(self, key: str) -> Hold | None:
        hold = self.holds.pop(key, None)
        self.holds_changed = self.holds_changed or hold is not None
        return hold

    # -- lots ----------------------------------------------------------------------------

    @property
    def available(self) -> int:
        return self.total - self.pending - self.held

    def is_pending(self, available_at: datetime) -> bool:
        """Whether points available from ``available_at`` are still pending now."""
        return earlier(self.now, available_at)

    def add_lot(self, lot: LotRow) -> None:
        if self.is_pending(lot[_AVAILABLE_AT]):
            insort(self.pending_lots, lot, key=_pending_key)
        else:
            insort(self.available_lots, lot, key=_available_key)

    def draw(self, points: int, *, valid_after: datetime | None = None) -> list[Draw]:
        """Take up to ``points`` from available lots, soonest expiry first.

        With ``valid_after``, lots that expire at or before it are passed over (points
        given back to an expired lot wait there for settling to expire them).
        """
        draws: list[Draw] = []
        lots = self.available_lots
        start = 0
        if valid_after is not None:
            while start < len(lots) and reached(valid_after, lots[start][_EXPIRES_AT] or _NEVER):
                start += 1
        taken = 0
        index = start
        while taken < points and index < len(lots):
            lot = lots[index]
            take = min(lot[_REMAINING], points - taken)
            draws.append(Draw(Lot._make(lot), take))
            taken += take
            if take == lot[_REMAINING]:
                index += 1
            else:
                lots[index] = _with_remaining(lot, lot[_REMAINING] - take)
        del lots[start:index]
        return draws

    def take_from(self, lot: LotRow, points: int) -> tuple[Draw, bool] | None:
        """Take up to ``points`` from the live copy of ``lot``; say if it was pending."""
        for pending, lots, key in (
            (True, self.pending_lots, _pending_key),
            (False, self.available_lots, _available_key),
        ):
            index = bisect_left(lots, key(lot), key=key)
            if index < len(lots) and lots[index][_SEQ] == lot[_SEQ]:
                live = lots[index]
                take = min(live[_REMAINING], points)
                if take == live[_REMAINING]:
                    del lots[index]
                else:
                    lots[index] = _with_remaining(live, live[_REMAINING] - take)
                return Draw(Lot._make(live), take), pending
        return None

    def give_back(self, draws: Iterable[Draw]) -> None:
        """Return drawn points to their lots, recreating lots that had been emptied."""
        for draw in draws:
            lots = self.available_lots
            index = bisect_left(lots, _available_key(draw.lot), key=_available_key)
            if index < len(lots) and lots[index][_SEQ] == draw.lot.seq:
                lots[index] = _with_remaining(lots[index], lots[index][_REMAINING] + draw.points)
            else:
                lots.insert(index, _with_remaining(draw.lot, draw.points))

    def owe(self, lot: Lot, points: int) -> None:
        """Remember that ``points`` of ``lot`` could not be taken back by a return."""
        self.owed[lot.seq] = self.owed.get(lot.seq, 0) + points
        self.owed_changed = True

    def collect_owed(self, draws: Sequence[Draw], at: datetime, source: str) -> None:
        """Points just given back to lots that a return could not fully take back from
        are taken back now, up to what is owed."""
        if not self.owed:
            return
        taken: list[Draw] = []
        for draw in draws:
            owed = self.owed.get(draw.lot.seq, 0)
            if not owed:
                continue
            found = self.take_from(draw.lot, min(owed, draw.points))
            if found is None or not found[0].points:
                continue
            taken.append(found[0])
            left = owed - found[0].points
            if left:
                self.owed[draw.lot.seq] = left
            else:
                del self.owed[draw.lot.seq]
            self.owed_changed = True
        if taken:
            points = sum(draw.points for draw in taken)
            self.reversed += points
            self.write(
                EntryKind.REVERSED,
                at,
                -points,
                source,
                "taken back for an earlier return, now that points came back",
                draws=tuple(taken),
            )

    def repay(self, at: datetime) -> None:
        """Let points that became available at ``at`` pay off a debt left by a clawback.

        Only points still valid after ``at`` pay: a lot is spendable until its
        ``expires_at``, not at it.
        """
        if self.debt <= 0 or not self.available_lots:
            return
        draws = self.draw(self.debt, valid_after=at)
        paid = sum(draw.points for draw in draws)
        if not paid:
            return
        self.debt -= paid
        # The points leave the lots and the debt shrinks by as much: the total stays.
        self.write(
            EntryKind.REPAID, at, 0, "debt", "paid off a negative balance", draws=tuple(draws)
        )

    # -- holds ---------------------------------------------------------------------------

    def release_hold(self, hold: Hold, draws: Sequence[Draw], at: datetime, reason: str) -> None:
        points = sum(draw.points for draw in draws)
        if points:
            self.give_back(draws)
            self.write(
                EntryKind.RELEASED,
                at,
                0,
                hold.key,
                reason,
                held=-points,
                draws=tuple(draws),
                hold_key=hold.key,
            )
            self.collect_owed(draws, at, hold.key)
            self.repay(at)  # released points are available again: they pay a debt first


# -- time ----------------------------------------------------------------------------------


def _settle(work: _Work, now: datetime) -> None:
    """Materialise, in time order, everything that became due up to ``now``."""
    while True:
        when: datetime | None = None
        action: tuple[str, Any] | None = None
        # At equal times: expired holds go back first, then pending points clear, then
        # lots expire, so that points given back at the moment their lot expires expire.
        for hold in work.holds.values():
            if _first_due(hold.expires_at, now, when):
                when, action = hold.expires_at, ("hold", hold)
        if work.pending_lots:
            lot = work.pending_lots[0]
            if _first_due(lot[_AVAILABLE_AT], now, when):
                when, action = lot[_AVAILABLE_AT], ("clear", lot)
            expiring = _soonest_to_expire(work.pending_lots)  # before it clears, maybe
            if expiring is not None and _first_due(expiring[_EXPIRES_AT], now, when):
                when, action = expiring[_EXPIRES_AT], ("expire_pending", expiring)
        if work.available_lots:
            lot = work.available_lots[0]
            expiry = lot[_EXPIRES_AT]
            if expiry is not None and _first_due(expiry, now, when):
                when, action = expiry, ("expire", lot)
        if action is None or when is None:
            return
        if work.cursor is not None and earlier(when, work.cursor):
            when = work.cursor
        work.cursor = when
        kind, item = action
        if kind == "hold":
            work.take_hold(item.key)
            work.release_hold(item, item.draws, when, "hold expired")
        elif kind == "clear":
            work.pending_lots.pop(0)
            insort(work.available_lots, item, key=_available_key)
            work.write(
                EntryKind.CLEARED,
                when,
                0,
                item[_SOURCE],
                "return window passed",
                pending=-item[_REMAINING],
                lot=Lot._make(item),
            )
            work.repay(when)
        elif kind == "expire_pending":
            work.pending_lots.remove(item)
            _expire(work, item, when, pending=True)
        else:
            work.available_lots.pop(0)
            _expire(work, item, when, pending=False)


def _first_due(moment: datetime, now: datetime, when: datetime | None) -> bool:
    """Whether ``moment`` has come by ``now`` and before ``when`` (the soonest found so
    far; None: nothing yet), as instants."""
    return reached(now, moment) and (when is None or earlier(moment, when))


def _expire(work: _Work, lot: LotRow, at: datetime, *, pending: bool) -> None:
    remaining = lot[_REMAINING]
    work.expired += remaining
    work.write(
        EntryKind.EXPIRED,
        at,
        -remaining,
        lot[_SOURCE],
        "points expired",
        pending=-remaining if pending else 0,
        lot=Lot._make(lot),
    )


def _run(ledger: Ledger, now: datetime) -> _Work:
    work = _Work(ledger, now)
    if ledger.next_due_at is not None and ledger.next_due_at <= work.at:
        _settle(work, now)
    work.cursor = None  # the operation itself is stamped with its own time
    return work


def _done(work: _Work) -> tuple[Ledger, tuple[Entry, ...]]:
    # Settle again: the operation may have added lots already due (a late-recorded
    # purchase, points given back to a lot that has expired meanwhile).
    due = work.next_due()
    if due is not None and due <= work.at:
        if work.entries:
            work.cursor = work.entries[-1].at
        _settle(work, work.now)
        due = work.next_due()
    return work.finish(due)


def settle(ledger: Ledger, now: datetime) -> tuple[Ledger, tuple[Entry, ...]]:
    """Materialise what became due up to ``now``: clearing, expiry, expired holds.

    Costs nothing when nothing is due (``ledger.next_due_at`` says when something is).
    """
    due = ledger.next_due_at  # in instant form: ``>`` compares instants
    if due is None or earlier(now, due):
        return ledger, ()
    return _done(_run(ledger, now))


def balance(ledger: Ledger, at: datetime) -> Balance:
    """The balance at ``at``, with anything due by then projected (nothing is stored).

    ``at`` is meant to be now or later ("what will I have at the end of the month?");
    lots already expired or cleared in ``ledger`` stay so.
    """
    ledger, _ = settle(ledger, at)
    expiring_at = None
    expiring_points = 0
    lots = ledger._available_rows
    if lots and lots[0][_EXPIRES_AT] is not None:
        expiring_at = lots[0][_EXPIRES_AT]
        # The lots expiring at that instant, however each is written: none expires
        # sooner, so those not later. (Not ``==``: Python says a time in the hour the
        # clocks show twice is not the same instant written in another tzinfo.)
        for lot in lots:
            expiry = lot[_EXPIRES_AT]
            if expiry is None or earlier(expiring_at, expiry):
                break
            expiring_points += lot[_REMAINING]
    return Balance(
        ledger.available,
        ledger.pending,
        ledger.held,
        expiring_at,
        expiring_points,
        ledger.earned,
        ledger.redeemed,
        ledger.expired,
        ledger.reversed,
        ledger.adjusted,
    )


# -- operations ----------------------------------------------------------------------------


def _require_spendable(work: _Work, points: int, customer_id: str, *, may_owe: bool) -> None:
    if points > work.available and not may_owe:
        raise InsufficientPoints(customer_id, requested=points, available=max(work.available, 0))


def earn(
    ledger: Ledger,
    *,
    points: int,
    source: str,
    earned_at: datetime,
    available_at: datetime,
    expires_at: datetime | None,
    now: datetime,
    reason: str = "earned",
) -> tuple[Ledger, tuple[Entry, ...]]:
    """Add a lot of ``points`` earned by ``source``."""
    v.positive_int("points", points)
    work = _run(ledger, now)
    lot = Lot(work.next_lot, source, points, points, earned_at, available_at, expires_at)
    work.next_lot += 1
    pending = points if work.is_pending(available_at) else 0
    work.add_lot(tuple(lot))  # kept as a plain tuple: see Lot
    work.earned += points
    work.write(
        EntryKind.EARNED,
        earned_at,
        points,
        source,
        reason,
        pending=pending,
        lot=lot,
    )
    if not pending:
        work.repay(now)  # it pays a debt as it stands now, even if earned in the past
    return _done(work)


def redeem(
    ledger: Ledger,
    *,
    points: int,
    source: str,
    now: datetime,
    reason: str = "redeemed",
    customer_id: str = "",
) -> tuple[Ledger, tuple[Entry, ...]]:
    """Spend ``points`` from the available lots that expire soonest.

    Raises :class:`~custbond.InsufficientPoints` (and changes nothing) when there are not
    enough available points.
    """
    v.positive_int("points", points)
    work = _run(ledger, now)
    _require_spendable(work, points, customer_id, may_owe=False)
    draws = work.draw(points)
    work.redeemed += points
    work.write(EntryKind.REDEEMED, now, -points, source, reason, draws=tuple(draws))
    return _done(work)


def restore(
    ledger: Ledger,
    *,
    draws: Sequence[Draw],
    source: str,
    now: datetime,
    reason: str = "redemption cancelled",
) -> tuple[Ledger, tuple[Entry, ...]]:
    """Give redeemed points back to the lots they came from, with their original expiry.

    Points whose lot has expired meanwhile expire again at once.
    """
    work = _run(ledger, now)
    points = sum(draw.points for draw in draws)
    if points:
        work.give_back(draws)
        work.redeemed -= points
        work.write(EntryKind.RESTORED, now, points, source, reason, draws=tuple(draws))
        work.collect_owed(draws, now, source)
        work.repay(now)
    return _done(work)


def adjust(
    ledger: Ledger,
    *,
    points: int,
    source: str,
    now: datetime,
    reason: str,
    expires_at: datetime | None,
    allow_negative: bool = False,
    customer_id: str = "",
) -> tuple[Ledger, tuple[Entry, ...]]:
    """Add points (a new lot, available at once) or take them away (like a redemption).

    Taking more than is available raises :class:`~custbond.InsufficientPoints` unless
    ``allow_negative``, in which case the rest is owed.
    """
    v.integer("points", points)
    if points == 0:
        raise InvalidInput("points", points, "a non-zero int")
    work = _run(ledger, now)
    if points > 0:
        lot = Lot(work.next_lot, source, points, points, now, now, expires_at)
        work.next_lot += 1
        work.add_lot(tuple(lot))
        work.adjusted += points
        work.write(EntryKind.ADJUSTED, now, points, source, reason, lot=lot)
        work.repay(now)
    else:
        wanted = -points
        _require_spendable(work, wanted, customer_id, may_owe=allow_negative)
        draws = work.draw(wanted)
        work.debt += wanted - sum(draw.points for draw in draws)
        work.adjusted += points
        work.write(EntryKind.ADJUSTED, now, points, source, reason, draws=tuple(draws))
    return _done(work)


def reverse(
    ledger: Ledger,
    *,
    points: int,
    lots: Sequence[Lot],
    source: str,
    at: datetime,
    now: datetime,
    allow_negative: bool,
    reason: str = "returned",
) -> tuple[Ledger, tuple[Entry, ...]]:
    """Claw back ``points`` earned by ``lots`` (a purchase's), pending points first.

    What those lots no longer hold is taken from other available lots, then other pending
    ones. If still short, the balance goes negative when ``allow_negative``; otherwise the
    shortfall is recorded in a SHORTFALL entry and forgiven, unless points come back to
    the purchase's lot later (a cancelled redemption, a released hold): those are taken
    back then, up to the shortfall.
    """
    v.positive_int("points", points)
    work = _run(ledger, now)
    draws: list[Draw] = []
    from_pending = 0
    wanted = points
    own = sorted(lots, key=lambda lot: not lot.is_pending(now))  # pending first
    for lot in own:
        if wanted == 0:
            break
        taken = work.take_from(lot, wanted)
        if taken is not None and taken[0].points:
            draws.append(taken[0])
            wanted -= taken[0].points
            from_pending += taken[0].points if taken[1] else 0
    if wanted:
        others = work.draw(wanted)
        draws.extend(others)
        wanted -= sum(draw.points for draw in others)
    while wanted and work.pending_lots:
        taken = work.take_from(work.pending_lots[0], wanted)
        assert taken is not None
        draws.append(taken[0])
        wanted -= taken[0].points
        from_pending += taken[0].points
    collected = points - wanted
    if wanted and allow_negative:
        work.debt += wanted
        collected = points
    work.reversed += collected
    work.write(
        EntryKind.REVERSED,
        at,
        -collected,
        source,
        reason,
        pending=-from_pending,
        draws=tuple(draws),
    )
    if wanted and not allow_negative:
        work.write(
            EntryKind.SHORTFALL,
            at,
            0,
            source,
            "points already spent; the rest could not be taken back",
            uncollected=wanted,
        )
        if lots:
            work.owe(lots[0], wanted)
    return _done(work)


def place_hold(
    ledger: Ledger,
    *,
    key: str,
    points: int,
    expires_at: datetime,
    now: datetime,
    customer_id: str = "",
    reason: str = "held",
) -> tuple[Ledger, tuple[Entry, ...]]:
    """Reserve ``points`` of the available points under ``key`` until ``expires_at``.

    The hold ends sooner if the points it reserves expire sooner: it lasts until the
    first of them would expire at the latest.
    """
    v.positive_int("points", points)
    if reached(now, expires_at):
        raise InvalidInput("expires_at", expires_at, f"a time after now ({now.isoformat()})")
    if key in ledger.holds:
        raise InvalidInput("key", key, "a key that names no open hold")
    work = _run(ledger, now)
    _require_spendable(work, points, customer_id, may_owe=False)
    draws = tuple(work.draw(points))
    # A hold never outlives its points: it ends when the first of them would expire, so
    # no expired point can be captured.
    for draw in draws:
        if draw.lot.expires_at is not None and earlier(draw.lot.expires_at, expires_at):
            expires_at = draw.lot.expires_at
    work.put_hold(Hold(key, points, draws, now, expires_at))
    work.write(EntryKind.HELD, now, 0, key, reason, held=points, draws=draws, hold_key=key)
    return _done(work)


def _split(draws: Sequence[Draw], points: int) -> tuple[list[Draw], list[Draw]]:
    """Split ``draws`` into the first ``points`` worth and the rest."""
    first: list[Draw] = []
    rest: list[Draw] = []
    left = points
    for draw in draws:
        if left >= draw.points:
            first.append(draw)
            left -= draw.points
        elif left > 0:
            first.append(Draw(draw.lot, left))
            rest.append(Draw(draw.lot, draw.points - left))
            left = 0
        else:
            rest.append(draw)
    return first, rest


def capture(
    ledger: Ledger, *, key: str, points: int, now: datetime, reason: str = "captured"
) -> tuple[Ledger, tuple[Entry, ...], tuple[Draw, ...]]:
    """Spend ``points`` (at most what is held) of the open hold ``key``; release the rest.

    Returns the new ledger, the entries, and the draws that were spent (so the capture can
    be cancelled like a redemption).
    """
    work = _run(ledger, now)
    hold = work.holds.get(key)
    if hold is None:
        raise InvalidInput("key", key, "the key of an open hold")
    v.positive_int("points", points)
    if points > hold.points:
        raise InvalidInput("points", points, f"at most the {hold.points} points held")
    work.take_hold(key)
    spent, rest = _split(hold.draws, points)
    work.redeemed += points
    work.write(
        EntryKind.CAPTURED,
        now,
        -points,
        key,
        reason,
        held=-points,
        draws=tuple(spent),
        hold_key=key,
    )
    work.release_hold(hold, rest, now, "rest of the hold released on capture")
    ledger, entries = _done(work)
    return ledger, entries, tuple(spent)


def release(
    ledger: Ledger, *, key: str, now: datetime, reason: str = "released"
) -> tuple[Ledger, tuple[Entry, ...]]:
    """Give the points of the open hold ``key`` back to the lots they came from."""
    work = _run(ledger, now)
    hold = work.take_hold(key)
    if hold is None:
        raise InvalidInput("key", key, "the key of an open hold")
    work.release_hold(hold, hold.draws, now, reason)
    return _done(work)
