"""An immutable, hashable mapping, for the key/value fields of frozen values."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class FrozenMap(Mapping[K, V]):
    """A read-only dict that can be hashed and compared with any mapping.

    >>> prefs = FrozenMap({"milk": "oat"})
    >>> prefs["milk"], prefs == {"milk": "oat"}
    ('oat', True)
    """

    __slots__ = ("_data", "_hash")

    def __init__(self, data: Mapping[K, V] | None = None) -> None:
        self._data: dict[K, V] = dict(data or {})
        self._hash: int | None = None

    def __getitem__(self, key: K) -> V:
        return self._data[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(frozenset(self._data.items()))
        return self._hash

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FrozenMap):
            return self._data == other._data
        if isinstance(other, Mapping):
            return self._data == dict(other)
        return NotImplemented

    def __repr__(self) -> str:
        return f"FrozenMap({self._data!r})"

    def to_dict(self) -> dict[K, V]:
        """A plain, mutable copy."""
        return self._data.copy()

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenMap, (self._data,))


def empty_map() -> FrozenMap[Any, Any]:
    """The shared empty FrozenMap: a default for fields, without one allocation each."""
    return _EMPTY


_EMPTY: FrozenMap[Any, Any] = FrozenMap()
