"""MemoryStore: the in-memory store, with real transactions.

Good for tests, scripts and simulations. A unit of work writes into an overlay that is
merged into the store only when the block ends normally; an exception anywhere inside
leaves the store as it was. A lock serialises units of work, so threads sharing a store
see each other's transactions whole.

Everything but customers' profiles is kept as rows of plain values, as a database would
keep it, and turned back into values when read: each customer's ledger (as three rows),
statements, the event log, and the purchase, hold and redemption records. CPython's
garbage collector stops tracking such rows soon after they are written, so neither a
long-lived store nor a busy one makes collections slower or more frequent: a ledger kept
as a value would be a new tracked object on every event, promoted to the oldest
generation before the customer's next event replaced it. History rows sit in
append-only ``RowLog``s and are found through dicts of strings to ints and arrays of
ints, containers the collector does not walk.

>>> store = MemoryStore()
>>> with store.unit_of_work() as uow:
...     uow.load("nobody") is None
True
"""

from __future__ import annotations

import heapq
import threading
from array import array
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import overload

from custbond.commands import Input, LogKey
from custbond.customers import Customer
from custbond.erasure import Erasure
from custbond.ledger import Entry, Ledger
from custbond.messaging.message import QueuedMessage
from custbond.outcome import Outcome
from custbond.program import CustomerState
from custbond.records import HoldRecord, PurchaseRecord, RedemptionRecord
from custbond.storage import _rows as rows
from custbond.storage._rowlog import RowLog
from custbond.storage.ports import LogRecord, Record
from custbond.tasks import Task

__all__ = ["MemoryStore"]

_Row = rows.Row


def _key(key: LogKey) -> str:
    # A str, not the tuple: a dict of str keys and int values is one CPython never tracks.
    return f"{key[0]}\x1f{key[1]}"


class MemoryStore:
    """Keeps everything in dicts and lists; see the module docstring."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        # Live state: profiles as values (they change rarely), ledgers as rows.
        self._customers: dict[str, Customer] = {}
        self._pending_lots: dict[str, _Row] = {}
        self._available_lots: dict[str, _Row] = {}
        self._ledgers: dict[str, _Row] = {}  # the rest of each ledger
        self._extras: dict[str, _Row | None] = {}  # activity, stamps, tier, vouchers, ...
        # History, as rows in RowLogs, found through dicts of str -> int and arrays of
        # ints: containers the garbage collector has no reason to walk.
        self._entry_rows = RowLog()
        self._statements: dict[str, array[int]] = {}  # customer -> indexes in _entry_rows
        self._log = RowLog()
        self._logged: dict[str, int] = {}  # _key(log key) -> index in _log
        self._record_rows = RowLog()  # purchase, hold and redemption rows, every version
        self._purchases: dict[str, int] = {}  # id -> index of its latest row
        self._holds: dict[str, int] = {}
        self._redemptions: dict[str, int] = {}
        # When each customer next has something due, and a heap over it; heap items that
        # no longer match the dict are stale and dropped when met.
        self._next_due: dict[str, datetime] = {}
        self._due_heap: list[tuple[datetime, str]] = []
        self._counters: dict[str, int] = {}  # shared by all customers: stock, budgets
        # The outbox, in the order messages were queued (values, not rows: messages are
        # few beside the history); the messages not final by when they are due, with a
        # heap over it as for customers; each customer's message keys.
        self._outbox: dict[str, QueuedMessage] = {}
        self._message_due: dict[str, datetime] = {}
        # (when due, when queued, key): among messages due at once, the first queued goes
        # first (a welcome before the thank-you of a purchase recorded after it).
        self._message_heap: list[tuple[datetime, datetime, str]] = []
        self._messages_of: dict[str, list[str]] = {}
        # Tasks, as rows by key (see rows.task_row: the customer, owner and due time at
        # fixed places, for listing without making values of the rest).
        self._tasks: dict[str, _Row] = {}

    def unit_of_work(self, *, write: bool = True) -> _MemoryUnitOfWork:
        """A transaction over this store: use it in a ``with`` block. Units of work run
        one at a time (a lock), so ``write`` changes nothing here."""
        return _MemoryUnitOfWork(self)

    def _statement(self, customer_id: str) -> _Statement:
        return _Statement(self._entry_rows, self._statements.get(customer_id, array("q")))

    def _log_record(self, index: int) -> LogRecord:
        row = self._log[index]
        statement = self._statement(rows.log_customer_id(row))
        return LogRecord(*rows.log_from_row(row, statement))

    def _forget(self, erasure: Erasure) -> None:
        """Rewrite every row that holds or names ``erasure.customer_id`` (see
        :meth:`UnitOfWork.forget`): in place, so nothing of the original stays."""
        old, new = erasure.customer_id, erasure.pseudonym
        # The log first: its outcomes are read with the statement still under the old id.
        # All of it before any is erased: the profiles the customer had are in it.
        quoted = repr(old)  # as custbond's words (a trace's) name a customer
        found: list[tuple[int, LogRecord]] = []
        for index, row in enumerate(self._log):
            if _names(row, old, quoted):
                statement = self._statement(rows.log_customer_id(row))
                found.append((index, LogRecord(*rows.log_from_row(row, statement))))
        erasure = erasure.knowing(logged for _, logged in found)
        for index, logged in found:
            record = erasure.log_record(logged)
            erased = rows.log_row(
                record.seq, record.key, record.input, record.recorded_at, record.outcome
            )
            self._log.replace(index, erased)
            if record.key != logged.key:  # a key made of the id (an incident's notice)
                assert logged.key is not None
                assert record.key is not None
                del self._logged[_key(logged.key)]
                self._logged[_key(record.key)] = index
        indexes = self._statements.pop(old, None)
        if indexes is not None:
            for index in indexes:
                entry = rows.entry_from_row(self._entry_rows[index])
                if erasure.entry(entry) != entry:
                    self._entry_rows.replace(index, rows.entry_row(erasure.entry(entry)))
            self._statements[new] = indexes
        # Every version of every record, not only the latest.
        for index, row in enumerate(self._record_rows):
            if _names(row, old, None):
                self._record_rows.replace(index, _erase_record_row(row, erasure))
        customer = self._customers.pop(old)
        self._customers[new] = erasure.customer(customer)
        self._forget_messages(erasure)
        self._forget_tasks(erasure)
        for kept in (self._pending_lots, self._available_lots, self._ledgers):
            kept[new] = kept.pop(old)
        # Through the erasure, for what the extras hold of the customer (consents), and
        # for when they are next due (a birthday's greeting goes with the birthday).
        ledger = rows.ledger_from_rows(
            self._pending_lots[new], self._available_lots[new], self._ledgers[new]
        )
        fields = rows.extras_from_row(self._extras.pop(old))
        state = erasure.state(CustomerState(Customer(old), ledger, *fields))
        self._extras[new] = rows.extras_row(state)
        # Out of the heap (of customers with something ahead) too: a stale item would
        # keep the old id (an email, at times) in the store.
        self._due_heap = [(at, who) for at, who in self._due_heap if who != old]
        heapq.heapify(self._due_heap)
        self._next_due.pop(old, None)
        due = state.next_due_at
        if due is not None:
            self._next_due[new] = due
            self._push_due(new, due)
        for customer_id, extras in self._extras.items():  # who the customer referred
            if extras is not None and extras[_REFERRED_BY] == old:
                self._extras[customer_id] = (
                    *extras[:_REFERRED_BY],
                    new,
                    *extras[_REFERRED_BY + 1 :],
                )

    def _keep_queued(self, item: QueuedMessage) -> None:
        key = item.key
        if key not in self._outbox:
            self._messages_of.setdefault(item.customer_id, []).append(key)
        self._outbox[key] = item
        if item.status.final:
            self._message_due.pop(key, None)
        elif self._message_due.get(key) != item.next_attempt_at:
            self._message_due[key] = item.next_attempt_at
            heapq.heappush(self._message_heap, (item.next_attempt_at, item.queued_at, key))

    def _forget_messages(self, erasure: Erasure) -> None:
        """The erased customer's messages through the erasure, reached by their keys:
        the outbox (every message ever queued) is not rebuilt, as its reads sort and a
        renamed message may sit anywhere in it. The heap of messages to send is rebuilt
        without their old keys (which may name them), as the store's other heaps are
        when they fill with stale items: it holds messages still to send, not all."""
        keys = self._messages_of.pop(erasure.customer_id, [])
        if not keys:
            return
        outbox, due = self._outbox, self._message_due
        mine: list[str] = []
        for key in keys:
            item = erasure.queued(outbox.pop(key))
            due.pop(key, None)
            outbox[item.key] = item
            mine.append(item.key)
        self._messages_of[erasure.pseudonym] = mine
        gone = set(keys)
        self._message_heap = [entry for entry in self._message_heap if entry[2] not in gone]
        heapq.heapify(self._message_heap)
        for key in mine:
            item = outbox[key]
            if not item.status.final:  # pragma: no cover - erasure suppresses them
                due[key] = item.next_attempt_at
                heapq.heappush(self._message_heap, (item.next_attempt_at, item.queued_at, key))

    def _forget_tasks(self, erasure: Erasure) -> None:
        """The erased customer's tasks through the erasure, each under its key (which
        may change), in place: the others' stay where they are."""
        old, tasks = erasure.customer_id, self._tasks
        for key in [key for key, row in tasks.items() if row[_TASK_CUSTOMER] == old]:
            erased = rows.task_row(erasure.task(rows.task_from_row(tasks.pop(key))))
            tasks[erased[_TASK_KEY]] = erased

    def _push_due(self, customer_id: str, due: datetime) -> None:
        heap = self._due_heap
        heapq.heappush(heap, (due, customer_id))
        if len(heap) > 2 * len(self._next_due) + 1024:  # mostly stale items: rebuild
            self._due_heap = [(at, cid) for cid, at in self._next_due.items()]
            heapq.heapify(self._due_heap)

    def __repr__(self) -> str:
        return f"<MemoryStore: {len(self._customers)} customers, {len(self._log)} log records>"


# Where an extras row keeps who referred the customer (see rows.extras_row).
_REFERRED_BY = 10
# Where a task's row keeps its key, customer, owner, due time and when it was closed.
_TASK_KEY, _TASK_CUSTOMER, _TASK_OWNER, _TASK_DUE, _TASK_CLOSED = (
    rows.TASK_FIELDS.index(name) for name in ("key", "customer_id", "owner", "due_at", "closed_at")
)


def _task_order(task: Task) -> tuple[datetime, str]:
    return (task.due_at, task.key)


def _recent(item: QueuedMessage, since: datetime | None) -> bool:
    """Whether ``item`` is one of a customer's messages since ``since`` (see
    ``UnitOfWork.messages_of``)."""
    if since is None or not item.status.final:
        return True
    return item.sent_at is not None and item.sent_at >= since


def _queue_order(item: QueuedMessage) -> tuple[datetime, str]:
    return (item.queued_at, item.key)


def _due_order(item: QueuedMessage) -> tuple[datetime, datetime, str]:
    """Soonest due first; among those due at once, the first queued (the order of the
    events that queued them), then by key."""
    return (item.next_attempt_at, item.queued_at, item.key)


def _names(row: _Row, customer_id: str, quoted: str | None) -> bool:
    """Whether ``customer_id`` is a value anywhere in ``row``, nested rows included, or
    (when ``quoted`` is given) a text there has it quoted (custbond's words naming it)."""
    return any(
        value == customer_id
        or (type(value) is tuple and _names(value, customer_id, quoted))
        or (quoted is not None and type(value) is str and quoted in value)
        for value in row
    )


def _erase_record_row(row: _Row, erasure: Erasure) -> _Row:
    """A purchase, hold or redemption row (told apart by their shapes) erased."""
    record: Record
    if type(row[0]) is tuple:  # a purchase row starts with its purchase's row
        record = rows.purchase_from_row(row)
    elif type(row[5]) is bool:  # a redemption's "cancelled"; a hold has its status there
        record = rows.redemption_from_row(row)
    else:
        record = rows.hold_from_row(row)
    return rows.record_row(erasure.record(record))


class _Statement(Sequence[_Row]):
    """One customer's entry rows, oldest first, read through their indexes."""

    def __init__(self, entry_rows: RowLog, indexes: array[int]) -> None:
        self._rows = entry_rows
        self._indexes = indexes

    def __len__(self) -> int:
        return len(self._indexes)

    @overload
    def __getitem__(self, at: int) -> _Row: ...

    @overload
    def __getitem__(self, at: slice) -> list[_Row]: ...

    def __getitem__(self, at: int | slice) -> _Row | list[_Row]:
        if isinstance(at, slice):
            return [self._rows[index] for index in self._indexes[at]]
        return self._rows[self._indexes[at]]


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
        self._counters: dict[str, int] = {}  # what this unit of work added
        self._erasures: list[Erasure] = []
        self._queued: dict[str, QueuedMessage] = {}  # queued or changed here
        self._tasks: dict[str, Task] = {}  # added or changed here

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
        if state is not None:
            return state
        store = self._store
        customer = store._customers.get(customer_id)
        if customer is None:
            return None
        ledger = rows.ledger_from_rows(
            store._pending_lots[customer_id],
            store._available_lots[customer_id],
            store._ledgers[customer_id],
        )
        return CustomerState(customer, ledger, *rows.extras_from_row(store._extras[customer_id]))

    def load_ledger(self, customer_id: str) -> Ledger | None:
        state = self._states.get(customer_id)
        if state is not None:
            return state.ledger
        store = self._store
        if customer_id not in store._customers:
            return None
        return rows.ledger_from_rows(
            store._pending_lots[customer_id],
            store._available_lots[customer_id],
            store._ledgers[customer_id],
        )

    def save(self, state: CustomerState, entries: Sequence[Entry]) -> None:
        self._states[state.id] = state
        if entries:
            self._entries.setdefault(state.id, []).extend(entries)

    def entries(self, customer_id: str) -> Sequence[Entry]:
        kept = self._store._statement(customer_id)
        return (*map(rows.entry_from_row, kept), *self._entries.get(customer_id, ()))

    def logged(self, key: LogKey) -> LogRecord | None:
        record = self._logged.get(key)
        if record is not None:
            return record
        index = self._store._logged.get(_key(key))
        return None if index is None else self._store._log_record(index)

    def prefetch_customers(self, customer_ids: Sequence[str]) -> None:
        pass  # units of work run one at a time, and reading a row is quick

    def prefetch_logged(self, keys: Sequence[LogKey]) -> None:
        pass  # a dict lookup each is as quick as it gets

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
        index = self._store._purchases.get(purchase_id)
        return None if index is None else rows.purchase_from_row(self._store._record_rows[index])

    def hold(self, key: str) -> HoldRecord | None:
        found = self._holds.get(key)
        if found is not None:
            return found
        index = self._store._holds.get(key)
        return None if index is None else rows.hold_from_row(self._store._record_rows[index])

    def redemption(self, key: str) -> RedemptionRecord | None:
        found = self._redemptions.get(key)
        if found is not None:
            return found
        index = self._store._redemptions.get(key)
        if index is None:
            return None
        return rows.redemption_from_row(self._store._record_rows[index])

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
            if state.next_due_at is not None and state.next_due_at <= now:
                due.add(state.id)
        return sorted(due)

    def customer_ids(self) -> Sequence[str]:
        return sorted({*self._store._customers, *self._states})

    def counter(self, name: str) -> int:
        return self._store._counters.get(name, 0) + self._counters.get(name, 0)

    def add_to_counter(self, name: str, amount: int) -> None:
        self._counters[name] = self._counters.get(name, 0) + amount

    def log(self, after: int = 0) -> Iterator[LogRecord]:
        store = self._store
        for index in range(max(after, 0), len(store._log)):
            yield store._log_record(index)
        for record in self._log:
            if record.seq > after:
                yield record

    def enqueue(self, message: QueuedMessage) -> None:
        if message.key in self._queued or message.key in self._store._outbox:
            raise ValueError(f"the outbox already holds a message under {message.key!r}")
        self._queued[message.key] = message

    def queued(self, key: str) -> QueuedMessage | None:
        found = self._queued.get(key)
        return found if found is not None else self._store._outbox.get(key)

    def update_queued(self, message: QueuedMessage) -> None:
        if self.queued(message.key) is None:
            raise ValueError(f"the outbox holds no message under {message.key!r}")
        self._queued[message.key] = message

    def due_messages(self, now: datetime, limit: int) -> Sequence[QueuedMessage]:
        store = self._store
        heap, due_at = store._message_heap, store._message_due
        popped: list[tuple[datetime, datetime, str]] = []
        found: dict[str, QueuedMessage] = {}
        while heap and heap[0][0] <= now and len(found) < limit:
            entry = heapq.heappop(heap)
            at, _, key = entry
            if due_at.get(key) == at:  # else a stale item: dropped
                popped.append(entry)
                found[key] = store._outbox[key]
        for entry in popped:  # reading changes nothing: put the live items back
            heapq.heappush(heap, entry)
        found.update(self._queued)  # this unit of work's own writes win
        due = [item for item in found.values() if item.is_due(now)]
        due.sort(key=_due_order)
        return due[:limit]

    def messages_of(
        self, customer_id: str, *, since: datetime | None = None
    ) -> Sequence[QueuedMessage]:
        keys = self._store._messages_of.get(customer_id, [])
        found = [self.queued(key) for key in keys]
        found.extend(
            item
            for key, item in self._queued.items()
            if item.customer_id == customer_id and key not in self._store._outbox
        )
        kept = [item for item in found if item is not None and _recent(item, since)]
        return sorted(kept, key=_queue_order)

    def outbox(self) -> Sequence[QueuedMessage]:
        kept = [self._queued.get(key, item) for key, item in self._store._outbox.items()]
        kept.extend(item for key, item in self._queued.items() if key not in self._store._outbox)
        return sorted(kept, key=_queue_order)

    def add_task(self, task: Task) -> bool:
        if self.task(task.key) is not None:
            return False
        self._tasks[task.key] = task
        return True

    def task(self, key: str) -> Task | None:
        found = self._tasks.get(key)
        if found is not None:
            return found
        row = self._store._tasks.get(key)
        return None if row is None else rows.task_from_row(row)

    def update_task(self, task: Task) -> None:
        if self.task(task.key) is None:
            raise ValueError(f"the store holds no task under {task.key!r}")
        self._tasks[task.key] = task

    def tasks(
        self,
        *,
        owner: str | None = None,
        customer_id: str | None = None,
        due_before: datetime | None = None,
        open_only: bool = True,
    ) -> Sequence[Task]:
        def wanted(row: _Row) -> bool:
            return (
                (owner is None or row[_TASK_OWNER] == owner)
                and (customer_id is None or row[_TASK_CUSTOMER] == customer_id)
                and (due_before is None or row[_TASK_DUE] < due_before)
                and not (open_only and row[_TASK_CLOSED] is not None)
            )

        own = self._tasks
        found = [
            rows.task_from_row(row)
            for key, row in self._store._tasks.items()
            if key not in own and wanted(row)
        ]
        found.extend(task for task in own.values() if wanted(rows.task_row(task)))
        return sorted(found, key=_task_order)

    def forget(self, erasure: Erasure) -> None:
        # Carried out at commit, after this unit of work's other writes.
        self._erasures.append(erasure)

    def commit(self) -> None:
        store = self._store
        for customer_id, state in self._states.items():
            if store._customers.get(customer_id) is not state.customer:
                store._customers[customer_id] = state.customer
            (
                store._pending_lots[customer_id],
                store._available_lots[customer_id],
                store._ledgers[customer_id],
            ) = rows.ledger_rows(state.ledger)
            store._extras[customer_id] = rows.extras_row(state)
            due = state.next_due_at
            if due != store._next_due.get(customer_id):
                if due is None:
                    store._next_due.pop(customer_id, None)
                else:
                    store._next_due[customer_id] = due
                    store._push_due(customer_id, due)
        entry_rows = store._entry_rows
        for customer_id, entries in self._entries.items():
            indexes = store._statements.get(customer_id)
            if indexes is None:
                indexes = store._statements[customer_id] = array("q")
            indexes.extend([entry_rows.append(rows.entry_row(entry)) for entry in entries])
        encoded: dict[int, _Row] = {}  # id(input) -> its row: a purchase is encoded once
        for record in self._log:
            item = encoded[id(record.input)] = rows.value_row(record.input)
            row = rows.log_row(record.seq, record.key, item, record.recorded_at, record.outcome)
            index = store._log.append(row)
            if record.key is not None:
                store._logged[_key(record.key)] = index
        kept = store._record_rows
        for purchase_id, purchase in self._purchases.items():
            row = rows.purchase_row(purchase, encoded.get(id(purchase.purchase)))
            store._purchases[purchase_id] = kept.append(row)
        if self._holds:
            for key, hold in self._holds.items():
                store._holds[key] = kept.append(rows.hold_row(hold))
        if self._redemptions:
            for key, redemption in self._redemptions.items():
                store._redemptions[key] = kept.append(rows.redemption_row(redemption))
        for name, amount in self._counters.items():
            store._counters[name] = store._counters.get(name, 0) + amount
        for message in self._queued.values():
            store._keep_queued(message)
        for key, task in self._tasks.items():
            store._tasks[key] = rows.task_row(task)
        for erasure in self._erasures:
            store._forget(erasure)
