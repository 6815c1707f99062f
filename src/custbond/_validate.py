"""Validators shared by the value classes. Each raises InvalidInput naming field, value and
expectation, and returns the (possibly normalised) value so it can serve as a converter."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from dateutil import tz
from dateutil.relativedelta import relativedelta

from custbond._frozen import FrozenMap
from custbond.errors import InvalidInput

if TYPE_CHECKING:
    import attrs

# ISO 4217 currencies whose minor unit is not the usual two digits. Anything else: 2.
_MINOR_UNITS = {
    "BIF": 0,
    "CLP": 0,
    "DJF": 0,
    "GNF": 0,
    "ISK": 0,
    "JPY": 0,
    "KMF": 0,
    "KRW": 0,
    "PYG": 0,
    "RWF": 0,
    "UGX": 0,
    "UYI": 0,
    "VND": 0,
    "VUV": 0,
    "XAF": 0,
    "XOF": 0,
    "XPF": 0,
    "BHD": 3,
    "IQD": 3,
    "JOD": 3,
    "KWD": 3,
    "LYD": 3,
    "OMR": 3,
    "TND": 3,
    "CLF": 4,
    "UYW": 4,
}
_CURRENCY = re.compile(r"[A-Z]{3}")
# Large enough for any real order, small enough that arithmetic stays exact in Decimal's
# default 28-digit context.
MAX_AMOUNT = Decimal("1e15")


def aware(field: str, value: Any) -> datetime:
    """A timezone-aware datetime; naive ones are rejected, never assumed to be UTC."""
    if not isinstance(value, datetime):
        raise InvalidInput(field, value, "a timezone-aware datetime")
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise InvalidInput(
            field, value, "a timezone-aware datetime (naive datetimes are ambiguous)"
        )
    return value


# When things happen: far enough from the calendar's ends (years 1 and 9999) that what
# programs add to a time (expiry, tier holds, windows, years of them) stays inside it.
FIRST_YEAR, LAST_YEAR = 1900, 8999


def moment(field: str, value: Any) -> datetime:
    """A timezone-aware datetime in the years FIRST_YEAR to LAST_YEAR: when an event
    happened, or what a clock says."""
    at = aware(field, value)
    if not FIRST_YEAR <= at.year <= LAST_YEAR:
        raise InvalidInput(
            field, value, f"a timezone-aware datetime in the years {FIRST_YEAR} to {LAST_YEAR}"
        )
    return at


# Whitespace, and what an address header gives a meaning of its own: lists (,), groups
# (: ;), names and comments (< > ( ) "), quoting (\), and square brackets.
_NOT_IN_ADDRESS = re.compile(r'[\s,;:<>()\[\]"\\]')


def one_email_address(text: str) -> bool:
    """Whether ``text`` is one plain address, ``name@example.com``: nothing a mail
    header (or smtplib) would read as a list, a group or a name, as it reads
    ``"eve,ada@example.com"`` as mail for ``eve``.

    >>> one_email_address("ada@example.com"), one_email_address("eve,ada@example.com")
    (True, False)
    """
    if text.count("@") != 1 or _NOT_IN_ADDRESS.search(text):
        return False
    local, domain = text.split("@")
    return bool(local) and "." in domain.strip(".")


def identifier(field: str, value: Any) -> str:
    """A non-empty string without surrounding whitespace, NUL characters or lone
    surrogates, at most 200 characters."""
    if not isinstance(value, str) or not value or value != value.strip() or len(value) > 200:
        raise InvalidInput(
            field, value, "a non-empty string of at most 200 characters, not padded with spaces"
        )
    if "\x00" in value:  # PostgreSQL cannot keep it in a text column, where ids are kept
        raise InvalidInput(field, value, "a string without NUL characters")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate ("\udcff" from bytes decoded with
            # errors="surrogateescape"): no database keeps it, and no file either
            raise InvalidInput(
                field, value, "a string of Unicode characters (no lone surrogates)"
            ) from None
    return value


def distinct(
    field: str, items: Iterable[Any], kind: type, a_kind: str, *, key: str = "name", plural: str
) -> None:
    """Every one of ``items`` a ``kind`` (``a_kind``: "a Level"), no two with the same
    ``key``: ``plural`` says what they are in the message ("levels with different
    names")."""
    seen: set[Any] = set()
    for item in items:
        if not isinstance(item, kind):
            raise InvalidInput(field, item, a_kind)
        value = getattr(item, key)
        if value in seen:
            raise InvalidInput(field, value, f"{plural} with different {key}s")
        seen.add(value)


def text(field: str, value: Any) -> str:
    """A non-empty string (free text: a reason, a resolution, what failed)."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(field, value, "a non-empty string")
    return value


def instances(
    field: str, value: Any, kind: type | tuple[type, ...], a_kind: str
) -> tuple[Any, ...]:
    """``value``, a sequence of ``kind`` (``a_kind`` says it in words: "an Escalation"),
    as a tuple."""
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise InvalidInput(field, value, f"a sequence of values, each {a_kind}")
    items = tuple(value)
    for item in items:
        if not isinstance(item, kind):
            raise InvalidInput(field, item, a_kind)
    return items


def optional_text(field: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(field, value, "a string or None")
    return value


def decimal(field: str, value: Any, *, minimum: Decimal | None = Decimal(0)) -> Decimal:
    """A finite Decimal (ints and numeric strings are converted exactly; floats never are)."""
    if isinstance(value, bool | float):
        raise InvalidInput(field, value, "a Decimal (floats are rejected: they cannot hold money)")
    converted = to_decimal(value)
    if isinstance(value, str) and converted is value:
        raise InvalidInput(field, value, "a decimal number")
    value = converted
    if not isinstance(value, Decimal):
        raise InvalidInput(field, value, "a Decimal")
    if not value.is_finite():
        raise InvalidInput(field, value, "a finite Decimal (not NaN or infinity)")
    if value.copy_abs() >= MAX_AMOUNT:  # not abs(): it rounds, and overflows at 1E+1000000
        raise InvalidInput(field, value, f"a Decimal smaller than {MAX_AMOUNT}")
    if minimum is not None and value < minimum:
        raise InvalidInput(field, value, f"a Decimal of at least {minimum}")
    return value


def currency(field: str, value: Any) -> str:
    if not isinstance(value, str) or not _CURRENCY.fullmatch(value):
        raise InvalidInput(field, value, "an ISO 4217 currency code such as 'USD'")
    return value


def minor_units(code: str) -> int:
    """How many decimal places an amount in ``code`` may have."""
    return _MINOR_UNITS.get(code, 2)


def payable(amount: Decimal, code: str) -> bool:
    """Whether the finite ``amount`` has no more decimal places than ``code`` has
    (trailing zeros aside: ``Decimal("5.000")`` dollars can be paid).

    >>> payable(Decimal("5.000"), "USD"), payable(Decimal("1.005"), "USD")
    (True, False)
    """
    places = minor_units(code)
    exponent = amount.as_tuple().exponent
    assert isinstance(exponent, int)  # finite, checked by decimal()
    return exponent >= -places or amount == amount.quantize(Decimal(1).scaleb(-places))


def money(field: str, amount: Decimal, code: str) -> Decimal:
    """An amount with no more decimal places than its currency has."""
    if not payable(amount, code):
        places = minor_units(code)
        raise InvalidInput(
            field, amount, f"an amount with at most {places} decimal places in {code}"
        )
    return amount


def calendar_day(field: str, month: Any, day: Any, year: Any) -> None:
    """``month`` and ``day`` (and ``year``, unless None) make a real calendar day; 29
    February is one when the year is unknown. ``field`` names the value ("birthday")."""
    prefix = f"{field}." if field else ""
    integer(f"{prefix}month", month, minimum=1)
    integer(f"{prefix}day", day, minimum=1)
    if year is not None:
        integer(f"{prefix}year", year, minimum=1)
    try:
        # 2000 is a leap year, so 29 February is accepted when the year is unknown.
        date(2000 if year is None else year, month, day)
    except ValueError:
        shown = f"{month:02d}-{day:02d}" if year is None else f"{year}-{month:02d}-{day:02d}"
        raise InvalidInput(field or "day", shown, "a real calendar day") from None


def in_year(month: int, day: int, year: int) -> date:
    """The day ``month``/``day`` falls on in ``year``: 29 February on 28 February in
    common years, so that nobody's day is ever skipped."""
    try:
        return date(year, month, day)
    except ValueError:  # 29 February in a common year
        return date(year, 2, 28)


def integer(field: str, value: Any, *, minimum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(field, value, "an int")
    if minimum is not None and value < minimum:
        raise InvalidInput(field, value, f"an int of at least {minimum}")
    return value


def positive_int(field: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidInput(field, value, "a positive int")
    return value


def time_zone(field: str, value: Any) -> str:
    """An IANA time zone name that dateutil can resolve: a name, never a file's path
    (``gettz`` would read any file it is given)."""
    if not isinstance(value, str) or not _ZONE_NAME.fullmatch(value) or _zone(value) is None:
        raise InvalidInput(field, value, "an IANA time zone name such as 'Europe/Paris'")
    return value


# What IANA names are made of ("America/Argentina/Buenos_Aires", "Etc/GMT+5", "UTC"):
# parts of letters, digits, "_", "-" and "+", joined by "/"; no "." and no leading "/".
_ZONE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*")


def _zone(name: str) -> Any:
    """dateutil's zone for ``name``, or None; a file that is not a zone is None too."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return tz.gettz(name)
    except (ValueError, OSError):
        return None


def tags(field: str, value: Any) -> frozenset[str]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidInput(field, value, "a collection of non-empty strings")
    result = frozenset(value)
    for tag in result:
        if not isinstance(tag, str) or not tag:
            raise InvalidInput(field, value, "a collection of non-empty strings")
    return result


def duration(field: str, value: Any) -> relativedelta | timedelta | None:
    """A positive ``relativedelta`` or ``timedelta`` (or None)."""
    if value is None:
        return None
    if not isinstance(value, relativedelta | timedelta):
        raise InvalidInput(field, value, "a relativedelta, a timedelta or None")
    if isinstance(value, relativedelta):
        # Absolute fields (day=15, weekday=MO, ...) and negative parts make a "duration"
        # that can land before its start on some dates: only plain amounts of time.
        if any(getattr(value, name) is not None for name in _ABSOLUTE_FIELDS):
            raise InvalidInput(field, value, "an amount of time (years=1, days=14, ...)")
        if any(getattr(value, name) < 0 for name in _RELATIVE_FIELDS):
            raise InvalidInput(field, value, "a duration with no negative parts")
    probe = datetime(2000, 1, 1)  # noqa: DTZ001 - only compared with itself
    try:
        later = probe + value
    except (OverflowError, ValueError):  # beyond the year 9999: no real duration
        raise InvalidInput(field, value, "a duration of less than a thousand years") from None
    if not later > probe:
        raise InvalidInput(field, value, "a positive duration")
    if later.year >= 3000:
        raise InvalidInput(field, value, "a duration of less than a thousand years")
    return value


def span(field: str, value: Any) -> timedelta:
    """A timedelta of zero or more (how long before or after something)."""
    if not isinstance(value, timedelta) or value < timedelta(0):
        raise InvalidInput(field, value, "a timedelta of zero or more")
    return value


def delay(field: str, value: Any) -> relativedelta | timedelta | None:
    """How long after something to act: ``timedelta(0)`` (at once) or a duration."""
    if isinstance(value, timedelta) and value == timedelta(0):
        return value
    return duration(field, value)


_ABSOLUTE_FIELDS = ("year", "month", "day", "weekday", "hour", "minute", "second", "microsecond")
_RELATIVE_FIELDS = (
    "years",
    "months",
    "days",
    "leapdays",
    "hours",
    "minutes",
    "seconds",
    "microseconds",
)


Scalar = str | int | bool | Decimal | None

# How many digits a number in a map of values (a message's context, an event's attributes,
# a customer's preferences) may have before its point, and after it: as many as a rule
# file's decimals (up to 1e999). Written out in full, as a template writes a number,
# 1E+999999999 is a billion digits and 1E+999999999999999 exhausts memory, and Python
# refuses to write an int of more than 4300 digits at all (so no store could keep it).
LONGEST_NUMBER = 1000
_TOO_MANY_DIGITS = 10**LONGEST_NUMBER


class _Unwritable:
    """Stands for a number in an error's message: ``repr`` of an int of more than 4300
    digits raises, and thousands of digits would tell less than their count."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def number(field: str, value: int | Decimal) -> int | Decimal:
    """An int, or a finite Decimal, of at most :data:`LONGEST_NUMBER` digits before its
    point and as many after it: what a template can write out. A number a store kept
    from before numbers were bounded (see :func:`as_stored`) is taken as it is: the bound
    is for new input, and stored data must stay readable."""
    if isinstance(value, StoredInt | StoredDecimal):
        return value
    return writable_number(field, value)


def writable_number(field: str, value: int | Decimal) -> int | Decimal:
    """``value`` if a template can write it out (as :func:`number` says), however it was
    kept; else an InvalidInput naming it."""
    if isinstance(value, int):
        if _too_long(value):
            shown = _Unwritable(f"an int of more than {LONGEST_NUMBER} digits")
            raise InvalidInput(field, shown, f"an int of at most {LONGEST_NUMBER} digits")
        return value
    if not value.is_finite():
        raise InvalidInput(field, value, "a finite Decimal")
    if _too_long(value):
        expected = (
            f"a finite Decimal of at most {LONGEST_NUMBER} digits before its point "
            f"and {LONGEST_NUMBER} after it"
        )
        raise InvalidInput(field, value, expected)
    return value


def _too_long(value: int | Decimal) -> bool:
    """Whether the int, or the finite Decimal, ``value`` has more digits than
    :data:`LONGEST_NUMBER` before its point or after it."""
    if isinstance(value, int):
        return not -_TOO_MANY_DIGITS < value < _TOO_MANY_DIGITS
    # adjusted() is where the first digit stands (that of a zero too: 0E+5000 is 5001
    # zeros written out); -exponent how many places follow the point.
    if value.adjusted() >= LONGEST_NUMBER:
        return True
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)  # finite
    return -exponent > LONGEST_NUMBER


class StoredInt(int):
    """An int longer than :data:`LONGEST_NUMBER` digits that a store kept from before
    numbers in values were bounded (the previous release kept ints of up to 4300
    digits): equal to, and used as, the int it is. It marks the number as stored rather
    than new, so the values it is read back into, and those made from them again
    (``attrs.evolve``, an erasure, a replay), take it; arithmetic on it gives a plain
    int, which is new input again."""

    __slots__ = ()


class StoredDecimal(Decimal):
    """A finite Decimal with more digits than :data:`LONGEST_NUMBER` before or after its
    point that a store kept from before numbers were bounded: as :class:`StoredInt` for
    ints."""

    __slots__ = ()


def as_stored(value: Any) -> Any:
    """``value`` as read from a stored row: an int or a finite Decimal too long for new
    input marked as stored (:class:`StoredInt`, :class:`StoredDecimal`), so that
    :func:`number` takes it; anything else as it is.

    >>> as_stored(10**1000) == 10**1000, type(as_stored(10**1000)).__name__
    (True, 'StoredInt')
    >>> type(as_stored(12)).__name__, type(as_stored(Decimal("1E+2000"))).__name__
    ('int', 'StoredDecimal')
    """
    kind = type(value)
    if kind is int:
        return StoredInt(value) if _too_long(value) else value
    if kind is Decimal and value.is_finite() and _too_long(value):
        return StoredDecimal(value)
    return value


def scalar(field: str, value: Any, expected: str = "a str, int, bool, Decimal or None") -> Any:
    """A str, an int, a bool, a Decimal or None (no floats), its numbers bounded as
    :func:`number` says; ``expected`` is what a value of another type is told."""
    if isinstance(value, float) or not isinstance(value, str | int | Decimal | type(None)):
        raise InvalidInput(field, value, expected)
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        number(field, value)
    return value


def scalar_map(field: str, value: Any) -> FrozenMap[str, Any]:
    """A mapping of non-empty string keys to str, int, bool, Decimal or None (no floats;
    numbers as :func:`number` bounds them)."""
    if not isinstance(value, Mapping):
        raise InvalidInput(field, value, "a mapping of names to str, int, bool or Decimal")
    for key, item in value.items():
        if not isinstance(key, str) or not key:
            raise InvalidInput(f"{field} key", key, "a non-empty string")
        scalar(f"{field}[{key!r}]", item)
    return value if isinstance(value, FrozenMap) else FrozenMap(value)


# -- adapters for attrs fields -------------------------------------------------------------
# Validators get the attribute, so one function serves every field and still names it.
# Converters only normalise harmless spellings (an int amount, a set of tags); whatever they
# leave alone reaches the validator, which rejects it with a message.

Validator = Callable[[Any, "attrs.Attribute[Any]", Any], None]


def _validator(check: Callable[[str, Any], object]) -> Validator:
    def validate(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        check(attribute.alias or attribute.name, value)

    return validate


def _optional(check: Callable[[str, Any], object]) -> Callable[[str, Any], object]:
    def check_optional(field: str, value: Any) -> object:
        return None if value is None else check(field, value)

    return check_optional


is_identifier = _validator(identifier)
is_aware = _validator(aware)
is_moment = _validator(moment)
is_optional_aware = _validator(_optional(aware))
is_optional_text = _validator(optional_text)
is_text = _validator(text)
is_positive_int = _validator(positive_int)
is_optional_positive_int = _validator(_optional(positive_int))
is_int = _validator(integer)
is_decimal = _validator(decimal)
is_optional_decimal = _validator(_optional(decimal))
is_currency = _validator(currency)
is_time_zone = _validator(time_zone)
is_optional_time_zone = _validator(_optional(time_zone))
is_tags = _validator(tags)
is_scalar_map = _validator(scalar_map)
is_duration = _validator(duration)
is_span = _validator(span)
is_delay = _validator(delay)
is_optional_identifier = _validator(_optional(identifier))


def to_decimal(value: Any) -> Any:
    """Ints and numeric strings become Decimals exactly; anything else is left for the
    validator (floats in particular are never converted)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    if isinstance(value, str):
        try:
            return Decimal(value.strip())
        except InvalidOperation:
            return value
    return value


def to_frozenset(value: Any) -> Any:
    """Any collection of tags becomes a frozenset (a lone string is left to be rejected)."""
    if isinstance(value, Iterable) and not isinstance(value, str | frozenset | Mapping):
        try:
            return frozenset(value)
        except TypeError:
            return value
    return value


def to_frozen_map(value: Any) -> Any:
    """Any mapping becomes a FrozenMap."""
    if isinstance(value, Mapping) and not isinstance(value, FrozenMap):
        return FrozenMap(value)
    return value
