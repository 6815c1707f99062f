"""The stores' fast paths give what the general paths give.

Each fast path in custbond.storage is checked here against the plain code it stands in
for (kept in this file as it was written before): the rows and the JSON text must be the
same, value for value and character for character, so that what a store writes does not
depend on which path wrote it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import chain
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from custbond import Customer, CustomerState, Entry, EntryKind
from custbond._frozen import FrozenMap, empty_map
from custbond.activity import Activity
from custbond.bonds import Voucher
from custbond.ledger import Draw, Hold, Ledger, Lot
from custbond.rules.trace import Step, Trace, Verdict
from custbond.storage import _codec as codec
from custbond.storage import _rows as rows
from custbond.storage._sql import StateCache

T0 = datetime(2026, 3, 2, 8, tzinfo=UTC)

# -- the general paths, as they were -------------------------------------------------------


def plain_encode(row: Any) -> str:
    """The codec's text through json's own JSONEncoder.encode."""
    return json.JSONEncoder(
        separators=(",", ":"),
        ensure_ascii=True,
        check_circular=False,
        allow_nan=False,
        default=codec._default,
    ).encode(row)


def plain_lots_row(lots: Any) -> tuple[Any, ...]:
    return tuple(chain.from_iterable(map(rows.lot_row, lots)))


def plain_entry_row(entry: Entry) -> tuple[Any, ...]:
    seq, kind, at, points, source, reason, pending, held, draws, lot, uncollected, hold_key = entry
    head = (seq, kind.value, at, points, source, reason, pending, held)
    lot_fields = () if lot is None else tuple(lot)
    tail = rows.draws_row(draws) if draws else ()
    return (*head, uncollected, hold_key, len(lot_fields), *lot_fields, *tail)


def plain_trace_row(trace: Trace) -> tuple[Any, ...]:
    flat: list[Any] = []
    for step in trace:
        flat.extend((step.verdict.value, step.text, step.rule, len(step.values)))
        for fact, value in step.values:
            flat.extend((fact, value))
    return tuple(flat)


def plain_ledger_rows(ledger: Ledger) -> tuple[Any, ...]:
    pending, available, holds, *counts, owed = rows._ledger_fields(ledger)
    return pending, available, (holds or None, *counts, owed or None)


# -- values ----------------------------------------------------------------------------------

times = st.integers(min_value=0, max_value=10**6).map(
    lambda minutes: T0 + timedelta(minutes=minutes)
)
lots = st.builds(
    Lot,
    seq=st.integers(min_value=1, max_value=10**6),
    source=st.text(max_size=8),
    points=st.integers(min_value=1, max_value=10**6),
    remaining=st.integers(min_value=0, max_value=10**6),
    earned_at=times,
    available_at=times,
    expires_at=st.none() | times,
)
draws = st.builds(Draw, lot=lots, points=st.integers(min_value=1, max_value=100))
entries = st.builds(
    Entry,
    seq=st.integers(min_value=1, max_value=10**6),
    kind=st.sampled_from(EntryKind),
    at=times,
    points=st.integers(min_value=-(10**6), max_value=10**6),
    source=st.text(max_size=8),
    reason=st.text(max_size=12),
    pending=st.integers(min_value=-100, max_value=100),
    held=st.integers(min_value=-100, max_value=100),
    draws=st.lists(draws, max_size=3).map(tuple),
    lot=st.none() | lots,
    uncollected=st.integers(min_value=0, max_value=100),
    hold_key=st.none() | st.text(max_size=6),
)
steps = st.builds(
    Step,
    verdict=st.sampled_from(Verdict),
    text=st.text(max_size=20),
    rule=st.none() | st.text(max_size=8),
    values=st.lists(
        st.tuples(st.text(max_size=6), st.none() | st.integers() | st.text(max_size=6)),
        max_size=3,
    ).map(tuple),
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
    | st.decimals(allow_nan=False, allow_infinity=False)
    | times
    | times.map(lambda moment: moment.astimezone(ZoneInfo("Europe/Paris")))
    | st.dates()
    | st.frozensets(st.integers(), max_size=3)
)
json_rows = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4).map(tuple)).map(
    lambda value: value if isinstance(value, tuple) else (value,)
)


class TestRowsFastPaths:
    @given(st.lists(lots, max_size=4))
    def test_lots_are_laid_out_as_field_by_field(self, found: list[Lot]) -> None:
        assert plain_lots_row(found) == rows.lots_row(found)
        plain = [tuple(lot) for lot in found]  # as a ledger keeps them
        assert plain_lots_row(found) == rows.lots_row(plain)

    @given(entries)
    def test_an_entry_row_is_the_same_as_the_general_one(self, entry: Entry) -> None:
        assert plain_entry_row(entry) == rows.entry_row(entry)
        assert entry == rows.entry_from_row(rows.entry_row(entry))

    def test_an_entry_row_holds_the_kind_as_a_plain_string(self) -> None:
        entry = Entry(1, EntryKind.EARNED, T0, 5, "o-1", "earned", 5, 0, (), None, 0, None)
        assert type(rows.entry_row(entry)[1]) is str

    @given(st.lists(steps, max_size=4))
    def test_a_trace_row_is_the_same_as_the_general_one(self, found: list[Step]) -> None:
        trace = Trace(found)
        assert plain_trace_row(trace) == rows.trace_row(trace)
        assert all(type(value) is str for value in rows.trace_row(trace)[::4][:1])

    @given(
        st.sampled_from(["shared", "own empty", "some"]),
        st.sampled_from(["shared", "own empty", "some"]),
    )
    def test_ledger_rows_are_the_same_as_the_general_ones(self, holds: str, owed: str) -> None:
        hold = Hold("h-1", 5, (), T0, T0 + timedelta(days=1))
        maps = {
            "holds": {
                "shared": empty_map(),
                "own empty": FrozenMap(),
                "some": FrozenMap({"h-1": hold}),
            },
            "owed": {"shared": empty_map(), "own empty": FrozenMap(), "some": FrozenMap({1: 3})},
        }
        ledger = Ledger(holds=maps["holds"][holds], owed_by_lot=maps["owed"][owed], total=7)
        assert plain_ledger_rows(ledger) == rows.ledger_rows(ledger)
        back = rows.ledger_from_rows(*rows.ledger_rows(ledger))
        assert ledger == back
        # An empty map comes back as the shared one, as before.
        assert (back.holds is empty_map()) == (holds != "some")
        assert (back.owed_by_lot is empty_map()) == (owed != "some")

    def test_a_ledger_row_read_with_empty_maps_gives_the_shared_empty_map(self) -> None:
        pending, available, rest = rows.ledger_rows(Ledger(total=3))
        rest = (FrozenMap(), *rest[1:-1], FrozenMap())  # as an older row may read back
        ledger = rows.ledger_from_rows(pending, available, rest)
        assert ledger.holds is empty_map()
        assert ledger.owed_by_lot is empty_map()

    def test_extras_with_own_empty_maps_are_written_as_with_the_shared_one(self) -> None:
        activity = Activity(2, Decimal("3.50"), 0, T0, T0, None)
        shared = CustomerState(Customer("c-1"), Ledger(), activity)
        own = attrs.evolve(shared, stamps=FrozenMap(), schedule=FrozenMap(), cases=FrozenMap())
        assert rows.extras_row(shared) == rows.extras_row(own)
        assert len(rows.extras_row(own) or ()) == 12  # the short form: nothing else held
        fuller = attrs.evolve(shared, stamps=FrozenMap({"coffee": 3}))
        assert len(rows.extras_row(fuller) or ()) > 12

    def test_stored_vouchers_tell_whether_they_are_empty_without_being_read(self) -> None:
        voucher = Voucher("v-1", "latte", None, Decimal("3"), "card", T0, None)
        state = CustomerState(Customer("c-1"), vouchers=FrozenMap({"v-1": voucher}))
        row = rows.extras_row(state)
        stored = rows.extras_from_row(row)[5]
        assert type(stored) is rows._StoredVouchers
        assert bool(stored)
        with pytest.raises(AttributeError):  # the slot is still empty: nothing was read
            FrozenMap._data.__get__(stored)  # type: ignore[attr-defined]
        assert rows.extras_row(attrs.evolve(state, vouchers=stored)) == row
        assert stored == FrozenMap({"v-1": voucher})


class TestCodecFastPath:
    @given(json_rows)
    def test_the_text_is_what_json_encoder_writes(self, row: tuple[Any, ...]) -> None:
        assert plain_encode(row) == codec.encode(row)
        assert codec.loads(codec.encode(row)) == codec.loads(plain_encode(row))

    def test_what_json_refuses_it_refuses_alike(self) -> None:
        for bad in ((float("nan"),), (object(),)):
            kinds = []
            for encode in (plain_encode, codec.encode):
                try:
                    encode(bad)
                except (ValueError, TypeError) as error:
                    kinds.append(type(error))
            assert len(kinds) == 2
            assert kinds[0] is kinds[1]


class TestLedgerTexts:
    @given(st.lists(lots, max_size=5), st.lists(lots, max_size=5))
    def test_a_ledger_text_is_its_rows_encoded(
        self, pending: list[Lot], available: list[Lot]
    ) -> None:
        cache = StateCache(10)
        ledger = Ledger(tuple(map(tuple, pending)), tuple(map(tuple, available)), total=3)
        expected = codec.encode(rows.ledger_rows(ledger))
        assert expected == cache.ledger_text(ledger)
        assert expected == cache.ledger_text(ledger)  # from the cached groups
        # The next state keeps one group and changes the other.
        later = attrs.evolve(ledger, pending_rows=ledger._pending_rows[1:], total=4)
        assert codec.encode(rows.ledger_rows(later)) == cache.ledger_text(later)

    def test_a_full_cache_starts_again_and_still_gives_the_text(self) -> None:
        cache = StateCache(1)
        for n in range(5):
            lot = (n + 1, f"o-{n}", 5, 5, T0, T0, None)
            ledger = Ledger((lot,), ((lot[0] + 100, *lot[1:]),))
            assert codec.encode(rows.ledger_rows(ledger)) == cache.ledger_text(ledger)
        assert len(cache._groups) <= 2
