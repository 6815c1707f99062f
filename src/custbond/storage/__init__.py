"""Storage: the ports a store implements, and the stores custbond ships.

>>> from custbond.storage import MemoryStore
>>> MemoryStore()
<MemoryStore: 0 customers, 0 log records>
"""

from custbond.records import HoldRecord, HoldStatus, PurchaseRecord, RedemptionRecord
from custbond.storage.memory import MemoryStore
from custbond.storage.ports import LogRecord, Record, Store, UnitOfWork
from custbond.storage.sqlite import SQLiteStore

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
