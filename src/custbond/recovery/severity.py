"""How bad a complaint or an incident is: four ordered levels."""

from __future__ import annotations

import enum
from typing import Any

from custbond.messaging.message import enum_converter

__all__ = ["Severity", "to_severity"]


class Severity(enum.StrEnum):
    """``low`` < ``medium`` < ``high`` < ``critical``: levels compare by rank.

    >>> Severity.HIGH > Severity.MEDIUM, Severity("critical").rank
    (True, 3)
    """

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """0 for ``low`` up to 3 for ``critical``."""
        return _RANKS[self]

    # StrEnum compares as text ("high" < "low"): compare by rank instead.
    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank < other.rank

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank <= other.rank

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank > other.rank

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank >= other.rank

    __hash__ = enum.StrEnum.__hash__


_RANKS = {level: rank for rank, level in enumerate(Severity)}
_SEVERITY = enum_converter(Severity, "severity")


def to_severity(value: Any) -> Severity:
    """A Severity from one of its members or their names ("high"); InvalidInput else."""
    return _SEVERITY(value)
