"""Storage: the ports a store implements, and the stores custbond ships.

>>> from custbond.storage import MemoryStore
>>> MemoryStore()
<MemoryStore: 0 customers, 0 log records>

``SQLAlchemyStore`` (PostgreSQL) needs the ``postgres`` extra; it is imported when first
used, so ``import custbond`` works without SQLAlchemy.
"""

from typing import TYPE_CHECKING, Any

from custbond.records import HoldRecord, HoldStatus, PurchaseRecord, RedemptionRecord
from custbond.storage.memory import MemoryStore
from custbond.storage.ports import LogRecord, Record, Store, UnitOfWork
from custbond.storage.sqlite import SQLiteStore

if TYPE_CHECKING:
    from custbond.storage.sqlalchemy import SQLAlchemyStore as SQLAlchemyStore

__all__ = [
    "HoldRecord",
    "HoldStatus",
    "LogRecord",
    "MemoryStore",
    "PurchaseRecord",
    "Record",
    "RedemptionRecord",
    "SQLiteStore",
    "Store",
    "UnitOfWork",
]


def __getattr__(name: str) -> Any:
    # SQLAlchemyStore, imported on first use: its module needs the `postgres` extra, and
    # says so (ImportError) when it is missing. Not in __all__, so `import *` works
    # without the extra.
    if name == "SQLAlchemyStore":
        from custbond.storage.sqlalchemy import SQLAlchemyStore  # noqa: PLC0415

        return SQLAlchemyStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
