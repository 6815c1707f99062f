"""MemoryStore: the in-memory store, with real transactions.

Good for tests, scripts and simulations. A unit of work writes into an overlay that is
merged into the store only when the block ends normally; an exception anywhere inside
leaves the store as it was. A lock serialises units of work, so threads sharing a store
see each other's transactions whole.

Customers' live state is kept as the values themselves; history (statements, the event
log, purchase, hold and redemption records) is kept as rows of plain values, as a
database would keep it, and turned back into values when read. That keeps a long-lived
store from weighing on the garbage collector.

>>> store = MemoryStore()
>>> with store.unit_of_work() as uow:
...     uow.load("nobody") is None
True
"""

from __future__ import annotations

import heapq
import threading
from collections.abc import Iterator, Sequence
from datetime import datetime

from custbond.commands import Input, LogKey
from custbond.ledger import Entry
from custbond.outcome import Outcome
from custbond.program import CustomerState
from custbond.records import HoldRecord, PurchaseRecord, RedemptionRecord
from custbond.storage import _rows as rows
from custbond.storage.ports import LogRecord, Record

__all__ = ["MemoryStore"]

_Row = rows.Row


class MemoryStore:
    """Keeps everything in dicts and lists; see the module docstring."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._states: dict[str, CustomerState] = {}
        self._entries: dict[str, list[_Row]] = {}
        self._log: list[_Row] = []
        self._logged: dict[LogKey, int] = {}  # key -> index in _log
        self._purchases: dict[str, _Row] = {}
        self._holds: dict[str, _Row] = {}
        self._redemptions: dict[str, _Row] = {}
        # When each customer next has something due, and a heap over it; heap items that
        # no longer match the dict are stale and dropped when met.
        self._next_due: dict[str, datetime] = {}
        self._due_heap: list[tuple[datetime, str]] = []

    def unit_of_work(self) -> _MemoryUnitOfWork:
        """A transaction over this store: use it in a ``with`` block."""
        return _MemoryUnitOfWork(self)

    def _log_record(self, row: _Row) -> LogRecord:
        statement = self._entries.get(rows.log_customer_id(row), [])
        return LogRecord(*rows.log_from_row(row, statement))

    def __repr__(self) -> str:
        return f"<MemoryStore: {len(self._states)} customers, {len(self._log)} log records>"


class _MemoryUnitOfWork:
    """Writes go to overlays; ``__exit__`` merges them into the store only if nothing was
    raised. (A class rather than a generator-based context manager: this sits on the path
    of every ``record()``, and the class is measurably cheaper.)
    """

    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self._states: dict[str, CustomerState] = {}
        self._entries: dict[str, list[Entry]] = {}
        self._log: list[LogRecord] = []
        self._logged: dict[LogKey, LogRecord] = {}
        self._purchases: dict[str, PurchaseRecord] = {}
        self._holds: dict[str, HoldRecord] = {}
        self._redemptions: dict[str, RedemptionRecord] = {}

    def __enter__(self) -> _MemoryUnitOfWork:
        self._store._lock.acquire()
        return self

    def __exit__(self, kind: type[BaseException] | None, *rest: object) -> None:
        try:
            if kind is None:
                self.commit()
        finally:
            self._store._lock.release()

    def load(self, customer_id: str) -> CustomerState | None:
        state = self._states.get(customer_id)
        return state if state is not None else self._store._states.get(customer_id)

    def save(self, state: CustomerState, entries: Sequence[Entry]) -> None:
        self._states[state.id] = state
        if entries:
            self._entries.setdefault(state.id, []).extend(entries)

    def entries(self, customer_id: str) -> Sequence[Entry]:
        kept = self._store._entries.get(customer_id, ())
        return (*map(rows.entry_from_row, kept), *self._entries.get(customer_id, ()))

    def logged(self, key: LogKey) -> LogRecord | None:
        record = self._logged.get(key)
        if record is not None:
            return record
        index = self._store._logged.get(key)
        return None if index is None else self._store._log_record(self._store._log[index])

    def append(
        self, key: LogKey | None, item: Input, recorded_at: datetime, outcome: Outcome
    ) -> LogRecord:
        seq = len(self._store._log) + len(self._log) + 1
        record = LogRecord(seq, key, item, recorded_at, outcome)
        self._log.append(record)
        if key is not None:
            self._logged[key] = record
        return record

    def purchase(self, purchase_id: str) -> PurchaseRecord | None:
        found = self._purchases.get(purchase_id)
        if found is not None:
            return found
        row = self._store._purchases.get(purchase_id)
        return None if row is None else rows.purchase_from_row(row)

    def hold(self, key: str) -> HoldRecord | None:
        found = self._holds.get(key)
        if found is not None:
            return found
        row = self._store._holds.get(key)
        return None if row is None else rows.hold_from_row(row)

    def redemption(self, key: str) -> RedemptionRecord | None:
        found = self._redemptions.get(key)
        if found is not None:
            return found
        row = self._store._redemptions.get(key)
        return None if row is None else rows.redemption_from_row(row)

    def keep(self, record: Record) -> None:
        if isinstance(record, PurchaseRecord):
            self._purchases[record.purchase.id] = record
        elif isinstance(record, HoldRecord):
            self._holds[record.key] = record
        else:
            self._redemptions[record.key] = record

    def due(self, now: datetime) -> Sequence[str]:
        store = self._store
        heap = store._due_heap
        found: list[tuple[datetime, str]] = []
        while heap and heap[0][0] <= now:
            at, customer_id = heapq.heappop(heap)
            if store._next_due.get(customer_id) == at:
                found.append((at, customer_id))
        for item in found:  # reading changes nothing: put the live items back
            heapq.heappush(heap, item)
        due = {customer_id for _, customer_id in found if customer_id not in self._states}
        for state in self._states.values():  # this unit of work's own writes win
            if state.ledger.next_due_at is not None and state.ledger.next_due_at <= now:
                due.add(state.id)
        return sorted(due)

    def log(self, after: int = 0) -> Iterator[LogRecord]:
        store = self._store
        for row in store._log[after:]:
            yield store._log_record(row)
        for record in self._log:
            if record.seq > after:
                yield record

    def commit(self) -> None:
        store = self._store
        for customer_id, state in self._states.items():
            store._states[customer_id] = state
            due = state.ledger.next_due_at
            if due != store._next_due.get(customer_id):
                if due is None:
                    store._next_due.pop(customer_id, None)
                else:
                    store._next_due[customer_id] = due
                    heapq.heappush(store._due_heap, (due, customer_id))
        for customer_id, entries in self._entries.items():
            store._entries.setdefault(customer_id, []).extend(map(rows.entry_row, entries))
        encoded: dict[int, _Row] = {}  # id(input) -> its row: a purchase is encoded once
        for record in self._log:
            if record.key is not None:
                store._logged[record.key] = len(store._log)
            item = encoded[id(record.input)] = rows.value_row(record.input)
            store._log.append(
                rows.log_row(record.seq, record.key, item, record.recorded_at, record.outcome)
            )
        for purchase_id, purchase in self._purchases.items():
            row = encoded.get(id(purchase.purchase))
            store._purchases[purchase_id] = rows.purchase_row(purchase, row)
        for key, hold in self._holds.items():
            store._holds[key] = rows.hold_row(hold)
        for key, redemption in self._redemptions.items():
            store._redemptions[key] = rows.redemption_row(redemption)
