"""The database schema of the SQL stores, as plain SQL, and its forward migrations.

One schema serves SQLite and PostgreSQL; the few words that differ are filled in per
dialect (``{bigint}``). Every table but the version table carries the tenant (the
program a store was opened for) as the first column of its primary key, so the same
customer and event ids in two tenants never meet.

Domain values are not mapped to columns one by one: each is kept as a row of plain
values (:mod:`custbond.storage._rows`) in JSON text (:mod:`custbond.storage._codec`), and
read back through the value's own constructor. The columns beside it are what the
database must see to do its job: keys, the idempotency key's uniqueness, the customer a
row belongs to (for locking and erasure), and when a customer is next due.

``MIGRATIONS[n]`` takes a database from version ``n`` to ``n + 1``; a new release appends
to it and never edits what is there. A database at a later version than
``len(MIGRATIONS)`` was written by a newer release and is refused.

>>> len(MIGRATIONS) == SCHEMA_VERSION
True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from custbond.errors import SchemaVersionError, StorageError

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "TABLES", "statements", "version_of"]

# The version table: one row, the version the database is at.
VERSION_TABLE = "CREATE TABLE IF NOT EXISTS custbond_schema (version INTEGER NOT NULL)"

_VERSION_1 = (
    # One row per tenant: the last sequence number of its event log.
    """CREATE TABLE custbond_tenants (
        tenant TEXT NOT NULL PRIMARY KEY,
        log_seq {bigint} NOT NULL DEFAULT 0
    )""",
    # Live state: one row per customer. version: a random number drawn at every write (a
    # store that kept a state it read may use it again while the version is the same).
    # profile: the Customer; ledger: the ledger's three rows; extras: the rest of the
    # state (NULL when there is none yet). next_due_at: when something falls due, in
    # microseconds since 1970-01-01 UTC (NULL: nothing ahead).
    """CREATE TABLE custbond_customers (
        tenant TEXT NOT NULL,
        customer_id TEXT NOT NULL,
        version {bigint} NOT NULL,
        profile TEXT NOT NULL,
        ledger TEXT NOT NULL,
        extras TEXT,
        next_due_at {bigint},
        PRIMARY KEY (tenant, customer_id)
    )""",
    "CREATE INDEX custbond_customers_due ON custbond_customers (tenant, next_due_at)",
    # Each customer's statement: one row per ledger entry, numbered from 1.
    """CREATE TABLE custbond_entries (
        tenant TEXT NOT NULL,
        customer_id TEXT NOT NULL,
        seq {bigint} NOT NULL,
        entry TEXT NOT NULL,
        PRIMARY KEY (tenant, customer_id, seq),
        FOREIGN KEY (tenant, customer_id) REFERENCES custbond_customers (tenant, customer_id)
            ON UPDATE CASCADE
    )""",
    # Purchase, hold and redemption records (kind: 'purchase', 'hold', 'redemption').
    """CREATE TABLE custbond_records (
        tenant TEXT NOT NULL,
        kind TEXT NOT NULL,
        record_key TEXT NOT NULL,
        customer_id TEXT NOT NULL,
        record TEXT NOT NULL,
        PRIMARY KEY (tenant, kind, record_key),
        FOREIGN KEY (tenant, customer_id) REFERENCES custbond_customers (tenant, customer_id)
            ON UPDATE CASCADE
    )""",
    # Counters shared by all customers of a tenant: stock taken, budgets spent.
    """CREATE TABLE custbond_counters (
        tenant TEXT NOT NULL,
        name TEXT NOT NULL,
        value {bigint} NOT NULL,
        PRIMARY KEY (tenant, name)
    )""",
    # The event log. (namespace, name) is the idempotency key, NULL for a command that
    # has none; unique per tenant, so a duplicate that two servers accept at once is
    # kept once and the loser's transaction fails. customer_id: whose outcome it holds.
    """CREATE TABLE custbond_log (
        tenant TEXT NOT NULL,
        seq {bigint} NOT NULL,
        namespace TEXT,
        name TEXT,
        customer_id TEXT NOT NULL,
        record TEXT NOT NULL,
        PRIMARY KEY (tenant, seq),
        UNIQUE (tenant, namespace, name)
    )""",
)

# The outbox: messages queued in the same transaction as the change that caused them.
# ``due_at`` (microseconds since 1970) is when a message not yet final is next due, NULL
# once it is final; ``queued_at`` orders the outbox.
_VERSION_2 = (
    """CREATE TABLE custbond_outbox (
        tenant TEXT NOT NULL,
        message_key TEXT NOT NULL,
        customer_id TEXT NOT NULL,
        queued_at {bigint} NOT NULL,
        due_at {bigint},
        message TEXT NOT NULL,
        PRIMARY KEY (tenant, message_key)
    )""",
    "CREATE INDEX custbond_outbox_due ON custbond_outbox (tenant, due_at)",
    "CREATE INDEX custbond_outbox_customer ON custbond_outbox (tenant, customer_id)",
)

# When each message was sent: what frequency caps count, found without reading a
# customer's whole history.
_VERSION_3 = ("ALTER TABLE custbond_outbox ADD COLUMN sent_at {bigint}",)

# Tasks: work custbond asks a person to do (custbond.tasks). ``due_at`` and ``closed_at``
# (microseconds since 1970; NULL while open) and the owner and customer are columns, for
# an owner's list of open tasks soonest first and a customer's tasks; the task itself is
# a row in JSON text, as everything else.
_VERSION_4 = (
    """CREATE TABLE custbond_tasks (
        tenant TEXT NOT NULL,
        task_key TEXT NOT NULL,
        customer_id TEXT NOT NULL,
        owner TEXT NOT NULL,
        due_at {bigint} NOT NULL,
        closed_at {bigint},
        task TEXT NOT NULL,
        PRIMARY KEY (tenant, task_key)
    )""",
    "CREATE INDEX custbond_tasks_owner ON custbond_tasks (tenant, owner, due_at)",
    "CREATE INDEX custbond_tasks_due ON custbond_tasks (tenant, due_at)",
    "CREATE INDEX custbond_tasks_customer ON custbond_tasks (tenant, customer_id)",
)

MIGRATIONS: tuple[tuple[str, ...], ...] = (_VERSION_1, _VERSION_2, _VERSION_3, _VERSION_4)
SCHEMA_VERSION = len(MIGRATIONS)

# No index on the customer columns of the records and the log: only erasure looks rows up
# by customer (and it searches the log's text anyway), and every index makes each of the
# many inserts slower for the sake of that rare job.

# Every table custbond writes, for erasure checks and tests.
TABLES = (
    "custbond_schema",
    "custbond_tenants",
    "custbond_customers",
    "custbond_entries",
    "custbond_records",
    "custbond_counters",
    "custbond_log",
    "custbond_outbox",
    "custbond_tasks",
)

_WORDS = {
    "sqlite": {"bigint": "INTEGER"},
    "postgresql": {"bigint": "BIGINT"},
}


def statements(migration: tuple[str, ...], dialect: str) -> list[str]:
    """The statements of ``migration`` in ``dialect`` ("sqlite" or "postgresql")."""
    words = _WORDS[dialect]
    return [statement.format(**words) for statement in migration]


def version_of(rows: Sequence[tuple[Any, ...]], *, has_tables: bool) -> int:
    """The version a database is at, from the rows of its version table: 0 for a new
    database (no row, and none of custbond's tables). Anything else that is not one row
    of a version custbond writes (text, a number below 1, several rows, no row beside
    custbond's tables) is a damaged database, refused before any migration runs: running
    migrations from a wrong version would re-create tables, or run the last one again.

    >>> version_of([], has_tables=False), version_of([(1,)], has_tables=True)
    (0, 1)
    """
    if not rows:
        if has_tables:
            expected = "one row in custbond_schema, as custbond's tables are there"
            raise StorageError("schema version", None, expected)
        return 0
    expected = f"one whole number from 1 to {SCHEMA_VERSION} in custbond_schema"
    if len(rows) > 1:
        raise StorageError("schema version", [row[0] for row in rows], expected)
    (version,) = rows[0]
    if type(version) is not int or version < 1:
        raise StorageError("schema version", version, expected)
    if version > SCHEMA_VERSION:
        raise SchemaVersionError(version, SCHEMA_VERSION)
    return version
