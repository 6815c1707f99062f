"""Rows: custbond's stored values as tuples of plain values, and back.

A store keeps history (statements, the event log, purchase, hold and redemption records)
for as long as it lives. As rows (tuples of str, int, Decimal, datetime and None) that
history costs CPython's garbage collector nothing: such tuples stop being tracked, while
every attrs instance stays tracked and is scanned again on each full collection. The same
rows are what a database adapter writes into its columns.

Each ``*_row`` function has a ``*_from_row`` inverse, and ``x_from_row(x_row(x)) == x``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import attrgetter
from typing import Any

import attrs

from custbond._frozen import FrozenMap
from custbond.commands import (
    Adjust,
    CancelRedemption,
    CaptureHold,
    Input,
    LogKey,
    PlaceHold,
    Redeem,
    ReleaseHold,
    SaveCustomer,
    Settle,
)
from custbond.customers import Birthday, Customer
from custbond.events import CustomEvent, LineItem, Purchase, Return, Signup, Visit
from custbond.ledger import Balance, Draw, Entry, EntryKind, Lot
from custbond.outcome import Outcome
from custbond.program import (
    AdjustPoints,
    CapturePoints,
    EarnPoints,
    Effect,
    HoldPoints,
    RedeemPoints,
    ReleasePoints,
    RestorePoints,
    ReversePoints,
    UpdateProfile,
)
from custbond.records import HoldRecord, HoldStatus, PurchaseRecord, RedemptionRecord

Row = tuple[Any, ...]

# -- lots, draws, entries ------------------------------------------------------------------


# attrgetter with several names returns their values as a tuple, in C: a row, fast.
lot_row: Callable[[Lot], Row] = attrgetter(
    "seq", "source", "points", "remaining", "earned_at", "available_at", "expires_at"
)


def lot_from_row(row: Row) -> Lot:
    return Lot(*row)


def draws_row(draws: Sequence[Draw]) -> Row:
    return tuple((lot_row(draw.lot), draw.points) for draw in draws)


def draws_from_row(row: Row) -> tuple[Draw, ...]:
    return tuple(Draw(Lot(*lot), points) for lot, points in row)


_entry_head = attrgetter("seq", "kind", "at", "points", "source", "reason", "pending", "held")


def entry_row(entry: Entry) -> Row:
    seq, kind, at, points, source, reason, pending, held = _entry_head(entry)
    lot = entry.lot
    return (
        seq,
        kind.value,
        at,
        points,
        source,
        reason,
        pending,
        held,
        draws_row(entry.draws) if entry.draws else (),
        None if lot is None else lot_row(lot),
        entry.uncollected,
        entry.hold_key,
    )


def entry_from_row(row: Row) -> Entry:
    (seq, kind, at, points, source, reason, pending, held, draws, lot, uncollected, hold_key) = row
    return Entry(
        seq,
        EntryKind(kind),
        at,
        points,
        source,
        reason,
        pending,
        held,
        draws_from_row(draws) if draws else (),
        None if lot is None else Lot(*lot),
        uncollected,
        hold_key,
    )


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
    for cls in (EarnPoints, RedeemPoints, AdjustPoints, HoldPoints, CapturePoints, ReleasePoints)
}


def _fields_getter(cls: type[Any]) -> Callable[[Any], Row]:
    names = [field.name for field in attrs.fields(cls)]
    if len(names) == 1:  # attrgetter of one name returns the bare value, not a 1-tuple
        return lambda value: (getattr(value, names[0]),)
    getter: Callable[[Any], Row] = attrgetter(*names)
    return getter


_EFFECT_FIELDS = {cls: _fields_getter(cls) for cls in _PLAIN_EFFECTS.values()}


def effect_row(effect: Effect) -> Row:
    if isinstance(effect, ReversePoints):
        return (
            "ReversePoints",
            effect.points,
            tuple(lot_row(lot) for lot in effect.lots),
            effect.source,
            effect.at,
            effect.reason,
        )
    if isinstance(effect, RestorePoints):
        return ("RestorePoints", effect.key, draws_row(effect.draws))
    if isinstance(effect, UpdateProfile):
        return ("UpdateProfile", effect.customer)  # rare; a Customer is kept as it is
    cls = type(effect)
    return (cls.__name__, *_EFFECT_FIELDS[cls](effect))


def effect_from_row(row: Row) -> Effect:
    name = row[0]
    if name == "ReversePoints":
        _, points, lots, source, at, reason = row
        return ReversePoints(points, tuple(Lot(*lot) for lot in lots), source, at, reason)
    if name == "RestorePoints":
        return RestorePoints(row[1], draws_from_row(row[2]))
    if name == "UpdateProfile":
        return UpdateProfile(row[1])
    effect: Effect = _PLAIN_EFFECTS[name](*row[1:])
    return effect


def outcome_row(outcome: Outcome) -> Row:
    """The outcome, with its entries as a span of the customer's statement when they are
    consecutive there (they always are for outcomes the service writes)."""
    entries = outcome.entries
    first = entries[0].seq if entries else 0
    # Seqs only grow, so first and last tell whether the entries are consecutive.
    consecutive = not entries or entries[-1].seq - first == len(entries) - 1
    stored = ("span", first, len(entries)) if consecutive else ("rows", *map(entry_row, entries))
    return (
        outcome.customer_id,
        outcome.key,
        outcome.at,
        tuple(map(effect_row, outcome.effects)),
        outcome.trace,
        stored,
        balance_row(outcome.balance),
    )


def outcome_from_row(row: Row, statement: Sequence[Row]) -> Outcome:
    """The outcome of ``row``; ``statement`` is its customer's entry rows, oldest first."""
    customer_id, key, at, effects, trace, stored, balance = row
    if stored[0] == "span":
        _, first, count = stored
        rows = statement[first - 1 : first - 1 + count]
    else:
        rows = stored[1:]
    return Outcome(
        customer_id,
        key,
        at,
        tuple(map(effect_from_row, effects)),
        trace,
        tuple(map(entry_from_row, rows)),
        Balance(*balance),
    )


def log_row(seq: int, key: LogKey | None, item: Input, recorded_at: Any, outcome: Outcome) -> Row:
    return (seq, key, value_row(item), recorded_at, outcome_row(outcome))


# -- events, commands and customers --------------------------------------------------------
# Stored generically as (class name, *fields), nested values likewise; read back through
# the class itself, so a value read from a store is validated like one built by hand.

_VALUE_CLASSES: dict[str, type[Any]] = {
    cls.__name__: cls
    for cls in (
        Purchase,
        LineItem,
        Return,
        Visit,
        Signup,
        CustomEvent,
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
    )
}
_VALUE_FIELDS = {
    name: tuple(field.name for field in attrs.fields(cls)) for name, cls in _VALUE_CLASSES.items()
}
_MAP, _SET = "__map__", "__set__"


def _encode(value: Any) -> Any:
    if isinstance(value, tuple):
        return tuple(map(_encode, value))
    if isinstance(value, FrozenMap):
        return (_MAP, tuple((key, _encode(item)) for key, item in value.items()))
    if isinstance(value, frozenset):
        return (_SET, tuple(sorted(value)))
    if type(value).__name__ in _VALUE_CLASSES:
        return (value_row(value),)  # a one-tuple marks a nested value
    return value


def _decode(value: Any) -> Any:
    if not isinstance(value, tuple):
        return value
    if len(value) == 2 and value[0] == _MAP:
        return FrozenMap({key: _decode(item) for key, item in value[1]})
    if len(value) == 2 and value[0] == _SET:
        return frozenset(value[1])
    if (
        len(value) == 1
        and isinstance(value[0], tuple)
        and value[0][:1]
        and (value[0][0] in _VALUE_CLASSES)
    ):
        return value_from_row(value[0])
    return tuple(map(_decode, value))


def value_row(value: Any) -> Row:
    """An event, command or customer as a row."""
    if type(value) is Purchase and not value.items:  # by far the most common: keep it quick
        return (
            "Purchase",
            value.id,
            value.customer_id,
            value.at,
            value.amount,
            value.currency,
            (),
            value.channel,
        )
    name = type(value).__name__
    return (name, *(_encode(getattr(value, field)) for field in _VALUE_FIELDS[name]))


def value_from_row(row: Row) -> Any:
    name = row[0]
    fields = _VALUE_FIELDS[name]
    return _VALUE_CLASSES[name](
        **{field: _decode(item) for field, item in zip(fields, row[1:], strict=True)}
    )


# -- records -------------------------------------------------------------------------------


def purchase_row(record: PurchaseRecord) -> Row:
    return (
        value_row(record.purchase),
        tuple(map(lot_row, record.lots)),
        record.points,
        record.returned,
        tuple(record.returned_items.items()),
        record.reversed,
        record.collected,
        record.expired,
    )


def purchase_from_row(row: Row) -> PurchaseRecord:
    purchase, lots, points, returned, items, reversed_, collected, expired = row
    return PurchaseRecord(
        value_from_row(purchase),
        tuple(Lot(*lot) for lot in lots),
        points,
        returned,
        FrozenMap(dict(items)),
        reversed_,
        collected,
        expired,
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
    )


def redemption_from_row(row: Row) -> RedemptionRecord:
    key, customer_id, points, draws, at, cancelled = row
    return RedemptionRecord(key, customer_id, points, draws_from_row(draws), at, cancelled)
