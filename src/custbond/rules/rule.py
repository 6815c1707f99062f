"""Rules: on which events, when, what they give, and what limits and windows hold them back.

>>> from decimal import Decimal
>>> from custbond.rules import Limit, Multiplier, Rule, customer, local
>>> double_tuesdays = Rule(
...     "double tuesdays",
...     on="Purchase",
...     when=(customer.tier == "gold") & (local.weekday == "TU"),
...     then=[Multiplier(2)],
...     limits=[Limit(4, per="month")],
... )
>>> print(double_tuesdays.when)
customer.tier == 'gold' and local.weekday == 'TU'
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from typing import Any

import attrs
from dateutil import rrule as rrules
from dateutil import tz
from dateutil.relativedelta import relativedelta

from custbond import _validate as v
from custbond._durations import describe_duration, shift
from custbond.errors import InvalidInput
from custbond.rules.conditions import Always, Condition, Fact, as_condition
from custbond.rules.effects import (
    RULE_EFFECTS,
    Cashback,
    Discount,
    FixedPoints,
    Gift,
    PointsPerItem,
    PointsPerSpend,
    RuleEffect,
)
from custbond.rules.facts import FACTS
from custbond.rules.text import parse_condition

__all__ = [
    "EVENT_NAMES",
    "Budget",
    "FirstCustomers",
    "Group",
    "Limit",
    "Rule",
    "Window",
    "gives_money",
    "uncounted_money",
]

EVENT_NAMES = ("Purchase", "Return", "Visit", "Signup", "CustomEvent")
PERIODS = ("day", "week", "month", "year")


def _event_names(value: Any) -> frozenset[str]:
    items = [value] if isinstance(value, str | type) else value
    if not isinstance(items, Iterable):
        raise InvalidInput("on", value, "an event type or a list of them")
    names = []
    for item in items:
        name = item.__name__ if isinstance(item, type) else item
        if name not in EVENT_NAMES:
            raise InvalidInput("on", item, f"one of {', '.join(EVENT_NAMES)}")
        names.append(name)
    if not names:
        raise InvalidInput("on", value, "at least one event type")
    return frozenset(names)


def condition_of(value: Any) -> Condition:
    """``value`` as a condition: a condition as it is, text parsed, a true/false fact
    standing alone."""
    if isinstance(value, str):
        return parse_condition(value)
    if isinstance(value, Condition | Fact):
        return as_condition(value)
    raise InvalidInput("when", value, "a condition, or a condition written as text")


def _effects(value: Any) -> tuple[RuleEffect, ...]:
    items = (value,) if isinstance(value, RULE_EFFECTS) else tuple(value)
    if not items:
        raise InvalidInput("then", value, "at least one effect")
    for item in items:
        if not isinstance(item, RULE_EFFECTS):
            names = ", ".join(cls.__name__ for cls in RULE_EFFECTS)
            raise InvalidInput("then", item, f"an effect: one of {names}")
    return items


# -- limits --------------------------------------------------------------------------------


def _period(value: Any) -> str | relativedelta | timedelta:
    if isinstance(value, str):
        if value not in PERIODS:
            raise InvalidInput("per", value, f"one of {', '.join(PERIODS)}, or a duration")
        return value
    duration = v.duration("per", value)
    if duration is None:
        raise InvalidInput("per", value, "a calendar period or a duration")
    return duration


def _start_of(period: str, local: datetime) -> datetime:
    # Days repeat and the time-zone arithmetic is slow: keep the answers. dateutil's zones
    # cannot be hashed, so they are told apart by identity (and kept alive in the cache).
    zone = local.tzinfo
    key = (period, local.date(), id(zone))
    found = _STARTS.get(key)
    if found is not None and found[0] is zone:
        return found[1]
    if len(_STARTS) > 4096:
        _STARTS.clear()
    start = _start_of_day(period, local.date(), zone)
    _STARTS[key] = (zone, start)
    return start


_STARTS: dict[tuple[str, date, int], tuple[tzinfo | None, datetime]] = {}

# A rolling limit counts the firings strictly after ``at - per``.
_JUST_AFTER = timedelta(microseconds=1)


def _start_of_day(period: str, day: date, zone: tzinfo | None) -> datetime:
    if period == "week":
        day -= timedelta(days=day.weekday())
    elif period == "month":
        day = day.replace(day=1)
    elif period == "year":
        day = day.replace(month=1, day=1)
    return _local_midnight(day, zone)


def _local_midnight(day: date, zone: tzinfo | None) -> datetime:
    return tz.resolve_imaginary(datetime.combine(day, time(0), tzinfo=zone))


@attrs.frozen
class Limit:
    """A rule fires at most ``times`` per customer per ``per``.

    ``per`` is a calendar period in the customer's time zone (``"day"``, ``"week"``
    (from Monday), ``"month"``, ``"year"``), or a rolling duration (``timedelta(days=30)``,
    ``relativedelta(months=1)``): the firings in the stretch of that length ending now.
    """

    times: int = attrs.field(validator=v.is_positive_int)
    per: str | relativedelta | timedelta = attrs.field(kw_only=True, converter=_period)

    def since(self, at: datetime, zone: tzinfo, *, local: datetime | None = None) -> datetime:
        """The start of the period ``at`` falls in: firings at or after it count.
        ``local`` is ``at`` in ``zone`` (the customer's), when the caller has it already.

        A calendar period, and a rolling ``relativedelta``, are reckoned on the calendar
        of ``zone``, so the answer depends on the instant ``at`` only, not on the tzinfo
        it is written in; a rolling ``timedelta`` is taken from ``at`` as Python's ``-``
        takes it."""
        per = self.per
        if isinstance(per, timedelta):
            return shift(at, per, back=True) + _JUST_AFTER  # rolling: strictly after
        if local is None:
            local = at.astimezone(zone)
        if isinstance(per, str):
            return _start_of(per, local)
        # In UTC: two times of one zone compare by wall clock, the repeated hour ignored.
        return shift(local, per, back=True).astimezone(UTC) + _JUST_AFTER

    def describe(self) -> str:
        times = "once" if self.times == 1 else f"{self.times} times"
        if isinstance(self.per, str):
            return f"{times} per calendar {self.per}"
        return f"{times} in any {describe_duration(self.per)}"


def _optional_money(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None:
        v.decimal(attribute.name, value, minimum=None)
        if value <= 0:
            raise InvalidInput(attribute.name, value, "a positive Decimal")


@attrs.frozen
class Budget:
    """A budget for the rule across all customers together, in ``points`` or in
    ``money`` (exactly one of them): the rule stops firing once what it gave would pass
    it. What it gave is counted in the store, shared by all customers.

    ``Budget(points=N)`` (or ``Budget(N)``) counts the points the rule's own points
    effects give (per spend, per item, fixed), so it is for rules that give points.

    ``Budget(money=Decimal("500.00"))``, in the program's currency, counts the money the
    rule gives: its :class:`~custbond.rules.Cashback` and the value of its gifts'
    vouchers (those that have one), so it is for rules that give money. The store's
    counters are ints: money is counted there in minor units of the currency (cents for
    USD), exactly, so the budget and the values of the rule's gifts may have no more
    decimal places than the currency has.
    """

    points: int | None = attrs.field(default=None, validator=v.is_optional_positive_int)
    money: Decimal | None = attrs.field(
        default=None, kw_only=True, converter=v.to_decimal, validator=_optional_money
    )

    def __attrs_post_init__(self) -> None:
        if (self.points is None) == (self.money is None):
            raise InvalidInput(
                "budget", (self.points, self.money), "points or money, exactly one of them"
            )

    def describe(self, currency: str | None = None) -> str:
        """The budget in words: in ``currency`` (to its minor unit) when given."""
        if self.money is None:
            return f"a budget of {self.points} points"
        if currency is None:
            return f"a budget of {self.money} in money"
        places = v.minor_units(currency)
        money = self.money
        exponent = money.as_tuple().exponent
        if isinstance(exponent, int) and exponent >= -places:
            money = money.quantize(Decimal(1).scaleb(-places))
        return f"a budget of {money} {currency}"


def uncounted_money(rule: Rule, currency: str) -> tuple[int, Decimal] | None:
    """For a rule with a money budget of more decimal places than ``currency`` has (a
    budget is counted exactly, in its minor units): the budget's index in the limits and
    its amount; ``None`` otherwise. (The values of gifts are held to the currency by the
    program, whatever the budget.)"""
    for index, limit in enumerate(rule.limits):
        money = limit.money if isinstance(limit, Budget) else None
        if money is not None and not v.payable(money, currency):
            return index, money
    return None


@attrs.frozen
class FirstCustomers:
    """The rule is for the first ``count`` customers it fires for; after them it fires
    only for those customers again (counted in the store, shared by all customers)."""

    count: int = attrs.field(validator=v.is_positive_int)

    def describe(self) -> str:
        return f"the first {self.count} customers"


# -- windows -------------------------------------------------------------------------------

# Recurrences are wall-clock rules (RRULE's floating time), so their anchors are naive.
_RRULE_ANCHOR = datetime(2000, 1, 3)  # noqa: DTZ001

# A recurrence is read with a start just before the moment being checked, so that checking
# costs the same however long the program has run. That is only sound when the rule's own
# parts pin down its occurrences (which weekday, which day of the month, ...): dateutil
# would otherwise take them from the start.
_PINNED_BY: dict[str, frozenset[str]] = {
    "YEARLY": frozenset({"BYMONTHDAY", "BYDAY", "BYYEARDAY"}),
    "MONTHLY": frozenset({"BYMONTHDAY", "BYDAY", "BYYEARDAY"}),
    "WEEKLY": frozenset({"BYDAY"}),
    "DAILY": frozenset(),
    "HOURLY": frozenset(),
}


def _recurrence(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput("recurrence", value, "an RRULE string such as 'FREQ=WEEKLY;BYDAY=TU'")
    text = value.strip()
    try:
        parsed = rrules.rrulestr(text, dtstart=_RRULE_ANCHOR)
    except (ValueError, TypeError) as error:
        raise InvalidInput("recurrence", value, f"a valid RRULE ({error})") from None
    if not isinstance(parsed, rrules.rrule):
        raise InvalidInput("recurrence", value, "a single RRULE (no RDATE or EXDATE sets)")
    parts = _rrule_parts(text)
    if {"COUNT", "UNTIL", "DTSTART"} & parts.keys() or parts.get("INTERVAL", "1") != "1":
        raise InvalidInput(
            "recurrence", value, "a rule without INTERVAL, COUNT or UNTIL (use starts/ends)"
        )
    pins = _PINNED_BY.get(parts.get("FREQ", ""))
    if pins is None or (pins and not pins & parts.keys()):
        raise InvalidInput(
            "recurrence",
            value,
            "a DAILY or HOURLY rule, a WEEKLY one with BYDAY, a MONTHLY one with BYDAY or "
            "BYMONTHDAY, or a YEARLY one with BYMONTHDAY, BYDAY or BYYEARDAY",
        )
    if not _occurs(parsed, parts):
        why = "a rule that occurs: no day has what this one asks for (a 6th Monday, 30 February)"
        raise InvalidInput("recurrence", value, why)
    return text


# The Gregorian calendar repeats every 400 years (146,097 days: a whole number of weeks),
# and a window's rule has no INTERVAL: a rule that does not occur in 400 years never does.
_CYCLE = relativedelta(years=400)
_DAY_PARTS = ("BYMONTH", "BYMONTHDAY", "BYYEARDAY", "BYWEEKNO", "BYDAY")


def _occurs(parsed: rrules.rrule, parts: dict[str, str]) -> bool:
    """Whether the rule has an occurrence at all (a rule that has none would make every
    window check scan to the end of the calendar)."""
    if parts["FREQ"] in ("DAILY", "HOURLY"):
        # dateutil steps through these a day or an hour at a time: ask the days alone of a
        # yearly rule instead, which it expands a year at a time. The hours are in every day.
        days = [f"{name}={parts[name]}" for name in _DAY_PARTS if name in parts]
        if not days or "BYSETPOS" in parts:  # every day, or positions of the hours
            return True
        yearly = rrules.rrulestr(";".join(["FREQ=YEARLY", *days]), dtstart=_RRULE_ANCHOR)
        assert isinstance(yearly, rrules.rrule)  # one RRULE in, one out
        parsed = yearly
    bounded = parsed.replace(until=_RRULE_ANCHOR + _CYCLE)
    return next(iter(bounded), None) is not None


def _rrule_parts(text: str) -> dict[str, str]:
    """An RRULE's parts by name: ``{"FREQ": "WEEKLY", "BYDAY": "TU"}``."""
    return dict(
        part.split("=", 1) for part in text.upper().removeprefix("RRULE:").split(";") if part
    )


def _lasting(value: Any) -> relativedelta | timedelta:
    duration = v.duration("lasting", value)
    if duration is None:
        raise InvalidInput("lasting", value, "a positive duration")
    return duration


_ONE_DAY = timedelta(days=1)
_KEEP_DAYS = 1024  # days whose open occurrences are kept, per window
# One period of each frequency: how long an occurrence may last.
_PERIODS: dict[str, relativedelta | timedelta] = {
    "YEARLY": relativedelta(years=1),
    "MONTHLY": relativedelta(months=1),
    "WEEKLY": timedelta(weeks=1),
    "DAILY": _ONE_DAY,
    "HOURLY": timedelta(hours=1),
}


@attrs.frozen
class Window:
    """When a rule is open: between ``starts`` and ``ends``, and/or at each occurrence of
    ``recurrence`` for ``lasting`` (one day by default), in the customer's local time.

    ``Window(recurrence="FREQ=WEEKLY;BYDAY=TU;BYHOUR=7", lasting=timedelta(hours=3))`` is
    every Tuesday from 7 to 10; ``"FREQ=MONTHLY;BYDAY=-1SA,-1SU"`` the last Saturday and
    Sunday of each month. ``ends`` is exclusive.
    """

    starts: datetime | None = attrs.field(
        default=None, kw_only=True, validator=v.is_optional_aware
    )
    ends: datetime | None = attrs.field(default=None, kw_only=True, validator=v.is_optional_aware)
    recurrence: str | None = attrs.field(default=None, kw_only=True, converter=_recurrence)
    lasting: relativedelta | timedelta = attrs.field(
        default=_ONE_DAY, kw_only=True, converter=_lasting
    )
    _rule: Any = attrs.field(init=False, eq=False, repr=False, hash=False)
    # Per local day, the wall-clock spans of the occurrences open on it: a window is
    # checked on every event, and working out a recurrence is slow while days repeat.
    _spans: dict[date, tuple[tuple[datetime, datetime], ...]] = attrs.field(
        init=False, factory=dict, eq=False, repr=False, hash=False
    )
    _text: str = attrs.field(init=False, eq=False, repr=False, hash=False)

    def __attrs_post_init__(self) -> None:
        if self.starts and self.ends and self.ends <= self.starts:
            raise InvalidInput(
                "ends", self.ends, f"a time after starts ({self.starts.isoformat()})"
            )
        if self.starts is None and self.ends is None and self.recurrence is None:
            raise InvalidInput("window", None, "starts, ends or a recurrence")
        parsed = None
        if self.recurrence is not None:
            parsed = rrules.rrulestr(self.recurrence, dtstart=_RRULE_ANCHOR)
            frequency = _rrule_parts(self.recurrence)["FREQ"]
            period = _PERIODS[frequency]
            # An occurrence lasting longer than the gap to the next one never lets the
            # window close, and would make each day's spans many: one period at most (a
            # day at most for hourly ones, the default).
            longest = _ONE_DAY if frequency == "HOURLY" else period
            if _RRULE_ANCHOR + self.lasting > _RRULE_ANCHOR + longest:
                raise InvalidInput(
                    "lasting",
                    self.lasting,
                    f"a duration of at most {describe_duration(longest)} for a {frequency} "
                    "recurrence",
                )
        object.__setattr__(self, "_rule", parsed)
        object.__setattr__(self, "_text", self._describe())

    def contains(self, at: datetime, zone: tzinfo, *, local: datetime | None = None) -> bool:
        """Whether ``at`` falls inside the window, reckoned in ``zone``. ``local`` is
        ``at`` in ``zone``, when the caller has it already."""
        if self.starts is not None and at < self.starts:
            return False
        if self.ends is not None and at >= self.ends:
            return False
        if self._rule is None:
            return True
        if local is None:
            local = at.astimezone(zone)
        wall = local.replace(tzinfo=None)  # wall-clock time, as RRULE means it
        spans = self._spans.get(wall.date())
        if spans is None:
            spans = self._spans_on(wall.date())
        for start, end in spans:  # noqa: SIM110 (a loop makes no generator per event)
            if start <= wall < end:
                return True
        return False

    def _spans_on(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """The occurrences open at some time on ``day`` (wall clock), as (start, end)."""
        midnight = datetime.combine(day, time(0))
        # Only an occurrence that starts less than ``lasting`` before midnight can still
        # be open on the day (a day more, for month-end arithmetic); the rule's parts pin
        # its occurrences down, so starting it a period before that finds them all.
        earliest = midnight - self.lasting - _ONE_DAY
        # Bounded by the day's end: no iteration goes past it, even to find nothing.
        started = self._rule.replace(
            dtstart=datetime.combine(earliest.date(), time(0)), until=midnight + _ONE_DAY
        )
        spans = tuple(
            (start, end)
            for start in started.between(earliest, midnight + _ONE_DAY, inc=False)
            if (end := start + self.lasting) > midnight
        )
        if len(self._spans) >= _KEEP_DAYS:
            self._spans.clear()
        self._spans[day] = spans
        return spans

    def describe(self) -> str:
        """The window in words, for traces (made once)."""
        return self._text

    def _describe(self) -> str:
        parts = []
        if self.starts is not None:
            parts.append(f"from {self.starts.isoformat()}")
        if self.ends is not None:
            parts.append(f"until {self.ends.isoformat()}")
        if self.recurrence is not None:
            parts.append(f"{self.recurrence}, lasting {describe_duration(self.lasting)}")
        return ", ".join(parts)


# -- groups and rules ----------------------------------------------------------------------

TAKES = ("all", "best", "lowest")


@attrs.frozen
class Group:
    """How the rules of one evaluation group combine when several fire for an event.

    ``take="all"`` (they stack), ``"best"`` (only the one that gives the most points) or
    ``"lowest"`` (only the one that gives the fewest). Ties go to the rule considered first.
    """

    name: str = attrs.field(validator=v.is_identifier)
    take: str = attrs.field(default="all", kw_only=True)

    @take.validator
    def _check_take(self, attribute: object, value: object) -> None:
        if value not in TAKES:
            raise InvalidInput("take", value, "'all', 'best' or 'lowest'")


AnyLimit = Limit | Budget | FirstCustomers


def _limits(value: Any) -> tuple[AnyLimit, ...]:
    items = (value,) if isinstance(value, Limit | Budget | FirstCustomers) else tuple(value)
    for item in items:
        if not isinstance(item, Limit | Budget | FirstCustomers):
            raise InvalidInput("limits", item, "a Limit, a Budget or FirstCustomers")
    if sum(isinstance(item, Budget) for item in items) > 1:
        raise InvalidInput("limits", value, "at most one Budget")
    if sum(isinstance(item, FirstCustomers) for item in items) > 1:
        raise InvalidInput("limits", value, "at most one FirstCustomers")
    return items


def _window(instance: Any, attribute: Any, value: Any) -> None:
    if value is not None and not isinstance(value, Window):
        raise InvalidInput("window", value, "a Window or None")


_SPEND_EFFECTS = (PointsPerSpend, PointsPerItem, Discount, Cashback)
_POINTS_EFFECTS = (PointsPerSpend, PointsPerItem, FixedPoints)


def gives_money(effect: RuleEffect) -> bool:
    """Whether ``effect`` gives money that a money budget counts: cashback, or a gift
    whose voucher has a value."""
    return isinstance(effect, Cashback) or (
        isinstance(effect, Gift) and effect.offer.value is not None
    )


@attrs.frozen
class Rule:
    """A reward rule: on which events it is considered, when it fires, what it gives.

    Rules are considered in descending ``priority``; rules of equal priority in order of
    name. An ``exclusive`` rule that fires stops every rule of lower priority. Rules in the
    same ``group`` combine as the program's :class:`Group` of that name says (they stack
    by default). ``limits`` cap how often the rule fires: per customer (:class:`Limit`),
    in points or money across all customers (:class:`Budget`), or to the first customers
    (:class:`FirstCustomers`); ``window`` says when it is open. ``when`` is a condition,
    or the same written as text.
    """

    name: str = attrs.field(validator=v.is_identifier)
    on: frozenset[str] = attrs.field(kw_only=True, converter=_event_names)
    then: tuple[RuleEffect, ...] = attrs.field(kw_only=True, converter=_effects)
    when: Condition = attrs.field(factory=Always, kw_only=True, converter=condition_of)
    priority: int = attrs.field(default=0, kw_only=True, validator=v.is_int)
    exclusive: bool = attrs.field(default=False, kw_only=True)
    group: str | None = attrs.field(default=None, kw_only=True, validator=v.is_optional_text)
    limits: tuple[AnyLimit, ...] = attrs.field(default=(), kw_only=True, converter=_limits)
    window: Window | None = attrs.field(default=None, kw_only=True, validator=_window)
    description: str = attrs.field(default="", kw_only=True)

    @exclusive.validator
    def _check_exclusive(self, attribute: object, value: object) -> None:
        if not isinstance(value, bool):
            raise InvalidInput("exclusive", value, "True or False")

    def __attrs_post_init__(self) -> None:
        for name in sorted(self.when.facts()):
            events = FACTS[name].events
            if events is not None and not self.on <= events:
                raise InvalidInput(
                    "when",
                    name,
                    f"facts of every event in on={sorted(self.on)} ({name} is only for "
                    f"{', '.join(sorted(events))})",
                )
        for effect in self.then:
            if isinstance(effect, _SPEND_EFFECTS) and self.on != {"Purchase"}:
                raise InvalidInput(
                    "then",
                    effect,
                    "points per spend or per item, discounts and cashback, only on='Purchase'",
                )
        budget = next((limit for limit in self.limits if isinstance(limit, Budget)), None)
        if budget is None:
            return
        if budget.money is None and not any(
            isinstance(effect, _POINTS_EFFECTS) for effect in self.then
        ):
            raise InvalidInput(
                "limits", "Budget", "a budget only on a rule that gives points (it counts them)"
            )
        if budget.money is not None and not any(gives_money(effect) for effect in self.then):
            raise InvalidInput(
                "limits",
                "Budget",
                "a money budget only on a rule that gives money: cashback, or a gift with a "
                "value (it counts them)",
            )

    def counter(self, kind: str) -> str:
        """The name of the store's shared counter of this rule's ``kind``: ``"budget"`` (a
        budget in points), ``"budget USD"`` (a budget in money, counted in minor units of
        the currency), ``"customers"``."""
        return f"rule {self.name} {kind}"
