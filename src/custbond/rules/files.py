"""Rule files: a whole program written as TOML, read by :func:`load_program` and written by
:func:`dump_program`.

The format is described in full in ``docs/rule-files.md``. In short: a ``[program]``
table (currency, time zone, how multipliers combine), a ``[points]`` table (the points
policy), an ``[earn]`` table (the base rule; ``earn = false`` leaves it out), arrays of
tables ``[[groups]]``, ``[[rules]]``, ``[[cards]]``, ``[[rewards]]`` (the catalog),
``[[achievements]]`` and ``[[coupons]]``, a ``[tiers]`` table with its
``[[tiers.levels]]``, a ``[referrals]`` table, and a ``[messaging]`` table (quiet hours,
``[[messaging.caps]]``, the messages sent on their own such as ``birthday = {}`` and
``[[messaging.holidays]]``, and templates as ``[messaging.templates.<name>.<channel>]``
tables, over the defaults), and a ``[recovery]`` table (the recovery policy, with
``[recovery.calendar]``, ``[recovery.targets.<severity>]``, ``[recovery.compensation]``
and its ``[[recovery.compensation.rungs]]``, ``[recovery.follow_up]``,
``[recovery.survey]`` and ``[recovery.detractors]``), and a ``[social]`` table (the social
policy: its ``default_owner``, the ``[social.cadence]`` that keeps in touch, the calls
after events, ``call_after``, the ``[[social.appreciation]]`` milestones,
``[social.occasions]``, ``[social.reviews]`` and the ``invitation``), a
``[customization]`` table (its reminders and saved carts, ``[[customization.contents]]``
and ``[customization.next_need]``) and a ``[structure]`` table (``[[structure.plans]]``
and ``[[structure.sequences]]`` with their steps). Conditions are written as text (see
:func:`custbond.rules.parse_condition`) and are never run as Python. What a voucher is for
(a gift's or a reward's ``offer``, a card's ``reward``) is an inline table
``{ name = ..., sku = ..., value = "5.00", valid_for = "P3M" }``.

>>> program = load_program('''
... [program]
... time_zone = "America/New_York"
...
... [[rules]]
... name = "double tuesdays"
... on = "Purchase"
... when = "local.weekday == 'TU'"
... then = [{ type = "multiplier", factor = "2" }]
... ''')
>>> [rule.name for rule in program.all_rules()]
['points per spend', 'double tuesdays']
>>> load_program(dump_program(program)) == program
True

Every problem is a :class:`~custbond.errors.RuleFileError` that names the file, the key
and the line and column:

>>> from custbond.errors import RuleFileError
>>> try:
...     load_program('''
... [[rules]]
... name = "double tuesdays"
... on = "Purchase"
... when = "local.weekday == 'TU' and customer.teir == 'gold'"
... then = [{ type = "multiplier", factor = "2" }]
... ''')
... except RuleFileError as error:
...     print(error)
rules[0].when, line 5, column 35: unknown fact 'customer.teir' (hint: did you mean
customer.tier or customer.tags or customer? the facts are listed in custbond.rules.FACTS)
"""

from __future__ import annotations

import contextlib
import difflib
import os
import re
import string
import tomllib
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, TypeAlias

import attrs
from dateutil.relativedelta import relativedelta

from custbond import _validate as v
from custbond._money_given import unpayable
from custbond.bonds import achievements
from custbond.bonds.achievements import Achievement
from custbond.bonds.cards import PunchCard
from custbond.bonds.catalog import Reward
from custbond.bonds.coupons import Coupon
from custbond.bonds.customization import Content, CustomizationPolicy
from custbond.bonds.occasions import OccasionPolicy
from custbond.bonds.referrals import ReferralPolicy
from custbond.bonds.rhythm import NextNeedPolicy
from custbond.bonds.sequences import SEQUENCE_EVENTS, SequenceStep
from custbond.bonds.sequences import Sequence as Autoresponder
from custbond.bonds.social import (
    CALLABLE_EVENTS,
    Cadence,
    CallAfter,
    KeyReview,
    Milestone,
    SocialPolicy,
)
from custbond.bonds.structure import StructuralPolicy
from custbond.bonds.subscriptions import Plan
from custbond.bonds.tiers import Level, TierLadder
from custbond.errors import InvalidInput, RuleFileError, RuleSyntaxError, TemplateError
from custbond.ledger import PointsPolicy
from custbond.messaging.message import MessageKind
from custbond.messaging.occasions import ExpiryNotice, Greeting, Holiday, Reminder, Send
from custbond.messaging.policy import FrequencyCap, MessagingPolicy, QuietHours
from custbond.messaging.templates import ANY_CHANNEL, Template, Templates
from custbond.program import BASE_RULE, Program
from custbond.recovery.calendar import BusinessCalendar
from custbond.recovery.compensation import (
    Apology,
    CompensationLadder,
    Gesture,
    GoodwillPoints,
    GoodwillVoucher,
    Refund,
    Rung,
)
from custbond.recovery.policy import (
    Escalation,
    FollowUp,
    RecoveryPolicy,
    SurveyInvite,
    Targets,
)
from custbond.recovery.severity import Severity
from custbond.rules.conditions import Always, Condition
from custbond.rules.effects import (
    Cashback,
    Discount,
    FixedPoints,
    Gift,
    Message,
    Multiplier,
    PointsPerItem,
    PointsPerSpend,
    RuleEffect,
    Stamps,
    Tag,
    Tier,
)
from custbond.rules.engine import MULTIPLIER_MODES
from custbond.rules.rule import (
    EVENT_NAMES,
    PERIODS,
    TAKES,
    Budget,
    FirstCustomers,
    Group,
    Limit,
    Rule,
    Window,
    gives_money,
    uncounted_money,
)
from custbond.rules.text import parse_condition
from custbond.vouchers import VoucherOffer

__all__ = ["dump_program", "load_program"]

# A key path: ("rules", 3, "when") is rules[3].when.
KeyPath: TypeAlias = tuple[str | int, ...]


# -- reading -------------------------------------------------------------------------------


def load_program(source: str | os.PathLike[str]) -> Program:
    """The program described by a rule file.

    ``source`` is the path of a TOML file (a ``str`` or a :class:`pathlib.Path`), or the
    TOML text itself: a ``str`` that contains a line break or starts with ``[`` is text,
    any other ``str`` is a path. Files are read as UTF-8.

    Raises :class:`~custbond.errors.RuleFileError` for anything wrong in the TOML, naming
    the file (``None`` for text), the key path, and the line and column. A file that
    cannot be opened raises the usual :class:`OSError` (``FileNotFoundError``, ...).

    >>> program = load_program("[points]\\nexpire_after = '12 months'\\n")
    >>> program.points.expire_after
    relativedelta(years=+1)
    """
    text, file = _source(source)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise _syntax_error(error, text, file) from None
    except RecursionError:  # tomllib parses nested arrays and tables by recursing
        raise RuleFileError(
            "not valid TOML: arrays or tables nested too deeply", file=file
        ) from None
    return _Reader(text, file).program(data)


def _source(source: object) -> tuple[str, str | None]:
    """The TOML text of ``source``, and the file it came from (``None`` for text)."""
    if isinstance(source, str) and ("\n" in source or source.lstrip().startswith("[")):
        return source, None
    if not isinstance(source, str | os.PathLike):
        raise InvalidInput("source", source, "TOML text, or the path of a TOML file")
    file = os.fspath(source)
    if not isinstance(file, str):
        raise InvalidInput("source", source, "a path given as str or os.PathLike[str]")
    try:
        with open(file, "rb") as stream:
            raw = stream.read()
    except FileNotFoundError as error:
        if "=" in file:
            error.add_note(
                "load_program reads a str as TOML text only when it contains a line break "
                "or starts with '[': end the text with a line break"
            )
        raise
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        good = raw[: error.start].decode("utf-8")
        line, column = _Lines(good).position(len(good))
        problem = f"not UTF-8 text (byte {raw[error.start]:#04x})"
        raise RuleFileError(problem, file=file, line=line, column=column) from None
    return text.removeprefix("\ufeff"), file


_AT = re.compile(r" \(at line (\d+), column (\d+)\)\Z")
_AT_END = " (at end of document)"


def _syntax_error(error: tomllib.TOMLDecodeError, text: str, file: str | None) -> RuleFileError:
    message = str(error)
    line: int | None = None
    column: int | None = None
    found = _AT.search(message)
    if found is not None:
        message = message[: found.start()]
        line, column = int(found[1]), int(found[2])
    elif message.endswith(_AT_END):
        message = message.removesuffix(_AT_END)
        line, column = _Lines(text).position(len(text))
    problem = f"not valid TOML: {message[:1].lower()}{message[1:]}"
    return RuleFileError(problem, file=file, line=line, column=column)


class _Wrong(Exception):
    """A value of the wrong type or form: what was expected, and a hint."""

    def __init__(self, expected: str, hint: str | None = None) -> None:
        super().__init__(expected)
        self.expected = expected
        self.hint = hint


# A key's reader: converts the TOML value at a key path to what the value classes take.
Kind: TypeAlias = Callable[["_Reader", Any, KeyPath], Any]


def _at_its_shortest(error: InvalidInput) -> str:
    """What an ahead refused by a Cadence or KeyReview is to be less than, when every is
    a calendar duration: " at its shortest (28 days)" for P1M (a month is not always 31
    days), else nothing."""
    fewest = error.expected.partition(" at its shortest ")[2]
    return f" at its shortest {fewest}" if fewest else ""


def _plain(check: Callable[[Any], Any]) -> Kind:
    def read(reader: _Reader, value: Any, path: KeyPath) -> Any:
        return check(value)

    return read


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise _Wrong("a string")
    return value


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Wrong("an int")
    return value


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Wrong("true or false")
    return value


_A_DECIMAL = "a decimal number, written as a string or an int"
# What a decimal's text may be: digits 0 to 9 with a sign, a point and an exponent.
_DECIMAL_TEXT = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")
_LARGEST_EXPONENT = 999


def _decimal(value: Any) -> Decimal:
    if isinstance(value, float):
        hint = f"TOML floats are inexact: write it as a string, {_quote(repr(value))}"
        raise _Wrong(_A_DECIMAL, hint)
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise _Wrong(_A_DECIMAL)
    if isinstance(value, int):
        return Decimal(value)
    if not _DECIMAL_TEXT.fullmatch(
        value.strip()
    ):  # Decimal() also takes "1_0" and other scripts' digits
        raise _Wrong(_A_DECIMAL, 'such as "1.50"')
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        raise _Wrong(_A_DECIMAL, 'such as "1.50"') from None
    if not number.is_finite():
        raise _Wrong("a finite decimal number")
    if not -_LARGEST_EXPONENT <= number.adjusted() <= _LARGEST_EXPONENT:
        # Beyond what Decimal arithmetic takes (it overflows at 1e1000000): no amount,
        # rate or duration is anywhere near.
        raise _Wrong(f"a decimal number from 1e-{_LARGEST_EXPONENT} to 1e{_LARGEST_EXPONENT}")
    return number


def _positive(value: Any) -> Decimal:
    """An amount above zero (a milestone's spend, a plan's price)."""
    number = _decimal(value)
    if number <= 0:
        raise _Wrong("an amount above 0, written as a string or an int", 'such as "25.00"')
    return number


_A_DURATION = 'a duration: ISO 8601 ("P14D", "PT3H"), words ("14 days") or { seconds = N }'
_ISO = re.compile(
    r"P(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?"
    r"(?:(?P<seconds>\d+)(?:[.,](?P<fraction>\d{1,6}))?S)?)?",
    re.ASCII,  # digits 0 to 9 only, as in every pattern here, not other scripts' digits
)
_WORD = re.compile(r"(\d+)\s*([A-Za-z]+)\s*(?:(?:,|\band\b)\s*)?", re.ASCII)
_UNITS = {
    f"{unit}{plural}": f"{unit}s"
    for unit in ("year", "month", "week", "day", "hour", "minute", "second")
    for plural in ("", "s")
}
# Long enough for any real policy, short enough that adding it to a date never overflows.
_PROBE = datetime(2000, 1, 1)  # noqa: DTZ001 - only compared with itself
_LONGEST = datetime(3000, 1, 1)  # noqa: DTZ001


def _duration(value: Any, *, zero: bool = False) -> relativedelta | timedelta:
    """A positive duration; with ``zero``, a duration of zero too (``"PT0S"``,
    ``{ seconds = 0 }``), which is ``timedelta(0)`` however it is written."""
    if isinstance(value, dict):
        duration: relativedelta | timedelta = _seconds(value)
    elif isinstance(value, str):
        parts = _iso_parts(value.strip()) or _word_parts(value.strip())
        if parts is None:
            raise _Wrong(_A_DURATION)
        duration = relativedelta(**parts)
    else:
        raise _Wrong(_A_DURATION)
    try:
        end = _PROBE + duration
    except (OverflowError, ValueError):
        end = _LONGEST
    if end >= _LONGEST:
        raise _Wrong("a duration of less than 1000 years")
    if zero and end == _PROBE:
        return timedelta(0)
    if end <= _PROBE:
        raise _Wrong("a duration of zero or more" if zero else "a positive duration")
    return duration


def _iso_parts(text: str) -> dict[str, Any] | None:
    found = _ISO.fullmatch(text.upper())
    if found is None or text.upper() in ("P", "PT") or text.upper().endswith("T"):
        return None
    numbers = {name: int(digits) for name, digits in found.groupdict().items() if digits}
    fraction = numbers.pop("fraction", None)
    if fraction is not None:
        numbers["microseconds"] = int(found["fraction"].ljust(6, "0"))
    return _weeks_to_days(numbers)


def _word_parts(text: str) -> dict[str, Any] | None:
    parts: dict[str, Any] = {}
    position = 0
    while position < len(text):
        found = _WORD.match(text, position)
        unit = None if found is None else _UNITS.get(found[2].lower())
        if found is None or unit is None or unit in parts:
            return None
        parts[unit] = int(found[1])
        position = found.end()
    if not parts or re.search(r"(?:,|\band)\s*\Z", text):
        return None
    return _weeks_to_days(parts)


def _weeks_to_days(parts: dict[str, Any]) -> dict[str, Any]:
    weeks = parts.pop("weeks", 0)
    if weeks:
        parts["days"] = parts.get("days", 0) + 7 * weeks
    return parts


def _seconds(table: dict[str, Any]) -> timedelta:
    """``{ seconds = N }``: an exact span of time (a ``timedelta``)."""
    if set(table) != {"seconds"}:
        raise _Wrong(_A_DURATION, "a table duration has one key, seconds")
    try:
        seconds = _decimal(table["seconds"])
    except _Wrong:
        raise _Wrong(_A_DURATION, "seconds is a whole number, or a decimal string") from None
    microseconds = seconds.scaleb(6)
    if microseconds != microseconds.to_integral_value():
        raise _Wrong(_A_DURATION, "seconds has at most 6 decimal places")
    try:
        return timedelta(microseconds=int(microseconds))
    except OverflowError:
        raise _Wrong("a duration of less than 1000 years") from None


_AN_EXACT_DURATION = (
    'an exact duration: days, hours, minutes or seconds ("PT24H", "P1D", "90 minutes") or '
    "{ seconds = N }"
)


def _exact(value: Any, *, zero: bool = False) -> timedelta:
    """A duration of a fixed length (a ``timedelta``): days and less, no months or years;
    with ``zero``, a duration of zero too."""
    try:
        duration = _duration(value, zero=zero)
    except _Wrong as error:
        if error.expected == _A_DURATION:
            raise _Wrong(_AN_EXACT_DURATION, error.hint) from None
        raise
    if isinstance(duration, timedelta):
        return duration
    if duration.years or duration.months:
        hint = 'months and years have no fixed length: write it in days, such as "P30D"'
        raise _Wrong(_AN_EXACT_DURATION, hint)
    return timedelta(
        days=duration.days,
        hours=duration.hours,
        minutes=duration.minutes,
        seconds=duration.seconds,
        microseconds=duration.microseconds,
    )


def _after(value: Any) -> relativedelta | timedelta:
    """How long after something a task or a survey is due: a duration, or zero for at
    once."""
    return _duration(value, zero=True)


def _exact_after(value: Any) -> timedelta:
    """How long after a missed target an escalation fires: an exact duration, or zero."""
    return _exact(value, zero=True)


def _ahead(value: Any) -> timedelta:
    """How long before a keep-in-touch task falls due it is opened: an exact duration, or
    zero (when it falls due)."""
    return _exact(value, zero=True)


def _span(value: Any) -> timedelta:
    """How long before or within something: an exact duration, or zero."""
    return _exact(value, zero=True)


def _within_a_year(value: Any) -> timedelta:
    """How long ahead of a personal occasion its task is opened: an exact duration of
    zero or more, less than a year (a year ahead would open it before the last one came
    round)."""
    ahead = _exact(value, zero=True)
    if ahead >= timedelta(days=365):
        raise _Wrong("an exact duration of less than a year (365 days)")
    return ahead


_A_DATE = "a date, such as 2026-12-25"


def _date(value: Any) -> date:
    """A whole local day: a TOML local date, ``2026-12-25``."""
    if isinstance(value, datetime):
        raise _Wrong(_A_DATE, "a closed day is a whole local day: write the date alone")
    if isinstance(value, date):
        return value
    hint = None
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            hint = f"write the date without quotes: {date.fromisoformat(value).isoformat()}"
    raise _Wrong(_A_DATE, hint)


def _datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            hint = "a date-time without an offset is ambiguous: add Z or an offset like -05:00"
            raise _Wrong("a date-time with a UTC offset", hint)
        return value
    raise _Wrong("a date-time with a UTC offset, such as 2026-01-01T00:00:00Z")


def _period(value: Any) -> str | relativedelta | timedelta:
    if isinstance(value, str) and value in PERIODS:
        return value
    try:
        return _duration(value)
    except _Wrong as error:
        expected = f"one of {', '.join(PERIODS)} (a calendar period), or {_A_DURATION}"
        raise _Wrong(expected if error.expected == _A_DURATION else error.expected) from None


def _currency(value: Any) -> str:
    return v.currency("currency", value)


def _time_zone(value: Any) -> str:
    return v.time_zone("time_zone", value)


def _choice(options: Sequence[str]) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if not isinstance(value, str) or value not in options:
            hint = _did_you_mean(value, options) if isinstance(value, str) else None
            raise _Wrong(f"one of {', '.join(map(_quote, options))}", hint)
        return value

    return check


def _events(value: Any) -> list[str]:
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list):
        raise _Wrong('an event type or an array of them, such as ["Purchase"]')
    if not names:
        raise _Wrong('at least one event type, such as ["Purchase"]')
    return names


def _target(value: Any) -> int | Decimal:
    """An achievement's target: a count (an int), or an amount of money (a decimal)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    try:
        return _decimal(value)
    except _Wrong as error:
        raise _Wrong("an int, or an amount written as a string", error.hint) from None


def _count_or_false(value: Any) -> int | None:
    """A count, or ``false`` for none (no limit): ``None`` where the default is a count."""
    if value is False:
        return None
    try:
        return _int(value)
    except _Wrong:
        raise _Wrong("an int, or false for no limit") from None


def _factor(value: Any) -> Decimal:
    """A multiplier's factor: a decimal within the bounds of a :class:`Multiplier`."""
    number = _decimal(value)
    try:
        Multiplier(number)
    except InvalidInput as error:
        raise _Wrong(error.expected) from None
    return number


_A_TIME = 'a time of day, "HH:MM" or "HH:MM:SS", such as "21:00"'
_TIME_OF_DAY = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?", re.ASCII)


def _time(value: Any) -> time:
    """A time of day: ``"21:00"``, ``"21:00:30"``, or a TOML local time, ``21:00:00``."""
    if isinstance(value, time):
        return value
    if isinstance(value, datetime | date):
        raise _Wrong(_A_TIME, "a time of day has no date: write the time alone")
    found = _TIME_OF_DAY.fullmatch(value.strip()) if isinstance(value, str) else None
    if found is None:
        raise _Wrong(_A_TIME)
    hour, minute, second = (int(found[group] or 0) for group in (1, 2, 3))
    microsecond = int((found[4] or "").ljust(6, "0"))
    try:
        return time(hour, minute, second, microsecond)
    except ValueError:
        hint = "hours go from 00 to 23, minutes and seconds from 00 to 59"
        raise _Wrong(_A_TIME, hint) from None


# What a frequency cap counts: one kind of message, or any kind ("any", None in Python).
_CAP_KINDS: dict[str, MessageKind | None] = {
    MessageKind.MARKETING.value: MessageKind.MARKETING,
    MessageKind.TRANSACTIONAL.value: MessageKind.TRANSACTIONAL,
    "any": None,
}


def _cap_kind(value: Any) -> MessageKind | None:
    return _CAP_KINDS[_choice(tuple(_CAP_KINDS))(value)]


def _message_kind(value: Any) -> MessageKind:
    return MessageKind(_choice(tuple(kind.value for kind in MessageKind))(value))


def _subject(value: Any) -> str:
    """A template's subject: one line of text (``Template`` checks its placeholders)."""
    text = _text(value)
    if not text or "\n" in text or "\r" in text:
        raise _Wrong("a subject of one line, not empty")
    return text


_TEXT = _plain(_text)
_AFTER = _plain(_after)
_INT = _plain(_int)
_BOOL = _plain(_bool)
_DECIMAL = _plain(_decimal)
_DURATION = _plain(_duration)
_EXACT = _plain(_exact)
_DATETIME = _plain(_datetime)
_MESSAGE_KIND = _plain(_message_kind)
_TIME = _plain(_time)
_AHEAD = _plain(_ahead)
_SPAN = _plain(_span)
_WITHIN_A_YEAR = _plain(_within_a_year)
# The exact durations of the bonds' tables: written in ISO 8601, which they are read back
# from as a timedelta.
_EXACT_KINDS = (_EXACT, _AHEAD, _SPAN, _WITHIN_A_YEAR)


@attrs.frozen
class _Shape:
    """How one kind of value is written as a table: its class, and the reader of each of
    its keys. A key is named as the field it stands for, unless ``renamed`` says otherwise
    (``{"budget": "points"}``: the key ``budget`` is the field ``points``). Of the keys in
    ``one_of``, a table has exactly one. The keys in ``false_for_none`` are written
    ``false`` for ``None``, where leaving them out means their default."""

    cls: type[Any]
    keys: Mapping[str, Kind]
    renamed: Mapping[str, str] = attrs.field(factory=dict)
    one_of: tuple[str, ...] = ()
    false_for_none: frozenset[str] = frozenset()

    def field(self, key: str) -> str:
        return self.renamed.get(key, key)

    def fields(self) -> frozenset[str]:
        return frozenset(map(self.field, self.keys))

    def required(self) -> tuple[str, ...]:
        fields = attrs.fields_dict(self.cls)
        return tuple(key for key in self.keys if fields[self.field(key)].default is attrs.NOTHING)

    def written(self, value: Any, *, defaults: bool = True) -> dict[str, Any]:
        """``value``'s fields by key, to be written (``None`` ones are left out when
        written); without ``defaults``, those that have their default are left out too."""
        _check_written(value, self.fields())
        fields = attrs.fields_dict(self.cls)
        written = {}
        for key in self.keys:
            item = getattr(value, self.field(key))
            default = _default(fields[self.field(key)])
            if defaults or type(item) is not type(default) or item != default:
                written[key] = False if item is None and key in self.false_for_none else item
        return written


# -- the reader ----------------------------------------------------------------------------


class _Reader:
    """Reads the TOML data of one file into a Program, naming key paths in its errors."""

    def __init__(self, text: str, file: str | None) -> None:
        self.text = text
        self.file = file
        self._locator: _Locator | None = None

    @property
    def locator(self) -> _Locator:
        if self._locator is None:  # only scanned when there is an error to place
            self._locator = _Locator(self.text)
        return self._locator

    # -- errors ----------------------------------------------------------------------------

    def error(self, path: KeyPath, problem: str, *, at_key: bool = False) -> RuleFileError:
        line, column = self.locator.find(path, at_key=at_key)
        key = _key_text(path) or None
        return RuleFileError(problem, file=self.file, key=key, line=line, column=column)

    def wrong(self, path: KeyPath, value: Any, error: _Wrong) -> RuleFileError:
        problem = f"must be {error.expected}; got {_show(value)}"
        if error.hint:
            problem += f" (hint: {error.hint})"
        return self.error(path, problem)

    def invalid(
        self,
        path: KeyPath,
        error: InvalidInput,
        keys: Iterable[str],
        renamed: Mapping[str, str] | None = None,
    ) -> RuleFileError:
        """A value class refused a value: name the key it came from, if it is one (the key
        of a field is its name, unless ``renamed`` maps the key to another field)."""
        key_of = {(renamed or {}).get(key, key): key for key in keys}
        problem = f"must be {error.expected}; got {_written(error.value)}"
        first, *rest = _FIELD_PART.findall(error.field) or [error.field]
        if first in key_of and "".join(rest) == error.field.removeprefix(first):
            # "levels[1].spend": the key, then its place within the value
            parts = [int(part[1:-1]) if part[0] == "[" else part.lstrip(".") for part in rest]
            path = (*path, key_of[first], *parts)
        else:
            problem = f"{error.field} {problem}"
        return self.error(path, problem)

    def missing(
        self, path: KeyPath, key: str, required: Sequence[str], what: str
    ) -> RuleFileError:
        return self.error((*path, key), f"missing: {what} needs {_and(required)}")

    def duplicate(
        self, first: KeyPath, path: KeyPath, name: str, key: str = "name"
    ) -> RuleFileError:
        problem = f"{_key_text(first)} has the {key} {_quote(name)} already ({key}s are unique)"
        return self.error((*path, key), problem)

    def in_string(self, path: KeyPath, index: int, problem: str) -> RuleFileError:
        """An error at the character ``index`` of the string at ``path`` (at the string,
        when that character cannot be placed)."""
        place = self.locator.in_string(path, index)
        if place is None:
            return self.error(path, problem)
        line, column = place
        return RuleFileError(
            problem, file=self.file, key=_key_text(path), line=line, column=column
        )

    # -- tables ----------------------------------------------------------------------------

    def table(
        self,
        value: Any,
        path: KeyPath,
        keys: Mapping[str, Kind],
        *,
        what: str,
        required: Sequence[str] = (),
    ) -> dict[str, Any]:
        """The keys of the table ``value`` read by ``keys``, refusing unknown and missing
        ones. Keys are read in the order of the file, so the first error is reported."""
        if not isinstance(value, dict):
            raise self.wrong(path, value, _Wrong("a table"))
        for key in value:
            if key not in keys:
                hint = (
                    _did_you_mean(key, keys)
                    or _HINTS.get(key)
                    or f"{what} has the keys {', '.join(keys)}"
                )
                if path and key == "earn":  # "earn = false" below a table header
                    hint = f"{key} goes at the top of the file, before the first table"
                problem = f"unknown key {_quote(key)} in {what} (hint: {hint})"
                raise self.error((*path, key), problem, at_key=True)
        for key in required:
            if key not in value:
                raise self.missing(path, key, required, what)
        return {key: self.read(keys[key], item, (*path, key)) for key, item in value.items()}

    def read(self, kind: Kind, value: Any, path: KeyPath) -> Any:
        try:
            return kind(self, value, path)
        except _Wrong as error:
            raise self.wrong(path, value, error) from None
        except InvalidInput as error:
            raise self.invalid(path[:-1], error, [str(path[-1])]) from None

    def build(
        self,
        cls: Callable[..., Any],
        path: KeyPath,
        fields: Mapping[str, Any],
        renamed: Mapping[str, str] | None = None,
    ) -> Any:
        """``cls`` made of ``fields``, read by key (``renamed`` maps keys to fields)."""
        named = {(renamed or {}).get(key, key): item for key, item in fields.items()}
        try:
            return cls(**named)
        except InvalidInput as error:
            raise self.invalid(path, error, fields, renamed) from None

    def make(self, shape: _Shape, value: Any, path: KeyPath, *, what: str) -> Any:
        """The value of ``shape`` written as the table ``value``."""
        fields = self.fields_of(shape, value, path, what=what)
        return self.build(shape.cls, path, fields, shape.renamed)

    def array(self, value: Any, path: KeyPath, *, what: str) -> list[tuple[KeyPath, Any]]:
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            raise self.wrong(path, value, _Wrong(f"an array of tables ({what})"))
        return [((*path, index), item) for index, item in enumerate(value)]

    def named(
        self,
        value: Any,
        path: KeyPath,
        shape: _Shape,
        *,
        what: str,
        each: str,
        key: str = "name",
        as_written: bool = False,
    ) -> list[Any]:
        """An array of tables of ``shape`` (``what``, each ``each``), with unique names (or
        other ``key``); ``as_written``: each made by :meth:`part`, else :meth:`make`."""
        make = self.part if as_written else self.make
        made: list[Any] = []
        for where, item in self.array(value, path, what=what):
            thing = make(shape, item, where, what=each)
            names = [getattr(other, key) for other in made]
            name = getattr(thing, key)
            if name in names:
                raise self.duplicate((*path, names.index(name)), where, name, key)
            made.append(thing)
        return made

    # -- the parts of a program ------------------------------------------------------------

    def settings(self, value: Any, path: KeyPath) -> dict[str, Any]:
        return self.table(value, path, _PROGRAM_KEYS, what="[program]")

    def program(self, data: dict[str, Any]) -> Program:
        top = self.table(data, (), _TOP_KEYS, what="a rule file")
        settings = top.get("program", {})
        earn = top.get("earn", PointsPerSpend())
        groups: list[Group] = top.get("groups", [])
        names = {group.name for group in groups}
        rules: list[tuple[KeyPath, Rule]] = top.get("rules", [])
        cards: list[PunchCard] = top.get("cards", [])
        tiers: TierLadder | None = top.get("tiers")
        messaging: MessagingPolicy = top.get("messaging", MessagingPolicy())
        taken = _names_taken(earn, cards, tiers)
        seen: dict[str, KeyPath] = {}
        for path, rule in rules:
            if rule.name in seen:
                raise self.duplicate(seen[rule.name], path, rule.name)
            if rule.name in taken:
                raise self.error((*path, "name"), taken[rule.name])
            seen[rule.name] = path
            if rule.group is not None and rule.group not in names:
                hint = _did_you_mean(rule.group, sorted(names)) or "add it under [[groups]]"
                problem = f"there is no group {_quote(rule.group)} (hint: {hint})"
                raise self.error((*path, "group"), problem)
            self.counted_money(path, rule, settings.get("currency", _CURRENCY))
            for index, effect in enumerate(rule.then):
                if isinstance(effect, Message):
                    where = (*path, "then", index, "template")
                    self.template_exists(
                        where, effect.template, effect.channel, messaging.templates
                    )
        self.paid_money(top, settings.get("currency", _CURRENCY))
        recovery: RecoveryPolicy | None = top.get("recovery")
        for where, send in _recovery_sends(recovery):
            self.template_exists(
                (*where, "template"), send.template, send.channel, messaging.templates
            )
        asked = _bond_templates(top.get("social"), top.get("customization"), top.get("structure"))
        for where, name, channel in asked:
            self.template_exists((*where, "template"), name, channel, messaging.templates)
        fields = {
            **settings,
            "points": top.get("points", PointsPolicy()),
            "earn": earn,
            "groups": groups,
            "rules": [rule for _, rule in rules],
            "cards": cards,
            "tiers": tiers,
            "catalog": top.get("rewards", []),
            "achievements": top.get("achievements", []),
            "coupons": top.get("coupons", []),
            "referrals": top.get("referrals"),
            "messaging": messaging,
            "recovery": recovery,
            "social": top.get("social"),
            "customization": top.get("customization"),
            "structure": top.get("structure"),
        }
        try:
            return Program(**fields)
        except InvalidInput as error:
            raise self.program_error(error, settings) from None

    def program_error(self, error: InvalidInput, settings: Iterable[str]) -> RuleFileError:
        """What the Program refused, named in the file: a template with a placeholder its
        message is never given (``templates.<name>.<channel>.<part>``) at its text under
        ``[messaging.templates]`` (the key, when it is a default template the file does
        not write), anything else at the ``[program]`` key it came from."""
        if error.field.startswith("templates."):
            # templates.<name>.<channel>.<part>: a name may hold dots, a channel and a
            # part do not
            parts = error.field.removeprefix("templates.").rsplit(".", 2)
            if len(parts) == 3:
                problem = f"must be {error.expected}; got {_written(error.value)}"
                return self.error(("messaging", "templates", *parts), problem)
        return self.invalid(("program",), error, settings)

    def points(self, value: Any, path: KeyPath) -> PointsPolicy:
        fields = self.table(value, path, _POINTS_KEYS, what="[points]")
        if "expire_at_end_of" in fields and "expire_after" not in fields:
            problem = "points that never expire cannot expire at the end of a period"
            hint = "add expire_after, or leave expire_at_end_of out"
            raise self.error((*path, "expire_at_end_of"), f"{problem} (hint: {hint})")
        policy: PointsPolicy = self.build(PointsPolicy, path, fields)
        return policy

    def earn(self, value: Any, path: KeyPath) -> PointsPerSpend | None:
        if value is False:
            return None
        if not isinstance(value, dict):
            raise _Wrong("a table (points, per, sku, tag), or false to leave the base rule out")
        earn: PointsPerSpend = self.make(
            _EFFECT_TYPES["points_per_spend"], value, path, what="[earn]"
        )
        return earn

    def groups(self, value: Any, path: KeyPath) -> list[Group]:
        return self.named(value, path, _GROUP, what="[[groups]]", each="a group")

    def rules(self, value: Any, path: KeyPath) -> list[tuple[KeyPath, Rule]]:
        return [
            (where, self.rule(item, where))
            for where, item in self.array(value, path, what="[[rules]]")
        ]

    def rule(self, value: Any, path: KeyPath) -> Rule:
        fields = self.table(value, path, _RULE_KEYS, what="a rule", required=_RULE_REQUIRED)
        try:
            return Rule(**fields)
        except InvalidInput as error:
            raise self.refused_rule(path, error, fields) from None

    def refused_rule(
        self, path: KeyPath, error: InvalidInput, fields: Mapping[str, Any]
    ) -> RuleFileError:
        """The error for a rule the Rule class refused: a budget on a rule that gives none
        of what it counts (points, or money) is placed at the budget, with a hint; anything
        else at its key."""
        limits = fields.get("limits", ())
        budgets = [index for index, limit in enumerate(limits) if isinstance(limit, Budget)]
        if error.field != "limits" or error.value != "Budget" or not budgets:
            return self.invalid(path, error, fields)
        if limits[budgets[0]].money is not None:
            problem = (
                "a money budget counts the money the rule gives, and this rule gives none "
                "(hint: give money in then, with cashback or a gift whose offer has a value, "
                "or leave the budget out)"
            )
            return self.error((*path, "limits", budgets[0], "money_budget"), problem)
        hint = (
            "give points in then, with points_per_spend, points_per_item or fixed_points, or "
            "leave the budget out"
        )
        if any(gives_money(effect) for effect in fields.get("then", ())):
            hint = 'it gives money: a budget of money is written { money_budget = "500.00" }'
        problem = (
            f"a budget counts the points the rule gives, and this rule gives none (hint: {hint})"
        )
        return self.error((*path, "limits", budgets[0], "budget"), problem)

    def counted_money(self, path: KeyPath, rule: Rule, currency: str) -> None:
        """Refuse a rule with a money budget of more decimal places than ``currency``
        has: the budget counts in its minor units, exactly."""
        uncounted = uncounted_money(rule, currency)
        if uncounted is not None:
            index, amount = uncounted
            raise self.error((*path, "limits", index, "money_budget"), _unpaid(amount, currency))

    def paid_money(self, top: Mapping[str, Any], currency: str) -> None:
        """Refuse a voucher's value or a fixed discount of more decimal places than
        ``currency`` has, at its key."""
        rules: list[tuple[KeyPath, Rule]] = top.get("rules", [])
        unpaid = unpayable(
            currency,
            rules=[rule for _, rule in rules],
            cards=top.get("cards", []),
            catalog=top.get("rewards", []),
            achievements=top.get("achievements", []),
            coupons=top.get("coupons", []),
            referrals=top.get("referrals"),
        )
        if unpaid is None:
            return
        place, amount = unpaid
        if place[0] == "rules":
            assert isinstance(place[1], int)
            place = (*rules[place[1]][0], *place[2:])
        elif place[0] == "catalog":
            place = ("rewards", *place[1:])
        raise self.error(place, _unpaid(amount, currency))

    def on(self, value: Any, path: KeyPath) -> list[str]:
        names = _events(value)
        check = _choice(EVENT_NAMES)
        for index, name in enumerate(names):
            where = path if isinstance(value, str) else (*path, index)
            try:
                check(name)
            except _Wrong as error:
                raise self.wrong(where, name, error) from None
        return names

    def when(self, value: Any, path: KeyPath) -> Condition:
        text = _text(value)
        try:
            return parse_condition(text)
        except RuleSyntaxError as error:
            problem = error.problem + (f" (hint: {error.hint})" if error.hint else "")
            raise self.in_string(path, error.offset, problem) from None

    def then(self, value: Any, path: KeyPath) -> list[RuleEffect]:
        items = self.array(value, path, what='effects such as { type = "multiplier", ... }')
        if not items:
            raise _Wrong('at least one effect, such as [{ type = "fixed_points", points = 10 }]')
        return [self.effect(item, where) for where, item in items]

    def effect(self, value: dict[str, Any], path: KeyPath) -> RuleEffect:
        if "type" not in value:
            problem = f"missing: an effect needs a type, one of {', '.join(_EFFECT_TYPES)}"
            raise self.error((*path, "type"), problem)
        name = value["type"]
        kind = _EFFECT_TYPES.get(name) if isinstance(name, str) else None
        if kind is None:
            hint = _did_you_mean(name, _EFFECT_TYPES) if isinstance(name, str) else None
            expected = f"an effect type, one of {', '.join(_EFFECT_TYPES)}"
            raise self.wrong((*path, "type"), name, _Wrong(expected, hint))
        rest = {key: item for key, item in value.items() if key != "type"}
        effect: RuleEffect = self.make(kind, rest, path, what=f"a {name} effect")
        return effect

    def limits(self, value: Any, path: KeyPath) -> list[Limit | Budget | FirstCustomers]:
        limits: list[Limit | Budget | FirstCustomers] = []
        once: dict[str, KeyPath] = {}  # budget and first_customers: where the first one is
        for where, item in self.array(value, path, what=_LIMITS):
            fields = self.table(item, where, _LIMIT_KEYS, what="a limit")
            kinds = list(dict.fromkeys(_LIMIT_KIND_OF_KEY[key] for key in fields))
            if not kinds:
                raise self.error(where, f"missing: a limit is {_LIMITS}")
            name = kinds[0]
            if len(kinds) > 1:
                other = next(key for key in fields if _LIMIT_KIND_OF_KEY[key] == kinds[1])
                hint = f"a limit is {_LIMITS}: write each as a table of its own"
                if {name, other} == {"budget", "money_budget"}:
                    hint = "a budget is in points or in money, not both: keep one of them"
                problem = f"{other} cannot go with {name} in one limit (hint: {hint})"
                raise self.error((*where, other), problem, at_key=True)
            shape = _LIMIT_TYPES[name]
            required = shape.required()
            for key in required:
                if key not in fields:
                    raise self.missing(where, key, required, "a limit")
            kind = _ONCE_KIND.get(name)
            if kind is not None and kind in once:
                first = _key_text(once[kind])
                problem = f"a rule has at most one {_ONCE[kind]}, and {first} is one already"
                raise self.error((*where, name), problem)
            if kind is not None:
                once[kind] = where
            limits.append(self.build(shape.cls, where, fields, shape.renamed))
        return limits

    def window(self, value: Any, path: KeyPath) -> Window:
        fields = self.table(value, path, _WINDOW_KEYS, what="a window")
        if not fields.keys() & {"starts", "ends", "recurrence"}:
            raise self.error(path, "missing: a window needs starts, ends or recurrence")
        window: Window = self.build(Window, path, fields)
        return window

    def offer(self, value: Any, path: KeyPath) -> VoucherOffer:
        if not isinstance(value, dict):
            raise _Wrong(f"an offer, such as {_AN_OFFER}")
        fields = self.table(value, path, _OFFER.keys, what="an offer", required=("name",))
        if "sku" not in fields and "value" not in fields:
            problem = (
                "missing: an offer needs sku, value or both (a free item, money off, or a "
                f"free item worth at most value), such as {_AN_OFFER}"
            )
            raise self.error(path, problem)
        offer: VoucherOffer = self.build(VoucherOffer, path, fields)
        return offer

    def cards(self, value: Any, path: KeyPath) -> list[PunchCard]:
        return self.named(value, path, _CARD, what="[[cards]]", each="a card")

    def tiers(self, value: Any, path: KeyPath) -> TierLadder:
        ladder: TierLadder = self.make(_LADDER, value, path, what="[tiers]")
        # The ladder makes a rule for each level with a multiplier, whose condition is the
        # level's name quoted as text: a name that the quoting gets wrong (a line break)
        # would fail when the program is made, and so not as a RuleFileError.
        for index, level in enumerate(ladder.levels):
            if level.multiplier is not None:
                try:
                    TierLadder(levels=[level]).multiplier_rules()
                except RuleSyntaxError as error:
                    problem = (
                        "the rule that gives this level its multiplier cannot be made of "
                        f"its name ({error.problem}): name the level otherwise"
                    )
                    raise self.error((*path, "levels", index, "name"), problem) from None
        return ladder

    def levels(self, value: Any, path: KeyPath) -> list[Level]:
        levels = self.named(value, path, _LEVEL, what="[[tiers.levels]]", each="a level")
        if not levels:
            raise _Wrong("at least one level: [[tiers.levels]] tables, from the lowest up")
        return levels

    def perks(self, value: Any, path: KeyPath) -> list[str]:
        return self.names(value, path, 'an array of perk names, such as ["free refills"]')

    def names(self, value: Any, path: KeyPath, expected: str) -> list[str]:
        """An array of names (perks, channels): non-empty strings, not padded."""
        if not isinstance(value, list):
            raise _Wrong(expected)
        for index, name in enumerate(value):
            try:
                v.identifier(str(path[-1]), _text(name))
            except _Wrong as error:
                raise self.wrong((*path, index), name, error) from None
            except InvalidInput as error:
                raise self.wrong((*path, index), name, _Wrong(error.expected)) from None
        return value

    def rewards(self, value: Any, path: KeyPath) -> list[Reward]:
        return self.named(value, path, _REWARD, what="[[rewards]]", each="a reward")

    def coupons(self, value: Any, path: KeyPath) -> list[Coupon]:
        for where, item in self.array(value, path, what="[[coupons]]"):
            if not (item.get("points") or "discount" in item):
                problem = "missing: a coupon needs discount or points (what it gives)"
                raise self.error((*where, "discount"), problem)
        return self.named(value, path, _COUPON, what="[[coupons]]", each="a coupon", key="code")

    def discount(self, value: Any, path: KeyPath) -> Discount:
        if not isinstance(value, dict):
            raise _Wrong('a discount, such as { percent = "10" } or { amount = "5.00" }')
        discount: Discount = self.make(_EFFECT_TYPES["discount"], value, path, what="a discount")
        return discount

    def referrals(self, value: Any, path: KeyPath) -> ReferralPolicy:
        policy: ReferralPolicy = self.make(_REFERRALS, value, path, what="[referrals]")
        return policy

    def achievements(self, value: Any, path: KeyPath) -> list[Achievement]:
        for where, item in self.array(value, path, what="[[achievements]]"):
            if isinstance(item, dict) and not (
                item.get("points") or item.keys() & {"gift", "tag"}
            ):
                problem = "missing: an achievement needs points, gift or tag (what it gives)"
                raise self.error((*where, "points"), problem)
        return self.named(
            value, path, _ACHIEVEMENT, what="[[achievements]]", each="an achievement"
        )

    def messaging(self, value: Any, path: KeyPath) -> MessagingPolicy:
        policy: MessagingPolicy = self.make(_MESSAGING, value, path, what="[messaging]")
        sent: list[tuple[KeyPath, Send | Reminder | Greeting | Holiday | ExpiryNotice]] = [
            ((*path, key), getattr(policy, key))
            for key in _OCCASIONS
            if getattr(policy, key) is not None
        ]
        sent += [((*path, "holidays", index), day) for index, day in enumerate(policy.holidays)]
        for where, occasion in sent:
            self.template_exists(
                (*where, "template"), occasion.template, occasion.channel, policy.templates
            )
        return policy

    def template_exists(
        self, path: KeyPath, name: str, channel: str, templates: Templates
    ) -> None:
        """Refuse the template ``name`` (at ``path``) if ``templates`` has none for
        ``channel``."""
        if not templates.has(name, channel):
            raise self.error(path, _no_template(name, channel, templates))

    def occasion(self, key: str, value: Any, path: KeyPath) -> Any:
        """A message sent on its own (``welcome``, ``birthday``, ...), as a table."""
        shape, what, example = _OCCASIONS[key]
        if not isinstance(value, dict):
            hint = None
            if value is True and not shape.required():
                hint = f"an empty table is {what} with every default: {key} = {{}}"
            raise _Wrong(f"{what}, such as {key} = {example}", hint)
        return self.make(shape, value, path, what=what)

    def related(self, value: Any, path: KeyPath) -> dict[str, str]:
        """What to suggest with each sku: a table of texts by sku."""
        if not isinstance(value, dict):
            raise _Wrong(f"a table of the item suggested by sku, such as {_RELATED}")
        for sku, item in value.items():
            self.template_key((*path, sku), sku, "sku")
            try:
                v.identifier("related item", _text(item))
            except _Wrong as error:
                raise self.wrong((*path, sku), item, error) from None
            except InvalidInput as error:
                raise self.wrong((*path, sku), item, _Wrong(error.expected)) from None
        return value

    def holidays(self, value: Any, path: KeyPath) -> list[Holiday]:
        return self.named(value, path, _HOLIDAY, what="[[messaging.holidays]]", each="a holiday")

    def quiet_hours(self, value: Any, path: KeyPath) -> QuietHours:
        if not isinstance(value, dict):
            raise _Wrong(f"quiet hours, such as {_QUIET_HOURS}")
        fields = self.table(
            value, path, _QUIET.keys, what="quiet hours", required=("start", "end")
        )
        if fields["start"] == fields["end"]:
            problem = (
                f"must be a time other than start; got {_show(value['end'])} (hint: quiet "
                "hours run from start to end, such as 21:00 to 08:00)"
            )
            raise self.error((*path, "end"), problem)
        quiet: QuietHours = self.build(QuietHours, path, fields)
        return quiet

    def channels(self, value: Any, path: KeyPath) -> list[str]:
        return self.names(value, path, 'an array of channels, such as ["sms", "push"]')

    def caps(self, value: Any, path: KeyPath) -> list[FrequencyCap]:
        return [
            self.make(_CAP, item, where, what="a frequency cap")
            for where, item in self.array(value, path, what="[[messaging.caps]]")
        ]

    def templates(self, value: Any, path: KeyPath) -> Templates:
        """The templates of the file, by name and channel, over the default ones."""
        if not isinstance(value, dict):
            raise _Wrong("a table of templates by name and channel", _template_hint(path))
        given: dict[str, dict[str, Template]] = {}
        for name, channels in value.items():
            where = (*path, name)
            self.template_key(where, name, "template name")
            if not isinstance(channels, dict):
                expected = _Wrong("a table of templates by channel", _template_hint(where))
                raise self.wrong(where, channels, expected)
            if not channels:
                problem = f"missing: a template for a channel (hint: {_template_hint(where)})"
                raise self.error(where, problem)
            for channel, item in channels.items():
                self.template_key((*where, channel), channel, "channel")
                given.setdefault(name, {})[channel] = self.template(item, (*where, channel))
        return Templates.defaults().override(given)

    def template_key(self, path: KeyPath, name: str, what: str) -> None:
        """Refuse ``name``, a template's name or channel, if it cannot be one."""
        try:
            v.identifier(what, name)
        except InvalidInput as error:
            problem = f"a {what} must be {error.expected}; got {_show(name)}"
            raise self.error(path, problem, at_key=True) from None

    def template(self, value: Any, path: KeyPath) -> Template:
        if not isinstance(value, dict):
            hint = _template_hint(path[:-1]) if path[-1] in _TEMPLATE.keys else None
            raise self.wrong(
                path, value, _Wrong("a template: a table with body and subject", hint)
            )
        try:
            template: Template = self.make(_TEMPLATE, value, path, what="a template")
        except TemplateError as error:
            for part in _TEMPLATE.keys:  # checked in this order: the first part at fault
                text = value.get(part)
                malformed = None if text is None else _malformed_placeholder(text)
                if malformed is not None:
                    raise self.in_string((*path, part), malformed, error.problem) from None
            raise self.error(path, error.problem) from None  # pragma: no cover - found above
        return template

    # -- service recovery ------------------------------------------------------------------

    def recovery(self, value: Any, path: KeyPath) -> RecoveryPolicy:
        policy: RecoveryPolicy = self.make(_RECOVERY, value, path, what="[recovery]")
        return policy

    def targets(self, value: Any, path: KeyPath) -> dict[Severity, Targets]:
        """The targets of each severity: a table of tables, ``[recovery.targets.high]``."""
        if not isinstance(value, dict):
            raise _Wrong(f"a table of targets by severity, such as {_TARGETS_EXAMPLE}")
        targets: dict[Severity, Targets] = {}
        for name, item in value.items():
            if name not in _SEVERITIES:
                hint = _did_you_mean(name, _SEVERITIES) or (
                    f"the severities are {', '.join(_SEVERITIES)}"
                )
                problem = f"unknown severity {_quote(name)} in {_key_text(path)} (hint: {hint})"
                raise self.error((*path, name), problem, at_key=True)
            where = (*path, name)
            if not isinstance(item, dict):
                expected = f"the targets of {name} complaints, such as {_TARGETS_EXAMPLE}"
                raise self.wrong(where, item, _Wrong(expected))
            fields = self.table(
                item,
                where,
                _TARGETS.keys,
                what=f"[{_key_text(where)}]",
                required=_TARGETS.required(),
            )
            if fields["resolve"] < fields["acknowledge"]:
                problem = (
                    f"must be at least acknowledge ({_show(item['acknowledge'])}): a case is "
                    f"acknowledged before it is resolved; got {_show(item['resolve'])}"
                )
                raise self.error((*where, "resolve"), problem)
            targets[Severity(name)] = self.build(Targets, where, fields)
        return targets

    def escalations(self, value: Any, path: KeyPath) -> list[Escalation]:
        steps: list[Escalation] = []
        for where, item in self.array(value, path, what=f"escalations such as {_AN_ESCALATION}"):
            fields = self.table(
                item, where, _ESCALATION.keys, what="an escalation", required=("target",)
            )
            if "notify" not in fields and "raise_to" not in fields:
                problem = (
                    "missing: an escalation needs notify, raise_to or both (a role to give "
                    f"a task, a severity to raise the case to), such as {_AN_ESCALATION}"
                )
                raise self.error((*where, "notify"), problem)
            steps.append(self.build(Escalation, where, fields))
        return steps

    def calendar(self, value: Any, path: KeyPath) -> BusinessCalendar:
        if not isinstance(value, dict):
            raise _Wrong(f"a business calendar, such as {_A_CALENDAR}")
        fields = self.table(
            value,
            path,
            _CALENDAR.keys,
            what="a business calendar",
            required=_CALENDAR.required(),
        )
        try:
            return BusinessCalendar(**fields)
        except InvalidInput as error:
            raise self.refused_calendar(path, error, fields) from None

    def refused_calendar(
        self, path: KeyPath, error: InvalidInput, fields: Mapping[str, Any]
    ) -> RuleFileError:
        """The error for hours the calendar refused, placed at the weekday key or the
        span at fault."""
        hours: dict[str, Any] = fields.get("hours", {})
        if error.field == "hours key" and error.value in hours:
            problem = str(error).removeprefix(f"{error.field} ")
            return self.error((*path, "hours", error.value), problem, at_key=True)
        for day, spans in hours.items():
            if error.field == f"hours[{day!r}]":
                where: KeyPath = (*path, "hours", day)
                if isinstance(spans, list) and error.value in spans:
                    where = (*where, spans.index(error.value))
                return self.error(where, str(error).removeprefix(f"{error.field} "))
        return self.invalid(path, error, fields)

    def hours(self, value: Any, path: KeyPath) -> dict[str, str | list[str]]:
        """Opening hours by weekday: each a span, an array of spans, or "" when closed.
        The calendar checks the weekdays and the spans."""
        if not isinstance(value, dict):
            raise _Wrong(f"a table of opening hours by weekday, such as {_HOURS}")
        for day, spans in value.items():
            if isinstance(spans, list):
                for index, span in enumerate(spans):
                    if not isinstance(span, str):
                        raise self.wrong((*path, day, index), span, _Wrong(_A_SPAN))
            elif not isinstance(spans, str):
                expected = f'{_A_SPAN}, an array of them, or "" when closed'
                raise self.wrong((*path, day), spans, _Wrong(expected))
        return value

    def closed(self, value: Any, path: KeyPath) -> list[date]:
        if not isinstance(value, list):
            raise _Wrong("an array of dates, such as [2026-12-25, 2026-12-26]")
        for index, day in enumerate(value):
            try:
                _date(day)
            except _Wrong as error:
                raise self.wrong((*path, index), day, error) from None
        return value

    def compensation(self, value: Any, path: KeyPath) -> CompensationLadder:
        if not isinstance(value, dict):
            raise _Wrong('a compensation ladder: a table, such as { cap = "50.00" }')
        fields = self.table(value, path, _COMPENSATION.keys, what="a compensation ladder")
        fields.setdefault("rungs", [])  # no rungs: an apology only, held to the cap
        ladder: CompensationLadder = self.build(CompensationLadder, path, fields)
        return ladder

    def rungs(self, value: Any, path: KeyPath) -> list[Rung]:
        return [
            self.make(_RUNG, item, where, what="a rung")
            for where, item in self.array(value, path, what="[[recovery.compensation.rungs]]")
        ]

    def give(self, value: Any, path: KeyPath) -> list[Gesture]:
        gestures = self.gestures(value, path, tuple(_GESTURE_TYPES))
        if not gestures:
            raise _Wrong(f"at least one gesture, such as [{_A_GESTURE}]")
        return gestures

    def goodwill(self, value: Any, path: KeyPath) -> list[Gesture]:
        return self.gestures(value, path, _GOODWILL)

    def gestures(self, value: Any, path: KeyPath, types: Sequence[str]) -> list[Gesture]:
        """An array of gestures of ``types``, each a table whose ``type`` says which."""
        made: list[Gesture] = []
        for where, item in self.array(value, path, what=f"gestures such as {_A_GESTURE}"):
            if "type" not in item:
                problem = f"missing: a gesture needs a type, one of {', '.join(types)}"
                raise self.error((*where, "type"), problem)
            name = item["type"]
            if not isinstance(name, str) or name not in types:
                hint = _did_you_mean(name, types) if isinstance(name, str) else None
                if hint is None and name in _GESTURE_TYPES:
                    hint = "the goodwill of an incident is points or a voucher"
                expected = f"a gesture type, one of {', '.join(types)}"
                raise self.wrong((*where, "type"), name, _Wrong(expected, hint))
            rest = {key: part for key, part in item.items() if key != "type"}
            shape = _GESTURE_TYPES[name]
            if rest and not shape.keys:
                problem = (
                    f"unknown key {_quote(next(iter(rest)))} in an {name} gesture (hint: it "
                    f'has no other key than type: {{ type = "{name}" }})'
                )
                raise self.error((*where, next(iter(rest))), problem, at_key=True)
            made.append(self.make(shape, rest, where, what=f"a {name} gesture"))
        return made

    def send(self, value: Any, path: KeyPath) -> Send:
        """What a survey is sent as: a table with template, channel and kind."""
        if not isinstance(value, dict):
            raise _Wrong('a message, such as { template = "survey", channel = "sms" }')
        send: Send = self.make(_SEND, value, path, what="a message")
        return send

    # -- the social bond -------------------------------------------------------------------

    def social(self, value: Any, path: KeyPath) -> SocialPolicy:
        policy: SocialPolicy = self.make(_SOCIAL, value, path, what="[social]")
        return policy

    def cadence(self, value: Any, path: KeyPath) -> Cadence:
        if not isinstance(value, dict):
            raise _Wrong(f"a cadence, such as {_A_CADENCE}")
        fields = self.table(
            value, path, _CADENCE.keys, what="a cadence", required=_CADENCE.required()
        )
        try:
            return Cadence(**fields)
        except InvalidInput as error:
            # A file's ahead is never negative: Cadence refuses it for not being less than
            # every, which the error says in the file's own words.
            if error.field == "ahead" and "ahead" in value:
                every, ahead = _show(value["every"]), _show(value["ahead"])
                problem = (
                    f"must be less than every ({every}){_at_its_shortest(error)}: a task is "
                    f"opened after the last contact, ahead of when it falls due; got {ahead}"
                )
                raise self.error((*path, "ahead"), problem) from None
            raise self.invalid(path, error, fields) from None

    def calls_after(self, value: Any, path: KeyPath) -> list[CallAfter]:
        return [
            self.make(_CALL_AFTER, item, where, what="a call after an event")
            for where, item in self.array(value, path, what=f"calls such as [{_A_CALL}]")
        ]

    def appreciation(self, value: Any, path: KeyPath) -> list[Milestone]:
        what = "[[social.appreciation]]"
        return self.named(value, path, _MILESTONE, what=what, each="a milestone", as_written=True)

    def reviews(self, value: Any, path: KeyPath) -> KeyReview:
        """Regular reviews with key customers: who is key (tiers, tags or min_spend, one
        at least), and how often."""
        if not isinstance(value, dict):
            raise _Wrong(f"regular reviews, such as {_A_REVIEW}")
        fields = self.fields_of(_KEY_REVIEW, value, path, what="regular reviews")
        if not fields.keys() & {"tiers", "tags", "min_spend"}:
            problem = (
                "missing: regular reviews need tiers, tags or min_spend (who is a key "
                f"customer), such as {_A_REVIEW}"
            )
            raise self.error((*path, "tiers"), problem)
        reviews: KeyReview = self.built(_KEY_REVIEW, fields, value, path)
        return reviews

    # -- the customization bond ------------------------------------------------------------

    def customization(self, value: Any, path: KeyPath) -> CustomizationPolicy:
        if not isinstance(value, dict):
            raise _Wrong("a table, [customization]")
        policy: CustomizationPolicy = self.part(
            _CUSTOMIZATION, value, path, what="[customization]"
        )
        return policy

    def contents(self, value: Any, path: KeyPath) -> list[Content]:
        what = "[[customization.contents]]"
        return self.named(
            value, path, _CONTENT, what=what, each="a content", key="id", as_written=True
        )

    def next_need(self, value: Any, path: KeyPath) -> NextNeedPolicy:
        """Which products' rhythms are followed: every product without skus, else the
        skus and the items with one of tags."""
        if not isinstance(value, dict):
            raise _Wrong(f"a next-need policy, such as {_A_NEXT_NEED}")
        what = "[customization.next_need]"
        fields = self.fields_of(_NEXT_NEED, value, path, what=what)
        if fields.get("tags") and "skus" not in fields:
            problem = (
                f"tags cannot go without skus in {what} (hint: without skus every product "
                "is followed; write skus = [] to follow the tagged items only)"
            )
            raise self.error((*path, "tags"), problem, at_key=True)
        if fields.get("skus") == [] and not fields.get("tags"):
            problem = (
                "must name at least one sku, or go with tags; got an empty array (hint: "
                "leave skus out to follow every product)"
            )
            raise self.error((*path, "skus"), problem)
        policy: NextNeedPolicy = self.built(_NEXT_NEED, fields, value, path)
        return policy

    def skus(self, value: Any, path: KeyPath) -> list[str]:
        return self.names(value, path, 'an array of skus, such as ["cherry-pie"]')

    # -- the structural bond ---------------------------------------------------------------

    def structure(self, value: Any, path: KeyPath) -> StructuralPolicy:
        if not isinstance(value, dict):
            raise _Wrong("a table, [structure]")
        policy: StructuralPolicy = self.part(_STRUCTURE, value, path, what="[structure]")
        return policy

    def plans(self, value: Any, path: KeyPath) -> list[Plan]:
        for where, item in self.array(value, path, what="[[structure.plans]]"):
            if "template" in item and "remind_before" not in item:
                problem = (
                    "template cannot go without remind_before in a plan (hint: the template "
                    'is the reminder\'s: add remind_before, such as "P2D", or leave template '
                    "out)"
                )
                raise self.error((*where, "template"), problem, at_key=True)
        return self.named(
            value, path, _PLAN, what="[[structure.plans]]", each="a plan", as_written=True
        )

    def sequences(self, value: Any, path: KeyPath) -> list[Autoresponder]:
        made: list[Autoresponder] = []
        for where, item in self.array(value, path, what="[[structure.sequences]]"):
            fields = self.fields_of(_SEQUENCE, item, where, what="a sequence")
            if "event_name" in fields and fields["on"] != "CustomEvent":
                problem = (
                    'event_name goes with on = "CustomEvent" only (hint: it names the '
                    "custom event that enters the sequence)"
                )
                raise self.error((*where, "event_name"), problem, at_key=True)
            self.check_leave_on(fields, item, where)
            try:
                sequence = Autoresponder(**fields)
            except InvalidInput as error:
                steps = re.fullmatch(r"steps\[(\d+)\]\.after", error.field)
                if steps is None:
                    raise self.refused(where, error, item) from None
                index = int(steps[1])
                problem = (
                    f"must be no earlier than the step before it "
                    f"({_show(item['steps'][index - 1].get('after', 0))}), on any day; got "
                    f"{_show(item['steps'][index].get('after'))}"
                )
                raise self.error((*where, "steps", index, "after"), problem) from None
            names = [other.name for other in made]
            if sequence.name in names:
                raise self.duplicate((*path, names.index(sequence.name)), where, sequence.name)
            made.append(sequence)
        return made

    def check_leave_on(self, fields: Mapping[str, Any], value: Any, path: KeyPath) -> None:
        """Refuse a sequence that an event both enters and leaves, or that names an event
        to leave on twice."""
        names: list[str] = fields.get("leave_on", [])
        for index, name in enumerate(names):
            alone = isinstance(value["leave_on"], str)
            where: KeyPath = (*path, "leave_on") if alone else (*path, "leave_on", index)
            if name == fields["on"] and "leave_when" not in fields:
                problem = (
                    f"must be an event type other than on ({_quote(name)}): an event that "
                    f"enters the sequence cannot also make the customer leave it, unless a "
                    f"leave_when tells them apart; got {_quote(name)}"
                )
                raise self.error(where, problem)
            if name in names[:index]:
                first = _key_text((*path, "leave_on", names.index(name)))
                raise self.error(where, f"{first} names {_quote(name)} already (name it once)")

    def steps(self, value: Any, path: KeyPath) -> list[SequenceStep]:
        items = self.array(value, path, what=f"steps such as [{_A_STEP}]")
        if not items:
            raise _Wrong(f"at least one step, such as [{_A_STEP}]")
        return [self.part(_STEP, item, where, what="a step") for where, item in items]

    def leave_on(self, value: Any, path: KeyPath) -> list[str]:
        names = [value] if isinstance(value, str) else value
        if not isinstance(names, list):
            raise _Wrong('an event type or an array of them, such as ["Purchase"]')
        check = _choice(SEQUENCE_EVENTS)
        for index, name in enumerate(names):
            where = path if isinstance(value, str) else (*path, index)
            try:
                check(name)
            except _Wrong as error:
                raise self.wrong(where, name, error) from None
        return names

    def words(self, value: Any, path: KeyPath) -> list[str]:
        """An array of non-empty strings (tags, tiers, interests, benefits)."""
        if not isinstance(value, list):
            raise _Wrong('an array of strings, such as ["gluten-free"]')
        for index, word in enumerate(value):
            if not isinstance(word, str) or not word:
                raise self.wrong((*path, index), word, _Wrong("a non-empty string"))
        return value

    # -- the bonds' tables -----------------------------------------------------------------

    def fields_of(self, shape: _Shape, value: Any, path: KeyPath, *, what: str) -> dict[str, Any]:
        """The keys of the table ``value`` of ``shape``, read; missing required ones and
        more or fewer than one of ``one_of`` refused."""
        fields = self.table(value, path, shape.keys, what=what, required=shape.required())
        given = [key for key in shape.one_of if key in fields]
        if shape.one_of and not given:
            either = " or ".join(shape.one_of)
            raise self.error((*path, shape.one_of[0]), f"missing: {what} needs {either}")
        if len(given) > 1:
            problem = f"{given[1]} cannot go with {given[0]} in {what} (hint: give one of them)"
            raise self.error((*path, given[1]), problem, at_key=True)
        return fields

    def built(self, shape: _Shape, fields: dict[str, Any], value: Any, path: KeyPath) -> Any:
        """``shape``'s class made of ``fields``, read from the table ``value``."""
        try:
            return shape.cls(**{shape.field(key): item for key, item in fields.items()})
        except InvalidInput as error:
            raise self.refused(path, error, value, shape) from None

    def part(self, shape: _Shape, value: Any, path: KeyPath, *, what: str) -> Any:
        """The value of ``shape`` written as the table ``value`` (like :meth:`make`, but a
        value its class refuses is shown as the file writes it)."""
        return self.built(shape, self.fields_of(shape, value, path, what=what), value, path)

    def refused(
        self,
        path: KeyPath,
        error: InvalidInput,
        value: Mapping[str, Any],
        shape: _Shape | None = None,
    ) -> RuleFileError:
        """The error for a value a class refused, at the key it came from, with the value
        as the file writes it; an ahead of a cadence-like table that is not less than its
        every, and a reminder not sooner than the end of a cart's window, in the file's
        own words."""
        key_of = {key if shape is None else shape.field(key): key for key in value}
        key = key_of.get(error.field)
        if key is None:
            return self.invalid(path, error, value)
        if key == "ahead" and "every" in value:
            every, ahead = _show(value["every"]), _show(value["ahead"])
            problem = (
                f"must be less than every ({every}){_at_its_shortest(error)}: a task is "
                f"opened ahead of when it falls due; got {ahead}"
            )
            return self.error((*path, key), problem)
        if key == "remind_cart_before":
            window = _show(value.get("cart_window", "P90D"))
            problem = (
                f"must be a positive duration less than cart_window ({window}): the reminder "
                f"comes before the cart is dropped; got {_show(value[key])}"
            )
            return self.error((*path, key), problem)
        return self.error((*path, key), f"must be {error.expected}; got {_show(value[key])}")


def _names_taken(
    earn: PointsPerSpend | None, cards: Sequence[PunchCard], tiers: TierLadder | None
) -> dict[str, str]:
    """The names of the rules a program makes of its other parts, and why a rule of the
    file cannot have them."""
    taken: dict[str, str] = {}
    if earn is not None:
        taken[BASE_RULE] = (
            f"{_quote(BASE_RULE)} is the name of the base rule, [earn]: name this rule "
            "otherwise, or write earn = false to leave the base rule out"
        )
    for index, card in enumerate(cards):
        name = card.rule().name
        taken[name] = (
            f"{_quote(name)} is the name of the rule that stamps the card cards[{index}]: "
            "name this rule otherwise"
        )
    if tiers is not None:
        multiplied = [
            index for index, level in enumerate(tiers.levels) if level.multiplier is not None
        ]
        for index, rule in zip(multiplied, tiers.multiplier_rules(), strict=True):
            taken[rule.name] = (
                f"{_quote(rule.name)} is the name of the rule that gives the level "
                f"tiers.levels[{index}] its multiplier: name this rule otherwise"
            )
    return taken


def _recovery_sends(policy: RecoveryPolicy | None) -> list[tuple[KeyPath, Send]]:
    """The messages ``policy`` sends, by where a rule file writes them."""
    if policy is None:
        return []
    sends = [
        (("recovery", "apology"), policy.apology),
        (("recovery", "survey", "send"), None if policy.survey is None else policy.survey.send),
        (("recovery", "incident_notice"), policy.incident_notice),
    ]
    return [(where, send) for where, send in sends if send is not None]


def _bond_templates(
    social: SocialPolicy | None,
    custom: CustomizationPolicy | None,
    structure: StructuralPolicy | None,
) -> list[tuple[KeyPath, str, str]]:
    """The templates the bonds ask for, as the Program checks them: (where a rule file
    writes them, template, channel)."""
    asked: list[tuple[KeyPath, str, str]] = []
    if social is not None:
        invitation = social.invitation
        asked.append((("social", "invitation"), invitation.template, invitation.channel))
    if custom is not None:
        need, cart = custom.need_reminder, custom.cart_reminder
        if custom.next_need is not None and need is not None:
            asked.append((("customization", "need_reminder"), need.template, need.channel))
        if custom.remind_cart_before is not None and cart is not None:
            asked.append((("customization", "cart_reminder"), cart.template, cart.channel))
    if structure is not None:
        asked += [
            (("structure", "plans", index), plan.template, "email")
            for index, plan in enumerate(structure.plans)
            if plan.template is not None
        ]
        asked += [
            (("structure", "sequences", index, "steps", number), step.template, "email")
            for index, sequence in enumerate(structure.sequences)
            for number, step in enumerate(sequence.steps)
        ]
    return asked


def _template_hint(path: KeyPath) -> str:
    """How a template is written, below the name (``path``) or the templates' table."""
    if len(path) < 3:  # messaging.templates
        path = (*path, "welcome")
    email = _key_text((*path, "email"))
    anything = _key_text((*path, ANY_CHANNEL))
    return (
        f"a template is a table below its name and channel, such as [{email}], or "
        f"[{anything}] for any channel"
    )


def _no_template(name: str, channel: str, templates: Templates) -> str:
    """Why ``templates`` cannot write the message ``name`` on ``channel``, and how to add
    the template."""
    add = f"add it under [{_key_text(('messaging', 'templates', name, channel))}]"
    channels = templates.templates.get(name)
    if channels:
        others = ", ".join(map(_quote, sorted(channels)))
        anything = _key_text(("messaging", "templates", name, ANY_CHANNEL))
        return (
            f"the template {_quote(name)} has no text for the channel {_quote(channel)}, only "
            f"for {others} (hint: {add}, or under [{anything}] for any channel)"
        )
    known = sorted(other for other in templates.names if templates.has(other, channel))
    close = _did_you_mean(name, known)
    hint = f"{close} or {add}" if close else add
    return f"there is no template {_quote(name)} for the channel {_quote(channel)} (hint: {hint})"


def _malformed_placeholder(text: str) -> int | None:
    """Where in ``text`` the first ``$`` that starts no placeholder is (the one a
    :class:`Template` refuses), or None."""
    for found in string.Template.pattern.finditer(text):
        if found.group("invalid") is not None:
            return found.start()
    return None


# -- what each table holds -----------------------------------------------------------------

_TOP_KEYS: dict[str, Kind] = {
    "program": _Reader.settings,
    "points": _Reader.points,
    "earn": _Reader.earn,
    "groups": _Reader.groups,
    "rules": _Reader.rules,
    "cards": _Reader.cards,
    "tiers": _Reader.tiers,
    "rewards": _Reader.rewards,
    "achievements": _Reader.achievements,
    "coupons": _Reader.coupons,
    "referrals": _Reader.referrals,
    "messaging": _Reader.messaging,
    "recovery": _Reader.recovery,
    "social": _Reader.social,
    "customization": _Reader.customization,
    "structure": _Reader.structure,
}
# Hints for unknown keys that are names from Python, or that belong in another table.
_HINTS = {
    "catalog": "the rewards of the catalog are written as [[rewards]] tables",
    "quiet_hours": "quiet_hours goes in the [messaging] table",
    "caps": "frequency caps are written as [[messaging.caps]] tables",
    "templates": "templates are written as [messaging.templates.<name>.<channel>] tables",
    "holidays": "holidays are written as [[messaging.holidays]] tables",
    # The keys of [messaging], at the top of a file or in another table.
    **{
        key: f"{key} goes in the [messaging] table"
        for key in (
            "welcome",
            "thank_you",
            "related",
            "appointment_reminder",
            "birthday",
            "points_expiring",
        )
    },
    # The keys of [recovery], at the top of a file or in another table.
    **{
        key: f"{key} goes in the [recovery] table, as [recovery.{key}]"
        for key in ("targets", "calendar", "compensation", "follow_up", "survey", "detractors")
    },
    **{
        key: f"{key} goes in the [recovery] table"
        for key in ("apology", "apologize_when", "incident_notice", "incident_goodwill")
    },
    "rungs": "rungs are written as [[recovery.compensation.rungs]] tables",
    "escalations": "escalations go in the targets of a severity, [recovery.targets.<severity>]",
    # The keys of [social], at the top of a file or in another table.
    "cadence": "cadence goes in the [social] table, as [social.cadence]",
    **{
        key: f"{key} goes in the [social] table"
        for key in ("default_owner", "call_after", "invitation")
    },
    **{
        key: f"{key} goes in the [social] table, as [social.{key}]"
        for key in ("occasions", "reviews")
    },
    "appreciation": "milestones are written as [[social.appreciation]] tables",
    # The keys of [customization] and [structure], at the top of a file or elsewhere.
    "contents": "contents are written as [[customization.contents]] tables",
    "next_need": "next_need goes in the [customization] table, as [customization.next_need]",
    **{
        key: f"{key} goes in the [customization] table"
        for key in ("need_reminder", "cart_window", "cart_reminder", "remind_cart_before")
    },
    "plans": "plans are written as [[structure.plans]] tables",
    "sequences": "sequences are written as [[structure.sequences]] tables",
    "steps": "steps go in a sequence, [[structure.sequences]]",
}
# The currency of a file without one: the Program's own default.
_CURRENCY = str(attrs.fields(Program).currency.default)
_PROGRAM_KEYS: dict[str, Kind] = {
    "currency": _plain(_currency),
    "time_zone": _plain(_time_zone),
    "multipliers": _plain(_choice(MULTIPLIER_MODES)),
}
_POINTS_KEYS: dict[str, Kind] = {
    "pending_for": _DURATION,
    "expire_after": _DURATION,
    "expire_at_end_of": _plain(_choice(("day", "month", "year"))),
    "allow_negative": _BOOL,
}
_GROUP = _Shape(Group, {"name": _TEXT, "take": _plain(_choice(TAKES))})
_RULE_KEYS: dict[str, Kind] = {
    "name": _TEXT,
    "on": _Reader.on,
    "when": _Reader.when,
    "then": _Reader.then,
    "priority": _INT,
    "exclusive": _BOOL,
    "group": _TEXT,
    "description": _TEXT,
    "limits": _Reader.limits,
    "window": _Reader.window,
}
_RULE_REQUIRED = ("name", "on", "then")
_WINDOW_KEYS: dict[str, Kind] = {
    "starts": _DATETIME,
    "ends": _DATETIME,
    "recurrence": _TEXT,
    "lasting": _DURATION,
}

# Every effect a rule file can name, by its `type`. A new kind of effect is added here, and
# nowhere else: reading and writing both go by this table.
_EFFECT_TYPES: dict[str, _Shape] = {
    "points_per_spend": _Shape(
        PointsPerSpend, {"points": _INT, "per": _DECIMAL, "sku": _TEXT, "tag": _TEXT}
    ),
    "points_per_item": _Shape(PointsPerItem, {"points": _INT, "sku": _TEXT, "tag": _TEXT}),
    "fixed_points": _Shape(FixedPoints, {"points": _INT}),
    "multiplier": _Shape(Multiplier, {"factor": _DECIMAL}),
    "stamps": _Shape(Stamps, {"card": _TEXT, "count": _INT, "sku": _TEXT, "tag": _TEXT}),
    "tier": _Shape(Tier, {"tier": _TEXT, "only_up": _BOOL}),
    "tag": _Shape(Tag, {"tag": _TEXT}),
    "message": _Shape(Message, {"template": _TEXT, "channel": _TEXT, "kind": _TEXT}),
    "gift": _Shape(Gift, {"offer": _Reader.offer}),
    "discount": _Shape(
        Discount,
        {"percent": _DECIMAL, "amount": _DECIMAL, "sku": _TEXT, "tag": _TEXT},
        one_of=("percent", "amount"),
    ),
    "cashback": _Shape(
        Cashback, {"percent": _DECIMAL, "sku": _TEXT, "tag": _TEXT, "valid_for": _DURATION}
    ),
}
_TYPE_OF = {kind.cls: name for name, kind in _EFFECT_TYPES.items()}

# Every kind of limit, by the key that says which kind a limit table is: a limit is
# { times = N, per = ... }, { budget = N } (points), { money_budget = "500.00" } or
# { first_customers = N }. Both budgets are a Budget: dump_program picks the shape by the
# field the budget has.
_LIMIT_TYPES: dict[str, _Shape] = {
    "times": _Shape(Limit, {"times": _INT, "per": _plain(_period)}),
    "budget": _Shape(Budget, {"budget": _INT}, {"budget": "points"}),
    "money_budget": _Shape(Budget, {"money_budget": _DECIMAL}, {"money_budget": "money"}),
    "first_customers": _Shape(
        FirstCustomers, {"first_customers": _INT}, {"first_customers": "count"}
    ),
}
_LIMIT_KIND_OF_KEY = {key: name for name, shape in _LIMIT_TYPES.items() for key in shape.keys}
_LIMIT_KEYS: dict[str, Kind] = {
    key: kind for shape in _LIMIT_TYPES.values() for key, kind in shape.keys.items()
}
_LIMITS = (
    '{ times = N, per = ... }, { budget = N }, { money_budget = "500.00" } or '
    "{ first_customers = N }"
)
# The kinds of limit a rule has at most one of, by the key of each; and their names.
_ONCE_KIND = {"budget": "budget", "money_budget": "budget", "first_customers": "first_customers"}
_ONCE = {"budget": "budget", "first_customers": "first_customers limit"}

_AN_OFFER = '{ name = "free coffee", sku = "latte" }'
_OFFER = _Shape(
    VoucherOffer, {"name": _TEXT, "sku": _TEXT, "value": _DECIMAL, "valid_for": _DURATION}
)
_CARD = _Shape(
    PunchCard,
    {
        "name": _TEXT,
        "stamps": _INT,
        "reward": _Reader.offer,
        "sku": _TEXT,
        "tag": _TEXT,
        "on": _plain(_choice(("Purchase", "Visit"))),
        "expire_after": _DURATION,
    },
)
_LEVEL = _Shape(
    Level,
    {
        "name": _TEXT,
        "spend": _DECIMAL,
        "points": _INT,
        "visits": _INT,
        "multiplier": _plain(_factor),
        "perks": _Reader.perks,
    },
)
_LADDER = _Shape(
    TierLadder,
    {
        "levels": _Reader.levels,
        "window": _DURATION,
        "keep_for": _DURATION,
        "grace": _DURATION,
        "notice": _DURATION,
    },
)
_REWARD = _Shape(
    Reward,
    {
        "name": _TEXT,
        "points": _INT,
        "offer": _Reader.offer,
        "stock": _INT,
        "per_customer": _INT,
    },
)
_ACHIEVEMENT = _Shape(
    Achievement,
    {
        "name": _TEXT,
        "target": _plain(_target),
        "counts": _plain(_choice(achievements.COUNTS)),
        "per": _plain(_choice(achievements.PERIODS)),
        "points": _INT,
        "gift": _Reader.offer,
        "tag": _TEXT,
    },
)
_COUPON = _Shape(
    Coupon,
    {
        "code": _TEXT,
        "discount": _Reader.discount,
        "points": _INT,
        "starts": _DATETIME,
        "ends": _DATETIME,
        "uses": _INT,
        "per_customer": _plain(_count_or_false),
    },
    false_for_none=frozenset({"per_customer"}),
)
_REFERRALS = _Shape(
    ReferralPolicy,
    {
        "referrer_points": _INT,
        "referee_points": _INT,
        "referrer_gift": _Reader.offer,
        "referee_gift": _Reader.offer,
        "when": _Reader.when,
    },
)
_QUIET_HOURS = '{ start = "21:00", end = "08:00" }'
_QUIET = _Shape(
    QuietHours, {"start": _plain(_time), "end": _plain(_time), "channels": _Reader.channels}
)
_CAP = _Shape(
    FrequencyCap,
    {"limit": _INT, "per": _DURATION, "kind": _plain(_cap_kind), "channel": _TEXT},
)
_TEMPLATE = _Shape(Template, {"body": _TEXT, "subject": _plain(_subject)})
# What a message sent on its own is sent as: the keys every occasion has.
_SENT_AS: dict[str, Kind] = {"template": _TEXT, "channel": _TEXT, "kind": _MESSAGE_KIND}
_SEND = _Shape(Send, _SENT_AS)
_REMINDER = _Shape(Reminder, {"before": _EXACT, **_SENT_AS})
_GREETING = _Shape(Greeting, {**_SENT_AS, "at": _TIME, "late_by": _EXACT})
_HOLIDAY = _Shape(Holiday, {"name": _TEXT, "recurrence": _TEXT, **_SENT_AS, "at": _TIME})
_EXPIRY_NOTICE = _Shape(ExpiryNotice, {"within": _DURATION, **_SENT_AS})
# The messages the policy sends on its own, one of each at most (holidays aside), by key:
# how each is written, how errors name it, and an example of it.
_OCCASIONS: dict[str, tuple[_Shape, str, str]] = {
    "welcome": (_SEND, "a welcome message", '{ template = "welcome" }'),
    "thank_you": (_SEND, "a thank-you message", '{ template = "thank_you" }'),
    "appointment_reminder": (_REMINDER, "an appointment reminder", '{ before = "PT24H" }'),
    "birthday": (_GREETING, "a birthday greeting", '{ at = "09:00" }'),
    "points_expiring": (_EXPIRY_NOTICE, "a notice of expiring points", '{ within = "30 days" }'),
}
_RELATED = '{ latte = "almond croissant" }'


def _occasion(key: str) -> Kind:
    def read(reader: _Reader, value: Any, path: KeyPath) -> Any:
        return reader.occasion(key, value, path)

    return read


_MESSAGING = _Shape(
    MessagingPolicy,
    {
        "templates": _Reader.templates,
        "quiet_hours": _Reader.quiet_hours,
        "caps": _Reader.caps,
        "welcome": _occasion("welcome"),
        "thank_you": _occasion("thank_you"),
        "related": _Reader.related,
        "appointment_reminder": _occasion("appointment_reminder"),
        "birthday": _occasion("birthday"),
        "holidays": _Reader.holidays,
        "points_expiring": _occasion("points_expiring"),
    },
)

# -- service recovery ----------------------------------------------------------------------

_SEVERITIES = tuple(level.value for level in Severity)
_SEVERITY = _plain(_choice(_SEVERITIES))
_TARGETS_EXAMPLE = '[recovery.targets.high] with acknowledge = "PT4H" and resolve = "P1D"'
_AN_ESCALATION = '{ target = "acknowledge", notify = "duty manager" }'
_A_CALENDAR = '{ time_zone = "Europe/London", hours = { MO-FR = "09:00-17:30" } }'
_HOURS = '{ MO-FR = "09:00-17:30", SA = ["10:00-12:00", "13:00-16:00"] }'
_A_SPAN = 'a span of local time, such as "09:00-17:30"'
_A_GESTURE = '{ type = "points", points = 100 }'

# Every gesture a rung can give, by its `type`; reading and writing both go by this table.
_GESTURE_TYPES: dict[str, _Shape] = {
    "apology": _Shape(Apology, {}),
    "points": _Shape(GoodwillPoints, {"points": _INT}),
    "voucher": _Shape(GoodwillVoucher, {"value": _DECIMAL, "valid_for": _DURATION}),
    "refund": _Shape(Refund, {"share": _DECIMAL, "cap": _DECIMAL}),
}
_GESTURE_OF = {shape.cls: name for name, shape in _GESTURE_TYPES.items()}
# What an incident may give each customer it affects: there is no order to refund.
_GOODWILL = ("points", "voucher")
_ESCALATION = _Shape(
    Escalation,
    {
        "target": _plain(_choice(("acknowledge", "resolve"))),
        "after": _plain(_exact_after),
        "notify": _TEXT,
        "raise_to": _SEVERITY,
    },
)
_TARGETS = _Shape(
    Targets, {"acknowledge": _EXACT, "resolve": _EXACT, "escalations": _Reader.escalations}
)
_CALENDAR = _Shape(
    BusinessCalendar,
    {"time_zone": _plain(_time_zone), "hours": _Reader.hours, "closed": _Reader.closed},
)
_RUNG = _Shape(
    Rung,
    {
        "give": _Reader.give,
        "severity": _SEVERITY,
        "spent_at_least": _DECIMAL,
        "complaints_at_least": _INT,
        "complaints_at_most": _INT,
    },
)
_COMPENSATION = _Shape(
    CompensationLadder,
    {
        "rungs": _Reader.rungs,
        "cap": _DECIMAL,
        "point_value": _DECIMAL,
        "exceed_order": _BOOL,
        "window": _DURATION,
    },
)
_FOLLOW_UP = _Shape(FollowUp, {"owner": _TEXT, "after": _AFTER, "reason": _TEXT})
_SURVEY = _Shape(
    SurveyInvite,
    {"after": _AFTER, "scale": _plain(_choice(("nps", "csat"))), "send": _Reader.send},
)


def _part(shape: _Shape, what: str, example: str) -> Kind:
    """A part of a policy written as a table (``what``, like ``example``)."""

    def read(reader: _Reader, value: Any, path: KeyPath) -> Any:
        if not isinstance(value, dict):
            raise _Wrong(f"{what}, such as {example}")
        return reader.make(shape, value, path, what=what)

    return read


def _bond_part(shape: _Shape, what: str, example: str) -> Kind:
    """A part of a bond's policy written as a table (``what``, like ``example``); a value
    its class refuses is shown as the file writes it."""

    def read(reader: _Reader, value: Any, path: KeyPath) -> Any:
        if not isinstance(value, dict):
            raise _Wrong(f"{what}, such as {example}")
        return reader.part(shape, value, path, what=what)

    return read


def _send_or_false(key: str, what: str) -> Kind:
    """A message the recovery policy sends (``what``), or ``false`` for none."""
    example = f'{key} = {{ template = "{key}" }}'

    def read(reader: _Reader, value: Any, path: KeyPath) -> Send | None:
        if value is False:
            return None
        if not isinstance(value, dict):
            hint = None
            if value is True:
                hint = f"leave {key} out for the default one, {example}"
            raise _Wrong(f"{what}, such as {example}, or false for none", hint)
        send: Send = reader.make(_SEND, value, path, what=what)
        return send

    return read


_FOLLOW_UP_EXAMPLE = '{ owner = "customer care", after = "P2D" }'
_RECOVERY = _Shape(
    RecoveryPolicy,
    {
        "targets": _Reader.targets,
        "calendar": _Reader.calendar,
        "compensation": _Reader.compensation,
        "apology": _send_or_false("apology", "an apology"),
        "apologize_when": _plain(_choice(("acknowledged", "filed"))),
        "follow_up": _part(_FOLLOW_UP, "a follow-up", _FOLLOW_UP_EXAMPLE),
        "survey": _part(_SURVEY, "a survey", '{ after = "P7D", scale = "nps" }'),
        "detractors": _part(
            _FOLLOW_UP, "a follow-up of detractors", '{ owner = "customer care" }'
        ),
        "low_csat": _INT,
        "incident_notice": _send_or_false("incident_notice", "an incident notice"),
        "incident_goodwill": _Reader.goodwill,
    },
    false_for_none=frozenset({"apology", "incident_notice"}),
)

# -- the social bond -----------------------------------------------------------------------

_A_CADENCE = '{ every = "P6W", ahead = "P7D" }'
_A_CALL = '{ on = "Visit", after = "P2D" }'
_A_REVIEW = '{ every = "P3M", tiers = ["gold"] }'
_CADENCE = _Shape(Cadence, {"every": _DURATION, "ahead": _plain(_ahead), "reason": _TEXT})
_CALL_AFTER = _Shape(
    CallAfter,
    {
        "on": _plain(_choice(CALLABLE_EVENTS)),
        "after": _AFTER,
        "reason": _TEXT,
        "owner": _TEXT,
    },
)
_WORDS = _Reader.words
_MILESTONE = _Shape(
    Milestone,
    {"name": _TEXT, "purchases": _INT, "spend": _plain(_positive), "reason": _TEXT},
    one_of=("purchases", "spend"),
)
_OCCASION_POLICY = _Shape(
    OccasionPolicy,
    {
        "ahead": _WITHIN_A_YEAR,
        "birthday": _BOOL,
        "first_purchase": _BOOL,
        "custom": _BOOL,
        "at": _TIME,
        "reason": _TEXT,
    },
)
_KEY_REVIEW = _Shape(
    KeyReview,
    {
        "every": _DURATION,
        "tiers": _WORDS,
        "tags": _WORDS,
        "min_spend": _DECIMAL,
        "ahead": _AHEAD,
        "reason": _TEXT,
    },
)


def _send_over(key: str, default: Send, what: str, *, none: bool = True) -> Kind:
    """A message a bond sends (``what``): a table of the keys of a message over the
    ``default`` one (``{ channel = "sms" }`` is the default message, by text message), or
    ``false`` for none when ``none``."""
    example = f'{key} = {{ channel = "sms" }}'
    nothing = ", or false for none" if none else ""

    def read(reader: _Reader, value: Any, path: KeyPath) -> Send | None:
        if value is False and none:
            return None
        if not isinstance(value, dict):
            hint = f"leave {key} out for the default one" if value is True else None
            raise _Wrong(f"{what}, such as {example}{nothing}", hint)
        fields = reader.table(value, path, _SENT_AS, what=what)
        over = {"template": default.template, "channel": default.channel, "kind": default.kind}
        send: Send = reader.build(Send, path, {**over, **fields})
        return send

    return read


def _sent_over(send: Send | None, default: Send) -> dict[str, Any] | bool:
    """A bond's message as a rule file writes it: the keys that are not those of the
    ``default`` message, or ``false`` for none."""
    if send is None:
        return False
    _check_written(send, _SEND.fields())
    return {
        key: getattr(send, key) for key in _SENT_AS if getattr(send, key) != getattr(default, key)
    }


def _default_send(cls: type[Any], field: str) -> Send:
    """The message a bond's policy sends by default: what the keys of a file's message
    go over."""
    default = attrs.fields_dict(cls)[field].default
    assert isinstance(default, Send)  # each of these fields has a Send for its default
    return default


_INVITATION = _default_send(SocialPolicy, "invitation")
_SOCIAL = _Shape(
    SocialPolicy,
    {
        "default_owner": _TEXT,
        "cadence": _Reader.cadence,
        "call_after": _Reader.calls_after,
        "appreciation": _Reader.appreciation,
        "occasions": _bond_part(
            _OCCASION_POLICY, "personal occasions", '{ ahead = "P5D", first_purchase = false }'
        ),
        "reviews": _Reader.reviews,
        "invitation": _send_over("invitation", _INVITATION, "an invitation", none=False),
    },
)

# -- the customization bond ----------------------------------------------------------------

_A_NEXT_NEED = '{ skus = ["cherry-pie"], remind_before = "P3D" }'
_CONTENT = _Shape(
    Content,
    {
        "id": _TEXT,
        "title": _TEXT,
        "kind": _TEXT,
        "industries": _WORDS,
        "interests": _WORDS,
        "skus": _WORDS,
        "unsuitable_for": _WORDS,
    },
)
_NEXT_NEED = _Shape(
    NextNeedPolicy,
    {
        "skus": _Reader.skus,
        "tags": _WORDS,
        "min_intervals": _INT,
        "remind_before": _SPAN,
        "keep": _INT,
        "max_products": _INT,
        "same_within": _SPAN,
    },
)
_NEED_REMINDER = _default_send(CustomizationPolicy, "need_reminder")
_CART_REMINDER = _default_send(CustomizationPolicy, "cart_reminder")
_CUSTOMIZATION = _Shape(
    CustomizationPolicy,
    {
        "contents": _Reader.contents,
        "next_need": _Reader.next_need,
        "need_reminder": _send_over("need_reminder", _NEED_REMINDER, "a next-need reminder"),
        "cart_window": _DURATION,
        "cart_reminder": _send_over("cart_reminder", _CART_REMINDER, "a saved-cart reminder"),
        "remind_cart_before": _EXACT,
    },
)

# -- the structural bond -------------------------------------------------------------------

_A_STEP = '{ after = "P3D", template = "our_story" }'
_PLAN = _Shape(
    Plan,
    {
        "name": _TEXT,
        "every": _TEXT,
        "price": _plain(_positive),
        "benefits": _WORDS,
        "remind_before": _EXACT,
        "template": _TEXT,
    },
)
_STEP = _Shape(SequenceStep, {"after": _AFTER, "template": _TEXT, "name": _TEXT})
_SEQUENCE = _Shape(
    Autoresponder,
    {
        "name": _TEXT,
        "on": _plain(_choice(SEQUENCE_EVENTS)),
        "event_name": _TEXT,
        "steps": _Reader.steps,
        "leave_on": _Reader.leave_on,
        "leave_when": _Reader.when,
        "kind": _MESSAGE_KIND,
        "catch_up": _BOOL,
    },
)
_STRUCTURE = _Shape(StructuralPolicy, {"plans": _Reader.plans, "sequences": _Reader.sequences})

# The values written as inline tables wherever they are.
_INLINE: dict[type[Any], _Shape] = {VoucherOffer: _OFFER, Discount: _EFFECT_TYPES["discount"]}


# -- writing -------------------------------------------------------------------------------


def dump_program(program: Program) -> str:
    """``program`` as a rule file: TOML text that :func:`load_program` reads back to an
    equal program.

    Decimals are written as strings, datetimes with their UTC offset, a ``relativedelta``
    as an ISO 8601 duration and a ``timedelta`` as ``{ seconds = N }``, so each comes
    back as the type it was. Raises :class:`~custbond.errors.InvalidInput` for what a
    rule file cannot hold (a duration with ``leapdays``, a string with a lone surrogate).

    >>> from decimal import Decimal
    >>> from dateutil.relativedelta import relativedelta
    >>> from custbond.bonds import PunchCard, VoucherOffer
    >>> from custbond.ledger import PointsPolicy
    >>> from custbond.rules import FixedPoints, Rule, event
    >>> program = Program(
    ...     points=PointsPolicy(expire_after=relativedelta(months=18)),
    ...     rules=[Rule("big spender", on="Purchase", when=event.amount >= 100,
    ...                 then=[FixedPoints(50)])],
    ...     cards=[PunchCard("coffee", stamps=10, tag="coffee",
    ...                      reward=VoucherOffer("free coffee", sku="latte"))],
    ... )
    >>> print(dump_program(program))
    [program]
    currency = "USD"
    time_zone = "UTC"
    multipliers = "multiply"
    <BLANKLINE>
    [points]
    expire_after = "P1Y6M"
    allow_negative = false
    <BLANKLINE>
    [earn]
    points = 1
    per = "1"
    <BLANKLINE>
    [[rules]]
    name = "big spender"
    on = ["Purchase"]
    when = "event.amount >= 100"
    then = [
        { type = "fixed_points", points = 50 },
    ]
    <BLANKLINE>
    [[cards]]
    name = "coffee"
    stamps = 10
    reward = { name = "free coffee", sku = "latte" }
    tag = "coffee"
    <BLANKLINE>
    """
    if not isinstance(program, Program):
        raise InvalidInput("program", program, "a Program")
    _check_written(program, _PROGRAM_WRITTEN)
    lines: list[str] = []
    if program.earn is None:
        lines += ["earn = false", ""]
    settings = {
        "currency": program.currency,
        "time_zone": program.time_zone,
        "multipliers": program.multipliers,
    }
    lines += _table("[program]", settings)
    policy = program.points
    _check_written(policy, frozenset(_POINTS_KEYS))
    expiry = policy.expire_at_end_of
    points = {
        "pending_for": policy.pending_for,
        "expire_after": policy.expire_after,
        "expire_at_end_of": None if expiry is None else expiry.value,
        "allow_negative": policy.allow_negative,
    }
    lines += _table("[points]", points)
    if program.earn is not None:
        lines += _table("[earn]", _effect_fields(program.earn, typed=False))
    for group in program.groups:
        lines += _table("[[groups]]", _GROUP.written(group))
    for rule in program.rules:
        lines += _rule_lines(rule)
    for card in program.cards:
        lines += _table("[[cards]]", _CARD.written(card, defaults=False))
    if program.tiers is not None:
        ladder = _LADDER.written(program.tiers, defaults=False)
        levels = ladder.pop("levels")
        lines += _table("[tiers]", ladder)
        for level in levels:
            lines += _table("[[tiers.levels]]", _LEVEL.written(level, defaults=False))
    for reward in program.catalog:
        lines += _table("[[rewards]]", _REWARD.written(reward, defaults=False))
    for achievement in program.achievements:
        lines += _table("[[achievements]]", _ACHIEVEMENT.written(achievement, defaults=False))
    for coupon in program.coupons:
        lines += _table("[[coupons]]", _COUPON.written(coupon, defaults=False))
    if program.referrals is not None:
        referrals = _REFERRALS.written(program.referrals, defaults=False)
        if "when" in referrals:
            referrals["when"] = str(referrals["when"])
        lines += _table("[referrals]", referrals)
    lines += _messaging_lines(program.messaging)
    lines += _recovery_lines(program.recovery)
    lines += _social_lines(program.social)
    lines += _customization_lines(program.customization)
    lines += _structure_lines(program.structure)
    return "\n".join(lines)


# The fields of a Program and a Rule that rule files hold: any other field (added to the
# class later) must keep its default, or dump_program refuses rather than drop it.
_PROGRAM_WRITTEN = frozenset(
    {
        "points",
        "earn",
        "rules",
        "groups",
        "cards",
        "tiers",
        "catalog",
        "achievements",
        "coupons",
        "referrals",
        "messaging",
        "recovery",
        "social",
        "customization",
        "structure",
        "multipliers",
        "currency",
        "time_zone",
    }
)
_RULE_WRITTEN = frozenset(_RULE_KEYS)


def _check_written(value: Any, written: frozenset[str]) -> None:
    """Refuse ``value`` if a field that rule files do not hold has another value than its
    default: dump_program refuses rather than drop it."""
    for field in attrs.fields(type(value)):
        if field.init and field.name not in written:
            given = getattr(value, field.name)
            kept = _default(field)
            if kept is _MISSING or given != kept:
                expected = "left at its default (rule files cannot hold it yet)"
                if kept is not _MISSING:
                    expected = f"left at its default, {kept!r} (rule files cannot hold it yet)"
                raise InvalidInput(field.name, given, expected)


_MISSING: Any = object()


def _default(field: attrs.Attribute[Any]) -> Any:
    """The default of an attrs field (made by its factory), or ``_MISSING``."""
    default: Any = field.default
    if isinstance(default, attrs.Factory):  # type: ignore[arg-type] # a class, typed as a function
        return _MISSING if default.takes_self else default.factory()
    return _MISSING if default is attrs.NOTHING else default


def _table(header: str, fields: Mapping[str, Any]) -> list[str]:
    lines = [header]
    lines.extend(f"{key} = {_toml(value)}" for key, value in fields.items() if value is not None)
    return [*lines, ""]


def _rule_lines(rule: Rule) -> list[str]:
    _check_written(rule, _RULE_WRITTEN)
    window = rule.window
    head = {
        "name": rule.name,
        "on": sorted(rule.on),
        "when": None if isinstance(rule.when, Always) else str(rule.when),
    }
    tail = {
        "priority": rule.priority or None,
        "exclusive": rule.exclusive or None,
        "group": rule.group,
        "description": rule.description or None,
        "limits": [_limit_fields(limit) for limit in rule.limits] or None,
        "window": None if window is None else _window_fields(window),
    }
    lines = _table("[[rules]]", head)[:-1]
    lines += ["then = [", *(f"    {_toml(_effect_fields(then))}," for then in rule.then), "]"]
    return lines + _table("", tail)[1:]


def _messaging_lines(policy: MessagingPolicy) -> list[str]:
    """``[messaging]`` with the messages sent on their own, its ``[[messaging.caps]]``,
    ``[[messaging.holidays]]`` and the templates that are not the defaults; nothing for
    the default policy."""
    _check_written(policy, _MESSAGING.fields())
    if policy == MessagingPolicy():
        return []
    quiet = policy.quiet_hours
    fields: dict[str, Any] = {"quiet_hours": None if quiet is None else _quiet_fields(quiet)}
    for key, (shape, _, _) in _OCCASIONS.items():
        occasion = getattr(policy, key)
        fields[key] = None if occasion is None else _occasion_fields(shape, occasion)
        if key == "thank_you":
            fields["related"] = dict(policy.related) or None
    lines = _table("[messaging]", fields)
    for cap in policy.caps:
        fields = _CAP.written(cap, defaults=False)
        if cap.kind is None:
            fields["kind"] = "any"
        lines += _table("[[messaging.caps]]", fields)
    for holiday in policy.holidays:
        lines += _table("[[messaging.holidays]]", _occasion_fields(_HOLIDAY, holiday))
    for name, channel, template in _changed_templates(policy.templates):
        _check_written(template, _TEMPLATE.fields())
        lines.append(f"[{_key_text(('messaging', 'templates', name, channel))}]")
        if template.subject is not None:
            lines.append(f"subject = {_quote(template.subject)}")
        lines += [f"body = {_text_block(template.body)}", ""]
    return lines


def _occasion_fields(shape: _Shape, occasion: Any) -> dict[str, Any]:
    """The keys of a message sent on its own that are not the defaults; its exact
    durations written in ISO 8601 (``"PT24H"``), which they are read back from."""
    fields = shape.written(occasion, defaults=False)
    for key, kind in shape.keys.items():
        if kind is _EXACT and key in fields:
            fields[key] = _exact_text(key, fields[key])
    return fields


def _exact_text(key: str, duration: Any) -> str:
    if not isinstance(duration, timedelta) or duration <= timedelta(0):
        raise InvalidInput(key, duration, "a positive timedelta")
    parts = relativedelta(
        days=duration.days, seconds=duration.seconds, microseconds=duration.microseconds
    )
    return _iso_duration(parts)


def _quiet_fields(quiet: QuietHours) -> dict[str, Any]:
    fields = _QUIET.written(quiet, defaults=False)
    if "channels" in fields:
        fields["channels"] = sorted(quiet.channels)
    return fields


def _changed_templates(templates: Templates) -> list[tuple[str, str, Template]]:
    """The templates of ``templates`` that are not the default ones, as (name, channel,
    template). A rule file holds the templates over the defaults: it cannot leave one of
    the defaults out."""
    defaults = Templates.defaults().templates
    for name, channels in defaults.items():
        for channel in channels:
            if channel not in templates.templates.get(name, {}):
                expected = (
                    "the default templates with others added or put in their place (a rule "
                    f"file cannot leave one out: {name!r} for {channel!r} is missing)"
                )
                raise InvalidInput("templates", templates, expected)
    return [
        (name, channel, template)
        for name, channels in templates.templates.items()
        for channel, template in channels.items()
        if defaults.get(name, {}).get(channel) != template
    ]


def _recovery_lines(policy: RecoveryPolicy | None) -> list[str]:
    """``[recovery]`` with the messages and gestures of the policy, then its calendar, its
    targets by severity, its compensation ladder with its rungs, its follow-up, survey and
    follow-up of detractors, each as a table below ``[recovery]``; nothing without a
    policy. Keys that have their default value are left out."""
    if policy is None:
        return []
    fields = _RECOVERY.written(policy, defaults=False)
    head: dict[str, Any] = {}
    for key in ("apology", "apologize_when", "low_csat", "incident_notice"):
        item = fields.get(key)
        head[key] = _SEND.written(item, defaults=False) if isinstance(item, Send) else item
    head["incident_goodwill"] = [
        _gesture_fields(gift) for gift in policy.incident_goodwill
    ] or None
    lines = _table("[recovery]", head)
    calendar = policy.calendar
    if calendar is not None:
        _check_written(calendar, _CALENDAR.fields())
        hours = {
            "time_zone": calendar.time_zone,
            "hours": _hours_fields(calendar.hours),
            "closed": sorted(calendar.closed) or None,
        }
        lines += _table("[recovery.calendar]", hours)
    for severity in Severity:
        targets = policy.targets.get(severity)
        if targets is not None:
            lines += _targets_lines(severity, targets)
    ladder = policy.compensation
    if ladder is not None:
        written = _COMPENSATION.written(ladder, defaults=False)
        rungs = written.pop("rungs")
        lines += _table("[recovery.compensation]", written)
        for rung in rungs:
            lines += _table("[[recovery.compensation.rungs]]", _rung_fields(rung))
    for key, shape in (("follow_up", _FOLLOW_UP), ("survey", _SURVEY), ("detractors", _FOLLOW_UP)):
        part = getattr(policy, key)
        if part is not None:
            written = shape.written(part, defaults=False)
            if "send" in written:
                written["send"] = _SEND.written(written["send"], defaults=False)
            lines += _table(f"[recovery.{key}]", written)
    return lines


def _social_lines(policy: SocialPolicy | None) -> list[str]:
    """``[social]`` with its default owner, its invitation (when not the default one) and
    its calls after events (one to a line), then its ``[social.cadence]``, its
    ``[[social.appreciation]]``, ``[social.occasions]`` and ``[social.reviews]``; nothing
    without a policy. Keys that have their default value are left out; exact durations
    (``ahead``) are written in ISO 8601, which they are read back from."""
    if policy is None:
        return []
    fields = _SOCIAL.written(policy, defaults=False)
    head = {"default_owner": fields.get("default_owner")}
    if "invitation" in fields:
        head["invitation"] = _sent_over(policy.invitation, _INVITATION)
    lines = _table("[social]", head)[:-1]
    if policy.call_after:
        calls = [
            f"    {_toml(_CALL_AFTER.written(call, defaults=False))},"
            for call in policy.call_after
        ]
        lines += ["call_after = [", *calls, "]"]
    lines.append("")
    cadence = policy.cadence
    if cadence is not None:
        written = _CADENCE.written(cadence, defaults=False)
        if "ahead" in written:
            written["ahead"] = _exact_text("ahead", written["ahead"])
        lines += _table("[social.cadence]", written)
    for milestone in policy.appreciation:
        lines += _table("[[social.appreciation]]", _bond_fields(_MILESTONE, milestone))
    if policy.occasions is not None:
        lines += _table("[social.occasions]", _bond_fields(_OCCASION_POLICY, policy.occasions))
    if policy.reviews is not None:
        lines += _table("[social.reviews]", _bond_fields(_KEY_REVIEW, policy.reviews))
    return lines


def _customization_lines(policy: CustomizationPolicy | None) -> list[str]:
    """``[customization]`` with its reminders and the saved carts' window, then its
    ``[[customization.contents]]`` and its ``[customization.next_need]``; nothing without
    a policy. Keys that have their default value are left out; a reminder is written as
    the keys that are not the default message's, or ``false`` for none."""
    if policy is None:
        return []
    fields = _bond_fields(_CUSTOMIZATION, policy)
    head = {key: fields.get(key) for key in ("need_reminder", "cart_window", "cart_reminder")}
    head["remind_cart_before"] = fields.get("remind_cart_before")
    for key, default in (("need_reminder", _NEED_REMINDER), ("cart_reminder", _CART_REMINDER)):
        if key in fields:
            head[key] = _sent_over(getattr(policy, key), default)
    lines = _table("[customization]", head)
    for content in policy.contents:
        lines += _table("[[customization.contents]]", _bond_fields(_CONTENT, content))
    if policy.next_need is not None:
        lines += _table("[customization.next_need]", _bond_fields(_NEXT_NEED, policy.next_need))
    return lines


def _structure_lines(policy: StructuralPolicy | None) -> list[str]:
    """``[structure]``, then its ``[[structure.plans]]`` and its
    ``[[structure.sequences]]``, each with its steps one to a line; nothing without a
    policy. Keys that have their default value are left out."""
    if policy is None:
        return []
    _check_written(policy, _STRUCTURE.fields())
    lines = _table("[structure]", {})
    for plan in policy.plans:
        lines += _table("[[structure.plans]]", _bond_fields(_PLAN, plan))
    for sequence in policy.sequences:
        fields = _bond_fields(_SEQUENCE, sequence)
        fields.pop("steps")
        steps = [f"    {_toml(_bond_fields(_STEP, step))}," for step in sequence.steps]
        lines += [*_table("[[structure.sequences]]", fields)[:-1], "steps = [", *steps, "]", ""]
    return lines


def _bond_fields(shape: _Shape, value: Any) -> dict[str, Any]:
    """The keys of a part of a bond's policy that are not the defaults, as a rule file
    writes them: sets as sorted arrays, exact durations in ISO 8601 (``"P2D"``, ``"PT0S"``
    for zero), which they are read back from as a ``timedelta``."""
    fields = shape.written(value, defaults=False)
    for key, item in fields.items():
        kind = shape.keys[key]
        if isinstance(item, frozenset):
            fields[key] = sorted(item)
        elif isinstance(item, timedelta) and kind in _EXACT_KINDS:
            fields[key] = _exact_text(key, item) if item else "PT0S"
        elif isinstance(item, timedelta) and not item:  # an after of zero: at once
            fields[key] = "PT0S"
        elif isinstance(item, Condition):  # as it is read back: text
            fields[key] = str(item)
    return fields


_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def _hours_fields(hours: Sequence[Sequence[tuple[int, int]]]) -> dict[str, str | list[str]]:
    """A calendar's hours (seven days of spans in minutes, Monday first) by weekday key:
    consecutive days open at the same times share a range (``"MO-FR"``); a day's spans
    are one span, or an array of them; closed days are left out."""
    written: dict[str, str | list[str]] = {}
    first = 0
    while first < len(hours):
        last = first
        while last + 1 < len(hours) and hours[last + 1] == hours[first]:
            last += 1
        if hours[first]:
            key = _WEEKDAYS[first] + ("" if last == first else f"-{_WEEKDAYS[last]}")
            spans = [_span_text(start, end) for start, end in hours[first]]
            written[key] = spans[0] if len(spans) == 1 else spans
        first = last + 1
    return written


def _span_text(start: int, end: int) -> str:
    """A span of minutes since local midnight as ``"09:00-17:30"`` (1440 is ``"24:00"``)."""
    (start_hour, start_minute), (end_hour, end_minute) = divmod(start, 60), divmod(end, 60)
    return f"{start_hour:02d}:{start_minute:02d}-{end_hour:02d}:{end_minute:02d}"


def _targets_lines(severity: Severity, targets: Targets) -> list[str]:
    """``[recovery.targets.<severity>]``: its exact durations written in ISO 8601, which
    they are read back from, and its escalations one to a line."""
    _check_written(targets, _TARGETS.fields())
    head = {
        "acknowledge": _exact_text("acknowledge", targets.acknowledge),
        "resolve": _exact_text("resolve", targets.resolve),
    }
    lines = _table(f"[recovery.targets.{severity.value}]", head)[:-1]
    if targets.escalations:
        steps = [f"    {_toml(_escalation_fields(step))}," for step in targets.escalations]
        lines += ["escalations = [", *steps, "]"]
    return [*lines, ""]


def _escalation_fields(step: Escalation) -> dict[str, Any]:
    fields = _ESCALATION.written(step, defaults=False)
    if "after" in fields:
        fields["after"] = _exact_text("after", fields["after"])
    if step.raise_to is not None:
        fields["raise_to"] = step.raise_to.value
    return fields


def _rung_fields(rung: Rung) -> dict[str, Any]:
    fields = _RUNG.written(rung, defaults=False)
    fields["give"] = [_gesture_fields(gesture) for gesture in rung.give]
    if "severity" in fields:
        fields["severity"] = rung.severity.value
    return fields


def _gesture_fields(gesture: Gesture) -> dict[str, Any]:
    name = _GESTURE_OF.get(type(gesture))
    if name is None:  # a kind of gesture added since
        expected = f"a gesture a rule file can hold: one of {', '.join(_GESTURE_TYPES)}"
        raise InvalidInput("give", gesture, expected)
    return {"type": name, **_GESTURE_TYPES[name].written(gesture, defaults=False)}


def _limit_fields(limit: object) -> dict[str, Any]:
    if isinstance(limit, Budget):
        shape = _LIMIT_TYPES["budget" if limit.money is None else "money_budget"]
    elif isinstance(limit, Limit):
        shape = _LIMIT_TYPES["times"]
    elif isinstance(limit, FirstCustomers):
        shape = _LIMIT_TYPES["first_customers"]
    else:  # a kind of limit added to rules since
        expected = "a limit a rule file can hold: a Limit, a Budget or FirstCustomers"
        raise InvalidInput("limits", limit, expected)
    return shape.written(limit)


_ONE_DAY = timedelta(days=1)


def _window_fields(window: Window) -> dict[str, Any]:
    lasting = window.lasting
    default = isinstance(lasting, timedelta) and lasting == _ONE_DAY
    return {
        "starts": window.starts,
        "ends": window.ends,
        "recurrence": window.recurrence,
        "lasting": None if default else lasting,
    }


def _effect_fields(effect: RuleEffect, *, typed: bool = True) -> dict[str, Any]:
    name = _TYPE_OF.get(type(effect))
    if name is None:
        expected = f"an effect a rule file can hold: one of {', '.join(_EFFECT_TYPES)}"
        raise InvalidInput("then", effect, expected)
    fields = _EFFECT_TYPES[name].written(effect)
    return {"type": name, **fields} if typed else fields


def _toml(value: Any) -> str:
    """``value`` as a TOML value (None values in tables are left out)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal | str):
        return str(value) if isinstance(value, int) else _quote(str(value))
    if isinstance(value, datetime):
        return _toml_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return _quote(_time_text(value))
    if isinstance(value, relativedelta):
        return _quote(_iso_duration(value))
    if isinstance(value, timedelta):
        return f"{{ seconds = {_seconds_text(value)} }}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(map(_toml, value)) + "]"
    inline = _INLINE.get(type(value))
    if inline is not None:
        return _toml(inline.written(value))
    if isinstance(value, dict):
        pairs = [
            f"{_key_text((key,))} = {_toml(item)}"
            for key, item in value.items()
            if item is not None
        ]
        return "{ " + ", ".join(pairs) + " }" if pairs else "{}"
    raise InvalidInput("value", value, "something a rule file can hold")


def _toml_datetime(at: datetime) -> str:
    offset = at.utcoffset()
    if offset is None:
        raise InvalidInput("datetime", at, "a timezone-aware datetime")
    if offset % timedelta(minutes=1):  # TOML offsets are whole minutes: write it in UTC
        at, offset = at.astimezone(UTC), timedelta(0)
    wall = at.replace(tzinfo=None).isoformat()
    if not offset:
        return f"{wall}Z"
    minutes = abs(offset) // timedelta(minutes=1)
    sign = "-" if offset < timedelta(0) else "+"
    return f"{wall}{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def _time_text(at: time) -> str:
    """A time of day as ``"21:00"``, with its seconds (and microseconds) when it has any."""
    if at.tzinfo is not None:
        raise InvalidInput("time", at, "a time of day without a tzinfo (local)")
    if at.microsecond:
        return at.isoformat()
    return f"{at:%H:%M:%S}" if at.second else f"{at:%H:%M}"


def _text_block(text: str) -> str:
    """``text`` as a TOML string: a multi-line basic string when it has line breaks, so
    that it reads as it will be sent."""
    if "\n" not in text:
        return _quote(text)
    chars = []
    for index, char in enumerate(text):
        if char == "\n":
            chars.append(char)
        elif char == '"':  # never three in a row, nor one just before the closing quotes
            chars.append('\\"' if text[index + 1 : index + 2] in ('"', "") else char)
        else:
            chars.append(_escape(char))
    return '"""\n' + "".join(chars) + '"""'


_ABSOLUTE = ("year", "month", "day", "weekday", "hour", "minute", "second", "microsecond")
_RELATIVE = ("years", "months", "days", "hours", "minutes", "seconds", "microseconds")


def _iso_duration(duration: relativedelta) -> str:
    """``relativedelta(years=1, months=6)`` as ``"P1Y6M"``."""
    amounts = [getattr(duration, name) for name in _RELATIVE]
    if (
        duration.leapdays
        or any(getattr(duration, name) is not None for name in _ABSOLUTE)
        or any(amount < 0 or amount != int(amount) for amount in amounts)
    ):
        expected = "whole, non-negative amounts of time (no leapdays, weekday, day=, ...)"
        raise InvalidInput("duration", duration, expected)
    years, months, days, hours, minutes, seconds, microseconds = map(int, amounts)
    day_part = "".join(
        f"{amount}{unit}" for amount, unit in ((years, "Y"), (months, "M"), (days, "D")) if amount
    )
    second_text = str(seconds) if not microseconds else f"{seconds}.{microseconds:06d}".rstrip("0")
    time_part = "".join(
        f"{amount}{unit}"
        for amount, unit in ((hours, "H"), (minutes, "M"), (second_text, "S"))
        if amount and amount != "0"
    )
    return f"P{day_part}" + (f"T{time_part}" if time_part or not day_part else "")


def _seconds_text(duration: timedelta) -> str:
    whole = duration.days * 86_400 + duration.seconds
    if not duration.microseconds:
        return str(whole)
    return _quote(f"{whole}.{duration.microseconds:06d}".rstrip("0"))


# -- words for messages --------------------------------------------------------------------

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _key_text(path: KeyPath) -> str:
    """``("rules", 3, "when")`` as ``rules[3].when``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            name = part if _BARE_KEY.fullmatch(part) else _quote(part)
            text += f".{name}" if text else name
    return text


def _quote(text: str) -> str:
    """``text`` as a TOML basic string."""
    return '"' + "".join(map(_escape, text)) + '"'


_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}


def _escape(char: str) -> str:
    escaped = _ESCAPES.get(char)
    if escaped is not None:
        return escaped
    if char < " " or char == "\x7f":
        return f"\\u{ord(char):04X}"
    if "\ud800" <= char <= "\udfff":
        raise InvalidInput("text", char, "Unicode text without lone surrogates")
    return char


def _show(value: Any) -> str:
    """A value from the file, as TOML writes it (shortened)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        shown = _quote(value)
        return shown if len(shown) <= 60 else shown[:56] + '..."'
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array" if value else "an empty array"
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


# The parts of a field's name: "levels[1].spend" is "levels", "[1]", ".spend".
_FIELD_PART = re.compile(r"^\w+|\[\d+\]|\.\w+", re.ASCII)


def _unpaid(amount: Decimal, currency: str) -> str:
    places = v.minor_units(currency)
    return (
        f"must be an amount with at most {places} decimal places in {currency}; got "
        f"{_show(str(amount))}"
    )


def _written(value: Any) -> str:
    """A value a class refused, in the words of a rule file where Python's would read
    badly: a time as TOML writes it, a decimal as its digits, a duration as ISO 8601.

    >>> _written(Decimal("0.001")), _written(relativedelta(days=14)), _written("x")
    ('0.001', '"P14D"', "'x'")
    """
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date | time | relativedelta | timedelta):
        try:
            return _toml(value)
        except InvalidInput:  # a duration no file can write (leapdays=, weekday=)
            pass
    return repr(value)


def _did_you_mean(name: str, options: Iterable[str]) -> str | None:
    close = difflib.get_close_matches(name, list(options), n=1)
    if not close:  # "purchase" for "Purchase"
        by_case = {option.lower(): option for option in options}
        close = [by_case[name.lower()]] if name.lower() in by_case else []
    return f"did you mean {_quote(close[0])}?" if close else None


def _and(names: Sequence[str]) -> str:
    if len(names) == 1:
        return names[0]
    return f"{', '.join(names[:-1])} and {names[-1]}"


# -- where things are in the file ----------------------------------------------------------


class _Lines:
    """Offsets in a text as (line, column), both counted from 1."""

    def __init__(self, text: str) -> None:
        self.starts = [0, *(found.end() for found in re.finditer("\n", text))]

    def position(self, offset: int) -> tuple[int, int]:
        line = bisect_right(self.starts, offset)
        return line, offset - self.starts[line - 1] + 1


_SCALAR = re.compile(r"[^,\]}#\r\n]*")


class _Locator:
    """Where each key path is in TOML text, found by a scan of text that tomllib accepted.

    ``keys`` holds the offset of each key, ``values`` of each value (for a table: its
    header, or its ``{``). Best effort: what the scan cannot place, it leaves out, and an
    error then names the line of the nearest enclosing key, or no line at all.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = _Lines(text)
        self.keys: dict[KeyPath, int] = {}
        self.values: dict[KeyPath, int] = {}
        self._arrays: dict[KeyPath, int] = {}  # arrays of tables: how many so far
        with contextlib.suppress(IndexError, ValueError):  # keep what was found
            self._document()

    def find(self, path: KeyPath, *, at_key: bool = False) -> tuple[int | None, int | None]:
        """The line and column of ``path``'s value (or key), else of its nearest parent."""
        offset = self.keys.get(path) if at_key else None
        for end in range(len(path), 0, -1):
            if offset is not None:
                break
            offset = self.values.get(path[:end])
        if offset is None:
            return None, None
        return self.lines.position(offset)

    def in_string(self, path: KeyPath, index: int) -> tuple[int, int] | None:
        """The line and column of the character ``index`` of the string at ``path``."""
        start = self.values.get(path)
        if start is None:
            return None
        try:
            offset = _string_offset(self.text, start, index)
        except IndexError:
            return None
        return None if offset is None else self.lines.position(offset)

    # -- the scan --------------------------------------------------------------------------

    def _document(self) -> None:
        text = self.text
        table: KeyPath = ()
        at = self._skip(0, lines=True)
        while at < len(text):
            start = at
            if text.startswith("[[", at):
                names, _, at = self._key(at + 2)
                array = (*self._resolve(names[:-1]), names[-1])
                index = self._arrays.get(array, 0)
                self._arrays[array] = index + 1
                table = (*array, index)
                self._header(array, start)
                self.values[table] = start
                at = text.index("]]", at) + 2
            elif text[at] == "[":
                names, _, at = self._key(at + 1)
                table = self._resolve(names)
                self._header(table, start)
                at = text.index("]", at) + 1
            else:
                at = self._pair(at, table)
            at = self._skip(at, lines=True)

    def _header(self, table: KeyPath, start: int) -> None:
        """A table header at ``start``: where ``table`` is, and the tables it names on the
        way there, unless they were placed before (``[messaging.templates.welcome.sms]``
        places ``messaging.templates.welcome``)."""
        for end in range(1, len(table) + 1):
            self.values.setdefault(table[:end], start)

    def _resolve(self, names: Sequence[str]) -> KeyPath:
        """A header's names as a key path: arrays of tables mean their latest table."""
        path: KeyPath = ()
        for name in names:
            path = (*path, name)
            if path in self._arrays:
                path = (*path, self._arrays[path] - 1)
        return path

    def _skip(self, at: int, *, lines: bool = False) -> int:
        """Past spaces and comments (and line breaks, with ``lines``)."""
        text = self.text
        blank = " \t\r\n" if lines else " \t"
        while at < len(text):
            if text[at] in blank:
                at += 1
            elif text[at] == "#":
                end = text.find("\n", at)
                at = len(text) if end < 0 else end
            else:
                break
        return at

    def _key(self, at: int) -> tuple[list[str], list[int], int]:
        """A dotted key: its names, where each starts, and the offset after it."""
        text = self.text
        names: list[str] = []
        starts: list[int] = []
        while True:
            at = self._skip(at)
            starts.append(at)
            if text[at] == '"':
                end = _basic_end(text, at)
                names.append(tomllib.loads(f"k = {text[at:end]}")["k"])
            elif text[at] == "'":
                end = text.index("'", at + 1) + 1
                names.append(text[at + 1 : end - 1])
            else:
                found = _BARE_KEY.match(text, at)
                if found is None:
                    raise ValueError(at)
                end = found.end()
                names.append(found[0])
            at = self._skip(end)
            if text[at] != ".":
                return names, starts, at
            at += 1

    def _pair(self, at: int, table: KeyPath) -> int:
        names, starts, at = self._key(at)
        path = table
        for name, start in zip(names, starts, strict=True):
            path = (*path, name)
            self.keys.setdefault(path, start)
            self.values.setdefault(path, start)  # a dotted key's tables: where it starts
        at = self._skip(at + 1)  # past "="
        self.values[path] = at
        return self._value(at, path)

    def _value(self, at: int, path: KeyPath) -> int:
        text = self.text
        if text.startswith(('"""', "'''"), at):
            return _multiline_end(text, at)
        if text[at] == '"':
            return _basic_end(text, at)
        if text[at] == "'":
            return text.index("'", at + 1) + 1
        if text[at] == "{":
            at += 1
            while True:
                at = self._skip(at, lines=True)
                if text[at] == "}":
                    return at + 1
                at = self._skip(self._pair(at, path), lines=True)
                if text[at] == ",":
                    at += 1
        if text[at] == "[":
            at += 1
            index = 0
            while True:
                at = self._skip(at, lines=True)
                if text[at] == "]":
                    return at + 1
                self.values[(*path, index)] = at
                at = self._skip(self._value(at, (*path, index)), lines=True)
                index += 1
                if text[at] == ",":
                    at += 1
        found = _SCALAR.match(text, at)
        assert found is not None  # the pattern matches the empty string
        return found.end()


def _basic_end(text: str, at: int) -> int:
    """The offset after the basic string that starts at ``at``."""
    at += 1
    while text[at] != '"':
        at += 2 if text[at] == "\\" else 1
    return at + 1


def _multiline_end(text: str, at: int) -> int:
    """The offset after the multi-line string that starts at ``at``."""
    quote = text[at]
    at += 3
    while not text.startswith(quote * 3, at):
        at += 2 if quote == '"' and text[at] == "\\" else 1
    at += 3
    while at < len(text) and text[at] == quote:  # up to two quotes end the content
        at += 1
    return at


def _string_offset(text: str, start: int, index: int) -> int | None:
    """The offset in ``text`` of character ``index`` of the string value that starts at
    ``start``: escapes, line-ending backslashes and the line break that may follow the
    opening quotes are taken into account."""
    quote = text[start]
    if quote not in "\"'":
        return None
    multiline = text.startswith(quote * 3, start)
    at = start + (3 if multiline else 1)
    if multiline:
        at += 2 if text.startswith("\r\n", at) else 1 if text.startswith("\n", at) else 0
    escapes = quote == '"'
    for _ in range(index):
        if escapes and multiline:
            at = _past_line_end(text, at)
        if escapes and text[at] == "\\":
            at += {"u": 6, "U": 10}.get(text[at + 1], 2)
        elif multiline and text.startswith("\r\n", at):
            at += 2
        else:
            at += 1
    return _past_line_end(text, at) if escapes and multiline else at


def _past_line_end(text: str, at: int) -> int:
    """Past a line-ending backslash and the blanks after it, which stand for nothing."""
    if text[at] != "\\":
        return at
    after = at + 1
    while text[after] in " \t":
        after += 1
    if text[after] not in "\r\n":
        return at
    while text[after] in " \t\r\n":
        after += 1
    return after
