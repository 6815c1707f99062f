"""RowLog: an append-only list of rows that CPython's garbage collector can skip.

A full collection visits every reference held by every container it tracks. A plain list
of a million rows costs a million visits (each a likely cache miss) on every full
collection, even when the rows themselves are untracked. A RowLog seals its rows into
tuples of ``CHUNK`` rows; a tuple whose items are all untracked is untracked itself, so
only the list of chunks and the open chunk are ever visited.

>>> log = RowLog()
>>> [log.append(("row", n)) for n in range(3)]
[0, 1, 2]
>>> log[1], len(log)
(('row', 1), 3)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

Row = tuple[Any, ...]

CHUNK = 1024


class RowLog:
    """Rows by position: append, read by index, iterate. Rows are never changed."""

    __slots__ = ("_count", "_open", "_sealed")

    def __init__(self) -> None:
        self._sealed: list[tuple[Row, ...]] = []
        self._open: list[Row] = []
        self._count = 0

    def append(self, row: Row) -> int:
        """Add ``row``; return its index."""
        index = self._count
        self._count = index + 1
        self._open.append(row)
        if self._count % CHUNK == 0:
            self._sealed.append(tuple(self._open))
            self._open = []
        return index

    def __getitem__(self, index: int) -> Row:
        chunk, at = divmod(index, CHUNK)
        if chunk < len(self._sealed):
            return self._sealed[chunk][at]
        return self._open[at]

    def replace(self, index: int, row: Row) -> None:
        """Put ``row`` in the place of the row at ``index``: only for erasing personal
        data (rows are otherwise never changed)."""
        chunk, at = divmod(index, CHUNK)
        if chunk < len(self._sealed):
            rows = list(self._sealed[chunk])
            rows[at] = row
            self._sealed[chunk] = tuple(rows)
        else:
            self._open[at] = row

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[Row]:
        for chunk in self._sealed:
            yield from chunk
        yield from self._open
