"""The facts a condition may look at, and the context they are read from.

Every fact has a dotted name in one of four namespaces:

- ``event.*``: the event being decided (its amount, items, channel, ...);
- ``customer.*``: the customer's profile and standing (tier, tags, preferences, ...);
- ``state.*``: what the customer did before this event (purchases, spend, stamps, ...);
- ``local.*``: the event's time in the customer's time zone (weekday, hour, ...).

This registry is the allowlist: the text form of conditions can name these facts and
nothing else, and the Python builders (``event.amount >= 50``) produce the same names.
A fact that takes arguments (``event.count(tag='coffee')``) validates them here.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs
from dateutil import tz
from dateutil.relativedelta import relativedelta

from custbond._durations import shift

if TYPE_CHECKING:
    from custbond.program import CustomerState

__all__ = ["FACTS", "WEEKDAYS", "FactSpec", "Facts", "Kind", "Param"]

Getter = Callable[["Facts"], Any]

WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")  # as in RRULE, Monday first


class Kind(enum.Enum):
    """What sort of value a fact has, which decides the comparisons it allows."""

    NUMBER = "a number"  # int or Decimal
    TEXT = "a string"
    WEEKDAY = "a weekday ('MO' to 'SU')"
    SET = "a set of strings"
    FLAG = "true or false"
    ANY = "a number, a string or true/false"  # custom attributes: checked when read


class Facts:
    """The context one rule evaluation reads from: the event, the customer's state before
    it, and the event's time in the customer's time zone (worked out on first use).

    Internal and short-lived: the engine builds one per event.
    """

    __slots__ = ("_local", "at", "event", "state", "zone")

    def __init__(
        self,
        event: Any,
        state: CustomerState,
        at: datetime,
        zone: tzinfo,
        local: datetime | None = None,
    ) -> None:
        self.event = event
        self.state = state
        self.at = at
        self.zone = zone
        self._local = local  # ``at`` in ``zone``, when the caller has it already

    @property
    def local(self) -> datetime:
        local = self._local
        if local is None:
            local = self._local = self.at.astimezone(self.zone)
        return local


def zone_of(state: CustomerState, default: str) -> tzinfo:
    """The customer's time zone, or the program's ``default`` (an IANA name)."""
    name = state.customer.time_zone or default
    found = _ZONES.get(name)
    if found is None:
        found = tz.gettz(name)
        assert found is not None  # both names were validated when their values were built
        _ZONES[name] = found
    return found


# Time zones by name: dateutil caches them too, behind a lock; this is read on every event.
_ZONES: dict[str, tzinfo] = {}


@attrs.frozen
class Param:
    """An argument a fact takes: ``tag`` in ``event.count(tag='coffee')``."""

    name: str
    kind: Kind
    required: bool = False


@attrs.frozen
class FactSpec:
    """One documented fact: its name, kind, what it means, and how to read it.

    ``build`` is called once per condition with the fact's arguments and returns the
    getter the compiled condition calls. ``events`` names the event types the fact exists
    for (``None``: all of them). ``optional`` facts may be missing (``None``): a customer
    without a tier, a first purchase without a previous one. ``between`` bounds the whole
    numbers a fact can be (an hour is 0 to 23), so that a condition comparing it with
    anything else, which could never hold (or always would), is refused.
    """

    name: str
    kind: Kind
    doc: str
    build: Callable[..., Getter]
    params: tuple[Param, ...] = ()
    events: frozenset[str] | None = None
    optional: bool = False
    # For facts with several optional params: "any" means at least one must be given,
    # "one" exactly one.
    choose: str | None = None
    between: tuple[int, int] | None = None


def _plain(getter: Getter) -> Callable[[], Getter]:
    return lambda: getter


def _items_matching(sku: str | None, tag: str | None) -> Callable[[Any], list[Any]]:
    def matching(event: Any) -> list[Any]:
        return [
            item
            for item in event.items
            if (sku is None or item.sku == sku) and (tag is None or tag in item.tags)
        ]

    return matching


def _count(sku: str | None = None, tag: str | None = None) -> Getter:
    matching = _items_matching(sku, tag)
    return lambda facts: sum(item.quantity for item in matching(facts.event))


def _spend(sku: str | None = None, tag: str | None = None) -> Getter:
    matching = _items_matching(sku, tag)
    return lambda facts: sum(
        (item.unit_price * item.quantity for item in matching(facts.event)), Decimal(0)
    )


def _attribute(name: str) -> Getter:
    return lambda facts: facts.event.attributes.get(name)


def _preference(key: str) -> Getter:
    return lambda facts: facts.state.customer.preferences.get(key)


def _stamps(card: str) -> Getter:
    return lambda facts: facts.state.stamps.get(card, 0)


def _days_since_last_purchase(facts: Facts) -> int | None:
    last = facts.state.activity.last_purchase_at
    if last is None:
        return None
    return (facts.local.date() - local_day(last, facts.zone)).days


def local_day(at: datetime, zone: tzinfo) -> date:
    """The calendar day ``at`` falls on in ``zone``. Kept: the same moments (a customer's
    last purchase) are asked about on every event, and converting one is slow."""
    # Zones cannot be hashed: told apart by identity (and kept alive). Two times in one
    # zone compare equal whatever their fold, so the fold is part of the key: the hour a
    # zone repeats when clocks go back is two hours.
    key = (at, at.fold, id(zone))
    found = _DAYS.get(key)
    if found is not None and found[0] is zone:
        return found[1]
    if len(_DAYS) >= _KEEP_DAYS:
        _DAYS.clear()
    day = at.astimezone(zone).date()
    _DAYS[key] = (zone, day)
    return day


_DAYS: dict[tuple[datetime, int, int], tuple[tzinfo, date]] = {}
_KEEP_DAYS = 1024  # enough for an event to ask again (its trace does); each is tracked by the gc


_ONE_DAY = timedelta(days=1)


def _spent_within(days: int | None = None, months: int | None = None) -> Getter:
    # "In the last 30 days" is today and the 29 local days before it; "in the last 12
    # months" starts the day after the same date a year ago.
    back = relativedelta(months=months or 0)
    before = timedelta(days=(days or 1) - 1)

    def spent(facts: Facts) -> Decimal:
        today = facts.local.date()
        since = shift(today, back, back=True) + _ONE_DAY if months else today - before
        return facts.state.activity.spent_since(since)

    return spent


_PURCHASE = frozenset({"Purchase"})
_AMOUNTS = frozenset({"Purchase", "Return"})


def _specs() -> dict[str, FactSpec]:
    specs = [
        # -- the event -----------------------------------------------------------------
        FactSpec(
            "event.type",
            Kind.TEXT,
            "the event's type: 'Purchase', 'Return', 'Visit', 'Signup' or 'CustomEvent'",
            _plain(lambda facts: type(facts.event).__name__),
        ),
        FactSpec(
            "event.amount",
            Kind.NUMBER,
            "the amount of a purchase or a return, in the program's currency",
            _plain(lambda facts: facts.event.amount),
            events=_AMOUNTS,
            optional=True,  # a return by items has no amount of its own
        ),
        FactSpec(
            "event.channel",
            Kind.TEXT,
            "where a purchase was made ('app', 'store', ...), if the host said",
            _plain(lambda facts: facts.event.channel),
            events=_PURCHASE,
            optional=True,
        ),
        FactSpec(
            "event.payment",
            Kind.TEXT,
            "how a purchase was paid ('co-brand-visa', ...), if the host said",
            _plain(lambda facts: facts.event.payment),
            events=_PURCHASE,
            optional=True,
        ),
        FactSpec(
            "event.quantity",
            Kind.NUMBER,
            "the number of items in a purchase (the sum of the line quantities)",
            _plain(lambda facts: sum(item.quantity for item in facts.event.items)),
            events=_PURCHASE,
        ),
        FactSpec(
            "event.skus",
            Kind.SET,
            "the SKUs of a purchase's items",
            _plain(lambda facts: frozenset(item.sku for item in facts.event.items)),
            events=_PURCHASE,
        ),
        FactSpec(
            "event.tags",
            Kind.SET,
            "every tag of a purchase's items",
            _plain(
                lambda facts: frozenset(tag for item in facts.event.items for tag in item.tags)
            ),
            events=_PURCHASE,
        ),
        FactSpec(
            "event.count",
            Kind.NUMBER,
            "how many items of a purchase have this sku and/or tag (quantities added up)",
            _count,
            params=(Param("sku", Kind.TEXT), Param("tag", Kind.TEXT)),
            events=_PURCHASE,
            choose="any",
        ),
        FactSpec(
            "event.spend",
            Kind.NUMBER,
            "what a purchase's items with this sku and/or tag cost (quantity x unit price)",
            _spend,
            params=(Param("sku", Kind.TEXT), Param("tag", Kind.TEXT)),
            events=_PURCHASE,
            choose="any",
        ),
        FactSpec(
            "event.name",
            Kind.TEXT,
            "the name of a custom event",
            _plain(lambda facts: facts.event.name),
            events=frozenset({"CustomEvent"}),
        ),
        FactSpec(
            "event.attribute",
            Kind.ANY,
            "an attribute of a custom event, by name",
            _attribute,
            params=(Param("name", Kind.TEXT, required=True),),
            events=frozenset({"CustomEvent"}),
            optional=True,
        ),
        FactSpec(
            "event.location",
            Kind.TEXT,
            "where a visit took place, if the host said",
            _plain(lambda facts: facts.event.location),
            events=frozenset({"Visit"}),
            optional=True,
        ),
        # -- the customer --------------------------------------------------------------
        FactSpec(
            "customer.tier",
            Kind.TEXT,
            "the customer's tier, if they have one",
            _plain(lambda facts: facts.state.tier),
            optional=True,
        ),
        FactSpec(
            "customer.tags",
            Kind.SET,
            "the customer's tags",
            _plain(lambda facts: facts.state.customer.tags),
        ),
        FactSpec(
            "customer.preference",
            Kind.TEXT,
            "one of the customer's preferences, by key",
            _preference,
            params=(Param("key", Kind.TEXT, required=True),),
            optional=True,
        ),
        FactSpec(
            "customer.birthday_month",
            Kind.NUMBER,
            "the month of the customer's birthday (1 to 12), if known",
            _plain(
                lambda facts: (
                    None
                    if facts.state.customer.birthday is None
                    else facts.state.customer.birthday.month
                )
            ),
            optional=True,
            between=(1, 12),
        ),
        FactSpec(
            "customer.time_zone",
            Kind.TEXT,
            "the customer's IANA time zone, if known",
            _plain(lambda facts: facts.state.customer.time_zone),
            optional=True,
        ),
        # -- what the customer did before ----------------------------------------------
        FactSpec(
            "state.purchases",
            Kind.NUMBER,
            "how many purchases the customer made before this event",
            _plain(lambda facts: facts.state.activity.purchases),
        ),
        FactSpec(
            "state.spent",
            Kind.NUMBER,
            "what the customer spent before this event, in all, less what they returned",
            _plain(lambda facts: facts.state.activity.spent),
        ),
        FactSpec(
            "state.spent_within",
            Kind.NUMBER,
            "what the customer spent in the last N days or months (today included), "
            "before this event",
            _spent_within,
            params=(Param("days", Kind.NUMBER), Param("months", Kind.NUMBER)),
            choose="one",
        ),
        FactSpec(
            "state.visits",
            Kind.NUMBER,
            "how many visits the customer made before this event",
            _plain(lambda facts: facts.state.activity.visits),
        ),
        FactSpec(
            "state.days_since_last_purchase",
            Kind.NUMBER,
            "local calendar days since the customer's previous purchase, if any",
            _plain(_days_since_last_purchase),
            optional=True,
        ),
        FactSpec(
            "state.balance",
            Kind.NUMBER,
            "the customer's available points before this event",
            _plain(lambda facts: facts.state.ledger.available),
        ),
        FactSpec(
            "state.stamps",
            Kind.NUMBER,
            "the stamps on one of the customer's punch cards, by card name",
            _stamps,
            params=(Param("card", Kind.TEXT, required=True),),
        ),
        # -- the event's local time ----------------------------------------------------
        FactSpec(
            "local.weekday",
            Kind.WEEKDAY,
            "the day of the week: 'MO', 'TU', 'WE', 'TH', 'FR', 'SA' or 'SU'",
            _plain(lambda facts: WEEKDAYS[facts.local.weekday()]),
        ),
        FactSpec(
            "local.hour",
            Kind.NUMBER,
            "the hour of the day, 0 to 23",
            _plain(lambda facts: facts.local.hour),
            between=(0, 23),
        ),
        FactSpec(
            "local.day",
            Kind.NUMBER,
            "the day of the month, 1 to 31",
            _plain(lambda facts: facts.local.day),
            between=(1, 31),
        ),
        FactSpec(
            "local.month",
            Kind.NUMBER,
            "the month, 1 to 12",
            _plain(lambda facts: facts.local.month),
            between=(1, 12),
        ),
        FactSpec(
            "local.is_birthday",
            Kind.FLAG,
            "whether it is the customer's birthday (29 February counts on 28 February in "
            "other years)",
            _plain(_is_birthday),
        ),
    ]
    return {spec.name: spec for spec in specs}


def _is_birthday(facts: Facts) -> bool:
    birthday = facts.state.customer.birthday
    if birthday is None:
        return False
    today = facts.local.date()
    return bool(birthday.in_year(today.year) == today)


FACTS: Mapping[str, FactSpec] = _specs()
