"""Tier ladders: "members who spent $1,000 in the last 12 months are gold".

A :class:`TierLadder` lists its :class:`Level`\\ s from the lowest up. A customer reaches a
level as soon as what they did in the rolling ``window`` (spend, points earned, visits)
meets any of the level's thresholds, and keeps it for ``keep_for``; meeting the level
again extends that. When the period ends, a ``grace`` period follows; at its end the
customer's standing is reviewed, and they move down to the highest level they still
qualify for (or out of the ladder). Each level's ``multiplier`` multiplies its members'
spend points; ``perks`` are named benefits for the host to show.

>>> from decimal import Decimal
>>> ladder = TierLadder(
...     levels=[Level("silver", spend=Decimal(300)), Level("gold", spend=Decimal(1000))]
... )
>>> ladder.qualified(Standing(Decimal("450.00"), 0, 3)).name
'silver'
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs
from dateutil.relativedelta import relativedelta

from custbond import _validate as v
from custbond._durations import describe_duration, earlier, reached, shift, shift_in
from custbond.activity import Activity
from custbond.errors import InvalidInput
from custbond.rules.conditions import Compare
from custbond.rules.effects import Multiplier
from custbond.rules.rule import Rule

if TYPE_CHECKING:
    from custbond.program import CustomerState

__all__ = ["Level", "Standing", "TierChange", "TierLadder", "TierStatus"]


def _perks(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        raise InvalidInput("perks", value, "a list of perk names, not a single string")
    return tuple(v.identifier("perks", perk) for perk in value)


@attrs.frozen
class Standing:
    """What a customer did in a tier window: ``spend``, ``points`` earned, ``visits``
    (purchases and recorded visits)."""

    spend: Decimal
    points: int
    visits: int

    def describe(self, currency: str) -> str:
        return f"{self.spend} {currency} spent, {self.points} points, {self.visits} visits"


@attrs.frozen
class Level:
    """A rung of a ladder. A customer qualifies when their standing meets **any** of the
    thresholds given (``spend``, ``points``, ``visits``); a level with none is the
    ladder's base, which everyone reaches."""

    name: str = attrs.field(validator=v.is_identifier)
    spend: Decimal | None = attrs.field(
        default=None, kw_only=True, converter=v.to_decimal, validator=v.is_optional_decimal
    )
    points: int | None = attrs.field(
        default=None, kw_only=True, validator=v.is_optional_positive_int
    )
    visits: int | None = attrs.field(
        default=None, kw_only=True, validator=v.is_optional_positive_int
    )
    multiplier: Decimal | None = attrs.field(
        default=None, kw_only=True, converter=v.to_decimal, validator=v.is_optional_decimal
    )
    perks: tuple[str, ...] = attrs.field(default=(), kw_only=True, converter=_perks)

    def __attrs_post_init__(self) -> None:
        if self.multiplier is not None:
            Multiplier(self.multiplier)  # the same bounds as any multiplier

    def qualifies(self, standing: Standing) -> bool:
        spend, points, visits = self.spend, self.points, self.visits
        if spend is None and points is None and visits is None:
            return True  # the ladder's base
        return (
            (spend is not None and standing.spend >= spend)
            or (points is not None and standing.points >= points)
            or (visits is not None and standing.visits >= visits)
        )

    def shortfall(self, standing: Standing, currency: str) -> str | None:
        """What is missing to qualify, in words ("120.00 USD more spend, or 2 more
        visits"); None when the standing qualifies."""
        if self.qualifies(standing):
            return None
        missing = []
        if self.spend is not None:
            missing.append(f"{self.spend - standing.spend} {currency} more spend")
        if self.points is not None:
            missing.append(f"{self.points - standing.points} more points")
        if self.visits is not None:
            missing.append(f"{self.visits - standing.visits} more visits")
        return ", or ".join(missing)


def _levels(value: Any) -> tuple[Level, ...]:
    levels = tuple(value)
    if not levels:
        raise InvalidInput("levels", value, "at least one Level")
    v.distinct("levels", levels, Level, "a Level", plural="levels")
    _check_rising(levels)
    return levels


def _check_rising(levels: tuple[Level, ...]) -> None:
    """Refuse levels out of order: the highest a customer meets is theirs, so a ladder
    listed best first would keep everyone on a lower level. Each kind of threshold must
    rise from level to level, and only the lowest may be the base."""
    for index, level in enumerate(levels):
        if index and level.spend is None and level.points is None and level.visits is None:
            expected = "levels from the lowest up: only the first may have no thresholds"
            raise InvalidInput(f"levels[{index}]", level.name, expected)
    for kind in ("spend", "points", "visits"):
        below: Level | None = None
        for index, level in enumerate(levels):
            threshold = getattr(level, kind)
            if threshold is None:
                continue
            if below is not None and threshold <= getattr(below, kind):
                expected = (
                    f"levels from the lowest up: a {kind} above that of {below.name!r}, the"
                    f" level below it ({getattr(below, kind)})"
                )
                raise InvalidInput(f"levels[{index}].{kind}", threshold, expected)
            below = level


def _duration(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if v.duration(attribute.name, value) is None:
        raise InvalidInput(attribute.name, value, "a duration")


def _days(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """Windows and periods count whole local days: at least one."""
    _duration(instance, attribute, value)
    probe = datetime(2000, 1, 1)  # noqa: DTZ001 - only compared with itself
    if probe + value < probe + _DAY:
        raise InvalidInput(attribute.name, value, "a duration of at least a day")


_DAY = timedelta(days=1)


@attrs.frozen
class TierChange:
    """A tier change, kept in the customer's state: when, from what, to what, and why."""

    at: datetime
    old: str | None
    new: str | None
    reason: str


@attrs.frozen
class TierStatus:
    """A customer's standing on the ladder, for the host to show.

    ``tier`` since ``since``, kept at least ``until``, reviewed at ``review_at`` (the end
    of the grace period); ``perks`` of the level; ``standing`` in the window ending
    ``at``; what it takes to keep the tier (``to_keep``) and to reach the ``next`` level
    (``to_next``), in words (None when nothing is missing); ``will_downgrade`` is true
    from ``notice`` before the review while the tier is not met, and ``downgrade_to``
    says to what.
    """

    at: datetime
    tier: str | None
    since: datetime | None
    until: datetime | None
    review_at: datetime | None
    perks: tuple[str, ...]
    standing: Standing
    to_keep: str | None
    next: str | None
    to_next: str | None
    will_downgrade: bool
    downgrade_to: str | None


@attrs.frozen
class TierLadder:
    """Levels from the lowest up, qualified on a rolling ``window``, each kept for
    ``keep_for`` once reached, then for a ``grace`` period before a review; the customer
    is told ``notice`` before a review they would not pass."""

    levels: tuple[Level, ...] = attrs.field(converter=_levels)
    window: relativedelta | timedelta = attrs.field(
        default=relativedelta(months=12), kw_only=True, validator=_days
    )
    keep_for: relativedelta | timedelta = attrs.field(
        default=relativedelta(months=12), kw_only=True, validator=_days
    )
    grace: relativedelta | timedelta = attrs.field(
        default=timedelta(days=30), kw_only=True, validator=_duration
    )
    notice: relativedelta | timedelta = attrs.field(
        default=timedelta(days=30), kw_only=True, validator=_duration
    )
    _first_days: dict[date, date] = attrs.field(
        init=False, factory=dict, eq=False, repr=False, hash=False
    )

    def rank(self, tier: str | None) -> int:
        """The level's place on the ladder, from 0; -1 for no tier or a tier not on it."""
        for index, level in enumerate(self.levels):
            if level.name == tier:
                return index
        return -1

    def level(self, tier: str | None) -> Level | None:
        index = self.rank(tier)
        return None if index < 0 else self.levels[index]

    def first_day(self, last_day: date) -> date:
        """The first local day of the window whose last day is ``last_day``."""
        first = self._first_days.get(last_day)
        if first is None:  # relativedelta arithmetic is slow, and days repeat: keep it
            if len(self._first_days) > 4096:
                self._first_days.clear()
            start: date = shift(last_day, self.window, back=True)
            first = self._first_days[last_day] = start + _DAY
        return first

    def days_needed(self) -> int:
        """How many days of activity a window can reach back (an upper bound)."""
        if isinstance(self.window, timedelta):
            return self.window.days + 1
        return (self.window.years * 12 + self.window.months) * 31 + self.window.days + 1

    def standing(self, activity: Activity, last_day: date) -> Standing:
        """What ``activity`` did in the window ending on ``last_day`` (included)."""
        spend, points, visits = activity.within(self.first_day(last_day), last_day)
        return Standing(spend, points, visits)

    def qualified(self, standing: Standing) -> Level | None:
        """The highest level ``standing`` meets, if any."""
        for level in reversed(self.levels):
            if level.qualifies(standing):
                return level
        return None

    def multiplier_rules(self) -> tuple[Rule, ...]:
        """The rules that give each level's members its multiplier: ``"tier <name>"``."""
        return tuple(
            Rule(
                f"tier {level.name}",
                on="Purchase",
                when=Compare("customer.tier", "==", level.name),
                then=[Multiplier(level.multiplier)],
            )
            for level in self.levels
            if level.multiplier is not None
        )

    def describe_window(self) -> str:
        return describe_duration(self.window)


# -- decisions -----------------------------------------------------------------------------


@attrs.frozen
class ChangeTier:
    """Move the customer to ``tier`` (None: off the ladder) at ``at`` for ``reason``; kept
    at least ``until`` and reviewed at ``review_at`` (None for both: not reviewed)."""

    tier: str | None
    at: datetime
    until: datetime | None
    review_at: datetime | None
    reason: str


@attrs.frozen
class KeepTier:
    """The customer met their tier again: keep it at least ``until``, review at
    ``review_at``."""

    until: datetime
    review_at: datetime


def upgrade(
    ladder: TierLadder,
    standing: Standing,
    *,
    tier: str | None,
    review_at: datetime | None,
    at: datetime,
    currency: str,
    zone: tzinfo = UTC,
) -> tuple[ChangeTier | KeepTier | None, str | None]:
    """After an event at ``at`` that left the customer with ``standing``: a move up, a
    longer hold on the tier they have, or nothing; and a line for the trace. The tier is
    kept and reviewed on the calendar of ``zone`` (the customer's), where the window's
    days are counted."""
    level = ladder.qualified(standing)
    if level is None:
        return None, None
    rank, current = ladder.rank(level.name), ladder.rank(tier)
    until, review = _kept(ladder, at, zone)
    if rank > current:
        window = ladder.describe_window()
        reason = f"qualified for {level.name!r}: {standing.describe(currency)} in {window}"
        return ChangeTier(level.name, at, until, review, reason), f"tier: {reason}"
    if rank == current and (review_at is None or earlier(review_at, review)):
        return KeepTier(until, review), f"tier {tier!r} kept until {until.isoformat()}"
    return None, None


def _kept(ladder: TierLadder, at: datetime, zone: tzinfo) -> tuple[datetime, datetime]:
    """Until when a tier reached (or kept) at ``at`` is kept, and when it is reviewed
    then: ``keep_for``, then ``grace``, added on the calendar of ``zone``."""
    until = shift_in(at, ladder.keep_for, zone)
    return until, shift_in(until, ladder.grace, zone)


def review(
    ladder: TierLadder,
    standing: Standing,
    *,
    tier: str | None,
    review_at: datetime,
    currency: str,
    zone: tzinfo = UTC,
) -> tuple[ChangeTier | KeepTier, str]:
    """The review at ``review_at`` of a customer whose standing in the window ending
    then is ``standing``: kept for another period, or moved down (the new period on the
    calendar of ``zone``, the customer's)."""
    level = ladder.qualified(standing)
    window = ladder.describe_window()
    if level is not None and ladder.rank(level.name) >= ladder.rank(tier):
        keep = KeepTier(*_kept(ladder, review_at, zone))
        return keep, f"tier {tier!r} reviewed and kept: {standing.describe(currency)} in {window}"
    if level is None:
        reason = f"did not requalify for {tier!r}: {standing.describe(currency)} in {window}"
        return ChangeTier(None, review_at, None, None, reason), f"tier: {reason}"
    until, next_review = _kept(ladder, review_at, zone)
    reason = (
        f"did not requalify for {tier!r}, moved to {level.name!r}: "
        f"{standing.describe(currency)} in {window}"
    )
    return ChangeTier(level.name, review_at, until, next_review, reason), f"tier: {reason}"


def status(
    ladder: TierLadder,
    state: CustomerState,
    *,
    at: datetime,
    today: date,
    currency: str,
    zone: tzinfo = UTC,
) -> TierStatus:
    """The customer's :class:`TierStatus` at ``at`` (local day ``today`` in ``zone``, the
    customer's, on whose calendar the ``notice`` before a review is reckoned)."""
    tier, review_at = state.tier, state.tier_review_at
    standing = ladder.standing(state.activity, today)
    level = ladder.level(tier)
    to_keep = None if level is None else level.shortfall(standing, currency)
    rank = ladder.rank(tier)
    above = ladder.levels[rank + 1] if rank + 1 < len(ladder.levels) else None
    to_next = None if above is None else above.shortfall(standing, currency)
    warn = False
    down_to = None
    if review_at is not None and to_keep is not None:
        warn = reached(at, shift_in(review_at, ladder.notice, zone, back=True))
        lower = ladder.qualified(standing)
        down_to = None if lower is None else lower.name
    return TierStatus(
        at,
        tier,
        state.tier_since,
        state.tier_until,
        review_at,
        () if level is None else level.perks,
        standing,
        to_keep,
        None if above is None else above.name,
        to_next,
        warn,
        down_to,
    )
