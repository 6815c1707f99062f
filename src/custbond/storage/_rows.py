"""Rows: custbond's stored values as tuples of plain values, and back.

A store keeps history (statements, the event log, purchase, hold and redemption records)
for as long as it lives. As rows (tuples of str, int, Decimal, datetime and None) that
history costs CPython's garbage collector nothing: such tuples stop being tracked, while
every attrs instance stays tracked and is scanned again on each full collection. The same
rows are what a database adapter writes into its columns.

Each ``*_row`` function has a ``*_from_row`` inverse, and ``x_from_row(x_row(x)) == x``.

Rows are kept flat on purpose: lots, draws, line items and effects are laid out inline
rather than as tuples of tuples. CPython untracks one level of nesting per collection, so
a row nested at most two deep is untracked before it reaches the oldest generation, while
a deeper one is promoted there first and makes full collections come sooner. A
customer's recovery cases are each a flat row of their own inside the state's row (two
deep): a case holds a timeline of any length.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from functools import partial
from itertools import chain
from operator import attrgetter, is_
from typing import Any

import attrs

from custbond import _validate as v
from custbond._frozen import FrozenMap, empty_map
from custbond.activity import Activity
from custbond.bonds.cards import Voucher, VoucherStatus
from custbond.bonds.customization import Preferences, SavedCart, Wish
from custbond.bonds.held import EMPTY as EMPTY_HELD
from custbond.bonds.held import Held
from custbond.bonds.occasions import Occasion
from custbond.bonds.rhythm import Rhythm
from custbond.bonds.sequences import Enrollment
from custbond.bonds.social import MembersEvent
from custbond.bonds.structure import Integration
from custbond.bonds.subscriptions import Subscription
from custbond.bonds.tiers import ChangeTier, KeepTier, TierChange
from custbond.commands import (
    AddOccasion,
    AddWish,
    Adjust,
    AssignOwner,
    CancelRedemption,
    CancelSubscription,
    CancelVoucher,
    CaptureHold,
    CloseTask,
    DropCart,
    Input,
    Invite,
    LogKey,
    NotifyIncident,
    PauseSubscription,
    PlaceHold,
    Redeem,
    RedeemReward,
    ReleaseHold,
    RemoveWish,
    ResumeSubscription,
    SaveCart,
    SaveCustomer,
    SetConsent,
    SetPreferences,
    Settle,
    SkipDelivery,
    Subscribe,
    UseCoupon,
    UseVoucher,
)
from custbond.customers import Birthday, Customer
from custbond.effects import (
    AddStamps,
    AddTag,
    AddToCounter,
    AdjustPoints,
    CancelMessage,
    CapturePoints,
    CountCoupon,
    CountUse,
    EarnPoints,
    Effect,
    FinishTask,
    HoldPoints,
    IssueVoucher,
    MarkVoucher,
    NoteContact,
    NotePurchase,
    NoteReturn,
    NoteSurvey,
    NoteVisit,
    OpenTask,
    QueueMessage,
    RecordConsent,
    RedeemPoints,
    ReleasePoints,
    RequestMessage,
    RestorePoints,
    ReversePoints,
    RewardReferral,
    SetCard,
    SetCase,
    SetHeld,
    SetOwner,
    SetProgress,
    SetReferrer,
    SetSchedule,
    SetTier,
    UpdateProfile,
)
from custbond.events import (
    Appointment,
    AppointmentCancelled,
    ComplaintAcknowledged,
    ComplaintFiled,
    ComplaintResolved,
    ContactMade,
    CustomEvent,
    EventAttended,
    IntegrationAdopted,
    IntegrationDropped,
    LineItem,
    OfferAccepted,
    Purchase,
    Referral,
    Return,
    Signup,
    SurveyResponse,
    Visit,
)
from custbond.ledger import Balance, Draw, Entry, EntryKind, Ledger, Lot
from custbond.messaging.consent import Consent, consent_key
from custbond.messaging.message import Message, QueuedMessage
from custbond.outcome import Outcome
from custbond.program import CustomerState
from custbond.records import HoldRecord, HoldStatus, PurchaseRecord, RedemptionRecord
from custbond.recovery.case import CaseStep, RecoveryCase, Timer
from custbond.recovery.compensation import Compensation
from custbond.rules.trace import Step, Trace, Verdict
from custbond.tasks import Task

Row = tuple[Any, ...]

_EMPTY_MAP: FrozenMap[Any, Any] = empty_map()  # shared: ``is`` tells it, quicker than len()

# -- lots, draws, entries ------------------------------------------------------------------


# attrgetter with several names returns their values as a tuple, in C: a row, fast.
lot_row: Callable[[Lot], Row] = attrgetter(
    "seq", "source", "points", "remaining", "earned_at", "available_at", "expires_at"
)


_LOT_WIDTH = 7


def lots_row(lots: Sequence[Lot]) -> Row:
    """Lots laid end to end: seven plain values each.

    A lot (a :class:`Lot`, or the plain tuple a ledger keeps) iterates over its fields
    in lot_row's order (tests/test_store_fast_paths.py holds it), so the lots are
    laid out as they are, without reading them field by field."""
    if len(lots) == 1:  # a purchase's record: one lot, most of the time
        return tuple(lots[0])
    return tuple(chain.from_iterable(lots))


def lots_from_row(row: Row) -> tuple[Lot, ...]:
    return tuple(Lot(*row[at : at + _LOT_WIDTH]) for at in range(0, len(row), _LOT_WIDTH))


def draws_row(draws: Sequence[Draw]) -> Row:
    """Draws laid end to end: the lot's seven values, then the points."""
    flat: list[Any] = []
    for draw in draws:
        flat.extend(lot_row(draw.lot))
        flat.append(draw.points)
    return tuple(flat)


def draws_from_row(row: Row) -> tuple[Draw, ...]:
    width = _LOT_WIDTH + 1
    return tuple(
        Draw(Lot(*row[at : at + _LOT_WIDTH]), row[at + _LOT_WIDTH])
        for at in range(0, len(row), width)
    )


# An entry's kind is stored as its plain string (entry_row: ``kind._value_``): a row
# holding the enum member (a class instance) would stay tracked by the garbage collector.
_KINDS = {kind.value: kind for kind in EntryKind}
_ENTRY_HEAD = 11  # the fixed part of an entry row, up to the width of its lot


def entry_row(entry: Entry) -> Row:
    """A flat row: ten fields, the width of the lot (7 or 0), the lot, then the draws.

    Flat, so that it is untracked the first time the collector sees it."""
    seq, kind, at, points, source, reason, pending, held, draws, lot, uncollected, hold_key = entry
    # kind._value_ is the member's value (what kind.value returns), read without the
    # enum's property or its hash (both Python code): entries are written on every event.
    if lot is None:
        head = (seq, kind._value_, at, points, source, reason, pending, held, uncollected)
        return (*head, hold_key, 0, *draws_row(draws)) if draws else (*head, hold_key, 0)
    row = (seq, kind._value_, at, points, source, reason, pending, held, uncollected, hold_key)
    return (*row, len(lot), *lot, *draws_row(draws)) if draws else (*row, len(lot), *lot)


def entry_from_row(row: Row) -> Entry:
    seq, kind, at, points, source, reason, pending, held, uncollected, hold_key, width = row[
        :_ENTRY_HEAD
    ]
    draws = row[_ENTRY_HEAD + width :]
    return Entry(
        seq,
        _KINDS[kind],
        at,
        points,
        source,
        reason,
        pending,
        held,
        draws_from_row(draws) if draws else (),
        Lot._make(row[_ENTRY_HEAD : _ENTRY_HEAD + width]) if width else None,
        uncollected,
        hold_key,
    )


# -- traces ----------------------------------------------------------------------------------

_VERDICTS = {verdict.value: verdict for verdict in Verdict}


def trace_row(trace: Trace) -> Row:
    """Steps laid end to end: verdict, text, rule, the number of values, then each value's
    fact and value."""
    flat: list[Any] = []
    extend = flat.extend
    for verdict, text, rule, values in trace:  # Step is a NamedTuple: its fields in order
        extend((verdict._value_, text, rule, len(values)))  # _value_: as in entry_row
        for fact, value in values:
            extend((fact, value))
    return tuple(flat)


def trace_from_row(row: Row) -> Trace:
    steps = []
    at = 0
    while at < len(row):
        verdict, text, rule, count = row[at : at + 4]
        values = row[at + 4 : at + 4 + 2 * count]
        pairs = tuple(zip(values[::2], values[1::2], strict=True))
        steps.append(Step(_VERDICTS[verdict], text, rule, pairs))
        at += 4 + 2 * count
    return Trace(steps)


# -- live state ----------------------------------------------------------------------------


# Ledger's fields in order: the pending and the available lots, the holds, the counters,
# next_due_at, and owed_by_lot last (tests/test_rows.py holds this layout in place).
_ledger_fields = attrgetter(*(field.name for field in attrs.fields(Ledger)))


def ledger_rows(ledger: Ledger) -> tuple[Row, Row, Row]:
    """A ledger as three rows: its pending lots, its available lots, and the rest.

    Three rows rather than one, each at most two deep, so that all three stop being
    tracked while still young (see the module docstring). The maps are None when empty:
    the shared empty map is a tracked object, and a row holding one would stay tracked.
    """
    fields = _ledger_fields(ledger)
    holds, owed = fields[2], fields[-1]
    # Most ledgers hold the shared empty map in both: told by identity, before asking a
    # map whether it is empty (FrozenMap.__bool__ is Python code).
    rest = (
        None if holds is _EMPTY_MAP or not holds else holds,
        *fields[3:-1],
        None if owed is _EMPTY_MAP or not owed else owed,
    )
    return fields[0], fields[1], rest


def ledger_from_rows(pending: Row, available: Row, rest: Row) -> Ledger:
    holds, owed = rest[0], rest[-1]
    fields = (
        pending,
        available,
        _EMPTY_MAP if holds is None or not holds else holds,
        *rest[1:-1],
        _EMPTY_MAP if owed is None or not owed else owed,
    )
    return Ledger(*fields)


def extras_row(state: CustomerState) -> Row | None:
    """What a customer's state holds besides the profile and the ledger, flat: the
    activity's six counters and times, the tier and its three times, who referred the
    customer and when that was rewarded, then, each after its
    count, the days of activity, the stamps, when each card started, the vouchers, the
    tier changes, the achievements' progress, the coupons used, the consents, the
    schedule of messages, the recovery cases (one row each, see :func:`case_row`), the
    survey answers, the social bond (owner, last contact, or nothing) and what the
    bonds hold (:class:`~custbond.bonds.held.Held`, or nothing); last the rules'
    firings. None when there is nothing yet."""
    activity, stamps, uses = state.activity, state.stamps, state.rule_uses
    started, vouchers, changes = state.card_started, state.vouchers, state.tier_changes
    progress, coupon_uses, consents = state.progress, state.coupon_uses, state.consents
    schedule, cases, surveys = state.schedule, state.cases, state.surveys
    owner, contact = state.owner, state.last_contact_at
    social = () if owner is None and contact is None else (owner, contact)
    bonds = state.held
    held = () if bonds is EMPTY_HELD or bonds.is_empty else (_encode(bonds),)
    head = (*_activity_head(activity), *_tier_head(state))
    maps = (stamps, uses, vouchers, progress, coupon_uses, consents, schedule, cases)
    if not (activity.daily or changes or surveys or social or held) and _all_empty(maps):
        return None if head == _NOTHING else head
    flat_uses: list[Any] = []
    for rule, times in uses.items():
        flat_uses.extend((rule, len(times), *times))
    sections = (
        tuple(chain.from_iterable(activity.daily)),
        tuple(chain.from_iterable(stamps.items())),
        tuple(chain.from_iterable(started.items())),
        _vouchers_row(vouchers),
        tuple(chain.from_iterable(map(_change_fields, changes))),
        tuple(chain.from_iterable((name, *entry) for name, entry in progress.items())),
        tuple(chain.from_iterable(coupon_uses.items())),
        tuple(chain.from_iterable(map(_consent_fields, consents.values()))),
        tuple(chain.from_iterable(schedule.items())),
        tuple(map(case_row, cases.values())),
        tuple(chain.from_iterable(map(survey_row, surveys))),
        social,
        held,
    )
    flat: list[Any] = list(head)
    for section in sections:
        flat.append(len(section))
        flat.extend(section)
    return (*flat, *flat_uses)


def _all_empty(maps: tuple[FrozenMap[Any, Any], ...]) -> bool:
    """Whether every one of ``maps`` is empty: most are the shared empty map, told by
    identity without asking it (FrozenMap.__bool__ is Python code)."""
    if all(map(_is_the_empty_map, maps)):  # in C: no Python call at all
        return True
    return all(found is _EMPTY_MAP or not found for found in maps)


_is_the_empty_map = partial(is_, _EMPTY_MAP)


_tier_head = attrgetter(
    "tier", "tier_since", "tier_until", "tier_review_at", "referred_by", "referral_rewarded_at"
)
_change_fields = attrgetter("at", "old", "new", "reason")


def _consent_fields(consent: Consent) -> Row:
    return (consent.channel, consent.kind.value, consent.granted, consent.at, consent.source)


def _consents_from(flat: Row) -> FrozenMap[str, Consent]:
    consents = {}
    for start in range(0, len(flat), 5):
        channel, kind, granted, at, source = flat[start : start + 5]
        consents[consent_key(channel, kind)] = Consent(
            channel=channel, kind=kind, granted=granted, at=at, source=source
        )
    return _frozen(consents)


_activity_head = attrgetter(
    "purchases", "spent", "visits", "first_purchase_at", "last_purchase_at", "last_visit_at"
)
_NOTHING = (*_activity_head(Activity()), None, None, None, None, None, None)
_VOUCHER_WIDTH = len(attrs.fields(Voucher))


def _voucher_fields(voucher: Voucher) -> Row:
    fields = attrs.astuple(voucher, recurse=False)
    return (*fields[:7], voucher.status.value, voucher.used_at)


def _voucher_from(fields: Row) -> Voucher:
    code, name, sku, value, source, issued_at, expires_at, status, used_at = fields
    return Voucher(
        code, name, sku, value, source, issued_at, expires_at, VoucherStatus(status), used_at
    )


class _StoredVouchers(FrozenMap[str, Voucher]):
    """A customer's vouchers as the store keeps them (flat rows), made into Voucher values
    only when something reads them. Most events leave the vouchers alone, and a customer
    collects them for years: reading and writing the state then costs the same however
    many they hold. Written back as it was read while nobody changed it."""

    __slots__ = ("_flat",)

    def __init__(self, flat: Row) -> None:  # no super().__init__: ``_data`` waits
        self._flat = flat
        self._hash = None

    def __getattr__(self, name: str) -> Any:
        if name != "_data":
            raise AttributeError(name)
        flat = self._flat
        vouchers = {}
        for start in range(0, len(flat), _VOUCHER_WIDTH):
            voucher = _voucher_from(flat[start : start + _VOUCHER_WIDTH])
            vouchers[voucher.code] = voucher
        self._data = vouchers  # found by attribute lookup from now on
        return vouchers

    def __len__(self) -> int:
        return len(self._flat) // _VOUCHER_WIDTH

    def __bool__(self) -> bool:  # without making the values (FrozenMap's reads ``_data``)
        return bool(self._flat)


def _vouchers_row(vouchers: FrozenMap[str, Voucher]) -> Row:
    if type(vouchers) is _StoredVouchers:  # as read, and values never change
        return vouchers._flat
    return tuple(chain.from_iterable(map(_voucher_fields, vouchers.values())))


def _pairs(flat: Row) -> dict[Any, Any]:
    return dict(zip(flat[::2], flat[1::2], strict=True))


def extras_from_row(row: Row | None) -> tuple[Any, ...]:
    """The fields of CustomerState after the ledger, from an extras row, in order:
    activity, stamps, tier, rule uses, card starts, vouchers, tier since/until/review,
    changes, progress, coupon uses, referrer and reward, consents, schedule, cases,
    surveys, owner, last contact, what the bonds hold (fewer when there is nothing: the
    rest take their defaults)."""
    if row is None:
        return (Activity(), empty_map(), None, empty_map(), empty_map(), empty_map())
    purchases, spent, visits, first, last, last_visit, tier, since, until, review = row[:10]
    referred_by, rewarded_at = row[10:12]
    times = (since, until, review)
    if len(row) == 12:  # nothing but the counters, the tier and the referral
        activity = Activity(purchases, spent, visits, first, last, last_visit)
        empty = empty_map()
        return (
            activity, empty, tier, empty, empty, empty, *times, (), empty, empty,
            referred_by, rewarded_at, empty, empty, empty, (), None, None, EMPTY_HELD,
        )  # fmt: skip
    at = 12
    sections = []
    for _ in range(7):
        count = row[at]
        sections.append(row[at + 1 : at + 1 + count])
        at += 1 + count
    daily, flat_stamps, flat_started, flat_vouchers, flat_changes, flat_progress, flat_coupons = (
        sections
    )
    # The consents', the schedule's, the cases' and the surveys' sections came later: a
    # row written before them goes on with the rules' firings (a rule's name, a str)
    # where a newer row has the next section's length (an int). Rows are written with
    # all of them or none of a group: the first two, four, five or all six.
    later: list[Row] = []
    for _ in range(6):
        if at < len(row) and type(row[at]) is int:
            count = row[at]
            later.append(row[at + 1 : at + 1 + count])
            at += 1 + count
    later.extend(() for _ in range(6 - len(later)))
    flat_consents, flat_schedule, case_rows, flat_surveys, social, held = later
    owner, contact = social or (None, None)
    uses: dict[str, tuple[Any, ...]] = {}
    while at < len(row):
        rule, count = row[at], row[at + 1]
        uses[rule] = row[at + 2 : at + 2 + count]
        at += 2 + count
    days = tuple(zip(*(daily[n::7] for n in range(7)), strict=True))
    activity = Activity(purchases, spent, visits, first, last, last_visit, days)
    vouchers = _StoredVouchers(flat_vouchers) if flat_vouchers else empty_map()
    changes = tuple(
        TierChange(*flat_changes[start : start + 4]) for start in range(0, len(flat_changes), 4)
    )
    progress = {
        flat_progress[start]: tuple(flat_progress[start + 1 : start + 4])
        for start in range(0, len(flat_progress), 4)
    }
    return (
        activity,
        _frozen(_pairs(flat_stamps)),
        tier,
        _frozen(uses),
        _frozen(_pairs(flat_started)),
        vouchers,
        *times,
        changes,
        _frozen(progress),
        _frozen(_pairs(flat_coupons)),
        referred_by,
        rewarded_at,
        _consents_from(flat_consents),
        _frozen(_pairs(flat_schedule)),
        _frozen({case_row[0]: case_from_row(case_row) for case_row in case_rows}),
        tuple(
            survey_from_row(flat_surveys[start : start + _SURVEY_WIDTH])
            for start in range(0, len(flat_surveys), _SURVEY_WIDTH)
        ),
        owner,
        contact,
        _decode(held[0]) if held else EMPTY_HELD,
    )


# -- recovery: cases, compensation, survey answers, tasks --------------------------------

_COMPENSATION_WIDTH = 6


def compensation_row(compensation: Compensation | None) -> Row:
    """Six values (currency, apology, points, voucher, its validity, refund), or none
    for None: laid flat into the row that holds it, after its width."""
    if compensation is None:
        return ()
    return (
        compensation.currency,
        compensation.apology,
        compensation.points,
        compensation.voucher,
        compensation.voucher_valid_for,
        compensation.refund,
    )


def compensation_from_row(row: Row) -> Compensation | None:
    if not row:
        return None
    currency, apology, points, voucher, valid_for, refund = row
    return Compensation(
        currency,
        apology=apology,
        points=points,
        voucher=voucher,
        voucher_valid_for=valid_for,
        refund=refund,
    )


# A case's plain fields come first in RecoveryCase, up to the resolution; the values
# nested in it (the compensations, timers, escalations, timeline) after them.
_CASE_HEAD = [field.name for field in attrs.fields(RecoveryCase)].index("resolution") + 1
_CASE_FIELDS = tuple(field.name for field in attrs.fields(RecoveryCase))[:_CASE_HEAD]
_case_head = attrgetter(*_CASE_FIELDS)


_TIMER_WIDTH = len(Timer._fields)


def _timer_fields(timer: Timer) -> Row:
    raise_to = None if timer.raise_to is None else timer.raise_to.value
    return (*timer[:-1], raise_to)


def case_row(case: RecoveryCase) -> Row:
    """A recovery case, flat: its plain fields (severities as their values),
    then, each after its count, the offer's and the given compensation's values, the
    timers (step, target, due, after, notify, raise_to), the escalations and the timeline
    (at, what, detail)."""
    head = _case_head(case)
    offer, given = compensation_row(case.offer), compensation_row(case.given)
    timers, escalations, timeline = case.timers, case.escalations, case.timeline
    return (
        *head[:2],
        head[2].value,
        head[3].value,
        *head[4:],
        len(offer),
        *offer,
        len(given),
        *given,
        len(timers),
        *chain.from_iterable(map(_timer_fields, timers)),
        len(escalations),
        *escalations,
        len(timeline),
        *chain.from_iterable(timeline),
    )


def case_from_row(row: Row) -> RecoveryCase:
    fields = dict(zip(_CASE_FIELDS, row[:_CASE_HEAD], strict=True))
    at = _CASE_HEAD
    parts: list[Row] = []
    for width in (1, 1, _TIMER_WIDTH, 1, 3):  # values per item: offer, given, timers, ...
        count = row[at]
        parts.append(row[at + 1 : at + 1 + count * width])
        at += 1 + count * width
    offer, given, timers, escalations, timeline = parts
    return RecoveryCase(
        **fields,
        offer=compensation_from_row(offer),
        given=compensation_from_row(given),
        timers=tuple(
            Timer(*timers[start : start + _TIMER_WIDTH])
            for start in range(0, len(timers), _TIMER_WIDTH)
        ),
        escalations=escalations,
        timeline=tuple(
            CaseStep(*timeline[start : start + 3]) for start in range(0, len(timeline), 3)
        ),
    )


_SURVEY_FIELDS = tuple(field.name for field in attrs.fields(SurveyResponse))
_SURVEY_WIDTH = len(_SURVEY_FIELDS)
survey_row: Callable[[SurveyResponse], Row] = attrgetter(*_SURVEY_FIELDS)


def survey_from_row(row: Row) -> SurveyResponse:
    return SurveyResponse(**dict(zip(_SURVEY_FIELDS, row, strict=True)))


TASK_FIELDS = tuple(field.name for field in attrs.fields(Task))
"""The fields of a task's row, in order (a store finds the ones it filters on by name)."""
task_row: Callable[[Task], Row] = attrgetter(*TASK_FIELDS)


def task_from_row(row: Row) -> Task:
    return Task(**dict(zip(TASK_FIELDS, row, strict=True)))


def _frozen(mapping: dict[Any, Any]) -> FrozenMap[Any, Any]:
    return FrozenMap(mapping) if mapping else empty_map()


# -- outcomes ------------------------------------------------------------------------------


balance_row: Callable[[Balance], Row] = attrgetter(
    "available",
    "pending",
    "held",
    "expiring_at",
    "expiring_points",
    "earned",
    "redeemed",
    "expired",
    "reversed",
    "adjusted",
)


def balance_from_row(row: Row) -> Balance:
    return Balance(*row)


# Effects whose fields are all plain values are stored as (name, *fields); the two that
# hold lots or draws convert those.
_PLAIN_EFFECTS: dict[str, type[Any]] = {
    cls.__name__: cls
    for cls in (
        EarnPoints,
        RedeemPoints,
        AdjustPoints,
        HoldPoints,
        CapturePoints,
        ReleasePoints,
        AddStamps,
        SetTier,
        AddTag,
        RequestMessage,
        RecordConsent,
        QueueMessage,
        CancelMessage,
        SetSchedule,
        CountUse,
        NotePurchase,
        NoteReturn,
        NoteVisit,
        SetCard,
        ChangeTier,
        KeepTier,
        AddToCounter,
        SetProgress,
        CountCoupon,
        SetReferrer,
        OpenTask,
        FinishTask,
        SetOwner,
        NoteContact,
    )
}


def _fields_getter(cls: type[Any]) -> Callable[[Any], Row]:
    names = [field.name for field in attrs.fields(cls)]
    if len(names) == 1:  # attrgetter of one name returns the bare value, not a 1-tuple
        return lambda value: (getattr(value, names[0]),)
    getter: Callable[[Any], Row] = attrgetter(*names)
    return getter


# Each plain effect's class: its name and a getter of its fields.
_EFFECT_FIELDS = {cls: (name, _fields_getter(cls)) for name, cls in _PLAIN_EFFECTS.items()}


def effect_row(effect: Effect) -> Row:
    """(name, *fields), with lots and draws laid flat."""
    plain = _EFFECT_FIELDS.get(type(effect))
    if plain is not None:
        name, fields = plain
        return (name, *fields(effect))
    if isinstance(effect, ReversePoints):
        lots = lots_row(effect.lots)
        return ("ReversePoints", effect.points, lots, effect.source, effect.at, effect.reason)
    if isinstance(effect, RestorePoints):
        return ("RestorePoints", effect.key, draws_row(effect.draws))
    if isinstance(effect, IssueVoucher):
        return ("IssueVoucher", *_voucher_fields(effect.voucher), effect.cashback, effect.replaces)
    if isinstance(effect, MarkVoucher):
        return ("MarkVoucher", effect.code, effect.status.value, effect.at)
    if isinstance(effect, RewardReferral):
        gift = () if effect.gift is None else _voucher_fields(effect.gift)
        return (
            "RewardReferral",
            effect.referrer_id,
            effect.points,
            effect.source,
            effect.at,
            gift,
        )
    if isinstance(effect, SetCase):
        return ("SetCase", case_row(effect.case))
    if isinstance(effect, NoteSurvey):
        return ("NoteSurvey", *survey_row(effect.answer))
    if isinstance(effect, SetHeld):
        return ("SetHeld", effect.part, effect.key, _encode(effect.value))
    assert isinstance(effect, UpdateProfile)
    return ("UpdateProfile", value_row(effect.customer))


def effect_from_row(row: Row) -> Effect:
    name = row[0]
    if name == "ReversePoints":
        _, points, lots, source, at, reason = row
        return ReversePoints(points, lots_from_row(lots), source, at, reason)
    if name == "RestorePoints":
        return RestorePoints(row[1], draws_from_row(row[2]))
    if name == "UpdateProfile":
        return UpdateProfile(value_from_row(row[1]))
    if name == "IssueVoucher":
        return IssueVoucher(_voucher_from(row[1:-2]), cashback=row[-2], replaces=row[-1])
    if name == "MarkVoucher":
        return MarkVoucher(row[1], VoucherStatus(row[2]), row[3])
    if name == "RewardReferral":
        _, referrer, points, source, at, gift = row
        return RewardReferral(referrer, points, _voucher_from(gift) if gift else None, source, at)
    if name == "SetCase":
        return SetCase(case_from_row(row[1]))
    if name == "NoteSurvey":
        return NoteSurvey(survey_from_row(row[1:]))
    if name == "SetHeld":
        return SetHeld(row[1], row[2], _decode(row[3]))
    effect: Effect = _PLAIN_EFFECTS[name](*row[1:])
    return effect


# How many values follow an effect's name in a row of effects laid end to end.
_EFFECT_ARITY = {name: len(attrs.fields(cls)) for name, cls in _PLAIN_EFFECTS.items()} | {
    "ReversePoints": 5,
    "RestorePoints": 2,
    "UpdateProfile": 1,
    "IssueVoucher": len(attrs.fields(Voucher)) + 2,
    "MarkVoucher": 3,
    "RewardReferral": 5,
    "SetCase": 1,
    "NoteSurvey": _SURVEY_WIDTH,
    "SetHeld": 3,
}


def effects_row(effects: Sequence[Effect]) -> Row:
    """Effects laid end to end, each (name, *fields)."""
    return tuple(chain.from_iterable(map(effect_row, effects)))


def effects_from_row(row: Row) -> tuple[Effect, ...]:
    effects = []
    at = 0
    while at < len(row):
        end = at + 1 + _EFFECT_ARITY[row[at]]
        effects.append(effect_from_row(row[at:end]))
        at = end
    return tuple(effects)


def outcome_row(outcome: Outcome) -> Row:
    """The outcome's fields, with its entries as a span (first seq, count) of the
    customer's statement when they are consecutive there, as they always are for outcomes
    the service writes; otherwise as entry rows of their own."""
    entries = outcome.entries
    first = entries[0].seq if entries else 0
    # Seqs only grow, so first and last tell whether the entries are consecutive.
    consecutive = not entries or entries[-1].seq - first == len(entries) - 1
    own = None if consecutive else tuple(map(entry_row, entries))
    return (
        outcome.customer_id,
        outcome.key,
        outcome.at,
        effects_row(outcome.effects),
        trace_row(outcome.trace),
        first,
        len(entries),
        own,
        balance_row(outcome.balance),
    )


def outcome_from_row(fields: Row, statement: Sequence[Row]) -> Outcome:
    """The outcome of ``fields``; ``statement`` is its customer's entry rows, oldest first."""
    customer_id, key, at, effects, trace, first, count, own, balance = fields
    rows = statement[first - 1 : first - 1 + count] if own is None else own
    return Outcome(
        customer_id,
        key,
        at,
        effects_from_row(effects),
        trace_from_row(trace),
        tuple(map(entry_from_row, rows)),
        Balance(*balance),
    )


def log_row(
    seq: int, key: LogKey | None, item: Input | Row, recorded_at: Any, outcome: Outcome
) -> Row:
    """A log record; ``item`` may be given as its row already."""
    namespace, name = (None, None) if key is None else key
    encoded = item if isinstance(item, tuple) else value_row(item)
    return (seq, namespace, name, encoded, recorded_at, *outcome_row(outcome))


def log_from_row(row: Row, statement: Sequence[Row]) -> tuple[Any, ...]:
    """(seq, key, input, recorded_at, outcome) of a log row."""
    seq, namespace, name, item, recorded_at = row[:5]
    key = None if namespace is None else (namespace, name)
    return seq, key, value_from_row(item), recorded_at, outcome_from_row(row[5:], statement)


def log_customer_id(row: Row) -> str:
    """The customer a log row's outcome is about."""
    customer_id: str = row[5]
    return customer_id


# -- events, commands and customers --------------------------------------------------------
# Stored as (class name, *fields) and read back through the class itself, so a value read
# from a store is validated like one built by hand; except the bound on numbers in a map
# of values, which came later than values a store may keep: those are marked as stored
# (v.as_stored) and read back as they were. Line items are laid flat (sku,
# quantity, unit price, number of tags, the tags); other nested values are marked rows,
# and enum members are kept as their values (each class converts them back).

_VALUE_CLASSES: dict[str, type[Any]] = {
    cls.__name__: cls
    for cls in (
        Purchase,
        LineItem,
        Return,
        Visit,
        Signup,
        CustomEvent,
        Referral,
        Appointment,
        AppointmentCancelled,
        ComplaintFiled,
        ComplaintAcknowledged,
        ComplaintResolved,
        SurveyResponse,
        ContactMade,
        Customer,
        Birthday,
        Redeem,
        PlaceHold,
        CaptureHold,
        ReleaseHold,
        Adjust,
        CancelRedemption,
        SaveCustomer,
        Settle,
        UseVoucher,
        CancelVoucher,
        RedeemReward,
        UseCoupon,
        SetConsent,
        CloseTask,
        NotifyIncident,
        AssignOwner,
        RecoveryCase,
        Compensation,
        OfferAccepted,
        IntegrationAdopted,
        IntegrationDropped,
        EventAttended,
        SetPreferences,
        AddWish,
        RemoveWish,
        SaveCart,
        DropCart,
        Subscribe,
        PauseSubscription,
        SkipDelivery,
        ResumeSubscription,
        CancelSubscription,
        AddOccasion,
        Invite,
        MembersEvent,
        Held,
        Preferences,
        Rhythm,
        Wish,
        SavedCart,
        Subscription,
        Enrollment,
        Integration,
        Occasion,
    )
}
_VALUE_FIELDS = {
    name: tuple(field.name for field in attrs.fields(cls)) for name, cls in _VALUE_CLASSES.items()
}
# How many values a row of each class holds at least: up to its last field without a
# default. A row written before its class gained a field (added last, with a default: an
# enrollment's steps_from) is that much shorter, and reads back with the default.
_VALUE_LEAST = {
    name: max(
        (n for n, field in enumerate(attrs.fields(cls), 1) if field.default is attrs.NOTHING),
        default=0,
    )
    for name, cls in _VALUE_CLASSES.items()
}
_MAP, _SET, _VALUE = "__map__", "__set__", "__value__"


def items_row(items: Sequence[LineItem]) -> Row:
    if not items:
        return ()
    flat: list[Any] = []
    for item in items:
        flat.extend((item.sku, item.quantity, item.unit_price, len(item.tags)))
        flat.extend(sorted(item.tags))
    return tuple(flat)


def items_from_row(row: Row) -> tuple[LineItem, ...]:
    items = []
    at = 0
    while at < len(row):
        sku, quantity, unit_price, tag_count = row[at : at + 4]
        tags = row[at + 4 : at + 4 + tag_count]
        items.append(LineItem(sku, quantity, unit_price, frozenset(tags)))
        at += 4 + tag_count
    return tuple(items)


def _encode(value: Any) -> Any:
    if isinstance(value, tuple):  # NamedTuples too (a case's timeline): read back as tuples
        return tuple(map(_encode, value))
    if isinstance(value, enum.Enum):  # its value: the class's converter makes it a member
        return value.value
    if isinstance(value, FrozenMap):
        return (_MAP, tuple((key, _encode(item)) for key, item in value.items()))
    if isinstance(value, frozenset):
        return (_SET, tuple(sorted(value)))
    if type(value).__name__ in _VALUE_CLASSES:
        return (_VALUE, value_row(value))
    return value


def _decode(value: Any) -> Any:
    if not isinstance(value, tuple):
        return value
    if len(value) == 2 and value[0] == _MAP:
        # A customer's preferences, an event's attributes: their numbers as an earlier
        # version kept them, beyond the bound new ones have (v.as_stored).
        return FrozenMap({key: v.as_stored(_decode(item)) for key, item in value[1]})
    if len(value) == 2 and value[0] == _SET:
        return frozenset(value[1])
    if len(value) == 2 and value[0] == _VALUE:
        return value_from_row(value[1])
    return tuple(map(_decode, value))


def value_row(value: Any) -> Row:
    """An event, command or customer as a row."""
    cls = type(value)
    if cls is Purchase:  # by far the most common: flat, and quick
        return (
            "Purchase",
            value.id,
            value.customer_id,
            value.at,
            value.amount,
            value.currency,
            items_row(value.items),
            value.channel,
            value.payment,
        )
    if cls is Return:
        return (
            "Return",
            value.id,
            value.customer_id,
            value.at,
            value.purchase_id,
            value.amount,
            items_row(value.items),
        )
    name = cls.__name__
    return (name, *(_encode(getattr(value, field)) for field in _VALUE_FIELDS[name]))


def value_from_row(row: Row) -> Any:
    name = row[0]
    if name == "Purchase":
        _, id_, customer_id, at, amount, currency, items, channel, payment = row
        return Purchase(
            id=id_,
            customer_id=customer_id,
            at=at,
            amount=amount,
            currency=currency,
            items=items_from_row(items),
            channel=channel,
            payment=payment,
        )
    if name == "Return":
        _, id_, customer_id, at, purchase_id, amount, items = row
        return Return(
            id=id_,
            customer_id=customer_id,
            at=at,
            purchase_id=purchase_id,
            amount=amount,
            items=items_from_row(items),
        )
    fields = _VALUE_FIELDS[name]
    if _VALUE_LEAST[name] < len(row) <= len(fields):  # written before its last fields
        fields = fields[: len(row) - 1]
    values = {field: _decode(item) for field, item in zip(fields, row[1:], strict=True)}
    return _VALUE_CLASSES[name](**values)


# -- records -------------------------------------------------------------------------------


def purchase_row(record: PurchaseRecord, purchase: Row | None = None) -> Row:
    """The record; ``purchase`` is its purchase's row when the caller has it already."""
    items = record.returned_items
    return (
        value_row(record.purchase) if purchase is None else purchase,
        lots_row(record.lots),
        record.points,
        record.returned,
        tuple(value for (sku, price), count in items.items() for value in (sku, price, count))
        if items
        else (),
        record.reversed,
        record.collected,
        record.expired,
        tuple(value for pair in record.cashback for value in pair),  # code, value, code, ...
        record.counted,
    )


def purchase_from_row(row: Row) -> PurchaseRecord:
    purchase, lots, points, returned, items, reversed_, collected, expired, back, *more = row
    counted = more[0] if more else (None, 0)  # not in rows kept before it was
    return PurchaseRecord(
        value_from_row(purchase),
        lots_from_row(lots),
        points,
        returned,
        FrozenMap({(items[at], items[at + 1]): items[at + 2] for at in range(0, len(items), 3)}),
        reversed_,
        collected,
        expired,
        tuple((back[at], back[at + 1]) for at in range(0, len(back), 2)),
        counted,
    )


def hold_row(record: HoldRecord) -> Row:
    return (
        record.key,
        record.customer_id,
        record.points,
        record.placed_at,
        record.expires_at,
        record.status.value,
        record.captured,
    )


def hold_from_row(row: Row) -> HoldRecord:
    key, customer_id, points, placed_at, expires_at, status, captured = row
    return HoldRecord(
        key, customer_id, points, placed_at, expires_at, HoldStatus(status), captured
    )


def redemption_row(record: RedemptionRecord) -> Row:
    return (
        record.key,
        record.customer_id,
        record.points,
        draws_row(record.draws),
        record.at,
        record.cancelled,
        record.voucher,
    )


def redemption_from_row(row: Row) -> RedemptionRecord:
    key, customer_id, points, draws, at, cancelled, *voucher = row  # no voucher in old rows
    return RedemptionRecord(
        key, customer_id, points, draws_from_row(draws), at, cancelled, *voucher
    )


def record_row(record: PurchaseRecord | HoldRecord | RedemptionRecord) -> Row:
    """A purchase, hold or redemption record as its row."""
    if isinstance(record, PurchaseRecord):
        return purchase_row(record)
    if isinstance(record, HoldRecord):
        return hold_row(record)
    return redemption_row(record)


# -- the outbox ----------------------------------------------------------------------------


def queued_row(item: QueuedMessage) -> Row:
    """A queued message: the message, where it stands, then its context as pairs."""
    message = item.message
    return (
        message.key,
        message.customer_id,
        message.template,
        message.channel,
        message.kind.value,
        message.not_before,
        message.not_after,
        item.status.value,
        item.queued_at,
        item.next_attempt_at,
        item.attempts,
        item.sent_at,
        item.reason,
        *chain.from_iterable(message.context.items()),
    )


def _context(flat: Row) -> dict[str, Any]:
    """A message's context from its pairs: its numbers as an earlier version kept them,
    beyond the bound new ones have (a message queued before contexts were bounded is
    read back, and dispatch() ends it dead rather than every dispatch raising)."""
    return {key: v.as_stored(value) for key, value in zip(flat[::2], flat[1::2], strict=True)}


def queued_from_row(row: Row) -> QueuedMessage:
    key, customer_id, template, channel, kind, not_before, not_after = row[:7]
    status, queued_at, next_attempt_at, attempts, sent_at, reason = row[7:13]
    message = Message(
        key=key,
        customer_id=customer_id,
        template=template,
        channel=channel,
        kind=kind,
        context=_context(row[13:]),
        not_before=not_before,
        not_after=not_after,
    )
    return QueuedMessage(
        message=message,
        status=status,
        queued_at=queued_at,
        next_attempt_at=next_attempt_at,
        attempts=attempts,
        sent_at=sent_at,
        reason=reason,
    )
