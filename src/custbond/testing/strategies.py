"""Hypothesis strategies for custbond's values: customers, purchases, whole histories,
programs, complaints and survey answers, recovery policies; for the social bond, social
policies, personal contacts, milestones, key reviews, occasions and members' events; for
the customization and structural bonds, preferences, contents, plans, sequences and their
policies; and what a customer's bonds hold (:func:`helds`).

Install them with the ``testing`` extra (``pip install 'custbond[testing]'``). They follow
Hypothesis' own style: each is named for the plural of what it makes, takes keyword-only
arguments with ``min_``/``max_`` bounds, and raises
:class:`hypothesis.errors.InvalidArgument` for arguments that make no sense. Every value
they make is valid: constructing it raised nothing, and a history can be recorded event by
event into a :class:`~custbond.RetentionService` without an error.

Once the package is installed, Hypothesis finds these through its entry point, so
``st.from_type(Purchase)`` and ``st.builds(...)`` with custbond types just work.

A host checking a property of its program over every history:

>>> from datetime import datetime, timezone
>>> from hypothesis import given, settings
>>> from custbond import FixedClock, MemoryStore, Program, RetentionService
>>> from custbond.testing.strategies import histories
>>> START = datetime(2026, 1, 1, tzinfo=timezone.utc)
>>> @settings(max_examples=20, database=None)
... @given(histories(max_size=12, start=START))
... def test_available_points_are_never_negative(events):
...     clock = FixedClock(START)
...     service = RetentionService(Program(), MemoryStore(), clock=clock)
...     for event in events:
...         clock.set(event.at)  # histories are in time order
...         assert service.record(event).balance.available >= 0
>>> test_available_points_are_never_negative()
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from functools import cache
from itertools import pairwise
from typing import Any, TypeVar

import attrs
from dateutil.relativedelta import relativedelta

from custbond import _validate as v
from custbond.bonds import achievements
from custbond.bonds.achievements import Achievement
from custbond.bonds.cards import PunchCard
from custbond.bonds.catalog import Reward
from custbond.bonds.coupons import Coupon
from custbond.bonds.customization import (
    Content,
    CustomizationPolicy,
    Preferences,
    SavedCart,
    Wish,
)
from custbond.bonds.held import Held
from custbond.bonds.occasions import Occasion, OccasionPolicy
from custbond.bonds.rhythm import NextNeedPolicy, Rhythm
from custbond.bonds.sequences import SEQUENCE_EVENTS, Enrollment, Sequence, SequenceStep
from custbond.bonds.social import (
    CALLABLE_EVENTS,
    Cadence,
    CallAfter,
    KeyReview,
    MembersEvent,
    Milestone,
    SocialPolicy,
)
from custbond.bonds.structure import Integration, StructuralPolicy
from custbond.bonds.subscriptions import (
    Plan,
    Subscription,
    advance,
    cancel,
    pause,
    skip,
    subscribe,
    upcoming,
)
from custbond.bonds.tiers import Level, TierLadder
from custbond.customers import Birthday, Customer
from custbond.errors import InvalidInput
from custbond.events import (
    Appointment,
    AppointmentCancelled,
    ContactMade,
    CustomEvent,
    Event,
    EventAttended,
    IntegrationAdopted,
    IntegrationDropped,
    LineItem,
    OfferAccepted,
    Purchase,
    Referral,
    Return,
    Signup,
    Visit,
)
from custbond.ledger import PointsPolicy
from custbond.messaging.message import MessageKind
from custbond.messaging.occasions import ExpiryNotice, Greeting, Holiday, Reminder, Send
from custbond.messaging.policy import FrequencyCap, MessagingPolicy, QuietHours
from custbond.messaging.templates import ANY_CHANNEL, DEFAULT_TEMPLATES, Template
from custbond.program import BASE_RULE, Program
from custbond.recovery.calendar import BusinessCalendar
from custbond.recovery.compensation import (
    Apology,
    Compensation,
    CompensationLadder,
    Gesture,
    GoodwillPoints,
    GoodwillVoucher,
    Refund,
    Rung,
)
from custbond.recovery.events import (
    ComplaintAcknowledged,
    ComplaintFiled,
    ComplaintResolved,
    SurveyResponse,
)
from custbond.recovery.incidents import IncidentDeclared
from custbond.recovery.policy import (
    Escalation,
    FollowUp,
    RecoveryPolicy,
    SurveyInvite,
    Targets,
)
from custbond.recovery.severity import Severity
from custbond.rules.conditions import MAX_INT, AllOf, Always, AnyOf, Compare, Condition, Not
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
from custbond.rules.facts import FACTS, WEEKDAYS, FactSpec, Kind
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
)
from custbond.vouchers import VoucherOffer

__all__ = [
    "comparisons",
    "complaints",
    "conditions",
    "contacts",
    "contents",
    "customers",
    "customization_policies",
    "helds",
    "histories",
    "key_reviews",
    "line_items",
    "members_events",
    "milestones",
    "next_need_policies",
    "occasion_policies",
    "occasions",
    "plans",
    "preferences",
    "programs",
    "purchases",
    "recovery_policies",
    "register_type_strategies",
    "sequences",
    "social_policies",
    "structural_policies",
    "survey_responses",
]


def register_type_strategies() -> None:
    """Register strategies for custbond's value types with Hypothesis.

    Afterwards ``st.from_type(Purchase)`` draws from :func:`purchases`, and likewise for
    :class:`~custbond.Customer`, :class:`~custbond.LineItem`, :class:`~custbond.Birthday`,
    :class:`~custbond.Return`, :class:`~custbond.Visit`, :class:`~custbond.Signup`,
    :class:`~custbond.CustomEvent`, :class:`~custbond.Referral`,
    :class:`~custbond.Appointment` and :class:`~custbond.AppointmentCancelled` (a lone
    ``Return`` names a purchase no one has seen, and a lone ``AppointmentCancelled`` an
    appointment no one booked; use :func:`histories` for returns of real purchases and
    cancellations of real appointments). For service recovery:
    :class:`~custbond.ComplaintFiled` draws from :func:`complaints`,
    :class:`~custbond.SurveyResponse` from :func:`survey_responses`,
    :class:`~custbond.recovery.RecoveryPolicy` from :func:`recovery_policies`, and
    :class:`~custbond.ComplaintAcknowledged`, :class:`~custbond.ComplaintResolved`,
    :class:`~custbond.recovery.IncidentDeclared`,
    :class:`~custbond.recovery.BusinessCalendar` and
    :class:`~custbond.recovery.CompensationLadder` are registered too (a lone
    acknowledgement or resolution names a complaint no one filed). For the social bond:
    :class:`~custbond.SocialPolicy` draws from :func:`social_policies`,
    :class:`~custbond.ContactMade` from :func:`contacts`, the milestones, key reviews,
    occasions, occasion policies and members' events from their own strategies, and
    :class:`~custbond.Cadence`, :class:`~custbond.CallAfter` and
    :class:`~custbond.EventAttended` are registered too. For the customization and
    structural bonds: preferences, contents, next-need and customization policies, plans,
    sequences and structural policies from theirs, and the rhythms, wishes, saved carts,
    subscriptions, enrollments, integrations and sequence steps, and the events
    :class:`~custbond.OfferAccepted`, :class:`~custbond.IntegrationAdopted` and
    :class:`~custbond.IntegrationDropped`, too; :class:`~custbond.bonds.held.Held` draws
    from :func:`helds`. A :class:`~custbond.Program` draws from :func:`programs`, and its
    parts (a :class:`~custbond.PointsPolicy`, punch cards, rewards, coupons and
    achievements) from the strategies it uses for them. Hypothesis calls this through the
    ``hypothesis`` entry point when it is imported; calling it again is harmless.

    >>> from hypothesis import strategies as st
    >>> register_type_strategies()
    >>> register_type_strategies()
    >>> from hypothesis import given, settings
    >>> @settings(max_examples=5, database=None)
    ... @given(st.from_type(Purchase))
    ... def test_from_type_draws_purchases(order):
    ...     assert isinstance(order, Purchase)
    >>> test_from_type_draws_purchases()
    """
    # Imported here, and this function is defined before the module imports Hypothesis:
    # importing Hypothesis runs its entry points, and ours imports this function from this
    # module, which may be the one half-way through importing Hypothesis.
    from hypothesis import strategies as st  # noqa: PLC0415

    # Registered by name, resolved when first drawn from: by then this module has been
    # fully imported, whichever module imported Hypothesis first.
    factories = {
        Achievement: "_achievements",
        Appointment: "_appointments",
        AppointmentCancelled: "_cancellations",
        Birthday: "_birthdays",
        BusinessCalendar: "_calendars",
        Cadence: "_cadences",
        CallAfter: "_calls_after",
        CompensationLadder: "_ladders_of_compensation",
        ComplaintAcknowledged: "_acknowledgements",
        ComplaintFiled: "complaints",
        ComplaintResolved: "_resolutions",
        ContactMade: "contacts",
        Content: "contents",
        Coupon: "_coupons",
        Customer: "customers",
        CustomEvent: "_custom_events",
        CustomizationPolicy: "customization_policies",
        Enrollment: "_enrollments",
        EventAttended: "_attendances",
        Held: "helds",
        IncidentDeclared: "_incidents",
        Integration: "_integrations",
        IntegrationAdopted: "_adoptions",
        IntegrationDropped: "_drops",
        KeyReview: "key_reviews",
        LineItem: "line_items",
        MembersEvent: "members_events",
        Milestone: "milestones",
        NextNeedPolicy: "next_need_policies",
        Occasion: "occasions",
        OccasionPolicy: "occasion_policies",
        OfferAccepted: "_acceptances",
        Plan: "plans",
        PointsPolicy: "_points_policies",
        Program: "programs",
        PunchCard: "_cards",
        Preferences: "preferences",
        Purchase: "purchases",
        RecoveryPolicy: "recovery_policies",
        Referral: "_referrals",
        Return: "_returns",
        Reward: "_rewards",
        Rhythm: "_rhythms",
        SavedCart: "_saved_carts",
        Sequence: "sequences",
        SequenceStep: "_sequence_steps",
        Signup: "_signups",
        SocialPolicy: "social_policies",
        StructuralPolicy: "structural_policies",
        Subscription: "_subscriptions",
        SurveyResponse: "survey_responses",
        Visit: "_visits",
        Wish: "_wishes",
    }
    for type_, name in factories.items():
        st.register_type_strategy(type_, _resolver(name))


def _resolver(name: str) -> Callable[[type[Any]], Any]:
    def resolve(_: type[Any]) -> Any:
        return globals()[name]()

    return resolve


# Hypothesis is imported after register_type_strategies is defined: see the comment there.
from hypothesis import strategies as st  # noqa: E402
from hypothesis.errors import InvalidArgument  # noqa: E402
from hypothesis.strategies import SearchStrategy  # noqa: E402

# -- realistic vocabularies ----------------------------------------------------------------

# A small, realistic spread of IANA zones: both hemispheres, half and three-quarter hour
# offsets, zones with and without daylight saving time, and one that abolished it.
_TIME_ZONES = (
    "UTC",
    "Europe/London",
    "Europe/Paris",
    "Europe/Berlin",
    "America/New_York",
    "America/Los_Angeles",
    "America/St_Johns",
    "America/Sao_Paulo",
    "Asia/Tokyo",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Australia/Sydney",
    "Australia/Adelaide",
    "Pacific/Auckland",
    "Africa/Johannesburg",
    # Clocks that jump at midnight: some days start at 01:00, and some have two midnights.
    "Asia/Beirut",
    "America/Santiago",
)
_NAMES = (
    "Ada Lovelace",
    "Bo Chen",
    "Chidi Okafor",
    "Dolores O'Riordan",
    "Élodie Brassens",
    "Fatima Al-Sayed",
    "Grace Hopper",
    "Hiroshi Tanaka",
    "Ingrid Bjørnstad",
    "José Álvarez",
    "Zoë Kowalczyk",
)
_MAIL_DOMAINS = ("example.com", "example.org", "mail.example.net", "café.example")
_TAGS = ("oat-milk", "gluten-free", "vegan", "vip", "regular", "student", "b2b", "newsletter")
_SKUS = (
    "flat-white",
    "espresso",
    "oat-latte",
    "croissant",
    "bagel",
    "gift-card",
    "haircut",
    "shampoo",
    "label-roll",
)
_CHANNELS = ("store", "online", "app", "phone")
_LOCATIONS = ("high-street", "station", "airport", "online")
_EVENT_NAMES = ("review_posted", "survey_answered", "app_opened", "referral_sent")
_SERVICES = ("haircut", "colour", "beard trim", "car wash", "massage")
_DEFAULT_START = datetime(2026, 1, 1, tzinfo=UTC)
T = TypeVar("T")
# The longest quiet spell between two events of a history.
_MAX_GAP = timedelta(days=45)
_MAX_AHEAD = timedelta(days=60)  # the latest an appointment begins after its booking


# -- argument validation -------------------------------------------------------------------


def _check_strategy(name: str, value: object) -> None:
    if not isinstance(value, SearchStrategy):
        raise InvalidArgument(f"{name}={value!r} must be a SearchStrategy, or None")


def _check_currency(value: object) -> str:
    try:
        return v.currency("currency", value)
    except InvalidInput:
        raise InvalidArgument(
            f"currency={value!r} must be an ISO 4217 code such as 'USD'"
        ) from None


def _check_size(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgument(f"{name}={value!r} must be an int")
    if value < 0:
        raise InvalidArgument(f"{name}={value!r} must be at least 0")
    return value


def _check_bounds(
    low_name: str, low: object, high_name: str, high: object, currency: str
) -> tuple[int, int]:
    """Money bounds as a range of minor units (cents) of ``currency``."""
    for name, value in ((low_name, low), (high_name, high)):
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            raise InvalidArgument(
                f"{name}={value!r} must be a Decimal or an int (floats cannot hold money)"
            )
    assert isinstance(low, int | Decimal)
    assert isinstance(high, int | Decimal)
    for name, value in ((low_name, low), (high_name, high)):
        if not Decimal(value).is_finite():
            raise InvalidArgument(f"{name}={value!r} must be finite")
        if value < 0:
            raise InvalidArgument(f"{name}={value!r} must be at least 0")
        if value >= v.MAX_AMOUNT:
            raise InvalidArgument(f"{name}={value!r} must be less than {v.MAX_AMOUNT}")
    if low > high:
        raise InvalidArgument(f"{low_name}={low!r} must not be greater than {high_name}={high!r}")
    scale = Decimal(10) ** v.minor_units(currency)
    low_units = int((Decimal(low) * scale).to_integral_value(rounding=ROUND_CEILING))
    high_units = int((Decimal(high) * scale).to_integral_value(rounding=ROUND_FLOOR))
    if low_units > high_units:
        raise InvalidArgument(
            f"no amount in {currency} lies between {low_name}={low!r} and {high_name}={high!r}"
            f" ({currency} has {v.minor_units(currency)} decimal places)"
        )
    return low_units, high_units


def _check_quantities(min_quantity: object, max_quantity: object) -> tuple[int, int]:
    for name, value in (("min_quantity", min_quantity), ("max_quantity", max_quantity)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidArgument(f"{name}={value!r} must be an int")
        if value < 1:
            raise InvalidArgument(f"{name}={value!r} must be at least 1")
    assert isinstance(min_quantity, int)
    assert isinstance(max_quantity, int)
    if min_quantity > max_quantity:
        raise InvalidArgument(
            f"min_quantity={min_quantity!r} must not be greater than max_quantity={max_quantity!r}"
        )
    return min_quantity, max_quantity


def _to_money(units: int, currency: str) -> Decimal:
    """``units`` minor units of ``currency`` as a Decimal with the currency's places."""
    return Decimal(units).scaleb(-v.minor_units(currency))


def _units(amount: Decimal, currency: str) -> int:
    return int(amount.scaleb(v.minor_units(currency)))


# -- building blocks -----------------------------------------------------------------------


# Any character an id may hold: all but surrogates (not text) and NUL (no database keeps it).
_ID_CHARACTERS = st.characters(codec="utf-8", exclude_characters="\x00")


def _default_ids(prefix: str) -> SearchStrategy[str]:
    """Ids the way hosts write them (``c-42``), and now and then any text a host might use."""
    return st.one_of(
        st.integers(min_value=1, max_value=99_999).map(lambda n: f"{prefix}{n}"),
        st.text(_ID_CHARACTERS, min_size=1, max_size=30).map(str.strip).filter(bool),
    )


def _zones() -> SearchStrategy[Any]:
    # Resolved when first drawn from, never at import: looking a zone up reads files.
    from dateutil import tz  # noqa: PLC0415

    return st.sampled_from(_TIME_ZONES).map(tz.gettz)


def _aware_datetimes() -> SearchStrategy[datetime]:
    return st.datetimes(
        min_value=datetime(2020, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive
        max_value=datetime(2035, 12, 31),  # noqa: DTZ001
        timezones=st.deferred(_zones),
        allow_imaginary=False,
    )


def _birthdays() -> SearchStrategy[Birthday]:
    known_year = st.dates(min_value=date(1920, 1, 1), max_value=date(2012, 12, 31)).map(
        lambda day: Birthday(month=day.month, day=day.day, year=day.year)
    )
    unknown_year = st.dates(min_value=date(2000, 1, 1), max_value=date(2000, 12, 31)).map(
        lambda day: Birthday(month=day.month, day=day.day)
    )
    leap_day = st.sampled_from([None, 1988, 2000, 2004]).map(
        lambda year: Birthday(month=2, day=29, year=year)
    )
    return st.one_of(leap_day, unknown_year, known_year)


def _emails() -> SearchStrategy[str]:
    local = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789._+-", min_size=1, max_size=20)
    return st.builds(
        lambda user, domain: f"{user}@{domain}", local, st.sampled_from(_MAIL_DOMAINS)
    )


def _scalars() -> SearchStrategy[Any]:
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(10**6), max_value=10**6),
        st.text(max_size=20),
        st.decimals(min_value=-1000, max_value=1000, places=2),
    )


def _attributes() -> SearchStrategy[dict[str, Any]]:
    return st.dictionaries(
        st.sampled_from(["stars", "colour", "size", "source", "count", "note"]),
        _scalars(),
        max_size=3,
    )


def _skus() -> SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(_SKUS), st.text(_ID_CHARACTERS, min_size=1, max_size=20).map(str.strip)
    ).filter(bool)


def _line(draw: st.DrawFn, *, units: int, currency: str, skus: SearchStrategy[str]) -> LineItem:
    """A line worth exactly ``units`` minor units."""
    if units == 0:
        quantity, unit = draw(st.integers(min_value=1, max_value=3)), 0
    else:
        divisors = [q for q in range(1, 7) if units % q == 0]
        quantity = draw(st.sampled_from(divisors))
        unit = units // quantity
    tags = draw(st.frozensets(st.sampled_from(_TAGS), max_size=2))
    return LineItem(
        sku=draw(skus), quantity=quantity, unit_price=_to_money(unit, currency), tags=tags
    )


def _split(draw: st.DrawFn, units: int) -> list[int]:
    """``units`` split into one to four non-negative parts."""
    parts = draw(st.integers(min_value=1, max_value=4))
    cuts = sorted(draw(st.lists(st.integers(0, units), min_size=parts - 1, max_size=parts - 1)))
    bounds = [0, *cuts, units]
    return [high - low for low, high in pairwise(bounds)]


@st.composite
def _purchase(
    draw: st.DrawFn,
    *,
    ids: SearchStrategy[str],
    customer_ids: SearchStrategy[str],
    at: SearchStrategy[datetime],
    currency: str,
    low: int,
    high: int,
) -> Purchase:
    units = draw(st.integers(min_value=low, max_value=high))
    when = draw(at)
    if not isinstance(when, datetime) or when.tzinfo is None or when.utcoffset() is None:
        raise InvalidArgument(f"at must generate timezone-aware datetimes; got {when!r}")
    items: tuple[LineItem, ...] = ()
    if draw(st.sampled_from([False, True, True])):  # two in three list their items
        skus = _skus()
        items = tuple(
            _line(draw, units=part, currency=currency, skus=skus) for part in _split(draw, units)
        )
    return Purchase(
        id=draw(ids),
        customer_id=draw(customer_ids),
        at=when,
        amount=_to_money(units, currency),
        currency=currency,
        items=items,
        channel=draw(st.none() | st.sampled_from(_CHANNELS)),
    )


def _returns() -> SearchStrategy[Return]:
    return st.builds(
        lambda id_, customer_id, at, purchase_id, units: Return(
            id=id_,
            customer_id=customer_id,
            at=at,
            purchase_id=purchase_id,
            amount=_to_money(units, "USD"),
        ),
        _default_ids("x-"),
        _default_ids("c-"),
        _aware_datetimes(),
        _default_ids("o-"),
        st.integers(min_value=1, max_value=50_000),
    )


def _visits() -> SearchStrategy[Visit]:
    return st.builds(
        lambda id_, customer_id, at, location: Visit(
            id=id_, customer_id=customer_id, at=at, location=location
        ),
        _default_ids("v-"),
        _default_ids("c-"),
        _aware_datetimes(),
        st.none() | st.sampled_from(_LOCATIONS),
    )


def _signups() -> SearchStrategy[Signup]:
    return st.builds(
        lambda id_, customer_id, at, channel: Signup(
            id=id_, customer_id=customer_id, at=at, channel=channel
        ),
        _default_ids("s-"),
        _default_ids("c-"),
        _aware_datetimes(),
        st.none() | st.sampled_from(_CHANNELS),
    )


def _custom_events() -> SearchStrategy[CustomEvent]:
    return st.builds(
        lambda id_, customer_id, at, name, attributes: CustomEvent(
            id=id_, customer_id=customer_id, at=at, name=name, attributes=attributes
        ),
        _default_ids("e-"),
        _default_ids("c-"),
        _aware_datetimes(),
        st.sampled_from(_EVENT_NAMES),
        _attributes(),
    )


def _aheads() -> SearchStrategy[timedelta]:
    """How long after its booking an appointment begins: mostly an hour to two months;
    now and then not at all, or before it (an appointment recorded late)."""
    later = st.timedeltas(min_value=timedelta(hours=1), max_value=_MAX_AHEAD)
    earlier = st.timedeltas(min_value=timedelta(days=-2), max_value=timedelta(0))
    # Three in four later (one_of would take each about as often, whatever its weights).
    return st.tuples(st.sampled_from((True, True, True, False)), later, earlier).map(
        lambda drawn: drawn[1] if drawn[0] else drawn[2]
    )


def _appointments() -> SearchStrategy[Appointment]:
    return st.builds(
        lambda id_, customer_id, at, ahead, service: Appointment(
            id=id_, customer_id=customer_id, at=at, starts_at=at + ahead, service=service
        ),
        _default_ids("a-"),
        _default_ids("c-"),
        _aware_datetimes(),
        _aheads(),
        st.none() | st.sampled_from(_SERVICES),
    )


def _cancellations() -> SearchStrategy[AppointmentCancelled]:
    return st.builds(
        lambda id_, customer_id, at, appointment_id: AppointmentCancelled(
            id=id_, customer_id=customer_id, at=at, appointment_id=appointment_id
        ),
        _default_ids("ac-"),
        _default_ids("c-"),
        _aware_datetimes(),
        _default_ids("a-"),
    )


def _referrals() -> SearchStrategy[Referral]:
    def referral(id_: str, customer_id: str, at: datetime, referrer_id: str) -> Referral:
        if referrer_id == customer_id:  # nobody refers themself
            referrer_id += "-r"
        return Referral(id=id_, customer_id=customer_id, at=at, referrer_id=referrer_id)

    return st.builds(
        referral, _default_ids("ref-"), _default_ids("c-"), _aware_datetimes(), _default_ids("c-")
    )


# -- public strategies ---------------------------------------------------------------------


def customers(*, ids: SearchStrategy[str] | None = None) -> SearchStrategy[Customer]:
    """Customers with realistic profiles.

    Each has an id drawn from ``ids`` (by default ids like ``"c-42"`` and now and then
    other text), and sometimes a name, an email address, a phone number, an IANA time zone
    from a small realistic list (with half- and three-quarter-hour offsets), a birthday
    (29 February included, with and without a year), preference tags and key/values.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10, database=None)
    ... @given(customers(ids=st.sampled_from(["c-1", "c-2"])))
    ... def test_ids_come_from_the_strategy(customer):
    ...     assert customer.id in {"c-1", "c-2"}
    >>> test_ids_come_from_the_strategy()
    """
    if ids is None:
        ids = _default_ids("c-")
    else:
        _check_strategy("ids", ids)
    return st.builds(
        Customer,
        ids,
        name=st.none() | st.sampled_from(_NAMES) | st.text(min_size=1, max_size=40),
        email=st.none() | _emails(),
        phone=st.none() | st.from_regex(r"\+[1-9][0-9]{7,12}", fullmatch=True),
        time_zone=st.none() | st.sampled_from(_TIME_ZONES),
        birthday=st.none() | _birthdays(),
        tags=st.frozensets(st.sampled_from(_TAGS), max_size=4),
        preferences=st.dictionaries(
            st.sampled_from(["milk", "size", "stylist", "industry", "newsletter", "visits"]),
            _scalars(),
            max_size=3,
        ),
    )


def line_items(
    *,
    currency: str = "USD",
    min_quantity: int = 1,
    max_quantity: int = 10,
    min_unit_price: Decimal | int = Decimal(0),
    max_unit_price: Decimal | int = Decimal(100),
) -> SearchStrategy[LineItem]:
    """Receipt lines: ``min_quantity`` to ``max_quantity`` of a sku at a unit price between
    ``min_unit_price`` and ``max_unit_price``, with as many decimal places as ``currency``
    has (none for JPY, three for KWD).

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10, database=None)
    ... @given(line_items(currency="JPY", min_unit_price=100))
    ... def test_yen_have_no_decimal_places(line):
    ...     assert line.unit_price >= 100 and line.unit_price == int(line.unit_price)
    >>> test_yen_have_no_decimal_places()
    """
    currency = _check_currency(currency)
    low_q, high_q = _check_quantities(min_quantity, max_quantity)
    low, high = _check_bounds(
        "min_unit_price", min_unit_price, "max_unit_price", max_unit_price, currency
    )
    return st.builds(
        lambda sku, quantity, units, tags: LineItem(
            sku=sku, quantity=quantity, unit_price=_to_money(units, currency), tags=tags
        ),
        _skus(),
        st.integers(min_value=low_q, max_value=high_q),
        st.integers(min_value=low, max_value=high),
        st.frozensets(st.sampled_from(_TAGS), max_size=2),
    )


def purchases(
    *,
    customer_ids: SearchStrategy[str] | None = None,
    currency: str = "USD",
    min_amount: Decimal | int = Decimal(0),
    max_amount: Decimal | int = Decimal(500),
    at: SearchStrategy[datetime] | None = None,
) -> SearchStrategy[Purchase]:
    """Purchases in ``currency`` of ``min_amount`` to ``max_amount``.

    Amounts have exactly as many decimal places as the currency (``Decimal("12.50")`` in
    USD, ``Decimal("1250")`` in JPY). Two purchases in three list their items, and then
    the items add up to the amount exactly. ``customer_ids`` and ``at`` (timezone-aware
    datetimes) are strategies; by default ids look like ``"c-42"`` and times lie between
    2020 and 2035 in a handful of time zones.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10, database=None)
    ... @given(purchases(currency="KWD", min_amount=1))
    ... def test_items_add_up_to_the_amount(order):
    ...     assert not order.items or order.amount == sum(item.total for item in order.items)
    >>> test_items_add_up_to_the_amount()
    """
    currency = _check_currency(currency)
    low, high = _check_bounds("min_amount", min_amount, "max_amount", max_amount, currency)
    if customer_ids is None:
        customer_ids = _default_ids("c-")
    else:
        _check_strategy("customer_ids", customer_ids)
    if at is None:
        at = _aware_datetimes()
    else:
        _check_strategy("at", at)
    return _purchase(
        ids=_default_ids("o-"),
        customer_ids=customer_ids,
        at=at,
        currency=currency,
        low=low,
        high=high,
    )


def histories(
    *,
    customer_ids: SearchStrategy[str] | None = None,
    min_size: int = 0,
    max_size: int = 30,
    start: datetime = _DEFAULT_START,
    currency: str = "USD",
    max_amount: Decimal | int = Decimal(500),
) -> SearchStrategy[list[Event]]:
    """Event streams as a host would record them: lists of ``min_size`` to ``max_size``
    purchases, returns, visits, sign-ups, custom events, and appointments booked and
    now and then cancelled.

    - Events are in time order (equal times allowed), from ``start`` onwards, minutes to
      weeks apart. ``start`` is an aware datetime, in any zone: the gaps are real time
      (a history across a change of daylight saving time stays in order), and the
      longest history drawn must end before the year 9000.
    - Event ids are unique within the history.
    - Customers are drawn from ``customer_ids`` (by default three: ``"c-1"`` to ``"c-3"``,
      so that customers come back).
    - Purchases are in ``currency`` and worth at most ``max_amount``.
    - Every :class:`~custbond.Return` refers to an earlier purchase of the same customer
      and never returns more than remains of it, by amount or by items.
    - Appointments mostly begin an hour to two months after they are booked (now and then
      when, or before, they are recorded), and every
      :class:`~custbond.AppointmentCancelled` names an earlier appointment of the same
      customer that was not cancelled before.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10, database=None)
    ... @given(histories(max_size=10))
    ... def test_returns_are_of_the_customers_own_purchases(events):
    ...     bought = {event.id: event for event in events if isinstance(event, Purchase)}
    ...     for event in events:
    ...         if isinstance(event, Return):
    ...             assert bought[event.purchase_id].customer_id == event.customer_id
    >>> test_returns_are_of_the_customers_own_purchases()
    """
    min_size = _check_size("min_size", min_size)
    max_size = _check_size("max_size", max_size)
    if min_size > max_size:
        raise InvalidArgument(
            f"min_size={min_size!r} must not be greater than max_size={max_size!r}"
        )
    if customer_ids is None:
        customer_ids = st.sampled_from(["c-1", "c-2", "c-3"])
    else:
        _check_strategy("customer_ids", customer_ids)
    if not isinstance(start, datetime) or start.tzinfo is None or start.utcoffset() is None:
        raise InvalidArgument(f"start={start!r} must be a timezone-aware datetime")
    _check_span(start, max_size)
    currency = _check_currency(currency)
    _, high = _check_bounds("min_amount", Decimal(0), "max_amount", max_amount, currency)
    return _histories(
        customer_ids=customer_ids,
        min_size=min_size,
        max_size=max_size,
        start=start,
        currency=currency,
        high=high,
    )


def _check_span(start: datetime, max_size: int) -> None:
    """Refuse a ``start`` from which a history of ``max_size`` events could leave the
    years events may have: each of them is checked when it is made, mid-draw."""
    try:  # every gap the longest, the last event an appointment booked the furthest ahead
        last = start.astimezone(UTC) + max_size * _MAX_GAP + _MAX_AHEAD + timedelta(days=1)
    except OverflowError:
        last = datetime.max.replace(tzinfo=UTC)
    if start.year < v.FIRST_YEAR or last.year > v.LAST_YEAR:
        raise InvalidArgument(
            f"start={start!r} must leave room for max_size={max_size!r} events (up to"
            f" {_MAX_GAP.days} days apart) within the years {v.FIRST_YEAR} to {v.LAST_YEAR}"
        )


class _Bought:
    """What remains of a purchase to return, while a history is drawn."""

    __slots__ = ("items", "purchase", "units")

    def __init__(self, purchase: Purchase) -> None:
        self.purchase = purchase
        self.units = _units(purchase.amount, purchase.currency)  # not yet returned
        self.items: dict[tuple[str, Decimal], int] = {}
        for line in purchase.items:
            key = (line.sku, line.unit_price)
            self.items[key] = self.items.get(key, 0) + line.quantity


# One step of a history, drawn independently of the others so that Hypothesis shrinks a
# history by deleting steps; what a step means is settled when the history is assembled.
_Step = tuple[Any, ...]


def _steps(customer_ids: SearchStrategy[str], currency: str, high: int) -> SearchStrategy[_Step]:
    gaps = st.one_of(
        st.just(timedelta(0)),
        st.timedeltas(min_value=timedelta(minutes=1), max_value=timedelta(hours=12)),
        st.timedeltas(min_value=timedelta(hours=1), max_value=_MAX_GAP),
    )
    seeds = st.integers(min_value=0, max_value=2**32)
    template = _purchase(
        ids=st.just("o-0"),
        customer_ids=customer_ids,
        at=st.just(_DEFAULT_START),
        currency=currency,
        low=0,
        high=high,
    )
    purchase = st.tuples(st.just("purchase"), gaps, template)
    # which purchase, how much of it, by items or amount, and who visits instead when there
    # is nothing left to return
    return_ = st.tuples(st.just("return"), gaps, seeds, seeds, st.booleans(), customer_ids)
    visit = st.tuples(
        st.just("visit"), gaps, customer_ids, st.none() | st.sampled_from(_LOCATIONS)
    )
    signup = st.tuples(
        st.just("signup"), gaps, customer_ids, st.none() | st.sampled_from(_CHANNELS)
    )
    custom = st.tuples(
        st.just("custom"), gaps, customer_ids, st.sampled_from(_EVENT_NAMES), _attributes()
    )
    appointment = st.tuples(
        st.just("appointment"),
        gaps,
        customer_ids,
        _aheads(),
        st.none() | st.sampled_from(_SERVICES),
    )
    # which appointment, and who visits instead when there is none left to cancel
    cancel = st.tuples(st.just("cancel"), gaps, seeds, customer_ids)
    # Purchases first, so that histories shrink towards purchases; purchases and returns
    # twice, so that they make up most of a history.
    return st.one_of(
        purchase, return_, visit, purchase, return_, signup, custom, appointment, cancel
    )


@st.composite
def _histories(
    draw: st.DrawFn,
    *,
    customer_ids: SearchStrategy[str],
    min_size: int,
    max_size: int,
    start: datetime,
    currency: str,
    high: int,
) -> list[Event]:
    steps = draw(
        st.lists(_steps(customer_ids, currency, high), min_size=min_size, max_size=max_size)
    )
    events: list[Event] = []
    bought: list[_Bought] = []
    booked: list[Appointment] = []  # not cancelled
    zone, instant = start.tzinfo, start.astimezone(UTC)
    for number, (kind, gap, *rest) in enumerate(steps, start=1):
        # In real time, shown in start's zone: adding to the wall clock of a zone with
        # daylight saving time could land in the hour it skips, or go back an hour.
        instant += gap
        at = instant.astimezone(zone)
        event: Event
        if kind == "purchase":
            purchase: Purchase = attrs.evolve(rest[0], id=f"o-{number}", at=at)
            bought.append(_Bought(purchase))
            event = purchase
        elif kind == "return":
            pick, share, by_items, visitor = rest
            returnable = [entry for entry in bought if entry.units > 0]
            if returnable:
                entry = returnable[pick % len(returnable)]
                event = _return_of(entry, f"x-{number}", at, share=share, by_items=by_items)
            else:
                event = Visit(id=f"v-{number}", customer_id=visitor, at=at)
        elif kind == "visit":
            event = Visit(id=f"v-{number}", customer_id=rest[0], at=at, location=rest[1])
        elif kind == "signup":
            event = Signup(id=f"s-{number}", customer_id=rest[0], at=at, channel=rest[1])
        elif kind == "appointment":
            customer_id, ahead, service = rest
            event = Appointment(
                id=f"a-{number}",
                customer_id=customer_id,
                at=at,
                starts_at=(instant + ahead).astimezone(zone),
                service=service,
            )
            booked.append(event)
        elif kind == "cancel":
            pick, visitor = rest
            if booked:
                cancelled = booked.pop(pick % len(booked))
                event = AppointmentCancelled(
                    id=f"ac-{number}",
                    customer_id=cancelled.customer_id,
                    at=at,
                    appointment_id=cancelled.id,
                )
            else:
                event = Visit(id=f"v-{number}", customer_id=visitor, at=at)
        else:
            event = CustomEvent(
                id=f"e-{number}", customer_id=rest[0], at=at, name=rest[1], attributes=rest[2]
            )
        events.append(event)
    return events


def _return_of(bought: _Bought, id_: str, at: datetime, *, share: int, by_items: bool) -> Return:
    """A return of part or all of what remains of ``bought``: by items (when it has items
    left that are worth something) or by amount. ``share`` picks how much."""
    purchase = bought.purchase
    currency = purchase.currency
    if by_items:
        lines = []
        units = 0
        for (sku, unit_price), left in bought.items.items():
            price = _units(unit_price, currency)
            most = min(left, (bought.units - units) // price if price else left)
            if units == 0 and price and most:  # the first line worth something: at least one
                quantity = 1 + share % most
                share //= most
            else:
                quantity = share % (most + 1)
                share //= most + 1
            if quantity:
                lines.append(LineItem(sku=sku, quantity=quantity, unit_price=unit_price))
                units += quantity * price
        if units > 0:  # a return worth nothing is no return: return by amount instead
            for line in lines:
                bought.items[(line.sku, line.unit_price)] -= line.quantity
            bought.units -= units
            return Return(
                id=id_,
                customer_id=purchase.customer_id,
                at=at,
                purchase_id=purchase.id,
                amount=_to_money(units, currency) if share % 2 else None,
                items=tuple(lines),
            )
    units = 1 + share % bought.units
    bought.units -= units
    return Return(
        id=id_,
        customer_id=purchase.customer_id,
        at=at,
        purchase_id=purchase.id,
        amount=_to_money(units, currency),
    )


# -- complaints and survey answers ---------------------------------------------------------

_CATEGORIES = ("late delivery", "wrong order", "cold coffee", "rude staff", "billing")
_COMPLAINT_TEXTS = (
    "The cake for Maya's party came a day late.",
    "I was charged twice.",
    "Nobody answered the phone\nfor three days.",
)
_ROLES = ("duty manager", "customer care", "head of service", "stylist")
_SCALES = {"nps": (0, 10), "csat": (1, 5)}


def _check_at(value: object) -> SearchStrategy[datetime]:
    if value is None:
        return _aware_datetimes()
    _check_strategy("at", value)
    assert isinstance(value, SearchStrategy)
    return value


def _check_customer_ids(value: object) -> SearchStrategy[str]:
    if value is None:
        return _default_ids("c-")
    _check_strategy("customer_ids", value)
    assert isinstance(value, SearchStrategy)
    return value


def _aware(when: object) -> datetime:
    if not isinstance(when, datetime) or when.tzinfo is None or when.utcoffset() is None:
        raise InvalidArgument(f"at must generate timezone-aware datetimes; got {when!r}")
    return when


def _free_texts() -> SearchStrategy[str | None]:
    """What customers and staff write: nothing, a sentence, or any text."""
    return st.none() | st.sampled_from(_COMPLAINT_TEXTS) | st.text(max_size=60)


def complaints(
    *,
    customer_ids: SearchStrategy[str] | None = None,
    currency: str = "USD",
    min_order_value: Decimal | int = Decimal(0),
    max_order_value: Decimal | int = Decimal(500),
    at: SearchStrategy[datetime] | None = None,
) -> SearchStrategy[ComplaintFiled]:
    """Complaints (:class:`~custbond.ComplaintFiled`) of every severity, about a category
    such as ``"late delivery"`` (now and then any text), sometimes with the channel they
    came by, the order they are about, the customer's own words and the order's value:
    ``min_order_value`` to ``max_order_value``, with as many decimal places as
    ``currency`` has (the program's: a ladder refuses finer amounts). ``customer_ids`` and
    ``at`` (timezone-aware datetimes) are strategies, as for :func:`purchases`.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10, database=None)
    ... @given(complaints(currency="JPY", min_order_value=100))
    ... def test_order_values_are_whole_yen(complaint):
    ...     value = complaint.order_value
    ...     assert value is None or (value >= 100 and value == int(value))
    >>> test_order_values_are_whole_yen()
    """
    currency = _check_currency(currency)
    low, high = _check_bounds(
        "min_order_value", min_order_value, "max_order_value", max_order_value, currency
    )
    customer_ids = _check_customer_ids(customer_ids)
    times = _check_at(at)
    values = st.integers(min_value=low, max_value=high).map(
        lambda units: _to_money(units, currency)
    )
    return st.builds(
        lambda id_, customer_id, when, category, severity, channel, about, value, text: (
            ComplaintFiled(
                id=id_,
                customer_id=customer_id,
                at=_aware(when),
                category=category,
                severity=severity,
                channel=channel,
                about=about,
                order_value=value,
                text=text,
            )
        ),
        _default_ids("cmp-"),
        customer_ids,
        times,
        st.sampled_from(_CATEGORIES) | _names(),
        st.sampled_from(Severity),
        st.none() | st.sampled_from(_CHANNELS),
        st.none() | _default_ids("o-"),
        st.none() | values,
        _free_texts(),
    )


def survey_responses(
    *,
    customer_ids: SearchStrategy[str] | None = None,
    scale: str | None = None,
    at: SearchStrategy[datetime] | None = None,
) -> SearchStrategy[SurveyResponse]:
    """Survey answers (:class:`~custbond.SurveyResponse`) on ``scale``: ``"nps"`` (0 to
    10), ``"csat"`` (1 to 5), or either (``None``), with every score of the scale, and
    sometimes a comment, what the answer is about (a complaint, an order) and a category.
    ``customer_ids`` and ``at`` are strategies, as for :func:`purchases`.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10, database=None)
    ... @given(survey_responses(scale="csat"))
    ... def test_csat_scores_go_from_1_to_5(answer):
    ...     assert answer.scale == "csat" and 1 <= answer.score <= 5
    >>> test_csat_scores_go_from_1_to_5()
    """
    if scale is not None and (not isinstance(scale, str) or scale not in _SCALES):
        raise InvalidArgument(f"scale={scale!r} must be 'nps', 'csat' or None")
    scales = sorted(_SCALES) if scale is None else [scale]
    customer_ids = _check_customer_ids(customer_ids)
    times = _check_at(at)

    @st.composite
    def answer(draw: st.DrawFn) -> SurveyResponse:
        drawn_scale = draw(st.sampled_from(scales))
        low, high = _SCALES[drawn_scale]
        return SurveyResponse(
            id=draw(_default_ids("sv-")),
            customer_id=draw(customer_ids),
            at=_aware(draw(times)),
            scale=drawn_scale,
            score=draw(st.integers(low, high)),
            comment=draw(_free_texts()),
            about=draw(st.none() | _default_ids("cmp-") | _default_ids("o-")),
            category=draw(st.none() | st.sampled_from(_CATEGORIES)),
        )

    return answer()


def _acknowledgements() -> SearchStrategy[ComplaintAcknowledged]:
    return st.builds(
        lambda id_, customer_id, at, complaint_id, by: ComplaintAcknowledged(
            id=id_, customer_id=customer_id, at=at, complaint_id=complaint_id, by=by
        ),
        _default_ids("ack-"),
        _default_ids("c-"),
        _aware_datetimes(),
        _default_ids("cmp-"),
        st.none() | st.sampled_from(_NAMES),
    )


@cache
def _compensations() -> SearchStrategy[Compensation]:
    """What a host gave for a complaint, in USD: an apology or not, points, a voucher
    (valid for a while, or for ever) and a refund, each now and then nothing."""

    @st.composite
    def compensation(draw: st.DrawFn) -> Compensation:
        voucher = draw(st.just(Decimal(0)) | _money())
        return Compensation(
            "USD",
            apology=draw(st.booleans()),
            points=draw(st.just(0) | st.integers(1, 1000)),
            voucher=voucher,
            voucher_valid_for=draw(st.none() | _durations()) if voucher else None,
            refund=draw(st.just(Decimal(0)) | _money()),
        )

    return compensation()


def _resolutions() -> SearchStrategy[ComplaintResolved]:
    return st.builds(
        lambda id_, customer_id, at, complaint_id, resolution, given, by: ComplaintResolved(
            id=id_,
            customer_id=customer_id,
            at=at,
            complaint_id=complaint_id,
            resolution=resolution,
            compensation=given,
            by=by,
        ),
        _default_ids("res-"),
        _default_ids("c-"),
        _aware_datetimes(),
        _default_ids("cmp-"),
        _free_texts(),
        st.none() | _compensations(),
        st.none() | st.sampled_from(_NAMES),
    )


def _incidents() -> SearchStrategy[IncidentDeclared]:
    whats = st.sampled_from(["the oven broke: orders are a day late", "the app is down"])

    @st.composite
    def incident(draw: st.DrawFn) -> IncidentDeclared:
        people = draw(st.lists(_default_ids("c-"), max_size=3))
        orders = draw(st.lists(_default_ids("o-"), max_size=3))
        return IncidentDeclared(
            id=draw(_default_ids("inc-")),
            at=draw(_aware_datetimes()),
            what=draw(whats | st.text(min_size=1, max_size=40).filter(str.strip)),
            severity=draw(st.sampled_from(Severity)),
            customer_ids=people if people or orders else ["c-1"],  # it affects someone
            purchase_ids=orders,
        )

    return incident()


# -- conditions ----------------------------------------------------------------------------

# Literals that facts often hold, so that drawn comparisons hold as often as they fail.
_COMMON_TEXT = ("gold", "silver", "coffee", "latte", "app", "vegan", "TU", "review")
_OPS_BY_KIND = {
    Kind.NUMBER: ("==", "!=", "<", "<=", ">", ">=", "in", "not in"),
    Kind.TEXT: ("==", "!=", "in", "not in"),
    Kind.WEEKDAY: ("==", "!=", "in", "not in"),
    Kind.SET: ("has", "lacks"),
    Kind.FLAG: ("==", "!="),
    Kind.ANY: ("==", "!=", "<", "<=", ">", ">=", "in", "not in"),
}


def _literal_texts() -> SearchStrategy[str]:
    """Short strings: common words, and others rich in quotes, backslashes, line breaks."""
    awkward = st.sampled_from(["'", '"', "\\", "\n", "\t", "\r", " ", "\\n"])
    # Not lone surrogates: they cannot be written as UTF-8 (in a rule file, a database).
    made = st.lists(awkward | st.characters(exclude_categories=["Cs"]), max_size=8).map("".join)
    return st.sampled_from(_COMMON_TEXT) | made


def _literal_numbers() -> SearchStrategy[int | Decimal]:
    scaled = st.builds(
        lambda units, exponent: Decimal(units).scaleb(exponent),
        st.integers(-(10**12), 10**12),
        st.integers(-12, 3),
    )
    small = st.integers(-3, 60) | st.sampled_from([Decimal("12.50"), Decimal("-0.00")])
    return small | st.integers(-MAX_INT, MAX_INT) | scaled


def _literals(kind: Kind) -> SearchStrategy[Any]:
    return {
        Kind.NUMBER: _literal_numbers(),
        Kind.TEXT: _literal_texts(),
        Kind.WEEKDAY: st.sampled_from(WEEKDAYS),
        Kind.SET: _literal_texts(),
        Kind.FLAG: st.booleans(),
        Kind.ANY: _literal_numbers() | _literal_texts() | st.booleans(),
    }[kind]


@st.composite
def _fact_args(draw: st.DrawFn, spec: FactSpec) -> dict[str, Any]:
    names = [param.name for param in spec.params]
    if spec.choose == "one":
        chosen = [draw(st.sampled_from(names))]
    elif spec.choose == "any":
        chosen = draw(st.lists(st.sampled_from(names), min_size=1, unique=True))
    else:
        chosen = [param.name for param in spec.params if param.required]
    kinds = {param.name: param.kind for param in spec.params}
    values = {Kind.TEXT: _literal_texts(), Kind.NUMBER: st.integers(1, 400)}
    return {name: draw(values[kinds[name]]) for name in chosen}


def _facts_for(event_type: str | None) -> list[FactSpec]:
    return sorted(
        (
            spec
            for spec in FACTS.values()
            if event_type is None or spec.events is None or event_type in spec.events
        ),
        key=lambda spec: spec.name,
    )


def comparisons(*, event_type: str | None = None) -> SearchStrategy[Compare]:
    """Comparisons of documented facts (:data:`custbond.rules.FACTS`), each with an
    operator and a value its kind allows (one of its whole numbers, for a fact with
    bounds such as ``local.hour``); with ``event_type`` (``"Purchase"``, ...), only
    of facts that event has.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=20, database=None)
    ... @given(comparisons(event_type="Visit"))
    ... def test_visits_have_no_amount(comparison):
    ...     assert comparison.fact != "event.amount"
    >>> test_visits_have_no_amount()
    """
    if event_type is not None and event_type not in EVENT_NAMES:
        raise InvalidArgument(f"event_type={event_type!r} must be one of {EVENT_NAMES}")
    specs = _facts_for(event_type)

    @st.composite
    def comparison(draw: st.DrawFn) -> Compare:
        spec = draw(st.sampled_from(specs))
        op = draw(st.sampled_from(_OPS_BY_KIND[spec.kind]))
        values = _literals(spec.kind)
        if spec.between is not None:  # an hour is 0 to 23, and > 23 never holds
            low, high = spec.between
            values = st.integers(low + (op in ("<", ">=")), high - (op in (">", "<=")))
        if op in ("in", "not in"):
            value = draw(st.frozensets(values, min_size=1, max_size=4))
        else:
            value = draw(values)
        return Compare(spec.name, op, value, draw(_fact_args(spec)))

    return comparison()


def conditions(*, max_depth: int = 3, event_type: str | None = None) -> SearchStrategy[Condition]:
    """Conditions: :func:`comparisons` (and now and then ``Always()``), combined with
    ``AllOf``, ``AnyOf`` and ``Not`` up to ``max_depth`` levels deep.

    >>> from hypothesis import given, settings
    >>> from custbond.rules import parse_condition
    >>> @settings(max_examples=20, database=None)
    ... @given(conditions(max_depth=2))
    ... def test_the_text_form_reads_back(condition):
    ...     assert parse_condition(str(condition)) == condition
    >>> test_the_text_form_reads_back()
    """
    if not isinstance(max_depth, int) or isinstance(max_depth, bool) or max_depth < 0:
        raise InvalidArgument(f"max_depth={max_depth!r} must be a non-negative int")
    leaves = st.just(Always()) | comparisons(event_type=event_type)
    if max_depth == 0:
        return leaves
    children = conditions(max_depth=max_depth - 1, event_type=event_type)
    return st.one_of(
        leaves,
        st.lists(children, min_size=2, max_size=3).map(AllOf),
        st.lists(children, min_size=2, max_size=3).map(AnyOf),
        children.map(Not),
    )


# -- programs ------------------------------------------------------------------------------

_CURRENCIES = ("USD", "EUR", "JPY", "KWD")
_RULE_NAMES = ("double tuesdays", "birthday bonus", "coffee card", "gold tier", "welcome")
_GROUP_NAMES = ("promos", "seasonal", "tiers")
_TIERS = ("bronze", "silver", "gold")
_CARD_NAMES = ("coffee", "haircuts", "car wash")
_OFFER_NAMES = ("free coffee", "free haircut", "birthday dessert", "5 off")
_REWARD_NAMES = ("free drink", "tote bag", "mug", "25 off")
_PERKS = ("free refills", "lounge", "early access", "free delivery")
_ACHIEVEMENT_NAMES = ("regular", "big spender", "explorer")
_TEMPLATES = ("thank-you", "welcome", "birthday", "win-back")
# Recurrences a Window accepts: each pins down its occurrences (see custbond.rules.Window).
_RECURRENCES = (
    "FREQ=WEEKLY;BYDAY=TU",
    "FREQ=WEEKLY;BYDAY=TU;BYHOUR=7",
    "FREQ=WEEKLY;BYDAY=SA,SU",
    "FREQ=MONTHLY;BYDAY=-1SA,-1SU",
    "FREQ=MONTHLY;BYMONTHDAY=1",
    "FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=24",
    "FREQ=DAILY;BYHOUR=17",
    "FREQ=HOURLY",
)
# Window bounds in fixed offsets: a wall time that a named zone repeats (when clocks go
# back) never compares equal to the same instant in another zone, which is Python's rule.
_OFFSETS = (UTC, timezone(timedelta(hours=-5)), timezone(timedelta(hours=5, minutes=30)))
_ROUNDINGS = ("day", "month", "year")
_MESSAGE_CHANNELS = ("email", "sms", "push")
_HOLIDAYS = (
    "FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=25",
    "FREQ=YEARLY;BYMONTH=1;BYMONTHDAY=1",
    "FREQ=YEARLY;BYMONTH=11;BYDAY=4TH",
    "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29",
)
# Pieces of template text: placeholders, the dollar escape, line breaks, and what a TOML
# string has to escape.
_TEMPLATE_PIECES = (
    "Hi ",
    "$name,",  # the comma ends it: "$name" before "Hi " would be the placeholder $nameHi
    "${name}",  # $name is the one value every message gets (custbond's own are checked)
    "$$5",
    " off",
    "!",
    "\n",
    "\r\n",
    '"""',
    "\\",
    "\t",
)

# The strategies below are made once and kept (``cache``): programs draw many rules, and
# making a strategy again for every draw costs more than drawing from it.


@cache
def _names() -> SearchStrategy[str]:
    """Names as people write them, and now and then text full of quotes and escapes."""
    awkward = st.lists(st.sampled_from(["'", '"', "\\", "\n", "é", "x", " "]), max_size=6)
    made = st.tuples(st.sampled_from(_TAGS), awkward.map("".join)).map("".join)
    texts = st.one_of(
        st.sampled_from(_TAGS), made, st.text(_ID_CHARACTERS, min_size=1, max_size=12)
    )
    return texts.map(str.strip).filter(bool)


@cache
def _durations() -> SearchStrategy[relativedelta | timedelta]:
    """Positive durations: calendar ones (``relativedelta``) and exact ones (``timedelta``)."""
    calendar = st.builds(
        relativedelta,
        years=st.integers(0, 2),
        months=st.integers(0, 14),
        days=st.integers(0, 40),
        hours=st.integers(0, 30),
        minutes=st.integers(0, 90),
        seconds=st.integers(0, 90),
        microseconds=st.sampled_from([0, 0, 0, 1, 250_000]),
    ).filter(lambda duration: duration != relativedelta())
    exact = st.timedeltas(min_value=timedelta(microseconds=1), max_value=timedelta(days=800))
    common = st.sampled_from(
        [relativedelta(days=14), relativedelta(months=12), timedelta(hours=3), timedelta(days=1)]
    )
    return st.one_of(common, calendar, exact)


@cache
def _points_policies() -> SearchStrategy[PointsPolicy]:
    @st.composite
    def policy(draw: st.DrawFn) -> PointsPolicy:
        expire_after = draw(st.none() | _durations())
        rounding = None if expire_after is None else draw(st.sampled_from([None, *_ROUNDINGS]))
        return PointsPolicy(
            expire_after=expire_after,
            pending_for=draw(st.none() | _durations()),
            allow_negative=draw(st.booleans()),
            expire_at_end_of=rounding,
        )

    return policy()


@cache
def _templates() -> SearchStrategy[Template]:
    """Templates: bodies of several lines, with placeholders, dollars and what TOML
    escapes, and sometimes a subject."""
    texts = st.lists(st.sampled_from(_TEMPLATE_PIECES), min_size=1, max_size=8).map("".join)
    texts |= st.text(min_size=1, max_size=20).filter(lambda text: "$" not in text)
    subjects = texts.filter(lambda text: "\n" not in text and "\r" not in text)
    return st.builds(Template, body=texts, subject=st.none() | subjects)


@cache
def _messaging_policies() -> SearchStrategy[MessagingPolicy]:
    """Messaging policies: the default one, or quiet hours (on some channels, now and
    then), up to two frequency caps (on one kind of message or any, on one channel or
    all), templates over the defaults (in place of one, or new), and the messages sent
    on their own: a welcome, a thank-you with related items, appointment reminders, a
    birthday greeting, holidays and notices of expiring points. Their templates may be
    missing: :func:`_with_templates` adds them."""
    channels = st.sampled_from(_MESSAGE_CHANNELS) | _names()
    times = st.builds(time, st.integers(0, 23), st.sampled_from([0, 30])) | st.times()
    spans = st.tuples(times, times).filter(lambda span: span[0] != span[1])
    quiet_hours = st.builds(
        lambda span, on: QuietHours(start=span[0], end=span[1], channels=on),
        spans,
        st.just(frozenset()) | st.frozensets(channels, min_size=1, max_size=2),
    )
    caps = st.lists(
        st.builds(
            FrequencyCap,
            limit=st.integers(1, 10),
            per=_durations(),
            kind=st.sampled_from([MessageKind.MARKETING, MessageKind.TRANSACTIONAL, None]),
            channel=st.none() | channels,
        ),
        max_size=2,
    )
    overrides = st.dictionaries(
        st.sampled_from(sorted(DEFAULT_TEMPLATES.names)) | _names(),
        st.dictionaries(
            st.sampled_from((*_MESSAGE_CHANNELS, ANY_CHANNEL)) | _names(),
            _templates(),
            min_size=1,
            max_size=2,
        ),
        max_size=2,
    )
    kinds = st.sampled_from(MessageKind)

    def sent(cls: Any, default: str, **fields: Any) -> SearchStrategy[Any]:
        """An occasion: with its defaults, or another template, channel and kind."""
        named = st.just(default) | st.sampled_from(_TEMPLATES) | _names()
        return st.builds(cls, template=st.just(default), **fields) | st.builds(
            cls, template=named, channel=channels, kind=kinds, **fields
        )

    exact = st.timedeltas(min_value=timedelta(microseconds=1), max_value=timedelta(days=30))
    befores = st.just(timedelta(hours=24)) | exact
    holidays = st.lists(
        st.builds(
            lambda holiday, name, at: attrs.evolve(holiday, name=name, at=at),
            sent(Holiday, "holiday", name=st.just("day"), recurrence=st.sampled_from(_HOLIDAYS)),
            st.sampled_from(["christmas", "new year", "thanksgiving"]) | _names(),
            st.just(time(9)) | times,
        ),
        max_size=2,
        unique_by=lambda holiday: holiday.name,
    )
    related = st.dictionaries(
        st.sampled_from(_SKUS) | _names(),
        st.sampled_from(["almond croissant", "scone", "shampoo"]) | _names(),
        max_size=3,
    )
    greetings = st.just(Greeting()) | st.builds(
        lambda greeting, at, late_by: attrs.evolve(greeting, at=at, late_by=late_by),
        sent(Greeting, "birthday"),
        times,
        st.just(timedelta(days=1)) | exact,
    )
    policies = st.builds(
        MessagingPolicy,
        templates=overrides.map(DEFAULT_TEMPLATES.override),
        quiet_hours=st.none() | quiet_hours,
        caps=caps,
        welcome=st.none() | sent(Send, "welcome"),
        thank_you=st.none() | sent(Send, "thank_you"),
        related=related,
        appointment_reminder=st.none() | sent(Reminder, "appointment_reminder", before=befores),
        birthday=st.none() | greetings,
        holidays=holidays,
        points_expiring=st.none() | sent(ExpiryNotice, "points_expiring", within=_durations()),
    )
    return st.just(MessagingPolicy()) | policies


def _with_templates(
    draw: st.DrawFn,
    policy: MessagingPolicy,
    rules: list[Rule],
    recovery: RecoveryPolicy | None = None,
) -> MessagingPolicy:
    """``policy`` with a template (for the channel, or for any) for every message its
    program asks for, the rules', those it sends on its own and those of its ``recovery``
    policy, that it has none for."""
    occasions = (
        policy.welcome,
        policy.thank_you,
        policy.appointment_reminder,
        policy.birthday,
        *policy.holidays,
        policy.points_expiring,
    )
    asked = [(sent.template, sent.channel) for sent in occasions if sent is not None]
    asked += [
        (effect.template, effect.channel)
        for rule in rules
        for effect in rule.then
        if isinstance(effect, Message)
    ]
    if recovery is not None:
        asked += [(template, channel) for _, template, channel in recovery.templates()]
    added: dict[str, dict[str, Template]] = {}
    for name, channel in asked:
        given = added.get(name, {})
        if policy.templates.has(name, channel) or channel in given or ANY_CHANNEL in given:
            continue
        for_channel = draw(st.sampled_from([channel, ANY_CHANNEL]))
        added.setdefault(name, {})[for_channel] = draw(_templates())
    if not added:
        return policy
    return attrs.evolve(policy, templates=policy.templates.override(added))


@cache
def _pers() -> SearchStrategy[Decimal]:
    common = st.sampled_from([Decimal(1), Decimal("0.50"), Decimal("5"), Decimal("10.00")])
    return common | st.decimals(min_value=Decimal("0.01"), max_value=Decimal(1000), places=2)


@cache
def _effects(*, spend: bool, places: int = 2) -> SearchStrategy[RuleEffect]:
    """Effects a rule can give; with ``spend``, also points per spend and per item,
    discounts and cashback (only for rules on purchases alone). Money given has at most
    ``places`` decimal places."""
    sku = st.none() | st.sampled_from(_SKUS)
    tag = st.none() | st.sampled_from(_TAGS)
    factors = st.sampled_from([Decimal(2), Decimal("1.5"), Decimal("0.5"), Decimal(100)])
    others: list[SearchStrategy[RuleEffect]] = [
        st.builds(FixedPoints, st.integers(1, 1000)),
        st.builds(
            Multiplier,
            factors | st.decimals(min_value=Decimal("0.01"), max_value=Decimal(100), places=2),
        ),
        st.builds(Stamps, _names(), count=st.integers(1, 3), sku=sku, tag=tag),
        st.builds(Tier, st.sampled_from(_TIERS) | _names()),
        st.builds(Tag, _names()),
        st.builds(
            Message,
            st.sampled_from(_TEMPLATES) | _names(),
            channel=st.sampled_from(["email", "sms", "push"]),
            kind=st.sampled_from(["transactional", "marketing"]),
        ),
        st.builds(Gift, _offers(places)),
    ]
    if not spend:
        return st.one_of(others)
    spending: list[SearchStrategy[RuleEffect]] = [
        st.builds(PointsPerSpend, points=st.integers(1, 50), per=_pers(), sku=sku, tag=tag),
        st.builds(PointsPerItem, st.integers(1, 50), sku=sku, tag=tag),
        # Discounts read the event's items: a rule with one on other events fails when it
        # fires (a Visit has no items), though Rule accepts it.
        _discounts(places),
        st.builds(
            Cashback,
            _percents(),
            sku=sku,
            tag=tag,
            valid_for=st.none() | _durations(),
        ),
    ]
    return st.one_of(*spending, *others)


@cache
def _money(places: int = 2) -> SearchStrategy[Decimal]:
    """Positive amounts of money with at most ``places`` decimal places (those of the
    currency they are given in), as rule files and offers hold them."""
    unit = Decimal(1).scaleb(-places)
    common = [Decimal("5.00"), Decimal("2.50"), Decimal(10)]
    fitting = st.sampled_from([amount for amount in common if not amount % unit])
    return fitting | st.decimals(min_value=unit, max_value=Decimal(500), places=places)


@cache
def _percents() -> SearchStrategy[Decimal]:
    common = st.sampled_from([Decimal(10), Decimal("12.5"), Decimal(100)])
    return common | st.decimals(min_value=Decimal("0.01"), max_value=Decimal(100), places=2)


@cache
def _offers(places: int = 2) -> SearchStrategy[VoucherOffer]:
    """Voucher offers: for an item, for money off, or for an item worth at most a value
    (with at most ``places`` decimal places)."""

    @st.composite
    def offer(draw: st.DrawFn) -> VoucherOffer:
        kind = draw(st.sampled_from(["item", "money", "both"]))
        return VoucherOffer(
            draw(st.sampled_from(_OFFER_NAMES) | _names()),
            sku=None if kind == "money" else draw(st.sampled_from(_SKUS) | _names()),
            value=None if kind == "item" else draw(_money(places)),
            valid_for=draw(st.none() | _durations()),
        )

    return offer()


@cache
def _limits() -> SearchStrategy[Limit]:
    return st.builds(Limit, st.integers(1, 10), per=st.sampled_from(PERIODS) | _durations())


_POINTS_EFFECTS = (PointsPerSpend, PointsPerItem, FixedPoints)


def _all_limits(
    draw: st.DrawFn, then: list[RuleEffect], places: int
) -> list[Limit | Budget | FirstCustomers]:
    """Up to two limits per customer, and now and then a budget and a cap on the first
    customers, in any order. A budget is in points on rules that give points, in money
    (with ``places`` decimal places, those of the program's currency) on rules that give
    money."""
    limits: list[Limit | Budget | FirstCustomers] = list(draw(st.lists(_limits(), max_size=2)))
    shared: list[Budget | FirstCustomers] = []
    unit = Decimal(1).scaleb(-places)
    budgets: list[str] = []
    if any(isinstance(effect, _POINTS_EFFECTS) for effect in then):
        budgets.append("points")
    if any(gives_money(effect) for effect in then):
        budgets.append("money")
    if len(budgets) > 0 and draw(st.booleans()):
        if draw(st.sampled_from(budgets)) == "points":
            shared.append(Budget(draw(st.integers(1, 100_000))))
        else:
            money = st.decimals(min_value=unit, max_value=Decimal(100_000), places=places)
            shared.append(Budget(money=draw(money)))
    if draw(st.booleans()):
        shared.append(FirstCustomers(draw(st.integers(1, 1000))))
    for limit in shared:
        limits.insert(draw(st.integers(0, len(limits))), limit)
    return limits


@cache
def _cards(places: int = 2) -> SearchStrategy[PunchCard]:
    """Punch cards: on purchases (of an item by sku and/or tag, or any) or on visits; a
    reward's value has at most ``places`` decimal places."""

    @st.composite
    def card(draw: st.DrawFn) -> PunchCard:
        on = draw(st.sampled_from(["Purchase", "Purchase", "Visit"]))
        counted = on == "Purchase"
        return PunchCard(
            draw(st.sampled_from(_CARD_NAMES) | _names()),
            stamps=draw(st.integers(1, 12)),
            reward=draw(_offers(places)),
            sku=draw(st.none() | st.sampled_from(_SKUS)) if counted else None,
            tag=draw(st.none() | st.sampled_from(_TAGS)) if counted else None,
            on=on,
            expire_after=draw(st.none() | _durations()),
        )

    return card()


_THRESHOLDS = ("spend", "points", "visits")


_THRESHOLD_VALUES: dict[str, SearchStrategy[Any]] = {
    "spend": st.decimals(0, 10_000, places=2),
    "points": st.integers(1, 100_000),
    "visits": st.integers(1, 200),
}


def _level(draw: st.DrawFn, name: str, thresholds: dict[str, Any]) -> Level:
    """A level with ``thresholds`` (none for the ladder's base)."""
    factors = st.sampled_from([Decimal("1.25"), Decimal("1.5"), Decimal(2)])
    return Level(
        name,
        **thresholds,
        # A multiplier makes a rule whose condition quotes the name as text, and that
        # quoting does not escape line breaks (custbond.bonds.tiers._quoted).
        multiplier=None if "\n" in name else draw(st.none() | factors),
        perks=draw(st.lists(st.sampled_from(_PERKS) | _names(), max_size=2)),
    )


@cache
def _whole_days() -> SearchStrategy[relativedelta | timedelta]:
    """Positive durations of whole days, months and years."""
    calendar = st.builds(
        relativedelta, years=st.integers(0, 2), months=st.integers(0, 14), days=st.integers(0, 40)
    ).filter(lambda duration: duration != relativedelta())
    exact = st.integers(1, 800).map(lambda days: timedelta(days=days))
    return st.one_of(st.just(relativedelta(months=6)), calendar, exact)


@cache
def _ladders(max_levels: int) -> SearchStrategy[TierLadder]:
    """Tier ladders of one to ``max_levels`` levels with different names (the lowest now
    and then a base level, without thresholds), and sometimes their own durations."""
    names = st.lists(
        st.sampled_from(_TIERS) | _names(), min_size=1, max_size=max_levels, unique=True
    )

    @st.composite
    def ladder(draw: st.DrawFn) -> TierLadder:
        drawn = draw(names)
        base = draw(st.booleans())
        kinds = [
            set()
            if base and index == 0
            else draw(st.sets(st.sampled_from(_THRESHOLDS), min_size=1))
            for index in range(len(drawn))
        ]
        # Each kind of threshold rises from level to level: a ladder lists them lowest first.
        thresholds: list[dict[str, Any]] = [{} for _ in drawn]
        for kind in _THRESHOLDS:
            having = [index for index, kept in enumerate(kinds) if kind in kept]
            values = st.lists(
                _THRESHOLD_VALUES[kind], min_size=len(having), max_size=len(having), unique=True
            )
            for index, value in zip(having, sorted(draw(values)), strict=True):
                thresholds[index][kind] = value
        levels = [_level(draw, name, thresholds[index]) for index, name in enumerate(drawn)]
        # The window and the time a tier is kept are reckoned in local days: a day at least.
        durations = {
            "window": draw(st.none() | _whole_days()),
            "keep_for": draw(st.none() | _whole_days()),
            **{key: draw(st.none() | _durations()) for key in ("grace", "notice")},
        }
        given = {key: duration for key, duration in durations.items() if duration is not None}
        return TierLadder(levels=levels, **given)

    return ladder()


@cache
def _achievements(places: int = 2) -> SearchStrategy[Achievement]:
    """Achievements on visits, purchases (a count) or spend (an int or a decimal amount),
    that give points, a gift (worth at most ``places`` decimal places), a tag, or several
    of them."""

    @st.composite
    def achievement(draw: st.DrawFn) -> Achievement:
        counts = draw(st.sampled_from(achievements.COUNTS))
        counted: SearchStrategy[int | Decimal] = st.integers(1, 50)
        target = st.one_of(counted, _money()) if counts == "spend" else counted
        gives = draw(st.sets(st.sampled_from(["points", "gift", "tag"]), min_size=1))
        return Achievement(
            draw(st.sampled_from(_ACHIEVEMENT_NAMES) | _names()),
            target=draw(target),
            counts=counts,
            per=draw(st.sampled_from(achievements.PERIODS)),
            points=draw(st.integers(1, 500)) if "points" in gives else 0,
            gift=draw(_offers(places)) if "gift" in gives else None,
            tag=draw(st.sampled_from(_TAGS) | _names()) if "tag" in gives else None,
        )

    return achievement()


@cache
def _discounts(places: int = 2) -> SearchStrategy[Discount]:
    sku = st.none() | st.sampled_from(_SKUS)
    tag = st.none() | st.sampled_from(_TAGS)
    return st.one_of(
        st.builds(Discount, percent=_percents(), sku=sku, tag=tag),
        st.builds(Discount, amount=_money(places), sku=sku, tag=tag),
    )


@cache
def _coupons(places: int = 2) -> SearchStrategy[Coupon]:
    """Coupons with codes in upper case: money off (a fixed amount with at most
    ``places`` decimal places, or a percent), points or both, sometimes valid only
    between two times, with limits across customers and per customer (or none)."""
    codes = st.sampled_from(["SPRING", "WELCOME10", "VIP-2026"]) | st.text(
        alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_É", min_size=1, max_size=16
    )

    @st.composite
    def coupon(draw: st.DrawFn) -> Coupon:
        gives = draw(st.sets(st.sampled_from(["discount", "points"]), min_size=1))
        starts, ends = draw(_bounds()), draw(_bounds())
        if starts is not None and ends is not None and ends <= starts:
            starts, ends = ends - timedelta(days=1), starts
        return Coupon(
            draw(codes),
            discount=draw(_discounts(places)) if "discount" in gives else None,
            points=draw(st.integers(1, 500)) if "points" in gives else 0,
            starts=starts,
            ends=ends,
            uses=draw(st.none() | st.integers(1, 10_000)),
            per_customer=draw(st.sampled_from([1, None]) | st.integers(1, 5)),
        )

    return coupon()


@cache
def _rewards(places: int = 2) -> SearchStrategy[Reward]:
    return st.builds(
        Reward,
        st.sampled_from(_REWARD_NAMES) | _names(),
        points=st.sampled_from([100, 250, 500]) | st.integers(1, 10_000),
        offer=_offers(places),
        stock=st.none() | st.integers(1, 1000),
        per_customer=st.none() | st.integers(1, 5),
    )


@cache
def _bounds() -> SearchStrategy[datetime | None]:
    """The bounds of a window or a coupon's validity, or none."""
    return st.none() | st.datetimes(
        min_value=datetime(2024, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive
        max_value=datetime(2030, 12, 31),  # noqa: DTZ001
        timezones=st.sampled_from(_OFFSETS),
    )


@cache
def _windows() -> SearchStrategy[Window]:
    @st.composite
    def window(draw: st.DrawFn) -> Window:
        starts, ends = draw(_bounds()), draw(_bounds())
        if starts is not None and ends is not None and ends <= starts:
            starts, ends = ends - timedelta(days=1), starts
        recurrence = draw(st.none() | st.sampled_from(_RECURRENCES))
        if starts is None and ends is None and recurrence is None:
            recurrence = _RECURRENCES[0]
        if recurrence is None or draw(st.booleans()):
            return Window(starts=starts, ends=ends, recurrence=recurrence)
        lasting = draw(_durations())
        try:
            return Window(starts=starts, ends=ends, recurrence=recurrence, lasting=lasting)
        except InvalidInput:  # longer than the gap between occurrences: the default then
            return Window(starts=starts, ends=ends, recurrence=recurrence)

    return window()


@cache
def _whens(event_type: str) -> SearchStrategy[Condition]:
    """Conditions that read only facts events of ``event_type`` have."""
    return st.just(Always()) | conditions(max_depth=2, event_type=event_type).filter(_encodable)


def _encodable(condition: Condition) -> bool:
    """Whether the text of ``condition`` can be stored as UTF-8 (its literals may hold lone
    surrogates, which no file or database can)."""
    try:
        str(condition).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@cache
def _ons() -> SearchStrategy[frozenset[str]]:
    """The event types of a rule: purchases alone, often, or one to three types."""
    several = st.frozensets(st.sampled_from(EVENT_NAMES), min_size=1, max_size=3)
    return st.just(frozenset({"Purchase"})) | several


def _rule(draw: st.DrawFn, name: str, groups: tuple[str, ...], places: int) -> Rule:
    on = draw(_ons())
    # Facts must exist for every event the rule is on: one event type has its own facts;
    # several share those of a sign-up, which every event has.
    event_type = next(iter(on)) if len(on) == 1 else "Signup"
    effects = _effects(spend=on == {"Purchase"}, places=places)
    then = draw(st.lists(effects, min_size=1, max_size=3))
    return Rule(
        name,
        on=on,
        when=draw(_whens(event_type)),
        then=then,
        priority=draw(st.sampled_from([0, 0, 10]) | st.integers(-5, 20)),
        exclusive=draw(st.booleans()),
        group=draw(st.none() | st.sampled_from(groups)) if groups else None,
        limits=_all_limits(draw, then, places),
        window=draw(st.none() | _windows()),
        description=draw(st.just("") | st.text(max_size=40)),
    )


def _by_places(
    part: Callable[[int], SearchStrategy[T]], most: int, *, unique_by: Callable[[T], str]
) -> dict[int, SearchStrategy[list[T]]]:
    """Lists of up to ``most`` parts with different ``unique_by``, by the decimal places
    of the currency they give money in (for each currency a program may draw)."""
    every_places = sorted({v.minor_units(currency) for currency in _CURRENCIES})
    return {
        places: st.lists(part(places), max_size=most, unique_by=unique_by)
        for places in every_places
    }


def programs(
    *,
    min_rules: int = 0,
    max_rules: int = 6,
    max_cards: int = 2,
    max_levels: int = 3,
    max_rewards: int = 3,
    max_achievements: int = 2,
    max_coupons: int = 2,
) -> SearchStrategy[Program]:
    """Valid programs: a random currency, time zone, way of combining multipliers and
    points policy (calendar and exact durations, expiry rounding), the base earning rule
    or none, up to three evaluation groups, ``min_rules`` to ``max_rules`` rules with
    unique names, up to ``max_cards`` punch cards, sometimes a tier ladder of up to
    ``max_levels`` levels (never, with ``max_levels=0``), a catalog of up to
    ``max_rewards`` rewards, up to ``max_achievements`` achievements and up to
    ``max_coupons`` coupons, and now and then a messaging policy other than the default
    (quiet hours, frequency caps, templates in place of default ones or new, the messages
    it sends on its own: a welcome, a thank-you with related items, appointment
    reminders, a birthday greeting, holidays, notices of expiring points), sometimes
    a recovery policy from :func:`recovery_policies`, and sometimes a social policy from
    :func:`social_policies`. The messaging policy has a template
    for every message the program asks for (by its rules, on its own, or for service
    recovery): those it lacks are added, for the channel or for any.

    Each rule is on one or more event types, with a condition from :func:`conditions`
    that reads only facts those events have, one to three effects (points per spend, per
    item, discounts and cashback only on rules for purchases alone; gifts on any), a
    priority, and sometimes a group (one of the program's), limits per customer, a budget
    (in points on rules that give points, in money on rules that give money), a cap on
    the first customers, and a window with a recurrence. No rule
    takes the name of a rule the program makes of its cards and tiers. Cards count
    purchases (of an item, by sku or tag) or visits; the ladder's levels have different
    names and one to three thresholds (the lowest, now and then, none: a base level);
    cards, levels, rewards, achievements and coupons have their own names (or codes), and
    offers are for an item, money off or both. Names and texts are now and then full of
    quotes, backslashes and line breaks.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10, database=None)
    ... @given(programs(max_rules=3, max_cards=1, max_levels=0))
    ... def test_rule_names_are_unique(program):
    ...     names = [rule.name for rule in program.all_rules()]
    ...     assert len(names) == len(set(names)) <= 5
    >>> test_rule_names_are_unique()
    """
    min_rules = _check_size("min_rules", min_rules)
    max_rules = _check_size("max_rules", max_rules)
    if min_rules > max_rules:
        raise InvalidArgument(
            f"min_rules={min_rules!r} must not be greater than max_rules={max_rules!r}"
        )
    max_cards = _check_size("max_cards", max_cards)
    max_levels = _check_size("max_levels", max_levels)
    max_rewards = _check_size("max_rewards", max_rewards)
    max_achievements = _check_size("max_achievements", max_achievements)
    max_coupons = _check_size("max_coupons", max_coupons)
    groups = st.lists(
        st.builds(Group, st.sampled_from(_GROUP_NAMES) | _names(), take=st.sampled_from(TAKES)),
        max_size=3,
        unique_by=lambda group: group.name,
    )
    names = st.lists(
        st.sampled_from(_RULE_NAMES) | _names(),
        min_size=min_rules,
        max_size=max_rules,
        unique=True,
    )
    earn = (
        st.none()
        | st.just(PointsPerSpend())
        | st.builds(PointsPerSpend, points=st.integers(1, 20), per=_pers())
    )
    ladders = st.none() if max_levels == 0 else st.none() | _ladders(max_levels)
    # The parts that give money, by the decimal places of the currency they give it in.
    cards = _by_places(_cards, max_cards, unique_by=lambda card: card.name)
    rewards = _by_places(_rewards, max_rewards, unique_by=lambda reward: reward.name)
    coupons = _by_places(_coupons, max_coupons, unique_by=lambda coupon: coupon.code)
    drawn_achievements = _by_places(_achievements, max_achievements, unique_by=lambda a: a.name)
    recoveries = st.none() | recovery_policies()
    socials = st.none() | social_policies()

    @st.composite
    def program(draw: st.DrawFn) -> Program:
        drawn_groups = draw(groups)
        group_names = tuple(group.name for group in drawn_groups)
        # Drawn first: what the program gives in money has the currency's decimal places.
        currency = draw(st.sampled_from(_CURRENCIES))
        places = v.minor_units(currency)
        drawn_cards = draw(cards[places])
        ladder = draw(ladders)
        # The names of the rules the program makes of its base rule, cards and tiers.
        taken = {BASE_RULE, *(card.rule().name for card in drawn_cards)}
        if ladder is not None:
            taken.update(rule.name for rule in ladder.multiplier_rules())
        rule_names = draw(names.filter(taken.isdisjoint))
        rules = [_rule(draw, name, group_names, places) for name in rule_names]
        # Passed through a dict: mypy's attrs plugin types a field with converter=tuple as
        # Iterable[_T_co], which no list satisfies.
        fields: dict[str, Any] = {
            "points": draw(_points_policies()),
            "earn": draw(earn),
            "rules": rules,
            "groups": drawn_groups,
            "cards": drawn_cards,
            "tiers": ladder,
            "catalog": draw(rewards[places]),
            "achievements": draw(drawn_achievements[places]),
            "coupons": draw(coupons[places]),
            "multipliers": draw(st.sampled_from(["multiply", "add"])),
            "currency": currency,
            "time_zone": draw(st.sampled_from(_TIME_ZONES)),
        }
        recovery = draw(recoveries)
        messaging = _with_templates(draw, draw(_messaging_policies()), rules, recovery)
        fields.update(messaging=messaging, recovery=recovery, social=draw(socials))
        return Program(**fields)

    return program()


# -- recovery policies ---------------------------------------------------------------------

_REASONS = ("call to ask how it went", "call back", "send a handwritten note")
# Opening hours as minutes since local midnight: on the quarter hour, 00:00 to 24:00.
_QUARTERS = tuple(range(0, 24 * 60 + 1, 15))
_OFFICE_HOURS = ((540, 1050),)  # 09:00-17:30


@cache
def _days_open() -> SearchStrategy[tuple[tuple[int, int], ...]]:
    """One day's opening hours: closed, office hours, all day, or one or two spans of at
    least half an hour (spans that touch are joined by the calendar)."""

    @st.composite
    def spans(draw: st.DrawFn) -> tuple[tuple[int, int], ...]:
        count = draw(st.integers(1, 2))
        cuts = sorted(
            draw(st.sets(st.sampled_from(_QUARTERS), min_size=2 * count, max_size=2 * count))
        )
        pairs = zip(cuts[::2], cuts[1::2], strict=True)
        return tuple((start, end) for start, end in pairs if end - start >= 30) or _OFFICE_HOURS

    return st.one_of(st.just(()), st.just(_OFFICE_HOURS), st.just(((0, 1440),)), spans())


@cache
def _calendars() -> SearchStrategy[BusinessCalendar]:
    """Business calendars in a realistic time zone: Monday to Friday 09:00-17:30 now and
    then, else any hours each weekday (open on one at least), and up to three closed
    days."""

    @st.composite
    def calendar(draw: st.DrawFn) -> BusinessCalendar:
        if draw(st.booleans()):
            week = (*[_OFFICE_HOURS] * 5, (), ())
        else:
            week = tuple(draw(_days_open()) for _ in range(7))
            if not any(week):
                week = (_OFFICE_HOURS, *week[1:])
        closed = st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31))
        return BusinessCalendar(
            draw(st.sampled_from(_TIME_ZONES)),
            week,
            closed=draw(st.frozensets(closed, max_size=3)),
        )

    return calendar()


@cache
def _spans_of_time() -> SearchStrategy[timedelta]:
    """Exact, positive spans of time up to three days: whole hours often, and now and
    then to the microsecond."""
    common = st.sampled_from([timedelta(hours=4), timedelta(hours=8), timedelta(days=1)])
    minutes = st.integers(15, 3 * 24 * 60).map(lambda count: timedelta(minutes=count))
    exact = st.timedeltas(min_value=timedelta(microseconds=1), max_value=timedelta(days=3))
    return st.one_of(common, minutes, exact)


def _targets(draw: st.DrawFn, max_escalations: int) -> Targets:
    """Targets to acknowledge and to resolve (no sooner), with up to ``max_escalations``
    steps that give a role a task, raise the severity, or both."""
    acknowledge = draw(_spans_of_time())
    resolve = acknowledge + draw(st.just(timedelta(0)) | _spans_of_time())
    steps = []
    for _ in range(draw(st.integers(0, max_escalations))):
        notify = draw(st.none() | st.sampled_from(_ROLES) | _names())
        raise_to = draw(st.none() | st.sampled_from(Severity))
        steps.append(
            Escalation(
                target=draw(st.sampled_from(["acknowledge", "resolve"])),
                after=draw(st.just(timedelta(0)) | _spans_of_time()),
                notify=_ROLES[0] if notify is None and raise_to is None else notify,
                raise_to=raise_to,
            )
        )
    return Targets(acknowledge=acknowledge, resolve=resolve, escalations=steps)


def _rung(draw: st.DrawFn) -> Rung:
    """A rung: one to three gestures (its vouchers valid for the same time), at a
    severity, and now and then for customers who spent so much, or complained so often."""
    valid_for = draw(st.none() | _durations())
    shares = st.sampled_from([Decimal("0.5"), Decimal(1), Decimal("0.25")]) | st.decimals(
        min_value=Decimal("0.001"), max_value=Decimal(1), places=3
    )
    gestures: SearchStrategy[Gesture] = st.one_of(
        st.just(Apology()),
        st.builds(GoodwillPoints, st.integers(1, 2000)),
        st.builds(GoodwillVoucher, _money(), valid_for=st.just(valid_for)),
        st.builds(Refund, shares, cap=st.none() | _money()),
    )
    at_least = draw(st.integers(0, 3))
    return Rung(
        draw(st.lists(gestures, min_size=1, max_size=3)),
        severity=draw(st.sampled_from(Severity)),
        spent_at_least=draw(st.just(Decimal(0)) | st.decimals(0, 5000, places=2)),
        complaints_at_least=at_least,
        complaints_at_most=draw(st.none() | st.integers(at_least, at_least + 3)),
    )


@cache
def _ladders_of_compensation(max_rungs: int = 3) -> SearchStrategy[CompensationLadder]:
    """Compensation ladders of up to ``max_rungs`` rungs, with or without a cap, points
    of any value, and a window for earlier complaints."""
    point_values = st.sampled_from([Decimal("0.01"), Decimal("0.005"), Decimal(1)])
    point_values |= st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(10), places=4)

    @st.composite
    def ladder(draw: st.DrawFn) -> CompensationLadder:
        return CompensationLadder(
            [_rung(draw) for _ in range(draw(st.integers(0, max_rungs)))],
            cap=draw(st.none() | st.just(Decimal(0)) | _money()),
            point_value=draw(point_values),
            exceed_order=draw(st.booleans()),
            window=draw(st.just(relativedelta(months=12)) | _durations()),
        )

    return ladder()


@cache
def _sends(default: str) -> SearchStrategy[Send]:
    """A message sent as ``default``, or as another template on another channel."""
    named = st.just(default) | st.sampled_from(_TEMPLATES) | _names()
    channels = st.sampled_from(_MESSAGE_CHANNELS) | _names()
    other = st.builds(Send, template=named, channel=channels, kind=st.sampled_from(MessageKind))
    return st.just(Send(template=default)) | other


@cache
def _follow_ups() -> SearchStrategy[FollowUp]:
    # At once (timedelta(0)) is its own branch: a follow-up due on resolution is common.
    afters = st.just(timedelta(0)) | st.just(timedelta(days=2)) | _durations()
    return st.builds(
        FollowUp,
        owner=st.sampled_from(_ROLES) | _names(),
        after=afters,
        reason=st.sampled_from(_REASONS) | _names(),
    )


def recovery_policies(
    *, max_rungs: int = 3, max_escalations: int = 2
) -> SearchStrategy[RecoveryPolicy]:
    """Valid recovery policies: the default one, or targets for some severities (exact
    spans of time, each with up to ``max_escalations`` escalation steps), sometimes a
    business calendar (office hours, or any hours on any weekdays, in a realistic time
    zone, with closed days), a compensation ladder of up to ``max_rungs`` rungs (apologies,
    goodwill points, vouchers and refunds, with or without a cap), the apology and the
    incident notice (the defaults, others, or none), a follow-up, a survey and a task for
    detractors, and goodwill for the customers an incident affects. Templates and
    channels are now and then of the policy's own: a program needs templates for them
    (:func:`programs` adds them).

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10, database=None)
    ... @given(recovery_policies(max_rungs=1, max_escalations=0))
    ... def test_targets_resolve_no_sooner_than_they_acknowledge(policy):
    ...     assert len(policy.compensation.rungs if policy.compensation else ()) <= 1
    ...     for targets in policy.targets.values():
    ...         assert targets.acknowledge <= targets.resolve and not targets.escalations
    >>> test_targets_resolve_no_sooner_than_they_acknowledge()
    """
    max_rungs = _check_size("max_rungs", max_rungs)
    max_escalations = _check_size("max_escalations", max_escalations)
    goodwill = st.lists(
        st.builds(GoodwillPoints, st.integers(1, 1000))
        | st.builds(GoodwillVoucher, _money(), valid_for=st.none() | _durations()),
        max_size=2,
    )
    surveys = st.builds(
        SurveyInvite,
        after=st.sampled_from([timedelta(days=7), timedelta(0)]) | _durations(),
        scale=st.sampled_from(["nps", "csat"]),
        send=_sends("survey"),
    )

    @st.composite
    def policy(draw: st.DrawFn) -> RecoveryPolicy:
        severities = draw(st.lists(st.sampled_from(Severity), unique=True, max_size=4))
        return RecoveryPolicy(
            targets={severity: _targets(draw, max_escalations) for severity in severities},
            calendar=draw(st.none() | _calendars()),
            compensation=draw(st.none() | _ladders_of_compensation(max_rungs)),
            apology=draw(st.none() | _sends("apology")),
            apologize_when=draw(st.sampled_from(["acknowledged", "filed"])),
            follow_up=draw(st.none() | _follow_ups()),
            survey=draw(st.none() | surveys),
            detractors=draw(st.none() | _follow_ups()),
            low_csat=draw(st.integers(1, 4)),
            incident_notice=draw(st.none() | _sends("incident_notice")),
            incident_goodwill=draw(goodwill),
        )

    return st.just(RecoveryPolicy()) | policy()


# -- the social bond -----------------------------------------------------------------------

_OWNERS = ("Lena", "Marco", "Aoife", "front desk", "account manager")
_CONTACT_CHANNELS = ("phone", "in person", "handwritten note", "video call")
_CONTACT_NOTES = (
    "Asked how the new colour is holding up.",
    "Her daughter starts school next week.",
    "Wants a shorter cut\nbefore the summer.",
)
_KEEP_IN_TOUCH = ("keep in touch", "check in", "ask how the cut has settled")
# The probe a Cadence measures its ahead against: ahead is drawn below half of every
# there, so that it is less than every from any day (a month is at least 28 days).
_PROBE = datetime(2000, 1, 1)  # noqa: DTZ001 - only compared with itself


def contacts(
    *,
    customer_ids: SearchStrategy[str] | None = None,
    at: SearchStrategy[datetime] | None = None,
) -> SearchStrategy[ContactMade]:
    """Personal contacts (:class:`~custbond.ContactMade`): sometimes who made them (an
    owner such as ``"Lena"``, now and then any name), how (``"phone"``, ``"in person"``,
    ...) and a note of what was said (a sentence, several lines, or any text).
    ``customer_ids`` and ``at`` (timezone-aware datetimes) are strategies, as for
    :func:`purchases`.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10, database=None)
    ... @given(contacts(customer_ids=st.just("maya")))
    ... def test_contacts_are_with_the_customer(contact):
    ...     assert contact.customer_id == "maya" and contact.at.utcoffset() is not None
    >>> test_contacts_are_with_the_customer()
    """
    customer_ids = _check_customer_ids(customer_ids)
    times = _check_at(at)
    return st.builds(
        lambda id_, customer_id, when, by, channel, note: ContactMade(
            id=id_,
            customer_id=customer_id,
            at=_aware(when),
            by=by,
            channel=channel,
            note=note,
        ),
        _default_ids("ct-"),
        customer_ids,
        times,
        st.none() | st.sampled_from(_OWNERS) | _names(),
        st.none() | st.sampled_from(_CONTACT_CHANNELS),
        st.none() | st.sampled_from(_CONTACT_NOTES) | st.text(max_size=60),
    )


@cache
def _everies() -> SearchStrategy[relativedelta | timedelta]:
    """How often to keep in touch: every few weeks or months, as people say it (calendar
    durations), or an exact span of a day to a year and a bit; never less than a day."""
    common = st.sampled_from(
        [
            relativedelta(days=42),
            relativedelta(months=1),
            timedelta(days=30),
            relativedelta(days=90),
        ]
    )
    calendar = st.builds(
        relativedelta,
        months=st.integers(0, 14),
        days=st.integers(0, 60),
        hours=st.sampled_from([0, 0, 12]),
    ).filter(lambda every: every.months or every.days)
    exact = st.timedeltas(min_value=timedelta(days=1), max_value=timedelta(days=400))
    return st.one_of(common, calendar, exact)


@cache
def _cadences() -> SearchStrategy[Cadence]:
    """Cadences: every few weeks or months (see :func:`_everies`), opened at once or
    some exact time ahead (less than half of every), saying why."""

    @st.composite
    def cadence(draw: st.DrawFn) -> Cadence:
        every = draw(_everies())
        most = (_PROBE + every - _PROBE) / 2
        week = timedelta(days=7)
        aheads = st.just(timedelta(0)) | st.timedeltas(min_value=timedelta(0), max_value=most)
        ahead = draw((st.just(week) | aheads) if week <= most else aheads)
        return Cadence(
            every=every,
            ahead=ahead,
            reason=draw(st.sampled_from(_KEEP_IN_TOUCH) | _names()),
        )

    return cadence()


@cache
def _calls_after() -> SearchStrategy[CallAfter]:
    """Calls after each event a person would ring up about, a day or two later, at once,
    or any time later, for the customer's owner or, now and then, someone else."""
    afters = st.sampled_from([timedelta(days=1), relativedelta(days=2), timedelta(0)])
    return st.builds(
        CallAfter,
        on=st.sampled_from(CALLABLE_EVENTS),
        after=st.just(timedelta(0)) | afters | _durations(),
        reason=st.sampled_from(_REASONS) | _names(),
        owner=st.none() | st.sampled_from(_OWNERS) | _names(),
    )


def social_policies(
    *, max_calls: int = 3, max_milestones: int = 2
) -> SearchStrategy[SocialPolicy]:
    """Valid social policies: the default one (no owner, no cadence, no calls), or
    sometimes a default owner (``"Lena"``, now and then any name), sometimes a
    keep-in-touch cadence (every few weeks or months, as a calendar or an exact duration,
    never less than a day; opened when it falls due, or up to half of that ahead), up
    to ``max_calls`` calls after the events a person would ring up about, at once or
    later, for the customer's owner or someone named, up to ``max_milestones``
    milestones worth a note of appreciation (:func:`milestones`, with different names),
    and sometimes personal occasions to mark (:func:`occasion_policies`) and regular
    reviews with key customers (:func:`key_reviews`). The invitation to members' events
    is always the default one (the ``"invitation"`` template, which the default
    templates have).

    >>> from hypothesis import given, settings
    >>> LAST_CONTACT = datetime(2026, 2, 1, tzinfo=UTC)
    >>> @settings(max_examples=10, database=None)
    ... @given(social_policies(max_calls=1))
    ... def test_a_task_opens_after_the_last_contact(policy):
    ...     assert len(policy.call_after) <= 1
    ...     if policy.cadence is not None:
    ...         assert LAST_CONTACT < policy.cadence.opens(LAST_CONTACT)
    >>> test_a_task_opens_after_the_last_contact()
    """
    max_calls = _check_size("max_calls", max_calls)
    max_milestones = _check_size("max_milestones", max_milestones)
    policies = st.builds(
        SocialPolicy,
        default_owner=st.none() | st.sampled_from(_OWNERS) | _names(),
        cadence=st.none() | _cadences(),
        call_after=st.lists(_calls_after(), max_size=max_calls),
        appreciation=st.lists(
            milestones(), max_size=max_milestones, unique_by=lambda milestone: milestone.name
        ),
        occasions=st.none() | occasion_policies(),
        reviews=st.none() | key_reviews(),
    )
    return st.just(SocialPolicy()) | policies


_MILESTONE_NAMES = ("tenth-order", "first-hundred", "big-spender", "fiftieth-visit")
_APPRECIATION = ("write a note of appreciation", "send a handwritten thank-you card")
_OCCASION_NAMES = ("wedding anniversary", "first visit", "shop's opening day", "graduation")
_REVIEW_REASONS = ("regular review", "quarterly account review")
_MEMBERS_EVENTS = ("Pie tasting night", "Customer day", "Wine evening")


def milestones() -> SearchStrategy[Milestone]:
    """Milestones worth a note of appreciation (:class:`~custbond.Milestone`): at a number
    of purchases (the 1st to the 100th) or at a lifetime spend (a positive amount), with a
    name such as ``"tenth-order"`` (now and then any name) and a reason.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10, database=None)
    ... @given(milestones())
    ... def test_a_milestone_counts_purchases_or_spend(milestone):
    ...     assert (milestone.purchases is None) != (milestone.spend is None)
    >>> test_a_milestone_counts_purchases_or_spend()
    """
    names = st.sampled_from(_MILESTONE_NAMES) | _names()
    reasons = st.sampled_from(_APPRECIATION) | _names()
    counted = st.builds(
        Milestone,
        name=names,
        purchases=st.sampled_from([10, 50]) | st.integers(1, 100),
        reason=reasons,
    )
    spent = st.builds(Milestone, name=names, spend=_money(), reason=reasons)
    return counted | spent


def key_reviews() -> SearchStrategy[KeyReview]:
    """Regular reviews with key customers (:class:`~custbond.KeyReview`): every few weeks
    or months (a calendar or an exact duration of a day or more), for customers in some
    tiers, with some tags or who spent some amount (one of them at least), opened when
    due or up to half of the period ahead.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10, database=None)
    ... @given(key_reviews())
    ... def test_someone_is_key(review):
    ...     assert review.tiers or review.tags or review.min_spend is not None
    >>> test_someone_is_key()
    """

    @st.composite
    def review(draw: st.DrawFn) -> KeyReview:
        every = draw(st.just(relativedelta(months=3)) | _everies())
        most = (_PROBE + every - _PROBE) / 2
        who = draw(st.sets(st.sampled_from(["tiers", "tags", "min_spend"]), min_size=1))
        return KeyReview(
            every=every,
            tiers=draw(st.frozensets(st.sampled_from(_TIERS), min_size=1))
            if "tiers" in who
            else frozenset(),
            tags=draw(st.frozensets(st.sampled_from(_TAGS), min_size=1))
            if "tags" in who
            else frozenset(),
            min_spend=draw(_money()) if "min_spend" in who else None,
            ahead=draw(st.just(timedelta(0)) | st.timedeltas(timedelta(0), most)),
            reason=draw(st.sampled_from(_REVIEW_REASONS) | _names()),
        )

    return review()


def occasions() -> SearchStrategy[Occasion]:
    """Personal occasions (:class:`~custbond.Occasion`): a name such as ``"wedding
    anniversary"`` (now and then any text), on any real day of the year, 29 February
    included, with the year it began (from 1950) or without.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10, database=None)
    ... @given(occasions())
    ... def test_an_occasion_comes_round_every_year(occasion):
    ...     assert occasion.in_year(2027).year == 2027
    >>> test_an_occasion_comes_round_every_year()
    """
    names = st.sampled_from(_OCCASION_NAMES) | _names()
    known = st.dates(min_value=date(1950, 1, 1), max_value=date(2030, 12, 31))
    unknown = st.dates(min_value=date(2000, 1, 1), max_value=date(2000, 12, 31))
    leap = st.sampled_from([None, 2000, 2024])
    return st.one_of(
        st.builds(
            lambda name, day: Occasion(name=name, month=day.month, day=day.day, year=day.year),
            names,
            known,
        ),
        st.builds(
            lambda name, day: Occasion(name=name, month=day.month, day=day.day), names, unknown
        ),
        st.builds(lambda name, year: Occasion(name=name, month=2, day=29, year=year), names, leap),
    )


def occasion_policies() -> SearchStrategy[OccasionPolicy]:
    """Which personal occasions an owner marks (:class:`~custbond.OccasionPolicy`): the
    default one, or any of birthdays, first purchases and dates added per customer, a
    task some time ahead (none, three days, or up to a hundred days) at a local hour.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10, database=None)
    ... @given(occasion_policies())
    ... def test_tasks_are_opened_less_than_a_year_ahead(policy):
    ...     assert policy.ahead < timedelta(days=365) and policy.at.tzinfo is None
    >>> test_tasks_are_opened_less_than_a_year_ahead()
    """
    aheads = st.sampled_from([timedelta(0), timedelta(days=3)]) | st.timedeltas(
        timedelta(0), timedelta(days=100)
    )
    policies = st.builds(
        OccasionPolicy,
        ahead=aheads,
        birthday=st.booleans(),
        first_purchase=st.booleans(),
        custom=st.booleans(),
        at=st.just(time(9)) | st.times(),
        reason=st.just("personal occasion") | _names(),
    )
    return st.just(OccasionPolicy()) | policies


def members_events(*, at: SearchStrategy[datetime] | None = None) -> SearchStrategy[MembersEvent]:
    """Members' events (:class:`~custbond.MembersEvent`): an id such as ``"me-42"``, a
    name such as ``"Pie tasting night"``, when it starts (``at``: timezone-aware
    datetimes, as for :func:`purchases`), and for whom: everyone, or customers in some
    tiers or with some tags.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10, database=None)
    ... @given(members_events())
    ... def test_an_event_for_nobody_in_particular_is_for_everyone(event):
    ...     if not (event.tiers or event.tags):
    ...         assert event.is_for(tier=None, tags=frozenset())
    >>> test_an_event_for_nobody_in_particular_is_for_everyone()
    """
    times = _check_at(at)
    return st.builds(
        lambda id_, name, when, tiers, tags: MembersEvent(
            id=id_, name=name, at=_aware(when), tiers=tiers, tags=tags
        ),
        _default_ids("me-"),
        st.sampled_from(_MEMBERS_EVENTS) | _names(),
        times,
        st.frozensets(st.sampled_from(_TIERS), max_size=2),
        st.frozensets(st.sampled_from(_TAGS), max_size=2),
    )


def _attendances() -> SearchStrategy[EventAttended]:
    return st.builds(
        lambda id_, customer_id, at, event: EventAttended(
            id=id_, customer_id=customer_id, at=at, event=event
        ),
        _default_ids("att-"),
        _default_ids("c-"),
        _aware_datetimes(),
        _default_ids("me-"),
    )


# -- the customization bond ----------------------------------------------------------------

_RESTRICTIONS = ("gluten-free", "nut-free", "dairy-free", "halal", "vegan")
_INTERESTS = ("baking", "pricing", "coffee origins", "marketing", "hiring")
_INDUSTRIES = ("bakery", "legal", "retail", "hospitality", "salon")
_CONTENT_KINDS = ("article", "offer", "product", "video")
_CONTENT_IDS = ("pecan", "gf-cherry", "pricing-101", "oven-guide")
_TITLES = ("Pecan pie", "Gluten-free cherry pie", "Pricing for bakeries", "Ten tips\nfor owners")
_OFFER_IDS = ("gf-cherry", "spring-10", "free-delivery")
_NOTES = ("for Maya's birthday", "the blue one", "when it is back in stock")


def _words(vocabulary: tuple[str, ...], max_size: int = 3) -> SearchStrategy[frozenset[str]]:
    """Sets of words from ``vocabulary``, and now and then any name."""
    return st.frozensets(st.sampled_from(vocabulary) | _names(), max_size=max_size)


def preferences() -> SearchStrategy[Preferences]:
    """A customer's preferences (:class:`~custbond.Preferences`): none known, or
    favourite products (by sku), restrictions such as ``"gluten-free"``, interests and
    an industry, each sometimes, now and then with any name.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10, database=None)
    ... @given(preferences())
    ... def test_what_is_known_is_counted(prefs):
    ...     assert prefs.known >= len(prefs.restrictions)
    >>> test_what_is_known_is_counted()
    """
    known = st.builds(
        Preferences,
        favourites=_words(_SKUS),
        restrictions=_words(_RESTRICTIONS),
        interests=_words(_INTERESTS),
        industry=st.none() | st.sampled_from(_INDUSTRIES) | _names(),
    )
    return st.just(Preferences()) | known


def contents() -> SearchStrategy[Content]:
    """Contents and offers to choose by preference (:class:`~custbond.Content`): an id
    such as ``"gf-cherry"``, a title, a kind (``"article"``, ``"offer"``, ...), the
    industries, interests and products it suits, and the restrictions it is unsuitable
    for, each sometimes.

    >>> from hypothesis import given, settings
    >>> from custbond.bonds.customization import choose
    >>> @settings(max_examples=10, database=None)
    ... @given(contents())
    ... def test_an_unsuitable_content_is_never_chosen(content):
    ...     for restriction in content.unsuitable_for:
    ...         prefs = Preferences(restrictions={restriction}, industry="bakery")
    ...         assert () == choose([content], prefs)
    >>> test_an_unsuitable_content_is_never_chosen()
    """
    return st.builds(
        Content,
        id=st.sampled_from(_CONTENT_IDS) | _default_ids("content-"),
        title=st.sampled_from(_TITLES) | _names(),
        kind=st.sampled_from(_CONTENT_KINDS),
        industries=_words(_INDUSTRIES, 2),
        interests=_words(_INTERESTS, 2),
        skus=_words(_SKUS, 2),
        unsuitable_for=_words(_RESTRICTIONS, 2),
    )


def next_need_policies() -> SearchStrategy[NextNeedPolicy]:
    """Next-need policies (:class:`~custbond.NextNeedPolicy`): the default one (every
    product), or some products by sku and tag, a prediction from one interval up to as
    many as are kept (2 to 12), a reminder some time before (none, a day, two, or up
    to a week), a cap on the products followed, and purchases within some hours as one
    buying occasion.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10, database=None)
    ... @given(next_need_policies())
    ... def test_a_prediction_needs_no_more_intervals_than_are_kept(policy):
    ...     assert policy.min_intervals <= policy.keep
    >>> test_a_prediction_needs_no_more_intervals_than_are_kept()
    """

    @st.composite
    def policy(draw: st.DrawFn) -> NextNeedPolicy:
        keep = draw(st.integers(2, 12))
        chosen = draw(st.booleans())
        skus = draw(_words(_SKUS)) if chosen else None
        tags = draw(st.frozensets(st.sampled_from(_TAGS), max_size=2)) if chosen else frozenset()
        if chosen and not skus and not tags:
            tags = frozenset({_TAGS[0]})
        spans = st.sampled_from([timedelta(0), timedelta(days=1), timedelta(days=2)])
        return NextNeedPolicy(
            skus=skus,
            tags=tags,
            min_intervals=draw(st.integers(1, keep)),
            remind_before=draw(spans | st.timedeltas(timedelta(0), timedelta(days=7))),
            keep=keep,
            max_products=draw(st.sampled_from([50, 1]) | st.integers(1, 60)),
            same_within=draw(
                st.sampled_from([timedelta(hours=12), timedelta(0), timedelta(days=1)])
            ),
        )

    return st.just(NextNeedPolicy()) | policy()


def customization_policies(*, max_contents: int = 3) -> SearchStrategy[CustomizationPolicy]:
    """Valid customization policies (:class:`~custbond.CustomizationPolicy`): the default
    one, or up to ``max_contents`` contents (:func:`contents`, with different ids),
    sometimes next-need reminders (:func:`next_need_policies`), saved carts kept for a
    window (90 days, three months, or any calendar or exact duration) and sometimes a
    reminder some time before the window ends (less than the window). The reminders are
    the default ones (the ``"next_need"`` and ``"saved_cart"`` templates, which the
    default templates have), or none.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10, database=None)
    ... @given(customization_policies(max_contents=1))
    ... def test_contents_keep_to_their_bound(policy):
    ...     assert len(policy.contents) <= 1
    >>> test_contents_keep_to_their_bound()
    """
    max_contents = _check_size("max_contents", max_contents)
    common: list[timedelta | relativedelta] = [timedelta(days=90), relativedelta(months=3)]
    windows = st.sampled_from(common) | _durations()
    need_reminders = st.just(Send(template="next_need", kind="marketing")) | st.none()
    cart_reminders = st.just(Send(template="saved_cart", kind="marketing")) | st.none()

    @st.composite
    def policy(draw: st.DrawFn) -> CustomizationPolicy:
        window = draw(windows)
        span = _PROBE + window - _PROBE
        before = None
        if span > timedelta(microseconds=1) and draw(st.booleans()):
            most = span - timedelta(microseconds=1)
            before = draw(
                st.timedeltas(timedelta(microseconds=1), most)
                | st.just(min(timedelta(days=7), most))
            )
        return CustomizationPolicy(
            contents=draw(st.lists(contents(), max_size=max_contents, unique_by=_content_id)),
            next_need=draw(st.none() | next_need_policies()),
            need_reminder=draw(need_reminders),
            cart_window=window,
            cart_reminder=draw(cart_reminders),
            remind_cart_before=before,
        )

    return st.just(CustomizationPolicy()) | policy()


def _content_id(content: Content) -> str:
    return content.id


def _acceptances() -> SearchStrategy[OfferAccepted]:
    return st.builds(
        lambda id_, customer_id, at, offer: OfferAccepted(
            id=id_, customer_id=customer_id, at=at, offer=offer
        ),
        _default_ids("acc-"),
        _default_ids("c-"),
        _aware_datetimes(),
        st.sampled_from(_OFFER_IDS) | _default_ids("offer-"),
    )


# -- the structural bond -------------------------------------------------------------------

_PLAN_NAMES = ("pie-box", "coffee box", "wine club", "veg box", "membership")
_BENEFITS = ("exclusive content", "members' events", "free delivery")
_SEQUENCE_NAMES = ("onboarding", "newsletter", "win-back", "course")
_INTEGRATION_NAMES = ("portal", "api-key", "label-printer", "app")
# Templates the default templates have (on every channel) that ask for no value but
# $name: what plans and sequences send unless told otherwise, so that a program with the
# default templates accepts them (a plan's reminder is given $plan and $when, a step
# $sequence: "next_need", say, asks for $sku, which neither ever has).
_BOND_TEMPLATES = ("welcome", "birthday")
# Rules of plans as hosts write them: the last day of each month, every other Thursday.
_PLAN_RULES = (
    "FREQ=MONTHLY;BYMONTHDAY=-1;BYHOUR=9;BYMINUTE=0",
    "FREQ=WEEKLY;INTERVAL=2;BYDAY=TH;BYHOUR=10",
    "FREQ=MONTHLY;BYDAY=1FR;BYHOUR=18",
    "FREQ=DAILY;BYHOUR=7",
    "FREQ=YEARLY;BYMONTH=1;BYMONTHDAY=1;BYHOUR=0",
    "FREQ=MONTHLY;BYMONTHDAY=15;COUNT=12",
)
_WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
# The longest time a drawn subscription runs before it is paused or cancelled.
_MAX_RUN = timedelta(days=120)


@cache
def _every() -> SearchStrategy[str]:
    """RRULE texts a :class:`~custbond.Plan` accepts: those hosts write, and others made
    of a frequency (daily to yearly), an interval, the days (of the week, of the month:
    the last one too), an hour and a minute, and now and then a count."""

    @st.composite
    def composed(draw: st.DrawFn) -> str:
        frequency = draw(st.sampled_from(["DAILY", "WEEKLY", "MONTHLY", "YEARLY"]))
        parts = [f"FREQ={frequency}"]
        interval = draw(st.sampled_from([1, 1, 2, 3]))
        if interval > 1:
            parts.append(f"INTERVAL={interval}")
        if frequency == "WEEKLY" and draw(st.booleans()):
            days = draw(st.sets(st.sampled_from(_WEEKDAY_CODES), min_size=1, max_size=3))
            parts.append("BYDAY=" + ",".join(sorted(days, key=_WEEKDAY_CODES.index)))
        elif frequency == "MONTHLY":
            days_of_month = st.sampled_from(["-1", "1"]) | st.integers(1, 28).map(str)
            by = st.sampled_from(["BYDAY=1FR", "BYDAY=-1SA", "BYDAY=2TU"])
            parts.append(draw(days_of_month.map("BYMONTHDAY={}".format) | by))
        elif frequency == "YEARLY":
            day = draw(st.dates(min_value=date(2001, 1, 1), max_value=date(2001, 12, 31)))
            parts.append(f"BYMONTH={day.month};BYMONTHDAY={day.day}")
        if draw(st.booleans()):
            parts.append(f"BYHOUR={draw(st.integers(0, 23))}")
            if draw(st.booleans()):
                parts.append(f"BYMINUTE={draw(st.sampled_from([0, 15, 30, 45]))}")
        if draw(st.integers(0, 3)) == 0:
            parts.append(f"COUNT={draw(st.integers(1, 24))}")
        return ";".join(parts)

    return st.sampled_from(_PLAN_RULES) | composed()


def _check_templates(value: object) -> SearchStrategy[str]:
    if value is None:
        return st.sampled_from(_BOND_TEMPLATES)
    _check_strategy("templates", value)
    assert isinstance(value, SearchStrategy)
    return value


def plans(*, templates: SearchStrategy[str] | None = None) -> SearchStrategy[Plan]:
    """Subscription plans (:class:`~custbond.Plan`): a name such as ``"pie-box"``, a
    recurrence (an RRULE such as ``"FREQ=MONTHLY;BYMONTHDAY=-1;BYHOUR=9"``: daily to
    yearly, on days of the week or of the month, the last one too, at an hour, now and
    then for a count of occurrences), free or at a price, sometimes with benefits, and
    sometimes a reminder some time before each occurrence, with a template drawn from
    ``templates`` (by default a default template that asks for nothing but ``$name``,
    such as ``"welcome"``: a program refuses one asking for a value the reminder never
    has).

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10, database=None)
    ... @given(plans(templates=st.just("box_reminder")))
    ... def test_a_reminder_has_a_time_before(plan):
    ...     assert plan.template in (None, "box_reminder")
    ...     assert plan.template is None or plan.remind_before is not None
    >>> test_a_reminder_has_a_time_before()
    """
    names = _check_templates(templates)
    befores = st.sampled_from([timedelta(days=2), timedelta(hours=12)]) | st.timedeltas(
        timedelta(minutes=1), timedelta(days=14)
    )

    @st.composite
    def plan(draw: st.DrawFn) -> Plan:
        remind_before = draw(st.none() | befores)
        return Plan(
            name=draw(st.sampled_from(_PLAN_NAMES) | _names()),
            every=draw(_every()),
            price=draw(st.none() | _money()),
            benefits=draw(st.lists(st.sampled_from(_BENEFITS) | _names(), max_size=2)),
            remind_before=remind_before,
            template=None if remind_before is None else draw(st.none() | names),
        )

    return plan()


def _afters(draw: st.DrawFn, count: int) -> list[timedelta | relativedelta]:
    """``count`` delays in order on every day one could enter a sequence: the first at
    once now and then, each later one some days, hours or months after the one before
    (a number of months, and exact time on top, only ever grows)."""
    months, span = 0, timedelta(0)
    afters: list[timedelta | relativedelta] = []
    for number in range(count):
        if number or draw(st.booleans()):
            months += draw(st.sampled_from([0, 0, 0, 1]))
            span += draw(
                st.sampled_from([timedelta(days=3), timedelta(days=7), timedelta(0)])
                | st.timedeltas(timedelta(0), timedelta(days=20))
            )
        if months:
            afters.append(relativedelta(months=months, days=span.days, seconds=span.seconds))
        else:
            afters.append(span)
    return afters


def sequences(
    *, max_steps: int = 3, templates: SearchStrategy[str] | None = None
) -> SearchStrategy[Sequence]:
    """Autoresponder sequences (:class:`~custbond.Sequence`): entered on an event type
    (for a custom event, now and then only one of a name), one to ``max_steps`` steps
    in order (the first now and then at once, later ones days or months after), each
    with a template drawn from ``templates`` (by default a default template that asks
    for nothing but ``$name``, such as ``"welcome"``) and sometimes a name; left on up
    to two other event types; marketing or transactional; catching up every step or not.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10, database=None)
    ... @given(sequences(max_steps=2))
    ... def test_an_event_never_both_enters_and_leaves(sequence):
    ...     assert sequence.on not in sequence.leave_on and len(sequence.steps) <= 2
    >>> test_an_event_never_both_enters_and_leaves()
    """
    if isinstance(max_steps, int) and not isinstance(max_steps, bool) and max_steps < 1:
        raise InvalidArgument(f"max_steps={max_steps!r} must be at least 1")
    max_steps = _check_size("max_steps", max_steps)
    names = _check_templates(templates)

    @st.composite
    def sequence(draw: st.DrawFn) -> Sequence:
        on = draw(
            st.sampled_from(["Signup", "CustomEvent", "Purchase"])
            | st.sampled_from(SEQUENCE_EVENTS)
        )
        others = [name for name in SEQUENCE_EVENTS if name != on]
        afters = _afters(draw, draw(st.integers(1, max_steps)))
        steps = [
            SequenceStep(
                after=after,
                template=draw(names),
                name=draw(st.none() | st.sampled_from(["day 3", "a month in"]) | _names()),
            )
            for after in afters
        ]
        return Sequence(
            name=draw(st.sampled_from(_SEQUENCE_NAMES) | _names()),
            on=on,
            event_name=draw(st.none() | st.sampled_from(_EVENT_NAMES))
            if on == "CustomEvent"
            else None,
            steps=steps,
            leave_on=draw(st.lists(st.sampled_from(others), max_size=2, unique=True)),
            kind=draw(st.sampled_from(MessageKind)),
            catch_up=draw(st.booleans()),
        )

    return sequence()


def _sequence_steps() -> SearchStrategy[SequenceStep]:
    return sequences(max_steps=1).map(lambda sequence: sequence.steps[0])


def structural_policies(
    *,
    max_plans: int = 3,
    max_sequences: int = 2,
    templates: SearchStrategy[str] | None = None,
) -> SearchStrategy[StructuralPolicy]:
    """Valid structural policies (:class:`~custbond.StructuralPolicy`): up to
    ``max_plans`` plans (:func:`plans`) and up to ``max_sequences`` sequences
    (:func:`sequences`), each with different names, their templates drawn from
    ``templates`` (by default the default templates that ask for nothing but ``$name``).

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10, database=None)
    ... @given(structural_policies(max_plans=1, max_sequences=0))
    ... def test_parts_keep_to_their_bounds(policy):
    ...     assert len(policy.plans) <= 1 and policy.sequences == ()
    >>> test_parts_keep_to_their_bounds()
    """
    max_plans = _check_size("max_plans", max_plans)
    max_sequences = _check_size("max_sequences", max_sequences)
    names = _check_templates(templates)
    return st.builds(
        StructuralPolicy,
        plans=st.lists(plans(templates=names), max_size=max_plans, unique_by=_name),
        sequences=st.lists(sequences(templates=names), max_size=max_sequences, unique_by=_name),
    )


def _name(value: Plan | Sequence) -> str:
    return value.name


def _adoptions() -> SearchStrategy[IntegrationAdopted]:
    return st.builds(
        lambda id_, customer_id, at, integration: IntegrationAdopted(
            id=id_, customer_id=customer_id, at=at, integration=integration
        ),
        _default_ids("ia-"),
        _default_ids("c-"),
        _aware_datetimes(),
        st.sampled_from(_INTEGRATION_NAMES) | _names(),
    )


def _drops() -> SearchStrategy[IntegrationDropped]:
    return st.builds(
        lambda id_, customer_id, at, integration: IntegrationDropped(
            id=id_, customer_id=customer_id, at=at, integration=integration
        ),
        _default_ids("id-"),
        _default_ids("c-"),
        _aware_datetimes(),
        st.sampled_from(_INTEGRATION_NAMES) | _names(),
    )


# -- what the bonds hold -------------------------------------------------------------------


def _later(draw: st.DrawFn, at: datetime, most: timedelta = timedelta(days=60)) -> datetime:
    """A time after ``at``: a minute to ``most`` later."""
    return at + draw(st.timedeltas(timedelta(minutes=1), most))


def _rhythm(draw: st.DrawFn, sku: str) -> Rhythm:
    """The rhythm of buying ``sku``: purchases a day to two months apart, and now and
    then more purchases counted than kept."""
    rhythm = Rhythm(sku)
    at = draw(_aware_datetimes())
    for _ in range(draw(st.integers(0, 5))):
        rhythm = rhythm.after(at)
        at = _later(draw, at + timedelta(days=1))
    extra = draw(st.sampled_from([0, 0, 3]))
    return Rhythm(sku, rhythm.purchases + extra, rhythm.times)


def _rhythms() -> SearchStrategy[Rhythm]:
    return st.composite(lambda draw: _rhythm(draw, draw(_skus())))()


def _wish(draw: st.DrawFn, sku: str) -> Wish:
    note = draw(st.none() | st.sampled_from(_NOTES) | _names())
    return Wish(sku=sku, added_at=draw(_aware_datetimes()), note=note)


def _wishes() -> SearchStrategy[Wish]:
    return st.composite(lambda draw: _wish(draw, draw(_skus())))()


def _saved_cart(draw: st.DrawFn, cart_id: str) -> SavedCart:
    saved_at = draw(_aware_datetimes())
    return SavedCart(
        id=cart_id,
        items=draw(st.lists(line_items(max_quantity=3), min_size=1, max_size=3)),
        saved_at=saved_at,
        expires_at=_later(draw, saved_at, timedelta(days=120)),
        reminded=draw(st.booleans()),
    )


def _saved_carts() -> SearchStrategy[SavedCart]:
    return st.composite(lambda draw: _saved_cart(draw, draw(_default_ids("cart-"))))()


def _subscription(draw: st.DrawFn, plan: Plan) -> Subscription:
    """A subscription to ``plan`` as the verbs make it: subscribed in some zone, some
    occurrences passed now and then, one still to come skipped now and then, and left
    active, paused (until resumed, or for a while) or cancelled (with a reason or
    without)."""
    from dateutil import tz  # noqa: PLC0415 - looking a zone up reads files: not at import

    start = draw(_aware_datetimes())
    sub = subscribe(plan, at=start, zone=draw(st.sampled_from(_TIME_ZONES)))
    now = start
    if draw(st.booleans()):
        now = start + draw(st.timedeltas(timedelta(0), _MAX_RUN))
        sub, _ = advance(sub, plan, now=now)
    coming = upcoming(sub, plan, after=now, count=3)
    if draw(st.booleans()) and coming:
        moment = draw(st.sampled_from(coming))
        sub = skip(sub, plan, on=moment.astimezone(tz.gettz(sub.zone)).date())
    what = draw(st.sampled_from(["active", "paused", "cancelled"]))
    if what == "paused":
        until = draw(st.none() | st.timedeltas(timedelta(hours=1), timedelta(days=60)))
        sub = pause(sub, plan, at=now, until=None if until is None else now + until)
    elif what == "cancelled":
        reason = draw(st.none() | st.sampled_from(["moving", "too much pie"]) | _names())
        sub = cancel(sub, at=now, reason=reason)
    # reminders a pause, skip or cancellation withdrew (their keys count them)
    return attrs.evolve(sub, reminders_withdrawn=draw(st.integers(0, 3)))


def _subscriptions() -> SearchStrategy[Subscription]:
    return st.composite(lambda draw: _subscription(draw, draw(plans())))()


def _enrollment(draw: st.DrawFn, sequence: str) -> Enrollment:
    entered_at = draw(_aware_datetimes())
    left = draw(st.booleans())
    late = draw(st.booleans())  # the entering event recorded late: steps count from then
    return Enrollment(
        sequence=sequence,
        entered_at=entered_at,
        sent=draw(st.integers(0, 4)),
        left_at=_later(draw, entered_at) if left else None,
        left_because=draw(st.sampled_from(["Purchase", "unsubscribed"])) if left else None,
        steps_from=_later(draw, entered_at, timedelta(days=3)) if late else entered_at,
        # leaving events dated before the customer entered (kept, for one recorded late)
        leavings=((entered_at - timedelta(hours=1), "Purchase o-0"),)
        if draw(st.booleans())
        else (),
    )


def _enrollments() -> SearchStrategy[Enrollment]:
    names = st.sampled_from(_SEQUENCE_NAMES) | _names()
    return st.composite(lambda draw: _enrollment(draw, draw(names)))()


def _integration(draw: st.DrawFn, name: str) -> Integration:
    adopted_at = draw(_aware_datetimes())
    dropped = draw(st.booleans())
    return Integration(
        name=name,
        adopted_at=adopted_at,
        dropped_at=_later(draw, adopted_at, timedelta(days=400)) if dropped else None,
    )


def _integrations() -> SearchStrategy[Integration]:
    names = st.sampled_from(_INTEGRATION_NAMES) | _names()
    return st.composite(lambda draw: _integration(draw, draw(names)))()


def _part(
    draw: st.DrawFn,
    keys: SearchStrategy[str],
    value: Callable[[st.DrawFn, str], Any],
    sizes: tuple[int, int],
) -> dict[str, Any]:
    """A part of :class:`Held`: ``sizes`` keys (at least, at most), each with its
    value."""
    chosen = draw(st.sets(keys, min_size=sizes[0], max_size=sizes[1]))
    return {key: value(draw, key) for key in sorted(chosen)}


def _moment(draw: st.DrawFn, key: str) -> datetime:
    return draw(_aware_datetimes())


def _held(draw: st.DrawFn, sizes: tuple[int, int]) -> Held:
    """What the bonds hold, each map with ``sizes`` items (at least, at most)."""
    plans_by_name: dict[str, Plan] = {}

    def subscription(draw: st.DrawFn, name: str) -> Subscription:
        return _subscription(draw, plans_by_name[name])

    drawn_plans = draw(st.lists(plans(), min_size=sizes[0], max_size=sizes[1], unique_by=_name))
    plans_by_name.update((plan.name, plan) for plan in drawn_plans)
    occasion_list = draw(
        st.lists(occasions(), min_size=sizes[0], max_size=sizes[1], unique_by=_occasion_name)
    )
    sequence_names = st.sampled_from(_SEQUENCE_NAMES) | _names()
    integration_names = st.sampled_from(_INTEGRATION_NAMES) | _names()
    parts: dict[str, dict[str, Any]] = {
        "rhythms": _part(draw, _skus(), _rhythm, sizes),
        "offers": _part(draw, st.sampled_from(_OFFER_IDS) | _names(), _moment, sizes),
        "wishes": _part(draw, _skus(), _wish, sizes),
        "carts": _part(draw, _default_ids("cart-"), _saved_cart, sizes),
        "subscriptions": {name: subscription(draw, name) for name in sorted(plans_by_name)},
        "sequences": _part(draw, sequence_names, _enrollment, sizes),
        "integrations": _part(draw, integration_names, _integration, sizes),
        "occasions": {occasion.name: occasion for occasion in occasion_list},
        "invited": _part(draw, _default_ids("me-"), _moment, sizes),
        "attended": _part(draw, _default_ids("me-"), _moment, sizes),
        "marked": _part(draw, st.sampled_from(_MILESTONE_NAMES) | _names(), _moment, sizes),
        "leavings": _part(draw, sequence_names, _leavings, sizes),
    }
    held = Held().with_item("preferences", "", draw(preferences()))
    for part, items in parts.items():
        for key, value in items.items():
            held = held.with_item(part, key, value)
    return held


def _leavings(draw: st.DrawFn, sequence: str) -> tuple[tuple[datetime, str], ...]:
    """Events that would make a customer leave ``sequence``, recorded before they entered."""
    at = draw(_aware_datetimes())
    return ((at, draw(st.sampled_from(["Purchase o-1", "CustomEvent unsubscribe-1"]))),)


def _occasion_name(occasion: Occasion) -> str:
    return occasion.name


def helds(*, max_items: int = 2) -> SearchStrategy[Held]:
    """What a customer's social, customization and structural bonds hold
    (:class:`~custbond.bonds.held.Held`): nothing, or preferences (:func:`preferences`)
    and up to ``max_items`` of each kind of thing held, and now and then at least one of
    each (every part populated): buying rhythms, offers accepted, wishes, saved carts,
    subscriptions (made by :func:`~custbond.bonds.subscriptions.subscribe`, ``advance``,
    ``skip``, ``pause`` and ``cancel``, so each is one the verbs could have made),
    enrollments in sequences (running or left), integrations (in use or dropped),
    personal occasions (:func:`occasions`), and members' events invited to and
    attended, and milestones marked, each with a time. Every item is kept under its own
    name (a wish under its sku, a subscription under its plan's name).

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=5, database=None)
    ... @given(helds(max_items=1))
    ... def test_items_are_kept_under_their_names(held):
    ...     assert all(sku == wish.sku for sku, wish in held.wishes.items())
    ...     assert all(plan == sub.plan for plan, sub in held.subscriptions.items())
    >>> test_items_are_kept_under_their_names()
    """
    max_items = _check_size("max_items", max_items)
    some = st.composite(lambda draw: _held(draw, (0, max_items)))()
    every = st.composite(lambda draw: _held(draw, (min(1, max_items), max_items)))()
    return st.one_of(st.just(Held()), some, every)
