"""The stores the store contract runs on (tests/test_store_contract.py).

One ``pytest.param(make_store, id=name)`` per store: ``make_store()`` returns a new, empty
store each time it is called. A store that needs a server gets ``marks=`` that skip it when
there is none.
"""

from __future__ import annotations

import pytest

import postgres
from custbond import MemoryStore, SQLiteStore


def _sqlite() -> SQLiteStore:
    return SQLiteStore(":memory:")


STORES = [
    pytest.param(MemoryStore, id="memory"),
    pytest.param(_sqlite, id="sqlite"),
    pytest.param(postgres.make_store, id="postgres", marks=pytest.mark.postgres),
]
