"""Rows as JSON text, for the database stores, and back: safely, exactly, quickly.

A row (see :mod:`custbond.storage._rows`) is a tuple of plain values. JSON carries
``None``, ``bool``, ``int``, ``str`` and nested tuples as they are; everything else is
written as a one-key object naming its kind, and read back through that kind's own
constructor, never through ``eval`` or ``pickle``: a tampered database can make a read
fail, not run code.

================  ==========================================  =================================
kind              written as                                  read back as
================  ==========================================  =================================
Decimal           ``{"n": "12.40"}``                          the same Decimal, digits and all
datetime in UTC   ``{"u": 1772438400000000}`` (microseconds     the same datetime, in UTC
                  since 1970)
other datetime    ``{"t": ["2026-03-02T08:00:00", "UTC"]}``   the same wall time in the same zone
                  (a third item, 1, when ``fold`` is set)
date              ``{"d": "2026-03-02"}``                     the date
timedelta         ``{"s": [days, seconds, microseconds]}``    the timedelta
relativedelta     ``{"r": [years, months, days, leapdays,     the relativedelta (only amounts
                  hours, minutes, seconds, microseconds]}``   of time: one with absolute fields,
                                                              ``day=15`` or ``weekday=MO``, is
                                                              refused when written)
frozenset         ``{"f": [...]}`` (sorted when it can be)    a frozenset
FrozenMap         ``{"m": [[key, value], ...]}``              a FrozenMap (keys may be ints)
Hold              ``{"h": [key, points, draws, placed, ends]}``  the ledger's Hold
================  ==========================================  =================================

A time zone is kept by name where it has one (``zoneinfo`` keys, ``dateutil`` zone
files, UTC) so that arithmetic on a value read back (a month added across a change of
daylight saving time) gives what it gave before it was stored; a zone without a name is
kept as its offset at that moment.

>>> from datetime import datetime, timezone
>>> from decimal import Decimal
>>> row = ("o-1", Decimal("12.40"), datetime(2026, 3, 2, 8, tzinfo=timezone.utc), ("a", 1))
>>> text = dumps(row)
>>> text
'["o-1",{"n":"12.40"},{"u":1772438400000000},["a",1]]'
>>> loads(text) == row
True
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from dateutil import tz
from dateutil.relativedelta import relativedelta

from custbond._frozen import FrozenMap
from custbond.ledger import Hold
from custbond.storage import _rows as rows

__all__ = ["dumps", "encode", "loads"]

Row = tuple[Any, ...]

_UTC = UTC
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
# A relativedelta's amounts of time, in the order {"r": [...]} lists them, and the fields
# that set a date's parts rather than add to them (not kept: see _relativedelta_fields).
_RELATIVE = ("years", "months", "days", "leapdays", "hours", "minutes", "seconds", "microseconds")
_ABSOLUTE = ("year", "month", "day", "weekday", "hour", "minute", "second", "microsecond")


def _zone_name(zone: tzinfo | None, moment: datetime) -> str:
    """A name that reads back as ``zone``: "UTC", a zone's IANA name, or an offset."""
    name = _NAMES.get(id(zone))
    if name is not None and _NAMED[name] is zone:
        return name
    if isinstance(zone, ZoneInfo):
        name = "zoneinfo:" + zone.key
    else:  # a dateutil zone file knows its path: .../zoneinfo/Europe/Paris
        path = getattr(zone, "_filename", None)
        if isinstance(path, str) and "zoneinfo/" in path:
            name = path.rsplit("zoneinfo/", 1)[1]
            if tz.gettz(name) is not zone:  # not the zone gettz() gives for that name
                name = None
    if name is None:
        offset = moment.utcoffset()
        assert offset is not None  # rows hold aware datetimes only
        if not offset and zone in (_UTC, tz.UTC):
            name = "UTC"
        else:
            # No name to look it up by again: the offset at this moment keeps the instant
            # and the wall time, not the zone's later changes. Not remembered per zone.
            return _offset_name(offset)
    assert zone is not None
    _NAMES[id(zone)] = name
    _NAMED[name] = zone  # keeps the zone alive while its id is a key of _NAMES
    return name


def _offset_name(offset: timedelta) -> str:
    sign = "-" if offset < timedelta(0) else "+"
    seconds = int(abs(offset).total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    text = f"{sign}{hours:02d}:{minutes:02d}"
    return text + f":{seconds:02d}" if seconds else text


_NAMES: dict[int, str] = {}  # id(zone) -> its name
_NAMED: dict[str, tzinfo] = {}  # name -> the zone, for reading back


def _zone(name: str) -> tzinfo:
    zone = _NAMED.get(name)
    if zone is not None:
        return zone
    if name == "UTC":
        zone = _UTC
    elif name[0] in "+-":
        sign = -1 if name[0] == "-" else 1
        parts = [int(part) for part in name[1:].split(":")]
        hours, minutes, seconds = (*parts, 0)[:3]
        zone = timezone(sign * timedelta(hours=hours, minutes=minutes, seconds=seconds))
    elif name.startswith("zoneinfo:"):
        zone = ZoneInfo(name.removeprefix("zoneinfo:"))
    else:
        found = tz.gettz(name)
        if found is None:
            raise ValueError(f"unknown time zone {name!r} in a stored row")
        zone = found
    _NAMED[name] = zone
    return zone


def _default(value: Any) -> Any:
    """What JSON cannot carry as it is, as a one-key object."""
    kind = type(value)
    # Datetimes first, then Decimals: rows hold about five times as many of the first.
    if kind is datetime:
        if value.tzinfo is _UTC:  # most of them: microseconds since 1970, quick both ways
            return {"u": (value - _EPOCH) // _MICROSECOND}
        wall = value.replace(tzinfo=None, fold=0).isoformat()
        zone = _zone_name(value.tzinfo, value)
        return {"t": [wall, zone, 1] if value.fold else [wall, zone]}
    if kind is Decimal:
        return {"n": str(value)}
    if kind is date:
        return {"d": value.isoformat()}
    if kind is timedelta:
        return {"s": [value.days, value.seconds, value.microseconds]}
    if kind is relativedelta:
        return {"r": _relativedelta_fields(value)}
    if kind is frozenset:
        try:
            items = sorted(value)
        except TypeError:  # mixed kinds: any order reads back as the same set
            items = list(value)
        return {"f": items}
    if isinstance(value, FrozenMap):
        return {"m": [[key, item] for key, item in value.items()]}
    if kind is Hold:
        draws = rows.draws_row(value.draws)
        return {"h": [value.key, value.points, draws, value.placed_at, value.expires_at]}
    if isinstance(value, Decimal):  # a number kept from before numbers were bounded
        return {"n": str(value)}  # (_validate.StoredDecimal): read back as one again
    raise TypeError(f"a stored row cannot hold {value!r} ({kind.__name__})")


def _relativedelta_fields(value: relativedelta) -> list[Any]:
    """A relativedelta's amounts of time, or a TypeError for one that also sets a date's
    parts (``day=15``, ``weekday=MO``): custbond's durations are amounts of time only."""
    absolute = [name for name in _ABSOLUTE if getattr(value, name) is not None]
    if absolute:
        raise TypeError(
            f"a stored row cannot hold {value!r}: a relativedelta with absolute fields"
            f" ({', '.join(absolute)}); only amounts of time (years=1, days=14, ...) are kept"
        )
    return [getattr(value, name) for name in _RELATIVE]


def _relativedelta(value: Any) -> relativedelta:
    """The relativedelta of {"r": [...]}: eight numbers, else a ValueError."""
    if (
        type(value) is not list
        or len(value) != len(_RELATIVE)
        or not all(type(amount) in (int, float) for amount in value)
    ):
        raise ValueError(f"a stored row holds a relativedelta it cannot read: {value!r}")
    return relativedelta(**dict(zip(_RELATIVE, value, strict=True)))


def _tuples(value: Any) -> Any:
    """JSON arrays read back as lists: rows are tuples, all the way down."""
    return tuple([_tuples(item) if type(item) is list else item for item in value])


def _object(fields: dict[str, Any]) -> Any:
    if len(fields) != 1:
        raise ValueError(f"a stored row holds an object it cannot read: {fields!r}")
    ((kind, value),) = fields.items()
    if kind == "u":
        return _EPOCH + timedelta(microseconds=value)
    if kind == "n":
        return Decimal(value)
    if kind == "t":
        moment = datetime.fromisoformat(value[0]).replace(tzinfo=_zone(value[1]))
        return moment.replace(fold=1) if len(value) > 2 else moment
    if kind == "d":
        return date.fromisoformat(value)
    if kind == "s":
        return timedelta(*value)
    if kind == "r":
        return _relativedelta(value)
    if kind == "f":
        return frozenset(_tuples(value))
    if kind == "m":
        return FrozenMap({_key(key): _key(item) for key, item in value})
    if kind == "h":
        key, points, draws, placed_at, expires_at = value
        return Hold(key, points, rows.draws_from_row(_tuples(draws)), placed_at, expires_at)
    raise ValueError(f"a stored row holds an object of unknown kind {kind!r}")


def _key(key: Any) -> Any:
    return _tuples(key) if type(key) is list else key


# ASCII output and no check for cycles (rows have none): the encoder's fastest settings.
_settings = json.JSONEncoder(
    separators=(",", ":"),
    ensure_ascii=True,
    check_circular=False,
    allow_nan=False,
    default=_default,
)
_decode = json.JSONDecoder(object_hook=_object).decode


def _c_encoder() -> Callable[[Row], str]:
    """``_settings.encode``, through json's C encoder made once rather than on every call.

    ``JSONEncoder.encode`` makes a new C encoder for each value it encodes, with the same
    arguments as here (see ``JSONEncoder.iterencode``): for the few values of a row, that
    was an eighth of the time. The text is the same (tests/test_store_fast_paths.py). Where
    json has no C encoder (another Python), the encoder's own method is used."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # pragma: no cover - CPython has it
        return _settings.encode
    chunks = make(
        None,  # markers: no check for cycles
        _default,
        json.encoder.encode_basestring_ascii,
        None,  # indent
        _settings.key_separator,
        _settings.item_separator,
        False,  # sort_keys
        False,  # skipkeys
        False,  # allow_nan
    )
    join = "".join

    def encode(row: Row) -> str:
        return join(chunks(row, 0))

    return encode


_encode = _c_encoder()


def encode(row: Row) -> str:
    """``row`` as JSON text."""
    return _encode(row)


def dumps(row: Row | None) -> str | None:
    """``row`` as JSON text (None stays None, for a column that may be NULL)."""
    return None if row is None else _encode(row)


def loads(text: str | None) -> Any:
    """The row ``text`` holds, with tuples where it had tuples (None for NULL)."""
    if text is None:
        return None
    value = _decode(text)
    if type(value) is not list:
        raise ValueError(f"a stored row must be a JSON array; got {text[:80]!r}")
    if list in map(type, value):
        return _tuples(value)
    return tuple(value)
