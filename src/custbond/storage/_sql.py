"""The unit of work the SQL stores share: reads through SQL, writes kept until commit.

A unit of work reads what it needs as it goes (a customer's row when it is loaded, a
record when it is asked for) and keeps what it writes in memory, like the in-memory
store's overlay; at commit it writes all of it with a handful of statements, most of
them ``executemany``. So a unit of work that records a batch of events writes each
customer's row once, however many of the batch's events were theirs.

Each store gives it a :class:`Connection` (its driver's way to run SQL text with
``:name`` parameters, which sqlite3 and SQLAlchemy both understand) and says how a
writing unit of work locks what it reads (:attr:`SQLUnitOfWork.lock`): SQLite needs
nothing, its write lock is taken at ``BEGIN IMMEDIATE``; PostgreSQL adds ``FOR UPDATE``.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from custbond.commands import Input, LogKey
from custbond.customers import Customer
from custbond.erasure import Erasure
from custbond.ledger import Entry, Ledger
from custbond.messaging.message import QueuedMessage
from custbond.outcome import Outcome
from custbond.program import CustomerState
from custbond.records import HoldRecord, PurchaseRecord, RedemptionRecord
from custbond.storage import _rows as rows
from custbond.storage._codec import dumps, encode, loads
from custbond.storage.ports import LogRecord, Record
from custbond.tasks import Task

__all__ = ["Connection", "SQLUnitOfWork", "StateCache", "micros"]

Params = dict[str, Any]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def micros(moment: datetime) -> int:
    """``moment`` as microseconds since 1970-01-01 UTC: a sortable integer column."""
    return (moment - _EPOCH) // _MICROSECOND


class Connection(Protocol):
    """What a SQL store's driver does for the shared unit of work."""

    def one(self, sql: str, params: Params) -> tuple[Any, ...] | None:
        """The first row ``sql`` gives, or None."""

    def all(self, sql: str, params: Params) -> list[tuple[Any, ...]]:
        """Every row ``sql`` gives."""

    def run(self, sql: str, params: Params) -> None:
        """Run ``sql`` once."""

    def many(self, sql: str, params: list[Params]) -> None:
        """Run ``sql`` once for each of ``params``."""


def _containing(text: str) -> str:
    """A LIKE pattern (with ESCAPE '\\') for values that contain ``text``."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


_RECORD_READERS: dict[str, Callable[[rows.Row], Record]] = {
    "purchase": rows.purchase_from_row,
    "hold": rows.hold_from_row,
    "redemption": rows.redemption_from_row,
}

_RECORD_KINDS: dict[type[Any], str] = {
    PurchaseRecord: "purchase",
    HoldRecord: "hold",
    RedemptionRecord: "redemption",
}


class _Span(Sequence[rows.Row]):
    """Entry rows ``first``, ``first + 1``, ... of a statement, indexed as the whole
    statement would be (from 0): what ``rows.outcome_from_row`` slices."""

    def __init__(self, first: int, found: list[rows.Row]) -> None:
        self._first = first
        self._rows = found

    def __len__(self) -> int:
        return self._first - 1 + len(self._rows)

    def __getitem__(self, at: Any) -> Any:
        if isinstance(at, slice):
            start = (at.start or 0) - (self._first - 1)
            stop = None if at.stop is None else at.stop - (self._first - 1)
            return self._rows[start:stop]
        return self._rows[at - (self._first - 1)]


class StateCache:
    """Customers' states a store has read or written, by id, with the version of the row
    they came from: a unit of work whose read finds the same version uses the state
    again instead of decoding the row. Values are immutable, so sharing them is safe.

    Also the JSON text of lots the store has written, by the lot itself (lots are tuples
    that a ledger carries over from one state to the next): a ledger's row is written
    by joining its lots' texts, encoding only the lots that are new. And the text of
    whole groups of lots (a ledger's pending and its available lots, each a tuple that
    the next state keeps as it is while no lot joins or leaves it): most writes change
    one of the two, so the other's text is used again as it was, without a look at its
    lots.

    All are bounded: a full cache is emptied and starts again.
    """

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self.states: dict[str, tuple[int, CustomerState, str]] = {}
        self._lots: dict[int, tuple[Any, str]] = {}
        self._groups: dict[int, tuple[Any, str]] = {}

    def get(self, customer_id: str, version: int) -> tuple[CustomerState, str] | None:
        found = self.states.get(customer_id)
        if found is None or found[0] != version:
            return None
        return found[1], found[2]

    def put(self, customer_id: str, version: int, state: CustomerState, profile: str) -> None:
        states = self.states
        if len(states) >= self.size and customer_id not in states:
            states.clear()
        states[customer_id] = (version, state, profile)

    def drop(self, customer_id: str) -> None:
        self.states.pop(customer_id, None)

    def ledger_text(self, ledger: Ledger) -> str:
        """The ledger's three rows as JSON text, reusing what its lots read as."""
        pending, available, rest = rows.ledger_rows(ledger)
        return f"[{self._group_text(pending)},{self._group_text(available)},{encode(rest)}]"

    def _group_text(self, group: tuple[Any, ...]) -> str:
        """A tuple of lots as JSON text: as ``encode(group)`` writes it, from the texts of
        the group or its lots when they were written before (by identity: the cache
        keeps each tuple alive while its id is a key, so an id found is the same tuple)."""
        groups = self._groups
        found = groups.get(id(group))
        if found is not None and found[0] is group:
            return found[1]
        lots = self._lots
        if len(lots) >= 20 * self.size:
            lots.clear()
        if len(groups) >= 2 * self.size:
            groups.clear()
        parts = []
        for lot in group:
            known = lots.get(id(lot))
            if known is None or known[0] is not lot:
                known = lots[id(lot)] = (lot, encode(lot))  # keeps the lot alive
            parts.append(known[1])
        text = "[" + ",".join(parts) + "]"
        groups[id(group)] = (group, text)
        return text


class SQLUnitOfWork:
    """One transaction over the custbond tables of one tenant (see the module docstring).

    The store begins the transaction before handing it out, calls :meth:`flush` before it
    commits, and rolls back if anything raised.
    """

    # Appended to the SELECTs of a writing unit of work that read a customer's row or a
    # counter: " FOR UPDATE" where the database locks rows that way.
    lock = ""
    # Appended to a text column in ORDER BY where the database's collation may order
    # strings otherwise than Python does (PostgreSQL: ' COLLATE "C"').
    in_code_order = ""

    def __init__(
        self, db: Connection, tenant: str, *, write: bool, cache: StateCache | None = None
    ) -> None:
        self._db = db
        self._tenant = tenant
        self._write = write
        self._cache = StateCache(0) if cache is None else cache
        self._versions: dict[str, int] = {}  # of the rows this unit of work read
        self._loaded: dict[str, CustomerState | None] = {}  # as read from the database
        self._profiles: dict[str, tuple[Customer, str]] = {}  # and the profile's text
        self._states: dict[str, CustomerState] = {}  # saved in this unit of work
        self._entries: dict[str, list[Entry]] = {}
        self._log: list[LogRecord] = []
        self._logged: dict[LogKey, LogRecord] = {}
        self._prefetched: dict[LogKey, LogRecord | None] = {}  # read by prefetch_logged()
        self._records: dict[tuple[str, str], Record | None] = {}
        self._kept: dict[tuple[str, str], Record] = {}  # written in this unit of work
        self._counters: dict[str, int] = {}  # as read from the database
        self._added: dict[str, int] = {}
        self._next_seq: int | None = None
        self._written: list[tuple[str, int, CustomerState, str]] = []
        # Messages queued (True) or changed (False) in this unit of work, by key.
        self._queued: dict[str, tuple[QueuedMessage, bool]] = {}
        # Tasks added (True) or changed (False) in this unit of work, by key.
        self._tasks: dict[str, tuple[Task, bool]] = {}

    # -- customers -------------------------------------------------------------------------

    def load(self, customer_id: str) -> CustomerState | None:
        state = self._states.get(customer_id)
        if state is not None:
            return state
        if customer_id in self._loaded:
            return self._loaded[customer_id]
        lock = self.lock if self._write else ""
        found = self._db.one(
            "SELECT version, profile, ledger, extras FROM custbond_customers"
            " WHERE tenant = :tenant AND customer_id = :customer_id" + lock,
            {"tenant": self._tenant, "customer_id": customer_id},
        )
        if lock:  # records read before the lock may have changed since: read them again
            self._records = {**self._kept}
        if found is None:
            self._loaded[customer_id] = None
            return None
        return self._state_of(customer_id, *found)

    def _state_of(
        self, customer_id: str, version: int, profile: str, ledger: str, extras: str | None
    ) -> CustomerState:
        """The state of a customer's row as read: from the cache when its version is the
        one the cache holds, else decoded."""
        self._versions[customer_id] = version
        cached = self._cache.get(customer_id, version)
        if cached is not None:
            state, profile = cached
        else:
            customer = rows.value_from_row(loads(profile))
            state = CustomerState(
                customer,
                rows.ledger_from_rows(*loads(ledger)),
                *rows.extras_from_row(loads(extras)),
            )
            self._cache.put(customer_id, version, state, profile)
        self._profiles[customer_id] = (state.customer, profile)
        self._loaded[customer_id] = state
        return state

    def prefetch_customers(self, customer_ids: Sequence[str]) -> None:
        # One statement for a batch's customers, in id order: a database that locks the
        # rows (FOR UPDATE) then locks them in the same order in every transaction, so
        # two batches cannot deadlock over them.
        wanted = sorted({c for c in customer_ids if c not in self._loaded} - set(self._states))
        lock = self.lock if self._write else ""
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            params: Params = {"tenant": self._tenant}
            params.update({f"c{n}": customer_id for n, customer_id in enumerate(chunk)})
            marks = ", ".join(f":c{n}" for n in range(len(chunk)))
            found = self._db.all(
                "SELECT customer_id, version, profile, ledger, extras FROM custbond_customers"
                f" WHERE tenant = :tenant AND customer_id IN ({marks})"
                " ORDER BY customer_id" + lock,
                params,
            )
            for customer_id in chunk:
                self._loaded[customer_id] = None  # not in the database, unless found below
            for customer_id, *row in found:
                self._state_of(customer_id, *row)
        if lock and wanted:
            self._records = {**self._kept}

    def load_ledger(self, customer_id: str) -> Ledger | None:
        state = self._states.get(customer_id) or self._loaded.get(customer_id)
        if state is not None:
            return state.ledger
        found = self._db.one(
            "SELECT version, ledger FROM custbond_customers"
            " WHERE tenant = :tenant AND customer_id = :customer_id",
            {"tenant": self._tenant, "customer_id": customer_id},
        )
        if found is None:
            return None
        cached = self._cache.get(customer_id, found[0])
        if cached is not None:
            return cached[0].ledger
        return rows.ledger_from_rows(*loads(found[1]))

    def save(self, state: CustomerState, entries: Sequence[Entry]) -> None:
        if state.id not in self._loaded:
            self.load(state.id)  # to know whether the row is there (and to lock it)
        self._states[state.id] = state
        if entries:
            self._entries.setdefault(state.id, []).extend(entries)

    def entries(self, customer_id: str) -> Sequence[Entry]:
        found = self._db.all(
            "SELECT entry FROM custbond_entries"
            " WHERE tenant = :tenant AND customer_id = :customer_id ORDER BY seq",
            {"tenant": self._tenant, "customer_id": customer_id},
        )
        kept = [rows.entry_from_row(loads(text)) for (text,) in found]
        return (*kept, *self._entries.get(customer_id, ()))

    # -- the event log ---------------------------------------------------------------------

    def logged(self, key: LogKey) -> LogRecord | None:
        record = self._logged.get(key)
        if record is not None:
            return record
        if key in self._prefetched:
            return self._prefetched[key]
        found = self._db.one(
            "SELECT customer_id, record FROM custbond_log"
            " WHERE tenant = :tenant AND namespace = :namespace AND name = :name",
            {"tenant": self._tenant, "namespace": key[0], "name": key[1]},
        )
        return None if found is None else self._log_record(*found)

    def prefetch_logged(self, keys: Sequence[LogKey]) -> None:
        # One statement for a batch's ids, rather than one per event. Found or not, the
        # answer stands for this unit of work: an event committed elsewhere meanwhile
        # still fails this one at commit (the log's ids are unique) and it is retried.
        names = sorted({name for _, name in keys})
        if not names:
            return
        found: dict[LogKey, LogRecord | None] = dict.fromkeys(keys)
        for start in range(0, len(names), 500):
            chunk = names[start : start + 500]
            params: Params = {"tenant": self._tenant}
            params.update({f"k{n}": name for n, name in enumerate(chunk)})
            marks = ", ".join(f":k{n}" for n in range(len(chunk)))
            for namespace, name, customer_id, text in self._db.all(
                "SELECT namespace, name, customer_id, record FROM custbond_log"
                f" WHERE tenant = :tenant AND name IN ({marks})",
                params,
            ):
                if (namespace, name) in found:
                    found[namespace, name] = self._log_record(customer_id, text)
        self._prefetched.update(found)

    def append(
        self, key: LogKey | None, item: Input, recorded_at: datetime, outcome: Outcome
    ) -> LogRecord:
        if self._next_seq is None:
            found = self._db.one(
                "SELECT log_seq FROM custbond_tenants WHERE tenant = :tenant",
                {"tenant": self._tenant},
            )
            self._next_seq = (0 if found is None else found[0]) + 1
        # The number is final at commit, where the tenant's counter is taken under a lock.
        record = LogRecord(self._next_seq + len(self._log), key, item, recorded_at, outcome)
        self._log.append(record)
        if key is not None:
            self._logged[key] = record
        return record

    def log(self, after: int = 0) -> Iterator[LogRecord]:
        found = self._db.all(
            "SELECT customer_id, record FROM custbond_log"
            " WHERE tenant = :tenant AND seq > :after ORDER BY seq",
            {"tenant": self._tenant, "after": after},
        )
        for customer_id, text in found:
            yield self._log_record(customer_id, text)
        for record in self._log:
            if record.seq > after:
                yield record

    def _log_record(self, customer_id: str, text: str) -> LogRecord:
        row = loads(text)
        first, count, own = row[10:13]  # the outcome's span of the statement
        span: list[rows.Row] = []
        if own is None and count:
            found = self._db.all(
                "SELECT entry FROM custbond_entries WHERE tenant = :tenant"
                " AND customer_id = :customer_id AND seq >= :first AND seq < :end"
                " ORDER BY seq",
                {
                    "tenant": self._tenant,
                    "customer_id": customer_id,
                    "first": first,
                    "end": first + count,
                },
            )
            span = [loads(entry) for (entry,) in found]
        return LogRecord(*rows.log_from_row(row, _Span(first, span)))

    # -- records ---------------------------------------------------------------------------

    def purchase(self, purchase_id: str) -> PurchaseRecord | None:
        found = self._record("purchase", purchase_id)
        assert found is None or isinstance(found, PurchaseRecord)
        return found

    def hold(self, key: str) -> HoldRecord | None:
        found = self._record("hold", key)
        assert found is None or isinstance(found, HoldRecord)
        return found

    def redemption(self, key: str) -> RedemptionRecord | None:
        found = self._record("redemption", key)
        assert found is None or isinstance(found, RedemptionRecord)
        return found

    def _record(self, kind: str, key: str) -> Record | None:
        if (kind, key) in self._records:
            return self._records[kind, key]
        found = self._db.one(
            "SELECT record FROM custbond_records"
            " WHERE tenant = :tenant AND kind = :kind AND record_key = :key",
            {"tenant": self._tenant, "kind": kind, "key": key},
        )
        record: Record | None = None
        if found is not None:
            record = _RECORD_READERS[kind](loads(found[0]))
        self._records[kind, key] = record
        return record

    def keep(self, record: Record) -> None:
        kind = _RECORD_KINDS[type(record)]
        key = record.purchase.id if isinstance(record, PurchaseRecord) else record.key
        self._records[kind, key] = self._kept[kind, key] = record

    # -- what is due, counters -------------------------------------------------------------

    def due(self, now: datetime) -> Sequence[str]:
        found = self._db.all(
            "SELECT customer_id FROM custbond_customers"
            " WHERE tenant = :tenant AND next_due_at <= :now",
            {"tenant": self._tenant, "now": micros(now)},
        )
        due = {customer_id for (customer_id,) in found if customer_id not in self._states}
        for state in self._states.values():  # this unit of work's own writes win
            if state.next_due_at is not None and state.next_due_at <= now:
                due.add(state.id)
        return sorted(due)

    def customer_ids(self) -> Sequence[str]:
        found = self._db.all(
            "SELECT customer_id FROM custbond_customers WHERE tenant = :tenant",
            {"tenant": self._tenant},
        )
        # Sorted here: a database's collation may order strings otherwise.
        return sorted({customer_id for (customer_id,) in found} | set(self._states))

    def counter(self, name: str) -> int:
        value = self._counters.get(name)
        if value is None:
            value = self._counters[name] = self._read_counter(name)
        return value + self._added.get(name, 0)

    def _read_counter(self, name: str) -> int:
        lock = self.lock if self._write else ""
        found = self._db.one(
            "SELECT value FROM custbond_counters WHERE tenant = :tenant AND name = :name" + lock,
            {"tenant": self._tenant, "name": name},
        )
        return 0 if found is None else int(found[0])

    def add_to_counter(self, name: str, amount: int) -> None:
        self._added[name] = self._added.get(name, 0) + amount

    # -- the outbox ------------------------------------------------------------------------

    def enqueue(self, message: QueuedMessage) -> None:
        found = self._queued.get(message.key)
        if found is not None:
            raise ValueError(f"the outbox already holds a message under {message.key!r}")
        self._queued[message.key] = (message, True)

    def queued(self, key: str) -> QueuedMessage | None:
        found = self._queued.get(key)
        if found is not None:
            return found[0]
        lock = self.lock if self._write else ""
        row = self._db.one(
            "SELECT message FROM custbond_outbox WHERE tenant = :tenant AND message_key = :key"
            + lock,
            {"tenant": self._tenant, "key": key},
        )
        return None if row is None else rows.queued_from_row(loads(row[0]))

    def update_queued(self, message: QueuedMessage) -> None:
        found = self._queued.get(message.key)
        if found is not None:
            self._queued[message.key] = (message, found[1])
        else:
            self._queued[message.key] = (message, False)

    def due_messages(self, now: datetime, limit: int) -> Sequence[QueuedMessage]:
        found = self._db.all(
            "SELECT message FROM custbond_outbox WHERE tenant = :tenant AND due_at <= :now"
            " ORDER BY due_at, queued_at, message_key" + self.in_code_order + " LIMIT :limit",
            {"tenant": self._tenant, "now": micros(now), "limit": limit},
        )
        return self._with_own(found, lambda item: item.is_due(now), limit=limit, due=True)

    def messages_of(
        self, customer_id: str, *, since: datetime | None = None
    ) -> Sequence[QueuedMessage]:
        params: Params = {"tenant": self._tenant, "customer_id": customer_id}
        recent = ""
        if since is not None:
            recent = " AND (due_at IS NOT NULL OR sent_at >= :since)"
            params["since"] = micros(since)
        found = self._db.all(
            "SELECT message FROM custbond_outbox"
            " WHERE tenant = :tenant AND customer_id = :customer_id" + recent,
            params,
        )
        return self._with_own(
            found,
            lambda item: (
                item.customer_id == customer_id
                and (since is None or not item.status.final or _sent_since(item, since))
            ),
        )

    def outbox(self) -> Sequence[QueuedMessage]:
        found = self._db.all(
            "SELECT message FROM custbond_outbox WHERE tenant = :tenant",
            {"tenant": self._tenant},
        )
        return self._with_own(found, lambda item: True)

    def _with_own(
        self,
        found: list[tuple[Any, ...]],
        wanted: Callable[[QueuedMessage], bool],
        *,
        limit: int | None = None,
        due: bool = False,
    ) -> list[QueuedMessage]:
        """Messages read, with this unit of work's own writes in their place, those
        ``wanted``: the soonest due first (``due``) or in queue order."""
        items = {item.key: item for item in (rows.queued_from_row(loads(t)) for (t,) in found)}
        for key, (item, _) in self._queued.items():
            items[key] = item
        kept = [item for item in items.values() if wanted(item)]
        if due:
            kept.sort(key=lambda item: (item.next_attempt_at, item.queued_at, item.key))
        else:
            kept.sort(key=lambda item: (item.queued_at, item.key))
        return kept if limit is None else kept[:limit]

    def _flush_outbox(self) -> None:
        inserts: list[Params] = []
        updates: list[Params] = []
        for item, new in self._queued.values():
            params = {
                "tenant": self._tenant,
                "key": item.key,
                "customer_id": item.customer_id,
                "queued_at": micros(item.queued_at),
                "due": None if item.status.final else micros(item.next_attempt_at),
                "sent": None if item.sent_at is None else micros(item.sent_at),
                "message": dumps(rows.queued_row(item)),
            }
            (inserts if new else updates).append(params)
        if inserts:
            # A message queued meanwhile by another transaction under the same key fails
            # this one (and it is retried, and finds the message there).
            self._db.many(
                "INSERT INTO custbond_outbox"
                " (tenant, message_key, customer_id, queued_at, due_at, sent_at, message)"
                " VALUES (:tenant, :key, :customer_id, :queued_at, :due, :sent, :message)",
                inserts,
            )
        if updates:
            self._db.many(
                "UPDATE custbond_outbox SET due_at = :due, sent_at = :sent, message = :message"
                " WHERE tenant = :tenant AND message_key = :key",
                updates,
            )

    def _forget_messages(self, erasure: Erasure) -> None:
        """The erased customer's messages, through the erasure (their key may change)."""
        found = self._db.all(
            "SELECT message_key, message FROM custbond_outbox"
            " WHERE tenant = :tenant AND customer_id = :customer_id" + self.lock,
            {"tenant": self._tenant, "customer_id": erasure.customer_id},
        )
        erased = []
        for key, text in found:
            item = erasure.queued(rows.queued_from_row(loads(text)))
            erased.append(
                {
                    "tenant": self._tenant,
                    "old": key,
                    "key": item.key,
                    "customer_id": item.customer_id,
                    "due": None if item.status.final else micros(item.next_attempt_at),
                    "sent": None if item.sent_at is None else micros(item.sent_at),
                    "message": dumps(rows.queued_row(item)),
                }
            )
        if erased:
            self._db.many(
                "UPDATE custbond_outbox SET message_key = :key, customer_id = :customer_id,"
                " due_at = :due, sent_at = :sent, message = :message"
                " WHERE tenant = :tenant AND message_key = :old",
                erased,
            )

    # -- tasks -----------------------------------------------------------------------------

    def add_task(self, task: Task) -> bool:
        # A task added meanwhile by another transaction under the same key fails this one
        # at commit (the key is the primary key), and it is retried, and finds it there.
        if self.task(task.key) is not None:
            return False
        self._tasks[task.key] = (task, True)
        return True

    def task(self, key: str) -> Task | None:
        found = self._tasks.get(key)
        if found is not None:
            return found[0]
        # Not locked: a task is written only under its customer's lock, which is what
        # keeps two writers apart. Closing a task reads it first to find its customer,
        # then locks the customer and reads it again; locking the task there would take
        # the two rows in the reverse of every other transaction's order.
        row = self._db.one(
            "SELECT task FROM custbond_tasks WHERE tenant = :tenant AND task_key = :key",
            {"tenant": self._tenant, "key": key},
        )
        return None if row is None else rows.task_from_row(loads(row[0]))

    def update_task(self, task: Task) -> None:
        found = self._tasks.get(task.key)
        if found is not None:
            self._tasks[task.key] = (task, found[1])
            return
        if self.task(task.key) is None:
            raise ValueError(f"the store holds no task under {task.key!r}")
        self._tasks[task.key] = (task, False)

    def tasks(
        self,
        *,
        owner: str | None = None,
        customer_id: str | None = None,
        due_before: datetime | None = None,
        open_only: bool = True,
    ) -> Sequence[Task]:
        params: Params = {"tenant": self._tenant}
        where = ["tenant = :tenant"]
        if owner is not None:
            where.append("owner = :owner")
            params["owner"] = owner
        if customer_id is not None:
            where.append("customer_id = :customer_id")
            params["customer_id"] = customer_id
        if due_before is not None:
            where.append("due_at < :before")
            params["before"] = micros(due_before)
        if open_only:
            where.append("closed_at IS NULL")
        found = [
            rows.task_from_row(loads(text))
            for (text,) in self._db.all(
                "SELECT task FROM custbond_tasks WHERE "
                + " AND ".join(where)
                # In the order Python sorts (due_at, key): keys by code point.
                + " ORDER BY due_at, task_key"
                + self.in_code_order,
                params,
            )
        ]
        if not self._tasks:
            return found

        def wanted(task: Task) -> bool:
            return (
                (owner is None or task.owner == owner)
                and (customer_id is None or task.customer_id == customer_id)
                and (due_before is None or task.due_at < due_before)
                and not (open_only and task.closed_at is not None)
            )

        # This unit of work's own writes in their place: a task it closed drops out.
        tasks = {task.key: task for task in found}
        tasks.update((key, task) for key, (task, _) in self._tasks.items())
        return sorted(filter(wanted, tasks.values()), key=lambda task: (task.due_at, task.key))

    def _flush_tasks(self) -> None:
        inserts: list[Params] = []
        updates: list[Params] = []
        for task, new in self._tasks.values():
            (inserts if new else updates).append(self._task_params(task))
        if inserts:
            self._db.many(
                "INSERT INTO custbond_tasks"
                " (tenant, task_key, customer_id, owner, due_at, closed_at, task)"
                " VALUES (:tenant, :key, :customer_id, :owner, :due, :closed, :task)",
                inserts,
            )
        if updates:
            self._db.many(
                "UPDATE custbond_tasks SET customer_id = :customer_id, owner = :owner,"
                " due_at = :due, closed_at = :closed, task = :task"
                " WHERE tenant = :tenant AND task_key = :key",
                updates,
            )

    def _task_params(self, task: Task) -> Params:
        return {
            "tenant": self._tenant,
            "key": task.key,
            "customer_id": task.customer_id,
            "owner": task.owner,
            "due": micros(task.due_at),
            "closed": None if task.closed_at is None else micros(task.closed_at),
            "task": dumps(rows.task_row(task)),
        }

    def _forget_tasks(self, erasure: Erasure) -> None:
        """The erased customer's tasks, through the erasure (their key may change)."""
        found = self._db.all(
            "SELECT task_key, task FROM custbond_tasks"
            " WHERE tenant = :tenant AND customer_id = :customer_id" + self.lock,
            {"tenant": self._tenant, "customer_id": erasure.customer_id},
        )
        erased = [
            {**self._task_params(erasure.task(rows.task_from_row(loads(text)))), "old": key}
            for key, text in found
        ]
        if erased:
            self._db.many(
                "UPDATE custbond_tasks SET task_key = :key, customer_id = :customer_id,"
                " owner = :owner, due_at = :due, closed_at = :closed, task = :task"
                " WHERE tenant = :tenant AND task_key = :old",
                erased,
            )

    # -- erasure ---------------------------------------------------------------------------

    def forget(self, erasure: Erasure) -> None:
        """Rewrite, now, every row that holds or names ``erasure.customer_id``."""
        db, tenant = self._db, self._tenant
        old, new = erasure.customer_id, erasure.pseudonym
        state = self.load(old)
        if state is None:
            return
        # The id as it appears in JSON text, for LIKE: a value of its own, and quoted
        # inside a text (custbond's words naming the customer: "referred by 'c-1'").
        pattern = _containing(json.dumps(old))  # as the codec writes it: ASCII, \u escapes
        named = _containing(json.dumps(repr(old))[1:-1])
        # The log first: its outcomes are read with the statement still under the old id.
        # All of it before any is erased: the profiles the customer had are in it.
        found = [
            self._log_record(customer_id, text)
            for customer_id, text in db.all(
                "SELECT customer_id, record FROM custbond_log WHERE tenant = :tenant"
                " AND (customer_id = :old OR record LIKE :pattern ESCAPE '\\'"
                " OR record LIKE :named ESCAPE '\\')",
                {"tenant": tenant, "old": old, "pattern": pattern, "named": named},
            )
        ]
        erasure = erasure.knowing(found)
        log = []
        for before in found:
            logged = erasure.log_record(before)
            row = rows.log_row(
                logged.seq, logged.key, logged.input, logged.recorded_at, logged.outcome
            )
            made = logged.key  # made again when it was made of the id (an incident's)
            log.append(
                {
                    "tenant": tenant,
                    "seq": logged.seq,
                    "namespace": None if made is None else made[0],
                    "name": None if made is None else made[1],
                    "customer_id": logged.outcome.customer_id,
                    "record": dumps(row),
                }
            )
        if log:
            db.many(
                "UPDATE custbond_log SET namespace = :namespace, name = :name,"
                " customer_id = :customer_id, record = :record"
                " WHERE tenant = :tenant AND seq = :seq",
                log,
            )
        # The customer's row, renamed: the statement and the records follow it (their
        # foreign keys cascade on update).
        erased = erasure.state(state)
        self._cache.drop(old)
        # When they are next due, again: a birthday's greeting goes with the birthday
        # (the column kept its moment, and listed them as due then).
        due = erased.next_due_at
        db.run(
            "UPDATE custbond_customers SET customer_id = :new, profile = :profile,"
            " extras = :extras, version = :version, next_due_at = :due"
            " WHERE tenant = :tenant AND customer_id = :old",
            {
                "tenant": tenant,
                "old": old,
                "new": new,
                "profile": dumps(rows.value_row(erased.customer)),
                "extras": dumps(rows.extras_row(erased)),
                "version": secrets.randbits(62),
                "due": None if due is None else micros(due),
            },
        )
        key = {"tenant": tenant, "customer_id": new}
        entries = []
        for seq, text in db.all(
            "SELECT seq, entry FROM custbond_entries"
            " WHERE tenant = :tenant AND customer_id = :customer_id",
            key,
        ):
            entry = rows.entry_from_row(loads(text))
            if erasure.entry(entry) != entry:
                entries.append(
                    {**key, "seq": seq, "entry": dumps(rows.entry_row(erasure.entry(entry)))}
                )
        if entries:
            db.many(
                "UPDATE custbond_entries SET entry = :entry"
                " WHERE tenant = :tenant AND customer_id = :customer_id AND seq = :seq",
                entries,
            )
        records = []
        for kind, record_key, text in db.all(
            "SELECT kind, record_key, record FROM custbond_records"
            " WHERE tenant = :tenant AND customer_id = :customer_id",
            key,
        ):
            record = _RECORD_READERS[kind](loads(text))
            row = rows.record_row(erasure.record(record))
            records.append({**key, "kind": kind, "key": record_key, "record": dumps(row)})
        if records:
            db.many(
                "UPDATE custbond_records SET record = :record"
                " WHERE tenant = :tenant AND kind = :kind AND record_key = :key",
                records,
            )
        others = []  # the customers they referred
        for customer_id, profile, ledger, extras in db.all(
            "SELECT customer_id, profile, ledger, extras FROM custbond_customers"
            " WHERE tenant = :tenant AND extras LIKE :pattern ESCAPE '\\'"
            " ORDER BY customer_id" + self.lock,  # locked: written back below
            {"tenant": tenant, "pattern": pattern},
        ):
            other = CustomerState(
                rows.value_from_row(loads(profile)),
                rows.ledger_from_rows(*loads(ledger)),
                *rows.extras_from_row(loads(extras)),
            )
            extras_row = rows.extras_row(erasure.state(other))
            others.append(
                {
                    "tenant": tenant,
                    "customer_id": customer_id,
                    "extras": dumps(extras_row),
                    "version": secrets.randbits(62),
                }
            )
        if others:
            db.many(
                "UPDATE custbond_customers SET extras = :extras, version = :version"
                " WHERE tenant = :tenant AND customer_id = :customer_id",
                others,
            )
        self._forget_messages(erasure)
        self._forget_tasks(erasure)
        # What this unit of work read before is stale now.
        self._loaded.clear()
        self._profiles.clear()
        self._records = {**self._kept}

    # -- commit ----------------------------------------------------------------------------

    def flush(self) -> None:
        """Write everything this unit of work kept; the store commits after it."""
        tenant, db = self._tenant, self._db
        inserts: list[Params] = []
        updates: list[Params] = []
        for customer_id, state in self._states.items():
            kept = self._profiles.get(customer_id)
            if kept is not None and kept[0] is state.customer:
                profile = kept[1]
            else:
                profile = encode(rows.value_row(state.customer))
            due = state.next_due_at
            # Random, not a count: a row erased (renamed) and made again under the same id,
            # or a write a database lost (a failover), must never bring back a version
            # another store holds a state of.
            version = secrets.randbits(62)
            params = {
                "tenant": tenant,
                "customer_id": customer_id,
                "version": version,
                "profile": profile,
                "ledger": self._cache.ledger_text(state.ledger),
                "extras": dumps(rows.extras_row(state)),
                "due": None if due is None else micros(due),
            }
            (updates if self._loaded.get(customer_id) is not None else inserts).append(params)
            self._written.append((customer_id, version, state, profile))
        if inserts:
            # A plain INSERT: if another transaction created the customer meanwhile, this
            # one fails (and is retried) rather than overwrite what that one wrote.
            db.many(
                "INSERT INTO custbond_customers"
                " (tenant, customer_id, version, profile, ledger, extras, next_due_at)"
                " VALUES (:tenant, :customer_id, :version, :profile, :ledger, :extras, :due)",
                inserts,
            )
        if updates:
            db.many(
                "UPDATE custbond_customers SET version = :version, profile = :profile,"
                " ledger = :ledger, extras = :extras, next_due_at = :due"
                " WHERE tenant = :tenant AND customer_id = :customer_id",
                updates,
            )
        entries = [
            {
                "tenant": tenant,
                "customer_id": customer_id,
                "seq": entry.seq,
                "entry": dumps(rows.entry_row(entry)),
            }
            for customer_id, kept_entries in self._entries.items()
            for entry in kept_entries
        ]
        if entries:
            db.many(
                "INSERT INTO custbond_entries (tenant, customer_id, seq, entry)"
                " VALUES (:tenant, :customer_id, :seq, :entry)",
                entries,
            )
        if self._kept:
            db.many(
                "INSERT INTO custbond_records (tenant, kind, record_key, customer_id, record)"
                " VALUES (:tenant, :kind, :key, :customer_id, :record)"
                " ON CONFLICT (tenant, kind, record_key)"
                " DO UPDATE SET customer_id = excluded.customer_id, record = excluded.record",
                [
                    {
                        "tenant": tenant,
                        "kind": kind,
                        "key": key,
                        "customer_id": record.customer_id,
                        "record": dumps(rows.record_row(record)),
                    }
                    for (kind, key), record in self._kept.items()
                ],
            )
        added = [
            {"tenant": tenant, "name": name, "amount": amount}
            for name, amount in sorted(self._added.items())  # rows locked in name order
            if amount
        ]
        if added:
            db.many(
                "INSERT INTO custbond_counters (tenant, name, value)"
                " VALUES (:tenant, :name, :amount)"
                " ON CONFLICT (tenant, name)"
                " DO UPDATE SET value = custbond_counters.value + excluded.value",
                added,
            )
        if self._queued:
            self._flush_outbox()
        if self._tasks:
            self._flush_tasks()
        if self._log:
            self._flush_log()

    def committed(self) -> None:
        """The store committed: the states this unit of work wrote are what the database
        holds now, at their new versions."""
        for customer_id, version, state, profile in self._written:
            self._cache.put(customer_id, version, state, profile)

    def _flush_log(self) -> None:
        tenant, db = self._tenant, self._db
        # Numbered under the tenant row's lock, the last thing a transaction locks: log
        # order is commit order, without gaps.
        found = db.one(
            "UPDATE custbond_tenants SET log_seq = log_seq + :count WHERE tenant = :tenant"
            " RETURNING log_seq",
            {"tenant": tenant, "count": len(self._log)},
        )
        assert found is not None, "the store made the tenant's row when it opened"
        first = int(found[0]) - len(self._log) + 1
        encoded: dict[int, rows.Row] = {}
        params = []
        for seq, record in enumerate(self._log, start=first):
            item = encoded.get(id(record.input))
            if item is None:
                item = encoded[id(record.input)] = rows.value_row(record.input)
            key = record.key
            params.append(
                {
                    "tenant": tenant,
                    "seq": seq,
                    "namespace": None if key is None else key[0],
                    "name": None if key is None else key[1],
                    "customer_id": record.outcome.customer_id,
                    "record": dumps(
                        rows.log_row(seq, key, item, record.recorded_at, record.outcome)
                    ),
                }
            )
        db.many(
            "INSERT INTO custbond_log (tenant, seq, namespace, name, customer_id, record)"
            " VALUES (:tenant, :seq, :namespace, :name, :customer_id, :record)",
            params,
        )


def _sent_since(item: QueuedMessage, since: datetime) -> bool:
    return item.sent_at is not None and item.sent_at >= since
