"""The storage ports: what the service needs from a store, as protocols.

A host can keep custbond's data in its own database by implementing :class:`Store`;
custbond ships :class:`~custbond.storage.MemoryStore`. Every change the service makes for
one event happens inside one unit of work: all of it is kept, or none.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

import attrs

from custbond.commands import Input, LogKey
from custbond.ledger import Entry, Ledger
from custbond.messaging.message import QueuedMessage
from custbond.outcome import Outcome
from custbond.program import CustomerState
from custbond.records import HoldRecord, PurchaseRecord, RedemptionRecord
from custbond.tasks import Task

if TYPE_CHECKING:  # erasure.py reads LogRecord from here
    from custbond.erasure import Erasure

__all__ = ["LogRecord", "Record", "Store", "UnitOfWork"]

Record = PurchaseRecord | HoldRecord | RedemptionRecord


@attrs.frozen
class LogRecord:
    """One accepted event or command, in the order it was accepted.

    Replaying the log (each ``input`` at its ``recorded_at``) into a fresh service gives
    the same state; ``outcome`` is what the service returned.
    """

    seq: int
    key: LogKey | None
    input: Input
    recorded_at: datetime
    outcome: Outcome


class UnitOfWork(Protocol):
    """One transaction: reads see its own writes; nothing is visible until it commits."""

    def load(self, customer_id: str) -> CustomerState | None:
        """The customer's state, or None for a customer never seen."""

    def load_ledger(self, customer_id: str) -> Ledger | None:
        """The customer's points ledger alone (what :meth:`load` would give as
        ``state.ledger``), or None for a customer never seen: for reads of the points,
        which need nothing else of the state."""

    def save(self, state: CustomerState, entries: Sequence[Entry]) -> None:
        """Keep ``state`` and append ``entries`` to the customer's statement."""

    def entries(self, customer_id: str) -> Sequence[Entry]:
        """The customer's entries, oldest first."""

    def logged(self, key: LogKey) -> LogRecord | None:
        """The log record accepted under ``key``, if any."""

    def prefetch_customers(self, customer_ids: Sequence[str]) -> None:
        """A hint that :meth:`load` is about to be asked for ``customer_ids`` (a batch's
        customers): a database store may read (and lock) them all at once, in id order.
        A store may ignore it; what :meth:`load` answers must not depend on it."""

    def prefetch_logged(self, keys: Sequence[LogKey]) -> None:
        """A hint that :meth:`logged` is about to be asked about ``keys`` (a batch of
        events): a database store may look them all up at once. A store may ignore it;
        what :meth:`logged` answers must not depend on it."""

    def append(
        self, key: LogKey | None, item: Input, recorded_at: datetime, outcome: Outcome
    ) -> LogRecord:
        """Add ``item`` to the event log."""

    def purchase(self, purchase_id: str) -> PurchaseRecord | None: ...

    def hold(self, key: str) -> HoldRecord | None: ...

    def redemption(self, key: str) -> RedemptionRecord | None: ...

    def keep(self, record: Record) -> None:
        """Insert or replace a purchase, hold or redemption record. Its customer must be
        saved in this or an earlier unit of work (a database store's rows refer to the
        customer's)."""

    def due(self, now: datetime) -> Sequence[str]:
        """Ids of customers with something due (``state.next_due_at <= now``)."""

    def customer_ids(self) -> Sequence[str]:
        """The ids of every customer, sorted as Python sorts strings (for a broadcast)."""

    def counter(self, name: str) -> int:
        """A counter shared by all customers (a reward's stock taken, a budget spent);
        0 when never counted."""

    def add_to_counter(self, name: str, amount: int) -> None:
        """Add ``amount`` to the shared counter ``name``, in this transaction. A database
        store takes it under a lock, so two transactions cannot both take the last one."""

    def log(self, after: int = 0) -> Iterator[LogRecord]:
        """Log records with ``seq > after``, in order."""

    # -- the outbox: messages, written with the change that caused them -----------------

    def enqueue(self, message: QueuedMessage) -> None:
        """Add ``message`` to the outbox. Its key is not there yet (the service looks
        first; a database store that finds it there after all raises
        :class:`~custbond.TransactionConflict`, and the service tries again)."""

    def queued(self, key: str) -> QueuedMessage | None:
        """The outbox's message under ``key``, if any. In a writing unit of work, a
        database store locks it (after the customer's row, when both are read)."""

    def update_queued(self, message: QueuedMessage) -> None:
        """Replace the outbox's message under ``message.key`` by ``message``."""

    def due_messages(self, now: datetime, limit: int) -> Sequence[QueuedMessage]:
        """At most ``limit`` messages that are not final and due at ``now``
        (``next_attempt_at <= now``), soonest first, then by key."""

    def messages_of(
        self, customer_id: str, *, since: datetime | None = None
    ) -> Sequence[QueuedMessage]:
        """Every message of the customer in the outbox, in the order they were queued
        (by ``queued_at``, then key); with ``since``, only those not final yet and those
        sent at or after ``since`` (what a frequency cap counts: a database store finds
        them without reading the customer's whole history)."""

    def outbox(self) -> Sequence[QueuedMessage]:
        """Every message in the outbox, in the order they were queued (by ``queued_at``,
        then key)."""

    # -- tasks: work for a person, in a table of their own ------------------------------

    def add_task(self, task: Task) -> bool:
        """Keep ``task``, and return True; return False and change nothing when a task
        under ``task.key`` is there already (open or closed, whatever it holds)."""

    def task(self, key: str) -> Task | None:
        """The task under ``key``, if any. In a writing unit of work, a database store
        locks it (after the customer's row, when both are read)."""

    def update_task(self, task: Task) -> None:
        """Replace the task under ``task.key`` by ``task`` (to close it, or move it on).
        The task must be there (added in this or an earlier unit of work)."""

    def tasks(
        self,
        *,
        owner: str | None = None,
        customer_id: str | None = None,
        due_before: datetime | None = None,
        open_only: bool = True,
    ) -> Sequence[Task]:
        """The tasks of ``owner``, about ``customer_id``, due strictly before
        ``due_before``, still open (``open_only``): each filter that is None (or False)
        lets every task through. Soonest due first, then by key as Python sorts
        strings."""

    def forget(self, erasure: Erasure) -> None:
        """Erase ``erasure.customer_id``'s personal data from everything the store keeps:
        first pass the log records it will rewrite (theirs, and every other that names
        them: as a value of its own, or quoted, ``'c-1'``, in a text) to
        :meth:`~custbond.erasure.Erasure.knowing` and erase with the erasure it returns
        (their earlier profiles are in those records); pass their state (moved to
        ``erasure.pseudonym``), statement, records and log
        records (a log key made of their id is made again: see
        :meth:`~custbond.erasure.Erasure.log_record`), and every other customer's state
        and log record that names them, through ``erasure``, their messages in the outbox
        (:meth:`~custbond.erasure.Erasure.queued`) and their tasks
        (:meth:`~custbond.erasure.Erasure.task`, which may change a task's key), and keep
        what it returns in place of the original; the customer is next due when the
        erased state says (a birthday's greeting goes with the birthday). Nothing
        of the original may remain readable in the store (rows rewritten, not appended
        beside). The service calls it alone in its unit of work."""


class Store(Protocol):
    """Where custbond keeps its data."""

    def unit_of_work(self, *, write: bool = True) -> AbstractContextManager[UnitOfWork]:
        """A transaction: committed when the block ends normally, undone if it raises.

        A writing unit of work (the default) may change anything, and no other writing
        unit of work can change what it has read before it ends: a database store locks
        a customer's row when it is loaded and a counter when it is read (or, like
        SQLite, takes the database's write lock at the start). ``write=False`` promises
        reads only, which a database store may serve from a snapshot without locks
        (stores need not refuse writes there: do not make them). Units of work do not
        nest: one at a time per store and thread.
        A store may raise :class:`~custbond.TransactionConflict` when the unit of work
        lost a race (a duplicate event committed first elsewhere); nothing is kept then,
        and doing the same work again is safe.
        """
